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
#include "html_compare.h"
#include "html_page.h"
#include "html_report.h"
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
        fprintf(out, ": %.3f [%.3f, %.3f]</title>\n<text x=\"%.1f\" y=\"%.1f\">", r, lo, hi, 8.0,
                y + 4);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs(" / ", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fprintf(out,
                "</text>\n<line class=\"spread\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                "y2=\"%.1f\"/>\n<circle class=\"pt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/></g>\n",
                HHS_X(lo), y, HHS_X(hi), y, hhs_point_class(lo, hi), HHS_X(r), y);
        row++;
    }
    fputs("</svg>\n<p class=\"note\">Dot: ratio of medians B/A; bar: its 95% percentile "
          "bootstrap interval; log scale. Right of the dashed line: B is slower.</p>\n",
          out);
#undef HHS_X
}

static void hhs_pairs_table(FILE *out, const char *metric, const json_t *pairs)
{
    fputs("<div class=\"table-wrap\"><table><thead><tr><th>Host A</th><th>Host B</th>"
          "<th class=\"num\">Median A</th><th class=\"num\">Median B</th>"
          "<th class=\"num\">B/A</th><th class=\"num\">95% CI</th><th class=\"num\">n A</th>"
          "<th class=\"num\">n B</th><th>Python build</th></tr></thead><tbody>\n",
          out);
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
        fputs("<tr><td>", out);
        html_write_str(out, json_get_string(p, "host_a", NULL));
        fputs("</td><td>", out);
        html_write_str(out, json_get_string(p, "host_b", NULL));
        fputs("</td><td class=\"num\">", out);
        hhs_value(out, metric, p, "median_a");
        fputs("</td><td class=\"num\">", out);
        hhs_value(out, metric, p, "median_b");
        if (ok)
            fprintf(out,
                    "</td><td class=\"num %s\">%.3f</td><td class=\"num\">%.3f\xe2\x80\x93%.3f",
                    hhs_class(lo, hi), r, lo, hi);
        else
            fputs("</td><td></td><td class=\"num\">", out);
        fprintf(out, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td><td>", na, nb);
        if (json_is_true(json_object_get(p, "same_python_build"))) {
            html_write_str(out, json_get_string(p, "python_build_a", NULL));
        } else {
            fputs("<span class=\"warn\">differ</span>: A ", out);
            html_write_str(out, json_get_string(p, "python_build_a", NULL));
            fputs("; B ", out);
            html_write_str(out, json_get_string(p, "python_build_b", NULL));
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table></div>\n", out);
}

static void hhs_hosts_table(FILE *out, const char *metric, const json_t *hosts)
{
    fputs("<div class=\"table-wrap\"><table><thead><tr><th>Host</th><th>Fingerprint</th>"
          "<th>Python build</th><th class=\"num\">Runs</th><th class=\"num\">Samples</th>"
          "<th class=\"num\">Median</th><th>Newest run</th></tr></thead><tbody>\n",
          out);
    size_t i, k;
    const json_t *h, *s;
    json_array_foreach(hosts, i, h)
    {
        json_array_foreach(json_object_get(h, "series"), k, s)
        {
            double runs = 0, samples = 0;
            json_get_finite(s, "runs", &runs);
            json_get_finite(s, "samples", &samples);
            fputs("<tr><td>", out);
            html_write_str(out, json_get_string(h, "hostname", NULL));
            fputs("</td><td><code>", out);
            html_write_str(out, json_get_string(h, "fingerprint", NULL));
            fputs("</code></td><td>", out);
            html_write_str(out, json_get_string(s, "python_build", NULL));
            fprintf(out,
                    "</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td>"
                    "<td class=\"num\">",
                    runs, samples);
            hhs_value(out, metric, s, "median");
            fputs("</td><td>", out);
            html_write_str(out, json_get_string(s, "newest", NULL));
            fputs("</td></tr>\n", out);
        }
    }
    fputs("</tbody></table></div>\n", out);
}

int html_hosts_write(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    const json_t *c = json_object_get(doc, "compare_hosts");
    const char *schema = json_get_string(doc, "schema", NULL);
    if (!json_is_object(c) || !schema || strcmp(schema, "pyscope.compare_hosts/1") != 0) {
        if (err && errlen)
            snprintf(err, errlen, "not a pyscope.compare_hosts/1 document");
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
    fputs("</dd>\n</dl>\n</header>\n<main>\n<section id=\"pairs\">\n<h2>Ratio B/A</h2>\n", out);
    hhs_plot(out, pairs);
    hhs_pairs_table(out, metric, pairs);
    fputs("</section>\n<section id=\"hosts\">\n<h2>Hosts</h2>\n", out);
    hhs_hosts_table(out, metric, json_object_get(c, "hosts"));
    fputs("</section>\n", out);
    fputs("</main>\n", out);
    html_page_close(out, &page);
    return ferror(out) ? -EIO : 0;
}
