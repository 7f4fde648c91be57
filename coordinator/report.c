/*
 * report.c - the team report's queries and statistics; triage.
 *
 * Design notes: the store gives rows as JSON (store_json_rows); the matrix
 * and the host-vs-host ratios are computed here from the pooled wall-time
 * samples of each series in the report's batches (at most
 * REPORT_MAX_SAMPLES each, the newest).
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revrange.h"
#include "stats.h"
#include "xmalloc.h"

#define REPORT_DEFAULT_SINCE_S 86400u
#define REPORT_DEFAULT_LIMIT   100u /* regressions and improvements listed, worst first */
#define REPORT_MAX_SAMPLES     1000u
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
    " " REVRANGE_ENDS_SQL(g) ")::text"
                             " FROM regressions g JOIN scripts s ON s.id = g.script_id JOIN hosts "
                             "h ON h.id = g.host_id"
                             " WHERE (g.batch_id = ANY($1::bigint[]) OR g.last_batch_id = "
                             "ANY($1::bigint[])) AND g.kind = $2"
                             " ORDER BY abs(g.change_pct) DESC, g.id LIMIT $3";

/* How many regressions of kind $2 the batches $1 have in all (the list stops at the limit). */
static const char COUNT_SQL[] = "SELECT json_build_object('n', count(*))::text FROM regressions g"
                                " WHERE (g.batch_id = ANY($1::bigint[]) OR g.last_batch_id = "
                                "ANY($1::bigint[])) AND g.kind = $2";

static const char SERIES_SQL[] =
    "SELECT json_build_object('script', x.key, 'host', x.hostname, 'python_build', x.python_build,"
    " 'runs', count(DISTINCT x.run_id), 'wall_s', (array_agg(x.w ORDER BY x.stored_at "
    "DESC))[1:$2])::text"
    " FROM (SELECT s.key, h.hostname, r.python_build, r.run_id, r.stored_at, w"
    "   FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id"
    "   CROSS JOIN LATERAL unnest(r.wall_s) w"
    "   WHERE r.batch_id = ANY($1::bigint[]) AND r.outcome = 'ok') x"
    " GROUP BY x.key, x.hostname, x.python_build ORDER BY x.key, x.hostname, x.python_build";

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
 * {host: {script: "regression"|"improvement"}}: the worst kind flagged on
 * (script, host) among regs and imps (borrowed), triaged invalid or expected
 * not counted. New.
 */
static json_t *cell_flags(const json_t *regs, const json_t *imps)
{
    const json_t *lists[2] = {regs, imps};
    const char *names[2] = {"regression", "improvement"};
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
                strcmp(st, "expected") == 0)
                continue;
            json_t *by_script = json_object_get(flags, host);
            if (by_script == NULL)
                json_object_set_new_nocheck(flags, host, by_script = json_object());
            if (json_object_get(by_script, script) == NULL)
                json_object_set_new_nocheck(by_script, script, json_string(names[l]));
        }
    }
    return flags;
}

/* The worst kind flagged on (script, host) for wall_s or cpu_s (flags: cell_flags()), else "ok". */
static const char *cell_status(const json_t *flags, const char *script, const char *host)
{
    const char *st = json_string_value(json_object_get(json_object_get(flags, host), script));
    return st ? st : "ok";
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

/* Matrix and hardware comparison from the series rows (borrowed). */
static void add_matrix(json_t *doc, const json_t *series)
{
    const json_t *regs = json_object_get(doc, "regressions");
    const json_t *imps = json_object_get(doc, "improvements");
    json_t *hosts = json_array(), *scripts = json_array(), *cells = json_array();
    json_t *hardware = json_array();
    json_t *seen_hosts = json_object(), *seen_scripts = json_object();
    json_t *flags = cell_flags(regs, imps);
    size_t n = json_array_size(series);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(series, i);
        const char *script = json_string_value(json_object_get(row, "script"));
        const char *host = json_string_value(json_object_get(row, "host"));
        add_once(hosts, seen_hosts, host);
        add_once(scripts, seen_scripts, script);
        size_t nx;
        double *x = series_samples(row, "wall_s", &nx);
        double med = 0;
        bool ok = nx && stats_median(x, nx, &med) == 0;
        free(x);
        json_array_append_new(
            cells, json_pack("{s:s, s:s, s:O, s:O, s:o, s:I, s:s}", "script", script, "host", host,
                             "python_build", json_object_get(row, "python_build"), "runs",
                             json_object_get(row, "runs"), "median_wall_s",
                             ok ? json_real(med) : json_null(), "samples", (json_int_t)nx, "status",
                             cell_status(flags, script, host)));
    }
    json_decref(seen_hosts);
    json_decref(seen_scripts);
    json_decref(flags);
    /* host A vs host B for each script (rows are sorted by script) */
    for (size_t i = 0; i < n && json_array_size(hardware) < REPORT_MAX_PAIRS; i++) {
        const json_t *a = json_array_get(series, i);
        const char *script = json_string_value(json_object_get(a, "script"));
        for (size_t j = i + 1; j < n; j++) {
            const json_t *b = json_array_get(series, j);
            if (strcmp(json_string_value(json_object_get(b, "script")), script) != 0)
                break;
            if (strcmp(json_string_value(json_object_get(a, "host")),
                       json_string_value(json_object_get(b, "host"))) == 0)
                continue;
            json_t *pair = report_hardware_pair(script, a, b, "wall_s");
            if (pair)
                json_array_append_new(hardware, pair);
        }
    }
    json_object_set_new(
        doc, "matrix",
        json_pack("{s:o, s:o, s:o}", "hosts", hosts, "scripts", scripts, "cells", cells));
    json_object_set_new(doc, "hardware", hardware);
}

int report_build(struct store *store, const struct wire_query *q, json_t **out, char *err,
                 size_t errlen)
{
    *out = NULL;
    char batch[32], since[32], limit[32], samples[32];
    snprintf(batch, sizeof(batch), "%" PRIu64, q->batch_id);
    snprintf(since, sizeof(since), "%" PRIu32, q->since_s ? q->since_s : REPORT_DEFAULT_SINCE_S);
    snprintf(limit, sizeof(limit), "%" PRIu32, q->limit ? q->limit : REPORT_DEFAULT_LIMIT);
    snprintf(samples, sizeof(samples), "%u", REPORT_MAX_SAMPLES);
    json_t *batches = NULL, *regs = NULL, *imps = NULL, *series = NULL, *n_regs = NULL,
           *n_imps = NULL;
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
    /* each one's range of commits: last good, first bad, how many between */
    if (rc >= 0)
        rc = revrange_annotate(store, regs, err, errlen);
    if (rc >= 0)
        rc = revrange_annotate(store, imps, err, errlen);
    if (rc >= 0) {
        const char *p3[2] = {ids, samples};
        rc = store_json_rows(store, SERIES_SQL, p3, 2, &series, err, errlen);
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
    /* the lists hold the worst `limit`; these say how many there are in all */
    json_object_set_new(doc, "limit", json_integer(strtoll(limit, NULL, 10)));
    json_object_set_new(doc, "regressions_total",
                        json_incref(json_object_get(json_array_get(n_regs, 0), "n")));
    json_object_set_new(doc, "improvements_total",
                        json_incref(json_object_get(json_array_get(n_imps, 0), "n")));
    json_decref(n_regs);
    json_decref(n_imps);
    add_matrix(doc, series);
    json_decref(series);
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
