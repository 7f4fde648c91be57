/*
 * atomicfile.c - write-temporary-then-rename, with fsync and an exclusive create.
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "xmalloc.h"

/* Names tried before giving up on EEXIST (stale files of an earlier process of this pid). */
#define ATOMIC_TRIES 100

int atomic_open(struct atomicfile *af, const char *path)
{
    af->f = NULL;
    af->tmp = NULL;
    af->no_sync = false;
    for (unsigned n = 0; n < ATOMIC_TRIES; n++) {
        char *tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), n);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
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
