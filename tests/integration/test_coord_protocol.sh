#!/usr/bin/env bash
# test_coord_protocol.sh - Hello/Ready/Job/Result/Ack with a real DEALER client:
# rows checked in PostgreSQL, a duplicate result acked but stored once, a
# stale attempt and an unknown job refused, Query documents, restart safety.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start

RUN=0102030405060708090a0b0c0d0e0f10
UUID=01020304-0506-0708-090a-0b0c0d0e0f10
out=$(fake --name agent-a <<CMDS
ready 1 300
hello
submit examples/a.py examples/b.py
ready 2
heartbeat 1:1 2:1
result 1 1 $RUN
result 1 1 $RUN
result 2 7
result 999 1
query batch 1
CMDS
)
expect_match "ready before hello is unexpected" "^error code=unexpected message=send hello first" "$out"
expect_match "hello gets welcome" "welcome agent_id=agent-a heartbeat_ms=5000 lease_ms=30000" "$out"
expect_match "submit creates one job per entry and host" "submit_reply batch=1 jobs=2" "$out"
expect_match "ready hands out job 1" "job id=1 attempt=1 batch=1 script=examples/a.py repeat=3 mode=sample args=2" "$out"
expect_match "ready hands out job 2" "job id=2 attempt=1 batch=1 script=examples/b.py" "$out"
expect_eq "result acked twice (duplicate too)" 2 "$(grep -c "^ack run_id=$UUID" <<<"$out")"
expect_match "stale attempt refused" "error code=stale_attempt" "$out"
expect_match "unknown job refused" "error code=unknown_job" "$out"

expect_eq "host registered" "00112233aabbccdd|host-00112233aabbccdd|{\"pool\": \"test\"}" \
    "$(pg_sql "SELECT fingerprint, hostname, labels FROM hosts")"
expect_eq "agent registered" "agent-a|3.11.2" "$(pg_sql "SELECT name, python_version FROM agents")"
expect_eq "run stored once" "1" "$(pg_sql "SELECT count(*) FROM runs")"
expect_eq "run row" "$UUID|1|1|ok|{1,1.1,1.05}|{1000000,1000100,1000050}|3.11.2 (main) [GCC 12.2.0]|agent-a" \
    "$(pg_sql "SELECT run_id, job_id, attempt, outcome, wall_s, peak_rss_bytes, python_build, agent FROM runs")"
expect_eq "20 functions stored" "20" "$(pg_sql "SELECT count(*) FROM run_functions")"
expect_eq "function samples kept in order" "{0.02,0.021,0.022}" \
    "$(pg_sql "SELECT f.self_s_runs FROM run_functions f JOIN functions k ON k.id = f.function_id WHERE k.key = 'bench.py:f1:11'")"
expect_eq "stacks stored" "2" "$(pg_sql "SELECT jsonb_array_length(stacks->'stacks') FROM run_stacks")"
expect_eq "job 1 done, job 2 leased" "1|done|1|
2|leased|1|agent-a" "$(pg_sql "SELECT id, state, attempt, lease_owner FROM jobs ORDER BY id")"
expect_eq "batch still running" "running" "$(pg_sql "SELECT state FROM batches WHERE id = 1")"

doc=$(grep '^query_reply' <<<"$out" | sed 's/^query_reply //')
expect_eq "batch query document" "pyscope.batch/1 2 1 1 1" \
    "$(json_get 'd["schema"], d["batch"]["jobs"]["total"], d["batch"]["jobs"]["done"], d["batch"]["jobs"]["leased"], d["batch"]["runs"]' <<<"$doc" | tr -d '(),'"'")"
expect_eq "counters in the query" "1 1 1 1 1" \
    "$(json_get '" ".join(str(d["coordinator"]["counters"][k]) for k in ("results_stored", "results_duplicate", "stale_attempt", "unknown_job", "unexpected"))' <<<"$doc")"

# The coordinator is killed mid-batch; a restarted one accepts the result (state is in Postgres).
kill -KILL "$COORD_PID"; wait "$COORD_PID" 2>/dev/null || true; COORD_PID=""
coord_start
out=$(fake --name agent-a <<CMDS
result 2 1 - ok examples/b.py
hello
result 2 1 - ok examples/b.py
query jobs
query hosts
CMDS
)
expect_match "after a restart, result before hello is unexpected" "^error code=unexpected" "$out"
expect_match "after hello again, the result is acked" "^ack run_id=" "$out"
expect_eq "batch done" "done" "$(pg_sql "SELECT state FROM batches WHERE id = 1")"
expect_eq "both jobs done" "done done" "$(pg_sql "SELECT string_agg(state, ' ' ORDER BY id) FROM jobs")"
jobs=$(grep '^query_reply' <<<"$out" | head -1 | sed 's/^query_reply //')
expect_eq "jobs query document" "pyscope.jobs/1 2 done ok" \
    "$(json_get '" ".join(map(str, [d["schema"], len(d["jobs"]), d["jobs"][0]["state"], d["jobs"][0]["outcome"]]))' <<<"$jobs")"
hosts=$(grep '^query_reply' <<<"$out" | tail -1 | sed 's/^query_reply //')
expect_eq "hosts query document" "pyscope.hosts/1 00112233aabbccdd agent-a test" \
    "$(json_get '" ".join([d["schema"], d["hosts"][0]["fingerprint"], d["hosts"][0]["agents"][0]["name"], d["hosts"][0]["labels"]["pool"]])' <<<"$hosts")"

# A host selector by name: only the named agent's host gets jobs.
out=$(fake --name agent-b --fingerprint 99887766554433aa <<CMDS
hello
submit examples/c.py @agent-b
CMDS
)
expect_match "submit to one named agent" "submit_reply batch=2 jobs=1" "$out"
expect_eq "job on agent-b's host" "99887766554433aa" \
    "$(pg_sql "SELECT h.fingerprint FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE j.batch_id = 2")"

coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
