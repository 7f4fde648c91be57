/*
 * strbuf.c - a growable string (strbuf.h).
 *
 * Design notes: the allocation at least doubles when it grows, so appending n bytes one at
 * a time costs O(n) copies in all.
 */
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
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

int strbuf_read_file(struct strbuf *b, const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL;
    else if ((unsigned long long)st.st_size > max)
        rc = -PYSCOPE_ETOOBIG;
    size_t start = b->len, n = 0;
    /* one byte more than fstat said: the read that returns 0, or shows the file grew */
    size_t want = rc == 0 ? (size_t)st.st_size + 1 : 0;
    while (rc == 0) {
        grow(b, want);
        size_t room = b->cap - b->len - 1;
        if (room - 1 > max - n)
            room = max - n + 1; /* read no more than shows it is too big */
        ssize_t r = read(fd, b->s + b->len, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
        } else if (r == 0) {
            break;
        } else {
            b->len += (size_t)r;
            n += (size_t)r;
            if (n > max)
                rc = -PYSCOPE_ETOOBIG;
            want = n; /* it grew since fstat: at least double the room */
        }
    }
    close(fd);
    if (rc < 0)
        b->len = start;
    if (b->s)
        b->s[b->len] = '\0';
    return rc;
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
