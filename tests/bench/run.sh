#!/usr/bin/env bash
# run.sh [--python PATH] [--rounds N] [--workload NAME]... [--strict] [--help] - PyScope's speed and
# memory benchmark: plain python vs pyscope-run (sample, trace) vs cProfile (main thread
# only, and in every thread: cprofile_threads.py) on the workloads in
# tests/bench/workloads/. Not part of ctest; see docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$@"
