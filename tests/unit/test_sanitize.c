/* test_sanitize.c - the display form of untrusted text (lib/sanitize.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

/* The safe form of s (NUL-terminated) with flags, compared with want. */
static void check(const char *s, unsigned flags, const char *want)
{
    char *got = sanitize_dup(s, flags);
    assert_string_equal(got, want);
    assert_int_equal(sanitize_is_clean(s, strlen(s), flags), strcmp(s, want) == 0);
    free(got);
}

static void test_plain_text_unchanged(void **state)
{
    (void)state;
    check("examples/slow_script.py:main:12", 0, "examples/slow_script.py:main:12");
    check("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\x8d", 0,
          "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\x8d");
    check("back\\slash", 0, "back\\slash");
    check("", 0, "");
}

static void test_terminal_escapes_shown(void **state)
{
    (void)state;
    check("\x1b]0;TITLE\x07", 0, "\\x1b]0;TITLE\\x07");
    check("\x1b[2J", 0, "\\x1b[2J");
    check("a\rb\x7f", 0, "a\\rb\\x7f");
    check("\xc2\x9b"
          "31m",
          0, "\\u009b31m"); /* C1 CSI */
}

static void test_newlines_forge_no_lines(void **state)
{
    (void)state;
    check("suite\ncoordinator: info: forged", 0, "suite\\ncoordinator: info: forged");
    check("a\tb", 0, "a\\tb");
    check("line 1\n\tline 2\r", SANITIZE_KEEP_NEWLINES, "line 1\n\tline 2\\r");
}

static void test_bidi_and_invisible_shown(void **state)
{
    (void)state;
    check("evil\xe2\x80\xaetxt.py", 0, "evil\\u202etxt.py");  /* RLO */
    check("\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069"); /* LRI, PDI */
    check("a\xe2\x80\x8b"
          "b",
          0, "a\\u200bb");                 /* zero width space */
    check("\xef\xbb\xbfx", 0, "\\ufeffx"); /* BOM */
    check("\xd8\x9c", 0, "\\u061c");       /* Arabic letter mark */
    check("\xe2\x80\xa8", 0, "\\u2028");
}

static void test_bad_utf8_shown_as_bytes(void **state)
{
    (void)state;
    check("a\xff"
          "b",
          0, "a\\xffb");
    check("\xc0\xaf", 0, "\\xc0\\xaf");                   /* overlong '/' */
    check("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");          /* surrogate */
    check("\xe2\x80", 0, "\\xe2\\x80");                   /* truncated */
    check("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
}

static void test_embedded_nul_is_shown(void **state)
{
    (void)state;
    char *got = sanitize_ndup("a\0b", 3, 0);
    assert_string_equal(got, "a\\x00b");
    free(got);
    assert_false(sanitize_is_clean("a\0b", 3, 0));
}

static void test_fwrite_matches_dup(void **state)
{
    (void)state;
    const char *s = "x\x1b[31m\xe2\x80\xaey\xff";
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sanitize_fwrite(f, s, strlen(s), 0);
    sanitize_fwrite(f, NULL, 3, 0);
    fclose(f);
    char *want = sanitize_dup(s, 0);
    assert_string_equal(buf, want);
    assert_string_equal(buf, "x\\x1b[31m\\u202ey\\xff");
    free(want);
    free(buf);
    assert_null(sanitize_dup(NULL, 0));
}

static void test_json_tree_in_place(void **state)
{
    (void)state;
    json_t *doc =
        json_pack("{s:[s,{s:s}],s:i}", "hosts", "a\x1b[2J", "hostname\x07", "x\ny", "n", 3);
    sanitize_json(doc, 0);
    char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(text, "{\"hosts\":[\"a\\\\x1b[2J\",{\"hostname\\\\x07\":\"x\\\\ny\"}],"
                              "\"n\":3}");
    free(text);
    json_decref(doc);
    sanitize_json(NULL, 0);
}

static void test_ellipsize_counts_characters(void **state)
{
    (void)state;
    char a[] = "abcdef";
    assert_string_equal(sanitize_ellipsize(a, 4), "abc\xe2\x80\xa6");
    char b[] = "abc";
    assert_string_equal(sanitize_ellipsize(b, 3), "abc");
    char c[] = "abc";
    assert_string_equal(sanitize_ellipsize(c, 2), "\xe2\x80\xa6"); /* no room for a + … */
    char d[] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    assert_string_equal(sanitize_ellipsize(d, 3), "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    char e[] = "abcd";
    assert_string_equal(sanitize_ellipsize(e, 1), "abcd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_unchanged),
        cmocka_unit_test(test_terminal_escapes_shown),
        cmocka_unit_test(test_newlines_forge_no_lines),
        cmocka_unit_test(test_bidi_and_invisible_shown),
        cmocka_unit_test(test_bad_utf8_shown_as_bytes),
        cmocka_unit_test(test_embedded_nul_is_shown),
        cmocka_unit_test(test_fwrite_matches_dup),
        cmocka_unit_test(test_json_tree_in_place),
        cmocka_unit_test(test_ellipsize_counts_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
