/*
 * router.c - peers, message handlers, periodic work.
 *
 * Design notes: handlers never block on the network: every send is
 * non-blocking and a refused send is counted and dropped (the agent resends
 * what matters: a result stays in its spool until acked; a lost Job's lease
 * expires and the job is requeued). Acks go out only after the store has
 * committed. The peer table is a list: a farm has tens of agents.
 */
#include "router.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyst.h"
#include "batch_report.h"
#include "bisection.h"
#include "errors.h"
#include "fault.h"
#include "log.h"
#include "query_series.h"
#include "report.h"
#include "router_fsm.h"
#include "trybatch.h"
#include "wire.h"
#include "writer.h"
#include "xmalloc.h"
#include "zap.h"

/* A connected agent. */
struct peer {
    uint8_t id[TRANSPORT_MAX_ID]; /* ZeroMQ routing id */
    size_t id_len;
    enum router_state state;     /* READY or RUNNING (coordinator/router_fsm.h) */
    char *name;                  /* agent name from Hello (lease owner); with CURVE, the key's */
    char key[CURVE_Z85_LEN + 1]; /* with CURVE: the public key it said Hello with (its identity) */
    char host[CURVE_NAME_MAX + 1]; /* with CURVE: the host its allowlist entry grants */
    int64_t host_id;               /* hosts.id */
    uint32_t credit;               /* jobs it will take now */
    int64_t last_seen;             /* monotonic ms */
    int64_t work_seen;             /* monotonic ms: first Hello, credit, lease renewed or result */
    struct peer *next;
};

/* What happened, by kind; all shown in logs and Query replies. */
struct counters {
    struct wire_counters wire;  /* undecodable or invalid messages, by reason */
    uint64_t extra_frames;      /* messages of more than one payload frame */
    uint64_t unexpected;        /* valid message in the wrong state */
    uint64_t forbidden;         /* result for a job leased to another agent */
    uint64_t unknown_job;       /* result for a job that does not exist */
    uint64_t stale_attempt;     /* result for an attempt that is not the current lease */
    uint64_t internal;          /* database failures */
    uint64_t send_again;        /* sends dropped: the peer's queue was full */
    uint64_t send_unreachable;  /* sends dropped: the peer was gone */
    uint64_t hellos;            /* agents registered */
    uint64_t jobs_sent;         /* jobs leased and sent */
    uint64_t leases_renewed;    /* (job, attempt) pairs renewed by heartbeats */
    uint64_t leases_reaped;     /* expired leases returned to the queue or failed */
    uint64_t results_stored;    /* results committed */
    uint64_t results_duplicate; /* results already stored, acked again */
    uint64_t submits;           /* batches created */
    uint64_t queries;           /* queries answered */
    uint64_t peers_expired;     /* agents forgotten after peer_timeout_ms of silence */
    uint64_t connections;       /* connections accepted */
    uint64_t disconnections;    /* connections closed: peer left, or dropped by ZeroMQ
                                   (e.g. a message over 4 MiB) */
    uint64_t revoked;           /* messages ignored: their key is no longer allowed */
    uint64_t peers_revoked;     /* agents forgotten because their key was revoked */
    uint64_t impersonation;     /* messages refused: sent under another key's routing id */
    uint64_t no_hello;          /* agent messages refused: their key has not said Hello */
    uint64_t reconnections;     /* an agent's key came back on a new connection */
    uint64_t jobs_host_offline; /* queued jobs ended: their host had no live agent */
    uint64_t jobs_no_python;    /* queued jobs ended: no live agent of their host had the Python */
    uint64_t labels_pinned;     /* Hellos whose labels the key file's "labels =" replaced */
};

/* Refusal warnings logged per window (then counted only), and the window. */
#define ROUTER_WARN_BURST     20
#define ROUTER_WARN_WINDOW_MS 10000

/* A valid result waiting for the group commit (router_flush()). */
struct pending {
    struct wire_msg *m; /* owned */
    uint8_t id[TRANSPORT_MAX_ID];
    size_t id_len;
    char *owner; /* owned: the agent's name */
};

#define ROUTER_MAX_PENDING 256 /* results stored per transaction, at most */

/* The results one writer is storing (its thread owns them until collected). */
struct group {
    struct writer *writer; /* borrowed */
    struct pending items[ROUTER_MAX_PENDING];
    struct store_result_item st[ROUTER_MAX_PENDING];
    size_t n; /* 0: the writer is free */
};

struct router {
    void *sock;
    struct pending pending[ROUTER_MAX_PENDING]; /* the next group, filling */
    size_t n_pending;
    struct group *groups; /* one per writer */
    size_t n_groups;
    struct analyst *analyst; /* borrowed; NULL: none */
    struct store *store;
    const struct coord_config *cfg;
    struct zap *zap;         /* NULL without CURVE */
    uint64_t zap_generation; /* allowlist generation last checked for revocations */
    struct peer *peers;
    uint64_t seq; /* our message numbers */
    struct counters c;
    int64_t next_dispatch;
    bool dispatch_due; /* a peer gave credit: claim at the next router_flush() */
    int64_t next_reap;
    int64_t next_stats;
    int64_t now;               /* of the message being handled (monotonic ms) */
    int64_t warn_window_start; /* refusal warnings: rate limit */
    unsigned warn_count;
    uint64_t warn_suppressed;
};

/*
 * Log a refusal as a warning, at most ROUTER_WARN_BURST per window (a key
 * that floods refusals cannot flood the log); the counters see them all.
 */
static void refusal_warn(struct router *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void refusal_warn(struct router *r, const char *fmt, ...)
{
    if (r->now - r->warn_window_start >= ROUTER_WARN_WINDOW_MS) {
        if (r->warn_suppressed)
            log_warn("%" PRIu64
                     " more refusals in the last %d s were not logged (see the counters)",
                     r->warn_suppressed, ROUTER_WARN_WINDOW_MS / 1000);
        r->warn_window_start = r->now;
        r->warn_count = 0;
        r->warn_suppressed = 0;
    }
    if (r->warn_count >= ROUTER_WARN_BURST) {
        r->warn_suppressed++;
        return;
    }
    r->warn_count++;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_warn("%s", msg);
}

/* Who sent tm, for logs: "agent:NAME (key ABCDEFGH...)", or "a peer without a key". */
static const char *peer_label(const struct transport_msg *tm, char *buf, size_t len)
{
    if (tm->user_id[0] == '\0')
        return "a peer without a key";
    char abbrev[16];
    curve_public_abbrev(tm->key, abbrev, sizeof(abbrev));
    snprintf(buf, len, "%s (key %s)", tm->user_id, abbrev);
    return buf;
}

struct router *router_new(void *sock, struct store *store, struct writer *const *writers,
                          size_t n_writers, struct analyst *analyst, const struct coord_config *cfg,
                          struct zap *zap)
{
    struct router *r = xcalloc(1, sizeof(*r));
    r->analyst = analyst;
    r->groups = xcalloc(n_writers, sizeof(*r->groups));
    r->n_groups = n_writers;
    for (size_t i = 0; i < n_writers; i++)
        r->groups[i].writer = writers[i];
    r->zap = zap;
    if (zap)
        r->zap_generation = zap_generation(zap);
    r->sock = sock;
    r->store = store;
    r->cfg = cfg;
    return r;
}

static void peer_free(struct peer *p)
{
    free(p->name);
    free(p);
}

static void pending_release(struct pending *pend)
{
    wire_msg_destroy(&pend->m);
    free(pend->owner);
    pend->owner = NULL;
}

static void group_answer(struct router *r, struct group *g);

void router_destroy(struct router **rp)
{
    if (rp == NULL || *rp == NULL)
        return;
    /* The groups in flight are committed or not: answer them before the
     * socket closes (what is not acked, the agents send again). */
    for (size_t i = 0; i < (*rp)->n_groups; i++)
        if ((*rp)->groups[i].n > 0 && writer_collect((*rp)->groups[i].writer, true))
            group_answer(*rp, &(*rp)->groups[i]);
    free((*rp)->groups);
    for (size_t i = 0; i < (*rp)->n_pending; i++)
        pending_release(&(*rp)->pending[i]);
    struct peer *p = (*rp)->peers;
    while (p) {
        struct peer *next = p->next;
        peer_free(p);
        p = next;
    }
    free(*rp);
    *rp = NULL;
}

static struct peer *peer_find(struct router *r, const uint8_t *id, size_t len)
{
    for (struct peer *p = r->peers; p; p = p->next)
        if (p->id_len == len && memcmp(p->id, id, len) == 0)
            return p;
    return NULL;
}

/* With CURVE a peer is its key: the agent that said Hello with key (borrowed), or NULL. */
static struct peer *peer_find_key(struct router *r, const char *key)
{
    for (struct peer *p = r->peers; p; p = p->next)
        if (strcmp(p->key, key) == 0)
            return p;
    return NULL;
}

static void peer_remove(struct router *r, struct peer *gone)
{
    for (struct peer **pp = &r->peers; *pp; pp = &(*pp)->next) {
        if (*pp == gone) {
            *pp = gone->next;
            peer_free(gone);
            return;
        }
    }
}

/* Send an encoded message; count and drop on a full queue or a gone peer. */
static int send_raw(struct router *r, const uint8_t *id, size_t id_len, const uint8_t *buf,
                    size_t len)
{
    int rc = transport_send(r->sock, id, id_len, buf, len);
    if (rc == -EAGAIN)
        r->c.send_again++;
    else if (rc == -EHOSTUNREACH)
        r->c.send_unreachable++;
    else if (rc < 0)
        log_warn("could not send a message: %s", strerror(-rc));
    return rc;
}

static int send_msg(struct router *r, const uint8_t *id, size_t id_len, struct wire_msg *m)
{
    uint8_t *buf;
    size_t len;
    m->seq = ++r->seq;
    int rc = wire_encode(m, &buf, &len);
    if (rc < 0) {
        log_error("could not encode a %s message: %s", wire_type_name(m->type), strerror(-rc));
        return rc;
    }
    rc = send_raw(r, id, id_len, buf, len);
    free(buf);
    return rc;
}

static void send_error(struct router *r, const uint8_t *id, size_t id_len, uint64_t reply_to,
                       enum wire_error_code code, const char *message)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_ERROR);
    m.reply_to = reply_to;
    m.error.code = code;
    m.error.message = message;
    send_msg(r, id, id_len, &m);
}

/* Where a store call failed: log it, count it, tell the peer to retry later. */
static void internal_error(struct router *r, const struct transport_msg *tm, uint64_t reply_to,
                           const char *what, const char *err)
{
    r->c.internal++;
    log_error("could not %s: %s", what, err);
    send_error(r, tm->id, tm->id_len, reply_to, WIRE_ERROR_INTERNAL,
               "the coordinator could not reach its database; retry later");
}

/* Argument of send_job(). */
struct dispatch_ctx {
    struct router *r;
    struct peer *p;
};

static void send_job(const struct wire_job *job, void *arg)
{
    struct dispatch_ctx *d = arg;
    struct wire_msg m;
    wire_msg_init(&m, WIRE_JOB);
    m.job = *job;
    /* A lost Job is not fatal: its lease expires and it is queued again. */
    if (send_msg(d->r, d->p->id, d->p->id_len, &m) == 0)
        d->r->c.jobs_sent++;
    if (d->p->credit > 0)
        d->p->credit--;
    d->p->state = router_fsm_step(d->p->state, ROUTER_EV_JOB_SENT).next;
}

/*
 * Hand every peer with credit up to that many queued jobs of its host: one
 * transaction for all of them (store_claim_jobs), so a burst of Ready
 * messages costs one commit, not one each.
 */
static void dispatch_all(struct router *r)
{
    r->dispatch_due = false;
    size_t n = 0;
    for (struct peer *p = r->peers; p; p = p->next)
        n += p->credit > 0;
    if (n == 0)
        return;
    struct store_claim *c = xcalloc(n, sizeof(*c));
    struct dispatch_ctx *d = xcalloc(n, sizeof(*d));
    size_t k = 0;
    for (struct peer *p = r->peers; p; p = p->next) {
        if (p->credit == 0)
            continue;
        d[k] = (struct dispatch_ctx){r, p};
        c[k] = (struct store_claim){p->host_id, p->name, p->credit, send_job, &d[k], 0};
        k++;
    }
    char err[512];
    if (store_claim_jobs(r->store, c, n, r->cfg->lease_ms, r->cfg->lease_grace_s,
                         r->cfg->share_machines != 0, err, sizeof(err)) < 0) {
        r->c.internal++;
        log_error("could not claim jobs for %zu agents: %s", n, err);
    } else {
        for (k = 0; k < n; k++)
            if (c[k].claimed > 0)
                log_debug("leased %d jobs to agent \"%s\"", c[k].claimed, d[k].p->name);
    }
    free(c);
    free(d);
}

/* "k=v,k=v" of n labels, for messages (into buf). */
static const char *labels_text(const struct wire_label *l, size_t n, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k < len; i++) {
        int w = snprintf(buf + k, len - k, "%s%s=%s", i ? "," : "", l[i].key, l[i].value);
        k += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

/* True when a and b hold the same key/value pairs, in any order (keys are unique). */
static bool labels_same(const struct wire_label *a, size_t na, const struct wire_label *b,
                        size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++)
            found = strcmp(a[i].key, b[j].key) == 0 && strcmp(a[i].value, b[j].value) == 0;
        if (!found)
            return false;
    }
    return true;
}

/*
 * When the agent's key file pins its host's labels ("labels =", coordinator/zap.h), put
 * them in *hello (pointing into text and out) in place of the ones it claimed,
 * and say so when they differed: host selection matches the stored labels, so a
 * key cannot declare itself "gpu=a100" to draw those jobs (docs/security.md).
 */
static void pin_labels(struct router *r, const struct transport_msg *tm, struct wire_hello *hello,
                       char *text, size_t textlen, struct wire_label *out, size_t max)
{
    if (!zap_peer_labels(r->zap, tm->user_id, tm->key, text, textlen))
        return;
    const char *keys[WIRE_MAX_LABELS], *values[WIRE_MAX_LABELS];
    char claimed[1024];
    labels_text(hello->host.labels, hello->host.n_labels, claimed, sizeof(claimed));
    size_t n = zap_labels_split(text, keys, values, max);
    for (size_t i = 0; i < n; i++)
        out[i] = (struct wire_label){keys[i], values[i]};
    if (!labels_same(hello->host.labels, hello->host.n_labels, out, n)) {
        char who[ZAP_USER_ID_MAX + 32], pinned[1024];
        r->c.labels_pinned++;
        log_warn("%s said Hello with labels \"%s\"; its key file pins \"%s\": the key file's "
                 "are used",
                 peer_label(tm, who, sizeof(who)), claimed,
                 labels_text(out, n, pinned, sizeof(pinned)));
    }
    hello->host.labels = out;
    hello->host.n_labels = n;
}

/* Register an agent; key_name (borrowed, NULL without CURVE) overrides Hello.name. */
static void on_hello(struct router *r, const struct transport_msg *tm, const struct wire_msg *m,
                     const char *key_name, struct peer *p, int64_t now)
{
    char err[512];
    int64_t host_id;
    struct wire_hello hello = m->hello;
    enum router_state was = p ? p->state : ROUTER_STATE_NEW;
    /* With CURVE the key decides the agent's name and the host it speaks for. */
    char host[CURVE_NAME_MAX + 1] = "";
    char pinned_text[ZAP_LABELS_MAX];
    struct wire_label pinned[WIRE_MAX_LABELS];
    if (key_name) {
        hello.name = key_name;
        if (!zap_peer_host(r->zap, tm->user_id, tm->key, host, sizeof(host)))
            return; /* revoked between the checks: ignored like any revoked message */
        pin_labels(r, tm, &hello, pinned_text, sizeof(pinned_text), pinned, WIRE_MAX_LABELS);
    }
    /* An agent already connected (this socket, or an earlier one of its key) that says
     * Hello again is not taking work: its host's liveness stays what its work made it,
     * or a key that only says Hello could keep a host live forever (issue 12). */
    int64_t work_seen = -1;
    for (struct peer *q = r->peers; q; q = q->next)
        if (q == p || (q->name && strcmp(q->name, hello.name) == 0))
            work_seen = q->work_seen > work_seen ? q->work_seen : work_seen;
    if (store_register(r->store, &hello, key_name ? host : NULL, work_seen < 0, &host_id, err,
                       sizeof(err)) < 0) {
        internal_error(r, tm, m->seq, "register an agent", err);
        return;
    }
    /* The same agent reconnected from a new socket: forget the old one. */
    for (struct peer *q = r->peers, *next; q; q = next) {
        next = q->next;
        if (q != p && q->name && strcmp(q->name, hello.name) == 0)
            peer_remove(r, q);
    }
    if (p == NULL) {
        p = xcalloc(1, sizeof(*p));
        p->next = r->peers;
        r->peers = p;
    }
    memcpy(p->id, tm->id, tm->id_len);
    p->id_len = tm->id_len;
    free(p->name);
    p->name = xstrdup(hello.name);
    snprintf(p->key, sizeof(p->key), "%s", tm->key);
    snprintf(p->host, sizeof(p->host), "%s", host);
    p->host_id = host_id;
    p->state = router_fsm_step(was, ROUTER_EV_HELLO).next;
    p->credit = 0;
    p->last_seen = now;
    p->work_seen = work_seen < 0 ? now : work_seen;
    r->c.hellos++;
    log_info("agent \"%s\" registered (host \"%s\", fingerprint %s, python %s)", p->name,
             key_name ? host : m->hello.host.hostname, m->hello.host.fingerprint,
             m->hello.python.version);
    struct wire_msg w;
    wire_msg_init(&w, WIRE_WELCOME);
    w.reply_to = m->seq;
    w.welcome.agent_id = p->name;
    w.welcome.heartbeat_ms = r->cfg->heartbeat_ms;
    w.welcome.lease_ms = r->cfg->lease_ms;
    send_msg(r, tm->id, tm->id_len, &w);
}

static void on_heartbeat(struct router *r, const struct transport_msg *tm, const struct wire_msg *m,
                         struct peer *p)
{
    char err[512];
    int n = store_renew_leases(r->store, p->name, m->heartbeat.running, m->heartbeat.n_running,
                               r->cfg->lease_ms, err, sizeof(err));
    if (n < 0) {
        internal_error(r, tm, m->seq, "renew leases", err);
        return;
    }
    r->c.leases_renewed += (uint64_t)n;
    if (n > 0)
        p->work_seen = r->now;
    p->state = router_fsm_step(p->state, router_fsm_event(m)).next;
}

/* Answer one result of a flushed group; pend borrowed. */
static void answer_result(struct router *r, const struct pending *pend,
                          const struct store_result_item *item)
{
    const struct wire_msg *m = pend->m;
    char run_id[37];
    wire_run_id_format(m->result.run_id, run_id);
    if (item->rc < 0) {
        r->c.internal++;
        send_error(r, pend->id, pend->id_len, m->seq, WIRE_ERROR_INTERNAL,
                   "the coordinator could not store the result; retry later");
        return;
    }
    switch (item->status) {
    case STORE_RESULT_STORED:
    case STORE_RESULT_DUPLICATE: {
        if (item->status == STORE_RESULT_STORED) {
            r->c.results_stored++;
            log_debug("stored run %s of job %" PRIu64 " from agent \"%s\"", run_id,
                      m->result.job_id, pend->owner);
        } else {
            r->c.results_duplicate++;
        }
        struct wire_msg a;
        wire_msg_init(&a, WIRE_ACK);
        a.reply_to = m->seq;
        memcpy(a.ack.run_id, m->result.run_id, WIRE_RUN_ID_LEN);
        send_msg(r, pend->id, pend->id_len, &a);
        return;
    }
    case STORE_RESULT_UNKNOWN_JOB:
        r->c.unknown_job++;
        log_warn("agent \"%s\" sent run %s for unknown job %" PRIu64, pend->owner, run_id,
                 m->result.job_id);
        send_error(r, pend->id, pend->id_len, m->seq, WIRE_ERROR_UNKNOWN_JOB, "no such job");
        return;
    case STORE_RESULT_STALE:
        r->c.stale_attempt++;
        log_warn("agent \"%s\" sent run %s for job %" PRIu64 " attempt %" PRIu32
                 ", which is not the current lease",
                 pend->owner, run_id, m->result.job_id, m->result.attempt);
        send_error(r, pend->id, pend->id_len, m->seq, WIRE_ERROR_STALE_ATTEMPT,
                   "this attempt is no longer the job's current lease");
        return;
    case STORE_RESULT_FORBIDDEN:
        r->c.forbidden++;
        log_warn("agent \"%s\" sent run %s for job %" PRIu64
                 ", which is leased to another agent or is for another script",
                 pend->owner, run_id, m->result.job_id);
        send_error(r, pend->id, pend->id_len, m->seq, WIRE_ERROR_FORBIDDEN,
                   "this job is not leased to you or is for another script");
        return;
    }
}

/*
 * Hand the queued results to a free writer as one group (one transaction);
 * the loop goes on meanwhile, and router_collect() answers them.
 */
static void flush_results(struct router *r)
{
    if (r->n_pending == 0)
        return;
    struct group *g = NULL;
    for (size_t i = 0; i < r->n_groups && g == NULL; i++)
        if (r->groups[i].n == 0)
            g = &r->groups[i];
    if (g == NULL)
        return; /* every writer is busy: the next free one takes them */
    for (size_t i = 0; i < r->n_pending; i++) {
        g->items[i] = r->pending[i];
        g->st[i] = (struct store_result_item){g->items[i].owner, &g->items[i].m->result,
                                              STORE_RESULT_STORED, 0};
    }
    g->n = r->n_pending;
    r->n_pending = 0;
    writer_submit(g->writer, g->st, g->n);
}

/* Answer each result of a group its writer has given back; the writer is free again. */
static void group_answer(struct router *r, struct group *g)
{
    fault_point("coord_after_commit");
    for (size_t i = 0; i < g->n; i++) {
        answer_result(r, &g->items[i], &g->st[i]);
        pending_release(&g->items[i]);
    }
    g->n = 0;
}

/*
 * Answer the groups the writers have finished (with wait: at least one, if
 * any is in flight); then hand a free writer the next group.
 */
static void router_collect(struct router *r, bool wait)
{
    for (;;) {
        struct pollfd busy[ROUTER_MAX_WRITERS];
        nfds_t n_busy = 0;
        bool answered = false;
        for (size_t i = 0; i < r->n_groups; i++) {
            struct group *g = &r->groups[i];
            if (g->n == 0)
                continue;
            if (writer_collect(g->writer, false)) {
                group_answer(r, g);
                answered = true;
            } else {
                busy[n_busy++] = (struct pollfd){writer_fd(g->writer), POLLIN, 0};
            }
        }
        if (answered || !wait || n_busy == 0)
            break;
        if (poll(busy, n_busy, -1) < 0 && errno != EINTR) {
            log_error("poll on the result writers failed: %s", strerror(errno));
            break;
        }
    }
    flush_results(r); /* the next group, if one is waiting */
}

void router_flush(struct router *r)
{
    router_collect(r, false); /* and hands a free writer the next group */
    if (r->dispatch_due)
        dispatch_all(r);
}

/* Queue a result (stealing *mp) for the next group commit. */
static void queue_result(struct router *r, const struct transport_msg *tm, struct wire_msg **mp,
                         const struct peer *p)
{
    struct pending *pend = &r->pending[r->n_pending++];
    pend->m = *mp;
    *mp = NULL;
    memcpy(pend->id, tm->id, tm->id_len);
    pend->id_len = tm->id_len;
    pend->owner = xstrdup(p->name);
    if (r->n_pending == ROUTER_MAX_PENDING) {
        /* the next group is full: to a free writer, else wait for one to finish */
        flush_results(r);
        if (r->n_pending > 0)
            router_collect(r, true);
    }
}

static void on_submit(struct router *r, const struct transport_msg *tm, const struct wire_msg *m)
{
    char err[512];
    uint64_t batch_id = 0, bisection_id = 0;
    uint32_t jobs = 0;
    int rc = m->submit.bisect
                 ? bisection_create(r->store, &m->submit, r->cfg->bisect_budget_s, &bisection_id,
                                    err, sizeof(err))
                 : store_submit(r->store, &m->submit, r->cfg->job_timeout_s, r->cfg->max_attempts,
                                &batch_id, &jobs, err, sizeof(err));
    if (rc == -ENOENT || rc == -PYSCOPE_EUSAGE) { /* an unknown host; a Python no host has */
        log_info("submit of suite \"%s\" refused: %s", m->submit.suite, err);
        send_error(r, tm->id, tm->id_len, m->seq, WIRE_ERROR_MALFORMED, err);
        return;
    }
    if (rc < 0) {
        internal_error(r, tm, m->seq, "create a batch", err);
        return;
    }
    r->c.submits++;
    if (bisection_id)
        log_info("bisection %" PRIu64 " of %s on %s: %.12s..%.12s", bisection_id,
                 m->submit.entries[0].script, m->submit.hosts.names[0], m->submit.try_base,
                 m->submit.commit);
    else
        log_info("batch %" PRIu64 " of suite \"%s\": %" PRIu32 " jobs", batch_id, m->submit.suite,
                 jobs);
    struct wire_msg rep;
    wire_msg_init(&rep, WIRE_SUBMIT_REPLY);
    rep.reply_to = m->seq;
    rep.submit_reply.batch_id = batch_id;
    rep.submit_reply.jobs = jobs;
    rep.submit_reply.bisection_id = bisection_id;
    send_msg(r, tm->id, tm->id_len, &rep);
    /* Waiting agents need not wait for the next dispatch tick. */
    r->dispatch_due = true;
}

static json_t *counters_json(const struct router *r)
{
    const struct counters *c = &r->c;
    json_t *o = json_object();
    json_t *rej = json_object();
    for (int i = 0; i < WIRE_REJECT__COUNT; i++)
        json_object_set_new(rej, wire_reject_name((enum wire_reject)i),
                            json_integer((json_int_t)c->wire.rejects[i]));
    json_object_set_new(rej, "extra_frames", json_integer((json_int_t)c->extra_frames));
    json_object_set_new(o, "rejected", rej);
#define COUNTER(name) json_object_set_new(o, #name, json_integer((json_int_t)c->name))
    /* database failures: the loop's and the analyst's */
    json_object_set_new(o, "internal",
                        json_integer((json_int_t)(c->internal + analyst_errors(r->analyst))));
    COUNTER(unexpected);
    COUNTER(forbidden);
    COUNTER(unknown_job);
    COUNTER(stale_attempt);
    COUNTER(send_again);
    COUNTER(send_unreachable);
    COUNTER(hellos);
    COUNTER(jobs_sent);
    COUNTER(leases_renewed);
    COUNTER(leases_reaped);
    COUNTER(results_stored);
    COUNTER(results_duplicate);
    COUNTER(submits);
    COUNTER(queries);
    COUNTER(peers_expired);
    COUNTER(connections);
    COUNTER(disconnections);
    COUNTER(revoked);
    COUNTER(peers_revoked);
    COUNTER(impersonation);
    COUNTER(no_hello);
    COUNTER(reconnections);
    COUNTER(jobs_host_offline);
    COUNTER(jobs_no_python);
    COUNTER(labels_pinned);
#undef COUNTER
    struct zap_stats zs = {0};
    if (r->zap)
        zap_get_stats(r->zap, &zs);
    json_object_set_new(o, "keys_allowed", json_integer((json_int_t)zs.allowed));
    json_object_set_new(o, "keys_refused",
                        json_integer((json_int_t)(zs.refused_unknown + zs.refused_mechanism +
                                                  zs.refused_domain + zs.refused_malformed)));
    return o;
}

/*
 * The reply document of query q (borrowed) as new JSON text in *text, or
 * NULL with the failure in err (returns its code). truncated (may be NULL):
 * {"limit", "asked", "reason"}, added when the list was cut to fit.
 */
static const char *const query_kinds[] = {"",       "hosts",         "jobs",
                                          "batch",  "report",        "regression",
                                          "series", "compare_hosts", "compare_pythons",
                                          "try",    "bisect"};

static int query_reply_text(struct router *r, const struct wire_query *q, const char *who,
                            json_t *truncated, char **text, char *err, size_t errlen)
{
    static const char *const schemas[] = {"",
                                          "pyscope.hosts/1",
                                          "pyscope.jobs/1",
                                          "pyscope.batch/1",
                                          "pyscope.team_report/1",
                                          "pyscope.triage/1",
                                          "pyscope.series/1",
                                          "pyscope.compare_hosts/1",
                                          "pyscope.compare_pythons/1",
                                          "pyscope.try_farm/1",
                                          "pyscope.bisect_farm/1"};
    *text = NULL;
    json_t *value = NULL, *error = NULL;
    /* a batch that does not exist is said in "error", not answered as an empty one */
    int rc = store_query_missing(r->store, q, &error, err, errlen);
    if (rc < 0)
        return rc;
    bool stored = false;
    if (error)
        value = json_null();
    else
        rc = q->kind == WIRE_QUERY_REPORT
                 ? batch_report_get(r->store, q, &value, &stored, err, errlen)
             : q->kind == WIRE_QUERY_TRIAGE ? report_triage(r->store, q, &value, err, errlen)
             : q->kind == WIRE_QUERY_TRY    ? trybatch_answer(r->store, q, &value, err, errlen)
             : q->kind == WIRE_QUERY_BISECT && q->state && strcmp(q->state, "cancel") == 0
                 ? bisection_cancel(r->store, q, who, &value, err, errlen)
             : q->kind == WIRE_QUERY_BISECT ? bisection_answer(r->store, q, &value, err, errlen)
             : q->kind >= WIRE_QUERY_SERIES ? query_series_answer(r->store, q, &value, err, errlen)
                                            : store_query(r->store, q, &value, err, errlen);
    if (rc < 0)
        return rc;
    if (stored)
        log_debug("the team report of batch %" PRIu64 " for %s: the stored one", q->batch_id,
                  *who ? who : "a query");
    if (q->kind == WIRE_QUERY_TRIAGE && json_is_null(value))
        error = json_pack("{s:s, s:s}", "code", "unknown_regression", "message",
                          "no regression has that id (pyscope report lists them with their ids)");
    /* a triage changes its batches' reports: the analyst rebuilds the stored ones */
    if (q->kind == WIRE_QUERY_TRIAGE && !json_is_null(value)) {
        char ierr[512];
        if (batch_report_invalidate(r->store, q->regression_id, ierr, sizeof(ierr)) < 0)
            log_warn("could not mark the stored reports of regression %" PRIu64 " stale: %s",
                     q->regression_id, ierr);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string(schemas[q->kind]));
    json_object_set_new(doc, query_kinds[q->kind], value);
    json_object_set_new(doc, "error", error ? error : json_null());
    if (truncated)
        json_object_set(doc, "truncated", truncated);
    json_t *coord = json_object();
    size_t peers = 0;
    for (struct peer *p = r->peers; p; p = p->next)
        peers++;
    json_object_set_new(coord, "version", json_string(PYSCOPE_VERSION));
    json_object_set_new(coord, "agents_connected", json_integer((json_int_t)peers));
    json_object_set_new(coord, "counters", counters_json(r));
    json_object_set_new(doc, "coordinator", coord);
    *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return 0;
}

/* The list length when a Query gives no limit (store_query.c and report.c use the same). */
#define QUERY_DEFAULT_LIMIT 100u

/*
 * Answer a Query. A reply never fails for being big: when the document
 * would exceed WIRE_MAX_JSON, the list is asked again with the share of the
 * limit that fits until it fits, and the reply says so
 * ("truncated": the limit used, the one asked, why); readers show "and N more" from the totals the
 * documents carry.
 */
static void on_query(struct router *r, const struct transport_msg *tm, const struct wire_msg *m)
{
    char err[512];
    struct wire_query q = m->query;
    uint32_t asked = q.limit ? q.limit : QUERY_DEFAULT_LIMIT;
    json_t *truncated = NULL;
    char *text = NULL;
    int rc;
    char who_buf[ZAP_USER_ID_MAX + 32];
    const char *who = tm->user_id[0] ? peer_label(tm, who_buf, sizeof(who_buf)) : "";
    for (;;) {
        rc = query_reply_text(r, &q, who, truncated, &text, err, sizeof(err));
        if (rc < 0 || (text != NULL && strlen(text) <= WIRE_MAX_JSON))
            break;
        uint32_t was = q.limit ? q.limit : asked;
        /* Rows are of similar size: ask for the share that fits (with a tenth to
         * spare; always fewer than before), so that a big list is built about twice
         * and the reply holds as many rows as fit, not half of them. */
        double fits = (double)was * WIRE_MAX_JSON / (double)strlen(text) * 0.9;
        free(text);
        text = NULL;
        if (was <= 1)
            break;
        q.limit = fits < 1 ? 1 : fits < was - 1 ? (uint32_t)fits : was - 1;
        json_decref(truncated);
        truncated =
            json_pack("{s:I, s:I, s:s}", "limit", (json_int_t)q.limit, "asked", (json_int_t)asked,
                      "reason", "the reply would exceed 1 MiB: the list was cut to fit");
    }
    json_decref(truncated);
    if (rc < 0) {
        internal_error(r, tm, m->seq, "answer a query", err);
        return;
    }
    if (text == NULL) {
        send_error(r, tm->id, tm->id_len, m->seq, WIRE_ERROR_INTERNAL,
                   "the reply would exceed 1 MiB even with one row");
        return;
    }
    if (q.limit != m->query.limit)
        log_info("a %s query's reply was cut to %" PRIu32 " rows (of %" PRIu32
                 " asked) to stay under 1 MiB",
                 query_kinds[q.kind], q.limit, asked);
    r->c.queries++;
    struct wire_msg rep;
    wire_msg_init(&rep, WIRE_QUERY_REPLY);
    rep.reply_to = m->seq;
    rep.query_reply.json = text;
    send_msg(r, tm->id, tm->id_len, &rep);
    free(text);
}

/*
 * With CURVE, an agent is its key, not its ZeroMQ routing id. A message
 * that arrives under the routing id another key's agent uses is an attempt
 * to speak for it: refused (FORBIDDEN), logged with the sender's key, and
 * counted. A message of p's key (its agent, may be NULL) on a new routing id
 * is that agent on a new connection (its handshake proved the key): later
 * answers and jobs go there. Returns 0 to go on, -1 when refused.
 */
static int router_check_route(struct router *r, const struct transport_msg *tm,
                              const struct wire_msg *m, struct peer *p, const char *who)
{
    struct peer *owner = peer_find(r, tm->id, tm->id_len);
    if (owner != NULL && owner != p && strcmp(owner->key, tm->key) != 0) {
        r->c.impersonation++;
        refusal_warn(r,
                     "refused a %s message from %s: it came under the routing id of agent "
                     "\"%s\", whose key is another",
                     wire_type_name(m->type), who, owner->name ? owner->name : "?");
        send_error(r, tm->id, tm->id_len, m->seq, WIRE_ERROR_FORBIDDEN,
                   "this connection's routing id belongs to another agent");
        return -1;
    }
    if (p != NULL && (p->id_len != tm->id_len || memcmp(p->id, tm->id, tm->id_len) != 0)) {
        r->c.reconnections++;
        log_info("agent \"%s\" is back on a new connection", p->name);
        memcpy(p->id, tm->id, tm->id_len);
        p->id_len = tm->id_len;
    }
    return 0;
}

/* The message tm decoded (new), or NULL after refusing it: its key revoked since its
 * handshake (who: the peer, for the log), more than one frame, or not a valid message. */
static struct wire_msg *router_decode(struct router *r, const struct transport_msg *tm,
                                      const char *who)
{
    if (r->zap && !zap_peer_allowed(r->zap, tm->user_id, tm->key)) {
        /* The key was allowed at its handshake, so telling it tells nothing new; an
         * agent that hears only silence cannot say why. reply_to 0: an agent never
         * takes this for the refusal of one of its results (it keeps them). */
        r->c.revoked++;
        refusal_warn(r, "refused a message from %s: its key is no longer allowed (revoked)", who);
        send_error(r, tm->id, tm->id_len, 0, WIRE_ERROR_FORBIDDEN,
                   "key revoked: this key is no longer in the coordinator's allowlist");
        return NULL;
    }
    if (tm->frames != 1) {
        r->c.extra_frames++;
        send_error(r, tm->id, tm->id_len, 0, WIRE_ERROR_MALFORMED,
                   "a message must be exactly one frame");
        return NULL;
    }
    struct wire_error werr;
    struct wire_msg *m = wire_decode(tm->data, tm->len, &werr);
    if (m == NULL) {
        wire_counters_add(&r->c.wire, &werr);
        /* an allowlisted key sending what no PyScope program sends is worth a warning
         * (rate-limited) naming it; an anonymous peer's garbage is only counted */
        if (tm->user_id[0])
            refusal_warn(r, "refused a malformed message from %s: %s", who, werr.msg);
        else
            log_debug("refused a message: %s", werr.msg);
        send_error(r, tm->id, tm->id_len, 0, wire_reject_code(werr.reason), werr.msg);
    }
    return m;
}

/*
 * With CURVE, whether the key's role may send m; if not, refused (who: the peer, for the
 * log). *key_name gets an agent's name, the key's whatever its Hello says (borrowed from
 * tm; NULL without CURVE or for another role).
 */
static bool router_role_allows(struct router *r, const struct transport_msg *tm,
                               const struct wire_msg *m, const char *who, const char **key_name)
{
    *key_name = NULL;
    if (!r->zap)
        return true;
    enum zap_role needed = router_fsm_role(m->type);
    bool agent = zap_user_role(tm->user_id) == ZAP_ROLE_AGENT;
    /* triage and cancel write: submitters only */
    bool triage = m->type == WIRE_QUERY &&
                  (m->query.kind == WIRE_QUERY_TRIAGE ||
                   (m->query.kind == WIRE_QUERY_BISECT && m->query.state && *m->query.state));
    bool allowed = triage                    ? zap_role_allows(tm->user_id, ZAP_ROLE_SUBMITTER)
                   : needed == ZAP_ROLE_NONE ? m->type == WIRE_QUERY || agent
                                             : zap_role_allows(tm->user_id, needed);
    if (!allowed) {
        r->c.forbidden++;
        refusal_warn(r, "refused a %s message from %s: its role may not send it",
                     wire_type_name(m->type), who);
        send_error(r, tm->id, tm->id_len, m->seq, WIRE_ERROR_FORBIDDEN,
                   "this key's role may not send this message");
        return false;
    }
    if (agent)
        *key_name = tm->user_id + strlen("agent:");
    return true;
}

/* Does what the state table's step says to *m (which a stored result takes) from peer p
 * (NULL: new). */
static void router_act(struct router *r, const struct transport_msg *tm, struct wire_msg **m,
                       struct peer *p, enum router_action action, const char *key_name,
                       const char *who, int64_t now)
{
    switch (action) {
    case ROUTER_DO_REGISTER:
        on_hello(r, tm, *m, key_name, p, now);
        break;
    case ROUTER_DO_SUBMIT:
        on_submit(r, tm, *m);
        break;
    case ROUTER_DO_QUERY:
        on_query(r, tm, *m);
        break;
    case ROUTER_DO_RENEW:
        on_heartbeat(r, tm, *m, p);
        break;
    case ROUTER_DO_CREDIT:
        p->credit = (*m)->ready.credit;
        if (p->credit > 0)
            p->work_seen = now;
        r->dispatch_due = true;
        break;
    case ROUTER_DO_STORE:
        p->work_seen = now;
        queue_result(r, tm, m, p);
        break;
    case ROUTER_DO_REFUSE_NO_HELLO:
        r->c.unexpected++;
        r->c.no_hello++;
        refusal_warn(r, "refused a %s message from %s: it has not said Hello",
                     wire_type_name((*m)->type), who);
        send_error(r, tm->id, tm->id_len, (*m)->seq, WIRE_ERROR_UNEXPECTED, "send hello first");
        break;
    case ROUTER_DO_NOTHING:
    case ROUTER_DO_REFUSE_NOT_OURS: {
        /* Welcome, Job, Ack, Error, replies: only the coordinator sends these. */
        r->c.unexpected++;
        char msg[96];
        snprintf(msg, sizeof(msg), "a coordinator does not accept %s messages",
                 wire_type_name((*m)->type));
        send_error(r, tm->id, tm->id_len, (*m)->seq, WIRE_ERROR_UNEXPECTED, msg);
        break;
    }
    }
}

void router_handle(struct router *r, const struct transport_msg *tm, int64_t now)
{
    /* With CURVE, a message whose key is no longer in the allowlist (revoked
     * since its handshake, or replaced) is ignored without an answer. */
    r->now = now;
    char who_buf[ZAP_USER_ID_MAX + 32];
    const char *who = peer_label(tm, who_buf, sizeof(who_buf));
    struct wire_msg *m = router_decode(r, tm, who);
    if (m == NULL)
        return;
    /* With CURVE the key's role decides what a peer may send, and an agent's
     * name is the key's, whatever its Hello says. */
    const char *key_name;
    if (!router_role_allows(r, tm, m, who, &key_name)) {
        wire_msg_destroy(&m);
        return;
    }
    struct peer *p =
        r->zap && key_name ? peer_find_key(r, tm->key) : peer_find(r, tm->id, tm->id_len);
    if (key_name && router_check_route(r, tm, m, p, who) < 0) {
        wire_msg_destroy(&m);
        return;
    }
    if (p)
        p->last_seen = now;
    struct router_step step = router_fsm_step(p ? p->state : ROUTER_STATE_NEW, router_fsm_event(m));
    router_act(r, tm, &m, p, step.action, key_name, who, now);
    wire_msg_destroy(&m);
}

void router_connection_event(struct router *r, int event)
{
    if (event == TRANSPORT_EVENT_ACCEPTED)
        r->c.connections++;
    else if (event == TRANSPORT_EVENT_DROPPED)
        r->c.disconnections++;
}

void router_log_counters(const struct router *r)
{
    json_t *c = counters_json(r);
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(c);
    log_info("counters: %s", text ? text : "?");
    free(text);
}

/*
 * Tell the store which hosts and agents are live here; the queued jobs of hosts
 * without one for host_offline_s end "host offline", and those asking for a
 * Python no live agent of their host has "no live agent has Python P"
 * (store_hosts_alive()).
 * An agent is live while it takes work: it has credit waiting, or within
 * host_offline_s it said its first Hello, gave credit, renewed a lease or sent
 * a result. One that only heartbeats, or says Hello again, keeps its
 * connection, not its host.
 */
static void router_hosts_alive(struct router *r, int64_t now)
{
    size_t n = 0, na = 0, cap = 0;
    for (struct peer *p = r->peers; p; p = p->next)
        cap++;
    int64_t *ids = xcalloc(cap ? cap : 1, sizeof(*ids));
    const char **names = xcalloc(cap ? cap : 1, sizeof(*names));
    for (struct peer *p = r->peers; p; p = p->next) {
        if (p->credit > 0)
            p->work_seen = now;
        if (now - p->work_seen > (int64_t)r->cfg->host_offline_s * 1000)
            continue;
        if (p->name)
            names[na++] = p->name;
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++)
            seen = ids[i] == p->host_id;
        if (!seen)
            ids[n++] = p->host_id;
    }
    char err[512];
    int no_python = 0;
    int ended = store_hosts_alive(r->store, ids, n, names, na, r->cfg->host_offline_s, &no_python,
                                  err, sizeof(err));
    free(ids);
    free(names);
    if (ended < 0) {
        r->c.internal++;
        log_error("could not update the hosts' liveness: %s", err);
    } else {
        r->c.jobs_host_offline += (uint64_t)ended;
        r->c.jobs_no_python += (uint64_t)no_python;
    }
}

int64_t router_tick(struct router *r, int64_t now)
{
    const struct coord_config *cfg = r->cfg;
    if (now >= r->next_reap) {
        char err[512];
        int n = store_reap_leases(r->store, err, sizeof(err));
        if (n < 0) {
            r->c.internal++;
            log_error("could not reap expired leases: %s", err);
        } else if (n > 0) {
            r->c.leases_reaped += (uint64_t)n;
            log_info("%d expired leases returned to the queue", n);
        }
        router_hosts_alive(r, now);
        r->next_reap = now + cfg->reap_interval_ms;
    }
    if (now >= r->next_dispatch) {
        int64_t timeout = cfg->peer_timeout_ms ? cfg->peer_timeout_ms : 3 * cfg->heartbeat_ms;
        struct peer *p = r->peers;
        while (p) {
            struct peer *next = p->next;
            if (now - p->last_seen > timeout) {
                log_info("agent \"%s\" silent for %" PRId64 " ms: forgotten", p->name,
                         now - p->last_seen);
                r->c.peers_expired++;
                peer_remove(r, p);
            }
            p = next;
        }
        dispatch_all(r);
        r->next_dispatch = now + cfg->dispatch_interval_ms;
    }
    if (cfg->stats_interval_s && now >= r->next_stats) {
        if (r->next_stats != 0)
            router_log_counters(r);
        r->next_stats = now + (int64_t)cfg->stats_interval_s * 1000;
    }
    int64_t next = r->next_reap < r->next_dispatch ? r->next_reap : r->next_dispatch;
    if (cfg->stats_interval_s && r->next_stats < next)
        next = r->next_stats;
    return next > now ? next - now : 0;
}

/* Forget the agent peer named by revoked User-Id user_id (borrowed), if any. */
static void router_drop_revoked(struct router *r, const char *user_id)
{
    if (zap_user_role(user_id) != ZAP_ROLE_AGENT)
        return;
    const char *name = user_id + strlen("agent:");
    for (struct peer *p = r->peers, *next; p; p = next) {
        next = p->next;
        if (p->name == NULL || strcmp(p->name, name) != 0)
            continue;
        char host[CURVE_NAME_MAX + 1];
        if (!zap_peer_host(r->zap, user_id, p->key, host, sizeof(host))) {
            log_warn("dropped %s: key revoked", user_id);
            r->c.peers_revoked++;
            peer_remove(r, p);
        } else if (strcmp(host, p->host) != 0) {
            /* its next message gets "send hello first": it registers on the new host */
            log_warn("dropped %s: its allowlist entry now grants host \"%s\" instead of \"%s\"",
                     user_id, host, p->host);
            peer_remove(r, p);
        }
    }
}

void router_check_keys(struct router *r)
{
    if (r->zap == NULL || zap_generation(r->zap) == r->zap_generation)
        return;
    char **revoked = NULL;
    size_t n = 0;
    int rc = zap_revoked_since(r->zap, r->zap_generation, &r->zap_generation, &revoked, &n);
    for (size_t i = 0; i < n; i++)
        router_drop_revoked(r, revoked[i]);
    zap_strv_free(revoked, n);
    if (rc != -ERANGE)
        return;
    /* Too many changes at once to list: check every agent against the allowlist. */
    char user_id[ZAP_USER_ID_MAX];
    for (struct peer *p = r->peers, *next; p; p = next) {
        next = p->next;
        snprintf(user_id, sizeof(user_id), "agent:%s", p->name ? p->name : "");
        if (!zap_peer_allowed(r->zap, user_id, p->key)) {
            log_warn("dropped %s: key revoked", user_id);
            r->c.peers_revoked++;
            peer_remove(r, p);
        }
    }
}
