/*
 * fcache.c - function key -> functions.id, in memory (coordinator/fcache.h).
 */
#include "fcache.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define FCACHE_MAX 65536u /* entries; when full the cache starts over */

static uint64_t fcache_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

void fcache_clear(struct fcache *c)
{
    for (size_t i = 0; i < c->cap; i++)
        free(c->keys[i]);
    free(c->keys);
    free(c->ids);
    memset(c, 0, sizeof(*c));
}

/* The slot of key in c (its own, or the empty one it would take); c->cap > 0. */
static size_t fcache_slot(const struct fcache *c, const char *key)
{
    size_t i = (size_t)fcache_hash(key) & (c->cap - 1);
    while (c->keys[i] && strcmp(c->keys[i], key) != 0)
        i = (i + 1) & (c->cap - 1);
    return i;
}

/* The cached id of key, or 0. */
int64_t fcache_get(const struct fcache *c, const char *key)
{
    if (c->cap == 0)
        return 0;
    size_t i = fcache_slot(c, key);
    return c->keys[i] ? c->ids[i] : 0;
}

void fcache_put(struct fcache *c, const char *key, int64_t id)
{
    if (c->n >= FCACHE_MAX)
        fcache_clear(c);
    if (2 * (c->n + 1) > c->cap) { /* at most half full */
        struct fcache old = *c;
        c->cap = old.cap ? 2 * old.cap : 1024;
        c->keys = xcalloc(c->cap, sizeof(*c->keys));
        c->ids = xcalloc(c->cap, sizeof(*c->ids));
        c->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.keys[i]) {
                size_t k = fcache_slot(c, old.keys[i]);
                c->keys[k] = old.keys[i];
                c->ids[k] = old.ids[i];
                c->n++;
            }
        }
        free(old.keys);
        free(old.ids);
    }
    size_t i = fcache_slot(c, key);
    if (c->keys[i] == NULL) {
        c->keys[i] = xstrdup(key);
        c->n++;
    }
    c->ids[i] = id;
}
