/*
 * html_hosts.c - the host-vs-host page of `pyscope compare-hosts`.
 *
 * The forest plot's x axis is the ratio B/A on a log scale (so 0.5 and 2 lie
 * as far from 1 on either side), spanning every interval plus a margin and
 * always 1. A pair whose interval misses 1 is coloured: red when B is slower,
 * green when faster. Pairs without finite numbers are listed but not drawn.
 */
#include "html_hosts.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "errors.h"
#include "html_page.h"
#include "html_text.h"
#include "jsonutil.h"

#define HHS_MAX_PAIRS 200
#define HHS_W         900.0
#define HHS_ROW       26.0
#define HHS_L         260.0 /* room for the pair's names */
#define HHS_R         30.0
#define HHS_T         10.0
#define HHS_B         30.0

/* ratio, ci_low and ci_high of pair p, all finite and > 0. */
static bool hhs_pair_values(const json_t *p, double *r, double *lo, double *hi)
{
    return json_get_finite(p, "ratio", r) && json_get_finite(p, "ci_low", lo) &&
           json_get_finite(p, "ci_high", hi) && *r > 0 && *lo > 0 && *hi > 0;
}

/* "bad" (B slower), "ok" (B faster) or "" (the interval holds 1). */
static const char *hhs_class(double lo, double hi)
{
    return lo > 1 ? "bad" : hi < 1 ? "ok" : "";
}

/* The chart point's class: "regression" (B slower), "improvement" or "". */
static const char *hhs_point_class(double lo, double hi)
{
    return lo > 1 ? "regression" : hi < 1 ? "improvement" : "";
}

static void hhs_value(FILE *out, const char *metric, const json_t *p, const char *k)
{
    double v;
    if (!json_get_finite(p, k, &v))
        fputs("\xe2\x80\x93", out);
    else if (strcmp(metric, "peak_rss_bytes") == 0)
        fprintf(out, "%.1f MiB", v / (1024.0 * 1024.0));
    else
        fprintf(out, "%.4f s", v);
}

/* What else pair p's (borrowed) ratio measures (its "measures", coordinator/hostpair.h), as a label
 * beside it; NULL when it is the hardware as far as is known. */
static const char *hhs_label(const json_t *p)
{
    const char *m = json_get_string(p, "measures", "hardware");
    return strcmp(m, "load") == 0                ? "one machine: load"
           : strcmp(m, "hardware_and_load") == 0 ? "wall time contaminated"
                                                 : NULL;
}

static void hhs_plot(FILE *out, const json_t *pairs)
{
    double lmin = 0, lmax = 0; /* log of the axis ends; 1 always inside */
    size_t n = 0, i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        double r, lo, hi;
        if (i == HHS_MAX_PAIRS || !hhs_pair_values(p, &r, &lo, &hi))
            continue;
        lmin = fmin(lmin, log(fmin(lo, r)));
        lmax = fmax(lmax, log(fmax(hi, r)));
        n++;
    }
    if (n == 0) {
        fputs("<p class=\"muted\">No pair to draw.</p>\n", out);
        return;
    }
    double pad = fmax(0.05, 0.1 * (lmax - lmin));
    lmin -= pad;
    lmax += pad;
    double h = HHS_T + HHS_B + HHS_ROW * (double)n, pw = HHS_W - HHS_L - HHS_R;
#define HHS_X(v) (HHS_L + (log(v) - lmin) / (lmax - lmin) * pw)
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" "
            "aria-label=\"ratio B/A per host pair with 95%% intervals\">\n"
            "<line class=\"cp\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">1 (same)</text>\n",
            HHS_W, h, HHS_X(1.0), HHS_T, HHS_X(1.0), h - HHS_B, HHS_X(1.0), h - 10);
    fprintf(out,
            "<text x=\"%.1f\" y=\"%.1f\">%.3g</text>\n"
            "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n",
            HHS_L, h - 10, exp(lmin), HHS_W - HHS_R, h - 10, exp(lmax));
    size_t row = 0;
    json_array_foreach(pairs, i, p)
    {
        double r, lo, hi;
        if (i == HHS_MAX_PAIRS || !hhs_pair_values(p, &r, &lo, &hi))
            continue;
        double y = HHS_T + HHS_ROW * ((double)row + 0.5);
        fputs("<g><title>", out);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(" / ", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        const char *label = hhs_label(p); /* not the hardware: not coloured as if it were */
        fprintf(out, ": %.3f [%.3f, %.3f]%s%s%s</title>\n<text x=\"%.1f\" y=\"%.1f\">", r, lo, hi,
                label ? " (" : "", label ? label : "", label ? ")" : "", 8.0, y + 4);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(" / ", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fprintf(out,
                "</text>\n<line class=\"spread\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                "y2=\"%.1f\"/>\n<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/></g>\n",
                HHS_X(lo), y, HHS_X(hi), y, label ? "" : hhs_point_class(lo, hi), HHS_X(r), y);
        row++;
    }
    fputs("</svg>\n<p class=\"note\">Dot: ratio of medians B/A; bar: its 95% percentile "
          "bootstrap interval; log scale. Right of the dashed line: B is slower.</p>\n",
          out);
#undef HHS_X
}

static void hhs_pairs_table(FILE *out, const char *metric, const json_t *pairs)
{
    html_table_open(
        out, NULL,
        "Host A|Host B|#Median A|#Median B|#B/A|#95% CI|#Samples A|#Samples B|Python build");
    size_t i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        if (i == HHS_MAX_PAIRS)
            break;
        double r, lo, hi, na = 0, nb = 0;
        bool ok = hhs_pair_values(p, &r, &lo, &hi);
        json_get_finite(p, "samples_a", &na);
        json_get_finite(p, "samples_b", &nb);
        fputs("<tr>", out);
        html_td_str(out, json_get_string(p, "host_a", NULL));
        html_td_str(out, json_get_string(p, "host_b", NULL));
        fputs("<td class=\"num\">", out);
        hhs_value(out, metric, p, "median_a");
        fputs("</td><td class=\"num\">", out);
        hhs_value(out, metric, p, "median_b");
        const char *label = hhs_label(p);
        if (ok)
            fprintf(
                out,
                "</td><td class=\"num %s\">%.3f%s%s%s</td><td class=\"num\">%.3f\xe2\x80\x93%.3f",
                label ? "muted" : hhs_class(lo, hi), r, label ? " <span class=\"label\">(" : "",
                label ? label : "", label ? ")</span>" : "", lo, hi);
        else
            fputs("</td><td></td><td class=\"num\">", out);
        fputs("</td>", out);
        html_td_count(out, na);
        html_td_count(out, nb);
        fputs("<td>", out);
        if (json_get_string(p, "python_build", NULL)) {
            html_write_str(out, json_get_string(p, "python_build", NULL));
        } else if (json_is_true(json_object_get(p, "same_python_build"))) {
            html_write_str(out, json_get_string(p, "python_build_a", NULL));
        } else { /* a document from before pairs were compared under one build */
            fputs("<span class=\"warn\">differ</span>: A ", out);
            html_write_str(out, json_get_string(p, "python_build_a", NULL));
            fputs("; B ", out);
            html_write_str(out, json_get_string(p, "python_build_b", NULL));
        }
        fputs("</td></tr>\n", out);
        if (json_get_string(p, "caveat", NULL)) {
            fputs("<tr class=\"note caveat\"><td colspan=\"9\">Not the hardware: ", out);
            html_write_str(out, json_get_string(p, "caveat", NULL));
            fputs("</td></tr>\n", out);
        }
    }
    html_table_close(out);
    fputs("\n", out);
}

static void hhs_hosts_table(FILE *out, const char *metric, const json_t *hosts)
{
    html_table_open(out, NULL, "Host|Fingerprint|Python build|#Runs|#Samples|#Median|Newest run");
    size_t i, k;
    const json_t *h, *s;
    json_array_foreach(hosts, i, h)
    {
        json_array_foreach(json_object_get(h, "series"), k, s)
        {
            double runs = 0, samples = 0;
            json_get_finite(s, "runs", &runs);
            json_get_finite(s, "samples", &samples);
            fputs("<tr>", out);
            html_td_str(out, json_get_string(h, "hostname", NULL));
            fputs("<td><code>", out);
            html_write_str(out, json_get_string(h, "fingerprint", NULL));
            fputs("</code></td>", out);
            html_td_str(out, json_get_string(s, "python_build", NULL));
            html_td_count(out, runs);
            html_td_count(out, samples);
            fputs("<td class=\"num\">", out);
            hhs_value(out, metric, s, "median");
            fputs("</td>", out);
            html_td_str(out, json_get_string(s, "newest", NULL));
            fputs("</tr>\n", out);
        }
    }
    html_table_close(out);
    fputs("\n", out);
}

/* "B1; B2" of a JSON array of builds (borrowed), escaped. */
static void hhs_builds(FILE *out, const json_t *builds)
{
    size_t i;
    const json_t *b;
    json_array_foreach(builds, i, b)
    {
        if (i == 20)
            break;
        fputs(i ? "; " : "", out);
        html_write_str(out, json_string_value(b));
    }
}

/* The pairs not compared (no build in common) and the hosts left out (no run under --python). */
static void hhs_not_compared(FILE *out, const json_t *c)
{
    const json_t *apart = json_object_get(c, "not_compared");
    const json_t *without = json_object_get(c, "hosts_without_python");
    if (json_array_size(apart) == 0 && json_array_size(without) == 0)
        return;
    fputs("<section id=\"not-compared\">\n<h2>Not compared</h2>\n<ul>\n", out);
    size_t i;
    const json_t *p;
    json_array_foreach(apart, i, p)
    {
        if (i == HHS_MAX_PAIRS)
            break;
        fputs("<li>", out);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(" vs ", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fputs(": no Python build ran on both (", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fputs(": ", out);
        hhs_builds(out, json_object_get(p, "python_builds_a"));
        fputs("; ", out);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(": ", out);
        hhs_builds(out, json_object_get(p, "python_builds_b"));
        fputs(")</li>\n", out);
    }
    json_array_foreach(without, i, p)
    {
        if (i == HHS_MAX_PAIRS)
            break;
        fputs("<li>", out);
        html_write_str(out, json_get_string(p, "hostname", NULL));
        fputs(": no run under Python ", out);
        html_write_str(out, json_get_string(c, "python", NULL));
        fputs(" (it ran: ", out);
        hhs_builds(out, json_object_get(p, "python_builds"));
        fputs(")</li>\n", out);
    }
    fputs("</ul>\n</section>\n", out);
}

int html_hosts_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    const json_t *c = json_object_get(doc, "compare_hosts");
    const char *schema = json_get_string(doc, "schema", NULL);
    if (!json_is_object(c) || !schema || strcmp(schema, "pyscope.compare_hosts/1") != 0) {
        pyscope_set_err(err, errlen, "not a pyscope.compare_hosts/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    const char *metric =
        json_get_string(c, "metric", NULL) ? json_get_string(c, "metric", NULL) : "wall_s";
    const json_t *pairs = json_object_get(c, "pairs");
    struct html_page page = {.title = "PyScope host vs host"};
    html_page_open(out, &page);
    html_page_header(out, "host vs host");
    fputs("<dl class=\"meta\">\n<dt>Script</dt><dd><code>", out);
    html_write_str(out,
                   json_get_string(c, "script", NULL) ? json_get_string(c, "script", NULL) : "?");
    fputs("</code></dd>\n<dt>Metric</dt><dd>", out);
    html_write_str(out, metric);
    double per;
    if (json_get_finite(c, "runs_per_host", &per))
        fprintf(out, "</dd>\n<dt>Runs per host</dt><dd>newest %.0f", per);
    fputs("</dd>\n<dt>Python</dt><dd>", out);
    if (json_get_string(c, "python", NULL)) {
        html_write_str(out, json_get_string(c, "python", NULL));
        fputs(": ", out);
    }
    fputs("one build on both hosts of a pair (its column)", out);
    fputs("</dd>\n</dl>\n</header>\n<main>\n<section id=\"pairs\">\n<h2>Ratio B/A</h2>\n", out);
    hhs_plot(out, pairs);
    hhs_pairs_table(out, metric, pairs);
    fputs("</section>\n", out);
    hhs_not_compared(out, c);
    fputs("<section id=\"hosts\">\n<h2>Hosts</h2>\n", out);
    hhs_hosts_table(out, metric, json_object_get(c, "hosts"));
    fputs("</section>\n", out);
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}

/* ---- the farm's hosts (the coordinator's /hosts page) ---------------------------------- */

/* "3.00 GHz Xeon, 2 cores, 24.0 GiB": what a host is, from its row (borrowed). */
static void hhs_machine(FILE *out, const json_t *h)
{
    double cores, mem;
    html_write_str(
        out, json_get_string(h, "cpu_model", NULL) ? json_get_string(h, "cpu_model", NULL) : "?");
    if (json_get_finite(h, "cores", &cores))
        fprintf(out, ", %.0f core%s", cores, cores == 1 ? "" : "s");
    if (json_get_finite(h, "mem_bytes", &mem) && mem > 0) {
        char buf[32];
        html_fmt_bytes(buf, sizeof(buf), mem);
        fprintf(out, ", %s", buf);
    }
}

static void hhs_farm_hosts(FILE *out, const json_t *hosts)
{
    fprintf(out, "<section id=\"hosts\">\n<h2>Hosts (%zu)</h2>\n", json_array_size(hosts));
    html_table_open(out, "id=\"hosts-table\"",
                    "Host|Machine|System|Governor|Agents and Python|Last seen|#Queued|#Running");
    size_t i, k;
    const json_t *h, *a;
    json_array_foreach(hosts, i, h)
    {
        if (i == HHS_MAX_PAIRS * 5)
            break;
        fputs("<tr><td><span class=\"cut\" title=\"", out);
        html_write_str(out, json_get_string(h, "fingerprint", NULL));
        fputs("\"><b>", out);
        html_write_str(out, json_get_string(h, "hostname", NULL));
        fputs("</b></span><br><code class=\"id\">", out);
        html_write_str(out, json_get_string(h, "fingerprint", NULL));
        fputs("</code></td><td>", out);
        hhs_machine(out, h);
        fputs("</td><td>", out);
        html_write_str(out, json_get_string(h, "os", NULL));
        fputs(" \xc2\xb7 ", out);
        html_write_str(out, json_get_string(h, "kernel", NULL));
        fputs(" \xc2\xb7 ", out);
        html_write_str(out, json_get_string(h, "arch", NULL));
        fputs("</td>", out);
        html_td_str(out, json_get_string(h, "governor", NULL));
        fputs("<td>", out);
        json_array_foreach(json_object_get(h, "agents"), k, a)
        {
            if (k == 20)
                break;
            fputs(k ? "<br>" : "", out);
            html_write_str(out, json_get_string(a, "name", NULL));
            fputs(" <span class=\"muted\">", out);
            html_write_str(out, json_get_string(a, "python_build", NULL));
            fputs("</span>", out);
        }
        fputs("</td>", out);
        fputs("<td>", out);
        html_write_short_time(out, json_get_string(h, "last_seen", NULL));
        fputs("</td>", out);
        double q = 0, l = 0;
        json_get_finite(h, "queued", &q);
        json_get_finite(h, "leased", &l);
        html_td_count(out, q);
        html_td_count(out, l);
        fputs("</tr>\n", out);
    }
    html_table_close(out);
    fputs("\n</section>\n", out);
}

/* The geometric mean ratio of pair (B/A) of hosts a, b (by fingerprint) in pairs, or NAN;
 * *pair the pair (borrowed), else NULL. */
static double hhs_pair_ratio(const json_t *pairs, const char *a, const char *b, bool *flip,
                             const json_t **pair)
{
    *pair = NULL;
    size_t i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        const char *pa = json_get_string(p, "fp_a", NULL), *pb = json_get_string(p, "fp_b", NULL);
        double g;
        if (!pa || !pb || !json_get_finite(p, "geomean", &g) || !(g > 0))
            continue;
        if (strcmp(pa, a) == 0 && strcmp(pb, b) == 0) {
            *flip = false;
            *pair = p;
            return g;
        }
        if (strcmp(pa, b) == 0 && strcmp(pb, a) == 0) {
            *flip = true;
            *pair = p;
            return 1 / g;
        }
    }
    return NAN;
}

/* What else a farm pair's (borrowed: PAIRS_SQL's, coordinator/web.c) geometric mean
 * measures: "one machine" when both hosts report one machine id, "N contaminated" when N of
 * its scripts' wall times were contaminated by waiting for a CPU (written into buf, size
 * bytes); NULL none (coordinator/hostpair.h). */
static const char *hhs_farm_label(const json_t *p, char *buf, size_t size)
{
    const char *ma = json_get_string(p, "machine_a", NULL);
    const char *mb = json_get_string(p, "machine_b", NULL);
    double n = 0;
    if (ma && mb && *ma && strcmp(ma, mb) == 0)
        return "one machine: load";
    if (json_get_finite(p, "contaminated", &n) && n > 0) {
        snprintf(buf, size, "%.0f wall time%s contaminated", n, n == 1 ? "" : "s");
        return buf;
    }
    return NULL;
}

/* The note under a farm pair's row (borrowed) when its ratio is not the hardware alone. */
static void hhs_farm_caveat(FILE *out, const json_t *p)
{
    char buf[64];
    const char *label = hhs_farm_label(p, buf, sizeof(buf));
    double cpu;
    if (!label)
        return;
    fputs("<tr class=\"note caveat\"><td colspan=\"5\">Not the hardware: ", out);
    if (strncmp(label, "one machine", 11) == 0) {
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fputs(" and ", out);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(" are one machine (machine id ", out);
        html_write_str(out, json_get_string(p, "machine_a", NULL));
        fputs("): the ratio measures their load and scheduling", out);
    } else {
        html_write_str(out, label);
        fputs(" by waiting for a CPU (5% of the wall time or more: the load of the moment)", out);
    }
    if (json_get_finite(p, "cpu_geomean", &cpu))
        fprintf(out, "; CPU time B/A (geometric mean) %.3f", cpu);
    fputs("</td></tr>\n", out);
}

static void hhs_farm_matrix(FILE *out, const json_t *hosts, const json_t *pairs,
                            const json_t *batch)
{
    fputs("<section id=\"hardware\">\n<h2>Hardware comparison</h2>\n", out);
    if (json_array_size(pairs) == 0 || json_array_size(hosts) < 2) {
        fputs("<p class=\"muted\">No script of the latest batch ran on two hosts.</p>\n"
              "</section>\n",
              out);
        return;
    }
    double id;
    fputs("<p>How much longer the same scripts take on the row's host than on the column's: the "
          "geometric mean over the scripts both ran of the ratio of their median wall times",
          out);
    if (json_get_finite(batch, "id", &id)) {
        fprintf(out, " in batch %.0f", id);
        const char *label = json_get_string(batch, "label", NULL);
        if (label && *label) {
            fputs(" (", out);
            html_write_str(out, label);
            fputs(")", out);
        }
    }
    fputs(". Above 1: slower.</p>\n", out);
    html_table_head(out, "id=\"hardware-matrix\"", "Row / column");
    size_t i, j, n = json_array_size(hosts) < 24 ? json_array_size(hosts) : 24;
    for (j = 0; j < n; j++) {
        fputs("<th class=\"num\"><span class=\"cut\" title=\"", out);
        html_write_str(out, json_get_string(json_array_get(hosts, j), "fingerprint", NULL));
        fputs("\">", out);
        html_write_str(out, json_get_string(json_array_get(hosts, j), "hostname", NULL));
        fputs("</span></th>", out);
    }
    html_table_body(out);
    for (i = 0; i < n; i++) {
        const json_t *hb = json_array_get(hosts, i);
        const char *fb = json_get_string(hb, "fingerprint", NULL);
        fputs("<tr><th><span class=\"cut\">", out);
        html_write_str(out, json_get_string(hb, "hostname", NULL));
        fputs("</span></th>", out);
        for (j = 0; j < n; j++) {
            const char *fa = json_get_string(json_array_get(hosts, j), "fingerprint", NULL);
            bool flip;
            const json_t *pair = NULL;
            double r = i == j || !fa || !fb ? NAN : hhs_pair_ratio(pairs, fa, fb, &flip, &pair);
            if (!isfinite(r)) {
                fputs("<td class=\"num muted\">\xe2\x80\x93</td>", out);
                continue;
            }
            char buf[64];
            const char *label = pair ? hhs_farm_label(pair, buf, sizeof(buf)) : NULL;
            fprintf(out, "<td class=\"num %s\">%.2f\xc3\x97%s%s%s</td>",
                    label      ? "muted"
                    : r > 1.05 ? "bad"
                    : r < 0.95 ? "ok"
                               : "",
                    r, label ? " <span class=\"label\">(" : "", label ? label : "",
                    label ? ")</span>" : "");
        }
        fputs("</tr>\n", out);
    }
    html_table_close(out);
    fputs("\n<details><summary>The pairs</summary>\n", out);
    html_table_open(out, "id=\"hardware-pairs\"",
                    "Host A|Host B|#Scripts|#B / A (geometric mean)|#Range");
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        if (i == HHS_MAX_PAIRS)
            break;
        double g = NAN, lo = NAN, hi = NAN, cnt = 0;
        json_get_finite(p, "geomean", &g);
        json_get_finite(p, "min", &lo);
        json_get_finite(p, "max", &hi);
        json_get_finite(p, "scripts", &cnt);
        fputs("<tr>", out);
        html_td_str(out, json_get_string(p, "host_a", NULL));
        html_td_str(out, json_get_string(p, "host_b", NULL));
        html_td_count(out, cnt);
        fprintf(out,
                "<td class=\"num\">%.3f</td><td class=\"num\">%.3f \xe2\x80\xa6 %.3f</td></tr>\n",
                g, lo, hi);
        hhs_farm_caveat(out, p);
    }
    html_table_close(out);
    fputs("</details>\n<p class=\"note\">One script on two hosts with its "
          "interval: <code>pyscope compare-hosts SCRIPT</code>; every pair of the latest batch: "
          "the team report's hardware section.</p>\n</section>\n",
          out);
}

int html_hosts_farm_write(FILE *out, const json_t *hosts, const json_t *pairs, const json_t *batch,
                          const struct html_site *site, char *err, size_t errlen)
{
    if (!json_is_array(hosts)) {
        pyscope_set_err(err, errlen, "the host list is not an array");
        return -PYSCOPE_ESCHEMA;
    }
    struct html_page page = {.title = "PyScope hosts", .site = site};
    html_page_open(out, &page);
    html_page_header(out, "hosts");
    fputs("</header>\n<main>\n", out);
    hhs_farm_matrix(out, hosts, pairs, batch);
    hhs_farm_hosts(out, hosts);
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
