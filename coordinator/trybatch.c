/*
 * trybatch.c - decide a try batch's A/B comparisons (trybatch.h).
 */
#include "trybatch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abtest.h"
#include "history.h"
#include "jsonutil.h"
#include "regress.h"
#include "xmalloc.h"

/* The batch: is it a try, its commits, its jobs by state. */
static const char TRY_BATCH_SQL[] =
    "SELECT json_build_object('id', b.id, 'suite', b.suite, 'purpose', b.purpose,"
    " 'base', b.try_base, 'head', b.commit_hash, 'state', b.state,"
    " 'created', pyscope_ts(b.created), 'finished', pyscope_ts(b.finished),"
    " 'jobs', (SELECT json_build_object('total', count(*),"
    "  'queued', count(*) FILTER (WHERE j.state = 'queued'),"
    "  'leased', count(*) FILTER (WHERE j.state = 'leased'),"
    "  'done', count(*) FILTER (WHERE j.state = 'done'),"
    "  'failed', count(*) FILTER (WHERE j.state = 'failed')) FROM jobs j"
    "  WHERE j.batch_id = b.id))::text FROM batches b WHERE b.id = $1::bigint";

/*
 * Every job of the batch in claim order with its side, series and latest
 * run (ok or not): what each comparison is made of.
 */
static const char TRY_JOBS_SQL[] =
    "SELECT json_build_object('job', j.id, 'side', j.purpose, 'script', s.key,"
    " 'hostname', h.hostname, 'fingerprint', h.fingerprint, 'python', j.python,"
    " 'state', j.state, 'instructions', j.instructions,"
    " 'threshold', coalesce(j.threshold, s.threshold), 'run', r.run_id::text,"
    " 'outcome', r.outcome, 'python_build', r.python_build, 'message', r.message,"
    " 'end_reason', j.end_reason)::text"
    " FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN hosts h ON h.id = j.host_id"
    " LEFT JOIN LATERAL (SELECT x.run_id, x.outcome, x.python_build, x.message FROM runs x"
    "  WHERE x.job_id = j.id ORDER BY x.stored_at DESC LIMIT 1) r ON true"
    " WHERE j.batch_id = ANY ($1::bigint[]) ORDER BY s.key, h.hostname, h.fingerprint, j.python, "
    "j.id";

/* The documents of the batch's ok runs (lib/regress reads them). */
static const char TRY_DOCS_SQL[] =
    "SELECT " STORE_RUN_DOC_SQL " WHERE r.batch_id = ANY ($1::bigint[]) AND r.outcome = 'ok'";

static void set_error(json_t *doc, const char *code, const char *msg)
{
    json_object_set_new(doc, "error", json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/* One comparison: the jobs of one script on one host (and Python build). */
struct try_group {
    const json_t *first; /* its first job's row (borrowed) */
    const json_t **docs[2];
    size_t n[2], cap[2];
    size_t not_ok, pending;
    size_t side_not_ok[2]; /* not_ok by side: base, head */
    bool instructions;     /* its jobs asked for instruction counts: they decide */
    json_t *failures;      /* why turns did not end ok: {side, outcome, message, turns}, distinct */
};

/* At most this many distinct reasons per comparison. */
#define TRY_MAX_FAILURES 8

/* Note why row (a turn that did not end ok) failed in g's failures. */
static void group_failed(struct try_group *g, const json_t *row)
{
    const char *side = strcmp(json_get_string(row, "side", ""), "try_head") == 0 ? "head" : "base";
    const char *outcome = json_get_string(row, "outcome", "");
    const char *msg = json_get_string(row, "message", "");
    if (!*outcome)
        outcome = "failed"; /* no run: the job ended without one (end_reason says why) */
    if (!*msg)
        msg = json_get_string(row, "end_reason", "");
    if (!*msg)
        msg = "no reason given";
    size_t i;
    json_t *f;
    json_array_foreach(g->failures, i, f)
    {
        if (strcmp(json_get_string(f, "side", ""), side) == 0 &&
            strcmp(json_get_string(f, "outcome", ""), outcome) == 0 &&
            strcmp(json_get_string(f, "message", ""), msg) == 0) {
            json_object_set_new(f, "turns",
                                json_integer(json_integer_value(json_object_get(f, "turns")) + 1));
            return;
        }
    }
    if (json_array_size(g->failures) >= TRY_MAX_FAILURES)
        return; /* runs_not_ok counts them all */
    json_array_append_new(g->failures, json_pack("{s:s, s:s, s:s, s:i}", "side", side, "outcome",
                                                 outcome, "message", msg, "turns", 1));
}

static bool same_series(const json_t *a, const json_t *b)
{
    return strcmp(json_get_string(a, "script", ""), json_get_string(b, "script", "")) == 0 &&
           strcmp(json_get_string(a, "fingerprint", ""), json_get_string(b, "fingerprint", "")) ==
               0 &&
           strcmp(json_get_string(a, "python", ""), json_get_string(b, "python", "")) == 0;
}

/* The comparison of group g as a result object (new); decide_by: what asked for the counts. */
static json_t *group_result(const struct try_group *g, const char *decide_by)
{
    struct regress_options opt;
    regress_options_init(&opt);
    double th = json_number_value(json_object_get(g->first, "threshold"));
    if (th > 0)
        opt.threshold = th;
    if (g->instructions) {
        /* the user asked for the counts (Job.instructions): they decide, whatever the load,
         * as in the local try (cli/abrun.c) */
        opt.decide_metric = HISTORY_METRIC_INSTRUCTIONS;
        opt.decide_by = decide_by;
    }
    json_t *reg = abtest_compare((const json_t *const *)g->docs[0], g->n[0],
                                 (const json_t *const *)g->docs[1], g->n[1], &opt);
    /* valgrind counted the script's own process only: the sides whose counted runs started
     * child processes say so, as the local try does (cli/abrun.c) */
    json_t *notes = json_array();
    for (int side = 0; side < 2; side++) {
        bool children = false;
        for (size_t k = 0; k < g->n[side] && !children; k++)
            children = history_instructions_children(g->docs[side][k]);
        if (children)
            json_array_append_new(notes, json_pack("{s:s, s:s}", "side", side ? "head" : "base",
                                                   "note", HISTORY_INSTRUCTIONS_CHILDREN_NOTE));
    }
    const char *build = "";
    if (g->n[1])
        build = json_get_string(json_object_get(g->docs[1][0], "python"), "build", "");
    return json_pack("{s:s, s:{s:s, s:s}, s:s, s:I, s:I, s:I, s:I, s:I, s:O, s:I, s:o, s:o}",
                     "script", json_get_string(g->first, "script", ""), "host", "hostname",
                     json_get_string(g->first, "hostname", ""), "fingerprint",
                     json_get_string(g->first, "fingerprint", ""), "python_build", build,
                     "base_runs", (json_int_t)g->n[0], "head_runs", (json_int_t)g->n[1],
                     "runs_not_ok", (json_int_t)g->not_ok, "base_not_ok",
                     (json_int_t)g->side_not_ok[0], "head_not_ok", (json_int_t)g->side_not_ok[1],
                     "failures", g->failures, "jobs_pending", (json_int_t)g->pending, "regression",
                     reg, "instructions_notes", notes);
}

/* The run document of id in docs (borrowed), or NULL. */
static const json_t *doc_of(const json_t *docs, const char *id)
{
    size_t i;
    const json_t *d;
    json_array_foreach(docs, i, d)
    {
        if (strcmp(json_get_string(d, "id", ""), id) == 0)
            return d;
    }
    return NULL;
}

static void group_add(struct try_group *g, int side, const json_t *doc)
{
    if (g->n[side] == g->cap[side]) {
        g->cap[side] = g->cap[side] ? 2 * g->cap[side] : 8;
        g->docs[side] = xrealloc(g->docs[side], g->cap[side] * sizeof(*g->docs[side]));
    }
    g->docs[side][g->n[side]++] = doc;
}

/* The results (new array) of the jobs rows, at most limit of them. */
static json_t *decide(const json_t *jobs, const json_t *docs, size_t limit, const char *decide_by)
{
    json_t *results = json_array();
    size_t n = json_array_size(jobs), i = 0;
    while (i < n && json_array_size(results) < limit) {
        struct try_group g = {.first = json_array_get(jobs, i), .failures = json_array()};
        for (; i < n && same_series(g.first, json_array_get(jobs, i)); i++) {
            const json_t *row = json_array_get(jobs, i);
            const char *state = json_get_string(row, "state", "");
            if (json_is_true(json_object_get(row, "instructions")))
                g.instructions = true;
            if (strcmp(state, "queued") == 0 || strcmp(state, "leased") == 0) {
                g.pending++;
                continue;
            }
            const json_t *d = strcmp(json_get_string(row, "outcome", ""), "ok") == 0
                                  ? doc_of(docs, json_get_string(row, "run", ""))
                                  : NULL;
            int side = strcmp(json_get_string(row, "side", ""), "try_head") == 0;
            if (d == NULL) {
                g.not_ok++;
                g.side_not_ok[side]++;
                group_failed(&g, row);
                continue;
            }
            group_add(&g, side, d);
        }
        json_array_append_new(results, group_result(&g, decide_by));
        json_decref(g.failures);
        free(g.docs[0]);
        free(g.docs[1]);
    }
    return results;
}

int trybatch_decide(struct store *s, const char *batches, size_t limit, const char *decide_by,
                    json_t **results, char *err, size_t errlen)
{
    const char *p[1] = {batches};
    json_t *jobs = NULL, *docs = NULL;
    *results = NULL;
    int rc = store_json_rows(s, TRY_JOBS_SQL, p, 1, &jobs, err, errlen);
    if (rc >= 0)
        rc = store_json_rows(s, TRY_DOCS_SQL, p, 1, &docs, err, errlen);
    if (rc >= 0)
        *results = decide(jobs, docs, limit ? limit : WIRE_MAX_QUERY_LIMIT, decide_by);
    json_decref(jobs);
    json_decref(docs);
    return rc < 0 ? rc : 0;
}

int trybatch_answer(struct store *s, const struct wire_query *q, json_t **out, char *err,
                    size_t errlen)
{
    char id[32], ids[40];
    snprintf(id, sizeof(id), "%" PRIu64, q->batch_id);
    snprintf(ids, sizeof(ids), "{%" PRIu64 "}", q->batch_id);
    const char *p[1] = {id};
    json_t *doc = json_pack("{s:I, s:n}", "batch_id", (json_int_t)q->batch_id, "error");
    json_t *b = NULL, *results = NULL;
    int rc = store_json_rows(s, TRY_BATCH_SQL, p, 1, &b, err, errlen);
    if (rc < 0)
        goto out;
    const json_t *batch = json_array_get(b, 0);
    if (!batch) {
        set_error(doc, "unknown_batch", "no batch has that id (pyscope try prints it)");
        goto out;
    }
    json_object_set(doc, "batch", (json_t *)batch);
    if (strcmp(json_get_string(batch, "purpose", ""), "try") != 0) {
        set_error(doc, "not_a_try",
                  "that batch is not a try (a suite run: read it with pyscope status or "
                  "pyscope report)");
        goto out;
    }
    rc = trybatch_decide(s, ids, q->limit, "--instructions", &results, err, errlen);
    if (rc < 0)
        goto out;
    json_object_set_new(doc, "results", results);
out:
    json_decref(b);
    if (rc < 0) {
        json_decref(doc);
        doc = NULL;
    }
    *out = doc;
    return rc < 0 ? rc : 0;
}
