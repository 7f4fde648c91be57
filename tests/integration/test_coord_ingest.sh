#!/usr/bin/env bash
# test_coord_ingest.sh - results under load, stored by several writer threads
# at once (writers = 3): 2,000 results from 8 simulated agents, each stored
# exactly once, every job done, and the batch marked done by the time the
# last ack arrives, although its last jobs end in groups committed
# concurrently (the lease reaper, which would also sweep it up, is held off).
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
cat >"$T/coord.conf" <<'CONF'
[coordinator]
writers = 3
reap_interval_ms = 600000
CONF
coord_start --config "$T/coord.conf"
expect_match "three writers" "3 result writers" "$(cat "$COORD_LOG")"

load=$("$PYSCOPE_BUILD/tests/tools/coord_load" --connect "$COORD_EP" --agents 8 --results 2000 \
    --window 64)
expect_match "every result acked" "^results=2000 " "$load"
expect_eq "stored once each" "2000 2000" "$(pg_sql "SELECT count(*) || ' ' || count(DISTINCT run_id) FROM runs")"
expect_eq "one run per job" 0 \
    "$(pg_sql "SELECT count(*) FROM (SELECT job_id FROM runs GROUP BY job_id HAVING count(*) > 1) d")"
expect_eq "every job done" "done 2000" "$(pg_sql "SELECT string_agg(state || ' ' || n, ',') FROM (SELECT state, count(*) AS n FROM jobs GROUP BY state) s")"
expect_eq "the batch is done at the last ack" "done" "$(pg_sql "SELECT string_agg(DISTINCT state, ',') FROM batches")"
expect_eq "hotspots stored" 40000 "$(pg_sql "SELECT sum(cardinality(fn_ids)) FROM runs")"

coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
expect_match "results counted" "\"results_stored\":2000" "$(cat "$COORD_LOG")"
finish
