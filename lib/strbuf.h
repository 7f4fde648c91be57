/*
 * strbuf.h - a growable string: the one buffer the programs build text in piece by piece.
 *
 * `struct strbuf b = {0};` is an empty string. Appending grows it (the xmalloc family: out
 * of memory aborts, so nothing here fails); once something was appended, b.s is always
 * NUL-terminated and b.len counts the bytes before that NUL (text may hold NUL bytes of its
 * own: strbuf_add() copies n bytes). strbuf_take() hands the text over and leaves the buffer
 * empty for reuse; strbuf_release() frees it. strbuf_read_file() reads a file whole, with a
 * size cap. Text that goes straight to a FILE needs no
 * buffer: write it there (open_memstream() when a test wants it back as a string).
 *
 * Used for the collapsed stacks' lines (cli/export.c), the safe form of untrusted text
 * (lib/sanitize.c), git's output (lib/gitrev.c), PostgreSQL array literals
 * (coordinator/store_int.h), and to read a report (lib/history.c) or a Python source
 * (cli/pysource.c).
 */
#ifndef PYSCOPE_STRBUF_H
#define PYSCOPE_STRBUF_H

#include <stddef.h>

struct strbuf {
    char *s;    /* the text, NUL-terminated; NULL while nothing was appended; owned */
    size_t len; /* bytes of text, without the final NUL */
    size_t cap; /* bytes allocated at s */
};

/* Append the n bytes at s (borrowed; may be NULL when n is 0). */
void strbuf_add(struct strbuf *b, const char *s, size_t n);

/* Append one byte. */
void strbuf_addc(struct strbuf *b, char c);

/* Append the string s (borrowed). */
void strbuf_adds(struct strbuf *b, const char *s);

/* Append text formatted like printf. */
void strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Drop the oldest bytes so that at most the last max remain (a tail of a stream whose end
 * says the most, such as a failing command's stderr). */
void strbuf_keep_tail(struct strbuf *b, size_t max);

/*
 * Append the whole regular file at path (borrowed), at most max bytes, to b. Opens it
 * without blocking (a FIFO is refused, not waited on), sized by fstat and grown if the file
 * grows meanwhile. Returns 0; -EINVAL when it is not a regular file; -PYSCOPE_ETOOBIG
 * (lib/errors.h) when it holds more than max bytes; or -errno. On failure b holds the text it
 * held before (its allocation may have grown: release it as usual).
 */
int strbuf_read_file(struct strbuf *b, const char *path, size_t max);

/* Return the text (caller owns; "" when nothing was appended) and leave b empty. */
char *strbuf_take(struct strbuf *b);

/* Free the text and leave b empty. */
void strbuf_release(struct strbuf *b);

#endif
