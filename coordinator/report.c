/*
 * report.c - the team report's queries and statistics; triage.
 *
 * Design notes: the store gives rows as JSON (store_json_rows); the matrix
 * and the host-vs-host ratios are compare-hosts' (query_series_hardware:
 * the newest runs of each series of the report's batches), so the report and
 * `pyscope compare-hosts` never disagree; a flagged cell shows its series'
 * level since the finding began. The Python comparison is compare-pythons'
 * (query_series_pythons) for the same reason.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "bisection.h"
#include "flamediff.h"
#include "hostpair.h"
#include "html_team.h"
#include "query_series.h"
#include "revrange.h"
#include "stats.h"
#include "trybatch.h"
#include "xmalloc.h"

#define REPORT_DEFAULT_SINCE_S     86400u
#define REPORT_MAX_PAIRS           200u
#define REPORT_MAX_TRENDS          100u /* flagged series with a sparkline */
#define REPORT_TREND_POINTS        30u  /* newest runs in a sparkline */
#define REPORT_MAX_PYTHONS         20u  /* (script, host) Python comparisons */
#define REPORT_MAX_FLAMES          10u  /* regressed series with a flame graph diff */
#define REPORT_FLAME_BASELINE_RUNS 5u   /* newest baseline runs whose stacks are read */
#define REPORT_FLAME_NODES         150u /* frames kept in each diff */

static const char BATCHES_SQL[] =
    "SELECT json_build_object('id', b.id, 'suite', b.suite, 'label', b.label,"
    " 'commit', b.\"commit\", 'state', b.state, 'created', pyscope_ts(b.created),"
    " 'finished', pyscope_ts(b.finished), 'analyzed', b.analyzed IS NOT NULL,"
    " 'jobs', (SELECT count(*) FROM jobs j WHERE j.batch_id = b.id),"
    " 'jobs_failed', (SELECT count(*) FROM jobs j WHERE j.batch_id = b.id AND j.state = 'failed'),"
    " 'runs', (SELECT count(*) FROM runs r WHERE r.batch_id = b.id),"
    " 'runs_not_ok', (SELECT count(*) FROM runs r WHERE r.batch_id = b.id AND r.outcome <> 'ok'),"
    " 'series', (SELECT count(DISTINCT (r.script_id, r.host_id, r.python_build)) FROM runs r"
    "   WHERE r.batch_id = b.id AND r.outcome = 'ok'))::text"
    " FROM batches b WHERE ($1::bigint > 0 AND b.id = $1::bigint) OR ($1::bigint = 0 AND"
    " b.purpose = 'measure' AND"
    " coalesce(b.finished, b.created) >= now() - $2::bigint * interval '1 second')"
    " ORDER BY b.id DESC LIMIT $3";

/*
 * The findings of kind $2 of the batches $1 (bigint[]), as a subquery: id, series
 * (script, host, Python build), whole-script metrics with function_key '', |change|,
 * and whether it is still open: its triage leaves it open (new, confirmed, ack) and it
 * has not ended (html_team_row_open, lib/html_team.h).
 */
#define FINDINGS_SQL                                                                               \
    "(SELECT g.id, g.script_id, g.host_id, g.python_build, g.function_key,"                        \
    " coalesce(abs(g.change_pct), 0) AS a,"                                                        \
    " g.state IN ('new', 'confirmed', 'ack') AND g.ended_batch_id IS NULL AS open"                 \
    " FROM regressions g WHERE (g.batch_id = ANY($1::bigint[]) OR g.last_batch_id = "              \
    "ANY($1::bigint[])) AND g.kind = $2)"

/* The metric rows listed of one series: its whole-script metrics first, then its worst functions */
#define REPORT_SERIES_ROWS_SQL "40"

/*
 * The run of finding g's first night (its batch_id), cr its candidate run's row: that run
 * when it is of that night; else (a row dated on the first night of the open change it
 * joined, coordinator/analysis.c's date_on_open(): its candidate run is a later night's) the
 * candidate run of that night's finding of the series and kind that is of that night, the
 * one it joined (detail.since_finding) first; NULL when there is none (rows since deleted).
 */
#define FIRST_RUN_SQL(g)                                                                           \
    "CASE WHEN cr.batch_id = " #g ".batch_id THEN " #g ".candidate_run ELSE (SELECT"               \
    " f.candidate_run FROM regressions f JOIN runs fr ON fr.run_id = f.candidate_run"              \
    " WHERE f.batch_id = " #g ".batch_id AND fr.batch_id = " #g ".batch_id"                        \
    " AND f.script_id = " #g ".script_id AND f.host_id = " #g ".host_id"                           \
    " AND f.python_build = " #g ".python_build AND f.kind = " #g ".kind"                           \
    " ORDER BY f.id::text IS DISTINCT FROM " #g ".detail->'since_finding'->>'id', f.id"            \
    " LIMIT 1) END"

/* clang-format off: the range macro (coordinator/revrange.h) in the middle of the SQL.
 * json_build_object takes at most 100 arguments (PostgreSQL's FUNC_MAX_ARGS): this one has
 * 100 (50 members, the range macro's 2 and the bisection included), so a new member goes
 * into a nested object, or is added with jsonb's || as 'times' is (what the wall and CPU
 * time did beside a finding on another metric: coordinator/analysis.c's time_metrics()). */
// clang-format off
static const char REGRESSIONS_SQL[] =
    "SELECT (json_build_object('id', g.id, 'batch_id', g.batch_id, 'script', s.key,"
    " 'host', h.hostname, 'host_fingerprint', h.fingerprint, 'python_build', g.python_build,"
    " 'metric', g.metric, 'function', nullif(g.function_key, ''), 'kind', g.kind, 'mode', g.mode,"
    " 'change_pct', g.change_pct, 'ci_low_pct', g.ci_low_pct, 'ci_high_pct', g.ci_high_pct,"
    " 'p_value', g.p_value, 'q_value', g.q_value, 'baseline_median', g.baseline_median,"
    " 'candidate_median', g.candidate_median, 'baseline_runs', cardinality(g.baseline_runs),"
    " 'candidate_run', g.candidate_run::text, 'why', g.why, 'script_changed', g.script_changed,"
    " 'python_changed', g.python_changed, 'host_changed', g.host_changed, 'state', g.state,"
    " 'confirm_runs', g.confirm_runs, 'note', g.note, 'created', pyscope_ts(g.created),"
    " 'last_batch_id', g.last_batch_id, 'last_run', g.last_run::text, 'nights', g.nights,"
    " 'unit', g.detail->'unit', 'noise_pct', g.detail->'noise_pct',"
    " 'threshold_pct', g.detail->'threshold_pct', 'hint', g.detail->'hint',"
    " 'rule', g.detail->'rule', 'reason', g.detail->'reason', 'contention',"
    " g.detail->'contention', 'decision', g.detail->'decision',"
    " 'batch_label', b.label, 'batch_commit', b.\"commit\", 'batch_finished', "
    "pyscope_ts(b.finished),"
    " 'good_batch_id', gb.id, 'good_batch_label', gb.label, 'good_commit', gb.\"commit\","
    " 'ended_batch_id', g.ended_batch_id, 'ended_batch_label', eb.label,"
    " 'confirmation', g.confirmation,"
    " 'bisection', " BISECTION_OF_SQL(g) ","
    " " REVRANGE_ENDS_SQL(g) ")::jsonb || jsonb_build_object('times', g.detail->'times',"
    /* the run of its first night (FIRST_RUN_SQL) and the batch of its candidate run */
    " 'first_run', " FIRST_RUN_SQL(g) "::text, 'candidate_batch_id', cr.batch_id))::text"
    " FROM (SELECT k.id, k.open, k.worst, k.first FROM (SELECT f.id, x.open, x.worst, x.first,"
    "   row_number() OVER (PARTITION BY f.script_id, f.host_id, f.python_build"
    "    ORDER BY (coalesce(f.function_key, '') = '') DESC, f.a DESC, f.id) AS n"
    "   FROM " FINDINGS_SQL " f"
    "   JOIN (SELECT script_id, host_id, python_build, bool_or(open) AS open, max(a) AS worst,"
    "     min(id) AS first FROM " FINDINGS_SQL " f0 GROUP BY 1, 2, 3"
    "     ORDER BY bool_or(open) DESC, max(a) DESC, min(id) LIMIT $3) x"
    "   USING (script_id, host_id, python_build)) k"
    "  WHERE k.n <= " REPORT_SERIES_ROWS_SQL ") t"
    " JOIN regressions g ON g.id = t.id"
    " JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id"
    " JOIN batches b ON b.id = g.batch_id"
    /* the batch of the newest baseline run: the last one known good */
    " LEFT JOIN runs lr ON lr.run_id = g.baseline_runs[cardinality(g.baseline_runs)]"
    " LEFT JOIN batches gb ON gb.id = lr.batch_id"
    " LEFT JOIN batches eb ON eb.id = g.ended_batch_id"
    " LEFT JOIN runs cr ON cr.run_id = g.candidate_run"
    " ORDER BY t.open DESC, t.worst DESC, t.first, coalesce(abs(g.change_pct), 0) DESC, g.id";
// clang-format on

/* The series that ran in the batches $1 (bigint[]): script, host, Python build; not the
 * suite's reference script (its jobs are 'reference' and 'confirm_reference'). */
static const char SCOPE_SQL[] =
    "SELECT json_build_object('script_id', x.script_id, 'script', s.key, 'host_id', x.host_id,"
    " 'host', h.hostname)::text"
    " FROM (SELECT DISTINCT r.script_id, r.host_id FROM runs r JOIN jobs j ON j.id = r.job_id"
    "   WHERE r.batch_id = ANY ($1::bigint[]) AND r.outcome = 'ok'"
    "   AND j.purpose IN ('measure', 'confirm')) x"
    " JOIN scripts s ON s.id = x.script_id JOIN hosts h ON h.id = x.host_id"
    " ORDER BY s.key, h.hostname, h.fingerprint";

/*
 * The series-nights whose verdict was inconclusive, as a FROM item x: those a confirmation
 * run did not settle (held out, "inconclusive", schema/014; "confirmed": true) and those no
 * confirmation could settle (unsettled, schema/021: too little history, a busy machine, a
 * noise floor wider than the threshold), each with the metric, the rule and the reason
 * (detail.reason; a held-out one's per metric in detail), named a. WHERE is the caller's.
 */
#define INCONCLUSIVE_SQL_AS(a)                                                                     \
    "(SELECT o.batch_id, o.script_id, o.host_id, o.python_build, true AS confirmed,"               \
    "  coalesce(o.detail->>'metric', 'wall_s') AS metric,"                                         \
    "  coalesce(o.detail->>'rule', o.detail->'wall_s'->>'rule', '') AS rule,"                      \
    "  o.detail || jsonb_build_object('reason', 'its confirmation run did not settle"              \
    " it' || coalesce(': ' || coalesce(o.detail->>'reason', o.detail->'wall_s'->>'reason'),"       \
    "  '')) AS detail"                                                                             \
    "  FROM held_out o WHERE o.reason = 'inconclusive'"                                            \
    " UNION ALL SELECT u.batch_id, u.script_id, u.host_id, u.python_build, false, u.metric,"       \
    "  u.rule, u.detail FROM unsettled u) " a
#define INCONCLUSIVE_SQL INCONCLUSIVE_SQL_AS("x")

/* The series of the batches $1 (bigint[]) whose verdict was inconclusive (INCONCLUSIVE_SQL),
 * newest batch first, at most $2; each with the night its inconclusive streak began: the
 * oldest of the series' inconclusive nights since the last night it ran (ok, no try) and was
 * judged (since_batch_id, its label, nights_in_row: how many inconclusive nights since). */
static const char UNSETTLED_SQL[] =
    "SELECT json_build_object('batch_id', x.batch_id, 'script', s.key, 'host', h.hostname,"
    " 'python_build', x.python_build, 'confirmed', x.confirmed, 'metric', x.metric,"
    " 'rule', x.rule, 'reason', x.detail->'reason', 'detail', x.detail,"
    " 'since_batch_id', st.since, 'since_batch_label', sb.label, 'nights_in_row', st.n)::text"
    " FROM " INCONCLUSIVE_SQL
    " JOIN scripts s ON s.id = x.script_id JOIN hosts h ON h.id = x.host_id"
    " CROSS JOIN LATERAL (SELECT min(i.batch_id) AS since, count(DISTINCT i.batch_id) AS n"
    "  FROM " INCONCLUSIVE_SQL_AS(
        "i") " WHERE i.script_id = x.script_id AND i.host_id = x.host_id"
             "  AND i.python_build = x.python_build AND i.batch_id <= x.batch_id"
             "  AND i.batch_id > coalesce((SELECT max(r.batch_id) FROM runs r JOIN jobs j ON j.id "
             "= r.job_id"
             "   WHERE r.script_id = x.script_id AND r.host_id = x.host_id"
             "   AND r.python_build = x.python_build AND r.batch_id < x.batch_id AND r.outcome = "
             "'ok'"
             "   AND j.purpose IN ('measure', 'confirm') AND " TRYBATCH_NOT_TRY_R
             "   AND NOT EXISTS (SELECT 1 FROM held_out o WHERE o.reason = 'inconclusive'"
             "    AND o.script_id = r.script_id AND o.host_id = r.host_id"
             "    AND o.python_build = r.python_build AND o.batch_id = r.batch_id)"
             "   AND NOT EXISTS (SELECT 1 FROM unsettled u WHERE u.script_id = r.script_id"
             "    AND u.host_id = r.host_id AND u.python_build = r.python_build"
             "    AND u.batch_id = r.batch_id)), 0)) st"
             " LEFT JOIN batches sb ON sb.id = st.since"
             " WHERE x.batch_id = ANY ($1::bigint[])"
             " ORDER BY x.batch_id DESC, s.key, h.hostname LIMIT $2";

/* How many series-nights of the batches $1 were inconclusive in all (the list stops at its
 * limit): rows, series, hosts, and rows and series per rule, the most rows first. */
static const char UNSETTLED_COUNT_SQL[] =
    "SELECT json_build_object('rows', count(*), 'series', count(DISTINCT (x.script_id,"
    " x.host_id, x.python_build)), 'hosts', count(DISTINCT x.host_id), 'by_rule',"
    " coalesce((SELECT json_agg(json_build_object('rule', y.rule, 'rows', y.n, 'series', y.s)"
    "  ORDER BY y.n DESC, y.rule) FROM (SELECT z.rule, count(*) AS n, count(DISTINCT (z.script_id,"
    "  z.host_id, z.python_build)) AS s FROM " INCONCLUSIVE_SQL_AS(
        "z") "  WHERE z.batch_id = ANY ($1::bigint[]) GROUP BY z.rule) y), '[]'))::text"
             " FROM " INCONCLUSIVE_SQL " WHERE x.batch_id = ANY ($1::bigint[])";

/*
 * The series (script, host, Python build) that ran in the batches $1 (bigint[]) (a measure
 * run, ok) whose newest such batch did not judge them yet: fewer baseline runs than the
 * analysis needs ($2, ANALYSIS_MIN_BASELINE_RUNS: ok runs of earlier batches since its newest
 * run triaged 'expected', no try batch, no night held out) and no finding, no inconclusive
 * verdict and no held-out night in that batch (coordinator/analysis.c lists a series with too
 * little history only when it moved beyond its threshold). One row per series, judged on a
 * later night of $1 or not: an earlier night's lack of history is history. Newest batch
 * first, at most $3. NOT_JUDGED_FROM: each series' newest batch of $1 (c), its baseline runs
 * (base) counted since its newest run triaged 'expected' (included), as the analysis reads it.
 */
#define NOT_JUDGED_FROM                                                                            \
    " FROM (SELECT r.batch_id, r.script_id, r.host_id, r.python_build,"                            \
    "  (SELECT count(*) FROM (SELECT 1 FROM runs b WHERE b.script_id = r.script_id"                \
    "   AND b.host_id = r.host_id AND b.python_build = r.python_build AND b.batch_id < r.batch_id" \
    "   AND b.outcome = 'ok' AND " TRYBATCH_NOT_TRY_B " AND NOT EXISTS (SELECT 1 FROM held_out o"  \
    "    WHERE o.script_id = b.script_id AND o.host_id = b.host_id"                                \
    "    AND o.python_build = b.python_build AND o.batch_id = b.batch_id)"                         \
    "   AND b.stored_at >= coalesce((SELECT max(y.stored_at) FROM regressions g"                   \
    "    JOIN runs y ON y.run_id = g.candidate_run WHERE g.state = 'expected'"                     \
    "    AND g.script_id = r.script_id AND g.host_id = r.host_id"                                  \
    "    AND g.python_build = r.python_build), '-infinity') LIMIT $2) k) AS base"                  \
    "  FROM (SELECT DISTINCT ON (r.script_id, r.host_id, r.python_build) r.batch_id,"              \
    "   r.script_id, r.host_id, r.python_build"                                                    \
    "   FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.batch_id = ANY ($1::bigint[])"          \
    "   AND r.outcome = 'ok' AND j.purpose = 'measure'"                                            \
    "   ORDER BY r.script_id, r.host_id, r.python_build, r.batch_id DESC) r) c"                    \
    " JOIN scripts s ON s.id = c.script_id JOIN hosts h ON h.id = c.host_id"                       \
    " JOIN batches nb ON nb.id = c.batch_id"                                                       \
    " WHERE c.base < $2::bigint"                                                                   \
    " AND NOT EXISTS (SELECT 1 FROM regressions g WHERE g.script_id = c.script_id"                 \
    "  AND g.host_id = c.host_id AND g.python_build = c.python_build"                              \
    "  AND c.batch_id IN (g.batch_id, g.last_batch_id))"                                           \
    " AND NOT EXISTS (SELECT 1 FROM held_out o WHERE o.script_id = c.script_id"                    \
    "  AND o.host_id = c.host_id AND o.python_build = c.python_build AND o.batch_id = c.batch_id)" \
    " AND NOT EXISTS (SELECT 1 FROM unsettled u WHERE u.script_id = c.script_id"                   \
    "  AND u.host_id = c.host_id AND u.python_build = c.python_build AND u.batch_id = c.batch_id)"

static const char NOT_JUDGED_SQL[] =
    "SELECT json_build_object('batch_id', c.batch_id, 'batch_label', nb.label, 'script', s.key,"
    " 'host', h.hostname, 'python_build', c.python_build, 'baseline_runs', "
    "c.base)::text" NOT_JUDGED_FROM " ORDER BY c.batch_id DESC, s.key, h.hostname LIMIT $3";

/* How many series NOT_JUDGED_SQL has in all (its list stops at the limit), $1 and $2 its. */
static const char NOT_JUDGED_COUNT_SQL[] = "SELECT count(*)::text" NOT_JUDGED_FROM;

/*
 * The series of the batches $1 (bigint[]) re-run to confirm a suspect night and dismissed:
 * the confirmation found no change (held_out reason 'dismissed', schema/014): the nightly
 * change (detail.nightly, coordinator/analysis.c) and what the confirmation found (its wall
 * and CPU verdicts, its deciding metric and reason, how it was confirmed). Newest first, at
 * most $2.
 */
static const char DISMISSED_SQL[] =
    "SELECT json_build_object('batch_id', o.batch_id, 'batch_label', b.label, 'script', s.key,"
    " 'host', h.hostname, 'python_build', o.python_build,"
    " 'metric', coalesce(o.detail->>'metric', 'wall_s'), 'rule', o.detail->'rule',"
    " 'reason', o.detail->'reason', 'nightly', o.detail->'nightly', 'detail', o.detail)::text"
    " FROM held_out o JOIN scripts s ON s.id = o.script_id JOIN hosts h ON h.id = o.host_id"
    " JOIN batches b ON b.id = o.batch_id"
    " WHERE o.batch_id = ANY ($1::bigint[]) AND o.reason = 'dismissed'"
    " ORDER BY o.batch_id DESC, s.key, h.hostname LIMIT $2";

/*
 * How many findings of kind $2 the batches $1 have in all (the list stops at the limit):
 * metric rows, series, hosts and series still open, so that a report's headline counts
 * them all.
 */
static const char COUNT_SQL[] =
    "SELECT json_build_object('n', count(*), 'series', count(DISTINCT (f.script_id, f.host_id,"
    " f.python_build)), 'hosts', count(DISTINCT f.host_id), 'open', count(DISTINCT (f.script_id,"
    " f.host_id, f.python_build)) FILTER (WHERE f.open))::text FROM " FINDINGS_SQL " f";

/*
 * The newest runs of each flagged series (sparklines) up to batch $3 (the
 * report's newest, so an old batch's report stays as it was): $1 a json
 * array of {script, fp, build}; each point [epoch seconds, batch id, wall,
 * cpu, rss medians], oldest first.
 */
static const char TRENDS_SQL[] =
    "SELECT json_build_object('script', f.script, 'host_fingerprint', f.fp, 'python_build',"
    " f.build, 'points', coalesce((SELECT json_agg(json_build_array(extract(epoch FROM"
    " x.stored_at)::bigint, x.batch_id, x.wall_median::real, x.cpu_median::real,"
    " x.rss_median::real) ORDER BY x.stored_at) FROM (SELECT r.stored_at, r.batch_id,"
    " r.wall_median, r.cpu_median, r.rss_median FROM runs r WHERE r.script_id = s.id AND"
    " r.host_id = h.id AND r.python_build = f.build AND r.outcome = 'ok' AND r.batch_id <= $3"
    " AND " TRYBATCH_NOT_TRY_R " ORDER BY r.stored_at DESC LIMIT $2) x), '[]'))::text"
    " FROM json_to_recordset($1::json) AS f(script text, fp text, build text)"
    " JOIN scripts s ON s.key = f.script JOIN hosts h ON h.fingerprint = f.fp";

/*
 * The stacks behind each regression in $1 (ids): its newest baseline runs
 * (at most $2) and its candidate runs (the first night's and the latest),
 * with each run's function keys (stacks index them) and median wall time.
 */
static const char FLAME_RUNS_SQL[] =
    "SELECT json_build_object('regression_id', x.gid, 'candidate', x.cand, 'wall_s',"
    " r.wall_median, 'stacks', r.stacks, 'functions', (SELECT json_agg(f.key ORDER BY u.i)"
    " FROM unnest(r.fn_ids) WITH ORDINALITY AS u(id, i) JOIN functions f ON f.id = u.id))::text"
    " FROM (SELECT g.id AS gid, false AS cand, b.run_id FROM regressions g, unnest(g.baseline_runs"
    "   [greatest(1, cardinality(g.baseline_runs) - $2::int + 1):]) AS b(run_id)"
    "   WHERE g.id = ANY($1::bigint[])"
    " UNION ALL SELECT g.id, true, g.candidate_run FROM regressions g WHERE g.id = "
    "ANY($1::bigint[])"
    " UNION ALL SELECT g.id, true, g.last_run FROM regressions g WHERE g.id = ANY($1::bigint[])"
    "   AND g.last_run <> g.candidate_run) x"
    " JOIN runs r ON r.run_id = x.run_id WHERE r.stacks IS NOT NULL";

/* A triage of a script's finding (function_key '') carries its state and note to the
 * function rows that explain it (same batch, series and kind) once no other finding of the
 * script there is open (new, confirmed, ack): a function's change is no finding without its
 * script's (coordinator/analysis.c), so they never stay open alone. */
static const char TRIAGE_SQL[] =
    "WITH t AS (UPDATE regressions SET state = $2,"
    " note = CASE WHEN $3 = '' THEN note ELSE $3 END, updated = now() WHERE id = $1::bigint"
    " RETURNING *),"
    " f AS (UPDATE regressions r SET state = $2,"
    " note = CASE WHEN $3 = '' THEN r.note ELSE $3 END, updated = now() FROM t"
    " WHERE t.function_key = '' AND r.function_key <> '' AND r.batch_id = t.batch_id"
    " AND r.script_id = t.script_id AND r.host_id = t.host_id"
    " AND r.python_build = t.python_build AND r.kind = t.kind AND NOT EXISTS (SELECT 1"
    " FROM regressions o WHERE o.function_key = '' AND o.id <> t.id"
    " AND o.batch_id = t.batch_id AND o.script_id = t.script_id AND o.host_id = t.host_id"
    " AND o.python_build = t.python_build AND o.kind = t.kind"
    " AND o.state IN ('new', 'confirmed', 'ack')) RETURNING r.id)"
    " SELECT json_build_object('id', id, 'batch_id', batch_id, 'metric', metric,"
    " 'kind', kind, 'state', state, 'note', note, 'candidate_run', candidate_run::text,"
    " 'function_rows', (SELECT count(*) FROM f))::text FROM t";

/* Samples key of a series row (borrowed) into a new array (caller frees); *n its size. */
static double *series_samples(const json_t *row, const char *key, size_t *n)
{
    const json_t *w = json_object_get(row, key);
    size_t cnt = json_array_size(w), k = 0;
    double *x = xcalloc(cnt ? cnt : 1, sizeof(*x));
    for (size_t i = 0; i < cnt; i++)
        if (json_is_number(json_array_get(w, i)))
            x[k++] = json_number_value(json_array_get(w, i));
    *n = k;
    return x;
}

/* Add s to the list arr unless the set seen (an object) has it. */
static void add_once(json_t *arr, json_t *seen, const char *s)
{
    if (json_object_get(seen, s))
        return;
    json_object_set_new_nocheck(seen, s, json_true());
    json_array_append_new(arr, json_string(s));
}

/*
 * How well finding row g (borrowed) speaks for its series' matrix cell, lower first: a
 * regression before an improvement; the metric that decided the series' run (its
 * "decision": every row of the run carries it), then the whole-script metrics as the
 * report's sentences rank them (wall time, CPU time, instructions, memory), then a
 * function's.
 */
static int cell_rank(const json_t *g)
{
    const char *decided =
        json_string_value(json_object_get(json_object_get(g, "decision"), "metric"));
    const char *metric = json_string_value(json_object_get(g, "metric"));
    const char *kind = json_string_value(json_object_get(g, "kind"));
    bool whole = !json_is_string(json_object_get(g, "function"));
    int rank = whole && decided && metric && strcmp(decided, metric) == 0 ? 0
               : whole ? 1 + html_team_lead_rank(g)
                       : 6;
    return (kind && strcmp(kind, "improvement") == 0 ? 10 : 0) + rank;
}

/*
 * {host: {script: finding}}: the finding that flags the (script, host) cell among regs and
 * imps (borrowed): an open one (html_team_row_open: new, confirmed or ack, not ended), the
 * best by cell_rank (the report's rows come worst first, and the worst row of a series
 * decided on its wall time may be its CPU time), the first of equals. New.
 */
static json_t *cell_flags(const json_t *regs, const json_t *imps)
{
    const json_t *lists[2] = {regs, imps};
    json_t *flags = json_object();
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *g;
        json_array_foreach(lists[l], i, g)
        {
            const char *script = json_string_value(json_object_get(g, "script"));
            const char *host = json_string_value(json_object_get(g, "host"));
            if (!script || !host || !json_is_string(json_object_get(g, "state")) ||
                !html_team_row_open(g))
                continue;
            json_t *by_script = json_object_get(flags, host);
            if (by_script == NULL)
                json_object_set_new_nocheck(flags, host, by_script = json_object());
            const json_t *had = json_object_get(by_script, script);
            if (!had || cell_rank(g) < cell_rank(had))
                json_object_set_nocheck(by_script, script, (json_t *)g);
        }
    }
    return flags;
}

/* Median of the wall samples of level's runs (borrowed; query_series_hardware's [batch id,
 * samples] pairs) from batch since on (before it when before is true); *runs how many runs;
 * NAN when none. */
static double level_median(const json_t *level, json_int_t since, bool before, size_t *runs)
{
    double *x = NULL, med = NAN;
    size_t n = 0, cap = 0, i;
    const json_t *r;
    *runs = 0;
    json_array_foreach(json_object_get(level, "runs"), i, r)
    {
        json_int_t b = json_integer_value(json_array_get(r, 0));
        if ((b >= since) == before)
            continue;
        const json_t *w = json_array_get(r, 1);
        size_t k = json_array_size(w);
        if (n + k > cap)
            x = xreallocarray(x, cap = 2 * (n + k) + 8, sizeof(*x));
        for (size_t j = 0; j < k; j++)
            if (json_is_number(json_array_get(w, j)))
                x[n++] = json_number_value(json_array_get(w, j));
        (*runs)++;
    }
    if (n == 0 || stats_median(x, n, &med) < 0)
        med = NAN;
    free(x);
    return med;
}

/* The median of the queued shares of level's runs (borrowed; each run's third element, null
 * unknown) as JSON (new), null when none is known. */
static json_t *level_queued(const json_t *level)
{
    const json_t *runs = json_object_get(level, "runs");
    double *x = xcalloc(json_array_size(runs) + 1, sizeof(*x));
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        const json_t *q = json_array_get(r, 2);
        x[i] = json_is_number(q) ? json_number_value(q) : NAN;
    }
    double med = hostpair_side_queued(x, json_array_size(runs));
    free(x);
    return isfinite(med) ? json_real(med) : json_null();
}

/*
 * The hosts of the matrix that are one machine: of by_host (borrowed: {host: machine id}),
 * each machine id two hosts or more share, as a new array of {"machine", "hosts": [...]}
 * in the order of hosts (borrowed: the matrix's host names).
 */
static json_t *shared_machines(const json_t *hosts, const json_t *by_host)
{
    json_t *groups = json_object(), *out = json_array();
    size_t i;
    const json_t *h;
    json_array_foreach(hosts, i, h)
    {
        const char *m = json_string_value(json_object_get(by_host, json_string_value(h)));
        if (!m)
            continue;
        json_t *g = json_object_get(groups, m);
        if (!g)
            json_object_set_new(groups, m, g = json_array());
        json_array_append(g, (json_t *)h);
    }
    const char *m;
    json_t *g;
    json_object_foreach(groups, m, g)
    {
        if (json_array_size(g) >= 2)
            json_array_append_new(out, json_pack("{s:s, s:O}", "machine", m, "hosts", g));
    }
    json_decref(groups);
    return out;
}

json_t *report_hardware_pair(const char *script, const json_t *a, const json_t *b, const char *key)
{
    size_t na, nb;
    double *xa = series_samples(a, key, &na), *xb = series_samples(b, key, &nb);
    struct stats_ratio r;
    int rc = na && nb ? stats_bootstrap_ratio(xa, na, xb, nb, 0.95, STATS_DEFAULT_RESAMPLES,
                                              STATS_DEFAULT_SEED, &r)
                      : -1;
    free(xa);
    free(xb);
    if (rc < 0)
        return NULL;
    return json_pack("{s:s, s:O, s:O, s:O, s:O, s:f, s:f, s:f, s:I, s:I}", "script", script,
                     "host_a", json_object_get(a, "host"), "host_b", json_object_get(b, "host"),
                     "python_build_a", json_object_get(a, "python_build"), "python_build_b",
                     json_object_get(b, "python_build"), "ratio", r.ratio, "ci_low", r.ci_low,
                     "ci_high", r.ci_high, "samples_a", (json_int_t)na, "samples_b",
                     (json_int_t)nb);
}

/*
 * The script x host matrix and the hardware comparison of the series of scope
 * (borrowed: SCOPE_SQL rows), with compare-hosts' numbers
 * (query_series_hardware: the newest runs of each host up to the report's
 * newest batch max_batch). A cell is its series' level: the median wall time
 * of those runs; a flagged cell (an open finding of the script on that host)
 * shows the level since the finding began, and the level before it.
 */
static int add_matrix(struct store *store, json_t *doc, const json_t *scope, uint64_t max_batch,
                      char *err, size_t errlen)
{
    json_t *pairs = NULL, *levels = NULL;
    int rc = query_series_hardware(store, scope, max_batch, REPORT_MAX_PAIRS, &pairs, &levels, err,
                                   errlen);
    if (rc < 0)
        return rc;
    json_t *hosts = json_array(), *scripts = json_array(), *cells = json_array();
    json_t *seen_hosts = json_object(), *seen_scripts = json_object(), *machines = json_object();
    json_t *flags =
        cell_flags(json_object_get(doc, "regressions"), json_object_get(doc, "improvements"));
    size_t i;
    const json_t *row;
    json_array_foreach(scope, i, row)
    {
        const char *script = json_string_value(json_object_get(row, "script"));
        const char *host = json_string_value(json_object_get(row, "host"));
        char lk[72];
        snprintf(lk, sizeof(lk), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(row, "script_id")),
                 json_integer_value(json_object_get(row, "host_id")));
        const json_t *level = json_object_get(levels, lk);
        if (!script || !host || !level)
            continue;
        add_once(hosts, seen_hosts, host);
        add_once(scripts, seen_scripts, script);
        if (json_is_string(json_object_get(level, "machine")))
            json_object_set(machines, host, json_object_get(level, "machine"));
        const json_t *f = json_object_get(json_object_get(flags, host), script);
        size_t runs = 0, before_runs = 0;
        json_int_t since = f ? json_integer_value(json_object_get(f, "batch_id")) : 0;
        double med = level_median(level, since, false, &runs);
        json_t *cell = json_pack("{s:s, s:s, s:O, s:I, s:o, s:s}", "script", script, "host", host,
                                 "python_build", json_object_get(level, "python_build"), "runs",
                                 (json_int_t)runs, "median_wall_s",
                                 isfinite(med) ? json_real(med) : json_null(), "status",
                                 f ? json_string_value(json_object_get(f, "kind")) : "ok");
        /* how much of its runs' wall time was waiting for a CPU: the machine's load */
        json_object_set_new(cell, "queued_pct", level_queued(level));
        if (f) {
            double before = level_median(level, since, true, &before_runs);
            /* the finding's own metric (the one that decided): its level before and after */
            json_object_set_new(cell, "finding",
                                json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:I, s:o}",
                                          "id", json_object_get(f, "id"), "metric",
                                          json_object_get(f, "metric"), "change_pct",
                                          json_object_get(f, "change_pct"), "baseline_median",
                                          json_object_get(f, "baseline_median"), "candidate_median",
                                          json_object_get(f, "candidate_median"), "unit",
                                          json_object_get(f, "unit"), "since_batch_id",
                                          json_object_get(f, "batch_id"), "runs_before",
                                          (json_int_t)before_runs, "median_wall_s_before",
                                          isfinite(before) ? json_real(before) : json_null()));
        }
        json_array_append_new(cells, cell);
    }
    json_t *shared = shared_machines(hosts, machines);
    json_decref(seen_hosts);
    json_decref(seen_scripts);
    json_decref(machines);
    json_decref(flags);
    json_decref(levels);
    json_object_set_new(doc, "matrix",
                        json_pack("{s:o, s:o, s:o, s:o}", "hosts", hosts, "scripts", scripts,
                                  "cells", cells, "shared_machines", shared));
    json_object_set_new(doc, "hardware", pairs);
    return 0;
}

/*
 * The Python comparison of the series of scope (borrowed: SCOPE_SQL rows) run under two
 * Python builds or more on one host in the report's batches (borrowed), made by
 * compare-pythons' code (query_series_pythons: the newest runs of each build up to the
 * report's newest batch max_batch) as doc's "pythons" (at most REPORT_MAX_PYTHONS) and
 * "pythons_total".
 */
static int add_pythons(struct store *store, json_t *doc, const json_t *scope, const json_t *batches,
                       uint64_t max_batch, char *err, size_t errlen)
{
    uint64_t min_batch = max_batch;
    for (size_t i = 0; i < json_array_size(batches); i++) {
        json_int_t b = json_integer_value(json_object_get(json_array_get(batches, i), "id"));
        min_batch = b > 0 && (uint64_t)b < min_batch ? (uint64_t)b : min_batch;
    }
    json_t *py = NULL;
    int rc = query_series_pythons(store, scope, min_batch, max_batch, REPORT_MAX_PYTHONS, &py, err,
                                  errlen);
    if (rc < 0)
        return rc;
    json_object_set(doc, "pythons", json_object_get(py, "sets"));
    json_object_set(doc, "pythons_total", json_object_get(py, "total"));
    json_decref(py);
    return 0;
}

/*
 * The integers of items (borrowed: an array of integers, or of objects whose
 * member key is one) as a PostgreSQL array literal "{1,2,3}"; new string.
 */
static char *id_array_literal(const json_t *items, const char *key)
{
    size_t n = json_array_size(items), cap = 4 + n * 24, len = 0;
    char *ids = xmalloc(cap);
    ids[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(items, i);
        if (key)
            v = json_object_get(v, key);
        len += (size_t)snprintf(ids + len, cap - len, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                                json_integer_value(v));
    }
    snprintf(ids + len, cap - len, "}");
    return ids;
}

/* The series key of a regression row g (borrowed): "script\x1fhost fingerprint\x1fbuild"; new. */
static char *series_key(const json_t *g)
{
    return xasprintf("%s\x1f%s\x1f%s", json_string_value(json_object_get(g, "script")),
                     json_string_value(json_object_get(g, "host_fingerprint")),
                     json_string_value(json_object_get(g, "python_build")));
}

/*
 * The flagged series of regs then imps (borrowed), each once, in order (the
 * worst first), at most REPORT_MAX_TRENDS: a new json array of {script, fp,
 * build} for TRENDS_SQL. *lead_ids gets (new array) the id of the first
 * (worst) regression of each of the first REPORT_MAX_FLAMES regressed series.
 */
static json_t *flagged_series(const json_t *regs, const json_t *imps, json_t **lead_ids)
{
    json_t *series = json_array(), *seen = json_object();
    *lead_ids = json_array();
    const json_t *lists[2] = {regs, imps};
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *g;
        json_array_foreach(lists[l], i, g)
        {
            if (json_array_size(series) >= REPORT_MAX_TRENDS)
                break;
            const char *script = json_string_value(json_object_get(g, "script"));
            const char *fp = json_string_value(json_object_get(g, "host_fingerprint"));
            const char *build = json_string_value(json_object_get(g, "python_build"));
            if (!script || !fp || !build)
                continue;
            char *key = series_key(g);
            if (!json_object_get(seen, key)) {
                json_object_set_new(seen, key, json_true());
                json_array_append_new(series, json_pack("{s:s, s:s, s:s}", "script", script, "fp",
                                                        fp, "build", build));
                if (l == 0 && json_array_size(*lead_ids) < REPORT_MAX_FLAMES)
                    json_array_append(*lead_ids, json_object_get(g, "id"));
            }
            free(key);
        }
    }
    json_decref(seen);
    return series;
}

/*
 * The differential flame graph of each regression in lead_ids (borrowed)
 * from its runs' stacks (FLAME_RUNS_SQL): a new array of {"regression_id",
 * ...flame_diff_to_json()}, one per regression with stacks on both sides.
 */
static int add_flames(struct store *store, json_t *doc, const json_t *lead_ids, char *err,
                      size_t errlen)
{
    json_t *flames = json_array();
    json_object_set_new(doc, "flames", flames);
    size_t n = json_array_size(lead_ids);
    if (n == 0)
        return 0;
    char *ids = id_array_literal(lead_ids, NULL);
    char per[16];
    snprintf(per, sizeof(per), "%u", REPORT_FLAME_BASELINE_RUNS);
    const char *p[2] = {ids, per};
    json_t *rows = NULL;
    int rc = store_json_rows(store, FLAME_RUNS_SQL, p, 2, &rows, err, errlen);
    free(ids);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < n; k++) {
        json_int_t id = json_integer_value(json_array_get(lead_ids, k));
        struct flame_diff *fd = flame_diff_new();
        size_t i;
        const json_t *r;
        json_array_foreach(rows, i, r)
        {
            if (json_integer_value(json_object_get(r, "regression_id")) != id)
                continue;
            const json_t *w = json_object_get(r, "wall_s");
            flame_diff_add_run(
                fd, json_is_true(json_object_get(r, "candidate")) ? FLAME_CAND : FLAME_BASE,
                json_object_get(r, "stacks"), json_object_get(r, "functions"),
                json_is_number(w) ? json_number_value(w) : 0);
        }
        if (flame_diff_runs(fd, FLAME_BASE) && flame_diff_runs(fd, FLAME_CAND)) {
            flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, REPORT_FLAME_NODES);
            json_t *f = flame_diff_to_json(fd);
            json_object_set_new(f, "regression_id", json_integer(id));
            json_array_append_new(flames, f);
        }
        flame_diff_destroy(&fd);
    }
    json_decref(rows);
    return 0;
}

/* Sparkline data of the flagged series (TRENDS_SQL) as doc's "trends". */
static int add_trends(struct store *store, json_t *doc, const json_t *series, char *err,
                      size_t errlen)
{
    if (json_array_size(series) == 0) {
        json_object_set_new(doc, "trends", json_array());
        return 0;
    }
    char *arg = json_dumps(series, JSON_COMPACT);
    char points[16], newest[32];
    snprintf(points, sizeof(points), "%u", REPORT_TREND_POINTS);
    snprintf(newest, sizeof(newest), "%" JSON_INTEGER_FORMAT,
             json_integer_value(
                 json_object_get(json_array_get(json_object_get(doc, "batches"), 0), "id")));
    const char *p[3] = {arg, points, newest};
    json_t *rows = NULL;
    int rc = store_json_rows(store, TRENDS_SQL, p, 3, &rows, err, errlen);
    free(arg);
    if (rc < 0)
        return rc;
    json_object_set_new(doc, "trends", rows);
    return 0;
}

/* The report's unsettled series of batches ids (a PostgreSQL array literal), at most limit
 * of each list: {"inconclusive", "inconclusive_counts" (every series-night counted, per
 * rule: the list stops at the limit), "not_judged", "not_judged_total" (every series, the
 * list stops at the limit), "not_judged_min_runs", "dismissed"}
 * (new), or NULL with *rc < 0. */
static json_t *unsettled_part(struct store *store, const char *ids, const char *limit, int *rc,
                              char *err, size_t errlen)
{
    json_t *unsettled = NULL, *counts = NULL, *dismissed = NULL, *not_judged = NULL,
           *not_judged_n = NULL;
    char min_runs[16];
    snprintf(min_runs, sizeof(min_runs), "%zu", regress_runs_needed(ANALYSIS_MIN_BASELINE_RUNS));
    const char *p[3] = {ids, limit, NULL};
    *rc = store_json_rows(store, UNSETTLED_SQL, p, 2, &unsettled, err, errlen);
    if (*rc >= 0)
        *rc = store_json_rows(store, UNSETTLED_COUNT_SQL, p, 1, &counts, err, errlen);
    if (*rc >= 0)
        *rc = store_json_rows(store, DISMISSED_SQL, p, 2, &dismissed, err, errlen);
    if (*rc >= 0)
        *rc = store_json_rows(store, NOT_JUDGED_SQL, (const char *[]){ids, min_runs, limit}, 3,
                              &not_judged, err, errlen);
    if (*rc >= 0)
        *rc = store_json_rows(store, NOT_JUDGED_COUNT_SQL, (const char *[]){ids, min_runs}, 2,
                              &not_judged_n, err, errlen);
    json_t *part = NULL;
    if (*rc >= 0)
        part = json_pack("{s:O, s:O, s:O, s:O, s:I, s:O}", "inconclusive", unsettled,
                         "inconclusive_counts", json_array_get(counts, 0) ?: json_null(),
                         "not_judged", not_judged, "not_judged_total",
                         json_array_get(not_judged_n, 0) ?: json_null(), "not_judged_min_runs",
                         (json_int_t)strtoll(min_runs, NULL, 10), "dismissed", dismissed);
    json_decref(unsettled);
    json_decref(counts);
    json_decref(not_judged_n);
    json_decref(dismissed);
    json_decref(not_judged);
    return part;
}

int report_build(struct store *store, const struct wire_query *q, json_t **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    char batch[32], since[32], limit[32];
    snprintf(batch, sizeof(batch), "%" PRIu64, q->batch_id);
    snprintf(since, sizeof(since), "%" PRIu32, q->since_s ? q->since_s : REPORT_DEFAULT_SINCE_S);
    snprintf(limit, sizeof(limit), "%" PRIu32, q->limit ? q->limit : REPORT_DEFAULT_LIMIT);
    json_t *batches = NULL, *regs = NULL, *imps = NULL, *series = NULL, *unsettled = NULL,
           *n_regs = NULL, *n_imps = NULL;
    const char *p1[3] = {batch, since, limit};
    int rc = store_json_rows(store, BATCHES_SQL, p1, 3, &batches, err, errlen);
    if (rc < 0)
        return rc;
    char *ids = id_array_literal(batches, "id");
    const char *p2[3] = {ids, "regression", limit};
    rc = store_json_rows(store, REGRESSIONS_SQL, p2, 3, &regs, err, errlen);
    if (rc >= 0) {
        p2[1] = "improvement";
        rc = store_json_rows(store, REGRESSIONS_SQL, p2, 3, &imps, err, errlen);
    }
    /* each one's range of commits: last good, first bad, how many between */
    if (rc >= 0)
        rc = revrange_annotate(store, regs, err, errlen);
    if (rc >= 0)
        rc = revrange_annotate(store, imps, err, errlen);
    if (rc >= 0) {
        const char *p3[1] = {ids};
        rc = store_json_rows(store, SCOPE_SQL, p3, 1, &series, err, errlen);
    }
    if (rc >= 0)
        unsettled = unsettled_part(store, ids, limit, &rc, err, errlen);
    if (rc >= 0)
        rc = store_json_rows(store, COUNT_SQL, (const char *[]){ids, "regression"}, 2, &n_regs, err,
                             errlen);
    if (rc >= 0)
        rc = store_json_rows(store, COUNT_SQL, (const char *[]){ids, "improvement"}, 2, &n_imps,
                             err, errlen);
    free(ids);
    if (rc < 0) {
        json_decref(batches);
        json_decref(regs);
        json_decref(imps);
        json_decref(series);
        json_decref(unsettled);
        json_decref(n_regs);
        json_decref(n_imps);
        return rc;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "window",
                        json_pack("{s:o, s:I}", "batch_id",
                                  q->batch_id ? json_integer((json_int_t)q->batch_id) : json_null(),
                                  "since_s", (json_int_t)strtoll(since, NULL, 10)));
    json_object_set_new(doc, "batches", batches);
    json_object_set_new(doc, "regressions", regs);
    json_object_set_new(doc, "improvements", imps);
    json_object_update(doc, unsettled);
    json_decref(unsettled);
    /* the lists hold the worst `limit` series (each whole, up to REPORT_SERIES_ROWS_SQL rows);
     * these say how many there are in all */
    json_object_set_new(doc, "limit", json_integer(strtoll(limit, NULL, 10)));
    static const char *const totals[][2] = {{"n", "total"},
                                            {"series", "series_total"},
                                            {"hosts", "hosts_total"},
                                            {"open", "open_total"}};
    for (size_t t = 0; t < sizeof(totals) / sizeof(totals[0]); t++) {
        char key[48];
        snprintf(key, sizeof(key), "regressions_%s", totals[t][1]);
        json_object_set_new(doc, key,
                            json_incref(json_object_get(json_array_get(n_regs, 0), totals[t][0])));
        snprintf(key, sizeof(key), "improvements_%s", totals[t][1]);
        json_object_set_new(doc, key,
                            json_incref(json_object_get(json_array_get(n_imps, 0), totals[t][0])));
    }
    json_decref(n_regs);
    json_decref(n_imps);
    /* the report's newest batch: the hardware comparison is that of compare-hosts then */
    uint64_t max_batch = 0;
    for (size_t i = 0; i < json_array_size(batches); i++) {
        json_int_t b = json_integer_value(json_object_get(json_array_get(batches, i), "id"));
        max_batch = (uint64_t)b > max_batch ? (uint64_t)b : max_batch;
    }
    rc = add_matrix(store, doc, series, max_batch, err, errlen);
    if (rc >= 0)
        rc = add_pythons(store, doc, series, batches, max_batch, err, errlen);
    json_decref(series);
    if (rc >= 0) {
        json_t *lead_ids = NULL;
        json_t *flagged = flagged_series(regs, imps, &lead_ids);
        rc = add_trends(store, doc, flagged, err, errlen);
        if (rc >= 0)
            rc = add_flames(store, doc, lead_ids, err, errlen);
        json_decref(flagged);
        json_decref(lead_ids);
    }
    if (rc < 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int report_triage(struct store *store, const struct wire_query *q, json_t **out, char *err,
                  size_t errlen)
{
    char id[32];
    snprintf(id, sizeof(id), "%" PRIu64, q->regression_id);
    const char *p[3] = {id, q->state, q->note ? q->note : ""};
    json_t *rows = NULL;
    int rc = store_json_rows(store, TRIAGE_SQL, p, 3, &rows, err, errlen);
    if (rc < 0)
        return rc;
    json_t *g = json_array_get(rows, 0);
    *out = g ? json_incref(g) : json_null();
    json_decref(rows);
    return 0;
}
