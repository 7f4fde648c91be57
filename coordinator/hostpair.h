/*
 * hostpair.h - what a host-vs-host ratio measures (issue 11, points 6 and 8).
 *
 * compare-hosts and the team report's hardware comparison divide one script's
 * median time on host B by host A's. A reader takes that for the difference of
 * their hardware; it is only that when
 *
 *   - the two hosts are two machines. Agents report the machine they run on
 *     (agents.machine, schema/014_truthful_findings.sql: the label "machine",
 *     else the kernel's boot id); two hosts whose agents report one machine id
 *     share its CPUs, and their ratio measures the load and the scheduling each
 *     one's runs happened to get, not hardware (a stranger's deploy/farm.sh, two
 *     agents of one machine: "farm-b/farm-a = 0.415"). A host without a machine
 *     id (agents from before it) is unknown: nothing is said;
 *   - the wall times are not contaminated by waiting for a CPU. Each run records
 *     how long its script was runnable without a CPU (runs.run_delay_s,
 *     schema/010_contention.sql); a side's queued share is the median over its
 *     runs of each run's median 100 * run_delay / wall (lib/contended.h). The
 *     wall-time ratio is contaminated when either side's share is at least
 *     CONTENDED_WALL_PCT (5%): the rule lib/regress uses to set a contaminated
 *     wall time aside (regress_contention_assess), for the same reason: that
 *     much of a side's time is the load of the moment, not the code nor the
 *     machine. Both sides equally queued still count: the ratio would then hold
 *     only by luck. Unknown (a side without run delays): nothing is said.
 *
 * Where the wall-time ratio is not the hardware, the callers show the ratio of
 * CPU times beside it (the time the script ran, which queueing does not add
 * to) and say it is the one to read. Not instruction counts, though a
 * verdict prefers them: they count the work (the same code under the same
 * Python build gives the same count on any machine), not how fast a machine
 * does it, so their ratio says nothing of the hardware.
 */
#ifndef PYSCOPE_HOSTPAIR_H
#define PYSCOPE_HOSTPAIR_H

#include <stdbool.h>
#include <stddef.h>

/* A yes/no that may be unknown. */
enum hostpair_tri { HOSTPAIR_UNKNOWN = -1, HOSTPAIR_NO = 0, HOSTPAIR_YES = 1 };

/* What a ratio of B over A measures. */
enum hostpair_measures {
    HOSTPAIR_HARDWARE,          /* as far as is known, the hardware (and the code) */
    HOSTPAIR_LOAD,              /* one machine: the load and scheduling of each host's runs */
    HOSTPAIR_HARDWARE_AND_LOAD, /* two machines (or unknown), wall time contaminated */
};

struct hostpair_reading {
    enum hostpair_tri same_machine;
    enum hostpair_tri wall_contaminated; /* either side's queued share >= CONTENDED_WALL_PCT */
    enum hostpair_measures measures;     /* of a ratio of metric (see hostpair_judge) */
};

/*
 * Judge a pair: machine_a, machine_b (borrowed; NULL or "" unknown) the machine
 * ids of the hosts, queued_a, queued_b each side's queued share in % (NaN
 * unknown), wall whether the ratio is of wall time (a CPU time or memory ratio
 * is not contaminated by queueing: only one machine changes what it measures).
 */
void hostpair_judge(const char *machine_a, const char *machine_b, double queued_a, double queued_b,
                    bool wall, struct hostpair_reading *out);

/* "hardware", "load" or "hardware_and_load" (the JSON's "measures"). Static. */
const char *hostpair_measures_name(enum hostpair_measures m);

/* The median of the runs' queued shares x[0..n) (NaN ones unknown, skipped), NaN when none. */
double hostpair_side_queued(const double *x, size_t n);

/* A ratio of medians B/A with its 95% interval (the CPU time's, shown beside the wall's). */
struct hostpair_ratio {
    double ratio, ci_low, ci_high;
};

/*
 * The sentence that says what r's ratio measures, or NULL when it is the
 * hardware as far as is known (new string, caller frees): host_a, host_b the
 * hosts' names, machine their (shared) machine id, queued_a, queued_b as for
 * hostpair_judge, cpu the CPU-time ratio (NULL: none). E.g. "farm-a and farm-b
 * are one machine (machine id 5d1e...): the ratio measures their load and
 * scheduling, not their hardware (farm-a waited for a CPU 58% of its wall time,
 * farm-b 2%); CPU time B/A 1.004 (95% CI 0.991 ... 1.020) is the one to read".
 */
char *hostpair_caveat(const struct hostpair_reading *r, const char *host_a, const char *host_b,
                      const char *machine, double queued_a, double queued_b,
                      const struct hostpair_ratio *cpu);

#endif
