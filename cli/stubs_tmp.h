/*
 * stubs_tmp.h - TEMPORARY: prototypes of modules written in parallel.
 *
 * DELETE at merge (with stubs_tmp.c) and include the real headers instead:
 * lib/suggest.h, lib/regress.h, lib/html_report.h, lib/export.h. The CLI
 * includes only this file for them, so the switch is a one-line change in
 * cli/run.c.
 */
#ifndef PYSCOPE_CLI_STUBS_TMP_H
#define PYSCOPE_CLI_STUBS_TMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* lib/suggest.h */
struct suggest_options {
    const char *source_root;
};
json_t *suggest_analyze(const json_t *report, const struct suggest_options *opt);

/* lib/regress.h */
struct regress_options {
    double threshold;
    double alpha;
    int max_baseline_runs;
};
void regress_options_init(struct regress_options *opt);
json_t *regress_check_local(const json_t *candidate, const char *reports_json_dir,
                            const struct regress_options *opt);
void regress_print(FILE *out, const json_t *regression, bool color);
bool regress_has_regression(const json_t *regression);

/* lib/html_report.h */
int html_report_write(FILE *out, const json_t *report, char *err, size_t errlen);

/* lib/export.h */
int export_collapsed(FILE *out, const json_t *report);
int export_speedscope(FILE *out, const json_t *report);

#endif
