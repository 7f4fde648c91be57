/*
 * query_series.c - the SERIES and COMPARE_HOSTS queries (query_series.h).
 *
 * Design notes: every statement goes through store_json_rows (each row one
 * JSON value built by PostgreSQL), so the SQL stays beside its use and the
 * store keeps the only libpq calls. The host-vs-host statistics are the team
 * report's (report_hardware_pair); this file only chooses the samples.
 */
#include "query_series.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "contended.h"
#include "hostpair.h"
#include "jsonutil.h"
#include "pgbin.h"
#include "pyreq.h"
#include "regress.h"
#include "report.h"
#include "bisection.h"
#include "revrange.h"
#include "stats.h"
#include "store.h"
#include "strbuf.h"
#include "trybatch.h"
#include "xmalloc.h"

#define QUERY_MAX_COMPARE_ROWS 20000 /* runs read by one compare_hosts */
#define QUERY_MAX_PAIRS        200   /* as the team report */

static const char SCRIPT_SQL[] =
    "SELECT json_build_object('id', s.id)::text FROM scripts s WHERE s.key = $1";

/* A host by fingerprint (first) or by hostname. */
static const char HOST_SQL[] =
    "SELECT json_build_object('id', h.id, 'hostname', h.hostname,"
    " 'fingerprint', h.fingerprint)::text FROM hosts h"
    " WHERE h.fingerprint = $1 OR h.hostname = $1 ORDER BY h.fingerprint = $1 DESC, h.id";

/* The series' newest $4 ok runs, oldest first, as lib/regress documents. Build:
 * $3, else that of the host's newest ok run of the script. */
// clang-format off
static const char SERIES_RUNS_SQL[] =
    "WITH b AS (SELECT coalesce(nullif($3, ''), (SELECT r.python_build FROM runs r"
    "   WHERE r.script_id = $1::bigint AND r.host_id = $2::bigint AND r.outcome = 'ok'"
    "   AND " TRYBATCH_NOT_TRY_R "   ORDER BY r.stored_at DESC, r.run_id DESC LIMIT 1)) AS build),"
    " picked AS (SELECT r.run_id, r.batch_id, r.job_id, r.host_id, r.script_id, r.script_sha256,"
    "   r.python_build, r.outcome, r.stored_at, r.wall_s, r.cpu_s, r.peak_rss_bytes"
    "   FROM runs r, b WHERE r.script_id = $1::bigint AND r.host_id = $2::bigint"
    "   AND r.python_build = b.build AND r.outcome = 'ok' AND " TRYBATCH_NOT_TRY_R
    "   ORDER BY r.stored_at DESC, r.run_id DESC LIMIT $4::bigint)"
    " SELECT json_build_object('id', r.run_id::text, 'created', pyscope_ts(r.stored_at),"
    " 'batch_id', r.batch_id,"
    " 'commit', (SELECT pyscope_commit(j.commit_hash) FROM jobs j WHERE j.id = r.job_id),"
    " 'script', json_build_object('key', s.key, 'sha256', nullif(r.script_sha256, '')),"
    " 'host', json_build_object('fingerprint', h.fingerprint, 'hostname', h.hostname),"
    " 'python', json_build_object('build', r.python_build),"
    " 'status', json_build_object('outcome', r.outcome),"
    /* counted runs' instructions (schema/028): not in the covering index, one heap row each */
    " 'instructions', (SELECT " STORE_INSTRUCTIONS_JSON("x") " FROM runs x"
    "   WHERE x.run_id = r.run_id AND x.instructions IS NOT NULL),"
    " 'runs', (SELECT coalesce(json_agg(json_build_object('wall_s', u.w, 'cpu_s', u.c,"
    "   'peak_rss_bytes', u.m) ORDER BY u.i), '[]')"
    "   FROM unnest(r.wall_s, r.cpu_s, r.peak_rss_bytes) WITH ORDINALITY AS u(w, c, m, i)))::text"
    " FROM picked r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id"
    " ORDER BY r.stored_at, r.run_id";
// clang-format on

/* The build of the host's newest ok run of the script (for an empty series). */
static const char SERIES_BUILD_SQL[] =
    "SELECT to_json(r.python_build)::text FROM runs r WHERE r.script_id = $1::bigint"
    " AND r.host_id = $2::bigint AND r.outcome = 'ok' AND " TRYBATCH_NOT_TRY_R
    " ORDER BY r.stored_at DESC LIMIT 1";

static const char SERIES_REGS_SQL[] =
    "SELECT json_build_object('id', g.id, 'batch_id', g.batch_id,"
    " 'candidate_run', g.candidate_run::text, 'metric', g.metric,"
    " 'function', nullif(g.function_key, ''), 'kind', g.kind, 'mode', g.mode,"
    " 'change_pct', g.change_pct, 'ci_low_pct', g.ci_low_pct, 'ci_high_pct', g.ci_high_pct,"
    " 'p_value', g.p_value, 'q_value', g.q_value, 'state', g.state,"
    " 'confirm_runs', g.confirm_runs, 'note', g.note, 'created', pyscope_ts(g.created),"
    " 'ended_batch_id', g.ended_batch_id,"
    " 'bisection', " BISECTION_OF_SQL(
        g) ","
           " " REVRANGE_ENDS_SQL(
               g) ")::text"
                  " FROM regressions g WHERE g.script_id = $1::bigint AND g.host_id = $2::bigint"
                  " AND g.python_build = $3 ORDER BY g.id LIMIT 1000";

/* The night after the farm's newest batch: the one a series' next baseline is for. */
#define SERIES_NEXT_NIGHT "(SELECT coalesce(max(n.id), 0) + 1 FROM batches n)"

/*
 * The farm's baseline for the series ($1 script, $2 host, $3 build) of its next night, by the
 * rule the nightly analysis applies (coordinator/analysis.h, ANALYSIS_BASELINE_JOINS; $5:
 * ANALYSIS_HOLD_NIGHTS), one row: each run of $4 (uuid[]: the runs the series query read),
 * oldest first, with the rule's parts as it decides them (after_reset, before_hold, night_kept)
 * and its night's held_out reason; hold, the first night of an open finding, with that finding;
 * and reset_finding, the finding triaged 'expected' whose run restarted the baseline.
 */
// clang-format off
static const char SERIES_BASELINE_SQL[] =
    "WITH c AS (SELECT $1::bigint AS script_id, $2::bigint AS host_id, $3::text AS python_build,"
    "  " SERIES_NEXT_NIGHT " AS batch_id),"
    " m AS (SELECT c.script_id, c.host_id, c.python_build, c.batch_id, " ANALYSIS_BASELINE_COLS
    "  FROM c" ANALYSIS_BASELINE_JOINS(SERIES_NEXT_NIGHT, "$5::integer") ")"
    " SELECT json_build_object('hold', m.hold,"
    " 'hold_finding', (SELECT json_build_object('id', g.id, 'state', g.state) FROM regressions g"
    "  WHERE g.script_id = m.script_id AND g.host_id = m.host_id"
    "  AND g.python_build = m.python_build AND g.batch_id = m.hold AND " ANALYSIS_FINDING_OPEN("g")
    "  ORDER BY g.id LIMIT 1),"
    " 'reset_finding', (SELECT json_build_object('id', g.id, 'run', g.candidate_run::text)"
    "  FROM regressions g JOIN runs y ON y.run_id = g.candidate_run"
    "  WHERE g.script_id = m.script_id AND g.host_id = m.host_id"
    "  AND g.python_build = m.python_build AND g.state = 'expected' AND y.stored_at = m.reset"
    "  ORDER BY g.id DESC LIMIT 1),"
    " 'runs', (SELECT coalesce(json_agg(json_build_object('id', b.run_id::text,"
    "  'batch_id', b.batch_id, 'after_reset', " ANALYSIS_AFTER_RESET ","
    "  'before_hold', " ANALYSIS_BEFORE_HOLD ","
    "  'night_kept', coalesce(" ANALYSIS_NOT_HELD_NIGHT ", false),"
    "  'held_reason', (SELECT x.reason FROM held_out x WHERE x.script_id = m.script_id"
    "   AND x.host_id = m.host_id AND x.python_build = m.python_build"
    "   AND x.batch_id = b.batch_id)) ORDER BY b.stored_at, b.run_id), '[]')"
    "  FROM runs b WHERE b.run_id = ANY ($4::uuid[])))::text"
    " FROM m";
// clang-format on

static const char SERIES_OTHERS_SQL[] =
    "SELECT json_build_object('fingerprint', h.fingerprint, 'hostname', h.hostname,"
    " 'python_build', r.python_build, 'runs', count(*))::text"
    " FROM runs r JOIN hosts h ON h.id = r.host_id"
    " WHERE r.script_id = $1::bigint AND r.outcome = 'ok' AND " TRYBATCH_NOT_TRY_R
    " AND NOT (r.host_id = $2::bigint AND r.python_build IS NOT DISTINCT FROM $3)"
    " GROUP BY h.fingerprint, h.hostname, r.python_build"
    " ORDER BY h.hostname, h.fingerprint, r.python_build LIMIT 1000";

/*
 * The newest $2 ok runs of each (host, build) of the scripts $1 (bigint[])
 * from batches up to $4 (0: all): script, host, build, newest first.
 */
static const char COMPARE_RUNS_SQL[] =
    "SELECT json_build_object('script_id', x.script_id, 'host_id', x.host_id,"
    " 'hostname', h.hostname, 'fingerprint', h.fingerprint, 'python_build', x.python_build,"
    " 'python_version', x.python_version, 'python_executable', x.python_executable,"
    " 'created', pyscope_ts(x.stored_at), 'batch_id', x.batch_id, 'wall_s', x.wall_s,"
    " 'cpu_s', x.cpu_s, 'peak_rss_bytes', x.peak_rss_bytes, 'run_delay_s', x.run_delay_s,"
    " 'run_id', x.run_id::text)::text"
    " FROM (SELECT r.script_id, r.host_id, r.python_build, r.python_version,"
    "   r.python_executable, r.stored_at, r.run_id, r.batch_id,"
    "   r.wall_s, r.cpu_s, r.peak_rss_bytes, r.run_delay_s, row_number() OVER (PARTITION BY "
    "r.script_id,"
    "   r.host_id, r.python_build ORDER BY r.stored_at DESC, r.run_id DESC) AS rn"
    "   FROM runs r WHERE r.script_id = ANY ($1::bigint[]) AND r.outcome = 'ok'"
    "   AND " TRYBATCH_NOT_TRY_R "   AND ($4::bigint = 0 OR r.batch_id <= $4::bigint)) x"
    " JOIN hosts h ON h.id = x.host_id WHERE x.rn <= $2::bigint"
    " ORDER BY x.script_id, h.hostname, h.fingerprint, x.host_id, x.python_build, x.stored_at DESC"
    " LIMIT $3::bigint";

/*
 * The team report's version of COMPARE_RUNS_SQL for the series ($1 script
 * ids, $2 host ids: bigint[] of the same length, pairwise) only: the same
 * rows in the same order. Each series' builds come from a skip scan of
 * runs_series_build_idx (schema/020: one probe per build), each build's
 * newest $3 ok runs from runs_series_idx (index-only; the runs it does not
 * cover from the heap, as the batch analysis reads them): a few index
 * entries per series instead of its whole history from the heap. Wall time,
 * CPU time and run delay (all three in the covering index): the matrix and
 * the hardware ratios use the wall time, and the CPU time where queueing for
 * a CPU contaminated it (coordinator/hostpair.h); memory is not read. The series are sorted before
 * their runs are read (3,500 short rows), so the runs come out in order with only an incremental
 * sort within each series: no sort of all the runs (17,500 rows with their samples) that held every
 * row back until the last was read; the rows stream, and this side makes each script's pairs
 * meanwhile (struct hw_stream).
 */
#define HW_RUNS_PICK(covered)                                                                      \
    "(SELECT r.stored_at, r.run_id, r.batch_id, r.wall_s, r.cpu_s, r.run_delay_s FROM runs r"      \
    " WHERE r.script_id = o.script_id AND r.host_id = o.host_id AND r.python_build = o.build"      \
    " AND r.outcome = 'ok' AND ($4::bigint = 0 OR r.batch_id <= $4::bigint)"                       \
    " AND " TRYBATCH_NOT_TRY_R " AND " covered                                                     \
    " ORDER BY r.stored_at DESC, r.run_id DESC LIMIT $3::bigint)"
// clang-format off
static const char HARDWARE_RUNS_SQL[] =
    "WITH RECURSIVE sc AS (SELECT DISTINCT u.script_id, u.host_id"
    "   FROM unnest($1::bigint[], $2::bigint[]) AS u(script_id, host_id)),"
    " bl AS (SELECT sc.script_id, sc.host_id, (SELECT min(r.python_build) FROM runs r"
    "   WHERE r.script_id = sc.script_id AND r.host_id = sc.host_id) AS build FROM sc"
    "  UNION ALL SELECT bl.script_id, bl.host_id, (SELECT min(r.python_build) FROM runs r"
    "   WHERE r.script_id = bl.script_id AND r.host_id = bl.host_id"
    "   AND r.python_build > bl.build) FROM bl WHERE bl.build IS NOT NULL)"
    " SELECT o.script_id, o.host_id, o.hostname, o.fingerprint, o.build,"
    " pyscope_ts(x.stored_at), x.batch_id, x.wall_s, x.cpu_s, x.run_delay_s"
    " FROM (SELECT bl.script_id, bl.host_id, h.hostname, h.fingerprint, bl.build"
    "   FROM bl JOIN hosts h ON h.id = bl.host_id WHERE bl.build IS NOT NULL"
    "   ORDER BY bl.script_id, h.hostname, h.fingerprint, bl.host_id, bl.build) o"
    " CROSS JOIN LATERAL (SELECT y.* FROM ("
    HW_RUNS_PICK(STORE_RUNS_COVERED("r"))
    " UNION ALL "
    HW_RUNS_PICK("NOT " STORE_RUNS_COVERED("r"))
    ") y ORDER BY y.stored_at DESC, y.run_id DESC LIMIT $3::bigint) x"
    " ORDER BY o.script_id, o.hostname, o.fingerprint, o.host_id, o.build, x.stored_at DESC"
    " LIMIT $5::bigint";
// clang-format on

/* The open findings (new, confirmed or ack, not ended) on the whole script
 * (no function) of the scripts $1 (bigint[]): what a host-vs-host ratio must
 * not be taken for hardware without. */
static const char OPEN_FINDINGS_SQL[] =
    "SELECT json_build_object('id', g.id, 'script_id', g.script_id, 'host_id', g.host_id,"
    " 'python_build', g.python_build, 'metric', g.metric, 'kind', g.kind,"
    " 'change_pct', g.change_pct, 'since_batch_id', g.batch_id, 'state', g.state)::text"
    " FROM regressions g WHERE g.script_id = ANY ($1::bigint[]) AND g.function_key = ''"
    " AND g.ended_batch_id IS NULL AND g.state IN ('new', 'confirmed', 'ack')"
    " ORDER BY g.script_id, g.host_id, g.kind, abs(g.change_pct) DESC, g.id";

/* The machine of each host $1 (bigint[]): what its agent seen last reported (agents.machine,
 * schema/014: the label "machine", else the kernel's boot id); none when no agent of the
 * host reported one (agents from before it, a host whose agents moved to a new fingerprint). */
static const char MACHINES_SQL[] =
    "SELECT json_build_object('host_id', h.id, 'machine', (SELECT a.machine FROM agents a"
    " WHERE a.host_id = h.id AND a.machine <> '' ORDER BY a.last_seen DESC, a.name LIMIT 1))::text"
    " FROM hosts h WHERE h.id = ANY ($1::bigint[])";

/* {"code": code, "message": msg} set as doc's "error". */
__attribute__((format(printf, 3, 4))) static void set_error(json_t *doc, const char *code,
                                                            const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_object_set_new(doc, "error", json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/*
 * The script id of key (borrowed) into *id (0: unknown, with an error set in
 * doc). Returns 0 or a negative code.
 */
static int find_script(struct store *s, const char *key, json_t *doc, json_int_t *id, char *err,
                       size_t errlen)
{
    json_t *rows = NULL;
    const char *p[1] = {key};
    int rc = store_json_rows(s, SCRIPT_SQL, p, 1, &rows, err, errlen);
    if (rc < 0)
        return rc;
    *id = json_integer_value(json_object_get(json_array_get(rows, 0), "id"));
    json_decref(rows);
    if (*id == 0)
        set_error(doc, "unknown_script",
                  "the farm has no runs of \"%s\" (a script key as in the suite, e.g. "
                  "examples/slow_script.py)",
                  key);
    return 0;
}

/*
 * The host named name (borrowed: fingerprint or hostname) into *host (new
 * object {id, hostname, fingerprint}, or NULL with an error set in doc).
 */
static int find_host(struct store *s, const char *name, json_t *doc, json_t **host, char *err,
                     size_t errlen)
{
    *host = NULL;
    json_t *rows = NULL;
    const char *p[1] = {name};
    int rc = store_json_rows(s, HOST_SQL, p, 1, &rows, err, errlen);
    if (rc < 0)
        return rc;
    const json_t *first = json_array_get(rows, 0);
    if (!first) {
        set_error(doc, "unknown_host",
                  "no host named \"%s\" (a hostname or fingerprint); pyscope hosts lists them",
                  name);
    } else if (strcmp(json_get_string(first, "fingerprint", NULL), name) != 0 &&
               json_array_size(rows) > 1) {
        set_error(doc, "ambiguous_host",
                  "%zu hosts are named \"%s\": give a fingerprint (%s, %s, ...)",
                  json_array_size(rows), name, json_get_string(first, "fingerprint", NULL),
                  json_get_string(json_array_get(rows, 1), "fingerprint", NULL));
    } else {
        *host = json_incref((json_t *)first);
    }
    json_decref(rows);
    return 0;
}

/* The machines of the hosts ids (borrowed: "{1,2}") into *out (new object {"HOST_ID":
 * "machine"}, the hosts with one). Returns 0 or a negative code with err. */
static int host_machines(struct store *s, const char *ids, json_t **out, char *err, size_t errlen)
{
    json_t *rows = NULL;
    *out = json_object();
    int rc = store_json_rows(s, MACHINES_SQL, (const char *[]){ids}, 1, &rows, err, errlen);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *m = json_get_string(row, "machine", NULL);
        char k[32];
        snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(row, "host_id")));
        if (m && *m)
            json_object_set_new(*out, k, json_string(m));
    }
    json_decref(rows);
    return rc < 0 ? rc : 0;
}

/* The machine of host row (borrowed; its "host_id") in machines (host_machines'), or NULL. */
static const char *machine_of(const json_t *machines, const json_t *row)
{
    char k[32];
    snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(row, "host_id")));
    return json_string_value(json_object_get(machines, k));
}

/* Batch b in v (n of them). */
static bool has_batch(const json_int_t *v, size_t n, json_int_t b)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == b)
            return true;
    return false;
}

/*
 * The baseline the farm's nightly analysis gives the series' next night, from the runs
 * (borrowed, oldest first: the newest the query read) of the series ids sid, hid and build
 * (borrowed; build NULL: none), as SERIES_BASELINE_SQL decides each by the analysis' own rule
 * (coordinator/analysis.h): the ok runs of earlier nights since the newest run triaged
 * 'expected', none from the night an open finding began on, none of a held-out night among the
 * series' newest ANALYSIS_HOLD_NIGHTS (but its re-run that came back), the newest
 * max_baseline_runs of them. *out gets a new {"message", "n_runs", "held_out_runs"}: `pyscope
 * history --host` says it instead of the local rule's change points, which the farm does not
 * use. Returns 0 or a negative code with err.
 */
static int farm_baseline(struct store *s, const char *sid, const char *hid, const char *build,
                         const json_t *runs, json_t **out, char *err, size_t errlen)
{
    struct regress_options o;
    analysis_options_init(&o);
    struct strbuf ids = {0};
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
        strbuf_addf(&ids, "%s%s", i ? "," : "{", json_get_string(r, "id", ""));
    strbuf_adds(&ids, json_array_size(runs) ? "}" : "{}");
    char nights[16];
    snprintf(nights, sizeof(nights), "%d", ANALYSIS_HOLD_NIGHTS);
    const char *p[5] = {sid, hid, build, ids.s, nights};
    json_t *rows = NULL;
    int rc = store_json_rows(s, SERIES_BASELINE_SQL, p, 5, &rows, err, errlen);
    strbuf_release(&ids);
    if (rc < 0) {
        json_decref(rows);
        return rc;
    }
    const json_t *st = json_array_get(rows, 0);
    json_int_t hold = json_integer_value(json_object_get(st, "hold"));
    const json_t *hf = json_object_get(st, "hold_finding"),
                 *rf = json_object_get(st, "reset_finding");
    size_t usable = 0, by_hold = 0, by_night = 0, n_out = 0;
    const json_t *classified = json_object_get(st, "runs");
    json_int_t *out_batch = xcalloc(json_array_size(classified) + 1, sizeof(*out_batch));
    const char **out_reason = xcalloc(json_array_size(classified) + 1, sizeof(*out_reason));
    const char *reset_run = NULL;
    json_array_foreach(classified, i, r)
    {
        json_int_t b = json_integer_value(json_object_get(r, "batch_id"));
        if (rf && strcmp(json_get_string(r, "id", ""), json_get_string(rf, "run", "")) == 0)
            reset_run = json_get_string(r, "id", NULL); /* among the runs read: said */
        if (!json_is_true(json_object_get(r, "after_reset")))
            continue;
        if (!json_is_true(json_object_get(r, "before_hold"))) {
            by_hold++;
        } else if (!json_is_true(json_object_get(r, "night_kept"))) {
            by_night++;
            if (!has_batch(out_batch, n_out, b)) {
                out_batch[n_out] = b;
                out_reason[n_out++] = json_get_string(r, "held_reason", "");
            }
        } else {
            usable++;
        }
    }
    struct strbuf nights_out = {0};
    for (size_t k = n_out; k-- > 0;) /* newest first */
        strbuf_addf(&nights_out, "%s%" JSON_INTEGER_FORMAT " (%s)", nights_out.len ? ", " : "",
                    out_batch[k],
                    strcmp(out_reason[k], "dismissed") == 0 ? "its re-run found no change"
                                                            : "its re-run did not settle it");
    size_t used = o.max_baseline_runs > 0 && usable > (size_t)o.max_baseline_runs
                      ? (size_t)o.max_baseline_runs
                      : usable;
    struct strbuf m = {0};
    strbuf_addf(&m,
                "the farm's nightly analysis (no change points) compares the next night with the "
                "newest %zu of this series' %zu usable runs of earlier nights",
                used, usable);
    if (hold)
        strbuf_addf(&m,
                    "; the %zu run%s from batch %" JSON_INTEGER_FORMAT
                    " on %s held out while finding #%" JSON_INTEGER_FORMAT
                    " (%s) is open: a change does not become its own baseline until it is "
                    "triaged or ends",
                    by_hold, by_hold == 1 ? "" : "s", hold, by_hold == 1 ? "is" : "are",
                    json_integer_value(json_object_get(hf, "id")),
                    json_get_string(hf, "state", "?"));
    if (by_night)
        strbuf_addf(&m, "; the %zu run%s of batch %s %s held out", by_night,
                    by_night == 1 ? "" : "s", nights_out.s, by_night == 1 ? "is" : "are");
    if (reset_run)
        strbuf_addf(&m,
                    "; it starts at run %.8s, whose finding #%" JSON_INTEGER_FORMAT
                    " was triaged expected (the new normal)",
                    reset_run, json_integer_value(json_object_get(rf, "id")));
    strbuf_release(&nights_out);
    free(out_batch);
    free(out_reason);
    char *text = strbuf_take(&m);
    *out = json_pack("{s:s, s:I, s:I}", "message", text, "n_runs", (json_int_t)used,
                     "held_out_runs", (json_int_t)(by_hold + by_night));
    free(text);
    json_decref(rows);
    return 0;
}

static int answer_series(struct store *s, const struct wire_query *q, json_t *doc, char *err,
                         size_t errlen)
{
    json_int_t script_id;
    int rc = find_script(s, q->script, doc, &script_id, err, errlen);
    if (rc < 0)
        return rc;
    if (script_id == 0)
        return 0;
    json_t *host = NULL;
    rc = find_host(s, q->host, doc, &host, err, errlen);
    if (rc < 0 || host == NULL)
        return rc;
    json_object_set_new(doc, "host",
                        json_pack("{s:O, s:O}", "fingerprint", json_object_get(host, "fingerprint"),
                                  "hostname", json_object_get(host, "hostname")));
    char sid[32], hid[32], limit[32];
    snprintf(sid, sizeof(sid), "%" JSON_INTEGER_FORMAT, script_id);
    snprintf(hid, sizeof(hid), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(host, "id")));
    snprintf(limit, sizeof(limit), "%" PRIu32, q->limit ? q->limit : QUERY_SERIES_DEFAULT_RUNS);
    json_decref(host);
    const char *build = q->python_build && *q->python_build ? q->python_build : "";
    json_t *runs = NULL, *regs = NULL, *others = NULL, *b = NULL, *fb = NULL;
    const char *p4[4] = {sid, hid, build, limit};
    rc = store_json_rows(s, SERIES_RUNS_SQL, p4, 4, &runs, err, errlen);
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run)
    {
        if (json_is_null(json_object_get(run, "instructions")))
            json_object_del(run, "instructions"); /* not counted: as before schema/028 */
    }
    if (rc >= 0 && !*build) {
        const char *p2[2] = {sid, hid};
        rc = store_json_rows(s, SERIES_BUILD_SQL, p2, 2, &b, err, errlen);
        build = json_string_value(json_array_get(b, 0));
    }
    const char *p3[3] = {sid, hid, build};
    if (rc >= 0)
        rc = store_json_rows(s, SERIES_REGS_SQL, p3, 3, &regs, err, errlen);
    if (rc >= 0)
        rc = revrange_annotate(s, regs, err, errlen);
    if (rc >= 0)
        rc = store_json_rows(s, SERIES_OTHERS_SQL, p3, 3, &others, err, errlen);
    if (rc >= 0)
        rc = farm_baseline(s, sid, hid, build, runs, &fb, err, errlen);
    if (rc >= 0) {
        json_object_set_new(doc, "python_build", build ? json_string(build) : json_null());
        json_object_set(doc, "runs", runs);
        json_object_set(doc, "regressions", regs);
        json_object_set(doc, "other_series", others);
        json_object_set_new(doc, "farm_baseline", fb);
        rc = 0;
    }
    json_decref(runs);
    json_decref(regs);
    json_decref(others);
    json_decref(b);
    return rc;
}

/* One (host, build) of compare_hosts: its newest runs' samples of the metric. */
struct cmp_series {
    const json_t *first; /* its newest run row (borrowed from the rows) */
    json_t *samples;     /* array of numbers (owned) */
    json_t *cpu;         /* their CPU time samples (owned): the ratio queueing does not add to */
    double *queued;      /* each run's median queued share, % (NaN: no run delays); owned */
    size_t runs;
};

/* The numbers of row's member key (borrowed) into a new array of n (NaN where none). */
static double *row_numbers(const json_t *row, const char *key, size_t n)
{
    const json_t *a = json_object_get(row, key);
    double *x = xcalloc(n + 1, sizeof(*x));
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        x[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return x;
}

/* Row's (a run's, borrowed) median share of its wall time spent waiting for a CPU
 * (lib/contended.h), NaN when it has no run delays. */
static double run_queued(const json_t *row)
{
    size_t n = json_array_size(json_object_get(row, "wall_s"));
    if (n == 0 || json_array_size(json_object_get(row, "run_delay_s")) != n)
        return NAN;
    double *w = row_numbers(row, "wall_s", n), *d = row_numbers(row, "run_delay_s", n);
    double q, cpu_bound;
    int rc = contended_run(w, d, NULL, n, &q, &cpu_bound);
    free(w);
    free(d);
    return rc < 0 ? NAN : q;
}

/* One host of compare_hosts: its series, newest build first. */
struct cmp_host {
    const json_t *row; /* a row of the host (borrowed) */
    struct cmp_series *series;
    size_t n;
};

/* Group rows (sorted by host, build) into hosts; *n hosts, new array (cmp_hosts_free). */
static struct cmp_host *group_rows(const json_t *rows, const char *metric, size_t *n)
{
    size_t nrows = json_array_size(rows), nh = 0;
    struct cmp_host *hosts = xcalloc(nrows + 1, sizeof(*hosts));
    for (size_t i = 0; i < nrows; i++) {
        const json_t *row = json_array_get(rows, i);
        json_int_t hid = json_integer_value(json_object_get(row, "host_id"));
        struct cmp_host *h = nh ? &hosts[nh - 1] : NULL;
        if (!h || json_integer_value(json_object_get(h->row, "host_id")) != hid) {
            h = &hosts[nh++];
            h->row = row;
            h->series = xcalloc(nrows - i, sizeof(*h->series));
        }
        struct cmp_series *se = h->n ? &h->series[h->n - 1] : NULL;
        if (!se || strcmp(json_get_string(se->first, "python_build", NULL),
                          json_get_string(row, "python_build", NULL)) != 0) {
            se = &h->series[h->n++];
            se->first = row;
            se->samples = json_array();
            se->cpu = json_array();
            se->queued = xcalloc(nrows - i, sizeof(*se->queued));
        }
        se->queued[se->runs++] = run_queued(row);
        size_t k;
        const json_t *v;
        json_array_foreach(json_object_get(row, metric), k, v)
        {
            if (json_is_number(v))
                json_array_append(se->samples, (json_t *)v);
        }
        json_array_foreach(json_object_get(row, "cpu_s"), k, v)
        {
            if (json_is_number(v))
                json_array_append(se->cpu, (json_t *)v);
        }
    }
    /* newest build first (the rows are newest first within a build) */
    for (size_t i = 0; i < nh; i++) {
        struct cmp_host *h = &hosts[i];
        for (size_t a = 1; a < h->n; a++)
            for (size_t b = a;
                 b > 0 && strcmp(json_get_string(h->series[b].first, "created", NULL),
                                 json_get_string(h->series[b - 1].first, "created", NULL)) > 0;
                 b--) {
                struct cmp_series t = h->series[b];
                h->series[b] = h->series[b - 1];
                h->series[b - 1] = t;
            }
    }
    *n = nh;
    return hosts;
}

/* Free what se owns. */
static void series_release(struct cmp_series *se)
{
    json_decref(se->samples);
    json_decref(se->cpu);
    free(se->queued);
}

static void cmp_hosts_free(struct cmp_host *hosts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < hosts[i].n; k++)
            series_release(&hosts[i].series[k]);
        free(hosts[i].series);
    }
    free(hosts);
}

/* Median of a samples array (borrowed) as JSON (new), null when empty. */
static json_t *median_of(const json_t *samples)
{
    size_t n = json_array_size(samples);
    double *x = xcalloc(n + 1, sizeof(*x));
    for (size_t i = 0; i < n; i++)
        x[i] = json_number_value(json_array_get(samples, i));
    double med = 0;
    bool ok = n && stats_median(x, n, &med) == 0;
    free(x);
    return ok ? json_real(med) : json_null();
}

/*
 * The series of hosts a and b (borrowed) to compare: of the Python builds both
 * ran, the one whose newest run is the newest (hosts are compared like with
 * like: one build on both). False when they ran no build in common.
 */
static bool pick_series(const struct cmp_host *a, const struct cmp_host *b,
                        const struct cmp_series **sa, const struct cmp_series **sb)
{
    const char *best = NULL;
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < b->n; k++) {
            if (strcmp(json_get_string(a->series[i].first, "python_build", NULL),
                       json_get_string(b->series[k].first, "python_build", NULL)) != 0)
                continue;
            const char *ta = json_get_string(a->series[i].first, "created", NULL);
            const char *tb = json_get_string(b->series[k].first, "created", NULL);
            const char *t = strcmp(ta, tb) > 0 ? ta : tb;
            if (!best || strcmp(t, best) > 0) {
                best = t;
                *sa = &a->series[i];
                *sb = &b->series[k];
            }
        }
    return best != NULL;
}

/* The Python builds of host h (borrowed) as a JSON array of strings (new), newest first. */
static json_t *builds_of(const struct cmp_host *h)
{
    json_t *out = json_array();
    for (size_t k = 0; k < h->n; k++)
        json_array_append(out, json_object_get(h->series[k].first, "python_build"));
    return out;
}

/* "HOST ran VERSION, VERSION" of h's series (the Python versions it ran the script under),
 * appended to *text ("; " between hosts; new string, caller frees). */
static void append_versions(char **text, const struct cmp_host *h)
{
    char *t = xasprintf("%s%s%s ran Python ", *text ? *text : "", *text ? "; " : "",
                        json_get_string(h->row, "hostname", NULL) ?: "?");
    for (size_t k = 0; k < h->n; k++) {
        const char *v = json_get_string(h->series[k].first, "python_version", NULL);
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen |= strcmp(json_get_string(h->series[j].first, "python_version", NULL) ?: "",
                           v ?: "") == 0;
        if (seen)
            continue;
        char *next = xasprintf("%s%s%s", t, k ? ", " : "", v && *v ? v : "?");
        free(t);
        t = next;
    }
    free(*text);
    *text = t;
}

/* Keep only the series of h whose Python matches request (lib/pyreq.h); returns how many. */
static size_t keep_python(struct cmp_host *h, const char *request)
{
    size_t kept = 0;
    for (size_t k = 0; k < h->n; k++) {
        if (pyreq_match(request, json_get_string(h->series[k].first, "python_version", NULL),
                        json_get_string(h->series[k].first, "python_executable", NULL), NULL))
            h->series[kept++] = h->series[k];
        else
            series_release(&h->series[k]);
    }
    h->n = kept;
    return kept;
}

/*
 * The open findings of findings (borrowed: OPEN_FINDINGS_SQL rows) on the
 * series of host h (borrowed) and build of se, appended to out as
 * {"host", "id", "metric", "kind", "change_pct", "since_batch_id", "state"}.
 */
static void add_findings(json_t *out, const json_t *findings, const struct cmp_host *h,
                         const struct cmp_series *se)
{
    json_int_t script = json_integer_value(json_object_get(se->first, "script_id"));
    json_int_t host = json_integer_value(json_object_get(h->row, "host_id"));
    size_t i;
    const json_t *f;
    json_array_foreach(findings, i, f)
    {
        if (json_integer_value(json_object_get(f, "script_id")) != script ||
            json_integer_value(json_object_get(f, "host_id")) != host ||
            strcmp(json_get_string(f, "python_build", NULL),
                   json_get_string(se->first, "python_build", NULL)) != 0)
            continue;
        json_array_append_new(
            out,
            json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "host",
                      json_object_get(h->row, "hostname"), "id", json_object_get(f, "id"), "metric",
                      json_object_get(f, "metric"), "kind", json_object_get(f, "kind"),
                      "change_pct", json_object_get(f, "change_pct"), "since_batch_id",
                      json_object_get(f, "since_batch_id"), "state", json_object_get(f, "state")));
    }
}

/* report_hardware_pair of series a and b on metric, each side named by name_a, name_b (its
 * host, or its Python version): new, or NULL when a side has no samples. */
static json_t *series_pair(const char *script, const char *metric, const char *name_a,
                           const struct cmp_series *a, const char *name_b,
                           const struct cmp_series *b)
{
    json_t *ra = json_pack("{s:s, s:O, s:O}", "host", name_a, "python_build",
                           json_object_get(a->first, "python_build"), metric, a->samples);
    json_t *rb = json_pack("{s:s, s:O, s:O}", "host", name_b, "python_build",
                           json_object_get(b->first, "python_build"), metric, b->samples);
    json_t *pair = report_hardware_pair(script, ra, rb, metric);
    json_decref(ra);
    json_decref(rb);
    return pair;
}

/* The CPU-time ratio B/A of series a and b (report_hardware_pair of their "cpu" samples):
 * {ratio, ci_low, ci_high, samples_a, samples_b} (new), or NULL when a side has none. */
static json_t *cpu_ratio(const char *script, const struct cmp_series *a, const struct cmp_series *b)
{
    json_t *ra = json_pack("{s:s, s:O, s:O}", "host", "a", "python_build",
                           json_object_get(a->first, "python_build"), "cpu_s", a->cpu);
    json_t *rb = json_pack("{s:s, s:O, s:O}", "host", "b", "python_build",
                           json_object_get(b->first, "python_build"), "cpu_s", b->cpu);
    json_t *p = report_hardware_pair(script, ra, rb, "cpu_s");
    json_decref(ra);
    json_decref(rb);
    if (!p)
        return NULL;
    json_t *out = json_object();
    static const char *const keep[] = {"ratio", "ci_low", "ci_high", "samples_a", "samples_b"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        json_object_set(out, keep[i], json_object_get(p, keep[i]));
    json_decref(p);
    return out;
}

/*
 * What pair's (the pair object of hosts a, b on their series sa, sb; borrowed) ratio of metric
 * measures (coordinator/hostpair.h): each host's machine (machines: host_machines') and share of
 * wall time queued for a CPU, whether they are one machine, whether the wall time is contaminated,
 * "measures", and where the ratio is not the hardware the CPU-time ratio ("cpu", for a wall
 * time ratio) and the "caveat" sentence; set on pair.
 */
static void pair_reading(json_t *pair, const char *script, const char *metric,
                         const struct cmp_host *a, const struct cmp_host *b,
                         const struct cmp_series *sa, const struct cmp_series *sb,
                         const json_t *machines)
{
    const char *ma = machine_of(machines, a->row), *mb = machine_of(machines, b->row);
    double qa = hostpair_side_queued(sa->queued, sa->runs);
    double qb = hostpair_side_queued(sb->queued, sb->runs);
    bool wall = strcmp(metric, "wall_s") == 0;
    struct hostpair_reading r;
    hostpair_judge(ma, mb, qa, qb, wall, &r);
    json_object_set_new(pair, "machine_a", ma ? json_string(ma) : json_null());
    json_object_set_new(pair, "machine_b", mb ? json_string(mb) : json_null());
    json_object_set_new(pair, "same_machine",
                        r.same_machine == HOSTPAIR_UNKNOWN
                            ? json_null()
                            : json_boolean(r.same_machine == HOSTPAIR_YES));
    json_object_set_new(pair, "queued_pct_a", json_real_or_null(true, qa));
    json_object_set_new(pair, "queued_pct_b", json_real_or_null(true, qb));
    json_object_set_new(pair, "wall_contaminated",
                        r.wall_contaminated == HOSTPAIR_UNKNOWN
                            ? json_null()
                            : json_boolean(r.wall_contaminated == HOSTPAIR_YES));
    json_object_set_new(pair, "measures", json_string(hostpair_measures_name(r.measures)));
    json_t *cpu = wall && r.measures != HOSTPAIR_HARDWARE ? cpu_ratio(script, sa, sb) : NULL;
    struct hostpair_ratio cr = {NAN, NAN, NAN};
    if (cpu) {
        cr.ratio = json_number_value(json_object_get(cpu, "ratio"));
        cr.ci_low = json_number_value(json_object_get(cpu, "ci_low"));
        cr.ci_high = json_number_value(json_object_get(cpu, "ci_high"));
    }
    char *caveat =
        hostpair_caveat(&r, json_get_string(a->row, "hostname", NULL),
                        json_get_string(b->row, "hostname", NULL), ma, qa, qb, cpu ? &cr : NULL);
    json_object_set_new(pair, "cpu", cpu ? cpu : json_null());
    json_t *said = caveat ? json_string(caveat) : NULL; /* NULL too when not UTF-8 */
    json_object_set_new(pair, "caveat", said ? said : json_null());
    free(caveat);
}

/*
 * The pair object of hosts a, b (borrowed) on the Python build both ran
 * (pick_series), or NULL when they ran none in common or a side has no
 * samples; its "findings" are the open findings (borrowed) of either side's
 * series compared: a ratio that includes a regression is not the hardware;
 * and what the ratio measures (pair_reading, with the hosts' machines).
 */
static json_t *pair_new(const char *script, const char *metric, const struct cmp_host *a,
                        const struct cmp_host *b, const json_t *findings, const json_t *machines)
{
    const struct cmp_series *sa = NULL, *sb = NULL;
    if (!pick_series(a, b, &sa, &sb))
        return NULL;
    json_t *pair = series_pair(script, metric, json_get_string(a->row, "hostname", NULL), sa,
                               json_get_string(b->row, "hostname", NULL), sb);
    if (!pair)
        return NULL;
    json_object_set(pair, "fingerprint_a", json_object_get(a->row, "fingerprint"));
    json_object_set(pair, "fingerprint_b", json_object_get(b->row, "fingerprint"));
    json_object_set_new(pair, "same_python_build", json_true()); /* always, since pyscope 0.1 */
    json_object_set(pair, "python_build", json_object_get(sa->first, "python_build"));
    json_object_set(pair, "python_version", json_object_get(sa->first, "python_version"));
    json_object_set_new(pair, "median_a", median_of(sa->samples));
    json_object_set_new(pair, "median_b", median_of(sb->samples));
    json_object_set_new(pair, "runs_a", json_integer((json_int_t)sa->runs));
    json_object_set_new(pair, "runs_b", json_integer((json_int_t)sb->runs));
    json_object_set(pair, "newest_a", json_object_get(sa->first, "created"));
    json_object_set(pair, "newest_b", json_object_get(sb->first, "created"));
    json_t *found = json_array();
    add_findings(found, findings, a, sa);
    add_findings(found, findings, b, sb);
    json_object_set_new(pair, "findings", found);
    pair_reading(pair, script, metric, a, b, sa, sb, machines);
    return pair;
}

/* The index in hosts (n) of the host with id, or n. */
static size_t host_index(const struct cmp_host *hosts, size_t n, json_int_t id)
{
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_object_get(hosts[i].row, "host_id")) == id)
            return i;
    return n;
}

/* The ids of q's named hosts as *want (new, q->n_hosts long), resolved before anything else.
 * Returns 0, or < 0 with err set; *want is NULL when doc's error is set (an unknown host, or
 * one named twice). */
static int resolve_hosts(struct store *s, const struct wire_query *q, json_t *doc,
                         json_int_t **want, char *err, size_t errlen)
{
    json_int_t *ids = xcalloc(q->n_hosts + 1, sizeof(*ids));
    *want = NULL;
    for (size_t i = 0; i < q->n_hosts; i++) {
        json_t *h = NULL;
        int rc = find_host(s, q->hosts[i], doc, &h, err, errlen);
        if (rc < 0 || h == NULL) {
            free(ids);
            return rc;
        }
        ids[i] = json_integer_value(json_object_get(h, "id"));
        json_decref(h);
        for (size_t k = 0; k < i; k++)
            if (ids[k] == ids[i]) {
                set_error(doc, "same_host", "\"%s\" and \"%s\" are the same host: name two",
                          q->hosts[k], q->hosts[i]);
                free(ids);
                return 0;
            }
    }
    *want = ids;
    return 0;
}

/*
 * --python want_py: keeps only the builds of hosts[0..nh) that match it; a host left with
 * none is out of play (out_of_play[i]) and listed in without with the builds it had.
 * ran[i] (new) gets the versions host i ran the script under and *ran_all (new) every
 * host's: what --python could be, for the errors.
 */
static void keep_python_of(struct cmp_host *hosts, size_t nh, const char *want_py, json_t *without,
                           bool *out_of_play, char **ran, char **ran_all)
{
    for (size_t i = 0; i < nh; i++) {
        append_versions(&ran[i], &hosts[i]);
        append_versions(ran_all, &hosts[i]);
    }
    for (size_t i = 0; i < nh; i++) {
        json_t *had = builds_of(&hosts[i]);
        if (keep_python(&hosts[i], want_py) == 0) {
            out_of_play[i] = true;
            json_array_append_new(without, json_pack("{s:O, s:O, s:o}", "hostname",
                                                     json_object_get(hosts[i].row, "hostname"),
                                                     "fingerprint",
                                                     json_object_get(hosts[i].row, "fingerprint"),
                                                     "python_builds", had));
        } else {
            json_decref(had);
        }
    }
}

/*
 * The hosts in play into use (their indices in hosts[0..nh), in order; *nuse of them): q's
 * named ones (ids want), else every host that ran the script and is not out of play.
 * False with doc's error set when a named host has no run (under want_py: ran its versions).
 */
static bool hosts_in_play(const struct wire_query *q, const struct cmp_host *hosts, size_t nh,
                          const json_int_t *want, const bool *out_of_play, const char *want_py,
                          char *const *ran, json_t *doc, size_t *use, size_t *nuse)
{
    *nuse = 0;
    for (size_t i = 0; i < q->n_hosts; i++) {
        size_t k = host_index(hosts, nh, want[i]);
        if (k == nh) {
            set_error(doc, "no_runs", "host \"%s\" has no successful run of \"%s\"", q->hosts[i],
                      q->script);
            return false;
        }
        if (out_of_play[k]) {
            set_error(doc, "no_python",
                      "host \"%s\" has no successful run of \"%s\" under Python %s (%s; "
                      "pyscope compare-hosts without --python compares the build both hosts "
                      "ran)",
                      q->hosts[i], q->script, want_py, ran[k]);
            return false;
        }
        use[(*nuse)++] = k;
    }
    if (q->n_hosts == 0)
        for (size_t i = 0; i < nh; i++)
            if (!out_of_play[i])
                use[(*nuse)++] = i;
    return true;
}

/* The "hosts" array of compare_hosts: each host in play with its machine (machines:
 * host_machines', null unknown) and its series (one a build). */
static json_t *hosts_json(const struct cmp_host *hosts, const size_t *use, size_t nuse,
                          const json_t *machines)
{
    json_t *hosts_arr = json_array();
    for (size_t i = 0; i < nuse; i++) {
        const struct cmp_host *h = &hosts[use[i]];
        json_t *builds = json_array();
        for (size_t k = 0; k < h->n; k++)
            json_array_append_new(builds,
                                  json_pack("{s:O, s:O, s:I, s:I, s:o, s:O}", "python_build",
                                            json_object_get(h->series[k].first, "python_build"),
                                            "python_version",
                                            json_object_get(h->series[k].first, "python_version"),
                                            "runs", (json_int_t)h->series[k].runs, "samples",
                                            (json_int_t)json_array_size(h->series[k].samples),
                                            "median", median_of(h->series[k].samples), "newest",
                                            json_object_get(h->series[k].first, "created")));
        const char *m = machine_of(machines, h->row);
        json_array_append_new(hosts_arr,
                              json_pack("{s:O, s:O, s:o, s:o}", "hostname",
                                        json_object_get(h->row, "hostname"), "fingerprint",
                                        json_object_get(h->row, "fingerprint"), "machine",
                                        m ? json_string(m) : json_null(), "series", builds));
    }
    return hosts_arr;
}

/* doc's error when fewer than two hosts are in play (nuse; use[0] the one), of nh that ran
 * the script; ran_all: the versions they ran under --python want_py. */
static void few_hosts_error(json_t *doc, const struct wire_query *q, const struct cmp_host *hosts,
                            size_t nh, const size_t *use, size_t nuse, const char *want_py,
                            const char *ran_all)
{
    if (nuse == 1)
        set_error(doc, "one_host",
                  "only host \"%s\" ran \"%s\"%s%s: nothing to compare it with%s%s%s",
                  json_get_string(hosts[use[0]].row, "hostname", NULL), q->script,
                  want_py ? " under Python " : "", want_py ? want_py : "", want_py ? " (" : "",
                  want_py ? ran_all : "", want_py ? ")" : "");
    else if (want_py && nh)
        set_error(doc, "no_python",
                  "no host ran \"%s\" under Python %s (%s: --python takes one of those)", q->script,
                  want_py, ran_all ? ran_all : "no runs");
    else
        set_error(doc, "no_runs", "no host has a successful run of \"%s\"", q->script);
}

/*
 * doc's "pairs" of the hosts in play (use, nuse) on metric, with the open findings
 * (borrowed) of either side. Pairs of hosts that ran no Python build in common are not
 * compared: listed in "not_compared" with the builds each ran (a ratio across builds would
 * be the hosts' and the Pythons' at once), and an error when no pair is left.
 */
static void compare_pairs(json_t *doc, const struct wire_query *q, const char *metric,
                          const struct cmp_host *hosts, const size_t *use, size_t nuse,
                          const json_t *findings, const json_t *machines)
{
    json_t *pairs = json_array(), *apart = json_array();
    json_object_set_new(doc, "pairs", pairs);
    json_object_set_new(doc, "not_compared", apart);
    for (size_t i = 0; i < nuse && json_array_size(pairs) < QUERY_MAX_PAIRS; i++)
        for (size_t k = i + 1; k < nuse && json_array_size(pairs) < QUERY_MAX_PAIRS; k++) {
            const struct cmp_host *a = &hosts[use[i]], *b = &hosts[use[k]];
            const struct cmp_series *sa, *sb;
            if (!pick_series(a, b, &sa, &sb)) {
                if (json_array_size(apart) < QUERY_MAX_PAIRS)
                    json_array_append_new(
                        apart, json_pack("{s:O, s:O, s:o, s:o}", "host_a",
                                         json_object_get(a->row, "hostname"), "host_b",
                                         json_object_get(b->row, "hostname"), "python_builds_a",
                                         builds_of(a), "python_builds_b", builds_of(b)));
                continue;
            }
            json_t *pair = pair_new(q->script, metric, a, b, findings, machines);
            if (pair)
                json_array_append_new(pairs, pair);
        }
    if (json_array_size(pairs) == 0 && json_array_size(apart) > 0) {
        const json_t *x = json_array_get(apart, 0);
        set_error(doc, "no_common_build",
                  "no Python build ran \"%s\" on both \"%s\" and \"%s\"%s (builds in "
                  "not_compared): hosts are compared under one build; run the script on both "
                  "under one Python (pyscope submit --python VERSION)",
                  q->script, json_get_string(x, "host_a", NULL), json_get_string(x, "host_b", NULL),
                  json_array_size(apart) > 1 ? ", nor on any other pair" : "");
    }
}

/* host_machines of hosts[0..nh) into *out (new). */
static int hosts_machines(struct store *s, const struct cmp_host *hosts, size_t nh, json_t **out,
                          char *err, size_t errlen)
{
    struct strbuf b = {0};
    strbuf_adds(&b, "{");
    for (size_t i = 0; i < nh; i++)
        strbuf_addf(&b, "%s%" JSON_INTEGER_FORMAT, i ? "," : "",
                    json_integer_value(json_object_get(hosts[i].row, "host_id")));
    strbuf_adds(&b, "}");
    int rc = host_machines(s, b.s, out, err, errlen);
    strbuf_release(&b);
    return rc;
}

static int answer_compare(struct store *s, const struct wire_query *q, json_t *doc, char *err,
                          size_t errlen)
{
    const char *metric = q->metric && *q->metric ? q->metric : "wall_s";
    uint32_t per = q->limit ? q->limit : QUERY_COMPARE_DEFAULT_RUNS;
    json_object_set_new(doc, "metric", json_string(metric));
    json_object_set_new(doc, "runs_per_host", json_integer(per));
    json_int_t script_id;
    int rc = find_script(s, q->script, doc, &script_id, err, errlen);
    if (rc < 0)
        return rc;
    if (script_id == 0)
        return 0;
    json_int_t *want;
    rc = resolve_hosts(s, q, doc, &want, err, errlen);
    if (want == NULL)
        return rc;
    char sid[32], lim[32], maxrows[32];
    snprintf(sid, sizeof(sid), "{%" JSON_INTEGER_FORMAT "}", script_id);
    snprintf(lim, sizeof(lim), "%" PRIu32, per);
    snprintf(maxrows, sizeof(maxrows), "%d", QUERY_MAX_COMPARE_ROWS);
    const char *p[4] = {sid, lim, maxrows, "0"};
    json_t *rows = NULL, *findings = NULL;
    rc = store_json_rows(s, COMPARE_RUNS_SQL, p, 4, &rows, err, errlen);
    if (rc >= 0)
        rc = store_json_rows(s, OPEN_FINDINGS_SQL, p, 1, &findings, err, errlen);
    if (rc < 0) {
        json_decref(rows);
        free(want);
        return rc;
    }
    size_t nh;
    struct cmp_host *hosts = group_rows(rows, metric, &nh);
    json_t *machines = NULL;
    rc = hosts_machines(s, hosts, nh, &machines, err, errlen);
    /* --python: only the builds that match it; a host without one is left out (named: an error) */
    const char *want_py = q->n_pythons ? q->pythons[0] : NULL;
    json_object_set_new(doc, "python", want_py ? json_string(want_py) : json_null());
    json_t *without = json_array();
    json_object_set_new(doc, "hosts_without_python", without);
    bool *out_of_play = xcalloc(nh + 1, sizeof(*out_of_play));
    char **ran = xcalloc(nh + 1, sizeof(*ran));
    char *ran_all = NULL;
    if (want_py)
        keep_python_of(hosts, nh, want_py, without, out_of_play, ran, &ran_all);
    size_t *use = xcalloc(nh + q->n_hosts + 1, sizeof(*use)), nuse;
    if (rc >= 0 && hosts_in_play(q, hosts, nh, want, out_of_play, want_py, ran, doc, use, &nuse)) {
        json_object_set_new(doc, "hosts", hosts_json(hosts, use, nuse, machines));
        if (nuse < 2)
            few_hosts_error(doc, q, hosts, nh, use, nuse, want_py, ran_all);
        else
            compare_pairs(doc, q, metric, hosts, use, nuse, findings, machines);
    }
    for (size_t i = 0; i < nh; i++)
        free(ran[i]);
    free(ran);
    free(ran_all);
    free(use);
    free(out_of_play);
    cmp_hosts_free(hosts, nh);
    json_decref(machines);
    json_decref(rows);
    json_decref(findings);
    free(want);
    return rc < 0 ? rc : 0;
}

/* ---- compare_pythons: one host, each Python build (docs/pythons.md) ---- */

static const char *const PY_METRICS[] = {"wall_s", "cpu_s", "peak_rss_bytes"};
#define PY_N_METRICS 3

/* A version "3.12.1" as one number, for ordering. */
static long version_key(const char *v)
{
    int a = 0, b = 0, c = 0;
    if (sscanf(v ? v : "", "%d.%d.%d", &a, &b, &c) < 1)
        return 0;
    return a * 1000000L + b * 1000L + c;
}

/* The runs of se's series (host of h, its build) in rows (borrowed) as regress_runs of
 * metric: *n runs, a new array whose samples are new too (py_runs_free). */
static struct regress_run *py_runs(const json_t *rows, const struct cmp_host *h,
                                   const struct cmp_series *se, const char *metric, size_t *n)
{
    json_int_t hid = json_integer_value(json_object_get(h->row, "host_id"));
    const char *build = json_get_string(se->first, "python_build", NULL);
    struct regress_run *runs = xcalloc(json_array_size(rows) + 1, sizeof(*runs));
    size_t k = 0, i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (json_integer_value(json_object_get(row, "host_id")) != hid ||
            strcmp(json_get_string(row, "python_build", NULL), build) != 0)
            continue;
        const json_t *arr = json_object_get(row, metric);
        double *x = xcalloc(json_array_size(arr) + 1, sizeof(*x));
        size_t m = 0, j;
        const json_t *v;
        json_array_foreach(arr, j, v)
        {
            if (json_is_number(v))
                x[m++] = json_number_value(v);
        }
        runs[k++] = (struct regress_run){x, m};
    }
    *n = k;
    return runs;
}

static void py_runs_free(struct regress_run *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((double *)runs[i].x);
    free(runs);
}

/* The comparison of series c against the baseline b (both of host h) on metric: the ratio
 * of medians with its 95% bootstrap interval (report_hardware_pair, as compare_hosts) and
 * lib/regress's verdict on c's runs against b's (new object, or null without samples). */
static json_t *py_compare(const char *script, const json_t *rows, const struct cmp_host *h,
                          const struct cmp_series *b, const struct cmp_series *c,
                          const char *metric)
{
    json_t *pair = series_pair(script, metric, json_get_string(b->first, "python_version", NULL), b,
                               json_get_string(c->first, "python_version", NULL), c);
    if (!pair)
        return json_null();
    json_t *out =
        json_pack("{s:O, s:O, s:O, s:O, s:O, s:o, s:o}", "ratio", json_object_get(pair, "ratio"),
                  "ci_low", json_object_get(pair, "ci_low"), "ci_high",
                  json_object_get(pair, "ci_high"), "samples_base",
                  json_object_get(pair, "samples_a"), "samples", json_object_get(pair, "samples_b"),
                  "median_base", median_of(b->samples), "median", median_of(c->samples));
    json_decref(pair);
    size_t nb, nc;
    struct regress_run *base = py_runs(rows, h, b, metric, &nb);
    struct regress_run *cand = py_runs(rows, h, c, metric, &nc);
    struct regress_result res;
    if (regress_metric_runs(base, nb, cand, nc, NULL, &res) == 0) {
        char why[512];
        json_object_set_new(out, "verdict", json_string(regress_verdict_name(res.verdict)));
        json_object_set_new(out, "change_pct", json_real(res.change_pct));
        json_object_set_new(out, "reason", json_string(regress_reason(&res, why, sizeof(why))));
    } else {
        json_object_set_new(out, "verdict", json_string("inconclusive"));
        json_object_set_new(out, "reason", json_string("too few samples to decide"));
    }
    py_runs_free(base, nb);
    py_runs_free(cand, nc);
    return out;
}

/* Whether series se matches one of q's Python requests (all when none). */
static bool py_wanted(const struct wire_query *q, const struct cmp_series *se)
{
    for (size_t i = 0; i < q->n_pythons; i++)
        if (pyreq_match(q->pythons[i], json_get_string(se->first, "python_version", NULL),
                        json_get_string(se->first, "python_executable", NULL), NULL))
            return true;
    return q->n_pythons == 0;
}

/* Pick the host of a compare_pythons query: want (its id), else the host with two builds or
 * more whose newest run is the newest. Returns its index in hosts, or nh (doc's error set). */
static size_t py_pick_host(const struct wire_query *q, const struct cmp_host *hosts, size_t nh,
                           json_int_t want, json_t *doc)
{
    if (want) {
        size_t k = host_index(hosts, nh, want);
        if (k == nh)
            set_error(doc, "no_runs", "host \"%s\" has no successful run of \"%s\"", q->host,
                      q->script);
        return k;
    }
    size_t best = nh;
    for (size_t i = 0; i < nh; i++)
        if (hosts[i].n >= 2 &&
            (best == nh ||
             strcmp(json_get_string(hosts[i].series[0].first, "created", NULL),
                    json_get_string(hosts[best].series[0].first, "created", NULL)) > 0))
            best = i;
    if (best == nh)
        set_error(doc, nh ? "one_python" : "no_runs",
                  nh ? "no host ran \"%s\" under two Python builds: nothing to compare"
                     : "no host has a successful run of \"%s\"",
                  q->script);
    return best;
}

/* The run documents (STORE_RUN_DOC_SQL, with hotspots) of the runs $1 (uuid[]). */
static const char PY_DOCS_SQL[] = "SELECT " STORE_RUN_DOC_SQL " WHERE r.run_id = ANY ($1::uuid[])";

/* Append the run ids of se's series (host of h, its build) in rows (borrowed) to *ids (a
 * PostgreSQL array literal's elements, comma-separated; new string). */
static void py_run_ids(const json_t *rows, const struct cmp_host *h, const struct cmp_series *se,
                       char **ids)
{
    json_int_t hid = json_integer_value(json_object_get(h->row, "host_id"));
    const char *build = json_get_string(se->first, "python_build", NULL);
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *id = json_get_string(row, "run_id", NULL);
        if (json_integer_value(json_object_get(row, "host_id")) == hid && *id &&
            strcmp(json_get_string(row, "python_build", NULL), build) == 0) {
            char *more = xasprintf("%s%s%s", *ids, **ids ? "," : "", id);
            free(*ids);
            *ids = more;
        }
    }
}

/*
 * The functions whose self time moved most from series b to series c (both of host h, their
 * runs in rows): regress_moved_functions over the runs' hotspots, as *out (new array).
 */
static int py_functions(struct store *s, const json_t *rows, const struct cmp_host *h,
                        const struct cmp_series *b, const struct cmp_series *c, json_t **out,
                        char *err, size_t errlen)
{
    char *ids = xasprintf("%s", "");
    py_run_ids(rows, h, b, &ids);
    py_run_ids(rows, h, c, &ids);
    char *lit = xasprintf("{%s}", ids);
    const char *p[1] = {lit};
    json_t *docs = NULL;
    int rc = store_json_rows(s, PY_DOCS_SQL, p, 1, &docs, err, errlen);
    free(ids);
    free(lit);
    if (rc < 0)
        return rc;
    const char *build_b = json_get_string(b->first, "python_build", NULL);
    size_t n = json_array_size(docs), nb = 0, nc = 0;
    const json_t **base = xcalloc(n + 1, sizeof(*base)), **cand = xcalloc(n + 1, sizeof(*cand));
    for (size_t i = 0; i < n; i++) {
        const json_t *d = json_array_get(docs, i);
        const char *build =
            json_string_value(json_object_get(json_object_get(d, "python"), "build"));
        if (build && strcmp(build, build_b) == 0)
            base[nb++] = d;
        else
            cand[nc++] = d;
    }
    *out = regress_moved_functions(cand, nc, base, nb, QUERY_PYTHONS_TOP_FUNCTIONS);
    free(base);
    free(cand);
    json_decref(docs);
    return 0;
}

/* The builds of h's series that q asks for (py_wanted) and whose newest run is of batch
 * min_batch or later (0: any), oldest version first: their indices in h->series (new, *n). */
static size_t *py_builds(const struct wire_query *q, const struct cmp_host *h, uint64_t min_batch,
                         size_t *n)
{
    size_t *use = xcalloc(h->n + 1, sizeof(*use)), nuse = 0;
    for (size_t k = 0; k < h->n; k++)
        if (py_wanted(q, &h->series[k]) &&
            (min_batch == 0 || (uint64_t)json_integer_value(
                                   json_object_get(h->series[k].first, "batch_id")) >= min_batch))
            use[nuse++] = k;
    for (size_t a = 1; a < nuse; a++)
        for (size_t b = a;
             b > 0 &&
             version_key(json_get_string(h->series[use[b]].first, "python_version", NULL)) <
                 version_key(json_get_string(h->series[use[b - 1]].first, "python_version", NULL));
             b--) {
            size_t t = use[b];
            use[b] = use[b - 1];
            use[b - 1] = t;
        }
    *n = nuse;
    return use;
}

/* Whether host h ran every Python q names; if not, doc's error says which it has. */
static bool py_all_asked_ran(const struct wire_query *q, const struct cmp_host *h, json_t *doc)
{
    for (size_t i = 0; i < q->n_pythons; i++) {
        bool found = false;
        for (size_t k = 0; k < h->n && !found; k++)
            found = pyreq_match(
                q->pythons[i], json_get_string(h->series[k].first, "python_version", NULL),
                json_get_string(h->series[k].first, "python_executable", NULL), NULL);
        if (found)
            continue;
        json_t *builds = json_array();
        for (size_t k = 0; k < h->n; k++)
            json_array_append_new(
                builds, json_string(json_get_string(h->series[k].first, "python_version", NULL)));
        char *have = json_dumps(builds, JSON_COMPACT);
        set_error(doc, "no_python", "host \"%s\" has no run of \"%s\" under Python %s (it has %s)",
                  json_get_string(h->row, "hostname", NULL), q->script, q->pythons[i],
                  have ? have : "?");
        free(have);
        json_decref(builds);
        return false;
    }
    return true;
}

/* The baseline among h's builds use[0..nuse): --baseline, else the first Python asked for,
 * else the oldest version (0). Its index in use, or nuse with doc's error set. */
static size_t py_baseline(const struct wire_query *q, const struct cmp_host *h, const size_t *use,
                          size_t nuse, json_t *doc)
{
    const char *breq = q->baseline && *q->baseline ? q->baseline
                       : q->n_pythons              ? q->pythons[0]
                                                   : NULL;
    if (!breq)
        return 0;
    for (size_t i = 0; i < nuse; i++)
        if (pyreq_match(breq, json_get_string(h->series[use[i]].first, "python_version", NULL),
                        json_get_string(h->series[use[i]].first, "python_executable", NULL), NULL))
            return i;
    set_error(doc, "no_python", "the baseline Python %s is not among those compared", breq);
    return nuse;
}

/*
 * The "pythons" entry of build k (an index in the host's series; base: the baseline's) of
 * host hosts[m][hi] (grouped once per metric m), its runs in rows: its medians and, unless it
 * is the baseline, its comparisons with the baseline and the functions that moved most, into
 * *out (new). Returns 0, or < 0 with err set (*out still new).
 */
static int py_entry(struct store *s, const struct wire_query *q, const json_t *rows,
                    struct cmp_host *const *hosts, size_t hi, size_t k, size_t base, json_t **out,
                    char *err, size_t errlen)
{
    const struct cmp_series *se = &hosts[0][hi].series[k];
    json_t *o = json_pack(
        "{s:O, s:O, s:O, s:I, s:O, s:b}", "version", json_object_get(se->first, "python_version"),
        "python_build", json_object_get(se->first, "python_build"), "executable",
        json_object_get(se->first, "python_executable"), "runs", (json_int_t)se->runs, "newest",
        json_object_get(se->first, "created"), "baseline", k == base);
    *out = o;
    json_t *med = json_object(), *cmp = json_object();
    for (size_t m = 0; m < PY_N_METRICS; m++) {
        const struct cmp_host *hm = &hosts[m][hi];
        json_object_set_new(med, PY_METRICS[m], median_of(hm->series[k].samples));
        if (k != base)
            json_object_set_new(
                cmp, PY_METRICS[m],
                py_compare(q->script, rows, hm, &hm->series[base], &hm->series[k], PY_METRICS[m]));
    }
    json_object_set_new(o, "median", med);
    if (k == base) {
        json_decref(cmp);
        return 0;
    }
    json_object_set_new(o, "vs_baseline", cmp);
    json_t *fns = NULL;
    const struct cmp_host *h0 = &hosts[0][hi];
    int rc = py_functions(s, rows, h0, &h0->series[base], &h0->series[k], &fns, err, errlen);
    if (rc < 0)
        return rc;
    json_object_set_new(o, "functions", fns);
    return 0;
}

/*
 * compare-pythons of script script_id on host want (its id; 0: the host picked by
 * py_pick_host) over the ok runs of batches up to max_batch (0: all), only the builds whose
 * newest such run is of batch min_batch or later (0: any), into doc.
 */
static int compare_pythons(struct store *s, const struct wire_query *q, json_int_t script_id,
                           json_int_t want, uint64_t min_batch, uint64_t max_batch, json_t *doc,
                           char *err, size_t errlen)
{
    uint32_t per = q->limit ? q->limit : QUERY_PYTHONS_DEFAULT_RUNS;
    json_object_set_new(doc, "runs_per_python", json_integer(per));
    char sid[32], lim[32], maxrows[32], maxb[32];
    snprintf(sid, sizeof(sid), "{%" JSON_INTEGER_FORMAT "}", script_id);
    snprintf(lim, sizeof(lim), "%" PRIu32, per);
    snprintf(maxrows, sizeof(maxrows), "%d", QUERY_MAX_COMPARE_ROWS);
    snprintf(maxb, sizeof(maxb), "%" PRIu64, max_batch);
    const char *p[4] = {sid, lim, maxrows, maxb};
    json_t *rows = NULL;
    int rc = store_json_rows(s, COMPARE_RUNS_SQL, p, 4, &rows, err, errlen);
    if (rc < 0)
        return rc;
    /* the same grouping once per metric: hosts[m][i].series[k] is one build */
    size_t nh = 0;
    struct cmp_host *hosts[PY_N_METRICS];
    for (size_t m = 0; m < PY_N_METRICS; m++)
        hosts[m] = group_rows(rows, PY_METRICS[m], &nh);
    size_t hi = py_pick_host(q, hosts[0], nh, want, doc);
    size_t *use = NULL, nuse = 0;
    if (hi == nh)
        goto out;
    const struct cmp_host *h0 = &hosts[0][hi];
    json_object_set_new(doc, "host",
                        json_pack("{s:O, s:O}", "hostname", json_object_get(h0->row, "hostname"),
                                  "fingerprint", json_object_get(h0->row, "fingerprint")));
    use = py_builds(q, h0, min_batch, &nuse);
    if (!py_all_asked_ran(q, h0, doc))
        goto out;
    if (nuse < 2) {
        set_error(doc, "one_python",
                  "host \"%s\" ran \"%s\" under only one of the Pythons asked for: nothing to "
                  "compare",
                  json_get_string(h0->row, "hostname", NULL), q->script);
        goto out;
    }
    size_t base = py_baseline(q, h0, use, nuse, doc);
    if (base == nuse)
        goto out;
    json_t *pys = json_array();
    for (size_t i = 0; i < nuse && rc >= 0; i++) {
        json_t *o;
        rc = py_entry(s, q, rows, hosts, hi, use[i], use[base], &o, err, errlen);
        json_array_append_new(pys, o);
    }
    json_object_set_new(doc, "pythons", pys);
out:
    free(use);
    for (size_t m = 0; m < PY_N_METRICS; m++)
        cmp_hosts_free(hosts[m], nh);
    json_decref(rows);
    return rc < 0 ? rc : 0;
}

static int answer_compare_pythons(struct store *s, const struct wire_query *q, json_t *doc,
                                  char *err, size_t errlen)
{
    json_int_t script_id, want = 0;
    int rc = find_script(s, q->script, doc, &script_id, err, errlen);
    if (rc < 0 || script_id == 0)
        return rc;
    if (q->host && *q->host) {
        json_t *h = NULL;
        rc = find_host(s, q->host, doc, &h, err, errlen);
        if (rc < 0 || h == NULL)
            return rc;
        want = json_integer_value(json_object_get(h, "id"));
        json_decref(h);
    }
    return compare_pythons(s, q, script_id, want, 0, 0, doc, err, errlen);
}

/* The (script, host) pairs with ok runs under two Python builds or more in batches $1..$2
 * (runs_batch_idx): those compare_pythons can find two builds for (a cheap first cut). */
static const char PY_SETS_SQL[] =
    "SELECT json_build_object('key', r.script_id || '/' || r.host_id)::text FROM runs r"
    " WHERE r.batch_id BETWEEN $1::bigint AND $2::bigint AND r.outcome = 'ok'"
    " AND " TRYBATCH_NOT_TRY_R
    " GROUP BY r.script_id, r.host_id HAVING count(DISTINCT r.python_build) >= 2";

int query_series_pythons(struct store *store, const json_t *scope, uint64_t min_batch,
                         uint64_t max_batch, size_t max_sets, json_t **out, char *err,
                         size_t errlen)
{
    char lo[32], hi[32];
    snprintf(lo, sizeof(lo), "%" PRIu64, min_batch);
    snprintf(hi, sizeof(hi), "%" PRIu64, max_batch ? max_batch : UINT64_C(9223372036854775807));
    const char *p[2] = {lo, hi};
    json_t *cut = NULL;
    int rc = store_json_rows(store, PY_SETS_SQL, p, 2, &cut, err, errlen);
    if (rc < 0)
        return rc;
    json_t *sets = json_array(), *seen = json_object(), *two = json_object();
    size_t i, total = 0;
    const json_t *row;
    json_array_foreach(cut, i, row)
    {
        json_object_set_new(two, json_get_string(row, "key", NULL), json_true());
    }
    json_decref(cut);
    json_array_foreach(scope, i, row)
    {
        json_int_t sid = json_integer_value(json_object_get(row, "script_id"));
        json_int_t hid = json_integer_value(json_object_get(row, "host_id"));
        char k[72];
        snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, sid, hid);
        if (json_object_get(seen, k) || !json_object_get(two, k))
            continue;
        json_object_set_new(seen, k, json_true());
        struct wire_query q = {0};
        q.script = json_get_string(row, "script", NULL);
        q.host = json_get_string(row, "host", NULL);
        json_t *doc = json_pack("{s:s}", "script", q.script);
        rc = compare_pythons(store, &q, sid, hid, min_batch, max_batch, doc, err, errlen);
        if (rc < 0) {
            json_decref(doc);
            break;
        }
        if (json_array_size(json_object_get(doc, "pythons")) >= 2 && total++ < max_sets)
            json_array_append_new(sets, doc);
        else
            json_decref(doc);
    }
    json_decref(seen);
    json_decref(two);
    if (rc < 0) {
        json_decref(sets);
        return rc;
    }
    *out = json_pack("{s:o, s:I}", "sets", sets, "total", (json_int_t)total);
    return 0;
}

/* The host-series of h (borrowed) as a level object: build, the host's machine (NULL:
 * unknown), newest first runs, each [batch id, wall samples, queued share % or null] (an
 * array, not an object: 3,500 levels x 5 runs are built and freed for every stored report).
 * New. */
static json_t *level_of(const struct cmp_host *h, const json_t *rows, const char *machine)
{
    const struct cmp_series *se = &h->series[0]; /* the host's newest build */
    json_t *runs = json_array();
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (json_integer_value(json_object_get(r, "host_id")) ==
                json_integer_value(json_object_get(h->row, "host_id")) &&
            strcmp(json_get_string(r, "python_build", NULL),
                   json_get_string(se->first, "python_build", NULL)) == 0) {
            json_t *run = json_array();
            json_array_append(run, json_object_get(r, "batch_id"));
            json_array_append(run, json_object_get(r, "wall_s"));
            json_array_append_new(run, json_real_or_null(true, run_queued(r)));
            json_array_append_new(runs, run);
        }
    }
    const json_t *build = json_object_get(se->first, "python_build");
    if (build == NULL) { /* no level without a build (HARDWARE_RUNS_SQL always has one) */
        json_decref(runs);
        return NULL;
    }
    json_t *level = json_object();
    json_object_set_nocheck(level, "python_build", (json_t *)build);
    json_object_set_new_nocheck(level, "machine", machine ? json_string(machine) : json_null());
    json_object_set_new_nocheck(level, "runs", runs);
    return level;
}

/* A text column (binary: its bytes) as a JSON string, SQL NULL as null. New. */
static json_t *text_value(struct pgbin v)
{
    json_t *t = v.p ? json_stringn((const char *)v.p, (size_t)v.len) : NULL;
    return t ? t : json_null();
}

/*
 * A float8 as json_build_object() prints it and json_loads() reads it back:
 * an integral value below 1e15 (PostgreSQL's shortest form has no point or
 * exponent then) an integer, NaN and the infinities strings, else a real of
 * the same bits. New.
 */
static json_t *float8_value(double x)
{
    if (isnan(x))
        return json_string("NaN");
    if (isinf(x))
        return json_string(x > 0 ? "Infinity" : "-Infinity");
    if (fabs(x) < 1e15 && x == trunc(x))
        return json_integer((json_int_t)x);
    return json_real(x);
}

/*
 * A float8[] column (binary) as the JSON array json_build_object() prints:
 * NULL elements null, the others float8_value(); SQL NULL null. New, or NULL
 * when the value is no one-dimensional float8[].
 */
static json_t *float8_array(struct pgbin v)
{
    if (v.p == NULL)
        return json_null();
    double *x = NULL, *kept = NULL;
    size_t n = 0, nk = 0;
    if (pgbin_numbers_aligned(v, &x, &n) < 0 || pgbin_numbers(v, &kept, &nk) < 0) {
        free(x);
        free(kept);
        return NULL;
    }
    /* aligned: a NULL element is NaN there; the non-NULL ones in order in kept */
    json_t *a = json_array();
    for (size_t i = 0, k = 0; i < n; i++) {
        bool is_null = isnan(x[i]) && !(k < nk && isnan(kept[k]));
        json_array_append_new(a, is_null ? json_null() : float8_value(x[i]));
        k += !is_null;
    }
    free(x);
    free(kept);
    return a;
}

/*
 * A row of HARDWARE_RUNS_SQL (binary columns) as the object {"script_id",
 * "host_id", "hostname", "fingerprint", "python_build", "created",
 * "batch_id", "wall_s", "cpu_s", "run_delay_s"} that json_build_object() made of it before: binary
 * columns, decoded here, cost the server and this side less than a JSON
 * text per row (17,500 rows at 3,500 series, docs/benchmarks.md). New, or
 * NULL when the row is not of that shape; *script its script id.
 */
static json_t *hardware_obj(const struct pgbin *v, int ncols, int64_t *script)
{
    int64_t host, batch = 0;
    if (ncols != 10 || pgbin_int64(v[0], script) < 0 || pgbin_int64(v[1], &host) < 0 ||
        (v[6].p && pgbin_int64(v[6], &batch) < 0))
        return NULL;
    json_t *wall = float8_array(v[7]), *cpu = float8_array(v[8]), *delay = float8_array(v[9]);
    if (wall == NULL || cpu == NULL || delay == NULL) {
        json_decref(wall);
        json_decref(cpu);
        json_decref(delay);
        return NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, "script_id", json_integer(*script));
    json_object_set_new(o, "host_id", json_integer(host));
    json_object_set_new(o, "hostname", text_value(v[2]));
    json_object_set_new(o, "fingerprint", text_value(v[3]));
    json_object_set_new(o, "python_build", text_value(v[4]));
    json_object_set_new(o, "created", text_value(v[5]));
    json_object_set_new(o, "batch_id", v[6].p ? json_integer(batch) : json_null());
    json_object_set_new(o, "wall_s", wall);
    json_object_set_new(o, "cpu_s", cpu);
    json_object_set_new(o, "run_delay_s", delay);
    return o;
}

/*
 * query_series_hardware's work while HARDWARE_RUNS_SQL streams (its rows
 * come sorted by script): the rows of one script at a time, made into its
 * levels and pairs as soon as the next script's first row arrives, so that
 * this side's work (the pairs' bootstraps above all) overlaps the server's
 * reading of the scripts after it. Scripts are made in the order of the
 * rows, as when every row was read first: the same pairs, the same limit.
 */
struct hw_stream {
    const json_t *in;       /* {"SCRIPT_ID": {"HOST_ID": true}}: the series in scope */
    const json_t *keys;     /* {"SCRIPT_ID": script key} */
    const json_t *findings; /* OPEN_FINDINGS_SQL rows */
    const json_t *machines; /* host_machines' of the hosts in scope */
    size_t max_pairs;
    json_t *rows;       /* the current script's rows */
    int64_t script;     /* their script id */
    json_t *pairs, *lv; /* the answer so far */
};

/* The levels and pairs of st's current script (its rows, then dropped). */
static void hw_script(struct hw_stream *st)
{
    if (json_array_size(st->rows) == 0)
        return;
    char k[32];
    snprintf(k, sizeof(k), "%" PRId64, st->script);
    const json_t *wanted = json_object_get(st->in, k);
    const char *script = json_string_value(json_object_get(st->keys, k));
    if (wanted && script) {
        size_t nh;
        struct cmp_host *hosts = group_rows(st->rows, "wall_s", &nh);
        for (size_t a = 0; a < nh; a++) {
            char hk[32], lk[72];
            snprintf(hk, sizeof(hk), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(hosts[a].row, "host_id")));
            if (!json_object_get(wanted, hk))
                continue;
            snprintf(lk, sizeof(lk), "%s/%s", k, hk);
            json_object_set_new(
                st->lv, lk, level_of(&hosts[a], st->rows, machine_of(st->machines, hosts[a].row)));
            for (size_t b = a + 1; b < nh && json_array_size(st->pairs) < st->max_pairs; b++) {
                snprintf(hk, sizeof(hk), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(hosts[b].row, "host_id")));
                if (!json_object_get(wanted, hk))
                    continue;
                json_t *pair =
                    pair_new(script, "wall_s", &hosts[a], &hosts[b], st->findings, st->machines);
                if (pair)
                    json_array_append_new(st->pairs, pair);
            }
        }
        cmp_hosts_free(hosts, nh);
    }
    json_array_clear(st->rows);
}

/* store_bin_row_fn for HARDWARE_RUNS_SQL: the row into arg (a struct hw_stream); the
 * script before it made when this row is another script's. */
static int hardware_row(const struct pgbin *v, int ncols, void *arg)
{
    struct hw_stream *st = arg;
    int64_t script;
    json_t *o = hardware_obj(v, ncols, &script);
    if (o == NULL)
        return -EIO;
    if (script != st->script)
        hw_script(st);
    st->script = script;
    json_array_append_new(st->rows, o);
    return 0;
}

int query_series_hardware(struct store *s, const json_t *scope, uint64_t max_batch,
                          size_t max_pairs, json_t **pairs, json_t **levels, char *err,
                          size_t errlen)
{
    *pairs = NULL;
    *levels = NULL;
    /* the scripts, and which hosts of each are in scope */
    json_t *in = json_object(), *keys = json_object();
    /* "{1,2,...}": the distinct scripts (OPEN_FINDINGS_SQL); each series' script and host */
    size_t n = json_array_size(scope), cap = 4 + 24 * (n + 1), len = 0, slen = 0, hlen = 0, i;
    char *ids = xmalloc(cap), *sids = xmalloc(cap), *hids = xmalloc(cap);
    ids[len++] = '{';
    sids[slen++] = '{';
    hids[hlen++] = '{';
    const json_t *sc;
    json_array_foreach(scope, i, sc)
    {
        char k[32], hk[32];
        snprintf(k, sizeof(k), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(sc, "script_id")));
        snprintf(hk, sizeof(hk), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(sc, "host_id")));
        json_t *hosts = json_object_get(in, k);
        if (!hosts) {
            json_object_set_new(in, k, hosts = json_object());
            json_object_set(keys, k, json_object_get(sc, "script"));
            len += (size_t)snprintf(ids + len, cap - len, "%s%s", len > 1 ? "," : "", k);
        }
        slen += (size_t)snprintf(sids + slen, cap - slen, "%s%s", slen > 1 ? "," : "", k);
        hlen += (size_t)snprintf(hids + hlen, cap - hlen, "%s%s", hlen > 1 ? "," : "", hk);
        json_object_set_new(hosts, hk, json_true());
    }
    snprintf(ids + len, cap - len, "}");
    snprintf(sids + slen, cap - slen, "}");
    snprintf(hids + hlen, cap - hlen, "}");
    char per[32], maxrows[32], maxb[32];
    snprintf(per, sizeof(per), "%u", QUERY_COMPARE_DEFAULT_RUNS);
    snprintf(maxrows, sizeof(maxrows), "%zu", (size_t)QUERY_MAX_COMPARE_ROWS * 10);
    snprintf(maxb, sizeof(maxb), "%" PRIu64, max_batch);
    /* the open findings first: each script's pairs are made while the rows still come */
    json_t *findings = NULL, *machines = NULL;
    int rc =
        store_json_rows(s, OPEN_FINDINGS_SQL, (const char *[]){ids}, 1, &findings, err, errlen);
    if (rc >= 0)
        rc = host_machines(s, hids, &machines, err, errlen);
    struct hw_stream st = {.in = in,
                           .keys = keys,
                           .findings = findings,
                           .machines = machines,
                           .max_pairs = max_pairs,
                           .rows = json_array(),
                           .pairs = json_array(),
                           .lv = json_object()};
    /* only the series in scope: no other host's runs are paired or shown */
    const char *p[5] = {sids, hids, per, maxb, maxrows};
    if (rc >= 0)
        rc = store_each_row_binary(s, HARDWARE_RUNS_SQL, p, 5, hardware_row, &st, err, errlen);
    if (rc >= 0)
        hw_script(&st);
    free(ids);
    free(sids);
    free(hids);
    json_decref(st.rows);
    json_decref(findings);
    json_decref(machines);
    json_decref(in);
    json_decref(keys);
    if (rc < 0) {
        json_decref(st.pairs);
        json_decref(st.lv);
        return rc;
    }
    *pairs = st.pairs;
    *levels = st.lv;
    return 0;
}

int query_series_answer(struct store *store, const struct wire_query *q, json_t **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    json_t *doc = json_pack("{s:s, s:n}", "script", q->script, "error");
    int rc = q->kind == WIRE_QUERY_SERIES ? answer_series(store, q, doc, err, errlen)
             : q->kind == WIRE_QUERY_COMPARE_PYTHONS
                 ? answer_compare_pythons(store, q, doc, err, errlen)
                 : answer_compare(store, q, doc, err, errlen);
    if (rc < 0) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return 0;
}
