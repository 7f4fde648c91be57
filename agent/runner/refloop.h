/*
 * refloop.h - how fast the machine runs right now: a fixed reference workload.
 *
 * On a VM the host can give the guest's CPUs less time without the guest
 * seeing it (no steal reported, nothing waits in the run queue): an unchanged
 * CPU-bound script's CPU time and wall time then both grow. pyscope-run times
 * this fixed workload right before and right after every repeat (never
 * during it: the script's timings are untouched), so that lib/regress can
 * tell a slower machine from a slower script (lib/contended.h).
 *
 * The work is what interpreted Python spends its time on: dependent loads
 * from a buffer larger than L1 and L2 (REFLOOP_BUFFER_BYTES; each address
 * comes from the value loaded before, as an interpreter chases object
 * pointers), each followed by a chain of REFLOOP_ARITH dependent integer
 * operations (the arithmetic keeps the cache's share of the time moderate:
 * a pure walk over 4 MiB took 10x longer on this busy VM than when it was
 * quieter, far more than Python code slows). One chunk is REFLOOP_STEPS
 * steps (0.15-0.6 ms here); its CPU time is taken with CLOCK_THREAD_CPUTIME_ID,
 * so time the supervisor is preempted is not counted, while a host that
 * slows the vCPU (the case the guest cannot see) inflates it as it inflates
 * the script's CPU time. A repeat gets REFLOOP_CHUNKS chunks before and as
 * many after; it records their median and mean (ns per chunk).
 */
#ifndef PYSCOPE_RUNNER_REFLOOP_H
#define PYSCOPE_RUNNER_REFLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The buffer walked: larger than L2 (2 MiB; this VM's EPYC has 1 MiB). */
#define REFLOOP_BUFFER_BYTES (2u << 20)
/* Dependent steps in one chunk, and arithmetic operations per step. */
#define REFLOOP_STEPS 4000
#define REFLOOP_ARITH 8
/* Chunks before a repeat (and as many after). */
#define REFLOOP_CHUNKS 4

/* The chunk times of one repeat. */
struct refloop {
    double ns[2 * REFLOOP_CHUNKS];
    size_t n;
};

/* Time REFLOOP_CHUNKS chunks and append them to r (r->n stays at most
 * 2 * REFLOOP_CHUNKS). Returns 0, or -1 when the thread's CPU clock or the
 * buffer is not available (nothing appended). */
int refloop_run(struct refloop *r);

/* The median and mean of r's chunk times (ns); false when r has none. */
bool refloop_figures(const struct refloop *r, double *median_ns, double *mean_ns);

/* The value at the start of the buffer's line whose first word is word i (murmur3's
 * finalizer of i): what a chunk loads there. */
uint32_t refloop_line_value(uint32_t i);

/* For tests: the buffer a chunk walks (REFLOOP_BUFFER_BYTES; NULL when it cannot be
 * allocated), and the hash of one untimed chunk's walk (0 likewise). */
const uint32_t *refloop_buffer(void);
uint32_t refloop_walk(void);

#endif
