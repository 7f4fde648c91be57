/*
 * cp_memo.h - the change points of run statistics already searched, kept beside the
 * history index (DIR/.pyscope-index/changepoints.json), so that a run does not search
 * again what the previous ones did.
 *
 * The E-divisive search (stats_changepoints: 199 permutations a change point, each
 * O(n^2) in the series length) is most of `pyscope run`'s own time on a long history,
 * and its inputs recur: a run with --no-save sees the very series of the previous one,
 * and a saved run makes the next one search the same prefixes shifted by one. An entry
 * is keyed by the SHA-256 of the exact input (the statistics' bytes, their count and
 * the search options), so it cannot go stale: an answer from the memo is the one the
 * search gives. The file holds at most CP_MEMO_MAX entries, those used last first.
 */
#ifndef PYSCOPE_CP_MEMO_H
#define PYSCOPE_CP_MEMO_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

#define CP_MEMO_FILE "changepoints.json"
#define CP_MEMO_MAX  512

struct cp_memo;

/* Open the memo of the history index of the reports folder dir (borrowed): read its
 * file, if any (a damaged one is dropped with a warning and rebuilt). Never NULL. */
struct cp_memo *cp_memo_open(const char *dir);

/* stats_changepoints() through the memo m (NULL: none): the same arguments and result. */
int cp_memo_changepoints(struct cp_memo *m, const double *x, size_t n,
                         const struct stats_cp_options *opt, size_t *cps, size_t max_cps,
                         size_t *n_cps);

/* Write the memo back when it learned something (a failure is only logged) and free it. */
void cp_memo_close(struct cp_memo *m);

#endif
