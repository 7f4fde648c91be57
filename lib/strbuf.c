/*
 * strbuf.c - a growable string (strbuf.h).
 *
 * Design notes: the allocation at least doubles when it grows, so appending n bytes one at
 * a time costs O(n) copies in all.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Make room for n more bytes and the final NUL. */
static void grow(struct strbuf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
    grow(b, n);
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void strbuf_addc(struct strbuf *b, char c)
{
    strbuf_add(b, &c, 1);
}

void strbuf_adds(struct strbuf *b, const char *s)
{
    strbuf_add(b, s, strlen(s));
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char one;
    int n = vsnprintf(b->cap ? b->s + b->len : &one, b->cap ? b->cap - b->len : 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort(); /* an invalid format or conversion: a programmer error */
    if (b->cap && (size_t)n < b->cap - b->len) {
        b->len += (size_t)n;
        return;
    }
    grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void strbuf_keep_tail(struct strbuf *b, size_t max)
{
    if (b->len <= max)
        return;
    memmove(b->s, b->s + (b->len - max), max);
    b->len = max;
    b->s[b->len] = '\0';
}

char *strbuf_take(struct strbuf *b)
{
    char *s = b->s ? b->s : xstrdup("");
    *b = (struct strbuf){0};
    return s;
}

void strbuf_release(struct strbuf *b)
{
    free(b->s);
    *b = (struct strbuf){0};
}
