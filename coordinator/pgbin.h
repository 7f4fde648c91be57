/*
 * pgbin.h - values in PostgreSQL's binary wire format: decoding and encoding.
 *
 * A result asked in binary (libpq resultFormat 1) gives each value as bytes
 * in network order: int2/int4/int8, float8 as its IEEE bits, bool as one
 * byte, and arrays as a header (dimensions, has-nulls flag, element type)
 * followed by length-prefixed elements. Numbers and arrays thus cross
 * without text conversion on either side. Every decoder checks lengths: a
 * value of another shape is refused, never over-read.
 */
#ifndef PYSCOPE_PGBIN_H
#define PYSCOPE_PGBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xmalloc.h"

/* Type OIDs of PostgreSQL's built-in types (pg_type.dat; stable across versions). */
enum {
    PGBIN_OID_BOOL = 16,
    PGBIN_OID_INT8 = 20,
    PGBIN_OID_INT4 = 23,
    PGBIN_OID_TEXT = 25,
    PGBIN_OID_JSON = 114,
    PGBIN_OID_FLOAT8 = 701,
    PGBIN_OID_UUID = 2950,
    PGBIN_OID_BOOL_ARRAY = 1000,
    PGBIN_OID_INT4_ARRAY = 1007,
    PGBIN_OID_INT8_ARRAY = 1016,
    PGBIN_OID_FLOAT8_ARRAY = 1022,
};

/* One value (borrowed). */
struct pgbin {
    const unsigned char *p; /* NULL for SQL NULL; libpq NUL-terminates every value */
    int len;                /* bytes; -1 for SQL NULL */
};

/* 0, or -EBADMSG for NULL or a value of another size. int64 takes an int8,
 * int4 or int2. */
int pgbin_int64(struct pgbin v, int64_t *out);
int pgbin_float8(struct pgbin v, double *out);
int pgbin_bool(struct pgbin v, bool *out);

/*
 * A one-dimensional float8[], int8[] or int4[] (or an empty array) as new
 * *out (free()) of its *n non-NULL elements, in order. Returns 0 or -EBADMSG
 * (NULL, another element type, more dimensions, a length that does not add
 * up); *out is NULL then.
 */
int pgbin_numbers(struct pgbin v, double **out, size_t *n);

/* The same, keeping every element in its place: a NULL element is NaN in
 * *out, and *n counts every element (for arrays whose index is the repeat). */
int pgbin_numbers_aligned(struct pgbin v, double **out, size_t *n);

/*
 * Encoding, for a parameter sent in binary (libpq paramFormats 1): a record
 * or array value is written field by field into a growing buffer, each field
 * its type OID and length-prefixed bytes (coordinator/store_results.c sends a
 * group of results as one run_in[] this way).
 */

/* A growing byte buffer in PostgreSQL's binary format (network byte order). */
struct pgbin_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
};

static inline uint8_t *pgbin_room(struct pgbin_buf *b, size_t n)
{
    if (b->cap - b->len < n) {
        b->cap = b->cap * 2 + n + 256;
        b->p = xrealloc(b->p, b->cap);
    }
    uint8_t *at = b->p + b->len;
    b->len += n;
    return at;
}

static inline void pgbin_put_u32(struct pgbin_buf *b, uint32_t v)
{
    uint8_t *at = pgbin_room(b, 4);
    for (int i = 0; i < 4; i++)
        at[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline void pgbin_put_u64(struct pgbin_buf *b, uint64_t v)
{
    uint8_t *at = pgbin_room(b, 8);
    for (int i = 0; i < 8; i++)
        at[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline void pgbin_put_f64(struct pgbin_buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    pgbin_put_u64(b, u);
}

/* Patch the 4-byte length at offset at with the bytes written since (at + 4). */
static inline void pgbin_patch_len(struct pgbin_buf *b, size_t at)
{
    uint32_t n = (uint32_t)(b->len - at - 4);
    for (int i = 0; i < 4; i++)
        b->p[at + (size_t)i] = (uint8_t)(n >> (24 - 8 * i));
}

/* Start a field of a record: its type and a length patched by pgbin_field_end(). */
size_t pgbin_field_begin(struct pgbin_buf *b, uint32_t oid);
void pgbin_field_end(struct pgbin_buf *b, size_t at);
/* Whole fields: SQL NULL of type oid, int4, int8, float8. */
void pgbin_field_null(struct pgbin_buf *b, uint32_t oid);
void pgbin_field_i32(struct pgbin_buf *b, int32_t v);
void pgbin_field_i64(struct pgbin_buf *b, int64_t v);
void pgbin_field_f64(struct pgbin_buf *b, double v);
/* A text field (text, json, ... as oid says); NULL s is SQL NULL. */
void pgbin_field_text(struct pgbin_buf *b, uint32_t oid, const char *s);

/* The header of a one-dimensional array of n elements of type elem (then
 * each element: its length, or UINT32_MAX for NULL, and its bytes). */
void pgbin_array_head(struct pgbin_buf *b, uint32_t elem, size_t n);

#endif
