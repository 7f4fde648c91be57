#!/usr/bin/env bash
# test_team_cpu_only.sh - load cannot confirm a regression (issue 11): a night whose
# CPU time jumps while the wall time, which decides the run, does not, is no finding.
# The fresh-clone CI once found, in test_team_farm under load, a "confirmed,
# bracketed" +19.4% CPU-time regression of an unchanged script (examples'
# slow_script.py: 0.39 s of CPU in 1.55 s) on farm-b at night 6, while its wall time
# moved +7% (the run's decision: "within_threshold", no change) and the reference
# script bracketing the confirmation moved +0.7%: a re-run minutes later on the same
# busy host repeats what the load does to CPU time. The old rule stored every
# metric's regression; the farm now alerts on wall or CPU time only when the metric
# deciding the run agrees (coordinator/analysis.c, not_deciding()). Seeded with those
# figures (tests/integration/team_cpu_only.sql), analysed by the real coordinator on
# PostgreSQL (threshold 10%, as test_team_farm's suite):
#   night 6: host-b's a.py wall +8%, CPU +29%; (were it re-run: wall +7%, CPU +19%):
#     no finding, nothing queued, listed as inconclusive (rule not_deciding, both figures);
#   night 7: a.py really 30% slower on host-b (wall and CPU): still queued, confirmed
#     (bracketed), dated night 7;
#   night 8: the same CPU-only jump on host-a: no finding either.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

pg_start
coord_start
for n in 1 2 3 4 5; do team_night 0 "$n" host-a 0 0; done
expect_eq "quiet nights: nothing queued" 0 "$(team_settled)"

team_night 0 6 host-b 8 29
queued=$(team_settled)
# the old rule queued a.py's confirmation here, then confirmed CPU time +19%
[ "$queued" = 0 ] || team_night 1 6 host-b 7 19
team_settled >/dev/null
expect_eq "night 6: CPU time up, wall time (deciding) not: nothing queued to confirm" 0 "$queued"
expect_eq "night 6: no finding" 0 "$(pg_sql "SELECT count(*) FROM regressions")"
expect_eq "night 6: listed as unsettled, CPU time, rule not_deciding, both figures" \
    "6 host-b cpu_s not_deciding true true" \
    "$(pg_sql "SELECT u.batch_id || ' ' || h.hostname || ' ' || u.metric || ' ' || u.rule || ' ' || ((u.detail->>'change_pct')::float8 BETWEEN 25 AND 33) || ' ' || (u.detail->'decision'->>'metric' = 'wall_s') FROM unsettled u JOIN hosts h ON h.id = u.host_id")"
expect_match "night 6: its reason says the wall time decides and found no change" \
    "CPU time \+2[0-9.]+% \(regression\) but the wall time decides and found no change \(\+[0-9.]+%\)" \
    "$(pg_sql "SELECT detail->>'reason' FROM unsettled")"

team_night 0 7 host-b 30 30
expect_eq "night 7: a real +30% slowdown is queued to confirm (reference, a.py, reference)" 3 \
    "$(team_settled)"
team_night 1 7 host-b 30 30
team_settled >/dev/null
expect_eq "night 7: confirmed, bracketed, on host-b, wall time about +30%" \
    "7 host-b confirmed bracketed true" \
    "$(pg_sql "SELECT g.batch_id || ' ' || h.hostname || ' ' || g.state || ' ' || (g.confirmation->>'method') || ' ' || (g.change_pct BETWEEN 20 AND 40) FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE g.metric = 'wall_s'")"

team_night 0 8 host-a 8 29
queued=$(team_settled)
[ "$queued" = 0 ] || team_night 1 8 host-a 7 19
team_settled >/dev/null
expect_eq "night 8: the same CPU-only jump on host-a queues nothing" 0 "$queued"
expect_eq "nothing found but night 7's slowdown on host-b" "" \
    "$(pg_sql "SELECT g.batch_id || ' ' || h.hostname || ' ' || g.metric FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE NOT (g.batch_id = 7 AND h.hostname = 'host-b')")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
capture "$CLI" report --batch 6 --json --coordinator "$COORD_EP"
expect_eq "the team report of night 6: no regression, a.py on host-b inconclusive (not_deciding)" \
    "0 examples/a.py host-b cpu_s not_deciding" \
    "$(echo "$OUT" | json_get "' '.join([str(len(d['report']['regressions']))] + [x for u in d['report']['inconclusive'] for x in (u['script'], u['host'], u['metric'], u['rule'])])")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
