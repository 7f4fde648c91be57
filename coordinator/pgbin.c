/*
 * pgbin.c - values in PostgreSQL's binary wire format (what libpq returns
 * for a result asked in binary): integers, float8, bool and one-dimensional
 * number arrays, decoded with every length checked.
 */
#include "pgbin.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Big-endian integers of the binary format. */
static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

int pgbin_int64(struct pgbin v, int64_t *out)
{
    if (v.p == NULL)
        return -EBADMSG;
    if (v.len == 8)
        *out = (int64_t)be64(v.p);
    else if (v.len == 4)
        *out = (int32_t)be32(v.p);
    else if (v.len == 2)
        *out = (int16_t)(v.p[0] << 8 | v.p[1]);
    else
        return -EBADMSG;
    return 0;
}

int pgbin_bool(struct pgbin v, bool *out)
{
    if (v.p == NULL || v.len != 1)
        return -EBADMSG;
    *out = v.p[0] != 0;
    return 0;
}

int pgbin_float8(struct pgbin v, double *out)
{
    if (v.p == NULL || v.len != 8)
        return -EBADMSG;
    uint64_t bits = be64(v.p);
    memcpy(out, &bits, sizeof(*out));
    return 0;
}

static int numbers(struct pgbin v, bool keep_null, double **out, size_t *n);

int pgbin_numbers(struct pgbin v, double **out, size_t *n)
{
    return numbers(v, false, out, n);
}

int pgbin_numbers_aligned(struct pgbin v, double **out, size_t *n)
{
    return numbers(v, true, out, n);
}

static int numbers(struct pgbin v, bool keep_null, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (v.p == NULL || v.len < 12)
        return -EBADMSG;
    uint32_t ndim = be32(v.p), elem = be32(v.p + 8);
    if (ndim > 1 || (elem != PGBIN_OID_FLOAT8 && elem != PGBIN_OID_INT8 && elem != PGBIN_OID_INT4))
        return -EBADMSG;
    size_t at = 12, count = 0;
    if (ndim == 1) {
        if (v.len < 20)
            return -EBADMSG;
        count = be32(v.p + 12);
        at = 20;
    }
    /* every element takes at least its 4-byte length word */
    if (count > ((size_t)v.len - at) / 4)
        return -EBADMSG;
    double *x = xcalloc(count ? count : 1, sizeof(*x));
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if ((size_t)v.len - at < 4)
            goto bad;
        int32_t len = (int32_t)be32(v.p + at);
        at += 4;
        if (len == -1) {
            if (keep_null)
                x[k++] = NAN;
            continue; /* NULL element: not a sample */
        }
        size_t want = elem == PGBIN_OID_INT4 ? 4 : 8;
        if (len < 0 || (size_t)len != want || (size_t)v.len - at < want)
            goto bad;
        struct pgbin e = {v.p + at, len};
        if (elem == PGBIN_OID_FLOAT8) {
            pgbin_float8(e, &x[k++]);
        } else {
            int64_t iv;
            pgbin_int64(e, &iv);
            x[k++] = (double)iv;
        }
        at += want;
    }
    if (at != (size_t)v.len)
        goto bad;
    *out = x;
    *n = k;
    return 0;
bad:
    free(x);
    return -EBADMSG;
}

/* ---- encoding ---- */

/* Start a field of a record: its type and a length patched by pgbin_field_end(). */
size_t pgbin_field_begin(struct pgbin_buf *b, uint32_t oid)
{
    pgbin_put_u32(b, oid);
    size_t at = b->len;
    pgbin_put_u32(b, 0);
    return at;
}

void pgbin_field_null(struct pgbin_buf *b, uint32_t oid)
{
    pgbin_put_u32(b, oid);
    pgbin_put_u32(b, UINT32_MAX); /* -1: NULL */
}

void pgbin_field_end(struct pgbin_buf *b, size_t at)
{
    pgbin_patch_len(b, at);
}

void pgbin_field_i32(struct pgbin_buf *b, int32_t v)
{
    pgbin_put_u32(b, PGBIN_OID_INT4);
    pgbin_put_u32(b, 4);
    pgbin_put_u32(b, (uint32_t)v);
}

void pgbin_field_i64(struct pgbin_buf *b, int64_t v)
{
    pgbin_put_u32(b, PGBIN_OID_INT8);
    pgbin_put_u32(b, 8);
    pgbin_put_u64(b, (uint64_t)v);
}

void pgbin_field_f64(struct pgbin_buf *b, double v)
{
    pgbin_put_u32(b, PGBIN_OID_FLOAT8);
    pgbin_put_u32(b, 8);
    pgbin_put_f64(b, v);
}

/* A text field; NULL s is SQL NULL. */
void pgbin_field_text(struct pgbin_buf *b, uint32_t oid, const char *s)
{
    if (s == NULL) {
        pgbin_field_null(b, oid);
        return;
    }
    size_t n = strlen(s);
    pgbin_put_u32(b, oid);
    pgbin_put_u32(b, (uint32_t)n);
    memcpy(pgbin_room(b, n), s, n);
}

/* The header of a one-dimensional array of n elements of type elem. */
void pgbin_array_head(struct pgbin_buf *b, uint32_t elem, size_t n)
{
    pgbin_put_u32(b, n ? 1 : 0); /* ndim: an empty array has none */
    pgbin_put_u32(b, 0);         /* has nulls: not used by the server */
    pgbin_put_u32(b, elem);
    if (n) {
        pgbin_put_u32(b, (uint32_t)n);
        pgbin_put_u32(b, 1); /* lower bound */
    }
}
