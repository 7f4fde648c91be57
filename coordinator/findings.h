/*
 * findings.h - when is a farm finding the same one again, and how does a
 * confirmation cancel the machine's drift.
 *
 * The batch analysis (coordinator/analysis.c) stores a regression or an
 * improvement as one row that lives over many nights (an "ongoing" finding,
 * schema/014_truthful_findings.sql). Two questions decide which row a night's
 * result belongs to, both on the levels of the finding's metric (the centres
 * lib/regress compares: the median of the runs' medians):
 *
 *   - Is a series back to where it was before an open finding? Its level
 *     tonight is nearer (on a log scale) to the finding's baseline level
 *     than to its regressed (or improved) level: the finding has ended.
 *   - Does a new finding continue an open one? Its level is nearer to the
 *     open finding's level than to one more step of the same size beyond it;
 *     otherwise it is a new step (a second slowdown), which ends the old row
 *     and starts its own.
 *
 * A confirmation run is bracketed by runs of a fixed reference script on the
 * same host (before and after it). The reference measures the machine now
 * against the nights of the baseline: CPU speed (the reference's CPU time)
 * and queueing for a CPU (its wall time per CPU second). The candidate's
 * samples are brought back to the baseline nights' conditions:
 *
 *   k     = ref_cpu_base / ref_cpu_now                  (CPU speed drift)
 *   q_b   = ref_wall_base / ref_cpu_base, q_n = ref_wall_now / ref_cpu_now
 *   cpu'  = cpu * k
 *   wait  = wall - cpu * q_n                            (sleeping, I/O; >= 0)
 *   wall' = cpu' * q_b + wait
 *
 * When the run used more CPU than a single thread's stretched time (wait
 * would be negative: threads or processes in parallel), wall' = wall *
 * ref_wall_base / ref_wall_now. When the repeat's own time waiting for a CPU
 * is measured (its run delay), the analysis judges its wall time net of that
 * wait; the queueing then needs no model and only the CPU speed is divided
 * out: cpu' = cpu * k, wall' = wall - cpu * (1 - k) (its run delay unchanged).
 * Pure functions: no I/O.
 */
#ifndef PYSCOPE_FINDINGS_H
#define PYSCOPE_FINDINGS_H

#include <stdbool.h>

/*
 * True when level now is nearer (log scale) to base than to found: the
 * series is back where it was before the finding (base -> found). False
 * when a value is not finite and > 0.
 */
bool findings_back_to_before(double base, double found, double now);

/*
 * True when a new finding at level now continues the open finding base ->
 * found: now is nearer (log scale) to found than to found * (found / base),
 * one more step of the same size. False for values not finite and > 0.
 */
bool findings_continues(double base, double found, double now);

/* The reference's levels (medians, seconds, all > 0) in the baseline's nights and now. */
struct findings_drift {
    double cpu_base, wall_base; /* median over the baseline nights' reference runs */
    double cpu_now, wall_now;   /* median of the runs bracketing the confirmation */
};

/*
 * True when d (borrowed) holds four finite levels > 0, so that it can
 * correct samples.
 */
bool findings_drift_valid(const struct findings_drift *d);

/*
 * One measured repeat (wall, cpu seconds, >= 0) brought back to the
 * baseline's conditions by d (borrowed, valid) as described above: *wall_out
 * and *cpu_out; delay_known: its run delay is measured (only the CPU speed is
 * corrected then).
 */
void findings_correct(const struct findings_drift *d, double wall, double cpu, bool delay_known,
                      double *wall_out, double *cpu_out);

#endif
