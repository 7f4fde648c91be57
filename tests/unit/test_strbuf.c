/* test_strbuf.c - lib/strbuf: the growable string the programs build text in (appends of
 * every kind, growth across many reallocations, embedded NUL bytes, the kept tail, take and
 * release leaving the buffer empty for reuse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "strbuf.h"

/* Write n bytes of text to a new file in dir, return its path (new). */
static char *put_file(const char *dir, const char *name, const char *text, size_t n)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void test_empty(void **state)
{
    (void)state;
    struct strbuf b = {0};
    assert_null(b.s);
    char *s = strbuf_take(&b);
    assert_string_equal(s, ""); /* never NULL */
    free(s);
    strbuf_add(&b, NULL, 0); /* nothing appended, but now a string */
    assert_non_null(b.s);
    assert_string_equal(b.s, "");
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
    assert_null(b.s);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    strbuf_release(&b); /* twice is harmless */
}

static void test_appends(void **state)
{
    (void)state;
    struct strbuf b = {0};
    strbuf_adds(&b, "{");
    strbuf_addf(&b, "%d,%s", 12, "x");
    strbuf_addc(&b, ';');
    strbuf_add(&b, "abcdef", 3);
    strbuf_addf(&b, "%s", ""); /* an empty format appends nothing */
    assert_string_equal(b.s, "{12,x;abc");
    assert_int_equal(b.len, strlen("{12,x;abc"));
    assert_true(b.cap > b.len);
    char *s = strbuf_take(&b);
    assert_string_equal(s, "{12,x;abc");
    assert_null(b.s); /* take leaves it empty, ready for reuse */
    assert_int_equal(b.len, 0);
    strbuf_addf(&b, "%s", "again");
    assert_string_equal(b.s, "again");
    free(s);
    strbuf_release(&b);
}

/* Many appends of every size: each crossing of the capacity reallocates, and the text stays
 * what was appended (a formatted piece longer than the room left is written whole). */
static void test_growth(void **state)
{
    (void)state;
    struct strbuf b = {0};
    char *want = calloc(1, 200000);
    size_t n = 0;
    for (int i = 0; i < 3000; i++) {
        char piece[80];
        memset(piece, 'a' + i % 26, sizeof(piece));
        int len = i % 70;
        if (i % 3 == 0) {
            strbuf_addf(&b, "%.*s|%d", len, piece, i);
            n += (size_t)snprintf(want + n, 200000 - n, "%.*s|%d", len, piece, i);
        } else if (i % 3 == 1) {
            strbuf_add(&b, piece, (size_t)len);
            memcpy(want + n, piece, (size_t)len);
            n += (size_t)len;
        } else {
            strbuf_addc(&b, piece[0]);
            want[n++] = piece[0];
        }
        assert_int_equal(b.len, n);
        assert_true(b.cap > b.len);
        assert_int_equal(b.s[b.len], '\0');
    }
    assert_memory_equal(b.s, want, n);
    strbuf_addf(&b, "%0500d", 7); /* longer than any room a doubling leaves */
    assert_int_equal(b.len, n + 500);
    assert_int_equal(strlen(b.s + n), 500);
    assert_int_equal(b.s[b.len - 1], '7');
    strbuf_release(&b);
    free(want);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    struct strbuf b = {0};
    strbuf_add(&b, "a\0b", 3);
    strbuf_addc(&b, '\0');
    strbuf_adds(&b, "c");
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.s, "a\0b\0c", 6); /* and the final NUL */
    strbuf_release(&b);
}

static void test_keep_tail(void **state)
{
    (void)state;
    struct strbuf b = {0};
    strbuf_keep_tail(&b, 4); /* empty: nothing to drop, still empty */
    assert_null(b.s);
    strbuf_adds(&b, "abc");
    strbuf_keep_tail(&b, 4); /* shorter than the tail: unchanged */
    assert_string_equal(b.s, "abc");
    strbuf_adds(&b, "defg\nlast line");
    strbuf_keep_tail(&b, 9);
    assert_string_equal(b.s, "last line");
    assert_int_equal(b.len, 9);
    strbuf_adds(&b, "!");
    assert_string_equal(b.s, "last line!");
    strbuf_keep_tail(&b, 0);
    assert_string_equal(b.s, "");
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
}

/* A file read whole, appended; a cap that refuses one byte more than it allows; what is not
 * a regular file (a folder, a FIFO: refused without blocking) or is missing; b untouched on
 * failure. */
static void test_read_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_strbuf.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *ten = put_file(dir, "ten", "0123456789", 10);
    char *empty = put_file(dir, "empty", "", 0);
    struct strbuf b = {0};
    strbuf_adds(&b, "<");
    assert_int_equal(strbuf_read_file(&b, ten, 10), 0); /* exactly the cap */
    assert_string_equal(b.s, "<0123456789");
    assert_int_equal(b.len, 11);
    assert_int_equal(strbuf_read_file(&b, ten, 9), -PYSCOPE_ETOOBIG);
    assert_string_equal(b.s, "<0123456789"); /* untouched */
    assert_int_equal(b.len, 11);
    assert_int_equal(strbuf_read_file(&b, dir, 100), -EINVAL);
    char *fifo = NULL;
    assert_true(asprintf(&fifo, "%s/fifo", dir) > 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(strbuf_read_file(&b, fifo, 100), -EINVAL);
    char *gone = NULL;
    assert_true(asprintf(&gone, "%s/gone", dir) > 0);
    assert_int_equal(strbuf_read_file(&b, gone, 100), -ENOENT);
    assert_string_equal(b.s, "<0123456789");
    strbuf_release(&b);
    assert_int_equal(strbuf_read_file(&b, empty, 0), 0); /* an empty file is "" */
    assert_non_null(b.s);
    assert_string_equal(b.s, "");
    strbuf_release(&b);
    /* a larger file than the first read's room (fstat's size) still reads whole */
    size_t big_n = 300000;
    char *big_text = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big_text[i] = (char)('a' + i % 26);
    char *big = put_file(dir, "big", big_text, big_n);
    assert_int_equal(strbuf_read_file(&b, big, big_n), 0);
    assert_int_equal(b.len, big_n);
    assert_memory_equal(b.s, big_text, big_n);
    strbuf_release(&b);
    assert_int_equal(strbuf_read_file(&b, big, big_n - 1), -PYSCOPE_ETOOBIG);
    assert_null(b.s);
    unlink(ten), unlink(empty), unlink(fifo), unlink(big);
    assert_int_equal(rmdir(dir), 0);
    free(ten), free(empty), free(fifo), free(gone), free(big), free(big_text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),     cmocka_unit_test(test_appends),
        cmocka_unit_test(test_growth),    cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_keep_tail), cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
