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
#include "log.h"
#include "pgbin.h"
#include "stats.h"
#include "xmalloc.h"

/* ---- SQL -------------------------------------------------------------------- */

static const char CLAIM_SQL[] =
    "SELECT b.id::text FROM batches b WHERE b.state = 'done' AND b.analyzed IS NULL"
    " ORDER BY b.id LIMIT 1 FOR UPDATE SKIP LOCKED";

/* A run as a document for lib/regress (column "doc" of alias r). */
#define RUN_DOC_SQL                                                                                \
    "json_build_object('id', r.run_id::text, 'created', pyscope_ts(r.stored_at),"                  \
    " 'script', json_build_object('key', s.key, 'sha256', nullif(r.script_sha256, '')),"           \
    " 'host', json_build_object('fingerprint', h.fingerprint),"                                    \
    " 'python', json_build_object('build', r.python_build),"                                       \
    " 'runs', (SELECT coalesce(json_agg(json_build_object('wall_s', u.w, 'cpu_s', u.c,"            \
    "   'peak_rss_bytes', u.m, 'run_delay_s', u.d, 'ctx_voluntary', u.cv,"                         \
    "   'ctx_involuntary', u.ci, 'steal_s', u.st, 'cpu_pressure_s', u.ps, 'load1', u.l,"           \
    "   'cpu_mhz', u.f) ORDER BY u.i), '[]')"                                                      \
    "   FROM unnest(r.wall_s, r.cpu_s, r.peak_rss_bytes, r.run_delay_s, r.ctx_voluntary,"          \
    "   r.ctx_involuntary, r.steal_s, r.cpu_pressure_s, r.load1_runs, r.cpu_mhz)"                  \
    "   WITH ORDINALITY AS u(w, c, m, d, cv, ci, st, ps, l, f, i) WHERE u.w IS NOT NULL),"         \
    " 'profile', json_build_object('functions', (SELECT coalesce(json_agg(json_build_object("      \
    "   'key', f.key, 'self_s', u.s, 'total_s', u.t,"                                              \
    "   'self_s_runs', pyscope_row(r.fn_self_runs, u.i::integer),"                                 \
    "   'total_s_runs', pyscope_row(r.fn_total_runs, u.i::integer),"                               \
    "   'total_pct', 100 * u.t / nullif(r.wall_median, 0), 'self_cpu_s', u.sc,"                    \
    "   'self_pct', 100 * u.s / nullif(r.wall_median, 0)) ORDER BY u.t DESC, u.i), '[]')"          \
    "   FROM unnest(r.fn_ids, r.fn_self_s, r.fn_total_s, r.fn_self_cpu_s)"                         \
    "   WITH ORDINALITY AS u(id, s, t, sc, i) JOIN functions f ON f.id = u.id)))::text"            \
    " FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id"

/* The runs with documents (for the series that need hotspots): ids $1. */
static const char DOCS_SQL[] = "SELECT " RUN_DOC_SQL " WHERE r.run_id = ANY ($1::uuid[])";

/*
 * Every series of batch $1 with its baseline, one row per run: the series'
 * newest ok run of the batch (k = 0, the candidate, with the series' columns)
 * and its baseline (k = 1): the ok runs of earlier batches since the newest
 * run triaged 'expected' (included), the newest $2 of them. One index-only
 * range scan per series (runs_series_idx covers the samples and run delays,
 * schema/005 and 010), samples only: no hotspots, no JSON. Rows come in no particular order (a
 * sort of ~40,000 rows with their arrays would cost more than the reads):
 * sn numbers the series 1..N and stored_at orders a baseline (gather_row()).
 */
static const char BATCH_RUNS_SQL[] =
    "WITH c AS MATERIALIZED (SELECT DISTINCT ON (r.script_id, r.host_id, r.python_build)"
    "  r.run_id, r.script_id, r.host_id, r.python_build, r.batch_id, r.job_id, r.stored_at,"
    "  r.wall_s, r.cpu_s, r.peak_rss_bytes, r.run_delay_s,"
    "  count(*) OVER (PARTITION BY r.script_id, r.host_id, r.python_build) AS batch_runs"
    "  FROM runs r WHERE r.batch_id = $1::bigint AND r.outcome = 'ok'"
    "  ORDER BY r.script_id, r.host_id, r.python_build, r.stored_at DESC),"
    " m AS MATERIALIZED (SELECT c.*,"
    "  row_number() OVER (ORDER BY c.script_id, c.host_id, c.python_build) AS sn,"
    "  coalesce(j.threshold, s.threshold) AS threshold,"
    "  EXISTS (SELECT 1 FROM regressions g WHERE g.script_id = c.script_id"
    "   AND g.host_id = c.host_id AND g.python_build = c.python_build"
    "   AND g.batch_id < c.batch_id AND g.kind = 'regression'"
    "   AND g.state IN ('new', 'confirmed', 'ack')) AS open_before,"
    "  (SELECT max(y.stored_at) FROM regressions g JOIN runs y ON y.run_id = g.candidate_run"
    "   WHERE g.state = 'expected' AND g.script_id = c.script_id AND g.host_id = c.host_id"
    "   AND g.python_build = c.python_build) AS reset"
    "  FROM c JOIN jobs j ON j.id = c.job_id JOIN scripts s ON s.id = c.script_id)"
    " SELECT m.sn, x.k, x.run_id::text, x.stored_at, x.wall_s, x.cpu_s, x.peak_rss_bytes,"
    "  x.script_id, x.host_id, x.python_build, x.job_id, x.threshold, x.batch_runs, x.open_before,"
    "  x.run_delay_s"
    " FROM m CROSS JOIN LATERAL ("
    "  SELECT 0 AS k, m.run_id, m.stored_at, m.wall_s, m.cpu_s, m.peak_rss_bytes, m.script_id,"
    "   m.host_id, m.python_build, m.job_id, m.threshold, m.batch_runs, m.open_before,"
    "   m.run_delay_s"
    "  UNION ALL (SELECT 1, b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes,"
    "   NULL::bigint, NULL::bigint, NULL::text, NULL::bigint, NULL::float8, NULL::bigint,"
    "   NULL::boolean, b.run_delay_s FROM ("
    /* index-only: the runs runs_series_idx covers; then the wider ones, from the heap */
    "   (SELECT b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes, b.run_delay_s"
    "   FROM runs b WHERE b.script_id = m.script_id AND b.host_id = m.host_id"
    "   AND b.stored_at < m.stored_at AND b.stored_at >= coalesce(m.reset, '-infinity')"
    "   AND b.python_build = m.python_build AND b.outcome = 'ok' AND b.batch_id <> m.batch_id"
    "   AND " STORE_RUNS_COVERED(
        "b") " ORDER BY b.stored_at DESC LIMIT $2::integer)"
             "   UNION ALL (SELECT b.run_id, b.stored_at, b.wall_s, b.cpu_s, b.peak_rss_bytes,"
             "   b.run_delay_s FROM runs b WHERE b.script_id = m.script_id AND b.host_id = "
             "m.host_id"
             "   AND b.stored_at < m.stored_at AND b.stored_at >= coalesce(m.reset, '-infinity')"
             "   AND b.python_build = m.python_build AND b.outcome = 'ok' AND b.batch_id <> "
             "m.batch_id"
             "   AND NOT " STORE_RUNS_COVERED(
                 "b") " ORDER BY b.stored_at DESC LIMIT $2::integer)) b"
                      "   ORDER BY b.stored_at DESC LIMIT $2::integer)) x";

/*
 * The rows of batch $1 ($2: a JSON array of regression rows). A finding of a
 * series, metric, function and kind that is still open from an earlier batch
 * (new, confirmed or ack) is attached to that row (last batch and run, one
 * night more: schema/004_ongoing_regressions.sql) instead of a new row.
 */
static const char INSERT_SQL[] =
    "WITH rows_in AS MATERIALIZED (SELECT x.d FROM jsonb_array_elements($2::jsonb) AS x(d)),"
    " o AS (UPDATE regressions g SET last_batch_id = $1::bigint,"
    "  last_run = (i.d->>'candidate_run')::uuid, nights = g.nights + 1, updated = now()"
    "  FROM rows_in i WHERE g.script_id = (i.d->>'script_id')::bigint"
    "  AND g.host_id = (i.d->>'host_id')::bigint AND g.python_build = i.d->>'python_build'"
    "  AND g.metric = i.d->>'metric' AND g.function_key = i.d->>'function_key'"
    "  AND g.kind = i.d->>'kind' AND g.last_batch_id < $1::bigint"
    "  AND g.state IN ('new', 'confirmed', 'ack')"
    "  RETURNING g.script_id, g.host_id, g.python_build, g.metric, g.function_key, g.kind)"
    " INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric, function_key,"
    " kind, mode, change_pct, ci_low_pct, ci_high_pct, p_value, q_value, baseline_median,"
    " candidate_median, baseline_runs, candidate_run, why, script_changed, python_changed,"
    " host_changed, detail, state, confirm_runs, last_batch_id, last_run)"
    " SELECT $1::bigint, (d->>'script_id')::bigint, (d->>'host_id')::bigint, d->>'python_build',"
    " d->>'metric', d->>'function_key', d->>'kind', d->>'mode', (d->>'change_pct')::float8,"
    " (d->>'ci_low_pct')::float8, (d->>'ci_high_pct')::float8, (d->>'p_value')::float8,"
    " (d->>'q_value')::float8, (d->>'baseline_median')::float8,"
    " (d->>'candidate_median')::float8,"
    " ARRAY(SELECT jsonb_array_elements_text(d->'baseline_runs'))::uuid[],"
    " (d->>'candidate_run')::uuid, coalesce(d->'why', '{}'), (d->>'script_changed')::boolean,"
    " (d->>'python_changed')::boolean, (d->>'host_changed')::boolean, d->'detail',"
    " coalesce(d->>'state', 'new'), coalesce((d->>'confirm_runs')::integer, 0), $1::bigint,"
    " (d->>'candidate_run')::uuid"
    " FROM rows_in WHERE NOT EXISTS (SELECT 1 FROM o WHERE o.script_id = (d->>'script_id')::bigint"
    "  AND o.host_id = (d->>'host_id')::bigint AND o.python_build = d->>'python_build'"
    "  AND o.metric = d->>'metric' AND o.function_key = d->>'function_key' AND o.kind = d->>'kind')"
    " ON CONFLICT DO NOTHING";

/* Confirmation jobs: each job of $1 (a JSON array of ids) again, same host,
 * same commit, more repeats, in its batch. */
static const char CONFIRM_SQL[] =
    "INSERT INTO jobs (batch_id, script_id, host_id, args, repeat, warmup, mode, timeout_s,"
    " memory_limit_bytes, threshold, max_attempts, env, commit_hash)"
    " SELECT batch_id, script_id, host_id, args, least(1000, greatest(5, 2 * repeat)), warmup,"
    " mode, timeout_s, memory_limit_bytes, threshold, max_attempts, env, commit_hash FROM jobs"
    " WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) ORDER BY id";

/* The batch runs again until its confirmation jobs end. */
static const char REOPEN_SQL[] =
    "UPDATE batches SET state = 'running', finished = NULL WHERE id = $1::bigint";

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
    json_object_set_new(row, "detail", detail);
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
    const json_t *pv = json_object_get(m, "p_value");
    if (!mode || strcmp(mode, "statistical") != 0 || !json_is_number(pv))
        return false;
    *p = json_number_value(pv);
    return isfinite(*p) && *p >= 0 && *p <= 1;
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
    json_t *r =
        regress_compare(json_object_get(s, "candidate"), (const json_t *const *)docs, nb, &o);
    free(docs);
    return r;
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
    size_t np = 0, cap = 16;
    double *p = xcalloc(cap, sizeof(*p));
    sum->series = sum->tests = sum->regressions = sum->improvements = sum->confirming = 0;
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

    json_t *rows = json_array();
    size_t ip = 0;
    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_array_get(series, i);
        json_t *mine = json_array();
        bool regressed = false, inconclusive = false;
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(results[i], "metrics"), k, m)
        {
            double pv, qv = 1;
            bool has_q = metric_p(m, &pv);
            if (has_q)
                qv = q[ip++];
            const char *v = json_string_value(json_object_get(m, "verdict"));
            const char *name = json_string_value(json_object_get(m, "metric"));
            const char *rule = json_string_value(json_object_get(m, "rule"));
            /* a re-run adds a candidate run, not history: it cannot settle "insufficient
             * history"; nor does it make a busy machine quiet ("contended": the CPU time
             * decides a CPU-bound script then) */
            if (v && name && strcmp(v, "inconclusive") == 0 &&
                (strcmp(name, "wall_s") == 0 || strcmp(name, "cpu_s") == 0) &&
                !(rule &&
                  (strcmp(rule, regress_rule_name(REGRESS_RULE_INSUFFICIENT_HISTORY)) == 0 ||
                   strcmp(rule, regress_rule_name(REGRESS_RULE_CONTENDED)) == 0)))
                inconclusive = true;
            if (!v || (strcmp(v, "regression") != 0 && strcmp(v, "improvement") != 0))
                continue;
            if (has_q && qv >= opt->alpha)
                continue; /* not a discovery once the whole batch is counted */
            json_array_append_new(mine, row_new(s, results[i], m, qv, has_q));
            regressed |= strcmp(v, "regression") == 0;
        }
        json_decref(results[i]);
        /* confirm before alerting: an inconclusive series, or a regression
         * not already open from an earlier batch, runs once more first */
        json_int_t batch_runs = json_integer_value(json_object_get(s, "batch_runs"));
        bool known = json_is_true(json_object_get(s, "open_before"));
        if (confirm && batch_runs < 2 && (inconclusive || (regressed && !known))) {
            json_array_append(confirm, json_object_get(s, "job_id"));
            sum->confirming++;
            json_decref(mine);
            continue;
        }
        json_t *row;
        json_array_foreach(mine, k, row)
        {
            bool reg = strcmp(json_string_value(json_object_get(row, "kind")), "regression") == 0;
            if (reg && batch_runs >= 2) {
                json_object_set_new(row, "state", json_string("confirmed"));
                json_object_set_new(row, "confirm_runs", json_integer(batch_runs));
            }
            if (reg)
                sum->regressions++;
            else
                sum->improvements++;
            json_array_append(rows, row);
        }
        json_decref(mine);
    }
    free(results);
    free(p);
    free(q);

    /* sort worst first */
    size_t nr = json_array_size(rows);
    json_t **v = xcalloc(nr ? nr : 1, sizeof(*v));
    for (size_t i = 0; i < nr; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, nr, sizeof(*v), row_cmp);
    json_array_clear(rows);
    for (size_t i = 0; i < nr; i++)
        json_array_append_new(rows, v[i]);
    free(v);
    return rows;
}

void analysis_options_init(struct regress_options *opt)
{
    regress_options_init(opt);
    opt->min_baseline_runs = ANALYSIS_MIN_BASELINE_RUNS;
    opt->change_points = false;
    opt->new_level_runs = 0;
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
     * times (wall_s - run_delay_s of the repeats that have both, lib/regress.h) */
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
};

/* What BATCH_RUNS_SQL's rows build up (gather_row()): series sn at v[sn - 1]. */
struct gather_ctx {
    struct qseries *v;
    size_t n, cap;
};

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

/* The series meta object of a candidate row (columns 7..13 of BATCH_RUNS_SQL,
 * binary; run_id: its column 2), new, or NULL when a column does not decode. */
static json_t *series_meta(const struct pgbin *v)
{
    int64_t script, host, job, batch_runs;
    double threshold = 0;
    bool open_before;
    if (pgbin_int64(v[7], &script) < 0 || pgbin_int64(v[8], &host) < 0 || v[9].p == NULL ||
        pgbin_int64(v[10], &job) < 0 || (v[11].p && pgbin_float8(v[11], &threshold) < 0) ||
        pgbin_int64(v[12], &batch_runs) < 0 || pgbin_bool(v[13], &open_before) < 0)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "script_id", json_integer(script));
    json_object_set_new(o, "host_id", json_integer(host));
    json_object_set_new(o, "python_build", json_string((const char *)v[9].p));
    json_object_set_new(o, "run_id", json_string((const char *)v[2].p));
    json_object_set_new(o, "job_id", json_integer(job));
    json_object_set_new(o, "threshold", v[11].p ? json_real(threshold) : json_null());
    json_object_set_new(o, "batch_runs", json_integer(batch_runs));
    json_object_set_new(o, "open_before", json_boolean(open_before));
    return o;
}

/* The net wall times and contention of r from its aligned wall, cpu and run
 * delay arrays (columns 4, 5 and 14, binary; delay NULL: not measured). */
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
        for (size_t i = 0; i < nw; i++)
            if (isfinite(w[i]) && isfinite(d[i]) && d[i] >= 0 && w[i] - d[i] > 0)
                r->x[Q_NET][r->n[Q_NET]++] = w[i] - d[i];
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
    if (ncols != 15 || pgbin_int64(v[0], &sn) < 0 || pgbin_int64(v[1], &k) < 0 || v[2].p == NULL ||
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
    if (gather_contention(r, v[4], v[5], v[14]) < 0)
        return -EIO;
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
    }
    free(g->v);
    memset(g, 0, sizeof(*g));
}

/*
 * Decide metric m of series s the cheap way when it can be done exactly:
 * a change within the threshold is no_change whatever the CI, so only the
 * U test's p-value (for the batch's BH family) is computed; anything else
 * goes through regress_metric(). Returns a new metric object ({"metric",
 * "verdict", "mode", "p_value"}) or NULL when the metric cannot be compared,
 * as lib/regress would decide.
 */
static json_t *quick_metric(const struct qseries *s, int m, const struct regress_options *o,
                            const struct regress_baseline *fixed, struct regress_baseline *chosen)
{
    size_t nr = s->n_runs - 1;
    int xi = m < 0 ? Q_NET : m; /* m < 0: the wall time net of queueing */
    const double *cand = s->runs[0].x[xi];
    size_t nc = s->runs[0].n[xi];
    struct regress_run *all = xcalloc(nr ? nr : 1, sizeof(*all));
    for (size_t k = 1; k < s->n_runs; k++)
        all[k - 1] = (struct regress_run){s->runs[k].x[xi], s->runs[k].n[xi]};
    /* the baseline lib/regress would choose among these runs (change point, held-out
     * tail), so that the shortcut below decides on the same runs as regress_compare();
     * the net wall time is compared on the wall time's */
    struct regress_baseline sel;
    if (fixed)
        sel = *fixed;
    if (nc == 0 || (!fixed && regress_baseline_select(all, nr, o, &sel) < 0)) {
        free(all);
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
    double mb = 0, mc = 0;
    struct regress_run cand_run = {cand, nc};
    if (regress_centres(runs, n_sel, &cand_run, 1, o, &mb, &mc) < 0)
        mb = 0;
    json_t *obj = NULL;
    if (mb > 0 && fabs(100 * (mc / mb - 1)) <= 100 * o->threshold) {
        struct stats_mwu mwu;
        bool statistical = stats_mannwhitney_min_p(nb, nc) < o->alpha;
        stats_mannwhitney(base, nb, cand, nc, &mwu);
        obj = json_pack("{s:s, s:s, s:s, s:f, s:s}", "metric", MAIN_METRICS[m], "verdict",
                        "no_change", "mode", statistical ? "statistical" : "threshold", "p_value",
                        mwu.p_value, "rule", regress_rule_name(REGRESS_RULE_WITHIN_THRESHOLD));
    } else if (mb > 0) {
        struct regress_result r;
        if (regress_metric_runs(runs, n_sel, &cand_run, 1, o, &r) == 0)
            obj = json_pack("{s:s, s:s, s:s, s:f, s:s}", "metric", MAIN_METRICS[m], "verdict",
                            regress_verdict_name(r.verdict), "mode",
                            r.statistical ? "statistical" : "threshold", "p_value", r.p_value,
                            "rule", regress_rule_name(r.rule));
    }
    free(all);
    free(base);
    return obj;
}

/*
 * The wall time of series s the way regress_compare() judges it: when the
 * contention of the chosen baseline and the candidate says it is
 * contaminated (lib/regress.h), net of queueing on the same baseline, or
 * inconclusive ("contended") for a CPU-bound script or without net times.
 * New object or NULL.
 */
static json_t *quick_wall(const struct qseries *s, const struct regress_options *o)
{
    struct regress_baseline sel;
    json_t *obj = quick_metric(s, 0, o, NULL, &sel);
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
    json_t *net = quick_metric(s, -1, o, &sel, NULL);
    if (net && !c.cpu_bound) {
        json_decref(obj);
        json_object_set_new(net, "net_of_queueing", json_true());
        return net;
    }
    json_decref(net); /* a CPU-bound script: its CPU time decides */
    json_object_set_new(obj, "verdict", json_string("inconclusive"));
    json_object_set_new(obj, "rule", json_string(regress_rule_name(REGRESS_RULE_CONTENDED)));
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
        json_t *obj = m == 0 ? quick_wall(s, &o) : quick_metric(s, m, &o, NULL, NULL);
        if (obj == NULL)
            continue;
        const char *v = json_string_value(json_object_get(obj, "verdict"));
        *flagged |= strcmp(v, "regression") == 0 || strcmp(v, "improvement") == 0;
        json_array_append_new(metrics, obj);
    }
    return json_pack("{s:o}", "metrics", metrics);
}

/*
 * The run documents (RUN_DOC_SQL, with hotspots) of the flagged series' runs,
 * read in one query, into their series' meta as "candidate" and "baseline".
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
        for (size_t k = 0; flagged[i] && k < g->v[i].n_runs; k++) {
            size_t need = strlen(g->v[i].runs[k].run_id) + 2;
            if (ids.cap - ids.len < need + 2)
                ids.p = xrealloc(ids.p, ids.cap = 2 * ids.cap + need + 64);
            ids.len += (size_t)snprintf(ids.p + ids.len, ids.cap - ids.len, "%s%s",
                                        count++ ? "," : "{", g->v[i].runs[k].run_id);
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
    }
    json_decref(by_id);
    json_decref(rows);
    return 0;
}

/*
 * Decide batch id (text): one query reads every series' candidate and
 * baseline samples (BATCH_RUNS_SQL); wall, cpu and memory are decided from
 * them; only the series where one of those regresses or improves are read
 * again with their hotspots (one query) and compared in full
 * (regress_compare: hotspot metrics and the "why"). The BH family is every
 * statistical metric so computed. Returns the rows (new) or NULL with *rc < 0.
 */
static json_t *decide_batch(struct store *store, const char *id, const struct regress_options *opt,
                            json_t *confirm, struct analysis_summary *sum, int *rc, char *err,
                            size_t errlen)
{
    struct gather_ctx g = {0};
    char limit[32];
    snprintf(limit, sizeof(limit), "%d",
             opt->max_baseline_runs > 0 ? opt->max_baseline_runs : 1000000);
    const char *params[2] = {id, limit};
    double t0 = mono_s();
    *rc = store_each_row_binary(store, BATCH_RUNS_SQL, params, 2, gather_row, &g, err, errlen);
    if (*rc >= 0 && gather_finish(&g) < 0)
        *rc = -EIO;
    double t1 = mono_s();
    sum->secs_samples = t1 - t0;
    if (*rc < 0) {
        if (*rc != -EIO || err[0] == '\0')
            snprintf(err, errlen, "could not read the batch's series (%d)", *rc);
        gather_release(&g);
        return NULL;
    }
    unsigned rows_read = (unsigned)*rc;
    json_t **results = xcalloc(g.n ? g.n : 1, sizeof(*results));
    bool *flagged = xcalloc(g.n ? g.n : 1, sizeof(*flagged));
    for (size_t i = 0; i < g.n; i++)
        results[i] = quick_result(&g.v[i], opt, &flagged[i]);
    double t2 = mono_s();
    *rc = gather_docs(store, &g, flagged, err, errlen);
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
    json_t *rows = NULL;
    if (*rc == 0) {
        rows = decide_results(series, results, opt, confirm, sum);
        sum->rows_read = rows_read;
        sum->secs_docs = t3 - t2;
        sum->secs_decide = (t2 - t1) + (mono_s() - t3);
    } else {
        for (size_t i = 0; i < json_array_size(series); i++)
            json_decref(results[i]);
        free(results);
    }
    json_decref(series);
    return rows;
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
    json_t *claim = NULL, *rows = NULL, *confirm = NULL;
    rc = store_json_rows(store, CLAIM_SQL, NULL, 0, &claim, err, errlen);
    if (rc <= 0)
        goto out;
    char id[32];
    snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, json_integer_value(json_array_get(claim, 0)));
    sum->batch_id = strtoull(id, NULL, 10);
    /* the batch's samples (~40 k rows for 3,500 series) are sorted in memory */
    rc = store_command(store, "SET LOCAL work_mem = '64MB'", NULL, 0, err, errlen);
    if (rc < 0)
        goto out;
    confirm = json_array();
    rows = decide_batch(store, id, opt, with_confirm ? confirm : NULL, sum, &rc, err, errlen);
    if (rc < 0)
        goto out;
    double t_store = mono_s();
    /* all rows in one statement, all confirmation jobs in another */
    if (json_array_size(rows) > 0) {
        char *text = json_dumps(rows, JSON_COMPACT);
        const char *params[2] = {id, text};
        rc = store_command(store, INSERT_SQL, params, 2, err, errlen);
        free(text);
        if (rc < 0)
            goto out;
    }
    if (json_array_size(confirm) > 0) {
        char *text = json_dumps(confirm, JSON_COMPACT);
        const char *pj[1] = {text};
        rc = store_command(store, CONFIRM_SQL, pj, 1, err, errlen);
        free(text);
        if (rc < 0)
            goto out;
    }
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
    json_decref(rows);
    json_decref(confirm);
    return rc;
}
