#!/usr/bin/env bash
# test_team_drift_nights.sh - a confirmation judges every night at the machine's speed of
# the baseline: each baseline night is corrected by its own nightly reference runs, as the
# re-run is by the reference runs bracketing it (coordinator/analysis.c, correct_baseline()).
# In CI the machine slowed over test_team_farm's nine nights (the reference's CPU time 0.20
# -> 0.33 s, the unchanged script's with it): left in the baseline, that drift made the
# noise floor +-25% and a real +30% "within noise". Seeded history
# (tests/integration/team_cpu_only.sql: a.py 1.55 s wall, 0.39 s CPU, ~1% noise, threshold
# 10%; the reference examples/ref.py, CPU-bound), analysed by the real coordinator on
# PostgreSQL:
#   nights 1-6: nothing changes, but every other night the machine is 60% slower (every
#               script's CPU time +60%, the reference's too): a.py's wall time +15% then (a
#               night the coordinator re-runs is re-run at that speed);
#   night 7:    a.py +20% on host-b (its CPU and sleep), the machine at its usual speed; the
#               nightly run is inside the drifting baseline's floor and is re-run; the re-run,
#               against nights corrected by their references, is a confirmed regression.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

pg_start
coord_start
for n in 1 2 3 4 5 6; do
    # a slow night may be re-run (by the coordinator's choice): the machine as slow then
    team_night 0 "$n" host-b 0 0 $(((n % 2) * 60))
    if [ "$(team_settled)" != 0 ]; then
        team_night 1 "$n" host-b 0 0 $(((n % 2) * 60))
        team_settled >/dev/null
    fi
done
expect_eq "nights 1-6: no finding" 0 "$(pg_sql "SELECT count(*) FROM regressions")"

team_night 0 7 host-b 20 20 0
team_settled >/dev/null
expect_eq "night 7: host-b's a.py is re-run (its nightly run alone settles nothing)" 1 \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN hosts h ON h.id = j.host_id
               JOIN scripts s ON s.id = j.script_id WHERE j.state = 'queued'
               AND j.purpose = 'confirm' AND h.hostname = 'host-b' AND s.key = 'examples/a.py'")"
pg_sql "SELECT 'night 7 nightly: ' || u.rule || ' ' || left(u.detail->>'reason', 200)
        FROM unsettled u WHERE u.batch_id = (SELECT max(id) FROM batches)" | sed "s/^/# /"
team_night 1 7 host-b 20 20 0
team_settled >/dev/null
pg_sql "SELECT 'held ' || x.reason || ' ' || left(x.detail::text, 600) FROM held_out x" |
    sed "s/^/# /"
expect_eq "night 7: a confirmed regression of a.py's wall time on host-b, about +20%" \
    "examples/a.py host-b confirmed 1" \
    "$(pg_sql "SELECT s.key || ' ' || h.hostname || ' ' || g.state || ' '
               || (abs(g.change_pct - 20) < 4)::int FROM regressions g
               JOIN hosts h ON h.id = g.host_id JOIN scripts s ON s.id = g.script_id
               WHERE g.metric = 'wall_s' AND coalesce(g.function_key, '') = ''")"
expect_eq "its confirmation: bracketed, the 6 baseline nights corrected" \
    "bracketed 6" \
    "$(pg_sql "SELECT (g.confirmation->>'method') || ' ' || (g.confirmation->>'nights_corrected')
               FROM regressions g WHERE g.metric = 'wall_s' AND coalesce(g.function_key, '') = ''")"
expect_eq "nothing on host-a" 0 \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN hosts h ON h.id = g.host_id
               WHERE h.hostname = 'host-a'")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
