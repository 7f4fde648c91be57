/* test_config.c - pyscope.ini: thresholds, glob sections, errors with line numbers. */
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

#include "config.h"
#include "errors.h"
#include "xmalloc.h"

/* Parse text expecting an error; return its message (static buffer). */
static const char *parse_err(const char *text)
{
    static char err[512];
    struct config c;
    err[0] = '\0';
    int rc = config_parse_string(text, "pyscope.ini", &c, err, sizeof(err));
    assert_int_equal(rc, -PYSCOPE_EPARSE);
    config_release(&c);
    return err;
}

static void test_thresholds(void **state)
{
    (void)state;
    const char *text = "; thresholds\n"
                       "[regression]\n"
                       "threshold = 5%\n"
                       "\n"
                       "[script \"examples/slow_script.py\"]\n"
                       "threshold = 10%\n"
                       "# later sections win\n"
                       "[script \"bench/*.py\"]\n"
                       "threshold = 2.5\n"
                       "[script \"bench/noisy_*.py\"]\n"
                       "threshold=20 %\n";
    struct config c;
    char err[256] = "";
    assert_int_equal(config_parse_string(text, "pyscope.ini", &c, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.n_scripts, 3);
    int line;
    assert_float_equal(config_threshold_pct(&c, "examples/slow_script.py", &line), 10, 1e-12);
    assert_int_equal(line, 6);
    assert_float_equal(config_threshold_pct(&c, "examples/fib.py", &line), 5, 1e-12);
    assert_int_equal(line, 0);
    assert_float_equal(config_threshold_pct(&c, "bench/a.py", NULL), 2.5, 1e-12);
    assert_float_equal(config_threshold_pct(&c, "bench/noisy_io.py", &line), 20, 1e-12);
    assert_int_equal(line, 11);
    /* '*' does not cross '/' */
    assert_float_equal(config_threshold_pct(&c, "bench/sub/a.py", NULL), 5, 1e-12);
    assert_float_equal(config_threshold_pct(&c, NULL, NULL), 5, 1e-12);
    config_release(&c);
}

static void test_empty_and_defaults(void **state)
{
    (void)state;
    struct config c;
    assert_int_equal(config_parse_string("", "x.ini", &c, NULL, 0), 0);
    assert_true(config_threshold_pct(&c, "a.py", NULL) < 0);
    config_release(&c);
    /* a script section without [regression] */
    assert_int_equal(
        config_parse_string("[script \"a.py\"]\nthreshold = 7\n", "x.ini", &c, NULL, 0), 0);
    assert_float_equal(config_threshold_pct(&c, "a.py", NULL), 7, 1e-12);
    assert_true(config_threshold_pct(&c, "b.py", NULL) < 0);
    config_release(&c);
    assert_true(config_threshold_pct(NULL, "b.py", NULL) < 0);
    config_release(NULL);
}

static void test_errors_have_lines(void **state)
{
    (void)state;
    assert_string_equal(parse_err("[regression]\nthreshold = 5%\n\nthreshhold = 3\n"),
                        "pyscope.ini:4: unknown key \"threshhold\" in [regression] (expected "
                        "threshold)");
    assert_string_equal(parse_err("threshold = 5\n"),
                        "pyscope.ini:1: \"threshold\" outside any section (put it under "
                        "[regression])");
    assert_string_equal(parse_err("[regresion]\nthreshold = 5\n"),
                        "pyscope.ini:2: unknown section [regresion] (expected [regression] or "
                        "[script \"PATTERN\"])");
    assert_string_equal(parse_err("[script examples/a.py]\nthreshold = 5\n"),
                        "pyscope.ini:2: unknown section [script examples/a.py] (expected "
                        "[regression] or [script \"PATTERN\"])");
    assert_non_null(strstr(parse_err("[regression]\n\n\nthreshold = five\n"),
                           "pyscope.ini:4: invalid threshold \"five\""));
    const char *bad[] = {"0", "-5%", "nan", "inf", "0x10", "5%%", "1001", "", "5 percent"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = xasprintf("[regression]\nthreshold = %s\n", bad[i]);
        assert_non_null(strstr(parse_err(text), "pyscope.ini:2: invalid threshold"));
        free(text);
    }
    assert_string_equal(parse_err("[regression]\nthreshold = 5\n[broken\n"),
                        "pyscope.ini:3: syntax error (expected [section] or name = value)");
    assert_string_equal(parse_err("[regression]\njust words\nthreshold = x\n"),
                        "pyscope.ini:2: syntax error (expected [section] or name = value)");
    /* a key set twice names both lines (the first was dropped without a word), also
     * across two [regression] sections and within a [script] section */
    assert_string_equal(parse_err("[regression]\nthreshold = 5%\n\nthreshold = 3%\n"),
                        "pyscope.ini:4: \"threshold\" set twice in [regression] (first on line 2)");
    assert_string_equal(parse_err("[regression]\nthreshold = 5\n[script \"a.py\"]\nthreshold = 9\n"
                                  "[regression]\nthreshold = 6\n"),
                        "pyscope.ini:6: \"threshold\" set twice in [regression] (first on line 2)");
    assert_string_equal(parse_err("[script \"a/*.py\"]\nthreshold = 5\nthreshold = 6\n"),
                        "pyscope.ini:3: \"threshold\" set twice in [script \"a/*.py\"] (first on "
                        "line 2)");
    /* the first problem is reported, whichever kind */
    assert_string_equal(parse_err("[regression]\nfoo = 1\n[broken\n"),
                        "pyscope.ini:2: unknown key \"foo\" in [regression] (expected threshold)");
    char longline[600];
    memset(longline, 'a', sizeof(longline));
    memcpy(longline, "[script \"", 9);
    memcpy(longline + sizeof(longline) - 4, "\"]\n", 4);
    char *text = xasprintf("[regression]\nthreshold = 5\n%s", longline);
    assert_non_null(strstr(parse_err(text), "pyscope.ini:3: line too long"));
    free(text);
}

static void test_files(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/pyscope_config_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char *git = xasprintf("%s/.git", dir);
    char *sub = xasprintf("%s/examples", dir);
    char *script = xasprintf("%s/examples/a.py", dir);
    char *ini = xasprintf("%s/pyscope.ini", dir);
    assert_int_equal(mkdir(git, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fclose(f);
    assert_null(config_find(script)); /* no file yet */
    f = fopen(ini, "w");
    assert_non_null(f);
    fputs("[script \"examples/*.py\"]\nthreshold = 12%\n", f);
    fclose(f);
    char *found = config_find(script);
    assert_non_null(found);
    assert_string_equal(found, ini);
    struct config c;
    char err[256];
    assert_int_equal(config_load_file(found, &c, err, sizeof(err)), 0);
    assert_string_equal(c.path, ini);
    assert_float_equal(config_threshold_pct(&c, "examples/a.py", NULL), 12, 1e-12);
    config_release(&c);
    free(found);
    /* errors name the file */
    f = fopen(ini, "w");
    assert_non_null(f);
    fputs("[regression]\nthreshold = 0\n", f);
    fclose(f);
    assert_int_equal(config_load_file(ini, &c, err, sizeof(err)), -PYSCOPE_EPARSE);
    char *want = xasprintf("%s:2: invalid threshold", ini);
    assert_non_null(strstr(err, want));
    free(want);
    config_release(&c);
    unlink(ini);
    assert_int_equal(config_load_file(ini, &c, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "could not read"));
    config_release(&c);
    /* a pyscope.ini that is a directory is named as one (it was "Input/output error") */
    assert_int_equal(mkdir(ini, 0700), 0);
    assert_int_equal(config_load_file(ini, &c, err, sizeof(err)), -EISDIR);
    assert_non_null(strstr(err, "is a directory, not a file"));
    config_release(&c);
    rmdir(ini);
    unlink(script);
    rmdir(sub);
    rmdir(git);
    rmdir(dir);
    free(git);
    free(sub);
    free(script);
    free(ini);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_empty_and_defaults),
        cmocka_unit_test(test_errors_have_lines),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
