#!/usr/bin/env bash
# bisect.sh [BUILD_DIR] - how many runs does pyscope bisect take, against the range's size,
# and how often does it name the right commit? (docs/revisions.md)
#
# For each range size N (SIZES, default "8 32") and slowdown (PCTS, default "30"), TRIALS
# (default 3) times: a generated repository of N+1 commits (tests/data/revisions/make_repo.sh)
# with f() made PCT% slower at a random commit, bisected from its first commit to main on
# bench/f.py (pyscope bisect --json, ROUNDS=3 pairs of REPEAT=2 runs a step, up to 2 x
# ROUNDS). Prints per (N, PCT), in the table of tests/bench/bisect_summary.py (shared with
# the farm's tests/bench/bisect_farm.sh): right / WRONG / inconclusive (said), the median
# change between the ends, turns (pyscope-run runs), A/B steps and wall seconds of a
# bisection, and the turns an ideal bisection needs (ceil(log2 N) steps + the ends + the
# confirmation, ROUNDS pairs each) with the median's ratio to it. Work per run: UNITS (default 2000000) loop turns.
# Idle numbers need an idle machine: say how loaded it was (uptime is printed).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
SIZES=${SIZES:-"8 32"} PCTS=${PCTS:-30} TRIALS=${TRIALS:-3}
ROUNDS=${ROUNDS:-3} REPEAT=${REPEAT:-2} UNITS=${UNITS:-2000000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T"
echo "# machine: $(uptime)"
for n in $SIZES; do
    : >"$T/results"
    for pct in $PCTS; do
        for _ in $(seq "$TRIALS"); do
            at=$((2 + RANDOM % n))
            rm -rf "$T/repo"
            PYSCOPE_WORK_UNITS=$UNITS bash "$src/tests/data/revisions/make_repo.sh" "$T/repo" "$at" 0 \
                "$pct" 0 0 0 $((n + 1)) >"$T/hashes"
            want=$(sed -n "${at}p" "$T/hashes")
            t0=$(date +%s.%N)
            (cd "$T/repo" && "$build/cli/pyscope" bisect --good main~"$n" --bad main --rounds "$ROUNDS" \
                --max-rounds $((2 * ROUNDS)) --repeat "$REPEAT" --threshold 10 --json bench/f.py \
                >"$T/out.json" 2>/dev/null) || true
            t1=$(date +%s.%N)
            # one row for tests/bench/bisect_summary.py: PCT KIND TURNS ABS WALL_S ENDS
            python3 - "$T/out.json" "$want" "$REPEAT" "$pct" "$t0" "$t1" >>"$T/results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want, repeat, pct = sys.argv[2], int(sys.argv[3]), sys.argv[4]
if d["status"] == "found":
    k = "right" if d["culprit"]["hash"] == want else "WRONG"
elif d["status"] == "inconclusive" and want in d.get("candidates", []):
    k = "inconclusive"
else:
    k = "WRONG"
abs_ = len([s for s in d["steps"] if s["outcome"] != "skip"])
ends = d["steps"][0].get("change_pct") if d["steps"] else None
print(pct, k, d["runs"] // repeat, abs_, "%.1f" % (float(sys.argv[6]) - float(sys.argv[5])),
      "-" if ends is None else "%.1f" % ends)
PY
        done
    done
    python3 "$src/tests/bench/bisect_summary.py" "$T/results" "$n" "$ROUNDS" || true
done
