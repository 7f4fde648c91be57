#!/usr/bin/env bash
# coord_ingest.sh [BUILD_DIR] - how fast does the coordinator store results?
#
# Starts a throwaway PostgreSQL (fsync on) and the coordinator, lets
# tests/tools/coord_load push results (20 functions, 5 repeats, 3 stacks each)
# from simulated agents as fast as acks allow, and prints:
#   - results/s stored durably (an ack comes after COMMIT),
#   - the ratio to a raw COPY of the same rows into the same tables (the
#     rows are dumped, the tables emptied, and the rows copied back in one
#     transaction: the floor of what PostgreSQL itself needs),
#   - the coordinator's peak RSS and CPU time (the rest is PostgreSQL, fsync
#     and the load generator).
# Environment: AGENTS (default 4), RESULTS (default 2000), WINDOW (default 32).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
source "$src/tests/integration/pg.sh"
pg_start
chmod 777 "$T"
ep="ipc://$T/coord.sock"
"$build/coordinator/pyscope-coordinator" --db "$PG_CONNINFO" --bind "$ep" 2>"$T/coord.log" &
coord=$!
for _ in $(seq 100); do grep -q listening "$T/coord.log" && break; sleep 0.1; done

load=$("$build/tests/tools/coord_load" --connect "$ep" --agents "${AGENTS:-4}" \
    --results "${RESULTS:-2000}" --window "${WINDOW:-32}")
rss_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$coord/status")
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$coord/stat")
hz=$(getconf CLK_TCK)
kill -TERM "$coord"
wait "$coord" || true

n=$(sed -E 's/.*results=([0-9]+).*/\1/' <<<"$load")
secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$load")
stored=$(pg_sql "SELECT count(*) FROM runs")
fns=$(pg_sql "SELECT count(*) FROM run_functions")

# The same rows through COPY, into the same (emptied) tables, one transaction.
for t in runs run_functions run_stacks; do
    pg_sql "COPY $t TO '$PG_DIR/$t.copy'"
done
pg_sql "TRUNCATE run_stacks, run_functions, runs"
t0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
COPY runs FROM '$PG_DIR/runs.copy';
COPY run_functions FROM '$PG_DIR/run_functions.copy';
COPY run_stacks FROM '$PG_DIR/run_stacks.copy';
COMMIT;
SQL
t1=$(date +%s.%N)
copy_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')

awk -v n="$n" -v s="$secs" -v c="$copy_secs" -v stored="$stored" -v fns="$fns" -v rss="$rss_kb" -v cpu="$cpu_ticks" -v hz="$hz" \
    'BEGIN {
        printf "coordinator: %d results (%d stored, %d function rows) in %.3f s = %.1f results/s\n", n, stored, fns, s, n / s
        printf "raw copy:    the same rows in %.3f s = %.1f results/s\n", c, n / c
        printf "ratio:       coordinator / copy = %.3f\n", (n / s) / (n / c)
        printf "coordinator peak rss: %.1f MiB, cpu %.2f s (%.0f%% of the wall time)\n", rss / 1024, cpu / hz, 100 * cpu / hz / s
    }'
