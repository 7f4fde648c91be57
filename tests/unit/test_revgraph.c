/*
 * test_revgraph.c - coordinator/revgraph: the commits between a good and a bad commit
 * (git rev-list GOOD..BAD) from a partial graph.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "revgraph.h"

/* add "c" with parents "p1 p2" (space separated) and generation gen */
static void add(struct revgraph *g, const char *c, const char *parents, uint64_t gen)
{
    char buf[256];
    const char *ps[4];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", parents);
    for (char *t = strtok(buf, " "); t && n < 4; t = strtok(NULL, " "))
        ps[n++] = t;
    revgraph_add(g, c, ps, n, gen);
}

/* the range's commits joined by spaces */
static const char *joined(const struct revgraph_range *r)
{
    static char out[512];
    out[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        strcat(out, i ? " " : "");
        strcat(out, r->commits[i]);
    }
    return out;
}

/* a - b - c - d - e (linear) */
static void test_linear(void **state)
{
    (void)state;
    struct revgraph *g = revgraph_new();
    add(g, "a", "", 1);
    add(g, "b", "a", 2);
    add(g, "c", "b", 3);
    add(g, "d", "c", 4);
    add(g, "e", "d", 5);
    struct revgraph_range r;
    assert_int_equal(revgraph_range(g, "b", "e", 100, &r), 0);
    assert_string_equal(joined(&r), "e d c");
    assert_true(r.good_is_ancestor);
    assert_int_equal(r.n_missing, 0);
    revgraph_range_free(&r);
    assert_int_equal(revgraph_range(g, "d", "e", 100, &r), 0);
    assert_string_equal(joined(&r), "e"); /* one commit: nothing to bisect */
    revgraph_range_free(&r);
    assert_int_equal(revgraph_range(g, "a", "e", 2, &r), 0);
    assert_int_equal(r.n, 2); /* "at least 2" */
    revgraph_range_free(&r);
    assert_int_equal(revgraph_range(g, "x", "e", 2, &r), -EINVAL);
    revgraph_destroy(&g);
}

/*
 * a - b - c ------- m - e      good c, bad e: the side branch s1 s2 forked at b
 *      \           /           (before good) holds bad-only commits too
 *       s1 ---- s2
 */
static void test_merge(void **state)
{
    (void)state;
    struct revgraph *g = revgraph_new();
    add(g, "a", "", 1);
    add(g, "b", "a", 2);
    add(g, "c", "b", 3);
    add(g, "s1", "b", 3);
    add(g, "s2", "s1", 4);
    add(g, "m", "c s2", 5);
    add(g, "e", "m", 6);
    struct revgraph_range r;
    assert_int_equal(revgraph_range(g, "c", "e", 100, &r), 0);
    assert_string_equal(joined(&r), "e m s2 s1");
    assert_true(r.good_is_ancestor);
    assert_int_equal(r.n_missing, 0);
    revgraph_range_free(&r);
    revgraph_destroy(&g);
}

/* a - b - c (old head, force-pushed away); a - b - x - y (new head) */
static void test_rewritten(void **state)
{
    (void)state;
    struct revgraph *g = revgraph_new();
    add(g, "a", "", 1);
    add(g, "b", "a", 2);
    add(g, "c", "b", 3);
    add(g, "x", "b", 3);
    add(g, "y", "x", 4);
    struct revgraph_range r;
    assert_int_equal(revgraph_range(g, "c", "y", 100, &r), 0);
    assert_string_equal(joined(&r), "y x");
    assert_false(r.good_is_ancestor);
    revgraph_range_free(&r);
    revgraph_destroy(&g);
}

/* only the newest part described: the walk says what it lacks */
static void test_missing(void **state)
{
    (void)state;
    struct revgraph *g = revgraph_new();
    add(g, "d", "c", 4);
    add(g, "e", "d", 5);
    add(g, "b", "a", 2);
    struct revgraph_range r;
    assert_int_equal(revgraph_range(g, "b", "e", 100, &r), 0);
    assert_string_equal(joined(&r), "e d");
    assert_int_equal(r.n_missing, 1); /* c: the bad side goes on below what is known */
    assert_string_equal(r.missing[0], "c");
    assert_false(r.good_is_ancestor);
    revgraph_range_free(&r);
    add(g, "c", "b", 3);
    add(g, "a", "", 1);
    assert_int_equal(revgraph_range(g, "b", "e", 100, &r), 0);
    assert_string_equal(joined(&r), "e d c");
    assert_int_equal(r.n_missing, 0);
    assert_true(r.good_is_ancestor);
    revgraph_range_free(&r);
    revgraph_destroy(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_rewritten),
        cmocka_unit_test(test_missing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
