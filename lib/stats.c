/*
 * stats.c - robust statistics for benchmark samples.
 *
 * Design notes:
 * - Reference behaviour is numpy/scipy: type-7 quantiles, ddof=1 stdev,
 *   unscaled MAD, scipy.stats.mannwhitneyu(method='auto'). The unit tests
 *   hold constants computed once with scipy 1.10.
 * - The exact Mann-Whitney distribution is counted with the positive
 *   recurrence f(m,n,k) = f(m-1,n,k-n) + f(m,n-1,k) (no cancellation, so
 *   small tail probabilities stay accurate), truncated at the tail needed.
 * - Randomness comes only from a caller-seeded xoshiro256**, so every
 *   result is reproducible.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "xmalloc.h"

/* Exact U distribution only while nx*ny stays below this (cost ~ m*n*mn/2). */
#define STATS_EXACT_MAX_MN 10000u
/* Hodges-Lehmann keeps every pairwise difference in memory: cap them. */
#define STATS_HL_MAX_PAIRS 4194304u

/* ---- PRNG --------------------------------------------------------------- */

uint64_t stats_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void stats_rng_seed(struct stats_rng *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = stats_splitmix64(&st);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t stats_rng_next(struct stats_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t stats_rng_below(struct stats_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift; the bias (n / 2^64) is far below anything measurable here. */
    return (uint64_t)(((unsigned __int128)stats_rng_next(r) * n) >> 64);
}

/* ---- descriptive ---------------------------------------------------------- */

int stats_check(const double *x, size_t n)
{
    if (n == 0)
        return -PYSCOPE_ENODATA;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return -PYSCOPE_ERANGE;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Return a new sorted copy of x (caller frees). */
static double *sorted_copy(const double *x, size_t n)
{
    double *s = xmalloc(n * sizeof(*s));
    memcpy(s, x, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    return s;
}

static double mid(double a, double b)
{
    double m = (a + b) / 2;
    return isfinite(m) ? m : a / 2 + b / 2;
}

static double median_sorted(const double *s, size_t n)
{
    return n % 2 ? s[n / 2] : mid(s[n / 2 - 1], s[n / 2]);
}

static double quantile_sorted(const double *s, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

int stats_median(const double *x, size_t n, double *out)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    double *s = sorted_copy(x, n);
    *out = median_sorted(s, n);
    free(s);
    return 0;
}

int stats_quantile(const double *x, size_t n, double q, double *out)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    if (!(q >= 0 && q <= 1))
        return -PYSCOPE_ERANGE;
    double *s = sorted_copy(x, n);
    *out = quantile_sorted(s, n, q);
    free(s);
    return 0;
}

/* Neumaier's compensated sum. */
static double sum_compensated(const double *x, size_t n)
{
    double sum = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        double t = sum + x[i];
        if (fabs(sum) >= fabs(x[i]))
            c += (sum - t) + x[i];
        else
            c += (x[i] - t) + sum;
        sum = t;
    }
    return sum + c;
}

int stats_mean(const double *x, size_t n, double *out)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    double m = sum_compensated(x, n) / (double)n;
    if (!isfinite(m))
        return -PYSCOPE_ERANGE;
    *out = m;
    return 0;
}

int stats_stdev(const double *x, size_t n, double *out)
{
    double m;
    int rc = stats_mean(x, n, &m);
    if (rc < 0)
        return rc;
    if (n < 2)
        return -PYSCOPE_ENODATA;
    double *d = xmalloc(n * sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = (x[i] - m) * (x[i] - m);
    double v = sum_compensated(d, n) / (double)(n - 1);
    free(d);
    if (!isfinite(v))
        return -PYSCOPE_ERANGE;
    *out = sqrt(v);
    return 0;
}

static double mad_sorted(const double *s, size_t n)
{
    double med = median_sorted(s, n);
    double *d = xmalloc(n * sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = fabs(s[i] - med);
    qsort(d, n, sizeof(*d), cmp_double);
    double r = median_sorted(d, n);
    free(d);
    return r;
}

int stats_mad(const double *x, size_t n, double *out)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    double *s = sorted_copy(x, n);
    *out = mad_sorted(s, n);
    free(s);
    return 0;
}

int stats_iqr(const double *x, size_t n, double *out)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    double *s = sorted_copy(x, n);
    *out = quantile_sorted(s, n, 0.75) - quantile_sorted(s, n, 0.25);
    free(s);
    return 0;
}

int stats_summarize(const double *x, size_t n, struct stats_summary *out)
{
    double mean;
    int rc = stats_mean(x, n, &mean);
    if (rc < 0)
        return rc;
    double sd = 0;
    if (n > 1) {
        rc = stats_stdev(x, n, &sd);
        if (rc < 0)
            return rc;
    }
    double *s = sorted_copy(x, n);
    out->n = n;
    out->median = median_sorted(s, n);
    out->mean = mean;
    out->min = s[0];
    out->max = s[n - 1];
    out->stdev = sd;
    out->iqr = quantile_sorted(s, n, 0.75) - quantile_sorted(s, n, 0.25);
    out->mad = mad_sorted(s, n);
    free(s);
    return 0;
}

/* ---- normal distribution -------------------------------------------------- */

double stats_norm_sf(double z)
{
    return 0.5 * erfc(z / M_SQRT2);
}

double stats_t_ppf(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df >= 1))
        return NAN;
    if (df == 1)
        return tan(M_PI * (p - 0.5));
    if (df == 2)
        return (2 * p - 1) / sqrt(2 * p * (1 - p));
    /* Cornish-Fisher expansion of t around the normal quantile (Abramowitz
     * and Stegun 26.7.5), four terms. */
    double z = stats_norm_ppf(p), z2 = z * z;
    double g1 = z * (z2 + 1) / 4;
    double g2 = z * ((5 * z2 + 16) * z2 + 3) / 96;
    double g3 = z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / 384;
    double g4 = z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) / 92160;
    return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}

double stats_t_p_two_sided(double t, unsigned df)
{
    if (isnan(t) || df == 0)
        return NAN;
    if (isinf(t))
        return 0;
    /* A(t|df) = P(|T| <= t) from theta = atan(t / sqrt(df)): a finite series in
     * cos(theta), odd df with the 2 theta / pi term (A&S 26.7.3, 26.7.4) */
    double th = atan(fabs(t) / sqrt((double)df)), c = cos(th), s = sin(th), a;
    if (df % 2) {
        double sum = 0, term = c;
        if (df > 1) {
            sum = term;
            for (unsigned k = 3; k <= df - 2; k += 2) {
                term *= c * c * (double)(k - 1) / (double)k;
                sum += term;
            }
        }
        a = 2 / M_PI * (th + s * sum);
    } else {
        double sum = 1, term = 1;
        for (unsigned k = 2; k <= df - 2; k += 2) {
            term *= c * c * (double)(k - 1) / (double)k;
            sum += term;
        }
        a = s * sum;
    }
    double p = 1 - a;
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

size_t stats_trim_count(size_t n, double trim)
{
    return trim > 0 && trim < 0.5 ? (size_t)floor(trim * (double)n) : 0;
}

int stats_paired_ratio(const double *base, const double *cand, size_t n, double conf, double trim,
                       struct stats_paired *out)
{
    if (!(conf > 0 && conf < 1) || !(trim >= 0 && trim < 0.5))
        return -PYSCOPE_ERANGE;
    size_t g = stats_trim_count(n, trim);
    if (n < 2 || n - 2 * g < 2)
        return -PYSCOPE_ENODATA;
    double *d = xmalloc(n * sizeof(*d));
    for (size_t i = 0; i < n; i++) {
        if (!(base[i] > 0 && cand[i] > 0 && isfinite(base[i]) && isfinite(cand[i]))) {
            free(d);
            return -PYSCOPE_ERANGE;
        }
        d[i] = log(cand[i] / base[i]);
    }
    qsort(d, n, sizeof(*d), cmp_double);
    double mean, sd;
    stats_mean(d + g, n - 2 * g, &mean);
    for (size_t i = 0; i < g; i++) { /* winsorize */
        d[i] = d[g];
        d[n - 1 - i] = d[n - 1 - g];
    }
    stats_stdev(d, n, &sd);
    free(d);
    /* Yuen: se^2 = (n - 1) s_w^2 / (h (h - 1)), h = n - 2g kept (g = 0: s^2 / n) */
    double h = (double)(n - 2 * g), df = h - 1;
    double se = sd * sqrt((double)(n - 1) / (h * (h - 1)));
    double half = se > 0 ? stats_t_ppf(0.5 + conf / 2, df) * se : 0;
    out->n = n;
    out->df = df;
    out->ratio = exp(mean);
    out->ci_low = exp(mean - half);
    out->ci_high = exp(mean + half);
    if (se > 0)
        out->p_value = stats_t_p_two_sided(mean / se, (unsigned)df);
    else
        out->p_value = mean == 0 ? 1 : 0;
    return 0;
}

double stats_norm_ppf(double p)
{
    /* Acklam's rational approximation, polished with Halley steps. */
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (!(p > 0 && p < 1))
        return NAN;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        double q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    for (int i = 0; i < 2; i++) {
        double e = 0.5 * erfc(-x / M_SQRT2) - p;
        double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
        x = x - u / (1 + x * u / 2);
    }
    return x;
}

/* ---- Mann-Whitney U --------------------------------------------------------- */

struct tagged {
    double v;
    int group; /* 0: x, 1: y */
};

static int cmp_tagged(const void *a, const void *b)
{
    return cmp_double(&((const struct tagged *)a)->v, &((const struct tagged *)b)->v);
}

/* Rank the pooled samples: R1 (sum of x's average ranks), the tie term sum(t^3 - t). */
static void rank_pooled(const double *x, size_t nx, const double *y, size_t ny, double *r1,
                        double *tie_term)
{
    size_t n = nx + ny;
    struct tagged *t = xmalloc(n * sizeof(*t));
    for (size_t i = 0; i < nx; i++)
        t[i] = (struct tagged){x[i], 0};
    for (size_t j = 0; j < ny; j++)
        t[nx + j] = (struct tagged){y[j], 1};
    qsort(t, n, sizeof(*t), cmp_tagged);
    double sum = 0, ties = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && t[j].v == t[i].v)
            j++;
        double rank = ((double)(i + 1) + (double)j) / 2; /* average of ranks i+1..j */
        double cnt = (double)(j - i);
        ties += cnt * cnt * cnt - cnt;
        for (size_t k = i; k < j; k++)
            if (t[k].group == 0)
                sum += rank;
        i = j;
    }
    free(t);
    *r1 = sum;
    *tie_term = ties;
}

/* C(m+n, m) as a double. */
static double binom_double(size_t m, size_t n)
{
    double c = 1;
    size_t k = m < n ? m : n;
    for (size_t i = 1; i <= k; i++)
        c = c * (double)(m + n - k + i) / (double)i;
    return c;
}

double stats_mannwhitney_min_p(size_t nx, size_t ny)
{
    if (nx == 0 || ny == 0)
        return 1;
    double p = 2 / binom_double(nx, ny);
    return p > 1 ? 1 : p;
}

/*
 * Exact null CDF of U for sample sizes (m, n): cdf[k] = P(U <= k) for
 * k = 0..kmax (caller's array of kmax+1).
 */
static void mwu_exact_cdf(size_t m, size_t n, size_t kmax, double *cdf)
{
    if (m > n) {
        size_t t = m;
        m = n;
        n = t;
    }
    size_t len = kmax + 1;
    /* the common small tables (a farm batch asks thousands of times) on the stack */
    double small[2048];
    double *a = (m + 1) * len <= sizeof(small) / sizeof(small[0])
                    ? small
                    : xmalloc((m + 1) * len * sizeof(*a));
    memset(a, 0, (m + 1) * len * sizeof(*a));
    for (size_t i = 0; i <= m; i++)
        a[i * len] = 1; /* f(i, 0, 0) = 1 */
    for (size_t j = 1; j <= n; j++) {
        for (size_t i = 1; i <= m; i++) {
            double *cur = a + i * len, *prev = a + (i - 1) * len;
            size_t top = i * j < kmax ? i * j : kmax;
            for (size_t k = top; k >= j; k--)
                cur[k] += prev[k - j];
        }
    }
    double total = binom_double(m, n), acc = 0;
    for (size_t k = 0; k <= kmax; k++) {
        acc += a[m * len + k];
        cdf[k] = acc / total;
    }
    if (a != small)
        free(a);
}

static bool use_exact(size_t nx, size_t ny, double tie_term)
{
    return (nx <= 8 || ny <= 8) && tie_term == 0 && nx * ny <= STATS_EXACT_MAX_MN;
}

/* Tie-corrected standard deviation of U under the null. */
static double mwu_sigma(size_t nx, size_t ny, double tie_term)
{
    double n = (double)(nx + ny);
    double v = (double)nx * (double)ny / 12 * ((n + 1) - tie_term / (n * (n - 1)));
    return v > 0 ? sqrt(v) : 0;
}

int stats_mannwhitney(const double *x, size_t nx, const double *y, size_t ny, struct stats_mwu *out)
{
    int rc = stats_check(x, nx);
    if (rc == 0)
        rc = stats_check(y, ny);
    if (rc < 0)
        return rc;
    double r1, tie_term;
    rank_pooled(x, nx, y, ny, &r1, &tie_term);
    double mn = (double)nx * (double)ny;
    double u1 = r1 - (double)nx * ((double)nx + 1) / 2;
    double u2 = mn - u1;
    double u = u1 > u2 ? u1 : u2;
    double p;
    out->exact = use_exact(nx, ny, tie_term);
    if (out->exact) {
        size_t kmax = (size_t)(mn - u + 0.5); /* sf(U) = cdf(mn - U) by symmetry */
        double *cdf = xmalloc((kmax + 1) * sizeof(*cdf));
        mwu_exact_cdf(nx, ny, kmax, cdf);
        p = 2 * cdf[kmax];
        free(cdf);
    } else {
        double s = mwu_sigma(nx, ny, tie_term);
        p = s > 0 ? 2 * stats_norm_sf((u - mn / 2 - 0.5) / s) : 1;
    }
    out->u1 = u1;
    out->p_value = p > 1 ? 1 : (p < 0 ? 0 : p);
    return 0;
}

/* ---- Hodges-Lehmann ------------------------------------------------------- */

int stats_hodges_lehmann(const double *x, size_t nx, const double *y, size_t ny, double conf,
                         struct stats_hl *out)
{
    int rc = stats_check(x, nx);
    if (rc == 0)
        rc = stats_check(y, ny);
    if (rc < 0)
        return rc;
    if (!(conf > 0 && conf < 1))
        return -PYSCOPE_ERANGE;
    if (nx > STATS_HL_MAX_PAIRS / ny)
        return -PYSCOPE_ETOOBIG;
    size_t mn = nx * ny;
    double *d = xmalloc(mn * sizeof(*d));
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++)
            d[i * ny + j] = y[j] - x[i];
    qsort(d, mn, sizeof(*d), cmp_double);
    for (size_t i = 0; i < mn; i++) {
        if (!isfinite(d[i])) {
            free(d);
            return -PYSCOPE_ERANGE;
        }
    }
    double r1, tie_term;
    rank_pooled(x, nx, y, ny, &r1, &tie_term);
    double half_alpha = (1 - conf) / 2;
    size_t k;     /* 1-based rank of the lower bound */
    double below; /* P(U <= k-1) */
    out->exact = use_exact(nx, ny, tie_term);
    if (out->exact) {
        size_t kmax = mn / 2;
        double *cdf = xmalloc((kmax + 1) * sizeof(*cdf));
        mwu_exact_cdf(nx, ny, kmax, cdf);
        size_t c = 0;
        bool found = false;
        for (size_t i = 0; i <= kmax && cdf[i] <= half_alpha; i++) {
            c = i;
            found = true;
        }
        k = found ? c + 1 : 1;
        below = cdf[found ? c : 0];
        free(cdf);
    } else {
        double s = mwu_sigma(nx, ny, tie_term);
        double z = stats_norm_ppf(1 - half_alpha);
        double c = floor((double)mn / 2 - 0.5 - z * s);
        k = c >= 0 ? (size_t)c + 1 : 1;
        below = s > 0 ? stats_norm_sf(-(((double)k - 1 + 0.5 - (double)mn / 2) / s)) : 0.5;
    }
    if (k > (mn + 1) / 2)
        k = (mn + 1) / 2;
    out->shift = median_sorted(d, mn);
    out->ci_low = d[k - 1];
    out->ci_high = d[mn - k];
    out->conf_achieved = 1 - 2 * below;
    if (out->conf_achieved < 0)
        out->conf_achieved = 0;
    free(d);
    return 0;
}

/* ---- bootstrap -------------------------------------------------------------- */

/* The k-th smallest of a[0..n) (k < n), left at a[k] with a[0..k) <= a[k]
 * (Hoare's selection; reorders a). */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = a[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            double t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
    return a[k];
}

struct indexed {
    double v;
    size_t i;
};

static int cmp_indexed(const void *a, const void *b)
{
    const struct indexed *x = a, *y = b;
    int c = cmp_double(&x->v, &y->v);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * x[0..n) in order (new, into *sorted) and each element's position there
 * (new, into *rank): rank[i] is where x[i] went.
 */
static void sort_with_ranks(const double *x, size_t n, double **sorted, uint32_t **rank)
{
    struct indexed *t = xmalloc(n * sizeof(*t));
    for (size_t i = 0; i < n; i++)
        t[i] = (struct indexed){x[i], i};
    qsort(t, n, sizeof(*t), cmp_indexed);
    *sorted = xmalloc(n * sizeof(**sorted));
    *rank = xmalloc(n * sizeof(**rank));
    for (size_t k = 0; k < n; k++) {
        (*sorted)[k] = t[k].v;
        (*rank)[t[k].i] = (uint32_t)k;
    }
    free(t);
}

/*
 * The median of a resample (n draws with replacement) of x[0..n), given x in
 * order (sorted) and each element's place there (rank, sort_with_ranks): the
 * draws are counted by place, and the k-th smallest drawn place holds the
 * k-th smallest drawn value. The same draws and the same result as copying
 * the drawn values and selecting, in O(n) without moving data.
 * counts: scratch of n elements.
 */
static double resample_median(struct stats_rng *rng, const double *sorted, const uint32_t *rank,
                              size_t n, uint32_t *counts)
{
    memset(counts, 0, n * sizeof(*counts));
    for (size_t i = 0; i < n; i++)
        counts[rank[stats_rng_below(rng, n)]]++;
    /* rank n / 2 (0-based) is the upper middle; n even also needs rank n / 2 - 1 */
    size_t want = n % 2 ? n / 2 : n / 2 - 1, seen = 0, pos = 0;
    while (seen + counts[pos] <= want)
        seen += counts[pos++];
    double lower = sorted[pos];
    if (n % 2)
        return lower;
    while (seen + counts[pos] <= want + 1)
        seen += counts[pos++];
    return mid(lower, sorted[pos]);
}

/* Quantile q of a[0..n) as quantile_sorted() would give it on the sorted
 * array, by selection (a is reordered). */
static double quantile_select(double *a, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) {
        double top = a[0];
        for (size_t i = 1; i < n; i++)
            top = a[i] > top ? a[i] : top;
        return top;
    }
    double v = select_kth(a, n, lo), next = a[lo + 1];
    for (size_t i = lo + 2; i < n; i++)
        next = a[i] < next ? a[i] : next;
    return v + (h - (double)lo) * (next - v);
}

int stats_check_nonneg(const double *x, size_t n)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (x[i] < 0)
            return -PYSCOPE_ERANGE;
    return 0;
}

int stats_bootstrap_ratio(const double *base, size_t nb, const double *cand, size_t nc, double conf,
                          unsigned resamples, uint64_t seed, struct stats_ratio *out)
{
    int rc = stats_check_nonneg(base, nb);
    if (rc == 0)
        rc = stats_check_nonneg(cand, nc);
    if (rc < 0)
        return rc;
    if (!(conf > 0 && conf < 1) || resamples == 0)
        return -PYSCOPE_ERANGE;
    double *sb, *sc;
    uint32_t *kb, *kc;
    sort_with_ranks(base, nb, &sb, &kb);
    sort_with_ranks(cand, nc, &sc, &kc);
    double mb = median_sorted(sb, nb), mc = median_sorted(sc, nc);
    if (!(mb > 0)) {
        free(sb);
        free(sc);
        free(kb);
        free(kc);
        return -PYSCOPE_ERANGE;
    }
    uint32_t *counts = xmalloc((nb > nc ? nb : nc) * sizeof(*counts));
    double *ratios = xmalloc(resamples * sizeof(*ratios));
    struct stats_rng rng;
    stats_rng_seed(&rng, seed);
    for (unsigned r = 0; r < resamples; r++) {
        double b = resample_median(&rng, sb, kb, nb, counts);
        double c = resample_median(&rng, sc, kc, nc, counts);
        ratios[r] = b > 0 ? c / b : (c > 0 ? INFINITY : 1);
    }
    out->ratio = mc / mb;
    out->ci_low = quantile_select(ratios, resamples, (1 - conf) / 2);
    out->ci_high = quantile_select(ratios, resamples, (1 + conf) / 2);
    free(ratios);
    free(counts);
    free(sb);
    free(sc);
    free(kb);
    free(kc);
    if (!isfinite(out->ci_low) || !isfinite(out->ci_high) || !isfinite(out->ratio))
        return -PYSCOPE_ERANGE;
    return 0;
}

/* ---- Benjamini-Hochberg ----------------------------------------------------- */

int stats_bh_adjust(const double *p, size_t n, double *out)
{
    int rc = stats_check(p, n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0 || p[i] > 1)
            return -PYSCOPE_ERANGE;
    struct indexed *s = xmalloc(n * sizeof(*s));
    for (size_t i = 0; i < n; i++)
        s[i] = (struct indexed){p[i], i};
    qsort(s, n, sizeof(*s), cmp_indexed);
    double running = 1;
    for (size_t r = n; r-- > 0;) {
        double adj = s[r].v * (double)n / (double)(r + 1);
        if (adj < running)
            running = adj;
        s[r].v = running;
    }
    for (size_t r = 0; r < n; r++)
        out[s[r].i] = s[r].v;
    free(s);
    return 0;
}

/* ---- E-divisive change points ------------------------------------------- */

void stats_cp_options_init(struct stats_cp_options *opt)
{
    opt->min_size = 3;
    opt->permutations = 199;
    opt->alpha = 0.05;
    opt->seed = STATS_DEFAULT_SEED;
}

/* Sum of |x[i] - y| for i in [from, to), in that order (|x - y| and |y - x| are the same
 * double). */
static double dev_sum(const double *x, size_t from, size_t to, double y)
{
    double s = 0;
    for (size_t i = from; i < to; i++)
        s += fabs(x[i] - y);
    return s;
}

/*
 * d[a] = sum over i < a of |x[i] - x[a]|, added in that order (i ascending), for a in
 * [0, n). The sums of four neighbouring a run side by side, each in its own accumulator
 * and in its own order, so that the additions do not wait for one another: each sum is
 * the very same chain of roundings as when done alone (no reassociation).
 */
static void energy_left(const double *x, size_t n, double *d)
{
    size_t a = 0;
    for (; a + 4 <= n; a += 4) {
        double y0 = x[a], y1 = x[a + 1], y2 = x[a + 2], y3 = x[a + 3];
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < a; i++) {
            double xi = x[i];
            s0 += fabs(xi - y0);
            s1 += fabs(xi - y1);
            s2 += fabs(xi - y2);
            s3 += fabs(xi - y3);
        }
        s1 += fabs(x[a] - y1);
        s2 += fabs(x[a] - y2);
        s2 += fabs(x[a + 1] - y2);
        s3 += fabs(x[a] - y3);
        s3 += fabs(x[a + 1] - y3);
        s3 += fabs(x[a + 2] - y3);
        d[a] = s0;
        d[a + 1] = s1;
        d[a + 2] = s2;
        d[a + 3] = s3;
    }
    for (; a < n; a++)
        d[a] = dev_sum(x, 0, a, x[a]);
}

/* d[t] = sum over j > t of |x[t] - x[j]|, added in that order (j ascending); as above. */
static void energy_right(const double *x, size_t n, double *d)
{
    size_t t = 0;
    for (; t + 4 <= n; t += 4) {
        double y0 = x[t], y1 = x[t + 1], y2 = x[t + 2], y3 = x[t + 3];
        double s0 = fabs(y0 - y1), s1 = fabs(y1 - y2), s2 = fabs(y2 - y3), s3 = 0;
        s0 += fabs(y0 - y2);
        s0 += fabs(y0 - y3);
        s1 += fabs(y1 - y3);
        for (size_t j = t + 4; j < n; j++) {
            double xj = x[j];
            s0 += fabs(y0 - xj);
            s1 += fabs(y1 - xj);
            s2 += fabs(y2 - xj);
            s3 += fabs(y3 - xj);
        }
        d[t] = s0;
        d[t + 1] = s1;
        d[t + 2] = s2;
        d[t + 3] = s3;
    }
    for (; t < n; t++)
        d[t] = dev_sum(x, t + 1, n, x[t]);
}

/* Best split of x[0..n) (n >= 2*min_size): Q and tau; w is scratch of 3*(n+1). */
static void energy_best(const double *x, size_t n, size_t min_size, double *w, size_t *tau,
                        double *q)
{
    double *wl = w, *wr = w + n + 1, *d = w + 2 * (n + 1);
    energy_left(x, n, d);
    wl[0] = 0;
    for (size_t t = 1; t <= n; t++)
        wl[t] = wl[t - 1] + d[t - 1];
    energy_right(x, n, d);
    wr[n] = 0;
    for (size_t t = n; t-- > 0;)
        wr[t] = wr[t + 1] + d[t];
    double total = wl[n];
    *q = -INFINITY;
    *tau = min_size;
    for (size_t t = min_size; t + min_size <= n; t++) {
        double n1 = (double)t, n2 = (double)(n - t);
        double cross = total - wl[t] - wr[t];
        double e =
            2 * cross / (n1 * n2) - 2 * wl[t] / (n1 * (n1 - 1)) - 2 * wr[t] / (n2 * (n2 - 1));
        double qt = n1 * n2 / (n1 + n2) * e;
        if (qt > *q) {
            *q = qt;
            *tau = t;
        }
    }
}

int stats_energy_split(const double *x, size_t n, size_t min_size, size_t *tau, double *q)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    if (min_size < 2)
        return -PYSCOPE_EUSAGE;
    if (n < 2 * min_size)
        return -PYSCOPE_ENODATA;
    double *w = xmalloc(3 * (n + 1) * sizeof(*w));
    energy_best(x, n, min_size, w, tau, q);
    free(w);
    return 0;
}

/* Best split over all segments given by sorted bounds b[0..nb) (b[0]=0, b[nb-1]=n). */
static bool best_over_segments(const double *x, const size_t *b, size_t nb, size_t min_size,
                               double *w, size_t *at, double *q)
{
    bool any = false;
    for (size_t s = 0; s + 1 < nb; s++) {
        size_t len = b[s + 1] - b[s];
        if (len < 2 * min_size)
            continue;
        size_t tau;
        double qs;
        energy_best(x + b[s], len, min_size, w, &tau, &qs);
        if (!any || qs > *q) {
            *q = qs;
            *at = b[s] + tau;
            any = true;
        }
    }
    return any;
}

int stats_changepoints(const double *x, size_t n, const struct stats_cp_options *opt, size_t *cps,
                       size_t max_cps, size_t *n_cps)
{
    int rc = stats_check(x, n);
    if (rc < 0)
        return rc;
    if (opt->min_size < 2 || !(opt->alpha > 0 && opt->alpha < 1))
        return -PYSCOPE_EUSAGE;
    *n_cps = 0;
    size_t *b = xmalloc((max_cps + 2) * sizeof(*b));
    size_t nb = 2;
    b[0] = 0;
    b[1] = n;
    double *w = xmalloc(3 * (n + 1) * sizeof(*w));
    double *perm = xmalloc(n * sizeof(*perm));
    struct stats_rng rng;
    stats_rng_seed(&rng, opt->seed);
    while (*n_cps < max_cps) {
        size_t at;
        double q;
        if (!best_over_segments(x, b, nb, opt->min_size, w, &at, &q))
            break;
        /* p = (hits + 1) / (permutations + 1) only grows with hits: once it reaches alpha
         * the split is rejected and the search ends, so the remaining permutations (and
         * their random numbers, used by nothing after) cannot change the answer */
        unsigned hits = 0;
        for (unsigned r = 0;
             r < opt->permutations && (hits + 1.0) / (opt->permutations + 1.0) < opt->alpha; r++) {
            memcpy(perm, x, n * sizeof(*perm));
            for (size_t s = 0; s + 1 < nb; s++) {
                for (size_t i = b[s + 1] - 1; i > b[s]; i--) {
                    size_t j = b[s] + (size_t)stats_rng_below(&rng, i - b[s] + 1);
                    double t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
            }
            size_t pat;
            double pq;
            if (best_over_segments(perm, b, nb, opt->min_size, w, &pat, &pq) &&
                pq >= q - 1e-12 * fabs(q))
                hits++;
        }
        double p = (hits + 1.0) / (opt->permutations + 1.0);
        if (p >= opt->alpha)
            break;
        /* insert at into the sorted bounds */
        size_t pos = nb;
        while (pos > 0 && b[pos - 1] > at) {
            b[pos] = b[pos - 1];
            pos--;
        }
        b[pos] = at;
        nb++;
        (*n_cps)++;
    }
    for (size_t i = 0; i < *n_cps; i++)
        cps[i] = b[i + 1];
    free(perm);
    free(w);
    free(b);
    return 0;
}
