/*
 * hash.h - SHA-256 of files and buffers, as lowercase hex.
 *
 * Runs record the SHA-256 of the script they measured, so a regression report
 * can say whether the code changed. libsodium does the hashing; files are
 * streamed, never loaded whole.
 */
#ifndef PYSCOPE_HASH_H
#define PYSCOPE_HASH_H

#include <stddef.h>

/* Length of a SHA-256 hex digest plus its NUL. */
#define HASH_SHA256_HEX_SIZE 65

/*
 * Hash the content of the file at path (borrowed), reading it in chunks.
 * Returns 0 and the 64 lowercase hex digits (NUL terminated) in out_hex
 * (caller's buffer), or -errno (out_hex is then the empty string).
 */
int hash_file_sha256(const char *path, char out_hex[HASH_SHA256_HEX_SIZE]);

/* Hash len bytes at data (borrowed) into out_hex (caller's buffer). */
void hash_sha256_hex(const void *data, size_t len, char out_hex[HASH_SHA256_HEX_SIZE]);

#endif
