/*
 * html_compare.h - a self-contained HTML page for `pyscope compare`.
 *
 * Reads a pyscope.compare/1 document (docs/json-schema.md): the candidates,
 * their baseline files and each regression check. The page looks like the
 * run report (the same embedded stylesheet, lib/assets/report.css), opens
 * offline (no script, a Content-Security-Policy that forbids every fetch, no
 * external URL) and escapes every string from its input. The page frame and
 * the verdict table are exported for the other pages built on them
 * (lib/html_history).
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
 * Open a page: doctype, CSP, the embedded stylesheet, <title> from title
 * (borrowed, escaped), <body> and a <header> with h1 heading (escaped).
 */
void html_compare_page_open(FILE *out, const char *title, const char *heading);

/* Close what html_compare_page_open and the caller's <main> opened. */
void html_compare_page_close(FILE *out);

/*
 * Write the metrics of regression (borrowed, a "regression" object) as a
 * table (metric, baseline, candidate, change, CI, p, noise, verdict), then
 * the functions that explain the change and the identity notes.
 * Hotspot metrics are shown only when they regress or improve.
 */
void html_compare_regression(FILE *out, const json_t *regression);

#endif
