/*
 * html_team.h - the farm's team report as one self-contained HTML page.
 *
 * Input is a pyscope.team_report/1 document (the coordinator's answer to a
 * report query, docs/json-schema.md). The page answers "what got slower,
 * where, since when, why" at a glance: at the top one line per regressed
 * series (script, host, Python build), worst first, with a sentence ("a.py
 * is 31% slower on farm-b since night 5 (commit c5, run 1a2b3c4d),
 * confirmed; slow explains 94%"), a sparkline of the series with the change
 * marked and the interval; every metric, p, q, noise, the functions and the
 * differential flame graph fold out below each line (<details>). The
 * improvements follow, shorter; then the batches, the script x host matrix
 * and the hardware comparison.
 *
 * The page is static (no script) inside lib/html_page's frame. Served by
 * the coordinator (site non-NULL) it links scripts to their history
 * (/series/SCRIPT?host=FP) and batches to their report (/batch/N). The
 * document is untrusted: missing or mistyped fields are left out or shown as
 * "-", every string is escaped.
 */
#ifndef PYSCOPE_HTML_TEAM_H
#define PYSCOPE_HTML_TEAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "html_page.h"

/*
 * How telling a finding row (pyscope.team_report/1 "regressions" item) is as the metric a
 * series' sentence speaks of: lower first; wall time, CPU time, instructions, memory, then
 * hotspots. The HTML and `pyscope report --text` pick a series' lead row by it.
 */
int html_team_lead_rank(const json_t *row);

/*
 * Whether a finding row (borrowed) is still open: its triage leaves it open (state new,
 * confirmed or ack, or none given) and it has not ended (no "ended_batch_id": the series
 * went back to its old level, or a new step of it began). The report's "still open".
 */
bool html_team_row_open(const json_t *row);

/*
 * How finding (borrowed, a regression row: its "metric", NULL or none: times, and
 * "reason") was confirmed, in words, from its "confirmation"
 * (borrowed, coordinator/analysis.c): "interleaved with REF, the machine's CPU drift
 * +25.2% divided out" (the reference ran between the repeats), "bracketed
 * by REF, the machine's CPU drift +25.2% divided out" (it ran before and after the re-run;
 * "bracketed by REF; instruction counts are exact, no drift to divide out"
 * for metric "instructions": the drift is of the times only; "bracketed by REF; instruction
 * counts, not exact (the script ran several Python threads), no drift to divide out" when
 * its reason starts with HISTORY_INSTRUCTIONS_THREADS_REASON), "a plain re-run: WHY" or
 * "not re-run: WHY"; NULL when it says none. A new plain string (caller frees) holding the
 * document's text as is: escape or sanitise it to show it. The HTML and `pyscope report
 * --text` say it the same way.
 */
char *html_team_confirmation_text(const json_t *confirmation, const json_t *finding);

/*
 * What the time metrics did beside a whole-script finding row (borrowed) on another metric
 * (instruction counts, memory), from its "times" (coordinator/analysis.c): "in time: wall
 * time +21.9% net of waiting for a CPU (inconclusive: within noise), CPU time +28.0%
 * (regression)"; NULL when it has none. A new plain string as html_team_confirmation_text's.
 */
char *html_team_times_text(const json_t *row);

/*
 * When a finding row (borrowed) ended: "ended with night 6 (batch 6)" (its
 * "ended_batch_label", else "ended with batch 6"); NULL while it is ongoing. A new plain
 * string as html_team_confirmation_text's.
 */
char *html_team_ended_text(const json_t *row);

/*
 * Write the page for doc (borrowed; the whole Query reply or its "report"
 * member) to out; site (borrowed, NULL for a file) when served. Returns 0,
 * -PYSCOPE_ESCHEMA (doc is no team report, err says why) or -EIO (writing
 * failed).
 */
int html_team_write(FILE *out, const json_t *doc, const struct html_site *site, char *err,
                    size_t errlen);

/*
 * The list of batches (borrowed: objects as the report's "batches", with
 * optional integer "regressions" and "improvements": series found slower or
 * faster), newest first, each linked to its report when served. Returns 0,
 * -PYSCOPE_ESCHEMA or -EIO.
 */
int html_team_write_batches(FILE *out, const json_t *batches, const struct html_site *site,
                            char *err, size_t errlen);

#endif
