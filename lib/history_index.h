/*
 * history_index.h - lib/history's index of a reports folder (private to lib/history).
 *
 * The public side (flags, history_hydrate, history_index_begin/commit) is in
 * history.h; this is what history.c calls.
 */
#ifndef PYSCOPE_HISTORY_INDEX_H
#define PYSCOPE_HISTORY_INDEX_H

#include "history.h"

/*
 * Load the reports of dir that match f through the index (f->flags says whether it
 * may be built or repaired). Returns 0 with *out filled, or -1 when the index
 * cannot serve this read (missing, stale or damaged and not writable): the caller
 * then scans the folder. *out is empty on -1.
 */
int history_index_load(const char *dir, const struct history_filter *f, struct history *out);

/* The part of a report kept in the index row: everything but the heavy members
 * (profile, memory timeline, suggestions, regression). New object. */
json_t *history_index_light(const json_t *doc);

/* doc's profile without its stacks (new object), or NULL when doc has none. */
json_t *history_index_profile(const json_t *doc);

#endif
