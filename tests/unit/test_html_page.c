/* test_html_page.c - the shared page frame: its policy allows exactly the page's own scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "html_page.h"

/* The frame of page alone (open, a main, close) as a new string. */
static char *render(const struct html_page *page)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    html_page_open(f, page);
    html_page_header(f, "heading <b>");
    fputs("</header>\n<main></main>\n", f);
    html_page_close(f, page);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* "'sha256-...'" of the text of the n-th (0-based) script element in page; new string. */
static char *script_hash(const char *page, int n)
{
    const char *p = page;
    for (int i = 0; i <= n; i++) {
        p = strstr(p, "<script>");
        assert_non_null(p);
        p += strlen("<script>");
    }
    const char *end = strstr(p, "</script>");
    assert_non_null(end);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)p, (unsigned long long)(end - p));
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(96);
    snprintf(out, 96, "'sha256-%s'", b64);
    return out;
}

static void test_no_script_page(void **state)
{
    (void)state;
    struct html_page page = {.title = "t <x>"};
    char *s = render(&page);
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "script-src"));
    assert_non_null(strstr(s, "default-src 'none'"));
    assert_non_null(strstr(s, "<title>t &lt;x&gt;</title>"));
    assert_non_null(strstr(s, "heading &lt;b&gt;</h1>"));
    assert_null(strstr(s, "<nav"));
    assert_non_null(strstr(s, html_page_csp(false)));
    free(s);
}

static void test_script_page_hashes_match(void **state)
{
    (void)state;
    struct html_page page = {.title = "t", .script = true};
    char *s = render(&page);
    const char *csp = html_page_csp(true);
    assert_non_null(strstr(s, csp));
    char *catcher = script_hash(s, 0), *main_script = script_hash(s, 1);
    const char *src = strstr(csp, "script-src ");
    assert_non_null(src);
    assert_non_null(strstr(src, catcher));
    assert_non_null(strstr(src, main_script));
    assert_null(strstr(src, "unsafe"));
    assert_non_null(strstr(s, "data-ready")); /* the main script is report.js */
    free(catcher);
    free(main_script);
    free(s);
}

static void test_served_page_has_navigation(void **state)
{
    (void)state;
    struct html_site site = {.active = "hosts"};
    struct html_page page = {.title = "t", .site = &site};
    char *s = render(&page);
    assert_non_null(strstr(s, "<nav class=\"site\">"));
    assert_non_null(strstr(s, "<a href=\"/hosts\" aria-current=\"page\">Hosts</a>"));
    assert_non_null(strstr(s, "<a href=\"/\">Latest report</a>"));
    assert_true(html_page_served(&page));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_script_page),
        cmocka_unit_test(test_script_page_hashes_match),
        cmocka_unit_test(test_served_page_has_navigation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
