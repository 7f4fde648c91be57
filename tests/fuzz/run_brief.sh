#!/usr/bin/env bash
# run_brief.sh BUILD_DIR [SECONDS] - run every fuzz target of BUILD_DIR (built
# with CC=clang -DPYSCOPE_FUZZ=ON) for SECONDS each (default 8), one after
# the other, each from a scratch copy of its corpus (tests/fuzz/corpus/<t>/;
# the source tree is never written). Prints one line per target with its
# executions; exits 1 when any target crashed, leaked, timed out or broke an
# invariant, naming the input that did it (BUILD_DIR/fuzz-artifacts/).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
secs=${2:-8}
out="$build/fuzz-artifacts"
rm -rf "$out"
mkdir -p "$out"
# The targets' UBSan is recoverable (for coverage, see CMakeLists.txt): make it stop them.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
for t in wire spool pathnorm suite config history daemon_config cachegrind; do
    work="$out/corpus-$t"
    mkdir -p "$work"
    cp "$src/tests/fuzz/corpus/$t/"* "$work/"
    status=0
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/$t-" -print_final_stats=1 "$work" >"$out/$t.log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    if [ "$status" -ne 0 ]; then
        echo "fuzz_$t: FAILED after ${runs:-?} executions (exit $status); log: $out/$t.log"
        grep -E "^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)|runtime error|Test unit written" \
            "$out/$t.log" | head -5
        echo "  fix it, then add the input to tests/fuzz/corpus/$t/ so the unit replay keeps it"
        rc=1
    else
        echo "fuzz_$t: ${runs:-?} executions in ${secs} s, no crash"
    fi
done
exit $rc
