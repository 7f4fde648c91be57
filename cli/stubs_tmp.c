/*
 * stubs_tmp.c - TEMPORARY stand-ins for modules written in parallel.
 *
 * DELETE at merge: the real lib/suggest.c, lib/regress.c, lib/html_report.c and
 * lib/export.c replace everything here. Behaviour is the minimum the CLI needs
 * to run end to end (no suggestions, no baseline, a bare HTML page).
 */
#include "stubs_tmp.h"

json_t *suggest_analyze(const json_t *report, const struct suggest_options *opt)
{
    (void)report;
    (void)opt;
    return json_array();
}

void regress_options_init(struct regress_options *opt)
{
    opt->threshold = 0.05;
    opt->alpha = 0.05;
    opt->max_baseline_runs = 20;
}

json_t *regress_check_local(const json_t *candidate, const char *reports_json_dir,
                            const struct regress_options *opt)
{
    (void)candidate;
    (void)reports_json_dir;
    return json_pack("{s:s, s:f}", "verdict", "no-baseline", "threshold", opt->threshold);
}

void regress_print(FILE *out, const json_t *regression, bool color)
{
    (void)regression;
    (void)color;
    fputs("Performance Regression Check\n----------------------------------------\n"
          "(stub) no earlier runs to compare with\n",
          out);
}

bool regress_has_regression(const json_t *regression)
{
    return json_is_true(json_object_get(regression, "regression"));
}

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
