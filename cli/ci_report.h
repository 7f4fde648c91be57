/*
 * ci_report.h - regression verdicts for CI systems: JUnit XML and Markdown.
 *
 * Input is a list of pyscope.report/1 documents (or any object with the same
 * "script", "host", "status" and "regression" fields, as `pyscope compare`
 * builds). JUnit: one <testsuite> per document (named by script.key), one
 * <testcase> per metric of its regression check; a regression is a
 * <failure> whose text is the evidence (medians, change, CI, p, noise,
 * baseline size, the functions that explain it), an inconclusive verdict is
 * <skipped> with the hint, a report with no baseline is one skipped
 * "regression_check" case, and a script that failed is one <error> case.
 * Markdown: a heading, a one-line tally and a table suitable for
 * $GITHUB_STEP_SUMMARY (run metrics always; hotspot metrics only when they
 * regress or improve).
 *
 * Documents are untrusted: every string is escaped (XML: & < > " ' as
 * entities, characters XML 1.0 forbids as U+FFFD; Markdown: punctuation that
 * could start markup is backslash-escaped, '<' '>' '&' as entities, line
 * breaks as spaces), and missing fields are shown as missing.
 */
#ifndef PYSCOPE_CI_REPORT_H
#define PYSCOPE_CI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Verdict counts over documents (run and hotspot metrics alike). */
struct ci_report_tally {
    size_t documents;
    size_t regressions;         /* whole-script metrics' (what --fail-on-regression fails on) */
    size_t hotspot_regressions; /* hotspot functions': reported, a passing test case
                                   (regress_has_regression, lib/regress.h) */
    size_t improvements;
    size_t inconclusive;
    size_t no_change;
    size_t no_baseline; /* documents without a baseline */
    size_t failed;      /* documents whose script did not end ok */
};

/* Count the verdicts of docs[0..n) (borrowed) into *t. */
void ci_report_count(const json_t *const *docs, size_t n, struct ci_report_tally *t);

/*
 * Write a JUnit XML document for docs[0..n) (borrowed) to out. Returns 0 or
 * -EIO when writing failed.
 */
int ci_report_junit(FILE *out, const json_t *const *docs, size_t n);

/*
 * Write the Markdown summary for docs[0..n) (borrowed) to out. Returns 0 or
 * -EIO when writing failed.
 */
int ci_report_markdown(FILE *out, const json_t *const *docs, size_t n);

/*
 * Write s (borrowed, NUL-terminated UTF-8) escaped for XML text and attribute
 * values.
 */
void ci_report_xml_escape(FILE *out, const char *s);

/* Write s (borrowed) escaped for a Markdown table cell. */
void ci_report_md_escape(FILE *out, const char *s);

/*
 * Human-readable evidence for one metric object of a regression check
 * (borrowed): e.g. "wall time: 1.4520 s -> 1.5494 s (+6.71%, 95% CI +5.2% ..
 * +8.1%, p=0.002, noise 1.9%, threshold 5%, baseline 10 runs x 10,
 * candidate 10 samples)". Returns a new string (caller owns).
 */
char *ci_report_metric_text(const json_t *metric);

enum ci_report_format { CI_REPORT_JUNIT, CI_REPORT_MARKDOWN };

/*
 * Write docs[0..n) (borrowed) as format to path (borrowed): replaced through
 * a temporary file and rename(), or appended to when append is true (for
 * $GITHUB_STEP_SUMMARY). Returns 0 or -errno with a message naming the file
 * in err (errlen bytes, may be 0).
 */
int ci_report_write_file(const char *path, bool append, enum ci_report_format format,
                         const json_t *const *docs, size_t n, char *err, size_t errlen);

#endif
