/*
 * refloop.c - the fixed reference workload timed around each repeat (refloop.h).
 *
 * Design notes: the buffer is allocated (2 MiB-aligned, so the kernel can back
 * it with one transparent huge page) and filled once per process (~2 ms of
 * CPU, before the first repeat's reference) with a fixed pseudo-random
 * sequence, so every pyscope-run walks the same addresses. Step k loads
 * buf[idx] and moves to (value + k * stride) mod size: each load depends on
 * the one before (no prefetcher or out-of-order overlap hides the latency)
 * and the step counter keeps the walk from closing into a short cycle that
 * would fit in a cache. The hash of the walk goes to a volatile sink so the
 * compiler keeps the work.
 */
#include "refloop.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define WORDS (REFLOOP_BUFFER_BYTES / sizeof(uint32_t))

static uint32_t *buf;
static volatile uint32_t sink;

static uint32_t chunk(void)
{
    uint32_t idx = 0, h = 2166136261u;
    for (uint32_t k = 0; k < REFLOOP_STEPS; k++) {
        uint32_t v = buf[idx];
        for (int a = 0; a < REFLOOP_ARITH; a++) /* a dependent chain, as bytecode is */
            h = (h ^ v) * 16777619u + (h >> 7);
        idx = (v + k * 40503u) & (uint32_t)(WORDS - 1);
    }
    return h;
}

static int buffer_ready(void)
{
    if (buf)
        return 0;
    /* one huge page where the kernel has them: one fault instead of 512 (the first call
     * cost ~10 ms of CPU with 4 KiB pages on this VM, ~2 ms with one huge page) */
    uint32_t *b = aligned_alloc(REFLOOP_BUFFER_BYTES, REFLOOP_BUFFER_BYTES);
    if (!b)
        return -1;
    (void)madvise(b, REFLOOP_BUFFER_BYTES, MADV_HUGEPAGE);
    uint32_t x = 2463534242u; /* xorshift32, fixed seed */
    for (size_t i = 0; i < WORDS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = x;
    }
    buf = b;
    sink ^= chunk(); /* untimed: the first walk's page-table and cache misses */
    return 0;
}

static double thread_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return -1;
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int refloop_run(struct refloop *r)
{
    if (buffer_ready() < 0 || thread_ns() < 0)
        return -1;
    for (int i = 0; i < REFLOOP_CHUNKS && r->n < 2 * REFLOOP_CHUNKS; i++) {
        double t0 = thread_ns();
        sink ^= chunk();
        double t1 = thread_ns();
        if (t0 < 0 || t1 < t0)
            return -1;
        r->ns[r->n++] = t1 - t0;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool refloop_figures(const struct refloop *r, double *median_ns, double *mean_ns)
{
    if (r->n == 0)
        return false;
    double s[2 * REFLOOP_CHUNKS], sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        s[i] = r->ns[i];
        sum += s[i];
    }
    qsort(s, r->n, sizeof(s[0]), cmp_double);
    *median_ns = r->n % 2 ? s[r->n / 2] : (s[r->n / 2 - 1] + s[r->n / 2]) / 2;
    *mean_ns = sum / (double)r->n;
    return true;
}
