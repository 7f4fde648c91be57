/*
 * store_int.h - what the store's files share (coordinator/store_*.c only; the
 * rest of the coordinator includes store.h).
 *
 * The store is one object (struct store: the connection, the function-key
 * cache, the run_in type's OID) whose jobs live in one file each:
 *   store_conn.c     the libpq wrapper: connect, store_exec() (every statement
 *                    of the store goes through it), durability check
 *   store_migrate.c  schema migrations
 *   store_hosts.c    hosts and agents: register, liveness
 *   store_queue.c    the job queue: submit, claim, renew, reap
 *   store_results.c  results: a group checked and inserted as one binary
 *                    run_in[] (encoded with coordinator/pgbin.h)
 *   store_query.c    queries: the fixed ones (store_query()) and the generic
 *                    row walkers coordinator/analysis.c uses
 * coordinator/fcache.h caches function-key ids across results.
 *
 * Design notes: every statement goes through store_exec(), which checks the
 * result status, fills the caller's error buffer and PQclear()s on failure,
 * so a caller holds at most one PGresult and clears it on every path.
 * Arrays travel as text literals of numbers ('{1.5,2}') or as JSON (strings:
 * jansson does the escaping); numbers are validated finite by lib/wire first.
 * Transactions are short: a claim or renewal is one statement; a group of
 * results is one transaction of five statements whatever its size (rows go
 * in as jsonb or unnest() arrays, one statement per table for the group, not
 * per result), and it ends before the acks are sent.
 */
#ifndef PYSCOPE_COORD_STORE_INT_H
#define PYSCOPE_COORD_STORE_INT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcache.h"
#include "store.h"
#include "strbuf.h"
#include "xmalloc.h"

#define STORE_MAX_PARAMS 24

struct store {
    PGconn *conn;
    struct fcache fcache; /* ids of committed function keys */
    uint32_t run_in_oid;  /* OID of type run_in, 0 until looked up */
};

/* Parameters of one statement: borrowed or owned strings (or binary values), or NULL. */
struct params {
    const char *v[STORE_MAX_PARAMS];
    char *owned[STORE_MAX_PARAMS];
    int len[STORE_MAX_PARAMS]; /* of binary values */
    int fmt[STORE_MAX_PARAMS]; /* 1 = binary */
    int n;
    int n_owned;
    bool binary; /* some value is binary: pass len and fmt */
};

static inline void p_str(struct params *p, const char *s)
{
    p->v[p->n++] = s;
}

__attribute__((format(printf, 2, 3))) static inline void p_fmt(struct params *p, const char *fmt,
                                                               ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    p->owned[p->n_owned++] = s;
    p->v[p->n++] = s;
}

/* Steal s (xmalloc'ed) as the next parameter. */
static inline void p_own(struct params *p, char *s)
{
    p->owned[p->n_owned++] = s;
    p->v[p->n++] = s;
}

/* Steal data (len bytes, xmalloc'ed) as the next parameter, in binary format. */
static inline void p_bin(struct params *p, void *data, size_t len)
{
    p->len[p->n] = (int)len;
    p->fmt[p->n] = 1;
    p->binary = true;
    p_own(p, data);
}

static inline void p_release(struct params *p)
{
    for (int i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    p->n = p->n_owned = 0;
    p->binary = false;
    memset(p->fmt, 0, sizeof(p->fmt));
}

/* Append s (borrowed) to a PostgreSQL array literal being built in b (lib/strbuf.h) as a
 * quoted element ("a \"b\"" style). */
static inline void array_add_quoted(struct strbuf *b, const char *s)
{
    strbuf_addc(b, '"');
    for (size_t span; *s; s += span) {
        span = strcspn(s, "\"\\");
        strbuf_add(b, s, span);
        if (s[span] != '\0') {
            strbuf_addc(b, '\\');
            strbuf_addc(b, s[span]);
            span++;
        }
    }
    strbuf_addc(b, '"');
}

/* The first line of libpq's message, without its newline (into buf). */
static inline const char *pg_message(const char *msg, char *buf, size_t len)
{
    snprintf(buf, len, "%s", msg ? msg : "unknown error");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* {"key": "value", ...} of labels, as new JSON text. */
static inline char *labels_json(size_t n, const struct wire_label *labels)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, labels[i].key, json_string(labels[i].value));
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (s == NULL)
        abort();
    return s;
}

/* A JSON array of n strings, as new JSON text. */
static inline char *strings_json(size_t n, const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (s == NULL)
        abort();
    return s;
}

static inline long long clamp_i64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (long long)v;
}

/* Mark done the running batches of $1 (bigint[]; NULL: all) that have no open job left. */
#define BATCH_DONE_SQL                                                                             \
    "UPDATE batches b SET state = 'done', finished = now()"                                        \
    " WHERE b.state = 'running' AND ($1::bigint[] IS NULL OR b.id = ANY ($1)) AND NOT EXISTS"      \
    " (SELECT 1 FROM jobs j WHERE j.batch_id = b.id AND j.state IN ('queued', 'leased'))"

/* Reset a broken connection so the next statement has a chance. */
void store_heal(struct store *s);

/*
 * Run sql with p's parameters (borrowed). Returns the result (caller
 * PQclear()s) when its status is want, else NULL with err filled.
 */
PGresult *store_exec(struct store *s, const char *sql, const struct params *p, ExecStatusType want,
                     char *err, size_t errlen);

/* Run a statement that returns no rows. Returns 0 or -EIO. */
int store_cmd(struct store *s, const char *sql, const struct params *p, char *err, size_t errlen);

/* Roll back the open transaction (whatever its state). */
void store_rollback(struct store *s);

#endif
