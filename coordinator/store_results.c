/*
 * store_results.c - storing results: a group of results is checked against
 * its jobs' leases, then inserted with the jobs' state changes in one
 * transaction, the group travelling as one binary run_in[] parameter
 * (schema/003_compact_runs.sql; encoded with coordinator/pgbin.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "fault.h"
#include "log.h"
#include "pyreq.h"
#include "stats.h"
#include "store_int.h"

/* What the lookup of a group found for one result (store_put_results()). */
struct group_item {
    bool to_store;       /* passed the checks: goes into the group's inserts */
    const char *state;   /* the job's next state when stored */
    long long batch_id;  /* the job's, from the lookup */
    long long host_id;   /* ... */
    long long script_id; /* ... */
    char run_id[37];     /* the result's run_id as text */
    /* set when the run is stored as other than it says (a Python the job did not ask for) */
    const char *outcome;
    char *message;
    bool drop_ref_script; /* its reference script's times are stored as NULL (ref_script_why) */
};

/* Dump a JSON value (stolen) as new text (caller owns). */
static char *json_take_text(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (s == NULL)
        abort();
    return s;
}

/*
 * Whether the reference script's times of r (borrowed; schema/030, each already
 * finite and 0..1e9: wire_validate) cannot be true, saying why in why (len bytes):
 * the job was sent no reference (sent: Job.reference, a confirmation run of a suite
 * that names one), or a figure no pyscope-run --reference can report: zero (a run of
 * Python takes time), a wall time above timeout_s (the job's: pyscope-run stops each
 * reference run there, and a stopped one gives no figure), or more CPU time than the
 * wall time on every one of the host's cores. Repeats without figures are fine (a
 * reference run that failed gives none; the analysis then uses the bracketing runs).
 * An agent that lies within these bounds is not caught here: its host's measurements
 * are its own to report (docs/security.md, "The reference script: what an insider
 * can do with it").
 */
static bool ref_script_why(const struct wire_result *r, bool sent, double timeout_s, long cores,
                           char *why, size_t len)
{
    for (size_t i = 0; i < r->n_runs; i++) {
        const struct wire_measurement *m = &r->runs[i];
        if (!m->has_ref_script)
            continue;
        if (!sent) {
            snprintf(why, len,
                     "for a job that was sent no reference script (only a "
                     "confirmation run of a suite with a reference is)");
            return true;
        }
        if (!(m->ref_script_cpu_s > 0 && m->ref_script_wall_s > 0)) {
            snprintf(why, len, "with a zero in repeat %zu (a reference run takes time)", i + 1);
            return true;
        }
        /* one second for the reaping after the deadline (agent/runner/supervise.c) */
        if (m->ref_script_wall_s > timeout_s + 1) {
            snprintf(why, len,
                     "with a wall time of %g s in repeat %zu, longer than the job's timeout "
                     "(%g s), at which each reference run is stopped",
                     m->ref_script_wall_s, i + 1, timeout_s);
            return true;
        }
        if (m->ref_script_cpu_s > m->ref_script_wall_s * (double)cores) {
            snprintf(why, len,
                     "with %g s of CPU time in %g s of wall time in repeat %zu, more than the "
                     "host's %ld cores can give",
                     m->ref_script_cpu_s, m->ref_script_wall_s, i + 1, cores);
            return true;
        }
    }
    return false;
}

/* The job lookup's row (group_check()) for item: store its reference script's times
 * as NULL (g->drop_ref_script) when ref_script_why() finds they cannot be true, saying so. */
static void ref_script_check(const PGresult *res, int row, const struct store_result_item *item,
                             struct group_item *g)
{
    char why[256];
    const struct wire_result *r = item->result;
    if (!ref_script_why(r, strcmp(PQgetvalue(res, row, 13), "t") == 0,
                        strtod(PQgetvalue(res, row, 11), NULL),
                        strtol(PQgetvalue(res, row, 12), NULL, 10), why, sizeof(why)))
        return;
    g->drop_ref_script = true;
    log_warn("job %" PRIu64 ": agent \"%s\" sent reference script times "
             "(runs[].ref_script_cpu_s, ref_script_wall_s) %s: ignored, the rest of its "
             "result stored",
             r->job_id, item->owner, why);
}

/*
 * Lock the jobs of the group's n results (in job id order, so two
 * coordinators cannot deadlock) and decide each result's status the way
 * storing them one after the other would: a run_id stored before (or earlier
 * in the group) is a duplicate; a job answered earlier in the group is no
 * longer leased, so a second result for it is stale. Fills g[i] for the
 * results that pass. Returns 0 or -EIO.
 */
static int group_check(struct store *s, struct store_result_item *items, struct group_item *g,
                       size_t n, char *err, size_t errlen)
{
    struct strbuf ids = {0}, runs = {0};
    strbuf_addf(&ids, "{");
    strbuf_addf(&runs, "{");
    for (size_t i = 0; i < n; i++) {
        wire_run_id_format(items[i].result->run_id, g[i].run_id);
        strbuf_addf(&ids, "%s%" PRIu64, i ? "," : "", items[i].result->job_id);
        strbuf_addf(&runs, "%s%s", i ? "," : "", g[i].run_id);
    }
    strbuf_addf(&ids, "}");
    strbuf_addf(&runs, "}");
    struct params p = {0};
    p_own(&p, strbuf_take(&ids));
    p_own(&p, strbuf_take(&runs));
    /* One row per result, in order; a stored run_id implies its job exists (foreign key). */
    PGresult *res = store_exec(
        s,
        "WITH j AS MATERIALIZED (SELECT j.id, j.state, j.attempt,"
        " coalesce(j.lease_owner, '') AS owner, j.batch_id, j.host_id, j.script_id, s.key,"
        " j.max_attempts, j.python, j.timeout_s, greatest(h.cores, 1) AS cores,"
        /* Job.reference was sent (as CLAIM_SQL sends it in coordinator/store_queue.c) */
        " j.purpose = 'confirm' AND b.reference_script_id IS NOT NULL AS ref"
        " FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN batches b ON b.id = j.batch_id"
        " JOIN hosts h ON h.id = j.host_id"
        " WHERE j.id = ANY ($1::bigint[]) ORDER BY j.id FOR UPDATE OF j)"
        " SELECT j.id IS NOT NULL, EXISTS (SELECT 1 FROM runs r WHERE r.run_id = i.run_id),"
        " j.state, j.attempt, j.owner, j.key, j.max_attempts, j.batch_id, j.host_id, j.script_id,"
        " coalesce(j.python, ''), j.timeout_s, j.cores, j.ref"
        " FROM unnest($1::bigint[], $2::uuid[]) WITH ORDINALITY AS i(job_id, run_id, ord)"
        " LEFT JOIN j ON j.id = i.job_id ORDER BY i.ord",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    if ((size_t)PQntuples(res) != n) {
        pyscope_set_err(err, errlen,
                        "database error: the job lookup returned %d rows for %zu results",
                        PQntuples(res), n);
        PQclear(res);
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        const struct wire_result *r = items[i].result;
        int row = (int)i;
        g[i].to_store = false;
        bool answered = false, repeated = false;
        for (size_t k = 0; k < i; k++) {
            answered |= g[k].to_store && items[k].result->job_id == r->job_id;
            repeated |= g[k].to_store && strcmp(g[k].run_id, g[i].run_id) == 0;
        }
        uint32_t attempt = (uint32_t)strtoul(PQgetvalue(res, row, 3), NULL, 10);
        if (strcmp(PQgetvalue(res, row, 0), "t") != 0)
            items[i].status = STORE_RESULT_UNKNOWN_JOB;
        else if (repeated || strcmp(PQgetvalue(res, row, 1), "t") == 0)
            items[i].status = STORE_RESULT_DUPLICATE;
        else if (answered || strcmp(PQgetvalue(res, row, 2), "leased") != 0 ||
                 attempt != r->attempt)
            items[i].status = STORE_RESULT_STALE;
        else if (strcmp(PQgetvalue(res, row, 4), items[i].owner) != 0 ||
                 strcmp(PQgetvalue(res, row, 5), r->script_key) != 0)
            items[i].status = STORE_RESULT_FORBIDDEN;
        else
            items[i].status = STORE_RESULT_STORED;
        if (items[i].status != STORE_RESULT_STORED)
            continue;
        /* An agent-side error is retried while attempts remain; anything else ends the job. */
        uint32_t max_attempts = (uint32_t)strtoul(PQgetvalue(res, row, 6), NULL, 10);
        g[i].state = r->outcome == WIRE_OUTCOME_OK ? "done" : "failed";
        if (r->outcome == WIRE_OUTCOME_ERROR && attempt < max_attempts)
            g[i].state = "queued";
        g[i].batch_id = strtoll(PQgetvalue(res, row, 7), NULL, 10);
        g[i].host_id = strtoll(PQgetvalue(res, row, 8), NULL, 10);
        g[i].script_id = strtoll(PQgetvalue(res, row, 9), NULL, 10);
        g[i].to_store = true;
        /* A run under another Python than the job asked for (docs/pythons.md: an agent
         * that claims a Python it does not run) is kept as a refused run, saying so: it
         * joins no series, and the job fails rather than be measured elsewhere. */
        const char *asked = PQgetvalue(res, row, 10);
        if (*asked && r->outcome == WIRE_OUTCOME_OK &&
            !pyreq_match(asked, r->python.version, r->python.executable, NULL)) {
            g[i].outcome = "refused";
            g[i].state = "failed";
            g[i].message = xasprintf("the job asked for Python %s but ran under %s (%s): not "
                                     "measured as that Python",
                                     asked, *r->python.version ? r->python.version : "unknown",
                                     *r->python.executable ? r->python.executable : "?");
            log_warn("job %" PRIu64 ": agent \"%s\" ran it under Python %s, not the %s it "
                     "asked for: stored as refused",
                     r->job_id, items[i].owner, r->python.version, asked);
        }
        ref_script_check(res, row, &items[i], &g[i]);
    }
    PQclear(res);
    return 0;
}

/* Which value of a measurement array_measure() writes. */
enum measure_field {
    M_WALL,
    M_CPU,
    M_RSS,
    M_EXIT,
    M_SIGNAL,
    M_TIMEOUT,
    /* contention (schema/010_contention.sql): NULL elements when unknown */
    M_DELAY,
    M_CTX_VOL,
    M_CTX_INVOL,
    M_STEAL,
    M_PRESSURE,
    M_LOAD,
    M_MHZ,
    /* the machine-speed reference (schema/026_machine_speed.sql) */
    M_REF,
    /* instruction counts (schema/028_instructions.sql): NULL elements when not counted */
    M_INSTR,
    /* a confirmation's interleaved reference script (schema/030_reference_script.sql) */
    M_REF_SCRIPT_CPU,
    M_REF_SCRIPT_WALL,
};

/* A contention field of m: whether it is known, and its value. */
static bool measure_opt(const struct wire_measurement *m, enum measure_field f, double *v)
{
    switch (f) {
    case M_DELAY:
        *v = m->run_delay_s;
        return m->has_run_delay;
    case M_CTX_VOL:
        *v = (double)m->ctx_voluntary;
        return m->has_ctx;
    case M_CTX_INVOL:
        *v = (double)m->ctx_involuntary;
        return m->has_ctx;
    case M_STEAL:
        *v = m->steal_s;
        return m->has_steal;
    case M_PRESSURE:
        *v = m->cpu_pressure_s;
        return m->has_cpu_pressure;
    case M_LOAD:
        *v = m->load1;
        return m->has_load1;
    case M_MHZ:
        *v = m->cpu_mhz;
        return m->has_cpu_mhz;
    case M_REF:
        *v = m->ref_cpu_ns;
        return m->has_ref;
    case M_REF_SCRIPT_CPU:
        *v = m->ref_script_cpu_s;
        return m->has_ref_script;
    case M_REF_SCRIPT_WALL:
        *v = m->ref_script_wall_s;
        return m->has_ref_script;
    default:
        return false;
    }
}

/* Whether any repeat of r has an instruction count. */
static bool any_instructions(const struct wire_result *r)
{
    for (size_t i = 0; i < r->n_runs; i++)
        if (r->runs[i].instructions)
            return true;
    return false;
}

/* A field holding one array of r's measurements (one element per repeat). */
static void field_measure(struct pgbin_buf *b, const struct wire_result *r, enum measure_field f)
{
    static const uint32_t elem[] = {
        PGBIN_OID_FLOAT8, PGBIN_OID_FLOAT8, PGBIN_OID_INT8,   PGBIN_OID_INT4,   PGBIN_OID_INT4,
        PGBIN_OID_BOOL,   PGBIN_OID_FLOAT8, PGBIN_OID_INT8,   PGBIN_OID_INT8,   PGBIN_OID_FLOAT8,
        PGBIN_OID_FLOAT8, PGBIN_OID_FLOAT8, PGBIN_OID_FLOAT8, PGBIN_OID_FLOAT8, PGBIN_OID_INT8,
        PGBIN_OID_FLOAT8, PGBIN_OID_FLOAT8};
    static const uint32_t arr[] = {
        PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_INT8_ARRAY,
        PGBIN_OID_INT4_ARRAY,   PGBIN_OID_INT4_ARRAY,   PGBIN_OID_BOOL_ARRAY,
        PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_INT8_ARRAY,   PGBIN_OID_INT8_ARRAY,
        PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_FLOAT8_ARRAY,
        PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_INT8_ARRAY,
        PGBIN_OID_FLOAT8_ARRAY, PGBIN_OID_FLOAT8_ARRAY};
    size_t at = pgbin_field_begin(b, arr[f]);
    pgbin_array_head(b, elem[f], r->n_runs);
    for (size_t i = 0; i < r->n_runs; i++) {
        const struct wire_measurement *m = &r->runs[i];
        switch (f) {
        case M_WALL:
            pgbin_put_u32(b, 8), pgbin_put_f64(b, m->wall_s);
            break;
        case M_CPU:
            pgbin_put_u32(b, 8), pgbin_put_f64(b, m->cpu_s);
            break;
        case M_RSS:
            pgbin_put_u32(b, 8), pgbin_put_u64(b, (uint64_t)clamp_i64(m->peak_rss_bytes));
            break;
        case M_EXIT:
            pgbin_put_u32(b, 4), pgbin_put_u32(b, (uint32_t)m->exit_code);
            break;
        case M_SIGNAL:
            pgbin_put_u32(b, 4), pgbin_put_u32(b, (uint32_t)m->signal);
            break;
        case M_TIMEOUT:
            pgbin_put_u32(b, 1), *pgbin_room(b, 1) = m->timed_out ? 1 : 0;
            break;
        case M_INSTR: /* exact (no double): counts reach 10^12 and more */
            if (m->instructions == 0)
                pgbin_put_u32(b, UINT32_MAX); /* NULL element: not counted */
            else
                pgbin_put_u32(b, 8), pgbin_put_u64(b, (uint64_t)clamp_i64(m->instructions));
            break;
        default: {
            double v;
            if (!measure_opt(m, f, &v))
                pgbin_put_u32(b, UINT32_MAX); /* NULL element: not measured */
            else if (elem[f] == PGBIN_OID_INT8)
                pgbin_put_u32(b, 8), pgbin_put_u64(b, (uint64_t)clamp_i64((uint64_t)v));
            else
                pgbin_put_u32(b, 8), pgbin_put_f64(b, v);
            break;
        }
        }
    }
    pgbin_field_end(b, at);
}

/* The median of r's measurement f (wall, cpu or rss), or NULL without repeats. */
static void field_median(struct pgbin_buf *b, const struct wire_result *r, enum measure_field f)
{
    if (r->n_runs == 0) {
        pgbin_field_null(b, PGBIN_OID_FLOAT8);
        return;
    }
    double *x = xcalloc(r->n_runs, sizeof(*x));
    for (size_t i = 0; i < r->n_runs; i++)
        x[i] = f == M_WALL  ? r->runs[i].wall_s
               : f == M_CPU ? r->runs[i].cpu_s
                            : (double)r->runs[i].peak_rss_bytes;
    double med = 0;
    int rc = stats_median(x, r->n_runs, &med);
    free(x);
    if (rc < 0)
        pgbin_field_null(b, PGBIN_OID_FLOAT8);
    else
        pgbin_field_f64(b, med);
}

/* Which per-function value field_functions() writes. */
enum fn_field { F_ID, F_CALLS, F_SELF, F_TOTAL, F_SELF_CPU };

static void field_functions(struct pgbin_buf *b, const struct wire_result *r, const int64_t *ids,
                            enum fn_field f)
{
    bool ints = f == F_ID || f == F_CALLS;
    size_t at = pgbin_field_begin(b, ints ? PGBIN_OID_INT8_ARRAY : PGBIN_OID_FLOAT8_ARRAY);
    pgbin_array_head(b, ints ? PGBIN_OID_INT8 : PGBIN_OID_FLOAT8, r->n_functions);
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        if (f == F_SELF_CPU && !fn->has_self_cpu_s) {
            pgbin_put_u32(b, UINT32_MAX); /* NULL element: not measured (trace mode) */
            continue;
        }
        pgbin_put_u32(b, 8);
        if (f == F_SELF_CPU)
            pgbin_put_f64(b, fn->self_cpu_s);
        else if (f == F_ID)
            pgbin_put_u64(b, (uint64_t)ids[i]);
        else if (f == F_CALLS)
            pgbin_put_u64(b, (uint64_t)clamp_i64(fn->calls));
        else
            pgbin_put_f64(b, f == F_SELF ? fn->self_s : fn->total_s);
    }
    pgbin_field_end(b, at);
}

/* The per-repeat self (or total) times of r's functions as a 2-D array
 * [function][repeat], NULL-padded to the longest; '{}' when none has any. */
static void field_function_runs(struct pgbin_buf *b, const struct wire_result *r, bool self)
{
    size_t width = 0;
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        size_t n = self ? fn->n_self_s_runs : fn->n_total_s_runs;
        width = n > width ? n : width;
    }
    size_t at = pgbin_field_begin(b, PGBIN_OID_FLOAT8_ARRAY);
    if (width == 0) {
        pgbin_array_head(b, PGBIN_OID_FLOAT8, 0);
        pgbin_field_end(b, at);
        return;
    }
    pgbin_put_u32(b, 2);
    pgbin_put_u32(b, 1);
    pgbin_put_u32(b, PGBIN_OID_FLOAT8);
    pgbin_put_u32(b, (uint32_t)r->n_functions);
    pgbin_put_u32(b, 1);
    pgbin_put_u32(b, (uint32_t)width);
    pgbin_put_u32(b, 1);
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        size_t n = self ? fn->n_self_s_runs : fn->n_total_s_runs;
        const double *v = self ? fn->self_s_runs : fn->total_s_runs;
        for (size_t k = 0; k < width; k++) {
            if (k < n) {
                pgbin_put_u32(b, 8);
                pgbin_put_f64(b, v[k]);
            } else {
                pgbin_put_u32(b, UINT32_MAX);
            }
        }
    }
    pgbin_field_end(b, at);
}

/* The collapsed stacks of r as json [{"thread", "frames", "samples"}], or NULL. */
static void field_stacks(struct pgbin_buf *b, const struct wire_result *r)
{
    if (r->n_stacks == 0) {
        pgbin_field_null(b, PGBIN_OID_JSON);
        return;
    }
    json_t *stacks = json_array();
    for (size_t i = 0; i < r->n_stacks; i++) {
        const struct wire_stack *st = &r->stacks[i];
        json_t *frames = json_array();
        for (size_t k = 0; k < st->n_frames; k++)
            json_array_append_new(frames, json_integer(st->frames[k]));
        json_array_append_new(stacks, json_pack("{s:s, s:o, s:f}", "thread", st->thread, "frames",
                                                frames, "samples", st->samples));
    }
    char *text = json_take_text(stacks);
    pgbin_field_text(b, PGBIN_OID_JSON, text);
    free(text);
}

#define RUN_IN_FIELDS 49

/* Append item i as one run_in record (schema/003_compact_runs.sql, then the fields
 * schema/010_contention.sql, 026_machine_speed.sql, 028_instructions.sql,
 * 029_child_processes.sql, 030_reference_script.sql, 031_python_threads.sql and
 * 032_sample_interval.sql append;
 * same order). */
static void run_in_add(struct pgbin_buf *b, const struct store_result_item *item,
                       const struct group_item *g, size_t i, const int64_t *fn_ids)
{
    const struct wire_result *r = item->result;
    size_t at = b->len;
    pgbin_put_u32(b, 0); /* the element's length, patched below */
    pgbin_put_u32(b, RUN_IN_FIELDS);
    pgbin_field_i32(b, (int32_t)i);
    pgbin_put_u32(b, PGBIN_OID_UUID);
    pgbin_put_u32(b, WIRE_RUN_ID_LEN);
    memcpy(pgbin_room(b, WIRE_RUN_ID_LEN), r->run_id, WIRE_RUN_ID_LEN);
    pgbin_field_i64(b, clamp_i64(r->job_id));
    pgbin_field_i32(b, (int32_t)r->attempt);
    pgbin_field_i64(b, g->batch_id);
    pgbin_field_i64(b, g->host_id);
    pgbin_field_i64(b, g->script_id);
    pgbin_field_text(b, PGBIN_OID_TEXT, item->owner);
    pgbin_field_text(b, PGBIN_OID_TEXT, r->script_sha256 ? r->script_sha256 : "");
    pgbin_field_text(b, PGBIN_OID_TEXT, r->python.version ? r->python.version : "");
    pgbin_field_text(b, PGBIN_OID_TEXT, r->python.build ? r->python.build : "");
    pgbin_field_text(b, PGBIN_OID_TEXT, r->python.executable ? r->python.executable : "");
    pgbin_field_text(b, PGBIN_OID_TEXT, g->outcome ? g->outcome : wire_outcome_name(r->outcome));
    pgbin_field_text(b, PGBIN_OID_TEXT, g->message ? g->message : r->message ? r->message : "");
    pgbin_field_text(b, PGBIN_OID_TEXT, r->host.governor ? r->host.governor : "");
    pgbin_field_f64(b, r->host.load1);
    field_measure(b, r, M_WALL);
    field_measure(b, r, M_CPU);
    field_measure(b, r, M_RSS);
    field_measure(b, r, M_EXIT);
    field_measure(b, r, M_SIGNAL);
    field_measure(b, r, M_TIMEOUT);
    pgbin_field_text(b, PGBIN_OID_TEXT, r->started_at && r->started_at[0] ? r->started_at : NULL);
    field_median(b, r, M_WALL);
    field_median(b, r, M_CPU);
    field_median(b, r, M_RSS);
    field_functions(b, r, fn_ids, F_ID);
    field_functions(b, r, fn_ids, F_CALLS);
    field_functions(b, r, fn_ids, F_SELF);
    field_functions(b, r, fn_ids, F_TOTAL);
    field_function_runs(b, r, true);
    field_function_runs(b, r, false);
    field_stacks(b, r);
    pgbin_field_text(b, PGBIN_OID_TEXT, g->state);
    for (enum measure_field f = M_DELAY; f <= M_MHZ; f++)
        field_measure(b, r, f);
    field_functions(b, r, fn_ids, F_SELF_CPU);
    field_measure(b, r, M_REF);
    if (any_instructions(r))
        field_measure(b, r, M_INSTR);
    else
        pgbin_field_null(b, PGBIN_OID_INT8_ARRAY);   /* the job did not ask: NULL, not {NULL} */
    pgbin_field_i32(b, (int32_t)r->child_processes); /* wire_validate: at most INT32_MAX */
    if (g->drop_ref_script) { /* NULL arrays, as in the rows from before schema/030 */
        pgbin_field_null(b, PGBIN_OID_FLOAT8_ARRAY);
        pgbin_field_null(b, PGBIN_OID_FLOAT8_ARRAY);
    } else {
        field_measure(b, r, M_REF_SCRIPT_CPU);
        field_measure(b, r, M_REF_SCRIPT_WALL);
    }
    pgbin_field_i32(b, (int32_t)r->python_threads); /* wire_validate: at most INT32_MAX */
    pgbin_field_i32(b, (int32_t)r->samples);        /* wire_validate: at most INT32_MAX */
    pgbin_patch_len(b, at);
}

/*
 * Make sure every function key of the results to store has an id in the
 * cache: the keys not cached are inserted (ON CONFLICT DO NOTHING) and read
 * back in one statement, repeated while a key inserted meanwhile by another
 * coordinator is not yet visible. Returns 0 or -EIO. Ids are put in the cache
 * at once; group_put() clears it when the transaction does not commit.
 */
static int group_function_ids(struct store *s, const struct store_result_item *items,
                              const struct group_item *g, size_t n, char *err, size_t errlen)
{
    for (int round = 0; round < 3; round++) {
        struct strbuf keys = {0};
        size_t missing = 0;
        for (size_t i = 0; i < n; i++) {
            const struct wire_result *r = items[i].result;
            for (size_t k = 0; g[i].to_store && k < r->n_functions; k++) {
                if (fcache_get(&s->fcache, r->functions[k].key))
                    continue;
                strbuf_addf(&keys, "%s", missing++ ? "," : "{");
                array_add_quoted(&keys, r->functions[k].key);
            }
        }
        if (missing == 0) {
            strbuf_release(&keys);
            return 0;
        }
        strbuf_addf(&keys, "}");
        struct params p = {0};
        p_own(&p, strbuf_take(&keys));
        PGresult *res =
            store_exec(s,
                       "WITH k AS (SELECT DISTINCT unnest($1::text[]) AS key),"
                       " ins AS (INSERT INTO functions (key) SELECT key FROM k"
                       "  WHERE NOT EXISTS (SELECT 1 FROM functions f WHERE f.key = k.key)"
                       "  ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING id, key)"
                       " SELECT id, key FROM ins UNION ALL SELECT f.id, f.key FROM functions f "
                       "JOIN k USING (key)",
                       &p, PGRES_TUPLES_OK, err, errlen);
        p_release(&p);
        if (res == NULL)
            return -EIO;
        for (int row = 0; row < PQntuples(res); row++)
            fcache_put(&s->fcache, PQgetvalue(res, row, 1),
                       strtoll(PQgetvalue(res, row, 0), NULL, 10));
        PQclear(res);
    }
    pyscope_set_err(err, errlen, "database error: function keys not visible after inserting them");
    return -EIO;
}

/* The OID of type run_in (looked up once per connection). Returns 0 or -EIO. */
static int run_in_oid(struct store *s, uint32_t *oid, char *err, size_t errlen)
{
    if (s->run_in_oid == 0) {
        PGresult *res =
            store_exec(s, "SELECT 'run_in'::regtype::oid", NULL, PGRES_TUPLES_OK, err, errlen);
        if (res == NULL)
            return -EIO;
        s->run_in_oid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    *oid = s->run_in_oid;
    return 0;
}

/*
 * Insert, for the results that passed group_check(), their runs rows (with
 * hotspots and stacks) and move their jobs on, in one statement
 * whose one parameter is the group as a binary run_in[] array. A run_id
 * another coordinator stored meanwhile is not inserted (ON CONFLICT): that
 * result becomes a duplicate and its job is left alone. Returns 0 or -EIO.
 */
static int group_insert(struct store *s, struct store_result_item *items,
                        const struct group_item *g, size_t n, char *err, size_t errlen)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += g[i].to_store;
    if (count == 0)
        return 0;
    uint32_t oid;
    if (group_function_ids(s, items, g, n, err, errlen) < 0 || run_in_oid(s, &oid, err, errlen) < 0)
        return -EIO;
    struct pgbin_buf b = {0};
    pgbin_array_head(&b, oid, count);
    for (size_t i = 0; i < n; i++) {
        if (!g[i].to_store)
            continue;
        const struct wire_result *r = items[i].result;
        int64_t *ids = xcalloc(r->n_functions ? r->n_functions : 1, sizeof(*ids));
        for (size_t k = 0; k < r->n_functions; k++)
            ids[k] = fcache_get(&s->fcache, r->functions[k].key);
        run_in_add(&b, &items[i], &g[i], i, ids);
        free(ids);
    }
    struct params p = {0};
    p_bin(&p, b.p, b.len);
    PGresult *res = store_exec(
        s,
        "WITH x AS MATERIALIZED (SELECT * FROM unnest($1::run_in[])),"
        " r AS (INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id,"
        "  agent, script_sha256, python_version, python_build, python_executable, outcome,"
        "  message, governor, load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals,"
        "  timed_out, started_at, wall_median, cpu_median, rss_median, fn_ids, fn_calls,"
        "  fn_self_s, fn_total_s, fn_self_runs, fn_total_runs, stacks, run_delay_s,"
        "  ctx_voluntary, ctx_involuntary, steal_s, cpu_pressure_s, load1_runs, cpu_mhz,"
        "  fn_self_cpu_s, ref_cpu_ns, instructions, child_processes, ref_script_cpu_s,"
        "  ref_script_wall_s, python_threads, samples)"
        "  SELECT run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,"
        "  python_version, python_build, python_executable, outcome, message, governor, load1,"
        "  wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,"
        "  started_at::timestamptz, wall_median, cpu_median, rss_median, fn_ids, fn_calls,"
        "  fn_self_s, fn_total_s, fn_self_runs, fn_total_runs, stacks, run_delay_s,"
        "  ctx_voluntary, ctx_involuntary, steal_s, cpu_pressure_s, load1_runs, cpu_mhz,"
        "  fn_self_cpu_s, ref_cpu_ns, instructions, child_processes, ref_script_cpu_s,"
        "  ref_script_wall_s, python_threads, samples FROM x"
        "  ON CONFLICT (run_id) DO NOTHING RETURNING run_id),"
        " j AS (UPDATE jobs SET state = x.state, lease_owner = NULL, lease_expires = NULL,"
        "  updated = now() FROM x JOIN r USING (run_id) WHERE jobs.id = x.job_id)"
        " SELECT x.ord FROM x JOIN r USING (run_id)",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    /* Stored now unless another coordinator stored the run_id first. */
    for (size_t i = 0; i < n; i++)
        if (g[i].to_store)
            items[i].status = STORE_RESULT_DUPLICATE;
    for (int row = 0; row < PQntuples(res); row++) {
        size_t i = strtoul(PQgetvalue(res, row, 0), NULL, 10);
        if (i < n)
            items[i].status = STORE_RESULT_STORED;
    }
    PQclear(res);
    return 0;
}

/*
 * After a group's COMMIT: mark done the batches of the jobs it ended that
 * have no open job left. This is after COMMIT, not in the group's own
 * statement, which cannot see a concurrent group's (another writer's,
 * another coordinator's) uncommitted job updates: two groups ending a batch's
 * last jobs at once would each see the other's job still leased.
 * store_reap_leases() sweeps up after a crash between the two.
 */
static void group_batches_done(struct store *s, const struct store_result_item *items,
                               const struct group_item *g, size_t n)
{
    struct strbuf ids = {0};
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].status != STORE_RESULT_STORED || strcmp(g[i].state, "queued") == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = items[k].status == STORE_RESULT_STORED && g[k].batch_id == g[i].batch_id;
        if (!seen)
            strbuf_addf(&ids, "%s%lld", count++ ? "," : "{", g[i].batch_id);
    }
    if (count == 0) {
        strbuf_release(&ids);
        return;
    }
    strbuf_addf(&ids, "}");
    struct params p = {0};
    p_own(&p, strbuf_take(&ids));
    char err[256];
    if (store_cmd(s, BATCH_DONE_SQL, &p, err, sizeof(err)) < 0)
        log_warn("could not check whether batches %s are done (the lease reaper will): %s", p.v[0],
                 err);
    p_release(&p);
}

/* Store n results in one transaction, without a fallback; sets each status. */
static int group_put(struct store *s, struct store_result_item *items, size_t n, char *err,
                     size_t errlen)
{
    struct group_item *g = xcalloc(n, sizeof(*g));
    int rc = store_cmd(s, "BEGIN", NULL, err, errlen);
    if (rc == 0) {
        rc = group_check(s, items, g, n, err, errlen);
        if (rc == 0)
            rc = group_insert(s, items, g, n, err, errlen);
        fault_point("coord_before_commit");
        if (rc == 0)
            rc = store_cmd(s, "COMMIT", NULL, err, errlen);
        else
            store_rollback(s);
    }
    if (rc == 0)
        group_batches_done(s, items, g, n);
    /* function ids inserted by a transaction that did not commit do not exist */
    if (rc < 0)
        fcache_clear(&s->fcache);
    for (size_t i = 0; i < n; i++)
        free(g[i].message);
    free(g);
    return rc;
}

int store_put_result(struct store *s, const char *owner, const struct wire_result *r,
                     enum store_result_status *status, char *err, size_t errlen)
{
    struct store_result_item item = {owner, r, STORE_RESULT_STORED, 0};
    int rc = group_put(s, &item, 1, err, errlen);
    *status = item.status;
    return rc;
}

int store_put_results(struct store *s, struct store_result_item *items, size_t n, char *err,
                      size_t errlen)
{
    if (n == 0)
        return 0;
    int rc = group_put(s, items, n, err, errlen);
    if (rc < 0 && n > 1) {
        /* Something failed: the group was undone; give each result its own
         * transaction, so one bad result cannot hold back the others. */
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            items[i].rc = group_put(s, &items[i], 1, err, errlen);
            rc = items[i].rc < 0 ? items[i].rc : rc;
        }
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        items[i].rc = rc;
    return rc;
}
