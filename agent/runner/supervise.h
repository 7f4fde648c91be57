/*
 * supervise.h - run one child process and measure it from outside.
 *
 * The supervisor is plain C: it forks, lets the child do its work (run the
 * script under Python), and takes what only the parent can take exactly:
 * wall time, user and system CPU and peak RSS from wait4(), the real exit
 * status (code or signal), an RSS timeline sampled from /proc, and the
 * timeout, which kills the child's whole process group; and what could bias
 * the timing (contention.h: run-queue delay, context switches, steal, load).
 */
#ifndef PYSCOPE_RUNNER_SUPERVISE_H
#define PYSCOPE_RUNNER_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contention.h"

/* One point of the RSS timeline. */
struct rss_point {
    double t_s;
    uint64_t rss_bytes;
};

/* What one run of the child measured. */
struct run_measure {
    double wall_s, user_s, sys_s;
    uint64_t peak_rss_bytes;
    int exit_code; /* valid when signal == 0 */
    int signal;    /* the signal that ended the child, 0 if it exited */
    bool timed_out;
    bool orphan_killed;           /* SIGKILLed SUPERVISE_ORPHAN_GRACE_S after the signal that
                                     found us orphaned (supervise_orphaned) */
    int pid;                      /* the child's process id (gone by the time m is filled) */
    unsigned children_seen;       /* distinct child processes seen while sampling (timeline runs) */
    uint64_t tsc_start, tsc_end;  /* TSC around the child's life, for calibration */
    uint64_t mono_start_ns;       /* CLOCK_MONOTONIC at the fork: the timeline's t = 0 */
    struct contention contention; /* what could bias the timing (contention.h) */
    uint64_t watch_cpu_ns;        /* this thread's CPU while it watched the child: its
                                     wake-ups, the timeline, contention, the hook */
    struct rss_point *timeline;   /* owned; NULL when not recorded */
    size_t ntimeline;
};

/* The child's work: called in the child after fork; must not return. */
typedef void (*supervise_child_fn)(void *arg);

/* Fork, run fn(arg) in the child (its own process group; made the terminal's
 * foreground group when we are interactive; killed when we die), forward
 * SIGINT/SIGTERM/SIGHUP/SIGQUIT to it, kill its group after timeout_s (<= 0:
 * never), and fill m. With timeline, RSS is sampled every ~10 ms. Returns 0,
 * -EINTR without starting anything once one of those signals was received
 * (supervise_stop_signal), or -errno when the child could not be started.
 * The forwarding handlers, installed by the first call, stay. Release m with
 * supervise_measure_release(). */
int supervise_run(supervise_child_fn fn, void *arg, double timeout_s, bool timeline,
                  struct run_measure *m);
void supervise_measure_release(struct run_measure *m);

/* A program to run as the child, everything prepared by the caller: the child
 * makes only system calls before the exec (so it can be started with vfork). */
struct supervise_exec {
    const char *path;
    char *const *argv;
    char *const *envp;
    int close_fd[2]; /* descriptors the child closes first (-1: none) */
    bool quiet;      /* the child's standard output goes to /dev/null */
};

/* Work the wait loop does while the child runs, on its own wake-ups: fn(arg)
 * every interval_s from the start (missed periods skipped). The timeline
 * keeps to the same grid, so equal periods share one wake-up. */
struct supervise_hook {
    void (*fn)(void *arg);
    void *arg;
    double interval_s;
};

/* supervise_run() for a child that execs x (vfork: cheaper than fork for a
 * supervisor with a large heap or other threads), with hook (NULL: none).
 * When the exec fails, the child says so on standard error and exits with 4. */
int supervise_exec(const struct supervise_exec *x, double timeout_s, bool timeline,
                   const struct supervise_hook *hook, struct run_measure *m);

/* Install the handlers that forward SIGINT/SIGTERM/SIGHUP/SIGQUIT to the
 * running child and remember the first one received, for the rest of the
 * process's life (a signal between two runs stops the repeats instead of
 * killing us without a report). supervise_run() calls it; call it earlier
 * to cover the time before the first run. */
void supervise_forward_signals(void);

/* The first SIGINT/SIGTERM/SIGHUP/SIGQUIT received since the handlers were
 * installed (forwarded to the child if one ran), or 0. */
int supervise_stop_signal(void);

/* How long a child may take to end after the signal passed on to it once we
 * are an orphan (s): then its process group gets SIGKILL. Nobody waits for
 * the report any more, so the grace is only for the script's own clean-up
 * (a SIGTERM handler that flushes files, removes its temporary ones, stops its
 * children: well under a second normally), with room for a loaded machine
 * (load 10 on 2 cores), and short enough that a script ignoring the signal
 * does not run on unseen for long. */
#define SUPERVISE_ORPHAN_GRACE_S 5.0

/* Whether one of those signals found our parent gone (it is not the one we
 * had when the handlers were installed): pyscope died, even of SIGKILL, and
 * its parent-death signal came (cli/run.c), so nobody will read the report.
 * The child still running then gets SIGKILL SUPERVISE_ORPHAN_GRACE_S after
 * it (*killed, NULL allowed: a child had to be), whatever it left in its
 * process group at once once it has ended, and no child starts after it. */
bool supervise_orphaned(bool *killed);

#endif
