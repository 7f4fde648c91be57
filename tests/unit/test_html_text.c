/* test_html_text.c - lib/html_text: escaping for HTML text, attributes and script data,
 * and the human forms of seconds and bytes every page shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "html_text.h"

static char *escaped(const char *s, size_t len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    html_write_escaped(f, s, len);
    fclose(f);
    return buf;
}

static void test_escape_specials(void **state)
{
    (void)state;
    const char *in = "<script>alert(1)</script>\"'&";
    char *out = escaped(in, strlen(in));
    assert_string_equal(out, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;");
    free(out);
}

static void test_escape_controls(void **state)
{
    (void)state;
    const char in[] = "a\0b\x01\t\n\r\x7f\xc3\xa9\xe2\x80\xae"
                      "evil";
    char *out = escaped(in, sizeof(in) - 1);
    /* the sanitiser's escapes (lib/sanitize.h); tab and newline kept */
    assert_string_equal(out, "a\\x00b\\x01\t\n\\r\\x7f\xc3\xa9\\u202eevil");
    free(out);
}

static void test_script_json_escapes(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:s, s:s, s:s}", "a", "</script><script>alert(1)</script>", "b",
                             "<!-- & -->", "c", "line\xe2\x80\xa8sep\xe2\x80\xa9para");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(html_write_script_json(f, data), 0);
    fclose(f);
    assert_null(strchr(buf, '<'));
    assert_null(strchr(buf, '>'));
    assert_null(strchr(buf, '&'));
    assert_null(strstr(buf, "\xe2\x80\xa8"));
    assert_null(strstr(buf, "\xe2\x80\xa9"));
    assert_non_null(strstr(buf, "\\u003c/script\\u003e"));
    json_error_t jerr;
    json_t *back = json_loads(buf, 0, &jerr);
    assert_non_null(back);
    /* markup survives intact; line separators are shown as escapes (lib/sanitize.h) */
    assert_string_equal(json_string_value(json_object_get(back, "a")),
                        "</script><script>alert(1)</script>");
    assert_string_equal(json_string_value(json_object_get(back, "c")), "line\\u2028sep\\u2029para");
    json_decref(back);
    json_decref(data);
    free(buf);
}

static void test_write_str(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    html_write_str(f, NULL); /* nothing */
    html_write_str(f, "a<b");
    fclose(f);
    assert_string_equal(buf, "a&lt;b");
    free(buf);
}

static void test_fmt(void **state)
{
    (void)state;
    char b[32];
    html_fmt_secs(b, sizeof(b), 1.5494);
    assert_string_equal(b, "1.549 s");
    html_fmt_secs(b, sizeof(b), 0.619);
    assert_string_equal(b, "619 ms");
    html_fmt_secs(b, sizeof(b), 0.0123);
    assert_string_equal(b, "12.3 ms");
    html_fmt_secs(b, sizeof(b), 0.00456);
    assert_string_equal(b, "4.56 ms");
    html_fmt_secs(b, sizeof(b), 45e-6);
    assert_string_equal(b, "45.0 \xc2\xb5s");
    html_fmt_secs(b, sizeof(b), 0);
    assert_string_equal(b, "0 s");
    html_fmt_bytes(b, sizeof(b), 512);
    assert_string_equal(b, "512 B");
    html_fmt_bytes(b, sizeof(b), 18.8 * 1024 * 1024);
    assert_string_equal(b, "18.8 MiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_specials),
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_script_json_escapes),
        cmocka_unit_test(test_write_str),
        cmocka_unit_test(test_fmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
