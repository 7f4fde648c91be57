/*
 * analysis.c - batch analysis: series from the store, verdicts from
 * lib/regress, the false discovery rate from lib/stats, rows back to the store.
 *
 * Design notes: the store hands out each run as a pyscope.run/1-shaped JSON
 * document (id, created, script.key/sha256, host.fingerprint, python.build,
 * runs[].wall_s/cpu_s/peak_rss_bytes, profile.functions[] with per-run
 * self/total times and total_pct), so the farm and local history share one
 * comparison (regress_compare). Everything for one batch happens in one
 * transaction that starts by locking the batch row (FOR UPDATE SKIP LOCKED).
 */
#include "analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contended.h"
#include "fault.h"
#include "findings.h"
#include "jsonutil.h"
#include "log.h"
#include "pgbin.h"
#include "stats.h"
#include "trybatch.h"
#include "xmalloc.h"

/* ---- SQL -------------------------------------------------------------------- */

static const char CLAIM_SQL[] =
    "SELECT json_build_object('id', b.id, 'pass', b.analysis_pass)::text FROM batches b"
    " WHERE b.state = 'done' AND b.analyzed IS NULL ORDER BY b.id LIMIT 1"
    " FOR UPDATE SKIP LOCKED";

/* The runs with documents (for the series that need hotspots): ids $1. */
static const char DOCS_SQL[] = "SELECT " STORE_RUN_DOC_SQL " WHERE r.run_id = ANY ($1::uuid[])";

/*
 * Every series of batch $1 with its baseline, one row per run: the series'
 * newest ok run of the batch (k = 0, the candidate, with the series' columns)
 * and its baseline (k = 1): the ok runs of earlier batches since the newest
 * run triaged 'expected' (included), the newest $2 of them; while the series
 * has an open finding, only runs of batches before it began (a slowdown does
 * not become its own baseline: it stays visible, night after night, until it
 * is triaged, or ends), and never runs of a night its confirmation did not
 * confirm (held_out, schema/014) among the series' newest $4
 * (ANALYSIS_HOLD_NIGHTS) nights: an older one rejoins; a held night's confirmation run
 * that came back to the baseline (its held_out.detail.rejoin_run) is in at once. Runs of the
 * suite's reference script (jobs 'reference', 'confirm_reference') are no
 * series. $3: the analysis pass; the second (1) decides only the series
 * whose job was queued again to confirm (a 'confirm' job), whose newest run
 * is then the confirmation run; first_run names the batch's nightly run
 * (purpose 'measure'), which the second pass checks the confirmation against
 * (nightly_result()). Each series' reset, hold and held-out
 * nights come from three grouped reads joined by hash (not three index probes
 * per series). One index-only range scan per series (runs_series_idx covers
 * the samples and run delays, schema/005 and 010): docs/benchmarks.md measured
 * it against one set-based read of every baseline (a window over the series'
 * whole history, or the newest batches' runs from the heap): 4-10x slower.
 * Samples only: no hotspots, no JSON. Rows come in no particular order (a sort of ~40,000
 * rows with their arrays would cost more than the reads): sn numbers the
 * series 1..N and stored_at orders a baseline (gather_row()). The baseline rule itself
 * (ANALYSIS_BASELINE_JOINS, ANALYSIS_BASELINE_RUN) is analysis.h's, which the series query
 * applies too (coordinator/query_series.c, farm_baseline()).
 */
// clang-format off
static const char BATCH_RUNS_SQL[] =
    "WITH c AS MATERIALIZED (SELECT DISTINCT ON (r.script_id, r.host_id, r.python_build)"
    "  r.run_id, r.script_id, r.host_id, r.python_build, r.batch_id, r.job_id, r.stored_at,"
    "  r.wall_s, r.cpu_s, r.peak_rss_bytes, r.run_delay_s,"
    "  count(*) OVER (PARTITION BY r.script_id, r.host_id, r.python_build) AS batch_runs,"
    "  first_value(r.run_id) OVER (PARTITION BY r.script_id, r.host_id, r.python_build"
    "   ORDER BY rj.purpose = 'confirm', r.stored_at) AS first_run"
    "  FROM runs r JOIN jobs rj ON rj.id = r.job_id"
    "  WHERE r.batch_id = $1::bigint AND r.outcome = 'ok' AND rj.purpose IN ('measure', 'confirm')"
    "  AND ($3::integer = 0 OR EXISTS (SELECT 1 FROM jobs x WHERE x.batch_id = r.batch_id"
    "   AND x.purpose = 'confirm' AND x.script_id = r.script_id AND x.host_id = r.host_id))"
    "  ORDER BY r.script_id, r.host_id, r.python_build, r.stored_at DESC),"
    " m AS MATERIALIZED (SELECT c.*,"
    "  row_number() OVER (ORDER BY c.script_id, c.host_id, c.python_build) AS sn,"
    "  coalesce(j.threshold, s.threshold) AS threshold, " ANALYSIS_BASELINE_COLS ","
    "  j.instructions AS counted"
    "  FROM c JOIN jobs j ON j.id = c.job_id JOIN scripts s ON s.id = c.script_id"
    ANALYSIS_BASELINE_JOINS("$1::bigint", "$4::integer") ")"
    " SELECT m.sn, x.k, x.run_id::text, x.stored_at, x.wall_s, x.cpu_s, x.peak_rss_bytes,"
    "  x.script_id, x.host_id, x.python_build, x.job_id, x.threshold, x.batch_runs, x.run_delay_s,"
    "  x.counted, x.first_run::text"
    " FROM m CROSS JOIN LATERAL ("
    "  SELECT 0 AS k, m.run_id, m.stored_at, m.wall_s, m.cpu_s, m.peak_rss_bytes, m.script_id,"
    "   m.host_id, m.python_build, m.job_id, m.threshold, m.batch_runs, m.run_delay_s, m.counted,"
    "   m.first_run"
    "  UNION ALL (SELECT 1, b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes,"
    "   NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, NULL::float8, NULL::bigint,"
    "   b.run_delay_s, NULL::boolean, NULL::uuid FROM ("
    /* index-only: the runs runs_series_idx covers; then the wider ones, from the heap */
    "   (SELECT b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes, b.run_delay_s"
    "   FROM runs b WHERE " ANALYSIS_BASELINE_RUN " AND " STORE_RUNS_COVERED("b")
    "   ORDER BY b.stored_at DESC LIMIT $2::integer)"
    "   UNION ALL (SELECT b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes,"
    "   b.run_delay_s FROM runs b WHERE " ANALYSIS_BASELINE_RUN " AND NOT " STORE_RUNS_COVERED("b")
    "   ORDER BY b.stored_at DESC LIMIT $2::integer)) b"
    "   ORDER BY b.stored_at DESC LIMIT $2::integer)) x";
// clang-format on

/*
 * The open findings (state new, confirmed or ack, not ended) of the series
 * that ran in batch $1, begun in earlier batches (also those this batch saw
 * already, when it is analysed again): a night's findings continue them, or
 * end them (coordinator/findings.h).
 */
static const char OPEN_SQL[] =
    "SELECT json_build_object('id', g.id, 'script_id', g.script_id, 'host_id', g.host_id,"
    " 'python_build', g.python_build, 'metric', g.metric, 'function_key', g.function_key,"
    " 'kind', g.kind, 'baseline_median', g.baseline_median,"
    " 'candidate_median', g.candidate_median, 'batch_id', g.batch_id)::text"
    " FROM regressions g WHERE g.ended_batch_id IS NULL AND g.state IN ('new', 'confirmed', 'ack')"
    " AND g.batch_id < $1::bigint"
    " AND (g.script_id, g.host_id) IN (SELECT r.script_id, r.host_id FROM runs r"
    "  WHERE r.batch_id = $1::bigint)"
    " ORDER BY g.id";

/* Open findings $2 (a JSON array of ids) that batch $1 saw end. */
static const char END_SQL[] = "UPDATE regressions SET ended_batch_id = $1::bigint, updated = now()"
                              " WHERE id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint)"
                              " AND ended_batch_id IS NULL AND last_batch_id < $1::bigint";

/*
 * Open findings that batch $1 found again ($2: [{"id", "run"}]): one night
 * more, last batch and run this one's (schema/004); never twice for one
 * batch.
 */
static const char ATTACH_SQL[] =
    "UPDATE regressions g SET last_batch_id = $1::bigint, last_run = (x.d->>'run')::uuid,"
    " nights = g.nights + 1, updated = now()"
    " FROM jsonb_array_elements($2::jsonb) AS x(d)"
    " WHERE g.id = (x.d->>'id')::bigint AND g.last_batch_id < $1::bigint"
    " AND g.ended_batch_id IS NULL";

/*
 * The new findings of batch $1 ($2: a JSON array of regression rows). A row
 * that exists already (the same batch analysed again) or a finding that is
 * open (schema/014's unique index) is not stored again. A row that belongs to
 * an open change begun earlier ("since_finding", date_on_open()) is dated on
 * that finding's first night, with its nights (attached tonight already:
 * ATTACH_SQL runs first), while that finding is still open, went on tonight
 * and is of the row's series and kind, and no row of the same metric and
 * function has that night already (triaged or ended: the first night's key
 * is taken); else on batch $1, 1 night, its detail naming no finding.
 */
static const char INSERT_SQL[] =
    "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric, function_key,"
    " kind, mode, change_pct, ci_low_pct, ci_high_pct, p_value, q_value, baseline_median,"
    " candidate_median, baseline_runs, candidate_run, why, script_changed, python_changed,"
    " host_changed, detail, state, confirm_runs, last_batch_id, last_run, confirmation, nights)"
    " SELECT coalesce(o.batch_id, $1::bigint), (d->>'script_id')::bigint,"
    " (d->>'host_id')::bigint, d->>'python_build',"
    " d->>'metric', d->>'function_key', d->>'kind', d->>'mode', (d->>'change_pct')::float8,"
    " (d->>'ci_low_pct')::float8, (d->>'ci_high_pct')::float8, (d->>'p_value')::float8,"
    " (d->>'q_value')::float8, (d->>'baseline_median')::float8,"
    " (d->>'candidate_median')::float8,"
    " ARRAY(SELECT jsonb_array_elements_text(d->'baseline_runs'))::uuid[],"
    " (d->>'candidate_run')::uuid, coalesce(d->'why', '{}'), (d->>'script_changed')::boolean,"
    " (d->>'python_changed')::boolean, (d->>'host_changed')::boolean,"
    " CASE WHEN o.id IS NULL THEN (d->'detail') - 'since_finding' ELSE d->'detail' END,"
    " coalesce(d->>'state', 'new'), coalesce((d->>'confirm_runs')::integer, 0), $1::bigint,"
    " (d->>'candidate_run')::uuid, coalesce(d->'confirmation', '{}'), coalesce(o.nights, 1)"
    " FROM jsonb_array_elements($2::jsonb) AS x(d)"
    " LEFT JOIN regressions o ON o.id = (d->>'since_finding')::bigint"
    "  AND o.script_id = (d->>'script_id')::bigint AND o.host_id = (d->>'host_id')::bigint"
    "  AND o.python_build = d->>'python_build' AND o.kind = d->>'kind'"
    "  AND o.state IN ('new', 'confirmed', 'ack') AND o.ended_batch_id IS NULL"
    "  AND o.last_batch_id = $1::bigint AND o.batch_id < $1::bigint"
    "  AND NOT EXISTS (SELECT 1 FROM regressions y WHERE y.batch_id = o.batch_id"
    "   AND y.script_id = o.script_id AND y.host_id = o.host_id"
    "   AND y.python_build = o.python_build AND y.metric = d->>'metric'"
    "   AND y.function_key = d->>'function_key')"
    " ON CONFLICT DO NOTHING";

/*
 * Nights of series held out of their later baselines ($2: [{"script_id",
 * "host_id", "python_build", "reason", "detail"}] of batch $1).
 */
static const char HOLD_SQL[] =
    "INSERT INTO held_out (script_id, host_id, python_build, batch_id, reason, detail)"
    " SELECT (d->>'script_id')::bigint, (d->>'host_id')::bigint, d->>'python_build', $1::bigint,"
    " d->>'reason', coalesce(d->'detail', '{}') FROM jsonb_array_elements($2::jsonb) AS x(d)"
    " ON CONFLICT DO NOTHING";

/*
 * The series of batch $1 whose first analysis was inconclusive and that no
 * confirmation run can settle (too little history, a busy machine, a noise
 * floor wider than the threshold): $2 [{"script_id", "host_id",
 * "python_build", "metric", "rule", "detail"}]. Listed by the team report;
 * their runs stay in later baselines (schema/021).
 */
static const char UNSETTLED_SQL[] =
    "INSERT INTO unsettled (script_id, host_id, python_build, batch_id, metric, rule, detail)"
    " SELECT (d->>'script_id')::bigint, (d->>'host_id')::bigint, d->>'python_build', $1::bigint,"
    " d->>'metric', d->>'rule', coalesce(d->'detail', '{}')"
    " FROM jsonb_array_elements($2::jsonb) AS x(d) ON CONFLICT DO NOTHING";

/*
 * Confirmation jobs: each job of $1 (a JSON array of ids) again, same host and commit,
 * twice the repeats (at least 5), in its batch (slot 1), bracketed by the
 * batch's reference job on that host run again before (slot 0) and after
 * (slot 2) it when the batch has one. Inserted in that order, so the host's
 * queue (by batch, then id) runs them in that order; queued once
 * (jobs_confirm_idx).
 */
static const char CONFIRM_SQL[] =
    "WITH t AS (SELECT j.id, r.id AS ref_id FROM jobs j LEFT JOIN LATERAL (SELECT y.id FROM jobs y"
    "  WHERE y.batch_id = j.batch_id AND y.host_id = j.host_id AND y.purpose = 'reference'"
    "  ORDER BY y.id LIMIT 1) r ON true"
    "  WHERE j.id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)),"
    " x AS (SELECT t.id AS of, k.slot, CASE WHEN k.slot = 1 THEN t.id ELSE t.ref_id END AS src"
    "  FROM t CROSS JOIN generate_series(0, 2) AS k(slot) WHERE k.slot = 1 OR t.ref_id IS NOT NULL)"
    " INSERT INTO jobs (batch_id, script_id, host_id, args, repeat, warmup, mode, timeout_s,"
    " memory_limit_bytes, threshold, max_attempts, env, commit_hash, purpose, confirm_of, slot,"
    " instructions, interval_ms)"
    " SELECT s.batch_id, s.script_id, s.host_id, s.args, CASE WHEN x.slot = 1 THEN"
    " least(1000, greatest(5, 2 * s.repeat)) ELSE s.repeat END, s.warmup, s.mode, s.timeout_s,"
    " s.memory_limit_bytes, s.threshold, s.max_attempts, s.env, s.commit_hash,"
    " CASE WHEN x.slot = 1 THEN 'confirm' ELSE 'confirm_reference' END, x.of, x.slot,"
    " s.instructions, s.interval_ms FROM x JOIN jobs s ON s.id = x.src ORDER BY x.of, x.slot"
    " ON CONFLICT DO NOTHING";

/*
 * The reference of a confirmation run (job $1, 'confirm'): the reference
 * script's key, the runs bracketing it (now) and the nightly reference runs
 * of its host in the batches of the baseline runs $2 (uuid[]), each with its
 * wall and CPU samples.
 */
static const char REFERENCE_SQL[] =
    "SELECT json_build_object('reference', (SELECT s.key FROM batches b JOIN scripts s"
    "  ON s.id = b.reference_script_id WHERE b.id = c.batch_id),"
    " 'now', (SELECT coalesce(json_agg(json_build_object('run', r.run_id::text, 'wall_s', r.wall_s,"
    "   'cpu_s', r.cpu_s) ORDER BY x.slot), '[]') FROM jobs x JOIN runs r ON r.job_id = x.id"
    "   WHERE x.confirm_of = c.confirm_of AND x.purpose = 'confirm_reference'"
    "   AND r.outcome = 'ok'),"
    " 'base', (SELECT coalesce(json_agg(json_build_object('run', r.run_id::text,"
    "   'wall_s', r.wall_s, 'cpu_s', r.cpu_s)), '[]') FROM runs r JOIN jobs x ON x.id = r.job_id"
    "   WHERE x.purpose = 'reference' AND r.host_id = c.host_id AND r.outcome = 'ok'"
    "   AND r.batch_id IN (SELECT y.batch_id FROM runs y WHERE y.run_id = ANY ($2::uuid[]))))::text"
    " FROM jobs c WHERE c.id = $1::bigint AND c.purpose = 'confirm'";

/* The batch runs again until its confirmation jobs end; its next analysis is the second. */
static const char REOPEN_SQL[] =
    "UPDATE batches SET state = 'running', finished = NULL, analysis_pass = 1"
    " WHERE id = $1::bigint";

static const char DONE_SQL[] = "UPDATE batches SET analyzed = now() WHERE id = $1::bigint";

/* ---- deciding --------------------------------------------------------------- */

/* Monotonic seconds, for the summary's phase times. */
static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool is_true(const json_t *j)
{
    return json_is_true(j);
}

static json_t *time_metrics(const json_t *result);

/* A regression row for metric m of series s (borrowed); caller owns. */
static json_t *row_new(const json_t *s, const json_t *result, const json_t *m, double q, bool has_q)
{
    json_t *why = json_object_get(result, "why");
    const char *fn = json_string_value(json_object_get(m, "function"));
    double change = json_number_value(json_object_get(m, "change_pct"));
    json_t *detail = json_deep_copy(m);
    json_t *row = json_object();
    json_object_set(row, "script_id", json_object_get(s, "script_id"));
    json_object_set(row, "host_id", json_object_get(s, "host_id"));
    json_object_set(row, "python_build", json_object_get(s, "python_build"));
    json_object_set(row, "metric", json_object_get(m, "metric"));
    json_object_set_new(row, "function_key", json_string(fn ? fn : ""));
    json_object_set_new(row, "kind", json_string(change > 0 ? "regression" : "improvement"));
    json_object_set(row, "mode", json_object_get(m, "mode"));
    json_object_set(row, "change_pct", json_object_get(m, "change_pct"));
    json_object_set(row, "ci_low_pct", json_object_get(m, "ci_low_pct"));
    json_object_set(row, "ci_high_pct", json_object_get(m, "ci_high_pct"));
    json_object_set(row, "p_value", json_object_get(m, "p_value"));
    json_object_set_new(row, "q_value", has_q ? json_real(q) : json_null());
    json_object_set(row, "baseline_median", json_object_get(m, "baseline_median"));
    json_object_set(row, "candidate_median", json_object_get(m, "candidate_median"));
    json_object_set(row, "baseline_runs",
                    json_object_get(json_object_get(result, "baseline"), "runs"));
    json_object_set(row, "candidate_run", json_object_get(json_object_get(s, "candidate"), "id"));
    json_object_set(row, "why", why);
    json_object_set_new(row, "script_changed",
                        json_boolean(is_true(json_object_get(why, "script_changed"))));
    json_object_set_new(row, "python_changed",
                        json_boolean(is_true(json_object_get(why, "python_changed"))));
    json_object_set_new(row, "host_changed",
                        json_boolean(is_true(json_object_get(why, "host_changed"))));
    if (has_q)
        json_object_set_new(detail, "q_value", json_real(q));
    /* which metric decided the series' run, and why (the report says it when not wall time) */
    if (json_is_object(json_object_get(result, "decision")))
        json_object_set(detail, "decision", json_object_get(result, "decision"));
    /* a whole-script finding on no time metric (instruction counts, memory): what the wall
     * and CPU time did beside it, so the report says how much slower in time */
    const char *mn = json_string_value(json_object_get(m, "metric"));
    if (!fn && mn && strcmp(mn, "wall_s") != 0 && strcmp(mn, "cpu_s") != 0) {
        json_t *times = time_metrics(result);
        if (json_array_size(times))
            json_object_set(detail, "times", times);
        json_decref(times);
    }
    json_object_set_new(row, "detail", detail);
    const json_t *conf = json_object_get(s, "confirmation");
    if (conf)
        json_object_set(row, "confirmation", (json_t *)conf);
    return row;
}

/* Worst first: regressions before improvements, then by |change|, then wall_s first. */
static int row_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int kx = strcmp(json_string_value(json_object_get(x, "kind")), "regression") != 0;
    int ky = strcmp(json_string_value(json_object_get(y, "kind")), "regression") != 0;
    if (kx != ky)
        return kx - ky;
    double cx = fabs(json_number_value(json_object_get(x, "change_pct")));
    double cy = fabs(json_number_value(json_object_get(y, "change_pct")));
    return (cx < cy) - (cx > cy);
}

/* The metric object's p-value when it takes part in the BH family. */
static bool metric_p(const json_t *m, double *p)
{
    const char *mode = json_string_value(json_object_get(m, "mode"));
    const char *rule = json_string_value(json_object_get(m, "rule"));
    const json_t *pv = json_object_get(m, "p_value");
    if (!mode || strcmp(mode, "statistical") != 0 || !json_is_number(pv))
        return false;
    /* an exact verdict (every count the same on each side: instruction counts) is no test:
     * its p-value, of a rank test on 2 against 8 equal counts, is never small, and counted
     * in the batch's family it left a +48% instructions regression "not a discovery" in a
     * batch of 54 tests (truth.sh --instructions) */
    if (rule && strcmp(rule, regress_rule_name(REGRESS_RULE_DETERMINISTIC)) == 0)
        return false;
    *p = json_number_value(pv);
    return isfinite(*p) && *p >= 0 && *p <= 1;
}

/* The change of metric m in percent (its change_pct, or from its two medians); NAN when unknown. */
static double metric_change(const json_t *m)
{
    return regress_metric_change_pct(m);
}

/* The threshold of series s (borrowed): its own when set, else opt's. */
static struct regress_options series_options(const json_t *s, const struct regress_options *opt)
{
    struct regress_options o = *opt;
    const json_t *th = json_object_get(s, "threshold");
    if (json_is_number(th) && json_number_value(th) > 0)
        o.threshold = json_number_value(th);
    return o;
}

/* regress_compare() of series s (borrowed: "candidate", "baseline" docs); new. */
static json_t *compare_series(const json_t *s, const struct regress_options *opt)
{
    const json_t *base = json_object_get(s, "baseline");
    size_t nb = json_array_size(base);
    const json_t **docs = xcalloc(nb ? nb : 1, sizeof(*docs));
    for (size_t k = 0; k < nb; k++)
        docs[k] = json_array_get(base, k);
    struct regress_options o = series_options(s, opt);
    o.not_deciding = false; /* applied below, except to a metric with an open finding */
    json_t *r =
        regress_compare(json_object_get(s, "candidate"), (const json_t *const *)docs, nb, &o);
    free(docs);
    return r;
}

/* The metric object of results (borrowed) for metric and function fn ("" = none), or NULL. */
static const json_t *find_metric(const json_t *result, const char *metric, const char *fn)
{
    size_t k;
    const json_t *m;
    json_array_foreach(json_object_get(result, "metrics"), k, m)
    {
        const char *name = json_string_value(json_object_get(m, "metric"));
        const char *f = json_string_value(json_object_get(m, "function"));
        if (name && strcmp(name, metric) == 0 && strcmp(f ? f : "", fn) == 0)
            return m;
    }
    return NULL;
}

/* Whether the figures of wall time metric w (borrowed) are net of queueing: lib/regress's
 * contention.net_of_queueing, or the quick path's (quick_wall()) net_of_queueing. */
static bool wall_net(const json_t *w)
{
    return json_is_true(json_object_get(w, "net_of_queueing")) ||
           json_is_true(json_object_get(json_object_get(w, "contention"), "net_of_queueing"));
}

/* The whole-script wall and CPU time of result (borrowed), each {metric, verdict, rule,
 * change_pct, net_of_queueing}: new array, empty when it has neither. */
static json_t *time_metrics(const json_t *result)
{
    static const char *const names[] = {"wall_s", "cpu_s"};
    json_t *out = json_array();
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        const json_t *m = find_metric(result, names[k], "");
        if (!m)
            continue;
        double c = metric_change(m);
        json_t *t = json_pack("{s:s, s:b, s:o}", "metric", names[k], "net_of_queueing",
                              k == 0 && wall_net(m), "change_pct",
                              isfinite(c) ? json_real(c) : json_null());
        json_object_set(t, "verdict", json_object_get(m, "verdict") ?: json_null());
        json_object_set(t, "rule", json_object_get(m, "rule") ?: json_null());
        json_array_append_new(out, t);
    }
    return out;
}

/* The row of mine (borrowed) with open row o's metric, function and kind, or NULL. */
static json_t *find_row(const json_t *mine, const json_t *o)
{
    size_t k;
    json_t *row;
    json_array_foreach(mine, k, row)
    {
        if (json_equal(json_object_get(row, "metric"), json_object_get(o, "metric")) &&
            json_equal(json_object_get(row, "function_key"), json_object_get(o, "function_key")) &&
            json_equal(json_object_get(row, "kind"), json_object_get(o, "kind")))
            return row;
    }
    return NULL;
}

/*
 * Link a series' findings tonight (mine, borrowed; rows of row_new()) with
 * its open findings from earlier batches (open, borrowed): a finding that
 * continues an open one is attached to it (appended to attach as {"id",
 * "run"}, and marked "attached" in mine); one that is a new step ends the
 * open one; an open finding not found tonight ends when the series is back
 * near its level before it (result: tonight's metrics, borrowed). Ended ids
 * go to end; one whose metric is inconclusive tonight at the finding's level
 * (findings_continues()) is attached too.
 */
static void link_open(json_t *mine, const json_t *open, const json_t *result, const char *run,
                      json_t *attach, json_t *end)
{
    size_t k;
    const json_t *o;
    json_array_foreach(open, k, o)
    {
        double base = json_get_number(o, "baseline_median", NAN),
               found = json_get_number(o, "candidate_median", NAN);
        json_t *row = find_row(mine, o);
        if (row) {
            if (findings_continues(base, found, json_get_number(row, "candidate_median", NAN))) {
                json_array_append_new(
                    attach, json_pack("{s:O, s:s}", "id", json_object_get(o, "id"), "run", run));
                json_object_set_new(row, "attached", json_true());
            } else {
                json_array_append(end, json_object_get(o, "id"));
            }
            continue;
        }
        const json_t *m = find_metric(result, json_string_value(json_object_get(o, "metric")),
                                      json_string_value(json_object_get(o, "function_key")));
        double now = json_get_number(m, "candidate_median", NAN);
        const char *v = json_string_value(json_object_get(m, "verdict"));
        const char *kind = json_string_value(json_object_get(o, "kind"));
        if (m && findings_back_to_before(base, found, now))
            json_array_append(end, json_object_get(o, "id"));
        else if (v && (strcmp(v, "inconclusive") == 0 || (kind && strcmp(v, kind) == 0)) &&
                 findings_continues(base, found, now))
            /* still at the finding's level, on a night too noisy for a verdict of its own
             * against the level before it: ongoing (the farm demo under load ~10 once lost
             * night 5 of a slowdown begun on night 4 so: 4.13 s against 2.9 s, inconclusive).
             * So is one whose verdict is the finding's but made no row tonight (not a
             * discovery once the batch's tests are counted, outvoted, disputed): it was left
             * out, and a finding's wall-time row said 1 night while its instructions row,
             * exact and so always a row, said 2 for the same slowdown (issue 11) */
            json_array_append_new(
                attach, json_pack("{s:O, s:s}", "id", json_object_get(o, "id"), "run", run));
    }
}

/* Whether every row of mine (borrowed) continues an open finding (link_open()'s "attached"). */
static bool all_attached(const json_t *mine)
{
    size_t k;
    const json_t *row;
    json_array_foreach(mine, k, row)
    {
        if (!json_is_true(json_object_get(row, "attached")))
            return false;
    }
    return true;
}

/* Whether x (borrowed: an open finding's id, or an {"id", ...} object) names finding id. */
static bool entry_names(const json_t *x, json_int_t id)
{
    const json_t *v = json_is_object(x) ? json_object_get(x, "id") : x;
    return json_is_integer(v) && json_integer_value(v) == id;
}

/* Whether list (borrowed: open findings' ids, or {"id", ...} objects) names finding id. */
static bool names_finding(const json_t *list, json_int_t id)
{
    size_t k;
    const json_t *x;
    json_array_foreach(list, k, x)
    {
        if (entry_names(x, id))
            return true;
    }
    return false;
}

/* Whether x (borrowed: a row of mine, or an open finding) is of a function. */
static bool of_function(const json_t *x)
{
    const char *fn = json_string_value(json_object_get(x, "function_key"));
    return fn && fn[0];
}

/* Whether x (borrowed: a row of mine, or an open finding) is of kind, and on the script's wall
 * or CPU time. */
static bool script_time(const json_t *x, const char *kind)
{
    const char *name = json_string_value(json_object_get(x, "metric"));
    const char *k = json_string_value(json_object_get(x, "kind"));
    return name && k && strcmp(k, kind) == 0 && !of_function(x) &&
           (strcmp(name, "wall_s") == 0 || strcmp(name, "cpu_s") == 0);
}

/* Whether list (borrowed: ids, or {"id", ...} objects) names open finding o's (borrowed) id. */
static bool names_open(const json_t *list, const json_t *o)
{
    const json_t *id = json_object_get(o, "id");
    return json_is_integer(id) && names_finding(list, json_integer_value(id));
}

/*
 * Whether the series' script has a time finding of kind tonight: a wall- or CPU-time row
 * of that kind in mine (borrowed; new, or continuing an open one), or an open wall- or
 * CPU-time finding of that kind (of open, borrowed) that goes on tonight (in attach,
 * borrowed: link_open() attached it on a night too noisy for a row of its own).
 */
static bool script_found(const json_t *mine, const json_t *open, const json_t *attach,
                         const char *kind)
{
    size_t k;
    const json_t *x;
    json_array_foreach(mine, k, x)
    {
        if (script_time(x, kind))
            return true;
    }
    json_array_foreach(open, k, x)
    {
        if (script_time(x, kind) && names_open(attach, x))
            return true;
    }
    return false;
}

/* Remove from list (borrowed: ids, or {"id", ...} objects) the entries that name id. */
static void unname_finding(json_t *list, json_int_t id)
{
    for (size_t k = json_array_size(list); k-- > 0;)
        if (entry_names(json_array_get(list, k), id))
            json_array_remove(list, k);
}

/*
 * A function's change is evidence for the why of its script's finding, never a finding of
 * its own (as asv and LNT report a benchmark, not its functions; lib/regress.h's
 * regress_has_regression() never fails a local check on a hotspot alone): without a wall-
 * or CPU-time finding of the same kind tonight (script_found()), a function's rows of that
 * kind leave mine (borrowed), its open findings of that kind are not attached (out of
 * attach, borrowed), and they end (into end, borrowed) when an open time finding of the
 * script of that kind ends tonight. test_team_farm's night 9 once stored slow()'s total and
 * self time "confirmed +26.6%" while the wall time, which decides, was inconclusive: a
 * report of a slower function in a script that was not found slower, its why empty (the
 * why follows the deciding metric). Returns whether mine keeps a row.
 */
static bool drop_function_rows(json_t *mine, const json_t *open, json_t *attach, json_t *end)
{
    static const char *const kinds[] = {"regression", "improvement"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *kind = kinds[i];
        if (script_found(mine, open, attach, kind))
            continue;
        for (size_t k = json_array_size(mine); k-- > 0;) {
            const json_t *row = json_array_get(mine, k);
            if (of_function(row) &&
                strcmp(json_string_value(json_object_get(row, "kind")) ?: "", kind) == 0)
                json_array_remove(mine, k);
        }
        bool ended = false;
        size_t k;
        const json_t *o;
        json_array_foreach(open, k, o)
        {
            ended |= script_time(o, kind) && names_open(end, o);
        }
        json_array_foreach(open, k, o)
        {
            const char *ok = json_string_value(json_object_get(o, "kind"));
            if (!of_function(o) || !ok || strcmp(ok, kind) != 0 ||
                !json_is_integer(json_object_get(o, "id")))
                continue;
            unname_finding(attach, json_integer_value(json_object_get(o, "id")));
            if (ended && !names_open(end, o))
                json_array_append(end, json_object_get(o, "id"));
        }
    }
    return json_array_size(mine) > 0;
}

/*
 * The open finding (of open, borrowed) that a new row of kind kind tonight
 * belongs to, or NULL: of the series' open findings of that kind, each begun
 * on an earlier night (its batch_id) and going on tonight (in attach,
 * link_open()), the one begun first (then the lowest id). None when an open
 * finding of that kind ended tonight (in end): the series came back, or
 * stepped further, and tonight's row is a change of its own.
 */
static const json_t *change_of(const char *kind, const json_t *open, const json_t *attach,
                               const json_t *end)
{
    const json_t *best = NULL, *o;
    size_t k;
    json_array_foreach(open, k, o)
    {
        const char *ok = json_string_value(json_object_get(o, "kind"));
        const json_t *id = json_object_get(o, "id"), *b = json_object_get(o, "batch_id");
        if (!ok || strcmp(ok, kind) != 0 || !json_is_integer(id))
            continue;
        if (names_finding(end, json_integer_value(id)))
            return NULL;
        if (!json_is_integer(b) || !names_finding(attach, json_integer_value(id)))
            continue;
        if (!best || json_integer_value(b) < json_integer_value(json_object_get(best, "batch_id")))
            best = o;
    }
    return best;
}

/*
 * Date a series' new findings tonight (mine, borrowed: rows of row_new(), those
 * not attached) on the first night of the change they belong to: a row whose
 * kind has an open finding going on tonight (change_of(); open, attach and end
 * as link_open() left them) names it as "since_finding" (in the row and its
 * detail), and INSERT_SQL stores it on that finding's first night, with its
 * nights. A deterministic metric (instructions) flags a slowdown on night K
 * while the wall time is only inconclusive; on night K+1 the wall time
 * regresses too: its row is the same change, begun on night K, and said
 * "since night K+1" before (issue 11: the night it began is the first night it
 * was measured). A row of the other kind (the metrics disagree in sign) is a
 * change of its own.
 */
static void date_on_open(json_t *mine, const json_t *open, const json_t *attach, const json_t *end)
{
    size_t k;
    json_t *row;
    json_array_foreach(mine, k, row)
    {
        const char *kind = json_string_value(json_object_get(row, "kind"));
        if (json_is_true(json_object_get(row, "attached")) || !kind)
            continue;
        const json_t *o = change_of(kind, open, attach, end);
        if (!o)
            continue;
        json_object_set(row, "since_finding", json_object_get(o, "id"));
        json_object_set_new(json_object_get(row, "detail"), "since_finding",
                            json_pack("{s:O, s:O, s:O?, s:O?}", "id", json_object_get(o, "id"),
                                      "batch_id", json_object_get(o, "batch_id"), "metric",
                                      json_object_get(o, "metric"), "function_key",
                                      json_object_get(o, "function_key")));
    }
}

/*
 * The held_out entry of series s (borrowed), whose confirmation confirmed no
 * regression and no improvement: "inconclusive" when the run's verdict is open (its
 * deciding metric inconclusive or unproven, outvoted, disputed), else "dismissed" (its
 * deciding metric found no change); detail: the main metrics' verdicts (metrics, borrowed) and how
 * it was confirmed. New.
 */
static json_t *hold_new(const json_t *s, const json_t *metrics, bool inconclusive)
{
    json_t *detail = json_object();
    size_t k;
    const json_t *m;
    json_array_foreach(metrics, k, m)
    {
        const char *name = json_string_value(json_object_get(m, "metric"));
        if (name && !json_object_get(m, "function") &&
            (strcmp(name, "wall_s") == 0 || strcmp(name, "cpu_s") == 0))
            json_object_set_new(
                detail, name,
                json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "verdict",
                          json_object_get(m, "verdict"), "change_pct",
                          json_object_get(m, "change_pct") ?: json_null(), "baseline_median",
                          json_object_get(m, "baseline_median") ?: json_null(), "candidate_median",
                          json_object_get(m, "candidate_median") ?: json_null(), "rule",
                          json_object_get(m, "rule") ?: json_null(), "reason",
                          json_object_get(m, "reason") ?: json_null()));
    }
    const json_t *conf = json_object_get(s, "confirmation");
    if (conf)
        json_object_set(detail, "confirmation", (json_t *)conf);
    return json_pack("{s:O, s:O, s:O, s:s, s:o}", "script_id", json_object_get(s, "script_id"),
                     "host_id", json_object_get(s, "host_id"), "python_build",
                     json_object_get(s, "python_build"), "reason",
                     inconclusive ? "inconclusive" : "dismissed", "detail", detail);
}

/*
 * The metric that decides series result (borrowed): the "decision" of
 * regress_compare() when it made one, else as it would (the quick path):
 * wall time, or CPU time when the wall time was contended (a CPU-bound
 * script on a busy machine). NULL when neither was compared.
 */
static const json_t *deciding_metric(const json_t *result)
{
    const char *dm =
        json_string_value(json_object_get(json_object_get(result, "decision"), "metric"));
    if (dm)
        return find_metric(result, dm, "");
    const json_t *wall = find_metric(result, "wall_s", ""), *cpu = find_metric(result, "cpu_s", "");
    const char *rule = json_string_value(json_object_get(wall, "rule"));
    if (cpu && (!wall || (rule && strcmp(rule, regress_rule_name(REGRESS_RULE_CONTENDED)) == 0)))
        return cpu;
    return wall;
}

/* regress_not_deciding() of metric m (borrowed, of result) against result's deciding metric. */
static bool not_deciding(const json_t *result, const json_t *m)
{
    return regress_not_deciding(m, deciding_metric(result));
}

/* Whether open (borrowed, open findings) holds one on metric m's (borrowed) metric, whole run. */
static bool open_metric(const json_t *open, const json_t *m)
{
    size_t k;
    const json_t *o;
    json_array_foreach(open, k, o)
    {
        const char *fn = json_string_value(json_object_get(o, "function_key"));
        if (json_equal(json_object_get(o, "metric"), json_object_get(m, "metric")) &&
            !(fn && fn[0]))
            return true;
    }
    return false;
}

/*
 * Why metric m (borrowed, of result), a not_deciding() one, makes no finding,
 * into buf (regress_not_deciding_reason()).
 */
static void not_deciding_reason(const json_t *result, const json_t *m, char *buf, size_t size)
{
    regress_not_deciding_reason(
        m, deciding_metric(result),
        json_string_value(json_object_get(json_object_get(result, "decision"), "reason")), buf,
        size);
}

/*
 * Why metric m (borrowed, of result) got its verdict, into buf: its reason, and
 * for a run shorter than REGRESS_SHORT_RUN_S that it is too short to measure.
 */
static void verdict_reason(const json_t *result, const json_t *m, char *buf, size_t size)
{
    const char *reason = json_string_value(json_object_get(m, "reason"));
    snprintf(buf, size, "%s", reason ? reason : "the runs could not tell a change from noise");
    const json_t *w = find_metric(result, "wall_s", "");
    double cand = json_get_number(m, "candidate_median", NAN),
           wall = json_get_number(w, "candidate_median", NAN);
    bool has_wall = isfinite(wall) && wall > 0;
    double run_s = has_wall ? wall : cand;
    /* a wall time judged net of queueing (lib/regress's contention.net_of_queueing, the quick
     * path's net_of_queueing) is the script's own time: the matrix shows it with the wait */
    bool net = has_wall && wall_net(w);
    if (isfinite(run_s) && run_s > 0 && run_s < REGRESS_SHORT_RUN_S) {
        char own[96] = "";
        double raw = json_get_number(json_object_get(json_object_get(w, "contention"), "raw"),
                                     "candidate_median", NAN);
        if (net && isfinite(raw) && raw > 0)
            snprintf(own, sizeof(own),
                     " of its own time (net of waiting for a CPU; %.0f ms with the wait)",
                     1000 * raw);
        else if (net)
            snprintf(own, sizeof(own), " of its own time (net of waiting for a CPU)");
        size_t len = strlen(buf);
        snprintf(buf + len, size - len,
                 "; the script runs only %.0f ms%s, too short to measure a change in it against "
                 "start-up and timer noise: give it more repeats (repeat = N in the suite's "
                 "[script], or pyscope submit --repeat N) or trace its functions (mode = trace)",
                 1000 * run_s, own);
    }
}

/*
 * The held_out entry h (borrowed) of a series whose confirmation result
 * (borrowed) confirmed nothing: its detail names the metric that decided,
 * its rule and why (as an unsettled entry's does).
 */
static void hold_reason(json_t *h, const json_t *result)
{
    const json_t *m = deciding_metric(result);
    json_t *detail = json_object_get(h, "detail");
    if (!m || !detail)
        return;
    char buf[1024];
    verdict_reason(result, m, buf, sizeof(buf));
    json_object_set(detail, "metric", json_object_get(m, "metric"));
    json_object_set(detail, "rule", json_object_get(m, "rule") ?: json_null());
    json_object_set_new(detail, "reason", json_string(buf));
}

/*
 * The unsettled entry of series s (borrowed) when the metric deciding its
 * result (borrowed) is inconclusive and no confirmation run was queued
 * (schema/021): which metric, which rule, and why in a sentence (a short
 * script is said to be too short to measure). New, or NULL when the series
 * got a verdict.
 */
static json_t *unsettled_entry(const json_t *s, const json_t *m, const char *rule,
                               const char *reason);

static json_t *unsettled_new(const json_t *s, const json_t *result)
{
    const json_t *m = deciding_metric(result);
    const char *v = json_string_value(json_object_get(m, "verdict"));
    if (!v || strcmp(v, "inconclusive") != 0)
        return NULL;
    const char *rule = json_string_value(json_object_get(m, "rule"));
    /* too little history to claim "no change", but no change to look at either: a change
     * within the threshold is not listed (every new series' first nights would be) */
    double change = metric_change(m), t = json_get_number(m, "threshold_pct", NAN);
    if (rule && strcmp(rule, regress_rule_name(REGRESS_RULE_INSUFFICIENT_HISTORY)) == 0 &&
        isfinite(change) && isfinite(t) && fabs(change) <= t)
        return NULL;
    char buf[1024];
    verdict_reason(result, m, buf, sizeof(buf));
    return unsettled_entry(s, m, rule ? rule : "", buf);
}

/*
 * The unsettled entry of series s (borrowed) whose metric m (borrowed, of
 * result) is not_deciding(): listed by rule ANALYSIS_RULE_NOT_DECIDING, with
 * its figures and the run's decision. New.
 */
static json_t *not_deciding_new(const json_t *s, const json_t *result, const json_t *m)
{
    char buf[1024];
    not_deciding_reason(result, m, buf, sizeof(buf));
    json_t *u = unsettled_entry(s, m, ANALYSIS_RULE_NOT_DECIDING, buf);
    json_object_set(json_object_get(u, "detail"), "decision",
                    json_object_get(result, "decision") ?: json_null());
    return u;
}

/* An unsettled entry of series s (borrowed) on metric m (borrowed) by rule, said
 * in reason: which metric, which rule, its figures. New. */
static json_t *unsettled_entry(const json_t *s, const json_t *m, const char *rule,
                               const char *reason)
{
    const char *name = json_string_value(json_object_get(m, "metric"));
    double change = metric_change(m);
    json_t *detail =
        json_pack("{s:s, s:o, s:O, s:O, s:O, s:o}", "reason", reason, "change_pct",
                  isfinite(change) ? json_real(change) : json_null(), "noise_pct",
                  json_object_get(m, "noise_pct") ?: json_null(), "baseline_median",
                  json_object_get(m, "baseline_median") ?: json_null(), "candidate_median",
                  json_object_get(m, "candidate_median") ?: json_null(), "unit",
                  json_string(strcmp(name ? name : "", "peak_rss_bytes") == 0 ? "bytes" : "s"));
    return json_pack("{s:O, s:O, s:O, s:s, s:s, s:o}", "script_id", json_object_get(s, "script_id"),
                     "host_id", json_object_get(s, "host_id"), "python_build",
                     json_object_get(s, "python_build"), "metric", name ? name : "wall_s", "rule",
                     rule, "detail", detail);
}

/* The batch's p-values (every metric of every series' result that has one),
 * Benjamini-Hochberg adjusted as one family: q[j] for the j-th p in series
 * order (caller frees). Counts the series and the tests into sum. */
static double *batch_q_values(const json_t *series, json_t *const *results,
                              struct analysis_summary *sum)
{
    size_t ns = json_array_size(series);
    size_t np = 0, cap = 16;
    double *p = xcalloc(cap, sizeof(*p));
    for (size_t i = 0; i < ns; i++) {
        sum->series++;
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(results[i], "metrics"), k, m)
        {
            double pv;
            if (!metric_p(m, &pv))
                continue;
            if (np == cap)
                p = xreallocarray(p, cap *= 2, sizeof(*p));
            p[np++] = pv;
        }
    }
    double *q = xcalloc(np ? np : 1, sizeof(*q));
    if (np && stats_bh_adjust(p, np, q) < 0)
        memcpy(q, p, np * sizeof(*q));
    sum->tests = (unsigned)np;
    free(p);
    return q;
}

/* What one series' result says, metric by metric (decide_results()). */
struct series_eval {
    json_t *mine;           /* its findings: rows (new) */
    bool found;             /* a regression or improvement among them */
    bool inconclusive;      /* an open wall/CPU verdict a re-run could settle */
    const json_t *outvoted; /* a not_deciding() metric (borrowed) */
    const json_t *disputed; /* a confirmation's verdict the nightly run did not share (borrowed) */
    const json_t *nightly;  /* the nightly run's same metric, or NULL (borrowed) */
    const json_t *unproven; /* the deciding metric's verdict the batch's family rejected */
    double unproven_q;      /* its adjusted p-value */
};

/*
 * The nightly run's result on a second pass: series s's (borrowed) "first"
 * document (the batch's 'measure' run, the one the first pass decided on)
 * compared with the same baseline as its confirmation run. New, or NULL when
 * s is no second pass or has no such document (its nightly run failed).
 */
static json_t *nightly_result(const json_t *s, const struct regress_options *opt)
{
    const json_t *first = json_object_get(s, "first");
    if (!json_is_true(json_object_get(s, "second_pass")) || !json_is_object(first))
        return NULL;
    json_t *c = json_copy((json_t *)s);
    json_object_set(c, "candidate", (json_t *)first);
    json_t *r = compare_series(c, opt);
    json_decref(c);
    return r;
}

/*
 * Whether the nightly run's metric n (borrowed, NULL: not compared) backs a
 * confirmation's verdict of kind reg (regression, else improvement): it found
 * the same, or it was inconclusive with a change the same way beyond the
 * threshold (the first pass asked for the confirmation run to settle it). A
 * confirmation run that alone shows a change is one run of evidence, not two;
 * one that points the other way from the nightly run is noise either way: on a
 * busy machine the confirmation once turned a nightly +33.6% CPU time into a
 * "confirmed improvement" of -26.7% (drift divided out) of unchanged code.
 */
static bool nightly_agrees(const json_t *n, bool reg, double threshold)
{
    const char *v = json_string_value(json_object_get(n, "verdict"));
    if (!v)
        return false;
    if (strcmp(v, reg ? "regression" : "improvement") == 0)
        return true;
    double c = metric_change(n);
    return strcmp(v, "inconclusive") == 0 && isfinite(c) &&
           (reg ? c > 100 * threshold : c < -100 * threshold);
}

/* Does inconclusive metric m (borrowed) of series s deserve a re-run? Not when
 * the change is within the threshold, nor for a metric other than wall or CPU
 * time: a re-run adds a candidate run, not history: it cannot settle
 * "insufficient history"; nor does it make a busy machine quiet ("contended":
 * the CPU time decides a CPU-bound script then), nor narrow the baseline's
 * noise floor around a change within the threshold. */
static bool rerun_could_settle(const json_t *s, const json_t *m, const struct regress_options *opt)
{
    const char *v = json_string_value(json_object_get(m, "verdict"));
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *rule = json_string_value(json_object_get(m, "rule"));
    return v && name && strcmp(v, "inconclusive") == 0 &&
           !(fabs(metric_change(m)) <= 100 * series_options(s, opt).threshold) &&
           (strcmp(name, "wall_s") == 0 || strcmp(name, "cpu_s") == 0) &&
           !(rule && (strcmp(rule, regress_rule_name(REGRESS_RULE_INSUFFICIENT_HISTORY)) == 0 ||
                      strcmp(rule, regress_rule_name(REGRESS_RULE_CONTENDED)) == 0));
}

/* Read series s's result (borrowed) into e: its discoveries (q below alpha once
 * the whole batch is counted; q[*ip...] are its metrics' adjusted p-values, *ip
 * moves past them), whether a re-run could settle it, and a metric outvoted by
 * the deciding one. */
static void series_evaluate(const json_t *s, const json_t *result, const json_t *nightly,
                            const struct regress_options *opt, const double *q, size_t *ip,
                            struct series_eval *e)
{
    *e = (struct series_eval){.mine = json_array()};
    /* only the deciding metric's open verdict asks for a re-run (and, unsettled, holds the
     * night out of the baseline): a metric it outvotes makes no finding either way
     * (not_deciding()). A sleeping script's CPU time inside a noise floor that one busy
     * night had widened re-ran, then held out, every later night, so its baseline never
     * grew past that night (test_team_farm, CI of 4c93732: the real +30% of night 7 was
     * inside the floor of a three-run baseline) */
    const json_t *dm = deciding_metric(result);
    size_t k;
    const json_t *m;
    json_array_foreach(json_object_get(result, "metrics"), k, m)
    {
        double pv, qv = 1;
        bool has_q = metric_p(m, &pv);
        if (has_q)
            qv = q[(*ip)++];
        const char *v = json_string_value(json_object_get(m, "verdict"));
        if ((!dm || dm == m) && rerun_could_settle(s, m, opt))
            e->inconclusive = true;
        if (!v || (strcmp(v, "regression") != 0 && strcmp(v, "improvement") != 0))
            continue;
        if (has_q && qv >= opt->alpha) {
            /* not a discovery once the whole batch is counted. The deciding metric's is
             * not "no change" either: too few repeats to tell it from chance among the
             * batch's tests (2 repeats against 5 nights: p >= 0.03), so it asks for the
             * re-run (more repeats, a smaller family) and, unsettled, is listed. It was
             * dropped silently: a sleep 30% longer, +30% net of queueing over five nights
             * 0.4% apart, p = 0.03 among 25 tests (truth.sh, io_wait.py at load ~25) */
            if ((!dm || dm == m) && !json_object_get(m, "function") && !e->unproven) {
                e->unproven = m;
                e->unproven_q = qv;
                e->inconclusive = true;
            }
            continue;
        }
        if (not_deciding(result, m) && !open_metric(json_object_get(s, "open_rows"), m)) {
            if (!e->outvoted)
                e->outvoted = m;
            continue; /* listed as unsettled below, never a finding */
        }
        const json_t *n = NULL;
        if (nightly) {
            const char *fn = json_string_value(json_object_get(m, "function"));
            n = find_metric(nightly, json_string_value(json_object_get(m, "metric")), fn ? fn : "");
            if (!nightly_agrees(n, strcmp(v, "regression") == 0,
                                series_options(s, opt).threshold)) {
                /* a function's is no reason of the series' (drop_function_rows()) */
                if (!e->disputed && !(fn && fn[0])) {
                    e->disputed = m;
                    e->nightly = n;
                }
                continue; /* held out below, said why */
            }
        }
        json_t *row = row_new(s, result, m, qv, has_q);
        if (n && isfinite(metric_change(n))) /* the first of the two runs, as measured */
            json_object_set_new(json_object_get(row, "detail"), "nightly_change_pct",
                                json_real(metric_change(n)));
        json_array_append_new(e->mine, row);
        e->found = true;
    }
}

/* Why e's disputed verdict (a confirmation run's the nightly run did not share)
 * makes no finding, into buf. */
static void disputed_reason(const struct series_eval *e, char *buf, size_t size)
{
    const char *name = json_string_value(json_object_get(e->disputed, "metric"));
    const char *fn = json_string_value(json_object_get(e->disputed, "function"));
    const char *nv = json_string_value(json_object_get(e->nightly, "verdict"));
    double nc = metric_change(e->nightly);
    char nbuf[64];
    if (isfinite(nc))
        snprintf(nbuf, sizeof(nbuf), "%+.1f%%, %s", nc,
                 nv && strcmp(nv, "no_change") == 0 ? "no change" : (nv ? nv : "?"));
    else
        snprintf(nbuf, sizeof(nbuf), "not compared");
    const char *noun = !name                          ? "?"
                       : strcmp(name, "cpu_s") == 0   ? "CPU time"
                       : strcmp(name, "wall_s") == 0  ? "wall time"
                       : strcmp(name, "self_s") == 0  ? "self time"
                       : strcmp(name, "total_s") == 0 ? "total time"
                                                      : name;
    snprintf(buf, size,
             "the confirmation run found %s %s%s%s %+.1f%% but the nightly run it was to confirm "
             "did not (%s): one run of evidence, or two that disagree, is noise as likely as a "
             "change on a busy machine, so no finding; the night stays out of the baseline and "
             "the next night measures it again",
             noun, json_string_value(json_object_get(e->disputed, "verdict")) ?: "?",
             fn && fn[0] ? " of " : "", fn && fn[0] ? fn : "", metric_change(e->disputed), nbuf);
}

/* Why e's unproven verdict (significant alone, not among the batch's tests) makes no
 * finding, into buf. */
static void unproven_reason(const struct series_eval *e, double alpha, char *buf, size_t size)
{
    const json_t *m = e->unproven;
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *v = json_string_value(json_object_get(m, "verdict"));
    snprintf(buf, size,
             "%s %+.1f%% (%s, p=%.3g) is not significant once the batch's tests are counted "
             "(Benjamini-Hochberg q=%.3g, not below %.3g): too few repeats to tell it from "
             "chance among them; more repeats (repeat = N in the suite) or its confirmation run "
             "can settle it",
             name && strcmp(name, "cpu_s") == 0 ? "CPU time" : "wall time", metric_change(m),
             v ? v : "?", json_get_number(m, "p_value", NAN), e->unproven_q, alpha);
}

/* What the nightly run (its result, borrowed, NULL: none) found on the metric that decides
 * it, into held-out entry h's (borrowed) detail as "nightly": {metric, verdict, change_pct,
 * rule}, so the report can say what the confirmation dismissed (schema/014). */
static void hold_nightly(json_t *h, const json_t *nightly)
{
    const json_t *m = nightly ? deciding_metric(nightly) : NULL;
    if (!m)
        return;
    double c = metric_change(m);
    json_object_set_new(json_object_get(h, "detail"), "nightly",
                        json_pack("{s:O, s:O, s:o, s:O}", "metric", json_object_get(m, "metric"),
                                  "verdict", json_object_get(m, "verdict") ?: json_null(),
                                  "change_pct", isfinite(c) ? json_real(c) : json_null(), "rule",
                                  json_object_get(m, "rule") ?: json_null()));
}

/* Into held-out entry h's (borrowed) detail, "rejoin_run": the confirmation run of series s
 * (borrowed; its result and nightly result, borrowed) when it came back to the baseline on the
 * deciding metric (ANALYSIS_REJOIN_SHARE of threshold_pct, and nearer the baseline's centre than
 * the nightly run): that run stays in the series' baselines (BATCH_RUNS_SQL). */
static void hold_rejoin(json_t *h, const json_t *s, const json_t *result, const json_t *nightly,
                        double threshold_pct)
{
    const json_t *m = deciding_metric(result);
    const char *name = json_string_value(json_object_get(m, "metric"));
    const json_t *n = nightly && name ? find_metric(nightly, name, "") : NULL;
    const char *run = json_string_value(json_object_get(json_object_get(s, "candidate"), "id"));
    if (!m || !n || !run || json_object_get(m, "function"))
        return;
    double c = metric_change(m), base = json_get_number(m, "baseline_median", NAN),
           now = json_get_number(m, "candidate_median", NAN),
           first = json_get_number(n, "candidate_median", NAN);
    if (!(fabs(c) <= ANALYSIS_REJOIN_SHARE * threshold_pct) ||
        !findings_back_to_before(base, first, now))
        return;
    json_object_set_new(json_object_get(h, "detail"), "rejoin_run", json_string(run));
}

/* A series with no finding tonight: on its second pass it is held out of the
 * baseline (said why, into hold; with what its nightly run, borrowed, found); on a first
 * pass that cannot be confirmed, its unsettled verdict is said rather than nothing (into
 * unsettled). */
static void settle_quiet(const json_t *s, json_t *result, const json_t *nightly,
                         const struct series_eval *e, json_t *hold, json_t *unsettled,
                         const struct regress_options *opt)
{
    double alpha = opt->alpha;
    char ubuf[512];
    if (e->unproven)
        unproven_reason(e, alpha, ubuf, sizeof(ubuf));
    const char *dv = json_string_value(json_object_get(deciding_metric(result), "verdict"));
    bool open = dv && strcmp(dv, "inconclusive") == 0;
    if (json_is_true(json_object_get(s, "second_pass")) && !e->found) {
        /* "dismissed" says the confirmation found no change: only when its deciding
         * metric did. One inside a noise floor wider than the threshold is inconclusive,
         * whatever its size (truth.sh: a sleep 20% longer, confirmed at +8% inside a
         * +-24% floor, was "dismissed" and missing from the report) */
        json_t *h = hold_new(s, json_object_get(result, "metrics"),
                             e->inconclusive || e->outvoted || e->disputed || open);
        hold_reason(h, result);
        hold_nightly(h, nightly);
        hold_rejoin(h, s, result, nightly, 100 * series_options(s, opt).threshold);
        if (e->disputed) {
            char buf[1024];
            disputed_reason(e, buf, sizeof(buf));
            json_t *detail = json_object_get(h, "detail");
            json_object_set(detail, "metric", json_object_get(e->disputed, "metric"));
            json_object_set_new(detail, "rule", json_string(ANALYSIS_RULE_UNCONFIRMED));
            json_object_set_new(detail, "reason", json_string(buf));
            json_object_set_new(detail, "nightly_change_pct",
                                isfinite(metric_change(e->nightly))
                                    ? json_real(metric_change(e->nightly))
                                    : json_null());
            json_array_append_new(hold, h);
            return;
        }
        if (e->outvoted && !open) {
            char buf[1024];
            json_t *detail = json_object_get(h, "detail");
            not_deciding_reason(result, e->outvoted, buf, sizeof(buf));
            json_object_set(detail, "metric", json_object_get(e->outvoted, "metric"));
            json_object_set_new(detail, "rule", json_string(ANALYSIS_RULE_NOT_DECIDING));
            json_object_set_new(detail, "reason", json_string(buf));
        } else if (e->unproven) {
            json_t *detail = json_object_get(h, "detail");
            json_object_set(detail, "metric", json_object_get(e->unproven, "metric"));
            json_object_set_new(detail, "rule", json_string(ANALYSIS_RULE_UNPROVEN));
            json_object_set_new(detail, "reason", json_string(ubuf));
        }
        json_array_append_new(hold, h);
    } else if (json_array_size(e->mine) == 0) {
        json_t *u = e->unproven ? unsettled_entry(s, e->unproven, ANALYSIS_RULE_UNPROVEN, ubuf)
                                : unsettled_new(s, result);
        if (!u && e->outvoted)
            u = not_deciding_new(s, result, e->outvoted);
        if (u)
            json_array_append_new(unsettled, u);
    }
}

/* Count a series' findings (borrowed) into sum and append the new ones (not
 * attached to an open finding) to rows, confirmed when the batch ran it twice. */
static void keep_rows(json_t *mine, json_int_t batch_runs, json_t *rows,
                      struct analysis_summary *sum)
{
    size_t k;
    json_t *row;
    json_array_foreach(mine, k, row)
    {
        bool reg = strcmp(json_string_value(json_object_get(row, "kind")), "regression") == 0;
        if (reg)
            sum->regressions++;
        else
            sum->improvements++;
        if (json_is_true(json_object_get(row, "attached")))
            continue;
        if (batch_runs >= 2) {
            json_object_set_new(row, "state", json_string("confirmed"));
            json_object_set_new(row, "confirm_runs", json_integer(batch_runs));
        }
        json_array_append(rows, row);
    }
}

/* Sort rows (borrowed) worst first (row_cmp). */
static void sort_rows(json_t *rows)
{
    size_t nr = json_array_size(rows);
    json_t **v = xcalloc(nr ? nr : 1, sizeof(*v));
    for (size_t i = 0; i < nr; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, nr, sizeof(*v), row_cmp);
    json_array_clear(rows);
    for (size_t i = 0; i < nr; i++)
        json_array_append_new(rows, v[i]);
    free(v);
}

/*
 * analysis_decide() with each series' regress_compare() result already made:
 * results[i] (stolen) is series[i]'s "regression" object (at least its
 * "metrics"; "why" and "baseline" for rows). Frees results.
 */
static json_t *decide_results(const json_t *series, json_t **results,
                              const struct regress_options *opt, json_t *confirm,
                              struct analysis_summary *sum)
{
    size_t ns = json_array_size(series);
    sum->series = sum->tests = sum->regressions = sum->improvements = sum->confirming = 0;
    sum->attached = sum->ended = 0;
    double *q = batch_q_values(series, results, sum);

    json_t *rows = json_array(), *attach = json_array(), *end = json_array(), *hold = json_array();
    json_t *unsettled = json_array();
    size_t ip = 0;
    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_array_get(series, i);
        struct series_eval e;
        json_t *nightly = nightly_result(s, opt);
        series_evaluate(s, results[i], nightly, opt, q, &ip, &e);
        /* tonight's findings against the open ones, into local lists first: a
         * series re-queued to confirm changes nothing yet */
        json_t *my_attach = json_array(), *my_end = json_array();
        const char *run = json_string_value(json_object_get(s, "run_id"));
        const json_t *open = json_object_get(s, "open_rows");
        link_open(e.mine, open, results[i], run ? run : "", my_attach, my_end);
        e.found = drop_function_rows(e.mine, open, my_attach, my_end);
        bool known = all_attached(e.mine);
        date_on_open(e.mine, open, my_attach, my_end);
        /* confirm before alerting: an inconclusive series, or a regression or
         * an improvement that does not continue an open one, runs once more
         * first (the same evidence either way) */
        json_int_t batch_runs = json_integer_value(json_object_get(s, "batch_runs"));
        if (confirm && batch_runs < 2 && (e.inconclusive || (e.found && !known))) {
            json_array_append(confirm, json_object_get(s, "job_id"));
            sum->confirming++;
        } else {
            settle_quiet(s, results[i], nightly, &e, hold, unsettled, opt);
            json_array_extend(attach, my_attach);
            json_array_extend(end, my_end);
            sum->attached += (unsigned)json_array_size(my_attach);
            sum->ended += (unsigned)json_array_size(my_end);
            keep_rows(e.mine, batch_runs, rows, sum);
        }
        json_decref(my_attach);
        json_decref(my_end);
        json_decref(results[i]);
        json_decref(nightly);
        json_decref(e.mine);
    }
    free(results);
    free(q);
    sort_rows(rows);
    sum->held = (unsigned)json_array_size(hold);
    sum->unsettled = (unsigned)json_array_size(unsettled);
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "insert", rows, "attach", attach, "end", end,
                     "hold", hold, "unsettled", unsettled);
}

void analysis_options_init(struct regress_options *opt)
{
    regress_options_init(opt);
    opt->min_baseline_runs = ANALYSIS_MIN_BASELINE_RUNS;
    opt->change_points = false;
    opt->new_level_runs = 0;
    opt->noise_outlier = true; /* every finding is re-run before it is stored */
}

json_t *analysis_decide(const json_t *series, const struct regress_options *opt, json_t *confirm,
                        struct analysis_summary *sum)
{
    struct regress_options dflt;
    if (opt == NULL) {
        analysis_options_init(&dflt);
        opt = &dflt;
    }
    size_t ns = json_array_size(series);
    json_t **results = xcalloc(ns ? ns : 1, sizeof(*results));
    for (size_t i = 0; i < ns; i++)
        results[i] = compare_series(json_array_get(series, i), opt);
    return decide_results(series, results, opt, confirm, sum);
}

/* ---- the store side --------------------------------------------------------- */

/* One run of a series as read by BATCH_RUNS_SQL: its samples by metric. */
struct qrun {
    char *run_id; /* owned; NULL until its row came */
    int64_t at;   /* stored_at, microseconds: orders the baseline */
    /* owned: wall_s, cpu_s, peak_rss_bytes (valid samples only), and the net wall
     * times (wall_s less the wall time waited for a CPU, contended_own_wait(), of the
     * repeats that have both, lib/regress.h) */
    double *x[4];
    size_t n[4];
    struct regress_run_contention cont; /* its repeats' waiting for a CPU */
};

/* x[] of a qrun: the three run metrics, and the net wall time. */
#define Q_NET 3

/* A series of the batch: the candidate (runs[0]) and its baseline, oldest
 * first once gather_finish() has run. */
struct qseries {
    json_t *meta; /* owned: the series object analysis_decide() documents, without docs */
    struct qrun *runs;
    size_t n_runs, cap;
    json_t *result; /* owned: quick_result() of the runs so far, or NULL (see gather_row()) */
    bool flagged;   /* quick_result()'s *flagged with result */
};

/*
 * What BATCH_RUNS_SQL's rows build up (gather_row()): series sn at v[sn - 1].
 * With opt set, each series is decided (quick_result()) as soon as a row of
 * another series follows its rows, while PostgreSQL still sends the rest:
 * the query's rows come series by series (the LATERAL emits a candidate and
 * its baseline together), so the client's deciding overlaps the server's
 * reading. Nothing relies on that order: a row that comes for a series
 * already decided drops the decision, and decide_batch() decides every series
 * without one after the last row, on all of its runs.
 */
struct gather_ctx {
    struct qseries *v;
    size_t n, cap;
    const struct regress_options *opt; /* NULL: decide nothing while reading */
    size_t last;                       /* sn of the previous row, 0 before the first */
    bool every_row;                    /* test switch: decide a series after each of its rows */
    unsigned early, redecided;         /* series decided while reading; decisions dropped */
};

static json_t *quick_result(const struct qseries *s, const struct regress_options *opt,
                            bool *flagged);
static int qrun_cmp_at(const void *a, const void *b);

/* Decide series v[i] of g now on the runs it has (its baseline sorted first),
 * unless it is decided already or its candidate has not come yet. */
static void decide_early(struct gather_ctx *g, size_t i)
{
    struct qseries *s = &g->v[i];
    if (s->result != NULL || s->meta == NULL)
        return;
    qsort(s->runs + 1, s->n_runs - 1, sizeof(*s->runs), qrun_cmp_at);
    s->result = quick_result(s, g->opt, &s->flagged);
    g->early++;
}

static const char *const MAIN_METRICS[3] = {"wall_s", "cpu_s", "peak_rss_bytes"};

/* The samples of array column v (float8[] / bigint[], binary): new *x of its
 * finite values >= 0 (what lib/regress takes as samples), *n their count. */
static int parse_samples(struct pgbin v, double **x, size_t *n)
{
    int rc = pgbin_numbers(v, x, n);
    if (rc < 0)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (isfinite((*x)[i]) && (*x)[i] >= 0)
            (*x)[k++] = (*x)[i];
    *n = k;
    return 0;
}

/* The series meta object of a candidate row (columns 7..12, 14 and 15 of BATCH_RUNS_SQL,
 * binary; run_id: its column 2), new, or NULL when a column does not decode. */
static json_t *series_meta(const struct pgbin *v)
{
    int64_t script, host, job, batch_runs;
    double threshold = 0;
    bool counted = false;
    if (pgbin_int64(v[7], &script) < 0 || pgbin_int64(v[8], &host) < 0 || v[9].p == NULL ||
        pgbin_int64(v[10], &job) < 0 || (v[11].p && pgbin_float8(v[11], &threshold) < 0) ||
        pgbin_int64(v[12], &batch_runs) < 0 || (v[14].p && pgbin_bool(v[14], &counted) < 0))
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "script_id", json_integer(script));
    json_object_set_new(o, "host_id", json_integer(host));
    json_object_set_new(o, "python_build", json_string((const char *)v[9].p));
    json_object_set_new(o, "run_id", json_string((const char *)v[2].p));
    json_object_set_new(o, "job_id", json_integer(job));
    json_object_set_new(o, "threshold", v[11].p ? json_real(threshold) : json_null());
    json_object_set_new(o, "batch_runs", json_integer(batch_runs));
    if (counted) /* its job counted instructions (schema/028) */
        json_object_set_new(o, "counted", json_true());
    json_object_set_new(o, "open_rows", json_array());
    /* the batch's nightly run, when the candidate is its confirmation (nightly_result()) */
    if (v[15].p && strcmp((const char *)v[15].p, (const char *)v[2].p) != 0)
        json_object_set_new(o, "first_run", json_string((const char *)v[15].p));
    return o;
}

/* The net wall times and contention of r from its aligned wall, cpu and run
 * delay arrays (columns 4, 5 and 13, binary; delay NULL: not measured). */
static int gather_contention(struct qrun *r, struct pgbin wall, struct pgbin cpu,
                             struct pgbin delay)
{
    r->cont = (struct regress_run_contention){false, 0, -1};
    r->x[Q_NET] = NULL;
    r->n[Q_NET] = 0;
    if (delay.p == NULL)
        return 0;
    double *w = NULL, *c = NULL, *d = NULL;
    size_t nw = 0, nc = 0, nd = 0;
    int rc = pgbin_numbers_aligned(wall, &w, &nw);
    if (rc == 0)
        rc = pgbin_numbers_aligned(cpu, &c, &nc);
    if (rc == 0)
        rc = pgbin_numbers_aligned(delay, &d, &nd);
    if (rc == 0 && nw == nd && nc == nw) {
        r->x[Q_NET] = xcalloc(nw ? nw : 1, sizeof(double));
        for (size_t i = 0; i < nw; i++) {
            double net = w[i] - contended_own_wait(w[i], d[i], c[i]);
            if (isfinite(w[i]) && isfinite(d[i]) && d[i] >= 0 && net > 0)
                r->x[Q_NET][r->n[Q_NET]++] = net;
        }
        r->cont.known =
            contended_run(w, d, c, nw, &r->cont.queued_pct, &r->cont.cpu_bound_pct) == 0;
    }
    free(w);
    free(c);
    free(d);
    return rc;
}

/* store_bin_row_fn for BATCH_RUNS_SQL: each row to its series (sn), the
 * candidate (k = 0) in runs[0], which every series keeps free for it. */
static int gather_row(const struct pgbin *v, int ncols, void *arg)
{
    struct gather_ctx *g = arg;
    int64_t sn, k, at;
    if (ncols != 16 || pgbin_int64(v[0], &sn) < 0 || pgbin_int64(v[1], &k) < 0 || v[2].p == NULL ||
        pgbin_int64(v[3], &at) < 0 || sn < 1 || sn > (int64_t)INT32_MAX)
        return -EIO;
    if ((size_t)sn > g->cap) {
        size_t cap = g->cap ? g->cap : 256;
        while (cap < (size_t)sn)
            cap *= 2;
        g->v = xreallocarray(g->v, cap, sizeof(*g->v));
        memset(g->v + g->cap, 0, (cap - g->cap) * sizeof(*g->v));
        g->cap = cap;
    }
    g->n = (size_t)sn > g->n ? (size_t)sn : g->n;
    struct qseries *s = &g->v[sn - 1];
    if (s->result != NULL) { /* decided before this row came: decide it again */
        json_decref(s->result);
        s->result = NULL;
        g->early--;
        g->redecided++;
    }
    if (s->cap == 0) {
        s->runs = xcalloc(s->cap = 16, sizeof(*s->runs));
        s->n_runs = 1;
    }
    struct qrun *r;
    if (k == 0) {
        if (s->meta != NULL || (s->meta = series_meta(v)) == NULL)
            return -EIO;
        r = &s->runs[0];
    } else {
        if (s->n_runs == s->cap)
            s->runs = xreallocarray(s->runs, s->cap *= 2, sizeof(*s->runs));
        r = &s->runs[s->n_runs++];
    }
    *r = (struct qrun){xstrdup((const char *)v[2].p), at, {NULL}, {0}, {false, 0, -1}};
    for (int m = 0; m < 3; m++)
        if (parse_samples(v[4 + m], &r->x[m], &r->n[m]) < 0)
            return -EIO;
    if (gather_contention(r, v[4], v[5], v[13]) < 0)
        return -EIO;
    if (g->opt != NULL) {
        if (g->every_row)
            decide_early(g, (size_t)sn - 1);
        else if (g->last != 0 && g->last != (size_t)sn)
            decide_early(g, g->last - 1);
        g->last = (size_t)sn;
    }
    return 0;
}

static int qrun_cmp_at(const void *a, const void *b)
{
    const struct qrun *x = a, *y = b;
    int c = (x->at > y->at) - (x->at < y->at);
    return c ? c : strcmp(x->run_id, y->run_id); /* the same order on every analysis */
}

/* After the last row: every series 1..n has its candidate; baselines oldest
 * first. Returns 0 or -EIO. */
static int gather_finish(struct gather_ctx *g)
{
    for (size_t i = 0; i < g->n; i++) {
        struct qseries *s = &g->v[i];
        if (s->meta == NULL)
            return -EIO;
        qsort(s->runs + 1, s->n_runs - 1, sizeof(*s->runs), qrun_cmp_at);
    }
    return 0;
}

static void gather_release(struct gather_ctx *g)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t k = 0; k < g->v[i].n_runs; k++) {
            free(g->v[i].runs[k].run_id);
            for (int m = 0; m < 4; m++)
                free(g->v[i].runs[k].x[m]);
        }
        free(g->v[i].runs);
        json_decref(g->v[i].meta);
        json_decref(g->v[i].result);
    }
    free(g->v);
    memset(g, 0, sizeof(*g));
}

/*
 * Decide metric m of series s the cheap way when it can be done exactly:
 * a change within the threshold (under a noise floor no wider) whose samples all lie
 * within the threshold of each other's side (so the CI does too) is no_change, so only
 * the U test's p-value (for the batch's BH family) is computed; anything
 * else goes through regress_metric(). Returns a new metric object ({"metric", "verdict", "mode",
 * "p_value", "baseline_median", "candidate_median"}) or NULL when the metric cannot be compared, as
 * lib/regress would decide.
 */
/*
 * The result of a metric within the threshold, {"metric", "verdict": "no_change", "mode",
 * "p_value", "rule", "baseline_median", "candidate_median"}, built member by member: what
 * json_pack() builds of it (NULL when a number is not finite), without parsing its format
 * and checking its constant strings for each of the batch's ~10,000 metrics. New or NULL.
 */
static json_t *no_change_obj(const char *metric, bool statistical, double p, double mb, double mc)
{
    json_t *pv = json_real(p), *b = json_real(mb), *c = json_real(mc);
    if (!pv || !b || !c) {
        json_decref(pv);
        json_decref(b);
        json_decref(c);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "metric", json_string_nocheck(metric));
    json_object_set_new_nocheck(o, "verdict", json_string_nocheck("no_change"));
    json_object_set_new_nocheck(o, "mode",
                                json_string_nocheck(statistical ? "statistical" : "threshold"));
    json_object_set_new_nocheck(o, "p_value", pv);
    json_object_set_new_nocheck(
        o, "rule", json_string_nocheck(regress_rule_name(REGRESS_RULE_WITHIN_THRESHOLD)));
    json_object_set_new_nocheck(o, "baseline_median", b);
    json_object_set_new_nocheck(o, "candidate_median", c);
    return o;
}

static json_t *quick_metric(const struct qseries *s, int m, const struct regress_options *o,
                            struct regress_baseline *chosen)
{
    size_t nr = s->n_runs - 1;
    int xi = m < 0 ? Q_NET : m; /* m < 0: the wall time net of queueing */
    const double *cand = s->runs[0].x[xi];
    size_t nc = s->runs[0].n[xi];
    struct regress_run *all = xcalloc(nr ? nr : 1, sizeof(*all));
    for (size_t k = 1; k < s->n_runs; k++)
        all[k - 1] = (struct regress_run){s->runs[k].x[xi], s->runs[k].n[xi]};
    /* the baseline lib/regress would choose among these runs (change point, held-out
     * tail), so that the shortcut below decides on the same runs as regress_compare() */
    struct regress_baseline sel;
    /* each run's statistic as the choice computed it, for the centres below */
    double *st = xmalloc((nr ? nr : 1) * sizeof(*st));
    if (nc == 0 || regress_baseline_select_stats(all, nr, o, &sel, st) < 0) {
        free(all);
        free(st);
        return NULL;
    }
    if (chosen)
        *chosen = sel;
    if (m < 0)
        m = 0; /* reported as the wall time */
    const struct regress_run *runs = all + sel.first;
    size_t n_sel = sel.end - sel.first, nb = 0;
    for (size_t k = 0; k < n_sel; k++)
        nb += runs[k].n;
    double *base = xcalloc(nb ? nb : 1, sizeof(*base));
    size_t off = 0;
    for (size_t k = 0; k < n_sel; k++) {
        memcpy(base + off, runs[k].x, runs[k].n * sizeof(*base));
        off += runs[k].n;
    }
    /* the centres lib/regress compares (median of the runs' statistics), so that
     * this shortcut agrees with regress_metric() on what is within the threshold */
    double mb = 0, mc = 0, noise = -1;
    struct regress_run cand_run = {cand, nc};
    if (regress_centres_of(st + sel.first, n_sel, &cand_run, 1, o, &mb, &mc, &noise) < 0)
        mb = 0;
    free(st);
    json_t *obj = NULL;
    /* within the threshold, under a known noise floor (enough baseline runs) that could
     * have shown such a change, and with every sample ratio inside the threshold: a
     * bootstrap median ratio lies between min(cand)/max(base) and max(cand)/min(base), so
     * the 95% CI is inside [-T, +T] too, as regress_decide()'s equivalence test asks,
     * without its 2000 resamples. A wider floor, too few runs, exact samples or a wider
     * sample range are for regress_metric_runs() below, which decides as regress_decide(). */
    size_t need = regress_runs_needed(o->min_baseline_runs > 0 ? (size_t)o->min_baseline_runs : 0);
    double blo = INFINITY, bhi = 0, clo = INFINITY, chi = 0;
    for (size_t k = 0; k < nb; k++)
        blo = fmin(blo, base[k]), bhi = fmax(bhi, base[k]);
    for (size_t k = 0; k < nc; k++)
        clo = fmin(clo, cand[k]), chi = fmax(chi, cand[k]);
    bool ci_inside = blo > 0 && chi / blo - 1 <= o->threshold && clo / bhi - 1 >= -o->threshold;
    if (mb > 0 && fabs(100 * (mc / mb - 1)) <= 100 * o->threshold && n_sel >= need && noise >= 0 &&
        noise <= 100 * o->threshold && ci_inside) {
        struct stats_mwu mwu;
        bool statistical = stats_mannwhitney_min_p(nb, nc) < o->alpha;
        stats_mannwhitney(base, nb, cand, nc, &mwu);
        obj = no_change_obj(MAIN_METRICS[m], statistical, mwu.p_value, mb, mc);
    } else if (mb > 0) {
        struct regress_result r;
        char why[256];
        if (regress_metric_runs(runs, n_sel, &cand_run, 1, o, &r) == 0)
            obj =
                json_pack("{s:s, s:s, s:s, s:f, s:s, s:s, s:f, s:f}", "metric", MAIN_METRICS[m],
                          "verdict", regress_verdict_name(r.verdict), "mode",
                          r.statistical ? "statistical" : "threshold", "p_value", r.p_value, "rule",
                          regress_rule_name(r.rule), "reason", regress_reason(&r, why, sizeof(why)),
                          "baseline_median", r.base_median, "candidate_median", r.cand_median);
        if (obj && r.has_noise && isfinite(r.noise_pct))
            json_object_set_new(obj, "noise_pct", json_real(r.noise_pct));
        if (obj)
            json_object_set_new(obj, "threshold_pct", json_real(r.threshold_pct));
    }
    free(all);
    free(base);
    return obj;
}

/*
 * The wall time of series s the way regress_compare() judges it: when the
 * contention of the chosen baseline and the candidate says it is
 * contaminated (lib/regress.h), net of queueing (on a baseline chosen on the net times), or
 * inconclusive ("contended") for a CPU-bound script or without net times.
 * New object or NULL.
 */
static json_t *quick_wall(const struct qseries *s, const struct regress_options *o)
{
    struct regress_baseline sel;
    json_t *obj = quick_metric(s, 0, o, &sel);
    if (obj == NULL)
        return NULL;
    size_t nb = sel.end - sel.first;
    struct regress_run_contention *b = xcalloc(nb ? nb : 1, sizeof(*b));
    for (size_t i = 0; i < nb; i++)
        b[i] = s->runs[1 + sel.first + i].cont;
    struct regress_contention c;
    regress_contention_assess(b, nb, &s->runs[0].cont, 1, &c);
    free(b);
    if (!c.contaminated)
        return obj;
    /* the net times choose their own baseline, as lib/regress's compare_net() does (a run
     * far off in net time is held out of it); contamination is the raw choice's */
    json_t *net = quick_metric(s, -1, o, NULL);
    if (net && !c.cpu_bound) {
        json_decref(obj);
        json_object_set_new(net, "net_of_queueing", json_true());
        return net;
    }
    json_decref(net); /* a CPU-bound script: its CPU time decides */
    json_object_set_new(obj, "verdict", json_string("inconclusive"));
    json_object_set_new(obj, "rule", json_string(regress_rule_name(REGRESS_RULE_CONTENDED)));
    json_object_set_new(obj, "reason",
                        json_sprintf("the script waited for a CPU %.0f%% of its wall time (%.0f%% "
                                     "in the baseline)%s",
                                     c.cand_queued_pct, c.base_queued_pct,
                                     c.cpu_bound ? ": it is CPU-bound, its CPU time decides"
                                                 : " and its net wall time was not measured"));
    return obj;
}

/* The cheap result of series s: {"metrics": [...]}; *flagged when a main
 * metric regresses or improves (before the batch's BH adjustment). */
static json_t *quick_result(const struct qseries *s, const struct regress_options *opt,
                            bool *flagged)
{
    struct regress_options o = series_options(s->meta, opt);
    if (!(o.threshold > 0 && o.threshold < 10))
        o.threshold = opt->threshold; /* what lib/regress's options_sane() does */
    json_t *metrics = json_array();
    *flagged = false;
    for (int m = 0; s->n_runs > 1 && m < 3; m++) {
        json_t *obj = m == 0 ? quick_wall(s, &o) : quick_metric(s, m, &o, NULL);
        if (obj == NULL)
            continue;
        const char *v = json_string_value(json_object_get(obj, "verdict"));
        *flagged |= strcmp(v, "regression") == 0 || strcmp(v, "improvement") == 0;
        json_array_append_new(metrics, obj);
    }
    return json_pack("{s:o}", "metrics", metrics);
}

/*
 * The run documents (STORE_RUN_DOC_SQL, with hotspots) of the flagged series' runs,
 * read in one query, into their series' meta as "candidate" and "baseline", and
 * the batch's nightly run when the candidate is its confirmation ("first").
 */
static int gather_docs(struct store *store, struct gather_ctx *g, const bool *flagged, char *err,
                       size_t errlen)
{
    struct dvec_ids {
        char *p;
        size_t len, cap;
    } ids = {0};
    size_t count = 0;
    for (size_t i = 0; i < g->n; i++) {
        const char *first = json_string_value(json_object_get(g->v[i].meta, "first_run"));
        for (size_t k = 0; flagged[i] && k <= g->v[i].n_runs; k++) {
            const char *id = k < g->v[i].n_runs ? g->v[i].runs[k].run_id : first;
            if (id == NULL)
                continue;
            size_t need = strlen(id) + 2;
            if (ids.cap - ids.len < need + 2)
                ids.p = xrealloc(ids.p, ids.cap = 2 * ids.cap + need + 64);
            ids.len += (size_t)snprintf(ids.p + ids.len, ids.cap - ids.len, "%s%s",
                                        count++ ? "," : "{", id);
        }
    }
    if (count == 0)
        return 0;
    snprintf(ids.p + ids.len, ids.cap - ids.len, "}");
    json_t *rows = NULL;
    const char *params[1] = {ids.p};
    int rc = store_json_rows(store, DOCS_SQL, params, 1, &rows, err, errlen);
    free(ids.p);
    if (rc < 0)
        return rc;
    json_t *by_id = json_object();
    size_t i;
    json_t *doc;
    json_array_foreach(rows, i, doc)
    {
        const char *id = json_string_value(json_object_get(doc, "id"));
        if (id)
            json_object_set(by_id, id, doc);
    }
    for (i = 0; i < g->n; i++) {
        if (!flagged[i])
            continue;
        const struct qseries *s = &g->v[i];
        json_t *cand = json_object_get(by_id, s->runs[0].run_id);
        json_object_set_new(s->meta, "candidate", cand ? json_incref(cand) : json_object());
        json_t *base = json_array();
        for (size_t k = 1; k < s->n_runs; k++) {
            json_t *d = json_object_get(by_id, s->runs[k].run_id);
            if (d)
                json_array_append(base, d);
        }
        json_object_set_new(s->meta, "baseline", base);
        const char *first = json_string_value(json_object_get(s->meta, "first_run"));
        json_t *fd = first ? json_object_get(by_id, first) : NULL;
        if (fd) /* the nightly run a second pass checks its confirmation against */
            json_object_set(s->meta, "first", fd);
    }
    json_decref(by_id);
    json_decref(rows);
    return 0;
}

/* The numbers of array a (borrowed) appended to *x (*n of *cap). */
static void push_numbers(const json_t *a, double **x, size_t *n, size_t *cap)
{
    size_t i;
    const json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_number(v))
            continue;
        if (*n == *cap)
            *x = xreallocarray(*x, *cap = *cap ? 2 * *cap : 16, sizeof(**x));
        (*x)[(*n)++] = json_number_value(v);
    }
}

/* Median of key's samples over every run of runs (borrowed), pooled (by_run
 * false) or the median of each run's median (by_run true); NAN when none. */
static double runs_median(const json_t *runs, const char *key, bool by_run)
{
    double *x = NULL, *meds = NULL, med = NAN;
    size_t n = 0, cap = 0, nm = 0, capm = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (!by_run) {
            push_numbers(json_object_get(r, key), &x, &n, &cap);
            continue;
        }
        n = 0;
        push_numbers(json_object_get(r, key), &x, &n, &cap);
        double m;
        if (n && stats_median(x, n, &m) == 0) {
            json_t *one = json_pack("[f]", m);
            push_numbers(one, &meds, &nm, &capm);
            json_decref(one);
        }
    }
    if (by_run) {
        if (nm == 0 || stats_median(meds, nm, &med) < 0)
            med = NAN;
    } else if (n == 0 || stats_median(x, n, &med) < 0) {
        med = NAN;
    }
    free(x);
    free(meds);
    return med;
}

/* Median of key over the repeats of a run document (borrowed: "runs": [{key: x}]); NAN when none.
 */
static double doc_median(const json_t *doc, const char *key)
{
    json_t *all = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "runs"), i, r)
    {
        json_array_append(all, json_object_get(r, key));
    }
    json_t *runs = json_pack("[{s:o}]", key, all);
    double m = runs_median(runs, key, false);
    json_decref(runs);
    return m;
}

/* Scale the number under key of o (borrowed) by f. */
static void scale_number(json_t *o, const char *key, double f)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_number(v))
        json_object_set_new(o, key, json_real(json_number_value(v) * f));
}

/*
 * Bring candidate (a run document, borrowed and changed) back to the
 * baseline nights' conditions d (findings_correct() on each repeat; a
 * hotspot's per-repeat times scale with their repeat's wall time, its
 * medians with the median factor; its machine-speed reference is dropped, the
 * drift being divided out already). Returns the median wall factor.
 */
static double correct_candidate(json_t *candidate, const struct findings_drift *d)
{
    json_t *runs = json_object_get(candidate, "runs");
    size_t n = json_array_size(runs);
    double *f = xcalloc(n + 1, sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(runs, i);
        double w = json_get_number(r, "wall_s", NAN), c = json_get_number(r, "cpu_s", NAN), w2, c2;
        f[i] = 1;
        /* the bracket divides the machine's drift out: its speed reference must not
         * divide it out a second time (lib/regress.h, the machine's speed) */
        json_object_del(r, "ref_cpu_ns");
        json_object_del(r, "ref_cpu_mean_ns");
        if (!(isfinite(w) && w > 0 && isfinite(c) && c >= 0))
            continue;
        findings_correct(d, w, c, json_is_number(json_object_get(r, "run_delay_s")), &w2, &c2);
        json_object_set_new(r, "wall_s", json_real(w2));
        json_object_set_new(r, "cpu_s", json_real(c2));
        f[i] = w2 / w;
    }
    double fmed = 1;
    if (n && stats_median(f, n, &fmed) < 0)
        fmed = 1;
    size_t k;
    json_t *fn;
    json_array_foreach(json_object_get(json_object_get(candidate, "profile"), "functions"), k, fn)
    {
        scale_number(fn, "self_s", fmed);
        scale_number(fn, "total_s", fmed);
        const char *per[2] = {"self_s_runs", "total_s_runs"};
        for (int j = 0; j < 2; j++) {
            json_t *a = json_object_get(fn, per[j]);
            for (size_t i = 0; i < json_array_size(a) && i < n; i++) {
                json_t *v = json_array_get(a, i);
                if (json_is_number(v))
                    json_array_set_new(a, i, json_real(json_number_value(v) * f[i]));
            }
        }
    }
    free(f);
    return fmed;
}

/*
 * Whether every repeat of the confirmation run cand (borrowed) has its own
 * reference figures (runs[].ref_script_cpu_s, ref_script_wall_s > 0: the
 * reference script interleaved with the repeats, Job.reference); with *cpu and
 * *wall their medians over the repeats: the machine during the re-run, whose
 * drift is divided out of every repeat alike.
 *
 * Not each repeat by its own pair: with a CPU hog on every core of this
 * project's 2-core VM (2026-12-07, 15 repeats each), calibrate.py's CPU time
 * between the repeats varied more than a CPU-bound loop's (CV 13.9% vs 7.1%,
 * correlation 0.42): dividing each repeat by its own reference made that
 * script's repeats noisier (CV 12.6%), and helped only calibrate.py against
 * itself (15.5% -> 12.2%). The median follows a drift during the re-run (which
 * the bracketing jobs, minutes away, do not see) without adding the
 * reference's own noise to every repeat.
 */
static bool interleaved_reference(const json_t *cand, double *cpu, double *wall)
{
    const json_t *runs = json_object_get(cand, "runs");
    size_t n = json_array_size(runs);
    if (n == 0)
        return false;
    double *c = xcalloc(n, sizeof(*c)), *w = xcalloc(n, sizeof(*w));
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const json_t *r = json_array_get(runs, i);
        c[i] = json_get_number(r, "ref_script_cpu_s", NAN);
        w[i] = json_get_number(r, "ref_script_wall_s", NAN);
        ok = isfinite(c[i]) && c[i] > 0 && isfinite(w[i]) && w[i] > 0;
    }
    ok = ok && stats_median(c, n, cpu) == 0 && stats_median(w, n, wall) == 0;
    free(c);
    free(w);
    return ok;
}

/*
 * The second pass's series s (borrowed; its "candidate" is its confirmation
 * run, "baseline" its baseline documents): read the reference runs that
 * bracket the confirmation run and the nightly reference runs of the
 * baseline's batches (REFERENCE_SQL), correct the candidate for the
 * machine's drift between them (coordinator/findings.h), and set s's
 * "confirmation": how it was confirmed. Returns 0 or a negative code.
 */
static int confirm_reference(struct store *store, json_t *s, char *err, size_t errlen)
{
    char job[32];
    snprintf(job, sizeof(job), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(s, "job_id")));
    json_t *ids = json_array();
    size_t i;
    const json_t *d;
    json_array_foreach(json_object_get(s, "baseline"), i, d)
    {
        json_array_append(ids, json_object_get(d, "id"));
    }
    /* a uuid[] literal: "{a,b}" */
    size_t nb = json_array_size(ids), cap = 4 + nb * 40, len = 0;
    char *arr = xmalloc(cap);
    arr[len++] = '{';
    json_array_foreach(ids, i, d)
    {
        len += (size_t)snprintf(arr + len, cap - len, "%s%s", i ? "," : "",
                                json_string_value(d) ? json_string_value(d) : "");
    }
    snprintf(arr + len, cap - len, "}");
    json_decref(ids);
    json_t *rows = NULL;
    const char *params[2] = {job, arr};
    int rc = store_json_rows(store, REFERENCE_SQL, params, 2, &rows, err, errlen);
    free(arr);
    if (rc < 0)
        return rc;
    const json_t *ref = json_array_get(rows, 0);
    json_t *conf;
    const char *key = json_string_value(json_object_get(ref, "reference"));
    const json_t *now = json_object_get(ref, "now"), *base = json_object_get(ref, "base");
    json_t *cand = json_object_get(s, "candidate");
    double raw_wall = doc_median(cand, "wall_s"), raw_cpu = doc_median(cand, "cpu_s"), ic, iw;
    struct findings_drift di;
    if (ref == NULL) {
        conf = json_pack("{s:s, s:s}", "method", "none", "why",
                         "the confirmation run failed: decided on the night's run alone");
    } else if (key == NULL) {
        conf = json_pack("{s:s, s:s}", "method", "re-run", "why",
                         "the suite names no reference script (reference = PATH in [suite])");
    } else if (json_array_size(base) > 0 && interleaved_reference(cand, &ic, &iw) &&
               (di = (struct findings_drift){runs_median(base, "cpu_s", true),
                                             runs_median(base, "wall_s", true), ic, iw},
                findings_drift_valid(&di))) {
        /* the reference's median over its runs between the repeats, not each repeat by
         * its own two (interleaved_reference() says why) */
        correct_candidate(cand, &di);
        conf = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "method",
                         "interleaved", "reference", key, "reference_runs",
                         (json_int_t)json_array_size(json_object_get(cand, "runs")) + 1,
                         "bracket_runs", (json_int_t)json_array_size(now),
                         "baseline_reference_runs", (json_int_t)json_array_size(base),
                         "reference_cpu_s_baseline", di.cpu_base, "reference_cpu_s_now", di.cpu_now,
                         "reference_wall_s_baseline", di.wall_base, "reference_wall_s_now",
                         di.wall_now, "drift_cpu_pct", 100 * (di.cpu_now / di.cpu_base - 1),
                         "drift_wall_pct", 100 * (di.wall_now / di.wall_base - 1));
    } else if (json_array_size(now) == 0 || json_array_size(base) == 0) {
        conf = json_pack("{s:s, s:s, s:s}", "method", "re-run", "reference", key, "why",
                         json_array_size(now) == 0
                             ? "the reference runs around the confirmation run failed"
                             : "no reference run in the baseline's nights on this host");
    } else {
        struct findings_drift dr = {
            runs_median(base, "cpu_s", true), runs_median(base, "wall_s", true),
            runs_median(now, "cpu_s", false), runs_median(now, "wall_s", false)};
        if (!findings_drift_valid(&dr)) {
            conf = json_pack("{s:s, s:s, s:s}", "method", "re-run", "reference", key, "why",
                             "the reference's times are not usable (zero or missing)");
        } else {
            correct_candidate(cand, &dr);
            conf = json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "method",
                             "bracketed", "reference", key, "reference_runs",
                             (json_int_t)json_array_size(now), "baseline_reference_runs",
                             (json_int_t)json_array_size(base), "reference_cpu_s_baseline",
                             dr.cpu_base, "reference_cpu_s_now", dr.cpu_now,
                             "reference_wall_s_baseline", dr.wall_base, "reference_wall_s_now",
                             dr.wall_now, "drift_cpu_pct", 100 * (dr.cpu_now / dr.cpu_base - 1),
                             "drift_wall_pct", 100 * (dr.wall_now / dr.wall_base - 1));
        }
    }
    if (isfinite(raw_wall))
        json_object_set_new(conf, "candidate_wall_s_raw", json_real(raw_wall));
    if (isfinite(raw_cpu))
        json_object_set_new(conf, "candidate_cpu_s_raw", json_real(raw_cpu));
    json_object_set_new(s, "confirmation", conf);
    json_decref(rows);
    return 0;
}

/* "script_id/host_id/python_build" of o (borrowed), new. */
static char *series_key(const json_t *o)
{
    return xasprintf("%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT "/%s",
                     json_integer_value(json_object_get(o, "script_id")),
                     json_integer_value(json_object_get(o, "host_id")),
                     json_string_value(json_object_get(o, "python_build")) ?: "");
}

/* The open findings of batch id's series (OPEN_SQL) into their series' "open_rows". */
static int gather_open(struct store *store, const char *id, struct gather_ctx *g, char *err,
                       size_t errlen)
{
    json_t *rows = NULL;
    const char *params[1] = {id};
    int rc = store_json_rows(store, OPEN_SQL, params, 1, &rows, err, errlen);
    if (rc < 0)
        return rc;
    json_t *by_key = json_object();
    for (size_t i = 0; i < g->n; i++) {
        char *k = series_key(g->v[i].meta);
        json_object_set(by_key, k, g->v[i].meta);
        free(k);
    }
    size_t i;
    json_t *o;
    json_array_foreach(rows, i, o)
    {
        char *k = series_key(o);
        json_t *meta = json_object_get(by_key, k);
        free(k);
        if (meta)
            json_array_append(json_object_get(meta, "open_rows"), o);
    }
    json_decref(by_key);
    json_decref(rows);
    return 0;
}

/*
 * Decide batch id (text) in analysis pass pass ("0" first, "1" after its
 * confirmation runs): one query reads every series' candidate and
 * baseline samples (BATCH_RUNS_SQL), one the open findings of its series;
 * wall, cpu and memory are decided from the samples; the series where one of
 * those regresses or improves, or with an open finding, are read again with
 * their hotspots (one query) and compared in full (regress_compare: hotspot
 * metrics and the "why"). The BH family is every statistical metric so
 * computed. Returns {"insert", "attach", "end"} (new; see decide_results())
 * or NULL with *rc < 0.
 */
static json_t *decide_batch(struct store *store, const char *id, const char *pass,
                            const struct regress_options *opt, json_t *confirm,
                            struct analysis_summary *sum, int *rc, char *err, size_t errlen)
{
    struct gather_ctx g = {0};
    g.opt = opt;
    g.every_row = fault_enabled("analysis_decide_every_row");
    char limit[32];
    snprintf(limit, sizeof(limit), "%d",
             opt->max_baseline_runs > 0 ? opt->max_baseline_runs : 1000000);
    char hold[16];
    snprintf(hold, sizeof(hold), "%d", ANALYSIS_HOLD_NIGHTS);
    const char *params[4] = {id, limit, pass, hold};
    double t0 = mono_s();
    *rc = store_each_row_binary(store, BATCH_RUNS_SQL, params, 4, gather_row, &g, err, errlen);
    if (*rc >= 0 && gather_finish(&g) < 0)
        *rc = -EIO;
    if (*rc < 0) {
        if (*rc != -EIO || err[0] == '\0')
            snprintf(err, errlen, "could not read the batch's series (%d)", *rc);
        gather_release(&g);
        return NULL;
    }
    unsigned rows_read = (unsigned)*rc;
    *rc = gather_open(store, id, &g, err, errlen);
    double t1 = mono_s();
    sum->secs_samples = t1 - t0;
    if (*rc < 0) {
        gather_release(&g);
        return NULL;
    }
    json_t **results = xcalloc(g.n ? g.n : 1, sizeof(*results));
    bool *flagged = xcalloc(g.n ? g.n : 1, sizeof(*flagged));
    bool second = strcmp(pass, "0") != 0;
    sum->early = g.early;
    sum->redecided = g.redecided;
    for (size_t i = 0; i < g.n; i++) {
        /* decided while the rows came (gather_ctx), or now: the same runs either way */
        if (g.v[i].result == NULL)
            g.v[i].result = quick_result(&g.v[i], opt, &g.v[i].flagged);
        results[i] = g.v[i].result;
        flagged[i] = g.v[i].flagged;
        g.v[i].result = NULL;
        /* an open finding's function metrics, a confirmation and instruction counts (the
         * quick pass reads the series index's samples, which hold none) need the documents */
        flagged[i] |= g.v[i].n_runs > 1 &&
                      (second || json_array_size(json_object_get(g.v[i].meta, "open_rows")) > 0 ||
                       json_is_true(json_object_get(g.v[i].meta, "counted")));
    }
    double t2 = mono_s();
    *rc = gather_docs(store, &g, flagged, err, errlen);
    for (size_t i = 0; *rc == 0 && second && i < g.n; i++) {
        json_object_set_new(g.v[i].meta, "second_pass", json_true());
        if (flagged[i])
            *rc = confirm_reference(store, g.v[i].meta, err, errlen);
    }
    json_t *series = json_array();
    for (size_t i = 0; i < g.n; i++) {
        if (*rc == 0 && flagged[i]) {
            json_decref(results[i]);
            results[i] = compare_series(g.v[i].meta, opt);
            rows_read += (unsigned)json_array_size(json_object_get(g.v[i].meta, "baseline")) + 1;
        }
        json_array_append(series, g.v[i].meta);
    }
    free(flagged);
    gather_release(&g);
    double t3 = mono_s();
    json_t *out = NULL;
    if (*rc == 0) {
        out = decide_results(series, results, opt, confirm, sum);
        sum->rows_read = rows_read;
        sum->secs_docs = t3 - t2;
        sum->secs_decide = (t2 - t1) + (mono_s() - t3);
    } else {
        for (size_t i = 0; i < json_array_size(series); i++)
            json_decref(results[i]);
        free(results);
    }
    json_decref(series);
    return out;
}

/* Run sql with batch id and the JSON of list (borrowed) when list is not empty. */
static int store_list(struct store *store, const char *sql, const char *id, const json_t *list,
                      char *err, size_t errlen)
{
    if (json_array_size(list) == 0)
        return 0;
    char *text = json_dumps(list, JSON_COMPACT);
    const char *params[2] = {id, text};
    int rc = store_command(store, sql, params, 2, err, errlen);
    free(text);
    return rc;
}

int analysis_run_one(struct store *store, const struct regress_options *opt, bool with_confirm,
                     struct analysis_summary *sum, char *err, size_t errlen)
{
    struct regress_options dflt;
    if (opt == NULL) {
        analysis_options_init(&dflt);
        opt = &dflt;
    }
    memset(sum, 0, sizeof(*sum));
    int rc = store_command(store, "BEGIN", NULL, 0, err, errlen);
    if (rc < 0)
        return rc;
    json_t *claim = NULL, *out = NULL, *confirm = NULL;
    rc = store_json_rows(store, CLAIM_SQL, NULL, 0, &claim, err, errlen);
    if (rc <= 0)
        goto out;
    const json_t *batch = json_array_get(claim, 0);
    char id[32], pass[16];
    snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(batch, "id")));
    json_int_t pass_no = json_integer_value(json_object_get(batch, "pass"));
    snprintf(pass, sizeof(pass), "%" JSON_INTEGER_FORMAT, pass_no);
    sum->batch_id = strtoull(id, NULL, 10);
    sum->pass = (unsigned)pass_no + 1;
    /* the batch's samples (~40 k rows for 3,500 series) are sorted in memory; no JIT:
     * the samples query's estimated cost (~120,000) passes jit_above_cost, and compiling
     * its ~140 expressions took longer than running them (docs/benchmarks.md) */
    rc = store_command(store, "SET LOCAL work_mem = '64MB'", NULL, 0, err, errlen);
    if (rc >= 0)
        rc = store_command(store, "SET LOCAL jit = off", NULL, 0, err, errlen);
    if (rc < 0)
        goto out;
    confirm = json_array();
    /* the second pass confirms nothing more: its series were the confirmations */
    out = decide_batch(store, id, pass, opt, with_confirm && pass_no == 0 ? confirm : NULL, sum,
                       &rc, err, errlen);
    if (rc < 0)
        goto out;
    double t_store = mono_s();
    /* ended findings first: a new step of a finding replaces its open row */
    rc = store_list(store, END_SQL, id, json_object_get(out, "end"), err, errlen);
    if (rc >= 0)
        rc = store_list(store, ATTACH_SQL, id, json_object_get(out, "attach"), err, errlen);
    if (rc >= 0)
        rc = store_list(store, INSERT_SQL, id, json_object_get(out, "insert"), err, errlen);
    if (rc >= 0)
        rc = store_list(store, HOLD_SQL, id, json_object_get(out, "hold"), err, errlen);
    if (rc >= 0)
        rc = store_list(store, UNSETTLED_SQL, id, json_object_get(out, "unsettled"), err, errlen);
    if (rc >= 0 && json_array_size(confirm) > 0) {
        char *text = json_dumps(confirm, JSON_COMPACT);
        const char *pj[1] = {text};
        rc = store_command(store, CONFIRM_SQL, pj, 1, err, errlen);
        free(text);
    }
    if (rc < 0)
        goto out;
    const char *params[1] = {id};
    rc = store_command(store, json_array_size(confirm) ? REOPEN_SQL : DONE_SQL, params, 1, err,
                       errlen);
    if (rc < 0)
        goto out;
    rc = store_command(store, "COMMIT", NULL, 0, err, errlen);
    if (rc >= 0)
        rc = 1;
    sum->secs_store = mono_s() - t_store;
out:
    if (rc <= 0)
        store_abort(store);
    json_decref(claim);
    json_decref(out);
    json_decref(confirm);
    return rc;
}
