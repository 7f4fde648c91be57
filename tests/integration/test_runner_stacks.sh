#!/usr/bin/env bash
# test_runner_stacks.sh - the report's stacks: a stack deeper than the 1,024 frames a
# stack keeps still shows where it came from (its root-most frames, <module> and start,
# and its leaf-most ones, joined by one "[frames elided]" frame), in both modes; and the
# stacks' size budget (profile.stacks_budget): a trace of import-heavy code keeps its
# heavy stacks, merges the many light ones (every path through the import machinery)
# into their first frames, and loses no weight doing so.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cd "$T"
cat >"$T/deep.py" <<'PYEOF'
import sys
sys.setrecursionlimit(20000)


def down(n):
    if n == 0:
        s = 0
        for i in range(2000000):
            s += i
        return s
    return down(n - 1)


def start():
    return down(3000)


print(start())
PYEOF
for mode in sample trace; do
    run_ps "deep.$mode" --mode "$mode" deep.py
    expect_eq "$mode: exit" 0 "$RC"
    expect_eq "$mode: the heaviest stack keeps its root, its leaf, and says what it left out" \
        "deep.py:<module> deep.py:start deep.py:down | <pyscope>:[frames elided]:0 | deep.py:down 1025" \
        "$(jeval "$T/deep.$mode.json" '(lambda f: " ".join(x.split("/")[-1].rsplit(":", 1)[0] for x in f[:3]) + " | " + " ".join(x for x in f if "elided" in x) + " | " + f[-1].split("/")[-1].rsplit(":", 1)[0] + " " + str(len(f)))(max(d["profile"]["stacks"], key=lambda s: s["samples"])["frames"])')"
    # the recursion's depth counts the frames of the elided middle too (sample mode
    # counts them as it walks the stack; it said 1022 before)
    expect_eq "$mode: down()'s max_depth is the whole recursion, 3001 frames" 3001 \
        "$(jeval "$T/deep.$mode.json" '[f["max_depth"] for f in d["profile"]["functions"] if f["name"] == "down"][0]')"
done

cp "$PYSCOPE_SRC/tests/bench/workloads/json_codec.py" "$T/"
run_ps budget --mode trace json_codec.py
expect_eq "budget: exit" 0 "$RC"
expect_eq "budget: light stacks merged, stated in the report" yes \
    "$(jeval "$T/budget.json" '(lambda b: "yes" if b["stacks_merged"] > 100 and b["stacks_kept"] <= b["max_stacks"] and 0 < b["merged_share"] < 0.05 else b)(d["profile"]["stacks_budget"])')"
expect_eq "budget: within it (stacks, frames)" yes \
    "$(jeval "$T/budget.json" '"yes" if sum(len(s["frames"]) for s in d["profile"]["stacks"]) <= 20000 + 3 * d["profile"]["stacks_budget"]["stacks_merged"] and len(d["profile"]["stacks"]) <= 2000 + d["profile"]["stacks_budget"]["stacks_merged"] else "no"')"
expect_eq "budget: no weight lost (stacks sum to the functions' self time)" yes \
    "$(jeval "$T/budget.json" '(lambda a, b: "yes" if abs(a - b) <= 1e-6 * b else (a, b))(sum(s["samples"] for s in d["profile"]["stacks"]) / 1e6, sum(f["self_s"] for f in d["profile"]["functions"]))')"
expect_eq "budget: a merged stack ends in the merge frame" "<pyscope>:[smaller stacks merged]:0" \
    "$(jeval "$T/budget.json" '[s for s in d["profile"]["stacks"] if "merged" in s["frames"][-1]][0]["frames"][-1]')"
finish
