/* test_shm.c - the shared region's tables: strings, functions, nodes, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "shm.h"

static int setup(void **state)
{
    *state = shm_map(1);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct shm_region *r = *state;
    shm_unmap(&r);
    assert_null(r);
    return 0;
}

static void test_strings(void **state)
{
    struct shm_region *r = *state;
    uint32_t a = shm_add_string(r, "alpha", 5);
    uint32_t b = shm_add_string(r, "beta!", 4);
    assert_int_not_equal(a, 0);
    assert_string_equal(shm_string(r, a), "alpha");
    assert_string_equal(shm_string(r, b), "beta");
    assert_string_equal(shm_string(r, 0), "");
    assert_string_equal(shm_string(r, SHM_STRINGS_SIZE + 5), "");
}

static void test_strings_full(void **state)
{
    struct shm_region *r = *state;
    r->strings_used = SHM_STRINGS_SIZE - 4;
    assert_int_equal(shm_add_string(r, "toolong", 7), 0);
    assert_int_not_equal(shm_add_string(r, "ok", 2), 0);
}

static void test_funcs(void **state)
{
    struct shm_region *r = *state;
    assert_int_equal(shm_func_find(r, 0x1000), -1);
    int64_t f = shm_func_add(r, 0x1000, 1, 2, 42, false);
    assert_int_equal(f, 0);
    assert_int_equal(shm_func_find(r, 0x1000), 0);
    assert_int_equal(shm_func_add(r, 0x2000, 1, 2, 7, true), 1);
    assert_int_equal(shm_func_find(r, 0x2000), 1);
    assert_int_equal(r->funcs[1].line, 7);
    assert_int_equal(r->funcs[1].is_c, 1);
}

static void test_funcs_full(void **state)
{
    struct shm_region *r = *state;
    for (uint64_t i = 0; i < SHM_MAX_FUNCS; i++)
        assert_int_equal(shm_func_add(r, 0x10 + i * 16, 0, 0, 1, false), (int64_t)i);
    assert_int_equal(shm_func_add(r, 0x1, 0, 0, 1, false), -1);
    /* Every entry is still found through the hash. */
    for (uint64_t i = 0; i < SHM_MAX_FUNCS; i += 997)
        assert_int_equal(shm_func_find(r, 0x10 + i * 16), (int64_t)i);
}

static void test_nodes(void **state)
{
    struct shm_region *r = *state;
    uint32_t root = shm_node_add(r, 0, 0xA0, 0, 0);
    assert_int_equal(root, 1);
    uint32_t child = shm_node_add(r, root, 0xB0, 1, 0);
    assert_int_equal(shm_node_find(r, root, 0xB0, 0), child);
    assert_int_equal(r->nodes[child].depth, 1);
    assert_int_equal(r->nodes[child].parent, root);
    /* Same function, other parent or other thread: other nodes. */
    assert_int_equal(shm_node_find(r, 0, 0xB0, 0), 0);
    assert_int_equal(shm_node_find(r, root, 0xB0, 1), 0);
}

static void test_nodes_full(void **state)
{
    struct shm_region *r = *state;
    uint32_t last = 0;
    for (uint32_t i = 1; i < SHM_MAX_NODES; i++) {
        last = shm_node_add(r, 0, i, 0, 0);
        assert_int_equal(last, i);
    }
    assert_int_equal(shm_node_add(r, 0, 0xFFFFFF, 0, 0), 0);
    assert_int_equal(shm_node_find(r, 0, SHM_MAX_NODES - 1, 0), last);
}

static void test_threads(void **state)
{
    struct shm_region *r = *state;
    assert_int_equal(shm_thread_get(r, 0x1, 100), 0);
    assert_int_equal(shm_thread_get(r, 0x2, 101), 1);
    /* The same OS thread with a new PyThreadState stays one thread. */
    assert_int_equal(shm_thread_get(r, 0x3, 100), 0);
    for (int i = 2; i < SHM_MAX_THREADS; i++)
        assert_int_equal(shm_thread_get(r, 0, 1000 + (uint64_t)i), i);
    assert_int_equal(shm_thread_get(r, 0, 99999), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_funcs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_funcs_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
