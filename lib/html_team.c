/*
 * html_team.c - render pyscope.team_report/1 as static HTML.
 *
 * Design notes: plain tables, no JavaScript (nothing to fail in a browser
 * console); every string goes through html_write_escaped(), numbers through
 * printf with fixed formats.
 */
#include "html_team.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "errors.h"
#include "html_range.h"
#include "html_report.h"

static void esc(FILE *out, const char *s)
{
    if (s == NULL || *s == '\0')
        s = "-";
    html_write_escaped(out, s, strlen(s));
}

/* A JSON string member (escaped) or "-". */
static void esc_field(FILE *out, const json_t *obj, const char *key)
{
    esc(out, json_string_value(json_object_get(obj, key)));
}

static bool num(const json_t *obj, const char *key, double *v)
{
    const json_t *j = json_object_get(obj, key);
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return isfinite(*v);
}

/* How num_field() prints a number. */
enum nf { NF_DELTA_S, NF_PCT, NF_P, NF_G4, NF_SEC, NF_RATIO };

/* obj.key printed as f, or "-" when it is not a finite number. */
static void num_field(FILE *out, const json_t *obj, const char *key, enum nf f)
{
    double v;
    if (!num(obj, key, &v)) {
        fputs("-", out);
        return;
    }
    switch (f) {
    case NF_DELTA_S:
        fprintf(out, "%+.4fs", v);
        break;
    case NF_PCT:
        fprintf(out, "%+.1f%%", v);
        break;
    case NF_P:
        fprintf(out, "%.2g", v);
        break;
    case NF_G4:
        fprintf(out, "%.4g", v);
        break;
    case NF_SEC:
        fprintf(out, "%.4gs", v);
        break;
    case NF_RATIO:
        fprintf(out, "%.3f", v);
        break;
    }
}

static void int_field(FILE *out, const json_t *obj, const char *key)
{
    const json_t *j = json_object_get(obj, key);
    if (json_is_integer(j))
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    else
        fputs("-", out);
}

static const char CSS[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    "th{background:#f3f3f3}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".regression{background:#fde2e1}.improvement{background:#e1f5e4}.ok{background:#fff}"
    ".state{font-weight:bold}.why{font-family:monospace;font-size:.9em}"
    ".muted{color:#777}code{font-family:monospace}";

static void write_head(FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>PyScope team report</title>\n<style>",
          out);
    fputs(CSS, out);
    fputs("</style>\n</head>\n<body>\n<h1>PyScope team report</h1>\n", out);
}

static void write_batches(FILE *out, const json_t *batches)
{
    fprintf(out, "<h2>Batches (%zu)</h2>\n", json_array_size(batches));
    if (json_array_size(batches) == 0) {
        fputs("<p class=\"muted\">No batch in this window.</p>\n", out);
        return;
    }
    fputs("<table id=\"batches\"><tr><th>Batch</th><th>Suite</th><th>Label</th><th>Commit</th>"
          "<th>Finished</th><th>State</th><th>Jobs</th><th>Failed</th><th>Runs</th>"
          "<th>Series</th></tr>\n",
          out);
    size_t i;
    const json_t *b;
    json_array_foreach(batches, i, b)
    {
        fputs("<tr><td class=\"n\">", out);
        int_field(out, b, "id");
        fputs("</td><td>", out);
        esc_field(out, b, "suite");
        fputs("</td><td>", out);
        esc_field(out, b, "label");
        fputs("</td><td><code>", out);
        esc_field(out, b, "commit");
        fputs("</code></td><td>", out);
        esc_field(out, b, "finished");
        fputs("</td><td>", out);
        esc_field(out, b, "state");
        fputs(json_is_true(json_object_get(b, "analyzed")) ? " (analysed)" : "", out);
        fputs("</td><td class=\"n\">", out);
        int_field(out, b, "jobs");
        fputs("</td><td class=\"n\">", out);
        int_field(out, b, "jobs_failed");
        fputs("</td><td class=\"n\">", out);
        int_field(out, b, "runs");
        fputs("</td><td class=\"n\">", out);
        int_field(out, b, "series");
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

static void write_why(FILE *out, const json_t *why)
{
    const json_t *fns = json_object_get(why, "functions");
    size_t i;
    const json_t *f;
    bool any = false;
    json_array_foreach(fns, i, f)
    {
        if (i >= 3)
            break;
        fputs(any ? "<br>" : "", out);
        esc_field(out, f, "key");
        fputs(" ", out);
        num_field(out, f, "delta_s", NF_DELTA_S);
        double share;
        if (num(f, "share_pct", &share))
            fprintf(out, " (%.0f%%)", share);
        any = true;
    }
    static const char *const flags[][2] = {{"script_changed", "script changed"},
                                           {"python_changed", "Python build changed"},
                                           {"host_changed", "host changed"}};
    for (size_t k = 0; k < 3; k++) {
        if (json_is_true(json_object_get(why, flags[k][0]))) {
            fprintf(out, "%s<b>%s</b>", any ? "<br>" : "", flags[k][1]);
            any = true;
        }
    }
    if (!any)
        fputs("-", out);
}

/* The state cell: "new", "confirmed (N runs)", "ack", ... with the note. */
static void write_state(FILE *out, const json_t *g)
{
    const char *st = json_string_value(json_object_get(g, "state"));
    fputs("<span class=\"state\">", out);
    esc(out, st);
    const json_t *cr = json_object_get(g, "confirm_runs");
    if (st && strcmp(st, "confirmed") == 0 && json_is_integer(cr))
        fprintf(out, " (%" JSON_INTEGER_FORMAT " runs)", json_integer_value(cr));
    fputs("</span>", out);
    /* an open regression found again by later batches (schema 004) */
    const json_t *nights = json_object_get(g, "nights");
    const json_t *first = json_object_get(g, "batch_id"),
                 *last = json_object_get(g, "last_batch_id");
    if (json_is_integer(nights) && json_integer_value(nights) > 1 && json_is_integer(first) &&
        json_is_integer(last))
        fprintf(out,
                "<br><span class=\"muted\">ongoing: %" JSON_INTEGER_FORMAT
                " nights, since batch %" JSON_INTEGER_FORMAT ", latest batch %" JSON_INTEGER_FORMAT
                "</span>",
                json_integer_value(nights), json_integer_value(first), json_integer_value(last));
    const char *note = json_string_value(json_object_get(g, "note"));
    if (note && *note) {
        fputs("<br><span class=\"muted\">", out);
        esc(out, note);
        fputs("</span>", out);
    }
}

/* How many of a list there are in all: the report's total (the list may stop at its limit). */
static size_t list_total(const json_t *rep, const char *key, const json_t *list)
{
    const json_t *t = json_object_get(rep, key);
    size_t shown = json_array_size(list);
    return json_is_integer(t) && json_integer_value(t) > (json_int_t)shown
               ? (size_t)json_integer_value(t)
               : shown;
}

static void write_changes(FILE *out, const char *title, const char *id, const json_t *list,
                          size_t total)
{
    fprintf(out, "<h2>%s (%zu)</h2>\n", title, total);
    if (total > json_array_size(list))
        fprintf(out,
                "<p class=\"more\" id=\"%s-more\">The worst %zu are listed, and %zu more: "
                "<code>pyscope report --limit N</code> lists up to 1000, <code>--json</code> "
                "gives them to a script.</p>\n",
                id, json_array_size(list), total - json_array_size(list));
    if (json_array_size(list) == 0) {
        fputs("<p class=\"muted\">None.</p>\n", out);
        return;
    }
    fprintf(out,
            "<table id=\"%s\"><tr><th>ID</th><th>Script</th><th>Host</th><th>Metric</th>"
            "<th>Change</th><th>95%% CI</th><th>p</th><th>q</th><th>Baseline &rarr; now</th>"
            "<th>Why (functions)</th><th>Commits</th><th>State</th><th>Batch</th></tr>\n",
            id);
    size_t i;
    const json_t *g;
    json_array_foreach(list, i, g)
    {
        const char *kind = json_string_value(json_object_get(g, "kind"));
        fprintf(out, "<tr class=\"%s\"><td class=\"n\">",
                kind && strcmp(kind, "improvement") == 0 ? "improvement" : "regression");
        int_field(out, g, "id");
        fputs("</td><td>", out);
        esc_field(out, g, "script");
        fputs("</td><td title=\"", out);
        esc_field(out, g, "python_build");
        fputs("\">", out);
        esc_field(out, g, "host");
        fputs("</td><td>", out);
        esc_field(out, g, "metric");
        const char *fn = json_string_value(json_object_get(g, "function"));
        if (fn) {
            fputs("<br><code>", out);
            esc(out, fn);
            fputs("</code>", out);
        }
        fputs("</td><td class=\"n\">", out);
        num_field(out, g, "change_pct", NF_PCT);
        fputs("</td><td class=\"n\">", out);
        num_field(out, g, "ci_low_pct", NF_PCT);
        fputs(" &hellip; ", out);
        num_field(out, g, "ci_high_pct", NF_PCT);
        fputs("</td><td class=\"n\">", out);
        num_field(out, g, "p_value", NF_P);
        fputs("</td><td class=\"n\">", out);
        num_field(out, g, "q_value", NF_P);
        fputs("</td><td class=\"n\">", out);
        num_field(out, g, "baseline_median", NF_G4);
        fputs(" &rarr; ", out);
        num_field(out, g, "candidate_median", NF_G4);
        fputs(" <span class=\"muted\">(", out);
        int_field(out, g, "baseline_runs");
        fputs(" runs)</span></td><td class=\"why\">", out);
        write_why(out, json_object_get(g, "why"));
        fputs("</td><td class=\"commits\">", out);
        html_range_write(out, json_object_get(g, "range"));
        fputs("</td><td>", out);
        write_state(out, g);
        fputs("</td><td class=\"n\">", out);
        int_field(out, g, "batch_id");
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* cells (borrowed) indexed by host, then script: {host: {script: cell}} (new). */
static json_t *index_cells(const json_t *cells)
{
    json_t *index = json_object();
    size_t i;
    const json_t *c;
    json_array_foreach(cells, i, c)
    {
        const char *s = json_string_value(json_object_get(c, "script"));
        const char *h = json_string_value(json_object_get(c, "host"));
        if (!s || !h)
            continue;
        json_t *by_script = json_object_get(index, h);
        if (by_script == NULL)
            json_object_set_new_nocheck(index, h, by_script = json_object());
        if (json_object_get(by_script, s) == NULL) /* the first one, as a linear search */
            json_object_set_nocheck(by_script, s, (json_t *)c);
    }
    return index;
}

static void write_matrix(FILE *out, const json_t *matrix)
{
    const json_t *hosts = json_object_get(matrix, "hosts");
    const json_t *scripts = json_object_get(matrix, "scripts");
    const json_t *cells = json_object_get(matrix, "cells");
    fputs("<h2>Scripts &times; hosts (median wall time)</h2>\n", out);
    if (json_array_size(hosts) == 0 || json_array_size(scripts) == 0) {
        fputs("<p class=\"muted\">No runs.</p>\n", out);
        return;
    }
    fputs("<table id=\"matrix\"><tr><th>Script</th>", out);
    json_t *index = index_cells(cells);
    size_t i, j;
    const json_t *h, *s;
    json_array_foreach(hosts, i, h)
    {
        fputs("<th>", out);
        esc(out, json_string_value(h));
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    json_array_foreach(scripts, i, s)
    {
        const char *script = json_string_value(s);
        fputs("<tr><td>", out);
        esc(out, script);
        fputs("</td>", out);
        json_array_foreach(hosts, j, h)
        {
            const char *host = json_string_value(h);
            const json_t *c =
                script && host ? json_object_get(json_object_get(index, host), script) : NULL;
            if (c == NULL) {
                fputs("<td class=\"muted\">-</td>", out);
                continue;
            }
            const char *st = json_string_value(json_object_get(c, "status"));
            bool known = st && (strcmp(st, "regression") == 0 || strcmp(st, "improvement") == 0);
            fprintf(out, "<td class=\"n %s\">", known ? st : "ok");
            num_field(out, c, "median_wall_s", NF_SEC);
            if (known)
                fprintf(out, "<br>%s", st);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
    json_decref(index);
}

static void write_hardware(FILE *out, const json_t *hw)
{
    fputs("<h2>Hardware comparison (same script, host B / host A)</h2>\n", out);
    if (json_array_size(hw) == 0) {
        fputs("<p class=\"muted\">No script ran on two hosts.</p>\n", out);
        return;
    }
    fputs("<table id=\"hardware\"><tr><th>Script</th><th>Host A</th><th>Host B</th>"
          "<th>B / A (median wall)</th><th>95% CI</th><th>Samples</th></tr>\n",
          out);
    size_t i;
    const json_t *c;
    json_array_foreach(hw, i, c)
    {
        fputs("<tr><td>", out);
        esc_field(out, c, "script");
        fputs("</td><td>", out);
        esc_field(out, c, "host_a");
        fputs("</td><td>", out);
        esc_field(out, c, "host_b");
        fputs("</td><td class=\"n\">", out);
        num_field(out, c, "ratio", NF_RATIO);
        fputs("</td><td class=\"n\">", out);
        num_field(out, c, "ci_low", NF_RATIO);
        fputs(" &hellip; ", out);
        num_field(out, c, "ci_high", NF_RATIO);
        fputs("</td><td class=\"n\">", out);
        int_field(out, c, "samples_a");
        fputs(" / ", out);
        int_field(out, c, "samples_b");
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

int html_team_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    const json_t *rep = json_object_get(doc, "report");
    if (rep == NULL)
        rep = doc;
    if (!json_is_object(rep) || !json_is_array(json_object_get(rep, "regressions"))) {
        if (errlen)
            snprintf(err, errlen, "not a pyscope.team_report/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    write_head(out);
    const json_t *regs = json_object_get(rep, "regressions");
    const json_t *imps = json_object_get(rep, "improvements");
    size_t open = 0, i;
    const json_t *g;
    json_array_foreach(regs, i, g)
    {
        const char *st = json_string_value(json_object_get(g, "state"));
        if (st && (strcmp(st, "new") == 0 || strcmp(st, "confirmed") == 0))
            open++;
    }
    size_t n_regs = list_total(rep, "regressions_total", regs);
    size_t n_imps = list_total(rep, "improvements_total", imps);
    fprintf(out,
            "<p id=\"summary\">%zu regression%s (%zu open%s), %zu improvement%s, "
            "%zu batch%s.</p>\n",
            n_regs, n_regs == 1 ? "" : "s", open,
            n_regs > json_array_size(regs) ? " of those listed" : "", n_imps,
            n_imps == 1 ? "" : "s", json_array_size(json_object_get(rep, "batches")),
            json_array_size(json_object_get(rep, "batches")) == 1 ? "" : "es");
    write_batches(out, json_object_get(rep, "batches"));
    write_changes(out, "Regressions", "regressions", regs, n_regs);
    write_changes(out, "Improvements", "improvements", imps, n_imps);
    write_matrix(out, json_object_get(rep, "matrix"));
    write_hardware(out, json_object_get(rep, "hardware"));
    fputs("<p class=\"muted\">Every change is a ratio of medians against the series' baseline "
          "with a 95% bootstrap interval; p is a two-sided Mann&ndash;Whitney U test, q its "
          "Benjamini&ndash;Hochberg adjustment over the batch.</p>\n</body>\n</html>\n",
          out);
    if (ferror(out)) {
        if (errlen)
            snprintf(err, errlen, "could not write the report");
        return -EIO;
    }
    return 0;
}
