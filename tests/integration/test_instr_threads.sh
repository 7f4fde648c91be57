#!/usr/bin/env bash
# test_instr_threads.sh - issue 11: `--instructions` counts of a script that runs several Python
# threads are not exact. Which thread holds the GIL when depends on timing (the switch interval
# is wall time, and wake-ups race), so the same code counts differently at another load:
# tests/bench/truth-fresh/pool.py counted 905.0 M ... 905.6 M under valgrind here, idle and
# beside CPU hogs (a spread of 6e-4, six times REGRESS_DETERMINISTIC_SPREAD), while each run's
# repeats, at one load, often agree. The run document says so ("exact": false, "python_threads"),
# the report tells why, and the regression check never applies the exact rule to such counts:
# a second run beside one earlier run is "insufficient history", not "no change" or a
# "deterministic" verdict. A single-threaded script's counts stay exact. No timing involved:
# the checks are on what pyscope-run and the regression check say, not on the counts' spread.
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY PYTHONHASHSEED
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"

newest() { ls -d "$T"/rep/json/* | tail -1; }
# field FILE PYTHON-EXPRESSION-OF-d
field() { "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1"; }
instr() { field "$1" "[m['$2'] for m in d['regression']['metrics'] if m['metric'] == 'instructions'][0]"; }

# four threads take numbers from a queue the main thread fills, and sum them under a lock
cp "$PYSCOPE_SRC/tests/data/scripts/queue_pool.py" "$T/pool.py"
cat >"$T/single.py" <<'PY'
total = 0
for i in range(20000):
    total = (total * 31 + i) % 1000003
print(total)
PY

R=(--reports-dir "$T/rep" --repeat 2 --instructions --threshold 1)
run "$PYSCOPE" run "${R[@]}" -q "$T/pool.py"
expect_eq "threaded: first run exits 0" 0 "$RC"
A=$(newest)
expect_eq "threaded: counts not exact" False "$(field "$A" 'd["instructions"]["exact"]')"
expect_eq "threaded: five Python threads seen" True \
    "$(field "$A" 'd["instructions"]["python_threads"] >= 5')"
expect_eq "threaded: two counts" 2 "$(field "$A" 'len(d["instructions"]["counts"])')"

run "$PYSCOPE" run "${R[@]}" "$T/pool.py"
expect_eq "threaded: second run exits 0" 0 "$RC"
B=$(newest)
expect_eq "threaded: one baseline run is too little history" "inconclusive insufficient_history" \
    "$(instr "$B" verdict) $(instr "$B" rule)"
expect_match "threaded: the report says why" \
    'Instructions   : .*the script ran several Python threads: its counts vary with the machine' \
    "$OUT"

# the same through pyscope compare (the documents' flag, not pyscope run's)
run "$PYSCOPE" compare --threshold 1 --json "$A" "$B"
expect_eq "compare: not exact either" insufficient_history "$("$PY" -c 'import json, sys
d = json.load(sys.stdin)
print([m["rule"] for m in d["comparisons"][0]["regression"]["metrics"]
       if m["metric"] == "instructions"][0])' <<<"$OUT")"

# a single-threaded script's counts stay exact
run "$PYSCOPE_RUN" --repeat 2 --instructions --output "$T/single.json" "$T/single.py"
expect_eq "single thread: exits 0" 0 "$RC"
expect_eq "single thread: exact, its one thread" "True 1" \
    "$(field "$T/single.json" 'str(d["instructions"]["exact"]) + " " + str(d["instructions"]["python_threads"])')"
expect_eq "single thread: equal counts" 1 \
    "$(field "$T/single.json" 'len(set(d["instructions"]["counts"]))')"
finish
