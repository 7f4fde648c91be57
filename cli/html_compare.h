/*
 * html_compare.h - a self-contained HTML page for `pyscope compare`.
 *
 * Reads a pyscope.compare/1 document (docs/json-schema.md): the candidates,
 * their baseline files and each regression check. The page looks like the
 * run report (the same embedded stylesheet, lib/assets/report.css), opens
 * offline (no script; the frame of lib/html_page) and escapes every string
 * from its input. The verdict table is exported for the pages built on it.
 */
#ifndef PYSCOPE_HTML_COMPARE_H
#define PYSCOPE_HTML_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write the page for comparison (borrowed, a pyscope.compare/1 object) to
 * out. Returns 0, -PYSCOPE_ESCHEMA (not such an object; message in err,
 * errlen bytes, may be 0) or -EIO when writing failed.
 */
int html_compare_write(FILE *out, const json_t *comparison, char *err, size_t errlen);

/*
 * Write the metrics of regression (borrowed, a "regression" object) as a
 * table (metric, baseline, candidate, change, CI, p, noise, verdict), then
 * the functions that explain the change and the identity notes.
 * Hotspot metrics are shown only when they regress or improve.
 */
void html_compare_regression(FILE *out, const json_t *regression);

#endif
