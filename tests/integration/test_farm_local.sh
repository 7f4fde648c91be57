#!/usr/bin/env bash
# test_farm_local.sh - the whole local farm: PostgreSQL, the coordinator and two
# agents acting as two hosts run a suite; every expected row arrives once, with its
# hotspots and stacks; host selection by name and by label; the CLI's views.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws/bench"
# cpu.py runs long enough (~0.1 s) for the sampler to record stacks even on a loaded machine.
cat >"$ws/bench/cpu.py" <<'PY'
import sys
def inner(n):
    return sum(i * i for i in range(n))
def outer():
    return [inner(100000) for _ in range(10)]
outer()
print(sys.argv[1:])
PY
cat >"$ws/bench/calls.py" <<'PY'
def f(x):
    return x + 1
def loop():
    t = 0
    for i in range(100000):
        t = f(t)
    return t
loop()
PY
cat >"$ws/bench/sleepy.py" <<'PY'
import time
time.sleep(0.2)
PY
cat >"$T/suite.ini" <<'INI'
[suite]
name = local
repeat = 2
timeout = 60
[script bench/cpu.py]
args = --size "1 000"
[script bench/calls.py]
mode = trace
[script bench/sleepy.py]
repeat = 1
INI

farm_agent_start_host farm-a a1 "$ws" --label role=alpha
farm_agent_start_host farm-b b1 "$ws" --label role=beta
[ "$FARM_DISTINCT_HOSTS" = 1 ] && hosts=2 || hosts=1
[ "$hosts" = 2 ] || echo "# no UTS namespaces: both agents are one host"
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents")" = 2 ]' ||
    { fail "agents registered" "$(pg_sql 'SELECT name FROM agents')"; farm_logs; }
expect_eq "hosts registered" "$hosts" "$(pg_sql 'SELECT count(*) FROM hosts')"

hl=$(farm_cli hosts)
expect_match "pyscope hosts lists agents" "a1" "$hl"
expect_match "pyscope hosts lists the other" "b1" "$hl"
expect_match "pyscope hosts --json" '"schema": "pyscope.hosts/1"' "$(farm_cli hosts --json)"

st=0
# no --commit: the agents run their workspace as it is (test_revisions runs commits)
out=$(cd / && farm_cli submit "$T/suite.ini" --label "night 1" --wait) || st=$?
expect_eq "submit --wait exit status" "0" "$st"
expect_match "summary says done" "batch 1 \(suite local\): done" "$out"
expect_match "summary counts" "jobs: +$((3 * hosts)) total, $((3 * hosts)) done, 0 failed" "$out"
expect_eq "one run per job" "$((3 * hosts))" "$(pg_sql 'SELECT count(*) FROM runs WHERE batch_id = 1')"
expect_eq "no (job, attempt) twice" "0" "$(pg_sql 'SELECT count(*) FROM (SELECT job_id, attempt
    FROM runs GROUP BY 1, 2 HAVING count(*) > 1) x')"
expect_eq "all ok" "ok" "$(pg_sql "SELECT string_agg(DISTINCT outcome, ',') FROM runs")"
expect_eq "every script on every host" "$((3 * hosts))" "$(pg_sql 'SELECT count(DISTINCT (script_id, host_id)) FROM runs')"
expect_eq "repeat 2 gives 2 samples" "2" "$(pg_sql "SELECT DISTINCT cardinality(r.wall_s) FROM runs r
    JOIN scripts s ON s.id = r.script_id WHERE s.key = 'bench/cpu.py'")"
expect_eq "args reached the script" "{--size,\"1 000\"}" "$(pg_sql "SELECT DISTINCT j.args FROM jobs j
    JOIN scripts s ON s.id = j.script_id WHERE s.key = 'bench/cpu.py'")"
expect_eq "batch label, no commit" "night 1||" \
    "$(pg_sql 'SELECT label || chr(124) || "commit" || chr(124) || coalesce(commit_hash, $$$$) FROM batches')"
expect_match "hotspots stored" "bench/cpu.py:inner:" "$(pg_sql 'SELECT f.key FROM functions f')"
# schema/010: each repeat's wait for a CPU and the machine's load travel with the samples
expect_eq "contention stored for every repeat" "$((3 * hosts))" "$(pg_sql "SELECT count(*) FROM runs
    WHERE cardinality(run_delay_s) = cardinality(wall_s) AND 0 <= ALL (run_delay_s)
    AND cardinality(load1_runs) = cardinality(wall_s) AND cardinality(ctx_involuntary) = cardinality(wall_s)")"
# schema/026: the machine-speed reference timed around each repeat travels and is stored the same
# way, and the run documents the batch analysis compares (coordinator/store.h) carry it
expect_eq "machine-speed reference stored for every repeat" "$((3 * hosts))" "$(pg_sql "SELECT count(*) FROM runs
    WHERE cardinality(ref_cpu_ns) = cardinality(wall_s) AND 0 < ALL (ref_cpu_ns)")"
expect_eq "CPU self times of sampled hotspots stored" "t" "$(pg_sql "SELECT bool_or(x > 0) FROM runs r
    JOIN jobs j ON j.id = r.job_id, unnest(r.fn_self_cpu_s) x WHERE j.mode = 'sample'")"
expect_eq "trace mode counts calls" "100000" "$(pg_sql "SELECT DISTINCT rf.calls FROM run_functions rf
    JOIN functions f ON f.id = rf.function_id WHERE f.key LIKE 'bench/calls.py:f:%'")"
expect_eq "stacks stored for each run" "$((3 * hosts))" "$(pg_sql 'SELECT count(*) FROM run_stacks')"
expect_eq "sha256 of the script" "$(sha256sum "$ws/bench/sleepy.py" | cut -c1-64)" \
    "$(pg_sql "SELECT DISTINCT r.script_sha256 FROM runs r JOIN scripts s ON s.id = r.script_id
               WHERE s.key = 'bench/sleepy.py'")"
expect_eq "agents recorded" "a1,b1" "$(pg_sql "SELECT string_agg(DISTINCT agent, ',' ORDER BY agent) FROM runs")"

# status and jobs views.
expect_match "pyscope status" "batch 1 \(suite local\): done" "$(farm_cli status 1)"
expect_match "pyscope status --json" '"state": "done"' "$(farm_cli status 1 --json)"
expect_match "pyscope jobs --batch" "bench/sleepy.py" "$(farm_cli jobs --batch 1)"
st=0
farm_cli status 999 >/dev/null 2>&1 || st=$?
expect_eq "status of a missing batch" "2" "$st"

# Host selection.
if [ "$hosts" = 2 ]; then
    out=$(farm_cli submit "$T/suite.ini" --hosts farm-b --json)
    expect_match "by name: one host" '"jobs": 3' "$out"
    out=$(farm_cli submit "$T/suite.ini" --hosts role=alpha --json)
    expect_match "by label: one host" '"jobs": 3' "$out"
    farm_wait 60 '[ "$(pg_sql "SELECT count(*) FROM batches WHERE state = '"'done'"'")" = 3 ]' ||
        fail "selected batches done" "$(pg_sql 'SELECT id, state FROM batches')"
    expect_eq "by name ran on farm-b" "farm-b" "$(pg_sql 'SELECT DISTINCT h.hostname FROM runs r
        JOIN hosts h ON h.id = r.host_id WHERE r.batch_id = 2')"
    expect_eq "by label ran on farm-a" "farm-a" "$(pg_sql 'SELECT DISTINCT h.hostname FROM runs r
        JOIN hosts h ON h.id = r.host_id WHERE r.batch_id = 3')"
fi
expect_eq "spools empty" "0" "$(find "$T"/spool-* -name '*.result' | wc -l)"

# The CLI's errors: bad options, a coordinator that is not there (a timeout, not a hang).
st=0
farm_cli submit >/dev/null 2>&1 || st=$?
expect_eq "submit without a suite" "2" "$st"
st=0
farm_cli submit "$T/suite.ini" --repeat 0 >/dev/null 2>&1 || st=$?
expect_eq "submit --repeat 0" "2" "$st"
st=0
start=$SECONDS
msg=$(farm_cli hosts --coordinator "ipc://$T/nobody.sock" --timeout 1 2>&1) || st=$?
expect_eq "unreachable coordinator exit status" "4" "$st"
expect_match "unreachable coordinator message" "could not reach the coordinator" "$msg"
[ $((SECONDS - start)) -le 5 ] && ok "unreachable coordinator is quick" ||
    fail "unreachable coordinator is quick" "$((SECONDS - start)) s"
st=0
PYSCOPE_COORDINATOR="ipc://$T/nobody.sock" farm_cli status 1 --timeout 1 >/dev/null 2>&1 || st=$?
expect_eq "PYSCOPE_COORDINATOR is used" "4" "$st"
finish
