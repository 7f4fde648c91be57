#!/usr/bin/env bash
# test_team_rerun_rejoins.sh - a held-out night whose confirmation run came back to the
# baseline keeps that run in the series' baselines at once; its nightly run stays out, and
# a re-run nearer the change keeps the whole night out (ANALYSIS_REJOIN_SHARE,
# coordinator/analysis.h). Dropped with its nightly run, every noisy night left the baseline
# a night shorter and its noise floor wider (test_team_farm at load about the cores: a noisy
# early night re-run at -0.2%, held out, and the last night's +30% inside a +-27-40% floor).
# Seeded history (tests/integration/team_cpu_only.sql: a.py 1.55 s wall, ~1% noise,
# threshold 10%), analysed by the real coordinator on PostgreSQL:
#   nights 1-3 quiet;
#   night 4: host-b's a.py +40% (a busy night), its re-run +0%: held out, the re-run rejoins;
#   night 5: +40%, its re-run +9% (nearer the change than half the threshold allows): held
#            out, nothing rejoins;
#   night 6: +20%, confirmed: a regression whose baseline is nights 1-3 and night 4's re-run.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

# the run ids of host-b's a.py in night N of purpose P, in order
runs_of() {
    pg_sql "SELECT coalesce(string_agg(r.run_id::text, ',' ORDER BY r.stored_at), '')
            FROM runs r JOIN jobs j ON j.id = r.job_id JOIN hosts h ON h.id = r.host_id
            JOIN scripts s ON s.id = r.script_id JOIN batches b ON b.id = r.batch_id
            WHERE h.hostname = 'host-b' AND s.key = 'examples/a.py'
            AND b.label = 'night $1' AND j.purpose = '$2'"
}
rejoin_of() {
    pg_sql "SELECT coalesce(x.detail->>'rejoin_run', 'none') FROM held_out x
            JOIN hosts h ON h.id = x.host_id JOIN scripts s ON s.id = x.script_id
            JOIN batches b ON b.id = x.batch_id
            WHERE h.hostname = 'host-b' AND s.key = 'examples/a.py' AND b.label = 'night $1'"
}

pg_start
coord_start
for n in 1 2 3; do team_night 0 "$n" host-b 0 0; done
expect_eq "nights 1-3: nothing queued" 0 "$(team_settled)"

team_night 0 4 host-b 40 0
expect_eq "night 4: +40% is re-run (reference, a.py, reference)" 3 "$(team_settled)"
team_night 1 4 host-b 0 0
team_settled >/dev/null
expect_eq "night 4: its re-run came back to the baseline: held out, the re-run rejoins" \
    "$(runs_of 4 confirm)" "$(rejoin_of 4)"

team_night 0 5 host-b 40 0
expect_eq "night 5: +40% is re-run" 3 "$(team_settled)"
team_night 1 5 host-b 9 0
team_settled >/dev/null
expect_eq "night 5: its re-run +9% stays near the change: held out, nothing rejoins" "none" \
    "$(rejoin_of 5)"

team_night 0 6 host-b 20 0
expect_eq "night 6: +20% is re-run" 3 "$(team_settled)"
team_night 1 6 host-b 20 0
team_settled >/dev/null
want=$(printf '%s\n' "$(runs_of 1 measure)" "$(runs_of 2 measure)" "$(runs_of 3 measure)" \
    "$(runs_of 4 confirm)" | sort | tr '\n' ' ')
got=$(pg_sql "SELECT string_agg(u::text, E'\n') FROM regressions g
              JOIN hosts h ON h.id = g.host_id JOIN scripts s ON s.id = g.script_id,
              unnest(g.baseline_runs) u
              WHERE h.hostname = 'host-b' AND s.key = 'examples/a.py' AND g.metric = 'wall_s'
              AND coalesce(g.function_key, '') = ''" | sort | tr '\n' ' ')
expect_eq "night 6: the regression's baseline is nights 1-3 and night 4's re-run" "$want" "$got"
expect_eq "night 6: found on night 6, +20%" "night 6 1" \
    "$(pg_sql "SELECT b.label || ' ' || (abs(g.change_pct - 20) < 3)::int FROM regressions g
               JOIN batches b ON b.id = g.batch_id JOIN hosts h ON h.id = g.host_id
               WHERE h.hostname = 'host-b' AND g.metric = 'wall_s' AND coalesce(g.function_key, '') = ''")"
# pyscope history --host says the same baseline for the next night: nights 1-3 and night 4's
# re-run (4 runs); night 4's nightly run, night 5's two and night 6's two (its open finding)
# held out
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$PYSCOPE" history examples/a.py --host host-b --json
expect_eq "history --host: the farm's next baseline has night 4's re-run: 4 runs, 5 held out" \
    "farm 4 5" \
    "$(echo "$OUT" | json_get "'%s %d %d' % (d['baseline_for_next']['rule'], d['baseline_for_next']['n_runs'], d['baseline_for_next']['held_out_runs'])")"
pg_sql "SELECT 'held ' || b.label || ' ' || x.reason || ' ' || x.detail::text FROM held_out x
        JOIN batches b ON b.id = x.batch_id ORDER BY b.id" | sed "s/^/# /"
pg_sql "SELECT 'unsettled ' || b.label || ' ' || u.rule || ' ' || left(u.detail::text, 400)
        FROM unsettled u JOIN batches b ON b.id = u.batch_id ORDER BY b.id" | sed "s/^/# /"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
