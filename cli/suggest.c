/*
 * suggest.c - the rule table and the engine that runs it.
 *
 * The engine builds a context once (median wall time and CPU %, the function
 * list, the profiling mode), then calls every rule's check function with its
 * own table entry, so a rule reads its thresholds from the table and the
 * table is the single place documentation and `pyscope rules` come from.
 * Rules append suggestion objects to the output array through add().
 *
 * Percentages of a function are of median wall time (docs/json-schema.md);
 * when a report lacks self_pct/total_pct they are derived from the seconds.
 */
#include "suggest.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contended.h"
#include "errors.h"
#include "jsonutil.h"
#include "log.h"
#include "pathnorm.h"
#include "pysource.h"
#include "xmalloc.h"

/* Most named thresholds a rule can have. */
#define SUGGEST_MAX_PARAMS 6
/* Most findings kept per scanned function. */
#define SUGGEST_MAX_FINDINGS 16
/* The largest major schema version this reader knows. */
#define SUGGEST_SCHEMA_MAJOR 1

struct suggest_ctx;
struct suggest_rule;

typedef void suggest_check_fn(const struct suggest_rule *rule, struct suggest_ctx *ctx,
                              json_t *out);

/* A named threshold of a rule. */
struct suggest_param {
    const char *name; /* key in evidence and in `pyscope rules` */
    double value;
};

/* One rule: the whole extension interface. */
struct suggest_rule {
    const char *id;                                  /* stable, used in reports */
    const char *description;                         /* one line, for `pyscope rules` */
    struct suggest_param params[SUGGEST_MAX_PARAMS]; /* ends at the first NULL name */
    suggest_check_fn *check;                         /* emits suggestions into out */
};

/* A hot function's source scan, shared by the idiom rules. */
struct hot_scan {
    const json_t *fn; /* borrowed from the report */
    char *path;       /* file that was read (new) */
    int n;            /* findings, or < 0 when the source was not usable */
    struct pysource_finding f[SUGGEST_MAX_FINDINGS];
};

/* What every rule may read; built once per suggest_analyze() call. */
struct suggest_ctx {
    const json_t *report;    /* borrowed */
    const json_t *functions; /* profile.functions, or NULL */
    const char *mode;        /* "sample", "trace" or NULL */
    double wall_s;           /* median wall time; < 0 when unknown */
    double cpu_s;            /* median CPU time; < 0 when unknown */
    double cpu_pct;          /* median CPU %; < 0 when unknown */
    double queued_pct;    /* median % of wall time waiting for a CPU (contended.h); < 0 unknown */
    double cpu_bound_pct; /* median cpu / (wall - that wait), %; < 0 when unknown */
    double load1;         /* median 1-minute load average; < 0 when unknown */
    const char *source_root; /* borrowed; NULL = "." */
    const char *py_prefix;   /* python.prefix (borrowed), or NULL */
    bool scanned;            /* hot[] computed */
    /* Time of each user function, with that of the library code it calls (stacks'
     * weight where it is the innermost user frame): key -> [weight, cpu weight, top
     * library leaf key or null, its weight]; NULL without stacks. */
    json_t *attr;
    double weight_per_pct; /* stack weight of 1% of runtime; <= 0 when unknown */
    bool cpu_known;        /* the stacks carry on-CPU weights (sampling) */
    const json_t *stacks;  /* profile.stacks, or NULL */
    struct hot_scan *hot;  /* new, n_hot entries */
    size_t n_hot;
};

/* ---- reading the report ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of runs[].key, or -1. */
static double runs_median(const json_t *report, const char *key)
{
    json_t *runs = json_object_get(report, "runs");
    size_t n = json_array_size(runs), k = 0;
    if (n == 0)
        return -1;
    double *v = xcalloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double d;
        if (json_get_finite(json_array_get(runs, i), key, &d) && d >= 0)
            v[k++] = d;
    }
    double m = -1;
    if (k > 0) {
        qsort(v, k, sizeof(double), cmp_double);
        m = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
    }
    free(v);
    return m;
}

/* summary.<key>.median, else the median over runs, else -1. */
static double median_of(const json_t *report, const char *key)
{
    double d;
    json_t *s = json_object_get(json_object_get(report, "summary"), key);
    if (json_get_finite(s, "median", &d) && d >= 0)
        return d;
    return runs_median(report, key);
}

/* A function's share of wall time in percent ("self" or "total"), or -1. */
static double fn_pct(const struct suggest_ctx *ctx, const json_t *fn, const char *which)
{
    char key[16];
    double d;
    snprintf(key, sizeof(key), "%s_pct", which);
    if (json_get_finite(fn, key, &d) && d >= 0)
        return d;
    snprintf(key, sizeof(key), "%s_s", which);
    if (ctx->wall_s > 0 && json_get_finite(fn, key, &d) && d >= 0)
        return 100.0 * d / ctx->wall_s;
    return -1;
}

/* Integer field of fn, or -1 when missing/null/negative. */
static json_int_t fn_int(const json_t *fn, const char *key)
{
    double v; /* a median of counts may be fractional: its whole part */
    return json_get_in(fn, key, 0, 9e15, &v) ? (json_int_t)v : -1;
}

static bool fn_is_module(const json_t *fn)
{
    const char *name = json_get_string(fn, "name", NULL);
    return name && strcmp(name, "<module>") == 0;
}

/* Built-in (C) functions in trace mode: file "~" or a cProfile-style name. */
static bool fn_is_builtin(const json_t *fn)
{
    const char *file = json_get_string(fn, "file", NULL);
    const char *name = json_get_string(fn, "name", NULL);
    return (file && strcmp(file, "~") == 0) ||
           (name && (strncmp(name, "<built-in", 9) == 0 || strncmp(name, "<method", 7) == 0));
}

/* True for files the user cannot change: the standard library and installed packages. */
static bool is_foreign_file(const struct suggest_ctx *ctx, const char *file)
{
    return pathnorm_is_library(file, ctx->py_prefix);
}

/* True for functions that are not the user's code: built-ins, the standard library,
 * installed packages. The rules name the user's function that calls them instead. */
static bool fn_is_library(const struct suggest_ctx *ctx, const json_t *fn)
{
    const char *file = json_get_string(fn, "file", NULL);
    return fn_is_builtin(fn) || (file && is_foreign_file(ctx, file));
}

/* New "file:name" label for messages ("file" alone for module code). */
static char *fn_label(const json_t *fn)
{
    const char *file = json_get_string(fn, "file", NULL);
    const char *name = json_get_string(fn, "name", NULL);
    if (fn_is_builtin(fn) && name)
        return xstrdup(name);
    if (file && name && strcmp(name, "<module>") == 0)
        return xstrdup(file);
    if (file && name)
        return xasprintf("%s:%s", file, name);
    const char *key = json_get_string(fn, "key", NULL);
    return xstrdup(key ? key : name ? name : "?");
}

static double round_to(double x, double step)
{
    return round(x / step) * step;
}

/* "1,234,567" into buf. */
static void fmt_count(char *buf, size_t size, json_int_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%lld", (long long)n);
    size_t w = 0;
    for (int i = 0; i < len && w + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[w++] = ',';
        buf[w++] = digits[i];
    }
    buf[w] = '\0';
}

/* "12.3 MiB" style into buf. */
static void fmt_bytes(char *buf, size_t size, double b)
{
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else
        snprintf(buf, size, "%.0f MiB", b / (1024.0 * 1024));
}

/* ---- building suggestions ---- */

static double param(const struct suggest_rule *rule, const char *name)
{
    for (size_t i = 0; i < SUGGEST_MAX_PARAMS && rule->params[i].name; i++)
        if (strcmp(rule->params[i].name, name) == 0)
            return rule->params[i].value;
    assert(!"unknown rule parameter");
    return NAN;
}

/* Append a suggestion; steals evidence; message is printf-formatted. */
static json_t *add(json_t *out, const struct suggest_rule *rule, const char *severity,
                   const json_t *fn, json_t *evidence, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static json_t *add(json_t *out, const struct suggest_rule *rule, const char *severity,
                   const json_t *fn, json_t *evidence, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        abort();
    va_end(ap);
    const char *key = fn ? json_get_string(fn, "key", NULL) : NULL;
    json_t *s = json_object();
    json_object_set_new(s, "rule", json_string(rule->id));
    json_object_set_new(s, "severity", json_string(severity));
    json_t *k = key ? json_string(key) : NULL;
    json_object_set_new(s, "function", k ? k : json_null());
    json_t *m = json_string(msg);
    json_object_set_new(s, "message", m ? m : json_string("(message not valid UTF-8)"));
    json_object_set_new(s, "evidence", evidence);
    json_array_append_new(out, s);
    free(msg);
    return s;
}

/* ---- the user's code: library time attributed to its caller ---- */

static const json_t *find_fn(const struct suggest_ctx *ctx, const char *key)
{
    size_t i;
    json_t *fn;
    json_array_foreach(ctx->functions, i, fn)
    {
        const char *k = json_get_string(fn, "key", NULL);
        if (k && strcmp(k, key) == 0)
            return fn;
    }
    return NULL;
}

/* Build ctx->attr from profile.stacks (frames root first, "samples" weight). */
static void build_attr(struct suggest_ctx *ctx)
{
    if (!json_is_array(ctx->stacks) || !ctx->functions)
        return;
    json_t *lib = json_object(); /* key -> true for library functions */
    size_t i;
    json_t *fn;
    double self_pct_sum = 0;
    json_array_foreach(ctx->functions, i, fn)
    {
        const char *k = json_get_string(fn, "key", NULL);
        double p = fn_pct(ctx, fn, "self");
        if (k && fn_is_library(ctx, fn))
            json_object_set_new(lib, k, json_true());
        if (p > 0)
            self_pct_sum += p;
    }
    ctx->attr = json_object();
    double total = 0, cpu_total = 0;
    json_t *st;
    json_array_foreach(ctx->stacks, i, st)
    {
        const json_t *frames = json_object_get(st, "frames");
        double w, cw = 0;
        if (!json_is_array(frames) || !json_get_finite(st, "samples", &w) || w <= 0)
            continue;
        bool has_cpu = json_get_finite(st, "cpu_samples", &cw) && cw >= 0;
        total += w;
        cpu_total += has_cpu ? cw : 0;
        size_t n = json_array_size(frames);
        const char *leaf = n ? json_string_value(json_array_get(frames, n - 1)) : NULL;
        const char *user = NULL;
        for (size_t k = n; k-- > 0 && !user;) {
            const char *key = json_string_value(json_array_get(frames, k));
            if (key && !json_object_get(lib, key) && !(key[0] == '~'))
                user = key;
        }
        if (!user)
            continue;
        json_t *a = json_object_get(ctx->attr, user);
        if (!a) {
            a = json_pack("[f, f, n, f]", 0.0, 0.0, 0.0);
            json_object_set_new(ctx->attr, user, a);
        }
        json_array_set_new(a, 0, json_real(json_real_value(json_array_get(a, 0)) + w));
        json_array_set_new(a, 1, json_real(json_real_value(json_array_get(a, 1)) + cw));
        if (leaf && strcmp(leaf, user) != 0) {
            /* the heaviest library leaf under it: weights per (user, leaf) pair */
            char *pair = xasprintf("%s\n%s", user, leaf);
            json_t *pw = json_object_get(lib, pair);
            double v = (pw ? json_real_value(pw) : 0) + w;
            json_object_set_new(lib, pair, json_real(v));
            if (v > json_real_value(json_array_get(a, 3))) {
                json_array_set_new(a, 2, json_string(leaf));
                json_array_set_new(a, 3, json_real(v));
            }
            free(pair);
        }
    }
    json_decref(lib);
    ctx->weight_per_pct = self_pct_sum > 0 ? total / self_pct_sum : 0;
    ctx->cpu_known = cpu_total > 0;
}

/* fn's share of runtime with the library code it calls; its own self share without stacks. */
static double attr_pct(const struct suggest_ctx *ctx, const json_t *fn)
{
    const json_t *a =
        ctx->attr ? json_object_get(ctx->attr, json_get_string(fn, "key", NULL)) : NULL;
    if (!a || ctx->weight_per_pct <= 0)
        return ctx->attr && ctx->weight_per_pct > 0 ? 0 : fn_pct(ctx, fn, "self");
    return json_real_value(json_array_get(a, 0)) / ctx->weight_per_pct;
}

/* True when some stack has ancestor above descendant (descendant called under it). */
static bool called_under(const struct suggest_ctx *ctx, const char *ancestor,
                         const char *descendant)
{
    size_t i;
    json_t *st;
    json_array_foreach(ctx->stacks, i, st)
    {
        bool seen = false;
        size_t k;
        json_t *f;
        json_array_foreach(json_object_get(st, "frames"), k, f)
        {
            const char *key = json_string_value(f);
            if (!key)
                continue;
            if (seen && strcmp(key, descendant) == 0)
                return true;
            seen = seen || strcmp(key, ancestor) == 0;
        }
    }
    return false;
}

/* Read the source of fn (under ctx->source_root): new buffer, or NULL. */
static char *fn_source(const struct suggest_ctx *ctx, const json_t *fn, size_t *len)
{
    const char *file = json_get_string(fn, "file", NULL);
    if (!file || !file[0] || is_foreign_file(ctx, file))
        return NULL;
    char *path = NULL, err[256], *src = NULL;
    int rc = file[0] == '/' ? (path = xstrdup(file), 0)
                            : pathnorm_resolve_inside(ctx->source_root ? ctx->source_root : ".",
                                                      file, &path, err, sizeof(err));
    if (rc == 0 && pysource_read_file(path, &src, len) < 0)
        src = NULL;
    free(path);
    return src;
}

/* What the source says of fn's arguments as a cache key (functools.lru_cache). */
static enum pysource_hash fn_hashable(const struct suggest_ctx *ctx, const json_t *fn, char *why,
                                      size_t whylen)
{
    snprintf(why, whylen, "the source could not be read");
    size_t len;
    char *src = fn_source(ctx, fn, &len);
    const char *name = json_get_string(fn, "name", NULL);
    if (!src || !name || fn_int(fn, "line") < 1) {
        free(src);
        return PYSOURCE_HASH_UNKNOWN;
    }
    const char *dot = strrchr(name, '.'); /* Class.method: the method's own name */
    enum pysource_hash h = pysource_args_hashable(src, len, (int)fn_int(fn, "line"),
                                                  dot ? dot + 1 : name, why, whylen);
    free(src);
    return h;
}

/* The advice on caching fn's results, as its arguments allow (static text). */
static const char *cache_advice(enum pysource_hash h)
{
    switch (h) {
    case PYSOURCE_HASH_YES:
        return "Memoize it (functools.lru_cache: its arguments are hashable)";
    case PYSOURCE_HASH_NO:
        return "Its arguments are not hashable, so functools.lru_cache would raise TypeError: "
               "cache the results in a dict keyed by a hashable form of them (a tuple, or the "
               "id() of an object that does not change)";
    case PYSOURCE_HASH_UNKNOWN:
    default:
        return "If its arguments are hashable (numbers, strings, tuples; not lists, dicts, sets "
               "or objects with __eq__ but no __hash__), memoize it with functools.lru_cache, "
               "else cache the results in a dict keyed by a hashable form of them";
    }
}

/* ---- rules ---- */

/* Whether the module's top-level code has a loop: 1 yes, 0 no, -1 unknown (no source). */
static int module_has_loop(const struct suggest_ctx *ctx, const json_t *fn)
{
    size_t len;
    char *src = fn_source(ctx, fn, &len);
    if (!src)
        return -1;
    int n = pysource_count_loops(src, len, 0);
    free(src);
    return n < 0 ? -1 : n > 0;
}

/* The run kept a CPU busy whenever it had one (contended.h): time off the CPU was
 * waiting for one, not for I/O, sleeps or locks. The run-queue delays of a script's
 * threads add up: when together they waited for a CPU at least as long as the wall
 * time, cpu / (wall - that wait) has no finite value (cpu_bound_pct unknown) and the
 * threads that had work were starved of a CPU all along. */
static bool cpu_starved(const struct suggest_ctx *ctx)
{
    if (ctx->queued_pct < CONTENDED_WALL_PCT)
        return false;
    return ctx->cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT ||
           (ctx->cpu_bound_pct < 0 && ctx->queued_pct >= 100 && ctx->cpu_pct > 0);
}

/* Longer than 100 lines, kept whole: one rule, whose steps (the dominant function, how
 * much of it is on the CPU, the library code it calls, its waits) each add to the same
 * suggestion and its evidence. */
static void check_dominant(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double thr_self = param(rule, "threshold_self_pct");
    double thr_total = param(rule, "threshold_total_pct");
    double entry = param(rule, "entry_chain_pct");
    double offcpu = param(rule, "off_cpu_ratio");
    const json_t *best = NULL;
    double best_pct = -1;
    size_t i;
    json_t *fn;

    /* self time first: one function doing the work itself, or through library code it
     * calls (json.dumps, sorted ...): the user's function is named, never the library's */
    json_array_foreach(ctx->functions, i, fn)
    {
        double p = attr_pct(ctx, fn);
        if (!fn_is_library(ctx, fn) && p >= thr_self && p > best_pct) {
            best = fn;
            best_pct = p;
        }
    }
    const char *basis = "self";
    if (!best) {
        /* total time: the most specific function over the threshold, below the entry chain;
         * on a tie, the callee (a wrapper has the same total as what it wraps) */
        basis = "total";
        json_array_foreach(ctx->functions, i, fn)
        {
            double p = fn_pct(ctx, fn, "total");
            if (fn_is_library(ctx, fn) || fn_is_module(fn) || p < thr_total || p >= entry)
                continue;
            bool tie = best && fabs(p - best_pct) < 0.05;
            if (!best || (p < best_pct && !tie) ||
                (tie && called_under(ctx, json_get_string(best, "key", NULL),
                                     json_get_string(fn, "key", NULL)))) {
                best = fn;
                best_pct = p;
            }
        }
    }
    if (!best)
        return;
    bool self = strcmp(basis, "self") == 0;
    char *label = fn_label(best);
    json_t *ev = json_object();
    json_object_set_new(ev, self ? "self_pct" : "total_pct", json_real(round_to(best_pct, 0.1)));
    json_object_set_new(ev, "threshold_pct", json_real(self ? thr_self : thr_total));
    json_object_set_new(ev, "basis", json_string(basis));
    /* how much of it is on the CPU: its own samples, the stacks', else the whole script's */
    double self_s, self_cpu_s, on = -1;
    const json_t *a =
        ctx->attr ? json_object_get(ctx->attr, json_get_string(best, "key", NULL)) : NULL;
    if (self && a && ctx->cpu_known && json_real_value(json_array_get(a, 0)) > 0)
        on = json_real_value(json_array_get(a, 1)) / json_real_value(json_array_get(a, 0));
    else if (self && json_get_finite(best, "self_s", &self_s) &&
             json_get_finite(best, "self_cpu_s", &self_cpu_s) && self_s > 0)
        on = self_cpu_s / self_s;
    bool waits = on >= 0 && on < offcpu;
    bool script_idle = on < 0 && ctx->cpu_pct >= 0 && ctx->cpu_pct < 100 * offcpu;
    /* time in library code it calls */
    double own = fn_pct(ctx, best, "self");
    const char *leaf = a ? json_string_value(json_array_get(a, 2)) : NULL;
    double leaf_pct = leaf && ctx->weight_per_pct > 0
                          ? json_real_value(json_array_get(a, 3)) / ctx->weight_per_pct
                          : 0;
    char *lib = NULL;
    if (self && leaf && leaf_pct >= best_pct / 2 && own < best_pct / 2) {
        const json_t *lf = find_fn(ctx, leaf);
        char *ll = lf ? fn_label(lf) : xstrdup(leaf);
        lib = xasprintf(", mostly in library code it calls ('%s', %.0f%%)", ll, leaf_pct);
        json_object_set_new(ev, "own_self_pct", json_real(round_to(own < 0 ? 0 : own, 0.1)));
        json_object_set_new(ev, "library_function", json_string(leaf));
        json_object_set_new(ev, "library_pct", json_real(round_to(leaf_pct, 0.1)));
        free(ll);
    }
    const char *what = fn_is_module(best) ? "Top-level code of" : "Function";
    /* a share above 100% adds up the function's time in several threads */
    const char *sum = best_pct > 100 ? " of the wall time, summed over threads" : "";
    if (waits) {
        json_object_set_new(ev, "on_cpu_pct", json_real(round_to(100 * on, 0.1)));
        json_object_set_new(ev, "off_cpu_ratio_threshold", json_real(offcpu));
    } else if (script_idle) {
        json_object_set_new(ev, "script_cpu_pct", json_real(round_to(ctx->cpu_pct, 0.1)));
    }
    if ((waits || script_idle) && cpu_starved(ctx)) {
        /* off the CPU because none was free, not because it waits on something */
        json_object_set_new(ev, "queued_pct", json_real(round_to(ctx->queued_pct, 0.1)));
        char share[96];
        if (waits)
            snprintf(share, sizeof(share), "It was on the CPU only %.0f%% of that time", 100 * on);
        else /* no per-function CPU time (trace mode) */
            snprintf(share, sizeof(share), "The script kept only %.0f%% of one CPU core busy",
                     ctx->cpu_pct);
        add(out, rule, "info", best, ev,
            "%s '%s' dominates runtime (%.0f%%%s%s). %s because it was waiting for a CPU (the "
            "machine was busy: the script queued %.0f%% of its wall time%s), not for I/O. "
            "Consider optimizing its algorithm or reducing repeated work.",
            what, label, best_pct, sum, lib ? lib : "", share, ctx->queued_pct,
            ctx->queued_pct >= 100 ? ", summed over its threads" : "");
    } else if (waits) {
        add(out, rule, "info", best, ev,
            "%s '%s' dominates runtime (%.0f%%%s%s) but is on the CPU only %.0f%% of that "
            "time: it waits on I/O, sleeps or locks. Consider overlapping or batching the waits.",
            what, label, best_pct, sum, lib ? lib : "", 100 * on);
    } else if (script_idle) {
        /* no per-function CPU time (trace mode) and the script was mostly off the CPU: no
         * claim of a hot loop */
        add(out, rule, "info", best, ev,
            "%s '%s' takes %.0f%% of the runtime%s, but the script kept only %.0f%% of one CPU "
            "core busy: most of that time is spent off the CPU (waiting, sleeping, or "
            "waiting for a CPU), not computing.",
            what, label, best_pct, lib ? lib : "", ctx->cpu_pct);
    } else if (lib) {
        add(out, rule, "info", best, ev,
            "%s '%s' dominates runtime (%.0f%%%s%s). Consider calling it less often or on less "
            "data, or a faster way to do the same work.",
            what, label, best_pct, sum, lib);
    } else if (fn_is_module(best)) {
        int loop = module_has_loop(ctx, best);
        json_object_set_new(ev, "top_level_loop", loop < 0 ? json_null() : json_boolean(loop));
        if (loop == 1)
            add(out, rule, "info", best, ev,
                "Top-level code of '%s' dominates runtime (%.0f%%%s). Consider moving the hot loop "
                "into a function (local variables are faster) and optimizing its algorithm.",
                label, best_pct, sum);
        else
            add(out, rule, "info", best, ev,
                "Top-level code of '%s' dominates runtime (%.0f%%%s). Consider optimizing what it "
                "does, and moving the work into functions (local variables are faster).",
                label, best_pct, sum);
    } else {
        add(out, rule, "info", best, ev,
            "Function '%s' dominates runtime (%.0f%%%s). Consider optimizing its algorithm or "
            "reducing repeated work.",
            label, best_pct, sum);
    }
    free(lib);
    free(label);
}

/* Order of candidate functions by descending share. */
struct cand {
    const json_t *fn;
    double pct;
};

static int cmp_cand(const void *a, const void *b)
{
    double x = ((const struct cand *)a)->pct, y = ((const struct cand *)b)->pct;
    return (x < y) - (x > y);
}

static void check_cheap_calls(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double min_calls = param(rule, "min_calls");
    double max_us = param(rule, "max_us_per_call");
    double min_pct = param(rule, "min_total_pct");
    size_t max_reports = (size_t)param(rule, "max_reports");
    if (ctx->mode && strcmp(ctx->mode, "sample") == 0)
        return; /* call counts are unknown when sampling */
    size_t n = json_array_size(ctx->functions), k = 0, i;
    struct cand *c = xcalloc(n ? n : 1, sizeof(*c));
    json_t *fn;
    json_array_foreach(ctx->functions, i, fn)
    {
        json_int_t calls = fn_int(fn, "calls");
        double total_s, pct = fn_pct(ctx, fn, "total");
        /* recursive functions count every recursive call: deep-recursion covers them */
        if (fn_is_library(ctx, fn) || fn_is_module(fn) || calls < 1 || (double)calls < min_calls ||
            !json_get_finite(fn, "total_s", &total_s) || pct < min_pct ||
            fn_int(fn, "max_depth") > 1)
            continue;
        if (1e6 * total_s / (double)calls <= max_us)
            c[k++] = (struct cand){fn, pct};
    }
    qsort(c, k, sizeof(*c), cmp_cand);
    for (i = 0; i < k && i < max_reports; i++) {
        json_int_t calls = fn_int(c[i].fn, "calls");
        double total_s = 0;
        json_get_finite(c[i].fn, "total_s", &total_s);
        double us = 1e6 * total_s / (double)calls;
        char *label = fn_label(c[i].fn);
        char ncalls[40];
        fmt_count(ncalls, sizeof(ncalls), calls);
        json_t *ev =
            json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "calls", (json_int_t)calls, "us_per_call",
                      round_to(us, 0.001), "total_pct", round_to(c[i].pct, 0.1), "threshold_calls",
                      min_calls, "threshold_us_per_call", max_us, "threshold_total_pct", min_pct);
        char why[160];
        enum pysource_hash h = fn_hashable(ctx, c[i].fn, why, sizeof(why));
        json_object_set_new(ev, "args_hashable",
                            h == PYSOURCE_HASH_UNKNOWN ? json_null()
                                                       : json_boolean(h == PYSOURCE_HASH_YES));
        add(out, rule, "info", c[i].fn, ev,
            "Function '%s' is called %s times at %.2f us per call (%.0f%% of runtime): call "
            "overhead dominates. Consider inlining it into the caller's loop, %s, or "
            "vectorizing the loop.",
            label, ncalls, us, c[i].pct,
            h == PYSOURCE_HASH_YES  ? "caching its results (functools.lru_cache: its arguments "
                                      "are hashable)"
            : h == PYSOURCE_HASH_NO ? "caching its results in a dict keyed by a hashable form "
                                      "of its arguments (they are not hashable: "
                                      "functools.lru_cache would raise TypeError)"
                                    : "caching its results (functools.lru_cache, if its "
                                      "arguments are hashable)");
        free(label);
    }
    free(c);
}

static void check_recursion(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double max_depth_thr = param(rule, "max_depth");
    double min_calls = param(rule, "min_calls");
    double per_depth = param(rule, "calls_per_depth");
    double min_pct = param(rule, "min_total_pct");
    size_t max_reports = (size_t)param(rule, "max_reports");
    size_t n = json_array_size(ctx->functions), k = 0, i;
    struct cand *c = xcalloc(n ? n : 1, sizeof(*c));
    json_t *fn;
    json_array_foreach(ctx->functions, i, fn)
    {
        json_int_t depth = fn_int(fn, "max_depth");
        json_int_t calls = fn_int(fn, "calls");
        double pct = fn_pct(ctx, fn, "total");
        if (fn_is_library(ctx, fn) || fn_is_module(fn) || depth < 2 || pct < min_pct)
            continue;
        bool branching =
            calls >= 0 && (double)calls >= min_calls && (double)calls >= per_depth * (double)depth;
        if (branching || (double)depth >= max_depth_thr)
            c[k++] = (struct cand){fn, pct};
    }
    qsort(c, k, sizeof(*c), cmp_cand);
    for (i = 0; i < k && i < max_reports; i++) {
        json_int_t depth = fn_int(c[i].fn, "max_depth");
        json_int_t calls = fn_int(c[i].fn, "calls");
        bool branching =
            calls >= 0 && (double)calls >= min_calls && (double)calls >= per_depth * (double)depth;
        char *label = fn_label(c[i].fn);
        json_t *ev = json_pack("{s:I, s:f, s:f, s:f}", "max_depth", (json_int_t)depth, "total_pct",
                               round_to(c[i].pct, 0.1), "threshold_max_depth", max_depth_thr,
                               "threshold_total_pct", min_pct);
        if (calls >= 0)
            json_object_set_new(ev, "calls", json_integer(calls));
        if (branching) {
            char ncalls[40];
            fmt_count(ncalls, sizeof(ncalls), calls);
            json_object_set_new(ev, "threshold_calls", json_real(min_calls));
            json_object_set_new(ev, "threshold_calls_per_depth", json_real(per_depth));
            char why[160];
            enum pysource_hash h = fn_hashable(ctx, c[i].fn, why, sizeof(why));
            json_object_set_new(ev, "args_hashable",
                                h == PYSOURCE_HASH_UNKNOWN ? json_null()
                                                           : json_boolean(h == PYSOURCE_HASH_YES));
            json_object_set_new(ev, "args_hashable_why", json_string(why));
            add(out, rule, c[i].pct >= 50 ? "warning" : "info", c[i].fn, ev,
                "Function '%s' recurses %s times with depth up to %lld (%.0f%% of runtime): it "
                "likely solves the same subproblems again and again. %s; or rewrite it "
                "iteratively.",
                label, ncalls, (long long)depth, c[i].pct, cache_advice(h));
        } else {
            add(out, rule, "info", c[i].fn, ev,
                "Function '%s' recurses %lld deep (%.0f%% of runtime). Python calls are costly "
                "and the default recursion limit is 1000; consider an explicit stack or a loop "
                "(and caching results if the same calls repeat).",
                label, (long long)depth, c[i].pct);
        }
        free(label);
    }
    free(c);
}

static void check_io_wait(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double max_cpu = param(rule, "max_cpu_pct");
    double min_wall = param(rule, "min_wall_s");
    double min_fn_pct = param(rule, "min_function_pct");
    /* waiting for a CPU is not waiting on I/O: count it as wanting the CPU (cpu-starved) */
    double wanted = ctx->cpu_pct + (ctx->queued_pct > 0 ? ctx->queued_pct : 0);
    if (ctx->cpu_pct < 0 || ctx->wall_s < min_wall || wanted >= max_cpu)
        return;
    /* where it waits: the most off-CPU self time (sampling), or the heaviest built-in (trace) */
    const json_t *where = NULL;
    double where_pct = 0;
    size_t i;
    json_t *fn;
    json_array_foreach(ctx->functions, i, fn)
    {
        double self_s, self_cpu_s, p = -1;
        const json_t *a =
            ctx->attr ? json_object_get(ctx->attr, json_get_string(fn, "key", NULL)) : NULL;
        if (fn_is_library(ctx, fn) && !fn_is_builtin(fn) && ctx->attr)
            continue; /* library code: its time counts for the user's function calling it */
        if (a && ctx->cpu_known && ctx->weight_per_pct > 0)
            p = (json_real_value(json_array_get(a, 0)) - json_real_value(json_array_get(a, 1))) /
                ctx->weight_per_pct;
        else if (json_get_finite(fn, "self_s", &self_s) &&
                 json_get_finite(fn, "self_cpu_s", &self_cpu_s) && ctx->wall_s > 0 &&
                 self_s >= self_cpu_s)
            p = 100.0 * (self_s - self_cpu_s) / ctx->wall_s;
        else if (fn_is_builtin(fn))
            p = fn_pct(ctx, fn, "self");
        if (p >= min_fn_pct && p > where_pct) {
            where = fn;
            where_pct = p;
        }
    }
    json_t *ev = json_pack("{s:f, s:f, s:f, s:f}", "cpu_pct", round_to(ctx->cpu_pct, 0.1), "wall_s",
                           round_to(ctx->wall_s, 0.001), "threshold_cpu_pct", max_cpu,
                           "threshold_wall_s", min_wall);
    if (ctx->queued_pct >= 0)
        json_object_set_new(ev, "queued_pct", json_real(round_to(ctx->queued_pct, 0.1)));
    const char *sev = ctx->cpu_pct < 25 ? "warning" : "info";
    if (where) {
        char *label = fn_label(where);
        json_object_set_new(ev, "function_off_cpu_pct", json_real(round_to(where_pct, 0.1)));
        add(out, rule, sev, where, ev,
            "The script kept only %.0f%% of one CPU core busy over %.2f s: it mostly waits on "
            "I/O, sleeps or locks, most of all in '%s' (%.0f%% of runtime). Consider overlapping "
            "the waits (threads, asyncio, concurrent.futures) or batching the I/O.",
            ctx->cpu_pct, ctx->wall_s, label, where_pct);
        free(label);
    } else {
        add(out, rule, sev, NULL, ev,
            "The script kept only %.0f%% of one CPU core busy over %.2f s: it mostly waits on "
            "I/O, sleeps or locks. Consider overlapping the waits (threads, asyncio, "
            "concurrent.futures) or batching the I/O.",
            ctx->cpu_pct, ctx->wall_s);
    }
}

/* Waiting for a CPU: runnable, but every core busy (contended.h). Told apart from
 * io-wait: the time off the CPU was the machine's, not the script's. */
static void check_cpu_starved(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double min_queued = param(rule, "min_queued_pct");
    double min_wall = param(rule, "min_wall_s");
    if (ctx->queued_pct < min_queued || ctx->wall_s < min_wall)
        return;
    json_t *ev = json_pack("{s:f, s:f, s:f, s:f}", "queued_pct", round_to(ctx->queued_pct, 0.1),
                           "wall_s", round_to(ctx->wall_s, 0.001), "threshold_queued_pct",
                           min_queued, "threshold_wall_s", min_wall);
    if (ctx->cpu_pct >= 0)
        json_object_set_new(ev, "cpu_pct", json_real(round_to(ctx->cpu_pct, 0.1)));
    if (ctx->cpu_bound_pct >= 0)
        json_object_set_new(ev, "cpu_bound_pct", json_real(round_to(ctx->cpu_bound_pct, 0.1)));
    char load[96] = "";
    long long cores = 0;
    const json_t *c = json_object_get(json_object_get(ctx->report, "host"), "cores");
    if (json_is_integer(c))
        cores = json_integer_value(c);
    if (ctx->load1 >= 0) {
        json_object_set_new(ev, "load1", json_real(round_to(ctx->load1, 0.01)));
        if (cores > 0)
            snprintf(load, sizeof(load), ": load %.1f on %lld core%s", ctx->load1, cores,
                     cores == 1 ? "" : "s");
        else
            snprintf(load, sizeof(load), ": load %.1f", ctx->load1);
    }
    const char *sev = ctx->queued_pct >= CONTENDED_REPEAT_PCT ? "warning" : "info";
    bool bound = ctx->cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT;
    add(out, rule, sev, NULL, ev,
        "The script waited for a CPU %.0f%% of its wall time: it was ready to run, but the "
        "machine was busy%s. %sIts wall time measures the machine's load as much as the code: "
        "compare CPU time (or instruction counts, --instructions), or run it on a quieter "
        "machine.",
        ctx->queued_pct, load,
        bound ? "It kept a CPU busy whenever it had one (CPU-bound), so this is not I/O or "
                "sleeping. "
              : "");
}

static void check_memory(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    double min_points = param(rule, "min_points");
    double min_peak = param(rule, "min_peak_mib") * 1024 * 1024;
    double min_ratio = param(rule, "min_growth_ratio");
    double min_r2 = param(rule, "min_r2");
    double fast = param(rule, "fast_mib_per_s") * 1024 * 1024;
    json_t *tl = json_object_get(ctx->report, "memory_timeline");
    size_t n = json_array_size(tl), k = 0, i;
    if ((double)n < min_points)
        return;
    double *t = xcalloc(n, sizeof(double)), *m = xcalloc(n, sizeof(double));
    json_t *pt;
    json_array_foreach(tl, i, pt)
    {
        json_t *a = json_array_get(pt, 0), *b = json_array_get(pt, 1);
        if (json_array_size(pt) < 2 || !json_is_number(a) || !json_is_number(b))
            continue;
        double ta = json_number_value(a), mb = json_number_value(b);
        if (!isfinite(ta) || !isfinite(mb) || mb < 0 || (k > 0 && ta < t[k - 1]))
            continue; /* out of order or bad: ignore the point */
        t[k] = ta;
        m[k++] = mb;
    }
    size_t peak_i = 0;
    for (i = 1; i < k; i++)
        if (m[i] > m[peak_i])
            peak_i = i;
    /* least squares over the rise: from the start up to the peak */
    size_t np = peak_i + 1;
    double slope = 0, r2 = 0;
    if (np >= 3 && t[peak_i] > t[0]) {
        double st = 0, sm = 0, stt = 0, stm = 0, smm = 0;
        for (i = 0; i < np; i++) {
            st += t[i];
            sm += m[i];
        }
        double mt = st / (double)np, mm = sm / (double)np;
        for (i = 0; i < np; i++) {
            stt += (t[i] - mt) * (t[i] - mt);
            stm += (t[i] - mt) * (m[i] - mm);
            smm += (m[i] - mm) * (m[i] - mm);
        }
        if (stt > 0) {
            slope = stm / stt;
            r2 = smm > 0 ? (stm * stm) / (stt * smm) : 0;
        }
    }
    double start = k > 0 ? m[0] : 0, peak = k > 0 ? m[peak_i] : 0, last = k > 0 ? m[k - 1] : 0;
    bool steady = r2 >= min_r2;
    bool trigger = (double)k >= min_points && start > 0 && peak >= min_peak &&
                   peak / start >= min_ratio && slope > 0 && (steady || slope >= fast);
    if (trigger) {
        char s0[32], s1[32], s2[32];
        fmt_bytes(s0, sizeof(s0), start);
        fmt_bytes(s1, sizeof(s1), peak);
        fmt_bytes(s2, sizeof(s2), slope);
        bool kept = last >= 0.9 * peak;
        json_t *ev = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "start_bytes",
                               start, "peak_bytes", peak, "last_bytes", last, "slope_bytes_per_s",
                               round_to(slope, 1), "r2", round_to(r2, 0.001), "growth_ratio",
                               round_to(peak / start, 0.01), "threshold_peak_bytes", min_peak,
                               "threshold_growth_ratio", min_ratio, "threshold_r2", min_r2,
                               "threshold_fast_bytes_per_s", fast);
        add(out, rule, steady && kept ? "warning" : "info", NULL, ev,
            "Memory grows %s from %s to %s (%s/s)%s: possibly a leak or a large accumulation. "
            "Consider generators or streaming instead of building large lists, and dropping "
            "references you no longer need.",
            steady ? "steadily" : "fast", s0, s1, s2, kept ? " and is not released" : "");
    }
    free(t);
    free(m);
}

/* Read and scan the hot functions' sources once, for all idiom rules. */
static void scan_hot(struct suggest_ctx *ctx, double min_pct, size_t max_fns)
{
    ctx->scanned = true;
    size_t n = json_array_size(ctx->functions), k = 0, i;
    struct cand *c = xcalloc(n ? n : 1, sizeof(*c));
    json_t *fn;
    json_array_foreach(ctx->functions, i, fn)
    {
        const char *file = json_get_string(fn, "file", NULL);
        double pct = fn_pct(ctx, fn, "total");
        if (!file || !file[0] || fn_is_builtin(fn) || pct < min_pct || is_foreign_file(ctx, file) ||
            fn_int(fn, "line") < 0)
            continue;
        c[k++] = (struct cand){fn, pct};
    }
    qsort(c, k, sizeof(*c), cmp_cand);
    ctx->n_hot = k < max_fns ? k : max_fns;
    ctx->hot = xcalloc(ctx->n_hot ? ctx->n_hot : 1, sizeof(*ctx->hot));
    for (i = 0; i < ctx->n_hot; i++) {
        struct hot_scan *h = &ctx->hot[i];
        const char *file = json_get_string(c[i].fn, "file", NULL);
        h->fn = c[i].fn;
        h->n = -1;
        char err[256];
        int rc = 0;
        if (file[0] == '/')
            h->path = xstrdup(file);
        else
            rc = pathnorm_resolve_inside(ctx->source_root ? ctx->source_root : ".", file, &h->path,
                                         err, sizeof(err));
        if (rc < 0) {
            log_debug("suggest: no source for \"%s\": %s", file, err);
            continue;
        }
        char *src;
        size_t len;
        rc = pysource_read_file(h->path, &src, &len);
        if (rc < 0) {
            log_debug("suggest: could not read \"%s\": %s", h->path, pyscope_strerror(rc));
            continue;
        }
        int first = fn_is_module(c[i].fn) ? 0 : (int)fn_int(c[i].fn, "line");
        h->n = pysource_scan(src, len, first, h->f, SUGGEST_MAX_FINDINGS);
        free(src);
    }
    free(c);
}

/* True when an earlier hot function already reported this file and line for idiom. */
static bool reported_before(const struct suggest_ctx *ctx, size_t upto, enum pysource_idiom id,
                            int line)
{
    for (size_t i = 0; i < upto; i++) {
        const struct hot_scan *h = &ctx->hot[i];
        if (!h->path || strcmp(h->path, ctx->hot[upto].path) != 0)
            continue;
        for (int j = 0; j < h->n; j++)
            if (h->f[j].idiom == id && h->f[j].line == line)
                return true;
    }
    return false;
}

static void check_idiom(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out,
                        enum pysource_idiom idiom)
{
    double min_pct = param(rule, "min_total_pct");
    size_t max_fns = (size_t)param(rule, "max_functions");
    if (!ctx->scanned)
        scan_hot(ctx, min_pct, max_fns);
    for (size_t i = 0; i < ctx->n_hot; i++) {
        const struct hot_scan *h = &ctx->hot[i];
        double pct = fn_pct(ctx, h->fn, "total");
        if (pct < min_pct)
            continue;
        for (int j = 0; j < h->n; j++) {
            const struct pysource_finding *f = &h->f[j];
            if (f->idiom != idiom || reported_before(ctx, i, idiom, f->line))
                continue;
            char *label = fn_label(h->fn);
            json_t *ev = json_pack("{s:f, s:f, s:i, s:s}", "total_pct", round_to(pct, 0.1),
                                   "threshold_total_pct", min_pct, "loop_line", f->loop_line,
                                   "call", f->call);
            json_t *s;
            if (idiom == PYSOURCE_IDIOM_REGEX_IN_LOOP && strcmp(f->call, "re.compile") == 0)
                s = add(out, rule, "info", h->fn, ev,
                        "'%s' runs inside a loop in '%s' (line %d, loop at line %d), a function "
                        "taking %.0f%% of runtime: the pattern is compiled or looked up again on "
                        "every iteration. Compile it once before the loop and reuse it.",
                        f->call, label, f->line, f->loop_line, pct);
            else if (idiom == PYSOURCE_IDIOM_REGEX_IN_LOOP)
                s = add(out, rule, "info", h->fn, ev,
                        "'%s' with a constant pattern runs inside a loop in '%s' (line %d, loop "
                        "at line %d), a function taking %.0f%% of runtime: each call looks the "
                        "pattern up in re's cache. Compile it once before the loop "
                        "(pat = re.compile(...)) and call the pattern's method.",
                        f->call, label, f->line, f->loop_line, pct);
            else
                s = add(out, rule, "info", h->fn, ev,
                        "String '%s' is extended with += inside a loop in '%s' (line %d, loop at "
                        "line %d), a function taking %.0f%% of runtime: each += may copy the "
                        "whole string. Collect the pieces in a list and ''.join() them, or "
                        "write to io.StringIO.",
                        f->target, label, f->line, f->loop_line, pct);
            json_object_set_new(s, "line", json_integer(f->line));
            free(label);
        }
    }
}

static void check_regex(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    check_idiom(rule, ctx, out, PYSOURCE_IDIOM_REGEX_IN_LOOP);
}

static void check_concat(const struct suggest_rule *rule, struct suggest_ctx *ctx, json_t *out)
{
    check_idiom(rule, ctx, out, PYSOURCE_IDIOM_STR_CONCAT_IN_LOOP);
}

/* ---- the table: add a rule here (and to docs/suggestions.md) ---- */

static const struct suggest_rule rules[] = {
    {"dominant-function",
     "one function's self time, or else total time below the entry chain, is most of the runtime",
     {{"threshold_self_pct", 50},
      {"threshold_total_pct", 50},
      {"entry_chain_pct", 95},
      {"off_cpu_ratio", 0.5}},
     check_dominant},
    {"many-cheap-calls",
     "a function is called very often and each call is tiny (trace mode: call counts known)",
     {{"min_calls", 10000}, {"max_us_per_call", 10}, {"min_total_pct", 10}, {"max_reports", 3}},
     check_cheap_calls},
    {"deep-recursion",
     "a function recurses very deep, or recurses with many more calls than depth (naive fib)",
     {{"max_depth", 50},
      {"min_calls", 1000},
      {"calls_per_depth", 20},
      {"min_total_pct", 5},
      {"max_reports", 3}},
     check_recursion},
    {"io-wait",
     "average CPU use is low while wall time is significant: the script waits",
     {{"max_cpu_pct", 50}, {"min_wall_s", 0.5}, {"min_function_pct", 10}},
     check_io_wait},
    {"cpu-starved",
     "the script waited long for a CPU (runnable, every core busy): the machine was busy, "
     "not the script waiting on I/O",
     {{"min_queued_pct", 20}, {"min_wall_s", 0.2}},
     check_cpu_starved},
    {"memory-growth",
     "resident memory rises steadily or fast to a high peak",
     {{"min_points", 5},
      {"min_peak_mib", 100},
      {"min_growth_ratio", 2},
      {"min_r2", 0.7},
      {"fast_mib_per_s", 100}},
     check_memory},
    {"regex-in-loop",
     "re.compile(), or re.match/search/... with a constant pattern, inside a loop of a hot "
     "function",
     {{"min_total_pct", 10}, {"max_functions", 5}},
     check_regex},
    {"str-concat-in-loop",
     "a string built with += inside a loop of a hot function",
     {{"min_total_pct", 10}, {"max_functions", 5}},
     check_concat},
};

#define N_RULES (sizeof(rules) / sizeof(rules[0]))

size_t suggest_rule_count(void)
{
    return N_RULES;
}

const char *suggest_rule_id(size_t i)
{
    return i < N_RULES ? rules[i].id : NULL;
}

const char *suggest_rule_description(size_t i)
{
    return i < N_RULES ? rules[i].description : NULL;
}

json_t *suggest_rules_json(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < N_RULES; i++) {
        json_t *th = json_object();
        for (size_t j = 0; j < SUGGEST_MAX_PARAMS && rules[i].params[j].name; j++)
            json_object_set_new(th, rules[i].params[j].name, json_real(rules[i].params[j].value));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "id", rules[i].id, "description",
                                             rules[i].description, "thresholds", th));
    }
    return arr;
}

/* True when schema names a run or report document this reader understands. */
static bool schema_known(const char *schema)
{
    if (!schema)
        return false;
    const char *v = NULL;
    if (strncmp(schema, "pyscope.run/", 12) == 0)
        v = schema + 12;
    else if (strncmp(schema, "pyscope.report/", 15) == 0)
        v = schema + 15;
    if (!v || *v < '0' || *v > '9')
        return false;
    char *end;
    long major = strtol(v, &end, 10);
    return (*end == '\0' || *end == '.') && major >= 1 && major <= SUGGEST_SCHEMA_MAJOR;
}

json_t *suggest_analyze(const json_t *report, const struct suggest_options *opt)
{
    json_t *out = json_array();
    if (!json_is_object(report) || !schema_known(json_get_string(report, "schema", NULL)))
        return out;
    struct suggest_ctx ctx = {0};
    ctx.report = report;
    json_t *profile = json_object_get(report, "profile");
    json_t *fns = json_object_get(profile, "functions");
    ctx.functions = json_is_array(fns) ? fns : NULL;
    ctx.mode = json_get_string(profile, "mode", NULL);
    if (!ctx.mode)
        ctx.mode = json_get_string(json_object_get(report, "options"), "mode", NULL);
    ctx.wall_s = median_of(report, "wall_s");
    ctx.cpu_s = median_of(report, "cpu_s");
    ctx.cpu_pct = median_of(report, "cpu_pct");
    if (ctx.cpu_pct < 0 && ctx.cpu_s >= 0 && ctx.wall_s > 0)
        ctx.cpu_pct = 100.0 * ctx.cpu_s / ctx.wall_s;
    struct contended_summary cs;
    ctx.queued_pct = ctx.cpu_bound_pct = ctx.load1 = -1;
    if (contended_summarize(report, &cs) == 0) {
        ctx.queued_pct = cs.queued_pct;
        ctx.cpu_bound_pct = cs.cpu_bound_pct;
        if (cs.has_load)
            ctx.load1 = cs.load1;
    }
    ctx.source_root = opt ? opt->source_root : NULL;
    ctx.py_prefix = json_get_string(json_object_get(report, "python"), "prefix", NULL);
    ctx.stacks = json_object_get(profile, "stacks");
    build_attr(&ctx);
    for (size_t i = 0; i < N_RULES; i++)
        rules[i].check(&rules[i], &ctx, out);
    json_decref(ctx.attr);
    for (size_t i = 0; i < ctx.n_hot; i++)
        free(ctx.hot[i].path);
    free(ctx.hot);
    return out;
}
