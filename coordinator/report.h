/*
 * report.h - the team report and triage, answered by the coordinator.
 *
 * A report (Query KIND_REPORT) covers one batch, or every batch finished in
 * the last since_s seconds: each batch's summary, the stored regressions and
 * improvements of those batches (worst first, with their evidence, "why" and
 * triage state), a script x host matrix of median wall times, and a hardware
 * comparison (the same script on host A vs host B: ratio of median wall
 * times with a 95% bootstrap interval, stats_bootstrap_ratio), both made
 * exactly as `pyscope compare-hosts` makes them (the newest runs of each
 * series, up to the report's newest batch): a flagged cell shows the level
 * since its finding began, and a pair names the open findings in it. The JSON
 * (pyscope.team_report/1) is documented in docs/json-schema.md; the CLI
 * renders it as HTML (cli/report.c, lib/html_team).
 *
 * Triage (Query KIND_TRIAGE) sets a regression's state and note; "expected"
 * makes its candidate run the start of the series' new baseline (see
 * analysis.h).
 */
#ifndef PYSCOPE_COORD_REPORT_H
#define PYSCOPE_COORD_REPORT_H

#include <jansson.h>

#include "store.h"
#include "wire.h"

/* Regressions and improvements a report lists when the query gives no limit (worst first). */
#define REPORT_DEFAULT_LIMIT 100u

/*
 * The format of the document report_build() makes. The analyst stores each
 * batch's document (coordinator/batch_report.c, table batch_reports) with
 * built_by "VERSION format N", and a row is served only while both are this
 * coordinator's: any other is rebuilt. BUMP IT, in the same commit, whenever
 * what the document holds changes: a key added, removed, renamed or moved, a
 * value computed otherwise (here or in what report_build() calls: the
 * series, revrange, flamediff, bisection, trybatch and stats code), its
 * order, rounding or type. Without a bump, a coordinator of the same project
 * version goes on serving every stored batch's old document. The HTML is not
 * stored: the web pages (coordinator/web.c) and the CLI (cli/report.c) render
 * the document when they serve it (lib/html_team), so a change of the
 * rendering alone needs no bump. A plain decimal (no suffix): it is pasted
 * into built_by as written.
 */
#define REPORT_FORMAT 3

/*
 * Build the report that q (borrowed, kind REPORT) asks for into *out (new
 * object, caller owns). Returns 0 or a negative code with err.
 */
int report_build(struct store *store, const struct wire_query *q, json_t **out, char *err,
                 size_t errlen);

/*
 * The hardware comparison of one script (borrowed): host B vs host A, the
 * ratio of medians median(b) / median(a) of the samples under key in the
 * series rows a and b (borrowed; each has "host", "python_build" and key: an
 * array of numbers) with its 95% percentile bootstrap interval
 * (STATS_DEFAULT_RESAMPLES, STATS_DEFAULT_SEED). Returns a new object
 * {script, host_a, host_b, python_build_a, python_build_b, ratio, ci_low,
 * ci_high, samples_a, samples_b} (caller owns), or NULL when a side has no
 * usable samples.
 */
json_t *report_hardware_pair(const char *script, const json_t *a, const json_t *b, const char *key);

/*
 * Apply the triage q (borrowed, kind TRIAGE, validated). *out gets the
 * updated regression object, or json null when there is no such regression
 * (caller owns). Returns 0 or a negative code with err.
 */
int report_triage(struct store *store, const struct wire_query *q, json_t **out, char *err,
                  size_t errlen);

#endif
