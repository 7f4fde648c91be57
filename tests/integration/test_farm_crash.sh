#!/usr/bin/env bash
# test_farm_crash.sh - no result lost or duplicated when the coordinator and the
# agents are killed with SIGKILL mid-batch (together, an agent alone, the coordinator
# alone) and restarted: every job ends with exactly one
# stored run (counted by run_id and by (job, attempt)), spools drain, all ok.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws"
n=8
{
    echo "[suite]"
    echo "name = crash"
    echo "timeout = 60"
    for i in $(seq 1 $n); do
        cat >"$ws/s$i.py" <<PY
import time
time.sleep(0.4)
print(sum(i * i for i in range(50000 * $i)))
PY
        echo "[script s$i.py]"
    done
} >"$T/suite.ini"

farm_agent_start_host farm-a a1 "$ws"
farm_agent_start_host farm-b b1 "$ws"
[ "$FARM_DISTINCT_HOSTS" = 1 ] && hosts=2 || hosts=1
jobs=$((n * hosts))
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents")" = 2 ]' || fail "agents registered" "timeout"

out=$(farm_cli submit "$T/suite.ini" --json)
expect_match "submitted" "\"jobs\": $jobs" "$out"
runs() { pg_sql "SELECT count(*) FROM runs"; }

# Round 1: kill the coordinator and agent b1 while the batch runs.
farm_wait 60 '[ "$(runs)" -ge 3 ]' || fail "first runs" "$(runs)"
kill -KILL "$COORD_PID" "${AGENT_PID[b1]}"
wait "$COORD_PID" "${AGENT_PID[b1]}" 2>/dev/null || true
echo "# killed coordinator and b1 after $(runs) runs"
sleep 2 # a1 keeps running jobs and spools their results meanwhile
farm_coord_start
farm_agent_start_host farm-b b1 "$ws"

# Round 2: kill agent a1 alone and restart it at once (same name, same spool),
# while the coordinator stays up.
farm_wait 60 '[ "$(runs)" -ge $((jobs * 3 / 8)) ]' || fail "3/8 of the runs" "$(runs)"
kill -KILL "${AGENT_PID[a1]}"
wait "${AGENT_PID[a1]}" 2>/dev/null || true
echo "# killed a1 after $(runs) runs"
farm_agent_start_host farm-a a1 "$ws"

# Round 3: kill the coordinator again while results are flowing.
farm_wait 60 '[ "$(runs)" -ge $((jobs * 5 / 8)) ]' || fail "5/8 of the runs" "$(runs)"
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
echo "# killed coordinator again after $(runs) runs"
sleep 1
farm_coord_start

done_sql="SELECT count(*) FROM batches WHERE state = 'done'"
farm_wait 150 '[ "$(pg_sql "$done_sql")" = 1 ]' ||
    { fail "batch done" "$(pg_sql 'SELECT state, count(*) FROM jobs GROUP BY 1')"; farm_logs; }

expect_eq "one run per job" "$jobs" "$(runs)"
expect_eq "distinct run ids" "$jobs" "$(pg_sql 'SELECT count(DISTINCT run_id) FROM runs')"
expect_eq "distinct jobs" "$jobs" "$(pg_sql 'SELECT count(DISTINCT job_id) FROM runs')"
expect_eq "no (job, attempt) twice" "0" "$(pg_sql 'SELECT count(*) FROM (SELECT job_id, attempt
    FROM runs GROUP BY 1, 2 HAVING count(*) > 1) x')"
expect_eq "no job with two runs" "0" "$(pg_sql 'SELECT count(*) FROM (SELECT job_id
    FROM runs GROUP BY 1 HAVING count(*) > 1) x')"
expect_eq "every job done" "$jobs" "$(pg_sql "SELECT count(*) FROM jobs WHERE state = 'done'")"
expect_eq "all ok" "ok" "$(pg_sql "SELECT string_agg(DISTINCT outcome, ',') FROM runs")"
expect_eq "every script on every host" "$jobs" \
    "$(pg_sql 'SELECT count(DISTINCT (script_id, host_id)) FROM runs')"
farm_wait 15 '[ "$(find "$T"/spool-* -name "*.result" | wc -l)" = 0 ]' && ok "spools drained" ||
    fail "spools drained" "$(find "$T"/spool-* -name '*.result')"
expect_match "spooled results were resent" "resending" "$(cat "$T"/agent-*.log)"
kill -0 "${AGENT_PID[a1]}" 2>/dev/null && ok "a1 alive" || fail "a1 alive" "dead"
kill -0 "${AGENT_PID[b1]}" 2>/dev/null && ok "b1 alive" || fail "b1 alive" "dead"
finish
