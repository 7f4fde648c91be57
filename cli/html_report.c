/*
 * html_report.c - a self-contained HTML page for one pyscope.report/1 document.
 *
 * Everything that reads without JavaScript is rendered here as static, escaped
 * HTML: header, summary cards, suggestions, regression check, hotspot table,
 * memory chart (inline SVG) and runs table. The scripts (lib/assets/report.js,
 * embedded at build time) add table sorting and the interactive flame graph;
 * they read their data from JSON inside <script type="application/json">, in
 * which every '<', '>', '&', U+2028 and U+2029 is a \u escape, so no string can
 * end the element, and they build DOM with textContent only.
 *
 * Design notes: the input is untrusted and may be partial, so every read goes
 * through helpers that check types and finiteness, and a section whose data is
 * absent is left out (or says so) instead of guessing. Class names and inline
 * styles come only from fixed lists or numbers computed here, never from input.
 * Large inputs are capped (functions, stacks, timeline points) to keep the page
 * small; the page says when it dropped something.
 */
#include "html_report.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "funckey.h"
#include "history.h"
#include "html_compare.h"
#include "html_axis.h"
#include "html_page.h"
#include "html_text.h"
#include "jsonutil.h"
#include "xmalloc.h"

#define HTML_MAX_FUNCTIONS  300    /* hotspot table rows */
#define HTML_MAX_STACKS     12000  /* flame graph stacks, heaviest first */
#define HTML_MAX_FRAME_REFS 150000 /* frames in those stacks, at most */
#define HTML_MAX_DEPTH      512    /* frames kept per stack, root first */
#define HTML_MAX_RUNS       2000   /* rows in the runs table */
#define HTML_MAX_POINTS     800    /* memory timeline points drawn */
#define HTML_MAX_ITEMS      200    /* suggestions, regression rows */
#define HTML_MAX_CELL       300    /* bytes of a generic value shown in a cell */

/* ---- reading untrusted JSON ------------------------------------------------ */

static const json_t *get_obj(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_object(v) ? v : NULL;
}

static const json_t *get_arr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_array(v) ? v : NULL;
}

/* ---- writing ------------------------------------------------------------------- */

/* Escape a JSON string value (it may hold NUL bytes). */
static void esc_json(FILE *out, const json_t *str)
{
    html_write_escaped(out, json_string_value(str), json_string_length(str));
}

/* A count with thousands separators: "1,234,567". */
static void fmt_count(char *buf, size_t n, double v)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%.0f", v < 0 ? 0 : v > 1e18 ? 1e18 : v);
    size_t len = strlen(digits), o = 0;
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void fmt_pct(char *buf, size_t n, double p)
{
    snprintf(buf, n, fabs(p) >= 10 ? "%.1f%%" : "%.2f%%", p);
}

/* Write a generic JSON value (borrowed) as escaped text, for tables of unknown shape. */
static void write_value(FILE *out, const json_t *v)
{
    char buf[64];
    double d;
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        html_write_escaped(out, json_string_value(v), len > HTML_MAX_CELL ? HTML_MAX_CELL : len);
        if (len > HTML_MAX_CELL)
            fputs("\xe2\x80\xa6", out);
    } else if (json_is_integer(v)) {
        fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_value_finite(v, &d)) {
        snprintf(buf, sizeof(buf), "%.4g", d);
        fputs(buf, out);
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "yes" : "no", out);
    } else if (json_is_null(v) || !v) {
        fputs("\xe2\x80\x94", out);
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s) {
            size_t len = strlen(s);
            html_write_escaped(out, s, len > HTML_MAX_CELL ? HTML_MAX_CELL : len);
            if (len > HTML_MAX_CELL)
                fputs("\xe2\x80\xa6", out);
            free(s);
        }
    }
}

/* ---- statistics of a metric ----------------------------------------------------------- */

/* A metric over the measured runs. */
struct metric {
    bool ok;  /* any value at all */
    double n; /* number of runs */
    double median, min, max, stdev;
    bool has_stdev;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Read summary[key], or compute it from runs[*][key] when the summary lacks it. */
static struct metric metric_get(const json_t *report, const char *key)
{
    struct metric m = {0};
    const json_t *s = get_obj(get_obj(report, "summary"), key);
    if (s && json_get_finite(s, "median", &m.median)) {
        m.ok = true;
        if (!json_get_finite(s, "min", &m.min))
            m.min = m.median;
        if (!json_get_finite(s, "max", &m.max))
            m.max = m.median;
        if (!json_get_finite(s, "n", &m.n))
            m.n = 0;
        m.has_stdev = json_get_finite(s, "stdev", &m.stdev);
        return m;
    }
    const json_t *runs = get_arr(report, "runs");
    size_t count = json_array_size(runs);
    if (count == 0)
        return m;
    double *v = xcalloc(count, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (json_get_finite(json_array_get(runs, i), key, &v[n]))
            n++;
    if (n > 0) {
        qsort(v, n, sizeof(*v), cmp_double);
        m.ok = true;
        m.n = (double)n;
        m.min = v[0];
        m.max = v[n - 1];
        m.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
    free(v);
    return m;
}

/* ---- sections ---------------------------------------------------------------- */

/* Write one <dt>/<dd> pair when value is present (value borrowed, escaped). */
static void meta_row(FILE *out, const char *label, const char *value)
{
    if (!value || !value[0])
        return;
    fprintf(out, "<dt>%s</dt><dd>", label);
    html_write_str(out, value);
    fputs("</dd>\n", out);
}

/*
 * The page's header: the script and its run, the host, the Python, the mode.
 * Longer than 100 lines, kept whole: it writes one part of the page
 * in document order, each block a few lines of markup for one value of the report, and
 * none of them is used alone (tests/unit/test_html_report.c checks the page).
 */
static void write_header(FILE *out, const json_t *report)
{
    const json_t *script = get_obj(report, "script");
    const json_t *host = get_obj(report, "host");
    const json_t *py = get_obj(report, "python");
    const json_t *opts = get_obj(report, "options");
    const char *key = json_get_string(script, "key", NULL);
    if (!key)
        key = json_get_string(script, "path", NULL);
    char buf[256];

    fputs("<header>\n<h1><span class=\"brand\">PyScope</span> ", out);
    html_write_str(out, key ? key : "(unknown script)");
    const json_t *args = get_arr(script, "args");
    if (json_array_size(args) > 0) {
        fputs(" <span class=\"args\">", out);
        size_t i;
        const json_t *a;
        json_array_foreach(args, i, a)
        {
            if (i >= 64) {
                fputs(" \xe2\x80\xa6", out);
                break;
            }
            fputs(i ? " <code>" : "<code>", out);
            write_value(out, a);
            fputs("</code>", out);
        }
        fputs("</span>", out);
    }
    fputs("</h1>\n<dl class=\"meta\">\n", out);
    meta_row(out, "Date", json_get_string(report, "created", NULL));
    if (host) {
        fputs("<dt>Host</dt><dd>", out);
        const char *parts[] = {
            json_get_string(host, "hostname", NULL), json_get_string(host, "cpu_model", NULL),
            json_get_string(host, "os", NULL), json_get_string(host, "arch", NULL)};
        bool first = true;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            if (!parts[i] || !parts[i][0])
                continue;
            if (!first)
                fputs(" \xc2\xb7 ", out);
            html_write_str(out, parts[i]);
            first = false;
            double cores;
            if (i == 1 && json_get_finite(host, "cores", &cores))
                fprintf(out, " (%.0f cores)", cores);
        }
        double mem;
        if (json_get_finite(host, "mem_bytes", &mem) && mem > 0) {
            html_fmt_bytes(buf, sizeof(buf), mem);
            fprintf(out, "%s%s RAM", first ? "" : " \xc2\xb7 ", buf);
        }
        const char *gov = json_get_string(host, "governor", NULL);
        if (gov) {
            fputs(" \xc2\xb7 governor ", out);
            html_write_str(out, gov);
        }
        const char *fp = json_get_string(host, "fingerprint", NULL);
        if (fp) {
            fputs(" \xc2\xb7 <span class=\"muted\">", out);
            html_write_str(out, fp);
            fputs("</span>", out);
        }
        fputs("</dd>\n", out);
    }
    if (py) {
        const char *ver = json_get_string(py, "version", NULL);
        const char *impl = json_get_string(py, "implementation", NULL);
        const char *exe = json_get_string(py, "executable", NULL);
        const char *venv = json_get_string(py, "venv", NULL);
        fputs("<dt>Python</dt><dd>", out);
        html_write_str(out, impl ? impl : "python");
        fputs(" ", out);
        html_write_str(out, ver ? ver : "?");
        if (exe) {
            fputs(" \xc2\xb7 <code>", out);
            html_write_str(out, exe);
            fputs("</code>", out);
        }
        if (venv) {
            fputs(" \xc2\xb7 venv <code>", out);
            html_write_str(out, venv);
            fputs("</code>", out);
        }
        fputs("</dd>\n", out);
    }
    if (opts) {
        const char *mode = json_get_string(opts, "mode", NULL);
        double repeat, warmup, interval;
        fputs("<dt>Mode</dt><dd>", out);
        html_write_str(out, mode ? mode : "?");
        if (json_get_finite(opts, "repeat", &repeat))
            fprintf(out, " \xc2\xb7 %.0f measured run%s", repeat, repeat == 1 ? "" : "s");
        if (json_get_finite(opts, "warmup", &warmup) && warmup > 0)
            fprintf(out, " + %.0f warmup", warmup);
        if (json_get_finite(opts, "interval_s", &interval) && interval > 0) {
            html_fmt_secs(buf, sizeof(buf), interval);
            fprintf(out, " \xc2\xb7 sampling every %s", buf);
        }
        fputs("</dd>\n", out);
    }
    meta_row(out, "Script path", json_get_string(script, "path", NULL));
    meta_row(out, "Script SHA-256", json_get_string(script, "sha256", NULL));
    meta_row(out, "Run id", json_get_string(report, "id", NULL));
    meta_row(out, "JSON report", json_get_string(get_obj(report, "files"), "json", NULL));
    const char *made_by = json_get_string(report, "pyscope_version", NULL);
    if (made_by && strcmp(made_by, PYSCOPE_VERSION) != 0)
        meta_row(out, "Measured by", made_by);
    fputs("</dl>\n</header>\n", out);
}

/* Open a summary card. */
static void card_open(FILE *out, const char *label)
{
    fprintf(out, "<div class=\"card\"><div class=\"label\">%s</div>", label);
}

/*
 * The summary cards: wall time, CPU, peak memory, instructions, exit status, profile.
 * Longer than 100 lines, kept whole: it writes one part of the page
 * in document order, each block a few lines of markup for one value of the report, and
 * none of them is used alone (tests/unit/test_html_report.c checks the page).
 */
static void write_summary(FILE *out, const json_t *report)
{
    char a[64], b[64], c[64];
    struct metric wall = metric_get(report, "wall_s");
    struct metric cpu = metric_get(report, "cpu_s");
    struct metric pct = metric_get(report, "cpu_pct");
    struct metric rss = metric_get(report, "peak_rss_bytes");
    const json_t *status = get_obj(report, "status");

    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n", out);
    card_open(out, "Wall time (median)");
    if (wall.ok) {
        html_fmt_secs(a, sizeof(a), wall.median);
        html_fmt_secs(b, sizeof(b), wall.min);
        html_fmt_secs(c, sizeof(c), wall.max);
        fprintf(out, "<div class=\"value\">%s</div><div class=\"sub\">min %s \xc2\xb7 max %s", a, b,
                c);
        if (wall.median > 0) {
            fmt_pct(a, sizeof(a), 100 * (wall.max - wall.min) / wall.median);
            fprintf(out, " \xc2\xb7 spread %s", a);
        }
        if (wall.has_stdev) {
            html_fmt_secs(a, sizeof(a), wall.stdev);
            fprintf(out, " \xc2\xb7 stdev %s", a);
        }
        if (wall.n > 0)
            fprintf(out, " \xc2\xb7 %.0f run%s", wall.n, wall.n == 1 ? "" : "s");
        fputs("</div>", out);
    } else {
        fputs("<div class=\"value muted\">\xe2\x80\x94</div>", out);
    }
    fputs("</div>\n", out);

    card_open(out, "Average CPU");
    if (pct.ok || cpu.ok) {
        if (pct.ok) {
            snprintf(a, sizeof(a), "%.1f%%", pct.median);
            fprintf(out, "<div class=\"value\">%s</div>", a);
        } else {
            fputs("<div class=\"value muted\">\xe2\x80\x94</div>", out);
        }
        if (cpu.ok) {
            html_fmt_secs(a, sizeof(a), cpu.median);
            fprintf(out, "<div class=\"sub\">CPU time %s (median)</div>", a);
        }
    } else {
        fputs("<div class=\"value muted\">\xe2\x80\x94</div>", out);
    }
    fputs("</div>\n", out);

    card_open(out, "Peak memory");
    if (rss.ok) {
        html_fmt_bytes(a, sizeof(a), rss.max);
        html_fmt_bytes(b, sizeof(b), rss.median);
        fprintf(out,
                "<div class=\"value\">%s</div><div class=\"sub\">max over runs \xc2\xb7 "
                "median %s</div>",
                a, b);
    } else {
        fputs("<div class=\"value muted\">\xe2\x80\x94</div>", out);
    }
    fputs("</div>\n", out);

    char *instr = history_instructions_text(report);
    if (instr) { /* "298.7 M (how they were counted)" */
        char *how = strstr(instr, " (");
        if (how) {
            *how = '\0';
            how += 2;
            size_t l = strlen(how);
            if (l && how[l - 1] == ')')
                how[l - 1] = '\0';
        }
        card_open(out, "Instructions");
        fputs("<div class=\"value\">", out);
        html_write_str(out, instr);
        fputs("</div><div class=\"sub\">", out);
        html_write_str(out, how ? how : "");
        fputs("</div></div>\n", out);
        free(instr);
    }

    card_open(out, "Exit status");
    const char *outcome = json_get_string(status, "outcome", NULL);
    const char *cls = "warn";
    if (outcome && strcmp(outcome, "ok") == 0)
        cls = "ok";
    else if (outcome && (strcmp(outcome, "failed") == 0 || strcmp(outcome, "timeout") == 0))
        cls = "bad";
    fprintf(out, "<div class=\"value %s\">", cls);
    html_write_str(out, outcome ? outcome : "unknown");
    fputs("</div><div class=\"sub\">", out);
    const char *msg = json_get_string(status, "message", NULL);
    if (msg) {
        html_write_str(out, msg);
    } else {
        double code, sig;
        if (json_get_finite(status, "exit_code", &code))
            fprintf(out, "exit code %.0f", code);
        else if (json_get_finite(status, "signal", &sig))
            fprintf(out, "signal %.0f", sig);
    }
    fputs("</div></div>\n", out);

    const json_t *profile = get_obj(report, "profile");
    if (profile) {
        double samples;
        const char *mode = json_get_string(profile, "mode", NULL);
        const char *sep = "";
        card_open(out, "Profile");
        double calls = 0, fn_calls;
        size_t nfn = 0, i;
        const json_t *fn;
        json_array_foreach(get_arr(profile, "functions"), i, fn)
        {
            if (json_get_finite(fn, "calls", &fn_calls) && fn_calls > 0) {
                calls += fn_calls;
                nfn++;
            }
        }
        bool trace = mode && strcmp(mode, "trace") == 0;
        if (trace && nfn > 0) {
            /* a trace counts calls, it takes no samples */
            char n[32];
            fmt_count(n, sizeof(n), calls);
            fprintf(out,
                    "<div class=\"value\">%s</div><div class=\"sub\">function calls per run, "
                    "traced (%zu function%s)",
                    n, nfn, nfn == 1 ? "" : "s");
            sep = " \xc2\xb7 ";
            mode = NULL; /* said */
        } else if (json_get_finite(profile, "samples", &samples) && !trace) {
            fprintf(out, "<div class=\"value\">%.0f</div><div class=\"sub\">samples", samples);
            sep = " \xc2\xb7 ";
        } else {
            fputs("<div class=\"value\">", out);
            html_write_str(out, mode ? mode : "\xe2\x80\x94");
            fputs("</div><div class=\"sub\">", out);
            mode = NULL; /* shown as the value */
        }
        if (mode) {
            fputs(sep, out);
            html_write_str(out, mode);
            fputs(" mode", out);
            sep = " \xc2\xb7 ";
        }
        const json_t *children = json_object_get(profile, "children_followed");
        if (json_is_false(children)) {
            fprintf(out, "%schild processes not profiled", sep);
            sep = " \xc2\xb7 ";
        }
        const char *note = json_get_string(profile, "overhead_note", NULL);
        if (note) {
            fputs(sep, out);
            html_write_str(out, note);
        }
        fputs("</div></div>\n", out);
    }
    fputs("</div>\n</section>\n", out);
}

/* Map a severity (untrusted) to one of the page's fixed classes. */
static const char *severity_class(const char *sev)
{
    if (!sev)
        return "sev-info";
    if (strcmp(sev, "warning") == 0 || strcmp(sev, "warn") == 0)
        return "sev-warning";
    if (strcmp(sev, "critical") == 0 || strcmp(sev, "error") == 0 || strcmp(sev, "high") == 0)
        return "sev-critical";
    return "sev-info";
}

/* Does key end with suffix? */
static bool ends_with(const char *key, const char *suffix)
{
    size_t a = strlen(key), b = strlen(suffix);
    return a > b && strcmp(key + a - b, suffix) == 0;
}

/*
 * One piece of a suggestion's evidence in words: the key's words and its
 * value in its unit ("total 38.2%", "per call 1.6 µs", "growth 38.0 MiB"),
 * from the key's suffix (_pct, _s, _bytes); other values as they are.
 */
static void write_evidence(FILE *out, const char *key, const json_t *v)
{
    static const char *const suffixes[] = {"_pct", "_s", "_bytes"};
    size_t cut = strlen(key);
    int unit = -1;
    double d = 0;
    for (int i = 0; i < 3 && unit < 0; i++)
        if (ends_with(key, suffixes[i]) && json_value_finite(v, &d)) {
            unit = i;
            cut -= strlen(suffixes[i]);
        }
    char *words = xstrndup(key, cut); /* snake_case to words */
    for (char *p = words; *p; p++)
        if (*p == '_')
            *p = ' ';
    html_write_escaped(out, words, cut);
    free(words);
    fputc(' ', out);
    char buf[64];
    if (unit == 0) {
        fprintf(out, "%.3g%%", d);
    } else if (unit == 1) {
        html_fmt_secs(buf, sizeof(buf), d);
        fputs(buf, out);
    } else if (unit == 2) {
        html_fmt_bytes(buf, sizeof(buf), d);
        fputs(buf, out);
    } else {
        write_value(out, v);
    }
}

static void write_suggestions(FILE *out, const json_t *report)
{
    const json_t *list = get_arr(report, "suggestions");
    if (!list)
        return;
    fputs("<section id=\"suggestions\">\n<h2>Optimization suggestions</h2>\n", out);
    if (json_array_size(list) == 0) {
        fputs("<p class=\"muted\">No suggestions: nothing stood out.</p>\n</section>\n", out);
        return;
    }
    fputs("<ul class=\"suggestions\">\n", out);
    size_t i;
    const json_t *s;
    json_array_foreach(list, i, s)
    {
        if (i >= HTML_MAX_ITEMS)
            break;
        if (!json_is_object(s)) {
            if (json_is_string(s)) {
                fputs("<li>", out);
                esc_json(out, s);
                fputs("</li>\n", out);
            }
            continue;
        }
        const char *sev = json_get_string(s, "severity", NULL);
        fprintf(out, "<li class=\"%s\">", severity_class(sev));
        if (sev) {
            fputs("<span class=\"badge\">", out);
            html_write_str(out, sev);
            fputs("</span>", out);
        }
        const json_t *msg = json_object_get(s, "message");
        if (json_is_string(msg))
            esc_json(out, msg);
        const char *rule = json_get_string(s, "rule", NULL);
        const char *fn = json_get_string(s, "function", NULL);
        const json_t *ev = get_obj(s, "evidence");
        if (rule || fn || ev) {
            fputs("<div class=\"evidence\">", out);
            if (rule) {
                fputs("rule <code>", out);
                html_write_str(out, rule);
                fputs("</code> ", out);
            }
            if (fn) {
                fputs("function <code>", out);
                html_write_str(out, fn);
                fputs("</code> ", out);
            }
            if (ev) {
                const char *k;
                const json_t *v;
                json_object_foreach((json_t *)ev, k, v)
                {
                    fputs("\xc2\xb7 ", out);
                    write_evidence(out, k, v);
                    fputs(" ", out);
                }
            }
            fputs("</div>", out);
        }
        fputs("</li>\n", out);
    }
    fputs("</ul>\n</section>\n", out);
}

/* ---- regression: rendered generically ---------------------------------------------- */

/* Class for a verdict cell (untrusted value mapped to fixed names). */
static const char *verdict_class(const char *v)
{
    if (!v)
        return "";
    if (strstr(v, "regress") || strcmp(v, "slower") == 0 || strcmp(v, "worse") == 0)
        return "verdict-regression";
    if (strstr(v, "improv") || strcmp(v, "faster") == 0 || strcmp(v, "better") == 0)
        return "verdict-improvement";
    if (strstr(v, "inconclusive") || strstr(v, "rerun"))
        return "verdict-inconclusive";
    return "";
}

static bool is_scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v);
}

/* A confidence interval written as [lo, hi] from an array or lo/hi fields. */
static bool write_ci(FILE *out, const json_t *row)
{
    static const char *const arrays[] = {"ci", "ci_pct", "confidence_interval", "ci95"};
    static const char *const pairs[][2] = {{"ci_low", "ci_high"},
                                           {"ci_lo", "ci_hi"},
                                           {"ci_low_pct", "ci_high_pct"},
                                           {"ci_lower", "ci_upper"}};
    double lo, hi;
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        const json_t *ci = json_object_get(row, arrays[i]);
        if (json_is_array(ci) && json_array_size(ci) == 2 &&
            json_value_finite(json_array_get(ci, 0), &lo) &&
            json_value_finite(json_array_get(ci, 1), &hi)) {
            fprintf(out, "[%.4g, %.4g]", lo, hi);
            return true;
        }
        if (json_is_object(ci) &&
            (json_get_finite(ci, "low", &lo) || json_get_finite(ci, "lo", &lo)) &&
            (json_get_finite(ci, "high", &hi) || json_get_finite(ci, "hi", &hi))) {
            fprintf(out, "[%.4g, %.4g]", lo, hi);
            return true;
        }
    }
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        if (json_get_finite(row, pairs[i][0], &lo) && json_get_finite(row, pairs[i][1], &hi)) {
            fprintf(out, "[%.4g, %.4g]", lo, hi);
            return true;
        }
    }
    return false;
}

static bool is_ci_key(const char *k)
{
    return strncmp(k, "ci", 2) == 0 || strcmp(k, "confidence_interval") == 0;
}

/* The first present key among names in row, or NULL. */
static const char *first_key(const json_t *row, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_object_get(row, names[i]))
            return names[i];
    return NULL;
}

static const char *const METRIC_KEYS[] = {"metric", "name", "series"};
static const char *const VERDICT_KEYS[] = {"verdict", "status", "result"};
static const char *const CHANGE_KEYS[] = {"change_pct", "delta_pct", "change", "ratio"};
static const char *const P_KEYS[] = {"p_value", "pvalue", "p", "q_value"};
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Write a generic table for an array of objects (borrowed): columns are the
 * scalar keys of the rows in first-seen order. Nested arrays of objects are
 * listed after the table (with the row's label) by the caller's recursion.
 */
static void write_object_table(FILE *out, const json_t *rows, int depth);

/* Write each array of objects inside row (borrowed) as a table titled "key: label". */
static void write_nested(FILE *out, const json_t *row, const char *label, int depth)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)row, k, v)
    {
        if (!json_is_array(v) || json_array_size(v) == 0 || !json_is_object(json_array_get(v, 0)))
            continue;
        fputs("<h3>", out);
        html_write_str(out, k);
        if (label) {
            fputs(": ", out);
            html_write_str(out, label);
        }
        fputs("</h3>\n", out);
        write_object_table(out, v, depth + 1);
    }
}

static void write_object_table(FILE *out, const json_t *rows, int depth)
{
    if (depth > 3)
        return;
    json_t *cols = json_array(); /* column names, borrowed strings kept alive here */
    json_t *seen = json_object();
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (i >= HTML_MAX_ITEMS)
            break;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)row, k, v)
        {
            if (!is_scalar(v) &&
                !(json_is_array(v) && json_array_size(v) <= 4 && is_scalar(json_array_get(v, 0))))
                continue;
            if (json_object_get(seen, k) || json_array_size(cols) >= 16)
                continue;
            json_object_set_new(seen, k, json_true());
            json_array_append_new(cols, json_string(k));
        }
    }
    fputs("<div class=\"table-wrap\"><table class=\"sortable\"><thead><tr>", out);
    size_t c;
    const json_t *col;
    json_array_foreach(cols, c, col)
    {
        fputs("<th>", out);
        esc_json(out, col);
        fputs("</th>", out);
    }
    fputs("</tr></thead><tbody>\n", out);
    json_array_foreach(rows, i, row)
    {
        if (i >= HTML_MAX_ITEMS)
            break;
        if (!json_is_object(row))
            continue;
        fputs("<tr>", out);
        json_array_foreach(cols, c, col)
        {
            const char *name = json_string_value(col);
            const json_t *v = json_object_get(row, name);
            double d;
            if (json_value_finite(v, &d))
                fprintf(out, "<td class=\"num\" data-v=\"%.17g\">", d);
            else if (json_is_string(v) && strcmp(name, "verdict") == 0)
                fprintf(out, "<td class=\"%s\">", verdict_class(json_string_value(v)));
            else
                fputs("<td>", out);
            if (v)
                write_value(out, v);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table></div>\n", out);
    json_array_foreach(rows, i, row)
    {
        if (i >= HTML_MAX_ITEMS)
            break;
        const char *mk = first_key(row, METRIC_KEYS, NKEYS(METRIC_KEYS));
        write_nested(out, row, mk ? json_get_string(row, mk, NULL) : NULL, depth);
    }
    json_decref(seen);
    json_decref(cols);
}

/* Does this object look like one metric's result (it has a verdict or a change)? */
static bool looks_like_metric(const json_t *v)
{
    return json_is_object(v) && (first_key(v, VERDICT_KEYS, NKEYS(VERDICT_KEYS)) ||
                                 first_key(v, CHANGE_KEYS, NKEYS(CHANGE_KEYS)));
}

/* One metric row: metric, verdict, change, CI, p, then the other scalar fields. */
static void write_metric_row(FILE *out, const char *label, const json_t *row)
{
    double d;
    const char *k;
    fputs("<tr><td>", out);
    k = first_key(row, METRIC_KEYS, NKEYS(METRIC_KEYS));
    if (k)
        write_value(out, json_object_get(row, k));
    else
        html_write_str(out, label ? label : "\xe2\x80\x94");
    k = first_key(row, VERDICT_KEYS, NKEYS(VERDICT_KEYS));
    const json_t *verdict = k ? json_object_get(row, k) : NULL;
    fprintf(out, "</td><td class=\"%s\">", verdict_class(json_string_value(verdict)));
    write_value(out, verdict);
    fputs("</td>", out);
    k = first_key(row, CHANGE_KEYS, NKEYS(CHANGE_KEYS));
    if (k && json_get_finite(row, k, &d)) {
        bool pct = strstr(k, "pct") != NULL;
        fprintf(out, "<td class=\"num\" data-v=\"%.17g\">%s%.2f%s</td>", d, pct && d > 0 ? "+" : "",
                d, pct ? "%" : "");
    } else {
        fputs("<td class=\"num\">", out);
        write_value(out, k ? json_object_get(row, k) : NULL);
        fputs("</td>", out);
    }
    fputs("<td class=\"num\">", out);
    if (!write_ci(out, row))
        fputs("\xe2\x80\x94", out);
    fputs("</td>", out);
    k = first_key(row, P_KEYS, NKEYS(P_KEYS));
    if (k && json_get_finite(row, k, &d))
        fprintf(out, "<td class=\"num\" data-v=\"%.17g\">%.3g</td>", d, d);
    else
        fputs("<td class=\"num\">\xe2\x80\x94</td>", out);
    /* everything else that is scalar */
    fputs("<td class=\"details\">", out);
    const json_t *v;
    bool first = true;
    json_object_foreach((json_t *)row, k, v)
    {
        if (!is_scalar(v) && !(json_is_array(v) && json_array_size(v) <= 4))
            continue;
        if (json_is_array(v) && json_array_size(v) > 0 && !is_scalar(json_array_get(v, 0)))
            continue;
        bool known = false;
        const char *const *lists[] = {METRIC_KEYS, VERDICT_KEYS, CHANGE_KEYS, P_KEYS};
        size_t sizes[] = {NKEYS(METRIC_KEYS), NKEYS(VERDICT_KEYS), NKEYS(CHANGE_KEYS),
                          NKEYS(P_KEYS)};
        for (size_t l = 0; l < 4 && !known; l++)
            for (size_t j = 0; j < sizes[l]; j++)
                if (strcmp(k, lists[l][j]) == 0)
                    known = true;
        if (known || is_ci_key(k))
            continue;
        if (!first)
            fputs(" \xc2\xb7 ", out);
        html_write_str(out, k);
        fputs("=", out);
        write_value(out, v);
        first = false;
    }
    fputs("</td></tr>\n", out);
}

static void metric_table_open(FILE *out)
{
    fputs("<div class=\"table-wrap\"><table class=\"sortable\" id=\"regression-table\"><thead><tr>"
          "<th>Metric</th><th>Verdict</th><th class=\"num\" data-type=\"num\">Change</th>"
          "<th class=\"num\">CI</th><th class=\"num\" data-type=\"num\">p-value</th>"
          "<th>Details</th></tr></thead><tbody>\n",
          out);
}

/* Is v an array of metric objects, or an object whose values are metric objects? */
static bool is_metric_rows(const json_t *v)
{
    if (json_is_array(v))
        return json_array_size(v) > 0 && looks_like_metric(json_array_get(v, 0));
    if (!json_is_object(v))
        return false;
    const char *k;
    const json_t *row;
    json_object_foreach((json_t *)v, k, row)
    {
        if (looks_like_metric(row))
            return true;
    }
    return false;
}

/*
 * The regression check: the verdict, each metric's row and its why.
 * Longer than 100 lines, kept whole: it writes one part of the page
 * in document order, each block a few lines of markup for one value of the report, and
 * none of them is used alone (tests/unit/test_html_report.c checks the page).
 */
static void write_regression(FILE *out, const json_t *report)
{
    const json_t *reg = json_object_get(report, "regression");
    if (!reg || json_is_null(reg))
        return;
    fputs("<section id=\"regression\">\n<h2>Performance regression check</h2>\n", out);
    /* the check lib/regress writes (docs/json-schema.md): in words and a small table */
    const char *status = json_get_string(reg, "status", NULL);
    if (status && (strcmp(status, "compared") == 0 || strcmp(status, "no_history") == 0) &&
        get_arr(reg, "metrics")) {
        html_compare_regression(out, reg);
        fputs("</section>\n", out);
        return;
    }
    /* anything else (an older or foreign document): shown as it is */
    if (!json_is_object(reg)) {
        fputs("<p>", out);
        write_value(out, reg);
        fputs("</p>\n</section>\n", out);
        return;
    }
    const char *k;
    const json_t *v;
    bool has_rows = false;
    json_object_foreach((json_t *)reg, k, v)
    {
        if (is_metric_rows(v))
            has_rows = true;
    }
    /* reg itself is one metric's result when it names a metric or a change */
    bool single = !has_rows && (first_key(reg, METRIC_KEYS, NKEYS(METRIC_KEYS)) ||
                                first_key(reg, CHANGE_KEYS, NKEYS(CHANGE_KEYS)));

    /* scalar fields first: overall verdict, baseline, message, ... */
    bool any = false;
    json_object_foreach((json_t *)reg, k, v)
    {
        if (single || !is_scalar(v))
            continue;
        if (!any)
            fputs("<dl class=\"meta\">\n", out);
        any = true;
        fputs("<dt>", out);
        html_write_str(out, k);
        fputs("</dt><dd", out);
        if (json_is_string(v) && (strcmp(k, "verdict") == 0 || strcmp(k, "status") == 0))
            fprintf(out, " class=\"%s\"", verdict_class(json_string_value(v)));
        fputs(">", out);
        write_value(out, v);
        fputs("</dd>\n", out);
    }
    if (any)
        fputs("</dl>\n", out);

    /* one row per metric: from an array of metrics, a map of them, or reg itself */
    if (has_rows || single) {
        metric_table_open(out);
        if (single)
            write_metric_row(out, NULL, reg);
        json_object_foreach((json_t *)reg, k, v)
        {
            if (!is_metric_rows(v))
                continue;
            size_t i = 0;
            const char *mk;
            const json_t *row;
            if (json_is_array(v)) {
                json_array_foreach(v, i, row)
                {
                    if (i < HTML_MAX_ITEMS && json_is_object(row))
                        write_metric_row(out, NULL, row);
                }
            } else {
                json_object_foreach((json_t *)v, mk, row)
                {
                    if (looks_like_metric(row))
                        write_metric_row(out, mk, row);
                }
            }
        }
        fputs("</tbody></table></div>\n", out);
    }

    /* arrays of objects ("why": the functions that explain it, ...) as tables */
    json_object_foreach((json_t *)reg, k, v)
    {
        const char *mk;
        const json_t *row;
        size_t i;
        if (is_metric_rows(v) && json_is_array(v)) {
            json_array_foreach(v, i, row)
            {
                const char *lk = first_key(row, METRIC_KEYS, NKEYS(METRIC_KEYS));
                if (i < HTML_MAX_ITEMS)
                    write_nested(out, row, lk ? json_get_string(row, lk, NULL) : NULL, 0);
            }
        } else if (is_metric_rows(v)) {
            json_object_foreach((json_t *)v, mk, row)
            {
                if (looks_like_metric(row))
                    write_nested(out, row, mk, 0);
            }
        } else if (json_is_array(v) && json_array_size(v) > 0 &&
                   json_is_object(json_array_get(v, 0))) {
            fputs("<h3>", out);
            html_write_str(out, k);
            fputs("</h3>\n", out);
            write_object_table(out, v, 0);
        } else if (json_is_object(v) && json_object_size(v) > 0) {
            fputs("<h3>", out);
            html_write_str(out, k);
            fputs("</h3>\n<dl class=\"meta\">\n", out);
            json_object_foreach((json_t *)v, mk, row)
            {
                fputs("<dt>", out);
                html_write_str(out, mk);
                fputs("</dt><dd>", out);
                write_value(out, row);
                fputs("</dd>\n", out);
            }
            fputs("</dl>\n", out);
        } else if (json_is_array(v) && json_array_size(v) > 0 && !single) {
            fputs("<h3>", out);
            html_write_str(out, k);
            fputs("</h3>\n<p>", out);
            write_value(out, v);
            fputs("</p>\n", out);
        }
    }
    fputs("</section>\n", out);
}

/* ---- hotspots ------------------------------------------------------------------- */

static void td_num(FILE *out, const json_t *fn, const char *key, int kind)
{
    double d;
    char buf[64];
    if (!json_get_finite(fn, key, &d)) {
        fputs("<td class=\"num\">\xe2\x80\x94</td>", out);
        return;
    }
    if (kind == 0)
        html_fmt_secs(buf, sizeof(buf), d);
    else if (kind == 1)
        fmt_pct(buf, sizeof(buf), d);
    else
        snprintf(buf, sizeof(buf), "%.0f", d);
    if (kind == 1) {
        double p = d < 0 ? 0 : d > 100 ? 100 : d;
        fprintf(out, "<td class=\"num pct\" style=\"--p:%.2f%%\" data-v=\"%.17g\">%s</td>", p, d,
                buf);
    } else {
        fprintf(out, "<td class=\"num\" data-v=\"%.17g\">%s</td>", d, buf);
    }
}

static void write_hotspots(FILE *out, const json_t *report)
{
    const json_t *fns = get_arr(get_obj(report, "profile"), "functions");
    fputs("<section id=\"hotspots\">\n<h2>Hotspots</h2>\n", out);
    if (json_array_size(fns) == 0) {
        fputs("<p class=\"muted\">No function profile in this report.</p>\n</section>\n", out);
        return;
    }
    fputs("<div class=\"table-wrap\"><table class=\"sortable\" id=\"hotspots-table\"><thead><tr>"
          "<th>Function</th><th class=\"num\" data-type=\"num\">Calls</th>"
          "<th class=\"num\" data-type=\"num\">Self</th>"
          "<th class=\"num\" data-type=\"num\">Self %</th>"
          "<th class=\"num\" data-type=\"num\">Total</th>"
          "<th class=\"num\" data-type=\"num\">Total %</th>"
          "</tr></thead><tbody>\n",
          out);
    size_t i, shown = 0;
    const json_t *fn;
    json_array_foreach(fns, i, fn)
    {
        if (!json_is_object(fn))
            continue;
        if (shown >= HTML_MAX_FUNCTIONS)
            break;
        shown++;
        const char *name = json_get_string(fn, "name", NULL);
        const char *file = json_get_string(fn, "file", NULL);
        const char *key = json_get_string(fn, "key", NULL);
        char *kfile = NULL, *kname = NULL;
        long kline = 0;
        if (key && (!name || !file))
            funckey_split(key, &kfile, &kname, &kline);
        double line = (double)kline;
        json_get_finite(fn, "line", &line);
        fputs("<tr><td class=\"fn\"><div class=\"name\">", out);
        html_write_str(out, name ? name : kname ? kname : "?");
        fputs("</div><div class=\"loc\">", out);
        html_write_str(out, file ? file : kfile ? kfile : "");
        if (line > 0)
            fprintf(out, ":%.0f", line);
        fputs("</div></td>", out);
        td_num(out, fn, "calls", 2);
        td_num(out, fn, "self_s", 0);
        td_num(out, fn, "self_pct", 1);
        td_num(out, fn, "total_s", 0);
        td_num(out, fn, "total_pct", 1);
        fputs("</tr>\n", out);
        free(kfile);
        free(kname);
    }
    fputs("</tbody></table></div>\n", out);
    if (json_array_size(fns) > shown)
        fprintf(out, "<p class=\"note\">Showing the first %zu of %zu functions.</p>\n", shown,
                json_array_size(fns));
    fputs("<p class=\"note\">Self: time with the function on top of the stack; total: time with "
          "it anywhere on the stack (medians over runs). Click a header to sort.</p>\n</section>\n",
          out);
}

/* ---- flame graph -------------------------------------------------------------- */

/* One stack picked for the flame graph. */
struct stack_ref {
    size_t index;       /* position in profile.stacks */
    double samples;     /* its count */
    json_int_t thread;  /* index in the thread list */
    json_int_t *frames; /* frame indices, root first, new */
    size_t depth;       /* number of frames */
};

/* Heaviest first, then input order. */
static int cmp_stack_weight(const void *a, const void *b)
{
    const struct stack_ref *x = a, *y = b;
    if (x->samples != y->samples)
        return x->samples < y->samples ? 1 : -1;
    return (x->index > y->index) - (x->index < y->index);
}

/* By thread, then frames lexicographically: neighbours share long prefixes. */
static int cmp_stack_frames(const void *a, const void *b)
{
    const struct stack_ref *x = a, *y = b;
    if (x->thread != y->thread)
        return x->thread < y->thread ? -1 : 1;
    size_t n = x->depth < y->depth ? x->depth : y->depth;
    for (size_t i = 0; i < n; i++)
        if (x->frames[i] != y->frames[i])
            return x->frames[i] < y->frames[i] ? -1 : 1;
    return (x->depth > y->depth) - (x->depth < y->depth);
}

/* Intern s (borrowed) in list/index; return its position, or -1. */
static json_int_t intern(json_t *list, json_t *index, const char *s, json_t *(*make)(const char *))
{
    const json_t *pos = json_object_get(index, s);
    if (pos)
        return json_integer_value(pos);
    json_int_t n = (json_int_t)json_array_size(list);
    json_t *item = make(s);
    if (!item || json_object_set_new(index, s, json_integer(n)) != 0) {
        json_decref(item);
        return -1;
    }
    json_array_append_new(list, item);
    return n;
}

static json_t *thread_item_new(const char *name)
{
    return json_string(name);
}

static json_t *frame_item_new(const char *key)
{
    char *file, *name;
    long line;
    funckey_split(key, &file, &name, &line);
    json_t *item = json_pack("[s,s,I]", name[0] ? name : key, file, (json_int_t)line);
    free(file);
    free(name);
    return item;
}

/* A count as compact JSON: an integer when it is one. */
static json_t *count_new(double v)
{
    if (v == floor(v) && v < 9.0e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/*
 * Return new data for the flame graph (see the file comment of report.js):
 * {unit_s, runs, threads: [name], frames: [[name, file, line]], stacks: [[thread,
 * samples, shared, frame...]]} where shared is how many leading frames the stack
 * has in common with the previous row (same thread), whose frames are not
 * repeated. Keeps the heaviest stacks within HTML_MAX_STACKS and
 * HTML_MAX_FRAME_REFS; *kept and *total count the stacks.
 * Longer than 100 lines, kept whole: one pass that builds the frame, thread and stack
 * tables together (each stack refers to the tables' indices as it is added).
 */
static json_t *flame_data_new(const json_t *report, size_t *kept, size_t *total)
{
    const json_t *profile = get_obj(report, "profile");
    const json_t *stacks = get_arr(profile, "stacks");
    json_t *threads = json_array(), *thread_index = json_object();
    json_t *frames = json_array(), *frame_index = json_object();
    json_t *out_stacks = json_array();
    size_t n = json_array_size(stacks);
    struct stack_ref *refs = xcalloc(n ? n : 1, sizeof(*refs));
    size_t usable = 0;
    size_t i;
    const json_t *t;

    /* the report's thread list gives the order; unlisted threads follow */
    json_array_foreach(get_arr(profile, "threads"), i, t)
    {
        const char *name = json_get_string(t, "name", NULL);
        if (name)
            intern(threads, thread_index, name, thread_item_new);
    }
    json_array_foreach(stacks, i, t)
    {
        double v;
        const json_t *fr = get_arr(t, "frames");
        if (!fr || json_array_size(fr) == 0 || !json_get_finite(t, "samples", &v) || v <= 0)
            continue;
        refs[usable].index = i;
        refs[usable].samples = v;
        usable++;
    }
    qsort(refs, usable, sizeof(*refs), cmp_stack_weight);
    size_t keep = 0, budget = 0;
    while (keep < usable && keep < HTML_MAX_STACKS) {
        size_t depth = json_array_size(get_arr(json_array_get(stacks, refs[keep].index), "frames"));
        if (depth > HTML_MAX_DEPTH)
            depth = HTML_MAX_DEPTH;
        if (keep > 0 && budget + depth > HTML_MAX_FRAME_REFS)
            break;
        budget += depth;
        keep++;
    }
    *kept = keep;
    *total = usable;
    for (size_t k = 0; k < keep; k++) {
        const json_t *s = json_array_get(stacks, refs[k].index);
        const char *tname = json_get_string(s, "thread", NULL);
        refs[k].thread = intern(threads, thread_index, tname && tname[0] ? tname : "unknown-thread",
                                thread_item_new);
        const json_t *fr = get_arr(s, "frames");
        size_t depth = json_array_size(fr);
        if (depth > HTML_MAX_DEPTH)
            depth = HTML_MAX_DEPTH;
        refs[k].frames = xcalloc(depth, sizeof(json_int_t));
        for (size_t j = 0; j < depth; j++) {
            const char *key = json_string_value(json_array_get(fr, j));
            json_int_t fi = intern(frames, frame_index, key ? key : "?", frame_item_new);
            if (fi >= 0)
                refs[k].frames[refs[k].depth++] = fi;
        }
    }
    qsort(refs, keep, sizeof(*refs), cmp_stack_frames);

    /* only threads that have stacks, renumbered in the same order */
    size_t nthreads = json_array_size(threads);
    json_int_t *remap = xcalloc(nthreads ? nthreads : 1, sizeof(*remap));
    for (size_t k = 0; k < keep; k++)
        if (refs[k].thread >= 0)
            remap[refs[k].thread] = 1;
    json_t *used = json_array();
    for (size_t k = 0; k < nthreads; k++) {
        if (remap[k]) {
            remap[k] = (json_int_t)json_array_size(used);
            json_array_append(used, json_array_get(threads, k));
        } else {
            remap[k] = -1;
        }
    }
    for (size_t k = 0; k < keep; k++) {
        struct stack_ref *r = &refs[k], *prev = k ? &refs[k - 1] : NULL;
        size_t shared = 0;
        if (prev && prev->thread == r->thread)
            while (shared < r->depth && shared < prev->depth &&
                   prev->frames[shared] == r->frames[shared])
                shared++;
        json_t *row = json_array();
        json_array_append_new(row, json_integer(r->thread >= 0 ? remap[r->thread] : 0));
        json_array_append_new(row, count_new(r->samples));
        json_array_append_new(row, json_integer((json_int_t)shared));
        for (size_t j = shared; j < r->depth; j++)
            json_array_append_new(row, json_integer(r->frames[j]));
        json_array_append_new(out_stacks, row);
    }

    double unit = 0, interval;
    const char *mode = json_get_string(profile, "mode", NULL);
    if (!mode)
        mode = json_get_string(get_obj(report, "options"), "mode", NULL);
    if (mode && strcmp(mode, "trace") == 0)
        unit = 1e-6;
    else if (json_get_finite(profile, "interval_s", &interval) && interval > 0)
        unit = interval;
    else if (json_get_finite(get_obj(report, "options"), "interval_s", &interval) && interval > 0)
        unit = interval;
    /* stacks are summed over the measured runs; the page shows time per run */
    double runs = (double)json_array_size(get_arr(report, "runs"));
    if (runs < 1 && !(json_get_finite(get_obj(report, "options"), "repeat", &runs) && runs >= 1))
        runs = 1;

    json_t *data = json_pack("{s:f, s:f, s:o, s:o, s:o}", "unit_s", unit, "runs", runs, "threads",
                             used, "frames", frames, "stacks", out_stacks);
    for (size_t k = 0; k < keep; k++)
        free(refs[k].frames);
    free(refs);
    free(remap);
    json_decref(threads);
    json_decref(thread_index);
    json_decref(frame_index);
    return data;
}

static void write_flame_section(FILE *out, size_t kept, size_t total)
{
    fputs("<section id=\"flame\">\n<h2>Flame graph</h2>\n"
          "<div class=\"flame-bar\"><label>Thread <select id=\"flame-thread\"></select></label>"
          "<button id=\"flame-reset\" type=\"button\" disabled>Reset zoom</button>"
          "<span id=\"flame-info\" class=\"muted\"></span></div>\n"
          "<div id=\"flame-box\" class=\"flame\"><noscript><p class=\"note\">The flame graph "
          "needs JavaScript.</p></noscript></div>\n"
          "<div id=\"flame-tip\" class=\"tip\" hidden></div>\n",
          out);
    fputs("<p class=\"note\">Root on top, callees below; widths are samples summed over the "
          "measured runs, widest first; times are per run.",
          out);
    if (kept < total)
        fprintf(out, " Showing the %zu heaviest of %zu stacks.", kept, total);
    fputs("</p>\n</section>\n", out);
}

/* ---- memory timeline ------------------------------------------------------------ */

/*
 * The memory timeline: the chart of the samples and its axes.
 * Longer than 100 lines, kept whole: it writes one part of the page
 * in document order, each block a few lines of markup for one value of the report, and
 * none of them is used alone (tests/unit/test_html_report.c checks the page).
 */
static void write_memory(FILE *out, const json_t *report)
{
    const json_t *tl = get_arr(report, "memory_timeline");
    size_t n = json_array_size(tl);
    double *ts = xcalloc(n ? n : 1, sizeof(double));
    double *rs = xcalloc(n ? n : 1, sizeof(double));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(tl, i);
        if (json_is_array(p) && json_value_finite(json_array_get(p, 0), &ts[m]) &&
            json_value_finite(json_array_get(p, 1), &rs[m]) && ts[m] >= 0 && rs[m] >= 0)
            m++;
    }
    if (m == 0) {
        free(ts);
        free(rs);
        return;
    }
    double tmax = 0, rmax = 0;
    size_t peak = 0;
    for (size_t i = 0; i < m; i++) {
        if (ts[i] > tmax)
            tmax = ts[i];
        if (rs[i] > rs[peak])
            peak = i;
    }
    rmax = rs[peak];
    const double W = 900, H = 270, L = 72, R = 36, T = 26, B = 30;
    const double pw = W - L - R, ph = H - T - B;
    double tstep = html_axis_step(tmax, 6, HTML_AXIS_AT_MOST);
    double tend = tmax > 0 ? ceil(tmax / tstep) * tstep : 1;
    /* bytes on a binary scale: pick MiB steps when large */
    double unit = rmax >= 1048576 ? 1048576 : rmax >= 1024 ? 1024 : 1;
    double rstep = html_axis_step(rmax / unit, 4, HTML_AXIS_AT_MOST) * unit;
    double rend = rmax > 0 ? ceil(rmax / rstep) * rstep : 1;
    if (!isfinite(tend) || !isfinite(rend) || tmax > 1e9 || rmax > 1e18) {
        /* nonsense magnitudes (a day-long run is 1e5 s, an exabyte 1e18): no chart */
        free(ts);
        free(rs);
        return;
    }
    char a[64], b[64];

    fputs("<section id=\"memory\">\n<h2>Memory timeline</h2>\n", out);
    fprintf(out,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"resident memory over time\">\n",
            W, H);
    for (int tick = 0; tick <= 12 && tick * rstep <= rend + rstep / 2; tick++) {
        double y = tick * rstep;
        double py = T + ph - ph * y / rend;
        html_fmt_bytes(a, sizeof(a), y);
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                L, py, L + pw, py, L - 6, py + 4, a);
    }
    for (int tick = 0; tick <= 12 && tick * tstep <= tend + tstep / 2; tick++) {
        double x = tick * tstep;
        double px = L + pw * x / tend;
        if (tend >= 1)
            snprintf(a, sizeof(a), "%g s", x);
        else
            snprintf(a, sizeof(a), "%g ms", x * 1e3);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", px,
                T + ph + 18, a);
    }
    fprintf(out,
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
            "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            L, T, L, T + ph, L, T + ph, L + pw, T + ph);
    /* at most HTML_MAX_POINTS points: take every step-th, always keep the peak */
    size_t step = m > HTML_MAX_POINTS ? (m + HTML_MAX_POINTS - 1) / HTML_MAX_POINTS : 1;
    fputs("<path class=\"area\" d=\"", out);
    bool first = true;
    double lastx = L;
    for (size_t i = 0; i < m; i++) {
        if (i % step != 0 && i != peak && i != m - 1)
            continue;
        double px = L + pw * ts[i] / tend, py = T + ph - ph * rs[i] / rend;
        if (first)
            fprintf(out, "M%.1f %.1f", px, T + ph);
        fprintf(out, " L%.1f %.1f", px, py);
        first = false;
        lastx = px;
    }
    fprintf(out, " L%.1f %.1f Z\"/>\n<polyline class=\"line\" points=\"", lastx, T + ph);
    for (size_t i = 0; i < m; i++) {
        if (i % step != 0 && i != peak && i != m - 1)
            continue;
        fprintf(out, "%.1f,%.1f ", L + pw * ts[i] / tend, T + ph - ph * rs[i] / rend);
    }
    fputs("\"/>\n", out);
    html_fmt_bytes(a, sizeof(a), rs[peak]);
    html_fmt_secs(b, sizeof(b), ts[peak]);
    double px = L + pw * ts[peak] / tend, py = T + ph - ph * rs[peak] / rend;
    fprintf(out,
            "<circle class=\"peak\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>peak %s at %s"
            "</title></circle><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">peak %s</text>\n",
            px, py, a, b, px, py - 9,
            px > L + pw * 0.85   ? "end"
            : px < L + pw * 0.15 ? "start"
                                 : "middle",
            a);
    fputs("</svg>\n<p class=\"note\">Resident set size of the last measured run, sampled from "
          "/proc.</p>\n</section>\n",
          out);
    free(ts);
    free(rs);
}

/* ---- runs ---------------------------------------------------------------------- */

static void write_run_row(FILE *out, const json_t *run, size_t idx, bool warmup)
{
    static const struct {
        const char *key;
        int kind; /* 0 seconds, 1 percent, 2 bytes */
    } cols[] = {{"wall_s", 0}, {"cpu_s", 0},   {"user_s", 0},
                {"sys_s", 0},  {"cpu_pct", 1}, {"peak_rss_bytes", 2}};
    char buf[64];
    double d;
    fprintf(out, "<tr%s><td class=\"num\" data-v=\"%zu\">%s%zu</td>",
            warmup ? " class=\"warmup\"" : "", idx + 1, warmup ? "warmup " : "", idx + 1);
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        if (!json_get_finite(run, cols[c].key, &d)) {
            fputs("<td class=\"num\">\xe2\x80\x94</td>", out);
            continue;
        }
        if (cols[c].kind == 0)
            html_fmt_secs(buf, sizeof(buf), d);
        else if (cols[c].kind == 1)
            snprintf(buf, sizeof(buf), "%.1f%%", d);
        else
            html_fmt_bytes(buf, sizeof(buf), d);
        fprintf(out, "<td class=\"num\" data-v=\"%.17g\">%s</td>", d, buf);
    }
    fputs("<td>", out);
    const json_t *to = json_object_get(run, "timed_out");
    double code, sig;
    if (json_is_true(to))
        fputs("<span class=\"bad\">timeout</span>", out);
    else if (json_get_finite(run, "signal", &sig))
        fprintf(out, "<span class=\"bad\">signal %.0f</span>", sig);
    else if (json_get_finite(run, "exit_code", &code))
        fprintf(out, "<span class=\"%s\">exit %.0f</span>", code == 0 ? "ok" : "bad", code);
    else
        fputs("\xe2\x80\x94", out);
    fputs("</td></tr>\n", out);
}

static void write_runs(FILE *out, const json_t *report)
{
    const json_t *runs = get_arr(report, "runs");
    const json_t *warm = get_arr(report, "warmup_runs");
    if (json_array_size(runs) == 0 && json_array_size(warm) == 0)
        return;
    fputs(
        "<section id=\"runs\">\n<h2>Runs</h2>\n<div class=\"table-wrap\"><table "
        "class=\"sortable\" id=\"runs-table\"><thead><tr>"
        "<th class=\"num\" data-type=\"num\">#</th>"
        "<th class=\"num\" data-type=\"num\">Wall</th><th class=\"num\" data-type=\"num\">CPU</th>"
        "<th class=\"num\" data-type=\"num\">User</th><th class=\"num\" data-type=\"num\">Sys</th>"
        "<th class=\"num\" data-type=\"num\">CPU %</th>"
        "<th class=\"num\" data-type=\"num\">Peak RSS</th><th>Status</th>"
        "</tr></thead><tbody>\n",
        out);
    size_t i;
    const json_t *run;
    json_array_foreach(warm, i, run)
    {
        if (i < HTML_MAX_RUNS && json_is_object(run))
            write_run_row(out, run, i, true);
    }
    json_array_foreach(runs, i, run)
    {
        if (i < HTML_MAX_RUNS && json_is_object(run))
            write_run_row(out, run, i, false);
    }
    fputs("</tbody></table></div>\n<p class=\"note\">Warmup runs are not used in the "
          "statistics.</p>\n</section>\n",
          out);
}

/* ---- the page ------------------------------------------------------------------ */

/* Accept pyscope.report/1 and pyscope.run/1 (any minor version), or no schema at all. */
static int check_schema(const json_t *report, char *err, size_t errlen)
{
    if (!json_is_object(report)) {
        pyscope_set_err(err, errlen, "report is not a json object");
        return -PYSCOPE_ESCHEMA;
    }
    const json_t *schema = json_object_get(report, "schema");
    if (!schema)
        return 0;
    const char *s = json_string_value(schema);
    if (!s) {
        pyscope_set_err(err, errlen, "report field \"schema\" is not a string");
        return -PYSCOPE_ESCHEMA;
    }
    const char *ver = NULL;
    if (strncmp(s, "pyscope.report/", 15) == 0)
        ver = s + 15;
    else if (strncmp(s, "pyscope.run/", 12) == 0)
        ver = s + 12;
    char *end = NULL;
    long major = ver ? strtol(ver, &end, 10) : -1;
    if (!ver || end == ver || (*end != '\0' && *end != '.') || major != 1) {
        pyscope_set_err(err, errlen, "unsupported report schema \"%.64s\"", s);
        return -PYSCOPE_ESCHEMA;
    }
    return 0;
}

int html_report_write(FILE *out, const json_t *report, char *err, size_t errlen)
{
    int rc = check_schema(report, err, errlen);
    if (rc < 0)
        return rc;
    size_t kept = 0, total = 0;
    json_t *data = flame_data_new(report, &kept, &total);
    if (!data) {
        pyscope_set_err(err, errlen, "could not build flame graph data");
        return -ENOMEM;
    }
    const json_t *script = get_obj(report, "script");
    const char *key = json_get_string(script, "key", NULL);
    if (!key)
        key = json_get_string(script, "path", NULL);
    char title[256];
    snprintf(title, sizeof(title), "%.200s%sPyScope report", key ? key : "",
             key ? " \xe2\x80\x94 " : "");
    struct html_page page = {.title = title, .script = true};
    html_page_open(out, &page);
    write_header(out, report);
    fputs("<main>\n", out);
    write_summary(out, report);
    write_regression(out, report);
    write_suggestions(out, report);
    write_flame_section(out, kept, total);
    write_hotspots(out, report);
    write_memory(out, report);
    write_runs(out, report);
    fputs("</main>\n<script type=\"application/json\" id=\"data\">", out);
    rc = html_write_script_json(out, data);
    json_decref(data);
    if (rc < 0) {
        pyscope_set_err(err, errlen, "could not serialize flame graph data");
        return rc;
    }
    fputs("</script>\n", out);
    html_page_close(out, &page);
    if (fflush(out) != 0 || ferror(out)) {
        pyscope_set_err(err, errlen, "could not write html report: %s", strerror(errno));
        return -EIO;
    }
    return 0;
}
