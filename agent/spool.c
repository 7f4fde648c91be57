/*
 * spool.c - results waiting for an ack, one durable file each.
 *
 * File layout: 8 bytes magic "PYSPOOL1", 4 bytes payload length (little
 * endian), 32 bytes SHA-256 of the payload, then the payload. A write goes
 * through lib/atomicfile.h with sync_dir: a temporary "<id>.result.tmp.PID.N"
 * (created exclusively, mode 0600) is fsynced, renamed over "<id>.result" and
 * the folder fsynced, so after a crash an entry is either absent or whole; the
 * checksum catches everything else (a disk, a person).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "errors.h"
#include "log.h"
#include "xmalloc.h"

#define SPOOL_MAGIC      "PYSPOOL1"
#define SPOOL_MAGIC_LEN  8
#define SPOOL_HASH_LEN   32
#define SPOOL_HEADER_LEN (SPOOL_MAGIC_LEN + 4 + SPOOL_HASH_LEN)
#define SPOOL_SUFFIX     ".result"
#define SPOOL_TMP_PREFIX ".tmp-" /* the temporary files of agents before lib/atomicfile */

struct spool {
    char *dir; /* the folder, as given */
    int dirfd; /* open folder, for fsync */
};

/* mkdir -p with mode 0700 for the created components. Returns 0 or -errno. */
static int spool_mkdirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                rc = -errno;
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

struct spool *spool_open(const char *dir, char *err, size_t errlen)
{
    if (!dir || !*dir) {
        pyscope_set_err(err, errlen, "empty spool folder name");
        return NULL;
    }
    if (sodium_init() < 0) {
        pyscope_set_err(err, errlen, "could not initialize libsodium");
        return NULL;
    }
    int rc = spool_mkdirs(dir);
    if (rc < 0) {
        pyscope_set_err(err, errlen, "could not create spool folder \"%s\": %s", dir,
                        strerror(-rc));
        return NULL;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        pyscope_set_err(err, errlen, "could not open spool folder \"%s\": %s", dir,
                        strerror(errno));
        return NULL;
    }
    /* Whoever can write here can make the agent send a result it never
     * measured: the folder must be ours alone. */
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
        pyscope_set_err(
            err, errlen,
            "spool folder \"%s\" is %s: refusing it (another user could plant or read "
            "results there); fix with: chown %u \"%s\" && chmod 700 \"%s\"",
            dir, st.st_uid != geteuid() ? "owned by another user" : "open to group or others",
            (unsigned)geteuid(), dir, dir);
        close(fd);
        return NULL;
    }
    struct spool *sp = xcalloc(1, sizeof(*sp));
    sp->dir = xstrdup(dir);
    sp->dirfd = fd;

    /* A temporary file is a write that never finished: the result was not
     * sent yet (sending comes after the rename), so dropping it loses nothing
     * that a rerun of the job would not redo. */
    DIR *d = fdopendir(dup(fd));
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (atomic_is_tmp_name(de->d_name) ||
                strncmp(de->d_name, SPOOL_TMP_PREFIX, strlen(SPOOL_TMP_PREFIX)) == 0) {
                log_warn("removing unfinished spool file \"%s/%s\"", dir, de->d_name);
                unlinkat(fd, de->d_name, 0);
            }
        }
        closedir(d);
    }
    return sp;
}

void spool_destroy(struct spool **sp)
{
    if (!sp || !*sp)
        return;
    close((*sp)->dirfd);
    free((*sp)->dir);
    free(*sp);
    *sp = NULL;
}

const char *spool_dir(const struct spool *sp)
{
    return sp->dir;
}

int spool_id_valid(const char *id)
{
    if (!id || strlen(id) != SPOOL_ID_LEN)
        return 0;
    for (size_t i = 0; i < SPOOL_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'))
            return 0;
    }
    return 1;
}

int spool_put(struct spool *sp, const char *id, const void *data, size_t len)
{
    if (!spool_id_valid(id))
        return -PYSCOPE_EUSAGE;
    if (len > SPOOL_MAX_PAYLOAD)
        return -PYSCOPE_ETOOBIG;
    unsigned char header[SPOOL_HEADER_LEN];
    memcpy(header, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
    uint32_t l = (uint32_t)len;
    for (int i = 0; i < 4; i++)
        header[SPOOL_MAGIC_LEN + i] = (unsigned char)(l >> (8 * i));
    crypto_hash_sha256(header + SPOOL_MAGIC_LEN + 4, data, len);

    char *path = xasprintf("%s/%s" SPOOL_SUFFIX, sp->dir, id);
    struct atomicfile af;
    int rc = atomic_open_mode(&af, path, 0600);
    if (rc == 0) {
        af.sync_dir = true; /* an entry, once put, must survive a crash */
        errno = 0;
        if (fwrite(header, 1, sizeof(header), af.f) != sizeof(header) ||
            (len && fwrite(data, 1, len, af.f) != len))
            rc = errno ? -errno : -EIO;
        rc = atomic_commit(&af, path, rc);
    }
    if (rc < 0)
        log_error("could not write spool file \"%s\": %s", path, strerror(-rc));
    free(path);
    return rc;
}

/* Move a corrupt entry into <dir>/corrupt/ (best effort, else delete it). */
static void spool_move_aside(struct spool *sp, const char *name, const char *why)
{
    if (mkdirat(sp->dirfd, "corrupt", 0700) < 0 && errno != EEXIST) {
        log_warn("corrupt spool file \"%s/%s\" (%s): removing it", sp->dir, name, why);
        unlinkat(sp->dirfd, name, 0);
        return;
    }
    char dest[128];
    snprintf(dest, sizeof(dest), "corrupt/%s.%lld", name, (long long)time(NULL));
    log_warn("corrupt spool file \"%s/%s\" (%s): moved to \"%s/%s\"", sp->dir, name, why, sp->dir,
             dest);
    if (renameat(sp->dirfd, name, sp->dirfd, dest) < 0)
        unlinkat(sp->dirfd, name, 0);
    fsync(sp->dirfd);
}

int spool_load(struct spool *sp, const char *id, void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!spool_id_valid(id))
        return -PYSCOPE_EUSAGE;
    char name[64];
    snprintf(name, sizeof(name), "%s" SPOOL_SUFFIX, id);
    /* O_NONBLOCK: a FIFO in its place must not hang the replay (it is set aside below). */
    int fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e != ELOOP)
            return -e;
        /* a symlink: never followed, and set aside so that it is not retried forever */
        spool_move_aside(sp, name, "a symlink");
        return -PYSCOPE_EPARSE;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < SPOOL_HEADER_LEN ||
        (uint64_t)st.st_size > (uint64_t)SPOOL_HEADER_LEN + SPOOL_MAX_PAYLOAD ||
        st.st_uid != geteuid()) {
        close(fd);
        spool_move_aside(sp, name,
                         !S_ISREG(st.st_mode)     ? "not a regular file"
                         : st.st_uid != geteuid() ? "owned by another user"
                                                  : "bad size");
        return -PYSCOPE_EPARSE;
    }
    size_t total = (size_t)st.st_size;
    unsigned char *buf = xmalloc(total);
    size_t got = 0;
    while (got < total) {
        ssize_t r = read(fd, buf + got, total - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    const char *why = NULL;
    uint32_t l = 0;
    for (int i = 0; i < 4; i++)
        l |= (uint32_t)buf[SPOOL_MAGIC_LEN + i] << (8 * i);
    unsigned char h[SPOOL_HASH_LEN];
    if (got != total)
        why = "short read";
    else if (memcmp(buf, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0)
        why = "bad magic";
    else if ((size_t)l != total - SPOOL_HEADER_LEN)
        why = "length mismatch";
    else {
        crypto_hash_sha256(h, buf + SPOOL_HEADER_LEN, l);
        if (memcmp(h, buf + SPOOL_MAGIC_LEN + 4, SPOOL_HASH_LEN) != 0)
            why = "checksum mismatch";
    }
    if (why) {
        free(buf);
        spool_move_aside(sp, name, why);
        return -PYSCOPE_EPARSE;
    }
    memmove(buf, buf + SPOOL_HEADER_LEN, l);
    *data = buf;
    *len = l;
    return 0;
}

int spool_remove(struct spool *sp, const char *id)
{
    if (!spool_id_valid(id))
        return -PYSCOPE_EUSAGE;
    char name[64];
    snprintf(name, sizeof(name), "%s" SPOOL_SUFFIX, id);
    if (unlinkat(sp->dirfd, name, 0) < 0)
        return -errno;
    if (fsync(sp->dirfd) < 0)
        return -errno;
    return 0;
}

static int spool_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list(struct spool *sp, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    int fd = dup(sp->dirfd);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    rewinddir(d);
    size_t cap = 0, cnt = 0;
    char **out = NULL;
    struct dirent *de;
    size_t sl = strlen(SPOOL_SUFFIX);
    while ((de = readdir(d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl != SPOOL_ID_LEN + sl || strcmp(de->d_name + SPOOL_ID_LEN, SPOOL_SUFFIX) != 0)
            continue;
        char *id = xstrndup(de->d_name, SPOOL_ID_LEN);
        if (!spool_id_valid(id)) {
            free(id);
            continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            out = xreallocarray(out, cap, sizeof(*out));
        }
        out[cnt++] = id;
    }
    closedir(d);
    if (cnt)
        qsort(out, cnt, sizeof(*out), spool_cmp);
    *ids = out;
    *n = cnt;
    return 0;
}

void spool_free_list(char **ids, size_t n)
{
    if (!ids)
        return;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

size_t spool_count(struct spool *sp)
{
    char **ids;
    size_t n;
    if (spool_list(sp, &ids, &n) < 0)
        return 0;
    spool_free_list(ids, n);
    return n;
}
