/*
 * bisection.c - bisection on the farm (bisection.h).
 */
#include "bisection.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abtest.h"
#include "batch_report.h"
#include "errors.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "sanitize.h"
#include "trybatch.h"
#include "xmalloc.h"

#define BISECT_MAX_CHAIN 100000 /* first-parent commits walked at most */

/*
 * The first-parent chain of $2 (bad) back to $1 (good), oldest first, and
 * whether it reached good: what `git rev-list --first-parent` walks.
 */
static const char CHAIN_SQL[] =
    "WITH RECURSIVE ch(hash, parents, depth) AS ("
    " SELECT c.hash, c.parents, 0 FROM commits c WHERE c.hash = $2"
    " UNION ALL SELECT c.hash, c.parents, ch.depth + 1 FROM ch JOIN commits c"
    "  ON c.hash = ch.parents[1] WHERE ch.hash <> $1 AND ch.depth < 100000)"
    " SELECT json_build_object('chain', coalesce(array_agg(hash ORDER BY depth DESC), '{}'),"
    " 'reached', coalesce(bool_or(hash = $1), false),"
    " 'good_known', EXISTS (SELECT 1 FROM commits WHERE hash = $1),"
    " 'bad_known', EXISTS (SELECT 1 FROM commits WHERE hash = $2))::text FROM ch";

/* One row of sql (JSON text) as a new object in *row (NULL when none). */
static int one_row(struct store *s, const char *sql, const char *const *p, size_t n, json_t **row,
                   char *err, size_t errlen)
{
    json_t *rows = NULL;
    int rc = store_json_rows(s, sql, p, n, &rows, err, errlen);
    *row = rc > 0 ? json_incref(json_array_get(rows, 0)) : NULL;
    json_decref(rows);
    return rc < 0 ? rc : 0;
}

/*
 * The chain good..bad into *chain (new array, oldest first). Returns 0, or
 * -PYSCOPE_EUSAGE with err saying why there is none, or -EIO.
 */
static int chain_of(struct store *s, const char *good, const char *bad, json_t **chain, char *err,
                    size_t errlen)
{
    const char *p[2] = {good, bad};
    json_t *r = NULL;
    *chain = NULL;
    int rc = one_row(s, CHAIN_SQL, p, 2, &r, err, errlen);
    if (rc < 0)
        return rc;
    if (!json_is_true(json_object_get(r, "bad_known")) ||
        !json_is_true(json_object_get(r, "good_known"))) {
        pyscope_set_err(err, errlen,
                        "commit %.12s is unknown to the coordinator (the submitter describes "
                        "the bad commit's newest ancestors: is the good one among them?)",
                        json_is_true(json_object_get(r, "bad_known")) ? good : bad);
        rc = -PYSCOPE_EUSAGE;
    } else if (!json_is_true(json_object_get(r, "reached"))) {
        pyscope_set_err(err, errlen,
                        "good commit %.12s is not on the first-parent history of bad commit "
                        "%.12s as far as the coordinator knows it (not an ancestor, reached only "
                        "through a merged branch, or more commits apart than were described)",
                        good, bad);
        rc = -PYSCOPE_EUSAGE;
    } else {
        *chain = json_incref(json_object_get(r, "chain"));
    }
    json_decref(r);
    return rc;
}

/* Suite entry e as the JSON bisections.entry keeps (new). */
static json_t *entry_json(const struct wire_suite_entry *e)
{
    json_t *args = json_array(), *env = json_array();
    for (size_t i = 0; i < e->n_args; i++)
        json_array_append_new(args, json_string(e->args[i]));
    for (size_t i = 0; i < e->n_env; i++)
        json_array_append_new(env, json_string(e->env[i]));
    return json_pack("{s:s, s:o, s:I, s:I, s:s, s:f, s:f, s:o, s:s, s:I}", "script", e->script,
                     "args", args, "repeat", (json_int_t)e->repeat, "warmup", (json_int_t)e->warmup,
                     "mode", e->mode == WIRE_MODE_TRACE ? "trace" : "sample", "timeout_s",
                     e->timeout_s, "threshold", e->threshold, "env", env, "python",
                     e->python ? e->python : "", "interval_us", (json_int_t)e->interval_us);
}

static const char INSERT_SQL[] =
    "WITH sc AS (INSERT INTO scripts (key) VALUES ($1) ON CONFLICT (key) DO UPDATE SET"
    "  key = EXCLUDED.key RETURNING id)"
    " INSERT INTO bisections (origin, regression_id, script_id, host_id, entry, metric, good,"
    " bad, chain, lo, hi, rounds, max_runs, deadline, state, phase, message, finished)"
    " SELECT $2, $3::bigint, sc.id, $4::bigint, $5::jsonb, $6, $7, $8,"
    " ARRAY(SELECT jsonb_array_elements_text($9::jsonb)), 1, jsonb_array_length($9::jsonb),"
    " $10::integer, $11::integer, now() + make_interval(secs => $12::double precision),"
    " $13, CASE WHEN $13 = 'running' THEN 'ends' ELSE 'end' END, $14,"
    " CASE WHEN $13 <> 'running' THEN now() END FROM sc"
    " RETURNING json_build_object('id', id)::text";

/* Insert a bisection; *id gets its id. */
static int insert_bisection(struct store *s, const char *origin, const char *regression,
                            const char *script, const char *host_id, const json_t *entry,
                            const char *metric, const char *good, const char *bad,
                            const json_t *chain, uint32_t rounds, uint32_t budget_s,
                            const char *state, const char *message, uint64_t *id, char *err,
                            size_t errlen)
{
    char *entry_s = json_dumps(entry, JSON_COMPACT), *chain_s = json_dumps(chain, JSON_COMPACT);
    char rounds_s[16], runs_s[24], budget[24];
    snprintf(rounds_s, sizeof(rounds_s), "%" PRIu32, rounds);
    /* ~log2(n) steps and the confirmation, each up to abtest_step_batches() x rounds pairs
     * (max_extra 2, the table's default), and the ends up to their own (more) */
    size_t n = json_array_size(chain), steps = 2;
    while ((1u << (steps - 2)) < n)
        steps++;
    size_t batches = steps * abtest_step_batches(false, 2) + abtest_step_batches(true, 2);
    snprintf(runs_s, sizeof(runs_s), "%zu", batches * 2 * (size_t)rounds);
    snprintf(budget, sizeof(budget), "%" PRIu32, budget_s);
    const char *p[14] = {script, origin,  regression, host_id, entry_s, metric, good,
                         bad,    chain_s, rounds_s,   runs_s,  budget,  state,  message};
    json_t *r = NULL;
    int rc = one_row(s, INSERT_SQL, p, 14, &r, err, errlen);
    if (rc == 0 && r)
        *id = (uint64_t)json_integer_value(json_object_get(r, "id"));
    else if (rc == 0)
        rc = -EIO;
    json_decref(r);
    free(entry_s);
    free(chain_s);
    return rc;
}

/* The id (text) of the current host named name (a hostname or an agent's name), or -ENOENT. */
static int host_of(struct store *s, const char *name, char *id, size_t idlen, char *err,
                   size_t errlen)
{
    const char *p[1] = {name};
    json_t *r = NULL;
    int rc = one_row(s,
                     "SELECT json_build_object('id', (SELECT h.id FROM hosts h"
                     "  WHERE h.superseded_by IS NULL AND (h.hostname = $1 OR EXISTS (SELECT 1"
                     "  FROM agents a WHERE a.host_id = h.id AND a.name = $1))"
                     "  ORDER BY h.id DESC LIMIT 1), 'known', (SELECT string_agg(hostname, ', '"
                     "  ORDER BY hostname) FROM hosts WHERE superseded_by IS NULL))::text",
                     p, 1, &r, err, errlen);
    if (rc < 0)
        return rc;
    const json_t *hid = json_object_get(r, "id");
    if (json_is_integer(hid)) {
        snprintf(id, idlen, "%" JSON_INTEGER_FORMAT, json_integer_value(hid));
    } else {
        const char *known = json_get_string(r, "known", "");
        pyscope_set_err(err, errlen, "no host or agent is named \"%s\" (known hosts: %s)", name,
                        *known ? known : "none yet: no agent has said Hello");
        rc = -ENOENT;
    }
    json_decref(r);
    return rc;
}

/* "" (the decision's) or a metric the steps' runs measure (instructions: they count them). */
static bool metric_ok(const char *m)
{
    return !m || !*m || metric_name_ok(METRIC_SET_ALL, m);
}

int bisection_create(struct store *s, const struct wire_submit *sub, uint32_t default_budget_s,
                     uint64_t *id, char *err, size_t errlen)
{
    if (!metric_ok(sub->bisect_metric)) {
        pyscope_set_err(err, errlen, "a bisection decides on %s, not \"%s\"",
                        metric_names_text(METRIC_SET_ALL), sub->bisect_metric);
        return -PYSCOPE_EUSAGE;
    }
    if (store_command(s, "BEGIN", NULL, 0, err, errlen) < 0)
        return -EIO;
    char host[24];
    json_t *chain = NULL;
    int rc = host_of(s, sub->hosts.names[0], host, sizeof(host), err, errlen);
    if (rc == 0)
        rc = store_put_commits(s, sub, err, errlen);
    if (rc == 0)
        rc = chain_of(s, sub->try_base, sub->commit, &chain, err, errlen);
    if (rc == 0) {
        json_t *entry = entry_json(&sub->entries[0]);
        rc = insert_bisection(s, "cli", NULL, sub->entries[0].script, host, entry,
                              sub->bisect_metric ? sub->bisect_metric : "", sub->try_base,
                              sub->commit, chain, sub->try_rounds ? sub->try_rounds : 5,
                              sub->bisect_budget_s ? sub->bisect_budget_s : default_budget_s,
                              "running", "", id, err, errlen);
        json_decref(entry);
    }
    json_decref(chain);
    if (rc == 0 && store_command(s, "COMMIT", NULL, 0, err, errlen) < 0)
        return -EIO;
    if (rc < 0)
        store_abort(s);
    return rc;
}

/* ---- advancing ---- */

/* A running bisection with its newest step and what it has used. */
static const char RUNNING_SQL[] =
    "SELECT json_build_object('id', b.id, 'chain', b.chain, 'lo', b.lo, 'hi', b.hi,"
    " 'skipped', b.skipped, 'rounds', b.rounds, 'max_extra', b.max_extra,"
    " 'max_runs', b.max_runs, 'over_time', b.deadline < now(), 'phase', b.phase,"
    " 'metric', b.metric, 'entry', b.entry, 'host', h.hostname, 'regression_id', b.regression_id,"
    " 'turns', (SELECT count(*) FROM jobs j WHERE j.batch_id IN"
    "   (SELECT unnest(st.batches) FROM bisection_steps st WHERE st.bisection_id = b.id)),"
    " 'steps', (SELECT count(*) FROM bisection_steps st WHERE st.bisection_id = b.id),"
    " 'ends', (SELECT coalesce((SELECT m FROM jsonb_array_elements(st.result->'metrics') m"
    "   WHERE m->>'metric' = coalesce(nullif(b.metric, ''), st.result->'decision'->>'metric')"
    "   AND m->'function' IS NULL LIMIT 1), jsonb_build_object('change_pct', st.change_pct))"
    "  FROM bisection_steps st WHERE st.bisection_id = b.id"
    "   AND st.phase = 'ends' AND st.outcome = 'bad' ORDER BY st.n DESC LIMIT 1),"
    " 'step', (SELECT json_build_object('n', st.n, 'phase', st.phase, 'pos', st.pos,"
    "   'against', st.against_pos, 'batches', st.batches, 'outcome', st.outcome,"
    "   'done', NOT EXISTS (SELECT 1 FROM batches x WHERE x.id = ANY (st.batches)"
    "    AND x.state <> 'done'))"
    "  FROM bisection_steps st WHERE st.bisection_id = b.id ORDER BY st.n DESC LIMIT 1))::text"
    " FROM bisections b JOIN hosts h ON h.id = b.host_id WHERE b.state = 'running'"
    " ORDER BY b.id LIMIT 64";

struct bis {
    const json_t *row;
    json_int_t id, lo, hi, n;
    char ids[24];
};

/* chain[pos] (1-based) of b. */
static const char *at(const struct bis *b, json_int_t pos)
{
    return json_string_value(json_array_get(json_object_get(b->row, "chain"), (size_t)pos - 1));
}

static bool skipped(const struct bis *b, json_int_t pos)
{
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(b->row, "skipped"), i, v)
    {
        if (json_integer_value(v) == pos)
            return true;
    }
    return false;
}

/* A regression's bisection moved: the stored team reports that show it are stale. */
static void reports_stale(struct store *s, json_int_t regression)
{
    char err[256];
    if (regression > 0 && batch_report_invalidate(s, (uint64_t)regression, err, sizeof(err)) < 0)
        log_warn("could not mark the reports of regression %" JSON_INTEGER_FORMAT " stale: %s",
                 regression, err);
}

/* End bisection b in state with message (and culprit hash, or NULL). */
static int finish(struct store *s, const struct bis *b, const char *state, const char *culprit,
                  const char *message, char *err, size_t errlen)
{
    const char *p[4] = {b->ids, state, culprit, message};
    log_info("bisection %s: %s%s%.12s: %s", b->ids, state, culprit ? " at " : "",
             culprit ? culprit : "", message);
    int rc = store_command(s,
                           "UPDATE bisections SET state = $2, phase = 'end', culprit = $3,"
                           " message = $4, finished = now() WHERE id = $1::bigint",
                           p, 4, err, errlen);
    if (rc >= 0)
        reports_stale(s, json_get_int(b->row, "regression_id", 0));
    return rc < 0 ? rc : 0;
}

/* Queue a try batch of chain[pos] against chain[against] (step n, or a new step when batches
 * is NULL: its phase); extra: append to the open step's batches instead. */
static int queue_step(struct store *s, const struct bisection_settings *bs, const struct bis *b,
                      const char *phase, json_int_t pos, json_int_t against, bool extra, char *err,
                      size_t errlen)
{
    const json_t *e = json_object_get(b->row, "entry");
    size_t na = json_array_size(json_object_get(e, "args"));
    size_t ne = json_array_size(json_object_get(e, "env"));
    const char **args = xcalloc(na + 1, sizeof(*args)), **env = xcalloc(ne + 1, sizeof(*env));
    for (size_t i = 0; i < na; i++)
        args[i] = json_string_value(json_array_get(json_object_get(e, "args"), i));
    for (size_t i = 0; i < ne; i++)
        env[i] = json_string_value(json_array_get(json_object_get(e, "env"), i));
    struct wire_suite_entry ent = {
        .script = json_get_string(e, "script", ""),
        .n_args = na,
        .args = args,
        .repeat = (uint32_t)json_get_int(e, "repeat", 0),
        .warmup = (uint32_t)json_get_int(e, "warmup", 0),
        .mode = strcmp(json_get_string(e, "mode", ""), "trace") == 0 ? WIRE_MODE_TRACE
                                                                     : WIRE_MODE_SAMPLE,
        .timeout_s = json_number_value(json_object_get(e, "timeout_s")),
        .threshold = json_number_value(json_object_get(e, "threshold")),
        .n_env = ne,
        .env = env,
        .python = json_get_string(e, "python", ""),
        .interval_us = (uint32_t)json_get_int(e, "interval_us", 0), /* 0: chosen (schema/032) */
    };
    const char *host = json_get_string(b->row, "host", "");
    char label[96];
    json_int_t n = extra ? b->n : b->n + 1;
    snprintf(label, sizeof(label), "bisect %s step %" JSON_INTEGER_FORMAT "%s", b->ids, n,
             extra ? " (more rounds)" : "");
    struct wire_submit sub = {
        .suite = "bisect",
        .n_entries = 1,
        .entries = &ent,
        .hosts = {.n_names = 1, .names = &host},
        .label = label,
        .commit = at(b, pos),
        .try_base = at(b, against),
        .try_rounds = (uint32_t)json_get_int(b->row, "rounds", 0),
        /* decided on instruction counts: every turn counts them (schema/028) */
        .instructions =
            strcmp(json_get_string(b->row, "metric", ""), HISTORY_METRIC_INSTRUCTIONS) == 0,
    };
    uint64_t batch = 0;
    uint32_t jobs = 0;
    int rc = store_submit(s, &sub, bs->job_timeout_s, bs->max_attempts, &batch, &jobs, err, errlen);
    free(args);
    free(env);
    if (rc == -ENOENT || rc == -PYSCOPE_EUSAGE || (rc == 0 && jobs == 0)) {
        char msg[768];
        snprintf(msg, sizeof(msg), "host %s can no longer run the steps: %s", host,
                 rc ? err : "no current host of that name");
        return finish(s, b, "failed", NULL, msg, err, errlen);
    }
    if (rc < 0)
        return rc;
    char bs_[24], ns[24], ps[24], as[24];
    snprintf(bs_, sizeof(bs_), "%" PRIu64, batch);
    snprintf(ns, sizeof(ns), "%" JSON_INTEGER_FORMAT, n);
    snprintf(ps, sizeof(ps), "%" JSON_INTEGER_FORMAT, pos);
    snprintf(as, sizeof(as), "%" JSON_INTEGER_FORMAT, against);
    const char *p[6] = {b->ids, ns, phase, ps, as, bs_};
    const char *pe[3] = {b->ids, ns, bs_};
    rc = extra ? store_command(s,
                               "UPDATE bisection_steps SET batches = batches || $3::bigint"
                               " WHERE bisection_id = $1::bigint AND n = $2::integer",
                               pe, 3, err, errlen)
               : store_command(s,
                               "INSERT INTO bisection_steps (bisection_id, n, phase, pos,"
                               " against_pos, batches) VALUES ($1::bigint, $2::integer, $3,"
                               " $4::integer, $5::integer, ARRAY[$6::bigint])",
                               p, 6, err, errlen);
    if (rc >= 0)
        log_info("bisection %s step %s (%s): %.12s against %.12s, batch %s%s", b->ids, ns, phase,
                 at(b, pos), at(b, against), bs_, extra ? " (more rounds)" : "");
    return rc < 0 ? rc : 1;
}

/*
 * The verdict object deciding a step: metric's, or (metric "") that of the metric the
 * decision names (its verdict, rule and change are the decision's, and it has the
 * interval the nearer-end rule reads, which the decision lacks); the decision itself when
 * no metric object matches.
 */
static const json_t *step_metric(const json_t *reg, const char *metric)
{
    const json_t *d = json_object_get(reg, "decision");
    const char *name = metric && *metric ? metric : json_get_string(d, "metric", "");
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        if (strcmp(json_get_string(m, "metric", ""), name) == 0 && !json_object_get(m, "function"))
            return m;
    }
    return metric && *metric ? NULL : d;
}

/* abtest_nearer_end for step m of b, against the ends' verdict of its metric (NULL:
 * unknown); why gets the words of the rule that decided. */
static const char *nearer_end(const struct bis *b, const json_t *m, char *why, size_t whylen)
{
    return abtest_nearer_end(json_object_get(b->row, "ends"), m, why, whylen);
}

/* Record the decision of step n. */
static int record_step(struct store *s, const struct bis *b, const char *outcome, const json_t *res,
                       const json_t *m, char *err, size_t errlen)
{
    char ns[24];
    snprintf(ns, sizeof(ns), "%" JSON_INTEGER_FORMAT, b->n);
    char *result = res ? json_dumps(json_object_get(res, "regression"), JSON_COMPACT) : NULL;
    char ch[32] = "", br[24], hr[24], nk[24];
    if (m && json_is_number(json_object_get(m, "change_pct")))
        snprintf(ch, sizeof(ch), "%.17g", json_number_value(json_object_get(m, "change_pct")));
    snprintf(br, sizeof(br), "%" JSON_INTEGER_FORMAT, json_get_int(res, "base_runs", 0));
    snprintf(hr, sizeof(hr), "%" JSON_INTEGER_FORMAT, json_get_int(res, "head_runs", 0));
    snprintf(nk, sizeof(nk), "%" JSON_INTEGER_FORMAT, json_get_int(res, "runs_not_ok", 0));
    const char *p[9] = {
        b->ids, ns, outcome, m ? json_get_string(m, "verdict", "") : NULL, ch[0] ? ch : NULL, br,
        hr,     nk, result};
    int rc = store_command(s,
                           "UPDATE bisection_steps SET outcome = $3, verdict = $4,"
                           " change_pct = $5::double precision, base_runs = $6::integer,"
                           " head_runs = $7::integer, runs_not_ok = $8::integer,"
                           " result = $9::jsonb, decided = now()"
                           " WHERE bisection_id = $1::bigint AND n = $2::integer",
                           p, 9, err, errlen);
    free(result);
    return rc < 0 ? rc : 0;
}

static int set_interval(struct store *s, const struct bis *b, const char *phase, json_int_t lo,
                        json_int_t hi, json_int_t skip, char *err, size_t errlen)
{
    char los[24], his[24], sks[24];
    snprintf(los, sizeof(los), "%" JSON_INTEGER_FORMAT, lo);
    snprintf(his, sizeof(his), "%" JSON_INTEGER_FORMAT, hi);
    snprintf(sks, sizeof(sks), "%" JSON_INTEGER_FORMAT, skip);
    const char *p[5] = {b->ids, phase, los, his, skip ? sks : NULL};
    int rc = store_command(s,
                           "UPDATE bisections SET phase = $2, lo = $3::integer, hi = $4::integer,"
                           " skipped = CASE WHEN $5::integer IS NULL THEN skipped"
                           " ELSE skipped || $5::integer END WHERE id = $1::bigint",
                           p, 5, err, errlen);
    return rc < 0 ? rc : 0;
}

static int apply_step(struct store *s, struct bis *b, const json_t *st, const char *outcome,
                      const json_t *m, const json_t *res, char *err, size_t errlen);

/*
 * Decide b's finished step st. Returns 1 when the bisection goes on (its
 * row must be read again), 0 when it ended or waits for more rounds, or a
 * negative code.
 */
static int decide_step(struct store *s, const struct bisection_settings *bs, struct bis *b,
                       const json_t *st, char *err, size_t errlen)
{
    json_t *batches = json_object_get(st, "batches"), *results = NULL;
    char lit[1024] = "{";
    size_t i;
    const json_t *v;
    json_array_foreach(batches, i, v)
    {
        size_t len = strlen(lit);
        snprintf(lit + len, sizeof(lit) - len, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                 json_integer_value(v));
    }
    strncat(lit, "}", sizeof(lit) - strlen(lit) - 1);
    int rc = trybatch_decide(s, lit, 1, "--metric instructions", &results, err, errlen);
    if (rc < 0)
        return rc;
    const json_t *res = json_array_get(results, 0);
    const char *phase = json_get_string(st, "phase", "");
    json_int_t pos = json_get_int(st, "pos", 0), against = json_get_int(st, "against", 0);
    const char *metric = json_get_string(b->row, "metric", "");
    const json_t *m = step_metric(json_object_get(res, "regression"), metric);
    const char *verdict = m ? json_get_string(m, "verdict", "") : "";
    const char *outcome;
    char near_why[512] = "";
    const char *near;
    if (!res || json_get_int(res, "base_runs", 0) == 0) {
        outcome = "failed";
    } else if (json_get_int(res, "head_runs", 0) == 0) {
        outcome = "skip";
    } else if (!m) {
        outcome = "failed";
    } else if (strcmp(verdict, "regression") == 0) {
        outcome = "bad";
    } else if (strcmp(verdict, "no_change") == 0 || strcmp(verdict, "improvement") == 0) {
        outcome = "good";
    } else if (strcmp(phase, "ends") != 0 &&
               (near = nearer_end(b, m, near_why, sizeof(near_why))) != NULL) {
        /* a halving step, or the confirmation (the culprit against its parent): open, but
         * nearer one end than the other */
        outcome = near;
        log_info("bisection %s step %" JSON_INTEGER_FORMAT " (%s): %s: %s", b->ids, b->n, phase,
                 outcome, near_why);
    } else {
        outcome = "inconclusive";
        long long left = json_is_true(json_object_get(b->row, "over_time"))
                             ? 0
                             : (long long)(json_get_int(b->row, "max_runs", 0) -
                                           json_get_int(b->row, "turns", 0));
        if (abtest_pool_more(verdict, strcmp(phase, "ends") == 0, json_array_size(batches),
                             (size_t)json_get_int(b->row, "max_extra", 0), left,
                             (size_t)json_get_int(b->row, "rounds", 0))) {
            json_decref(results);
            rc = queue_step(s, bs, b, phase, pos, against, true, err, errlen);
            return rc < 0 ? rc : 0;
        }
    }
    if (json_array_size(batches) > 1)
        log_info("bisection %s step %" JSON_INTEGER_FORMAT " (%s): %s with %zu try batches "
                 "(%" JSON_INTEGER_FORMAT " pairs) pooled",
                 b->ids, b->n, phase, outcome, json_array_size(batches),
                 json_get_int(res, "base_runs", 0));
    rc = record_step(s, b, outcome, res, m, err, errlen);
    if (rc >= 0)
        rc = apply_step(s, b, st, outcome, m, res, err, errlen);
    json_decref(results);
    return rc;
}

/* The parents of commit hash as "abc123def456, 0123456789ab" into buf when it is a merge
 * (more than one parent), else "". Returns 0 or a negative code. */
static int merge_parents(struct store *s, const char *hash, char *buf, size_t len, char *err,
                         size_t errlen)
{
    const char *p[1] = {hash};
    json_t *r = NULL;
    *buf = '\0';
    int rc = one_row(s,
                     "SELECT json_build_object('parents', (SELECT string_agg(left(x, 12), ', '"
                     " ORDER BY o) FROM unnest(c.parents) WITH ORDINALITY AS u(x, o)),"
                     " 'merge', cardinality(c.parents) > 1)::text FROM commits c WHERE c.hash = $1",
                     p, 1, &r, err, errlen);
    if (rc == 0 && json_is_true(json_object_get(r, "merge")))
        snprintf(buf, len, "%s", json_get_string(r, "parents", ""));
    json_decref(r);
    return rc;
}

/*
 * End b found: chain[pos] is the culprit, as its A/B against its parent chain[against]
 * shows (m: that A/B's deciding verdict, a regression or, inside the noise floor, an
 * interval nearer the bad end); how: said after it. Returns 0 or a negative code.
 */
static int name_culprit(struct store *s, struct bis *b, json_int_t pos, json_int_t against,
                        const json_t *m, const char *how, char *err, size_t errlen)
{
    double change = json_number_value(json_object_get(m, "change_pct"));
    char parents[256] = "", near[640] = "";
    int rc = merge_parents(s, at(b, pos), parents, sizeof(parents), err, errlen);
    if (rc < 0)
        return rc;
    char why[512] = "";
    if (strcmp(json_get_string(m, "verdict", ""), "regression") != 0 &&
        nearer_end(b, m, why, sizeof(why)))
        snprintf(near, sizeof(near), " (open on its own, but %s: nearer the bad end)", why);
    char *msg =
        *parents
            ? xasprintf("merge commit %.12s (parents %s): the slowdown came in with the merge "
                        "(%+.1f%% against its first parent %.12s%s%s); bisect the merged "
                        "branch (--good %.12s --bad its other parent) for the commit within it",
                        at(b, pos), parents, change, at(b, against), how, near, at(b, against))
            : xasprintf("%.12s is %+.1f%% against its parent %.12s%s%s", at(b, pos), change,
                        at(b, against), how, near);
    rc = finish(s, b, "found", at(b, pos), msg, err, errlen);
    free(msg);
    return rc;
}

/*
 * Why the step's turns at the reference side did not end ok (res: its try result,
 * trybatch.h; borrowed), as ": <outcome>: <the agent's message>" (new, sanitized and
 * shortened: the message is the agent's text), or "" when it says nothing.
 */
static char *failure_said(const json_t *res)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(res, "failures"), i, f)
    {
        if (strcmp(json_get_string(f, "side", ""), "base") != 0)
            continue;
        char *msg = sanitize_dup(json_get_string(f, "message", ""), 0);
        const char *oc = json_get_string(f, "outcome", "");
        size_t n = strlen(oc);
        bool said_oc = strncmp(msg, oc, n) == 0 && msg[n] == ':'; /* "refused: ..." */
        char *said = xasprintf(": %s%s%s", said_oc ? "" : oc, said_oc ? "" : ": ",
                               sanitize_ellipsize(msg, 240));
        free(msg);
        return said;
    }
    return xstrdup("");
}

/*
 * Move bisection b on by its step st's outcome (m: the deciding verdict, or
 * NULL; res: the step's try result). Returns 1 when it goes on, 0 when it ended,
 * or a negative code.
 */
static int apply_step(struct store *s, struct bis *b, const json_t *st, const char *outcome,
                      const json_t *m, const json_t *res, char *err, size_t errlen)
{
    const char *phase = json_get_string(st, "phase", "");
    json_int_t pos = json_get_int(st, "pos", 0), against = json_get_int(st, "against", 0);
    const char *verdict = m ? json_get_string(m, "verdict", "") : "";
    double change = json_number_value(json_object_get(m, "change_pct"));
    const char *why = json_get_string(m, "reason", "");
    /* the rounds pairs each of the step's try batches queued, all pooled in its verdict */
    size_t nbatch = json_array_size(json_object_get(st, "batches"));
    size_t pooled = nbatch * (size_t)json_get_int(b->row, "rounds", 0);
    char msg[1024], near_why[512] = "";
    int rc;
    if (json_is_number(json_object_get(m, "change_pct")))
        log_info("bisection %s step %" JSON_INTEGER_FORMAT " (%s) %.12s: %s (%s %+.1f%%)", b->ids,
                 b->n, phase, at(b, pos), outcome, *verdict ? verdict : "-", change);
    else /* nothing measured on a side: no change figure ("+0.0%" would read as none) */
        log_info("bisection %s step %" JSON_INTEGER_FORMAT " (%s) %.12s: %s (no change measured: "
                 "%" JSON_INTEGER_FORMAT "+%" JSON_INTEGER_FORMAT " runs)",
                 b->ids, b->n, phase, at(b, pos), outcome, json_get_int(res, "base_runs", 0),
                 json_get_int(res, "head_runs", 0));
    if (strcmp(outcome, "failed") == 0) {
        char *said = failure_said(res);
        const char *metric = json_get_string(b->row, "metric", "");
        char *fmsg =
            json_get_int(res, "base_runs", 0) > 0
                ? xasprintf("the runs of step %" JSON_INTEGER_FORMAT " have no \"%s\" (%s)", b->n,
                            *metric ? metric : "deciding metric",
                            strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0
                                ? "instruction counts come from agents that know "
                                  "Job.instructions: upgrade the host's agent"
                                : "see pyscope jobs --batch")
                : xasprintf("the script has no ok run at %.12s, the reference side of step "
                            "%" JSON_INTEGER_FORMAT "%s (pyscope jobs --batch shows why)",
                            at(b, against), b->n, said);
        rc = finish(s, b, "failed", NULL, fmsg, err, errlen);
        free(said);
        free(fmsg);
        return rc;
    }
    if (strcmp(phase, "ends") == 0) {
        if (strcmp(outcome, "bad") == 0)
            return set_interval(s, b, "step", b->lo, b->hi, 0, err, errlen) < 0 ? -EIO : 1;
        if (strcmp(outcome, "good") == 0) {
            snprintf(msg, sizeof(msg),
                     "the bad end %.12s is not slower than the good end %.12s here (%s %+.1f%%): "
                     "nothing to bisect",
                     at(b, b->hi), at(b, b->lo), verdict, change);
            return finish(s, b, "no_regression", NULL, msg, err, errlen);
        }
        if (strcmp(outcome, "skip") == 0) {
            snprintf(msg, sizeof(msg), "the script has no ok run at the bad end %.12s",
                     at(b, b->hi));
            return finish(s, b, "failed", NULL, msg, err, errlen);
        }
        snprintf(msg, sizeof(msg),
                 "the ends stayed inconclusive with %zu rounds pooled (%zu try batches; "
                 "%+.1f%%%s%s): is the regression visible on this host? more --rounds, or a "
                 "quieter host",
                 pooled, nbatch, change, *why ? ": " : "", why);
        return finish(s, b, "inconclusive", NULL, msg, err, errlen);
    }
    if (strcmp(phase, "confirm") == 0) {
        if (strcmp(outcome, "bad") == 0)
            return name_culprit(s, b, pos, against, m, "", err, errlen);
        if (strcmp(outcome, "good") == 0 && strcmp(verdict, "inconclusive") == 0 &&
            nearer_end(b, m, near_why, sizeof(near_why)))
            snprintf(msg, sizeof(msg),
                     "the steps point at %.12s but against its parent %.12s it resembles the "
                     "good end: %+.1f%%, open on its own, but %s (%zu rounds pooled); "
                     "rejected, not named: the slowdown may build up over several commits, or "
                     "noise misled a step",
                     at(b, pos), at(b, against), change, near_why, pooled);
        else
            snprintf(msg, sizeof(msg),
                     "the steps point at %.12s but its own change against its parent %.12s did "
                     "not show (%s %+.1f%%, %zu rounds pooled): not named",
                     at(b, pos), at(b, against), *verdict ? verdict : outcome, change, pooled);
        return finish(s, b, "inconclusive", NULL, msg, err, errlen);
    }
    /* a halving step */
    if (strcmp(outcome, "bad") == 0)
        rc = set_interval(s, b, "step", b->lo, pos, 0, err, errlen);
    else if (strcmp(outcome, "good") == 0)
        rc = set_interval(s, b, "step", pos, b->hi, 0, err, errlen);
    else if (strcmp(outcome, "skip") == 0)
        rc = set_interval(s, b, "step", b->lo, b->hi, pos, err, errlen);
    else {
        snprintf(msg, sizeof(msg),
                 "step %" JSON_INTEGER_FORMAT " (%.12s) stayed inconclusive with %zu rounds "
                 "pooled (%zu try batches; %+.1f%%%s%s): the culprit lies between %.12s and %.12s "
                 "(%" JSON_INTEGER_FORMAT " commits); not guessed",
                 b->n, at(b, pos), pooled, nbatch, change, *why ? ": " : "", why, at(b, b->lo),
                 at(b, b->hi), b->hi - b->lo);
        return finish(s, b, "inconclusive", NULL, msg, err, errlen);
    }
    return rc < 0 ? rc : 1;
}

/* The newest step that found chain[$2] bad against chain[$3], with its evidence. */
static const char MEASURED_SQL[] =
    "SELECT json_build_object('n', st.n, 'result', st.result)::text FROM bisection_steps st"
    " WHERE st.bisection_id = $1::bigint AND st.pos = $2::integer"
    " AND st.against_pos = $3::integer AND st.outcome = 'bad' AND st.result IS NOT NULL"
    " ORDER BY st.n DESC LIMIT 1";

/* b's first bad commit (hi) named from the step that measured it against its parent (lo)
 * and found it bad. Returns 0 when named, 1 when no such step is stored, or a negative
 * code. */
static int name_measured(struct store *s, struct bis *b, char *err, size_t errlen)
{
    char his[24], los[24];
    snprintf(his, sizeof(his), "%" JSON_INTEGER_FORMAT, b->hi);
    snprintf(los, sizeof(los), "%" JSON_INTEGER_FORMAT, b->lo);
    const char *p[3] = {b->ids, his, los};
    json_t *r = NULL;
    int rc = one_row(s, MEASURED_SQL, p, 3, &r, err, errlen);
    const json_t *m =
        r ? step_metric(json_object_get(r, "result"), json_get_string(b->row, "metric", "")) : NULL;
    if (rc == 0 && m) {
        char how[96];
        snprintf(how, sizeof(how), " (the good end), measured by step %" JSON_INTEGER_FORMAT,
                 json_get_int(r, "n", 0));
        rc = name_culprit(s, b, b->hi, b->lo, m, how, err, errlen);
    } else if (rc == 0) {
        rc = 1;
    }
    json_decref(r);
    return rc;
}

/* Queue b's next step, or end it. */
static int next_step(struct store *s, const struct bisection_settings *bs, struct bis *b, char *err,
                     size_t errlen)
{
    const char *phase = json_get_string(b->row, "phase", "");
    char msg[512];
    bool ends = strcmp(phase, "ends") == 0;
    /* the testable commit nearest the middle of (lo, hi), both ends excluded: with
     * hi = lo + 1 there is none and the culprit is hi (confirmed against lo below) */
    json_int_t mid = (b->lo + b->hi) / 2, best = 0;
    for (json_int_t d = 0; !ends && d <= b->hi - b->lo && !best; d++) {
        if (mid - d > b->lo && !skipped(b, mid - d))
            best = mid - d;
        else if (mid + d > b->lo && mid + d < b->hi && !skipped(b, mid + d))
            best = mid + d;
    }
    if (!ends && !best && b->hi - b->lo > 1) {
        snprintf(msg, sizeof(msg),
                 "the culprit is %.12s or one of the %" JSON_INTEGER_FORMAT
                 " commits before it, where the script could not be run (last good %.12s)",
                 at(b, b->hi), b->hi - b->lo - 1, at(b, b->lo));
        return finish(s, b, "candidates", NULL, msg, err, errlen);
    }
    if (!ends && !best && b->lo == 1) {
        /* hi's parent is the good end, and hi was measured against it (by the ends, a range
         * of one commit, or by the halving step that found it bad): that A/B is its
         * confirmation, a second one of the same two commits would add nothing */
        int rc = name_measured(s, b, err, errlen);
        if (rc <= 0)
            return rc;
    }
    if (json_is_true(json_object_get(b->row, "over_time")) ||
        json_get_int(b->row, "turns", 0) + 2 * json_get_int(b->row, "rounds", 0) >
            json_get_int(b->row, "max_runs", 0)) {
        snprintf(
            msg, sizeof(msg),
            "out of budget (%s) with the culprit between %.12s and %.12s (%" JSON_INTEGER_FORMAT
            " commits)",
            json_is_true(json_object_get(b->row, "over_time")) ? "time" : "runs", at(b, b->lo),
            at(b, b->hi), b->hi - b->lo);
        return finish(s, b, "budget", NULL, msg, err, errlen);
    }
    if (ends)
        return queue_step(s, bs, b, "ends", b->hi, b->lo, false, err, errlen);
    if (best)
        return queue_step(s, bs, b, "step", best, 1, false, err, errlen);
    return queue_step(s, bs, b, "confirm", b->hi, b->lo, false, err, errlen);
}

/* Move bisection row on. Returns 1 when it moved, 0 when it waits, or a negative code. */
static int advance_one(struct store *s, const struct bisection_settings *bs, const json_t *row,
                       char *err, size_t errlen)
{
    struct bis b = {.row = row,
                    .id = json_get_int(row, "id", 0),
                    .lo = json_get_int(row, "lo", 0),
                    .hi = json_get_int(row, "hi", 0),
                    .n = json_get_int(row, "steps", 0)};
    snprintf(b.ids, sizeof(b.ids), "%" JSON_INTEGER_FORMAT, b.id);
    const json_t *st = json_object_get(row, "step");
    if (json_is_object(st) && strcmp(json_get_string(st, "outcome", ""), "pending") == 0) {
        if (!json_is_true(json_object_get(st, "done")))
            return 0;
        return decide_step(s, bs, &b, st, err, errlen);
    }
    return next_step(s, bs, &b, err, errlen);
}

/* auto_bisect: confirmed regressions (whole-run metrics) with both ends at commits and no
 * bisection yet, with what their steps run (the candidate run's job). */
static const char AUTO_SQL[] =
    "SELECT json_build_object('regression', g.id, 'script', s.key, 'script_id', g.script_id,"
    " 'host_id', g.host_id, 'metric', g.metric, 'good', gj.commit_hash, 'bad', cj.commit_hash,"
    " 'entry', json_build_object('script', s.key, 'args', cj.args, 'repeat', cj.repeat,"
    "  'warmup', cj.warmup, 'mode', cj.mode, 'timeout_s', cj.timeout_s,"
    "  'threshold', coalesce(cj.threshold, 0), 'env', cj.env, 'python', cj.python,"
    "  'interval_us', coalesce(round(cj.interval_ms * 1000), 0)))::text"
    " FROM regressions g JOIN scripts s ON s.id = g.script_id"
    " JOIN runs cr ON cr.run_id = g.candidate_run JOIN jobs cj ON cj.id = cr.job_id"
    " JOIN runs gr ON gr.run_id = g.baseline_runs[cardinality(g.baseline_runs)]"
    " JOIN jobs gj ON gj.id = gr.job_id"
    " WHERE g.kind = 'regression' AND g.function_key = ''"
    " AND g.metric = ANY ($1::text[])" /* metric_names_array(METRIC_SET_ALL) */
    " AND g.state IN ('new', 'confirmed', 'ack')"
    " AND (g.state = 'confirmed' OR g.confirmation ? 'method')"
    " AND cj.commit_hash IS NOT NULL AND gj.commit_hash IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM bisections bi WHERE bi.regression_id = g.id)"
    " AND NOT EXISTS (SELECT 1 FROM bisections bi WHERE bi.origin = 'auto'"
    "  AND bi.script_id = g.script_id AND bi.host_id = g.host_id"
    "  AND bi.good = gj.commit_hash AND bi.bad = cj.commit_hash)"
    " ORDER BY g.id LIMIT 4"; /* a few a round */

static int auto_start(struct store *s, const struct bisection_settings *bs, char *err,
                      size_t errlen)
{
    json_t *rows = NULL;
    const char *p[1] = {metric_names_array(METRIC_SET_ALL)};
    int rc = store_json_rows(s, AUTO_SQL, p, 1, &rows, err, errlen);
    if (rc < 0)
        return rc;
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *good = json_get_string(r, "good", ""), *bad = json_get_string(r, "bad", "");
        char reg[24], host[24];
        snprintf(reg, sizeof(reg), "%" JSON_INTEGER_FORMAT, json_get_int(r, "regression", 0));
        snprintf(host, sizeof(host), "%" JSON_INTEGER_FORMAT, json_get_int(r, "host_id", 0));
        json_t *chain = NULL;
        char why[512] = "";
        const char *state = "running";
        rc = chain_of(s, good, bad, &chain, why, sizeof(why));
        if (rc == -PYSCOPE_EUSAGE || (rc == 0 && json_array_size(chain) <= 2)) {
            state = "not_bisected";
            if (rc == 0)
                snprintf(why, sizeof(why), "the range holds %s: nothing to bisect",
                         strcmp(good, bad) == 0 ? "no commit" : "one commit, the culprit");
            json_decref(chain);
            chain = json_pack("[s,s]", good, bad);
        } else if (rc < 0) {
            break;
        }
        json_t *entry = json_deep_copy(json_object_get(r, "entry"));
        json_t *e_args = json_object_get(entry, "args"), *e_env = json_object_get(entry, "env");
        if (!json_is_array(e_args))
            json_object_set_new(entry, "args", json_array());
        if (!json_is_array(e_env))
            json_object_set_new(entry, "env", json_array());
        uint64_t id = 0;
        rc = insert_bisection(s, "auto", reg, json_get_string(r, "script", ""), host, entry,
                              json_get_string(r, "metric", ""), good, bad, chain, bs->rounds,
                              bs->budget_s, state, why, &id, err, errlen);
        json_decref(entry);
        json_decref(chain);
        if (rc < 0)
            break;
        reports_stale(s, json_get_int(r, "regression", 0));
        log_info("regression %s: bisection %" PRIu64 " %s%s%s", reg, id,
                 strcmp(state, "running") == 0 ? "started" : "not started", *why ? ": " : "", why);
    }
    json_decref(rows);
    return rc < 0 ? rc : 0;
}

int bisection_advance(struct store *s, const struct bisection_settings *bs, char *err,
                      size_t errlen)
{
    if (bs->auto_bisect) {
        int rc = auto_start(s, bs, err, errlen);
        if (rc < 0)
            return rc;
    }
    int moved = 0;
    /* a bisection moves a few times in a row when no step has to run (ends decided, next queued) */
    for (int pass = 0; pass < 4; pass++) {
        json_t *rows = NULL;
        int rc = store_json_rows(s, RUNNING_SQL, NULL, 0, &rows, err, errlen);
        if (rc < 0)
            return rc;
        int moved_now = 0;
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row)
        {
            /* one coordinator at a time moves a bisection (coordinators may share a database) */
            char ids[24];
            snprintf(ids, sizeof(ids), "%" JSON_INTEGER_FORMAT, json_get_int(row, "id", 0));
            const char *p[1] = {ids};
            json_t *lk = NULL;
            rc = one_row(s,
                         "SELECT json_build_object('ok', pg_try_advisory_lock(1651077741,"
                         " $1::integer))::text",
                         p, 1, &lk, err, errlen);
            bool locked = rc == 0 && json_is_true(json_object_get(lk, "ok"));
            json_decref(lk);
            if (!locked)
                continue;
            /* read after the lock: a cancel that took it first has committed by now */
            json_t *still = NULL;
            rc = one_row(s,
                         "SELECT json_build_object('running', state = 'running')::text"
                         " FROM bisections WHERE id = $1::bigint",
                         p, 1, &still, err, errlen);
            if (rc == 0)
                rc = json_is_true(json_object_get(still, "running"))
                         ? advance_one(s, bs, row, err, errlen)
                         : 0;
            json_decref(still);
            char uerr[256];
            json_t *ul = NULL;
            if (one_row(s,
                        "SELECT json_build_object('ok', pg_advisory_unlock(1651077741,"
                        " $1::integer))::text",
                        p, 1, &ul, uerr, sizeof(uerr)) < 0)
                log_warn("bisection %s: could not release its lock: %s", ids, uerr);
            json_decref(ul);
            if (rc < 0) {
                json_decref(rows);
                return rc;
            }
            moved_now += rc > 0;
        }
        json_decref(rows);
        moved += moved_now;
        if (!moved_now)
            break;
    }
    return moved;
}

/* ---- cancelling ---- */

/* The bisection $1 (locked for the cancel), or no row. */
static const char CANCEL_ROW_SQL[] =
    "SELECT json_build_object('state', b.state, 'message', b.message, 'regression_id',"
    " b.regression_id, 'finished', pyscope_ts(b.finished), 'now', pyscope_ts(now()),"
    " 'last_good', b.chain[b.lo], 'first_bad', b.chain[b.hi], 'commits', b.hi - b.lo)::text"
    " FROM bisections b WHERE b.id = $1::bigint FOR UPDATE";

/* Its queued step turns end, said; running ones finish (their results are kept). */
static const char WITHDRAW_SQL[] =
    "UPDATE jobs j SET state = 'failed', end_reason = 'withdrawn: bisection ' || $1"
    " || ' was cancelled', updated = now() FROM bisection_steps st"
    " WHERE st.bisection_id = $1::bigint AND j.batch_id = ANY (st.batches)"
    " AND j.state = 'queued'";

/* Its step batches with no open job left are done (as a batch whose jobs all ended). */
static const char WITHDRAWN_DONE_SQL[] =
    "UPDATE batches b SET state = 'done', finished = now() FROM bisection_steps st"
    " WHERE st.bisection_id = $1::bigint AND b.id = ANY (st.batches) AND b.state = 'running'"
    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.id"
    "  AND j.state IN ('queued', 'leased'))";

static json_t *cancel_error(uint64_t id, const char *code, const char *message)
{
    return json_pack("{s:I, s:{s:s, s:s}}", "id", (json_int_t)id, "error", "code", code, "message",
                     message);
}

/* Cancel bisection ids (locked, in the open transaction) for who; *out: an error answer
 * when it cannot be, else NULL. Returns 0 or a negative code. */
static int cancel_locked(struct store *s, const char *ids, uint64_t id, const char *who,
                         json_t **out, json_int_t *regression, char *err, size_t errlen)
{
    const char *p1[1] = {ids};
    json_t *r = NULL;
    char msg[1024];
    int rc = one_row(s, CANCEL_ROW_SQL, p1, 1, &r, err, errlen);
    if (rc < 0)
        return rc;
    if (!r) {
        *out = cancel_error(id, "unknown_bisection",
                            "no bisection has that id (pyscope bisect --host prints it)");
        return 0;
    }
    if (strcmp(json_get_string(r, "state", ""), "running") != 0) {
        snprintf(msg, sizeof(msg), "bisection %s already ended (%s at %s: %s): nothing to cancel",
                 ids, json_get_string(r, "state", ""), json_get_string(r, "finished", ""),
                 json_get_string(r, "message", ""));
        *out = cancel_error(id, "not_running", msg);
        json_decref(r);
        return 0;
    }
    *regression = json_get_int(r, "regression_id", 0);
    int withdrawn = store_command(s, WITHDRAW_SQL, p1, 1, err, errlen);
    rc = withdrawn < 0 ? withdrawn : store_command(s, WITHDRAWN_DONE_SQL, p1, 1, err, errlen);
    if (rc >= 0) {
        snprintf(msg, sizeof(msg),
                 "cancelled by %s at %s (%d queued turns withdrawn); the culprit lay between "
                 "%.12s and %.12s (%" JSON_INTEGER_FORMAT " commits) when it stopped",
                 who, json_get_string(r, "now", ""), withdrawn, json_get_string(r, "last_good", ""),
                 json_get_string(r, "first_bad", ""), json_get_int(r, "commits", 0));
        const char *p2[2] = {ids, msg};
        rc = store_command(s,
                           "UPDATE bisections SET state = 'cancelled', phase = 'end',"
                           " message = $2, finished = now() WHERE id = $1::bigint",
                           p2, 2, err, errlen);
        log_info("bisection %s: %s", ids, msg);
    }
    json_decref(r);
    return rc < 0 ? rc : 0;
}

int bisection_cancel(struct store *s, const struct wire_query *q, const char *key, json_t **out,
                     char *err, size_t errlen)
{
    char ids[32], who[512];
    snprintf(ids, sizeof(ids), "%" PRIu64, q->batch_id);
    snprintf(who, sizeof(who), "%s (%s)", q->note && *q->note ? q->note : "someone unnamed",
             key && *key ? key : "no key");
    *out = NULL;
    if (store_command(s, "BEGIN", NULL, 0, err, errlen) < 0)
        return -EIO;
    /* the analyst moves a bisection under this lock: wait until it is done with this one,
     * so that it queues no step after the cancel */
    const char *p[1] = {ids};
    json_t *lk = NULL, *answer = NULL;
    json_int_t regression = 0;
    int rc = q->batch_id > INT32_MAX ? 0
                                     : one_row(s,
                                               "SELECT json_build_object('ok', true)::text FROM"
                                               " pg_advisory_xact_lock(1651077741, $1::integer)",
                                               p, 1, &lk, err, errlen);
    json_decref(lk);
    if (rc == 0)
        rc = cancel_locked(s, ids, q->batch_id, who, &answer, &regression, err, errlen);
    if (rc == 0 && store_command(s, "COMMIT", NULL, 0, err, errlen) < 0)
        rc = -EIO;
    if (rc < 0) {
        store_abort(s);
        json_decref(answer);
        return rc;
    }
    if (answer) {
        *out = answer;
        return 0;
    }
    if (regression > 0)
        reports_stale(s, regression);
    return bisection_answer(s, q, out, err, errlen);
}

/* ---- the query ---- */

static const char ANSWER_SQL[] =
    "SELECT json_build_object('id', b.id, 'origin', b.origin, 'regression_id', b.regression_id,"
    " 'script', s.key, 'host', h.hostname, 'metric', nullif(b.metric, ''), 'state', b.state,"
    " 'phase', b.phase, 'message', b.message, 'good', pyscope_commit(b.good),"
    " 'bad', pyscope_commit(b.bad), 'commits', cardinality(b.chain) - 1,"
    " 'interval', json_build_object('last_good', pyscope_commit(b.chain[b.lo]),"
    "  'first_bad', pyscope_commit(b.chain[b.hi]), 'commits', b.hi - b.lo),"
    " 'unrunnable', (SELECT coalesce(json_agg(pyscope_commit(b.chain[x]) ORDER BY x), '[]')"
    "  FROM unnest(b.skipped) x),"
    " 'culprit', CASE WHEN b.culprit IS NOT NULL THEN pyscope_commit(b.culprit)::jsonb"
    "  || jsonb_build_object('merge', cardinality((SELECT c.parents FROM commits c"
    "  WHERE c.hash = b.culprit)) > 1) END,"
    " 'evidence', (SELECT st.result FROM bisection_steps st WHERE st.bisection_id = b.id"
    "  AND st.outcome = 'bad' AND b.chain[st.pos] = b.culprit AND st.against_pos = st.pos - 1"
    "  ORDER BY st.n DESC LIMIT 1),"
    " 'rounds', b.rounds, 'max_runs', b.max_runs, 'deadline', pyscope_ts(b.deadline),"
    " 'created', pyscope_ts(b.created), 'finished', pyscope_ts(b.finished),"
    " 'turns', (SELECT count(*) FROM jobs j WHERE j.batch_id IN"
    "  (SELECT unnest(st.batches) FROM bisection_steps st WHERE st.bisection_id = b.id)),"
    " 'steps', (SELECT coalesce(json_agg(json_build_object('n', st.n, 'phase', st.phase,"
    "  'commit', pyscope_commit(b.chain[st.pos]), 'position', st.pos - 1,"
    "  'against', b.chain[st.against_pos], 'batches', st.batches, 'outcome', st.outcome,"
    "  'verdict', st.verdict, 'change_pct', st.change_pct, 'base_runs', st.base_runs,"
    "  'head_runs', st.head_runs, 'runs_not_ok', st.runs_not_ok,"
    /* the sides whose counted runs started child processes (schema/029): valgrind counted
     * the script's own process only, as trybatch.c's instructions_notes say */
    "  'instructions_notes', (SELECT coalesce(json_agg(json_build_object('side', x.side,"
    "  'note', '" HISTORY_INSTRUCTIONS_CHILDREN_NOTE "') ORDER BY x.side), '[]') FROM"
    "  (SELECT DISTINCT CASE j.purpose WHEN 'try_head' THEN 'head' ELSE 'base' END AS side"
    "  FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.batch_id = ANY (st.batches)"
    "  AND r.outcome = 'ok' AND r.instructions IS NOT NULL AND r.child_processes > 0) x))"
    "  ORDER BY st.n), '[]')"
    "  FROM bisection_steps st WHERE st.bisection_id = b.id))::text"
    " FROM bisections b JOIN scripts s ON s.id = b.script_id JOIN hosts h ON h.id = b.host_id"
    " WHERE b.id = $1::bigint";

int bisection_answer(struct store *s, const struct wire_query *q, json_t **out, char *err,
                     size_t errlen)
{
    char id[32];
    snprintf(id, sizeof(id), "%" PRIu64, q->batch_id);
    const char *p[1] = {id};
    json_t *r = NULL;
    *out = NULL;
    int rc = one_row(s, ANSWER_SQL, p, 1, &r, err, errlen);
    if (rc < 0)
        return rc;
    if (!r)
        r = json_pack("{s:I, s:{s:s, s:s}}", "id", (json_int_t)q->batch_id, "error", "code",
                      "unknown_bisection", "message",
                      "no bisection has that id (pyscope bisect --host prints it)");
    *out = r;
    return 0;
}
