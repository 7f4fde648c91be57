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
#include <stdbool.h>
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

/*
 * Which end does a commit resemble? ends_change_pct: the whole change E measured
 * between a bisection's ends (BAD against GOOD); m: one metric of the commit's A/B
 * against GOOD (borrowed, with ci_low_pct and ci_high_pct). A culprit moves the metric
 * by about E, any other commit by about 0, so the halfway mark separates them even
 * where the noise floor is too wide for a plain no-change verdict. Returns "good" when
 * the 95% interval lies wholly below E/2, "bad" when wholly above it, NULL when it
 * straddles E/2, is missing, or E is not a slowdown (> 0).
 */
const char *abtest_nearer_end(double ends_change_pct, const json_t *m);

/*
 * The try batches (of the bisection's rounds pairs each) a step may pool at most: a
 * halving step or the confirmation 1 + max_extra, the ends (BAD against GOOD) three
 * times as many. Everything after the ends depends on them, and an inconclusive ends
 * verdict is mostly a slowdown inside the run-level noise floor, which shrinks as pairs
 * are pooled (t(n-1) x sigma x sqrt(2/n) for n pairs: about half as wide at 3n pairs
 * as at n when n is 9 or more).
 */
size_t abtest_step_batches(bool ends, size_t max_extra);

/*
 * Does an open bisection step get another batch of rounds pairs? verdict: its pooled
 * verdict; batches: the batches pooled so far; runs_left: the turns (runs) its budget
 * has left (each batch takes 2 x rounds). Yes while the verdict is "inconclusive", the
 * step has pooled fewer than abtest_step_batches(), and the budget holds another batch.
 */
bool abtest_pool_more(const char *verdict, bool ends, size_t batches, size_t max_extra,
                      long long runs_left, size_t rounds);

#endif
