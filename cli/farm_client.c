/*
 * farm_client.c - one request, one reply with the coordinator, with timeouts.
 *
 * A fresh DEALER socket per request (the CLI is short-lived): ZMQ_IMMEDIATE
 * so a send waits for a real connection, ZMQ_SNDTIMEO and a poll bound so
 * neither sending nor waiting can hang, ZMQ_LINGER 0 so closing never blocks.
 */
#include "farm_cmds.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "endpoint.h"
#include "errors.h"
#include "jsonutil.h"
#include "log.h"
#include "progress.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

int farm_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -PYSCOPE_EUSAGE;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > max)
        return -PYSCOPE_EUSAGE;
    *out = v;
    return 0;
}

/* Parse a timeout in seconds (> 0, at most an hour); 0 or -PYSCOPE_EUSAGE. */
static int farm_parse_timeout(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v <= 0 || v > 3600)
        return -PYSCOPE_EUSAGE;
    *out = v;
    return 0;
}

void farm_opts_init(struct farm_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->timeout_s = FARM_DEFAULT_TIMEOUT_S;
}

int farm_opts_handle(struct farm_opts *o, int c, const char *arg)
{
    switch (c) {
    case FARM_OPT_COORD:
        o->url = arg;
        return 1;
    case FARM_OPT_TIMEOUT:
        if (farm_parse_timeout(arg, &o->timeout_s) < 0) {
            log_error("--timeout takes seconds (0 to 3600), not \"%s\"", arg);
            return -PYSCOPE_EUSAGE;
        }
        return 1;
    case FARM_OPT_SECRET:
        o->secret_key = arg;
        return 1;
    case FARM_OPT_CKEY:
        o->coordinator_key = arg;
        return 1;
    default:
        return 0;
    }
}

int farm_opts_take(struct farm_opts *o, int c, const char *arg, const char *cmd, const char *prev)
{
    int taken = farm_opts_handle(o, c, arg);
    if (taken > 0)
        return -1;
    if (taken == 0)
        return cli_option_error(cmd, c, prev);
    return PYSCOPE_EXIT_USAGE;
}

int farm_parse_limit(const char *name, const char *arg, uint32_t *out)
{
    uint64_t n;
    if (farm_parse_u64(arg, WIRE_MAX_QUERY_LIMIT, &n) < 0) {
        log_error("%s takes a whole number from 1 to %u, not \"%s\"", name, WIRE_MAX_QUERY_LIMIT,
                  arg);
        return -PYSCOPE_EUSAGE;
    }
    *out = (uint32_t)n;
    return 0;
}

/* getenv, with "" as unset. */
static const char *farm_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int farm_opts_finish(struct farm_opts *o)
{
    if (!o->url)
        o->url = farm_env("PYSCOPE_COORDINATOR");
    if (!o->url)
        o->url = FARM_DEFAULT_COORDINATOR;
    if (!o->secret_key)
        o->secret_key = farm_env("PYSCOPE_SECRET_KEY");
    if (!o->coordinator_key)
        o->coordinator_key = farm_env("PYSCOPE_COORDINATOR_KEY");
    if ((o->secret_key == NULL) != (o->coordinator_key == NULL)) {
        log_error("CURVE needs both keys: --secret-key and --coordinator-key (or "
                  "$PYSCOPE_SECRET_KEY and $PYSCOPE_COORDINATOR_KEY)");
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

static double farm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True (with a message in err) when the monitor mon saw the coordinator refuse our key. */
static bool farm_auth_failed(void *mon, const char *coordinator_key, char *err, size_t errlen)
{
    bool failed = false, connected = false, closed = false, succeeded = false;
    while (mon) {
        zmq_msg_t ev;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            break;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        while (more) {
            zmq_msg_t part;
            zmq_msg_init(&part);
            more = zmq_msg_recv(&part, mon, 0) >= 0 && zmq_msg_more(&part);
            zmq_msg_close(&part);
        }
        if (event == ZMQ_EVENT_CONNECTED)
            connected = true;
        else if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            closed = true;
        else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            succeeded = true;
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            pyscope_set_err(err, errlen,
                            "the coordinator refused our key: put its NAME.key on the "
                            "coordinator's allowlist as a submitter");
            failed = true;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && !failed) {
            pyscope_set_err(err, errlen,
                            "CURVE handshake with the coordinator failed: wrong "
                            "coordinator key, or is CURVE off on one side?");
            failed = true;
        }
    }
    if (!failed && !succeeded && connected && closed) {
        /* A CURVE server that cannot open our Hello just closes the connection. */
        pyscope_set_err(err, errlen,
                        "the coordinator closed the connection during the CURVE handshake: the "
                        "coordinator key \"%s\" is not its key (copy its KEYS/coordinator.key), or "
                        "CURVE is off there",
                        coordinator_key ? coordinator_key : "?");
        failed = true;
    }
    return failed;
}

/* CURVE on sock with o's keys, and *mon (NULL when it cannot be had): a monitor of sock's
 * handshakes, since a refused key shows only as a failed handshake. 0, or < 0 with err. */
static int farm_curve_setup(const struct farm_opts *o, void *ctx, void *sock, void **mon, char *err,
                            size_t errlen)
{
    struct curve_keypair me;
    char server[CURVE_Z85_LEN + 1];
    int rc = curve_load_keypair(o->secret_key, &me, err, errlen);
    if (rc == 0)
        rc = curve_load_public(o->coordinator_key, server, err, errlen);
    if (rc == 0 && curve_apply_client(sock, &me, server) < 0) {
        pyscope_set_err(err, errlen, "could not set up CURVE on the socket");
        rc = -PYSCOPE_EUSAGE;
    }
    curve_keypair_wipe(&me);
    if (rc < 0)
        return rc;
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://farm-monitor-%d", (int)getpid());
    if (zmq_socket_monitor(sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_CONNECTED |
                               ZMQ_EVENT_DISCONNECTED) == 0) {
        *mon = zmq_socket(ctx, ZMQ_PAIR);
        if (*mon && zmq_connect(*mon, ep) < 0) {
            zmq_close(*mon);
            *mon = NULL;
        }
    }
    return 0;
}

/* Waits on sock until deadline for the answer to seq: *reply (new), or < 0 with err
 * (why the coordinator did not answer: its refusal of our key seen on mon, a name that does
 * not resolve, or silence). */
static int farm_await(const struct farm_opts *o, void *sock, void *mon, uint64_t seq,
                      double deadline, struct wire_msg **reply, char *err, size_t errlen)
{
    char why[400];
    for (;;) {
        double left = deadline - farm_now();
        if (left <= 0) {
            if (farm_auth_failed(mon, o->coordinator_key, err, errlen))
                ;
            else if (endpoint_check_resolves(o->url, why, sizeof(why)) < 0)
                pyscope_set_err(err, errlen, "could not reach the coordinator at %s: %s", o->url,
                                why);
            else
                pyscope_set_err(err, errlen, "no answer from the coordinator at %s within %.0f s",
                                o->url, o->timeout_s);
            return -ETIMEDOUT;
        }
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)(left * 1000) + 1);
        if (n < 0) {
            pyscope_set_err(err, errlen, "interrupted while waiting for the coordinator");
            return -EINTR;
        }
        if (n == 0)
            continue;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            continue;
        }
        struct wire_error werr;
        struct wire_msg *m = wire_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &werr);
        zmq_msg_close(&msg);
        if (!m) {
            pyscope_set_err(err, errlen, "malformed answer from the coordinator: %s", werr.msg);
            return -PYSCOPE_EPARSE;
        }
        if (m->reply_to && m->reply_to != seq) {
            wire_msg_destroy(&m); /* an answer to someone else's question: not ours */
            continue;
        }
        *reply = m;
        return 0;
    }
}

int farm_request(const struct farm_opts *o, struct wire_msg *req, struct wire_msg **reply,
                 char *err, size_t errlen)
{
    const char *url = o->url;
    double timeout_s = o->timeout_s;
    *reply = NULL;
    int rc = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    req->seq = 1; /* one request per socket */
    rc = wire_encode(req, &buf, &len);
    if (rc < 0) {
        pyscope_set_err(err, errlen, "could not encode the request: %s", pyscope_strerror(rc));
        return rc;
    }
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    if (!sock) {
        pyscope_set_err(err, errlen, "could not create a socket: %s", zmq_strerror(zmq_errno()));
        free(buf);
        if (ctx)
            zmq_ctx_term(ctx);
        return -EIO; /* not the user's doing: exit 4 */
    }
    int zero = 0, one = 1, ms = (int)(timeout_s * 1000);
    int64_t maxsz = WIRE_MAX_MSG_BYTES;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one));
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &ms, sizeof(ms));
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxsz, sizeof(maxsz));
    void *mon = NULL;
    if (o->secret_key && (rc = farm_curve_setup(o, ctx, sock, &mon, err, errlen)) < 0)
        goto out;
    if (zmq_connect(sock, url) < 0) {
        pyscope_set_err(err, errlen,
                        "bad coordinator address \"%s\": %s (expected tcp://HOST:PORT)", url,
                        zmq_strerror(zmq_errno()));
        rc = -PYSCOPE_EUSAGE;
        goto out;
    }
    double deadline = farm_now() + timeout_s;
    char why[400];
    if (zmq_send(sock, buf, len, 0) < 0) {
        int e = zmq_errno();
        if (e == EAGAIN && farm_auth_failed(mon, o->coordinator_key, err, errlen))
            ;
        else if (e == EAGAIN && endpoint_check_resolves(url, why, sizeof(why)) < 0)
            pyscope_set_err(err, errlen, "could not reach the coordinator at %s: %s", url, why);
        else if (e == EAGAIN)
            pyscope_set_err(err, errlen,
                            "could not reach the coordinator at %s (no connection after "
                            "%.0f s)",
                            url, timeout_s);
        else
            pyscope_set_err(err, errlen, "could not send to the coordinator at %s: %s", url,
                            zmq_strerror(e));
        rc = -ETIMEDOUT;
        goto out;
    }
    rc = farm_await(o, sock, mon, req->seq, deadline, reply, err, errlen);
out:
    free(buf);
    if (mon) {
        zmq_socket_monitor(sock, NULL, 0);
        zmq_close(mon);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}

int farm_query(const struct farm_opts *o, enum wire_query_kind kind, uint64_t batch_id,
               uint32_t limit, json_t **out)
{
    struct wire_query query = {.kind = kind, .batch_id = batch_id, .limit = limit};
    return farm_query_send(o, &query, out);
}

int farm_query_send(const struct farm_opts *o, const struct wire_query *query, json_t **out)
{
    *out = NULL;
    struct wire_msg q;
    wire_msg_init(&q, WIRE_QUERY);
    q.query = *query;
    struct wire_msg *r = NULL;
    char err[512];
    /* a report of thousands of series takes a moment: say so on a terminal */
    struct progress *line = progress_start(stderr, false, 1000);
    progress_set(line, "pyscope: waiting for the coordinator's answer");
    int rc = farm_request(o, &q, &r, err, sizeof(err));
    progress_end(&line);
    if (rc < 0) {
        log_error("%s", err);
        return rc;
    }
    if (r->type == WIRE_ERROR) {
        log_error("the coordinator refused the query (%s): %s", wire_error_code_name(r->error.code),
                  r->error.message);
        wire_msg_destroy(&r);
        return -PYSCOPE_EUSAGE;
    }
    if (r->type != WIRE_QUERY_REPLY) {
        log_error("unexpected answer from the coordinator: %s", wire_type_name(r->type));
        wire_msg_destroy(&r);
        return -PYSCOPE_EPARSE;
    }
    json_error_t jerr;
    *out = json_loads(r->query_reply.json, 0, &jerr);
    wire_msg_destroy(&r);
    if (!*out) {
        log_error("the coordinator's answer is not JSON: %s", jerr.text);
        return -PYSCOPE_EPARSE;
    }
    /* an id that names nothing (a batch, a regression): said, never an empty answer */
    const json_t *e = json_object_get(*out, "error");
    if (json_is_object(e)) {
        char *msg = sanitize_dup(json_string_value(json_object_get(e, "message")), 0);
        log_error("%s", msg ? msg : "the coordinator could not answer the query");
        free(msg);
        json_decref(*out);
        *out = NULL;
        return -PYSCOPE_ENODATA;
    }
    return 0;
}

int farm_query_status(int rc)
{
    /* ENODATA: an id naming nothing; EUSAGE: a bad address or key, said by farm_request() */
    return rc == -PYSCOPE_ENODATA || rc == -PYSCOPE_EUSAGE ? PYSCOPE_EXIT_USAGE
                                                           : PYSCOPE_EXIT_INTERNAL;
}

/* Text of a JSON value for a table cell (new string). */
static char *farm_scalar(const char *col, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return xstrdup(*json_string_value(v) ? json_string_value(v) : "-");
    case JSON_INTEGER: {
        size_t cl = col ? strlen(col) : 0;
        if (cl > 6 && strcmp(col + cl - 6, "_bytes") == 0)
            return xasprintf("%.1f GiB", (double)json_integer_value(v) / (1024.0 * 1024 * 1024));
        return xasprintf("%lld", (long long)json_integer_value(v));
    }
    case JSON_REAL: {
        double x = json_real_value(v);
        return fabs(x) >= 100 || x == 0 ? xasprintf("%.1f", x) : xasprintf("%.4g", x);
    }
    case JSON_TRUE:
        return xstrdup("yes");
    case JSON_FALSE:
        return xstrdup("no");
    case JSON_NULL:
        return xstrdup("-");
    case JSON_OBJECT:
    case JSON_ARRAY: {
        /* Labels {k: v} as k=v,...; arrays as their items (objects by "name"), comma-separated. */
        char *s = xstrdup("");
        const char *k;
        json_t *x;
        size_t i;
        if (json_is_object(v)) {
            json_object_foreach((json_t *)v, k, x)
            {
                char *xv = farm_scalar(NULL, x);
                char *n = xasprintf("%s%s%s=%s", s, *s ? "," : "", k, xv);
                free(xv);
                free(s);
                s = n;
            }
        } else {
            json_array_foreach(v, i, x)
            {
                char *xv = json_is_object(x) && json_object_get(x, "name")
                               ? farm_scalar(NULL, json_object_get(x, "name"))
                               : farm_scalar(NULL, x);
                char *n = xasprintf("%s%s%s", s, *s ? "," : "", xv);
                free(xv);
                free(s);
                s = n;
            }
        }
        if (!*s) {
            free(s);
            s = xstrdup("-");
        }
        return s;
    }
    default:
        return xstrdup("?");
    }
}

/* Print an array of objects as an aligned table of cols (NULL: the first row's keys). */
static void farm_print_table(FILE *out, const json_t *arr, const char *const *want, size_t nwant)
{
    size_t rows = json_array_size(arr);
    if (rows == 0) {
        fputs("(none)\n", out);
        return;
    }
    const json_t *first = json_array_get(arr, 0);
    const char *cols[32];
    size_t nc = 0;
    if (want) {
        for (size_t i = 0; i < nwant && nc < 32; i++)
            cols[nc++] = want[i];
    } else if (json_is_object(first)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)first, k, v)
        {
            if (nc < 32)
                cols[nc++] = k;
        }
    }
    if (nc == 0) {
        for (size_t i = 0; i < rows; i++) {
            char *s = farm_scalar(NULL, json_array_get(arr, i));
            fprintf(out, "%s\n", s);
            free(s);
        }
        return;
    }
    size_t *w = xcalloc(nc, sizeof(size_t));
    char **cells = xcalloc((rows + 1) * nc, sizeof(char *));
    for (size_t c = 0; c < nc; c++) {
        cells[c] = xstrdup(cols[c]);
        w[c] = strlen(cols[c]);
    }
    for (size_t r = 0; r < rows; r++) {
        const json_t *row = json_array_get(arr, r);
        for (size_t c = 0; c < nc; c++) {
            json_t *cv = json_object_get(row, cols[c]);
            char *s = cv ? farm_scalar(cols[c], cv) : xstrdup("-");
            sanitize_ellipsize(s, 60); /* a 3 KB token would push every column away */
            cells[(r + 1) * nc + c] = s;
            if (strlen(s) > w[c])
                w[c] = strlen(s);
        }
    }
    for (size_t r = 0; r <= rows; r++) {
        for (size_t c = 0; c < nc; c++)
            fprintf(out, "%-*s%s", c + 1 < nc ? (int)w[c] : 0, cells[r * nc + c],
                    c + 1 < nc ? "  " : "");
        fputc('\n', out);
    }
    for (size_t i = 0; i < (rows + 1) * nc; i++)
        free(cells[i]);
    free(cells);
    free(w);
}

/* Each host (doc's "hosts") gets "pythons": its agents' Python versions, each once, in the
 * order the agents list them (a version's "abiflags" beside it), for the text table. */
static void farm_host_pythons(json_t *doc)
{
    size_t i, k, m;
    json_t *h, *a, *py;
    json_array_foreach(json_object_get(doc, "hosts"), i, h)
    {
        json_t *seen = json_array();
        json_array_foreach(json_object_get(h, "agents"), k, a)
        {
            json_array_foreach(json_object_get(a, "pythons"), m, py)
            {
                const char *v = json_string_value(json_object_get(py, "version"));
                const char *f = json_string_value(json_object_get(py, "abiflags"));
                char *name = xasprintf("%s%s", v ? v : "?", f ? f : "");
                bool dup = false;
                size_t n;
                json_t *x;
                json_array_foreach(seen, n, x) dup |= strcmp(json_string_value(x), name) == 0;
                if (!dup)
                    json_array_append_new(seen, json_string(name));
                free(name);
            }
        }
        json_object_set_new(h, "pythons", seen);
    }
}

static int farm_print_safe(FILE *out, enum wire_query_kind kind, json_t *doc)
{
    static const char *const host_cols[] = {"hostname",  "fingerprint", "status",   "cores",
                                            "mem_bytes", "labels",      "agents",   "pythons",
                                            "queued",    "leased",      "last_seen"};
    static const char *const job_cols[] = {"id",          "batch_id", "script",  "host",
                                           "state",       "attempt",  "outcome", "interval_ms",
                                           "lease_owner", "updated"};
    if (kind == WIRE_QUERY_HOSTS) {
        farm_host_pythons(doc);
        /* a row of a host's older fingerprint (drift: its series ended there) says so */
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(doc, "hosts"), i, h)
        {
            const char *st = json_is_true(json_object_get(h, "superseded")) ? "superseded (drift)"
                             : json_is_string(json_object_get(h, "offline_since")) ? "offline"
                                                                                   : "current";
            json_object_set_new(h, "status", json_string(st));
        }
        farm_print_table(out, json_object_get(doc, "hosts"), host_cols, 11);
        return 0;
    }
    if (kind == WIRE_QUERY_JOBS) {
        farm_print_table(out, json_object_get(doc, "jobs"), job_cols, 10);
        return 0;
    }
    const json_t *b = json_object_get(doc, "batch");
    if (!json_is_object(b)) {
        log_error("no such batch");
        return -PYSCOPE_ENODATA;
    }
    const json_t *j = json_object_get(b, "jobs");
    const char *label = json_string_value(json_object_get(b, "label"));
    const char *commit = json_string_value(json_object_get(b, "commit"));
    fprintf(out, "batch %lld (suite %s): %s\n", json_get_int(b, "id", 0),
            json_string_value(json_object_get(b, "suite")) ?: "?",
            json_string_value(json_object_get(b, "state")) ?: "?");
    if (label && *label)
        fprintf(out, "label:    %s\n", label);
    if (commit && *commit)
        fprintf(out, "commit:   %s\n", commit);
    fprintf(out, "jobs:     %lld total, %lld done, %lld failed, %lld running, %lld queued\n",
            json_get_int(j, "total", 0), json_get_int(j, "done", 0), json_get_int(j, "failed", 0),
            json_get_int(j, "leased", 0), json_get_int(j, "queued", 0));
    if (json_get_int(j, "host_offline", 0) > 0)
        fprintf(out,
                "          %lld of them failed \"host offline\": no live agent on their host\n",
                json_get_int(j, "host_offline", 0));
    if (json_get_int(j, "no_python", 0) > 0)
        fprintf(out,
                "          %lld of them failed \"no live agent has Python ...\": no live agent"
                " on their host has the Python they ask for (pyscope jobs)\n",
                json_get_int(j, "no_python", 0));
    fprintf(out, "runs:     %lld stored\n", json_get_int(b, "runs", 0));
    const char *created = json_string_value(json_object_get(b, "created"));
    const char *finished = json_string_value(json_object_get(b, "finished"));
    fprintf(out, "created:  %s\n", created ? created : "-");
    fprintf(out, "finished: %s\n", finished ? finished : "-");
    return 0;
}

int farm_print_doc(FILE *out, enum wire_query_kind kind, const json_t *doc)
{
    /* host names, labels, scripts, messages: from agents and submitters */
    json_t *safe = sanitize_json_copy(doc, 0);
    int rc = farm_print_safe(out, kind, safe);
    json_decref(safe);
    return rc;
}
