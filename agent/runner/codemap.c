/*
 * codemap.c - code object address -> identity, forgetting freed addresses.
 *
 * Slots hold (addr, ident); addr 0 marks an empty slot, ident 0 with a
 * non-zero addr a tombstone (a forgotten entry that probes pass over). When
 * live entries and tombstones fill three quarters of the slots, the table is
 * rebuilt in place without its tombstones.
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
    struct codemap_slot slots[CODEMAP_SLOTS];
};

static inline uint32_t slot_of(uint64_t addr)
{
    return (uint32_t)((addr * 0x9E3779B97F4A7C15ULL) >> 48) & (CODEMAP_SLOTS - 1);
}

struct codemap *codemap_new(void)
{
    return calloc(1, sizeof(struct codemap));
}

void codemap_destroy(struct codemap **map)
{
    free(*map);
    *map = NULL;
}

/* The slot holding addr (live), or NULL. */
static struct codemap_slot *find(const struct codemap *map, uint64_t addr)
{
    if (addr == 0)
        return NULL;
    uint32_t i = slot_of(addr);
    for (uint32_t n = 0; n < CODEMAP_SLOTS; n++) {
        const struct codemap_slot *s = &map->slots[i];
        if (s->addr == 0)
            return NULL;
        if (s->addr == addr && s->ident != 0)
            return (struct codemap_slot *)s;
        i = (i + 1) & (CODEMAP_SLOTS - 1);
    }
    return NULL;
}

uint64_t codemap_get(const struct codemap *map, uint64_t addr)
{
    const struct codemap_slot *s = find(map, addr);
    return s ? s->ident : 0;
}

/* Rebuild without tombstones (live entries keep their identities). */
static void compact(struct codemap *map)
{
    uint32_t n = 0;
    struct codemap_slot *keep = malloc(sizeof(*keep) * (map->live ? map->live : 1));
    if (!keep) {
        /* No memory to rebuild: forget everything (safe, see codemap.h). */
        codemap_clear(map);
        return;
    }
    for (uint32_t i = 0; i < CODEMAP_SLOTS; i++)
        if (map->slots[i].addr && map->slots[i].ident)
            keep[n++] = map->slots[i];
    codemap_clear(map);
    for (uint32_t i = 0; i < n; i++)
        codemap_put(map, keep[i].addr, keep[i].ident);
    free(keep);
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
    if (map->live + map->tombs + 1 > CODEMAP_SLOTS / 4 * 3)
        compact(map);
    uint32_t i = slot_of(addr);
    while (map->slots[i].addr != 0 && map->slots[i].ident != 0)
        i = (i + 1) & (CODEMAP_SLOTS - 1);
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
    memset(map->slots, 0, sizeof(map->slots));
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
