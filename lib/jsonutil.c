/*
 * jsonutil.c - lossy UTF-8 strings and tolerant getters for jansson.
 */
#include "jsonutil.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

json_t *json_string_lossy(const char *s)
{
    if (!s)
        return json_null();
    size_t len = strlen(s);
    char *out = xmalloc(len * 3 + 1);
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i);
        if (n) {
            memcpy(out + o, u + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn(out, o);
    free(out);
    return j;
}

bool json_value_finite(const json_t *v, double *out)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return false;
    *out = json_number_value(v);
    return true;
}

bool json_value_nonneg(const json_t *v, double *out)
{
    double x;
    if (!json_value_finite(v, &x) || x < 0)
        return false;
    *out = x;
    return true;
}

double json_value_nonneg_or(const json_t *v, double def)
{
    double x;
    return json_value_nonneg(v, &x) ? x : def;
}

double json_get_number(const json_t *obj, const char *key, double def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : def;
}

bool json_get_finite(const json_t *obj, const char *key, double *out)
{
    return json_value_finite(json_object_get(obj, key), out);
}

bool json_get_in(const json_t *obj, const char *key, double lo, double hi, double *out)
{
    double x;
    if (!json_get_finite(obj, key, &x) || x < lo || x > hi)
        return false;
    *out = x;
    return true;
}

double json_get_nonneg(const json_t *obj, const char *key)
{
    double x = 0;
    return json_get_in(obj, key, 0, HUGE_VAL, &x) ? x : 0;
}

json_int_t json_get_int(const json_t *obj, const char *key, json_int_t def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

bool json_get_integer(const json_t *obj, const char *key, json_int_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

const char *json_get_string(const json_t *obj, const char *key, const char *def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

json_t *json_real_checked(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *json_real_or_null(bool ok, double v)
{
    return ok && isfinite(v) ? json_real(v) : json_null();
}
