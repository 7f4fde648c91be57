/* test_errors.c - error names and allocation helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "xmalloc.h"

static void test_strerror_names_both_kinds(void **state)
{
    (void)state;
    assert_string_equal(pyscope_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(pyscope_strerror(-PYSCOPE_EPARSE), "malformed input");
    assert_string_equal(pyscope_strerror(-99999), "unknown error");
}

static void test_xasprintf_formats(void **state)
{
    (void)state;
    char *s = xasprintf("%s-%d", "run", 42);
    assert_string_equal(s, "run-42");
    free(s);
    char *t = xstrndup("abcdef", 3);
    assert_string_equal(t, "abc");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_both_kinds),
        cmocka_unit_test(test_xasprintf_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
