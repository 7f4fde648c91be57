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
 * deterministic metric (instruction counts) keeps the exact rule. The hotspot
 * verdicts, each at ABTEST_CONF alone, are then adjusted together as one family
 * (regress_adjust_functions: Benjamini-Hochberg, a paired one's level 1 - ABTEST_CONF).
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
 * turn of each side) with the trimmed-mean t test on their logs
 * (stats_paired_ratio, ABTEST_TRIM): change_pct is the trimmed mean ratio's
 * change, ci_*_pct its ABTEST_CONF interval,
 * noise_pct the interval's half-width, p_value the test's, n_runs = n_cand_runs
 * = n. Against the threshold T (threshold_pct, on the log scale: ln(1 + T) either
 * way, so -4.76% ... +5% for 5%):
 *  - regression (improvement): the interval lies wholly above (below) no change
 *    and the change is beyond T; rule "significant";
 *  - no change: the interval lies inside -T ... +T (ends included), an equivalence
 *    test as regress_decide's (lib/regress.h): it rules out a change of T either way,
 *    not merely fails to show one; rule "within_threshold";
 *  - otherwise inconclusive, hint ABTEST_HINT_PAIRS: rule "ci_beyond_threshold" when
 *    the change is within T but the interval reaches beyond it (a change of more than
 *    T not ruled out; once "no change" whenever the half-width was within T too, which
 *    let the interval reach 2T), else "ci_spans_zero" (the change beyond T, the
 *    interval holding no change).
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
#define ABTEST_NEARER_LR_PAIRS ABTEST_MIN_PAIRS

/*
 * Which end does a commit resemble? ends: the ends' verdict (BAD against GOOD) of the
 * deciding metric (borrowed: change_pct E and its interval ci_low_pct .. ci_high_pct,
 * E_lo .. E_hi; a missing bound counts as E); m: that metric of the commit's A/B against
 * GOOD (borrowed, with ci_low_pct and ci_high_pct). A culprit moves the metric by about
 * E, any other commit by about 0, so the halfway mark separates them even where the
 * noise is too wide for a plain no-change verdict. The ends' own interval counts: a
 * bisection whose ends measured twice the true change must not call a bad commit good
 * for lying below half of it. So "good" when m's interval (99% for a paired verdict)
 * lies wholly below E_lo/2, "bad" when wholly above E_hi/2. A paired verdict ("mode":
 * "paired") of at least ABTEST_NEARER_LR_PAIRS pairs is also decided by the
 * bisection's own model: the commit's true change is 0 (before the culprit) or the
 * ends' (at or after it), so the likelihood ratio of the two, from the pairs' mean log
 * ratio d, its standard error s (the interval's half-width over its t quantile) and
 * the test's df: the ratio of Student t densities at (d - D) / s and d / s, with
 * D = ln(1 + E') (a spread estimated from few pairs counts as uncertain), picks "bad"
 * when it is at least
 * ABTEST_NEARER_ODDS for both E' = E_lo and E' = E_hi (the least favourable change in
 * the ends' interval), "good" when its inverse is. NULL: neither (the step stays open),
 * no interval, or E_lo is not a slowdown (> 0). why (whylen bytes; NULL: none) gets the
 * words of the rule that decided ("its interval ... lies wholly above half the ends'
 * change (...)", "its ... over N pairs is ... times likelier ..."), for a message that
 * goes on ": nearer the bad end".
 */
const char *abtest_nearer_end(const json_t *ends, const json_t *m, char *why, size_t whylen);

/*
 * The try batches (of the bisection's rounds pairs each) a step may pool at most: a
 * halving step or the confirmation 1 + 2 x max_extra (max_extra 0: no pooling), the
 * ends (BAD against GOOD) 3 x (1 + max_extra). Everything after the ends depends
 * on them, and an open verdict is mostly a change whose paired interval still holds
 * no change (or both ends), which narrows as pairs are pooled (t(n-1) x sd / sqrt(n)
 * for n pairs: about half as wide at 3n pairs as at n when n is 9 or more). A
 * halving step of a 10% slowdown on a VM whose turns spread by 20-50% was open at 9
 * pairs in most idle trials (docs/benchmarks.md): 15 pairs narrow it by ~0.7.
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
