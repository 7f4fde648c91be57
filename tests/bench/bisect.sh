#!/usr/bin/env bash
# bisect.sh [BUILD_DIR] - how many runs does pyscope bisect take, against the range's size,
# and how often does it name the right commit? (docs/revisions.md)
#
# For each range size N (SIZES, default "8 32") and slowdown (PCTS, default "30"), TRIALS
# (default 3) times: a generated repository of N+1 commits (tests/data/revisions/make_repo.sh)
# with f() made PCT% slower at a random commit, bisected from its first commit to main on
# bench/f.py (pyscope bisect --json, ROUNDS=3 pairs of REPEAT=2 runs a step, up to 2 x
# ROUNDS). Prints per (N, PCT): right / inconclusive (said) / wrong, the median runs and
# A/B steps of a bisection, and the baseline measured in the same run: the A/Bs an ideal
# bisection needs (ceil(log2 N) steps + the ends + the confirmation) with ROUNDS pairs
# each, and the median's ratio to it. Work per run: UNITS (default 2000000) loop turns.
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
printf '%-6s %-5s %-7s %-13s %-6s %-11s %-10s %-9s %s\n' N PCT right inconclusive wrong \
    "runs(med)" "A/Bs(med)" "ideal" "ratio"
for n in $SIZES; do
    for pct in $PCTS; do
        : >"$T/results"
        for t in $(seq "$TRIALS"); do
            at=$((2 + RANDOM % n))
            rm -rf "$T/repo"
            PYSCOPE_WORK_UNITS=$UNITS bash "$src/tests/data/revisions/make_repo.sh" "$T/repo" "$at" 0 \
                "$pct" 0 0 0 $((n + 1)) >"$T/hashes"
            want=$(sed -n "${at}p" "$T/hashes")
            (cd "$T/repo" && "$build/cli/pyscope" bisect --good main~"$n" --bad main --rounds "$ROUNDS" \
                --max-rounds $((2 * ROUNDS)) --repeat "$REPEAT" --threshold 10 --json bench/f.py \
                >"$T/out.json" 2>/dev/null) || true
            python3 - "$T/out.json" "$want" "$REPEAT" >>"$T/results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want, repeat = sys.argv[2], int(sys.argv[3])
if d["status"] == "found":
    k = "right" if d["culprit"]["hash"] == want else "wrong"
elif d["status"] == "inconclusive" and want in d.get("candidates", []):
    k = "inconclusive"
else:
    k = "wrong"
abs_ = len([s for s in d["steps"] if s["outcome"] != "skip"])
print(k, d["runs"] // repeat, abs_)
PY
        done
        python3 - "$T/results" "$n" "$pct" "$ROUNDS" <<'PY'
import math, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
n, pct, rounds = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = {k: sum(1 for r in rows if r[0] == k) for k in ("right", "inconclusive", "wrong")}
runs = statistics.median(int(r[1]) for r in rows)
abs_ = statistics.median(int(r[2]) for r in rows)
ideal = (math.ceil(math.log2(n)) + 2) * rounds * 2
print("%-6d %-5s %-7d %-13d %-6d %-11g %-10g %-9d %.2f" % (n, pct, c["right"], c["inconclusive"],
      c["wrong"], runs, abs_, ideal, runs / ideal))
PY
    done
done
echo "# runs = pyscope-run turns (each --repeat $REPEAT measured runs); ideal = (ceil(log2 N) + 2) A/Bs x $ROUNDS pairs"
