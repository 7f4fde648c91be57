#!/usr/bin/env bash
# test_cli_signals.sh - signals sent to `pyscope run` reach the script as they would
# reach python3, and nothing is left behind: SIGTERM, SIGHUP and SIGINT to pyscope,
# `timeout 2 pyscope run` (and timeout's repeat of its signal after the script
# ended), SIGTERM to pyscope-run, kill -9 of pyscope-run and of
# pyscope (also with a script deaf to SIGTERM), SIGTERM while --instructions counts
# under valgrind. After each: no pyscope-run, no script, no child of the script still
# running, no file in $TMPDIR; when a report can be made it is partial and says so
# (status "interrupted": which signal, after how many runs), and pyscope dies of
# the signal it was sent (exit 128+N), as python3 would.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"

# The script records its pid and its child's, then sleeps; each repeat sleeps
# again, so a signal always finds it running.
cat > hang.py <<'PY'
import os, subprocess, sys, time
tag = sys.argv[1]
child = subprocess.Popen(["sleep", "300"])
with open(tag + ".tmp", "w") as f:
    f.write("%d %d\n" % (os.getpid(), child.pid))
os.replace(tag + ".tmp", tag)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 300)
child.kill()
PY
# A script that handles SIGTERM and ends cleanly (status 0).
cat > graceful.py <<'PY'
import os, signal, sys, time
def bye(sig, frame):
    print("graceful exit on", signal.Signals(sig).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % os.getpid())
time.sleep(300)
PY

# alive PID: the process exists and is not a zombie
alive() {
    [ -n "$1" ] && [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
# wait_for FILE: until the script wrote it (at most 30 s)
wait_for() {
    for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.1; done
    return 1
}
# nothing_left NAME PID...: none of the processes runs on (within 3 s, or LEFT_WAIT
# tenths of a second), $TMPDIR is empty
nothing_left() {
    local name=$1 left=""
    shift
    for _ in $(seq "${LEFT_WAIT:-30}"); do
        left=""
        for p in "$@"; do if alive "$p"; then left="$left $p"; fi; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -z "$left" ]; then ok "$name: no process left"; else
        fail "$name: no process left" "still running:$left ($(ps -o pid=,comm= -p "${left# }" | tr '\n' ' '))"
        for p in $left; do kill -9 "$p" 2>/dev/null || true; done
    fi
    expect_eq "$name: no temporary file left" "" "$(ls -A "$TMPDIR")"
}
# start NAME ARGS...: pyscope run in the background (its own session, as a job of
# a shell would be), wait until the script runs; sets PID RUNNER SCRIPT CHILD
start() {
    local tag=$1
    shift
    rm -f "$tag"
    setsid "$@" >"$T/$tag.out" 2>"$T/$tag.err" &
    PID=$!
    if ! wait_for "$tag"; then
        fail "$tag: script started" "$(cat "$T/$tag.err")"
        return 1
    fi
    read -r SCRIPT CHILD <"$tag"
    RUNNER=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null | awk '{print $1}')
}
finish_wait() {
    set +e
    wait "$PID"
    RC=$?
    set -e
}
latest_json() { (ls -d reports/json/pyscope_report_*.json 2>/dev/null || true) | sort | tail -n 1; }

# --- SIGTERM, SIGHUP, SIGINT to pyscope ------------------------------------------
for sig in TERM HUP INT; do
    num=$(kill -l "$sig")
    before=$(latest_json)
    start "$sig" "$PYSCOPE" run hang.py "$sig" || continue
    kill "-$sig" "$PID"
    finish_wait
    expect_eq "SIG$sig: pyscope dies of it (exit 128+$num)" "$((128 + num))" "$RC"
    expect_match "SIG$sig: partial report printed" \
        "^Interrupted by SIG$sig \\(passed on to the script\\): 1 of 1 measured run, script killed by signal $num \\(SIG$sig\\); partial report$" \
        "$(cat "$T/$sig.out")"
    saved=$(latest_json)
    if [ -n "$saved" ] && [ "$saved" != "$before" ]; then
        ok "SIG$sig: partial report saved"
        expect_eq "SIG$sig: outcome" "interrupted" "$(jget status.outcome <"$saved")"
        expect_eq "SIG$sig: which signal" "SIG$sig $num" \
            "$(jget status.interrupted.name <"$saved") $(jget status.signal <"$saved")"
        expect_eq "SIG$sig: not compared with the history" "null" "$(jget regression <"$saved")"
    else
        fail "SIG$sig: partial report saved" "no new report in reports/json"
    fi
    nothing_left "SIG$sig" "$RUNNER" "$SCRIPT" "$CHILD"
done
expect_match "SIGINT: the script saw a KeyboardInterrupt" 'KeyboardInterrupt' "$(cat "$T/INT.err")"

# --- timeout N pyscope run (8 s: under ASan on a loaded machine the script can take
# seconds to start; a TERM before it starts is tested apart below) -------------------
rm -f TO
set +e
timeout 8 "$PYSCOPE" run --no-save hang.py TO >"$T/to.out" 2>"$T/to.err"
RC=$?
set -e
expect_eq "timeout: exit 124" 124 "$RC"
# (its standard error, each line marked, follows in the message when it fails; CI saw no
# output at all once, 2026-12-07: timeout's second signal, below)
expect_match "timeout: partial report printed" '^Interrupted by SIGTERM ' \
    "$(cat "$T/to.out"; sed 's/^/stderr: /' "$T/to.err")"
if [ -s TO ]; then
    read -r SCRIPT CHILD <TO
    nothing_left "timeout" "$SCRIPT" "$CHILD"
else
    fail "timeout: script started" "$(cat "$T/to.err")"
fi

# --- timeout's second signal: timeout(1) sends TERM to its child, then to its whole
# process group. Preempted between the two on a busy machine, the second can come after
# the script ended, while pyscope makes the report (CI 2026-12-07: no output at all): the
# same request from the same process, not a second "stop now". The fault switch holds
# pyscope 2 s after pyscope-run ended, so that the second signal lands there every time.
start twice env PYSCOPE_FAULT=run_linger_after_runner "$PYSCOPE" run --no-save hang.py twice &&
    python3 - "$PID" "$RUNNER" <<'PY'
import os, signal, sys, time
pid, runner = int(sys.argv[1]), int(sys.argv[2])
os.kill(pid, signal.SIGTERM)
for _ in range(3000):  # until pyscope reaped pyscope-run (at most 30 s)
    if not os.path.exists("/proc/%d" % runner):
        break
    time.sleep(0.01)
time.sleep(0.3)  # past its waitpid(), inside the 2 s it lingers
os.kill(pid, signal.SIGTERM)
PY
finish_wait
expect_eq "TERM twice from one sender: pyscope dies of it (exit 143)" 143 "$RC"
expect_match "TERM twice from one sender: partial report printed" '^Interrupted by SIGTERM ' \
    "$(cat "$T/twice.out"; sed 's/^/stderr: /' "$T/twice.err")"
nothing_left "TERM twice from one sender" "$RUNNER" "$SCRIPT" "$CHILD"

# --- a signal during the warm-up runs: nothing measured, the report says so ------------
printf 'import time\ntime.sleep(0.2)\n' > warm.py
setsid "$PYSCOPE" run --no-save --warmup 1000 --repeat 3 warm.py >"$T/early.out" \
    2>"$T/early.err" &
PID=$!
sleep 1
kill -TERM "$PID"
finish_wait
expect_eq "TERM in warm-up: exit 143" 143 "$RC"
expect_match "TERM in warm-up: said" '^Interrupted by SIGTERM \(passed on to the script\): 0 of 3 measured runs, ' \
    "$(cat "$T/early.out")"
expect_eq "TERM in warm-up: no temporary file left" "" "$(ls -A "$TMPDIR")"

# --- --repeat: a signal ends the repeats; the runs made so far are reported --------
cat > rep.py <<'PY'
import os, sys, time
with open(sys.argv[1], "a") as f:
    f.write("%d\n" % os.getpid())
time.sleep(0.3)
PY
rm -f REP
setsid "$PYSCOPE" run --json --no-save --repeat 50 rep.py REP >"$T/rep.out" 2>"$T/rep.err" &
PID=$!
for _ in $(seq 300); do [ -f REP ] && [ "$(wc -l <REP)" -ge 3 ] && break; sleep 0.1; done
kill -TERM "$PID"
finish_wait
expect_eq "repeat: exit 143" 143 "$RC"
runs=$(jget runs <"$T/rep.out" | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')
measured=$(jget status.interrupted.runs_measured <"$T/rep.out")
if [ "$runs" -ge 2 ] && [ "$runs" -lt 50 ] && [ "$runs" = "$measured" ]; then
    ok "repeat: stopped early, the runs made are kept"; else
    fail "repeat: stopped early, the runs made are kept" "runs=$runs measured=$measured"; fi
expect_eq "repeat: planned" 50 "$(jget status.interrupted.runs_planned <"$T/rep.out")"
started=$(wc -l <REP)
if [ "$started" -le $((runs + 1)) ]; then ok "repeat: no run started after the signal"; else
    fail "repeat: no run started after the signal" "$started started, $runs measured"; fi
nothing_left "repeat" $(cat REP)

# --- a script that handles SIGTERM and exits 0 ---------------------------------------
start GR "$PYSCOPE" run --no-save --repeat 3 graceful.py GR || true
kill -TERM "$PID"
finish_wait
expect_eq "graceful: pyscope still dies of SIGTERM" 143 "$RC"
expect_match "graceful: the script's handler ran" 'graceful exit on SIGTERM' "$(cat "$T/GR.out")"
expect_match "graceful: said" '^Interrupted by SIGTERM .*: 1 of 3 measured runs, script exited with status 0; partial report$' \
    "$(cat "$T/GR.out")"
nothing_left "graceful" "$RUNNER" "$SCRIPT"

# --- SIGTERM to pyscope-run itself: the script gets it, pyscope reports (exit 3) ----
start RT "$PYSCOPE" run --no-save hang.py RT || true
kill -TERM "$RUNNER"
finish_wait
expect_eq "SIGTERM to pyscope-run: exit 3" 3 "$RC"
expect_match "SIGTERM to pyscope-run: partial report" '^Interrupted by SIGTERM ' "$(cat "$T/RT.out")"
nothing_left "SIGTERM to pyscope-run" "$RUNNER" "$SCRIPT" "$CHILD"

# --- kill -9 of pyscope-run: the script and its child go too --------------------------
start K9 "$PYSCOPE" run --no-save hang.py K9 || true
kill -KILL "$RUNNER"
finish_wait
expect_eq "kill -9 pyscope-run: exit 4" 4 "$RC"
expect_match "kill -9 pyscope-run: says what happened" \
    'pyscope-run was killed by signal 9 \(SIGKILL\); the script and its processes were stopped' \
    "$(cat "$T/K9.err")"
nothing_left "kill -9 pyscope-run" "$RUNNER" "$SCRIPT" "$CHILD"

# --- kill -9 of pyscope: pyscope-run stops the script and ends ------------------------
start P9 "$PYSCOPE" run --no-save hang.py P9 || true
kill -KILL "$PID"
finish_wait
expect_eq "kill -9 pyscope: killed" 137 "$RC"
nothing_left "kill -9 pyscope" "$RUNNER" "$SCRIPT" "$CHILD"

# --- kill -9 of pyscope while the script ignores SIGTERM and SIGHUP (a server loop):
# pyscope-run, orphaned, passes its parent-death SIGTERM on, and kills the script's
# group when it has not ended SUPERVISE_ORPHAN_GRACE_S (5 s) later; the wait below is
# only a bound (60 s), the grace is not timed --------------------------------------------
cat > deaf.py <<'PY'
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
child = subprocess.Popen(["sleep", "300"])  # ignores SIGTERM too (inherited)
tag = sys.argv[1]
with open(tag + ".tmp", "w") as f:
    f.write("%d %d\n" % (os.getpid(), child.pid))
os.replace(tag + ".tmp", tag)
while True:
    time.sleep(1)
PY
start D9 "$PYSCOPE" run --no-save deaf.py D9 || true
kill -KILL "$PID"
finish_wait
expect_eq "kill -9 pyscope, script deaf to SIGTERM: killed" 137 "$RC"
LEFT_WAIT=600 nothing_left "kill -9 pyscope, script deaf to SIGTERM" "$RUNNER" "$SCRIPT" "$CHILD"
expect_match "kill -9 pyscope, script deaf to SIGTERM: pyscope-run says what it did" \
    'pyscope-run: error: stopping: SIGTERM came after pyscope \(our parent\) was gone, .* did not end within 5 s of it and was killed with SIGKILL' \
    "$(cat "$T/D9.err")"

# --- SIGTERM while --instructions counts under valgrind (the timed run is over): the
# report says the count was interrupted, keeps the measured run and blames nobody ---------
if command -v valgrind >/dev/null; then
    # the script waits only under valgrind (its preload library is in LD_PRELOAD)
    cat > counted.py <<'PY'
import os, sys, time
if "vgpreload" in os.environ.get("LD_PRELOAD", ""):
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(300)
PY
    rm -f VG
    before=$(latest_json)
    setsid "$PYSCOPE" run --instructions counted.py VG >"$T/VG.out" 2>"$T/VG.err" &
    PID=$!
    # valgrind starts CPython slowly (seconds; minutes at a high load): a bound only
    for _ in $(seq 3000); do [ -s VG ] && break; sleep 0.1; done
    if [ -s VG ]; then
        read -r VGPID <VG
        RUNNER=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null | awk '{print $1}')
        kill -TERM "$PID"
        finish_wait
        expect_eq "TERM while counting: pyscope dies of it (exit 143)" 143 "$RC"
        expect_match "TERM while counting: said, the measured run kept" \
            '^Interrupted by SIGTERM while counting instructions under valgrind: 1 of 1 measured run complete, 0 of 1 instruction count; partial report$' \
            "$(cat "$T/VG.out")"
        expect_nomatch "TERM while counting: the script is not blamed" 'failed|killed by' \
            "$(cat "$T/VG.out" "$T/VG.err")"
        expect_nomatch "TERM while counting: no valgrind log" "valgrind's log" "$(cat "$T/VG.err")"
        saved=$(latest_json)
        if [ -n "$saved" ] && [ "$saved" != "$before" ]; then
            expect_eq "TERM while counting: JSON" "interrupted instructions 0 1 0 null" \
                "$(jget status.outcome <"$saved") $(jget status.interrupted.during <"$saved") $(jget status.interrupted.instructions_counted <"$saved") $(jget status.interrupted.runs_measured <"$saved") $(jget status.exit_code <"$saved") $(jget status.signal <"$saved")"
        else
            fail "TERM while counting: partial report saved" "no new report in reports/json"
        fi
        nothing_left "TERM while counting" "$RUNNER" "$VGPID"
    else
        fail "TERM while counting: the script ran under valgrind" "$(cat "$T/VG.err")"
        kill -KILL "$PID" 2>/dev/null || true
        finish_wait
    fi
else
    echo "# valgrind is not installed: the --instructions case is not tried"
fi

finish
