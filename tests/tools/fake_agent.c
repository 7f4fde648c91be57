/*
 * fake_agent.c - a scriptable test client speaking the real wire protocol.
 *
 *   fake_agent --connect ENDPOINT [--name NAME] [--fingerprint HEX16] [--wait MS]
 *              [--machine ID]                           (Host.machine_id in Hello)
 *              [--server-key Z85 --secret-key Z85]     (CURVE client)
 *              [--routing-id ID]                        (fixed ZMQ_ROUTING_ID, like agents)
 *              [--runs N]     measured runs in each Result (default 3, at most 1000)
 *              [--claim-python VERSION]  Hello lists this one Python (Hello.pythons), while
 *                             every Result says it ran under 3.11.2 (an insider's lie)
 *              [--python VERSION]  an honest agent of that one Python: Hello lists it
 *                             (Hello.python and .pythons) and every Result ran under it
 *              [--python-build STR]  Python.build of every Result (as the seeded
 *                             runs of tests/integration/team_runs.sql: "CPython 3.11 gcc")
 *              [--text STR]   hostile text (C escapes \n \r \t \e \xHH \\ decoded) put in
 *                             every text field it sends: host name, label value, suite
 *                             name and label, "%" script entries (examples/STR.py),
 *                             result message, first function name, thread name
 *   fake_agent --keygen                                 (print "PUBLIC SECRET")
 *
 * Reads commands from stdin, one a line, and prints every message it
 * receives as one line on stdout ("welcome ...", "job id=.. attempt=.. [reference=..]",
 * "ack run_id=..", "error code=.. message=..", "submit_reply ..",
 * "query_reply JSON", or "timeout"). A real DEALER socket, real Envelopes:
 *
 *   hello [NAME]                       send Hello, wait for the reply
 *   ready CREDIT [MS]                  send Ready, print jobs for MS (default --wait)
 *   result JOB ATTEMPT [RUNID] [OUTCOME] [SCRIPT]
 *                                      send a Result (20 functions); RUNID is 32 hex
 *                                      digits (random if "-"); wait for ack or error
 *   refs SPEC|off                      the reference script's times (Contention fields 10,
 *                                      11) in the next Results: SPEC is one CPU/WALL pair
 *                                      per repeat, comma-separated ("-": none for that
 *                                      repeat; strtod's text, so "nan", "inf", "-1" too);
 *                                      repeats past the list have none
 *   heartbeat [JOB:ATTEMPT ...]        send Heartbeat; print anything that comes back
 *   submit ENTRY... [@NAME ...] [+REF] [=PY] [~COMMIT] [^BASE] [*ROUNDS]
 *                                      Submit one entry per script (hosts: @NAME, else all;
 *                                      +REF: the suite's reference script; =PY: every entry
 *                                      asks for Python PY; ~COMMIT: Submit.commit, else
 *                                      "abc123"; ^BASE, *ROUNDS: an A/B try's try_base and
 *                                      try_rounds, sent as given)
 *   query hosts|jobs|batch|try|bisect|cancel [ID]  send Query (cancel: a bisect
 *                                      query with state "cancel"), print the reply
 *   raw HEX                            send these bytes as one frame
 *   big BYTES                          send BYTES of zeros as one frame
 *   frames                             send a two-frame message
 *   reconnect                          new socket (new routing id)
 *   drain [MS]                         print whatever arrives within MS
 *   sleep MS
 *
 * No step waits forever: a send gives up after FAKE_SEND_MS ("send_failed ..."), and
 * the context's teardown after FAKE_TERM_MS. In CI (2026-12-08, a loaded machine)
 * test_coord_curve's client with an unknown key never returned, until ctest's 300 s
 * timeout; libzmq's zmq_ctx_term() is known to wait forever after a refused CURVE
 * handshake on slow machines. A teardown that overruns prints a line on stderr and
 * exits 0 all the same: every reply was printed before it.
 *
 * Exit status: 0, or 2 on a bad command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include <zmq.h>

#include "wire.h"
#include "xmalloc.h"

#define MAX_WORDS 64
#define N_FUNCS   20

/* The client's state. */
struct agent {
    void *ctx;
    void *sock;
    const char *endpoint;
    char name[128];
    const char *fingerprint;
    const char *machine;    /* Host.machine_id, or NULL */
    const char *server_key; /* Z85; NULL = plain */
    const char *secret_key; /* Z85 client secret key */
    const char *routing_id; /* NULL = ZeroMQ's random one */
    char *text;             /* --text, decoded; NULL = ordinary names */
    int runs;               /* --runs: measurements per Result */
    size_t n_refs;          /* refs: repeats with an entry in ref_cpu, ref_wall, has_ref */
    double ref_cpu[1000], ref_wall[1000];
    bool has_ref[1000];
    const char *claim_python;  /* --claim-python: the version Hello lists, or NULL */
    struct wire_python python; /* --python: the one it has and runs under (default 3.11.2) */
    char python_build[96], python_exe[96];
    int wait_ms;
    uint64_t seq;
    /* the script of each job seen, for results */
    uint64_t job_ids[4096];
    char *job_scripts[4096];
    size_t n_jobs;
};

/* A millisecond count from text, clamped to 0..1 hour. */
static int atoi_safe_ms(const char *s)
{
    long v = strtol(s, NULL, 10);
    return v < 0 ? 0 : v > 3600000 ? 3600000 : (int)v;
}

#define FAKE_SEND_MS 10000
#define FAKE_TERM_MS 10000

static void agent_connect(struct agent *a)
{
    if (a->sock)
        zmq_close(a->sock);
    a->sock = zmq_socket(a->ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero));
    int send_ms = FAKE_SEND_MS;
    zmq_setsockopt(a->sock, ZMQ_SNDTIMEO, &send_ms, sizeof(send_ms));
    if (a->routing_id)
        zmq_setsockopt(a->sock, ZMQ_ROUTING_ID, a->routing_id, strlen(a->routing_id));
    if (a->server_key) {
        char public[41];
        if (a->secret_key == NULL || zmq_curve_public(public, a->secret_key) < 0) {
            fprintf(stderr, "fake_agent: --server-key needs a valid --secret-key\n");
            exit(2);
        }
        zmq_setsockopt(a->sock, ZMQ_CURVE_SERVERKEY, a->server_key, 40);
        zmq_setsockopt(a->sock, ZMQ_CURVE_PUBLICKEY, public, 40);
        zmq_setsockopt(a->sock, ZMQ_CURVE_SECRETKEY, a->secret_key, 40);
    }
    if (zmq_connect(a->sock, a->endpoint) < 0) {
        fprintf(stderr, "fake_agent: could not connect \"%s\": %s\n", a->endpoint,
                zmq_strerror(errno));
        exit(2);
    }
}

static void send_bytes(struct agent *a, const void *buf, size_t len)
{
    if (zmq_send(a->sock, buf, len, 0) < 0)
        printf("send_failed %s\n", zmq_strerror(errno));
}

static void send_msg(struct agent *a, struct wire_msg *m)
{
    uint8_t *buf;
    size_t len;
    m->seq = ++a->seq;
    int rc = wire_encode(m, &buf, &len);
    if (rc < 0) {
        printf("encode_failed %d\n", rc);
        return;
    }
    send_bytes(a, buf, len);
    free(buf);
}

static void remember_job(struct agent *a, uint64_t id, const char *script)
{
    for (size_t i = 0; i < a->n_jobs; i++) {
        if (a->job_ids[i] == id) {
            free(a->job_scripts[i]);
            a->job_scripts[i] = xstrdup(script);
            return;
        }
    }
    if (a->n_jobs < 4096) {
        a->job_ids[a->n_jobs] = id;
        a->job_scripts[a->n_jobs++] = xstrdup(script);
    }
}

static const char *job_script(const struct agent *a, uint64_t id)
{
    for (size_t i = 0; i < a->n_jobs; i++)
        if (a->job_ids[i] == id)
            return a->job_scripts[i];
    return "examples/a.py";
}

/* Print one received message; returns its type (WIRE_NONE when undecodable). */
static enum wire_type print_msg(struct agent *a, const void *buf, size_t len)
{
    struct wire_error err;
    struct wire_msg *m = wire_decode(buf, len, &err);
    if (m == NULL) {
        printf("undecodable %s\n", err.msg);
        return WIRE_NONE;
    }
    enum wire_type t = m->type;
    char id[37];
    switch (t) {
    case WIRE_WELCOME:
        printf("welcome agent_id=%s heartbeat_ms=%" PRIu32 " lease_ms=%" PRIu32 "\n",
               m->welcome.agent_id, m->welcome.heartbeat_ms, m->welcome.lease_ms);
        break;
    case WIRE_JOB:
        printf("job id=%" PRIu64 " attempt=%" PRIu32 " batch=%" PRIu64 " script=%s repeat=%" PRIu32
               " mode=%s args=%zu python=%s commit=%s%s%s\n",
               m->job.job_id, m->job.attempt, m->job.batch_id, m->job.script, m->job.repeat,
               wire_mode_name(m->job.mode), m->job.n_args, *m->job.python ? m->job.python : "-",
               m->job.commit && *m->job.commit ? m->job.commit : "-",
               m->job.reference && *m->job.reference ? " reference=" : "",
               m->job.reference ? m->job.reference : "");
        remember_job(a, m->job.job_id, m->job.script);
        break;
    case WIRE_ACK:
        wire_run_id_format(m->ack.run_id, id);
        printf("ack run_id=%s\n", id);
        break;
    case WIRE_ERROR:
        printf("error code=%s message=%s\n", wire_error_code_name(m->error.code), m->error.message);
        break;
    case WIRE_SUBMIT_REPLY:
        printf("submit_reply batch=%" PRIu64 " jobs=%" PRIu32 "\n", m->submit_reply.batch_id,
               m->submit_reply.jobs);
        break;
    case WIRE_QUERY_REPLY:
        printf("query_reply %s\n", m->query_reply.json);
        break;
    default:
        printf("other %s\n", wire_type_name(t));
        break;
    }
    fflush(stdout);
    wire_msg_destroy(&m);
    return t;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Print messages until one of type want arrives (WIRE_NONE: any reply but a
 * Job), max_jobs jobs arrived, or ms pass. Prints "timeout" when waiting for
 * a reply that never came.
 */
static void wait_for(struct agent *a, enum wire_type want, int ms, int max_jobs, bool quiet)
{
    int64_t end = now_ms() + ms;
    int jobs = 0;
    for (;;) {
        int64_t left = end - now_ms();
        if (left <= 0)
            break;
        zmq_pollitem_t item = {a->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, a->sock, 0) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        enum wire_type t = print_msg(a, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
        if (t == WIRE_JOB && max_jobs > 0 && ++jobs >= max_jobs)
            return;
        if (want != WIRE_JOB &&
            (t == want || t == WIRE_ERROR || (want == WIRE_NONE && t != WIRE_JOB)))
            return;
    }
    if (!quiet)
        printf("timeout\n");
    fflush(stdout);
}

/* Decode C escapes of s (\n \r \t \e \xHH \\) into a new string. */
static char *unescape(const char *s)
{
    char *out = xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s != '\\' || s[1] == '\0') {
            *o++ = *s;
            continue;
        }
        s++;
        unsigned v;
        switch (*s) {
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'e':
            *o++ = '\x1b';
            break;
        case 'a':
            *o++ = '\a';
            break;
        case 'x':
            if (sscanf(s + 1, "%2x", &v) == 1 && v != 0) {
                *o++ = (char)v;
                s += 2;
            }
            break;
        default:
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void fill_host(const struct agent *a, struct wire_host *h, char *hostname, size_t len)
{
    static const struct wire_label labels[] = {{"pool", "test"}};
    static struct wire_label hostile[1];
    hostile[0] = (struct wire_label){"pool", a->text};
    snprintf(hostname, len, "host-%s", a->text ? a->text : a->fingerprint);
    memset(h, 0, sizeof(*h));
    h->fingerprint = a->fingerprint;
    h->hostname = hostname;
    h->cpu_model = "Fake CPU";
    h->cores = 2;
    h->mem_bytes = 1ull << 33;
    h->os = "Debian GNU/Linux 12";
    h->kernel = "6.1.0";
    h->arch = "x86_64";
    h->governor = "performance";
    h->load1 = 0.5;
    h->machine_id = a->machine;
    h->n_labels = 1;
    h->labels = a->text ? hostile : labels;
}

static const struct wire_python PYTHON = {"3.11.2", "3.11.2 (main) [GCC 12.2.0]",
                                          "/usr/bin/python3.11"};

static void cmd_hello(struct agent *a, int argc, char **argv)
{
    if (argc > 1)
        snprintf(a->name, sizeof(a->name), "%s", argv[1]);
    char hostname[256];
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HELLO);
    m.hello.name = a->name;
    fill_host(a, &m.hello.host, hostname, sizeof(hostname));
    m.hello.python = a->python;
    if (a->python.version != PYTHON.version) {
        m.hello.pythons = &a->python;
        m.hello.n_pythons = 1;
    }
    m.hello.agent_version = "fake-0.1";
    m.hello.max_jobs = 4;
    struct wire_python claimed = {a->claim_python, "claimed", "/opt/claimed/bin/python3", "cpython",
                                  ""};
    if (a->claim_python) {
        m.hello.pythons = &claimed;
        m.hello.n_pythons = 1;
    }
    send_msg(a, &m);
    wait_for(a, WIRE_WELCOME, a->wait_ms, 0, false);
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void cmd_result(struct agent *a, int argc, char **argv)
{
    if (argc < 3) {
        printf("usage: result JOB ATTEMPT [RUNID] [OUTCOME] [SCRIPT]\n");
        return;
    }
    struct wire_msg m;
    wire_msg_init(&m, WIRE_RESULT);
    struct wire_result *r = &m.result;
    r->job_id = strtoull(argv[1], NULL, 10);
    r->attempt = (uint32_t)strtoul(argv[2], NULL, 10);
    if (argc > 3 && strcmp(argv[3], "-") != 0) {
        if (parse_hex(argv[3], r->run_id, 16) < 0) {
            printf("bad run id\n");
            return;
        }
    } else {
        uuid_generate_random(r->run_id);
    }
    r->outcome = WIRE_OUTCOME_OK;
    if (argc > 4) {
        for (int o = WIRE_OUTCOME_OK; o <= WIRE_OUTCOME_ERROR; o++)
            if (strcmp(argv[4], wire_outcome_name((enum wire_outcome)o)) == 0)
                r->outcome = (enum wire_outcome)o;
    }
    r->script_key = argc > 5 ? argv[5] : job_script(a, r->job_id);
    r->message = a->text ? a->text : "fake run";
    r->script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    r->python = a->python;
    char hostname[256];
    fill_host(a, &r->host, hostname, sizeof(hostname));
    static struct wire_measurement runs[1000];
    static const struct wire_measurement three[3] = {{1.0, 0.9, 1000000, 0, 0, false},
                                                     {1.1, 1.0, 1000100, 0, 0, false},
                                                     {1.05, 0.95, 1000050, 0, 0, false}};
    uint64_t jitter = 88172645463325252ull;
    for (int k = 0; k < a->runs; k++) {
        runs[k] = three[k % 3];
        if (a->runs > 3) { /* samples as varied as real ones: PostgreSQL cannot compress them */
            jitter ^= jitter << 13, jitter ^= jitter >> 7, jitter ^= jitter << 17;
            double j = (double)(jitter >> 11) / 9007199254740992.0; /* [0, 1) */
            runs[k].wall_s += 0.01 * j;
            runs[k].cpu_s += 0.01 * j;
            runs[k].peak_rss_bytes += jitter >> 44;
        }
    }
    for (size_t k = 0; k < (size_t)a->runs; k++) {
        runs[k].has_ref_script = k < a->n_refs && a->has_ref[k];
        runs[k].ref_script_cpu_s = runs[k].has_ref_script ? a->ref_cpu[k] : 0;
        runs[k].ref_script_wall_s = runs[k].has_ref_script ? a->ref_wall[k] : 0;
    }
    r->n_runs = (size_t)a->runs;
    r->runs = runs;
    struct wire_function fns[N_FUNCS];
    char keys[N_FUNCS][256];
    double self_runs[N_FUNCS][3], total_runs[N_FUNCS][3];
    for (int i = 0; i < N_FUNCS; i++) {
        if (i == 0 && a->text)
            snprintf(keys[i], sizeof(keys[i]), "bench.py:%s:1", a->text);
        else
            snprintf(keys[i], sizeof(keys[i]), "bench.py:f%d:%d", i, 10 * i + 1);
        for (int k = 0; k < 3; k++) {
            self_runs[i][k] = 0.01 * (i + 1) + 0.001 * k;
            total_runs[i][k] = 0.02 * (i + 1) + 0.001 * k;
        }
        fns[i] = (struct wire_function){
            keys[i], (uint64_t)i * 7, self_runs[i][1], total_runs[i][1], 3, self_runs[i],
            3,       total_runs[i]};
    }
    r->n_functions = N_FUNCS;
    r->functions = fns;
    uint32_t frames[3] = {0, 1, 2};
    const char *thread = a->text ? a->text : "MainThread";
    struct wire_stack stacks[2] = {{thread, 3, frames, 120}, {"MainThread", 2, frames, 30}};
    r->n_stacks = 2;
    r->stacks = stacks;
    r->started_at = "2026-11-24T08:00:00.5Z";
    send_msg(a, &m);
    wait_for(a, WIRE_ACK, a->wait_ms, 0, false);
}

/* refs SPEC|off: "CPU/WALL,-,CPU/WALL": the reference figures of the next Results. */
static void cmd_refs(struct agent *a, int argc, char **argv)
{
    a->n_refs = 0;
    if (argc < 2 || strcmp(argv[1], "off") == 0)
        return;
    for (const char *t = argv[1]; *t && a->n_refs < 1000;) {
        size_t n = strcspn(t, ","), k = a->n_refs++;
        const char *slash = memchr(t, '/', n);
        a->has_ref[k] = slash != NULL;
        if (slash) {
            a->ref_cpu[k] = strtod(t, NULL);
            a->ref_wall[k] = strtod(slash + 1, NULL);
        }
        t += n + (t[n] == ',');
    }
}

static void cmd_heartbeat(struct agent *a, int argc, char **argv)
{
    struct wire_job_ref refs[MAX_WORDS];
    size_t n = 0;
    for (int i = 1; i < argc && n < MAX_WORDS; i++) {
        char *colon = strchr(argv[i], ':');
        if (colon == NULL)
            continue;
        refs[n].job_id = strtoull(argv[i], NULL, 10);
        refs[n++].attempt = (uint32_t)strtoul(colon + 1, NULL, 10);
    }
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HEARTBEAT);
    m.heartbeat.n_running = n;
    m.heartbeat.running = refs;
    send_msg(a, &m);
    wait_for(a, WIRE_NONE, 300, 0, true);
}

static void cmd_submit(struct agent *a, int argc, char **argv)
{
    struct wire_suite_entry entries[MAX_WORDS];
    const char *names[MAX_WORDS];
    static const char *const args[] = {"--n", "3"};
    size_t n = 0, n_names = 0;
    struct wire_suite_entry ref = {0};
    bool has_ref = false;
    const char *python = "", *commit = "abc123", *try_base = NULL;
    uint32_t try_rounds = 0;
    char *hostile = a->text ? xasprintf("examples/%s.py", a->text) : NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '~' || argv[i][0] == '^' || argv[i][0] == '*') {
            if (argv[i][0] == '~')
                commit = argv[i] + 1;
            else if (argv[i][0] == '^')
                try_base = argv[i] + 1;
            else
                try_rounds = (uint32_t)strtoul(argv[i] + 1, NULL, 10);
            continue;
        }
        if (argv[i][0] == '@') {
            names[n_names++] = argv[i] + 1;
            continue;
        }
        if (argv[i][0] == '=') {
            python = argv[i] + 1;
            continue;
        }
        if (argv[i][0] == '+') {
            ref = (struct wire_suite_entry){argv[i] + 1, 0, NULL, 3, 0, WIRE_MODE_SAMPLE, 0, 0};
            has_ref = true;
            continue;
        }
        const char *script = strcmp(argv[i], "%") == 0 && hostile ? hostile : argv[i];
        entries[n++] = (struct wire_suite_entry){script, 2, args, 3, 0, WIRE_MODE_SAMPLE, 0, 0};
    }
    for (size_t i = 0; i < n; i++)
        entries[i].python = python;
    struct wire_msg m;
    wire_msg_init(&m, WIRE_SUBMIT);
    m.submit.suite = a->text ? a->text : "test-suite";
    m.submit.n_entries = n;
    m.submit.entries = entries;
    m.submit.hosts.all = n_names == 0;
    m.submit.hosts.n_names = n_names;
    m.submit.hosts.names = names;
    m.submit.label = a->text ? a->text : "night 1";
    m.submit.commit = commit;
    m.submit.try_base = try_base;
    m.submit.try_rounds = try_rounds;
    m.submit.reference = has_ref ? &ref : NULL;
    send_msg(a, &m);
    free(hostile);
    wait_for(a, WIRE_SUBMIT_REPLY, a->wait_ms, 0, false);
}

static void cmd_query(struct agent *a, int argc, char **argv)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_QUERY);
    const char *kind = argc > 1 ? argv[1] : "hosts";
    m.query.kind = strcmp(kind, "jobs") == 0     ? WIRE_QUERY_JOBS
                   : strcmp(kind, "batch") == 0  ? WIRE_QUERY_BATCH
                   : strcmp(kind, "try") == 0    ? WIRE_QUERY_TRY
                   : strcmp(kind, "bisect") == 0 ? WIRE_QUERY_BISECT
                   : strcmp(kind, "cancel") == 0 ? WIRE_QUERY_BISECT
                                                 : WIRE_QUERY_HOSTS;
    if (strcmp(kind, "cancel") == 0) {
        m.query.state = "cancel";
        m.query.note = "fake@agent";
    }
    m.query.batch_id = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
    send_msg(a, &m);
    wait_for(a, WIRE_QUERY_REPLY, a->wait_ms, 0, false);
}

static void cmd_raw(struct agent *a, int argc, char **argv)
{
    if (argc < 2) {
        send_bytes(a, "", 0);
    } else {
        size_t n = strlen(argv[1]) / 2;
        uint8_t *buf = xmalloc(n + 1);
        if (parse_hex(argv[1], buf, n) < 0) {
            printf("bad hex\n");
            free(buf);
            return;
        }
        send_bytes(a, buf, n);
        free(buf);
    }
    wait_for(a, WIRE_NONE, a->wait_ms, 0, false);
}

/* Split line into words in place; returns the count. */
static int split(char *line, char **words)
{
    int n = 0;
    char *p = line;
    while (*p && n < MAX_WORDS) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (*p == '\0')
            break;
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    return n;
}

static void run_command(struct agent *a, int argc, char **argv)
{
    const char *c = argv[0];
    if (strcmp(c, "hello") == 0) {
        cmd_hello(a, argc, argv);
    } else if (strcmp(c, "ready") == 0) {
        struct wire_msg m;
        wire_msg_init(&m, WIRE_READY);
        m.ready.credit = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1;
        send_msg(a, &m);
        int ms = argc > 2 ? atoi_safe_ms(argv[2]) : a->wait_ms;
        wait_for(a, WIRE_JOB, ms, (int)m.ready.credit, true);
    } else if (strcmp(c, "result") == 0) {
        cmd_result(a, argc, argv);
    } else if (strcmp(c, "refs") == 0) {
        cmd_refs(a, argc, argv);
    } else if (strcmp(c, "heartbeat") == 0) {
        cmd_heartbeat(a, argc, argv);
    } else if (strcmp(c, "submit") == 0) {
        cmd_submit(a, argc, argv);
    } else if (strcmp(c, "query") == 0) {
        cmd_query(a, argc, argv);
    } else if (strcmp(c, "raw") == 0) {
        cmd_raw(a, argc, argv);
    } else if (strcmp(c, "big") == 0) {
        size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : WIRE_MAX_MSG_BYTES + 1;
        uint8_t *buf = xcalloc(n ? n : 1, 1);
        send_bytes(a, buf, n);
        free(buf);
        wait_for(a, WIRE_NONE, 500, 0, false);
    } else if (strcmp(c, "frames") == 0) {
        zmq_send(a->sock, "a", 1, ZMQ_SNDMORE);
        zmq_send(a->sock, "b", 1, 0);
        wait_for(a, WIRE_NONE, a->wait_ms, 0, false);
    } else if (strcmp(c, "reconnect") == 0) {
        agent_connect(a);
    } else if (strcmp(c, "drain") == 0) {
        wait_for(a, WIRE_JOB, argc > 1 ? atoi_safe_ms(argv[1]) : 300, 0, true);
    } else if (strcmp(c, "sleep") == 0) {
        usleep((useconds_t)(argc > 1 ? atoi_safe_ms(argv[1]) : 100) * 1000);
    } else {
        printf("unknown command \"%s\"\n", c);
    }
    fflush(stdout);
}

static void *term_thread(void *ctx)
{
    zmq_ctx_term(ctx);
    return NULL;
}

/* zmq_ctx_term(ctx), waiting FAKE_TERM_MS at most (the header comment says why). */
static void term_bounded(void *ctx)
{
    pthread_t t;
    if (pthread_create(&t, NULL, term_thread, ctx) != 0) {
        zmq_ctx_term(ctx);
        return;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += FAKE_TERM_MS / 1000;
    if (pthread_timedjoin_np(t, NULL, &until) != 0) {
        fprintf(stderr, "fake_agent: zmq_ctx_term still waiting after %d ms; exiting\n",
                FAKE_TERM_MS);
        fflush(NULL);
        _exit(0);
    }
}

int main(int argc, char **argv)
{
    static struct agent a = {
        .name = "fake-agent", .fingerprint = "00112233aabbccdd", .wait_ms = 3000, .runs = 3};
    a.python = PYTHON;
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"fingerprint", required_argument, NULL, 'f'},
        {"wait", required_argument, NULL, 'w'},
        {"server-key", required_argument, NULL, 's'},
        {"secret-key", required_argument, NULL, 'k'},
        {"keygen", no_argument, NULL, 'g'},
        {"routing-id", required_argument, NULL, 'r'},
        {"machine", required_argument, NULL, 'm'},
        {"text", required_argument, NULL, 't'},
        {"runs", required_argument, NULL, 'R'},
        {"claim-python", required_argument, NULL, 'P'},
        {"python", required_argument, NULL, 'p'},
        {"python-build", required_argument, NULL, 'B'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            a.endpoint = optarg;
            break;
        case 'n':
            snprintf(a.name, sizeof(a.name), "%s", optarg);
            break;
        case 'f':
            a.fingerprint = optarg;
            break;
        case 'w':
            a.wait_ms = atoi_safe_ms(optarg);
            break;
        case 's':
            a.server_key = optarg;
            break;
        case 'r':
            a.routing_id = optarg;
            break;
        case 'm':
            a.machine = optarg;
            break;
        case 'R':
            a.runs = atoi_safe_ms(optarg);
            a.runs = a.runs < 1 ? 1 : a.runs > 1000 ? 1000 : a.runs;
            break;
        case 'P':
            a.claim_python = optarg;
            break;
        case 'p':
            snprintf(a.python_build, sizeof(a.python_build), "%s (main) [GCC 12.2.0]", optarg);
            snprintf(a.python_exe, sizeof(a.python_exe), "/opt/python%s/bin/python3", optarg);
            a.python = (struct wire_python){optarg, a.python_build, a.python_exe, "cpython", ""};
            break;
        case 'B':
            snprintf(a.python_build, sizeof(a.python_build), "%s", optarg);
            a.python.build = a.python_build;
            break;
        case 't':
            free(a.text);
            a.text = unescape(optarg);
            break;
        case 'k':
            a.secret_key = optarg;
            break;
        case 'g': {
            char pub[41], sec[41];
            if (zmq_curve_keypair(pub, sec) < 0)
                return 1;
            printf("%s %s\n", pub, sec);
            return 0;
        }
        default:
            return 2;
        }
    }
    if (a.endpoint == NULL) {
        fprintf(stderr, "usage: fake_agent --connect ENDPOINT [--name N] [--fingerprint F]\n");
        return 2;
    }
    a.ctx = zmq_ctx_new();
    agent_connect(&a);
    char line[8192];
    while (fgets(line, sizeof(line), stdin)) {
        char *words[MAX_WORDS];
        int n = split(line, words);
        if (n > 0 && words[0][0] != '#')
            run_command(&a, n, words);
    }
    zmq_close(a.sock);
    term_bounded(a.ctx);
    for (size_t i = 0; i < a.n_jobs; i++)
        free(a.job_scripts[i]);
    free(a.text);
    return 0;
}
