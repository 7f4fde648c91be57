/*
 * analyst.h - the batch analyst: a thread with its own database connection
 * that analyses each finished batch (analysis_run_one()) every
 * reap_interval_ms, so that an analysis of thousands of series never holds up
 * the coordinator's loop (results, heartbeats, job hand-out). After each
 * analysis it stores the batch's team report, and each round it rebuilds the
 * stored reports a triage made stale (batch_report.h), and it moves the
 * farm's bisections on (bisection_advance(), bisect: its settings).
 */
#ifndef PYSCOPE_COORD_ANALYST_H
#define PYSCOPE_COORD_ANALYST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bisection.h"

struct analyst;

/*
 * Connect to conninfo and start the thread: it looks for finished batches
 * at once and then every interval_ms; confirm: re-run series to confirm
 * (analysis_run_one()). Returns NULL with err filled.
 */
struct analyst *analyst_start(const char *conninfo, bool confirm,
                              const struct bisection_settings *bisect, uint32_t interval_ms,
                              char *err, size_t errlen);

/* Let an analysis under way finish, stop the thread, close the connection; sets *a to NULL. */
void analyst_stop(struct analyst **a);

/* Analyses that failed on a database error so far (any thread may ask). */
uint64_t analyst_errors(const struct analyst *a);

#endif
