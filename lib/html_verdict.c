/*
 * html_verdict.c - regression verdicts in words (see html_verdict.h).
 *
 * Design notes: every number is formatted here, every string from the input
 * goes through html_write_escaped(); class names come from fixed lists.
 */
#include "html_verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "funckey.h"
#include "html_text.h"
#include "jsonutil.h"

#define HV_MAX_ROWS 200 /* metric rows, why rows */
#define HV_MAX_WHY  3   /* functions named in the why sentence */
#define HV_MAX_LIST 5   /* appeared / vanished functions named */

static bool hv_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

const char *html_verdict_noun(const char *metric)
{
    static const char *const names[][2] = {
        {"wall_s", "wall time"},           {"cpu_s", "CPU time"},
        {"peak_rss_bytes", "peak memory"}, {"instructions", "instructions"},
        {"total_s", "total time"},         {"self_s", "self time"},
        {"self_cpu_s", "CPU self time"},
    };
    for (size_t i = 0; metric && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(metric, names[i][0]) == 0)
            return names[i][1];
    return NULL;
}

const char *html_verdict_unit(const json_t *m)
{
    const char *u = json_get_string(m, "unit", NULL), *metric = json_get_string(m, "metric", NULL);
    if (hv_is(u, "s") || hv_is(u, "bytes") || hv_is(u, "instructions"))
        return u;
    if (hv_is(metric, "peak_rss_bytes"))
        return "bytes";
    if (hv_is(metric, "instructions"))
        return "instructions";
    return "s";
}

void html_verdict_function(FILE *out, const char *key)
{
    if (!key) {
        fputs("<code>?</code>", out);
        return;
    }
    char *file, *name;
    long line;
    funckey_split(key, &file, &name, &line);
    fputs("<code class=\"fn\" title=\"", out);
    html_write_str(out, key);
    fputs("\">", out);
    html_write_str(out, name[0] ? name : key);
    fputs("</code>", out);
    free(file);
    free(name);
}

void html_verdict_label(FILE *out, const json_t *m, bool capital)
{
    const char *metric = json_get_string(m, "metric", NULL),
               *fn = json_get_string(m, "function", NULL);
    const char *noun = html_verdict_noun(metric);
    char first[2] = {0, 0};
    if (!noun) {
        fputs("<code>", out);
        html_write_str(out, metric ? metric : "?");
        fputs("</code>", out);
        return;
    }
    if (capital && noun[0] >= 'a' && noun[0] <= 'z') {
        first[0] = (char)(noun[0] - 'a' + 'A');
        fputs(first, out);
        fputs(noun + 1, out);
    } else {
        fputs(noun, out);
    }
    if (fn) {
        fputs(" of ", out);
        html_verdict_function(out, fn);
    }
}

void html_verdict_value(char *buf, size_t n, double v, const char *unit)
{
    if (hv_is(unit, "bytes"))
        html_fmt_bytes(buf, n, v);
    else if (hv_is(unit, "instructions"))
        snprintf(buf, n, fabs(v) >= 1e9 ? "%.2f G instructions" : "%.1f M instructions",
                 fabs(v) >= 1e9 ? v / 1e9 : v / 1e6);
    else
        html_fmt_secs(buf, n, v);
}

/* "+5.2%" or "-12%": a change in percent, fewer decimals when large. */
static void hv_pct(char *buf, size_t n, double p)
{
    snprintf(buf, n, fabs(p) >= 10 ? "%+.0f%%" : "%+.1f%%", p);
}

void html_verdict_ci(char *buf, size_t n, const json_t *m)
{
    double lo, hi;
    char a[32], b[32];
    if (!json_get_finite(m, "ci_low_pct", &lo) || !json_get_finite(m, "ci_high_pct", &hi)) {
        buf[0] = '\0';
        return;
    }
    hv_pct(a, sizeof(a), lo);
    hv_pct(b, sizeof(b), hi);
    snprintf(buf, n, "%s \xe2\x80\xa6 %s", a, b);
}

static void hv_p(FILE *out, const json_t *m)
{
    double p;
    if (!json_get_finite(m, "p_value", &p))
        return;
    if (p < 0.001)
        fputs("p &lt; 0.001", out);
    else
        fprintf(out, "p = %.3f", p);
}

/* " 1.45 s → 1.55 s" for m into out. */
static void hv_values(FILE *out, const json_t *m)
{
    double b, c;
    char x[48], y[48];
    const char *unit = html_verdict_unit(m);
    if (!json_get_finite(m, "baseline_median", &b) || !json_get_finite(m, "candidate_median", &c))
        return;
    html_verdict_value(x, sizeof(x), b, unit);
    html_verdict_value(y, sizeof(y), c, unit);
    fprintf(out, "%s \xe2\x86\x92 %s", x, y);
}

/* One sentence for a metric that regressed, improved or is uncertain. */
/* Whether m's figures are net of the time spent waiting for a CPU (a busy machine). */
static bool hv_net_of_queueing(const json_t *m)
{
    return json_is_true(json_object_get(json_object_get(m, "contention"), "net_of_queueing"));
}

static void hv_metric_sentence(FILE *out, const json_t *m)
{
    const char *v = json_get_string(m, "verdict", NULL);
    double change = 0, noise;
    bool has_change = json_get_finite(m, "change_pct", &change);
    const char *cls = hv_is(v, "regression")    ? "v-regression"
                      : hv_is(v, "improvement") ? "v-improvement"
                                                : "v-inconclusive";
    fprintf(out, "<li class=\"%s\">", cls);
    html_verdict_label(out, m, true);
    if (hv_net_of_queueing(m))
        fputs(" (net of waiting for a CPU)", out);
    bool memory = hv_is(json_get_string(m, "metric", NULL), "peak_rss_bytes");
    bool more = hv_is(json_get_string(m, "metric", NULL), "instructions") || memory;
    char pct[32];
    snprintf(pct, sizeof(pct), fabs(change) >= 10 ? "%.0f%%" : "%.1f%%", fabs(change));
    if (hv_is(v, "regression") || hv_is(v, "improvement")) {
        bool up = hv_is(v, "regression");
        fprintf(out, " %s <b>%s</b>: ", up ? (more ? "grew" : "rose") : (more ? "shrank" : "fell"),
                pct);
    } else {
        fprintf(out, " may have %s %s, but it is <b>not certain</b>: ",
                change >= 0 ? (more ? "grown" : "risen") : (more ? "shrunk" : "fallen"),
                has_change ? pct : "?");
    }
    hv_values(out, m);
    char ci[96];
    html_verdict_ci(ci, sizeof(ci), m);
    fputs(" (", out);
    if (ci[0])
        fprintf(out, "95%% CI %s, ", ci);
    hv_p(out, m);
    fputs(")", out);
    bool decided = hv_is(v, "regression") || hv_is(v, "improvement");
    if (json_get_string(m, "reason", NULL)) {
        fputs(decided ? " \xe2\x80\x94 " : ". Why not certain: ", out);
        html_verdict_reason(out, m);
    } else if (!decided && json_get_finite(m, "noise_pct", &noise) && fabs(change) <= noise) {
        fprintf(out, "; within the baseline's noise of %.1f%%", noise);
    }
    const char *hint = json_get_string(m, "hint", NULL);
    if (!decided && hint) {
        fputs("; ", out);
        html_write_str(out, hint);
    }
    fputs(".</li>\n", out);
}

void html_verdict_reason(FILE *out, const json_t *m)
{
    const char *reason = json_get_string(m, "reason", NULL),
               *rule = json_get_string(m, "rule", NULL);
    if (!reason && !rule)
        return;
    fputs("<span class=\"v-reason\"", out);
    if (rule) {
        fputs(" data-rule=\"", out);
        html_write_str(out, rule);
        fputs("\"", out);
    }
    fputs(">", out);
    if (reason)
        html_write_str(out, reason);
    if (rule) {
        fputs(reason ? " <span class=\"note\">(rule <code>" : "rule <code>", out);
        html_write_str(out, rule);
        fputs(reason ? "</code>)</span>" : "</code>", out);
    }
    fputs("</span>", out);
}

bool html_verdict_contended(const json_t *m)
{
    const json_t *c = json_object_get(m, "contention");
    double cq, bq;
    if (!json_is_object(c) || json_is_false(json_object_get(c, "known")))
        return false;
    return json_is_true(json_object_get(c, "contaminated")) ||
           (json_get_finite(c, "candidate_queued_pct", &cq) && cq >= HTML_VERDICT_QUEUED_PCT) ||
           (json_get_finite(c, "baseline_queued_pct", &bq) && bq >= HTML_VERDICT_QUEUED_PCT);
}

bool html_verdict_contention(FILE *out, const json_t *m)
{
    if (!html_verdict_contended(m))
        return false;
    const json_t *c = json_object_get(m, "contention");
    double cq = -1, bq = -1, cb = -1;
    bool has_c = json_get_finite(c, "candidate_queued_pct", &cq);
    bool has_b = json_get_finite(c, "baseline_queued_pct", &bq);
    bool contaminated = json_is_true(json_object_get(c, "contaminated"));
    fputs("The machine was busy: ", out);
    if (has_c)
        fprintf(out, "this run waited for a CPU %.0f%% of its wall time", cq);
    else
        fputs("this run's wait for a CPU is unknown", out);
    if (has_b)
        fprintf(out, ", the baseline %.0f%%", bq);
    if (json_is_true(json_object_get(c, "net_of_queueing"))) {
        double raw;
        fputs(". The wall time is judged net of that wait", out);
        if (json_get_finite(json_object_get(c, "raw"), "change_pct", &raw))
            fprintf(out, " (with it, the change was %+.1f%%)", raw);
    } else if (json_is_true(json_object_get(c, "cpu_bound"))) {
        fputs(". The script is CPU-bound", out);
        if (json_get_finite(c, "candidate_cpu_bound_pct", &cb))
            fprintf(out, " (%.0f%% busy when it had a CPU)", cb);
        fputs(", so its wall time gets no verdict: its CPU time decides", out);
    } else if (contaminated) {
        fputs(". Without net times the wall time gets no verdict", out);
    }
    fputs(".", out);
    return true;
}

bool html_verdict_speed(FILE *out, const json_t *speed)
{
    double change, limit;
    if (!json_is_true(json_object_get(speed, "moved")) ||
        !json_get_finite(speed, "change_pct", &change) ||
        !json_get_finite(speed, "limit_pct", &limit))
        return false;
    fprintf(out,
            "The machine ran %.0f%% %s than during the baseline: a fixed reference loop timed "
            "around each repeat took %+.1f%% CPU time (limit ±%.1f%%). Shown, not used to "
            "decide: the reference is too noisy on a busy machine to overrule a verdict; "
            "instruction counts (<code>--instructions</code>) do not depend on it.",
            fabs(change), change > 0 ? "slower" : "faster", change, limit);
    return true;
}

bool html_verdict_decision(FILE *out, const json_t *decision)
{
    const char *metric = json_get_string(decision, "metric", NULL);
    if (!metric || hv_is(metric, "wall_s"))
        return false;
    const char *noun = html_verdict_noun(metric);
    fputs("Decided on ", out);
    if (noun)
        fputs(hv_is(metric, "instructions") ? "instruction counts" : noun, out);
    else
        html_write_str(out, metric);
    const char *reason = json_get_string(decision, "reason", NULL);
    if (reason) {
        fputs(": ", out);
        html_write_str(out, reason);
    }
    fputs(".", out);
    return true;
}

/* The verdict of the whole check: the worst of its metrics. */
static const char *hv_overall(const json_t *reg, size_t *n_changed)
{
    bool reg_seen = false, imp = false, inc = false;
    size_t i, changed = 0;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *v = json_get_string(m, "verdict", NULL);
        reg_seen |= hv_is(v, "regression");
        imp |= hv_is(v, "improvement");
        inc |= hv_is(v, "inconclusive");
        changed += hv_is(v, "regression") || hv_is(v, "improvement") || hv_is(v, "inconclusive");
    }
    *n_changed = changed;
    return reg_seen ? "regression" : imp ? "improvement" : inc ? "inconclusive" : "no_change";
}

static void hv_why(FILE *out, const json_t *why)
{
    const json_t *fns = json_object_get(why, "functions");
    size_t i;
    const json_t *f;
    if (json_array_size(fns)) {
        fputs("<li class=\"v-why\">Why: ", out);
        json_array_foreach(fns, i, f)
        {
            if (i == HV_MAX_WHY)
                break;
            double share, delta;
            fputs(i ? "; " : "", out);
            html_verdict_function(out, json_get_string(f, "key", NULL));
            if (json_get_finite(f, "share_pct", &share))
                fprintf(out, " explains %.0f%%%s", share, i ? "" : " of the change");
            if (json_get_finite(f, "delta_s", &delta)) {
                char d[32];
                html_fmt_secs(d, sizeof(d), fabs(delta));
                fprintf(out, " (%s%s self time)", delta < 0 ? "\xe2\x88\x92" : "+", d);
            }
        }
        if (json_array_size(fns) > HV_MAX_WHY)
            fprintf(out, "; and %zu more", json_array_size(fns) - HV_MAX_WHY);
        fputs(".</li>\n", out);
    }
    static const char *const lists[][2] = {{"appeared", "New since the baseline"},
                                           {"vanished", "No longer seen"}};
    for (size_t k = 0; k < 2; k++) {
        const json_t *arr = json_object_get(why, lists[k][0]);
        if (!json_array_size(arr))
            continue;
        fprintf(out, "<li class=\"v-why\">%s: ", lists[k][1]);
        const json_t *s;
        json_array_foreach(arr, i, s)
        {
            if (i == HV_MAX_LIST)
                break;
            fputs(i ? ", " : "", out);
            html_verdict_function(out, json_string_value(s));
        }
        if (json_array_size(arr) > HV_MAX_LIST)
            fprintf(out, " and %zu more", json_array_size(arr) - HV_MAX_LIST);
        fputs(".</li>\n", out);
    }
    static const char *const flags[][2] = {
        {"script_changed", "The script itself changed since the baseline (its SHA-256 differs)."},
        {"python_changed", "The Python build changed since the baseline."},
        {"host_changed", "The host changed since the baseline."},
        {"mode_changed", "The baseline was profiled in another mode (sample vs trace): times "
                         "and memory are not comparable."}};
    for (size_t k = 0; k < 4; k++)
        if (json_is_true(json_object_get(why, flags[k][0])))
            fprintf(out, "<li class=\"v-note\">%s</li>\n", flags[k][1]);
}

/* The one sentence of n (> 1) inconclusive function times among metrics (borrowed), the
 * first of them first (its reason is theirs: the same for every function of a run). */
static void hv_unsure_functions(FILE *out, const json_t *metrics, size_t n, const json_t *first)
{
    fprintf(out,
            "<li class=\"v-inconclusive\">%zu function times may have moved, but none "
            "is <b>certain</b>: ",
            n);
    size_t i, k = 0;
    const json_t *m;
    json_array_foreach(metrics, i, m)
    {
        if (!hv_is(json_get_string(m, "verdict", NULL), "inconclusive") ||
            !json_get_string(m, "function", NULL))
            continue;
        if (k == HV_MAX_ROWS) {
            fprintf(out, " and %zu more", n - k);
            break;
        }
        fputs(k ? ", " : "", out);
        html_verdict_label(out, m, false);
        double c;
        if (json_get_finite(m, "change_pct", &c))
            fprintf(out, " (%+.1f%%)", c);
        k++;
    }
    if (json_get_string(first, "reason", NULL)) {
        fputs(". Why not certain: ", out);
        html_verdict_reason(out, first);
    }
    fputs(" (the table below has each).</li>\n", out);
}

void html_verdict_sentences(FILE *out, const json_t *reg)
{
    size_t changed;
    const char *overall = hv_overall(reg, &changed);
    const json_t *base = json_object_get(reg, "baseline");
    double nr = 0, thr;
    json_get_finite(base, "n_runs", &nr);
    fprintf(out, "<p class=\"lead %s\">",
            hv_is(overall, "regression")     ? "v-regression"
            : hv_is(overall, "improvement")  ? "v-improvement"
            : hv_is(overall, "inconclusive") ? "v-inconclusive"
                                             : "v-same");
    if (hv_is(overall, "regression"))
        fputs("<b>Slower</b> than", out);
    else if (hv_is(overall, "improvement"))
        fputs("<b>Faster</b> than", out);
    else if (hv_is(overall, "inconclusive"))
        fputs("<b>Not certain</b> against", out);
    else
        fputs("<b>No change</b> against", out);
    fprintf(out, " the baseline of %.0f earlier run%s", nr, nr == 1 ? "" : "s");
    if (json_get_finite(reg, "threshold_pct", &thr))
        fprintf(out, " (threshold %g%%)", thr);
    fputs(".", out);
    size_t i, same = 0, shown = 0;
    const json_t *m;
    bool by_size = false;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        by_size |= hv_is(json_get_string(m, "mode", NULL), "threshold");
    }
    if (by_size)
        fputs(" <span class=\"note\">Too few runs for a statistical test: changes are judged "
              "by their size alone (more runs, e.g. <code>--repeat 10</code>, make it a "
              "test).</span>",
              out);
    fputs("</p>\n<ul class=\"verdicts\">\n", out);
    /* what decided the run, and a busy machine, before the metrics they explain */
    if (json_is_string(json_object_get(json_object_get(reg, "decision"), "metric")) &&
        !hv_is(json_get_string(json_object_get(reg, "decision"), "metric", NULL), "wall_s")) {
        fputs("<li class=\"v-note v-decision\">", out);
        html_verdict_decision(out, json_object_get(reg, "decision"));
        fputs("</li>\n", out);
    }
    if (json_is_true(json_object_get(json_object_get(reg, "machine_speed"), "moved"))) {
        fputs("<li class=\"v-note v-speed\">", out);
        html_verdict_speed(out, json_object_get(reg, "machine_speed"));
        fputs("</li>\n", out);
    }
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        if (html_verdict_contended(m)) {
            fputs("<li class=\"v-note v-contention\">", out);
            html_verdict_contention(out, m);
            fputs("</li>\n", out);
            break;
        }
    }
    /* a function's inconclusive total and self time add nothing a sentence each would say
     * (the same reason, over and over): they share one sentence, listed (the table has each) */
    size_t unsure_fn = 0;
    const json_t *first_unsure = NULL;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *v = json_get_string(m, "verdict", NULL);
        if (hv_is(v, "inconclusive") && json_get_string(m, "function", NULL)) {
            unsure_fn++;
            first_unsure = first_unsure ? first_unsure : m;
        } else if (hv_is(v, "regression") || hv_is(v, "improvement") || hv_is(v, "inconclusive")) {
            if (shown++ < HV_MAX_ROWS)
                hv_metric_sentence(out, m);
        } else if (!json_get_string(m, "function", NULL)) {
            same++;
        }
    }
    if (unsure_fn == 1)
        hv_metric_sentence(out, first_unsure);
    else if (unsure_fn > 1)
        hv_unsure_functions(out, json_object_get(reg, "metrics"), unsure_fn, first_unsure);
    if (same) {
        fputs("<li class=\"v-same\">Unchanged: ", out);
        size_t k = 0;
        json_array_foreach(json_object_get(reg, "metrics"), i, m)
        {
            const char *v = json_get_string(m, "verdict", NULL);
            if (json_get_string(m, "function", NULL) || hv_is(v, "regression") ||
                hv_is(v, "improvement") || hv_is(v, "inconclusive"))
                continue;
            fputs(k == 0 ? "" : k + 1 == same ? " and " : ", ", out);
            html_verdict_label(out, m, false);
            k++;
        }
        fputs(".</li>\n", out);
    }
    hv_why(out, json_object_get(reg, "why"));
    fputs("</ul>\n", out);
}

static const char *hv_verdict_class(const char *v)
{
    if (hv_is(v, "regression"))
        return "verdict-regression";
    if (hv_is(v, "improvement"))
        return "verdict-improvement";
    if (hv_is(v, "inconclusive"))
        return "verdict-inconclusive";
    return "muted";
}

const char *html_verdict_word(const char *v)
{
    if (hv_is(v, "no_change"))
        return "no change";
    return v ? v : "?";
}

void html_verdict_cells(FILE *out, const json_t *m)
{
    const char *unit = html_verdict_unit(m);
    double x;
    char buf[96];
    fputs("<td class=\"num\">", out);
    if (json_get_finite(m, "baseline_median", &x)) {
        html_verdict_value(buf, sizeof(buf), x, unit);
        fputs(buf, out);
    }
    fputs("</td><td class=\"num\">", out);
    if (json_get_finite(m, "candidate_median", &x)) {
        html_verdict_value(buf, sizeof(buf), x, unit);
        fputs(buf, out);
    }
    fputs("</td><td class=\"num\">", out);
    if (json_get_finite(m, "change_pct", &x))
        fprintf(out, "%+.1f%%", x);
    fputs("</td><td class=\"num\">", out);
    html_verdict_ci(buf, sizeof(buf), m);
    fputs(buf, out);
    fputs("</td><td class=\"num\">", out);
    if (json_get_finite(m, "p_value", &x))
        fprintf(out, x < 0.001 ? "%.1e" : "%.3f", x);
    fputs("</td>", out);
}

static void hv_metric_row(FILE *out, const json_t *m)
{
    const char *v = json_get_string(m, "verdict", NULL);
    double x;
    fputs("<tr><td class=\"metric\">", out);
    html_verdict_label(out, m, true);
    if (hv_net_of_queueing(m)) /* not the wall time of the summary's card */
        fputs(" <span class=\"note\">(net of waiting for a CPU)</span>", out);
    fputs("</td>", out);
    html_verdict_cells(out, m);
    fputs("<td class=\"num\">", out);
    if (json_get_finite(m, "noise_pct", &x))
        fprintf(out, "%.1f%%", x);
    fprintf(out, "</td><td class=\"%s\"", hv_verdict_class(v));
    if (json_get_string(m, "reason", NULL)) {
        fputs(" title=\"", out);
        html_write_str(out, json_get_string(m, "reason", NULL));
        fputs("\"", out);
    }
    fputs(">", out);
    html_write_str(out, html_verdict_word(v));
    if (hv_is(json_get_string(m, "mode", NULL), "threshold"))
        fputs(" <span class=\"note\">(by size)</span>", out);
    fputs("</td></tr>\n", out);
}

void html_verdict_table(FILE *out, const json_t *reg)
{
    fputs("<div class=\"table-wrap\"><table class=\"verdict-table\"><thead><tr><th>Metric</th>"
          "<th class=\"num\">Baseline median</th><th class=\"num\">This run</th>"
          "<th class=\"num\">Change</th><th class=\"num\">95% CI</th><th class=\"num\">p</th>"
          "<th class=\"num\">Noise</th><th>Verdict</th></tr></thead><tbody>\n",
          out);
    size_t i, shown = 0;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *v = json_get_string(m, "verdict", NULL);
        if (json_get_string(m, "function", NULL) && !hv_is(v, "regression") &&
            !hv_is(v, "improvement"))
            continue;
        if (shown++ < HV_MAX_ROWS)
            hv_metric_row(out, m);
    }
    fputs("</tbody></table></div>\n", out);
}
