#!/usr/bin/env bash
# test_regress_mode.sh - the profiling mode is part of what makes runs comparable: a
# trace run is never compared with sample-mode history (trace slows calls and its
# tracer adds memory: compared, a trace run read as "Peak memory increased +88%",
# exit 1). The first run in a mode says that the other mode's runs are not compared;
# the next run of that mode is compared with that mode only; `pyscope history` shows
# one mode's series and names the other; `pyscope compare` across modes says so.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY

# Call-heavy, so that trace mode is much slower than sample mode.
cat > calls.py <<'PY'
def f(i):
    return i + 1
s = 0
for i in range(300000):
    s = f(s)
PY
R="--reports-dir $T/rep"

for _ in 1 2 3; do
    run "$PYSCOPE" run $R -q calls.py
    expect_eq "sample run: exit 0" 0 "$RC"
done

# The first trace run: no baseline, and it says why; never a regression.
run "$PYSCOPE" run $R --json --fail-on-regression --mode trace calls.py
expect_eq "first trace run: exit 0 despite the slower mode" 0 "$RC"
expect_eq "first trace run: not compared" "no_history" "$(printf '%s' "$OUT" | jget regression.status)"
expect_eq "first trace run: counts the other mode's runs" 3 \
    "$(printf '%s' "$OUT" | jget regression.other_mode_runs)"
expect_match "first trace run: says why" \
    '^first trace-mode run of this script on this host; the 3 earlier sample-mode runs are not compared' \
    "$(printf '%s' "$OUT" | jget regression.message)"
run "$PYSCOPE" run $R --mode trace calls.py
expect_match "second trace run: compared with the trace run only" 'baseline 1 run ' "$OUT"
expect_nomatch "second trace run: no mode note" 'another mode' "$OUT"

# Back to sample mode: compared with the three sample runs, not with the traces.
run "$PYSCOPE" run $R --json calls.py
expect_eq "sample run: compared" "compared" "$(printf '%s' "$OUT" | jget regression.status)"
expect_eq "sample run: baseline is the sample runs" 3 \
    "$(printf '%s' "$OUT" | jget regression.baseline.n_runs)"
expect_eq "sample run: same mode" "False" "$(printf '%s' "$OUT" | jget regression.why.mode_changed)"

# pyscope history: one mode's series, the other named.
run "$PYSCOPE" history $R calls.py
expect_eq "history: exit 0" 0 "$RC"
expect_match "history: the newest run's mode" ', sample mode$' "$OUT"
expect_match "history: the other mode named" '^Also: 2 runs on host .*, trace mode; use' "$OUT"
run "$PYSCOPE" history $R --json --mode trace calls.py
expect_eq "history --mode trace: its runs" "trace 2" \
    "$(printf '%s' "$OUT" | jget mode) $(printf '%s' "$OUT" | jget runs | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))')"
run "$PYSCOPE" history $R --mode profile calls.py
expect_eq "history --mode bad: usage error" 2 "$RC"

# pyscope compare across modes: the other mode's report is left out, and that is said (it
# was compared, and --fail-on-regression could fail on figures the note called not comparable).
sample=$(ls "$T"/rep/json/*.json | sort | head -n 1)
trace=$(ls "$T"/rep/json/*.json | sort | sed -n 4p)
run "$PYSCOPE" compare --fail-on-regression "$sample" "$trace"
expect_eq "compare across modes: exit 0" 0 "$RC"
expect_match "compare across modes: left out, said" \
    'the 1 baseline report profiled in sample mode is left out \(trace mode slows calls' "$OUT"
finish
