#!/usr/bin/env bash
# test_analysis_golden.sh - the batch analysis decides as it did: a golden comparison.
# labels: asan
#
# Twelve nights of a farm shaped to exercise every part of the baseline rule
# (tests/integration/analysis_golden.sql: an open finding that holds later
# baselines, a triage 'expected' that restarts one, a held-out night, a second
# Python build, a series that skips nights, a run too wide for the covering
# index, runs stored late, an A/B try's batch in between), analysed night by
# night by the coordinator; then every finding (its verdict, change, p and q,
# interval, medians and the nights of its baseline runs, night by night),
# every held-out night, every unsettled series and the baseline `pyscope
# history --host` says each series' next night has, printed one a line, must be
# the lines of tests/integration/golden/analysis_golden.txt: written by the
# analysis before its samples query was rewritten (speed16c: grouped reads of
# the resets, holds and held-out nights, no JIT; the "next" lines by the
# coordinator whose farm_baseline() still restated the rule in C). A faster
# analysis that decides differently fails here, and so does a history --host
# that says another next baseline than it did. The farm's times are fixed and its noise
# deterministic, so a change of this file means a change of the rule: write it
# anew with GOLDEN_WRITE=1 (GOLDEN_COORD=PATH: with that coordinator binary)
# and say why in the commit.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

golden=$PYSCOPE_SRC/tests/integration/golden/analysis_golden.txt
COORD=${GOLDEN_COORD:-$COORD} # another build's coordinator, to write or check the file with
pg_start
# GOLDEN_FAULT: PYSCOPE_FAULT for the coordinator (test_analysis_stream.sh: the same farm,
# each series decided after every row of its samples and decided again at the next)
if [ -n "${GOLDEN_FAULT:-}" ]; then
    PYSCOPE_FAULT=$GOLDEN_FAULT coord_start
else
    coord_start
fi
night() {
    psql -q -v ON_ERROR_STOP=1 -v night="$1" -f "$PYSCOPE_SRC/tests/integration/analysis_golden.sql" >/dev/null
    expect_eq "night $1: analysed, nothing re-queued" 0 "$(team_settled)"
}
for n in 1 2 3 4 5 6; do night "$n"; done
# an A/B try's batch between nights 6 and 7: step.py and late.py twice as slow (no night)
pg_sql "INSERT INTO batches (suite, label, "commit", state, created, finished, analyzed, purpose, try_base)
        VALUES ('golden', 'try', 'gtry', 'done', timestamptz '2026-01-07 12:00+00', timestamptz '2026-01-07 13:00+00',
                timestamptz '2026-01-07 13:00+00', 'try', repeat('ab', 20));
        INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state, purpose)
        SELECT (SELECT max(id) FROM batches), s.id, h.id, 5, 0, 'sample', 60, 'done', 'try_head'
        FROM scripts s, hosts h WHERE s.key IN ('golden/step.py', 'golden/late.py')
        AND h.hostname = CASE s.key WHEN 'golden/step.py' THEN 'golden-1' ELSE 'golden-2' END;
        INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,
                          python_version, python_build, python_executable, outcome, message, governor,
                          load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,
                          started_at, stored_at, wall_median, cpu_median, rss_median)
        SELECT gen_random_uuid(), j.id, 1, j.batch_id, j.host_id, j.script_id, 'agent-golden', 'abc',
               '3.11', 'CPython 3.11 gcc', '/usr/bin/python', 'ok', '', 'performance', 0,
               '{2,2.01,1.99,2.02,1.98}', '{1.96,1.97,1.95,1.98,1.94}', '{1000,1000,1000,1000,1000}',
               '{0,0,0,0,0}', '{0,0,0,0,0}', '{f,f,f,f,f}', timestamptz '2026-01-07 12:30+00',
               timestamptz '2026-01-07 12:30+00', 2, 1.96, 1000
        FROM jobs j WHERE j.batch_id = (SELECT max(id) FROM batches)" >/dev/null
for n in 7 8 9; do night "$n"; done
expect_eq "night 9: expected.py's step found" 1 \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN scripts s ON s.id = g.script_id
               WHERE s.key = 'golden/expected.py' AND g.metric = 'wall_s' AND g.kind = 'regression'")"
pg_sql "UPDATE regressions g SET state = 'expected' FROM scripts s
        WHERE s.id = g.script_id AND s.key = 'golden/expected.py'" >/dev/null
night 10
pg_sql "INSERT INTO held_out (script_id, host_id, python_build, batch_id, reason, detail)
        SELECT r.script_id, r.host_id, r.python_build, r.batch_id, 'dismissed', '{}'
        FROM runs r JOIN scripts s ON s.id = r.script_id JOIN batches b ON b.id = r.batch_id
        WHERE s.key = 'golden/held.py' AND b.label = 'night 10' GROUP BY 1, 2, 3, 4" >/dev/null
night 11
night 12

dump() {
    pg_sql "SELECT 'finding ' || concat_ws(' ', s.key, h.hostname, quote_literal(g.python_build), g.metric,
                   quote_literal(g.function_key), g.kind, g.state, g.mode, 'night', b.label, 'last', lb.label,
                   'ended', coalesce(eb.label, '-'), 'nights', g.nights,
                   'change', round(g.change_pct::numeric, 4), 'p', coalesce(round(g.p_value::numeric, 6)::text, '-'),
                   'q', coalesce(round(g.q_value::numeric, 6)::text, '-'),
                   'ci', coalesce(round(g.ci_low_pct::numeric, 3)::text, '-'),
                   coalesce(round(g.ci_high_pct::numeric, 3)::text, '-'),
                   'medians', round(g.baseline_median::numeric, 6), round(g.candidate_median::numeric, 6),
                   'baseline', (SELECT string_agg(yb.label || '#' || y.attempt, ',' ORDER BY y.stored_at)
                                FROM unnest(g.baseline_runs) u(id) JOIN runs y ON y.run_id = u.id
                                JOIN batches yb ON yb.id = y.batch_id),
                   'candidate', (SELECT yb.label || '#' || y.attempt FROM runs y JOIN batches yb ON yb.id = y.batch_id
                                 WHERE y.run_id = g.candidate_run))
            FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id
            JOIN batches b ON b.id = g.batch_id JOIN batches lb ON lb.id = g.last_batch_id
            LEFT JOIN batches eb ON eb.id = g.ended_batch_id
            ORDER BY g.batch_id, s.key, h.hostname, g.python_build, g.metric, g.function_key, g.kind"
    pg_sql "SELECT 'held_out ' || concat_ws(' ', s.key, h.hostname, quote_literal(o.python_build), b.label, o.reason)
            FROM held_out o JOIN scripts s ON s.id = o.script_id JOIN hosts h ON h.id = o.host_id
            JOIN batches b ON b.id = o.batch_id ORDER BY o.batch_id, s.key, h.hostname, o.python_build"
    pg_sql "SELECT 'unsettled ' || concat_ws(' ', s.key, h.hostname, quote_literal(u.python_build), b.label,
                   u.metric, u.rule, quote_literal(u.detail->>'reason'))
            FROM unsettled u JOIN scripts s ON s.id = u.script_id JOIN hosts h ON h.id = u.host_id
            JOIN batches b ON b.id = u.batch_id ORDER BY u.batch_id, s.key, h.hostname, u.python_build, u.metric"
}
# what `pyscope history --host` says of each series' next night (coordinator/query_series.c
# farm_baseline(): the analysis' own rule, coordinator/analysis.h); run ids are random, and
# finding ids follow the order series were decided in
next_baselines() {
    local key host build
    pg_sql "SELECT DISTINCT s.key || '|' || h.hostname || '|' || r.python_build FROM runs r
            JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id ORDER BY 1" |
        while IFS='|' read -r key host build; do
            PYSCOPE_COORDINATOR="$COORD_EP" "$PYSCOPE" history "$key" --host "$host" \
                --python-build "$build" --json |
                json_get "'next $key $host \\'$build\\' n_runs %d held_out %d: %s' % (
                    d['baseline_for_next']['n_runs'], d['baseline_for_next']['held_out_runs'],
                    d['baseline_for_next']['message'])" |
                sed -E -e 's/at run [0-9a-f]{8},/at run RUN,/' -e 's/finding #[0-9]+/finding #ID/g'
        done
}
{ dump; next_baselines; } >"$T/now.txt"
if [ "${GOLDEN_WRITE:-0}" = 1 ]; then
    cp "$T/now.txt" "$golden"
    echo "GOLDEN_WRITE=1: wrote $golden ($(wc -l <"$golden") lines)"
fi
# the farm does what it is for (else the comparison below proves little)
f() { grep -c -E "$1" "$T/now.txt" || true; }
w="golden-[12] 'CPython 3.1[12] gcc' wall_s ''"
expect_eq "step.py 3.11's finding is open from night 5 to night 11, ended by night 12's new step" 1 \
    "$(f "^finding golden/step.py golden-1 'CPython 3.11 gcc' wall_s '' regression confirmed [a-z]+ night night 5 last night 11 ended night 12 ")"
expect_eq "night 12: step.py 3.11's baseline stops before night 5 (its open finding)" 1 \
    "$(f "^finding golden/step.py $w .* night night 12 .* baseline night 1#1,.*,night 4#2 candidate night 12#2$")"
expect_eq "night 12: expected.py's baseline starts at the run triaged 'expected'" 1 \
    "$(f "^finding golden/expected.py $w .* night night 12 .* baseline night 9#2,night 10#1,")"
expect_eq "no baseline holds held.py's held-out night 10" 0 "$(f "^finding golden/held.py .*baseline .*night 10#")"
expect_eq "night 12: sparse.py's baseline reaches back over the nights it skipped, wide run included" 1 \
    "$(f "^finding golden/sparse.py $w .* night night 12 .* baseline night 2#1,night 2#2,night 8#1,night 8#2,night 9#1,")"
expect_eq "night 12: late.py's baseline in the order the runs were stored" 1 \
    "$(f "^finding golden/late.py $w .* night night 12 .* baseline night 8#1,night 8#2,night 7#1,")"
expect_eq "no baseline holds the try's runs" 0 "$(f "baseline .*try#")"
expect_eq "every series has a finding on night 12" 6 \
    "$(grep "^finding .* wall_s .* night night 12 " "$T/now.txt" | awk '{print $2, $3, $4, $5}' | sort -u | wc -l)"
expect_eq "the findings, held-out nights and unsettled series are the golden ones" "" \
    "$(diff "$golden" "$T/now.txt" | head -40)"
coord_stop
# the analysis decided series while their samples came (and, with GOLDEN_FAULT, dropped
# decisions made before a series' last row: test_analysis_stream.sh)
logsum() { grep -o "[0-9]* $1" "$COORD_LOG" | awk '{s += $1} END {print s + 0}'; }
early=$(logsum "series decided while their runs came")
again=$(logsum "decided again")
expect_eq "series decided while their samples still came" yes "$([ "$early" -gt 0 ] && echo yes || echo "no: $early")"
if [ -n "${GOLDEN_FAULT:-}" ]; then
    expect_eq "decisions dropped when a later row of their series came" yes \
        "$([ "$again" -gt 0 ] && echo yes || echo "no: $again")"
else
    expect_eq "no decision dropped (each series' rows come together)" 0 "$again"
fi
finish
