/*
 * curve.c - CurveZMQ key files and socket set-up.
 *
 * Design notes: the secret file is opened O_CREAT|O_EXCL|O_NOFOLLOW with mode
 * 0600, so there is no moment when it exists with looser bits and no way to
 * be tricked into writing through a planted symlink. Reads use O_NOFOLLOW and
 * O_NONBLOCK (a FIFO planted in place of a key must not hang us) and check
 * the opened file with fstat, not the path, so nothing can be swapped in
 * between. Every buffer that held secret text is wiped before it is freed or
 * goes out of scope.
 */
#include "curve.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "errors.h"
#include "xmalloc.h"

/* Biggest key file we read: a key and a few comment lines. */
#define CURVE_FILE_MAX 4096

#define CURVE_SET_ERR(err, errlen, ...)                                                            \
    do {                                                                                           \
        if ((errlen) > 0)                                                                          \
            snprintf((err), (errlen), __VA_ARGS__);                                                \
    } while (0)

_Static_assert(CURVE_NAME_MAX == 64, "CURVE_NAME_RULE says 64");

bool curve_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok || n >= CURVE_NAME_MAX)
            return false;
    }
    return true;
}

bool curve_public_valid(const char *z85)
{
    if (z85 == NULL || strnlen(z85, CURVE_Z85_LEN + 1) != CURVE_Z85_LEN)
        return false;
    uint8_t bin[32];
    bool ok = zmq_z85_decode(bin, z85) != NULL;
    sodium_memzero(bin, sizeof(bin));
    return ok;
}

/*
 * When the line a..b (trimmed) is an attribute "NAME = VALUE" (NAME of
 * [a-z_], the line not itself a 40-character key), true with the name's end
 * in *name_end and the value (trimmed) in *value..b.
 */
static bool curve_attr_line(const char *a, const char *b, const char **name_end, const char **value)
{
    const char *p = a;
    while (p < b && ((*p >= 'a' && *p <= 'z') || *p == '_'))
        p++;
    if (p == a)
        return false;
    *name_end = p;
    while (p < b && (*p == ' ' || *p == '\t'))
        p++;
    if (p == b || *p != '=')
        return false;
    if ((size_t)(b - a) == CURVE_Z85_LEN && *name_end == p)
        return false; /* no space around '=' and key-sized: a key that starts with letters */
    p++;
    while (p < b && (*p == ' ' || *p == '\t'))
        p++;
    *value = p;
    return true;
}

int curve_key_attr(const char *text, size_t len, const char *name, char *value, size_t vlen)
{
    const char *p = text, *end = text + len;
    if (vlen > 0)
        value[0] = '\0';
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *a = p, *b = line_end, *name_end, *v;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        p = nl ? nl + 1 : end;
        if (a == b || *a == '#' || !curve_attr_line(a, b, &name_end, &v))
            continue;
        if ((size_t)(name_end - a) != strlen(name) || memcmp(a, name, strlen(name)) != 0)
            continue;
        if ((size_t)(b - v) >= vlen || memchr(v, '\0', (size_t)(b - v)))
            return -PYSCOPE_EPARSE;
        memcpy(value, v, (size_t)(b - v));
        value[b - v] = '\0';
        return 1;
    }
    return 0;
}

int curve_parse_key_text(const char *text, size_t len, char *out)
{
    const char *p = text, *end = text + len;
    int found = 0;
    char key[CURVE_Z85_LEN + 1];
    int rc = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *a = p, *b = line_end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
            b--;
        p = nl ? nl + 1 : end;
        const char *name_end, *value;
        if (a == b || *a == '#' || curve_attr_line(a, b, &name_end, &value))
            continue; /* comments, blank lines, attributes (curve_key_attr) */
        if (memchr(a, '\0', (size_t)(b - a)) != NULL || (size_t)(b - a) != CURVE_Z85_LEN || found) {
            rc = -PYSCOPE_EPARSE;
            break;
        }
        memcpy(key, a, CURVE_Z85_LEN);
        key[CURVE_Z85_LEN] = '\0';
        found = 1;
    }
    if (rc == 0 && (!found || !curve_public_valid(key)))
        rc = -PYSCOPE_EPARSE;
    if (rc == 0)
        memcpy(out, key, CURVE_Z85_LEN + 1);
    sodium_memzero(key, sizeof(key));
    return rc;
}

void curve_keypair_wipe(struct curve_keypair *kp)
{
    if (kp != NULL)
        sodium_memzero(kp, sizeof(*kp));
}

void curve_public_abbrev(const char *z85, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    snprintf(out, outlen, "%.8s...", z85 ? z85 : "");
}

/* mkdir -p dir with mode for the folders it creates. Returns 0 or -errno. */
static int curve_mkdir_p(const char *dir, mode_t mode)
{
    char *copy = xstrdup(dir);
    int rc = 0;
    for (char *p = copy + 1; rc == 0; p++) {
        bool last = *p == '\0';
        if (*p != '/' && !last)
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            rc = -errno;
        *p = saved;
        if (last)
            break;
    }
    if (rc == 0) {
        struct stat st;
        if (stat(dir, &st) < 0)
            rc = -errno;
        else if (!S_ISDIR(st.st_mode))
            rc = -ENOTDIR;
    }
    free(copy);
    return rc;
}

/* Create path with mode (never following or replacing anything) holding text. */
static int curve_write_new(const char *path, mode_t mode, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        unlink(path);
    return rc;
}

int curve_keygen(const char *dir, const char *name, char *public_out, char *err, size_t errlen)
{
    if (!curve_name_valid(name)) {
        CURVE_SET_ERR(err, errlen, "invalid key name \"%s\": use " CURVE_NAME_RULE,
                      name ? name : "");
        return -PYSCOPE_EUSAGE;
    }
    int rc = curve_mkdir_p(dir, 0700);
    if (rc < 0) {
        CURVE_SET_ERR(err, errlen, "could not create key folder \"%s\": %s", dir, strerror(-rc));
        return rc;
    }
    char *pub_path = xasprintf("%s/%s%s", dir, name, CURVE_PUBLIC_SUFFIX);
    char *sec_path = xasprintf("%s/%s%s", dir, name, CURVE_SECRET_SUFFIX);
    struct curve_keypair kp;
    char text[512];
    struct stat st;
    if (lstat(pub_path, &st) == 0 || lstat(sec_path, &st) == 0) {
        CURVE_SET_ERR(err, errlen,
                      "key \"%s\" already exists in \"%s\": remove it first or choose another name",
                      name, dir);
        rc = -EEXIST;
        goto out;
    }
    if (zmq_curve_keypair(kp.public_z85, kp.secret_z85) < 0) {
        rc = -errno;
        CURVE_SET_ERR(err, errlen, "could not generate a CURVE keypair: %s", zmq_strerror(errno));
        goto out;
    }
    snprintf(text, sizeof(text),
             "# PyScope CURVE secret key \"%s\" (Z85). Keep it private: never copy, share or\n"
             "# log it. Its public half is %s%s next to it.\n%s\n",
             name, name, CURVE_PUBLIC_SUFFIX, kp.secret_z85);
    rc = curve_write_new(sec_path, 0600, text);
    sodium_memzero(text, sizeof(text));
    if (rc < 0) {
        CURVE_SET_ERR(err, errlen, "could not create secret key file \"%s\": %s", sec_path,
                      strerror(-rc));
        goto out;
    }
    snprintf(text, sizeof(text),
             "# PyScope CURVE public key \"%s\" (Z85). Install it on the coordinator in\n"
             "# KEYS/agents/ or KEYS/submitters/ (docs/security.md).\n%s\n",
             name, kp.public_z85);
    rc = curve_write_new(pub_path, 0644, text);
    if (rc < 0) {
        CURVE_SET_ERR(err, errlen, "could not create public key file \"%s\": %s", pub_path,
                      strerror(-rc));
        unlink(sec_path);
        goto out;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (public_out != NULL)
        memcpy(public_out, kp.public_z85, CURVE_Z85_LEN + 1);
out:
    curve_keypair_wipe(&kp);
    free(pub_path);
    free(sec_path);
    return rc;
}

/*
 * Read the key file path into out (CURVE_Z85_LEN + 1 bytes). secret: apply
 * the owner and mode checks. Returns 0 or a negative code with err set.
 */
/*
 * Read and check the key file at path into out; when attr is not NULL, also
 * its attribute attr into value (vlen bytes; "" when absent).
 */
static int curve_read_key_file_attr(const char *path, bool secret, char *out, const char *attr,
                                    char *value, size_t vlen, char *err, size_t errlen)
{
    const char *what = secret ? "secret key file" : "public key file";
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            CURVE_SET_ERR(err, errlen, "%s \"%s\" is a symbolic link: refusing it, use the file",
                          what, path);
        else
            CURVE_SET_ERR(err, errlen, "could not open %s \"%s\": %s", what, path, strerror(e));
        return e == ELOOP ? -PYSCOPE_EUSAGE : -e;
    }
    struct stat st;
    int rc = 0;
    char buf[CURVE_FILE_MAX + 1];
    size_t len = 0;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        CURVE_SET_ERR(err, errlen, "could not stat %s \"%s\": %s", what, path, strerror(-rc));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        CURVE_SET_ERR(err, errlen, "%s \"%s\" is not a regular file", what, path);
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    if (secret && st.st_uid != geteuid()) {
        CURVE_SET_ERR(err, errlen,
                      "secret key file \"%s\" is owned by uid %u, not by this user (uid %u): "
                      "refusing it",
                      path, (unsigned)st.st_uid, (unsigned)geteuid());
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        CURVE_SET_ERR(err, errlen,
                      "secret key file \"%s\" has mode %04o, open to group or others: refusing "
                      "it; fix with: chmod 600 \"%s\"",
                      path, (unsigned)(st.st_mode & 07777), path);
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    while (len < sizeof(buf)) {
        ssize_t n = read(fd, buf + len, sizeof(buf) - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            CURVE_SET_ERR(err, errlen, "could not read %s \"%s\": %s", what, path, strerror(-rc));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > CURVE_FILE_MAX) {
        CURVE_SET_ERR(err, errlen, "%s \"%s\" is too big for a key file", what, path);
        rc = -PYSCOPE_ETOOBIG;
        goto out;
    }
    if (curve_parse_key_text(buf, len, out) < 0) {
        CURVE_SET_ERR(err, errlen, "%s \"%s\" is malformed: expected one 40-character Z85 key line",
                      what, path);
        rc = -PYSCOPE_EPARSE;
    } else if (attr != NULL && (rc = curve_key_attr(buf, len, attr, value, vlen)) < 0) {
        CURVE_SET_ERR(err, errlen, "%s \"%s\": its \"%s =\" line is too long", what, path, attr);
        rc = -PYSCOPE_EPARSE;
    }
out:
    sodium_memzero(buf, sizeof(buf));
    close(fd);
    return rc;
}

static int curve_read_key_file(const char *path, bool secret, char *out, char *err, size_t errlen)
{
    return curve_read_key_file_attr(path, secret, out, NULL, NULL, 0, err, errlen);
}

/* Strip suffix from path if present; returns a new prefix string. */
static char *curve_prefix_of(const char *path, const char *suffix)
{
    size_t n = strlen(path), s = strlen(suffix);
    if (n > s && strcmp(path + n - s, suffix) == 0)
        return xstrndup(path, n - s);
    return xstrdup(path);
}

int curve_load_keypair(const char *path, struct curve_keypair *kp, char *err, size_t errlen)
{
    memset(kp, 0, sizeof(*kp));
    char *prefix = curve_prefix_of(path, CURVE_SECRET_SUFFIX);
    char *sec_path = xasprintf("%s%s", prefix, CURVE_SECRET_SUFFIX);
    char *pub_path = xasprintf("%s%s", prefix, CURVE_PUBLIC_SUFFIX);
    char listed[CURVE_Z85_LEN + 1];
    int rc = curve_read_key_file(sec_path, true, kp->secret_z85, err, errlen);
    if (rc < 0)
        goto out;
    if (zmq_curve_public(kp->public_z85, kp->secret_z85) < 0) {
        CURVE_SET_ERR(err, errlen, "could not derive the public key of \"%s\": %s", sec_path,
                      zmq_strerror(errno));
        rc = -PYSCOPE_EPARSE;
        goto out;
    }
    struct stat st;
    if (lstat(pub_path, &st) == 0) {
        rc = curve_read_key_file(pub_path, false, listed, err, errlen);
        if (rc < 0)
            goto out;
        if (strcmp(listed, kp->public_z85) != 0) {
            CURVE_SET_ERR(err, errlen,
                          "public key file \"%s\" does not match secret key file \"%s\"", pub_path,
                          sec_path);
            rc = -PYSCOPE_EUSAGE;
            goto out;
        }
    }
out:
    if (rc < 0)
        curve_keypair_wipe(kp);
    free(prefix);
    free(sec_path);
    free(pub_path);
    return rc;
}

int curve_load_public(const char *path, char *out, char *err, size_t errlen)
{
    char *prefix = curve_prefix_of(path, CURVE_PUBLIC_SUFFIX);
    char *pub_path = xasprintf("%s%s", prefix, CURVE_PUBLIC_SUFFIX);
    int rc = curve_read_key_file(pub_path, false, out, err, errlen);
    free(prefix);
    free(pub_path);
    return rc;
}

int curve_load_public_attr(const char *path, char *out, const char *attr, char *value, size_t vlen,
                           char *err, size_t errlen)
{
    char *prefix = curve_prefix_of(path, CURVE_PUBLIC_SUFFIX);
    char *pub_path = xasprintf("%s%s", prefix, CURVE_PUBLIC_SUFFIX);
    int rc = curve_read_key_file_attr(pub_path, false, out, attr, value, vlen, err, errlen);
    free(prefix);
    free(pub_path);
    return rc;
}

int curve_apply_server(void *zsock, const struct curve_keypair *kp)
{
    int one = 1;
    const char *domain = CURVE_ZAP_DOMAIN;
    if (!curve_public_valid(kp->public_z85))
        return -EINVAL;
    if (zmq_setsockopt(zsock, ZMQ_CURVE_SERVER, &one, sizeof(one)) < 0 ||
        zmq_setsockopt(zsock, ZMQ_CURVE_PUBLICKEY, kp->public_z85, CURVE_Z85_LEN) < 0 ||
        zmq_setsockopt(zsock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, CURVE_Z85_LEN) < 0 ||
        zmq_setsockopt(zsock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0 ||
        zmq_setsockopt(zsock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)) < 0)
        return -errno;
    return 0;
}

int curve_apply_client(void *zsock, const struct curve_keypair *client,
                       const char *server_public_z85)
{
    if (!curve_public_valid(server_public_z85) || !curve_public_valid(client->public_z85))
        return -EINVAL;
    if (zmq_setsockopt(zsock, ZMQ_CURVE_SERVERKEY, server_public_z85, CURVE_Z85_LEN) < 0 ||
        zmq_setsockopt(zsock, ZMQ_CURVE_PUBLICKEY, client->public_z85, CURVE_Z85_LEN) < 0 ||
        zmq_setsockopt(zsock, ZMQ_CURVE_SECRETKEY, client->secret_z85, CURVE_Z85_LEN) < 0)
        return -errno;
    return 0;
}
