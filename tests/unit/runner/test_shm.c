/* test_shm.c - the shared region's tables: strings, functions, nodes, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "faults.h"
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

/* A tree of 3 threads x 40 functions, 5 levels: every node is found again after the
 * slot tables grew (shm.c), under its own parent and thread only. */
static void test_nodes_grow(void **state)
{
    struct shm_region *r = *state;
    uint32_t parent[3][6] = {{0}};
    for (uint32_t t = 0; t < 3; t++)
        for (uint32_t level = 1; level <= 5; level++)
            for (uint64_t fn = 1; fn <= 40; fn++) {
                uint64_t ident = 0x7f0000001000ULL + fn * 4096;
                uint32_t p = parent[t][level - 1];
                uint32_t n = shm_node_add(r, p, ident, (uint32_t)fn, t);
                assert_int_not_equal(n, 0);
                if (fn == level) /* the next level hangs below function `level` */
                    parent[t][level] = n;
            }
    assert_int_equal(r->nnodes, 1 + 3 * 5 * 40);
    for (uint32_t k = 1; k < r->nnodes; k++) {
        const struct shm_node *n = &r->nodes[k];
        assert_int_equal(shm_node_find(r, n->parent, n->ident, n->thread), k);
        assert_int_equal(shm_node_find(r, n->parent, n->ident, n->thread + 7), 0);
    }
}

/* A region the script's process scribbled on (it has it mapped): slots all taken, or
 * holding indexes past the tables. Lookups and adds end, and follow no such index; an add
 * finds no room (the caller counts it as dropped). Before, a lookup looped forever or read
 * past the tables. */
static void test_scribbled_slots(void **state)
{
    struct shm_region *r = *state;
    assert_int_equal(shm_func_add(r, 0x10, 0, 0, 1, false), 0);
    assert_int_not_equal(shm_node_add(r, 0, 0x10, 0, 0), 0);
    memset(r->func_slots, 0xff, sizeof(r->func_slots));
    memset(r->node_slots, 0xff, sizeof(r->node_slots));
    assert_int_equal(shm_func_find(r, 0x20), -1);
    assert_int_equal(shm_func_add(r, 0x20, 0, 0, 1, false), -1);
    assert_int_equal(shm_node_find(r, 0, 0x20, 0), 0);
    assert_int_equal(shm_node_add(r, 0, 0x20, 0, 0), 0);
    r->func_bits = r->node_bits = 99; /* a size past the tables: taken as the whole table */
    assert_int_equal(shm_func_find(r, 0x20), -1);
    assert_int_equal(shm_node_find(r, 0, 0x20, 0), 0);
}

/* The page faults of a run with 300 functions and 1000 nodes, in a fresh process (faults.h)
 * and a fresh region: the entries' own arrays (about 9 KiB and 47 KiB), and a few pages of
 * slots, not a page of each 1 MiB slot table per entry (over 300 before). */
static int count_table_faults(void)
{
    struct shm_region *r = shm_map(1);
    if (!r)
        return 99;
    long before = minor_faults();
    int bad = 0;
    for (uint64_t f = 0; f < 300 && !bad; f++)
        bad = shm_func_find(r, 0x7f0000000000ULL + f * 432) != -1 ||
              shm_func_add(r, 0x7f0000000000ULL + f * 432, 0, 0, 1, false) != (int64_t)f;
    uint32_t parent = 0;
    for (uint64_t k = 0; k < 1000 && !bad; k++) {
        uint64_t ident = 0x7f0000000000ULL + (k % 300) * 432;
        uint32_t n = shm_node_find(r, parent, ident, 0);
        bad = n != 0 || (n = shm_node_add(r, parent, ident, (uint32_t)(k % 300), 0)) == 0;
        parent = k % 7 == 6 ? 0 : n; /* stacks seven deep */
    }
    long n = minor_faults() - before;
    shm_unmap(&r);
    return bad ? 99 : n > 90 ? 90 : (int)n;
}

static void test_tables_touch_few_pages(void **state)
{
    (void)state;
    assert_fresh_faults("test_shm", "--count-table-faults", 40);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--count-table-faults") == 0)
        return count_table_faults();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_funcs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_funcs_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nodes_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scribbled_slots, setup, teardown),
        cmocka_unit_test(test_tables_touch_few_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
