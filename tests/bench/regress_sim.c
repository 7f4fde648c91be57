/*
 * regress_sim.c - resampling half of tests/bench/regress_quality.sh (not part of ctest).
 *
 * Reads measured pools of pyscope.run/1 documents, one folder per slowdown level (each
 * document is one real `pyscope-run --repeat N` run: N wall-time samples), and estimates how
 * lib/regress decides on histories and candidates drawn from them:
 *
 *   one trial = a history of H runs drawn without replacement from the 0% pool, then the
 *   baseline chosen among them as lib/regress does (regress_baseline_select: the held-out
 *   tail of a change not yet confirmed, the latest E-divisive change point; with --farm the
 *   batch analysis' choice: no change points, no automatic new level), then one candidate
 *   run: from the level's pool (for 0%, a run of the 0% pool not in the history) ->
 *   regress_metric_history -> verdict. --metric picks the samples (history_samples:
 *   runs[].wall_s, cpu_s, or the instruction counts of pyscope-run --instructions; or
 *   wall_net_s: wall_s - run_delay_s, the wall time net of waiting for a CPU);
 *   --min-baseline N the fewest baseline runs that may decide (regress_options).
 *
 * Rates: false alarms (verdict "regression" at 0%), detection at each measured level. The
 * power curve uses synthetic candidates: a 0% run not in the history with every sample
 * multiplied by (1 + s), for s = 0, step, 2*step ... max; it reports the smallest s detected
 * in >= 90% of trials. Deterministic for a given --seed.
 *
 * Usage: regress_sim [--trials N] [--power-trials N] [--history H] [--seed S] [--step PCT]
 *                    [--max PCT] [--metric wall_s|wall_net_s|cpu_s|instructions] [--farm]
 *                    [--min-baseline N]
 *                    LEVEL_PCT=DIR [LEVEL_PCT=DIR ...]   (the first must be 0=DIR)
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "history.h"
#include "regress.h"
#include "stats.h"
#include "xmalloc.h"

#define SIM_MAX_LEVELS 16

struct sim_run {
    double *x;
    size_t n;
    double median;
};

struct sim_pool {
    double pct;
    struct sim_run *runs;
    size_t n;
};

static int sim_load_pool(struct sim_pool *p, const char *dir, const char *metric)
{
    char **names;
    size_t nn;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "regress_sim: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    names = NULL;
    nn = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            names = xreallocarray(names, nn + 1, sizeof(*names));
            names[nn++] = xasprintf("%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    for (size_t i = 0; i < nn; i++) {
        json_t *doc;
        char err[256];
        if (history_load_file(names[i], &doc, err, sizeof(err)) < 0) {
            fprintf(stderr, "regress_sim: skipping %s: %s\n", names[i], err);
            free(names[i]);
            continue;
        }
        const char *outcome =
            json_string_value(json_object_get(json_object_get(doc, "status"), "outcome"));
        bool ok = outcome && strcmp(outcome, "ok") == 0;
        struct sim_run r = {0};
        if (strcmp(metric, "wall_net_s") == 0) {
            /* the wall time net of waiting for a CPU (lib/regress.h), per repeat */
            const json_t *runs = json_object_get(doc, "runs");
            r.x = xcalloc(json_array_size(runs) + 1, sizeof(*r.x));
            size_t k;
            const json_t *e;
            json_array_foreach(runs, k, e)
            {
                double w = json_number_value(json_object_get(e, "wall_s"));
                double d = json_number_value(json_object_get(e, "run_delay_s"));
                if (json_is_number(json_object_get(e, "run_delay_s")) && w - d > 0)
                    r.x[r.n++] = w - d;
            }
        } else {
            r.x = history_samples(doc, metric, &r.n);
        }
        json_decref(doc);
        free(names[i]);
        if (!ok || r.n == 0 || stats_median(r.x, r.n, &r.median) < 0) {
            free(r.x);
            continue;
        }
        p->runs = xreallocarray(p->runs, p->n + 1, sizeof(*p->runs));
        p->runs[p->n++] = r;
    }
    free(names);
    return 0;
}

/* Draw k distinct indices below n into idx (partial Fisher-Yates over perm). */
static void sim_draw(struct stats_rng *rng, size_t *perm, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = 0; i < k && i < n; i++) {
        size_t j = i + (size_t)stats_rng_below(rng, n - i);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* The rule under test: lib/regress's options plus the sim's own. */
struct sim_rule {
    struct regress_options opt;
};

/* The history hist[0..h) (indices into p0) as runs[]; returns h. */
static size_t sim_baseline(const struct sim_pool *p0, const size_t *hist, size_t h,
                           struct regress_run *runs)
{
    for (size_t i = 0; i < h; i++)
        runs[i] = (struct regress_run){p0->runs[hist[i]].x, p0->runs[hist[i]].n};
    return h;
}

/* One decision on candidate runs cand[0..nc) against the history base[0..nb) (lib/regress
 * chooses the baseline among them); returns the verdict, or -1 on error. *used: the
 * baseline runs it chose. */
static int sim_decide(const struct regress_run *base, size_t nb, const struct regress_run *cand,
                      size_t nc, const struct sim_rule *rule, size_t *used)
{
    struct regress_result r;
    struct regress_baseline sel;
    if (regress_metric_history(base, nb, cand, nc, &rule->opt, &r, &sel) < 0)
        return -1;
    if (used)
        *used = sel.n_runs;
    return (int)r.verdict;
}

/*
 * Verdicts of one trial, three ways:
 *   v[0] one candidate run (no confirmation);
 *   v[1] the farm's confirmation (coordinator/analysis.c): a first verdict "regression" or
 *        "inconclusive" re-runs the job, and the second run, decided alone against the same
 *        baseline, gives the verdict;
 *   v[2] pooled confirmation: the same trigger, then both candidate runs together (the
 *        median of their run statistics, regress_metric_runs) give the verdict.
 * c1, c2: two distinct candidate runs of the same level.
 */
static void sim_trial(const struct regress_run *base, size_t nb, const struct regress_run *c1,
                      const struct regress_run *c2, const struct sim_rule *rule, int v[3],
                      size_t *used)
{
    v[0] = sim_decide(base, nb, c1, 1, rule, used);
    v[1] = v[2] = v[0];
    if (v[0] != REGRESS_REGRESSION && v[0] != REGRESS_INCONCLUSIVE)
        return;
    v[1] = sim_decide(base, nb, c2, 1, rule, NULL);
    struct regress_run both[2] = {*c1, *c2};
    v[2] = sim_decide(base, nb, both, 2, rule, NULL);
}

struct sim_counts {
    size_t trials, regression, inconclusive, improvement;
    size_t cut;      /* trials whose baseline a change point shortened */
    size_t short_fa; /* regressions with fewer than 3 baseline runs (noise floor unknown) */
};

static void sim_count(struct sim_counts *c, int v, size_t base_runs, size_t hist_n)
{
    c->trials++;
    if (base_runs < hist_n)
        c->cut++;
    if (base_runs < 3 && v == REGRESS_REGRESSION)
        c->short_fa++;
    if (v == REGRESS_REGRESSION)
        c->regression++;
    else if (v == REGRESS_INCONCLUSIVE)
        c->inconclusive++;
    else if (v == REGRESS_IMPROVEMENT)
        c->improvement++;
}

static double sim_rate(const struct sim_counts *c)
{
    return c->trials ? (double)c->regression / (double)c->trials : 0;
}

static void sim_print(const char *label, const struct sim_counts c[3])
{
    printf("%-26s", label);
    for (int k = 0; k < 3; k++) {
        double p = sim_rate(&c[k]);
        printf(" %6.1f%% (%.1f)", 100 * p, 100 * sqrt(p * (1 - p) / (double)c[k].trials));
    }
    printf("  inconclusive %5.1f%%  improvement %4.1f%%  [%zu trials]\n",
           c[0].trials ? 100.0 * (double)c[0].inconclusive / (double)c[0].trials : 0,
           c[0].trials ? 100.0 * (double)c[0].improvement / (double)c[0].trials : 0, c[0].trials);
    if (c[0].cut)
        printf("%-26s baseline shortened (change point or held-out tail) in %.1f%% of "
               "trials; regressions with < 3 baseline runs (no noise floor): %zu\n",
               "", 100.0 * (double)c[0].cut / (double)c[0].trials, c[0].short_fa);
}

static void sim_scaled(const struct sim_run *src, double f, double **buf, struct regress_run *out)
{
    *buf = xreallocarray(*buf, src->n, sizeof(**buf));
    for (size_t k = 0; k < src->n; k++)
        (*buf)[k] = src->x[k] * f;
    *out = (struct regress_run){*buf, src->n};
}

int main(int argc, char **argv)
{
    size_t trials = 2000, hist_n = 10;
    unsigned long long seed = 42;
    double step = 0.5, max_pct = 20;
    size_t power_trials = 0;
    const char *metric = "wall_s";
    struct sim_pool pools[SIM_MAX_LEVELS] = {0};
    size_t np = 0;
    struct sim_rule rule;
    regress_options_init(&rule.opt);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows through tee */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc)
            trials = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
            hist_n = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--step") == 0 && i + 1 < argc)
            step = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc)
            max_pct = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--power-trials") == 0 && i + 1 < argc)
            power_trials = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--metric") == 0 && i + 1 < argc)
            metric = argv[++i];
        else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
            rule.opt.threshold = strtod(argv[++i], NULL) / 100;
        else if (strcmp(argv[i], "--quantile") == 0 && i + 1 < argc)
            rule.opt.run_quantile = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--farm") == 0) {
            /* coordinator/analysis.c, analysis_options_init() */
            rule.opt.change_points = false;
            rule.opt.new_level_runs = 0;
        } else if (strcmp(argv[i], "--min-baseline") == 0 && i + 1 < argc)
            rule.opt.min_baseline_runs = (int)strtol(argv[++i], NULL, 10);
        else if (strchr(argv[i], '=') && np < SIM_MAX_LEVELS) {
            pools[np].pct = strtod(argv[i], NULL);
            if (sim_load_pool(&pools[np], strchr(argv[i], '=') + 1, metric) < 0)
                return 2;
            np++;
        } else {
            fprintf(stderr, "regress_sim: bad argument %s\n", argv[i]);
            return 2;
        }
    }
    if (np == 0 || pools[0].pct != 0 || hist_n < 2 || hist_n > 60 || step <= 0) {
        fprintf(stderr, "regress_sim: need 0=DIR first, --history 2..60, --step > 0\n");
        return 2;
    }
    const struct sim_pool *p0 = &pools[0];
    if (p0->n < hist_n + 2) {
        fprintf(stderr, "regress_sim: the 0%% pool has %zu runs, need at least %zu\n", p0->n,
                hist_n + 2);
        return 2;
    }
    for (size_t l = 1; l < np; l++) {
        if (pools[l].n < 2) {
            fprintf(stderr, "regress_sim: the %g%% pool has %zu runs, need at least 2\n",
                    pools[l].pct, pools[l].n);
            return 2;
        }
    }
    printf("Measured pools (real pyscope-run runs):");
    for (size_t i = 0; i < np; i++)
        printf(" %g%%: %zu runs x %zu samples;", pools[i].pct, pools[i].n,
               pools[i].n ? pools[i].runs[0].n : 0);
    if (power_trials == 0)
        power_trials = trials;
    printf("\nMetric %s; %zu trials per level; history %zu runs (%s baseline choice, at "
           "least %d runs to decide); threshold %g%%, alpha %g, per-run statistic: quantile %g "
           "of the repeats\n",
           metric, trials, hist_n, rule.opt.change_points ? "local" : "farm",
           rule.opt.min_baseline_runs < 3 ? 3 : rule.opt.min_baseline_runs,
           100 * rule.opt.threshold, rule.opt.alpha, rule.opt.run_quantile);
    printf("Columns: share of trials with verdict \"regression\" (Monte Carlo s.e.):\n"
           "  one run | + farm confirmation (a regression or inconclusive run is re-run, the "
           "2nd run decides alone) | + pooled confirmation (same trigger, both runs decide)\n\n");

    struct stats_rng rng;
    stats_rng_seed(&rng, seed);
    size_t *perm = xcalloc(p0->n, sizeof(*perm));
    size_t *perm2 = NULL;
    struct regress_run base[64];
    for (size_t l = 0; l < np; l++) {
        struct sim_counts c[3] = {{0}};
        perm2 = xreallocarray(perm2, pools[l].n, sizeof(*perm2));
        for (size_t t = 0; t < trials; t++) {
            sim_draw(&rng, perm, p0->n, hist_n + 2);
            const struct sim_run *c1, *c2;
            if (l == 0) {
                c1 = &p0->runs[perm[hist_n]];
                c2 = &p0->runs[perm[hist_n + 1]];
            } else {
                sim_draw(&rng, perm2, pools[l].n, 2);
                c1 = &pools[l].runs[perm2[0]];
                c2 = &pools[l].runs[perm2[1]];
            }
            size_t nb = sim_baseline(p0, perm, hist_n, base), used = nb;
            struct regress_run r1 = {c1->x, c1->n}, r2 = {c2->x, c2->n};
            int v[3];
            sim_trial(base, nb, &r1, &r2, &rule, v, &used);
            for (int k = 0; k < 3; k++)
                sim_count(&c[k], v[k], used, hist_n);
        }
        char label[64];
        snprintf(label, sizeof(label), l == 0 ? "false alarms at %g%%" : "detected at %g%%",
                 pools[l].pct);
        sim_print(label, c);
        printf("RESULT level=%g regression=%.4f confirmed=%.4f pooled=%.4f\n", pools[l].pct,
               sim_rate(&c[0]), sim_rate(&c[1]), sim_rate(&c[2]));
    }

    printf("\nPower curve (synthetic: two 0%% runs outside the history scaled by 1 + s; %zu "
           "trials each):\n",
           power_trials);
    double found[3] = {-1, -1, -1};
    double *b1 = NULL, *b2 = NULL;
    for (double s = 0; s <= max_pct + 1e-9; s += step) {
        struct sim_counts c[3] = {{0}};
        for (size_t t = 0; t < power_trials; t++) {
            sim_draw(&rng, perm, p0->n, hist_n + 2);
            struct regress_run r1, r2;
            sim_scaled(&p0->runs[perm[hist_n]], 1 + s / 100, &b1, &r1);
            sim_scaled(&p0->runs[perm[hist_n + 1]], 1 + s / 100, &b2, &r2);
            size_t nb = sim_baseline(p0, perm, hist_n, base), used = nb;
            int v[3];
            sim_trial(base, nb, &r1, &r2, &rule, v, &used);
            for (int k = 0; k < 3; k++)
                sim_count(&c[k], v[k], used, hist_n);
        }
        char label[64];
        snprintf(label, sizeof(label), "  s = %4.1f%%", s);
        sim_print(label, c);
        bool all = true;
        for (int k = 0; k < 3; k++) {
            if (found[k] < 0 && (double)c[k].regression >= 0.9 * (double)c[k].trials)
                found[k] = s;
            all = all && found[k] >= 0;
        }
        if (all && s >= found[2] + 2 * step && s >= found[1] + 2 * step)
            break;
    }
    const char *names[3] = {"power90", "power90_confirmed", "power90_pooled"};
    for (int k = 0; k < 3; k++) {
        if (found[k] >= 0)
            printf("RESULT %s=%.1f\n", names[k], found[k]);
        else
            printf("RESULT %s=none\n", names[k]);
    }
    free(b1);
    free(b2);
    free(perm);
    free(perm2);
    for (size_t i = 0; i < np; i++) {
        for (size_t k = 0; k < pools[i].n; k++)
            free(pools[i].runs[k].x);
        free(pools[i].runs);
    }
    return 0;
}
