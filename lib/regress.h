/*
 * regress.h - does a run regress against its baseline, and why.
 *
 * One series is (script, host, Python build, metric); lower is better for
 * every metric (wall_s, cpu_s, peak_rss_bytes from runs[], instructions from
 * instructions.counts[] when the candidate and a baseline report have them,
 * and the total and self time of the top hotspots). A candidate is compared with the
 * baseline's samples, grouped by run, and gets a verdict. Two levels of
 * noise: repeats within a run, and runs (processes launched at other times,
 * under other load) within the history; on a shared machine the second
 * dominates, so the decision compares runs with runs:
 *
 *   s(run)  = the run_quantile (default 0.5: the median) of a run's samples;
 *   centre  = median of s over the baseline runs (base_median), and over the
 *             candidate's runs (cand_median: its one run, or the median of
 *             it and its confirmation runs, see regress_metric_runs);
 *   change  = cand_median / base_median - 1, as a percentage;
 *   noise   = t(0.995, r-1) * sigma * sqrt(1/m + 1/r) / base_median: a 99%
 *             prediction interval of the centre of m new runs, from the r
 *             baseline run statistics (sigma = max(1.4826 MAD, stdev) of
 *             them), known only with r >= 3 baseline runs;
 *   p       = two-sided Mann-Whitney U (candidate vs pooled baseline samples);
 *   CI      = 95% percentile bootstrap interval of the ratio of the pooled
 *             medians (2000 resamples, seed STATS_DEFAULT_SEED); the
 *             Hodges-Lehmann shift and interval are reported beside it;
 *   T       = opt->threshold (default 5%).
 *
 * Evidence, checked in this order; the first rule that applies decides, and
 * regress_result.rule names it (JSON "rule", with a sentence in "reason"):
 *   |change| <= T, and either the samples are exact (deterministic, below) or
 *   there are at least min_baseline_runs baseline runs, their noise floor <= T
 *   and the 95% CI lies inside [-T, +T]     -> no_change      (within_threshold)
 *   |change| <= T with enough runs and a noise floor <= T, but no CI or a CI
 *   reaching beyond -T or +T                -> inconclusive   (ci_beyond_threshold)
 *   ("no change" is an equivalence test, like TOST: the interval must rule out a
 *   change of T either way, not merely fail to show one; a +20% slowdown measured
 *   +9.7%, 95% CI +9.7% ... +14.8%, under T = 10% was once called "no change".
 *   The 95% interval is two one-sided tests at 2.5% each.)
 *   (|change| <= T under a noise floor > T falls through to within_noise below, and
 *   with too few baseline runs to insufficient_history: such runs could not have
 *   shown a change of T, or cannot tell, so "no change" would be a guess)
 *   deterministic: each side has >= 2 samples and every sample of a side lies
 *   within REGRESS_DETERMINISTIC_SPREAD of the others (instruction counts,
 *   often memory), and no run is marked inexact (regress_run.inexact):
 *   the change is exact                     -> regression / improvement
 *                                                              (deterministic)
 *   fewer than opt->min_baseline_runs baseline runs (default 3, never fewer:
 *   the noise floor needs 3)                -> inconclusive   (insufficient_history)
 *   |change| <= noise                       -> inconclusive   (within_noise)
 *   no CI, or the CI not wholly on the change's side of 0 (ci_low > 0 for a
 *   slowdown, ci_high < 0 for a speed-up)   -> inconclusive   (ci_spans_zero)
 *   "statistical" mode (the U test can reach significance at all:
 *   2 / C(nb+nc, nc) < alpha) and p >= alpha -> inconclusive  (not_significant)
 *   otherwise                               -> regression / improvement:
 *                  significant (statistical mode), or beyond_noise ("threshold"
 *                  mode: too few samples for the U test, so the run-level 99%
 *                  prediction bound and the CI decide)
 * A regression and an improvement need the same evidence. There is no
 * "beyond 2T without a noise floor" rule any more: one or two earlier runs
 * say nothing about how much runs differ, whatever the change.
 *
 * The pooled U test and CI treat the repeats of one run as independent of
 * the run, which overstates confidence when runs differ by more than their
 * repeats do; the noise floor (the prediction bound of the two-level model,
 * runs within the history) is what guards against that, and a regression
 * must be beyond the threshold, the bound and significant.
 * The JSON "regression" object is documented in docs/json-schema.md.
 */
#ifndef PYSCOPE_REGRESS_H
#define PYSCOPE_REGRESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cp_memo;

struct regress_options {
    double threshold;       /* relative change that matters: 0.05 = 5% */
    double alpha;           /* significance level of the U test (0.05) */
    int max_baseline_runs;  /* newest baseline runs used (10); <= 0: all */
    double run_quantile;    /* per-run statistic: this quantile of a run's samples (0.5) */
    int min_baseline_runs;  /* fewer baseline runs: inconclusive, insufficient history (3) */
    unsigned history_flags; /* regress_check_local: HISTORY_INDEX_* for reading the folder
                               (0: read every report, write nothing) */

    /* change points already searched (cp_memo.h), NULL: none; regress_check_local opens
     * the folder's own when history_flags has HISTORY_INDEX_WRITE */
    struct cp_memo *cp_memo;
    /* choosing the baseline among the runs offered (regress_baseline_select) */
    bool change_points; /* start after the latest change point of the run statistics (true) */
    bool hold_out;      /* hold out the newest runs of a change not yet confirmed (true) */
    int new_level_runs; /* that many held-out runs on one side are the new level (3; 0: never) */
    /* The metric the caller chose to decide the run (regress_compare's "decision"), whatever
     * the load: HISTORY_METRIC_INSTRUCTIONS when the user asked for instruction counts (a
     * local or farm try with --instructions, a bisection on --metric instructions). NULL
     * (the default): chosen by the rule below (regress_contention_assess), as for a plain
     * run or the farm's nightly analysis. A chosen metric the runs lack falls back to that
     * rule. decide_by (borrowed; NULL: none) names the option that chose it, for the reason:
     * "instruction counts decide (chosen with --instructions), whatever the load". */
    const char *decide_metric;
    const char *decide_by;
    /* A wall- or CPU-time regression (improvement) that the deciding metric does not share is
     * inconclusive by rule not_deciding (regress_not_deciding()), as on the farm (true). The
     * farm's analysis sets it false: it applies the rule itself, except to a metric with an
     * open finding (coordinator/analysis.c). */
    bool not_deciding;
    /* The noise floor leaves out one isolated outlier run of the baseline (noise_outlier
     * below): the farm's analysis (analysis_options_init), whose every finding is re-run
     * before it is stored; false (the default) for the local check, which has no re-run. */
    bool noise_outlier;
};

/* Fill *opt with the defaults: 5%, 0.05, 10 runs, the median of each run, at least 3
 * baseline runs. */
void regress_options_init(struct regress_options *opt);

enum regress_verdict {
    REGRESS_NO_CHANGE,
    REGRESS_REGRESSION,
    REGRESS_IMPROVEMENT,
    REGRESS_INCONCLUSIVE,
};

/* "no_change", "regression", "improvement" or "inconclusive" (static). */
const char *regress_verdict_name(enum regress_verdict v);

/* The rule that decided a verdict (see the top of this file). */
enum regress_rule {
    REGRESS_RULE_WITHIN_THRESHOLD,     /* no_change */
    REGRESS_RULE_DETERMINISTIC,        /* regression / improvement, exact samples */
    REGRESS_RULE_INSUFFICIENT_HISTORY, /* inconclusive: too few baseline runs */
    REGRESS_RULE_WITHIN_NOISE,         /* inconclusive: within the noise floor */
    REGRESS_RULE_CI_SPANS_ZERO,        /* inconclusive: the interval contains no change */
    REGRESS_RULE_NOT_SIGNIFICANT,      /* inconclusive: p >= alpha */
    REGRESS_RULE_SIGNIFICANT,          /* regression / improvement, statistical mode */
    REGRESS_RULE_BEYOND_NOISE,         /* regression / improvement, threshold mode */
    REGRESS_RULE_CONTENDED,            /* inconclusive: wall time mostly waiting for a CPU */
    REGRESS_RULE_CI_BEYOND_THRESHOLD,  /* inconclusive: within T, but the CI reaches beyond T */
    REGRESS_RULE_NOT_DECIDING,         /* inconclusive: wall or CPU time moved, the deciding
                                          metric did not (regress_not_deciding) */
};

/* "within_threshold", "deterministic", ... (static). */
const char *regress_rule_name(enum regress_rule rule);

/* What a "why" object's basis (its "basis" member, may be NULL) measures, as the texts say
 * it: "instructions by CPU self-time share", "CPU self time", ... (static). */
const char *regress_why_basis_text(const char *basis);

/* Samples of a side that differ by at most this fraction of their median are exact. */
#define REGRESS_DETERMINISTIC_SPREAD 1e-4
/* The noise floor needs this many baseline runs; min_baseline_runs is never below it. */
#define REGRESS_MIN_BASELINE_RUNS 3

/* The baseline runs a verdict other than "insufficient history" needs, given the
 * options' min_baseline_runs (never below REGRESS_MIN_BASELINE_RUNS). */
static inline size_t regress_runs_needed(size_t min_baseline_runs)
{
    return min_baseline_runs > REGRESS_MIN_BASELINE_RUNS ? min_baseline_runs
                                                         : REGRESS_MIN_BASELINE_RUNS;
}

/* Hints (static strings) put in regress_result.hint. */
#define REGRESS_HINT_REPEAT          "run with --repeat 10"
#define REGRESS_HINT_NOISE           "within the baseline's run-to-run noise; rerun to confirm"
#define REGRESS_HINT_NOT_SIGNIFICANT "not statistically significant; rerun to confirm"
#define REGRESS_HINT_HISTORY         "too little history to tell a change from noise; keep running"
#define REGRESS_HINT_CONTENDED       "the machine was busy; rerun when it is quieter"
#define REGRESS_HINT_CI_WIDE         "more repeats narrow the interval; rerun to confirm"

/*
 * A run shorter than this (median wall seconds) is mostly interpreter start-up
 * and timer granularity: a slowdown in one of its functions is measured only
 * with many repeats or a deterministic trace; inconclusive verdicts on it say so.
 */
#define REGRESS_SHORT_RUN_S 0.25

/* One baseline run's samples (borrowed). */
struct regress_run {
    const double *x;
    size_t n;
    /* the samples may vary for the same code even when they came out equal (instruction
     * counts of a script that ran several Python threads: which thread holds the GIL when
     * depends on timing, so on the machine's load): never judged as exact */
    bool inexact;
};

struct regress_result {
    enum regress_verdict verdict;
    bool statistical;   /* mode: true statistical, false threshold */
    double base_median; /* baseline centre: median of its runs' statistics */
    double cand_median; /* candidate centre: median of its runs' statistics */
    double change_pct;  /* 100 * (cand_median / base_median - 1) */
    bool has_ci;        /* false when the bootstrap could not bound the ratio */
    double ci_low_pct;  /* 95% bootstrap CI of the ratio, as % change */
    double ci_high_pct;
    bool has_hl;          /* Hodges-Lehmann computed (at most 4M pairs) */
    double hl_shift_pct;  /* HL shift as % of base_median */
    double hl_ci_low_pct; /* its distribution-free 95% interval */
    double hl_ci_high_pct;
    double p_value;         /* two-sided Mann-Whitney U */
    bool p_exact;           /* exact null distribution used */
    bool has_noise;         /* >= 3 baseline runs */
    double noise_pct;       /* noise floor (prediction bound), see above */
    size_t noise_outliers;  /* baseline runs the floor left out (0 or 1: noise_outlier) */
    double threshold_pct;   /* 100 * threshold */
    size_t n_runs;          /* baseline runs with samples */
    size_t n_base;          /* baseline samples */
    size_t n_cand;          /* candidate samples */
    size_t n_cand_runs;     /* candidate runs with samples (1 unless confirmed) */
    double run_quantile;    /* the per-run statistic used */
    size_t min_runs;        /* baseline runs the evidence needs (min_baseline_runs) */
    bool deterministic;     /* every sample of each side equal (REGRESS_DETERMINISTIC_SPREAD) */
    enum regress_rule rule; /* the rule that decided */
    const char *hint;       /* static REGRESS_HINT_* or NULL */
};

/*
 * Which of the runs offered (runs[0..n_runs), oldest first) are a metric's
 * baseline, so that a change is found before it poisons the baseline:
 *  1. with opt->hold_out, the newest runs of a change not yet confirmed are held
 *     out: the longest tail of at most new_level_runs (10 when 0) newest runs
 *     that ALL lie beyond max(T, the noise floor) of the runs before the tail
 *     (those since their own latest change point), on one side. With fewer than
 *     3 runs before it (no noise floor) the bound is T for exact samples, and
 *     else, when new_level_runs > 0 and they have at least 3 samples, T plus the
 *     farthest of their samples from their level (a first slow run is held out
 *     while the history is still short; with new_level_runs 0 such a tail could
 *     never become the baseline, so it is not held). A tail holding
 *     a run back at the old level fails, so a fluke is dismissed (it rejoins
 *     the baseline: it is part of the noise) as soon as a normal run follows;
 *  2. once the tail has opt->new_level_runs runs it is confirmed as the new
 *     level: the baseline starts with it and nothing is held out;
 *  3. otherwise, with opt->change_points, the baseline starts at the latest
 *     change point (E-divisive, stats_changepoints, needs 6 runs) of the runs
 *     before the held-out tail;
 *  4. of the rest, the newest opt->max_baseline_runs (<= 0: all).
 * A first regression is thus not the next run's noise floor: the next run is
 * compared with the level before it until the new level is confirmed (then
 * "no change") or the regression dismissed; the same holds for every metric,
 * each on its own run statistics. Runs without samples are skipped and never
 * counted. The chosen runs are runs[first, end).
 */
struct regress_baseline {
    size_t first, end; /* the baseline: runs[first, end) */
    size_t n_runs;     /* runs with samples in it */
    bool has_change_point;
    size_t change_point; /* index of the run that starts the latest level (step 1 or 3) */
    size_t held_first;   /* held-out runs: runs[held_first, n_runs offered) */
    size_t n_held;       /* how many runs with samples are held out (0: none) */
    int held_side;       /* +1 slower, -1 faster, 0 none */
};

/* Fill *sel for runs[0..n_runs) (borrowed, samples checked as regress_metric
 * does); opt NULL means defaults. Returns 0, -PYSCOPE_ENODATA when no run has
 * samples, or -PYSCOPE_ERANGE for bad samples. */
int regress_baseline_select(const struct regress_run *runs, size_t n_runs,
                            const struct regress_options *opt, struct regress_baseline *sel);

/*
 * regress_baseline_select(), and each run's statistic (opt's run_quantile of its
 * samples, as the choice saw it) in run_st[0..n_runs) (the caller's array, NULL:
 * none; NAN for a run without samples), for regress_centres_of() on the runs
 * chosen without computing them again.
 */
int regress_baseline_select_stats(const struct regress_run *runs, size_t n_runs,
                                  const struct regress_options *opt, struct regress_baseline *sel,
                                  double *run_st);

/*
 * Decide one metric: runs[0..n_runs) are the baseline runs (borrowed), cand
 * the candidate's samples (borrowed). opt NULL means defaults. Samples must
 * be finite and >= 0 and the baseline median > 0 (-PYSCOPE_ERANGE);
 * no samples on a side gives -PYSCOPE_ENODATA. Returns 0 or a negative code.
 */
int regress_metric(const struct regress_run *runs, size_t n_runs, const double *cand, size_t n_cand,
                   const struct regress_options *opt, struct regress_result *out);

/*
 * Same, with the candidate as n_cand_runs runs (borrowed): the first run and
 * its confirmation runs. The candidate's centre is the median of their run
 * statistics and the noise floor is that of the median of that many runs.
 * regress_metric() is this with one candidate run.
 */
int regress_metric_runs(const struct regress_run *runs, size_t n_runs,
                        const struct regress_run *cand_runs, size_t n_cand_runs,
                        const struct regress_options *opt, struct regress_result *out);

/*
 * regress_baseline_select() over the runs offered, then regress_metric_runs()
 * on the runs chosen; *sel (may be NULL) gets the choice.
 */
int regress_metric_history(const struct regress_run *runs, size_t n_runs,
                           const struct regress_run *cand_runs, size_t n_cand_runs,
                           const struct regress_options *opt, struct regress_result *out,
                           struct regress_baseline *sel);

/*
 * The two centres regress_metric_runs() compares, without deciding: the median
 * of the baseline runs' statistics (*base) and of the candidate runs' (*cand),
 * each run's statistic being opt's run_quantile of its samples (all borrowed;
 * opt NULL means defaults). For a cheap "is the change within the threshold?"
 * test that agrees with the full rule; *noise_pct (unless NULL) gets the noise
 * floor those runs give (-1 when unknown: fewer than 3 baseline runs), which a
 * change within the threshold must not be below for no_change. Returns 0,
 * -PYSCOPE_ENODATA when a side has no samples, or -PYSCOPE_EINVAL for bad samples.
 */
int regress_centres(const struct regress_run *runs, size_t n_runs,
                    const struct regress_run *cand_runs, size_t n_cand_runs,
                    const struct regress_options *opt, double *base, double *cand,
                    double *noise_pct);

/*
 * regress_centres() with the baseline runs given by their statistics
 * run_st[0..n_runs) (borrowed; NAN: a run without samples), as
 * regress_baseline_select_stats() gave them (run_st + sel.first, sel.end -
 * sel.first for the runs it chose, whose samples it checked): the same
 * *base, *cand and *noise_pct, bit for bit, without sorting each run's
 * samples again. Returns as regress_centres() does.
 */
int regress_centres_of(const double *run_st, size_t n_runs, const struct regress_run *cand_runs,
                       size_t n_cand_runs, const struct regress_options *opt, double *base,
                       double *cand, double *noise_pct);

/*
 * Apply the verdict rules above to the statistics already in r (change_pct,
 * deterministic, n_runs, min_runs, statistical, p_value, has_ci/ci_*_pct,
 * has_noise/noise_pct, threshold_pct, n_cand); sets r->verdict, r->rule and
 * r->hint. alpha: significance level.
 */
void regress_decide(struct regress_result *r, double alpha);

/*
 * One sentence saying why r got its verdict (which rule, with its figures) into
 * buf (always terminated); e.g. "only 1 baseline run: the check needs 3 to know
 * how much runs differ". Returns buf.
 */
const char *regress_reason(const struct regress_result *r, char *buf, size_t size);

/*
 * The sentence of rule ci_beyond_threshold for r (its change_pct, threshold_pct, has_ci and
 * ci_*_pct) into buf (always terminated): "+9.70% is within the 10% threshold, but the 95% CI
 * +9.7% … +14.8% reaches beyond it: a change of more than 10% is not ruled out", ci naming
 * the interval ("95% CI"; lib/abtest's paired verdict names its own). Returns buf.
 */
const char *regress_ci_beyond_reason(const struct regress_result *r, const char *ci, char *buf,
                                     size_t size);

/*
 * Contention (lib/contended.h): was the wall time spent waiting for a CPU?
 * Each run contributes the median queued share and CPU-bound share of its
 * repeats; each side is the median over its runs.
 *   contaminated: either side's queued share >= CONTENDED_WALL_PCT;
 *   cpu_bound:    the candidate's CPU-bound share >= CONTENDED_CPU_BOUND_PCT,
 *                 and the baseline's too when known.
 * A contaminated wall time is judged net of queueing: the same rules on
 * wall_s - run_delay_s of each repeat (what the run would have taken had a
 * CPU always been free, as near as the counters tell; the delays are summed
 * over the script's threads, so the delay taken off is at most the time no
 * thread ran, wall_s - cpu_s: contended_own_wait(), lib/contended.h). For a CPU-bound script, or
 * without net times on both sides, it is inconclusive by rule "contended" (the net figures shown
 * when there are some): its CPU time decides. Hotspot times (sampled wall-clock times, no net form)
 * are inconclusive by rule "contended" whenever the wall time is contaminated. The run's decision
 * (regress_compare's "decision") rests on CPU time (or instructions when counted) for a CPU-bound
 * script, on the net wall time otherwise; a metric the caller chose (regress_options.decide_metric)
 * decides whatever the load.
 */
struct regress_run_contention {
    bool known;           /* the run had run delays */
    double queued_pct;    /* median over its repeats */
    double cpu_bound_pct; /* median over its repeats; < 0 unknown */
};

struct regress_contention {
    bool known; /* the candidate and at least one baseline run had run delays */
    double cand_queued_pct, base_queued_pct;
    double cand_cpu_bound_pct, base_cpu_bound_pct; /* < 0 unknown */
    bool contaminated;
    bool cpu_bound;
};

/* Judge base[0..nb) and cand[0..nc) (borrowed) into *out. */
void regress_contention_assess(const struct regress_run_contention *base, size_t nb,
                               const struct regress_run_contention *cand, size_t nc,
                               struct regress_contention *out);

/* Wall time's result under c, given net: the same comparison on the net wall
 * times (NULL: they could not be compared). When c is contaminated, *wall
 * becomes *net; for a CPU-bound script, or without net, its verdict is then
 * inconclusive by rule REGRESS_RULE_CONTENDED (hint REGRESS_HINT_CONTENDED).
 * Returns whether it changed wall. */
bool regress_contention_apply(struct regress_result *wall, const struct regress_result *net,
                              const struct regress_contention *c);

/*
 * The machine's speed ("machine_speed" in the check's JSON). On a VM the host
 * can give the guest's CPUs less time without the guest seeing it (no steal, no run-queue
 * wait): CPU time and wall time of unchanged code both grow. pyscope-run times
 * a fixed reference workload right before and after each repeat
 * (agent/runner/refloop.h: runs[].ref_cpu_ns, the median of its chunks' CPU
 * times); each run's figure is the median over its repeats
 * (lib/contended.h), each side's the median over its runs.
 *   change  = 100 * (cand_ref / base_ref - 1): > 0, the machine ran slower;
 *   noise   = the reference's own run-to-run spread in the baseline,
 *             REGRESS_SPEED_NOISE_K * 1.4826 * MAD / median of the baseline
 *             runs' figures (known with >= 3 runs; -1 otherwise);
 *   limit   = max(threshold / 2, noise, REGRESS_SPEED_MIN_PCT): the machine's
 *             speed "moved" when the noise is known and |change| > limit.
 *             Half the threshold: a drift that size plus the run's own noise
 *             is a threshold's worth.
 * When it moved, the reason of a time metric's (wall, CPU, function times)
 * regression or improvement gives the machine's change and the metric's
 * change net of it, (1 + change) / (1 + speed change) - 1. The verdict
 * stands: the reference is SHOWN, NOT USED TO DECIDE. A first version made
 * such verdicts inconclusive when the net change was within max(threshold,
 * noise floor); tried on a busy machine it hid a real +35% (the reference
 * moved +60% with its own repeats 66/87/105 us apart) and "moved" on every
 * farm try with fewer than 3 baseline runs: a reference that noisy cannot
 * overrule a verdict. regress_speed_explains() is the rule it would apply
 * once the reference is calibrated (its net figure is what the reasons show).
 * Runs without the figure (older agents): unknown, nothing shown.
 */
#define REGRESS_SPEED_NOISE_K 3.0
#define REGRESS_SPEED_MIN_PCT 5.0

struct regress_speed {
    bool known;         /* the candidate and >= 1 baseline run had the reference figure */
    size_t n_base;      /* baseline runs with it */
    double base_ref_ns; /* median over those runs */
    double cand_ref_ns; /* median over the candidate's runs */
    double change_pct;  /* 100 * (cand / base - 1): > 0, the machine ran slower */
    double noise_pct;   /* the reference's run-to-run noise in the baseline; < 0 unknown */
    double limit_pct;   /* max(threshold / 2, noise, REGRESS_SPEED_MIN_PCT) */
    bool moved;         /* noise known and |change_pct| > limit_pct */
};

/* Judge the runs' figures base[0..nb), cand[0..nc) (<= 0 or NaN: unknown) under
 * threshold_pct into *out. */
void regress_speed_assess(const double *base, size_t nb, const double *cand, size_t nc,
                          double threshold_pct, struct regress_speed *out);

/* Whether s explains a time metric's verdict (REGRESS_REGRESSION or
 * REGRESS_IMPROVEMENT) of change_pct under threshold_pct and noise_pct (< 0:
 * unknown); *net_pct (may be NULL) gets the change net of the machine's. */
bool regress_speed_explains(const struct regress_speed *s, enum regress_verdict verdict,
                            double change_pct, double threshold_pct, double noise_pct,
                            double *net_pct);

/*
 * The samples the levels of a history docs[0..n) (borrowed, oldest first) are
 * compared on when its change points are sought: metric itself, except for
 * wall_s when the newest run or the runs before it are contaminated (as
 * regress_compare judges them): then what its decision rests on, "cpu_s"
 * for a CPU-bound script, else "wall_net_s" (wall time net of queueing, when
 * every run measured it). Static string (metric itself when unchanged).
 */
const char *regress_level_basis(const json_t *const *docs, size_t n, const char *metric);

/* The median of doc's (borrowed) samples of basis (a metric, or "wall_net_s")
 * into *level; false when it has none. */
bool regress_level(const json_t *doc, const char *basis, double *level);

/*
 * Compare candidate (a pyscope.report/1 or pyscope.run/1 document, borrowed)
 * with baseline documents (borrowed, oldest first; the newest
 * max_baseline_runs are used). Returns a new "regression" JSON object
 * (caller owns; json_decref). With no baseline, an object with status
 * "no_history".
 */
json_t *regress_compare(const json_t *candidate, const json_t *const *baseline, size_t n_baseline,
                        const struct regress_options *opt);

/*
 * The "why" object of regress_compare for a candidate measured several times
 * (an A/B try, lib/abtest.c): metric (borrowed, one of its "metrics" objects,
 * decided over all runs) explained by the functions whose value (on metric's
 * basis) moved from the median over baseline[0..n_baseline) to the median over
 * cands[0..nc); appeared/vanished and identity changes are cand's (one of
 * cands). Returns a new object (caller owns).
 */
json_t *regress_why_runs(const json_t *cand, const json_t *const *cands, size_t nc,
                         const json_t *const *baseline, size_t n_baseline, const json_t *metric);

/*
 * The functions whose self time (the wall-time "why" basis: the median of a
 * run's self_s_runs) moved most, either way, from the median over
 * base[0..nb) to the median over cands[0..nc) (pyscope.report/1 or
 * pyscope.run/1 documents, borrowed), whatever a verdict says: two builds of
 * Python compared (compare-pythons). A function a side's profile lacks counts
 * 0 there. Moves smaller than 1% of the baseline's median wall time are left
 * out. At most top of them, the largest move first (ties by key), as a new
 * array of {"key", "base_s", "self_s", "delta_s"} (seconds per run).
 */
json_t *regress_moved_functions(const json_t *const *cands, size_t nc, const json_t *const *base,
                                size_t nb, size_t top);

/*
 * Same, with the baseline found in a reports/json folder: earlier reports of
 * the same script.key, host.fingerprint and python.build (status ok, not the
 * candidate itself, not created after it); corrupt or foreign files are
 * skipped with a log_warn. Uses the runs since the latest change point of
 * the wall-time run medians (E-divisive over the newest 200 reports), at
 * most max_baseline_runs; the instructions metric has its own baseline: the
 * reports with counts since the latest change point of their count medians.
 * Returns a new object (caller owns); with no
 * history, status "no_history" and message "first run of this script on
 * this host".
 */
json_t *regress_check_local(const json_t *candidate, const char *reports_json_dir,
                            const struct regress_options *opt);

/*
 * Print the "Performance Regression Check" section of regression (borrowed)
 * to out: a title, a dashed line, one line per metric (function metrics
 * only when they regress or improve), then the "why" lines. color=false
 * prints no escape codes.
 */
void regress_print(FILE *out, const json_t *regression, bool color);

/*
 * The hotspot (function-level) verdicts of one comparison are one family of tests: a run
 * decides the total and self time of up to REGRESS_TOP_FUNCTIONS functions each (a try adds
 * their CPU self times), every one at its own level, so with tens of them one is
 * "significant" by chance in many comparisons of a revision with itself (issue 11: a try of
 * the same revision called a hotspot's total time +6.9% a regression, paired 99% interval
 * +3.1 ... +10.9). So their p-values are adjusted together with Benjamini-Hochberg
 * (stats_bh_adjust, as the farm's nightly batch adjusts its metrics): each function metric
 * of metrics (borrowed, a "regression" object's "metrics") whose mode is "statistical"
 * (its level alpha) or "paired" (paired_alpha) and that has a p_value is a member; it gets
 * "q_value" (its adjusted p), "family_size" (the members) and "p_adjust":
 * "benjamini_hochberg", and a regression or improvement whose q_value is not below its
 * level becomes "inconclusive" (rule "not_significant"), its reason saying so. Other
 * function metrics lose those three fields. Whole-script metrics (wall, CPU, memory,
 * instructions) are no member and untouched, and so is an exact (deterministic) verdict.
 */
void regress_adjust_functions(json_t *metrics, double alpha, double paired_alpha);

/*
 * True when a whole-script metric's verdict in regression (borrowed) is a regression:
 * what --fail-on-regression fails on. A hotspot's verdict explains where the time went; it
 * does not fail a run by itself (as pyperf and asv gate CI on the benchmark's own result):
 * a function slower by less than the threshold's share of the script is no regression of
 * the script.
 */
bool regress_has_regression(const json_t *regression);

/*
 * Whether metric m (borrowed: a metric object of a regress_compare() answer, or the farm's
 * quick path's) is a whole-run time metric (wall or CPU time) whose verdict the run's
 * deciding metric d (borrowed, its "decision"; NULL: none) does not share: the wall time
 * decides a script that sleeps or waits and found no change while its CPU time
 * "regressed", or the other way round. Such a verdict is no finding of its own: CPU time
 * that moves without the deciding metric is what a busy machine does to unchanged code (a
 * shared core, cold caches, a lower clock; test_team_farm once confirmed +19% CPU time of
 * an unchanged script under load while its wall time, which decided, moved +7%, and the
 * local check once failed CI on +32% CPU time, 16 -> 21 ms, of a script sleeping 0.2 s),
 * and a re-run minutes later on the same busy machine does not tell the two apart.
 * Instruction counts, memory and function metrics are not affected.
 */
bool regress_not_deciding(const json_t *m, const json_t *d);

/* Metric object m's (borrowed) change in %: its change_pct, else from its baseline and
 * candidate medians (NaN: unknown). */
double regress_metric_change_pct(const json_t *m);

/*
 * Why m, a regress_not_deciding() metric against d (both borrowed), is no finding, into
 * buf: both figures, and decision_reason (may be NULL: the run's "decision" reason).
 */
void regress_not_deciding_reason(const json_t *m, const json_t *d, const char *decision_reason,
                                 char *buf, size_t size);

#endif
