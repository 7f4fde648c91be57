/*
 * store_query.c - answering queries: the Query message's documents (hosts,
 * jobs, a batch) and the generic statements coordinator/analysis.c and the
 * web pages run (rows as text, as JSON or in binary, one at a time).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "store_int.h"

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
    " j.interval_ms,"
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
    "   'host_offline', count(j.id) FILTER (WHERE j.end_reason = 'host offline'),"
    "   'no_python', count(j.id) FILTER (WHERE j.end_reason LIKE 'no live agent has Python %')),"
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
        pyscope_set_err(err, errlen, "database returned bad json: %s", jerr.text);
        return -EIO;
    }
    return 0;
}

/* Does batch $1 exist; the newest batch's id (0: none yet). */
static const char BATCH_EXISTS_SQL[] =
    "SELECT json_build_object('found', EXISTS (SELECT 1 FROM batches WHERE id = $1::bigint),"
    " 'newest', coalesce((SELECT max(id) FROM batches), 0))::text";

int store_query_missing(struct store *s, const struct wire_query *q, json_t **error, char *err,
                        size_t errlen)
{
    *error = NULL;
    bool names_batch =
        q->kind == WIRE_QUERY_BATCH ||
        ((q->kind == WIRE_QUERY_JOBS || q->kind == WIRE_QUERY_REPORT) && q->batch_id);
    if (!names_batch)
        return 0;
    char id[32];
    snprintf(id, sizeof(id), "%" PRIu64, q->batch_id);
    const char *p[1] = {id};
    json_t *rows = NULL;
    if (store_json_rows(s, BATCH_EXISTS_SQL, p, 1, &rows, err, errlen) < 0)
        return -EIO;
    const json_t *row = json_array_get(rows, 0);
    if (!json_is_true(json_object_get(row, "found"))) {
        json_int_t newest = json_integer_value(json_object_get(row, "newest"));
        char msg[256];
        if (newest > 0)
            snprintf(msg, sizeof(msg),
                     "no batch %" PRIu64 " (the newest is batch %" JSON_INTEGER_FORMAT
                     "; pyscope jobs lists the newest jobs with their batch ids)",
                     q->batch_id, newest);
        else
            snprintf(msg, sizeof(msg),
                     "no batch %" PRIu64 ": no batch was submitted to this coordinator yet "
                     "(pyscope submit SUITE makes one)",
                     q->batch_id);
        *error = json_pack("{s:s, s:s}", "code", "unknown_batch", "message", msg);
    }
    json_decref(rows);
    return 0;
}

/* ---- generic statements (coordinator/analysis.c) ---------------------------- */

static int params_load(struct params *p, const char *const *params, size_t n, char *err,
                       size_t errlen)
{
    if (n > STORE_MAX_PARAMS) {
        pyscope_set_err(err, errlen, "too many parameters (%zu)", n);
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
        pyscope_set_err(err, errlen, "database error: %s",
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
                pyscope_set_err(err, errlen, "a query returned %d columns, more than %zu", nc,
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
            pyscope_set_err(err, errlen, "database error: %s",
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
        pyscope_set_err(err, errlen, "database returned bad json");
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
