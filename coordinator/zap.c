/*
 * zap.c - allowlist loading and the ZAP (RFC 27) request handler.
 */
#include "zap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "log.h"
#include "xmalloc.h"

#define ZAP_MAX_KEYS 4096

/* One allowed client key. */
struct zap_entry {
    uint8_t key[32];   /* binary public key */
    char user_id[128]; /* "role:name" */
};

struct zap {
    void *sock; /* REP bound at inproc://zeromq.zap.01 */
    struct zap_entry *entries;
    size_t n;
    uint64_t allowed;
    uint64_t denied;
};

static bool valid_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n >= 1 && n <= 64;
}

/* Parse the allowlist into z. Returns 0 or -EINVAL / -errno with err. */
static int zap_load(struct zap *z, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "could not open key allowlist \"%s\": %s", path, strerror(e));
        return -e;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char role[32], key[64], name[96], extra[2];
        const char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        int n = sscanf(p, "%31s %63s %95s %1s", role, key, name, extra);
        const char *why = NULL;
        if (n != 3)
            why = "want \"ROLE KEY NAME\"";
        else if (strcmp(role, "agent") != 0 && strcmp(role, "submitter") != 0)
            why = "role must be agent or submitter";
        else if (strlen(key) != 40)
            why = "key must be 40 z85 characters";
        else if (!valid_name(name))
            why = "name must be [A-Za-z0-9_.-]{1,64}";
        else if (z->n == ZAP_MAX_KEYS)
            why = "too many keys";
        struct zap_entry e;
        if (why == NULL && zmq_z85_decode(e.key, key) == NULL)
            why = "key is not valid z85";
        if (why) {
            snprintf(err, errlen, "key allowlist \"%s\" line %d: %s", path, lineno, why);
            fclose(f);
            return -EINVAL;
        }
        snprintf(e.user_id, sizeof(e.user_id), "%s:%s", role, name);
        z->entries = xreallocarray(z->entries, z->n + 1, sizeof(*z->entries));
        z->entries[z->n++] = e;
    }
    fclose(f);
    if (z->n == 0) {
        snprintf(err, errlen, "key allowlist \"%s\" allows no key", path);
        return -EINVAL;
    }
    return 0;
}

struct zap *zap_new(void *ctx, const char *path, char *err, size_t errlen)
{
    struct zap *z = xcalloc(1, sizeof(*z));
    if (zap_load(z, path, err, errlen) < 0) {
        zap_destroy(&z);
        return NULL;
    }
    z->sock = zmq_socket(ctx, ZMQ_REP);
    int zero = 0;
    if (z->sock == NULL || zmq_setsockopt(z->sock, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
        zmq_bind(z->sock, "inproc://zeromq.zap.01") < 0) {
        snprintf(err, errlen, "could not bind the zap handler: %s", zmq_strerror(errno));
        zap_destroy(&z);
        return NULL;
    }
    return z;
}

void zap_destroy(struct zap **z)
{
    if (z == NULL || *z == NULL)
        return;
    if ((*z)->sock)
        zmq_close((*z)->sock);
    free((*z)->entries);
    free(*z);
    *z = NULL;
}

void *zap_socket(const struct zap *z)
{
    return z->sock;
}

uint64_t zap_allowed(const struct zap *z)
{
    return z->allowed;
}

uint64_t zap_denied(const struct zap *z)
{
    return z->denied;
}

/* Send the reply frames; the last without SNDMORE. */
static void zap_reply(void *sock, const zmq_msg_t *request_id, const char *code, const char *text,
                      const char *user_id)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, zmq_msg_data((zmq_msg_t *)request_id), zmq_msg_size((zmq_msg_t *)request_id),
             ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

void zap_handle(struct zap *z)
{
    for (;;) {
        /* version, request id, domain, address, identity, mechanism, credentials */
        zmq_msg_t f[7];
        int n = 0;
        bool more = true;
        for (int i = 0; i < 7; i++)
            zmq_msg_init(&f[i]);
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            if (zmq_msg_recv(&part, z->sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(&part);
                for (int i = 0; i < 7; i++)
                    zmq_msg_close(&f[i]);
                return; /* nothing waiting (or the context is ending) */
            }
            more = zmq_msg_more(&part);
            if (n < 7)
                zmq_msg_move(&f[n], &part);
            zmq_msg_close(&part);
            n++;
        }
        const char *deny = NULL;
        const struct zap_entry *found = NULL;
        if (n != 7 || zmq_msg_size(&f[0]) != 3 || memcmp(zmq_msg_data(&f[0]), "1.0", 3) != 0)
            deny = "bad zap request";
        else if (zmq_msg_size(&f[2]) != strlen(ZAP_DOMAIN) ||
                 memcmp(zmq_msg_data(&f[2]), ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0)
            deny = "unknown domain";
        else if (zmq_msg_size(&f[5]) != 5 || memcmp(zmq_msg_data(&f[5]), "CURVE", 5) != 0 ||
                 zmq_msg_size(&f[6]) != 32)
            deny = "curve required";
        if (deny == NULL) {
            for (size_t i = 0; i < z->n && !found; i++)
                if (memcmp(z->entries[i].key, zmq_msg_data(&f[6]), 32) == 0)
                    found = &z->entries[i];
            if (found == NULL)
                deny = "unknown key";
        }
        if (found) {
            z->allowed++;
            zap_reply(z->sock, &f[1], "200", "OK", found->user_id);
        } else {
            z->denied++;
            char addr[64] = "";
            if (n >= 4)
                snprintf(addr, sizeof(addr), "%.*s", (int)zmq_msg_size(&f[3]),
                         (const char *)zmq_msg_data(&f[3]));
            log_warn("refused a connection from \"%s\": %s", addr, deny);
            zap_reply(z->sock, &f[1], "400", deny, "");
        }
        for (int i = 0; i < 7; i++)
            zmq_msg_close(&f[i]);
    }
}

int zap_read_key(const char *path, bool secret, char key[41], char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "could not open key file \"%s\": %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    if (secret && fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        snprintf(err, errlen, "secret key file \"%s\" is readable by others: chmod 600 it", path);
        fclose(f);
        return -EPERM;
    }
    char line[128] = "";
    bool got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    uint8_t bin[32];
    if (!got || strlen(line) != 40 || zmq_z85_decode(bin, line) == NULL) {
        snprintf(err, errlen, "key file \"%s\": the first line must be a 40-character z85 key",
                 path);
        return -EINVAL;
    }
    memcpy(key, line, 41);
    return 0;
}
