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
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "html_axis.h"
#include "html_page.h"
#include "html_range.h"
#include "html_text.h"
#include "html_verdict.h"
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
    const char *unit;  /* html_verdict_value's unit: "s", "bytes" or "instructions" */
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
    bool instr = hh_is(m, "instructions"), rss = hh_is(m, "peak_rss_bytes");
    bool cpu = hh_is(m, "cpu_s");
    hm->label = instr ? "instructions" : cpu ? "CPU time" : rss ? "peak memory" : "wall time";
    hm->head = instr ? "Median instr" : cpu ? "Median CPU" : rss ? "Median memory" : "Median wall";
    hm->unit = instr ? "instructions" : rss ? "bytes" : "s";
}

/* v in the metric's unit for people ("1.45 s", "8.5 MiB", "183.4 M instructions"). */
static void hh_value(char *buf, size_t n, const struct hh_metric *hm, double v)
{
    html_verdict_value(buf, n, v, hm->unit);
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

/* A run's values, in the metric's unit; false when unusable. */
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
    return true;
}

/* ---- axes ----------------------------------------------------------------------------- */

/* An RFC 3339 time ("2026-11-24T08:23:14.5Z", "...+01:00") as epoch seconds. */
static bool hh_time(const char *s, double *t)
{
    int y, mo, d, h, mi, used = 0;
    double sec;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6)
        return false;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        !(sec >= 0 && sec < 61))
        return false;
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    double off = 0;
    const char *z = s + used;
    int oh, om;
    if ((z[0] == '+' || z[0] == '-') && sscanf(z + 1, "%2d:%2d", &oh, &om) == 2)
        off = (z[0] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
    *t = (double)timegm(&tm) + sec - off;
    return isfinite(*t);
}

/* A round step near range/5 in the display unit: 1, 2 or 5 times a power of ten. */
/* The display unit of the value axis: *div and its *name, chosen by the largest value. */
static void hh_axis_unit(const struct hh_metric *hm, double vmax, double *div, const char **name)
{
    if (hh_is(hm->unit, "bytes")) {
        *div = vmax >= 1073741824.0 ? 1073741824.0
               : vmax >= 1048576.0  ? 1048576.0
               : vmax >= 1024.0     ? 1024.0
                                    : 1;
        *name = *div == 1073741824.0 ? "GiB"
                : *div == 1048576.0  ? "MiB"
                : *div == 1024       ? "KiB"
                                     : "B";
    } else if (hh_is(hm->unit, "instructions")) {
        *div = vmax >= 1e9 ? 1e9 : vmax >= 1e6 ? 1e6 : vmax >= 1e3 ? 1e3 : 1;
        *name = *div == 1e9 ? "G" : *div == 1e6 ? "M" : *div == 1e3 ? "k" : "";
    } else {
        *div = vmax >= 1 ? 1 : vmax >= 1e-3 ? 1e-3 : 1e-6;
        *name = *div == 1 ? "s" : *div == 1e-3 ? "ms" : "\xc2\xb5s";
    }
}

/* A tick's value in the display unit with as many decimals as the step needs. */
static void hh_tick_label(char *buf, size_t n, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6)
        dec = 6;
    snprintf(buf, n, "%.*f", dec, v);
}

/* Time steps for the x axis (seconds); months and years are counted in calendar months. */
static const double HH_TIME_STEPS[] = {1,     2,     5,      10,     15,     30,     60,    120,
                                       300,   600,   900,    1800,   3600,   7200,   10800, 21600,
                                       43200, 86400, 172800, 345600, 604800, 1209600};
static const int HH_MONTH_STEPS[] = {1, 2, 3, 6, 12, 24, 60};

/* The first tick at or after t for a step of months (calendar), epoch seconds. */
static double hh_month_tick(double t, int months, int k)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int m0 = tm.tm_year * 12 + tm.tm_mon;
    m0 = (m0 / months + 1) * months + k * months;
    struct tm start = {.tm_year = m0 / 12, .tm_mon = m0 % 12, .tm_mday = 1};
    return (double)timegm(&start);
}

/* The tick label of time t for a step of step seconds (or months > 0). */
static void hh_time_label(char *buf, size_t n, double t, double step, int months, bool first)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    size_t w;
    if (months)
        w = strftime(buf, n, "%b %Y", &tm);
    else if (step < 60 && first)
        w = strftime(buf, n, "%b %d %H:%M:%S", &tm);
    else if (step < 60)
        w = strftime(buf, n, "%H:%M:%S", &tm);
    else if (step < 86400 && (first || (tm.tm_hour == 0 && tm.tm_min == 0)))
        w = strftime(buf, n, "%b %d %H:%M", &tm);
    else if (step < 86400)
        w = strftime(buf, n, "%H:%M", &tm);
    else if (first)
        w = strftime(buf, n, "%b %d %Y", &tm);
    else
        w = strftime(buf, n, "%b %d", &tm);
    if (w == 0)
        snprintf(buf, n, "?");
}

struct hh_point {
    size_t run; /* index in runs */
    double t;   /* x: epoch seconds, or the index when times are unusable */
    double med, q1, q3, lo, hi;
};

/* A chart's frame: the padded ranges of its two axes, the plot's size, the value axis'
 * display unit (div, uname) and tick step, and whether x is time. */
struct hh_frame {
    double tmin, tmax, ymin, ymax;
    double pw, ph;
    double div, step;
    const char *uname;
    bool by_time;
};

/* The SVG x of time (or index) t and y of value v. */
static double hh_x(const struct hh_frame *f, double t)
{
    return HH_L + f->pw * (t - f->tmin) / (f->tmax - f->tmin);
}

static double hh_y(const struct hh_frame *f, double v)
{
    return HH_T + f->ph * (1 - (v - f->ymin) / (f->ymax - f->ymin));
}

/*
 * The points of the n first runs that have hm's values (into p; returns how many) and
 * their raw ranges into f; x is the run's time when every point is dated and some time
 * passed between the first and the last, else its index.
 */
static size_t hh_collect(const json_t *runs, size_t n, const struct hh_metric *hm,
                         struct hh_point *p, struct hh_frame *f)
{
    size_t m = 0, timed = 0;
    f->ymin = INFINITY, f->ymax = -INFINITY, f->tmin = INFINITY, f->tmax = -INFINITY;
    for (size_t i = 0; p && i < n; i++) {
        const json_t *r = json_array_get(runs, i);
        struct hh_point *q = &p[m];
        if (!hh_run_values(hm, r, &q->med, &q->q1, &q->q3, &q->lo, &q->hi))
            continue;
        q->run = i;
        if (hh_time(json_get_string(r, "created", NULL), &q->t))
            timed++;
        f->ymin = fmin(f->ymin, fmin(q->lo, q->med));
        f->ymax = fmax(f->ymax, fmax(q->hi, q->med));
        m++;
    }
    for (size_t i = 0; i < m; i++) {
        f->tmin = fmin(f->tmin, p[i].t);
        f->tmax = fmax(f->tmax, p[i].t);
    }
    f->by_time = m > 1 && timed == m && f->tmax - f->tmin >= 1;
    if (!f->by_time)
        for (size_t i = 0; i < m; i++)
            p[i].t = (double)i;
    return m;
}

/* Pad f's raw ranges (m points), choose the value axis' unit and step, size the plot. */
static void hh_scale(struct hh_frame *f, size_t m, const struct hh_metric *hm)
{
    if (!f->by_time) {
        f->tmin = 0;
        f->tmax = m > 1 ? (double)(m - 1) : 1;
    }
    double tpad = (f->tmax - f->tmin) * 0.03;
    if (!(tpad > 0))
        tpad = 0.5;
    f->tmin -= tpad;
    f->tmax += tpad;
    hh_axis_unit(hm, fmax(fabs(f->ymax), fabs(f->ymin)), &f->div, &f->uname);
    double pad = (f->ymax - f->ymin) * 0.08;
    if (!(pad > 0))
        pad = fmax(fabs(f->ymax) * 0.05, 1e-9);
    f->ymin = fmax(0, f->ymin - pad);
    f->ymax += pad;
    double range = (f->ymax - f->ymin) / f->div;
    f->step = range > 0 ? html_axis_step(range, 5, HTML_AXIS_NEAREST) * f->div : NAN;
    if (!(f->step > 0) || !isfinite(f->step))
        f->step = f->ymax;
    f->pw = HH_W - HH_L - HH_R;
    f->ph = HH_H - HH_T - HH_B;
}

/* The value axis: grid lines and labels in the display unit, the unit as its title; the
 * two axis lines. */
static void hh_value_axis(FILE *out, const struct hh_frame *f, const struct hh_metric *hm)
{
    int ticks = 0;
    char lab[64];
    for (double t = ceil(f->ymin / f->step) * f->step; t <= f->ymax && ticks < 20;
         t += f->step, ticks++) {
        hh_tick_label(lab, sizeof(lab), t / f->div, f->step / f->div);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                HH_L, HH_W - HH_R, hh_y(f, t), hh_y(f, t), HH_L - 6, hh_y(f, t) + 4, lab);
    }
    fprintf(out,
            "<text class=\"axis-title\" transform=\"translate(14 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">%s (%s)</text>\n",
            HH_T + f->ph / 2, hm->label, f->uname);
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n"
            "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
            HH_L, HH_L, HH_T, HH_T + f->ph, HH_L, HH_W - HH_R, HH_T + f->ph, HH_T + f->ph);
}

/* The time axis: round steps (seconds to weeks, then calendar months), at most 7 labels;
 * without time, a title that says so. */
static void hh_time_axis(FILE *out, const struct hh_frame *f)
{
    if (!f->by_time) {
        fprintf(out,
                "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                "runs in order (no usable dates)</text>\n",
                HH_L + f->pw / 2, HH_H - 4);
        return;
    }
    double span = f->tmax - f->tmin, tstep = 0;
    int months = 0;
    for (size_t k = 0; k < sizeof(HH_TIME_STEPS) / sizeof(HH_TIME_STEPS[0]); k++)
        if (span / HH_TIME_STEPS[k] <= 7) {
            tstep = HH_TIME_STEPS[k];
            break;
        }
    for (size_t k = 0; !tstep && k < sizeof(HH_MONTH_STEPS) / sizeof(HH_MONTH_STEPS[0]); k++)
        if (span / (HH_MONTH_STEPS[k] * 30.44 * 86400) <= 6)
            months = HH_MONTH_STEPS[k];
    if (!tstep && !months)
        months = 120;
    char lab[64];
    for (int k = 0; k < 12; k++) {
        double t =
            months ? hh_month_tick(f->tmin, months, k) : (floor(f->tmin / tstep) + 1 + k) * tstep;
        if (t > f->tmax)
            break;
        hh_time_label(lab, sizeof(lab), t, tstep, months, k == 0);
        double x = hh_x(f, t);
        fprintf(out,
                "<line class=\"tick\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                x, x, HH_T + f->ph, HH_T + f->ph + 4, x, HH_T + f->ph + 17, lab);
    }
    fprintf(out,
            "<text class=\"axis-title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
            "run started (UTC)</text>\n",
            HH_L + f->pw / 2, HH_H - 4);
}

/* Change points: a dashed line between the last run before and the first after. */
static void hh_change_points(FILE *out, const struct hh_frame *f, const json_t *doc,
                             const json_t *runs, const struct hh_point *p, size_t m)
{
    const json_t *cps = json_object_get(doc, "change_points");
    char buf[96];
    for (size_t i = 1; i < m; i++) {
        const json_t *r = json_array_get(runs, p[i].run);
        if (!json_is_true(json_object_get(r, "change_point")))
            continue;
        double x = (hh_x(f, p[i - 1].t) + hh_x(f, p[i].t)) / 2, c = NAN;
        size_t k;
        const json_t *cp;
        json_array_foreach(cps, k, cp)
        {
            const json_t *idx = json_object_get(cp, "index");
            if (json_is_integer(idx) && (size_t)json_integer_value(idx) == p[i].run)
                json_get_finite(cp, "change_pct", &c);
        }
        fprintf(out, "<line class=\"cp\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x,
                HH_T, HH_T + f->ph);
        if (isfinite(c))
            snprintf(buf, sizeof(buf), "change %+.1f%%", c);
        else
            snprintf(buf, sizeof(buf), "change");
        fprintf(out, "<text class=\"cpl\" x=\"%.1f\" y=\"%.1f\"%s>%s</text>\n",
                x > HH_W - 120 ? x - 4 : x + 4, HH_T + 10,
                x > HH_W - 120 ? " text-anchor=\"end\"" : "", buf);
    }
}

/* Spread (min..max whisker and IQR bar) of each point, then the median line. */
static void hh_spread(FILE *out, const struct hh_frame *f, const struct hh_point *p, size_t m)
{
    for (size_t i = 0; i < m; i++)
        fprintf(out,
                "<line class=\"whisker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<line class=\"spread\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n",
                hh_x(f, p[i].t), hh_x(f, p[i].t), hh_y(f, p[i].lo), hh_y(f, p[i].hi),
                hh_x(f, p[i].t), hh_x(f, p[i].t), hh_y(f, p[i].q1), hh_y(f, p[i].q3));
    fputs("<polyline class=\"median\" points=\"", out);
    for (size_t i = 0; i < m; i++)
        fprintf(out, "%.1f,%.1f ", hh_x(f, p[i].t), hh_y(f, p[i].med));
    fputs("\"/>\n", out);
}

/* Each run's median as a dot by verdict, with its details as a tooltip; a ring around
 * the candidate runs of the farm's stored regressions. */
static void hh_dots(FILE *out, const struct hh_frame *f, const json_t *doc, const json_t *runs,
                    const struct hh_point *p, size_t m, const struct hh_metric *hm)
{
    const json_t *stored = json_object_get(doc, "stored_regressions");
    char buf[96], lab[64];
    for (size_t i = 0; i < m; i++) {
        const json_t *r = json_array_get(runs, p[i].run);
        const char *v = json_get_string(r, "verdict", NULL), *id = json_get_string(r, "id", NULL);
        bool ring = false;
        size_t k;
        const json_t *g;
        json_array_foreach(stored, k, g)
        {
            ring |= id && hh_is(json_get_string(g, "candidate_run", NULL), id) &&
                    hh_is(json_get_string(g, "kind", NULL), "regression");
        }
        if (ring)
            fprintf(out, "<circle class=\"ring\" cx=\"%.1f\" cy=\"%.1f\" r=\"8\"/>",
                    hh_x(f, p[i].t), hh_y(f, p[i].med));
        fprintf(out, "<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\"><title>",
                hh_verdict_class(v), hh_x(f, p[i].t), hh_y(f, p[i].med),
                hh_is(v, "regression") || hh_is(v, "improvement") ? "5" : "3.5");
        html_write_str(out, json_get_string(r, "created", NULL));
        if (id) {
            fputs(" \xc2\xb7 run ", out);
            html_write_escaped(out, id, strnlen(id, 8));
        }
        hh_value(buf, sizeof(buf), hm, p[i].med);
        fprintf(out, "\nmedian %s", buf);
        hh_value(buf, sizeof(buf), hm, p[i].q1);
        hh_value(lab, sizeof(lab), hm, p[i].q3);
        fprintf(out, " (IQR %s \xe2\x80\x93 %s)\n", buf, lab);
        html_write_str(out, v ? v : "?");
        fputs("</title></circle>\n", out);
    }
}

/* One metric's chart: the points, their frame, then the SVG in drawing order (axes,
 * change points, spread and median, dots) and its legend. */
static void hh_chart(FILE *out, const json_t *doc, const json_t *runs, const struct hh_metric *hm)
{
    size_t n = json_array_size(runs);
    if (n > HH_MAX_ROWS)
        n = HH_MAX_ROWS;
    struct hh_point *p = calloc(n ? n : 1, sizeof(*p));
    struct hh_frame f;
    size_t m = hh_collect(runs, n, hm, p, &f);
    if (m == 0) {
        fputs("<p class=\"muted\">No run to draw.</p>\n", out);
        free(p);
        return;
    }
    hh_scale(&f, m, hm);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"median "
            "%s per run\">\n",
            HH_W, HH_H, hm->label);
    hh_value_axis(out, &f, hm);
    hh_time_axis(out, &f);
    hh_change_points(out, &f, doc, runs, p, m);
    hh_spread(out, &f, p, m);
    hh_dots(out, &f, doc, runs, p, m, hm);
    fputs("</svg>\n<p class=\"legend\"><span class=\"key median\"></span>median per run "
          "<span class=\"key spread\"></span>interquartile range (whisker: min\xe2\x80\x93max) "
          "<span class=\"key dot regression\"></span>regression "
          "<span class=\"key dot improvement\"></span>improvement "
          "<span class=\"key dot inconclusive\"></span>not certain (each against its own "
          "baseline) <span class=\"key cp\"></span>change point",
          out);
    if (json_array_size(json_object_get(doc, "stored_regressions")))
        fputs(" <span class=\"key ring\"></span>the farm's stored regression", out);
    fputs("</p>\n", out);
    free(p);
}

/* A run id as <code> of its first 8 characters, the whole id as its title. */
static void hh_short_id(FILE *out, const char *id)
{
    fputs("<code class=\"id\" title=\"", out);
    html_write_str(out, id);
    fputs("\">", out);
    if (id)
        html_write_escaped(out, id, strnlen(id, 8));
    fputs("</code>", out);
}

/* v for a table cell: as hh_value, but a count of instructions without the word (the
 * heading says it), so a row does not read "1.46 G instructions – 1.47 G instructions". */
static void hh_cell(char *buf, size_t n, const struct hh_metric *hm, double v)
{
    if (hh_is(hm->unit, "instructions"))
        snprintf(buf, n, fabs(v) >= 1e9 ? "%.2f G" : "%.1f M", fabs(v) >= 1e9 ? v / 1e9 : v / 1e6);
    else
        hh_value(buf, n, hm, v);
}

/* The runs, newest first. Min, Max and n (class "opt") give way at narrow widths
 * (lib/assets/report.css), so the verdict stays in view. */
static void hh_table(FILE *out, const json_t *runs, const struct hh_metric *hm)
{
    fprintf(out,
            "<div class=\"table-wrap\"><table class=\"runs\"><thead><tr><th>Date (UTC)</th>"
            "<th>Run id</th><th class=\"num\">%s</th><th class=\"num\">IQR</th>"
            "<th class=\"num opt\">Min</th><th class=\"num opt\">Max</th>"
            "<th class=\"num opt\">n</th><th>Verdict vs its baseline</th><th>Report</th>"
            "</tr></thead><tbody>\n",
            hh_is(hm->unit, "instructions") ? "Median instructions" : hm->head);
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
        html_write_short_time(out, json_get_string(r, "created", NULL));
        if (cp)
            fputs("<br><span class=\"warn\">\xe2\x97\x86 change point</span>", out);
        fputs("</td><td>", out);
        hh_short_id(out, json_get_string(r, "id", NULL));
        fputs("</td>", out);
        if (ok) {
            char a[48], b[48], c4[48], d[48], e[48];
            hh_cell(a, sizeof(a), hm, med);
            hh_cell(b, sizeof(b), hm, q1);
            hh_cell(c4, sizeof(c4), hm, q3);
            hh_cell(d, sizeof(d), hm, lo);
            hh_cell(e, sizeof(e), hm, hi);
            fprintf(out,
                    "<td class=\"num\">%s</td><td class=\"num\">%s \xe2\x80\x93 %s</td>"
                    "<td class=\"num opt\">%s</td><td class=\"num opt\">%s</td>",
                    a, b, c4, d, e);
        } else
            fputs("<td></td><td></td><td class=\"opt\"></td><td class=\"opt\"></td>", out);
        fputs("<td class=\"num opt\">", out);
        if (json_get_finite(r, "n", &n))
            fprintf(out, "%.0f", n);
        const char *v = json_get_string(r, "verdict", NULL);
        fprintf(out, "</td><td class=\"verdict-%s\">", hh_verdict_class(v));
        html_write_str(out, html_verdict_word(v));
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
        fputs("</td><td><code class=\"cut\" title=\"", out);
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
        /* which commits, and its bisection (docs/revisions.md), as the text says them */
        const json_t *range = json_object_get(g, "range"), *bis = json_object_get(g, "bisection");
        if (json_is_object(range) || json_is_object(bis)) {
            fputs("<tr class=\"commits-row\"><td></td><td colspan=\"7\"><div class=\"commits\">",
                  out);
            if (json_is_object(range))
                html_range_write(out, range);
            html_bisection_write(out, bis);
            fputs("</div></td></tr>\n", out);
        }
    }
    fputs("</tbody></table></div>\n</section>\n", out);
}

/* /series/KEY?host=FP[&build=B][&metric=M] for a served page. */
static void hh_series_href(FILE *out, const char *key, const char *fp, const char *build,
                           const char *metric)
{
    fputs("/series/", out);
    html_write_url_part(out, key);
    fputs("?host=", out);
    html_write_url_part(out, fp);
    if (build) {
        fputs("&amp;build=", out);
        html_write_url_part(out, build);
    }
    if (metric) {
        fputs("&amp;metric=", out);
        html_write_url_part(out, metric);
    }
}

/* Served: one link per metric, the current one marked. */
static void hh_metric_tabs(FILE *out, const json_t *doc)
{
    static const char *const metrics[][2] = {{"wall_s", "Wall time"},
                                             {"cpu_s", "CPU time"},
                                             {"peak_rss_bytes", "Peak memory"},
                                             {"instructions", "Instructions"}};
    const char *cur = json_get_string(doc, "metric", NULL);
    const char *key = json_get_string(doc, "script", NULL);
    const char *fp = json_get_string(json_object_get(doc, "host"), "fingerprint", NULL);
    const char *build = json_get_string(doc, "python_build", NULL);
    if (!key || !fp)
        return;
    fputs("<nav class=\"tabs\" aria-label=\"metric\">", out);
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        bool on = cur ? strcmp(cur, metrics[i][0]) == 0 : i == 0;
        fputs("<a href=\"", out);
        hh_series_href(out, key, fp, build, i ? metrics[i][0] : NULL);
        fprintf(out, "\"%s>%s</a>", on ? " aria-current=\"page\"" : "", metrics[i][1]);
    }
    fputs("</nav>\n", out);
}

int html_history_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    return html_history_write_site(out, doc, NULL, err, errlen);
}

/* The header's facts: script, host, Python build, threshold and, from the farm, where. */
static void hh_meta(FILE *out, const json_t *doc)
{
    const char *script = json_get_string(doc, "script", NULL);
    const json_t *host = json_object_get(doc, "host");
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
        const char *coord = json_get_string(doc, "coordinator", NULL);
        fputs("</dd>\n<dt>From</dt><dd>the farm", out);
        if (coord) {
            fputs(": <code>", out);
            html_write_str(out, coord);
            fputs("</code>", out);
        }
    }
    fputs("</dd>\n</dl>\n", out);
}

/*
 * The summary cards: runs, change points (cps), regressions, the latest run's median. From
 * the farm (doc has "stored_regressions"), "Regressions" counts the farm's findings (the
 * regressions its nightly analysis stored on the series, open ones: what the team report
 * counts); a run's own verdict against its baseline is a separate, neutral card.
 */
static void hh_summary(FILE *out, const json_t *doc, const json_t *runs, const json_t *cps,
                       const struct hh_metric *hm)
{
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
            "<div class=\"value%s\">%zu</div></div>\n",
            json_array_size(runs), json_array_size(cps) ? " warn" : "", json_array_size(cps));
    const json_t *stored = json_object_get(doc, "stored_regressions");
    if (json_is_array(stored)) {
        size_t open = 0, all = 0;
        json_array_foreach(stored, i, r)
        {
            if (!hh_is(json_get_string(r, "kind", NULL), "regression"))
                continue;
            all++;
            const char *st = json_get_string(r, "state", NULL);
            if (!st || hh_is(st, "new") || hh_is(st, "confirmed") || hh_is(st, "ack"))
                open++;
        }
        fprintf(out,
                "<div class=\"card\" id=\"farm-regressions\"><div class=\"label\">Regressions"
                "</div><div class=\"value%s\">%zu</div><div class=\"sub\">open, stored by the "
                "farm (%zu in all)</div></div>\n"
                "<div class=\"card\" id=\"run-verdicts\"><div class=\"label\">Runs judged "
                "slower</div><div class=\"value\">%zu</div><div class=\"sub\">each run's own "
                "check against its baseline</div></div>\n",
                open ? " bad" : "", open, all, nreg);
    } else {
        fprintf(out,
                "<div class=\"card\"><div class=\"label\">Regressions</div>"
                "<div class=\"value%s\">%zu</div></div>\n",
                nreg ? " bad" : "", nreg);
    }
    double med, q1, q3, lo, hi;
    char vb[48];
    if (json_array_size(runs) && hh_run_values(hm, json_array_get(runs, json_array_size(runs) - 1),
                                               &med, &q1, &q3, &lo, &hi)) {
        hh_value(vb, sizeof(vb), hm, med);
        fprintf(out,
                "<div class=\"card\"><div class=\"label\">Latest median</div>"
                "<div class=\"value\">%s</div></div>\n",
                vb);
    }
    fputs("</div>\n</section>\n", out);
}

/* The change points (cps, borrowed; none: nothing) with the level before and after. */
static void hh_change_table(FILE *out, const json_t *cps, const struct hh_metric *hm)
{
    if (!json_array_size(cps))
        return;
    fputs("<section id=\"change-points\">\n<h2>Change points</h2>\n<div class=\"table-wrap\">"
          "<table><thead><tr><th>First run of the new level</th><th>Run id</th>"
          "<th class=\"num\">Before</th><th class=\"num\">After</th><th class=\"num\">"
          "Change</th></tr></thead><tbody>\n",
          out);
    size_t i;
    const json_t *cp;
    char vb[48], va[48];
    json_array_foreach(cps, i, cp)
    {
        double b = 0, a = 0, c = 0;
        json_get_finite(cp, hm->before, &b);
        json_get_finite(cp, hm->after, &a);
        json_get_finite(cp, "change_pct", &c);
        fputs("<tr><td>", out);
        html_write_str(out, json_get_string(cp, "created", NULL));
        fputs("</td><td>", out);
        hh_short_id(out, json_get_string(cp, "id", NULL));
        hh_value(vb, sizeof(vb), hm, b);
        hh_value(va, sizeof(va), hm, a);
        fprintf(out,
                "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                "<td class=\"num %s\">%+.1f%%</td></tr>\n",
                vb, va, c > 0 ? "bad" : "ok", c);
    }
    fputs("</tbody></table></div>\n<p class=\"note\">E-divisive change points over the run "
          "medians (permutation test, p &lt; 0.05).</p>\n</section>\n",
          out);
}

/* The script's other series (others, borrowed; none: nothing): linked when served (site),
 * else how to see them. */
static void hh_others(FILE *out, const json_t *others, const char *script,
                      const struct html_site *site)
{
    if (!json_array_size(others))
        return;
    fputs("<section id=\"other\">\n<h2>Other hosts and Python builds</h2>\n<ul>\n", out);
    size_t i;
    const json_t *o;
    json_array_foreach(others, i, o)
    {
        double nr = 0;
        json_get_finite(o, "runs", &nr);
        const char *ofp = json_get_string(o, "fingerprint", NULL);
        fprintf(out, "<li>%.0f run%s on ", nr, nr == 1 ? "" : "s");
        if (site && script && ofp) {
            fputs("<a href=\"", out);
            hh_series_href(out, script, ofp, json_get_string(o, "python_build", NULL), NULL);
            fputs("\">", out);
        }
        html_write_str(
            out, json_get_string(o, "hostname", NULL) ? json_get_string(o, "hostname", NULL) : "?");
        fputs(site && script && ofp ? "</a> (<code>" : " (<code>", out);
        html_write_str(out, ofp);
        fputs("</code>), Python ", out);
        html_write_str(out, json_get_string(o, "python_build", NULL));
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
    if (!site)
        fputs("<p class=\"note\">Use <code>pyscope history --host FINGERPRINT</code> to "
              "see them.</p>\n",
              out);
    fputs("</section>\n", out);
}

int html_history_write_site(FILE *out, const json_t *doc, const struct html_site *site, char *err,
                            size_t errlen)
{
    if (!json_is_object(doc) || !hh_is(json_get_string(doc, "schema", NULL), "pyscope.history/1")) {
        pyscope_set_err(err, errlen, "not a pyscope.history/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    const json_t *runs = json_object_get(doc, "runs");
    const json_t *cps = json_object_get(doc, "change_points");
    struct hh_metric hm;
    hh_metric_init(&hm, doc);
    struct html_page page = {.title = "PyScope history", .site = site};
    html_page_open(out, &page);
    html_page_header(out, "history");
    hh_meta(out, doc);
    fputs("</header>\n<main>\n", out);
    if (site)
        hh_metric_tabs(out, doc);
    hh_summary(out, doc, runs, cps, &hm);
    fputs("<section id=\"trend\">\n<h2>Trend</h2>\n", out);
    hh_chart(out, doc, runs, &hm);
    const json_t *next = json_object_get(doc, "baseline_for_next");
    fputs("<p><strong>Baseline:</strong> ", out);
    html_write_str(
        out, json_get_string(next, "message", NULL) ? json_get_string(next, "message", NULL) : "?");
    fputs(".</p>\n</section>\n", out);
    hh_change_table(out, cps, &hm);
    fputs("<section id=\"runs\">\n<h2>Runs</h2>\n", out);
    hh_table(out, runs, &hm);
    fputs("</section>\n", out);
    hh_stored(out, json_object_get(doc, "stored_regressions"));
    hh_others(out, json_object_get(doc, "other_series"), json_get_string(doc, "script", NULL),
              site);
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
