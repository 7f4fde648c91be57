/*
 * abtest.c - A/B verdicts over interleaved runs of two revisions (abtest.h).
 *
 * Design notes: regress_compare() knows one candidate run; an A/B try has
 * several. So the full comparison (which metrics, hotspots, decision) is made
 * for the median head run, then every metric (wall, CPU, memory, and each
 * hotspot function's sampled times) is decided again with every head run as a
 * run of the candidate (regress_metric_runs) and its object updated in place,
 * fields named as regress_compare names them, so every renderer (terminal,
 * JUnit, Markdown, HTML) reads a try like any other comparison. The "why" is
 * made again for the deciding metric's verdict over all runs. Hotspot times
 * are sampled wall-clock times that a busy machine inflates; interleaved, it
 * inflates both sides alike, so they are compared (noisier, never biased);
 * each hotspot's CPU self time is compared too ("self_cpu_s", add_cpu_hotspots).
 * With ABTEST_MIN_PAIRS turns a side, the pairs decide (abtest_paired, "mode":
 * "paired", "pairs": n): each turn's statistic is the run quantile the unpaired
 * rule uses (regress_options.run_quantile, the median of its repeats).
 */
#include "abtest.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "history.h"
#include "jsonutil.h"
#include "stats.h"
#include "xmalloc.h"

/* The samples of metric name in doc's runs[], or for "instructions" its counts
 * (history_samples: instructions.counts[]); new array of *n, NULL when none. */
static double *samples(const json_t *doc, const char *name, size_t *n)
{
    const json_t *runs = json_object_get(doc, "runs");
    if (!json_is_array(runs) && json_is_object(json_object_get(doc, "run"))) {
        doc = json_object_get(doc, "run");
        runs = json_object_get(doc, "runs");
    }
    if (strcmp(name, HISTORY_METRIC_INSTRUCTIONS) == 0) {
        double *c = history_samples(doc, name, n);
        if (*n == 0) {
            free(c);
            c = NULL;
        }
        return c;
    }
    size_t k = json_array_size(runs);
    double *v = xcalloc(k ? k : 1, sizeof(*v));
    *n = 0;
    for (size_t i = 0; i < k; i++) {
        const json_t *x = json_object_get(json_array_get(runs, i), name);
        if (json_is_number(x) && isfinite(json_number_value(x)))
            v[(*n)++] = json_number_value(x);
    }
    if (*n == 0) {
        free(v);
        return NULL;
    }
    return v;
}

/*
 * Function key's samples of field ("self_s", "total_s") in doc: its <field>_runs
 * (one per repeat), else <field>; zeros (one per repeat) when the document has a
 * profile without the function (it did not run). NULL when the document has no
 * profile.
 */
static double *function_samples(const json_t *doc, const char *key, const char *field, size_t *n)
{
    const json_t *fns = json_object_get(json_object_get(doc, "profile"), "functions");
    *n = 0;
    if (!json_is_array(fns))
        return NULL;
    const json_t *f = NULL, *g;
    size_t i;
    json_array_foreach(fns, i, g)
    {
        const char *k = json_string_value(json_object_get(g, "key"));
        if (k && strcmp(k, key) == 0)
            f = g;
    }
    size_t repeats = json_array_size(json_object_get(doc, "runs"));
    char name[32];
    snprintf(name, sizeof(name), "%s_runs", field);
    const json_t *arr = json_object_get(f, name);
    size_t k = json_array_size(arr);
    double *v = xcalloc((k > repeats ? k : repeats) + 1, sizeof(*v));
    if (!f) {
        *n = repeats ? repeats : 1; /* zeros */
        return v;
    }
    const json_t *x;
    json_array_foreach(arr, i, x) if (json_is_number(x) && isfinite(json_number_value(x)))
        v[(*n)++] = json_number_value(x);
    x = json_object_get(f, field);
    if (*n == 0 && json_is_number(x) && isfinite(json_number_value(x)))
        v[(*n)++] = json_number_value(x);
    if (*n == 0) {
        free(v);
        return NULL;
    }
    return v;
}

/* The runs of docs as regress_run (each one's samples of name, of function key's when
 * key is not NULL; owned by *store). */
static struct regress_run *runs_of(const json_t *const *docs, size_t n, const char *name,
                                   const char *key, double ***store, size_t *n_runs)
{
    struct regress_run *r = xcalloc(n ? n : 1, sizeof(*r));
    *store = xcalloc(n ? n : 1, sizeof(**store));
    *n_runs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        double *v = key ? function_samples(docs[i], key, name, &k) : samples(docs[i], name, &k);
        if (!v)
            continue;
        (*store)[*n_runs] = v;
        bool inexact = !key && strcmp(name, HISTORY_METRIC_INSTRUCTIONS) == 0 &&
                       !history_instructions_exact(docs[i]);
        r[(*n_runs)++] = (struct regress_run){v, k, inexact};
    }
    return r;
}

static void free_store(double **store, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(store[i]);
    free(store);
}

int abtest_paired(const double *base, const double *head, size_t n, double threshold_pct,
                  struct regress_result *r)
{
    struct stats_paired p;
    if (n < ABTEST_MIN_PAIRS)
        return -PYSCOPE_ENODATA;
    int rc = stats_paired_ratio(base, head, n, ABTEST_CONF, ABTEST_TRIM, &p);
    if (rc < 0)
        return rc;
    double t = log1p(threshold_pct / 100), d = log(p.ratio);
    double lo = log(p.ci_low), hi = log(p.ci_high), half = (hi - lo) / 2;
    r->statistical = true;
    r->change_pct = 100 * (p.ratio - 1);
    r->has_ci = true;
    r->ci_low_pct = 100 * (p.ci_low - 1);
    r->ci_high_pct = 100 * (p.ci_high - 1);
    r->has_noise = true;
    r->noise_pct = 100 * expm1(half);
    r->p_value = p.p_value;
    r->p_exact = true;
    r->threshold_pct = threshold_pct;
    r->n_runs = r->n_cand_runs = n;
    r->hint = NULL;
    if (p.ci_low > 1 && d > t) {
        r->verdict = REGRESS_REGRESSION;
        r->rule = REGRESS_RULE_SIGNIFICANT;
    } else if (p.ci_high < 1 && d < -t) {
        r->verdict = REGRESS_IMPROVEMENT;
        r->rule = REGRESS_RULE_SIGNIFICANT;
    } else if (lo >= -t && hi <= t) {
        /* an equivalence test, as regress_decide's: the interval rules out a change of T
         * either way (a change within T and a half-width within T let it reach 2T) */
        r->verdict = REGRESS_NO_CHANGE;
        r->rule = REGRESS_RULE_WITHIN_THRESHOLD;
    } else {
        /* within T, the interval reaching past it; or beyond T, the interval holding no
         * change (an interval off it would have decided above) */
        r->verdict = REGRESS_INCONCLUSIVE;
        r->rule = fabs(d) <= t ? REGRESS_RULE_CI_BEYOND_THRESHOLD : REGRESS_RULE_CI_SPANS_ZERO;
        r->hint = ABTEST_HINT_PAIRS;
    }
    return 0;
}

const char *abtest_paired_reason(const struct regress_result *r, char *buf, size_t size)
{
    switch (r->verdict) {
    case REGRESS_REGRESSION:
    case REGRESS_IMPROVEMENT:
        snprintf(buf, size,
                 "%s by %+.2f%% over %zu interleaved pairs: the paired %g%% CI %+.1f%% … %+.1f%% "
                 "excludes no change and the change is beyond the %.3g%% threshold (trimmed-mean t "
                 "test, p=%.3g)",
                 r->verdict == REGRESS_REGRESSION ? "slower" : "faster", r->change_pct, r->n_runs,
                 100 * ABTEST_CONF, r->ci_low_pct, r->ci_high_pct, r->threshold_pct, r->p_value);
        break;
    case REGRESS_NO_CHANGE:
        snprintf(buf, size,
                 "%+.2f%% over %zu interleaved pairs and its %g%% CI %+.1f%% … %+.1f%% are within "
                 "the %.3g%% threshold",
                 r->change_pct, r->n_runs, 100 * ABTEST_CONF, r->ci_low_pct, r->ci_high_pct,
                 r->threshold_pct);
        break;
    default:
        if (r->rule == REGRESS_RULE_CI_BEYOND_THRESHOLD) {
            char ci[64];
            snprintf(ci, sizeof(ci), "paired %g%% CI of %zu interleaved pairs", 100 * ABTEST_CONF,
                     r->n_runs);
            return regress_ci_beyond_reason(r, ci, buf, size);
        }
        snprintf(buf, size,
                 "the paired %g%% CI %+.1f%% … %+.1f%% of %zu interleaved pairs includes no "
                 "change and reaches beyond the %.3g%% threshold",
                 100 * ABTEST_CONF, r->ci_low_pct, r->ci_high_pct, r->n_runs, r->threshold_pct);
        break;
    }
    return buf;
}

/* The run statistic (quantile q of its samples) of metric name (function key's when not
 * NULL) in doc; false when it has none. */
static bool turn_stat(const json_t *doc, const char *name, const char *key, double q, double *out)
{
    size_t k;
    double *v = key ? function_samples(doc, key, name, &k) : samples(doc, name, &k);
    bool ok = v && stats_quantile(v, k, q, out) == 0;
    free(v);
    return ok;
}

/* Decide *r on the pairs of turns (base[i], head[i]) where both have the metric;
 * false (r untouched) when too few pairs do. */
static bool decide_paired(const json_t *const *base, size_t nb, const json_t *const *head,
                          size_t nh, const char *name, const char *key,
                          const struct regress_options *o, struct regress_result *r)
{
    size_t n = nb < nh ? nb : nh, k = 0;
    double *b = xcalloc(n ? n : 1, sizeof(*b)), *h = xcalloc(n ? n : 1, sizeof(*h));
    for (size_t i = 0; i < n; i++)
        if (turn_stat(base[i], name, key, o->run_quantile, &b[k]) &&
            turn_stat(head[i], name, key, o->run_quantile, &h[k]) && b[k] > 0 && h[k] > 0)
            k++;
    bool ok = abtest_paired(b, h, k, 100 * o->threshold, r) == 0;
    free(b);
    free(h);
    return ok;
}

/* The lowest and highest sample of runs r[0..n) into *lo, *hi. */
static void runs_range(const struct regress_run *r, size_t n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < r[i].n; k++) {
            *lo = fmin(*lo, r[i].x[k]);
            *hi = fmax(*hi, r[i].x[k]);
        }
}

/* Why instruction counts (name) went to rule: "counts differ between runs (base LO … HI,
 * head LO … HI), so the exact rule does not apply: compared with the paired rule; "
 * (or, when a run's counts are marked inexact, that the script ran several threads)
 * into buf; "" for any other metric or a function's. */
static void counts_differ(const char *name, const char *key, const struct regress_run *br,
                          size_t nb, const struct regress_run *hr, size_t nh, const char *rule,
                          char *buf, size_t size)
{
    buf[0] = '\0';
    if (key || strcmp(name, HISTORY_METRIC_INSTRUCTIONS) != 0)
        return;
    bool threads = false;
    for (size_t i = 0; i < nb; i++)
        threads |= br[i].inexact;
    for (size_t i = 0; i < nh; i++)
        threads |= hr[i].inexact;
    if (threads) {
        snprintf(buf, size, HISTORY_INSTRUCTIONS_THREADS_REASON ": compared with the %s rule; ",
                 rule);
        return;
    }
    double blo, bhi, hlo, hhi;
    runs_range(br, nb, &blo, &bhi);
    runs_range(hr, nh, &hlo, &hhi);
    snprintf(buf, size,
             "counts differ between runs (base %.0f \xe2\x80\xa6 %.0f, head %.0f \xe2\x80\xa6 "
             "%.0f), so the exact rule does not apply: compared with the %s rule; ",
             blo, bhi, hlo, hhi, rule);
}

/* Decide metric object m (name) again over all runs of both sides; false when it cannot. */
static bool redecide(json_t *m, const json_t *const *base, size_t nb, const json_t *const *head,
                     size_t nh, const struct regress_options *opt)
{
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *key = json_string_value(json_object_get(m, "function"));
    if (!name)
        return false;
    double **bs, **hs;
    size_t nbr, nhr;
    struct regress_run *br = runs_of(base, nb, name, key, &bs, &nbr);
    struct regress_run *hr = runs_of(head, nh, name, key, &hs, &nhr);
    struct regress_result r;
    bool ok = nbr && nhr && regress_metric_runs(br, nbr, hr, nhr, opt, &r) == 0;
    bool paired = ok && !r.deterministic && decide_paired(base, nb, head, nh, name, key, opt, &r);
    if (ok) {
        char reason[512], why[256] = "";
        if (!r.deterministic)
            counts_differ(name, key, br, nbr, hr, nhr, paired ? "paired" : "statistical", why,
                          sizeof(why));
        json_object_set_new(m, "verdict", json_string(regress_verdict_name(r.verdict)));
        json_object_set_new(m, "mode",
                            json_string(paired          ? "paired"
                                        : r.statistical ? "statistical"
                                                        : "threshold"));
        json_object_set_new(m, "pairs", paired ? json_integer((json_int_t)r.n_runs) : json_null());
        if (paired)
            json_object_set_new(m, "ci_method", json_string("paired_t"));
        json_object_set_new(m, "baseline_median", json_real(r.base_median));
        json_object_set_new(m, "candidate_median", json_real(r.cand_median));
        json_object_set_new(m, "change_pct", json_real(r.change_pct));
        json_object_set_new(m, "ci_low_pct", json_real_or_null(r.has_ci, r.ci_low_pct));
        json_object_set_new(m, "ci_high_pct", json_real_or_null(r.has_ci, r.ci_high_pct));
        json_object_set_new(m, "p_value", json_real(r.p_value));
        json_object_set_new(m, "p_method",
                            json_string(paired      ? "paired_t"
                                        : r.p_exact ? "exact"
                                                    : "normal"));
        json_object_set_new(m, "hl_shift_pct", json_real_or_null(r.has_hl, r.hl_shift_pct));
        json_object_set_new(m, "hl_ci_low_pct", json_real_or_null(r.has_hl, r.hl_ci_low_pct));
        json_object_set_new(m, "hl_ci_high_pct", json_real_or_null(r.has_hl, r.hl_ci_high_pct));
        json_object_set_new(m, "noise_pct", json_real_or_null(r.has_noise, r.noise_pct));
        json_object_set_new(m, "hint", r.hint ? json_string(r.hint) : json_null());
        json_object_set_new(m, "rule", json_string(regress_rule_name(r.rule)));
        char *full = xasprintf("%s%s", why,
                               paired ? abtest_paired_reason(&r, reason, sizeof(reason))
                                      : regress_reason(&r, reason, sizeof(reason)));
        json_object_set_new(m, "reason", json_string(full));
        free(full);
        json_object_set_new(m, "candidate",
                            json_pack("{s:I, s:I}", "n_samples", (json_int_t)r.n_cand, "n_runs",
                                      (json_int_t)r.n_cand_runs));
        json_t *b = json_object_get(m, "baseline");
        if (json_is_object(b)) {
            json_object_set_new(b, "n_runs", json_integer((json_int_t)r.n_runs));
            json_object_set_new(b, "n_samples", json_integer((json_int_t)r.n_base));
        }
        /* interleaved: both sides saw the same machine, so a sampled wall time
         * (hotspots) compares like with like; its contention note is not the try's */
        json_object_del(m, "contention");
    }
    free(br);
    free(hr);
    free_store(bs, nbr);
    free_store(hs, nhr);
    return ok;
}

/*
 * For each function of the hotspot metrics (their "self_s" objects), the same
 * comparison of its CPU self time ("self_cpu_s": the profile's figure, one per
 * turn), when every document of both sides has a profile with CPU times. Sampled
 * wall-clock times include the wait for a CPU; CPU self times do not, so on a
 * busy machine they still tell which function got slower.
 */
static void add_cpu_hotspots(json_t *metrics, const json_t *const *base, size_t nb,
                             const json_t *const *head, size_t nh, const struct regress_options *o)
{
    for (size_t d = 0; d < nb + nh; d++) {
        const json_t *doc = d < nb ? base[d] : head[d - nb];
        const json_t *fns = json_object_get(json_object_get(doc, "profile"), "functions");
        const json_t *f = json_array_get(fns, 0);
        if (!f || !json_is_number(json_object_get(f, "self_cpu_s")))
            return;
    }
    size_t n = json_array_size(metrics);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(metrics, i);
        const char *name = json_string_value(json_object_get(m, "metric"));
        if (!json_object_get(m, "function") || !name || strcmp(name, "self_s") != 0)
            continue;
        json_t *c = json_deep_copy(m);
        json_object_set_new(c, "metric", json_string("self_cpu_s"));
        if (redecide(c, base, nb, head, nh, o))
            json_array_append_new(metrics, c);
        else
            json_decref(c);
    }
}

/* The index of the head document whose median wall time is the median of them all. */
static size_t median_doc(const json_t *const *head, size_t nh)
{
    double *med = xcalloc(nh, sizeof(*med));
    for (size_t i = 0; i < nh; i++) {
        size_t k;
        double *v = samples(head[i], "wall_s", &k);
        double m = NAN;
        if (v) {
            /* the median of this run's samples (insertion sort: few repeats) */
            for (size_t a = 1; a < k; a++)
                for (size_t b = a; b > 0 && v[b - 1] > v[b]; b--) {
                    double t = v[b];
                    v[b] = v[b - 1];
                    v[b - 1] = t;
                }
            m = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
        }
        free(v);
        med[i] = m;
    }
    size_t best = 0;
    size_t best_rank = SIZE_MAX;
    for (size_t i = 0; i < nh; i++) {
        if (isnan(med[i]))
            continue;
        size_t below = 0, above = 0;
        for (size_t j = 0; j < nh; j++) {
            if (isnan(med[j]) || j == i)
                continue;
            below += med[j] < med[i];
            above += med[j] > med[i];
        }
        size_t imbalance = below > above ? below - above : above - below;
        if (imbalance < best_rank) {
            best_rank = imbalance;
            best = i;
        }
    }
    free(med);
    return best;
}

json_t *abtest_compare(const json_t *const *base, size_t nb, const json_t *const *head, size_t nh,
                       const struct regress_options *opt)
{
    struct regress_options o;
    if (opt)
        o = *opt;
    else
        regress_options_init(&o);
    o.change_points = false; /* the base runs are one revision: no level to find */
    o.hold_out = false;
    o.max_baseline_runs = 0; /* all of them */
    if (nh == 0)
        return regress_compare(NULL, base, 0, &o);
    size_t med = median_doc(head, nh);
    json_t *res = regress_compare(head[med], base, nb, &o);
    if (!res || nb == 0)
        return res;
    json_t *metrics = json_object_get(res, "metrics");
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m) redecide(m, base, nb, head, nh, &o);
    add_cpu_hotspots(metrics, base, nb, head, nh, &o);
    /* every hotspot's times over all runs: one family of tests (regress_adjust_functions) */
    regress_adjust_functions(metrics, o.alpha, 1 - ABTEST_CONF);
    /* the decision names a metric: give it that metric's verdict over all runs, and
     * the "why" of that verdict (the functions' medians over all runs of each side) */
    json_t *d = json_object_get(res, "decision");
    const char *dm = json_string_value(json_object_get(d, "metric"));
    json_array_foreach(metrics, i, m)
    {
        if (!dm || json_object_get(m, "function") ||
            strcmp(json_string_value(json_object_get(m, "metric")) ?: "", dm) != 0)
            continue;
        json_object_set(d, "verdict", json_object_get(m, "verdict"));
        json_object_set(d, "rule", json_object_get(m, "rule"));
        json_object_set(d, "change_pct", json_object_get(m, "change_pct"));
        json_object_set_new(res, "why", regress_why_runs(head[med], head, nh, base, nb, m));
    }
    json_object_set_new(
        res, "ab",
        json_pack("{s:I, s:I}", "base_runs", (json_int_t)nb, "head_runs", (json_int_t)nh));
    return res;
}

/* ln of the likelihood ratio of a change of D (log) against none, for the pairs' mean
 * log ratio d with standard error s on df degrees of freedom: the ratio of the two
 * Student t densities, so that a spread estimated from few pairs counts as uncertain. */
static double nearer_llr(double big_d, double d, double s, double df)
{
    double t0 = d / s, t1 = (d - big_d) / s;
    return (df + 1) / 2 * (log1p(t0 * t0 / df) - log1p(t1 * t1 / df));
}

const char *abtest_nearer_end(const json_t *ends, const json_t *m, char *why, size_t whylen)
{
    const json_t *lo = json_object_get(m, "ci_low_pct"), *hi = json_object_get(m, "ci_high_pct");
    double e = json_get_number(ends, "change_pct", NAN);
    double e_lo = fmin(e, json_get_number(ends, "ci_low_pct", e)),
           e_hi = fmax(e, json_get_number(ends, "ci_high_pct", e));
    if (!json_is_number(lo) || !json_is_number(hi) || !(e_lo > 0) || !isfinite(e_hi))
        return NULL;
    double l = json_number_value(lo), h = json_number_value(hi);
    if (h < e_lo / 2 || l > e_hi / 2) {
        pyscope_set_err(why, whylen,
                        "its interval %+.1f%% .. %+.1f%% lies wholly %s half the ends' change "
                        "(%+.1f%%, interval %+.1f%% .. %+.1f%%)",
                        l, h, h < e_lo / 2 ? "below" : "above", e, e_lo, e_hi);
        return h < e_lo / 2 ? "good" : "bad";
    }
    /* the two-point likelihood ratio, on the pairs' logs (abtest.h) */
    const char *mode = json_string_value(json_object_get(m, "mode"));
    json_int_t n = json_integer_value(json_object_get(m, "pairs"));
    const json_t *ch = json_object_get(m, "change_pct");
    if (!mode || strcmp(mode, "paired") != 0 || n < ABTEST_NEARER_LR_PAIRS || !json_is_number(ch) ||
        l <= -100)
        return NULL;
    double d = log1p(json_number_value(ch) / 100);
    double w = (log1p(h / 100) - log1p(l / 100)) / 2;
    double df = (double)((size_t)n - 2 * stats_trim_count((size_t)n, ABTEST_TRIM) - 1);
    double s = w / stats_t_ppf(0.5 + ABTEST_CONF / 2, df);
    if (!(s > 0) || !isfinite(d))
        return NULL;
    double a = nearer_llr(log1p(e_lo / 100), d, s, df), b = nearer_llr(log1p(e_hi / 100), d, s, df);
    double llr = a > 0 && b > 0 ? fmin(a, b) : a < 0 && b < 0 ? fmax(a, b) : 0;
    if (fabs(llr) < log(ABTEST_NEARER_ODDS))
        return NULL;
    pyscope_set_err(why, whylen,
                    "its %+.1f%% over %" JSON_INTEGER_FORMAT " pairs (interval %+.1f%% .. %+.1f%%) "
                    "is at least %.3g times likelier %s (%+.1f%% .. %+.1f%%)",
                    json_number_value(ch), n, l, h, exp(fmin(fabs(llr), 700)),
                    llr > 0 ? "if the commit made the ends' change than if it made none"
                            : "if the commit made no change than if it made the ends' change",
                    e_lo, e_hi);
    return llr > 0 ? "bad" : "good";
}

size_t abtest_step_batches(bool ends, size_t max_extra)
{
    return ends ? 3 * (1 + max_extra) : 1 + 2 * max_extra;
}

bool abtest_pool_more(const char *verdict, bool ends, size_t batches, size_t max_extra,
                      long long runs_left, size_t rounds)
{
    return verdict && strcmp(verdict, "inconclusive") == 0 &&
           batches < abtest_step_batches(ends, max_extra) && runs_left >= 2 * (long long)rounds;
}
