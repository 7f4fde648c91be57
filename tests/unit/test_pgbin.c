/* test_pgbin.c - PostgreSQL binary-format values (coordinator/pgbin.c): numbers,
 * bool, one-dimensional number arrays with NULLs, and every malformed shape
 * (truncated at each byte, other element types, more dimensions, lengths that
 * do not add up) refused without reading past the value. The byte layouts are
 * PostgreSQL's array_send()/int8send()/float8send() (network order). The
 * encoder (what the store sends a group of results in) is checked byte for
 * byte and by decoding what it wrote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pgbin.h"

/* A byte buffer built big-endian, as the server sends. */
struct buf {
    unsigned char b[256];
    size_t n;
};

static void put32(struct buf *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--)
        b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void put64(struct buf *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

static void put_f64(struct buf *b, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof(bits));
    put64(b, bits);
}

/* Array header: ndim (0 or 1), has-nulls, element type, then size and lower bound. */
static void put_head(struct buf *b, uint32_t ndim, uint32_t elem, uint32_t count)
{
    put32(b, ndim);
    put32(b, 0);
    put32(b, elem);
    if (ndim >= 1) {
        put32(b, count);
        put32(b, 1);
    }
}

/* The value in an exactly sized heap copy, so that ASan sees any over-read. */
static struct pgbin heap_value(const struct buf *b, size_t len)
{
    unsigned char *p = malloc(len ? len : 1);
    memcpy(p, b->b, len);
    return (struct pgbin){p, (int)len};
}

static void test_scalars(void **state)
{
    (void)state;
    struct buf b = {0};
    put64(&b, (uint64_t)-42);
    int64_t i;
    assert_int_equal(pgbin_int64((struct pgbin){b.b, 8}, &i), 0);
    assert_int_equal(i, -42);
    b.n = 0;
    put32(&b, 0x80000000u);
    assert_int_equal(pgbin_int64((struct pgbin){b.b, 4}, &i), 0);
    assert_int_equal(i, INT32_MIN);
    unsigned char two[] = {0xff, 0xfe};
    assert_int_equal(pgbin_int64((struct pgbin){two, 2}, &i), 0);
    assert_int_equal(i, -2);
    assert_int_equal(pgbin_int64((struct pgbin){two, 3}, &i), -EBADMSG);
    assert_int_equal(pgbin_int64((struct pgbin){NULL, -1}, &i), -EBADMSG);

    b.n = 0;
    put_f64(&b, 1.0 / 3);
    double d;
    assert_int_equal(pgbin_float8((struct pgbin){b.b, 8}, &d), 0);
    assert_true(d == 1.0 / 3);
    assert_int_equal(pgbin_float8((struct pgbin){b.b, 4}, &d), -EBADMSG);

    bool t;
    unsigned char one = 1, zero = 0;
    assert_int_equal(pgbin_bool((struct pgbin){&one, 1}, &t), 0);
    assert_true(t);
    assert_int_equal(pgbin_bool((struct pgbin){&zero, 1}, &t), 0);
    assert_false(t);
    assert_int_equal(pgbin_bool((struct pgbin){NULL, -1}, &t), -EBADMSG);
}

static void test_float8_array_with_null(void **state)
{
    (void)state;
    struct buf b = {0};
    put_head(&b, 1, PGBIN_OID_FLOAT8, 3);
    put32(&b, 8);
    put_f64(&b, 1.5);
    put32(&b, (uint32_t)-1); /* NULL */
    put32(&b, 8);
    put_f64(&b, 2.25);
    struct pgbin v = heap_value(&b, b.n);
    double *x;
    size_t n;
    assert_int_equal(pgbin_numbers(v, &x, &n), 0);
    assert_int_equal(n, 2);
    assert_true(x[0] == 1.5 && x[1] == 2.25);
    free(x);

    /* cut at every byte: refused, nothing read beyond the value */
    for (size_t len = 0; len < b.n; len++) {
        struct pgbin cut = heap_value(&b, len);
        x = (double *)&n; /* must be reset */
        assert_int_equal(pgbin_numbers(cut, &x, &n), -EBADMSG);
        assert_null(x);
        assert_int_equal(n, 0);
        free((void *)cut.p);
    }
    /* a byte more than the elements take: refused */
    b.b[b.n++] = 0;
    struct pgbin longer = heap_value(&b, b.n);
    assert_int_equal(pgbin_numbers(longer, &x, &n), -EBADMSG);
    free((void *)longer.p);
    free((void *)v.p);
}

static void test_int_arrays_and_empty(void **state)
{
    (void)state;
    struct buf b = {0};
    put_head(&b, 1, PGBIN_OID_INT8, 2);
    put32(&b, 8);
    put64(&b, 50000000);
    put32(&b, 8);
    put64(&b, (uint64_t)-4);
    double *x;
    size_t n;
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), 0);
    assert_int_equal(n, 2);
    assert_true(x[0] == 50000000 && x[1] == -4);
    free(x);

    /* a NULL element: left out, or kept in its place as NaN (per-repeat arrays) */
    b.n = 0;
    put_head(&b, 1, PGBIN_OID_INT8, 3);
    put32(&b, 8);
    put64(&b, 1);
    put32(&b, UINT32_MAX);
    put32(&b, 8);
    put64(&b, 3);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), 0);
    assert_true(n == 2 && x[0] == 1 && x[1] == 3);
    free(x);
    assert_int_equal(pgbin_numbers_aligned((struct pgbin){b.b, (int)b.n}, &x, &n), 0);
    assert_true(n == 3 && x[0] == 1 && isnan(x[1]) && x[2] == 3);
    free(x);

    b.n = 0;
    put_head(&b, 1, PGBIN_OID_INT4, 1);
    put32(&b, 4);
    put32(&b, 7);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), 0);
    assert_int_equal(n, 1);
    assert_true(x[0] == 7);
    free(x);

    /* '{}': no dimensions */
    b.n = 0;
    put_head(&b, 0, PGBIN_OID_FLOAT8, 0);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), 0);
    assert_int_equal(n, 0);
    free(x);
}

static void test_refused_shapes(void **state)
{
    (void)state;
    double *x;
    size_t n;
    struct buf b = {0};
    /* text[] */
    put_head(&b, 1, 25, 1);
    put32(&b, 1);
    b.b[b.n++] = 'a';
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), -EBADMSG);
    /* two dimensions */
    b.n = 0;
    put32(&b, 2);
    put32(&b, 0);
    put32(&b, PGBIN_OID_FLOAT8);
    put32(&b, 1);
    put32(&b, 1);
    put32(&b, 1);
    put32(&b, 1);
    put32(&b, 8);
    put_f64(&b, 1);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), -EBADMSG);
    /* an element of the wrong width */
    b.n = 0;
    put_head(&b, 1, PGBIN_OID_FLOAT8, 1);
    put32(&b, 4);
    put32(&b, 0);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), -EBADMSG);
    /* a count far beyond the bytes (no huge allocation either) */
    b.n = 0;
    put_head(&b, 1, PGBIN_OID_FLOAT8, 0x7fffffffu);
    put32(&b, 8);
    put_f64(&b, 1);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), -EBADMSG);
    /* a negative length other than NULL's -1 */
    b.n = 0;
    put_head(&b, 1, PGBIN_OID_FLOAT8, 1);
    put32(&b, (uint32_t)-2);
    assert_int_equal(pgbin_numbers((struct pgbin){b.b, (int)b.n}, &x, &n), -EBADMSG);
    /* SQL NULL */
    assert_int_equal(pgbin_numbers((struct pgbin){NULL, -1}, &x, &n), -EBADMSG);
}

/* The encoder's bytes: each field its OID, length (-1 for NULL) and value. */
static void test_encode_fields(void **state)
{
    (void)state;
    struct pgbin_buf b = {0};
    pgbin_field_i32(&b, -2);
    pgbin_field_i64(&b, 5);
    pgbin_field_f64(&b, 1.5);
    pgbin_field_null(&b, PGBIN_OID_TEXT);
    pgbin_field_text(&b, PGBIN_OID_TEXT, "ab");
    pgbin_field_text(&b, PGBIN_OID_JSON, NULL);
    struct buf want = {0};
    put32(&want, PGBIN_OID_INT4), put32(&want, 4), put32(&want, (uint32_t)-2);
    put32(&want, PGBIN_OID_INT8), put32(&want, 8), put64(&want, 5);
    put32(&want, PGBIN_OID_FLOAT8), put32(&want, 8), put_f64(&want, 1.5);
    put32(&want, PGBIN_OID_TEXT), put32(&want, UINT32_MAX);
    put32(&want, PGBIN_OID_TEXT), put32(&want, 2), want.b[want.n++] = 'a', want.b[want.n++] = 'b';
    put32(&want, PGBIN_OID_JSON), put32(&want, UINT32_MAX);
    assert_int_equal(b.len, want.n);
    assert_memory_equal(b.p, want.b, want.n);
    free(b.p);
}

/* An array written with pgbin_field_begin/array_head/end decodes as it was
 * written; the patched length is the bytes after it; empty has no dimension. */
static void test_encode_array_round_trip(void **state)
{
    (void)state;
    struct pgbin_buf b = {0};
    size_t at = pgbin_field_begin(&b, PGBIN_OID_FLOAT8_ARRAY);
    pgbin_array_head(&b, PGBIN_OID_FLOAT8, 3);
    const double x[] = {0.25, -1e300, 3};
    for (size_t i = 0; i < 3; i++) {
        if (i == 1) {
            pgbin_put_u32(&b, UINT32_MAX); /* a NULL element */
            continue;
        }
        pgbin_put_u32(&b, 8);
        pgbin_put_f64(&b, x[i]);
    }
    pgbin_field_end(&b, at);
    const unsigned char *p = b.p;
    uint32_t len = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    assert_int_equal(len, b.len - 8);
    double *out = NULL;
    size_t n = 0;
    assert_int_equal(pgbin_numbers_aligned((struct pgbin){b.p + 8, (int)len}, &out, &n), 0);
    assert_int_equal(n, 3);
    assert_true(out[0] == 0.25 && isnan(out[1]) && out[2] == 3);
    free(out);
    free(b.p);

    struct pgbin_buf e = {0};
    pgbin_array_head(&e, PGBIN_OID_INT8, 0);
    assert_int_equal(e.len, 12);
    assert_int_equal(pgbin_numbers((struct pgbin){e.p, (int)e.len}, &out, &n), 0);
    assert_int_equal(n, 0);
    free(out);
    free(e.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_float8_array_with_null),
        cmocka_unit_test(test_int_arrays_and_empty),
        cmocka_unit_test(test_refused_shapes),
        cmocka_unit_test(test_encode_fields),
        cmocka_unit_test(test_encode_array_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
