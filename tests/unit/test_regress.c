/*
 * test_regress.c - lib/regress verdict rules, JSON object, terminal output.
 *
 * Every rule of regress.h has a test here that fails if it breaks: the rules
 * directly through regress_decide() on crafted statistics, and end to end on
 * synthetic samples with known shifts (fixed-seed xoshiro noise), on JSON
 * documents built here, and on the fixture folders of tests/data/history/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "regress.h"
#include "stats.h"

#define STEP_DIR  PYSCOPE_TEST_DATA "/history/step"
#define MIXED_DIR PYSCOPE_TEST_DATA "/history/mixed"
#define KEY       "examples/slow_script.py"
#define HOST      "aaaaaaaaaaaaaaaa"
#define PY        "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]"

/* Baseline: n_runs runs of k samples, run r's level = 1 + spread*(r - mid)/n_runs,
 * each sample * (1 + jitter*u), u uniform in [-0.5, 0.5). */
struct synth {
    double x[64][32];
    struct regress_run runs[64];
};

static double unif(struct stats_rng *r)
{
    return (double)(stats_rng_next(r) >> 11) / 9007199254740992.0 - 0.5;
}

static void make_base(struct synth *s, size_t n_runs, size_t k, double level, double spread,
                      double jitter, uint64_t seed)
{
    struct stats_rng r;
    stats_rng_seed(&r, seed);
    for (size_t i = 0; i < n_runs; i++) {
        double run_level =
            level * (1 + spread * ((double)i - (double)(n_runs - 1) / 2) / (double)n_runs);
        for (size_t j = 0; j < k; j++)
            s->x[i][j] = run_level * (1 + jitter * unif(&r));
        s->runs[i].x = s->x[i];
        s->runs[i].n = k;
    }
}

static void make_cand(double *c, size_t n, double level, double jitter, uint64_t seed)
{
    struct stats_rng r;
    stats_rng_seed(&r, seed);
    for (size_t j = 0; j < n; j++)
        c[j] = level * (1 + jitter * unif(&r));
}

/* ---- rules, one by one (regress_decide) ----------------------------------- */

static struct regress_result decided_base(void)
{
    struct regress_result r = {0};
    r.statistical = true;
    r.change_pct = 10;
    r.p_value = 0.001;
    r.has_ci = true;
    r.ci_low_pct = 6;
    r.ci_high_pct = 14;
    r.has_noise = true;
    r.noise_pct = 2;
    r.threshold_pct = 5;
    r.n_cand = 10;
    return r;
}

static void test_decide_statistical_rules(void **state)
{
    (void)state;
    struct regress_result r = decided_base();
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_null(r.hint);

    /* mirrored: an improvement needs ci_high < 0 */
    r = decided_base();
    r.change_pct = -10, r.ci_low_pct = -14, r.ci_high_pct = -6;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_IMPROVEMENT);

    /* within the threshold: no change, however significant */
    r = decided_base();
    r.change_pct = 4.9;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    r.change_pct = -5.0; /* the threshold itself is still "no change" */
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);

    /* beyond the threshold but within the noise floor */
    r = decided_base();
    r.noise_pct = 12;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_NOISE);

    /* not significant; the hint depends on the candidate's samples */
    r = decided_base();
    r.p_value = 0.05; /* p < alpha is strict */
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_NOT_SIGNIFICANT);
    r.n_cand = 3;
    regress_decide(&r, 0.05);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
    /* alpha is honoured */
    r = decided_base();
    r.p_value = 0.02;
    regress_decide(&r, 0.01);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);

    /* the CI must lie wholly on the change's side of 0 */
    r = decided_base();
    r.ci_low_pct = 0;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    r = decided_base();
    r.change_pct = -10, r.ci_low_pct = -14, r.ci_high_pct = 0.5;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    r = decided_base();
    r.has_ci = false;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);

    /* noise unknown in statistical mode: the test and threshold decide */
    r = decided_base();
    r.has_noise = false;
    r.change_pct = 7;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
}

static void test_decide_threshold_rules(void **state)
{
    (void)state;
    struct regress_result r = {0};
    r.threshold_pct = 5;
    r.p_value = 1;
    r.n_cand = 1;
    /* noise unknown: beyond 2x the threshold to decide */
    double changes[] = {3, 5, 7, 10, 10.5, -7, -10.5};
    enum regress_verdict want[] = {REGRESS_NO_CHANGE,    REGRESS_NO_CHANGE,  REGRESS_INCONCLUSIVE,
                                   REGRESS_INCONCLUSIVE, REGRESS_REGRESSION, REGRESS_INCONCLUSIVE,
                                   REGRESS_IMPROVEMENT};
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        r.change_pct = changes[i];
        regress_decide(&r, 0.05);
        if (r.verdict != want[i])
            fail_msg("change %g: verdict %s, expected %s", changes[i],
                     regress_verdict_name(r.verdict), regress_verdict_name(want[i]));
        if (r.verdict == REGRESS_INCONCLUSIVE)
            assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
    }
    /* noise known: beyond the noise floor (and the threshold) */
    r.has_noise = true;
    r.noise_pct = 3;
    r.change_pct = 6;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    r.noise_pct = 8;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
    r.change_pct = 4;
    r.noise_pct = 1;
    regress_decide(&r, 0.05);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
}

/* ---- rules end to end on synthetic samples ------------------------------------ */

static void test_metric_statistical_shift(void **state)
{
    (void)state;
    struct synth s;
    make_base(&s, 10, 10, 1.0, 0.01, 0.02, 1);
    double c[10];
    struct regress_result r;
    struct regress_options o;
    regress_options_init(&o);

    make_cand(c, 10, 1.10, 0.02, 2);
    assert_int_equal(regress_metric(s.runs, 10, c, 10, &o, &r), 0);
    assert_true(r.statistical);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_true(r.change_pct > 8 && r.change_pct < 12);
    assert_true(r.has_ci && r.ci_low_pct > 5 && r.ci_high_pct < 15);
    assert_true(r.ci_low_pct < r.change_pct && r.change_pct < r.ci_high_pct);
    assert_true(r.has_hl && r.hl_ci_low_pct > 0);
    assert_true(r.p_value < 1e-4);
    assert_false(r.p_exact);
    assert_true(r.has_noise && r.noise_pct < 5);
    assert_int_equal(r.n_runs, 10);
    assert_int_equal(r.n_base, 100);
    assert_int_equal(r.n_cand, 10);

    make_cand(c, 10, 0.90, 0.02, 3);
    assert_int_equal(regress_metric(s.runs, 10, c, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_IMPROVEMENT);

    /* +3%: significant but below the threshold; a 2% threshold flags it */
    make_cand(c, 10, 1.03, 0.005, 4);
    assert_int_equal(regress_metric(s.runs, 10, c, 10, &o, &r), 0);
    assert_true(r.p_value < 0.05);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    o.threshold = 0.02;
    assert_int_equal(regress_metric(s.runs, 10, c, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_true(fabs(r.threshold_pct - 2) < 1e-12);

    /* unchanged */
    regress_options_init(&o);
    make_cand(c, 10, 1.0, 0.02, 5);
    assert_int_equal(regress_metric(s.runs, 10, c, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    assert_null(r.hint);
}

static void test_options_fallback(void **state)
{
    (void)state;
    struct regress_options o;
    regress_options_init(&o);
    assert_true(o.threshold == 0.05 && o.alpha == 0.05 && o.max_baseline_runs == 10);
    /* unusable options fall back to the defaults (with a warning) */
    double b[] = {1.0}, c[] = {1.07};
    struct regress_run runs[] = {{b, 1}};
    struct regress_result r;
    o.threshold = NAN;
    o.alpha = 2;
    log_init("test_regress", LOG_LEVEL_ERROR);
    assert_int_equal(regress_metric(runs, 1, c, 1, &o, &r), 0);
    log_init("test_regress", LOG_LEVEL_INFO);
    assert_true(fabs(r.threshold_pct - 5) < 1e-12);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(regress_verdict_name(REGRESS_NO_CHANGE), "no_change");
    assert_string_equal(regress_verdict_name(REGRESS_INCONCLUSIVE), "inconclusive");
}

static void test_metric_noise_floor(void **state)
{
    (void)state;
    struct synth s;
    /* runs spread over +-8% with tight samples: the pooled test is significant,
     * but a +7% run is within what the baseline's runs do anyway */
    make_base(&s, 10, 10, 1.0, 0.18, 0.002, 6);
    double c[10];
    make_cand(c, 10, 1.07, 0.002, 7);
    struct regress_result r;
    assert_int_equal(regress_metric(s.runs, 10, c, 10, NULL, &r), 0);
    assert_true(r.p_value < 0.05);
    assert_true(r.has_noise && r.noise_pct > 7);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_NOISE);
    /* the same samples against a quiet baseline regress */
    make_base(&s, 10, 10, 1.0, 0.01, 0.002, 6);
    assert_int_equal(regress_metric(s.runs, 10, c, 10, NULL, &r), 0);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
}

static void test_metric_too_few_samples(void **state)
{
    (void)state;
    /* 2 runs x 3 with a wide spread, 3 candidate samples: testable but not significant */
    double b1[] = {0.5, 1.0, 1.5}, b2[] = {0.6, 1.1, 1.4}, c[] = {1.2, 0.6, 1.6};
    struct regress_run runs[] = {{b1, 3}, {b2, 3}};
    struct regress_result r;
    assert_int_equal(regress_metric(runs, 2, c, 3, NULL, &r), 0);
    assert_true(r.statistical);
    assert_false(r.has_noise); /* fewer than 3 runs */
    assert_true(r.change_pct > 5);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
}

static void test_metric_one_sample_each(void **state)
{
    (void)state;
    /* the first version's comparison: latest vs previous, --repeat 1 */
    double b[] = {1.4520};
    struct regress_run runs[] = {{b, 1}};
    struct regress_result r;
    double c1[] = {1.4600}; /* +0.55% */
    assert_int_equal(regress_metric(runs, 1, c1, 1, NULL, &r), 0);
    assert_false(r.statistical);
    assert_false(r.has_noise);
    assert_true(fabs(r.p_value - 1) < 1e-12);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    double c2[] = {1.5494}; /* +6.71%: beyond 5% but not 10% */
    assert_int_equal(regress_metric(runs, 1, c2, 1, NULL, &r), 0);
    assert_true(fabs(r.change_pct - 6.707988980716253) < 1e-9);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
    double c3[] = {1.70}; /* +17% */
    assert_int_equal(regress_metric(runs, 1, c3, 1, NULL, &r), 0);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    double c4[] = {1.20}; /* -17% */
    assert_int_equal(regress_metric(runs, 1, c4, 1, NULL, &r), 0);
    assert_int_equal(r.verdict, REGRESS_IMPROVEMENT);
}

static void test_metric_one_sample_known_noise(void **state)
{
    (void)state;
    /* 10 earlier runs of one sample each, then one new sample: min p = 2/11, so the
     * threshold rule applies with the noise learned from the 10 runs */
    struct synth s;
    make_base(&s, 10, 1, 1.0, 0.02, 0, 8);
    double c[] = {1.07};
    struct regress_result r;
    assert_int_equal(regress_metric(s.runs, 10, c, 1, NULL, &r), 0);
    assert_false(r.statistical);
    assert_true(r.has_noise && r.noise_pct < 7);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    make_base(&s, 10, 1, 1.0, 0.30, 0, 8); /* runs spread +-15% */
    assert_int_equal(regress_metric(s.runs, 10, c, 1, NULL, &r), 0);
    assert_true(r.noise_pct > 7);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
}

/* regress_centres() gives the centres regress_metric_runs() compares, pooled or not. */
static void test_centres_match_metric(void **state)
{
    (void)state;
    /* run medians 1, 2, 10 (median 2) but pooled median 3: the two must not be confused */
    double b1[] = {1, 1, 1}, b2[] = {2, 2, 3}, b3[] = {10, 10, 10}, c[] = {2.2, 2.1, 9};
    struct regress_run runs[] = {{b1, 3}, {b2, 3}, {b3, 3}}, cand = {c, 3};
    struct regress_result r;
    double base, cent;
    assert_int_equal(regress_centres(runs, 3, &cand, 1, NULL, &base, &cent), 0);
    assert_int_equal(regress_metric(runs, 3, c, 3, NULL, &r), 0);
    assert_true(base == 2 && cent == 2.2);
    assert_true(base == r.base_median && cent == r.cand_median);
    /* no samples on a side, and bad samples, are refused as regress_metric does */
    struct regress_run empty = {c, 0};
    assert_int_equal(regress_centres(runs, 3, &empty, 1, NULL, &base, &cent), -PYSCOPE_ENODATA);
    double bad[] = {NAN};
    struct regress_run nan_run = {bad, 1};
    assert_true(regress_centres(&nan_run, 1, &cand, 1, NULL, &base, &cent) < 0);
}

static void test_metric_two_levels(void **state)
{
    (void)state;
    /* the centres are medians of per-run statistics: 3 runs of {1, 2, 3} */
    double b[] = {1, 2, 3}, c[] = {1.1, 5, 5};
    struct regress_run runs[] = {{b, 3}, {b, 3}, {b, 3}};
    struct regress_result r;
    struct regress_options o;
    regress_options_init(&o);
    assert_true(o.run_quantile == 0.5);
    assert_int_equal(regress_metric(runs, 3, c, 3, &o, &r), 0);
    assert_true(r.base_median == 2 && r.cand_median == 5);
    assert_true(fabs(r.change_pct - 150) < 1e-9);
    assert_true(r.run_quantile == 0.5);
    /* the lower quartile and the minimum of each run's repeats */
    o.run_quantile = 0.25;
    assert_int_equal(regress_metric(runs, 3, c, 3, &o, &r), 0);
    assert_true(r.base_median == 1.5 && fabs(r.cand_median - 3.05) < 1e-12);
    o.run_quantile = 0;
    assert_int_equal(regress_metric(runs, 3, c, 3, &o, &r), 0);
    assert_true(fabs(r.change_pct - 10) < 1e-9);
    /* constant run minima: no run-to-run noise, but the pooled test must agree too */
    assert_true(r.has_noise && r.noise_pct == 0);
    assert_true(r.statistical && r.p_value >= 0.05);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    /* an unusable quantile falls back to the median */
    o.run_quantile = 2;
    log_init("test_regress", LOG_LEVEL_ERROR);
    assert_int_equal(regress_metric(runs, 3, c, 3, &o, &r), 0);
    log_init("test_regress", LOG_LEVEL_INFO);
    assert_true(r.run_quantile == 0.5);

    /* noise floor = t(0.995, r-1) * sigma * sqrt(1/m + 1/r) / centre, sigma the larger
     * of 1.4826 MAD and the standard deviation of the run medians:
     * medians 1.00 (x4), 1.02, 0.98, 1.30 (a heavy tail): MAD 0 ... sd 0.1127 */
    double m[7][1] = {{1.0}, {1.0}, {1.0}, {1.0}, {1.02}, {0.98}, {1.30}};
    struct regress_run heavy[7];
    for (size_t i = 0; i < 7; i++)
        heavy[i] = (struct regress_run){m[i], 1};
    double c1[] = {1.25}, c2[] = {1.27};
    regress_options_init(&o);
    assert_int_equal(regress_metric(heavy, 7, c1, 1, &o, &r), 0);
    double sd, t = stats_t_ppf(0.995, 6);
    double med[] = {1.0, 1.0, 1.0, 1.0, 1.02, 0.98, 1.30};
    assert_int_equal(stats_stdev(med, 7, &sd), 0);
    double want = 100 * t * sd * sqrt(1 + 1.0 / 7);
    if (!(r.has_noise && fabs(r.noise_pct - want) < 1e-9))
        fail_msg("noise %g, expected %g", r.noise_pct, want);
    /* +25% is within that tail: inconclusive, not a regression */
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT); /* 1 sample a side: threshold mode */

    /* a confirmation run: the candidate centre is the median of both runs'
     * statistics, and the floor shrinks by sqrt((1/2 + 1/r) / (1 + 1/r)) */
    struct regress_run cr[] = {{c1, 1}, {c2, 1}};
    struct regress_result r2;
    assert_int_equal(regress_metric_runs(heavy, 7, cr, 2, &o, &r2), 0);
    assert_int_equal(r2.n_cand_runs, 2);
    assert_int_equal(r2.n_cand, 2);
    assert_true(fabs(r2.cand_median - 1.26) < 1e-12);
    double shrink = sqrt((0.5 + 1.0 / 7) / (1 + 1.0 / 7));
    if (fabs(r2.noise_pct - want * shrink) > 1e-9)
        fail_msg("confirmed noise %g, expected %g", r2.noise_pct, want * shrink);
    assert_int_equal(regress_metric_runs(heavy, 7, cr, 0, &o, &r2), -PYSCOPE_ENODATA);
}

static void test_metric_constant_and_errors(void **state)
{
    (void)state;
    double b[] = {2, 2, 2}, same[] = {2, 2, 2}, up[] = {2.5, 2.5, 2.5};
    struct regress_run runs[] = {{b, 3}, {b, 3}, {b, 3}, {b, 3}, {b, 3}};
    struct regress_result r;
    assert_int_equal(regress_metric(runs, 5, same, 3, NULL, &r), 0);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    assert_true(r.change_pct == 0 && r.p_value == 1);
    assert_true(r.has_noise && r.noise_pct == 0);
    assert_int_equal(regress_metric(runs, 5, up, 3, NULL, &r), 0);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_true(fabs(r.change_pct - 25) < 1e-9);
    assert_true(fabs(r.ci_low_pct - 25) < 1e-9 && fabs(r.ci_high_pct - 25) < 1e-9);

    double bad[] = {1, NAN}, neg[] = {-1, 1}, zero[] = {0, 0, 0};
    struct regress_run badrun[] = {{bad, 2}}, negrun[] = {{neg, 2}}, zerorun[] = {{zero, 3}};
    assert_int_equal(regress_metric(badrun, 1, same, 3, NULL, &r), -PYSCOPE_ERANGE);
    assert_int_equal(regress_metric(runs, 5, bad, 2, NULL, &r), -PYSCOPE_ERANGE);
    assert_int_equal(regress_metric(negrun, 1, same, 3, NULL, &r), -PYSCOPE_ERANGE);
    assert_int_equal(regress_metric(zerorun, 1, same, 3, NULL, &r), -PYSCOPE_ERANGE);
    assert_int_equal(regress_metric(runs, 0, same, 3, NULL, &r), -PYSCOPE_ENODATA);
    assert_int_equal(regress_metric(runs, 5, same, 0, NULL, &r), -PYSCOPE_ENODATA);
}

/*
 * Instruction counts (pyscope run --instructions) are deterministic: every sample of the
 * baseline is the same large integer. Zero spread must not divide by zero: the noise floor
 * is 0, the bootstrap interval is the point ratio, and the threshold alone decides size.
 */
static void test_metric_constant_counts(void **state)
{
    (void)state;
    const double count = 298667570;
    double b[10], up2[10], up001[10], down2[10], same[10];
    for (int i = 0; i < 10; i++) {
        b[i] = same[i] = count;
        up2[i] = round(count * 1.02);
        up001[i] = round(count * 1.0001);
        down2[i] = round(count * 0.98);
    }
    struct regress_run runs[10];
    for (int i = 0; i < 10; i++)
        runs[i] = (struct regress_run){b, 10};
    struct regress_options o;
    regress_options_init(&o);
    o.threshold = 0.01;
    struct regress_result r;

    assert_int_equal(regress_metric(runs, 10, up2, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_true(r.statistical);
    assert_true(r.has_noise && r.noise_pct == 0);
    assert_true(fabs(r.change_pct - 2) < 1e-6);
    assert_true(r.has_ci && fabs(r.ci_low_pct - 2) < 1e-6 && fabs(r.ci_high_pct - 2) < 1e-6);
    assert_true(r.p_value < 1e-6 && isfinite(r.p_value));
    assert_null(r.hint);

    assert_int_equal(regress_metric(runs, 10, up001, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    assert_true(fabs(r.change_pct - 0.01) < 1e-6);

    assert_int_equal(regress_metric(runs, 10, same, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    assert_true(r.change_pct == 0 && r.p_value == 1 && r.noise_pct == 0);
    assert_true(r.has_ci && r.ci_low_pct == 0 && r.ci_high_pct == 0);

    assert_int_equal(regress_metric(runs, 10, down2, 10, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_IMPROVEMENT);

    /* one count per run (--repeat 1): threshold mode; the known noise floor is 0 */
    struct regress_run single[10];
    for (int i = 0; i < 10; i++)
        single[i] = (struct regress_run){b, 1};
    assert_int_equal(regress_metric(single, 10, up2, 1, &o, &r), 0);
    assert_false(r.statistical);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
    assert_int_equal(regress_metric(single, 10, up001, 1, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_NO_CHANGE);
    /* one baseline run of one count: noise unknown, so beyond 2T (threshold mode, lib/regress.h) */
    assert_int_equal(regress_metric(single, 1, up2, 1, &o, &r), 0);
    assert_int_equal(r.verdict, REGRESS_INCONCLUSIVE);
    assert_string_equal(r.hint, REGRESS_HINT_REPEAT);
    /* one baseline run of ten counts: the test decides, no noise floor needed */
    assert_int_equal(regress_metric(runs, 1, up2, 10, &o, &r), 0);
    assert_true(r.statistical && !r.has_noise);
    assert_int_equal(r.verdict, REGRESS_REGRESSION);
}

/* ---- documents ------------------------------------------------------------------ */

/* A pyscope.report/1 document: runs at walls[], function "slow" taking slow_frac of
 * each run as self time, "helper" taking helper_s (0: absent). */
static json_t *make_doc(int id, const double *walls, size_t n, double slow_frac, double helper_s,
                        const char *sha)
{
    json_t *runs = json_array(), *slow_runs = json_array(), *mod_runs = json_array();
    json_t *helper_runs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(runs,
                              json_pack("{s:f, s:f, s:I}", "wall_s", walls[i], "cpu_s",
                                        walls[i] * 0.98, "peak_rss_bytes", (json_int_t)19712000));
        json_array_append_new(slow_runs, json_real(walls[i] * slow_frac));
        json_array_append_new(mod_runs, json_real(walls[i]));
        json_array_append_new(helper_runs, json_real(helper_s));
    }
    json_t *fns = json_array();
    json_array_append_new(fns, json_pack("{s:s, s:f, s:f, s:f, s:f, s:O, s:[f]}", "key",
                                         KEY ":<module>:1", "total_s", walls[0], "self_s", 0.001,
                                         "total_pct", 100.0, "self_pct", 0.1, "total_s_runs",
                                         mod_runs, "self_s_runs", 0.001));
    json_array_append_new(fns,
                          json_pack("{s:s, s:f, s:f, s:f, s:f, s:o, s:O}", "key", KEY ":slow:3",
                                    "total_s", walls[0] * slow_frac, "self_s", walls[0] * slow_frac,
                                    "total_pct", 100 * slow_frac, "self_pct", 100 * slow_frac,
                                    "self_s_runs", slow_runs, "total_s_runs", slow_runs));
    if (helper_s > 0)
        json_array_append_new(fns, json_pack("{s:s, s:f, s:f, s:f, s:f, s:O, s:O}", "key",
                                             KEY ":helper:9", "total_s", helper_s, "self_s",
                                             helper_s, "total_pct", 100 * helper_s / walls[0],
                                             "self_pct", 100 * helper_s / walls[0], "self_s_runs",
                                             helper_runs, "total_s_runs", helper_runs));
    json_decref(helper_runs);
    json_decref(mod_runs);
    char idbuf[64];
    snprintf(idbuf, sizeof(idbuf), "00000000-0000-4000-8000-%012d", id);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:o, s:{s:o}}", "schema",
                     "pyscope.report/1", "id", idbuf, "script", "key", KEY, "sha256", sha, "host",
                     "fingerprint", HOST, "python", "build", PY, "status", "outcome", "ok", "runs",
                     runs, "profile", "functions", fns);
}

static json_t *make_synth_doc(int id, size_t k, double level, uint64_t seed, double slow_frac,
                              double helper_s, const char *sha)
{
    double w[32];
    make_cand(w, k, level, 0.01, seed);
    return make_doc(id, w, k, slow_frac, helper_s, sha);
}

static const json_t *find_metric(const json_t *reg, const char *name, const char *fn)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *n = json_string_value(json_object_get(m, "metric"));
        const char *f = json_string_value(json_object_get(m, "function"));
        if (strcmp(n, name) == 0 && ((!fn && !f) || (fn && f && strcmp(f, fn) == 0)))
            return m;
    }
    return NULL;
}

static const char *verdict_of(const json_t *m)
{
    assert_non_null(m);
    return json_string_value(json_object_get(m, "verdict"));
}

/* regress_print's section for reg, without colour (new string, caller frees). */
static char *printed(const json_t *reg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    regress_print(mem, reg, false);
    fclose(mem);
    return text;
}

static void test_compare_documents(void **state)
{
    (void)state;
    json_t *base[12];
    for (int i = 0; i < 12; i++)
        base[i] = make_synth_doc(i, 10, 1.0, 100 + (uint64_t)i, 0.8, 0.1, "aa");
    /* candidate: slow() got 0.1 s slower, helper() vanished, fresh() appeared, new sha */
    json_t *cand = make_synth_doc(99, 10, 1.1, 7, 0.8, 0, "bb");
    json_t *fns = json_object_get(json_object_get(cand, "profile"), "functions");
    json_array_append_new(fns, json_pack("{s:s, s:f, s:f, s:f}", "key", KEY ":fresh:20", "total_s",
                                         0.05, "self_s", 0.05, "total_pct", 4.5));
    struct regress_options o;
    regress_options_init(&o);
    json_t *reg = regress_compare(cand, (const json_t *const *)base, 12, &o);
    assert_non_null(reg);
    assert_string_equal(json_string_value(json_object_get(reg, "status")), "compared");

    const json_t *wall = find_metric(reg, "wall_s", NULL);
    assert_string_equal(verdict_of(wall), "regression");
    assert_true(regress_has_regression(reg));
    double ch = json_number_value(json_object_get(wall, "change_pct"));
    assert_true(ch > 8 && ch < 12);
    assert_true(json_number_value(json_object_get(wall, "ci_low_pct")) > 0);
    assert_true(json_number_value(json_object_get(wall, "ci_high_pct")) > ch);
    assert_true(json_number_value(json_object_get(wall, "p_value")) < 0.001);
    assert_true(json_is_number(json_object_get(wall, "noise_pct")));
    assert_true(json_number_value(json_object_get(wall, "threshold_pct")) == 5);
    assert_true(json_is_null(json_object_get(wall, "hint")));
    const json_t *wb = json_object_get(wall, "baseline");
    assert_int_equal(json_array_size(json_object_get(wb, "runs")), 10); /* max_baseline_runs */
    assert_string_equal(json_string_value(json_array_get(json_object_get(wb, "runs"), 0)),
                        "00000000-0000-4000-8000-000000000002");
    assert_int_equal(json_integer_value(json_object_get(wb, "n_runs")), 10);
    assert_int_equal(json_integer_value(json_object_get(wb, "n_samples")), 100);
    assert_int_equal(json_integer_value(json_object_get(wb, "samples_per_run")), 10);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(wall, "candidate"), "n_samples")), 10);
    assert_int_equal(json_array_size(json_object_get(json_object_get(reg, "baseline"), "runs")),
                     10);

    /* cpu_s scales with wall; peak memory is constant */
    assert_string_equal(verdict_of(find_metric(reg, "cpu_s", NULL)), "regression");
    assert_string_equal(verdict_of(find_metric(reg, "peak_rss_bytes", NULL)), "no_change");
    /* hotspots: slow's total and self time regress; helper vanished so has no metric */
    assert_string_equal(verdict_of(find_metric(reg, "total_s", KEY ":slow:3")), "regression");
    assert_string_equal(verdict_of(find_metric(reg, "self_s", KEY ":slow:3")), "regression");
    assert_null(find_metric(reg, "total_s", KEY ":helper:9")); /* not in the candidate */
    assert_null(find_metric(reg, "total_s", KEY ":fresh:20")); /* not in the baseline */

    const json_t *why = json_object_get(reg, "why");
    const json_t *wf = json_object_get(why, "functions");
    assert_true(json_array_size(wf) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(wf, 0), "key")),
                        KEY ":slow:3");
    double share = json_number_value(json_object_get(json_array_get(wf, 0), "share_pct"));
    assert_true(share > 60 && share < 100); /* slow is 80% of the run; fresh adds 0.05 */
    assert_true(json_number_value(json_object_get(json_array_get(wf, 0), "delta_s")) > 0.05);
    assert_int_equal(json_array_size(json_object_get(why, "appeared")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(why, "appeared"), 0)),
                        KEY ":fresh:20");
    assert_int_equal(json_array_size(json_object_get(why, "vanished")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(why, "vanished"), 0)),
                        KEY ":helper:9");
    assert_true(json_is_true(json_object_get(why, "script_changed")));
    assert_true(json_is_false(json_object_get(why, "python_changed")));
    assert_true(json_is_false(json_object_get(why, "host_changed")));

    /* the terminal section */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    regress_print(mem, reg, false);
    fclose(mem);
    assert_non_null(strstr(text, "Performance Regression Check\n"
                                 "----------------------------------------\n"
                                 "⚠️ Execution time increased from "));
    assert_non_null(strstr(text, "95% CI +"));
    assert_non_null(strstr(text, "p<0.001, baseline 10 runs × 10)\n"));
    assert_non_null(strstr(text, "✓ Peak memory unchanged: 18.799MB → 18.799MB (+0.00%"));
    assert_non_null(strstr(text, "⚠️ Hotspot '" KEY ":slow:3' self time increased"));
    assert_non_null(strstr(text, "Why (self time, candidate vs baseline median):\n  +0.0"));
    assert_non_null(strstr(text, "  New functions: " KEY ":fresh:20\n"));
    assert_non_null(strstr(text, "  Gone functions: " KEY ":helper:9\n"));
    assert_non_null(strstr(text, "Note: the script changed since the baseline"));
    assert_null(strchr(text, '\033'));
    free(text);
    mem = open_memstream(&text, &len);
    regress_print(mem, reg, true);
    fclose(mem);
    assert_non_null(strstr(text, "\033[31m⚠️ Execution time"));
    free(text);

    json_decref(reg);
    json_decref(cand);

    /* same level: nothing regresses */
    cand = make_synth_doc(98, 10, 1.0, 8, 0.8, 0.1, "aa");
    reg = regress_compare(cand, (const json_t *const *)base, 12, &o);
    assert_false(regress_has_regression(reg));
    assert_string_equal(verdict_of(find_metric(reg, "wall_s", NULL)), "no_change");
    assert_true(json_is_false(json_object_get(json_object_get(reg, "why"), "script_changed")));
    json_decref(reg);
    json_decref(cand);
    for (int i = 0; i < 12; i++)
        json_decref(base[i]);
}

static void test_compare_seed_case_and_empty(void **state)
{
    (void)state;
    double b[] = {1.4520}, c[] = {1.5494}, c2[] = {1.75};
    json_t *base = make_doc(1, b, 1, 0.9, 0, "aa");
    json_t *cand = make_doc(2, c, 1, 0.9, 0, "aa");
    const json_t *bl[] = {base};
    json_t *reg = regress_compare(cand, bl, 1, NULL);
    const json_t *wall = find_metric(reg, "wall_s", NULL);
    assert_string_equal(verdict_of(wall), "inconclusive");
    assert_string_equal(json_string_value(json_object_get(wall, "mode")), "threshold");
    assert_string_equal(json_string_value(json_object_get(wall, "hint")), REGRESS_HINT_REPEAT);
    assert_true(json_is_null(json_object_get(wall, "noise_pct")));
    assert_false(regress_has_regression(reg));
    char *text = printed(reg);
    assert_non_null(strstr(text, "❓ Execution time increased from 1.4520s → 1.5494s (+6.71%, 95% "
                                 "CI +6.7% … +6.7%, p=1.000, baseline 1 run × 1): inconclusive — "
                                 "run with --repeat 10\n"));
    free(text);
    json_decref(reg);
    json_decref(cand);

    cand = make_doc(3, c2, 1, 0.9, 0, "aa");
    reg = regress_compare(cand, bl, 1, NULL);
    assert_true(regress_has_regression(reg));
    json_decref(reg);

    reg = regress_compare(cand, NULL, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(reg, "status")), "no_history");
    assert_string_equal(json_string_value(json_object_get(reg, "message")),
                        "first run of this script on this host");
    assert_false(regress_has_regression(reg));
    text = printed(reg);
    assert_string_equal(text, "Performance Regression Check\n"
                              "----------------------------------------\n"
                              "No baseline: first run of this script on this host\n");
    free(text);
    json_decref(reg);

    /* a document without runs or profile: compared, no metrics, no crash */
    json_t *empty = json_pack("{s:s}", "schema", "pyscope.report/1");
    reg = regress_compare(empty, bl, 1, NULL);
    assert_int_equal(json_array_size(json_object_get(reg, "metrics")), 0);
    assert_false(regress_has_regression(reg));
    json_decref(reg);
    reg = regress_compare(cand, (const json_t *const[]){empty}, 1, NULL);
    assert_int_equal(json_array_size(json_object_get(reg, "metrics")), 0);
    json_decref(reg);
    json_decref(empty);
    json_decref(cand);
    json_decref(base);
}

/* Add pyscope-run --instructions' counts (n copies of count) to doc. */
static void add_counts(json_t *doc, json_int_t count, size_t n)
{
    json_t *counts = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(counts, json_integer(count));
    json_object_set_new(doc, "instructions",
                        json_pack("{s:s, s:s, s:o}", "tool", "cachegrind", "python_hash_seed", "0",
                                  "counts", counts));
}

static void test_compare_instructions(void **state)
{
    (void)state;
    json_t *base[6];
    for (int i = 0; i < 6; i++) {
        base[i] = make_synth_doc(i, 10, 1.0, 200 + (uint64_t)i, 0.8, 0, "aa");
        if (i >= 2) /* the two oldest reports were made without --instructions */
            add_counts(base[i], 298667570, 10);
    }
    struct regress_options o;
    regress_options_init(&o);
    o.threshold = 0.01;

    /* +2% instructions, same wall time: instructions regress, wall time does not */
    json_t *cand = make_synth_doc(99, 10, 1.0, 9, 0.8, 0, "aa");
    add_counts(cand, 304640921, 10);
    json_t *reg = regress_compare(cand, (const json_t *const *)base, 6, &o);
    const json_t *m = find_metric(reg, "instructions", NULL);
    assert_string_equal(verdict_of(m), "regression");
    assert_string_equal(json_string_value(json_object_get(m, "unit")), "instructions");
    assert_true(json_number_value(json_object_get(m, "noise_pct")) == 0);
    const json_t *mb = json_object_get(m, "baseline");
    assert_int_equal(json_integer_value(json_object_get(mb, "n_runs")), 4);
    assert_int_equal(json_array_size(json_object_get(mb, "runs")), 4);
    assert_int_equal(json_integer_value(json_object_get(mb, "samples_per_run")), 10);
    assert_true(regress_has_regression(reg));
    char *text = printed(reg);
    assert_non_null(strstr(text,
                           "⚠️ Instructions increased from 298.6676M → 304.6409M (+2.00%, "
                           "95% CI +2.0% … +2.0%, p<0.001, baseline 4 runs × 10)\n"));
    free(text);
    json_decref(reg);
    json_decref(cand);

    /* +0.01%: no change */
    cand = make_synth_doc(98, 10, 1.0, 9, 0.8, 0, "aa");
    add_counts(cand, 298697437, 10);
    reg = regress_compare(cand, (const json_t *const *)base, 6, &o);
    assert_string_equal(verdict_of(find_metric(reg, "instructions", NULL)), "no_change");
    json_decref(reg);
    json_decref(cand);

    /* a candidate without counts, or a baseline without any: no instructions metric */
    cand = make_synth_doc(97, 10, 1.0, 9, 0.8, 0, "aa");
    reg = regress_compare(cand, (const json_t *const *)base, 6, &o);
    assert_null(find_metric(reg, "instructions", NULL));
    assert_non_null(find_metric(reg, "wall_s", NULL));
    json_decref(reg);
    add_counts(cand, 298667570, 10);
    reg = regress_compare(cand, (const json_t *const *)base, 2, &o);
    assert_null(find_metric(reg, "instructions", NULL));
    json_decref(reg);
    /* malformed counts are skipped, not fatal */
    json_object_set_new(json_object_get(base[5], "instructions"), "counts",
                        json_pack("[s, f, i]", "x", -1.0, (json_int_t)298667570));
    reg = regress_compare(cand, (const json_t *const *)base, 6, &o);
    m = find_metric(reg, "instructions", NULL);
    assert_string_equal(verdict_of(m), "no_change");
    assert_true(json_is_null(json_object_get(json_object_get(m, "baseline"), "samples_per_run")));
    json_decref(reg);
    json_decref(cand);
    for (int i = 0; i < 6; i++)
        json_decref(base[i]);
}

/* Write doc as the i-th report of dir (file names sort by i). */
static void write_report(const char *dir, int i, const json_t *doc)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/pyscope_report_2026-11-24T10-%02d-00.000000Z.json", dir, i);
    assert_int_equal(json_dump_file(doc, path, 0), 0);
}

/* The instructions metric has its own series: a step in the counts resets its baseline,
 * a step in wall time alone does not shorten it. */
static void test_check_local_instructions(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_regress_XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct regress_options o;
    regress_options_init(&o);
    o.threshold = 0.01;
    /* 12 reports, wall time flat; counts step 100 M -> 103 M at the 7th */
    for (int i = 0; i < 12; i++) {
        json_t *d = make_synth_doc(i, 10, 1.0, 300 + (uint64_t)i, 0.8, 0, "aa");
        add_counts(d, i < 6 ? 100000000 : 103000000, 10);
        write_report(dir, i, d);
        json_decref(d);
    }
    json_t *cand = make_synth_doc(99, 10, 1.0, 9, 0.8, 0, "aa");
    add_counts(cand, 103000000, 10);
    json_t *reg = regress_check_local(cand, dir, &o);
    const json_t *m = find_metric(reg, "instructions", NULL);
    assert_string_equal(verdict_of(m), "no_change");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "baseline"), "n_runs")),
                     6);
    assert_true(json_is_null(json_object_get(json_object_get(reg, "baseline"), "change_point")));
    /* metrics stay in order: run metrics first, then hotspots */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(reg, "metrics"), 3), "metric")),
                        "instructions");
    json_decref(reg);
    json_decref(cand);

    /* wall time steps 1.0 -> 1.3 at the 7th report, counts stay: all 10 newest count */
    for (int i = 0; i < 12; i++) {
        json_t *d = make_synth_doc(i, 10, i < 6 ? 1.0 : 1.3, 400 + (uint64_t)i, 0.8, 0, "aa");
        add_counts(d, 100000000, 10);
        write_report(dir, i, d);
        json_decref(d);
    }
    cand = make_synth_doc(98, 10, 1.3, 9, 0.8, 0, "aa");
    add_counts(cand, 102000000, 10);
    reg = regress_check_local(cand, dir, &o);
    assert_non_null(json_object_get(json_object_get(reg, "baseline"), "change_point"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(reg, "baseline"), "n_runs")), 6);
    m = find_metric(reg, "instructions", NULL);
    assert_string_equal(verdict_of(m), "regression");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "baseline"), "n_runs")),
                     10);
    json_decref(reg);
    /* a candidate without counts: no instructions metric */
    json_object_del(cand, "instructions");
    reg = regress_check_local(cand, dir, &o);
    assert_null(find_metric(reg, "instructions", NULL));
    json_decref(reg);
    json_decref(cand);
    for (int i = 0; i < 12; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/pyscope_report_2026-11-24T10-%02d-00.000000Z.json", dir,
                 i);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

static json_t *step_candidate(const char *id, const double *walls, size_t n)
{
    json_t *cand = make_doc(500, walls, n, 0.9, 0,
                            "1111111111111111111111111111111111111111111111"
                            "111111111111111111");
    json_object_set_new(cand, "id", json_string(id));
    json_object_set_new(cand, "created", json_string("2026-11-30T08:00:00.000000Z"));
    return cand;
}

static void test_check_local(void **state)
{
    (void)state;
    log_init("test_regress", LOG_LEVEL_ERROR); /* the mixed folder warns about its bad files */
    /* step/: wall time stepped 1.0 -> 1.3 at the 7th report (id ...106) */
    double same[] = {1.31, 1.305, 1.30};
    json_t *cand = step_candidate("cand-1", same, 3);
    json_t *reg = regress_check_local(cand, STEP_DIR, NULL);
    const json_t *bl = json_object_get(reg, "baseline");
    assert_string_equal(json_string_value(json_object_get(bl, "change_point")),
                        "00000000-0000-4000-8000-000000000106");
    assert_int_equal(json_integer_value(json_object_get(bl, "n_runs")), 6);
    assert_int_equal(json_integer_value(json_object_get(bl, "history_runs")), 12);
    assert_string_equal(verdict_of(find_metric(reg, "wall_s", NULL)), "no_change");
    json_decref(reg);
    /* without the change point reset the same run would look 30% slower */
    struct regress_options o;
    regress_options_init(&o);
    o.max_baseline_runs = 0;
    reg = regress_check_local(cand, STEP_DIR, &o);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(reg, "baseline"), "n_runs")), 6);
    json_decref(reg);
    json_decref(cand);

    double slower[] = {1.45, 1.452, 1.448};
    cand = step_candidate("cand-2", slower, 3);
    reg = regress_check_local(cand, STEP_DIR, NULL);
    assert_string_equal(verdict_of(find_metric(reg, "wall_s", NULL)), "regression");
    assert_true(regress_has_regression(reg));
    json_decref(reg);
    json_decref(cand);

    /* mixed/: only the same series, status ok, skipping bad files and the candidate */
    cand = step_candidate("00000000-0000-4000-8000-000000000016", same, 3);
    reg = regress_check_local(cand, MIXED_DIR, NULL);
    const json_t *runs = json_object_get(json_object_get(reg, "baseline"), "runs");
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(json_string_value(json_array_get(runs, 0)),
                        "00000000-0000-4000-8000-000000000001");
    assert_string_equal(json_string_value(json_array_get(runs, 1)),
                        "00000000-0000-4000-8000-000000000002");
    assert_true(json_is_null(json_object_get(json_object_get(reg, "baseline"), "change_point")));
    json_decref(reg);
    /* created before every report: none is earlier */
    json_object_set_new(cand, "created", json_string("2026-01-01T00:00:00.000000Z"));
    reg = regress_check_local(cand, MIXED_DIR, NULL);
    assert_string_equal(json_string_value(json_object_get(reg, "status")), "no_history");
    json_decref(reg);
    json_decref(cand);

    /* no history: another script, a missing folder */
    cand = step_candidate("cand-3", same, 3);
    json_object_set_new(json_object_get(cand, "script"), "key", json_string("examples/new.py"));
    reg = regress_check_local(cand, STEP_DIR, NULL);
    assert_string_equal(json_string_value(json_object_get(reg, "status")), "no_history");
    assert_string_equal(json_string_value(json_object_get(reg, "message")),
                        "first run of this script on this host");
    json_decref(reg);
    reg = regress_check_local(cand, STEP_DIR "/missing", NULL);
    assert_string_equal(json_string_value(json_object_get(reg, "status")), "no_history");
    json_decref(reg);
    json_decref(cand);
    log_init("test_regress", LOG_LEVEL_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide_statistical_rules),
        cmocka_unit_test(test_decide_threshold_rules),
        cmocka_unit_test(test_metric_statistical_shift),
        cmocka_unit_test(test_options_fallback),
        cmocka_unit_test(test_metric_noise_floor),
        cmocka_unit_test(test_metric_too_few_samples),
        cmocka_unit_test(test_metric_one_sample_each),
        cmocka_unit_test(test_metric_one_sample_known_noise),
        cmocka_unit_test(test_centres_match_metric),
        cmocka_unit_test(test_metric_two_levels),
        cmocka_unit_test(test_metric_constant_and_errors),
        cmocka_unit_test(test_metric_constant_counts),
        cmocka_unit_test(test_compare_documents),
        cmocka_unit_test(test_compare_seed_case_and_empty),
        cmocka_unit_test(test_compare_instructions),
        cmocka_unit_test(test_check_local),
        cmocka_unit_test(test_check_local_instructions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
