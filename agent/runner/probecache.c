/*
 * probecache.c - remember what an interpreter said it is (probecache.h).
 *
 * A cache file:
 *   pyscope-pyinfo 1
 *   key LEN
 *   <LEN bytes of key>
 *   lib <libpython line>
 *   <the interpreter's answer, as it printed it>
 */
#include "probecache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "hash.h"
#include "log.h"
#include "sanitize.h"
#include "xmalloc.h"

#define CACHE_MAGIC    "pyscope-pyinfo 1\n"
#define CACHE_FILE_MAX 65536
#define CACHE_KEY_MAX  (CACHE_FILE_MAX / 2)

/* "DEV INO SIZE MTIME CTIME" of st (new string). */
static char *identity(const struct stat *st)
{
    return xasprintf("%ju %ju %jd %jd.%09ld %jd.%09ld", (uintmax_t)st->st_dev,
                     (uintmax_t)st->st_ino, (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
                     st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* path's identity, or "absent" (new string). */
static char *identity_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return xasprintf("absent (%s)", errno == ENOENT ? "no such file" : strerror(errno));
    return identity(&st);
}

/* True when the file at path starts as an ELF object does. */
static bool is_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    unsigned char head[4];
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    return n == 4 && memcmp(head, "\177ELF", 4) == 0;
}

/* True when path names an existing folder. */
static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder is made below what exists: $XDG_CACHE_HOME itself may be made
 * (the XDG spec), not its parents; $HOME never is (a service account's HOME is
 * often /nonexistent: making it would be the cache's doing, on someone else's
 * machine). */
char *probecache_dir(void)
{
    /* why there is none, said once in debug mode (PYSCOPE_DEBUG=1) */
    static bool said;
    char *dir = NULL, *why = NULL;
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/') { /* the XDG spec: a relative value is ignored */
        char *parent = xstrdup(xdg);
        char *slash = strrchr(parent, '/');
        slash[slash == parent ? 1 : 0] = '\0';
        if (is_dir(parent))
            dir = xasprintf("%s/pyscope/pyinfo", xdg);
        else
            why = xasprintf("XDG_CACHE_HOME's parent \"%s\" is not an existing folder (it is "
                            "never made)",
                            parent);
        free(parent);
    } else if (!home || home[0] != '/') {
        why = xasprintf("HOME is %s and XDG_CACHE_HOME is %s",
                        home ? "not an absolute path" : "unset",
                        xdg ? "not an absolute path" : "unset");
    } else if (!is_dir(home)) {
        why = xasprintf("HOME \"%s\" is not an existing folder (it is never made)", home);
    } else {
        dir = xasprintf("%s/.cache/pyscope/pyinfo", home);
    }
    if (why && !said) {
        char *safe = sanitize_dup(why, 0);
        log_debug("no interpreter cache: %s; every run asks the interpreter what it is", safe);
        free(safe);
        said = true;
    }
    free(why);
    return dir;
}

char *probecache_key(const char *path, const char *argv0)
{
    char *abs = NULL;
    if (path[0] == '/') {
        abs = xstrdup(path);
    } else {
        char *cwd = getcwd(NULL, 0);
        if (!cwd)
            return NULL;
        abs = xasprintf("%s/%s", cwd, path);
        free(cwd);
    }
    char *real = realpath(abs, NULL);
    struct stat st;
    if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode) || !is_elf(real)) {
        free(real);
        free(abs);
        return NULL;
    }
    /* pyvenv.cfg where the interpreter looks: beside the path as invoked, one up */
    char *dir = xstrdup(abs);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    char *cfg1 = xasprintf("%s/pyvenv.cfg", dir);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    char *cfg2 = xasprintf("%s/pyvenv.cfg", dir);
    char *id = identity(&st), *id1 = identity_of(cfg1), *id2 = identity_of(cfg2);
    const char *env_path = getenv("PATH");
    /* a bare argv[0]: the interpreter finds itself on $PATH */
    char *path_line =
        strchr(argv0, '/') ? xstrdup("") : xasprintf("PATH %s\n", env_path ? env_path : "");
    char *key = xasprintf("path %s\nargv0 %s\n%sreal %s\nbinary %s\ncfg %s\ncfg.. %s", abs, argv0,
                          path_line, real, id, id1, id2);
    free(path_line);
    free(id);
    free(id1);
    free(id2);
    free(cfg1);
    free(cfg2);
    free(dir);
    free(real);
    free(abs);
    if (strlen(key) > CACHE_KEY_MAX) {
        free(key);
        return NULL;
    }
    return key;
}

char *probecache_lib_line(const char *path, int major, int minor, const char *abiflags)
{
    char *real = realpath(path, NULL);
    if (!real)
        return xstrdup("unknown");
    char *slash = strrchr(real, '/');
    *slash = '\0';
    char *lib = xasprintf("%s/../lib/libpython%d.%d%s.so.1.0", real, major, minor, abiflags);
    char *line = identity_of(lib);
    free(lib);
    free(real);
    return line;
}

/* The cache file for key (new string), or NULL (no cache folder). */
static char *file_of(const char *key)
{
    char *dir = probecache_dir();
    if (!dir)
        return NULL;
    char hex[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(key, strlen(key), hex);
    char *file = xasprintf("%s/%s", dir, hex);
    free(dir);
    return file;
}

void probecache_entry_release(struct probecache_entry *e)
{
    free(e->text);
    free(e->lib);
    e->text = e->lib = NULL;
}

int probecache_load(const char *key, struct probecache_entry *e)
{
    e->text = e->lib = NULL;
    char *file = file_of(key);
    if (!file)
        return -1;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(file);
    if (fd < 0)
        return -1;
    struct stat st;
    /* ours, a regular file, not world-writable, of a sane size */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 0022) || st.st_size <= 0 || st.st_size > CACHE_FILE_MAX) {
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -1;
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    size_t len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    buf[len] = '\0';
    int rc = -1;
    size_t magic = strlen(CACHE_MAGIC);
    char *p = buf, *end = buf + len, *nl;
    unsigned long klen;
    if (len != (size_t)st.st_size || strlen(buf) != len || strncmp(p, CACHE_MAGIC, magic) != 0)
        goto out;
    p += magic;
    if (strncmp(p, "key ", 4) != 0)
        goto out;
    errno = 0;
    klen = strtoul(p + 4, &nl, 10);
    if (errno || nl == p + 4 || *nl != '\n' || klen != strlen(key) ||
        (size_t)(end - (nl + 1)) < klen + 1)
        goto out;
    p = nl + 1;
    if (memcmp(p, key, klen) != 0 || p[klen] != '\n')
        goto out;
    p += klen + 1;
    if (strncmp(p, "lib ", 4) != 0 || !(nl = strchr(p, '\n')))
        goto out;
    e->lib = xstrndup(p + 4, (size_t)(nl - (p + 4)));
    e->text = xstrdup(nl + 1);
    rc = 0;
out:
    free(buf);
    return rc;
}

/* mkdir -p dir, mode 0700 for what it makes. 0 or -1. */
static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

void probecache_store(const char *key, const char *text, const char *lib)
{
    char *file = file_of(key);
    if (!file || strchr(lib, '\n')) {
        free(file);
        return;
    }
    char *slash = strrchr(file, '/');
    *slash = '\0';
    int made = make_dirs(file);
    int e = errno;
    char *safe = sanitize_dup(file, 0);
    *slash = '/';
    struct atomicfile af;
    int rc = made < 0 ? -(e ? e : EIO) : atomic_open(&af, file);
    if (rc == 0) {
        rc = fchmod(fileno(af.f), 0600) < 0 ? -errno : 0;
        if (rc == 0 && fprintf(af.f, "%skey %zu\n%s\nlib %s\n%s", CACHE_MAGIC, strlen(key), key,
                               lib, text) < 0)
            rc = -EIO;
        rc = atomic_commit(&af, file, rc);
    }
    /* an unusable folder only costs the next run a question: said in debug mode only */
    if (rc < 0)
        log_debug("the interpreter cache folder \"%s\" is unusable (%s %s): the interpreter's "
                  "answer is not remembered",
                  safe, made < 0 ? "could not make it:" : "could not write in it:", strerror(-rc));
    free(safe);
    free(file);
}
