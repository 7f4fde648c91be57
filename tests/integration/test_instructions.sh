#!/usr/bin/env bash
# test_instructions.sh - `pyscope run --instructions` with the real valgrind: the counts of
# a small CPU-bound script (tests/bench/regress_workload.py, 100000 steps) are identical from
# run to run at 0%, a 3% bigger workload is a "regression" on the instructions metric at
# --threshold 1% and --fail-on-regression exits 1, `pyscope compare` decides the same; the
# user's PYTHONHASHSEED is used and recorded; a script that fails only under valgrind
# fails the run (exit 3); without valgrind on PATH: a clear error and exit 2; without
# --instructions the document has no counts.
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY PYTHONHASHSEED
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"
W="$PYSCOPE_SRC/tests/bench/regress_workload.py"
export PYSCOPE_QUALITY_STEPS=100000


newest() { ls -d "$T"/rep/json/* | tail -1; }
# field FILE PYTHON-EXPRESSION-OF-d
field() { "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
# --repeat 2: two counts a run are enough to see them identical (and each counted run is
# valgrind's start-up of CPython, a few seconds on a busy machine)
R=(--reports-dir "$T/rep" --repeat 2 --instructions --threshold 1)
# valgrind's files go to a private folder under TMPDIR: one of our own, to see it removed
export TMPDIR="$T/tmp"
mkdir "$TMPDIR"

run "$PYSCOPE" run "${R[@]}" -q "$W"
expect_eq "first run exits 0" 0 "$RC"
A=$(newest)
expect_eq "two counts" 2 "$(field "$A" 'len(d["instructions"]["counts"])')"
expect_eq "counts are integers" True \
    "$(field "$A" 'all(type(c) is int and c > 10**7 for c in d["instructions"]["counts"])')"
expect_eq "seed recorded" "0 default cachegrind False" \
    "$(field "$A" '" ".join(str(d["instructions"][k]) for k in ("python_hash_seed", "hash_seed_from", "tool", "children_counted"))')"
expect_eq "options say so" True "$(field "$A" 'd["options"]["instructions"]')"
expect_eq "summary median" True \
    "$(field "$A" 'd["summary"]["instructions"]["median"] == d["instructions"]["counts"][0]')"
expect_eq "timed runs still there" 2 "$(field "$A" 'len(d["runs"])')"

run "$PYSCOPE" run "${R[@]}" -q "$W"
expect_eq "second run exits 0" 0 "$RC"
B=$(newest)
expect_eq "identical counts across runs at 0%" 1 \
    "$("$PY" -c 'import json, sys
print(len({c for f in sys.argv[1:] for c in json.load(open(f))["instructions"]["counts"]}))' "$A" "$B")"
expect_eq "0%: instructions no_change" no_change \
    "$(field "$B" '[m["verdict"] for m in d["regression"]["metrics"] if m["metric"] == "instructions"][0]')"

run env PYSCOPE_QUALITY_SLOWDOWN=3 "$PYSCOPE" run "${R[@]}" --fail-on-regression "$W"
expect_eq "3% slower: --fail-on-regression exits 1" 1 "$RC"
C=$(newest)
expect_eq "3% slower: instructions regression" regression \
    "$(field "$C" '[m["verdict"] for m in d["regression"]["metrics"] if m["metric"] == "instructions"][0]')"
expect_eq "3% slower: change between 1% and 3%" True \
    "$(field "$C" '[1 < m["change_pct"] < 3 for m in d["regression"]["metrics"] if m["metric"] == "instructions"][0]')"
expect_match "terminal report: instruction line" \
    'Instructions   : [0-9.]+ M \(median of 2 runs; cachegrind, PYTHONHASHSEED=0\)' "$OUT"
expect_match "terminal regression line" '⚠️ Instructions increased from [0-9.]+M → [0-9.]+M' "$OUT"
expect_match "HTML card" '<div class="label">Instructions</div>' \
    "$(cat "$T"/rep/html/*.html | tr -d '\n')"

run "$PYSCOPE" compare --threshold 1 --json "$B" "$C"
expect_eq "compare: instructions regression" regression "$("$PY" -c 'import json, sys
d = json.load(sys.stdin)
print([m["verdict"] for m in d["comparisons"][0]["regression"]["metrics"]
       if m["metric"] == "instructions"][0])' <<<"$OUT")"

run "$PYSCOPE" history --reports-dir "$T/rep" --threshold 1 --metric instructions "$W"
expect_eq "history --metric instructions exits 0" 0 "$RC"
expect_match "history: instruction medians" 'Median instr' "$OUT"
expect_match "history: the 3% run regressed" 'M .*regression \(\+[12]\.' "$OUT"
# the README writes thresholds with a percent sign: every command takes "1%" as "1"
run "$PYSCOPE" compare --threshold 1% --json "$B" "$C"
expect_eq "compare --threshold 1%: exits 0" 0 "$RC"
expect_match "compare --threshold 1%: same threshold" '"threshold_pct": 1[,.}]' "$OUT"
run "$PYSCOPE" history --reports-dir "$T/rep" --threshold 1% --metric instructions "$W"
expect_match "history --threshold 1%: the same verdict" 'M .*regression \(\+[12]\.' "$OUT"
run "$PYSCOPE" history --reports-dir "$T/rep" --metric instructions --html "$T/h.html" "$W"
expect_eq "history --html exits 0" 0 "$RC"
expect_match "history --html: instruction series" 'Median instr' "$(cat "$T/h.html")"
run "$PYSCOPE" history --reports-dir "$T/rep" --metric bogus "$W"
expect_eq "history --metric bogus: usage" 2 "$RC"

# the user's seed is used and recorded
run env PYTHONHASHSEED=5 "$PYSCOPE_RUN" --instructions --output "$T/seed.json" "$W"
expect_eq "PYTHONHASHSEED=5 run exits 0" 0 "$RC"
expect_eq "user's seed recorded" "5 environment" \
    "$(field "$T/seed.json" 'd["instructions"]["python_hash_seed"] + " " + d["instructions"]["hash_seed_from"]')"

# a script that fails only under the instruction count (it sees PYTHONHASHSEED=0)
cat >"$T/picky.py" <<'PY'
import os, sys
sys.exit(5 if os.environ.get("PYTHONHASHSEED") == "0" else 0)
PY
run "$PYSCOPE_RUN" --instructions --output "$T/picky.json" "$T/picky.py"
expect_eq "fails under valgrind: exit 3" 3 "$RC"
expect_eq "status says valgrind" "failed under valgrind (--instructions): exited with status 5" \
    "$(field "$T/picky.json" 'd["status"]["outcome"] + " " + d["status"]["message"]')"
expect_match "stderr says so" 'the script failed under valgrind' "$ERR"

# no valgrind on PATH (python3 alone there): a clear error before anything runs
mkdir -p "$T/pyonly"
ln -s "$PY" "$T/pyonly/python3"
n=$(ls "$T/rep/json" | wc -l)
run env PATH="$T/pyonly" "$PYSCOPE" run "${R[@]}" "$W"
expect_eq "no valgrind: pyscope run exits 2" 2 "$RC"
expect_match "no valgrind: message" '\-\-instructions needs valgrind: apt-get install valgrind' "$ERR"
expect_eq "no valgrind: no report saved" "$n" "$(ls "$T/rep/json" | wc -l)"
run env PATH="$T/pyonly" "$PYSCOPE_RUN" --instructions --output "$T/none.json" "$W"
expect_eq "no valgrind: pyscope-run exits 69 (unavailable here, for pyscope and agents)" 69 "$RC"
expect_eq "no valgrind: no document" no "$([ -s "$T/none.json" ] && echo yes || echo no)"
expect_eq "no folder of valgrind files left" "" "$(ls "$TMPDIR")"

# no folder for valgrind's files: an internal error, said plainly
run env TMPDIR=/nonexistent "$PYSCOPE_RUN" --instructions --output "$T/none.json" "$W"
expect_eq "no TMPDIR: exit 4" 4 "$RC"
expect_match "no TMPDIR: message" "could not create a folder for valgrind's output" "$ERR"

# without --instructions: no counts, as before
run "$PYSCOPE_RUN" --output "$T/plain.json" "$W"
expect_eq "plain run: no instructions" "False False False" \
    "$(field "$T/plain.json" '" ".join(str(k in o) for k, o in (("instructions", d), ("instructions", d["options"]), ("instructions", d["summary"])))')"
run "$PYSCOPE_RUN" --help
expect_match "help lists --instructions" '--instructions' "$OUT"

finish
