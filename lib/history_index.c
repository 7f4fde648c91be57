/*
 * history_index.c - an index of a reports folder, so that reading a series costs
 * the same whatever the folder holds.
 *
 * Without it, every `pyscope run` parsed every saved report (30 trace reports,
 * 105 MB: 2.5 s). The index lives in DIR/.pyscope-index/ (HISTORY_INDEX_DIR):
 *
 *   state.json         {"schema": "pyscope.history-index/1", "dir_mtime_ns": N,
 *                       "racy": false, "files": K}: DIR's mtime when the index last
 *                       matched it, and how many report files it had
 *   series/<id>.jsonl  one series (script key, host fingerprint, Python build,
 *                       mode; id: the first 32 hex digits of the sha256 of that
 *                       header): a header line {"schema": ..., "series": {...}},
 *                       then one row per report, in file name (= time) order:
 *                       {"file": NAME, "size": S, "mtime_ns": M, "doc": LIGHT}, LIGHT
 *                       being the report without its heavy members (profile,
 *                       memory timeline, suggestions, regression; history_index_light)
 *   profiles/<NAME>    {"size": S, "mtime_ns": M, "profile": ...}: the report's
 *                       profile without its stacks, read only for the few reports a
 *                       comparison uses (history_hydrate)
 *   other.jsonl        rows {"file", "size", "mtime_ns", "why"} of report-named files
 *                       that are no report (corrupt, foreign, too big): not read again
 *   changepoints.json  change points already searched (lib/cp_memo.h: not read here)
 *   lock               flock(): exclusive to change the index, shared to read it
 *
 * Consistency. A read trusts the index when DIR's mtime (nanoseconds) equals
 * state.dir_mtime_ns: a file added, removed or renamed in DIR by anyone changes
 * it. The mtime is recorded only once the coarse clock (that of file times) has
 * moved past it, so that a later change cannot carry the same time; when it has
 * not within 20 ms (a file system with coarse times), "racy" is set and readers
 * count DIR's report names instead. Each row used is also checked against its
 * file's size and mtime. A report saved by `pyscope run` is added without reading
 * anything else (history_index_begin / history_index_commit, under the lock). On
 * any mismatch the index is refreshed: DIR is listed, rows of files that are gone
 * or changed are dropped, new files are read once and added; a missing or
 * damaged index (unparsable state, header or row) is rebuilt from scratch, with a
 * warning (unless DIR holds no report yet); so is a profile summary that is missing,
 * damaged or out of date when read (history_hydrate), from its report. Where
 * the index cannot be written (HISTORY_INDEX_WRITE not given, a read-only
 * folder), a read that cannot trust it falls back to reading every report.
 *
 * Reading a series reads its file backwards from the end, just far enough for the
 * `limit` newest matching rows: the cost depends on the limit, not on the history.
 */
#include "history_index.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hash.h"
#include "log.h"
#include "xmalloc.h"

#define IX_SCHEMA       "pyscope.history-index/1"
#define IX_TAIL_CHUNK   ((off_t)256 << 10) /* first backward read of a series file */
#define IX_MAX_LINE     ((size_t)64 << 20) /* a row longer than this is damage */
#define IX_RACY_WAIT_MS 20

/* ---- small file helpers --------------------------------------------------------- */

static long long mtime_ns(const struct stat *st)
{
    return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static char *ix_path(const char *dir, const char *a, const char *b)
{
    return b ? xasprintf("%s/" HISTORY_INDEX_DIR "/%s/%s", dir, a, b)
             : xasprintf("%s/" HISTORY_INDEX_DIR "/%s", dir, a);
}

/* json_dumps as one line ending in '\n' (new string). */
static char *json_line(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        return NULL;
    char *line = xasprintf("%s\n", s);
    free(s);
    return line;
}

/* Write j (stolen) as the index file ix_path(dir, a, b), atomically; 0 or -errno. */
static int write_ix_json(const char *dir, const char *a, const char *b, json_t *j)
{
    char *text = json_line(j);
    json_decref(j);
    if (!text)
        return -ENOMEM;
    char *path = ix_path(dir, a, b);
    int rc = atomic_write(path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

/* Parse a whole index file (read at once: jansson's own file reader goes a byte at a
 * time); NULL when it cannot be read or parsed. */
static json_t *load_json(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return NULL;
    json_t *j = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size <= IX_MAX_LINE) {
        size_t len = (size_t)sb.st_size;
        char *buf = xmalloc(len + 1);
        if (pread(fd, buf, len, 0) == (ssize_t)len) {
            json_error_t err;
            j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
        }
        free(buf);
    }
    close(fd);
    return j;
}

/* ---- what a row holds ---------------------------------------------------------- */

json_t *history_index_light(const json_t *doc)
{
    static const char *const heavy[] = {"profile", "memory_timeline", "suggestions", "regression"};
    json_t *light = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v)
    {
        bool skip = false;
        for (size_t i = 0; i < sizeof(heavy) / sizeof(heavy[0]) && !skip; i++)
            skip = strcmp(k, heavy[i]) == 0;
        if (!skip)
            json_object_set(light, k, v);
    }
    return light;
}

json_t *history_index_profile(const json_t *doc)
{
    const json_t *p = json_object_get(doc, "profile");
    if (!json_is_object(p))
        return NULL;
    json_t *copy = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)p, k, v)
    {
        if (strcmp(k, "stacks") != 0)
            json_object_set(copy, k, v);
    }
    return copy;
}

static const char *str_at(const json_t *doc, const char *obj, const char *key)
{
    return json_string_value(json_object_get(json_object_get(doc, obj), key));
}

/* The series header of doc (new object): its identity fields, null when absent. */
static json_t *series_of(const json_t *doc)
{
    const char *key = str_at(doc, "script", "key"), *fp = str_at(doc, "host", "fingerprint");
    const char *build = str_at(doc, "python", "build");
    return json_pack("{s:o, s:o, s:o, s:s}", "script_key", key ? json_string(key) : json_null(),
                     "host_fingerprint", fp ? json_string(fp) : json_null(), "python_build",
                     build ? json_string(build) : json_null(), "mode", history_mode(doc));
}

/* The file name of a series: 32 hex digits of the sha256 of its canonical header. */
static void series_id(const json_t *series, char id[33])
{
    char *canon = json_dumps(series, JSON_COMPACT | JSON_SORT_KEYS);
    char hex[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(canon, strlen(canon), hex);
    free(canon);
    memcpy(id, hex, 32);
    id[32] = '\0';
}

/* True when a series header can hold documents that match f. */
static bool series_matches(const json_t *series, const struct history_filter *f)
{
    const char *want[] = {f->script_key, f->host_fingerprint, f->python_build, f->mode};
    const char *keys[] = {"script_key", "host_fingerprint", "python_build", "mode"};
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(series, keys[i]));
        if (want[i] && (!v || strcmp(v, want[i]) != 0))
            return false;
    }
    return true;
}

/* ---- the lock and the state ------------------------------------------------------ */

struct ix_state {
    long long dir_mtime_ns;
    long long files;
    bool racy;
};

/* Open (creating with create) the index's lock file and take it. Returns the
 * descriptor, or -1 (no index, or it cannot be locked). */
static int ix_lock(const char *dir, bool exclusive, bool create)
{
    char *lock = ix_path(dir, "lock", NULL);
    int fd = open(lock, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0644);
    free(lock);
    if (fd < 0)
        return -1;
    while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void ix_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

static int state_read(const char *dir, struct ix_state *st)
{
    char *path = ix_path(dir, "state.json", NULL);
    json_t *j = load_json(path);
    free(path);
    const char *schema = json_string_value(json_object_get(j, "schema"));
    int rc = -1;
    if (schema && strcmp(schema, IX_SCHEMA) == 0 &&
        json_is_integer(json_object_get(j, "dir_mtime_ns")) &&
        json_is_integer(json_object_get(j, "files")) &&
        json_is_boolean(json_object_get(j, "racy"))) {
        st->dir_mtime_ns = json_integer_value(json_object_get(j, "dir_mtime_ns"));
        st->files = json_integer_value(json_object_get(j, "files"));
        st->racy = json_is_true(json_object_get(j, "racy"));
        rc = 0;
    }
    json_decref(j);
    return rc;
}

/* Say why the index of DIR is built from scratch: state.json is damaged, or missing
 * while DIR holds `reports` other reports (none: a first run, nothing to say). */
static void warn_rebuild(const char *dir, long long reports)
{
    char *path = ix_path(dir, "state.json", NULL);
    struct stat sb;
    bool exists = lstat(path, &sb) == 0;
    free(path);
    if (exists)
        log_warn("the history index in \"%s/" HISTORY_INDEX_DIR "\" is damaged (state.json "
                 "cannot be read); rebuilding it",
                 dir);
    else if (reports > 0)
        log_warn("the history index in \"%s/" HISTORY_INDEX_DIR "\" is missing; rebuilding it "
                 "from %lld report%s",
                 dir, reports, reports == 1 ? "" : "s");
}

/* Record DIR's mtime, once the coarse clock has moved past it (see the top). */
static int state_write(const char *dir, long long files)
{
    struct stat sb;
    bool racy = true;
    long long m = 0;
    for (int i = 0; i <= IX_RACY_WAIT_MS; i++) {
        if (stat(dir, &sb) < 0)
            return -errno;
        m = mtime_ns(&sb);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME_COARSE, &now);
        if ((long long)now.tv_sec * 1000000000LL + now.tv_nsec > m) {
            racy = false;
            break;
        }
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    return write_ix_json(dir, "state.json", NULL,
                         json_pack("{s:s, s:I, s:b, s:I}", "schema", IX_SCHEMA, "dir_mtime_ns",
                                   (json_int_t)m, "racy", racy, "files", (json_int_t)files));
}

static bool is_report_name(const char *name)
{
    size_t len = strlen(name), pl = strlen(HISTORY_PREFIX), sl = strlen(HISTORY_SUFFIX);
    return len > pl + sl && strncmp(name, HISTORY_PREFIX, pl) == 0 &&
           strcmp(name + len - sl, HISTORY_SUFFIX) == 0;
}

/* How many report names DIR holds; -1 when it cannot be listed. */
static long long count_reports(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    long long n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        n += is_report_name(de->d_name);
    closedir(d);
    return n;
}

/* True when the index describes DIR as it is now (st read under the lock). */
static bool state_current(const char *dir, const struct ix_state *st)
{
    struct stat sb;
    if (stat(dir, &sb) < 0 || mtime_ns(&sb) != st->dir_mtime_ns)
        return false;
    return !st->racy || count_reports(dir) == st->files;
}

/* ---- series files ---------------------------------------------------------------- */

/* One row as read, with its file name (borrowed from row). */
struct ix_row {
    json_t *row;
    const char *file;
};

static bool row_valid(const json_t *row)
{
    return json_is_string(json_object_get(row, "file")) &&
           json_is_integer(json_object_get(row, "size")) &&
           json_is_integer(json_object_get(row, "mtime_ns")) &&
           json_is_object(json_object_get(row, "doc"));
}

/* Parse a series file's header line; returns the "series" object (new) or NULL. */
static json_t *parse_header(const char *line, size_t len)
{
    json_error_t err;
    json_t *h = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    const char *schema = json_string_value(json_object_get(h, "schema"));
    json_t *series = NULL;
    if (schema && strcmp(schema, IX_SCHEMA) == 0 && json_is_object(json_object_get(h, "series")))
        series = json_incref(json_object_get(h, "series"));
    json_decref(h);
    return series;
}

/* Read the header of the series file at path (new object) or NULL. */
static json_t *read_header(const char *path)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, fp);
    fclose(fp);
    json_t *series = n > 0 ? parse_header(line, (size_t)n) : NULL;
    free(line);
    return series;
}

/*
 * Call cb for the rows of a series file from the newest back, until it returns
 * false. Reads backwards in growing chunks. Returns 0, or -1 when the file is
 * damaged (a line that does not parse, a missing or bad header).
 */
typedef bool (*row_fn)(json_t *row, void *arg); /* takes the row's reference */

static int series_rows_backward(const char *path, row_fn cb, void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return -1;
    }
    off_t end = sb.st_size; /* [0, end) not yet handled */
    off_t chunk = IX_TAIL_CHUNK;
    char *buf = NULL;
    int rc = 0;
    bool go = true;
    while (go && end > 0) {
        off_t start = end > chunk ? end - chunk : 0;
        size_t len = (size_t)(end - start);
        buf = xrealloc(buf, len + 1);
        if (pread(fd, buf, len, start) != (ssize_t)len) {
            rc = -1;
            break;
        }
        buf[len] = '\0';
        /* complete lines only: from the first line start in this chunk */
        size_t first = 0;
        if (start > 0) {
            char *nl = memchr(buf, '\n', len);
            if (!nl) { /* one line longer than the chunk: read more */
                if ((size_t)chunk > IX_MAX_LINE) {
                    rc = -1;
                    break;
                }
                chunk *= 2;
                continue;
            }
            first = (size_t)(nl - buf) + 1;
        }
        /* lines of [first, len), newest first */
        size_t stop = len;
        while (go && stop > first) {
            size_t e = stop;
            if (buf[e - 1] == '\n')
                e--;
            size_t b = e;
            while (b > first && buf[b - 1] != '\n')
                b--;
            if (start == 0 && b == 0) { /* the header */
                json_t *series = parse_header(buf, e);
                if (!series)
                    rc = -1;
                json_decref(series);
                go = false;
                break;
            }
            if (e > b) {
                json_error_t err;
                json_t *row = json_loadb(buf + b, e - b, JSON_REJECT_DUPLICATES, &err);
                if (!row || !row_valid(row)) {
                    json_decref(row);
                    rc = -1;
                    go = false;
                    break;
                }
                go = cb(row, arg);
            }
            stop = b;
        }
        end = start + (off_t)first;
        if (start == 0)
            break;
        chunk *= 2;
    }
    free(buf);
    close(fd);
    return rc;
}

/* ---- refresh: make the index match DIR ----------------------------------------------- */

/* What the index knows of one file. */
struct known {
    char *file;
    long long size, mtime;
    char series[33]; /* "" for other.jsonl */
};

struct knowns {
    struct known *v;
    size_t n, cap;
};

static void knowns_add(struct knowns *k, const char *file, long long size, long long mtime,
                       const char *series)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 64;
        k->v = xreallocarray(k->v, k->cap, sizeof(*k->v));
    }
    struct known *e = &k->v[k->n++];
    e->file = xstrdup(file);
    e->size = size;
    e->mtime = mtime;
    snprintf(e->series, sizeof(e->series), "%s", series);
}

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const struct known *)a)->file, ((const struct known *)b)->file);
}

static void knowns_free(struct knowns *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].file);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

/* Read every line of a JSON-lines file (header skipped when has_header) into rows. */
static int read_all_rows(const char *path, bool has_header, json_t *rows)
{
    FILE *fp = fopen(path, "re");
    if (!fp)
        return errno == ENOENT ? 0 : -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    bool first = true;
    while ((n = getline(&line, &cap, fp)) > 0) {
        if (first && has_header) {
            json_t *series = parse_header(line, (size_t)n);
            first = false;
            if (!series) {
                rc = -1;
                break;
            }
            json_decref(series);
            continue;
        }
        first = false;
        json_error_t err;
        json_t *row = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_string(json_object_get(row, "file")) ||
            !json_is_integer(json_object_get(row, "size")) ||
            !json_is_integer(json_object_get(row, "mtime_ns"))) {
            json_decref(row);
            rc = -1;
            break;
        }
        json_array_append_new(rows, row);
    }
    if (first && has_header)
        rc = -1; /* an empty series file */
    free(line);
    fclose(fp);
    return rc;
}

static int cmp_rows_by_file(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "file")),
                  json_string_value(json_object_get(*(json_t *const *)b, "file")));
}

/* Write a series file: header, then rows sorted by file (rows: array, modified). */
static int write_series(const char *dir, const char *id, const json_t *series, json_t *rows)
{
    size_t n = json_array_size(rows);
    json_t **v = xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(rows, i);
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_rows_by_file);
    json_t *h = json_pack("{s:s, s:O}", "schema", IX_SCHEMA, "series", series);
    char *text = json_line(h);
    json_decref(h);
    size_t len = strlen(text), cap = len + 1;
    for (size_t i = 0; i < n; i++) {
        char *line = json_line(v[i]);
        size_t l = strlen(line);
        if (len + l + 1 > cap) {
            cap = 2 * (len + l + 1);
            text = xrealloc(text, cap);
        }
        memcpy(text + len, line, l + 1);
        len += l;
        free(line);
    }
    free(v);
    char *name = xasprintf("%s.jsonl", id);
    char *path = ix_path(dir, "series", name);
    int rc = n ? atomic_write(path, text, len) : (unlink(path) < 0 && errno != ENOENT ? -1 : 0);
    free(name);
    free(path);
    free(text);
    return rc;
}

static int write_profile(const char *dir, const char *file, long long size, long long mtime,
                         const json_t *doc)
{
    json_t *p = history_index_profile(doc);
    return write_ix_json(dir, "profiles", file,
                         json_pack("{s:I, s:I, s:o}", "size", (json_int_t)size, "mtime_ns",
                                   (json_int_t)mtime, "profile", p ? p : json_null()));
}

/* Make DIR/.pyscope-index and its sub-folders; 0 or -errno. */
static int ix_mkdirs(const char *dir)
{
    const char *subs[] = {NULL, "series", "profiles"};
    for (size_t i = 0; i < 3; i++) {
        char *p = subs[i] ? ix_path(dir, subs[i], NULL) : xasprintf("%s/" HISTORY_INDEX_DIR, dir);
        int rc = mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
        free(p);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Remove every file of a sub-folder of the index. */
static void ix_clear(const char *dir, const char *sub)
{
    char *p = ix_path(dir, sub, NULL);
    DIR *d = opendir(p);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.')
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    free(p);
}

/* Everything the index knows (files of every series and of other.jsonl) into *k, and
 * the series' rows into *series_rows (object: id -> {"series", "rows"}). -1: damaged. */
static int ix_read_all(const char *dir, struct knowns *k, json_t *series_rows)
{
    char *sdir = ix_path(dir, "series", NULL);
    DIR *d = opendir(sdir);
    int rc = 0;
    if (d) {
        struct dirent *de;
        while (rc == 0 && (de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l != 38 || strcmp(de->d_name + 32, ".jsonl") != 0)
                continue;
            char id[33];
            memcpy(id, de->d_name, 32);
            id[32] = '\0';
            char *path = xasprintf("%s/%s", sdir, de->d_name);
            json_t *series = read_header(path);
            json_t *rows = json_array();
            char check[33];
            if (!series || (series_id(series, check), strcmp(check, id) != 0) ||
                read_all_rows(path, true, rows) < 0) {
                rc = -1;
            } else {
                size_t i;
                json_t *r;
                json_array_foreach(rows, i, r)
                {
                    if (!row_valid(r)) {
                        rc = -1;
                        break;
                    }
                    knowns_add(k, json_string_value(json_object_get(r, "file")),
                               json_integer_value(json_object_get(r, "size")),
                               json_integer_value(json_object_get(r, "mtime_ns")), id);
                }
                json_object_set_new(series_rows, id,
                                    json_pack("{s:O, s:O}", "series", series, "rows", rows));
            }
            json_decref(series);
            json_decref(rows);
            free(path);
        }
        closedir(d);
    }
    free(sdir);
    if (rc == 0) {
        json_t *rows = json_array();
        char *path = ix_path(dir, "other.jsonl", NULL);
        rc = read_all_rows(path, false, rows);
        free(path);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            knowns_add(k, json_string_value(json_object_get(r, "file")),
                       json_integer_value(json_object_get(r, "size")),
                       json_integer_value(json_object_get(r, "mtime_ns")), "");
        json_decref(rows);
    }
    if (k->n > 1)
        qsort(k->v, k->n, sizeof(*k->v), cmp_known);
    return rc;
}

static const struct known *knowns_find(const struct knowns *k, const char *file)
{
    struct known key = {.file = (char *)file};
    return k->n ? bsearch(&key, k->v, k->n, sizeof(*k->v), cmp_known) : NULL;
}

/* Add a report to its series in series_rows (creating the series) and mark it dirty. */
static void add_row(json_t *series_rows, json_t *dirty, const char *file, long long size,
                    long long mtime, const json_t *doc)
{
    json_t *series = series_of(doc);
    char id[33];
    series_id(series, id);
    json_t *s = json_object_get(series_rows, id);
    if (!s) {
        s = json_pack("{s:O, s:[]}", "series", series, "rows");
        json_object_set_new(series_rows, id, s);
    }
    json_array_append_new(json_object_get(s, "rows"),
                          json_pack("{s:s, s:I, s:I, s:o}", "file", file, "size", (json_int_t)size,
                                    "mtime_ns", (json_int_t)mtime, "doc",
                                    history_index_light(doc)));
    json_object_set_new(dirty, id, json_true());
    json_decref(series);
}

/* Drop the row of file from series id in series_rows and mark it dirty. */
static void drop_row(json_t *series_rows, json_t *dirty, const char *id, const char *file)
{
    json_t *rows = json_object_get(json_object_get(series_rows, id), "rows");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "file")), file) == 0) {
            json_array_remove(rows, i);
            break;
        }
    }
    json_object_set_new(dirty, id, json_true());
}

/*
 * Make the index match DIR (the exclusive lock held). full: start from nothing.
 * Returns 0 or -1 (the index could not be written).
 * Longer than 100 lines, kept whole: one scan of the folder that compares each file with
 * its index entry, re-reads what changed and writes the index back, under the one lock.
 */
static int ix_refresh(const char *dir, bool full)
{
    if (ix_mkdirs(dir) < 0)
        return -1;
    struct knowns k = {0};
    json_t *series_rows = json_object(), *dirty = json_object();
    if (!full && ix_read_all(dir, &k, series_rows) < 0) {
        log_warn("the history index in \"%s/" HISTORY_INDEX_DIR "\" is damaged; rebuilding it",
                 dir);
        full = true;
    }
    if (full) {
        knowns_free(&k);
        json_object_clear(series_rows);
        ix_clear(dir, "series");
        ix_clear(dir, "profiles");
        char *other = ix_path(dir, "other.jsonl", NULL);
        unlink(other);
        free(other);
    }
    char **names;
    size_t n;
    int rc = history_list(dir, &names, &n);
    if (rc < 0) {
        knowns_free(&k);
        json_decref(series_rows);
        json_decref(dirty);
        return -1;
    }
    json_t *others = json_array();
    bool others_dirty = full;
    bool *seen = xcalloc(k.n ? k.n : 1, sizeof(*seen));
    for (size_t i = 0; i < n; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(path, &sb) < 0) {
            free(path);
            continue;
        }
        const struct known *kn = knowns_find(&k, names[i]);
        if (kn)
            seen[kn - k.v] = true;
        if (kn && kn->size == (long long)sb.st_size && kn->mtime == mtime_ns(&sb)) {
            if (!kn->series[0])
                json_array_append_new(others, json_pack("{s:s, s:I, s:I}", "file", names[i], "size",
                                                        (json_int_t)kn->size, "mtime_ns",
                                                        (json_int_t)kn->mtime));
            free(path);
            continue;
        }
        if (kn && kn->series[0])
            drop_row(series_rows, dirty, kn->series, names[i]);
        others_dirty = others_dirty || (kn && !kn->series[0]);
        json_t *doc;
        char err[256];
        if (history_load_file(path, &doc, err, sizeof(err)) < 0) {
            log_warn("skipping report \"%s\": %s", path, err);
            json_array_append_new(others, json_pack("{s:s, s:I, s:I, s:s}", "file", names[i],
                                                    "size", (json_int_t)sb.st_size, "mtime_ns",
                                                    (json_int_t)mtime_ns(&sb), "why", err));
            others_dirty = true;
        } else {
            add_row(series_rows, dirty, names[i], (long long)sb.st_size, mtime_ns(&sb), doc);
            if (write_profile(dir, names[i], (long long)sb.st_size, mtime_ns(&sb), doc) < 0)
                rc = -1;
            json_decref(doc);
        }
        free(path);
    }
    for (size_t i = 0; i < k.n; i++) { /* gone from DIR */
        if (seen[i])
            continue;
        if (k.v[i].series[0]) {
            drop_row(series_rows, dirty, k.v[i].series, k.v[i].file);
            char *p = ix_path(dir, "profiles", k.v[i].file);
            unlink(p);
            free(p);
        } else {
            others_dirty = true;
        }
    }
    free(seen);
    const char *id;
    json_t *v;
    json_object_foreach(dirty, id, v)
    {
        json_t *s = json_object_get(series_rows, id);
        if (write_series(dir, id, json_object_get(s, "series"), json_object_get(s, "rows")) < 0)
            rc = -1;
    }
    if (others_dirty) {
        size_t len = 0, i;
        char *text = xstrdup("");
        json_t *r;
        json_array_foreach(others, i, r)
        {
            char *line = json_line(r);
            text = xrealloc(text, len + strlen(line) + 1);
            memcpy(text + len, line, strlen(line) + 1);
            len += strlen(line);
            free(line);
        }
        char *path = ix_path(dir, "other.jsonl", NULL);
        if (atomic_write(path, text, len) < 0)
            rc = -1;
        free(path);
        free(text);
    }
    if (rc == 0)
        rc = state_write(dir, (long long)n) < 0 ? -1 : 0;
    history_names_free(names, n);
    json_decref(others);
    json_decref(series_rows);
    json_decref(dirty);
    knowns_free(&k);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------- */

struct ix_read {
    const char *dir;
    const struct history_filter *f;
    struct history *out;
    size_t cap;
    size_t accepted; /* rows accepted from the current series */
    bool stale;      /* a row's file no longer matches it */
};

static bool read_row(json_t *row, void *arg)
{
    struct ix_read *r = arg;
    const json_t *doc = json_object_get(row, "doc");
    if (!history_matches(doc, r->f)) {
        json_decref(row);
        return true;
    }
    const char *file = json_string_value(json_object_get(row, "file"));
    char *path = xasprintf("%s/%s", r->dir, file);
    struct stat sb;
    if (stat(path, &sb) < 0 ||
        (long long)sb.st_size != json_integer_value(json_object_get(row, "size")) ||
        mtime_ns(&sb) != json_integer_value(json_object_get(row, "mtime_ns"))) {
        r->stale = true;
        free(path);
        json_decref(row);
        return false;
    }
    if (r->out->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->out->entries = xreallocarray(r->out->entries, r->cap, sizeof(*r->out->entries));
    }
    json_t *light = json_incref(json_object_get(row, "doc"));
    if (r->f->flags & HISTORY_LIGHT)
        json_object_set_new(light, HISTORY_LIGHT_PATH, json_string(path));
    r->out->entries[r->out->n++] = (struct history_entry){path, light};
    json_decref(row);
    r->accepted++;
    return !r->f->limit || r->accepted < r->f->limit;
}

static int cmp_entries_by_name(const void *a, const void *b)
{
    const char *x = strrchr(((const struct history_entry *)a)->path, '/');
    const char *y = strrchr(((const struct history_entry *)b)->path, '/');
    return strcmp(x ? x : "", y ? y : "");
}

/* Read the matching rows of every series that can match f; -1: damaged, 1: stale. */
static int ix_read(const char *dir, const struct history_filter *f, struct history *out)
{
    struct ix_read r = {.dir = dir, .f = f, .out = out};
    int rc = 0;
    if (f->script_key && f->host_fingerprint && f->python_build && f->mode) {
        json_t *series =
            json_pack("{s:s, s:s, s:s, s:s}", "script_key", f->script_key, "host_fingerprint",
                      f->host_fingerprint, "python_build", f->python_build, "mode", f->mode);
        char id[33];
        series_id(series, id);
        json_decref(series);
        char *name = xasprintf("%s.jsonl", id);
        char *path = ix_path(dir, "series", name);
        rc = series_rows_backward(path, read_row, &r);
        free(name);
        free(path);
    } else {
        char *sdir = ix_path(dir, "series", NULL);
        DIR *d = opendir(sdir);
        struct dirent *de;
        while (rc == 0 && !r.stale && d && (de = readdir(d)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l != 38 || strcmp(de->d_name + 32, ".jsonl") != 0)
                continue;
            char *path = xasprintf("%s/%s", sdir, de->d_name);
            json_t *series = read_header(path);
            if (!series)
                rc = -1;
            else if (series_matches(series, f)) {
                r.accepted = 0;
                rc = series_rows_backward(path, read_row, &r);
            }
            json_decref(series);
            free(path);
        }
        if (d)
            closedir(d);
        free(sdir);
    }
    if (rc < 0 || r.stale) {
        history_release(out);
        return rc < 0 ? -1 : 1;
    }
    /* oldest first, the newest `limit` over all the series read */
    if (out->n > 1)
        qsort(out->entries, out->n, sizeof(*out->entries), cmp_entries_by_name);
    if (f->limit && out->n > f->limit) {
        size_t drop = out->n - f->limit;
        for (size_t i = 0; i < drop; i++) {
            free(out->entries[i].path);
            json_decref(out->entries[i].doc);
        }
        memmove(out->entries, out->entries + drop, f->limit * sizeof(*out->entries));
        out->n = f->limit;
    }
    return 0;
}

int history_index_load(const char *dir, const struct history_filter *f, struct history *out)
{
    out->entries = NULL;
    out->n = 0;
    bool can_write = (f->flags & HISTORY_INDEX_WRITE) != 0;
    struct stat sb;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
        return -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        bool exclusive = can_write && attempt > 0;
        int lock = exclusive ? (ix_mkdirs(dir) == 0 ? ix_lock(dir, true, true) : -1)
                             : ix_lock(dir, false, false);
        if (exclusive && lock < 0)
            return -1;
        struct ix_state st;
        bool have = state_read(dir, &st) == 0;
        bool current = have && state_current(dir, &st);
        if (!current && exclusive) {
            if (!have)
                warn_rebuild(dir, count_reports(dir));
            if (ix_refresh(dir, !have) < 0) {
                ix_unlock(lock);
                return -1;
            }
            current = true;
        }
        int rc = current ? ix_read(dir, f, out) : 1;
        for (size_t i = 0; rc == 0 && !(f->flags & HISTORY_LIGHT) && i < out->n; i++)
            history_hydrate(dir, &out->entries[i]);
        if (rc < 0 && exclusive) { /* damaged: rebuild, read once more */
            log_warn("the history index in \"%s/" HISTORY_INDEX_DIR "\" is damaged; rebuilding "
                     "it",
                     dir);
            rc = ix_refresh(dir, true) < 0 ? -1 : ix_read(dir, f, out);
        }
        ix_unlock(lock);
        if (rc == 0)
            return 0;
        if (!can_write || (rc < 0 && exclusive))
            return -1;
        /* stale or damaged: take the lock exclusively and repair (attempt 1, 2) */
    }
    return -1;
}

const json_t *history_profile(const json_t *doc)
{
    const json_t *p = json_object_get(doc, "profile");
    const char *path = json_string_value(json_object_get(doc, HISTORY_LIGHT_PATH));
    if (p || !path)
        return p;
    char *copy = xstrdup(path), *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    struct history_entry e = {copy, (json_t *)doc}; /* ours: history_load made it */
    history_hydrate(slash ? dir : ".", &e);
    free(copy);
    free(dir);
    return json_object_get(doc, "profile");
}

int history_hydrate(const char *dir, struct history_entry *e)
{
    json_object_del(e->doc, HISTORY_LIGHT_PATH);
    if (json_object_get(e->doc, "profile"))
        return 0;
    const char *slash = strrchr(e->path, '/');
    const char *file = slash ? slash + 1 : e->path;
    struct stat sb;
    const char *why = NULL; /* why the summary is rebuilt; NULL: it is not */
    if (stat(e->path, &sb) == 0) {
        char *path = ix_path(dir, "profiles", file);
        struct stat ps;
        json_t *j = load_json(path);
        bool there = stat(path, &ps) == 0;
        free(path);
        if (json_integer_value(json_object_get(j, "size")) == (json_int_t)sb.st_size &&
            json_integer_value(json_object_get(j, "mtime_ns")) == mtime_ns(&sb) &&
            json_object_get(j, "profile")) {
            json_t *p = json_object_get(j, "profile");
            if (json_is_object(p))
                json_object_set(e->doc, "profile", p);
            json_decref(j);
            return 0;
        }
        why = !there ? "missing" : !j || !json_object_get(j, "profile") ? "damaged" : "out of date";
        json_decref(j);
    }
    /* no usable summary: the report itself */
    json_t *doc;
    char err[256];
    int rc = history_load_file(e->path, &doc, err, sizeof(err));
    if (rc < 0) {
        log_warn("could not read report \"%s\": %s", e->path, err);
        return rc;
    }
    if (why) {
        log_warn("the profile summary of \"%s\" in \"%s/" HISTORY_INDEX_DIR "/profiles\" is %s; "
                 "rebuilding it from the report",
                 file, dir, why);
        if (write_profile(dir, file, (long long)sb.st_size, mtime_ns(&sb), doc) < 0)
            log_debug("could not write the profile summary of \"%s\"", e->path);
    }
    json_t *p = history_index_profile(doc);
    if (p)
        json_object_set_new(e->doc, "profile", p);
    json_decref(doc);
    return 0;
}

/* ---- adding the report just saved ------------------------------------------------------ */

static bool take_first_file(json_t *row, void *arg)
{
    *(char **)arg = xstrdup(json_string_value(json_object_get(row, "file")));
    json_decref(row);
    return false;
}

/* True when file sorts after every report of doc's series (appending keeps the order). */
static bool newest_in_series(const char *dir, const json_t *doc, const char *file)
{
    json_t *series = series_of(doc);
    char id[33];
    series_id(series, id);
    json_decref(series);
    char *name = xasprintf("%s.jsonl", id);
    char *path = ix_path(dir, "series", name);
    char *last = NULL;
    int rc = series_rows_backward(path, take_first_file, &last);
    bool ok = rc == 0 && (!last || strcmp(last, file) < 0);
    free(last);
    free(path);
    free(name);
    return ok;
}

int history_index_begin(const char *dir, struct history_index_txn *t)
{
    memset(t, 0, sizeof(*t));
    t->lock_fd = -1;
    if (ix_mkdirs(dir) < 0)
        return -1;
    t->lock_fd = ix_lock(dir, true, true);
    if (t->lock_fd < 0)
        return -1;
    struct ix_state st;
    t->dir = xstrdup(dir);
    t->have = state_read(dir, &st) == 0;
    t->current = t->have && state_current(dir, &st);
    t->files = st.files;
    return 0;
}

void history_index_commit(struct history_index_txn *t, const char *file, const json_t *doc)
{
    if (t->lock_fd < 0)
        return;
    char *path = file && doc ? xasprintf("%s/%s", t->dir, file) : NULL;
    struct stat sb;
    bool quick = t->current && path && stat(path, &sb) == 0 &&
                 count_reports(t->dir) == t->files + 1 && history_schema_ok(doc) &&
                 newest_in_series(t->dir, doc, file);
    int rc = 0;
    if (quick) {
        /* append the row to its series (a new series file gets its header first) */
        json_t *series = series_of(doc);
        char id[33];
        series_id(series, id);
        char *name = xasprintf("%s.jsonl", id);
        char *spath = ix_path(t->dir, "series", name);
        json_t *row =
            json_pack("{s:s, s:I, s:I, s:o}", "file", file, "size", (json_int_t)sb.st_size,
                      "mtime_ns", (json_int_t)mtime_ns(&sb), "doc", history_index_light(doc));
        char *line = json_line(row);
        struct stat ss;
        bool fresh_file = stat(spath, &ss) < 0;
        char *text = line;
        if (fresh_file) {
            json_t *h = json_pack("{s:s, s:O}", "schema", IX_SCHEMA, "series", series);
            char *hl = json_line(h);
            json_decref(h);
            text = xasprintf("%s%s", hl, line);
            free(hl);
        }
        int fd = open(spath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        size_t len = strlen(text);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
            rc = -1;
        if (fd >= 0 && close(fd) < 0)
            rc = -1;
        if (text != line)
            free(text);
        free(line);
        json_decref(row);
        json_decref(series);
        free(name);
        free(spath);
        if (rc == 0)
            rc = write_profile(t->dir, file, (long long)sb.st_size, mtime_ns(&sb), doc);
        if (rc == 0)
            rc = state_write(t->dir, t->files + 1);
    }
    if (!quick && !t->have)
        warn_rebuild(t->dir, count_reports(t->dir) - (path ? 1 : 0));
    if (!quick || rc < 0)
        rc = ix_refresh(t->dir, !t->have || rc < 0);
    if (rc < 0)
        log_debug("could not update the history index in \"%s\"", t->dir);
    free(path);
    history_index_end(t);
}

void history_index_end(struct history_index_txn *t)
{
    ix_unlock(t->lock_fd);
    t->lock_fd = -1;
    free(t->dir);
    t->dir = NULL;
}
