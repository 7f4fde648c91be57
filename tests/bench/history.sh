#!/usr/bin/env bash
# history.sh [--rounds N] [--lengths 0,10,30,100] [--build DIR] - `pyscope run`'s time
# against the length of the report history, with and without the history index, as a
# ratio to an empty history measured in the same rounds. Not part of ctest; see
# docs/benchmarks.md ("History length").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3.11 "$here/history_bench.py" "$@"
