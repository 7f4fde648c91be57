/*
 * coord_load.c - load generator for the coordinator's ingest benchmark.
 *
 *   coord_load --connect ENDPOINT [--agents K] [--results N] [--window W] [--mark FILE]
 *
 * K simulated agents (each its own DEALER socket and host fingerprint) say
 * Hello; a submitter queues about N jobs spread over their hosts; then every
 * agent takes jobs with Ready and answers each at once with a Result of 20
 * functions, keeping at most W results waiting for their ack. Prints
 * "results=N seconds=S rate=R cpu=C" (results acked per second, i.e. stored
 * durably: the coordinator acks after COMMIT; C is this process's own CPU
 * time, all threads, over those S seconds) on stdout. With --mark, FILE is
 * created when the timed part starts (after the jobs are queued), so a
 * caller can sample other processes' CPU time over the same span.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uuid/uuid.h>
#include <zmq.h>

#include "wire.h"
#include "xmalloc.h"

#define N_FUNCS 20

/* One simulated agent. */
struct sim {
    void *sock;
    char name[32];
    char fingerprint[17];
    char hostname[48];
    uint32_t inflight; /* results sent, not yet acked */
    uint32_t asked;    /* credit outstanding */
    uint64_t acked;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU time so far (user + system, all threads), in seconds. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static uint64_t parse_u64(const char *s)
{
    return strtoull(s, NULL, 10);
}

static void send_msg(void *sock, struct wire_msg *m)
{
    uint8_t *buf;
    size_t len;
    if (wire_encode(m, &buf, &len) < 0) {
        fprintf(stderr, "coord_load: could not encode\n");
        exit(1);
    }
    if (zmq_send(sock, buf, len, 0) < 0) {
        fprintf(stderr, "coord_load: send failed: %s\n", zmq_strerror(errno));
        exit(1);
    }
    free(buf);
}

/* Receive one message (blocking up to 10 s); caller destroys. */
static struct wire_msg *recv_msg(void *sock)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, 10000) <= 0) {
        fprintf(stderr, "coord_load: no reply within 10 s\n");
        exit(1);
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    zmq_msg_recv(&msg, sock, 0);
    struct wire_error err;
    struct wire_msg *m = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &err);
    zmq_msg_close(&msg);
    if (m == NULL) {
        fprintf(stderr, "coord_load: bad reply: %s\n", err.msg);
        exit(1);
    }
    if (m->type == WIRE_ERROR) {
        fprintf(stderr, "coord_load: error from coordinator: %s\n", m->error.message);
        exit(1);
    }
    return m;
}

static const struct wire_python PYTHON = {"3.11.2", "3.11.2 (main) [GCC 12.2.0]",
                                          "/usr/bin/python3.11"};

static void fill_host(struct sim *s, struct wire_host *h)
{
    memset(h, 0, sizeof(*h));
    h->fingerprint = s->fingerprint;
    h->hostname = s->hostname;
    h->cpu_model = "Load CPU";
    h->cores = 4;
    h->mem_bytes = 1ull << 34;
    h->os = "Debian GNU/Linux 12";
    h->kernel = "6.1.0";
    h->arch = "x86_64";
    h->governor = "performance";
}

static void send_result(struct sim *s, const struct wire_job *job)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_RESULT);
    struct wire_result *r = &m.result;
    uuid_generate_random(r->run_id);
    r->job_id = job->job_id;
    r->attempt = job->attempt;
    r->outcome = WIRE_OUTCOME_OK;
    r->message = "";
    r->script_key = job->script;
    r->script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    r->python = PYTHON;
    fill_host(s, &r->host);
    struct wire_measurement runs[5];
    for (int i = 0; i < 5; i++)
        runs[i] = (struct wire_measurement){1.0 + i * 0.01, 0.9 + i * 0.01, 50000000, 0, 0, false};
    r->n_runs = 5;
    r->runs = runs;
    struct wire_function fns[N_FUNCS];
    char keys[N_FUNCS][64];
    double samples[N_FUNCS][5];
    for (int i = 0; i < N_FUNCS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "%s:function_%d:%d", job->script, i, 10 * i + 1);
        for (int k = 0; k < 5; k++)
            samples[i][k] = 0.01 * (i + 1) + 0.0001 * k;
        fns[i] = (struct wire_function){keys[i],    0, samples[i][2], samples[i][4] * 2, 5,
                                        samples[i], 5, samples[i]};
    }
    r->n_functions = N_FUNCS;
    r->functions = fns;
    uint32_t frames[4] = {0, 1, 2, 3};
    struct wire_stack stacks[3] = {{"MainThread", 4, frames, 100},
                                   {"MainThread", 3, frames, 50},
                                   {"MainThread", 2, frames, 25}};
    r->n_stacks = 3;
    r->stacks = stacks;
    r->started_at = "2026-11-24T08:00:00Z";
    send_msg(s->sock, &m);
    s->inflight++;
}

/* Say Hello and wait for the Welcome: registers the host (again). */
static void say_hello(struct sim *s)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HELLO);
    m.hello.name = s->name;
    fill_host(s, &m.hello.host);
    m.hello.python = PYTHON;
    m.hello.agent_version = "load";
    m.hello.max_jobs = 64;
    send_msg(s->sock, &m);
    struct wire_msg *w = recv_msg(s->sock);
    wire_msg_destroy(&w);
}

int main(int argc, char **argv)
{
    const char *endpoint = NULL, *mark = NULL;
    uint64_t n_agents = 4, n_results = 2000, window = 32;
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'}, {"agents", required_argument, NULL, 'a'},
        {"results", required_argument, NULL, 'n'}, {"window", required_argument, NULL, 'w'},
        {"mark", required_argument, NULL, 'm'},    {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'c')
            endpoint = optarg;
        else if (o == 'a')
            n_agents = parse_u64(optarg);
        else if (o == 'n')
            n_results = parse_u64(optarg);
        else if (o == 'w')
            window = parse_u64(optarg);
        else if (o == 'm')
            mark = optarg;
        else
            return 2;
    }
    if (endpoint == NULL || n_agents < 1 || n_agents > 256 || window < 1 || window > 64) {
        fprintf(stderr, "usage: coord_load --connect EP [--agents 1..256] [--results N] "
                        "[--window 1..64] [--mark FILE]\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    struct sim *sims = xcalloc(n_agents, sizeof(*sims));
    for (uint64_t i = 0; i < n_agents; i++) {
        struct sim *s = &sims[i];
        snprintf(s->name, sizeof(s->name), "load-%" PRIu64, i);
        snprintf(s->fingerprint, sizeof(s->fingerprint), "%016" PRIx64, 0xabc000 + i);
        snprintf(s->hostname, sizeof(s->hostname), "load-host-%" PRIu64, i);
        s->sock = zmq_socket(ctx, ZMQ_DEALER);
        zmq_connect(s->sock, endpoint);
        say_hello(s);
    }

    /* Queue the jobs: entries x agents >= n_results, 1000 entries per Submit. */
    uint64_t per_host = (n_results + n_agents - 1) / n_agents;
    uint64_t total = 0;
    void *cli = zmq_socket(ctx, ZMQ_DEALER);
    zmq_connect(cli, endpoint);
    char(*scripts)[32] = xcalloc(1000, sizeof(*scripts));
    struct wire_suite_entry *entries = xcalloc(1000, sizeof(*entries));
    for (uint64_t done = 0; done < per_host;) {
        uint64_t n = per_host - done > 1000 ? 1000 : per_host - done;
        for (uint64_t i = 0; i < n; i++) {
            snprintf(scripts[i], sizeof(scripts[i]), "bench/s%" PRIu64 ".py", done + i);
            entries[i] =
                (struct wire_suite_entry){scripts[i], 0, NULL, 5, 0, WIRE_MODE_SAMPLE, 60, 0};
        }
        struct wire_msg m;
        wire_msg_init(&m, WIRE_SUBMIT);
        m.submit.suite = "ingest-bench";
        m.submit.n_entries = n;
        m.submit.entries = entries;
        m.submit.hosts.all = true;
        send_msg(cli, &m);
        struct wire_msg *rep = recv_msg(cli);
        total += rep->submit_reply.jobs;
        wire_msg_destroy(&rep);
        done += n;
    }
    free(entries);
    free(scripts);
    /* Queueing many jobs takes a while: the coordinator may have forgotten
     * the silent agents meanwhile. */
    for (uint64_t i = 0; i < n_agents; i++)
        say_hello(&sims[i]);

    if (mark) {
        FILE *f = fopen(mark, "w");
        if (f == NULL || fclose(f) != 0) {
            fprintf(stderr, "coord_load: cannot create %s\n", mark);
            return 1;
        }
    }
    double start = now_s(), cpu_start = cpu_s();
    uint64_t acked = 0;
    zmq_pollitem_t *items = xcalloc(n_agents, sizeof(*items));
    for (uint64_t i = 0; i < n_agents; i++)
        items[i] = (zmq_pollitem_t){sims[i].sock, 0, ZMQ_POLLIN, 0};
    while (acked < total) {
        for (uint64_t i = 0; i < n_agents; i++) {
            struct sim *s = &sims[i];
            uint32_t want = (uint32_t)window - s->inflight;
            if (s->asked == 0 && want > 0) {
                struct wire_msg m;
                wire_msg_init(&m, WIRE_READY);
                m.ready.credit = want;
                send_msg(s->sock, &m);
                s->asked = want;
            }
        }
        if (zmq_poll(items, (int)n_agents, 10000) <= 0) {
            fprintf(stderr, "coord_load: stalled at %" PRIu64 " of %" PRIu64 " acks\n", acked,
                    total);
            return 1;
        }
        for (uint64_t i = 0; i < n_agents; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            struct sim *s = &sims[i];
            struct wire_msg *m = recv_msg(s->sock);
            if (m->type == WIRE_JOB) {
                if (s->asked > 0)
                    s->asked--;
                send_result(s, &m->job);
            } else if (m->type == WIRE_ACK) {
                s->inflight--;
                s->acked++;
                acked++;
                /* The coordinator keeps unused credit: ask again only when it is used up. */
            }
            wire_msg_destroy(&m);
        }
    }
    double secs = now_s() - start;
    printf("results=%" PRIu64 " seconds=%.3f rate=%.1f cpu=%.3f\n", acked, secs,
           (double)acked / secs, cpu_s() - cpu_start);
    for (uint64_t i = 0; i < n_agents; i++)
        zmq_close(sims[i].sock);
    zmq_close(cli);
    zmq_ctx_term(ctx);
    free(items);
    free(sims);
    return 0;
}
