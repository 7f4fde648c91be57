#!/usr/bin/env bash
# test_team_improve.sh - an improvement needs the same evidence as a regression (issue 11).
# The farm once reported a -20.9% wall-time "improvement" of an unchanged script on a busy
# host, unconfirmed: the first analysis stored every improvement on the spot while a
# regression was re-run first. Now a first-seen improvement is re-run the same way
# (bracketed by the reference), stored "confirmed" when the re-run sees it again, and
# held out ("dismissed") when it does not (coordinator/analysis.c, decide_results()).
# Seeded history (tests/integration/team_cpu_only.sql: a.py 1.55 s wall, 0.39 s CPU,
# about 1% noise), analysed by the real coordinator on PostgreSQL:
#   night 6: a.py really 25% faster on host-b (wall and CPU): queued to confirm
#     (reference, a.py, reference), then confirmed (bracketed), dated night 6;
#   night 7: a.py 25% faster on host-a for that night only (its confirmation run is back
#     at the usual speed): nothing stored, the night held out as dismissed;
#   night 8: a.py 25% slower on host-a, its confirmation 25% faster: nothing stored, held
#     out by rule unconfirmed (the confirmation must agree with the nightly run).
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

pg_start
coord_start
for n in 1 2 3 4 5; do team_night 0 "$n" host-a 0 0; done
expect_eq "quiet nights: nothing queued" 0 "$(team_settled)"

team_night 0 6 host-b -25 -25
queued=$(team_settled)
expect_eq "night 6: a first-seen improvement is queued to confirm (reference, a.py, reference)" \
    3 "$queued"
expect_eq "night 6: nothing stored before its confirmation" 0 \
    "$(pg_sql "SELECT count(*) FROM regressions")"
[ "$queued" = 0 ] || team_night 1 6 host-b -25 -25
team_settled >/dev/null
expect_eq "night 6: confirmed improvement on host-b, 2 runs, bracketed, about -25%" \
    "6 host-b improvement confirmed 2 bracketed true" \
    "$(pg_sql "SELECT g.batch_id || ' ' || h.hostname || ' ' || g.kind || ' ' || g.state || ' ' || g.confirm_runs || ' ' || (g.confirmation->>'method') || ' ' || (g.change_pct BETWEEN -30 AND -20) FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE g.metric = 'wall_s'")"

team_night 0 7 host-a -25 -25
queued=$(team_settled)
expect_eq "night 7: host-a's one-night improvement is queued to confirm too" 3 "$queued"
[ "$queued" = 0 ] || team_night 1 7 host-a 0 0
team_settled >/dev/null
expect_eq "night 7: not confirmed: nothing stored for host-a" 0 \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE h.hostname = 'host-a'")"
expect_eq "night 7: held out of later baselines as dismissed" "7 host-a dismissed" \
    "$(pg_sql "SELECT x.batch_id || ' ' || h.hostname || ' ' || x.reason FROM held_out x JOIN hosts h ON h.id = x.host_id WHERE h.hostname = 'host-a'")"

# night 8: host-a's nightly run 25% slower, its confirmation 25% faster (stranger11 D1:
# the drift-corrected confirmation of an unchanged script once turned a nightly +33.6%
# into a "confirmed improvement" of -26.7%): two runs that disagree are no finding
team_night 0 8 host-a 25 25
queued=$(team_settled)
expect_eq "night 8: host-a's one-night slowdown is queued to confirm" 3 "$queued"
[ "$queued" = 0 ] || team_night 1 8 host-a -25 -25
team_settled >/dev/null
expect_eq "night 8: the confirmation points the other way: nothing stored for host-a" 0 \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE h.hostname = 'host-a'")"
expect_eq "night 8: held out as inconclusive by rule unconfirmed, the nightly change said" \
    "8 inconclusive unconfirmed true" \
    "$(pg_sql "SELECT x.batch_id || ' ' || x.reason || ' ' || (x.detail->>'rule') || ' ' || ((x.detail->>'nightly_change_pct')::float8 BETWEEN 20 AND 30) FROM held_out x JOIN hosts h ON h.id = x.host_id WHERE h.hostname = 'host-a' AND x.batch_id = 8")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
capture "$CLI" report --batch 6 --json --coordinator "$COORD_EP"
expect_eq "the team report of night 6: one improvement (wall), confirmed, no regression" \
    "0 examples/a.py host-b confirmed 2" \
    "$(echo "$OUT" | json_get "' '.join([str(len(d['report']['regressions']))] + [str(x) for g in d['report']['improvements'] if g['metric'] == 'wall_s' for x in (g['script'], g['host'], g['state'], g['confirm_runs'])])")"
capture "$CLI" report --batch 6 --text --coordinator "$COORD_EP"
expect_match "the text report says how it was confirmed" \
    "confirmed \(bracketed by [^ ]+, the machine's CPU drift [+-][0-9]+\.[0-9]% divided out\)" "$OUT"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
