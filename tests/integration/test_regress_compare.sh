#!/usr/bin/env bash
# test_regress_compare.sh - `pyscope compare` and `pyscope history` with the real binaries on
# reports made by real runs: a history with a step (5 runs of a 0.5 s sleep, then 5 runs four
# times as slow: clear even under ASan and load — at twice as slow, CI at load ~20 once saw
# the baseline runs' medians spread 54%, as Python's start-up waited for a CPU, a noise
# floor of ±270% and no verdict), compare A vs B and --baseline 'glob' (terminal, --json, --html, --junit, --fail-on-regression),
# history (terminal, --json, --html: the change point, the regression, where the baseline
# starts), corrupt and foreign history files skipped with a warning, clear errors (exit 2)
# for missing, corrupt and foreign files given to compare.
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
mkdir -p proj/.git
cd proj
cat > work.py <<'PY'
import os, time
f = 1 + float(os.environ.get("SLOW", "0")) / 100
time.sleep(0.5 * f)
PY

json() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

for i in 1 2 3 4 5; do
    run "$PYSCOPE" run -q --repeat 3 --reports-dir "$T/rep" work.py
done
for i in 1 2 3 4 5; do
    SLOW=300 run "$PYSCOPE" run -q --repeat 3 --reports-dir "$T/rep" work.py
done
mapfile -t F < <(ls -d "$T"/rep/json/*.json)
expect_eq "ten reports" 10 "${#F[@]}"

# ---- compare A vs B
run "$PYSCOPE" compare "${F[0]}" "${F[1]}"
expect_eq "compare same level exits 0" 0 "$RC"
expect_match "compare prints the check" "Performance Regression Check" "$OUT"
expect_match "compare names the baseline" "Baseline: +1 report" "$OUT"

run "$PYSCOPE" compare --fail-on-regression "${F[0]}" "${F[9]}"
expect_match "one sample each side is inconclusive or a regression" \
    "Execution time( \(net of waiting for a CPU\))? increased" "$OUT"

mkdir "$T/base"
cp "${F[@]:0:5}" "$T/base/"
run "$PYSCOPE" compare --baseline "$T/base/*.json" --fail-on-regression --json \
    --html "$T/cmp.html" --junit "$T/cmp.xml" "${F[9]}"
expect_eq "glob baseline vs slow candidate exits 1" 1 "$RC"
printf '%s' "$OUT" > "$T/cmp.json"
expect_eq "compare --json schema" "pyscope.compare/1" "$(json 'd["schema"]' "$T/cmp.json")"
expect_eq "baseline files listed" 5 \
    "$(json 'len(d["comparisons"][0]["baseline"]["files"])' "$T/cmp.json")"
expect_eq "wall verdict" "regression" \
    "$(json '[m["verdict"] for m in d["comparisons"][0]["regression"]["metrics"] if m["metric"]=="wall_s"][0]' "$T/cmp.json")"
expect_eq "summary counts it" "True" "$(json 'd["summary"]["regressions"] >= 1' "$T/cmp.json")"
expect_match "compare html" "verdict-regression" "$(cat "$T/cmp.html")"
expect_nomatch "compare html has no external URL" "https?://" "$(cat "$T/cmp.html")"
expect_match "compare html: the check in words" '<p class="lead v-regression"><b>Slower</b>' "$(cat "$T/cmp.html")"
expect_match "compare html: differential flame graph" '<figure class="fdiff" id="fdiff-1">' "$(cat "$T/cmp.html")"
# the script's frame took four times as long: its fill is well into red (lib/flamediff.c)
expect_eq "compare html: the slower frame is red" True "$("$PY" -c '
import re, sys
m = re.search(r"<title>&lt;module&gt; [^<]*</title><rect [^>]*fill=\"#(..)(..)(..)\"", open(sys.argv[1]).read())
r, g, b = (int(x, 16) for x in m.groups())
print(r - b > 60)' "$T/cmp.html")"
expect_eq "compare --json has no flame diff" False "$(json '"flame_diff" in d["comparisons"][0]' "$T/cmp.json")"
"$PY" -c "import xml.etree.ElementTree as E,sys; r=E.parse(sys.argv[1]).getroot(); assert r.find('testsuite/testcase/failure') is not None" \
    "$T/cmp.xml" && ok "compare junit parses, has a failure" || fail "compare junit" "no failure"

# the candidate itself is left out of a glob baseline
run "$PYSCOPE" compare --baseline "$T/rep/json/*.json" --json "${F[9]}"
expect_eq "candidate left out of its baseline" 9 \
    "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["comparisons"][0]["baseline"]["files"]))')"

# several candidates against the old level
run "$PYSCOPE" compare --baseline "$T/rep/json/*.json" --json "${F[1]}" "${F[2]}"
expect_eq "two candidates" 2 "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["comparisons"]))')"

# ---- errors: exit 2 and the file named
run "$PYSCOPE" compare "$T/none.json" "${F[0]}"
expect_eq "missing file exits 2" 2 "$RC"
expect_match "missing file named" "none\.json.*No such file" "$ERR"
printf '{"schema": "pyscope.report/1", "runs": [' > "$T/corrupt.json"
run "$PYSCOPE" compare "${F[0]}" "$T/corrupt.json"
expect_eq "corrupt file exits 2" 2 "$RC"
expect_match "corrupt file named" "corrupt\.json.*invalid JSON" "$ERR"
printf '{"schema": "other.tool/3"}' > "$T/foreign.json"
run "$PYSCOPE" compare "$T/foreign.json" "${F[0]}"
expect_eq "foreign file exits 2" 2 "$RC"
expect_match "foreign file named" 'foreign\.json.*unexpected schema "other\.tool/3"' "$ERR"
run "$PYSCOPE" compare --baseline "$T/nothing/*.json" "${F[0]}"
expect_eq "empty glob exits 2" 2 "$RC"
expect_match "empty glob said" "no file matches" "$ERR"
run "$PYSCOPE" compare "${F[0]}"
expect_eq "one file exits 2" 2 "$RC"

# ---- history, with damaged files in the folder
printf 'not json' > "$T/rep/json/pyscope_report_0000-corrupt.json"
printf '{"schema": "other.tool/3"}' > "$T/rep/json/pyscope_report_0001-foreign.json"
run "$PYSCOPE" history --reports-dir "$T/rep" --html "$T/hist.html" work.py
expect_eq "history exits 0" 0 "$RC"
expect_match "corrupt file skipped with a warning" "warning.*0000-corrupt" "$ERR"
expect_match "foreign file skipped with a warning" "warning.*0001-foreign" "$ERR"
expect_match "history table" "Median wall" "$OUT"
expect_eq "history lists ten runs" 10 "$(printf '%s\n' "$OUT" | grep -cE '20[0-9-]{8} [0-9:]{8}  [0-9a-f]{8} ')"
expect_match "change point marked" "◆ change points" "$OUT"
expect_match "regression marked" "regression \(\+" "$OUT"
expect_match "baseline starts at the change point" \
    "baseline for new runs starts at the latest change point" "$OUT"
expect_match "history html chart" "<svg class=\"chart\"" "$(cat "$T/hist.html")"
expect_match "history html change point" "class=\"cp\"" "$(cat "$T/hist.html")"
expect_nomatch "history html has no external URL" "https?://" "$(cat "$T/hist.html")"
expect_match "history html: a time axis" '>run started \(UTC\)</text>' "$(cat "$T/hist.html")"
expect_match "history html: the value axis in its unit" '>wall time \((ms|s)\)</text>' "$(cat "$T/hist.html")"
expect_match "history html: the change point labelled" '<text class="cpl"[^>]*>change \+[0-9.]+%</text>' "$(cat "$T/hist.html")"
run "$PYSCOPE" history --reports-dir "$T/rep" --metric peak_rss_bytes --html "$T/rss.html" work.py
expect_eq "history --metric peak_rss_bytes exits 0" 0 "$RC"
expect_match "history of memory in MiB" "Median RSS" "$OUT"
expect_match "history html: memory axis" '>peak memory \((KiB|MiB)\)</text>' "$(cat "$T/rss.html")"

run "$PYSCOPE" history --reports-dir "$T/rep" --json work.py
printf '%s' "$OUT" > "$T/hist.json"
expect_eq "history --json schema" "pyscope.history/1" "$(json 'd["schema"]' "$T/hist.json")"
expect_eq "history key" "work.py" "$(json 'd["script"]' "$T/hist.json")"
expect_eq "change point at the sixth run" "[5]" \
    "$(json '[c["index"] for c in d["change_points"]]' "$T/hist.json")"
v6=$(json 'd["runs"][5]["verdict"]' "$T/hist.json")
expect_eq "the sixth run regressed" "regression" "$v6"
# if not, why: the metrics' verdicts when that run was made (its own check, the same 5 runs)
[ "$v6" = regression ] || json '"\n".join("# %s: %s (%s) %s" % (m["metric"], m.get("verdict"),
    m.get("rule"), m.get("reason")) for m in d["regression"]["metrics"] if not m.get("function"))' \
    "${F[5]}"
expect_eq "the baseline of new runs starts there" "True" \
    "$(json 'd["baseline_for_next"]["start_id"] == d["runs"][5]["id"]' "$T/hist.json")"
expect_eq "history by key works too" "10" \
    "$(cd "$T" && "$PYSCOPE" history --reports-dir "$T/rep" --json work.py 2>/dev/null |
        "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')"
run "$PYSCOPE" history --reports-dir "$T/rep" --host 0000000000000000 work.py
expect_eq "unknown host exits 0" 0 "$RC"
expect_match "unknown host: no runs" "No runs yet" "$OUT"
run "$PYSCOPE" history --reports-dir "$T/missing" work.py
expect_eq "missing reports folder exits 2" 2 "$RC"
# A script that is no file and has no runs is unknown: exit 2, as on the farm (it said
# "No runs yet.", exit 0: stranger19's minor 20). One on disk without runs is just new; one
# deleted since its runs keeps its history.
run "$PYSCOPE" history --reports-dir "$T/rep" "$T/nonexistent.py"
expect_eq "history of no file and no runs: exit 2" 2 "$RC"
expect_match "... says so" "no script \"$T/nonexistent.py\": not a file, and no run of" "$ERR"
expect_nomatch "... no table" "No runs yet" "$OUT"
printf 'pass\n' >new.py
run "$PYSCOPE" history --reports-dir "$T/rep" new.py
expect_eq "history of a new script on disk: exit 0" 0 "$RC"
expect_match "... no runs yet" "No runs yet" "$OUT"
mv work.py gone.py
run "$PYSCOPE" history --reports-dir "$T/rep" --json work.py
mv gone.py work.py
expect_eq "history of a script deleted since its runs: exit 0" 0 "$RC"
expect_eq "... its runs shown" 10 "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))')"
# ---- the profiling mode is part of the series (issue 13): a trace-mode candidate against
# sample-mode baselines is not compared (it once printed "not comparable" and still
# failed CI on a +8% peak memory), and mixed baselines keep only the candidate's mode
mkdir -p "$T/samp"
cp "${F[@]}" "$T/samp/"
run "$PYSCOPE" run -q --mode trace --reports-dir "$T/rept" work.py
TR=$(ls -d "$T"/rept/json/*.json | head -1)
run "$PYSCOPE" compare --fail-on-regression --baseline "$T/samp/*.json" "$TR"
expect_eq "trace vs sample baselines: exit 0, nothing compared" 0 "$RC"
expect_match "... says the other mode's reports are left out" \
    "no baseline report in this mode: the 10 baseline reports profiled in sample mode are left out" "$OUT"
run "$PYSCOPE" compare --json --baseline "$T/samp/*.json" --baseline "$TR" "${F[9]}"
expect_eq "mixed baselines: only the sample-mode ones used, the trace one counted" "9 1" \
    "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; c=json.load(sys.stdin)["comparisons"][0]; print(len(c["baseline"]["files"]), c["regression"]["other_mode_runs"])')"

finish
