/*
 * render_report.c - test helper: render a report JSON file as HTML, collapsed
 * stacks or speedscope JSON, for the browser test and for looking at by hand.
 *
 *   render_report html|collapsed|speedscope REPORT.json [OUT]
 *   render_report team TEAM_REPORT.json [OUT]     (pyscope.team_report/1 as HTML)
 *
 * Writes to OUT (or stdout). Exit status 0, 2 on bad usage or input, 4 when
 * rendering failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "export.h"
#include "html_report.h"
#include "html_team.h"

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: render_report html|collapsed|speedscope|team REPORT.json [OUT]\n");
        return PYSCOPE_EXIT_USAGE;
    }
    json_error_t jerr;
    json_t *report = json_load_file(argv[2], 0, &jerr);
    if (!report) {
        fprintf(stderr, "render_report: could not read \"%s\": %s (line %d)\n", argv[2], jerr.text,
                jerr.line);
        return PYSCOPE_EXIT_USAGE;
    }
    FILE *out = stdout;
    if (argc == 4) {
        out = fopen(argv[3], "w");
        if (!out) {
            fprintf(stderr, "render_report: could not open \"%s\": %s\n", argv[3], strerror(errno));
            json_decref(report);
            return PYSCOPE_EXIT_USAGE;
        }
    }
    char err[256] = "";
    int rc;
    if (strcmp(argv[1], "html") == 0) {
        rc = html_report_write(out, report, err, sizeof(err));
    } else if (strcmp(argv[1], "team") == 0) {
        rc = html_team_write(out, report, NULL, err, sizeof(err));
    } else if (strcmp(argv[1], "collapsed") == 0) {
        rc = export_collapsed(out, report);
    } else if (strcmp(argv[1], "speedscope") == 0) {
        rc = export_speedscope(out, report);
    } else {
        fprintf(stderr, "render_report: unknown format \"%s\"\n", argv[1]);
        rc = -PYSCOPE_EUSAGE;
    }
    if (out != stdout && fclose(out) != 0 && rc == 0)
        rc = -EIO;
    json_decref(report);
    if (rc < 0) {
        fprintf(stderr, "render_report: %s\n", err[0] ? err : pyscope_strerror(rc));
        return rc == -PYSCOPE_EUSAGE ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
    }
    return 0;
}
