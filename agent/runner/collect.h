/*
 * collect.h - turn the shared regions of one or more runs into the
 * `profile` object of a pyscope.run/1 document (docs/json-schema.md).
 *
 * Plain C over the region's tables: function keys are normalized here
 * (file relative to the project root), per-function self/total/calls come
 * from the call tree (recursion counted once in totals), collapsed stacks
 * are the tree's paths, and every measured run contributes one element to
 * each function's per-run arrays.
 */
#ifndef PYSCOPE_RUNNER_COLLECT_H
#define PYSCOPE_RUNNER_COLLECT_H

#include <jansson.h>
#include <stdint.h>

struct shm_region;
struct collect;

/* New collector. root: project root for file keys (may be NULL);
 * cwd: the script's working folder, for relative code file names. Both borrowed. */
struct collect *collect_new(int mode, double interval_s, const char *root, const char *cwd);
void collect_destroy(struct collect **c);

/* Add one measured run. wall_s: its wall time; tsc_hz: TSC ticks per second
 * measured around it (trace mode); children: child processes the supervisor
 * saw. The region is only read. */
void collect_add_run(struct collect *c, const struct shm_region *r, double wall_s, double tsc_hz,
                     unsigned children);

/* The `profile` object over all runs added; median_wall_s scales the %
 * fields, and with median_cpu_s the overhead (profile.overhead). Caller owns
 * the result. */
json_t *collect_to_json(struct collect *c, double median_wall_s, double median_cpu_s);

#endif
