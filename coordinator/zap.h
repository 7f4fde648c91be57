/*
 * zap.h - the coordinator's ZAP handler: which CURVE keys may talk, in which role.
 *
 * ZeroMQ asks a ZAP handler (RFC 27), bound to inproc://zeromq.zap.01 in the
 * same context, about every handshake on a socket with a ZAP domain. This one
 * runs in its own thread and answers from an allowlist of public key files:
 *   KEYS/agents/NAME.key      may act as an agent      -> User-Id "agent:NAME",
 *                             speaking for host NAME, or for HOST when the
 *                             file has a line "host = HOST" (several agent
 *                             keys of one machine may share a host); a line
 *                             "labels = k=v, k=v" pins the host's labels (an
 *                             empty one: none), whatever the Hello says
 *   KEYS/submitters/NAME.key  may submit and query     -> User-Id "submitter:NAME"
 * (files written by curve_keygen(); symlinks, secret files and malformed
 * files are skipped with a warning; a key listed twice is refused in both
 * places, since it would have two identities). It answers 200 only for the
 * domain CURVE_ZAP_DOMAIN, the CURVE mechanism and a listed key, 400 for
 * everything else (NULL, PLAIN, unknown keys, other domains, malformed
 * requests), and counts each refusal. The reply also carries the peer's
 * public key as metadata (ZAP_KEY_PROPERTY), readable with zmq_msg_gets().
 *
 * The folders are re-read without a restart: at most once a second the
 * handler stats them and reloads when a name, size, inode or time changed;
 * zap_reload() forces it (e.g. on SIGHUP).
 *
 * Revocation. ZAP only runs at handshake, so removing a key cannot close a
 * connection that is already up. The coordinator therefore checks every
 * message with zap_msg_allowed() (role and "is this exact key still
 * listed?", a mutex and a short scan) and ignores, without answering, any
 * message that fails; the peer's heartbeats go unanswered, it reconnects and
 * its new handshake is refused. zap_generation() changes on every reload and
 * zap_revoked_since() lists the user ids removed (or whose key changed) since
 * a generation, so the coordinator can forget those peers' state at once.
 *
 * Start-up proof. zap_selftest() connects to the server with a fresh random
 * keypair and succeeds only if that unknown key is refused; the coordinator
 * refuses to serve otherwise (libzmq 4.3.4 lets every CURVE client in when no
 * ZAP handler answers and ZAP_ENFORCE_DOMAIN is off).
 *
 * Logs name public keys abbreviated (8 characters) and never any secret.
 * Thread safety: every zap_* function taking a struct zap may be called from
 * any thread while the handler runs.
 */
#ifndef PYSCOPE_ZAP_H
#define PYSCOPE_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "curve.h"

/* Where libzmq looks for the ZAP handler (RFC 27). */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* ZAP metadata property holding the peer's public key (Z85) on each message. */
#define ZAP_KEY_PROPERTY "X-PyScope-Key"
/* Sub-folders of the keys folder, one per role. */
#define ZAP_AGENTS_DIR     "agents"
#define ZAP_SUBMITTERS_DIR "submitters"
/* Longest User-Id this handler gives, NUL included ("submitter:" + name). */
#define ZAP_USER_ID_MAX (sizeof("submitter:") + CURVE_NAME_MAX)
/* The folders are checked for changes at most this often. */
#define ZAP_RESCAN_MS 1000
/* Longest "labels =" value of an agent key file (normalized "k=v,k=v"). */
#define ZAP_LABELS_MAX 1024
/* How long zap_selftest() waits by default for the refusal, in milliseconds. */
#define ZAP_SELFTEST_TIMEOUT_MS 15000 /* slow hosts, valgrind: the refusal usually comes in ms */

/* What a key may do. */
enum zap_role {
    ZAP_ROLE_NONE = 0,  /* not a User-Id this handler gives */
    ZAP_ROLE_AGENT,     /* an agent: hello, ready, results */
    ZAP_ROLE_SUBMITTER, /* a user or CI job: submit, query */
};

/* Counters, a snapshot (zap_get_stats). */
struct zap_stats {
    uint64_t allowed;           /* handshakes answered 200 */
    uint64_t refused_unknown;   /* CURVE keys not in the allowlist */
    uint64_t refused_mechanism; /* NULL or PLAIN handshakes */
    uint64_t refused_domain;    /* a ZAP domain other than CURVE_ZAP_DOMAIN */
    uint64_t refused_malformed; /* requests that break RFC 27 */
    uint64_t reloads;           /* allowlist loads that changed something */
    uint64_t generation;        /* current allowlist generation */
    size_t agents;              /* agent keys now allowed */
    size_t submitters;          /* submitter keys now allowed */
};

struct zap;

/*
 * Load the allowlist under keys_dir (borrowed; must exist, and it and its
 * role folders must belong to this user or root and not be writable by
 * group or others) and start the handler
 * thread, bound to ZAP_ENDPOINT in zctx (borrowed; must outlive the handler).
 * Missing role folders count as empty. Returns a new handler (caller owns;
 * zap_stop) or NULL with a message in err (errlen bytes, may be 0): folder
 * refused, another handler already bound, thread failure.
 */
struct zap *zap_start(void *zctx, const char *keys_dir, char *err, size_t errlen);

/*
 * Stop the thread, close its socket and free *zp; sets *zp = NULL. NULL-safe.
 * Call before zmq_ctx_term() on the context.
 */
void zap_stop(struct zap **zp);

/*
 * Re-read the folders now. Returns 1 when the allowlist changed (the
 * generation moved), 0 when not, or a negative code when the keys folder
 * itself is gone or refused (then the allowlist becomes empty: fail closed).
 */
int zap_reload(struct zap *z);

/* Fill *out with a snapshot of z's counters. */
void zap_get_stats(struct zap *z, struct zap_stats *out);

/* The current allowlist generation: it changes whenever a key is added, removed or changed. */
uint64_t zap_generation(struct zap *z);

/* The role a User-Id (borrowed, may be NULL) names, or ZAP_ROLE_NONE. Pure string check. */
enum zap_role zap_user_role(const char *user_id);

/* True when user_id (borrowed, may be NULL) names exactly role needed. Pure string check. */
bool zap_role_allows(const char *user_id, enum zap_role needed);

/*
 * True when user_id (borrowed) is in the allowlist now, with the public key
 * key_z85 (borrowed; NULL = any key of that name).
 */
bool zap_peer_allowed(struct zap *z, const char *user_id, const char *key_z85);

/*
 * The host an agent key speaks for: true with it in host (hostlen bytes)
 * when user_id (borrowed, "agent:NAME") with key_z85 (borrowed) is listed
 * now; false otherwise (host untouched). A changed "host =" line counts as
 * a change of the entry: zap_revoked_since() lists its user id.
 */
bool zap_peer_host(struct zap *z, const char *user_id, const char *key_z85, char *host,
                   size_t hostlen);

/*
 * The labels an agent key's file pins ("labels = k=v, k=v"): true with them in
 * labels (len bytes; normalized "k=v,k=v", "" when pinned to none) when
 * user_id with key_z85 is listed now and its file has a "labels =" line;
 * false otherwise (the Hello's labels stand). A changed line counts as a
 * change of the entry, like "host =".
 */
bool zap_peer_labels(struct zap *z, const char *user_id, const char *key_z85, char *labels,
                     size_t len);

/*
 * Split normalized labels (zap_peer_labels(); modified in place) into at most
 * max key/value pairs. Returns how many.
 */
size_t zap_labels_split(char *labels, const char **keys, const char **values, size_t max);

/*
 * Normalize a "labels =" value (borrowed): comma-separated k=v pairs, blanks
 * around them trimmed, keys of [A-Za-z0-9_.-]{1,64}, values of at most 256
 * bytes without control characters or commas, at most 32 pairs, no key twice.
 * Returns NULL with "k=v,k=v" in out (outlen bytes), or why it is refused.
 */
const char *zap_labels_normalize(const char *in, char *out, size_t outlen);

/*
 * The per-message check for the coordinator: true when msg (borrowed; any
 * frame received from a ZAP-authenticated socket) carries a User-Id of role
 * needed whose key (ZAP_KEY_PROPERTY) is still in the allowlist. False for
 * revoked keys, wrong roles and messages without ZAP metadata.
 */
bool zap_msg_allowed(struct zap *z, const zmq_msg_t *msg, enum zap_role needed);

/*
 * User ids revoked (key removed or replaced) after generation since.
 * Sets *now to the current generation (pass it as since next time), and
 * *user_ids to a new array of *n new strings (caller owns: zap_strv_free;
 * NULL when *n is 0). Returns 0, or -ERANGE when older revocations were
 * forgotten (history is bounded): then also re-check every peer with
 * zap_peer_allowed().
 */
int zap_revoked_since(struct zap *z, uint64_t since, uint64_t *now, char ***user_ids, size_t *n);

/* Free an array from zap_revoked_since() (its n strings and itself). NULL-safe. */
void zap_strv_free(char **v, size_t n);

/*
 * Prove that the server at endpoint (borrowed; e.g. from
 * zap_selftest_endpoint()) with public key server_public (borrowed, Z85)
 * refuses an unknown key: connect a DEALER in zctx (borrowed) with a fresh
 * random keypair and watch its handshake for timeout_ms (<= 0: the default).
 * Returns 0 when the handshake was refused, -EACCES when it succeeded (an
 * unknown key got in: do not serve), -ETIMEDOUT when the server never
 * answered, or another -errno; err (errlen bytes, may be 0) says which.
 */
int zap_selftest(void *zctx, const char *endpoint, const char *server_public, int timeout_ms,
                 char *err, size_t errlen);

/*
 * Write into out (outlen bytes) an endpoint a local client can connect to
 * for the bound server socket zsock (borrowed): its ZMQ_LAST_ENDPOINT, with
 * a wildcard address (0.0.0.0, [::], *) replaced by loopback. Returns 0 or
 * -errno (-ENOSPC when out is too small).
 */
int zap_selftest_endpoint(void *zsock, char *out, size_t outlen);

#endif
