/*
 * test_atomicfile.c - lib/atomicfile: a file is replaced whole or not at all, the
 * temporary file never stays behind, a stale temporary file of the same name is stepped
 * over (exclusive create), and a failed write leaves the old file as it was. The CLI's
 * page writer over it (cli/util.h cli_write_html_atomic) keeps the old page when the
 * renderer fails halfway.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "util.h"
#include "xmalloc.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[256];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return xstrdup(buf);
}

/* How many entries the folder holds (besides . and ..). */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_replace(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_atomicfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/out.json", dir);
    assert_int_equal(atomic_write(path, "one\n", 4), 0);
    char *got = slurp(path);
    assert_string_equal(got, "one\n");
    free(got);
    assert_int_equal(atomic_write(path, "two", 3), 0);
    got = slurp(path);
    assert_string_equal(got, "two");
    free(got);
    assert_int_equal(entries(dir), 1); /* no temporary file left */

    /* a stale temporary file of this process' first name is stepped over, not reused */
    char *stale = xasprintf("%s.tmp.%ld.0", path, (long)getpid());
    FILE *f = fopen(stale, "w");
    assert_non_null(f);
    fputs("stale", f);
    fclose(f);
    assert_int_equal(atomic_write(path, "three", 5), 0);
    got = slurp(path);
    assert_string_equal(got, "three");
    free(got);
    got = slurp(stale);
    assert_string_equal(got, "stale");
    free(got);
    unlink(stale);
    free(stale);

    /* a failed write (the caller's error) leaves the old file and no temporary one */
    struct atomicfile af;
    assert_int_equal(atomic_open(&af, path), 0);
    fputs("half", af.f);
    assert_int_equal(atomic_commit(&af, path, -EIO), -EIO);
    assert_null(af.f);
    got = slurp(path);
    assert_string_equal(got, "three");
    free(got);
    assert_int_equal(entries(dir), 1);

    /* a folder that does not exist: an error, nothing created */
    char *missing = xasprintf("%s/no/such/out.json", dir);
    assert_int_equal(atomic_write(missing, "x", 1), -ENOENT);
    free(missing);

    unlink(path);
    free(path);
    rmdir(dir);
}

/* atomic_open_mode's mode reaches the file; with sync_dir the folder is opened and
 * fsynced after the rename (a folder we may write but not read makes that fail, which
 * shows it is done; without sync_dir the same commit succeeds). */
static void test_mode_and_sync_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_atomicfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/entry.result", dir);
    struct atomicfile af;
    assert_int_equal(atomic_open_mode(&af, path, 0600), 0);
    assert_false(af.sync_dir);
    af.sync_dir = true;
    fputs("durable", af.f);
    assert_int_equal(atomic_commit(&af, path, 0), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *got = slurp(path);
    assert_string_equal(got, "durable");
    free(got);
    assert_int_equal(entries(dir), 1);

    if (geteuid() != 0) { /* root reads any folder */
        assert_int_equal(chmod(dir, 0300), 0);
        assert_int_equal(atomic_open(&af, path), 0);
        fputs("x", af.f);
        assert_int_equal(atomic_commit(&af, path, 0), 0);
        assert_int_equal(atomic_open(&af, path), 0);
        af.sync_dir = true;
        fputs("y", af.f);
        assert_int_equal(atomic_commit(&af, path, 0), -EACCES);
        assert_int_equal(chmod(dir, 0700), 0);
        got = slurp(path);
        assert_string_equal(got, "y"); /* renamed, whole; only its durability is unknown */
        free(got);
    }
    unlink(path);
    free(path);
    rmdir(dir);
}

/* The temporary names atomic_open makes are recognised, and nothing else. */
static void test_tmp_name(void **state)
{
    (void)state;
    assert_true(atomic_is_tmp_name("x.result.tmp.123.0"));
    assert_true(atomic_is_tmp_name("a.tmp.b.tmp.1.99"));
    assert_false(atomic_is_tmp_name("x.result"));
    assert_false(atomic_is_tmp_name(".tmp.1.2")); /* no target */
    assert_false(atomic_is_tmp_name("x.tmp.1"));
    assert_false(atomic_is_tmp_name("x.tmp.1.2.json"));
    assert_false(atomic_is_tmp_name("x.tmp..2"));
    assert_false(atomic_is_tmp_name("x.tmp.1."));
    assert_false(atomic_is_tmp_name(".tmp-0123"));
}

/* Renderers for cli_write_html_atomic(): one writes a page, one fails halfway. */
static int page_ok(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    return fprintf(out, "<p>%s</p>", json_string_value(doc)) < 0 ? -EIO : 0;
}

static int page_fails(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    (void)doc;
    fputs("<p>half", out);
    snprintf(err, errlen, "the document has no runs");
    return -EINVAL;
}

static void test_html_page(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_atomicfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/page.html", dir);
    json_t *doc = json_string("one");
    assert_int_equal(cli_write_html_atomic(path, page_ok, doc, "HTML file"), 0);
    char *got = slurp(path);
    assert_string_equal(got, "<p>one</p>");
    free(got);
    assert_int_equal(cli_write_html_atomic(path, page_fails, doc, "HTML file"), -1);
    got = slurp(path);
    assert_string_equal(got, "<p>one</p>"); /* the old page, whole */
    free(got);
    assert_int_equal(entries(dir), 1);
    char *missing = xasprintf("%s/no/such/page.html", dir);
    assert_int_equal(cli_write_html_atomic(missing, page_ok, doc, "HTML file"), -1);
    free(missing);
    json_decref(doc);
    unlink(path);
    free(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_mode_and_sync_dir),
        cmocka_unit_test(test_tmp_name),
        cmocka_unit_test(test_html_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
