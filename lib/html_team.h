/*
 * html_team.h - the farm's team report as one self-contained HTML page.
 *
 * Input is a pyscope.team_report/1 document (the coordinator's answer to a
 * report query, docs/json-schema.md). The page needs nothing but itself: CSS
 * inline, no script, a Content-Security-Policy that forbids every fetch, no
 * URL. It shows the batches covered, the regressions (worst first: change,
 * CI, p and q, the functions that explain it, identity changes, triage state
 * and note, "confirmed (N runs)"), the improvements, a script x host matrix
 * of median wall times and the host-vs-host comparison. The document is
 * untrusted: missing or mistyped fields are shown as "-" and every string is
 * escaped (html_write_escaped).
 */
#ifndef PYSCOPE_HTML_TEAM_H
#define PYSCOPE_HTML_TEAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Write the page for doc (borrowed; the whole Query reply or its "report"
 * member) to out. Returns 0, -PYSCOPE_ESCHEMA (doc is no team report, err
 * says why) or -EIO (writing failed).
 */
int html_team_write(FILE *out, const json_t *doc, char *err, size_t errlen);

#endif
