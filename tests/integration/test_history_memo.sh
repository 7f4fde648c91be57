#!/usr/bin/env bash
# test_history_memo.sh - the change points kept in the history index (lib/cp_memo.h,
# .pyscope-index/changepoints.json) give the very baseline that a search without them
# gives (PYSCOPE_HISTORY_INDEX=off: every report read, nothing kept), on a history with a
# step; the memo is what answers the next run; a damaged one is rebuilt with a warning.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
printf 'x = sum(i * i for i in range(20000))\n' > s.py
J="$T/rep/json"
MEMO="$J/.pyscope-index/changepoints.json"

run "$PYSCOPE" run -q --reports-dir "$T/rep" s.py
expect_eq "first run: exit 0" 0 "$RC"
# 40 copies of that report: 24 at one level, 16 a quarter slower, with a little noise
"$PY" - "$J" <<'PY'
import glob, json, os, random, sys
d = sys.argv[1]
src = glob.glob(os.path.join(d, "pyscope_report_*.json"))[0]
doc = json.load(open(src))
os.remove(src)
base = {k: doc["runs"][0][k] for k in ("wall_s", "cpu_s", "user_s")}
rng = random.Random(7)
for i in range(40):
    level = 1.0 if i < 24 else 1.25
    for r in doc["runs"]:
        for k, v in base.items():
            r[k] = v * level * rng.uniform(0.98, 1.02)
    doc["id"] = "00000000-0000-4000-8000-%012d" % i
    doc["created"] = "2020-01-01T00:%02d:00.000000Z" % i
    name = "pyscope_report_2020-01-01T00-%02d-00.000000Z.json" % i
    json.dump(doc, open(os.path.join(d, name), "w"))
PY

# baseline: the history's answer in $OUT that depends on the history alone: the baselines of
# the CPU time and the peak memory (their runs, change point, held-out runs and median)
baseline() {
    printf '%s' "$OUT" | "$PY" -c 'import json, sys
r = json.load(sys.stdin)["regression"]
# the CPU time'"'"'s and the peak memory'"'"'s: the wall time'"'"'s baseline (and the check'"'"'s,
# when the wall time decides) depends on the candidate too: when it waited for a CPU, the
# baseline is of net wall times, and two real runs of s.py wait differently
ms = {m["metric"]: [m.get("baseline"), m.get("baseline_median")] for m in r["metrics"]
      if m["metric"] in ("cpu_s", "peak_rss_bytes")}
print(json.dumps(ms, sort_keys=True))'
}
change_point() { printf '%s' "$OUT" | jget regression.baseline.change_point; }

PYSCOPE_HISTORY_INDEX=off run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_eq "no index: exit 0" 0 "$RC"
expect_match "no index: the step is a change point" '00000000-0000-4000-8000-0000000000(2[0-9])' \
    "$(change_point)"
want=$(baseline)
if [ -e "$MEMO" ]; then fail "no index: no memo written" "$MEMO exists"; else ok "no index: no memo written"; fi

run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_eq "searched, memo written: the same baseline" "$want" "$(baseline)"
entries=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$MEMO" 2>&1 || true)
expect_match "memo written: entries" '^[1-9][0-9]*$' "$entries"
run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_eq "from the memo: the same baseline" "$want" "$(baseline)"
expect_nomatch "from the memo: nothing said" 'memo' "$ERR"

# the memo is what answers: emptied answers (no change point) show in the baseline
"$PY" - "$MEMO" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["entries"] = {k: [] for k in m["entries"]}
json.dump(m, open(sys.argv[1], "w"))
PY
run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_eq "forged memo: its answer is used (no change point)" null "$(change_point)"

# a damaged memo: said, searched again, rewritten
echo '[[[' >"$MEMO"
run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_match "damaged memo: said" 'change-point memo ".*changepoints.json" is damaged; rebuilding it' "$ERR"
expect_eq "damaged memo: the same baseline" "$want" "$(baseline)"
run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
expect_eq "rebuilt memo: the same baseline" "$want" "$(baseline)"
expect_nomatch "rebuilt memo: nothing said" 'memo' "$ERR"

# runs that save: each next run's answer is the one without index or memo
for i in 1 2; do
    run "$PYSCOPE" run -q --reports-dir "$T/rep" s.py
    run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
    got=$(baseline)
    PYSCOPE_HISTORY_INDEX=off run "$PYSCOPE" run --json --no-save --reports-dir "$T/rep" s.py
    expect_eq "saved run $i: memo and no index agree" "$(baseline)" "$got"
done
finish
