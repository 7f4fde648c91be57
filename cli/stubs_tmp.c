/*
 * stubs_tmp.c - TEMPORARY stand-ins for modules written in parallel.
 *
 * DELETE at merge: the real lib/html_report.c and lib/export.c replace everything
 * here. Behaviour is the minimum the CLI needs to run end to end (a bare HTML
 * page, collapsed stacks, an empty speedscope document).
 */
#include "stubs_tmp.h"

int html_report_write(FILE *out, const json_t *report, char *err, size_t errlen)
{
    (void)report;
    (void)err;
    (void)errlen;
    return fputs("<!doctype html><title>PyScope (stub)</title>\n", out) < 0 ? -1 : 0;
}

int export_collapsed(FILE *out, const json_t *report)
{
    size_t i, j;
    const json_t *st, *fr;
    json_array_foreach(json_object_get(json_object_get(report, "profile"), "stacks"), i, st)
    {
        json_array_foreach(json_object_get(st, "frames"), j, fr)
        {
            fprintf(out, "%s%s", j ? ";" : "", json_string_value(fr));
        }
        fprintf(out, " %lld\n", (long long)json_integer_value(json_object_get(st, "samples")));
    }
    return 0;
}

int export_speedscope(FILE *out, const json_t *report)
{
    (void)report;
    return fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\"}\n", out) < 0
               ? -1
               : 0;
}
