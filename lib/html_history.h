/*
 * html_history.h - a self-contained HTML page for `pyscope history`.
 *
 * Reads a pyscope.history/1 document (docs/json-schema.md) and draws the
 * trend: per run the median wall time (a line), its spread (the
 * interquartile range as a bar, min..max as a thin whisker), the verdict of
 * each run against its own baseline (regressions in red), dashed lines at
 * the change points, then the table of runs and where the baseline of new
 * runs starts. Inline SVG and CSS only (no script, no external URL), every
 * input string escaped.
 */
#ifndef PYSCOPE_HTML_HISTORY_H
#define PYSCOPE_HTML_HISTORY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "html_page.h"

/*
 * Write the page for history (borrowed, a pyscope.history/1 object) to out.
 * Returns 0, -PYSCOPE_ESCHEMA (message in err, errlen bytes, may be 0) or
 * -EIO when writing failed.
 */
int html_history_write(FILE *out, const json_t *history, char *err, size_t errlen);

/*
 * The same page served by the coordinator (/series/...): site (borrowed)
 * adds the navigation, a link per metric and links to the script's other
 * series. html_history_write is this with site NULL.
 */
int html_history_write_site(FILE *out, const json_t *history, const struct html_site *site,
                            char *err, size_t errlen);

#endif
