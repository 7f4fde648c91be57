#!/usr/bin/env bash
# test_team_dating.sh - every row of one change agrees on the night it began (issue 11).
# Night 6 slows slow() of a.py on host-b by 30%, confirmed: rows on wall and CPU time and
# slow()'s total and self time. Its wall-time row is then removed, as when only an exact
# metric (instructions) flagged night 6 and the wall time was inconclusive
# (tests/unit/test_analysis.c plays that decision; this test the store and the report).
# Night 7 is as slow: the wall time regresses again, a new row, confirmed by its re-run,
# that belongs to the change still open since night 6: it is stored since night 6 with the
# change's 2 nights, and the report says "since night 6". Analysed again, nothing moves.
# Once that row is triaged 'invalid', night 6's wall-time key is taken: night 8's wall-time
# row is its own night's.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

source "$PYSCOPE_SRC/tests/integration/team_lib.sh"
pg_start
coord_start
team_six_nights
expect_eq "night 6: wall, CPU, slow() total and self" "cpu_s self_s total_s wall_s" \
    "$(pg_sql "SELECT string_agg(metric, ' ' ORDER BY metric) FROM regressions WHERE batch_id = 6")"
pg_sql "DELETE FROM regressions WHERE metric = 'wall_s'" >/dev/null

team_seed team_seed.sql 7 7 30
expect_eq "night 7: the new wall-time regression is re-queued to confirm" 1 "$(team_settled)"
team_seed team_confirm.sql 7 7 30
expect_eq "night 7 settled" 0 "$(team_settled)"
expect_eq "the wall-time row: since night 6, last night 7, 2 nights, confirmed" "6 7 2 confirmed" \
    "$(pg_sql "SELECT batch_id || ' ' || last_batch_id || ' ' || nights || ' ' || state FROM regressions WHERE metric = 'wall_s'")"
expect_eq "it names the finding it joined" 1 \
    "$(pg_sql "SELECT count(*) FROM regressions w JOIN regressions o ON o.id = (w.detail->'since_finding'->>'id')::bigint WHERE w.metric = 'wall_s' AND o.batch_id = 6")"
expect_eq "every row: since night 6, last night 7, 2 nights" "6 7 2" \
    "$(pg_sql "SELECT string_agg(DISTINCT batch_id || ' ' || last_batch_id || ' ' || nights, ',') FROM regressions")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 7 --json
expect_eq "report of night 7 exits 0" 0 "$RC"
expect_eq "report of night 7: 4 regressions, all since batch 6, 2 nights" "4 6 2" \
    "$(echo "$OUT" | json_get "'%d %s %s' % (len(d['report']['regressions']), ','.join(sorted({str(g['batch_id']) for g in d['report']['regressions']})), ','.join(sorted({str(g['nights']) for g in d['report']['regressions']})))")"
# the wall-time row (the headline's) names night 6's run as its first night's, beside its
# candidate run of night 7
WALL_RUNS=$(echo "$OUT" | json_get "' '.join([(g['first_run'] or '-') + ' ' + g['candidate_run'] + ' ' + str(g['candidate_batch_id']) for g in d['report']['regressions'] if g['metric'] == 'wall_s'])")
read -r FIRST_RUN CAND_RUN CAND_BATCH <<<"$WALL_RUNS"
expect_eq "its candidate run is night 7's" "7 7" "$CAND_BATCH $(pg_sql "SELECT batch_id FROM runs WHERE run_id = '$CAND_RUN'")"
expect_eq "its first_run is night 6's, the joined finding's candidate run" "6 1" \
    "$(pg_sql "SELECT r.batch_id || ' ' || (SELECT count(*) FROM regressions w JOIN regressions o ON o.id = (w.detail->'since_finding'->>'id')::bigint WHERE w.metric = 'wall_s' AND o.candidate_run = r.run_id) FROM runs r WHERE r.run_id = '$FIRST_RUN'")"
expect_eq "a row of its own first night: first_run is its candidate run" "" \
    "$(echo "$OUT" | json_get "' '.join(g['metric'] for g in d['report']['regressions'] if g['metric'] != 'wall_s' and g['first_run'] != g['candidate_run'])")"
capture "$CLI" report --batch 7 --text
expect_eq "text report exits 0" 0 "$RC"
expect_match "its headline (wall time): since night 6" "examples/a.py is [0-9.]+% slower on [^ ]+.*, since night 6 \(batch 6\)" "$OUT"
expect_nomatch "never since night 7" "since night 7" "$OUT"
capture "$CLI" report --batch 7 --out "$T/report.html"
expect_eq "HTML report exits 0" 0 "$RC"
expect_match "the page's headline: since night 6" "slower</b>.* since night 6 " "$(cat "$T/report.html")"
expect_match "the page's headline names night 6's run" "slower</b>.* since night 6 <span class=\"muted\">\(commits [^)]*, run <code title=\"$FIRST_RUN\">" "$(cat "$T/report.html")"
expect_nomatch "the page names night 7's run nowhere" "${CAND_RUN:0:8}" "$(cat "$T/report.html")"
expect_nomatch "the page: never since night 7" "since night 7" "$(cat "$T/report.html")"

# Analysed again (both passes of night 7): the same rows.
pg_sql "UPDATE batches SET analyzed = NULL, analysis_pass = 0 WHERE id = 7" >/dev/null
expect_eq "re-analysis queues nothing" 0 "$(team_settled)"
expect_eq "re-analysis: still 4 rows, since 6, 2 nights" "4 6 2" \
    "$(pg_sql "SELECT count(*) || ' ' || max(batch_id) || ' ' || max(nights) FROM regressions")"

# Night 6's wall-time key taken (the row triaged 'invalid'): night 8's row is night 8's.
capture "$CLI" triage "$(pg_sql "SELECT id FROM regressions WHERE metric = 'wall_s'")" invalid
expect_eq "triaged" 0 "$RC"
team_seed team_seed.sql 8 8 30
expect_eq "night 8: re-queued to confirm" 1 "$(team_settled)"
team_seed team_confirm.sql 8 8 30
expect_eq "night 8 settled" 0 "$(team_settled)"
expect_eq "night 8's wall-time row: its own night, 1 night, joined nothing" "8 8 1 false" \
    "$(pg_sql "SELECT batch_id || ' ' || last_batch_id || ' ' || nights || ' ' || (detail ? 'since_finding') FROM regressions WHERE metric = 'wall_s' AND state <> 'invalid'")"
expect_eq "the others go on since night 6, 3 nights" "6 8 3" \
    "$(pg_sql "SELECT string_agg(DISTINCT batch_id || ' ' || last_batch_id || ' ' || nights, ',') FROM regressions WHERE metric <> 'wall_s'")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
