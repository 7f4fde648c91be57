/*
 * html_range.h - a regression's range of commits in HTML (docs/revisions.md).
 *
 * The team report (lib/html_team) shows beside each regression the commit
 * last known good and the first bad one (short hash, subject, author, date)
 * and how many commits lie between: the candidates for the culprit. The
 * range object is pyscope.team_report/1's "range" (docs/json-schema.md);
 * untrusted, every string escaped.
 */
#ifndef PYSCOPE_HTML_RANGE_H
#define PYSCOPE_HTML_RANGE_H

#include <jansson.h>
#include <stdio.h>

/* Write range (borrowed; "-" for null or a malformed one) to out as inline HTML. */
void html_range_write(FILE *out, const json_t *range);

/*
 * Write a regression's bisection b (borrowed; pyscope.team_report/1's and
 * pyscope.history/1's "bisection": id, state, message, culprit, last_good,
 * first_bad, commits, steps, turns, unrunnable; nothing for null): its state,
 * steps and runs and its message, the culprit, else the interval it was
 * narrowed to (and how many commits the script could not run at), as
 * `pyscope history` says it in text. Untrusted: every string escaped.
 */
void html_bisection_write(FILE *out, const json_t *b);

#endif
