/*
 * history.h - earlier reports kept in a local folder (reports/json/).
 *
 * `pyscope run` saves each report as pyscope_report_<UTC timestamp>.json,
 * so file names sort by time. This module lists them, loads them with a
 * hard size cap, and keeps those of one series (script key, host
 * fingerprint, Python build). A file that cannot be read, is not JSON, is
 * not an object, or carries a schema other than pyscope.run/1 or
 * pyscope.report/1 is skipped with a warning: a damaged history never stops
 * a run.
 */
#ifndef PYSCOPE_HISTORY_H
#define PYSCOPE_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest report file loaded; bigger ones are skipped (-PYSCOPE_ETOOBIG). */
#define HISTORY_MAX_FILE_BYTES ((size_t)64 << 20)
/* File names considered: HISTORY_PREFIX ... HISTORY_SUFFIX. */
#define HISTORY_PREFIX "pyscope_report_"
#define HISTORY_SUFFIX ".json"

/* The index of a reports folder (lib/history_index.c): DIR/HISTORY_INDEX_DIR. */
#define HISTORY_INDEX_DIR ".pyscope-index"

/* history_filter.flags */
#define HISTORY_INDEX_READ  1u /* read through the folder's index when it is current */
#define HISTORY_INDEX_WRITE 2u /* and build, refresh or repair it as needed (implies READ) */
#define HISTORY_LIGHT       4u /* entries may lack "profile": history_hydrate() adds it */

struct history_filter {
    const char *script_key;       /* script.key must equal it; NULL: any */
    const char *host_fingerprint; /* host.fingerprint must equal it; NULL: any */
    const char *python_build;     /* python.build must equal it; NULL: any */
    const char *mode;             /* history_mode() must equal it ("sample", "trace"); NULL: any */
    const char *exclude_id;       /* skip the document whose id equals it (the candidate) */
    bool ok_only;   /* keep only status.outcome "ok" (a missing status counts as ok) */
    size_t limit;   /* keep at most the newest `limit` matches; 0: all */
    unsigned flags; /* HISTORY_INDEX_READ, HISTORY_INDEX_WRITE, HISTORY_LIGHT; 0: read
                       every report (never writes) */
};

struct history_entry {
    char *path;  /* file path (owned) */
    json_t *doc; /* the document (owned reference) */
};

struct history {
    struct history_entry *entries; /* oldest first (file name order) */
    size_t n;
};

/*
 * List the report file names in dir (HISTORY_PREFIX*HISTORY_SUFFIX, regular
 * or not yet checked), sorted ascending. *names is new (caller frees with
 * history_names_free). Returns 0 or -errno (e.g. -ENOENT for no folder).
 */
int history_list(const char *dir, char ***names, size_t *n);
/* Free a list from history_list (NULL-safe). */
void history_names_free(char **names, size_t n);

/*
 * Load one report: a regular file of at most HISTORY_MAX_FILE_BYTES holding a
 * JSON object with a known schema. *doc is new (caller json_decrefs). Returns
 * 0, -errno, -PYSCOPE_ETOOBIG, -PYSCOPE_EPARSE (not JSON or not an object)
 * or -PYSCOPE_ESCHEMA. errbuf (may be NULL) receives a reason on failure.
 */
int history_load_file(const char *path, json_t **doc, char *errbuf, size_t errlen);

/* True when doc (borrowed) is an object of schema pyscope.run/1 or pyscope.report/1. */
bool history_schema_ok(const json_t *doc);

/*
 * The profiling mode of doc (borrowed): options.mode, "sample" when absent
 * (the default of every pyscope-run that wrote no mode). Part of what makes
 * runs comparable: trace mode slows calls and adds memory, so a series is
 * (script key, host fingerprint, Python build, mode). Static or borrowed string.
 */
const char *history_mode(const json_t *doc);

/* True when doc (borrowed) belongs to the series described by f (borrowed). */
bool history_matches(const json_t *doc, const struct history_filter *f);

/*
 * Load the reports of dir that match f into *out (oldest first), skipping
 * bad files with a log_warn. *out is filled even on error; release it with
 * history_release. Returns 0 or -errno when the folder cannot be listed.
 *
 * With HISTORY_INDEX_READ the folder's index serves the read when it matches
 * the folder (with HISTORY_INDEX_WRITE it is built or repaired first when it
 * does not); otherwise every report is read, as without the flag. The
 * documents then lack their profile's "stacks" and, with HISTORY_LIGHT, their
 * whole "profile", "memory_timeline", "suggestions" and "regression" (the
 * index keeps everything else): history_hydrate() adds the profile (without
 * stacks) to the few entries that need it.
 */
int history_load(const char *dir, const struct history_filter *f, struct history *out);

/* Give e->doc its "profile" (without stacks) when it has none: from the index
 * of dir, else from the report file. Returns 0 or a negative code (reported). */
int history_hydrate(const char *dir, struct history_entry *e);

/*
 * doc's "profile" (borrowed), or NULL. A light document of history_load (it
 * carries its file's path in HISTORY_LIGHT_PATH) gets it on first use, as
 * history_hydrate would, and keeps it: read every profile of a history
 * document through this, so that only the ones used are read.
 */
#define HISTORY_LIGHT_PATH "_pyscope_light_path"
const json_t *history_profile(const json_t *doc);

/*
 * Adding a report just saved in dir to the index, cheaply: history_index_begin
 * before writing the report file (locks the index, notes whether it matched the
 * folder), history_index_commit after (adds the row, or refreshes the index
 * when anything else changed; file NULL: the save failed) or history_index_end
 * to give up. Failures only cost the next read a refresh (logged at debug level).
 */
struct history_index_txn {
    int lock_fd;
    char *dir;
    bool have, current;
    long long files;
};
int history_index_begin(const char *dir, struct history_index_txn *t);
void history_index_commit(struct history_index_txn *t, const char *file, const json_t *doc);
void history_index_end(struct history_index_txn *t);

/* Free everything history_load put in h and empty it (NULL-safe). */
void history_release(struct history *h);

/* The metric whose samples are instruction counts (pyscope-run --instructions). */
#define HISTORY_METRIC_INSTRUCTIONS "instructions"

/*
 * The samples of one run-level metric of doc (borrowed): "instructions" reads
 * instructions.counts[] (absent in reports made without --instructions: no
 * samples), any other name runs[].<metric> ("wall_s", "cpu_s",
 * "peak_rss_bytes", ...). Values that are not finite numbers >= 0 are
 * skipped. Returns a new array (caller frees; never NULL) and the count in *n.
 */
double *history_samples(const json_t *doc, const char *metric, size_t *n);

/*
 * The instruction count of doc (borrowed) for the reports: the median of its
 * counts in millions and how they were made, e.g. "298.7 M (cachegrind,
 * PYTHONHASHSEED=0)", with "median of N runs; " before "cachegrind" when
 * there are several, and "; " HISTORY_INSTRUCTIONS_CHILDREN_NOTE after when
 * its "instructions" object has that note, "; " HISTORY_INSTRUCTIONS_THREADS_NOTE when
 * its counts are not exact (history_instructions_exact). Returns a new string (caller frees),
 * or NULL when doc has no counts. The text may hold the user's PYTHONHASHSEED:
 * escape it.
 */
char *history_instructions_text(const json_t *doc);

/* The "note" of a run's "instructions" object (pyscope-run) when the script
 * started child processes (its profile's "forks" > 0). */
#define HISTORY_INSTRUCTIONS_CHILDREN_NOTE                                                         \
    "the script started child processes; their instructions are not counted"

/* Whether doc's (borrowed) "instructions" object has HISTORY_INSTRUCTIONS_CHILDREN_NOTE. */
bool history_instructions_children(const json_t *doc);

/* What the reports add to the counts of a script that ran several Python threads
 * (its "instructions" object has "exact": false). */
#define HISTORY_INSTRUCTIONS_THREADS_NOTE                                                          \
    "the script ran several Python threads: its counts vary with the machine's load (GIL "         \
    "hand-offs are timed), so they are judged as times are, not as exact counts"

/* How a verdict's reason starts when inexact counts kept the exact rule away (lib/regress's
 * document comparisons, lib/abtest's tries and bisections: local and on the farm alike). */
#define HISTORY_INSTRUCTIONS_THREADS_REASON                                                        \
    "the script ran several Python threads, whose counts vary with the machine's load, so the "    \
    "exact rule does not apply"

/*
 * Whether doc's (borrowed) counts can be judged exact: false when its "instructions"
 * object says "exact": false (pyscope-run: the script ran several Python threads), true
 * otherwise (documents from before the field: as they were judged).
 */
bool history_instructions_exact(const json_t *doc);

#endif
