#!/usr/bin/env bash
# history.sh [--rounds N] [--lengths 0,10,30,100] [--build DIR] - `pyscope run`'s time
# against the length of the report history, with and without the history index, as a
# ratio to an empty history measured in the same rounds.
# history.sh --cpu [--rounds N] [--lengths 1,40,200,300] [--build DIR] [--other-build DIR] -
# pyscope's own CPU time against the history's length, on histories with change points
# (history_cpu.py). Not part of ctest; see docs/benchmarks.md ("History length").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --cpu ]; then
    shift
    exec /usr/bin/python3.11 "$here/history_cpu.py" "$@"
fi
exec /usr/bin/python3.11 "$here/history_bench.py" "$@"
