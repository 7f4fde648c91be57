/*
 * curve.h - CurveZMQ key files and socket set-up (docs/DESIGN.md §10).
 *
 * A keypair lives in two text files side by side, each holding one 40-char
 * Z85 key (ZeroMQ's text form, zmq_z85_encode) after optional '#' comment
 * lines:
 *   NAME.key         the public key, mode 0644: copy it to the coordinator
 *   NAME.key_secret  the secret key, mode 0600: never leaves the host
 * curve_keygen() creates the secret file with O_EXCL|O_NOFOLLOW and mode
 * 0600 from the start (never chmod'ed after writing). Loading refuses a
 * secret file that is a symlink, not a regular file, owned by another user,
 * or readable/writable by group or others (the message names the file and
 * the fix, chmod 600). Secret bytes are wiped (sodium_memzero) from every
 * buffer this module uses; callers wipe their struct curve_keypair with
 * curve_keypair_wipe() when done. No function here logs: errors go into the
 * caller's err buffer and never contain key material.
 *
 * Servers (the coordinator's ROUTER) call curve_apply_server() before bind:
 * CURVE_SERVER, the secret key, ZAP_DOMAIN = CURVE_ZAP_DOMAIN and
 * ZAP_ENFORCE_DOMAIN (libzmq 4.3.4 accepts any CURVE client when no ZAP
 * handler answers unless that option is set). Clients (agent, CLI) call
 * curve_apply_client() before connect.
 */
#ifndef PYSCOPE_CURVE_H
#define PYSCOPE_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

/* Length of a key in Z85 text, without the terminating NUL. */
#define CURVE_Z85_LEN 40
/* Longest key name (the NAME in NAME.key), in bytes. */
#define CURVE_NAME_MAX 64
/* The ZAP domain every PyScope server socket uses; the ZAP handler answers only it. */
#define CURVE_ZAP_DOMAIN "pyscope"
/* Suffixes of the public and the secret key file. */
#define CURVE_PUBLIC_SUFFIX ".key"
#define CURVE_SECRET_SUFFIX ".key_secret"

/*
 * libzmq 4.3.4 declares ZMQ_ZAP_ENFORCE_DOMAIN (93) only under
 * ZMQ_BUILD_DRAFT_API, yet Debian's stable build accepts the option. Without
 * it a CURVE server with no ZAP handler lets every client in.
 */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/* A keypair in Z85 text, NUL terminated. Embed it; wipe it with curve_keypair_wipe(). */
struct curve_keypair {
    char public_z85[CURVE_Z85_LEN + 1]; /* safe to show (abbreviated) and to log */
    char secret_z85[CURVE_Z85_LEN + 1]; /* never logged, printed or sent */
};

/* What curve_name_valid() takes, for messages (the 64 is CURVE_NAME_MAX). */
#define CURVE_NAME_RULE "1 to 64 letters, digits, '.', '_' or '-', not starting with '.'"

/* True when name is a valid key name: 1..CURVE_NAME_MAX of [A-Za-z0-9._-], not starting '.'.
 * An agent's name is one too (agent/agent_config.c): it names its key and its spool. */
bool curve_name_valid(const char *name);

/* True when z85 (borrowed) is exactly CURVE_Z85_LEN characters that decode to a 32-byte key. */
bool curve_public_valid(const char *z85);

/*
 * Create a new keypair NAME.key (0644) and NAME.key_secret (0600) in dir
 * (borrowed; created with mode 0700, parents included, when missing). Refuses
 * an invalid name and never overwrites: an existing file of either name gives
 * -EEXIST. On success *public_out (may be NULL; CURVE_Z85_LEN + 1 bytes)
 * receives the new public key. Returns 0, -PYSCOPE_EUSAGE (bad name) or
 * -errno, with a message in err (errlen bytes, may be 0) on failure.
 */
int curve_keygen(const char *dir, const char *name, char *public_out, char *err, size_t errlen);

/*
 * Load a keypair from path (borrowed): either the secret file itself
 * ("DIR/NAME.key_secret") or its prefix ("DIR/NAME"). The public key is
 * derived from the secret one; when NAME.key exists next to it, it must
 * match. Refuses symlinks, non-regular files, files owned by another user,
 * mode bits for group/others, and malformed content. Returns 0 with *kp
 * filled (caller wipes it), or -PYSCOPE_EUSAGE (refused: permissions,
 * mismatch), -PYSCOPE_EPARSE (malformed) or -errno with a message in err
 * naming the file (never its content); *kp is zeroed on failure.
 */
int curve_load_keypair(const char *path, struct curve_keypair *kp, char *err, size_t errlen);

/*
 * Load a public key from path (borrowed): "DIR/NAME.key", or "DIR/NAME" to
 * which ".key" is added. Refuses symlinks, non-regular files and anything
 * but one valid Z85 key (comment lines aside). Returns 0 with the key in
 * out (CURVE_Z85_LEN + 1 bytes), or -PYSCOPE_EPARSE / -PYSCOPE_EUSAGE /
 * -errno with a message in err.
 */
int curve_load_public(const char *path, char *out, char *err, size_t errlen);

/*
 * Parse text (borrowed, len bytes, the content of a key file): '#' comment
 * lines and blank lines are skipped, exactly one line must hold a valid Z85
 * key (surrounding spaces allowed). Returns 0 with the key in out
 * (CURVE_Z85_LEN + 1 bytes) or -PYSCOPE_EPARSE.
 */
int curve_parse_key_text(const char *text, size_t len, char *out);

/*
 * Attributes. A public key file may also hold "NAME = VALUE" lines (NAME of
 * [a-z_]); every key reader skips them. The coordinator's allowlist reads
 * "host = HOST" from agents/NAME.key (coordinator/zap.h). Find attribute name in
 * text (borrowed, len bytes): 1 with its trimmed value in value (vlen
 * bytes), 0 when absent (value ""), -PYSCOPE_EPARSE when the value does not
 * fit or holds a NUL.
 */
int curve_key_attr(const char *text, size_t len, const char *name, char *value, size_t vlen);

/*
 * curve_load_public() that also reads attribute attr (borrowed) into value
 * (vlen bytes; "" when the file has none). Same negative returns; on success
 * 1 when the file has the attribute (even empty), 0 when not.
 */
int curve_load_public_attr(const char *path, char *out, const char *attr, char *value, size_t vlen,
                           char *err, size_t errlen);

/* Zero kp's secret and public key (sodium_memzero). NULL-safe. */
void curve_keypair_wipe(struct curve_keypair *kp);

/*
 * Copy an abbreviated form of public key z85 (borrowed) into out (at least
 * 12 bytes): its first 8 characters and "...". For logs.
 */
void curve_public_abbrev(const char *z85, char *out, size_t outlen);

/*
 * Make zsock (borrowed, not yet bound) a CURVE server with kp's keys
 * (borrowed) and the enforced ZAP domain CURVE_ZAP_DOMAIN. Returns 0 or
 * -errno (zmq_setsockopt's error). Bind only after this succeeded.
 */
int curve_apply_server(void *zsock, const struct curve_keypair *kp);

/*
 * Make zsock (borrowed, not yet connected) a CURVE client with client's keys
 * (borrowed) that only talks to the server whose public key is
 * server_public_z85 (borrowed). Returns 0, -EINVAL (server key malformed)
 * or -errno from zmq_setsockopt.
 */
int curve_apply_client(void *zsock, const struct curve_keypair *client,
                       const char *server_public_z85);

#endif
