/*
 * pathnorm.h - normalized script paths and safe resolution inside a root.
 *
 * Runs are keyed by the script's path relative to the project root (the
 * nearest ancestor holding .git), with '/' separators and no '.' or '..'
 * (docs/DESIGN.md §6). Cleaning is lexical, like Go's path.Clean: it never touches
 * the file system. pathnorm_resolve_inside() is the one function that does,
 * for paths that come from the network: it refuses anything that could name a
 * file outside the root (absolute paths, '..' escapes, NUL bytes, symlinks
 * leading out).
 */
#ifndef PYSCOPE_PATHNORM_H
#define PYSCOPE_PATHNORM_H

#include <stdbool.h>
#include <stddef.h>

/* Longest relative path pathnorm_resolve_inside() accepts, in bytes. */
#define PATHNORM_REL_MAX 4095

/*
 * Find the project root for start_dir: the nearest ancestor (start_dir
 * included) containing .git (a folder, or a file as in worktrees and
 * submodules). A relative start_dir is taken from the current folder.
 * Returns a new cleaned absolute path (caller owns), or NULL when there is
 * none or the current folder is unknown.
 */
char *pathnorm_find_root(const char *start_dir);

/*
 * Lexically normalize path (borrowed): collapse repeated '/', drop '.'
 * components, resolve '..' against the preceding component, never above '/'
 * for absolute paths (a relative path keeps its leading '..'). The empty
 * path becomes ".". Returns a new string (caller owns).
 */
char *pathnorm_clean(const char *path);

/*
 * Key for abs_path (borrowed, absolute): relative to root (borrowed, absolute,
 * may be NULL = no root) with '/' separators and no '.'/'..' when the path is
 * inside root; otherwise the cleaned absolute path. The root itself gives ".".
 * Returns 0 and a new string in *out (caller owns), or -PYSCOPE_EUSAGE when
 * a path is not absolute (then *out is NULL).
 */
int pathnorm_key(const char *abs_path, const char *root, char **out);

/*
 * Resolve rel (borrowed, relative) inside root (borrowed, an existing
 * folder). Refuses an empty path, an absolute path, '..' that would leave
 * root, paths longer than PATHNORM_REL_MAX, and anything whose real path
 * (symlinks followed) is outside the real root. The file must exist.
 * Returns 0 and its new real absolute path in *out (caller owns), or
 * -PYSCOPE_EUSAGE (refused) / -errno (could not resolve) with *out NULL and
 * a message in err (errlen bytes, may be 0).
 */
int pathnorm_resolve_inside(const char *root, const char *rel, char **out, char *err,
                            size_t errlen);

/*
 * As pathnorm_resolve_inside(), for a path of rel_len bytes that may hold
 * NUL bytes (from the wire): a NUL anywhere is refused.
 */
int pathnorm_resolve_inside_n(const char *root, const char *rel, size_t rel_len, char **out,
                              char *err, size_t errlen);

/*
 * True when file (a function's "file" in a profile) is not the user's code: a
 * built-in ("~"), a frozen or generated module ("<frozen ...>", "<string>"...),
 * an installed package (".../site-packages/...", ".../dist-packages/...") or
 * the standard library (under py_prefix/lib/python...; py_prefix is the
 * report's python.prefix; when it is NULL, any .../lib/python3...).
 */
bool pathnorm_is_library(const char *file, const char *py_prefix);

#endif
