/* test_collect.c - from call-tree nodes to functions, totals and stacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "collect.h"
#include "shm.h"

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static uint32_t add_func(struct shm_region *r, const char *file, const char *name, int line)
{
    int64_t f =
        shm_func_add(r, (uint64_t)(r->nfuncs + 1) * 64, shm_add_string(r, file, strlen(file)),
                     shm_add_string(r, name, strlen(name)), line, false);
    assert_true(f >= 0);
    return (uint32_t)f;
}

/* <module> -> f -> f (recursion) -> g, with self samples 2, 3, 5, 10. */
static struct shm_region *sample_region(void)
{
    struct shm_region *r = shm_map(1);
    assert_non_null(r);
    uint32_t mod = add_func(r, "/proj/a.py", "<module>", 1);
    uint32_t f = add_func(r, "/proj/a.py", "f", 3);
    uint32_t g = add_func(r, "/usr/lib/python3.11/x.py", "g", 10);
    int t = shm_thread_get(r, 1, 4242);
    r->threads[t].is_main = 1;
    uint32_t n1 = shm_node_add(r, 0, 1, mod, 0);
    uint32_t n2 = shm_node_add(r, n1, 2, f, 0);
    uint32_t n3 = shm_node_add(r, n2, 2, f, 0);
    uint32_t n4 = shm_node_add(r, n3, 3, g, 0);
    r->nodes[n1].self = 2;
    r->nodes[n2].self = 3;
    r->nodes[n3].self = 5;
    r->nodes[n4].self = 10;
    r->nodes[n4].cpu_ns = 500000000; /* 0.5 s of CPU in g */
    r->passes = 20;
    r->mono_start_ns = 1000000000;
    r->mono_end_ns = 3000000000; /* 2 s / 20 passes: a sample is 0.1 s */
    return r;
}

static json_t *find_function(json_t *profile, const char *key)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(profile, "functions"), i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "key")), key) == 0)
            return f;
    }
    fail_msg("function %s not in profile", key);
    return NULL;
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void test_sample_totals_count_recursion_once(void **state)
{
    (void)state;
    struct shm_region *r = sample_region();
    struct collect *c = collect_new(1, 0.004, "/proj", "/proj");
    collect_add_run(c, r, 2.0, 0, 0);
    json_t *p = collect_to_json(c, 2.0, 1.0);

    json_t *f = find_function(p, "a.py:f:3");
    assert_near(num(f, "self_s"), 0.8);
    assert_near(num(f, "total_s"), 1.8); /* not 1.8 + 1.5 */
    assert_int_equal(json_integer_value(json_object_get(f, "max_depth")), 2);
    assert_true(json_is_null(json_object_get(f, "calls")));
    assert_near(num(f, "total_pct"), 90.0);

    json_t *g = find_function(p, "/usr/lib/python3.11/x.py:g:10");
    assert_near(num(g, "self_s"), 1.0);
    assert_near(num(g, "self_cpu_s"), 0.5);
    json_t *mod = find_function(p, "a.py:<module>:1");
    assert_near(num(mod, "total_s"), 2.0);

    /* Sorted by total time. */
    json_t *first = json_array_get(json_object_get(p, "functions"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "key")), "a.py:<module>:1");

    /* One collapsed stack per node with self samples, root first. */
    json_t *stacks = json_object_get(p, "stacks");
    assert_int_equal(json_array_size(stacks), 4);
    json_t *top = json_array_get(stacks, 0);
    assert_near(num(top, "samples"), 10);
    assert_string_equal(json_string_value(json_object_get(top, "thread")), "MainThread");
    json_t *frames = json_object_get(top, "frames");
    assert_int_equal(json_array_size(frames), 4);
    assert_string_equal(json_string_value(json_array_get(frames, 0)), "a.py:<module>:1");
    assert_string_equal(json_string_value(json_array_get(frames, 3)),
                        "/usr/lib/python3.11/x.py:g:10");

    json_decref(p);
    collect_destroy(&c);
    assert_null(c);
    shm_unmap(&r);
}

static void test_runs_become_arrays(void **state)
{
    (void)state;
    struct shm_region *r = sample_region();
    struct collect *c = collect_new(1, 0.004, "/proj", "/proj");
    collect_add_run(c, r, 2.0, 0, 0);
    r->nodes[4].self = 30; /* the second run spends 3 s in g */
    collect_add_run(c, r, 4.0, 0, 0);
    json_t *p = collect_to_json(c, 3.0, 1.0);
    json_t *g = find_function(p, "/usr/lib/python3.11/x.py:g:10");
    json_t *runs = json_object_get(g, "self_s_runs");
    assert_int_equal(json_array_size(runs), 2);
    assert_near(json_number_value(json_array_get(runs, 0)), 1.0);
    assert_near(json_number_value(json_array_get(runs, 1)), 3.0);
    assert_near(num(g, "self_s"), 2.0); /* median of two */
    /* Stacks are summed over runs. */
    json_t *top = json_array_get(json_object_get(p, "stacks"), 0);
    assert_near(num(top, "samples"), 40);
    json_decref(p);
    collect_destroy(&c);
    shm_unmap(&r);
}

static void test_trace_ticks_and_calls(void **state)
{
    (void)state;
    struct shm_region *r = shm_map(2);
    uint32_t mod = add_func(r, "/proj/b.py", "<module>", 1);
    uint32_t fib = add_func(r, "/proj/b.py", "fib", 2);
    uint32_t n1 = shm_node_add(r, 0, 1, mod, 0);
    uint32_t n2 = shm_node_add(r, n1, 2, fib, 0);
    uint32_t n3 = shm_node_add(r, n2, 2, fib, 0);
    r->nodes[n1].calls = 1;
    r->nodes[n1].total = 1000;
    r->nodes[n1].self = 100;
    r->nodes[n2].calls = 1;
    r->nodes[n2].total = 900; /* inclusive of n3 */
    r->nodes[n2].self = 300;
    r->nodes[n3].calls = 2;
    r->nodes[n3].total = 600;
    r->nodes[n3].self = 600;
    /* The hook measured at 2,000 calls taking 300 us more than without it. */
    r->calib_calls = 2000;
    r->calib_plain_ns = 100000;
    r->calib_hook_ns = 400000;
    r->startup_ns = 2000000;
    struct collect *c = collect_new(2, 0, "/proj", "/proj");
    collect_add_run(c, r, 1e-6, 1e9, 0); /* 1 tick = 1 ns */
    json_t *p = collect_to_json(c, 1e-6, 1e-6);
    json_t *f = find_function(p, "b.py:fib:2");
    assert_int_equal(json_integer_value(json_object_get(f, "calls")), 3);
    assert_near(num(f, "self_s"), 900e-9);
    assert_near(num(f, "total_s"), 900e-9);
    assert_true(json_is_null(json_object_get(f, "self_cpu_s")));
    assert_string_equal(json_string_value(json_object_get(p, "mode")), "trace");
    /* Its overhead: 4 calls at 150 ns. */
    json_t *o = json_object_get(p, "overhead");
    assert_near(num(o, "per_call_ns"), 150);
    assert_near(num(o, "calls"), 4);
    assert_near(num(o, "estimated_s"), 600e-9);
    assert_near(num(o, "startup_s"), 0.002);
    assert_non_null(
        strstr(json_string_value(json_object_get(p, "overhead_note")), "about 150 ns a call"));
    json_decref(p);
    collect_destroy(&c);
    shm_unmap(&r);
}

static void test_pseudo_files_and_relative_names(void **state)
{
    (void)state;
    struct shm_region *r = shm_map(1);
    uint32_t a = add_func(r, "<frozen importlib._bootstrap>", "_find_and_load", 1167);
    uint32_t b = add_func(r, "sub/c.py", "h", 5); /* relative to the cwd */
    shm_thread_get(r, 1, 7);
    uint32_t n1 = shm_node_add(r, 0, 1, a, 0);
    uint32_t n2 = shm_node_add(r, n1, 2, b, 0);
    r->nodes[n2].self = 1;
    r->passes = 1;
    struct collect *c = collect_new(1, 0.004, "/proj", "/proj/work");
    collect_add_run(c, r, 0.004, 0, 0);
    json_t *p = collect_to_json(c, 0.004, 0.004);
    find_function(p, "<frozen importlib._bootstrap>:_find_and_load:1167");
    json_t *h = find_function(p, "work/sub/c.py:h:5");
    assert_string_equal(json_string_value(json_object_get(h, "file")), "work/sub/c.py");
    json_t *top = json_array_get(json_object_get(p, "stacks"), 0);
    assert_string_equal(json_string_value(json_object_get(top, "thread")), "Thread 7");
    json_decref(p);
    collect_destroy(&c);
    shm_unmap(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_totals_count_recursion_once),
        cmocka_unit_test(test_runs_become_arrays),
        cmocka_unit_test(test_trace_ticks_and_calls),
        cmocka_unit_test(test_pseudo_files_and_relative_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
