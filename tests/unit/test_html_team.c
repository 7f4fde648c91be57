/* test_html_team.c - the team report page: escaping, states, malformed and empty input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "html_team.h"

#define HOSTILE     "<script>alert(1)</script>"
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;"

/* Render doc into a new string (caller frees); *rc gets the return code. */
static char *render(const json_t *doc, int *rc)
{
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = html_team_write(f, doc, err, sizeof(err));
    assert_int_equal(fclose(f), 0);
    return buf;
}

static json_t *hostile_doc(void)
{
    json_t *g = json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I,"
        " s:{s:[{s:s, s:f, s:f}], s:b, s:b, s:b}, s:s, s:I, s:s}",
        "id", (json_int_t)7, "batch_id", (json_int_t)3, "script", HOSTILE, "host", HOSTILE "h",
        "python_build", "\"><img src=x>", "metric", "wall_s", "function", HOSTILE "f", "kind",
        "regression", "mode", "statistical", "change_pct", 12.5, "ci_low_pct", 10.0, "ci_high_pct",
        15.0, "p_value", 0.001, "q_value", 0.004, "baseline_median", 1.0, "candidate_median", 1.125,
        "baseline_runs", (json_int_t)5, "why", "functions", "key", HOSTILE "k", "delta_s", 0.12,
        "share_pct", 96.0, "script_changed", 1, "python_changed", 0, "host_changed", 0, "state",
        "confirmed", "confirm_runs", (json_int_t)2, "note", "<b>note</b>");
    json_t *rep = json_pack(
        "{s:[{s:I, s:s, s:s, s:s}], s:[o], s:[], s:{s:[s], s:[s], s:[{s:s, s:s, s:f, s:s}]},"
        " s:[{s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:I}]}",
        "batches", "id", (json_int_t)3, "suite", HOSTILE, "label", "night", "commit", "abc",
        "regressions", g, "improvements", "matrix", "hosts", HOSTILE "h", "scripts", HOSTILE,
        "cells", "script", HOSTILE, "host", HOSTILE "h", "median_wall_s", 1.1, "status",
        "regression", "hardware", "script", HOSTILE, "host_a", "a", "host_b", HOSTILE "h", "ratio",
        1.2, "ci_low", 1.1, "ci_high", 1.3, "samples_a", (json_int_t)5, "samples_b", (json_int_t)5);
    return json_pack("{s:s, s:o}", "schema", "pyscope.team_report/1", "report", rep);
}

static void test_hostile_strings_escaped(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<img"));
    assert_null(strstr(page, "<b>note"));
    assert_non_null(strstr(page, HOSTILE_ESC));
    assert_non_null(strstr(page, "&quot;&gt;&lt;img src=x&gt;"));
    assert_non_null(strstr(page, "confirmed (2 runs)"));
    assert_non_null(strstr(page, "&lt;b&gt;note&lt;/b&gt;"));
    assert_non_null(strstr(page, "+12.5%"));
    assert_non_null(strstr(page, "script changed"));
    assert_non_null(strstr(page, "Content-Security-Policy"));
    assert_null(strstr(page, "://"));
    free(page);
    json_decref(doc);
}

/* An open regression seen again by later batches says so; a one-night one does not. */
static void test_ongoing_nights(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(page, "ongoing:"));
    free(page);
    json_t *g = json_array_get(json_object_get(json_object_get(doc, "report"), "regressions"), 0);
    json_object_set_new(g, "nights", json_integer(3));
    json_object_set_new(g, "last_batch_id", json_integer(5));
    page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "ongoing: 3 nights, since batch 3, latest batch 5"));
    free(page);
    json_decref(doc);
}

static void test_wrong_types_show_dashes(void **state)
{
    (void)state;
    json_t *doc = json_loads("{\"regressions\": [{\"id\": \"x\", \"script\": 5, \"change_pct\":"
                             " \"big\", \"why\": 3, \"state\": null}], \"batches\": 7,"
                             " \"matrix\": [], \"hardware\": {}}",
                             0, NULL);
    assert_non_null(doc);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "Regressions (1)"));
    assert_non_null(strstr(page, "</html>"));
    free(page);
    json_decref(doc);
}

static void test_not_a_report(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s}", "schema", "pyscope.hosts/1");
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, -PYSCOPE_ESCHEMA);
    free(page);
    json_decref(doc);
}

static void test_empty_report(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:[], s:[], s:[], s:{}, s:[]}", "regressions", "improvements",
                            "batches", "matrix", "hardware");
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "0 regressions (0 open)"));
    assert_non_null(strstr(page, "No batch in this window."));
    free(page);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_strings_escaped),
        cmocka_unit_test(test_ongoing_nights),
        cmocka_unit_test(test_wrong_types_show_dashes),
        cmocka_unit_test(test_not_a_report),
        cmocka_unit_test(test_empty_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
