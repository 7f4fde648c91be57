#!/usr/bin/env bash
# test_coord_lease.sh - leases: heartbeats renew them, an expired lease goes
# back to the queue and the next claim gets attempt+1, the old attempt is
# refused, a job out of attempts fails, an agent-side error is retried.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

cat >"$T/coord.conf" <<'CONF'
; short leases for the test
[coordinator]
heartbeat_ms = 200
lease_ms = 2000
reap_interval_ms = 100
dispatch_interval_ms = 100
peer_timeout_ms = 60000
max_attempts = 2
stats_interval_s = 1
CONF
pg_start
coord_start --config "$T/coord.conf"

state() { pg_sql "SELECT state || ' ' || attempt FROM jobs WHERE id = $1"; }

out=$(fake --name agent-a <<'CMDS'
hello
submit examples/a.py
ready 1
CMDS
)
expect_match "welcome carries the configured lease" "lease_ms=2000" "$out"
expect_match "first claim is attempt 1" "job id=1 attempt=1" "$out"
for _ in 1 2 3 4 5; do
    sleep 0.5
    fake --name agent-a >/dev/null <<'CMDS'
hello
heartbeat 1:1
CMDS
done
expect_eq "heartbeats keep the lease past its length" "leased 1" "$(state 1)"

sleep 3
expect_eq "an expired lease is requeued, attempt kept" "queued 1" "$(state 1)"
expect_match "reaping logged" "expired leases returned to the queue" "$(cat "$COORD_LOG")"

out=$(fake --name agent-a <<'CMDS'
hello
ready 1
result 1 1
CMDS
)
expect_match "the next claim is attempt 2" "job id=1 attempt=2" "$out"
expect_match "the old attempt's result is refused" "error code=stale_attempt" "$out"
sleep 3
expect_eq "out of attempts: failed" "failed 2" "$(state 1)"
expect_eq "the batch is over" "done" "$(pg_sql "SELECT state FROM batches WHERE id = 1")"
out=$(fake --name agent-a <<'CMDS'
hello
result 1 2
CMDS
)
expect_match "a result for a failed job is refused" "error code=stale_attempt" "$out"
expect_eq "nothing stored for job 1" 0 "$(pg_sql "SELECT count(*) FROM runs WHERE job_id = 1")"

# An agent-side error is retried while attempts remain.
out=$(fake --name agent-a <<'CMDS'
hello
submit examples/e.py
ready 1
result 2 1 - error
ready 1
result 2 2 - ok
CMDS
)
expect_match "errored attempt acked" "job id=2 attempt=1" "$out"
expect_match "retried as attempt 2" "job id=2 attempt=2" "$out"
expect_eq "both results acked" 2 "$(grep -c '^ack' <<<"$out")"
expect_eq "job done after the retry" "done 2" "$(state 2)"
expect_eq "both runs kept" "error ok" "$(pg_sql "SELECT string_agg(outcome, ' ' ORDER BY attempt) FROM runs WHERE job_id = 2")"
expect_match "counters logged periodically" "counters: .*\"leases_reaped\":[1-9]" "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
