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
#include "history.h"
#include "html_team.h"
#include "xmalloc.h"

#define HOSTILE     "<script>alert(1)</script>"
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;"

/* Render doc into a new string (caller frees); *rc gets the return code. The stream's
 * buffer pointer lives on the heap, not in a local: inlined here, a local whose address
 * open_memstream keeps made GCC 12 -O3 (Release) see the page as pointing into this
 * function's frame (-Wdangling-pointer, a false positive). */
static char *render(const json_t *doc, int *rc)
{
    struct {
        char *buf;
        size_t len;
    } *mem = xcalloc(1, sizeof(*mem));
    char err[256] = "";
    FILE *f = open_memstream(&mem->buf, &mem->len);
    assert_non_null(f);
    *rc = html_team_write(f, doc, NULL, err, sizeof(err));
    assert_int_equal(fclose(f), 0);
    char *page = mem->buf;
    free(mem);
    return page;
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

/* A confirmed finding says how it was confirmed: bracketed by the reference (its name escaped,
 * the drift divided out), or a plain re-run and why. */
static void test_confirmation_said(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *g = json_array_get(json_object_get(json_object_get(doc, "report"), "regressions"), 0);
    json_object_set_new(g, "confirmation",
                        json_pack("{s:s, s:s, s:f, s:f}", "method", "bracketed", "reference",
                                  "<i>calibrate.py", "drift_cpu_pct", 25.18, "drift_wall_pct",
                                  3.1));
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "confirmed (2 runs; bracketed by &lt;i&gt;calibrate.py, the "
                                 "machine&#39;s CPU drift +25.2% divided out)"));
    free(page);
    json_object_set_new(
        g, "confirmation",
        json_pack("{s:s, s:s}", "method", "re-run", "why", "the suite names no reference script"));
    page = render(doc, &rc);
    assert_non_null(
        strstr(page, "confirmed (2 runs; a plain re-run: the suite names no reference script)"));
    free(page);
    /* the "why" names its basis: an instruction-count finding's is the counts' shares */
    page = render(doc, &rc);
    assert_non_null(strstr(page, "The functions that explain it (self time, now against"));
    free(page);
    json_object_set_new(json_object_get(g, "why"), "basis", json_string("instructions"));
    page = render(doc, &rc);
    assert_non_null(strstr(page, "The functions that explain it (instructions by CPU self-time "
                                 "share, now against the baseline)"));
    free(page);
    /* too few samples to name a function: the why says so (issue 11) */
    json_object_set_new(json_object_get(g, "why"), "functions", json_array());
    json_object_set_new(
        json_object_get(g, "why"), "too_few_samples",
        json_pack("{s:s}", "note", "too few samples to name a function: 4 per run"));
    page = render(doc, &rc);
    assert_non_null(strstr(page, "The functions: too few samples to name a function: 4 per run."));
    free(page);
    /* the tile of what was measured counts series-nights (4 series on 2 nights), says so */
    json_object_set_new(json_object_get(doc, "report"), "batches",
                        json_pack("[{s:I, s:I, s:I}, {s:I, s:I, s:I}]", "id", (json_int_t)3,
                                  "series", (json_int_t)4, "runs", (json_int_t)8, "id",
                                  (json_int_t)2, "series", (json_int_t)4, "runs", (json_int_t)8));
    page = render(doc, &rc);
    assert_non_null(strstr(page, "<div class=\"label\">Measured</div><div class=\"value\">8</div>"
                                 "<div class=\"sub\">series-nights, 16 runs</div>"));
    free(page);
    json_decref(doc);
}

/* A finding on instruction counts says what the wall and CPU time did beside it (stranger19
 * minor 1: the lead could not see how much slower in time), as `pyscope report --text` does;
 * its rule in words, escaped; a finding without "times" says nothing of them. */
static void test_times_beside_counts(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *g = json_array_get(json_object_get(json_object_get(doc, "report"), "regressions"), 0);
    json_object_set_new(g, "metric", json_string("instructions"));
    json_object_del(g, "function");
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(page, "In time"));
    free(page);
    assert_null(html_team_times_text(g));
    json_object_set_new(g, "times",
                        json_pack("[{s:s, s:s, s:s, s:f, s:b}, {s:s, s:s, s:s, s:f, s:b}]",
                                  "metric", "wall_s", "verdict", "inconclusive", "rule",
                                  "within_noise", "change_pct", 21.94, "net_of_queueing", 1,
                                  "metric", "cpu_s", "verdict", "regression", "rule", "significant",
                                  "change_pct", 28.0, "net_of_queueing", 0));
    char *text = html_team_times_text(g);
    assert_string_equal(text, "in time: wall time +21.9% net of waiting for a CPU (inconclusive: "
                              "within noise), CPU time +28.0% (regression)");
    free(text);
    json_object_set_new(json_array_get(json_object_get(g, "times"), 1), "verdict",
                        json_string("<b>"));
    page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page,
                           "<p class=\"say-more\">In time: wall time +21.9% net of waiting "
                           "for a CPU (inconclusive: within noise), CPU time +28.0% (&lt;b&gt;: "
                           "significant)."));
    free(page);
    json_decref(doc);
}

/* The words `pyscope report --text` shares with the page: how a finding was confirmed and
 * when it ended, plain (the caller escapes them); nothing when there is nothing to say. */
static void test_shared_words(void **state)
{
    (void)state;
    json_t *c = json_pack("{s:s, s:s, s:f}", "method", "bracketed", "reference", "calibrate.py",
                          "drift_cpu_pct", -4.04);
    json_t *cpu = json_pack("{s:s}", "metric", "cpu_s"),
           *wall = json_pack("{s:s}", "metric", "wall_s");
    json_t *instr = json_pack("{s:s, s:s}", "metric", "instructions", "rule", "deterministic");
    char *t = html_team_confirmation_text(c, cpu);
    assert_string_equal(t, "bracketed by calibrate.py, the machine's CPU drift -4.0% divided out");
    free(t);
    /* instruction counts are exact: no drift was divided out of them, none is quoted */
    t = html_team_confirmation_text(c, instr);
    assert_string_equal(
        t, "bracketed by calibrate.py; instruction counts are exact, no drift to divide out");
    free(t);
    /* ... unless the script ran several Python threads (issue 11): its reason says so first */
    json_t *threaded = json_pack("{s:s, s:s}", "metric", "instructions", "reason",
                                 HISTORY_INSTRUCTIONS_THREADS_REASON ": compared with ...");
    t = html_team_confirmation_text(c, threaded);
    assert_string_equal(t, "bracketed by calibrate.py; instruction counts, not exact (the script "
                           "ran several Python threads), no drift to divide out");
    free(t);
    json_decref(threaded);
    json_object_del(c, "drift_cpu_pct");
    json_object_del(c, "reference");
    t = html_team_confirmation_text(c, NULL);
    assert_string_equal(t, "bracketed by the reference script");
    free(t);
    /* the reference ran between the repeats: the drift during the re-run was divided out */
    json_object_set_new(c, "method", json_string("interleaved"));
    json_object_set_new(c, "reference", json_string("calibrate.py"));
    json_object_set_new(c, "drift_cpu_pct", json_real(31.26));
    t = html_team_confirmation_text(c, wall);
    assert_string_equal(
        t, "interleaved with calibrate.py, the machine's CPU drift +31.3% divided out");
    free(t);
    t = html_team_confirmation_text(c, instr);
    assert_string_equal(
        t, "interleaved with calibrate.py; instruction counts are exact, no drift to divide out");
    free(t);
    json_object_set_new(c, "method", json_string("none"));
    json_object_set_new(c, "why", json_string("its confirmation run failed"));
    t = html_team_confirmation_text(c, NULL);
    assert_string_equal(t, "not re-run: its confirmation run failed");
    free(t);
    json_decref(c);
    c = json_object();
    assert_null(html_team_confirmation_text(c, NULL));
    assert_null(html_team_confirmation_text(NULL, NULL));
    json_decref(c);
    json_decref(cpu);
    json_decref(wall);
    json_decref(instr);

    json_t *g = json_pack("{s:s, s:n}", "state", "confirmed", "ended_batch_id");
    assert_null(html_team_ended_text(g));
    assert_true(html_team_row_open(g));
    json_object_set_new(g, "ended_batch_id", json_integer(6));
    t = html_team_ended_text(g);
    assert_string_equal(t, "ended with batch 6");
    free(t);
    json_object_set_new(g, "ended_batch_label", json_string("night 6"));
    t = html_team_ended_text(g);
    assert_string_equal(t, "ended with night 6 (batch 6)");
    free(t);
    assert_false(html_team_row_open(g));
    json_object_del(g, "ended_batch_id");
    assert_true(html_team_row_open(g));
    json_object_set_new(g, "state", json_string("fixed"));
    assert_false(html_team_row_open(g));
    json_decref(g);
}

/* A finding row of farm-b (stranger11's f6 farm): id, script, metric, change. */
static json_t *f6_row(json_int_t id, const char *script, const char *metric, double change)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:I, s:s,"
                     " s:{s:s}}",
                     "id", id, "batch_id", (json_int_t)5, "batch_label", "night 5", "script",
                     script, "host", "farm-b", "host_fingerprint", "00000000000000b2",
                     "python_build", "CPython 3.11 gcc", "metric", metric, "kind", "regression",
                     "change_pct", change, "state", "confirmed", "confirm_runs", (json_int_t)2,
                     "mode", "statistical", "decision", "metric", "wall_s");
}

/*
 * stranger11's D4 (farm f6): slow_script's wall and CPU rows are one series, fib's finding
 * ended on night 6. The headline counted "2 series ... (2 still open)" and fib's card did
 * not say it ended: it counts 2 series, 1 still open, and fib's card says when it ended.
 */
static void test_ended_finding_not_open(void **state)
{
    (void)state;
    json_t *fib = f6_row(1, "examples/fib_recursion.py", "cpu_s", 34.8);
    json_object_set_new(fib, "ended_batch_id", json_integer(6));
    json_object_set_new(fib, "ended_batch_label", json_string("night 6"));
    json_t *rep = json_pack("{s:[o, o, o], s:[], s:[], s:{}, s:[]}", "regressions",
                            f6_row(2, "examples/slow_script.py", "wall_s", 29.0),
                            f6_row(3, "examples/slow_script.py", "cpu_s", 42.2), fib,
                            "improvements", "batches", "matrix", "hardware");
    json_t *doc = json_pack("{s:s, s:o}", "schema", "pyscope.team_report/1", "report", rep);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "2 series got slower</b> on 1 host (1 still open)"));
    assert_non_null(strstr(page, "<div class=\"value bad\">2</div><div class=\"sub\">series, 3 "
                                 "metrics flagged"));
    /* the open series first; fib's card is closed and says when it ended, slow_script's not */
    const char *slow = strstr(page, "<li class=\"change regression\" data-script=\"examples/"
                                    "slow_script.py\"");
    const char *ended = strstr(page, "<li class=\"change regression closed\" data-script=\""
                                     "examples/fib_recursion.py\"");
    assert_non_null(slow);
    assert_non_null(ended);
    assert_true(slow < ended);
    assert_non_null(strstr(ended, "<span class=\"state\">confirmed (2 runs), <b class=\"ended\">"
                                  "ended with night 6 (batch 6)</b></span>"));
    const char *said = strstr(slow, "ended with");
    assert_true(said == NULL || said > ended);
    free(page);
    /* the coordinator's counts win (they count every finding, the list may be cut) */
    json_object_set_new(rep, "regressions_open_total", json_integer(0));
    page = render(doc, &rc);
    assert_non_null(strstr(page, "2 series got slower</b> on 1 host (0 still open)"));
    free(page);
    json_decref(doc);
}

/*
 * A flagged matrix cell (stranger11: "the level before is in the JSON only"): it shows the
 * series' wall time before its finding and since, and names the finding (the metric that
 * decided, its change and levels, since when).
 */
static void test_matrix_cell_finding(void **state)
{
    (void)state;
    json_t *cell = json_pack(
        "{s:s, s:s, s:I, s:f, s:s, s:{s:I, s:s, s:f, s:f, s:f, s:s, s:I, s:I, s:f}}", "script",
        "examples/slow_script.py", "host", "farm-b", "runs", (json_int_t)5, "median_wall_s", 3.594,
        "status", "regression", "finding", "id", (json_int_t)2, "metric", "wall_s", "change_pct",
        29.0, "baseline_median", 2.9, "candidate_median", 3.741, "unit", "s", "since_batch_id",
        (json_int_t)5, "runs_before", (json_int_t)18, "median_wall_s_before", 2.894);
    json_t *ok = json_pack("{s:s, s:s, s:I, s:f, s:s}", "script", "examples/slow_script.py", "host",
                           "farm-a", "runs", (json_int_t)5, "median_wall_s", 2.831, "status", "ok");
    json_t *rep =
        json_pack("{s:[], s:[], s:[], s:{s:[s, s], s:[s], s:[o, o]}, s:[]}", "regressions",
                  "improvements", "batches", "matrix", "hosts", "farm-a", "farm-b", "scripts",
                  "examples/slow_script.py", "cells", ok, cell, "hardware");
    int rc;
    char *page = render(rep, &rc);
    assert_int_equal(rc, 0);
    const char *m = strstr(page, "<section id=\"matrix\">");
    assert_non_null(m);
    assert_non_null(strstr(m, "<td class=\"num regression\" title=\"regression +29.0% in wall "
                              "time since batch 5 (finding 2): 2.900 s \xe2\x86\x92 3.741 s; "
                              "median wall time before it (18 runs) \xe2\x86\x92 since it (5 "
                              "runs)\"><span class=\"muted before\">2.894 s \xe2\x86\x92</span> "
                              "3.594 s \xe2\x96\xb2</td>"));
    /* a cell not flagged: its level alone */
    assert_non_null(strstr(m, "<td class=\"num ok-cell\">2.831 s</td>"));
    free(page);
    json_decref(rep);
}

/*
 * Hosts of one machine (a stranger's deploy/farm.sh: "farm-b/farm-a = 0.415" read as faster
 * hardware): the ratio keeps its number but is not coloured as hardware, is labelled, and the
 * coordinator's sentence is printed under it (escaped); the matrix names the hosts that are
 * one machine and labels a level whose runs waited for a CPU.
 */
static void test_hardware_of_one_machine(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:s, s:s, s:I, s:f, s:s, s:f}", "script", "examples/many_calls.py",
                          "host", "farm-a", "runs", (json_int_t)5, "median_wall_s", 2.41, "status",
                          "ok", "queued_pct", 58.4);
    json_t *b = json_pack("{s:s, s:s, s:I, s:f, s:s, s:f}", "script", "examples/many_calls.py",
                          "host", "farm-b", "runs", (json_int_t)5, "median_wall_s", 1.0, "status",
                          "ok", "queued_pct", 2.0);
    json_t *pair = json_pack(
        "{s:s, s:s, s:s, s:f, s:f, s:f, s:I, s:I, s:s, s:s, s:[]}", "script",
        "examples/many_calls.py", "host_a", "farm-a", "host_b", "farm-b", "ratio", 0.415, "ci_low",
        0.401, "ci_high", 0.43, "samples_a", (json_int_t)25, "samples_b", (json_int_t)25,
        "measures", "load", "caveat",
        "farm-a and farm-b are one machine (machine id " HOSTILE "): the ratio measures their "
        "load and scheduling, not their hardware",
        "findings");
    json_t *rep =
        json_pack("{s:[], s:[], s:[], s:{s:[s, s], s:[s], s:[o, o], s:[{s:s, s:[s, s]}]},"
                  " s:[o]}",
                  "regressions", "improvements", "batches", "matrix", "hosts", "farm-a", "farm-b",
                  "scripts", "examples/many_calls.py", "cells", a, b, "shared_machines", "machine",
                  HOSTILE, "hosts", "farm-a", "farm-b", "hardware", pair);
    assert_non_null(rep);
    int rc;
    char *page = render(rep, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(page, "<script>"));
    const char *h = strstr(page, "<section id=\"hardware\">");
    assert_non_null(h);
    /* the number kept, not green (as if B's hardware were faster), labelled */
    assert_non_null(strstr(h, "<td class=\"num muted\">0.415 <span class=\"label\">(one "
                              "machine: load)</span></td>"));
    assert_non_null(strstr(h, "<td colspan=\"6\">Not the hardware: farm-a and farm-b are one "
                              "machine (machine id " HOSTILE_ESC "): the ratio measures"));
    const char *m = strstr(page, "<section id=\"matrix\">");
    assert_non_null(m);
    assert_non_null(strstr(m, "<p class=\"note shared-machine\">farm-a and farm-b are one "
                              "machine (machine id " HOSTILE_ESC "): their columns differ by the "
                              "load and scheduling their runs met"));
    assert_non_null(strstr(m, "2.410 s <span class=\"label queued\""));
    assert_non_null(strstr(m, ">(58% waiting for a CPU)</span></td>"));
    /* 2% queued: below the limit, no label */
    assert_non_null(strstr(m, "<td class=\"num ok-cell\">1.000 s</td>"));
    free(page);
    json_decref(rep);
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
    assert_non_null(strstr(page, "95% CI +10% \xe2\x80\xa6 +15%"));
    assert_non_null(strstr(page, "the script itself changed"));
    assert_non_null(strstr(page, "data-script=\"" HOSTILE_ESC "\""));
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
    assert_null(strstr(page, "still there"));
    free(page);
    json_t *g = json_array_get(json_object_get(json_object_get(doc, "report"), "regressions"), 0);
    json_object_set_new(g, "nights", json_integer(3));
    json_object_set_new(g, "last_batch_id", json_integer(5));
    page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "since batch 3"));
    assert_non_null(strstr(page, "still there after 3 nights (latest batch 5)"));
    free(page);
    json_decref(doc);
}

/* Every inconclusive series is listed with its rule and reason (escaped): one a
 * confirmation did not settle (its wall and CPU figures) and one no confirmation could. */
static void test_inconclusive_reasons(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *list =
        json_pack("[{s:I, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:{s:f}, s:{s:f}}},"
                  " {s:I, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:f}}]",
                  "batch_id", (json_int_t)6, "script", "a.py", "host", "host-b", "confirmed", 1,
                  "metric", "cpu_s", "rule", "within_noise", "reason",
                  "its confirmation run did not settle it", "detail", "wall_s", "change_pct", 17.1,
                  "cpu_s", "change_pct", 4.0, "batch_id", (json_int_t)5, "script", "short.py",
                  "host", "host-a", "confirmed", 0, "metric", "cpu_s", "rule", "within_noise",
                  "reason", "the script runs only 60 ms " HOSTILE, "detail", "change_pct", -2.6);
    json_object_set_new(json_object_get(doc, "report"), "inconclusive", list);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "id=\"inconclusive\""));
    assert_non_null(strstr(page, "a.py on host-b, batch 6: wall +17.1%, CPU +4.0%"));
    assert_non_null(strstr(page, "short.py on host-a, batch 5: CPU -2.6%"));
    assert_non_null(strstr(page, ": the script runs only 60 ms " HOSTILE_ESC));
    assert_null(strstr(page, "<script>"));
    free(page);
    json_decref(doc);
}

/* Issue 11: a finding's rows differ in size (wall, net of queueing, CPU, instructions): the
 * headline and the big number say which metric their size is, and a row of figures net of
 * waiting for a CPU says so, as the CPU time's row names its own metric. */
static void test_sizes_name_their_metric(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *regs = json_object_get(json_object_get(doc, "report"), "regressions");
    json_t *g = json_array_get(regs, 0);
    json_object_del(g, "function");
    json_object_set_new(g, "contention", json_pack("{s:b}", "net_of_queueing", 1));
    json_t *cpu = json_deep_copy(g);
    json_object_set_new(cpu, "id", json_integer(8));
    json_object_set_new(cpu, "metric", json_string("cpu_s"));
    json_object_set_new(cpu, "change_pct", json_real(31.0));
    json_object_del(cpu, "contention");
    json_array_append_new(regs, cpu);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "% slower</b> <span class=\"muted metric\">(wall time, net "
                                 "of waiting for a CPU)</span> on "));
    assert_non_null(strstr(page, "%</b><span class=\"muted\">wall time net of waiting, 95% CI"));
    assert_non_null(strstr(page, "<td>Wall time <span class=\"note\">(net of waiting for a "
                                 "CPU)</span></td>"));
    assert_non_null(strstr(page, "<td>CPU time</td>"));
    free(page);
    json_decref(doc);
}

/* Issue 11: the inconclusive list is counted (series, hosts), folded by rule (each with its
 * count, meaning and a farm remedy: the suite's repeat or pyscope submit --repeat, never
 * pyscope run's options), and says since which night a series has been inconclusive. */
static void test_inconclusive_grouped(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *rep = json_object_get(doc, "report");
    json_t *list = json_array();
    static const char *const rows[][3] = {{"a.py", "host-a", "within_noise"},
                                          {"b.py", "host-a", "within_noise"},
                                          {"c.py", "host-b", "within_noise"},
                                          {"d.py", "host-b", "contended"},
                                          {"e.py", "host-b", "insufficient_history"}};
    for (size_t i = 0; i < 5; i++)
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:{s:f}}", "batch_id",
                            (json_int_t)7, "script", rows[i][0], "host", rows[i][1], "python_build",
                            "3.11", "confirmed", 0, "metric", "wall_s", "rule", rows[i][2],
                            "reason", "r", "detail", "change_pct", 12.0));
    /* a.py: inconclusive since night 4, four nights in a row; b.py only tonight */
    json_t *a = json_array_get(list, 0);
    json_object_set_new(a, "since_batch_id", json_integer(4));
    json_object_set_new(a, "since_batch_label", json_string("night 4"));
    json_object_set_new(a, "nights_in_row", json_integer(4));
    json_t *b = json_array_get(list, 1);
    json_object_set_new(b, "since_batch_id", json_integer(7));
    json_object_set_new(b, "nights_in_row", json_integer(1));
    json_object_set_new(rep, "inconclusive", list);
    json_object_set_new(
        rep, "inconclusive_counts",
        json_pack("{s:I, s:I, s:I, s:[{s:s, s:I, s:I}, {s:s, s:I, s:I}, {s:s, s:I, s:I}]}", "rows",
                  (json_int_t)5, "series", (json_int_t)5, "hosts", (json_int_t)2, "by_rule", "rule",
                  "within_noise", "rows", (json_int_t)3, "series", (json_int_t)3, "rule",
                  "contended", "rows", (json_int_t)1, "series", (json_int_t)1, "rule",
                  "insufficient_history", "rows", (json_int_t)1, "series", (json_int_t)1));
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "<h2>Inconclusive: 5 series on 2 hosts</h2>"));
    const char *noise = strstr(page, "<details class=\"rule\" data-rule=\"within_noise\">");
    const char *busy = strstr(page, "<details class=\"rule\" data-rule=\"contended\">");
    assert_non_null(noise);
    assert_non_null(busy);
    assert_true(noise < busy); /* the most rows first */
    assert_non_null(strstr(noise, "<b>within_noise</b> (3 series): the change is inside"));
    /* the farm's remedies, not pyscope run's */
    assert_non_null(strstr(noise, "<code>repeat = N</code>"));
    assert_non_null(strstr(noise, "<code>pyscope submit --repeat N</code>"));
    assert_non_null(strstr(busy, "a quieter host"));
    assert_null(strstr(page, "pyscope run"));
    assert_null(strstr(page, "--repeat 10"));
    /* rows inside their rule's fold */
    const char *ra = strstr(page, "a.py on host-a, batch 7");
    assert_non_null(ra);
    assert_true(ra > noise && ra < busy);
    const char *rd = strstr(page, "d.py on host-b, batch 7");
    assert_true(rd > busy);
    assert_non_null(strstr(ra, "inconclusive since night 4, 4 nights in a row"));
    const char *rb = strstr(page, "b.py on host-a, batch 7");
    const char *rb_end = strstr(rb, "</li>");
    const char *since = strstr(rb, "inconclusive since");
    assert_true(since == NULL || since > rb_end); /* tonight only: no streak said */
    free(page);
    json_decref(doc);
}

/* A change within the threshold whose 95% interval reaches beyond it (issue 11, point 2) is
 * inconclusive by rule ci_beyond_threshold: the fold says what that means and what settles it
 * on a farm, not the generic words of an unknown rule. */
static void test_inconclusive_ci_beyond_threshold(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *rep = json_object_get(doc, "report");
    json_object_set_new(
        rep, "inconclusive",
        json_pack("[{s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:f}}]", "batch_id", (json_int_t)3,
                  "script", "pool.py", "host", "host-b", "python_build", "3.11", "confirmed", 0,
                  "metric", "cpu_s", "rule", "ci_beyond_threshold", "reason",
                  "+9.70% is within the 10% threshold, but the 95% CI +9.7% … +14.8% reaches "
                  "beyond it: a change of more than 10% is not ruled out",
                  "detail", "change_pct", 9.7));
    /* a row on instruction counts names them, not "wall" (the row's metric) */
    json_array_append_new(json_object_get(rep, "inconclusive"),
                          json_pack("{s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:{s:f}}", "batch_id",
                                    (json_int_t)3, "script", "pool.py", "host", "host-a",
                                    "python_build", "3.11", "confirmed", 0, "metric",
                                    "instructions", "rule", "ci_beyond_threshold", "reason", "…",
                                    "detail", "change_pct", 8.25));
    json_object_set_new(rep, "inconclusive_counts",
                        json_pack("{s:I, s:I, s:I, s:[{s:s, s:I, s:I}]}", "rows", (json_int_t)2,
                                  "series", (json_int_t)2, "hosts", (json_int_t)2, "by_rule",
                                  "rule", "ci_beyond_threshold", "rows", (json_int_t)2, "series",
                                  (json_int_t)2));
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    const char *fold = strstr(page, "<details class=\"rule\" data-rule=\"ci_beyond_threshold\">");
    assert_non_null(fold);
    assert_non_null(strstr(fold, "<b>ci_beyond_threshold</b> (2 series): the change is within "
                                 "the threshold, but its 95% interval reaches beyond it"));
    assert_non_null(strstr(fold, "<code>repeat = N</code>"));
    const char *row = strstr(page, "host-a");
    assert_non_null(row);
    assert_non_null(strstr(row, "instructions +8.2"));
    assert_null(strstr(page, "wall +8.2"));
    free(page);
    json_decref(doc);
}

/* Issue 11: series not yet judged (too little history, no change beyond the threshold) are
 * counted on one line, listed folded with each one's night and baseline nights (stranger19
 * M1); a re-run that dismissed a suspect night is listed with
 * the night's change and what the confirmation found. */
static void test_not_judged_and_dismissed(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *rep = json_object_get(doc, "report");
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strstr(page, "not yet judged"));
    assert_null(strstr(page, "id=\"dismissed\""));
    free(page);
    json_object_set_new(rep, "not_judged",
                        json_pack("[{s:I, s:s, s:s, s:s, s:s, s:I}, {s:I, s:s, s:s, s:s, s:I}]",
                                  "batch_id", (json_int_t)2, "batch_label", "night 2", "script",
                                  "new.py", "host", "host-a", "python_build", "3.11",
                                  "baseline_runs", (json_int_t)1, "batch_id", (json_int_t)1,
                                  "script", HOSTILE, "host", "host-b", "python_build", "3.11",
                                  "baseline_runs", (json_int_t)0));
    json_object_set_new(rep, "not_judged_min_runs", json_integer(3));
    json_object_set_new(
        rep, "dismissed",
        json_pack("[{s:I, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:f}, s:{s:{s:s, s:f},"
                  " s:{s:s, s:f}, s:{s:s, s:s, s:f}}}]",
                  "batch_id", (json_int_t)6, "batch_label", "night 6", "script", "a.py", "host",
                  "host-b", "python_build", "3.11", "reason", "+0.40% is within the 10% threshold",
                  "nightly", "metric", "wall_s", "verdict", "regression", "change_pct", 30.2,
                  "detail", "wall_s", "verdict", "no_change", "change_pct", 0.4, "cpu_s", "verdict",
                  "no_change", "change_pct", -0.3, "confirmation", "method", "bracketed",
                  "reference", "examples/ref.py", "drift_cpu_pct", 29.5));
    page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "<details id=\"not-judged\"><summary>2 series not yet judged "
                                 "(fewer than 3 baseline nights)</summary>"));
    assert_non_null(strstr(page, "<li>new.py on host-a, batch 2 (night 2): 1 of 3 baseline "
                                 "nights, moved less than its threshold</li>"));
    assert_non_null(strstr(page, "<li>" HOSTILE_ESC " on host-b, batch 1: no baseline night "
                                 "yet, nothing to compare with</li>"));
    assert_non_null(strstr(page, "<h2>Re-run and dismissed (1)</h2>"));
    assert_non_null(strstr(page,
                           "a.py on host-b, batch 6 (night 6): the nightly run found wall "
                           "+30.2% (regression); the confirmation found wall +0.4% (no "
                           "change), CPU -0.3% (no change) (bracketed by examples/ref.py, "
                           "the machine&#39;s CPU drift +29.5% divided out): +0.40% is within"));
    assert_null(strstr(page, "<script>"));
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
    assert_non_null(strstr(page, "What got slower (1)"));
    assert_non_null(strstr(page, "</html>"));
    free(page);
    json_decref(doc);
}

/* Render doc as a served page (links between pages); new string. */
static char *render_served(const json_t *doc)
{
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct html_site site = {.active = "latest"};
    assert_int_equal(html_team_write(f, doc, &site, err, sizeof(err)), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/*
 * tests/data/team-report.json (a report of the coordinator, with a second
 * regressed series and an improvement added): one line per series, worst
 * first, each saying what, where, since when and why, with its sparkline
 * and interval; the metrics fold out.
 */
static void test_one_line_per_series(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *doc = json_load_file(PYSCOPE_TEST_DATA "/team-report.json", 0, &jerr);
    assert_non_null(doc);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    /* 4 metric rows of a.py on host-b are one line; the memory series another */
    assert_non_null(strstr(page, "What got slower (2)"));
    assert_int_equal(count(page, "<li class=\"change regression"), 2);
    assert_int_equal(count(page, "<li class=\"change improvement"), 1);
    const char *first = strstr(page, "<li class=\"change regression");
    assert_non_null(strstr(first, "data-script=\"examples/a.py\" data-host=\"host-b\" "
                                  "data-metric=\"wall_s\" data-state=\"confirmed\" "
                                  "data-batch=\"6\" data-why=\"examples/a.py:slow:3\""));
    /* the sentence */
    assert_non_null(
        strstr(page, "is <b class=\"bad\">30% slower</b> <span class=\"muted metric\">(wall "
                     "time)</span> on <span class=\"name "
                     "host\" title=\"host-b \xc2\xb7 00000000000000b2 \xc2\xb7 CPython 3.11 gcc\">"
                     "host-b</span> since night 6 <span class=\"muted\">(commits "
                     "<code>c5</code> \xe2\x86\x92 <code>c6</code>, run "));
    assert_non_null(strstr(page, "<span class=\"state\">confirmed (2 runs)</span>; <code "
                                 "class=\"fn\" title=\"examples/a.py:slow:3\">slow</code> "
                                 "explains 100%."));
    assert_non_null(strstr(page, "uses <b class=\"bad\">12% more memory</b>"));
    assert_non_null(strstr(page, "still there after 3 nights"));
    assert_non_null(strstr(page, "is <b class=\"ok\">25% faster</b>"));
    /* worst first among the open ones: a.py (+30%) before the memory series (+12%) */
    assert_true(strstr(page, "30% slower") < strstr(page, "12% more memory"));
    /* sparklines with the change marked, the interval, details folded */
    assert_int_equal(count(page, "<svg class=\"spark\""), 3);
    assert_int_equal(count(page, "<line class=\"cp\""), 3);
    assert_non_null(strstr(page, "<b class=\"bad\">+30%</b><span class=\"muted\">wall time, 95% "
                                 "CI +29% \xe2\x80\xa6 +31%</span>"));
    assert_non_null(strstr(page, "<details><summary>Details: 4 metrics, flame graph diff"));
    assert_non_null(strstr(page, "<figure class=\"fdiff\" id=\"fdiff-1\">"));
    assert_int_equal(count(page, "<table class=\"metrics\">"), 3);
    /* long names are cut on screen, whole on hover; a script's at its start (class path),
     * so its file name stays in view, in the path's own order (<bdi>) */
    assert_non_null(strstr(page, "<span class=\"name script path\" title=\"benchmarks/very_long_"));
    assert_non_null(strstr(page, "\"><bdi>benchmarks/very_long_"));
    /* the note is text */
    assert_non_null(strstr(page, "known: the &lt;b&gt;cache&lt;/b&gt; grows"));
    /* a file links nowhere */
    assert_null(strstr(page, "href="));
    free(page);

    page = render_served(doc);
    assert_non_null(strstr(page, "<a href=\"/series/examples%2Fa.py?host=00000000000000b2\">"));
    assert_non_null(strstr(page, "<a href=\"/series/examples%2F%3Cscript%3Ealert%281%29%3C%2F"
                                 "script%3E.py?host=00000000000000a1\">"));
    assert_non_null(strstr(page, "<a href=\"/batch/6\">6</a>"));
    assert_non_null(strstr(page, "<nav class=\"site\">"));
    free(page);
    json_decref(doc);
}

/* Replace every from in the strings of the tree j (values, not keys) by to. */
static void replace_all(json_t *j, const char *from, const char *to)
{
    size_t i;
    const char *k;
    json_t *v;
    if (json_is_object(j)) {
        json_object_foreach(j, k, v)
        {
            replace_all(v, from, to);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            replace_all(v, from, to);
        }
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j), *p;
        if (!(p = strstr(s, from)))
            return;
        size_t n = strlen(s) + strlen(to) + 1;
        char *out = malloc(n);
        snprintf(out, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
        json_string_set(j, out);
        free(out);
    }
}

static json_t *load_fixture(void)
{
    json_error_t jerr;
    json_t *doc = json_load_file(PYSCOPE_TEST_DATA "/team-report.json", 0, &jerr);
    assert_non_null(doc);
    return doc;
}

/* doc renders, its page has each of has (NULL-terminated) and not lacks (NULL: no check). */
static void expect_page(const json_t *doc, const char *const *has, const char *lacks)
{
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    for (; *has; has++)
        if (!strstr(page, *has))
            fail_msg("not in the page: %s", *has);
    if (lacks && strstr(page, lacks))
        fail_msg("in the page: %s", lacks);
    free(page);
}

/* The list of series not yet judged stops at the report's limit as the others do: its count
 * is all of them (not_judged_total), and the cut says how many more and where to get them. */
static void test_not_judged_cut(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *rep = json_object_get(doc, "report");
    json_object_set_new(rep, "not_judged",
                        json_pack("[{s:I, s:s, s:s, s:s, s:I}]", "batch_id", (json_int_t)2,
                                  "script", "new.py", "host", "host-a", "python_build", "3.11",
                                  "baseline_runs", (json_int_t)1));
    json_object_set_new(rep, "not_judged_min_runs", json_integer(3));
    json_object_set_new(rep, "not_judged_total", json_integer(5));
    expect_page(doc,
                (const char *[]){"<summary>5 series not yet judged (fewer than 3 baseline "
                                 "nights)</summary>",
                                 "<p class=\"more\" id=\"not-judged-more\">Showing 1 of 5 "
                                 "series; 4 more not shown: <code>pyscope report --limit N"
                                 "</code> lists up to 1000, here and in <code>--json</code>.",
                                 "<li>new.py on host-a, batch 2: 1 of 3", NULL},
                NULL);
    /* all listed: no cut to tell */
    json_object_set_new(rep, "not_judged_total", json_integer(1));
    expect_page(doc, (const char *[]){"<summary>1 series not yet judged", NULL}, "not-judged-more");
    /* a count without its list (--limit is at least 1: a hand-made document) is still told */
    json_object_set_new(rep, "not_judged", json_array());
    json_object_set_new(rep, "not_judged_total", json_integer(3));
    expect_page(doc,
                (const char *[]){"<summary>3 series not yet judged",
                                 "Showing 0 of 3 series; 3 more not shown", NULL},
                NULL);
    json_decref(doc);
}

/* A row dated on the first night of the change it joined (its candidate run is a later
 * night's) names that first night's run in its headline (first_run), never the later one;
 * when the first night's run is not known, the later run says its batch. */
static void test_since_names_first_nights_run(void **state)
{
    (void)state;
    json_t *doc = hostile_doc();
    json_t *g = json_array_get(json_object_get(json_object_get(doc, "report"), "regressions"), 0);
    json_object_set_new(g, "candidate_run", json_string("cccccccc-0000-4000-8000-000000000004"));
    json_object_set_new(g, "candidate_batch_id", json_integer(4));
    json_object_set_new(g, "first_run", json_string("aaaaaaaa-0000-4000-8000-000000000003"));
    json_object_set_new(g, "nights", json_integer(2));
    json_object_set_new(g, "last_batch_id", json_integer(4));
    expect_page(doc,
                (const char *[]){"since batch 3 <span class=\"muted\">(run <code title=\""
                                 "aaaaaaaa-0000-4000-8000-000000000003\">aaaaaaaa</code>)</span>",
                                 NULL},
                "cccccccc");
    /* the first night's run unknown: the later one, with its batch */
    json_object_set_new(g, "first_run", json_null());
    expect_page(doc,
                (const char *[]){"since batch 3 <span class=\"muted\">(run <code title=\""
                                 "cccccccc-0000-4000-8000-000000000004\">cccccccc</code> of "
                                 "batch 4)</span>",
                                 NULL},
                NULL);
    /* a row of its own night: its candidate run, no batch said */
    json_object_set_new(g, "first_run", json_string("cccccccc-0000-4000-8000-000000000004"));
    json_object_set_new(g, "candidate_batch_id", json_integer(3));
    expect_page(doc, (const char *[]){">cccccccc</code>)</span>", NULL}, "of batch");
    json_decref(doc);
}

/*
 * A host name and a function name with an escape sequence, a right-to-left
 * override and a 3.6 KB token (an agent and a script choose them): shown in
 * their display form (lib/sanitize.h) in the line, the details and the
 * flame graph diff; no raw control or bidi character anywhere; the host's
 * whole name on hover, cut on screen by the "name" class.
 */
static void test_untrusted_names(void **state)
{
    (void)state;
    char *token = malloc(3601);
    memset(token, 'q', 3600);
    token[3600] = '\0';
    char *host = malloc(4000), *fn = malloc(4000);
    snprintf(host, 4000, "host-b\x1b]0;PWNED\x07\xe2\x80\xae%s", token);
    snprintf(fn, 4000, "examples/a.py:slow\x1b[2J\xe2\x80\xae%s:3", token);
    json_t *doc = load_fixture();
    replace_all(doc, "host-b", host);
    replace_all(doc, "examples/a.py:slow:3", fn);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_null(strchr(page, '\x1b'));
    assert_null(strchr(page, '\x07'));
    assert_null(strstr(page, "\xe2\x80\xae"));
    /* the host: the line's span holds it whole (title and text), cut by CSS */
    char *want = malloc(8000);
    snprintf(want, 8000, "<span class=\"name host\" title=\"host-b\\x1b]0;PWNED\\x07\\u202e%s",
             token);
    assert_non_null(strstr(page, want));
    /* the function: in the sentence, the why list and the flame graph diff */
    assert_non_null(strstr(page, "<code class=\"fn\" title=\"examples/a.py:slow\\x1b[2J\\u202e"));
    const char *fig = strstr(page, "<figure class=\"fdiff\"");
    assert_non_null(fig);
    snprintf(want, 8000, "<title>slow\\x1b[2J\\u202e%s (examples/a.py:3)", token);
    assert_non_null(strstr(fig, want));
    assert_non_null(strstr(fig, "<text x=\"3.00\" y=\"30.5\">slow\\x1b[2J\\u202eqq"));
    /* long names: the page's CSS cuts them with an ellipsis or wraps them */
    assert_non_null(strstr(page, "text-overflow: ellipsis"));
    assert_non_null(strstr(page, "overflow-wrap: anywhere"));
    free(page);
    /* and the served page the same */
    page = render_served(doc);
    assert_null(strchr(page, '\x1b'));
    assert_null(strstr(page, "\xe2\x80\xae"));
    assert_non_null(strstr(page, "slow\\x1b[2J\\u202e"));
    free(page);
    free(want);
    free(host);
    free(fn);
    free(token);
    json_decref(doc);
}

/*
 * truthl's verdict fields in words: each metric's rule and reason in the
 * details, the decision when it is not the wall time and a busy machine's
 * contention below the line.
 */
static void test_verdict_reasons(void **state)
{
    (void)state;
    json_t *doc = load_fixture();
    const json_t *regs = json_object_get(json_object_get(doc, "report"), "regressions");
    size_t i;
    json_t *g;
    json_array_foreach(regs, i, g)
    {
        const char *m = json_string_value(json_object_get(g, "metric"));
        if (strcmp(json_string_value(json_object_get(g, "host")), "host-b") != 0)
            continue;
        json_object_set_new(g, "rule", json_string("significant"));
        json_object_set_new(g, "reason",
                            json_string("slower beyond the 5% threshold and the "
                                        "\xc2\xb1"
                                        "7.52% noise floor, p<0.001"));
        if (strcmp(m, "wall_s") == 0)
            json_object_set_new(g, "contention",
                                json_pack("{s:b, s:f, s:f, s:f, s:f, s:b, s:b, s:b, s:{s:f}}",
                                          "known", 1, "candidate_queued_pct", 44.0,
                                          "baseline_queued_pct", 1.0, "candidate_cpu_bound_pct",
                                          60.0, "baseline_cpu_bound_pct", 61.0, "contaminated", 1,
                                          "cpu_bound", 0, "net_of_queueing", 1, "raw", "change_pct",
                                          80.0));
        json_object_set_new(g, "decision",
                            json_pack("{s:s, s:s, s:s}", "metric", "cpu_s", "rule", "significant",
                                      "reason",
                                      "wall time is contaminated: the script waited "
                                      "for a CPU 44% of its wall time"));
    }
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "<p class=\"say-more\">Decided on CPU time: wall time is "
                                 "contaminated: the script waited for a CPU 44% of its wall "
                                 "time."));
    assert_non_null(strstr(page, "The machine was busy: this run waited for a CPU 44% of its "
                                 "wall time, the baseline 1%. The wall time is judged net of "
                                 "that wait (with it, the change was +80.0%).</p>"));
    assert_non_null(strstr(page, "<p>Why each verdict:</p>\n<ul class=\"reasons\"><li>Wall time: "
                                 "<span class=\"v-reason\" data-rule=\"significant\">slower "
                                 "beyond the 5% threshold and the \xc2\xb1"
                                 "7.52% noise floor, "
                                 "p&lt;0.001 <span class=\"note\">(rule <code>significant</code>"
                                 ")</span></span></li>"));
    /* the memory series has neither: no sentence for it */
    assert_int_equal(count(page, "<p class=\"say-more\">"), 1);
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
    assert_non_null(strstr(page, "Nothing got slower."));
    assert_non_null(strstr(page, "Nothing got slower</b>.</p>")); /* one period */
    assert_non_null(strstr(page, "No batch in this window."));
    free(page);
    json_decref(doc);
}

/* A batch still running has no finish time: its header says so, not "Finished - UTC". */
static void test_running_batch(void **state)
{
    (void)state;
    json_t *doc =
        json_pack("{s:[], s:[], s:[{s:i, s:s, s:n}], s:{}, s:[]}", "regressions", "improvements",
                  "batches", "id", 7, "state", "running", "finished", "matrix", "hardware");
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "<dt>State</dt><dd>running, not finished yet</dd>"));
    assert_null(strstr(page, "<dt>Finished</dt>"));
    free(page);
    json_decref(doc);
}

/* The Pythons section: each build against the baseline with its moved functions, escaped; a
 * report without two Pythons on a host says so in one line. */
static void test_pythons_section(void **state)
{
    (void)state;
    json_t *set =
        json_pack("{s:s, s:{s:s}, s:[{s:s, s:b}, {s:s, s:b, s:{s:{s:f, s:f, s:f, s:I, s:I, s:s}},"
                  " s:[{s:s, s:f, s:f, s:f}]}]}",
                  "script", HOSTILE, "host", "hostname", HOSTILE "h", "pythons", "version",
                  "3.11.7", "baseline", 1, "version", "3.12.1", "baseline", 0, "vs_baseline",
                  "wall_s", "ratio", 0.8, "ci_low", 0.7, "ci_high", 0.9, "samples_base",
                  (json_int_t)4, "samples", (json_int_t)6, "verdict", "improvement", "functions",
                  "key", "w.py:<lambda>:3", "base_s", 0.5, "self_s", 0.2, "delta_s", -0.3);
    json_t *rep =
        json_pack("{s:[], s:[], s:[], s:{}, s:[], s:[o], s:I}", "regressions", "improvements",
                  "batches", "matrix", "hardware", "pythons", set, "pythons_total", (json_int_t)3);
    json_t *doc = json_pack("{s:s, s:o}", "schema", "pyscope.team_report/1", "report", rep);
    int rc;
    char *page = render(doc, &rc);
    assert_int_equal(rc, 0);
    const char *sec = strstr(page, "<section id=\"pythons\">");
    assert_non_null(sec);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<lambda"));
    assert_non_null(strstr(sec, HOSTILE_ESC));
    assert_non_null(strstr(sec, "<td>3.12.1</td><td>3.11.7</td><td class=\"num ok\">0.800</td>"));
    assert_non_null(strstr(sec, "0.700 \xe2\x80\xa6 0.900"));
    assert_non_null(strstr(sec, "4 / 6"));
    assert_non_null(strstr(sec, "w.py:&lt;lambda&gt;:3"));
    assert_non_null(strstr(sec, "1 of 3 shown"));
    assert_null(strstr(page, "No script ran under two Python builds"));
    free(page);
    json_decref(doc);
    /* none: one line */
    doc = json_pack("{s:[], s:[], s:[], s:{}, s:[], s:[]}", "regressions", "improvements",
                    "batches", "matrix", "hardware", "pythons");
    page = render(doc, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(page, "No script ran under two Python builds on one host."));
    assert_null(strstr(page, "pythons-table"));
    free(page);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_strings_escaped),
        cmocka_unit_test(test_confirmation_said),
        cmocka_unit_test(test_times_beside_counts),
        cmocka_unit_test(test_shared_words),
        cmocka_unit_test(test_ended_finding_not_open),
        cmocka_unit_test(test_matrix_cell_finding),
        cmocka_unit_test(test_hardware_of_one_machine),
        cmocka_unit_test(test_one_line_per_series),
        cmocka_unit_test(test_untrusted_names),
        cmocka_unit_test(test_verdict_reasons),
        cmocka_unit_test(test_ongoing_nights),
        cmocka_unit_test(test_inconclusive_reasons),
        cmocka_unit_test(test_inconclusive_grouped),
        cmocka_unit_test(test_inconclusive_ci_beyond_threshold),
        cmocka_unit_test(test_sizes_name_their_metric),
        cmocka_unit_test(test_not_judged_and_dismissed),
        cmocka_unit_test(test_not_judged_cut),
        cmocka_unit_test(test_since_names_first_nights_run),
        cmocka_unit_test(test_wrong_types_show_dashes),
        cmocka_unit_test(test_not_a_report),
        cmocka_unit_test(test_empty_report),
        cmocka_unit_test(test_running_batch),
        cmocka_unit_test(test_pythons_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
