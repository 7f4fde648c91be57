/*
 * zap.h - CURVE authentication: the allowlist and the ZAP handler.
 *
 * With CURVE on, libzmq asks a ZAP handler (a REP socket at
 * inproc://zeromq.zap.01 in the same context) about every new connection;
 * this module answers from an allowlist of client public keys, each with a
 * role and a name, and hands libzmq the User-Id "ROLE:NAME" that every
 * message of that connection then carries. A peer's identity and role come
 * from here, never from a field it sent (DESIGN.md §9).
 *
 * Allowlist file: one key a line, "ROLE KEY NAME" (ROLE agent or submitter,
 * KEY the 40-character Z85 public key, NAME [A-Za-z0-9_.-]{1,64});
 * blank lines and lines starting with '#' are ignored.
 */
#ifndef PYSCOPE_COORD_ZAP_H
#define PYSCOPE_COORD_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZAP_DOMAIN "pyscope"

struct zap;

/*
 * Load the allowlist at path (borrowed) and bind the ZAP handler in ctx
 * (borrowed). Returns a new handler (caller owns; zap_destroy()) or NULL
 * with err naming the file and line.
 */
struct zap *zap_new(void *ctx, const char *path, char *err, size_t errlen);
/* Close the handler's socket and free it; NULL-safe; sets *z to NULL. */
void zap_destroy(struct zap **z);
/* The handler's socket, to poll for requests (borrowed). */
void *zap_socket(const struct zap *z);
/* Answer every waiting request without blocking. */
void zap_handle(struct zap *z);
/* Connections allowed and refused so far. */
uint64_t zap_allowed(const struct zap *z);
uint64_t zap_denied(const struct zap *z);

/*
 * Read a Z85 key (40 characters, the file's first line) from path into
 * key (41 bytes with the NUL). A secret key file must not be readable by
 * group or others. Returns 0 or a negative errno with err.
 */
int zap_read_key(const char *path, bool secret, char key[41], char *err, size_t errlen);

#endif
