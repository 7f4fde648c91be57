#!/usr/bin/env bash
# test_team_confirm.sh - a confirmation run is bracketed by the suite's reference
# script and corrected for the machine's drift (issue 11, point 6), on seeded
# nights (tests/integration/team_drift.sql).
# Night 6: host-b is 30% slower for everything (the reference too) while nothing
# changed in the code: its first run looks like a +30% regression, so the
# coordinator queues reference, a.py again, reference on host-b; the confirmation
# run, corrected by the reference's drift, shows no change: nothing is stored,
# and night 6 stays out of a.py's later baselines on host-b (held_out).
# Night 7: a.py really slows down by 30% on host-b, the machine does not drift:
# confirmed, bracketed, drift about 0, change about +30%.
# Night 8: a.py slows down by 30% on host-a while host-a is 50% slower at night and
# still during its confirmation: confirmed, with the change about +30% (not +95%),
# and the raw and reference figures in its confirmation object.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

night() { team_drift 0 "$@"; }        # night N HOST DRIFT SLOW: the night's runs
confirm_runs() { team_drift 1 "$@"; } # confirm_runs N HOST DRIFT SLOW: its confirmation jobs' runs
pg_start
coord_start
for n in 1 2 3 4 5; do night "$n" host-a 0 0; done
expect_eq "quiet nights: nothing queued" 0 "$(team_settled)"
expect_eq "the reference is no series of its own" 0 \
    "$(pg_sql "SELECT count(*) FROM jobs WHERE purpose IN ('confirm', 'confirm_reference')")"

night 6 host-b 30 0
expect_eq "night 6: three jobs queued" 3 "$(team_settled)"
expect_eq "night 6: reference, a.py, reference queued on host-b" \
    "confirm_reference examples/ref.py 0 host-b,confirm examples/a.py 1 host-b,confirm_reference examples/ref.py 2 host-b" \
    "$(pg_sql "SELECT string_agg(j.purpose || ' ' || s.key || ' ' || j.slot || ' ' || h.hostname, ',' ORDER BY j.id) FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN hosts h ON h.id = j.host_id WHERE j.state = 'queued'")"
confirm_runs 6 host-b 30 0
expect_eq "night 6 settled" 0 "$(team_settled)"
expect_eq "night 6: the machine's drift is no regression" 0 "$(pg_sql "SELECT count(*) FROM regressions")"
expect_eq "night 6: held out of a.py's later baselines on host-b (dismissed, bracketed)" \
    "6 host-b dismissed bracketed" \
    "$(pg_sql "SELECT o.batch_id || ' ' || h.hostname || ' ' || o.reason || ' ' || (o.detail->'confirmation'->>'method') FROM held_out o JOIN hosts h ON h.id = o.host_id")"

night 7 host-b 0 30
expect_eq "night 7: three jobs queued" 3 "$(team_settled)"
# what `pyscope submit --wait` waits on: a batch reopened to confirm is running, not analysed
st7() { "$PYSCOPE" status 7 --coordinator "$COORD_EP" --json | "$PY" -c 'import json,sys; b=json.load(sys.stdin); b=b.get("batch", b); print(b["state"], b["analyzed"])'; }
expect_eq "night 7 while confirming: running, not analysed" "running False" "$(st7 2>&1)"
confirm_runs 7 host-b 0 30
expect_eq "night 7 settled" 0 "$(team_settled)"
expect_eq "night 7 settled: done and analysed" "done True" "$(st7 2>&1)"
q() { pg_sql "SELECT $1 FROM regressions g JOIN hosts h ON h.id = g.host_id WHERE g.metric = 'wall_s' AND $2"; }
expect_eq "night 7: one wall-time regression on host-b, confirmed" "7 host-b confirmed" \
    "$(q "g.batch_id || ' ' || h.hostname || ' ' || g.state" "g.batch_id = 7")"
expect_eq "night 7: confirmed by bracketing with the reference" "bracketed examples/ref.py 2" \
    "$(q "g.confirmation->>'method' || ' ' || (g.confirmation->>'reference') || ' ' || (g.confirmation->>'reference_runs')" "g.batch_id = 7")"
expect_eq "night 7: no drift, change about +30%" "t t" \
    "$(q "abs((g.confirmation->>'drift_cpu_pct')::float8) < 3 AND abs((g.confirmation->>'drift_wall_pct')::float8) < 3, g.change_pct BETWEEN 25 AND 35" "g.batch_id = 7" | tr '|' ' ')"

night 8 host-a 50 30
expect_eq "night 8: three jobs queued" 3 "$(team_settled)"
confirm_runs 8 host-a 50 30
expect_eq "night 8 settled" 0 "$(team_settled)"
expect_eq "night 8: one wall-time regression on host-a, confirmed" "8 host-a confirmed" \
    "$(q "g.batch_id || ' ' || h.hostname || ' ' || g.state" "g.batch_id = 8")"
expect_eq "night 8: drift +50% seen by the reference, removed from the change" "t t t" \
    "$(q "(g.confirmation->>'drift_cpu_pct')::float8 BETWEEN 45 AND 55, g.change_pct BETWEEN 25 AND 35, (g.confirmation->>'candidate_wall_s_raw')::float8 > 1.8" "g.batch_id = 8" | tr '|' ' ')"
expect_eq "nothing else flagged" 0 "$(pg_sql "SELECT count(*) FROM regressions WHERE batch_id NOT IN (7, 8)")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 6 --json
expect_eq "report of night 6: nothing found, nothing unsettled (dismissed is not inconclusive)" "0 0" \
    "$(echo "$OUT" | json_get "'%d %d' % (len(d['report']['regressions']), len(d['report']['inconclusive']))")"
# issue 11: a re-run that dismissed the night is no finding, but not silent either: the
# report lists it with what the night showed and what the confirmation found
expect_eq "report of night 6: the dismissed re-run listed, the nightly change and the confirmation's" \
    "examples/a.py host-b 6 night 6 regression True True bracketed" \
    "$(echo "$OUT" | json_get "' '.join(str(x) for u in d['report']['dismissed'] for x in (u['script'], u['host'], u['batch_id'], u['batch_label'], u['nightly']['verdict'], 20 < u['nightly']['change_pct'] < 40, abs(u['detail']['wall_s']['change_pct']) < 10, u['detail']['confirmation']['method']))")"
capture "$CLI" report --batch 6 --out "$T/r6d.html"
expect_match "the HTML report folds it under 'Re-run and dismissed (1)'" \
    '<h2>Re-run and dismissed \(1\)</h2>.*examples/a.py on host-b, batch 6 \(night 6\): the nightly run found wall \+[23][0-9]\.[0-9]% \(regression\); the confirmation found wall' \
    "$(tr -d '\n' <"$T/r6d.html")"
capture "$CLI" report --batch 6 --text
expect_match "--text says it too" 'Re-run and dismissed: 1 series-night \(the re-run found no change\)' "$OUT"
capture "$CLI" report --batch 7 --json
expect_eq "report of night 7: no dismissed re-run" 0 "$(echo "$OUT" | json_get "len(d['report']['dismissed'])")"
pg_sql "UPDATE held_out SET reason = 'inconclusive'" >/dev/null
# and inconclusive the night before too (no run of it judged between): a streak of two
pg_sql "INSERT INTO unsettled (script_id, host_id, python_build, batch_id, metric, rule, detail)
        SELECT script_id, host_id, python_build, 5, 'wall_s', 'within_noise', '{\"change_pct\": 12}'
        FROM held_out WHERE batch_id = 6" >/dev/null
capture "$CLI" report --batch 6 --json
expect_eq "report of night 6: no dismissed re-run left" 0 "$(echo "$OUT" | json_get "len(d['report']['dismissed'])")"
expect_eq "an inconclusive confirmation is listed with its figures" "examples/a.py host-b 6 True" \
    "$(echo "$OUT" | json_get "' '.join(str(x) for u in d['report']['inconclusive'] for x in (u['script'], u['host'], u['batch_id'], 'cpu_s' in u['detail']))")"
expect_eq "since which night it has been inconclusive: night 5, 2 nights in a row" "5 night 5 2" \
    "$(echo "$OUT" | json_get "' '.join(str(u[k]) for u in d['report']['inconclusive'] for k in ('since_batch_id', 'since_batch_label', 'nights_in_row'))")"
expect_eq "counted: 1 series on 1 host, per rule" "1 1 1 1" \
    "$(echo "$OUT" | json_get "' '.join(str(x) for c in [d['report']['inconclusive_counts']] for x in (c['rows'], c['series'], c['hosts'], len(c['by_rule'])))")"
capture "$CLI" report --batch 6 --text
expect_match "--text counts the inconclusive by rule" \
    'Inconclusive: 1 series-night \(1 series on 1 host\): [a-z_]+ 1 \(the HTML report' "$OUT"
capture "$CLI" report --batch 5 --json
expect_eq "report of night 5: its own night only (no streak before it)" "5 1" \
    "$(echo "$OUT" | json_get "' '.join(str(u[k]) for u in d['report']['inconclusive'] for k in ('since_batch_id', 'nights_in_row'))")"
capture "$CLI" report --batch 6 --out "$T/r6.html"
expect_match "the HTML report lists it" 'id="inconclusive"' "$(cat "$T/r6.html")"
expect_match "the HTML heading counts it" '<h2>Inconclusive: 1 series on 1 host</h2>' "$(cat "$T/r6.html")"
expect_match "the HTML says since when" 'inconclusive since night 5, 2 nights in a row' "$(cat "$T/r6.html")"
capture "$CLI" report --batch 8 --json
expect_eq "report: the confirmation object" "bracketed" \
    "$(echo "$OUT" | json_get "[g for g in d['report']['regressions'] if g['metric'] == 'wall_s'][0]['confirmation']['method']")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
