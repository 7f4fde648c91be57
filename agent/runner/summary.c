/*
 * summary.c - the report's summary objects, from lib/stats.
 */
#include "summary.h"

#include "jsonutil.h"
#include "stats.h"

double summary_median(const double *v, size_t n)
{
    double m = 0;
    return stats_median(v, n, &m) == 0 ? m : 0;
}

json_t *summary_json(const double *v, size_t n)
{
    struct stats_summary s;
    if (stats_summarize(v, n, &s) < 0)
        return json_pack("{s:I}", "n", (json_int_t)n);
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)s.n, "median",
                     json_real_checked(s.median), "mean", json_real_checked(s.mean), "min",
                     json_real_checked(s.min), "max", json_real_checked(s.max), "stdev",
                     json_real_checked(s.stdev), "iqr", json_real_checked(s.iqr), "mad",
                     json_real_checked(s.mad));
}
