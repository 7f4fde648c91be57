#!/usr/bin/env bash
# test_agent_survive.sh - the agent lives through any script: a crash, a hang, a fork
# storm, a memory hog, a runner that ignores its timeout; it stays small when idle and
# shuts down cleanly on SIGTERM. Real PostgreSQL, coordinator, agent and Python.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws/bad"
marker="pyscope-survive-$$"
cat >"$ws/bad/crash.py" <<'PY'
import os
os.abort()
PY
cat >"$ws/bad/hang.py" <<'PY'
import time
time.sleep(1000)
PY
# Forks children that sleep; one escapes into its own session (setsid) and
# double-forks, so only the agent's subreaper sweep can find it.
cat >"$ws/bad/forks.py" <<'PY'
import os, sys, time
for i in range(20):
    if os.fork() == 0:
        if i == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(1000)
            os._exit(0)
        time.sleep(1000)
        os._exit(0)
time.sleep(1000)
PY
cat >"$ws/bad/memhog.py" <<'PY'
chunks = []
while True:
    chunks.append(bytearray(64 << 20))
PY
cat >"$ws/bad/exit3.py" <<'PY'
import sys
sys.exit(3)
PY
cat >"$ws/ok.py" <<'PY'
print(sum(range(1000)))
PY
cat >"$T/suite.ini" <<INI
[suite]
name = survive
timeout = 3
[script bad/crash.py]
[script bad/hang.py]
[script bad/forks.py]
args = $marker
[script bad/memhog.py]
timeout = 20
[script bad/exit3.py]
[script ok.py]
INI

if [ "$FARM_ASAN" = 1 ]; then farm_agent_start a1 "$ws"; else
    farm_agent_start a1 "$ws" --memory-limit 512M; fi
pid=${AGENT_PID[a1]}
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' && ok "agent registered" ||
    fail "agent registered" "no welcome"

# Idle RSS is small.
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
if [ "$FARM_ASAN" = 1 ]; then echo "# sanitizer build: idle rss ${rss} kB not checked"
elif [ "$rss" -le 10240 ]; then ok "idle rss ${rss} kB <= 10 MiB"; else
    fail "idle rss" "${rss} kB"; fi

out=$(farm_cli submit "$T/suite.ini" --json)
batch=$(printf '%s' "$out" | sed -E 's/.*"batch_id": ([0-9]+).*/\1/')
expect_match "submitted" '"jobs": 6' "$out"
farm_wait 90 "[ \"\$(pg_sql \"SELECT count(*) FROM runs WHERE batch_id = $batch\")\" = 6 ]" ||
    { fail "all results" "$(pg_sql "SELECT count(*) FROM runs")"; farm_logs; }

outcome() {
    pg_sql "SELECT r.outcome FROM runs r JOIN scripts s ON s.id = r.script_id
            WHERE r.batch_id = $batch AND s.key = '$1'"
}
expect_eq "crash -> failed" "failed" "$(outcome bad/crash.py)"
expect_eq "crash signal" "{6}" "$(pg_sql "SELECT r.signals FROM runs r JOIN scripts s ON
    s.id = r.script_id WHERE r.batch_id = $batch AND s.key = 'bad/crash.py'")"
expect_eq "hang -> timeout" "timeout" "$(outcome bad/hang.py)"
expect_eq "forks -> timeout" "timeout" "$(outcome bad/forks.py)"
if [ "$FARM_ASAN" = 1 ]; then
    echo "# sanitizer build: no memory limit, the memory hog is only timed out"
else
    expect_eq "memory hog -> failed" "failed" "$(outcome bad/memhog.py)"
fi
expect_eq "exit 3 -> failed" "failed" "$(outcome bad/exit3.py)"
expect_eq "ok script -> ok" "ok" "$(outcome ok.py)"
expect_eq "exit codes" "{3}" "$(pg_sql "SELECT r.exit_codes FROM runs r JOIN scripts s ON
    s.id = r.script_id WHERE r.batch_id = $batch AND s.key = 'bad/exit3.py'")"
if kill -0 "$pid" 2>/dev/null; then ok "agent alive after all of it"; else
    fail "agent alive" "it died"; farm_logs; fi
# Nothing the fork storm made is left (the escaped grandchild included).
farm_wait 5 '! pgrep -f "$marker" >/dev/null' && ok "no process of the fork storm left" ||
    fail "fork storm cleaned" "$(pgrep -af "$marker")"
expect_eq "spool empty after acks" "0" "$(find "$T/spool-a1" -name '*.result' | wc -l)"

# SIGTERM: clean exit, status 0.
kill -TERM "$pid"
st=0
farm_wait 10 '! kill -0 "$pid" 2>/dev/null' || st=1
wait "$pid" || st=$?
expect_eq "sigterm exit status" "0" "$st"
expect_match "sigterm logged" "stopped" "$(cat "$T/agent-a1.log")"

# A runner that ignores its timeout: the agent's own deadline kills it.
cat >"$T/stuck-runner" <<EOF
#!/bin/sh
exec sleep 1000 # $marker-runner
EOF
chmod +x "$T/stuck-runner"
cat >"$T/agent.conf" <<EOF
[agent]
runner = $T/stuck-runner
kill_grace = 1
label = role=backstop
EOF
cat >"$T/suite2.ini" <<INI
[suite]
timeout = 1
[script ok.py]
INI
farm_agent_start a1 "$ws" --config "$T/agent.conf"
pid=${AGENT_PID[a1]}
farm_wait 20 '[ "$(grep -c welcome "$T/agent-a1.log")" -ge 2 ]' || fail "agent restarted" "no welcome"
out=$(farm_cli submit "$T/suite2.ini" --json)
batch=$(printf '%s' "$out" | sed -E 's/.*"batch_id": ([0-9]+).*/\1/')
farm_wait 30 "[ \"\$(pg_sql \"SELECT count(*) FROM runs WHERE batch_id = $batch\")\" = 1 ]" ||
    { fail "backstop result" "none"; farm_logs; }
expect_eq "backstop -> timeout" "timeout" "$(outcome ok.py)"
expect_match "backstop message" "killed by the agent" \
    "$(pg_sql "SELECT message FROM runs WHERE batch_id = $batch")"
farm_wait 5 '! pgrep -f "$marker-runner" >/dev/null' && ok "stuck runner killed" ||
    fail "stuck runner killed" "$(pgrep -af "$marker-runner")"
expect_match "label from config file" "role" "$(pg_sql "SELECT labels FROM hosts")"
kill -TERM "$pid"
wait "$pid" || true
finish
