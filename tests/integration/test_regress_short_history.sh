#!/usr/bin/env bash
# test_regress_short_history.sh - the local check (`pyscope run --fail-on-regression`) while
# the history is short, with the real pyscope-run on a real CPU-bound script (issue 11):
#  - with 1 or 2 earlier runs no time metric is "✓ unchanged" (nor ⚠️): it is
#    "inconclusive — insufficient history", the deciding one included, exit 0;
#  - every verdict line ends with the rule that decided it, a ✓ line too;
#  - a first run 3x slower is held out of the next runs' baseline while the history is
#    still short (the output says so, the JSON names it), CPU and wall time alike, so that
#    it never becomes their noise floor; the third slow run in a row is the new level and
#    the baseline starts there.
# Deterministic on a busy machine: the history of part 2 is made by hand from a real report
# (fixed times); only the new runs are measured.
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
cat >work.py <<'PY'
import os
n = int(700000 * float(os.environ.get("WORK", "1")))
def hot(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s
hot(n)
PY
R=(--reports-dir "$T/rep" --repeat 3 --fail-on-regression)

# check FIELD...: the newest report's regression metrics (main ones), one line each:
# "metric verdict rule n_runs n_held side" (side "-" when nothing is held out)
check() {
    "$PY" - "$T/${T_REP:-rep}/json" <<'PY'
import glob, json, os, sys
f = max(glob.glob(os.path.join(sys.argv[1], "*.json")))
reg = json.load(open(f))["regression"]
for m in reg.get("metrics", []):
    if "function" in m:
        continue
    b = m["baseline"]
    print(m["metric"], m["verdict"], m["rule"], b["n_runs"], len(b["held_out"]),
          b.get("held_out_side") or "-")
PY
}
# rules_on_every_line NAME OUTPUT: each verdict line ends with " — " and its rule
rules_on_every_line() {
    local bad
    bad=$(grep -E '^(✓|⚠️|✅|❓) ' <<<"$2" | grep -v ' — ' || true)
    if [ -z "$bad" ]; then ok "$1: every verdict line says its rule"; else
        fail "$1: every verdict line says its rule" "without one: $bad"; fi
}

run "$PYSCOPE" run "${R[@]}" work.py
expect_eq "first run exits 0" 0 "$RC"

# second run, 1 earlier run x 3 repeats: nothing is "unchanged" on time (D5)
run "$PYSCOPE" run "${R[@]}" work.py
expect_eq "second run exits 0" 0 "$RC"
expect_nomatch "1 earlier run: no time metric unchanged" '^✓ (CPU time|Execution time)' "$OUT"
expect_nomatch "1 earlier run: no regression" '^⚠️' "$OUT"
expect_match "1 earlier run: CPU time insufficient history" \
    '^❓ CPU time .*baseline 1 run × 3\): inconclusive — insufficient history: 1 baseline run' "$OUT"
rules_on_every_line "second run" "$OUT"
C=$(check)
expect_match "1 earlier run: CPU time's rule in the JSON" '^cpu_s inconclusive insufficient_history 1 0' "$C"
expect_nomatch "1 earlier run: no time metric no_change in the JSON" '^(cpu_s|wall_s) no_change' "$C"
# the decision names its metric's verdict: never no_change from one earlier run
D=$("$PY" -c 'import glob, json, sys
f = max(glob.glob(sys.argv[1] + "/*.json"))
d = json.load(open(f))["regression"]["decision"]
print(d["metric"], d["verdict"], d["rule"])' "$T/rep/json")
expect_match "1 earlier run: the deciding metric is inconclusive" \
    '^(wall_s|cpu_s) inconclusive (insufficient_history|contended)$' "$D"

# Part 2, point 3: a first slow run is held out of the next runs' baseline while the
# history is short. The history is made by hand from the first real report (its repeats set
# to fixed values: runs 2% apart, the slow ones 3x), so what is held out does not depend
# on the machine's load; the new runs are real runs of the 3x slower loop.
mkdir -p "$T/rep2/json"
FIRST=$(ls "$T/rep/json"/*.json | head -1)
# craft K FACTOR: history report K (oldest first) at FACTOR x the first run's median times
# (its hotspots' too: a history whose totals are 3x but whose functions are 1x makes every
# hotspot of a 3x run a regression)
craft() {
    "$PY" - "$FIRST" "$T/rep2/json" "$1" "$2" <<'PY'
import json, statistics, sys
src, out, k, f = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
d = json.load(open(src))
spread = [1.0, 1.02, 0.98]
for field in ("wall_s", "cpu_s", "run_delay_s"):
    xs = [r[field] for r in d["runs"] if isinstance(r.get(field), (int, float))]
    if len(xs) != len(d["runs"]):
        continue
    med = statistics.median(xs)
    for i, r in enumerate(d["runs"]):
        r[field] = med * f * spread[i % 3]
# the hotspots' times at the same level, so that only the run's totals are crafted
for fn in d.get("profile", {}).get("functions", []):
    for field in ("self_s", "total_s", "self_cpu_s"):
        if isinstance(fn.get(field), (int, float)):
            fn[field] *= f
    for field in ("self_s_runs", "total_s_runs"):
        if isinstance(fn.get(field), list):
            fn[field] = [x * f * spread[i % 3] if isinstance(x, (int, float)) else x
                         for i, x in enumerate(fn[field])]
d["id"] = "00000000-0000-4000-8000-%012d" % k
d["created"] = "2026-01-01T00:00:%02d.000000Z" % k
d.pop("regression", None)
json.dump(d, open("%s/pyscope_report_2026-01-01T00-00-%02d.000000Z.json" % (out, k), "w"))
PY
}
R2=(--reports-dir "$T/rep2" --repeat 3 --fail-on-regression)
# check2: the newest report in rep2 (as check does for rep)
check2() { T_REP=rep2 check; }
craft 1 1
craft 2 1.01
craft 3 3
WORK=3 run "$PYSCOPE" run "${R2[@]}" work.py
expect_eq "slow run after 1 slow in a short history exits 0" 0 "$RC"
C=$(check2)
expect_match "the first slow run is held out of the CPU baseline" \
    '^cpu_s inconclusive insufficient_history 2 1 slower' "$C"
expect_match "... and of the wall time's (raw, or net of waiting for a CPU)" \
    '^wall_s inconclusive [a-z_]+ 2 1 slower' "$C"
expect_match "the output says so" \
    '^❓ CPU time increased .*baseline 2 runs × 3; 1 slower run held out\): inconclusive — insufficient history' \
    "$OUT"
rules_on_every_line "slow run, 1 held out" "$OUT"
rm -f "$T/rep2/json"/pyscope_report_2026-12-*.json # the real run leaves the history

craft 4 2.97
WORK=3 run "$PYSCOPE" run "${R2[@]}" work.py
expect_match "two slow runs held out, the baseline the runs before the change" \
    '^cpu_s inconclusive insufficient_history 2 2 slower' "$(check2)"
rm -f "$T/rep2/json"/pyscope_report_2026-12-*.json

# three slow runs in a row are the new level: the baseline starts with them, no noise
# floor made of both levels (the old code: ±100-270% on such histories)
craft 5 3.03
WORK=3 run "$PYSCOPE" run "${R2[@]}" work.py
expect_nomatch "new level: no regression" '^⚠️' "$OUT"
C=$(check2)
expect_match "new level: the three slow runs are the CPU baseline" '^cpu_s [a-z_]+ [a-z_]+ 3 0 -' "$C"
NOISE=$("$PY" -c 'import glob, json, sys
f = max(glob.glob(sys.argv[1] + "/*.json"))
m = [m for m in json.load(open(f))["regression"]["metrics"]
     if m["metric"] == "cpu_s" and "function" not in m][0]
print(" ".join(m["baseline"]["runs"]), m["noise_pct"])' "$T/rep2/json")
expect_match "new level: they are the crafted slow runs" \
    '^0+-0000-4000-8000-0+3 0+-0000-4000-8000-0+4 0+-0000-4000-8000-0+5 ' "$NOISE"
expect_match "new level: the noise floor is theirs (runs 1-3% apart: under ±30%)" \
    ' ([0-9]|[12][0-9])(\.[0-9]+)?$' "$NOISE"
rules_on_every_line "new level" "$OUT"

finish
