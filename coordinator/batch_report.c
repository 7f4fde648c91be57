/*
 * batch_report.c - each analysed batch's team report, stored (see batch_report.h).
 *
 * Design notes: the document is report_build()'s value dumped as built
 * (JSON_COMPACT; jansson keeps the keys' order and prints reals with 17
 * digits) into a json column, which keeps text as it came: loading it back
 * gives the same object, so the page and the CLI's output are the same bytes
 * as a live build's. The fingerprint and the document are read in one
 * REPEATABLE READ snapshot, so a row's tag always describes its document; a
 * change committed meanwhile only makes the row's tag old (not served). A
 * row is served only when its tag equals the batch's fingerprint now, it was
 * built by this version and report format (BUILT_BY), and its document is a
 * report of that batch. Only the document is stored: the HTML is rendered
 * from it each time it is served (coordinator/web.c, cli/report.c), so
 * REPORT_FORMAT (report.h) covers the document alone.
 */
#include "batch_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "report.h"

#define TEXT_OF_(x) #x
#define TEXT_OF(x)  TEXT_OF_(x)

/*
 * Who built a row (batch_reports.built_by): this version and report format,
 * "0.1.0 format 1". A row built by another version or format (or before
 * formats were numbered: the version alone) is rebuilt and never served:
 * report_build() may have changed without the project's version moving.
 */
static const char BUILT_BY[] = PYSCOPE_VERSION " format " TEXT_OF(REPORT_FORMAT);

/*
 * The fingerprint (b: the batch): what the analysis and a triage write for the
 * batch, which its report shows: its state and analysis time, its runs, its
 * regressions (count, last update), its inconclusive nights (held_out,
 * unsettled: their rows, hashed), and what the regressions' commit ranges
 * read (coordinator/revrange.h): the commits described (how many) and the
 * commits of each one's ends; and the machine each agent reports (the hardware
 * comparison says which hosts are one machine, coordinator/hostpair.h). A host renamed does not
 * change it.
 */
#define TAG_COLUMNS                                                                                \
    "b.id::text, concat_ws('|', b.state, b.analyzed::text,"                                        \
    " (SELECT count(*)::text || ':' || coalesce(max(g.updated)::text, '') FROM regressions g"      \
    "  WHERE g.batch_id = b.id OR g.last_batch_id = b.id),"                                        \
    " (SELECT count(*) FROM runs r WHERE r.batch_id = b.id)::text,"                                \
    " (SELECT count(*)::text || ':' || coalesce(md5(string_agg(o.script_id || ' ' || o.host_id"    \
    "  || ' ' || o.python_build || ' ' || o.reason || ' ' || o.detail::text, ','"                  \
    "  ORDER BY o.script_id, o.host_id, o.python_build)), '') FROM held_out o"                     \
    "  WHERE o.batch_id = b.id),"                                                                  \
    " (SELECT count(*)::text || ':' || coalesce(md5(string_agg(u.script_id || ' ' || u.host_id"    \
    "  || ' ' || u.python_build || ' ' || u.metric || ' ' || u.rule || ' ' || u.detail::text,"     \
    "  ',' ORDER BY u.script_id, u.host_id, u.python_build)), '') FROM unsettled u"                \
    "  WHERE u.batch_id = b.id),"                                                                  \
    " (SELECT count(*) FROM commits)::text,"                                                       \
    " (SELECT coalesce(md5(string_agg(coalesce(gj.commit_hash, '') || ':'"                         \
    "  || coalesce(cj.commit_hash, ''), ',' ORDER BY g.id)), '') FROM regressions g"               \
    "  LEFT JOIN runs lr ON lr.run_id = g.baseline_runs[cardinality(g.baseline_runs)]"             \
    "  LEFT JOIN jobs gj ON gj.id = lr.job_id LEFT JOIN runs cr ON cr.run_id = g.candidate_run"    \
    "  LEFT JOIN jobs cj ON cj.id = cr.job_id WHERE g.batch_id = b.id OR g.last_batch_id = b.id)," \
    " (SELECT coalesce(md5(string_agg(a.host_id || ' ' || a.machine, ',' ORDER BY a.name)), '')"   \
    "  FROM agents a))"

/* $1 a batch id, or 0 for the newest analysed batch (else the newest); 0 never picks an A/B
 * try's batch (schema/025_try.sql: made analysed at submit, it is no night of the team's). */
#define TAG_FROM                                                                                   \
    " FROM batches b WHERE ($1::bigint = 0 AND b.purpose = 'measure') OR b.id = $1::bigint"        \
    " ORDER BY (b.analyzed IS NOT NULL) DESC, b.id DESC LIMIT 1"

static const char TAG_SQL[] = "SELECT " TAG_COLUMNS TAG_FROM;

/* Batch $1's stored document when its tag is the batch's fingerprint now and $2 (BUILT_BY)
 * built it. */
static const char LOAD_SQL[] = "WITH t (id, tag) AS (SELECT " TAG_COLUMNS TAG_FROM ")"
                               " SELECT r.doc::text FROM t JOIN batch_reports r"
                               " ON r.batch_id = t.id::bigint AND r.tag = t.tag"
                               " AND r.built_by = $2";

static const char SAVE_SQL[] =
    "INSERT INTO batch_reports (batch_id, tag, built_by, build_ms, doc)"
    " VALUES ($1::bigint, $2, $3, $4::double precision, $5::json)"
    " ON CONFLICT (batch_id) DO UPDATE SET tag = excluded.tag, built_by = excluded.built_by,"
    " built_at = now(), build_ms = excluded.build_ms, doc = excluded.doc";

/* The batches a regression shows in (the fingerprint counts it in both). */
static const char INVALIDATE_SQL[] =
    "UPDATE batch_reports r SET tag = '' FROM regressions g"
    " WHERE g.id = $1::bigint AND r.batch_id IN (g.batch_id, g.last_batch_id) AND r.tag <> ''";

/*
 * The reports to rebuild, newest first, at most $2: stale rows, rows another
 * version or report format built (built_by not $1, BUILT_BY), and the newest
 * analysed batch's when missing or old.
 */
static const char TODO_SQL[] =
    "SELECT id::text FROM ("
    " SELECT t.id::bigint AS id FROM (SELECT " TAG_COLUMNS " AS tag FROM batches b"
    "  WHERE b.analyzed IS NOT NULL AND b.purpose = 'measure' ORDER BY b.id DESC LIMIT 1)"
    "  t (id, tag)"
    "  WHERE NOT EXISTS (SELECT 1 FROM batch_reports r WHERE r.batch_id = t.id::bigint"
    "   AND r.tag = t.tag AND r.built_by = $1)"
    " UNION SELECT r.batch_id FROM batch_reports r WHERE r.tag = '' OR r.built_by <> $1) x"
    " ORDER BY id DESC LIMIT $2::integer";

static const char PRUNE_SQL[] =
    "DELETE FROM batch_reports WHERE batch_id < (SELECT min(id) FROM (SELECT b.id FROM batches b"
    " ORDER BY b.id DESC LIMIT $1::integer) x)";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct tag_row {
    uint64_t id;
    char *tag;
    size_t tag_len;
};

static int tag_row(const char *const *v, int ncols, void *arg)
{
    struct tag_row *t = arg;
    if (ncols < 2 || !v[0])
        return 0;
    t->id = strtoull(v[0], NULL, 10);
    snprintf(t->tag, t->tag_len, "%s", v[1] ? v[1] : "");
    return 0;
}

int batch_report_tag(struct store *s, uint64_t batch, uint64_t *id, char *tag, size_t tag_len,
                     char *err, size_t errlen)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRIu64, batch);
    const char *p[1] = {b};
    struct tag_row t = {0, tag, tag_len};
    *id = 0;
    if (tag_len)
        tag[0] = '\0';
    int rc = store_each_row(s, TAG_SQL, p, 1, tag_row, &t, err, errlen);
    if (rc < 0)
        return rc;
    *id = t.id;
    return rc > 0 && t.id ? 1 : 0;
}

static int text_row(const char *const *v, int ncols, void *arg)
{
    char **text = arg;
    if (ncols >= 1 && v[0] && !*text)
        *text = strdup(v[0]);
    return 0;
}

/* Is doc (borrowed) a team report of batch, as report_build() makes them? */
static bool doc_is_report_of(const json_t *doc, uint64_t batch)
{
    const json_t *window = json_object_get(doc, "window");
    const json_t *batches = json_object_get(doc, "batches");
    const json_t *id = json_object_get(json_array_get(batches, 0), "id");
    return json_is_object(doc) && json_is_integer(json_object_get(window, "batch_id")) &&
           (uint64_t)json_integer_value(json_object_get(window, "batch_id")) == batch &&
           json_array_size(batches) == 1 && json_is_integer(id) &&
           (uint64_t)json_integer_value(id) == batch &&
           json_is_array(json_object_get(doc, "regressions"));
}

/* Batch's stored, current document into *doc (new), or NULL; a negative code with err. */
static int load(struct store *s, uint64_t batch, json_t **doc, char *err, size_t errlen)
{
    char b[32];
    snprintf(b, sizeof(b), "%" PRIu64, batch);
    const char *p[2] = {b, BUILT_BY};
    char *text = NULL;
    *doc = NULL;
    int rc = store_each_row(s, LOAD_SQL, p, 2, text_row, &text, err, errlen);
    if (rc < 0 || !text)
        return rc < 0 ? rc : 0;
    json_error_t jerr;
    json_t *d = json_loads(text, 0, &jerr);
    free(text);
    if (!doc_is_report_of(d, batch)) {
        log_warn("the stored team report of batch %" PRIu64 " is not one (%s): built anew", batch,
                 d ? "another batch's or incomplete" : jerr.text);
        json_decref(d);
        return 0;
    }
    *doc = d;
    return 0;
}

int batch_report_get(struct store *s, const struct wire_query *q, json_t **out, bool *stored,
                     char *err, size_t errlen)
{
    *out = NULL;
    if (stored)
        *stored = false;
    /* only what the analyst stores: one batch, the default window and limit */
    if (q->batch_id && !q->since_s && (!q->limit || q->limit == REPORT_DEFAULT_LIMIT)) {
        char lerr[512] = "";
        if (load(s, q->batch_id, out, lerr, sizeof(lerr)) < 0)
            log_warn("could not read the stored team report of batch %" PRIu64 ": %s", q->batch_id,
                     lerr);
        if (*out) {
            if (stored)
                *stored = true;
            return 0;
        }
    }
    return report_build(s, q, out, err, errlen);
}

int batch_report_store(struct store *s, uint64_t batch, char *err, size_t errlen)
{
    double t0 = now_ms();
    int rc =
        store_command(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL, 0, err, errlen);
    if (rc < 0)
        return rc;
    /* the report's sorts in memory, not in a temp file (4 MB, PostgreSQL's default:
     * the hardware query's sort of ~17,500 rows at 3,500 series spilled 2.6 MB before
     * it read the series in order); and no JIT compilation of statements that run in
     * milliseconds (docs/benchmarks.md) */
    rc = store_command(s, "SET LOCAL work_mem = '32MB'", NULL, 0, err, errlen);
    if (rc >= 0)
        rc = store_command(s, "SET LOCAL jit = off", NULL, 0, err, errlen);
    if (rc < 0) {
        store_abort(s);
        return rc;
    }
    char tag[512];
    uint64_t id;
    rc = batch_report_tag(s, batch, &id, tag, sizeof(tag), err, errlen);
    json_t *doc = NULL;
    if (rc > 0) {
        struct wire_query q = {.kind = WIRE_QUERY_REPORT, .batch_id = id};
        rc = report_build(s, &q, &doc, err, errlen);
        rc = rc < 0 ? rc : 1;
    }
    if (rc >= 0 && store_command(s, "COMMIT", NULL, 0, err, errlen) < 0)
        rc = -1;
    if (rc <= 0) {
        store_abort(s);
        json_decref(doc);
        return rc;
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    char b[32], ms[32];
    snprintf(b, sizeof(b), "%" PRIu64, id);
    snprintf(ms, sizeof(ms), "%.1f", now_ms() - t0);
    const char *p[5] = {b, tag, BUILT_BY, ms, text};
    rc = store_command(s, SAVE_SQL, p, 5, err, errlen);
    free(text);
    if (rc < 0)
        return rc;
    log_debug("the team report of batch %" PRIu64 " stored (%s ms)", id, ms);
    return 1;
}

int batch_report_invalidate(struct store *s, uint64_t regression_id, char *err, size_t errlen)
{
    char id[32];
    snprintf(id, sizeof(id), "%" PRIu64, regression_id);
    const char *p[1] = {id};
    return store_command(s, INVALIDATE_SQL, p, 1, err, errlen);
}

struct id_list {
    uint64_t ids[16];
    unsigned n;
};

static int id_row(const char *const *v, int ncols, void *arg)
{
    struct id_list *l = arg;
    if (ncols >= 1 && v[0] && l->n < sizeof(l->ids) / sizeof(l->ids[0]))
        l->ids[l->n++] = strtoull(v[0], NULL, 10);
    return 0;
}

int batch_report_refresh(struct store *s, unsigned max, char *err, size_t errlen)
{
    char keep[16], lim[16];
    snprintf(keep, sizeof(keep), "%u", BATCH_REPORT_KEEP);
    snprintf(lim, sizeof(lim), "%u", max < 16 ? max : 16);
    int rc = store_command(s, PRUNE_SQL, (const char *[]){keep}, 1, err, errlen);
    if (rc < 0)
        return rc;
    struct id_list todo = {{0}, 0};
    rc =
        store_each_row(s, TODO_SQL, (const char *[]){BUILT_BY, lim}, 2, id_row, &todo, err, errlen);
    if (rc < 0)
        return rc;
    int built = 0;
    for (unsigned i = 0; i < todo.n; i++) {
        rc = batch_report_store(s, todo.ids[i], err, errlen);
        if (rc < 0)
            return rc;
        built += rc;
    }
    return built;
}
