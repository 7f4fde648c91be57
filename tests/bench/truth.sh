#!/usr/bin/env bash
# truth.sh [--quick] [--levels idle,cores,2cores] [--nights N] [--repeat N]
#          [--workloads DIR] [--scripts A,B]
#          [--load alternate|always] [--threshold PCT] [--instructions] [--keep]
#          [--seed N] [--build DIR] [--dir DIR] [--json FILE] [--help]
#
# Does the team report tell the truth? One command; not part of ctest. Plays N nights of a
# suite of varied workloads (tests/bench/truth/, or --workloads tests/bench/truth-fresh: a
# second set the verdicts were not tuned on) on a real local farm (PostgreSQL, the
# coordinator, two agents as two hosts), injects known slowdowns into known functions on
# known nights and hosts, runs background load on and off on the same cores, and scores
# the team report against the truth: one table per load level (idle, ~cores, ~2x cores),
# then the issue's goals, met or not (tests/bench/truth.py says how). Needs root (UTS
# namespaces) and a build (scripts/build.sh). The defaults (3 levels x 9 nights x 6
# scripts x 2 hosts) take about an hour on a loaded 2-core machine; --quick is a smoke run
# (one level, 6 nights, 3 scripts). Exit status 0 when it ran (goals met or not), 1 when it
# could not.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3.11 "$here/truth.py" "$@"
