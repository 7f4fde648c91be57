/*
 * test_curve.c - CURVE key files (modes, refusals, format), socket set-up
 * over real tcp://127.0.0.1 sockets, and "pyscope keygen" output.
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
#include <unistd.h>
#include <zmq.h>

#include "curve.h"
#include "errors.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

#include "keygen.h"

struct fixture {
    char *dir;     /* fresh temporary folder */
    mode_t umask_; /* restored at teardown */
};

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    char tmpl[] = "/tmp/pyscope_curve_XXXXXX";
    if (mkdtemp(tmpl) == NULL)
        return -1;
    fx->dir = xstrdup(tmpl);
    fx->umask_ = umask(022);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
    umask(fx->umask_);
    free(fx->dir);
    free(fx);
    return 0;
}

static char *path_in(const struct fixture *fx, const char *name)
{
    return xasprintf("%s/%s", fx->dir, name);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
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
    assert_int_equal(chmod(path, mode), 0);
}

static void test_keygen_modes_and_load(void **state)
{
    struct fixture *fx = *state;
    char pub[CURVE_Z85_LEN + 1], err[512];
    assert_int_equal(curve_keygen(fx->dir, "alice", pub, err, sizeof(err)), 0);
    char *pub_path = path_in(fx, "alice.key");
    char *sec_path = path_in(fx, "alice.key_secret");
    assert_int_equal(mode_of(pub_path), 0644);
    assert_int_equal(mode_of(sec_path), 0600);
    assert_true(curve_public_valid(pub));

    struct curve_keypair kp;
    assert_int_equal(curve_load_keypair(sec_path, &kp, err, sizeof(err)), 0);
    assert_string_equal(kp.public_z85, pub);
    assert_true(curve_public_valid(kp.secret_z85));
    /* The secret file holds the secret, the public file does not. */
    char *sec_text = read_all(sec_path), *pub_text = read_all(pub_path);
    assert_non_null(strstr(sec_text, kp.secret_z85));
    assert_null(strstr(pub_text, kp.secret_z85));
    assert_non_null(strstr(pub_text, pub));

    /* The prefix form loads the same pair. */
    struct curve_keypair kp2;
    char *prefix = path_in(fx, "alice");
    assert_int_equal(curve_load_keypair(prefix, &kp2, err, sizeof(err)), 0);
    assert_string_equal(kp2.secret_z85, kp.secret_z85);
    char pub2[CURVE_Z85_LEN + 1];
    assert_int_equal(curve_load_public(prefix, pub2, err, sizeof(err)), 0);
    assert_string_equal(pub2, pub);
    assert_int_equal(curve_load_public(pub_path, pub2, err, sizeof(err)), 0);
    assert_string_equal(pub2, pub);

    curve_keypair_wipe(&kp);
    assert_int_equal(kp.secret_z85[0], 0);
    curve_keypair_wipe(&kp2);
    free(sec_text);
    free(pub_text);
    free(prefix);
    free(pub_path);
    free(sec_path);
}

static void test_keygen_mode_from_start_with_umask_0(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    umask(0);
    char *sub = path_in(fx, "deep/er/keys");
    assert_int_equal(curve_keygen(sub, "bob", NULL, err, sizeof(err)), 0);
    char *sec = xasprintf("%s/bob.key_secret", sub);
    char *pub = xasprintf("%s/bob.key", sub);
    assert_int_equal(mode_of(sec), 0600);
    assert_int_equal(mode_of(pub), 0644);
    assert_int_equal(mode_of(sub), 0700);
    free(sec);
    free(pub);
    free(sub);
}

static void test_keygen_refusals(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    assert_int_equal(curve_keygen(fx->dir, "carol", NULL, err, sizeof(err)), 0);
    char *sec = path_in(fx, "carol.key_secret");
    char *before = read_all(sec);
    assert_int_equal(curve_keygen(fx->dir, "carol", NULL, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "already exists"));
    char *after = read_all(sec);
    assert_string_equal(before, after);

    const char *bad[] = {"", ".hidden", "../evil", "a/b", "sp ace", "x\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(curve_keygen(fx->dir, bad[i], NULL, err, sizeof(err)), -PYSCOPE_EUSAGE);
        assert_false(curve_name_valid(bad[i]));
    }
    char longname[CURVE_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_false(curve_name_valid(longname));
    longname[CURVE_NAME_MAX] = '\0';
    assert_true(curve_name_valid(longname));

    /* A planted symlink at the secret path is never written through. */
    char *target = path_in(fx, "target");
    char *link = path_in(fx, "dave.key_secret");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(curve_keygen(fx->dir, "dave", NULL, err, sizeof(err)), -EEXIST);
    struct stat st;
    assert_int_equal(lstat(target, &st), -1);
    free(target);
    free(link);
    free(before);
    free(after);
    free(sec);
}

static void test_load_refuses_open_secret(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    assert_int_equal(curve_keygen(fx->dir, "erin", NULL, err, sizeof(err)), 0);
    char *sec = path_in(fx, "erin.key_secret");
    struct curve_keypair kp;
    const mode_t modes[] = {0644, 0640, 0604, 0660, 0601};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        assert_int_equal(chmod(sec, modes[i]), 0);
        assert_int_equal(curve_load_keypair(sec, &kp, err, sizeof(err)), -PYSCOPE_EUSAGE);
        assert_non_null(strstr(err, "chmod 600"));
        assert_non_null(strstr(err, sec));
        assert_int_equal(kp.secret_z85[0], 0);
    }
    assert_int_equal(chmod(sec, 0400), 0);
    assert_int_equal(curve_load_keypair(sec, &kp, err, sizeof(err)), 0);
    curve_keypair_wipe(&kp);
    free(sec);
}

static void test_load_refuses_symlink_and_odd_files(void **state)
{
    struct fixture *fx = *state;
    char err[512];
    char *sub = path_in(fx, "real");
    assert_int_equal(curve_keygen(sub, "frank", NULL, err, sizeof(err)), 0);
    char *real = xasprintf("%s/frank.key_secret", sub);
    char *link = path_in(fx, "frank.key_secret");
    assert_int_equal(symlink(real, link), 0);
    struct curve_keypair kp;
    assert_int_equal(curve_load_keypair(link, &kp, err, sizeof(err)), -PYSCOPE_EUSAGE);
    assert_non_null(strstr(err, "symbolic link"));

    /* A FIFO in place of a key must not hang the loader. */
    char *fifo = path_in(fx, "fifo.key_secret");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(curve_load_keypair(fifo, &kp, err, sizeof(err)), -PYSCOPE_EUSAGE);
    assert_non_null(strstr(err, "not a regular file"));

    char *missing = path_in(fx, "nobody");
    assert_int_equal(curve_load_keypair(missing, &kp, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "nobody.key_secret"));
    free(missing);
    free(fifo);
    free(real);
    free(link);
    free(sub);
}

static void test_load_malformed_and_mismatch(void **state)
{
    struct fixture *fx = *state;
    char err[512], out[CURVE_Z85_LEN + 1];
    char pub[CURVE_Z85_LEN + 1], sec[CURVE_Z85_LEN + 1];
    assert_int_equal(zmq_curve_keypair(pub, sec), 0);

    char *text = xasprintf("# comment\n\n  %s  \r\n", pub);
    assert_int_equal(curve_parse_key_text(text, strlen(text), out), 0);
    assert_string_equal(out, pub);
    free(text);
    const char *bad[] = {"", "# only a comment\n", "short\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(curve_parse_key_text(bad[i], strlen(bad[i]), out), -PYSCOPE_EPARSE);
    char two[200];
    snprintf(two, sizeof(two), "%s\n%s\n", pub, pub);
    assert_int_equal(curve_parse_key_text(two, strlen(two), out), -PYSCOPE_EPARSE);
    char badchar[CURVE_Z85_LEN + 2];
    memcpy(badchar, pub, CURVE_Z85_LEN);
    badchar[3] = '"'; /* not in the Z85 alphabet */
    badchar[CURVE_Z85_LEN] = '\n';
    badchar[CURVE_Z85_LEN + 1] = '\0';
    assert_int_equal(curve_parse_key_text(badchar, strlen(badchar), out), -PYSCOPE_EPARSE);
    char nul[CURVE_Z85_LEN];
    memcpy(nul, pub, sizeof(nul));
    nul[5] = '\0';
    assert_int_equal(curve_parse_key_text(nul, sizeof(nul), out), -PYSCOPE_EPARSE);

    /* A malformed secret file: error names the file, not its content. */
    char *p = path_in(fx, "mal.key_secret");
    write_file(p, "not a key at all\n", 0600);
    struct curve_keypair kp;
    assert_int_equal(curve_load_keypair(p, &kp, err, sizeof(err)), -PYSCOPE_EPARSE);
    assert_non_null(strstr(err, "malformed"));
    assert_null(strstr(err, "not a key at all"));
    free(p);

    /* Secret and public files that do not belong together. */
    char other_pub[CURVE_Z85_LEN + 1], other_sec[CURVE_Z85_LEN + 1];
    assert_int_equal(zmq_curve_keypair(other_pub, other_sec), 0);
    char *sp = path_in(fx, "mix.key_secret"), *pp = path_in(fx, "mix.key");
    char *st = xasprintf("%s\n", sec), *pt = xasprintf("%s\n", other_pub);
    write_file(sp, st, 0600);
    write_file(pp, pt, 0644);
    assert_int_equal(curve_load_keypair(sp, &kp, err, sizeof(err)), -PYSCOPE_EUSAGE);
    assert_non_null(strstr(err, "does not match"));
    assert_null(strstr(err, sec));
    unlink(pp);
    assert_int_equal(curve_load_keypair(sp, &kp, err, sizeof(err)), 0);
    assert_string_equal(kp.public_z85, pub);
    curve_keypair_wipe(&kp);
    free(sp);
    free(pp);
    free(st);
    free(pt);

    char abbrev[16];
    curve_public_abbrev(pub, abbrev, sizeof(abbrev));
    assert_int_equal(strlen(abbrev), 11);
    assert_memory_equal(abbrev, pub, 8);
}

/* Receive one message on sock within ms; returns its size or -1. */
static int recv_within(void *sock, int ms, char *buf, size_t len)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, ms) <= 0)
        return -1;
    return zmq_recv(sock, buf, len, 0);
}

static void test_apply_server_client_roundtrip(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    struct curve_keypair server, client, wrong;
    assert_int_equal(zmq_curve_keypair(server.public_z85, server.secret_z85), 0);
    assert_int_equal(zmq_curve_keypair(client.public_z85, client.secret_z85), 0);
    assert_int_equal(zmq_curve_keypair(wrong.public_z85, wrong.secret_z85), 0);
    /* The server needs no ZAP handler here: it is a REP over CURVE, ZAP
     * enforced, so without a handler nobody may come in. */
    void *rep = zmq_socket(ctx, ZMQ_REP);
    int zero = 0;
    zmq_setsockopt(rep, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_server(rep, &server), 0);
    int v = 0;
    size_t vl = sizeof(v);
    assert_int_equal(zmq_getsockopt(rep, ZMQ_ZAP_ENFORCE_DOMAIN, &v, &vl), 0);
    assert_int_equal(v, 1);
    char domain[64];
    size_t dl = sizeof(domain);
    assert_int_equal(zmq_getsockopt(rep, ZMQ_ZAP_DOMAIN, domain, &dl), 0);
    assert_string_equal(domain, CURVE_ZAP_DOMAIN);
    assert_int_equal(zmq_getsockopt(rep, ZMQ_CURVE_SERVER, &v, &vl), 0);
    assert_int_equal(v, 1);
    assert_int_equal(zmq_bind(rep, "tcp://127.0.0.1:*"), 0);
    char ep[128];
    size_t el = sizeof(ep);
    assert_int_equal(zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, ep, &el), 0);

    void *req = zmq_socket(ctx, ZMQ_REQ);
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_client(req, &client, "not a key"), -EINVAL);
    assert_int_equal(curve_apply_client(req, &client, server.public_z85), 0);
    assert_int_equal(zmq_connect(req, ep), 0);
    assert_int_equal(zmq_send(req, "ping", 4, 0), 4);
    char buf[16];
    /* Enforced domain, no handler: refused. */
    assert_int_equal(recv_within(rep, 700, buf, sizeof(buf)), -1);
    zmq_close(req);
    zmq_close(rep);

    /* Without enforcement and with the right server key, CURVE itself works. */
    rep = zmq_socket(ctx, ZMQ_REP);
    zmq_setsockopt(rep, ZMQ_LINGER, &zero, sizeof(zero));
    int one = 1;
    zmq_setsockopt(rep, ZMQ_CURVE_SERVER, &one, sizeof(one));
    zmq_setsockopt(rep, ZMQ_CURVE_SECRETKEY, server.secret_z85, CURVE_Z85_LEN);
    assert_int_equal(zmq_bind(rep, "tcp://127.0.0.1:*"), 0);
    el = sizeof(ep);
    zmq_getsockopt(rep, ZMQ_LAST_ENDPOINT, ep, &el);
    req = zmq_socket(ctx, ZMQ_REQ);
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_client(req, &client, server.public_z85), 0);
    assert_int_equal(zmq_connect(req, ep), 0);
    assert_int_equal(zmq_send(req, "ping", 4, 0), 4);
    assert_int_equal(recv_within(rep, 3000, buf, sizeof(buf)), 4);
    zmq_close(req);

    /* A client that expects another server key never gets through. */
    req = zmq_socket(ctx, ZMQ_REQ);
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(curve_apply_client(req, &client, wrong.public_z85), 0);
    assert_int_equal(zmq_connect(req, ep), 0);
    assert_int_equal(zmq_send(req, "ping", 4, 0), 4);
    zmq_send(rep, "pong", 4, 0);
    assert_int_equal(recv_within(rep, 700, buf, sizeof(buf)), -1);
    zmq_close(req);
    zmq_close(rep);
    curve_keypair_wipe(&server);
    curve_keypair_wipe(&client);
    curve_keypair_wipe(&wrong);
    zmq_ctx_term(ctx);
}

/* Run cmd_keygen with args; stdout and stderr captured into new strings. */
static int run_keygen(int argc, char **argv, char **out, char **errtext)
{
    char out_path[] = "/tmp/pyscope_keygen_out_XXXXXX";
    char err_path[] = "/tmp/pyscope_keygen_err_XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    assert_true(ofd >= 0 && efd >= 0);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(ofd, 1);
    dup2(efd, 2);
    int rc = cmd_keygen(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    close(ofd);
    close(efd);
    *out = read_all(out_path);
    *errtext = read_all(err_path);
    unlink(out_path);
    unlink(err_path);
    return rc;
}

static void test_cmd_keygen(void **state)
{
    struct fixture *fx = *state;
    char *out, *errtext;
    char *argv1[] = {"keygen", "agent1", "--dir", fx->dir, NULL};
    assert_int_equal(run_keygen(4, argv1, &out, &errtext), 0);
    char *prefix = path_in(fx, "agent1");
    struct curve_keypair kp;
    char err[512];
    assert_int_equal(curve_load_keypair(prefix, &kp, err, sizeof(err)), 0);
    assert_non_null(strstr(out, fx->dir));
    assert_non_null(strstr(out, "agent1.key_secret"));
    assert_non_null(strstr(out, "KEYS/agents/"));
    assert_non_null(strstr(out, "KEYS/submitters/"));
    assert_non_null(strstr(out, kp.public_z85));
    assert_null(strstr(out, kp.secret_z85));
    assert_null(strstr(errtext, kp.secret_z85));
    free(out);
    free(errtext);

    /* Again: refused, files untouched, exit 2. */
    assert_int_equal(run_keygen(4, argv1, &out, &errtext), PYSCOPE_EXIT_USAGE);
    assert_non_null(strstr(errtext, "already exists"));
    struct curve_keypair kp2;
    assert_int_equal(curve_load_keypair(prefix, &kp2, err, sizeof(err)), 0);
    assert_string_equal(kp2.secret_z85, kp.secret_z85);
    free(out);
    free(errtext);

    char *argv2[] = {"keygen", NULL};
    assert_int_equal(run_keygen(1, argv2, &out, &errtext), PYSCOPE_EXIT_USAGE);
    assert_non_null(strstr(errtext, "NAME"));
    free(out);
    free(errtext);
    char *argv3[] = {"keygen", "--help", NULL};
    assert_int_equal(run_keygen(2, argv3, &out, &errtext), 0);
    assert_non_null(strstr(out, "Usage: pyscope keygen"));
    free(out);
    free(errtext);
    char *argv4[] = {"keygen", "../x", "--dir", fx->dir, NULL};
    assert_int_equal(run_keygen(4, argv4, &out, &errtext), PYSCOPE_EXIT_USAGE);
    assert_non_null(strstr(errtext, "invalid key name"));
    free(out);
    free(errtext);
    char *argv5[] = {"keygen", "--bogus", "x", NULL};
    assert_int_equal(run_keygen(3, argv5, &out, &errtext), PYSCOPE_EXIT_USAGE);
    free(out);
    free(errtext);

    /* Default folder: $XDG_CONFIG_HOME/pyscope/keys. */
    char *xdg = path_in(fx, "xdg");
    setenv("XDG_CONFIG_HOME", xdg, 1);
    char *argv6[] = {"keygen", "ci", NULL};
    assert_int_equal(run_keygen(2, argv6, &out, &errtext), 0);
    char *expect = xasprintf("%s/pyscope/keys/ci.key_secret", xdg);
    assert_int_equal(mode_of(expect), 0600);
    assert_non_null(strstr(out, expect));
    unsetenv("XDG_CONFIG_HOME");
    free(expect);
    free(xdg);
    free(out);
    free(errtext);
    curve_keypair_wipe(&kp);
    curve_keypair_wipe(&kp2);
    free(prefix);
}

int main(void)
{
    log_init("test_curve", LOG_LEVEL_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_modes_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_mode_from_start_with_umask_0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_open_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refuses_symlink_and_odd_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_malformed_and_mismatch, setup, teardown),
        cmocka_unit_test(test_apply_server_client_roundtrip),
        cmocka_unit_test_setup_teardown(test_cmd_keygen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
