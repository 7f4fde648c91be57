/* test_codemap.c - code object address -> identity, and forgetting freed addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "codemap.h"
#include "faults.h"
#include "shm.h"

struct fixture {
    struct codemap *map;
    struct shm_region *region;
};

static int setup(void **state)
{
    static struct fixture f;
    f.map = codemap_new();
    f.region = shm_map(1);
    *state = &f;
    return f.map && f.region ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    codemap_destroy(&f->map);
    assert_null(f->map);
    shm_unmap(&f->region);
    return 0;
}

/* What the dealloc wrapper in the script's process does. */
static void log_death(struct shm_region *r, uint64_t addr)
{
    r->deaths[r->deaths_written % SHM_DEATHS] = addr;
    r->deaths_written++;
}

static void test_put_get_forget(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(codemap_get(f->map, 0x1000), 0);
    assert_int_equal(codemap_put(f->map, 0x1000, 1), 0);
    assert_int_equal(codemap_put(f->map, 0x2000, 2), 0);
    assert_int_equal(codemap_get(f->map, 0x1000), 1);
    assert_int_equal(codemap_get(f->map, 0x2000), 2);
    assert_int_equal(codemap_count(f->map), 2);
    codemap_forget(f->map, 0x1000);
    codemap_forget(f->map, 0x1000); /* twice: nothing more happens */
    codemap_forget(f->map, 0x3000); /* never there */
    assert_int_equal(codemap_get(f->map, 0x1000), 0);
    assert_int_equal(codemap_get(f->map, 0x2000), 2);
    assert_int_equal(codemap_count(f->map), 1);
    /* The address comes back with a new identity. */
    assert_int_equal(codemap_put(f->map, 0x1000, 3), 0);
    assert_int_equal(codemap_get(f->map, 0x1000), 3);
    /* Address and identity 0 are not valid. */
    assert_int_equal(codemap_put(f->map, 0, 5), -1);
    assert_int_equal(codemap_put(f->map, 0x4000, 0), -1);
    assert_int_equal(codemap_get(f->map, 0), 0);
}

/* Entries past a tombstone of an earlier collision stay reachable. */
static void test_collisions(void **state)
{
    struct fixture *f = *state;
    /* Addresses 16 bytes apart, as pymalloc hands out: many land on nearby slots. */
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(codemap_put(f->map, 0x7f0000000000ULL + i * 16, i + 1), 0);
    for (uint64_t i = 0; i < 5000; i += 2)
        codemap_forget(f->map, 0x7f0000000000ULL + i * 16);
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(codemap_get(f->map, 0x7f0000000000ULL + i * 16), i % 2 ? i + 1 : 0);
    assert_int_equal(codemap_count(f->map), 2500);
}

/* Many deaths and rebirths: tombstones are swept, identities kept, never full. */
static void test_churn(void **state)
{
    struct fixture *f = *state;
    uint64_t ident = 0;
    for (uint64_t round = 0; round < 40; round++) {
        for (uint64_t i = 0; i < 10000; i++)
            assert_int_equal(codemap_put(f->map, 0x10000 + (round * 10000 + i) * 16, ++ident), 0);
        for (uint64_t i = 0; i < 10000; i++)
            codemap_forget(f->map, 0x10000 + (round * 10000 + i) * 16);
    }
    assert_int_equal(codemap_count(f->map), 0);
    assert_int_equal(codemap_put(f->map, 0x42, 7), 0);
    assert_int_equal(codemap_get(f->map, 0x42), 7);
}

static void test_full(void **state)
{
    struct fixture *f = *state;
    uint32_t i = 0;
    while (codemap_put(f->map, 0x1000 + (uint64_t)i * 16, i + 1) == 0)
        i++;
    assert_int_equal(i, CODEMAP_SLOTS / 2);
    assert_int_equal(codemap_get(f->map, 0x1000), 1);
    codemap_clear(f->map);
    assert_int_equal(codemap_count(f->map), 0);
    assert_int_equal(codemap_get(f->map, 0x1000), 0);
}

static void test_sync(void **state)
{
    struct fixture *f = *state;
    uint64_t cursor = 0;
    codemap_put(f->map, 0xa0, 1);
    codemap_put(f->map, 0xb0, 2);
    codemap_put(f->map, 0xc0, 3);
    assert_int_equal(codemap_sync(f->map, f->region, &cursor), 0);
    log_death(f->region, 0xb0);
    log_death(f->region, 0xd0); /* never sampled */
    assert_int_equal(codemap_sync(f->map, f->region, &cursor), 2);
    assert_int_equal(cursor, 2);
    assert_int_equal(codemap_get(f->map, 0xa0), 1);
    assert_int_equal(codemap_get(f->map, 0xb0), 0);
    assert_int_equal(codemap_get(f->map, 0xc0), 3);
    assert_int_equal(codemap_sync(f->map, f->region, &cursor), 0);
    /* A whole ring's worth: each entry read, the others kept. */
    codemap_put(f->map, 0x100000, 9);
    for (uint64_t i = 0; i < SHM_DEATHS; i++)
        log_death(f->region, 0x100000 + (i + 1) * 16);
    assert_int_equal(codemap_sync(f->map, f->region, &cursor), SHM_DEATHS);
    assert_int_equal(codemap_get(f->map, 0x100000), 9);
    assert_int_equal(codemap_get(f->map, 0xc0), 3);
    /* More than a ring behind: entries were overwritten unread, so all is forgotten. */
    for (uint64_t i = 0; i <= SHM_DEATHS; i++)
        log_death(f->region, 0x200000 + i * 16);
    assert_int_equal(codemap_sync(f->map, f->region, &cursor), SHM_DEATHS + 1);
    assert_int_equal(codemap_get(f->map, 0xc0), 0);
    assert_int_equal(codemap_count(f->map), 0);
    assert_int_equal(cursor, f->region->deaths_written);
}

/* The page faults of a run that meets 200 code objects (pymalloc's 16-byte steps, a few
 * hundred bytes apart), each looked up and put as the sampler does, then looked up again:
 * in a fresh process (faults.h), from codemap_new on. */
static int count_map_faults(void)
{
    long before = minor_faults();
    struct codemap *map = codemap_new();
    int bad = !map;
    for (uint64_t i = 0; i < 200 && !bad; i++) {
        uint64_t addr = 0x7f3a12340000ULL + i * 208;
        bad = codemap_get(map, addr) != 0 || codemap_put(map, addr, i + 1) != 0;
    }
    for (uint64_t i = 0; i < 200 && !bad; i++)
        bad = codemap_get(map, 0x7f3a12340000ULL + i * 208) != i + 1;
    long n = minor_faults() - before;
    codemap_destroy(&map);
    return bad ? 99 : n > 90 ? 90 : (int)n;
}

/* The map starts small and doubles (codemap.c): a whole-size table (1 MiB) made nearly every
 * code object a page touched for the first time, two faults each in the sampler's pass. */
static void test_few_pages(void **state)
{
    (void)state;
    /* 16 KiB of slots at the end, and the rebuilds' copies: well under 20; over 200 before */
    assert_fresh_faults("test_codemap", "--count-map-faults", 20);
}

/* Entries survive the map's growth and its rebuilds without tombstones. */
static void test_growth_keeps_entries(void **state)
{
    struct fixture *f = *state;
    for (uint64_t i = 0; i < 3000; i++) {
        assert_int_equal(codemap_put(f->map, 0x5550000 + i * 48, i + 1), 0);
        if (i % 3 == 2) /* one in three dies while the map grows */
            codemap_forget(f->map, 0x5550000 + (i - 1) * 48);
    }
    for (uint64_t i = 0; i < 3000; i++)
        assert_int_equal(codemap_get(f->map, 0x5550000 + i * 48), i % 3 == 1 ? 0 : i + 1);
    assert_int_equal(codemap_count(f->map), 2000);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--count-map-faults") == 0)
        return count_map_faults();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_get_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_churn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_keeps_entries, setup, teardown),
        cmocka_unit_test(test_few_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
