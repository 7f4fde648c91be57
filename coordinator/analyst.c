/*
 * analyst.c - the batch analyst thread (see analyst.h).
 *
 * The thread only calls analysis_run_one() on its own connection and the
 * (thread-safe) logger. A condition variable on the monotonic clock paces it
 * and wakes it for shutdown; the error count is atomic, read by the loop's
 * counters.
 */
#include "analyst.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "batch_report.h"
#include "bisection.h"
#include "log.h"
#include "store.h"
#include "worker.h"
#include "xmalloc.h"

/* Batches analysed in a row before the thread checks whether it is asked to quit. */
#define ANALYST_BURST 4
/* Stale stored team reports rebuilt a round (batch_report_refresh()). */
#define ANALYST_REPORTS 2

struct analyst {
    struct store *store; /* the thread's own connection */
    bool confirm;
    struct bisection_settings bisect;
    uint32_t interval_ms;
    struct worker thr;
    atomic_uint_fast64_t errors;
};

/* Analyse the finished batches waiting, a few at a time, until none is left or quit. */
static void analyse_waiting(struct analyst *a)
{
    for (;;) {
        for (int i = 0; i < ANALYST_BURST; i++) {
            struct analysis_summary sum;
            char err[512];
            int rc = analysis_run_one(a->store, NULL, a->confirm, &sum, err, sizeof(err));
            if (rc < 0) {
                atomic_fetch_add(&a->errors, 1);
                log_error("could not analyse a finished batch: %s", err);
            }
            if (rc <= 0)
                return;
            log_info("batch %" PRIu64 " analysed (pass %u): %u series, %u tests, %u regressions,"
                     " %u improvements (%u ongoing), %u ended, %u re-queued to confirm,"
                     " %u not confirmed, %u inconclusive; %u runs read, %.3f s (%u series"
                     " decided while their runs came, %u decided again)",
                     sum.batch_id, sum.pass, sum.series, sum.tests, sum.regressions,
                     sum.improvements, sum.attached, sum.ended, sum.confirming, sum.held,
                     sum.unsettled, sum.rows_read,
                     sum.secs_samples + sum.secs_decide + sum.secs_docs + sum.secs_store, sum.early,
                     sum.redecided);
            /* its team report, built once for the pages and `pyscope report` */
            if (batch_report_store(a->store, sum.batch_id, err, sizeof(err)) < 0)
                log_warn("could not store the team report of batch %" PRIu64 ": %s", sum.batch_id,
                         err);
        }
        pthread_mutex_lock(&a->thr.mu);
        bool quit = a->thr.quit;
        pthread_mutex_unlock(&a->thr.mu);
        if (quit)
            return;
    }
}

/* Rebuild the stored team reports a triage (or a late run) made stale, a few a round. */
static void refresh_reports(struct analyst *a)
{
    char err[512];
    int n = batch_report_refresh(a->store, ANALYST_REPORTS, err, sizeof(err));
    if (n < 0)
        log_warn("could not rebuild the stored team reports: %s", err);
    else if (n > 0)
        log_debug("%d stored team report(s) rebuilt", n);
}

/* Move the bisections on: decide finished steps, queue the next (bisection.h). */
static void advance_bisections(struct analyst *a)
{
    char err[512];
    int n = bisection_advance(a->store, &a->bisect, err, sizeof(err));
    if (n < 0) {
        atomic_fetch_add(&a->errors, 1);
        log_error("could not move the bisections on: %s", err);
    }
}

static void *analyst_main(void *arg)
{
    struct analyst *a = arg;
    do {
        analyse_waiting(a);
        advance_bisections(a);
        refresh_reports(a);
    } while (!worker_sleep(&a->thr, a->interval_ms));
    return NULL;
}

struct analyst *analyst_start(const char *conninfo, bool confirm,
                              const struct bisection_settings *bisect, uint32_t interval_ms,
                              char *err, size_t errlen)
{
    struct store *s = store_open(conninfo, err, errlen);
    if (s == NULL)
        return NULL;
    struct analyst *a = xcalloc(1, sizeof(*a));
    a->store = s;
    a->confirm = confirm;
    a->bisect = *bisect;
    a->interval_ms = interval_ms;
    atomic_init(&a->errors, 0);
    if (worker_start(&a->thr, analyst_main, a, "batch analyst", err, errlen) < 0) {
        store_close(&a->store);
        free(a);
        return NULL;
    }
    return a;
}

void analyst_stop(struct analyst **ap)
{
    struct analyst *a = *ap;
    if (a == NULL)
        return;
    worker_stop(&a->thr);
    store_close(&a->store);
    free(a);
    *ap = NULL;
}

uint64_t analyst_errors(const struct analyst *a)
{
    return a ? (uint64_t)atomic_load(&a->errors) : 0;
}
