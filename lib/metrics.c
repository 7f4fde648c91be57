/*
 * metrics.c - the names of the whole-run metrics (metrics.h).
 */
#include "metrics.h"

#include <string.h>

static const char *const measured_names[] = {"wall_s", "cpu_s", "peak_rss_bytes", NULL};
static const char *const all_names[] = {"wall_s", "cpu_s", "peak_rss_bytes", "instructions", NULL};

const char *const *metric_names(enum metric_set set)
{
    return set == METRIC_SET_ALL ? all_names : measured_names;
}

bool metric_name_ok(enum metric_set set, const char *name)
{
    if (!name)
        return false;
    for (const char *const *n = metric_names(set); *n; n++)
        if (strcmp(*n, name) == 0)
            return true;
    return false;
}

const char *metric_names_text(enum metric_set set)
{
    return set == METRIC_SET_ALL ? "wall_s, cpu_s, peak_rss_bytes or instructions"
                                 : "wall_s, cpu_s or peak_rss_bytes";
}

const char *metric_names_array(enum metric_set set)
{
    return set == METRIC_SET_ALL ? "{wall_s,cpu_s,peak_rss_bytes,instructions}"
                                 : "{wall_s,cpu_s,peak_rss_bytes}";
}
