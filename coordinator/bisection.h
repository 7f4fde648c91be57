/*
 * bisection.h - which commit made a script slower on a host: bisection on the
 * farm (`pyscope bisect SCRIPT --host H --good A --bad B`, the coordinator's
 * auto_bisect; docs/revisions.md, schema/027_bisect.sql).
 *
 * A bisection searches the first-parent chain of its bad commit back to its
 * good one, as the local `pyscope bisect` does, but each step is an A/B try
 * batch (trybatch.h) on the chosen host: the ends first (is BAD slower than
 * GOOD at all?), then the commit nearest the middle of the open interval
 * against GOOD (a regression moves the first bad commit down, no change or an
 * improvement moves the last good one up), then the culprit against its
 * parent, whose verdict and interval are the evidence (a culprit whose parent
 * is GOOD was measured against it already: that step is its evidence). A
 * halving step or the confirmation the noise leaves open is decided by which
 * end it resembles (abtest_nearer_end: its interval wholly below or above half
 * the ends' change); a confirmation nearer the good end rejects the culprit.
 * A step left inconclusive gets more rounds (new try batches, decided pooled),
 * up to abtest_step_batches(bisections.max_extra) batches in all, and then stops
 * the bisection, said: never a guess. A commit the script cannot run at is
 * skipped; when only such commits are left, they are named as the candidates. A
 * time and a run budget stop it too, with the interval narrowed so far.
 *
 * The state lives in PostgreSQL (bisections, bisection_steps): the analyst
 * thread calls bisection_advance() every round, which decides finished steps
 * and queues the next ones, so a bisection goes on after a restart.
 */
#ifndef PYSCOPE_COORD_BISECTION_H
#define PYSCOPE_COORD_BISECTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "wire.h"

struct bisection_settings {
    bool auto_bisect;      /* bisect confirmed regressions whose range holds > 1 commit */
    uint32_t budget_s;     /* a bisection's time budget when it gives none */
    uint32_t rounds;       /* an automatic bisection's pairs per step */
    double job_timeout_s;  /* as store_submit()'s */
    uint32_t max_attempts; /* as store_submit()'s */
};

/*
 * Start the bisection sub (borrowed; wire_validate()d, sub->bisect) asks for:
 * *id gets its id. Returns 0, -ENOENT (unknown host) or -PYSCOPE_EUSAGE
 * (good not on bad's first-parent history, an unknown commit, a bad metric)
 * with err saying what to fix, or -EIO.
 */
int bisection_create(struct store *s, const struct wire_submit *sub, uint32_t default_budget_s,
                     uint64_t *id, char *err, size_t errlen);

/*
 * Move every running bisection on: decide its finished step, queue its next
 * one or end it; with bs->auto_bisect first start one for each confirmed
 * regression not bisected yet. Returns how many bisections moved, or a
 * negative code (err).
 */
int bisection_advance(struct store *s, const struct bisection_settings *bs, char *err,
                      size_t errlen);

/* Answer Query KIND_BISECT (batch_id = the bisection's id) into *out
 * (pyscope.bisect_farm/1's "bisect" object). Returns 0 or a negative code. */
int bisection_answer(struct store *s, const struct wire_query *q, json_t **out, char *err,
                     size_t errlen);

/*
 * Cancel the bisection of Query KIND_BISECT q (batch_id; state "cancel", note:
 * who asks, as the CLI says it) for the peer key (its role and key, as the
 * log names it): its queued step turns are withdrawn (jobs end 'failed',
 * end_reason "withdrawn: ..."; a turn already running finishes), its state
 * becomes 'cancelled' with who and when in its message, under the lock the
 * analyst moves it under (no step is queued after it). *out: the bisection as
 * bisection_answer() gives it, or {"id", "error": {"code", "message"}} for an
 * unknown id (unknown_bisection) or one that already ended (not_running).
 * Returns 0 or a negative code.
 */
int bisection_cancel(struct store *s, const struct wire_query *q, const char *key, json_t **out,
                     char *err, size_t errlen);

/*
 * SQL: the bisection of regressions row g (alias) as JSON, or NULL: its id,
 * state, message (why none was named, who cancelled it), culprit (with
 * "merge": it has more than one parent), interval, steps decided and turns
 * (runs) used, the commits it could not run at (the team report and
 * `pyscope history` show it beside the regression: HTML, JSON and text).
 */
#define BISECTION_OF_SQL(g)                                                                        \
    "(SELECT json_build_object('id', bi.id, 'state', bi.state, 'message', bi.message,"             \
    " 'culprit', pyscope_commit(bi.culprit)::jsonb || jsonb_build_object('merge',"                 \
    "  (SELECT cardinality(c.parents) > 1 FROM commits c WHERE c.hash = bi.culprit)),"             \
    " 'last_good', pyscope_commit(bi.chain[bi.lo]),"                                               \
    " 'first_bad', pyscope_commit(bi.chain[bi.hi]), 'commits', bi.hi - bi.lo,"                     \
    " 'steps', (SELECT count(*) FROM bisection_steps st WHERE st.bisection_id = bi.id"             \
    "  AND st.outcome <> 'pending'),"                                                              \
    " 'turns', (SELECT count(*) FROM jobs j WHERE j.batch_id IN (SELECT unnest(st.batches)"        \
    "  FROM bisection_steps st WHERE st.bisection_id = bi.id) AND j.state = 'done'),"              \
    " 'unrunnable', cardinality(bi.skipped))"                                                      \
    " FROM bisections bi WHERE bi.regression_id = " #g ".id)"

#endif
