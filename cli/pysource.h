/*
 * pysource.h - a small, forgiving scanner for Python source.
 *
 * The suggestion rules for slow idioms need to know which lines of a hot
 * function sit inside a `for`/`while` loop. This module splits source text
 * into logical lines the way Python's tokenizer does (brackets, backslash
 * continuations and triple-quoted strings join physical lines; comments and
 * string contents are blanked so they never match), finds a function's body
 * from its first line by indentation (decorators skipped), and reports lines
 * in loop bodies that match a known idiom. It is a heuristic, not a parser:
 * it never fails on odd input, it just finds less.
 */
#ifndef PYSCOPE_PYSOURCE_H
#define PYSCOPE_PYSOURCE_H

#include <stddef.h>

/* Largest source file pysource_read_file() accepts: 4 MiB. */
#define PYSOURCE_FILE_MAX (4 * 1024 * 1024)

enum pysource_idiom {
    /* re.compile(...), or re.match/search/... with a literal pattern, in a loop */
    PYSOURCE_IDIOM_REGEX_IN_LOOP,
    /* s += <string> in a loop (quadratic string building) */
    PYSOURCE_IDIOM_STR_CONCAT_IN_LOOP,
};

/* One idiom found in a loop body. */
struct pysource_finding {
    enum pysource_idiom idiom;
    int line;        /* 1-based physical line of the match */
    int loop_line;   /* 1-based line of the innermost enclosing loop header */
    char call[32];   /* what matched: "re.compile", "re.search", "+=" */
    char target[64]; /* for "+=": the name being extended, else "" */
};

/*
 * Read the file at path (borrowed) into a new NUL-terminated buffer (*out,
 * caller owns; *len its length without the NUL). Refuses files over
 * PYSOURCE_FILE_MAX with -PYSCOPE_ETOOBIG and anything that is not a regular
 * file with -EINVAL; other failures are -errno. *out is NULL on failure.
 */
int pysource_read_file(const char *path, char **out, size_t *len);

/*
 * Find the function whose definition starts at first_line (1-based; the line
 * of its first decorator or of the `def` itself, as in co_firstlineno) in src
 * (borrowed, len bytes). Returns 0 and the 1-based line of the `def` in
 * *def_line and the last line of its body in *end_line, or -PYSCOPE_ENODATA
 * when first_line does not start a `def`/`async def`/`class`.
 */
int pysource_find_function(const char *src, size_t len, int first_line, int *def_line,
                           int *end_line);

/*
 * Scan the function starting at first_line in src (borrowed, len bytes) for
 * the idioms, in loops inside its body (loops in nested functions count; a
 * nested def's body is not in the outer loop). first_line 0 scans the module's
 * top-level code (`<module>`), skipping function and class bodies.
 * Returns the number of findings (at most max, in line order) stored in out
 * (caller's array of max entries), or -PYSCOPE_ENODATA when the function is
 * not found.
 */
int pysource_scan(const char *src, size_t len, int first_line, struct pysource_finding *out,
                  size_t max);

/*
 * Loops (`for`/`while` headers) in the body of the function starting at first_line
 * (0: the module's top-level code, without function and class bodies). Returns
 * the count, or -PYSCOPE_ENODATA when the function is not found.
 */
int pysource_count_loops(const char *src, size_t len, int first_line);

/* Whether a function's arguments can be hashed (a functools.lru_cache key). */
enum pysource_hash {
    PYSOURCE_HASH_UNKNOWN, /* the source does not tell */
    PYSOURCE_HASH_YES,     /* every argument is hashable */
    PYSOURCE_HASH_NO,      /* some argument is not (a list, dict, set ...) */
};

/*
 * Tell, from the source alone, whether every argument of the function named
 * name whose definition starts at first_line is hashable. Each parameter is
 * judged by its annotation when it has one (int, str, tuple[int, ...],
 * Optional[...]: hashable; list, dict, set, deque ...: not), else by what the
 * function's own recursive calls (name(...), self.name(...)) pass it: numbers,
 * strings, None, arithmetic with a number, tuple(...), len(...): hashable; list,
 * dict or set displays and comprehensions, x + [y], list(...), sorted(...):
 * not; a name's attribute, a subscript or another call: unknown; the parameter
 * itself passed on unchanged: nothing. A parameter is hashable only when some
 * call passes a hashable value and none passes another; `self` is unknown.
 * No parameters: hashable. why (may be NULL) gets a short reason, e.g.
 * "argument 'path' gets an unhashable value (line 12)".
 */
enum pysource_hash pysource_args_hashable(const char *src, size_t len, int first_line,
                                          const char *name, char *why, size_t whylen);

/* Name of an idiom ("regex-in-loop", "str-concat-in-loop"); static. */
const char *pysource_idiom_name(enum pysource_idiom idiom);

#endif
