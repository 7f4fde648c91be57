/*
 * transport.h - the coordinator's ZeroMQ ROUTER socket, set up in one place.
 *
 * transport_open() makes the socket every peer talks to: ROUTER_MANDATORY
 * (a send to a gone peer fails instead of vanishing), MAXMSGSIZE 4 MiB (a
 * bigger message drops the connection before it is buffered), no linger,
 * non-blocking sends, and no ROUTER_HANDOVER: a connection that claims a
 * routing id already in use is not given it, so no peer can take another's
 * connection over (agents let ZeroMQ pick their routing ids; the router
 * knows an agent by its CURVE key, coordinator/router.c). Security plugs in through struct
 * transport_security, applied before bind: plain TCP, or CURVE with the
 * server's keys and the enforced ZAP domain (curve_apply_server(); the ZAP
 * handler, coordinator/zap.h, must already run). Each received message carries the
 * User-Id and public key ZAP gave its connection, for the per-message
 * check (zap_peer_allowed()).
 */
#ifndef PYSCOPE_COORD_TRANSPORT_H
#define PYSCOPE_COORD_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "zap.h"

/* Socket security settings, applied by transport_open() before bind. */
struct transport_security {
    /* borrowed server keypair: CURVE server with the enforced ZAP domain
     * CURVE_ZAP_DOMAIN (a ZAP handler must already run: zap_start()); NULL =
     * plain TCP, no auth */
    const struct curve_keypair *curve;
};

/* The largest identity ZeroMQ gives a ROUTER peer. */
#define TRANSPORT_MAX_ID 256

/* One received message: the peer's routing id and the payload (owned). */
struct transport_msg {
    uint8_t id[TRANSPORT_MAX_ID];
    size_t id_len;
    uint8_t *data; /* malloc'ed; NULL when the message had extra frames */
    size_t len;
    size_t frames;                 /* payload frames seen (1 for a well-formed message) */
    char user_id[ZAP_USER_ID_MAX]; /* ZAP User-Id ("role:name"), "" without CURVE */
    char key[CURVE_Z85_LEN + 1];   /* the peer's public key (Z85), "" without CURVE */
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

/*
 * Watch sock's connections: returns a new PAIR socket (caller closes with
 * zmq_close) that receives ZeroMQ monitor events for accepted and dropped
 * connections (a peer that sends over WIRE_MAX_MSG_BYTES is dropped by
 * ZeroMQ itself: this is how the coordinator sees it). NULL with err on failure.
 */
void *transport_monitor_open(void *ctx, void *sock, char *err, size_t errlen);

/* Connection events read by transport_monitor_read(). */
enum transport_event { TRANSPORT_EVENT_OTHER, TRANSPORT_EVENT_ACCEPTED, TRANSPORT_EVENT_DROPPED };

/* Read one event without blocking. Returns the event, or -EAGAIN / -errno. */
int transport_monitor_read(void *mon);

/* Free m's payload. */
void transport_msg_release(struct transport_msg *m);

/*
 * Send buf (borrowed) to the peer with routing id (borrowed), never
 * blocking. Returns 0, -EAGAIN (peer's queue full: dropped), -EHOSTUNREACH
 * (peer gone: dropped) or another -errno.
 */
int transport_send(void *sock, const uint8_t *id, size_t id_len, const void *buf, size_t len);

#endif
