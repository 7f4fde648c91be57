/*
 * test_cp_memo.c - lib/cp_memo: a search through the memo gives what stats_changepoints
 * gives, an answer the memo kept is used again, and an entry that no search can give
 * (change points out of order, or closer than the smallest segment) is searched again
 * rather than used, and so is a memo of another search version (STATS_CP_SEARCH_VERSION).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_memo.h"
#include "history.h"
#include "stats.h"
#include "xmalloc.h"

#define N 30

/* A series with a step at 15: 1.0 then 2.0, with a little deterministic noise. */
static void step_series(double *x)
{
    for (size_t i = 0; i < N; i++)
        x[i] = (i < 15 ? 1.0 : 2.0) + 0.01 * (double)(i % 3);
}

/* Set every entry of the memo file of dir to the change points text cps (JSON), and its
 * search version to version (-1: leave it out). */
static void forge_version(const char *dir, const char *cps, int version)
{
    char *path = xasprintf("%s/" HISTORY_INDEX_DIR "/" CP_MEMO_FILE, dir);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    json_t *entries = json_object_get(doc, "entries");
    assert_true(json_object_size(entries) > 0);
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(entries, tmp, key, v)
    {
        json_object_set_new(entries, key, json_loads(cps, 0, NULL));
    }
    if (version < 0)
        json_object_del(doc, "search");
    else
        json_object_set_new(doc, "search", json_integer(version));
    assert_int_equal(json_dump_file(doc, path, 0), 0);
    json_decref(doc);
    free(path);
}

static void forge(const char *dir, const char *cps)
{
    forge_version(dir, cps, STATS_CP_SEARCH_VERSION);
}

/* The change points of x through the memo of dir, into cps; their number. */
static size_t search(const char *dir, const double *x, size_t *cps)
{
    struct stats_cp_options opt;
    stats_cp_options_init(&opt);
    struct cp_memo *m = cp_memo_open(dir);
    size_t n_cps = 0;
    assert_int_equal(cp_memo_changepoints(m, x, N, &opt, cps, 16, &n_cps), 0);
    cp_memo_close(m);
    return n_cps;
}

static void test_memo(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_cp_memo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *ix = xasprintf("%s/" HISTORY_INDEX_DIR, dir);
    assert_int_equal(mkdir(ix, 0755), 0);
    double x[N];
    step_series(x);
    struct stats_cp_options opt;
    stats_cp_options_init(&opt);
    size_t want[16], n_want = 0, cps[16];
    assert_int_equal(stats_changepoints(x, N, &opt, want, 16, &n_want), 0);
    assert_int_equal(n_want, 1);
    assert_int_equal(want[0], 15);

    /* searched, then kept: the same answer */
    assert_int_equal(search(dir, x, cps), n_want);
    assert_int_equal(cps[0], want[0]);
    /* the memo answers (a forged answer that a search could give shows it) */
    forge(dir, "[12]");
    assert_int_equal(search(dir, x, cps), 1);
    assert_int_equal(cps[0], 12);

    /* answers no search gives: searched again */
    static const char *const impossible[] = {
        "[20, 10]", /* out of order: the last is not the latest level's start */
        "[12, 12]", /* the same point twice */
        "[1]",      /* a first segment shorter than min_size */
        "[28]",     /* a last segment shorter than min_size */
        "[10, 11]", /* a segment between them shorter than min_size */
    };
    for (size_t i = 0; i < sizeof(impossible) / sizeof(impossible[0]); i++) {
        forge(dir, impossible[i]);
        size_t n = search(dir, x, cps);
        if (n != n_want || cps[0] != want[0])
            fail_msg("memo entry %s used: %zu change points, the first %zu", impossible[i], n,
                     n ? cps[0] : 0);
    }

    /* another search version's answers, or a memo from before versions: searched again */
    static const int versions[] = {STATS_CP_SEARCH_VERSION + 1, STATS_CP_SEARCH_VERSION - 1, -1};
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        forge_version(dir, "[12]", versions[i]);
        size_t n = search(dir, x, cps);
        if (n != n_want || cps[0] != want[0])
            fail_msg("a memo of search version %d used: %zu change points, the first %zu",
                     versions[i], n, n ? cps[0] : 0);
        /* and the memo is rewritten as this version's */
        forge(dir, "[12]");
        assert_int_equal(search(dir, x, cps), 1);
        assert_int_equal(cps[0], 12);
    }

    char *path = xasprintf("%s/" CP_MEMO_FILE, ix);
    unlink(path);
    free(path);
    rmdir(ix);
    rmdir(dir);
    free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
