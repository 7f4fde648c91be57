/*
 * test_stats.c - lib/stats against reference values.
 *
 * Every reference constant below was computed once with Debian 12's
 * /usr/bin/python3.11, scipy 1.10.1 and numpy 1.24.2 (python3-scipy):
 *   descriptive:  np.median, np.mean, np.quantile (type 7), np.std(ddof=1),
 *                 scipy.stats.median_abs_deviation, scipy.stats.iqr
 *   Mann-Whitney: scipy.stats.mannwhitneyu(x, y, alternative='two-sided',
 *                 method='auto') -> (statistic, pvalue)
 *   Hodges-Lehmann: np.median of all y[j]-x[i]; the interval bound ranks from
 *                 scipy.stats._mannwhitneyu._mwu_state.cdf (exact) or
 *                 scipy.stats.norm.ppf/cdf (normal, tie term from np.unique),
 *                 with the construction documented in stats.h
 *   normal:       scipy.stats.norm.ppf / norm.sf
 *   BH:           numpy step-up formula (scipy 1.10 has no false_discovery_control):
 *                 adj = minimum.accumulate((p_sorted * n / rank)[::-1])[::-1], capped at 1
 *   bootstrap:    scipy.stats.bootstrap((base, cand), ratio of medians, paired=False,
 *                 n_resamples=2000, method='percentile', random_state=default_rng(1));
 *                 a different RNG, so compared with a tolerance
 *   energy:       brute-force numpy Q(tau) = n1*n2/n * (2*mean|a-b| - mean|a-a'| - mean|b-b'|)
 *   PRNG:         splitmix64 / xoshiro256** in Python integer arithmetic
 * GEN(n, a, m, off, scale)[i] = off + scale * ((i*a) % m) / m, the same in both languages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"
#include "stats.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Assert |got - want| <= tol * max(1, |want|), printing both sides. */
#define assert_close(got, want, tol)                                                               \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        double t_ = (tol) * (fabs(w_) > 1 ? fabs(w_) : 1);                                         \
        if (!(fabs(g_ - w_) <= t_))                                                                \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #got, g_, w_, t_);                     \
    } while (0)

static double *gen(size_t n, unsigned long a, unsigned long m, double off, double scale)
{
    double *x = malloc(n * sizeof(*x));
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = off + scale * (double)((i * a) % m) / (double)m;
    return x;
}

static const double A[] = {1.2, 3.4, 2.2, 5.5, 4.1, 2.2, 0.7};

static void test_descriptive_ties(void **state)
{
    (void)state;
    double v;
    assert_int_equal(stats_median(A, N_OF(A), &v), 0);
    assert_close(v, 2.2, 1e-15);
    assert_int_equal(stats_mean(A, N_OF(A), &v), 0);
    assert_close(v, 2.7571428571428567, 1e-14);
    assert_int_equal(stats_quantile(A, N_OF(A), 0.1, &v), 0);
    assert_close(v, 1.0, 1e-14);
    assert_int_equal(stats_quantile(A, N_OF(A), 0.25, &v), 0);
    assert_close(v, 1.7000000000000002, 1e-14);
    assert_int_equal(stats_quantile(A, N_OF(A), 0.9, &v), 0);
    assert_close(v, 4.66, 1e-14);
    assert_int_equal(stats_stdev(A, N_OF(A), &v), 0);
    assert_close(v, 1.684099307104684, 1e-13);
    assert_int_equal(stats_mad(A, N_OF(A), &v), 0);
    assert_close(v, 1.1999999999999997, 1e-14);
    assert_int_equal(stats_iqr(A, N_OF(A), &v), 0);
    assert_close(v, 2.05, 1e-14);
}

static void test_descriptive_tiny(void **state)
{
    (void)state;
    double one[] = {3.0}, two[] = {1.0, 4.0}, three[] = {2.0, 9.0, 4.0};
    double v;
    struct stats_summary s;
    assert_int_equal(stats_summarize(one, 1, &s), 0);
    assert_int_equal(s.n, 1);
    assert_close(s.median, 3.0, 0);
    assert_close(s.stdev, 0.0, 0); /* documented: 0 when n == 1 */
    assert_close(s.mad, 0.0, 0);
    assert_close(s.iqr, 0.0, 0);
    assert_int_equal(stats_stdev(one, 1, &v), -PYSCOPE_ENODATA); /* numpy gives nan */
    assert_int_equal(stats_quantile(one, 1, 0.9, &v), 0);
    assert_close(v, 3.0, 0);

    assert_int_equal(stats_summarize(two, 2, &s), 0);
    assert_close(s.median, 2.5, 1e-15);
    assert_close(s.stdev, 2.1213203435596424, 1e-14);
    assert_close(s.mad, 1.5, 1e-15);
    assert_close(s.iqr, 1.5, 1e-15);
    assert_int_equal(stats_quantile(two, 2, 0.1, &v), 0);
    assert_close(v, 1.3, 1e-15);
    assert_int_equal(stats_quantile(two, 2, 0.9, &v), 0);
    assert_close(v, 3.7, 1e-15);

    assert_int_equal(stats_summarize(three, 3, &s), 0);
    assert_close(s.median, 4.0, 0);
    assert_close(s.mean, 5.0, 1e-15);
    assert_close(s.min, 2.0, 0);
    assert_close(s.max, 9.0, 0);
    assert_close(s.stdev, 3.605551275463989, 1e-14);
    assert_close(s.mad, 2.0, 0);
    assert_close(s.iqr, 3.5, 1e-15);
    assert_int_equal(stats_quantile(three, 3, 0.1, &v), 0);
    assert_close(v, 2.4, 1e-15);
}

static void test_descriptive_constant_and_large(void **state)
{
    (void)state;
    double c[] = {5, 5, 5, 5};
    struct stats_summary s;
    assert_int_equal(stats_summarize(c, 4, &s), 0);
    assert_close(s.median, 5, 0);
    assert_close(s.stdev, 0, 0);
    assert_close(s.mad, 0, 0);
    assert_close(s.iqr, 0, 0);

    double *x = gen(1000, 7919, 1000, 1.0, 0.1);
    double v;
    assert_int_equal(stats_summarize(x, 1000, &s), 0);
    assert_close(s.median, 1.04995, 1e-14);
    assert_close(s.mean, 1.0499499999999997, 1e-14);
    assert_close(s.stdev, 0.02888194360957494, 1e-12);
    assert_close(s.mad, 0.025000000000000022, 1e-13);
    assert_close(s.iqr, 0.04994999999999994, 1e-13);
    assert_int_equal(stats_quantile(x, 1000, 0.1, &v), 0);
    assert_close(v, 1.00999, 1e-14);
    assert_int_equal(stats_quantile(x, 1000, 0.9, &v), 0);
    assert_close(v, 1.0899100000000002, 1e-14);
    free(x);
}

/* Times and sizes: finite, and none below zero (stats_check_nonneg, which regress.c uses). */
static void test_check_nonneg(void **state)
{
    (void)state;
    const double ok[] = {0, 1.5, 2}, neg[] = {1, -0.001, 2}, nan_[] = {1, NAN};
    assert_int_equal(stats_check_nonneg(ok, 3), 0);
    assert_int_equal(stats_check_nonneg(neg, 3), -PYSCOPE_ERANGE);
    assert_int_equal(stats_check(neg, 3), 0);
    assert_int_equal(stats_check_nonneg(nan_, 2), stats_check(nan_, 2));
    assert_int_equal(stats_check_nonneg(ok, 0), -PYSCOPE_ENODATA);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    double v;
    double nan_x[] = {1, NAN, 3}, inf_x[] = {1, -INFINITY}, ok[] = {1, 2};
    struct stats_summary s;
    struct stats_mwu m;
    struct stats_hl hl;
    struct stats_ratio r;
    assert_int_equal(stats_median(ok, 0, &v), -PYSCOPE_ENODATA);
    assert_int_equal(stats_median(nan_x, 3, &v), -PYSCOPE_ERANGE);
    assert_int_equal(stats_mean(inf_x, 2, &v), -PYSCOPE_ERANGE);
    assert_int_equal(stats_summarize(nan_x, 3, &s), -PYSCOPE_ERANGE);
    assert_int_equal(stats_summarize(ok, 0, &s), -PYSCOPE_ENODATA);
    assert_int_equal(stats_quantile(ok, 2, 1.5, &v), -PYSCOPE_ERANGE);
    assert_int_equal(stats_quantile(ok, 2, NAN, &v), -PYSCOPE_ERANGE);
    assert_int_equal(stats_mannwhitney(ok, 2, nan_x, 3, &m), -PYSCOPE_ERANGE);
    assert_int_equal(stats_mannwhitney(ok, 2, ok, 0, &m), -PYSCOPE_ENODATA);
    assert_int_equal(stats_hodges_lehmann(inf_x, 2, ok, 2, 0.95, &hl), -PYSCOPE_ERANGE);
    assert_int_equal(stats_hodges_lehmann(ok, 0, ok, 2, 0.95, &hl), -PYSCOPE_ENODATA);
    assert_int_equal(stats_bootstrap_ratio(ok, 2, nan_x, 3, 0.95, 100, 1, &r), -PYSCOPE_ERANGE);
    double zero[] = {0, 0, 1};
    assert_int_equal(stats_bootstrap_ratio(zero, 3, ok, 2, 0.95, 100, 1, &r), -PYSCOPE_ERANGE);
    double neg[] = {-1, 2};
    assert_int_equal(stats_bootstrap_ratio(neg, 2, ok, 2, 0.95, 100, 1, &r), -PYSCOPE_ERANGE);
    double badp[] = {0.1, 1.2};
    double out[2];
    assert_int_equal(stats_bh_adjust(badp, 2, out), -PYSCOPE_ERANGE);
    assert_int_equal(stats_bh_adjust(badp, 0, out), -PYSCOPE_ENODATA);
    size_t cps[4], ncp;
    struct stats_cp_options o;
    stats_cp_options_init(&o);
    assert_int_equal(stats_changepoints(nan_x, 3, &o, cps, 4, &ncp), -PYSCOPE_ERANGE);
    assert_int_equal(stats_changepoints(ok, 0, &o, cps, 4, &ncp), -PYSCOPE_ENODATA);
}

struct mwu_case {
    const char *name;
    double u1, p;
    bool exact;
};

static void check_mwu(const double *x, size_t nx, const double *y, size_t ny,
                      const struct mwu_case *c)
{
    struct stats_mwu m;
    assert_int_equal(stats_mannwhitney(x, nx, y, ny, &m), 0);
    if (fabs(m.u1 - c->u1) > 1e-9 || fabs(m.p_value - c->p) > 1e-9 * c->p + 1e-15 ||
        m.exact != c->exact)
        fail_msg("%s: u1=%.17g p=%.17g exact=%d, expected u1=%.17g p=%.17g exact=%d", c->name, m.u1,
                 m.p_value, m.exact, c->u1, c->p, c->exact);
}

static void test_mannwhitney_small_exact(void **state)
{
    (void)state;
    double a1[] = {1.1}, b1[] = {2.3};
    check_mwu(a1, 1, b1, 1, &(struct mwu_case){"1v1", 0.0, 1.0, true});
    double a2[] = {1, 2}, b2[] = {3, 4};
    check_mwu(a2, 2, b2, 2, &(struct mwu_case){"2v2", 0.0, 0.3333333333333333, true});
    double a3[] = {1.5, 2.5, 3.1}, b3[] = {2.0, 4.2, 5.0};
    check_mwu(a3, 3, b3, 3, &(struct mwu_case){"3v3", 2.0, 0.4, true});
    double a5[] = {1.0, 1.3, 0.9, 1.1, 1.05}, b7[] = {1.2, 1.4, 1.35, 1.5, 1.25, 1.45, 1.32};
    check_mwu(a5, 5, b7, 7, &(struct mwu_case){"5v7", 2.0, 0.010101010101010102, true});
    double *a8 = gen(8, 37, 101, 1.0, 0.5), *b20 = gen(20, 53, 103, 1.2, 0.5);
    check_mwu(a8, 8, b20, 20, &(struct mwu_case){"8v20", 29.0, 0.00809367765889505, true});
    double a3b[] = {1.3, 1.31, 1.29};
    double *b60 = gen(60, 53, 103, 1.0, 0.5);
    check_mwu(a3b, 3, b60, 60, &(struct mwu_case){"3v60", 112.0, 0.507466445065599, true});
    free(a8);
    free(b20);
    free(b60);
    assert_close(stats_mannwhitney_min_p(1, 1), 1.0, 0);
    assert_close(stats_mannwhitney_min_p(4, 4), 2.0 / 70, 1e-15);
    assert_close(stats_mannwhitney_min_p(1, 10), 2.0 / 11, 1e-15);
}

static void test_mannwhitney_ties_and_large(void **state)
{
    (void)state;
    double a[] = {1, 2, 2, 3, 3, 3}, b[] = {2, 3, 3, 4, 4, 5};
    check_mwu(a, 6, b, 6, &(struct mwu_case){"ties", 7.0, 0.07840293453326791, false});
    double e[] = {1, 2, 3};
    check_mwu(e, 3, e, 3, &(struct mwu_case){"equal", 4.5, 1.0, false});
    double c3[] = {5, 5, 5}, c2[] = {5, 5};
    check_mwu(c3, 3, c2, 2, &(struct mwu_case){"const", 3.0, 1.0, false});
    double *x = gen(100, 7919, 1000, 1.0, 0.1), *y = gen(120, 104729, 997, 1.02, 0.1);
    check_mwu(x, 100, y, 120, &(struct mwu_case){"large", 4026.0, 2.692991836603884e-05, false});
    free(x);
    free(y);
    x = gen(1000, 7919, 1000, 1.0, 0.1);
    y = gen(1000, 104729, 997, 1.0, 0.1);
    check_mwu(x, 1000, y, 1000,
              &(struct mwu_case){"large_same", 501367.0, 0.9157234362410257, false});
    free(x);
    free(y);
}

static void check_hl(const double *x, size_t nx, const double *y, size_t ny, bool exact,
                     double shift, double lo, double hi, double conf)
{
    struct stats_hl h;
    assert_int_equal(stats_hodges_lehmann(x, nx, y, ny, 0.95, &h), 0);
    assert_int_equal(h.exact, exact);
    assert_close(h.shift, shift, 1e-12);
    assert_close(h.ci_low, lo, 1e-12);
    assert_close(h.ci_high, hi, 1e-12);
    assert_close(h.conf_achieved, conf, 1e-9);
}

static void test_hodges_lehmann(void **state)
{
    (void)state;
    double a1[] = {1.1}, b1[] = {2.3};
    check_hl(a1, 1, b1, 1, true, 1.1999999999999997, 1.1999999999999997, 1.1999999999999997, 0.0);
    double a3[] = {1.5, 2.5, 3.1}, b3[] = {2.0, 4.2, 5.0};
    check_hl(a3, 3, b3, 3, true, 1.7000000000000002, -1.1, 3.5, 0.9);
    double a5[] = {1.0, 1.3, 0.9, 1.1, 1.05}, b7[] = {1.2, 1.4, 1.35, 1.5, 1.25, 1.45, 1.32};
    check_hl(a5, 5, b7, 7, true, 0.29999999999999993, 0.09999999999999987, 0.44999999999999996,
             0.952020202020202);
    double *a8 = gen(8, 37, 101, 1.0, 0.5), *b20 = gen(20, 53, 103, 1.2, 0.5);
    check_hl(a8, 8, b20, 20, true, 0.19353551860040374, 0.05600307603575905, 0.31650485436893194,
             0.9512513251643686);
    free(a8);
    free(b20);
    double t1[] = {1, 2, 2, 3, 3, 3}, t2[] = {2, 3, 3, 4, 4, 5};
    check_hl(t1, 6, t2, 6, false, 1.0, 0.0, 2.0, 0.9638532069759095);
    double *x = gen(100, 7919, 1000, 1.0, 0.1), *y = gen(120, 104729, 997, 1.02, 0.1);
    check_hl(x, 100, y, 120, false, 0.018581695085255645, 0.010304513540621674,
             0.026398595787362034, 0.9500269581010548);
    free(x);
    free(y);

    /* at most 4194304 pairs are kept in memory */
    struct stats_hl h;
    x = gen(2049, 7919, 1000, 1.0, 0.1);
    y = gen(2048, 7919, 1000, 1.0, 0.1);
    assert_int_equal(stats_hodges_lehmann(x, 2049, y, 2048, 0.95, &h), -PYSCOPE_ETOOBIG);
    assert_int_equal(stats_hodges_lehmann(x, 10, y, 10, 1.0, &h), -PYSCOPE_ERANGE);
    free(x);
    free(y);
}

/* scipy.stats.t.ppf(p, df), scipy 1.10.1 (Debian 12). */
static void test_t_quantile(void **state)
{
    (void)state;
    static const struct {
        double p, df, want, tol;
    } cases[] = {
        {0.995, 1, 63.65674116287399, 1e-9},   {0.995, 2, 9.924843200918275, 1e-9},
        {0.975, 2, 4.302652729911275, 1e-9},   {0.995, 3, 5.840909309733349, 0.06},
        {0.995, 9, 3.2498355415921263, 0.002}, {0.975, 9, 2.2621571627409915, 0.001},
        {0.995, 20, 2.845339709785806, 0.001}, {0.995, 100, 2.625890521346908, 1e-4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = stats_t_ppf(cases[i].p, cases[i].df);
        if (fabs(got - cases[i].want) > cases[i].tol)
            fail_msg("t_ppf(%g, %g) = %.9g, want %.9g", cases[i].p, cases[i].df, got,
                     cases[i].want);
    }
    assert_true(isnan(stats_t_ppf(0, 5)));
    assert_true(isnan(stats_t_ppf(0.5, 0.5)));
    assert_true(fabs(stats_t_ppf(0.5, 7)) < 1e-12);
}

static void test_normal(void **state)
{
    (void)state;
    assert_close(stats_norm_ppf(0.975), 1.959963984540054, 1e-13);
    assert_close(stats_norm_ppf(0.5), 0.0, 1e-15);
    assert_close(stats_norm_ppf(1e-10), -6.361340902404056, 1e-12);
    assert_close(stats_norm_ppf(0.999999), 4.753424308817087, 1e-11);
    assert_close(stats_norm_ppf(0.02), -2.053748910631823, 1e-13);
    assert_true(isnan(stats_norm_ppf(0)));
    assert_close(stats_norm_sf(1.96), 0.024997895148220435, 1e-15);
    assert_close(stats_norm_sf(-3.0), 0.9986501019683699, 1e-15);
    assert_close(stats_norm_sf(8.0) / 6.22096057427174e-16, 1.0, 1e-12);
    assert_close(stats_norm_sf(0.0), 0.5, 0);
}

static void test_bh(void **state)
{
    (void)state;
    double p[] = {0.01, 0.04, 0.03, 0.005, 0.5, 0.04};
    double want[] = {0.03, 0.048, 0.048, 0.03, 0.5, 0.048};
    double out[6];
    assert_int_equal(stats_bh_adjust(p, 6, out), 0);
    for (size_t i = 0; i < 6; i++)
        assert_close(out[i], want[i], 1e-15);
    double one[] = {0.3};
    assert_int_equal(stats_bh_adjust(one, 1, one), 0); /* in place */
    assert_close(one[0], 0.3, 0);
    double big[] = {0.9, 0.95};
    assert_int_equal(stats_bh_adjust(big, 2, out), 0);
    assert_close(out[0], 0.95, 1e-15);
    assert_close(out[1], 0.95, 1e-15);
}

/* scipy 1.10: 2 * scipy.stats.t.sf(t, df) */
static void test_t_p_two_sided(void **state)
{
    (void)state;
    const struct {
        double t;
        unsigned df;
        double p;
    } c[] = {{2.0, 1, 0.2951672353008664},   {2.0, 2, 0.1835034190722739},
             {2.0, 3, 0.1393259685588431},   {1.5, 4, 0.20799999999999982},
             {3.1, 5, 0.026853184190035198}, {0.7, 9, 0.5016190392161453},
             {2.5, 30, 0.018115649068066706}};
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        assert_close(stats_t_p_two_sided(c[i].t, c[i].df), c[i].p, 1e-12);
        assert_close(stats_t_p_two_sided(-c[i].t, c[i].df), c[i].p, 1e-12); /* two-sided */
    }
    assert_close(stats_t_p_two_sided(0, 7), 1, 1e-15);
    assert_close(stats_t_p_two_sided(INFINITY, 3), 0, 0);
    assert_true(isnan(stats_t_p_two_sided(NAN, 3)));
    assert_true(isnan(stats_t_p_two_sided(1, 0)));
}

/* scipy 1.10: d = log(c / b); exp(mean), exp(mean -/+ t.ppf(0.975, 4) * sem),
 * scipy.stats.ttest_rel(log(c), log(b)).pvalue */
static void test_paired_ratio(void **state)
{
    (void)state;
    double b[] = {1.00, 1.10, 0.95, 1.05, 1.02}, c[] = {1.08, 1.21, 1.02, 1.12, 1.13};
    struct stats_paired p;
    assert_int_equal(stats_paired_ratio(b, c, 5, 0.95, 0, &p), 0);
    assert_int_equal(p.n, 5);
    assert_close(p.ratio, 1.0855254265089431, 1e-12);
    /* the t quantile is a Cornish-Fisher expansion for df >= 3 (within 1%) */
    assert_close(p.ci_low, 1.0639762063942002, 1e-3);
    assert_close(p.ci_high, 1.107511093308079, 1e-3);
    assert_close(p.p_value, 0.0003420096199946268, 1e-9);
    /* what drifts between pairs cancels: the same ratios at a varying level */
    double b2[] = {1.0, 1.6, 1.2, 2.0}, c2[] = {1.1, 1.76, 1.32, 2.2};
    assert_int_equal(stats_paired_ratio(b2, c2, 4, 0.95, 0, &p), 0);
    assert_close(p.ratio, 1.1, 1e-12);
    assert_close(p.ci_low, 1.1, 1e-12);
    assert_close(p.ci_high, 1.1, 1e-12);
    assert_close(p.p_value, 0, 0);
    assert_int_equal(stats_paired_ratio(b2, b2, 4, 0.95, 0, &p), 0);
    assert_close(p.p_value, 1, 0);
    /* trimmed (Yuen): CPU times of 12 turn pairs of an idle local try, head f() +20%; numpy
     * and scipy 1.10: g = 2, h = 8, exp(trimmed mean), exp(tm -/+ t.ppf(0.995, 7) se) with
     * se = sw sqrt((n-1) / (h (h-1))), sw the winsorized sd (ddof 1); 2 t.sf(|tm / se|, 7).
     * The plain mean's 99% interval is +5.6% ... +30.0%. */
    double ta[] = {0.2031, 0.2036, 0.1924, 0.1984, 0.2082, 0.1969,
                   0.1947, 0.1976, 0.1985, 0.1994, 0.2175, 0.2751};
    double tb[] = {0.2126, 0.2284, 0.2253, 0.2261, 0.3152, 0.2384,
                   0.2716, 0.2196, 0.222,  0.2196, 0.265,  0.2753};
    assert_int_equal(stats_trim_count(12, 0.2), 2);
    assert_int_equal(stats_trim_count(4, 0.2), 0);
    assert_int_equal(stats_paired_ratio(ta, tb, 12, 0.99, 0.2, &p), 0);
    assert_close(p.df, 7, 0);
    assert_close(p.ratio, 1.1482942538527179, 1e-12);
    assert_close(p.ci_low, 1.072663583814125, 1e-3);
    assert_close(p.ci_high, 1.2292574422472968, 1e-3);
    assert_close(p.p_value, 0.0001932686371538084, 1e-9);
    assert_int_equal(stats_paired_ratio(ta, tb, 12, 0.99, 0.5, &p), -PYSCOPE_ERANGE);
    /* bad input */
    assert_int_equal(stats_paired_ratio(b, c, 1, 0.95, 0, &p), -PYSCOPE_ENODATA);
    assert_int_equal(stats_paired_ratio(b, c, 5, 1.0, 0, &p), -PYSCOPE_ERANGE);
    double z[] = {1.0, 0.0, 1.0};
    assert_int_equal(stats_paired_ratio(b, z, 3, 0.95, 0, &p), -PYSCOPE_ERANGE);
    double nan_[] = {1.0, NAN, 1.0};
    assert_int_equal(stats_paired_ratio(nan_, b, 3, 0.95, 0, &p), -PYSCOPE_ERANGE);
}

static void test_bootstrap_ratio(void **state)
{
    (void)state;
    double *base = gen(200, 7919, 1000, 1.0, 0.1);
    double cand[200];
    for (size_t i = 0; i < 200; i++)
        cand[i] = base[i] * 1.10;
    struct stats_ratio r, r2;
    assert_int_equal(stats_bootstrap_ratio(base, 200, cand, 200, 0.95, STATS_DEFAULT_RESAMPLES,
                                           STATS_DEFAULT_SEED, &r),
                     0);
    assert_close(r.ratio, 1.0999999999999999, 1e-14);
    /* scipy percentile bootstrap: [1.0892534810419119, 1.1108541030796604] */
    assert_close(r.ci_low, 1.0892534810419119, 2e-3);
    assert_close(r.ci_high, 1.1108541030796604, 2e-3);
    assert_true(r.ci_low < r.ratio && r.ratio < r.ci_high);
    /* deterministic for a seed */
    assert_int_equal(stats_bootstrap_ratio(base, 200, cand, 200, 0.95, STATS_DEFAULT_RESAMPLES,
                                           STATS_DEFAULT_SEED, &r2),
                     0);
    assert_true(r.ci_low == r2.ci_low && r.ci_high == r2.ci_high);
    free(base);

    /* constant samples and one sample each: a degenerate, exact interval */
    double c1[] = {2, 2, 2}, c2[] = {3, 3};
    assert_int_equal(stats_bootstrap_ratio(c1, 3, c2, 2, 0.95, 500, 7, &r), 0);
    assert_close(r.ratio, 1.5, 1e-15);
    assert_close(r.ci_low, 1.5, 1e-15);
    assert_close(r.ci_high, 1.5, 1e-15);
    double o1[] = {1.0}, o2[] = {1.2};
    assert_int_equal(stats_bootstrap_ratio(o1, 1, o2, 1, 0.95, 500, 7, &r), 0);
    assert_close(r.ci_low, 1.2, 1e-15);
    assert_close(r.ci_high, 1.2, 1e-15);
}

static void test_prng_reference(void **state)
{
    (void)state;
    uint64_t s = 1234567;
    assert_true(stats_splitmix64(&s) == 6457827717110365317ULL);
    assert_true(stats_splitmix64(&s) == 3203168211198807973ULL);
    assert_true(stats_splitmix64(&s) == 9817491932198370423ULL);
    struct stats_rng r;
    stats_rng_seed(&r, 42);
    assert_true(stats_rng_next(&r) == 1546998764402558742ULL);
    assert_true(stats_rng_next(&r) == 6990951692964543102ULL);
    assert_true(stats_rng_next(&r) == 12544586762248559009ULL);
    for (int i = 0; i < 1000; i++)
        assert_true(stats_rng_below(&r, 7) < 7);
}

static const double STEP[] = {1.0, 1.02, 0.98, 1.01, 0.99, 1.0, 1.3, 1.31, 1.28, 1.3, 1.29, 1.32};

static void test_energy_split(void **state)
{
    (void)state;
    size_t tau;
    double q;
    assert_int_equal(stats_energy_split(STEP, N_OF(STEP), 3, &tau, &q), 0);
    assert_int_equal(tau, 6);
    assert_close(q, 1.6960000000000006, 1e-12);
    assert_int_equal(stats_energy_split(STEP, 5, 3, &tau, &q), -PYSCOPE_ENODATA);
}

/* The split as energy_best computed it one sum at a time (before its sums ran side by
 * side): stats_energy_split must give the very same bits. */
static void energy_reference(const double *x, size_t n, size_t min_size, size_t *tau, double *q)
{
    double wl[80], wr[80];
    wl[0] = 0;
    for (size_t t = 1; t <= n; t++) {
        double add = 0;
        for (size_t i = 0; i + 1 < t; i++)
            add += fabs(x[i] - x[t - 1]);
        wl[t] = wl[t - 1] + add;
    }
    wr[n] = 0;
    for (size_t t = n; t-- > 0;) {
        double add = 0;
        for (size_t j = t + 1; j < n; j++)
            add += fabs(x[t] - x[j]);
        wr[t] = wr[t + 1] + add;
    }
    *q = -INFINITY;
    *tau = min_size;
    for (size_t t = min_size; t + min_size <= n; t++) {
        double n1 = (double)t, n2 = (double)(n - t);
        double cross = wl[n] - wl[t] - wr[t];
        double e =
            2 * cross / (n1 * n2) - 2 * wl[t] / (n1 * (n1 - 1)) - 2 * wr[t] / (n2 * (n2 - 1));
        double qt = n1 * n2 / (n1 + n2) * e;
        if (qt > *q) {
            *q = qt;
            *tau = t;
        }
    }
}

static void test_energy_split_exact(void **state)
{
    (void)state;
    struct stats_rng r;
    stats_rng_seed(&r, 5);
    double x[79];
    for (size_t n = 6; n < 79; n++) {
        /* every length (blocks of four and their remainders), values with many ties */
        for (size_t i = 0; i < n; i++)
            x[i] = (double)stats_rng_below(&r, i % 3 ? 1000 : 7) / 997.0 + (i > n / 2 ? 0.3 : 0);
        size_t tau, want_tau;
        double q, want_q;
        energy_reference(x, n, 3, &want_tau, &want_q);
        assert_int_equal(stats_energy_split(x, n, 3, &tau, &q), 0);
        assert_int_equal(tau, want_tau);
        assert_memory_equal(&q, &want_q, sizeof(q));
    }
}

static void test_changepoints(void **state)
{
    (void)state;
    struct stats_cp_options o;
    stats_cp_options_init(&o);
    size_t cps[8], n;
    assert_int_equal(stats_changepoints(STEP, N_OF(STEP), &o, cps, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(cps[0], 6);

    /* two steps in a longer noisy series: 1.0 -> 1.2 at 20, -> 0.9 at 40 */
    double x[60];
    struct stats_rng r;
    stats_rng_seed(&r, 99);
    for (size_t i = 0; i < 60; i++) {
        double noise = ((double)stats_rng_below(&r, 1000) / 1000.0 - 0.5) * 0.02;
        x[i] = (i < 20 ? 1.0 : i < 40 ? 1.2 : 0.9) + noise;
    }
    assert_int_equal(stats_changepoints(x, 60, &o, cps, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(cps[0], 20);
    assert_int_equal(cps[1], 40);
    /* max_cps bounds the output */
    assert_int_equal(stats_changepoints(x, 60, &o, cps, 1, &n), 0);
    assert_int_equal(n, 1);

    /* constant, pure noise and too short series: none */
    double c[20];
    for (size_t i = 0; i < 20; i++)
        c[i] = 1.5;
    assert_int_equal(stats_changepoints(c, 20, &o, cps, 8, &n), 0);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < 60; i++)
        x[i] = 1.0 + ((double)stats_rng_below(&r, 1000) / 1000.0 - 0.5) * 0.02;
    assert_int_equal(stats_changepoints(x, 60, &o, cps, 8, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(stats_changepoints(STEP, 4, &o, cps, 8, &n), 0);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptive_ties),
        cmocka_unit_test(test_descriptive_tiny),
        cmocka_unit_test(test_descriptive_constant_and_large),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_check_nonneg),
        cmocka_unit_test(test_mannwhitney_small_exact),
        cmocka_unit_test(test_mannwhitney_ties_and_large),
        cmocka_unit_test(test_hodges_lehmann),
        cmocka_unit_test(test_normal),
        cmocka_unit_test(test_t_quantile),
        cmocka_unit_test(test_bh),
        cmocka_unit_test(test_t_p_two_sided),
        cmocka_unit_test(test_paired_ratio),
        cmocka_unit_test(test_bootstrap_ratio),
        cmocka_unit_test(test_prng_reference),
        cmocka_unit_test(test_energy_split),
        cmocka_unit_test(test_energy_split_exact),
        cmocka_unit_test(test_changepoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
