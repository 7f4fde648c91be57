/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Out of memory is not a condition PyScope can recover from in any useful
 * way, so these wrappers print a message and abort (Redis zmalloc style).
 * Callers own what they get and release it with free().
 */
#ifndef PYSCOPE_XMALLOC_H
#define PYSCOPE_XMALLOC_H

#include <stddef.h>

/* Return new memory of n bytes; aborts on failure. */
void *xmalloc(size_t n);
/* Return new zeroed memory for nmemb * size bytes (overflow checked). */
void *xcalloc(size_t nmemb, size_t size);
/* Resize p to n bytes; aborts on failure. */
void *xrealloc(void *p, size_t n);
/* Resize p to nmemb * size bytes (overflow checked). */
void *xreallocarray(void *p, size_t nmemb, size_t size);
/* Return a new copy of s. */
char *xstrdup(const char *s);
/* Return a new copy of at most n bytes of s, NUL terminated. */
char *xstrndup(const char *s, size_t n);
/* Return a new string formatted like printf. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
