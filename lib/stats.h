/*
 * stats.h - robust statistics for benchmark samples.
 *
 * Descriptive statistics (median, type-7 quantiles like numpy, mean, sample
 * stdev, MAD, IQR), the two-sided Mann-Whitney U test (scipy's
 * method='auto'), the Hodges-Lehmann shift with its distribution-free
 * confidence interval, a seeded bootstrap CI for the ratio of medians,
 * Benjamini-Hochberg adjusted p-values and E-divisive change points.
 *
 * Every function validates its data: an empty input gives -PYSCOPE_ENODATA,
 * a NaN or an infinity gives -PYSCOPE_ERANGE; nothing asserts on data.
 * Input arrays are borrowed and never modified. Randomised methods take a
 * seed and are deterministic for a given seed (xoshiro256** seeded through
 * splitmix64).
 */
#ifndef PYSCOPE_STATS_H
#define PYSCOPE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Default seed of the bootstrap and of the change-point permutation test. */
#define STATS_DEFAULT_SEED 0x5059534350453031ULL /* the bytes of "PYSCPE01" */
/* Default number of bootstrap resamples. */
#define STATS_DEFAULT_RESAMPLES 2000u

/* Deterministic PRNG state (xoshiro256**); embed it, no release needed. */
struct stats_rng {
    uint64_t s[4];
};

/* Seed r from one 64-bit value through splitmix64. */
void stats_rng_seed(struct stats_rng *r, uint64_t seed);
/* Return the next 64 random bits. */
uint64_t stats_rng_next(struct stats_rng *r);
/* Return a value uniform in [0, n) (n > 0). */
uint64_t stats_rng_below(struct stats_rng *r, uint64_t n);
/* One step of splitmix64 on *state (exposed for tests); returns the output. */
uint64_t stats_splitmix64(uint64_t *state);

/* Return 0 when x[0..n) is non-empty and finite, else -PYSCOPE_ENODATA or -PYSCOPE_ERANGE. */
int stats_check(const double *x, size_t n);

/* stats_check, and every sample >= 0 (times, sizes): else -PYSCOPE_ERANGE. */
int stats_check_nonneg(const double *x, size_t n);

/* Median (mean of the two middle values for even n) into *out. Returns 0 or a negative code. */
int stats_median(const double *x, size_t n, double *out);
/* Quantile q in [0,1], linear interpolation (Hyndman-Fan type 7, numpy's default). */
int stats_quantile(const double *x, size_t n, double q, double *out);
/* Arithmetic mean (compensated sum). */
int stats_mean(const double *x, size_t n, double *out);
/* Sample standard deviation (n-1 denominator); n < 2 gives -PYSCOPE_ENODATA. */
int stats_stdev(const double *x, size_t n, double *out);
/* Median absolute deviation from the median, unscaled (scipy's scale=1.0). */
int stats_mad(const double *x, size_t n, double *out);
/* Interquartile range q(0.75) - q(0.25), type 7. */
int stats_iqr(const double *x, size_t n, double *out);

struct stats_summary {
    size_t n;      /* number of samples */
    double median; /* stats_median */
    double mean;   /* stats_mean */
    double min;    /* smallest sample */
    double max;    /* largest sample */
    double stdev;  /* stats_stdev; 0 when n == 1 */
    double iqr;    /* stats_iqr */
    double mad;    /* stats_mad */
};

/* Fill *out with every statistic above. Returns 0 or a negative code. */
int stats_summarize(const double *x, size_t n, struct stats_summary *out);

/* Standard normal upper tail P(Z > z). */
double stats_norm_sf(double z);
/* Standard normal quantile for p in (0,1); returns NaN outside. */
double stats_norm_ppf(double p);
/* Student's t quantile for p in (0,1) and df >= 1: exact for df 1 and 2,
 * a Cornish-Fisher expansion beyond (within 1% of the exact value for
 * p <= 0.995 and df >= 3). NaN outside the domain. */
double stats_t_ppf(double p, double df);

/* Two-sided p-value of Student's t statistic t with df >= 1 degrees of freedom,
 * P(|T| >= |t|): exact (the closed forms of Abramowitz and Stegun 26.7.3-4 for
 * integer df). NaN when t is NaN or df is 0. */
double stats_t_p_two_sided(double t, unsigned df);

struct stats_paired {
    size_t n;      /* pairs used */
    double ratio;  /* exp(the trimmed mean of ln(cand[i] / base[i])) */
    double ci_low; /* its confidence interval */
    double ci_high;
    double p_value; /* two-sided test of the trimmed mean against 0 */
    double df;      /* the t distribution's degrees of freedom: n - 2g - 1 */
};

/* The pairs a trimmed mean of n values drops at each end: floor(trim * n). */
size_t stats_trim_count(size_t n, double trim);

/*
 * The ratio of paired samples cand[i] / base[i] (measured side by side, e.g. in
 * turns) from their log ratios d[i] = ln(cand[i] / base[i]): what drifts between
 * pairs (the machine's load, its clock) cancels in each d[i], so the interval is
 * that of the change, not of the runs' spread. With trim = 0 the paired t test:
 * exp(mean(d)) and exp(mean(d) -/+ t(conf, n-1) sd(d) / sqrt(n)). With trim in
 * (0, 0.5) Tukey and McLaughlin's trimmed-mean t (the one-sample form of Yuen's
 * test): g = floor(trim n) values dropped at each end, the mean of the h = n - 2g
 * kept, its standard error sqrt((n - 1) / (h (h - 1))) s_w from the g-winsorized
 * standard deviation s_w, t with h - 1 degrees of freedom: a run the machine slowed
 * by a third in one pair moves the interval as little as it moves the median.
 * Every value must be > 0 and finite (else -PYSCOPE_ERANGE), n >= 2 and n - 2g >= 2
 * (else -PYSCOPE_ENODATA), conf in (0, 1) and trim in [0, 0.5) (else
 * -PYSCOPE_ERANGE). When the kept d[i] are all equal the interval is the point and
 * p is 1 (no change) or 0. Returns 0 or a negative code.
 */
int stats_paired_ratio(const double *base, const double *cand, size_t n, double conf, double trim,
                       struct stats_paired *out);

struct stats_mwu {
    double u1;      /* U statistic of x (scipy's "statistic") */
    double p_value; /* two-sided, in [0, 1] */
    bool exact;     /* true: exact null distribution; false: normal approximation */
};

/*
 * Two-sided Mann-Whitney U test of x against y, like
 * scipy.stats.mannwhitneyu(x, y, method='auto'): exact when either sample
 * has at most 8 values and there are no ties (and nx*ny <= 10000, beyond
 * which the normal approximation is used); otherwise the normal
 * approximation with tie correction and continuity correction. When every
 * value is tied, p = 1. Returns 0 or a negative code.
 */
int stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny,
                      struct stats_mwu *out);

/* Smallest two-sided p-value the exact test can reach with these sizes: 2 / C(nx+ny, nx). */
double stats_mannwhitney_min_p(size_t nx, size_t ny);

struct stats_hl {
    double shift;  /* median of all differences y[j] - x[i] */
    double ci_low; /* distribution-free confidence interval of the shift */
    double ci_high;
    double conf_achieved; /* actual coverage of [ci_low, ci_high] (discrete) */
    bool exact;           /* interval from the exact U distribution */
};

/*
 * Hodges-Lehmann estimate of the shift of y relative to x, with the
 * Moses/Bauer interval [D(k), D(nx*ny+1-k)] over the sorted pairwise
 * differences, k = 1 + max{c : P(U <= c) <= (1-conf)/2} (at least 1), the
 * same construction as R's wilcox.test(conf.int=TRUE). The U distribution is
 * exact under the same conditions as stats_mannwhitney, else normal with
 * tie and continuity corrections. At most 4194304 pairs (else
 * -PYSCOPE_ETOOBIG). Returns 0 or a negative code.
 */
int stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf,
                         struct stats_hl *out);

struct stats_ratio {
    double ratio;  /* median(cand) / median(base) */
    double ci_low; /* percentile bootstrap confidence interval of the ratio */
    double ci_high;
};

/*
 * Ratio of medians median(cand)/median(base) with a percentile bootstrap
 * interval: each of `resamples` rounds draws both samples with replacement
 * (independently, each at its own size) and takes the ratio of their
 * medians; the interval is the (1-conf)/2 and (1+conf)/2 type-7 quantiles of
 * those ratios. Deterministic for a given seed. Values must be >= 0 and
 * median(base) > 0, else -PYSCOPE_ERANGE (also when an interval bound is
 * infinite because a resampled baseline median is 0). Returns 0 or a
 * negative code.
 */
int stats_bootstrap_ratio(const double *base, size_t nb, const double *cand, size_t nc, double conf,
                          unsigned resamples, uint64_t seed, struct stats_ratio *out);

/*
 * Benjamini-Hochberg adjusted p-values (step-up, capped at 1) of p[0..n)
 * into out[0..n) (caller's array, may equal p). Each p must lie in [0, 1].
 * Returns 0 or a negative code.
 */
int stats_bh_adjust(const double *p, size_t n, double *out);

struct stats_cp_options {
    size_t min_size;       /* smallest segment, >= 2 (default 3) */
    unsigned permutations; /* permutation test rounds (default 199) */
    double alpha;          /* significance of each new change point (default 0.05) */
    uint64_t seed;         /* permutation seed (default STATS_DEFAULT_SEED) */
};

/* Fill *opt with the defaults above. */
void stats_cp_options_init(struct stats_cp_options *opt);

/*
 * Energy statistic of the best split of x[0..n) into x[0..tau) and
 * x[tau..n), both at least min_size long: Q = (n1*n2/n) * E with E the
 * energy distance (alpha = 1) of Matteson and James (2014). Stores tau and
 * Q; returns -PYSCOPE_ENODATA when n < 2*min_size.
 */
int stats_energy_split(const double *x, size_t n, size_t min_size, size_t *tau, double *q);

/*
 * E-divisive change points (Matteson and James 2014, alpha = 1): split the
 * series hierarchically at the split with the largest energy statistic
 * among all current segments; keep a split when a permutation test
 * (shuffling within the segments) gives p < opt->alpha, then look again.
 * Stores at most max_cps change points into cps (ascending; each the index
 * where a new segment begins) and their number into *n_cps. Cost is
 * O(permutations * n^2) per change point: callers cap n (a few hundred).
 * A constant series has none. Returns 0 or a negative code.
 */
int stats_changepoints(const double *x, size_t n, const struct stats_cp_options *opt, size_t *cps,
                       size_t max_cps, size_t *n_cps);

/* The version of stats_changepoints' answers: raise it with any change that can give a
 * different answer for the same series and options (lib/cp_memo keeps answers under it, so
 * a memo of another version is searched again). */
#define STATS_CP_SEARCH_VERSION 1

#endif
