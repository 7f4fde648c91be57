/*
 * sanitize.c - the display form of untrusted text (see sanitize.h).
 *
 * Design notes: one decoder walks the input and, for each code point or bad
 * byte, either copies it or produces its escape; the FILE and string forms
 * share it through a small sink. Decoding is strict (no overlong forms, no
 * surrogates, nothing above U+10FFFF): what a terminal or browser might read
 * differently from us is shown as bytes.
 */
#include "sanitize.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Where the safe form goes: a FILE, or a growing buffer. */
struct sink {
    FILE *out;         /* NULL: into buf */
    struct strbuf buf; /* the safe form when out is NULL */
};

static void sink_put(struct sink *k, const char *s, size_t n)
{
    if (k->out)
        fwrite(s, 1, n, k->out);
    else
        strbuf_add(&k->buf, s, n);
}

size_t sanitize_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* True for code points shown escaped: controls, bidi and invisible format characters. */
static bool unsafe_cp(uint32_t cp, unsigned flags)
{
    if (cp == '\n' || cp == '\t')
        return !(flags & SANITIZE_KEEP_NEWLINES);
    if (cp < 0x20 || cp == 0x7f)
        return true;
    if (cp >= 0x80 && cp <= 0x9f)
        return true;
    return cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
           cp == 0x2028 || cp == 0x2029 || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

static void put_escape(struct sink *k, uint32_t cp, bool is_byte)
{
    char e[16];
    int n;
    if (!is_byte && cp == '\n')
        n = snprintf(e, sizeof(e), "\\n");
    else if (!is_byte && cp == '\t')
        n = snprintf(e, sizeof(e), "\\t");
    else if (!is_byte && cp == '\r')
        n = snprintf(e, sizeof(e), "\\r");
    else if (is_byte || cp < 0x80)
        n = snprintf(e, sizeof(e), "\\x%02x", (unsigned)cp);
    else
        n = snprintf(e, sizeof(e), "\\u%04x", (unsigned)cp);
    sink_put(k, e, (size_t)n);
}

static void sanitize_to(struct sink *k, const char *s, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* run: safe bytes not yet written, ending at i */
    while (i < len) {
        uint32_t cp;
        size_t n = sanitize_utf8_seq(p + i, len - i, &cp);
        if (n > 0 && !unsafe_cp(cp, flags)) {
            i += n;
            run += n;
            continue;
        }
        if (run)
            sink_put(k, s + i - run, run);
        run = 0;
        if (n == 0) {
            put_escape(k, p[i], true);
            i++;
        } else {
            put_escape(k, cp, false);
            i += n;
        }
    }
    if (run)
        sink_put(k, s + i - run, run);
}

bool sanitize_is_clean(const char *s, size_t len, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        if (p[i] >= 0x20 && p[i] < 0x7f) { /* the common case */
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = sanitize_utf8_seq(p + i, len - i, &cp);
        if (n == 0 || unsafe_cp(cp, flags))
            return false;
        i += n;
    }
    return true;
}

void sanitize_fwrite(FILE *out, const char *s, size_t len, unsigned flags)
{
    if (s == NULL)
        return;
    struct sink k = {.out = out};
    sanitize_to(&k, s, len, flags);
}

char *sanitize_ndup(const char *s, size_t len, unsigned flags)
{
    struct sink k = {0};
    if (s)
        sanitize_to(&k, s, len, flags);
    return strbuf_take(&k.buf);
}

char *sanitize_dup(const char *s, unsigned flags)
{
    return s ? sanitize_ndup(s, strlen(s), flags) : NULL;
}

void sanitize_json(json_t *doc, unsigned flags)
{
    if (json_is_string(doc)) {
        const char *v = json_string_value(doc);
        size_t n = json_string_length(doc);
        if (!sanitize_is_clean(v, n, flags)) {
            char *safe = sanitize_ndup(v, n, flags);
            json_string_set(doc, safe);
            free(safe);
        }
    } else if (json_is_array(doc)) {
        size_t i;
        json_t *v;
        json_array_foreach(doc, i, v)
        {
            sanitize_json(v, flags);
        }
    } else if (json_is_object(doc)) {
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(doc, tmp, key, v)
        {
            sanitize_json(v, flags);
            if (!sanitize_is_clean(key, strlen(key), flags)) {
                char *safe = sanitize_dup(key, flags);
                json_incref(v);
                json_object_del(doc, key);
                json_object_set_new(doc, safe, v);
                free(safe);
            }
        }
    }
}

json_t *sanitize_json_copy(const json_t *doc, unsigned flags)
{
    json_t *copy = doc ? json_deep_copy(doc) : NULL;
    sanitize_json(copy, flags);
    return copy;
}

char *sanitize_ellipsize(char *s, size_t max_chars)
{
    if (s == NULL || max_chars < 2)
        return s;
    size_t chars = 0, cut = 0, prev = 0;
    bool longer = false;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) == 0x80)
            continue; /* continuation byte */
        if (chars == max_chars - 2)
            prev = i;
        if (chars == max_chars - 1)
            cut = i;
        if (++chars > max_chars) {
            longer = true;
            break;
        }
    }
    if (!longer)
        return s;
    /* "…" and its NUL need 4 bytes: one char fewer when the tail is shorter */
    if (strlen(s + cut) + 1 < 4)
        cut = prev;
    memcpy(s + cut, "\xe2\x80\xa6", 4);
    return s;
}
