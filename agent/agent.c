/*
 * agent.c - pyscope-agent's event loop: link, jobs, spool, resends.
 *
 * See agent.h for the protocol as the agent speaks it. Everything happens in
 * one thread; the only blocking calls are zmq_poll (bounded by the nearest
 * timer) and the short start-up query of the Python build.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "cachegrind.h"
#include "checkout.h"
#include "curve.h"
#include "endpoint.h"
#include "errors.h"
#include "fault.h"
#include "gitrev.h"
#include "hash.h"
#include "hostinfo.h"
#include "log.h"
#include "pathnorm.h"
#include "pythons.h"
#include "result.h"
#include "runjob.h"
#include "sandbox.h"
#include "spool.h"
#include "wire.h"
#include "xmalloc.h"

#define AGENT_HEARTBEAT_MS  2000u               /* until a Welcome says otherwise */
#define AGENT_ZMTP_PING_MS  1000                /* ZMTP heartbeat period (dead link detection) */
#define AGENT_CONNECT_MS    3000                /* a hung TCP connect is retried after this */
#define AGENT_MAX_QUEUED    64u                 /* jobs waiting for a slot */
#define AGENT_MAX_RUN_JSON  (256 * 1024 * 1024) /* largest runner document read */
#define AGENT_DIAG_AFTER_S  5.0  /* say why there is no link after this long without one */
#define AGENT_DIAG_REPEAT_S 60.0 /* and again this often while it lasts */
/* Why a job asking for instruction counts (Job.instructions) is refused. */
#define AGENT_NO_VALGRIND                                                                          \
    "instructions needs valgrind on this agent: apt-get install valgrind (it is looked for on "    \
    "the agent's PATH)"

enum agent_link { LINK_DOWN, LINK_HELLO, LINK_READY };

/* A result sent and not acked yet. */
struct agent_sent {
    char id[37];  /* run_id text = spool entry id */
    uint64_t seq; /* seq of the envelope last sent */
    double at;    /* when, monotonic seconds */
};

struct agent {
    const struct agent_config *cfg;
    void *zctx;
    void *sock; /* DEALER to the coordinator */
    void *mon;  /* PAIR receiving the DEALER's monitor events */
    int sigfd;
    struct spool *spool;
    struct sandbox sb; /* how jobs are confined (sandbox.h) */
    json_t *host;      /* hostinfo, refreshed for each result */
    char *machine;     /* Hello's machine_id: label "machine", else the boot id (or NULL) */
    char *py_version, *py_build, *py_exe;
    struct wire_python python;
    struct agent_pythons pythons; /* every interpreter jobs may ask for (pythons.h) */
    struct wire_label labels[AGENT_MAX_LABELS];
    enum agent_link link;
    double hello_at; /* when the last Hello went out (0 = not yet sent) */
    uint32_t heartbeat_ms, lease_ms;
    double next_heartbeat;
    double next_resend_check;
    uint64_t seq;
    struct runjob *running[64];
    size_t n_running;
    struct runjob *queued[AGENT_MAX_QUEUED];
    size_t n_queued;
    struct agent_sent *sent;
    size_t n_sent;
    bool stop;
    bool auth_failed; /* the last handshake was refused (logged once) */
    /* Why there is no link, from the socket monitor (agent_diagnose_link()). */
    double down_since;     /* monotonic seconds since the link is down (start included) */
    double diag_said;      /* when the diagnosis was last logged, 0 = not yet */
    bool tcp_connected;    /* a TCP connection came up since then */
    bool closed_handshake; /* ... and closed before the CURVE handshake finished */
    bool connect_refused;  /* connection attempts were refused or failed */
    double revoked_said;   /* when "key revoked" was last logged, 0 = never */
};

/* ---- sending ---------------------------------------------------------- */

/* Send bytes to the coordinator without blocking. Returns 0 or -errno. */
static int agent_send_bytes(struct agent *a, const void *buf, size_t len)
{
    if (zmq_send(a->sock, buf, len, ZMQ_DONTWAIT) < 0)
        return -zmq_errno();
    return 0;
}

/* Encode m (borrowed), with the next seq, and send it. Returns 0 or negative. */
static int agent_send(struct agent *a, struct wire_msg *m)
{
    m->seq = ++a->seq;
    uint8_t *buf;
    size_t len;
    int rc = wire_encode(m, &buf, &len);
    if (rc < 0) {
        log_error("could not encode %s: %s", wire_type_name(m->type), pyscope_strerror(rc));
        return rc;
    }
    rc = agent_send_bytes(a, buf, len);
    free(buf);
    if (rc < 0)
        log_debug("could not send %s: %s", wire_type_name(m->type), zmq_strerror(-rc));
    return rc;
}

static void agent_send_hello(struct agent *a)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HELLO);
    m.hello.name = a->cfg->name;
    result_host_from_json(&m.hello.host, a->host);
    m.hello.host.labels = a->labels;
    m.hello.host.n_labels = a->cfg->n_labels;
    m.hello.host.machine_id = a->machine;
    m.hello.python = a->python;
    m.hello.agent_version = PYSCOPE_VERSION;
    m.hello.max_jobs = a->cfg->max_jobs;
    m.hello.pythons = a->pythons.wire;
    m.hello.n_pythons = a->pythons.n < WIRE_MAX_PYTHONS ? a->pythons.n : WIRE_MAX_PYTHONS;
    if (agent_send(a, &m) == 0) {
        a->hello_at = runjob_now();
        log_info("hello sent to %s as \"%s\"", a->cfg->coordinator, a->cfg->name);
    }
}

static unsigned agent_free_slots(const struct agent *a)
{
    size_t busy = a->n_running + a->n_queued;
    return busy >= a->cfg->max_jobs ? 0 : (unsigned)(a->cfg->max_jobs - busy);
}

static void agent_send_ready(struct agent *a)
{
    unsigned credit = agent_free_slots(a);
    if (a->link != LINK_READY || credit == 0)
        return;
    struct wire_msg m;
    wire_msg_init(&m, WIRE_READY);
    m.ready.credit = credit;
    agent_send(a, &m);
}

static void agent_send_heartbeat(struct agent *a)
{
    struct wire_job_ref refs[64];
    size_t n = 0;
    for (size_t i = 0; i < a->n_running && n < 64; i++)
        refs[n++] = (struct wire_job_ref){a->running[i]->job_id, a->running[i]->attempt};
    for (size_t i = 0; i < a->n_queued && n < 64; i++)
        refs[n++] = (struct wire_job_ref){a->queued[i]->job_id, a->queued[i]->attempt};
    struct wire_msg m;
    wire_msg_init(&m, WIRE_HEARTBEAT);
    m.heartbeat.running = refs;
    m.heartbeat.n_running = n;
    size_t sp = spool_count(a->spool);
    m.heartbeat.spooled = sp > UINT32_MAX ? UINT32_MAX : (uint32_t)sp;
    agent_send(a, &m);
}

/* ---- results and the spool -------------------------------------------- */

static struct agent_sent *agent_sent_find(struct agent *a, const char *id)
{
    for (size_t i = 0; i < a->n_sent; i++)
        if (strcmp(a->sent[i].id, id) == 0)
            return &a->sent[i];
    return NULL;
}

static void agent_sent_drop(struct agent *a, const char *id)
{
    for (size_t i = 0; i < a->n_sent; i++) {
        if (strcmp(a->sent[i].id, id) == 0) {
            a->sent[i] = a->sent[--a->n_sent];
            return;
        }
    }
}

/* Note that id went out now with seq (tracked until its ack). */
static void agent_sent_note(struct agent *a, const char *id, uint64_t seq)
{
    struct agent_sent *s = agent_sent_find(a, id);
    if (!s) {
        a->sent = xreallocarray(a->sent, a->n_sent + 1, sizeof(*a->sent));
        s = &a->sent[a->n_sent++];
        snprintf(s->id, sizeof(s->id), "%s", id);
    }
    s->seq = seq;
    s->at = runjob_now();
}

/* Load a spooled result, give it a fresh seq and send it. */
static void agent_resend(struct agent *a, const char *id)
{
    void *data;
    size_t len;
    int rc = spool_load(a->spool, id, &data, &len);
    if (rc < 0) {
        if (rc != -PYSCOPE_EPARSE) /* corrupt ones were moved aside with a warning */
            log_warn("could not load spooled result %s: %s", id, pyscope_strerror(rc));
        agent_sent_drop(a, id);
        return;
    }
    struct wire_error werr;
    struct wire_msg *m = wire_decode(data, len, &werr);
    free(data);
    if (!m || m->type != WIRE_RESULT) {
        log_warn("spooled result %s is not a valid result (%s): dropping it", id,
                 m ? "wrong type" : werr.msg);
        wire_msg_destroy(&m);
        spool_remove(a->spool, id);
        agent_sent_drop(a, id);
        return;
    }
    if (a->link == LINK_READY && agent_send(a, m) == 0) {
        agent_sent_note(a, id, m->seq);
        log_debug("result %s sent", id);
        fault_point("agent_after_send");
        if (fault_enabled("agent_unsafe_delete")) /* negative control: delete before the ack */
            spool_remove(a->spool, id);
    }
    wire_msg_destroy(&m);
}

/* Resend every spooled result (after a Welcome). */
static void agent_resend_all(struct agent *a)
{
    char **ids;
    size_t n;
    if (spool_list(a->spool, &ids, &n) < 0)
        return;
    if (n)
        log_info("resending %zu spooled result%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++)
        agent_resend(a, ids[i]);
    spool_free_list(ids, n);
}

/* Resend results whose ack is overdue. */
static void agent_resend_overdue(struct agent *a, double now)
{
    if (a->link != LINK_READY)
        return;
    char **ids;
    size_t n;
    if (spool_list(a->spool, &ids, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct agent_sent *s = agent_sent_find(a, ids[i]);
        if (!s || now - s->at >= a->cfg->resend_s)
            agent_resend(a, ids[i]);
    }
    spool_free_list(ids, n);
}

/* Spool and send the result of rj; run (borrowed) may be NULL. */
static void agent_finish(struct agent *a, const struct runjob *rj, const json_t *run,
                         enum wire_outcome outcome, const char *message)
{
    json_decref(a->host);
    a->host = hostinfo_collect(); /* drift fields as of now */
    struct result_ctx ctx = {
        .host = a->host, .python = &a->python, .labels = a->labels, .n_labels = a->cfg->n_labels};
    uint8_t *buf;
    size_t len;
    char id[37];
    int rc = result_build(&ctx, rj, run, outcome, message, &buf, &len, id);
    if (rc < 0) {
        log_error("job %llu: could not build its result: %s", (unsigned long long)rj->job_id,
                  pyscope_strerror(rc));
        return;
    }
    rc = spool_put(a->spool, id, buf, len);
    free(buf);
    if (rc < 0) {
        log_error("job %llu: result %s not spooled (%s): it is lost if the coordinator does "
                  "not ack it",
                  (unsigned long long)rj->job_id, id, pyscope_strerror(rc));
        return;
    }
    log_info("job %llu attempt %u: %s, result %s spooled", (unsigned long long)rj->job_id,
             rj->attempt, message ? message : "finished", id);
    fault_point("agent_after_spool");
    agent_resend(a, id);
}

/* ---- jobs ------------------------------------------------------------- */

/* Finish rj as refused with message (printf-style) and log it. */
__attribute__((format(printf, 3, 4))) static void agent_refuse(struct agent *a, struct runjob *rj,
                                                               const char *fmt, ...);

/* The revision cache of the agent's configuration (lib/gitrev.h). */
static struct gitrev_cache agent_cache(const struct agent *a)
{
    return (struct gitrev_cache){.dir = a->cfg->revisions,
                                 .origin = a->cfg->repo,
                                 .max_bytes = a->cfg->revision_cache_size,
                                 .max_age_s = a->cfg->revision_cache_age_s};
}

/* Start checking out rj's commit in a child (checkout.h); false when rj is finished. */
static bool agent_start_checkout(struct agent *a, struct runjob *rj)
{
    char err[512];
    if (!a->cfg->repo) {
        agent_refuse(a, rj,
                     "refused: this agent has no repository (repo = in its config), so it "
                     "cannot run commit %s",
                     rj->commit);
        return false;
    }
    struct gitrev_cache c = agent_cache(a);
    rj->tree_lock = gitrev_cache_lock(&c, rj->commit, err, sizeof(err));
    pid_t pid = rj->tree_lock < 0
                    ? rj->tree_lock
                    : checkout_start(a->cfg, rj->commit, &rj->prep_fd, err, sizeof(err));
    if (pid < 0) {
        log_error("job %llu: %s", (unsigned long long)rj->job_id, err);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_ERROR, err);
        return false;
    }
    rj->pid = pid;
    rj->preparing = true;
    rj->started = runjob_now();
    /* a fetch, a fetch of the commit itself and the checkout, each with its timeout */
    rj->deadline = rj->started + 3 * a->cfg->fetch_timeout_s + a->cfg->kill_grace_s;
    log_info("job %llu attempt %u: checking out %s from %s", (unsigned long long)rj->job_id,
             rj->attempt, rj->commit, a->cfg->repo);
    return true;
}

/* The valgrind pyscope-run will use: the first on the PATH jobs inherit (the agent's), as
 * their private /tmp lets them see it (owned; NULL: none). */
static char *agent_find_valgrind(const struct agent *a)
{
    char *path = sandbox_job_path(&a->sb, getenv("PATH"));
    char *vg = cachegrind_find_valgrind(path);
    free(path);
    return vg;
}

/* Resolve and start rj (already in a->running), or finish it as refused/error. */
static bool agent_start(struct agent *a, struct runjob *rj)
{
    char err[512];
    if (rj->instructions && !rj->tree) {
        char *vg = agent_find_valgrind(a);
        if (!vg) {
            agent_refuse(a, rj, "refused: %s", AGENT_NO_VALGRIND);
            return false;
        }
        free(vg);
    }
    if (!rj->python[0] && a->pythons.default_unusable) {
        agent_refuse(a, rj, "refused: the job asks for no Python and this agent cannot use %s",
                     a->pythons.default_unusable);
        return false;
    }
    if (rj->python[0] && !rj->python_path) {
        const struct agent_python *py = agent_pythons_match(&a->pythons, rj->python);
        if (!py) {
            char have[2048];
            agent_pythons_describe(&a->pythons, have, sizeof(have));
            agent_refuse(a, rj, "refused: this agent has no Python %s (it has: %s)", rj->python,
                         have);
            return false;
        }
        rj->python_path = xstrdup(py->path);
    }
    if (rj->commit[0] && !rj->tree)
        return agent_start_checkout(a, rj);
    const char *ws = rj->tree ? rj->tree : a->cfg->workspace;
    if (!ws) {
        agent_refuse(a, rj,
                     "refused: this agent has no workspace (it runs only jobs that name a "
                     "commit: pyscope submit --commit REV)");
        return false;
    }
    char *abs = NULL;
    int rc = pathnorm_resolve_inside_n(ws, rj->script, strlen(rj->script), &abs, err, sizeof(err));
    struct stat st;
    bool missing = rc == -ENOENT || rc == -ENOTDIR;
    if (rc == 0 && (stat(abs, &st) < 0 || !S_ISREG(st.st_mode))) {
        snprintf(err, sizeof(err), "\"%s\" is not a regular file", rj->script);
        rc = -PYSCOPE_EUSAGE;
        missing = true;
    }
    if (rj->tree && missing)
        /* the checkout of a commit: say which, and what to do (the try or bisection that
         * asked names the side) */
        snprintf(err, sizeof(err),
                 "\"%s\" does not exist at revision %.12s (a path from the repository's top, "
                 "committed at that revision): check the path, or pick a revision that has it",
                 rj->script, rj->commit);
    if (rc < 0) {
        char *msg = xasprintf("refused: %s", err);
        log_warn("job %llu attempt %u: %s", (unsigned long long)rj->job_id, rj->attempt, msg);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_REFUSED, msg);
        free(msg);
        free(abs);
        return false;
    }
    if (hash_file_sha256(abs, rj->sha256) < 0)
        rj->sha256[0] = '\0';
    free(rj->reference_abs);
    rj->reference_abs = NULL;
    if (rj->reference[0]) {
        /* a confirmation's reference: resolved as the script is; without it the run still
         * counts, and the coordinator falls back to the reference runs around the job */
        char *ref = NULL;
        char rerr[512];
        if (pathnorm_resolve_inside_n(ws, rj->reference, strlen(rj->reference), &ref, rerr,
                                      sizeof(rerr)) == 0 &&
            stat(ref, &st) == 0 && S_ISREG(st.st_mode))
            rj->reference_abs = ref;
        else {
            log_warn("job %llu: its reference script \"%s\" is not here (%s): run without it",
                     (unsigned long long)rj->job_id, rj->reference,
                     ref ? "not a regular file" : rerr);
            free(ref);
        }
    }
    rc = runjob_start(rj, a->cfg, &a->sb, abs, err, sizeof(err));
    free(abs);
    if (rc < 0) {
        log_error("job %llu: %s", (unsigned long long)rj->job_id, err);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_ERROR, err);
        return false;
    }
    return true;
}

/* Start queued jobs while there are free slots. Returns how many finished at
 * once (refused, or the runner could not start): their slots are free again. */
static unsigned agent_start_queued(struct agent *a)
{
    unsigned done = 0;
    while (a->n_queued && a->n_running < a->cfg->max_jobs) {
        struct runjob *rj = a->queued[0];
        memmove(a->queued, a->queued + 1, (a->n_queued - 1) * sizeof(*a->queued));
        a->n_queued--;
        if (agent_start(a, rj)) {
            a->running[a->n_running++] = rj;
        } else {
            runjob_destroy(&rj);
            done++;
        }
    }
    return done;
}

static void agent_refuse(struct agent *a, struct runjob *rj, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_warn("job %llu attempt %u: %s", (unsigned long long)rj->job_id, rj->attempt, msg);
    agent_finish(a, rj, NULL, WIRE_OUTCOME_REFUSED, msg);
}

/*
 * rj's checkout child was reaped (wait status st): start the runner in its
 * tree, or finish rj (refused when the repository lacks the commit, an
 * error otherwise). Returns true while rj runs on.
 */
static bool agent_on_checkout(struct agent *a, struct runjob *rj, int st)
{
    char msg[1024];
    checkout_read_message(rj->prep_fd, msg, sizeof(msg));
    rj->prep_fd = -1;
    rj->preparing = false;
    rj->pid = 0;
    double took = runjob_now() - rj->started;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rj->killed) {
        char m[1200];
        snprintf(m, sizeof(m), "checking out commit %s took longer than %.0f s: killed", rj->commit,
                 took);
        log_warn("job %llu: %s", (unsigned long long)rj->job_id, m);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_ERROR, m);
        return false;
    }
    if (code == CHECKOUT_EXIT_OK && msg[0] == '/') {
        log_info("job %llu attempt %u: commit %.12s ready in %.1f s",
                 (unsigned long long)rj->job_id, rj->attempt, rj->commit, took);
        rj->tree = xstrdup(msg);
        return agent_start(a, rj);
    }
    if (code == CHECKOUT_EXIT_UNKNOWN) {
        agent_refuse(a, rj, "refused: %s", msg);
        return false;
    }
    char m[1200];
    if (!msg[0])
        snprintf(msg, sizeof(msg), "the checkout ended with %s %d",
                 WIFSIGNALED(st) ? "signal" : "status", WIFSIGNALED(st) ? WTERMSIG(st) : code);
    snprintf(m, sizeof(m), "could not check out commit %s: %s", rj->commit, msg);
    log_error("job %llu: %s", (unsigned long long)rj->job_id, m);
    agent_finish(a, rj, NULL, WIRE_OUTCOME_ERROR, m);
    return false;
}

static void agent_on_job(struct agent *a, const struct wire_job *job)
{
    for (size_t i = 0; i < a->n_running; i++)
        if (a->running[i]->job_id == job->job_id && a->running[i]->attempt == job->attempt)
            return; /* a duplicate: already running */
    for (size_t i = 0; i < a->n_queued; i++)
        if (a->queued[i]->job_id == job->job_id && a->queued[i]->attempt == job->attempt)
            return;
    if (a->n_queued == AGENT_MAX_QUEUED) {
        log_warn("job %llu: queue full, ignoring it (its lease will expire)",
                 (unsigned long long)job->job_id);
        return;
    }
    log_debug("job %llu attempt %u: %s", (unsigned long long)job->job_id, job->attempt,
              job->script);
    a->queued[a->n_queued++] = runjob_new(job);
    if (agent_start_queued(a))
        agent_send_ready(a); /* a refused job frees its slot at once */
}

/* Read a finished runner's document; NULL when there is none worth reading. */
static json_t *agent_read_run(const struct runjob *rj, char *why, size_t whylen)
{
    char *path = xasprintf("%s/out.json", rj->tmpdir);
    struct stat st;
    json_t *run = NULL;
    if (stat(path, &st) < 0 || st.st_size == 0) {
        snprintf(why, whylen, "no result document");
    } else if (st.st_size > AGENT_MAX_RUN_JSON) {
        snprintf(why, whylen, "result document too large");
    } else {
        json_error_t jerr;
        run = json_load_file(path, 0, &jerr);
        if (!run)
            snprintf(why, whylen, "unreadable result document: %s", jerr.text);
        else if (!json_is_object(run) ||
                 strcmp(json_string_value(json_object_get(run, "schema")) ?: "", "pyscope.run/1") !=
                     0) {
            snprintf(why, whylen, "result document is not pyscope.run/1");
            json_decref(run);
            run = NULL;
        }
    }
    free(path);
    return run;
}

/* The last line of the runner's stderr, for messages (into buf). */
static void agent_stderr_tail(const struct runjob *rj, char *buf, size_t n)
{
    buf[0] = '\0';
    char *path = xasprintf("%s/stderr", rj->tmpdir);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return;
    char line[512];
    if (fseek(f, -4096, SEEK_END) < 0)
        rewind(f);
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (*line)
            snprintf(buf, n, "%s", line);
    }
    fclose(f);
}

/* A runner was reaped: build, spool and send its result. */
static void agent_on_exit(struct agent *a, struct runjob *rj)
{
    int st = rj->status;
    runjob_kill(rj); /* whatever it left behind in its session */
    char why[256] = "", msg[768];
    if (rj->output_over) {
        char size[32];
        snprintf(size, sizeof(size), "%llu MiB", (unsigned long long)(a->cfg->output_limit >> 20));
        snprintf(msg, sizeof(msg),
                 "stopped by the output limit (%s of stdout and stderr): killed by the agent "
                 "after %.0f s",
                 size, runjob_now() - rj->started);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_FAILED, msg);
        return;
    }
    if (rj->killed) {
        snprintf(msg, sizeof(msg), "timeout: killed by the agent after %.0f s",
                 runjob_now() - rj->started);
        agent_finish(a, rj, NULL, WIRE_OUTCOME_TIMEOUT, msg);
        return;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (code == 0 || code == PYSCOPE_EXIT_SCRIPT || code == PYSCOPE_EXIT_TIMEOUT) {
        json_t *run = agent_read_run(rj, why, sizeof(why));
        if (run) {
            bool lim = runjob_limit_message(rj, &a->sb, run, msg, sizeof(msg));
            agent_finish(a, rj, run, WIRE_OUTCOME_UNSPECIFIED, lim ? msg : NULL);
            json_decref(run);
            return;
        }
    }
    char tail[512];
    agent_stderr_tail(rj, tail, sizeof(tail));
    /* pyscope-run finds no working valgrind here (none, or it failed on its own after the
     * timed runs succeeded): this host cannot count, another may, so refused */
    if (code == PYSCOPE_EXIT_UNAVAILABLE) {
        agent_refuse(a, rj, "refused: this agent cannot count instructions: %s", tail);
        return;
    }
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof(msg), "pyscope-run died of signal %d%s%s", WTERMSIG(st),
                 *tail ? ": " : "", tail);
    else
        snprintf(msg, sizeof(msg), "pyscope-run failed with status %d%s%s%s%s", code,
                 *why ? " (" : "", why, *why ? ")" : "", *tail ? ": " : "");
    if (!WIFSIGNALED(st) && *tail) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof(msg) - l, "%s", tail);
    }
    agent_finish(a, rj, NULL, WIRE_OUTCOME_ERROR, msg);
}

/* Reap every exited child; finish the jobs among them. */
static void agent_reap(struct agent *a)
{
    int st;
    pid_t pid;
    bool freed = false;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (size_t i = 0; i < a->n_running; i++) {
            struct runjob *rj = a->running[i];
            if (rj->pid != pid)
                continue;
            if (rj->preparing && agent_on_checkout(a, rj, st))
                break; /* its runner started */
            if (rj->pid == pid) {
                rj->status = st;
                rj->exited = true;
                agent_on_exit(a, rj);
            }
            rj->pid = 0; /* reaped: runjob_destroy must not kill a reused pid */
            runjob_destroy(&rj);
            a->running[i] = a->running[--a->n_running];
            freed = true;
            break;
        }
        /* Anything else is an orphan we adopted as subreaper: reaped, done. */
    }
    if (freed) {
        agent_start_queued(a);
        agent_send_ready(a);
    }
}

/* Kill jobs past the agent's own deadline (the runner's --timeout failed). */
static void agent_check_deadlines(struct agent *a, double now)
{
    for (size_t i = 0; i < a->n_running; i++) {
        struct runjob *rj = a->running[i];
        if (!rj->killed && rj->pid > 0 && now >= rj->deadline) {
            log_warn("job %llu attempt %u: past its deadline, killing it",
                     (unsigned long long)rj->job_id, rj->attempt);
            rj->killed = true;
            runjob_kill(rj);
        }
        /* Output counts against a limit of its own (checked each pass of the loop,
         * at least once a second; a stream can never pass file_size_limit). */
        uint64_t out;
        if (!rj->killed && rj->pid > 0 && a->cfg->output_limit &&
            (out = runjob_output_bytes(rj)) > a->cfg->output_limit) {
            log_warn("job %llu attempt %u: %llu bytes of output, over the output limit: killing "
                     "it",
                     (unsigned long long)rj->job_id, rj->attempt, (unsigned long long)out);
            rj->killed = rj->output_over = true;
            runjob_kill(rj);
        }
    }
}

/* ---- messages from the coordinator ------------------------------------ */

static void agent_on_error(struct agent *a, const struct wire_msg *m)
{
    const struct wire_error_msg *e = &m->error;
    for (size_t i = 0; i < a->n_sent; i++) {
        if (a->sent[i].seq != m->reply_to || m->reply_to == 0)
            continue;
        char id[37];
        snprintf(id, sizeof(id), "%s", a->sent[i].id);
        if (e->code == WIRE_ERROR_UNKNOWN_JOB || e->code == WIRE_ERROR_STALE_ATTEMPT ||
            e->code == WIRE_ERROR_MALFORMED || e->code == WIRE_ERROR_FORBIDDEN ||
            e->code == WIRE_ERROR_TOO_BIG) {
            log_warn("result %s refused by the coordinator (%s: %s): dropping it", id,
                     wire_error_code_name(e->code), e->message);
            spool_remove(a->spool, id);
            agent_sent_drop(a, id);
        } else if (e->code == WIRE_ERROR_UNEXPECTED) {
            /* The coordinator does not know us (it restarted): say Hello again. */
            log_info("the coordinator does not know this agent: saying hello again");
            a->link = LINK_HELLO;
            agent_send_hello(a);
        } else {
            log_warn("result %s not stored (%s: %s): will resend", id,
                     wire_error_code_name(e->code), e->message);
        }
        return;
    }
    if (e->code == WIRE_ERROR_FORBIDDEN && strncmp(e->message, "key revoked", 11) == 0) {
        double now = runjob_now();
        if (a->revoked_said == 0 || now - a->revoked_said >= AGENT_DIAG_REPEAT_S)
            log_error("the coordinator at %s no longer allows this agent's key (%s): it answers "
                      "nothing else; results stay in the spool (%zu now). Ask its operator to "
                      "put this agent's NAME.key back in KEYS/agents/",
                      a->cfg->coordinator, e->message, spool_count(a->spool));
        a->revoked_said = now;
        return;
    }
    log_warn("coordinator says %s: %s", wire_error_code_name(e->code), e->message);
    if (e->code == WIRE_ERROR_UNEXPECTED && a->link == LINK_READY) {
        a->link = LINK_HELLO;
        agent_send_hello(a);
    } else if (a->link == LINK_HELLO)
        a->hello_at = runjob_now(); /* retry the Hello after connect_timeout */
}

static void agent_on_message(struct agent *a, const void *buf, size_t len)
{
    struct wire_error werr;
    struct wire_msg *m = wire_decode(buf, len, &werr);
    if (!m) {
        log_warn("bad message from the coordinator (%s): %s", wire_reject_name(werr.reason),
                 werr.msg);
        return;
    }
    switch (m->type) {
    case WIRE_WELCOME:
        a->link = LINK_READY;
        a->heartbeat_ms = m->welcome.heartbeat_ms ? m->welcome.heartbeat_ms : AGENT_HEARTBEAT_MS;
        a->lease_ms = m->welcome.lease_ms;
        a->next_heartbeat = runjob_now() + a->heartbeat_ms / 1000.0;
        log_info("welcome: agent id %s, heartbeat %u ms, lease %u ms", m->welcome.agent_id,
                 a->heartbeat_ms, a->lease_ms);
        a->n_sent = 0;
        agent_resend_all(a);
        agent_send_ready(a);
        break;
    case WIRE_JOB:
        if (a->link != LINK_READY)
            log_warn("job %llu before welcome: ignored", (unsigned long long)m->job.job_id);
        else
            agent_on_job(a, &m->job);
        break;
    case WIRE_ACK: {
        char id[37];
        wire_run_id_format(m->ack.run_id, id);
        fault_point("agent_after_ack");
        int rc = spool_remove(a->spool, id);
        agent_sent_drop(a, id);
        if (rc == 0)
            log_info("result %s acked", id);
        else if (rc != -ENOENT)
            log_warn("could not remove acked result %s: %s", id, pyscope_strerror(rc));
        break;
    }
    case WIRE_ERROR:
        agent_on_error(a, m);
        break;
    default:
        log_warn("unexpected %s from the coordinator: ignored", wire_type_name(m->type));
        break;
    }
    wire_msg_destroy(&m);
}

static void agent_read_socket(struct agent *a)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, a->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        bool more = zmq_msg_more(&msg);
        agent_on_message(a, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
        while (more) { /* one frame per message; drop the rest */
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, a->sock, ZMQ_DONTWAIT) < 0)
                more = false;
            else
                more = zmq_msg_more(&msg);
            zmq_msg_close(&msg);
        }
    }
}

static void agent_read_monitor(struct agent *a)
{
    for (;;) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, a->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
        }
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            more = zmq_msg_recv(&part, a->mon, 0) >= 0 && zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
        if (event == ZMQ_EVENT_CONNECTED) {
            a->tcp_connected = true;
        } else if (event == ZMQ_EVENT_CONNECT_RETRIED || event == ZMQ_EVENT_CLOSED) {
            a->connect_refused = true;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            a->closed_handshake = true;
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            a->auth_failed = false;
            a->down_since = 0;
            a->diag_said = 0;
            a->tcp_connected = a->closed_handshake = a->connect_refused = false;
            log_info("connected to %s", a->cfg->coordinator);
            a->link = LINK_HELLO;
            agent_send_hello(a);
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                   event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
            /* Said once per run of failures, not on every reconnect. */
            if (!a->auth_failed) {
                if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                    log_error("the coordinator refused this agent's key (ZAP status %u): put "
                              "its NAME.key on the coordinator's allowlist as an agent",
                              (unsigned)value);
                else
                    log_error("CURVE handshake with the coordinator failed (protocol error "
                              "0x%x): wrong coordinator key, or is CURVE off on one side?",
                              (unsigned)value);
            }
            a->auth_failed = true;
        } else if (event == ZMQ_EVENT_DISCONNECTED) {
            if (a->link == LINK_DOWN && a->tcp_connected)
                a->closed_handshake = true; /* closed before any handshake succeeded */
            if (a->link != LINK_DOWN && a->down_since == 0)
                a->down_since = runjob_now();
            if (a->link != LINK_DOWN)
                log_warn("lost the coordinator at %s (coordinator unreachable, or no heartbeat "
                         "answered for %u s): results stay in the spool (%zu now); reconnecting",
                         a->cfg->coordinator, a->cfg->dead_periods, spool_count(a->spool));
            a->link = LINK_DOWN;
        }
    }
}

/*
 * No link for AGENT_DIAG_AFTER_S: say why, as far as the socket monitor
 * tells (and again every AGENT_DIAG_REPEAT_S): a coordinator that closes
 * the connection during the CURVE handshake (its key is not the one this
 * agent has), a host name that does not resolve (asked of the resolver
 * here: ZeroMQ's monitor does not tell), nothing listening, or no connection
 * at all (a network that drops it).
 */
static void agent_diagnose_link(struct agent *a, double now)
{
    if (a->link != LINK_DOWN || a->auth_failed || a->down_since == 0 ||
        now - a->down_since < AGENT_DIAG_AFTER_S ||
        (a->diag_said != 0 && now - a->diag_said < AGENT_DIAG_REPEAT_S))
        return;
    a->diag_said = now;
    const char *url = a->cfg->coordinator;
    char why[400];
    if (!a->tcp_connected && endpoint_check_resolves(url, why, sizeof(why)) < 0)
        log_error("no link to the coordinator at %s for %.0f s: %s (is the address right, "
                  "does this host's resolver know it?); retrying",
                  url, now - a->down_since, why);
    else if (a->closed_handshake && a->cfg->secret_key)
        log_error("no link to the coordinator at %s for %.0f s: it closes the connection during "
                  "the CURVE handshake, so the coordinator key in \"%s\" is not its key (or "
                  "CURVE is off there). Copy its KEYS/coordinator.key here",
                  url, now - a->down_since, a->cfg->coordinator_key);
    else if (a->closed_handshake)
        log_error("no link to the coordinator at %s for %.0f s: it closes the connection during "
                  "the handshake (it wants CURVE: give this agent --secret-key and "
                  "--coordinator-key)",
                  url, now - a->down_since);
    else if (a->connect_refused && !a->tcp_connected)
        log_error("no link to the coordinator at %s for %.0f s: nothing accepts connections "
                  "there (is the coordinator running, and is the address right?); retrying",
                  url, now - a->down_since);
    else
        log_error("no link to the coordinator at %s for %.0f s: no connection could be made "
                  "(does the network let it through?); retrying",
                  url, now - a->down_since);
}

/* ---- set-up ----------------------------------------------------------- */

/* Run argv (argv[0] a path), stdin and stderr /dev/null, and read
 * at most len - 1 bytes of its stdout into buf (NUL-terminated), waiting 5 s at most; it is
 * killed after. Returns the bytes read (0 when it could not run). */
static size_t agent_capture(char *const argv[], char *buf, size_t len)
{
    size_t got = 0;
    int fds[2];
    buf[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) < 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 0);
            dup2(dn, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    while (pid > 0 && got < len - 1 && poll(&p, 1, 5000) > 0) {
        ssize_t r = read(fds[0], buf + got, len - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fds[0]);
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return got;
}

/* Ask the Python interpreter for its build: version, sys.version, executable. */
static void agent_query_python(struct agent *a)
{
    char buf[4096];
    char *const argv[] = {(char *)a->cfg->python, "-I", "-c",
                          "import platform, sys; print(platform.python_version()); "
                          "print(sys.version.replace('\\n', ' ')); print(sys.executable)",
                          NULL};
    if (agent_capture(argv, buf, sizeof(buf)) > 0) {
        /* Three lines: version, sys.version, executable. */
        char *v = buf;
        char *b = strchr(v, '\n');
        char *e = b ? strchr(b + 1, '\n') : NULL;
        char *end = e ? strchr(e + 1, '\n') : NULL;
        if (b && e && end && b > v) {
            *b++ = '\0';
            *e++ = '\0';
            *end = '\0';
            a->py_version = xstrdup(v);
            a->py_build = xstrdup(b);
            a->py_exe = xstrdup(e);
        }
    }
    if (!a->py_version) {
        log_warn("could not ask \"%s\" for its version: reporting it as unknown", a->cfg->python);
        a->py_version = xstrdup("unknown");
        a->py_build = xstrdup("");
        a->py_exe = xstrdup(a->cfg->python);
    }
    a->python = (struct wire_python){a->py_version, a->py_build, a->py_exe};
}

/* Say whether jobs may ask for instruction counts: the valgrind pyscope-run would use (the
 * first on the PATH jobs inherit, as they see it) and its version, or that there is none. */
static void agent_log_valgrind(const struct agent *a)
{
    char *vg = agent_find_valgrind(a);
    char *mine = cachegrind_find_valgrind(getenv("PATH"));
    if (mine && (!vg || strcmp(mine, vg) != 0))
        log_warn("valgrind: \"%s\" is in a folder the jobs' private /tmp hides: they %s%s", mine,
                 vg ? "use " : "have no other valgrind", vg ? vg : "");
    free(mine);
    if (!vg) {
        log_info("valgrind: not found on this agent's PATH; jobs asking for instruction counts "
                 "will be refused (apt-get install valgrind)");
        return;
    }
    char buf[256];
    char *const argv[] = {vg, "--version", NULL};
    agent_capture(argv, buf, sizeof(buf));
    buf[strcspn(buf, "\r\n")] = '\0';
    log_info("valgrind: %s (%s); jobs may ask for instruction counts", vg,
             *buf ? buf : "its version unknown: `valgrind --version` said nothing");
    free(vg);
}

/* Create the DEALER socket, its monitor, and connect. Returns 0 or -errno. */
static int agent_connect(struct agent *a)
{
    a->sock = zmq_socket(a->zctx, ZMQ_DEALER);
    if (!a->sock)
        return -zmq_errno();
    int zero = 0, one = 1;
    int ivl = AGENT_ZMTP_PING_MS;
    int dead = (int)a->cfg->dead_periods * AGENT_ZMTP_PING_MS;
    int rmin = 200, rmax = 5000, conn_ms = AGENT_CONNECT_MS;
    int64_t maxsz = WIRE_MAX_MSG_BYTES;
    /* No ZMQ_ROUTING_ID: the coordinator knows an agent by its CURVE key and gives
     * no routing id twice (no ROUTER_HANDOVER), so a chosen one would only let a
     * squatter lock this agent out. ZeroMQ picks a fresh one per connection. */
    zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(a->sock, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof(ivl));
    zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_TIMEOUT, &dead, sizeof(dead));
    zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_TTL, &dead, sizeof(dead));
    zmq_setsockopt(a->sock, ZMQ_RECONNECT_IVL, &rmin, sizeof(rmin));
    zmq_setsockopt(a->sock, ZMQ_RECONNECT_IVL_MAX, &rmax, sizeof(rmax));
    /* Without it a connect into a partition waits for the kernel's SYN retries
     * (minutes), and the link comes back that much later after the heal. */
    zmq_setsockopt(a->sock, ZMQ_CONNECT_TIMEOUT, &conn_ms, sizeof(conn_ms));
    zmq_setsockopt(a->sock, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz));
    if (a->cfg->secret_key) {
        struct curve_keypair me;
        char server[CURVE_Z85_LEN + 1];
        char err[512];
        int rc = curve_load_keypair(a->cfg->secret_key, &me, err, sizeof(err));
        if (rc == 0)
            rc = curve_load_public(a->cfg->coordinator_key, server, err, sizeof(err));
        if (rc == 0 && curve_apply_client(a->sock, &me, server) < 0) {
            rc = -EINVAL;
            snprintf(err, sizeof(err), "could not set up CURVE on the socket");
        }
        char abbrev[16];
        curve_public_abbrev(me.public_z85, abbrev, sizeof(abbrev));
        curve_keypair_wipe(&me);
        if (rc < 0) {
            log_error("%s", err);
            return -PYSCOPE_EUSAGE; /* said: the caller adds nothing */
        }
        log_info("CURVE on: this agent's key %s, coordinator key from \"%s\"", abbrev,
                 a->cfg->coordinator_key);
    } else {
        log_warn("no CURVE keys (--secret-key, --coordinator-key): the link is neither "
                 "encrypted nor authenticated");
    }
    char mon_ep[64];
    snprintf(mon_ep, sizeof(mon_ep), "inproc://agent-monitor-%d", (int)getpid());
    if (zmq_socket_monitor(a->sock, mon_ep,
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_CONNECTED |
                               ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CLOSED) < 0)
        return -zmq_errno();
    a->mon = zmq_socket(a->zctx, ZMQ_PAIR);
    if (!a->mon || zmq_connect(a->mon, mon_ep) < 0)
        return -zmq_errno();
    zmq_setsockopt(a->mon, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(a->sock, a->cfg->coordinator) < 0)
        return -zmq_errno();
    return 0;
}

/* Milliseconds until the nearest timer (at most 1000). */
static long agent_poll_timeout(const struct agent *a, double now)
{
    double next = now + (a->n_running ? RUNJOB_PROCS_PERIOD : 1.0);
    if (a->link == LINK_READY && a->next_heartbeat < next)
        next = a->next_heartbeat;
    for (size_t i = 0; i < a->n_running; i++)
        if (!a->running[i]->killed && a->running[i]->deadline < next)
            next = a->running[i]->deadline;
    long ms = (long)((next - now) * 1000) + 1;
    return ms < 0 ? 0 : ms;
}

static void agent_release(struct agent *a)
{
    for (size_t i = 0; i < a->n_running; i++)
        runjob_destroy(&a->running[i]);
    for (size_t i = 0; i < a->n_queued; i++)
        runjob_destroy(&a->queued[i]);
    /* Reap what the kills left (ours, and orphans we adopted). */
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    if (a->sock) {
        zmq_socket_monitor(a->sock, NULL, 0);
        zmq_close(a->sock);
    }
    if (a->mon)
        zmq_close(a->mon);
    if (a->zctx)
        zmq_ctx_term(a->zctx);
    if (a->sigfd >= 0)
        close(a->sigfd);
    spool_destroy(&a->spool);
    json_decref(a->host);
    free(a->machine);
    agent_pythons_release(&a->pythons);
    free(a->py_version);
    free(a->py_build);
    free(a->py_exe);
    free(a->sent);
}

/* a's labels from its configuration, and the machine it runs on: its "machine" label, else
 * the kernel's boot id. */
static void agent_labels(struct agent *a)
{
    const struct agent_config *cfg = a->cfg;
    for (size_t i = 0; i < cfg->n_labels; i++) {
        a->labels[i] = (struct wire_label){cfg->label_keys[i], cfg->label_values[i]};
        if (strcmp(cfg->label_keys[i], "machine") != 0 || a->machine != NULL)
            continue;
        if (strlen(cfg->label_values[i]) <= WIRE_MAX_MACHINE_ID)
            a->machine = xstrdup(cfg->label_values[i]);
        else
            log_warn("label machine=\"%s\" is longer than %u bytes: the machine is told by"
                     " the kernel's boot id instead",
                     cfg->label_values[i], WIRE_MAX_MACHINE_ID);
    }
    if (a->machine == NULL)
        a->machine = hostinfo_boot_id(NULL);
}

/* SIGTERM, SIGINT, SIGCHLD and SIGHUP blocked and read from the signalfd returned (< 0:
 * errno), SIGPIPE ignored; orphans of a job (a script that double-forks) become our
 * children. */
static int agent_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return fd;
}

/* The signals waiting on a's signalfd: SIGTERM, SIGINT or SIGHUP stops the agent. */
static void agent_read_signals(struct agent *a)
{
    struct signalfd_siginfo si;
    while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) {
            if (!a->stop) /* once: a second signal (the group's, systemd's) says nothing new */
                log_info("signal %u: shutting down", si.ssi_signo);
            a->stop = true;
        }
    }
}

/* What is due at now after each wake-up: jobs' deadlines, processes and memory, the link's
 * diagnosis, Hello again, the heartbeat, orphans and results to send again. */
static void agent_tick(struct agent *a, double now)
{
    agent_check_deadlines(a, now);
    runjob_note_procs(a->running, a->n_running, &a->sb, now);
    runjob_note_memory(a->running, a->n_running, now);
    agent_diagnose_link(a, now);
    if (a->link == LINK_HELLO && now - a->hello_at >= a->cfg->connect_timeout_s)
        agent_send_hello(a);
    if (a->link == LINK_READY && now >= a->next_heartbeat) {
        agent_send_heartbeat(a);
        a->next_heartbeat = now + a->heartbeat_ms / 1000.0;
    }
    if (now >= a->next_resend_check) {
        pid_t keep[64];
        for (size_t i = 0; i < a->n_running; i++)
            keep[i] = a->running[i]->pid;
        runjob_kill_orphans(keep, a->n_running);
        agent_resend_overdue(a, now);
        a->next_resend_check = now + 1.0;
    }
}

int agent_run(const struct agent_config *cfg)
{
    struct agent a = {.cfg = cfg, .sigfd = -1, .heartbeat_ms = AGENT_HEARTBEAT_MS};
    char err[512];
    int rc = 0;
    if (sandbox_init(&a.sb, cfg, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return -PYSCOPE_EUSAGE;
    }
    /* before the spool is made: a python = that is no Python is a setting to fix (exit 2) */
    if (agent_pythons_find(&a.pythons, cfg, &a.sb) < 0) {
        agent_release(&a);
        return -PYSCOPE_EUSAGE;
    }
    a.spool = spool_open(cfg->spool, err, sizeof(err));
    int swept = a.spool != NULL ? runjob_sweep(cfg->spool) : 0;
    if (swept < 0)
        log_warn("could not sweep the job folders in \"%s/" RUNJOB_DIR "\": %s", cfg->spool,
                 strerror(-swept));
    if (!a.spool) {
        log_error("%s", err);
        agent_release(&a); /* the Pythons found above */
        return -PYSCOPE_EUSAGE;
    }
    agent_labels(&a);
    a.host = hostinfo_collect();
    agent_query_python(&a);
    char pys[2048];
    agent_pythons_describe(&a.pythons, pys, sizeof(pys));
    log_info("Pythons jobs may ask for: %s", pys);
    agent_log_valgrind(&a);

    a.sigfd = agent_signals();

    a.zctx = zmq_ctx_new();
    rc = a.sigfd < 0 ? -errno : agent_connect(&a);
    if (rc < 0) {
        if (rc != -PYSCOPE_EUSAGE) /* a key problem is said already, with its fix */
            log_error("could not connect to \"%s\": %s", cfg->coordinator, zmq_strerror(-rc));
        agent_release(&a);
        /* a malformed address is a setting to fix (exit 2), the rest is ours (exit 4) */
        return rc == -EINVAL || rc == -EPROTONOSUPPORT ? -PYSCOPE_EUSAGE : rc;
    }
    a.down_since = runjob_now(); /* no link yet: agent_diagnose_link() says why if it lasts */
    log_info("agent \"%s\" started: workspace \"%s\", spool \"%s\" (%zu waiting), python %s, "
             "coordinator %s",
             cfg->name, cfg->workspace ? cfg->workspace : "(none)", cfg->spool,
             spool_count(a.spool), a.py_version, cfg->coordinator);
    if (cfg->repo)
        log_info("commits are checked out from %s into \"%s\"", cfg->repo, cfg->revisions);

    while (!a.stop) {
        double now = runjob_now();
        zmq_pollitem_t items[3] = {
            {a.sock, 0, ZMQ_POLLIN, 0},
            {a.mon, 0, ZMQ_POLLIN, 0},
            {NULL, a.sigfd, ZMQ_POLLIN, 0},
        };
        if (zmq_poll(items, 3, agent_poll_timeout(&a, now)) < 0 && zmq_errno() != EINTR) {
            log_error("poll failed: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (items[2].revents & ZMQ_POLLIN)
            agent_read_signals(&a);
        agent_reap(&a);
        if (items[1].revents & ZMQ_POLLIN)
            agent_read_monitor(&a);
        if (items[0].revents & ZMQ_POLLIN)
            agent_read_socket(&a);
        agent_tick(&a, runjob_now());
    }
    size_t left = a.n_running + a.n_queued;
    if (left)
        log_info("killing %zu unfinished job%s (their leases will expire)", left,
                 left == 1 ? "" : "s");
    agent_release(&a);
    log_info("stopped");
    return 0;
}
