/*
 * abtest.h - decide an A/B comparison of two revisions (docs/revisions.md).
 *
 * `pyscope try` measures the base and the head revision of a script in
 * turns (base, head, base, head ...) on one machine, so that whatever drifts
 * over time (load, clock speed, cache state) hits both alike. Each turn is
 * one pyscope.run/1 document (a run of --repeat N samples). The verdict uses
 * the statistics of every other comparison (lib/regress): the base runs are
 * the baseline, the head runs the candidate's runs (regress_metric_runs:
 * run-level noise floor, Mann-Whitney U, bootstrap interval, the same rules),
 * so a try says regression, improvement, no change or inconclusive exactly
 * when `pyscope run` would for a candidate confirmed that many times. The
 * hotspot metrics and the "why" come from regress_compare() of the head run
 * whose wall time is the median of the head runs, against every base run;
 * then each metric (hotspots too) and the why again over all runs.
 */
#ifndef PYSCOPE_ABTEST_H
#define PYSCOPE_ABTEST_H

#include <jansson.h>
#include <stddef.h>

#include "regress.h"

/*
 * Compare the nh head documents with the nb base documents (borrowed,
 * pyscope.run/1 or pyscope.report/1, in the order measured). opt NULL: the
 * defaults; the baseline is always every base run (no change points, nothing
 * held out: the base runs are one revision measured now). Returns a new
 * "regression" object (docs/json-schema.md; caller owns) with "ab": {"base_runs",
 * "head_runs"}, or an object with status "no_history" when a side is empty.
 */
json_t *abtest_compare(const json_t *const *base, size_t nb, const json_t *const *head, size_t nh,
                       const struct regress_options *opt);

#endif
