#!/usr/bin/env bash
# run.sh - the whole test suite: installs what it needs, checks the C sources' format,
# builds a normal and an ASan+UBSan tree, and runs every test in the first; in the second
# the unit tests and the integration tests labelled asan (those of the daemons and the
# CLI). Then a Release tree built with only the build dependencies (tests/check-build-deps.sh),
# a Debug tree with Clang, and the fuzz targets. Every tree builds with -Werror.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
# stage NAME: print the stage's name with the time since the start, so a slow CI run says
# where its time went (the last line sums it up).
# Each line also says how idle the CPUs were during the stage before (from /proc/stat's
# first line: idle and iowait over all): what is left for running more at once.
t0=$SECONDS
cpu_prev=
idle_said=
# cpu_idle: idle_said gets the share since the last call (cpu_prev)
cpu_idle() {
    local now
    now=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat 2>/dev/null) || now=
    idle_said=
    if [ -n "$cpu_prev" ] && [ -n "$now" ]; then
        idle_said=$(awk -v a="$cpu_prev" -v b="$now" 'BEGIN { split(a, p, " "); split(b, q, " ");
            t = q[2] - p[2]; if (t > 0) printf "; the stage before: CPUs %.0f%% idle", 100 * (q[1] - p[1]) / t }')
    fi
    cpu_prev=$now
}
stage() { cpu_idle; echo "== $1 (at $((SECONDS - t0)) s$idle_said)"; }
stage "packages (scripts/install-deps.sh --test)"
"$src/scripts/install-deps.sh" --test

rc=0
stage "clang-format"
(cd "$src" && git ls-files -- '*.c' '*.h' 2>/dev/null || find lib agent cli coordinator tests \
    -name '*.[ch]' -not -path '*/corpus/*') | (cd "$src" && xargs clang-format --dry-run -Werror) ||
    { echo "run.sh: C files differ from .clang-format: run clang-format -i on them" >&2; rc=1; }

stage "build (RelWithDebInfo)"
"$src/scripts/build.sh" "$src/build"
stage "tests"
# two at a time, one per core: three at a time took as long (fresh-clone CI 2026-12-07: 1079 s
# at -j3, 1060 s at -j2; the tests are CPU-bound) with more load on the timed verdicts
(cd "$src/build" && ctest --output-on-failure --timeout 300 -j2) || rc=1

stage "build (ASan + UBSan)"
"$src/scripts/build.sh" "$src/build-asan" -DPYSCOPE_SANITIZE=ON
stage "tests under sanitizers"
(cd "$src/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure --timeout 600 -j2 -L '^(unit|asan)$') || rc=1

stage "build (Release) with only the packages of scripts/install-deps.sh"
"$src/tests/check-build-deps.sh" "$src/build-release" || rc=1

stage "build (Debug, with Clang): every target, tests included (not run)"
# what the trees above miss: Clang's diagnostics at -O0 (the GCC trees above are optimised
# and GCC's warnings come mostly from its optimiser; scripts/build-matrix.sh builds all eight
# combinations). One compiler here keeps CI under 30 minutes.
MATRIX_COMPILERS=clang MATRIX_TYPES=Debug "$src/scripts/build-matrix.sh" || rc=1

stage "fuzz targets (clang, libFuzzer, ASan + UBSan), ${PYSCOPE_FUZZ_SECONDS:-4} s each"
CC=clang cmake -S "$src" -B "$src/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYSCOPE_FUZZ=ON \
    -DBUILD_TESTING=OFF -DPYSCOPE_WERROR=ON >/dev/null
cmake --build "$src/build-fuzz" -j2 --target fuzz >/dev/null
"$src/tests/fuzz/run_brief.sh" "$src/build-fuzz" "${PYSCOPE_FUZZ_SECONDS:-4}" || rc=1
cpu_idle
echo "== done in $((SECONDS - t0)) s, exit status $rc$idle_said"
exit $rc
