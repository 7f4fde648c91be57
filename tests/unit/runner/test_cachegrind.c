/*
 * test_cachegrind.c - the cachegrind output parser, valgrind lookup, hash seed and the
 * collection of a run's files (the real valgrind runs in test_instructions.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachegrind.h"
#include "errors.h"

/* A file as valgrind 3.19 writes it with --cache-sim=no (shortened). */
#define GOOD_HEAD                                                                                  \
    "desc: I1 cache:         32768 B, 64 B, 8-way associative\n"                                   \
    "cmd: /usr/bin/python3.11 t.py\n"                                                              \
    "events: Ir\n"                                                                                 \
    "fl=./csu/../csu/libc-start.c\n"                                                               \
    "fn=__libc_start_main@@GLIBC_2.34\n"                                                           \
    "128 2\n"                                                                                      \
    "134 3\n"

static int parse(const char *text, size_t len, uint64_t *ir, char *err, size_t errlen)
{
    FILE *f = fmemopen((void *)text, len, "r");
    assert_non_null(f);
    int rc = cachegrind_parse(f, ir, err, errlen);
    fclose(f);
    return rc;
}

static int parse_str(const char *text, uint64_t *ir, char *err)
{
    return parse(text, strlen(text), ir, err, 256);
}

static void test_parse_good(void **state)
{
    (void)state;
    uint64_t ir = 0;
    char err[256] = "";
    assert_int_equal(parse_str(GOOD_HEAD "summary: 298667570\n", &ir, err), 0);
    assert_int_equal(ir, 298667570);
    /* with the cache simulation on: nine events, Ir not necessarily first */
    assert_int_equal(parse_str("events: Dr Ir I1mr\n1 2 3 4\nsummary: 10  20\t30\n", &ir, err), 0);
    assert_int_equal(ir, 20);
    /* the largest count a JSON integer holds */
    assert_int_equal(parse_str("events: Ir\nsummary: 9223372036854775807\n", &ir, err), 0);
    assert_true(ir == 9223372036854775807ULL);
    assert_int_equal(parse_str("events: Ir\nsummary: 0\n", &ir, err), 0);
    assert_int_equal(ir, 0);
}

static void test_parse_truncated(void **state)
{
    (void)state;
    uint64_t ir = 7;
    char err[256];
    /* cut before the summary, inside it, and right after its number */
    assert_int_equal(parse_str(GOOD_HEAD, &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "no \"summary:\" line (truncated file)"));
    assert_int_equal(parse_str(GOOD_HEAD "summary: 2986", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "cut short"));
    assert_int_equal(parse_str(GOOD_HEAD "summ", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "no \"events:\" line"));
    assert_int_equal(ir, 7); /* untouched on failure */
}

static void test_parse_garbage(void **state)
{
    (void)state;
    uint64_t ir;
    char err[256];
    assert_int_equal(parse_str("hello world\n{\"json\": 1}\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary: 12x\n", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "\"12x\", not a whole number"));
    assert_int_equal(parse_str("events: Ir\nsummary: -5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary: +5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary: 1.5e8\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary:\n", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "one number per event"));
    assert_int_equal(parse_str("events: Ir Dr\nsummary: 5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary: 5 6\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Dr\nsummary: 5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "no Ir"));
    assert_int_equal(parse_str("events:\nsummary: 5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("summary: 5\nevents: Ir\n", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "before the \"events:\" line"));
    assert_int_equal(parse_str("events: Ir\nevents: Ir\nsummary: 5\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(parse_str("events: Ir\nsummary: 5\nsummary: 6\n", &ir, err), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "more than one \"summary:\""));
    ir = 7; /* a first, valid summary must not leak out of a refused file */
    assert_int_equal(parse_str("events: Ir\nsummary: 5\nsummary: x\n", &ir, err), -PYSCOPE_EPARSE);
    assert_int_equal(ir, 7);
    static const char nul[] = "events: Ir\nsum\0mary: 5\nsummary: 5\n";
    assert_int_equal(parse(nul, sizeof(nul) - 1, &ir, err, sizeof(err)), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "NUL byte"));
    /* a line over the cap */
    size_t big = CACHEGRIND_MAX_LINE + 16;
    char *text = malloc(big + 32);
    assert_non_null(text);
    memcpy(text, "events: Ir\nfn=", 14);
    memset(text + 14, 'x', big);
    memcpy(text + 14 + big, "\nsummary: 5\n", 13);
    assert_int_equal(parse(text, strlen(text), &ir, err, sizeof(err)), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "longer than"));
    free(text);
    /* no room for the reason: still an error, no overflow */
    assert_int_equal(parse("x\n", 2, &ir, NULL, 0), -PYSCOPE_EPARSE);
}

static void test_parse_huge(void **state)
{
    (void)state;
    uint64_t ir = 0;
    char err[256];
    assert_int_equal(parse_str("events: Ir\nsummary: 9223372036854775808\n", &ir, err),
                     -PYSCOPE_ERANGE);
    assert_non_null(strstr(err, "\"9223372036854775808\" is too large"));
    assert_int_equal(parse_str("events: Ir\nsummary: 18446744073709551616\n", &ir, err),
                     -PYSCOPE_ERANGE);
    assert_int_equal(parse_str("events: Ir\nsummary: 123456789012345678901234567890\n", &ir, err),
                     -PYSCOPE_ERANGE);
    assert_int_equal(ir, 0);
}

static char *make_dir(void)
{
    char *d = strdup("/tmp/test_cachegrind_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_find_valgrind(void **state)
{
    (void)state;
    char *a = make_dir(), *b = make_dir();
    write_file(a, "valgrind", "#!/bin/sh\n", 0644); /* not executable */
    write_file(b, "valgrind", "#!/bin/sh\n", 0755);
    char path[1024], want[600];
    snprintf(path, sizeof(path), "::%s:/nonexistent:%s", a, b);
    snprintf(want, sizeof(want), "%s/valgrind", b);
    char *found = cachegrind_find_valgrind(path);
    assert_non_null(found);
    assert_string_equal(found, want);
    free(found);
    snprintf(path, sizeof(path), "%s:/nonexistent", a);
    assert_null(cachegrind_find_valgrind(path));
    assert_null(cachegrind_find_valgrind(""));
    assert_null(cachegrind_find_valgrind(NULL));
    snprintf(path, sizeof(path), "%s/valgrind", a);
    unlink(path);
    snprintf(path, sizeof(path), "%s/valgrind", b);
    unlink(path);
    rmdir(a);
    rmdir(b);
    free(a);
    free(b);
}

static void test_hash_seed(void **state)
{
    (void)state;
    bool from_env;
    unsetenv("PYTHONHASHSEED");
    assert_string_equal(cachegrind_hash_seed(&from_env), "0");
    assert_false(from_env);
    setenv("PYTHONHASHSEED", "", 1);
    assert_string_equal(cachegrind_hash_seed(&from_env), "0");
    assert_false(from_env);
    setenv("PYTHONHASHSEED", "123", 1);
    assert_string_equal(cachegrind_hash_seed(&from_env), "123");
    assert_true(from_env);
    unsetenv("PYTHONHASHSEED");
}

static void test_collect(void **state)
{
    (void)state;
    char *d = make_dir();
    struct cachegrind_run r = {.out_dir = d};
    write_file(d, "cg.4242", GOOD_HEAD "summary: 1234\n", 0644);
    write_file(d, "cg.4243", GOOD_HEAD "summary: 99\n", 0644); /* a forked child: not read */
    write_file(d, "valgrind.log", "==4242== warning\n", 0644);
    uint64_t ir = 0;
    char err[512] = "";
    assert_int_equal(cachegrind_collect(&r, 4242, &ir, err, sizeof(err)), 0);
    assert_int_equal(ir, 1234);
    assert_int_equal(rmdir(d), 0); /* every file deleted */

    assert_non_null(mkdtemp(memcpy(d, "/tmp/test_cachegrind_XXXXXX", 28)));
    write_file(d, "cg.4242", GOOD_HEAD, 0644);
    assert_int_equal(cachegrind_collect(&r, 4242, &ir, err, sizeof(err)), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "could not read cachegrind's output"));
    assert_non_null(strstr(err, "truncated"));
    assert_int_equal(cachegrind_collect(&r, 4242, &ir, err, sizeof(err)), -ENOENT);
    assert_int_equal(rmdir(d), 0);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),    cmocka_unit_test(test_parse_truncated),
        cmocka_unit_test(test_parse_garbage), cmocka_unit_test(test_parse_huge),
        cmocka_unit_test(test_find_valgrind), cmocka_unit_test(test_hash_seed),
        cmocka_unit_test(test_collect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
