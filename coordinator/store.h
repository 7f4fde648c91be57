/*
 * store.h - the coordinator's PostgreSQL store (the only libpq user).
 *
 * Everything the coordinator knows lives here, so it can be killed and
 * restarted at any moment and two coordinators can share one database: the
 * job queue (claims with FOR UPDATE SKIP LOCKED, leases with a fencing
 * attempt number), hosts and agents, results (idempotent on run_id, stored
 * with the job's state change in one transaction), and the JSON documents
 * that answer queries. SQL goes through PQexecParams with $n parameters only;
 * the one exception is a migration file's body, which is trusted text built
 * into the binary and may hold several statements (PQexec).
 *
 * Functions that talk to the database return 0 (or a count) on success and
 * -EIO on a database error, with a lowercase message in err. A broken
 * connection is reset before the next statement.

 *
 * Implemented one job a file (store_conn.c, store_migrate.c, store_hosts.c,
 * store_queue.c, store_results.c, store_query.c); store_int.h says how.
 */
#ifndef PYSCOPE_COORD_STORE_H
#define PYSCOPE_COORD_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history.h"
#include "pgbin.h"
#include "wire.h"

struct store;

/* One numbered schema file, embedded at build time (store_migrations.c). */
struct store_migration {
    int version;      /* the file's number */
    const char *name; /* "001_init.sql" */
    const char *sql;  /* its text */
};

extern const struct store_migration store_migrations[];
extern const unsigned store_migrations_count;

/* What happened to a Result. */
enum store_result_status {
    STORE_RESULT_STORED,    /* committed now */
    STORE_RESULT_DUPLICATE, /* run_id already stored: ack it again */
    STORE_RESULT_UNKNOWN_JOB,
    STORE_RESULT_STALE,     /* (job, attempt) is not the current lease */
    STORE_RESULT_FORBIDDEN, /* leased to another agent, or not this job's script */
};

/* Receives each claimed job (borrowed for the call). */
typedef void (*store_job_fn)(const struct wire_job *job, void *arg);

/*
 * Connect with a libpq conninfo string (borrowed; NULL or "" = PG* environment
 * variables). Returns a new store (caller owns; store_close()) or NULL with err.
 */
struct store *store_open(const char *conninfo, char *err, size_t errlen);
/*
 * store_open() for reading only: every transaction of the session is read
 * only (default_transaction_read_only) and a statement is cancelled after
 * statement_timeout_ms, also after a reconnect. Such settings in conninfo's
 * own "options" are replaced.
 */
struct store *store_open_readonly(const char *conninfo, uint32_t statement_timeout_ms, char *err,
                                  size_t errlen);
/* Close and free; NULL-safe; sets *s to NULL. */
void store_close(struct store **s);

/* Refuse (-EPERM, err names the setting) when fsync or synchronous_commit is off. */
int store_check_durability(struct store *s, char *err, size_t errlen);

/*
 * Apply each of the n migrations (borrowed) not yet recorded, in one
 * transaction under an advisory lock. Returns the number applied, -ENOTSUP
 * when the database has a migration newer than any in m, or -EIO.
 */
int store_migrate(struct store *s, const struct store_migration *m, size_t n, char *err,
                  size_t errlen);

/*
 * Register or update the host and agent of a Hello (borrowed), in one
 * transaction; sets *host_id. host_name (borrowed) is the host the agent's
 * key speaks for (coordinator/zap.h), NULL without CURVE (then the Hello's host
 * name). A host is (host_name, fingerprint): another host's fingerprint gets
 * a row of its own; a new fingerprint of host_name supersedes its old row
 * (host_events, queued jobs moved along; schema/007_identity.sql).
 * live: the Hello counts as the host being live (an agent new here: its host's
 * last_seen is now, and it is no longer offline); a repeated Hello of an agent
 * already connected is not taking work and leaves both as they were.
 */
int store_register(struct store *s, const struct wire_hello *h, const char *host_name, bool live,
                   int64_t *host_id, char *err, size_t errlen);

/*
 * The runs whose samples runs_series_idx covers (schema/007_identity.sql, and
 * with the run delays schema/010_contention.sql), as SQL over table alias a: a
 * query that repeats it lets the planner read them index-only; the others
 * (over 48 samples a metric, or a very long python_build) are found by
 * runs_series_wide_idx and read from the heap.
 */
#define STORE_RUNS_COVERED(a)                                                                      \
    "(cardinality(" a ".wall_s) + cardinality(" a ".cpu_s) + cardinality(" a                       \
    ".peak_rss_bytes) + coalesce(cardinality(" a ".run_delay_s), 0) <= 192 AND octet_length(" a    \
    ".python_build) <= 512)"

/*
 * The instruction counts of run alias a (a.instructions not NULL, schema/028) as a run
 * document's "instructions" object: {"tool", "counts"} (pyscope-run --instructions' shape,
 * read by lib/history's history_samples()), with its "note" when the script started child
 * processes (a.child_processes, schema/029: their instructions are not counted), as
 * pyscope-run writes it (history_instructions_children()), and, when the agent said how
 * many Python threads the script ran (a.python_threads over 0, schema/031),
 * "python_threads" and "exact" (false above one thread: lib/regress and lib/abtest then
 * judge the counts statistically, history_instructions_exact()).
 */
#define STORE_INSTRUCTIONS_JSON(a)                                                                 \
    "json_strip_nulls(json_build_object('tool', 'cachegrind', 'counts', (SELECT"                   \
    " coalesce(json_agg(u.v ORDER BY u.i), '[]') FROM unnest(" a ".instructions) WITH ORDINALITY"  \
    " AS u(v, i) WHERE u.v IS NOT NULL), 'note', CASE WHEN " a                                     \
    ".child_processes > 0 THEN '" HISTORY_INSTRUCTIONS_CHILDREN_NOTE "' END, 'python_threads',"    \
    " nullif(" a ".python_threads, 0), 'exact', CASE WHEN " a ".python_threads > 0 THEN " a        \
    ".python_threads <= 1 END))"

/*
 * A run of table alias r as a document for lib/regress (pyscope.run/1's
 * identity, runs, instructions.counts when the job counted them (schema/028) and
 * profile.functions with their hotspots): SELECT it, then
 * a WHERE on r. Used by the batch analysis and by compare-pythons. Each
 * function key is one functions_pkey lookup (OFFSET 0 keeps the planner from
 * hashing the whole functions table once per run).
 */
/* clang-format off: the counts' macro (above) in the middle of the SQL */
// clang-format off
#define STORE_RUN_DOC_SQL                                                                          \
    "json_build_object('id', r.run_id::text, 'created', pyscope_ts(r.stored_at),"                  \
    " 'script', json_build_object('key', s.key, 'sha256', nullif(r.script_sha256, '')),"           \
    " 'host', json_build_object('fingerprint', h.fingerprint),"                                    \
    " 'python', json_build_object('build', r.python_build),"                                       \
    " 'runs', (SELECT coalesce(json_agg(json_build_object('wall_s', u.w, 'cpu_s', u.c,"            \
    "   'peak_rss_bytes', u.m, 'run_delay_s', u.d, 'ctx_voluntary', u.cv,"                         \
    "   'ctx_involuntary', u.ci, 'steal_s', u.st, 'cpu_pressure_s', u.ps, 'load1', u.l,"           \
    "   'cpu_mhz', u.f, 'ref_cpu_ns', u.rf, 'ref_script_cpu_s', u.rc,"                             \
    "   'ref_script_wall_s', u.rw) ORDER BY u.i), '[]')"                                           \
    "   FROM unnest(r.wall_s, r.cpu_s, r.peak_rss_bytes, r.run_delay_s, r.ctx_voluntary,"          \
    "   r.ctx_involuntary, r.steal_s, r.cpu_pressure_s, r.load1_runs, r.cpu_mhz, r.ref_cpu_ns,"    \
    "   r.ref_script_cpu_s, r.ref_script_wall_s)"                                                  \
    "   WITH ORDINALITY AS u(w, c, m, d, cv, ci, st, ps, l, f, rf, rc, rw, i)"                     \
    "   WHERE u.w IS NOT NULL),"                                                                   \
    " 'instructions', CASE WHEN r.instructions IS NOT NULL THEN "                                  \
    STORE_INSTRUCTIONS_JSON("r") " END,"                                                           \
    " 'profile', json_build_object('functions', (SELECT coalesce(json_agg(json_build_object("      \
    "   'key', f.key, 'self_s', u.s, 'total_s', u.t,"                                              \
    "   'self_s_runs', pyscope_row(r.fn_self_runs, u.i::integer),"                                 \
    "   'total_s_runs', pyscope_row(r.fn_total_runs, u.i::integer),"                               \
    "   'total_pct', 100 * u.t / nullif(r.wall_median, 0), 'self_cpu_s', u.sc,"                    \
    "   'self_pct', 100 * u.s / nullif(r.wall_median, 0)) ORDER BY u.t DESC, u.i), '[]')"          \
    "   FROM unnest(r.fn_ids, r.fn_self_s, r.fn_total_s, r.fn_self_cpu_s)"                         \
    "   WITH ORDINALITY AS u(id, s, t, sc, i), LATERAL (SELECT f.key FROM functions f"             \
    "   WHERE f.id = u.id OFFSET 0) f),"                                                           \
    /* how finely it was sampled (schema/032): the why names no function on too few */            \
    "   'mode', CASE WHEN r.samples > 0 THEN 'sample' END, 'interval_s', CASE WHEN r.samples > 0"  \
    "   THEN (SELECT coalesce(j.interval_ms, 10) / 1000 FROM jobs j WHERE j.id = r.job_id) END,"   \
    "   'samples', nullif(r.samples, 0)))::text"                                                   \
    " FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id"
// clang-format on

/* One agent's part of store_claim_jobs(). */
struct store_claim {
    int64_t host_id;
    const char *owner; /* borrowed */
    uint32_t max;      /* 0: nothing to claim */
    store_job_fn fn;
    void *arg;
    int claimed; /* out: jobs handed to fn */
};

/*
 * For each of the n agents of c, claim up to max queued jobs of its host for
 * it: leased for lease_ms, attempt incremented. One statement for all of them
 * (one round trip, one commit, however many agents asked at once; agents of
 * one host share its queue in the order of c); fn is called for
 * each job only after COMMIT, so a job never goes out on a lease the database
 * does not have. A host's jobs go out by batch, then id; a later batch of a
 * suite waits while an earlier one has open jobs on the host or awaits its
 * analysis. Unless share_machines, agents of one machine (agents.machine)
 * never hold leases at the same time. On an error nothing is claimed.
 * Returns the total or -EIO.
 */
int store_claim_jobs(struct store *s, struct store_claim *c, size_t n, uint32_t lease_ms,
                     uint32_t grace_s, bool share_machines, char *err, size_t errlen);

/* Renew owner's leases on the n (job, attempt) pairs of refs; marks the agent seen.
 * A lease never runs past its job's deadline (jobs.lease_deadline, set at the
 * claim: timeout_s x (repeat + warmup, and 50 x repeat more with instructions) +
 * grace_s; schema/023, 028): heartbeats
 * cannot keep a job forever. Returns the number renewed or -EIO. */
int store_renew_leases(struct store *s, const char *owner, const struct wire_job_ref *refs,
                       size_t n, uint32_t lease_ms, char *err, size_t errlen);

/* Return expired leases to the queue (or fail jobs out of attempts, end_reason
 * "lease expired"); logs the leases that hit their deadline. Returns how many. */
int store_reap_leases(struct store *s, char *err, size_t errlen);

/*
 * The hosts of the n ids (borrowed; may be 0) have a live agent now: mark
 * them seen. Every other host with queued jobs, not seen for offline_s
 * seconds (by this or another coordinator of the database), is marked
 * offline and those jobs end 'failed' with end_reason 'host offline' (one
 * warning per host). On the live hosts, a queued job that asks for a Python
 * (docs/pythons.md) none of whose agents reporting a matching one is live
 * here (the n_agents names in agents) or was seen within offline_s, for
 * offline_s, ends 'failed' with end_reason 'no live agent has Python P' (one
 * warning per host and Python; *no_python counts them). Batches left without
 * open jobs are done. Returns the number of jobs ended "host offline", or
 * -EIO.
 */
int store_hosts_alive(struct store *s, const int64_t *ids, size_t n, const char *const *agents,
                      size_t n_agents, uint32_t offline_s, int *no_python, char *err,
                      size_t errlen);

/*
 * Store a validated Result (borrowed) sent by agent owner, with the job's
 * state change, in one transaction; *status says what happened. Returns 0
 * (any status) or -EIO (nothing stored).
 */
int store_put_result(struct store *s, const char *owner, const struct wire_result *r,
                     enum store_result_status *status, char *err, size_t errlen);

/* One result of a group (store_put_results()). */
struct store_result_item {
    const char *owner;                /* borrowed: the agent that sent it */
    const struct wire_result *result; /* borrowed, validated */
    enum store_result_status status;  /* set when rc is 0 */
    int rc;                           /* 0, or -EIO: nothing stored for it */
};

/*
 * Store n results in one transaction (one fsync for all: group commit) of
 * five statements whatever n; each item gets its own status and rc, as if
 * the results had been stored one after the other. When a statement fails,
 * the group is rolled back and each result retried in its own transaction.
 * Returns 0 when every item has rc 0, else -EIO (err describes the last
 * failure).
 */
int store_put_results(struct store *s, struct store_result_item *items, size_t n, char *err,
                      size_t errlen);

/*
 * Create a batch and one job per (entry x matching host) from a validated
 * Submit (borrowed). Defaults: repeat 1, mode sample, timeout default_timeout_s.
 * A host name in the selector that no current host or agent has: -ENOENT,
 * nothing created, err names it and lists the known hosts.
 * An entry that asks for a Python goes only to the hosts one of whose agents
 * reports it; when no selected host has it the whole submit is refused:
 * -PYSCOPE_EUSAGE, err naming the Pythons the hosts have. Else 0 or -EIO.
 */
int store_submit(struct store *s, const struct wire_submit *sub, double default_timeout_s,
                 uint32_t max_attempts, uint64_t *batch_id, uint32_t *jobs, char *err,
                 size_t errlen);

/*
 * Answer a Query: *out gets a new JSON value (caller owns; json_decref):
 * an array of hosts or jobs, or the batch object (json null when unknown).
 */
int store_query(struct store *s, const struct wire_query *q, json_t **out, char *err,
                size_t errlen);

/*
 * Store the commits sub describes (Submit.commits, its commit and try_base
 * when they are full hashes) as store_submit() does; no transaction of its
 * own. Returns 0 or -EIO.
 */
int store_put_commits(struct store *s, const struct wire_submit *sub, char *err, size_t errlen);

/*
 * Whether q names a batch that does not exist (KIND_BATCH; KIND_JOBS and
 * KIND_REPORT with a batch_id): *error gets a new {"code": "unknown_batch",
 * "message"} saying so and how to find one, else NULL. Returns 0 or -EIO.
 */
int store_query_missing(struct store *s, const struct wire_query *q, json_t **error, char *err,
                        size_t errlen);

/*
 * Run sql (borrowed; trusted text) with n text parameters (borrowed; NULL =
 * SQL NULL); each row's first column must be JSON text. *out gets a new
 * array of the parsed rows (caller owns; json_decref). Returns the row count,
 * -EIO or -EINVAL (too many parameters).
 */
int store_json_rows(struct store *s, const char *sql, const char *const *params, size_t n,
                    json_t **out, char *err, size_t errlen);

/*
 * Receives one row of store_each_row(): its ncols values as text (borrowed
 * for the call; NULL for SQL NULL). Returns 0 to go on, or a negative code
 * that stops the walk and becomes store_each_row()'s result.
 */
typedef int (*store_row_fn)(const char *const *values, int ncols, void *arg);

/*
 * Run sql (borrowed; trusted text) with n text parameters (borrowed; NULL =
 * SQL NULL) and call fn for each row, in order. Returns the row count, -EIO,
 * -EINVAL (too many parameters) or fn's negative code.
 */
int store_each_row(struct store *s, const char *sql, const char *const *params, size_t n,
                   store_row_fn fn, void *arg, char *err, size_t errlen);

/* Receives one row of store_each_row_binary() (values borrowed for the
 * call; decode them with coordinator/pgbin.h); returns as store_row_fn does. */
typedef int (*store_bin_row_fn)(const struct pgbin *values, int ncols, void *arg);

/*
 * store_each_row() with the rows in binary format: numbers and arrays arrive
 * without text conversion on either side (cast what should be text, such as
 * a uuid, to text in sql), one row at a time (single-row mode: a big result
 * never sits whole in memory). No reconnect-and-retry: meant for use inside
 * a transaction.
 */
int store_each_row_binary(struct store *s, const char *sql, const char *const *params, size_t n,
                          store_bin_row_fn fn, void *arg, char *err, size_t errlen);

/* Run a statement that returns no rows (BEGIN and COMMIT too). Returns the
 * number of rows it affected, -EIO or -EINVAL. */
int store_command(struct store *s, const char *sql, const char *const *params, size_t n, char *err,
                  size_t errlen);

/* Roll back the open transaction, if any. */
void store_abort(struct store *s);

#endif
