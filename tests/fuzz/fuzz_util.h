/*
 * fuzz_util.h - small helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one .c file defining fuzz_<name>_one(data, size) (declared in
 * fuzz_targets.h), which aborts when an invariant breaks, and (unless FUZZ_REPLAY
 * is defined) LLVMFuzzerTestOneInput calling it. The corpus replays link the
 * targets compiled with FUZZ_REPLAY (tests/CMakeLists.txt: pyscope_fuzz_entries),
 * so the helpers here are static inline, one copy per target that uses them.
 *
 * Targets that need files work in a fresh folder under /dev/shm (memory, so
 * fsync costs nothing) or $TMPDIR, removed again before they return.
 */
#ifndef PYSCOPE_FUZZ_UTIL_H
#define PYSCOPE_FUZZ_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

/* Abort with a message naming the broken invariant (a crash for libFuzzer). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* LLVMFuzzerTestOneInput calling fn, unless the corpus replay includes the target. */
#ifndef FUZZ_REPLAY
#define FUZZ_ENTRY(fn)                                                                             \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        return fn(data, size);                                                                     \
    }
#else
#define FUZZ_ENTRY(fn)
#endif

/* Quiet logging: warnings about bad input are the expected outcome here. */
static inline void fuzz_quiet(void)
{
    log_init("fuzz", LOG_LEVEL_ERROR);
}

/* A new empty folder (caller owns the path; fuzz_rmtree and free it). Aborts on failure. */
static inline char *fuzz_mkdtemp(const char *what)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    char *tmpl = xasprintf("%s/pyscope-fuzz-%s-XXXXXX", base ? base : "/tmp", what);
    if (mkdtemp(tmpl) == NULL) {
        fprintf(stderr, "fuzz: could not create \"%s\": %s\n", tmpl, strerror(errno));
        abort();
    }
    return tmpl;
}

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) < 0 ? -1 : 0;
}

/* rm -rf dir (borrowed); symlinks are removed, never followed. Aborts on failure. */
static inline void fuzz_rmtree(const char *dir)
{
    if (nftw(dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0) {
        fprintf(stderr, "fuzz: could not remove \"%s\": %s\n", dir, strerror(errno));
        abort();
    }
}

/* Write len bytes at data to path (created 0600, replaced). Aborts on failure. */
static inline void fuzz_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: could not create \"%s\": %s\n", path, strerror(errno));
        abort();
    }
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "fuzz: could not write \"%s\": %s\n", path, strerror(errno));
            abort();
        }
        p += w;
        len -= (size_t)w;
    }
    close(fd);
}

/* True when path exists (lstat: a dangling symlink exists). */
static inline int fuzz_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A NUL-terminated copy of data (caller frees). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
