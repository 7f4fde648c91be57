/* test_jsonutil.c - lib/jsonutil's getters: a number of the right kind is
 * read, anything else (missing, a string, null, out of range, negative) is
 * the default or "unknown" and leaves the output alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>

#include "jsonutil.h"

static json_t *doc(void)
{
    json_t *o = json_loads("{\"int\": 3, \"real\": 2.5, \"neg\": -1, \"big\": 2e9,"
                           " \"str\": \"4\", \"null\": null, \"zero\": 0}",
                           0, NULL);
    assert_non_null(o);
    return o;
}

static void test_get_number(void **state)
{
    (void)state;
    json_t *o = doc();
    assert_true(json_get_number(o, "int", NAN) == 3);
    assert_true(json_get_number(o, "real", NAN) == 2.5);
    assert_true(isnan(json_get_number(o, "str", NAN)));
    assert_true(isnan(json_get_number(o, "missing", NAN)));
    assert_true(json_get_number(NULL, "int", 7) == 7);
    json_decref(o);
}

static void test_get_in(void **state)
{
    (void)state;
    json_t *o = doc();
    double x = 42;
    assert_true(json_get_in(o, "real", 0, 1e9, &x));
    assert_true(x == 2.5);
    x = 42;
    assert_true(json_get_in(o, "zero", 0, 1e9, &x)); /* bounds included */
    assert_true(x == 0);
    x = 42;
    assert_false(json_get_in(o, "big", 0, 1e9, &x)); /* above hi */
    assert_false(json_get_in(o, "neg", 0, 1e9, &x)); /* below lo */
    assert_false(json_get_in(o, "str", 0, 1e9, &x));
    assert_false(json_get_in(o, "null", 0, 1e9, &x));
    assert_false(json_get_in(o, "missing", 0, 1e9, &x));
    assert_true(x == 42); /* untouched when unknown */
    assert_true(json_get_in(o, "neg", -1, 0, &x));
    assert_true(x == -1);
    json_decref(o);
}

static void test_get_nonneg(void **state)
{
    (void)state;
    json_t *o = doc();
    assert_true(json_get_nonneg(o, "int") == 3);
    assert_true(json_get_nonneg(o, "big") == 2e9);
    assert_true(json_get_nonneg(o, "neg") == 0);
    assert_true(json_get_nonneg(o, "str") == 0);
    assert_true(json_get_nonneg(o, "missing") == 0);
    json_decref(o);
}

/* The value getters: a finite number (>= 0 for _nonneg) is read, anything else leaves
 * the output alone (the private getters they replaced wrote a rejected value into it). */
static void test_value_getters(void **state)
{
    (void)state;
    json_t *o = doc();
    double x = 42;
    assert_true(json_value_finite(json_object_get(o, "neg"), &x));
    assert_true(x == -1);
    x = 42;
    assert_true(json_value_finite(json_object_get(o, "int"), &x));
    assert_true(x == 3);
    x = 42;
    assert_false(json_value_finite(json_object_get(o, "str"), &x));
    assert_false(json_value_finite(json_object_get(o, "null"), &x));
    assert_false(json_value_finite(NULL, &x));
    assert_true(x == 42);
    assert_true(json_value_nonneg(json_object_get(o, "zero"), &x));
    assert_true(x == 0);
    x = 42;
    assert_true(json_value_nonneg(json_object_get(o, "real"), &x));
    assert_true(x == 2.5);
    x = 42;
    assert_false(json_value_nonneg(json_object_get(o, "neg"), &x));
    assert_false(json_value_nonneg(json_object_get(o, "str"), &x));
    assert_false(json_value_nonneg(json_object_get(o, "missing"), &x));
    assert_true(x == 42); /* untouched when rejected */
    assert_true(json_value_nonneg_or(json_object_get(o, "big"), -1) == 2e9);
    assert_true(json_value_nonneg_or(json_object_get(o, "neg"), -1) == -1);
    assert_true(json_value_nonneg_or(json_object_get(o, "null"), 100) == 100);
    assert_true(json_value_nonneg_or(NULL, 100) == 100);
    /* json_get_finite reads the same values through a key */
    x = 42;
    assert_true(json_get_finite(o, "neg", &x));
    assert_true(x == -1);
    x = 42;
    assert_false(json_get_finite(o, "str", &x));
    assert_true(x == 42);
    json_decref(o);
}

/* The integer and string getters: an integer (not a real, not a string) is read; anything
 * else gives the default, or false with the output untouched. */
static void test_int_and_string_getters(void **state)
{
    (void)state;
    json_t *o = doc();
    assert_int_equal(json_get_int(o, "int", -7), 3);
    assert_int_equal(json_get_int(o, "neg", -7), -1);
    assert_int_equal(json_get_int(o, "real", -7), -7);
    assert_int_equal(json_get_int(o, "str", -7), -7);
    assert_int_equal(json_get_int(o, "missing", -7), -7);
    assert_int_equal(json_get_int(NULL, "int", -7), -7);
    json_int_t v = 42;
    assert_true(json_get_integer(o, "zero", &v));
    assert_int_equal(v, 0);
    v = 42;
    assert_false(json_get_integer(o, "real", &v));
    assert_false(json_get_integer(o, "null", &v));
    assert_false(json_get_integer(o, "missing", &v));
    assert_int_equal(v, 42);
    assert_string_equal(json_get_string(o, "str", "d"), "4");
    assert_string_equal(json_get_string(o, "int", "d"), "d");
    assert_null(json_get_string(o, "missing", NULL));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_number),
        cmocka_unit_test(test_get_in),
        cmocka_unit_test(test_get_nonneg),
        cmocka_unit_test(test_value_getters),
        cmocka_unit_test(test_int_and_string_getters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
