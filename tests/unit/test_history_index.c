/*
 * test_history_index.c - lib/history's index of a reports folder against the plain
 * read of every report: the same documents and the same regression verdicts, kept
 * consistent when files are added, removed, changed or copied in behind its back,
 * rebuilt when it is missing or damaged, and never written without
 * HISTORY_INDEX_WRITE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "history_index.h"
#include "log.h"
#include "regress.h"
#include "xmalloc.h"

#define KEY "bench/work.py"
#define PY  "3.11.2 (main) [GCC 12.2.0]"
#define RW  (HISTORY_INDEX_READ | HISTORY_INDEX_WRITE)

static char dir[64];

/* A pyscope.report/1 document: n runs around wall, two functions, stacks, a timeline. */
static json_t *make_doc(int i, const char *host, const char *mode, const char *outcome, double wall)
{
    json_t *runs = json_array(), *fruns = json_array();
    for (int k = 0; k < 5; k++) {
        double w = wall * (1 + 0.01 * ((i * 7 + k * 3) % 5));
        json_array_append_new(runs, json_pack("{s:f, s:f, s:I}", "wall_s", w, "cpu_s", w * 0.9,
                                              "peak_rss_bytes", (json_int_t)(20000000 + i)));
        json_array_append_new(fruns, json_real(w * 0.8));
    }
    char id[64], created[64];
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
    snprintf(created, sizeof(created), "2026-12-01T10:%02d:%02d.000000Z", i / 60, i % 60);
    json_t *fns = json_pack("[{s:s, s:f, s:f, s:f, s:f, s:O, s:O}, {s:s, s:f, s:f, s:f, s:f}]",
                            "key", KEY ":hot:3", "total_s", wall * 0.8, "self_s", wall * 0.8,
                            "total_pct", 80.0, "self_pct", 80.0, "total_s_runs", fruns,
                            "self_s_runs", fruns, "key", KEY ":<module>:1", "total_s", wall,
                            "self_s", 0.01, "total_pct", 100.0, "self_pct", 1.0);
    json_decref(fruns);
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:o, "
                  "s:{s:o, s:[{s:[s, s], s:i}]}, s:[[f, i]], s:[], s:n}",
                  "schema", "pyscope.report/1", "id", id, "created", created, "script", "key", KEY,
                  "sha256", "aa", "host", "fingerprint", host, "hostname", "h", "python", "build",
                  PY, "options", "mode", mode, "status", "outcome", outcome, "runs", runs,
                  "profile", "functions", fns, "stacks", "frames", KEY ":<module>:1", KEY ":hot:3",
                  "samples", 7, "memory_timeline", 0.1, 1000, "suggestions", "regression");
    return doc;
}

static char *report_path(int i)
{
    return xasprintf("%s/pyscope_report_2026-12-01T10-%02d-%02d.000000Z.json", dir, i / 60, i % 60);
}

static void write_doc(int i, const json_t *doc)
{
    char *p = report_path(i);
    assert_int_equal(json_dump_file(doc, p, JSON_INDENT(1)), 0);
    free(p);
}

/* As pyscope run saves a report: begin, write, commit. */
static void save_doc(int i, const json_t *doc)
{
    struct history_index_txn t;
    assert_int_equal(history_index_begin(dir, &t), 0);
    write_doc(i, doc);
    char *p = report_path(i);
    history_index_commit(&t, strrchr(p, '/') + 1, doc);
    free(p);
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", path, de->d_name);
        rm_rf(p);
        free(p);
    }
    closedir(d);
    rmdir(path);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_hix_XXXXXX");
    assert_non_null(mkdtemp(dir));
    log_init("test_history_index", LOG_LEVEL_ERROR);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(dir);
    return 0;
}

static bool index_exists(void)
{
    char *p = xasprintf("%s/" HISTORY_INDEX_DIR, dir);
    struct stat sb;
    bool ok = stat(p, &sb) == 0;
    free(p);
    return ok;
}

/* doc without what the index leaves out (profile stacks; with light, the heavy members). */
static json_t *expected(const json_t *doc, bool light)
{
    json_t *e = history_index_light(doc);
    if (!light) {
        json_t *p = history_index_profile(doc);
        if (p)
            json_object_set_new(e, "profile", p);
    }
    return e;
}

/* The index read of f equals the plain read, entry by entry (paths and documents). */
static void assert_same_read(const struct history_filter *f0, bool light)
{
    struct history_filter plain = *f0, ix = *f0;
    plain.flags = light ? HISTORY_LIGHT : 0;
    ix.flags = RW | (light ? HISTORY_LIGHT : 0);
    struct history a, b;
    assert_int_equal(history_load(dir, &plain, &a), 0);
    assert_int_equal(history_load(dir, &ix, &b), 0);
    assert_int_equal(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_string_equal(a.entries[i].path, b.entries[i].path);
        json_t *want = expected(a.entries[i].doc, light);
        if (!json_equal(want, b.entries[i].doc)) {
            char *x = json_dumps(want, JSON_SORT_KEYS),
                 *y = json_dumps(b.entries[i].doc, JSON_SORT_KEYS);
            fail_msg("entry %zu differs:\n%s\n%s", i, x, y);
        }
        json_decref(want);
    }
    history_release(&a);
    history_release(&b);
}

/* A history of two hosts, two modes, a failed run: reads and verdicts agree. */
static void test_same_as_plain_read(void **state)
{
    (void)state;
    for (int i = 0; i < 40; i++) {
        json_t *d = make_doc(i, i % 5 == 4 ? "bbbb" : "aaaa", i % 7 == 6 ? "trace" : "sample",
                             i == 20 ? "failed" : "ok", i < 25 ? 1.0 : 1.2);
        if (i % 2)
            save_doc(i, d);
        else
            write_doc(i, d); /* behind the index's back */
        json_decref(d);
    }
    struct history_filter f = {.script_key = KEY,
                               .host_fingerprint = "aaaa",
                               .python_build = PY,
                               .mode = "sample",
                               .ok_only = true,
                               .limit = 200};
    assert_same_read(&f, true);
    assert_true(index_exists());
    assert_same_read(&f, false);
    f.limit = 7;
    assert_same_read(&f, true);
    f.exclude_id = "00000000-0000-4000-8000-000000000039";
    assert_same_read(&f, false);
    struct history_filter any = {0};
    assert_same_read(&any, false);
    struct history_filter key_only = {.script_key = KEY, .limit = 12};
    assert_same_read(&key_only, true);
    struct history_filter none = {.script_key = "other.py"};
    assert_same_read(&none, true);

    /* the regression check: the same JSON either way */
    json_t *cand = make_doc(99, "aaaa", "sample", "ok", 1.3);
    struct regress_options o;
    regress_options_init(&o);
    json_t *plain = regress_check_local(cand, dir, &o);
    o.history_flags = RW;
    json_t *indexed = regress_check_local(cand, dir, &o);
    assert_string_equal(json_string_value(json_object_get(plain, "status")), "compared");
    assert_true(json_equal(plain, indexed));
    assert_true(json_array_size(json_object_get(indexed, "metrics")) > 3); /* hotspots too */
    json_decref(plain);
    json_decref(indexed);
    json_decref(cand);
}

/* Overwrite the file at p with garbage of the same size and put its mtime back: only an
 * index that trusts its row (and does not read the file) still sees the report. */
static void garble_keeping_mtime(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    char *junk = xmalloc((size_t)sb.st_size);
    memset(junk, 'x', (size_t)sb.st_size);
    FILE *fp = fopen(p, "r+");
    assert_int_equal(fwrite(junk, 1, (size_t)sb.st_size, fp), (size_t)sb.st_size);
    fclose(fp);
    struct timespec times[2] = {sb.st_atim, sb.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    free(junk);
}

/* Proof that a read is served by the index: a report overwritten with garbage of the
 * same size, its mtime put back, still reads as it was (only a stale index could). */
static void test_index_serves(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        json_t *d = make_doc(i, "aaaa", "sample", "ok", 1.0);
        save_doc(i, d);
        json_decref(d);
    }
    char *p = report_path(2);
    garble_keeping_mtime(p);
    struct history_filter f = {.script_key = KEY, .flags = HISTORY_INDEX_READ | HISTORY_LIGHT};
    struct history h;
    assert_int_equal(history_load(dir, &f, &h), 0);
    assert_int_equal(h.n, 4); /* read only, served by the index */
    assert_string_equal(json_string_value(json_object_get(h.entries[2].doc, "id")),
                        "00000000-0000-4000-8000-000000000002");
    history_release(&h);
    f.flags = 0;
    assert_int_equal(history_load(dir, &f, &h), 0);
    assert_int_equal(h.n, 3); /* the plain read skips the garbage */
    history_release(&h);
    free(p);
}

/* Every change to the folder made behind the index's back is seen. */
static void test_follows_the_folder(void **state)
{
    (void)state;
    for (int i = 0; i < 10; i++) {
        json_t *d = make_doc(i, "aaaa", "sample", "ok", 1.0);
        save_doc(i, d);
        json_decref(d);
    }
    struct history_filter f = {.script_key = KEY, .limit = 200};
    assert_same_read(&f, true);
    /* removed */
    char *p = report_path(3);
    unlink(p);
    free(p);
    assert_same_read(&f, true);
    /* copied in (an older name, as from a CI cache) */
    json_t *d = make_doc(3, "aaaa", "sample", "ok", 1.5);
    write_doc(3, d);
    json_decref(d);
    assert_same_read(&f, false);
    /* changed in place (same name; a read finds the row's size or mtime stale) */
    d = make_doc(5, "aaaa", "sample", "failed", 2.5);
    write_doc(5, d);
    json_decref(d);
    assert_same_read(&f, true);
    /* a file that is no report */
    p = report_path(30);
    FILE *fp = fopen(p, "w");
    fputs("{not json", fp);
    fclose(fp);
    free(p);
    assert_same_read(&f, true);
    /* a new report saved while the index was current, then one copied in */
    d = make_doc(31, "aaaa", "sample", "ok", 1.0);
    save_doc(31, d);
    json_decref(d);
    d = make_doc(32, "aaaa", "sample", "ok", 1.0);
    write_doc(32, d);
    json_decref(d);
    assert_same_read(&f, false);
}

/* The regression check reads the profiles of its baseline only, not of the whole series:
 * the older reports' profile summaries are removed and the reports themselves overwritten
 * with garbage of the same size (mtime put back, so the index still trusts their rows); a
 * check that read their profiles would warn "could not read report". */
static void test_check_reads_baseline_profiles_only(void **state)
{
    (void)state;
    enum { N = 30, OLD = 15 };
    for (int i = 0; i < N; i++) {
        json_t *d = make_doc(i, "aaaa", "sample", "ok", 1.0);
        save_doc(i, d);
        json_decref(d);
    }
    for (int i = 0; i < OLD; i++) {
        char *p = report_path(i);
        char *prof = xasprintf("%s/" HISTORY_INDEX_DIR "/profiles/%s", dir, strrchr(p, '/') + 1);
        assert_int_equal(unlink(prof), 0);
        garble_keeping_mtime(p);
        free(prof);
        free(p);
    }
    json_t *cand = make_doc(99, "aaaa", "sample", "ok", 1.3);
    struct regress_options o;
    regress_options_init(&o);
    o.history_flags = RW;
    /* warnings go to a file (outside the folder) for the check's duration */
    char errpath[] = "/tmp/test_hix_err_XXXXXX";
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = mkstemp(errpath);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    log_init("test_history_index", LOG_LEVEL_WARN);
    json_t *r = regress_check_local(cand, dir, &o);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    log_init("test_history_index", LOG_LEVEL_ERROR);
    char text[4096] = "";
    FILE *fp = fopen(errpath, "r");
    assert_non_null(fp);
    size_t got = fread(text, 1, sizeof(text) - 1, fp);
    text[got] = '\0';
    fclose(fp);
    unlink(errpath);
    if (strstr(text, "could not read report"))
        print_error("profiles outside the baseline were read:\n%s\n", text);
    assert_null(strstr(text, "could not read report"));
    assert_string_equal(json_string_value(json_object_get(r, "status")), "compared");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "baseline"), "n_runs")),
                     10);
    /* hotspots compared on the baseline's profiles */
    bool hotspot = false;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(r, "metrics"), i, m) hotspot =
        hotspot || json_object_get(m, "function") != NULL;
    assert_true(hotspot);
    json_decref(r);
    json_decref(cand);
}

/* Corrupt or missing parts are rebuilt; without WRITE nothing is written. */
static void test_repairs(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++) {
        json_t *d = make_doc(i, "aaaa", "sample", "ok", 1.0);
        write_doc(i, d);
        json_decref(d);
    }
    struct history_filter f = {.script_key = KEY, .flags = HISTORY_INDEX_READ};
    struct history h;
    assert_int_equal(history_load(dir, &f, &h), 0); /* read only: a plain read */
    assert_int_equal(h.n, 6);
    history_release(&h);
    assert_false(index_exists());
    f.flags = 0;
    assert_same_read(&f, false); /* builds it */
    assert_true(index_exists());

    /* a damaged series file */
    char *sdir = xasprintf("%s/" HISTORY_INDEX_DIR "/series", dir);
    DIR *d = opendir(sdir);
    struct dirent *de;
    char *series = NULL;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            series = xasprintf("%s/%s", sdir, de->d_name);
    closedir(d);
    assert_non_null(series);
    FILE *fp = fopen(series, "a");
    fputs("{\"file\": truncated\n", fp);
    fclose(fp);
    assert_same_read(&f, true);
    /* a damaged state, then a missing index */
    char *state_path = xasprintf("%s/" HISTORY_INDEX_DIR "/state.json", dir);
    fp = fopen(state_path, "w");
    fputs("garbage", fp);
    fclose(fp);
    assert_same_read(&f, false);
    char *ix = xasprintf("%s/" HISTORY_INDEX_DIR, dir);
    rm_rf(ix);
    assert_same_read(&f, true);
    assert_true(index_exists());
    /* a profile summary gone: hydrate reads the report */
    char *prof = xasprintf("%s/" HISTORY_INDEX_DIR "/profiles/%s", dir,
                           "pyscope_report_2026-12-01T10-00-02.000000Z.json");
    assert_int_equal(unlink(prof), 0);
    assert_same_read(&f, false);
    free(prof);
    free(ix);
    free(state_path);
    free(series);
    free(sdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_as_plain_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_serves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follows_the_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_reads_baseline_profiles_only, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
