/*
 * contention.h - what could bias one repeat's timing, measured around the child.
 *
 * A repeat's wall time on a busy machine is partly time the script was
 * ready to run but had no CPU. The supervisor measures that, and the
 * machine's state, for every repeat:
 *
 *   run_delay_s  time the script's threads were runnable but not running:
 *                the second field of /proc/PID/task/TID/schedstat (the
 *                scheduler's run-queue delay, kept whenever CONFIG_SCHED_INFO
 *                is on, as in every distribution kernel), summed over the
 *                threads of the script's process, read every poll of the
 *                supervisor (~10 ms) and once more when the child has exited
 *                but is not yet reaped. The profiler's sampler runs in
 *                the supervisor, outside the script's process, so is never
 *                counted (a child thread named "pyscope-sampler" is left out:
 *                the embedded runner's was). A thread that ends between
 *                two polls loses at most its last poll interval. Child
 *                processes of the script are not counted.
 *   ctx_voluntary, ctx_involuntary   context switches of the child and its
 *                reaped children (wait4's rusage): involuntary ones are
 *                preemptions, voluntary ones blocking waits (I/O, sleeps, locks).
 *   steal_s      CPU time the hypervisor gave other guests during the repeat,
 *                summed over the machine's CPUs (/proc/stat "steal").
 *   cpu_pressure_s  machine-wide time at least one task waited for a CPU
 *                (/proc/pressure/cpu "some total", PSI), where available.
 *   load1        1-minute load average at the end of the repeat.
 *   cpu_mhz      mean current frequency of the CPUs at the end: cpufreq's
 *                scaling_cur_freq where the kernel exposes it, else the
 *                "cpu MHz" lines of /proc/cpuinfo (on a VM often nominal).
 *   ref_cpu_ns, ref_cpu_mean_ns   the machine's speed around the repeat:
 *                median and mean CPU time of the fixed reference chunks
 *                timed right before and right after it (refloop.h; filled
 *                by pyscope-run's repeat loop, not by this probe).
 *
 * Every value has a has_ flag: unreadable sources leave it false (the JSON
 * gets null), never a made-up 0.
 */
#ifndef PYSCOPE_RUNNER_CONTENTION_H
#define PYSCOPE_RUNNER_CONTENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Threads of one child followed at most (more are not counted). */
#define CONTENTION_MAX_THREADS 1024
/* The name the profiler's sampling thread carries (excluded from run_delay_s). */
#define CONTENTION_SAMPLER_NAME "pyscope-sampler"

struct contention {
    bool has_run_delay;
    double run_delay_s;
    bool has_ctx;
    long ctx_voluntary, ctx_involuntary;
    bool has_steal;
    double steal_s;
    bool has_cpu_pressure;
    double cpu_pressure_s;
    bool has_load1;
    double load1;
    bool has_cpu_mhz;
    double cpu_mhz;
    bool has_ref;
    double ref_cpu_ns, ref_cpu_mean_ns;
    /* pyscope-run --reference: the reference script's CPU and wall time, the mean
     * of its runs right before and right after the repeat (set by main.c) */
    bool has_ref_script;
    double ref_script_cpu_s, ref_script_wall_s;
};

/* Threads whose schedstat stays open between polls (one pread each, instead
 * of open, read and close); the others are opened at each poll. */
#define CONTENTION_OPEN_MAX 64

/* One thread's latest schedstat. */
struct contention_thread {
    pid_t tid;
    int fd;             /* its schedstat, kept open; -1: none */
    bool sampler;       /* the profiler's thread: not counted */
    uint8_t name_looks; /* times its name was read */
    uint64_t delay_ns;  /* run-queue delay so far */
};

/* The probe of one repeat (no allocation; embed it). */
struct contention_probe {
    pid_t pid;
    bool schedstat_ok; /* at least one schedstat read */
    void *task_dir;    /* /proc/PID/task, kept open and listed again (a DIR *) */
    size_t nopen;      /* threads' schedstat kept open */
    struct contention_thread threads[CONTENTION_MAX_THREADS];
    size_t nthreads;
    bool steal_ok, psi_ok;
    uint64_t steal_ticks0;
    uint64_t psi_us0;
};

/* Before the fork: the machine's counters at the start. */
void contention_begin(struct contention_probe *p);
/* While the child runs (and once after it exited, before it is reaped):
 * read the schedstat of each of pid's threads. */
void contention_poll(struct contention_probe *p, pid_t pid);
/* After the child was reaped: fill *out (ctx switches are the caller's,
 * from wait4). */
void contention_end(struct contention_probe *p, struct contention *out);
/* Close what the polls kept open (after contention_end). */
void contention_release(struct contention_probe *p);

/* Parsers, exposed for tests. Each returns 0, or -1 when text does not parse. */
/* "/proc/PID/schedstat": "<on-cpu ns> <run delay ns> <timeslices>". */
int contention_parse_schedstat(const char *text, uint64_t *cpu_ns, uint64_t *delay_ns);
/* "/proc/stat": the steal field of the first ("cpu ") line, in USER_HZ ticks. */
int contention_parse_steal(const char *text, uint64_t *ticks);
/* "/proc/pressure/cpu": the "some" line's total=, in microseconds. */
int contention_parse_psi(const char *text, uint64_t *us);
/* "/proc/cpuinfo": the mean of its "cpu MHz" lines. */
int contention_parse_cpuinfo_mhz(const char *text, double *mhz);

#endif
