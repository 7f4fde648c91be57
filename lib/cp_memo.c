/*
 * cp_memo.c - the change points already searched, kept in the history index (cp_memo.h).
 */
#include "cp_memo.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomicfile.h"
#include "hash.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "xmalloc.h"

#define CP_MEMO_SCHEMA "pyscope.changepoints/1"

struct cp_memo {
    char *path;
    json_t *old;  /* key -> [change points], as read */
    json_t *used; /* the entries this run used or added, in that order */
    bool learned; /* an entry was added */
};

struct cp_memo *cp_memo_open(const char *dir)
{
    struct cp_memo *m = xcalloc(1, sizeof(*m));
    m->path = xasprintf("%s/" HISTORY_INDEX_DIR "/" CP_MEMO_FILE, dir);
    m->used = json_object();
    struct stat sb;
    if (stat(m->path, &sb) < 0) {
        m->old = json_object();
        return m;
    }
    json_error_t err;
    json_t *j = json_load_file(m->path, JSON_REJECT_DUPLICATES, &err);
    const char *schema = json_string_value(json_object_get(j, "schema"));
    json_t *entries = json_object_get(j, "entries");
    /* a memo without "search" was written before answers had a version: version 0 */
    json_int_t search = json_integer_value(json_object_get(j, "search"));
    bool ours = schema && strcmp(schema, CP_MEMO_SCHEMA) == 0 && json_is_object(entries);
    if (ours && search != STATS_CP_SEARCH_VERSION) {
        /* another version's answers: not wrong, only not ours to reuse */
        log_debug("the change-point memo \"%s\" is of search version %lld, not %d; "
                  "searching again",
                  m->path, (long long)search, STATS_CP_SEARCH_VERSION);
        m->old = json_object();
        m->learned = true;
    } else if (ours) {
        m->old = json_incref(entries);
    } else {
        log_warn("the change-point memo \"%s\" is damaged; rebuilding it", m->path);
        m->old = json_object();
        m->learned = true;
    }
    json_decref(j);
    return m;
}

/* The key of a search: SHA-256 of its options, n and the bytes of x. */
static void memo_key(const double *x, size_t n, const struct stats_cp_options *opt, size_t max_cps,
                     char key[HASH_SHA256_HEX_SIZE])
{
    uint64_t head[6] = {n, opt->min_size, opt->permutations, opt->seed, max_cps, 0};
    memcpy(&head[5], &opt->alpha, sizeof(opt->alpha));
    size_t len = sizeof(head) + n * sizeof(*x);
    unsigned char *buf = xmalloc(len);
    memcpy(buf, head, sizeof(head));
    if (n)
        memcpy(buf + sizeof(head), x, n * sizeof(*x));
    hash_sha256_hex(buf, len, key);
    free(buf);
}

/* The entry e as change points of a series of n (at most max_cps): ascending, each
 * segment at least min_size long, as a search gives them; false when it is not one. */
static bool entry_cps(const json_t *e, size_t n, size_t min_size, size_t *cps, size_t max_cps,
                      size_t *n_cps)
{
    if (!json_is_array(e) || json_array_size(e) > max_cps)
        return false;
    size_t i, prev = 0;
    const json_t *v;
    json_array_foreach(e, i, v)
    {
        json_int_t c = json_integer_value(v);
        if (!json_is_integer(v) || c <= 0 || (size_t)c >= n || (size_t)c < prev + min_size ||
            n - (size_t)c < min_size)
            return false;
        cps[i] = prev = (size_t)c;
    }
    *n_cps = json_array_size(e);
    return true;
}

int cp_memo_changepoints(struct cp_memo *m, const double *x, size_t n,
                         const struct stats_cp_options *opt, size_t *cps, size_t max_cps,
                         size_t *n_cps)
{
    if (!m)
        return stats_changepoints(x, n, opt, cps, max_cps, n_cps);
    char key[HASH_SHA256_HEX_SIZE];
    memo_key(x, n, opt, max_cps, key);
    json_t *e = json_object_get(m->used, key);
    if (!e)
        e = json_object_get(m->old, key);
    if (e && entry_cps(e, n, opt->min_size, cps, max_cps, n_cps)) {
        json_object_set(m->used, key, e);
        return 0;
    }
    int rc = stats_changepoints(x, n, opt, cps, max_cps, n_cps);
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < *n_cps; i++)
        json_array_append_new(a, json_integer((json_int_t)cps[i]));
    json_object_set_new(m->used, key, a);
    m->learned = true;
    return 0;
}

void cp_memo_close(struct cp_memo *m)
{
    if (!m)
        return;
    if (m->learned) {
        json_t *entries = json_deep_copy(m->used);
        const char *key;
        json_t *v;
        json_object_foreach(m->old, key, v)
        {
            if (json_object_size(entries) >= CP_MEMO_MAX)
                break;
            if (!json_object_get(entries, key))
                json_object_set(entries, key, v);
        }
        json_t *doc = json_pack("{s:s, s:i, s:o}", "schema", CP_MEMO_SCHEMA, "search",
                                STATS_CP_SEARCH_VERSION, "entries", entries);
        char *text = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!text || atomic_write(m->path, text, strlen(text)) < 0)
            log_debug("could not write the change-point memo \"%s\"", m->path);
        free(text);
    }
    json_decref(m->old);
    json_decref(m->used);
    free(m->path);
    free(m);
}
