/*
 * findings.c - the level rules of ongoing findings and the reference's drift
 * correction (see findings.h).
 */
#include "findings.h"

#include <math.h>

static bool level_ok(double x)
{
    return isfinite(x) && x > 0;
}

bool findings_back_to_before(double base, double found, double now)
{
    if (!level_ok(base) || !level_ok(found) || !level_ok(now))
        return false;
    return fabs(log(now / base)) < fabs(log(now / found));
}

bool findings_continues(double base, double found, double now)
{
    if (!level_ok(base) || !level_ok(found) || !level_ok(now))
        return false;
    double next = found * (found / base);
    return fabs(log(now / found)) < fabs(log(now / next));
}

bool findings_drift_valid(const struct findings_drift *d)
{
    return level_ok(d->cpu_base) && level_ok(d->wall_base) && level_ok(d->cpu_now) &&
           level_ok(d->wall_now);
}

void findings_correct(const struct findings_drift *d, double wall, double cpu, bool delay_known,
                      double *wall_out, double *cpu_out)
{
    double k = d->cpu_base / d->cpu_now;
    if (delay_known) {
        *cpu_out = cpu * k;
        *wall_out = wall - cpu * (1 - k);
        return;
    }
    double q_base = d->wall_base / d->cpu_base, q_now = d->wall_now / d->cpu_now;
    double cpu_c = cpu * k;
    double wait = wall - cpu * q_now;
    *cpu_out = cpu_c;
    if (wait >= 0)
        *wall_out = cpu_c * q_base + wait;
    else
        *wall_out = wall * (d->wall_base / d->wall_now);
}
