/*
 * fcache.h - the store's cache of function ids: function key (text,
 * "file:qualname:line": lib/funckey.h) -> functions.id, so a result's hotspots need a
 * database round trip only for keys not seen before. Open addressing, at most
 * half full; past 65536 entries it starts over. Not thread-safe: one per
 * store (connection). Ids inserted by a transaction that did not commit must
 * not stay: the store clears the cache then.
 */
#ifndef PYSCOPE_COORD_FCACHE_H
#define PYSCOPE_COORD_FCACHE_H

#include <stddef.h>
#include <stdint.h>

/* Function key -> functions.id, open addressing (store_put_results()). */
struct fcache {
    char **keys; /* owned; NULL = empty slot */
    int64_t *ids;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

/* Forget every entry and free the tables (the struct may be reused: zeroed). */
void fcache_clear(struct fcache *c);

/* The cached id of key (borrowed), or 0. */
int64_t fcache_get(const struct fcache *c, const char *key);

/* Cache key (copied) -> id, replacing an older id of key. */
void fcache_put(struct fcache *c, const char *key, int64_t id);

#endif
