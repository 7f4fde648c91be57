/*
 * pgbin.h - decoding values in PostgreSQL's binary wire format.
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

/* Type OIDs of the element types pgbin_numbers() takes (pg_type.dat). */
enum {
    PGBIN_OID_INT8 = 20,
    PGBIN_OID_INT4 = 23,
    PGBIN_OID_FLOAT8 = 701,
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

#endif
