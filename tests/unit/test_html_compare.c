/*
 * test_html_compare.c - the compare, history and compare-hosts pages: hostile strings
 * escaped, no external URL or script, foreign documents refused, change points and
 * regressions marked; the farm's stored regressions and a slower host marked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "html_compare.h"
#include "html_history.h"
#include "html_hosts.h"

#define EVIL "<script>alert(1)</script>\"'&"

/* Not inlined: inlined, GCC 12 at -O3 takes the page for a pointer into this frame's
 * `buf` and warns about the pointer comparisons below (-Wdangling-pointer). */
__attribute__((noinline)) static char *render(int (*fn)(FILE *, const json_t *, char *, size_t),
                                              const json_t *doc, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    char err[128] = "";
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = fn(out, doc, err, sizeof(err));
    fclose(out);
    return buf;
}

/* Common checks of a page: no raw hostile string, nothing fetched, no script element. */
static void check_page(const char *html)
{
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "alert(1)</script>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;")
                        ?: strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "</html>\n"));
}

static json_t *evil_regression(void)
{
    return json_pack("{s:s, s:f, s:[{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:s}, "
                     "{s:s, s:s, s:s, s:s, s:f, s:f, s:f}], s:{s:[{s:s, s:f, s:f}], s:b}}",
                     "status", "compared", "threshold_pct", 5.0, "metrics", "metric", "wall_s",
                     "unit", "s", "verdict", "regression", "baseline_median", 1.0,
                     "candidate_median", 1.1, "change_pct", 10.0, "ci_low_pct", 8.0, "ci_high_pct",
                     12.0, "p_value", 0.0001, "hint", EVIL, "metric", "self_s", "function", EVIL,
                     "unit", "s", "verdict", "regression", "baseline_median", 0.5,
                     "candidate_median", 0.6, "change_pct", 20.0, "why", "functions", "key", EVIL,
                     "delta_s", 0.1, "share_pct", 100.0, "script_changed", 1);
}

static void test_compare_page(void **state)
{
    (void)state;
    json_t *doc = json_pack(
        "{s:s, s:f, s:[{s:{s:s, s:s, s:s, s:s}, s:{s:[s]}, s:o, s:s}, {s:{s:s}, s:{s:[]}, "
        "s:{s:s, s:s}}], s:{s:i, s:i}}",
        "schema", "pyscope.compare/1", "threshold_pct", 5.0, "comparisons", "candidate", "file",
        EVIL, "script", EVIL, "id", "abc", "host", EVIL, "baseline", "files", EVIL, "regression",
        evil_regression(), "note", EVIL, "candidate", "script", "b.py", "baseline", "files",
        "regression", "status", "no_history", "message", EVIL, "summary", "regressions", 2,
        "no_baseline", 1);
    int rc;
    char *html = render(html_compare_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    assert_non_null(strstr(html, "verdict-regression"));
    assert_non_null(strstr(html, "<td class=\"num\">1.0e-04</td>"));
    assert_non_null(strstr(html, "+8.0% \xe2\x80\xa6 +12%"));
    assert_non_null(strstr(html, "The script itself changed since the baseline"));
    assert_non_null(strstr(html, "No baseline: "));
    /* the check in words: the answer, one sentence per change, why */
    assert_non_null(strstr(html, "<p class=\"lead v-regression\"><b>Slower</b> than the baseline"));
    assert_non_null(strstr(html, "<li class=\"v-regression\">Wall time rose <b>10%</b>: "
                                 "1.000 s \xe2\x86\x92 1.100 s (95% CI +8.0% \xe2\x80\xa6 +12%, "
                                 "p &lt; 0.001)."));
    assert_non_null(strstr(html, "<li class=\"v-why\">Why: <code class=\"fn\" title=\"&lt;script"));
    assert_non_null(strstr(html, "explains 100% of the change (+100 ms self time)"));
    free(html);
    json_decref(doc);
}

static void test_refuses_foreign(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s}", "schema", "pyscope.report/1");
    int rc;
    char *html = render(html_compare_write, doc, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(html);
    html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(html);
    json_decref(doc);
    json_t *arr = json_array();
    html = render(html_history_write, arr, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(html);
    json_decref(arr);
}

static json_t *run(const char *id, double med, const char *verdict, bool cp)
{
    return json_pack("{s:s, s:s, s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:s, s:f, s:[s], s:b}", "id",
                     id, "created", EVIL, "file", "reports/json/" EVIL, "n", 10, "median_wall_s",
                     med, "q1_wall_s", med * 0.99, "q3_wall_s", med * 1.01, "min_wall_s",
                     med * 0.98, "max_wall_s", med * 1.02, "verdict", verdict, "change_pct", 1.0,
                     "regressions", "cpu_s", "change_point", cp);
}

static void test_history_page(void **state)
{
    (void)state;
    json_t *runs = json_array();
    for (int i = 0; i < 6; i++)
        json_array_append_new(runs, run("r", i < 3 ? 1.0 : 1.2,
                                        i == 3 ? "regression"
                                        : i    ? "no_change"
                                               : "first run",
                                        i == 3));
    json_array_append_new(runs, json_pack("{s:s, s:s}", "id", EVIL, "median_wall_s", "nan"));
    json_t *doc = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:f, s:o, s:[{s:i, s:s, s:s, s:f, "
                            "s:f, s:f}], s:{s:s}, s:[{s:s, s:s, s:s, s:i}]}",
                            "schema", "pyscope.history/1", "script", EVIL, "host", "hostname", EVIL,
                            "fingerprint", EVIL, "python_build", EVIL, "threshold_pct", 5.0, "runs",
                            runs, "change_points", "index", 3, "id", "r", "created", EVIL,
                            "before_median_wall_s", 1.0, "after_median_wall_s", 1.2, "change_pct",
                            20.0, "baseline_for_next", "message", EVIL, "other_series",
                            "fingerprint", EVIL, "hostname", EVIL, "python_build", EVIL, "runs", 2);
    int rc;
    char *html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    assert_non_null(strstr(html, "<svg class=\"chart\""));
    assert_non_null(strstr(html, "<polyline class=\"median\""));
    assert_non_null(strstr(html, "class=\"cp\""));
    assert_non_null(strstr(html, "change point</span>"));
    assert_non_null(strstr(html, "<circle class=\"pt regression\""));
    assert_non_null(strstr(html, "+20.0%"));
    assert_null(strstr(html, "nan"));
    /* no usable dates: the x axis says the runs are in order; the change is labelled */
    assert_non_null(strstr(html, ">runs in order (no usable dates)</text>"));
    assert_non_null(strstr(html, "<text class=\"cpl\""));
    assert_non_null(strstr(html, ">change +20.0%</text>"));
    assert_non_null(strstr(html, "wall time (s)</text>"));
    /* the runs table's verdicts in words, never the raw id */
    assert_non_null(strstr(html, "\">no change (+1.0%)"));
    assert_null(strstr(html, "no_change ("));
    free(html);

    /* from the farm: "Regressions" counts its stored findings, not a run's own verdict */
    json_object_set_new(doc, "stored_regressions", json_array());
    html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "<div class=\"card\" id=\"farm-regressions\"><div "
                                 "class=\"label\">Regressions</div><div class=\"value\">0</div>"));
    assert_non_null(strstr(html, "Runs judged slower</div><div class=\"value\">1</div>"));
    free(html);
    json_array_append_new(json_object_get(doc, "stored_regressions"),
                          json_pack("{s:i, s:s, s:s, s:s, s:f}", "id", 9, "kind", "regression",
                                    "state", "confirmed", "metric", "wall_s", "change_pct", 20.0));
    html = render(html_history_write, doc, &rc);
    assert_non_null(strstr(html, "Regressions</div><div class=\"value bad\">1</div>"));
    free(html);
    json_decref(doc);

    /* an empty series still renders */
    doc = json_pack("{s:s, s:s, s:[], s:[]}", "schema", "pyscope.history/1", "script", "a.py",
                    "runs", "change_points");
    html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "No run to draw."));
    free(html);
    json_decref(doc);
}

/* Dated runs: a time axis with round ticks and labels, the unit on the value axis. */
static void test_history_time_axis(void **state)
{
    (void)state;
    json_t *runs = json_array();
    char when[32];
    for (int i = 0; i < 8; i++) {
        snprintf(when, sizeof(when), "2026-11-%02dT02:00:00.5Z", 10 + i);
        json_array_append_new(
            runs, json_pack("{s:s, s:s, s:f, s:s, s:b}", "id", "0123456789ab", "created", when,
                            "median_peak_rss_bytes", (i < 5 ? 40.0 : 48.0) * 1048576, "verdict",
                            i == 5 ? "regression" : "no_change", "change_point", i == 5));
    }
    json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:[]}", "schema", "pyscope.history/1", "script",
                            "a.py", "metric", "peak_rss_bytes", "runs", runs, "change_points");
    int rc;
    char *html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, ">run started (UTC)</text>"));
    assert_non_null(strstr(html, ">Nov 11 2026</text>")); /* the first tick has the year */
    assert_non_null(strstr(html, ">Nov 13</text>"));
    assert_non_null(strstr(html, ">peak memory (MiB)</text>"));
    assert_non_null(strstr(html, "<td class=\"num\">48.0 MiB</td>"));
    assert_non_null(strstr(html, "<code class=\"id\" title=\"0123456789ab\">01234567</code>"));
    free(html);
    json_decref(doc);
}

/* pyscope history --metric instructions: the chart and tables read that metric, in millions. */
static void test_history_page_instructions(void **state)
{
    (void)state;
    json_t *runs = json_array();
    for (int i = 0; i < 4; i++)
        json_array_append_new(
            runs,
            json_pack("{s:s, s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:s, s:[], s:b}", "id", "r",
                      "created", "2026-11-24T01:00:00Z", "n", 3, "median_instructions",
                      i < 2 ? 180419654.0 : 183421998.0, "q1_instructions", 180419654.0,
                      "q3_instructions", 183421998.0, "min_instructions", 180419654.0,
                      "max_instructions", 183421998.0, "verdict",
                      i == 2 ? "regression" : "no_change", "regressions", "change_point", i == 2));
    /* a wall-time field must not be read for this metric */
    json_object_set_new(json_array_get(runs, 0), "median_wall_s", json_real(99.5));
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:o, s:[{s:i, s:s, s:s, s:f, s:f, s:f}], s:{s:s}}", "schema",
                  "pyscope.history/1", "script", "a.py", "metric", "instructions", "runs", runs,
                  "change_points", "index", 2, "id", "r", "created", "c",
                  "before_median_instructions", 180419654.0, "after_median_instructions",
                  183421998.0, "change_pct", 1.66, "baseline_for_next", "message", "m");
    int rc;
    char *html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "aria-label=\"median instructions per run\""));
    /* the unit in the heading, not in every cell */
    assert_non_null(strstr(html, "<th class=\"num\">Median instructions</th>"));
    assert_non_null(strstr(html, "<td class=\"num\">180.4 M</td><td class=\"num\">180.4 M "
                                 "\xe2\x80\x93 183.4 M</td>"));
    assert_null(strstr(html, "<td class=\"num\">180.4 M instructions \xe2\x80\x93"));
    assert_non_null(strstr(html, "<div class=\"value\">183.4 M instructions</div>"));
    /* the value axis in millions, titled with its unit */
    assert_non_null(strstr(html, "rotate(-90)\" text-anchor=\"middle\">instructions (M)</text>"));
    assert_null(strstr(html, "99.5"));
    assert_null(strstr(html, "No run to draw."));
    free(html);
    json_decref(doc);
}

/* ---- the compare-hosts page and the farm parts of the history page ---- */

static json_t *pair(const char *a, const char *b, double r, double lo, double hi, bool same)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:f, s:f, s:f, s:i, s:i, s:f, s:f}", "script",
                     EVIL, "host_a", a, "host_b", b, "python_build_a", "3.11 " EVIL,
                     "python_build_b", same ? "3.11 " EVIL : "3.12", "same_python_build", same,
                     "ratio", r, "ci_low", lo, "ci_high", hi, "samples_a", 25, "samples_b", 30,
                     "median_a", 1.0, "median_b", r);
}

static json_t *compare_doc(void)
{
    json_t *pairs = json_array();
    json_array_append_new(pairs, pair("host-a", EVIL, 1.3, 1.2, 1.4, true));
    json_array_append_new(pairs, pair("host-a", "host-c", 0.8, 0.7, 0.9, false));
    json_array_append_new(pairs, pair("host-b", "host-c", 1.0, 0.9, 1.1, false));
    json_array_append_new(pairs, json_pack("{s:s, s:s, s:n}", "host_a", "x", "host_b", "y",
                                           "ratio")); /* no numbers: listed, not drawn */
    json_t *hosts = json_pack("[{s:s, s:s, s:[{s:s, s:i, s:i, s:f, s:s}]}]", "hostname", EVIL,
                              "fingerprint", "00000000000000b2", "series", "python_build", EVIL,
                              "runs", 5, "samples", 25, "median", 1.0, "newest", EVIL);
    return json_pack("{s:s, s:{s:s, s:s, s:i, s:o, s:o}}", "schema", "pyscope.compare_hosts/1",
                     "compare_hosts", "script", EVIL, "metric", "wall_s", "runs_per_host", 5,
                     "pairs", pairs, "hosts", hosts);
}

/* Pairs compared under one build (its column), those not compared and the hosts left out by
 * --python, listed with the builds they ran; every name and build escaped. */
static void test_hosts_page_builds(void **state)
{
    (void)state;
    json_t *doc = compare_doc();
    json_t *c = json_object_get(doc, "compare_hosts");
    json_object_set_new(json_array_get(json_object_get(c, "pairs"), 0), "python_build",
                        json_string("3.12.1 (main) " EVIL));
    json_object_set_new(c, "python", json_string("3.12"));
    json_object_set_new(c, "not_compared",
                        json_pack("[{s:s, s:s, s:[s], s:[s, s]}]", "host_a", "host-a", "host_b",
                                  EVIL, "python_builds_a", "3.11.2 (main)", "python_builds_b",
                                  "3.13.0 " EVIL, "3.12.1 (x)"));
    json_object_set_new(c, "hosts_without_python",
                        json_pack("[{s:s, s:s, s:[s]}]", "hostname", "host-z", "fingerprint",
                                  "00000000000000ff", "python_builds", "3.10.4 (y)"));
    int rc;
    char *html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    assert_non_null(strstr(html, "<dt>Python</dt><dd>3.12: one build on both hosts"));
    assert_non_null(strstr(html, "<td>3.12.1 (main) &lt;script&gt;"));
    assert_non_null(strstr(html, "<section id=\"not-compared\">"));
    assert_non_null(strstr(html, "<li>&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp; vs "
                                 "host-a: no Python build ran on both (host-a: 3.11.2 (main); "));
    assert_non_null(strstr(html, "3.13.0 &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;; "
                                 "3.12.1 (x))</li>"));
    assert_non_null(strstr(html, "<li>host-z: no run under Python 3.12 (it ran: 3.10.4 (y))</li>"));
    /* before the hosts table, after the pairs' */
    assert_true(strstr(html, "id=\"not-compared\"") > strstr(html, "id=\"pairs\""));
    assert_true(strstr(html, "id=\"not-compared\"") < strstr(html, "<section id=\"hosts\""));
    free(html);
    /* nothing left out: no section */
    json_object_del(c, "not_compared");
    json_object_del(c, "hosts_without_python");
    html = render(html_hosts_write, doc, &rc);
    assert_null(strstr(html, "not-compared"));
    free(html);
    json_decref(doc);
}

static void test_hosts_page(void **state)
{
    (void)state;
    json_t *doc = compare_doc();
    int rc;
    char *html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    assert_non_null(strstr(html, "<svg class=\"chart\""));
    assert_non_null(strstr(html, "class=\"pt regression\"")); /* B slower, CI above 1 */
    assert_non_null(strstr(html, "class=\"pt improvement\""));
    assert_non_null(strstr(html, "class=\"num bad\">1.300<"));
    assert_non_null(strstr(html, "<span class=\"warn\">differ</span>: A 3.11"));
    assert_non_null(strstr(html, "newest 5"));
    /* three pairs with numbers drawn, four rows in the table */
    size_t circles = 0, rows = 0;
    for (const char *p = html; (p = strstr(p, "<circle")); p++)
        circles++;
    for (const char *p = strstr(html, "id=\"pairs\"");
         p && (p = strstr(p, "<tr><td>")) && p < strstr(html, "id=\"hosts\""); p++)
        rows++;
    assert_int_equal(circles, 3);
    assert_int_equal(rows, 4);
    free(html);

    /* memory in MiB */
    json_object_set_new(json_object_get(doc, "compare_hosts"), "metric",
                        json_string("peak_rss_bytes"));
    json_object_set_new(
        json_array_get(json_object_get(json_object_get(doc, "compare_hosts"), "pairs"), 0),
        "median_a", json_real(2 * 1024.0 * 1024.0));
    html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(html, "2.0 MiB"));
    free(html);
    json_decref(doc);
}

static void test_hosts_refused(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s, s:{}}", "schema", "pyscope.history/1", "compare_hosts");
    int rc;
    char *html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(html);
    json_decref(doc);
    doc = json_pack("{s:s}", "schema", "pyscope.compare_hosts/1");
    html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(html);
    json_decref(doc);
    /* empty: a page that says there is nothing to draw */
    doc = json_pack("{s:s, s:{s:s, s:[], s:[]}}", "schema", "pyscope.compare_hosts/1",
                    "compare_hosts", "script", EVIL, "pairs", "hosts");
    html = render(html_hosts_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    assert_non_null(strstr(html, "No pair to draw"));
    free(html);
    json_decref(doc);
}

/* A farm history document: the stored regressions escaped, listed and on their run. */
static void test_history_farm(void **state)
{
    (void)state;
    json_t *reg = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s}", "id", 7,
                            "batch_id", 6, "candidate_run", "run-2-" EVIL, "metric", "wall_s",
                            "function", EVIL, "kind", "regression", "change_pct", 30.1,
                            "ci_low_pct", 28.0, "ci_high_pct", 32.0, "state", "confirmed");
    json_t *doc = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:[{s:s, s:s, s:n, s:i, s:f, s:f, s:f, s:f, "
        "s:f, s:s, s:b, s:i, s:[]}, {s:s, s:s, s:n, s:i, s:f, s:f, s:f, s:f, s:f, s:s, s:b, "
        "s:i, s:[O]}], s:[], s:[O]}",
        "schema", "pyscope.history/1", "script", EVIL, "host", "hostname", EVIL, "fingerprint",
        "00000000000000b2", "python_build", "3.11", "source", "farm", "coordinator", "tcp://" EVIL,
        "runs", "id", "run-1", "created", "2026-11-24T01:00:00Z", "file", "n", 5, "median_wall_s",
        1.0, "q1_wall_s", 0.99, "q3_wall_s", 1.01, "min_wall_s", 0.98, "max_wall_s", 1.02,
        "verdict", "first run", "change_point", 0, "batch_id", 1, "stored_regressions", "id",
        "run-2-" EVIL, "created", "2026-11-24T02:00:00Z", "file", "n", 5, "median_wall_s", 1.3,
        "q1_wall_s", 1.29, "q3_wall_s", 1.31, "min_wall_s", 1.28, "max_wall_s", 1.32, "verdict",
        "regression", "change_point", 0, "batch_id", 2, "stored_regressions", reg, "change_points",
        "stored_regressions", reg);
    assert_non_null(doc);
    int rc;
    char *html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "the farm: <code>tcp://&lt;script&gt;"));
    assert_non_null(strstr(html, "<td>batch 2</td>"));
    assert_non_null(strstr(html, "farm: regression #7 wall_s, confirmed"));
    assert_non_null(strstr(html, "id=\"stored\""));
    assert_non_null(strstr(html, "+30.1%"));
    assert_non_null(strstr(html, "wall_s &lt;script&gt;alert(1)"));
    free(html);
    json_decref(reg);
    json_decref(doc);
}

/* A commit as pyscope_commit gives it: hostile subject and author (untrusted). */
static json_t *commit_of(const char *hash)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "hash", hash, "subject", "Fix " EVIL, "author",
                     "Mallory " EVIL " <m@example.org>", "date", "2026-11-22T10:00:00Z");
}

/* Farm history: each stored regression's range and bisection, as pyscope history's text says
 * them (state, steps, runs, message, culprit or the interval), every string escaped. */
static void test_history_bisections(void **state)
{
    (void)state;
    const char *c1 = "1111111111111111111111111111111111111111",
               *c2 = "2222222222222222222222222222222222222222";
    json_t *found = json_pack("{s:i, s:i, s:s, s:s, s:s, s:f, s:s}", "id", 7, "batch_id", 6,
                              "candidate_run", "run-2", "metric", "wall_s", "kind", "regression",
                              "change_pct", 30.1, "state", "confirmed");
    json_object_set_new(found, "range",
                        json_pack("{s:o, s:o, s:i, s:b, s:b}", "good", commit_of(c1), "bad",
                                  commit_of(c2), "commits", 4, "exact", 1, "good_is_ancestor", 1));
    json_t *culprit = commit_of(c2);
    json_object_set_new(culprit, "merge", json_true());
    json_object_set_new(found, "bisection",
                        json_pack("{s:i, s:s, s:s, s:o, s:o, s:o, s:i, s:i, s:i, s:i}", "id", 3,
                                  "state", "found", "message", "msg " EVIL, "culprit", culprit,
                                  "last_good", commit_of(c1), "first_bad", commit_of(c2), "commits",
                                  1, "steps", 6, "turns", 60, "unrunnable", 0));
    json_t *open = json_pack("{s:i, s:i, s:s, s:s, s:s, s:f, s:s}", "id", 8, "batch_id", 7,
                             "candidate_run", "run-3", "metric", "cpu_s", "kind", "regression",
                             "change_pct", 12.0, "state", "new");
    json_object_set_new(open, "bisection",
                        json_pack("{s:i, s:s, s:s, s:n, s:o, s:o, s:i, s:i, s:i, s:i}", "id", 4,
                                  "state", "inconclusive", "message", "step 3 stayed open",
                                  "culprit", "last_good", commit_of(c1), "first_bad", commit_of(c2),
                                  "commits", 2, "steps", 1, "turns", 1, "unrunnable", 1));
    json_t *none = json_pack("{s:i, s:i, s:s, s:s, s:s, s:f, s:s, s:n, s:n}", "id", 9, "batch_id",
                             7, "candidate_run", "run-4", "metric", "wall_s", "kind", "improvement",
                             "change_pct", -9.0, "state", "new", "range", "bisection");
    json_t *doc = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:[], s:[], s:[o, o, o]}", "schema",
                            "pyscope.history/1", "script", "a.py", "host", "hostname", "h",
                            "fingerprint", "00000000000000b2", "source", "farm", "runs",
                            "change_points", "stored_regressions", found, open, none);
    assert_non_null(doc);
    int rc;
    char *html = render(html_history_write, doc, &rc);
    assert_int_equal(rc, 0);
    check_page(html);
    /* the range */
    assert_non_null(strstr(html,
                           "last good <code title=\"1111111111111111111111111111111111111111"
                           "\">111111111111</code> Fix &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_non_null(strstr(html, "4 commits in the range"));
    /* found: state, steps and runs, the message, the culprit */
    assert_non_null(strstr(html, "bisection 3: found after 6 steps, 60 runs <span class=\"muted\">"
                                 "(msg &lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;)"));
    assert_non_null(strstr(html, "culprit <code title=\"2222222222222222222222222222222222222222"
                                 "\">222222222222</code> Fix &lt;script&gt;"));
    assert_non_null(strstr(html, "Mallory &lt;script&gt;alert(1)&lt;/script&gt;"));
    /* none named: why, the interval it was narrowed to, the commits it could not run at */
    assert_non_null(strstr(html, "bisection 4: inconclusive after 1 step, 1 run <span "
                                 "class=\"muted\">(step 3 stayed open)"));
    assert_non_null(strstr(html, "narrowed to: last good <code"));
    assert_non_null(strstr(html, "2 commits; 1 commit the script could not run at"));
    /* a regression with neither: no row for them */
    const char *nine = strstr(html, "<tr><td>9</td>");
    assert_non_null(nine);
    assert_null(strstr(nine, "class=\"commits-row\""));
    free(html);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_page),      cmocka_unit_test(test_refuses_foreign),
        cmocka_unit_test(test_history_page),      cmocka_unit_test(test_history_page_instructions),
        cmocka_unit_test(test_hosts_page),        cmocka_unit_test(test_hosts_page_builds),
        cmocka_unit_test(test_hosts_refused),     cmocka_unit_test(test_history_farm),
        cmocka_unit_test(test_history_time_axis), cmocka_unit_test(test_history_bisections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
