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
 * stored in the regressions table (schema/002_regressions.sql). A finding
 * that continues one still open from an earlier batch is attached to that
 * row instead (schema/004_ongoing_regressions.sql); an open finding ends when
 * its series is back near its level before it, or when a new step of it
 * begins (coordinator/findings.h, schema/014_truthful_findings.sql). All of it in the
 * same transaction that marks the batch analysed (or re-queues its
 * confirmations), so a crash or a second coordinator never analyses a batch
 * twice or half; analysing it again (the second pass after its confirmation
 * runs) decides only the confirmed series, and the unique index on open
 * findings would refuse a second row anyway.
 */
#ifndef PYSCOPE_COORD_ANALYSIS_H
#define PYSCOPE_COORD_ANALYSIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "regress.h"
#include "store.h"
#include "trybatch.h"

/*
 * The farm's minimum baseline: a series is decided only from this many
 * baseline runs (fewer: "insufficient history", nothing stored, nothing
 * re-queued). Chosen with tests/bench/regress_quality.sh (README, "How good
 * is the verdict?").
 */
#define ANALYSIS_MIN_BASELINE_RUNS 3

/*
 * A night held out of a series' baseline (table held_out, schema/014: its
 * confirmation run did not confirm it) stays out of the baselines of the
 * series' next ANALYSIS_HOLD_NIGHTS nights, then rejoins: by then a real
 * change has been confirmed (a finding, which holds the baseline at the
 * night before it began) or it has been measured that many more nights
 * without being confirmed, and is part of how the series behaves on that
 * host (lib/regress.h's new_level_runs, 3, for a local history). Held out for
 * good, a noisy series' baseline never grew past its first nights: a
 * stranger's farm demo kept a three-night baseline with a +-187% noise floor
 * and re-ran the series every night (test_team_stuck_series).
 */
#define ANALYSIS_HOLD_NIGHTS 3

/*
 * The farm's baseline rule as SQL: one text for the nightly analysis (BATCH_RUNS_SQL in
 * coordinator/analysis.c) and for what `pyscope history --host` says of a series' next night
 * (coordinator/query_series.c, farm_baseline()), so that the two cannot drift apart.
 *
 * ANALYSIS_BASELINE_JOINS(night, nights) joins, to each row of alias c (a series: script_id,
 * host_id, python_build), its state as of batch night (an SQL expression: the night whose
 * baseline it is), given by ANALYSIS_BASELINE_COLS: reset, the stored_at of the newest run
 * triaged 'expected'; hold, the first night of an open finding begun before night (new,
 * confirmed or ack, not ended: a change does not become its own baseline); held and rejoin,
 * the nights held out (schema/014) and their re-runs that came back to the baseline; held_since,
 * the oldest of the series' newest nights (SQL expression: ANALYSIS_HOLD_NIGHTS) before
 * night, NULL with fewer: a held night older rejoins. Grouped reads joined by hash, not
 * three index probes per series (docs/benchmarks.md).
 *
 * A run b (alias b: stored_at, batch_id, run_id) of the series m (alias m: ANALYSIS_BASELINE_COLS
 * and batch_id, the night) is in the baseline when it is an earlier ok run of another
 * batch, no A/B try's, and all three hold: ANALYSIS_AFTER_RESET, ANALYSIS_BEFORE_HOLD and
 * ANALYSIS_NOT_HELD_NIGHT (NULL, with no held_since: false).
 */
// clang-format off
#define ANALYSIS_BASELINE_COLS                                                                     \
    "  e.reset, o.hold, coalesce(h.held, '{}') AS held, coalesce(h.rejoin, '{}') AS rejoin,"      \
    "  w.since AS held_since"
#define ANALYSIS_BASELINE_JOINS(night, nights)                                                     \
    "  LEFT JOIN (SELECT g.script_id, g.host_id, g.python_build, max(y.stored_at) AS reset"        \
    "   FROM regressions g JOIN runs y ON y.run_id = g.candidate_run WHERE g.state = 'expected'"   \
    "   GROUP BY g.script_id, g.host_id, g.python_build) e ON e.script_id = c.script_id"           \
    "   AND e.host_id = c.host_id AND e.python_build = c.python_build"                             \
    "  LEFT JOIN (SELECT g.script_id, g.host_id, g.python_build, min(g.batch_id) AS hold"          \
    "   FROM regressions g WHERE " ANALYSIS_FINDING_OPEN("g") " AND g.batch_id < " night           \
    "   GROUP BY g.script_id, g.host_id, g.python_build) o ON o.script_id = c.script_id"           \
    "   AND o.host_id = c.host_id AND o.python_build = c.python_build"                             \
    "  LEFT JOIN (SELECT x.script_id, x.host_id, x.python_build, array_agg(x.batch_id) AS held,"   \
    "   array_agg((x.detail->>'rejoin_run')::uuid) FILTER (WHERE x.detail ? 'rejoin_run')"         \
    "   AS rejoin FROM held_out x GROUP BY x.script_id, x.host_id, x.python_build) h"              \
    "   ON h.script_id = c.script_id AND h.host_id = c.host_id"                                    \
    "   AND h.python_build = c.python_build"                                                       \
    /* the oldest of the series' newest nights before this one, among its newest 32 runs (an    \
     * index range scan, not its whole history): a held-out night older rejoins */                \
    "  LEFT JOIN LATERAL (SELECT min(z.batch_id) AS since FROM (SELECT DISTINCT d.batch_id"        \
    "   FROM (SELECT y.batch_id FROM runs y WHERE y.script_id = c.script_id"                       \
    "   AND y.host_id = c.host_id AND y.python_build = c.python_build AND y.outcome = 'ok'"        \
    "   AND y.batch_id < " night " AND " TRYBATCH_NOT_TRY_Y " ORDER BY y.stored_at DESC"           \
    "   LIMIT 32) d ORDER BY d.batch_id DESC LIMIT " nights ") z"                                  \
    "   HAVING count(*) = " nights ") w ON true"
/* Finding alias g is open: triaged new, confirmed or ack, and not ended. */
#define ANALYSIS_FINDING_OPEN(g)                                                                   \
    g ".state IN ('new', 'confirmed', 'ack') AND " g ".ended_batch_id IS NULL"
/* Run b is in the baseline of series m (the whole rule: the comment above). */
#define ANALYSIS_BASELINE_RUN                                                                      \
    "b.script_id = m.script_id AND b.host_id = m.host_id"                                          \
    "   AND b.stored_at < m.stored_at AND " ANALYSIS_AFTER_RESET                                   \
    "   AND b.python_build = m.python_build AND b.outcome = 'ok' AND b.batch_id <> m.batch_id"     \
    "   AND " ANALYSIS_BEFORE_HOLD " AND " ANALYSIS_NOT_HELD_NIGHT " AND " TRYBATCH_NOT_TRY_B
/* Run b is not before the series m's newest run triaged 'expected' (that run included). */
#define ANALYSIS_AFTER_RESET "b.stored_at >= coalesce(m.reset, '-infinity')"
/* Run b is from a night before the one an open finding of series m began on. */
#define ANALYSIS_BEFORE_HOLD "b.batch_id < coalesce(m.hold, m.batch_id + 1)"
/* Run b's night is not held out of series m's baseline: none held, one older than the newest
 * ANALYSIS_HOLD_NIGHTS (rejoined), or b is its re-run that came back to the baseline. */
#define ANALYSIS_NOT_HELD_NIGHT                                                                    \
    "(b.batch_id <> ALL (m.held) OR b.batch_id < m.held_since OR b.run_id = ANY (m.rejoin))"
// clang-format on

/*
 * A held-out night whose confirmation run came back to the baseline -- on the
 * deciding metric, within this share of the threshold of the baseline's
 * centre and nearer to it than the nightly run (coordinator/findings.h,
 * findings_back_to_before()) -- keeps its confirmation run in the baselines
 * at once (held_out.detail.rejoin_run); its nightly run stays out. The night
 * was noise, and its re-run is a measurement of the same code: dropped with
 * the nightly run, every such night left the baseline a night shorter and the
 * noise floor (Student's t) wider -- test_team_farm, at load about the cores:
 * a noisy early night re-run at -0.2%, held out, and the +30% of the last
 * night inside a +-27-40% floor. A re-run nearer the change (a real +12%
 * re-run at +9%, threshold 10%) stays out: a first regression does not
 * become the baseline (test_team_rerun_rejoins).
 */
#define ANALYSIS_REJOIN_SHARE 0.5

/*
 * The rule of an unsettled or held-out series whose wall or CPU time
 * regressed (improved) while the metric deciding the run (regress_compare's
 * "decision": wall time, or CPU time for a CPU-bound script on a busy
 * machine) found no such change: no finding, listed with both figures
 * (coordinator/analysis.c, not_deciding()).
 */
#define ANALYSIS_RULE_NOT_DECIDING "not_deciding"

/*
 * The rule of a held-out series whose confirmation run found a regression
 * (improvement) that the nightly run it was to confirm did not (it found
 * none, the other way, or an inconclusive change within the threshold): two
 * runs that disagree are no evidence (coordinator/analysis.c, nightly_agrees()).
 */
#define ANALYSIS_RULE_UNCONFIRMED "unconfirmed"

/*
 * The rule of an unsettled or held-out series whose deciding metric (wall or CPU
 * time) is significant by itself but not once the batch's tests are counted
 * (its Benjamini-Hochberg q-value is not below alpha): too few repeats to tell it
 * from chance among them, so no finding and no "no change" either; the first
 * pass re-runs it (more repeats, a smaller family), and the report lists it as
 * inconclusive when that does not settle it.
 */
#define ANALYSIS_RULE_UNPROVEN "not_significant_in_batch"

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
    unsigned pass;         /* 1: the batch's first analysis, 2: after its confirmations */
    unsigned regressions;  /* findings of kind 'regression' (new rows and attached) */
    unsigned improvements; /* findings of kind 'improvement' (new rows and attached) */
    unsigned attached;     /* of those, continuing an open finding */
    unsigned ended;        /* open findings that ended with this batch */
    unsigned held;         /* second pass: series whose night stays out of later baselines */
    unsigned confirming;   /* series re-queued to confirm (nothing stored for them yet) */
    unsigned unsettled;    /* first pass: inconclusive series no confirmation can settle */
    unsigned rows_read;    /* runs read from the store (samples, and documents) */
    unsigned early;        /* series decided the cheap way while their samples still came */
    unsigned redecided;    /* of those, decided again: a row of theirs came later */
    /* seconds spent: reading every series' samples (and deciding the cheap way
     * the series whose rows were in, meanwhile: the early ones), deciding the
     * rest (the cheap way, and in full with hotspots for flagged series, their
     * documents' query included), storing the rows and committing */
    double secs_samples, secs_decide, secs_docs, secs_store;
};

/*
 * Decide the series of one batch: series is an array of objects (borrowed)
 * {"script_id", "host_id", "python_build", "job_id", "batch_runs" (ok runs
 * of the series in the batch), "run_id" (the candidate's), "open_rows" (the
 * series' open findings from earlier batches: {"id", "metric",
 * "function_key", "kind", "baseline_median", "candidate_median"}),
 * "candidate": run document, "baseline": [run documents, oldest first],
 * "threshold": fraction|null, "second_pass": true on the analysis after
 * the batch's confirmation runs (the candidate is then the confirmation
 * run), "first": the nightly run's document on a second pass}. On a second
 * pass with "first", a regression or improvement of the confirmation run is
 * a finding only when the nightly run backs it (found the same, or was
 * inconclusive with a change the same way beyond the threshold): else the
 * series is held out by rule ANALYSIS_RULE_UNCONFIRMED. Returns a new object (caller owns):
 * {"insert": [regression-row objects (the keys of schema/002_regressions.sql's
 * columns plus "detail"), worst first], "attach": [{"id": open row, "run":
 * candidate run}], "end": [open row ids], "hold": [held_out entries: a
 * series with "second_pass" true whose confirmation found no regression
 * and no improvement,
 * "dismissed" or "inconclusive"], "unsettled": [a series of the first pass,
 * with no finding and no confirmation queued, whose deciding metric (wall
 * time, or CPU time when contended) is inconclusive: {"script_id",
 * "host_id", "python_build", "metric", "rule", "detail": {"reason", ...}}]},
 * and fills *sum (batch_id and pass
 * untouched); opt NULL: analysis_options_init(). When confirm (borrowed)
 * is not NULL, a series with one run in the batch that is inconclusive (wall
 * or CPU) or has a regression or an improvement that continues no open
 * finding gets its job id appended to confirm and nothing else; a regression
 * or improvement seen with 2 or more runs in the batch is stored "confirmed"
 * with confirm_runs = those runs.
 * Pure: no database.
 */
json_t *analysis_decide(const json_t *series, const struct regress_options *opt, json_t *confirm,
                        struct analysis_summary *sum);

/*
 * Analyse at most one finished, not yet analysed batch (store borrowed; opt
 * NULL: analysis_options_init());
 * with_confirm: in the batch's first analysis, re-queue series to confirm
 * (see analysis_decide) as jobs of the same batch and host with more repeats
 * (2x, at least 5), and set the batch running again instead of marking it
 * analysed; its second analysis decides only those series.
 * Returns 1 when a batch was analysed (*sum filled), 0 when none is waiting,
 * or a negative code with err (the transaction rolled back).
 */
int analysis_run_one(struct store *store, const struct regress_options *opt, bool with_confirm,
                     struct analysis_summary *sum, char *err, size_t errlen);

#endif
