#!/usr/bin/env bash
# coord_ingest.sh [BUILD_DIR] - how fast does the coordinator store results?
#
# Starts a throwaway PostgreSQL (fsync on) and the coordinator, lets
# tests/tools/coord_load push results (20 functions, 5 repeats, 3 stacks each)
# from simulated agents as fast as acks allow, and prints:
#   - results/s stored durably (an ack comes after COMMIT),
#   - the ratio to a raw COPY of the same rows into the same table (a result
#     is one runs row, schema/003_compact_runs.sql: the rows are dumped, the
#     table emptied, and the rows copied back in one transaction: the floor of
#     what PostgreSQL itself needs to store them with their indexes),
#   - the coordinator's peak RSS and CPU time (the rest is PostgreSQL, fsync
#     and the load generator),
#   - a real pyscope-agent's RSS after a few idle seconds connected to the
#     coordinator (VmHWM and VmRSS).
# Environment: AGENTS (default 16), RESULTS (default 10000), WINDOW (default 64).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
T=$(mktemp -d)
coord=""
agent=""
cleanup() {
    [ -n "$agent" ] && { kill -TERM "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; }
    [ -n "$coord" ] && { kill -TERM "$coord" 2>/dev/null || true; wait "$coord" 2>/dev/null || true; }
    [ -n "${KEEP_LOG:-}" ] && cp "$T/coord.log" "$KEEP_LOG"
    rm -rf "$T"
}
trap cleanup EXIT
source "$src/tests/integration/pg.sh"
pg_start
chmod 777 "$T"
ep="ipc://$T/coord.sock"
"$build/coordinator/pyscope-coordinator" --db "$PG_CONNINFO" --bind "$ep" 2>"$T/coord.log" &
coord=$!
for _ in $(seq 100); do grep -q listening "$T/coord.log" && break; sleep 0.1; done

load=$("$build/tests/tools/coord_load" --connect "$ep" --agents "${AGENTS:-16}" \
    --results "${RESULTS:-10000}" --window "${WINDOW:-64}")
rss_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$coord/status")
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$coord/stat")
hz=$(getconf CLK_TCK)

# An idle agent: registered, asking for work, nothing queued for its host.
mkdir -p "$T/ws"
"$build/agent/pyscope-agent" --coordinator "$ep" --workspace "$T/ws" --name idle-agent \
    --spool "$T/spool" 2>"$T/agent.log" &
agent=$!
for _ in $(seq 100); do grep -q "idle-agent" "$T/coord.log" && break; sleep 0.1; done
sleep 3
agent_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$agent/status")
agent_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
kill -TERM "$agent"
wait "$agent" || true
agent=""
kill -TERM "$coord"
wait "$coord" || true
coord=""

n=$(sed -E 's/.*results=([0-9]+).*/\1/' <<<"$load")
secs=$(sed -E 's/.*seconds=([0-9.]+).*/\1/' <<<"$load")
stored=$(pg_sql "SELECT count(*) FROM runs")
fns=$(pg_sql "SELECT coalesce(sum(cardinality(fn_ids)), 0) FROM runs")

# The same rows through COPY, into the same (emptied) table, one transaction.
pg_sql "COPY runs TO '$PG_DIR/runs.copy'"
pg_sql "TRUNCATE regressions, runs"
t0=$(date +%s.%N)
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
COPY runs FROM '$PG_DIR/runs.copy';
COMMIT;
SQL
t1=$(date +%s.%N)
copy_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')

awk -v n="$n" -v s="$secs" -v c="$copy_secs" -v stored="$stored" -v fns="$fns" -v rss="$rss_kb" \
    -v cpu="$cpu_ticks" -v hz="$hz" -v ahwm="$agent_hwm" -v arss="$agent_rss" \
    'BEGIN {
        printf "coordinator: %d results (%d stored, %d hotspots) in %.3f s = %.1f results/s\n", n, stored, fns, s, n / s
        printf "raw copy:    the same rows in %.3f s = %.1f results/s\n", c, n / c
        printf "ratio:       coordinator / copy = %.3f\n", (n / s) / (n / c)
        printf "coordinator peak rss: %.1f MiB, cpu %.2f s (%.0f%% of the wall time)\n", rss / 1024, cpu / hz, 100 * cpu / hz / s
        printf "idle agent rss: %.1f MiB (peak %.1f MiB)\n", arss / 1024, ahwm / 1024
    }'
