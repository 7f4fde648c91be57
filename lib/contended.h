/*
 * contended.h - was a run's time spent waiting for a CPU? (issue 11, point 1)
 *
 * pyscope-run records, per repeat, what could bias its timing
 * (agent/runner/contention.h): run_delay_s (time the script's threads were
 * runnable but had no CPU), context switches, steal, CPU pressure, load and
 * frequency. This module turns them into the judgements the report, the
 * suggestions and the regression verdict share:
 *
 *   queued_pct   = 100 * run_delay_s / wall_s of a repeat (thread-seconds
 *                  waiting per wall second: with several runnable threads it
 *                  can exceed 100);
 *   a repeat is "contended" (mostly queueing) when queued_pct >= 50;
 *   own wait     = run_delay_s capped at wall_s - cpu_s (contended_own_wait):
 *                  the wall time the run spent waiting for a CPU. The delay
 *                  is summed over threads, and the threads of a Python
 *                  program mostly take turns on one GIL: four threads queued
 *                  at once count four times over, though the program lost
 *                  the wall time once. It cannot have queued longer than it
 *                  did not run;
 *   cpu_bound_pct = 100 * cpu_s / (wall_s - own wait): how busy the script
 *                  kept a CPU while it was not waiting for one; a script is
 *                  CPU-bound when this is >= 80 (it would run on a CPU all
 *                  the time on an idle machine). A program whose threads ran
 *                  in parallel (cpu_s > wall_s) is CPU-bound;
 *   a side's wall time is "contaminated" when the median queued_pct of its
 *   runs is >= 5: more than a threshold's worth of the wall time is queueing,
 *   which the load of the moment decides, not the code;
 *   ref_cpu_ns   = median over the repeats of the CPU time of the fixed
 *                  reference chunk timed around each (agent/runner/refloop.h):
 *                  the machine's speed during the run, which lib/regress
 *                  compares with the baseline's (rule "machine_speed").
 */
#ifndef PYSCOPE_CONTENDED_H
#define PYSCOPE_CONTENDED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* A repeat waiting for a CPU at least this share of its wall time is flagged. */
#define CONTENDED_REPEAT_PCT 50.0
/* A side whose median repeat queued at least this share has contaminated wall time. */
#define CONTENDED_WALL_PCT 5.0
/* cpu / (wall - run delay) at least this: CPU-bound. */
#define CONTENDED_CPU_BOUND_PCT 80.0

/* What a run document's repeats say about contention (medians over its repeats). */
struct contended_summary {
    size_t n;               /* repeats with wall_s and run_delay_s */
    size_t n_contended;     /* of them, mostly queueing (>= CONTENDED_REPEAT_PCT) */
    double queued_pct;      /* median queued_pct; valid when n > 0 */
    double run_delay_s;     /* median run delay */
    double cpu_bound_pct;   /* median cpu / (wall - own wait), %; < 0 when unknown */
    double wall_s, cpu_s;   /* medians over the same repeats */
    bool has_load;          /* load1 known for some repeat */
    double load1;           /* median 1-minute load average */
    bool has_steal;         /* steal_s known */
    double steal_pct;       /* median 100 * steal_s / wall_s (summed over the machine's CPUs) */
    bool has_ctx;           /* context switches known */
    double ctx_involuntary; /* median involuntary (preemptions) per repeat */
    double ctx_voluntary;   /* median voluntary (blocking waits) per repeat */
    bool has_mhz;
    double cpu_mhz;    /* median */
    bool has_ref;      /* ref_cpu_ns known for some repeat (set even when the call returns -1) */
    double ref_cpu_ns; /* median reference chunk CPU time, ns */
};

/* queued_pct of one repeat (0 when wall_s <= 0). */
double contended_queued_pct(double wall_s, double run_delay_s);

/*
 * The wall time a repeat waited for a CPU: run_delay_s, at most wall_s - cpu_s
 * (0 when cpu_s >= wall_s); run_delay_s itself when cpu_s is unknown (< 0 or
 * not finite).
 */
double contended_own_wait(double wall_s, double run_delay_s, double cpu_s);

/* cpu_bound_pct of one repeat (contended.h above); -1 when it has no value. */
double contended_cpu_bound_pct(double wall_s, double run_delay_s, double cpu_s);

/*
 * " (its threads' waits, summed)" when either share exceeds 100% of the wall time
 * (several threads queued at once: queued_pct counts each), else "": said after
 * the shares a reader would otherwise take for a share of the wall time.
 */
const char *contended_summed_note(double queued_pct_a, double queued_pct_b);

/* True when a repeat with these values is mostly queueing. */
bool contended_repeat(double wall_s, double run_delay_s);

/*
 * Summarise doc's runs[] (borrowed; a pyscope.run/1 or report/1 document).
 * Returns 0, or -1 when no repeat has both wall_s and run_delay_s (older
 * documents, or an unreadable schedstat): *out then only has n = 0.
 */
int contended_summarize(const json_t *doc, struct contended_summary *out);

/*
 * One run's medians from aligned per-repeat arrays (NaN or negative: unknown):
 * *queued_pct over the repeats with wall and delay, *cpu_bound_pct over those
 * with cpu too (-1 when none). Returns 0, or -1 when no repeat has a delay.
 */
int contended_run(const double *wall, const double *delay, const double *cpu, size_t n,
                  double *queued_pct, double *cpu_bound_pct);

/* True when s says the wall time is contaminated (median queued >= CONTENDED_WALL_PCT). */
bool contended_wall(const struct contended_summary *s);

/* True when s says the script is CPU-bound (cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT). */
bool contended_cpu_bound(const struct contended_summary *s);

#endif
