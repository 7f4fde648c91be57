#!/usr/bin/env bash
# test_coord_analyst.sh - a batch analysis, however long, does not hold up the
# coordinator's loop: it runs in a thread of its own. Here the analysis is made
# to wait for a lock on the regressions table (held by another session) while
# an agent registers, takes a job and sends its result: all answered at once.
# When the lock goes, the batch is analysed.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start
psql -X -q -c "BEGIN" -c "LOCK TABLE regressions IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
locker=$!

# Batch 1 ends: the analyst takes it and waits for the lock.
out=$(fake --name agent-a --wait 10000 <<'CMDS'
hello
submit one.py
ready 1
CMDS
)
expect_match "job of batch 1" "job id=1 attempt=1" "$out"
out=$(fake --name agent-a --wait 10000 <<'CMDS'
hello
result 1 1 00000000000000000000000000000001 ok one.py
CMDS
)
expect_match "result of batch 1 acked" "^ack run_id=" "$out"
waiting=0
for _ in $(seq 200); do
    # a lock on regressions asked for and not granted (pg_stat_activity.query shows only the
    # first 1 KB of a statement: the analysis's names the table further on)
    waiting=$(pg_sql "SELECT count(DISTINCT pid) FROM pg_locks
                      WHERE relation = 'regressions'::regclass AND NOT granted")
    [ "$waiting" -ge 1 ] && break
    sleep 0.1
done
expect_eq "the analysis waits for the lock" 1 "$waiting"

# Meanwhile the loop serves: a new batch, its job, its result.
out=$(fake --name agent-b --fingerprint 00000000000000bb --wait 10000 <<'CMDS'
hello
submit two.py @agent-b
ready 1
CMDS
)
expect_match "welcome during the analysis" "^welcome" "$out"
expect_match "job handed out during the analysis" "job id=[0-9]+ attempt=1 batch=2" "$out"
job=$(grep '^job' <<<"$out" | sed -E 's/.*id=([0-9]+).*/\1/')
out=$(fake --name agent-b --fingerprint 00000000000000bb --wait 10000 <<CMDS
hello
result $job 1 00000000000000000000000000000002 ok two.py
CMDS
)
expect_match "result acked during the analysis" "^ack run_id=" "$out"
expect_eq "batch 1 not analysed yet" "" "$(pg_sql "SELECT analyzed FROM batches WHERE id = 1")"

# The lock goes: both batches get analysed.
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(300)%'
        AND pid <> pg_backend_pid()" >/dev/null
wait "$locker" 2>/dev/null || true
for _ in $(seq 100); do
    [ "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NOT NULL")" = 2 ] && break
    sleep 0.1
done
expect_eq "both batches analysed once the lock is gone" 2 \
    "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NOT NULL")"
expect_match "analysis logged" "batch 1 analysed" "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
