/*
 * report.c - the team report's queries and statistics; triage.
 *
 * Design notes: the store gives rows as JSON (store_json_rows); the matrix
 * and the host-vs-host ratios are compare-hosts' (query_series_hardware:
 * the newest runs of each series of the report's batches), so the report and
 * `pyscope compare-hosts` never disagree; a flagged cell shows its series'
 * level since the finding began.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_series.h"
#include "stats.h"
#include "xmalloc.h"

#define REPORT_DEFAULT_SINCE_S 86400u
#define REPORT_DEFAULT_LIMIT   100u /* regressions and improvements listed, worst first */
#define REPORT_MAX_PAIRS       200u

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
    " coalesce(b.finished, b.created) >= now() - $2::bigint * interval '1 second')"
    " ORDER BY b.id DESC LIMIT $3";

static const char REGRESSIONS_SQL[] =
    "SELECT json_build_object('id', g.id, 'batch_id', g.batch_id, 'script', s.key,"
    " 'host', h.hostname, 'host_fingerprint', h.fingerprint, 'python_build', g.python_build,"
    " 'metric', g.metric, 'function', nullif(g.function_key, ''), 'kind', g.kind, 'mode', g.mode,"
    " 'change_pct', g.change_pct, 'ci_low_pct', g.ci_low_pct, 'ci_high_pct', g.ci_high_pct,"
    " 'p_value', g.p_value, 'q_value', g.q_value, 'baseline_median', g.baseline_median,"
    " 'candidate_median', g.candidate_median, 'baseline_runs', cardinality(g.baseline_runs),"
    " 'candidate_run', g.candidate_run::text, 'why', g.why, 'script_changed', g.script_changed,"
    " 'python_changed', g.python_changed, 'host_changed', g.host_changed, 'state', g.state,"
    " 'confirm_runs', g.confirm_runs, 'note', g.note, 'created', pyscope_ts(g.created),"
    " 'last_batch_id', g.last_batch_id, 'last_run', g.last_run::text, 'nights', g.nights,"
    " 'ended_batch_id', g.ended_batch_id, 'confirmation', g.confirmation)::text"
    " FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts h ON h.id = g.host_id"
    " WHERE (g.batch_id = ANY($1::bigint[]) OR g.last_batch_id = ANY($1::bigint[])) AND g.kind = $2"
    " ORDER BY abs(g.change_pct) DESC, g.id LIMIT $3";

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

/* The series of the batches $1 (bigint[]) that a confirmation run did not settle:
 * held out, "inconclusive" (schema/012). */
static const char UNSETTLED_SQL[] =
    "SELECT json_build_object('batch_id', o.batch_id, 'script', s.key, 'host', h.hostname,"
    " 'python_build', o.python_build, 'detail', o.detail)::text"
    " FROM held_out o JOIN scripts s ON s.id = o.script_id JOIN hosts h ON h.id = o.host_id"
    " WHERE o.batch_id = ANY ($1::bigint[]) AND o.reason = 'inconclusive'"
    " ORDER BY o.batch_id DESC, s.key, h.hostname LIMIT $2";

/* How many regressions of kind $2 the batches $1 have in all (the list stops at the limit). */
static const char COUNT_SQL[] = "SELECT json_build_object('n', count(*))::text FROM regressions g"
                                " WHERE (g.batch_id = ANY($1::bigint[]) OR g.last_batch_id = "
                                "ANY($1::bigint[])) AND g.kind = $2";

static const char TRIAGE_SQL[] =
    "UPDATE regressions SET state = $2, note = CASE WHEN $3 = '' THEN note ELSE $3 END,"
    " updated = now() WHERE id = $1::bigint"
    " RETURNING json_build_object('id', id, 'batch_id', batch_id, 'metric', metric,"
    " 'kind', kind, 'state', state, 'note', note, 'candidate_run', candidate_run::text)::text";

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
 * {host: {script: finding}}: the worst open finding of (script, host) on the
 * script's wall or CPU time among regs and imps (borrowed; regressions
 * first), not triaged invalid or expected, not ended. New.
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
            const char *st = json_string_value(json_object_get(g, "state"));
            const char *script = json_string_value(json_object_get(g, "script"));
            const char *host = json_string_value(json_object_get(g, "host"));
            if (!st || !script || !host || strcmp(st, "invalid") == 0 ||
                strcmp(st, "expected") == 0 || !json_is_null(json_object_get(g, "ended_batch_id")))
                continue;
            json_t *by_script = json_object_get(flags, host);
            if (by_script == NULL)
                json_object_set_new_nocheck(flags, host, by_script = json_object());
            if (json_object_get(by_script, script) == NULL)
                json_object_set_nocheck(by_script, script, (json_t *)g);
        }
    }
    return flags;
}

/* Median of the wall samples of level's runs (borrowed) from batch since on
 * (before it when before is true); *runs how many runs; NAN when none. */
static double level_median(const json_t *level, json_int_t since, bool before, size_t *runs)
{
    double *x = NULL, med = NAN;
    size_t n = 0, cap = 0, i;
    const json_t *r;
    *runs = 0;
    json_array_foreach(json_object_get(level, "runs"), i, r)
    {
        json_int_t b = json_integer_value(json_object_get(r, "batch_id"));
        if ((b >= since) == before)
            continue;
        size_t k;
        double *s = series_samples(r, "wall_s", &k);
        if (n + k > cap)
            x = xreallocarray(x, cap = 2 * (n + k) + 8, sizeof(*x));
        memcpy(x + n, s, k * sizeof(*x));
        n += k;
        free(s);
        (*runs)++;
    }
    if (n == 0 || stats_median(x, n, &med) < 0)
        med = NAN;
    free(x);
    return med;
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
    json_t *seen_hosts = json_object(), *seen_scripts = json_object();
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
        const json_t *f = json_object_get(json_object_get(flags, host), script);
        size_t runs = 0, before_runs = 0;
        json_int_t since = f ? json_integer_value(json_object_get(f, "batch_id")) : 0;
        double med = level_median(level, since, false, &runs);
        json_t *cell = json_pack("{s:s, s:s, s:O, s:I, s:o, s:s}", "script", script, "host", host,
                                 "python_build", json_object_get(level, "python_build"), "runs",
                                 (json_int_t)runs, "median_wall_s",
                                 isfinite(med) ? json_real(med) : json_null(), "status",
                                 f ? json_string_value(json_object_get(f, "kind")) : "ok");
        if (f) {
            double before = level_median(level, since, true, &before_runs);
            json_object_set_new(cell, "finding",
                                json_pack("{s:O, s:O, s:O, s:O, s:I, s:o}", "id",
                                          json_object_get(f, "id"), "metric",
                                          json_object_get(f, "metric"), "change_pct",
                                          json_object_get(f, "change_pct"), "since_batch_id",
                                          json_object_get(f, "batch_id"), "runs_before",
                                          (json_int_t)before_runs, "median_wall_s_before",
                                          isfinite(before) ? json_real(before) : json_null()));
        }
        json_array_append_new(cells, cell);
    }
    json_decref(seen_hosts);
    json_decref(seen_scripts);
    json_decref(flags);
    json_decref(levels);
    json_object_set_new(
        doc, "matrix",
        json_pack("{s:o, s:o, s:o}", "hosts", hosts, "scripts", scripts, "cells", cells));
    json_object_set_new(doc, "hardware", pairs);
    return 0;
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
    /* "{1,2,3}" */
    size_t nb = json_array_size(batches), cap = 4 + nb * 24, len = 0;
    char *ids = xmalloc(cap);
    ids[len++] = '{';
    for (size_t i = 0; i < nb; i++)
        len +=
            (size_t)snprintf(ids + len, cap - len, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                             json_integer_value(json_object_get(json_array_get(batches, i), "id")));
    snprintf(ids + len, cap - len, "}");
    const char *p2[3] = {ids, "regression", limit};
    rc = store_json_rows(store, REGRESSIONS_SQL, p2, 3, &regs, err, errlen);
    if (rc >= 0) {
        p2[1] = "improvement";
        rc = store_json_rows(store, REGRESSIONS_SQL, p2, 3, &imps, err, errlen);
    }
    if (rc >= 0) {
        const char *p3[1] = {ids};
        rc = store_json_rows(store, SCOPE_SQL, p3, 1, &series, err, errlen);
    }
    if (rc >= 0) {
        const char *p4[2] = {ids, limit};
        rc = store_json_rows(store, UNSETTLED_SQL, p4, 2, &unsettled, err, errlen);
    }
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
    json_object_set_new(doc, "inconclusive", unsettled);
    /* the lists hold the worst `limit`; these say how many there are in all */
    json_object_set_new(doc, "limit", json_integer(strtoll(limit, NULL, 10)));
    json_object_set_new(doc, "regressions_total",
                        json_incref(json_object_get(json_array_get(n_regs, 0), "n")));
    json_object_set_new(doc, "improvements_total",
                        json_incref(json_object_get(json_array_get(n_imps, 0), "n")));
    json_decref(n_regs);
    json_decref(n_imps);
    /* the report's newest batch: the hardware comparison is that of compare-hosts then */
    uint64_t max_batch = 0;
    for (size_t i = 0; i < nb; i++) {
        json_int_t b = json_integer_value(json_object_get(json_array_get(batches, i), "id"));
        max_batch = (uint64_t)b > max_batch ? (uint64_t)b : max_batch;
    }
    rc = add_matrix(store, doc, series, max_batch, err, errlen);
    json_decref(series);
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
