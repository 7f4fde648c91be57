/* test_html_report.c - the HTML report: well-formedness, hostile and malformed input (the
 * escaping itself: test_html_text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "html_report.h"
#include "html_verdict.h"

static json_t *load_fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", PYSCOPE_TEST_DATA, name);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j)
        fail_msg("could not load %s: %s", path, jerr.text);
    return j;
}

/* Render report into a new string (caller frees); *rc gets the return code. */
static char *render(const json_t *report, int *rc, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = html_report_write(f, report, err, errlen);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *render_ok(const json_t *report)
{
    char err[256] = "";
    int rc;
    char *page = render(report, &rc, err, sizeof(err));
    if (rc != 0)
        fail_msg("html_report_write failed: %d %s", rc, err);
    return page;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Return the JSON data island of page as a new json_t. */
static json_t *data_island(const char *page)
{
    const char *open = "<script type=\"application/json\" id=\"data\">";
    const char *start = strstr(page, open);
    assert_non_null(start);
    start += strlen(open);
    const char *end = strstr(start, "</script>");
    assert_non_null(end);
    json_error_t jerr;
    json_t *j = json_loadb(start, (size_t)(end - start), 0, &jerr);
    if (!j)
        fail_msg("data island is not json: %s", jerr.text);
    return j;
}

static void test_hostile_strings_escaped(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-hostile.json");
    char *page = render_ok(report);
    /* nothing from input opens a tag or breaks out of the data element */
    assert_null(strstr(page, "<script>alert"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "<!--"));
    assert_null(strstr(page, "\"><script"));
    assert_null(strstr(page, "'&"));
    /* exactly our three script elements */
    assert_int_equal(count(page, "<script"), 3);
    assert_int_equal(count(page, "</script>"), 3);
    /* the strings are there, escaped */
    assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
    assert_non_null(strstr(page, "&lt;img src=x onerror=alert(3)&gt;"));
    assert_non_null(strstr(page, "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
    /* U+2028 never raw inside the script element */
    const char *island = strstr(page, "id=\"data\">");
    assert_non_null(island);
    assert_null(strstr(island, "\xe2\x80\xa8"));
    /* and the data survives the escaping intact */
    json_t *data = data_island(page);
    json_t *threads = json_object_get(data, "threads");
    assert_int_equal(json_array_size(threads), 2);
    assert_string_equal(json_string_value(json_array_get(threads, 0)),
                        "T<script>alert(1)</script>");
    assert_string_equal(json_string_value(json_array_get(threads, 1)),
                        "W\"'&</script><script>alert(2)</script>");
    json_t *frames = json_object_get(data, "frames");
    assert_int_equal(json_array_size(frames), 3);
    assert_string_equal(json_string_value(json_array_get(json_array_get(frames, 2), 0)),
                        "gline\\u2028sep\\u2029para"); /* the display form */
    json_decref(data);
    free(page);
    json_decref(report);
}

static void test_sample_report_wellformed(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-sample.json");
    char *page = render_ok(report);
    size_t len = strlen(page);
    assert_true(strncmp(page, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    assert_string_equal(page + len - 8, "</html>\n");
    /* every section, and balanced elements */
    const char *ids[] = {"summary", "regression", "suggestions", "hotspots",
                         "flame",   "memory",     "runs"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "<section id=\"%s\">", ids[i]);
        if (!strstr(page, needle))
            fail_msg("missing %s", needle);
    }
    const char *tags[][2] = {{"<section", "</section>"}, {"<table", "</table>"}, {"<tr", "</tr>"},
                             {"<div", "</div>"},         {"<td", "</td>"},       {"<th", "</th>"},
                             {"<ul", "</ul>"},           {"<li ", "</li>"},      {"<svg", "</svg>"},
                             {"<dl", "</dl>"},           {"<dt>", "</dt>"},      {"<dd", "</dd>"},
                             {"<code", "</code>"},       {"<span", "</span>"}};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        size_t o =
            count(page, tags[i][0]) - (strcmp(tags[i][0], "<th") == 0 ? count(page, "<thead") : 0);
        size_t c = count(page, tags[i][1]);
        if (o != c)
            fail_msg("%zu %s but %zu %s", o, tags[i][0], c, tags[i][1]);
    }
    /* offline: no URL at all */
    assert_null(strstr(page, "http://"));
    assert_null(strstr(page, "https://"));
    assert_null(strstr(page, "//cdn"));
    /* content */
    assert_int_equal(count(page, "<tr><td class=\"fn\">"), 31);
    assert_non_null(strstr(page, "examples/etl_pipeline.py"));
    assert_non_null(strstr(page, "1.412 s"));
    assert_non_null(strstr(page, "verdict-regression"));
    assert_non_null(strstr(page, "<li class=\"v-regression\">Wall time rose <b>7.9%</b>: "
                                 "1.309 s \xe2\x86\x92 1.412 s (95% CI +5.1% \xe2\x80\xa6 +10%, "
                                 "p = 0.001)."));
    assert_non_null(strstr(page, "<li class=\"v-same\">Unchanged: CPU time.</li>"));
    assert_non_null(strstr(page, "Peak memory may have grown 2.2%, but it is <b>not certain</b>"));
    assert_null(strstr(page, "hl_shift_pct")); /* no key=value dump */
    /* a suggestion's evidence in words and units */
    assert_non_null(strstr(page, "\xc2\xb7 total 38.2% \xc2\xb7 threshold 30% "));
    assert_null(strstr(page, "total_pct="));
    /* the flame graph comes before the long tables */
    assert_true(strstr(page, "<section id=\"flame\">") < strstr(page, "<section id=\"hotspots\">"));
    assert_non_null(strstr(page, "prefers-color-scheme"));
    assert_non_null(strstr(page, "Content-Security-Policy"));
    assert_int_equal(count(page, "<tr class=\"warmup\">"), 1);
    json_t *data = data_island(page);
    assert_int_equal(json_array_size(json_object_get(data, "threads")), 2);
    assert_int_equal(json_array_size(json_object_get(data, "stacks")), 38);
    assert_true(json_real_value(json_object_get(data, "unit_s")) == 0.004);
    json_decref(data);
    free(page);
    json_decref(report);
}

/*
 * The regression section says why each verdict is what it is (truthl's
 * "rule" and "reason"), which metric decided when not the wall time, and
 * how busy the machine was when the wall time was judged net of waiting.
 */
static void test_regression_reasons(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-sample.json");
    json_t *reg = json_object_get(report, "regression");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        const char *name = json_string_value(json_object_get(m, "metric"));
        if (strcmp(name, "wall_s") == 0) {
            json_object_set_new(m, "rule", json_string("significant"));
            json_object_set_new(m, "reason",
                                json_string("slower beyond the 5% threshold, "
                                            "p=0.001, 95% CI off 0"));
            json_object_set_new(m, "contention",
                                json_pack("{s:b, s:f, s:f, s:f, s:f, s:b, s:b, s:b, s:{s:f}}",
                                          "known", 1, "candidate_queued_pct", 31.0,
                                          "baseline_queued_pct", 2.0, "candidate_cpu_bound_pct",
                                          50.0, "baseline_cpu_bound_pct", 52.0, "contaminated", 1,
                                          "cpu_bound", 0, "net_of_queueing", 1, "raw", "change_pct",
                                          41.0));
        } else if (strcmp(name, "peak_rss_bytes") == 0) {
            json_object_set_new(m, "rule", json_string("insufficient_history"));
            json_object_set_new(m, "reason",
                                json_string("insufficient history: 2 of 3 baseline runs"));
        }
    }
    /* twelve inconclusive function times: one sentence, not twelve */
    for (int f = 0; f < 12; f++) {
        char key[64];
        snprintf(key, sizeof(key), "mod.py:fn%d:%d", f, f + 1);
        json_array_append_new(json_object_get(reg, "metrics"),
                              json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:s}", "metric",
                                        f % 2 ? "self_s" : "total_s", "function", key, "verdict",
                                        "inconclusive", "mode", "statistical", "change_pct",
                                        3.0 + f, "rule", "contended", "reason",
                                        "wall time is not comparable: rerun when it is quieter"));
    }
    json_object_set_new(reg, "decision",
                        json_pack("{s:s, s:s, s:s}", "metric", "instructions", "rule",
                                  "deterministic", "reason", "<b>instructions</b> decide"));
    char *page = render_ok(report);
    assert_non_null(strstr(page, "<li class=\"v-note v-decision\">Decided on instruction counts: "
                                 "&lt;b&gt;instructions&lt;/b&gt; decide.</li>"));
    assert_non_null(strstr(page, "<li class=\"v-note v-contention\">The machine was busy: this "
                                 "run waited for a CPU 31% of its wall time, the baseline 2%. "
                                 "The wall time is judged net of that wait (with it, the change "
                                 "was +41.0%).</li>"));
    assert_non_null(strstr(page, "<li class=\"v-regression\">Wall time (net of waiting for a "
                                 "CPU) rose <b>7.9%</b>: "));
    /* the table's row too: its figures are not the summary card's wall time */
    assert_non_null(strstr(page, "<td class=\"metric\">Wall time <span class=\"note\">(net of "
                                 "waiting for a CPU)</span></td>"));
    assert_non_null(strstr(page, "p = 0.001) \xe2\x80\x94 <span class=\"v-reason\" "
                                 "data-rule=\"significant\">slower beyond the 5% threshold, "
                                 "p=0.001, 95% CI off 0 <span class=\"note\">(rule <code>"
                                 "significant</code>)</span></span>.</li>"));
    assert_non_null(strstr(page, "but it is <b>not certain</b>: "));
    assert_non_null(strstr(page, ". Why not certain: <span class=\"v-reason\" data-rule="
                                 "\"insufficient_history\">insufficient history: 2 of 3 baseline "
                                 "runs <span class=\"note\">(rule <code>insufficient_history"
                                 "</code>)</span></span>"));
    assert_non_null(strstr(page, "<li class=\"v-inconclusive\">12 function times may have "
                                 "moved, but none is <b>certain</b>: "));
    assert_int_equal(count(page, "rerun when it is quieter <span"), 1);
    /* the table's verdict cell says it on hover */
    assert_non_null(strstr(page, "<td class=\"verdict-regression\" title=\"slower beyond the 5% "
                                 "threshold, p=0.001, 95% CI off 0\">regression"));
    free(page);
    json_decref(report);
}

static void test_trace_report(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-trace.json");
    char *page = render_ok(report);
    assert_non_null(strstr(page, "data-v=\"182000\">182000</td>"));
    assert_non_null(strstr(page, "<div class=\"value bad\">failed</div>"));
    assert_null(strstr(page, "<section id=\"memory\">")); /* empty timeline: no chart */
    /* a trace counts calls: its card says how many, not "0 samples" */
    assert_non_null(strstr(page, "<div class=\"label\">Profile</div><div class=\"value\">550,008"
                                 "</div><div class=\"sub\">function calls per run, traced (12 "
                                 "functions)"));
    json_t *data = data_island(page);
    assert_true(json_real_value(json_object_get(data, "unit_s")) == 1e-6);
    json_decref(data);
    free(page);
    json_decref(report);
}

static void test_instructions_card(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-trace.json");
    char *page = render_ok(report);
    assert_null(strstr(page, "<div class=\"label\">Instructions</div>"));
    free(page);
    json_object_set_new(report, "instructions",
                        json_pack("{s:s, s:s, s:[I, I]}", "tool", "cachegrind", "python_hash_seed",
                                  "<b>", "counts", (json_int_t)298667570, (json_int_t)298667570));
    page = render_ok(report);
    assert_non_null(strstr(page,
                           "<div class=\"label\">Instructions</div><div class=\"value\">298.7 "
                           "M</div><div class=\"sub\">median of 2 runs; cachegrind, "
                           "PYTHONHASHSEED=&lt;b&gt;</div></div>"));
    free(page);
    json_decref(report);
}

static void test_malformed_report_renders(void **state)
{
    (void)state;
    const char *names[] = {"report-malformed.json", "report-small.json"};
    for (size_t i = 0; i < 2; i++) {
        json_t *report = load_fixture(names[i]);
        char *page = render_ok(report);
        assert_non_null(strstr(page, "</html>\n"));
        free(page);
        json_decref(report);
    }
    json_t *empty = json_object();
    char *page = render_ok(empty);
    assert_non_null(strstr(page, "No function profile"));
    free(page);
    json_decref(empty);
}

static void test_rejects_non_reports(void **state)
{
    (void)state;
    char err[128] = "";
    int rc;
    json_t *arr = load_fixture("report-notobject.json");
    char *page = render(arr, &rc, err, sizeof(err));
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    assert_string_equal(err, "report is not a json object");
    free(page);
    json_decref(arr);
    json_t *future = load_fixture("report-future.json");
    page = render(future, &rc, err, sizeof(err));
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    assert_string_equal(err, "unsupported report schema \"pyscope.report/2\"");
    assert_string_equal(page, "");
    free(page);
    json_decref(future);
    /* run documents and minor versions are fine; a NULL error buffer too */
    json_t *run = json_pack("{s:s}", "schema", "pyscope.run/1.3");
    page = render(run, &rc, NULL, 0);
    assert_int_equal(rc, 0);
    free(page);
    json_decref(run);
}

static void test_regression_generic(void **state)
{
    (void)state;
    json_t *report =
        json_pack("{s:{s:{s:{s:s, s:f, s:f, s:f, s:f}}, s:[{s:s, s:f}]}}", "regression", "metrics",
                  "wall_s", "verdict", "regression", "change_pct", 7.5, "ci_low", 1.0, "ci_high",
                  2.0, "p", 0.01, "why", "function", "a.py:f:1", "delta_s", 0.25);
    char *page = render_ok(report);
    assert_non_null(strstr(page, "<td>wall_s</td><td class=\"verdict-regression\">regression"));
    assert_non_null(strstr(page, "+7.50%"));
    assert_non_null(strstr(page, "[1, 2]"));
    assert_non_null(strstr(page, ">0.01</td>"));
    assert_non_null(strstr(page, "<h3>why</h3>"));
    assert_non_null(strstr(page, "a.py:f:1"));
    free(page);
    json_decref(report);
}

/* A big profile: thousands of stacks stay a page of a few hundred KB. */
static void test_large_report_is_small(void **state)
{
    (void)state;
    json_t *stacks = json_array(), *fns = json_array();
    for (int i = 0; i < 500; i++) {
        char key[96];
        snprintf(key, sizeof(key), "project/pkg/module_%d.py:Class%d.method_%d:%d", i % 40, i % 7,
                 i, 10 + i);
        json_array_append_new(
            fns, json_pack("{s:s, s:f, s:f}", "key", key, "self_s", 0.01, "total_s", 0.02));
    }
    for (int s = 0; s < 6000; s++) {
        json_t *frames = json_array();
        int depth = 8 + s % 17;
        for (int d = 0; d < depth; d++) {
            char key[96];
            int f = (s * 31 + d * 7) % 500;
            snprintf(key, sizeof(key), "project/pkg/module_%d.py:Class%d.method_%d:%d", f % 40,
                     f % 7, f, 10 + f);
            json_array_append_new(frames, json_string(key));
        }
        json_array_append_new(stacks, json_pack("{s:s, s:o, s:i}", "thread",
                                                s % 3 ? "MainThread" : "worker", "frames", frames,
                                                "samples", 1 + s % 50));
    }
    json_t *report =
        json_pack("{s:s, s:{s:s, s:f, s:o, s:o}}", "schema", "pyscope.report/1", "profile", "mode",
                  "sample", "interval_s", 0.004, "functions", fns, "stacks", stacks);
    char *page = render_ok(report);
    size_t len = strlen(page);
    if (len > 600 * 1024)
        fail_msg("page is %zu bytes", len);
    assert_int_equal(count(page, "<tr><td class=\"fn\">"), 300);
    assert_non_null(strstr(page, "Showing the first 300 of 500 functions"));
    free(page);
    json_decref(report);
}

/* Real profiles share long prefixes: rows repeat only what differs. */
static void test_shared_prefixes_are_compact(void **state)
{
    (void)state;
    json_t *stacks = json_array();
    for (int s = 0; s < 4000; s++) {
        json_t *frames = json_array();
        for (int d = 0; d < 30; d++) {
            char key[96];
            /* a common trunk, then branches decided by s's digits */
            int id = d < 20 ? d : 100 * d + (s >> (2 * (29 - d) / 3)) % 64;
            snprintf(key, sizeof(key), "site-packages/framework/layer_%d.py:handler_%d:%d", d, id,
                     d + 1);
            json_array_append_new(frames, json_string(key));
        }
        json_array_append_new(stacks, json_pack("{s:s, s:o, s:i}", "thread", "MainThread", "frames",
                                                frames, "samples", 1 + s % 9));
    }
    json_t *report = json_pack("{s:{s:s, s:f, s:o}}", "profile", "mode", "sample", "interval_s",
                               0.004, "stacks", stacks);
    char *page = render_ok(report);
    json_t *data = data_island(page);
    json_t *rows = json_object_get(data, "stacks");
    assert_int_equal(json_array_size(rows), 4000);
    /* every row after the first shares the 20-frame trunk */
    json_t *row;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        if (i > 0 && json_integer_value(json_array_get(row, 2)) < 20)
            fail_msg("row %zu shares only %lld frames", i,
                     (long long)json_integer_value(json_array_get(row, 2)));
    }
    size_t len = strlen(page);
    if (len > 250 * 1024)
        fail_msg("page is %zu bytes", len);
    json_decref(data);
    free(page);
    json_decref(report);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    json_t *report = load_fixture("report-sample.json");
    char err[128] = "";
    assert_int_equal(html_report_write(full, report, err, sizeof(err)), -EIO);
    assert_non_null(strstr(err, "could not write html report"));
    fclose(full);
    json_decref(report);
}

/* The machine-speed note (lib/regress.h, the machine's speed): written only when it moved. */
static void test_machine_speed_note(void **state)
{
    (void)state;
    json_t *sp =
        json_pack("{s:f, s:f, s:f, s:f, s:b}", "baseline_ref_ns", 300e3, "candidate_ref_ns", 405e3,
                  "change_pct", 35.0, "limit_pct", 12.5, "moved", 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(html_verdict_speed(f, sp));
    assert_int_equal(fclose(f), 0);
    assert_non_null(strstr(buf, "The machine ran 35% slower than during the baseline: a fixed "
                                "reference loop timed around each repeat took +35.0% CPU time "
                                "(limit ±12.5%)"));
    assert_non_null(strstr(buf, "Shown, not used to decide"));
    free(buf);
    json_object_set_new(sp, "moved", json_false());
    buf = NULL;
    f = open_memstream(&buf, &len);
    assert_false(html_verdict_speed(f, sp));
    assert_false(html_verdict_speed(f, NULL));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(len, 0);
    free(buf);
    json_decref(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_strings_escaped),
        cmocka_unit_test(test_sample_report_wellformed),
        cmocka_unit_test(test_regression_reasons),
        cmocka_unit_test(test_trace_report),
        cmocka_unit_test(test_instructions_card),
        cmocka_unit_test(test_malformed_report_renders),
        cmocka_unit_test(test_rejects_non_reports),
        cmocka_unit_test(test_regression_generic),
        cmocka_unit_test(test_large_report_is_small),
        cmocka_unit_test(test_shared_prefixes_are_compact),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_machine_speed_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
