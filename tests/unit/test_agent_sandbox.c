/* test_agent_sandbox.c - naming the limit that stopped a job (agent/sandbox.c,
 * sandbox_explain): time, memory, processes, file size, disk, several at once, none; and
 * the job's environment for a job user. The confinement itself needs root and real
 * processes: tests/integration/test_agent_sandbox.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "xmalloc.h"

/* A stderr file holding text, in a fresh temporary folder; returns its path (owned). */
static char *stderr_file(const char *text)
{
    char dir[] = "/tmp/test_agent_sandbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/stderr", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void remove_file(char *path)
{
    unlink(path);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    rmdir(path);
    free(path);
}

static struct sandbox sb_root(void)
{
    struct sandbox sb = {.drop = true,
                         .uid = 999,
                         .gid = 999,
                         .private_ns = true,
                         .tmp_size = 32u << 20,
                         .max_procs = 64,
                         .file_size_limit = 8u << 20};
    snprintf(sb.user, sizeof(sb.user), "pyscope-job");
    return sb;
}

/* sandbox_explain with stderr text, into a static buffer; NULL when nothing matched. */
static const char *explain(const struct sandbox *sb, struct sandbox_stop st, const char *text)
{
    static char buf[512];
    char note[160];
    char *path = stderr_file(text);
    st.stderr_path = path;
    bool hit = sandbox_explain(sb, &st, buf, sizeof(buf), note, sizeof(note));
    remove_file(path);
    return hit ? buf : NULL;
}

static void test_each_limit(void **state)
{
    (void)state;
    struct sandbox sb = sb_root();
    struct sandbox_stop base = {.timeout_s = 3, .memory_limit = 512u << 20, .tmp_used = 4096};
    struct sandbox_stop t = base;
    t.timed_out = true;
    assert_string_equal(explain(&sb, t, ""), "the time limit (3 s)");
    /* each limit needs the supervisors' accounting to agree with the error text */
    struct sandbox_stop m = base;
    m.rss_peak = 500u << 20; /* the runner's exact peak RSS: a hog that touched its memory */
    assert_string_equal(explain(&sb, m, "Traceback...\nMemoryError\n"),
                        "the memory limit (512 MiB; 500 MiB reached)");
    m.rss_peak = 10u << 20; /* address space reserved, seen by the agent's VmPeak samples */
    m.vm_peak = 400u << 20;
    assert_string_equal(explain(&sb, m, "Traceback...\nMemoryError\n"),
                        "the memory limit (512 MiB; 400 MiB reached)");
    m.vm_peak = 308u << 20; /* 60% of the limit touched, then the word printed: not the limit */
    assert_null(explain(&sb, m, "Traceback...\nMemoryError\n"));
    struct sandbox_stop d = base;
    d.tmp_used = 32 << 20;
    assert_string_equal(explain(&sb, d, "OSError: [Errno 28] No space left on device\n"),
                        "the disk limit (private /tmp of 32 MiB)");
    struct sandbox_stop f = base;
    f.tmp_used = 8 << 20;
    assert_string_equal(explain(&sb, f, "OSError: [Errno 27] File too large\n"),
                        "the file size limit (8 MiB)");
    struct sandbox_stop x = base;
    x.signal = SIGXFSZ;
    assert_string_equal(explain(&sb, x, ""), "the file size limit (8 MiB)");
    /* A fork bomb that swallows its errors: seen at (or one below) the limit. */
    struct sandbox_stop p = base;
    p.timed_out = true;
    p.procs_peak = 63;
    assert_string_equal(explain(&sb, p, ""), "the process limit (64), then the time limit (3 s)");
}

/* A script that prints a limit's error without hitting it does not get it named. */
static void test_spoofed_text_names_nothing(void **state)
{
    (void)state;
    struct sandbox sb = sb_root();
    struct sandbox_stop st = {
        .timeout_s = 3, .memory_limit = 512u << 20, .tmp_used = 4096, .procs_peak = 3};
    assert_null(explain(&sb, st, "OSError: [Errno 28] No space left on device\n"));
    assert_null(explain(&sb, st, "OSError: [Errno 27] File too large\n"));
    assert_null(explain(&sb, st, "BlockingIOError: [Errno 11] Resource temporarily unavailable\n"));
    st.tmp_used = -1; /* no accounting from the runner: nothing named either */
    assert_null(explain(&sb, st, "No space left on device\nFile too large\n"));
    /* MemoryError far below the limit by the accounting: no limit, a note that says so */
    st.vm_peak = 40u << 20;
    st.rss_peak = 12u << 20;
    char buf[256], note[160];
    char *path = stderr_file("Traceback...\nMemoryError\n");
    st.stderr_path = path;
    assert_false(sandbox_explain(&sb, &st, buf, sizeof(buf), note, sizeof(note)));
    remove_file(path);
    assert_string_equal(note, "raised MemoryError at 40 MiB of a 512 MiB limit: not the limit by "
                              "the agent's accounting");
}

static void test_no_limit(void **state)
{
    (void)state;
    struct sandbox sb = sb_root();
    struct sandbox_stop st = {.timeout_s = 3, .memory_limit = 512u << 20, .procs_peak = 10};
    assert_null(explain(&sb, st, "ValueError: nope\n"));
    /* No process limit: the words alone do not name one. */
    sb.max_procs = 0;
    assert_null(explain(&sb, st, "Resource temporarily unavailable\n"));
    /* No private /tmp: nothing measures the disk, so no disk limit is named. */
    sb.private_ns = false;
    st.tmp_used = 64 << 20;
    assert_null(explain(&sb, st, "No space left on device\n"));
    /* A missing stderr file is no limit. */
    st.stderr_path = "/nonexistent/stderr";
    char buf[64], note[64];
    assert_false(sandbox_explain(&sb, &st, buf, sizeof(buf), note, sizeof(note)));
    assert_string_equal(buf, "");
    assert_string_equal(note, "");
}

static void test_stop_from_run(void **state)
{
    (void)state;
    json_t *run = json_pack("{s{ss si}}", "status", "outcome", "timeout", "signal", 9);
    struct sandbox_stop st = {0};
    sandbox_stop_from_run(&st, run);
    assert_true(st.timed_out);
    assert_int_equal(st.signal, 9);
    json_decref(run);
    struct sandbox_stop none = {0};
    sandbox_stop_from_run(&none, NULL);
    assert_false(none.timed_out);
}

static void test_env(void **state)
{
    (void)state;
    setenv("HOME", "/root", 1);
    struct sandbox sb = sb_root();
    char **env = sandbox_env_new(&sb, NULL, 0);
    int home = 0, user = 0;
    for (size_t i = 0; env[i]; i++) {
        assert_string_not_equal(env[i], "HOME=/root");
        home += strcmp(env[i], "HOME=/tmp") == 0;
        user += strcmp(env[i], "USER=pyscope-job") == 0;
    }
    assert_int_equal(home, 1);
    assert_int_equal(user, 1);
    sandbox_env_free(env);
    sb.drop = false; /* the agent's own user: its environment as it is */
    env = sandbox_env_new(&sb, NULL, 0);
    home = 0;
    for (size_t i = 0; env[i]; i++)
        home += strcmp(env[i], "HOME=/root") == 0;
    assert_int_equal(home, 1);
    sandbox_env_free(env);
}

/* The PATH a job sees: the folders its private /tmp hides are left out (a valgrind there is
 * not the job's), the workspace and the runner's folder are bound back, the rest kept. */
static void test_job_path(void **state)
{
    (void)state;
    struct sandbox sb = sb_root();
    sb.workspace = "/tmp/farm/ws";
    snprintf(sb.runner_dir, sizeof(sb.runner_dir), "/var/tmp/runner");
    const char *path = "/tmp/vg:/usr/bin:/tmp/farm/ws/tools:/var/tmp/runner:/dev/shm/x:"
                       "/run/lock:/tmpfoo:/bin:/tmp";
    char *p = sandbox_job_path(&sb, path);
    assert_string_equal(p, "/usr/bin:/tmp/farm/ws/tools:/var/tmp/runner:/tmpfoo:/bin");
    free(p);
    sb.private_ns = false; /* jobs share the host's /tmp: every folder as it is */
    p = sandbox_job_path(&sb, path);
    assert_string_equal(p, path);
    free(p);
    sb.private_ns = true;
    p = sandbox_job_path(&sb, "/tmp/only");
    assert_string_equal(p, "");
    free(p);
    p = sandbox_job_path(&sb, NULL);
    assert_string_equal(p, "");
    free(p);
    /* files: an interpreter under /tmp is hidden, one in the runner's folder (or below) not */
    assert_false(sandbox_job_sees(&sb, "/tmp/venv/bin/python3"));
    assert_false(sandbox_job_sees(&sb, "/var/tmp/py/bin/python3.12"));
    assert_true(sandbox_job_sees(&sb, "/var/tmp/runner/pyshim/x"));
    assert_false(sandbox_job_sees(&sb, "/var/tmp/runner2/python3"));
    assert_true(sandbox_job_sees(&sb, "/tmp/farm/ws/python3"));
    assert_true(sandbox_job_sees(&sb, "/usr/bin/python3.11"));
    assert_true(sandbox_job_sees(&sb, "/tmpx/python3"));
    sb.private_ns = false;
    assert_true(sandbox_job_sees(&sb, "/tmp/venv/bin/python3"));
}

/* How many entries of env start with prefix. */
static int env_count(char **env, const char *prefix)
{
    int n = 0;
    for (size_t i = 0; env[i]; i++)
        n += strncmp(env[i], prefix, strlen(prefix)) == 0;
    return n;
}

/* Only the allowlist reaches a job: no key path, no PG*, no token; job_env adds names. */
static void test_env_allowlist(void **state)
{
    (void)state;
    setenv("PYSCOPE_SECRET_KEY", "/etc/pyscope/keys/agent", 1);
    setenv("PGHOST", "/run/postgresql", 1);
    setenv("PGUSER", "pyscope", 1);
    setenv("GITHUB_TOKEN", "ghp_secret", 1);
    setenv("PATH", "/usr/bin:/bin", 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    setenv("PYTHONPATH", "/srv/lib", 1);
    struct sandbox sb = sb_root();
    char **env = sandbox_env_new(&sb, NULL, 0);
    assert_int_equal(env_count(env, "PYSCOPE_SECRET_KEY="), 0);
    assert_int_equal(env_count(env, "PG"), 0);
    assert_int_equal(env_count(env, "GITHUB_TOKEN="), 0);
    assert_int_equal(env_count(env, "PYTHONPATH="), 0);
    assert_int_equal(env_count(env, "PATH=/usr/bin:/bin"), 1);
    assert_int_equal(env_count(env, "LC_ALL=C.UTF-8"), 1);
    sandbox_env_free(env);
    sb.job_env = "PYTHONPATH, GITHUB_TOKEN_X";
    sb.drop = false;
    env = sandbox_env_new(&sb, NULL, 0);
    assert_int_equal(env_count(env, "PYTHONPATH=/srv/lib"), 1);
    assert_int_equal(env_count(env, "GITHUB_TOKEN="), 0); /* a name, not a prefix */
    assert_int_equal(env_count(env, "PGHOST="), 0);
    sandbox_env_free(env);
}

int main(void)
{
    log_init("test_agent_sandbox", LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_limit),    cmocka_unit_test(test_no_limit),
        cmocka_unit_test(test_stop_from_run), cmocka_unit_test(test_env),
        cmocka_unit_test(test_env_allowlist), cmocka_unit_test(test_spoofed_text_names_nothing),
        cmocka_unit_test(test_job_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
