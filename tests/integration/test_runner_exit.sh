#!/usr/bin/env bash
# test_runner_exit.sh - every way a script can end, under pyscope-run and under plain
# python: the script's own status lands in the JSON (status.exit_code/signal),
# pyscope-run exits 0 (ok), 3 (script failed) or 124 (timeout), stderr matches.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp "$SCRIPTS/behave.py" "$SCRIPTS/syntax_error.py" "$SCRIPTS/spin_forever.py" "$T/"
cd "$T"

# ends NAME MODE WANT_RC WANT_EXIT_CODE WANT_SIGNAL: compare behave.py MODE both ways.
ends() {
    local name=$1 mode=$2 want_rc=$3 want_code=$4 want_sig=$5
    run_py "$name.py" behave.py "$mode"
    local py_rc=$RC
    run_ps "$name.ps" behave.py "$mode"
    expect_eq "$name: pyscope-run exit" "$want_rc" "$RC"
    expect_valid_json "$name: JSON written and valid" "$T/$name.ps.json" --no-host --runs 1
    expect_eq "$name: status.exit_code" "$want_code" "$(jeval "$T/$name.ps.json" 'd["status"]["exit_code"]')"
    expect_eq "$name: status.signal" "$want_sig" "$(jeval "$T/$name.ps.json" 'd["status"]["signal"]')"
    expect_eq "$name: runs[0] agrees" "[$want_code, $want_sig]" \
        "$(jeval "$T/$name.ps.json" '[d["runs"][0]["exit_code"], d["runs"][0]["signal"]]')"
    local outcome=failed
    [ "$want_rc" = 0 ] && outcome=ok
    expect_eq "$name: status.outcome" "$outcome" "$(jeval "$T/$name.ps.json" 'd["status"]["outcome"]')"
    # python's own status, for the record: the code, or 128+signal from the shell.
    if [ "$want_sig" = null ]; then
        expect_eq "$name: python agrees on the code" "$want_code" "$py_rc"
    else
        expect_eq "$name: python agrees on the signal" "$((128 + want_sig))" "$py_rc"
    fi
    expect_eq "$name: same stdout" "$(cat "$T/$name.py.out")" "$(cat "$T/$name.ps.out")"
    expect_file_contains "$name: python's stderr inside ours" "$T/$name.py.err" "$T/$name.ps.err"
}

ends ok ok 0 0 null
ends exit5 exit5 3 5 null
ends exitmsg exitmsg 3 1 null
expect_eq "sys.exit(msg): message on stderr" "fatal: something went wrong" "$(last_line "$T/exitmsg.ps.err")"
ends raise raise 3 1 null
expect_eq "uncaught exception: same last line" "$(last_line "$T/raise.py.err")" "$(last_line "$T/raise.ps.err")"
ends nested nested_raise 3 1 null
expect_eq "chained exception: same last line" "$(last_line "$T/nested.py.err")" "$(last_line "$T/nested.ps.err")"
expect_match "chained exception: cause shown" 'ValueError: boom 42' "$(cat "$T/nested.ps.err")"
ends os_exit os_exit7 3 7 null
ends kill9 kill9 3 null 9

# The same in trace mode (a profile hook must not change how a script ends).
run_ps raise_trace --mode trace behave.py raise
expect_eq "trace mode: uncaught exception exit" 3 "$RC"
expect_eq "trace mode: same last line" "$(last_line "$T/raise.py.err")" "$(last_line "$T/raise_trace.err")"
run_ps exit5_trace --mode trace behave.py exit5
expect_eq "trace mode: sys.exit(5)" "3 5" "$RC $(jeval "$T/exit5_trace.json" 'd["status"]["exit_code"]')"

# Syntax error: python prints it and exits 1; pyscope-run reports a failed script.
run_py syntax.py syntax_error.py
run_ps syntax.ps syntax_error.py
expect_eq "syntax error: pyscope-run exit" 3 "$RC"
expect_eq "syntax error: same last line" "$(last_line "$T/syntax.py.err")" "$(last_line "$T/syntax.ps.err")"
expect_match "syntax error: names the file" 'syntax_error\.py' "$(cat "$T/syntax.ps.err")"
expect_eq "syntax error: exit_code 1 in JSON" 1 "$(jeval "$T/syntax.ps.json" 'd["status"]["exit_code"]')"

# Ctrl-C: SIGINT to the whole process group while the script sleeps. Python dies of
# SIGINT after printing the KeyboardInterrupt traceback; pyscope-run must report
# that (exit 3, signal 2), write the JSON, and not die of the signal itself. It got
# the signal too and passed it on, so the outcome is "interrupted" (test_cli_signals).
for mode in sample trace; do
    "$PY" "$TOOLS/sigint_run.py" "$T/int.py.res" "$PY" behave.py sigint_wait
    "$PY" "$TOOLS/sigint_run.py" "$T/int.ps.res" "$PYSCOPE_RUN" --mode "$mode" \
        --output "$T/int.$mode.json" behave.py sigint_wait
    expect_eq "SIGINT ($mode): python died of SIGINT" -2 "$(jeval "$T/int.py.res" 'd["rc"]')"
    expect_eq "SIGINT ($mode): pyscope-run exit" 3 "$(jeval "$T/int.ps.res" 'd["rc"]')"
    expect_eq "SIGINT ($mode): same last stderr line" \
        "$(jeval "$T/int.py.res" 'd["stderr"].strip().splitlines()[-1]')" \
        "$(jeval "$T/int.ps.res" 'd["stderr"].strip().splitlines()[-1]')"
    expect_match "SIGINT ($mode): traceback shown" 'Traceback' "$(jeval "$T/int.ps.res" 'd["stderr"]')"
    expect_valid_json "SIGINT ($mode): JSON written" "$T/int.$mode.json" --no-host
    expect_eq "SIGINT ($mode): status" '["interrupted", null, 2, "SIGINT"]' \
        "$(jeval "$T/int.$mode.json" '[d["status"]["outcome"], d["status"]["exit_code"], d["status"]["signal"], d["status"]["interrupted"]["name"]]')"
    expect_nomatch "SIGINT ($mode): did not sleep on" 'no SIGINT arrived' "$(jeval "$T/int.ps.res" 'd["stdout"]')"
done

# Timeout: an endless loop (with a forked, sleeping child) is killed after 3 s,
# exit 124, outcome "timeout", and nothing of it is left running. 3 s, not 1: on a
# loaded runner the interpreter can take over a second to reach the script's first line
# (which writes the pid file the last check needs). The loop never ends, so any exit at
# all is the timeout's: the elapsed time is checked only against a hang (60 s).
marker="pyscope-timeout-marker-$$-$RANDOM"
start=$(date +%s.%N)
run_ps timeout --timeout 3 spin_forever.py "$T/pids" "$marker"
elapsed=$("$PY" -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$start" "$(date +%s.%N)")
expect_eq "timeout: exit 124" 124 "$RC"
expect_eq "timeout: it came (the loop never ends), not after a hang # ${elapsed} s" True \
    "$("$PY" -c 'import sys; print(3 <= float(sys.argv[1]) < 60)' "$elapsed")"
expect_valid_json "timeout: JSON written" "$T/timeout.json" --no-host
expect_eq "timeout: outcome" timeout "$(jeval "$T/timeout.json" 'd["status"]["outcome"]')"
expect_eq "timeout: runs[-1].timed_out" true "$(jeval "$T/timeout.json" 'd["runs"][-1]["timed_out"]')"
expect_eq "timeout: options.timeout_s" 3 "$(jeval "$T/timeout.json" 'int(d["options"]["timeout_s"])')"
# alive PIDS...: those of PIDS still running (zombies waiting for init do not count).
alive() {
    local pid
    for pid in "$@"; do
        if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
            printf '%s ' "$pid"
        fi
    done
}
[ -s "$T/pids" ] || fail "timeout: script started" "no pid file"
left="x"
for _ in 1 2 3 4 5 6 7 8 9 10; do # a killed process may take a moment to go
    left="$(alive $(cat "$T/pids" 2>/dev/null)) $(pgrep -f "$marker" | tr '\n' ' ' || true)"
    [ -z "$(echo "$left" | xargs)" ] && break
    sleep 0.3
done
expect_eq "timeout: no process left behind" "" "$(echo "$left" | xargs)"
for pid in $left; do kill -9 "$pid" 2>/dev/null || true; done # ours: do not leak them

finish
