/*
 * test_ci_report.c - JUnit XML and Markdown summaries: golden outputs, escaping of hostile
 * names, counts, files (replace and append).
 *
 * The golden files are tests/data/ci/expected.xml and expected.md; regenerate them with
 * PYSCOPE_UPDATE_GOLDEN=1 after an intended change, and review the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci_report.h"
#include "strbuf.h"
#include "xmalloc.h"

#define DATA PYSCOPE_TEST_DATA "/ci/"

struct docs {
    json_t *arr;
    const json_t **v;
    size_t n;
};

static void docs_load(struct docs *d)
{
    json_error_t jerr;
    d->arr = json_load_file(DATA "docs.json", 0, &jerr);
    assert_non_null(d->arr);
    d->n = json_array_size(d->arr);
    d->v = xcalloc(d->n, sizeof(*d->v));
    for (size_t i = 0; i < d->n; i++)
        d->v[i] = json_array_get(d->arr, i);
}

static void docs_free(struct docs *d)
{
    free(d->v);
    json_decref(d->arr);
}

/* Render with fn into a new string (caller frees). */
static char *render(int (*fn)(FILE *, const json_t *const *, size_t), const struct docs *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(fn(out, d->v, d->n), 0);
    fclose(out);
    return buf;
}

/* The whole file at path (new), or NULL when it cannot be read. */
static char *slurp(const char *path)
{
    struct strbuf b = {0};
    if (strbuf_read_file(&b, path, 16u << 20) < 0) {
        strbuf_release(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

static void golden(const char *name, const char *got)
{
    char *path = xasprintf(DATA "%s", name);
    if (getenv("PYSCOPE_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
    }
    char *want = slurp(path);
    assert_non_null(want);
    assert_string_equal(got, want);
    free(want);
    free(path);
}

static void test_junit_golden(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    char *xml = render(ci_report_junit, &d);
    golden("expected.xml", xml);
    /* hostile names never appear raw */
    assert_null(strstr(xml, "<slow>"));
    assert_null(strstr(xml, "]]>"));
    assert_null(strstr(xml, "\x01"));
    assert_non_null(strstr(xml, "examples/&lt;slow&gt; &amp; &quot;quoted&quot; &apos;x&apos;"));
    free(xml);
    docs_free(&d);
}

static void test_markdown_golden(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    char *md = render(ci_report_markdown, &d);
    golden("expected.md", md);
    assert_null(strstr(md, "<slow>"));
    assert_non_null(strstr(md, "&lt;slow&gt; &amp;"));
    assert_non_null(strstr(md, "\\|pipe\\_\\*.py"));
    free(md);
    docs_free(&d);
}

/* A hotspot function's regression does not fail the run (--fail-on-regression gates on the
 * whole-script metrics): its row is no "❌ regression", and a legend says what its mark means. */
static void test_markdown_hotspot_not_failed(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    char *md = render(ci_report_markdown, &d);
    const char *row = strstr(md, "| self time of x.py:");
    assert_non_null(row);
    const char *eol = strchr(row, '\n');
    assert_non_null(eol);
    char *line = xstrndup(row, (size_t)(eol - row));
    assert_null(strstr(line, "\xe2\x9d\x8c")); /* ❌ */
    assert_non_null(strstr(line, "| \xe2\x9a\xa0\xef\xb8\x8f slower (not failed on) |"));
    free(line);
    /* the whole-script regression keeps its mark */
    assert_non_null(strstr(md, "| wall time | 1.4520 s | 1.5494 s | +6.71% (+5.2% \xe2\x80\xa6 "
                               "+8.1%) | 0.002 | \xe2\x9d\x8c regression |"));
    assert_non_null(strstr(md, "\n\xe2\x9a\xa0\xef\xb8\x8f slower (not failed on): a hotspot "
                               "function's regression, reported to explain where the time went; "
                               "`--fail-on-regression` fails only on \xe2\x9d\x8c regression"));
    free(md);
    docs_free(&d);
}

static void test_counts(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    struct ci_report_tally t;
    ci_report_count(d.v, d.n, &t);
    assert_int_equal(t.documents, 4);
    assert_int_equal(t.regressions, 1);         /* wall time */
    assert_int_equal(t.hotspot_regressions, 1); /* a function: reported, not a failure */
    assert_int_equal(t.inconclusive, 2);
    assert_int_equal(t.no_change, 2);
    assert_int_equal(t.improvements, 0);
    assert_int_equal(t.no_baseline, 1);
    assert_int_equal(t.failed, 1);
    docs_free(&d);
}

static char *xml_of(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ci_report_xml_escape(out, s);
    fclose(out);
    return buf;
}

static void test_xml_escape(void **state)
{
    (void)state;
    char *s = xml_of("a&b<c>d\"e'f");
    assert_string_equal(s, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    free(s);
    /* controls are shown as the sanitiser's escapes (lib/sanitize.h); tab and LF are
     * kept as references */
    s = xml_of("x\x01y\x1fz\t\n\r");
    assert_string_equal(s, "x\\x01y\\x1fz&#9;&#10;\\r");
    free(s);
    /* invalid UTF-8 (each byte shown), a bidi override, then U+FFFE (XML forbids it) */
    s = xml_of("\xff\xed\xa0\x80\xc0\xaf\xe2\x80\xae\xef\xbf\xbe\xc3\xa9");
    assert_string_equal(s, "\\xff\\xed\\xa0\\x80\\xc0\\xaf\\u202e\xef\xbf\xbd\xc3\xa9");
    free(s);
    s = xml_of(NULL);
    assert_string_equal(s, "");
    free(s);
}

static void test_md_escape(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ci_report_md_escape(out, "a|b*c_d`e[f](g)<h>&\n~#!\x1b[2J\xe2\x80\xae");
    fclose(out);
    /* the newline, ESC and U+202E are shown as escapes, whose backslash Markdown escapes */
    assert_string_equal(buf, "a\\|b\\*c\\_d\\`e\\[f\\]\\(g\\)&lt;h&gt;&amp;\\\\n\\~\\#\\!"
                             "\\\\x1b\\[2J\\\\u202e");
    free(buf);
}

static void test_metric_text(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    const json_t *m =
        json_array_get(json_object_get(json_object_get(d.v[0], "regression"), "metrics"), 0);
    char *s = ci_report_metric_text(m);
    assert_string_equal(s, "wall time: 1.4520 s -> 1.5494 s (+6.71%, 95% CI +5.2% \xe2\x80\xa6 "
                           "+8.1%, p=0.002, noise 1.9%, threshold 5%, baseline 3 runs x 10, "
                           "candidate 10 samples)");
    free(s);
    json_t *empty = json_object();
    s = ci_report_metric_text(empty);
    assert_string_equal(s, "?: ? -> ? (?)");
    free(s);
    json_decref(empty);
    docs_free(&d);
}

/* The first "why" function of doc's regression calls library code (regress.h:
 * why_functions) that holds delta of its change, share_pct of the whole. */
static void set_library(json_t *doc, double delta, double share_pct)
{
    json_object_set_new(
        json_array_get(json_object_get(json_object_get(json_object_get(doc, "regression"), "why"),
                                       "functions"),
                       0),
        "library",
        json_pack("[{s:s, s:f, s:f}]", "key", "json/encoder.py:_iterencode_list:278", "delta",
                  delta, "share_pct", share_pct));
}

/* An instructions regression decided by the exact rule (the same count every run, as
 * try --instructions gives): its p-value means nothing, and its "why" is in instructions
 * (stranger17's defect 8: the row showed "0.194" and the heading said "self time"). */
static void test_instructions_exact(void **state)
{
    (void)state;
    json_t *doc = json_pack(
        "{s:{s:s}, s:{s:s}, s:{s:[{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f}],"
        " s:{s:s, s:[{s:s, s:f, s:f}]}}}",
        "script", "key", "bench.py", "status", "outcome", "ok", "regression", "metrics", "metric",
        "instructions", "unit", "instructions", "verdict", "regression", "rule", "deterministic",
        "baseline_median", 313604100.0, "candidate_median", 331178200.0, "change_pct", 5.6,
        "ci_low_pct", 5.6, "ci_high_pct", 5.6, "p_value", 0.194, "why", "basis", "instructions",
        "functions", "key", "bench.py:f", "delta", 17574100.0, "share_pct", 100.0);
    assert_non_null(doc);
    json_object_set_new(json_object_get(doc, "regression"), "status", json_string("compared"));
    /* the library code f calls, where most of its change went (regress.h: why_functions) */
    set_library(doc, 13180575.0, 75.0);
    const json_t *v[1] = {doc};
    struct docs d = {.arr = NULL, .v = v, .n = 1};
    char *md = render(ci_report_markdown, &d);
    assert_non_null(strstr(md, "| \xe2\x80\x94 | \xe2\x9d\x8c regression"));
    assert_null(strstr(md, "0.194"));
    assert_non_null(strstr(md, "**Why** (instructions by CPU self-time share, candidate vs "
                               "baseline median):"));
    assert_non_null(strstr(md, "bench.py: +17.5741M bench.py:f (100% of the change), mostly in "
                               "library code it calls: json/encoder.py:\\_iterencode\\_list:278 "
                               "(75%)\n"));
    free(md);
    char *xml = render(ci_report_junit, &d);
    assert_non_null(strstr(xml, "bench.py:f (100% of the change), mostly in library code it "
                                "calls: json/encoder.py:_iterencode_list:278 (75%)"));
    assert_null(strstr(xml, "0.194"));
    assert_non_null(strstr(xml, "Why (instructions by CPU self-time share"));
    free(xml);
    /* a library part that holds little of f's change is not where it "mostly" went: f's
     * own code changed, and the library code it calls a little (why_functions lists any
     * part of at least 1% of the change) */
    set_library(doc, 351482.0, 2.0);
    md = render(ci_report_markdown, &d);
    assert_null(strstr(md, "mostly"));
    assert_non_null(strstr(md, "bench.py:f (100% of the change), partly in library code it "
                               "calls: json/encoder.py:\\_iterencode\\_list:278 (2%)\n"));
    free(md);
    xml = render(ci_report_junit, &d);
    assert_null(strstr(xml, "mostly"));
    assert_non_null(strstr(xml, "bench.py:f (100% of the change), partly in library code it "
                                "calls: json/encoder.py:_iterencode_list:278 (2%)"));
    free(xml);
    /* too few samples to name a function (issue 11): both files say so, name none */
    json_t *why = json_object_get(json_object_get(doc, "regression"), "why");
    json_object_set_new(why, "functions", json_array());
    json_object_set_new(
        why, "too_few_samples",
        json_pack("{s:s}", "note", "too few samples to name a function: 4 per run"));
    md = render(ci_report_markdown, &d);
    assert_non_null(strstr(md, "bench.py: why: too few samples to name a function: 4 per run\n"));
    assert_null(strstr(md, "bench.py:f"));
    free(md);
    xml = render(ci_report_junit, &d);
    assert_non_null(strstr(xml, "Why: too few samples to name a function: 4 per run"));
    free(xml);
    json_decref(doc);
}

static void test_files(void **state)
{
    (void)state;
    struct docs d;
    docs_load(&d);
    char tmpl[] = "/tmp/pyscope_ci_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char *md = xasprintf("%s/summary.md", dir);
    char *xml = xasprintf("%s/junit.xml", dir);
    char err[512];
    assert_int_equal(ci_report_write_file(xml, false, CI_REPORT_JUNIT, d.v, d.n, err, sizeof(err)),
                     0);
    char *got = slurp(xml);
    char *want = slurp(DATA "expected.xml");
    assert_string_equal(got, want);
    free(got);
    free(want);
    /* append twice: two summaries separated by a blank line */
    assert_int_equal(ci_report_write_file(md, true, CI_REPORT_MARKDOWN, d.v, 1, err, sizeof(err)),
                     0);
    assert_int_equal(ci_report_write_file(md, true, CI_REPORT_MARKDOWN, d.v, 1, err, sizeof(err)),
                     0);
    got = slurp(md);
    char *first = strstr(got, "## PyScope");
    assert_non_null(first);
    assert_ptr_equal(first, got);
    char *second = strstr(first + 1, "\n\n## PyScope");
    assert_non_null(second);
    free(got);
    /* a missing folder: error naming the file */
    char *bad = xasprintf("%s/missing/junit.xml", dir);
    assert_int_equal(ci_report_write_file(bad, false, CI_REPORT_JUNIT, d.v, d.n, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "could not write JUnit file"));
    assert_non_null(strstr(err, bad));
    free(bad);
    unlink(md);
    unlink(xml);
    rmdir(dir);
    free(md);
    free(xml);
    docs_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_junit_golden),
        cmocka_unit_test(test_markdown_golden),
        cmocka_unit_test(test_markdown_hotspot_not_failed),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_xml_escape),
        cmocka_unit_test(test_md_escape),
        cmocka_unit_test(test_metric_text),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_instructions_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
