/*
 * history_doc.c - the pyscope.history/1 document (see history_doc.h).
 *
 * Design notes: the verdicts are those `pyscope run` would have given each
 * run then (regress_compare against the runs before it since the latest
 * change point), so the trend and the run-time check never disagree.
 */
#include "history_doc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "jsonutil.h"
#include "stats.h"
#include "xmalloc.h"

static bool hd_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The metric object named metric of a regression (borrowed), or NULL. */
static const json_t *hd_metric(const json_t *reg, const char *metric)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), i, m)
    {
        if (hd_same(json_get_string(m, "metric", NULL), metric) && !json_object_get(m, "function"))
            return m;
    }
    return NULL;
}

/* The series a history is of, and its runs (the documents with samples of the metric). */
struct hd_series {
    const char *fp, *build, *mode; /* host fingerprint, Python build, profiling mode */
    const json_t **docs;           /* its runs, oldest first (borrowed) */
    const char **paths;            /* their files (borrowed; NULL when unknown) */
    double *med;                   /* the level change points are sought on, per run */
    size_t n;
    size_t without; /* its runs with no samples of the metric (instructions not counted) */
    json_t *others; /* the other series of the script: fingerprint, build, mode, runs */
};

/* The series: --host, else the newest report's host; the newest report's Python build;
 * --mode, else the newest report's mode. */
static void hd_choose(struct hd_series *s, const char *host_fp, const json_t *const *in, size_t nin,
                      const char *mode_opt)
{
    s->fp = host_fp;
    s->build = NULL;
    s->mode = mode_opt;
    for (size_t i = nin; i-- > 0;) {
        const json_t *d = in[i];
        if ((!s->fp ||
             hd_same(s->fp, json_get_string(json_object_get(d, "host"), "fingerprint", NULL))) &&
            (!mode_opt || strcmp(mode_opt, history_mode(d)) == 0)) {
            s->fp = json_get_string(json_object_get(d, "host"), "fingerprint", NULL);
            s->build = json_get_string(json_object_get(d, "python"), "build", NULL);
            s->mode = history_mode(d);
            break;
        }
    }
    if (!s->mode)
        s->mode = "sample";
}

/* One more run of another series (d, its fingerprint dfp, build db, mode dm) in others,
 * counted by series (index: series id -> its object). */
static void hd_count_other(json_t *others, json_t *index, const json_t *d, const char *dfp,
                           const char *db, const char *dm)
{
    char *id = xasprintf("%s\n%s\n%s", dfp ? dfp : "", db ? db : "", dm);
    json_t *o = json_object_get(index, id);
    if (!o) {
        o = json_pack("{s:o, s:o, s:o, s:s, s:i}", "fingerprint",
                      dfp ? json_string(dfp) : json_null(), "hostname",
                      json_deep_copy(json_object_get(json_object_get(d, "host"), "hostname"))
                          ?: json_null(),
                      "python_build", db ? json_string(db) : json_null(), "mode", dm, "runs", 0);
        json_object_set_new(index, id, o);
        json_array_append(others, o);
    }
    json_object_set_new(o, "runs",
                        json_integer(json_integer_value(json_object_get(o, "runs")) + 1));
    free(id);
}

/* The runs of the series among in (those with samples of metric), their medians; the runs
 * of other series counted in s->others. */
static void hd_select(struct hd_series *s, const json_t *const *in, const char *const *in_paths,
                      size_t nin, const char *metric)
{
    s->docs = xcalloc(nin + 1, sizeof(*s->docs));
    s->paths = xcalloc(nin + 1, sizeof(*s->paths));
    s->med = xcalloc(nin + 1, sizeof(*s->med));
    s->others = json_array();
    s->n = 0;
    s->without = 0;
    json_t *other_index = json_object();
    for (size_t i = 0; i < nin; i++) {
        const json_t *d = in[i];
        const char *dfp = json_get_string(json_object_get(d, "host"), "fingerprint", NULL);
        const char *db = json_get_string(json_object_get(d, "python"), "build", NULL);
        const char *dm = history_mode(d);
        size_t ns;
        double *x = history_samples(d, metric, &ns);
        bool mine = hd_same(dfp, s->fp) && hd_same(db, s->build) && strcmp(dm, s->mode) == 0;
        if (ns == 0) {
            s->without += mine;
            free(x);
            continue;
        }
        if (mine) {
            stats_median(x, ns, &s->med[s->n]);
            s->docs[s->n] = d;
            s->paths[s->n] = in_paths ? in_paths[i] : NULL;
            s->n++;
        } else {
            hd_count_other(s->others, other_index, d, dfp, db, dm);
        }
        free(x);
    }
    json_decref(other_index);
}

/* The levels change points are sought on: what the verdict rests on (on a busy machine,
 * the CPU time of a CPU-bound script or the wall time net of queueing, as regress_compare
 * decides), not a wall time mostly spent waiting for a CPU. Sets s->med; returns the basis. */
static const char *hd_levels(struct hd_series *s, const char *metric)
{
    const char *basis = regress_level_basis(s->docs, s->n, metric);
    for (size_t i = 0; basis != metric && i < s->n; i++) {
        if (!regress_level(s->docs[i], basis, &s->med[i])) {
            basis = metric; /* one run without it: the metric's own medians, all of them */
            for (size_t k = 0; k < s->n; k++)
                regress_level(s->docs[k], metric, &s->med[k]);
        }
    }
    return basis;
}

/* Run i's verdict against the runs of its segment since base_start (as the change points
 * in hindsight cut them; the held-out tail still applies: what `pyscope run` compared it
 * with): *verdict, *change (change_pct or null) and the regressed metrics (array); into
 * extra (borrowed object), "change_net_of_queueing" when the metric's figures are the wall
 * time net of waiting for a CPU, and the run's "decision" (metric, verdict, change_pct) when
 * another metric decided it. */
static json_t *hd_verdict(const struct hd_series *s, size_t i, size_t base_start,
                          const struct regress_options *opt, const char *metric, json_t **change,
                          json_t **regs, json_t *extra)
{
    *change = json_null();
    *regs = json_array();
    if (i == 0)
        return json_string("first run");
    /* base_start < i: cps are > 0 */
    struct regress_options row_opt = *opt;
    row_opt.change_points = false;
    json_t *reg = regress_compare(s->docs[i], s->docs + base_start, i - base_start, &row_opt);
    const json_t *wm = hd_metric(reg, metric);
    json_t *verdict = json_deep_copy(json_object_get(wm, "verdict"));
    if (!verdict)
        verdict = json_string("unknown");
    if (json_is_number(json_object_get(wm, "change_pct")))
        json_decref(*change), *change = json_deep_copy(json_object_get(wm, "change_pct"));
    json_object_set_new(extra, "change_net_of_queueing",
                        json_boolean(json_is_true(json_object_get(json_object_get(wm, "contention"),
                                                                  "net_of_queueing"))));
    const json_t *d = json_object_get(reg, "decision");
    const char *dm = json_get_string(d, "metric", NULL);
    if (dm && !hd_same(dm, metric))
        json_object_set_new(extra, "decision",
                            json_pack("{s:s, s:O, s:O}", "metric", dm, "verdict",
                                      json_object_get(d, "verdict") ?: json_null(), "change_pct",
                                      json_object_get(d, "change_pct") ?: json_null()));
    size_t k;
    const json_t *m;
    json_array_foreach(json_object_get(reg, "metrics"), k, m)
    {
        if (!hd_same(json_get_string(m, "verdict", NULL), "regression"))
            continue;
        const char *fn = json_get_string(m, "function", NULL);
        const char *mn = json_get_string(m, "metric", NULL);
        json_array_append_new(*regs, fn ? json_sprintf("%s %s", mn ? mn : "?", fn)
                                        : json_string(mn ? mn : "?"));
    }
    json_decref(reg);
    return verdict;
}

/* The field names of the metric: median_wall_s ... */
struct hd_fields {
    char med[64], q1[64], q3[64], min[64], max[64], before[80], after[80];
};

static void hd_fields_init(struct hd_fields *f, const char *metric)
{
    snprintf(f->med, sizeof(f->med), "%s_%s", "median", metric);
    snprintf(f->q1, sizeof(f->q1), "%s_%s", "q1", metric);
    snprintf(f->q3, sizeof(f->q3), "%s_%s", "q3", metric);
    snprintf(f->min, sizeof(f->min), "%s_%s", "min", metric);
    snprintf(f->max, sizeof(f->max), "%s_%s", "max", metric);
    snprintf(f->before, sizeof(f->before), "%s_%s", "before_median", metric);
    snprintf(f->after, sizeof(f->after), "%s_%s", "after_median", metric);
}

/* The row of run i: its figures, verdict, and whether a change point starts at it. */
static json_t *hd_run_row(const struct hd_series *s, size_t i, const struct hd_fields *f,
                          const char *metric, json_t *verdict, json_t *change, json_t *regs,
                          bool is_cp)
{
    size_t ns;
    double *x = history_samples(s->docs[i], metric, &ns);
    struct stats_summary sum;
    stats_summarize(x, ns, &sum);
    double q1 = sum.median, q3 = sum.median;
    stats_quantile(x, ns, 0.25, &q1);
    stats_quantile(x, ns, 0.75, &q3);
    free(x);
    const char *id = json_get_string(s->docs[i], "id", NULL);
    const char *created = json_get_string(s->docs[i], "created", NULL);
    return json_pack(
        "{s:o, s:o, s:o, s:I, s:f, s:f, s:f, s:f, s:f, s:o, s:o, s:o, s:b}", "id",
        id ? json_string(id) : json_null(), "created", created ? json_string(created) : json_null(),
        "file", s->paths[i] ? json_string_lossy(s->paths[i]) : json_null(), "n", (json_int_t)sum.n,
        f->med, sum.median, f->q1, q1, f->q3, q3, f->min, sum.min, f->max, sum.max, "verdict",
        verdict, "change_pct", change, "regressions", regs, "change_point", is_cp);
}

/* The change point at run i (the cpi-th of cps, counted): the medians of the levels before
 * and after it. */
static json_t *hd_change_point(const struct hd_series *s, size_t i, const size_t *cps, size_t cpi,
                               size_t ncp, const struct hd_fields *f)
{
    double before, after;
    size_t prev = 0;
    for (size_t k = 0; k + 1 < cpi; k++)
        prev = cps[k];
    size_t next = cpi < ncp ? cps[cpi] : s->n;
    stats_median(s->med + prev, i - prev, &before);
    stats_median(s->med + i, next - i, &after);
    const char *id = json_get_string(s->docs[i], "id", NULL);
    const char *created = json_get_string(s->docs[i], "created", NULL);
    return json_pack("{s:I, s:o, s:o, s:f, s:f, s:f}", "index", (json_int_t)i, "id",
                     id ? json_string(id) : json_null(), "created",
                     created ? json_string(created) : json_null(), f->before, before, f->after,
                     after, "change_pct", 100 * (after / before - 1));
}

/* What the baseline for the next run is (start: its first run, used of the n - start since). */
static char *hd_baseline_message(const struct hd_series *s, const char *metric, size_t ncp,
                                 size_t start, size_t used)
{
    /* runs there are, but none measured this metric: say so, not "no runs" */
    if (s->n == 0 && s->without && strcmp(metric, "instructions") == 0)
        return xasprintf("no run of this series counted instructions (%zu run%s without them): "
                         "run with --instructions (or instructions = on in the suite)",
                         s->without, s->without == 1 ? "" : "s");
    if (s->n == 0 && s->without)
        return xasprintf("none of this series' %zu run%s has %s samples", s->without,
                         s->without == 1 ? "" : "s", metric);
    if (s->n == 0)
        return xstrdup("no runs yet: the first run will have no baseline");
    if (ncp)
        return xasprintf("the baseline for new runs starts at the latest change point (%s, run "
                         "%.8s): the newest %zu of the %zu runs since then",
                         json_get_string(s->docs[start], "created", NULL) ?: "?",
                         json_get_string(s->docs[start], "id", NULL) ?: "?", used, s->n - start);
    return xasprintf("no change point: the baseline for new runs is the newest %zu of the %zu "
                     "runs",
                     used, s->n);
}

json_t *history_doc_build(const char *host_fp, const char *reports_dir, const char *key,
                          const json_t *const *in, const char *const *in_paths, size_t nin,
                          const struct regress_options *opt, const char *metric,
                          const char *mode_opt)
{
    struct hd_fields f;
    hd_fields_init(&f, metric);
    struct hd_series s;
    hd_choose(&s, host_fp, in, nin, mode_opt);
    hd_select(&s, in, in_paths, nin, metric);
    const char *basis = hd_levels(&s, metric);
    size_t n = s.n;

    size_t cps[HISTORY_DOC_MAX_CPS], ncp = 0;
    struct stats_cp_options cpo;
    stats_cp_options_init(&cpo);
    if (n == 0 || stats_changepoints(s.med, n, &cpo, cps, HISTORY_DOC_MAX_CPS, &ncp) < 0)
        ncp = 0;

    json_t *runs = json_array(), *cp_arr = json_array();
    size_t cpi = 0, seg_start = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_cp = cpi < ncp && cps[cpi] == i;
        size_t base_start = seg_start; /* latest change point strictly before i */
        if (is_cp) {
            seg_start = i;
            cpi++;
        }
        json_t *change, *regs, *extra = json_object();
        json_t *verdict = hd_verdict(&s, i, base_start, opt, metric, &change, &regs, extra);
        json_t *row = hd_run_row(&s, i, &f, metric, verdict, change, regs, is_cp);
        json_object_update(row, extra);
        json_decref(extra);
        json_array_append_new(runs, row);
        if (is_cp)
            json_array_append_new(cp_arr, hd_change_point(&s, i, cps, cpi, ncp, &f));
    }
    size_t start = ncp ? cps[ncp - 1] : 0;
    size_t used = n - start;
    if (opt->max_baseline_runs > 0 && used > (size_t)opt->max_baseline_runs)
        used = (size_t)opt->max_baseline_runs;
    char *msg = hd_baseline_message(&s, metric, ncp, start, used);
    const json_t **docs = s.docs;
    json_t *host_obj = json_pack(
        "{s:o, s:o}", "fingerprint", s.fp ? json_string(s.fp) : json_null(), "hostname",
        n ? json_deep_copy(json_object_get(json_object_get(docs[n - 1], "host"), "hostname"))
          : json_null());
    if (!json_object_get(host_obj, "hostname"))
        json_object_set_new(host_obj, "hostname", json_null());
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:f, s:o, s:o, s:{s:o, s:o, s:I, s:I, s:s}, s:o}", "schema",
        "pyscope.history/1", "pyscope_version", PYSCOPE_VERSION, "script", key, "host", host_obj,
        "python_build", s.build ? json_string(s.build) : json_null(), "reports_dir",
        reports_dir ? json_string_lossy(reports_dir) : json_null(), "threshold_pct",
        100 * opt->threshold, "runs", runs, "change_points", cp_arr, "baseline_for_next",
        "start_id",
        n ? json_deep_copy(json_object_get(docs[start], "id")) ?: json_null() : json_null(),
        "start_created",
        n ? json_deep_copy(json_object_get(docs[start], "created")) ?: json_null() : json_null(),
        "runs_since", (json_int_t)(n - start), "n_runs", (json_int_t)used, "message", msg,
        "other_series", s.others);
    if (strcmp(metric, "wall_s") != 0)
        json_object_set_new(doc, "metric", json_string(metric));
    json_object_set_new(doc, "mode", json_string(s.mode));
    /* the samples the change points (and their before/after medians) were found on */
    json_object_set_new(doc, "change_points_basis", json_string(basis));
    /* the series' runs left out for want of the metric's samples */
    json_object_set_new(doc, "runs_without_metric", json_integer((json_int_t)s.without));
    free(msg);
    free(s.docs);
    free(s.paths);
    free(s.med);
    return doc;
}

/* The regressions of stored (borrowed) whose candidate run is id, as a new array. */
static json_t *hd_stored_of(const json_t *stored, const char *id)
{
    json_t *out = json_array();
    size_t i;
    const json_t *g;
    json_array_foreach(stored, i, g)
    {
        if (id && hd_same(json_get_string(g, "candidate_run", NULL), id))
            json_array_append(out, (json_t *)g);
    }
    return out;
}

/* qsort: runs by their commit's generation (runs without one first), then by time. */
static int hd_by_commit(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    json_int_t ga = json_integer_value(json_object_get(json_object_get(a, "commit"), "generation"));
    json_int_t gb = json_integer_value(json_object_get(json_object_get(b, "commit"), "generation"));
    if (ga != gb)
        return ga < gb ? -1 : 1;
    const char *ca = json_get_string(a, "created", NULL), *cb = json_get_string(b, "created", NULL);
    return strcmp(ca ? ca : "", cb ? cb : "");
}

json_t *history_doc_from_series(const json_t *series, const char *key,
                                const struct regress_options *opt, const char *metric,
                                const char *mode_opt, const char *coordinator, bool by_commit)
{
    const json_t *runs = json_object_get(series, "runs");
    size_t n = json_array_size(runs);
    const json_t **docs = xcalloc(n + 1, sizeof(*docs));
    for (size_t i = 0; i < n; i++)
        docs[i] = json_array_get(runs, i);
    if (by_commit)
        qsort(docs, n, sizeof(*docs), hd_by_commit);
    const json_t *host = json_object_get(series, "host");
    json_t *doc = history_doc_build(json_get_string(host, "fingerprint", NULL), NULL, key, docs,
                                    NULL, n, opt, metric, mode_opt);
    free(docs);
    /* each run's batch and commit, found by id (runs without samples of the metric are left out) */
    json_t *batch_of = json_object(), *commit_of = json_object();
    size_t i;
    const json_t *sr;
    json_array_foreach(runs, i, sr)
    {
        const char *id = json_get_string(sr, "id", NULL);
        const json_t *b = json_object_get(sr, "batch_id");
        if (id && b)
            json_object_set(batch_of, id, (json_t *)b);
        const json_t *c = json_object_get(sr, "commit");
        if (id && c)
            json_object_set(commit_of, id, (json_t *)c);
    }
    const json_t *stored = json_object_get(series, "regressions");
    json_t *r;
    json_array_foreach(json_object_get(doc, "runs"), i, r)
    {
        const char *id = json_get_string(r, "id", NULL);
        const json_t *b = id ? json_object_get(batch_of, id) : NULL;
        json_object_set(r, "batch_id", b ? (json_t *)b : json_null());
        const json_t *c = id ? json_object_get(commit_of, id) : NULL;
        json_object_set(r, "commit", c ? (json_t *)c : json_null());
        json_object_set_new(r, "stored_regressions", hd_stored_of(stored, id));
    }
    json_decref(batch_of);
    json_decref(commit_of);
    /* the farm's rule for the next night's baseline, not the local one's change points
     * (stranger19 minor 6: "no change point" while the farm held out an open finding's runs);
     * a coordinator that does not send it leaves the local sentence */
    const json_t *fb = json_object_get(series, "farm_baseline");
    if (json_is_string(json_object_get(fb, "message"))) {
        json_t *next = json_deep_copy(fb);
        json_object_set_new(next, "rule", json_string("farm"));
        json_object_set_new(doc, "baseline_for_next", next);
    }
    json_object_set_new(doc, "order", json_string(by_commit ? "commit" : "time"));
    json_object_set_new(doc, "source", json_string("farm"));
    json_object_set_new(doc, "coordinator", coordinator ? json_string(coordinator) : json_null());
    json_object_set_new(doc, "host", host ? json_deep_copy(host) : json_null());
    json_object_set(doc, "python_build", json_object_get(series, "python_build"));
    json_object_set(doc, "other_series", json_object_get(series, "other_series"));
    if (stored)
        json_object_set(doc, "stored_regressions", (json_t *)stored);
    else
        json_object_set_new(doc, "stored_regressions", json_array());
    return doc;
}
