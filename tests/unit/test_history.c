/*
 * test_history.c - lib/history over the fixture folders in tests/data/history/
 * (written by tests/data/history/make_fixtures.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "history.h"
#include "log.h"

#define MIXED PYSCOPE_TEST_DATA "/history/mixed"
#define STEP  PYSCOPE_TEST_DATA "/history/step"
#define KEY   "examples/slow_script.py"
#define HOST  "aaaaaaaaaaaaaaaa"
#define PY    "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]"

static const char *doc_id(const json_t *doc)
{
    return json_string_value(json_object_get(doc, "id"));
}

static void test_list_sorted_reports_only(void **state)
{
    (void)state;
    char **names;
    size_t n;
    assert_int_equal(history_list(MIXED, &names, &n), 0);
    assert_int_equal(n, 12); /* notes.txt is not a report */
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(names[i - 1], names[i]) < 0);
    assert_string_equal(names[0], "pyscope_report_2026-11-20T08-00-00.000000.json");
    history_names_free(names, n);
    assert_int_equal(history_list(MIXED "/nope", &names, &n), -ENOENT);
    assert_null(names);
    history_names_free(NULL, 0);
}

static void test_load_file_errors(void **state)
{
    (void)state;
    json_t *doc;
    char err[256];
    assert_int_equal(history_load_file(MIXED "/pyscope_report_2026-11-23T10-00-00.000000.json",
                                       &doc, err, sizeof(err)),
                     -PYSCOPE_EPARSE);
    assert_null(doc);
    assert_non_null(strstr(err, "invalid JSON"));
    assert_int_equal(history_load_file(MIXED "/pyscope_report_2026-11-23T11-00-00.000000.json",
                                       &doc, err, sizeof(err)),
                     -PYSCOPE_ESCHEMA);
    assert_non_null(strstr(err, "other.tool/1"));
    assert_int_equal(history_load_file(MIXED "/pyscope_report_2026-11-23T12-00-00.000000.json",
                                       &doc, err, sizeof(err)),
                     -PYSCOPE_ESCHEMA); /* a future major version */
    assert_int_equal(history_load_file(MIXED "/pyscope_report_2026-11-23T13-00-00.000000.json",
                                       &doc, err, sizeof(err)),
                     -PYSCOPE_EPARSE); /* an array */
    assert_int_equal(
        history_load_file(MIXED "/pyscope_report_2026-11-23T14-00-00.000000.json", &doc, NULL, 0),
        -PYSCOPE_EPARSE); /* empty */
    assert_int_equal(history_load_file(MIXED "/missing.json", &doc, err, sizeof(err)), -ENOENT);
    assert_int_equal(history_load_file(MIXED, &doc, err, sizeof(err)), -PYSCOPE_EPARSE); /* dir */
    assert_int_equal(history_load_file(MIXED "/pyscope_report_2026-11-24T07-00-00.000000.json",
                                       &doc, err, sizeof(err)),
                     0);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "pyscope.run/1");
    json_decref(doc);
}

static void test_load_file_too_big(void **state)
{
    (void)state;
    char path[] = "/tmp/pyscope_history_big_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* a sparse file just over the cap: rejected before reading */
    assert_int_equal(ftruncate(fd, (off_t)HISTORY_MAX_FILE_BYTES + 1), 0);
    close(fd);
    json_t *doc;
    char err[128];
    assert_int_equal(history_load_file(path, &doc, err, sizeof(err)), -PYSCOPE_ETOOBIG);
    unlink(path);
}

static void test_schema_ok(void **state)
{
    (void)state;
    json_t *d = json_pack("{s:s}", "schema", "pyscope.report/1");
    assert_true(history_schema_ok(d));
    json_object_set_new(d, "schema", json_string("pyscope.run/1.3"));
    assert_true(history_schema_ok(d));
    json_object_set_new(d, "schema", json_string("pyscope.run/10"));
    assert_false(history_schema_ok(d));
    json_object_set_new(d, "schema", json_string("pyscope.runs/1"));
    assert_false(history_schema_ok(d));
    json_object_set_new(d, "schema", json_integer(1));
    assert_false(history_schema_ok(d));
    json_decref(d);
    assert_false(history_schema_ok(NULL));
}

static void test_samples(void **state)
{
    (void)state;
    json_t *d =
        json_pack("{s:s, s:[{s:f, s:f}, {s:s}, {s:f}, {s:i}]}", "schema", "pyscope.run/1", "runs",
                  "wall_s", 1.5, "cpu_s", 1.25, "wall_s", "x", "wall_s", -1.0, "wall_s", 2);
    size_t n;
    double *x = history_samples(d, "wall_s", &n);
    assert_int_equal(n, 2);
    assert_true(x[0] == 1.5 && x[1] == 2);
    free(x);
    x = history_samples(d, "cpu_s", &n);
    assert_int_equal(n, 1);
    free(x);
    /* a report made without --instructions: no counts, no error */
    x = history_samples(d, HISTORY_METRIC_INSTRUCTIONS, &n);
    assert_int_equal(n, 0);
    assert_non_null(x);
    free(x);
    json_object_set_new(d, "instructions",
                        json_pack("{s:[I, I, s, n, f]}", "counts", (json_int_t)298667570,
                                  (json_int_t)4611686018427387904LL, "1", -3.0));
    x = history_samples(d, HISTORY_METRIC_INSTRUCTIONS, &n);
    assert_int_equal(n, 2);
    assert_true(x[0] == 298667570.0 && x[1] == 4611686018427387904.0);
    free(x);
    json_object_set_new(d, "instructions", json_string("garbage"));
    x = history_samples(d, HISTORY_METRIC_INSTRUCTIONS, &n);
    assert_int_equal(n, 0);
    free(x);
    json_decref(d);
    x = history_samples(NULL, "wall_s", &n);
    assert_int_equal(n, 0);
    free(x);
}

static void test_load_filters_and_skips(void **state)
{
    (void)state;
    struct history_filter f = {.script_key = KEY, .host_fingerprint = HOST, .python_build = PY};
    struct history h;
    /* bad files are skipped with one warning each: capture stderr to count them */
    log_init("test_history", LOG_LEVEL_WARN);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *cap = tmpfile();
    assert_non_null(cap);
    dup2(fileno(cap), STDERR_FILENO);
    int rc = history_load(MIXED, &f, &h);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    assert_int_equal(rc, 0);
    rewind(cap);
    char line[512];
    int warnings = 0;
    while (fgets(line, sizeof(line), cap))
        warnings += strstr(line, "warning: skipping report") != NULL;
    fclose(cap);
    assert_int_equal(warnings, 5); /* corrupt, foreign, version 2, array, empty */
    log_init("test_history", LOG_LEVEL_ERROR);
    assert_int_equal(h.n, 4); /* ids 1, 2, 15 (failed), 16 */
    assert_string_equal(doc_id(h.entries[0].doc), "00000000-0000-4000-8000-000000000001");
    assert_string_equal(doc_id(h.entries[1].doc), "00000000-0000-4000-8000-000000000002");
    assert_string_equal(doc_id(h.entries[2].doc), "00000000-0000-4000-8000-000000000015");
    assert_string_equal(doc_id(h.entries[3].doc), "00000000-0000-4000-8000-000000000016");
    assert_non_null(strstr(h.entries[0].path, "2026-11-20T08"));
    history_release(&h);

    f.ok_only = true;
    f.exclude_id = "00000000-0000-4000-8000-000000000016";
    assert_int_equal(history_load(MIXED, &f, &h), 0);
    assert_int_equal(h.n, 2);
    history_release(&h);

    f.ok_only = false;
    f.exclude_id = NULL;
    f.limit = 2; /* the newest two, still oldest first */
    assert_int_equal(history_load(MIXED, &f, &h), 0);
    assert_int_equal(h.n, 2);
    assert_string_equal(doc_id(h.entries[0].doc), "00000000-0000-4000-8000-000000000015");
    assert_string_equal(doc_id(h.entries[1].doc), "00000000-0000-4000-8000-000000000016");
    history_release(&h);

    struct history_filter other = {.script_key = "examples/other.py"};
    assert_int_equal(history_load(MIXED, &other, &h), 0);
    assert_int_equal(h.n, 1);
    history_release(&h);
    struct history_filter host = {.host_fingerprint = "bbbbbbbbbbbbbbbb"};
    assert_int_equal(history_load(MIXED, &host, &h), 0);
    assert_int_equal(h.n, 1);
    history_release(&h);

    struct history_filter any = {0};
    assert_int_equal(history_load(STEP, &any, &h), 0);
    assert_int_equal(h.n, 12);
    history_release(&h);
    history_release(&h); /* idempotent */

    assert_int_equal(history_load(MIXED "/nope", &any, &h), -ENOENT);
    assert_int_equal(h.n, 0);
    history_release(&h);
    log_init("test_history", LOG_LEVEL_INFO);
}

/* The mode is part of the series; a document without one is in sample mode. */
static void test_mode(void **state)
{
    (void)state;
    json_t *none = json_pack("{s:{s:s}}", "script", "key", KEY);
    json_t *trace =
        json_pack("{s:{s:s}, s:{s:s}}", "script", "key", KEY, "options", "mode", "trace");
    assert_string_equal(history_mode(none), "sample");
    assert_string_equal(history_mode(trace), "trace");
    struct history_filter f = {.script_key = KEY, .mode = "sample"};
    assert_true(history_matches(none, &f));
    assert_false(history_matches(trace, &f));
    f.mode = "trace";
    assert_false(history_matches(none, &f));
    assert_true(history_matches(trace, &f));
    f.mode = NULL;
    assert_true(history_matches(none, &f) && history_matches(trace, &f));
    json_decref(none);
    json_decref(trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_sorted_reports_only),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_load_file_too_big),
        cmocka_unit_test(test_schema_ok),
        cmocka_unit_test(test_load_filters_and_skips),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
