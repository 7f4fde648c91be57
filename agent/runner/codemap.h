/*
 * codemap.h - what a code object's address stands for, in sample mode.
 *
 * The sampler sees code objects by address only (it reads frames without
 * the GIL and cannot hold references), and an address is an identity only
 * while the object lives: a module's top-level code is freed after import,
 * and the next code object allocated may take its place. So the sampler
 * gives each code object it meets an identity of its own (a number never
 * reused in the run) and keeps address -> identity here; when the script's
 * process frees a code object, it logs the address in the shared region
 * (shm.h: the death log), and codemap_sync() forgets it before the next
 * stack is resolved. The next code object seen at that address gets a new
 * identity, with its own name.
 *
 * Open addressing with tombstones; plain C, no Python: unit-tested alone.
 */
#ifndef PYSCOPE_RUNNER_CODEMAP_H
#define PYSCOPE_RUNNER_CODEMAP_H

#include <stdbool.h>
#include <stdint.h>

struct shm_region;

#define CODEMAP_SLOTS     (1u << 16) /* at most: twice the region's function capacity */
#define CODEMAP_MIN_SLOTS (1u << 8)  /* at first (4 KiB): it doubles as it fills */

struct codemap;

/* A new empty map, or NULL when out of memory. Release with codemap_destroy(). */
struct codemap *codemap_new(void);
void codemap_destroy(struct codemap **map);

/* The identity recorded for addr, or 0 when none (identities are never 0). */
uint64_t codemap_get(const struct codemap *map, uint64_t addr);
/* Record addr -> ident (replacing any). Returns 0, or -1 when the map is full. */
int codemap_put(struct codemap *map, uint64_t addr, uint64_t ident);
/* Forget addr (absent: nothing happens). */
void codemap_forget(struct codemap *map, uint64_t addr);
/* Forget everything. */
void codemap_clear(struct codemap *map);
/* Live entries. */
uint32_t codemap_count(const struct codemap *map);

/*
 * Forget every address the region's death log recorded since the last call
 * (*cursor: the log position read so far, 0 at first). When more deaths were
 * logged than the log holds, everything is forgotten (safe: later sights get
 * new identities). Returns the number of deaths consumed.
 */
uint64_t codemap_sync(struct codemap *map, const struct shm_region *region, uint64_t *cursor);

#endif
