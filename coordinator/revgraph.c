/*
 * revgraph.c - commits between two commits, from a partial graph (revgraph.h).
 *
 * Design notes: nodes live in one array, found by an open-addressing table
 * of their hashes; parents are kept as strings (a parent may be added after
 * its child). The walk is git's "paint down": every commit reached from good
 * carries G, from bad B; a max-heap by generation visits a commit only after
 * all its descendants among the visited (they have higher generations), so
 * its marks are final when it is popped. It ends when every commit still
 * queued carries G: nothing below can be bad-only.
 */
#include "revgraph.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define MARK_GOOD 1u
#define MARK_BAD  2u

struct node {
    char *hash;
    char **parents;
    size_t n_parents;
    uint64_t generation;
};

struct revgraph {
    struct node *v;
    size_t n, cap;
    size_t *slot;   /* index + 1 into v; 0 = empty */
    size_t n_slots; /* power of two */
};

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct revgraph *revgraph_new(void)
{
    struct revgraph *g = xcalloc(1, sizeof(*g));
    g->n_slots = 256;
    g->slot = xcalloc(g->n_slots, sizeof(*g->slot));
    return g;
}

void revgraph_destroy(struct revgraph **pg)
{
    if (!pg || !*pg)
        return;
    struct revgraph *g = *pg;
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].hash);
        for (size_t k = 0; k < g->v[i].n_parents; k++)
            free(g->v[i].parents[k]);
        free(g->v[i].parents);
    }
    free(g->v);
    free(g->slot);
    free(g);
    *pg = NULL;
}

/* The index of hash, or SIZE_MAX. */
static size_t find(const struct revgraph *g, const char *hash)
{
    size_t j = str_hash(hash) & (g->n_slots - 1);
    while (g->slot[j]) {
        if (strcmp(g->v[g->slot[j] - 1].hash, hash) == 0)
            return g->slot[j] - 1;
        j = (j + 1) & (g->n_slots - 1);
    }
    return SIZE_MAX;
}

static void rehash(struct revgraph *g)
{
    free(g->slot);
    g->n_slots *= 2;
    g->slot = xcalloc(g->n_slots, sizeof(*g->slot));
    for (size_t i = 0; i < g->n; i++) {
        size_t j = str_hash(g->v[i].hash) & (g->n_slots - 1);
        while (g->slot[j])
            j = (j + 1) & (g->n_slots - 1);
        g->slot[j] = i + 1;
    }
}

void revgraph_add(struct revgraph *g, const char *hash, const char *const *parents, size_t n,
                  uint64_t generation)
{
    if (!hash || find(g, hash) != SIZE_MAX)
        return;
    if ((g->n + 1) * 2 > g->n_slots)
        rehash(g);
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
    }
    struct node *x = &g->v[g->n];
    x->hash = xstrdup(hash);
    x->n_parents = n;
    x->parents = n ? xcalloc(n, sizeof(char *)) : NULL;
    for (size_t k = 0; k < n; k++)
        x->parents[k] = xstrdup(parents[k]);
    x->generation = generation;
    size_t j = str_hash(hash) & (g->n_slots - 1);
    while (g->slot[j])
        j = (j + 1) & (g->n_slots - 1);
    g->slot[j] = ++g->n;
}

bool revgraph_has(const struct revgraph *g, const char *hash)
{
    return find(g, hash) != SIZE_MAX;
}

uint64_t revgraph_generation(const struct revgraph *g, const char *hash)
{
    size_t i = find(g, hash);
    return i == SIZE_MAX ? 0 : g->v[i].generation;
}

/* ---- the walk ----------------------------------------------------------------- */

struct walk {
    const struct revgraph *g;
    unsigned *mark; /* per node */
    bool *queued;   /* per node: in the heap (or popped) */
    size_t *heap;   /* node indexes, max-heap by generation */
    size_t n_heap;
    size_t good_only_queued; /* queued nodes that carry MARK_GOOD */
};

static bool above(const struct walk *w, size_t a, size_t b)
{
    uint64_t ga = w->g->v[a].generation, gb = w->g->v[b].generation;
    return ga != gb ? ga > gb : a < b;
}

static void heap_push(struct walk *w, size_t x)
{
    size_t i = w->n_heap++;
    w->heap[i] = x;
    while (i > 0 && above(w, w->heap[i], w->heap[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, t = w->heap[p];
        w->heap[p] = w->heap[i];
        w->heap[i] = t;
        i = p;
    }
}

static size_t heap_pop(struct walk *w)
{
    size_t top = w->heap[0];
    w->heap[0] = w->heap[--w->n_heap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->n_heap && above(w, w->heap[l], w->heap[m]))
            m = l;
        if (r < w->n_heap && above(w, w->heap[r], w->heap[m]))
            m = r;
        if (m == i)
            break;
        size_t t = w->heap[m];
        w->heap[m] = w->heap[i];
        w->heap[i] = t;
        i = m;
    }
    return top;
}

/* Add marks to node x and queue it when new. */
static void reach(struct walk *w, size_t x, unsigned marks)
{
    bool had_good = w->mark[x] & MARK_GOOD;
    w->mark[x] |= marks;
    if (!w->queued[x]) {
        w->queued[x] = true;
        heap_push(w, x);
        if (w->mark[x] & MARK_GOOD)
            w->good_only_queued++;
    } else if (!had_good && (w->mark[x] & MARK_GOOD)) {
        w->good_only_queued++;
    }
}

static void add_missing(struct revgraph_range *r, const char *hash)
{
    for (size_t i = 0; i < r->n_missing; i++)
        if (strcmp(r->missing[i], hash) == 0)
            return;
    r->missing = xrealloc(r->missing, (r->n_missing + 1) * sizeof(char *));
    r->missing[r->n_missing++] = xstrdup(hash);
}

int revgraph_range(const struct revgraph *g, const char *good, const char *bad, size_t max,
                   struct revgraph_range *r)
{
    memset(r, 0, sizeof(*r));
    size_t gi = find(g, good), bi = find(g, bad);
    if (gi == SIZE_MAX || bi == SIZE_MAX)
        return -EINVAL;
    struct walk w = {.g = g};
    w.mark = xcalloc(g->n ? g->n : 1, sizeof(*w.mark));
    w.queued = xcalloc(g->n ? g->n : 1, sizeof(*w.queued));
    w.heap = xcalloc(g->n ? g->n : 1, sizeof(*w.heap));
    reach(&w, gi, MARK_GOOD);
    reach(&w, bi, MARK_BAD);
    /* in the heap: each queued node once; popped nodes leave it */
    while (w.n_heap > 0 && w.good_only_queued < w.n_heap) {
        size_t x = heap_pop(&w);
        unsigned m = w.mark[x];
        if (m & MARK_GOOD)
            w.good_only_queued--;
        if (x == gi)
            r->good_is_ancestor = (m & MARK_BAD) != 0;
        if (m == MARK_BAD) {
            if (r->n == max)
                break;
            r->commits = xrealloc(r->commits, (r->n + 1) * sizeof(char *));
            r->commits[r->n++] = xstrdup(g->v[x].hash);
        }
        if (g->v[x].generation == 0 && m == MARK_BAD)
            add_missing(r, g->v[x].hash); /* no generation: the order cannot be trusted */
        for (size_t k = 0; k < g->v[x].n_parents; k++) {
            size_t p = find(g, g->v[x].parents[k]);
            if (p == SIZE_MAX) {
                /* a history nobody described: it could hold good's ancestors too */
                if (m != (MARK_GOOD | MARK_BAD))
                    add_missing(r, g->v[x].parents[k]);
                continue;
            }
            reach(&w, p, m);
        }
    }
    if (!r->good_is_ancestor && w.mark[gi] & MARK_BAD)
        r->good_is_ancestor = true;
    free(w.mark);
    free(w.queued);
    free(w.heap);
    return 0;
}

void revgraph_range_free(struct revgraph_range *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->commits[i]);
    free(r->commits);
    for (size_t i = 0; i < r->n_missing; i++)
        free(r->missing[i]);
    free(r->missing);
    memset(r, 0, sizeof(*r));
}
