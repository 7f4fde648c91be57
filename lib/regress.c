/*
 * regress.c - regression verdicts for one run against its baseline.
 *
 * Design notes:
 * - The decision rules live in regress_metric() only (documented in
 *   regress.h); the JSON layer just gathers samples from documents.
 * - Documents are untrusted: every field is type-checked and a bad value
 *   drops that sample (or metric), never the whole comparison.
 * - Hotspot metrics: a function absent from a baseline run that has a
 *   profile counts as 0 s there (it was not sampled); a function absent
 *   from every baseline document has "appeared" and gets no metric.
 */
#include "regress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "history.h"
#include "log.h"
#include "stats.h"
#include "xmalloc.h"

/* Hotspot metrics: this many functions by total and by self time ... */
#define REGRESS_TOP_FUNCTIONS 5
/* ... that take at least this share of the candidate's wall time. */
#define REGRESS_MIN_FUNCTION_PCT 5.0
/* "why" lists: functions with at least this share count as appeared/vanished. */
#define REGRESS_WHY_MIN_PCT  1.0
#define REGRESS_WHY_MAX_LIST 20
#define REGRESS_WHY_TOP      5
/* regress_check_local: change points over at most this many reports. */
#define REGRESS_HISTORY_MAX        200
#define REGRESS_NO_HISTORY_MESSAGE "first run of this script on this host"

void regress_options_init(struct regress_options *opt)
{
    opt->threshold = 0.05;
    opt->alpha = 0.05;
    opt->max_baseline_runs = 10;
    opt->run_quantile = 0.5;
    opt->history_flags = 0;
}

const char *regress_verdict_name(enum regress_verdict v)
{
    switch (v) {
    case REGRESS_REGRESSION:
        return "regression";
    case REGRESS_IMPROVEMENT:
        return "improvement";
    case REGRESS_INCONCLUSIVE:
        return "inconclusive";
    case REGRESS_NO_CHANGE:
    default:
        return "no_change";
    }
}

/* Copy *opt into *o, replacing unusable values with defaults. */
static void options_sane(const struct regress_options *opt, struct regress_options *o)
{
    regress_options_init(o);
    if (!opt)
        return;
    if (opt->threshold > 0 && opt->threshold < 10)
        o->threshold = opt->threshold;
    else
        log_warn("invalid regression threshold %g, using %g", opt->threshold, o->threshold);
    if (opt->alpha > 0 && opt->alpha < 1)
        o->alpha = opt->alpha;
    else
        log_warn("invalid significance level %g, using %g", opt->alpha, o->alpha);
    o->max_baseline_runs = opt->max_baseline_runs;
    o->history_flags = opt->history_flags;
    if (opt->run_quantile >= 0 && opt->run_quantile <= 1)
        o->run_quantile = opt->run_quantile;
    else
        log_warn("invalid per-run quantile %g, using %g", opt->run_quantile, o->run_quantile);
}

/* ---- one metric ----------------------------------------------------------- */

static int check_samples(const double *x, size_t n)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0)
            return -PYSCOPE_ERANGE;
    return 0;
}

/* The noise floor's prediction interval leaves this much probability outside. */
#define REGRESS_NOISE_ALPHA 0.01

/* The per-run statistic of runs[i] into st[]; returns how many runs had samples. */
static size_t run_stats(const struct regress_run *runs, size_t n_runs, double q, double *st)
{
    size_t r = 0;
    for (size_t i = 0; i < n_runs; i++)
        if (runs[i].n && stats_quantile(runs[i].x, runs[i].n, q, &st[r]) == 0)
            r++;
    return r;
}

/*
 * The noise floor: a 99% prediction interval of the statistic of m more runs
 * around the baseline's centre, from the r baseline run statistics sb. How
 * far new runs stray from the baseline by themselves: sigma is estimated
 * robustly (1.4826 MAD, or the sample standard deviation when larger, so a
 * heavy-tailed history widens the interval instead of hiding its tails)
 * from only r values, hence Student's t with r-1 degrees of freedom, and
 * sqrt(1/m + 1/r) for the candidate's and the baseline's own errors.
 */
static void run_noise(const double *sb, size_t r, size_t m, double centre,
                      struct regress_result *out)
{
    double mad, sd;
    out->has_noise = false;
    if (r >= 3 && m >= 1 && centre > 0 && stats_mad(sb, r, &mad) == 0 &&
        stats_stdev(sb, r, &sd) == 0) {
        double sigma = 1.4826 * mad;
        if (sd > sigma)
            sigma = sd;
        double t = stats_t_ppf(1 - REGRESS_NOISE_ALPHA / 2, (double)(r - 1));
        out->has_noise = true;
        out->noise_pct = 100 * t * sigma * sqrt(1.0 / (double)m + 1.0 / (double)r) / centre;
    }
}

/* Check every run's samples; count samples and runs with samples. */
static int check_runs(const struct regress_run *runs, size_t n_runs, size_t *n, size_t *r)
{
    *n = *r = 0;
    for (size_t i = 0; i < n_runs; i++) {
        int rc = runs[i].n ? check_samples(runs[i].x, runs[i].n) : 0;
        if (rc < 0)
            return rc;
        *n += runs[i].n;
        *r += runs[i].n > 0;
    }
    return 0;
}

/* The r run statistics of runs[] (new array, caller frees) and their median in *centre. */
static double *run_centre(const struct regress_run *runs, size_t n_runs, size_t r, double q,
                          double *centre)
{
    double *st = xmalloc((r ? r : 1) * sizeof(*st));
    run_stats(runs, n_runs, q, st);
    *centre = 0;
    stats_median(st, r, centre);
    return st;
}

int regress_centres(const struct regress_run *runs, size_t n_runs,
                    const struct regress_run *cand_runs, size_t n_cand_runs,
                    const struct regress_options *opt, double *base, double *cand)
{
    struct regress_options o;
    options_sane(opt, &o);
    size_t nb, nc, rb, rc_runs;
    int rc = check_runs(runs, n_runs, &nb, &rb);
    if (rc == 0)
        rc = check_runs(cand_runs, n_cand_runs, &nc, &rc_runs);
    if (rc < 0)
        return rc;
    if (nb == 0 || nc == 0)
        return -PYSCOPE_ENODATA;
    free(run_centre(runs, n_runs, rb, o.run_quantile, base));
    free(run_centre(cand_runs, n_cand_runs, rc_runs, o.run_quantile, cand));
    return 0;
}

/* All samples of runs[0..n_runs) in one new array of n values (caller frees). */
static double *pool_runs(const struct regress_run *runs, size_t n_runs, size_t n)
{
    double *all = xmalloc((n ? n : 1) * sizeof(*all));
    size_t k = 0;
    for (size_t i = 0; i < n_runs; i++) {
        memcpy(all + k, runs[i].x, runs[i].n * sizeof(*all));
        k += runs[i].n;
    }
    return all;
}

int regress_metric(const struct regress_run *runs, size_t n_runs, const double *cand, size_t n_cand,
                   const struct regress_options *opt, struct regress_result *out)
{
    struct regress_run c = {cand, n_cand};
    return regress_metric_runs(runs, n_runs, &c, 1, opt, out);
}

int regress_metric_runs(const struct regress_run *runs, size_t n_runs,
                        const struct regress_run *cand_runs, size_t n_cand_runs,
                        const struct regress_options *opt, struct regress_result *out)
{
    struct regress_options o;
    options_sane(opt, &o);
    memset(out, 0, sizeof(*out));
    size_t nb, nc, rb, rc_runs;
    int rc = check_runs(runs, n_runs, &nb, &rb);
    if (rc < 0)
        return rc;
    if (nb == 0)
        return -PYSCOPE_ENODATA;
    rc = check_runs(cand_runs, n_cand_runs, &nc, &rc_runs);
    if (rc < 0)
        return rc;
    if (nc == 0)
        return -PYSCOPE_ENODATA;
    out->n_runs = rb;
    out->n_base = nb;
    out->n_cand = nc;
    out->n_cand_runs = rc_runs;
    out->run_quantile = o.run_quantile;
    out->threshold_pct = 100 * o.threshold;

    /* the two levels: one statistic per run, the centre of each side is their median */
    double *sb = run_centre(runs, n_runs, rb, o.run_quantile, &out->base_median);
    double *sc = run_centre(cand_runs, n_cand_runs, rc_runs, o.run_quantile, &out->cand_median);
    if (!(out->base_median > 0)) {
        free(sb);
        free(sc);
        return -PYSCOPE_ERANGE;
    }
    out->change_pct = 100 * (out->cand_median / out->base_median - 1);
    run_noise(sb, rb, rc_runs, out->base_median, out);
    free(sb);
    free(sc);

    /* the pooled samples: the U test, the bootstrap CI and Hodges-Lehmann */
    double *base = pool_runs(runs, n_runs, nb), *cand = pool_runs(cand_runs, n_cand_runs, nc);
    struct stats_mwu mwu;
    stats_mannwhitney(base, nb, cand, nc, &mwu); /* inputs already checked */
    out->p_value = mwu.p_value;
    out->p_exact = mwu.exact;
    struct stats_ratio ratio;
    if (stats_bootstrap_ratio(base, nb, cand, nc, 0.95, STATS_DEFAULT_RESAMPLES, STATS_DEFAULT_SEED,
                              &ratio) == 0) {
        out->has_ci = true;
        out->ci_low_pct = 100 * (ratio.ci_low - 1);
        out->ci_high_pct = 100 * (ratio.ci_high - 1);
    }
    struct stats_hl hl;
    double pooled_median;
    stats_median(base, nb, &pooled_median);
    if (pooled_median > 0 && stats_hodges_lehmann(base, nb, cand, nc, 0.95, &hl) == 0) {
        out->has_hl = true;
        out->hl_shift_pct = 100 * hl.shift / pooled_median;
        out->hl_ci_low_pct = 100 * hl.ci_low / pooled_median;
        out->hl_ci_high_pct = 100 * hl.ci_high / pooled_median;
    }
    free(base);
    free(cand);

    out->statistical = stats_mannwhitney_min_p(nb, nc) < o.alpha;
    regress_decide(out, o.alpha);
    return 0;
}

void regress_decide(struct regress_result *r, double alpha)
{
    double mag = fabs(r->change_pct), t = r->threshold_pct;
    bool up = r->change_pct > 0;
    enum regress_verdict decided = up ? REGRESS_REGRESSION : REGRESS_IMPROVEMENT;
    const char *more = r->n_cand < 10 ? REGRESS_HINT_REPEAT : REGRESS_HINT_NOT_SIGNIFICANT;
    r->hint = NULL;
    if (mag <= t) {
        r->verdict = REGRESS_NO_CHANGE;
    } else if (r->statistical) {
        if (r->has_noise && mag <= r->noise_pct) {
            r->verdict = REGRESS_INCONCLUSIVE;
            r->hint = REGRESS_HINT_NOISE;
        } else if (!(r->p_value < alpha)) {
            r->verdict = REGRESS_INCONCLUSIVE;
            r->hint = more;
        } else if (!r->has_ci || (up ? r->ci_low_pct <= 0 : r->ci_high_pct >= 0)) {
            r->verdict = REGRESS_INCONCLUSIVE;
            r->hint = more;
        } else {
            r->verdict = decided;
        }
    } else {
        bool beyond = r->has_noise ? mag > r->noise_pct : mag > 2 * t;
        r->verdict = beyond ? decided : REGRESS_INCONCLUSIVE;
        if (!beyond)
            r->hint = REGRESS_HINT_REPEAT;
    }
}

/* ---- samples from documents ------------------------------------------------ */

/* A growable array of doubles. */
struct dvec {
    double *v;
    size_t n, cap;
};

static void dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
    }
    d->v[d->n++] = x;
}

static bool number_ok(const json_t *j, double *x)
{
    if (!json_is_number(j))
        return false;
    *x = json_number_value(j);
    return isfinite(*x) && *x >= 0;
}

/* Append the samples of run-level metric field of doc to d (history_samples: runs[].field,
 * or the instruction counts); returns how many were appended. */
static size_t run_samples(const json_t *doc, const char *field, struct dvec *d)
{
    size_t n;
    double *x = history_samples(doc, field, &n);
    for (size_t i = 0; i < n; i++)
        dvec_push(d, x[i]);
    free(x);
    return n;
}

static const json_t *find_function(const json_t *doc, const char *key)
{
    const json_t *fns = json_object_get(history_profile(doc), "functions");
    size_t i;
    const json_t *f;
    json_array_foreach(fns, i, f)
    {
        const char *k = json_string_value(json_object_get(f, "key"));
        if (k && strcmp(k, key) == 0)
            return f;
    }
    return NULL;
}

static bool has_profile(const json_t *doc)
{
    return json_is_array(json_object_get(history_profile(doc), "functions"));
}

/*
 * Append function key's per-run samples of field ("total_s" / "self_s") to d:
 * <field>_runs when present, else the scalar <field>; zeros (one per run)
 * when the profile lacks the function. Returns how many were appended.
 */
static size_t function_samples(const json_t *doc, const char *key, const char *field,
                               struct dvec *d)
{
    if (!has_profile(doc))
        return 0;
    const json_t *f = find_function(doc, key);
    size_t added = 0;
    double x;
    if (!f) {
        size_t nruns = json_array_size(json_object_get(doc, "runs"));
        for (size_t i = 0; i < (nruns ? nruns : 1); i++)
            dvec_push(d, 0), added++;
        return added;
    }
    char name[32];
    snprintf(name, sizeof(name), "%s_runs", field);
    const json_t *arr = json_object_get(f, name);
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (number_ok(v, &x)) {
            dvec_push(d, x);
            added++;
        }
    }
    if (!added && number_ok(json_object_get(f, field), &x)) {
        dvec_push(d, x);
        added++;
    }
    return added;
}

/* What a metric is: a run field, or a function's total/self time. */
struct metric_spec {
    const char *name;     /* "wall_s", ..., "total_s", "self_s" */
    const char *function; /* function key for hotspot metrics, else NULL */
    const char *unit;     /* "s", "bytes" or "instructions" */
};

static size_t spec_samples(const json_t *doc, const struct metric_spec *m, struct dvec *d)
{
    return m->function ? function_samples(doc, m->function, m->name, d)
                       : run_samples(doc, m->name, d);
}

static json_t *json_real_or_null(bool ok, double v)
{
    return ok && isfinite(v) ? json_real(v) : json_null();
}

/* Compare one metric; returns a new metric object or NULL when it cannot be compared. */
static json_t *compare_metric(const json_t *cand, const json_t *const *base, size_t nb,
                              const struct metric_spec *m, const struct regress_options *opt)
{
    struct dvec c = {0}, all = {0};
    spec_samples(cand, m, &c);
    size_t *counts = xcalloc(nb ? nb : 1, sizeof(*counts));
    json_t *ids = json_array();
    for (size_t i = 0; i < nb; i++) {
        counts[i] = spec_samples(base[i], m, &all);
        if (counts[i]) {
            const char *id = json_string_value(json_object_get(base[i], "id"));
            json_array_append_new(ids, id ? json_string(id) : json_null());
        }
    }
    struct regress_run *runs = xcalloc(nb ? nb : 1, sizeof(*runs));
    size_t off = 0;
    for (size_t i = 0; i < nb; i++) {
        runs[i].x = all.v ? all.v + off : NULL; /* no samples at all: all.v is NULL */
        runs[i].n = counts[i];
        off += counts[i];
    }
    /* samples per run, when every contributing run has the same number */
    size_t per_run = 0;
    bool equal = true;
    for (size_t i = 0; i < nb; i++) {
        if (!counts[i])
            continue;
        if (per_run && counts[i] != per_run)
            equal = false;
        per_run = counts[i];
    }
    struct regress_result r;
    json_t *obj = NULL;
    int rc = regress_metric(runs, nb, c.v, c.n, opt, &r);
    if (rc < 0) {
        log_debug("metric %s%s%s not compared: %s", m->name, m->function ? " of " : "",
                  m->function ? m->function : "", pyscope_strerror(rc));
        json_decref(ids);
        goto out;
    }
    obj = json_pack("{s:s, s:s, s:s, s:s}", "metric", m->name, "unit", m->unit, "verdict",
                    regress_verdict_name(r.verdict), "mode",
                    r.statistical ? "statistical" : "threshold");
    if (m->function)
        json_object_set_new(obj, "function", json_string(m->function));
    json_object_set_new(obj, "baseline_median", json_real(r.base_median));
    json_object_set_new(obj, "candidate_median", json_real(r.cand_median));
    json_object_set_new(obj, "change_pct", json_real(r.change_pct));
    json_object_set_new(obj, "ci_low_pct", json_real_or_null(r.has_ci, r.ci_low_pct));
    json_object_set_new(obj, "ci_high_pct", json_real_or_null(r.has_ci, r.ci_high_pct));
    json_object_set_new(obj, "ci_method", json_string("bootstrap"));
    json_object_set_new(obj, "p_value", json_real(r.p_value));
    json_object_set_new(obj, "p_method", json_string(r.p_exact ? "exact" : "normal"));
    json_object_set_new(obj, "hl_shift_pct", json_real_or_null(r.has_hl, r.hl_shift_pct));
    json_object_set_new(obj, "hl_ci_low_pct", json_real_or_null(r.has_hl, r.hl_ci_low_pct));
    json_object_set_new(obj, "hl_ci_high_pct", json_real_or_null(r.has_hl, r.hl_ci_high_pct));
    json_object_set_new(obj, "baseline",
                        json_pack("{s:o, s:I, s:I, s:o}", "runs", ids, "n_runs",
                                  (json_int_t)r.n_runs, "n_samples", (json_int_t)r.n_base,
                                  "samples_per_run",
                                  equal ? json_integer((json_int_t)per_run) : json_null()));
    json_object_set_new(obj, "candidate", json_pack("{s:I}", "n_samples", (json_int_t)r.n_cand));
    json_object_set_new(obj, "noise_pct", json_real_or_null(r.has_noise, r.noise_pct));
    json_object_set_new(obj, "threshold_pct", json_real(r.threshold_pct));
    json_object_set_new(obj, "hint", r.hint ? json_string(r.hint) : json_null());
out:
    free(runs);
    free(counts);
    free(all.v);
    free(c.v);
    return obj;
}

/* ---- hotspots and "why" --------------------------------------------------- */

static double number_or(const json_t *j, double dflt)
{
    double x;
    return number_ok(j, &x) ? x : dflt;
}

struct fn_rank {
    const char *key;
    double v;
};

static int cmp_rank_desc(const void *a, const void *b)
{
    double x = ((const struct fn_rank *)a)->v, y = ((const struct fn_rank *)b)->v;
    if (x != y)
        return (x < y) - (x > y);
    return strcmp(((const struct fn_rank *)a)->key, ((const struct fn_rank *)b)->key);
}

static bool in_any_baseline(const json_t *const *base, size_t nb, const char *key)
{
    for (size_t i = 0; i < nb; i++)
        if (find_function(base[i], key))
            return true;
    return false;
}

/* Append hotspot metrics of field ("total_s" / "self_s") for the candidate's top functions. */
static void hotspot_metrics(const json_t *cand, const json_t *const *base, size_t nb,
                            const char *field, const struct regress_options *opt, json_t *metrics)
{
    const json_t *fns = json_object_get(history_profile(cand), "functions");
    size_t n = json_array_size(fns), i, k = 0;
    struct fn_rank *rk = xcalloc(n ? n : 1, sizeof(*rk));
    const json_t *f;
    char pct_name[32];
    snprintf(pct_name, sizeof(pct_name), "%.*s_pct", (int)(strlen(field) - 2), field);
    json_array_foreach(fns, i, f)
    {
        const char *key = json_string_value(json_object_get(f, "key"));
        double v = number_or(json_object_get(f, field), -1);
        double pct = number_or(json_object_get(f, pct_name), 100);
        if (!key || v <= 0 || pct < REGRESS_MIN_FUNCTION_PCT || !in_any_baseline(base, nb, key))
            continue;
        rk[k++] = (struct fn_rank){key, v};
    }
    qsort(rk, k, sizeof(*rk), cmp_rank_desc);
    for (i = 0; i < k && i < REGRESS_TOP_FUNCTIONS; i++) {
        struct metric_spec m = {field, rk[i].key, "s"};
        json_t *obj = compare_metric(cand, base, nb, &m, opt);
        if (obj)
            json_array_append_new(metrics, obj);
    }
    free(rk);
}

static double median_of(struct dvec *d)
{
    double m = 0;
    if (d->n)
        stats_median(d->v, d->n, &m);
    return m;
}

/* Median self time of key over the candidate and over the pooled baseline. */
static void self_medians(const json_t *cand, const json_t *const *base, size_t nb, const char *key,
                         double *mc, double *mb)
{
    struct dvec c = {0}, b = {0};
    function_samples(cand, key, "self_s", &c);
    for (size_t i = 0; i < nb; i++)
        function_samples(base[i], key, "self_s", &b);
    *mc = median_of(&c);
    *mb = median_of(&b);
    free(c.v);
    free(b.v);
}

static bool key_listed(const json_t *arr, const char *key)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, key) == 0)
            return true;
    }
    return false;
}

/* Keys of doc's functions with total_pct >= REGRESS_WHY_MIN_PCT (or no total_pct). */
static bool function_notable(const json_t *f)
{
    return number_or(json_object_get(f, "total_pct"), 100) >= REGRESS_WHY_MIN_PCT;
}

/* True when a baseline document's obj.key is a string that differs from the candidate's. */
static bool identity_changed(const json_t *cand, const json_t *const *base, size_t nb,
                             const char *obj, const char *key)
{
    const char *c = json_string_value(json_object_get(json_object_get(cand, obj), key));
    if (!c)
        return false;
    for (size_t i = 0; i < nb; i++) {
        const char *b = json_string_value(json_object_get(json_object_get(base[i], obj), key));
        if (b && strcmp(b, c) != 0)
            return true;
    }
    return false;
}

/* True when a baseline document was made in another profiling mode than the candidate. */
static bool mode_changed(const json_t *cand, const json_t *const *base, size_t nb)
{
    const char *c = history_mode(cand);
    for (size_t i = 0; i < nb; i++)
        if (strcmp(history_mode(base[i]), c) != 0)
            return true;
    return false;
}

static json_t *build_why(const json_t *cand, const json_t *const *base, size_t nb)
{
    json_t *functions = json_array(), *appeared = json_array(), *vanished = json_array();
    struct dvec wc = {0}, wb = {0};
    run_samples(cand, "wall_s", &wc);
    for (size_t i = 0; i < nb; i++)
        run_samples(base[i], "wall_s", &wb);
    double wall_delta = wc.n && wb.n ? median_of(&wc) - median_of(&wb) : 0;
    free(wc.v);
    free(wb.v);

    /* every key seen on either side, once */
    json_t *keys = json_array();
    for (size_t d = 0; d <= nb; d++) {
        const json_t *doc = d < nb ? base[d] : cand;
        const json_t *fns = json_object_get(history_profile(doc), "functions");
        size_t i;
        const json_t *f;
        json_array_foreach(fns, i, f)
        {
            const char *k = json_string_value(json_object_get(f, "key"));
            if (k && !key_listed(keys, k))
                json_array_append_new(keys, json_string(k));
        }
    }
    size_t nk = json_array_size(keys);
    struct fn_rank *rk = xcalloc(nk ? nk : 1, sizeof(*rk));
    size_t k = 0;
    if (has_profile(cand) && nb) {
        for (size_t i = 0; i < nk; i++) {
            const char *key = json_string_value(json_array_get(keys, i));
            double mc, mb;
            self_medians(cand, base, nb, key, &mc, &mb);
            double delta = mc - mb;
            /* rank by the part of the wall-time change each function explains */
            double score = wall_delta > 0 ? delta : wall_delta < 0 ? -delta : fabs(delta);
            if (score > 0)
                rk[k++] = (struct fn_rank){key, score};
        }
    }
    qsort(rk, k, sizeof(*rk), cmp_rank_desc);
    for (size_t i = 0; i < k && i < REGRESS_WHY_TOP; i++) {
        double mc, mb;
        self_medians(cand, base, nb, rk[i].key, &mc, &mb);
        double delta = mc - mb;
        json_array_append_new(
            functions, json_pack("{s:s, s:f, s:o}", "key", rk[i].key, "delta_s", delta, "share_pct",
                                 json_real_or_null(wall_delta != 0, 100 * delta / wall_delta)));
    }
    free(rk);

    if (has_profile(cand) && nb) {
        size_t i;
        const json_t *f;
        const json_t *cfns = json_object_get(history_profile(cand), "functions");
        json_array_foreach(cfns, i, f)
        {
            const char *key = json_string_value(json_object_get(f, "key"));
            if (key && function_notable(f) && !in_any_baseline(base, nb, key) &&
                json_array_size(appeared) < REGRESS_WHY_MAX_LIST && !key_listed(appeared, key))
                json_array_append_new(appeared, json_string(key));
        }
        const json_t *lfns = json_object_get(history_profile(base[nb - 1]), "functions");
        json_array_foreach(lfns, i, f)
        {
            const char *key = json_string_value(json_object_get(f, "key"));
            if (key && function_notable(f) && !find_function(cand, key) &&
                json_array_size(vanished) < REGRESS_WHY_MAX_LIST && !key_listed(vanished, key))
                json_array_append_new(vanished, json_string(key));
        }
    }
    json_decref(keys);
    json_t *why = json_pack("{s:o, s:o, s:o, s:b, s:b, s:b}", "functions", functions, "appeared",
                            appeared, "vanished", vanished, "script_changed",
                            identity_changed(cand, base, nb, "script", "sha256"), "python_changed",
                            identity_changed(cand, base, nb, "python", "build"), "host_changed",
                            identity_changed(cand, base, nb, "host", "fingerprint"));
    json_object_set_new(why, "mode_changed", json_boolean(mode_changed(cand, base, nb)));
    return why;
}

/* ---- whole documents -------------------------------------------------------- */

static json_t *no_history(const struct regress_options *o, const char *message)
{
    return json_pack("{s:s, s:s, s:f, s:f, s:{s:[], s:i, s:n}, s:[], s:n}", "status", "no_history",
                     "message", message, "threshold_pct", 100 * o->threshold, "alpha", o->alpha,
                     "baseline", "runs", "n_runs", 0, "change_point", "metrics", "why");
}

json_t *regress_compare(const json_t *candidate, const json_t *const *baseline, size_t n_baseline,
                        const struct regress_options *opt)
{
    struct regress_options o;
    options_sane(opt, &o);
    if (o.max_baseline_runs > 0 && n_baseline > (size_t)o.max_baseline_runs) {
        baseline += n_baseline - (size_t)o.max_baseline_runs;
        n_baseline = (size_t)o.max_baseline_runs;
    }
    if (n_baseline == 0)
        return no_history(&o, REGRESS_NO_HISTORY_MESSAGE);
    json_t *metrics = json_array();
    static const struct metric_spec main_metrics[] = {
        {"wall_s", NULL, "s"},
        {"cpu_s", NULL, "s"},
        {"peak_rss_bytes", NULL, "bytes"},
        {HISTORY_METRIC_INSTRUCTIONS, NULL, "instructions"}, /* only with --instructions */
    };
    for (size_t i = 0; i < sizeof(main_metrics) / sizeof(main_metrics[0]); i++) {
        json_t *m = compare_metric(candidate, baseline, n_baseline, &main_metrics[i], &o);
        if (m)
            json_array_append_new(metrics, m);
    }
    hotspot_metrics(candidate, baseline, n_baseline, "total_s", &o, metrics);
    hotspot_metrics(candidate, baseline, n_baseline, "self_s", &o, metrics);
    json_t *ids = json_array();
    for (size_t i = 0; i < n_baseline; i++) {
        const char *id = json_string_value(json_object_get(baseline[i], "id"));
        json_array_append_new(ids, id ? json_string(id) : json_null());
    }
    return json_pack("{s:s, s:n, s:f, s:f, s:{s:o, s:I, s:n}, s:o, s:o}", "status", "compared",
                     "message", "threshold_pct", 100 * o.threshold, "alpha", o.alpha, "baseline",
                     "runs", ids, "n_runs", (json_int_t)n_baseline, "change_point", "metrics",
                     metrics, "why", build_why(candidate, baseline, n_baseline));
}

/* True when doc was created after the candidate (ISO 8601 UTC strings compare as text). */
static bool created_after(const json_t *doc, const char *cand_created)
{
    const char *c = json_string_value(json_object_get(doc, "created"));
    return cand_created && c && strcmp(c, cand_created) > 0;
}

/*
 * The instructions metric of result (modified) decided on its own series: the reports of
 * docs[0..n) (oldest first) that have counts, since the latest change point of their count
 * medians, at most max_baseline_runs. Wall time's change points, which chose the other
 * metrics' baseline, come from noise and load that counts do not have, and a step in the
 * counts must reset their baseline even when wall time shows none.
 */
static void local_instructions(json_t *result, const json_t *candidate, const json_t **docs,
                               size_t n, const struct regress_options *o)
{
    static const struct metric_spec spec = {HISTORY_METRIC_INSTRUCTIONS, NULL, "instructions"};
    struct dvec c = {0};
    size_t nc = run_samples(candidate, spec.name, &c);
    free(c.v);
    if (nc == 0)
        return;
    const json_t **idocs = xcalloc(n + 1, sizeof(*idocs));
    double *med = xcalloc(n + 1, sizeof(*med));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct dvec d = {0};
        if (run_samples(docs[i], spec.name, &d) > 0) {
            idocs[k] = docs[i];
            med[k++] = median_of(&d);
        }
        free(d.v);
    }
    struct stats_cp_options cpo;
    stats_cp_options_init(&cpo);
    size_t cps[16], ncp = 0, start = 0;
    if (k > 0 && stats_changepoints(med, k, &cpo, cps, sizeof(cps) / sizeof(cps[0]), &ncp) == 0 &&
        ncp > 0)
        start = cps[ncp - 1];
    size_t nb = k - start;
    const json_t *const *b = idocs + start;
    if (o->max_baseline_runs > 0 && nb > (size_t)o->max_baseline_runs) {
        b += nb - (size_t)o->max_baseline_runs;
        nb = (size_t)o->max_baseline_runs;
    }
    json_t *m = nb ? compare_metric(candidate, b, nb, &spec, o) : NULL;
    /* replace the metric regress_compare made, or put it after the other run metrics */
    json_t *metrics = json_object_get(result, "metrics");
    size_t i, at = 0;
    json_t *x;
    bool replaced = false;
    json_array_foreach(metrics, i, x)
    {
        const char *name = json_string_value(json_object_get(x, "metric"));
        if (name && strcmp(name, spec.name) == 0) {
            if (m)
                json_array_set_new(metrics, i, m);
            else
                json_array_remove(metrics, i);
            replaced = true;
            break;
        }
        if (!json_object_get(x, "function"))
            at = i + 1;
    }
    if (!replaced && m)
        json_array_insert_new(metrics, at, m);
    free(idocs);
    free(med);
}

/*
 * A first run in its mode (no_history result, modified): when the script has runs
 * in the other mode, say that they are not compared and why (the mode is part of
 * the series: trace mode slows calls and adds memory). f: the series' filter.
 */
static void other_mode_note(json_t *result, const char *dir, const struct history_filter *f)
{
    struct history_filter other = *f;
    const char *mode = f->mode;
    other.mode = strcmp(mode, "trace") == 0 ? "sample" : "trace";
    other.limit = 1000;
    struct history h;
    history_load(dir, &other, &h);
    if (h.n > 0) {
        char *msg = xasprintf("first %s-mode run of this script on this host; the %s%zu earlier "
                              "%s-mode run%s %s not compared (trace mode slows calls and adds "
                              "memory: the modes are separate series)",
                              mode, h.n >= other.limit ? "last " : "", h.n, other.mode,
                              h.n == 1 ? "" : "s", h.n == 1 ? "is" : "are");
        json_object_set_new(result, "message", json_string(msg));
        json_object_set_new(result, "other_mode_runs", json_integer((json_int_t)h.n));
        free(msg);
    }
    history_release(&h);
}

json_t *regress_check_local(const json_t *candidate, const char *reports_json_dir,
                            const struct regress_options *opt)
{
    struct regress_options o;
    options_sane(opt, &o);
    const char *key =
        json_string_value(json_object_get(json_object_get(candidate, "script"), "key"));
    if (!key)
        return no_history(&o, "the candidate has no script key");
    struct history_filter f = {
        .script_key = key,
        .host_fingerprint =
            json_string_value(json_object_get(json_object_get(candidate, "host"), "fingerprint")),
        .python_build =
            json_string_value(json_object_get(json_object_get(candidate, "python"), "build")),
        .mode = history_mode(candidate),
        .exclude_id = json_string_value(json_object_get(candidate, "id")),
        .ok_only = true,
        .limit = REGRESS_HISTORY_MAX,
        /* light documents: a profile is read only when regress_compare asks for it
         * (history_profile), for the few reports of a baseline */
        .flags = o.history_flags | HISTORY_LIGHT,
    };
    struct history h;
    int rc = history_load(reports_json_dir, &f, &h);
    if (rc < 0)
        log_debug("no report history in \"%s\": %s", reports_json_dir, pyscope_strerror(rc));
    const char *cand_created = json_string_value(json_object_get(candidate, "created"));
    /* the series: documents with a wall-time median, oldest first */
    const json_t **docs = xcalloc(h.n ? h.n : 1, sizeof(*docs));
    double *med = xcalloc(h.n ? h.n : 1, sizeof(*med));
    size_t n = 0;
    for (size_t i = 0; i < h.n; i++) {
        struct dvec d = {0};
        if (!created_after(h.entries[i].doc, cand_created) &&
            run_samples(h.entries[i].doc, "wall_s", &d) > 0) {
            docs[n] = h.entries[i].doc;
            med[n] = median_of(&d);
            n++;
        }
        free(d.v);
    }
    json_t *result;
    if (n == 0) {
        result = no_history(&o, REGRESS_NO_HISTORY_MESSAGE);
        other_mode_note(result, reports_json_dir, &f);
    } else {
        struct stats_cp_options cpo;
        stats_cp_options_init(&cpo);
        size_t cps[16], ncp = 0, start = 0;
        if (stats_changepoints(med, n, &cpo, cps, sizeof(cps) / sizeof(cps[0]), &ncp) == 0 &&
            ncp > 0)
            start = cps[ncp - 1];
        result = regress_compare(candidate, docs + start, n - start, &o);
        if (start > 0) {
            const char *id = json_string_value(json_object_get(docs[start], "id"));
            json_object_set_new(json_object_get(result, "baseline"), "change_point",
                                id ? json_string(id) : json_null());
        }
        json_object_set_new(json_object_get(result, "baseline"), "history_runs",
                            json_integer((json_int_t)n));
        local_instructions(result, candidate, docs, n, &o);
    }
    free(med);
    free(docs);
    history_release(&h);
    return result;
}

/* ---- terminal --------------------------------------------------------------- */

bool regress_has_regression(const json_t *regression)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(regression, "metrics"), i, m)
    {
        const char *v = json_string_value(json_object_get(m, "verdict"));
        if (v && strcmp(v, "regression") == 0)
            return true;
    }
    return false;
}

/* Print s with control characters replaced, so input cannot drive the terminal. */
static void print_clean(FILE *out, const char *s)
{
    for (; s && *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

static void print_value(FILE *out, double v, const char *unit)
{
    if (strcmp(unit, "bytes") == 0)
        fprintf(out, "%.3f MiB", v / (1024.0 * 1024.0));
    else if (strcmp(unit, "instructions") == 0)
        fprintf(out, "%.4fM", v / 1e6);
    else
        fprintf(out, "%.4fs", v);
}

static void print_label(FILE *out, const json_t *m)
{
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *fn = json_string_value(json_object_get(m, "function"));
    if (!name)
        name = "?";
    if (fn) {
        fputs("Hotspot '", out);
        print_clean(out, fn);
        fprintf(out, "' %s", strcmp(name, "self_s") == 0 ? "self time" : "total time");
    } else if (strcmp(name, "wall_s") == 0) {
        fputs("Execution time", out);
    } else if (strcmp(name, "cpu_s") == 0) {
        fputs("CPU time", out);
    } else if (strcmp(name, "peak_rss_bytes") == 0) {
        fputs("Peak memory", out);
    } else if (strcmp(name, HISTORY_METRIC_INSTRUCTIONS) == 0) {
        fputs("Instructions", out);
    } else {
        print_clean(out, name);
    }
}

static void print_metric(FILE *out, const json_t *m, bool color)
{
    const char *verdict = json_string_value(json_object_get(m, "verdict"));
    const char *unit = json_string_value(json_object_get(m, "unit"));
    double change = json_number_value(json_object_get(m, "change_pct"));
    if (!verdict || !unit)
        return;
    const char *glyph = "✓ ", *col = "", *word;
    bool reg = strcmp(verdict, "regression") == 0, imp = strcmp(verdict, "improvement") == 0;
    bool inc = strcmp(verdict, "inconclusive") == 0;
    if (reg) {
        glyph = "⚠️ ";
        col = "\033[31m";
    } else if (imp) {
        glyph = "✅ ";
        col = "\033[32m";
    } else if (inc) {
        glyph = "❓ ";
        col = "\033[33m";
    }
    if (reg || imp)
        word = reg ? " increased from " : " decreased from ";
    else if (inc)
        word = change >= 0 ? " increased from " : " decreased from ";
    else
        word = " unchanged: ";
    if (color && *col)
        fputs(col, out);
    fputs(glyph, out);
    print_label(out, m);
    fputs(word, out);
    print_value(out, json_number_value(json_object_get(m, "baseline_median")), unit);
    fputs(" → ", out);
    print_value(out, json_number_value(json_object_get(m, "candidate_median")), unit);
    fprintf(out, " (%+.2f%%", change);
    const json_t *lo = json_object_get(m, "ci_low_pct"), *hi = json_object_get(m, "ci_high_pct");
    if (json_is_number(lo) && json_is_number(hi))
        fprintf(out, ", 95%% CI %+.1f%% … %+.1f%%", json_number_value(lo), json_number_value(hi));
    const json_t *p = json_object_get(m, "p_value");
    if (json_is_number(p)) {
        if (json_number_value(p) < 0.001)
            fputs(", p<0.001", out);
        else
            fprintf(out, ", p=%.3f", json_number_value(p));
    }
    const json_t *b = json_object_get(m, "baseline");
    json_int_t nr = json_integer_value(json_object_get(b, "n_runs"));
    const json_t *per = json_object_get(b, "samples_per_run");
    if (json_is_integer(per))
        fprintf(out, ", baseline %" JSON_INTEGER_FORMAT " run%s × %" JSON_INTEGER_FORMAT, nr,
                nr == 1 ? "" : "s", json_integer_value(per));
    else
        fprintf(out, ", baseline %" JSON_INTEGER_FORMAT " runs, %" JSON_INTEGER_FORMAT " samples",
                nr, json_integer_value(json_object_get(b, "n_samples")));
    fputc(')', out);
    const char *hint = json_string_value(json_object_get(m, "hint"));
    if (inc)
        fputs(": inconclusive", out);
    if (hint && (inc || reg || imp)) {
        fputs(" — ", out);
        print_clean(out, hint);
    }
    if (color && *col)
        fputs("\033[0m", out);
    fputc('\n', out);
}

static void print_list(FILE *out, const char *title, const json_t *arr)
{
    size_t n = json_array_size(arr);
    if (!n)
        return;
    fprintf(out, "  %s: ", title);
    for (size_t i = 0; i < n && i < 5; i++) {
        if (i)
            fputs(", ", out);
        print_clean(out, json_string_value(json_array_get(arr, i)));
    }
    if (n > 5)
        fprintf(out, " and %zu more", n - 5);
    fputc('\n', out);
}

static void print_why(FILE *out, const json_t *why, bool wall_changed)
{
    const json_t *fns = json_object_get(why, "functions");
    if (wall_changed && json_array_size(fns)) {
        fputs("Why (self time, candidate vs baseline median):\n", out);
        size_t i;
        const json_t *f;
        json_array_foreach(fns, i, f)
        {
            fprintf(out, "  %+.4fs  ", json_number_value(json_object_get(f, "delta_s")));
            print_clean(out, json_string_value(json_object_get(f, "key")));
            const json_t *share = json_object_get(f, "share_pct");
            if (json_is_number(share))
                fprintf(out, " (%.0f%% of the change)", json_number_value(share));
            fputc('\n', out);
        }
    }
    print_list(out, "New functions", json_object_get(why, "appeared"));
    print_list(out, "Gone functions", json_object_get(why, "vanished"));
    if (json_is_true(json_object_get(why, "script_changed")))
        fputs("  Note: the script changed since the baseline (sha256 differs)\n", out);
    if (json_is_true(json_object_get(why, "python_changed")))
        fputs("  Note: the Python build changed since the baseline\n", out);
    if (json_is_true(json_object_get(why, "host_changed")))
        fputs("  Note: the host changed since the baseline\n", out);
    if (json_is_true(json_object_get(why, "mode_changed")))
        fputs("  Note: the baseline was profiled in another mode (sample vs trace): times and "
              "memory are not comparable\n",
              out);
}

void regress_print(FILE *out, const json_t *regression, bool color)
{
    fputs(color ? "\033[1mPerformance Regression Check\033[0m\n" : "Performance Regression Check\n",
          out);
    fputs("----------------------------------------\n", out);
    const char *status = json_string_value(json_object_get(regression, "status"));
    if (!status || strcmp(status, "compared") != 0) {
        const char *msg = json_string_value(json_object_get(regression, "message"));
        fputs("No baseline: ", out);
        print_clean(out, msg ? msg : REGRESS_NO_HISTORY_MESSAGE);
        fputc('\n', out);
        return;
    }
    bool wall_changed = false;
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(regression, "metrics"), i, m)
    {
        const char *v = json_string_value(json_object_get(m, "verdict"));
        bool is_fn = json_object_get(m, "function") != NULL;
        bool decided = v && (strcmp(v, "regression") == 0 || strcmp(v, "improvement") == 0);
        const char *name = json_string_value(json_object_get(m, "metric"));
        if (!is_fn && v && strcmp(v, "no_change") != 0 && name && strcmp(name, "wall_s") == 0)
            wall_changed = true;
        if (!is_fn || decided)
            print_metric(out, m, color);
    }
    print_why(out, json_object_get(regression, "why"), wall_changed);
}
