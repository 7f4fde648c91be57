/* test_fcache.c - the store's function-id cache (coordinator/fcache.c): ids
 * found as put, replaced, kept across the tables' growth, gone after a clear
 * and when the cache starts over past its size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>

#include "fcache.h"

static void test_put_get_replace(void **state)
{
    (void)state;
    struct fcache c = {0};
    assert_int_equal(fcache_get(&c, "a.py:f:1"), 0); /* empty: no tables yet */
    fcache_put(&c, "a.py:f:1", 7);
    fcache_put(&c, "a.py:g:2", 8);
    assert_int_equal(fcache_get(&c, "a.py:f:1"), 7);
    assert_int_equal(fcache_get(&c, "a.py:g:2"), 8);
    assert_int_equal(fcache_get(&c, "a.py:h:3"), 0);
    fcache_put(&c, "a.py:f:1", 9);
    assert_int_equal(fcache_get(&c, "a.py:f:1"), 9);
    assert_int_equal(c.n, 2);
    fcache_clear(&c);
    assert_int_equal(fcache_get(&c, "a.py:f:1"), 0);
    assert_int_equal(c.n, 0);
    fcache_clear(&c); /* twice is fine */
}

/* 5000 keys: the tables grow (1024, 2048, ...) and every id is still found. */
static void test_growth(void **state)
{
    (void)state;
    struct fcache c = {0};
    char key[32];
    for (int i = 1; i <= 5000; i++) {
        snprintf(key, sizeof(key), "m.py:f%d:%d", i, i);
        fcache_put(&c, key, i);
    }
    assert_int_equal(c.n, 5000);
    assert_true(2 * c.n <= c.cap);
    for (int i = 1; i <= 5000; i++) {
        snprintf(key, sizeof(key), "m.py:f%d:%d", i, i);
        assert_int_equal(fcache_get(&c, key), i);
    }
    fcache_clear(&c);
}

/* Full (65536 entries): the next new key starts the cache over. */
static void test_starts_over_when_full(void **state)
{
    (void)state;
    struct fcache c = {0};
    char key[32];
    for (int i = 1; i <= 65536; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        fcache_put(&c, key, i);
    }
    assert_int_equal(fcache_get(&c, "k1"), 1);
    fcache_put(&c, "new", 70000);
    assert_int_equal(c.n, 1);
    assert_int_equal(fcache_get(&c, "new"), 70000);
    assert_int_equal(fcache_get(&c, "k1"), 0);
    fcache_clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_starts_over_when_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
