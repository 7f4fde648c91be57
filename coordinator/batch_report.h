/*
 * batch_report.h - each analysed batch's team report, built once and stored.
 *
 * The team report of a batch (report_build()) reads the history of every
 * series the batch ran: seconds on a farm of thousands of series. The analyst
 * builds it right after the batch's analysis commits and stores it in
 * batch_reports (schema/024_batch_reports.sql) with the batch's fingerprint
 * (its tag: state, analysis time, its runs, its regressions' count and last
 * update) read in the same snapshot. The web pages and `pyscope report
 * --batch N` answer from the stored document while the batch's fingerprint is
 * still the stored one and the row was built by this version and report
 * format (built_by "0.1.0 format 1": REPORT_FORMAT, report.h, is bumped when
 * the document changes); otherwise they build the report live, as before:
 * what they print is the same either way.
 * A triage marks the rows of its batches stale (a changed tag is never
 * served anyway) and the analyst rebuilds them on its next round. The
 * coordinator's own connections write; the web's read.
 */
#ifndef PYSCOPE_COORD_BATCH_REPORT_H
#define PYSCOPE_COORD_BATCH_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

/* Stored reports kept: the rows of older batches are deleted (their pages are built live). */
#define BATCH_REPORT_KEEP 100u

/*
 * The fingerprint of batch (0: the newest analysed batch, else the newest)
 * into *id and tag (tag_len bytes, truncated). Returns 1, 0 when there is no
 * such batch, or a negative code with err.
 */
int batch_report_tag(struct store *s, uint64_t batch, uint64_t *id, char *tag, size_t tag_len,
                     char *err, size_t errlen);

/*
 * The team report q (borrowed, kind REPORT) asks for into *out (new object,
 * caller owns), as report_build() makes it: the stored document when q asks
 * for one batch with the default limit and its row is current, else built
 * now. *stored (may be NULL) says which. Returns 0 or a negative code with
 * err.
 */
int batch_report_get(struct store *s, const struct wire_query *q, json_t **out, bool *stored,
                     char *err, size_t errlen);

/*
 * Build the team report of batch and store it with the fingerprint read in
 * the same snapshot (a connection that may write, outside a transaction).
 * Returns 1 when stored, 0 when there is no such batch, or a negative code
 * with err.
 */
int batch_report_store(struct store *s, uint64_t batch, char *err, size_t errlen);

/*
 * After a triage of regression_id: mark the stored reports of the batches
 * it shows in stale. Returns the rows marked or a negative code with err.
 */
int batch_report_invalidate(struct store *s, uint64_t regression_id, char *err, size_t errlen);

/*
 * The analyst's upkeep: rebuild (at most max) stored reports that are stale
 * or built by another version or report format, and that of the newest
 * analysed batch when it is missing or its fingerprint moved; delete the rows
 * beyond the newest BATCH_REPORT_KEEP batches. Returns the reports rebuilt or
 * a negative code with err.
 */
int batch_report_refresh(struct store *s, unsigned max, char *err, size_t errlen);

#endif
