#!/usr/bin/env bash
# test_team_farm.sh - the demo tells the truth on a busy machine (issue 11): nine nights
# on the local farm (deploy/farm.sh) with a CPU hog on every core all along, and from
# night 9 host b runs examples/slow_script.py 50% slower (PYSCOPE_EXAMPLE_SLOWDOWN=50).
# Nine, not seven: at load about the cores this machine's nightly medians of the unchanged
# script (wall time net of queueing) spread about 4-8% from night to night (its CPU time
# swings with where the scheduler puts it beside the hogs), and lib/regress's noise floor
# (a 99% prediction interval, Student's t over the baseline nights) of 6 nights, or 5 when
# a noisy early night was held out, was then +-27-40%: the +30% was "within noise" in about
# one run of three (CI, 2026-12-06/07). Eight baseline nights narrow it by a fifth or more,
# yet the +30% stayed "within noise" in 3 of 22 runs (floors to +-29%: this VM's speed
# drifts over a run's nights; CI 2026-12-07 saw +26.9% net against such a floor): the
# injected change is 50%, past every floor seen with eight baseline nights.
# The suite names examples/calibrate.py as its reference, so the confirmation run is
# interleaved with it (run before the first repeat and after each), and a 10% threshold
# (asv's default factor; at 5% this machine's own
# drift under the hogs was once confirmed as a +6% CPU "regression"). The team report farm.sh renders must list exactly that regression:
# examples' slow_script.py on host b, dated night 9, confirmed (interleaved), its "why"
# naming slow(), a sensible size (wall time +30% to +100%: sleep and work both 50% longer;
# at 30% the CI measured +25% to +46%); and nothing else: no other regression,
# no improvement, on any host or night. Its hardware comparison names the regression and says
# the two hosts are one machine (their load, not hardware)
# (compare-hosts' numbers); the page opens in headless Chromium without console errors
# (screenshot in build/tests/html-shots). Any false or missing finding fails the test.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
export FARM_BUILD=$PYSCOPE_BUILD FARM_ID="pr$((RANDOM % 9000 + 1000))"
export FARM_SUBNET="10.79.$((RANDOM % 250 + 1))"
port=$((20000 + RANDOM % 20000))
case "$(nm "$PYSCOPE_BUILD/agent/pyscope-agent" 2>/dev/null || true)" in
*__asan_init*) export FARM_AGENT_ARGS="--memory-limit 0" ;;
esac
ws=$T/ws
mkdir -p "$ws/ex"
cp "$PYSCOPE_SRC/examples/slow_script.py" "$PYSCOPE_SRC/examples/calibrate.py" "$ws/ex/"
cat >"$T/suite.ini" <<'INI'
[suite]
name = team
repeat = 4
threshold = 10%
reference = ex/calibrate.py
[script ex/slow_script.py]
INI
# background load: a CPU hog on every core, for the whole farm run
hogs=()
for _ in $(seq "$(nproc)"); do
    "$PY" -c 'while True: pass' &
    hogs+=("$!")
done
st=0
out=$("$PYSCOPE_SRC/deploy/farm.sh" --once --nights 9 --slowdown-night 9 --slowdown 50 \
    --slow-host b --dir "$T/farm" --suite "$T/suite.ini" --workspace "$ws" --port "$port" \
    2>"$T/err") || st=$?
kill "${hogs[@]}" 2>/dev/null || true
wait "${hogs[@]}" 2>/dev/null || true
expect_eq "farm.sh exit status" 0 "$st"
if [ "$st" != 0 ]; then
    tail -n 30 "$T/err"
    # why jobs failed: the jobs tables submit --wait printed (the farm is stopped by now,
    # so the coordinator cannot be asked), and the agents' last words
    printf '%s\n' "$out" | grep -Ev "^ *[0-9]+ .* done .* ok" | tail -n 40 | sed "s/^/# /"
    tail -n 15 "$T"/farm/agent-*.log 2>/dev/null | sed "s/^/# /"
fi
report=$(printf '%s\n' "$out" | tail -n 1)
expect_eq "farm.sh prints the report path last" "$T/farm/report.html" "$report"
expect_match "slowdown announced" "night 9: farm-b runs with PYSCOPE_EXAMPLE_SLOWDOWN=50" "$(cat "$T/err")"
expect_match "each night waits for its analysis" "night 8 analysed: " "$(cat "$T/err")"
[ -s "$report" ] || { fail "report written" "no $report"; finish; exit 1; }
grep -h "analysed\|could not analyse" "$T/farm/coordinator.log" | sed "s/^/# /" || true

# The report's data (the coordinator's JSON), as farm.sh saved it.
cp "$T/farm/report.json" "$T/report.json" || fail "report.json written" "none"
cp "$T/report.json" "$PYSCOPE_BUILD/tests/test_team_farm.report.json" 2>/dev/null || true
"$PY" - "$T/report.json" >"$T/findings" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["report"]
night = {b["id"]: int(b["label"].split()[-1]) for b in r["batches"]}
for g in r["regressions"] + r["improvements"]:
    why = ((g.get("why") or {}).get("functions") or [{}])[0].get("key") or ""
    print("|".join([g["kind"], g["script"], g["host"], str(night.get(g["batch_id"])),
                    g["metric"], g["function"] or "", g["state"],
                    (g.get("confirmation") or {}).get("method") or "", why,
                    "%.1f" % g["change_pct"]]))
PY
sed "s/^/# /" "$T/findings"
# what each night decided where nothing was found, and the runs it decided on (printed for
# a failure's diagnosis: ctest shows a test's output when it fails)
"$PY" - "$T/report.json" <<'PY' | sed "s/^/# /"
import json, sys
r = json.load(open(sys.argv[1]))["report"]
night = {b["id"]: b["label"] for b in r["batches"]}
for u in r.get("inconclusive", []) + r.get("dismissed", []):
    d = u.get("detail") if isinstance(u.get("detail"), dict) else {}
    c = d.get("confirmation") or {}
    print(night.get(u.get("batch_id")), u.get("host"), u.get("script"), u.get("metric"),
          u.get("rule") or u.get("reason"), (u.get("reason") or "")[:160],
          "drift wall/cpu %s/%s" % (c.get("drift_wall_pct"), c.get("drift_cpu_pct")) if c else "")
PY
printf '%s\n' "$out" | sed -n '/^ *batch *| *script/,/rows)$/p' | sed "s/^/# /"
expect_match "the regression is found: slow_script.py, host b, night 9, confirmed (interleaved)" \
    "^regression\|ex/slow_script.py\|farm-b\|9\|(wall_s|cpu_s)\|\|confirmed\|interleaved\|" \
    "$(cat "$T/findings")"
expect_eq "nothing else: every finding is that one (host b, night 9, slow_script.py)" "" \
    "$(grep -v '^regression|ex/slow_script.py|farm-b|9|' "$T/findings" || true)"
expect_match "why names slow()" \
    "^regression\|[^|]*\|farm-b\|9\|(wall_s|cpu_s)\|\|[^|]*\|[^|]*\|ex/slow_script.py:slow:" \
    "$(cat "$T/findings")"
# the size: wall time (slow() sleeps and computes 50% more: the run is ~50% slower); CPU
# time under the hogs can come out larger (seen: +56% of a 30% slowdown), it is printed above
size=$(grep -E '^regression\|[^|]*\|farm-b\|9\|wall_s\|\|' "$T/findings" | head -1 | cut -d'|' -f10)
expect_eq "a sensible size of its wall time (+30% .. +100%): +$size%" 1 \
    "$("$PY" -c "import sys; v = float(sys.argv[1] or 'nan'); print(int(30 <= v <= 100))" "$size")"
expect_eq "its hardware pair names it" "farm-b regression" \
    "$("$PY" -c "
import json, sys
r = json.load(open(sys.argv[1]))['report']
print(' '.join(sorted({f['host'] + ' ' + f['kind'] for h in r['hardware'] for f in h['findings']})))" "$T/report.json")"
# farm-a and farm-b are two agents of this one machine (one kernel: one boot id): their
# hardware pairs say so, and none is offered as a hardware difference (coordinator/hostpair.h)
expect_eq "its hardware pairs: one machine, their load, not hardware" "True load True" \
    "$("$PY" -c "
import json, sys
hw = json.load(open(sys.argv[1]))['report']['hardware']
print(' '.join(sorted({str(h['same_machine']) for h in hw} | {h['measures'] for h in hw}))
      + ' ' + str(bool(hw) and all('are one machine' in h['caveat'] for h in hw)))" "$T/report.json")"
expect_match "the series' flame graph diff" '<figure class="fdiff" id="fdiff-[0-9]+">' "$(cat "$report")"

if command -v chromium >/dev/null 2>&1; then
    chrome() {
        timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$T/profile.XXXXXX")" "$@"
    }
    chrome --enable-logging=stderr --v=0 --dump-dom "file://$report" >"$T/dom" 2>"$T/chrome.log" || true
    expect_match "browser: page loaded" 'id="regressions"' "$(cat "$T/dom")"
    expect_nomatch "browser: no console errors" 'Uncaught|CONSOLE\([0-9]+\)\] "[^"]*Error' "$(cat "$T/chrome.log")"
    expect_nomatch "browser: csp refused nothing" 'Refused to' "$(cat "$T/chrome.log")"
    mkdir -p "$PYSCOPE_BUILD/tests/html-shots"
    chrome --screenshot="$PYSCOPE_BUILD/tests/html-shots/team-farm.png" --window-size=1400,1000 \
        "file://$report" >/dev/null 2>&1 || true
fi
finish
