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
#     what PostgreSQL itself needs to store them with their indexes), in text
#     format, and also to a binary COPY (cheaper still: nothing parsed),
#   - the coordinator's peak RSS, and the CPU time of PostgreSQL (all its
#     processes), the coordinator and the load generator over the timed part,
#     with the ceiling that CPU per result puts on this machine,
#   - a real pyscope-agent's RSS after a few idle seconds connected to the
#     coordinator (VmHWM and VmRSS).
# Environment: AGENTS (default 16), RESULTS (default 10000), WINDOW (default 64),
# COORD_CONFIG (a coordinator config file, e.g. to try another "writers").
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
conf=()
[ -n "${COORD_CONFIG:-}" ] && conf=(--config "$COORD_CONFIG")
"$build/coordinator/pyscope-coordinator" "${conf[@]}" --db "$PG_CONNINFO" --bind "$ep" 2>"$T/coord.log" &
coord=$!
for _ in $(seq 100); do grep -q listening "$T/coord.log" && break; sleep 0.1; done

# CPU time (clock ticks) of PostgreSQL: the postmaster, the children it has
# reaped (autovacuum workers come and go) and the ones alive now.
postmaster=$(head -1 "$PG_DIR/data/postmaster.pid")
pg_ticks() {
    local t p
    t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$postmaster/stat")
    for p in $(pgrep -P "$postmaster"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
coord_ticks() { awk '{print $14 + $15}' "/proc/$coord/stat"; }

"$build/tests/tools/coord_load" --connect "$ep" --agents "${AGENTS:-16}" \
    --results "${RESULTS:-10000}" --window "${WINDOW:-64}" --mark "$T/timed" >"$T/load.out" &
loader=$!
# The CPU over the timed part only (coord_load creates the mark once the jobs are queued).
while [ ! -e "$T/timed" ] && kill -0 "$loader" 2>/dev/null; do sleep 0.01; done
pg0=$(pg_ticks)
co0=$(coord_ticks)
wait "$loader"
pg1=$(pg_ticks)
co1=$(coord_ticks)
load=$(cat "$T/load.out")
rss_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$coord/status")
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
load_cpu=$(sed -E 's/.*cpu=([0-9.]+).*/\1/' <<<"$load")
stored=$(pg_sql "SELECT count(*) FROM runs")
fns=$(pg_sql "SELECT coalesce(sum(cardinality(fn_ids)), 0) FROM runs")

# The same rows through COPY, into the same (emptied) table, one transaction:
# in text format (what "COPY" is by default: the ratio is to this one), then
# in binary format (no number parsed from text: PostgreSQL's cheapest way in).
pg_sql "COPY runs TO '$PG_DIR/runs.copy'"
pg_sql "COPY runs TO '$PG_DIR/runs.bin' WITH (FORMAT binary)"
copy_in() {
    pg_sql "TRUNCATE regressions, runs"
    local t0 t1
    t0=$(date +%s.%N)
    psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
COPY runs FROM '$PG_DIR/$1' $2;
COMMIT;
SQL
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
}
copy_secs=$(copy_in runs.copy "")
copy_bin_secs=$(copy_in runs.bin "WITH (FORMAT binary)")

awk -v n="$n" -v s="$secs" -v c="$copy_secs" -v cb="$copy_bin_secs" -v stored="$stored" -v fns="$fns" -v rss="$rss_kb" \
    -v cpu="$((co1 - co0))" -v pgcpu="$((pg1 - pg0))" -v lcpu="$load_cpu" -v hz="$hz" \
    -v cores="$(nproc)" -v ahwm="$agent_hwm" -v arss="$agent_rss" \
    'BEGIN {
        printf "coordinator: %d results (%d stored, %d hotspots) in %.3f s = %.1f results/s\n", n, stored, fns, s, n / s
        printf "raw copy:    the same rows in %.3f s = %.1f results/s\n", c, n / c
        printf "binary copy: the same rows in %.3f s = %.1f results/s\n", cb, n / cb
        printf "ratio:       coordinator / copy = %.3f (to the binary copy: %.3f)\n", (n / s) / (n / c), (n / s) / (n / cb)
        printf "coordinator peak rss: %.1f MiB, cpu %.2f s (%.0f%% of the wall time)\n", rss / 1024, cpu / hz, 100 * cpu / hz / s
        total = pgcpu / hz + cpu / hz + lcpu
        printf "cpu over the timed part: postgresql %.2f s, coordinator %.2f s, load generator %.2f s = %.2f s on %d cores (%.0f%% busy)\n", pgcpu / hz, cpu / hz, lcpu, total, cores, 100 * total / (cores * s)
        printf "cpu per result: %.0f us; %d cores cannot store more than %.0f results/s this way\n", 1e6 * total / n, cores, cores * n / total
        printf "idle agent rss: %.1f MiB (peak %.1f MiB)\n", arss / 1024, ahwm / 1024
    }'
