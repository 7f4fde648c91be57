/* test_refloop.c - the reference workload (agent/runner/refloop.c): the buffer holds the
 * walk's own lines and nothing else, and a chunk hashes what a fully filled buffer gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asan_build.h"
#include "refloop.h"

#define WORDS      (REFLOOP_BUFFER_BYTES / sizeof(uint32_t))
#define LINE_WORDS 16u

/* An unwritten word: the kernel's zero; under ASan also its allocator's fill of a new
 * block's first 4 KiB (malloc_fill_byte 0xbe: CI's ASan tree saw those lines "written"). */
static bool unwritten(uint32_t w)
{
#ifdef PYSCOPE_TEST_ASAN
    return w == 0 || w == 0xbebebebeu;
#else
    return w == 0;
#endif
}

/* The fill as refloop.c made it until December 2026: every line's first word. */
static uint32_t *full_fill(void)
{
    uint32_t *b = calloc(WORDS, sizeof(uint32_t));
    assert_non_null(b);
    for (uint32_t i = 0; i < WORDS; i += LINE_WORDS)
        b[i] = refloop_line_value(i);
    return b;
}

/* One chunk's walk over b, as refloop.c's chunk() does it; marks the lines it loads. */
static uint32_t walk(const uint32_t *b, unsigned char *loaded)
{
    uint32_t idx = 0, h = 2166136261u;
    for (uint32_t k = 0; k < REFLOOP_STEPS; k++) {
        uint32_t v = b[idx];
        if (loaded)
            loaded[idx / LINE_WORDS] = 1;
        for (int a = 0; a < REFLOOP_ARITH; a++)
            h = (h ^ v) * 16777619u + (h >> 7);
        idx = (v + k * 40503u) & (uint32_t)(WORDS - LINE_WORDS);
    }
    return h;
}

/* A chunk loads the values a fully filled buffer has: same hash, and the one the
 * reference workload has always hashed (0x6f5a9fd5, before and after December 2026's
 * change of fill), so runs[].ref_cpu_ns times the same work as stored history. */
static void test_walk_as_full_fill(void **state)
{
    (void)state;
    uint32_t *full = full_fill();
    uint32_t want = walk(full, NULL);
    free(full);
    assert_int_equal(want, 0x6f5a9fd5u);
    assert_int_equal(refloop_walk(), want);
    assert_int_equal(refloop_walk(), want); /* and again: nothing moved */
}

/* Only the lines the walk loads are written (the rest is the kernel's zero), and each of
 * them holds its value. The old fill wrote all 32,768 lines. */
static void test_only_walk_lines(void **state)
{
    (void)state;
    const uint32_t *b = refloop_buffer();
    assert_non_null(b);
    uint32_t *full = full_fill();
    unsigned char *loaded = calloc(WORDS / LINE_WORDS, 1);
    assert_non_null(loaded);
    walk(full, loaded);
    size_t n_loaded = 0, n_written = 0;
    for (size_t line = 0; line < WORDS / LINE_WORDS; line++) {
        const uint32_t *w = b + line * LINE_WORDS;
        bool written = false;
        for (unsigned i = 0; i < LINE_WORDS; i++)
            written |= !unwritten(w[i]);
        n_written += written;
        n_loaded += loaded[line];
        if (loaded[line])
            assert_int_equal(w[0], full[line * LINE_WORDS]);
        else
            assert_false(written);
    }
    assert_true(n_loaded > 1000 && n_loaded <= REFLOOP_STEPS);
    assert_true(n_written <= n_loaded);
    free(loaded);
    free(full);
}

/* refloop_run still times REFLOOP_CHUNKS chunks per call, two calls a repeat. */
static void test_run_chunks(void **state)
{
    (void)state;
    struct refloop r = {0};
    assert_int_equal(refloop_run(&r), 0);
    assert_int_equal(r.n, REFLOOP_CHUNKS);
    assert_int_equal(refloop_run(&r), 0);
    assert_int_equal(r.n, 2 * REFLOOP_CHUNKS);
    assert_int_equal(refloop_run(&r), 0); /* full: nothing more appended */
    assert_int_equal(r.n, 2 * REFLOOP_CHUNKS);
    double med, mean;
    assert_true(refloop_figures(&r, &med, &mean));
    assert_true(med > 0 && mean > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_as_full_fill),
        cmocka_unit_test(test_only_walk_lines),
        cmocka_unit_test(test_run_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
