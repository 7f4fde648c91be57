/* test_flamediff.c - the differential flame graph: weights, pruning, JSON round trip, SVG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "flamediff.h"

/* {"frames": [...keys], "samples": n} */
static json_t *stack(int samples, const char *a, const char *b, const char *c)
{
    json_t *fr = json_array();
    const char *keys[] = {a, b, c};
    for (int i = 0; i < 3 && keys[i]; i++)
        json_array_append_new(fr, json_string(keys[i]));
    return json_pack("{s:o, s:i, s:s}", "frames", fr, "samples", samples, "thread", "MainThread");
}

#define MAIN "app.py:main:1"
#define WORK "app.py:work:10"
#define SLOW "app.py:slow:20"
#define GONE "app.py:cache:30"

/* Baseline: main 1.0 s = work 0.6 + slow 0.3 + cache 0.1; candidate: main 2.0 s = work 0.6 +
 * slow 1.4. */
static struct flame_diff *sample_diff(void)
{
    struct flame_diff *fd = flame_diff_new();
    json_t *base = json_pack("[o, o, o]", stack(60, MAIN, WORK, NULL), stack(30, MAIN, SLOW, NULL),
                             stack(10, MAIN, GONE, NULL));
    json_t *cand = json_pack("[o, o]", stack(60, MAIN, WORK, NULL), stack(140, MAIN, SLOW, NULL));
    assert_true(flame_diff_add_run(fd, FLAME_BASE, base, NULL, 1.0));
    assert_true(flame_diff_add_run(fd, FLAME_BASE, base, NULL, 1.0)); /* two equal runs: mean */
    assert_true(flame_diff_add_run(fd, FLAME_CAND, cand, NULL, 2.0));
    json_decref(base);
    json_decref(cand);
    return fd;
}

/* The node of frame key in a flame_diff_to_json document: [parent, frame, base, cand]. */
static const json_t *node_of(const json_t *doc, const char *key)
{
    const json_t *frames = json_object_get(doc, "frames");
    size_t i;
    const json_t *n;
    json_array_foreach(json_object_get(doc, "nodes"), i, n)
    {
        json_int_t f = json_integer_value(json_array_get(n, 1));
        if (strcmp(json_string_value(json_array_get(frames, (size_t)f)), key) == 0)
            return n;
    }
    return NULL;
}

static double w(const json_t *node, int side)
{
    return json_number_value(json_array_get(node, 2 + (size_t)side));
}

/* not inlined: gcc's -Wdangling-pointer takes the memstream's buffer for a local */
__attribute__((noinline)) static char *svg_of(const struct flame_diff *fd)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    flame_diff_write_svg(f, fd, "fd-test");
    fclose(f);
    return buf;
}

static void test_weights_are_seconds_per_run(void **state)
{
    (void)state;
    struct flame_diff *fd = sample_diff();
    assert_int_equal(flame_diff_runs(fd, FLAME_BASE), 2);
    assert_int_equal(flame_diff_runs(fd, FLAME_CAND), 1);
    assert_true(fabs(flame_diff_total(fd, FLAME_BASE) - 1.0) < 1e-9);
    assert_true(fabs(flame_diff_total(fd, FLAME_CAND) - 2.0) < 1e-9);
    json_t *doc = flame_diff_to_json(fd);
    const json_t *slow = node_of(doc, SLOW), *work = node_of(doc, WORK), *main = node_of(doc, MAIN);
    assert_non_null(slow);
    assert_true(fabs(w(slow, 0) - 0.3) < 1e-6 && fabs(w(slow, 1) - 1.4) < 1e-6);
    assert_true(fabs(w(work, 0) - 0.6) < 1e-6 && fabs(w(work, 1) - 0.6) < 1e-6);
    assert_int_equal(json_integer_value(json_array_get(main, 0)), -1); /* child of the root */
    /* the nodes are in pre-order: a child's parent comes before it */
    json_int_t mi = -1;
    size_t i;
    const json_t *n;
    json_array_foreach(json_object_get(doc, "nodes"), i, n)
    {
        if (n == main)
            mi = (json_int_t)i;
    }
    assert_int_equal(json_integer_value(json_array_get(slow, 0)), mi);
    json_decref(doc);
    flame_diff_destroy(&fd);
    assert_null(fd);
}

static void test_integer_frames_index_functions(void **state)
{
    (void)state;
    json_t *functions = json_pack("[s, s]", MAIN, SLOW);
    json_t *stacks = json_pack("[{s:[i, i], s:i}, {s:[i], s:i}, {s:[i, i], s:i}, {s:[], s:i}]",
                               "frames", 0, 1, "samples", 3, "frames", 0, "samples", 1, "frames", 0,
                               7, "samples", 1, "frames", "samples", 5);
    struct flame_diff *fd = flame_diff_new();
    assert_true(flame_diff_add_run(fd, FLAME_CAND, stacks, functions, 5.0));
    json_t *doc = flame_diff_to_json(fd);
    /* 3 + 1 + 1 usable samples: main 5 s, slow 3 s, the bad index becomes "?" (1 s) */
    assert_true(fabs(w(node_of(doc, MAIN), 1) - 5.0) < 1e-6);
    assert_true(fabs(w(node_of(doc, SLOW), 1) - 3.0) < 1e-6);
    assert_true(fabs(w(node_of(doc, "?"), 1) - 1.0) < 1e-6);
    json_t *none = json_array();
    assert_false(flame_diff_add_run(fd, FLAME_BASE, none, functions, 1.0)); /* does not count */
    json_decref(none);
    assert_int_equal(flame_diff_runs(fd, FLAME_BASE), 0);
    json_decref(doc);
    json_decref(stacks);
    json_decref(functions);
    flame_diff_destroy(&fd);
}

static void test_prune_keeps_heaviest_with_ancestors(void **state)
{
    (void)state;
    struct flame_diff *fd = flame_diff_new();
    json_t *stacks = json_array();
    json_array_append_new(stacks, stack(1000, MAIN, SLOW, NULL));
    char key[64];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof(key), "lib.py:f%d:%d", i, i);
        json_array_append_new(stacks, stack(1 + i % 3, MAIN, WORK, key));
    }
    assert_true(flame_diff_add_run(fd, FLAME_CAND, stacks, NULL, 1.0));
    flame_diff_prune(fd, 0.0, 10);
    json_t *doc = flame_diff_to_json(fd);
    assert_int_equal(json_array_size(json_object_get(doc, "nodes")), 10);
    assert_non_null(node_of(doc, SLOW));
    assert_non_null(node_of(doc, WORK)); /* the ancestor of every kept leaf */
    json_decref(doc);
    flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, FLAME_DIFF_MAX_NODES);
    doc = flame_diff_to_json(fd);
    /* each f_i is below 0.5% of the total: only main, slow and work stay */
    assert_int_equal(json_array_size(json_object_get(doc, "nodes")), 3);
    json_decref(doc);
    json_decref(stacks);
    flame_diff_destroy(&fd);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    struct flame_diff *fd = sample_diff();
    json_t *doc = flame_diff_to_json(fd);
    char err[128] = "";
    struct flame_diff *back = flame_diff_from_json(doc, err, sizeof(err));
    assert_non_null(back);
    json_t *doc2 = flame_diff_to_json(back);
    assert_true(json_equal(doc, doc2));
    json_decref(doc);
    json_decref(doc2);
    flame_diff_destroy(&fd);
    flame_diff_destroy(&back);
}

static void test_hostile_json(void **state)
{
    (void)state;
    char err[128] = "";
    json_t *bad = json_pack("{s:s}", "frames", "x");
    assert_null(flame_diff_from_json(bad, err, sizeof(err)));
    assert_non_null(strstr(err, "frames"));
    json_decref(bad);
    json_t *doc = json_pack("{s:[s, s], s:[[i, i, f, f], [i, i, f, f], [i, i, f, f], [i, i, f, f],"
                            " [i, i, f, f], [i, i, s, f]], s:i, s:i}",
                            "frames", "<script>alert(1)</script>:x:1", "ok.py:fine:2", "nodes", -1,
                            0, 1.0, 2.0,     /* 0: kept, hostile name */
                            5, 1, 0.5, 0.5,  /* 1: parent after itself: dropped */
                            0, 9, 0.5, 0.5,  /* 2: frame out of range: dropped */
                            0, 1, -1.0, 0.5, /* 3: negative: dropped */
                            0, 1, 0.25, 1.5, /* 4: kept */
                            0, 1, "x", 1.0,  /* 5: not a number: dropped */
                            "baseline_runs", 3, "candidate_runs", 1);
    struct flame_diff *fd = flame_diff_from_json(doc, err, sizeof(err));
    assert_non_null(fd);
    json_t *back = flame_diff_to_json(fd);
    assert_int_equal(json_array_size(json_object_get(back, "nodes")), 2);
    assert_true(fabs(flame_diff_total(fd, FLAME_CAND) - 2.0) < 1e-9);
    char *svg = svg_of(fd);
    assert_null(strstr(svg, "<script"));
    assert_non_null(strstr(svg, "&lt;script&gt;"));
    free(svg);
    json_decref(back);
    json_decref(doc);
    flame_diff_destroy(&fd);
}

/* The fill of the rect that follows "<title>NAME" in svg, as "#rrggbb". */
static void fill_of(const char *svg, const char *name, int rgb[3])
{
    char pat[128];
    snprintf(pat, sizeof(pat), "<title>%s", name);
    const char *t = strstr(svg, pat);
    assert_non_null(t);
    const char *f = strstr(t, "fill=\"#");
    assert_non_null(f);
    assert_int_equal(sscanf(f + 7, "%2x%2x%2x", &rgb[0], &rgb[1], &rgb[2]), 3);
}

static void test_svg_colours_by_change(void **state)
{
    (void)state;
    struct flame_diff *fd = sample_diff();
    flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, FLAME_DIFF_MAX_NODES);
    char *svg = svg_of(fd);
    int slow[3], work[3];
    fill_of(svg, "slow (app.py:20)", slow);
    fill_of(svg, "work (app.py:10)", work);
    assert_true(slow[0] > slow[2] + 80);      /* grew: red */
    assert_true(abs(work[0] - work[2]) < 10); /* unchanged: grey */
    assert_non_null(strstr(svg, "300 ms \xe2\x86\x92 1.400 s per run (+367%)"));
    assert_non_null(strstr(svg, "id=\"fd-test\""));
    /* cache() ran in the baseline only: it has no width, so it is listed */
    assert_non_null(strstr(svg, "No longer run: <code title=\"" GONE "\">cache</code>"));
    free(svg);
    flame_diff_destroy(&fd);
    fd = flame_diff_new();
    svg = svg_of(fd);
    assert_non_null(strstr(svg, "No flame graph diff: neither side has stack samples"));
    free(svg);
    flame_diff_destroy(&fd);
}

/* A report (pyscope.report/1: profile.stacks, summary.wall_s.median) of wall seconds whose
 * stacks (new, taken) are keys, root first. */
static json_t *report_of(json_t *stacks, double wall)
{
    return json_pack("{s:s, s:{s:o}, s:{s:{s:f}}}", "schema", "pyscope.report/1", "profile",
                     "stacks", stacks, "summary", "wall_s", "median", wall);
}

#define FIB_MOD   "fib.py:<module>:1"
#define FIB       "fib.py:fib:11"
#define FIB_CACHE "fib.py:cache:30"
#define FIB_MAIN  "fib.py:main:20"

/* <module> then fib called recursively depth times, samples samples; then leaf when given. */
static json_t *fib_stack(int depth, int samples, const char *leaf)
{
    json_t *fr = json_pack("[s]", FIB_MOD);
    for (int i = 0; i < depth; i++)
        json_array_append_new(fr, json_string(FIB));
    if (leaf)
        json_array_append_new(fr, json_string(leaf));
    return json_pack("{s:o, s:i, s:s}", "frames", fr, "samples", samples, "thread", "MainThread");
}

/*
 * Two profiles of a recursive fib (stranger11: a team report blamed fib and its flame graph
 * said "No longer run: fib (-15.8 ms)"): the candidate's samples caught the recursion one
 * level less deep (fib^4, not fib^5), so the path fib^5 has no candidate time, but fib runs.
 * Only functions run under no caller are listed: main, and cache once with its time under
 * both callers (<module> and fib), not once per path.
 */
static void test_gone_means_function_not_path(void **state)
{
    (void)state;
    json_t *base = report_of(json_pack("[o, o, o, o, o]", fib_stack(5, 4, NULL),
                                       fib_stack(3, 2, NULL), fib_stack(1, 1, FIB_CACHE),
                                       fib_stack(0, 1, FIB_CACHE), fib_stack(0, 2, FIB_MAIN)),
                             0.1);
    json_t *cand =
        report_of(json_pack("[o, o]", fib_stack(4, 6, NULL), fib_stack(2, 4, NULL)), 0.1);
    struct flame_diff *fd = flame_diff_new();
    assert_true(flame_diff_add_report(fd, FLAME_BASE, base));
    assert_true(flame_diff_add_report(fd, FLAME_CAND, cand));
    flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, FLAME_DIFF_MAX_NODES);
    char *svg = svg_of(fd);
    const char *gone = strstr(svg, "No longer run: ");
    assert_non_null(gone);
    assert_non_null(strstr(gone, "No longer run: <code title=\"" FIB_CACHE "\">cache</code> "
                                 "(\xe2\x88\x92"
                                 "20.0 ms), <code title=\"" FIB_MAIN "\">main</code> (\xe2\x88\x92"
                                 "20.0 ms).</p>"));
    assert_null(strstr(gone, ">fib</code>"));
    free(svg);
    /* the same through the team report's JSON */
    json_t *doc = flame_diff_to_json(fd);
    char err[128];
    struct flame_diff *back = flame_diff_from_json(doc, err, sizeof(err));
    assert_non_null(back);
    svg = svg_of(back);
    assert_null(strstr(strstr(svg, "No longer run: "), ">fib</code>"));
    free(svg);
    flame_diff_destroy(&back);
    json_decref(doc);
    flame_diff_destroy(&fd);
    json_decref(base);
    json_decref(cand);
}

/* Characters (code points) of the UTF-8 text s[0..len). */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    return n;
}

/*
 * A function name from an untrusted script: an escape sequence, a
 * right-to-left override and a 3.6 KB token. The SVG shows it in its
 * display form (lib/sanitize.h), whole in the tooltip, and the label is cut
 * to its box counting the escapes as they are shown.
 */
static void test_svg_untrusted_name(void **state)
{
    (void)state;
    char *token = malloc(3601);
    memset(token, 'z', 3600);
    token[3600] = '\0';
    size_t klen = strlen(token) + 64;
    char *key = malloc(klen);
    snprintf(key, klen, "app.py:\x1b[2Jslow\xe2\x80\xae%s:20", token);
    struct flame_diff *fd = flame_diff_new();
    json_t *base = json_pack("[o, o]", stack(60, MAIN, WORK, NULL), stack(30, MAIN, key, NULL));
    json_t *cand = json_pack("[o, o]", stack(60, MAIN, WORK, NULL), stack(140, MAIN, key, NULL));
    assert_true(flame_diff_add_run(fd, FLAME_BASE, base, NULL, 1.0));
    assert_true(flame_diff_add_run(fd, FLAME_CAND, cand, NULL, 2.0));
    char *svg = svg_of(fd);
    assert_null(strchr(svg, '\x1b'));
    assert_null(strstr(svg, "\xe2\x80\xae"));
    /* the whole name on hover, escapes visible */
    size_t tlen = strlen(token) + 64;
    char *title = malloc(tlen);
    snprintf(title, tlen, "<title>\\x1b[2Jslow\\u202e%s (app.py:20)", token);
    const char *t = strstr(svg, title);
    assert_non_null(t);
    /* the label: cut to the rect's width, counted in shown characters */
    const char *wd = strstr(t, "width=\"");
    assert_non_null(wd);
    double width = strtod(wd + 7, NULL) + 0.5; /* the rect is drawn 0.5 px narrower */
    const char *lab = strstr(t, "<text");
    assert_non_null(lab);
    lab = strchr(lab, '>') + 1;
    const char *end = strstr(lab, "</text>");
    assert_non_null(end);
    assert_true(strncmp(lab, "\\x1b[2Jslow\\u202ezz", 18) == 0);
    assert_true(strncmp(end - 3, "\xe2\x80\xa6", 3) == 0); /* ellipsis */
    assert_true((double)utf8_chars(lab, (size_t)(end - lab)) <= (width - 6) / 6.7);
    free(title);
    free(svg);
    free(key);
    free(token);
    json_decref(base);
    json_decref(cand);
    flame_diff_destroy(&fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_are_seconds_per_run),
        cmocka_unit_test(test_integer_frames_index_functions),
        cmocka_unit_test(test_prune_keeps_heaviest_with_ancestors),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_hostile_json),
        cmocka_unit_test(test_svg_colours_by_change),
        cmocka_unit_test(test_gone_means_function_not_path),
        cmocka_unit_test(test_svg_untrusted_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
