/*
 * test_abtest.c - A/B verdicts over interleaved runs (cli/abtest): every head
 * run counts (not only one), a slower function is named in the why, equal
 * sides are no change, hotspot metrics (sampled and CPU self times) are decided
 * over all runs too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "abtest.h"

#define N_DOCS 6

/* A pyscope.run/1 document of 3 repeats: f takes f_s of CPU and wall, g 0.1 s; jitter
 * (a few per mille, different per document) so that nothing is exact. */
static json_t *doc(int id, double f_s, double jitter)
{
    json_t *runs = json_array();
    json_t *f_runs = json_array();
    for (int i = 0; i < 3; i++) {
        double t = f_s * (1 + jitter * (i - 1)) + 0.1;
        json_array_append_new(runs, json_pack("{s:f, s:f, s:i}", "wall_s", t + 0.02, "cpu_s", t,
                                              "peak_rss_bytes", 8000000));
        json_array_append_new(f_runs, json_real(f_s * (1 + jitter * (i - 1))));
    }
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "doc-%d", id);
    json_t *fns = json_pack(
        "[{s:s, s:f, s:f, s:f, s:f, s:O, s:O}, {s:s, s:f, s:f, s:f, s:f, s:[f,f,f], s:[f,f,f]}]",
        "key", "lib.py:f:1", "self_s", f_s, "total_s", f_s, "self_cpu_s", f_s, "self_pct", 50.0,
        "self_s_runs", f_runs, "total_s_runs", f_runs, "key", "lib.py:g:5", "self_s", 0.1,
        "total_s", 0.1, "self_cpu_s", 0.1, "self_pct", 50.0, "self_s_runs", 0.1, 0.1, 0.1,
        "total_s_runs", 0.1, 0.1, 0.1);
    json_decref(f_runs);
    return json_pack("{s:s, s:s, s:o, s:{s:o}}", "schema", "pyscope.run/1", "id", idtext, "runs",
                     runs, "profile", "functions", fns);
}

static const char *decision_verdict(const json_t *res)
{
    return json_string_value(json_object_get(json_object_get(res, "decision"), "verdict"));
}

/* Base f = 0.1 s, head f = 0.13 s (30% slower, the script 15%). */
static void test_slower_head_is_a_regression_named_by_its_function(void **state)
{
    (void)state;
    json_t *base[N_DOCS], *head[N_DOCS];
    for (int i = 0; i < N_DOCS; i++) {
        base[i] = doc(i, 0.1, 0.002 * (i + 1));
        head[i] = doc(100 + i, 0.13, 0.003 * (i + 1));
    }
    json_t *res = abtest_compare((const json_t *const *)base, N_DOCS, (const json_t *const *)head,
                                 N_DOCS, NULL);
    assert_non_null(res);
    assert_string_equal(decision_verdict(res), "regression");
    const json_t *ab = json_object_get(res, "ab");
    assert_int_equal(json_integer_value(json_object_get(ab, "head_runs")), N_DOCS);
    /* every head run counted: the wall-time metric's candidate has 6 runs of 3 */
    const json_t *m0 = json_array_get(json_object_get(res, "metrics"), 0);
    assert_string_equal(json_string_value(json_object_get(m0, "metric")), "wall_s");
    const json_t *cand = json_object_get(m0, "candidate");
    assert_int_equal(json_integer_value(json_object_get(cand, "n_runs")), N_DOCS);
    assert_int_equal(json_integer_value(json_object_get(cand, "n_samples")), 3 * N_DOCS);
    /* the why names f, not g */
    const json_t *fns = json_object_get(json_object_get(res, "why"), "functions");
    assert_true(json_array_size(fns) >= 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fns, 0), "key")),
                        "lib.py:f:1");
    for (size_t i = 0; i < json_array_size(fns); i++)
        assert_string_not_equal(json_string_value(json_object_get(json_array_get(fns, i), "key")),
                                "lib.py:g:5");
    /* f's hotspot metric is decided over all runs: a regression too; g's is not */
    size_t i;
    const json_t *m;
    int f_seen = 0, cpu_seen = 0;
    json_array_foreach(json_object_get(res, "metrics"), i, m)
    {
        const char *fn = json_string_value(json_object_get(m, "function"));
        const char *v = json_string_value(json_object_get(m, "verdict"));
        const char *name = json_string_value(json_object_get(m, "metric"));
        if (fn && strcmp(fn, "lib.py:f:1") == 0) {
            f_seen++;
            cpu_seen += strcmp(name, "self_cpu_s") == 0;
            assert_string_equal(v, "regression");
            assert_int_equal(
                json_integer_value(json_object_get(json_object_get(m, "candidate"), "n_runs")),
                N_DOCS);
        } else if (fn) {
            assert_string_not_equal(v, "regression");
        }
    }
    assert_true(f_seen >= 2);
    assert_int_equal(cpu_seen, 1); /* its CPU self time compared too */
    json_decref(res);
    for (int k = 0; k < N_DOCS; k++) {
        json_decref(base[k]);
        json_decref(head[k]);
    }
}

/* The same revision on both sides: no regression, nothing to explain. */
static void test_equal_sides_are_no_change(void **state)
{
    (void)state;
    json_t *base[N_DOCS], *head[N_DOCS];
    for (int i = 0; i < N_DOCS; i++) {
        base[i] = doc(i, 0.1, 0.002 * (i + 1));
        head[i] = doc(100 + i, 0.1, 0.002 * (N_DOCS - i));
    }
    json_t *res = abtest_compare((const json_t *const *)base, N_DOCS, (const json_t *const *)head,
                                 N_DOCS, NULL);
    assert_string_equal(decision_verdict(res), "no_change");
    assert_int_equal(json_array_size(json_object_get(json_object_get(res, "why"), "functions")), 0);
    json_decref(res);
    for (int k = 0; k < N_DOCS; k++) {
        json_decref(base[k]);
        json_decref(head[k]);
    }
}

/* Faster head: an improvement (the same rules both ways). */
static void test_faster_head_is_an_improvement(void **state)
{
    (void)state;
    json_t *base[N_DOCS], *head[N_DOCS];
    for (int i = 0; i < N_DOCS; i++) {
        base[i] = doc(i, 0.1, 0.002 * (i + 1));
        head[i] = doc(100 + i, 0.07, 0.002 * (i + 1));
    }
    json_t *res = abtest_compare((const json_t *const *)base, N_DOCS, (const json_t *const *)head,
                                 N_DOCS, NULL);
    assert_string_equal(decision_verdict(res), "improvement");
    json_decref(res);
    for (int k = 0; k < N_DOCS; k++) {
        json_decref(base[k]);
        json_decref(head[k]);
    }
}

/* No head runs: no_history, never a verdict. */
static void test_empty_side(void **state)
{
    (void)state;
    json_t *base = doc(1, 0.1, 0.01);
    json_t *res = abtest_compare((const json_t *const *)&base, 1, NULL, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(res, "status")), "no_history");
    json_decref(res);
    json_decref(base);
}

/* A bisection step's commit against GOOD, judged by the ends' change (+36%). */
static void test_nearer_end(void **state)
{
    (void)state;
    json_t *m = json_pack("{s:f, s:f}", "ci_low_pct", -20.0, "ci_high_pct", 12.0);
    assert_string_equal(abtest_nearer_end(36, m), "good"); /* wholly below +18% */
    json_object_set_new(m, "ci_low_pct", json_real(20.0));
    json_object_set_new(m, "ci_high_pct", json_real(60.0));
    assert_string_equal(abtest_nearer_end(36, m), "bad"); /* wholly above */
    json_object_set_new(m, "ci_low_pct", json_real(10.0));
    assert_null(abtest_nearer_end(36, m));  /* straddles +18%: open */
    assert_null(abtest_nearer_end(-10, m)); /* the ends are no slowdown */
    json_object_set_new(m, "ci_low_pct", json_null());
    assert_null(abtest_nearer_end(36, m)); /* no interval */
    json_decref(m);
}

/* An open step gets more rounds while inconclusive, within its batches and the budget;
 * the ends three times as many batches as a halving step. */
static void test_pool_more(void **state)
{
    (void)state;
    assert_int_equal(abtest_step_batches(false, 2), 3);
    assert_int_equal(abtest_step_batches(true, 2), 9);
    assert_true(abtest_pool_more("inconclusive", false, 1, 2, 100, 5));
    assert_true(abtest_pool_more("inconclusive", false, 2, 2, 100, 5));
    assert_false(abtest_pool_more("inconclusive", false, 3, 2, 100, 5)); /* 1 + 2 extra */
    assert_true(abtest_pool_more("inconclusive", true, 3, 2, 100, 5));   /* the ends go on */
    assert_true(abtest_pool_more("inconclusive", true, 8, 2, 100, 5));
    assert_false(abtest_pool_more("inconclusive", true, 9, 2, 100, 5));
    assert_true(abtest_pool_more("inconclusive", true, 4, 2, 10, 5)); /* 10 turns: one more */
    assert_false(abtest_pool_more("inconclusive", true, 4, 2, 9, 5)); /* out of budget */
    assert_false(abtest_pool_more("inconclusive", true, 4, 2, -3, 5));
    assert_false(abtest_pool_more("regression", true, 1, 2, 100, 5)); /* decided */
    assert_false(abtest_pool_more("no_change", false, 1, 2, 100, 5));
    assert_false(abtest_pool_more(NULL, true, 1, 2, 100, 5));
    assert_true(abtest_pool_more("inconclusive", true, 2, 0, 100, 5)); /* max_extra 0: ends 3 */
    assert_false(abtest_pool_more("inconclusive", true, 3, 0, 100, 5));
    assert_false(abtest_pool_more("inconclusive", false, 1, 0, 100, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slower_head_is_a_regression_named_by_its_function),
        cmocka_unit_test(test_equal_sides_are_no_change),
        cmocka_unit_test(test_faster_head_is_an_improvement),
        cmocka_unit_test(test_empty_side),
        cmocka_unit_test(test_nearer_end),
        cmocka_unit_test(test_pool_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
