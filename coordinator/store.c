/*
 * store.c - PostgreSQL through libpq: queue, hosts, results, queries.
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
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fault.h"
#include "gitrev.h"
#include "log.h"
#include "pyreq.h"
#include "sanitize.h"
#include "stats.h"
#include "xmalloc.h"

/* pg_advisory_xact_lock key for migrations: "pyscope" in ASCII. */
#define STORE_MIGRATION_LOCK "31093567171470693"
#define STORE_MAX_PARAMS     24

/* Function key -> functions.id, open addressing (store_put_results()). */
struct fcache {
    char **keys; /* owned; NULL = empty slot */
    int64_t *ids;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

struct store {
    PGconn *conn;
    struct fcache fcache; /* ids of committed function keys */
    uint32_t run_in_oid;  /* OID of type run_in, 0 until looked up */
};

static void fcache_clear(struct fcache *c);

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

/* A growing string for array literals. */
struct sbuf {
    char *p;
    size_t len;
    size_t cap;
};

static void p_str(struct params *p, const char *s)
{
    p->v[p->n++] = s;
}

__attribute__((format(printf, 2, 3))) static void p_fmt(struct params *p, const char *fmt, ...)
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
static void p_own(struct params *p, char *s)
{
    p->owned[p->n_owned++] = s;
    p->v[p->n++] = s;
}

/* Steal data (len bytes, xmalloc'ed) as the next parameter, in binary format. */
static void p_bin(struct params *p, void *data, size_t len)
{
    p->len[p->n] = (int)len;
    p->fmt[p->n] = 1;
    p->binary = true;
    p_own(p, data);
}

static void p_release(struct params *p)
{
    for (int i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    p->n = p->n_owned = 0;
    p->binary = false;
    memset(p->fmt, 0, sizeof(p->fmt));
}

__attribute__((format(printf, 2, 3))) static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)n + 64;
        b->p = xrealloc(b->p, b->cap);
    }
}

/* Append s to an array literal as a quoted element ("a \"b\"" style). */
static void sb_add_quoted(struct sbuf *b, const char *s)
{
    sb_addf(b, "\"");
    for (size_t span; *s; s += span) {
        span = strcspn(s, "\"\\");
        sb_addf(b, "%.*s", (int)span, s);
        if (s[span] != '\0') {
            sb_addf(b, "\\%c", s[span]);
            span++;
        }
    }
    sb_addf(b, "\"");
}

/* Return the finished string (caller owns). */
static char *sb_take(struct sbuf *b)
{
    if (b->p == NULL)
        return xstrdup("");
    char *s = b->p;
    b->p = NULL;
    b->len = b->cap = 0;
    return s;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The first line of libpq's message, without its newline (into buf). */
static const char *pg_message(const char *msg, char *buf, size_t len)
{
    snprintf(buf, len, "%s", msg ? msg : "unknown error");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* Server notices ("relation ... already exists, skipping") are not news: debug only. */
static void store_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("database notice: %.*s", (int)strcspn(message, "\n"), message);
}

/* Reset a broken connection so the next statement has a chance. */
static void store_heal(struct store *s)
{
    if (PQstatus(s->conn) == CONNECTION_BAD)
        PQreset(s->conn);
}

/*
 * Did res (NULL or failed) fail because the connection is gone? libpq may
 * still say CONNECTION_OK for the statement that found the socket closed:
 * its error then comes from libpq itself (no SQLSTATE), or from the server
 * going down (class 08, connection exception; 57P01-57P03, shutdown, crash
 * of another backend, cannot connect now).
 */
static bool connection_lost(PGconn *conn, const PGresult *res)
{
    if (PQstatus(conn) == CONNECTION_BAD || res == NULL)
        return true;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state == NULL || strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

/*
 * Run sql with p's parameters (borrowed). Returns the result (caller
 * PQclear()s) when its status is want, else NULL with err filled.
 */
static PGresult *store_exec(struct store *s, const char *sql, const struct params *p,
                            ExecStatusType want, char *err, size_t errlen)
{
    store_heal(s);
    bool idle = PQtransactionStatus(s->conn) == PQTRANS_IDLE;
    int n = p ? p->n : 0;
    const char *const *v = p ? p->v : NULL;
    const int *len = p && p->binary ? p->len : NULL;
    const int *fmt = p && p->binary ? p->fmt : NULL;
    PGresult *res = PQexecParams(s->conn, sql, n, NULL, v, len, fmt, 0);
    if (res != NULL && PQresultStatus(res) == want)
        return res;
    /* The server went away between statements (e.g. it restarted): outside a
     * transaction nothing is lost by reconnecting and trying once more. */
    if (idle && connection_lost(s->conn, res)) {
        PQclear(res);
        PQreset(s->conn);
        s->run_in_oid = 0;
        res = PQexecParams(s->conn, sql, n, NULL, v, len, fmt, 0);
        if (res != NULL && PQresultStatus(res) == want)
            return res;
    }
    char buf[512];
    set_err(
        err, errlen, "database error: %s",
        pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), buf, sizeof(buf)));
    PQclear(res);
    return NULL;
}

/* Run a statement that returns no rows. Returns 0 or -EIO. */
static int store_cmd(struct store *s, const char *sql, const struct params *p, char *err,
                     size_t errlen)
{
    PGresult *res = store_exec(s, sql, p, PGRES_COMMAND_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    PQclear(res);
    return 0;
}

static void store_rollback(struct store *s)
{
    PGresult *res = PQexecParams(s->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
    PQclear(res);
}

/* The store of conn (steals it), or NULL with err when it did not connect. */
static struct store *store_of_conn(PGconn *conn, char *err, size_t errlen)
{
    if (conn == NULL) {
        set_err(err, errlen, "could not allocate a database connection");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char buf[512];
        set_err(err, errlen, "could not connect to the database: %s",
                pg_message(PQerrorMessage(conn), buf, sizeof(buf)));
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, store_notice, NULL);
    struct store *s = xcalloc(1, sizeof(*s));
    s->conn = conn;
    return s;
}

struct store *store_open(const char *conninfo, char *err, size_t errlen)
{
    return store_of_conn(PQconnectdb(conninfo ? conninfo : ""), err, errlen);
}

struct store *store_open_readonly(const char *conninfo, uint32_t statement_timeout_ms, char *err,
                                  size_t errlen)
{
    /* conninfo expanded as dbname, then options: the session settings survive PQreset */
    char options[128];
    snprintf(options, sizeof(options),
             "-c default_transaction_read_only=on -c statement_timeout=%" PRIu32,
             statement_timeout_ms);
    const char *const keys[] = {"dbname", "options", "application_name", NULL};
    const char *const values[] = {conninfo ? conninfo : "", options, "pyscope-web", NULL};
    return store_of_conn(PQconnectdbParams(keys, values, 1), err, errlen);
}

void store_close(struct store **s)
{
    if (s == NULL || *s == NULL)
        return;
    PQfinish((*s)->conn);
    fcache_clear(&(*s)->fcache);
    free(*s);
    *s = NULL;
}

/* Read a SHOW setting into buf. */
static int store_show(struct store *s, const char *sql, char *buf, size_t len, char *err,
                      size_t errlen)
{
    PGresult *res = store_exec(s, sql, NULL, PGRES_TUPLES_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    snprintf(buf, len, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

int store_check_durability(struct store *s, char *err, size_t errlen)
{
    char v[64];
    if (store_show(s, "SHOW fsync", v, sizeof(v), err, errlen) < 0)
        return -EIO;
    if (strcmp(v, "on") != 0) {
        set_err(err, errlen,
                "the database runs with fsync = %s: results would not survive a "
                "crash; set fsync = on",
                v);
        return -EPERM;
    }
    if (store_show(s, "SHOW synchronous_commit", v, sizeof(v), err, errlen) < 0)
        return -EIO;
    if (strcmp(v, "off") == 0) {
        set_err(err, errlen,
                "the database runs with synchronous_commit = off: an acked result "
                "could be lost; set synchronous_commit = on");
        return -EPERM;
    }
    return 0;
}

int store_migrate(struct store *s, const struct store_migration *m, size_t n, char *err,
                  size_t errlen)
{
    int applied = 0;
    if (store_cmd(s, "BEGIN", NULL, err, errlen) < 0)
        return -EIO;
    PGresult *res = store_exec(s, "SELECT pg_advisory_xact_lock(" STORE_MIGRATION_LOCK ")", NULL,
                               PGRES_TUPLES_OK, err, errlen);
    if (res == NULL)
        goto fail;
    PQclear(res);
    if (store_cmd(s,
                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                  " version integer PRIMARY KEY, name text NOT NULL,"
                  " applied_at timestamptz NOT NULL DEFAULT now())",
                  NULL, err, errlen) < 0)
        goto fail;
    res = store_exec(s, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL,
                     PGRES_TUPLES_OK, err, errlen);
    if (res == NULL)
        goto fail;
    int current = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    int newest = 0;
    for (size_t i = 0; i < n; i++)
        newest = m[i].version > newest ? m[i].version : newest;
    if (current > newest) {
        set_err(err, errlen,
                "the database schema is at migration %d, newer than this coordinator knows (%d): "
                "upgrade the coordinator",
                current, newest);
        store_rollback(s);
        return -ENOTSUP;
    }
    for (size_t i = 0; i < n; i++) {
        if (m[i].version <= current)
            continue;
        /* A migration file holds several statements: the simple query protocol. */
        res = PQexec(s->conn, m[i].sql);
        if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
            char buf[512];
            set_err(err, errlen, "migration \"%s\" failed: %s", m[i].name,
                    pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), buf,
                               sizeof(buf)));
            PQclear(res);
            goto fail;
        }
        PQclear(res);
        struct params p = {0};
        p_fmt(&p, "%d", m[i].version);
        p_str(&p, m[i].name);
        int rc = store_cmd(s, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &p,
                           err, errlen);
        p_release(&p);
        if (rc < 0)
            goto fail;
        applied++;
    }
    if (store_cmd(s, "COMMIT", NULL, err, errlen) < 0)
        return -EIO;
    return applied;
fail:
    store_rollback(s);
    return -EIO;
}

/* {"key": "value", ...} of labels, as new JSON text. */
static char *labels_json(size_t n, const struct wire_label *labels)
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
static char *strings_json(size_t n, const char *const *v)
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

static long long clamp_i64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (long long)v;
}

/* ---- identity: hosts by granted name and fingerprint (schema/007) ---- */

/* The host row of host_name and h's fingerprint, inserted or refreshed; its id in *host_id. */
static int store_upsert_host(struct store *s, const struct wire_host *host, const char *host_name,
                             bool live, int64_t *host_id, char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, host->fingerprint);
    p_str(&p, host_name);
    p_str(&p, host->cpu_model);
    p_fmt(&p, "%" PRIu32, host->cores);
    p_fmt(&p, "%lld", clamp_i64(host->mem_bytes));
    p_str(&p, host->os);
    p_str(&p, host->kernel);
    p_str(&p, host->arch);
    p_str(&p, host->governor);
    p_fmt(&p, "%.17g", host->load1);
    p_own(&p, labels_json(host->n_labels, host->labels));
    p_str(&p, host->hostname);
    p_str(&p, live ? "t" : "f");
    PGresult *res = store_exec(
        s,
        "INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch,"
        " governor, load1, labels, reported_hostname)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)"
        " ON CONFLICT (hostname, fingerprint) DO UPDATE SET"
        " reported_hostname = EXCLUDED.reported_hostname,"
        " cpu_model = EXCLUDED.cpu_model, cores = EXCLUDED.cores, mem_bytes = EXCLUDED.mem_bytes,"
        " os = EXCLUDED.os, kernel = EXCLUDED.kernel, arch = EXCLUDED.arch,"
        " governor = EXCLUDED.governor, load1 = EXCLUDED.load1, labels = EXCLUDED.labels,"
        " superseded_by = NULL,"
        " last_seen = CASE WHEN $13::boolean THEN now() ELSE hosts.last_seen END,"
        " offline_since = CASE WHEN $13::boolean THEN NULL ELSE hosts.offline_since END"
        " RETURNING id",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    *host_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/*
 * host_name now has fingerprint host_id: its other current rows (an older
 * fingerprint) are superseded by it, their queued jobs move to it, and each
 * change is a host_events row and a warning (the series split: a new
 * fingerprint is new hardware or a new system). Then note, at info level,
 * other hosts that report the same fingerprint: they stay apart.
 */
static int store_host_drift(struct store *s, const char *host_name, int64_t host_id,
                            const char *agent, const char *fingerprint, char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, host_name);
    p_fmt(&p, "%" PRId64, host_id);
    p_str(&p, agent);
    p_str(&p, fingerprint);
    PGresult *res = store_exec(
        s,
        "WITH old AS (UPDATE hosts SET superseded_by = $2::bigint WHERE hostname = $1"
        "  AND id <> $2::bigint AND superseded_by IS NULL RETURNING id, fingerprint),"
        " moved AS (UPDATE jobs j SET host_id = $2::bigint, updated = now() FROM old"
        "  WHERE j.host_id = old.id AND j.state = 'queued' RETURNING j.id)"
        " INSERT INTO host_events (hostname, agent, kind, old_host_id, new_host_id,"
        " old_fingerprint, new_fingerprint)"
        " SELECT $1, $3, 'fingerprint_changed', old.id, $2::bigint, old.fingerprint, $4 FROM old"
        " RETURNING old_fingerprint, (SELECT count(*) FROM moved)",
        &p, PGRES_TUPLES_OK, err, errlen);
    if (res == NULL) {
        p_release(&p);
        return -EIO;
    }
    for (int i = 0; i < PQntuples(res); i++)
        log_warn("host \"%s\" (agent \"%s\") reports fingerprint %s instead of %s: recorded as "
                 "a change of hardware or system; its series start again (%s queued jobs moved)",
                 host_name, agent, fingerprint, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    p_release(&p);
    p_str(&p, host_name);
    p_str(&p, fingerprint);
    res = store_exec(s,
                     "SELECT string_agg(hostname, ', ' ORDER BY hostname) FROM hosts"
                     " WHERE fingerprint = $2 AND hostname <> $1 AND superseded_by IS NULL",
                     &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    if (!PQgetisnull(res, 0, 0))
        log_info("agent \"%s\" (host \"%s\") reports fingerprint %s, as host(s) %s do: kept "
                 "apart, each host has its own series",
                 agent, host_name, fingerprint, PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* One wire Python as a JSON object (schema/022_pythons.sql). */
static json_t *python_json(const struct wire_python *py)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "version", py->version ? py->version : "",
                     "build", py->build ? py->build : "", "executable",
                     py->executable ? py->executable : "", "implementation",
                     py->implementation ? py->implementation : "", "abiflags",
                     py->abiflags ? py->abiflags : "");
}

/* The agent's Pythons (agents.pythons) as new JSON text: Hello.pythons, or
 * its one python from an agent from before them. */
static char *pythons_json(const struct wire_hello *h)
{
    json_t *a = json_array();
    for (size_t i = 0; i < h->n_pythons; i++)
        json_array_append_new(a, python_json(&h->pythons[i]));
    if (h->n_pythons == 0)
        json_array_append_new(a, python_json(&h->python));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (text == NULL)
        abort();
    return text;
}

/* The agents row of h (borrowed) on host_id. */
static int store_upsert_agent(struct store *s, const struct wire_hello *h, int64_t host_id,
                              char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, h->name);
    p_fmt(&p, "%" PRId64, host_id);
    p_str(&p, h->agent_version);
    p_str(&p, h->python.version);
    p_str(&p, h->python.build);
    p_str(&p, h->python.executable);
    p_fmt(&p, "%" PRIu32, h->max_jobs);
    p_str(&p, h->host.machine_id ? h->host.machine_id : "");
    p_own(&p, pythons_json(h));
    int rc = store_cmd(s,
                       "INSERT INTO agents (name, host_id, agent_version, python_version,"
                       " python_build, python_executable, max_jobs, machine, pythons)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)"
                       " ON CONFLICT (name) DO UPDATE SET host_id = EXCLUDED.host_id,"
                       " agent_version = EXCLUDED.agent_version,"
                       " python_version = EXCLUDED.python_version,"
                       " python_build = EXCLUDED.python_build,"
                       " python_executable = EXCLUDED.python_executable,"
                       " max_jobs = EXCLUDED.max_jobs, machine = EXCLUDED.machine,"
                       " pythons = EXCLUDED.pythons, last_seen = now()",
                       &p, err, errlen);
    p_release(&p);
    return rc;
}

int store_register(struct store *s, const struct wire_hello *h, const char *host_name, bool live,
                   int64_t *host_id, char *err, size_t errlen)
{
    if (host_name == NULL)
        host_name = h->host.hostname; /* no CURVE: nothing better to trust */
    if (store_cmd(s, "BEGIN", NULL, err, errlen) < 0)
        return -EIO;
    if (store_upsert_host(s, &h->host, host_name, live, host_id, err, errlen) < 0 ||
        store_host_drift(s, host_name, *host_id, h->name, h->host.fingerprint, err, errlen) < 0 ||
        store_upsert_agent(s, h, *host_id, err, errlen) < 0) {
        store_rollback(s);
        return -EIO;
    }
    if (store_cmd(s, "COMMIT", NULL, err, errlen) < 0)
        return -EIO;
    return 0;
}

/* Parse a text[] value ("{a,\"b c\"}") is avoided: jobs return args as JSON. */
static const char **args_from_json(const char *text, json_t **holder, size_t *n)
{
    *n = 0;
    *holder = json_loads(text, 0, NULL);
    if (*holder == NULL || !json_is_array(*holder))
        return NULL;
    size_t count = json_array_size(*holder);
    const char **v = xcalloc(count ? count : 1, sizeof(*v));
    for (size_t i = 0; i < count; i++) {
        const char *a = json_string_value(json_array_get(*holder, i));
        v[i] = a ? a : "";
    }
    *n = count;
    return v;
}

/*
 * Claim jobs for many agents in one statement. $1, $2, $3: each agent's host,
 * name and credit, in the caller's order; $4: the lease in ms; $5: whether
 * agents of one machine may run jobs at the same time.
 *
 * Machines (e): agents that report the same machine (agents.machine: the
 * label "machine", else the kernel's boot id) share CPUs, and one's timings
 * would disturb the other's. Unless $5, an agent claims nothing while
 * another agent of its machine holds a lease, and of the agents of one
 * machine asking at once only the first (by ord) whose host has a job to
 * hand out (avail) claims.
 *
 * Order (gate, q): a host's queue is served by batch, then job id; and a job
 * of a later batch of a suite waits while an earlier batch of that suite
 * still has a queued or leased job on the host, or is done but not yet
 * analysed (its analysis may queue confirmation jobs there: they run before
 * the next night's).
 *
 * Each host's queue is locked once for the sum of its agents' credit (SKIP
 * LOCKED: the rows another transaction holds are passed over), then its jobs
 * are dealt out in order: the first agent of the host gets the first max
 * jobs, the next the next ones. A statement's own row locks do not make SKIP
 * LOCKED skip, so two agents of one host must share one locking scan like
 * this. Each row names its agent by ord (1-based).
 *
 * Pythons (schema/022_pythons.sql): a job that asks for a Python is handed
 * out only while an agent of its host that reports a matching one is asking
 * (the agents of one host share its queue: with several agents of different
 * Pythons on one host, the one that gets it refuses it if it lacks it).
 */
static const char CLAIM_SQL[] =
    "WITH c0 AS (SELECT c.*, coalesce(a.machine, '') AS machine"
    "  FROM unnest($1::bigint[], $2::text[], $3::int[]) WITH ORDINALITY AS c(host_id, owner, max,"
    "  ord) LEFT JOIN agents a ON a.name = c.owner),"
    " hs AS (SELECT DISTINCT host_id FROM c0),"
    " ob AS (SELECT j.host_id, j.batch_id FROM hs JOIN jobs j ON j.host_id = hs.host_id"
    "   AND j.state IN ('queued', 'leased')"
    "  UNION SELECT hs.host_id, b.id FROM hs, batches b WHERE b.state = 'done'"
    "   AND b.analyzed IS NULL AND EXISTS (SELECT 1 FROM jobs y WHERE y.batch_id = b.id"
    "   AND y.host_id = hs.host_id)),"
    " gate AS (SELECT DISTINCT ON (ob.host_id, b.suite) ob.host_id, ob.batch_id FROM ob"
    "  JOIN batches b ON b.id = ob.batch_id ORDER BY ob.host_id, b.suite, ob.batch_id),"
    " avail AS (SELECT DISTINCT g.host_id FROM gate g WHERE EXISTS (SELECT 1 FROM jobs y"
    "  WHERE y.host_id = g.host_id AND y.batch_id = g.batch_id AND y.state = 'queued')),"
    " busy AS (SELECT DISTINCT a.machine, l.lease_owner FROM jobs l"
    "  JOIN agents a ON a.name = l.lease_owner WHERE l.state = 'leased' AND a.machine <> ''),"
    " e AS (SELECT x.host_id, x.owner, x.max, x.ord FROM (SELECT c0.*, row_number() OVER"
    "   (PARTITION BY c0.machine ORDER BY c0.ord) AS mr FROM c0"
    "   WHERE c0.host_id IN (SELECT host_id FROM avail) AND ($5::boolean OR c0.machine = ''"
    "   OR NOT EXISTS (SELECT 1 FROM busy b WHERE b.machine = c0.machine"
    "   AND b.lease_owner <> c0.owner))) x WHERE $5::boolean OR x.machine = '' OR x.mr = 1),"
    " c AS (SELECT e.*, sum(e.max) OVER (PARTITION BY e.host_id ORDER BY e.ord) - e.max AS lo"
    "  FROM e),"
    " h AS (SELECT host_id, sum(max) AS n FROM c GROUP BY host_id),"
    " q AS (SELECT q.id, q.host_id, row_number() OVER (PARTITION BY q.host_id"
    "   ORDER BY q.batch_id, q.id) AS rn"
    "  FROM h, LATERAL (SELECT id, host_id, batch_id FROM jobs WHERE host_id = h.host_id"
    "   AND state = 'queued' AND batch_id IN (SELECT g.batch_id FROM gate g"
    "   WHERE g.host_id = h.host_id) AND (jobs.python = '' OR EXISTS (SELECT 1 FROM c c2"
    "   JOIN agents ag ON ag.name = c2.owner WHERE c2.host_id = h.host_id"
    "   AND pyscope_python_match(ag.pythons, jobs.python)))"
    "   ORDER BY batch_id, id LIMIT h.n FOR UPDATE SKIP LOCKED) q),"
    " a AS (SELECT q.id, c.owner, c.ord FROM q JOIN c ON c.host_id = q.host_id"
    "  AND q.rn > c.lo AND q.rn <= c.lo + c.max)"
    " UPDATE jobs j SET state = 'leased', lease_owner = a.owner, attempt = j.attempt + 1,"
    " lease_expires = least(now() + $4 * interval '1 millisecond', now() + (j.timeout_s"
    " * (j.repeat + j.warmup) + $6) * interval '1 second'), lease_deadline = now()"
    " + (j.timeout_s * (j.repeat + j.warmup) + $6) * interval '1 second', updated = now()"
    " FROM a, scripts s WHERE j.id = a.id AND s.id = j.script_id"
    " RETURNING a.ord, j.id, j.attempt, j.batch_id, s.key, array_to_json(j.args), j.repeat,"
    " j.warmup, j.mode, j.timeout_s, j.memory_limit_bytes, array_to_json(j.env),"
    " coalesce(j.commit_hash, ''), j.python";

/*
 * Hand each job row of a CLAIM_SQL result to its agent's fn, counting them in
 * c[ord - 1].claimed. Returns the total.
 */
static int claimed_jobs(PGresult *res, struct store_claim *c, size_t n)
{
    int total = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        size_t ord = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        if (ord < 1 || ord > n)
            continue;
        struct wire_job job = {0};
        job.job_id = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        job.attempt = (uint32_t)strtoul(PQgetvalue(res, i, 2), NULL, 10);
        job.batch_id = strtoull(PQgetvalue(res, i, 3), NULL, 10);
        job.script = PQgetvalue(res, i, 4);
        json_t *holder = NULL;
        const char **args = args_from_json(PQgetvalue(res, i, 5), &holder, &job.n_args);
        job.args = args;
        job.repeat = (uint32_t)strtoul(PQgetvalue(res, i, 6), NULL, 10);
        job.warmup = (uint32_t)strtoul(PQgetvalue(res, i, 7), NULL, 10);
        job.mode = strcmp(PQgetvalue(res, i, 8), "trace") == 0 ? WIRE_MODE_TRACE : WIRE_MODE_SAMPLE;
        job.timeout_s = strtod(PQgetvalue(res, i, 9), NULL);
        job.memory_limit_bytes = strtoull(PQgetvalue(res, i, 10), NULL, 10);
        json_t *env_holder = NULL;
        const char **env = args_from_json(PQgetvalue(res, i, 11), &env_holder, &job.n_env);
        job.env = env;
        job.commit = PQgetvalue(res, i, 12);
        job.python = PQgetvalue(res, i, 13);
        struct store_claim *to = &c[ord - 1];
        to->fn(&job, to->arg);
        to->claimed++;
        total++;
        free(args);
        json_decref(holder);
        free(env);
        json_decref(env_holder);
    }
    return total;
}

/* Run CLAIM_SQL for the n claims of c. Returns its result or NULL with err. */
static PGresult *claim_exec(struct store *s, const struct store_claim *c, size_t n,
                            uint32_t lease_ms, uint32_t grace_s, bool share_machines, char *err,
                            size_t errlen)
{
    struct sbuf hosts = {0}, owners = {0}, max = {0};
    sb_addf(&hosts, "{");
    sb_addf(&owners, "{");
    sb_addf(&max, "{");
    for (size_t i = 0; i < n; i++) {
        sb_addf(&hosts, "%s%" PRId64, i ? "," : "", c[i].host_id);
        sb_addf(&owners, "%s", i ? "," : "");
        sb_add_quoted(&owners, c[i].owner);
        sb_addf(&max, "%s%" PRIu32, i ? "," : "", c[i].max);
    }
    sb_addf(&hosts, "}");
    sb_addf(&owners, "}");
    sb_addf(&max, "}");
    struct params p = {0};
    p_own(&p, sb_take(&hosts));
    p_own(&p, sb_take(&owners));
    p_own(&p, sb_take(&max));
    p_fmt(&p, "%" PRIu32, lease_ms);
    p_str(&p, share_machines ? "t" : "f");
    p_fmt(&p, "%" PRIu32, grace_s);
    PGresult *res = store_exec(s, CLAIM_SQL, &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    return res;
}

int store_claim_jobs(struct store *s, struct store_claim *c, size_t n, uint32_t lease_ms,
                     uint32_t grace_s, bool share_machines, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        c[i].claimed = 0;
    if (n == 0)
        return 0;
    /* one statement: its own transaction; the jobs go out only after its commit */
    PGresult *res = claim_exec(s, c, n, lease_ms, grace_s, share_machines, err, errlen);
    if (res == NULL)
        return -EIO;
    int total = claimed_jobs(res, c, n);
    PQclear(res);
    return total;
}

int store_renew_leases(struct store *s, const char *owner, const struct wire_job_ref *refs,
                       size_t n, uint32_t lease_ms, char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, owner);
    int rc = store_cmd(s, "UPDATE agents SET last_seen = now() WHERE name = $1", &p, err, errlen);
    p_release(&p);
    if (rc < 0 || n == 0)
        return rc;
    struct sbuf ids = {0}, attempts = {0};
    sb_addf(&ids, "{");
    sb_addf(&attempts, "{");
    for (size_t i = 0; i < n; i++) {
        sb_addf(&ids, "%s%" PRIu64, i ? "," : "", refs[i].job_id);
        sb_addf(&attempts, "%s%" PRIu32, i ? "," : "", refs[i].attempt);
    }
    sb_addf(&ids, "}");
    sb_addf(&attempts, "}");
    p_str(&p, owner);
    p_fmt(&p, "%" PRIu32, lease_ms);
    p_own(&p, sb_take(&ids));
    p_own(&p, sb_take(&attempts));
    PGresult *res =
        store_exec(s,
                   "UPDATE jobs SET lease_expires = least(now() + $2 * interval '1 millisecond',"
                   " coalesce(lease_deadline, 'infinity'))"
                   " WHERE state = 'leased' AND lease_owner = $1"
                   " AND (id, attempt) IN"
                   " (SELECT * FROM unnest($3::bigint[], $4::integer[]))",
                   &p, PGRES_COMMAND_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    int renewed = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return renewed;
}

/* Mark done the running batches of $1 (bigint[]; NULL: all) that have no open job left. */
static const char BATCH_DONE_SQL[] =
    "UPDATE batches b SET state = 'done', finished = now()"
    " WHERE b.state = 'running' AND ($1::bigint[] IS NULL OR b.id = ANY ($1)) AND NOT EXISTS"
    " (SELECT 1 FROM jobs j WHERE j.batch_id = b.id AND j.state IN ('queued', 'leased'))";

int store_reap_leases(struct store *s, char *err, size_t errlen)
{
    PGresult *res = store_exec(
        s,
        "WITH x AS (SELECT id, lease_owner, lease_deadline <= now() AS capped FROM jobs"
        "  WHERE state = 'leased' AND lease_expires < now() FOR UPDATE)"
        " UPDATE jobs j SET state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued'"
        " END, end_reason = CASE WHEN attempt >= max_attempts THEN 'lease expired' END,"
        " lease_owner = NULL, lease_expires = NULL, lease_deadline = NULL, updated = now()"
        " FROM x WHERE j.id = x.id RETURNING j.id, x.lease_owner, x.capped, j.state",
        NULL, PGRES_TUPLES_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
            log_warn("job %s: agent \"%s\" still held its lease past what the job can take"
                     " (timeout x (repeat + warmup) + lease_grace_s): lease expired, job %s",
                     PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                     strcmp(PQgetvalue(res, i, 3), "failed") == 0 ? "failed" : "queued again");
    PQclear(res);
    /* Every running batch without open jobs is done: after jobs failed here,
     * and after a race or a crash that left one behind (group_batches_done()). */
    struct params p = {0};
    p_str(&p, NULL);
    int rc = store_cmd(s, BATCH_DONE_SQL, &p, err, errlen);
    p_release(&p);
    return rc < 0 ? rc : n;
}

/* ---- liveness: hosts without a live agent (schema/007) ---- */

int store_hosts_alive(struct store *s, const int64_t *ids, size_t n, uint32_t offline_s, char *err,
                      size_t errlen)
{
    struct params p = {0};
    char *list = xstrdup("{");
    for (size_t i = 0; i < n; i++) {
        char *next = xasprintf("%s%s%" PRId64, list, i ? "," : "", ids[i]);
        free(list);
        list = next;
    }
    char *closed = xasprintf("%s}", list);
    free(list);
    p_own(&p, closed);
    p_fmt(&p, "%" PRIu32, offline_s);
    PGresult *res = store_exec(
        s,
        "WITH live AS (UPDATE hosts SET last_seen = now(), offline_since = NULL"
        "  WHERE id = ANY ($1::bigint[]) RETURNING id),"
        " dead AS (UPDATE hosts h SET offline_since = coalesce(h.offline_since, now())"
        "  WHERE h.id <> ALL ($1::bigint[])"
        "  AND h.last_seen < now() - $2::integer * interval '1 second'"
        "  AND EXISTS (SELECT 1 FROM jobs j WHERE j.host_id = h.id AND j.state = 'queued')"
        "  RETURNING h.id, h.hostname, h.last_seen),"
        " ended AS (UPDATE jobs j SET state = 'failed', end_reason = 'host offline',"
        "  updated = now() FROM dead WHERE j.host_id = dead.id AND j.state = 'queued'"
        "  RETURNING j.batch_id, dead.hostname, dead.last_seen)"
        " SELECT hostname, count(*), pyscope_ts(max(last_seen)),"
        "  array_agg(DISTINCT batch_id)::text FROM ended GROUP BY hostname ORDER BY hostname",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    int ended = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        ended += atoi(PQgetvalue(res, i, 1));
        log_warn("host \"%s\" has had no live agent since %s (over %" PRIu32
                 " s): its %s queued jobs end \"host offline\" (batches %s)",
                 PQgetvalue(res, i, 0), PQgetvalue(res, i, 2), offline_s, PQgetvalue(res, i, 1),
                 PQgetvalue(res, i, 3));
    }
    PQclear(res);
    if (ended > 0) {
        p_str(&p, NULL);
        int rc = store_cmd(s, BATCH_DONE_SQL, &p, err, errlen);
        p_release(&p);
        if (rc < 0)
            return rc;
    }
    return ended;
}

/* What the lookup of a group found for one result (store_put_results()). */
struct group_item {
    bool to_store;       /* passed the checks: goes into the group's inserts */
    const char *state;   /* the job's next state when stored */
    long long batch_id;  /* the job's, from the lookup */
    long long host_id;   /* ... */
    long long script_id; /* ... */
    char run_id[37];     /* the result's run_id as text */
    /* set when the run is stored as other than it says (a Python the job did not ask for) */
    const char *outcome;
    char *message;
};

/* Dump a JSON value (stolen) as new text (caller owns). */
static char *json_take_text(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    if (s == NULL)
        abort();
    return s;
}

/*
 * Lock the jobs of the group's n results (in job id order, so two
 * coordinators cannot deadlock) and decide each result's status the way
 * storing them one after the other would: a run_id stored before (or earlier
 * in the group) is a duplicate; a job answered earlier in the group is no
 * longer leased, so a second result for it is stale. Fills g[i] for the
 * results that pass. Returns 0 or -EIO.
 */
static int group_check(struct store *s, struct store_result_item *items, struct group_item *g,
                       size_t n, char *err, size_t errlen)
{
    struct sbuf ids = {0}, runs = {0};
    sb_addf(&ids, "{");
    sb_addf(&runs, "{");
    for (size_t i = 0; i < n; i++) {
        wire_run_id_format(items[i].result->run_id, g[i].run_id);
        sb_addf(&ids, "%s%" PRIu64, i ? "," : "", items[i].result->job_id);
        sb_addf(&runs, "%s%s", i ? "," : "", g[i].run_id);
    }
    sb_addf(&ids, "}");
    sb_addf(&runs, "}");
    struct params p = {0};
    p_own(&p, sb_take(&ids));
    p_own(&p, sb_take(&runs));
    /* One row per result, in order; a stored run_id implies its job exists (foreign key). */
    PGresult *res = store_exec(
        s,
        "WITH j AS MATERIALIZED (SELECT j.id, j.state, j.attempt,"
        " coalesce(j.lease_owner, '') AS owner, j.batch_id, j.host_id, j.script_id, s.key,"
        " j.max_attempts, j.python FROM jobs j JOIN scripts s ON s.id = j.script_id"
        " WHERE j.id = ANY ($1::bigint[]) ORDER BY j.id FOR UPDATE OF j)"
        " SELECT j.id IS NOT NULL, EXISTS (SELECT 1 FROM runs r WHERE r.run_id = i.run_id),"
        " j.state, j.attempt, j.owner, j.key, j.max_attempts, j.batch_id, j.host_id, j.script_id,"
        " coalesce(j.python, '')"
        " FROM unnest($1::bigint[], $2::uuid[]) WITH ORDINALITY AS i(job_id, run_id, ord)"
        " LEFT JOIN j ON j.id = i.job_id ORDER BY i.ord",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    if ((size_t)PQntuples(res) != n) {
        set_err(err, errlen, "database error: the job lookup returned %d rows for %zu results",
                PQntuples(res), n);
        PQclear(res);
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        const struct wire_result *r = items[i].result;
        int row = (int)i;
        g[i].to_store = false;
        bool answered = false, repeated = false;
        for (size_t k = 0; k < i; k++) {
            answered |= g[k].to_store && items[k].result->job_id == r->job_id;
            repeated |= g[k].to_store && strcmp(g[k].run_id, g[i].run_id) == 0;
        }
        uint32_t attempt = (uint32_t)strtoul(PQgetvalue(res, row, 3), NULL, 10);
        if (strcmp(PQgetvalue(res, row, 0), "t") != 0)
            items[i].status = STORE_RESULT_UNKNOWN_JOB;
        else if (repeated || strcmp(PQgetvalue(res, row, 1), "t") == 0)
            items[i].status = STORE_RESULT_DUPLICATE;
        else if (answered || strcmp(PQgetvalue(res, row, 2), "leased") != 0 ||
                 attempt != r->attempt)
            items[i].status = STORE_RESULT_STALE;
        else if (strcmp(PQgetvalue(res, row, 4), items[i].owner) != 0 ||
                 strcmp(PQgetvalue(res, row, 5), r->script_key) != 0)
            items[i].status = STORE_RESULT_FORBIDDEN;
        else
            items[i].status = STORE_RESULT_STORED;
        if (items[i].status != STORE_RESULT_STORED)
            continue;
        /* An agent-side error is retried while attempts remain; anything else ends the job. */
        uint32_t max_attempts = (uint32_t)strtoul(PQgetvalue(res, row, 6), NULL, 10);
        g[i].state = r->outcome == WIRE_OUTCOME_OK ? "done" : "failed";
        if (r->outcome == WIRE_OUTCOME_ERROR && attempt < max_attempts)
            g[i].state = "queued";
        g[i].batch_id = strtoll(PQgetvalue(res, row, 7), NULL, 10);
        g[i].host_id = strtoll(PQgetvalue(res, row, 8), NULL, 10);
        g[i].script_id = strtoll(PQgetvalue(res, row, 9), NULL, 10);
        g[i].to_store = true;
        /* A run under another Python than the job asked for (docs/pythons.md: an agent
         * that claims a Python it does not run) is kept as a refused run, saying so: it
         * joins no series, and the job fails rather than be measured elsewhere. */
        const char *asked = PQgetvalue(res, row, 10);
        if (*asked && r->outcome == WIRE_OUTCOME_OK &&
            !pyreq_match(asked, r->python.version, r->python.executable, NULL)) {
            g[i].outcome = "refused";
            g[i].state = "failed";
            g[i].message = xasprintf("the job asked for Python %s but ran under %s (%s): not "
                                     "measured as that Python",
                                     asked, *r->python.version ? r->python.version : "unknown",
                                     *r->python.executable ? r->python.executable : "?");
            log_warn("job %" PRIu64 ": agent \"%s\" ran it under Python %s, not the %s it "
                     "asked for: stored as refused",
                     r->job_id, items[i].owner, r->python.version, asked);
        }
    }
    PQclear(res);
    return 0;
}

/* ---- a group of results in binary (store_put_results()) ---------------------- */

/* Type OIDs of PostgreSQL's built-in types (pg_type.dat; stable across versions). */
enum {
    OID_BOOL = 16,
    OID_INT8 = 20,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_JSON = 114,
    OID_FLOAT8 = 701,
    OID_UUID = 2950,
    OID_BOOL_ARRAY = 1000,
    OID_INT4_ARRAY = 1007,
    OID_INT8_ARRAY = 1016,
    OID_FLOAT8_ARRAY = 1022,
};

/* A growing byte buffer in PostgreSQL's binary format (network byte order). */
struct bbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
};

static uint8_t *bb_room(struct bbuf *b, size_t n)
{
    if (b->cap - b->len < n) {
        b->cap = b->cap * 2 + n + 256;
        b->p = xrealloc(b->p, b->cap);
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

static void bb_u32(struct bbuf *b, uint32_t v)
{
    uint8_t *at = bb_room(b, 4);
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void bb_u64(struct bbuf *b, uint64_t v)
{
    uint8_t *at = bb_room(b, 8);
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(v >> (56 - 8 * i));
}

static void bb_f64(struct bbuf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    bb_u64(b, u);
}

/* Patch the 4-byte length at offset at with the bytes written since (at + 4). */
static void bb_patch_len(struct bbuf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at - 4);
    for (int i = 0; i < 4; i++)
        b->p[at + (size_t)i] = (uint8_t)(n >> (24 - 8 * i));
}

/* Start a field of a record: its type and a length patched by field_end(). */
static size_t field_begin(struct bbuf *b, uint32_t oid)
{
    bb_u32(b, oid);
    size_t at = b->len;
    bb_u32(b, 0);
    return at;
}

static void field_null(struct bbuf *b, uint32_t oid)
{
    bb_u32(b, oid);
    bb_u32(b, UINT32_MAX); /* -1: NULL */
}

static void field_end(struct bbuf *b, size_t at)
{
    bb_patch_len(b, at);
}

static void field_i32(struct bbuf *b, int32_t v)
{
    bb_u32(b, OID_INT4);
    bb_u32(b, 4);
    bb_u32(b, (uint32_t)v);
}

static void field_i64(struct bbuf *b, int64_t v)
{
    bb_u32(b, OID_INT8);
    bb_u32(b, 8);
    bb_u64(b, (uint64_t)v);
}

static void field_f64(struct bbuf *b, double v)
{
    bb_u32(b, OID_FLOAT8);
    bb_u32(b, 8);
    bb_f64(b, v);
}

/* A text field; NULL s is SQL NULL. */
static void field_text(struct bbuf *b, uint32_t oid, const char *s)
{
    if (s == NULL) {
        field_null(b, oid);
        return;
    }
    size_t n = strlen(s);
    bb_u32(b, oid);
    bb_u32(b, (uint32_t)n);
    memcpy(bb_room(b, n), s, n);
}

/* The header of a one-dimensional array of n elements of type elem. */
static void array_head(struct bbuf *b, uint32_t elem, size_t n)
{
    bb_u32(b, n ? 1 : 0); /* ndim: an empty array has none */
    bb_u32(b, 0);         /* has nulls: not used by the server */
    bb_u32(b, elem);
    if (n) {
        bb_u32(b, (uint32_t)n);
        bb_u32(b, 1); /* lower bound */
    }
}

/* Which value of a measurement array_measure() writes. */
enum measure_field {
    M_WALL,
    M_CPU,
    M_RSS,
    M_EXIT,
    M_SIGNAL,
    M_TIMEOUT,
    /* contention (schema/010_contention.sql): NULL elements when unknown */
    M_DELAY,
    M_CTX_VOL,
    M_CTX_INVOL,
    M_STEAL,
    M_PRESSURE,
    M_LOAD,
    M_MHZ,
    /* the machine-speed reference (schema/026_machine_speed.sql) */
    M_REF,
};

/* A contention field of m: whether it is known, and its value. */
static bool measure_opt(const struct wire_measurement *m, enum measure_field f, double *v)
{
    switch (f) {
    case M_DELAY:
        *v = m->run_delay_s;
        return m->has_run_delay;
    case M_CTX_VOL:
        *v = (double)m->ctx_voluntary;
        return m->has_ctx;
    case M_CTX_INVOL:
        *v = (double)m->ctx_involuntary;
        return m->has_ctx;
    case M_STEAL:
        *v = m->steal_s;
        return m->has_steal;
    case M_PRESSURE:
        *v = m->cpu_pressure_s;
        return m->has_cpu_pressure;
    case M_LOAD:
        *v = m->load1;
        return m->has_load1;
    case M_MHZ:
        *v = m->cpu_mhz;
        return m->has_cpu_mhz;
    case M_REF:
        *v = m->ref_cpu_ns;
        return m->has_ref;
    default:
        return false;
    }
}

/* A field holding one array of r's measurements (one element per repeat). */
static void field_measure(struct bbuf *b, const struct wire_result *r, enum measure_field f)
{
    static const uint32_t elem[] = {OID_FLOAT8, OID_FLOAT8, OID_INT8,   OID_INT4,  OID_INT4,
                                    OID_BOOL,   OID_FLOAT8, OID_INT8,   OID_INT8,  OID_FLOAT8,
                                    OID_FLOAT8, OID_FLOAT8, OID_FLOAT8, OID_FLOAT8};
    static const uint32_t arr[] = {
        OID_FLOAT8_ARRAY, OID_FLOAT8_ARRAY, OID_INT8_ARRAY,   OID_INT4_ARRAY,  OID_INT4_ARRAY,
        OID_BOOL_ARRAY,   OID_FLOAT8_ARRAY, OID_INT8_ARRAY,   OID_INT8_ARRAY,  OID_FLOAT8_ARRAY,
        OID_FLOAT8_ARRAY, OID_FLOAT8_ARRAY, OID_FLOAT8_ARRAY, OID_FLOAT8_ARRAY};
    size_t at = field_begin(b, arr[f]);
    array_head(b, elem[f], r->n_runs);
    for (size_t i = 0; i < r->n_runs; i++) {
        const struct wire_measurement *m = &r->runs[i];
        switch (f) {
        case M_WALL:
            bb_u32(b, 8), bb_f64(b, m->wall_s);
            break;
        case M_CPU:
            bb_u32(b, 8), bb_f64(b, m->cpu_s);
            break;
        case M_RSS:
            bb_u32(b, 8), bb_u64(b, (uint64_t)clamp_i64(m->peak_rss_bytes));
            break;
        case M_EXIT:
            bb_u32(b, 4), bb_u32(b, (uint32_t)m->exit_code);
            break;
        case M_SIGNAL:
            bb_u32(b, 4), bb_u32(b, (uint32_t)m->signal);
            break;
        case M_TIMEOUT:
            bb_u32(b, 1), *bb_room(b, 1) = m->timed_out ? 1 : 0;
            break;
        default: {
            double v;
            if (!measure_opt(m, f, &v))
                bb_u32(b, UINT32_MAX); /* NULL element: not measured */
            else if (elem[f] == OID_INT8)
                bb_u32(b, 8), bb_u64(b, (uint64_t)clamp_i64((uint64_t)v));
            else
                bb_u32(b, 8), bb_f64(b, v);
            break;
        }
        }
    }
    field_end(b, at);
}

/* The median of r's measurement f (wall, cpu or rss), or NULL without repeats. */
static void field_median(struct bbuf *b, const struct wire_result *r, enum measure_field f)
{
    if (r->n_runs == 0) {
        field_null(b, OID_FLOAT8);
        return;
    }
    double *x = xcalloc(r->n_runs, sizeof(*x));
    for (size_t i = 0; i < r->n_runs; i++)
        x[i] = f == M_WALL  ? r->runs[i].wall_s
               : f == M_CPU ? r->runs[i].cpu_s
                            : (double)r->runs[i].peak_rss_bytes;
    double med = 0;
    int rc = stats_median(x, r->n_runs, &med);
    free(x);
    if (rc < 0)
        field_null(b, OID_FLOAT8);
    else
        field_f64(b, med);
}

/* Which per-function value field_functions() writes. */
enum fn_field { F_ID, F_CALLS, F_SELF, F_TOTAL, F_SELF_CPU };

static void field_functions(struct bbuf *b, const struct wire_result *r, const int64_t *ids,
                            enum fn_field f)
{
    bool ints = f == F_ID || f == F_CALLS;
    size_t at = field_begin(b, ints ? OID_INT8_ARRAY : OID_FLOAT8_ARRAY);
    array_head(b, ints ? OID_INT8 : OID_FLOAT8, r->n_functions);
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        if (f == F_SELF_CPU && !fn->has_self_cpu_s) {
            bb_u32(b, UINT32_MAX); /* NULL element: not measured (trace mode) */
            continue;
        }
        bb_u32(b, 8);
        if (f == F_SELF_CPU)
            bb_f64(b, fn->self_cpu_s);
        else if (f == F_ID)
            bb_u64(b, (uint64_t)ids[i]);
        else if (f == F_CALLS)
            bb_u64(b, (uint64_t)clamp_i64(fn->calls));
        else
            bb_f64(b, f == F_SELF ? fn->self_s : fn->total_s);
    }
    field_end(b, at);
}

/* The per-repeat self (or total) times of r's functions as a 2-D array
 * [function][repeat], NULL-padded to the longest; '{}' when none has any. */
static void field_function_runs(struct bbuf *b, const struct wire_result *r, bool self)
{
    size_t width = 0;
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        size_t n = self ? fn->n_self_s_runs : fn->n_total_s_runs;
        width = n > width ? n : width;
    }
    size_t at = field_begin(b, OID_FLOAT8_ARRAY);
    if (width == 0) {
        array_head(b, OID_FLOAT8, 0);
        field_end(b, at);
        return;
    }
    bb_u32(b, 2);
    bb_u32(b, 1);
    bb_u32(b, OID_FLOAT8);
    bb_u32(b, (uint32_t)r->n_functions);
    bb_u32(b, 1);
    bb_u32(b, (uint32_t)width);
    bb_u32(b, 1);
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        size_t n = self ? fn->n_self_s_runs : fn->n_total_s_runs;
        const double *v = self ? fn->self_s_runs : fn->total_s_runs;
        for (size_t k = 0; k < width; k++) {
            if (k < n) {
                bb_u32(b, 8);
                bb_f64(b, v[k]);
            } else {
                bb_u32(b, UINT32_MAX);
            }
        }
    }
    field_end(b, at);
}

/* The collapsed stacks of r as json [{"thread", "frames", "samples"}], or NULL. */
static void field_stacks(struct bbuf *b, const struct wire_result *r)
{
    if (r->n_stacks == 0) {
        field_null(b, OID_JSON);
        return;
    }
    json_t *stacks = json_array();
    for (size_t i = 0; i < r->n_stacks; i++) {
        const struct wire_stack *st = &r->stacks[i];
        json_t *frames = json_array();
        for (size_t k = 0; k < st->n_frames; k++)
            json_array_append_new(frames, json_integer(st->frames[k]));
        json_array_append_new(stacks, json_pack("{s:s, s:o, s:f}", "thread", st->thread, "frames",
                                                frames, "samples", st->samples));
    }
    char *text = json_take_text(stacks);
    field_text(b, OID_JSON, text);
    free(text);
}

#define RUN_IN_FIELDS 43

/* Append item i as one run_in record (schema/003_compact_runs.sql, then the fields
 * schema/010_contention.sql and 026_machine_speed.sql append; same order). */
static void run_in_add(struct bbuf *b, const struct store_result_item *item,
                       const struct group_item *g, size_t i, const int64_t *fn_ids)
{
    const struct wire_result *r = item->result;
    size_t at = b->len;
    bb_u32(b, 0); /* the element's length, patched below */
    bb_u32(b, RUN_IN_FIELDS);
    field_i32(b, (int32_t)i);
    bb_u32(b, OID_UUID);
    bb_u32(b, WIRE_RUN_ID_LEN);
    memcpy(bb_room(b, WIRE_RUN_ID_LEN), r->run_id, WIRE_RUN_ID_LEN);
    field_i64(b, clamp_i64(r->job_id));
    field_i32(b, (int32_t)r->attempt);
    field_i64(b, g->batch_id);
    field_i64(b, g->host_id);
    field_i64(b, g->script_id);
    field_text(b, OID_TEXT, item->owner);
    field_text(b, OID_TEXT, r->script_sha256 ? r->script_sha256 : "");
    field_text(b, OID_TEXT, r->python.version ? r->python.version : "");
    field_text(b, OID_TEXT, r->python.build ? r->python.build : "");
    field_text(b, OID_TEXT, r->python.executable ? r->python.executable : "");
    field_text(b, OID_TEXT, g->outcome ? g->outcome : wire_outcome_name(r->outcome));
    field_text(b, OID_TEXT, g->message ? g->message : r->message ? r->message : "");
    field_text(b, OID_TEXT, r->host.governor ? r->host.governor : "");
    field_f64(b, r->host.load1);
    field_measure(b, r, M_WALL);
    field_measure(b, r, M_CPU);
    field_measure(b, r, M_RSS);
    field_measure(b, r, M_EXIT);
    field_measure(b, r, M_SIGNAL);
    field_measure(b, r, M_TIMEOUT);
    field_text(b, OID_TEXT, r->started_at && r->started_at[0] ? r->started_at : NULL);
    field_median(b, r, M_WALL);
    field_median(b, r, M_CPU);
    field_median(b, r, M_RSS);
    field_functions(b, r, fn_ids, F_ID);
    field_functions(b, r, fn_ids, F_CALLS);
    field_functions(b, r, fn_ids, F_SELF);
    field_functions(b, r, fn_ids, F_TOTAL);
    field_function_runs(b, r, true);
    field_function_runs(b, r, false);
    field_stacks(b, r);
    field_text(b, OID_TEXT, g->state);
    for (enum measure_field f = M_DELAY; f <= M_MHZ; f++)
        field_measure(b, r, f);
    field_functions(b, r, fn_ids, F_SELF_CPU);
    field_measure(b, r, M_REF);
    bb_patch_len(b, at);
}

/* ---- function keys: ids cached in memory ---------------------------------- */

#define FCACHE_MAX 65536u /* entries; when full the cache starts over */

static uint64_t fcache_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void fcache_clear(struct fcache *c)
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
static int64_t fcache_get(const struct fcache *c, const char *key)
{
    if (c->cap == 0)
        return 0;
    size_t i = fcache_slot(c, key);
    return c->keys[i] ? c->ids[i] : 0;
}

static void fcache_put(struct fcache *c, const char *key, int64_t id)
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

/*
 * Make sure every function key of the results to store has an id in the
 * cache: the keys not cached are inserted (ON CONFLICT DO NOTHING) and read
 * back in one statement, repeated while a key inserted meanwhile by another
 * coordinator is not yet visible. Returns 0 or -EIO. Ids are put in the cache
 * at once; group_put() clears it when the transaction does not commit.
 */
static int group_function_ids(struct store *s, const struct store_result_item *items,
                              const struct group_item *g, size_t n, char *err, size_t errlen)
{
    for (int round = 0; round < 3; round++) {
        struct sbuf keys = {0};
        size_t missing = 0;
        for (size_t i = 0; i < n; i++) {
            const struct wire_result *r = items[i].result;
            for (size_t k = 0; g[i].to_store && k < r->n_functions; k++) {
                if (fcache_get(&s->fcache, r->functions[k].key))
                    continue;
                sb_addf(&keys, "%s", missing++ ? "," : "{");
                sb_add_quoted(&keys, r->functions[k].key);
            }
        }
        if (missing == 0) {
            free(keys.p);
            return 0;
        }
        sb_addf(&keys, "}");
        struct params p = {0};
        p_own(&p, sb_take(&keys));
        PGresult *res =
            store_exec(s,
                       "WITH k AS (SELECT DISTINCT unnest($1::text[]) AS key),"
                       " ins AS (INSERT INTO functions (key) SELECT key FROM k"
                       "  WHERE NOT EXISTS (SELECT 1 FROM functions f WHERE f.key = k.key)"
                       "  ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING id, key)"
                       " SELECT id, key FROM ins UNION ALL SELECT f.id, f.key FROM functions f "
                       "JOIN k USING (key)",
                       &p, PGRES_TUPLES_OK, err, errlen);
        p_release(&p);
        if (res == NULL)
            return -EIO;
        for (int row = 0; row < PQntuples(res); row++)
            fcache_put(&s->fcache, PQgetvalue(res, row, 1),
                       strtoll(PQgetvalue(res, row, 0), NULL, 10));
        PQclear(res);
    }
    set_err(err, errlen, "database error: function keys not visible after inserting them");
    return -EIO;
}

/* The OID of type run_in (looked up once per connection). Returns 0 or -EIO. */
static int run_in_oid(struct store *s, uint32_t *oid, char *err, size_t errlen)
{
    if (s->run_in_oid == 0) {
        PGresult *res =
            store_exec(s, "SELECT 'run_in'::regtype::oid", NULL, PGRES_TUPLES_OK, err, errlen);
        if (res == NULL)
            return -EIO;
        s->run_in_oid = (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    *oid = s->run_in_oid;
    return 0;
}

/*
 * Insert, for the results that passed group_check(), their runs rows (with
 * hotspots and stacks) and move their jobs on, in one statement
 * whose one parameter is the group as a binary run_in[] array. A run_id
 * another coordinator stored meanwhile is not inserted (ON CONFLICT): that
 * result becomes a duplicate and its job is left alone. Returns 0 or -EIO.
 */
static int group_insert(struct store *s, struct store_result_item *items,
                        const struct group_item *g, size_t n, char *err, size_t errlen)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += g[i].to_store;
    if (count == 0)
        return 0;
    uint32_t oid;
    if (group_function_ids(s, items, g, n, err, errlen) < 0 || run_in_oid(s, &oid, err, errlen) < 0)
        return -EIO;
    struct bbuf b = {0};
    array_head(&b, oid, count);
    for (size_t i = 0; i < n; i++) {
        if (!g[i].to_store)
            continue;
        const struct wire_result *r = items[i].result;
        int64_t *ids = xcalloc(r->n_functions ? r->n_functions : 1, sizeof(*ids));
        for (size_t k = 0; k < r->n_functions; k++)
            ids[k] = fcache_get(&s->fcache, r->functions[k].key);
        run_in_add(&b, &items[i], &g[i], i, ids);
        free(ids);
    }
    struct params p = {0};
    p_bin(&p, b.p, b.len);
    PGresult *res = store_exec(
        s,
        "WITH x AS MATERIALIZED (SELECT * FROM unnest($1::run_in[])),"
        " r AS (INSERT INTO runs (run_id, job_id, attempt, batch_id, host_id, script_id,"
        "  agent, script_sha256, python_version, python_build, python_executable, outcome,"
        "  message, governor, load1, wall_s, cpu_s, peak_rss_bytes, exit_codes, signals,"
        "  timed_out, started_at, wall_median, cpu_median, rss_median, fn_ids, fn_calls,"
        "  fn_self_s, fn_total_s, fn_self_runs, fn_total_runs, stacks, run_delay_s,"
        "  ctx_voluntary, ctx_involuntary, steal_s, cpu_pressure_s, load1_runs, cpu_mhz,"
        "  fn_self_cpu_s, ref_cpu_ns)"
        "  SELECT run_id, job_id, attempt, batch_id, host_id, script_id, agent, script_sha256,"
        "  python_version, python_build, python_executable, outcome, message, governor, load1,"
        "  wall_s, cpu_s, peak_rss_bytes, exit_codes, signals, timed_out,"
        "  started_at::timestamptz, wall_median, cpu_median, rss_median, fn_ids, fn_calls,"
        "  fn_self_s, fn_total_s, fn_self_runs, fn_total_runs, stacks, run_delay_s,"
        "  ctx_voluntary, ctx_involuntary, steal_s, cpu_pressure_s, load1_runs, cpu_mhz,"
        "  fn_self_cpu_s, ref_cpu_ns FROM x"
        "  ON CONFLICT (run_id) DO NOTHING RETURNING run_id),"
        " j AS (UPDATE jobs SET state = x.state, lease_owner = NULL, lease_expires = NULL,"
        "  updated = now() FROM x JOIN r USING (run_id) WHERE jobs.id = x.job_id)"
        " SELECT x.ord FROM x JOIN r USING (run_id)",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    /* Stored now unless another coordinator stored the run_id first. */
    for (size_t i = 0; i < n; i++)
        if (g[i].to_store)
            items[i].status = STORE_RESULT_DUPLICATE;
    for (int row = 0; row < PQntuples(res); row++) {
        size_t i = strtoul(PQgetvalue(res, row, 0), NULL, 10);
        if (i < n)
            items[i].status = STORE_RESULT_STORED;
    }
    PQclear(res);
    return 0;
}

/*
 * After a group's COMMIT: mark done the batches of the jobs it ended that
 * have no open job left. This is after COMMIT, not in the group's own
 * statement, which cannot see a concurrent group's (another writer's,
 * another coordinator's) uncommitted job updates: two groups ending a batch's
 * last jobs at once would each see the other's job still leased.
 * store_reap_leases() sweeps up after a crash between the two.
 */
static void group_batches_done(struct store *s, const struct store_result_item *items,
                               const struct group_item *g, size_t n)
{
    struct sbuf ids = {0};
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].status != STORE_RESULT_STORED || strcmp(g[i].state, "queued") == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = items[k].status == STORE_RESULT_STORED && g[k].batch_id == g[i].batch_id;
        if (!seen)
            sb_addf(&ids, "%s%lld", count++ ? "," : "{", g[i].batch_id);
    }
    if (count == 0) {
        free(ids.p);
        return;
    }
    sb_addf(&ids, "}");
    struct params p = {0};
    p_own(&p, sb_take(&ids));
    char err[256];
    if (store_cmd(s, BATCH_DONE_SQL, &p, err, sizeof(err)) < 0)
        log_warn("could not check whether batches %s are done (the lease reaper will): %s", p.v[0],
                 err);
    p_release(&p);
}

/* Store n results in one transaction, without a fallback; sets each status. */
static int group_put(struct store *s, struct store_result_item *items, size_t n, char *err,
                     size_t errlen)
{
    struct group_item *g = xcalloc(n, sizeof(*g));
    int rc = store_cmd(s, "BEGIN", NULL, err, errlen);
    if (rc == 0) {
        rc = group_check(s, items, g, n, err, errlen);
        if (rc == 0)
            rc = group_insert(s, items, g, n, err, errlen);
        fault_point("coord_before_commit");
        if (rc == 0)
            rc = store_cmd(s, "COMMIT", NULL, err, errlen);
        else
            store_rollback(s);
    }
    if (rc == 0)
        group_batches_done(s, items, g, n);
    /* function ids inserted by a transaction that did not commit do not exist */
    if (rc < 0)
        fcache_clear(&s->fcache);
    for (size_t i = 0; i < n; i++)
        free(g[i].message);
    free(g);
    return rc;
}

int store_put_result(struct store *s, const char *owner, const struct wire_result *r,
                     enum store_result_status *status, char *err, size_t errlen)
{
    struct store_result_item item = {owner, r, STORE_RESULT_STORED, 0};
    int rc = group_put(s, &item, 1, err, errlen);
    *status = item.status;
    return rc;
}

int store_put_results(struct store *s, struct store_result_item *items, size_t n, char *err,
                      size_t errlen)
{
    if (n == 0)
        return 0;
    int rc = group_put(s, items, n, err, errlen);
    if (rc < 0 && n > 1) {
        /* Something failed: the group was undone; give each result its own
         * transaction, so one bad result cannot hold back the others. */
        rc = 0;
        for (size_t i = 0; i < n; i++) {
            items[i].rc = group_put(s, &items[i], 1, err, errlen);
            rc = items[i].rc < 0 ? items[i].rc : rc;
        }
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        items[i].rc = rc;
    return rc;
}

/*
 * Upsert commits (schema/015_revisions.sql): $1 a JSON array of {hash,
 * parents, generation, subject, author, time}. A description fills in what
 * the row does not know yet and never changes parents. In hash order, so
 * two submits describing the same commits lock them in the same order.
 */
static const char COMMITS_PUT_SQL[] =
    "INSERT INTO commits (hash, parents, generation, subject, author, authored)"
    " SELECT DISTINCT ON (e->>'hash') e->>'hash',"
    "  ARRAY(SELECT jsonb_array_elements_text(e->'parents')),"
    "  nullif((e->>'generation')::bigint, 0), coalesce(e->>'subject', ''),"
    "  coalesce(e->>'author', ''),"
    "  CASE WHEN (e->>'time')::bigint > 0 THEN to_timestamp((e->>'time')::bigint) END"
    " FROM jsonb_array_elements($1::jsonb) AS e ORDER BY e->>'hash'"
    " ON CONFLICT (hash) DO UPDATE SET"
    "  generation = coalesce(commits.generation, EXCLUDED.generation),"
    "  subject = CASE WHEN commits.subject = '' THEN EXCLUDED.subject ELSE commits.subject END,"
    "  author = CASE WHEN commits.author = '' THEN EXCLUDED.author ELSE commits.author END,"
    "  authored = coalesce(commits.authored, EXCLUDED.authored)";

/* The n commits of v (borrowed) as COMMITS_PUT_SQL's JSON, plus extra (a
 * hash to make sure of, or NULL); new string. */
static char *commits_json(size_t n, const struct wire_commit *v, const char *extra)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *parents = json_array();
        for (size_t k = 0; k < v[i].n_parents; k++)
            json_array_append_new(parents, json_string(v[i].parents[k]));
        json_array_append_new(
            a, json_pack("{s:s, s:o, s:I, s:s, s:s, s:I}", "hash", v[i].hash, "parents", parents,
                         "generation", (json_int_t)v[i].generation, "subject",
                         v[i].subject ? v[i].subject : "", "author", v[i].author ? v[i].author : "",
                         "time", (json_int_t)v[i].time));
    }
    if (extra)
        json_array_append_new(a, json_pack("{s:s}", "hash", extra));
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

/* The scripts row of key (borrowed; threshold > 0: the suite's) into id (text, idlen). */
static int submit_script(struct store *s, const char *key, double threshold, char *id, size_t idlen,
                         char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, key);
    if (threshold > 0)
        p_fmt(&p, "%.17g", threshold);
    else
        p_str(&p, NULL);
    PGresult *res = store_exec(s,
                               "INSERT INTO scripts (key, threshold) VALUES ($1, $2)"
                               " ON CONFLICT (key) DO UPDATE SET threshold ="
                               " coalesce(EXCLUDED.threshold, scripts.threshold) RETURNING id",
                               &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    snprintf(id, idlen, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/*
 * A Python no host of the selector (all, names, labels: as submit_entry's)
 * has: the error names the Pythons the selected hosts' agents do report.
 * Returns -PYSCOPE_EUSAGE with it in err, or -EIO.
 */
static int submit_no_python(struct store *s, const struct wire_suite_entry *e, bool all,
                            const char *names, const char *labels, char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, all ? "t" : "f");
    p_str(&p, names);
    p_str(&p, labels);
    PGresult *res = store_exec(
        s,
        "SELECT coalesce(string_agg(DISTINCT (py.v->>'version') || ' (' || h.hostname || ': '"
        "  || (py.v->>'executable') || ')', ', '), '') FROM hosts h JOIN agents a"
        "  ON a.host_id = h.id, jsonb_array_elements(a.pythons) AS py(v)"
        " WHERE h.superseded_by IS NULL AND ($1::boolean OR jsonb_array_length($2::jsonb) = 0"
        "        OR h.hostname IN (SELECT jsonb_array_elements_text($2::jsonb))"
        "        OR a.name IN (SELECT jsonb_array_elements_text($2::jsonb)))"
        " AND h.labels @> $3::jsonb",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    const char *have = PQntuples(res) ? PQgetvalue(res, 0, 0) : "";
    set_err(err, errlen,
            "no host the submit selects has Python %s (asked for %s); %s%s: ask for one of "
            "those (--python, or the suite's python =), or give an agent that Python (its "
            "pythons = setting)",
            e->python, e->script, *have ? "the Pythons they have: " : "they report no Python",
            have);
    PQclear(res);
    return -PYSCOPE_EUSAGE;
}

/*
 * The jobs of entry e (borrowed) of batch on every host the selector (names,
 * labels: JSON) picks, with purpose ("measure" or "reference"), at commit
 * (a full hash, or NULL: the agents' workspace); adds their count to *total.
 */
static int submit_entry(struct store *s, const struct wire_submit *sub,
                        const struct wire_suite_entry *e, const char *batch, const char *script,
                        const char *purpose, const char *commit, const char *names,
                        const char *labels, double default_timeout_s, uint32_t max_attempts,
                        uint64_t *total, char *err, size_t errlen)
{
    struct params p = {0};
    p_str(&p, batch);
    p_str(&p, script);
    p_own(&p, strings_json(e->n_args, e->args));
    p_fmt(&p, "%" PRIu32, e->repeat ? e->repeat : 1);
    p_fmt(&p, "%" PRIu32, e->warmup);
    p_str(&p, e->mode == WIRE_MODE_TRACE ? "trace" : "sample");
    p_fmt(&p, "%.17g", e->timeout_s > 0 ? e->timeout_s : default_timeout_s);
    if (e->threshold > 0)
        p_fmt(&p, "%.17g", e->threshold);
    else
        p_str(&p, NULL);
    p_str(&p, sub->hosts.all ? "t" : "f");
    p_str(&p, names);
    p_str(&p, labels);
    p_fmt(&p, "%" PRIu32, max_attempts);
    p_str(&p, purpose);
    p_own(&p, strings_json(e->n_env, e->env));
    p_str(&p, commit);
    p_str(&p, e->python ? e->python : "");
    PGresult *res = store_exec(
        s,
        "INSERT INTO jobs (batch_id, script_id, host_id, args, repeat, warmup, mode,"
        " timeout_s, threshold, max_attempts, purpose, env, commit_hash, python)"
        " SELECT $1, $2, h.id, ARRAY(SELECT a FROM jsonb_array_elements_text($3::jsonb)"
        " WITH ORDINALITY AS t(a, i) ORDER BY i), $4, $5, $6, $7, $8, $12, $13,"
        " ARRAY(SELECT v FROM jsonb_array_elements_text($14::jsonb) WITH ORDINALITY"
        " AS t(v, i) ORDER BY i), $15, $16 FROM hosts h"
        " WHERE h.superseded_by IS NULL AND ($9::boolean OR jsonb_array_length($10::jsonb) = 0"
        "        OR h.hostname IN (SELECT jsonb_array_elements_text($10::jsonb))"
        "        OR EXISTS (SELECT 1 FROM agents a WHERE a.host_id = h.id"
        "                   AND a.name IN (SELECT jsonb_array_elements_text($10::jsonb))))"
        " AND h.labels @> $11::jsonb AND ($16 = '' OR EXISTS (SELECT 1 FROM agents a"
        "  WHERE a.host_id = h.id AND pyscope_python_match(a.pythons, $16))) ORDER BY h.id",
        &p, PGRES_COMMAND_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    uint64_t made = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    *total += made;
    int rc = 0;
    if (made == 0 && e->python && *e->python)
        rc = submit_no_python(s, e, sub->hosts.all, names, labels, err, errlen);
    return rc;
}

/*
 * -ENOENT with err naming the first of hs's names that is neither a current
 * host's name nor an agent's, and the known hosts; 0 when all are known.
 */
static int submit_check_names(struct store *s, const struct wire_host_selector *hs, char *err,
                              size_t errlen)
{
    struct params p = {0};
    p_own(&p, strings_json(hs->n_names, hs->names));
    PGresult *res = store_exec(
        s,
        "SELECT (SELECT n FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS t(n, i)"
        "  WHERE n NOT IN (SELECT hostname FROM hosts WHERE superseded_by IS NULL)"
        "  AND n NOT IN (SELECT name FROM agents) ORDER BY i LIMIT 1),"
        " (SELECT string_agg(hostname, ', ' ORDER BY hostname) FROM hosts"
        "  WHERE superseded_by IS NULL)",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    int rc = 0;
    if (!PQgetisnull(res, 0, 0)) {
        char *name = sanitize_dup(PQgetvalue(res, 0, 0), 0);
        char *known = sanitize_dup(PQgetvalue(res, 0, 1), 0);
        snprintf(err, errlen, "no host or agent is named \"%s\" (known hosts: %s)", name,
                 *known ? known : "none yet: no agent has said Hello");
        free(name);
        free(known);
        rc = -ENOENT;
    }
    PQclear(res);
    return rc;
}

int store_submit(struct store *s, const struct wire_submit *sub, double default_timeout_s,
                 uint32_t max_attempts, uint64_t *batch_id, uint32_t *jobs, char *err,
                 size_t errlen)
{
    struct params p = {0};
    PGresult *res;
    uint64_t total = 0;
    /* a full hash is a commit to run at; anything else a label (older clients) */
    const char *commit = sub->commit && gitrev_is_hash(sub->commit) ? sub->commit : NULL;
    if (store_cmd(s, "BEGIN", NULL, err, errlen) < 0)
        return -EIO;
    if (commit || sub->n_commits) {
        p_own(&p, commits_json(sub->n_commits, sub->commits, commit));
        int rc = store_cmd(s, COMMITS_PUT_SQL, &p, err, errlen);
        p_release(&p);
        if (rc < 0)
            goto fail;
    }
    if (!sub->hosts.all && sub->hosts.n_names > 0) {
        int rc = submit_check_names(s, &sub->hosts, err, errlen);
        if (rc < 0) {
            store_rollback(s);
            return rc;
        }
    }
    char ref[24] = "";
    if (sub->reference &&
        submit_script(s, sub->reference->script, 0, ref, sizeof(ref), err, errlen) < 0)
        goto fail;
    p_str(&p, sub->suite);
    p_str(&p, sub->label ? sub->label : "");
    p_str(&p, sub->commit ? sub->commit : "");
    p_str(&p, commit);
    p_str(&p, ref[0] ? ref : NULL);
    res = store_exec(s,
                     "INSERT INTO batches (suite, label, \"commit\", commit_hash,"
                     " reference_script_id) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                     &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        goto fail;
    char batch[24];
    snprintf(batch, sizeof(batch), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);

    char *names = strings_json(sub->hosts.n_names, sub->hosts.names);
    char *labels = labels_json(sub->hosts.n_labels, sub->hosts.labels);
    /* the reference first: each host runs it before the night's scripts */
    if (sub->reference &&
        submit_entry(s, sub, sub->reference, batch, ref, "reference", commit, names, labels,
                     default_timeout_s, max_attempts, &total, err, errlen) < 0)
        goto fail_json;
    for (size_t i = 0; i < sub->n_entries; i++) {
        const struct wire_suite_entry *e = &sub->entries[i];
        char script[24];
        if (submit_script(s, e->script, e->threshold, script, sizeof(script), err, errlen) < 0)
            goto fail_json;
        int rc = submit_entry(s, sub, e, batch, script, "measure", commit, names, labels,
                              default_timeout_s, max_attempts, &total, err, errlen);
        if (rc == -PYSCOPE_EUSAGE) {
            free(names);
            free(labels);
            store_rollback(s);
            return rc;
        }
        if (rc < 0)
            goto fail_json;
    }
    free(names);
    free(labels);
    p_fmt(&p, "{%s}", batch);
    if (store_cmd(s, BATCH_DONE_SQL, &p, err, errlen) < 0) {
        p_release(&p);
        goto fail;
    }
    p_release(&p);
    if (store_cmd(s, "COMMIT", NULL, err, errlen) < 0)
        return -EIO;
    *batch_id = strtoull(batch, NULL, 10);
    *jobs = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    return 0;
fail_json:
    free(names);
    free(labels);
fail:
    store_rollback(s);
    return -EIO;
}

static const char HOSTS_SQL[] =
    "SELECT coalesce(json_agg(x ORDER BY x.hostname, x.fingerprint), '[]')::text FROM ("
    " SELECT h.fingerprint, h.hostname, h.cpu_model, h.cores, h.mem_bytes, h.os, h.kernel,"
    " h.arch, h.governor, h.load1, h.labels, pyscope_ts(h.first_seen) AS first_seen,"
    " pyscope_ts(h.last_seen) AS last_seen, h.reported_hostname,"
    " pyscope_ts(h.offline_since) AS offline_since, h.superseded_by IS NOT NULL AS superseded,"
    " (SELECT coalesce(json_agg(json_build_object('name', a.name,"
    "   'agent_version', a.agent_version, 'python_version', a.python_version,"
    "   'python_build', a.python_build, 'python_executable', a.python_executable,"
    "   'pythons', a.pythons, 'max_jobs', a.max_jobs, 'last_seen', pyscope_ts(a.last_seen)) ORDER "
    "BY a.name), '[]')"
    "  FROM agents a WHERE a.host_id = h.id) AS agents,"
    " (SELECT count(*) FROM jobs j WHERE j.host_id = h.id AND j.state = 'queued') AS queued,"
    " (SELECT count(*) FROM jobs j WHERE j.host_id = h.id AND j.state = 'leased') AS leased"
    " FROM hosts h ORDER BY h.hostname, h.fingerprint LIMIT $1) x";

static const char JOBS_SQL[] =
    "SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]')::text FROM ("
    " SELECT j.id, j.batch_id, s.key AS script, h.hostname AS host,"
    " h.fingerprint AS host_fingerprint, j.args, j.env, j.python, j.repeat, j.warmup, j.mode,"
    " j.timeout_s, j.state, j.attempt, j.max_attempts, j.lease_owner,"
    " pyscope_ts(j.lease_expires) AS lease_expires, pyscope_ts(j.created) AS created,"
    " pyscope_ts(j.updated) AS updated, pyscope_commit(j.commit_hash) AS commit,"
    " coalesce((SELECT r.outcome FROM runs r WHERE r.job_id = j.id"
    "   ORDER BY r.stored_at DESC LIMIT 1), j.end_reason) AS outcome, j.end_reason"
    " FROM jobs j JOIN scripts s ON s.id = j.script_id JOIN hosts h ON h.id = j.host_id"
    " WHERE $2::bigint = 0 OR j.batch_id = $2 ORDER BY j.id DESC LIMIT $1) x";

static const char BATCH_SQL[] =
    "SELECT json_build_object('id', b.id, 'suite', b.suite, 'label', b.label,"
    " 'commit', b.\"commit\", 'revision', pyscope_commit(b.commit_hash), 'state', b.state,"
    " 'created', pyscope_ts(b.created), 'finished', pyscope_ts(b.finished),"
    " 'analyzed', b.analyzed IS NOT NULL,"
    " 'jobs', json_build_object('total', count(j.id),"
    "   'queued', count(j.id) FILTER (WHERE j.state = 'queued'),"
    "   'leased', count(j.id) FILTER (WHERE j.state = 'leased'),"
    "   'done', count(j.id) FILTER (WHERE j.state = 'done'),"
    "   'failed', count(j.id) FILTER (WHERE j.state = 'failed'),"
    "   'host_offline', count(j.id) FILTER (WHERE j.end_reason = 'host offline')),"
    " 'runs', (SELECT count(*) FROM runs r WHERE r.batch_id = b.id))::text"
    " FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id WHERE b.id = $2 AND $1 > 0"
    " GROUP BY b.id";

int store_query(struct store *s, const struct wire_query *q, json_t **out, char *err, size_t errlen)
{
    const char *sql = q->kind == WIRE_QUERY_HOSTS  ? HOSTS_SQL
                      : q->kind == WIRE_QUERY_JOBS ? JOBS_SQL
                                                   : BATCH_SQL;
    struct params p = {0};
    p_fmt(&p, "%" PRIu32, q->limit ? q->limit : 100);
    if (q->kind != WIRE_QUERY_HOSTS)
        p_fmt(&p, "%" PRIu64, q->batch_id);
    PGresult *res = store_exec(s, sql, &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    if (PQntuples(res) == 0) {
        PQclear(res);
        *out = json_null();
        return 0;
    }
    json_error_t jerr;
    *out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
    PQclear(res);
    if (*out == NULL) {
        set_err(err, errlen, "database returned bad json: %s", jerr.text);
        return -EIO;
    }
    return 0;
}

/* ---- generic statements (coordinator/analysis.c) ---------------------------- */

static int params_load(struct params *p, const char *const *params, size_t n, char *err,
                       size_t errlen)
{
    if (n > STORE_MAX_PARAMS) {
        set_err(err, errlen, "too many parameters (%zu)", n);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++)
        p_str(p, params[i]);
    return 0;
}

int store_each_row(struct store *s, const char *sql, const char *const *params, size_t n,
                   store_row_fn fn, void *arg, char *err, size_t errlen)
{
    struct params p = {0};
    if (params_load(&p, params, n, err, errlen) < 0)
        return -EINVAL;
    PGresult *res = store_exec(s, sql, &p, PGRES_TUPLES_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    int nt = PQntuples(res), nc = PQnfields(res), rc = nt;
    const char **v = xcalloc(nc ? (size_t)nc : 1, sizeof(*v));
    for (int i = 0; i < nt && rc >= 0; i++) {
        for (int k = 0; k < nc; k++)
            v[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
        int frc = fn(v, nc, arg);
        rc = frc < 0 ? frc : rc;
    }
    free(v);
    PQclear(res);
    return rc;
}

int store_each_row_binary(struct store *s, const char *sql, const char *const *params, size_t n,
                          store_bin_row_fn fn, void *arg, char *err, size_t errlen)
{
    struct params p = {0};
    if (params_load(&p, params, n, err, errlen) < 0)
        return -EINVAL;
    store_heal(s);
    /* one row at a time: a batch's ~40,000 rows never sit in one PGresult */
    if (!PQsendQueryParams(s->conn, sql, p.n, NULL, p.v, p.binary ? p.len : NULL,
                           p.binary ? p.fmt : NULL, 1) ||
        !PQsetSingleRowMode(s->conn)) {
        char buf[512];
        set_err(err, errlen, "database error: %s",
                pg_message(PQerrorMessage(s->conn), buf, sizeof(buf)));
        PGresult *res;
        while ((res = PQgetResult(s->conn)) != NULL)
            PQclear(res);
        return -EIO;
    }
    int rc = 0, nrows = 0;
    struct pgbin v[64];
    PGresult *res;
    while ((res = PQgetResult(s->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE && rc >= 0) {
            int nc = PQnfields(res);
            if (nc > (int)(sizeof(v) / sizeof(v[0]))) {
                set_err(err, errlen, "a query returned %d columns, more than %zu", nc,
                        sizeof(v) / sizeof(v[0]));
                rc = -EIO;
            }
            for (int k = 0; rc >= 0 && k < nc; k++) {
                bool null = PQgetisnull(res, 0, k);
                v[k].p = null ? NULL : (const unsigned char *)PQgetvalue(res, 0, k);
                v[k].len = null ? -1 : PQgetlength(res, 0, k);
            }
            if (rc >= 0) {
                int frc = fn(v, nc, arg);
                rc = frc < 0 ? frc : rc;
                nrows++;
            }
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc >= 0) {
            char buf[512];
            set_err(err, errlen, "database error: %s",
                    pg_message(PQresultErrorMessage(res), buf, sizeof(buf)));
            rc = -EIO;
        }
        PQclear(res); /* and read on: the connection must drain the whole result */
    }
    return rc < 0 ? rc : nrows;
}

/* store_row_fn of store_json_rows(): column 0 parsed as JSON into the array arg. */
static int json_row(const char *const *values, int ncols, void *arg)
{
    json_error_t jerr;
    json_t *v = ncols > 0 && values[0] ? json_loads(values[0], JSON_DECODE_ANY, &jerr) : NULL;
    if (v == NULL)
        return -EBADMSG;
    json_array_append_new(arg, v);
    return 0;
}

int store_json_rows(struct store *s, const char *sql, const char *const *params, size_t n,
                    json_t **out, char *err, size_t errlen)
{
    json_t *rows = json_array();
    int rc = store_each_row(s, sql, params, n, json_row, rows, err, errlen);
    if (rc == -EBADMSG) {
        set_err(err, errlen, "database returned bad json");
        rc = -EIO;
    }
    if (rc < 0) {
        json_decref(rows);
        rows = NULL;
    }
    *out = rows;
    return rc;
}

int store_command(struct store *s, const char *sql, const char *const *params, size_t n, char *err,
                  size_t errlen)
{
    struct params p = {0};
    if (params_load(&p, params, n, err, errlen) < 0)
        return -EINVAL;
    PGresult *res = store_exec(s, sql, &p, PGRES_COMMAND_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    int rows = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rows;
}

void store_abort(struct store *s)
{
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        store_rollback(s);
}
