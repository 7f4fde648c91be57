/*
 * profiler.h - the script child: embedded CPython plus the profilers.
 *
 * Only the files behind this header include Python.h (STYLE.md: one module
 * wraps each library). The supervisor (plain C) forks, and the child calls
 * profiler_child_main(), which never returns.
 */
#ifndef PYSCOPE_RUNNER_PROFILER_H
#define PYSCOPE_RUNNER_PROFILER_H

#include <stdint.h>

struct shm_region;
struct _ts;

/* What the child is to run and how. Borrowed by the child. */
struct profiler_config {
    const char *script; /* path as given: becomes sys.argv[0] and run_filename */
    int argc;           /* script arguments (sys.argv[1:]) */
    char *const *argv;
    const char *program; /* program_name: <venv>/bin/python or /usr/bin/python3.11 */
    int mode;            /* 1 sample, 2 trace, 0 none (warmup runs measure nothing) */
    double interval_s;   /* sampling period */
};

/* Run the script as `python3 script args` would, profiling into region.
 * Exits the process with the script's status; never returns. */
void profiler_child_main(const struct profiler_config *cfg, struct shm_region *region)
    __attribute__((noreturn));

/* Internal to the child: the main thread's state, and each profiler's switch. */
struct _ts *profiler_main_tstate(void);
int sampler_start(struct shm_region *region, double interval_s);
void sampler_stop(void);
void sampler_after_fork_child(void);
int tracer_start(struct shm_region *region);
void tracer_stop(void);
void tracer_after_fork_child(void);

#endif
