/*
 * zap.c - ZAP handler thread, allowlist folders, revocation and self-test.
 *
 * Design notes: one thread owns the REP socket bound to ZAP_ENDPOINT (bound
 * in zap_start(), so no server handshake can run before the handler exists)
 * and polls it together with an eventfd that zap_stop() writes. The
 * allowlist is an immutable array swapped under a mutex; a reload builds the
 * new array outside the lock. Changes are detected with a cheap signature
 * of the folders (names, inodes, sizes, times) so the files themselves are
 * read, and their problems logged, only when something changed. Refusal
 * warnings are rate-limited; the counters are not.
 */
#include "zap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "xmalloc.h"

/* Frames of a ZAP request we accept at most (7 + a few credentials). */
#define ZAP_MAX_FRAMES 10
/* Largest frame we keep from a request. */
#define ZAP_MAX_FRAME 512
/* Revocations remembered for zap_revoked_since(). */
#define ZAP_REVOKED_MAX 1024
/* Refusal warnings logged per window, and the window. */
#define ZAP_WARN_BURST     10
#define ZAP_WARN_WINDOW_MS 10000

/* One allowed key. */
struct zap_entry {
    enum zap_role role;
    char name[CURVE_NAME_MAX + 1];
    char key[CURVE_Z85_LEN + 1];
    char host[CURVE_NAME_MAX + 1]; /* agents: the host it speaks for ("host =", else name) */
    bool labels_pinned;            /* agents: the file has a "labels =" line */
    char labels[ZAP_LABELS_MAX];   /* its normalized value ("k=v,k=v") */
};

/* An allowlist: entries sorted by nothing; small, scanned linearly. */
struct zap_list {
    struct zap_entry *v;
    size_t n;
};

/* One remembered revocation. */
struct zap_revoked {
    uint64_t generation; /* the generation that no longer has it */
    char user_id[ZAP_USER_ID_MAX];
};

struct zap {
    void *sock;         /* REP bound to ZAP_ENDPOINT; used by the thread only */
    int stop_fd;        /* eventfd: written by zap_stop() */
    char *keys_dir;     /* owned */
    pthread_t thread;   /* the handler */
    pthread_mutex_t mu; /* guards everything below */
    struct zap_list list;
    uint64_t signature; /* of the folders when list was loaded */
    bool loaded;        /* list was loaded at least once */
    struct zap_stats stats;
    struct zap_revoked *revoked; /* ring of ZAP_REVOKED_MAX */
    size_t revoked_next;         /* next slot to write */
    uint64_t revoked_total;      /* written ever */
    uint64_t revoked_floor;      /* generations <= this may be missing */
    /* Thread-only: refusal warning rate limit. */
    uint64_t warn_window_start;
    unsigned warn_count;
    uint64_t warn_suppressed;
};

static uint64_t zap_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *zap_role_dir(enum zap_role role)
{
    return role == ZAP_ROLE_AGENT ? ZAP_AGENTS_DIR : ZAP_SUBMITTERS_DIR;
}

static const char *zap_role_prefix(enum zap_role role)
{
    return role == ZAP_ROLE_AGENT ? "agent:" : "submitter:";
}

static void zap_user_id(const struct zap_entry *e, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s", zap_role_prefix(e->role), e->name);
}

enum zap_role zap_user_role(const char *user_id)
{
    if (user_id == NULL)
        return ZAP_ROLE_NONE;
    if (strncmp(user_id, "agent:", 6) == 0 && curve_name_valid(user_id + 6))
        return ZAP_ROLE_AGENT;
    if (strncmp(user_id, "submitter:", 10) == 0 && curve_name_valid(user_id + 10))
        return ZAP_ROLE_SUBMITTER;
    return ZAP_ROLE_NONE;
}

bool zap_role_allows(const char *user_id, enum zap_role needed)
{
    return needed != ZAP_ROLE_NONE && zap_user_role(user_id) == needed;
}

/* ---- folders ---- */

/*
 * Whoever can write to an allowlist folder can let themselves in: it must
 * belong to us or to root and not be writable by group or others.
 */
static bool zap_dir_safe(const struct stat *st)
{
    return (st->st_mode & 022) == 0 && (st->st_uid == geteuid() || st->st_uid == 0);
}

/* Mix one directory entry into an order-independent signature. */
static uint64_t zap_entry_hash(enum zap_role role, const char *name, const struct stat *st)
{
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)name;
    h = (h ^ (uint64_t)role) * 1099511628211ull;
    for (; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    uint64_t parts[] = {(uint64_t)st->st_ino,         (uint64_t)st->st_size,
                        (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec,
                        (uint64_t)st->st_ctim.tv_sec, (uint64_t)st->st_ctim.tv_nsec,
                        (uint64_t)st->st_mode};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        h = (h ^ parts[i]) * 1099511628211ull;
    return h;
}

/*
 * The key file name (st: its lstat) of role's folder dir as an allowlist entry into *e:
 * false (logged when it looks meant as a key) for a secret key, a file that is no NAME.key,
 * a bad name, a symbolic link, an unreadable key or a "host =" / "labels =" line the role
 * may not have or that is not valid.
 */
static bool zap_read_key(const char *dir, const char *name, const struct stat *st,
                         enum zap_role role, struct zap_entry *e)
{
    size_t len = strlen(name), slen = strlen(CURVE_PUBLIC_SUFFIX);
    bool is_secret = len > strlen(CURVE_SECRET_SUFFIX) &&
                     strcmp(name + len - strlen(CURVE_SECRET_SUFFIX), CURVE_SECRET_SUFFIX) == 0;
    if (is_secret) {
        log_warn("zap: secret key file \"%s/%s\" in the allowlist folder: not read; move it "
                 "away, only NAME%s belongs here",
                 dir, name, CURVE_PUBLIC_SUFFIX);
        return false;
    }
    if (len <= slen || strcmp(name + len - slen, CURVE_PUBLIC_SUFFIX) != 0)
        return false; /* README, editor backups: not keys */
    char keyname[CURVE_NAME_MAX + 2];
    if (len - slen > CURVE_NAME_MAX) {
        log_warn("zap: key file \"%s/%s\" skipped: name too long", dir, name);
        return false;
    }
    memcpy(keyname, name, len - slen);
    keyname[len - slen] = '\0';
    if (!curve_name_valid(keyname)) {
        log_warn("zap: key file \"%s/%s\" skipped: invalid key name", dir, name);
        return false;
    }
    if (S_ISLNK(st->st_mode)) {
        log_warn("zap: key file \"%s/%s\" skipped: symbolic links are not followed", dir, name);
        return false;
    }
    char path_err[512];
    char *path = xasprintf("%s/%s", dir, name);
    *e = (struct zap_entry){.role = role};
    int lrc = curve_load_public_attr(path, e->key, "host", e->host, sizeof(e->host), path_err,
                                     sizeof(path_err));
    free(path);
    if (lrc < 0) {
        log_warn("zap: %s: skipped", path_err);
        return false;
    }
    char raw_labels[ZAP_LABELS_MAX];
    path = xasprintf("%s/%s", dir, name);
    lrc = curve_load_public_attr(path, e->key, "labels", raw_labels, sizeof(raw_labels), path_err,
                                 sizeof(path_err));
    free(path);
    if (lrc < 0) {
        log_warn("zap: %s: skipped", path_err);
        return false;
    }
    e->labels_pinned = lrc == 1;
    if (e->labels_pinned) {
        const char *why = role != ZAP_ROLE_AGENT
                              ? "only agent keys take a \"labels =\" line"
                              : zap_labels_normalize(raw_labels, e->labels, sizeof(e->labels));
        if (why) {
            log_warn("zap: key file \"%s/%s\" skipped: %s", dir, name, why);
            return false;
        }
    }
    if (e->host[0] != '\0' && (role != ZAP_ROLE_AGENT || !curve_name_valid(e->host))) {
        log_warn("zap: key file \"%s/%s\" skipped: %s", dir, name,
                 role != ZAP_ROLE_AGENT ? "only agent keys take a \"host =\" line"
                                        : "its \"host =\" is not a valid host name (1-64 "
                                          "of A-Z a-z 0-9 . _ -)");
        return false;
    }
    memcpy(e->name, keyname, strlen(keyname) + 1);
    if (e->host[0] == '\0' && role == ZAP_ROLE_AGENT)
        memcpy(e->host, keyname, strlen(keyname) + 1); /* one agent, one host: its own name */
    return true;
}

/*
 * Scan one role folder: add its signature to *sig and, when list is not
 * NULL, its valid keys to list (logging what it skips). A missing folder is
 * empty. Returns 0, or -PYSCOPE_EUSAGE when the folder is refused (writable
 * by group/others) with err set.
 */
static int zap_scan_role(const char *keys_dir, enum zap_role role, uint64_t *sig,
                         struct zap_list *list, char *err, size_t errlen)
{
    char *dir = xasprintf("%s/%s", keys_dir, zap_role_dir(role));
    int rc = 0;
    struct stat dst;
    DIR *d = NULL;
    if (lstat(dir, &dst) < 0) {
        *sig += zap_entry_hash(role, "", &(struct stat){0});
        goto out;
    }
    *sig += zap_entry_hash(role, ".", &dst);
    if (!S_ISDIR(dst.st_mode)) {
        pyscope_set_err(err, errlen,
                        "key folder \"%s\" is not a folder (symbolic links are not followed): "
                        "refusing it",
                        dir);
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    if (!zap_dir_safe(&dst)) {
        pyscope_set_err(err, errlen,
                        "key folder \"%s\" is writable by group or others or owned by another "
                        "user: refusing its keys; fix with: chmod 755 \"%s\"",
                        dir, dir);
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    d = opendir(dir);
    if (d == NULL) {
        if (list != NULL)
            log_warn("zap: could not read key folder \"%s\": %s", dir, strerror(errno));
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.')
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        *sig += zap_entry_hash(role, name, &st);
        if (list == NULL)
            continue;
        struct zap_entry e;
        if (!zap_read_key(dir, name, &st, role, &e))
            continue;
        list->v = xreallocarray(list->v, list->n + 1, sizeof(*list->v));
        list->v[list->n++] = e;
    }
out:
    if (d != NULL)
        closedir(d);
    free(dir);
    return rc;
}

/* Remove every key listed more than once (it would have two identities). */
static void zap_list_dedupe(struct zap_list *list)
{
    bool *dup = xcalloc(list->n ? list->n : 1, sizeof(bool));
    for (size_t i = 0; i < list->n; i++)
        for (size_t j = i + 1; j < list->n; j++)
            if (strcmp(list->v[i].key, list->v[j].key) == 0) {
                if (!dup[i] || !dup[j]) {
                    char abbrev[16];
                    curve_public_abbrev(list->v[i].key, abbrev, sizeof(abbrev));
                    log_warn("zap: key %s is listed as both %s%s and %s%s: refusing both; keep "
                             "one file",
                             abbrev, zap_role_prefix(list->v[i].role), list->v[i].name,
                             zap_role_prefix(list->v[j].role), list->v[j].name);
                }
                dup[i] = dup[j] = true;
            }
    size_t k = 0;
    for (size_t i = 0; i < list->n; i++)
        if (!dup[i])
            list->v[k++] = list->v[i];
    list->n = k;
    free(dup);
}

/*
 * Signature of the keys folder, and when list is not NULL its allowlist.
 * Returns 0, or a negative code (keys folder missing or refused) with err.
 */
static int zap_scan(const char *keys_dir, uint64_t *sig, struct zap_list *list, char *err,
                    size_t errlen)
{
    struct stat st;
    *sig = 0;
    if (stat(keys_dir, &st) < 0) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not open keys folder \"%s\": %s", keys_dir,
                        strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode)) {
        pyscope_set_err(err, errlen, "keys folder \"%s\" is not a folder", keys_dir);
        return -ENOTDIR;
    }
    if (!zap_dir_safe(&st)) {
        pyscope_set_err(err, errlen,
                        "keys folder \"%s\" is writable by group or others or owned by another "
                        "user: refusing it; fix with: chmod 755 \"%s\"",
                        keys_dir, keys_dir);
        return -PYSCOPE_EUSAGE;
    }
    int rc = zap_scan_role(keys_dir, ZAP_ROLE_AGENT, sig, list, err, errlen);
    if (rc == 0)
        rc = zap_scan_role(keys_dir, ZAP_ROLE_SUBMITTER, sig, list, err, errlen);
    if (rc == 0 && list != NULL)
        zap_list_dedupe(list);
    return rc;
}

static const struct zap_entry *zap_list_find_key(const struct zap_list *list, const char *key)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->v[i].key, key) == 0)
            return &list->v[i];
    return NULL;
}

static bool zap_list_has(const struct zap_list *list, const struct zap_entry *e)
{
    for (size_t i = 0; i < list->n; i++)
        if (list->v[i].role == e->role && strcmp(list->v[i].name, e->name) == 0 &&
            strcmp(list->v[i].key, e->key) == 0 && strcmp(list->v[i].host, e->host) == 0 &&
            list->v[i].labels_pinned == e->labels_pinned &&
            strcmp(list->v[i].labels, e->labels) == 0)
            return true;
    return false;
}

/* Install list (steals its array) as z's allowlist; z->mu held. Returns 1 if it changed. */
static int zap_install_locked(struct zap *z, struct zap_list *list, uint64_t sig)
{
    bool changed = list->n != z->list.n;
    for (size_t i = 0; i < list->n && !changed; i++)
        changed = !zap_list_has(&z->list, &list->v[i]);
    z->signature = sig;
    if (!changed && z->loaded) {
        free(list->v);
        return 0;
    }
    uint64_t gen = ++z->stats.generation;
    for (size_t i = 0; i < z->list.n; i++) {
        if (zap_list_has(list, &z->list.v[i]))
            continue;
        struct zap_revoked *r = &z->revoked[z->revoked_next];
        if (z->revoked_total >= ZAP_REVOKED_MAX)
            z->revoked_floor = r->generation;
        r->generation = gen;
        zap_user_id(&z->list.v[i], r->user_id, sizeof(r->user_id));
        z->revoked_next = (z->revoked_next + 1) % ZAP_REVOKED_MAX;
        z->revoked_total++;
    }
    free(z->list.v);
    z->list = *list;
    z->loaded = true;
    z->stats.reloads++;
    z->stats.agents = z->stats.submitters = 0;
    for (size_t i = 0; i < z->list.n; i++) {
        if (z->list.v[i].role == ZAP_ROLE_AGENT)
            z->stats.agents++;
        else
            z->stats.submitters++;
    }
    return 1;
}

/* Reload when the folders changed (force: always). Returns 1 changed, 0 not, or < 0. */
static int zap_refresh(struct zap *z, bool force)
{
    char err[512] = "";
    uint64_t sig = 0;
    int rc = zap_scan(z->keys_dir, &sig, NULL, err, sizeof(err));
    pthread_mutex_lock(&z->mu);
    bool same = z->loaded && rc == 0 && sig == z->signature;
    pthread_mutex_unlock(&z->mu);
    if (same && !force)
        return 0;
    struct zap_list list = {0};
    if (rc == 0)
        rc = zap_scan(z->keys_dir, &sig, &list, err, sizeof(err));
    if (rc < 0) {
        /* Fail closed: nothing is allowed until the folder is fixed. */
        free(list.v);
        list = (struct zap_list){0};
        pthread_mutex_lock(&z->mu);
        bool was_ok = z->signature != UINT64_MAX;
        zap_install_locked(z, &list, UINT64_MAX);
        pthread_mutex_unlock(&z->mu);
        if (was_ok)
            log_error("zap: %s; no key is allowed until it is fixed", err);
        return rc;
    }
    pthread_mutex_lock(&z->mu);
    int changed = zap_install_locked(z, &list, sig);
    size_t agents = z->stats.agents, submitters = z->stats.submitters;
    uint64_t gen = z->stats.generation;
    pthread_mutex_unlock(&z->mu);
    if (changed)
        log_info("zap: allowlist \"%s\" loaded (generation %llu): %zu agent, %zu submitter keys",
                 z->keys_dir, (unsigned long long)gen, agents, submitters);
    return changed;
}

int zap_reload(struct zap *z)
{
    return zap_refresh(z, true);
}

/* ---- the handler ---- */

/* A received request: up to ZAP_MAX_FRAMES frames, each truncated to ZAP_MAX_FRAME. */
struct zap_request {
    size_t n;      /* frames kept */
    bool too_many; /* more frames than ZAP_MAX_FRAMES */
    bool too_big;  /* a frame over ZAP_MAX_FRAME */
    size_t len[ZAP_MAX_FRAMES];
    unsigned char data[ZAP_MAX_FRAMES][ZAP_MAX_FRAME];
};

static int zap_recv_request(void *sock, struct zap_request *r)
{
    memset(r, 0, sizeof(*r));
    int more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, r->n == 0 && !r->too_many ? ZMQ_DONTWAIT : 0) < 0) {
            int e = errno;
            zmq_msg_close(&m);
            return -e;
        }
        more = zmq_msg_more(&m);
        size_t len = zmq_msg_size(&m);
        if (r->n >= ZAP_MAX_FRAMES) {
            r->too_many = true;
        } else if (len > ZAP_MAX_FRAME) {
            r->too_big = true;
            r->n++;
        } else {
            memcpy(r->data[r->n], zmq_msg_data(&m), len);
            r->len[r->n++] = len;
        }
        zmq_msg_close(&m);
    }
    return 0;
}

static bool zap_frame_is(const struct zap_request *r, size_t i, const char *s)
{
    return i < r->n && r->len[i] == strlen(s) && memcmp(r->data[i], s, r->len[i]) == 0;
}

/* Send one ZAP reply (RFC 27): version, request id, status, text, user id, metadata. */
static void zap_send_reply(void *sock, const struct zap_request *r, const char *status,
                           const char *text, const char *user_id, const char *key)
{
    unsigned char meta[64];
    size_t meta_len = 0;
    if (key != NULL) {
        size_t nlen = strlen(ZAP_KEY_PROPERTY), vlen = strlen(key);
        meta[meta_len++] = (unsigned char)nlen;
        memcpy(meta + meta_len, ZAP_KEY_PROPERTY, nlen);
        meta_len += nlen;
        meta[meta_len++] = 0;
        meta[meta_len++] = 0;
        meta[meta_len++] = 0;
        meta[meta_len++] = (unsigned char)vlen;
        memcpy(meta + meta_len, key, vlen);
        meta_len += vlen;
    }
    size_t id_len = r->n > 1 ? r->len[1] : 0;
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, r->n > 1 ? r->data[1] : (const unsigned char *)"", id_len, ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(sock, meta, meta_len, 0);
}

/* Copy the printable part of frame i (an address) into out, for logs. */
static void zap_frame_text(const struct zap_request *r, size_t i, char *out, size_t outlen)
{
    size_t k = 0;
    for (size_t j = 0; i < r->n && j < r->len[i] && k + 1 < outlen && k < 64; j++) {
        unsigned char c = r->data[i][j];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[k] = '\0';
    if (k == 0)
        snprintf(out, outlen, "unknown address");
}

/* Log a refusal unless the rate limit says otherwise (thread only). */
static void zap_warn_refusal(struct zap *z, const char *what, const char *detail,
                             const char *address)
{
    uint64_t now = zap_now_ms();
    if (now - z->warn_window_start >= ZAP_WARN_WINDOW_MS) {
        if (z->warn_suppressed > 0)
            log_warn("zap: %llu more refusals not logged in the last %d s (see the counters)",
                     (unsigned long long)z->warn_suppressed, ZAP_WARN_WINDOW_MS / 1000);
        z->warn_window_start = now;
        z->warn_count = 0;
        z->warn_suppressed = 0;
    }
    if (z->warn_count >= ZAP_WARN_BURST) {
        z->warn_suppressed++;
        return;
    }
    z->warn_count++;
    log_warn("zap: refused %s%s from %s", what, detail, address);
}

/* The public key (Z85) of the start-up self-test's client while it runs (zap_selftest()):
 * its refusal is the test passing, said by the self-test, not an intruder's to warn of. */
static pthread_mutex_t selftest_mu = PTHREAD_MUTEX_INITIALIZER;
static char selftest_key[CURVE_Z85_LEN + 1];

static void selftest_key_set(const char *z85)
{
    pthread_mutex_lock(&selftest_mu);
    snprintf(selftest_key, sizeof(selftest_key), "%s", z85 ? z85 : "");
    pthread_mutex_unlock(&selftest_mu);
}

static bool selftest_key_is(const char *z85)
{
    pthread_mutex_lock(&selftest_mu);
    bool is = selftest_key[0] != '\0' && strcmp(selftest_key, z85) == 0;
    pthread_mutex_unlock(&selftest_mu);
    return is;
}

static void zap_handle(struct zap *z, const struct zap_request *r)
{
    char address[80];
    zap_frame_text(r, 3, address, sizeof(address));
    /* version, request id, domain, address, identity, mechanism, credentials... */
    bool curve = zap_frame_is(r, 5, "CURVE");
    if (r->too_many || r->too_big || r->n < 6 || !zap_frame_is(r, 0, "1.0") ||
        (curve && (r->n != 7 || r->len[6] != 32))) {
        pthread_mutex_lock(&z->mu);
        z->stats.refused_malformed++;
        pthread_mutex_unlock(&z->mu);
        zap_warn_refusal(z, "a malformed ZAP request", "", address);
        zap_send_reply(z->sock, r, "400", "malformed request", "", NULL);
        return;
    }
    if (!zap_frame_is(r, 2, CURVE_ZAP_DOMAIN)) {
        pthread_mutex_lock(&z->mu);
        z->stats.refused_domain++;
        pthread_mutex_unlock(&z->mu);
        zap_warn_refusal(z, "a handshake for another ZAP domain", "", address);
        zap_send_reply(z->sock, r, "400", "unknown domain", "", NULL);
        return;
    }
    if (!curve) {
        pthread_mutex_lock(&z->mu);
        z->stats.refused_mechanism++;
        pthread_mutex_unlock(&z->mu);
        char mech[40];
        zap_frame_text(r, 5, mech, sizeof(mech));
        char detail[sizeof(mech) + 32];
        snprintf(detail, sizeof(detail), " (mechanism %s, CURVE required)", mech);
        zap_warn_refusal(z, "a handshake", detail, address);
        zap_send_reply(z->sock, r, "400", "CURVE required", "", NULL);
        return;
    }
    char key[CURVE_Z85_LEN + 1];
    zmq_z85_encode(key, r->data[6], 32);
    char user_id[ZAP_USER_ID_MAX] = "";
    pthread_mutex_lock(&z->mu);
    const struct zap_entry *e = zap_list_find_key(&z->list, key);
    if (e != NULL) {
        zap_user_id(e, user_id, sizeof(user_id));
        z->stats.allowed++;
    } else {
        z->stats.refused_unknown++;
    }
    pthread_mutex_unlock(&z->mu);
    char abbrev[16];
    curve_public_abbrev(key, abbrev, sizeof(abbrev));
    if (user_id[0] != '\0') {
        log_debug("zap: allowed %s (key %s) from %s", user_id, abbrev, address);
        zap_send_reply(z->sock, r, "200", "OK", user_id, key);
    } else {
        char detail[40];
        snprintf(detail, sizeof(detail), " %s", abbrev);
        if (selftest_key_is(key))
            log_debug("zap: refused the start-up self-test's unknown key %s from %s, as it must",
                      abbrev, address);
        else
            zap_warn_refusal(z, "unknown CURVE key", detail, address);
        zap_send_reply(z->sock, r, "400", "unknown key", "", NULL);
    }
}

static void *zap_thread(void *arg)
{
    struct zap *z = arg;
    uint64_t next_scan = zap_now_ms() + ZAP_RESCAN_MS;
    struct zap_request *req = xmalloc(sizeof(*req));
    for (;;) {
        uint64_t now = zap_now_ms();
        long timeout = next_scan > now ? (long)(next_scan - now) : 0;
        zmq_pollitem_t items[2] = {{.socket = z->sock, .events = ZMQ_POLLIN},
                                   {.fd = z->stop_fd, .events = ZMQ_POLLIN}};
        int n = zmq_poll(items, 2, timeout);
        if (n < 0 && errno != EINTR)
            break; /* ETERM: the context is going away */
        if (n > 0 && (items[1].revents & ZMQ_POLLIN))
            break;
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) {
            while (zap_recv_request(z->sock, req) == 0)
                zap_handle(z, req);
        }
        if (zap_now_ms() >= next_scan) {
            zap_refresh(z, false);
            next_scan = zap_now_ms() + ZAP_RESCAN_MS;
        }
    }
    free(req);
    return NULL;
}

struct zap *zap_start(void *zctx, const char *keys_dir, char *err, size_t errlen)
{
    struct zap *z = xcalloc(1, sizeof(*z));
    z->keys_dir = xstrdup(keys_dir);
    z->stop_fd = -1;
    z->revoked = xcalloc(ZAP_REVOKED_MAX, sizeof(*z->revoked));
    pthread_mutex_init(&z->mu, NULL);
    uint64_t sig = 0;
    struct zap_list list = {0};
    int rc = zap_scan(keys_dir, &sig, &list, err, errlen);
    if (rc < 0)
        goto fail;
    zap_install_locked(z, &list, sig);
    z->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (z->stop_fd < 0) {
        pyscope_set_err(err, errlen, "could not create an eventfd: %s", strerror(errno));
        goto fail;
    }
    z->sock = zmq_socket(zctx, ZMQ_REP);
    int zero = 0;
    if (z->sock == NULL || zmq_setsockopt(z->sock, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
        zmq_bind(z->sock, ZAP_ENDPOINT) < 0) {
        pyscope_set_err(err, errlen, "could not bind the ZAP handler to \"%s\": %s", ZAP_ENDPOINT,
                        zmq_strerror(errno));
        goto fail;
    }
    size_t agents = z->stats.agents, submitters = z->stats.submitters;
    rc = pthread_create(&z->thread, NULL, zap_thread, z);
    if (rc != 0) {
        pyscope_set_err(err, errlen, "could not start the ZAP handler thread: %s", strerror(rc));
        goto fail;
    }
    log_info("zap: handler up on \"%s\": %zu agent, %zu submitter keys from \"%s\"", ZAP_ENDPOINT,
             agents, submitters, keys_dir);
    return z;
fail:
    if (z->sock != NULL)
        zmq_close(z->sock);
    if (z->stop_fd >= 0)
        close(z->stop_fd);
    free(z->list.v);
    pthread_mutex_destroy(&z->mu);
    free(z->revoked);
    free(z->keys_dir);
    free(z);
    return NULL;
}

void zap_stop(struct zap **zp)
{
    if (zp == NULL || *zp == NULL)
        return;
    struct zap *z = *zp;
    uint64_t one = 1;
    if (write(z->stop_fd, &one, sizeof(one)) < 0)
        log_warn("zap: could not signal the handler thread: %s", strerror(errno));
    pthread_join(z->thread, NULL);
    zmq_close(z->sock);
    close(z->stop_fd);
    free(z->list.v);
    pthread_mutex_destroy(&z->mu);
    free(z->revoked);
    free(z->keys_dir);
    free(z);
    *zp = NULL;
}

void zap_get_stats(struct zap *z, struct zap_stats *out)
{
    pthread_mutex_lock(&z->mu);
    *out = z->stats;
    pthread_mutex_unlock(&z->mu);
}

uint64_t zap_generation(struct zap *z)
{
    pthread_mutex_lock(&z->mu);
    uint64_t g = z->stats.generation;
    pthread_mutex_unlock(&z->mu);
    return g;
}

bool zap_peer_allowed(struct zap *z, const char *user_id, const char *key_z85)
{
    enum zap_role role = zap_user_role(user_id);
    if (role == ZAP_ROLE_NONE)
        return false;
    const char *name = strchr(user_id, ':') + 1;
    bool ok = false;
    pthread_mutex_lock(&z->mu);
    for (size_t i = 0; i < z->list.n && !ok; i++) {
        const struct zap_entry *e = &z->list.v[i];
        ok = e->role == role && strcmp(e->name, name) == 0 &&
             (key_z85 == NULL || strcmp(e->key, key_z85) == 0);
    }
    pthread_mutex_unlock(&z->mu);
    return ok;
}

const char *zap_labels_normalize(const char *in, char *out, size_t outlen)
{
    size_t k = 0, n = 0;
    const char *keys[32];
    size_t key_lens[32];
    out[0] = '\0';
    for (const char *p = in; *p;) {
        size_t len = strcspn(p, ",");
        const char *a = p, *b = p + len;
        p = *b ? b + 1 : b;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a == b)
            continue; /* "a=1, ,b=2" or a trailing comma */
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if (eq == NULL)
            return "its \"labels =\" line needs KEY=VALUE pairs separated by commas";
        size_t kl = (size_t)(eq - a), vl = (size_t)(b - eq - 1);
        if (kl == 0 || kl > 64)
            return "a label key in its \"labels =\" line is empty or longer than 64 characters";
        for (size_t i = 0; i < kl; i++) {
            char c = a[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-'))
                return "a label key in its \"labels =\" line is not [A-Za-z0-9_.-]";
        }
        if (vl > 256)
            return "a label value in its \"labels =\" line is longer than 256 bytes";
        for (size_t i = 0; i < vl; i++)
            if ((unsigned char)eq[1 + i] < 0x20 || eq[1 + i] == 0x7f)
                return "a label value in its \"labels =\" line holds a control character";
        if (n == 32)
            return "its \"labels =\" line has more than 32 labels";
        for (size_t i = 0; i < n; i++)
            if (key_lens[i] == kl && memcmp(keys[i], a, kl) == 0)
                return "its \"labels =\" line sets a label twice";
        keys[n] = a;
        key_lens[n++] = kl;
        if (k + (size_t)(b - a) + 2 > outlen)
            return "its \"labels =\" line is too long";
        if (k)
            out[k++] = ',';
        memcpy(out + k, a, (size_t)(b - a));
        k += (size_t)(b - a);
        out[k] = '\0';
    }
    return NULL;
}

size_t zap_labels_split(char *labels, const char **keys, const char **values, size_t max)
{
    size_t n = 0;
    for (char *p = labels; *p && n < max;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *eq = strchr(p, '=');
        if (eq) {
            *eq = '\0';
            keys[n] = p;
            values[n++] = eq + 1;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return n;
}

/* The allowlist entry of the agent user_id ("agent:NAME") with key_z85, or NULL
 * (another role, no key, not listed). The caller holds z->mu. */
static const struct zap_entry *agent_entry(const struct zap *z, const char *user_id,
                                           const char *key_z85)
{
    if (zap_user_role(user_id) != ZAP_ROLE_AGENT || key_z85 == NULL)
        return NULL;
    const char *name = user_id + strlen("agent:");
    for (size_t i = 0; i < z->list.n; i++) {
        const struct zap_entry *e = &z->list.v[i];
        if (e->role == ZAP_ROLE_AGENT && strcmp(e->name, name) == 0 && strcmp(e->key, key_z85) == 0)
            return e;
    }
    return NULL;
}

bool zap_peer_labels(struct zap *z, const char *user_id, const char *key_z85, char *labels,
                     size_t len)
{
    pthread_mutex_lock(&z->mu);
    const struct zap_entry *e = agent_entry(z, user_id, key_z85);
    bool pinned = e && e->labels_pinned;
    if (pinned)
        snprintf(labels, len, "%s", e->labels);
    pthread_mutex_unlock(&z->mu);
    return pinned;
}

bool zap_peer_host(struct zap *z, const char *user_id, const char *key_z85, char *host,
                   size_t hostlen)
{
    pthread_mutex_lock(&z->mu);
    const struct zap_entry *e = agent_entry(z, user_id, key_z85);
    if (e)
        snprintf(host, hostlen, "%s", e->host);
    pthread_mutex_unlock(&z->mu);
    return e != NULL;
}

bool zap_msg_allowed(struct zap *z, const zmq_msg_t *msg, enum zap_role needed)
{
    const char *user_id = zmq_msg_gets(msg, "User-Id");
    const char *key = zmq_msg_gets(msg, ZAP_KEY_PROPERTY);
    if (user_id == NULL || key == NULL || !zap_role_allows(user_id, needed))
        return false;
    return zap_peer_allowed(z, user_id, key);
}

int zap_revoked_since(struct zap *z, uint64_t since, uint64_t *now, char ***user_ids, size_t *n)
{
    *user_ids = NULL;
    *n = 0;
    pthread_mutex_lock(&z->mu);
    *now = z->stats.generation;
    size_t kept = z->revoked_total < ZAP_REVOKED_MAX ? (size_t)z->revoked_total : ZAP_REVOKED_MAX;
    size_t start = (z->revoked_next + ZAP_REVOKED_MAX - kept) % ZAP_REVOKED_MAX;
    for (size_t i = 0; i < kept; i++) {
        const struct zap_revoked *r = &z->revoked[(start + i) % ZAP_REVOKED_MAX];
        if (r->generation <= since)
            continue;
        *user_ids = xreallocarray(*user_ids, *n + 1, sizeof(char *));
        (*user_ids)[(*n)++] = xstrdup(r->user_id);
    }
    int rc = since < z->revoked_floor ? -ERANGE : 0;
    pthread_mutex_unlock(&z->mu);
    return rc;
}

void zap_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- start-up self-test ---- */

int zap_selftest_endpoint(void *zsock, char *out, size_t outlen)
{
    char ep[256];
    size_t len = sizeof(ep);
    if (zmq_getsockopt(zsock, ZMQ_LAST_ENDPOINT, ep, &len) < 0)
        return -errno;
    ep[sizeof(ep) - 1] = '\0';
    static const struct {
        const char *wild, *local;
    } subst[] = {{"tcp://0.0.0.0:", "tcp://127.0.0.1:"},
                 {"tcp://*:", "tcp://127.0.0.1:"},
                 {"tcp://[::]:", "tcp://[::1]:"}};
    for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
        size_t wl = strlen(subst[i].wild);
        if (strncmp(ep, subst[i].wild, wl) == 0) {
            int w = snprintf(out, outlen, "%s%s", subst[i].local, ep + wl);
            return w < 0 || (size_t)w >= outlen ? -ENOSPC : 0;
        }
    }
    int w = snprintf(out, outlen, "%s", ep);
    return w < 0 || (size_t)w >= outlen ? -ENOSPC : 0;
}

/* What the self-test's client saw of its handshake. */
struct selftest_seen {
    bool connected, refused, accepted;
    unsigned refusal_event; /* the ZMQ_EVENT_* of the refusal */
    uint32_t refusal_value; /* and its value */
};

/* Reads the self-test client's events from its monitor mon until its handshake is accepted
 * or refused, or timeout_ms has passed, into *seen. */
static void selftest_watch(void *mon, int timeout_ms, struct selftest_seen *seen)
{
    *seen = (struct selftest_seen){0};
    uint64_t deadline = zap_now_ms() + (uint64_t)timeout_ms;
    while (!seen->refused && !seen->accepted) {
        uint64_t now = zap_now_ms();
        if (now >= deadline)
            break;
        zmq_pollitem_t item = {.socket = mon, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, (long)(deadline - now)) <= 0)
            continue;
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        zmq_msg_init(&addr);
        if (zmq_msg_recv(&ev, mon, 0) >= 0 && zmq_msg_size(&ev) >= 6 && zmq_msg_more(&ev) &&
            zmq_msg_recv(&addr, mon, 0) >= 0) {
            const unsigned char *d = zmq_msg_data(&ev);
            uint16_t event;
            uint32_t value;
            memcpy(&event, d, 2);
            memcpy(&value, d + 2, 4);
            if (event == ZMQ_EVENT_CONNECTED) {
                seen->connected = true;
            } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
                seen->accepted = true;
            } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                       event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                       event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
                       (event == ZMQ_EVENT_DISCONNECTED && seen->connected)) {
                seen->refused = true;
                seen->refusal_event = event;
                seen->refusal_value = value;
            }
        }
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
    }
}

/* The self-test's result from what its client saw: 0 (refused, logged), -EACCES (accepted)
 * or -ETIMEDOUT, with err set. */
static int selftest_verdict(const char *endpoint, int timeout_ms, const struct selftest_seen *seen,
                            char *err, size_t errlen)
{
    if (seen->accepted) {
        pyscope_set_err(err, errlen,
                        "self-test: \"%s\" accepted an unknown CURVE key: no ZAP handler is "
                        "enforcing the allowlist",
                        endpoint);
        return -EACCES;
    }
    if (seen->refused) {
        log_info("zap: self-test passed: \"%s\" refused an unknown key (event 0x%x, %u)", endpoint,
                 seen->refusal_event, (unsigned)seen->refusal_value);
        return 0;
    }
    pyscope_set_err(err, errlen,
                    "self-test: no handshake answer from \"%s\" within %d ms%s: cannot prove "
                    "that unknown keys are refused",
                    endpoint, timeout_ms, seen->connected ? "" : " (never connected)");
    return -ETIMEDOUT;
}

int zap_selftest(void *zctx, const char *endpoint, const char *server_public, int timeout_ms,
                 char *err, size_t errlen)
{
    if (timeout_ms <= 0)
        timeout_ms = ZAP_SELFTEST_TIMEOUT_MS;
    if (!curve_public_valid(server_public)) {
        pyscope_set_err(err, errlen, "self-test: the server public key is malformed");
        return -EINVAL;
    }
    struct curve_keypair stranger;
    if (zmq_curve_keypair(stranger.public_z85, stranger.secret_z85) < 0) {
        pyscope_set_err(err, errlen, "self-test: could not generate a keypair: %s",
                        zmq_strerror(errno));
        return -errno;
    }
    selftest_key_set(stranger.public_z85); /* before the client connects */
    unsigned char nonce[8];
    randombytes_buf(nonce, sizeof(nonce));
    char mon_ep[64];
    snprintf(mon_ep, sizeof(mon_ep), "inproc://pyscope-zap-selftest-%02x%02x%02x%02x%02x%02x",
             nonce[0], nonce[1], nonce[2], nonce[3], nonce[4], nonce[5]);
    int rc = 0, zero = 0;
    void *mon = NULL;
    void *client = zmq_socket(zctx, ZMQ_DEALER);
    if (client == NULL) {
        rc = -errno;
        goto setup_failed;
    }
    zmq_setsockopt(client, ZMQ_LINGER, &zero, sizeof(zero));
    rc = curve_apply_client(client, &stranger, server_public);
    if (rc < 0)
        goto setup_failed;
    if (zmq_socket_monitor(client, mon_ep,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) < 0) {
        rc = -errno;
        goto setup_failed;
    }
    mon = zmq_socket(zctx, ZMQ_PAIR);
    if (mon == NULL || zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
        zmq_connect(mon, mon_ep) < 0 || zmq_connect(client, endpoint) < 0) {
        rc = -errno;
        goto setup_failed;
    }
    struct selftest_seen seen;
    selftest_watch(mon, timeout_ms, &seen);
    rc = selftest_verdict(endpoint, timeout_ms, &seen, err, errlen);
    goto out;
setup_failed:
    pyscope_set_err(err, errlen, "self-test: could not set up a client for \"%s\": %s", endpoint,
                    rc == -EINVAL ? "invalid key" : zmq_strerror(-rc));
out:
    selftest_key_set(NULL);
    curve_keypair_wipe(&stranger);
    if (client != NULL)
        zmq_socket_monitor(client, NULL, 0);
    if (mon != NULL)
        zmq_close(mon);
    if (client != NULL)
        zmq_close(client);
    return rc;
}
