/*
 * html_compare.c - the `pyscope compare` page and the pieces other pages share.
 *
 * Static HTML only: no JavaScript is needed to read a comparison. Class names
 * come from fixed lists, numbers are formatted here, every input string goes
 * through html_write_escaped (lib/html_report).
 */
#include "html_compare.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "errors.h"
#include "html_page.h"
#include "html_report.h"

#define HTML_COMPARE_MAX_ROWS  200 /* metric rows, why rows per check */
#define HTML_COMPARE_MAX_FILES 50  /* baseline files listed per candidate */

static void hc_esc(FILE *out, const char *s)
{
    if (s)
        html_write_escaped(out, s, strlen(s));
}

static const char *hc_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool hc_num(const json_t *o, const char *k, double *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return false;
    *out = json_number_value(v);
    return true;
}

static bool hc_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static void hc_value(FILE *out, const json_t *m, const char *key)
{
    double v;
    if (!hc_num(m, key, &v))
        fputs("?", out);
    else if (hc_is(hc_str(m, "unit"), "bytes"))
        fprintf(out, "%.2f MB", v / (1024.0 * 1024.0));
    else if (hc_is(hc_str(m, "unit"), "instructions"))
        fprintf(out, "%.4f M instructions", v / 1e6);
    else
        fprintf(out, "%.4f s", v);
}

static const char *hc_verdict_class(const char *v)
{
    if (hc_is(v, "regression"))
        return "verdict-regression";
    if (hc_is(v, "improvement"))
        return "verdict-improvement";
    if (hc_is(v, "inconclusive"))
        return "verdict-inconclusive";
    return "muted";
}

static void hc_label(FILE *out, const json_t *m)
{
    const char *name = hc_str(m, "metric");
    const char *fn = hc_str(m, "function");
    if (fn) {
        fputs(hc_is(name, "self_s") ? "self time of <code>" : "total time of <code>", out);
        hc_esc(out, fn);
        fputs("</code>", out);
    } else if (hc_is(name, "wall_s")) {
        fputs("wall time", out);
    } else if (hc_is(name, "cpu_s")) {
        fputs("CPU time", out);
    } else if (hc_is(name, "peak_rss_bytes")) {
        fputs("peak memory", out);
    } else {
        hc_esc(out, name ? name : "?");
    }
}

static void hc_metric_row(FILE *out, const json_t *m)
{
    const char *v = hc_str(m, "verdict");
    double x, lo, hi;
    fputs("<tr><td>", out);
    hc_label(out, m);
    fputs("</td><td class=\"num\">", out);
    hc_value(out, m, "baseline_median");
    fputs("</td><td class=\"num\">", out);
    hc_value(out, m, "candidate_median");
    fputs("</td><td class=\"num\">", out);
    if (hc_num(m, "change_pct", &x))
        fprintf(out, "%+.2f%%", x);
    fputs("</td><td class=\"num\">", out);
    if (hc_num(m, "ci_low_pct", &lo) && hc_num(m, "ci_high_pct", &hi))
        fprintf(out, "%+.1f%% \xe2\x80\xa6 %+.1f%%", lo, hi);
    fputs("</td><td class=\"num\">", out);
    if (hc_num(m, "p_value", &x) && x < 0.001)
        fputs("&lt;0.001", out);
    else if (hc_num(m, "p_value", &x))
        fprintf(out, "%.3f", x);
    fputs("</td><td class=\"num\">", out);
    if (hc_num(m, "noise_pct", &x))
        fprintf(out, "%.1f%%", x);
    fputs("</td><td class=\"", out);
    fputs(hc_verdict_class(v), out);
    fputs("\">", out);
    hc_esc(out, v ? v : "?");
    const char *hint = hc_str(m, "hint");
    if (hint) {
        fputs(" <span class=\"note\">", out);
        hc_esc(out, hint);
        fputs("</span>", out);
    }
    if (hc_is(hc_str(m, "mode"), "threshold"))
        fputs(" <span class=\"note\">(threshold mode)</span>", out);
    fputs("</td></tr>\n", out);
}

void html_compare_regression(FILE *out, const json_t *reg)
{
    if (!json_is_object(reg)) {
        fputs("<p class=\"muted\">No regression check (the script did not end normally).</p>\n",
              out);
        return;
    }
    if (!hc_is(hc_str(reg, "status"), "compared")) {
        fputs("<p class=\"muted\">No baseline: ", out);
        const char *msg = hc_str(reg, "message");
        hc_esc(out, msg ? msg : "nothing to compare with");
        fputs("</p>\n", out);
        return;
    }
    fputs("<div class=\"table-wrap\"><table><thead><tr><th>Metric</th><th class=\"num\">"
          "Baseline median</th><th class=\"num\">Candidate median</th><th class=\"num\">Change"
          "</th><th class=\"num\">95% CI</th><th class=\"num\">p</th><th class=\"num\">Noise</th>"
          "<th>Verdict</th></tr></thead><tbody>\n",
          out);
    size_t i, shown = 0;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *v = hc_str(m, "verdict");
        if (hc_str(m, "function") && !hc_is(v, "regression") && !hc_is(v, "improvement"))
            continue;
        if (shown++ < HTML_COMPARE_MAX_ROWS)
            hc_metric_row(out, m);
    }
    fputs("</tbody></table></div>\n", out);
    double thr;
    const json_t *base = json_object_get(reg, "baseline");
    double nr;
    fputs("<p class=\"note\">", out);
    if (hc_num(reg, "threshold_pct", &thr))
        fprintf(out, "Threshold %g%%. ", thr);
    if (hc_num(base, "n_runs", &nr))
        fprintf(out, "Baseline: %.0f run%s. ", nr, nr == 1 ? "" : "s");
    fputs("Verdicts: Mann\xe2\x80\x93Whitney U, bootstrap CI of the ratio of medians and the "
          "baseline's run-to-run noise (docs/json-schema.md).</p>\n",
          out);
    const json_t *why = json_object_get(reg, "why");
    const json_t *fns = json_object_get(why, "functions");
    if (json_array_size(fns)) {
        fputs("<h3>Functions that explain the change (self time, candidate vs baseline "
              "median)</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>Function</th>"
              "<th class=\"num\">\xce\x94 self time</th><th class=\"num\">Share of the change"
              "</th></tr></thead><tbody>\n",
              out);
        const json_t *f;
        json_array_foreach(fns, i, f)
        {
            if (i == HTML_COMPARE_MAX_ROWS)
                break;
            double d, share;
            fputs("<tr><td><code>", out);
            hc_esc(out, hc_str(f, "key"));
            fputs("</code></td><td class=\"num\">", out);
            if (hc_num(f, "delta_s", &d))
                fprintf(out, "%+.4f s", d);
            fputs("</td><td class=\"num\">", out);
            if (hc_num(f, "share_pct", &share))
                fprintf(out, "%.0f%%", share);
            fputs("</td></tr>\n", out);
        }
        fputs("</tbody></table></div>\n", out);
    }
    static const char *const lists[][2] = {{"appeared", "New functions"},
                                           {"vanished", "Gone functions"}};
    for (size_t k = 0; k < 2; k++) {
        const json_t *arr = json_object_get(why, lists[k][0]);
        if (!json_array_size(arr))
            continue;
        fprintf(out, "<p>%s: ", lists[k][1]);
        const json_t *s;
        json_array_foreach(arr, i, s)
        {
            if (i == HTML_COMPARE_MAX_ROWS)
                break;
            fputs(i ? ", <code>" : "<code>", out);
            hc_esc(out, json_string_value(s));
            fputs("</code>", out);
        }
        fputs("</p>\n", out);
    }
    if (json_is_true(json_object_get(why, "script_changed")))
        fputs("<p class=\"warn\">The script changed since the baseline (sha256 differs).</p>\n",
              out);
    if (json_is_true(json_object_get(why, "python_changed")))
        fputs("<p class=\"warn\">The Python build changed since the baseline.</p>\n", out);
    if (json_is_true(json_object_get(why, "host_changed")))
        fputs("<p class=\"warn\">The host changed since the baseline.</p>\n", out);
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
    hc_num(summary, key, &v);
    fprintf(out,
            "<div class=\"card\"><div class=\"label\">%s</div><div class=\"value%s%s\">%.0f"
            "</div></div>\n",
            label, v > 0 && cls ? " " : "", v > 0 && cls ? cls : "", v);
}

int html_compare_write(FILE *out, const json_t *cmp, char *err, size_t errlen)
{
    if (!json_is_object(cmp) || !hc_is(hc_str(cmp, "schema"), "pyscope.compare/1")) {
        if (err && errlen)
            snprintf(err, errlen, "not a pyscope.compare/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    const json_t *comps = json_object_get(cmp, "comparisons");
    struct html_page page = {.title = "PyScope comparison"};
    html_page_open(out, &page);
    html_page_header(out, "comparison");
    fputs("<dl class=\"meta\">\n", out);
    double thr;
    if (hc_num(cmp, "threshold_pct", &thr))
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
        const char *script = hc_str(cand, "script");
        hc_esc(out, script ? script : "(unknown script)");
        fputs("</h2>\n<dl class=\"meta\">\n", out);
        hc_meta(out, "Candidate", hc_str(cand, "file"));
        hc_meta(out, "Run id", hc_str(cand, "id"));
        hc_meta(out, "Created", hc_str(cand, "created"));
        hc_meta(out, "Host", hc_str(cand, "host"));
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
        const char *note = hc_str(c, "note");
        if (note) {
            fputs("<p class=\"warn\">", out);
            hc_esc(out, note);
            fputs("</p>\n", out);
        }
        html_compare_regression(out, json_object_get(c, "regression"));
        fputs("</section>\n", out);
    }
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
