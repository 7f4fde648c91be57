/*
 * stall_peer.c - a peer that talks to the coordinator and never reads its answers.
 *
 *   stall_peer --connect ENDPOINT [--messages N] [--hold SECONDS]
 *
 * Connects a DEALER with the smallest receive queue and buffer it can, sends N
 * (default 200000) one-frame messages that are not valid Envelopes (each earns
 * an Error reply), then holds the connection open for SECONDS (default 30)
 * without reading anything, and exits 0. The coordinator's replies pile up in
 * its send queue for this peer until the queue is full: the fault tests check
 * that it drops them (counter send_again) instead of blocking, and that the
 * other agents still get their acks. Prints "sent N" when the messages are out.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static unsigned long stall_parse(const char *s, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max) {
        fprintf(stderr, "stall_peer: bad number \"%s\" (0..%lu)\n", s, max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL;
    unsigned long n = 200000, hold = 30;
    static const struct option opts[] = {{"connect", required_argument, NULL, 'c'},
                                         {"messages", required_argument, NULL, 'n'},
                                         {"hold", required_argument, NULL, 'H'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            endpoint = optarg;
        else if (c == 'n')
            n = stall_parse(optarg, 100000000ul);
        else if (c == 'H')
            hold = stall_parse(optarg, 3600);
        else
            return 2;
    }
    if (endpoint == NULL) {
        fprintf(stderr, "usage: stall_peer --connect ENDPOINT [--messages N] [--hold SECONDS]\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int one = 1, zero = 0, small = 4096, big = 0; /* 0 = no limit on what we queue */
    zmq_setsockopt(sock, ZMQ_RCVHWM, &one, sizeof(one));
    zmq_setsockopt(sock, ZMQ_RCVBUF, &small, sizeof(small));
    zmq_setsockopt(sock, ZMQ_SNDHWM, &big, sizeof(big));
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(sock, endpoint) < 0) {
        fprintf(stderr, "stall_peer: could not connect \"%s\": %s\n", endpoint,
                zmq_strerror(errno));
        return 2;
    }
    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff}; /* not an Envelope */
    for (unsigned long i = 0; i < n; i++) {
        if (zmq_send(sock, junk, sizeof(junk), 0) < 0) {
            fprintf(stderr, "stall_peer: send failed: %s\n", zmq_strerror(errno));
            break;
        }
    }
    printf("sent %lu\n", n);
    fflush(stdout);
    struct timespec ts = {(time_t)hold, 0};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}
