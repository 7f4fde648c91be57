#!/usr/bin/env bash
# test_team_analysis.sh - batch analysis in the coordinator: six nights of
# history (tests/integration/team_seed.sql) with a 30% slowdown of one
# function of one script on one host on night 6. Each finished batch is
# analysed once; only that series is flagged (wall, cpu and the function's
# hotspot metrics), with a q-value, its baseline runs and a "why" that names
# the slowed function; the other series and the quiet nights flag nothing.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

SEED="$PYSCOPE_SRC/tests/integration/team_seed.sql"
pg_start
coord_start
seed_night() {
    psql -q -v ON_ERROR_STOP=1 -v night="$1" -v slow_night=6 -v slow=30 -f "$SEED" >/dev/null
}
for n in 1 2 3 4 5 6; do seed_night "$n"; done
for _ in $(seq 100); do
    [ "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NULL")" = 0 ] && break
    sleep 0.1
done
expect_eq "every batch analysed" 0 "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NULL")"
expect_match "analysis logged" "batch 6 analysed: 4 series" "$(cat "$COORD_LOG")"

slow="s.key = 'examples/a.py' AND h.hostname = 'host-b' AND g.batch_id = 6"
q() { pg_sql "SELECT $1 FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id WHERE $2"; }
expect_eq "wall-time regression found" 1 "$(q "count(*)" "$slow AND g.metric = 'wall_s' AND g.kind = 'regression'")"
expect_eq "cpu regression found" 1 "$(q "count(*)" "$slow AND g.metric = 'cpu_s' AND g.kind = 'regression'")"
expect_eq "nothing else flagged" 0 "$(q "count(*)" "NOT ($slow)")"
expect_eq "no memory change" 0 "$(q "count(*)" "g.metric = 'peak_rss_bytes'")"
expect_eq "why names slow()" "examples/a.py:slow:3" "$(q "g.why->'functions'->0->>'key'" "$slow AND g.metric = 'wall_s'")"
expect_match "change about 30%" '^(2[5-9]|3[0-5])\.' "$(q "g.change_pct" "$slow AND g.metric = 'wall_s'")"
expect_eq "q-value and CI stored" t "$(q "g.q_value < 0.05 AND g.q_value >= g.p_value AND g.ci_low_pct > 0" "$slow AND g.metric = 'wall_s'")"
expect_eq "baseline: the five earlier nights" 5 "$(q "cardinality(g.baseline_runs)" "$slow AND g.metric = 'wall_s'")"
expect_eq "state new, no identity change" "new|false|false|false" "$(q "g.state || '|' || g.script_changed || '|' || g.python_changed || '|' || g.host_changed" "$slow AND g.metric = 'wall_s'")"

# Triaged 'expected': the slow run starts the series' new baseline, so a
# seventh night at the new speed is no regression.
psql -q -c "UPDATE regressions SET state = 'expected'" >/dev/null
psql -q -v ON_ERROR_STOP=1 -v night=7 -v slow_night=7 -v slow=30 -f "$SEED" >/dev/null
for _ in $(seq 100); do
    [ "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NULL")" = 0 ] && break
    sleep 0.1
done
expect_eq "night 7 analysed" 0 "$(pg_sql "SELECT count(*) FROM batches WHERE analyzed IS NULL")"
expect_eq "expected: new baseline, nothing flagged" 0 "$(pg_sql "SELECT count(*) FROM regressions WHERE batch_id = 7")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
