#!/usr/bin/env bash
# test_team_function_alone.sh - a function's change is no finding of its own: it explains its
# script's finding (coordinator/analysis.c, drop_function_rows(); docs/DESIGN.md §7).
# test_team_farm's team report once held, for its slowed night on farm-b, only slow()'s total
# and self time "confirmed +26.6%": no wall- or CPU-time finding, an empty why; the wall time,
# which decides, was not found slower. Seeded history (tests/integration/team_cpu_only.sql:
# a.py 1.55 s wall, 0.39 s CPU, hotspots slow() and fast() (0.05 s), threshold 10%), analysed
# by the real coordinator on PostgreSQL:
#   night 6: host-b's a.py CPU time +29% (the series is compared in full, with its hotspots),
#     its wall time (deciding) unchanged, and inside it fast() takes 0.5 s, slow() 0.45 s
#     less: no finding of the script, so none of fast() (slower) or slow() (faster) either,
#     and nothing queued to confirm (the old rule queued it and stored both functions' rows,
#     "confirmed"); listed as inconclusive by its CPU time (rule not_deciding);
#   night 7: a.py really 30% slower on host-b: the wall- and CPU-time findings, confirmed,
#     and slow()'s rows beside them (where the time went).
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

findings() { # the findings of night $1: metric, function, kind, state; one a line, sorted
    pg_sql "SELECT g.metric || ' ' || coalesce(nullif(g.function_key, ''), '-') || ' ' || g.kind
            || ' ' || g.state FROM regressions g JOIN batches b ON b.id = g.batch_id
            WHERE b.label = 'night $1' ORDER BY 1"
}

pg_start
coord_start
for n in 1 2 3 4 5; do team_night 0 "$n" host-a 0 0; done
expect_eq "quiet nights: nothing queued" 0 "$(team_settled)"

team_night 0 6 host-b 0 29 -v fast=0.5
queued=$(team_settled)
# the old rule queued a.py's confirmation here for its functions' rows, then stored them
[ "$queued" = 0 ] || team_night 1 6 host-b 0 29 -v fast=0.5
team_settled >/dev/null
findings 6 | sed "s/^/# night 6: /"
expect_eq "night 6: only functions moved (the wall time did not): nothing queued to confirm" 0 \
    "$queued"
expect_eq "night 6: no finding, of the script or of a function" "" "$(findings 6)"
expect_eq "night 6: listed as inconclusive by its CPU time (rule not_deciding)" \
    "host-b cpu_s not_deciding" \
    "$(pg_sql "SELECT h.hostname || ' ' || u.metric || ' ' || u.rule FROM unsettled u
               JOIN hosts h ON h.id = u.host_id JOIN batches b ON b.id = u.batch_id
               WHERE b.label = 'night 6'")"

team_night 0 7 host-b 30 30
expect_eq "night 7: a real +30% slowdown is queued to confirm (reference, a.py, reference)" 3 \
    "$(team_settled)"
team_night 1 7 host-b 30 30
team_settled >/dev/null
findings 7 | sed "s/^/# night 7: /"
expect_eq "night 7: the wall and CPU time confirmed, slow()'s total and self time beside them" \
    "cpu_s - regression confirmed
self_s examples/a.py:slow:3 regression confirmed
total_s examples/a.py:slow:3 regression confirmed
wall_s - regression confirmed" "$(findings 7)"

CLI="$PYSCOPE_BUILD/cli/pyscope"
capture "$CLI" report --batch 6 --json --coordinator "$COORD_EP"
expect_eq "the team report of night 6: no regression, no improvement" "0 0" \
    "$(echo "$OUT" | json_get "'%d %d' % (len(d['report']['regressions']), len(d['report']['improvements']))")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
