/*
 * ci_report.c - JUnit XML and Markdown summaries of regression checks.
 *
 * Both writers walk the same data: for each document its script key, host,
 * status and "regression" object (docs/json-schema.md). Numbers that are
 * missing or not finite print as "?" (text) or are left out (attributes).
 */
#include "ci_report.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "errors.h"
#include "jsonutil.h"
#include "regress.h"
#include "sanitize.h"
#include "xmalloc.h"

#define CI_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define CI_MAX_WHY     5              /* functions listed as evidence */

/* ---- reading ------------------------------------------------------------- */

static const char *ci_script_name(const json_t *doc)
{
    const json_t *script = json_object_get(doc, "script");
    const char *s = json_get_string(script, "key", NULL);
    if (!s)
        s = json_get_string(script, "path", NULL);
    return s ? s : "(unknown script)";
}

static const char *ci_verdict(const json_t *m)
{
    const char *v = json_get_string(m, "verdict", NULL);
    return v ? v : "unknown";
}

static bool ci_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* True when the document's script ran to the end (a missing status counts as ok). */
static bool ci_doc_ok(const json_t *doc)
{
    const json_t *status = json_object_get(doc, "status");
    const char *outcome = json_get_string(status, "outcome", NULL);
    return !status || !outcome || strcmp(outcome, "ok") == 0;
}

static bool ci_compared(const json_t *reg)
{
    return ci_is(json_get_string(reg, "status", NULL), "compared");
}

void ci_report_count(const json_t *const *docs, size_t n, struct ci_report_tally *t)
{
    memset(t, 0, sizeof(*t));
    t->documents = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *reg = json_object_get(docs[i], "regression");
        if (!ci_doc_ok(docs[i]) && !ci_compared(reg)) {
            t->failed++;
            continue;
        }
        if (!ci_compared(reg)) {
            t->no_baseline++;
            continue;
        }
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(reg, "metrics"), k, m)
        {
            const char *v = ci_verdict(m);
            if (ci_is(v, "regression") && json_object_get(m, "function"))
                t->hotspot_regressions++;
            else if (ci_is(v, "regression"))
                t->regressions++;
            else if (ci_is(v, "improvement"))
                t->improvements++;
            else if (ci_is(v, "inconclusive"))
                t->inconclusive++;
            else
                t->no_change++;
        }
    }
}

/* ---- text pieces ----------------------------------------------------------- */

/* A metric's label: "wall time", "CPU time", "peak memory", "self time of KEY". New string. */
static char *ci_metric_label(const json_t *m)
{
    const char *name = json_get_string(m, "metric", NULL);
    const char *fn = json_get_string(m, "function", NULL);
    if (!name)
        name = "?";
    if (fn)
        return xasprintf("%s of %s",
                         ci_is(name, "self_s")       ? "self time"
                         : ci_is(name, "self_cpu_s") ? "CPU self time"
                                                     : "total time",
                         fn);
    if (ci_is(name, "wall_s"))
        return xstrdup("wall time");
    if (ci_is(name, "cpu_s"))
        return xstrdup("CPU time");
    if (ci_is(name, "peak_rss_bytes"))
        return xstrdup("peak memory");
    return xstrdup(name);
}

/* Format a value of unit ("s", "bytes" or "instructions") into buf. */
static void ci_fmt_value(char *buf, size_t len, const json_t *m, const char *key)
{
    double v;
    if (!json_get_finite(m, key, &v)) {
        snprintf(buf, len, "?");
        return;
    }
    if (ci_is(json_get_string(m, "unit", NULL), "bytes"))
        snprintf(buf, len, "%.2f MiB", v / (1024.0 * 1024.0));
    else if (ci_is(json_get_string(m, "unit", NULL), "instructions"))
        snprintf(buf, len, "%.4f M instructions", v / 1e6);
    else
        snprintf(buf, len, "%.4f s", v);
}

static void ci_fmt_change(char *buf, size_t len, const json_t *m)
{
    double c;
    if (json_get_finite(m, "change_pct", &c))
        snprintf(buf, len, "%+.2f%%", c);
    else
        snprintf(buf, len, "?");
}

static void ci_fmt_ci(char *buf, size_t len, const json_t *m)
{
    double lo, hi;
    if (json_get_finite(m, "ci_low_pct", &lo) && json_get_finite(m, "ci_high_pct", &hi))
        snprintf(buf, len, "%+.1f%% \xe2\x80\xa6 %+.1f%%", lo, hi);
    else
        buf[0] = '\0';
}

/* The p-value of m into buf ("" when it has none; "\xe2\x80\x94" when the exact rule decided:
 * equal counts on each side are no sample of a distribution, their p-value means nothing). */
static void ci_fmt_p(char *buf, size_t len, const json_t *m)
{
    double p;
    if (ci_is(json_get_string(m, "rule", NULL), "deterministic"))
        snprintf(buf, len, "\xe2\x80\x94"); /* — */
    else if (!json_get_finite(m, "p_value", &p))
        buf[0] = '\0';
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
}

char *ci_report_metric_text(const json_t *m)
{
    char *label = ci_metric_label(m);
    char base[64], cand[64], change[32], ci[64], p[16];
    ci_fmt_value(base, sizeof(base), m, "baseline_median");
    ci_fmt_value(cand, sizeof(cand), m, "candidate_median");
    ci_fmt_change(change, sizeof(change), m);
    ci_fmt_ci(ci, sizeof(ci), m);
    ci_fmt_p(p, sizeof(p), m);
    char *s = xasprintf("%s: %s -> %s (%s", label, base, cand, change);
    free(label);
#define CI_APPEND(...)                                                                             \
    do {                                                                                           \
        char *more = xasprintf(__VA_ARGS__);                                                       \
        char *joined = xasprintf("%s%s", s, more);                                                 \
        free(more);                                                                                \
        free(s);                                                                                   \
        s = joined;                                                                                \
    } while (0)
    if (ci[0])
        CI_APPEND(", 95%% CI %s", ci);
    if (ci_is(json_get_string(m, "rule", NULL), "deterministic"))
        CI_APPEND(", the same count every run: exact rule");
    else if (p[0])
        CI_APPEND(", p%s%s", p[0] == '<' ? "" : "=", p);
    double v;
    if (json_get_finite(m, "noise_pct", &v))
        CI_APPEND(", noise %.1f%%", v);
    if (json_get_finite(m, "threshold_pct", &v))
        CI_APPEND(", threshold %g%%", v);
    const json_t *b = json_object_get(m, "baseline");
    double nr, per, ns;
    if (json_get_finite(b, "n_runs", &nr) && json_get_finite(b, "samples_per_run", &per))
        CI_APPEND(", baseline %.0f run%s x %.0f", nr, nr == 1 ? "" : "s", per);
    else if (json_get_finite(b, "n_runs", &nr) && json_get_finite(b, "n_samples", &ns))
        CI_APPEND(", baseline %.0f runs, %.0f samples", nr, ns);
    if (json_get_finite(json_object_get(m, "candidate"), "n_samples", &ns))
        CI_APPEND(", candidate %.0f sample%s", ns, ns == 1 ? "" : "s");
    CI_APPEND(")");
    const char *mode = json_get_string(m, "mode", NULL);
    if (ci_is(mode, "threshold"))
        CI_APPEND(" [threshold mode: too few samples for a test]");
#undef CI_APPEND
    return s;
}

/* ---- XML ------------------------------------------------------------------- */

void ci_report_xml_escape(FILE *out, const char *s)
{
    /* the sanitiser's display form first (lib/sanitize.h), then XML's entities */
    char *safe = sanitize_dup(s ? s : "", SANITIZE_KEEP_NEWLINES);
    const unsigned char *p = (const unsigned char *)safe, *end = p + strlen(safe);
    while (*p) {
        uint32_t cp;
        size_t len = sanitize_utf8_seq(p, (size_t)(end - p), &cp);
        if (len == 0) {
            fputs(CI_REPLACEMENT, out);
            p++;
            continue;
        }
        switch (cp) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        case '\t':
            fputs("&#9;", out);
            break;
        case '\n':
            fputs("&#10;", out);
            break;
        case '\r':
            fputs("&#13;", out);
            break;
        default:
            /* XML 1.0 Char: no C0 controls but tab/LF/CR, no U+FFFE/U+FFFF */
            if (cp < 0x20 || cp == 0xfffe || cp == 0xffff)
                fputs(CI_REPLACEMENT, out);
            else
                fwrite(p, 1, len, out);
        }
        p += len;
    }
    free(safe);
}

/* Write ` name="value"` (value escaped). */
static void ci_xml_attr(FILE *out, const char *name, const char *value)
{
    fprintf(out, " %s=\"", name);
    ci_report_xml_escape(out, value);
    fputc('"', out);
}

/* The change of why's (borrowed) function f in its basis' unit into buf: "+0.0123 s",
 * "+1.2345M" (instructions) or "" when unknown. */
static void ci_fmt_why_delta(char *buf, size_t len, const json_t *why, const json_t *f)
{
    double d;
    if (ci_is(json_get_string(why, "basis", NULL), "instructions") &&
        json_get_finite(f, "delta", &d))
        snprintf(buf, len, "%+.4fM", d / 1e6);
    else if (json_get_finite(f, "delta_s", &d))
        snprintf(buf, len, "%+.4f s", d);
    else
        buf[0] = '\0';
}

/* The library code the "why" function f calls that holds most of its change (the first
 * of its "library", regress.h), its share of the change in *share, and *how: "mostly"
 * when it holds at least half of f's change, else "partly"; NULL: none. */
static const json_t *ci_why_library(const json_t *f, double *share, const char **how)
{
    const json_t *lib = json_array_get(json_object_get(f, "library"), 0);
    double own;
    if (!lib || !json_get_finite(lib, "share_pct", share))
        return NULL;
    *how = json_get_finite(f, "share_pct", &own) && 2 * *share >= own ? "mostly" : "partly";
    return lib;
}

/* One function f of a why (borrowed): its change, then sep, its key, its share of the
 * change and the library part it called, each text through escape. */
static void ci_why_item(FILE *out, const json_t *why, const json_t *f, const char *sep,
                        void (*escape)(FILE *, const char *))
{
    double share;
    char delta[48];
    ci_fmt_why_delta(delta, sizeof(delta), why, f);
    fprintf(out, "%s%s", delta, *delta ? sep : "");
    escape(out, json_get_string(f, "key", NULL));
    if (json_get_finite(f, "share_pct", &share))
        fprintf(out, " (%.0f%% of the change)", share);
    const char *how;
    const json_t *lib = ci_why_library(f, &share, &how);
    if (lib) {
        fprintf(out, ", %s in library code it calls: ", how);
        escape(out, json_get_string(lib, "key", NULL));
        fprintf(out, " (%.0f%%)", share);
    }
}

/* Write the "why" evidence lines of reg (borrowed), escaped. */
static void ci_xml_why(FILE *out, const json_t *reg)
{
    const json_t *why = json_object_get(reg, "why");
    const json_t *fns = json_object_get(why, "functions");
    size_t i;
    const json_t *f;
    /* too few samples to name a function (lib/regress.c): it says so */
    const char *too_few = json_get_string(json_object_get(why, "too_few_samples"), "note", NULL);
    if (too_few) {
        fputs("&#10;Why: ", out);
        ci_report_xml_escape(out, too_few);
    }
    if (json_array_size(fns))
        fprintf(out, "&#10;Why (%s, candidate vs baseline median):",
                regress_why_basis_text(json_get_string(why, "basis", NULL)));
    json_array_foreach(fns, i, f)
    {
        if (i == CI_MAX_WHY)
            break;
        fputs("&#10;  ", out);
        ci_why_item(out, why, f, "  ", ci_report_xml_escape);
    }
    if (json_is_true(json_object_get(why, "script_changed")))
        fputs("&#10;Note: the script changed since the baseline (sha256 differs)", out);
    if (json_is_true(json_object_get(why, "python_changed")))
        fputs("&#10;Note: the Python build changed since the baseline", out);
    if (json_is_true(json_object_get(why, "host_changed")))
        fputs("&#10;Note: the host changed since the baseline", out);
    if (json_is_true(json_object_get(why, "mode_changed")))
        fputs("&#10;Note: the baseline was profiled in another mode (sample vs trace)", out);
}

/* The test cases of tally t: one per metric, or per document without a comparison. */
static size_t ci_tally_tests(const struct ci_report_tally *t)
{
    return t->regressions + t->hotspot_regressions + t->improvements + t->inconclusive +
           t->no_change + t->no_baseline + t->failed;
}

/* Counts of one document for the <testsuite> attributes. */
static void ci_doc_counts(const json_t *doc, size_t *tests, size_t *failures, size_t *skipped,
                          size_t *errors)
{
    struct ci_report_tally t;
    ci_report_count(&doc, 1, &t);
    *failures = t.regressions;
    *skipped = t.inconclusive + t.no_baseline;
    *errors = t.failed;
    *tests = ci_tally_tests(&t);
}

static void ci_junit_case_open(FILE *out, const char *classname, const char *name)
{
    fputs("    <testcase", out);
    ci_xml_attr(out, "classname", classname);
    ci_xml_attr(out, "name", name);
}

/* The <testcase> of metric m of script's comparison reg (borrowed). */
static void ci_junit_metric(FILE *out, const char *script, const json_t *reg, const json_t *m)
{
    char *label = ci_metric_label(m);
    const char *metric = json_get_string(m, "metric", NULL);
    const char *fn = json_get_string(m, "function", NULL);
    char *name =
        fn ? xasprintf("%s %s", metric ? metric : "?", fn) : xstrdup(metric ? metric : "?");
    ci_junit_case_open(out, script, name);
    free(name);
    const char *v = ci_verdict(m);
    char *text = ci_report_metric_text(m);
    if (ci_is(v, "regression") && fn) {
        /* a hotspot's regression explains the script's result, it does not fail it:
         * a passing test case with the evidence */
        char change[32];
        ci_fmt_change(change, sizeof(change), m);
        fputs(">\n      <system-out>", out);
        char *msg = xasprintf("%s regressed by %s (a hotspot: reported, not a failure "
                              "of the script); %s",
                              label, change, text);
        ci_report_xml_escape(out, msg);
        free(msg);
        fputs("</system-out>\n    </testcase>\n", out);
    } else if (ci_is(v, "regression")) {
        char change[32];
        ci_fmt_change(change, sizeof(change), m);
        char *msg = xasprintf("%s regressed by %s", label, change);
        fputs(">\n      <failure", out);
        ci_xml_attr(out, "type", "regression");
        ci_xml_attr(out, "message", msg);
        fputc('>', out);
        ci_report_xml_escape(out, text);
        ci_xml_why(out, reg);
        fputs("</failure>\n    </testcase>\n", out);
        free(msg);
    } else if (ci_is(v, "inconclusive")) {
        const char *hint = json_get_string(m, "hint", NULL),
                   *reason = json_get_string(m, "reason", NULL);
        char *msg = xasprintf("inconclusive: %s%s%s; %s", reason ? reason : "", reason ? "; " : "",
                              hint ? hint : "rerun to confirm", text);
        fputs(">\n      <skipped", out);
        ci_xml_attr(out, "message", msg);
        fputs("/>\n    </testcase>\n", out);
        free(msg);
    } else {
        fputs(">\n      <system-out>", out);
        ci_report_xml_escape(out, v);
        fputs(": ", out);
        ci_report_xml_escape(out, text);
        fputs("</system-out>\n    </testcase>\n", out);
    }
    free(text);
    free(label);
}

static void ci_junit_doc(FILE *out, const json_t *doc)
{
    const char *script = ci_script_name(doc);
    const json_t *reg = json_object_get(doc, "regression");
    const json_t *host = json_object_get(doc, "host");
    size_t tests, failures, skipped, errors;
    ci_doc_counts(doc, &tests, &failures, &skipped, &errors);
    fputs("  <testsuite", out);
    ci_xml_attr(out, "name", script);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"", tests, failures,
            errors, skipped);
    if (json_get_string(host, "hostname", NULL))
        ci_xml_attr(out, "hostname", json_get_string(host, "hostname", NULL));
    if (json_get_string(doc, "created", NULL))
        ci_xml_attr(out, "timestamp", json_get_string(doc, "created", NULL));
    fputs(">\n    <properties>\n", out);
    static const char *const props[][3] = {
        {"id", NULL, "run.id"},
        {"host", "fingerprint", "host.fingerprint"},
        {"python", "build", "python.build"},
        {"files", "json", "report.json"},
        {"files", "html", "report.html"},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        const char *v = props[i][1]
                            ? json_get_string(json_object_get(doc, props[i][0]), props[i][1], NULL)
                            : json_get_string(doc, props[i][0], NULL);
        if (!v)
            continue;
        fputs("      <property", out);
        ci_xml_attr(out, "name", props[i][2]);
        ci_xml_attr(out, "value", v);
        fputs("/>\n", out);
    }
    double thr;
    if (json_get_finite(reg, "threshold_pct", &thr))
        fprintf(out, "      <property name=\"threshold_pct\" value=\"%g\"/>\n", thr);
    fputs("    </properties>\n", out);

    if (!ci_doc_ok(doc) && !ci_compared(reg)) {
        ci_junit_case_open(out, script, "run");
        const char *msg = json_get_string(json_object_get(doc, "status"), "message", NULL);
        fputs(">\n      <error", out);
        ci_xml_attr(out, "type", "script_failed");
        ci_xml_attr(out, "message", msg ? msg : "the script failed");
        fputs("/>\n    </testcase>\n", out);
    } else if (!ci_compared(reg)) {
        ci_junit_case_open(out, script, "regression_check");
        const char *msg = json_get_string(reg, "message", NULL);
        fputs(">\n      <skipped", out);
        ci_xml_attr(out, "message",
                    msg ? msg : "no regression check (first run of this script on this host)");
        fputs("/>\n    </testcase>\n", out);
    } else {
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(reg, "metrics"), i, m)
            ci_junit_metric(out, script, reg, m);
    }
    fputs("  </testsuite>\n", out);
}

int ci_report_junit(FILE *out, const json_t *const *docs, size_t n)
{
    struct ci_report_tally t;
    ci_report_count(docs, n, &t);
    size_t tests = ci_tally_tests(&t);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<testsuites name=\"pyscope\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
            "skipped=\"%zu\">\n",
            tests, t.regressions, t.failed, t.inconclusive + t.no_baseline);
    for (size_t i = 0; i < n; i++)
        ci_junit_doc(out, docs[i]);
    fputs("</testsuites>\n", out);
    return ferror(out) ? -EIO : 0;
}

/* ---- Markdown -------------------------------------------------------------- */

void ci_report_md_escape(FILE *out, const char *s)
{
    /* the sanitiser's display form first (lib/sanitize.h), then Markdown's escapes */
    char *safe = sanitize_dup(s ? s : "", 0);
    const unsigned char *p = (const unsigned char *)safe;
    for (; *p; p++) {
        unsigned char c = *p;
        if (c == '&')
            fputs("&amp;", out);
        else if (c == '<')
            fputs("&lt;", out);
        else if (c == '>')
            fputs("&gt;", out);
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', out);
        else if (strchr("\\`*_[]()|~#!{}", c))
            fprintf(out, "\\%c", c);
        else
            fputc(c, out);
    }
    free(safe);
}

/* A hotspot function's regression: reported, not failed on (regress_has_regression) */
#define CI_MD_HOTSPOT_SLOWER "\xe2\x9a\xa0\xef\xb8\x8f slower (not failed on)" /* ⚠️ */

/* The verdict cell of verdict v; hotspot: the metric is a function's. */
static const char *ci_md_glyph(const char *v, bool hotspot)
{
    if (ci_is(v, "regression") && hotspot)
        return CI_MD_HOTSPOT_SLOWER;
    if (ci_is(v, "regression"))
        return "\xe2\x9d\x8c regression"; /* ❌ */
    if (ci_is(v, "improvement"))
        return "\xe2\x9c\x85 improvement"; /* ✅ */
    if (ci_is(v, "inconclusive"))
        return "\xe2\x9d\x93 inconclusive"; /* ❓ */
    if (ci_is(v, "no_change"))
        return "\xe2\x9c\x94\xef\xb8\x8f no change"; /* ✔️ */
    return "unknown";
}

static void ci_md_row(FILE *out, const char *script, const json_t *m)
{
    char *label = ci_metric_label(m);
    char base[64], cand[64], change[32], ci[64], p[16];
    ci_fmt_value(base, sizeof(base), m, "baseline_median");
    ci_fmt_value(cand, sizeof(cand), m, "candidate_median");
    ci_fmt_change(change, sizeof(change), m);
    ci_fmt_ci(ci, sizeof(ci), m);
    ci_fmt_p(p, sizeof(p), m);
    fputs("| ", out);
    ci_report_md_escape(out, script);
    fputs(" | ", out);
    ci_report_md_escape(out, label);
    fprintf(out, " | %s | %s | %s", base, cand, change);
    if (ci[0])
        fprintf(out, " (%s)", ci);
    fputs(" | ", out);
    ci_report_md_escape(out, p);
    fprintf(out, " | %s", ci_md_glyph(ci_verdict(m), json_object_get(m, "function") != NULL));
    const char *hint = json_get_string(m, "hint", NULL),
               *reason = json_get_string(m, "reason", NULL);
    if (!ci_is(ci_verdict(m), "no_change")) {
        const char *sep = ": ";
        if (reason) {
            fputs(sep, out);
            ci_report_md_escape(out, reason);
            sep = "; ";
        }
        if (hint) {
            fputs(sep, out);
            ci_report_md_escape(out, hint);
        }
    }
    fputs(" |\n", out);
    free(label);
}

/* The markdown summary's "Why" lines: the functions that explain each regression of
 * docs[0..n), or why none is named. */
static void ci_md_why(FILE *out, const json_t *const *docs, size_t n)
{
    const char *header = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *reg = json_object_get(docs[i], "regression");
        struct ci_report_tally one;
        ci_report_count(&docs[i], 1, &one);
        const json_t *why = json_object_get(reg, "why");
        const json_t *fns = json_object_get(why, "functions");
        const char *too_few =
            json_get_string(json_object_get(why, "too_few_samples"), "note", NULL);
        if (one.regressions && too_few) { /* lib/regress.c: no function named on noise */
            fputs("\n- ", out);
            ci_report_md_escape(out, ci_script_name(docs[i]));
            fputs(": why: ", out);
            ci_report_md_escape(out, too_few);
            fputs("\n", out);
            header = NULL;
        }
        if (!one.regressions || !json_array_size(fns))
            continue;
        /* the text's words for what the functions' changes measure (regress_print) */
        const char *basis = regress_why_basis_text(json_get_string(why, "basis", NULL));
        if (!header || strcmp(header, basis) != 0)
            fprintf(out, "\n**Why** (%s, candidate vs baseline median):\n\n", basis);
        header = basis;
        size_t k;
        const json_t *f;
        json_array_foreach(fns, k, f)
        {
            if (k == CI_MAX_WHY)
                break;
            fputs("- ", out);
            ci_report_md_escape(out, ci_script_name(docs[i]));
            fputs(": ", out);
            ci_why_item(out, why, f, " ", ci_report_md_escape);
            fputc('\n', out);
        }
    }
}

int ci_report_markdown(FILE *out, const json_t *const *docs, size_t n)
{
    struct ci_report_tally t;
    ci_report_count(docs, n, &t);
    fputs("## PyScope performance check\n\n", out);
    fprintf(out, "%s **%zu regression%s**", t.regressions ? "\xe2\x9d\x8c" : "\xe2\x9c\x85",
            t.regressions, t.regressions == 1 ? "" : "s");
    /* a hotspot's regression explains, it does not fail the run (regress_has_regression) */
    if (t.hotspot_regressions)
        fprintf(out, ", %zu hotspot regression%s (reported, not failed on)", t.hotspot_regressions,
                t.hotspot_regressions == 1 ? "" : "s");
    fprintf(out, ", %zu improvement%s, %zu inconclusive, %zu unchanged", t.improvements,
            t.improvements == 1 ? "" : "s", t.inconclusive, t.no_change);
    fprintf(out, " \xe2\x80\x94 %zu script%s", n, n == 1 ? "" : "s");
    if (t.no_baseline)
        fprintf(out, ", %zu without a baseline", t.no_baseline);
    if (t.failed)
        fprintf(out, ", %zu failed", t.failed);
    fputs("\n\n", out);
    if (n == 0)
        return ferror(out) ? -EIO : 0;
    fputs("| Script | Metric | Baseline | Candidate | Change (95% CI) | p | Verdict |\n"
          "|:--|:--|--:|--:|:--|--:|:--|\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const char *script = ci_script_name(docs[i]);
        const json_t *reg = json_object_get(docs[i], "regression");
        if (!ci_doc_ok(docs[i]) && !ci_compared(reg)) {
            const char *msg = json_get_string(json_object_get(docs[i], "status"), "message", NULL);
            fputs("| ", out);
            ci_report_md_escape(out, script);
            fputs(" | | | | | | \xf0\x9f\x92\xa5 script failed: ", out); /* 💥 */
            ci_report_md_escape(out, msg ? msg : "?");
            fputs(" |\n", out);
            continue;
        }
        if (!ci_compared(reg)) {
            const char *msg = json_get_string(reg, "message", NULL);
            fputs("| ", out);
            ci_report_md_escape(out, script);
            fputs(" | | | | | | \xe2\x9e\x96 no baseline: ", out); /* ➖ */
            ci_report_md_escape(out, msg ? msg : "first run of this script on this host");
            fputs(" |\n", out);
            continue;
        }
        size_t k;
        const json_t *m;
        json_array_foreach(json_object_get(reg, "metrics"), k, m)
        {
            const char *v = ci_verdict(m);
            if (json_get_string(m, "function", NULL) && !ci_is(v, "regression") &&
                !ci_is(v, "improvement"))
                continue;
            ci_md_row(out, script, m);
        }
    }
    if (t.hotspot_regressions)
        fputs("\n" CI_MD_HOTSPOT_SLOWER ": a hotspot function's regression, reported to explain "
              "where the time went; `--fail-on-regression` fails only on \xe2\x9d\x8c regression, "
              "a whole-script metric's (wall time, CPU time, peak memory, instructions).\n",
              out);
    ci_md_why(out, docs, n);
    return ferror(out) ? -EIO : 0;
}

/* ---- files ------------------------------------------------------------------ */

static int ci_write(FILE *out, enum ci_report_format format, const json_t *const *docs, size_t n)
{
    return format == CI_REPORT_JUNIT ? ci_report_junit(out, docs, n)
                                     : ci_report_markdown(out, docs, n);
}

int ci_report_write_file(const char *path, bool append, enum ci_report_format format,
                         const json_t *const *docs, size_t n, char *err, size_t errlen)
{
    int rc = 0;
    if (!append) {
        /* replaced whole or not at all */
        struct atomicfile af;
        rc = atomic_open(&af, path);
        if (rc == 0)
            rc = atomic_commit(&af, path, ci_write(af.f, format, docs, n));
    } else {
        FILE *out = fopen(path, "a");
        if (!out) {
            rc = -errno;
        } else {
            if (ftell(out) > 0)
                fputc('\n', out);
            rc = ci_write(out, format, docs, n);
            if (fflush(out) == EOF && rc == 0)
                rc = -errno;
            if (ferror(out) && rc == 0)
                rc = -EIO;
            if (fclose(out) == EOF && rc == 0)
                rc = -errno;
        }
    }
    if (rc < 0)
        pyscope_set_err(err, errlen, "could not write %s \"%s\": %s",
                        format == CI_REPORT_JUNIT ? "JUnit file" : "Markdown summary", path,
                        strerror(-rc));
    return rc;
}
