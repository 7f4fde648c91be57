/*
 * supervise.c - start the child (vfork + execve, or fork), wait4, timeline, timeout,
 * signal forwarding.
 *
 * The wait loop polls a pidfd until the next thing due: every 10 ms the
 * timeline's tick reads the child's RSS from /proc/PID/statm (one pread)
 * and, every fifth, the threads' run-queue delays (contention.c: the task
 * folder listed again and a pread per thread); at the hook's own period
 * (supervise_hook: the sampler's passes in sample mode) the hook. Both keep
 * to one grid from the start, so that at equal periods (10 ms by default)
 * one wake-up serves both: a wake-up costs ~40 us of CPU on this VM, the
 * run's overhead, more than the work it does. The pidfd becoming readable
 * means the child is gone, and only then (or without a pidfd) are
 * waitid()/wait4() asked: wait4() gives its rusage (ru_maxrss is the exact
 * peak). Signals sent to us while the child runs are forwarded to its
 * process group; the supervisor itself carries on to write the report.
 * The first such signal is remembered (supervise_stop_signal): no child
 * starts after it, so the caller stops repeating and reports a partial run.
 * The child gets SIGKILL when we die (PR_SET_PDEATHSIG), so killing the
 * supervisor, even with SIGKILL, leaves no script running. A stop signal
 * that finds our parent gone (pyscope's parent-death SIGTERM after a kill -9:
 * nobody is left to read the report) makes us an orphan: the child's group
 * gets SIGKILL if the child has not ended SUPERVISE_ORPHAN_GRACE_S after it,
 * and its group at once once it has, so a script that ignores the signal
 * (a server loop) is not left running for ever.
 */
#include "supervise.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "xmalloc.h"

/* The child being supervised, for the forwarding handler (signal state). */
static volatile sig_atomic_t forward_pgid;
/* The first forwarded signal received (0: none yet). */
static volatile sig_atomic_t stop_signal;
/* Our parent when the handlers were installed, and whether a forwarded signal
 * found it gone (supervise_orphaned). */
static pid_t first_parent;
static volatile sig_atomic_t orphaned;
static bool orphan_killed; /* a child had to get SIGKILL since */

#define N_FWD 4
static const int fwd_sigs[N_FWD] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
/* Their dispositions before ours (restored in each child); valid once installed. */
static struct sigaction fwd_old[N_FWD];
static bool fwd_installed;

static void forward_signal(int sig)
{
    int saved = errno; /* kill() fails (ESRCH) once the group is empty: the code we
                          interrupted may be about to read errno */
    if (!stop_signal)
        stop_signal = sig;
    if (getppid() != first_parent)
        orphaned = 1;
    if (forward_pgid > 0)
        kill(-(pid_t)forward_pgid, sig);
    errno = saved;
}

int supervise_stop_signal(void)
{
    return stop_signal;
}

bool supervise_orphaned(bool *killed)
{
    if (killed)
        *killed = orphan_killed;
    return orphaned;
}

void supervise_forward_signals(void)
{
    if (fwd_installed)
        return;
    first_parent = getppid(); /* before the handlers, which compare with it */
    struct sigaction fwd = {.sa_handler = forward_signal};
    sigemptyset(&fwd.sa_mask);
    fwd.sa_flags = SA_RESTART;
    for (int i = 0; i < N_FWD; i++)
        sigaction(fwd_sigs[i], &fwd, &fwd_old[i]);
    fwd_installed = true;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wake-ups of the wait loop between two looks at the threads' run-queue
 * delays (cumulative counters: a thread that ends between two looks loses at
 * most 50 ms of its delay from the figure). */
#define SUPERVISE_CONTENTION_TICKS 5
/* How early a tick may be taken (s): well under any period (--interval-ms >= 0.1). */
#define SUPERVISE_DUE_AHEAD_S 20e-6

static uint64_t read_rss(int statm_fd)
{
    char buf[128];
    ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* "size resident ...", in pages: strtoull, not sscanf, at every tick */
    static uint64_t page;
    if (!page)
        page = (uint64_t)sysconf(_SC_PAGESIZE);
    char *p = buf, *end;
    (void)strtoull(p, &end, 10);
    if (end == p)
        return 0;
    unsigned long long resident = strtoull(p = end, &end, 10);
    return end == p ? 0 : resident * page;
}

/* Count child pids of the script not seen before (kept in a small ring of
 * recent pids: enough to tell "none", "a few" and "many"). */
static void note_children(int fd, struct run_measure *m, int *seen, size_t nseen)
{
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *p = buf, *end;
    for (;;) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        p = end;
        bool known = false;
        for (size_t i = 0; i < nseen && !known; i++)
            known = seen[i] == (int)pid;
        if (!known) {
            seen[m->children_seen % nseen] = (int)pid;
            m->children_seen++;
        }
    }
}

static void timeline_add(struct run_measure *m, size_t *cap, double t, uint64_t rss)
{
    if (rss == 0)
        return;
    if (m->ntimeline == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        m->timeline = xreallocarray(m->timeline, *cap, sizeof(*m->timeline));
    }
    m->timeline[m->ntimeline].t_s = t;
    m->timeline[m->ntimeline].rss_bytes = rss;
    m->ntimeline++;
}

/* What a child does before its own work, in both ways of starting it. */
struct child_setup {
    pid_t parent;
    int tty;              /* the terminal to hand to the child's group, or -1 */
    const sigset_t *mask; /* the signal mask to restore */
};

/* In the child: die with the supervisor (and if it is already gone, do not
 * start), the forwarded signals' dispositions as they were, its own process
 * group (the terminal's foreground one when we are interactive), the mask
 * restored. System calls only, reading the supervisor's memory and writing
 * none: it is also run between vfork() and execve(). */
static void child_prepare(const struct child_setup *cs)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != cs->parent)
        _exit(4);
    for (int i = 0; i < N_FWD; i++)
        sigaction(fwd_sigs[i], &fwd_old[i], NULL);
    setpgid(0, 0);
    if (cs->tty >= 0) {
        struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGTTOU, &ign, NULL);
        tcsetpgrp(cs->tty, getpid());
        sigaction(SIGTTOU, &dfl, NULL);
    }
    sigprocmask(SIG_SETMASK, cs->mask, NULL);
}

static pid_t spawn_fn(supervise_child_fn fn, void *arg, const struct child_setup *cs)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_prepare(cs);
        fn(arg);
        _exit(4);
    }
    return pid;
}

/* The vfork() child: system calls only, then execve() or _exit(). */
static __attribute__((noreturn)) void exec_child(const struct supervise_exec *x,
                                                 const struct child_setup *cs)
{
    for (size_t i = 0; i < sizeof(x->close_fd) / sizeof(x->close_fd[0]); i++)
        if (x->close_fd[i] >= 0)
            close(x->close_fd[i]);
    if (x->quiet) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
            dup2(fd, STDOUT_FILENO); /* fd itself closes at the exec */
    }
    child_prepare(cs);
    execve(x->path, x->argv, x->envp);
    static const char head[] = "pyscope-run: could not run \"", mid[] = "\": ";
    const char *why = strerrordesc_np(errno);
    struct iovec v[5] = {{(void *)head, sizeof(head) - 1},
                         {(void *)x->path, strlen(x->path)},
                         {(void *)mid, sizeof(mid) - 1},
                         {(void *)why, why ? strlen(why) : 0},
                         {(void *)"\n", 1}};
    ssize_t w = writev(STDERR_FILENO, v, 5);
    (void)w;
    _exit(4);
}

/* vfork: the child shares our memory until its execve (no copy of our page
 * tables, no copy-on-write faults afterwards, nothing to tear down at the
 * exec: ~1.5 ms of CPU per run on this VM); this thread waits meanwhile. */
static pid_t spawn_exec(const struct supervise_exec *x, const struct child_setup *cs)
{
    pid_t pid = vfork();
    if (pid == 0)
        exec_child(x, cs);
    return pid;
}

static int supervise(supervise_child_fn fn, void *arg, const struct supervise_exec *x,
                     double timeout_s, bool timeline, const struct supervise_hook *hook,
                     struct run_measure *m);

int supervise_run(supervise_child_fn fn, void *arg, double timeout_s, bool timeline,
                  struct run_measure *m)
{
    return supervise(fn, arg, NULL, timeout_s, timeline, NULL, m);
}

int supervise_exec(const struct supervise_exec *x, double timeout_s, bool timeline,
                   const struct supervise_hook *hook, struct run_measure *m)
{
    return supervise(NULL, NULL, x, timeout_s, timeline, hook, m);
}

/* This thread's CPU time (ns). */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What the supervisor watches while the child runs (supervise()). */
struct watch {
    pid_t pid;
    int pidfd;                         /* readable once the child is gone; -1: poll by time */
    int statm, children;               /* /proc files of the timeline; -1 without one */
    int seen[64];                      /* children already noted */
    size_t cap;                        /* of m->timeline */
    double t0, deadline;               /* start; kill time (0: none) */
    double orphan_kill;                /* when an orphan's child gets SIGKILL (0: not set) */
    double line_iv;                    /* the timeline's period (s), doubled on long runs */
    double next_line;                  /* when the next timeline tick is due */
    unsigned lines;                    /* timeline ticks so far */
    const struct supervise_hook *hook; /* NULL: none */
    double next_hook;                  /* when the hook is due next */
    struct contention_probe *probe;
};

static void watch_open(struct watch *w, pid_t pid, bool timeline)
{
    w->pid = pid;
    w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
    w->statm = timeline ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    w->children = timeline ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    w->line_iv = 0.010;
    w->next_line = w->t0; /* the first tick at once */
    if (w->hook)
        w->next_hook = w->t0 + w->hook->interval_s;
}

static void watch_close(struct watch *w)
{
    if (w->pidfd >= 0)
        close(w->pidfd);
    if (w->statm >= 0)
        close(w->statm);
    if (w->children >= 0)
        close(w->children);
    contention_release(w->probe);
    free(w->probe);
}

/* The next time of the grid t0 + k * iv after now, from next (<= now): missed
 * ticks are skipped rather than made in a burst (a stopped child, a loaded
 * machine), and the grid stays that of t0, so that two periods that are
 * multiples of each other keep meeting on the same wake-ups. */
static double after(double next, double iv, double now)
{
    return next + (floor((now - next) / iv) + 1) * iv;
}

/* A timeline tick: contention every SUPERVISE_CONTENTION_TICKS, RSS, children. */
static void watch_line(struct watch *w, double t, struct run_measure *m)
{
    if (w->lines++ % SUPERVISE_CONTENTION_TICKS == 0)
        contention_poll(w->probe, w->pid);
    if (w->statm >= 0) {
        timeline_add(m, &w->cap, t - w->t0, read_rss(w->statm));
        if (w->children >= 0)
            note_children(w->children, m, w->seen, sizeof(w->seen) / sizeof(w->seen[0]));
        /* Keep long runs to a few thousand points. */
        if (m->ntimeline > 2000 * (size_t)(w->line_iv / 0.010 + 0.5))
            w->line_iv *= 2;
    }
}

/* One wake-up while the child runs: whatever is due of the timeline, the
 * hook and the deadline. Returns how long to wait for the next one (s). */
static double watch_tick(struct watch *w, struct run_measure *m)
{
    double t = now_s();
    /* due a little ahead: the two grids' sums differ in their last bits, and a
     * tick left for a few nanoseconds later would be a wake-up of its own */
    double due = t + SUPERVISE_DUE_AHEAD_S;
    if (due >= w->next_line) {
        watch_line(w, t, m);
        w->next_line = after(w->next_line, w->line_iv, due);
    }
    if (w->hook && due >= w->next_hook) {
        w->hook->fn(w->hook->arg);
        w->next_hook = after(w->next_hook, w->hook->interval_s, due);
    }
    if (w->deadline && t >= w->deadline && !m->timed_out) {
        m->timed_out = true;
        kill(-w->pid, SIGKILL);
        kill(w->pid, SIGKILL);
    }
    /* nobody will read the report: the signal passed on gets a grace period, then SIGKILL */
    if (orphaned && !w->orphan_kill)
        w->orphan_kill = t + SUPERVISE_ORPHAN_GRACE_S;
    if (w->orphan_kill && t >= w->orphan_kill && !m->orphan_killed) {
        m->orphan_killed = orphan_killed = true;
        kill(-w->pid, SIGKILL);
        kill(w->pid, SIGKILL);
    }
    double next = w->next_line;
    if (w->hook && w->next_hook < next)
        next = w->next_hook;
    if (w->deadline && !m->timed_out && w->deadline < next)
        next = w->deadline;
    if (w->orphan_kill && !m->orphan_killed && w->orphan_kill < next)
        next = w->orphan_kill;
    double wait = next - now_s();
    return wait > 0 ? wait : 0;
}

/* Wait up to wait_s for the child to end. Returns whether it may have: the
 * pidfd readable, an error, a signal (EINTR), or no pidfd to tell. */
static bool watch_wait(const struct watch *w, double wait_s)
{
    struct timespec ts = {(time_t)wait_s, (long)((wait_s - (double)(time_t)wait_s) * 1e9)};
    if (w->pidfd >= 0) {
        struct pollfd pfd = {.fd = w->pidfd, .events = POLLIN};
        return ppoll(&pfd, 1, &ts, NULL) != 0;
    }
    nanosleep(&ts, NULL);
    return true;
}

/* Watch the child until it is reaped (its status and rusage into *status, *ru).
 * Returns 0 or -errno of wait4. */
static int watch_until_reaped(struct watch *w, struct run_measure *m, int *status,
                              struct rusage *ru)
{
    bool look = true; /* the child may be gone: first pass, pidfd readable, no pidfd */
    for (;;) {
        if (look) {
            /* an exited child's counters are read once more before it is reaped */
            siginfo_t si = {0};
            if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                si.si_pid == w->pid)
                contention_poll(w->probe, w->pid);
            pid_t r = wait4(w->pid, status, WNOHANG, ru);
            if (r == w->pid)
                return 0;
            if (r < 0 && errno != EINTR)
                return -errno;
        }
        look = watch_wait(w, watch_tick(w, m));
    }
}

/* The reaped child's figures into m: times, peak RSS, context switches, how it ended. */
static void measure_reaped(struct run_measure *m, int status, const struct rusage *ru)
{
    m->user_s = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6;
    m->sys_s = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
    m->peak_rss_bytes = (uint64_t)ru->ru_maxrss * 1024;
    m->contention.has_ctx = true;
    m->contention.ctx_voluntary = ru->ru_nvcsw;
    m->contention.ctx_involuntary = ru->ru_nivcsw;
    if (WIFSIGNALED(status)) {
        m->signal = WTERMSIG(status);
        m->exit_code = 128 + m->signal;
    } else {
        m->exit_code = WEXITSTATUS(status);
    }
}

static int supervise(supervise_child_fn fn, void *arg, const struct supervise_exec *x,
                     double timeout_s, bool timeline, const struct supervise_hook *hook,
                     struct run_measure *m)
{
    memset(m, 0, sizeof(*m));
    /* Job control: when our stdin is the terminal and we are its foreground
     * group, hand the terminal to the child's group (as a shell does), so
     * Ctrl-C and input() reach the script. */
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() ? STDIN_FILENO : -1;

    sigset_t block, prev;
    sigemptyset(&block);
    for (int i = 0; i < N_FWD; i++)
        sigaddset(&block, fwd_sigs[i]);
    sigprocmask(SIG_BLOCK, &block, &prev);
    supervise_forward_signals();
    if (stop_signal) { /* told to stop: start nothing more */
        sigprocmask(SIG_SETMASK, &prev, NULL);
        return -EINTR;
    }

    fflush(NULL);
    struct child_setup cs = {.parent = getpid(), .tty = tty, .mask = &prev};
    struct watch w = {.probe = xmalloc(sizeof(*w.probe)), .hook = hook};
    contention_begin(w.probe);
    m->tsc_start = __rdtsc();
    w.t0 = now_s();
    m->mono_start_ns = (uint64_t)(w.t0 * 1e9 + 0.5);
    pid_t pid = x ? spawn_exec(x, &cs) : spawn_fn(fn, arg, &cs);
    if (pid < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &prev, NULL);
        free(w.probe);
        return -e;
    }
    setpgid(pid, pid); /* both sides, so neither races the other (fails once it exec'd) */
    m->pid = (int)pid;
    forward_pgid = pid;
    sigprocmask(SIG_SETMASK, &prev, NULL);

    uint64_t cpu0 = thread_cpu_ns();
    watch_open(&w, pid, timeline);
    w.deadline = timeout_s > 0 ? w.t0 + timeout_s : 0;
    int status = 0;
    struct rusage ru;
    int rc = watch_until_reaped(&w, m, &status, &ru);
    if (rc < 0) {
        watch_close(&w);
        return rc;
    }
    m->watch_cpu_ns = thread_cpu_ns() - cpu0;
    double t1 = now_s();
    m->tsc_end = __rdtsc();
    forward_pgid = 0;
    if (tty >= 0) {
        void (*h)(int) = signal(SIGTTOU, SIG_IGN);
        tcsetpgrp(tty, getpgrp());
        signal(SIGTTOU, h);
    }
    /* Whatever the script left running in its group dies with a timeout, and
     * when nobody is left to read the report. */
    if (m->timed_out || orphaned)
        kill(-pid, SIGKILL);
    m->wall_s = t1 - w.t0;
    contention_end(w.probe, &m->contention);
    watch_close(&w);
    measure_reaped(m, status, &ru);
    return 0;
}

void supervise_measure_release(struct run_measure *m)
{
    free(m->timeline);
    m->timeline = NULL;
    m->ntimeline = 0;
}
