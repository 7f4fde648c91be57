/*
 * refloop.c - the fixed reference workload timed around each repeat (refloop.h).
 *
 * Design notes: the buffer is allocated (2 MiB-aligned, so the kernel can back
 * it with one transparent huge page) and filled once per process, before the
 * first repeat's reference, with a fixed pseudo-random value at the start of
 * each 64-byte cache line (a mix of the line's number), so every pyscope-run
 * walks the same addresses. Step k loads the word at the start of line idx
 * and moves to line (value + k * stride) mod lines: each load depends on the
 * one before (no prefetcher or out-of-order overlap hides the latency) and the
 * step counter keeps the walk from closing into a short cycle that would fit
 * in a cache. The hash of the walk goes to a volatile sink so the compiler
 * keeps the work.
 *
 * Until December 2026 every word was filled (an xorshift sequence) and a step
 * could land anywhere in a line: the same one line per step, so the same
 * figure (measured on this VM, 15 interleaved runs each: median chunk 48 us either way),
 * but the fill cost ~1.1 ms of CPU per pyscope-run, before the script starts;
 * filling one word a line costs ~0.05 ms (the huge page's first touch, ~0.15
 * ms, stays).
 *
 * A line's value is a function of its number (refloop_line_value), so the walk
 * is known without reading memory: since December 2026 the buffer is filled by
 * following the walk itself, writing each line it will load and no other
 * (REFLOOP_STEPS writes, 3,779 distinct lines, instead of 32,768). Those writes
 * leave exactly the walk's lines in the cache, which is what an untimed first
 * walk was for, so there is none any more. A chunk loads the same addresses and
 * values as before (test_refloop: the same hash as a full fill), and a line it
 * never loads is never written (zero from the kernel). Measured here at load ~5:
 * pyscope-run's own instructions 3.80 M -> 3.25 M (callgrind, empty script); the
 * first refloop_run 724 -> 563 us of CPU (median of 100 interleaved fresh
 * processes); and ref_cpu_ns in 140 interleaved runs each, median 55.8 -> 54.7
 * us, with a spread that differs only as the load made it differ (docs/benchmarks.md).
 * The first timed chunk is now as warm as the others (49 vs 48 us; it was 53-61).
 */
#include "refloop.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define WORDS      (REFLOOP_BUFFER_BYTES / sizeof(uint32_t))
#define LINE_WORDS 16u /* words in a 64-byte cache line: a step loads the first */

static uint32_t *buf;
static volatile uint32_t sink;

uint32_t refloop_line_value(uint32_t i)
{
    uint32_t x = i * 0x9e3779b9u;
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}

/* Step k's next line (its first word) from the value v loaded at step k. */
static uint32_t next_line(uint32_t v, uint32_t k)
{
    return (v + k * 40503u) & (uint32_t)(WORDS - LINE_WORDS);
}

static uint32_t chunk(void)
{
    uint32_t idx = 0, h = 2166136261u;
    for (uint32_t k = 0; k < REFLOOP_STEPS; k++) {
        uint32_t v = buf[idx];
        for (int a = 0; a < REFLOOP_ARITH; a++) /* a dependent chain, as bytecode is */
            h = (h ^ v) * 16777619u + (h >> 7);
        idx = next_line(v, k);
    }
    return h;
}

static int buffer_ready(void)
{
    if (buf)
        return 0;
    /* one huge page where the kernel has them: one fault instead of 512 (the first call
     * cost ~10 ms of CPU with 4 KiB pages on this VM; with one huge page, ~0.2 ms) */
    uint32_t *b = aligned_alloc(REFLOOP_BUFFER_BYTES, REFLOOP_BUFFER_BYTES);
    if (!b)
        return -1;
    (void)madvise(b, REFLOOP_BUFFER_BYTES, MADV_HUGEPAGE);
    /* the walk's own lines, in its order: they are the only words a chunk loads, and
     * writing them brings them into the cache as the first walk did */
    for (uint32_t k = 0, idx = 0; k < REFLOOP_STEPS; k++) {
        uint32_t v = refloop_line_value(idx);
        b[idx] = v;
        idx = next_line(v, k);
    }
    buf = b;
    return 0;
}

const uint32_t *refloop_buffer(void)
{
    return buffer_ready() == 0 ? buf : NULL;
}

uint32_t refloop_walk(void)
{
    return buffer_ready() == 0 ? chunk() : 0;
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
