/* test_pyreq.c - Python requests of jobs (lib/pyreq.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pyreq.h"

static void test_check(void **state)
{
    (void)state;
    char why[160];
    const char *good[] = {
        "", "3", "3.12", "3.12.1", "3.13.10", "/usr/bin/python3.11", "/opt/py 3/bin/python"};
    for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
        assert_int_equal(pyreq_check(good[i], why, sizeof(why)), 0);
    const char *bad[] = {"3.",      ".3",          "3..1",  "3.12.1.4", "python3.12", "3.12a",
                         "cpython", "bin/python3", "/a,/b", "/a\nb",    "12345.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        why[0] = '\0';
        assert_int_equal(pyreq_check(bad[i], why, sizeof(why)), -1);
        assert_true(why[0] != '\0');
    }
    char longer[PYREQ_MAX + 2];
    longer[0] = '/';
    for (size_t i = 1; i < sizeof(longer) - 1; i++)
        longer[i] = 'a';
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(pyreq_check(longer, why, sizeof(why)), -1);
}

static void test_match(void **state)
{
    (void)state;
    /* by version components, never by text prefix */
    assert_true(pyreq_match("3.12", "3.12.1", NULL, NULL));
    assert_true(pyreq_match("3.12", "3.12", NULL, NULL));
    assert_true(pyreq_match("3", "3.12.1", NULL, NULL));
    assert_true(pyreq_match("3.12.1", "3.12.1", NULL, NULL));
    assert_false(pyreq_match("3.1", "3.12.1", NULL, NULL));
    assert_false(pyreq_match("3.12.1", "3.12.10", NULL, NULL));
    assert_false(pyreq_match("3.12.10", "3.12.1", NULL, NULL));
    assert_false(pyreq_match("3.13", "3.12.1", NULL, NULL));
    assert_false(pyreq_match("3.12", NULL, NULL, NULL));
    /* a path: the executable or the path the agent runs it by */
    assert_true(pyreq_match("/usr/bin/python3.11", "3.11.2", "/usr/bin/python3.11", NULL));
    assert_true(pyreq_match("/shims/python3", "3.11.2", "/usr/bin/python3.11", "/shims/python3"));
    assert_false(pyreq_match("/usr/bin/python3", "3.11.2", "/usr/bin/python3.11", NULL));
    assert_false(pyreq_match("/usr/bin/python3.11", "3.11.2", NULL, NULL));
    /* no request matches nothing: the caller's default */
    assert_false(pyreq_match("", "3.11.2", "/usr/bin/python3.11", NULL));
    assert_false(pyreq_match(NULL, "3.11.2", NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
