/* test_suggest.c - the rule table and each rule, triggered and not triggered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "xmalloc.h"

#define DATA PYSCOPE_TEST_DATA "/suggest"

/* A pyscope.run/1 document with the given profile functions (JSON text) and numbers. */
static json_t *make_report(const char *mode, double wall_s, double cpu_pct, const char *functions,
                           const char *timeline)
{
    char *text = xasprintf("{\"schema\": \"pyscope.run/1\", \"options\": {\"mode\": \"%s\"},"
                           " \"python\": {\"prefix\": \"/usr\"},"
                           " \"summary\": {\"wall_s\": {\"median\": %.17g},"
                           "               \"cpu_pct\": {\"median\": %.17g}},"
                           " \"memory_timeline\": %s,"
                           " \"profile\": {\"mode\": \"%s\", \"functions\": %s}}",
                           mode, wall_s, cpu_pct, timeline ? timeline : "[]", mode,
                           functions ? functions : "[]");
    json_error_t err;
    json_t *r = json_loads(text, 0, &err);
    if (!r)
        print_error("fixture JSON: %s at %d:%d\n%s\n", err.text, err.line, err.column, text);
    assert_non_null(r);
    free(text);
    return r;
}

static json_t *load(const char *name)
{
    char *path = xasprintf("%s/%s", DATA, name);
    json_error_t err;
    json_t *r = json_load_file(path, 0, &err);
    if (!r)
        print_error("%s: %s at %d:%d\n", path, err.text, err.line, err.column);
    assert_non_null(r);
    free(path);
    return r;
}

/* Check the shape every suggestion must have. */
static void check_shape(const json_t *arr)
{
    assert_true(json_is_array(arr));
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        const char *rule = json_string_value(json_object_get(s, "rule"));
        assert_non_null(rule);
        bool known = false;
        for (size_t r = 0; r < suggest_rule_count(); r++)
            known = known || strcmp(rule, suggest_rule_id(r)) == 0;
        assert_true(known);
        const char *sev = json_string_value(json_object_get(s, "severity"));
        assert_non_null(sev);
        assert_true(strcmp(sev, "info") == 0 || strcmp(sev, "warning") == 0);
        json_t *fn = json_object_get(s, "function");
        assert_true(json_is_string(fn) || json_is_null(fn));
        const char *msg = json_string_value(json_object_get(s, "message"));
        assert_non_null(msg);
        assert_true(strlen(msg) > 20);
        assert_true(json_is_object(json_object_get(s, "evidence")));
    }
}

/* Run the rules and keep only those of rule id (new array). */
static json_t *run_rule(const json_t *report, const char *id, const char *root)
{
    struct suggest_options opt = {.source_root = root};
    json_t *all = suggest_analyze(report, &opt);
    check_shape(all);
    json_t *mine = json_array();
    size_t i;
    json_t *s;
    json_array_foreach(all, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "rule")), id) == 0)
            json_array_append(mine, s);
    }
    json_decref(all);
    return mine;
}

static double ev_num(const json_t *s, const char *key)
{
    json_t *v = json_object_get(json_object_get(s, "evidence"), key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static const char *msg_of(const json_t *arr, size_t i)
{
    return json_string_value(json_object_get(json_array_get(arr, i), "message"));
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        print_error("\"%s\" not in \"%s\"\n", needle, hay ? hay : "(null)");
    assert_non_null(hay);
    assert_non_null(strstr(hay, needle));
}

#define FN(key, file, name, line, calls, self_s, total_s, self_pct, total_pct, depth)              \
    "{\"key\": \"" key "\", \"file\": \"" file "\", \"name\": \"" name "\", \"line\": " #line      \
    ", \"calls\": " calls ", \"self_s\": " #self_s ", \"total_s\": " #total_s                      \
    ", \"self_pct\": " #self_pct ", \"total_pct\": " #total_pct ", \"max_depth\": " #depth "}"

static void test_rule_table(void **state)
{
    (void)state;
    static const char *const required[] = {
        "dominant-function", "many-cheap-calls", "deep-recursion", "io-wait",
        "cpu-starved",       "memory-growth",    "regex-in-loop",  "str-concat-in-loop"};
    size_t n = suggest_rule_count();
    assert_true(n >= 7);
    for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || strcmp(suggest_rule_id(i), required[r]) == 0;
        assert_true(found);
    }
    for (size_t i = 0; i < n; i++) {
        assert_non_null(suggest_rule_description(i));
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(suggest_rule_id(i), suggest_rule_id(j));
    }
    assert_null(suggest_rule_id(n));
    assert_null(suggest_rule_description(n));
    json_t *rules = suggest_rules_json();
    assert_int_equal(json_array_size(rules), n);
    json_t *th = json_object_get(json_array_get(rules, 0), "thresholds");
    assert_true(json_number_value(json_object_get(th, "threshold_self_pct")) > 0);
    json_decref(rules);
}

static void test_unusable_reports(void **state)
{
    (void)state;
    const char *bad[] = {"[]", "{}", "{\"schema\": \"pyscope.run/2\"}", "{\"schema\": \"other/1\"}",
                         "{\"schema\": \"pyscope.run/x\"}", "{\"schema\": 5}",
                         /* right schema, wrong types everywhere */
                         "{\"schema\": \"pyscope.run/1\", \"summary\": 3, \"runs\": {},"
                         " \"memory_timeline\": [1, [\"a\", 2], [0.1], null],"
                         " \"profile\": {\"functions\": [3, {\"name\": 4, \"self_pct\": \"x\"},"
                         " {\"self_pct\": 99}, {\"total_pct\": 70, \"calls\": -4}]}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *r = json_loads(bad[i], 0, NULL);
        assert_non_null(r);
        json_t *s = suggest_analyze(r, NULL);
        assert_non_null(s);
        check_shape(s);
        /* only the untyped {"self_pct": 99} entry may produce something */
        assert_true(json_array_size(s) <= 1);
        json_decref(s);
        json_decref(r);
    }
    json_t *s = suggest_analyze(NULL, NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
}

static void test_dominant_function(void **state)
{
    (void)state;
    /* self time: the wording of PyScope's first version */
    json_t *r =
        make_report("sample", 1.55, 95,
                    "[" FN("slow.py:<module>:1", "slow.py", "<module>", 1, "null", 0.01, 1.55, 0.6,
                           100, 1) "," FN("slow.py:slow:3", "slow.py", "slow", 3, "null", 1.457,
                                          1.46, 94.0, 94.2, 1) "]",
                    NULL);
    json_t *s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "Function 'slow.py:slow' dominates runtime (94%). Consider "
                                  "optimizing its algorithm or reducing repeated work.");
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "function")),
                        "slow.py:slow:3");
    assert_float_equal(ev_num(json_array_get(s, 0), "self_pct"), 94.0, 1e-9);
    assert_float_equal(ev_num(json_array_get(s, 0), "threshold_pct"), 50, 1e-9);
    json_decref(s);
    json_decref(r);

    /* total time: the entry chain (<module>, main) is skipped, the most specific function wins */
    r = make_report(
        "sample", 2.0, 95,
        "[" FN("a.py:<module>:1", "a.py", "<module>", 1, "null", 0.0, 2.0, 0, 100,
               1) "," FN("a.py:main:5", "a.py", "main", 5, "null", 0.02, 1.98, 1, 99,
                         1) "," FN("a.py:work:9", "a.py", "work", 9, "null", 0.1, 1.6, 5, 80,
                                   1) "," FN("a.py:parse:20", "a.py", "parse", 20, "null", 0.8, 0.8,
                                             40, 40, 1) "," FN("a.py:emit:30", "a.py", "emit", 30,
                                                               "null", 0.7, 0.7, 35, 35, 1) "]",
        NULL);
    s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "'a.py:work' dominates runtime (80%)");
    assert_float_equal(ev_num(json_array_get(s, 0), "total_pct"), 80, 1e-9);
    json_decref(s);
    json_decref(r);

    /* no trigger: work spread out, only the entry chain is over the threshold */
    r = make_report(
        "sample", 2.0, 95,
        "[" FN("a.py:<module>:1", "a.py", "<module>", 1, "null", 0.0, 2.0, 0, 100,
               1) "," FN("a.py:main:5", "a.py", "main", 5, "null", 0.1, 1.98, 5, 99,
                         1) "," FN("a.py:parse:20", "a.py", "parse", 20, "null", 0.8, 0.8, 40, 40,
                                   1) "," FN("a.py:emit:30", "a.py", "emit", 30, "null", 0.9, 0.9,
                                             45, 45, 1) "," FN("~:<built-in method time.sleep>:0",
                                                               "~", "<built-in method time.sleep>",
                                                               0, "null", 1.5, 1.5, 75, 75, 1) "]",
        NULL);
    s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);

    /* top-level code doing the work itself; percentages derived from seconds */
    r = make_report("sample", 2.0, 95,
                    "[{\"key\": \"m.py:<module>:1\", \"file\": \"m.py\", \"name\": \"<module>\","
                    " \"line\": 1, \"self_s\": 1.8, \"total_s\": 2.0}]",
                    NULL);
    s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "Top-level code of 'm.py' dominates runtime (90%)");
    json_decref(s);
    json_decref(r);

    /* mostly off-CPU: the message says it waits */
    r = load("slow_script_report.json");
    s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "'examples/slow_script.py:slow' dominates runtime (94%) but "
                                  "is on the CPU only 27%");
    json_decref(s);
    json_decref(r);
}

/* A report with stacks (frames root first, weights as "samples"; cpu < 0: none). */
/* r (modified) with member key of r (parent NULL) or of r's parent object set to the JSON text. */
static json_t *with_json(json_t *r, const char *parent, const char *key, const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        print_error("%s JSON: %s\n", key, err.text);
    assert_non_null(j);
    json_object_set_new(parent ? json_object_get(r, parent) : r, key, j);
    return r;
}

static json_t *with_stacks(json_t *r, const char *stacks)
{
    return with_json(r, "profile", "stacks", stacks);
}

/* The user's code is named, not the library's; on a tie the callee, not its wrapper;
 * no "hot loop" for top-level code that has none or is off the CPU. */
static void test_dominant_names_user_code(void **state)
{
    (void)state;
    /* library self time goes to the user's function that calls it */
    const char *fns =
        "[" FN("s.py:<module>:1", "s.py", "<module>", 1, "null", 0.0, 2.0, 0, 100, 1) "," FN(
            "s.py:run:3", "s.py", "run", 3, "null", 0.02, 1.9, 1, 95,
            1) "," FN("/usr/lib/python3.11/json/encoder.py:JSONEncoder.iterencode:205",
                      "/usr/lib/python3.11/json/encoder.py", "JSONEncoder.iterencode", 205, "null",
                      1.6, 1.6, 80, 80, 1) "," FN("<frozen importlib._bootstrap>:_find_and_load:1",
                                                  "<frozen importlib._bootstrap>", "_find_and_load",
                                                  1, "null", 0.2, 0.2, 10, 10, 1) "]";
    const char *stacks =
        "[{\"frames\": [\"s.py:<module>:1\", \"s.py:run:3\", "
        "\"/usr/lib/python3.11/json/encoder.py:JSONEncoder.iterencode:205\"], \"samples\": 80, "
        "\"cpu_samples\": 78},"
        " {\"frames\": [\"s.py:<module>:1\", \"s.py:run:3\"], \"samples\": 1, "
        "\"cpu_samples\": 1},"
        " {\"frames\": [\"s.py:<module>:1\", \"<frozen importlib._bootstrap>:_find_and_load:1\"],"
        " \"samples\": 10, \"cpu_samples\": 10}]";
    json_t *r = with_stacks(make_report("sample", 2.0, 95, fns, NULL), stacks);
    json_t *s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "Function 's.py:run' dominates runtime (81%, mostly in "
                                  "library code it calls ('/usr/lib/python3.11/json/encoder.py:"
                                  "JSONEncoder.iterencode', 80%)). Consider calling it less often");
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "function")),
                        "s.py:run:3");
    json_decref(s);
    json_decref(r);
    /* without stacks the library function is still never named */
    r = make_report("sample", 2.0, 95, fns, NULL);
    s = run_rule(r, "dominant-function", NULL);
    for (size_t i = 0; i < json_array_size(s); i++)
        assert_null(strstr(msg_of(s, i), "/usr/lib/python3.11"));
    json_decref(s);
    json_decref(r);

    /* a tie in total time: main only wraps work; work is named, in either order */
    const char *orders[] = {
        "[" FN("t.py:<module>:1", "t.py", "<module>", 1, "null", 0.0, 1.0, 0, 100,
               1) "," FN("t.py:main:7", "t.py", "main", 7, "null", 0.0, 0.8, 0, 80,
                         1) "," FN("t.py:work:1", "t.py", "work", 1, "null", 0.4, 0.8, 40, 80,
                                   1) "," FN("t.py:step:12", "t.py", "step", 12, "null", 0.4, 0.4,
                                             40, 40, 1) "]",
        "[" FN("t.py:<module>:1", "t.py", "<module>", 1, "null", 0.0, 1.0, 0, 100,
               1) "," FN("t.py:work:1", "t.py", "work", 1, "null", 0.4, 0.8, 40, 80,
                         1) "," FN("t.py:main:7", "t.py", "main", 7, "null", 0.0, 0.8, 0, 80,
                                   1) "," FN("t.py:step:12", "t.py", "step", 12, "null", 0.4, 0.4,
                                             40, 40, 1) "]"};
    for (size_t k = 0; k < 2; k++) {
        r = with_stacks(make_report("sample", 1.0, 99, orders[k], NULL),
                        "[{\"frames\": [\"t.py:<module>:1\", \"t.py:main:7\", \"t.py:work:1\"],"
                        " \"samples\": 40, \"cpu_samples\": 40}, {\"frames\": "
                        "[\"t.py:<module>:1\", \"t.py:main:7\", \"t.py:work:1\", "
                        "\"t.py:step:12\"], \"samples\": 40, \"cpu_samples\": 40}]");
        s = run_rule(r, "dominant-function", NULL);
        assert_int_equal(json_array_size(s), 1);
        assert_contains(msg_of(s, 0), "Function 't.py:work' dominates runtime (80%)");
        json_decref(s);
        json_decref(r);
    }

    /* top-level code: "hot loop" only when it has one and computes */
#define MOD(f)                                                                                     \
    "[{\"key\": \"" f ":<module>:1\", \"file\": \"" f "\", \"name\": \"<module>\", "               \
    "\"line\": 1, \"self_s\": 0.9, \"total_s\": 1.0}]"
    char *loop = xstrdup(MOD("toplevel_loop.py"));
    char *noloop = xstrdup(MOD("toplevel_noloop.py"));
#undef MOD
    r = make_report("trace", 1.0, 99, loop, NULL);
    s = run_rule(r, "dominant-function", DATA);
    assert_contains(msg_of(s, 0), "Consider moving the hot loop into a function");
    json_decref(s);
    json_decref(r);
    r = make_report("trace", 1.0, 99, noloop, NULL); /* busy, but no loop */
    s = run_rule(r, "dominant-function", DATA);
    assert_null(strstr(msg_of(s, 0), "hot loop"));
    assert_contains(msg_of(s, 0), "Top-level code of 'toplevel_noloop.py' dominates runtime");
    json_decref(s);
    json_decref(r);
    r = make_report("trace", 1.0, 3, noloop, NULL); /* it only sleeps */
    s = run_rule(r, "dominant-function", DATA);
    assert_null(strstr(msg_of(s, 0), "hot loop"));
    assert_contains(msg_of(s, 0), "takes 90% of the runtime, but the script kept only 3% of one "
                                  "CPU core busy");
    json_decref(s);
    json_decref(r);
    r = make_report("trace", 1.0, 3, loop, NULL); /* a loop, but off the CPU */
    s = run_rule(r, "dominant-function", DATA);
    assert_null(strstr(msg_of(s, 0), "hot loop"));
    json_decref(s);
    json_decref(r);
    free(loop);
    free(noloop);
}

/* functools.lru_cache only for hashable arguments: the source tells. */
static void test_cache_advice_hashable(void **state)
{
    (void)state;
    struct {
        const char *name;
        int line;
        const char *want, *not ;
        const char *hashable; /* "true", "false", "null" */
    } cases[] = {
        {"fib", 5, "Memoize it (functools.lru_cache: its arguments are hashable)", "If its",
         "true"},
        {"total", 15, "If its arguments are hashable", "Memoize it (", "null"},
        {"perms", 21, "would raise TypeError", "Memoize it (", "false"},
        /* tuple(rows) of lists: lru_cache raised TypeError: unhashable type: 'list' */
        {"count", 31, "If its arguments are hashable", "Memoize it (", "null"},
        {"walk", 37, "Memoize it (functools.lru_cache: its arguments are hashable)", "If its",
         "true"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char fns[512];
        snprintf(fns, sizeof(fns),
                 "[{\"key\": \"recursion.py:%s:%d\", \"file\": \"recursion.py\", "
                 "\"name\": \"%s\", \"line\": %d, \"calls\": 90000, \"self_s\": 0.8, "
                 "\"total_s\": 0.9, \"max_depth\": 30}]",
                 cases[k].name, cases[k].line, cases[k].name, cases[k].line);
        json_t *r = make_report("trace", 1.0, 99, fns, NULL);
        json_t *s = run_rule(r, "deep-recursion", DATA);
        assert_int_equal(json_array_size(s), 1);
        assert_contains(msg_of(s, 0), cases[k].want);
        assert_null(strstr(msg_of(s, 0), cases[k].not ));
        json_t *h =
            json_object_get(json_object_get(json_array_get(s, 0), "evidence"), "args_hashable");
        char *hs = json_dumps(h, JSON_ENCODE_ANY);
        assert_string_equal(hs, cases[k].hashable);
        free(hs);
        json_decref(s);
        json_decref(r);
    }
    /* many-cheap-calls: add(a, b) cannot be told from its own source (no recursive call) */
    json_t *r = make_report("trace", 1.0, 99,
                            "[{\"key\": \"recursion.py:add:27\", \"file\": \"recursion.py\", "
                            "\"name\": \"add\", \"line\": 27, \"calls\": 900000, "
                            "\"self_s\": 0.5, \"total_s\": 0.5, \"max_depth\": 1}]",
                            NULL);
    json_t *s = run_rule(r, "many-cheap-calls", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "(functools.lru_cache, if its arguments are hashable)");
    json_decref(s);
    json_decref(r);
    /* library functions are never the subject */
    r = make_report("trace", 1.0, 99,
                    "[" FN("/usr/lib/python3.11/copy.py:deepcopy:128",
                           "/usr/lib/python3.11/copy.py", "deepcopy", 128, "90000", 0.5, 0.9, 50,
                           90, 40) "]",
                    NULL);
    s = run_rule(r, "deep-recursion", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

static void test_many_cheap_calls(void **state)
{
    (void)state;
    const char *fns =
        "[" FN("c.py:<module>:1", "c.py", "<module>", 1, "1", 0.1, 3.0, 3, 100, 1) "," FN(
            "c.py:add:3", "c.py", "add", 3, "2000000", 1.0, 1.2, 33, 40,
            1) "," FN("c.py:rare:9", "c.py", "rare", 9, "3", 1.5, 1.5, 50, 50,
                      1) "," FN("c.py:tiny:12", "c.py", "tiny", 12, "50000", 0.01, 0.01, 0.3, 0.3,
                                1) "," FN("c.py:fib:20", "c.py", "fib", 20, "900000", 0.5, 0.5, 17,
                                          17, 25) "," FN("~:<built-in method builtins.len>:0", "~",
                                                         "<built-in method builtins.len>", 0,
                                                         "5000000", 0.9, 0.9, 30, 30, 1) "]";
    json_t *r = make_report("trace", 3.0, 99, fns, NULL);
    json_t *s = run_rule(r, "many-cheap-calls", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "'c.py:add' is called 2,000,000 times at 0.60 us per call");
    assert_float_equal(ev_num(json_array_get(s, 0), "calls"), 2000000, 1e-9);
    assert_float_equal(ev_num(json_array_get(s, 0), "us_per_call"), 0.6, 1e-9);
    json_decref(s);
    json_decref(r);

    /* sample mode: calls unknown, the rule stays silent even with numbers present */
    r = make_report("sample", 3.0, 99, fns, NULL);
    s = run_rule(r, "many-cheap-calls", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);

    /* expensive calls are not cheap */
    r = make_report("trace", 3.0, 99,
                    "[" FN("c.py:heavy:3", "c.py", "heavy", 3, "20000", 2.9, 2.9, 97, 97, 1) "]",
                    NULL);
    s = run_rule(r, "many-cheap-calls", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

static void test_deep_recursion(void **state)
{
    (void)state;
    /* naive fib in trace mode: many more calls than depth */
    json_t *r = load("fib_trace_run.json");
    json_t *s = run_rule(r, "deep-recursion", NULL);
    assert_int_equal(json_array_size(s), 1);
    json_t *one = json_array_get(s, 0);
    assert_string_equal(json_string_value(json_object_get(one, "severity")), "warning");
    assert_contains(msg_of(s, 0), "'fib.py:fib' recurses 2,692,537 times with depth up to 32");
    assert_contains(msg_of(s, 0), "functools.lru_cache");
    assert_float_equal(ev_num(one, "max_depth"), 32, 1e-9);
    json_decref(s);
    json_decref(r);

    /* sample mode: depth alone */
    r = make_report("sample", 1.0, 99,
                    "[" FN("t.py:walk:3", "t.py", "walk", 3, "null", 0.5, 0.9, 50, 90, 120) "," FN(
                        "t.py:shallow:9", "t.py", "shallow", 9, "null", 0.05, 0.05, 5, 5, 10) "]",
                    NULL);
    s = run_rule(r, "deep-recursion", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "'t.py:walk' recurses 120 deep");
    json_decref(s);
    json_decref(r);

    /* no trigger: shallow, linear, or too little time */
    r = make_report("trace", 1.0, 99,
                    "[" FN("t.py:linear:3", "t.py", "linear", 3, "40", 0.5, 0.9, 50, 90,
                           40) "," FN("t.py:fibsmall:9", "t.py", "fibsmall", 9, "100000", 0.01,
                                      0.01, 1, 1, 25) "," FN("t.py:flat:12", "t.py", "flat", 12,
                                                             "100000", 0.5, 0.5, 50, 50, 1) "]",
                    NULL);
    s = run_rule(r, "deep-recursion", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

static void test_io_wait(void **state)
{
    (void)state;
    json_t *r = load("slow_script_report.json");
    json_t *s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 1);
    json_t *one = json_array_get(s, 0);
    assert_contains(msg_of(s, 0), "only 28% of one CPU core busy over 1.55 s");
    assert_contains(msg_of(s, 0), "'examples/slow_script.py:slow'");
    assert_string_equal(json_string_value(json_object_get(one, "function")),
                        "examples/slow_script.py:slow:3");
    assert_float_equal(ev_num(one, "cpu_pct"), 28.4, 0.051);
    assert_float_equal(ev_num(one, "threshold_cpu_pct"), 50, 1e-9);
    json_decref(s);
    json_decref(r);

    /* CPU % derived from runs when the summary lacks it; trace mode names the built-in */
    r = json_loads("{\"schema\": \"pyscope.run/1\", \"runs\": [{\"wall_s\": 3.0, \"cpu_s\": 0.3},"
                   " {\"wall_s\": 3.2, \"cpu_s\": 0.3}, {\"wall_s\": 3.1, \"cpu_s\": 0.3}],"
                   " \"profile\": {\"mode\": \"trace\", \"functions\": [" FN(
                       "~:<built-in method time.sleep>:0", "~", "<built-in method time.sleep>", 0,
                       "30", 2.8, 2.8, 90, 90, 1) "]}}",
                   0, NULL);
    assert_non_null(r);
    s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "only 10% of one CPU core busy over 3.10 s");
    assert_contains(msg_of(s, 0), "'<built-in method time.sleep>'");
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "severity")),
                        "warning");
    json_decref(s);
    json_decref(r);

    /* no trigger: busy CPU, or too short to matter */
    r = make_report("sample", 5.0, 97, NULL, NULL);
    s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
    r = make_report("sample", 0.05, 10, NULL, NULL);
    s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

/* Issue 11: a CPU-bound script got 19% of a core on a loaded machine; the suggestions said
 * it "waits on I/O, sleeps or locks". It was waiting for a CPU: told apart now. */
static void test_cpu_starved(void **state)
{
    (void)state;
    /* 3 repeats: ~1.0 s wall, 0.19 s CPU, 0.8 s runnable but queued (load 5 on 2 cores) */
    const char *runs =
        "[{\"wall_s\": 1.0, \"cpu_s\": 0.19, \"run_delay_s\": 0.80, \"load1\": 5.1},"
        " {\"wall_s\": 1.1, \"cpu_s\": 0.20, \"run_delay_s\": 0.89, \"load1\": 5.0},"
        " {\"wall_s\": 0.9, \"cpu_s\": 0.18, \"run_delay_s\": 0.71, \"load1\": 5.2}]";
    char *text = xasprintf(
        "{\"schema\": \"pyscope.run/1\", \"host\": {\"cores\": 2}, \"runs\": %s,"
        " \"profile\": {\"mode\": \"sample\", \"functions\": [{\"key\": \"w.py:work:1\","
        " \"file\": \"w.py\", \"name\": \"work\", \"line\": 1, \"calls\": null, \"self_s\": 0.95,"
        " \"self_cpu_s\": 0.18, \"total_s\": 0.95, \"self_pct\": 95, \"total_pct\": 95}]}}",
        runs);
    json_t *r = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(r);
    json_t *s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 0); /* not I/O */
    json_decref(s);
    s = run_rule(r, "cpu-starved", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "The script waited for a CPU 80% of its wall time");
    assert_contains(msg_of(s, 0), "the machine was busy: load 5.1 on 2 cores");
    assert_contains(msg_of(s, 0), "CPU-bound");
    assert_float_equal(ev_num(json_array_get(s, 0), "queued_pct"), 80, 0.051);
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "severity")),
                        "warning");
    json_decref(s);
    /* the dominant function is off the CPU for the same reason, and says so */
    s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "because it was waiting for a CPU (the machine was busy");
    assert_null(strstr(msg_of(s, 0), "I/O, sleeps or locks"));
    json_decref(s);
    json_decref(r);

    /* a script that really sleeps, on the same busy machine: io-wait, not starved */
    r = json_loads("{\"schema\": \"pyscope.run/1\", \"runs\": ["
                   "{\"wall_s\": 2.0, \"cpu_s\": 0.1, \"run_delay_s\": 0.05},"
                   "{\"wall_s\": 2.1, \"cpu_s\": 0.1, \"run_delay_s\": 0.06}],"
                   " \"profile\": {\"mode\": \"sample\", \"functions\": []}}",
                   0, NULL);
    assert_non_null(r);
    s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "waits on I/O, sleeps or locks");
    assert_float_equal(ev_num(json_array_get(s, 0), "queued_pct"), 2.7, 0.051);
    json_decref(s);
    s = run_rule(r, "cpu-starved", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);

    /* older documents without run delays: io-wait as before, never "starved" */
    r = make_report("sample", 3.0, 19, NULL, NULL);
    s = run_rule(r, "io-wait", NULL);
    assert_int_equal(json_array_size(s), 1);
    json_decref(s);
    s = run_rule(r, "cpu-starved", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

/* r (modified) with runs[]: repeats of {wall_s, cpu_s, run_delay_s}. */
static json_t *with_runs(json_t *r, const char *runs)
{
    return with_json(r, NULL, "runs", runs);
}

/* dominant-function on a function that ran in several threads: its share of the wall time
 * adds up over them (272%), and the message says so instead of a bare "272%". */
static void test_dominant_threads_sum(void **state)
{
    (void)state;
    const char *fns =
        "[" FN("w.py:<module>:1", "w.py", "<module>", 1, "null", 0.05, 2.77, 5, 277,
               1) "," FN("w.py:crunch:3", "w.py", "crunch", 3, "null", 2.72, 2.72, 272, 272, 4) "]";
    json_t *r = make_report("sample", 1.0, 272, fns, NULL);
    json_t *s = run_rule(r, "dominant-function", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "dominates runtime (272% of the wall time, summed over threads");
    json_decref(s);
    json_decref(r);
}

/* dominant-function off the CPU on a busy machine: waiting for a CPU, never "waits on I/O",
 * with stacks (the CPU share from them), with threads whose run-queue delays add up to more
 * than the wall time, and in trace mode (no per-function CPU time); and still "waits on I/O"
 * when the waiting was not for a CPU. */
static void test_dominant_starved(void **state)
{
    (void)state;
    const char *fns =
        "[" FN("w.py:<module>:1", "w.py", "<module>", 1, "null", 0.1, 1.0, 10, 100,
               1) "," FN("w.py:crunch:3", "w.py", "crunch", 3, "null", 0.9, 0.9, 90, 90, 1) "]";
    const char *stacks = "[{\"frames\": [\"w.py:<module>:1\", \"w.py:crunch:3\"], \"samples\": 90,"
                         " \"cpu_samples\": 19}, {\"frames\": [\"w.py:<module>:1\"],"
                         " \"samples\": 10, \"cpu_samples\": 2}]";
    static const struct {
        const char *runs;
        double cpu_pct;
        bool starved;
    } cases[] = {
        /* one thread, CPU-bound, got 19% of a core: queued 80% */
        {"[{\"wall_s\": 1.0, \"cpu_s\": 0.19, \"run_delay_s\": 0.80},"
         " {\"wall_s\": 1.0, \"cpu_s\": 0.19, \"run_delay_s\": 0.80}]",
         19, true},
        /* two threads on a loaded 2-core machine: 1.4 s queued in 1 s of wall time */
        {"[{\"wall_s\": 1.0, \"cpu_s\": 0.6, \"run_delay_s\": 1.4},"
         " {\"wall_s\": 1.0, \"cpu_s\": 0.6, \"run_delay_s\": 1.4}]",
         60, true},
        /* two threads that really wait: little queueing, not CPU-bound */
        {"[{\"wall_s\": 1.0, \"cpu_s\": 0.6, \"run_delay_s\": 0.1},"
         " {\"wall_s\": 1.0, \"cpu_s\": 0.6, \"run_delay_s\": 0.1}]",
         60, false},
        /* an older document without run delays */
        {NULL, 19, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *r = with_stacks(make_report("sample", 1.0, cases[i].cpu_pct, fns, NULL), stacks);
        if (cases[i].runs)
            with_runs(r, cases[i].runs);
        json_t *s = run_rule(r, "dominant-function", NULL);
        assert_int_equal(json_array_size(s), 1);
        const char *m = msg_of(s, 0);
        assert_contains(m, "Function 'w.py:crunch' dominates runtime (90%)");
        if (cases[i].starved) {
            assert_contains(m, "because it was waiting for a CPU (the machine was busy");
            assert_null(strstr(m, "I/O, sleeps or locks"));
            assert_true(ev_num(json_array_get(s, 0), "queued_pct") >= 80);
            if (ev_num(json_array_get(s, 0), "queued_pct") > 100)
                assert_contains(m, "of its wall time, summed over its threads)");
        } else {
            assert_contains(m, "it waits on I/O, sleeps or locks");
            assert_null(strstr(m, "waiting for a CPU"));
        }
        json_decref(s);
        if (cases[i].starved) { /* nor does io-wait say so */
            s = run_rule(r, "io-wait", NULL);
            assert_int_equal(json_array_size(s), 0);
            json_decref(s);
        }
        json_decref(r);
    }

    /* trace mode: no CPU time per function, the script's 19% of a core was all it got */
    const char *mod = "[{\"key\": \"toplevel_loop.py:<module>:1\", \"file\": \"toplevel_loop.py\","
                      " \"name\": \"<module>\", \"line\": 1, \"self_s\": 0.9, \"total_s\": 1.0}]";
    json_t *r = with_runs(make_report("trace", 1.0, 19, mod, NULL), cases[0].runs);
    json_t *s = run_rule(r, "dominant-function", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "kept only 19% of one CPU core busy because it was waiting for "
                                  "a CPU (the machine was busy: the script queued 80%");
    assert_null(strstr(msg_of(s, 0), "sleeping"));
    assert_null(strstr(msg_of(s, 0), "hot loop"));
    json_decref(s);
    json_decref(r);
    r = with_runs(make_report("trace", 1.0, 19, mod, NULL), cases[2].runs); /* it sleeps */
    s = run_rule(r, "dominant-function", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "most of that time is spent off the CPU");
    json_decref(s);
    json_decref(r);
}

static void test_memory_growth(void **state)
{
    (void)state;
    /* steady growth from 10 MiB to 500 MiB, never released */
    json_t *r = make_report("sample", 2.0, 95, NULL,
                            "[[0.0, 10485760], [0.2, 62914560], [0.4, 115343360],"
                            " [0.6, 167772160], [0.8, 220200960], [1.0, 272629760],"
                            " [1.2, 325058560], [1.4, 377487360], [1.6, 429916160],"
                            " [1.8, 482344960], [2.0, 524288000]]");
    json_t *s = run_rule(r, "memory-growth", NULL);
    assert_int_equal(json_array_size(s), 1);
    json_t *one = json_array_get(s, 0);
    assert_string_equal(json_string_value(json_object_get(one, "severity")), "warning");
    assert_contains(msg_of(s, 0), "Memory grows steadily from 10 MiB to 500 MiB");
    assert_contains(msg_of(s, 0), "not released");
    assert_true(ev_num(one, "r2") > 0.99);
    assert_float_equal(ev_num(one, "peak_bytes"), 524288000, 1e-3);
    json_decref(s);
    json_decref(r);

    /* one fast jump to a high peak, then released: "fast", info */
    r = make_report("sample", 2.0, 95, NULL,
                    "[[0.0, 10485760], [0.1, 10485760], [0.2, 10485760], [0.3, 11485760],"
                    " [0.4, 10485760], [0.5, 900000000], [1.0, 20000000], [1.5, 20000000]]");
    s = run_rule(r, "memory-growth", NULL);
    assert_int_equal(json_array_size(s), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "severity")),
                        "info");
    assert_contains(msg_of(s, 0), "Memory grows fast");
    json_decref(s);
    json_decref(r);

    /* no trigger: flat, low peak, small ratio, too few points */
    static const char *const quiet[] = {
        "[[0, 200000000], [1, 200000000], [2, 200000000], [3, 200000000], [4, 200000000]]",
        "[[0, 10000000], [1, 20000000], [2, 30000000], [3, 40000000], [4, 50000000]]",
        "[[0, 200000000], [1, 220000000], [2, 240000000], [3, 260000000], [4, 280000000]]",
        "[[0, 10000000], [1, 500000000], [2, 900000000]]",
        "[[0, 0], [1, 500000000], [2, 900000000], [3, 1000000000], [4, 1100000000]]",
    };
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        r = make_report("sample", 4.0, 95, NULL, quiet[i]);
        s = run_rule(r, "memory-growth", NULL);
        if (json_array_size(s) != 0)
            print_error("timeline %zu: %s\n", i, msg_of(s, 0));
        assert_int_equal(json_array_size(s), 0);
        json_decref(s);
        json_decref(r);
    }
}

/* A report whose functions point into tests/data/suggest/idioms.py. */
static json_t *idioms_report(const char *file, int line, const char *name, double total_pct)
{
    char *fns = xasprintf("[{\"key\": \"%s:%s:%d\", \"file\": \"%s\", \"name\": \"%s\","
                          " \"line\": %d, \"calls\": null, \"self_s\": 0.1, \"total_s\": 1.0,"
                          " \"self_pct\": 10, \"total_pct\": %g, \"max_depth\": 1}]",
                          file, name, line, file, name, line, total_pct);
    json_t *r = make_report("sample", 2.0, 95, fns, NULL);
    free(fns);
    return r;
}

static void test_regex_in_loop(void **state)
{
    (void)state;
    json_t *r = idioms_report("idioms.py", 9, "compile_in_loop", 60);
    json_t *s = run_rule(r, "regex-in-loop", DATA);
    assert_int_equal(json_array_size(s), 1);
    json_t *one = json_array_get(s, 0);
    assert_int_equal(json_integer_value(json_object_get(one, "line")), 12);
    assert_float_equal(ev_num(one, "loop_line"), 11, 1e-9);
    assert_contains(msg_of(s, 0), "'re.compile' runs inside a loop in "
                                  "'idioms.py:compile_in_loop' (line 12, loop at line 11)");
    json_decref(s);
    json_decref(r);

    r = idioms_report("idioms.py", 19, "literal_pattern_in_loop", 60);
    s = run_rule(r, "regex-in-loop", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_contains(msg_of(s, 0), "'re.search' with a constant pattern");
    json_decref(s);
    json_decref(r);

    /* module-level loop in a <module> function */
    r = idioms_report("idioms.py", 1, "<module>", 100);
    s = run_rule(r, "regex-in-loop", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 0), "line")), 87);
    json_decref(s);
    json_decref(r);

    /* no trigger: clean function, cold function, unreadable or escaping file */
    struct {
        const char *file;
        int line;
        double pct;
    } quiet[] = {{"idioms.py", 49, 90},
                 {"idioms.py", 9, 5},
                 {"missing.py", 9, 90},
                 {"../suggest/idioms.py", 9, 90},
                 {"/nonexistent/idioms.py", 9, 90},
                 {"idioms.py", 12, 90},
                 {"<string>", 9, 90}};
    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        r = idioms_report(quiet[i].file, quiet[i].line, "f", quiet[i].pct);
        s = run_rule(r, "regex-in-loop", DATA);
        if (json_array_size(s) != 0)
            print_error("case %zu: %s\n", i, msg_of(s, 0));
        assert_int_equal(json_array_size(s), 0);
        json_decref(s);
        json_decref(r);
    }

    /* an absolute path needs no root; files under python.prefix are not the user's */
    char *abs = xasprintf("%s/idioms.py", DATA);
    r = idioms_report(abs, 9, "compile_in_loop", 60);
    s = run_rule(r, "regex-in-loop", NULL);
    assert_int_equal(json_array_size(s), 1);
    json_decref(s);
    json_object_set_new(json_object_get(r, "python"), "prefix", json_string(DATA "/.."));
    s = run_rule(r, "regex-in-loop", NULL);
    assert_int_equal(json_array_size(s), 1); /* DATA/../lib/python* it is not */
    json_decref(s);
    json_decref(r);
    free(abs);
    r = idioms_report("/usr/lib/python3/dist-packages/x.py", 9, "f", 60);
    s = run_rule(r, "regex-in-loop", NULL);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

static void test_str_concat_in_loop(void **state)
{
    (void)state;
    /* first line 31 is the decorator, as co_firstlineno reports it */
    json_t *r = idioms_report("idioms.py", 31, "concat_in_loop", 70);
    json_t *s = run_rule(r, "str-concat-in-loop", DATA);
    assert_int_equal(json_array_size(s), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 0), "line")), 40);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 1), "line")), 41);
    assert_contains(msg_of(s, 0), "String 's' is extended with += inside a loop in "
                                  "'idioms.py:concat_in_loop' (line 40, loop at line 38)");
    json_decref(s);
    json_decref(r);

    /* nested functions both hot: the shared line is reported once */
    r = make_report("sample", 2.0, 95,
                    "[" FN("idioms.py:Builder:70", "idioms.py", "Builder", 70, "null", 0, 1.5, 0,
                           75, 1) "," FN("idioms.py:Builder.build:71", "idioms.py", "Builder.build",
                                         71, "null", 1.4, 1.4, 70, 70, 1) "]",
                    NULL);
    s = run_rule(r, "str-concat-in-loop", DATA);
    assert_int_equal(json_array_size(s), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(s, 0), "line")), 74);
    json_decref(s);
    json_decref(r);

    /* no trigger: the clean function, the regex function */
    r = idioms_report("idioms.py", 49, "clean", 90);
    s = run_rule(r, "str-concat-in-loop", DATA);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
    r = idioms_report("idioms.py", 9, "compile_in_loop", 90);
    s = run_rule(r, "str-concat-in-loop", DATA);
    assert_int_equal(json_array_size(s), 0);
    json_decref(s);
    json_decref(r);
}

static void test_full_documents(void **state)
{
    (void)state;
    /* examples/slow_script.py: dominant function and I/O wait, nothing else */
    json_t *r = load("slow_script_report.json");
    json_t *s = suggest_analyze(r, NULL);
    check_shape(s);
    assert_int_equal(json_array_size(s), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "rule")),
                        "dominant-function");
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 1), "rule")),
                        "io-wait");
    json_decref(s);
    json_decref(r);

    /* naive fib traced: dominant and recursion (not cheap calls: they are the recursion) */
    r = load("fib_trace_run.json");
    s = suggest_analyze(r, NULL);
    check_shape(s);
    assert_int_equal(json_array_size(s), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 0), "rule")),
                        "dominant-function");
    assert_string_equal(json_string_value(json_object_get(json_array_get(s, 1), "rule")),
                        "deep-recursion");
    json_decref(s);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_table),
        cmocka_unit_test(test_unusable_reports),
        cmocka_unit_test(test_dominant_function),
        cmocka_unit_test(test_many_cheap_calls),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_io_wait),
        cmocka_unit_test(test_cpu_starved),
        cmocka_unit_test(test_dominant_starved),
        cmocka_unit_test(test_dominant_threads_sum),
        cmocka_unit_test(test_memory_growth),
        cmocka_unit_test(test_regex_in_loop),
        cmocka_unit_test(test_str_concat_in_loop),
        cmocka_unit_test(test_full_documents),
        cmocka_unit_test(test_dominant_names_user_code),
        cmocka_unit_test(test_cache_advice_hashable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
