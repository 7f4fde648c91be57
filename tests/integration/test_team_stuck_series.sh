#!/usr/bin/env bash
# test_team_stuck_series.sh - a night held out of a series' baseline rejoins it after
# ANALYSIS_HOLD_NIGHTS (3) more nights (coordinator/analysis.h). Held out for good, a noisy
# series' baseline never grew: a stranger's farm demo kept a three-night baseline with a
# +-187% noise floor, and every later night (beyond the threshold, inside that floor) was
# re-run, not settled, and held out in turn. Seeded history
# (tests/integration/team_cpu_only.sql: a.py 1.55 s wall, ~1% noise; threshold 10%),
# analysed by the real coordinator on PostgreSQL:
#   night 1: a.py's wall time +50% on host-b (a busy night); nights 2-3 quiet: a
#            three-run baseline whose noise floor is hundreds of percent wide;
#   nights 4-7: host-b's a.py +20%: beyond the threshold, inside that floor: each re-run
#            (reference, a.py, reference), not settled by its confirmation, held out;
#   night 8: night 4 has 3 nights after it and rejoins the baseline (its nightly and its
#            confirmation run, beside nights 1-3): +20% is within the threshold of that
#            baseline's median: nothing re-run, nothing held out.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

held() {
    pg_sql "SELECT count(*) FROM held_out x JOIN hosts h ON h.id = x.host_id
            JOIN scripts s ON s.id = x.script_id
            WHERE h.hostname = 'host-b' AND s.key = 'examples/a.py' AND x.reason = 'inconclusive'"
}

pg_start
coord_start
team_night 0 1 host-b 50 0
for n in 2 3; do team_night 0 "$n" host-b 0 0; done
expect_eq "nights 1-3: nothing queued" 0 "$(team_settled)"
for n in 4 5 6 7; do
    team_night 0 "$n" host-b 20 0
    expect_eq "night $n: +20% inside the busy night's floor is re-run (reference, a.py, reference)" \
        3 "$(team_settled)"
    team_night 1 "$n" host-b 20 0
    team_settled >/dev/null
    expect_eq "night $n: its confirmation did not settle it: held out" $((n - 3)) "$(held)"
done
expect_eq "nights 4-7: no finding stored" 0 "$(pg_sql "SELECT count(*) FROM regressions")"

team_night 0 8 host-b 20 0
expect_eq "night 8: night 4 is back in the baseline: within the threshold, nothing re-run" 0 \
    "$(team_settled)"
expect_eq "night 8: not held out" 4 "$(held)"
expect_eq "night 8: a.py on host-b compared with a baseline that has night 4 in it (median +20%)" \
    "within_noise true true" \
    "$(pg_sql "SELECT u.rule || ' ' || (abs((u.detail->>'change_pct')::float8) < 10) || ' '
               || ((u.detail->>'baseline_median')::float8 BETWEEN 1.8 AND 1.9)
               FROM unsettled u JOIN hosts h ON h.id = u.host_id JOIN scripts s ON s.id = u.script_id
               WHERE h.hostname = 'host-b' AND s.key = 'examples/a.py'
               AND u.batch_id = (SELECT max(id) FROM batches)")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
