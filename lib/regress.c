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

#include "contended.h"
#include "cp_memo.h"
#include "errors.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "pathnorm.h"
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
#define REGRESS_WHY_LIB_TOP  3 /* library functions listed under their user caller */
/* A sampled "why" names a function only from this many samples on each side (over its
 * runs: a quiet baseline of short runs and a busy candidate's longer ones both count) ... */
#define REGRESS_WHY_MIN_SAMPLES 20.0
/* ... and when its change is beyond noise: with REGRESS_WHY_MIN_DF degrees of freedom or
 * more, the documents' spread of the function's value, a two-sided Student's t test at
 * REGRESS_WHY_ALPHA; with fewer, this many binomial standard errors (why_resolved()). */
#define REGRESS_WHY_MIN_DF 2.0
#define REGRESS_WHY_ALPHA  0.05
#define REGRESS_WHY_MIN_Z  2.0
/* Each function of a sampled "why" is tested so (the largest change first), with the
 * fallback procedure over them (why_name_functions()): the largest gets this share of
 * REGRESS_WHY_ALPHA, the others the rest in equal parts. */
#define REGRESS_WHY_FIRST_WEIGHT 0.8
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
    opt->cp_memo = NULL;
    opt->min_baseline_runs = REGRESS_MIN_BASELINE_RUNS;
    opt->change_points = true;
    opt->hold_out = true;
    opt->new_level_runs = 3;
    opt->decide_metric = NULL;
    opt->decide_by = NULL;
    opt->not_deciding = true;
    opt->noise_outlier = false;
}

const char *regress_rule_name(enum regress_rule rule)
{
    switch (rule) {
    case REGRESS_RULE_DETERMINISTIC:
        return "deterministic";
    case REGRESS_RULE_INSUFFICIENT_HISTORY:
        return "insufficient_history";
    case REGRESS_RULE_WITHIN_NOISE:
        return "within_noise";
    case REGRESS_RULE_CI_SPANS_ZERO:
        return "ci_spans_zero";
    case REGRESS_RULE_NOT_SIGNIFICANT:
        return "not_significant";
    case REGRESS_RULE_SIGNIFICANT:
        return "significant";
    case REGRESS_RULE_BEYOND_NOISE:
        return "beyond_noise";
    case REGRESS_RULE_CONTENDED:
        return "contended";
    case REGRESS_RULE_CI_BEYOND_THRESHOLD:
        return "ci_beyond_threshold";
    case REGRESS_RULE_NOT_DECIDING:
        return "not_deciding";
    case REGRESS_RULE_WITHIN_THRESHOLD:
    default:
        return "within_threshold";
    }
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
    o->cp_memo = opt->cp_memo;
    if (opt->run_quantile >= 0 && opt->run_quantile <= 1)
        o->run_quantile = opt->run_quantile;
    else
        log_warn("invalid per-run quantile %g, using %g", opt->run_quantile, o->run_quantile);
    /* fewer runs cannot give a noise floor: never below the floor's own need */
    if (opt->min_baseline_runs > REGRESS_MIN_BASELINE_RUNS)
        o->min_baseline_runs = opt->min_baseline_runs;
    o->change_points = opt->change_points;
    o->hold_out = opt->hold_out;
    o->new_level_runs = opt->new_level_runs > 0 ? opt->new_level_runs : 0;
    o->not_deciding = opt->not_deciding;
    o->noise_outlier = opt->noise_outlier;
    o->decide_metric = opt->decide_metric;
    o->decide_by = opt->decide_by;
}

/* ---- one metric ----------------------------------------------------------- */

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
static void run_noise_of(const double *sb, size_t r, size_t m, double centre,
                         struct regress_result *out)
{
    double mad, sd;
    out->has_noise = false;
    out->noise_outliers = 0;
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

/* sigma of run_noise_of() (max of 1.4826 MAD and the standard deviation) of x[0..n); -1. */
static double robust_sigma(const double *x, size_t n)
{
    double mad, sd;
    if (stats_mad(x, n, &mad) < 0 || stats_stdev(x, n, &sd) < 0)
        return -1;
    return 1.4826 * mad > sd ? 1.4826 * mad : sd;
}

/*
 * run_noise_of(), leaving out one isolated outlier run when outlier (the farm) and there
 * are at least REGRESS_OUTLIER_MIN_RUNS runs: the run farthest from the median, when it lies
 * beyond a 99.9% prediction interval of the others (Student's t with r-2 degrees of freedom;
 * sigma as above, of the others). A single far night (a VM's CPU time of unchanged code +55%
 * for one job, its reference run beside it unmoved: test_team_farm in CI, 2026-12-07) made the
 * floor of eight nights +-31.6% instead of about +-8%, and hid a confirmed +30%. Only the
 * floor leaves it out: the centre (a median) barely moves, and the pooled tests keep every run.
 * Only one: two far runs are not an outlier but how the series behaves.
 */
#define REGRESS_OUTLIER_MIN_RUNS 6
#define REGRESS_OUTLIER_ALPHA    0.001
static void run_noise(const double *sb, size_t r, size_t m, double centre, bool outlier,
                      struct regress_result *out)
{
    run_noise_of(sb, r, m, centre, out);
    if (!outlier || r < REGRESS_OUTLIER_MIN_RUNS || !out->has_noise)
        return;
    size_t far = 0;
    for (size_t i = 1; i < r; i++)
        if (fabs(sb[i] - centre) > fabs(sb[far] - centre))
            far = i;
    double *rest = xmalloc((r - 1) * sizeof(*rest)), c;
    for (size_t i = 0, k = 0; i < r; i++)
        if (i != far)
            rest[k++] = sb[i];
    double sigma = robust_sigma(rest, r - 1);
    if (sigma >= 0 && stats_median(rest, r - 1, &c) == 0 && c > 0) {
        double t = stats_t_ppf(1 - REGRESS_OUTLIER_ALPHA / 2, (double)(r - 2));
        if (fabs(sb[far] - c) > t * sigma * sqrt(1 + 1.0 / (double)(r - 1))) {
            struct regress_result rr = *out;
            run_noise_of(rest, r - 1, m, c, &rr);
            if (rr.has_noise && rr.noise_pct < out->noise_pct) {
                out->noise_pct = rr.noise_pct;
                out->noise_outliers = 1;
            }
        }
    }
    free(rest);
}

/* Check every run's samples; count samples and runs with samples. */
static int check_runs(const struct regress_run *runs, size_t n_runs, size_t *n, size_t *r)
{
    *n = *r = 0;
    for (size_t i = 0; i < n_runs; i++) {
        int rc = runs[i].n ? stats_check_nonneg(runs[i].x, runs[i].n) : 0;
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

/* regress_centres()' answer from the rb baseline run statistics sb (new array: freed
 * here) and the candidate runs (rc_runs of them with samples, checked). */
static void centres_of_stats(double *sb, size_t rb, const struct regress_run *cand_runs,
                             size_t n_cand_runs, size_t rc_runs, const struct regress_options *o,
                             double *base, double *cand, double *noise_pct)
{
    *base = 0;
    stats_median(sb, rb, base);
    free(run_centre(cand_runs, n_cand_runs, rc_runs, o->run_quantile, cand));
    if (noise_pct) {
        struct regress_result r = {0};
        run_noise(sb, rb, rc_runs, *base, o->noise_outlier, &r);
        *noise_pct = r.has_noise ? r.noise_pct : -1;
    }
    free(sb);
}

int regress_centres(const struct regress_run *runs, size_t n_runs,
                    const struct regress_run *cand_runs, size_t n_cand_runs,
                    const struct regress_options *opt, double *base, double *cand,
                    double *noise_pct)
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
    double *sb = xmalloc((rb ? rb : 1) * sizeof(*sb));
    run_stats(runs, n_runs, o.run_quantile, sb);
    centres_of_stats(sb, rb, cand_runs, n_cand_runs, rc_runs, &o, base, cand, noise_pct);
    return 0;
}

int regress_centres_of(const double *run_st, size_t n_runs, const struct regress_run *cand_runs,
                       size_t n_cand_runs, const struct regress_options *opt, double *base,
                       double *cand, double *noise_pct)
{
    struct regress_options o;
    options_sane(opt, &o);
    size_t nc, rc_runs, rb = 0;
    int rc = check_runs(cand_runs, n_cand_runs, &nc, &rc_runs);
    if (rc < 0)
        return rc;
    /* the statistics of the runs with samples, in their order (the noise floor's
     * standard deviation is a compensated sum: the same order, the same bits) */
    double *sb = xmalloc((n_runs ? n_runs : 1) * sizeof(*sb));
    for (size_t i = 0; i < n_runs; i++)
        if (!isnan(run_st[i]))
            sb[rb++] = run_st[i];
    if (rb == 0 || nc == 0) {
        free(sb);
        return -PYSCOPE_ENODATA;
    }
    centres_of_stats(sb, rb, cand_runs, n_cand_runs, rc_runs, &o, base, cand, noise_pct);
    return 0;
}

/* True when every sample of runs[] lies within REGRESS_DETERMINISTIC_SPREAD of their
 * median (at least 2 samples; samples already checked) and no run is inexact. */
static bool runs_exact(const struct regress_run *runs, size_t n_runs, size_t n)
{
    if (n < 2)
        return false;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n_runs; i++)
        if (runs[i].inexact)
            return false;
    for (size_t i = 0; i < n_runs; i++)
        for (size_t j = 0; j < runs[i].n; j++) {
            lo = fmin(lo, runs[i].x[j]);
            hi = fmax(hi, runs[i].x[j]);
        }
    return hi > 0 && hi - lo <= REGRESS_DETERMINISTIC_SPREAD * hi;
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
    out->min_runs = (size_t)o.min_baseline_runs;
    out->deterministic = runs_exact(runs, n_runs, nb) && runs_exact(cand_runs, n_cand_runs, nc);

    /* the two levels: one statistic per run, the centre of each side is their median */
    double *sb = run_centre(runs, n_runs, rb, o.run_quantile, &out->base_median);
    double *sc = run_centre(cand_runs, n_cand_runs, rc_runs, o.run_quantile, &out->cand_median);
    if (!(out->base_median > 0)) {
        free(sb);
        free(sc);
        return -PYSCOPE_ERANGE;
    }
    out->change_pct = 100 * (out->cand_median / out->base_median - 1);
    run_noise(sb, rb, rc_runs, out->base_median, o.noise_outlier, out);
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

/* Held-out tails are looked for up to this long when new levels are never confirmed. */
#define REGRESS_HOLD_MAX 10
/* Without a noise floor, the runs before a tail need this many samples to hold it out. */
#define REGRESS_HOLD_MIN_SAMPLES 3

/* The farthest sample of runs[0..n_runs) from centre (> 0), as a percentage of it. */
static double runs_spread_pct(const struct regress_run *runs, size_t n_runs, double centre)
{
    double far = 0;
    for (size_t i = 0; i < n_runs; i++)
        for (size_t j = 0; j < runs[i].n; j++)
            far = fmax(far, fabs(100 * (runs[i].x[j] / centre - 1)));
    return far;
}

/* Index where the latest level of st[0..n) begins (E-divisive, through the memo
 * o->cp_memo), 0 when none or without o->change_points. */
static size_t latest_change(const double *st, size_t n, const struct regress_options *o)
{
    bool on = o->change_points;
    struct stats_cp_options cpo;
    stats_cp_options_init(&cpo);
    size_t cps[16], ncp = 0;
    if (on && n >= 2 * cpo.min_size &&
        cp_memo_changepoints(o->cp_memo, st, n, &cpo, cps, sizeof(cps) / sizeof(cps[0]), &ncp) ==
            0 &&
        ncp > 0)
        return cps[ncp - 1];
    return 0;
}

/* True when each of the n run statistics t[] lies beyond bound (%) of centre, all on one
 * side; *side (unless NULL) gets that side (+1 slower, -1 faster) of the last one looked at. */
static bool tail_beyond(const double *t, size_t n, double centre, double bound, int *side)
{
    int sd = 0;
    bool all = true;
    for (size_t j = 0; j < n && all; j++) {
        double dev = 100 * (t[j] / centre - 1);
        int sj = dev > 0 ? 1 : -1;
        all = fabs(dev) > bound && (sd == 0 || sj == sd);
        sd = sj;
    }
    if (side)
        *side = sd;
    return all;
}

/*
 * False when the tail st[prefix..r) is within bound (%) of the median of st[s0..prefix) for
 * every s0 that latest_change(st, prefix, on) can return (0, or a split at least min_size
 * runs from either end): then no change point of the prefix can hold the tail out, and its
 * (costly) search is skipped. Same answer: the bound of the held-out search only widens.
 */
static bool tail_may_hold(const double *st, size_t prefix, size_t r, double bound, bool on)
{
    struct stats_cp_options cpo;
    stats_cp_options_init(&cpo);
    size_t last = on && prefix >= 2 * cpo.min_size ? prefix - cpo.min_size : 0;
    for (size_t s0 = 0; s0 <= last; s0++) {
        double centre;
        if ((s0 == 0 || s0 >= cpo.min_size) && stats_median(st + s0, prefix - s0, &centre) == 0 &&
            centre > 0 && tail_beyond(st + prefix, r - prefix, centre, bound, NULL))
            return true;
    }
    return false;
}

int regress_baseline_select(const struct regress_run *runs, size_t n_runs,
                            const struct regress_options *opt, struct regress_baseline *sel)
{
    return regress_baseline_select_stats(runs, n_runs, opt, sel, NULL);
}

int regress_baseline_select_stats(const struct regress_run *runs, size_t n_runs,
                                  const struct regress_options *opt, struct regress_baseline *sel,
                                  double *run_st)
{
    struct regress_options o;
    options_sane(opt, &o);
    memset(sel, 0, sizeof(*sel));
    size_t nb, r;
    int rc = check_runs(runs, n_runs, &nb, &r);
    if (rc < 0)
        return rc;
    if (nb == 0)
        return -PYSCOPE_ENODATA;
    /* st[k]: the statistic of the k-th run with samples, runs[idx[k]] */
    size_t *idx = xcalloc(r, sizeof(*idx));
    double *st = xcalloc(r, sizeof(*st));
    for (size_t i = 0, k = 0; i < n_runs; i++) {
        if (runs[i].n) {
            idx[k] = i;
            stats_quantile(runs[i].x, runs[i].n, o.run_quantile, &st[k]);
        }
        if (run_st)
            run_st[i] = runs[i].n ? st[k] : NAN;
        k += runs[i].n > 0;
    }
    /*
     * The held-out tail: the longest tail of at most hmax newest runs that all lie beyond
     * the bound of the runs before it (since their own latest change point), on one side.
     * Any tail that contains a run back at the old level fails, so a fluke is dismissed.
     */
    size_t held = 0, held_start = 0;
    int side = 0;
    size_t hmax = o.new_level_runs > 0 ? (size_t)o.new_level_runs : REGRESS_HOLD_MAX;
    for (size_t h = 1; o.hold_out && h <= hmax && h < r; h++) {
        if (!tail_may_hold(st, r - h, r, 100 * o.threshold, o.change_points))
            continue;
        size_t prefix = r - h, s0 = latest_change(st, prefix, &o);
        double centre;
        if (stats_median(st + s0, prefix - s0, &centre) < 0 || !(centre > 0))
            continue;
        double bound = 100 * o.threshold;
        /* the noise floor only ever widens the bound: a tail that is not beyond the
         * threshold alone is not beyond it either (the common case: no tail at all) */
        if (!tail_beyond(st + prefix, r - prefix, centre, bound, NULL))
            continue;
        struct regress_result noise = {0};
        run_noise(st + s0, prefix - s0, 1, centre, o.noise_outlier, &noise);
        if (noise.has_noise && noise.noise_pct > bound)
            bound = noise.noise_pct;
        /* fewer than 3 runs before the tail give no noise floor. Exact samples (instruction
         * counts): the threshold alone is the bound. Otherwise, when a held tail can become
         * the new level, a tail far outside the runs before it is held out: beyond every
         * one of their samples by more than the threshold (runs_spread_pct), so that
         * a first slow run is not the noise floor of the next ones while the history is
         * short. Not with fewer than REGRESS_HOLD_MIN_SAMPLES samples (one run of one
         * repeat has no spread: any run beyond T would do), nor when the tail is never
         * confirmed (new_level_runs 0): it would starve the baseline. */
        if (!noise.has_noise) {
            size_t n_ref = 0, first = idx[s0], end = idx[prefix - 1] + 1;
            for (size_t k = s0; k < prefix; k++)
                n_ref += runs[idx[k]].n;
            bool exact = runs_exact(runs + first, end - first, n_ref);
            if (!exact && (o.new_level_runs <= 0 || n_ref < REGRESS_HOLD_MIN_SAMPLES))
                continue;
            if (!exact)
                bound += runs_spread_pct(runs + first, end - first, centre);
        }
        int sd = 0;
        if (tail_beyond(st + prefix, r - prefix, centre, bound, &sd)) {
            held = h;
            side = sd;
            held_start = s0;
        }
    }
    size_t start;
    if (o.new_level_runs > 0 && held >= (size_t)o.new_level_runs) {
        start = r - held; /* confirmed: the held-out runs are the new level */
        held = 0;
    } else {
        start = held ? held_start : latest_change(st, r, &o);
    }
    size_t stop = r - held, from = start;
    if (o.max_baseline_runs > 0 && stop - from > (size_t)o.max_baseline_runs)
        from = stop - (size_t)o.max_baseline_runs;
    sel->first = idx[from];
    sel->end = held ? idx[stop] : n_runs;
    sel->n_runs = stop - from;
    sel->has_change_point = start > 0;
    sel->change_point = start > 0 ? idx[start] : 0;
    sel->held_first = held ? idx[stop] : n_runs;
    sel->n_held = held;
    sel->held_side = held ? side : 0;
    free(idx);
    free(st);
    return 0;
}

int regress_metric_history(const struct regress_run *runs, size_t n_runs,
                           const struct regress_run *cand_runs, size_t n_cand_runs,
                           const struct regress_options *opt, struct regress_result *out,
                           struct regress_baseline *sel)
{
    struct regress_baseline tmp;
    if (!sel)
        sel = &tmp;
    memset(out, 0, sizeof(*out));
    int rc = regress_baseline_select(runs, n_runs, opt, sel);
    if (rc < 0)
        return rc;
    return regress_metric_runs(runs + sel->first, sel->end - sel->first, cand_runs, n_cand_runs,
                               opt, out);
}

void regress_decide(struct regress_result *r, double alpha)
{
    double mag = fabs(r->change_pct), t = r->threshold_pct;
    bool up = r->change_pct > 0;
    enum regress_verdict decided = up ? REGRESS_REGRESSION : REGRESS_IMPROVEMENT;
    size_t need = regress_runs_needed(r->min_runs);
    r->hint = NULL;
    r->verdict = REGRESS_INCONCLUSIVE;
    /* "no change" is a claim: it needs runs that could have shown a change of T. Exact
     * samples could; otherwise only a known noise floor (enough baseline runs) no wider
     * than T: a wider one makes it within_noise, too few runs insufficient_history. And
     * the claim is an equivalence test (like TOST): the 95% CI must lie inside [-T, +T],
     * ruling out a change of T either way; a CI reaching past it (or none) leaves a change
     * of T possible: inconclusive, never "no change" (a +20% slowdown measured +9.7%, CI
     * +9.7% ... +14.8%, noise floor 8.65%, T 10%, was once called unchanged). */
    bool sees_t = r->n_runs >= need && r->has_noise && r->noise_pct <= t;
    if (mag <= t && !r->deterministic && sees_t &&
        !(r->has_ci && r->ci_low_pct >= -t && r->ci_high_pct <= t)) {
        r->rule = REGRESS_RULE_CI_BEYOND_THRESHOLD;
        r->hint = r->n_cand < 10 ? REGRESS_HINT_REPEAT : REGRESS_HINT_CI_WIDE;
    } else if (mag <= t && (r->deterministic || sees_t)) {
        r->verdict = REGRESS_NO_CHANGE;
        r->rule = REGRESS_RULE_WITHIN_THRESHOLD;
    } else if (r->deterministic) {
        r->verdict = decided;
        r->rule = REGRESS_RULE_DETERMINISTIC;
    } else if (r->n_runs < need) {
        r->rule = REGRESS_RULE_INSUFFICIENT_HISTORY;
        r->hint = REGRESS_HINT_HISTORY;
    } else if (!r->has_noise || mag <= r->noise_pct) {
        r->rule = REGRESS_RULE_WITHIN_NOISE;
        r->hint = REGRESS_HINT_NOISE;
    } else if (!r->has_ci || (up ? r->ci_low_pct <= 0 : r->ci_high_pct >= 0)) {
        r->rule = REGRESS_RULE_CI_SPANS_ZERO;
        r->hint = r->n_cand < 10 ? REGRESS_HINT_REPEAT : REGRESS_HINT_NOT_SIGNIFICANT;
    } else if (r->statistical && !(r->p_value < alpha)) {
        r->rule = REGRESS_RULE_NOT_SIGNIFICANT;
        r->hint = r->n_cand < 10 ? REGRESS_HINT_REPEAT : REGRESS_HINT_NOT_SIGNIFICANT;
    } else {
        r->verdict = decided;
        r->rule = r->statistical ? REGRESS_RULE_SIGNIFICANT : REGRESS_RULE_BEYOND_NOISE;
    }
}

const char *regress_reason(const struct regress_result *r, char *buf, size_t size)
{
    const char *dir = r->change_pct > 0 ? "slower" : "faster";
    size_t need = regress_runs_needed(r->min_runs);
    switch (r->rule) {
    case REGRESS_RULE_WITHIN_THRESHOLD:
        if (r->deterministic)
            snprintf(buf, size, "%+.2f%% is within the %.3g%% threshold (exact samples)",
                     r->change_pct, r->threshold_pct);
        else if (r->has_noise && r->has_ci)
            snprintf(buf, size,
                     "%+.2f%% and its 95%% CI are within the %.3g%% threshold (noise floor "
                     "±%.2f%%, %zu baseline runs)",
                     r->change_pct, r->threshold_pct, r->noise_pct, r->n_runs);
        else
            snprintf(buf, size, "%+.2f%% is within the %.3g%% threshold", r->change_pct,
                     r->threshold_pct);
        break;
    case REGRESS_RULE_DETERMINISTIC:
        snprintf(buf, size,
                 "every sample of each side is the same (a deterministic metric): the change "
                 "is exact and beyond the %.3g%% threshold",
                 r->threshold_pct);
        break;
    case REGRESS_RULE_INSUFFICIENT_HISTORY:
        snprintf(buf, size,
                 "insufficient history: %zu baseline run%s, the check needs %zu to know how much "
                 "runs differ",
                 r->n_runs, r->n_runs == 1 ? "" : "s", need);
        break;
    case REGRESS_RULE_WITHIN_NOISE:
        snprintf(buf, size, "%+.2f%% is within the baseline runs' noise floor of ±%.2f%%",
                 r->change_pct, r->has_noise ? r->noise_pct : 0);
        break;
    case REGRESS_RULE_CI_SPANS_ZERO:
        if (r->has_ci)
            snprintf(buf, size, "the 95%% CI %+.1f%% … %+.1f%% includes no change", r->ci_low_pct,
                     r->ci_high_pct);
        else
            snprintf(buf, size, "no confidence interval could be computed");
        break;
    case REGRESS_RULE_NOT_SIGNIFICANT:
        snprintf(buf, size, "not significant: p=%.3f is not below the significance level",
                 r->p_value);
        break;
    case REGRESS_RULE_SIGNIFICANT:
        snprintf(buf, size,
                 "%s beyond the %.3g%% threshold and the ±%.2f%% noise floor, p=%.3g, 95%% CI "
                 "off 0",
                 dir, r->threshold_pct, r->noise_pct, r->p_value);
        break;
    case REGRESS_RULE_BEYOND_NOISE:
        snprintf(buf, size,
                 "%s beyond the %.3g%% threshold and the ±%.2f%% noise floor of %zu baseline "
                 "runs, 95%% CI off 0 (too few samples for the U test)",
                 dir, r->threshold_pct, r->noise_pct, r->n_runs);
        break;
    case REGRESS_RULE_CONTENDED:
        snprintf(buf, size, "wall time mostly spent waiting for a CPU: not comparable");
        break;
    case REGRESS_RULE_CI_BEYOND_THRESHOLD:
        regress_ci_beyond_reason(r, "95% CI", buf, size);
        break;
    case REGRESS_RULE_NOT_DECIDING: /* set on the answer (regress_not_deciding_reason) */
        snprintf(buf, size, "the deciding metric did not move with it");
        break;
    }
    size_t len = strlen(buf);
    if (r->noise_outliers && len < size && strstr(buf, "noise floor"))
        snprintf(buf + len, size - len, " (one outlier baseline run left out of the floor)");
    return buf;
}

const char *regress_ci_beyond_reason(const struct regress_result *r, const char *ci, char *buf,
                                     size_t size)
{
    if (r->has_ci)
        snprintf(buf, size,
                 "%+.2f%% is within the %.3g%% threshold, but the %s %+.1f%% … %+.1f%% reaches "
                 "beyond it: a change of more than %.3g%% is not ruled out",
                 r->change_pct, r->threshold_pct, ci, r->ci_low_pct, r->ci_high_pct,
                 r->threshold_pct);
    else
        snprintf(buf, size,
                 "%+.2f%% is within the %.3g%% threshold, but no confidence interval could be "
                 "computed: a change of more than %.3g%% is not ruled out",
                 r->change_pct, r->threshold_pct, r->threshold_pct);
    return buf;
}

/* ---- machine speed ---------------------------------------------------------- */

/* The positive, finite values of x[0..n) into a new array; *k gets their count. */
static double *positive(const double *x, size_t n, size_t *k)
{
    double *v = xcalloc(n ? n : 1, sizeof(*v));
    *k = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] > 0 && isfinite(x[i]))
            v[(*k)++] = x[i];
    return v;
}

void regress_speed_assess(const double *base, size_t nb, const double *cand, size_t nc,
                          double threshold_pct, struct regress_speed *out)
{
    memset(out, 0, sizeof(*out));
    out->noise_pct = -1;
    size_t kb, kc;
    double *b = positive(base, nb, &kb), *c = positive(cand, nc, &kc);
    out->n_base = kb;
    out->known = kb > 0 && kc > 0 && stats_median(b, kb, &out->base_ref_ns) == 0 &&
                 stats_median(c, kc, &out->cand_ref_ns) == 0 && out->base_ref_ns > 0;
    if (out->known) {
        out->change_pct = 100.0 * (out->cand_ref_ns / out->base_ref_ns - 1);
        if (kb >= REGRESS_MIN_BASELINE_RUNS) {
            double *dev = xcalloc(kb, sizeof(*dev)), mad = 0;
            for (size_t i = 0; i < kb; i++)
                dev[i] = fabs(b[i] - out->base_ref_ns);
            if (stats_median(dev, kb, &mad) == 0)
                out->noise_pct = REGRESS_SPEED_NOISE_K * 1.4826 * mad / out->base_ref_ns * 100.0;
            free(dev);
        }
        out->limit_pct = threshold_pct / 2;
        if (out->noise_pct > out->limit_pct)
            out->limit_pct = out->noise_pct;
        if (out->limit_pct < REGRESS_SPEED_MIN_PCT)
            out->limit_pct = REGRESS_SPEED_MIN_PCT;
        /* without the reference's own noise (< 3 baseline runs) nothing can be said */
        out->moved = out->noise_pct >= 0 && fabs(out->change_pct) > out->limit_pct;
    }
    free(b);
    free(c);
}

bool regress_speed_explains(const struct regress_speed *s, enum regress_verdict verdict,
                            double change_pct, double threshold_pct, double noise_pct,
                            double *net_pct)
{
    double net = change_pct;
    if (s->known && s->change_pct > -100)
        net = 100.0 * ((1 + change_pct / 100) / (1 + s->change_pct / 100) - 1);
    if (net_pct)
        *net_pct = net;
    if (!s->known || !s->moved)
        return false;
    bool up = verdict == REGRESS_REGRESSION;
    if (!up && verdict != REGRESS_IMPROVEMENT)
        return false;
    /* a drift against the verdict's direction only understates it */
    if (up ? s->change_pct <= 0 : s->change_pct >= 0)
        return false;
    double bar = noise_pct > threshold_pct ? noise_pct : threshold_pct;
    return up ? net <= bar : -net <= bar;
}

/* ---- contention ------------------------------------------------------------- */

/* Median of the known runs' field (queued or CPU-bound share); false when none. */
static bool run_contention_median(const struct regress_run_contention *v, size_t n, bool queued,
                                  double *out)
{
    double *x = xcalloc(n ? n : 1, sizeof(*x));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double y = queued ? v[i].queued_pct : v[i].cpu_bound_pct;
        if (v[i].known && y >= 0 && isfinite(y))
            x[k++] = y;
    }
    bool ok = k > 0 && stats_median(x, k, out) == 0;
    free(x);
    return ok;
}

void regress_contention_assess(const struct regress_run_contention *base, size_t nb,
                               const struct regress_run_contention *cand, size_t nc,
                               struct regress_contention *out)
{
    memset(out, 0, sizeof(*out));
    out->cand_cpu_bound_pct = out->base_cpu_bound_pct = -1;
    bool kc = run_contention_median(cand, nc, true, &out->cand_queued_pct);
    bool kb = run_contention_median(base, nb, true, &out->base_queued_pct);
    out->known = kc && kb;
    if (!run_contention_median(cand, nc, false, &out->cand_cpu_bound_pct))
        out->cand_cpu_bound_pct = -1;
    if (!run_contention_median(base, nb, false, &out->base_cpu_bound_pct))
        out->base_cpu_bound_pct = -1;
    out->contaminated = (kc && out->cand_queued_pct >= CONTENDED_WALL_PCT) ||
                        (kb && out->base_queued_pct >= CONTENDED_WALL_PCT);
    out->cpu_bound =
        out->cand_cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT &&
        (out->base_cpu_bound_pct < 0 || out->base_cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT);
}

bool regress_contention_apply(struct regress_result *wall, const struct regress_result *net,
                              const struct regress_contention *c)
{
    if (!c->contaminated)
        return false;
    if (net)
        *wall = *net; /* the figures of the net times, in every case */
    if (net && !c->cpu_bound)
        return true;
    /* no net times, or a CPU-bound script: its CPU time decides (regress_compare) */
    wall->verdict = REGRESS_INCONCLUSIVE;
    wall->rule = REGRESS_RULE_CONTENDED;
    wall->hint = REGRESS_HINT_CONTENDED;
    return true;
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
        if (json_value_nonneg(v, &x)) {
            dvec_push(d, x);
            added++;
        }
    }
    if (!added && json_value_nonneg(json_object_get(f, field), &x)) {
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

/* The net wall times of doc's repeats (wall_s less the wall time it waited for a
 * CPU, contended_own_wait(); both known and the difference positive) appended to d;
 * returns how many. */
static size_t net_samples(const json_t *doc, struct dvec *d)
{
    size_t i, added = 0;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "runs"), i, r)
    {
        double w, q, c;
        if (!json_value_nonneg(json_object_get(r, "cpu_s"), &c))
            c = -1;
        if (!json_value_nonneg(json_object_get(r, "wall_s"), &w) ||
            !json_value_nonneg(json_object_get(r, "run_delay_s"), &q))
            continue;
        double net = w - contended_own_wait(w, q, c);
        if (net > 0) {
            dvec_push(d, net);
            added++;
        }
    }
    return added;
}

/* The name of the net wall time "metric" (only ever compared, never reported as one). */
#define NET_WALL "wall_net_s"

static size_t spec_samples(const json_t *doc, const struct metric_spec *m, struct dvec *d)
{
    if (m->function)
        return function_samples(doc, m->function, m->name, d);
    return strcmp(m->name, NET_WALL) == 0 ? net_samples(doc, d) : run_samples(doc, m->name, d);
}

/* Whether m's samples of doc may vary for the same code (instruction counts of a
 * threaded script: history_instructions_exact). */
static bool spec_inexact(const json_t *doc, const struct metric_spec *m)
{
    return !m->function && strcmp(m->name, HISTORY_METRIC_INSTRUCTIONS) == 0 &&
           !history_instructions_exact(doc);
}

static json_t *doc_id(const json_t *doc)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    return id ? json_string(id) : json_null();
}

/* One document's contention as a run of regress_contention_assess(). */
static struct regress_run_contention doc_contention(const json_t *doc)
{
    struct contended_summary cs;
    struct regress_run_contention rc = {0};
    rc.cpu_bound_pct = -1;
    if (contended_summarize(doc, &cs) == 0) {
        rc.known = true;
        rc.queued_pct = cs.queued_pct;
        rc.cpu_bound_pct = cs.cpu_bound_pct;
    }
    return rc;
}

/* The contention of the candidate against base[first, end). */
static void docs_contention(const json_t *cand, const json_t *const *base, size_t first, size_t end,
                            struct regress_contention *out)
{
    size_t nb = end - first;
    struct regress_run_contention *b = xcalloc(nb ? nb : 1, sizeof(*b));
    for (size_t i = 0; i < nb; i++)
        b[i] = doc_contention(base[first + i]);
    struct regress_run_contention c = doc_contention(cand);
    regress_contention_assess(b, nb, &c, 1, out);
    free(b);
}

const char *regress_level_basis(const json_t *const *docs, size_t n, const char *metric)
{
    if (n < 2 || strcmp(metric, "wall_s") != 0)
        return metric;
    struct regress_contention c;
    docs_contention(docs[n - 1], docs, 0, n - 1, &c);
    if (!c.contaminated)
        return metric;
    if (c.cpu_bound)
        return "cpu_s";
    /* the net wall time, when every run has one */
    for (size_t i = 0; i < n; i++) {
        struct dvec d = {0};
        size_t k = net_samples(docs[i], &d);
        free(d.v);
        if (k == 0)
            return metric;
    }
    return NET_WALL;
}

bool regress_level(const json_t *doc, const char *basis, double *level)
{
    struct dvec d = {0};
    size_t k = strcmp(basis, NET_WALL) == 0 ? net_samples(doc, &d) : run_samples(doc, basis, &d);
    bool ok = k > 0 && stats_median(d.v, d.n, level) == 0;
    free(d.v);
    return ok;
}

static json_t *pct_or_null(double v)
{
    return v >= 0 && isfinite(v) ? json_real(v) : json_null();
}

/* The "contention" object of a wall-time metric. */
static json_t *contention_json(const struct regress_contention *c)
{
    return json_pack("{s:b, s:o, s:o, s:o, s:o, s:b, s:b}", "known", c->known,
                     "candidate_queued_pct", pct_or_null(c->known ? c->cand_queued_pct : -1),
                     "baseline_queued_pct", pct_or_null(c->known ? c->base_queued_pct : -1),
                     "candidate_cpu_bound_pct", pct_or_null(c->cand_cpu_bound_pct),
                     "baseline_cpu_bound_pct", pct_or_null(c->base_cpu_bound_pct), "contaminated",
                     c->contaminated, "cpu_bound", c->cpu_bound);
}

/* The reason of a contended wall-time verdict, with its figures. */
static void contended_reason(const struct regress_contention *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "wall time is not comparable: the script waited for a CPU %.0f%% of its wall time "
             "in this run, %.0f%% in the baseline%s (the machine was busy)",
             c->cand_queued_pct, c->base_queued_pct,
             contended_summed_note(c->cand_queued_pct, c->base_queued_pct));
}

/*
 * Metric m of base[first, end) as runs (new): the samples in one array *all (the caller
 * frees all->v), one regress_run each pointing into it. With only (may be NULL), the runs
 * outside its baseline and held-out ones are not read and stay empty: a hotspot's samples
 * are in the profile, which a light history document reads from disk (history_profile).
 */
static struct regress_run *read_runs(const json_t *const *base, size_t first, size_t end,
                                     const struct metric_spec *m,
                                     const struct regress_baseline *only, struct dvec *all)
{
    size_t n = end - first;
    struct regress_run *runs = xcalloc(n ? n : 1, sizeof(*runs));
    for (size_t i = first; i < end; i++)
        if (!only || (i >= only->first && i < only->end) || i >= only->held_first) {
            runs[i - first].n = spec_samples(base[i], m, all);
            runs[i - first].inexact = spec_inexact(base[i], m);
        }
    /* the array has moved while it grew: point into it only now */
    for (size_t i = 0, off = 0; i < n; i++) {
        runs[i].x = all->v ? all->v + off : NULL; /* no samples at all: all->v is NULL */
        off += runs[i].n;
    }
    return runs;
}

/*
 * The comparison on the wall times net of waiting for a CPU, with its own baseline chosen
 * among base[0..nb) on the net times (regress_baseline_select: a run far off in net time is
 * held out even when the raw wall times, queueing included, are too noisy to show it):
 * true with *net and *nsel set when it could be made; *nruns (new, the caller frees it and
 * nall->v) gets the net runs.
 */
static bool compare_net(const json_t *cand, const json_t *const *base, size_t nb,
                        const struct regress_options *opt, struct regress_result *net,
                        struct regress_baseline *nsel, struct regress_run **nruns,
                        struct dvec *nall)
{
    static const struct metric_spec net_spec = {NET_WALL, NULL, "s"};
    struct dvec nc = {0};
    spec_samples(cand, &net_spec, &nc);
    *nruns = read_runs(base, 0, nb, &net_spec, NULL, nall);
    bool ok = regress_metric_history(*nruns, nb, &(struct regress_run){nc.v, nc.n}, 1, opt, net,
                                     nsel) == 0;
    free(nc.v);
    return ok;
}

/* A metric's "baseline" object: the runs of *sel that have samples, the held-out ones, and
 * samples per run when every one of them has the same number. */
static json_t *baseline_json(const json_t *const *base, size_t nb, const struct regress_run *runs,
                             const struct regress_baseline *sel, const struct regress_result *r)
{
    json_t *ids = json_array(), *held = json_array();
    size_t per_run = 0;
    bool equal = true;
    for (size_t i = sel->first; i < sel->end; i++) {
        if (!runs[i].n)
            continue;
        json_array_append_new(ids, doc_id(base[i]));
        if (per_run && runs[i].n != per_run)
            equal = false;
        per_run = runs[i].n;
    }
    for (size_t i = sel->held_first; i < nb; i++)
        if (runs[i].n)
            json_array_append_new(held, doc_id(base[i]));
    return json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "runs", ids, "n_runs",
                     (json_int_t)r->n_runs, "n_samples", (json_int_t)r->n_base, "samples_per_run",
                     equal ? json_integer((json_int_t)per_run) : json_null(), "change_point",
                     sel->has_change_point ? doc_id(base[sel->change_point]) : json_null(),
                     "held_out", held, "held_out_side",
                     sel->n_held == 0     ? json_null()
                     : sel->held_side > 0 ? json_string("slower")
                                          : json_string("faster"));
}

/* A metric object with the figures of r and its baseline object (stolen); the rule, reason
 * and contention follow. */
static json_t *metric_json(const struct metric_spec *m, const struct regress_result *r,
                           json_t *baseline)
{
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s}", "metric", m->name, "unit", m->unit, "verdict",
                            regress_verdict_name(r->verdict), "mode",
                            r->statistical ? "statistical" : "threshold");
    if (m->function)
        json_object_set_new(obj, "function", json_string(m->function));
    json_object_set_new(obj, "baseline_median", json_real(r->base_median));
    json_object_set_new(obj, "candidate_median", json_real(r->cand_median));
    json_object_set_new(obj, "change_pct", json_real(r->change_pct));
    json_object_set_new(obj, "ci_low_pct", json_real_or_null(r->has_ci, r->ci_low_pct));
    json_object_set_new(obj, "ci_high_pct", json_real_or_null(r->has_ci, r->ci_high_pct));
    json_object_set_new(obj, "ci_method", json_string("bootstrap"));
    json_object_set_new(obj, "p_value", json_real(r->p_value));
    json_object_set_new(obj, "p_method", json_string(r->p_exact ? "exact" : "normal"));
    json_object_set_new(obj, "hl_shift_pct", json_real_or_null(r->has_hl, r->hl_shift_pct));
    json_object_set_new(obj, "hl_ci_low_pct", json_real_or_null(r->has_hl, r->hl_ci_low_pct));
    json_object_set_new(obj, "hl_ci_high_pct", json_real_or_null(r->has_hl, r->hl_ci_high_pct));
    json_object_set_new(obj, "baseline", baseline);
    json_object_set_new(obj, "candidate", json_pack("{s:I}", "n_samples", (json_int_t)r->n_cand));
    json_object_set_new(obj, "noise_pct", json_real_or_null(r->has_noise, r->noise_pct));
    json_object_set_new(obj, "threshold_pct", json_real(r->threshold_pct));
    json_object_set_new(obj, "hint", r->hint ? json_string(r->hint) : json_null());
    return obj;
}

/* The reason of the verdict r; with a contended wall time (cont), either the figures net of
 * waiting for a CPU (net) or why wall time cannot be compared. */
static void metric_reason(const struct regress_result *r, const struct regress_contention *cont,
                          bool contended, bool net, char *reason, size_t size)
{
    if (contended && net && cont->cpu_bound) {
        snprintf(reason, size,
                 "net of waiting for a CPU (%.0f%% of the wall time in this run, %.0f%% in the "
                 "baseline): %+.2f%%; the script is CPU-bound, so on a machine this busy its "
                 "CPU time decides",
                 cont->cand_queued_pct, cont->base_queued_pct, r->change_pct);
    } else if (contended && net) {
        char net_why[256];
        snprintf(reason, size,
                 "net of waiting for a CPU (%.0f%% of the wall time in this run, %.0f%% in the "
                 "baseline): %s",
                 cont->cand_queued_pct, cont->base_queued_pct,
                 regress_reason(r, net_why, sizeof(net_why)));
    } else if (contended) {
        contended_reason(cont, reason, size);
    } else {
        regress_reason(r, reason, size);
    }
}

/*
 * Compare one metric; returns a new metric object or NULL when it cannot be compared.
 * The baseline is chosen among base[0..nb) by regress_baseline_select(), or is *fixed
 * when given (hotspots use their run metric's choice); *chosen (may be NULL) gets it.
 * With cont (wall time), the contention of the chosen baseline and the candidate is
 * judged into *cont and applied (regress_contention_apply).
 */
static json_t *compare_metric(const json_t *cand, const json_t *const *base, size_t nb,
                              const struct metric_spec *m, const struct regress_options *opt,
                              const struct regress_baseline *fixed, struct regress_baseline *chosen,
                              struct regress_contention *cont)
{
    struct dvec c = {0}, all = {0};
    spec_samples(cand, m, &c);
    /* with a fixed baseline only its runs and the held-out ones are read */
    struct regress_run *runs = read_runs(base, 0, nb, m, fixed, &all);
    struct regress_result r;
    struct regress_baseline sel;
    json_t *obj = NULL;
    int rc;
    struct regress_run cr = {c.v, c.n, spec_inexact(cand, m)};
    if (fixed) {
        sel = *fixed;
        rc = regress_metric_runs(runs + sel.first, sel.end - sel.first, &cr, 1, opt, &r);
    } else {
        rc = regress_metric_history(runs, nb, &cr, 1, opt, &r, &sel);
    }
    if (rc < 0) {
        log_debug("metric %s%s%s not compared: %s", m->name, m->function ? " of " : "",
                  m->function ? m->function : "", pyscope_strerror(rc));
        goto out;
    }
    if (chosen)
        *chosen = sel;
    bool contended = false, has_net = false;
    struct regress_result net = {0}, raw = {0};
    struct regress_baseline nsel;
    struct regress_run *nruns = NULL;
    struct dvec nall = {0};
    if (cont) {
        docs_contention(cand, base, sel.first, sel.end, cont);
        /* the same comparison on the wall times net of queueing */
        if (cont->contaminated)
            has_net = compare_net(cand, base, nb, opt, &net, &nsel, &nruns, &nall);
        raw = r;
        contended = regress_contention_apply(&r, has_net ? &net : NULL, cont);
        /* net figures: the net times' baseline is the metric's; the run's (and the
         * hotspots') stays the wall times' choice, which does not depend on how long this
         * candidate queued (test_history_index: 7 runs or 10 for the same history) */
        if (contended && has_net)
            sel = nsel;
    }
    obj =
        metric_json(m, &r, baseline_json(base, nb, contended && has_net ? nruns : runs, &sel, &r));
    char reason[512];
    metric_reason(&r, cont, contended, has_net, reason, sizeof(reason));
    json_object_set_new(obj, "rule", json_string(regress_rule_name(r.rule)));
    /* counts that are not exact (a threaded script's) say why the exact rule stayed away, as
     * a try's do (lib/abtest.c): the farm's report shows the reason, not the documents */
    bool inexact = cr.inexact;
    for (size_t i = sel.first; i < sel.end && !inexact; i++)
        inexact = runs[i].inexact;
    if (inexact) {
        char *full = xasprintf(HISTORY_INSTRUCTIONS_THREADS_REASON ": %s", reason);
        json_object_set_new(obj, "reason", json_string(full));
        free(full);
    } else {
        json_object_set_new(obj, "reason", json_string(reason));
    }
    if (cont) {
        json_t *cj = contention_json(cont);
        /* the figures above are of the net times: keep the raw ones beside them */
        json_object_set_new(cj, "net_of_queueing", json_boolean(contended && has_net));
        if (contended && has_net)
            json_object_set_new(cj, "raw",
                                json_pack("{s:f, s:f, s:f}", "baseline_median", raw.base_median,
                                          "candidate_median", raw.cand_median, "change_pct",
                                          raw.change_pct));
        json_object_set_new(obj, "contention", cj);
    }
    free(nruns);
    free(nall.v);
out:
    free(runs);
    free(all.v);
    free(c.v);
    return obj;
}

/* ---- hotspots and "why" --------------------------------------------------- */

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

/* Append hotspot metrics of field ("total_s" / "self_s") for the candidate's top functions,
 * against the baseline *sel of base[0..nb). */
static void hotspot_metrics(const json_t *cand, const json_t *const *base, size_t nb,
                            const struct regress_baseline *sel, const char *field,
                            const struct regress_options *opt, json_t *metrics)
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
        double v = json_value_nonneg_or(json_object_get(f, field), -1);
        double pct = json_value_nonneg_or(json_object_get(f, pct_name), 100);
        if (!key || v <= 0 || pct < REGRESS_MIN_FUNCTION_PCT ||
            !in_any_baseline(base + sel->first, sel->end - sel->first, key))
            continue;
        rk[k++] = (struct fn_rank){key, v};
    }
    qsort(rk, k, sizeof(*rk), cmp_rank_desc);
    for (i = 0; i < k && i < REGRESS_TOP_FUNCTIONS; i++) {
        struct metric_spec m = {field, rk[i].key, "s"};
        json_t *obj = compare_metric(cand, base, nb, &m, opt, sel, NULL, NULL);
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
    return json_value_nonneg_or(json_object_get(f, "total_pct"), 100) >= REGRESS_WHY_MIN_PCT;
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

/* What a "why" explains the change with (build_why). */
enum why_basis { WHY_WALL, WHY_CPU, WHY_INSTRUCTIONS, WHY_WALL_NET };

/* One function of a "why": its change on the basis. */
struct why_item {
    const char *key;
    double delta;
};

/* Largest change first, then by key (the same order on every run). */
static int cmp_why_item(const void *a, const void *b)
{
    const struct why_item *x = a, *y = b;
    double u = fabs(x->delta), v = fabs(y->delta);
    if (u != v)
        return (u < v) - (u > v);
    return strcmp(x->key, y->key);
}

/* Function g's (borrowed, a profile function) self time in repeat i of n: its
 * self_s_runs[i] when it has one per repeat, else its self_s. */
static double repeat_self(const json_t *g, size_t i, size_t n)
{
    const json_t *arr = json_object_get(g, "self_s_runs");
    double x;
    if (json_array_size(arr) == n && json_value_nonneg(json_array_get(arr, i), &x))
        return x;
    return json_value_nonneg(json_object_get(g, "self_s"), &x) ? x : 0;
}

/*
 * The wait level of repeat i of n of a profile's functions fns (borrowed): delay (the
 * repeat's wait for a CPU) shared out in proportion to the functions' CPU self time
 * (self_cpu_s), each at most the time it spent off a CPU in that repeat (self time - CPU
 * self time), what a capped function cannot take going to the others (water-filling).
 * A function with CPU self time c and off-CPU time off waited min(off, level * c)
 * (wait_of()); INFINITY when every function is capped. A task waits for a CPU where it
 * would run: code that computes is preempted in proportion to the CPU it uses, a
 * function that sleeps waits once per wake-up.
 */
static double wait_level(const json_t *fns, size_t i, size_t n, double delay)
{
    size_t nf = json_array_size(fns), k;
    bool *capped = xcalloc(nf ? nf : 1, sizeof(*capped));
    double left = delay, level = 0, c;
    const json_t *g;
    for (bool again = true; again && left > 0;) {
        again = false;
        double shares = 0;
        json_array_foreach(fns, k, g)
        {
            if (!capped[k] && json_value_nonneg(json_object_get(g, "self_cpu_s"), &c) && c > 0)
                shares += c;
        }
        if (!(shares > 0)) {
            level = INFINITY;
            break;
        }
        level = left / shares;
        json_array_foreach(fns, k, g)
        {
            if (capped[k] || !json_value_nonneg(json_object_get(g, "self_cpu_s"), &c) || !(c > 0))
                continue;
            double off = fmax(0, repeat_self(g, i, n) - c);
            if (level * c > off) {
                capped[k] = true;
                left -= off;
                again = true;
            }
        }
    }
    free(capped);
    return level;
}

/* What function g (borrowed) waited for a CPU in repeat i of n at that repeat's level. */
static double wait_of(const json_t *g, size_t i, size_t n, double level)
{
    double c;
    if (!json_value_nonneg(json_object_get(g, "self_cpu_s"), &c) || !(c > 0) || !(level > 0))
        return 0;
    return fmin(fmax(0, repeat_self(g, i, n) - c), level * c);
}

/* The wait levels of a why's documents on basis WHY_WALL_NET, computed once: docs[k]'s
 * repeats at level[k][0..reps[k]) (NULL: the document cannot say). */
struct why_levels {
    const json_t **docs;
    double **level;
    size_t *reps;
    size_t n;
};

/*
 * The wait levels of doc's repeats (new array of *n; NULL when the profile has no CPU
 * self times to share the wait out by, or a repeat's run_delay_s is unknown).
 */
static double *doc_levels(const json_t *doc, size_t *n)
{
    const json_t *fns = json_object_get(history_profile(doc), "functions"), *g, *r;
    double total = 0, c, q;
    size_t k;
    json_array_foreach(fns, k, g)
    {
        if (json_value_nonneg(json_object_get(g, "self_cpu_s"), &c))
            total += c;
    }
    const json_t *runs = json_object_get(doc, "runs");
    *n = json_array_size(runs);
    if (!(total > 0) || !*n)
        return NULL;
    double *lv = xcalloc(*n, sizeof(*lv));
    json_array_foreach(runs, k, r)
    {
        if (!json_value_nonneg(json_object_get(r, "run_delay_s"), &q)) {
            free(lv);
            return NULL;
        }
        lv[k] = wait_level(fns, k, *n, q);
    }
    return lv;
}

/* Add a[0..na) to w (once each). */
static void why_levels_add(struct why_levels *w, const json_t *const *a, size_t na)
{
    w->docs = xreallocarray(w->docs, w->n + na + 1, sizeof(*w->docs));
    w->level = xreallocarray(w->level, w->n + na + 1, sizeof(*w->level));
    w->reps = xreallocarray(w->reps, w->n + na + 1, sizeof(*w->reps));
    for (size_t i = 0; i < na; i++) {
        w->docs[w->n] = a[i];
        w->level[w->n] = doc_levels(a[i], &w->reps[w->n]);
        w->n++;
    }
}

static void why_levels_free(struct why_levels *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->level[i]);
    free(w->docs);
    free(w->level);
    free(w->reps);
}

/*
 * Function f's (borrowed, of doc; NULL: not in its profile) self time net of its wait
 * for a CPU, the median over doc's repeats of self time - wait_of(), into *out, with
 * doc's levels from w (NULL, or doc not in it: false). False (nothing set) too when
 * doc cannot share its wait out (doc_levels()). Sharing the wait out over the
 * wall-clock samples instead, as the run's net wall time does, charged napper.py's
 * 0.75 s longer sleep to the list comprehension that computed beside it when the
 * script got about a twelfth of a core (tests/integration/test_regress_contended.sh at
 * load 24; tests/unit/test_regress.c replays it).
 */
static bool net_self_median(const json_t *doc, const json_t *f, const struct why_levels *w,
                            double *out)
{
    size_t k = 0;
    while (w && k < w->n && w->docs[k] != doc)
        k++;
    if (!w || k == w->n || !w->level[k])
        return false;
    struct dvec d = {0};
    for (size_t i = 0; f && i < w->reps[k]; i++)
        dvec_push(&d, repeat_self(f, i, w->reps[k]) - wait_of(f, i, w->reps[k], w->level[k][i]));
    *out = f ? median_of(&d) : 0;
    free(d.v);
    return true;
}

/*
 * A function's value on the "why" basis in one document: the run statistic the
 * metric's centres are made of. wall: the median of its self_s_runs (or self_s);
 * cpu: self_cpu_s (the profile's median over the runs); instructions: the
 * document's median count times the function's share of the CPU self time
 * (cachegrind counts the whole process, the profile says where the CPU went).
 * A document with a profile that lacks the function counts 0; *ok is false
 * when the document cannot say (no profile, or no CPU times).
 */
static double why_value(const json_t *doc, const char *key, enum why_basis basis,
                        const struct why_levels *lv, bool *ok)
{
    *ok = false;
    if (!has_profile(doc))
        return 0;
    const json_t *f = find_function(doc, key);
    if (basis == WHY_WALL || basis == WHY_WALL_NET) {
        *ok = true;
        if (!f)
            return 0;
        struct dvec d = {0};
        function_samples(doc, key, "self_s", &d);
        double m = median_of(&d);
        free(d.v);
        if (basis == WHY_WALL_NET && net_self_median(doc, f, lv, &m))
            return m;
        if (basis == WHY_WALL_NET) {
            /* a profile without CPU self times: scale the sampled self times to the run's
             * net wall time (the wait taken as spread over the functions like the samples) */
            struct dvec w = {0}, n = {0};
            run_samples(doc, "wall_s", &w);
            net_samples(doc, &n);
            double mw = median_of(&w), mn = median_of(&n);
            *ok = mw > 0 && n.n > 0;
            m = *ok ? m * mn / mw : 0;
            free(w.v);
            free(n.v);
        }
        return m;
    }
    /* CPU self time of key, and of all functions (for a share) */
    double total = 0, mine = 0, x;
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(history_profile(doc), "functions"), i, g)
    {
        if (!json_value_nonneg(json_object_get(g, "self_cpu_s"), &x))
            continue;
        total += x;
        if (g == f)
            mine = x;
    }
    if (!(total > 0))
        return 0;
    if (basis == WHY_CPU) {
        *ok = true;
        return mine;
    }
    struct dvec c = {0};
    run_samples(doc, HISTORY_METRIC_INSTRUCTIONS, &c);
    double count = median_of(&c);
    *ok = c.n > 0;
    free(c.v);
    return count * mine / total;
}

/* Median over the documents that can say of key's value; false when none can. */
static bool why_median(const json_t *const *docs, size_t n, const char *key, enum why_basis basis,
                       const struct why_levels *w, double *out)
{
    struct dvec d = {0};
    for (size_t i = 0; i < n; i++) {
        bool ok;
        double v = why_value(docs[i], key, basis, w, &ok);
        if (ok)
            dvec_push(&d, v);
    }
    bool any = d.n > 0;
    *out = median_of(&d);
    free(d.v);
    return any;
}

/* Every function key of the profiles of a[0..na) and b[0..nb), once, in order of appearance
 * (new array). */
static json_t *function_keys(const json_t *const *a, size_t na, const json_t *const *b, size_t nb)
{
    json_t *keys = json_array();
    for (size_t d = 0; d < na + nb; d++) {
        const json_t *doc = d < na ? a[d] : b[d - na];
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
    return keys;
}

/* key's median value on basis over base[0..nb) (*mb) and over cands[0..nc) (*mc); false when
 * either side cannot say. */
static bool function_medians(const json_t *const *cands, size_t nc, const json_t *const *base,
                             size_t nb, const char *key, enum why_basis basis,
                             const struct why_levels *w, double *mb, double *mc)
{
    return why_median(cands, nc, key, basis, w, mc) && why_median(base, nb, key, basis, w, mb);
}

/* Whether key is not the user's code (a built-in, the standard library, an installed
 * package: pathnorm_is_library), as the first of docs[0..n) that profiles it says. */
static bool key_is_library(const json_t *const *docs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const json_t *f = find_function(docs[i], key);
        if (!f)
            continue;
        const char *file = json_string_value(json_object_get(f, "file"));
        const char *name = json_string_value(json_object_get(f, "name"));
        if (json_is_true(json_object_get(f, "builtin")) ||
            (name && (strncmp(name, "<built-in", 9) == 0 || strncmp(name, "<method", 7) == 0)))
            return true;
        const char *prefix =
            json_string_value(json_object_get(json_object_get(docs[i], "python"), "prefix"));
        return file && pathnorm_is_library(file, prefix);
    }
    return key[0] == '~';
}

/*
 * Where the self time of each library function of lib (key -> true) is spent in the user's
 * code, from the stacks of docs[0..n): the innermost user frame of each stack whose leaf it
 * is (the suggestion rules' "library code it calls", cli/suggest.c). A new object
 * library key -> {user key -> stack weight}; a library function on no stack is absent.
 */
static json_t *library_callers(const json_t *const *docs, size_t n, const json_t *lib)
{
    json_t *out = json_object();
    for (size_t d = 0; d < n; d++) {
        size_t i;
        const json_t *st;
        json_array_foreach(json_object_get(history_profile(docs[d]), "stacks"), i, st)
        {
            const json_t *frames = json_object_get(st, "frames");
            double w;
            size_t nf = json_array_size(frames);
            const char *leaf = nf ? json_string_value(json_array_get(frames, nf - 1)) : NULL;
            if (!leaf || !json_is_true(json_object_get(lib, leaf)) ||
                !json_value_nonneg(json_object_get(st, "samples"), &w) || !(w > 0))
                continue;
            const char *user = NULL;
            for (size_t k = nf; k-- > 0 && !user;) {
                const char *key = json_string_value(json_array_get(frames, k));
                if (key && !json_is_true(json_object_get(lib, key)) && key[0] != '~')
                    user = key;
            }
            if (!user)
                continue;
            json_t *callers = json_object_get(out, leaf);
            if (!callers) {
                callers = json_object();
                json_object_set_new(out, leaf, callers);
            }
            json_object_set_new(callers, user,
                                json_real(json_number_value(json_object_get(callers, user)) + w));
        }
    }
    return out;
}

/* One function of a "why" with what it holds of the library code it calls. */
struct why_fold {
    double delta; /* its own change plus its part of its library callees' */
    json_t *lib;  /* [[library key, part of its change], ...] (new), or NULL */
};

/*
 * The changes d[0..nk) of the functions keys (d[i] NaN: not known) folded: each library
 * function's change shared out over the user functions it runs under (library_callers(),
 * in proportion to the stack weights), into out[0..nk); a library function on no stack
 * keeps its own. fold[i].lib lists the library parts of user function i.
 */
static void fold_library(const json_t *keys, const double *d, size_t nk, const json_t *const *docs,
                         size_t ndocs, struct why_fold *out)
{
    json_t *lib = json_object(), *index = json_object();
    for (size_t i = 0; i < nk; i++) {
        const char *key = json_string_value(json_array_get(keys, i));
        out[i] = (struct why_fold){isnan(d[i]) ? 0 : d[i], NULL};
        json_object_set_new(index, key, json_integer((json_int_t)i));
        if (key_is_library(docs, ndocs, key))
            json_object_set_new(lib, key, json_true());
    }
    json_t *callers = library_callers(docs, ndocs, lib);
    for (size_t i = 0; i < nk; i++) {
        const char *key = json_string_value(json_array_get(keys, i));
        const json_t *c = json_object_get(callers, key);
        if (isnan(d[i]) || d[i] == 0 || !c)
            continue;
        double total = 0;
        const char *u;
        const json_t *w;
        json_object_foreach((json_t *)c, u, w)
        {
            total += json_number_value(w);
        }
        json_object_foreach((json_t *)c, u, w)
        {
            const json_t *ui = json_object_get(index, u);
            if (!ui)
                continue;
            size_t j = (size_t)json_integer_value(ui);
            double part = d[i] * json_number_value(w) / total;
            out[j].delta += part;
            if (!out[j].lib)
                out[j].lib = json_array();
            json_array_append_new(out[j].lib, json_pack("[s, f]", key, part));
            out[i].delta -= part;
        }
    }
    json_decref(callers);
    json_decref(index);
    json_decref(lib);
}

/* The library parts of a folded "why" item (lib: fold_library()'s) that moved the way
 * change did, by at least REGRESS_WHY_MIN_PCT of it: the largest REGRESS_WHY_LIB_TOP, as
 * a new array of {"key", "delta", "share_pct"}. */
static json_t *library_parts(const json_t *lib, double change)
{
    size_t n = json_array_size(lib), k = 0;
    struct why_item *items = xcalloc(n ? n : 1, sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(lib, i);
        double d = json_number_value(json_array_get(p, 1));
        if (d * change > 0 && 100 * d / change >= REGRESS_WHY_MIN_PCT)
            items[k++] = (struct why_item){json_string_value(json_array_get(p, 0)), d};
    }
    qsort(items, k, sizeof(*items), cmp_why_item);
    json_t *out = json_array();
    for (size_t i = 0; i < k && i < REGRESS_WHY_LIB_TOP; i++)
        json_array_append_new(out, json_pack("{s:s, s:f, s:f}", "key", items[i].key, "delta",
                                             items[i].delta, "share_pct",
                                             100 * items[i].delta / change));
    free(items);
    return out;
}

/* Whether metric object m (borrowed; NULL: no) is a regression or an improvement. */
static bool verdict_decided(const json_t *m)
{
    const char *v = json_string_value(json_object_get(m, "verdict"));
    return v && (strcmp(v, "regression") == 0 || strcmp(v, "improvement") == 0);
}

/*
 * The "functions" of a why (new array): of the functions keys[0..nk) whose changes on the
 * basis are deltas[0..nk) (NaN: not known), those that moved the way change did by at least
 * REGRESS_WHY_MIN_PCT of it, a library function's change folded into its user caller's
 * (fold_library(), over the stacks of cands[0..nc) and base[0..nb)), the largest
 * REGRESS_WHY_TOP; seconds: the basis is a time (delta_s).
 */
static json_t *why_functions(const json_t *keys, const double *deltas, size_t nk,
                             const json_t *const *cands, size_t nc, const json_t *const *base,
                             size_t nb, double change, bool seconds)
{
    json_t *functions = json_array();
    if (change == 0 || isnan(change))
        return functions;
    struct why_item *items = xcalloc(nk ? nk : 1, sizeof(*items));
    size_t k = 0;
    /* a library function's change is its user caller's: folded into the innermost user
     * function it runs under (issue 13: the json encoder's internals, not the user's dump()
     * that called json.dumps with twice the data, explained a regression) */
    struct why_fold *fold = xcalloc(nk ? nk : 1, sizeof(*fold));
    size_t ndocs = nc + nb;
    const json_t **docs = xcalloc(ndocs ? ndocs : 1, sizeof(*docs));
    for (size_t i = 0; i < ndocs; i++)
        docs[i] = i < nc ? cands[i] : base[i - nc];
    fold_library(keys, deltas, nk, docs, ndocs, fold);
    free(docs);
    for (size_t i = 0; i < nk; i++) {
        double d = fold[i].delta;
        /* only what moved the way the verdict says, by at least 1% of the change */
        if (!isnan(deltas[i]) && d * change > 0 && 100 * d / change >= REGRESS_WHY_MIN_PCT)
            items[k++] = (struct why_item){json_string_value(json_array_get(keys, i)), d};
    }
    qsort(items, k, sizeof(*items), cmp_why_item);
    for (size_t i = 0; i < k && i < REGRESS_WHY_TOP; i++) {
        json_t *o = json_pack("{s:s, s:f, s:f}", "key", items[i].key, "delta", items[i].delta,
                              "share_pct", 100 * items[i].delta / change);
        if (seconds)
            json_object_set_new(o, "delta_s", json_real(items[i].delta));
        size_t j = 0;
        while (strcmp(json_string_value(json_array_get(keys, j)), items[i].key) != 0)
            j++;
        json_t *parts = library_parts(fold[j].lib, change);
        if (json_array_size(parts))
            json_object_set_new(o, "library", parts);
        else
            json_decref(parts);
        json_array_append_new(functions, o);
    }
    for (size_t i = 0; i < nk; i++)
        json_decref(fold[i].lib);
    free(fold);
    free(items);
    return functions;
}

/* The sampling of doc's profile: its period (*interval_s), samples per run (*per_run) and
 * runs (*runs); false unless it was sampled with a known period and count. */
static bool doc_sampling(const json_t *doc, double *interval_s, double *per_run, double *runs)
{
    const json_t *p = history_profile(doc);
    const char *mode = json_string_value(json_object_get(p, "mode"));
    double samples;
    if (!mode || strcmp(mode, "sample") != 0 ||
        !json_value_nonneg(json_object_get(p, "interval_s"), interval_s) || !(*interval_s > 0) ||
        !json_value_nonneg(json_object_get(p, "samples"), &samples))
        return false;
    size_t n = json_array_size(json_object_get(doc, "runs"));
    *runs = n ? (double)n : 1;
    *per_run = samples / *runs;
    return true;
}

/* One side of a sampled "why" (side_sampling()). */
struct why_side {
    double per_run;    /* the documents' median samples per run (passes of the sampler) */
    double runs;       /* their runs */
    double fn;         /* the function's mean samples per run */
    double rate;       /* the documents' median samples per second of self time */
    double interval_s; /* the period the first document asked for */
};

/* The sampling of docs[0..n) and of function key in them; false when a document was not
 * sampled. A function's samples are its share of the self time of a run's samples: a pass
 * of the sampler that came late (a loaded machine) weighs the time since the last. */
static bool side_sampling(const json_t *const *docs, size_t n, const char *key,
                          struct why_side *out)
{
    double *spr = xcalloc(n ? n : 1, sizeof(*spr)), *rate = xcalloc(n ? n : 1, sizeof(*rate));
    bool ok = n > 0;
    *out = (struct why_side){0};
    for (size_t i = 0; i < n && ok; i++) {
        double iv, r, x, total = 0, self = 0;
        if (!(ok = doc_sampling(docs[i], &iv, &spr[i], &r)))
            break;
        size_t j;
        const json_t *f;
        json_array_foreach(json_object_get(history_profile(docs[i]), "functions"), j, f)
        {
            if (json_value_nonneg(json_object_get(f, "self_s"), &x))
                total += x;
        }
        const json_t *g = find_function(docs[i], key);
        if (g && json_value_nonneg(json_object_get(g, "self_s"), &x))
            self = x;
        rate[i] = total > 0 ? spr[i] / total : 1 / iv;
        if (i == 0)
            out->interval_s = iv;
        out->runs += r;
        out->fn += self * rate[i] / (double)n;
    }
    if (ok && (stats_median(spr, n, &out->per_run) != 0 || stats_median(rate, n, &out->rate) != 0))
        ok = false;
    free(spr);
    free(rate);
    return ok;
}

/* f0's (borrowed: a "why" function, its folded library functions with it) value on basis in
 * doc (why_value()); *ok false when doc cannot say. */
static double why_doc_value(const json_t *f0, const json_t *doc, enum why_basis basis,
                            const struct why_levels *lv, bool *ok)
{
    const json_t *lib = json_object_get(f0, "library");
    double x = why_value(doc, json_string_value(json_object_get(f0, "key")), basis, lv, ok);
    for (size_t j = 0; *ok && j < json_array_size(lib); j++)
        x += why_value(doc, json_string_value(json_object_get(json_array_get(lib, j), "key")),
                       basis, lv, ok);
    return x;
}

/* f0's values (why_doc_value) in each of docs[0..n) that can say, times k, appended to *v. */
static void why_doc_values(const json_t *f0, const json_t *const *docs, size_t n,
                           enum why_basis basis, const struct why_levels *lv, double k,
                           struct dvec *v)
{
    for (size_t i = 0; i < n; i++) {
        bool ok;
        double x = why_doc_value(f0, docs[i], basis, lv, &ok);
        if (ok)
            dvec_push(v, x * k);
    }
}

/* The differences cand[i] - base[i] of f0's values (why_doc_value) times k over the pairs
 * (i < the smaller of nc, nb) where both can say, appended to *v. */
static void why_pair_values(const json_t *f0, const json_t *const *cands, size_t nc,
                            const json_t *const *base, size_t nb, enum why_basis basis,
                            const struct why_levels *lv, double k, struct dvec *v)
{
    for (size_t i = 0; i < nc && i < nb; i++) {
        bool okc, okb;
        double c = why_doc_value(f0, cands[i], basis, lv, &okc);
        double b = why_doc_value(f0, base[i], basis, lv, &okb);
        if (okc && okb)
            dvec_push(v, (c - b) * k);
    }
}

/* The sum of squares of x[0..n) about their mean (stats_stdev()): 0 for fewer than 2, NaN
 * when they are not finite. */
static double sum_squares(const double *x, size_t n)
{
    double sd;
    if (n < 2)
        return 0;
    return stats_stdev(x, n, &sd) == 0 ? sd * sd * (double)(n - 1) : NAN;
}

/*
 * Whether function f0 (borrowed) of a sampled "why" on basis is told apart from
 * noise (issue 11: ~4 samples a run of a 40 ms script named importlib's _compile_bytecode()
 * for a slowed tokenize()): at least REGRESS_WHY_MIN_SAMPLES samples on each side, and its
 * change, in samples per run, beyond its noise. With documents enough (a try's rounds, a
 * series' nights: REGRESS_WHY_MIN_DF degrees of freedom) their spread of f0's value decides
 * (Student's t at level alpha, pooled; at least a sample a run of rounding): a periodic
 * sampler's count is the function's time over the period, and CPU self time is read from the
 * thread's clock, so the noise is the time's own from run to run (a try's f() +30% under two
 * CPU hogs, ~15 samples a run at 10 ms over 5 rounds a side, was 1.2 binomial standard
 * errors). With fewer, REGRESS_WHY_MIN_Z binomial standard errors, or alpha's normal quantile
 * when larger (a sample count's variance at most the count, the larger side's, over each
 * side's runs). lv: the levels a net wall basis reads. True
 * when not sampled (traced, or no sample counts: nothing to say); else false sets *note
 * (new) to what the why says instead. candidate_median: m's.
 */
static bool why_resolved(const json_t *f0, enum why_basis basis, const json_t *const *cands,
                         size_t nc, const json_t *const *base, size_t nb,
                         const struct why_levels *lv, bool paired, double candidate_median,
                         double alpha, json_t **note)
{
    const char *key = json_string_value(json_object_get(f0, "key"));
    double delta = json_number_value(json_object_get(f0, "delta"));
    struct why_side c, b;
    if (!key || !side_sampling(cands, nc, key, &c) || !side_sampling(base, nb, key, &b))
        return true;
    /* the change in samples per run: a time at the candidate's samples per second of self
     * time; an instruction count as its share of the candidate's count */
    double k = basis == WHY_INSTRUCTIONS ? (candidate_median > 0 ? c.per_run / candidate_median : 0)
                                         : c.rate;
    double d = delta * k, se, crit = fmax(REGRESS_WHY_MIN_Z, stats_norm_ppf(1 - alpha / 2));
    /* rounding to whole samples: a variance of at least one sample a run */
    double floor = 1 / fmin(c.runs / (double)nc, b.runs / (double)nb);
    /* a document's variance of the function's count from sampling alone (a count's variance
     * is at most the count): beside the runs' own spread, it says whether finer sampling
     * would tell the change apart */
    double hi = fmax(fmax(c.fn, b.fn), 1), count_var = hi * floor, obs_var = 0;
    struct dvec v = {0};
    if (paired)
        why_pair_values(f0, cands, nc, base, nb, basis, lv, k, &v);
    double np = (double)v.n, df = np - 1;
    if (df >= REGRESS_WHY_MIN_DF) {
        /* interleaved turns: what drifted between them cancels in each pair's difference */
        double mean;
        if (stats_mean(v.v, v.n, &mean) != 0)
            mean = 0;
        d = mean * delta > 0 ? mean : 0; /* pairs that disagree with the medians: no change */
        double s2 = sum_squares(v.v, v.n) / df; /* of a pair's difference: two documents' */
        obs_var = s2 / 2;
        se = sqrt(fmax(s2, 2 * floor) / np);
        crit = stats_t_ppf(1 - alpha / 2, df);
    } else {
        v.n = 0;
        why_doc_values(f0, cands, nc, basis, lv, k, &v);
        size_t ncv = v.n;
        why_doc_values(f0, base, nb, basis, lv, k, &v);
        df = (double)v.n - 2;
        if (ncv && v.n > ncv && df >= REGRESS_WHY_MIN_DF) {
            obs_var = (sum_squares(v.v, ncv) + sum_squares(v.v + ncv, v.n - ncv)) / df;
            double s2 = fmax(obs_var, floor);
            se = sqrt(s2 / (double)ncv + s2 / (double)(v.n - ncv));
            crit = stats_t_ppf(1 - alpha / 2, df);
        } else {
            double hc = fmax(hi, fabs(d));
            se = sqrt(hc / c.runs + hc / b.runs);
        }
    }
    free(v.v);
    double per_run = fmin(c.per_run, b.per_run), z = fabs(d) / se;
    if (fmin(c.per_run * c.runs, b.per_run * b.runs) >= REGRESS_WHY_MIN_SAMPLES && z >= crit)
        return true;
    /* what held it back: the samples (too few of them, or a spread of the runs that
     * sampling alone gives: twice its variance at most), or the runs' own spread (finer
     * sampling would not help); the note says which */
    bool few = fmin(c.per_run * c.runs, b.per_run * b.runs) < REGRESS_WHY_MIN_SAMPLES ||
               !(obs_var > 2 * count_var);
    char *text =
        few ? xasprintf("too few samples to name a function: %.0f per run at %g ms (a change of "
                        "%.1f samples per run, %.1f standard errors); the farm samples short "
                        "scripts finely",
                        per_run, c.interval_s * 1000, fabs(d), z)
            : xasprintf("no function's change stands out of its runs' spread: the largest, %s, "
                        "moved %.1f samples per run, %.1f standard errors (%.2f needed; %.0f "
                        "samples per run at %g ms)",
                        key, fabs(d), z, crit, per_run, c.interval_s * 1000);
    *note = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f}", "note", text, "cause",
                      few ? "few_samples" : "within_spread", "samples_per_run", per_run,
                      "interval_s", c.interval_s, "change_samples", fabs(d), "z", z);
    free(text);
    return false;
}

/*
 * Keep of functions (a why's, the largest change first) those whose change stands out of
 * its noise (why_resolved()), each tested at its level of the fallback procedure (Wiens,
 * 2003), so that the chance of naming any function on noise stays REGRESS_WHY_ALPHA: the
 * first at REGRESS_WHY_FIRST_WEIGHT of it (all of it when it is alone), each other at an
 * equal part of the rest, plus the level of the one before it when that one was named. So
 * a function whose change stands out is named when a larger one's does not (the truth
 * benchmark, 2026-12-07: importlib's _compile_bytecode() moved within its runs' spread and
 * hid the slowed tokenize() below it), and those below a named one are tested too. Returns
 * the first function's note (why_resolved(); new) when none is named, else NULL.
 */
static json_t *why_name_functions(json_t *functions, enum why_basis basis,
                                  const json_t *const *cands, size_t nc, const json_t *const *base,
                                  size_t nb, const struct why_levels *lv, const json_t *m)
{
    size_t n = json_array_size(functions);
    bool paired = strcmp(json_string_value(json_object_get(m, "mode")) ?: "", "paired") == 0;
    double cm = json_number_value(json_object_get(m, "candidate_median"));
    double first = n > 1 ? REGRESS_WHY_FIRST_WEIGHT : 1, carried = 0;
    json_t *kept = json_array(), *first_note = NULL;
    for (size_t i = 0; i < n; i++) {
        double w = i == 0 ? first : (1 - first) / (double)(n - 1);
        double alpha = w * REGRESS_WHY_ALPHA + carried;
        json_t *f = json_array_get(functions, i), *note = NULL;
        if (why_resolved(f, basis, cands, nc, base, nb, lv, paired, cm, alpha, &note)) {
            json_array_append(kept, f);
            carried = alpha;
        } else {
            carried = 0;
            if (i == 0)
                first_note = note;
            else
                json_decref(note);
        }
    }
    json_array_clear(functions);
    json_array_extend(functions, kept);
    json_decref(kept);
    if (json_array_size(functions)) {
        json_decref(first_note);
        first_note = NULL;
    }
    return first_note;
}

/*
 * The "why" of the decided metric m (borrowed; NULL: none): the functions whose
 * change on m's basis (wall: self time; CPU: CPU self time; instructions: their
 * share of the count by CPU self time) explains the change m printed
 * (candidate_median - baseline_median), with the same sign, ranked by how much
 * of it they explain, a library function's change counted for the innermost user
 * function it runs under (why_functions()); none unless m's verdict is a regression
 * or an improvement.
 * base[0..nb): m's baseline documents; cands[0..nc): the candidate's runs (its
 * value: their median), cand among them. Also what appeared and vanished in
 * cand, and identity changes (against wall_base[0..nw), the wall-time baseline).
 */
static json_t *build_why(const json_t *cand, const json_t *const *cands, size_t nc,
                         const json_t *const *base, size_t nb, const json_t *const *wall_base,
                         size_t nw, const json_t *m)
{
    json_t *appeared = json_array(), *vanished = json_array();
    const char *metric = m ? json_string_value(json_object_get(m, "metric")) : NULL;
    const char *verdict = m ? json_string_value(json_object_get(m, "verdict")) : NULL;
    enum why_basis basis = WHY_WALL;
    if (metric && strcmp(metric, "cpu_s") == 0)
        basis = WHY_CPU;
    else if (metric && strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0)
        basis = WHY_INSTRUCTIONS;
    else if (json_is_true(json_object_get(json_object_get(m, "contention"), "net_of_queueing")))
        basis = WHY_WALL_NET;
    double change = 0;
    bool decided =
        verdict && (strcmp(verdict, "regression") == 0 || strcmp(verdict, "improvement") == 0);
    if (decided)
        change = json_number_value(json_object_get(m, "candidate_median")) -
                 json_number_value(json_object_get(m, "baseline_median"));

    /* every key seen on either side, once */
    json_t *keys = function_keys(base, nb, &cand, 1);
    size_t nk = json_array_size(keys);
    bool basis_known = false;
    struct why_levels levels = {0};
    if (basis == WHY_WALL_NET && decided) {
        why_levels_add(&levels, cands, nc);
        why_levels_add(&levels, base, nb);
    }
    double *deltas = xcalloc(nk ? nk : 1, sizeof(*deltas));
    for (size_t i = 0; i < nk; i++) {
        const char *key = json_string_value(json_array_get(keys, i));
        double mb, mc;
        deltas[i] = NAN;
        if (!decided || change == 0 || !has_profile(cand) || !nb ||
            !function_medians(cands, nc, base, nb, key, basis, &levels, &mb, &mc))
            continue;
        basis_known = true;
        deltas[i] = mc - mb;
    }
    json_t *functions =
        why_functions(keys, deltas, nk, cands, nc, base, nb, change, basis != WHY_INSTRUCTIONS);
    free(deltas);
    json_t *too_few = why_name_functions(functions, basis, cands, nc, base, nb, &levels, m);
    why_levels_free(&levels);

    if (has_profile(cand) && nw) {
        size_t i;
        const json_t *f;
        const json_t *cfns = json_object_get(history_profile(cand), "functions");
        json_array_foreach(cfns, i, f)
        {
            const char *key = json_string_value(json_object_get(f, "key"));
            if (key && function_notable(f) && !in_any_baseline(wall_base, nw, key) &&
                json_array_size(appeared) < REGRESS_WHY_MAX_LIST && !key_listed(appeared, key))
                json_array_append_new(appeared, json_string(key));
        }
        const json_t *lfns = json_object_get(history_profile(wall_base[nw - 1]), "functions");
        json_array_foreach(lfns, i, f)
        {
            const char *key = json_string_value(json_object_get(f, "key"));
            if (key && function_notable(f) && !find_function(cand, key) &&
                json_array_size(vanished) < REGRESS_WHY_MAX_LIST && !key_listed(vanished, key))
                json_array_append_new(vanished, json_string(key));
        }
    }
    json_decref(keys);
    static const char *const basis_names[] = {"self_s", "self_cpu_s", "instructions", "self_s_net"};
    json_t *why =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:b}", "metric",
                  decided && metric ? json_string(metric) : json_null(), "basis",
                  decided && basis_known ? json_string(basis_names[basis]) : json_null(), "change",
                  decided ? json_real(change) : json_null(), "functions", functions, "appeared",
                  appeared, "vanished", vanished, "script_changed",
                  identity_changed(cand, wall_base, nw, "script", "sha256"), "python_changed",
                  identity_changed(cand, wall_base, nw, "python", "build"), "host_changed",
                  identity_changed(cand, wall_base, nw, "host", "fingerprint"));
    json_object_set_new(why, "mode_changed", json_boolean(mode_changed(cand, wall_base, nw)));
    if (too_few)
        json_object_set_new(why, "too_few_samples", too_few);
    return why;
}

/* ---- whole documents -------------------------------------------------------- */

static json_t *no_history(const struct regress_options *o, const char *message)
{
    return json_pack("{s:s, s:n, s:s, s:f, s:f, s:{s:[], s:i, s:n}, s:[], s:n}", "status",
                     "no_history", "decision", "message", message, "threshold_pct",
                     100 * o->threshold, "alpha", o->alpha, "baseline", "runs", "n_runs", 0,
                     "change_point", "metrics", "why");
}

static const json_t *metric_named(const json_t *metrics, const char *name)
{
    size_t i;
    const json_t *m;
    json_array_foreach(metrics, i, m)
    {
        const char *n = json_string_value(json_object_get(m, "metric"));
        if (n && strcmp(n, name) == 0 && !json_object_get(m, "function"))
            return m;
    }
    return NULL;
}

/* The machine's speed of the candidate against base[first, end) (regress_speed_assess). */
static void docs_speed(const json_t *cand, const json_t *const *base, size_t first, size_t end,
                       double threshold_pct, struct regress_speed *out)
{
    size_t nb = end - first;
    double *b = xcalloc(nb ? nb : 1, sizeof(*b)), c = -1;
    struct contended_summary cs;
    for (size_t i = 0; i < nb; i++) {
        contended_summarize(base[first + i], &cs);
        b[i] = cs.has_ref ? cs.ref_cpu_ns : -1;
    }
    contended_summarize(cand, &cs);
    if (cs.has_ref)
        c = cs.ref_cpu_ns;
    regress_speed_assess(b, nb, &c, 1, threshold_pct, out);
    free(b);
}

/*
 * Time metrics (unit "s": wall, CPU, function times) with a regression or an
 * improvement on a machine whose speed moved get the machine's change and
 * their own net of it in their reason. The verdict stands: the reference is
 * shown, not used to decide (lib/regress.h says why).
 */
static void speed_metrics(json_t *metrics, const struct regress_speed *s)
{
    /* the machine's speed moves only the time the script computes: a wall time (and the
     * sampled wall-clock function times) by its CPU share (baseline CPU / wall time), a
     * CPU time wholly; a script that mostly sleeps is hardly slowed by a slower CPU */
    double share = 1, bc, bw;
    const json_t *cm = metric_named(metrics, "cpu_s"), *wm = metric_named(metrics, "wall_s");
    bc = json_number_value(json_object_get(cm, "baseline_median"));
    bw = json_number_value(json_object_get(wm, "baseline_median"));
    if (cm && wm && bw > 0 && bc >= 0 && bc / bw < 1)
        share = bc / bw;
    size_t i;
    json_t *m;
    json_array_foreach(metrics, i, m)
    {
        const char *unit = json_string_value(json_object_get(m, "unit"));
        const char *v = json_string_value(json_object_get(m, "verdict"));
        if (!s->moved || !unit || !v || strcmp(unit, "s") != 0)
            continue;
        enum regress_verdict verdict = strcmp(v, "regression") == 0    ? REGRESS_REGRESSION
                                       : strcmp(v, "improvement") == 0 ? REGRESS_IMPROVEMENT
                                                                       : REGRESS_INCONCLUSIVE;
        if (verdict == REGRESS_INCONCLUSIVE)
            continue;
        double change = json_number_value(json_object_get(m, "change_pct")), net;
        const char *name = json_string_value(json_object_get(m, "metric"));
        size_t nl = name ? strlen(name) : 0;
        bool cpu = nl >= 5 && strcmp(name + nl - 5, "cpu_s") == 0;
        struct regress_speed e = *s;
        e.change_pct = s->change_pct * (cpu ? 1 : share);
        char reason[768];
        regress_speed_explains(&e, verdict, change, json_get_number(m, "threshold_pct", -1),
                               json_get_number(m, "noise_pct", -1), &net);
        snprintf(reason, sizeof(reason),
                 "%s; the machine ran %.0f%% %s than during the baseline (a fixed reference "
                 "loop took %+.1f%% CPU time): net of that %+.1f%%",
                 json_string_value(json_object_get(m, "reason")), fabs(s->change_pct),
                 s->change_pct > 0 ? "slower" : "faster", s->change_pct, net);
        json_object_set_new(m, "reason", json_string(reason));
    }
}

/* The "machine_speed" object of a comparison (null when not measured on both sides). */
static json_t *speed_json(const struct regress_speed *s)
{
    if (!s->known)
        return json_null();
    return json_pack("{s:f, s:f, s:f, s:o, s:f, s:b, s:I}", "baseline_ref_ns", s->base_ref_ns,
                     "candidate_ref_ns", s->cand_ref_ns, "change_pct", s->change_pct, "noise_pct",
                     pct_or_null(s->noise_pct), "limit_pct", s->limit_pct, "moved", s->moved,
                     "baseline_runs", (json_int_t)s->n_base);
}

/*
 * The verdict of the run as a whole: which metric decides and why. The metric the
 * caller chose (o->decide_metric: the user asked for instruction counts), whatever
 * the load, when the runs have it. Else wall time, unless it is contaminated by
 * waiting for a CPU: then CPU time (or instruction counts, when counted) for a
 * CPU-bound script, and an inconclusive wall time for a script that also waits on
 * other things.
 */
static json_t *decision_json(const json_t *metrics, const struct regress_contention *c,
                             const struct regress_options *o)
{
    const json_t *wall = metric_named(metrics, "wall_s"), *cpu = metric_named(metrics, "cpu_s");
    const json_t *instr = metric_named(metrics, HISTORY_METRIC_INSTRUCTIONS);
    const json_t *chosen = o->decide_metric ? metric_named(metrics, o->decide_metric) : NULL;
    const json_t *m = wall;
    char why[512];
    if (chosen) {
        m = chosen;
        bool counts = strcmp(o->decide_metric, HISTORY_METRIC_INSTRUCTIONS) == 0;
        snprintf(why, sizeof(why), "%s decide%s (chosen%s%s), whatever the load",
                 counts ? "instruction counts" : o->decide_metric, counts ? "" : "s",
                 o->decide_by ? " with " : "", o->decide_by ? o->decide_by : "");
    } else if (c->contaminated && c->cpu_bound && (instr || cpu)) {
        m = instr ? instr : cpu;
        snprintf(why, sizeof(why),
                 "wall time is contaminated: the script waited for a CPU %.0f%% of its wall time "
                 "in this run, %.0f%% in the baseline%s; it is CPU-bound (%.0f%% busy when it had "
                 "a CPU), so %s decide%s",
                 c->cand_queued_pct, c->base_queued_pct,
                 contended_summed_note(c->cand_queued_pct, c->base_queued_pct),
                 c->cand_cpu_bound_pct, instr ? "instruction counts" : "CPU time",
                 instr ? "" : "s");
    } else if (c->contaminated) {
        const char *rule = json_string_value(json_object_get(wall, "rule"));
        bool demoted = rule && strcmp(rule, regress_rule_name(REGRESS_RULE_CONTENDED)) == 0;
        snprintf(why, sizeof(why),
                 "wall time is contaminated: the script waited for a CPU %.0f%% of its wall time "
                 "in this run, %.0f%% in the baseline%s; it is not CPU-bound (%.0f%% busy when it "
                 "had a CPU: it also waits on I/O, sleeps or locks), so %s",
                 c->cand_queued_pct, c->base_queued_pct,
                 contended_summed_note(c->cand_queued_pct, c->base_queued_pct),
                 c->cand_cpu_bound_pct < 0 ? 0 : c->cand_cpu_bound_pct,
                 demoted ? "the wall time decides, and without net times no verdict is possible "
                           "on a machine this busy"
                         : "the wall time net of that wait decides");
    } else if (c->known) {
        snprintf(why, sizeof(why),
                 "wall time decides: the script waited for a CPU %.1f%% of its wall time in this "
                 "run, %.1f%% in the baseline",
                 c->cand_queued_pct, c->base_queued_pct);
    } else {
        snprintf(why, sizeof(why), "wall time decides (waiting for a CPU was not measured)");
    }
    if (!m)
        return json_null();
    return json_pack("{s:O, s:O, s:O, s:s, s:O}", "metric", json_object_get(m, "metric"), "verdict",
                     json_object_get(m, "verdict"), "rule", json_object_get(m, "rule"), "reason",
                     why, "change_pct", json_object_get(m, "change_pct"));
}

/*
 * Into the run's baseline top (borrowed: the raw wall time's choice), the deciding metric's
 * own when it differs (stranger19 minor 11: "n_runs 4, held_out []" beside a deciding CPU
 * time of 2 runs with 2 held out): decision_metric, decision_n_runs, decision_held_out.
 */
static void decision_baseline(json_t *top, const json_t *decision, const json_t *metrics)
{
    const char *dm = json_string_value(json_object_get(decision, "metric"));
    const json_t *db = json_object_get(metric_named(metrics, dm ? dm : ""), "baseline");
    if (!json_is_object(db) ||
        (json_equal(json_object_get(db, "runs"), json_object_get(top, "runs")) &&
         json_equal(json_object_get(db, "held_out"), json_object_get(top, "held_out"))))
        return;
    json_object_set_new(top, "decision_metric", json_string(dm));
    json_t *n = json_object_get(db, "n_runs"), *held = json_object_get(db, "held_out");
    json_object_set_new(top, "decision_n_runs", n ? json_incref(n) : json_null());
    json_object_set_new(top, "decision_held_out", held ? json_incref(held) : json_array());
}

double regress_metric_change_pct(const json_t *m)
{
    const json_t *ch = json_object_get(m, "change_pct");
    if (json_is_number(ch))
        return json_number_value(ch);
    double b = json_number_value(json_object_get(m, "baseline_median"));
    double c = json_number_value(json_object_get(m, "candidate_median"));
    return b > 0 ? 100 * (c / b - 1) : NAN;
}

bool regress_not_deciding(const json_t *m, const json_t *d)
{
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *fn = json_string_value(json_object_get(m, "function"));
    if (!name || (fn && fn[0]) || (strcmp(name, "wall_s") != 0 && strcmp(name, "cpu_s") != 0))
        return false;
    if (!d || d == m)
        return false;
    const char *v = json_string_value(json_object_get(m, "verdict"));
    const char *dv = json_string_value(json_object_get(d, "verdict"));
    return !(v && dv && strcmp(v, dv) == 0);
}

void regress_not_deciding_reason(const json_t *m, const json_t *d, const char *decision_reason,
                                 char *buf, size_t size)
{
    const char *name = json_string_value(json_object_get(m, "metric"));
    const char *dname = json_string_value(json_object_get(d, "metric"));
    const char *dv = json_string_value(json_object_get(d, "verdict"));
    bool cpu = name && strcmp(name, "cpu_s") == 0;
    snprintf(buf, size,
             "%s %+.1f%% (%s) but %s decides and found %s (%+.1f%%)%s%s: %s that moves without "
             "the deciding metric is what a busy machine does to unchanged code (a shared core, "
             "cold caches, a lower clock) as much as a change in the code, so it is no finding "
             "of its own",
             cpu ? "CPU time" : "wall time", regress_metric_change_pct(m),
             json_string_value(json_object_get(m, "verdict")) ?: "?",
             dname && strcmp(dname, "cpu_s") == 0 ? "the CPU time" : "the wall time",
             dv && strcmp(dv, "no_change") == 0 ? "no change" : (dv ? dv : "nothing"),
             regress_metric_change_pct(d), decision_reason ? "; " : "",
             decision_reason ? decision_reason : "", cpu ? "CPU time" : "wall time");
}

/* With o->not_deciding: each wall- or CPU-time regression (improvement) of metrics that the
 * deciding metric (decision's) does not share becomes inconclusive, rule not_deciding. */
static void outvote_not_deciding(json_t *metrics, const json_t *decision,
                                 const struct regress_options *o)
{
    const char *dn = json_string_value(json_object_get(decision, "metric"));
    const json_t *d = dn ? metric_named(metrics, dn) : NULL;
    const char *why = json_string_value(json_object_get(decision, "reason"));
    const char *names[2] = {"wall_s", "cpu_s"};
    for (size_t i = 0; o->not_deciding && d && i < 2; i++) {
        json_t *m = (json_t *)metric_named(metrics, names[i]);
        const char *v = json_string_value(json_object_get(m, "verdict"));
        if (!v || (strcmp(v, "regression") != 0 && strcmp(v, "improvement") != 0) ||
            !regress_not_deciding(m, d))
            continue;
        char reason[768];
        regress_not_deciding_reason(m, d, why, reason, sizeof(reason));
        json_object_set_new(m, "verdict", json_string("inconclusive"));
        json_object_set_new(m, "rule", json_string(regress_rule_name(REGRESS_RULE_NOT_DECIDING)));
        json_object_set_new(m, "reason", json_string(reason));
        json_object_set_new(m, "hint", json_null());
    }
}

json_t *regress_compare(const json_t *candidate, const json_t *const *baseline, size_t n_baseline,
                        const struct regress_options *opt)
{
    struct regress_options o;
    options_sane(opt, &o);
    if (n_baseline == 0)
        return no_history(&o, REGRESS_NO_HISTORY_MESSAGE);
    json_t *metrics = json_array();
    static const struct metric_spec main_metrics[] = {
        {"wall_s", NULL, "s"},
        {"cpu_s", NULL, "s"},
        {"peak_rss_bytes", NULL, "bytes"},
        {HISTORY_METRIC_INSTRUCTIONS, NULL, "instructions"}, /* only with --instructions */
    };
    /* the wall-time baseline is the hotspots' (sampled wall-clock times) and the "why"'s;
     * without wall samples, the newest max_baseline_runs documents */
    struct regress_baseline wall = {0};
    wall.end = wall.held_first = n_baseline;
    if (o.max_baseline_runs > 0 && n_baseline > (size_t)o.max_baseline_runs)
        wall.first = n_baseline - (size_t)o.max_baseline_runs;
    wall.n_runs = wall.end - wall.first;
    struct regress_contention cont = {0};
    cont.cand_cpu_bound_pct = cont.base_cpu_bound_pct = -1;
    struct regress_baseline sels[sizeof(main_metrics) / sizeof(main_metrics[0])];
    for (size_t i = 0; i < sizeof(main_metrics) / sizeof(main_metrics[0]); i++) {
        sels[i] = wall;
        json_t *m = compare_metric(candidate, baseline, n_baseline, &main_metrics[i], &o, NULL,
                                   &sels[i], i == 0 ? &cont : NULL);
        if (m)
            json_array_append_new(metrics, m);
        if (m && i == 0)
            wall = sels[0];
    }
    size_t n_main = json_array_size(metrics);
    hotspot_metrics(candidate, baseline, n_baseline, &wall, "total_s", &o, metrics);
    hotspot_metrics(candidate, baseline, n_baseline, &wall, "self_s", &o, metrics);
    /* hotspot times are sampled wall-clock times: not comparable when the wall time is not */
    for (size_t i = n_main; cont.contaminated && i < json_array_size(metrics); i++) {
        json_t *m = json_array_get(metrics, i);
        char reason[256];
        contended_reason(&cont, reason, sizeof(reason));
        json_object_set_new(m, "verdict", json_string("inconclusive"));
        json_object_set_new(m, "rule", json_string(regress_rule_name(REGRESS_RULE_CONTENDED)));
        json_object_set_new(m, "reason", json_string(reason));
        json_object_set_new(m, "hint", json_string(REGRESS_HINT_CONTENDED));
    }
    /* the hotspots' verdicts are one family: adjusted together (regress.h) */
    regress_adjust_functions(metrics, o.alpha, o.alpha);
    /* a slower (faster) machine explains a slowdown (speed-up) of time metrics */
    struct regress_speed speed;
    docs_speed(candidate, baseline, wall.first, wall.end, 100 * o.threshold, &speed);
    speed_metrics(metrics, &speed);
    json_t *decision = decision_json(metrics, &cont, &o);
    outvote_not_deciding(metrics, decision, &o);
    /* the "why" of the deciding metric, against that metric's own baseline */
    const char *dname = json_string_value(json_object_get(decision, "metric"));
    /* counted instructions that regressed (improved) while the deciding metric found no
     * verdict (a busy night's times): the count's finding is the run's, and so its why,
     * on per-function instruction shares (the farm demo's counted +29.9% had an empty why) */
    const json_t *counted = metric_named(metrics, HISTORY_METRIC_INSTRUCTIONS);
    if (dname && counted && strcmp(dname, HISTORY_METRIC_INSTRUCTIONS) != 0 &&
        !verdict_decided(metric_named(metrics, dname)) && verdict_decided(counted))
        dname = HISTORY_METRIC_INSTRUCTIONS;
    struct regress_baseline *dsel = &sels[0];
    for (size_t i = 0; dname && i < sizeof(main_metrics) / sizeof(main_metrics[0]); i++)
        if (strcmp(main_metrics[i].name, dname) == 0)
            dsel = &sels[i];
    json_t *why = build_why(candidate, &candidate, 1, baseline + dsel->first,
                            dsel->end - dsel->first, baseline + wall.first, wall.end - wall.first,
                            dname ? metric_named(metrics, dname) : NULL);
    json_t *ids = json_array(), *held = json_array();
    for (size_t i = wall.first; i < wall.end; i++)
        json_array_append_new(ids, doc_id(baseline[i]));
    for (size_t i = wall.held_first; i < n_baseline; i++)
        json_array_append_new(held, doc_id(baseline[i]));
    json_t *top = json_pack(
        "{s:o, s:I, s:o, s:o}", "runs", ids, "n_runs", (json_int_t)(wall.end - wall.first),
        "change_point", wall.has_change_point ? doc_id(baseline[wall.change_point]) : json_null(),
        "held_out", held);
    decision_baseline(top, decision, metrics);
    return json_pack("{s:s, s:o, s:n, s:f, s:f, s:o, s:o, s:o, s:o}", "status", "compared",
                     "decision", decision, "message", "threshold_pct", 100 * o.threshold, "alpha",
                     o.alpha, "baseline", top, "metrics", metrics, "why", why, "machine_speed",
                     speed_json(&speed));
}

json_t *regress_why_runs(const json_t *cand, const json_t *const *cands, size_t nc,
                         const json_t *const *baseline, size_t n_baseline, const json_t *metric)
{
    return build_why(cand, cands, nc, baseline, n_baseline, baseline, n_baseline, metric);
}

json_t *regress_moved_functions(const json_t *const *cands, size_t nc, const json_t *const *base,
                                size_t nb, size_t top)
{
    json_t *out = json_array();
    if (nc == 0 || nb == 0)
        return out;
    /* the smallest move listed: REGRESS_WHY_MIN_PCT of the baseline's median wall time */
    struct dvec w = {0};
    for (size_t i = 0; i < nb; i++)
        run_samples(base[i], "wall_s", &w);
    double floor_s = w.n ? median_of(&w) * REGRESS_WHY_MIN_PCT / 100 : 0;
    free(w.v);
    json_t *keys = function_keys(base, nb, cands, nc);
    size_t nk = json_array_size(keys), k = 0;
    struct why_item *items = xcalloc(nk ? nk : 1, sizeof(*items));
    double *bases = xcalloc(nk ? nk : 1, sizeof(*bases));
    for (size_t i = 0; i < nk; i++) {
        const char *key = json_string_value(json_array_get(keys, i));
        double mb, mc;
        if (!function_medians(cands, nc, base, nb, key, WHY_WALL, NULL, &mb, &mc) || mc == mb ||
            fabs(mc - mb) < floor_s)
            continue;
        bases[k] = mb;
        items[k++] = (struct why_item){key, mc - mb};
    }
    /* sort indexes with their baselines: the items carry only key and delta */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && cmp_why_item(&items[j], &items[j - 1]) < 0; j--) {
            struct why_item t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
            double tb = bases[j];
            bases[j] = bases[j - 1];
            bases[j - 1] = tb;
        }
    for (size_t i = 0; i < k && i < top; i++)
        json_array_append_new(out, json_pack("{s:s, s:f, s:f, s:f}", "key", items[i].key, "base_s",
                                             bases[i], "self_s", bases[i] + items[i].delta,
                                             "delta_s", items[i].delta));
    free(items);
    free(bases);
    json_decref(keys);
    return out;
}

/* True when doc was created after the candidate (ISO 8601 UTC strings compare as text). */
static bool created_after(const json_t *doc, const char *cand_created)
{
    const char *c = json_string_value(json_object_get(doc, "created"));
    return cand_created && c && strcmp(c, cand_created) > 0;
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
    struct cp_memo *memo = NULL;
    if (!o.cp_memo && (o.history_flags & HISTORY_INDEX_WRITE))
        o.cp_memo = memo = cp_memo_open(reports_json_dir);
    if (rc < 0)
        log_debug("no report history in \"%s\": %s", reports_json_dir, pyscope_strerror(rc));
    const char *cand_created = json_string_value(json_object_get(candidate, "created"));
    /* the series: documents with a wall time, oldest first; each metric chooses its own
     * baseline among them (regress_baseline_select: change point, held-out tail) */
    const json_t **docs = xcalloc(h.n ? h.n : 1, sizeof(*docs));
    size_t n = 0;
    for (size_t i = 0; i < h.n; i++) {
        struct dvec d = {0};
        if (!created_after(h.entries[i].doc, cand_created) &&
            run_samples(h.entries[i].doc, "wall_s", &d) > 0)
            docs[n++] = h.entries[i].doc;
        free(d.v);
    }
    json_t *result;
    if (n == 0) {
        result = no_history(&o, REGRESS_NO_HISTORY_MESSAGE);
        other_mode_note(result, reports_json_dir, &f);
    } else {
        result = regress_compare(candidate, docs, n, &o);
        json_object_set_new(json_object_get(result, "baseline"), "history_runs",
                            json_integer((json_int_t)n));
    }
    free(docs);
    history_release(&h);
    cp_memo_close(memo);
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
        if (v && strcmp(v, "regression") == 0 && !json_object_get(m, "function"))
            return true;
    }
    return false;
}

/* The level function metric m is decided at (regress_adjust_functions), or a negative
 * value when it is no member of the family. */
static double family_level(const json_t *m, double alpha, double paired_alpha)
{
    const char *mode = json_string_value(json_object_get(m, "mode"));
    const char *rule = json_string_value(json_object_get(m, "rule"));
    double p = json_get_number(m, "p_value", NAN);
    if (!json_object_get(m, "function") || !mode || !(p >= 0 && p <= 1) ||
        (rule && strcmp(rule, regress_rule_name(REGRESS_RULE_DETERMINISTIC)) == 0))
        return -1;
    return strcmp(mode, "paired") == 0        ? paired_alpha
           : strcmp(mode, "statistical") == 0 ? alpha
                                              : -1;
}

void regress_adjust_functions(json_t *metrics, double alpha, double paired_alpha)
{
    size_t n = json_array_size(metrics), k = 0, i;
    double *p = xcalloc(n ? n : 1, sizeof(*p)), *q = xcalloc(n ? n : 1, sizeof(*q));
    json_t *m;
    json_array_foreach(metrics, i, m)
    {
        if (family_level(m, alpha, paired_alpha) >= 0)
            p[k++] = json_get_number(m, "p_value", 1);
        else if (json_object_get(m, "function")) {
            json_object_del(m, "q_value");
            json_object_del(m, "family_size");
            json_object_del(m, "p_adjust");
        }
    }
    size_t family = k;
    if (family && stats_bh_adjust(p, family, q) < 0)
        memcpy(q, p, family * sizeof(*q));
    k = 0;
    json_array_foreach(metrics, i, m)
    {
        double level = family_level(m, alpha, paired_alpha);
        if (level < 0)
            continue;
        size_t j = k++;
        json_object_set_new(m, "q_value", json_real(q[j]));
        json_object_set_new(m, "family_size", json_integer((json_int_t)family));
        json_object_set_new(m, "p_adjust", json_string("benjamini_hochberg"));
        const char *v = json_string_value(json_object_get(m, "verdict"));
        if (!v || (strcmp(v, "regression") != 0 && strcmp(v, "improvement") != 0) || q[j] < level)
            continue;
        char *reason = xasprintf(
            "%s; not significant among the %zu hotspot tests of this comparison "
            "(Benjamini-Hochberg q=%.3g, not below %.3g): with that many tests, one looks "
            "significant by chance in many comparisons of a revision with itself",
            json_string_value(json_object_get(m, "reason")) ?: v, family, q[j], level);
        json_object_set_new(m, "reason", json_string(reason));
        free(reason);
        json_object_set_new(m, "verdict", json_string(regress_verdict_name(REGRESS_INCONCLUSIVE)));
        json_object_set_new(m, "rule",
                            json_string(regress_rule_name(REGRESS_RULE_NOT_SIGNIFICANT)));
        json_object_set_new(m, "hint", json_string(REGRESS_HINT_NOT_SIGNIFICANT));
    }
    free(p);
    free(q);
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
        fprintf(out, "' %s",
                strcmp(name, "self_s") == 0       ? "self time"
                : strcmp(name, "self_cpu_s") == 0 ? "CPU self time"
                                                  : "total time");
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
    if (json_is_true(json_object_get(json_object_get(m, "contention"), "net_of_queueing")))
        fputs(" (net of waiting for a CPU)", out);
    fputs(word, out);
    print_value(out, json_number_value(json_object_get(m, "baseline_median")), unit);
    fputs(" → ", out);
    print_value(out, json_number_value(json_object_get(m, "candidate_median")), unit);
    fprintf(out, " (%+.2f%%", change);
    const json_t *lo = json_object_get(m, "ci_low_pct"), *hi = json_object_get(m, "ci_high_pct");
    if (json_is_number(lo) && json_is_number(hi))
        fprintf(out, ", 95%% CI %+.1f%% … %+.1f%%", json_number_value(lo), json_number_value(hi));
    const json_t *p = json_object_get(m, "p_value");
    const char *mode = json_string_value(json_object_get(m, "mode"));
    /* in threshold mode the U test could not reach significance: its p decides nothing */
    if (json_is_number(p) && !(mode && strcmp(mode, "threshold") == 0)) {
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
    /* the newest runs of a change not yet confirmed, kept out of the baseline */
    size_t nh = json_array_size(json_object_get(b, "held_out"));
    const char *side = json_string_value(json_object_get(b, "held_out_side"));
    if (nh)
        fprintf(out, "; %zu %s run%s held out", nh,
                side && strcmp(side, "faster") == 0 ? "faster" : "slower", nh == 1 ? "" : "s");
    fputc(')', out);
    const char *hint = json_string_value(json_object_get(m, "hint"));
    const char *reason = json_string_value(json_object_get(m, "reason"));
    if (inc)
        fputs(": inconclusive", out);
    if (reason) {
        fputs(" — ", out);
        print_clean(out, reason);
    }
    if (hint && (inc || reg || imp)) {
        fputs(reason ? "; " : " — ", out);
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

const char *regress_why_basis_text(const char *basis)
{
    return !basis                               ? "self time"
           : strcmp(basis, "instructions") == 0 ? "instructions by CPU self-time share"
           : strcmp(basis, "self_cpu_s") == 0   ? "CPU self time"
           : strcmp(basis, "self_s_net") == 0   ? "self time net of waiting for a CPU"
                                                : "self time";
}

static void print_why(FILE *out, const json_t *why)
{
    const json_t *fns = json_object_get(why, "functions");
    const char *basis = json_string_value(json_object_get(why, "basis"));
    if (basis && json_array_size(fns)) {
        bool instr = strcmp(basis, "instructions") == 0;
        fprintf(out, "Why (%s, candidate vs baseline median):\n", regress_why_basis_text(basis));
        size_t i;
        const json_t *f;
        json_array_foreach(fns, i, f)
        {
            double d = json_number_value(json_object_get(f, "delta"));
            if (instr)
                fprintf(out, "  %+.4fM  ", d / 1e6);
            else
                fprintf(out, "  %+.4fs  ", d);
            print_clean(out, json_string_value(json_object_get(f, "key")));
            const json_t *share = json_object_get(f, "share_pct");
            if (json_is_number(share))
                fprintf(out, " (%.0f%% of the change)", json_number_value(share));
            fputc('\n', out);
            size_t j;
            const json_t *l;
            json_array_foreach(json_object_get(f, "library"), j, l)
            {
                double ld = json_number_value(json_object_get(l, "delta"));
                if (instr)
                    fprintf(out, "      %+.4fM  ", ld / 1e6);
                else
                    fprintf(out, "      %+.4fs  ", ld);
                fputs("in library code it calls: ", out);
                print_clean(out, json_string_value(json_object_get(l, "key")));
                fprintf(out, " (%.0f%%)\n", json_number_value(json_object_get(l, "share_pct")));
            }
        }
    }
    const char *too_few =
        json_string_value(json_object_get(json_object_get(why, "too_few_samples"), "note"));
    if (too_few) {
        fputs("Why: ", out);
        print_clean(out, too_few);
        fputc('\n', out);
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
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(regression, "metrics"), i, m)
    {
        const char *v = json_string_value(json_object_get(m, "verdict"));
        bool is_fn = json_object_get(m, "function") != NULL;
        bool decided = v && (strcmp(v, "regression") == 0 || strcmp(v, "improvement") == 0);
        if (!is_fn || decided)
            print_metric(out, m, color);
    }
    /* which metric decided, when it is not plainly the wall time */
    const json_t *d = json_object_get(regression, "decision");
    const char *dm = json_string_value(json_object_get(d, "metric"));
    const char *drule = json_string_value(json_object_get(d, "rule"));
    const char *dreason = json_string_value(json_object_get(d, "reason"));
    if (dm && dreason &&
        (strcmp(dm, "wall_s") != 0 ||
         (drule && strcmp(drule, regress_rule_name(REGRESS_RULE_CONTENDED)) == 0))) {
        fputs("Decided on ", out);
        fputs(strcmp(dm, "cpu_s") == 0                       ? "CPU time"
              : strcmp(dm, HISTORY_METRIC_INSTRUCTIONS) == 0 ? "instructions"
                                                             : "execution time",
              out);
        fputs(": ", out);
        print_clean(out, dreason);
        fputc('\n', out);
    }
    const json_t *sp = json_object_get(regression, "machine_speed");
    if (json_is_true(json_object_get(sp, "moved")))
        fprintf(out,
                "Machine speed  : a fixed reference loop took %+.1f%% CPU time against the "
                "baseline (limit ±%.1f%%): shown, not used to decide; --instructions counts do "
                "not depend on it\n",
                json_number_value(json_object_get(sp, "change_pct")),
                json_number_value(json_object_get(sp, "limit_pct")));
    print_why(out, json_object_get(regression, "why"));
}
