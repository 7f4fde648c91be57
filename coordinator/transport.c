/*
 * transport.c - ROUTER socket set-up, receive and non-blocking send.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "errors.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * Apply sec before bind: the one place socket security is configured
 * (curve_apply_server() also sets and enforces the ZAP domain, without which
 * libzmq 4.3 lets a CURVE client in when no ZAP handler answers). Returns 0
 * or -1 with errno set.
 */
static int transport_secure(void *sock, const struct transport_security *sec)
{
    if (sec == NULL || sec->curve == NULL)
        return 0;
    int rc = curve_apply_server(sock, sec->curve);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}

void *transport_open(void *ctx, const char *endpoint, const struct transport_security *sec,
                     char *err, size_t errlen)
{
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    if (sock == NULL) {
        pyscope_set_err(err, errlen, "could not create a router socket: %s", zmq_strerror(errno));
        return NULL;
    }
    int one = 1, zero = 0;
    int64_t max = WIRE_MAX_MSG_BYTES;
    int hwm = 10000;
    if (zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) < 0 ||
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof(max)) < 0 ||
        zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero)) < 0 ||
        zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof(hwm)) < 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) < 0 ||
        transport_secure(sock, sec) < 0) {
        pyscope_set_err(err, errlen, "could not configure the router socket: %s",
                        zmq_strerror(errno));
        zmq_close(sock);
        return NULL;
    }
    if (zmq_bind(sock, endpoint) < 0) {
        pyscope_set_err(err, errlen, "could not bind \"%s\": %s", endpoint, zmq_strerror(errno));
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

int transport_recv(void *sock, struct transport_msg *m)
{
    memset(m, 0, sizeof(*m));
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(&part);
        return -e;
    }
    /* First frame: the routing id ROUTER prepends. */
    m->id_len = zmq_msg_size(&part) < TRANSPORT_MAX_ID ? zmq_msg_size(&part) : TRANSPORT_MAX_ID;
    memcpy(m->id, zmq_msg_data(&part), m->id_len);
    while (zmq_msg_more(&part)) {
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, 0) < 0) {
            int e = errno;
            zmq_msg_close(&part);
            transport_msg_release(m);
            return -e;
        }
        m->frames++;
        if (m->frames == 1) {
            /* ZAP metadata: read it while the frame is open. */
            const char *uid = zmq_msg_gets(&part, "User-Id");
            const char *key = zmq_msg_gets(&part, ZAP_KEY_PROPERTY);
            snprintf(m->user_id, sizeof(m->user_id), "%s", uid ? uid : "");
            snprintf(m->key, sizeof(m->key), "%s", key ? key : "");
            m->len = zmq_msg_size(&part);
            m->data = xmalloc(m->len ? m->len : 1);
            memcpy(m->data, zmq_msg_data(&part), m->len);
        }
    }
    zmq_msg_close(&part);
    if (m->frames != 1) {
        free(m->data);
        m->data = NULL;
        m->len = 0;
    }
    return 0;
}

void *transport_monitor_open(void *ctx, void *sock, char *err, size_t errlen)
{
    static const char addr[] = "inproc://pyscope-transport-monitor";
    if (zmq_socket_monitor(sock, addr, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) < 0) {
        pyscope_set_err(err, errlen, "could not monitor the router socket: %s",
                        zmq_strerror(errno));
        return NULL;
    }
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    if (mon == NULL || zmq_connect(mon, addr) < 0) {
        pyscope_set_err(err, errlen, "could not connect the socket monitor: %s",
                        zmq_strerror(errno));
        if (mon)
            zmq_close(mon);
        return NULL;
    }
    int zero = 0;
    zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof(zero));
    return mon;
}

int transport_monitor_read(void *mon)
{
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, mon, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(&part);
        return -e;
    }
    uint16_t event = 0;
    if (zmq_msg_size(&part) >= sizeof(event))
        memcpy(&event, zmq_msg_data(&part), sizeof(event));
    /* The second frame names the endpoint: read and drop it. */
    while (zmq_msg_more(&part)) {
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, mon, 0) < 0)
            break;
    }
    zmq_msg_close(&part);
    if (event == ZMQ_EVENT_ACCEPTED)
        return TRANSPORT_EVENT_ACCEPTED;
    if (event == ZMQ_EVENT_DISCONNECTED)
        return TRANSPORT_EVENT_DROPPED;
    return TRANSPORT_EVENT_OTHER;
}

void transport_msg_release(struct transport_msg *m)
{
    free(m->data);
    m->data = NULL;
    m->len = 0;
}

int transport_send(void *sock, const uint8_t *id, size_t id_len, const void *buf, size_t len)
{
    if (zmq_send(sock, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_send(sock, buf, len, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}
