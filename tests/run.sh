#!/usr/bin/env bash
# run.sh - the whole test suite: installs what it needs, checks the C sources' format,
# builds a normal tree and runs every test in it; meanwhile, in the background at idle
# priority, it builds an ASan+UBSan tree, a Release tree with only the build dependencies
# (tests/check-build-deps.sh), a Debug tree with Clang and the fuzz targets. Then, in the
# ASan tree, the unit tests and the integration tests labelled asan (those of the daemons and
# the CLI), and the fuzz targets briefly. Every tree builds with -Werror.
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

# The other trees build in the background while the main tests run, at the lowest CPU and
# I/O priority (SCHED_IDLE, ionice idle): they take only what the tests leave idle (the
# tests wait on sleeps, PostgreSQL, a partitioned link...) and yield a CPU the moment a
# test wants it. One after the other (the ASan tree first: its tests come next; the others
# go on beside those), each with its log in build-logs/, NAME.ok or NAME.failed when done.
# CI 2026-12-07 before this: the main tests left the CPUs 19% idle over 1138 s, the ASan
# tests 26% over 403 s, and the four builds took 92 + 43 + 62 + ~35 s in a row.
logs=$src/build-logs
rm -rf "$logs"
mkdir -p "$logs"
lowly() { chrt --idle 0 ionice -c 3 "$@"; }
# bg_build NAME CMD...: run CMD at that priority, its output in $logs/NAME.log
bg_build() {
    local name=$1
    shift
    if lowly "$@" >"$logs/$name.log" 2>&1; then touch "$logs/$name.ok"; else touch "$logs/$name.failed"; fi
}
(
    bg_build asan "$src/scripts/build.sh" "$src/build-asan" -DPYSCOPE_SANITIZE=ON
    # only the packages of scripts/install-deps.sh, and a Release tree on the way
    bg_build release "$src/tests/check-build-deps.sh" "$src/build-release"
    # what the trees above miss: Clang's diagnostics at -O0 (the GCC trees above are
    # optimised and GCC's warnings come mostly from its optimiser; scripts/build-matrix.sh
    # builds all eight combinations). One compiler here keeps CI under 30 minutes.
    bg_build clang-debug env MATRIX_COMPILERS=clang MATRIX_TYPES=Debug "$src/scripts/build-matrix.sh"
    bg_build fuzz sh -c 'CC=clang cmake -S "$1" -B "$1/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPYSCOPE_FUZZ=ON -DBUILD_TESTING=OFF -DPYSCOPE_WERROR=ON && cmake --build "$1/build-fuzz" -j2 --target fuzz' \
        sh "$src"
) &
bg=$!
# bg_result NAME WHAT: say how NAME's background build ended (its log's end when it failed)
bg_result() {
    if [ -e "$logs/$1.ok" ]; then
        echo "ok: $2"
        return 0
    fi
    echo "FAILED: $2 (log: $logs/$1.log)"
    tail -n 40 "$logs/$1.log"
    return 1
}

stage "tests (beside them, in the background at idle priority: the ASan, Release, Clang Debug and fuzz trees)"
# two at a time, one per core: three at a time took as long (fresh-clone CI 2026-12-07: 1079 s
# at -j3, 1060 s at -j2; the tests are CPU-bound) with more load on the timed verdicts
(cd "$src/build" && ctest --output-on-failure --timeout 300 -j2) || rc=1

stage "the ASan tree's build: what is left of it"
# bg_wait NAME: until NAME's background build has ended (or the builds stopped)
bg_wait() {
    while [ ! -e "$logs/$1.ok" ] && [ ! -e "$logs/$1.failed" ] && kill -0 "$bg" 2>/dev/null; do
        sleep 1
    done
}
bg_wait asan
bg_result asan "build (ASan + UBSan)" || rc=1

stage "tests under sanitizers (the other trees still building beside them, at idle priority)"
# three at a time: most wait on PostgreSQL, daemons and sleeps; the timed-verdict tests take
# two of the three slots there and start first (tests/CMakeLists.txt, PYSCOPE_TIMED_TESTS)
if [ -e "$logs/asan.ok" ]; then
    (cd "$src/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure --timeout 600 -j3 -L '^(unit|asan)$') || rc=1
fi

stage "the other background builds: what is left of them"
wait "$bg" || true
bg_result release "build (Release) with only the packages of scripts/install-deps.sh" || rc=1
bg_result clang-debug "build (Debug, with Clang): every target, tests included (not run)" || rc=1
bg_result fuzz "build of the fuzz targets (clang, libFuzzer, ASan + UBSan)" || rc=1

stage "fuzz targets, ${PYSCOPE_FUZZ_SECONDS:-4} s each"
if [ -e "$logs/fuzz.ok" ]; then
    "$src/tests/fuzz/run_brief.sh" "$src/build-fuzz" "${PYSCOPE_FUZZ_SECONDS:-4}" || rc=1
fi
cpu_idle
echo "== done in $((SECONDS - t0)) s, exit status $rc$idle_said"
exit $rc
