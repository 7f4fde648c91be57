#!/usr/bin/env bash
# test_agent_sandbox.sh - hostile scripts cannot hurt the farm (issue 6, point 5): a real
# agent running as root, with CURVE keys, runs each job as the unprivileged job user in
# namespaces of its own (agent/sandbox.h). A script that reads the agent's secret key or
# spool fails and the key appears nowhere (results, logs, database); a fork bomb, a
# memory hog, a disk filler, a file too large and an endless loop are each stopped at
# their limit, the result says which one, nothing of theirs is left running, nothing
# reached the host's disk; then a normal script runs fine on the same agent.
# Root only (the job user, namespaces): skipped otherwise.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
if [ "$(id -u)" != 0 ]; then
    skip "needs root (a job user, mount and pid namespaces)"
fi
job_user=pyscope-job
id "$job_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$job_user"

# The agent's state outside /tmp (the private /tmp would hide it anyway: the job must
# meet the file permissions themselves), in a folder anyone may cross.
state=$(mktemp -d /run/pyscope-sandbox-test.XXXXXX)
chmod 755 "$state"
prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "rm -rf $state; $prev" EXIT
keys=$state/keys allowed=$state/coord-keys
for k in a1 cli; do "$PYSCOPE" keygen "$k" --dir "$keys" >/dev/null; done
chmod 755 "$keys" # the folder is open: the key file's own mode (0600 root) must hold
"$PYSCOPE" keygen coordinator --dir "$allowed" >/dev/null
mkdir -p "$allowed/agents" "$allowed/submitters"
cp "$keys/a1.key" "$allowed/agents/"
cp "$keys/cli.key" "$allowed/submitters/"
export FARM_COORD_EXTRA="curve_keys_dir = $allowed"
export PYSCOPE_SECRET_KEY=$keys/cli PYSCOPE_COORDINATOR_KEY=$allowed/coordinator.key
secret=$(grep -v '^#' "$keys/a1.key_secret" | head -1)
expect_eq "secret key is 0600 root" "600 root" "$(stat -c '%a %U' "$keys/a1.key_secret")"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws"
marker="pyscope-sandbox-$$"
spool=$state/spool
cat >"$ws/readkey.py" <<'PY'
import os, sys
key, spool = sys.argv[1], sys.argv[2]
for attempt in (lambda: os.listdir(spool), lambda: open(key).read()):
    try:
        print("READ:", attempt())          # would put the secret in the result
    except OSError as e:
        print("refused:", e, file=sys.stderr)
open(key).read()                            # fails: the job ends "failed"
PY
cat >"$ws/forkbomb.py" <<'PY'
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
PY
cat >"$ws/memhog.py" <<'PY'
chunks = []
while True:
    chunks.append(b"x" * (32 << 20))  # touched: the runner's exact peak RSS sees it
PY
cat >"$ws/slowhog.py" <<'PY'
import time
chunks = []
while True:
    chunks.append(bytes(64 << 20))  # calloc: address space only, seen by the agent's VmPeak
    time.sleep(0.5)
PY
cat >"$ws/diskfill.py" <<'PY'
import os, sys
block = b"x" * (1 << 20)
for d in ("/tmp", "/var/tmp", "/dev/shm"):
    for i in range(1 << 20):
        with open(f"{d}/{sys.argv[1]}-{i}", "wb") as f:  # 4 MiB files: under the file limit
            for _ in range(4):
                f.write(block)
PY
cat >"$ws/bigfile.py" <<'PY'
import sys
with open(f"/tmp/{sys.argv[1]}-big", "wb") as f:
    while True:
        f.write(b"y" * (1 << 20))
PY
cat >"$ws/loop.py" <<'PY'
while True:
    pass
PY
cat >"$ws/data.txt" <<'TXT'
21
TXT
cat >"$ws/ok.py" <<'PY'
import os, tempfile
n = int(open("data.txt").read())          # the workspace is readable (and the cwd)
with tempfile.NamedTemporaryFile() as f:  # the private /tmp is writable
    f.write(b"scratch")
try:
    open("written.txt", "w")
    raise SystemExit("the workspace should be read-only")
except OSError:
    pass
print(n * 2, os.getuid() != 0)
PY
# It prints the errors the limits cause without hitting any: no limit may be named.
cat >"$ws/liar.py" <<'PY'
import sys
sys.stderr.write("OSError: [Errno 28] No space left on device\n"
                 "OSError: [Errno 27] File too large\n"
                 "BlockingIOError: [Errno 11] Resource temporarily unavailable\n"
                 "MemoryError\n")
sys.exit(1)
PY
# It touches 60% of the 512 MiB limit, then prints MemoryError: still not the limit.
cat >"$ws/liar60.py" <<'PY'
import sys
held = b"x" * (307 << 20)
sys.stderr.write("Traceback (most recent call last):\nMemoryError\n")
sys.exit(1)
PY
cat >"$T/suite.ini" <<INI
[suite]
name = sandbox
timeout = 3
[script readkey.py]
args = $keys/a1.key_secret $spool
[script forkbomb.py]
timeout = 5
[script memhog.py]
timeout = 30
[script slowhog.py]
timeout = 30
[script diskfill.py]
args = $marker
[script bigfile.py]
args = $marker
[script loop.py]
[script ok.py]
[script liar.py]
[script liar60.py]
timeout = 30
INI
cat >"$T/agent.conf" <<INI
[agent]
max_procs = 64
tmp_size = 32M
file_size_limit = 8M
INI

farm_agent_start a1 "$ws" --spool "$spool" --secret-key "$keys/a1" \
    --coordinator-key "$allowed/coordinator.key" --memory-limit 512M --config "$T/agent.conf"
pid=${AGENT_PID[a1]}
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' && ok "agent registered" ||
    { fail "agent registered" "no welcome"; farm_logs; }
expect_match "jobs run as the job user" "jobs run as $job_user .*private /tmp of 32 MiB" \
    "$(cat "$T/agent-a1.log")"
expect_eq "spool is 0700 root" "700 root" "$(stat -c '%a %U' "$spool")"

out=$(farm_cli submit "$T/suite.ini" --json)
batch=$(printf '%s' "$out" | sed -E 's/.*"batch_id": ([0-9]+).*/\1/')
expect_match "submitted" '"jobs": 10' "$out"
farm_wait 90 "[ \"\$(pg_sql \"SELECT count(*) FROM runs WHERE batch_id = $batch\")\" = 10 ]" ||
    { fail "all results" "$(pg_sql "SELECT count(*) FROM runs")"; farm_logs; }

field() {
    pg_sql "SELECT r.$2 FROM runs r JOIN scripts s ON s.id = r.script_id
            WHERE r.batch_id = $batch AND s.key = '$1'"
}
expect_eq "read the key -> failed" "failed" "$(field readkey.py outcome)"
expect_eq "fork bomb -> timeout" "timeout" "$(field forkbomb.py outcome)"
expect_match "fork bomb: process limit named" "stopped by the process limit \(64\), then the time limit" \
    "$(field forkbomb.py message)"
expect_eq "a script that prints limit errors -> failed" "failed" "$(field liar.py outcome)"
expect_match "its printed errors name no limit (the supervisors measured none)" \
    "^exited with status 1 \(raised MemoryError at [0-9.]+ [KM]iB of a 512 MiB limit: not the limit by the agent's accounting\)$" \
    "$(field liar.py message)"
expect_match "a script that touched 60% of the limit and printed MemoryError: not the limit" \
    "^exited with status 1 \(raised MemoryError at [0-9.]+ MiB of a 512 MiB limit: not the limit by the agent's accounting\)$" \
    "$(field liar60.py message)"
expect_eq "memory hog -> failed" "failed" "$(field memhog.py outcome)"
expect_match "memory hog: memory limit named, with the peak the runner measured" \
    "stopped by the memory limit \(512 MiB; [0-9.]+ MiB reached\)" "$(field memhog.py message)"
expect_eq "slow address-space hog -> failed" "failed" "$(field slowhog.py outcome)"
expect_match "slow address-space hog: memory limit named from the agent's VmPeak samples" \
    "stopped by the memory limit \(512 MiB; [0-9.]+ MiB reached\)" "$(field slowhog.py message)"
expect_eq "disk filler -> failed" "failed" "$(field diskfill.py outcome)"
expect_match "disk filler: disk limit named" "stopped by the disk limit \(private /tmp of 32 MiB\)" \
    "$(field diskfill.py message)"
expect_eq "big file -> failed" "failed" "$(field bigfile.py outcome)"
expect_match "big file: file size limit named" "stopped by the file size limit \(8 MiB\)" \
    "$(field bigfile.py message)"
expect_eq "endless loop -> timeout" "timeout" "$(field loop.py outcome)"
expect_match "endless loop: time limit named" "stopped by the time limit \(3 s\)" \
    "$(field loop.py message)"
expect_eq "normal script -> ok" "ok" "$(field ok.py outcome)"
expect_eq "normal script ran" "{0}" "$(field ok.py exit_codes)"

# The secret never left its file: not in the database, not in any log.
dump=$(pg_sql "SELECT r::text FROM runs r")
expect_nomatch "no secret in the runs" "$secret" "$dump"
expect_nomatch "no READ: in the runs" "READ:" "$dump"
if grep -rqF -- "$secret" "$T"/*.log; then fail "no secret in the logs" "found"; else
    ok "no secret in the logs"; fi

# Nothing of theirs left running, nothing on the host's disk.
# (Other tests may run jobs as the job user at the same time: this test's own processes
# all name its workspace on their command line.)
farm_wait 5 '! pgrep -u "$job_user" -f "$ws/" >/dev/null' && ok "no process of the job user left" ||
    fail "no process of the job user left" "$(ps -u "$job_user" -o pid,stat,cmd | grep -F "$ws/")"
# (find fails when another test removes its own /tmp entry mid-listing: not a finding)
left=$({ find /tmp /var/tmp /dev/shm -maxdepth 1 -name "$marker*" 2>/dev/null || true; } | head -3)
expect_eq "the disk filler wrote nothing on the host" "" "$left"
expect_eq "workspace untouched" "" "$(find "$ws" -name written.txt)"
if kill -0 "$pid" 2>/dev/null; then ok "agent alive after all of it"; else
    fail "agent alive" "it died"; farm_logs; fi
expect_eq "spool empty after acks" "0" "$(find "$spool" -name '*.result' | wc -l)"

# Jobs as root only when asked, loudly; an unknown job user stops the agent at start.
st=0
msg=$("$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --run-as nosuchuser-$$ 2>&1) ||
    st=$?
expect_eq "unknown job user: the agent does not start (exit 2)" "2" "$st"
expect_match "unknown job user: message" "run_as: no user \"nosuchuser-$$\"" "$msg"
farm_agent_start a2 "$ws" --run-as root
farm_wait 20 'grep -q "JOBS RUN AS ROOT" "$T/agent-a2.log"' && ok "root jobs: loud warning" ||
    fail "root jobs: loud warning" "$(cat "$T/agent-a2.log")"
kill -TERM "${AGENT_PID[a2]}" "$pid"
wait "$pid" || true
wait "${AGENT_PID[a2]}" || true
finish
