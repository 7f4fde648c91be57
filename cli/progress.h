/*
 * progress.h - a status line on a terminal while something long runs.
 *
 * "pyscope: repeat 3/6 (measured) · 12.4 s": a label the caller sets and the
 * time since the start, redrawn in place (carriage return, erase to the end
 * of the line) by a thread of its own four times a second, so the clock
 * moves while the caller waits. Only on a terminal: progress_start()
 * returns NULL when the stream is not one (a pipe, a file, CI logs), and
 * every other call accepts NULL, so callers need no checks. The line
 * appears only after a short delay (a command that ends at once prints
 * nothing) and is erased when it ends, leaving the terminal as it was; on a
 * terminal that cannot erase (TERM=dumb) each new label is a line of its own
 * and the clock does not tick.
 */
#ifndef PYSCOPE_PROGRESS_H
#define PYSCOPE_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct progress;

/*
 * Start a status line on out (borrowed; stderr as a rule) when it is a
 * terminal and quiet is false; the line shows after delay_ms. Returns a new
 * status line (progress_end() frees it) or NULL.
 */
struct progress *progress_start(FILE *out, bool quiet, unsigned delay_ms);

/* Set the label (printf format; shown escaped of control characters). NULL-safe. */
void progress_set(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Erase the line, stop the thread, free p (NULL-safe); *p = NULL. */
void progress_end(struct progress **p);

#endif
