/*
 * html_history.c - the trend page of `pyscope history`.
 *
 * The chart is an inline SVG drawn from numbers computed here: x is the run's
 * position in the series (runs are not evenly spaced in time, and equal
 * spacing keeps every run visible), y the series' metric (wall time, or the
 * document's "metric": CPU time, instructions in millions) on a linear axis with
 * "nice" ticks. Each point carries an SVG <title> (a native tooltip, no
 * JavaScript). Runs whose values are missing or not finite are skipped.
 */
#include "html_history.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "errors.h"
#include "html_compare.h"
#include "html_page.h"
#include "html_report.h"
#include "jsonutil.h"

#define HH_MAX_ROWS 1000 /* table rows and chart points */
#define HH_W        900.0
#define HH_H        320.0
#define HH_L        70.0 /* margins */
#define HH_R        20.0
#define HH_T        20.0
#define HH_B        40.0

static bool hh_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* The series' metric: the names of its statistics and how its values read. */
struct hh_metric {
    char med[64], q1[64], q3[64], min[64], max[64], before[80], after[80];
    const char *label; /* "wall time" */
    const char *head;  /* table heading: "Median wall" */
    const char *unit;  /* after a value: "s" or "M" (millions) */
    double scale;      /* value shown = value * scale */
};

/* The metric of doc: its "metric" field (pyscope history --metric), else wall_s. */
static void hh_metric_init(struct hh_metric *hm, const json_t *doc)
{
    const char *m = json_get_string(doc, "metric", NULL);
    if (!m)
        m = "wall_s";
    snprintf(hm->med, sizeof(hm->med), "median_%.50s", m);
    snprintf(hm->q1, sizeof(hm->q1), "q1_%.50s", m);
    snprintf(hm->q3, sizeof(hm->q3), "q3_%.50s", m);
    snprintf(hm->min, sizeof(hm->min), "min_%.50s", m);
    snprintf(hm->max, sizeof(hm->max), "max_%.50s", m);
    snprintf(hm->before, sizeof(hm->before), "before_median_%.50s", m);
    snprintf(hm->after, sizeof(hm->after), "after_median_%.50s", m);
    bool instr = hh_is(m, "instructions");
    hm->label = instr ? "instructions" : hh_is(m, "cpu_s") ? "CPU time" : "wall time";
    hm->head = instr ? "Median instr" : hh_is(m, "cpu_s") ? "Median CPU" : "Median wall";
    hm->unit = instr ? "M" : "s";
    hm->scale = instr ? 1e-6 : 1;
}

static const char *hh_verdict_class(const char *v)
{
    if (hh_is(v, "regression"))
        return "regression";
    if (hh_is(v, "improvement"))
        return "improvement";
    if (hh_is(v, "inconclusive"))
        return "inconclusive";
    return "plain";
}

/* A run's values for the chart, in display units; false when unusable. */
static bool hh_run_values(const struct hh_metric *hm, const json_t *r, double *med, double *q1,
                          double *q3, double *lo, double *hi)
{
    if (!json_get_finite(r, hm->med, med))
        return false;
    if (!json_get_finite(r, hm->q1, q1))
        *q1 = *med;
    if (!json_get_finite(r, hm->q3, q3))
        *q3 = *med;
    if (!json_get_finite(r, hm->min, lo))
        *lo = *q1;
    if (!json_get_finite(r, hm->max, hi))
        *hi = *q3;
    *med *= hm->scale;
    *q1 *= hm->scale;
    *q3 *= hm->scale;
    *lo *= hm->scale;
    *hi *= hm->scale;
    return true;
}

static double hh_nice_step(double range)
{
    double raw = range / 5;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void hh_chart(FILE *out, const json_t *runs, const struct hh_metric *hm)
{
    size_t n = json_array_size(runs);
    if (n > HH_MAX_ROWS)
        n = HH_MAX_ROWS;
    double ymin = INFINITY, ymax = -INFINITY;
    size_t usable = 0;
    for (size_t i = 0; i < n; i++) {
        double med, q1, q3, lo, hi;
        if (!hh_run_values(hm, json_array_get(runs, i), &med, &q1, &q3, &lo, &hi))
            continue;
        usable++;
        ymin = fmin(ymin, fmin(lo, med));
        ymax = fmax(ymax, fmax(hi, med));
    }
    if (usable == 0) {
        fputs("<p class=\"muted\">No run to draw.</p>\n", out);
        return;
    }
    double pad = (ymax - ymin) * 0.08;
    if (!(pad > 0))
        pad = fmax(fabs(ymax) * 0.05, 1e-6);
    ymin = fmax(0, ymin - pad);
    ymax += pad;
    double step = hh_nice_step(ymax - ymin);
    if (!(step > 0) || !isfinite(step))
        step = ymax;
    double pw = HH_W - HH_L - HH_R, ph = HH_H - HH_T - HH_B;
#define HH_X(i) (HH_L + (n > 1 ? pw * (double)(i) / (double)(n - 1) : pw / 2))
#define HH_Y(v) (HH_T + ph * (1 - ((v)-ymin) / (ymax - ymin)))
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"median "
            "%s per run\">\n",
            HH_W, HH_H, hm->label);
    int ticks = 0;
    for (double t = ceil(ymin / step) * step; t <= ymax && ticks < 20; t += step, ticks++) {
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g %s</text>\n",
                HH_L, HH_W - HH_R, HH_Y(t), HH_Y(t), HH_L - 6, HH_Y(t) + 4, t, hm->unit);
    }
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n"
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
            HH_L, HH_L, HH_T, HH_T + ph, HH_L, HH_W - HH_R, HH_T + ph, HH_T + ph);
    /* change points: a dashed line halfway between the last run before and the first after */
    for (size_t i = 1; i < n; i++) {
        const json_t *r = json_array_get(runs, i);
        if (!json_is_true(json_object_get(r, "change_point")))
            continue;
        double x = (HH_X(i - 1) + HH_X(i)) / 2;
        fprintf(out,
                "<line class=\"cp\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"cpl\" x=\"%.1f\" y=\"%.1f\">change point</text>\n",
                x, x, HH_T, HH_T + ph, x + 4, HH_T + 10);
    }
    /* spread: min..max whisker and IQR bar */
    for (size_t i = 0; i < n; i++) {
        double med, q1, q3, lo, hi;
        if (!hh_run_values(hm, json_array_get(runs, i), &med, &q1, &q3, &lo, &hi))
            continue;
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<line class=\"spread\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                HH_X(i), HH_X(i), HH_Y(lo), HH_Y(hi), HH_X(i), HH_X(i), HH_Y(q1), HH_Y(q3));
    }
    /* the median line */
    fputs("<polyline class=\"median\" points=\"", out);
    for (size_t i = 0; i < n; i++) {
        double med, q1, q3, lo, hi;
        if (hh_run_values(hm, json_array_get(runs, i), &med, &q1, &q3, &lo, &hi))
            fprintf(out, "%.1f,%.1f ", HH_X(i), HH_Y(med));
    }
    fputs("\"/>\n", out);
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(runs, i);
        double med, q1, q3, lo, hi;
        if (!hh_run_values(hm, r, &med, &q1, &q3, &lo, &hi))
            continue;
        const char *v = json_get_string(r, "verdict", NULL);
        fprintf(out, "<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"><title>",
                hh_verdict_class(v), HH_X(i), HH_Y(med), hh_is(v, "regression") ? "5" : "3.5");
        html_write_str(out, json_get_string(r, "created", NULL));
        fprintf(out, " \xe2\x80\x94 median %.4f %s (IQR %.4f\xe2\x80\x93%.4f %s) \xe2\x80\x94 ",
                med, hm->unit, q1, q3, hm->unit);
        html_write_str(out, v ? v : "?");
        fputs("</title></circle>\n", out);
    }
    /* x labels: first and last date */
    const char *first = json_get_string(json_array_get(runs, 0), "created", NULL);
    const char *last = json_get_string(json_array_get(runs, n - 1), "created", NULL);
    if (first) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", HH_L, HH_H - 12);
        html_write_escaped(out, first, strnlen(first, 16));
        fputs("</text>\n", out);
    }
    if (last && n > 1) {
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", HH_W - HH_R, HH_H - 12);
        html_write_escaped(out, last, strnlen(last, 16));
        fputs("</text>\n", out);
    }
    fprintf(out,
            "</svg>\n<p class=\"note\">Line: median %s per run; bar: interquartile range; "
            "whisker: min\xe2\x80\x93max; red points: regressions against the run's own baseline; "
            "dashed: change points.</p>\n",
            hm->label);
#undef HH_X
#undef HH_Y
}

/* A run id as <code> of its first 8 characters, the whole id as its title. */
static void hh_short_id(FILE *out, const char *id)
{
    fputs("<code title=\"", out);
    html_write_str(out, id);
    fputs("\">", out);
    if (id)
        html_write_escaped(out, id, strnlen(id, 8));
    fputs("</code>", out);
}

static void hh_table(FILE *out, const json_t *runs, const struct hh_metric *hm)
{
    fprintf(out,
            "<div class=\"table-wrap\"><table><thead><tr><th>Date (UTC)</th><th>Run id</th>"
            "<th class=\"num\">%s</th><th class=\"num\">IQR</th><th class=\"num\">Min"
            "</th><th class=\"num\">Max</th><th class=\"num\">n</th><th>Verdict vs its baseline"
            "</th><th>Report</th></tr></thead><tbody>\n",
            hm->head);
    size_t i, k2;
    const json_t *r, *g;
    json_array_foreach(runs, i, r)
    {
        if (i == HH_MAX_ROWS)
            break;
        bool cp = json_is_true(json_object_get(r, "change_point"));
        double med, q1, q3, lo, hi, n;
        bool ok = hh_run_values(hm, r, &med, &q1, &q3, &lo, &hi);
        fputs(cp ? "<tr class=\"cp-row\"><td>" : "<tr><td>", out);
        html_write_str(out, json_get_string(r, "created", NULL));
        if (cp)
            fputs(" <span class=\"warn\">\xe2\x97\x86 change point</span>", out);
        fputs("</td><td>", out);
        hh_short_id(out, json_get_string(r, "id", NULL));
        fputs("</td>", out);
        if (ok)
            fprintf(out,
                    "<td class=\"num\">%.4f %s</td><td class=\"num\">%.4f\xe2\x80\x93%.4f %s</td>"
                    "<td class=\"num\">%.4f %s</td><td class=\"num\">%.4f %s</td>",
                    med, hm->unit, q1, q3, hm->unit, lo, hm->unit, hi, hm->unit);
        else
            fputs("<td></td><td></td><td></td><td></td>", out);
        fputs("<td class=\"num\">", out);
        if (json_get_finite(r, "n", &n))
            fprintf(out, "%.0f", n);
        const char *v = json_get_string(r, "verdict", NULL);
        fprintf(out, "</td><td class=\"verdict-%s\">", hh_verdict_class(v));
        html_write_str(out, v ? v : "?");
        double c;
        if (json_get_finite(r, "change_pct", &c))
            fprintf(out, " (%+.1f%%)", c);
        const json_t *regs = json_object_get(r, "regressions");
        if (json_array_size(regs) && !hh_is(v, "regression")) {
            fputs(" <span class=\"note\">regressed: ", out);
            size_t k;
            const json_t *s;
            json_array_foreach(regs, k, s)
            {
                if (k)
                    fputs(", ", out);
                html_write_str(out, json_string_value(s));
            }
            fputs("</span>", out);
        }
        const json_t *stored = json_object_get(r, "stored_regressions");
        json_array_foreach(stored, k2, g)
        {
            double gid = 0;
            json_get_finite(g, "id", &gid);
            fprintf(out, " <span class=\"%s\">farm: ",
                    hh_is(json_get_string(g, "kind", NULL), "regression") ? "bad" : "ok");
            html_write_str(out, json_get_string(g, "kind", NULL));
            fprintf(out, " #%.0f ", gid);
            html_write_str(out, json_get_string(g, "metric", NULL));
            fputs(", ", out);
            html_write_str(out, json_get_string(g, "state", NULL));
            fputs("</span>", out);
        }
        const char *file = json_get_string(r, "file", NULL);
        const char *base = file ? strrchr(file, '/') : NULL;
        double batch;
        if (!file && json_get_finite(r, "batch_id", &batch)) {
            fprintf(out, "</td><td>batch %.0f</td></tr>\n", batch);
            continue;
        }
        fputs("</td><td><code title=\"", out);
        html_write_str(out, file);
        fputs("\">", out);
        html_write_str(out, base ? base + 1 : file);
        fputs("</code></td></tr>\n", out);
    }
    fputs("</tbody></table></div>\n", out);
}

/* The regressions the farm's batch analysis stored on the series (farm history only). */
static void hh_stored(FILE *out, const json_t *stored)
{
    if (json_array_size(stored) == 0)
        return;
    fputs("<section id=\"stored\">\n<h2>Stored by the farm's nightly analysis</h2>\n"
          "<div class=\"table-wrap\"><table><thead><tr><th>#</th><th>Batch</th><th>Kind</th>"
          "<th>Metric</th><th class=\"num\">Change</th><th class=\"num\">95% CI</th>"
          "<th>Run id</th><th>State</th></tr></thead><tbody>\n",
          out);
    size_t i;
    const json_t *g;
    json_array_foreach(stored, i, g)
    {
        if (i == HH_MAX_ROWS)
            break;
        double id = 0, batch = 0, c = 0, lo, hi;
        json_get_finite(g, "id", &id);
        json_get_finite(g, "batch_id", &batch);
        json_get_finite(g, "change_pct", &c);
        bool reg = hh_is(json_get_string(g, "kind", NULL), "regression");
        fprintf(out, "<tr><td>%.0f</td><td>%.0f</td><td class=\"%s\">", id, batch,
                reg ? "bad" : "ok");
        html_write_str(out, json_get_string(g, "kind", NULL));
        fputs("</td><td><code>", out);
        html_write_str(out, json_get_string(g, "metric", NULL));
        if (json_get_string(g, "function", NULL)) {
            fputs(" ", out);
            html_write_str(out, json_get_string(g, "function", NULL));
        }
        fprintf(out, "</code></td><td class=\"num\">%+.1f%%</td><td class=\"num\">", c);
        if (json_get_finite(g, "ci_low_pct", &lo) && json_get_finite(g, "ci_high_pct", &hi))
            fprintf(out, "%+.1f%% \xe2\x80\xa6 %+.1f%%", lo, hi);
        fputs("</td><td>", out);
        hh_short_id(out, json_get_string(g, "candidate_run", NULL));
        fputs("</td><td>", out);
        html_write_str(out, json_get_string(g, "state", NULL));
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table></div>\n</section>\n", out);
}

int html_history_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    if (!json_is_object(doc) || !hh_is(json_get_string(doc, "schema", NULL), "pyscope.history/1")) {
        if (err && errlen)
            snprintf(err, errlen, "not a pyscope.history/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    const char *script = json_get_string(doc, "script", NULL);
    const json_t *host = json_object_get(doc, "host");
    const json_t *runs = json_object_get(doc, "runs");
    const json_t *cps = json_object_get(doc, "change_points");
    struct hh_metric hm;
    hh_metric_init(&hm, doc);
    struct html_page page = {.title = "PyScope history"};
    html_page_open(out, &page);
    html_page_header(out, "history");
    fputs("<dl class=\"meta\">\n<dt>Script</dt><dd><code>", out);
    html_write_str(out, script ? script : "?");
    fputs("</code></dd>\n<dt>Host</dt><dd>", out);
    html_write_str(out, json_get_string(host, "hostname", NULL)
                            ? json_get_string(host, "hostname", NULL)
                            : "?");
    fputs(" <span class=\"muted\">", out);
    html_write_str(out, json_get_string(host, "fingerprint", NULL));
    fputs("</span></dd>\n<dt>Python</dt><dd>", out);
    html_write_str(out, json_get_string(doc, "python_build", NULL)
                            ? json_get_string(doc, "python_build", NULL)
                            : "?");
    double thr;
    if (json_get_finite(doc, "threshold_pct", &thr))
        fprintf(out, "</dd>\n<dt>Threshold</dt><dd>%g%%", thr);
    if (hh_is(json_get_string(doc, "source", NULL), "farm")) {
        fputs("</dd>\n<dt>From</dt><dd>the farm: <code>", out);
        html_write_str(out, json_get_string(doc, "coordinator", NULL));
        fputs("</code>", out);
    }
    fputs("</dd>\n</dl>\n</header>\n<main>\n", out);

    size_t nreg = 0, i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        if (hh_is(json_get_string(r, "verdict", NULL), "regression"))
            nreg++;
    }
    fprintf(out,
            "<section id=\"summary\">\n<div class=\"cards\">\n"
            "<div class=\"card\"><div class=\"label\">Runs</div><div class=\"value\">%zu</div>"
            "</div>\n<div class=\"card\"><div class=\"label\">Change points</div>"
            "<div class=\"value%s\">%zu</div></div>\n<div class=\"card\"><div class=\"label\">"
            "Regressions</div><div class=\"value%s\">%zu</div></div>\n",
            json_array_size(runs), json_array_size(cps) ? " warn" : "", json_array_size(cps),
            nreg ? " bad" : "", nreg);
    double med, q1, q3, lo, hi;
    if (json_array_size(runs) && hh_run_values(&hm, json_array_get(runs, json_array_size(runs) - 1),
                                               &med, &q1, &q3, &lo, &hi))
        fprintf(out,
                "<div class=\"card\"><div class=\"label\">Latest median</div>"
                "<div class=\"value\">%.4f %s</div></div>\n",
                med, hm.unit);
    fputs("</div>\n</section>\n<section id=\"trend\">\n<h2>Trend</h2>\n", out);
    hh_chart(out, runs, &hm);
    const json_t *next = json_object_get(doc, "baseline_for_next");
    fputs("<p><strong>Baseline:</strong> ", out);
    html_write_str(
        out, json_get_string(next, "message", NULL) ? json_get_string(next, "message", NULL) : "?");
    fputs(".</p>\n</section>\n", out);
    if (json_array_size(cps)) {
        fputs("<section id=\"change-points\">\n<h2>Change points</h2>\n<div class=\"table-wrap\">"
              "<table><thead><tr><th>First run of the new level</th><th>Run id</th>"
              "<th class=\"num\">Before</th><th class=\"num\">After</th><th class=\"num\">"
              "Change</th></tr></thead><tbody>\n",
              out);
        const json_t *cp;
        json_array_foreach(cps, i, cp)
        {
            double b = 0, a = 0, c = 0;
            json_get_finite(cp, hm.before, &b);
            json_get_finite(cp, hm.after, &a);
            json_get_finite(cp, "change_pct", &c);
            fputs("<tr><td>", out);
            html_write_str(out, json_get_string(cp, "created", NULL));
            fputs("</td><td><code>", out);
            html_write_str(out, json_get_string(cp, "id", NULL));
            fprintf(out,
                    "</code></td><td class=\"num\">%.4f %s</td><td class=\"num\">%.4f %s</td>"
                    "<td class=\"num %s\">%+.1f%%</td></tr>\n",
                    b * hm.scale, hm.unit, a * hm.scale, hm.unit, c > 0 ? "bad" : "ok", c);
        }
        fputs("</tbody></table></div>\n<p class=\"note\">E-divisive change points over the run "
              "medians (permutation test, p &lt; 0.05).</p>\n</section>\n",
              out);
    }
    fputs("<section id=\"runs\">\n<h2>Runs</h2>\n", out);
    hh_table(out, runs, &hm);
    fputs("</section>\n", out);
    hh_stored(out, json_object_get(doc, "stored_regressions"));
    const json_t *others = json_object_get(doc, "other_series");
    if (json_array_size(others)) {
        fputs("<section id=\"other\">\n<h2>Other hosts and Python builds</h2>\n<ul>\n", out);
        const json_t *o;
        json_array_foreach(others, i, o)
        {
            double nr = 0;
            json_get_finite(o, "runs", &nr);
            fprintf(out, "<li>%.0f run%s on ", nr, nr == 1 ? "" : "s");
            html_write_str(out, json_get_string(o, "hostname", NULL)
                                    ? json_get_string(o, "hostname", NULL)
                                    : "?");
            fputs(" (<code>", out);
            html_write_str(out, json_get_string(o, "fingerprint", NULL));
            fputs("</code>), Python ", out);
            html_write_str(out, json_get_string(o, "python_build", NULL));
            fputs("</li>\n", out);
        }
        fputs("</ul>\n<p class=\"note\">Use <code>pyscope history --host FINGERPRINT</code> to "
              "see them.</p>\n</section>\n",
              out);
    }
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
