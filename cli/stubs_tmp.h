/*
 * stubs_tmp.h - TEMPORARY: prototypes of modules written in parallel.
 *
 * DELETE at merge (with stubs_tmp.c) once lib/html_report.h and lib/export.h
 * are on main: in cli/run.c, replace the include of this file with
 * #include "export.h" and #include "html_report.h".
 */
#ifndef PYSCOPE_CLI_STUBS_TMP_H
#define PYSCOPE_CLI_STUBS_TMP_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* lib/html_report.h */
int html_report_write(FILE *out, const json_t *report, char *err, size_t errlen);

/* lib/export.h */
int export_collapsed(FILE *out, const json_t *report);
int export_speedscope(FILE *out, const json_t *report);

#endif
