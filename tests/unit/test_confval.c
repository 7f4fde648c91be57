/* test_confval.c - switches in hand-written settings (lib/confval): the words every config
 * file and suite takes, and the daemons' config files using them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"
#include "confval.h"
#include "coord_config.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_daemon_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
