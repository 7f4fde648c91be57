/*
 * test_farm_text.c - the farm commands' progress texts (cli/farm_cmds.h): a bisection step's
 * line gives a change only when both sides have runs, and says which side has none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "farm_cmds.h"

/* The line of a step with base_runs nb, head_runs nh, outcome, verdict (NULL: null) and
 * change_pct (NULL: null). */
static char *step(json_int_t nb, json_int_t nh, const char *outcome, const char *verdict,
                  const double *change)
{
    json_t *st = json_pack(
        "{s:I, s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:I, s:I}", "n", (json_int_t)2, "phase", "step",
        "commit", "hash", "e90a7eaef900aaaabbbbccccddddeeeeffff0000", "subject", "c3 crash",
        "outcome", outcome, "verdict", verdict ? json_string(verdict) : json_null(), "change_pct",
        change ? json_real(*change) : json_null(), "base_runs", nb, "head_runs", nh);
    assert_non_null(st);
    char *s = bisect_farm_step_text(st);
    json_decref(st);
    return s;
}

static void test_step_measured(void **state)
{
    (void)state;
    double ch = 8.34;
    char *s = step(2, 2, "bad", "regression", &ch);
    assert_string_equal(s, "pyscope bisect: step 2 (step): e90a7eaef900 c3 crash: bad, regression "
                           "(+8.3%, 2+2 runs)");
    free(s);
}

/* stranger17's defect 7: "skip (+0.0%, 2+0 runs)" and "failed (+0.0%, 0+0 runs)" */
static void test_step_side_without_runs(void **state)
{
    (void)state;
    double zero = 0;
    char *s = step(2, 0, "skip", NULL, NULL);
    assert_string_equal(s, "pyscope bisect: step 2 (step): e90a7eaef900 c3 crash: skip "
                           "(2+0 runs: the head side has no runs)");
    free(s);
    /* a stored change is not shown either when a side is empty */
    s = step(0, 0, "failed", NULL, &zero);
    assert_string_equal(s, "pyscope bisect: step 2 (step): e90a7eaef900 c3 crash: failed "
                           "(0+0 runs: neither side has runs)");
    free(s);
    s = step(0, 2, "failed", NULL, NULL);
    assert_non_null(strstr(s, "(0+2 runs: the base side has no runs)"));
    assert_null(strstr(s, "%"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_measured),
        cmocka_unit_test(test_step_side_without_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
