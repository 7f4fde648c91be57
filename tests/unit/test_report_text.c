/*
 * test_report_text.c - the terminal report against golden files.
 *
 * Each fixture tests/data/cli/<name>.json is rendered and compared byte for byte
 * with tests/data/cli/<name>[.color].txt. To regenerate the golden files after an
 * intended change, run the test with PYSCOPE_UPDATE_GOLDEN=1 and review the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "report_text.h"
#include "strbuf.h"
#include "xmalloc.h"

/* A stand-in for regress_print: shows the verdict and whether colour was asked. */
static void fake_regression(FILE *out, const json_t *regression, bool color)
{
    fprintf(out, "Performance Regression Check\n----------------------------------------\n");
    fprintf(out, "verdict: %s%s\n", json_string_value(json_object_get(regression, "verdict")),
            color ? " (color)" : "");
}

static json_t *load_fixture(const char *name)
{
    char *path = xasprintf("%s/cli/%s.json", PYSCOPE_TEST_DATA, name);
    json_error_t err;
    json_t *doc = json_load_file(path, 0, &err);
    if (!doc)
        fail_msg("could not load %s: %s (line %d)", path, err.text, err.line);
    free(path);
    return doc;
}

/* Render report with opt into a new string (caller frees). */
static char *render(const json_t *report, const struct report_text_options *opt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    report_text_print(out, report, opt);
    assert_int_equal(fclose(out), 0);
    return buf;
}

/* The whole file at path (new), or NULL when it cannot be read. */
static char *read_all(const char *path)
{
    struct strbuf b = {0};
    if (strbuf_read_file(&b, path, 16u << 20) < 0) {
        strbuf_release(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

/* Compare the rendering of fixture name with its golden file (suffix "" or ".color"). */
static void check_golden(const char *name, const char *suffix,
                         const struct report_text_options *opt)
{
    json_t *report = load_fixture(name);
    char *got = render(report, opt);
    char *path = xasprintf("%s/cli/%s%s.txt", PYSCOPE_TEST_DATA, name, suffix);
    const char *update = getenv("PYSCOPE_UPDATE_GOLDEN");
    if (update && *update) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
    }
    char *want = read_all(path);
    if (!want)
        fail_msg("missing golden file %s (run with PYSCOPE_UPDATE_GOLDEN=1)", path);
    if (strcmp(want, got) != 0)
        fail_msg("%s differs from the golden file\n--- want\n%s--- got\n%s", path, want, got);
    free(want);
    free(path);
    free(got);
    json_decref(report);
}

static struct report_text_options default_opts(void)
{
    struct report_text_options opt;
    report_text_options_init(&opt);
    opt.print_regression = fake_regression;
    return opt;
}

static void test_golden_sample(void **state)
{
    (void)state;
    struct report_text_options opt = default_opts();
    check_golden("report_sample", "", &opt);
}

static void test_golden_sample_color(void **state)
{
    (void)state;
    struct report_text_options opt = default_opts();
    opt.color = true;
    check_golden("report_sample", ".color", &opt);
}

static void test_golden_trace_repeat(void **state)
{
    (void)state;
    struct report_text_options opt = default_opts();
    check_golden("report_trace_repeat", "", &opt);
}

static void test_golden_failed(void **state)
{
    (void)state;
    struct report_text_options opt = default_opts();
    check_golden("report_failed", "", &opt);
}

static void test_golden_timeout(void **state)
{
    (void)state;
    struct report_text_options opt = default_opts();
    check_golden("report_timeout", "", &opt);
}

static void test_seed_lines_present(void **state)
{
    (void)state;
    json_t *report = load_fixture("report_sample");
    struct report_text_options opt = default_opts();
    char *got = render(report, &opt);
    const char *lines[] = {
        "PyScope Performance Report\n----------------------------------------\n",
        "Execution Time : 1.5494 seconds\n",
        "Average CPU    : 28.32 %\n",
        "Peak Memory    : 18.80 MiB\n",
        "\nTop Hotspots\n----------------------------------------\n"
        "examples/slow_script.py:<module>\n",
        "\nexamples/slow_script.py:slow\n",
        "\nOptimization Suggestions\n----------------------------------------\n"
        "\u2022 Function 'examples/slow_script.py:<module>' dominates runtime (94%).\n",
        "JSON report saved to : reports/json/pyscope_report_2026-11-24T08-23-14.567350Z.json\n",
        "HTML report saved to : reports/html/pyscope_report_2026-11-24T08-23-14.567350Z.html\n",
        "\nPerformance Regression Check\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (!strstr(got, lines[i]))
            fail_msg("missing [%s] in:\n%s", lines[i], got);
    assert_null(strchr(got, '\033'));
    free(got);
    json_decref(report);
}

/* pyscope run --instructions: one line under Peak Memory, escaped; none without counts. */
static void test_instructions_line(void **state)
{
    (void)state;
    json_t *report = load_fixture("report_sample");
    struct report_text_options opt = default_opts();
    char *got = render(report, &opt);
    assert_null(strstr(got, "Instructions"));
    free(got);
    json_object_set_new(report, "instructions",
                        json_pack("{s:s, s:s, s:[I, I, I]}", "tool", "cachegrind",
                                  "python_hash_seed", "0", "counts", (json_int_t)298667570,
                                  (json_int_t)298667570, (json_int_t)298667571));
    got = render(report, &opt);
    if (!strstr(got, "Peak Memory    : 18.80 MiB\nInstructions   : 298.7 M (median of 3 runs; "
                     "cachegrind, PYTHONHASHSEED=0)\n"))
        fail_msg("no instructions line in:\n%s", got);
    free(got);
    json_object_set_new(json_object_get(report, "instructions"), "python_hash_seed",
                        json_string("\033[31m"));
    json_object_set_new(json_object_get(report, "instructions"), "counts",
                        json_pack("[i]", 1500000));
    got = render(report, &opt);
    assert_non_null(strstr(got, "Instructions   : 1.5 M (cachegrind, PYTHONHASHSEED=\\x1b[31m)\n"));
    free(got);
    /* a script that started child processes: their instructions are not counted, said */
    json_object_set_new(json_object_get(report, "instructions"), "note",
                        json_string(HISTORY_INSTRUCTIONS_CHILDREN_NOTE));
    got = render(report, &opt);
    assert_non_null(strstr(got,
                           "Instructions   : 1.5 M (cachegrind, PYTHONHASHSEED=\\x1b[31m); the "
                           "script started child processes; their instructions are not "
                           "counted\n"));
    free(got);
    json_decref(report);
}

static void test_paths_override_and_top(void **state)
{
    (void)state;
    json_t *report = load_fixture("report_sample");
    struct report_text_options opt = default_opts();
    opt.top = 0;
    opt.json_path = "raw/\xff.json";
    opt.html_path = NULL;
    char *got = render(report, &opt);
    assert_non_null(strstr(got, "JSON report saved to : raw/\xff.json\n"));
    assert_non_null(strstr(got, "HTML report saved to : reports/html/"));
    assert_null(strstr(got, "examples/slow_script.py:slow\n"));
    free(got);
    json_decref(report);
}

static void test_outcome_texts(void **state)
{
    (void)state;
    json_t *r =
        json_pack("{s:{s:s, s:i, s:n}}", "status", "outcome", "failed", "exit_code", 3, "signal");
    char *s = report_text_outcome(r);
    assert_string_equal(s, "Script exited with status 3");
    free(s);
    json_decref(r);

    r = json_pack("{s:{s:s, s:n, s:i}}", "status", "outcome", "failed", "exit_code", "signal", 9);
    s = report_text_outcome(r);
    assert_string_equal(s, "Script killed by signal 9 (SIGKILL)");
    free(s);
    json_decref(r);

    r = json_pack("{s:{s:s}, s:{s:f}}", "status", "outcome", "timeout", "options", "timeout_s",
                  2.0);
    s = report_text_outcome(r);
    assert_string_equal(s, "Timed out after 2 s: killed");
    free(s);
    json_decref(r);

    r = json_pack("{s:{s:s}}", "status", "outcome", "ok");
    assert_null(report_text_outcome(r));
    json_decref(r);

    /* interrupted: the signal, the runs made, how the script ended */
    r = json_pack("{s:{s:s, s:n, s:i, s:{s:i, s:s, s:i, s:i}}}", "status", "outcome", "interrupted",
                  "exit_code", "signal", 15, "interrupted", "signal", 15, "name", "SIGTERM",
                  "runs_measured", 2, "runs_planned", 10);
    s = report_text_outcome(r);
    assert_string_equal(s, "Interrupted by SIGTERM (passed on to the script): 2 of 10 measured "
                           "runs, script killed by signal 15 (SIGTERM); partial report");
    free(s);
    json_decref(r);
    r = json_pack("{s:{s:s, s:n, s:n, s:{s:i, s:s, s:i, s:i}}}", "status", "outcome", "interrupted",
                  "exit_code", "signal", "interrupted", "signal", 2, "name", "SIGINT",
                  "runs_measured", 0, "runs_planned", 1);
    s = report_text_outcome(r);
    assert_string_equal(s, "Interrupted by SIGINT (passed on to the script): 0 of 1 measured "
                           "run, the script did not start; partial report");
    free(s);
    json_decref(r);
    /* while counting instructions: the measured runs are whole, the script not blamed */
    r = json_pack("{s:{s:s, s:i, s:n, s:{s:i, s:s, s:i, s:i, s:s, s:i}}}", "status", "outcome",
                  "interrupted", "exit_code", 0, "signal", "interrupted", "signal", 15, "name",
                  "SIGTERM", "runs_measured", 3, "runs_planned", 3, "during", "instructions",
                  "instructions_counted", 1);
    s = report_text_outcome(r);
    assert_string_equal(s, "Interrupted by SIGTERM while counting instructions under valgrind: 3 "
                           "of 3 measured runs complete, 1 of 3 instruction counts; partial "
                           "report");
    free(s);
    json_decref(r);
}

/* Threads: a share over 100% says it sums threads; library wrappers (threading's
 * Thread._bootstrap) are not listed as hotspots, library code doing work is. */
static void test_threads_and_wrappers(void **state)
{
    (void)state;
    json_error_t err;
    json_t *r = json_loads(
        "{\"schema\": \"pyscope.report/1\", \"python\": {\"prefix\": \"/usr\"},"
        " \"summary\": {\"wall_s\": {\"median\": 1.0}},"
        " \"profile\": {\"functions\": ["
        "  {\"key\": \"/usr/lib/python3.11/threading.py:Thread._bootstrap:990\","
        "   \"file\": \"/usr/lib/python3.11/threading.py\", \"name\": \"Thread._bootstrap\","
        "   \"self_s\": 0.0, \"total_s\": 1.5, \"self_pct\": 0.0, \"total_pct\": 150.0},"
        "  {\"key\": \"t.py:crunch:2\", \"file\": \"t.py\", \"name\": \"crunch\","
        "   \"self_s\": 1.5, \"total_s\": 1.5, \"self_pct\": 150.0, \"total_pct\": 150.0},"
        "  {\"key\": \"/usr/lib/python3.11/json/encoder.py:iterencode:1\","
        "   \"file\": \"/usr/lib/python3.11/json/encoder.py\", \"name\": \"iterencode\","
        "   \"self_s\": 0.4, \"total_s\": 0.4, \"self_pct\": 40.0, \"total_pct\": 40.0}],"
        "  \"stacks\": ["
        "  {\"thread\": \"cruncher-0\", \"frames\": [\"/usr/lib/python3.11/threading.py:"
        "Thread._bootstrap:990\", \"t.py:crunch:2\"], \"samples\": 10},"
        "  {\"thread\": \"cruncher-1\", \"frames\": [\"/usr/lib/python3.11/threading.py:"
        "Thread._bootstrap:990\", \"t.py:crunch:2\"], \"samples\": 10}]}}",
        0, &err);
    assert_non_null(r);
    struct report_text_options opt = default_opts();
    char *got = render(r, &opt);
    assert_non_null(strstr(got, "t.py:crunch\n  Self Time  : 1.5000 seconds (150.0 % of wall "
                                "time, summed over 2 threads)\n"));
    assert_null(strstr(got, "_bootstrap"));
    assert_non_null(strstr(got, "json/encoder.py:iterencode"));
    free(got);
    json_decref(r);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    const char *docs[] = {
        "{}",
        "[]",
        "{\"runs\": 5, \"profile\": \"x\", \"summary\": [1], \"suggestions\": {}}",
        "{\"runs\": [{\"wall_s\": \"fast\"}], \"profile\": {\"functions\": [1, null, {}]},"
        " \"status\": {\"outcome\": \"failed\"}, \"regression\": null,"
        " \"script\": {\"args\": [1, null]}, \"files\": {\"json\": 3}}",
        "{\"profile\": {\"mode\": \"sample\", \"functions\": [{\"calls\": -1, \"self_s\": 1e308,"
        " \"total_s\": -5}]}, \"summary\": {\"wall_s\": {\"n\": 9, \"median\": 0,"
        " \"min\": 0, \"max\": 1}}}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *doc = json_loads(docs[i], 0, NULL);
        assert_non_null(doc);
        char *got = render(doc, NULL);
        assert_non_null(strstr(got, "PyScope Performance Report"));
        assert_non_null(strstr(got, "Execution Time : "));
        free(got);
        json_decref(doc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_sample),          cmocka_unit_test(test_golden_sample_color),
        cmocka_unit_test(test_golden_trace_repeat),    cmocka_unit_test(test_golden_failed),
        cmocka_unit_test(test_golden_timeout),         cmocka_unit_test(test_seed_lines_present),
        cmocka_unit_test(test_paths_override_and_top), cmocka_unit_test(test_outcome_texts),
        cmocka_unit_test(test_garbage_never_crashes),  cmocka_unit_test(test_instructions_line),
        cmocka_unit_test(test_threads_and_wrappers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
