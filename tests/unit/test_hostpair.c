/* test_hostpair.c - what a host-vs-host ratio measures: one machine, contaminated wall time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hostpair.h"

/* Two hosts reporting one machine id are one machine: the ratio measures their load. */
static void test_same_machine_is_load(void **state)
{
    (void)state;
    struct hostpair_reading r;
    hostpair_judge("5d1e", "5d1e", 1.0, 2.0, true, &r);
    assert_int_equal(r.same_machine, HOSTPAIR_YES);
    assert_int_equal(r.wall_contaminated, HOSTPAIR_NO);
    assert_int_equal(r.measures, HOSTPAIR_LOAD);
    assert_string_equal(hostpair_measures_name(r.measures), "load");
    /* whatever the metric: a CPU-time ratio of one machine is no hardware difference either */
    hostpair_judge("5d1e", "5d1e", NAN, NAN, false, &r);
    assert_int_equal(r.measures, HOSTPAIR_LOAD);
}

/* A host without a machine id (an older agent) is unknown, never "the same". */
static void test_unknown_machine(void **state)
{
    (void)state;
    struct hostpair_reading r;
    hostpair_judge("", "", 1.0, 1.0, true, &r);
    assert_int_equal(r.same_machine, HOSTPAIR_UNKNOWN);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE);
    hostpair_judge(NULL, "5d1e", 1.0, 1.0, true, &r);
    assert_int_equal(r.same_machine, HOSTPAIR_UNKNOWN);
    hostpair_judge("box-1", "box-2", 1.0, 1.0, true, &r);
    assert_int_equal(r.same_machine, HOSTPAIR_NO);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE);
    assert_null(hostpair_caveat(&r, "a", "b", NULL, 1.0, 1.0, NULL));
}

/* Either side queued 5% of its wall time or more: the wall-time ratio is contaminated;
 * a CPU-time ratio is not. Below on both sides: clean. One side unknown, the other low:
 * unknown. */
static void test_contaminated_wall(void **state)
{
    (void)state;
    struct hostpair_reading r;
    hostpair_judge("box-1", "box-2", 1.0, 58.0, true, &r);
    assert_int_equal(r.wall_contaminated, HOSTPAIR_YES);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE_AND_LOAD);
    assert_string_equal(hostpair_measures_name(r.measures), "hardware_and_load");
    hostpair_judge("box-1", "box-2", 1.0, 58.0, false, &r);
    assert_int_equal(r.wall_contaminated, HOSTPAIR_YES);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE);
    hostpair_judge("box-1", "box-2", 30.0, 30.0, true, &r); /* equally queued: still luck */
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE_AND_LOAD);
    hostpair_judge("box-1", "box-2", 4.9, 0.0, true, &r);
    assert_int_equal(r.wall_contaminated, HOSTPAIR_NO);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE);
    hostpair_judge("box-1", "box-2", NAN, 1.0, true, &r);
    assert_int_equal(r.wall_contaminated, HOSTPAIR_UNKNOWN);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE);
    hostpair_judge(NULL, NULL, NAN, 20.0, true, &r); /* one side known past the limit */
    assert_int_equal(r.wall_contaminated, HOSTPAIR_YES);
    assert_int_equal(r.measures, HOSTPAIR_HARDWARE_AND_LOAD);
}

/* The sentence names the machine, each side's queueing and the CPU-time ratio to read. */
static void test_caveat_words(void **state)
{
    (void)state;
    struct hostpair_reading r;
    struct hostpair_ratio cpu = {1.004, 0.991, 1.02};
    hostpair_judge("5d1e", "5d1e", 58.0, 2.0, true, &r);
    char *s = hostpair_caveat(&r, "farm-a", "farm-b", "5d1e", 58.0, 2.0, &cpu);
    assert_string_equal(s, "farm-a and farm-b are one machine (machine id 5d1e): the ratio "
                           "measures their load and scheduling, not their hardware (farm-a "
                           "waited for a CPU 58% of its wall time, farm-b 2%); CPU time B/A "
                           "1.004 (95% CI 0.991-1.020), which waiting for a CPU does not add to");
    free(s);
    hostpair_judge("box-1", "box-2", 1.0, 40.0, true, &r);
    s = hostpair_caveat(&r, "host-a", "host-c", NULL, 1.0, 40.0, &cpu);
    assert_string_equal(s, "the wall-time ratio is contaminated by waiting for a CPU: host-a "
                           "waited 1% of its wall time, host-c 40% (5% or more is the load of "
                           "the moment, not the machine); CPU time B/A 1.004 (95% CI "
                           "0.991-1.020) is not: read that one");
    free(s);
    hostpair_judge(NULL, NULL, NAN, 40.0, true, &r);
    s = hostpair_caveat(&r, "host-a", "host-c", NULL, NAN, 40.0, NULL);
    assert_string_equal(s, "the wall-time ratio is contaminated by waiting for a CPU: host-c "
                           "waited 40% of its wall time (5% or more is the load of the moment, "
                           "not the machine)");
    free(s);
}

/* A side's share is the median over its runs, unknown runs left out. */
static void test_side_queued(void **state)
{
    (void)state;
    double x[] = {NAN, 10.0, 2.0, 50.0};
    assert_true(fabs(hostpair_side_queued(x, 4) - 10.0) < 1e-12);
    double none[] = {NAN, NAN};
    assert_true(isnan(hostpair_side_queued(none, 2)));
    assert_true(isnan(hostpair_side_queued(NULL, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_machine_is_load), cmocka_unit_test(test_unknown_machine),
        cmocka_unit_test(test_contaminated_wall),    cmocka_unit_test(test_caveat_words),
        cmocka_unit_test(test_side_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
