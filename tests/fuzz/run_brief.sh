#!/usr/bin/env bash
# run_brief.sh BUILD_DIR [SECONDS] [JOBS] - run every fuzz target of BUILD_DIR (built
# with CC=clang -DPYSCOPE_FUZZ=ON) for SECONDS each (default 8), JOBS at a time (default:
# one per core, nproc; each target is one process on one core, so each still gets its
# SECONDS of a core), each from a scratch copy of its corpus (tests/fuzz/corpus/<t>/;
# the source tree is never written). Prints one line per target with its
# executions, in a fixed order; exits 1 when any target crashed, leaked, timed out or broke an
# invariant, naming the input that did it (BUILD_DIR/fuzz-artifacts/).
# CI 2026-12-07: one after the other, the eight targets at 4 s took 42 s of a core, the other idle.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
secs=${2:-8}
out="$build/fuzz-artifacts"
rm -rf "$out"
mkdir -p "$out"
# The targets' UBSan is recoverable (for coverage, see CMakeLists.txt): make it stop them.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
jobs=${3:-$(nproc 2>/dev/null || echo 1)}
# brief T: fuzz target T; its line in $out/T.said, its status in $out/T.rc
brief() {
    local t=$1 work="$out/corpus-$1" status=0 runs
    mkdir -p "$work"
    cp "$src/tests/fuzz/corpus/$t/"* "$work/"
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$t-" -print_final_stats=1 "$work" >"$out/$t.log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    if [ "$status" -ne 0 ]; then
        {
            echo "fuzz_$t: FAILED after ${runs:-?} executions (exit $status); log: $out/$t.log"
            grep -E "^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)|runtime error|Test unit written" \
                "$out/$t.log" | head -5
            echo "  fix it, then add the input to tests/fuzz/corpus/$t/ so the unit replay keeps it"
        } >"$out/$t.said"
    else
        echo "fuzz_$t: ${runs:-?} executions in ${secs} s, no crash" >"$out/$t.said"
    fi
    echo "$status" >"$out/$t.rc"
}
targets=(wire spool pathnorm suite config history daemon_config cachegrind)
running=()
for t in "${targets[@]}"; do
    if [ "${#running[@]}" -ge "$jobs" ]; then
        wait "${running[0]}" || true
        running=("${running[@]:1}")
    fi
    brief "$t" &
    running+=("$!")
done
wait
rc=0
for t in "${targets[@]}"; do
    if [ -e "$out/$t.said" ]; then cat "$out/$t.said"; else echo "fuzz_$t: FAILED: no result (see $out/$t.log)"; fi
    [ "$(cat "$out/$t.rc" 2>/dev/null || echo 1)" = 0 ] || rc=1
done
exit $rc
