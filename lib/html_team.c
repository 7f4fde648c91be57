/*
 * html_team.c - render pyscope.team_report/1 as static HTML (see html_team.h).
 *
 * Design notes: the regression rows (one per metric) are grouped by series
 * (script, host fingerprint, Python build, kind); a group speaks through its
 * lead metric: wall time when it is among them (what a user waits for), else
 * CPU time, instructions, memory, then the worst hotspot. Groups still open
 * (new, confirmed, ack) come first, each part worst first. Numbers are
 * formatted here, every string goes through html_write_escaped(), class
 * names come from fixed lists, and the sparklines' coordinates are computed
 * here from finite numbers only.
 */
#include "html_team.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "contended.h"
#include "errors.h"
#include "flamediff.h"
#include "history.h"
#include "html_page.h"
#include "html_range.h"
#include "html_text.h"
#include "html_verdict.h"
#include "jsonutil.h"
#include "regress.h"
#include "strbuf.h"
#include "xmalloc.h"

#define TEAM_MAX_GROUPS  500  /* lines per kind; the rest is counted */
#define TEAM_MAX_WHY     5    /* functions in a group's details */
#define TEAM_OPEN_MATRIX 30   /* scripts up to which the matrix is shown unfolded */
#define TEAM_MAX_MATRIX  2000 /* matrix rows */
#define SPARK_W          150.0
#define SPARK_H          34.0

/* ---- small readers and writers ----------------------------------------------------- */

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* s escaped, or "-" when absent or empty. */
static void esc(FILE *out, const char *s)
{
    html_write_str(out, s && *s ? s : "-");
}

static void esc_field(FILE *out, const json_t *obj, const char *key)
{
    esc(out, json_get_string(obj, key, NULL));
}

static void int_field(FILE *out, const json_t *obj, const char *key)
{
    const json_t *j = json_object_get(obj, key);
    if (json_is_integer(j))
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    else
        fputs("-", out);
}

/* A signed percentage member of obj, "+12.3%", or "-" when absent. */
static void pct_field(FILE *out, const json_t *obj, const char *key)
{
    double v;
    if (json_get_finite(obj, key, &v))
        fprintf(out, "%+.1f%%", v);
    else
        fputs("-", out);
}

/* A name that may be long: one line, cut with an ellipsis, the whole of it on hover. A
 * class "path" cuts it at its start (report.css), so a script's file name stays in view;
 * the <bdi> keeps the path's own left-to-right order. */
static void long_name(FILE *out, const char *cls, const char *s)
{
    fprintf(out, "<span class=\"%s\" title=\"", cls);
    esc(out, s);
    fputs("\"><bdi>", out);
    esc(out, s);
    fputs("</bdi></span>", out);
}

/* <a href="/series/SCRIPT?host=FP"> when served; nothing for a file. */
static bool series_link_open(FILE *out, const struct html_site *site, const char *script,
                             const char *fp)
{
    if (!site || !script || !fp)
        return false;
    fputs("<a href=\"/series/", out);
    html_write_url_part(out, script);
    fputs("?host=", out);
    html_write_url_part(out, fp);
    fputs("\">", out);
    return true;
}

static void batch_ref(FILE *out, const struct html_site *site, const json_t *id)
{
    if (!json_is_integer(id)) {
        fputs("-", out);
        return;
    }
    if (site)
        fprintf(out, "<a href=\"/batch/%" JSON_INTEGER_FORMAT "\">%" JSON_INTEGER_FORMAT "</a>",
                json_integer_value(id), json_integer_value(id));
    else
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
}

/* ---- groups ------------------------------------------------------------------------- */

/* One series that regressed (or improved): its metric rows and what the page shows for it. */
struct group {
    const json_t **rows; /* its metric rows, in input order (worst first) */
    size_t n, cap;
    const json_t *lead;  /* the row that speaks for the group */
    const json_t *trend; /* sparkline data (report.trends), or NULL */
    const json_t *flame; /* flame diff (report.flames), or NULL */
    bool open;           /* state new, confirmed or ack */
};

/* Lower is more telling: wall time first, then CPU, instructions, memory, hotspots. */
int html_team_lead_rank(const json_t *g)
{
    static const char *const order[] = {"wall_s", "cpu_s", "instructions", "peak_rss_bytes"};
    const char *m = json_get_string(g, "metric", NULL);
    for (int i = 0; i < 4; i++)
        if (is(m, order[i]))
            return i;
    return 4;
}

bool html_team_row_open(const json_t *g)
{
    const char *st = json_get_string(g, "state", NULL);
    const json_t *ended = json_object_get(g, "ended_batch_id");
    return (!st || is(st, "new") || is(st, "confirmed") || is(st, "ack")) &&
           (!ended || json_is_null(ended));
}

/* "script\x1ffingerprint\x1fbuild"; new. */
static char *series_key(const char *script, const char *fp, const char *build)
{
    return xasprintf("%s\x1f%s\x1f%s", script ? script : "", fp ? fp : "", build ? build : "");
}

static double abs_change(const json_t *g)
{
    double c;
    return json_get_finite(g, "change_pct", &c) ? fabs(c) : 0;
}

static int group_cmp(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->open != y->open)
        return x->open ? -1 : 1;
    double cx = abs_change(x->lead), cy = abs_change(y->lead);
    return (cx < cy) - (cx > cy);
}

/*
 * Group the rows of list (borrowed) by series; trends and flames (borrowed,
 * the report's) are attached. Returns a new array of *n groups, sorted.
 */
static struct group *make_groups(const json_t *list, const json_t *trends, const json_t *flames,
                                 size_t *n)
{
    json_t *index = json_object(); /* series key -> group index */
    size_t cnt = 0, cap = json_array_size(list);
    struct group *gs = xcalloc(cap ? cap : 1, sizeof(*gs));
    size_t i;
    const json_t *g;
    json_array_foreach(list, i, g)
    {
        if (!json_is_object(g))
            continue;
        char *key = series_key(json_get_string(g, "script", NULL),
                               json_get_string(g, "host_fingerprint", NULL),
                               json_get_string(g, "python_build", NULL));
        const json_t *pos = json_object_get(index, key);
        struct group *gr;
        if (pos) {
            gr = &gs[json_integer_value(pos)];
        } else {
            json_object_set_new(index, key, json_integer((json_int_t)cnt));
            gr = &gs[cnt++];
        }
        free(key);
        if (gr->n == gr->cap) {
            gr->cap = gr->cap ? gr->cap * 2 : 4;
            gr->rows = xreallocarray(gr->rows, gr->cap, sizeof(*gr->rows));
        }
        gr->rows[gr->n++] = g;
        if (!gr->lead || html_team_lead_rank(g) < html_team_lead_rank(gr->lead))
            gr->lead = g;
        gr->open |= html_team_row_open(g);
    }
    json_array_foreach(trends, i, g)
    {
        char *key = series_key(json_get_string(g, "script", NULL),
                               json_get_string(g, "host_fingerprint", NULL),
                               json_get_string(g, "python_build", NULL));
        const json_t *pos = json_object_get(index, key);
        if (pos)
            gs[json_integer_value(pos)].trend = g;
        free(key);
    }
    json_array_foreach(flames, i, g)
    {
        json_int_t id = json_integer_value(json_object_get(g, "regression_id"));
        for (size_t k = 0; k < cnt; k++)
            for (size_t r = 0; r < gs[k].n; r++)
                if (json_integer_value(json_object_get(gs[k].rows[r], "id")) == id)
                    gs[k].flame = g;
    }
    json_decref(index);
    qsort(gs, cnt, sizeof(*gs), group_cmp);
    *n = cnt;
    return gs;
}

static void free_groups(struct group *gs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(gs[i].rows);
    free(gs);
}

/* ---- the sentence ---------------------------------------------------------------------- */

/* "31%" (no sign: the words say which way) into buf. */
static void size_pct(char *buf, size_t n, const json_t *g)
{
    double c = abs_change(g);
    snprintf(buf, n, c >= 10 ? "%.0f%%" : "%.1f%%", c);
}

/* Whether g's (borrowed) figures are its wall time net of waiting for a CPU. */
static bool net_of_queueing(const json_t *g)
{
    return json_is_true(json_object_get(json_object_get(g, "contention"), "net_of_queueing"));
}

/* Which metric g's (borrowed) size is, muted: "(wall time)", "(wall time, net of waiting for
 * a CPU)", "(its self time)": a series' rows differ in size (wall, net, CPU, instructions),
 * so the headline and the big number say whose size they give. */
static void metric_tag(FILE *out, const json_t *g)
{
    fputs(" <span class=\"muted metric\">(", out);
    if (json_get_string(g, "function", NULL)) {
        const char *noun = html_verdict_noun(json_get_string(g, "metric", NULL));
        fputs("its ", out);
        html_write_str(out, noun ? noun : json_get_string(g, "metric", "?"));
    } else {
        html_verdict_label(out, g, false);
    }
    if (net_of_queueing(g))
        fputs(", net of waiting for a CPU", out);
    fputs(")</span>", out);
}

/* "is <b>31% slower</b> (wall time)", "uses <b>12% more memory</b>", ... for the lead metric:
 * the words name the metric, or the tag after them does. */
static void change_phrase(FILE *out, const json_t *g, bool worse)
{
    char pct[32];
    size_pct(pct, sizeof(pct), g);
    const char *m = json_get_string(g, "metric", NULL), *cls = worse ? "bad" : "ok";
    if (is(m, "cpu_s"))
        fprintf(out, "uses <b class=\"%s\">%s %s CPU time</b>", cls, pct, worse ? "more" : "less");
    else if (is(m, "peak_rss_bytes"))
        fprintf(out, "uses <b class=\"%s\">%s %s memory</b>", cls, pct, worse ? "more" : "less");
    else if (is(m, "instructions"))
        fprintf(out, "executes <b class=\"%s\">%s %s instructions</b>", cls, pct,
                worse ? "more" : "fewer");
    else
        fprintf(out, "is <b class=\"%s\">%s %s</b>", cls, pct, worse ? "slower" : "faster");
    if (json_get_string(g, "function", NULL)) {
        fputs(" in ", out);
        html_verdict_function(out, json_get_string(g, "function", NULL));
    }
    if (!is(m, "cpu_s") && !is(m, "peak_rss_bytes") && !is(m, "instructions"))
        metric_tag(out, g);
}

/* A metric's short name and a space ("wall ", "CPU ", "instructions "): wall time when unnamed. */
static void short_metric(FILE *out, const char *metric)
{
    const char *noun = html_verdict_noun(metric);
    if (!metric || is(metric, "wall_s"))
        noun = "wall";
    else if (is(metric, "cpu_s"))
        noun = "CPU";
    else if (!noun)
        noun = metric;
    html_write_str(out, noun);
    fputc(' ', out);
}

/*
 * The run the headline names (borrowed): that of the finding's first night (first_run,
 * coordinator/report.c), else its candidate run; *later (borrowed) that run's batch when it
 * is not the first night's (a row dated on the first night of the change it joined whose
 * first night's run is unknown), else NULL.
 */
static const char *since_run(const json_t *g, const json_t **later)
{
    const char *first = json_get_string(g, "first_run", NULL);
    const json_t *cb = json_object_get(g, "candidate_batch_id");
    *later = NULL;
    if (first)
        return first;
    if (json_is_integer(cb) &&
        json_integer_value(cb) != json_integer_value(json_object_get(g, "batch_id")))
        *later = cb;
    return json_get_string(g, "candidate_run", NULL);
}

/* "since night 5 (commits c4 → c5, run 1a2b3c4d)": night 5's run; "run 5e6f7a8b of batch 6"
 * when only a later night's is known. */
static void since_phrase(FILE *out, const struct html_site *site, const json_t *g)
{
    const char *label = json_get_string(g, "batch_label", NULL);
    fputs(" since ", out);
    if (label && *label) {
        html_write_str(out, label);
    } else {
        fputs("batch ", out);
        batch_ref(out, site, json_object_get(g, "batch_id"));
    }
    const char *bad = json_get_string(g, "batch_commit", NULL),
               *good = json_get_string(g, "good_commit", NULL);
    const json_t *run_batch;
    const char *run = since_run(g, &run_batch);
    /* the nights ran commits: their range (docs/revisions.md), in full in the details */
    const json_t *range = json_object_get(g, "range");
    const char *rgood = json_get_string(json_object_get(range, "good"), "hash", NULL);
    const char *rbad = json_get_string(json_object_get(range, "bad"), "hash", NULL);
    const json_t *between = json_object_get(range, "commits");
    if (rgood && rbad) {
        good = rgood;
        bad = rbad;
    }
    bool paren = (bad && *bad) || run;
    if (paren)
        fputs(" <span class=\"muted\">(", out);
    if (rgood && rbad) {
        fputs("commits <code title=\"", out);
        html_write_str(out, good);
        fputs("\">", out);
        html_write_escaped(out, good, strnlen(good, 12));
        fputs("</code> \xe2\x86\x92 <code title=\"", out);
        html_write_str(out, bad);
        fputs("\">", out);
        html_write_escaped(out, bad, strnlen(bad, 12));
        fputs("</code>", out);
        if (json_is_integer(between))
            fprintf(out, ", %s%" JSON_INTEGER_FORMAT " in the range",
                    json_is_true(json_object_get(range, "exact")) ? "" : "at least ",
                    json_integer_value(between));
        /* its bisection (coordinator/bisection.c): the culprit, or how it stands */
        const json_t *bis = json_object_get(g, "bisection");
        const char *culprit = json_get_string(json_object_get(bis, "culprit"), "hash", NULL);
        if (culprit) {
            fputs(", culprit <code title=\"", out);
            html_write_str(out, culprit);
            fputs("\">", out);
            html_write_escaped(out, culprit, strnlen(culprit, 12));
            fputs("</code> (bisected)", out);
        } else if (json_is_object(bis)) {
            fputs(", bisection: ", out);
            html_write_str(out, json_get_string(bis, "state", NULL)
                                    ? json_get_string(bis, "state", NULL)
                                    : "?");
        }
    } else if (good && *good && bad && *bad && strcmp(good, bad) != 0) {
        fputs("commits <code>", out);
        html_write_str(out, good);
        fputs("</code> \xe2\x86\x92 <code>", out);
        html_write_str(out, bad);
        fputs("</code>", out);
    } else if (bad && *bad) {
        fputs("commit <code>", out);
        html_write_str(out, bad);
        fputs("</code>", out);
    }
    if (run) {
        fputs(bad && *bad ? ", run " : "run ", out);
        fputs("<code title=\"", out);
        html_write_str(out, run);
        fputs("\">", out);
        html_write_escaped(out, run, strnlen(run, 8));
        fputs("</code>", out);
        if (run_batch) {
            fputs(" of batch ", out);
            batch_ref(out, site, run_batch);
        }
    }
    if (paren)
        fputs(")</span>", out);
    const json_t *nights = json_object_get(g, "nights");
    if (json_is_integer(nights) && json_integer_value(nights) > 1) {
        fprintf(out, ", still there after %" JSON_INTEGER_FORMAT " nights (latest batch ",
                json_integer_value(nights));
        batch_ref(out, site, json_object_get(g, "last_batch_id"));
        fputs(")", out);
    }
}

char *html_team_confirmation_text(const json_t *c, const json_t *finding)
{
    const char *metric = json_get_string(finding, "metric", NULL);
    const char *method = json_get_string(c, "method", NULL);
    bool inter = is(method, "interleaved");
    if (inter || is(method, "bracketed")) {
        const char *ref = json_get_string(c, "reference", NULL);
        const char *how = inter ? "interleaved with" : "bracketed by";
        double dc = json_get_number(c, "drift_cpu_pct", NAN);
        if (!ref || !*ref)
            ref = "the reference script";
        if (is(metric, "instructions")) {
            /* a threaded script's counts vary with the load (lib/regress.c says so first) */
            const char *reason = json_get_string(finding, "reason", "");
            const char *threads = HISTORY_INSTRUCTIONS_THREADS_REASON;
            if (strncmp(reason, threads, strlen(threads)) == 0)
                return xasprintf("%s %s; instruction counts, not exact (the script ran several "
                                 "Python threads), no drift to divide out",
                                 how, ref);
            return xasprintf("%s %s; instruction counts are exact, no drift to divide out", how,
                             ref);
        }
        if (!isfinite(dc))
            return xasprintf("%s %s", how, ref);
        return xasprintf("%s %s, the machine's CPU drift %+.1f%% divided out", how, ref, dc);
    }
    if (is(method, "re-run") || is(method, "none")) {
        const char *why = json_get_string(c, "why", NULL);
        return xasprintf("%s: %s", is(method, "none") ? "not re-run" : "a plain re-run",
                         why && *why ? why : "no reference");
    }
    return NULL;
}

/* Append name (borrowed: "within_noise") to sb as words ("within noise"). */
static void add_words(struct strbuf *sb, const char *name)
{
    for (const char *p = name; *p; p++)
        strbuf_addc(sb, *p == '_' ? ' ' : *p);
}

char *html_team_times_text(const json_t *g)
{
    const json_t *times = json_object_get(g, "times");
    if (!json_array_size(times))
        return NULL;
    struct strbuf sb = {0};
    strbuf_adds(&sb, "in time: ");
    size_t i;
    const json_t *t;
    json_array_foreach(times, i, t)
    {
        double c;
        const char *v = json_get_string(t, "verdict", NULL),
                   *rule = json_get_string(t, "rule", NULL);
        strbuf_addf(&sb, "%s%s", i ? ", " : "",
                    is(json_get_string(t, "metric", NULL), "cpu_s") ? "CPU time" : "wall time");
        if (json_get_finite(t, "change_pct", &c))
            strbuf_addf(&sb, " %+.1f%%", c);
        if (json_is_true(json_object_get(t, "net_of_queueing")))
            strbuf_adds(&sb, " net of waiting for a CPU");
        strbuf_adds(&sb, " (");
        add_words(&sb, v ? v : "no verdict");
        /* the rule says why a time got no verdict ("within_noise": "within noise") */
        if (rule && !is(v, "regression") && !is(v, "improvement") && !is(v, "no_change")) {
            strbuf_adds(&sb, ": ");
            add_words(&sb, rule);
        }
        strbuf_addc(&sb, ')');
    }
    return strbuf_take(&sb);
}

char *html_team_ended_text(const json_t *g)
{
    const json_t *ended = json_object_get(g, "ended_batch_id");
    if (!json_is_integer(ended))
        return NULL;
    const char *label = json_get_string(g, "ended_batch_label", NULL);
    if (label && *label)
        return xasprintf("ended with %s (batch %" JSON_INTEGER_FORMAT ")", label,
                         json_integer_value(ended));
    return xasprintf("ended with batch %" JSON_INTEGER_FORMAT, json_integer_value(ended));
}

/* "; bracketed by REF, the machine's CPU drift +25.2% divided out", "; a plain re-run: WHY"
 * (html_team_confirmation_text, escaped). */
static void confirm_phrase(FILE *out, const json_t *g)
{
    char *text = html_team_confirmation_text(json_object_get(g, "confirmation"), g);
    if (text) {
        fputs("; ", out);
        html_write_str(out, text);
        free(text);
    }
}

/* "confirmed (2 runs)", "acknowledged", ...: the triage state in words. */
static void state_phrase(FILE *out, const json_t *g)
{
    const char *st = json_get_string(g, "state", NULL);
    const json_t *cr = json_object_get(g, "confirm_runs");
    fputs("<span class=\"state\">", out);
    if (is(st, "confirmed") && json_is_integer(cr)) {
        fprintf(out, "confirmed (%" JSON_INTEGER_FORMAT " runs", json_integer_value(cr));
        confirm_phrase(out, g);
        fputs(")", out);
    } else if (is(st, "ack"))
        fputs("acknowledged", out);
    else if (is(st, "expected") || is(st, "fixed") || is(st, "invalid"))
        fprintf(out, "marked %s", st);
    else if (is(st, "new") && is(json_get_string(g, "mode", NULL), "threshold"))
        fputs("new, judged by size (too few runs for a test)", out);
    else
        esc(out, st);
    /* an ended finding is no longer open, whatever its triage says: when it ended */
    char *ended = html_team_ended_text(g);
    if (ended) {
        fputs(", <b class=\"ended\">", out);
        html_write_str(out, ended);
        fputs("</b>", out);
        free(ended);
    }
    fputs("</span>", out);
}

/* "; slow explains 94%" from the group's why (the lead's, else any row's). */
static void why_phrase(FILE *out, const struct group *gr)
{
    const json_t *fns = json_object_get(json_object_get(gr->lead, "why"), "functions");
    for (size_t r = 0; !json_array_size(fns) && r < gr->n; r++)
        fns = json_object_get(json_object_get(gr->rows[r], "why"), "functions");
    const json_t *f = json_array_get(fns, 0);
    double share;
    if (f && json_get_string(f, "key", NULL)) {
        fputs("; ", out);
        html_verdict_function(out, json_get_string(f, "key", NULL));
        if (json_get_finite(f, "share_pct", &share))
            fprintf(out, " explains %.0f%%", share);
        else
            fputs(" changed most", out);
    }
    static const char *const flags[][2] = {{"script_changed", "the script itself changed"},
                                           {"python_changed", "the Python build changed"},
                                           {"host_changed", "the host changed"},
                                           {"mode_changed", "the profiling mode changed"}};
    const json_t *why = json_object_get(gr->lead, "why");
    for (size_t k = 0; k < 4; k++)
        if (json_is_true(json_object_get(gr->lead, flags[k][0])) ||
            json_is_true(json_object_get(why, flags[k][0])))
            fprintf(out, "; <b class=\"warn\">%s</b>", flags[k][1]);
}

static void sentence(FILE *out, const struct html_site *site, const struct group *gr, bool worse)
{
    const json_t *g = gr->lead;
    const char *script = json_get_string(g, "script", NULL),
               *fp = json_get_string(g, "host_fingerprint", NULL);
    fputs("<p class=\"say\">", out);
    bool link = series_link_open(out, site, script, fp);
    long_name(out, "name script path", script);
    if (link)
        fputs("</a>", out);
    fputs(" ", out);
    change_phrase(out, g, worse);
    fputs(" on ", out);
    fputs("<span class=\"name host\" title=\"", out);
    esc_field(out, g, "host");
    fputs(" \xc2\xb7 ", out);
    esc(out, fp);
    fputs(" \xc2\xb7 ", out);
    esc_field(out, g, "python_build");
    fputs("\">", out);
    esc_field(out, g, "host");
    fputs("</span>", out);
    since_phrase(out, site, g);
    fputs(", ", out);
    state_phrase(out, g);
    if (worse)
        why_phrase(out, gr);
    fputs(".</p>\n", out);
}

/* Below the line: what decided it, when not plainly the wall time, and a busy machine. */
static void say_more(FILE *out, const struct group *gr)
{
    const json_t *g = gr->lead;
    const json_t *decision = json_object_get(g, "decision");
    bool other = json_is_string(json_object_get(decision, "metric")) &&
                 !is(json_get_string(decision, "metric", NULL), "wall_s");
    const json_t *wall = NULL;
    for (size_t r = 0; r < gr->n && !wall; r++)
        if (is(json_get_string(gr->rows[r], "metric", NULL), "wall_s"))
            wall = gr->rows[r];
    bool busy = html_verdict_contended(wall ? wall : g);
    /* a finding on instruction counts or memory: what the times did (no row of their own) */
    char *times = wall ? NULL : html_team_times_text(g);
    if (other || busy || times) {
        fputs("<p class=\"say-more\">", out);
        if (times) {
            fputs("I", out); /* a sentence: "In time: wall time +21.9% ..." */
            html_write_str(out, times + 1);
            fputs(".", out);
        }
        if (other) {
            fputs(times ? " " : "", out);
            html_verdict_decision(out, decision);
        }
        if (busy) {
            fputs(other || times ? " " : "", out);
            html_verdict_contention(out, wall ? wall : g);
        }
        fputs("</p>\n", out);
    }
    free(times);
}

/* ---- the sparkline ------------------------------------------------------------------------ */

/* The column of a trend point for metric: [t, batch, wall, cpu, rss]. */
static size_t trend_column(const char *metric, const char **noun)
{
    if (is(metric, "cpu_s")) {
        *noun = "CPU time";
        return 3;
    }
    if (is(metric, "peak_rss_bytes")) {
        *noun = "peak memory";
        return 4;
    }
    *noun = "wall time";
    return 2;
}

static void sparkline(FILE *out, const struct group *gr, bool worse)
{
    const json_t *pts = json_object_get(gr->trend, "points");
    const char *noun;
    size_t col = trend_column(json_get_string(gr->lead, "metric", NULL), &noun);
    size_t n = json_array_size(pts), m = 0;
    double *x = xcalloc(n ? n : 1, sizeof(*x));
    json_int_t *batch = xcalloc(n ? n : 1, sizeof(*batch));
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(pts, i);
        const json_t *v = json_array_get(p, col);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            continue;
        x[m] = json_number_value(v);
        batch[m] = json_integer_value(json_array_get(p, 1));
        lo = fmin(lo, x[m]);
        hi = fmax(hi, x[m]);
        m++;
    }
    if (m < 2) {
        fputs("<span class=\"spark none muted\">no trend</span>", out);
        free(x);
        free(batch);
        return;
    }
    /* the change: the first run of the batch that found it */
    json_int_t first_bad = json_integer_value(json_object_get(gr->lead, "batch_id"));
    size_t cp = m;
    for (size_t i = 0; i < m; i++)
        if (batch[i] >= first_bad) {
            cp = i;
            break;
        }
    double pad = (hi - lo) * 0.1;
    if (!(pad > 0))
        pad = fabs(hi) * 0.05 + 1e-9;
    lo -= pad;
    hi += pad;
    const double L = 3, R = 3, T = 3, B = 3;
    double pw = SPARK_W - L - R, ph = SPARK_H - T - B;
#define SX(i) (L + pw * (double)(i) / (double)(m - 1))
#define SY(v) (T + ph * (1 - ((v)-lo) / (hi - lo)))
    const char *unit = json_get_string(gr->lead, "metric", NULL) &&
                               is(json_get_string(gr->lead, "metric", NULL), "peak_rss_bytes")
                           ? "bytes"
                           : "s";
    char a[48], b[48];
    html_verdict_value(a, sizeof(a), x[0], unit);
    html_verdict_value(b, sizeof(b), x[m - 1], unit);
    fprintf(out,
            "<svg class=\"spark\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s, newest "
            "%zu runs\"><title>%s of the newest %zu runs: %s first, %s last",
            SPARK_W, SPARK_H, noun, m, noun, m, a, b);
    if (cp < m) {
        fputs("; the change starts at ", out);
        const char *label = json_get_string(gr->lead, "batch_label", NULL);
        html_write_str(out, label && *label ? label : "its batch");
    }
    fputs("</title>", out);
    if (cp > 0 && cp < m)
        fprintf(out, "<line class=\"cp\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" y2=\"%.0f\"/>",
                (SX(cp - 1) + SX(cp)) / 2, (SX(cp - 1) + SX(cp)) / 2, SPARK_H);
    fputs("<polyline class=\"base\" points=\"", out);
    for (size_t i = 0; i < m && i < cp + 1; i++)
        fprintf(out, "%.1f,%.1f ", SX(i), SY(x[i]));
    fputs("\"/>", out);
    if (cp < m) {
        fprintf(out, "<polyline class=\"%s\" points=\"", worse ? "worse" : "better");
        for (size_t i = cp ? cp - 1 : 0; i < m; i++)
            fprintf(out, "%.1f,%.1f ", SX(i), SY(x[i]));
        fputs("\"/>", out);
    }
    fprintf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/></svg>",
            cp < m ? (worse ? "worse" : "better") : "base", SX(m - 1), SY(x[m - 1]));
#undef SX
#undef SY
    free(x);
    free(batch);
}

/* The big change and its interval. */
static void interval(FILE *out, const json_t *g, bool worse)
{
    double c;
    char ci[96];
    fprintf(out, "<div class=\"ci\"><b class=\"%s\">", worse ? "bad" : "ok");
    if (json_get_finite(g, "change_pct", &c))
        fprintf(out, fabs(c) >= 10 ? "%+.0f%%" : "%+.1f%%", c);
    else
        fputs("?", out);
    html_verdict_ci(ci, sizeof(ci), g);
    fputs("</b><span class=\"muted\">", out);
    html_verdict_label(out, g, false); /* whose change this is */
    if (net_of_queueing(g))
        fputs(" net of waiting", out);
    fprintf(out, ", %s%s</span></div>", ci[0] ? "95% CI " : "no interval", ci);
}

/* ---- the details of a group ------------------------------------------------------------ */

static int row_cmp(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int rx = html_team_lead_rank(x), ry = html_team_lead_rank(y);
    if (rx != ry)
        return rx - ry;
    double cx = abs_change(x), cy = abs_change(y);
    return (cx < cy) - (cx > cy);
}

static void metric_rows(FILE *out, const struct group *gr)
{
    qsort(gr->rows, gr->n, sizeof(*gr->rows), row_cmp);
    html_table_open(out, "class=\"metrics\"",
                    "Metric|#Baseline|#Now|#Change|#95% CI|#p|#q|#Noise|State|#Id");
    for (size_t r = 0; r < gr->n; r++) {
        const json_t *g = gr->rows[r];
        double v;
        fputs("<tr data-id=\"", out);
        int_field(out, g, "id");
        fputs("\"><td>", out);
        html_verdict_label(out, g, true);
        if (net_of_queueing(g)) /* its own metric, not the raw wall time */
            fputs(" <span class=\"note\">(net of waiting for a CPU)</span>", out);
        fputs("</td>", out);
        html_verdict_cells(out, g);
        fputs("<td class=\"num\">", out);
        if (json_get_finite(g, "q_value", &v))
            fprintf(out, v < 0.001 ? "%.1e" : "%.3f", v);
        else
            fputs("<span class=\"muted\" title=\"judged by size: no test\">-</span>", out);
        fputs("</td><td class=\"num\">", out);
        if (json_get_finite(g, "noise_pct", &v))
            fprintf(out, "%.1f%%", v);
        fputs("</td><td>", out);
        state_phrase(out, g);
        fputs("</td><td class=\"num\">", out);
        int_field(out, g, "id");
        fputs("</td></tr>\n", out);
    }
    html_table_close(out);
    fputs("\n", out);
}

/*
 * A list of functions with their change of self time: with moved, the time before and after
 * (compare-pythons' functions), else the share of the change they explain (a "why").
 */
static void function_list(FILE *out, const json_t *fns, bool moved)
{
    fputs("<ul class=\"why\">", out);
    size_t i;
    const json_t *f;
    json_array_foreach(fns, i, f)
    {
        if (i == TEAM_MAX_WHY)
            break;
        double d, share, b, c;
        char buf[32], bb[32], cb[32];
        fputs("<li>", out);
        html_verdict_function(out, json_get_string(f, "key", NULL));
        if (json_get_finite(f, "delta_s", &d)) {
            html_fmt_secs(buf, sizeof(buf), fabs(d));
            fprintf(out, " %s%s", d < 0 ? "\xe2\x88\x92" : "+", buf);
        }
        if (moved && json_get_finite(f, "base_s", &b) && json_get_finite(f, "self_s", &c)) {
            html_fmt_secs(bb, sizeof(bb), b);
            html_fmt_secs(cb, sizeof(cb), c);
            fprintf(out, " (%s \xe2\x86\x92 %s)", bb, cb);
        } else if (!moved && json_get_finite(f, "share_pct", &share)) {
            fprintf(out, " (%.0f%% of the change)", share);
        }
        fputs(" <span class=\"muted\">", out);
        html_write_str(out, json_get_string(f, "key", NULL));
        fputs("</span></li>", out);
    }
    if (json_array_size(fns) > TEAM_MAX_WHY)
        fprintf(out, "<li class=\"muted\">and %zu more</li>", json_array_size(fns) - TEAM_MAX_WHY);
    fputs("</ul>\n", out);
}

static void why_list(FILE *out, const json_t *why)
{
    const json_t *fns = json_object_get(why, "functions");
    /* a sampled profile too coarse to tell a function from noise says so (lib/regress.c) */
    const char *too_few = json_get_string(json_object_get(why, "too_few_samples"), "note", NULL);
    if (too_few) {
        fputs("<p>The functions: ", out);
        esc(out, too_few);
        fputs(".</p>\n", out);
    }
    if (!json_array_size(fns))
        return;
    /* the basis the "why" was decided on (lib/regress.h): self time, CPU self time, the
     * instruction count's shares */
    fprintf(out, "<p>The functions that explain it (%s, now against the baseline):</p>\n",
            regress_why_basis_text(json_get_string(why, "basis", NULL)));
    function_list(out, fns, false);
}

/* Why each metric got its verdict: its rule and reason, in the table's order. */
static void reasons(FILE *out, const struct group *gr)
{
    size_t shown = 0;
    for (size_t r = 0; r < gr->n; r++) {
        const json_t *g = gr->rows[r];
        if (!json_get_string(g, "reason", NULL) && !json_get_string(g, "rule", NULL))
            continue;
        fputs(shown++ ? "" : "<p>Why each verdict:</p>\n<ul class=\"reasons\">", out);
        fputs("<li>", out);
        html_verdict_label(out, g, true);
        fputs(": ", out);
        html_verdict_reason(out, g);
        fputs("</li>", out);
    }
    if (shown)
        fputs("</ul>\n", out);
}

static void details(FILE *out, const struct group *gr, bool worse, size_t index)
{
    fprintf(out, "<details><summary>Details: %zu metric%s", gr->n, gr->n == 1 ? "" : "s");
    if (worse && gr->flame)
        fputs(", flame graph diff", out);
    fputs(", triage</summary>\n<div class=\"detail\">\n", out);
    metric_rows(out, gr);
    const json_t *range = json_object_get(gr->lead, "range");
    if (json_is_object(range)) {
        /* which commits: the last good, the first bad, how many between (docs/revisions.md) */
        fputs("<div class=\"commits\">", out);
        html_range_write(out, range);
        html_bisection_write(out, json_object_get(gr->lead, "bisection"));
        fputs("</div>\n", out);
    }
    reasons(out, gr);
    if (worse)
        why_list(out, json_object_get(gr->lead, "why"));
    if (worse && gr->flame) {
        char err[128], id[40];
        struct flame_diff *fd = flame_diff_from_json(gr->flame, err, sizeof(err));
        if (fd) {
            snprintf(id, sizeof(id), "fdiff-%zu", index + 1);
            fputs("<p>Where the time went, newest runs against the baseline's:</p>\n", out);
            flame_diff_write_svg(out, fd, id);
            flame_diff_destroy(&fd);
        }
    }
    for (size_t r = 0; r < gr->n; r++) {
        const char *note = json_get_string(gr->rows[r], "note", NULL);
        if (note && *note) {
            fputs("<p class=\"note-text\">Note: ", out);
            html_write_str(out, note);
            fputs("</p>\n", out);
            break;
        }
    }
    fputs("<p class=\"note\">Triage: <code>pyscope triage ID ack|expected|fixed|invalid "
          "[--note TEXT]</code> with ID from the table; <em>expected</em> makes this the "
          "series' new baseline.</p>\n</div></details>\n",
          out);
}

/* The li's data attributes: what tests and scripts read (escaped). */
static void data_attrs(FILE *out, const struct group *gr)
{
    static const char *const keys[][2] = {{"script", "data-script"},
                                          {"host", "data-host"},
                                          {"metric", "data-metric"},
                                          {"state", "data-state"}};
    for (size_t k = 0; k < 4; k++) {
        fprintf(out, " %s=\"", keys[k][1]);
        html_write_str(out, json_get_string(gr->lead, keys[k][0], NULL));
        fputs("\"", out);
    }
    fputs(" data-batch=\"", out);
    int_field(out, gr->lead, "batch_id");
    fputs("\" data-why=\"", out);
    const json_t *f =
        json_array_get(json_object_get(json_object_get(gr->lead, "why"), "functions"), 0);
    html_write_str(out, json_get_string(f, "key", NULL));
    fputs("\"", out);
}

/* How many of a list there are in all: the report's total (the list may stop at its limit). */
static size_t list_total(const json_t *rep, const char *key, size_t shown)
{
    const json_t *t = json_object_get(rep, key);
    return json_is_integer(t) && json_integer_value(t) > (json_int_t)shown
               ? (size_t)json_integer_value(t)
               : shown;
}

/* The report's totals of one kind ("regressions", "improvements"): every finding, not
 * only the listed ones (the list holds the worst `limit` series). */
struct totals {
    size_t metrics, series, hosts, open;
};

/* How many series and hosts a list's groups cover. */
static void count_series(const json_t *list, size_t *series, size_t *hosts, size_t *open)
{
    json_t *s = json_object(), *h = json_object(), *o = json_object();
    size_t i;
    const json_t *g;
    json_array_foreach(list, i, g)
    {
        char *key = series_key(json_get_string(g, "script", NULL),
                               json_get_string(g, "host_fingerprint", NULL),
                               json_get_string(g, "python_build", NULL));
        json_object_set_new(s, key, json_true());
        if (html_team_row_open(g))
            json_object_set_new(o, key, json_true());
        free(key);
        const char *fp = json_get_string(g, "host_fingerprint", NULL);
        json_object_set_new(h, fp ? fp : "", json_true());
    }
    *series = json_object_size(s);
    *hosts = json_object_size(h);
    *open = json_object_size(o);
    json_decref(s);
    json_decref(h);
    json_decref(o);
}

static struct totals kind_totals(const json_t *rep, const char *kind)
{
    const json_t *list = json_object_get(rep, kind);
    size_t s, h, o;
    count_series(list, &s, &h, &o);
    char key[48];
    struct totals t;
    snprintf(key, sizeof(key), "%s_total", kind);
    t.metrics = list_total(rep, key, json_array_size(list));
    snprintf(key, sizeof(key), "%s_series_total", kind);
    t.series = list_total(rep, key, s);
    snprintf(key, sizeof(key), "%s_hosts_total", kind);
    t.hosts = list_total(rep, key, h);
    /* still open: the coordinator's count when it gives one (it counts every finding and
     * knows which ended), even when it is below the list's */
    snprintf(key, sizeof(key), "%s_open_total", kind);
    const json_t *open = json_object_get(rep, key);
    t.open = json_is_integer(open) && json_integer_value(open) >= 0
                 ? (size_t)json_integer_value(open)
                 : o;
    return t;
}

/*
 * One section of groups (list: the report's metric rows of the worst series, each
 * series whole; tot: how many there are in all).
 */
static void write_groups(FILE *out, const struct html_site *site, const char *id, const char *title,
                         const json_t *list, struct totals tot, const json_t *trends,
                         const json_t *flames, bool worse)
{
    size_t n;
    struct group *gs = make_groups(list, trends, flames, &n);
    fprintf(out, "<section id=\"%s\">\n<h2>%s (%zu)</h2>\n", id, title,
            tot.series > n ? tot.series : n);
    if (tot.series > n)
        fprintf(out,
                "<p class=\"more\" id=\"%s-more\">Showing the worst %zu of %zu series "
                "(%zu metric%s changed in all); %zu more: <code>pyscope report --limit N</code> "
                "lists up to 1000 series, <code>--json</code> gives them to a script.</p>\n",
                id, n, tot.series, tot.metrics, tot.metrics == 1 ? "" : "s", tot.series - n);
    else if (tot.metrics > json_array_size(list))
        fprintf(out,
                "<p class=\"more\" id=\"%s-more\">%zu metrics changed; each series' details "
                "list its whole-script metrics and its worst functions, %zu in all "
                "(<code>--json</code> gives the same).</p>\n",
                id, tot.metrics, json_array_size(list));
    if (n == 0) {
        fprintf(out, "<p class=\"muted\">%s</p>\n</section>\n",
                worse ? "Nothing got slower." : "Nothing got faster.");
        free_groups(gs, n);
        return;
    }
    fprintf(out, "<ol class=\"changes %s\">\n", worse ? "worse" : "better");
    for (size_t i = 0; i < n && i < TEAM_MAX_GROUPS; i++) {
        fprintf(out, "<li class=\"change %s%s\"", worse ? "regression" : "improvement",
                gs[i].open ? "" : " closed");
        data_attrs(out, &gs[i]);
        fputs(">\n<div class=\"line\">", out);
        sentence(out, site, &gs[i], worse);
        sparkline(out, &gs[i], worse);
        interval(out, gs[i].lead, worse);
        say_more(out, &gs[i]);
        fputs("</div>\n", out);
        details(out, &gs[i], worse, i);
        fputs("</li>\n", out);
    }
    fputs("</ol>\n", out);
    if (n > TEAM_MAX_GROUPS)
        fprintf(out, "<p class=\"note\">and %zu more series (the report shows the worst %d).</p>\n",
                n - TEAM_MAX_GROUPS, TEAM_MAX_GROUPS);
    fputs("</section>\n", out);
    free_groups(gs, n);
}

/* ---- the rest of the page ----------------------------------------------------------------- */

static bool any_commit(const json_t *batches)
{
    size_t i;
    const json_t *b;
    json_array_foreach(batches, i, b)
    {
        const char *c = json_get_string(b, "commit", NULL);
        if (c && *c)
            return true;
    }
    return false;
}

static void write_batches(FILE *out, const struct html_site *site, const json_t *batches)
{
    fprintf(out, "<section id=\"batches\">\n<h2>Batches (%zu)</h2>\n", json_array_size(batches));
    if (json_array_size(batches) == 0) {
        fputs("<p class=\"muted\">No batch in this window.</p>\n</section>\n", out);
        return;
    }
    bool commits = any_commit(batches);
    bool counts = json_is_integer(json_object_get(json_array_get(batches, 0), "regressions"));
    bool series = json_is_integer(json_object_get(json_array_get(batches, 0), "series"));
    html_table_head(out, "id=\"batch-table\"",
                    commits ? "#Batch|Suite|Label|Commit" : "#Batch|Suite|Label");
    html_table_cols(out, "Finished|State|#Jobs|#Failed|#Runs");
    html_table_cols(out, series ? "#Series" : NULL);
    html_table_cols(out, counts ? "#Slower|#Faster" : NULL);
    html_table_body(out);
    size_t i;
    const json_t *b;
    json_array_foreach(batches, i, b)
    {
        fputs("<tr><td class=\"num\">", out);
        batch_ref(out, site, json_object_get(b, "id"));
        fputs("</td><td>", out);
        long_name(out, "cut", json_get_string(b, "suite", NULL));
        fputs("</td><td>", out);
        long_name(out, "cut", json_get_string(b, "label", NULL));
        if (commits) {
            fputs("</td><td>", out);
            long_name(out, "cut mono", json_get_string(b, "commit", NULL));
        }
        fputs("</td><td>", out);
        html_write_short_time(out, json_get_string(b, "finished", NULL));
        fputs("</td><td>", out);
        esc_field(out, b, "state");
        fputs(json_is_true(json_object_get(b, "analyzed")) ? ", analysed" : "", out);
        fputs("</td><td class=\"num\">", out);
        int_field(out, b, "jobs");
        fputs("</td><td class=\"num\">", out);
        const json_t *failed = json_object_get(b, "jobs_failed");
        if (json_is_integer(failed) && json_integer_value(failed) > 0)
            fprintf(out, "<span class=\"bad\">%" JSON_INTEGER_FORMAT "</span>",
                    json_integer_value(failed));
        else
            int_field(out, b, "jobs_failed");
        fputs("</td><td class=\"num\">", out);
        int_field(out, b, "runs");
        if (series) {
            fputs("</td><td class=\"num\">", out);
            int_field(out, b, "series");
        }
        if (counts) {
            json_int_t slower = json_integer_value(json_object_get(b, "regressions"));
            fprintf(out, "</td><td class=\"num%s\">", slower ? " bad" : "");
            int_field(out, b, "regressions");
            fputs("</td><td class=\"num\">", out);
            int_field(out, b, "improvements");
        }
        fputs("</td></tr>\n", out);
    }
    html_table_close(out);
    fputs("\n</section>\n", out);
}

int html_team_write_batches(FILE *out, const json_t *batches, const struct html_site *site,
                            char *err, size_t errlen)
{
    if (!json_is_array(batches)) {
        pyscope_set_err(err, errlen, "the batch list is not an array");
        return -PYSCOPE_ESCHEMA;
    }
    struct html_page page = {.title = "PyScope batches", .site = site};
    html_page_open(out, &page);
    html_page_header(out, "batches");
    fputs("</header>\n<main class=\"team\">\n", out);
    write_batches(out, site, batches);
    fputs("<p class=\"note\">Newest first. Slower and faster count the series a batch found "
          "(or found again) regressed or improved; each batch links to its report.</p>\n"
          "</main>\n",
          out);
    html_page_close(out, &page);
    if (ferror(out)) {
        pyscope_set_err(err, errlen, "could not write the page");
        return -EIO;
    }
    return 0;
}

/* cells (borrowed) indexed by host, then script: {host: {script: cell}} (new). */
static json_t *index_cells(const json_t *cells)
{
    json_t *index = json_object();
    size_t i;
    const json_t *c;
    json_array_foreach(cells, i, c)
    {
        const char *s = json_get_string(c, "script", NULL), *h = json_get_string(c, "host", NULL);
        if (!s || !h)
            continue;
        json_t *by_script = json_object_get(index, h);
        if (by_script == NULL)
            json_object_set_new_nocheck(index, h, by_script = json_object());
        if (json_object_get(by_script, s) == NULL) /* the first one, as a linear search */
            json_object_set_nocheck(by_script, s, (json_t *)c);
    }
    return index;
}

/*
 * The rest of a flagged matrix cell's <td> (borrowed cell, after its class) up to its level:
 * a title naming its finding (the metric that decided, its change, since when, its id) and
 * the series' median wall time before the finding, shown before the level since it
 * ("2.894 s \u2192 3.594 s").
 */
static void flagged_cell(FILE *out, const json_t *cell, const char *status)
{
    const json_t *f = json_object_get(cell, "finding");
    const char *noun = html_verdict_noun(json_get_string(f, "metric", NULL));
    double before;
    char b[48] = "";
    bool has_before = json_get_finite(f, "median_wall_s_before", &before);
    if (has_before)
        html_fmt_secs(b, sizeof(b), before);
    fprintf(out, " title=\"%s", status);
    if (json_is_object(f)) {
        fputs(" ", out);
        pct_field(out, f, "change_pct");
        fprintf(out, " in %s since batch ", noun ? noun : "a metric");
        int_field(out, f, "since_batch_id");
        fputs(" (finding ", out);
        int_field(out, f, "id");
        fputs(")", out);
        double bm, cm;
        if (json_get_finite(f, "baseline_median", &bm) &&
            json_get_finite(f, "candidate_median", &cm)) {
            char vb[48], vc[48];
            html_verdict_value(vb, sizeof(vb), bm, html_verdict_unit(f));
            html_verdict_value(vc, sizeof(vc), cm, html_verdict_unit(f));
            fputs(": ", out);
            html_write_str(out, vb);
            fputs(" \xe2\x86\x92 ", out);
            html_write_str(out, vc);
        }
        if (has_before) {
            fputs("; median wall time before it (", out);
            int_field(out, f, "runs_before");
            fputs(" runs) \xe2\x86\x92 since it (", out);
            int_field(out, cell, "runs");
            fputs(" runs)", out);
        }
    }
    fputs("\">", out);
    if (has_before)
        fprintf(out, "<span class=\"muted before\">%s \xe2\x86\x92</span> ", b);
}

/* A matrix cell's (borrowed) label when its runs' wall time was contaminated by waiting for
 * a CPU (queued_pct >= CONTENDED_WALL_PCT, lib/contended.h): the machine's load is in it. */
static void cell_queued(FILE *out, const json_t *cell)
{
    double q;
    if (!json_get_finite(cell, "queued_pct", &q) || q < CONTENDED_WALL_PCT)
        return;
    fprintf(out,
            " <span class=\"label queued\" title=\"its runs waited for a CPU %.0f%% of their wall "
            "time: the machine's load is in this level\">(%.0f%% waiting for a CPU)</span>",
            q, q);
}

/* The hosts of the matrix that are one machine (shared, borrowed: the matrix's
 * "shared_machines"): their columns differ by their load, not their hardware. */
static void write_shared_machines(FILE *out, const json_t *shared)
{
    size_t i, k;
    const json_t *g, *h;
    json_array_foreach(shared, i, g)
    {
        fputs("<p class=\"note shared-machine\">", out);
        json_array_foreach(json_object_get(g, "hosts"), k, h)
        {
            fputs(k == 0                                                  ? ""
                  : k + 1 == json_array_size(json_object_get(g, "hosts")) ? " and "
                                                                          : ", ",
                  out);
            html_write_str(out, json_string_value(h));
        }
        fputs(" are one machine (machine id ", out);
        esc_field(out, g, "machine");
        fputs("): their columns differ by the load and scheduling their runs met, not by "
              "their hardware.</p>\n",
              out);
    }
}

static void write_matrix(FILE *out, const json_t *matrix)
{
    const json_t *hosts = json_object_get(matrix, "hosts");
    const json_t *scripts = json_object_get(matrix, "scripts");
    const json_t *cells = json_object_get(matrix, "cells");
    fputs("<section id=\"matrix\">\n<h2>Scripts &times; hosts</h2>\n", out);
    if (json_array_size(hosts) == 0 || json_array_size(scripts) == 0) {
        fputs("<p class=\"muted\">No runs.</p>\n</section>\n", out);
        return;
    }
    size_t flagged = 0, i, j;
    const json_t *h, *s, *c;
    json_array_foreach(cells, i, c)
    {
        flagged += is(json_get_string(c, "status", NULL), "regression") ||
                   is(json_get_string(c, "status", NULL), "improvement");
    }
    fprintf(out,
            "<details%s><summary>Median wall time of %zu script%s on %zu host%s (%zu flagged)"
            "</summary>\n",
            json_array_size(scripts) <= TEAM_OPEN_MATRIX ? " open" : "", json_array_size(scripts),
            json_array_size(scripts) == 1 ? "" : "s", json_array_size(hosts),
            json_array_size(hosts) == 1 ? "" : "s", flagged);
    html_table_head(out, "id=\"matrix-table\"", "Script");
    json_t *index = index_cells(cells);
    json_array_foreach(hosts, i, h)
    {
        fputs("<th class=\"num\">", out);
        long_name(out, "cut", json_string_value(h));
        fputs("</th>", out);
    }
    html_table_body(out);
    json_array_foreach(scripts, i, s)
    {
        if (i == TEAM_MAX_MATRIX)
            break;
        const char *script = json_string_value(s);
        fputs("<tr><td>", out);
        long_name(out, "cut path", script);
        fputs("</td>", out);
        json_array_foreach(hosts, j, h)
        {
            const char *host = json_string_value(h);
            const json_t *cell =
                script && host ? json_object_get(json_object_get(index, host), script) : NULL;
            if (cell == NULL) {
                fputs("<td class=\"num muted\">-</td>", out);
                continue;
            }
            const char *st = json_get_string(cell, "status", NULL);
            bool known = is(st, "regression") || is(st, "improvement");
            double v;
            char buf[48] = "-";
            if (json_get_finite(cell, "median_wall_s", &v))
                html_fmt_secs(buf, sizeof(buf), v);
            fprintf(out, "<td class=\"num %s\"", known ? st : "ok-cell");
            if (known)
                flagged_cell(out, cell, st);
            else
                fputs(">", out);
            fprintf(out, "%s%s", buf,
                    is(st, "regression")    ? " \xe2\x96\xb2"
                    : is(st, "improvement") ? " \xe2\x96\xbc"
                                            : "");
            cell_queued(out, cell);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    html_table_close(out);
    fputs("\n", out);
    if (json_array_size(scripts) > TEAM_MAX_MATRIX)
        fprintf(out, "<p class=\"note\">and %zu more scripts.</p>\n",
                json_array_size(scripts) - TEAM_MAX_MATRIX);
    write_shared_machines(out, json_object_get(matrix, "shared_machines"));
    fputs("</details>\n</section>\n", out);
    json_decref(index);
}

static void ratio(FILE *out, const json_t *o, const char *key)
{
    double v;
    if (json_get_finite(o, key, &v))
        fprintf(out, "%.3f", v);
    else
        fputs("-", out);
}

/* What each inconclusive rule means, and what settles it on a farm (the suite file and
 * `pyscope submit`, docs/suite-format.md; not `pyscope run`'s options). */
static const char *const UNSETTLED_RULES[][3] = {
    {"within_noise", "the change is inside the run-to-run noise of the series' baseline nights",
     "more repeats narrow the noise: <code>repeat = N</code> for the script in the suite file, "
     "or <code>pyscope submit --repeat N</code> for every script; a floor wider than the "
     "threshold night after night asks for a quieter host or a wider <code>threshold</code>"},
    {"ci_beyond_threshold",
     "the change is within the threshold, but its 95% interval reaches beyond it: a change "
     "larger than the threshold is not ruled out",
     "more repeats narrow the interval: <code>repeat = N</code> in the suite file, or "
     "<code>pyscope submit --repeat N</code>"},
    {"ci_spans_zero", "the change's 95% interval includes no change",
     "more repeats: <code>repeat = N</code> in the suite file, or <code>pyscope submit --repeat "
     "N</code>"},
    {"not_significant", "the rank test's p is not below 0.05: too few samples to tell",
     "more repeats: <code>repeat = N</code> in the suite file, or <code>pyscope submit --repeat "
     "N</code>"},
    {"not_significant_in_batch",
     "significant alone, but not once the batch's tests are counted together "
     "(Benjamini&ndash;Hochberg)",
     "more repeats: <code>repeat = N</code> in the suite file, or <code>pyscope submit --repeat "
     "N</code>"},
    {"contended", "the wall time was mostly waiting for a CPU: the host was busy",
     "a quieter host (fewer jobs or agents on its CPUs); for a CPU-bound script, instruction "
     "counts, which the load does not move: <code>instructions = on</code> in the suite file"},
    {"insufficient_history",
     "it moved beyond its threshold with fewer than 3 baseline nights: no noise floor yet",
     "nothing to do: the next nights build its baseline (repeats do not replace nights)"},
    {"unconfirmed", "the confirmation run and the nightly run disagree: one run of evidence",
     "the next night measures it again; more repeats (<code>repeat = N</code> in the suite "
     "file) make each run's evidence stronger"},
    {"not_deciding", "wall or CPU time moved, but the metric that decides the run did not",
     "nothing to act on unless it returns night after night; a quieter host makes CPU time "
     "steadier"},
};

/* The words of rule (UNSETTLED_RULES), or generic ones. */
static const char *const *rule_words(const char *rule)
{
    static const char *const other[3] = {
        NULL, "the runs could not tell a change from noise",
        "more repeats: <code>repeat = N</code> in the suite file, or <code>pyscope submit "
        "--repeat N</code>; a quieter host"};
    for (size_t k = 0; k < sizeof(UNSETTLED_RULES) / sizeof(UNSETTLED_RULES[0]); k++)
        if (is(rule, UNSETTLED_RULES[k][0]))
            return UNSETTLED_RULES[k];
    return other;
}

/* The rule of an inconclusive row u (borrowed), "" when it has none. */
static const char *row_rule(const json_t *u)
{
    const char *r = json_get_string(u, "rule", NULL);
    return r ? r : "";
}

/* How many series the rows of list (borrowed) with rule (NULL: every row) cover; *hosts how
 * many hosts. */
static size_t rule_series(const json_t *list, const char *rule, size_t *hosts)
{
    json_t *s = json_object(), *h = json_object();
    size_t i;
    const json_t *u;
    json_array_foreach(list, i, u)
    {
        if (rule && !is(row_rule(u), rule))
            continue;
        char *key = series_key(json_get_string(u, "script", NULL), json_get_string(u, "host", NULL),
                               json_get_string(u, "python_build", NULL));
        json_object_set_new(s, key, json_true());
        free(key);
        const char *host = json_get_string(u, "host", NULL);
        json_object_set_new(h, host ? host : "", json_true());
    }
    size_t n = json_object_size(s);
    if (hosts)
        *hosts = json_object_size(h);
    json_decref(s);
    json_decref(h);
    return n;
}

/* "batch 6 (night 6)", or "batch 6" without a label. */
static void batch_named(FILE *out, const json_t *id, const char *label)
{
    if (json_is_integer(id))
        fprintf(out, "batch %" JSON_INTEGER_FORMAT, json_integer_value(id));
    else
        fputs("batch -", out);
    if (label && *label) {
        fputs(" (", out);
        html_write_str(out, label);
        fputs(")", out);
    }
}

/* One inconclusive row u (borrowed): where, its figures, its reason, since when. */
static void unsettled_row(FILE *out, const json_t *u)
{
    const json_t *d = json_object_get(u, "detail");
    fputs("<li>", out);
    esc_field(out, u, "script");
    fputs(" on ", out);
    esc_field(out, u, "host");
    fprintf(out, ", batch %" JSON_INTEGER_FORMAT ": ",
            json_integer_value(json_object_get(u, "batch_id")));
    if (json_object_get(d, "wall_s") || json_object_get(d, "cpu_s")) {
        fputs("wall ", out); /* held out: its confirmation's wall and CPU verdicts */
        pct_field(out, json_object_get(d, "wall_s"), "change_pct");
        fputs(", CPU ", out);
        pct_field(out, json_object_get(d, "cpu_s"), "change_pct");
    } else {
        short_metric(out, json_get_string(u, "metric", NULL));
        pct_field(out, d, "change_pct");
    }
    const char *reason = json_get_string(u, "reason", NULL);
    if (reason && reason[0]) {
        fputs(": ", out);
        esc(out, reason);
    }
    /* a streak: inconclusive every night it ran since night K */
    const json_t *since = json_object_get(u, "since_batch_id"),
                 *nights = json_object_get(u, "nights_in_row");
    if (json_is_integer(since) && json_is_integer(nights) && json_integer_value(nights) > 1 &&
        json_integer_value(since) < json_integer_value(json_object_get(u, "batch_id"))) {
        const char *label = json_get_string(u, "since_batch_label", NULL);
        fputs(" <b class=\"since\">inconclusive since ", out);
        if (label && *label)
            html_write_str(out, label);
        else
            fprintf(out, "batch %" JSON_INTEGER_FORMAT, json_integer_value(since));
        fprintf(out, ", %" JSON_INTEGER_FORMAT " nights in a row</b>", json_integer_value(nights));
    }
    fputs("</li>\n", out);
}

/* The rules of list (borrowed) in the order of counts' by_rule (the most rows first), then
 * any other in the list's order: a new array of strings. */
static json_t *unsettled_rules(const json_t *list, const json_t *counts)
{
    json_t *rules = json_array(), *seen = json_object();
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(counts, "by_rule"), i, u)
    {
        const char *r = json_get_string(u, "rule", "");
        if (!json_object_get(seen, r)) {
            json_object_set_new(seen, r, json_true());
            json_array_append_new(rules, json_string(r));
        }
    }
    json_array_foreach(list, i, u)
    {
        const char *r = row_rule(u);
        if (!json_object_get(seen, r)) {
            json_object_set_new(seen, r, json_true());
            json_array_append_new(rules, json_string(r));
        }
    }
    json_decref(seen);
    return rules;
}

/* The count member key of rule's entry in counts' by_rule (borrowed), else fallback. */
static size_t rule_count(const json_t *counts, const char *rule, const char *key, size_t fallback)
{
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(counts, "by_rule"), i, u)
    {
        const json_t *n = json_object_get(u, key);
        if (is(json_get_string(u, "rule", ""), rule) && json_is_integer(n) &&
            json_integer_value(n) >= (json_int_t)fallback)
            return (size_t)json_integer_value(n);
    }
    return fallback;
}

/*
 * The series whose verdict was inconclusive (a confirmation run did not settle it, or none
 * could): neither news nor quiet. Counted in the heading (series, hosts: the report's counts,
 * the list may stop at its limit), folded by the rule that decided, each rule with its count,
 * what it means and what would settle it on the farm; each row with its figures and reason,
 * and since which night it has been inconclusive when that is before its own.
 */
static void write_unsettled(FILE *out, const json_t *list, const json_t *counts)
{
    if (json_array_size(list) == 0)
        return;
    size_t hosts = 0, series = rule_series(list, NULL, &hosts);
    const json_t *cs = json_object_get(counts, "series"), *ch = json_object_get(counts, "hosts");
    if (json_is_integer(cs) && json_integer_value(cs) > (json_int_t)series)
        series = (size_t)json_integer_value(cs);
    if (json_is_integer(ch) && json_integer_value(ch) > (json_int_t)hosts)
        hosts = (size_t)json_integer_value(ch);
    fprintf(out,
            "<section id=\"inconclusive-section\">\n<h2>Inconclusive: %zu series on %zu host%s</h2>"
            "\n<p class=\"note\">Neither a finding nor quiet: the runs could not tell a change "
            "from noise. Grouped by the rule that decided, with what would settle it.</p>\n"
            "<div id=\"inconclusive\">\n",
            series, hosts, hosts == 1 ? "" : "s");
    json_t *rules = unsettled_rules(list, counts);
    size_t k;
    const json_t *rj;
    json_array_foreach(rules, k, rj)
    {
        const char *rule = json_string_value(rj);
        size_t n = rule_count(counts, rule, "series", rule_series(list, rule, NULL));
        if (n == 0 && rule_series(list, rule, NULL) == 0)
            continue;
        const char *const *w = rule_words(rule);
        fputs("<details class=\"rule\" data-rule=\"", out);
        html_write_str(out, rule);
        fputs("\"><summary><b>", out);
        esc(out, *rule ? rule : "other");
        fprintf(out,
                "</b> (%zu series): %s</summary>\n<p class=\"advice\">What settles it: %s."
                "</p>\n<ul>\n",
                n, w[1], w[2]);
        size_t i;
        const json_t *u;
        json_array_foreach(list, i, u)
        {
            if (is(row_rule(u), rule))
                unsettled_row(out, u);
        }
        fputs("</ul></details>\n", out);
    }
    json_decref(rules);
    fputs("</div>\n</section>\n", out);
}

/* The series whose newest night in the report did not judge them (too little history, a
 * change within the threshold: the analysis lists them nowhere else): one line with the count
 * (not_judged_total: all of them, the list stops at the report's limit as the others do), the
 * list folded, one entry per series with that night and its baseline nights, and how many
 * more there are when it was cut. */
static void write_not_judged(FILE *out, const json_t *rep)
{
    const json_t *list = json_object_get(rep, "not_judged"),
                 *min_runs = json_object_get(rep, "not_judged_min_runs");
    size_t n = json_array_size(list), total = list_total(rep, "not_judged_total", n);
    if (total == 0)
        return;
    json_int_t need = json_is_integer(min_runs) ? json_integer_value(min_runs) : 3;
    fprintf(
        out,
        "<details id=\"not-judged\"><summary>%zu series not yet judged (fewer than "
        "%" JSON_INTEGER_FORMAT " baseline nights)</summary>\n<p class=\"note\">Each as "
        "of its newest night in this report: a verdict compares a night with %" JSON_INTEGER_FORMAT
        " earlier nights of the series (its baseline); the next nights give them. Until "
        "then only a change beyond the threshold is reported (as inconclusive).</p>\n",
        total, need, need);
    if (total > n)
        fprintf(out,
                "<p class=\"more\" id=\"not-judged-more\">Showing %zu of %zu series; %zu more "
                "not shown: <code>pyscope report --limit N</code> lists up to 1000, here and in "
                "<code>--json</code>.</p>\n",
                n, total, total - n);
    fputs("<ul>\n", out);
    size_t i;
    const json_t *u;
    json_array_foreach(list, i, u)
    {
        fputs("<li>", out);
        esc_field(out, u, "script");
        fputs(" on ", out);
        esc_field(out, u, "host");
        fputs(", ", out);
        batch_named(out, json_object_get(u, "batch_id"), json_get_string(u, "batch_label", NULL));
        json_int_t has = json_integer_value(json_object_get(u, "baseline_runs"));
        if (has > 0)
            fprintf(out,
                    ": %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                    " baseline nights, moved less than its threshold</li>\n",
                    has, need);
        else
            fputs(": no baseline night yet, nothing to compare with</li>\n", out);
    }
    fputs("</ul></details>\n", out);
}

/* A held-out verdict v (borrowed: {change_pct, verdict}) in words: "+1.2% (no change)". */
static void verdict_words(FILE *out, const json_t *v)
{
    pct_field(out, v, "change_pct");
    const char *vd = json_get_string(v, "verdict", NULL);
    if (vd) {
        fputs(" (", out);
        esc(out, is(vd, "no_change") ? "no change" : vd);
        fputs(")", out);
    }
}

/* The series re-run to confirm a suspect night and dismissed (held_out 'dismissed'): what
 * the night showed and what the confirmation found, folded. */
static void write_dismissed(FILE *out, const json_t *list)
{
    size_t n = json_array_size(list);
    if (n == 0)
        return;
    fprintf(out,
            "<section id=\"dismissed\">\n<details><summary><h2>Re-run and dismissed (%zu)</h2>"
            "</summary>\n<p class=\"note\">A night looked changed; its re-run found no change, "
            "so nothing was reported and that night stays out of the series' later "
            "baselines.</p>\n<ul>\n",
            n);
    size_t i;
    const json_t *u;
    json_array_foreach(list, i, u)
    {
        const json_t *d = json_object_get(u, "detail"), *night = json_object_get(u, "nightly");
        fputs("<li>", out);
        esc_field(out, u, "script");
        fputs(" on ", out);
        esc_field(out, u, "host");
        fputs(", ", out);
        batch_named(out, json_object_get(u, "batch_id"), json_get_string(u, "batch_label", NULL));
        fputs(": the nightly run found ", out);
        if (json_is_object(night)) {
            short_metric(out, json_get_string(night, "metric", NULL));
            verdict_words(out, night);
        } else {
            fputs("a change (not recorded)", out);
        }
        fputs("; the confirmation found wall ", out);
        verdict_words(out, json_object_get(d, "wall_s"));
        fputs(", CPU ", out);
        verdict_words(out, json_object_get(d, "cpu_s"));
        char *conf = html_team_confirmation_text(json_object_get(d, "confirmation"), NULL);
        if (conf) {
            fputs(" (", out);
            html_write_str(out, conf);
            fputs(")", out);
            free(conf);
        }
        const char *reason = json_get_string(u, "reason", NULL);
        if (reason && *reason) {
            fputs(": ", out);
            esc(out, reason);
        }
        fputs("</li>\n", out);
    }
    fputs("</ul></details>\n</section>\n", out);
}

/* The cells of a ratio of medians c (borrowed): the ratio (red when its interval is all above
 * 1, green all below; neither, and labelled, when label says what else it measures: NULL
 * none), its 95% interval, and the samples of each side (members sa, sb). */
static void ratio_cells(FILE *out, const json_t *c, const char *sa, const char *sb,
                        const char *label)
{
    double lo = 1, hi = 1;
    json_get_finite(c, "ci_low", &lo);
    json_get_finite(c, "ci_high", &hi);
    fprintf(out, "<td class=\"num %s\">", label ? "muted" : lo > 1 ? "bad" : hi < 1 ? "ok" : "");
    ratio(out, c, "ratio");
    if (label)
        fprintf(out, " <span class=\"label\">(%s)</span>", label);
    fputs("</td><td class=\"num\">", out);
    ratio(out, c, "ci_low");
    fputs(" \xe2\x80\xa6 ", out);
    ratio(out, c, "ci_high");
    fputs("</td><td class=\"num\">", out);
    int_field(out, c, sa);
    fputs(" / ", out);
    int_field(out, c, sb);
    fputs("</td>", out);
}

static void write_hardware(FILE *out, const json_t *hw)
{
    fputs("<section id=\"hardware\">\n<h2>Hardware: the same script on two hosts</h2>\n", out);
    if (json_array_size(hw) == 0) {
        fputs("<p class=\"muted\">No script ran on two hosts.</p>\n</section>\n", out);
        return;
    }
    fprintf(out,
            "<details%s><summary>%zu pair%s: median wall time on host B over host A</summary>\n",
            json_array_size(hw) <= TEAM_OPEN_MATRIX ? " open" : "", json_array_size(hw),
            json_array_size(hw) == 1 ? "" : "s");
    html_table_open(out, "id=\"hardware-table\"", "Script|Host A|Host B|#B / A|#95% CI|#Samples");
    size_t i;
    const json_t *c;
    json_array_foreach(hw, i, c)
    {
        fputs("<tr><td>", out);
        long_name(out, "cut path", json_get_string(c, "script", NULL));
        fputs("</td><td>", out);
        long_name(out, "cut", json_get_string(c, "host_a", NULL));
        fputs("</td><td>", out);
        long_name(out, "cut", json_get_string(c, "host_b", NULL));
        fputs("</td>", out);
        const char *measures = json_get_string(c, "measures", "hardware");
        ratio_cells(out, c, "samples_a", "samples_b",
                    strcmp(measures, "load") == 0                ? "one machine: load"
                    : strcmp(measures, "hardware_and_load") == 0 ? "wall time contaminated"
                                                                 : NULL);
        fputs("</tr>\n", out);
        /* what else the ratio measures (coordinator/hostpair.h): said in the coordinator's words */
        if (json_is_string(json_object_get(c, "caveat"))) {
            fputs("<tr class=\"note caveat\"><td colspan=\"6\">Not the hardware: ", out);
            esc_field(out, c, "caveat");
            fputs("</td></tr>\n", out);
        }
        /* a ratio that includes an open finding is not the hardware: say which */
        size_t k;
        const json_t *f;
        json_array_foreach(json_object_get(c, "findings"), k, f)
        {
            fputs("<tr class=\"note\"><td colspan=\"6\">", out);
            esc_field(out, f, "host");
            fputs(": ", out);
            esc_field(out, f, "kind");
            fputs(" ", out);
            pct_field(out, f, "change_pct");
            fputs(" (", out);
            esc_field(out, f, "metric");
            fprintf(out,
                    ") since batch %" JSON_INTEGER_FORMAT ": this ratio includes it</td></tr>\n",
                    json_integer_value(json_object_get(f, "since_batch_id")));
        }
    }
    html_table_close(out);
    fputs("</details>\n</section>\n", out);
}

/* The same script on one host under two Python builds or more (compare-pythons' numbers). */
static void write_pythons(FILE *out, const json_t *sets, const json_t *total)
{
    fputs("<section id=\"pythons\">\n<h2>Pythons: the same script on one host under two "
          "builds</h2>\n",
          out);
    if (json_array_size(sets) == 0) {
        fputs("<p class=\"muted\">No script ran under two Python builds on one host.</p>\n"
              "</section>\n",
              out);
        return;
    }
    html_table_open(out, "id=\"pythons-table\"",
                    "Script|Host|Python|Baseline|#Wall ratio|#95% CI|#Samples|Verdict");
    size_t i;
    const json_t *set;
    json_array_foreach(sets, i, set)
    {
        const json_t *pys = json_object_get(set, "pythons");
        const char *base = NULL;
        size_t k;
        const json_t *p;
        json_array_foreach(pys, k, p)
        {
            if (json_is_true(json_object_get(p, "baseline")))
                base = json_get_string(p, "version", NULL);
        }
        json_array_foreach(pys, k, p)
        {
            if (json_is_true(json_object_get(p, "baseline")))
                continue;
            const json_t *w = json_object_get(json_object_get(p, "vs_baseline"), "wall_s");
            fputs("<tr><td>", out);
            long_name(out, "cut path", json_get_string(set, "script", NULL));
            fputs("</td><td>", out);
            long_name(out, "cut", json_get_string(json_object_get(set, "host"), "hostname", NULL));
            fputs("</td><td>", out);
            esc_field(out, p, "version");
            fputs("</td><td>", out);
            esc(out, base);
            fputs("</td>", out);
            ratio_cells(out, w, "samples_base", "samples", NULL);
            fputs("<td>", out);
            esc_field(out, w, "verdict");
            fputs("</td></tr>\n", out);
            const json_t *fns = json_object_get(p, "functions");
            fputs("<tr class=\"note\"><td colspan=\"8\">", out);
            if (json_array_size(fns)) {
                fputs("Functions whose self time moved most:", out);
                function_list(out, fns, true);
            } else {
                fputs("No function's self time moved by 1% of the wall time.", out);
            }
            fputs("</td></tr>\n", out);
        }
    }
    html_table_close(out);
    fputs("\n", out);
    json_int_t n = json_integer_value(total);
    if (n > (json_int_t)json_array_size(sets))
        fprintf(out,
                "<p class=\"muted\">%zu of %" JSON_INTEGER_FORMAT
                " shown: pyscope compare-pythons SCRIPT --host H gives any of them.</p>\n",
                json_array_size(sets), n);
    fputs("<p class=\"note\">Ratio: median wall time under the Python over the baseline's "
          "(the oldest version), the newest runs of each build, as pyscope compare-pythons "
          "prints it.</p>\n</section>\n",
          out);
}

/* The page's header: which batches this is. */
static void write_header(FILE *out, const json_t *rep)
{
    html_page_header(out, "team report");
    const json_t *batches = json_object_get(rep, "batches");
    fputs("<dl class=\"meta\">\n", out);
    const json_t *newest = json_array_get(batches, 0);
    if (json_array_size(batches) == 1) {
        fputs("<dt>Batch</dt><dd>", out);
        int_field(out, newest, "id");
        const char *label = json_get_string(newest, "label", NULL),
                   *suite = json_get_string(newest, "suite", NULL);
        if (label && *label) {
            fputs(" \xc2\xb7 ", out);
            html_write_str(out, label);
        }
        if (suite && *suite) {
            fputs(" \xc2\xb7 suite ", out);
            html_write_str(out, suite);
        }
        const char *fin = json_get_string(newest, "finished", NULL);
        if (fin && *fin) {
            fputs("</dd>\n<dt>Finished</dt><dd>", out);
            html_write_short_time(out, fin);
            fputs(" UTC</dd>\n", out);
        } else {
            /* a batch still running (or cancelled before it ended) has no finish time */
            const char *st = json_get_string(newest, "state", NULL);
            fputs("</dd>\n<dt>State</dt><dd>", out);
            html_write_str(out, st && *st ? st : "running");
            fputs(", not finished yet</dd>\n", out);
        }
    } else if (json_array_size(batches) > 1) {
        const json_t *oldest = json_array_get(batches, json_array_size(batches) - 1);
        fprintf(out, "<dt>Batches</dt><dd>%zu: ", json_array_size(batches));
        int_field(out, oldest, "id");
        fputs(" \xe2\x80\xa6 ", out);
        int_field(out, newest, "id");
        fputs(", finished ", out);
        html_write_short_time(out, json_get_string(oldest, "finished", NULL));
        fputs(" \xe2\x80\xa6 ", out);
        html_write_short_time(out, json_get_string(newest, "finished", NULL));
        fputs(" UTC</dd>\n", out);
    }
    fputs("</dl>\n</header>\n", out);
}

static void write_summary(FILE *out, const json_t *rep)
{
    struct totals r = kind_totals(rep, "regressions"), im = kind_totals(rep, "improvements");
    fputs("<section id=\"summary\">\n<p class=\"lead\">", out);
    if (r.series == 0)
        fputs("<b class=\"ok\">Nothing got slower</b>", out);
    else
        fprintf(out, "<b class=\"bad\">%zu series got slower</b> on %zu host%s (%zu still open)",
                r.series, r.hosts, r.hosts == 1 ? "" : "s", r.open);
    if (im.series)
        fprintf(out, "; %zu got faster", im.series);
    fputs(".</p>\n<div class=\"cards\">\n", out);
    size_t rs = r.series, is_ = im.series, n_flagged = r.metrics;
    /* each batch's series summed: a series measured on 4 nights counts 4 (series-nights) */
    size_t runs = 0, failed = 0, series = 0, i;
    const json_t *b;
    json_array_foreach(json_object_get(rep, "batches"), i, b)
    {
        runs += (size_t)json_integer_value(json_object_get(b, "runs"));
        failed += (size_t)json_integer_value(json_object_get(b, "jobs_failed"));
        series += (size_t)json_integer_value(json_object_get(b, "series"));
    }
    fprintf(out,
            "<div class=\"card\"><div class=\"label\">Slower</div><div class=\"value%s\">%zu</div>"
            "<div class=\"sub\">series, %zu metric%s flagged</div></div>\n"
            "<div class=\"card\"><div class=\"label\">Faster</div><div class=\"value%s\">%zu</div>"
            "<div class=\"sub\">series</div></div>\n"
            "<div class=\"card\"><div class=\"label\">Measured</div><div class=\"value\">%zu</div>"
            "<div class=\"sub\">series-nights, %zu run%s</div></div>\n"
            "<div class=\"card\"><div class=\"label\">Failed jobs</div><div class=\"value%s\">%zu"
            "</div><div class=\"sub\">in %zu batch%s</div></div>\n</div>\n",
            rs ? " bad" : "", rs, n_flagged, n_flagged == 1 ? "" : "s", is_ ? " ok" : "", is_,
            series, runs, runs == 1 ? "" : "s", failed ? " bad" : "", failed,
            json_array_size(json_object_get(rep, "batches")),
            json_array_size(json_object_get(rep, "batches")) == 1 ? "" : "es");
    write_not_judged(out, rep);
    fputs("</section>\n", out);
}

int html_team_write(FILE *out, const json_t *doc, const struct html_site *site, char *err,
                    size_t errlen)
{
    const json_t *rep = json_object_get(doc, "report");
    if (rep == NULL)
        rep = doc;
    if (!json_is_object(rep) || !json_is_array(json_object_get(rep, "regressions"))) {
        pyscope_set_err(err, errlen, "not a pyscope.team_report/1 document");
        return -PYSCOPE_ESCHEMA;
    }
    struct html_page page = {.title = "PyScope team report", .site = site};
    html_page_open(out, &page);
    write_header(out, rep);
    fputs("<main class=\"team\">\n", out);
    write_summary(out, rep);
    const json_t *trends = json_object_get(rep, "trends"), *flames = json_object_get(rep, "flames");
    const json_t *regs = json_object_get(rep, "regressions");
    const json_t *imps = json_object_get(rep, "improvements");
    write_groups(out, site, "regressions", "What got slower", regs, kind_totals(rep, "regressions"),
                 trends, flames, true);
    write_groups(out, site, "improvements", "What got faster", imps,
                 kind_totals(rep, "improvements"), trends, NULL, false);
    write_batches(out, site, json_object_get(rep, "batches"));
    write_unsettled(out, json_object_get(rep, "inconclusive"),
                    json_object_get(rep, "inconclusive_counts"));
    write_dismissed(out, json_object_get(rep, "dismissed"));
    write_matrix(out, json_object_get(rep, "matrix"));
    write_hardware(out, json_object_get(rep, "hardware"));
    write_pythons(out, json_object_get(rep, "pythons"), json_object_get(rep, "pythons_total"));
    fputs("<p class=\"note\">A change is the ratio of the series' medians against its baseline "
          "(its newest runs since the last accepted change) with a 95% bootstrap interval; p is a "
          "two-sided Mann&ndash;Whitney U test, q its Benjamini&ndash;Hochberg adjustment over "
          "the batch, noise the baseline's run-to-run spread (docs/json-schema.md).</p>\n"
          "</main>\n",
          out);
    html_page_close(out, &page);
    if (ferror(out)) {
        pyscope_set_err(err, errlen, "could not write the report");
        return -EIO;
    }
    return 0;
}
