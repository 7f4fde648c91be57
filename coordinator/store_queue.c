/*
 * store_queue.c - the job queue: a Submit becomes a batch and its jobs;
 * agents claim them (FOR UPDATE SKIP LOCKED) on leases with a fencing attempt
 * number, renew the leases, and the reaper returns the expired ones.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>

#include "errors.h"
#include "gitrev.h"
#include "log.h"
#include "sanitize.h"
#include "store_int.h"

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
 * machine asking at once only one that has a job it can run (ok) claims:
 * the one whose first such job comes first (then fewer Pythons, then ord).
 *
 * Order (gate, q): a host's queue is served by batch, then job id; and a job
 * of a later batch of a suite waits while an earlier batch of that suite
 * still has a queued or leased job on the host, or is done but not yet
 * analysed (its analysis may queue confirmation jobs there: they run before
 * the next night's).
 *
 * Dealing (q, r): each agent's candidates are the queued jobs of its host in
 * gate batches that it can run, locked (SKIP LOCKED: rows another transaction
 * holds are passed over; a statement's own row locks do not make SKIP LOCKED
 * skip, so two agents of one host may lock the same rows here). The agents of
 * a host then take their jobs in turn (step, in the same order as e's);
 * each takes the first max of its candidates no earlier agent took. An agent
 * locks as many candidates as all agents up to it may take (upto), so taking
 * in turn never runs short. Each row names its agent by ord (1-based).
 *
 * Pythons (schema/022_pythons.sql, docs/pythons.md): a job that asks for a
 * Python is a candidate only of an agent that reports a matching one, so with
 * several agents of different Pythons on one host each gets only the jobs it
 * can run, and a machine's turn goes to an agent that has one. A job no
 * asking agent can run stays queued (store_hosts_alive() ends it when no
 * live agent of its host has the Python).
 */
/*
 * How many timeouts job alias a may take: its runs, and with instructions
 * (schema/028) each measured repeat once more under valgrind, which pyscope-run
 * allows 50 timeouts (agent/runner/cachegrind.h CACHEGRIND_TIMEOUT_FACTOR); a
 * confirmation run also runs its reference script before the first repeat and
 * after each (Job.reference, schema/030), each within the timeout.
 */
#define STORE_JOB_RUNS_SQL(a)                                                                      \
    "(" a ".repeat + " a ".warmup + CASE WHEN " a ".instructions THEN 50 * " a ".repeat ELSE 0"    \
    " END + CASE WHEN " a ".purpose = 'confirm' THEN " a ".repeat + 1 ELSE 0 END)"

static const char CLAIM_SQL[] =
    "WITH RECURSIVE c0 AS (SELECT c.*, coalesce(a.machine, '') AS machine,"
    "  coalesce(a.pythons, '[]'::jsonb) AS pythons"
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
    " ok AS (SELECT c0.ord, f.batch_id AS fb, f.id AS fid FROM c0, LATERAL (SELECT y.batch_id,"
    "   y.id FROM gate g JOIN jobs y ON y.host_id = g.host_id AND y.batch_id = g.batch_id"
    "   WHERE g.host_id = c0.host_id AND y.state = 'queued' AND (y.python = ''"
    "   OR pyscope_python_match(c0.pythons, y.python)) ORDER BY y.batch_id, y.id LIMIT 1) f),"
    " busy AS (SELECT DISTINCT a.machine, l.lease_owner FROM jobs l"
    "  JOIN agents a ON a.name = l.lease_owner WHERE l.state = 'leased' AND a.machine <> ''),"
    " e AS (SELECT x.host_id, x.owner, x.max, x.ord, x.pythons, x.fb, x.fid FROM (SELECT c0.*,"
    "   ok.fb, ok.fid, row_number() OVER (PARTITION BY c0.machine ORDER BY ok.fb, ok.fid,"
    "   jsonb_array_length(c0.pythons), c0.ord) AS mr FROM c0 JOIN ok ON ok.ord = c0.ord"
    "   WHERE $5::boolean OR c0.machine = '' OR NOT EXISTS (SELECT 1 FROM busy b"
    "   WHERE b.machine = c0.machine AND b.lease_owner <> c0.owner)) x"
    "  WHERE $5::boolean OR x.machine = '' OR x.mr = 1),"
    " c AS (SELECT e.*, row_number() OVER (ORDER BY e.host_id, e.fb, e.fid,"
    "   jsonb_array_length(e.pythons), e.ord) AS step, sum(e.max) OVER (PARTITION BY e.host_id"
    "   ORDER BY e.fb, e.fid, jsonb_array_length(e.pythons), e.ord) AS upto FROM e),"
    " q AS MATERIALIZED (SELECT c.step, x.id, x.batch_id FROM c, LATERAL (SELECT id, batch_id"
    "   FROM jobs WHERE host_id = c.host_id AND state = 'queued' AND batch_id IN (SELECT"
    "   g.batch_id FROM gate g WHERE g.host_id = c.host_id) AND (jobs.python = ''"
    "   OR pyscope_python_match(c.pythons, jobs.python))"
    "   ORDER BY batch_id, id LIMIT c.upto FOR UPDATE SKIP LOCKED) x),"
    " r (step, mine, taken) AS (SELECT 0::bigint, '{}'::bigint[], '{}'::bigint[]"
    "  UNION ALL SELECT r.step + 1, t.ids, r.taken || t.ids FROM r, LATERAL (SELECT ARRAY("
    "   SELECT q.id FROM q WHERE q.step = r.step + 1 AND q.id <> ALL (r.taken)"
    "   ORDER BY q.batch_id, q.id LIMIT (SELECT c.max FROM c WHERE c.step = r.step + 1))"
    "   AS ids) t WHERE r.step < (SELECT count(*) FROM c)),"
    " a AS (SELECT u.id, c.owner, c.ord FROM r JOIN c ON c.step = r.step,"
    "  unnest(r.mine) AS u(id))"
    " UPDATE jobs j SET state = 'leased', lease_owner = a.owner, attempt = j.attempt + 1,"
    " lease_expires = least(now() + $4 * interval '1 millisecond', now() + (j.timeout_s"
    " * " STORE_JOB_RUNS_SQL(
        "j") " + $6) * interval '1 second'), lease_deadline = now()"
             " + (j.timeout_s * " STORE_JOB_RUNS_SQL(
                 "j") " + $6) * interval '1 second', updated = now()"
                      " FROM a, scripts s WHERE j.id = a.id AND s.id = j.script_id"
                      " RETURNING a.ord, j.id, j.attempt, j.batch_id, s.key, "
                      "array_to_json(j.args), j.repeat,"
                      " j.warmup, j.mode, j.timeout_s, j.memory_limit_bytes, array_to_json(j.env),"
                      " coalesce(j.commit_hash, ''), j.python, j.instructions,"
                      " coalesce((SELECT rs.key FROM batches rb JOIN scripts rs"
                      " ON rs.id = rb.reference_script_id WHERE rb.id = j.batch_id"
                      " AND j.purpose = 'confirm'), ''), coalesce(round(j.interval_ms * 1000),"
                      " 0)";

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
        job.instructions = strcmp(PQgetvalue(res, i, 14), "t") == 0;
        job.reference = PQgetvalue(res, i, 15); /* a confirmation's (schema/030) */
        job.interval_us = (uint32_t)strtoul(PQgetvalue(res, i, 16), NULL, 10); /* schema/032 */
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
    struct strbuf hosts = {0}, owners = {0}, max = {0};
    strbuf_addf(&hosts, "{");
    strbuf_addf(&owners, "{");
    strbuf_addf(&max, "{");
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&hosts, "%s%" PRId64, i ? "," : "", c[i].host_id);
        strbuf_addf(&owners, "%s", i ? "," : "");
        array_add_quoted(&owners, c[i].owner);
        strbuf_addf(&max, "%s%" PRIu32, i ? "," : "", c[i].max);
    }
    strbuf_addf(&hosts, "}");
    strbuf_addf(&owners, "}");
    strbuf_addf(&max, "}");
    struct params p = {0};
    p_own(&p, strbuf_take(&hosts));
    p_own(&p, strbuf_take(&owners));
    p_own(&p, strbuf_take(&max));
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
    struct strbuf ids = {0}, attempts = {0};
    strbuf_addf(&ids, "{");
    strbuf_addf(&attempts, "{");
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&ids, "%s%" PRIu64, i ? "," : "", refs[i].job_id);
        strbuf_addf(&attempts, "%s%" PRIu32, i ? "," : "", refs[i].attempt);
    }
    strbuf_addf(&ids, "}");
    strbuf_addf(&attempts, "}");
    p_str(&p, owner);
    p_fmt(&p, "%" PRIu32, lease_ms);
    p_own(&p, strbuf_take(&ids));
    p_own(&p, strbuf_take(&attempts));
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
                     " (timeout x runs + lease_grace_s): lease expired, job %s",
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
    " FROM jsonb_array_elements($1::jsonb) AS e"
    /* a hash sent twice (described, and bare as the commit itself): the description wins */
    " ORDER BY e->>'hash', coalesce(jsonb_array_length(e->'parents'), -1) DESC"
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

int store_put_commits(struct store *s, const struct wire_submit *sub, char *err, size_t errlen)
{
    struct params p = {0};
    const char *commit = sub->commit && gitrev_is_hash(sub->commit) ? sub->commit : NULL;
    p_own(&p, commits_json(sub->n_commits, sub->commits, commit));
    int rc = store_cmd(s, COMMITS_PUT_SQL, &p, err, errlen);
    p_release(&p);
    if (rc == 0 && sub->try_base && *sub->try_base) {
        p_own(&p, commits_json(0, NULL, sub->try_base));
        rc = store_cmd(s, COMMITS_PUT_SQL, &p, err, errlen);
        p_release(&p);
    }
    return rc;
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
    pyscope_set_err(err, errlen,
                    "no host the submit selects has Python %s (asked for %s); %s%s: ask for one of "
                    "those (--python, or the suite's python =), or give an agent that Python (its "
                    "pythons = setting)",
                    e->python, e->script,
                    *have ? "the Pythons they have: " : "they report no Python", have);
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
    p_str(&p, sub->instructions || e->instructions ? "t" : "f");
    if (e->interval_us)
        p_fmt(&p, "%.17g", e->interval_us / 1000.0);
    else
        p_str(&p, NULL);
    PGresult *res = store_exec(
        s,
        "INSERT INTO jobs (batch_id, script_id, host_id, args, repeat, warmup, mode,"
        " timeout_s, threshold, max_attempts, purpose, env, commit_hash, python, instructions,"
        " interval_ms)"
        " SELECT $1, $2, h.id, ARRAY(SELECT a FROM jsonb_array_elements_text($3::jsonb)"
        " WITH ORDINALITY AS t(a, i) ORDER BY i), $4, $5, $6, $7, $8, $12, $13,"
        " ARRAY(SELECT v FROM jsonb_array_elements_text($14::jsonb) WITH ORDINALITY"
        " AS t(v, i) ORDER BY i), $15, $16, $17::boolean,"
        /* the sampling period: the suite's, else ~200 samples a run of the series on this
         * host (schema/032); trace mode samples nothing */
        " CASE WHEN $6 = 'trace' THEN NULL ELSE coalesce($18::double precision,"
        "  pyscope_sample_interval_ms((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w)"
        "  FROM (SELECT r.wall_s FROM runs r JOIN jobs rj ON rj.id = r.job_id"
        "   WHERE r.script_id = $2 AND r.host_id = h.id AND r.outcome = 'ok'"
        "   AND rj.purpose = 'measure' AND rj.mode = 'sample'"
        "   AND rj.args = ARRAY(SELECT a FROM jsonb_array_elements_text($3::jsonb)"
        "    WITH ORDINALITY AS t(a, i) ORDER BY i)"
        "   ORDER BY r.stored_at DESC LIMIT 5) lr, unnest(lr.wall_s) AS w))) END"
        " FROM hosts h"
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
 * The jobs of entry e of a try batch (trybatch.h): try_rounds pairs of the base
 * commit and the head (commit) on every host the selector picks, counterbalanced
 * as cli/abrun.c runs them: each host's claim order (jobs.id) is base, head, head,
 * base, base, head ... (a pair's first turn alternates, so that what favours a
 * first turn is noise in the pairs, not a bias).
 */
static int submit_try_entry(struct store *s, const struct wire_submit *sub,
                            const struct wire_suite_entry *e, const char *batch, const char *script,
                            const char *commit, const char *names, const char *labels,
                            double default_timeout_s, uint32_t max_attempts, uint64_t *total,
                            char *err, size_t errlen)
{
    for (uint32_t r = 0; r < sub->try_rounds; r++) {
        int rc = 0;
        for (int k = 0; k < 2 && rc == 0; k++) {
            bool head = (k == 1) != (r % 2 == 1);
            rc = submit_entry(s, sub, e, batch, script, head ? "try_head" : "try_base",
                              head ? commit : sub->try_base, names, labels, default_timeout_s,
                              max_attempts, total, err, errlen);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
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
        snprintf(err, errlen,
                 "unknown host \"%s\": no host or agent is named \"%s\" (known hosts: %s; "
                 "pyscope hosts lists them)",
                 name, name, *known ? known : "none yet: no agent has said Hello");
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
    if (sub->try_base && *sub->try_base) { /* a try's base: its jobs run there */
        p_own(&p, commits_json(0, NULL, sub->try_base));
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
    p_str(&p, sub->try_base && *sub->try_base ? sub->try_base : NULL);
    /* a try is no night of the series: never analysed (schema/025_try.sql) */
    res = store_exec(s,
                     "INSERT INTO batches (suite, label, \"commit\", commit_hash,"
                     " reference_script_id, purpose, try_base, analyzed) VALUES ($1, $2, $3,"
                     " $4, $5, CASE WHEN $6::text IS NULL THEN 'measure' ELSE 'try' END, $6,"
                     " CASE WHEN $6::text IS NOT NULL THEN now() END) RETURNING id",
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
        int rc = sub->try_base && *sub->try_base
                     ? submit_try_entry(s, sub, e, batch, script, commit, names, labels,
                                        default_timeout_s, max_attempts, &total, err, errlen)
                     : submit_entry(s, sub, e, batch, script, "measure", commit, names, labels,
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
