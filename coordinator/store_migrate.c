/*
 * store_migrate.c - applying the schema's numbered migrations (schema/NNN_*.sql,
 * embedded as store_migrations[] by coordinator/embed_sql.cmake), once, under
 * an advisory lock, so several coordinators may start at the same time.
 */
#include <errno.h>

#include "errors.h"
#include "store_int.h"

/* pg_advisory_xact_lock key for migrations: "pyscope" in ASCII. */
#define STORE_MIGRATION_LOCK "31093567171470693"

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
        pyscope_set_err(
            err, errlen,
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
            pyscope_set_err(err, errlen, "migration \"%s\" failed: %s", m[i].name,
                            pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn),
                                       buf, sizeof(buf)));
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
