/*
 * result.c - pyscope.run/1 JSON to a wire Result.
 */
#include "result.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "errors.h"
#include "jsonutil.h"
#include "log.h"
#include "xmalloc.h"

void result_host_from_json(struct wire_host *h, const json_t *host)
{
    memset(h, 0, sizeof(*h));
    h->fingerprint = json_get_string(host, "fingerprint", "");
    h->hostname = json_get_string(host, "hostname", "");
    h->cpu_model = json_get_string(host, "cpu_model", "");
    h->cores = (uint32_t)json_get_nonneg(host, "cores");
    h->mem_bytes = (uint64_t)json_get_nonneg(host, "mem_bytes");
    h->os = json_get_string(host, "os", "");
    h->kernel = json_get_string(host, "kernel", "");
    h->arch = json_get_string(host, "arch", "");
    h->governor = json_get_string(host, "governor", "");
    json_t *la = json_object_get(host, "loadavg");
    double l1 = json_is_array(la) ? json_number_value(json_array_get(la, 0)) : 0;
    h->load1 = isfinite(l1) && l1 >= 0 ? l1 : 0;
}

/* Index of the functions kept, by key; a plain array searched linearly is
 * too slow for 2000 keys x 5000 stacks, so a small open-addressing table. */
struct res_index {
    const char **keys;
    uint32_t *idx;
    size_t cap;
};

static size_t res_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static long res_find(const struct res_index *ix, const char *key)
{
    for (size_t i = res_hash(key) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        if (!ix->keys[i])
            return -1;
        if (strcmp(ix->keys[i], key) == 0)
            return ix->idx[i];
    }
}

static void res_insert(struct res_index *ix, const char *key, uint32_t idx)
{
    size_t i = res_hash(key) & (ix->cap - 1);
    while (ix->keys[i])
        i = (i + 1) & (ix->cap - 1);
    ix->keys[i] = key;
    ix->idx[i] = idx;
}

/* Fill f from a function object of the run document (arrays are new). */
static void res_function(struct wire_function *f, const json_t *fo, const char *key)
{
    memset(f, 0, sizeof(*f));
    f->key = key;
    json_t *calls = json_object_get(fo, "calls");
    f->calls = json_is_number(calls) ? (uint64_t)fmax(0, json_number_value(calls)) : 0;
    f->self_s = json_get_nonneg(fo, "self_s");
    f->total_s = json_get_nonneg(fo, "total_s");
    f->has_self_cpu_s = json_get_in(fo, "self_cpu_s", 0, 1e9, &f->self_cpu_s);
    const char *names[2] = {"self_s_runs", "total_s_runs"};
    for (int k = 0; k < 2; k++) {
        json_t *a = json_object_get(fo, names[k]);
        size_t n = json_is_array(a) ? json_array_size(a) : 0;
        if (n > WIRE_MAX_RUNS)
            n = WIRE_MAX_RUNS;
        double *v = n ? xcalloc(n, sizeof(double)) : NULL;
        for (size_t i = 0; i < n; i++) {
            double x = json_number_value(json_array_get(a, i));
            v[i] = isfinite(x) && x >= 0 ? x : 0;
        }
        if (k == 0) {
            f->n_self_s_runs = n;
            f->self_s_runs = v;
        } else {
            f->n_total_s_runs = n;
            f->total_s_runs = v;
        }
    }
}

static int res_stack_cmp(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "samples"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "samples"));
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The message's head: a new run id (also into id_out), the job, the host. */
static void res_head(struct wire_result *r, const struct result_ctx *ctx, const struct runjob *rj,
                     enum wire_outcome outcome, const char *message, char id_out[37])
{
    uuid_t u;
    uuid_generate_random(u);
    memcpy(r->run_id, u, WIRE_RUN_ID_LEN);
    uuid_unparse_lower(u, id_out);
    r->job_id = rj->job_id;
    r->attempt = rj->attempt;
    r->outcome = outcome;
    r->message = message ? message : "";
    r->script_key = rj->script;
    r->script_sha256 = "";
    r->python = *ctx->python;
    result_host_from_json(&r->host, ctx->host);
    r->host.labels = ctx->labels;
    r->host.n_labels = ctx->n_labels;
    r->started_at = rj->started_at;
}

/* What the run document says of itself: its outcome (and message, unless the agent has
 * one), the script's hash, the Python it ran under, when it began. */
static void res_status(struct wire_result *r, const struct runjob *rj, const json_t *run,
                       const char *message)
{
    json_t *status = json_object_get(run, "status");
    const char *oc = json_get_string(status, "outcome", "");
    if (strcmp(oc, "ok") == 0)
        r->outcome = WIRE_OUTCOME_OK;
    else if (strcmp(oc, "timeout") == 0)
        r->outcome = WIRE_OUTCOME_TIMEOUT;
    else
        r->outcome = WIRE_OUTCOME_FAILED;
    if (!message)
        r->message = json_get_string(status, "message", "");
    json_t *script = json_object_get(run, "script");
    r->script_sha256 = json_get_string(script, "sha256", "");
    if (rj->sha256[0]) /* what the agent resolved and hashed before the run */
        r->script_sha256 = rj->sha256;
    json_t *py = json_object_get(run, "python");
    if (*json_get_string(py, "version", "")) {
        r->python.version = json_get_string(py, "version", "");
        r->python.build = json_get_string(py, "build", "");
        r->python.executable = json_get_string(py, "executable", "");
    }
    const char *created = json_get_string(run, "created", "");
    if (*created)
        r->started_at = created;
}

/* The measured runs of the document (at most WIRE_MAX_RUNS; new array, *n of them). */
static struct wire_measurement *res_runs(const json_t *run, size_t *n)
{
    json_t *ja = json_object_get(run, "runs");
    size_t nr = json_is_array(ja) ? json_array_size(ja) : 0;
    if (nr > WIRE_MAX_RUNS)
        nr = WIRE_MAX_RUNS;
    struct wire_measurement *runs = nr ? xcalloc(nr, sizeof(*runs)) : NULL;
    /* --instructions: one count per measured repeat, in the order of runs[] */
    json_t *counts = json_object_get(json_object_get(run, "instructions"), "counts");
    for (size_t i = 0; i < nr; i++) {
        json_t *o = json_array_get(ja, i);
        struct wire_measurement *w = &runs[i];
        w->wall_s = json_get_nonneg(o, "wall_s");
        w->cpu_s = json_get_nonneg(o, "cpu_s");
        w->peak_rss_bytes = (uint64_t)json_get_nonneg(o, "peak_rss_bytes");
        json_t *ec = json_object_get(o, "exit_code");
        w->exit_code = json_is_integer(ec) ? (int32_t)json_integer_value(ec) : 0;
        json_t *sg = json_object_get(o, "signal");
        w->signal = json_is_integer(sg) ? (int32_t)json_integer_value(sg) : 0;
        w->timed_out = json_is_true(json_object_get(o, "timed_out"));
        /* contention (agent/runner/contention.h): null or absent is unknown */
        double cv = 0, ci = 0;
        w->has_run_delay = json_get_in(o, "run_delay_s", 0, 1e9, &w->run_delay_s);
        w->has_ctx = json_get_in(o, "ctx_voluntary", 0, 1e18, &cv) &&
                     json_get_in(o, "ctx_involuntary", 0, 1e18, &ci);
        w->ctx_voluntary = w->has_ctx ? (uint64_t)cv : 0;
        w->ctx_involuntary = w->has_ctx ? (uint64_t)ci : 0;
        w->has_steal = json_get_in(o, "steal_s", 0, 1e9, &w->steal_s);
        w->has_cpu_pressure = json_get_in(o, "cpu_pressure_s", 0, 1e9, &w->cpu_pressure_s);
        w->has_load1 = json_get_in(o, "load1", 0, 1e6, &w->load1);
        w->has_cpu_mhz = json_get_in(o, "cpu_mhz", 0, 1e6, &w->cpu_mhz);
        w->has_ref = json_get_in(o, "ref_cpu_ns", 0, 1e12, &w->ref_cpu_ns);
        w->has_ref_script = json_get_in(o, "ref_script_cpu_s", 0, 1e9, &w->ref_script_cpu_s) &&
                            json_get_in(o, "ref_script_wall_s", 0, 1e9, &w->ref_script_wall_s);
        json_t *ir = json_array_get(counts, i);
        w->instructions = json_is_integer(ir) && json_integer_value(ir) > 0
                              ? (uint64_t)json_integer_value(ir)
                              : 0; /* not counted */
    }
    *n = nr;
    return runs;
}

/* The profile part of a result, as it is built from the document's. */
struct res_profile {
    const json_t *jf;          /* the document's functions (borrowed) */
    struct res_index all;      /* their positions in jf, by key */
    struct wire_function *fns; /* kept: the top ones, then those kept stacks need */
    size_t n_fns;
    struct res_index ix;       /* positions in fns, by key */
    struct wire_stack *stacks; /* kept, biggest first */
    size_t n_stacks;
    uint32_t *frames; /* the stacks' frames, WIRE_MAX_FRAMES each */
    json_t **sorted;  /* the document's stacks, biggest first (borrowed) */
};

/* Functions: the top ones by total time (the document's order), and all of them by key, to
 * add those a kept stack needs. */
static void res_top_functions(struct res_profile *p, const json_t *prof)
{
    p->jf = json_object_get(prof, "functions");
    size_t nf_all = json_is_array(p->jf) ? json_array_size(p->jf) : 0;
    p->ix.cap = 8192; /* > 2 x WIRE_MAX_FUNCTIONS, a power of two */
    p->ix.keys = xcalloc(p->ix.cap, sizeof(*p->ix.keys));
    p->ix.idx = xcalloc(p->ix.cap, sizeof(*p->ix.idx));
    p->fns = xcalloc(WIRE_MAX_FUNCTIONS, sizeof(*p->fns));
    p->all.cap = 1;
    while (p->all.cap < 2 * nf_all + 2)
        p->all.cap *= 2;
    p->all.keys = xcalloc(p->all.cap, sizeof(*p->all.keys));
    p->all.idx = xcalloc(p->all.cap, sizeof(*p->all.idx));
    for (size_t i = 0; i < nf_all; i++) {
        const char *k = json_string_value(json_object_get(json_array_get(p->jf, i), "key"));
        if (k && *k && res_find(&p->all, k) < 0)
            res_insert(&p->all, k, (uint32_t)i);
    }
    for (size_t i = 0; i < nf_all && p->n_fns < RESULT_TOP_FUNCTIONS; i++) {
        json_t *fo = json_array_get(p->jf, i);
        const char *k = json_string_value(json_object_get(fo, "key"));
        if (!k || !*k || res_find(&p->ix, k) >= 0)
            continue;
        res_function(&p->fns[p->n_fns], fo, k);
        res_insert(&p->ix, k, (uint32_t)p->n_fns);
        p->n_fns++;
    }
}

/* A stack's frames (array fr, root first) as indices into p->fns, into dst (*k of them):
 * the leaf end when there are more than WIRE_MAX_FRAMES. A frame whose function is not kept
 * yet is added while there is room. False when the stack cannot be kept. */
static bool res_stack_frames(struct res_profile *p, const json_t *fr, uint32_t *dst, size_t *k)
{
    size_t nfr = json_is_array(fr) ? json_array_size(fr) : 0;
    size_t skip = nfr > WIRE_MAX_FRAMES ? nfr - WIRE_MAX_FRAMES : 0; /* keep the leaf end */
    *k = 0;
    if (nfr == 0)
        return false;
    for (size_t j = skip; j < nfr; j++) {
        const char *key = json_string_value(json_array_get(fr, j));
        if (!key || !*key)
            return false;
        long at = res_find(&p->ix, key);
        if (at < 0) {
            if (p->n_fns == WIRE_MAX_FUNCTIONS)
                return false;
            struct wire_function *f = &p->fns[p->n_fns];
            long src = res_find(&p->all, key);
            if (src >= 0) {
                json_t *fo = json_array_get(p->jf, (size_t)src);
                key = json_string_value(json_object_get(fo, "key"));
                res_function(f, fo, key);
            } else {
                memset(f, 0, sizeof(*f));
                f->key = key;
            }
            res_insert(&p->ix, key, (uint32_t)p->n_fns);
            at = (long)p->n_fns++;
        }
        dst[(*k)++] = (uint32_t)at;
    }
    return true;
}

/* Stacks, biggest first; keep one when all its frames have an index. */
static void res_stacks(struct res_profile *p, const json_t *prof)
{
    json_t *js = json_object_get(prof, "stacks");
    size_t ns_all = json_is_array(js) ? json_array_size(js) : 0;
    p->sorted = ns_all ? xcalloc(ns_all, sizeof(*p->sorted)) : NULL;
    for (size_t i = 0; i < ns_all; i++)
        p->sorted[i] = json_array_get(js, i);
    if (ns_all)
        qsort(p->sorted, ns_all, sizeof(*p->sorted), res_stack_cmp);
    size_t maxs = ns_all < WIRE_MAX_STACKS ? ns_all : WIRE_MAX_STACKS;
    p->stacks = maxs ? xcalloc(maxs, sizeof(*p->stacks)) : NULL;
    p->frames = maxs ? xcalloc(maxs * WIRE_MAX_FRAMES, sizeof(*p->frames)) : NULL;
    for (size_t i = 0; i < ns_all && p->n_stacks < maxs; i++) {
        json_t *so = p->sorted[i];
        uint32_t *dst = p->frames + p->n_stacks * WIRE_MAX_FRAMES;
        size_t k;
        if (!res_stack_frames(p, json_object_get(so, "frames"), dst, &k))
            continue;
        struct wire_stack *s = &p->stacks[p->n_stacks];
        s->thread = json_get_string(so, "thread", "");
        if (strlen(s->thread) > 256)
            s->thread = "";
        s->frames = dst;
        s->n_frames = k;
        s->samples = json_get_nonneg(so, "samples");
        p->n_stacks++;
    }
}

static void res_profile_release(struct res_profile *p)
{
    for (size_t i = 0; i < p->n_fns; i++) {
        free((void *)p->fns[i].self_s_runs);
        free((void *)p->fns[i].total_s_runs);
    }
    free(p->fns);
    free(p->stacks);
    free(p->frames);
    free(p->sorted);
    free(p->ix.keys);
    free(p->ix.idx);
    free(p->all.keys);
    free(p->all.idx);
}

/* Validate and encode m: without its profile when it does not validate (an error result when
 * even that fails), with fewer stacks (then no functions) when it is over the size cap. */
static int res_encode(struct wire_msg *m, const struct runjob *rj, uint8_t **out, size_t *len)
{
    struct wire_result *r = &m->result;
    struct wire_error werr;
    int rc = wire_validate(m, &werr);
    if (rc < 0) {
        log_warn("job %llu: result does not validate (%s); sending it without its profile",
                 (unsigned long long)rj->job_id, werr.msg);
        r->n_functions = 0;
        r->n_stacks = 0;
        rc = wire_validate(m, &werr);
        if (rc < 0) {
            log_error("job %llu: result does not validate: %s", (unsigned long long)rj->job_id,
                      werr.msg);
            r->outcome = WIRE_OUTCOME_ERROR;
            r->message = "the agent could not build a valid result";
            r->n_runs = 0;
            r->script_sha256 = "";
            rc = wire_validate(m, &werr);
        }
    }
    if (rc == 0) {
        rc = wire_encode(m, out, len);
        /* Over the size cap: halve the stacks until it fits. */
        while (rc == -PYSCOPE_ETOOBIG && r->n_stacks > 0) {
            r->n_stacks /= 2;
            rc = wire_encode(m, out, len);
        }
        if (rc == -PYSCOPE_ETOOBIG) {
            r->n_functions = 0;
            rc = wire_encode(m, out, len);
        }
    }
    return rc;
}

int result_build(const struct result_ctx *ctx, const struct runjob *rj, const json_t *run,
                 enum wire_outcome outcome, const char *message, uint8_t **out, size_t *len,
                 char id_out[37])
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_RESULT);
    struct wire_result *r = &m.result;
    res_head(r, ctx, rj, outcome, message, id_out);
    struct wire_measurement *runs = NULL;
    struct res_profile p = {0};
    if (run) {
        res_status(r, rj, run, message);
        runs = res_runs(run, &r->n_runs);
        r->runs = runs;
        json_t *prof = json_object_get(run, "profile");
        /* the script started child processes: its instruction counts are its own only */
        double forks = json_get_nonneg(prof, "forks");
        r->child_processes = forks < INT32_MAX ? (uint32_t)forks : INT32_MAX;
        /* several Python threads: the counts vary with the load (pyscope-run's "exact") */
        double threads = json_get_nonneg(json_object_get(run, "instructions"), "python_threads");
        r->python_threads = threads < INT32_MAX ? (uint32_t)threads : INT32_MAX;
        /* how finely it was sampled: the why names no function on too few samples */
        double samples = json_get_nonneg(prof, "samples");
        r->samples = samples < INT32_MAX ? (uint32_t)samples : INT32_MAX;
        res_top_functions(&p, prof);
        res_stacks(&p, prof);
        r->functions = p.fns;
        r->n_functions = p.n_fns;
        r->stacks = p.stacks;
        r->n_stacks = p.n_stacks;
    }
    if (strlen(r->message) > WIRE_MAX_STRING)
        r->message = "(message too long)";
    int rc = res_encode(&m, rj, out, len);
    res_profile_release(&p);
    free(runs);
    return rc;
}
