/*
 * store_hosts.c - hosts and agents: a Hello registers them (a host is its
 * granted name and fingerprint, schema/007_identity.sql); hosts without a live
 * agent go offline and their queued jobs end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "log.h"
#include "store_int.h"

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

/* ---- liveness: hosts without a live agent (schema/007) ---- */

/* The SQL array literal of the n names (borrowed), new string. */
static char *text_array(const char *const *names, size_t n)
{
    struct strbuf b = {0};
    strbuf_addf(&b, "{");
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&b, "%s", i ? "," : "");
        array_add_quoted(&b, names[i]);
    }
    strbuf_addf(&b, "}");
    return strbuf_take(&b);
}

/*
 * The queued jobs that ask for a Python no agent of their (live) host has had
 * for $2 s: none of the host's agents that reports a matching Python is live
 * here ($3) or was seen (heartbeat, Hello) within $2 s, and the job has been
 * queued that long. They end 'failed', end_reason 'no live agent has Python
 * P' (docs/pythons.md), rather than wait forever or go to an agent that
 * would refuse them.
 */
#define NO_PYTHON_SQL                                                                              \
    " nopy AS (UPDATE jobs j SET state = 'failed', end_reason = 'no live agent has Python '"       \
    "  || j.python, updated = now() FROM hosts h WHERE h.id = j.host_id"                           \
    "  AND j.host_id = ANY ($1::bigint[]) AND j.state = 'queued' AND j.python <> ''"               \
    "  AND j.updated < now() - $2::integer * interval '1 second' AND NOT EXISTS (SELECT 1"         \
    "  FROM agents a WHERE a.host_id = j.host_id AND pyscope_python_match(a.pythons, j.python)"    \
    "  AND (a.name = ANY ($3::text[]) OR a.last_seen >= now() - $2::integer"                       \
    "  * interval '1 second')) RETURNING j.batch_id, j.host_id, h.hostname, j.python)"

int store_hosts_alive(struct store *s, const int64_t *ids, size_t n, const char *const *agents,
                      size_t n_agents, uint32_t offline_s, int *no_python, char *err, size_t errlen)
{
    *no_python = 0;
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
    p_own(&p, text_array(agents, n_agents));
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
        "  RETURNING j.batch_id, dead.hostname, dead.last_seen)," NO_PYTHON_SQL
        " SELECT hostname, count(*), pyscope_ts(max(last_seen)),"
        "  array_agg(DISTINCT batch_id)::text, '' FROM ended GROUP BY hostname"
        " UNION ALL SELECT n.hostname, count(*), coalesce((SELECT pyscope_ts(max(a.last_seen))"
        "  FROM agents a WHERE a.host_id = n.host_id AND pyscope_python_match(a.pythons,"
        "  n.python)), ''), array_agg(DISTINCT n.batch_id)::text, n.python FROM nopy n"
        "  GROUP BY n.hostname, n.host_id, n.python ORDER BY 1, 5",
        &p, PGRES_TUPLES_OK, err, errlen);
    p_release(&p);
    if (res == NULL)
        return -EIO;
    int ended = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *py = PQgetvalue(res, i, 4), *seen = PQgetvalue(res, i, 2);
        if (!*py) {
            ended += atoi(PQgetvalue(res, i, 1));
            log_warn("host \"%s\" has had no live agent since %s (over %" PRIu32
                     " s): its %s queued jobs end \"host offline\" (batches %s)",
                     PQgetvalue(res, i, 0), seen, offline_s, PQgetvalue(res, i, 1),
                     PQgetvalue(res, i, 3));
            continue;
        }
        *no_python += atoi(PQgetvalue(res, i, 1));
        char since[96];
        snprintf(since, sizeof(since),
                 *seen ? "one was last seen %s" : "none of its agents reported it", seen);
        log_warn("host \"%s\" has no live agent with Python %s (%s; over %" PRIu32
                 " s): its %s queued jobs that ask for it end \"no live agent has Python %s\""
                 " (batches %s): start an agent there with that Python (its pythons = setting)",
                 PQgetvalue(res, i, 0), py, since, offline_s, PQgetvalue(res, i, 1), py,
                 PQgetvalue(res, i, 3));
    }
    PQclear(res);
    if (ended + *no_python > 0) {
        p_str(&p, NULL);
        int rc = store_cmd(s, BATCH_DONE_SQL, &p, err, errlen);
        p_release(&p);
        if (rc < 0)
            return rc;
    }
    return ended;
}
