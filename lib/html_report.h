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

/*
 * Write len bytes of s (borrowed) to out, escaped for HTML text and attribute
 * values: first the sanitiser's display form (lib/sanitize.h: control,
 * bidi and invisible characters and bad UTF-8 shown as visible escapes; tab
 * and newline kept), then & < > " ' as entities.
 */
void html_write_escaped(FILE *out, const char *s, size_t len);
/* html_write_escaped() of the string s; nothing for NULL. */
void html_write_str(FILE *out, const char *s);

/*
 * Write data (borrowed) as compact JSON that is safe inside a <script> element:
 * the sanitiser's display form of every string (lib/sanitize.h), then '<', '>',
 * '&', U+2028 and U+2029 written as \u escapes. Returns 0, or
 * -ENOMEM if data could not be serialized.
 */
int html_write_script_json(FILE *out, const json_t *data);

/* Seconds for people into buf (n bytes): "1.549 s", "619 ms", "12.3 ms", "4.56 ms", "45.0 µs". */
void html_fmt_secs(char *buf, size_t n, double s);

/* A byte count for people into buf (n bytes): "18.8 MiB". */
void html_fmt_bytes(char *buf, size_t n, double b);

#endif
