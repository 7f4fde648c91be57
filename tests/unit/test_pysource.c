/* test_pysource.c - logical lines, function bodies and loop idioms in Python source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "pysource.h"
#include "xmalloc.h"

#define IDIOMS_PY PYSCOPE_TEST_DATA "/suggest/idioms.py"
#define MAXF      16

struct src {
    char *text;
    size_t len;
};

static int setup(void **state)
{
    struct src *s = xcalloc(1, sizeof(*s));
    if (pysource_read_file(IDIOMS_PY, &s->text, &s->len) != 0)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct src *s = *state;
    free(s->text);
    free(s);
    return 0;
}

/* Scan text at first_line and compare "line:idiom-name:call:target" strings. */
static void expect_scan(const char *text, int first_line, const char *const *want, size_t n_want)
{
    struct pysource_finding f[MAXF];
    int n = pysource_scan(text, strlen(text), first_line, f, MAXF);
    bool ok = n == (int)n_want;
    for (int i = 0; ok && i < n; i++) {
        char got[160];
        snprintf(got, sizeof(got), "%d:%s:%s:%s", f[i].line, pysource_idiom_name(f[i].idiom),
                 f[i].call, f[i].target);
        ok = strcmp(got, want[i]) == 0;
    }
    if (!ok) {
        print_error("scan at line %d: got %d findings, want %zu\n", first_line, n, n_want);
        for (int i = 0; i < n; i++)
            print_error("  got %d:%s:%s:%s (loop %d)\n", f[i].line, pysource_idiom_name(f[i].idiom),
                        f[i].call, f[i].target, f[i].loop_line);
        for (size_t i = 0; i < n_want; i++)
            print_error("  want %s\n", want[i]);
    }
    assert_true(ok);
}

#define EXPECT(text, line, ...)                                                                    \
    do {                                                                                           \
        static const char *const w_[] = {__VA_ARGS__};                                             \
        expect_scan(text, line, w_, sizeof(w_) / sizeof(w_[0]));                                   \
    } while (0)
#define EXPECT_NONE(text, line) expect_scan(text, line, NULL, 0)

static void test_find_function(void **state)
{
    struct src *s = *state;
    int def, end;
    assert_int_equal(pysource_find_function(s->text, s->len, 9, &def, &end), 0);
    assert_int_equal(def, 9);
    assert_int_equal(end, 16);
    /* first line = first decorator (co_firstlineno), decorators span brackets */
    assert_int_equal(pysource_find_function(s->text, s->len, 31, &def, &end), 0);
    assert_int_equal(def, 35);
    assert_int_equal(end, 46); /* the triple-quoted string does not end it */
    assert_int_equal(pysource_find_function(s->text, s->len, 60, &def, &end), 0);
    assert_int_equal(end, 67);
    assert_int_equal(pysource_find_function(s->text, s->len, 71, &def, &end), 0);
    assert_int_equal(def, 71);
    assert_int_equal(end, 76);
    assert_int_equal(pysource_find_function(s->text, s->len, 70, &def, &end), 0);
    assert_int_equal(end, 76);
    assert_int_equal(pysource_find_function(s->text, s->len, 79, &def, &end), 0);
    assert_int_equal(end, 83);
    /* not a def: a statement, past the end */
    assert_int_equal(pysource_find_function(s->text, s->len, 12, &def, &end), -PYSCOPE_ENODATA);
    assert_int_equal(pysource_find_function(s->text, s->len, 100000, &def, &end), -PYSCOPE_ENODATA);
    /* one-line def */
    const char *one = "def f(): return 1\nx = 2\n";
    assert_int_equal(pysource_find_function(one, strlen(one), 1, &def, &end), 0);
    assert_int_equal(end, 1);
}

static void test_scan_fixture(void **state)
{
    struct src *s = *state;
    const char *t = s->text;
    EXPECT(t, 9, "12:regex-in-loop:re.compile:");
    EXPECT(t, 19, "23:regex-in-loop:re.search:");
    EXPECT(t, 31, "40:str-concat-in-loop:+=:s", "41:str-concat-in-loop:+=:s");
    EXPECT_NONE(t, 49);
    EXPECT(t, 60, "64:str-concat-in-loop:+=:acc", "65:regex-in-loop:re.match:");
    EXPECT(t, 71, "74:str-concat-in-loop:+=:self.buf");
    EXPECT(t, 79, "82:str-concat-in-loop:+=:out");
    /* <module>: top-level loops only */
    EXPECT(t, 0, "87:regex-in-loop:re.findall:");

    /* loop_line names the innermost loop */
    struct pysource_finding f[4];
    assert_int_equal(pysource_scan(t, s->len, 60, f, 4), 2);
    assert_int_equal(f[0].loop_line, 64);
    assert_int_equal(f[1].loop_line, 65);
    assert_int_equal(pysource_scan(t, s->len, 9, f, 4), 1);
    assert_int_equal(f[0].loop_line, 11);
    /* the output cap is honoured */
    assert_int_equal(pysource_scan(t, s->len, 31, f, 1), 1);
    assert_int_equal(f[0].line, 40);
    assert_int_equal(pysource_scan(t, s->len, 12, f, 4), -PYSCOPE_ENODATA);
}

static void test_scan_inline_sources(void **state)
{
    (void)state;
    /* CRLF line ends and a nested loop header evaluated in the outer loop */
    EXPECT("def f(xs):\r\n"
           "    for a in xs:\r\n"
           "        for m in re.finditer('x', a):\r\n"
           "            pass\r\n",
           1, "3:regex-in-loop:re.finditer:");
    /* strings and comments hide look-alikes; a string that holds a quote and a hash */
    EXPECT_NONE("def f(xs):\n"
                "    for a in xs:\n"
                "        y = 'it\\'s # re.compile(a)'  # re.compile(b)\n"
                "        z = \"\"\"\n"
                "re.compile(c)\n"
                "\"\"\"\n",
                1);
    /* f-string patterns are not constant; compiled patterns and other modules are fine */
    EXPECT_NONE("def f(xs, p):\n"
                "    for a in xs:\n"
                "        re.match(f'{p}', a)\n"
                "        p.match(a)\n"
                "        regex.compile(a)\n"
                "        self.re.compile(a)\n"
                "        mre.compile(a)\n",
                1);
    /* a statement spread over several lines by brackets: the line of the call is reported */
    EXPECT("def f(xs):\n"
           "    while xs:\n"
           "        y = foo(1,\n"
           "                re.compile(\n"
           "                    'a'))\n"
           "        xs.pop()\n",
           1, "4:regex-in-loop:re.compile:");
    /* after the loop ends, the same code is not in it; else: of a loop is not in it */
    EXPECT_NONE("def f(xs):\n"
                "    s = ''\n"
                "    for a in xs:\n"
                "        pass\n"
                "    else:\n"
                "        s += 'done'\n"
                "    s += 'x'\n"
                "    re.compile('a')\n",
                1);
    /* annotated string initialisation, walrus in a while condition */
    EXPECT("def f(xs):\n"
           "    s: str = ''\n"
           "    while (n := len(xs)) > 0:\n"
           "        s += xs.pop()\n",
           1, "4:str-concat-in-loop:+=:s");
    /* a function that stops at a dedent; the next function is not scanned */
    EXPECT_NONE("def f(xs):\n"
                "    return xs\n"
                "def g(xs):\n"
                "    for a in xs:\n"
                "        re.compile(a)\n",
                1);
    /* robustness: empty, garbage, unterminated strings, deep nesting, NUL bytes */
    struct pysource_finding f[4];
    assert_int_equal(pysource_scan("", 0, 1, f, 4), -PYSCOPE_ENODATA);
    EXPECT_NONE("", 0);
    EXPECT_NONE("def f(:\n  for 'x\n", 0);
    EXPECT_NONE("(((((((((\n\n", 0);
    static const char nul[] = "def f(xs):\n    for a in xs:\n        re.compile(a\0)\n";
    assert_int_equal(pysource_scan(nul, sizeof(nul) - 1, 1, f, 4), 1);
    assert_int_equal(pysource_scan("def f(x):\n  pass\n", 17, 1, f, 0), 0);
    /* 150 nested loops (over the tracked depth) still scan */
    size_t cap = 200000, n = 0;
    char *deep = xmalloc(cap);
    n += (size_t)snprintf(deep + n, cap - n, "def f(x):\n");
    for (int i = 1; i <= 150; i++)
        n += (size_t)snprintf(deep + n, cap - n, "%*sfor a%d in x:\n", i * 1, "", i);
    n += (size_t)snprintf(deep + n, cap - n, "%*sre.compile(x)\n", 151, "");
    assert_int_equal(pysource_scan(deep, n, 1, f, 4), 1);
    assert_int_equal(f[0].line, 152);
    free(deep);
}

/* Mutated copies of the fixture (fixed seed): never a crash, counts stay in bounds. */
static void test_scan_mutations(void **state)
{
    struct src *s = *state;
    static const char alphabet[] = "\n\r\t \\'\"#:()[]{}=+@fordefwhilere.x\0";
    unsigned long seed = 12345;
    char *buf = xmalloc(s->len + 1);
    struct pysource_finding f[MAXF];
    for (int iter = 0; iter < 200; iter++) {
        memcpy(buf, s->text, s->len + 1);
        for (int k = 0; k < 1 + iter % 20; k++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            size_t at = (seed >> 33) % s->len;
            buf[at] = alphabet[(seed >> 13) % (sizeof(alphabet) - 1)];
        }
        size_t len = s->len - (size_t)(iter % 7) * (s->len / 9);
        for (int line = 0; line < 95; line += 1 + iter % 5) {
            int n = pysource_scan(buf, len, line, f, MAXF);
            assert_true(n == -PYSCOPE_ENODATA || (n >= 0 && n <= MAXF));
            for (int i = 0; i < n; i++) {
                assert_true(f[i].line >= 1 && f[i].line <= 200);
                assert_true(f[i].loop_line >= 1 && f[i].loop_line <= f[i].line);
            }
        }
    }
    free(buf);
}

static void test_read_file(void **state)
{
    (void)state;
    char *buf = (char *)1;
    size_t len = 7;
    assert_int_equal(pysource_read_file("/nonexistent/x.py", &buf, &len), -ENOENT);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(pysource_read_file(PYSCOPE_TEST_DATA, &buf, &len), -EINVAL);

    char tmpl[] = "/tmp/pyscope_pysource_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, PYSOURCE_FILE_MAX), 0);
    assert_int_equal(pysource_read_file(tmpl, &buf, &len), 0);
    assert_int_equal(len, PYSOURCE_FILE_MAX);
    free(buf);
    assert_int_equal(ftruncate(fd, PYSOURCE_FILE_MAX + 1), 0);
    assert_int_equal(pysource_read_file(tmpl, &buf, &len), -PYSCOPE_ETOOBIG);
    assert_null(buf);
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pysource_read_file(tmpl, &buf, &len), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
    close(fd);
    unlink(tmpl);
    assert_string_equal(pysource_idiom_name(PYSOURCE_IDIOM_REGEX_IN_LOOP), "regex-in-loop");
}

/* hashable(SRC, NAME): the verdict on the function defined on line 1 of SRC. */
static enum pysource_hash hashable(const char *src, const char *name, char *why)
{
    return pysource_args_hashable(src, strlen(src), 1, name, why, 128);
}

static void test_args_hashable(void **state)
{
    (void)state;
    char why[128];
    /* numbers: fib memoizes with functools.lru_cache */
    assert_int_equal(
        hashable("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n", "fib", why),
        PYSOURCE_HASH_YES);
    assert_string_equal(why, "every argument is hashable");
    assert_int_equal(hashable("def c(n, k):\n    return 1 if k in (0, n) else c(n - 1, k - 1) + "
                              "c(n - 1, k=k)\n",
                              "c", why),
                     PYSOURCE_HASH_YES);
    assert_int_equal(hashable("def f(t: tuple[int, ...], k: Optional[str]):\n    return f(t, "
                              "k)\n",
                              "f", why),
                     PYSOURCE_HASH_YES);
    assert_int_equal(hashable("def f():\n    return f()\n", "f", why), PYSOURCE_HASH_YES);
    /* unhashable: a list display, a list annotation, list(), x + [y] */
    assert_int_equal(hashable("def perms(prefix, rest):\n    for i, x in enumerate(rest):\n"
                              "        perms(prefix + [x], rest[:i] + rest[i + 1:])\n",
                              "perms", why),
                     PYSOURCE_HASH_NO);
    assert_string_equal(why, "argument 'prefix' gets an unhashable value (line 3)");
    assert_int_equal(hashable("def walk(grid: list[list[int]], i: int):\n    return walk(grid, "
                              "i + 1)\n",
                              "walk", why),
                     PYSOURCE_HASH_NO);
    assert_string_equal(why, "argument 'grid' is annotated with an unhashable type");
    assert_int_equal(hashable("def g(xs):\n    return g(sorted(xs)[1:]) if xs else 0\n"
                              "def h(xs):\n    return g(list(xs))\n",
                              "g", why),
                     PYSOURCE_HASH_UNKNOWN); /* a subscript of a call: not told */
    assert_int_equal(hashable("def g(d):\n    return g({**d, 'a': 1})\n", "g", why),
                     PYSOURCE_HASH_NO);
    /* not told: objects (a linked list), slices, self */
    assert_int_equal(hashable("def total(node):\n    if node is None:\n        return 0\n"
                              "    return node.val + total(node.next)\n",
                              "total", why),
                     PYSOURCE_HASH_UNKNOWN);
    assert_string_equal(why, "the source does not tell whether every argument is hashable");
    assert_int_equal(hashable("def s(xs):\n    return xs[0] + s(xs[1:]) if xs else 0\n", "s", why),
                     PYSOURCE_HASH_UNKNOWN);
    assert_int_equal(hashable("def walk(self, n):\n    return self.walk(n - 1)\n", "walk", why),
                     PYSOURCE_HASH_UNKNOWN);
    assert_int_equal(hashable("def k(lst, n):\n    return k(lst * 2, n)\n", "k", why),
                     PYSOURCE_HASH_UNKNOWN); /* list * 2 is a list, "ab" * 2 a string */
    /* a tuple is hashable only when its items are: tuple(rows) of lists is not told
     * (functools.lru_cache raised TypeError: unhashable type: 'list') */
    assert_int_equal(hashable("def count(rows, n):\n    if n < 2:\n        return 1\n"
                              "    return count(tuple(rows), n - 1) + count(tuple(rows), n - 2)\n",
                              "count", why),
                     PYSOURCE_HASH_UNKNOWN);
    assert_string_equal(why, "the source does not tell whether every argument is hashable");
    static const struct {
        const char *src;
        enum pysource_hash want;
    } tuples[] = {
        {"def f(t, n):\n    return f((n, t), n - 1)\n", PYSOURCE_HASH_UNKNOWN},
        {"def f(t, n):\n    return f(tuple([n, [1]]), n - 1)\n", PYSOURCE_HASH_NO},
        {"def f(t, n):\n    return f((n, [1]), n - 1)\n", PYSOURCE_HASH_NO},
        {"def f(t, n):\n    return f(tuple(x for x in t), n - 1)\n", PYSOURCE_HASH_UNKNOWN},
        {"def f(t, n):\n    return f(tuple([r for r in t]), n - 1)\n", PYSOURCE_HASH_UNKNOWN},
        /* a bare tuple annotation: its items are not told */
        {"def f(t: tuple, n: int):\n    return f(t, n - 1)\n", PYSOURCE_HASH_UNKNOWN},
        /* ... and hashable when every item is */
        {"def f(t, n):\n    return f(tuple(range(n)), n - 1) + f(tuple(), n - 2) + "
         "f(tuple([n + 1, 'a']), n - 3) + f(tuple((n - 1, 1)), n - 4) + "
         "f((n / 2, (1, 'b')), n - 5)\n",
         PYSOURCE_HASH_YES},
        {"def f(t, s: tuple[int, ...], n):\n    return f(tuple(s), s, n - 1)\n", PYSOURCE_HASH_YES},
        /* frozenset(t) raises unless t's items hash */
        {"def f(t, n):\n    return f(frozenset(t), n - 1)\n", PYSOURCE_HASH_YES},
        /* more items than are looked at (HASH_MAX_PARAMS): the 17th, t, is not told */
        {"def f(t, n):\n"
         "    return f(tuple([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, t]), n - 1)\n",
         PYSOURCE_HASH_UNKNOWN},
        {"def f(t, n):\n"
         "    return f((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, t), n - 1)\n",
         PYSOURCE_HASH_UNKNOWN},
        /* more parameters than are looked at: the 17th, q, gets a list */
        {"def f(a: int, b: int, c: int, d: int, e: int, g: int, h: int, i: int, j: int, k: int,"
         " l: int, m: int, o: int, p: int, r: int, s: int, q):\n"
         "    return f(a, b, c, d, e, g, h, i, j, k, l, m, o, p, r, s, [q])\n",
         PYSOURCE_HASH_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(tuples) / sizeof(tuples[0]); i++)
        if (hashable(tuples[i].src, "f", why) != tuples[i].want)
            fail_msg("%s: want %d", tuples[i].src, (int)tuples[i].want);
    /* not a function at that line */
    assert_int_equal(hashable("x = 1\n", "x", why), PYSOURCE_HASH_UNKNOWN);
}

static void test_count_loops(void **state)
{
    (void)state;
    const char *mod = "import time\ndef f():\n    for i in range(3):\n        pass\n"
                      "time.sleep(1)\n";
    assert_int_equal(pysource_count_loops(mod, strlen(mod), 0), 0); /* f's loop is not top level */
    assert_int_equal(pysource_count_loops(mod, strlen(mod), 2), 1);
    const char *loop = "s = 0\nfor i in range(9):\n    while s < i:\n        s += 1\n";
    assert_int_equal(pysource_count_loops(loop, strlen(loop), 0), 2);
    assert_int_equal(pysource_count_loops(loop, strlen(loop), 3), -PYSCOPE_ENODATA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_fixture, setup, teardown),
        cmocka_unit_test(test_scan_inline_sources),
        cmocka_unit_test_setup_teardown(test_scan_mutations, setup, teardown),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_args_hashable),
        cmocka_unit_test(test_count_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
