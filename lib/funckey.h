/*
 * funckey.h - function keys: how a profile names a function.
 *
 * A function key is "file:qualname:line": the file as a script key (lib/pathnorm.h,
 * relative to the project root; "~" for built-ins, or a pseudo-file such as "<string>"),
 * the qualified name, and the first line (0 when unknown). The runner makes them
 * (agent/runner/collect.c); every document, the store and the pages use them as the
 * function's identity (docs/json-schema.md). A file name may itself hold ':', so a key is
 * split from the right.
 */
#ifndef PYSCOPE_FUNCKEY_H
#define PYSCOPE_FUNCKEY_H

/* The new key for name (qualname) in file at line (all borrowed). Caller frees. */
char *funckey_make(const char *file, const char *name, long line);

/*
 * Split a function key "file:qualname:line" (borrowed) into new strings *file and
 * *name (caller frees both) and *line. A key without a numeric line keeps
 * *line = 0 and its last ':' part as the name; a key without ':' is all name with
 * an empty file. Returns 0; never fails (allocation aborts).
 */
int funckey_split(const char *key, char **file, char **name, long *line);

/*
 * Return a new display label "name (file:line)" for key (borrowed): "name" alone
 * for built-ins (file "~" or empty), "name (file)" when line is 0. Caller frees.
 */
char *funckey_label(const char *key);

#endif
