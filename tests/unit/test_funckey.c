/* test_funckey.c - lib/funckey: function keys made, split from the right (a file name may
 * hold ':'), and labelled for people. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "funckey.h"

static void test_split_key(void **state)
{
    (void)state;
    static const struct {
        const char *key, *file, *name;
        long line;
    } cases[] = {
        {"examples/a.py:slow:3", "examples/a.py", "slow", 3},
        {"~:<built-in method time.sleep>:0", "~", "<built-in method time.sleep>", 0},
        {"/x:y/b.py:Cls.m:12", "/x:y/b.py", "Cls.m", 12},
        {"<frozen importlib._bootstrap>:_find_and_load:1165", "<frozen importlib._bootstrap>",
         "_find_and_load", 1165},
        {"plain", "", "plain", 0},
        {"file.py:name", "file.py", "name", 0},
        {"name:7", "", "name", 7},
        {"", "", "", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *file, *name;
        long line;
        assert_int_equal(funckey_split(cases[i].key, &file, &name, &line), 0);
        assert_string_equal(file, cases[i].file);
        assert_string_equal(name, cases[i].name);
        assert_int_equal(line, cases[i].line);
        free(file);
        free(name);
    }
    char *l = funckey_label("examples/a.py:slow:3");
    assert_string_equal(l, "slow (examples/a.py:3)");
    free(l);
    l = funckey_label("~:<built-in method time.sleep>:0");
    assert_string_equal(l, "<built-in method time.sleep>");
    free(l);
    l = funckey_label("<string>:<module>:0");
    assert_string_equal(l, "<module> (<string>)");
    free(l);
}

static void test_make_round_trip(void **state)
{
    (void)state;
    char *k = funckey_make("/x:y/b.py", "Cls.m", 12);
    assert_string_equal(k, "/x:y/b.py:Cls.m:12");
    char *file, *name;
    long line;
    assert_int_equal(funckey_split(k, &file, &name, &line), 0);
    assert_string_equal(file, "/x:y/b.py");
    assert_string_equal(name, "Cls.m");
    assert_int_equal(line, 12);
    free(file);
    free(name);
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_key),
        cmocka_unit_test(test_make_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
