/*
 * contended.c - per-repeat contention into the judgements of contended.h.
 *
 * Design notes: documents are untrusted, so every field is type-checked; a
 * repeat without a usable wall_s or run_delay_s does not count, and medians
 * are over the repeats that have the field in question.
 */
#include "contended.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "stats.h"
#include "xmalloc.h"

double contended_queued_pct(double wall_s, double run_delay_s)
{
    if (!(wall_s > 0) || !(run_delay_s >= 0))
        return 0;
    return 100.0 * run_delay_s / wall_s;
}

double contended_own_wait(double wall_s, double run_delay_s, double cpu_s)
{
    if (!(cpu_s >= 0) || !isfinite(cpu_s))
        return run_delay_s;
    return fmin(run_delay_s, fmax(0, wall_s - cpu_s));
}

double contended_cpu_bound_pct(double wall_s, double run_delay_s, double cpu_s)
{
    if (!(cpu_s >= 0) || !isfinite(cpu_s) || !(wall_s > 0) || !(run_delay_s >= 0))
        return -1;
    double ran = wall_s - contended_own_wait(wall_s, run_delay_s, cpu_s);
    return ran > 0 ? 100.0 * cpu_s / ran : -1;
}

const char *contended_summed_note(double queued_pct_a, double queued_pct_b)
{
    return queued_pct_a > 100 || queued_pct_b > 100 ? " (its threads' waits, summed)" : "";
}

bool contended_repeat(double wall_s, double run_delay_s)
{
    return contended_queued_pct(wall_s, run_delay_s) >= CONTENDED_REPEAT_PCT;
}

/* Median of x[0..n) into *out when n > 0; returns whether it did. */
static bool median_into(const double *x, size_t n, double *out)
{
    return n > 0 && stats_median(x, n, out) == 0;
}

int contended_summarize(const json_t *doc, struct contended_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->cpu_bound_pct = -1;
    const json_t *runs = json_object_get(doc, "runs");
    size_t n = json_array_size(runs);
    if (n == 0)
        return -1;
    double *q = xcalloc(n, sizeof(*q)), *d = xcalloc(n, sizeof(*d)), *b = xcalloc(n, sizeof(*b));
    double *w = xcalloc(n, sizeof(*w)), *c = xcalloc(n, sizeof(*c)), *l = xcalloc(n, sizeof(*l));
    double *st = xcalloc(n, sizeof(*st)), *ci = xcalloc(n, sizeof(*ci));
    double *cv = xcalloc(n, sizeof(*cv)), *mh = xcalloc(n, sizeof(*mh));
    double *rf = xcalloc(n, sizeof(*rf));
    size_t nq = 0, nb = 0, nl = 0, ns = 0, nc = 0, nm = 0, ncpu = 0, nr = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(runs, i, r)
    {
        double wall, delay, cpu, x;
        if (!json_get_in(r, "wall_s", 0, INFINITY, &wall) || !(wall > 0))
            continue;
        bool has_delay = json_get_in(r, "run_delay_s", 0, INFINITY, &delay);
        if (has_delay) {
            q[nq] = contended_queued_pct(wall, delay);
            d[nq] = delay;
            w[nq] = wall;
            out->n_contended += contended_repeat(wall, delay);
            if (json_get_in(r, "cpu_s", 0, INFINITY, &cpu)) {
                c[ncpu++] = cpu;
                double bound = contended_cpu_bound_pct(wall, delay, cpu);
                if (bound >= 0)
                    b[nb++] = bound;
            }
            nq++;
        }
        if (json_get_in(r, "load1", 0, INFINITY, &x))
            l[nl++] = x;
        if (json_get_in(r, "steal_s", 0, INFINITY, &x))
            st[ns++] = 100.0 * x / wall;
        if (json_get_in(r, "ctx_involuntary", 0, INFINITY, &x) &&
            json_get_in(r, "ctx_voluntary", 0, INFINITY, &cv[nc]))
            ci[nc++] = x;
        if (json_get_in(r, "cpu_mhz", 0, INFINITY, &x) && x > 0)
            mh[nm++] = x;
        if (json_get_in(r, "ref_cpu_ns", 0, INFINITY, &x) && x > 0)
            rf[nr++] = x;
    }
    out->n = nq;
    median_into(q, nq, &out->queued_pct);
    median_into(d, nq, &out->run_delay_s);
    median_into(w, nq, &out->wall_s);
    median_into(c, ncpu, &out->cpu_s);
    if (!median_into(b, nb, &out->cpu_bound_pct))
        out->cpu_bound_pct = -1;
    out->has_load = median_into(l, nl, &out->load1);
    out->has_steal = median_into(st, ns, &out->steal_pct);
    out->has_ctx = median_into(ci, nc, &out->ctx_involuntary);
    if (out->has_ctx)
        median_into(cv, nc, &out->ctx_voluntary);
    out->has_mhz = median_into(mh, nm, &out->cpu_mhz);
    out->has_ref = median_into(rf, nr, &out->ref_cpu_ns);
    free(rf);
    free(q);
    free(d);
    free(b);
    free(w);
    free(c);
    free(l);
    free(st);
    free(ci);
    free(cv);
    free(mh);
    return nq > 0 ? 0 : -1;
}

int contended_run(const double *wall, const double *delay, const double *cpu, size_t n,
                  double *queued_pct, double *cpu_bound_pct)
{
    double *q = xcalloc(n ? n : 1, sizeof(*q)), *b = xcalloc(n ? n : 1, sizeof(*b));
    size_t nq = 0, nb = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(wall[i] > 0) || !(delay[i] >= 0) || !isfinite(wall[i]) || !isfinite(delay[i]))
            continue;
        q[nq++] = contended_queued_pct(wall[i], delay[i]);
        double bound = cpu ? contended_cpu_bound_pct(wall[i], delay[i], cpu[i]) : -1;
        if (bound >= 0)
            b[nb++] = bound;
    }
    int rc = median_into(q, nq, queued_pct) ? 0 : -1;
    if (!median_into(b, nb, cpu_bound_pct))
        *cpu_bound_pct = -1;
    free(q);
    free(b);
    return rc;
}

bool contended_wall(const struct contended_summary *s)
{
    return s->n > 0 && s->queued_pct >= CONTENDED_WALL_PCT;
}

bool contended_cpu_bound(const struct contended_summary *s)
{
    return s->n > 0 && s->cpu_bound_pct >= CONTENDED_CPU_BOUND_PCT;
}
