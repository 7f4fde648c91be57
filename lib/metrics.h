/*
 * metrics.h - the names of the whole-run metrics a decision may be made on:
 * one list for every place that takes a metric's name from a user or a peer
 * (pyscope bisect --metric, locally and on the farm; the coordinator's
 * bisections and auto_bisect; compare-hosts queries), so that they accept
 * the same names and say the same list when they refuse one.
 *
 * Lower is better for each. "instructions" is counted only by local runs
 * with --instructions (pyscope run): the farm decides on the first three.
 */
#ifndef PYSCOPE_METRICS_H
#define PYSCOPE_METRICS_H

#include <stdbool.h>

enum metric_set {
    METRIC_SET_FARM,  /* wall_s, cpu_s, peak_rss_bytes: what every agent's run measures */
    METRIC_SET_LOCAL, /* those and instructions (pyscope run --instructions) */
};

/* The names of set, NULL-terminated, in the reports' order. */
const char *const *metric_names(enum metric_set set);

/* True when name is one of set's names (exactly; NULL and "" are not). */
bool metric_name_ok(enum metric_set set, const char *name);

/* set's names for a message: "wall_s, cpu_s or peak_rss_bytes" (static text). */
const char *metric_names_text(enum metric_set set);

/* set's names as a PostgreSQL text[] literal: "{wall_s,cpu_s,peak_rss_bytes}" (static). */
const char *metric_names_array(enum metric_set set);

#endif
