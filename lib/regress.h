/*
 * regress.h - does a run regress against its baseline, and why.
 *
 * One series is (script, host, Python build, metric); lower is better for
 * every metric (wall_s, cpu_s, peak_rss_bytes from runs[], instructions from
 * instructions.counts[] when the candidate and a baseline report have them,
 * and the total and self time of the top hotspots). A candidate is compared with the
 * baseline's samples, grouped by run, and gets a verdict. Two levels of
 * noise: repeats within a run, and runs (processes launched at other times,
 * under other load) within the history; on a shared machine the second
 * dominates, so the decision compares runs with runs:
 *
 *   s(run)  = the run_quantile (default 0.5: the median) of a run's samples;
 *   centre  = median of s over the baseline runs (base_median), and over the
 *             candidate's runs (cand_median: its one run, or the median of
 *             it and its confirmation runs, see regress_metric_runs);
 *   change  = cand_median / base_median - 1, as a percentage;
 *   noise   = t(0.995, r-1) * sigma * sqrt(1/m + 1/r) / base_median: a 99%
 *             prediction interval of the centre of m new runs, from the r
 *             baseline run statistics (sigma = max(1.4826 MAD, stdev) of
 *             them), known only with r >= 3 baseline runs;
 *   p       = two-sided Mann-Whitney U (candidate vs pooled baseline samples);
 *   CI      = 95% percentile bootstrap interval of the ratio of the pooled
 *             medians (2000 resamples, seed STATS_DEFAULT_SEED); the
 *             Hodges-Lehmann shift and interval are reported beside it;
 *   T       = opt->threshold (default 5%).
 *
 * "statistical" mode, when the test can reach significance at all
 * (2 / C(nb+nc, nc) < alpha):
 *   |change| <= T                           -> no_change
 *   |change| <= noise                       -> inconclusive (noise explains it)
 *   p >= alpha                              -> inconclusive (not significant)
 *   CI does not lie wholly on the change's side of 0 (ci_low > 0 for a
 *   slowdown, ci_high < 0 for a speed-up)   -> inconclusive
 *   otherwise                               -> regression / improvement
 * "threshold" mode (too few samples for any test; e.g. the first version's
 * latest vs previous with one sample each):
 *   |change| <= T                           -> no_change
 *   noise known: |change| > noise           -> regression / improvement
 *   noise unknown: |change| > 2T            -> regression / improvement
 *   otherwise                               -> inconclusive, "run with --repeat 10"
 *
 * The pooled U test and CI treat the repeats of one run as independent of
 * the run, which overstates confidence when runs differ by more than their
 * repeats do; the noise floor (the prediction bound of the two-level model,
 * runs within the history) is what guards against that, and a regression
 * must be beyond the threshold, the bound and significant.
 * The JSON "regression" object is documented in docs/json-schema.md.
 */
#ifndef PYSCOPE_REGRESS_H
#define PYSCOPE_REGRESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct regress_options {
    double threshold;      /* relative change that matters: 0.05 = 5% */
    double alpha;          /* significance level of the U test (0.05) */
    int max_baseline_runs; /* newest baseline runs used (10); <= 0: all */
    double run_quantile;   /* per-run statistic: this quantile of a run's samples (0.5) */
};

/* Fill *opt with the defaults: 5%, 0.05, 10 runs, the median of each run. */
void regress_options_init(struct regress_options *opt);

enum regress_verdict {
    REGRESS_NO_CHANGE,
    REGRESS_REGRESSION,
    REGRESS_IMPROVEMENT,
    REGRESS_INCONCLUSIVE,
};

/* "no_change", "regression", "improvement" or "inconclusive" (static). */
const char *regress_verdict_name(enum regress_verdict v);

/* Hints (static strings) put in regress_result.hint. */
#define REGRESS_HINT_REPEAT          "run with --repeat 10"
#define REGRESS_HINT_NOISE           "within the baseline's run-to-run noise; rerun to confirm"
#define REGRESS_HINT_NOT_SIGNIFICANT "not statistically significant; rerun to confirm"

/* One baseline run's samples (borrowed). */
struct regress_run {
    const double *x;
    size_t n;
};

struct regress_result {
    enum regress_verdict verdict;
    bool statistical;   /* mode: true statistical, false threshold */
    double base_median; /* baseline centre: median of its runs' statistics */
    double cand_median; /* candidate centre: median of its runs' statistics */
    double change_pct;  /* 100 * (cand_median / base_median - 1) */
    bool has_ci;        /* false when the bootstrap could not bound the ratio */
    double ci_low_pct;  /* 95% bootstrap CI of the ratio, as % change */
    double ci_high_pct;
    bool has_hl;          /* Hodges-Lehmann computed (at most 4M pairs) */
    double hl_shift_pct;  /* HL shift as % of base_median */
    double hl_ci_low_pct; /* its distribution-free 95% interval */
    double hl_ci_high_pct;
    double p_value;       /* two-sided Mann-Whitney U */
    bool p_exact;         /* exact null distribution used */
    bool has_noise;       /* >= 3 baseline runs */
    double noise_pct;     /* noise floor (prediction bound), see above */
    double threshold_pct; /* 100 * threshold */
    size_t n_runs;        /* baseline runs with samples */
    size_t n_base;        /* baseline samples */
    size_t n_cand;        /* candidate samples */
    size_t n_cand_runs;   /* candidate runs with samples (1 unless confirmed) */
    double run_quantile;  /* the per-run statistic used */
    const char *hint;     /* static REGRESS_HINT_* or NULL */
};

/*
 * Decide one metric: runs[0..n_runs) are the baseline runs (borrowed), cand
 * the candidate's samples (borrowed). opt NULL means defaults. Samples must
 * be finite and >= 0 and the baseline median > 0 (-PYSCOPE_ERANGE);
 * no samples on a side gives -PYSCOPE_ENODATA. Returns 0 or a negative code.
 */
int regress_metric(const struct regress_run *runs, size_t n_runs, const double *cand, size_t n_cand,
                   const struct regress_options *opt, struct regress_result *out);

/*
 * Same, with the candidate as n_cand_runs runs (borrowed): the first run and
 * its confirmation runs. The candidate's centre is the median of their run
 * statistics and the noise floor is that of the median of that many runs.
 * regress_metric() is this with one candidate run.
 */
int regress_metric_runs(const struct regress_run *runs, size_t n_runs,
                        const struct regress_run *cand_runs, size_t n_cand_runs,
                        const struct regress_options *opt, struct regress_result *out);

/*
 * The two centres regress_metric_runs() compares, without deciding: the median
 * of the baseline runs' statistics (*base) and of the candidate runs' (*cand),
 * each run's statistic being opt's run_quantile of its samples (all borrowed;
 * opt NULL means defaults). For a cheap "is the change within the threshold?"
 * test that agrees with the full rule. Returns 0, -PYSCOPE_ENODATA when a side
 * has no samples, or -PYSCOPE_EINVAL for bad samples.
 */
int regress_centres(const struct regress_run *runs, size_t n_runs,
                    const struct regress_run *cand_runs, size_t n_cand_runs,
                    const struct regress_options *opt, double *base, double *cand);

/*
 * Apply the verdict rules above to the statistics already in r (change_pct,
 * statistical, p_value, has_ci/ci_*_pct, has_noise/noise_pct, threshold_pct,
 * n_cand); sets r->verdict and r->hint. alpha: significance level.
 */
void regress_decide(struct regress_result *r, double alpha);

/*
 * Compare candidate (a pyscope.report/1 or pyscope.run/1 document, borrowed)
 * with baseline documents (borrowed, oldest first; the newest
 * max_baseline_runs are used). Returns a new "regression" JSON object
 * (caller owns; json_decref). With no baseline, an object with status
 * "no_history".
 */
json_t *regress_compare(const json_t *candidate, const json_t *const *baseline, size_t n_baseline,
                        const struct regress_options *opt);

/*
 * Same, with the baseline found in a reports/json folder: earlier reports of
 * the same script.key, host.fingerprint and python.build (status ok, not the
 * candidate itself, not created after it); corrupt or foreign files are
 * skipped with a log_warn. Uses the runs since the latest change point of
 * the wall-time run medians (E-divisive over the newest 200 reports), at
 * most max_baseline_runs; the instructions metric has its own baseline: the
 * reports with counts since the latest change point of their count medians.
 * Returns a new object (caller owns); with no
 * history, status "no_history" and message "first run of this script on
 * this host".
 */
json_t *regress_check_local(const json_t *candidate, const char *reports_json_dir,
                            const struct regress_options *opt);

/*
 * Print the "Performance Regression Check" section of regression (borrowed)
 * to out: a title, a dashed line, one line per metric (function metrics
 * only when they regress or improve), then the "why" lines. color=false
 * prints no escape codes.
 */
void regress_print(FILE *out, const json_t *regression, bool color);

/* True when any metric's verdict in regression (borrowed) is a regression. */
bool regress_has_regression(const json_t *regression);

#endif
