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

#include "log.h"
#include "stats.h"
#include "xmalloc.h"

/* ---- SQL -------------------------------------------------------------------- */

static const char CLAIM_SQL[] =
    "SELECT b.id::text FROM batches b WHERE b.state = 'done' AND b.analyzed IS NULL"
    " ORDER BY b.id LIMIT 1 FOR UPDATE SKIP LOCKED";

/* The newest ok run of each series of batch $1. */
static const char SERIES_SQL[] =
    "SELECT DISTINCT ON (r.script_id, r.host_id, r.python_build)"
    " json_build_object('script_id', r.script_id, 'host_id', r.host_id,"
    " 'python_build', r.python_build, 'run_id', r.run_id::text,"
    " 'threshold', coalesce(j.threshold, s.threshold), 'job_id', r.job_id,"
    " 'batch_runs', (SELECT count(*) FROM runs x WHERE x.batch_id = r.batch_id"
    "   AND x.script_id = r.script_id AND x.host_id = r.host_id"
    "   AND x.python_build = r.python_build AND x.outcome = 'ok'),"
    " 'open_before', EXISTS (SELECT 1 FROM regressions g WHERE g.script_id = r.script_id"
    "   AND g.host_id = r.host_id AND g.python_build = r.python_build"
    "   AND g.batch_id < r.batch_id AND g.kind = 'regression'"
    "   AND g.state IN ('new', 'confirmed', 'ack')))::text"
    " FROM runs r JOIN jobs j ON j.id = r.job_id JOIN scripts s ON s.id = r.script_id"
    " WHERE r.batch_id = $1 AND r.outcome = 'ok'"
    " ORDER BY r.script_id, r.host_id, r.python_build, r.stored_at DESC";

/* A run as a document for lib/regress (column "doc" of alias r). */
#define RUN_DOC_SQL                                                                                \
    "json_build_object('id', r.run_id::text, 'created', pyscope_ts(r.stored_at),"                  \
    " 'script', json_build_object('key', s.key, 'sha256', nullif(r.script_sha256, '')),"           \
    " 'host', json_build_object('fingerprint', h.fingerprint),"                                    \
    " 'python', json_build_object('build', r.python_build),"                                       \
    " 'runs', (SELECT coalesce(json_agg(json_build_object('wall_s', u.w, 'cpu_s', u.c,"            \
    "   'peak_rss_bytes', u.m) ORDER BY u.i), '[]')"                                               \
    "   FROM unnest(r.wall_s, r.cpu_s, r.peak_rss_bytes) WITH ORDINALITY AS u(w, c, m, i)),"       \
    " 'profile', json_build_object('functions', (SELECT coalesce(json_agg(json_build_object("      \
    "   'key', f.key, 'self_s', u.s, 'total_s', u.t,"                                              \
    "   'self_s_runs', pyscope_row(r.fn_self_runs, u.i::integer),"                                 \
    "   'total_s_runs', pyscope_row(r.fn_total_runs, u.i::integer),"                               \
    "   'total_pct', 100 * u.t / nullif(r.wall_median, 0),"                                        \
    "   'self_pct', 100 * u.s / nullif(r.wall_median, 0)) ORDER BY u.t DESC), '[]')"               \
    "   FROM unnest(r.fn_ids, r.fn_self_s, r.fn_total_s) WITH ORDINALITY AS u(id, s, t, i)"        \
    "   JOIN functions f ON f.id = u.id)))::text"                                                  \
    " FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id"

static const char CANDIDATE_SQL[] = "SELECT " RUN_DOC_SQL " WHERE r.run_id = $1::uuid";

/* Baseline of candidate $1: ok runs of the series from earlier batches since
 * the newest run triaged 'expected', newest $2, oldest first. */
static const char BASELINE_SQL[] =
    "WITH c AS (SELECT * FROM runs WHERE run_id = $1::uuid),"
    " reset AS (SELECT max(x.stored_at) AS t FROM regressions g"
    "   JOIN runs x ON x.run_id = g.candidate_run, c"
    "   WHERE g.state = 'expected' AND g.script_id = c.script_id AND g.host_id = c.host_id"
    "   AND g.python_build = c.python_build),"
    " picked AS (SELECT b.run_id, b.stored_at FROM runs b, c, reset"
    "   WHERE b.script_id = c.script_id AND b.host_id = c.host_id"
    "   AND b.python_build = c.python_build AND b.outcome = 'ok' AND b.batch_id <> c.batch_id"
    "   AND b.stored_at < c.stored_at AND (reset.t IS NULL OR b.stored_at >= reset.t)"
    "   ORDER BY b.stored_at DESC LIMIT $2)"
    " SELECT " RUN_DOC_SQL " JOIN picked p ON p.run_id = r.run_id ORDER BY r.stored_at";

static const char INSERT_SQL[] =
    "INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric, function_key,"
    " kind, mode, change_pct, ci_low_pct, ci_high_pct, p_value, q_value, baseline_median,"
    " candidate_median, baseline_runs, candidate_run, why, script_changed, python_changed,"
    " host_changed, detail, state, confirm_runs)"
    " SELECT $1::bigint, (d->>'script_id')::bigint, (d->>'host_id')::bigint, d->>'python_build',"
    " d->>'metric', d->>'function_key', d->>'kind', d->>'mode', (d->>'change_pct')::float8,"
    " (d->>'ci_low_pct')::float8, (d->>'ci_high_pct')::float8, (d->>'p_value')::float8,"
    " (d->>'q_value')::float8, (d->>'baseline_median')::float8,"
    " (d->>'candidate_median')::float8,"
    " ARRAY(SELECT jsonb_array_elements_text(d->'baseline_runs'))::uuid[],"
    " (d->>'candidate_run')::uuid, coalesce(d->'why', '{}'), (d->>'script_changed')::boolean,"
    " (d->>'python_changed')::boolean, (d->>'host_changed')::boolean, d->'detail',"
    " coalesce(d->>'state', 'new'), coalesce((d->>'confirm_runs')::integer, 0)"
    " FROM (SELECT $2::jsonb AS d) x ON CONFLICT DO NOTHING";

/* A confirmation job: job $1 again, same host, more repeats, in its batch. */
static const char CONFIRM_SQL[] =
    "INSERT INTO jobs (batch_id, script_id, host_id, args, repeat, warmup, mode, timeout_s,"
    " memory_limit_bytes, threshold, max_attempts)"
    " SELECT batch_id, script_id, host_id, args, least(1000, greatest(5, 2 * repeat)), warmup,"
    " mode, timeout_s, memory_limit_bytes, threshold, max_attempts FROM jobs WHERE id = $1::bigint";

/* The batch runs again until its confirmation jobs end. */
static const char REOPEN_SQL[] =
    "UPDATE batches SET state = 'running', finished = NULL WHERE id = $1::bigint";

static const char DONE_SQL[] = "UPDATE batches SET analyzed = now() WHERE id = $1::bigint";

/* ---- deciding --------------------------------------------------------------- */

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

json_t *analysis_decide(const json_t *series, const struct regress_options *opt, json_t *confirm,
                        struct analysis_summary *sum)
{
    struct regress_options dflt;
    if (opt == NULL) {
        regress_options_init(&dflt);
        opt = &dflt;
    }
    size_t ns = json_array_size(series);
    json_t **results = xcalloc(ns ? ns : 1, sizeof(*results));
    size_t np = 0, cap = 16;
    double *p = xcalloc(cap, sizeof(*p));
    sum->series = sum->tests = sum->regressions = sum->improvements = sum->confirming = 0;

    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_array_get(series, i);
        const json_t *base = json_object_get(s, "baseline");
        size_t nb = json_array_size(base);
        const json_t **docs = xcalloc(nb ? nb : 1, sizeof(*docs));
        for (size_t k = 0; k < nb; k++)
            docs[k] = json_array_get(base, k);
        struct regress_options o = *opt;
        const json_t *th = json_object_get(s, "threshold");
        if (json_is_number(th) && json_number_value(th) > 0)
            o.threshold = json_number_value(th);
        results[i] =
            regress_compare(json_object_get(s, "candidate"), (const json_t *const *)docs, nb, &o);
        free(docs);
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
            if (v && name && strcmp(v, "inconclusive") == 0 &&
                (strcmp(name, "wall_s") == 0 || strcmp(name, "cpu_s") == 0))
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

/* ---- the store side --------------------------------------------------------- */

/* One document from a single-row query (caller owns), or NULL. */
static json_t *one_doc(struct store *store, const char *sql, const char *const *params, size_t n,
                       int *rc, char *err, size_t errlen)
{
    json_t *rows = NULL;
    *rc = store_json_rows(store, sql, params, n, &rows, err, errlen);
    if (*rc < 0)
        return NULL;
    json_t *doc = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return doc;
}

/* Gather the series of batch id (text) with their documents into *out (caller owns). */
static int gather(struct store *store, const char *id, int max_runs, json_t **out, char *err,
                  size_t errlen)
{
    json_t *series = NULL;
    const char *params[2] = {id, NULL};
    int rc = store_json_rows(store, SERIES_SQL, params, 1, &series, err, errlen);
    if (rc < 0)
        return rc;
    char limit[32];
    snprintf(limit, sizeof(limit), "%d", max_runs > 0 ? max_runs : 1000000);
    size_t i;
    json_t *s;
    json_array_foreach(series, i, s)
    {
        const char *run = json_string_value(json_object_get(s, "run_id"));
        const char *p1[1] = {run};
        json_t *cand = one_doc(store, CANDIDATE_SQL, p1, 1, &rc, err, errlen);
        if (rc < 0)
            break;
        json_object_set_new(s, "candidate", cand ? cand : json_object());
        json_t *base = NULL;
        const char *p2[2] = {run, limit};
        rc = store_json_rows(store, BASELINE_SQL, p2, 2, &base, err, errlen);
        if (rc < 0)
            break;
        json_object_set_new(s, "baseline", base);
    }
    if (rc < 0) {
        json_decref(series);
        return rc;
    }
    *out = series;
    return 0;
}

int analysis_run_one(struct store *store, const struct regress_options *opt, bool with_confirm,
                     struct analysis_summary *sum, char *err, size_t errlen)
{
    struct regress_options dflt;
    if (opt == NULL) {
        regress_options_init(&dflt);
        opt = &dflt;
    }
    memset(sum, 0, sizeof(*sum));
    int rc = store_command(store, "BEGIN", NULL, 0, err, errlen);
    if (rc < 0)
        return rc;
    json_t *claim = NULL, *series = NULL, *rows = NULL, *confirm = NULL;
    rc = store_json_rows(store, CLAIM_SQL, NULL, 0, &claim, err, errlen);
    if (rc <= 0)
        goto out;
    char id[32];
    snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, json_integer_value(json_array_get(claim, 0)));
    sum->batch_id = strtoull(id, NULL, 10);
    rc = gather(store, id, opt->max_baseline_runs, &series, err, errlen);
    if (rc < 0)
        goto out;
    confirm = json_array();
    rows = analysis_decide(series, opt, with_confirm ? confirm : NULL, sum);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char *text = json_dumps(row, JSON_COMPACT);
        const char *params[2] = {id, text};
        rc = store_command(store, INSERT_SQL, params, 2, err, errlen);
        free(text);
        if (rc < 0)
            goto out;
    }
    json_t *job;
    json_array_foreach(confirm, i, job)
    {
        char jid[32];
        snprintf(jid, sizeof(jid), "%" JSON_INTEGER_FORMAT, json_integer_value(job));
        const char *pj[1] = {jid};
        rc = store_command(store, CONFIRM_SQL, pj, 1, err, errlen);
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
out:
    if (rc <= 0)
        store_abort(store);
    json_decref(claim);
    json_decref(series);
    json_decref(rows);
    json_decref(confirm);
    return rc;
}
