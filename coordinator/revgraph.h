/*
 * revgraph.h - a part of a repository's commit graph, in memory: which
 * commits lie between a good one and a bad one (docs/revisions.md).
 *
 * The coordinator has no repository of its own: the commits it knows are
 * what submitters described (schema/015_revisions.sql), each with its parents
 * and generation number (1 for a root, else 1 + its parents' highest; a
 * commit's ancestors all have smaller ones). revgraph_range() is `git
 * rev-list GOOD..BAD`: the commits reachable from bad and not from good,
 * found by walking both histories downward in generation order and stopping
 * once nothing left to visit can still be bad-only (the cut-off git itself
 * uses). When the walk needs a commit the graph lacks it says which, so the
 * caller can load it and try again; when nobody described it, the range is
 * reported as incomplete rather than guessed.
 */
#ifndef PYSCOPE_REVGRAPH_H
#define PYSCOPE_REVGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REVGRAPH_HASH_MAX 64

struct revgraph;

/* A new, empty graph (caller owns; revgraph_destroy). */
struct revgraph *revgraph_new(void);
void revgraph_destroy(struct revgraph **g);

/* Add commit hash (borrowed strings, copied) with its n parents and
 * generation (0 = unknown); adding a known commit again changes nothing. */
void revgraph_add(struct revgraph *g, const char *hash, const char *const *parents, size_t n,
                  uint64_t generation);

/* Is hash in the graph? Its generation (0 when unknown or absent). */
bool revgraph_has(const struct revgraph *g, const char *hash);
uint64_t revgraph_generation(const struct revgraph *g, const char *hash);

/* What revgraph_range() found. */
struct revgraph_range {
    char **commits;        /* the bad-only commits, highest generation first (owned) */
    size_t n;              /* how many */
    char **missing;        /* commits the walk needed and the graph lacks (owned) */
    size_t n_missing;      /* 0 = the answer is exact */
    bool good_is_ancestor; /* good is in bad's history (false: the branch was rewritten,
                            * or the walk could not tell: see n_missing) */
};

/*
 * The commits in bad's history and not in good's, at most max of them (the
 * walk stops there; n == max then means "at least"). Returns 0, or
 * -EINVAL when good or bad is not in the graph. Free r with
 * revgraph_range_free().
 */
int revgraph_range(const struct revgraph *g, const char *good, const char *bad, size_t max,
                   struct revgraph_range *r);
void revgraph_range_free(struct revgraph_range *r);

#endif
