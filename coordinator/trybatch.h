/*
 * trybatch.h - A/B tries on the farm: "pyscope try SUITE --base REV --head REV"
 * (docs/revisions.md, schema/025_try.sql).
 *
 * A try batch (Submit.try_base) holds, on every host it selects, try_rounds
 * jobs of each entry at the base commit and as many at the head, inserted
 * base, head, base, head ... so that an agent, which claims its host's jobs
 * in jobs.id order, measures the two revisions in turns and the machine's
 * drift hits both alike. Its runs are no night of a series: the analysis
 * never claims the batch (it is made analyzed at submit) and the series,
 * baselines, team report and hardware comparisons leave its runs out
 * (TRYBATCH_NOT_TRY_R).
 *
 * Query KIND_TRY decides it when asked: per script x host x Python build,
 * lib/abtest over the ok runs of each side (the same statistics as the local
 * "pyscope try": verdict per metric, interval, why), answered as
 * pyscope.try_farm/1 (docs/json-schema.md). A batch that is not a try, or
 * unknown, is answered in the document's "error" object.
 */
#ifndef PYSCOPE_COORD_TRYBATCH_H
#define PYSCOPE_COORD_TRYBATCH_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"
#include "wire.h"

/*
 * SQL: runs (table alias r, or b) that belong to no try batch (series,
 * baselines and reports read only those). batches_try_idx keeps the set small.
 */
#define TRYBATCH_NOT_TRY_SQL(a)                                                                    \
    "(" a ".batch_id NOT IN (SELECT tb.id FROM batches tb WHERE tb.purpose = 'try'))"
#define TRYBATCH_NOT_TRY_R TRYBATCH_NOT_TRY_SQL("r")
#define TRYBATCH_NOT_TRY_B TRYBATCH_NOT_TRY_SQL("b")
#define TRYBATCH_NOT_TRY_Y TRYBATCH_NOT_TRY_SQL("y")

/*
 * Decide the try batches batches (a PostgreSQL array literal, "{7,9}": their
 * runs pooled, as one try) into *results (new array of result objects, one
 * per script x host x Python, at most limit; 0 = the query maximum). A
 * comparison whose jobs asked for instruction counts (jobs.instructions) is
 * decided on them, whatever the load (regress_options.decide_metric), its
 * reason naming decide_by (borrowed: "--instructions", "--metric instructions").
 * Returns 0 or a negative code.
 */
int trybatch_decide(struct store *s, const char *batches, size_t limit, const char *decide_by,
                    json_t **results, char *err, size_t errlen);

/* Answer Query KIND_TRY q (borrowed) into *out (new object). Returns 0 or a negative code. */
int trybatch_answer(struct store *s, const struct wire_query *q, json_t **out, char *err,
                    size_t errlen);

#endif
