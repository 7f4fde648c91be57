/* test_fault.c - PYSCOPE_FAULT parsing and hit counting (the pure part of lib/fault). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "errors.h"
#include "fault.h"

static void test_parse_points_and_switches(void **state)
{
    (void)state;
    struct fault_set s;
    char err[256] = "";
    assert_int_equal(
        fault_parse("agent_after_send:25,coord_before_commit:1,unsafe", &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.arm[0].name, "agent_after_send");
    assert_int_equal(s.arm[0].at, 25);
    assert_string_equal(s.arm[1].name, "coord_before_commit");
    assert_int_equal(s.arm[1].at, 1);
    assert_string_equal(s.arm[2].name, "unsafe");
    assert_int_equal(s.arm[2].at, 0);
    assert_true(fault_set_has_switch(&s, "unsafe"));
    assert_false(fault_set_has_switch(&s, "agent_after_send"));
    assert_int_equal(fault_parse(NULL, &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(fault_parse("", &s, err, sizeof(err)), 0);
    assert_int_equal(s.n, 0);
}

static void test_parse_rejects_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "a:0",
        "a:",
        "a:x",
        ":3",
        "A:1",
        "a-b:1",
        "a:1,,b:2",
        "a:1:2",
        "a:1e3",
        "a:1000000001",
        ",a:1",
        "a b:1",
        "a:-1",
        "abcdefghijklmnopqrstuvwxyz0123456:1",
        "a,b,c,d,e,f,g,h,i",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct fault_set s;
        char err[256] = "";
        int rc = fault_parse(bad[i], &s, err, sizeof(err));
        if (rc != -PYSCOPE_EUSAGE)
            fail_msg("\"%s\": want -PYSCOPE_EUSAGE, got %d", bad[i], rc);
        assert_true(strlen(err) > 0);
    }
}

static void test_count_fires_once_on_the_nth_hit(void **state)
{
    (void)state;
    struct fault_set s;
    char err[256];
    assert_int_equal(fault_parse("p:3,q:1,sw", &s, err, sizeof(err)), 0);
    assert_false(fault_count(&s, "p"));
    assert_false(fault_count(&s, "other"));
    assert_false(fault_count(&s, "p"));
    assert_true(fault_count(&s, "p"));
    assert_false(fault_count(&s, "p")); /* only once */
    assert_true(fault_count(&s, "q"));
    assert_false(fault_count(&s, "sw")); /* a switch never fires */
}

static void test_unarmed_process_never_fires(void **state)
{
    (void)state;
    /* ctest runs this without PYSCOPE_FAULT: the hooks are inert. */
    assert_false(fault_armed);
    fault_point("agent_after_send");
    assert_false(fault_enabled("agent_unsafe_delete"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_points_and_switches),
        cmocka_unit_test(test_parse_rejects_bad_values),
        cmocka_unit_test(test_count_fires_once_on_the_nth_hit),
        cmocka_unit_test(test_unarmed_process_never_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
