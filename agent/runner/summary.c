/*
 * summary.c - descriptive statistics for the report's summary block.
 */
#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "xmalloc.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted s[0..n) with linear interpolation (numpy's default). */
static double quantile_sorted(const double *s, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    return s[lo] + (s[hi] - s[lo]) * (pos - (double)lo);
}

static double *sorted_copy(const double *v, size_t n)
{
    double *s = xmalloc((n ? n : 1) * sizeof(double));
    memcpy(s, v, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    return s;
}

double summary_median(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double *s = sorted_copy(v, n);
    double m = quantile_sorted(s, n, 0.5);
    free(s);
    return m;
}

json_t *summary_json(const double *v, size_t n)
{
    if (n == 0)
        return json_pack("{s:i}", "n", 0);
    double *s = sorted_copy(v, n);
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += s[i];
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (s[i] - mean) * (s[i] - mean);
    double med = quantile_sorted(s, n, 0.5);
    double *dev = xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        dev[i] = fabs(s[i] - med);
    qsort(dev, n, sizeof(double), cmp_double);
    json_t *o =
        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)n, "median",
                  json_real_checked(med), "mean", json_real_checked(mean), "min",
                  json_real_checked(s[0]), "max", json_real_checked(s[n - 1]), "stdev",
                  json_real_checked(n > 1 ? sqrt(ss / (double)(n - 1)) : 0), "iqr",
                  json_real_checked(quantile_sorted(s, n, 0.75) - quantile_sorted(s, n, 0.25)),
                  "mad", json_real_checked(quantile_sorted(dev, n, 0.5)));
    free(dev);
    free(s);
    return o;
}
