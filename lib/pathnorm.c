/*
 * pathnorm.c - normalized script paths and safe resolution inside a root.
 *
 * pathnorm_clean() follows Go's path.Clean: one pass over the input, writing
 * into a buffer no longer than the input, with a "dotdot" mark below which
 * '..' may not back up. Everything else is built on it, so that keys and the
 * traversal check agree on what a path means.
 */
#include "pathnorm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "xmalloc.h"

char *pathnorm_clean(const char *path)
{
    size_t n = strlen(path);
    if (n == 0)
        return xstrdup(".");
    bool rooted = path[0] == '/';
    char *buf = xmalloc(n + 2);
    size_t r = 0, w = 0, dotdot = 0;
    if (rooted) {
        buf[w++] = '/';
        r = 1;
        dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            r++;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            r++;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                /* back up to the previous '/' (or the mark) */
                w--;
                while (w > dotdot && buf[w] != '/')
                    w--;
            } else if (!rooted) {
                /* a relative path keeps leading '..' */
                if (w > 0)
                    buf[w++] = '/';
                buf[w++] = '.';
                buf[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                buf[w++] = '/';
            while (r < n && path[r] != '/')
                buf[w++] = path[r++];
        }
    }
    if (w == 0)
        buf[w++] = '.';
    buf[w] = '\0';
    return buf;
}

/* Return a new absolute, cleaned form of dir (relative to the current folder), or NULL. */
static char *absolute_dir(const char *dir)
{
    if (dir[0] == '/')
        return pathnorm_clean(dir);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    char *joined = xasprintf("%s/%s", cwd, dir);
    free(cwd);
    char *clean = pathnorm_clean(joined);
    free(joined);
    return clean;
}

char *pathnorm_find_root(const char *start_dir)
{
    char *dir = absolute_dir(start_dir);
    if (!dir)
        return NULL;
    for (;;) {
        struct stat st;
        char *git = xasprintf("%s%s.git", dir, strcmp(dir, "/") == 0 ? "" : "/");
        int found = lstat(git, &st) == 0;
        free(git);
        if (found)
            return dir;
        if (strcmp(dir, "/") == 0)
            break;
        char *slash = strrchr(dir, '/');
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    free(dir);
    return NULL;
}

int pathnorm_key(const char *abs_path, const char *root, char **out)
{
    *out = NULL;
    if (abs_path[0] != '/' || (root && root[0] != '/'))
        return -PYSCOPE_EUSAGE;
    char *path = pathnorm_clean(abs_path);
    if (!root) {
        *out = path;
        return 0;
    }
    char *croot = pathnorm_clean(root);
    size_t lr = strlen(croot);
    if (strcmp(path, croot) == 0) {
        *out = xstrdup(".");
    } else if (strcmp(croot, "/") == 0) {
        *out = xstrdup(path + 1);
    } else if (strncmp(path, croot, lr) == 0 && path[lr] == '/') {
        *out = xstrdup(path + lr + 1);
    } else {
        *out = path;
        path = NULL;
    }
    free(croot);
    free(path);
    return 0;
}

int pathnorm_resolve_inside_n(const char *root, const char *rel, size_t rel_len, char **out,
                              char *err, size_t errlen)
{
    *out = NULL;
    pyscope_set_err(err, errlen, "no error");
    if (rel_len == 0) {
        pyscope_set_err(err, errlen, "empty path");
        return -PYSCOPE_EUSAGE;
    }
    if (memchr(rel, '\0', rel_len)) {
        pyscope_set_err(err, errlen, "path contains a NUL byte");
        return -PYSCOPE_EUSAGE;
    }
    if (rel_len > PATHNORM_REL_MAX) {
        pyscope_set_err(err, errlen, "path too long (%zu bytes, limit %d)", rel_len,
                        PATHNORM_REL_MAX);
        return -PYSCOPE_EUSAGE;
    }
    if (rel[0] == '/') {
        pyscope_set_err(err, errlen, "absolute path \"%.*s\" refused", (int)rel_len, rel);
        return -PYSCOPE_EUSAGE;
    }
    char *copy = xstrndup(rel, rel_len);
    char *clean = pathnorm_clean(copy);
    free(copy);
    if (strcmp(clean, "..") == 0 || strncmp(clean, "../", 3) == 0) {
        pyscope_set_err(err, errlen, "path \"%s\" leads outside the root", clean);
        free(clean);
        return -PYSCOPE_EUSAGE;
    }
    int rc;
    char *real_root = realpath(root, NULL);
    if (!real_root) {
        rc = -errno;
        pyscope_set_err(err, errlen, "could not resolve root \"%s\": %s", root, strerror(-rc));
        goto fail_root;
    }
    char *joined = xasprintf("%s/%s", real_root, clean);
    char *real = realpath(joined, NULL);
    free(joined);
    if (!real) {
        rc = -errno;
        pyscope_set_err(err, errlen, "could not resolve \"%s\": %s", clean, strerror(-rc));
        goto fail_real;
    }
    size_t lr = strlen(real_root);
    bool inside = strcmp(real_root, "/") == 0 || strcmp(real, real_root) == 0 ||
                  (strncmp(real, real_root, lr) == 0 && real[lr] == '/');
    if (!inside) {
        pyscope_set_err(err, errlen, "path \"%s\" leads outside the root through a symlink", clean);
        free(real);
        rc = -PYSCOPE_EUSAGE;
        goto fail_real;
    }
    free(real_root);
    free(clean);
    *out = real;
    return 0;

fail_real:
    free(real_root);
fail_root:
    free(clean);
    return rc;
}

int pathnorm_resolve_inside(const char *root, const char *rel, char **out, char *err, size_t errlen)
{
    return pathnorm_resolve_inside_n(root, rel, strlen(rel), out, err, errlen);
}

bool pathnorm_is_library(const char *file, const char *py_prefix)
{
    if (file[0] == '<' || file[0] == '~' || strstr(file, "/site-packages/") ||
        strstr(file, "/dist-packages/"))
        return true;
    size_t lp = py_prefix ? strlen(py_prefix) : 0;
    if (lp <= 1) /* prefix unknown: where every CPython keeps its standard library */
        return file[0] == '/' && strstr(file, "/lib/python3") != NULL;
    return file[0] == '/' && strncmp(file, py_prefix, lp) == 0 &&
           strncmp(file + lp, "/lib/python", 11) == 0;
}
