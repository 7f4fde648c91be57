/*
 * sampler.h - sample mode: the script's stacks, read from outside its process.
 *
 * The supervisor reads every Python thread's stack of the script's process
 * at a fixed rate with process_vm_readv(2), as py-spy and CPython 3.15's own
 * sampling profiler do: the script's threads run no profiler code at all,
 * and the sampler's CPU time is not the script's. The passes are made by the
 * supervisor's own wait loop (supervise.h, struct supervise_hook), which
 * also takes the RSS timeline and the contention figures: one wake-up per
 * period for everything pyscope-run watches (on this VM a wake-up costs
 * ~40 us of CPU, more than a pass over a shallow stack). What
 * it knows of CPython's structures comes from the layout pyscope-run's module
 * publishes in the shared region (shm.h, struct shm_layout): the sampler
 * itself is the same for every Python version.
 *
 * Each pass walks the interpreter's thread list and each thread's frame
 * chain; each stack becomes a path in the call tree in the region, with one
 * more sample on its leaf, and the thread's CPU time since the previous pass
 * (from /proc/PID/task/TID/schedstat) is attributed to that leaf, so every
 * function gets both wall (self_s) and on-CPU (self_cpu_s) time. A frame
 * read while it unwinds yields an error or garbage that fails validation
 * (object types are checked against the interpreter's own type objects).
 *
 * Code objects are identified by the sampler's own numbers, not their
 * addresses, which are reused once an object is freed (codemap.h).
 *
 * Sampling runs from the script's first line (region->started) to its end
 * (region->stopped); the CPU time of the loop that made the passes goes to
 * region->sampler_cpu_ns (sampler_finish).
 */
#ifndef PYSCOPE_RUNNER_SAMPLER_H
#define PYSCOPE_RUNNER_SAMPLER_H

#include <stdint.h>

struct shm_region;
struct sampler;

/* A sampler for region (the child, once it runs, writes its pid and layout
 * there). Returns it, or NULL with errno set. */
struct sampler *sampler_new(struct shm_region *region);
/* One period's work: take the layout once the child published it, and make
 * a pass while the script runs (between region->started and ->stopped).
 * Called by the supervisor's wait loop at the sampling interval. */
void sampler_tick(struct sampler *s);

/* The reads of the script's memory so far: process_vm_readv calls by batch,
 * by window and alone, and the pages and bytes the batches asked for (a page
 * counted once per range that touches it, as the kernel pins it): the
 * figures of PYSCOPE_DEBUG and of the unit tests. */
struct sampler_reads {
    uint64_t batch_reads, batch_pages, batch_bytes, window_reads, other_reads;
};
void sampler_reads(const struct sampler *s, struct sampler_reads *out);
/* Write cpu_ns, the CPU time the passes' loop used, to region->sampler_cpu_ns
 * and free the sampler; NULL-safe. */
void sampler_finish(struct sampler **sampler, uint64_t cpu_ns);

#endif
