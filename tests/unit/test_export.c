/* test_export.c - collapsed stacks (golden) and speedscope JSON (parsed back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errors.h"
#include "export.h"

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

/* Run fn on report into a new string (caller frees); *rc gets its return code. */
static char *capture(int (*fn)(FILE *, const json_t *), const json_t *report, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *rc = fn(f, report);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_collapsed_golden(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-small.json");
    int rc;
    char *out = capture(export_collapsed, report, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out,
                        "MainThread;<module> (examples/small.py:1);main (examples/small.py:5) 18\n"
                        "MainThread;<module> (examples/small.py:1);main (examples/small.py:5);"
                        "work (examples/small.py:9) 30\n"
                        "worker;Thread.run (/usr/lib/python3.11/threading.py:975);"
                        "<built-in method time.sleep> 10\n"
                        "MainThread;odd\\nname (examples/sm_all.py:3);? 2\n");
    free(out);
    json_decref(report);
}

static void test_collapsed_single_thread(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-trace.json");
    int rc;
    char *out = capture(export_collapsed, report, &rc);
    assert_int_equal(rc, 0);
    assert_true(strncmp(out, "<module> (examples/word_count.py:1) 4000\n", 41) == 0);
    assert_non_null(strstr(out, "\n<module> (examples/word_count.py:1);main "
                                "(examples/word_count.py:40);count_words "
                                "(examples/word_count.py:20);normalize (examples/word_count.py:28);"
                                "<method 'lower' of 'str' objects> 101200\n"));
    /* one line per stack, each ending in a space and an integer */
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 12);
    free(out);
    json_decref(report);
}

static void test_no_stacks(void **state)
{
    (void)state;
    json_t *cases[] = {
        json_object(), json_array(), json_pack("{s:{s:[]}}", "profile", "stacks"),
        json_pack("{s:{s:s}}", "profile", "stacks", "x"),
        json_pack("{s:{s:[{s:[], s:i}]}}", "profile", "stacks", "frames", "samples", 3)};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;
        char *out = capture(export_collapsed, cases[i], &rc);
        assert_int_equal(rc, -PYSCOPE_ENODATA);
        assert_string_equal(out, "");
        free(out);
        out = capture(export_speedscope, cases[i], &rc);
        assert_int_equal(rc, -PYSCOPE_ENODATA);
        assert_string_equal(out, "");
        free(out);
        json_decref(cases[i]);
    }
}

static void test_speedscope_structure(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-small.json");
    int rc;
    char *out = capture(export_speedscope, report, &rc);
    assert_int_equal(rc, 0);
    json_error_t jerr;
    json_t *doc = json_loads(out, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "$schema")),
                        "https://www.speedscope.app/file-format-schema.json");
    assert_string_equal(json_string_value(json_object_get(doc, "name")), "examples/small.py");
    assert_int_equal(json_integer_value(json_object_get(doc, "activeProfileIndex")), 0);
    json_t *frames = json_object_get(json_object_get(doc, "shared"), "frames");
    assert_int_equal(json_array_size(frames), 7);
    json_t *f0 = json_array_get(frames, 0);
    assert_string_equal(json_string_value(json_object_get(f0, "name")), "<module>");
    assert_string_equal(json_string_value(json_object_get(f0, "file")), "examples/small.py");
    assert_int_equal(json_integer_value(json_object_get(f0, "line")), 1);
    json_t *sleep = json_array_get(frames, 4);
    assert_string_equal(json_string_value(json_object_get(sleep, "name")),
                        "<built-in method time.sleep>");
    assert_null(json_object_get(sleep, "file"));

    json_t *profiles = json_object_get(doc, "profiles");
    assert_int_equal(json_array_size(profiles), 2);
    static const double main_w[] = {10 * 0.004, 30 * 0.004, 7.6 * 0.004, 2 * 0.004};
    static const char *const main_top[] = {"main", "work", "main", "?"};
    json_t *p0 = json_array_get(profiles, 0), *p1 = json_array_get(profiles, 1);
    assert_string_equal(json_string_value(json_object_get(p0, "type")), "sampled");
    assert_string_equal(json_string_value(json_object_get(p0, "name")), "MainThread");
    assert_string_equal(json_string_value(json_object_get(p0, "unit")), "seconds");
    assert_string_equal(json_string_value(json_object_get(p1, "name")), "worker");
    json_t *samples = json_object_get(p0, "samples"), *weights = json_object_get(p0, "weights");
    assert_int_equal(json_array_size(samples), 4);
    assert_int_equal(json_array_size(weights), 4);
    double sum = 0;
    for (size_t i = 0; i < 4; i++) {
        double w = json_number_value(json_array_get(weights, i));
        assert_true(fabs(w - main_w[i]) < 1e-12);
        sum += w;
        json_t *stack = json_array_get(samples, i);
        json_t *top = json_array_get(stack, json_array_size(stack) - 1);
        json_t *frame = json_array_get(frames, (size_t)json_integer_value(top));
        assert_string_equal(json_string_value(json_object_get(frame, "name")), main_top[i]);
    }
    assert_true(fabs(json_number_value(json_object_get(p0, "endValue")) - sum) < 1e-12);
    assert_int_equal(json_number_value(json_object_get(p0, "startValue")), 0);
    /* the worker's stack: Thread.run then sleep, root first */
    json_t *ws = json_array_get(json_object_get(p1, "samples"), 0);
    assert_int_equal(json_array_size(ws), 2);
    assert_int_equal(json_integer_value(json_array_get(ws, 1)), 4);
    json_decref(doc);
    free(out);
    json_decref(report);
}

static void test_speedscope_units(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-trace.json");
    int rc;
    char *out = capture(export_speedscope, report, &rc);
    assert_int_equal(rc, 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    json_t *p0 = json_array_get(json_object_get(doc, "profiles"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "unit")), "microseconds");
    assert_true(json_number_value(json_array_get(json_object_get(p0, "weights"), 0)) == 4000);
    json_decref(doc);
    free(out);
    json_decref(report);

    report = json_pack("{s:{s:[{s:[s], s:i}]}}", "profile", "stacks", "frames", "a.py:f:1",
                       "samples", 3);
    out = capture(export_speedscope, report, &rc);
    assert_int_equal(rc, 0);
    doc = json_loads(out, 0, NULL);
    p0 = json_array_get(json_object_get(doc, "profiles"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "unit")), "none");
    assert_string_equal(json_string_value(json_object_get(p0, "name")), "unknown-thread");
    assert_true(json_number_value(json_array_get(json_object_get(p0, "weights"), 0)) == 3);
    json_decref(doc);
    free(out);
    json_decref(report);
}

static void test_hostile_exports(void **state)
{
    (void)state;
    json_t *report = load_fixture("report-hostile.json");
    int rc;
    char *out = capture(export_collapsed, report, &rc);
    assert_int_equal(rc, 0);
    /* three lines, each "stack count" with no stray newline or separator */
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(out, " 40\n"));
    free(out);
    out = capture(export_speedscope, report, &rc);
    assert_int_equal(rc, 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "profiles")), 2);
    json_decref(doc);
    free(out);
    json_decref(report);
    /* a function name with a right-to-left override, a C1 control and ESC: escaped in both
     * (lib/sanitize's form), nothing raw left */
    report = json_pack("{s:{s:s}, s:{s:[{s:s, s:f, s:[s]}]}}", "script", "key", "x.py", "profile",
                       "stacks", "thread", "Main\xc2\x85", "samples", 3.0, "frames",
                       "x.py:ev\xe2\x80\xaeil;\x1b[2J:4");
    assert_non_null(report);
    out = capture(export_collapsed, report, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "ev\\u202eil_\\x1b[2J (x.py:4) 3\n");
    free(out);
    out = capture(export_speedscope, report, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "\xe2\x80\xae"));
    assert_null(strstr(out, "\xc2\x85"));
    doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    json_t *f0 = json_array_get(json_object_get(json_object_get(doc, "shared"), "frames"), 0);
    assert_string_equal(json_string_value(json_object_get(f0, "name")), "ev\\u202eil;\\x1b[2J");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "profiles"), 0), "name")),
                        "Main\\u0085");
    json_decref(doc);
    free(out);
    json_decref(report);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    json_t *report = load_fixture("report-sample.json");
    assert_int_equal(export_collapsed(full, report), -EIO);
    clearerr(full);
    assert_int_equal(export_speedscope(full, report), -EIO);
    fclose(full);
    json_decref(report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collapsed_golden), cmocka_unit_test(test_collapsed_single_thread),
        cmocka_unit_test(test_no_stacks),        cmocka_unit_test(test_speedscope_structure),
        cmocka_unit_test(test_speedscope_units), cmocka_unit_test(test_hostile_exports),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
