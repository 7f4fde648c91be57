#!/usr/bin/env bash
# build-matrix.sh [OUT_DIR] - build PyScope, tests included, with -Werror in every
# build type (Release, RelWithDebInfo, Debug, MinSizeRel) with GCC and with Clang, one
# tree each under OUT_DIR (default: a temporary folder, removed afterwards). Prints one
# line per tree and the first warnings of a tree that failed; exit status 1 when any
# did. Slow (eight full builds): CI builds Release and, through this script, Debug with
# both compilers beside its own trees (tests/run.sh); run all of it before changing
# compiler flags or after a compiler upgrade.
#   MATRIX_COMPILERS="gcc clang"  MATRIX_TYPES="Release Debug"  to narrow it.
#   CMAKE_BUILD_PARALLEL_LEVEL=N  builds N at a time (default: every core, nproc).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-}
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"
rc=0
for cc in ${MATRIX_COMPILERS:-gcc clang}; do
    for type in ${MATRIX_TYPES:-Release RelWithDebInfo Debug MinSizeRel}; do
        dir=$out/$cc-$type
        log=$dir.log
        if CC=$cc cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DPYSCOPE_WERROR=ON \
            >"$log" 2>&1 && cmake --build "$dir" -j"${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" >>"$log" 2>&1; then
            echo "ok     $cc $type"
        else
            echo "FAILED $cc $type (log: $log)"
            grep -E "warning:|error:" "$log" | head -20
            rc=1
            trap - EXIT # keep the logs
        fi
    done
done
exit $rc
