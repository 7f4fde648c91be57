/*
 * revrange.c - regression ranges from the commits table (revrange.h).
 */
#include "revrange.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define REVRANGE_WINDOW 256 /* generations below the lower end loaded at first */
#define REVRANGE_ROUNDS 32  /* loads of what the walk still lacks */

static const char ENDS_SQL[] =
    "SELECT json_build_object('h', hash, 'p', parents, 'g', generation)::text FROM commits"
    " WHERE hash = ANY($1::text[])";

static const char WINDOW_SQL[] =
    "SELECT json_build_object('h', hash, 'p', parents, 'g', generation)::text FROM commits"
    " WHERE generation BETWEEN $1::bigint AND $2::bigint LIMIT 200000";

/* Add rows (borrowed: {h, p, g}) to g. */
static void add_rows(struct revgraph *g, const json_t *rows)
{
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *h = json_string_value(json_object_get(row, "h"));
        const json_t *p = json_object_get(row, "p");
        const char *ps[64];
        size_t n = 0;
        for (size_t k = 0; k < json_array_size(p) && n < 64; k++) {
            const char *v = json_string_value(json_array_get(p, k));
            if (v)
                ps[n++] = v;
        }
        revgraph_add(g, h, ps, n, (uint64_t)json_integer_value(json_object_get(row, "g")));
    }
}

/* Load the commits named in hashes (n of them, borrowed) into g. */
static int load_hashes(struct store *s, struct revgraph *g, char *const *hashes, size_t n,
                       char *err, size_t errlen)
{
    size_t cap = 3 + n * 66, len = 0;
    char *arr = xmalloc(cap);
    arr[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(arr + len, cap - len, "%s%s", i ? "," : "", hashes[i]);
    snprintf(arr + len, cap - len, "}");
    const char *p[1] = {arr};
    json_t *rows = NULL;
    int rc = store_json_rows(s, ENDS_SQL, p, 1, &rows, err, errlen);
    free(arr);
    if (rc < 0)
        return rc;
    add_rows(g, rows);
    json_decref(rows);
    return rc;
}

int revrange_compute(struct store *s, struct revgraph *g, const char *good, const char *bad,
                     struct revgraph_range *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    char *ends[2] = {(char *)good, (char *)bad};
    int rc = load_hashes(s, g, ends, 2, err, errlen);
    if (rc < 0)
        return rc;
    if (!revgraph_has(g, good) || !revgraph_has(g, bad))
        return -EINVAL;
    uint64_t gg = revgraph_generation(g, good), gb = revgraph_generation(g, bad);
    uint64_t lo = gg < gb ? gg : gb, hi = gg > gb ? gg : gb;
    if (lo && hi) {
        char a[32], b[32];
        snprintf(a, sizeof(a), "%" PRIu64, lo > REVRANGE_WINDOW ? lo - REVRANGE_WINDOW : 1);
        snprintf(b, sizeof(b), "%" PRIu64, hi);
        const char *p[2] = {a, b};
        json_t *rows = NULL;
        if (store_json_rows(s, WINDOW_SQL, p, 2, &rows, err, errlen) < 0)
            return -EIO;
        add_rows(g, rows);
        json_decref(rows);
    }
    for (int round = 0;; round++) {
        rc = revgraph_range(g, good, bad, REVRANGE_MAX, r);
        if (rc < 0 || r->n_missing == 0 || round == REVRANGE_ROUNDS)
            return rc;
        /* load what the walk lacked; stop when none of it is known */
        int got = load_hashes(s, g, r->missing, r->n_missing, err, errlen);
        if (got < 0) {
            revgraph_range_free(r);
            return got;
        }
        if (got == 0)
            return 0;
        revgraph_range_free(r);
    }
}

static const char COMMIT_SQL[] = "SELECT pyscope_commit($1)::text";

/* The pyscope_commit() object of hash (new reference; json null when unknown). */
static json_t *commit_json(struct store *s, const char *hash, char *err, size_t errlen)
{
    const char *p[1] = {hash};
    json_t *rows = NULL;
    if (store_json_rows(s, COMMIT_SQL, p, 1, &rows, err, errlen) < 0)
        return NULL;
    json_t *c = json_incref(json_array_get(rows, 0));
    json_decref(rows);
    return c ? c : json_null();
}

int revrange_annotate(struct store *s, json_t *regs, char *err, size_t errlen)
{
    size_t i;
    json_t *g;
    json_array_foreach(regs, i, g)
    {
        char good[80] = "", bad[80] = "";
        snprintf(good, sizeof(good), "%s",
                 json_string_value(json_object_get(g, "good_commit_hash")) ?: "");
        snprintf(bad, sizeof(bad), "%s",
                 json_string_value(json_object_get(g, "bad_commit_hash")) ?: "");
        json_object_del(g, "good_commit_hash");
        json_object_del(g, "bad_commit_hash");
        if (!*good || !*bad) {
            json_object_set_new(g, "range", json_null());
            continue;
        }
        json_t *gj = commit_json(s, good, err, errlen);
        json_t *bj = gj ? commit_json(s, bad, err, errlen) : NULL;
        if (!gj || !bj) {
            json_decref(gj);
            return -EIO;
        }
        struct revgraph *graph = revgraph_new();
        struct revgraph_range r;
        int rc = revrange_compute(s, graph, good, bad, &r, err, errlen);
        revgraph_destroy(&graph);
        if (rc == -EIO) {
            json_decref(gj);
            json_decref(bj);
            return rc;
        }
        json_t *range = json_pack("{s:o, s:o}", "good", gj, "bad", bj);
        if (rc == 0) {
            json_object_set_new(range, "commits", json_integer((json_int_t)r.n));
            json_object_set_new(range, "exact",
                                json_boolean(r.n_missing == 0 && r.n < REVRANGE_MAX));
            json_object_set_new(range, "good_is_ancestor", json_boolean(r.good_is_ancestor));
            revgraph_range_free(&r);
        } else {
            json_object_set_new(range, "commits", json_null());
            json_object_set_new(range, "exact", json_false());
            json_object_set_new(range, "good_is_ancestor", json_false());
        }
        json_object_set_new(g, "range", range);
    }
    return 0;
}
