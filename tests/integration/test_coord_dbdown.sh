#!/usr/bin/env bash
# test_coord_dbdown.sh - PostgreSQL goes away under a running coordinator:
# results get ERROR_INTERNAL (never an ack), the coordinator keeps serving,
# and once the database is back the resent result is stored and acked.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start
out=$(fake --name agent-a <<'CMDS'
hello
submit examples/a.py
ready 1
CMDS
)
expect_match "job leased" "job id=1 attempt=1" "$out"

pg_pause
RUN=00000000000000000000000000000abc
out=$(fake --name agent-a <<CMDS
hello
CMDS
)
expect_match "hello while the database is down" "^error code=internal" "$out"
kill -0 "$COORD_PID" && ok "coordinator alive without its database" || fail "alive" "gone"

pg_resume
out=$(fake --name agent-a <<CMDS
hello
result 1 1 $RUN
CMDS
)
expect_match "hello works again" "^welcome" "$out"
expect_match "result stored once the database is back" "^ack run_id=00000000-0000-0000-0000-000000000abc" "$out"
expect_eq "run stored" 1 "$(pg_sql "SELECT count(*) FROM runs")"

# A crash of PostgreSQL right after a commit: the result is there after restart.
pg_restart
expect_eq "run survives a server crash" 1 "$(pg_sql "SELECT count(*) FROM runs")"
expect_match "database failures logged" "could not register an agent: database error" "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
