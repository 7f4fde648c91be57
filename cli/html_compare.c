/*
 * html_compare.c - the `pyscope compare` page, and its regression table that the run page
 * shows too (cli/html_report.c).
 *
 * Static HTML only: no JavaScript is needed to read a comparison. Class names
 * come from fixed lists, numbers are formatted here, every input string goes
 * through html_write_escaped (lib/html_text).
 */
#include "html_compare.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "errors.h"
#include "flamediff.h"
#include "html_page.h"
#include "html_text.h"
#include "jsonutil.h"
#include "html_verdict.h"

#define HTML_COMPARE_MAX_ROWS  200 /* metric rows, why rows per check */
#define HTML_COMPARE_MAX_FILES 50  /* baseline files listed per candidate */

static void hc_esc(FILE *out, const char *s)
{
    if (s)
        html_write_escaped(out, s, strlen(s));
}

static bool hc_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

void html_compare_regression(FILE *out, const json_t *reg)
{
    if (!json_is_object(reg)) {
        fputs("<p class=\"muted\">No regression check (the script did not end normally).</p>\n",
              out);
        return;
    }
    if (!hc_is(json_get_string(reg, "status", NULL), "compared")) {
        fputs("<p class=\"muted\">No baseline: ", out);
        const char *msg = json_get_string(reg, "message", NULL);
        hc_esc(out, msg ? msg : "nothing to compare with");
        fputs(".</p>\n", out);
        return;
    }
    html_verdict_sentences(out, reg);
    html_verdict_table(out, reg);
    fputs("<p class=\"note\">Medians of each run's repeats; the change is the ratio of the "
          "medians with a 95% bootstrap interval, p a Mann\xe2\x80\x93Whitney U test, noise the "
          "baseline's run-to-run spread (docs/json-schema.md, \"Regression check\").</p>\n",
          out);
    const json_t *fns = json_object_get(json_object_get(reg, "why"), "functions");
    if (json_array_size(fns) > 1) {
        fprintf(out,
                "<details><summary>All %zu functions that explain the change</summary>"
                "<div class=\"table-wrap\"><table><thead><tr><th>Function</th>"
                "<th class=\"num\">\xce\x94 self time</th><th class=\"num\">Share of the "
                "change</th></tr></thead><tbody>\n",
                json_array_size(fns));
        size_t i;
        const json_t *f;
        json_array_foreach(fns, i, f)
        {
            if (i == HTML_COMPARE_MAX_ROWS)
                break;
            double d, share;
            char buf[32];
            fputs("<tr><td>", out);
            html_verdict_function(out, json_get_string(f, "key", NULL));
            fputs("</td><td class=\"num\">", out);
            if (json_get_finite(f, "delta_s", &d)) {
                html_fmt_secs(buf, sizeof(buf), fabs(d));
                fprintf(out, "%s%s", d < 0 ? "\xe2\x88\x92" : "+", buf);
            }
            fputs("</td><td class=\"num\">", out);
            if (json_get_finite(f, "share_pct", &share))
                fprintf(out, "%.0f%%", share);
            fputs("</td></tr>\n", out);
        }
        fputs("</tbody></table></div></details>\n", out);
    }
}

/* The differential flame graph of comparison c (its "flame_diff", when present). */
static void hc_flame_diff(FILE *out, const json_t *c, size_t index)
{
    const json_t *doc = json_object_get(c, "flame_diff");
    if (!json_is_object(doc))
        return;
    char err[128], id[32];
    struct flame_diff *fd = flame_diff_from_json(doc, err, sizeof(err));
    if (!fd)
        return;
    snprintf(id, sizeof(id), "fdiff-%zu", index + 1);
    fputs("<h3>Where the time went: candidate against baseline</h3>\n", out);
    flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, FLAME_DIFF_MAX_NODES);
    flame_diff_write_svg(out, fd, id);
    flame_diff_destroy(&fd);
}

static void hc_meta(FILE *out, const char *label, const char *value)
{
    if (!value)
        return;
    fprintf(out, "<dt>%s</dt><dd>", label);
    hc_esc(out, value);
    fputs("</dd>\n", out);
}

static void hc_card(FILE *out, const char *label, const json_t *summary, const char *key,
                    const char *cls)
{
    double v = 0;
    json_get_finite(summary, key, &v);
    fprintf(out,
            "<div class=\"card\"><div class=\"label\">%s</div><div class=\"value%s%s\">%.0f"
            "</div></div>\n",
            label, v > 0 && cls ? " " : "", v > 0 && cls ? cls : "", v);
}

int html_compare_write(FILE *out, const json_t *cmp, char *err, size_t errlen)
{
    if (!json_is_object(cmp) || !hc_is(json_get_string(cmp, "schema", NULL), "pyscope.compare/1")) {
        pyscope_set_err(err, errlen, "not a pyscope.compare/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    const json_t *comps = json_object_get(cmp, "comparisons");
    struct html_page page = {.title = "PyScope comparison"};
    html_page_open(out, &page);
    html_page_header(out, "comparison");
    fputs("<dl class=\"meta\">\n", out);
    double thr;
    if (json_get_finite(cmp, "threshold_pct", &thr))
        fprintf(out, "<dt>Threshold</dt><dd>%g%%</dd>\n", thr);
    fprintf(out, "<dt>Candidates</dt><dd>%zu</dd>\n", json_array_size(comps));
    fputs("</dl>\n</header>\n<main>\n<section id=\"summary\">\n<h2>Summary</h2>\n"
          "<div class=\"cards\">\n",
          out);
    const json_t *summary = json_object_get(cmp, "summary");
    hc_card(out, "Regressions", summary, "regressions", "bad");
    hc_card(out, "Improvements", summary, "improvements", "ok");
    hc_card(out, "Inconclusive", summary, "inconclusive", "warn");
    hc_card(out, "Unchanged", summary, "no_change", NULL);
    hc_card(out, "No baseline", summary, "no_baseline", NULL);
    fputs("</div>\n</section>\n", out);
    size_t i;
    const json_t *c;
    json_array_foreach(comps, i, c)
    {
        const json_t *cand = json_object_get(c, "candidate");
        fprintf(out, "<section id=\"c%zu\">\n<h2>", i + 1);
        const char *script = json_get_string(cand, "script", NULL);
        hc_esc(out, script ? script : "(unknown script)");
        fputs("</h2>\n<dl class=\"meta\">\n", out);
        hc_meta(out, "Candidate", json_get_string(cand, "file", NULL));
        hc_meta(out, "Run id", json_get_string(cand, "id", NULL));
        hc_meta(out, "Created", json_get_string(cand, "created", NULL));
        hc_meta(out, "Host", json_get_string(cand, "host", NULL));
        const json_t *files = json_object_get(json_object_get(c, "baseline"), "files");
        fprintf(out, "<dt>Baseline</dt><dd>%zu file%s", json_array_size(files),
                json_array_size(files) == 1 ? "" : "s");
        size_t k;
        const json_t *f;
        json_array_foreach(files, k, f)
        {
            if (k == HTML_COMPARE_MAX_FILES) {
                fputs(", \xe2\x80\xa6", out);
                break;
            }
            fputs(k ? ", <code>" : ": <code>", out);
            hc_esc(out, json_string_value(f));
            fputs("</code>", out);
        }
        fputs("</dd>\n</dl>\n", out);
        const char *note = json_get_string(c, "note", NULL);
        if (note) {
            fputs("<p class=\"warn\">", out);
            hc_esc(out, note);
            fputs("</p>\n", out);
        }
        html_compare_regression(out, json_object_get(c, "regression"));
        hc_flame_diff(out, c, i);
        fputs("</section>\n", out);
    }
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
