#!/usr/bin/env bash
# build.sh [BUILD_DIR] [cmake options...] - configure and build PyScope, as developers and
# CI do: RelWithDebInfo, warnings as errors (PYSCOPE_WERROR; a plain cmake leaves it off).
# Later options win: build.sh build -DPYSCOPE_WERROR=OFF. Builds on every core (nproc); on a
# shared machine CMAKE_BUILD_PARALLEL_LEVEL=N (CMake's own variable) builds N at a time.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$src/build}
shift || true
cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYSCOPE_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" >/dev/null || cmake --build "$dir" -j1
