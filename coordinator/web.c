/*
 * web.c - the coordinator's read-only web pages (see web.h).
 *
 * Design notes: libmicrohttpd runs its own threads (a pool of o->threads);
 * each request borrows one of as many read-only database connections
 * (store_open_readonly, opened on first use) and renders into memory with
 * the same lib/html_* functions as the CLI, then the buffer is handed to
 * libmicrohttpd. Report pages are kept in a small cache keyed by batch id
 * and the batch's fingerprint (batch_report_tag(), one index lookup) decides
 * whether an entry is still right; a report not in the cache is the one the
 * analyst stored when it is current (batch_report_get()), else built here;
 * the warmer thread renders the newest batch's report when its fingerprint
 * changes. Nothing here writes to the database.
 */
#include "web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch_report.h"
#include "errors.h"
#include "history_doc.h"
#include "html_history.h"
#include "html_hosts.h"
#include "html_page.h"
#include "html_team.h"
#include "log.h"
#include "query_series.h"
#include "regress.h"
#include "report.h"
#include "store.h"
#include "wire.h"
#include "worker.h"
#include "xmalloc.h"

#define WEB_CACHE        8     /* rendered team reports kept */
#define WEB_WARM_MS      2000  /* how often the warmer looks for a newer batch */
#define WEB_STATEMENT_MS 30000 /* a page's statements are cancelled after this long */
#define WEB_TOKEN_MIN    16    /* bytes a token needs at least */
#define WEB_TOKEN_MAX    512
#define WEB_MAX_BATCHES  200   /* rows of /batches */
#define WEB_MAX_HOSTS    1000u /* rows of /hosts */

/*
 * /batches: the newest $1 batches. "settled" (a done and analysed batch):
 * its finish and analysis times, which key its counts in the memo
 * (batch_counts()): a settled batch's jobs, runs and findings do not change
 * (a confirmation re-opens a batch before its analysis ends; a later night
 * attaches to a finding under its own id), and counting a night's 3,500 runs
 * and jobs for each of 100 rows was most of the page's time
 * (docs/benchmarks.md).
 */
static const char BATCH_LIST_SQL[] =
    "SELECT json_build_object('id', b.id, 'suite', b.suite, 'label', b.label, 'commit',"
    " b.\"commit\", 'state', b.state, 'created', pyscope_ts(b.created), 'finished',"
    " pyscope_ts(b.finished), 'analyzed', b.analyzed IS NOT NULL, 'settled', CASE WHEN"
    " b.state = 'done' AND b.analyzed IS NOT NULL THEN concat_ws('|', b.finished::text,"
    " b.analyzed::text) END)::text"
    " FROM batches b ORDER BY b.id DESC LIMIT $1";

/* The counts of the batches $1 (bigint[]) as /batches shows them. */
static const char BATCH_COUNTS_SQL[] =
    "SELECT json_build_object('id', b.id,"
    " 'jobs', (SELECT count(*) FROM jobs j WHERE j.batch_id = b.id),"
    " 'jobs_failed', (SELECT count(*) FROM jobs j WHERE j.batch_id = b.id AND j.state = 'failed'),"
    " 'runs', (SELECT count(*) FROM runs r WHERE r.batch_id = b.id),"
    " 'regressions', (SELECT count(DISTINCT (g.script_id, g.host_id, g.python_build))"
    "   FROM regressions g WHERE (g.batch_id = b.id OR g.last_batch_id = b.id)"
    "   AND g.kind = 'regression'),"
    " 'improvements', (SELECT count(DISTINCT (g.script_id, g.host_id, g.python_build))"
    "   FROM regressions g WHERE (g.batch_id = b.id OR g.last_batch_id = b.id)"
    "   AND g.kind = 'improvement'))::text"
    " FROM batches b WHERE b.id = ANY ($1::bigint[])";

/*
 * Host pairs of batch $1: over the scripts both hosts ran (the suite's scripts: not its
 * reference script's 'reference' and 'confirm_reference' jobs, which the team report's
 * hardware table leaves out too: stranger19 minor 4), the geometric
 * mean, least and largest ratio of their median wall times (B/A); what the
 * ratio measures (coordinator/hostpair.h): each host's machine (agents.machine, the
 * agent seen last; null unknown), how many scripts' wall times were
 * contaminated by waiting for a CPU (either side's median run queued 5% of
 * its wall time or more, CONTENDED_WALL_PCT) and the geometric mean of the
 * CPU-time ratios, which queueing does not add to.
 */
#define PAIRS_MACHINE(h)                                                                           \
    "(SELECT a.machine FROM agents a WHERE a.host_id = " h ".id AND a.machine <> ''"               \
    " ORDER BY a.last_seen DESC, a.name LIMIT 1)"
// clang-format off
static const char PAIRS_SQL[] =
    "WITH m AS (SELECT r.script_id, r.host_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY"
    "  r.wall_median) AS w, percentile_cont(0.5) WITHIN GROUP (ORDER BY r.cpu_median) AS c,"
    "  percentile_cont(0.5) WITHIN GROUP (ORDER BY (SELECT percentile_cont(0.5) WITHIN GROUP"
    "  (ORDER BY 100 * u.d / u.w) FROM unnest(r.wall_s, r.run_delay_s) AS u(w, d)"
    "  WHERE u.w > 0 AND u.d >= 0)) AS q"
    "  FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.batch_id = $1::bigint"
    "  AND r.outcome = 'ok' AND r.wall_median > 0 AND j.purpose IN ('measure', 'confirm')"
    "  GROUP BY r.script_id, r.host_id)"
    " SELECT json_build_object('host_a', ha.hostname, 'fp_a', ha.fingerprint, 'host_b',"
    " hb.hostname, 'fp_b', hb.fingerprint, 'scripts', count(*), 'geomean',"
    " exp(avg(ln(b.w / a.w))), 'min', min(b.w / a.w), 'max', max(b.w / a.w),"
    " 'machine_a', " PAIRS_MACHINE("ha") ", 'machine_b', " PAIRS_MACHINE("hb") ","
    " 'contaminated', count(*) FILTER (WHERE a.q >= 5 OR b.q >= 5),"
    " 'cpu_geomean', exp(avg(ln(b.c / a.c)) FILTER (WHERE a.c > 0 AND b.c > 0)))::text"
    " FROM m a JOIN m b ON b.script_id = a.script_id AND b.host_id > a.host_id"
    " JOIN hosts ha ON ha.id = a.host_id JOIN hosts hb ON hb.id = b.host_id"
    " GROUP BY ha.id, ha.hostname, ha.fingerprint, hb.id, hb.hostname, hb.fingerprint"
    " ORDER BY ha.hostname, hb.hostname LIMIT 1000";
// clang-format on

/*
 * A series' fingerprint for the cache: its runs (count, newest), its stored
 * regressions (count, last update) and their bisections (state, interval, last
 * step decided); $1 script key, $2 hostname or fingerprint. Index reads
 * (runs_series_idx, regressions_series_idx), and the few bisections rows.
 */
static const char SERIES_TAG_SQL[] =
    "SELECT concat_ws('|', (SELECT count(*)::text || ':' || coalesce(max(r.stored_at)::text, '')"
    "  FROM runs r WHERE r.script_id = s.id AND r.host_id = h.id),"
    " (SELECT count(*)::text || ':' || coalesce(max(g.updated)::text, '') FROM regressions g"
    "  WHERE g.script_id = s.id AND g.host_id = h.id),"
    /* the regressions' bisections as the page shows them (a step decided, an end) */
    " (SELECT string_agg(bi.id || bi.state || bi.lo || '-' || bi.hi || ':' || coalesce((SELECT"
    "  max(st.decided)::text FROM bisection_steps st WHERE st.bisection_id = bi.id), ''), ','"
    "  ORDER BY bi.id) FROM bisections bi WHERE bi.script_id = s.id AND bi.host_id = h.id))"
    " FROM scripts s, hosts h WHERE s.key = $1 AND (h.hostname = $2 OR h.fingerprint = $2)"
    " ORDER BY h.id";

static const char BATCH_OF_SQL[] = "SELECT json_build_object('id', b.id, 'label', b.label)::text"
                                   " FROM batches b WHERE b.id = $1::bigint";

/* A rendered page: a team report ("latest N", "batch N") or a series' history. */
struct cache_entry {
    char *key;
    char *tag;
    char *html;
    size_t len;
    uint64_t used; /* when it was last served (a counter): the oldest goes first */
};

struct web {
    struct MHD_Daemon *daemon;
    char *conninfo;
    char *token; /* NULL: none needed */
    uint16_t port;
    char url[96];       /* http://ADDR:PORT/ */
    pthread_mutex_t mu; /* pool, cache */
    pthread_cond_t pool_cv;
    struct store *pool[WEB_MAX_THREADS];
    bool busy[WEB_MAX_THREADS];
    size_t pool_n;
    struct cache_entry cache[WEB_CACHE];
    uint64_t clock;
    struct worker warmer;
    struct store *warm_store; /* the warmer's own */
    bool warmer_on;
    /* /batches' counts of settled batches: {"ID": {"settled": KEY, "counts": {...}}} */
    json_t *batch_counts;
    /* /hosts' host pairs and batch of the newest analysed batch, for its fingerprint */
    char *pairs_tag; /* "ID TAG"; NULL: none yet */
    char *pairs_json, *pairs_batch_json;
    bool lists_warm; /* the warmer filled the two memos once (its thread only) */
};

/* An answer: status and a page (malloc'd). */
struct page {
    unsigned status;
    char *body;
    size_t len;
};

/* ---- listening address and token ------------------------------------------------------ */

int web_parse_listen(const char *listen, void *ss, size_t *len, int *loopback, char *err,
                     size_t errlen)
{
    char host[128] = "127.0.0.1";
    const char *port = listen;
    if (!listen || !*listen)
        goto bad;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= sizeof(host))
            goto bad;
        memcpy(host, listen + 1, (size_t)(end - listen - 1));
        host[end - listen - 1] = '\0';
        port = end + 2;
    } else if (strchr(listen, ':')) {
        const char *colon = strrchr(listen, ':');
        if ((size_t)(colon - listen) >= sizeof(host) || strchr(listen, ':') != colon)
            goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port = colon + 1;
    }
    char *end;
    errno = 0;
    unsigned long p = strtoul(port, &end, 10);
    if (errno || end == port || *end || p > 65535 || port[0] == '-' || port[0] == '+')
        goto bad;
    memset(ss, 0, sizeof(struct sockaddr_storage));
    struct sockaddr_in *v4 = ss;
    struct sockaddr_in6 *v6 = ss;
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        *len = sizeof(*v4);
        *loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        *len = sizeof(*v6);
        *loopback = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
        return 0;
    }
bad:
    pyscope_set_err(err, errlen,
                    "http: \"%s\" is not an address to listen on (expected PORT, ADDRESS:PORT or "
                    "[IPV6]:PORT with a numeric address, e.g. 127.0.0.1:8080)",
                    listen ? listen : "");
    return -PYSCOPE_EUSAGE;
}

/* Read the token from path into a new string; NULL with err when unusable. */
static char *read_token(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        pyscope_set_err(err, errlen, "http: could not open the token file \"%s\": %s", path,
                        strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        pyscope_set_err(
            err, errlen,
            "http: the token file \"%s\" must be a regular file that only its owner can "
            "read (chmod 600)",
            path);
        close(fd);
        return NULL;
    }
    char buf[WEB_TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        n = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    bool printable = true;
    for (ssize_t i = 0; i < n; i++)
        printable &= buf[i] > 0x20 && buf[i] < 0x7f;
    if (n < WEB_TOKEN_MIN || n > WEB_TOKEN_MAX || !printable) {
        pyscope_set_err(err, errlen,
                        "http: the token in \"%s\" must be %d to %d printable characters without "
                        "spaces (e.g. from: head -c 32 /dev/urandom | base64)",
                        path, WEB_TOKEN_MIN, WEB_TOKEN_MAX);
        sodium_memzero(buf, sizeof(buf));
        return NULL;
    }
    char *t = xstrdup(buf);
    sodium_memzero(buf, sizeof(buf));
    return t;
}

/* Does the request carry the token (Bearer, or HTTP Basic's password)? */
static bool authorized(const struct web *w, struct MHD_Connection *c)
{
    if (!w->token)
        return true;
    size_t tl = strlen(w->token);
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && strncmp(h, "Bearer ", 7) == 0) {
        const char *t = h + 7;
        return strlen(t) == tl && sodium_memcmp(t, w->token, tl) == 0;
    }
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    bool ok = pass && strlen(pass) == tl && sodium_memcmp(pass, w->token, tl) == 0;
    if (pass) {
        sodium_memzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* ---- connections ---------------------------------------------------------------------- */

/* Borrow a connection (opened on first use); NULL with err when the database is unreachable. */
static struct store *pool_get(struct web *w, size_t *slot, char *err, size_t errlen)
{
    pthread_mutex_lock(&w->mu);
    for (;;) {
        for (size_t i = 0; i < w->pool_n; i++) {
            if (!w->busy[i]) {
                w->busy[i] = true;
                *slot = i;
                struct store *s = w->pool[i];
                pthread_mutex_unlock(&w->mu);
                if (!s) {
                    s = store_open_readonly(w->conninfo, WEB_STATEMENT_MS, err, errlen);
                    pthread_mutex_lock(&w->mu);
                    w->pool[i] = s;
                    if (!s)
                        w->busy[i] = false;
                    pthread_mutex_unlock(&w->mu);
                }
                return s;
            }
        }
        pthread_cond_wait(&w->pool_cv, &w->mu);
    }
}

static void pool_put(struct web *w, size_t slot)
{
    pthread_mutex_lock(&w->mu);
    w->busy[slot] = false;
    pthread_cond_signal(&w->pool_cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- the cache of rendered reports --------------------------------------------------------- */

/* A copy of the cached page key with tag into *page; false when none. */
static bool cache_find(struct web *w, const char *key, const char *tag, struct page *page)
{
    bool hit = false;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < WEB_CACHE; i++) {
        struct cache_entry *e = &w->cache[i];
        if (e->html && strcmp(e->key, key) == 0 && strcmp(e->tag, tag) == 0) {
            page->body = xmalloc(e->len ? e->len : 1);
            memcpy(page->body, e->html, e->len);
            page->len = e->len;
            page->status = MHD_HTTP_OK;
            e->used = ++w->clock;
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return hit;
}

static void cache_put(struct web *w, const char *key, const char *tag, const char *html, size_t len)
{
    pthread_mutex_lock(&w->mu);
    struct cache_entry *slot = &w->cache[0];
    for (size_t i = 0; i < WEB_CACHE; i++) {
        struct cache_entry *e = &w->cache[i];
        if (e->html && strcmp(e->key, key) == 0) { /* the same page, older: replaced */
            slot = e;
            break;
        }
        if (!e->html || e->used < slot->used)
            slot = e;
    }
    free(slot->key);
    free(slot->tag);
    free(slot->html);
    slot->key = xstrdup(key);
    slot->tag = xstrdup(tag);
    slot->html = xmalloc(len ? len : 1);
    memcpy(slot->html, html, len);
    slot->len = len;
    slot->used = ++w->clock;
    pthread_mutex_unlock(&w->mu);
}

/* ---- pages ---------------------------------------------------------------------------- */

/* A memory stream for a page; the body is complete after page_end(). */
struct sink {
    FILE *f;
    char *buf;
    size_t len;
};

static void sink_open(struct sink *k)
{
    k->buf = NULL;
    k->len = 0;
    k->f = open_memstream(&k->buf, &k->len);
    if (!k->f) { /* out of memory, as xmalloc() */
        log_error("could not allocate a page buffer: %s", strerror(errno));
        abort();
    }
}

static void page_end(struct sink *k, struct page *p, unsigned status)
{
    fclose(k->f);
    p->status = status;
    p->body = k->buf;
    p->len = k->len;
}

static void error_page(struct page *p, unsigned status, const char *title, const char *message,
                       const char *active)
{
    struct sink k;
    sink_open(&k);
    struct html_site site = {.active = active};
    html_page_error(k.f, &site, title, message);
    page_end(&k, p, status);
}

struct tag_row {
    uint64_t batch;
    char tag[512];
};

/* The fingerprint of batch (0: the newest analysed); 0 rows: *found false. */
static int batch_tag(struct store *s, uint64_t batch, struct tag_row *t, bool *found, char *err,
                     size_t errlen)
{
    int rc = batch_report_tag(s, batch, &t->batch, t->tag, sizeof(t->tag), err, errlen);
    *found = rc > 0;
    return rc < 0 ? rc : 0;
}

/* The team report document of batch (the stored one when current) into *doc (new); 0 or a
 * negative code with err. */
static int report_doc(struct store *s, uint64_t batch, json_t **doc, char *err, size_t errlen)
{
    struct wire_query q = {.kind = WIRE_QUERY_REPORT, .batch_id = batch};
    json_t *value = NULL;
    *doc = NULL;
    bool stored = false;
    int rc = batch_report_get(s, &q, &value, &stored, err, errlen);
    if (rc < 0)
        return rc;
    if (stored)
        log_debug("http: the team report of batch %" PRIu64 ": the stored one", batch);
    *doc = json_pack("{s:s, s:o}", "schema", "pyscope.team_report/1", "report", value);
    return 0;
}

/* Render doc (borrowed) into a new buffer; 0 or a negative code with err. */
static int render_doc(const json_t *doc, const char *active, char **html, size_t *len, char *err,
                      size_t errlen)
{
    struct sink k;
    sink_open(&k);
    struct html_site site = {.active = active};
    int rc = html_team_write(k.f, doc, &site, err, errlen);
    fclose(k.f);
    if (rc < 0) {
        free(k.buf);
        return rc;
    }
    *html = k.buf;
    *len = k.len;
    return 0;
}

/* Render the team report of batch into a new buffer; 0 or a negative code with err. */
static int render_report(struct store *s, uint64_t batch, const char *active, char **html,
                         size_t *len, char *err, size_t errlen)
{
    json_t *doc = NULL;
    int rc = report_doc(s, batch, &doc, err, errlen);
    if (rc >= 0)
        rc = render_doc(doc, active, html, len, err, errlen);
    json_decref(doc);
    return rc;
}

/* / (batch 0) and /batch/N: from the cache when the batch has not changed since. */
static void page_report(struct web *w, struct store *s, uint64_t batch, struct page *p)
{
    char err[512] = "";
    struct tag_row t;
    bool found;
    const char *active = batch ? "batches" : "latest";
    if (batch_tag(s, batch, &t, &found, err, sizeof(err)) < 0) {
        log_warn("http: %s", err);
        error_page(p, MHD_HTTP_SERVICE_UNAVAILABLE, "database error",
                   "The database did not answer; try again in a moment.", active);
        return;
    }
    if (!found) {
        error_page(p, MHD_HTTP_NOT_FOUND, batch ? "no such batch" : "no batch yet",
                   batch ? "There is no batch with this number."
                         : "No batch has been submitted yet: pyscope submit SUITE starts one.",
                   active);
        return;
    }
    /* / and /batch/N of the same batch differ only in the navigation: cached apart */
    char key[48];
    snprintf(key, sizeof(key), "%s %" PRIu64, batch ? "batch" : "latest", t.batch);
    if (cache_find(w, key, t.tag, p))
        return;
    char *html;
    size_t len;
    if (render_report(s, t.batch, active, &html, &len, err, sizeof(err)) < 0) {
        log_warn("http: the report of batch %" PRIu64 ": %s", t.batch, err);
        error_page(p, MHD_HTTP_SERVICE_UNAVAILABLE, "database error",
                   "The report could not be read; try again in a moment.", active);
        return;
    }
    cache_put(w, key, t.tag, html, len);
    p->status = MHD_HTTP_OK;
    p->body = html;
    p->len = len;
}

/*
 * The counts of each batch of rows (borrowed; BATCH_LIST_SQL's) set in its
 * row: a settled batch's from the memo when its key is the same, the others
 * read (BATCH_COUNTS_SQL, one statement) and the settled ones memoised. The
 * memo keeps the batches listed only. Returns 0 or a negative code.
 */
static int batch_counts(struct web *w, struct store *s, json_t *rows, char *err, size_t errlen)
{
    size_t i, cap = 2 + 24 * json_array_size(rows), len = 0;
    json_t *row;
    char *ids = xmalloc(cap);
    ids[len++] = '{';
    json_t *listed = json_object();
    pthread_mutex_lock(&w->mu);
    if (w->batch_counts == NULL)
        w->batch_counts = json_object();
    json_array_foreach(rows, i, row)
    {
        char id[32];
        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(row, "id")));
        json_object_set_new(listed, id, json_true());
        const char *key = json_string_value(json_object_get(row, "settled"));
        const json_t *m = json_object_get(w->batch_counts, id);
        const char *mkey = json_string_value(json_object_get(m, "settled"));
        if (key && mkey && strcmp(key, mkey) == 0) {
            /* copies: the memo's values are never shared with a request's rows */
            json_t *cp = json_deep_copy(json_object_get(m, "counts"));
            json_object_update(row, cp);
            json_decref(cp);
            continue;
        }
        len += (size_t)snprintf(ids + len, cap - len, "%s%s", len > 1 ? "," : "", id);
    }
    pthread_mutex_unlock(&w->mu);
    snprintf(ids + len, cap - len, "}");
    int rc = 0;
    json_t *counts = NULL;
    if (len > 1) {
        const char *params[1] = {ids};
        rc = store_json_rows(s, BATCH_COUNTS_SQL, params, 1, &counts, err, errlen);
        log_debug("http: /batches counted the jobs and runs of batches %s", ids);
    }
    free(ids);
    json_t *by_id = json_object();
    const json_t *c;
    json_array_foreach(counts, i, c)
    {
        char id[32];
        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(c, "id")));
        json_object_set(by_id, id, (json_t *)c);
    }
    pthread_mutex_lock(&w->mu);
    json_array_foreach(rows, i, row)
    {
        char id[32];
        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(row, "id")));
        json_t *got = json_object_get(by_id, id);
        if (got == NULL)
            continue;
        json_object_del(got, "id");
        json_object_update(row, got);
        const json_t *key = json_object_get(row, "settled");
        if (json_is_string(key))
            json_object_set_new(w->batch_counts, id,
                                json_pack("{s:s, s:o}", "settled", json_string_value(key), "counts",
                                          json_deep_copy(got)));
    }
    const char *k;
    json_t *v, *tmp;
    json_object_foreach_safe(w->batch_counts, tmp, k, v)
    {
        if (json_object_get(listed, k) == NULL)
            json_object_del(w->batch_counts, k);
    }
    pthread_mutex_unlock(&w->mu);
    json_array_foreach(rows, i, row)
    {
        json_object_del(row, "settled");
    }
    json_decref(by_id);
    json_decref(counts);
    json_decref(listed);
    return rc < 0 ? rc : 0;
}

static void page_batches(struct web *w, struct store *s, struct page *p)
{
    char err[512] = "", limit[16];
    snprintf(limit, sizeof(limit), "%d", WEB_MAX_BATCHES);
    const char *params[1] = {limit};
    json_t *rows = NULL;
    if (store_json_rows(s, BATCH_LIST_SQL, params, 1, &rows, err, sizeof(err)) < 0 ||
        batch_counts(w, s, rows, err, sizeof(err)) < 0) {
        log_warn("http: batches: %s", err);
        error_page(p, MHD_HTTP_SERVICE_UNAVAILABLE, "database error",
                   "The database did not answer; try again in a moment.", "batches");
        json_decref(rows);
        return;
    }
    struct sink k;
    sink_open(&k);
    struct html_site site = {.active = "batches"};
    html_team_write_batches(k.f, rows, &site, err, sizeof(err));
    json_decref(rows);
    page_end(&k, p, MHD_HTTP_OK);
}

/*
 * The host pairs (PAIRS_SQL) and the batch row of the newest analysed batch t
 * (borrowed) into *pairs and *batch (new): remembered with the batch's
 * fingerprint, which covers its runs (reading its 3,500 runs from the heap
 * was most of /hosts' time, docs/benchmarks.md). Returns 0 or a negative code.
 */
static int host_pairs(struct web *w, struct store *s, const struct tag_row *t, json_t **pairs,
                      json_t **batch, char *err, size_t errlen)
{
    char *key = xasprintf("%" PRIu64 " %s", t->batch, t->tag);
    pthread_mutex_lock(&w->mu);
    if (w->pairs_tag && strcmp(w->pairs_tag, key) == 0) {
        *pairs = json_loads(w->pairs_json, 0, NULL);
        *batch = json_loads(w->pairs_batch_json, 0, NULL);
    }
    pthread_mutex_unlock(&w->mu);
    if (*pairs && *batch) {
        free(key);
        return 0;
    }
    json_decref(*pairs);
    json_decref(*batch);
    *pairs = *batch = NULL;
    char id[32];
    snprintf(id, sizeof(id), "%" PRIu64, t->batch);
    const char *params[1] = {id};
    int rc = store_json_rows(s, PAIRS_SQL, params, 1, pairs, err, errlen);
    if (rc >= 0)
        rc = store_json_rows(s, BATCH_OF_SQL, params, 1, batch, err, errlen);
    log_debug("http: /hosts read the host pairs of batch %s", id);
    if (rc >= 0) {
        char *p = json_dumps(*pairs, JSON_COMPACT), *b = json_dumps(*batch, JSON_COMPACT);
        pthread_mutex_lock(&w->mu);
        free(w->pairs_tag);
        free(w->pairs_json);
        free(w->pairs_batch_json);
        w->pairs_tag = key;
        w->pairs_json = p;
        w->pairs_batch_json = b;
        key = NULL;
        pthread_mutex_unlock(&w->mu);
    }
    free(key);
    return rc < 0 ? rc : 0;
}

static void page_hosts(struct web *w, struct store *s, struct page *p)
{
    char err[512] = "";
    struct wire_query q = {.kind = WIRE_QUERY_HOSTS, .limit = WEB_MAX_HOSTS};
    json_t *hosts = NULL, *pairs = NULL, *batch = NULL;
    struct tag_row t;
    bool found = false;
    int rc = store_query(s, &q, &hosts, err, sizeof(err));
    if (rc >= 0)
        rc = batch_tag(s, 0, &t, &found, err, sizeof(err));
    if (rc >= 0 && found)
        rc = host_pairs(w, s, &t, &pairs, &batch, err, sizeof(err));
    if (rc < 0) {
        log_warn("http: hosts: %s", err);
        error_page(p, MHD_HTTP_SERVICE_UNAVAILABLE, "database error",
                   "The database did not answer; try again in a moment.", "hosts");
    } else {
        struct sink k;
        sink_open(&k);
        struct html_site site = {.active = "hosts"};
        html_hosts_farm_write(k.f, hosts, pairs, json_array_get(batch, 0), &site, err, sizeof(err));
        page_end(&k, p, MHD_HTTP_OK);
    }
    json_decref(hosts);
    json_decref(pairs);
    json_decref(batch);
}

/* A query argument (borrowed), or NULL. */
static const char *arg(struct MHD_Connection *c, const char *key)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
    return v && *v ? v : NULL;
}

struct series_tag {
    char text[512]; /* every row's tag, joined */
    int rows;
};

static int series_tag_row(const char *const *v, int ncols, void *arg)
{
    struct series_tag *t = arg;
    size_t len = strlen(t->text);
    if (ncols > 0 && v[0])
        snprintf(t->text + len, sizeof(t->text) - len, "%s;", v[0]);
    t->rows++;
    return 0;
}

static void page_series(struct web *w, struct store *s, struct MHD_Connection *c,
                        const char *script, struct page *p)
{
    const char *host = arg(c, "host"), *build = arg(c, "build"), *metric = arg(c, "metric");
    if (!metric)
        metric = "wall_s";
    if (!*script || !wire_path_normalized(script) || strlen(script) > WIRE_MAX_STRING) {
        error_page(p, MHD_HTTP_BAD_REQUEST, "bad script",
                   "The address names no script key: /series/SCRIPT?host=HOST, with SCRIPT a "
                   "relative path as in the suite (e.g. examples/slow_script.py).",
                   NULL);
        return;
    }
    if (!host || strlen(host) > WIRE_MAX_HOST_NAME) {
        error_page(p, MHD_HTTP_BAD_REQUEST, "which host?",
                   "A series is a script on one host: add ?host=HOSTNAME or a fingerprint "
                   "(see /hosts).",
                   NULL);
        return;
    }
    if (strcmp(metric, "wall_s") != 0 && strcmp(metric, "cpu_s") != 0 &&
        strcmp(metric, "peak_rss_bytes") != 0 && strcmp(metric, "instructions") != 0) {
        error_page(p, MHD_HTTP_BAD_REQUEST, "bad metric",
                   "metric is one of wall_s, cpu_s, peak_rss_bytes and instructions.", NULL);
        return;
    }
    if (build && strlen(build) > WIRE_MAX_STRING) {
        error_page(p, MHD_HTTP_BAD_REQUEST, "bad build", "The Python build is too long.", NULL);
        return;
    }
    char err[512] = "";
    /* the same page while the series has no new run or regression change */
    struct series_tag tag = {{0}, 0};
    const char *tp[2] = {script, host};
    char *key = xasprintf("series %s\x1f%s\x1f%s\x1f%s", script, host, build ? build : "", metric);
    if (store_each_row(s, SERIES_TAG_SQL, tp, 2, series_tag_row, &tag, err, sizeof(err)) > 0 &&
        cache_find(w, key, tag.text, p)) {
        free(key);
        return;
    }
    struct wire_query q = {.kind = WIRE_QUERY_SERIES,
                           .script = script,
                           .host = host,
                           .python_build = build,
                           .limit = QUERY_SERIES_DEFAULT_RUNS};
    json_t *series = NULL;
    if (query_series_answer(s, &q, &series, err, sizeof(err)) < 0) {
        log_warn("http: series: %s", err);
        error_page(p, MHD_HTTP_SERVICE_UNAVAILABLE, "database error",
                   "The database did not answer; try again in a moment.", NULL);
        free(key);
        return;
    }
    const json_t *e = json_object_get(series, "error");
    if (json_is_object(e)) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        error_page(p, MHD_HTTP_NOT_FOUND, "no such series", msg ? msg : "unknown series", NULL);
        json_decref(series);
        free(key);
        return;
    }
    struct regress_options opt;
    regress_options_init(&opt);
    json_t *doc = history_doc_from_series(series, script, &opt, metric, NULL, NULL, false);
    json_decref(series);
    struct sink k;
    sink_open(&k);
    struct html_site site = {.active = NULL};
    html_history_write_site(k.f, doc, &site, err, sizeof(err));
    json_decref(doc);
    page_end(&k, p, MHD_HTTP_OK);
    if (tag.rows)
        cache_put(w, key, tag.text, p->body, p->len);
    free(key);
}

/* ---- the request handler ------------------------------------------------------------- */

/* The batch number of "/batch/N", or 0 when url is not such a path. */
static uint64_t batch_path(const char *url)
{
    const char *n = url + strlen("/batch/");
    if (strncmp(url, "/batch/", 7) != 0 || !*n || strspn(n, "0123456789") != strlen(n) ||
        strlen(n) > 18)
        return 0;
    return strtoull(n, NULL, 10);
}

static enum MHD_Result respond(struct MHD_Connection *c, struct page *p, bool challenge)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(p->len, p->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(p->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    /* the page's own policy, and what a meta element cannot say: no framing */
    char csp[512];
    snprintf(csp, sizeof(csp), "%s; frame-ancestors 'none'", html_page_csp(false));
    MHD_add_response_header(r, "Content-Security-Policy", csp);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result rc;
    if (p->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (challenge)
        rc = MHD_queue_basic_auth_fail_response(c, "PyScope", r);
    else
        rc = MHD_queue_response(c, p->status, r);
    MHD_destroy_response(r);
    return rc;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    static int started;
    struct web *w = cls;
    struct page p = {0};
    double t0 = now_ms();
    if (*con_cls == NULL) {
        /* the headers: refuse what this server never takes before a body is read */
        *con_cls = &started;
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
            error_page(&p, MHD_HTTP_METHOD_NOT_ALLOWED, "read only",
                       "These pages are read only: GET and HEAD.", NULL);
            return respond(c, &p, false);
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if ((cl && strcmp(cl, "0") != 0) || te) {
            error_page(&p, MHD_HTTP_CONTENT_TOO_LARGE, "no body",
                       "These pages take no request body.", NULL);
            return respond(c, &p, false);
        }
        return MHD_YES;
    }
    if (*upload_data_size) { /* unannounced body: never read */
        *upload_data_size = 0;
        return MHD_NO;
    }
    if (!authorized(w, c)) {
        error_page(&p, MHD_HTTP_UNAUTHORIZED, "token needed",
                   "This server needs its token: as the password when the browser asks, or "
                   "Authorization: Bearer TOKEN.",
                   NULL);
        return respond(c, &p, true);
    }
    uint64_t batch = batch_path(url);
    bool known = strcmp(url, "/") == 0 || batch || strcmp(url, "/batches") == 0 ||
                 strcmp(url, "/hosts") == 0 || strncmp(url, "/series/", 8) == 0;
    if (!known) {
        error_page(&p, MHD_HTTP_NOT_FOUND, "not found",
                   "There is no such page. The pages are /, /batch/N, /batches, "
                   "/series/SCRIPT?host=HOST and /hosts.",
                   NULL);
        return respond(c, &p, false);
    }
    char err[512] = "";
    size_t slot;
    struct store *s = pool_get(w, &slot, err, sizeof(err));
    if (!s) {
        log_warn("http: %s", err);
        error_page(&p, MHD_HTTP_SERVICE_UNAVAILABLE, "database unreachable",
                   "The coordinator cannot reach its database; try again in a moment.", NULL);
        return respond(c, &p, false);
    }
    if (strcmp(url, "/") == 0 || batch)
        page_report(w, s, batch, &p);
    else if (strcmp(url, "/batches") == 0)
        page_batches(w, s, &p);
    else if (strcmp(url, "/hosts") == 0)
        page_hosts(w, s, &p);
    else
        page_series(w, s, c, url + strlen("/series/"), &p);
    pool_put(w, slot);
    log_debug("http: %s %s: %u, %zu bytes, %.1f ms", method, url, p.status, p.len, now_ms() - t0);
    return respond(c, &p, false);
}

/* ---- the warmer: the newest batch's report rendered as soon as it changes ---------------- */

/*
 * Render ahead, into the cache, the page of batch (0: the newest analysed)
 * under key prefix ("latest" or "batch") unless it is there and current;
 * *doc (borrowed; NULL: not built yet) is the batch's report document when
 * it was built for the page before (the same batch and tag), else it is
 * built and kept there. Returns the batch's id, 0 when there is none.
 */
static uint64_t warm_page(struct web *w, uint64_t batch, const char *prefix, json_t **doc,
                          char *docs_tag, size_t docs_tag_len)
{
    char err[512] = "";
    struct tag_row t;
    bool found;
    if (batch_tag(w->warm_store, batch, &t, &found, err, sizeof(err)) < 0 || !found)
        return 0;
    struct page p;
    char key[48];
    snprintf(key, sizeof(key), "%s %" PRIu64, prefix, t.batch);
    if (cache_find(w, key, t.tag, &p)) {
        free(p.body);
        return t.batch;
    }
    double t0 = now_ms();
    if (*doc && strcmp(docs_tag, t.tag) != 0) {
        json_decref(*doc);
        *doc = NULL;
    }
    if (!*doc && report_doc(w->warm_store, t.batch, doc, err, sizeof(err)) < 0) {
        log_warn("http: could not render the report of batch %" PRIu64 ": %s", t.batch, err);
        return 0;
    }
    snprintf(docs_tag, docs_tag_len, "%s", t.tag);
    char *html;
    size_t len;
    if (render_doc(*doc, strcmp(prefix, "latest") == 0 ? "latest" : "batches", &html, &len, err,
                   sizeof(err)) < 0) {
        log_warn("http: could not render the report of batch %" PRIu64 ": %s", t.batch, err);
        return 0;
    }
    cache_put(w, key, t.tag, html, len);
    log_debug("http: the report of batch %" PRIu64 " rendered ahead as %s (%zu bytes, %.0f ms)",
              t.batch, key, len, now_ms() - t0);
    free(html);
    return t.batch;
}

/*
 * The memos of /batches (the settled batches' counts) and /hosts (the newest
 * analysed batch's host pairs) filled ahead, as the pages' first requests
 * would: after a start, counting every batch's jobs and runs took the first
 * /batches or /hosts 0.3-0.4 s on a loaded machine at 350,000 runs
 * (docs/benchmarks.md). A memo that is current costs one cheap read.
 */
static void warm_lists(struct web *w)
{
    char err[512] = "", limit[16];
    double t0 = now_ms();
    /* the first time on a connection of the requests' pool: the first request then finds
     * it open, its backend's caches of the tables' definitions filled */
    size_t slot = 0;
    struct store *s = w->lists_warm ? w->warm_store : pool_get(w, &slot, err, sizeof(err));
    if (!s)
        return;
    snprintf(limit, sizeof(limit), "%d", WEB_MAX_BATCHES);
    const char *params[1] = {limit};
    json_t *rows = NULL;
    if (store_json_rows(s, BATCH_LIST_SQL, params, 1, &rows, err, sizeof(err)) >= 0)
        batch_counts(w, s, rows, err, sizeof(err));
    json_decref(rows);
    struct tag_row t;
    bool found = false;
    json_t *pairs = NULL, *batch = NULL;
    if (batch_tag(s, 0, &t, &found, err, sizeof(err)) >= 0 && found)
        host_pairs(w, s, &t, &pairs, &batch, err, sizeof(err));
    json_decref(pairs);
    json_decref(batch);
    if (!w->lists_warm) {
        pool_put(w, slot);
        w->lists_warm = true;
        log_debug("http: /batches and /hosts read ahead (%.0f ms)", now_ms() - t0);
    }
}

/*
 * The pages a team lead opens first, rendered ahead: the lists' memos
 * (warm_lists, cheap), the newest analysed batch's report as / and as
 * /batch/N (one report built for both: they differ in the navigation only),
 * then the batch before it (last night, to compare).
 */
static void warm_once(struct web *w)
{
    char err[512] = "";
    if (!w->warm_store) {
        w->warm_store = store_open_readonly(w->conninfo, WEB_STATEMENT_MS, err, sizeof(err));
        if (!w->warm_store)
            return; /* the requests say it; try again next time */
    }
    warm_lists(w);
    json_t *doc = NULL;
    char tag[512] = "";
    uint64_t newest = warm_page(w, 0, "latest", &doc, tag, sizeof(tag));
    if (newest)
        warm_page(w, newest, "batch", &doc, tag, sizeof(tag));
    json_decref(doc);
    doc = NULL;
    if (newest > 1)
        warm_page(w, newest - 1, "batch", &doc, tag, sizeof(tag));
    json_decref(doc);
}

static void *warmer_main(void *arg)
{
    struct web *w = arg;
    do
        warm_once(w);
    while (!worker_sleep(&w->warmer, WEB_WARM_MS));
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

/* A token read by read_token, wiped and freed; NULL is fine. */
static void token_free(char *token)
{
    if (token) {
        sodium_memzero(token, strlen(token));
        free(token);
    }
}

/*
 * What web_start checks before it listens: o->listen parsed into *ss (*sslen bytes), the
 * threads, the token file read into *token (new; NULL: none) and a token for an address
 * other than loopback. 0, or -PYSCOPE_EUSAGE with err (*token then NULL).
 */
static int options_check(const struct web_options *o, struct sockaddr_storage *ss, size_t *sslen,
                         char **token, char *err, size_t errlen)
{
    int loopback;
    *token = NULL;
    if (web_parse_listen(o->listen, ss, sslen, &loopback, err, errlen) < 0)
        return -PYSCOPE_EUSAGE;
    if (o->threads < 1 || o->threads > WEB_MAX_THREADS) {
        pyscope_set_err(err, errlen, "http_threads must be 1 to %d", WEB_MAX_THREADS);
        return -PYSCOPE_EUSAGE;
    }
    if (o->token_file && !(*token = read_token(o->token_file, err, errlen)))
        return -PYSCOPE_EUSAGE;
    if (!loopback && !*token) {
        pyscope_set_err(err, errlen,
                        "http: %s is not a loopback address: anyone who reaches it would read the "
                        "reports; set http_token_file (docs/security.md, \"Web pages\")",
                        o->listen);
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

int web_options_check(const struct web_options *o, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    size_t sslen;
    char *token;
    int rc = options_check(o, &ss, &sslen, &token, err, errlen);
    token_free(token);
    return rc;
}

struct web *web_start(const char *conninfo, const struct web_options *o, int *usage, char *err,
                      size_t errlen)
{
    struct sockaddr_storage ss;
    size_t sslen;
    char *token;
    *usage = 1;
    if (options_check(o, &ss, &sslen, &token, err, errlen) < 0)
        return NULL;
    *usage = 0;
    struct web *w = xcalloc(1, sizeof(*w));
    w->conninfo = xstrdup(conninfo ? conninfo : "");
    w->token = token;
    w->pool_n = o->threads;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->pool_cv, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    w->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)o->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)64, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)32,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
    if (!w->daemon) {
        pyscope_set_err(err, errlen, "http: could not listen on %s (is the port in use?)",
                        o->listen);
        web_stop(&w);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
    w->port = info ? info->port : 0;
    char addr[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
    snprintf(w->url, sizeof(w->url), ss.ss_family == AF_INET6 ? "http://[%s]:%u/" : "http://%s:%u/",
             addr, (unsigned)w->port);
    if (worker_start(&w->warmer, warmer_main, w, "web report warmer", err, errlen) < 0) {
        web_stop(&w);
        return NULL;
    }
    w->warmer_on = true;
    return w;
}

uint16_t web_port(const struct web *w)
{
    return w ? w->port : 0;
}

const char *web_url(const struct web *w)
{
    return w->url;
}

void web_stop(struct web **wp)
{
    struct web *w = *wp;
    if (!w)
        return;
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    if (w->warmer_on)
        worker_stop(&w->warmer);
    for (size_t i = 0; i < WEB_MAX_THREADS; i++)
        store_close(&w->pool[i]);
    store_close(&w->warm_store);
    for (size_t i = 0; i < WEB_CACHE; i++) {
        free(w->cache[i].key);
        free(w->cache[i].tag);
        free(w->cache[i].html);
    }
    json_decref(w->batch_counts);
    free(w->pairs_tag);
    free(w->pairs_json);
    free(w->pairs_batch_json);
    token_free(w->token);
    free(w->conninfo);
    pthread_cond_destroy(&w->pool_cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    *wp = NULL;
}
