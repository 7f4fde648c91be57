/*
 * collect.c - per-run profile tables to the report's `profile` object.
 *
 * jansson objects serve as the string-keyed maps while aggregating; the
 * sizes involved (thousands of functions and stacks) make that cheap.
 */
#include "collect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "funckey.h"
#include "jsonutil.h"
#include "pathnorm.h"
#include "shm.h"
#include "summary.h"
#include "xmalloc.h"

/* Stacks keep at most this many frames (the sampler's own limit too). */
#define COLLECT_MAX_DEPTH 1024
#define COLLECT_ROOT_KEEP 128
#define COLLECT_ELIDED    "<pyscope>:[frames elided]:0"

/* The report's size budget for stacks (profile.stacks_budget says what it did):
 * stacks lighter than COLLECT_MIN_SHARE of the total, and those past
 * COLLECT_MAX_STACKS stacks or COLLECT_MAX_FRAMES frames in weight order, are
 * merged into their first COLLECT_MERGE_DEPTH frames under one "[smaller stacks
 * merged]" frame. Trace mode saw every path through the import machinery;
 * 0.01% of the weight kept its reports' stacks a hundredth of their size. */
#define COLLECT_MIN_SHARE   1e-4
#define COLLECT_MAX_STACKS  2000
#define COLLECT_MAX_FRAMES  20000
#define COLLECT_MERGE_DEPTH 2
#define COLLECT_MERGED      "<pyscope>:[smaller stacks merged]:0"

struct collect {
    int mode;          /* 1 sample, 2 trace */
    double interval_s; /* requested sampling period */
    const char *root, *cwd;
    int nruns;
    uint64_t samples, dropped, forks, children;
    json_t *funcs;       /* key -> {file, name, line, calls[], self[], total[], cpu[], max_depth} */
    json_t *stacks;      /* "thread\x1fkey\x1f..." -> {thread, frames, samples, cpu_samples} */
    json_t *threads;     /* name -> {name, native_id, samples, cpu_samples} */
    json_t *errors;      /* distinct profiler error strings */
    json_t *sampler_cpu; /* per run: the sampling wait loop's CPU seconds (sample mode) */
    json_t *startup;     /* per run: the module's start-up in the script's process, s */
    json_t *calls;       /* per run: calls traced (trace mode) */
    json_t *per_call;    /* per run: the hook's measured cost per call, ns (trace mode) */
};

struct collect *collect_new(int mode, double interval_s, const char *root, const char *cwd)
{
    struct collect *c = xcalloc(1, sizeof(*c));
    c->mode = mode;
    c->interval_s = interval_s;
    c->root = root;
    c->cwd = cwd;
    c->funcs = json_object();
    c->stacks = json_object();
    c->threads = json_object();
    c->errors = json_array();
    c->sampler_cpu = json_array();
    c->startup = json_array();
    c->calls = json_array();
    c->per_call = json_array();
    return c;
}

void collect_destroy(struct collect **pc)
{
    struct collect *c = *pc;
    if (!c)
        return;
    json_decref(c->funcs);
    json_decref(c->stacks);
    json_decref(c->threads);
    json_decref(c->errors);
    json_decref(c->sampler_cpu);
    json_decref(c->startup);
    json_decref(c->calls);
    json_decref(c->per_call);
    free(c);
    *pc = NULL;
}

/* Normalized file name of a code object's co_filename (new string). */
static char *file_key(const struct collect *c, const char *raw)
{
    if (raw[0] == '\0' || raw[0] == '<' || strcmp(raw, "~") == 0)
        return xstrdup(raw[0] ? raw : "<unknown>");
    char *abs = raw[0] == '/' ? xstrdup(raw) : xasprintf("%s/%s", c->cwd ? c->cwd : ".", raw);
    char *key = NULL;
    if (pathnorm_key(abs, c->root, &key) < 0)
        key = xstrdup(raw);
    free(abs);
    return key;
}

static void array_pad(json_t *arr, int n)
{
    while ((int)json_array_size(arr) < n)
        json_array_append_new(arr, json_real(0));
}

/* The aggregate entry for function f of region r (created on first sight). */
static json_t *func_entry(struct collect *c, const struct shm_region *r, uint32_t f, char **keys)
{
    if (!keys[f]) {
        const struct shm_func *fn = &r->funcs[f];
        char *file = file_key(c, shm_string(r, fn->file_off));
        keys[f] = funckey_make(file, shm_string(r, fn->name_off), fn->line);
        json_t *e = json_object_get(c->funcs, keys[f]);
        if (!e) {
            e = json_pack("{s:o, s:o, s:i, s:[], s:[], s:[], s:[], s:i, s:b}", "file",
                          json_string_lossy(file), "name",
                          json_string_lossy(shm_string(r, fn->name_off)), "line", fn->line, "calls",
                          "self", "total", "cpu", "max_depth", 0, "is_c", fn->is_c);
            json_object_set_new(c->funcs, keys[f], e);
        }
        free(file);
    }
    return json_object_get(c->funcs, keys[f]);
}

/* Add v to element run of the array at key of e (padding as needed). */
static void add_at(json_t *e, const char *key, int run, double v)
{
    json_t *arr = json_object_get(e, key);
    array_pad(arr, run + 1);
    json_t *x = json_array_get(arr, (size_t)run);
    json_real_set(x, json_real_value(x) + v);
}

/* The thread's name: threading's name for it when the run left one in the
 * region (by native id), else "MainThread" or "Thread TID". */
static const char *thread_name(const struct shm_region *r, const struct shm_thread *t, char *buf,
                               size_t len)
{
    uint32_t n = r->nnames < SHM_MAX_THREADS ? r->nnames : SHM_MAX_THREADS;
    for (uint32_t i = 0; i < n; i++) {
        const struct shm_thread_name *tn = &r->names[i];
        if (tn->native_id == t->native_id && tn->name[0] &&
            memchr(tn->name, '\0', sizeof(tn->name))) {
            snprintf(buf, len, "%s", tn->name);
            return buf;
        }
    }
    if (t->is_main)
        return "MainThread";
    snprintf(buf, len, "Thread %llu", (unsigned long long)t->native_id);
    return buf;
}

/* A run's figures that are not per function: its children, drops, forks, errors,
 * the sampler's CPU, the start-up and (trace mode) the hook's cost per call. */
static void add_run_totals(struct collect *c, const struct shm_region *r, unsigned children)
{
    if (children > c->children)
        c->children = children;
    c->dropped += r->dropped;
    c->forks += r->forks;
    if (r->error[0])
        json_array_append_new(c->errors, json_string_lossy(r->error));
    json_array_append_new(c->sampler_cpu, json_real((double)r->sampler_cpu_ns / 1e9));
    json_array_append_new(c->startup, json_real((double)r->startup_ns / 1e9));
    if (c->mode == 2 && r->calib_calls && r->calib_hook_ns >= r->calib_plain_ns)
        json_array_append_new(
            c->per_call,
            json_real((double)(r->calib_hook_ns - r->calib_plain_ns) / (double)r->calib_calls));
}

/* Time a unit of a node's counters stands for: a sampling pass, or a TSC tick. */
static double run_unit(const struct collect *c, const struct shm_region *r, double wall_s,
                       double tsc_hz)
{
    if (c->mode != 1)
        return tsc_hz > 0 ? 1.0 / tsc_hz : 0;
    double elapsed = r->mono_end_ns > r->mono_start_ns
                         ? (double)(r->mono_end_ns - r->mono_start_ns) / 1e9
                         : wall_s;
    return r->passes ? elapsed / (double)r->passes : c->interval_s;
}

/* One stack's nodes and frame keys, grown as deep stacks need (add_stack()). */
struct stack_buf {
    uint32_t *path;     /* its nodes, leaf first */
    const char **names; /* its frames' keys (borrowed), leaf first */
    size_t cap;
};

/* Node i's collapsed stack (thread, then its frames root first) gets its self
 * time (weight w) and CPU samples (cw) in c->stacks. keys[] holds the function
 * keys made so far (func_entry() fills more). */
static void add_stack(struct collect *c, const struct shm_region *r, uint32_t i, char **keys,
                      uint32_t nfuncs, double w, double cw, struct stack_buf *b)
{
    const struct shm_node *n = &r->nodes[i];
    char tbuf[64];
    const char *tname =
        n->thread < r->nthreads ? thread_name(r, &r->threads[n->thread], tbuf, sizeof(tbuf)) : "?";
    /* Its frames, leaf first; a stack deeper than COLLECT_MAX_DEPTH keeps its
     * root-most COLLECT_ROOT_KEEP and leaf-most others, joined by one
     * "[frames elided]" frame (as the sampler does). */
    size_t depth = 0;
    for (uint32_t p = i; p && p <= i; p = r->nodes[p].parent) {
        if (depth == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 256;
            b->path = xreallocarray(b->path, b->cap, sizeof(*b->path));
            b->names = xreallocarray(b->names, b->cap + 1, sizeof(*b->names));
        }
        b->path[depth++] = p;
    }
    size_t kept = 0;
    for (size_t d = 0; d < depth; d++) {
        if (depth > COLLECT_MAX_DEPTH && d == COLLECT_MAX_DEPTH - COLLECT_ROOT_KEEP) {
            b->names[kept++] = COLLECT_ELIDED;
            d = depth - COLLECT_ROOT_KEEP;
        }
        uint32_t f = r->nodes[b->path[d]].func;
        if (f < nfuncs)
            func_entry(c, r, f, keys);
        b->names[kept++] = f < nfuncs ? keys[f] : "?";
    }
    size_t klen = strlen(tname) + 1;
    for (size_t d = 0; d < kept; d++)
        klen += strlen(b->names[d]) + 1;
    char *skey = xmalloc(klen + 1);
    size_t o = (size_t)snprintf(skey, klen + 1, "%s", tname);
    json_t *frames = json_array();
    for (size_t d = kept; d-- > 0;) {
        o += (size_t)snprintf(skey + o, klen + 1 - o, "\x1f%s", b->names[d]);
        json_array_append_new(frames, json_string_lossy(b->names[d]));
    }
    json_t *s = json_object_get(c->stacks, skey);
    if (!s) {
        s = json_pack("{s:o, s:o, s:f, s:f}", "thread", json_string_lossy(tname), "frames", frames,
                      "samples", 0.0, "cpu_samples", 0.0);
        json_object_set_new(c->stacks, skey, s);
    } else {
        json_decref(frames);
    }
    json_real_set(json_object_get(s, "samples"),
                  json_real_value(json_object_get(s, "samples")) + w);
    json_real_set(json_object_get(s, "cpu_samples"),
                  json_real_value(json_object_get(s, "cpu_samples")) + cw);
    free(skey);
}

/* The run's threads: samples and CPU time per thread name. */
static void add_threads(struct collect *c, const struct shm_region *r)
{
    for (uint32_t t = 0; t < r->nthreads && t < SHM_MAX_THREADS; t++) {
        const struct shm_thread *th = &r->threads[t];
        char tbuf[64];
        const char *name = thread_name(r, th, tbuf, sizeof(tbuf));
        json_t *e = json_object_get(c->threads, name);
        if (!e) {
            e = json_pack("{s:o, s:I, s:I, s:f}", "name", json_string_lossy(name), "native_id",
                          (json_int_t)th->native_id, "samples", (json_int_t)0, "cpu_s", 0.0);
            json_object_set_new(c->threads, name, e);
        }
        json_integer_set(json_object_get(e, "samples"),
                         json_integer_value(json_object_get(e, "samples")) +
                             (json_int_t)th->samples);
        json_real_set(json_object_get(e, "cpu_s"),
                      json_real_value(json_object_get(e, "cpu_s")) + (double)th->cpu_ns / 1e9);
        c->samples += th->samples;
    }
}

void collect_add_run(struct collect *c, const struct shm_region *r, double wall_s, double tsc_hz,
                     unsigned children)
{
    int run = c->nruns++;
    add_run_totals(c, r, children);
    double unit = run_unit(c, r, wall_s, tsc_hz);

    uint32_t nfuncs = r->nfuncs < SHM_MAX_FUNCS ? r->nfuncs : SHM_MAX_FUNCS;
    uint32_t nnodes = r->nnodes < SHM_MAX_NODES ? r->nnodes : SHM_MAX_NODES;
    char **keys = xcalloc(nfuncs ? nfuncs : 1, sizeof(char *));
    struct stack_buf b = {0};
    double calls_total = 0;
    for (uint32_t i = 1; i < nnodes; i++)
        calls_total += (double)r->nodes[i].calls;
    if (c->mode == 2)
        json_array_append_new(c->calls, json_real(calls_total));
    /* Inclusive counters per node: children always come after their parent. */
    double *incl = xcalloc(nnodes ? nnodes : 1, sizeof(double));
    for (uint32_t i = nnodes; i-- > 1;) {
        const struct shm_node *n = &r->nodes[i];
        incl[i] += c->mode == 1 ? (double)n->self : (double)n->total;
        if (c->mode == 1 && n->parent && n->parent < i)
            incl[n->parent] += incl[i];
    }

    for (uint32_t i = 1; i < nnodes; i++) {
        const struct shm_node *n = &r->nodes[i];
        if (n->func >= nfuncs)
            continue;
        json_t *e = func_entry(c, r, n->func, keys);
        /* Recursion: count the outermost activation only in total. */
        int same = 0;
        for (uint32_t p = n->parent, guard = 0; p && p < i && guard < 4096;
             p = r->nodes[p].parent, guard++)
            if (r->nodes[p].func == n->func)
                same++;
        json_int_t depth = same + 1;
        if ((json_int_t)r->funcs[n->func].depth > depth) /* through an elided middle */
            depth = (json_int_t)r->funcs[n->func].depth;
        if (depth > json_integer_value(json_object_get(e, "max_depth")))
            json_object_set_new(e, "max_depth", json_integer(depth));
        if (same == 0)
            add_at(e, "total", run, incl[i] * unit);
        add_at(e, "self", run, (double)n->self * unit);
        add_at(e, "calls", run, (double)n->calls);
        add_at(e, "cpu", run, (double)n->cpu_ns / 1e9);
        if (n->self == 0)
            continue;
        /* One collapsed stack per node with self time. */
        double w = c->mode == 1 ? (double)n->self : (double)n->self * unit * 1e6;
        double cw = c->mode == 1 && unit > 0 ? (double)n->cpu_ns / 1e9 / unit : 0;
        add_stack(c, r, i, keys, nfuncs, w, cw, &b);
    }
    add_threads(c, r);

    for (uint32_t f = 0; f < nfuncs; f++)
        free(keys[f]);
    free(keys);
    free(incl);
    free(b.path);
    free(b.names);
}

static double median_of(json_t *arr, int n)
{
    double *v = xcalloc((size_t)n ? (size_t)n : 1, sizeof(double));
    for (int i = 0; i < n; i++)
        v[i] = json_number_value(json_array_get(arr, (size_t)i));
    double m = summary_median(v, (size_t)n);
    free(v);
    return m;
}

static int cmp_total_desc(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "total_s"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "total_s"));
    return (x < y) - (x > y);
}

static int cmp_samples_desc(const void *a, const void *b)
{
    double x = json_number_value(json_object_get(*(json_t *const *)a, "samples"));
    double y = json_number_value(json_object_get(*(json_t *const *)b, "samples"));
    return (x < y) - (x > y);
}

/* Values of obj sorted with cmp, as a new array. */
static json_t *sorted_values(json_t *obj, int (*cmp)(const void *, const void *))
{
    size_t n = json_object_size(obj), i = 0;
    json_t **v = xcalloc(n ? n : 1, sizeof(json_t *));
    const char *k;
    json_t *x;
    json_object_foreach(obj, k, x) v[i++] = x;
    qsort(v, n, sizeof(json_t *), cmp);
    json_t *arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append(arr, v[i]);
    free(v);
    return arr;
}

/* Apply the stacks budget to stacks (sorted by weight, heaviest first; a new
 * array replaces it) and describe what it did in *budget (new object). */
static json_t *budget_stacks(json_t *stacks, json_t **budget)
{
    double total = 0, merged_w = 0;
    size_t i, frames = 0, kept = 0, merged = 0;
    json_t *s;
    json_array_foreach(stacks, i, s) total += json_real_value(json_object_get(s, "samples"));
    json_t *out = json_array();
    json_t *groups = json_object(); /* merged stacks by thread and first frames */
    json_array_foreach(stacks, i, s)
    {
        json_t *fr = json_object_get(s, "frames");
        double w = json_real_value(json_object_get(s, "samples"));
        size_t nf = json_array_size(fr);
        if (kept < COLLECT_MAX_STACKS && frames + nf <= COLLECT_MAX_FRAMES &&
            w >= COLLECT_MIN_SHARE * total) {
            json_array_append(out, s);
            kept++;
            frames += nf;
            continue;
        }
        merged++;
        merged_w += w;
        size_t depth = nf < COLLECT_MERGE_DEPTH ? nf : COLLECT_MERGE_DEPTH;
        const char *thread = json_string_value(json_object_get(s, "thread"));
        size_t klen = strlen(thread ? thread : "") + 1;
        for (size_t d = 0; d < depth; d++)
            klen += strlen(json_string_value(json_array_get(fr, d))) + 1;
        char *key = xmalloc(klen + 1);
        size_t o = (size_t)snprintf(key, klen + 1, "%s", thread ? thread : "");
        for (size_t d = 0; d < depth; d++)
            o += (size_t)snprintf(key + o, klen + 1 - o, "\x1f%s",
                                  json_string_value(json_array_get(fr, d)));
        json_t *g = json_object_get(groups, key);
        if (!g) {
            json_t *gf = json_array();
            for (size_t d = 0; d < depth; d++)
                json_array_append(gf, json_array_get(fr, d));
            json_array_append_new(gf, json_string(COLLECT_MERGED));
            g = json_pack("{s:O, s:o, s:f, s:f}", "thread", json_object_get(s, "thread"), "frames",
                          gf, "samples", 0.0, "cpu_samples", 0.0);
            json_object_set_new(groups, key, g);
        }
        free(key);
        json_real_set(json_object_get(g, "samples"),
                      json_real_value(json_object_get(g, "samples")) + w);
        json_real_set(json_object_get(g, "cpu_samples"),
                      json_real_value(json_object_get(g, "cpu_samples")) +
                          json_real_value(json_object_get(s, "cpu_samples")));
    }
    json_t *rest = sorted_values(groups, cmp_samples_desc);
    json_array_extend(out, rest);
    json_decref(rest);
    json_decref(groups);
    json_decref(stacks);
    *budget = json_pack("{s:f, s:i, s:i, s:I, s:I, s:o, s:i}", "min_share", COLLECT_MIN_SHARE,
                        "max_stacks", COLLECT_MAX_STACKS, "max_frames", COLLECT_MAX_FRAMES,
                        "stacks_kept", (json_int_t)kept, "stacks_merged", (json_int_t)merged,
                        "merged_share", json_real_checked(total > 0 ? merged_w / total : 0),
                        "merge_depth", COLLECT_MERGE_DEPTH);
    return out;
}

/* profile.overhead and the note that says it in words (note: a buffer of len). */
static json_t *overhead_json(struct collect *c, double wall_s, double cpu_s, char *note, size_t len)
{
    double startup = median_of(c->startup, (int)json_array_size(c->startup));
    if (c->mode == 1) {
        double sampler = median_of(c->sampler_cpu, (int)json_array_size(c->sampler_cpu));
        snprintf(note, len,
                 "sample mode: the script's threads run no profiler code; pyscope's start-up "
                 "in its process took %.1f ms, and the sampler, outside it, used %.1f ms of "
                 "CPU (%.1f%% of the script's)",
                 startup * 1e3, sampler * 1e3, cpu_s > 0 ? 100.0 * sampler / cpu_s : 0.0);
        return json_pack("{s:o, s:o, s:o}", "startup_s", json_real_checked(startup),
                         "sampler_cpu_s", json_real_checked(sampler), "sampler_cpu_pct",
                         json_real_checked(cpu_s > 0 ? 100.0 * sampler / cpu_s : 0));
    }
    size_t np = json_array_size(c->per_call);
    double per_call = np ? median_of(c->per_call, (int)np) : 0;
    double calls = median_of(c->calls, (int)json_array_size(c->calls));
    double est = per_call * calls / 1e9;
    if (np)
        snprintf(note, len,
                 "trace mode: the hook costs about %.0f ns a call here (measured on an empty "
                 "function before the script: a lower bound); %.0f calls make at least %.3f s "
                 "(%.0f%% of the wall time): compare timings with sample mode",
                 per_call, calls, est, wall_s > 0 ? 100.0 * est / wall_s : 0.0);
    else
        snprintf(note, len,
                 "trace mode: every call goes through a hook in the interpreter, which slows "
                 "call-heavy code (its cost could not be measured); compare timings with "
                 "sample mode");
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "startup_s", json_real_checked(startup),
                     "per_call_ns", np ? json_real_checked(per_call) : json_null(), "calls",
                     json_real_checked(calls), "estimated_s",
                     np ? json_real_checked(est) : json_null(), "estimated_pct",
                     np && wall_s > 0 ? json_real_checked(100.0 * est / wall_s) : json_null());
}

json_t *collect_to_json(struct collect *c, double median_wall_s, double median_cpu_s)
{
    int n = c->nruns;
    json_t *funcs = json_object();
    const char *key;
    json_t *e;
    json_object_foreach(c->funcs, key, e)
    {
        json_t *calls = json_object_get(e, "calls"), *self = json_object_get(e, "self");
        json_t *total = json_object_get(e, "total"), *cpu = json_object_get(e, "cpu");
        array_pad(calls, n);
        array_pad(self, n);
        array_pad(total, n);
        array_pad(cpu, n);
        double self_s = median_of(self, n), total_s = median_of(total, n);
        json_t *calls_v =
            c->mode == 2 ? json_integer((json_int_t)llround(median_of(calls, n))) : json_null();
        json_t *o = json_pack(
            "{s:s, s:O, s:O, s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:O, s:O, s:O, s:b}", "key", key,
            "file", json_object_get(e, "file"), "name", json_object_get(e, "name"), "line",
            json_object_get(e, "line"), "calls", calls_v, "self_s", json_real_checked(self_s),
            "total_s", json_real_checked(total_s), "self_cpu_s",
            c->mode == 1 ? json_real_checked(median_of(cpu, n)) : json_null(), "self_pct",
            json_real_checked(median_wall_s > 0 ? 100.0 * self_s / median_wall_s : 0), "total_pct",
            json_real_checked(median_wall_s > 0 ? 100.0 * total_s / median_wall_s : 0),
            "self_s_runs", self, "total_s_runs", total, "max_depth",
            json_object_get(e, "max_depth"), "builtin", json_is_true(json_object_get(e, "is_c")));
        json_object_set_new(funcs, key, o);
    }
    json_t *functions = sorted_values(funcs, cmp_total_desc);
    json_decref(funcs);
    json_t *budget = NULL;
    json_t *stacks = budget_stacks(sorted_values(c->stacks, cmp_samples_desc), &budget);
    json_t *threads = sorted_values(c->threads, cmp_samples_desc);
    char note[512];
    json_t *overhead = overhead_json(c, median_wall_s, median_cpu_s, note, sizeof(note));
    json_t *p = json_pack("{s:s, s:o, s:I, s:I, s:s, s:b, s:I, s:o, s:o, s:o, s:O}", "mode",
                          c->mode == 2 ? "trace" : "sample", "interval_s",
                          c->mode == 1 ? json_real(c->interval_s) : json_null(), "samples",
                          (json_int_t)c->samples, "dropped", (json_int_t)c->dropped,
                          "overhead_note", note, "children_followed", 0, "forks",
                          (json_int_t)(c->forks > c->children ? c->forks : c->children), "threads",
                          threads, "functions", functions, "stacks", stacks, "errors", c->errors);
    json_object_set_new(p, "stacks_budget", budget);
    json_object_set_new(p, "overhead", overhead);
    json_object_set_new(p, "sampler_cpu_s",
                        c->mode == 1 ? json_real_checked(median_of(c->sampler_cpu, n))
                                     : json_null());
    return p;
}
