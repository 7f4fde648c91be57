/*
 * transport.h - the coordinator's ZeroMQ ROUTER socket, set up in one place.
 *
 * transport_open() makes the socket every peer talks to: ROUTER_MANDATORY
 * (a send to a gone peer fails instead of vanishing), MAXMSGSIZE 4 MiB (a
 * bigger message drops the connection before it is buffered), no linger,
 * non-blocking sends. Security plugs in through struct transport_security,
 * applied before bind: today it is empty (plain TCP); CURVE keys and the ZAP
 * domain (DESIGN.md §9, issue 6) are fields to add there.
 */
#ifndef PYSCOPE_COORD_TRANSPORT_H
#define PYSCOPE_COORD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Socket security settings, applied by transport_open() before bind. */
struct transport_security {
    const char *zap_domain; /* borrowed; NULL = no ZAP domain (plain TCP, no auth) */
};

/* The largest identity ZeroMQ gives a ROUTER peer. */
#define TRANSPORT_MAX_ID 256

/* One received message: the peer's routing id and the payload (owned). */
struct transport_msg {
    uint8_t id[TRANSPORT_MAX_ID];
    size_t id_len;
    uint8_t *data; /* malloc'ed; NULL when the message had extra frames */
    size_t len;
    size_t frames; /* payload frames seen (1 for a well-formed message) */
};

/*
 * Create a ROUTER socket in ctx (borrowed) bound to endpoint (borrowed).
 * Returns the socket (caller closes with zmq_close) or NULL with err.
 */
void *transport_open(void *ctx, const char *endpoint, const struct transport_security *sec,
                     char *err, size_t errlen);

/*
 * Receive one message without blocking into *m (release with
 * transport_msg_release()). Returns 0, -EAGAIN when nothing is waiting, or
 * another -errno.
 */
int transport_recv(void *sock, struct transport_msg *m);

/* Free m's payload. */
void transport_msg_release(struct transport_msg *m);

/*
 * Send buf (borrowed) to the peer with routing id (borrowed), never
 * blocking. Returns 0, -EAGAIN (peer's queue full: dropped), -EHOSTUNREACH
 * (peer gone: dropped) or another -errno.
 */
int transport_send(void *sock, const uint8_t *id, size_t id_len, const void *buf, size_t len);

#endif
