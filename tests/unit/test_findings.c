/* test_findings.c - ongoing findings' level rules and the reference's drift correction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>

#include "findings.h"

/* A 30% slowdown (1.0 -> 1.3): back at 1.0 or 1.1, still there at 1.25 or 1.4. */
static void test_back_to_before(void **state)
{
    (void)state;
    assert_true(findings_back_to_before(1.0, 1.3, 1.0));
    assert_true(findings_back_to_before(1.0, 1.3, 1.1));
    assert_true(findings_back_to_before(1.0, 1.3, 0.8));
    assert_false(findings_back_to_before(1.0, 1.3, 1.25));
    assert_false(findings_back_to_before(1.0, 1.3, 1.4));
    /* an improvement (1.0 -> 0.7): back at 0.95, still there at 0.75 */
    assert_true(findings_back_to_before(1.0, 0.7, 0.95));
    assert_false(findings_back_to_before(1.0, 0.7, 0.75));
    /* nonsense levels decide nothing */
    assert_false(findings_back_to_before(0, 1.3, 1.0));
    assert_false(findings_back_to_before(1.0, NAN, 1.0));
    assert_false(findings_back_to_before(1.0, 1.3, -1));
}

/* The same slowdown seen again continues it; a second step of its size does not. */
static void test_continues(void **state)
{
    (void)state;
    assert_true(findings_continues(1.0, 1.3, 1.3));
    assert_true(findings_continues(1.0, 1.3, 1.35));
    assert_true(findings_continues(1.0, 1.3, 1.2));
    assert_false(findings_continues(1.0, 1.3, 1.6));
    assert_false(findings_continues(1.0, 1.3, 1.69));
    /* improvements: 0.7 again continues, 0.49 (a second halving step) does not */
    assert_true(findings_continues(1.0, 0.7, 0.72));
    assert_false(findings_continues(1.0, 0.7, 0.5));
    assert_false(findings_continues(1.0, INFINITY, 1.3));
}

/* A CPU-bound repeat on a machine whose reference got 20% slower in CPU and
 * queues 50% more: brought back exactly to the baseline's conditions. */
static void test_correct_cpu_bound(void **state)
{
    (void)state;
    struct findings_drift d = {.cpu_base = 1.0, .wall_base = 1.0, .cpu_now = 1.2, .wall_now = 1.8};
    assert_true(findings_drift_valid(&d));
    double wall, cpu;
    /* baseline: 2 s CPU, 2 s wall; now the same work costs 2.4 s CPU, 3.6 s wall */
    findings_correct(&d, 3.6, 2.4, false, &wall, &cpu);
    assert_float_equal(cpu, 2.0, 1e-9);
    assert_float_equal(wall, 2.0, 1e-9);
    /* a real 30% slowdown under the same drift stays 30% */
    findings_correct(&d, 3.6 * 1.3, 2.4 * 1.3, false, &wall, &cpu);
    assert_float_equal(cpu, 2.6, 1e-9);
    assert_float_equal(wall, 2.6, 1e-9);
}

/* A script that mostly sleeps: only its CPU part is stretched back. */
static void test_correct_sleeper(void **state)
{
    (void)state;
    struct findings_drift d = {.cpu_base = 1.0, .wall_base = 1.0, .cpu_now = 1.0, .wall_now = 2.0};
    double wall, cpu;
    /* baseline: 0.4 s CPU + 1.1 s sleep = 1.5 s; now the CPU part takes 0.8 s */
    findings_correct(&d, 1.9, 0.4, false, &wall, &cpu);
    assert_float_equal(cpu, 0.4, 1e-9);
    assert_float_equal(wall, 1.5, 1e-9);
    /* no drift: nothing changes */
    struct findings_drift none = {.cpu_base = 2, .wall_base = 2.2, .cpu_now = 2, .wall_now = 2.2};
    findings_correct(&none, 1.9, 0.4, false, &wall, &cpu);
    assert_float_equal(wall, 1.9, 1e-9);
    assert_float_equal(cpu, 0.4, 1e-9);
}

/* Threads in parallel (CPU > stretched wall): the wall time scales with the reference's. */
static void test_correct_parallel(void **state)
{
    (void)state;
    struct findings_drift d = {.cpu_base = 1.0, .wall_base = 1.0, .cpu_now = 1.0, .wall_now = 1.25};
    double wall, cpu;
    findings_correct(&d, 2.5, 4.0, false, &wall, &cpu);
    assert_float_equal(wall, 2.0, 1e-9);
    assert_float_equal(cpu, 4.0, 1e-9);
    struct findings_drift bad = {.cpu_base = 1.0, .wall_base = 0, .cpu_now = 1.0, .wall_now = 1.0};
    assert_false(findings_drift_valid(&bad));
    bad.wall_base = NAN;
    assert_false(findings_drift_valid(&bad));
}

/* With the run delay measured, only the CPU speed drift is divided out: the queueing is
 * subtracted as measured by the analysis (net of queueing), whatever the reference saw. */
static void test_correct_delay_known(void **state)
{
    (void)state;
    struct findings_drift d = {.cpu_base = 1.0, .wall_base = 1.0, .cpu_now = 1.25, .wall_now = 3};
    double wall, cpu;
    /* 0.5 s CPU (0.4 s at base speed) + 1.1 s sleep + 2 s queued */
    findings_correct(&d, 3.6, 0.5, true, &wall, &cpu);
    assert_float_equal(cpu, 0.4, 1e-9);
    assert_float_equal(wall, 3.5, 1e-9); /* net of its 2 s: 1.5 s, the base conditions */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_before),    cmocka_unit_test(test_continues),
        cmocka_unit_test(test_correct_cpu_bound), cmocka_unit_test(test_correct_sleeper),
        cmocka_unit_test(test_correct_parallel),  cmocka_unit_test(test_correct_delay_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
