#!/usr/bin/env bash
# test_report_many.sh - the team report degrades, never fails: 500 regressed series (each
# with a few KB of "why", 1.5 MB in all) in one batch. `pyscope report` renders the worst 100
# and says how many more there are; --limit N lists N; --json --limit 1000 still answers (the
# coordinator cuts the list to fit its 1 MiB reply and says so); a bad --limit is a usage
# error. The limit counts series, not metric rows: 10 series x 12 metrics (120 rows) are all
# listed, each whole and spoken of by its wall time, and the headline counts every series
# even when the list is cut (--limit 3). A finding that ended is not counted still open and
# says when it ended; a flagged matrix cell names the finding of the metric that decided.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start
export PYSCOPE_COORDINATOR="$COORD_EP"
out=$(fake --name agent-m <<'CMDS'
hello
submit examples/a.py
ready 1
result 1 1
CMDS
)
expect_match "one run stored" "^ack run_id=" "$out"
# 500 regressed series of that batch (a script each), straight into the table, each with a
# long "why"
pg_sql "INSERT INTO scripts (key) SELECT 'bench/m' || k || '.py' FROM generate_series(1, 500) k" \
    >/dev/null
pg_sql "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric,
        function_key, kind, mode, change_pct, baseline_median, candidate_median, baseline_runs,
        candidate_run, why, last_batch_id, last_run)
    SELECT 1, (SELECT id FROM scripts WHERE key = 'bench/m' || k || '.py'), r.host_id,
        r.python_build, 'self_s', 'bench.py:f' || k || ':1',
        'regression', 'statistical', 10 + k * 0.1, 1, 1.1, '{}', r.run_id,
        jsonb_build_object('functions', (SELECT jsonb_agg(jsonb_build_object(
            'key', 'bench/' || repeat('module_', 12) || k || '.py:function_' || f || ':' || f,
            'delta_s', 0.01 * f, 'share_pct', f)) FROM generate_series(1, 16) f)),
        1, r.run_id
    FROM runs r, generate_series(1, 500) k" >/dev/null
expect_eq "500 regressions seeded" 500 "$(pg_sql "SELECT count(*) FROM regressions")"
expect_eq "over 1 MiB of them" t "$(pg_sql "SELECT sum(octet_length(why::text)) > 1100000 FROM regressions")"

capture "$PYSCOPE" report --batch 1 --out "$T/team.html"
expect_eq "report renders on the worst night" 0 "$RC"
expect_match "report says how many more" \
    "500 series got slower \\(500 metrics\\): showing the worst 100 of 500" "$OUT"
html=$(cat "$T/team.html")
expect_match "HTML counts them all, says and N more" \
    '<p class="more" id="regressions-more">Showing the worst 100 of 500 series \(500 metrics changed in all\); 400 more' "$html"
expect_match "HTML headline counts every series" '500 series got slower</b> on 1 host' "$html"
expect_eq "HTML lists 100" 100 "$(grep -o '<tr data-id="' "$T/team.html" | wc -l)"

capture "$PYSCOPE" report --batch 1 --limit 20 --out "$T/team20.html"
expect_eq "--limit 20" 0 "$RC"
expect_eq "--limit 20 lists 20" 20 "$(grep -o '<tr data-id="' "$T/team20.html" | wc -l)"

st=0
# (--timeout 60: the coordinator builds 1.5 MB of rows twice, slow under ASan on a busy machine)
"$PYSCOPE" report --batch 1 --limit 1000 --json --timeout 60 >"$T/all.json" 2>"$T/all.err" || st=$?
expect_eq "--json --limit 1000 answers" 0 "$st"
[ "$st" -eq 0 ] || cat "$T/all.err"
expect_eq "the reply was cut to fit and says so" "True True 500" \
    "$(json_get 'd["truncated"]["limit"] < 1000, len(d["report"]["regressions"]) == d["truncated"]["limit"], d["report"]["regressions_total"]' <"$T/all.json")"
expect_match "the coordinator logs the cut" "reply was cut to [0-9]+ rows \\(of 1000 asked\\)" "$(cat "$COORD_LOG")"

# Batch 2: 10 series x 12 metrics (wall and CPU time, 10 functions), 120 rows. Each series'
# functions moved more than its wall time; bench/r1.py moved least of all. A limit of 100
# metric rows dropped bench/r1.py and spoke of the others by a function: 100 series lists all.
pg_sql "INSERT INTO batches (suite, label, \"commit\", state, finished, analyzed)
    VALUES ('nightly', 'night 2', 'c2', 'done', now(), now())" >/dev/null
pg_sql "INSERT INTO scripts (key) SELECT 'bench/r' || k || '.py' FROM generate_series(1, 10) k" \
    >/dev/null
pg_sql "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric,
        function_key, kind, mode, change_pct, baseline_median, candidate_median, baseline_runs,
        candidate_run, last_batch_id, last_run)
    SELECT 2, (SELECT id FROM scripts WHERE key = 'bench/r' || k || '.py'), r.host_id,
        r.python_build, m.metric, m.fn, 'regression', 'statistical',
        CASE WHEN k = 1 THEN 10 + m.i * 0.1 ELSE 20 + k + m.i * 3 END, 1, 1.2, '{}', r.run_id,
        2, r.run_id
    FROM runs r, generate_series(1, 10) k,
        (SELECT 0 AS i, 'wall_s' AS metric, '' AS fn UNION ALL SELECT 1, 'cpu_s', ''
         UNION ALL SELECT 1 + f, 'self_s', 'bench.py:g' || f || ':1'
         FROM generate_series(1, 10) f) m
    WHERE r.batch_id = 1" >/dev/null
expect_eq "120 rows in 10 series" "120|10" \
    "$(pg_sql "SELECT count(*), count(DISTINCT script_id) FROM regressions WHERE batch_id = 2")"
capture "$PYSCOPE" report --batch 2 --out "$T/r2.html"
expect_eq "batch 2 report" 0 "$RC"
html=$(cat "$T/r2.html")
expect_match "10 series counted" '10 series got slower</b> on 1 host \(10 still open\)' "$html"
expect_match "the section counts 10" 'What got slower \(10\)' "$html"
expect_match "the series that moved least is listed" 'bench/r1\.py' "$html"
expect_eq "every series spoken of by its wall time" 10 \
    "$(grep -o 'class="bad">[0-9.]*% slower</b>' "$T/r2.html" | wc -l)"
expect_eq "each series whole: 120 metric rows" 120 "$(grep -o '<tr data-id="' "$T/r2.html" | wc -l)"
expect_eq "not cut: no 'more' note" "" "$(grep -o 'id="regressions-more"' "$T/r2.html" || true)"
capture "$PYSCOPE" report --batch 2 --limit 3 --out "$T/r2-3.html"
html=$(cat "$T/r2-3.html")
expect_match "--limit 3: the headline still counts 10" '10 series got slower</b>' "$html"
expect_match "--limit 3: says it shows the worst 3 of 10" 'Showing the worst 3 of 10 series' "$html"
expect_eq "--limit 3: 3 whole series, 36 rows" 36 "$(grep -o '<tr data-id="' "$T/r2-3.html" | wc -l)"
expect_match "--limit 3: the worst series are listed" 'bench/r10\.py' "$html"
capture "$PYSCOPE" report --batch 2 --text
expect_eq "--text" 0 "$RC"
expect_match "--text counts series" "Regressions: 10 series \\(120 metrics\\), 10 still open, worst first" "$OUT"
expect_eq "--text: a sentence per series" 10 "$(grep -c '^bench/r[0-9]*\.py is [0-9.]*% slower on ' <<<"$OUT")"
expect_match "--text: each says its commit and metrics" \
    '^bench/r10\.py is 30\.0% slower on .*since night 2 \(batch 2\), commit c2, new; 12 metrics flagged' "$OUT"
"$PYSCOPE" report --batch 2 --limit 3 --json >"$T/r2.json"
expect_eq "--json: totals of every finding" "10 120 10 3" \
    "$(json_get 'd["report"]["regressions_series_total"], d["report"]["regressions_total"], d["report"]["regressions_open_total"], len({g["script"] for g in d["report"]["regressions"]})' <"$T/r2.json")"

# Night 3 (stranger11's D4): bench/r1.py's findings ended with it (ended_batch_id), the other 9
# series go on. The report still lists 10 series but only 9 are still open (the JSON counts,
# the HTML headline, --text), and r1's card says when its finding ended.
out=$(fake --name agent-m <<'CMDS'
hello
submit examples/a.py
ready 1
result 2 1
CMDS
)
expect_match "night 3's run stored" "^ack run_id=" "$out"
expect_eq "it is batch 3" 3 "$(pg_sql "SELECT max(batch_id) FROM runs")"
pg_sql "UPDATE batches SET label = 'night 3' WHERE id = 3" >/dev/null
pg_sql "UPDATE regressions SET ended_batch_id = 3, updated = now() WHERE batch_id = 2
    AND script_id = (SELECT id FROM scripts WHERE key = 'bench/r1.py')" >/dev/null
"$PYSCOPE" report --batch 2 --json >"$T/r2e.json"
expect_eq "--json: 10 series, 9 still open; r1's rows say when they ended" "10 9 night 3" \
    "$(json_get 'd["report"]["regressions_series_total"], d["report"]["regressions_open_total"], " ".join(sorted({g["ended_batch_label"] for g in d["report"]["regressions"] if g["script"] == "bench/r1.py"}))' <"$T/r2e.json")"
capture "$PYSCOPE" report --batch 2 --out "$T/r2e.html"
html=$(cat "$T/r2e.html")
expect_match "HTML headline: 10 series, 9 still open" '10 series got slower</b> on 1 host \(9 still open\)' "$html"
expect_eq "HTML: r1's card is closed; it says when it ended, in its line and its 12 metric rows" 13 \
    "$(sed -n '/<li class="change regression closed" data-script="bench\/r1\.py"/,/<\/li>/p' "$T/r2e.html" | grep -o 'ended with night 3 (batch 3)' | wc -l)"
expect_eq "HTML: no other card says it ended" 13 "$(grep -o 'ended with night 3' "$T/r2e.html" | wc -l)"
capture "$PYSCOPE" report --batch 2 --text
expect_match "--text: 9 still open" "Regressions: 10 series \\(120 metrics\\), 9 still open, worst first" "$OUT"
expect_match "--text: r1 ended" '^bench/r1\.py is [0-9.]*% slower on .*, new, ended with night 3 \(batch 3\); 12 metrics flagged' "$OUT"

# The matrix of night 3: examples/a.py regressed on its wall time (+20%, the metric that
# decided) and its CPU time (+45%). The flagged cell names the wall time's finding, not the
# series' worst row (stranger11: a cell showed the CPU row of a series decided on wall time).
pg_sql "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric,
        function_key, kind, mode, change_pct, baseline_median, candidate_median, baseline_runs,
        candidate_run, last_batch_id, last_run, state, detail)
    SELECT 3, r.script_id, r.host_id, r.python_build, m.metric, '', 'regression', 'statistical',
        m.c, 1, 1 + m.c / 100, '{}', r.run_id, 3, r.run_id, 'confirmed',
        jsonb_build_object('unit', 's', 'decision', jsonb_build_object('metric', 'wall_s'))
    FROM runs r, (VALUES ('wall_s', 20.0), ('cpu_s', 45.0)) AS m(metric, c)
    WHERE r.batch_id = 3" >/dev/null
"$PYSCOPE" report --batch 3 --json >"$T/r3.json"
expect_eq "--json: the flagged cell's finding is the deciding wall time's" \
    "examples/a.py regression wall_s 20" \
    "$(json_get '" ".join(str(x) for c in d["report"]["matrix"]["cells"] if c["status"] != "ok" for x in (c["script"], c["status"], c["finding"]["metric"], c["finding"]["change_pct"]))' <"$T/r3.json")"
expect_eq "--json: with its levels" "1 1.2" \
    "$(json_get '" ".join(str(c["finding"].get(k)) for c in d["report"]["matrix"]["cells"] if c["status"] != "ok" for k in ("baseline_median", "candidate_median"))' <"$T/r3.json")"
capture "$PYSCOPE" report --batch 3 --out "$T/r3.html"
expect_match "HTML: the cell names the wall time's finding and shows the level before" \
    '<td class="num regression" title="regression \+20\.0% in wall time since batch 3 \(finding [0-9]+\): 1\.000 s → 1\.200 s; median wall time before it \([0-9]+ runs\) → since it \([0-9]+ runs\)"><span class="muted before">[0-9.]+ m?s →</span> [0-9.]+ m?s ▲</td>' \
    "$(cat "$T/r3.html")"

capture "$PYSCOPE" report --limit 0
expect_eq "--limit 0 is a usage error" 2 "$RC"
capture "$PYSCOPE" report --limit 1001
expect_eq "--limit 1001 is a usage error" 2 "$RC"
expect_match "--limit explained" "from 1 to 1000" "$OUT"
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
