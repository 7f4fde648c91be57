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
 * The hotspot metrics and the "why" come from regress_compare() of the head run
 * whose wall time is the median of the head runs, against every base run;
 * then each metric (hotspots too) and the why again over all runs.
 *
 * A metric measured in at least ABTEST_MIN_PAIRS turns of each side is then
 * decided on its pairs (abtest_paired): the i-th base run with the i-th head
 * run, measured one after the other. The unpaired rule compares the head's
 * centre with the base runs' spread (the noise floor of a history, a
 * prediction interval: what one more run may do); in turns, what drifts over
 * the try (load, clock speed) moves both runs of a pair, so the change is
 * bounded by the spread of the pairs' ratios, which drift does not widen. A
 * deterministic metric (instruction counts) keeps the exact rule.
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

/* Pairs a metric needs before its pairs decide (fewer: the unpaired rule). */
#define ABTEST_MIN_PAIRS 3
/*
 * The paired interval's confidence. 99%, as the noise floor of a history
 * (REGRESS_NOISE_ALPHA in lib/regress.c): a bisection takes up to ~7 steps
 * and a try decides every metric and hotspot, so at 95% one false step or
 * metric in a few tries would be the rule, not the exception (measured:
 * tests/bench/try_quality.sh).
 */
#define ABTEST_CONF 0.99
/*
 * The share of pairs the paired mean drops at each end (stats_paired_ratio's trim:
 * a 20% trimmed mean, none below 5 pairs). Even idle, this VM ran one turn in four
 * or five 10-40% slower in CPU time (a local try of +20% f(), 12 pairs: log ratios
 * with sd 11.6% around a median of 12%); a plain mean counts each such turn in
 * full, so 27 pairs of a bisection's ends still spanned -8% ... +24%.
 */
#define ABTEST_TRIM 0.2
/* The hint of an open paired verdict. */
#define ABTEST_HINT_PAIRS "more interleaved pairs narrow the interval: run more rounds"

/*
 * Decide a change from n pairs of run statistics (base[i], head[i] > 0, the i-th
 * turn of each side) with the paired t test on their logs (stats_paired_ratio):
 * change_pct is the geometric mean ratio's change, ci_*_pct its 99% interval,
 * noise_pct the interval's half-width, p_value the test's, n_runs = n_cand_runs
 * = n. Against the threshold T (threshold_pct, on the log scale):
 *  - regression (improvement): the interval lies wholly above (below) no change
 *    and the change is beyond T; rule "significant";
 *  - no change: the change is within T and so is the half-width (the pairs could
 *    have shown a change of T); rule "within_threshold";
 *  - otherwise inconclusive: rule "ci_spans_zero" (the interval holds no change
 *    and reaches beyond T), hint ABTEST_HINT_PAIRS.
 * Fills verdict, rule, hint and the figures above in *r (the rest untouched).
 * Returns 0, or a negative code (r untouched) when n < ABTEST_MIN_PAIRS or a
 * value is not positive and finite.
 */
int abtest_paired(const double *base, const double *head, size_t n, double threshold_pct,
                  struct regress_result *r);

/* The reason of a verdict abtest_paired decided, into buf (size bytes); returns buf. */
const char *abtest_paired_reason(const struct regress_result *r, char *buf, size_t size);

/* The odds the likelihood ratio of abtest_nearer_end needs, and the pairs. */
#define ABTEST_NEARER_ODDS     99.0
#define ABTEST_NEARER_LR_PAIRS 6

/*
 * Which end does a commit resemble? ends_change_pct: the whole change E measured
 * between a bisection's ends (BAD against GOOD); m: one metric of the commit's A/B
 * against GOOD (borrowed, with ci_low_pct and ci_high_pct). A culprit moves the metric
 * by about E, any other commit by about 0, so the halfway mark separates them even
 * where the noise is too wide for a plain no-change verdict. "good" when the interval
 * (99% for a paired verdict) lies wholly below E/2, "bad" when wholly above it. A paired
 * verdict ("mode": "paired") of at least ABTEST_NEARER_LR_PAIRS pairs is also decided by
 * the bisection's own model: the commit's true change is 0 (before the culprit) or E
 * (at or after it), so the likelihood ratio of the two, from the pairs' mean log ratio d
 * and its standard error s (the interval's half-width over its t quantile),
 * exp(D (d - D/2) / s^2) with D = ln(1 + E), picks "bad" at odds of at least
 * ABTEST_NEARER_ODDS, "good" at 1 / ABTEST_NEARER_ODDS. NULL: neither (the step stays
 * open), no interval, or E is not a slowdown (> 0).
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
