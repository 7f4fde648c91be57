/*
 * html_report.h - one self-contained HTML page for a pyscope.report/1 document.
 *
 * The page opens offline: CSS and JS are inlined, a Content-Security-Policy
 * forbids every fetch, and no URL points outside the file. It shows the run's
 * identity (script, date, host, Python), a summary over the measured runs, the
 * optimization suggestions, the regression check, the hotspot table (sortable),
 * an interactive flame graph, the memory timeline and the per-run table.
 *
 * The report is untrusted input: any field may be missing or of the wrong type,
 * and then the page shows what is there. Every string from it is escaped.
 */
#ifndef PYSCOPE_HTML_REPORT_H
#define PYSCOPE_HTML_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write a self-contained HTML page for report (borrowed) to out. Returns 0, or
 * -PYSCOPE_ESCHEMA when report is not an object or names a schema this code
 * does not read, or -EIO when writing failed; on failure writes a message into
 * err (errlen bytes, may be 0).
 */
int html_report_write(FILE *out, const json_t *report, char *err, size_t errlen);

#endif
