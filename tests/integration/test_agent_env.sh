#!/usr/bin/env bash
# test_agent_env.sh - a job sees a minimal environment (agent/sandbox.h, docs/security.md
# "What a job sees"): the agent runs with its key path, PG* settings and a token in its
# environment; a job that lists its environment (as the name of a function it runs, which the
# profile stores) sees none of them,
# sees PATH and the locale, and sees a variable the operator named with --job-env. And a
# spool folder open to others is refused (agent/spool.h); a killed agent's job folders are swept
# at its next start, and its job's processes end with it; a job that floods stdout is stopped
# by the output limit.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws/bench"
cat >"$ws/bench/env.py" <<'PY'
import os
def f():
    return sum(range(1000))
f.__code__ = f.__code__.replace(co_qualname="ENV " + " ".join(sorted(os.environ)) + " END")
for _ in range(200):
    f()
PY
printf '[suite]\nname = env\nrepeat = 1\ntimeout = 60\nmode = trace\n[script bench/env.py]\n' >"$T/suite.ini"

# env_of_job [AGENT ARGS...]: run the suite on a fresh agent with a leaky environment; print
# the environment names the job saw.
round=0
env_of_job() {
    round=$((round + 1))
    PYSCOPE_SECRET_KEY=/etc/pyscope/keys/agent PGHOST=/run/postgresql PGUSER=pyscope \
        PGPASSWORD=hunter2 GITHUB_TOKEN=ghp_x BENCH_DATA=/srv/data LC_ALL=C.UTF-8 \
        farm_agent_start env$round "$ws" "$@"
    farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents" 2>/dev/null)" = '$round' ]' ||
        { fail "agent $round registered" "$(farm_logs)"; return; }
    farm_cli submit "$T/suite.ini" --hosts env$round --wait >"$T/submit.out" 2>&1 || true
    kill "${AGENT_PID[env$round]}"
    pg_sql "SELECT key FROM functions WHERE key LIKE '%ENV %' ORDER BY id DESC LIMIT 1"
}
msg=$(env_of_job)
expect_match "the job ran and listed its environment" "ENV " "$msg"
for v in PYSCOPE_SECRET_KEY PGHOST PGUSER PGPASSWORD GITHUB_TOKEN PYSCOPE_COORDINATOR BENCH_DATA; do
    expect_nomatch "the job does not see $v" "(^| )$v( |$)" "${msg#*ENV }"
done
for v in PATH LC_ALL HOME TMPDIR; do
    expect_match "the job sees $v" "(^| )$v( |\$)" "${msg#*ENV }"
done
msg=$(env_of_job --job-env BENCH_DATA)
expect_match "with --job-env BENCH_DATA the job sees it" "(^| )BENCH_DATA( |\$)" "${msg#*ENV }"
expect_nomatch "and still not PGHOST" "(^| )PGHOST( |$)" "${msg#*ENV }"
RC=0
OUT=$("$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --job-env 'A=B' 2>&1) || RC=$?
expect_eq "a bad --job-env is a usage error" 2 "$RC"
expect_match "a bad --job-env is explained" "not a list of variable names" "$OUT"

# An agent killed with -9 mid-job leaves its job folder (the job's output) behind in its
# spool's jobs/; the next start sweeps it. The job's processes (pyscope-run, the script, a
# child the script started) end with the agent: the runner's parent-death signal, and the
# job's pid namespace (agent/runner/README.md "Signals"). The wait is a bound only.
marker="pyscope-env-slow-$$"
printf 'import subprocess, sys, time\nsubprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", sys.argv[1]])\ntime.sleep(60)\n' \
    >"$ws/bench/slow.py"
printf '[suite]\nname = slow\ntimeout = 120\n[script bench/slow.py]\nargs = %s\n' "$marker" >"$T/slow.ini"
farm_agent_start sweeper "$ws"
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents WHERE name = '"'sweeper'"'")" = 1 ]' ||
    fail "sweeper registered" "$(farm_logs)"
farm_cli submit "$T/slow.ini" --hosts sweeper >/dev/null
farm_wait 30 'ls -d "$T"/spool-sweeper/jobs/job-* >/dev/null 2>&1' &&
    ok "a running job has its folder in the spool" || fail "job folder" "$(ls -R "$T/spool-sweeper")"
farm_wait 60 'pgrep -f "sleep.300. $marker" >/dev/null' ||
    fail "the job's script started its child" "$(tail -5 "$T/agent-sweeper.log")"
kill -KILL "${AGENT_PID[sweeper]}"
wait "${AGENT_PID[sweeper]}" 2>/dev/null || true
farm_wait 30 '! pgrep -f -- "$marker" >/dev/null' &&
    ok "kill -9 of the agent: no process of its job is left" ||
    fail "kill -9 of the agent: no process of its job is left" "$(pgrep -a -f -- "$marker")"
for p in $(pgrep -f -- "$marker"); do kill -KILL "$p" 2>/dev/null || true; done
left=$(ls -d "$T"/spool-sweeper/jobs/job-* | head -1)
expect_match "kill -9 leaves the job folder behind" "job-" "$left"
farm_agent_start sweeper "$ws"
farm_wait 20 'grep -q "removed 1 job folder" "$T/agent-sweeper.log"' &&
    ok "the next start sweeps it" || fail "the next start sweeps it" "$(tail -5 "$T/agent-sweeper.log")"
[ ! -e "$left" ] && ok "the killed agent's job folder is gone" ||
    fail "the killed agent's job folder is gone" "$left still there"
kill "${AGENT_PID[sweeper]}"

# Output counts against a limit: a script that floods stdout is stopped by it.
cat >"$ws/bench/chatty.py" <<'PY'
import sys, time
for _ in range(600):
    sys.stdout.write("x" * (1 << 20))
    sys.stdout.flush()
    time.sleep(0.01)
PY
printf '[suite]\nname = chatty\nrepeat = 1\ntimeout = 120\n[script bench/chatty.py]\n' >"$T/chatty.ini"
printf '[agent]\noutput_limit = 4M\n' >"$T/chatty.conf"
farm_agent_start chatty "$ws" --config "$T/chatty.conf"
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents WHERE name = '"'chatty'"'")" = 1 ]' ||
    fail "chatty registered" "$(farm_logs)"
farm_cli submit "$T/chatty.ini" --hosts chatty --wait >/dev/null 2>&1 || true
expect_match "a flood of output is stopped by the output limit" \
    "^failed\|stopped by the output limit \(4 MiB" \
    "$(pg_sql "SELECT r.outcome, r.message FROM runs r JOIN scripts s ON s.id = r.script_id WHERE s.key = 'bench/chatty.py'")"
kill "${AGENT_PID[chatty]}"

# A spool others can write to would let a job user plant a result: refused at start.
mkdir -m 777 "$T/open-spool"
RC=0
OUT=$(timeout 10 "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --name open \
    --spool "$T/open-spool" 2>&1) || RC=$?
expect_eq "a world-writable spool stops the agent (exit 2, a setting to fix)" 2 "$RC"
expect_match "the spool refusal names the fix" 'spool folder ".*open-spool" is open to group or others.*chmod 700' "$OUT"
finish
