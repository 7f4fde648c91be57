/*
 * codemap.c - code object address -> identity, forgetting freed addresses.
 *
 * Slots hold (addr, ident); addr 0 marks an empty slot, ident 0 with a
 * non-zero addr a tombstone (a forgotten entry that probes pass over). When
 * live entries and tombstones fill three quarters of the slots, the table is
 * rebuilt without its tombstones, with twice the slots when the live entries
 * alone fill half (up to CODEMAP_SLOTS).
 *
 * The table starts small (CODEMAP_MIN_SLOTS): a lookup lands on a slot at
 * random, and in a table of CODEMAP_SLOTS (1 MiB) nearly every code object a
 * run meets touched a page of its own for the first time, two page faults in
 * the sampler's pass (a read of the zero page, then its copy on the first
 * write, with a TLB flush): 18% of a pass's CPU on raytrace (perf, 2026-12-08).
 */
#include "codemap.h"

#include <stdlib.h>
#include <string.h>

#include "shm.h"

struct codemap_slot {
    uint64_t addr;  /* 0: empty */
    uint64_t ident; /* 0 with addr != 0: a tombstone */
};

struct codemap {
    uint32_t live, tombs;
    uint32_t size; /* slots: a power of two, CODEMAP_MIN_SLOTS to CODEMAP_SLOTS */
    struct codemap_slot *slots;
};

/* Fibonacci hashing: the top bits of the product, as many as the size has. */
static inline uint32_t slot_of(const struct codemap *map, uint64_t addr)
{
    return (uint32_t)((addr * 0x9E3779B97F4A7C15ULL) >> (64 - __builtin_ctz(map->size)));
}

struct codemap *codemap_new(void)
{
    struct codemap *map = calloc(1, sizeof(*map));
    if (!map)
        return NULL;
    map->size = CODEMAP_MIN_SLOTS;
    map->slots = calloc(map->size, sizeof(*map->slots));
    if (!map->slots) {
        free(map);
        return NULL;
    }
    return map;
}

void codemap_destroy(struct codemap **map)
{
    if (*map)
        free((*map)->slots);
    free(*map);
    *map = NULL;
}

/* The slot holding addr (live), or NULL. */
static struct codemap_slot *find(const struct codemap *map, uint64_t addr)
{
    if (addr == 0)
        return NULL;
    uint32_t i = slot_of(map, addr);
    for (uint32_t n = 0; n < map->size; n++) {
        const struct codemap_slot *s = &map->slots[i];
        if (s->addr == 0)
            return NULL;
        if (s->addr == addr && s->ident != 0)
            return (struct codemap_slot *)s;
        i = (i + 1) & (map->size - 1);
    }
    return NULL;
}

uint64_t codemap_get(const struct codemap *map, uint64_t addr)
{
    const struct codemap_slot *s = find(map, addr);
    return s ? s->ident : 0;
}

/* Put a live entry known to be absent into slots with no tombstone to reuse. */
static void insert_new(struct codemap *map, uint64_t addr, uint64_t ident)
{
    uint32_t i = slot_of(map, addr);
    while (map->slots[i].addr != 0)
        i = (i + 1) & (map->size - 1);
    map->slots[i] = (struct codemap_slot){addr, ident};
    map->live++;
}

/* Rebuild into size slots without tombstones (live entries keep their identities). */
static void rebuild(struct codemap *map, uint32_t size)
{
    struct codemap_slot *old = map->slots;
    uint32_t old_size = map->size;
    struct codemap_slot *slots = calloc(size, sizeof(*slots));
    if (!slots) {
        /* No memory to rebuild: forget everything (safe, see codemap.h). */
        codemap_clear(map);
        return;
    }
    map->slots = slots;
    map->size = size;
    map->live = map->tombs = 0;
    for (uint32_t i = 0; i < old_size; i++)
        if (old[i].addr && old[i].ident)
            insert_new(map, old[i].addr, old[i].ident);
    free(old);
}

int codemap_put(struct codemap *map, uint64_t addr, uint64_t ident)
{
    if (addr == 0 || ident == 0)
        return -1;
    struct codemap_slot *s = find(map, addr);
    if (s) {
        s->ident = ident;
        return 0;
    }
    if (map->live >= CODEMAP_SLOTS / 2)
        return -1;
    /* Live entries and tombstones past three quarters: twice the slots when
     * the live ones alone fill half, else the same number without tombstones. */
    if (map->live + map->tombs + 1 > map->size / 4 * 3)
        rebuild(map, (map->live + 1) * 2 > map->size && map->size < CODEMAP_SLOTS ? map->size * 2
                                                                                  : map->size);
    uint32_t i = slot_of(map, addr);
    while (map->slots[i].addr != 0 && map->slots[i].ident != 0)
        i = (i + 1) & (map->size - 1);
    if (map->slots[i].addr != 0)
        map->tombs--; /* reusing a tombstone */
    map->slots[i].addr = addr;
    map->slots[i].ident = ident;
    map->live++;
    return 0;
}

void codemap_forget(struct codemap *map, uint64_t addr)
{
    struct codemap_slot *s = find(map, addr);
    if (!s)
        return;
    s->ident = 0;
    map->live--;
    map->tombs++;
}

void codemap_clear(struct codemap *map)
{
    memset(map->slots, 0, sizeof(*map->slots) * map->size);
    map->live = map->tombs = 0;
}

uint32_t codemap_count(const struct codemap *map)
{
    return map->live;
}

uint64_t codemap_sync(struct codemap *map, const struct shm_region *region, uint64_t *cursor)
{
    uint64_t written = __atomic_load_n(&region->deaths_written, __ATOMIC_ACQUIRE);
    uint64_t from = *cursor;
    if (written <= from)
        return 0;
    if (written - from > SHM_DEATHS) {
        codemap_clear(map);
    } else {
        for (uint64_t i = from; i < written; i++)
            codemap_forget(map, region->deaths[i % SHM_DEATHS]);
        /* A writer that lapped us while we read: the entries read may be
         * newer ones; forgetting them too is harmless, missing one is not. */
        if (__atomic_load_n(&region->deaths_written, __ATOMIC_ACQUIRE) - from > SHM_DEATHS)
            codemap_clear(map);
    }
    *cursor = written;
    return written - from;
}
