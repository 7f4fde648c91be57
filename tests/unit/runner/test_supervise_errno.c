/*
 * test_supervise_errno.c - the supervisor's signal handler leaves errno as it found it
 * (async-signal-safety: a handler that runs between a failed call and the read of its
 * errno must not change the error the code sees). It passes the signal on with kill(),
 * which fails (ESRCH) when the child's process group is empty: here the child, a real
 * Python, moves itself into our group first. Its own program: the signal it raises
 * stays the stop signal for the process's life.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "supervise.h"

#define PYTHON "/usr/bin/python3"

struct probe {
    int ready_fd; /* the child wrote a byte: it left its process group (non-blocking) */
    int go_fd;    /* a byte written: the child may end */
    bool raised;
    int errno_after; /* errno once the handler ran */
};

/* The hook, in the supervisor while the child runs: once the child's group is empty,
 * raise a forwarded signal with errno set, and note errno after the handler. */
static void probe_hook(void *arg)
{
    struct probe *p = arg;
    char c;
    if (p->raised || read(p->ready_fd, &c, 1) != 1)
        return;
    errno = EDOM;
    raise(SIGINT); /* the handler runs before raise() returns */
    p->errno_after = errno;
    p->raised = true;
    if (write(p->go_fd, "g", 1) != 1)
        p->errno_after = -1;
}

static void test_handler_keeps_errno(void **state)
{
    (void)state;
    if (access(PYTHON, X_OK) != 0)
        skip();
    int ready[2], go[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(fcntl(ready[0], F_SETFL, O_NONBLOCK), 0);
    char pgid[32], wfd[16], rfd[16];
    snprintf(pgid, sizeof(pgid), "%d", (int)getpgrp());
    snprintf(wfd, sizeof(wfd), "%d", ready[1]);
    snprintf(rfd, sizeof(rfd), "%d", go[0]);
    char *argv[] = {PYTHON,
                    "-c",
                    "import os, sys\n"
                    "os.setpgid(0, int(sys.argv[1]))\n"
                    "os.write(int(sys.argv[2]), b'r')\n"
                    "os.read(int(sys.argv[3]), 1)\n",
                    pgid,
                    wfd,
                    rfd,
                    NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    struct supervise_exec x = {.path = PYTHON, .argv = argv, .envp = envp, .close_fd = {-1, -1}};
    struct probe p = {.ready_fd = ready[0], .go_fd = go[1]};
    struct supervise_hook hook = {.fn = probe_hook, .arg = &p, .interval_s = 0.01};
    struct run_measure m;
    assert_int_equal(supervise_exec(&x, 60, false, &hook, &m), 0);
    assert_int_equal(m.exit_code, 0);
    assert_true(p.raised);
    assert_int_equal(supervise_stop_signal(), SIGINT);
    assert_int_equal(p.errno_after, EDOM);
    supervise_measure_release(&m);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handler_keeps_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
