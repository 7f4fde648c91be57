/*
 * store_conn.c - the store's libpq wrapper: connecting, running a statement
 * (store_exec(): status checked, error message filled, one reconnect-and-retry
 * outside a transaction), the durability check. See store_int.h for how the
 * store's files divide the work.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "log.h"
#include "store_int.h"

/* Server notices ("relation ... already exists, skipping") are not news: debug only. */
static void store_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("database notice: %.*s", (int)strcspn(message, "\n"), message);
}

/* Reset a broken connection so the next statement has a chance. */
void store_heal(struct store *s)
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
PGresult *store_exec(struct store *s, const char *sql, const struct params *p, ExecStatusType want,
                     char *err, size_t errlen)
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
    pyscope_set_err(
        err, errlen, "database error: %s",
        pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn), buf, sizeof(buf)));
    PQclear(res);
    return NULL;
}

/* Run a statement that returns no rows. Returns 0 or -EIO. */
int store_cmd(struct store *s, const char *sql, const struct params *p, char *err, size_t errlen)
{
    PGresult *res = store_exec(s, sql, p, PGRES_COMMAND_OK, err, errlen);
    if (res == NULL)
        return -EIO;
    PQclear(res);
    return 0;
}

void store_rollback(struct store *s)
{
    PGresult *res = PQexecParams(s->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
    PQclear(res);
}

/* The store of conn (steals it), or NULL with err when it did not connect. */
static struct store *store_of_conn(PGconn *conn, char *err, size_t errlen)
{
    if (conn == NULL) {
        pyscope_set_err(err, errlen, "could not allocate a database connection");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char buf[512];
        pyscope_set_err(err, errlen, "could not connect to the database: %s",
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
        pyscope_set_err(err, errlen,
                        "the database runs with fsync = %s: results would not survive a "
                        "crash; set fsync = on",
                        v);
        return -EPERM;
    }
    if (store_show(s, "SHOW synchronous_commit", v, sizeof(v), err, errlen) < 0)
        return -EIO;
    if (strcmp(v, "off") == 0) {
        pyscope_set_err(err, errlen,
                        "the database runs with synchronous_commit = off: an acked result "
                        "could be lost; set synchronous_commit = on");
        return -EPERM;
    }
    return 0;
}
