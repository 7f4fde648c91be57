/*
 * jsonutil.h - small helpers over jansson shared by every program.
 *
 * Input from outside may not be valid UTF-8 (file names are bytes); jansson
 * refuses such strings, so json_string_lossy() replaces each invalid byte
 * with U+FFFD. The getters read optional fields of documents that came from
 * files: they never fail, they return the default when a field is missing or
 * of another type.
 */
#ifndef PYSCOPE_JSONUTIL_H
#define PYSCOPE_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>

/* New JSON string from bytes s; invalid UTF-8 becomes U+FFFD. NULL s gives null. */
json_t *json_string_lossy(const char *s);
/* The number getters below never write *out when they return false. */
/* True with v's value in *out when v is a finite number (integer or real). */
bool json_value_finite(const json_t *v, double *out);
/* True with v's value in *out when v is a finite number >= 0 (a size, count or duration). */
bool json_value_nonneg(const json_t *v, double *out);
/* v's value when it is a finite number >= 0, else def. */
double json_value_nonneg_or(const json_t *v, double def);
/* Number (integer or real) at key of obj, or def (NaN and infinities pass: see
 * json_get_finite for a checked read). */
double json_get_number(const json_t *obj, const char *key, double def);
/* True with the number at key of obj in *out when it is a finite number. */
bool json_get_finite(const json_t *obj, const char *key, double *out);

/* v as a JSON real when ok and v is finite, else JSON null (new reference). */
json_t *json_real_or_null(bool ok, double v);
/* True with the number at key of obj in *out when it is finite and in [lo, hi];
 * false (unknown) otherwise, *out left as it was. */
bool json_get_in(const json_t *obj, const char *key, double lo, double hi, double *out);
/* The finite number >= 0 at key of obj (a size, count or duration), else 0. */
double json_get_nonneg(const json_t *obj, const char *key);
/* Integer at key of obj, or def when it is missing or not a JSON integer. */
json_int_t json_get_int(const json_t *obj, const char *key, json_int_t def);
/* True with the integer at key of obj in *out when it is a JSON integer. */
bool json_get_integer(const json_t *obj, const char *key, json_int_t *out);
/* String at key of obj (borrowed, valid while obj lives), or def. */
const char *json_get_string(const json_t *obj, const char *key, const char *def);
/* A JSON number that is never NaN or infinite (those become null). */
json_t *json_real_checked(double v);

#endif
