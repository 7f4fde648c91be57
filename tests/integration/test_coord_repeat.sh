#!/usr/bin/env bash
# test_coord_repeat.sh - any repeat count the suite format allows is stored (schema/007):
# results of 150 and 1000 measured runs are acked and stored, and the batch analysis
# reads a baseline that mixes such runs with small ones (runs_series_idx covers the small
# ones, runs_series_wide_idx finds the others).
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
# no confirmation runs: this test stores and reads samples, it does not judge them
printf '[coordinator]\nconfirm = 0\n' >"$T/coord.conf"
coord_start --config "$T/coord.conf"
night() { # night N RUNS: one batch of examples/a.py, its result with RUNS measured runs
    fake --name agent-r --runs "$2" --wait 5000 <<CMDS
hello
submit examples/a.py
ready 1
result $1 1
CMDS
}
out=$(night 1 3)
expect_match "night 1 (3 runs) acked" "^ack run_id=" "$out"
out=$(night 2 1000)
expect_match "night 2 (repeat = 1000) acked" "^ack run_id=" "$out"
expect_nomatch "night 2 not refused" "^error" "$out"
out=$(night 3 150)
expect_match "night 3 (150 runs) acked" "^ack run_id=" "$out"
expect_eq "the three runs stored with all their samples" "3
1000
150" "$(pg_sql "SELECT cardinality(wall_s) FROM runs ORDER BY stored_at")"
expect_eq "no store failure" 0 "$(grep -c 'could not store\|index row size' "$COORD_LOG" || true)"
out=$(night 4 3)
expect_match "night 4 acked" "^ack run_id=" "$out"
# the analysis of night 4 reads nights 1-3 as its baseline, the wide ones included
for _ in $(seq 300); do
    [ "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NOT NULL")" = 4 ] && break
    sleep 0.1
done
expect_eq "all four nights analysed" 4 "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NOT NULL")"
expect_nomatch "analysis without errors" "error" "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
