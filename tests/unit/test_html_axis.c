/* test_html_axis.c - lib/html_axis: round steps (1, 2, 5 x 10^k) under both
 * policies, the boundaries where they differ, and degenerate ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>

#include "html_axis.h"

static void near(double got, double want)
{
    assert_true(fabs(got - want) <= 1e-12 * fabs(want));
}

static void test_at_most(void **state)
{
    (void)state;
    near(html_axis_step(6, 6, HTML_AXIS_AT_MOST), 1);   /* exactly 1 */
    near(html_axis_step(6.6, 6, HTML_AXIS_AT_MOST), 2); /* 1.1 -> 2: never more ticks */
    near(html_axis_step(12, 4, HTML_AXIS_AT_MOST), 5);  /* 3 -> 5 */
    near(html_axis_step(28, 4, HTML_AXIS_AT_MOST), 10); /* 7 -> 10 */
    near(html_axis_step(0.03, 6, HTML_AXIS_AT_MOST), 0.005);
    near(html_axis_step(4500, 6, HTML_AXIS_AT_MOST), 1000); /* 750 -> 1000 */
}

static void test_nearest(void **state)
{
    (void)state;
    near(html_axis_step(7, 5, HTML_AXIS_NEAREST), 1);   /* 1.4 -> 1 */
    near(html_axis_step(7.5, 5, HTML_AXIS_NEAREST), 2); /* 1.5 -> 2 */
    near(html_axis_step(14, 5, HTML_AXIS_NEAREST), 2);  /* 2.8 -> 2 */
    near(html_axis_step(15, 5, HTML_AXIS_NEAREST), 5);  /* 3 -> 5 */
    near(html_axis_step(34, 5, HTML_AXIS_NEAREST), 5);  /* 6.8 -> 5 */
    near(html_axis_step(35, 5, HTML_AXIS_NEAREST), 10); /* 7 -> 10 */
    near(html_axis_step(0.0055, 5, HTML_AXIS_NEAREST), 0.001);
}

static void test_degenerate(void **state)
{
    (void)state;
    assert_true(html_axis_step(0, 5, HTML_AXIS_NEAREST) == 1);
    assert_true(html_axis_step(-3, 5, HTML_AXIS_AT_MOST) == 1);
    assert_true(html_axis_step(NAN, 5, HTML_AXIS_AT_MOST) == 1);
    assert_true(html_axis_step(10, 0, HTML_AXIS_AT_MOST) == 1);
    assert_false(isfinite(html_axis_step(INFINITY, 5, HTML_AXIS_NEAREST)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_at_most),
        cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
