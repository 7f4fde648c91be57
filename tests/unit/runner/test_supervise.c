/* test_supervise.c - the supervisor against real child processes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

static void child_exit(void *arg)
{
    _exit(*(int *)arg);
}

static void child_kill_self(void *arg)
{
    (void)arg;
    signal(SIGSEGV, SIG_DFL); /* cmocka catches it otherwise */
    raise(SIGSEGV);
    _exit(0);
}

static void child_hang(void *arg)
{
    (void)arg;
    /* A grandchild in the same group must die with the timeout too. */
    if (fork() == 0)
        for (;;)
            pause();
    for (;;)
        pause();
}

static void child_eat(void *arg)
{
    size_t n = *(size_t *)arg;
    char *p = malloc(n);
    memset(p, 1, n);
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    _exit(p[n / 2] == 1 ? 0 : 1);
}

static void child_spawns(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    _exit(0);
}

static void test_children_seen(void **state)
{
    (void)state;
    struct run_measure m;
    assert_int_equal(supervise_run(child_spawns, NULL, 0, true, &m), 0);
    assert_int_equal(m.exit_code, 0);
    assert_int_equal(m.children_seen, 2);
    supervise_measure_release(&m);
    int code = 0;
    assert_int_equal(supervise_run(child_exit, &code, 0, true, &m), 0);
    assert_int_equal(m.children_seen, 0);
    supervise_measure_release(&m);
}

static void test_exit_code(void **state)
{
    (void)state;
    int code = 5;
    struct run_measure m;
    assert_int_equal(supervise_run(child_exit, &code, 0, false, &m), 0);
    assert_int_equal(m.exit_code, 5);
    assert_int_equal(m.signal, 0);
    assert_false(m.timed_out);
    assert_true(m.wall_s > 0);
    supervise_measure_release(&m);
}

/* supervise_exec: the program runs with the given arguments and environment
 * (not ours), in its own process group, its descriptors to close closed; an
 * exec that fails is exit status 4. */
static void test_exec(void **state)
{
    (void)state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    char *argv[] = {"sh", "-c",
                    "test \"$ONLY\" = here && test -z \"$HOME\" && "
                    "test \"$(ps -o pgid= -p $$ | tr -d ' ')\" = $$ && "
                    "! (echo x >&\"$FD\") 2>/dev/null && exit 7",
                    NULL};
    char fd_text[32];
    snprintf(fd_text, sizeof(fd_text), "FD=%d", pipefd[1]);
    char *envp[] = {"ONLY=here", "PATH=/usr/bin:/bin", fd_text, NULL};
    struct supervise_exec x = {
        .path = "/bin/sh", .argv = argv, .envp = envp, .close_fd = {pipefd[1], -1}};
    struct run_measure m;
    assert_int_equal(supervise_exec(&x, 10, false, NULL, &m), 0);
    assert_int_equal(m.exit_code, 7);
    supervise_measure_release(&m);
    x.path = "/nonexistent/pyscope-test-program";
    assert_int_equal(supervise_exec(&x, 10, false, NULL, &m), 0);
    assert_int_equal(m.exit_code, 4);
    supervise_measure_release(&m);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void test_signal(void **state)
{
    (void)state;
    struct run_measure m;
    assert_int_equal(supervise_run(child_kill_self, NULL, 0, false, &m), 0);
    assert_int_equal(m.signal, SIGSEGV);
    assert_int_equal(m.exit_code, 128 + SIGSEGV);
    supervise_measure_release(&m);
}

static void test_timeout_kills_group(void **state)
{
    (void)state;
    struct run_measure m;
    assert_int_equal(supervise_run(child_hang, NULL, 0.3, false, &m), 0);
    assert_true(m.timed_out);
    assert_int_equal(m.signal, SIGKILL);
    assert_true(m.wall_s >= 0.3);
    assert_true(m.wall_s < 10);
    supervise_measure_release(&m);
}

static void test_peak_rss_and_timeline(void **state)
{
    (void)state;
    size_t n = 64u << 20;
    struct run_measure m;
    assert_int_equal(supervise_run(child_eat, &n, 0, true, &m), 0);
    assert_int_equal(m.exit_code, 0);
    assert_true(m.peak_rss_bytes >= n);
    assert_true(m.ntimeline > 0);
    uint64_t max = 0;
    for (size_t i = 0; i < m.ntimeline; i++)
        if (m.timeline[i].rss_bytes > max)
            max = m.timeline[i].rss_bytes;
    /* /proc's counters are per-CPU caches, a little off from rusage's. */
    if (max > m.peak_rss_bytes + (1u << 20))
        fail_msg("timeline max %llu > peak %llu", (unsigned long long)max,
                 (unsigned long long)m.peak_rss_bytes);
    supervise_measure_release(&m);
}

/* The child sends SIGTERM to its parent (the supervisor), then waits to be ended. */
static void child_signals_parent(void *arg)
{
    (void)arg;
    kill(getppid(), SIGTERM);
    for (;;)
        pause();
}

/* A signal to the supervisor reaches the child's group and is remembered; after it
 * no child starts. Last: the handlers stay installed for the process's life. */
static void test_stop_signal(void **state)
{
    (void)state;
    struct run_measure m;
    int code = 0;
    assert_int_equal(supervise_stop_signal(), 0);
    assert_int_equal(supervise_run(child_signals_parent, NULL, 10, false, &m), 0);
    assert_int_equal(m.signal, SIGTERM); /* forwarded: it ended the child */
    assert_false(m.timed_out);
    assert_int_equal(supervise_stop_signal(), SIGTERM);
    supervise_measure_release(&m);
    /* a second signal between runs does not kill us, and nothing more starts */
    raise(SIGHUP);
    assert_int_equal(supervise_stop_signal(), SIGTERM);
    assert_int_equal(supervise_run(child_exit, &code, 0, false, &m), -EINTR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_code),
        cmocka_unit_test(test_signal),
        cmocka_unit_test(test_exec),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_peak_rss_and_timeline),
        cmocka_unit_test(test_children_seen),
        cmocka_unit_test(test_stop_signal), /* last: it leaves the stop signal set */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
