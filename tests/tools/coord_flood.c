/*
 * coord_flood.c - a hostile but authenticated peer against a coordinator,
 * while a well-behaved agent keeps working (tests/integration/test_coord_flood.sh).
 *
 *   coord_flood --connect tcp://HOST:PORT --server-key Z85 --agent-secret Z85
 *               --flood-secret Z85 --submit-secret Z85 [--count N] [--oversize K]
 *               [--half-open H] [--pace MS] [--seed S]
 *
 * All keys are CURVE keys of the coordinator's keys folder: the good agent's
 * and the flooder's are agent keys, the submitter's queues the good agent's
 * jobs. In order:
 *   1. the good agent says Hello; the submitter queues jobs for it;
 *   2. all through the flood, H raw TCP connections open (20 at a time,
 *      non-blocking) and never finish the ZMTP/CURVE handshake (a third send
 *      nothing, a third half a greeting, a third a whole greeting and then
 *      garbage); they stay open until the end;
 *   3. the flooder says Hello (with the good agent's host fingerprint: it must
 *      not get that host or its jobs), then sends N malformed messages as fast as the
 *      coordinator takes them: truncated protobuf, wrong wire types, random
 *      bytes, bad fields (ranges, UTF-8, lengths, paths), messages only a
 *      coordinator sends, two-frame messages, results for unknown jobs,
 *      submits from an agent key; each must be answered with an Error (read
 *      and counted here); K times meanwhile a new connection sends a message
 *      over 4 MiB (ZeroMQ drops it);
 *   4. all along the good agent takes a job (Ready), answers it with a Result
 *      and times the Ack, one at a time, at most every MS ms, and sends a
 *      Heartbeat every second as a real agent does. It connects under a fixed
 *      routing id ("good-agent", as agents before 0.2 did), and a squatter
 *      with the flooder's key connects under that same routing id and, every
 *      100 ms, asks for jobs and sends a Result for one of the good agent's
 *      jobs: it must get nothing (no job, no ack, no answer at all: the
 *      coordinator gives no routing id twice) and the good agent must not
 *      lose its connection.
 * Prints "sent=N ... errors=E" for the flood by kind, and
 * "good_acked=A good_errors=B ack_ms_median=M ack_ms_max=X squat_sent=S
 * squat_replies=R", then exits 0,
 * or 1 when the good agent got no ack within 60 s at some point or a reply
 * did not decode. Deterministic for a given --seed (xorshift).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include <zmq.h>

#include "wire.h"
#include "xmalloc.h"

#define FLOOD_GOOD_TIMEOUT_MS 60000
#define FLOOD_JOBS_PER_SUBMIT 500

/* Kinds of malformed message, each counted separately. */
enum flood_kind {
    FK_TRUNCATED,   /* a valid Result cut short */
    FK_WIRETYPE,    /* a valid message with a field's wire type changed */
    FK_RANDOM,      /* random bytes */
    FK_BADFIELD,    /* a valid envelope with a bad value in it */
    FK_COORD_ONLY,  /* Ack, Welcome, Job: only a coordinator sends these */
    FK_FRAMES,      /* two frames */
    FK_UNKNOWN_JOB, /* a valid Result for a job that does not exist */
    FK_FORBIDDEN,   /* Submit from an agent key */
    FK__COUNT,
};

static const char *const flood_kind_names[FK__COUNT] = {"truncated",   "wiretype",   "random",
                                                        "badfield",    "coord_only", "frames",
                                                        "unknown_job", "forbidden"};

/* Which kind message i is: mostly cheap rejects, a few that reach the database or the log. */
static enum flood_kind flood_kind_of(uint64_t i)
{
    static const enum flood_kind plan[100] = {
        [0 ... 24] = FK_TRUNCATED,    [25 ... 39] = FK_WIRETYPE,   [40 ... 54] = FK_RANDOM,
        [55 ... 74] = FK_BADFIELD,    [75 ... 89] = FK_COORD_ONLY, [90 ... 95] = FK_FRAMES,
        [96 ... 98] = FK_UNKNOWN_JOB, [99] = FK_FORBIDDEN};
    return plan[i % 100];
}

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "coord_flood: %s: %s\n", what, zmq_strerror(errno));
    exit(1);
}

/* A CURVE DEALER connected to ep with the client secret key sec (Z85), under routing id rid
 * (NULL: ZeroMQ's own). */
static void *curve_dealer_id(void *ctx, const char *ep, const char *server, const char *sec,
                             const char *rid)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    if (s != NULL && rid != NULL)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, rid, strlen(rid));
    char pub[41];
    int zero = 0, hwm = 100000;
    if (s == NULL || zmq_curve_public(pub, sec) < 0)
        die("bad secret key or no socket");
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
    if (zmq_connect(s, ep) < 0)
        die("connect");
    return s;
}

static void *curve_dealer(void *ctx, const char *ep, const char *server, const char *sec)
{
    return curve_dealer_id(ctx, ep, server, sec, NULL);
}

/* Encode m (borrowed) with sequence number seq; caller frees *buf. */
static void encode(struct wire_msg *m, uint64_t seq, uint8_t **buf, size_t *len)
{
    m->seq = seq;
    if (wire_encode(m, buf, len) < 0) {
        fprintf(stderr, "coord_flood: could not encode a %s\n", wire_type_name(m->type));
        exit(1);
    }
}

static void send_blocking(void *s, struct wire_msg *m, uint64_t seq)
{
    uint8_t *buf;
    size_t len;
    encode(m, seq, &buf, &len);
    if (zmq_send(s, buf, len, 0) < 0)
        die("send");
    free(buf);
}

/* Receive one message within ms; NULL on timeout. Exits on an undecodable reply. */
static struct wire_msg *recv_within(void *s, long ms)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return NULL;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, s, 0) < 0)
        die("recv");
    struct wire_error err;
    struct wire_msg *m = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &err);
    zmq_msg_close(&msg);
    if (m == NULL) {
        fprintf(stderr, "coord_flood: undecodable reply: %s\n", err.msg);
        exit(1);
    }
    return m;
}

/* A fixed host and Python: enough for Hello and Result to validate. */
static void flood_host(struct wire_host *h, const char *fingerprint)
{
    /* with CURVE the host name the key grants counts, not this claim */
    *h = (struct wire_host){.fingerprint = fingerprint, .hostname = fingerprint};
}

static const struct wire_python FLOOD_PYTHON = {"3.11.2", "3.11.2 flood", "/usr/bin/python3.11"};

static void say_hello(void *s, const char *fingerprint)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HELLO);
    m.hello.name = "ignored-with-curve";
    flood_host(&m.hello.host, fingerprint);
    m.hello.python = FLOOD_PYTHON;
    m.hello.agent_version = "flood";
    m.hello.max_jobs = 1;
    send_blocking(s, &m, 1);
    struct wire_msg *w = recv_within(s, 10000);
    if (w == NULL || w->type != WIRE_WELCOME) {
        fprintf(stderr, "coord_flood: no welcome (%s)\n",
                w ? (w->type == WIRE_ERROR ? w->error.message : "other reply") : "timeout");
        exit(1);
    }
    wire_msg_destroy(&w);
}

/* A result body: one run, one function; script and ids from the caller. */
struct flood_result {
    struct wire_measurement run;
    struct wire_function fn;
    double samples[1];
    struct wire_msg m;
};

static void flood_result_init(struct flood_result *r, const char *fingerprint, uint64_t job_id,
                              uint32_t attempt, const char *script)
{
    memset(r, 0, sizeof(*r));
    r->run = (struct wire_measurement){0.5, 0.4, 1000000, 0, 0, false};
    r->samples[0] = 0.25;
    r->fn = (struct wire_function){"flood.py:f:1", 1, 0.25, 0.25, 1, r->samples, 1, r->samples};
    wire_msg_init(&r->m, WIRE_RESULT);
    struct wire_result *res = &r->m.result;
    uuid_generate_random(res->run_id);
    res->job_id = job_id;
    res->attempt = attempt;
    res->outcome = WIRE_OUTCOME_OK;
    res->message = "";
    res->script_key = script;
    res->script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    res->python = FLOOD_PYTHON;
    flood_host(&res->host, fingerprint);
    res->n_runs = 1;
    res->runs = &r->run;
    res->n_functions = 1;
    res->functions = &r->fn;
    res->started_at = "2026-11-24T08:00:00Z";
}

/* Queue n jobs for the good agent's host. */
static void submit_jobs(void *sub, uint64_t seq, unsigned n)
{
    struct wire_suite_entry *e = xcalloc(n, sizeof(*e));
    char(*names)[32] = xcalloc(n, sizeof(*names));
    for (unsigned i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "flood/good_%u.py", i);
        e[i] = (struct wire_suite_entry){names[i], 0, NULL, 1, 0, WIRE_MODE_SAMPLE, 60, 0};
    }
    struct wire_msg m;
    wire_msg_init(&m, WIRE_SUBMIT);
    m.submit.suite = "flood-good";
    m.submit.n_entries = n;
    m.submit.entries = e;
    /* its host: the one its key's allowlist entry grants (KEYS/agents/good.key) */
    static const char *const good_host[] = {"good"};
    m.submit.hosts.n_names = 1;
    m.submit.hosts.names = good_host;
    send_blocking(sub, &m, seq);
    free(e);
    free(names);
}

/* Build malformed message i of its kind into buf (new) and len. */
static void flood_make(struct rng *rng, uint64_t i, enum flood_kind k, uint8_t **buf, size_t *len)
{
    struct wire_msg m;
    struct flood_result fr;
    switch (k) {
    case FK_TRUNCATED: {
        flood_result_init(&fr, "ffffffff00000001", 1000000000 + i, 1, "flood/bad.py");
        encode(&fr.m, i, buf, len);
        *len = 1 + rng_next(rng) % (*len - 1);
        return;
    }
    case FK_WIRETYPE: {
        wire_msg_init(&m, WIRE_READY);
        m.ready.credit = 1;
        encode(&m, i + 1, buf, len);
        /* version (field 1, varint) sent as length-delimited, or as fixed64 */
        (*buf)[0] = (rng_next(rng) & 1) ? 0x0a : 0x09;
        return;
    }
    case FK_RANDOM: {
        *len = 1 + rng_next(rng) % 300;
        *buf = xmalloc(*len);
        for (size_t j = 0; j < *len; j++)
            (*buf)[j] = (uint8_t)rng_next(rng);
        /* never a valid version 1 varint first: a field 1 with value 1 is 08 01 */
        if ((*buf)[0] == 0x08)
            (*buf)[0] = 0x07;
        return;
    }
    case FK_BADFIELD: {
        unsigned which = (unsigned)(rng_next(rng) % 5);
        if (which == 0) { /* credit out of range */
            wire_msg_init(&m, WIRE_READY);
            m.ready.credit = (rng_next(rng) & 1) ? 0 : WIRE_MAX_JOBS + 1;
            encode(&m, i + 1, buf, len);
        } else if (which == 1) { /* a name that is not UTF-8 */
            wire_msg_init(&m, WIRE_HELLO);
            m.hello.name = "bad\xff\xfe";
            flood_host(&m.hello.host, "ffffffff00000001");
            m.hello.python = FLOOD_PYTHON;
            m.hello.max_jobs = 1;
            encode(&m, i + 1, buf, len);
        } else if (which == 2) { /* a path out of the workspace */
            flood_result_init(&fr, "ffffffff00000001", 1, 1, "../../etc/passwd");
            encode(&fr.m, i + 1, buf, len);
        } else if (which == 3) { /* an all-zero run id, NaN time */
            flood_result_init(&fr, "ffffffff00000001", 1, 1, "flood/bad.py");
            memset(fr.m.result.run_id, 0, WIRE_RUN_ID_LEN);
            fr.run.wall_s = 0.0 / 0.0;
            encode(&fr.m, i + 1, buf, len);
        } else { /* an unknown protocol version */
            wire_msg_init(&m, WIRE_READY);
            m.ready.credit = 1;
            m.version = 2 + (uint32_t)(rng_next(rng) % 1000);
            encode(&m, i + 1, buf, len);
        }
        return;
    }
    case FK_COORD_ONLY: {
        unsigned which = (unsigned)(rng_next(rng) % 3);
        if (which == 0) {
            wire_msg_init(&m, WIRE_ACK);
            uuid_generate_random(m.ack.run_id);
        } else if (which == 1) {
            wire_msg_init(&m, WIRE_WELCOME);
            m.welcome.agent_id = "flood";
            m.welcome.heartbeat_ms = 1000;
            m.welcome.lease_ms = 5000;
        } else {
            wire_msg_init(&m, WIRE_JOB);
            m.job =
                (struct wire_job){1, 1, 1, "flood/bad.py", 0, NULL, 1, 0, WIRE_MODE_SAMPLE, 10, 0};
        }
        encode(&m, i + 1, buf, len);
        return;
    }
    case FK_UNKNOWN_JOB:
        flood_result_init(&fr, "ffffffff00000001", 1000000000 + i, 1, "flood/bad.py");
        encode(&fr.m, i + 1, buf, len);
        return;
    case FK_FORBIDDEN: {
        static const struct wire_suite_entry e = {"flood/x.py",     0,  NULL, 1, 0,
                                                  WIRE_MODE_SAMPLE, 10, 0};
        wire_msg_init(&m, WIRE_SUBMIT);
        m.submit.suite = "flood";
        m.submit.n_entries = 1;
        m.submit.entries = &e;
        m.submit.hosts.all = true;
        encode(&m, i + 1, buf, len);
        return;
    }
    case FK_FRAMES:
    case FK__COUNT:
        break;
    }
    *buf = xmalloc(1);
    (*buf)[0] = 'a';
    *len = 1;
}

/* Raw TCP connections that never finish the ZMTP/CURVE handshake. */
struct half_open {
    int *fds;     /* open sockets, non-blocking */
    int *greeted; /* 1 once its bytes went out (or none are due) */
    unsigned n, want;
    struct sockaddr_in addr;
};

/* Open up to batch more connections (non-blocking connect); send due greetings. */
static void half_open_step(struct half_open *h, unsigned batch)
{
    static const uint8_t greeting[64] = {0xff, 0, 0, 0,   0,   0,   0,   0,  0,
                                         0x7f, 3, 0, 'C', 'U', 'R', 'V', 'E'};
    for (unsigned k = 0; k < batch && h->n < h->want; k++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0 || (connect(fd, (struct sockaddr *)&h->addr, sizeof(h->addr)) < 0 &&
                       errno != EINPROGRESS)) {
            fprintf(stderr, "coord_flood: half-open connection %u: %s\n", h->n, strerror(errno));
            exit(1);
        }
        h->fds[h->n] = fd;
        h->greeted[h->n] = h->n % 3 == 0; /* a third send nothing at all */
        h->n++;
    }
    for (unsigned i = 0; i < h->n; i++) {
        if (h->greeted[i])
            continue;
        /* half a greeting, or a whole one and then bytes that are no CURVE HELLO */
        uint8_t junk[64 + 32];
        memcpy(junk, greeting, 64);
        memset(junk + 64, 0x5a, 32);
        size_t len = i % 3 == 1 ? 11 : sizeof(junk);
        if (send(h->fds[i], junk, len, MSG_NOSIGNAL) >= 0)
            h->greeted[i] = 1;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The good agent: one job at a time, Result, Ack. */
struct good {
    void *sock;
    int waiting;     /* 0 idle, 1 Ready sent, 2 Result sent */
    int64_t sent_at; /* when the pending message went out (us) */
    int64_t next_at; /* earliest next Ready (us) */
    int64_t beat_at; /* last Heartbeat (us) */
    uint64_t seq;
    uint64_t acked, errors, jobs_seen;
    int64_t *lat; /* ack latencies, us */
    size_t n_lat, cap_lat;
};

/* Handle one message for the good agent; m borrowed. */
static void good_on_msg(struct good *g, const struct wire_msg *m, int64_t now, int64_t pace_us)
{
    if (m->type == WIRE_JOB && g->waiting == 1) {
        g->jobs_seen++;
        struct flood_result fr;
        flood_result_init(&fr, "aaaaaaaa00000001", m->job.job_id, m->job.attempt, m->job.script);
        send_blocking(g->sock, &fr.m, ++g->seq);
        g->waiting = 2;
        g->sent_at = now;
    } else if (m->type == WIRE_ACK && g->waiting == 2) {
        if (g->n_lat == g->cap_lat) {
            g->cap_lat = g->cap_lat ? 2 * g->cap_lat : 256;
            g->lat = xreallocarray(g->lat, g->cap_lat, sizeof(*g->lat));
        }
        g->lat[g->n_lat++] = now - g->sent_at;
        g->acked++;
        g->waiting = 0;
        g->next_at = now + pace_us;
    } else if (m->type == WIRE_ERROR) {
        fprintf(stderr, "coord_flood: the good agent got an error: %s\n", m->error.message);
        g->errors++;
        g->waiting = 0;
        g->next_at = now + pace_us;
    }
}

int main(int argc, char **argv)
{
    const char *ep = NULL, *server = NULL, *agent_sec = NULL, *flood_sec = NULL, *submit_sec = NULL;
    uint64_t count = 200000, seed = 42;
    unsigned oversize = 3, n_half = 300, pace_ms = 20;
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"server-key", required_argument, NULL, 's'},
        {"agent-secret", required_argument, NULL, 'a'},
        {"flood-secret", required_argument, NULL, 'f'},
        {"submit-secret", required_argument, NULL, 'u'},
        {"count", required_argument, NULL, 'n'},
        {"oversize", required_argument, NULL, 'o'},
        {"half-open", required_argument, NULL, 'h'},
        {"pace", required_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            ep = optarg;
            break;
        case 's':
            server = optarg;
            break;
        case 'a':
            agent_sec = optarg;
            break;
        case 'f':
            flood_sec = optarg;
            break;
        case 'u':
            submit_sec = optarg;
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'o':
            oversize = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'h':
            n_half = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            pace_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            seed = strtoull(optarg, NULL, 10) | 1;
            break;
        default:
            return 2;
        }
    }
    const char *colon = ep ? strrchr(ep, ':') : NULL;
    if (!ep || strncmp(ep, "tcp://", 6) != 0 || !colon || !server || !agent_sec || !flood_sec ||
        !submit_sec || count < 1) {
        fprintf(stderr, "usage: coord_flood --connect tcp://HOST:PORT --server-key Z85 "
                        "--agent-secret Z85 --flood-secret Z85 --submit-secret Z85 [--count N] "
                        "[--oversize K] [--half-open H] [--pace MS] [--seed S]\n");
        return 2;
    }
    uint16_t port = (uint16_t)strtoul(colon + 1, NULL, 10);
    struct rng rng = {seed};
    void *ctx = zmq_ctx_new();
    int max_sockets = 4096;
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, max_sockets);

    /* 1. the good agent and its jobs */
    struct good g = {.sock = curve_dealer_id(ctx, ep, server, agent_sec, "good-agent"), .seq = 1};
    say_hello(g.sock, "aaaaaaaa00000001");
    /* the squatter: the flooder's key under the good agent's routing id */
    void *squat = curve_dealer_id(ctx, ep, server, flood_sec, "good-agent");
    uint64_t squat_sent = 0, squat_replies = 0, squat_seq = 0;
    int64_t squat_at = 0;
    void *sub = curve_dealer(ctx, ep, server, submit_sec);
    uint64_t sub_seq = 1;
    submit_jobs(sub, sub_seq++, FLOOD_JOBS_PER_SUBMIT);
    struct wire_msg *rep = recv_within(sub, 10000);
    if (rep == NULL || rep->type != WIRE_SUBMIT_REPLY) {
        fprintf(stderr, "coord_flood: the submit was not accepted\n");
        return 1;
    }
    uint64_t jobs_queued = rep->submit_reply.jobs;
    wire_msg_destroy(&rep);

    /* 2. half-open connections, opened during the flood and held until the end */
    struct half_open ho = {.fds = xcalloc(n_half + 1, sizeof(int)),
                           .greeted = xcalloc(n_half + 1, sizeof(int)),
                           .want = n_half,
                           .addr = {.sin_family = AF_INET, .sin_port = htons(port)}};
    ho.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    /* 3. the flooder */
    void *fl = curve_dealer(ctx, ep, server, flood_sec);
    /* with the good agent's fingerprint: the flooder gets a host of its own, never the
     * good agent's (docs/security.md, "Who an agent is"), so none of its jobs */
    say_hello(fl, "aaaaaaaa00000001");
    uint64_t sent = 0, by_kind[FK__COUNT] = {0}, errors = 0, oversize_sent = 0;
    int64_t start = now_us(), pace_us = (int64_t)pace_ms * 1000, last_progress = start;
    uint64_t ack_before = 0;
    int64_t drained_since = 0; /* when the flood was all sent and the good agent idle */
    uint8_t *pend = NULL;      /* a message EAGAIN refused, to send again */
    size_t pend_len = 0;
    enum flood_kind pend_kind = FK__COUNT;
    while (sent < count || errors < sent || g.waiting != 0 || ho.n < ho.want) {
        int64_t now = now_us();
        half_open_step(&ho, 20);
        /* the good agent: a heartbeat a second, as a real agent keeps its link alive */
        if (now - g.beat_at > 1000000) {
            struct wire_msg hb;
            wire_msg_init(&hb, WIRE_HEARTBEAT);
            send_blocking(g.sock, &hb, ++g.seq);
            g.beat_at = now;
        }
        /* the good agent: ask for the next job when idle */
        if (g.waiting == 0 && now >= g.next_at && (sent < count || g.acked == 0)) {
            if (g.jobs_seen >= jobs_queued) {
                submit_jobs(sub, sub_seq++, FLOOD_JOBS_PER_SUBMIT);
                struct wire_msg *r2 = recv_within(sub, 10000);
                jobs_queued += r2 && r2->type == WIRE_SUBMIT_REPLY ? r2->submit_reply.jobs : 0;
                wire_msg_destroy(&r2);
            }
            struct wire_msg m;
            wire_msg_init(&m, WIRE_READY);
            m.ready.credit = 1;
            send_blocking(g.sock, &m, ++g.seq);
            g.waiting = 1;
            g.sent_at = now;
        }
        if (g.waiting != 0 && now - g.sent_at > (int64_t)FLOOD_GOOD_TIMEOUT_MS * 1000) {
            fprintf(stderr, "coord_flood: the good agent waited over %d s (state %d)\n",
                    FLOOD_GOOD_TIMEOUT_MS / 1000, g.waiting);
            return 1;
        }
        /* the squatter: ask for the good agent's jobs, answer one of them */
        if (now - squat_at > 100000) {
            struct wire_msg m;
            wire_msg_init(&m, WIRE_READY);
            m.ready.credit = 4;
            uint8_t *b;
            size_t bl;
            encode(&m, ++squat_seq, &b, &bl);
            squat_sent += zmq_send(squat, b, bl, ZMQ_DONTWAIT) >= 0;
            free(b);
            struct flood_result fr;
            flood_result_init(&fr, "aaaaaaaa00000001", 1 + squat_seq % FLOOD_JOBS_PER_SUBMIT, 1,
                              "flood/good_0.py");
            encode(&fr.m, ++squat_seq, &b, &bl);
            squat_sent += zmq_send(squat, b, bl, ZMQ_DONTWAIT) >= 0;
            free(b);
            squat_at = now;
        }
        for (;;) {
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            int got = zmq_msg_recv(&msg, squat, ZMQ_DONTWAIT);
            zmq_msg_close(&msg);
            if (got < 0)
                break;
            squat_replies++;
        }
        /* the flood: as many as the socket takes without blocking */
        for (int burst = 0; burst < 256 && sent < count; burst++) {
            if (pend == NULL) {
                pend_kind = flood_kind_of(sent);
                if (pend_kind == FK_FRAMES) {
                    if (zmq_send(fl, "a", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
                        break;
                    zmq_send(fl, "b", 1, 0);
                    by_kind[FK_FRAMES]++;
                    sent++;
                    continue;
                }
                flood_make(&rng, sent, pend_kind, &pend, &pend_len);
            }
            if (zmq_send(fl, pend, pend_len, ZMQ_DONTWAIT) < 0) {
                if (errno != EAGAIN)
                    die("flood send");
                break;
            }
            free(pend);
            pend = NULL;
            by_kind[pend_kind]++;
            sent++;
            if (oversize && sent % (count / (oversize + 1) + 1) == 0 && oversize_sent < oversize) {
                void *big = curve_dealer(ctx, ep, server, flood_sec);
                size_t n = WIRE_MAX_MSG_BYTES + 1 + (size_t)oversize_sent;
                uint8_t *b = xcalloc(n, 1);
                int linger = 2000;
                zmq_setsockopt(big, ZMQ_LINGER, &linger, sizeof(linger));
                zmq_send(big, b, n, 0);
                free(b);
                zmq_close(big);
                oversize_sent++;
            }
        }
        /* read what came back; wait a little when there is nothing to send */
        zmq_pollitem_t items[2] = {{g.sock, 0, ZMQ_POLLIN, 0},
                                   {fl, 0, ZMQ_POLLIN | (pend ? ZMQ_POLLOUT : 0), 0}};
        long wait_ms = sent < count && pend == NULL ? 0 : 10;
        if (zmq_poll(items, 2, wait_ms) > 0) {
            for (int k = 0; k < 10000 && (items[1].revents & ZMQ_POLLIN); k++) {
                zmq_msg_t msg;
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, fl, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&msg);
                    break;
                }
                errors++;
                zmq_msg_close(&msg);
            }
            if (items[0].revents & ZMQ_POLLIN) {
                struct wire_msg *m;
                while ((m = recv_within(g.sock, 0)) != NULL) {
                    good_on_msg(&g, m, now_us(), pace_us);
                    wire_msg_destroy(&m);
                }
            }
        }
        now = now_us();
        if (now - last_progress > 5000000) {
            fprintf(stderr,
                    "coord_flood: %" PRIu64 " sent, %" PRIu64 " errors back, %" PRIu64
                    " good acks (+%" PRIu64 ")\n",
                    sent, errors, g.acked, g.acked - ack_before);
            last_progress = now;
            ack_before = g.acked;
        }
        /* replies may be dropped by the coordinator (full queue): stop waiting at some point */
        if (sent == count && g.waiting == 0 && errors < sent) {
            if (drained_since == 0)
                drained_since = now;
            if (now - drained_since > 10000000)
                break;
        }
    }
    double secs = (double)(now_us() - start) / 1e6;
    for (unsigned i = 0; i < ho.n; i++)
        close(ho.fds[i]);
    free(ho.fds);
    free(ho.greeted);

    printf("sent=%" PRIu64 " seconds=%.1f rate=%.0f errors=%" PRIu64 " oversize=%" PRIu64
           " half_open=%u",
           sent, secs, (double)sent / secs, errors, oversize_sent, ho.n);
    for (int k = 0; k < FK__COUNT; k++)
        printf(" %s=%" PRIu64, flood_kind_names[k], by_kind[k]);
    printf("\n");
    qsort(g.lat, g.n_lat, sizeof(*g.lat), cmp_i64);
    printf("good_acked=%" PRIu64 " good_errors=%" PRIu64
           " ack_ms_median=%.1f ack_ms_max=%.1f squat_sent=%" PRIu64 " squat_replies=%" PRIu64 "\n",
           g.acked, g.errors, g.n_lat ? (double)g.lat[g.n_lat / 2] / 1000 : -1.0,
           g.n_lat ? (double)g.lat[g.n_lat - 1] / 1000 : -1.0, squat_sent, squat_replies);
    zmq_close(squat);
    free(g.lat);
    zmq_close(g.sock);
    zmq_close(sub);
    zmq_close(fl);
    zmq_ctx_term(ctx);
    return g.acked > 0 && g.errors == 0 ? 0 : 1;
}
