#!/usr/bin/env bash
# test_history_index.sh - the history index (reports/json/.pyscope-index) with the real
# pyscope: built by the first run, a row per saved report (also when runs save at the
# same time), reports copied in or removed behind its back are seen, a damaged or missing index or profile summary is
# rebuilt (with a warning), PYSCOPE_HISTORY_INDEX=off neither reads nor writes it, and
# `pyscope history` reads the same runs through it (and says when none counted instructions). tests/unit/test_history_index.c
# checks that it reads exactly what a read of every report gives.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
printf 'import time\nx = sum(i * i for i in range(20000))\ntime.sleep(0.05)\n' > s.py
J="$T/rep/json"
IX="$J/.pyscope-index"

# check_index NAME: every report file has exactly one row, in the right order, and
# the state counts them (the index agrees with the folder)
check_index() {
    local out
    if out=$("$PY" - "$J" <<'PY' 2>&1
import json, os, sys
d = sys.argv[1]
ix = os.path.join(d, ".pyscope-index")
files = sorted(f for f in os.listdir(d) if f.startswith("pyscope_report_") and f.endswith(".json"))
rows = []
for s in os.listdir(os.path.join(ix, "series")):
    lines = open(os.path.join(ix, "series", s)).read().splitlines()
    assert json.loads(lines[0])["schema"] == "pyscope.history-index/1", s
    names = [json.loads(l)["file"] for l in lines[1:]]
    assert names == sorted(names), "rows out of order in " + s
    rows += names
state = json.load(open(os.path.join(ix, "state.json")))
assert sorted(rows) == files, "rows %s != files %s" % (sorted(rows), files)
assert state["files"] == len(files), state
for f in files:
    assert os.path.exists(os.path.join(ix, "profiles", f)), "no profile for " + f
print(len(files))
PY
    ); then ok "$1 ($out reports)"; else fail "$1" "$out"; fi
}
baseline_runs() { printf '%s' "$OUT" | jget regression.baseline.n_runs; }
# baseline_all N: N when the history has no change point, else the runs since it (a busy
# machine can step s.py's times: the baseline then starts at the step, index or not)
baseline_all() {
    printf '%s' "$OUT" | "$PY" -c 'import json, sys
b = json.load(sys.stdin)["regression"]["baseline"]
print(sys.argv[1] if b.get("change_point") is None else b["n_runs"])' "$1"
}

run "$PYSCOPE" run -q --reports-dir "$T/rep" s.py
expect_eq "first run: exit 0" 0 "$RC"
expect_nomatch "first run: nothing to rebuild, nothing said" 'rebuilding' "$ERR"
check_index "first run: index built"
for _ in 1 2; do run "$PYSCOPE" run -q --reports-dir "$T/rep" s.py; done
run "$PYSCOPE" run --json --reports-dir "$T/rep" s.py
expect_eq "fourth run: compared with the three before" 3 "$(baseline_runs)"
check_index "four runs: one row each"

# Runs that save at the same time: the lock keeps every row.
pids=""
for _ in 1 2 3 4; do
    "$PYSCOPE" run -q --reports-dir "$T/rep" s.py >/dev/null 2>"$T/par.err" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "parallel runs" "exit $?"; done
check_index "four parallel runs: no row lost"

# A report copied in (a CI cache) and one removed, behind the index's back.
newest=$(ls "$J"/pyscope_report_*.json | sort | tail -n 1)
"$PY" - "$newest" "$J/pyscope_report_2020-01-01T00-00-00.000000Z.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["id"] = "00000000-0000-4000-8000-00000000c0de"
d["created"] = "2020-01-01T00:00:00.000000Z"
json.dump(d, open(sys.argv[2], "w"))
PY
rm -f "$(ls "$J"/pyscope_report_*.json | sort | sed -n 3p)"
run "$PYSCOPE" run --json --reports-dir "$T/rep" s.py
expect_eq "copied in, removed: exit 0" 0 "$RC"
expect_eq "copied in, removed: all the others are the baseline" "$(baseline_all 8)" "$(baseline_runs)"
check_index "copied in, removed: index follows"

# A damaged index is rebuilt, with a warning.
series=$(ls "$IX"/series/*.jsonl | head -n 1)
printf '{"file": "broken' >>"$series"
run "$PYSCOPE" run --json --reports-dir "$T/rep" s.py
expect_eq "damaged index: exit 0" 0 "$RC"
expect_match "damaged index: said" 'history index .* is damaged; rebuilding it' "$ERR"
expect_eq "damaged index: same baseline" "$(baseline_all 9)" "$(baseline_runs)"
check_index "damaged index: rebuilt"
rm -rf "$IX"
run "$PYSCOPE" run -q --reports-dir "$T/rep" s.py
expect_match "missing index: said" \
    'history index in ".*/rep/json/.pyscope-index" is missing; rebuilding it from [0-9]+ reports' "$ERR"
check_index "missing index: rebuilt"
echo '[[[' >"$IX/state.json"
run "$PYSCOPE" run -q --no-save --reports-dir "$T/rep" s.py
expect_match "garbage state.json: said" \
    'history index in ".*" is damaged \(state.json cannot be read\); rebuilding it' "$ERR"
check_index "garbage state.json: rebuilt"
run "$PYSCOPE" run -q --no-save --reports-dir "$T/rep" s.py
expect_nomatch "index intact: nothing said" 'rebuilding' "$ERR"

# A damaged profile summary (read for the baseline's newest reports) is rebuilt from its
# report, with a warning; the next run finds it whole.
newest=$(basename "$(ls "$J"/pyscope_report_*.json | sort | tail -n 1)")
echo '[[[' >"$IX/profiles/$newest"
run "$PYSCOPE" run -q --no-save --reports-dir "$T/rep" s.py
expect_eq "garbage profile summary: exit 0" 0 "$RC"
expect_match "garbage profile summary: said" \
    "profile summary of \"$newest\" in \".*\" is damaged; rebuilding it from the report" "$ERR"
if "$PY" -c 'import json, sys; assert "profile" in json.load(open(sys.argv[1]))' \
    "$IX/profiles/$newest" 2>/dev/null; then
    ok "garbage profile summary: rebuilt"
else
    fail "garbage profile summary: rebuilt" "$(head -c 200 "$IX/profiles/$newest")"
fi
run "$PYSCOPE" run -q --no-save --reports-dir "$T/rep" s.py
expect_nomatch "profile summary rebuilt: nothing said the next time" 'profile summary' "$ERR"
rm -f "$IX/profiles/$newest"
run "$PYSCOPE" run -q --no-save --reports-dir "$T/rep" s.py
expect_match "missing profile summary: said" \
    "profile summary of \"$newest\" in \".*\" is missing; rebuilding it from the report" "$ERR"
check_index "missing profile summary: rebuilt"

# pyscope history reads the same runs through the index.
run "$PYSCOPE" history --json --reports-dir "$T/rep" s.py
expect_eq "history: every run" "$(ls "$J"/pyscope_report_*.json | wc -l)" \
    "$(printf '%s' "$OUT" | jget runs | "$PY" -c 'import json, sys; print(len(json.load(sys.stdin)))')"

# --metric instructions on runs that counted none: said so, not "no runs"
run "$PYSCOPE" history --reports-dir "$T/rep" --metric instructions s.py
expect_eq "instructions, none counted: exit 0" 0 "$RC"
expect_match "instructions, none counted: the runs are there" \
    "none of the [0-9]+ runs of \"[^\"]*s.py\" .* has instructions samples: run with --instructions" "$ERR"
expect_match "instructions, none counted: what to do" \
    "No run to show: no run of this series counted instructions \\([0-9]+ runs without them\\): run with --instructions" "$OUT"
expect_nomatch "instructions, none counted: no unknown host line (\"Host ?\")" 'Host \?|Python \?' "$OUT"

# PYSCOPE_HISTORY_INDEX=off: every report read, no index written; the same baseline as
# through the index on the same history (in CI at load ~5 a change point cut both to 3)
run "$PYSCOPE" run --no-save --json --reports-dir "$T/rep" s.py
with_index=$(baseline_runs)
expect_eq "index on: all the others are the baseline" "$(baseline_all 10)" "$with_index"
rm -rf "$IX"
PYSCOPE_HISTORY_INDEX=off run "$PYSCOPE" run --json --reports-dir "$T/rep" s.py
expect_eq "index off: exit 0" 0 "$RC"
expect_eq "index off: the same baseline as through the index" "$with_index" "$(baseline_runs)"
if [ -e "$IX" ]; then fail "index off: nothing written" "$IX exists"; else ok "index off: nothing written"; fi
finish
