/*
 * summary.h - descriptive statistics of a run's samples (n, median, mean,
 * min, max, stdev, iqr, mad) as the report's summary objects.
 */
#ifndef PYSCOPE_RUNNER_SUMMARY_H
#define PYSCOPE_RUNNER_SUMMARY_H

#include <jansson.h>
#include <stddef.h>

/* Median of v[0..n) (v is not modified); 0 for n == 0 or bad data. */
double summary_median(const double *v, size_t n);
/* New summary object for v[0..n) (just {"n": n} when it cannot be computed). */
json_t *summary_json(const double *v, size_t n);

#endif
