/*
 * fuzz_spool.c - libFuzzer target for agent/spool's replay of what is on disk.
 *
 * The input describes a spool folder as an agent finds it after a restart:
 * byte 0 holds flags, the rest is split at FUZZ_SPOOL_SEP into up to
 * FUZZ_SPOOL_MAX entries. Entry i is written as raw file bytes
 * ("<id>.result", header included, as a disk or a person left it), or, when
 * flag bit i is set, stored through spool_put() (a valid file whose payload
 * is the chunk). Flag bit 7 adds a leftover ".tmp-<id>" file, bit 6 files
 * that are not entries and entries that are not regular files (a symlink,
 * a folder, a FIFO: loading one must neither follow nor block). Then the agent's replay runs
 * (agent/agent.c agent_resend_all): open, list, load each, decode it as a wire message, remove it.
 * Invariants: the open removes leftovers; the list names exactly the entries; a stored entry loads
 * back byte for byte; a raw one loads only when its header is right, else it is moved into
 * corrupt/; afterwards the spool is empty and the other files are untouched.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "spool.h"
#include "wire.h"

#define FUZZ_SPOOL_SEP     "\nSPOOL\n"
#define FUZZ_SPOOL_SEP_LEN 7
#define FUZZ_SPOOL_MAX     6
#define FUZZ_SPOOL_HEADER  44 /* magic 8, length 4, sha256 32 */

/* Check that a raw file's bytes carry a valid header for their payload. */
static int fuzz_spool_header_ok(const uint8_t *f, size_t n)
{
    if (n < FUZZ_SPOOL_HEADER || n - FUZZ_SPOOL_HEADER > SPOOL_MAX_PAYLOAD ||
        memcmp(f, "PYSPOOL1", 8) != 0)
        return 0;
    uint32_t l =
        (uint32_t)f[8] | (uint32_t)f[9] << 8 | (uint32_t)f[10] << 16 | (uint32_t)f[11] << 24;
    if ((size_t)l != n - FUZZ_SPOOL_HEADER)
        return 0;
    unsigned char h[32];
    crypto_hash_sha256(h, f + FUZZ_SPOOL_HEADER, l);
    return memcmp(h, f + 12, 32) == 0;
}

/* Number of names in dir (borrowed) starting with prefix. */
static size_t fuzz_spool_count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

int fuzz_spool_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_quiet();
    FUZZ_CHECK(sodium_init() >= 0);
    unsigned flags = data[0];
    data++;
    size--;
    const uint8_t *chunk[FUZZ_SPOOL_MAX];
    size_t len[FUZZ_SPOOL_MAX], n = 0;
    while (n < FUZZ_SPOOL_MAX) {
        const uint8_t *sep =
            n + 1 < FUZZ_SPOOL_MAX ? memmem(data, size, FUZZ_SPOOL_SEP, FUZZ_SPOOL_SEP_LEN) : NULL;
        chunk[n] = data;
        len[n] = sep ? (size_t)(sep - data) : size;
        n++;
        if (!sep)
            break;
        size -= len[n - 1] + FUZZ_SPOOL_SEP_LEN;
        data = sep + FUZZ_SPOOL_SEP_LEN;
    }

    char *dir = fuzz_mkdtemp("spool");
    char ids[FUZZ_SPOOL_MAX][SPOOL_ID_LEN + 1];
    int sealed[FUZZ_SPOOL_MAX];
    struct spool *sp = spool_open(dir, NULL, 0);
    FUZZ_CHECK(sp != NULL);
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "00000000-0000-4000-8000-%012zx", i + 1);
        sealed[i] = ((flags >> i) & 1) && len[i] <= SPOOL_MAX_PAYLOAD;
        if (sealed[i]) {
            FUZZ_CHECK(spool_put(sp, ids[i], chunk[i], len[i]) == 0);
        } else {
            char *path = xasprintf("%s/%s.result", dir, ids[i]);
            fuzz_write_file(path, chunk[i], len[i]);
            free(path);
        }
    }
    spool_destroy(&sp);
    if (flags & 0x80) { /* a write that never finished */
        char *path = xasprintf("%s/.tmp-%s", dir, ids[0]);
        fuzz_write_file(path, chunk[0], len[0]);
        free(path);
    }
    static const char *const others[] = {"notes.txt", "ZZZZZZZZ-0000-4000-8000-000000000001.result",
                                         "00000000-0000-4000-8000-000000000001.result.bak"};
    static const char *const odd[] = {"00000000-0000-4000-8000-0000000000a1",
                                      "00000000-0000-4000-8000-0000000000a2",
                                      "00000000-0000-4000-8000-0000000000a3"};
    size_t n_odd = flags & 0x40 ? 3 : 0;
    if (flags & 0x40) {
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            char *path = xasprintf("%s/%s", dir, others[i]);
            fuzz_write_file(path, "x", 1);
            free(path);
        }
        char *p0 = xasprintf("%s/%s.result", dir, odd[0]);
        char *target = xasprintf("%s/notes.txt", dir);
        FUZZ_CHECK(symlink(target, p0) == 0);
        char *p1 = xasprintf("%s/%s.result", dir, odd[1]);
        FUZZ_CHECK(mkdir(p1, 0700) == 0);
        char *p2 = xasprintf("%s/%s.result", dir, odd[2]);
        FUZZ_CHECK(mkfifo(p2, 0600) == 0);
        free(p0);
        free(target);
        free(p1);
        free(p2);
    }

    /* The replay, as after an agent restart. */
    sp = spool_open(dir, NULL, 0);
    FUZZ_CHECK(sp != NULL);
    FUZZ_CHECK(fuzz_spool_count_prefix(dir, ".tmp-") == 0);
    char **list;
    size_t n_list;
    FUZZ_CHECK(spool_list(sp, &list, &n_list) == 0);
    FUZZ_CHECK(n_list == n + n_odd);
    for (size_t i = 0; i < n_odd; i++) {
        /* not a regular file: set aside, never followed or read */
        FUZZ_CHECK(strcmp(list[n + i], odd[i]) == 0);
        void *payload;
        size_t plen;
        FUZZ_CHECK(spool_load(sp, odd[i], &payload, &plen) == -PYSCOPE_EPARSE);
        char *path = xasprintf("%s/%s.result", dir, odd[i]);
        FUZZ_CHECK(!fuzz_exists(path));
        free(path);
    }
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(strcmp(list[i], ids[i]) == 0);
        void *payload;
        size_t plen;
        int rc = spool_load(sp, list[i], &payload, &plen);
        char *path = xasprintf("%s/%s.result", dir, ids[i]);
        if (sealed[i]) {
            FUZZ_CHECK(rc == 0);
            FUZZ_CHECK(plen == len[i] && (plen == 0 || memcmp(payload, chunk[i], plen) == 0));
        } else if (rc == 0) {
            FUZZ_CHECK(fuzz_spool_header_ok(chunk[i], len[i]));
            FUZZ_CHECK(plen == len[i] - FUZZ_SPOOL_HEADER);
            FUZZ_CHECK(plen == 0 || memcmp(payload, chunk[i] + FUZZ_SPOOL_HEADER, plen) == 0);
        } else {
            FUZZ_CHECK(rc == -PYSCOPE_EPARSE);
            FUZZ_CHECK(payload == NULL);
            FUZZ_CHECK(!fuzz_spool_header_ok(chunk[i], len[i]));
            FUZZ_CHECK(!fuzz_exists(path)); /* moved aside */
        }
        if (rc == 0) {
            /* what agent_resend does with it: decode, and drop what is not a result */
            struct wire_error werr;
            struct wire_msg *m = wire_decode(payload, plen, &werr);
            if (m)
                FUZZ_CHECK(wire_validate(m, NULL) == 0);
            wire_msg_destroy(&m);
            free(payload);
            FUZZ_CHECK(spool_remove(sp, list[i]) == 0);
            FUZZ_CHECK(!fuzz_exists(path));
        }
        free(path);
    }
    spool_free_list(list, n_list);
    FUZZ_CHECK(spool_count(sp) == 0);
    if (flags & 0x40) {
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            char *path = xasprintf("%s/%s", dir, others[i]);
            FUZZ_CHECK(fuzz_exists(path));
            free(path);
        }
    }
    spool_destroy(&sp);
    fuzz_rmtree(dir);
    free(dir);
    return 0;
}

FUZZ_ENTRY(fuzz_spool_one)
