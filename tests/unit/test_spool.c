/* test_spool.c - durable one-file-per-result spool: put, list, load, remove, corruption. */
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

#include "errors.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define ID1 "00000000-0000-4000-8000-000000000001"
#define ID2 "00000000-0000-4000-8000-000000000002"
#define ID3 "ffffffff-0000-4000-8000-000000000003"

struct fixture {
    char *dir;   /* temporary folder */
    char *spdir; /* the spool inside it (not created yet) */
};

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char tmpl[] = "/tmp/pyscope_spool_XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    fx->dir = xstrdup(tmpl);
    fx->spdir = xasprintf("%s/a/spool", tmpl);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", fx->dir);
    free(cmd);
    free(fx->dir);
    free(fx->spdir);
    free(fx);
    return 0;
}

static char *entry_path(struct fixture *fx, const char *id)
{
    return xasprintf("%s/%s.result", fx->spdir, id);
}

static void test_put_list_load_remove(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    assert_string_equal(spool_dir(sp), fx->spdir);
    assert_int_equal(spool_count(sp), 0);

    assert_int_equal(spool_put(sp, ID2, "second", 6), 0);
    assert_int_equal(spool_put(sp, ID1, "first!", 6), 0);
    assert_int_equal(spool_put(sp, ID3, "", 0), 0);      /* empty payloads are fine */
    assert_int_equal(spool_put(sp, ID1, "first", 5), 0); /* replaces */

    char **ids;
    size_t n;
    assert_int_equal(spool_list(sp, &ids, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], ID1);
    assert_string_equal(ids[1], ID2);
    assert_string_equal(ids[2], ID3);
    spool_free_list(ids, n);

    void *data;
    size_t len;
    assert_int_equal(spool_load(sp, ID1, &data, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "first", 5);
    free(data);
    assert_int_equal(spool_load(sp, ID3, &data, &len), 0);
    assert_int_equal(len, 0);
    free(data);

    assert_int_equal(spool_remove(sp, ID1), 0);
    assert_int_equal(spool_remove(sp, ID1), -ENOENT);
    assert_int_equal(spool_load(sp, ID1, &data, &len), -ENOENT);
    assert_null(data);
    assert_int_equal(spool_count(sp), 2);
    spool_destroy(&sp);
    assert_null(sp);
    spool_destroy(&sp); /* NULL-safe */

    /* Entries survive a reopen: that is the point. */
    sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    assert_int_equal(spool_count(sp), 2);
    spool_destroy(&sp);
}

static void test_bad_ids_and_sizes(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    assert_int_equal(spool_put(sp, "../../etc/passwd", "x", 1), -PYSCOPE_EUSAGE);
    assert_int_equal(spool_put(sp, "00000000-0000-4000-8000-00000000000G", "x", 1),
                     -PYSCOPE_EUSAGE);
    assert_int_equal(spool_put(sp, "short", "x", 1), -PYSCOPE_EUSAGE);
    assert_int_equal(spool_put(sp, ID1, "x", SPOOL_MAX_PAYLOAD + 1), -PYSCOPE_ETOOBIG);
    void *data;
    size_t len;
    assert_int_equal(spool_load(sp, "../x", &data, &len), -PYSCOPE_EUSAGE);
    assert_int_equal(spool_remove(sp, "/etc/passwd"), -PYSCOPE_EUSAGE);
    assert_false(spool_id_valid(NULL));
    assert_true(spool_id_valid(ID1));

    /* Stray files are not entries. */
    char *stray = xasprintf("%s/notes.txt", fx->spdir);
    FILE *f = fopen(stray, "w");
    assert_non_null(f);
    fputs("hello", f);
    fclose(f);
    free(stray);
    assert_int_equal(spool_count(sp), 0);
    spool_destroy(&sp);

    /* A spool folder that cannot be created is reported. */
    sp = spool_open("/proc/version/spool", err, sizeof(err));
    assert_null(sp);
    assert_non_null(strstr(err, "could not create spool folder"));
    sp = spool_open("", err, sizeof(err));
    assert_null(sp);
}

/* Overwrite an entry's file with raw bytes. */
static void clobber(struct fixture *fx, const char *id, const void *bytes, size_t n)
{
    char *p = entry_path(fx, id);
    int fd = open(p, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    free(p);
}

static void test_corrupt_files_moved_aside(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    const char payload[] = "a result that is long enough to tear in the middle";
    assert_int_equal(spool_put(sp, ID1, payload, sizeof(payload)), 0);
    assert_int_equal(spool_put(sp, ID2, payload, sizeof(payload)), 0);
    assert_int_equal(spool_put(sp, ID3, payload, sizeof(payload)), 0);

    /* Torn: only the first half of the file made it. */
    char *p = entry_path(fx, ID1);
    assert_int_equal(truncate(p, 30), 0);
    free(p);
    /* Flipped payload byte: the checksum catches it. */
    char *p2 = entry_path(fx, ID2);
    FILE *f = fopen(p2, "r+b");
    assert_non_null(f);
    fseek(f, -3, SEEK_END);
    fputc('#', f);
    fclose(f);
    free(p2);
    /* Garbage instead of a header. */
    clobber(fx, ID3, "not a spool file at all, really not one, no no no!", 50);

    void *data;
    size_t len;
    assert_int_equal(spool_load(sp, ID1, &data, &len), -PYSCOPE_EPARSE);
    assert_null(data);
    assert_int_equal(spool_load(sp, ID2, &data, &len), -PYSCOPE_EPARSE);
    assert_int_equal(spool_load(sp, ID3, &data, &len), -PYSCOPE_EPARSE);
    /* Gone from the entries, kept in corrupt/ for a person to look at. */
    assert_int_equal(spool_count(sp), 0);
    char *cdir = xasprintf("%s/corrupt", fx->spdir);
    struct stat st;
    assert_int_equal(stat(cdir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    char *cmd = xasprintf("test $(ls '%s' | wc -l) -eq 3", cdir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(cdir);
    spool_destroy(&sp);
}

static void test_leftover_tmp_removed(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    spool_destroy(&sp);
    /* A crash between create and rename leaves a temporary file. */
    char *tmp = xasprintf("%s/.tmp-%s", fx->spdir, ID1);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("PYSPOOL1 half", f);
    fclose(f);
    sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    struct stat st;
    assert_int_equal(stat(tmp, &st), -1);
    assert_int_equal(spool_count(sp), 0);
    free(tmp);
    spool_destroy(&sp);
    /* The same for a temporary file of lib/atomicfile, which spool_put writes through. */
    tmp = xasprintf("%s/%s.result.tmp.4242.0", fx->spdir, ID1);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("PYSPOOL1 half", f);
    fclose(f);
    sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    assert_int_equal(stat(tmp, &st), -1);
    assert_int_equal(spool_count(sp), 0);
    free(tmp);
    /* and a put leaves one private, whole entry and nothing else */
    assert_int_equal(spool_put(sp, ID1, "abc", 3), 0);
    char *entry = xasprintf("%s/%s.result", fx->spdir, ID1);
    assert_int_equal(stat(entry, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(entry);
    DIR *d = opendir(fx->spdir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d));)
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 1);
    spool_destroy(&sp);
}

/* A spool folder others can write to (or read) is refused, with the fix. */
static void test_unsafe_folder_refused(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    spool_destroy(&sp);
    assert_int_equal(chmod(fx->spdir, 0777), 0);
    sp = spool_open(fx->spdir, err, sizeof(err));
    assert_null(sp);
    assert_non_null(strstr(err, "open to group or others"));
    assert_non_null(strstr(err, "chmod 700"));
    assert_int_equal(chmod(fx->spdir, 0750), 0);
    assert_null(spool_open(fx->spdir, err, sizeof(err)));
    assert_int_equal(chmod(fx->spdir, 0700), 0);
    sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    spool_destroy(&sp);
}

/* A result file another user planted is set aside, never loaded (needs root to chown). */
static void test_planted_file_set_aside(void **state)
{
    struct fixture *fx = *state;
    if (geteuid() != 0) {
        skip();
        return;
    }
    char err[512];
    struct spool *sp = spool_open(fx->spdir, err, sizeof(err));
    assert_non_null(sp);
    const char payload[] = "a result this agent never measured";
    assert_int_equal(spool_put(sp, ID1, payload, sizeof(payload)), 0);
    char *p = entry_path(fx, ID1);
    assert_int_equal(chown(p, 65534, 65534), 0);
    free(p);
    void *data;
    size_t len;
    assert_int_equal(spool_load(sp, ID1, &data, &len), -PYSCOPE_EPARSE);
    assert_null(data);
    assert_int_equal(spool_count(sp), 0);
    spool_destroy(&sp);
}

int main(void)
{
    log_init("test_spool", LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_list_load_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_ids_and_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_files_moved_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_tmp_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_folder_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_planted_file_set_aside, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
