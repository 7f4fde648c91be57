/*
 * hash.c - SHA-256 of files and buffers through libsodium.
 */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

/* Read size of one chunk when streaming a file. */
#define HASH_CHUNK 65536

int hash_file_sha256(const char *path, char out_hex[HASH_SHA256_HEX_SIZE])
{
    out_hex[0] = '\0';
    if (sodium_init() < 0)
        return -EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    unsigned char buf[HASH_CHUNK];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int rc = -errno;
            close(fd);
            return rc;
        }
        if (n == 0)
            break;
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
    }
    close(fd);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out_hex, HASH_SHA256_HEX_SIZE, digest, sizeof(digest));
    return 0;
}

void hash_sha256_hex(const void *data, size_t len, char out_hex[HASH_SHA256_HEX_SIZE])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    /* idempotent; SHA-256 needs no randomness or CPU dispatch, so a failure is harmless */
    int started = sodium_init();
    (void)started;
    crypto_hash_sha256(digest, data, (unsigned long long)len);
    sodium_bin2hex(out_hex, HASH_SHA256_HEX_SIZE, digest, sizeof(digest));
}
