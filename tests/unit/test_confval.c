/* test_confval.c - switches in hand-written settings (lib/confval): the words every config
 * file and suite takes, and the daemons' config files using them; a config path that is a
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "confval.h"
#include "coord_config.h"
#include "errors.h"

static void test_words(void **state)
{
    (void)state;
    static const char *const on[] = {"on", "ON", "yes", "Yes", "true", "TRUE", "1"};
    static const char *const off[] = {"off", "Off", "no", "NO", "false", "False", "0"};
    static const char *const bad[] = {"", "maybe", "2", "onn", " on", "enabled", "-1"};
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        bool v = false;
        assert_int_equal(confval_onoff(on[i], &v), 0);
        assert_true(v);
    }
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        bool v = true;
        assert_int_equal(confval_onoff(off[i], &v), 0);
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool v = true;
        assert_int_equal(confval_onoff(bad[i], &v), -1);
        assert_true(v); /* unchanged */
    }
    bool v = true;
    assert_int_equal(confval_onoff(NULL, &v), -1);
}

/* A config file with text in it; returns its path (static buffer). */
static const char *write_conf(const char *text)
{
    static char path[] = "/tmp/test_confval.XXXXXX";
    strcpy(path, "/tmp/test_confval.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* The coordinator's auto_bisect and the agent's discover_pythons and verbose take the same
 * words; anything else is an error, never a silent "off" (verbose = on was "off" before). */
static void test_daemon_configs(void **state)
{
    (void)state;
    struct coord_config c;
    char err[512] = "";
    coord_config_init(&c);
    const char *p = write_conf("[coordinator]\nauto_bisect = Yes\n");
    assert_int_equal(coord_config_load(&c, p, err, sizeof(err)), 0);
    assert_int_equal(c.auto_bisect, 1);
    unlink(p);
    coord_config_release(&c);
    coord_config_init(&c);
    p = write_conf("[coordinator]\nauto_bisect = maybe\n");
    assert_true(coord_config_load(&c, p, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "auto_bisect"));
    unlink(p);
    coord_config_release(&c);

    struct agent_config a;
    p = write_conf("[agent]\ncoordinator = tcp://127.0.0.1:5555\nworkspace = /tmp\nverbose = "
                   "on\ndiscover_pythons = OFF\n");
    char *argv[] = {"pyscope-agent", "--config", (char *)p, NULL};
    assert_int_equal(agent_config_load(&a, 3, argv), 0);
    assert_true(a.verbose);
    assert_false(a.discover_pythons);
    agent_config_release(&a);
    unlink(p);
    p = write_conf(
        "[agent]\ncoordinator = tcp://127.0.0.1:5555\nworkspace = /tmp\nverbose = loud\n");
    argv[2] = (char *)p;
    assert_true(agent_config_load(&a, 3, argv) < 0);
    unlink(p);
}

/* A config path that is a directory is refused with the file meant, by the reader and both
 * daemons: fopen() takes a directory, and the daemons started on their defaults. */
static void test_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_confval_dir.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[512] = "";
    errno = 0;
    assert_null(confval_open(dir, "coordinator.conf", err, sizeof(err)));
    assert_int_equal(errno, EISDIR);
    char want[600];
    snprintf(want, sizeof(want),
             "config file \"%s\" is a directory: give the config file, e.g. %s/coordinator.conf",
             dir, dir);
    assert_string_equal(err, want);
    assert_null(confval_open(dir, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "is a directory, not a file"));
    assert_null(confval_open("/nonexistent/x.conf", "x.conf", err, sizeof(err)));
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(err, "could not read config file \"/nonexistent/x.conf\""));

    struct coord_config c;
    coord_config_init(&c);
    assert_int_equal(coord_config_load(&c, dir, err, sizeof(err)), -EISDIR);
    assert_non_null(strstr(err, "/coordinator.conf"));
    coord_config_release(&c);

    struct agent_config a;
    char *argv[] = {"pyscope-agent",        "--config",    dir,    "--coordinator",
                    "tcp://127.0.0.1:5555", "--workspace", "/tmp", NULL};
    assert_true(agent_config_load(&a, 7, argv) < 0);
    rmdir(dir);
}

/* Case i: the coordinator's config file holding text is refused with a message naming the
 * file, then want ("line N: ..."). */
static void expect_coord_refused(size_t i, const char *text, const char *want)
{
    struct coord_config c;
    coord_config_init(&c);
    const char *p = write_conf(text);
    char err[512] = "", whole[600];
    assert_int_equal(coord_config_load(&c, p, err, sizeof(err)), -PYSCOPE_EPARSE);
    snprintf(whole, sizeof(whole), "config file \"%s\" %s", p, want);
    if (strstr(err, whole) == NULL)
        fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, whole);
    unlink(p);
    coord_config_release(&c);
}

/* The coordinator's config: the error of a key before any section says where it goes; an
 * unknown section is refused at its line, even empty (libinih calls the handler for keys only,
 * so "[other]" after [coordinator] was accepted); the first error is the one reported. */
static void test_sections(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"heartbeat_ms = 100\n[coordinator]\n",
         "line 1: key \"heartbeat_ms\" outside a section: put it under [coordinator]"},
        {"[coordinator]\nwriters = 2\n\n[other]\n",
         "line 4: unknown section [other] (the settings go in [coordinator])"},
        {"; c\n[other]\nx = 1\n", "line 2: unknown section [other]"},
        {"[coordinator]\nbogus = 1\nlease_ms = soon\n", "line 2: unknown key \"bogus\""},
        {"[coordinator]\nnot a key\nbogus = 1\n", "line 2: syntax error"},
        {"[coordinator]\nbogus = 1\n[other]\n", "line 2: unknown key \"bogus\""},
    };
    char err[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_coord_refused(i, cases[i].text, cases[i].want);
    /* what is not a header is left alone: a comment; a value's continuation line is refused
     * as one (confval_check_key), not as an unknown section */
    struct coord_config c;
    coord_config_init(&c);
    const char *p = write_conf("[coordinator]\n; [other]\nbind = tcp://127.0.0.1:1\n");
    assert_int_equal(coord_config_load(&c, p, err, sizeof(err)), 0);
    unlink(p);
    coord_config_release(&c);
    coord_config_init(&c);
    p = write_conf("[coordinator]\n; [other]\nbind = tcp://127.0.0.1:1\n  [x]\n");
    assert_int_equal(coord_config_load(&c, p, err, sizeof(err)), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "line 4: an indented line continues \"bind\" from line 3"));
    unlink(p);
    coord_config_release(&c);

    struct agent_config a;
    p = write_conf("[agent]\ncoordinator = tcp://127.0.0.1:5555\nworkspace = /tmp\n[other]\n");
    char *argv[] = {"pyscope-agent", "--config", (char *)p, NULL};
    assert_true(agent_config_load(&a, 3, argv) < 0);
    unlink(p);
}

/* A key set twice in the coordinator's config is refused at the second line, naming the file
 * and the first line: the later value replaced the earlier without a word. The same for a
 * repeated [coordinator] header, and for an indented line, which libinih hands over as the
 * key again (continuing a comment does not count). */
static void test_coordinator_key_twice(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[coordinator]\nlease_ms = 30000\nwriters = 2\n\nlease_ms = 40000\n",
         "line 5: \"lease_ms\" set twice in [coordinator] (first on line 2)"},
        {"[coordinator]\nwriters = 2\n[coordinator]\n; again\nwriters = 3\n",
         "line 5: \"writers\" set twice in [coordinator] (first on line 2)"},
        {"[coordinator]\nhttp = 8080\nhttp =\n", "line 3: \"http\" set twice"},
        {"[coordinator]\nwriters = 2\n ; a comment\n  3\n",
         "line 4: an indented line continues \"writers\" from line 2: a value is one line"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_coord_refused(i, cases[i].text, cases[i].want);
    char err[512];
    /* every key once: fine, and a key's value taken as written */
    struct coord_config c;
    coord_config_init(&c);
    const char *p = write_conf("[coordinator]\nwriters = 2\nlease_ms = 40000\n[coordinator]\n"
                               "heartbeat_ms = 1000\n");
    assert_int_equal(coord_config_load(&c, p, err, sizeof(err)), 0);
    assert_int_equal(c.writers, 2);
    assert_int_equal(c.lease_ms, 40000);
    assert_int_equal(c.heartbeat_ms, 1000);
    unlink(p);
    coord_config_release(&c);
}

/* The agent's config: a key set twice (also once before the [agent] header and once under
 * it: both are the agent's), and an indented line, are refused; label adds up, but one
 * label key given twice is refused (its later value replaced the earlier in the host's
 * labels), across the file and --label too. */
static void test_agent_key_twice(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[agent]\nmax_jobs = 2\nmax_jobs = 3\n",
        "name = a\n[agent]\nname = b\n",
        "[agent]\nlabel = gpu=none\nlabel = gpu=a100\n",
        "[agent]\nlabel = gpu=none\n  rack=b2\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct agent_config a;
        const char *p = write_conf(bad[i]);
        char *argv[] = {"pyscope-agent",        "--config",    (char *)p, "--coordinator",
                        "tcp://127.0.0.1:5555", "--workspace", "/tmp",    NULL};
        if (agent_config_load(&a, 7, argv) != -PYSCOPE_EUSAGE)
            fail_msg("case %zu was accepted", i);
        unlink(p);
    }
    struct agent_config a;
    const char *p = write_conf("[agent]\nlabel = gpu=none\nlabel = rack=b2\nmax_jobs = 2\n");
    char *argv[] = {"pyscope-agent",
                    "--config",
                    (char *)p,
                    "--coordinator",
                    "tcp://127.0.0.1:5555",
                    "--workspace",
                    "/tmp",
                    "--max-jobs",
                    "3",
                    "--label",
                    "os=linux",
                    NULL};
    assert_int_equal(agent_config_load(&a, 11, argv), 0);
    assert_int_equal(a.n_labels, 3);
    assert_int_equal(a.max_jobs, 3); /* the command line overrides the file, as documented */
    agent_config_release(&a);
    argv[10] = "gpu=a100";
    assert_int_equal(agent_config_load(&a, 11, argv), -PYSCOPE_EUSAGE);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_daemon_configs),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_coordinator_key_twice),
        cmocka_unit_test(test_agent_key_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
