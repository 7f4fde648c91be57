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

static const char *res_str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void result_host_from_json(struct wire_host *h, const json_t *host)
{
    memset(h, 0, sizeof(*h));
    h->fingerprint = res_str(host, "fingerprint");
    h->hostname = res_str(host, "hostname");
    h->cpu_model = res_str(host, "cpu_model");
    h->cores = (uint32_t)json_get_nonneg(host, "cores");
    h->mem_bytes = (uint64_t)json_get_nonneg(host, "mem_bytes");
    h->os = res_str(host, "os");
    h->kernel = res_str(host, "kernel");
    h->arch = res_str(host, "arch");
    h->governor = res_str(host, "governor");
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

int result_build(const struct result_ctx *ctx, const struct runjob *rj, const json_t *run,
                 enum wire_outcome outcome, const char *message, uint8_t **out, size_t *len,
                 char id_out[37])
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_RESULT);
    struct wire_result *r = &m.result;
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

    struct wire_measurement *runs = NULL;
    struct wire_function *fns = NULL;
    struct wire_stack *stacks = NULL;
    uint32_t *frames = NULL;
    json_t **sorted = NULL;
    struct res_index ix = {0};
    size_t n_fns = 0, n_stacks = 0;

    if (run) {
        json_t *status = json_object_get(run, "status");
        const char *oc = res_str(status, "outcome");
        if (strcmp(oc, "ok") == 0)
            r->outcome = WIRE_OUTCOME_OK;
        else if (strcmp(oc, "timeout") == 0)
            r->outcome = WIRE_OUTCOME_TIMEOUT;
        else
            r->outcome = WIRE_OUTCOME_FAILED;
        if (!message)
            r->message = res_str(status, "message");
        json_t *script = json_object_get(run, "script");
        r->script_sha256 = res_str(script, "sha256");
        if (rj->sha256[0]) /* what the agent resolved and hashed before the run */
            r->script_sha256 = rj->sha256;
        json_t *py = json_object_get(run, "python");
        if (*res_str(py, "version")) {
            r->python.version = res_str(py, "version");
            r->python.build = res_str(py, "build");
            r->python.executable = res_str(py, "executable");
        }
        const char *created = res_str(run, "created");
        if (*created)
            r->started_at = created;

        json_t *ja = json_object_get(run, "runs");
        size_t nr = json_is_array(ja) ? json_array_size(ja) : 0;
        if (nr > WIRE_MAX_RUNS)
            nr = WIRE_MAX_RUNS;
        runs = nr ? xcalloc(nr, sizeof(*runs)) : NULL;
        for (size_t i = 0; i < nr; i++) {
            json_t *o = json_array_get(ja, i);
            runs[i].wall_s = json_get_nonneg(o, "wall_s");
            runs[i].cpu_s = json_get_nonneg(o, "cpu_s");
            runs[i].peak_rss_bytes = (uint64_t)json_get_nonneg(o, "peak_rss_bytes");
            json_t *ec = json_object_get(o, "exit_code");
            runs[i].exit_code = json_is_integer(ec) ? (int32_t)json_integer_value(ec) : 0;
            json_t *sg = json_object_get(o, "signal");
            runs[i].signal = json_is_integer(sg) ? (int32_t)json_integer_value(sg) : 0;
            runs[i].timed_out = json_is_true(json_object_get(o, "timed_out"));
            /* contention (agent/runner/contention.h): null or absent is unknown */
            struct wire_measurement *w = &runs[i];
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
        }
        r->runs = runs;
        r->n_runs = nr;

        /* Functions: the top ones by total time (the document's order). */
        json_t *prof = json_object_get(run, "profile");
        json_t *jf = json_object_get(prof, "functions");
        size_t nf_all = json_is_array(jf) ? json_array_size(jf) : 0;
        ix.cap = 8192; /* > 2 x WIRE_MAX_FUNCTIONS, a power of two */
        ix.keys = xcalloc(ix.cap, sizeof(*ix.keys));
        ix.idx = xcalloc(ix.cap, sizeof(*ix.idx));
        fns = xcalloc(WIRE_MAX_FUNCTIONS, sizeof(*fns));
        /* All functions by key, to add those a kept stack needs. */
        struct res_index all = {.cap = 1};
        while (all.cap < 2 * nf_all + 2)
            all.cap *= 2;
        all.keys = xcalloc(all.cap, sizeof(*all.keys));
        all.idx = xcalloc(all.cap, sizeof(*all.idx));
        for (size_t i = 0; i < nf_all; i++) {
            const char *k = json_string_value(json_object_get(json_array_get(jf, i), "key"));
            if (k && *k && res_find(&all, k) < 0)
                res_insert(&all, k, (uint32_t)i);
        }
        for (size_t i = 0; i < nf_all && n_fns < RESULT_TOP_FUNCTIONS; i++) {
            json_t *fo = json_array_get(jf, i);
            const char *k = json_string_value(json_object_get(fo, "key"));
            if (!k || !*k || res_find(&ix, k) >= 0)
                continue;
            res_function(&fns[n_fns], fo, k);
            res_insert(&ix, k, (uint32_t)n_fns);
            n_fns++;
        }

        /* Stacks, biggest first; keep one when all its frames have an index. */
        json_t *js = json_object_get(prof, "stacks");
        size_t ns_all = json_is_array(js) ? json_array_size(js) : 0;
        sorted = ns_all ? xcalloc(ns_all, sizeof(*sorted)) : NULL;
        for (size_t i = 0; i < ns_all; i++)
            sorted[i] = json_array_get(js, i);
        if (ns_all)
            qsort(sorted, ns_all, sizeof(*sorted), res_stack_cmp);
        size_t maxs = ns_all < WIRE_MAX_STACKS ? ns_all : WIRE_MAX_STACKS;
        stacks = maxs ? xcalloc(maxs, sizeof(*stacks)) : NULL;
        frames = maxs ? xcalloc(maxs * WIRE_MAX_FRAMES, sizeof(*frames)) : NULL;
        for (size_t i = 0; i < ns_all && n_stacks < maxs; i++) {
            json_t *so = sorted[i];
            json_t *fr = json_object_get(so, "frames");
            size_t nfr = json_is_array(fr) ? json_array_size(fr) : 0;
            size_t skip = nfr > WIRE_MAX_FRAMES ? nfr - WIRE_MAX_FRAMES : 0; /* keep the leaf end */
            uint32_t *dst = frames + n_stacks * WIRE_MAX_FRAMES;
            size_t k = 0;
            bool ok = nfr > 0;
            for (size_t j = skip; j < nfr && ok; j++) {
                const char *key = json_string_value(json_array_get(fr, j));
                if (!key || !*key) {
                    ok = false;
                    break;
                }
                long at = res_find(&ix, key);
                if (at < 0) {
                    if (n_fns == WIRE_MAX_FUNCTIONS) {
                        ok = false;
                        break;
                    }
                    long src = res_find(&all, key);
                    if (src >= 0) {
                        json_t *fo = json_array_get(jf, (size_t)src);
                        key = json_string_value(json_object_get(fo, "key"));
                        res_function(&fns[n_fns], fo, key);
                    } else {
                        memset(&fns[n_fns], 0, sizeof(fns[n_fns]));
                        fns[n_fns].key = key;
                    }
                    res_insert(&ix, key, (uint32_t)n_fns);
                    at = (long)n_fns++;
                }
                dst[k++] = (uint32_t)at;
            }
            if (!ok)
                continue;
            stacks[n_stacks].thread = res_str(so, "thread");
            if (strlen(stacks[n_stacks].thread) > 256)
                stacks[n_stacks].thread = "";
            stacks[n_stacks].frames = dst;
            stacks[n_stacks].n_frames = k;
            stacks[n_stacks].samples = json_get_nonneg(so, "samples");
            n_stacks++;
        }
        free(all.keys);
        free(all.idx);
        r->functions = fns;
        r->n_functions = n_fns;
        r->stacks = stacks;
        r->n_stacks = n_stacks;
    }
    if (strlen(r->message) > WIRE_MAX_STRING)
        r->message = "(message too long)";

    struct wire_error werr;
    int rc = wire_validate(&m, &werr);
    if (rc < 0) {
        log_warn("job %llu: result does not validate (%s); sending it without its profile",
                 (unsigned long long)rj->job_id, werr.msg);
        r->n_functions = 0;
        r->n_stacks = 0;
        rc = wire_validate(&m, &werr);
        if (rc < 0) {
            log_error("job %llu: result does not validate: %s", (unsigned long long)rj->job_id,
                      werr.msg);
            r->outcome = WIRE_OUTCOME_ERROR;
            r->message = "the agent could not build a valid result";
            r->n_runs = 0;
            r->script_sha256 = "";
            rc = wire_validate(&m, &werr);
        }
    }
    if (rc == 0) {
        rc = wire_encode(&m, out, len);
        /* Over the size cap: halve the stacks until it fits. */
        while (rc == -PYSCOPE_ETOOBIG && r->n_stacks > 0) {
            r->n_stacks /= 2;
            rc = wire_encode(&m, out, len);
        }
        if (rc == -PYSCOPE_ETOOBIG) {
            r->n_functions = 0;
            rc = wire_encode(&m, out, len);
        }
    }
    for (size_t i = 0; i < n_fns; i++) {
        free((void *)fns[i].self_s_runs);
        free((void *)fns[i].total_s_runs);
    }
    free(fns);
    free(stacks);
    free(frames);
    free(sorted);
    free(runs);
    free(ix.keys);
    free(ix.idx);
    return rc;
}
