#!/usr/bin/env bash
# test_team_ongoing.sh - a regression that is still there the next night is
# reported once: night 6 slows one function of a.py on host-b (confirmed by
# its re-run, 4 rows: wall, cpu, slow() total and self); night 7 is slower still.
# Night 7 re-queues nothing (the regression is open), adds no row, and
# attaches to the open ones: nights 2, last batch 7, last run night 7's run,
# batch (since) 6. The report of night 7 lists each once, with nights = 2.
# Once triaged 'fixed', a slowdown is a new regression again.
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

team_seed team_seed.sql 7 7 60
expect_eq "night 7: nothing re-queued (the regression is open)" 0 "$(team_settled)"
expect_eq "night 7: no new row" 4 "$(pg_sql "SELECT count(*) FROM regressions")"
expect_eq "attached: since batch 6, last batch 7, 2 nights" "6 7 2" \
    "$(pg_sql "SELECT DISTINCT batch_id || ' ' || last_batch_id || ' ' || nights FROM regressions")"
expect_eq "last run is night 7's" 1 \
    "$(pg_sql "SELECT count(DISTINCT g.last_run) FROM regressions g JOIN runs r ON r.run_id = g.last_run WHERE r.batch_id = 7")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 7 --json
expect_eq "report of night 7 exits 0" 0 "$RC"
expect_eq "report of night 7: each regression once, ongoing since batch 6, 2 nights" "4 6 2" \
    "$(echo "$OUT" | json_get "'%d %s %s' % (len(d['report']['regressions']), ','.join(sorted({str(g['batch_id']) for g in d['report']['regressions']})), ','.join(sorted({str(g['nights']) for g in d['report']['regressions']})))")"

# Fixed: the next slow night is news again.
for id in $(pg_sql "SELECT id FROM regressions ORDER BY id"); do
    capture "$CLI" triage "$id" fixed
done
team_seed team_seed.sql 8 8 30
expect_eq "night 8: a new first-time regression is re-queued" 1 "$(team_settled)"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
