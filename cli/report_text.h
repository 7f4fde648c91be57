/*
 * report_text.h - the terminal report of one pyscope.report/1 document.
 *
 * Renders the report's fixed sections (docs/DESIGN.md §8): a summary (execution time, average
 * CPU, peak memory, with median/min/max when the script ran several times),
 * the mode and how the script ended, the top hotspots, the optimization
 * suggestions, the paths of the saved reports and, through a callback, the
 * regression check. The output depends only on the document and the options
 * (no clock, no locale-dependent text), so it is byte-stable and golden-file
 * tested. Missing or mistyped fields print as "n/a" or are left out: the
 * renderer never fails.
 */
#ifndef PYSCOPE_REPORT_TEXT_H
#define PYSCOPE_REPORT_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints the "regression" member of the report (borrowed, a JSON object). */
typedef void (*report_text_regression_fn)(FILE *out, const json_t *regression, bool color);

struct report_text_options {
    bool color;            /* ANSI colours (the caller decides: TTY, NO_COLOR, --color) */
    int top;               /* how many hotspots to list; 0 lists none */
    const char *json_path; /* borrowed: path shown as the saved JSON report, raw bytes;
                              NULL uses the report's files.json */
    const char *html_path; /* borrowed: same for the HTML report; NULL uses files.html */
    report_text_regression_fn print_regression; /* renders "regression" when it is an
                                                   object; NULL leaves the section out */
};

/* Fill opt with the defaults: no colour, top 5, paths from the report, no regression. */
void report_text_options_init(struct report_text_options *opt);

/*
 * Write the terminal report of report (borrowed, a pyscope.report/1 or pyscope.run/1
 * object) to out (borrowed). opt may be NULL for the defaults.
 */
void report_text_print(FILE *out, const json_t *report, const struct report_text_options *opt);

/*
 * Describe how the run ended, e.g. "Script exited with status 3", "Script killed by
 * signal 9 (SIGKILL)", "Timed out after 2 s: killed"; NULL when it ended normally
 * (outcome "ok"). Caller owns the returned string (free()).
 */
char *report_text_outcome(const json_t *report);

#endif
