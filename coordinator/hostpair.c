/*
 * hostpair.c - what a host-vs-host ratio measures (see hostpair.h).
 *
 * Design notes: pure functions of the figures the coordinator read, so that
 * compare-hosts, the team report and their tests share one rule and one
 * sentence (the CLI and the HTML print the coordinator's "caveat" as is).
 */
#include "hostpair.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "contended.h"
#include "stats.h"
#include "strbuf.h"
#include "xmalloc.h"

void hostpair_judge(const char *machine_a, const char *machine_b, double queued_a, double queued_b,
                    bool wall, struct hostpair_reading *out)
{
    bool known = machine_a && *machine_a && machine_b && *machine_b;
    out->same_machine = !known                              ? HOSTPAIR_UNKNOWN
                        : strcmp(machine_a, machine_b) == 0 ? HOSTPAIR_YES
                                                            : HOSTPAIR_NO;
    bool qa = isfinite(queued_a), qb = isfinite(queued_b);
    /* one side past the limit is enough, whatever the other's is (or whether it is known) */
    if ((qa && queued_a >= CONTENDED_WALL_PCT) || (qb && queued_b >= CONTENDED_WALL_PCT))
        out->wall_contaminated = HOSTPAIR_YES;
    else
        out->wall_contaminated = qa && qb ? HOSTPAIR_NO : HOSTPAIR_UNKNOWN;
    out->measures = out->same_machine == HOSTPAIR_YES                ? HOSTPAIR_LOAD
                    : wall && out->wall_contaminated == HOSTPAIR_YES ? HOSTPAIR_HARDWARE_AND_LOAD
                                                                     : HOSTPAIR_HARDWARE;
}

const char *hostpair_measures_name(enum hostpair_measures m)
{
    return m == HOSTPAIR_LOAD                ? "load"
           : m == HOSTPAIR_HARDWARE_AND_LOAD ? "hardware_and_load"
                                             : "hardware";
}

double hostpair_side_queued(const double *x, size_t n)
{
    double *k = xcalloc(n + 1, sizeof(*k)), med = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            k[m++] = x[i];
    if (m == 0 || stats_median(k, m, &med) < 0)
        med = NAN;
    free(k);
    return med;
}

/* "; CPU time B/A R (95% CI L-H)" and what to make of it, when cpu is known. */
static void add_cpu(struct strbuf *b, const struct hostpair_ratio *cpu, const char *what)
{
    if (cpu && isfinite(cpu->ratio))
        strbuf_addf(b, "; CPU time B/A %.3f (95%% CI %.3f-%.3f)%s", cpu->ratio, cpu->ci_low,
                    cpu->ci_high, what);
}

char *hostpair_caveat(const struct hostpair_reading *r, const char *host_a, const char *host_b,
                      const char *machine, double queued_a, double queued_b,
                      const struct hostpair_ratio *cpu)
{
    if (r->measures == HOSTPAIR_HARDWARE)
        return NULL;
    host_a = host_a ? host_a : "?";
    host_b = host_b ? host_b : "?";
    struct strbuf b = {0};
    bool both = isfinite(queued_a) && isfinite(queued_b);
    if (r->measures == HOSTPAIR_LOAD) {
        strbuf_addf(&b,
                    "%s and %s are one machine (machine id %s): the ratio measures their load "
                    "and scheduling, not their hardware",
                    host_a, host_b, machine && *machine ? machine : "?");
        if (both)
            strbuf_addf(&b, " (%s waited for a CPU %.0f%% of its wall time, %s %.0f%%)", host_a,
                        queued_a, host_b, queued_b);
        add_cpu(&b, cpu, ", which waiting for a CPU does not add to");
        return strbuf_take(&b);
    }
    strbuf_addf(&b, "the wall-time ratio is contaminated by waiting for a CPU: ");
    if (both)
        strbuf_addf(&b, "%s waited %.0f%% of its wall time, %s %.0f%%", host_a, queued_a, host_b,
                    queued_b);
    else
        strbuf_addf(&b, "%s waited %.0f%% of its wall time", isfinite(queued_a) ? host_a : host_b,
                    isfinite(queued_a) ? queued_a : queued_b);
    strbuf_addf(&b, " (%.0f%% or more is the load of the moment, not the machine)",
                CONTENDED_WALL_PCT);
    add_cpu(&b, cpu, " is not: read that one");
    return strbuf_take(&b);
}
