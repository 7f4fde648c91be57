/*
 * test_zap.c - the ZAP handler over real libzmq sockets (tcp://127.0.0.1):
 * roles, refusals (unknown keys, NULL, PLAIN, other domains, malformed ZAP
 * requests), keys added and removed without a restart, revocation, the
 * start-up self-test with its negative control (libzmq 4.3.4 fails open
 * without ZAP_ENFORCE_DOMAIN), folder rules, and no secret in any log line:
 * every test captures stderr and its teardown checks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "errors.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"
#include "zap.h"

#define MAX_SECRETS 32

struct fixture {
    char *dir;   /* temporary root */
    char *keys;  /* dir/keys: the coordinator's allowlist (agents/, submitters/) */
    char *store; /* dir/store: where keygen writes client keypairs */
    void *ctx;
    struct zap *zap;
    struct curve_keypair server; /* the coordinator's keypair */
    void *router;                /* CURVE server, ZAP enforced */
    char ep[128];                /* where router listens */
    void *clients[8];
    size_t nclients;
    char secrets[MAX_SECRETS][CURVE_Z85_LEN + 1]; /* every secret made: must never be logged */
    size_t nsecrets;
    char log_path[64]; /* captured stderr */
    int saved_err;
};

static void remember_secret(struct fixture *fx, const char *secret)
{
    assert_true(fx->nsecrets < MAX_SECRETS);
    memcpy(fx->secrets[fx->nsecrets++], secret, CURVE_Z85_LEN + 1);
}

/* The whole file at path (new); it must be readable. */
static char *read_all(const char *path)
{
    struct strbuf b = {0};
    assert_int_equal(strbuf_read_file(&b, path, 16u << 20), 0);
    return strbuf_take(&b);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void mkdir_mode(const char *path, mode_t mode)
{
    assert_int_equal(mkdir(path, mode), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char tmpl[] = "/tmp/pyscope_zap_XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    fx->dir = xstrdup(tmpl);
    fx->keys = xasprintf("%s/keys", fx->dir);
    fx->store = xasprintf("%s/store", fx->dir);
    mkdir_mode(fx->keys, 0755);
    mkdir_mode(fx->store, 0700);
    char *agents = xasprintf("%s/agents", fx->keys), *subs = xasprintf("%s/submitters", fx->keys);
    mkdir_mode(agents, 0755);
    mkdir_mode(subs, 0755);
    free(agents);
    free(subs);
    fx->ctx = zmq_ctx_new();
    assert_int_equal(zmq_curve_keypair(fx->server.public_z85, fx->server.secret_z85), 0);
    remember_secret(fx, fx->server.secret_z85);
    snprintf(fx->log_path, sizeof(fx->log_path), "%s/stderr.log", fx->dir);
    fflush(stderr);
    fx->saved_err = dup(2);
    int fd = open(fx->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    *state = fx;
    return 0;
}

/* Restore stderr; return the captured text (caller frees). */
static char *stop_capture(struct fixture *fx)
{
    if (fx->saved_err < 0)
        return xstrdup("");
    fflush(stderr);
    dup2(fx->saved_err, 2);
    close(fx->saved_err);
    fx->saved_err = -1;
    return read_all(fx->log_path);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < fx->nclients; i++)
        zmq_close(fx->clients[i]);
    if (fx->router != NULL)
        zmq_close(fx->router);
    zap_stop(&fx->zap);
    assert_null(fx->zap);
    zmq_ctx_term(fx->ctx);
    char *log = stop_capture(fx);
    /* The promise: no secret ever appears in a log. */
    int leaked = 0;
    for (size_t i = 0; i < fx->nsecrets; i++)
        if (strstr(log, fx->secrets[i]) != NULL)
            leaked++;
    /* cmocka's own failure message went into the captured stderr too. */
    bool failed = strstr(log, "[  ERROR   ]") != NULL || strstr(log, "error: Failure") != NULL;
    if (getenv("TEST_ZAP_SHOW_LOG") != NULL || leaked || failed)
        fprintf(stderr, "--- captured log ---\n%s--- end ---\n", log);
    free(log);
    curve_keypair_wipe(&fx->server);
    char *cmd = xasprintf("chmod -R u+rwx '%s'; rm -rf '%s'", fx->dir, fx->dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
    free(fx->keys);
    free(fx->store);
    free(fx->dir);
    free(fx);
    assert_int_equal(leaked, 0);
    return 0;
}

/* Make keypair name in the store; install its public key in keys/role_dir (NULL: nowhere). */
static void make_key(struct fixture *fx, const char *name, const char *role_dir,
                     struct curve_keypair *kp)
{
    char err[512];
    assert_int_equal(curve_keygen(fx->store, name, NULL, err, sizeof(err)), 0);
    char *prefix = xasprintf("%s/%s", fx->store, name);
    assert_int_equal(curve_load_keypair(prefix, kp, err, sizeof(err)), 0);
    remember_secret(fx, kp->secret_z85);
    free(prefix);
    if (role_dir == NULL)
        return;
    char *src = xasprintf("%s/%s.key", fx->store, name);
    char *dst = xasprintf("%s/%s/%s.key", fx->keys, role_dir, name);
    char *text = read_all(src);
    write_file(dst, text, 0644);
    free(text);
    free(src);
    free(dst);
}

static char *key_path(struct fixture *fx, const char *role_dir, const char *name)
{
    return xasprintf("%s/%s/%s.key", fx->keys, role_dir, name);
}

static void start_zap(struct fixture *fx)
{
    char err[512];
    fx->zap = zap_start(fx->ctx, fx->keys, err, sizeof(err));
    if (fx->zap == NULL)
        fail_msg("zap_start: %s", err);
}

static void open_server(struct fixture *fx)
{
    fx->router = zmq_socket(fx->ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(fx->router, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_server(fx->router, &fx->server), 0);
    assert_int_equal(zmq_bind(fx->router, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof(fx->ep);
    assert_int_equal(zmq_getsockopt(fx->router, ZMQ_LAST_ENDPOINT, fx->ep, &len), 0);
}

/* A DEALER connected to the server; kp NULL = NULL mechanism. */
static void *open_client(struct fixture *fx, const struct curve_keypair *kp)
{
    void *s = zmq_socket(fx->ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (kp != NULL)
        assert_int_equal(curve_apply_client(s, kp, fx->server.public_z85), 0);
    assert_int_equal(zmq_connect(s, fx->ep), 0);
    assert_true(fx->nclients < 8);
    fx->clients[fx->nclients++] = s;
    return s;
}

/* Receive one message on router within ms into *payload (caller closes). */
static bool server_recv(void *router, int ms, zmq_msg_t *payload)
{
    zmq_pollitem_t it = {.socket = router, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, ms) <= 0)
        return false;
    zmq_msg_t id;
    zmq_msg_init(&id);
    assert_true(zmq_msg_recv(&id, router, 0) >= 0);
    assert_true(zmq_msg_more(&id));
    zmq_msg_close(&id);
    zmq_msg_init(payload);
    assert_true(zmq_msg_recv(payload, router, 0) >= 0);
    return true;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait (at most ms) for the allowlist generation to move past old. */
static uint64_t wait_generation(struct zap *z, uint64_t old, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    while (zap_generation(z) == old && now_ms() < end)
        usleep(20000);
    return zap_generation(z);
}

/* Wait (at most ms) until *counter (read through stats) reaches at least want. */
static uint64_t wait_stat(struct zap *z, size_t offset, uint64_t want, int ms)
{
    uint64_t end = now_ms() + (uint64_t)ms;
    struct zap_stats st;
    for (;;) {
        zap_get_stats(z, &st);
        uint64_t v;
        memcpy(&v, (const char *)&st + offset, sizeof(v));
        if (v >= want || now_ms() >= end)
            return v;
        usleep(20000);
    }
}

static void test_known_keys_get_roles(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice, bob;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    make_key(fx, "bob", ZAP_SUBMITTERS_DIR, &bob);
    start_zap(fx);
    open_server(fx);
    void *ca = open_client(fx, &alice);
    assert_int_equal(zmq_send(ca, "hello", 5, 0), 5);
    zmq_msg_t m;
    assert_true(server_recv(fx->router, 5000, &m));
    assert_string_equal(zmq_msg_gets(&m, "User-Id"), "agent:alice");
    assert_string_equal(zmq_msg_gets(&m, ZAP_KEY_PROPERTY), alice.public_z85);
    assert_true(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    assert_false(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_SUBMITTER)); /* an agent cannot submit */
    zmq_msg_close(&m);

    void *cb = open_client(fx, &bob);
    assert_int_equal(zmq_send(cb, "submit", 6, 0), 6);
    assert_true(server_recv(fx->router, 5000, &m));
    assert_string_equal(zmq_msg_gets(&m, "User-Id"), "submitter:bob");
    assert_true(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_SUBMITTER));
    assert_false(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);

    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_int_equal(st.allowed, 2);
    assert_int_equal(st.agents, 1);
    assert_int_equal(st.submitters, 1);
    assert_int_equal(st.refused_unknown, 0);
    curve_keypair_wipe(&alice);
    curve_keypair_wipe(&bob);
}

/* The host and labels an agent key's file grants, looked up by name and key:
 * another key, another role or no key finds nothing. */
static void test_peer_host_and_labels(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice, carol, mallory;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    make_key(fx, "carol", ZAP_AGENTS_DIR, &carol);
    make_key(fx, "mallory", NULL, &mallory);
    char *path = key_path(fx, ZAP_AGENTS_DIR, "alice");
    char *text = read_all(path);
    char *more = xasprintf("%shost = box1\nlabels = b=2, a=1\n", text);
    write_file(path, more, 0644);
    start_zap(fx);
    char host[64] = "", labels[ZAP_LABELS_MAX] = "", want[ZAP_LABELS_MAX];
    assert_true(zap_peer_host(fx->zap, "agent:alice", alice.public_z85, host, sizeof(host)));
    assert_string_equal(host, "box1");
    assert_true(zap_peer_labels(fx->zap, "agent:alice", alice.public_z85, labels, sizeof(labels)));
    assert_null(zap_labels_normalize("b=2, a=1", want, sizeof(want)));
    assert_string_equal(labels, want);
    assert_true(zap_peer_host(fx->zap, "agent:carol", carol.public_z85, host, sizeof(host)));
    assert_string_equal(host, "carol"); /* no "host =" line: its own name */
    strcpy(labels, "untouched");
    assert_false(zap_peer_labels(fx->zap, "agent:carol", carol.public_z85, labels, sizeof(labels)));
    assert_string_equal(labels, "untouched");
    strcpy(host, "untouched");
    assert_false(zap_peer_host(fx->zap, "agent:alice", carol.public_z85, host, sizeof(host)));
    assert_false(zap_peer_host(fx->zap, "agent:alice", mallory.public_z85, host, sizeof(host)));
    assert_false(zap_peer_host(fx->zap, "submitter:alice", alice.public_z85, host, sizeof(host)));
    assert_false(zap_peer_host(fx->zap, "agent:alice", NULL, host, sizeof(host)));
    assert_false(zap_peer_labels(fx->zap, "agent:alice", NULL, labels, sizeof(labels)));
    assert_string_equal(host, "untouched");
    free(more);
    free(text);
    free(path);
    curve_keypair_wipe(&alice);
    curve_keypair_wipe(&carol);
    curve_keypair_wipe(&mallory);
}

static void test_unknown_key_refused(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice, stranger;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    make_key(fx, "stranger", NULL, &stranger);
    start_zap(fx);
    open_server(fx);
    void *c = open_client(fx, &stranger);
    zmq_send(c, "hello", 5, ZMQ_DONTWAIT);
    zmq_msg_t m;
    assert_false(server_recv(fx->router, 800, &m));
    assert_true(wait_stat(fx->zap, offsetof(struct zap_stats, refused_unknown), 1, 3000) >= 1);
    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_int_equal(st.allowed, 0);
    /* The refusal is logged with the key abbreviated, never in full. */
    fflush(stderr);
    char *log = read_all(fx->log_path);
    char abbrev[16];
    curve_public_abbrev(stranger.public_z85, abbrev, sizeof(abbrev));
    assert_non_null(strstr(log, abbrev));
    assert_null(strstr(log, stranger.public_z85));
    free(log);
    curve_keypair_wipe(&alice);
    curve_keypair_wipe(&stranger);
}

static void test_null_plain_and_other_domains_refused(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    start_zap(fx);
    open_server(fx);
    zmq_msg_t m;
    /* A NULL client cannot even start a handshake with a CURVE server. */
    void *c = open_client(fx, NULL);
    zmq_send(c, "hello", 5, ZMQ_DONTWAIT);
    assert_false(server_recv(fx->router, 600, &m));

    /* A NULL server in the pyscope domain: the handler refuses the mechanism. */
    int one = 1, zero = 0;
    void *nul = zmq_socket(fx->ctx, ZMQ_ROUTER);
    zmq_setsockopt(nul, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(nul, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN, strlen(CURVE_ZAP_DOMAIN));
    zmq_setsockopt(nul, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one));
    assert_int_equal(zmq_bind(nul, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t len = sizeof(ep);
    zmq_getsockopt(nul, ZMQ_LAST_ENDPOINT, ep, &len);
    void *nc = zmq_socket(fx->ctx, ZMQ_DEALER);
    zmq_setsockopt(nc, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_connect(nc, ep);
    zmq_send(nc, "hello", 5, ZMQ_DONTWAIT);
    assert_false(server_recv(nul, 600, &m));
    assert_true(wait_stat(fx->zap, offsetof(struct zap_stats, refused_mechanism), 1, 3000) >= 1);
    zmq_close(nc);
    zmq_close(nul);

    /* PLAIN with any password: refused. */
    void *plain = zmq_socket(fx->ctx, ZMQ_ROUTER);
    zmq_setsockopt(plain, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(plain, ZMQ_PLAIN_SERVER, &one, sizeof(one));
    zmq_setsockopt(plain, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN, strlen(CURVE_ZAP_DOMAIN));
    zmq_setsockopt(plain, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one));
    assert_int_equal(zmq_bind(plain, "tcp://127.0.0.1:*"), 0);
    len = sizeof(ep);
    zmq_getsockopt(plain, ZMQ_LAST_ENDPOINT, ep, &len);
    void *pc = zmq_socket(fx->ctx, ZMQ_DEALER);
    zmq_setsockopt(pc, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(pc, ZMQ_PLAIN_USERNAME, "agent:alice", 11);
    zmq_setsockopt(pc, ZMQ_PLAIN_PASSWORD, "guess", 5);
    zmq_connect(pc, ep);
    zmq_send(pc, "hello", 5, ZMQ_DONTWAIT);
    assert_false(server_recv(plain, 600, &m));
    assert_true(wait_stat(fx->zap, offsetof(struct zap_stats, refused_mechanism), 2, 3000) >= 2);
    zmq_close(pc);
    zmq_close(plain);

    /* A CURVE server in another ZAP domain: refused even for a known key. */
    void *other = zmq_socket(fx->ctx, ZMQ_ROUTER);
    zmq_setsockopt(other, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_server(other, &fx->server), 0);
    zmq_setsockopt(other, ZMQ_ZAP_DOMAIN, "other", 5);
    assert_int_equal(zmq_bind(other, "tcp://127.0.0.1:*"), 0);
    len = sizeof(ep);
    zmq_getsockopt(other, ZMQ_LAST_ENDPOINT, ep, &len);
    void *oc = zmq_socket(fx->ctx, ZMQ_DEALER);
    zmq_setsockopt(oc, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_client(oc, &alice, fx->server.public_z85), 0);
    zmq_connect(oc, ep);
    zmq_send(oc, "hello", 5, ZMQ_DONTWAIT);
    assert_false(server_recv(other, 600, &m));
    assert_true(wait_stat(fx->zap, offsetof(struct zap_stats, refused_domain), 1, 3000) >= 1);
    zmq_close(oc);
    zmq_close(other);
    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_int_equal(st.allowed, 0);
    curve_keypair_wipe(&alice);
}

static void test_key_added_without_restart(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair carol;
    make_key(fx, "carol", NULL, &carol);
    start_zap(fx);
    open_server(fx);
    uint64_t gen0 = zap_generation(fx->zap);
    void *c = open_client(fx, &carol);
    zmq_send(c, "hello", 5, ZMQ_DONTWAIT);
    zmq_msg_t m;
    assert_false(server_recv(fx->router, 500, &m));

    char *src = xasprintf("%s/carol.key", fx->store);
    char *dst = key_path(fx, ZAP_AGENTS_DIR, "carol");
    char *text = read_all(src);
    write_file(dst, text, 0644);
    uint64_t gen1 = wait_generation(fx->zap, gen0, 3000);
    assert_true(gen1 > gen0);
    void *c2 = open_client(fx, &carol);
    assert_int_equal(zmq_send(c2, "hello", 5, 0), 5);
    assert_true(server_recv(fx->router, 5000, &m));
    assert_string_equal(zmq_msg_gets(&m, "User-Id"), "agent:carol");
    assert_true(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);
    free(text);
    free(src);
    free(dst);
    curve_keypair_wipe(&carol);
}

static void test_removed_key_revoked(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice, bob;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    make_key(fx, "bob", ZAP_AGENTS_DIR, &bob);
    start_zap(fx);
    open_server(fx);
    void *c = open_client(fx, &alice);
    assert_int_equal(zmq_send(c, "one", 3, 0), 3);
    zmq_msg_t m;
    assert_true(server_recv(fx->router, 5000, &m));
    assert_true(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);

    uint64_t gen0 = zap_generation(fx->zap);
    char *p = key_path(fx, ZAP_AGENTS_DIR, "alice");
    assert_int_equal(unlink(p), 0);
    uint64_t gen1 = wait_generation(fx->zap, gen0, 3000);
    assert_true(gen1 > gen0);
    char **ids;
    size_t n;
    uint64_t now;
    assert_int_equal(zap_revoked_since(fx->zap, gen0, &now, &ids, &n), 0);
    assert_int_equal(now, gen1);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "agent:alice");
    zap_strv_free(ids, n);
    assert_int_equal(zap_revoked_since(fx->zap, gen1, &now, &ids, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ids);
    assert_false(zap_peer_allowed(fx->zap, "agent:alice", NULL));
    assert_true(zap_peer_allowed(fx->zap, "agent:bob", bob.public_z85));

    /* The connection is still up, but its messages no longer pass. */
    assert_int_equal(zmq_send(c, "two", 3, 0), 3);
    assert_true(server_recv(fx->router, 5000, &m));
    assert_string_equal(zmq_msg_gets(&m, "User-Id"), "agent:alice");
    assert_false(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);
    /* And a new handshake is refused. */
    void *c2 = open_client(fx, &alice);
    zmq_send(c2, "three", 5, ZMQ_DONTWAIT);
    assert_false(server_recv(fx->router, 600, &m));
    assert_true(wait_stat(fx->zap, offsetof(struct zap_stats, refused_unknown), 1, 3000) >= 1);
    free(p);
    curve_keypair_wipe(&alice);
    curve_keypair_wipe(&bob);
}

static void test_replaced_key_revokes_old_peer(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair old_key, new_key;
    make_key(fx, "dave", ZAP_AGENTS_DIR, &old_key);
    start_zap(fx);
    open_server(fx);
    void *c = open_client(fx, &old_key);
    assert_int_equal(zmq_send(c, "one", 3, 0), 3);
    zmq_msg_t m;
    assert_true(server_recv(fx->router, 5000, &m));
    zmq_msg_close(&m);

    /* Same name, new key (rotation). */
    make_key(fx, "dave2", NULL, &new_key);
    char *src = xasprintf("%s/dave2.key", fx->store);
    char *tmp = xasprintf("%s/agents/.dave.key.tmp", fx->keys);
    char *dst = key_path(fx, ZAP_AGENTS_DIR, "dave");
    char *text = read_all(src);
    write_file(tmp, text, 0644);
    assert_int_equal(rename(tmp, dst), 0);
    uint64_t gen0 = zap_generation(fx->zap);
    assert_int_equal(zap_reload(fx->zap), 1); /* forced, like SIGHUP */
    assert_true(zap_generation(fx->zap) > gen0);
    assert_int_equal(zap_reload(fx->zap), 0);
    char **ids;
    size_t n;
    uint64_t now;
    assert_int_equal(zap_revoked_since(fx->zap, gen0, &now, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "agent:dave");
    zap_strv_free(ids, n);

    assert_int_equal(zmq_send(c, "two", 3, 0), 3);
    assert_true(server_recv(fx->router, 5000, &m));
    assert_false(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);
    void *c2 = open_client(fx, &new_key);
    assert_int_equal(zmq_send(c2, "three", 5, 0), 5);
    assert_true(server_recv(fx->router, 5000, &m));
    assert_string_equal(zmq_msg_gets(&m, "User-Id"), "agent:dave");
    assert_true(zap_msg_allowed(fx->zap, &m, ZAP_ROLE_AGENT));
    zmq_msg_close(&m);
    free(text);
    free(src);
    free(tmp);
    free(dst);
    curve_keypair_wipe(&old_key);
    curve_keypair_wipe(&new_key);
}

static void test_selftest_passes_with_handler(void **state)
{
    struct fixture *fx = *state;
    start_zap(fx);
    fx->router = zmq_socket(fx->ctx, ZMQ_ROUTER);
    int zero = 0;
    zmq_setsockopt(fx->router, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_server(fx->router, &fx->server), 0);
    assert_int_equal(zmq_bind(fx->router, "tcp://*:*"), 0);
    char ep[128], err[512];
    assert_int_equal(zap_selftest_endpoint(fx->router, ep, sizeof(ep)), 0);
    assert_int_equal(strncmp(ep, "tcp://127.0.0.1:", 16), 0);
    char tiny[8];
    assert_int_equal(zap_selftest_endpoint(fx->router, tiny, sizeof(tiny)), -ENOSPC);
    assert_int_equal(zap_selftest(fx->ctx, ep, fx->server.public_z85, 0, err, sizeof(err)), 0);
    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_true(st.refused_unknown >= 1);
    assert_int_equal(st.allowed, 0);
    assert_int_equal(zap_selftest(fx->ctx, ep, "bad", 0, err, sizeof(err)), -EINVAL);

    /* The same over ipc:// in the temporary folder. */
    void *ipc = zmq_socket(fx->ctx, ZMQ_ROUTER);
    int zero2 = 0;
    zmq_setsockopt(ipc, ZMQ_LINGER, &zero2, sizeof(zero2));
    assert_int_equal(curve_apply_server(ipc, &fx->server), 0);
    char *ipc_ep = xasprintf("ipc://%s/coord.sock", fx->dir);
    assert_int_equal(zmq_bind(ipc, ipc_ep), 0);
    assert_int_equal(zap_selftest_endpoint(ipc, ep, sizeof(ep)), 0);
    assert_string_equal(ep, ipc_ep);
    assert_int_equal(zap_selftest(fx->ctx, ep, fx->server.public_z85, 0, err, sizeof(err)), 0);
    zmq_close(ipc);
    free(ipc_ep);
}

/* A CURVE ROUTER in ctx with the ZAP domain, enforced or not; returns it, ep filled. */
/* A bare CURVE server (no handler started here) as fx->router, replacing any earlier one, so
 * teardown closes it even when an assertion fails (an open socket would hang zmq_ctx_term). */
static void bare_server(struct fixture *fx, bool enforce)
{
    if (fx->router != NULL)
        zmq_close(fx->router);
    void *s = fx->router = zmq_socket(fx->ctx, ZMQ_ROUTER);
    int zero = 0, one = 1;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (enforce) {
        assert_int_equal(curve_apply_server(s, &fx->server), 0);
    } else {
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one));
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, fx->server.secret_z85, CURVE_Z85_LEN);
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN, strlen(CURVE_ZAP_DOMAIN));
    }
    assert_int_equal(zmq_bind(s, "tcp://127.0.0.1:*"), 0);
    assert_int_equal(zap_selftest_endpoint(s, fx->ep, sizeof(fx->ep)), 0);
}

static void test_selftest_negative_control(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    /* No handler, ZAP_DOMAIN set, ZAP_ENFORCE_DOMAIN off: libzmq 4.3.4 lets a stranger in. */
    bare_server(fx, false);
    assert_int_equal(zap_selftest(fx->ctx, fx->ep, fx->server.public_z85, 0, err, sizeof(err)),
                     -EACCES);
    assert_non_null(strstr(err, "accepted an unknown"));
    /* No handler, but enforced: refused (option 93 closes the door). */
    bare_server(fx, true);
    assert_int_equal(zap_selftest(fx->ctx, fx->ep, fx->server.public_z85, 0, err, sizeof(err)), 0);
    /* A handler that stopped: never open. libzmq forgets the handler's inproc endpoint a moment
     * after zap_stop(); a server that asks it before then waits forever for the answer (about 1
     * in 20 tries on a loaded machine), so "no answer" is as closed as a refusal here. */
    start_zap(fx);
    zap_stop(&fx->zap);
    bare_server(fx, true);
    int rc = zap_selftest(fx->ctx, fx->ep, fx->server.public_z85, 3000, err, sizeof(err));
    if (rc != 0 && rc != -ETIMEDOUT)
        fail_msg("a stopped handler let a stranger in (%d): %s", rc, err);
    /* Nobody listening: cannot prove anything. */
    assert_int_equal(
        zap_selftest(fx->ctx, "tcp://127.0.0.1:1", fx->server.public_z85, 400, err, sizeof(err)),
        -ETIMEDOUT);
    assert_non_null(strstr(err, "cannot prove"));
}

/* Send a raw ZAP request of n frames to the handler and read the reply. */
static void zap_ask(void *req, const char *const *frames, const size_t *lens, size_t n,
                    char reply[6][128], size_t reply_len[6])
{
    for (size_t i = 0; i < n; i++)
        assert_true(zmq_send(req, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
    for (size_t i = 0; i < 6; i++) {
        int r = zmq_recv(req, reply[i], 127, 0);
        assert_true(r >= 0);
        reply_len[i] = (size_t)r;
        reply[i][r < 127 ? r : 127] = '\0';
        int more = 0;
        size_t ml = sizeof(more);
        zmq_getsockopt(req, ZMQ_RCVMORE, &more, &ml);
        assert_int_equal(more, i < 5);
    }
}

static void test_zap_protocol_direct(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    start_zap(fx);
    char err[512];
    /* A second handler in the same context cannot bind. */
    assert_null(zap_start(fx->ctx, fx->keys, err, sizeof(err)));
    assert_non_null(strstr(err, "could not bind"));

    void *req = zmq_socket(fx->ctx, ZMQ_REQ);
    int zero = 0, timeout = 3000;
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    assert_int_equal(zmq_connect(req, ZAP_ENDPOINT), 0);
    uint8_t bin[32];
    assert_non_null(zmq_z85_decode(bin, alice.public_z85));
    char reply[6][128];
    size_t rl[6];

    const char *good[] = {"1.0", "r1",    CURVE_ZAP_DOMAIN, "10.0.0.7",
                          "",    "CURVE", (const char *)bin};
    size_t good_len[] = {3, 2, strlen(CURVE_ZAP_DOMAIN), 8, 0, 5, 32};
    zap_ask(req, good, good_len, 7, reply, rl);
    assert_string_equal(reply[0], "1.0");
    assert_string_equal(reply[1], "r1");
    assert_string_equal(reply[2], "200");
    assert_string_equal(reply[4], "agent:alice");
    /* Metadata: name length, name, 4-byte length, value. */
    assert_int_equal(rl[5], 1 + strlen(ZAP_KEY_PROPERTY) + 4 + CURVE_Z85_LEN);
    assert_memory_equal(reply[5] + 1, ZAP_KEY_PROPERTY, strlen(ZAP_KEY_PROPERTY));
    assert_memory_equal(reply[5] + 1 + strlen(ZAP_KEY_PROPERTY) + 4, alice.public_z85,
                        CURVE_Z85_LEN);

    const char *v2[] = {"2.0", "r2", CURVE_ZAP_DOMAIN, "a", "", "CURVE", (const char *)bin};
    size_t v2_len[] = {3, 2, strlen(CURVE_ZAP_DOMAIN), 1, 0, 5, 32};
    zap_ask(req, v2, v2_len, 7, reply, rl);
    assert_string_equal(reply[1], "r2");
    assert_string_equal(reply[2], "400");
    assert_int_equal(rl[4], 0);

    const char *shortreq[] = {"1.0", "r3"};
    size_t short_len[] = {3, 2};
    zap_ask(req, shortreq, short_len, 2, reply, rl);
    assert_string_equal(reply[2], "400");

    const char *badkey[] = {"1.0", "r4", CURVE_ZAP_DOMAIN, "a", "", "CURVE", "tooshort"};
    size_t badkey_len[] = {3, 2, strlen(CURVE_ZAP_DOMAIN), 1, 0, 5, 8};
    zap_ask(req, badkey, badkey_len, 7, reply, rl);
    assert_string_equal(reply[2], "400");

    const char *plain[] = {"1.0", "r5", CURVE_ZAP_DOMAIN, "a", "", "PLAIN", "agent:alice", "pw"};
    size_t plain_len[] = {3, 2, strlen(CURVE_ZAP_DOMAIN), 1, 0, 5, 11, 2};
    zap_ask(req, plain, plain_len, 8, reply, rl);
    assert_string_equal(reply[2], "400");
    assert_int_equal(rl[4], 0);

    const char *dom[] = {"1.0", "r6", "elsewhere", "a", "", "CURVE", (const char *)bin};
    size_t dom_len[] = {3, 2, 9, 1, 0, 5, 32};
    zap_ask(req, dom, dom_len, 7, reply, rl);
    assert_string_equal(reply[2], "400");

    char big[2000];
    memset(big, 'x', sizeof(big));
    const char *huge[] = {"1.0", "r7", big, "a", "", "CURVE", (const char *)bin};
    size_t huge_len[] = {3, 2, sizeof(big), 1, 0, 5, 32};
    zap_ask(req, huge, huge_len, 7, reply, rl);
    assert_string_equal(reply[2], "400");

    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_int_equal(st.allowed, 1);
    assert_int_equal(st.refused_malformed, 4);
    assert_int_equal(st.refused_mechanism, 1);
    assert_int_equal(st.refused_domain, 1);
    zmq_close(req);
    curve_keypair_wipe(&alice);
}

static void test_folder_rules(void **state)
{
    struct fixture *fx = *state;
    struct curve_keypair alice, twin, sneaky;
    make_key(fx, "alice", ZAP_AGENTS_DIR, &alice);
    char *agents = xasprintf("%s/agents", fx->keys);
    char err[512];

    /* Writable by others: refused at start, with the fix. */
    assert_int_equal(chmod(agents, 0777), 0);
    assert_null(zap_start(fx->ctx, fx->keys, err, sizeof(err)));
    assert_non_null(strstr(err, "chmod 755"));
    assert_int_equal(chmod(agents, 0755), 0);
    assert_int_equal(chmod(fx->keys, 0775), 0);
    assert_null(zap_start(fx->ctx, fx->keys, err, sizeof(err)));
    assert_non_null(strstr(err, fx->keys));
    assert_int_equal(chmod(fx->keys, 0755), 0);
    char *missing = xasprintf("%s/none", fx->dir);
    assert_null(zap_start(fx->ctx, missing, err, sizeof(err)));
    free(missing);

    /* Same key under two roles: refused in both. */
    make_key(fx, "twin", ZAP_AGENTS_DIR, &twin);
    char *src = xasprintf("%s/twin.key", fx->store);
    char *dst = key_path(fx, ZAP_SUBMITTERS_DIR, "twin");
    char *text = read_all(src);
    write_file(dst, text, 0644);
    /* A secret in the allowlist folder: never read, warned about. */
    make_key(fx, "sneaky", NULL, &sneaky);
    char *sec_src = xasprintf("%s/sneaky.key_secret", fx->store);
    char *sec_dst = xasprintf("%s/agents/sneaky.key_secret", fx->keys);
    char *sec_text = read_all(sec_src);
    write_file(sec_dst, sec_text, 0600);
    /* A symlink, a malformed key, an invalid name, a README: skipped. */
    char *pub_src = xasprintf("%s/sneaky.key", fx->store);
    char *link = key_path(fx, ZAP_AGENTS_DIR, "linked");
    assert_int_equal(symlink(pub_src, link), 0);
    char *bad = key_path(fx, ZAP_AGENTS_DIR, "garbled");
    write_file(bad, "this is not a key\n", 0644);
    char *readme = xasprintf("%s/agents/README", fx->keys);
    write_file(readme, "keys go here\n", 0644);
    char *badname = xasprintf("%s/agents/-x y.key", fx->keys);
    write_file(badname, text, 0644);

    start_zap(fx);
    struct zap_stats st;
    zap_get_stats(fx->zap, &st);
    assert_int_equal(st.agents, 1); /* alice only */
    assert_int_equal(st.submitters, 0);
    assert_true(zap_peer_allowed(fx->zap, "agent:alice", alice.public_z85));
    assert_false(zap_peer_allowed(fx->zap, "agent:alice", twin.public_z85));
    assert_false(zap_peer_allowed(fx->zap, "agent:twin", NULL));
    assert_false(zap_peer_allowed(fx->zap, "submitter:twin", NULL));
    assert_false(zap_peer_allowed(fx->zap, "agent:sneaky", NULL));
    assert_false(zap_peer_allowed(fx->zap, "agent:linked", NULL));
    assert_false(zap_peer_allowed(fx->zap, "agent:garbled", NULL));
    fflush(stderr);
    char *log = read_all(fx->log_path);
    assert_non_null(strstr(log, "sneaky.key_secret"));
    assert_non_null(strstr(log, "symbolic link"));
    assert_non_null(strstr(log, "garbled.key"));
    assert_non_null(strstr(log, "listed as both"));
    free(log);

    /* The folder turns writable by others while running: fail closed. */
    uint64_t gen0 = zap_generation(fx->zap);
    assert_int_equal(chmod(agents, 0777), 0);
    assert_true(zap_reload(fx->zap) < 0);
    assert_false(zap_peer_allowed(fx->zap, "agent:alice", NULL));
    assert_true(zap_generation(fx->zap) > gen0);
    assert_int_equal(chmod(agents, 0755), 0);
    assert_int_equal(zap_reload(fx->zap), 1);
    assert_true(zap_peer_allowed(fx->zap, "agent:alice", NULL));

    /* The keys folder vanishes: fail closed, and come back when it returns. */
    char *moved = xasprintf("%s/keys.moved", fx->dir);
    assert_int_equal(rename(fx->keys, moved), 0);
    gen0 = zap_generation(fx->zap);
    assert_true(wait_generation(fx->zap, gen0, 3000) > gen0);
    assert_false(zap_peer_allowed(fx->zap, "agent:alice", NULL));
    assert_int_equal(rename(moved, fx->keys), 0);
    gen0 = zap_generation(fx->zap);
    assert_true(wait_generation(fx->zap, gen0, 3000) > gen0);
    assert_true(zap_peer_allowed(fx->zap, "agent:alice", NULL));

    free(moved);
    free(agents);
    free(src);
    free(dst);
    free(text);
    free(sec_src);
    free(sec_dst);
    free(sec_text);
    free(pub_src);
    free(link);
    free(bad);
    free(readme);
    free(badname);
    curve_keypair_wipe(&alice);
    curve_keypair_wipe(&twin);
    curve_keypair_wipe(&sneaky);
}

/* "labels =" lines: normalized, split, and every malformed one refused with a reason. */
static void test_labels_pin(void **state)
{
    (void)state;
    char out[ZAP_LABELS_MAX];
    assert_null(zap_labels_normalize(" pool=night ,gpu=none,, ", out, sizeof(out)));
    assert_string_equal(out, "pool=night,gpu=none");
    assert_null(zap_labels_normalize("", out, sizeof(out)));
    assert_string_equal(out, "");
    assert_null(zap_labels_normalize("url=a=b", out, sizeof(out)));
    const char *keys[4], *values[4];
    char text[] = "pool=night,gpu=none,url=a=b";
    assert_int_equal(zap_labels_split(text, keys, values, 4), 3);
    assert_string_equal(keys[1], "gpu");
    assert_string_equal(values[1], "none");
    assert_string_equal(values[2], "a=b");
    assert_non_null(strstr(zap_labels_normalize("gpu", out, sizeof(out)), "KEY=VALUE"));
    assert_non_null(strstr(zap_labels_normalize("=x", out, sizeof(out)), "empty"));
    assert_non_null(strstr(zap_labels_normalize("g p=x", out, sizeof(out)), "[A-Za-z0-9_.-]"));
    assert_non_null(strstr(zap_labels_normalize("a=1,a=2", out, sizeof(out)), "twice"));
    assert_non_null(strstr(zap_labels_normalize("a=\x1b[2J", out, sizeof(out)), "control"));
    char many[1024] = "";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "k%d=v,", i);
    assert_non_null(strstr(zap_labels_normalize(many, out, sizeof(out)), "more than 32"));
}

static void test_role_strings(void **state)
{
    (void)state;
    assert_int_equal(zap_user_role("agent:a1"), ZAP_ROLE_AGENT);
    assert_int_equal(zap_user_role("submitter:ci.main"), ZAP_ROLE_SUBMITTER);
    assert_int_equal(zap_user_role("agent:"), ZAP_ROLE_NONE);
    assert_int_equal(zap_user_role("agent:../x"), ZAP_ROLE_NONE);
    assert_int_equal(zap_user_role("admin:root"), ZAP_ROLE_NONE);
    assert_int_equal(zap_user_role(""), ZAP_ROLE_NONE);
    assert_int_equal(zap_user_role(NULL), ZAP_ROLE_NONE);
    assert_true(zap_role_allows("agent:a1", ZAP_ROLE_AGENT));
    assert_false(zap_role_allows("agent:a1", ZAP_ROLE_SUBMITTER));
    assert_false(zap_role_allows("submitter:s", ZAP_ROLE_AGENT));
    assert_false(zap_role_allows("agent:a1", ZAP_ROLE_NONE));
    assert_false(zap_role_allows(NULL, ZAP_ROLE_AGENT));
    zap_stop(NULL);
    zap_strv_free(NULL, 0);
}

int main(void)
{
    log_init("test_zap", LOG_LEVEL_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_peer_host_and_labels, setup, teardown),
        cmocka_unit_test(test_labels_pin),
        cmocka_unit_test_setup_teardown(test_known_keys_get_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_plain_and_other_domains_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_added_without_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_key_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replaced_key_revokes_old_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selftest_passes_with_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selftest_negative_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zap_protocol_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_rules, setup, teardown),
        cmocka_unit_test(test_role_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
