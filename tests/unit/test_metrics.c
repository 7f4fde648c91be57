/* test_metrics.c - the one list of metric names (lib/metrics.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

static void test_names_accepted(void **state)
{
    (void)state;
    assert_true(metric_name_ok(METRIC_SET_MEASURED, "cpu_s"));
    assert_true(metric_name_ok(METRIC_SET_MEASURED, "wall_s"));
    assert_true(metric_name_ok(METRIC_SET_MEASURED, "peak_rss_bytes"));
    assert_false(metric_name_ok(METRIC_SET_MEASURED, "instructions"));
    assert_true(metric_name_ok(METRIC_SET_ALL, "instructions"));
    assert_true(metric_name_ok(METRIC_SET_ALL, "cpu_s"));
    assert_false(metric_name_ok(METRIC_SET_MEASURED, "cpu"));
    assert_false(metric_name_ok(METRIC_SET_MEASURED, "cpu_s "));
    assert_false(metric_name_ok(METRIC_SET_MEASURED, "self_s"));
    assert_false(metric_name_ok(METRIC_SET_ALL, ""));
    assert_false(metric_name_ok(METRIC_SET_ALL, NULL));
}

/* The message text and the SQL array say exactly the list's names, in its order. */
static void test_texts_match_the_list(void **state)
{
    (void)state;
    const enum metric_set sets[2] = {METRIC_SET_MEASURED, METRIC_SET_ALL};
    for (int s = 0; s < 2; s++) {
        const char *const *n = metric_names(sets[s]);
        size_t count = 0;
        char text[256] = "", arr[256] = "{";
        while (n[count])
            count++;
        assert_true(count >= 3);
        for (size_t i = 0; i < count; i++) {
            size_t tl = strlen(text), al = strlen(arr);
            snprintf(text + tl, sizeof(text) - tl, "%s%s",
                     i == 0           ? ""
                     : i + 1 == count ? " or "
                                      : ", ",
                     n[i]);
            snprintf(arr + al, sizeof(arr) - al, "%s%s", i ? "," : "", n[i]);
        }
        strcat(arr, "}");
        assert_string_equal(metric_names_text(sets[s]), text);
        assert_string_equal(metric_names_array(sets[s]), arr);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_accepted),
        cmocka_unit_test(test_texts_match_the_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
