#!/usr/bin/env bash
# test_team_ongoing.sh - one slowdown is one row, dated on the night it began.
# Night 6 slows one function of a.py on host-b by 30% (confirmed by its
# re-run: 4 rows, wall, cpu, slow() total and self). Night 7 is as slow: it
# re-queues nothing, adds no row and attaches to the open ones (nights 2, last
# batch 7, last run night 7's, batch (since) 6). Analysing nights 6 and 7
# again (as after a restart, or a second coordinator) changes nothing, and
# the database itself refuses a second open row (schema/014). Night 8 slows
# it further (+60% over the old level: a second step): a new finding, re-queued
# to confirm, stored on night 8, and the night-6 rows end there. Once triaged
# 'fixed', a slowdown is a new regression again.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

source "$PYSCOPE_SRC/tests/integration/team_lib.sh"
pg_start
coord_start
for n in 1 2 3 4 5 6; do team_seed team_seed.sql "$n" 6 30; done
expect_eq "night 6: re-queued to confirm" 1 "$(team_settled)"
team_seed team_confirm.sql 6 6 30
expect_eq "night 6 settled" 0 "$(team_settled)"
expect_eq "night 6: 4 regressions" 4 "$(pg_sql "SELECT count(*) FROM regressions WHERE kind = 'regression'")"

team_seed team_seed.sql 7 7 30
expect_eq "night 7: nothing re-queued (the regression is open)" 0 "$(team_settled)"
expect_eq "night 7: no new row" 4 "$(pg_sql "SELECT count(*) FROM regressions")"
expect_eq "attached: since batch 6, last batch 7, 2 nights" "6 7 2" \
    "$(pg_sql "SELECT DISTINCT batch_id || ' ' || last_batch_id || ' ' || nights FROM regressions")"
expect_eq "last run is night 7's" 1 \
    "$(pg_sql "SELECT count(DISTINCT g.last_run) FROM regressions g JOIN runs r ON r.run_id = g.last_run WHERE r.batch_id = 7")"
expect_match "log: 4 ongoing" "batch 7 analysed \(pass 1\): 4 series, [0-9]+ tests, 4 regressions, 0 improvements \(4 ongoing\), 0 ended" "$(cat "$COORD_LOG")"

# Analysed again (both passes of night 6, night 7): the same rows, the same nights.
pg_sql "UPDATE batches SET analyzed = NULL WHERE id IN (6, 7)" >/dev/null
expect_eq "re-analysis queues nothing" 0 "$(team_settled)"
expect_eq "re-analysis: still 4 rows, since 6, last 7, 2 nights" "4 6 7 2" \
    "$(pg_sql "SELECT count(*) || ' ' || min(batch_id) || ' ' || max(last_batch_id) || ' ' || max(nights) FROM regressions")"
pg_sql "UPDATE batches SET analyzed = NULL, analysis_pass = 0 WHERE id = 7" >/dev/null
expect_eq "first pass again: nothing re-queued" 0 "$(team_settled)"
expect_eq "first pass again: still 4 rows, 2 nights" "4 2" \
    "$(pg_sql "SELECT count(*) || ' ' || max(nights) FROM regressions")"
expect_eq "confirmation queued once per job" 1 "$(pg_sql "SELECT count(*) FROM jobs WHERE purpose = 'confirm'")"
# The database refuses a second open row of one finding, whoever inserts it.
dup=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "INSERT INTO regressions (batch_id, script_id, host_id,
    python_build, metric, function_key, kind, mode, change_pct, baseline_median, candidate_median,
    baseline_runs, candidate_run, last_batch_id, last_run)
    SELECT 7, script_id, host_id, python_build, metric, function_key, kind, mode, change_pct,
           baseline_median, candidate_median, baseline_runs, last_run, 7, last_run
    FROM regressions WHERE metric = 'wall_s'" 2>&1) && dup_rc=0 || dup_rc=$?
expect_eq "a second open row is refused" 1 "$dup_rc"
expect_match "by the open-finding index" "regressions_open_idx" "$dup"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 7 --json
expect_eq "report of night 7 exits 0" 0 "$RC"
expect_eq "report of night 7: each regression once, ongoing since batch 6, 2 nights" "4 6 2" \
    "$(echo "$OUT" | json_get "'%d %s %s' % (len(d['report']['regressions']), ','.join(sorted({str(g['batch_id']) for g in d['report']['regressions']})), ','.join(sorted({str(g['nights']) for g in d['report']['regressions']})))")"

# A second step (+60% of the old level, +23% over night 7): a new finding of its own night.
team_seed team_seed.sql 8 8 60
expect_eq "night 8: a new step is re-queued to confirm" 1 "$(team_settled)"
expect_eq "night 8: nothing stored before its confirmation" 4 "$(pg_sql "SELECT count(*) FROM regressions")"
team_seed team_confirm.sql 8 8 60
expect_eq "night 8 settled" 0 "$(team_settled)"
expect_eq "night 8: its own wall-time row, confirmed" "1 confirmed" \
    "$(pg_sql "SELECT count(*) || ' ' || min(state) FROM regressions WHERE batch_id = 8 AND metric = 'wall_s'")"
expect_eq "night 6's rows end on night 8" "8" \
    "$(pg_sql "SELECT string_agg(DISTINCT ended_batch_id::text, ',') FROM regressions WHERE batch_id = 6")"
expect_eq "one open row per finding" 0 \
    "$(pg_sql "SELECT count(*) FROM (SELECT 1 FROM regressions WHERE ended_batch_id IS NULL GROUP BY script_id, host_id, metric, function_key, kind HAVING count(*) > 1) x")"

# Fixed: the next slow night is news again.
for id in $(pg_sql "SELECT id FROM regressions WHERE ended_batch_id IS NULL ORDER BY id"); do
    capture "$CLI" triage "$id" fixed
done
team_seed team_seed.sql 9 9 90
expect_eq "night 9: a new first-time regression is re-queued" 1 "$(team_settled)"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
