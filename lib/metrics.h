/*
 * metrics.h - the names of the whole-run metrics a decision may be made on:
 * one list for every place that takes a metric's name from a user or a peer
 * (pyscope bisect --metric, locally and on the farm; the coordinator's
 * bisections and auto_bisect; compare-hosts queries), so that they accept
 * the same names and say the same list when they refuse one.
 *
 * Lower is better for each. "instructions" is counted only where asked for:
 * local runs with --instructions (pyscope run), and on the farm the jobs
 * that carry Job.instructions (a bisection on "instructions", pyscope submit
 * or try --instructions; the agent runs them under valgrind). The series'
 * queries (compare-hosts) read what every run measures: the first three.
 */
#ifndef PYSCOPE_METRICS_H
#define PYSCOPE_METRICS_H

#include <stdbool.h>

enum metric_set {
    METRIC_SET_MEASURED, /* wall_s, cpu_s, peak_rss_bytes: what every run measures */
    METRIC_SET_ALL,      /* those and instructions (counted when asked for: see above) */
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
