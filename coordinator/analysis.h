/*
 * analysis.h - the coordinator's batch analysis (docs/DESIGN.md §7).
 *
 * When a batch is done (every job done or failed), each series in it
 * (script x host x Python build) is compared with its history in the store
 * by lib/regress (regress_compare: wall_s, cpu_s, peak_rss_bytes and the top
 * hotspots, with the "why"). The candidate is the series' newest ok run of
 * the batch; the baseline is the series' ok runs of earlier batches since
 * the newest run triaged 'expected' (that run included), at most the newest
 * max_baseline_runs. The p-values of every statistical metric of the batch
 * are adjusted together (Benjamini-Hochberg); a statistical regression or
 * improvement stands only when its q-value is below alpha. What stands is
 * stored in the regressions table (schema/002_regressions.sql; a finding
 * still open from an earlier batch is attached to that row instead,
 * schema/004_ongoing_regressions.sql), in the same
 * transaction that marks the batch analysed, so a crash or a second
 * coordinator never analyses a batch twice or half.
 */
#ifndef PYSCOPE_COORD_ANALYSIS_H
#define PYSCOPE_COORD_ANALYSIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "regress.h"
#include "store.h"

/*
 * The farm's minimum baseline: a series is decided only from this many
 * baseline runs (fewer: "insufficient history", nothing stored, nothing
 * re-queued). Chosen with tests/bench/regress_quality.sh (README, "How good
 * is the verdict?").
 */
#define ANALYSIS_MIN_BASELINE_RUNS 3

/*
 * The batch analysis' regression options: lib/regress's defaults, the farm's
 * minimum baseline, and no automatic new level: the runs of an open
 * regression stay held out of its series' baseline (regress_baseline_select,
 * up to 10 newest runs) until someone triages it — 'expected' starts the new
 * baseline — so an ongoing regression is seen again every night instead of
 * becoming "no change" after three, as a change point would make it.
 */
void analysis_options_init(struct regress_options *opt);

/* What one batch analysis found. */
struct analysis_summary {
    uint64_t batch_id;
    unsigned series;       /* series compared (with or without history) */
    unsigned tests;        /* statistical metrics in the BH family */
    unsigned regressions;  /* rows stored with kind 'regression' */
    unsigned improvements; /* rows stored with kind 'improvement' */
    unsigned confirming;   /* series re-queued to confirm (nothing stored for them yet) */
    unsigned rows_read;    /* runs read from the store (samples, and documents) */
    /* seconds spent: reading every series' samples, deciding them (the cheap
     * way, and in full with hotspots for flagged series, their documents'
     * query included), storing the rows and committing */
    double secs_samples, secs_decide, secs_docs, secs_store;
};

/*
 * Decide the series of one batch: series is an array of objects (borrowed)
 * {"script_id", "host_id", "python_build", "job_id", "batch_runs" (ok runs
 * of the series in the batch), "open_before" (an open regression of the
 * series from an earlier batch), "candidate": run document, "baseline": [run
 * documents, oldest first], "threshold": fraction|null}. Returns a new array
 * (caller owns) of regression-row objects (the keys of
 * schema/002_regressions.sql's columns plus "detail"), worst first, and fills
 * *sum (batch_id untouched); opt NULL: analysis_options_init(). When confirm (borrowed) is not
 * NULL, a series with one run in the batch that is inconclusive (wall or CPU) or regresses for the
 * first time gets its job id appended to confirm and no rows; a regression seen with 2 or more runs
 * in the batch is stored "confirmed" with confirm_runs = those runs. Pure: no database.
 */
json_t *analysis_decide(const json_t *series, const struct regress_options *opt, json_t *confirm,
                        struct analysis_summary *sum);

/*
 * Analyse at most one finished, not yet analysed batch (store borrowed; opt
 * NULL: analysis_options_init());
 * with_confirm: re-queue series to confirm (see analysis_decide) as jobs of
 * the same batch and host with more repeats (2x, at least 5), and set the
 * batch running again instead of marking it analysed.
 * Returns 1 when a batch was analysed (*sum filled), 0 when none is waiting,
 * or a negative code with err (the transaction rolled back).
 */
int analysis_run_one(struct store *store, const struct regress_options *opt, bool with_confirm,
                     struct analysis_summary *sum, char *err, size_t errlen);

#endif
