#!/usr/bin/env bash
# test_report_many.sh - the team report degrades, never fails: 500 regressions (each with a
# few KB of "why", 1.5 MB in all) in one batch. `pyscope report` renders the worst 100 and
# says how many more there are; --limit N lists N; --json --limit 1000 still answers (the
# coordinator cuts the list to fit its 1 MiB reply and says so); a bad --limit is a usage
# error.
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
# 500 regressions of that batch, straight into the table, each with a long "why"
pg_sql "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric,
        function_key, kind, mode, change_pct, baseline_median, candidate_median, baseline_runs,
        candidate_run, why, last_batch_id, last_run)
    SELECT 1, r.script_id, r.host_id, r.python_build, 'self_s', 'bench.py:f' || k || ':1',
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
expect_match "report says how many more" "500 regressions: the worst 100 listed, and 400 more" "$OUT"
html=$(cat "$T/team.html")
expect_match "HTML counts them all, says and N more" \
    '<p class="more" id="regressions-more">500 metrics changed; the worst 100 are shown, and 400 more' "$html"
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

capture "$PYSCOPE" report --limit 0
expect_eq "--limit 0 is a usage error" 2 "$RC"
capture "$PYSCOPE" report --limit 1001
expect_eq "--limit 1001 is a usage error" 2 "$RC"
expect_match "--limit explained" "from 1 to 1000" "$OUT"
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
