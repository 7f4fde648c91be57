/*
 * atomicfile.c - write-temporary-then-rename, with fsync and an exclusive create.
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

/* Names tried before giving up on EEXIST (stale files of an earlier process of this pid). */
#define ATOMIC_TRIES 100

int atomic_open(struct atomicfile *af, const char *path)
{
    return atomic_open_mode(af, path, 0644);
}

int atomic_open_mode(struct atomicfile *af, const char *path, mode_t mode)
{
    af->f = NULL;
    af->tmp = NULL;
    af->no_sync = false;
    af->sync_dir = false;
    for (unsigned n = 0; n < ATOMIC_TRIES; n++) {
        char *tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), n);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0) {
            int e = errno;
            free(tmp);
            if (e == EEXIST)
                continue;
            return -e;
        }
        af->f = fdopen(fd, "w");
        if (!af->f) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return -e;
        }
        af->tmp = tmp;
        return 0;
    }
    return -EEXIST;
}

bool atomic_is_tmp_name(const char *name)
{
    /* "TARGET.tmp.PID.N": a non-empty target, then ".tmp.", digits, ".", digits. */
    const char *t = strstr(name, ".tmp.");
    while (t && t == name)
        t = strstr(t + 1, ".tmp.");
    for (; t; t = strstr(t + 1, ".tmp.")) {
        const char *p = t + 5;
        size_t pid = strspn(p, "0123456789");
        if (pid == 0 || p[pid] != '.')
            continue;
        size_t n = strspn(p + pid + 1, "0123456789");
        if (n > 0 && p[pid + 1 + n] == '\0')
            return true;
    }
    return false;
}

/* fsync the folder that holds path. Returns 0 or -errno. */
static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

int atomic_commit(struct atomicfile *af, const char *path, int rc)
{
    if (!af->f)
        return rc < 0 ? rc : -EBADF;
    if (rc == 0 && fflush(af->f) == EOF)
        rc = -errno;
    if (rc == 0 && ferror(af->f))
        rc = -EIO;
    if (rc == 0 && !af->no_sync && fsync(fileno(af->f)) < 0)
        rc = -errno;
    if (fclose(af->f) == EOF && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(af->tmp, path) < 0)
        rc = -errno;
    if (rc == 0 && af->sync_dir)
        rc = sync_parent(path); /* the new file stays: it is whole, only maybe not durable */
    if (rc < 0)
        unlink(af->tmp);
    free(af->tmp);
    af->f = NULL;
    af->tmp = NULL;
    return rc;
}

int atomic_write(const char *path, const void *data, size_t len)
{
    struct atomicfile af;
    int rc = atomic_open(&af, path);
    if (rc < 0)
        return rc;
    errno = 0;
    if (len && fwrite(data, 1, len, af.f) != len)
        rc = errno ? -errno : -EIO;
    return atomic_commit(&af, path, rc);
}
