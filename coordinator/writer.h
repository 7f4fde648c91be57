/*
 * writer.h - the result writer: a thread with its own database connection
 * that stores groups of results (store_put_results()) while the coordinator's
 * loop goes on receiving, validating and answering (docs/DESIGN.md §12).
 *
 * One group at a time: the loop hands a group over with writer_submit(),
 * polls writer_fd(), and takes it back with writer_collect(), each result's
 * status filled in; only then does it ack them (after COMMIT, as before).
 * The items and the results they point to belong to the writer from submit
 * to collect: the loop must not touch them meanwhile.
 */
#ifndef PYSCOPE_COORD_WRITER_H
#define PYSCOPE_COORD_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

struct writer;

/* Connect to conninfo and start the thread. Returns NULL with err filled. */
struct writer *writer_start(const char *conninfo, char *err, size_t errlen);

/* Wait for a group in flight, stop the thread, close the connection; sets *w to NULL. */
void writer_stop(struct writer **w);

/* A file descriptor that becomes readable when a group is done (for poll). */
int writer_fd(const struct writer *w);

/* Hand over n items (n >= 1; borrowed until writer_collect()); none may be handed over yet. */
void writer_submit(struct writer *w, struct store_result_item *items, size_t n);

/*
 * Take back the group handed over, when it is done; with wait, block until it
 * is. Returns true when a group came back (each item's status and rc set),
 * false when none was handed over or (without wait) it is still running.
 */
bool writer_collect(struct writer *w, bool wait);

#endif
