/*
 * main.c - pyscope-coordinator: options, start-up checks, the event loop.
 *
 * Start-up: read the config and check what needs no database (exit 2: the
 * --bind endpoint's form, the --http address and token file, the keys
 * folder), connect to PostgreSQL (exit 4 when it is
 * unreachable), refuse a database without fsync or synchronous_commit,
 * apply migrations; with CURVE (curve_keys_dir set), load the server's
 * keypair and start the ZAP handler (coordinator/zap.h) on the keys folder; bind the
 * ROUTER socket; with CURVE, prove with zap_selftest() that an unknown key
 * is refused (exit 4, "refusing to serve", otherwise); then serve until
 * SIGTERM or SIGINT. SIGHUP re-reads the keys folder at once (it is also
 * re-read by itself within about a second of a change). Signals arrive
 * through a signalfd polled beside the socket, so shutdown happens between
 * messages and frees everything, in the order libzmq needs: router socket,
 * ZAP handler, context.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "coord_config.h"
#include "endpoint.h"
#include "errors.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "transport.h"
#include "web.h"
#include "writer.h"
#include "xmalloc.h"
#include "zap.h"

#define PROG "pyscope-coordinator"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [--db CONNINFO] [--bind ENDPOINT] [--config FILE]\n"
            "                           [--http [ADDR:]PORT] [--log-level LEVEL]\n"
            "\n"
            "Hand out profiling jobs to pyscope agents and store their results in PostgreSQL.\n"
            "\n"
            "  --db CONNINFO      libpq connection string (default: the PG* environment)\n"
            "  --bind ENDPOINT    ZeroMQ endpoint to listen on (default tcp://127.0.0.1:5555)\n"
            "  --config FILE      INI file; see deploy/coordinator.conf.example\n"
            "  --http [ADDR:]PORT serve the reports as web pages (read only; default address\n"
            "                     127.0.0.1; another needs http_token_file, docs/security.md)\n"
            "  --log-level LEVEL  error, warning, info (default) or debug\n"
            "  --help             show this help\n"
            "  --version          show the version\n");
}

/*
 * Tell systemd (Type=notify) about our state, e.g. "READY=1": one datagram
 * to $NOTIFY_SOCKET, nothing when it is unset. Failures are not fatal.
 */
static void notify_systemd(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (path == NULL || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path))
        return;
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen) < 0)
        log_warn("could not notify systemd: %s", strerror(errno));
    close(fd);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse options into c. Returns 0, 1 when done (--help, --version), or an exit status. */
/*
 * What the settings say wrong that needs no database, checked before connecting (a bad
 * --http or --bind was reported only after the database, and with it down the user saw
 * the database's error): the form of bind, the web pages' address and token file, and a
 * keys folder that is a folder. 0, or -1 with err.
 */
static int check_before_db(const struct coord_config *c, char *err, size_t errlen)
{
    if (endpoint_check_form(c->bind, err, errlen) < 0)
        return -1;
    if (c->http) {
        struct web_options wo = {c->http, c->http_token_file, c->http_threads};
        if (web_options_check(&wo, err, errlen) < 0)
            return -1;
    }
    struct stat st;
    if (c->curve_keys_dir && stat(c->curve_keys_dir, &st) < 0) {
        pyscope_set_err(err, errlen, "curve_keys_dir \"%s\": %s", c->curve_keys_dir,
                        strerror(errno));
        return -1;
    }
    if (c->curve_keys_dir && !S_ISDIR(st.st_mode)) {
        pyscope_set_err(err, errlen, "curve_keys_dir \"%s\" is not a folder", c->curve_keys_dir);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct coord_config *c)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},     {"bind", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'c'}, {"log-level", required_argument, NULL, 'l'},
        {"http", required_argument, NULL, 'H'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *bind = NULL, *file = NULL, *level = NULL, *http = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd':
            db = optarg;
            break;
        case 'b':
            bind = optarg;
            break;
        case 'c':
            file = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'H':
            http = optarg;
            break;
        case 'h':
            usage(stdout);
            return -1;
        case 'V':
            printf(PROG " %s\n", PYSCOPE_VERSION);
            return -1;
        default:
            usage(stderr);
            return PYSCOPE_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        log_error("unexpected argument \"%s\"", argv[optind]);
        usage(stderr);
        return PYSCOPE_EXIT_USAGE;
    }
    char err[512];
    if (file && coord_config_load(c, file, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_USAGE;
    }
    if (db) {
        free(c->db);
        c->db = xstrdup(db);
    }
    if (bind) {
        free(c->bind);
        c->bind = xstrdup(bind);
    }
    if (http) {
        free(c->http);
        c->http = xstrdup(http);
    }
    if (level) {
        static const char *const names[] = {"error", "warning", "info", "debug"};
        int i = 0;
        while (i < 4 && strcmp(level, names[i]) != 0)
            i++;
        if (i == 4) {
            log_error("unknown log level \"%s\"", level);
            return PYSCOPE_EXIT_USAGE;
        }
        c->log_level = (enum log_level)i;
    }
    if (coord_config_check(c, err, sizeof(err)) < 0 || check_before_db(c, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_USAGE;
    }
    return 0;
}

/*
 * The secret key path: curve_secret_key_file, else KEYS/coordinator. Fills
 * out (outlen bytes). Returns 0 or -ENAMETOOLONG.
 */
static int secret_key_path(const struct coord_config *cfg, char *out, size_t outlen)
{
    int n = cfg->curve_secret_key_file
                ? snprintf(out, outlen, "%s", cfg->curve_secret_key_file)
                : snprintf(out, outlen, "%s/coordinator", cfg->curve_keys_dir);
    return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/*
 * Open the ROUTER socket in ctx (borrowed) as cfg says. With CURVE, in the
 * order coordinator/zap.h needs: load the keypair, start the ZAP handler (*zap,
 * caller owns: zap_stop), apply the keys and bind (*sock, caller owns:
 * zmq_close), then prove an unknown key is refused. The secret key is
 * wiped before returning and never logged. Returns 0, or an exit status
 * after logging why (*zap and *sock may then be set: release them).
 */
static int start_transport(const struct coord_config *cfg, void *ctx, struct zap **zap, void **sock,
                           char *err, size_t errlen)
{
    struct transport_security sec = {0};
    if (cfg->curve_keys_dir == NULL) {
        log_warn("curve off: any peer that reaches %s is trusted (set curve_keys_dir)", cfg->bind);
        *sock = transport_open(ctx, cfg->bind, &sec, err, errlen);
        if (*sock == NULL) {
            log_error("%s", err);
            return PYSCOPE_EXIT_INTERNAL;
        }
        return 0;
    }
    char path[4096];
    struct curve_keypair kp;
    if (secret_key_path(cfg, path, sizeof(path)) < 0) {
        log_error("curve_keys_dir is too long");
        return PYSCOPE_EXIT_USAGE;
    }
    if (curve_load_keypair(path, &kp, err, errlen) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    /* The ZAP handler must run before the socket that needs it is bound. */
    *zap = zap_start(ctx, cfg->curve_keys_dir, err, errlen);
    if (*zap == NULL) {
        curve_keypair_wipe(&kp);
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    sec.curve = &kp;
    *sock = transport_open(ctx, cfg->bind, &sec, err, errlen);
    char public[CURVE_Z85_LEN + 1];
    memcpy(public, kp.public_z85, sizeof(public));
    curve_keypair_wipe(&kp);
    if (*sock == NULL) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    char ep[512];
    int rc = zap_selftest_endpoint(*sock, ep, sizeof(ep));
    if (rc < 0) {
        log_error("refusing to serve: no endpoint for the CURVE self-test: %s", strerror(-rc));
        return PYSCOPE_EXIT_INTERNAL;
    }
    if (zap_selftest(ctx, ep, public, 0, err, errlen) < 0) {
        log_error("refusing to serve: %s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    log_info("curve on: server public key %s, allowed keys in \"%s\"", public, cfg->curve_keys_dir);
    return 0;
}

/* Serve until a signal arrives. Returns an exit status. */
static int serve(void *sock, void *mon, struct zap *zap, struct router *router, int sfd,
                 struct writer *const *writers, size_t n_writers)
{
    zmq_pollitem_t items[3 + ROUTER_MAX_WRITERS] = {
        {sock, 0, ZMQ_POLLIN, 0}, {NULL, sfd, ZMQ_POLLIN, 0}, {mon, 0, ZMQ_POLLIN, 0}};
    int n_items = 3;
    for (size_t i = 0; i < n_writers; i++) /* a writer's group is done */
        items[n_items++] = (zmq_pollitem_t){NULL, writer_fd(writers[i]), ZMQ_POLLIN, 0};
    int64_t wait = 0;
    for (;;) {
        if (zmq_poll(items, n_items, (long)wait) < 0 && errno != EINTR) {
            log_error("poll failed: %s", zmq_strerror(errno));
            return PYSCOPE_EXIT_INTERNAL;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    log_info("received sighup: %s",
                             zap ? "re-reading the keys folder" : "nothing to reload");
                    if (zap)
                        zap_reload(zap);
                } else {
                    log_info("received %s: shutting down",
                             si.ssi_signo == SIGTERM ? "sigterm" : "sigint");
                    return PYSCOPE_EXIT_OK;
                }
            }
        }
        router_check_keys(router);
        int ev;
        while ((ev = transport_monitor_read(mon)) >= 0)
            router_connection_event(router, ev);
        /* Drain what is waiting, a bounded batch at a time so ticks still run. */
        for (int i = 0; i < 1000; i++) {
            struct transport_msg m;
            int rc = transport_recv(sock, &m);
            if (rc == -EAGAIN || rc == -EINTR)
                break;
            if (rc < 0) {
                log_error("receive failed: %s", zmq_strerror(-rc));
                return PYSCOPE_EXIT_INTERNAL;
            }
            router_handle(router, &m, now_ms());
            transport_msg_release(&m);
        }
        router_flush(router);
        wait = router_tick(router, now_ms());
    }
}

/* SIGTERM, SIGINT and SIGHUP blocked and read from a signalfd (returned; < 0 logged),
 * SIGPIPE ignored. */
static int signals_open(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        log_error("could not create a signalfd: %s", strerror(errno));
    return sfd;
}

/* The store of conninfo db, durable and migrated to the newest schema; NULL (logged). */
static struct store *store_ready(const char *db)
{
    char err[512];
    struct store *store = store_open(db, err, sizeof(err));
    if (store == NULL) {
        log_error("%s", err);
        return NULL;
    }
    if (store_check_durability(store, err, sizeof(err)) < 0) {
        log_error("%s", err);
        store_close(&store);
        return NULL;
    }
    int applied = store_migrate(store, store_migrations, store_migrations_count, err, sizeof(err));
    if (applied < 0) {
        log_error("%s", err);
        store_close(&store);
        return NULL;
    }
    if (applied > 0)
        log_info("applied %d schema migrations", applied);
    return store;
}

/*
 * The coordinator's threads, each with its own connections: cfg->writers result writers,
 * the analyst and, with cfg->http, the web pages. Returns 0, or the exit status (logged);
 * what started is in writers, *analyst and *web either way, for the caller to stop.
 */
static int threads_start(const struct coord_config *cfg, struct writer **writers,
                         struct analyst **analyst, struct web **web)
{
    char err[512];
    /* Results are stored by threads of their own, each with its own connection. */
    for (uint32_t i = 0; i < cfg->writers; i++) {
        writers[i] = writer_start(cfg->db, err, sizeof(err));
        if (writers[i] == NULL) {
            log_error("%s", err);
            return PYSCOPE_EXIT_INTERNAL;
        }
    }
    /* Finished batches are analysed by a thread of their own, with its own connection. */
    struct bisection_settings bis = {.auto_bisect = cfg->auto_bisect != 0,
                                     .budget_s = cfg->bisect_budget_s,
                                     .rounds = cfg->bisect_rounds,
                                     .job_timeout_s = cfg->job_timeout_s,
                                     .max_attempts = cfg->max_attempts};
    *analyst =
        analyst_start(cfg->db, cfg->confirm != 0, &bis, cfg->reap_interval_ms, err, sizeof(err));
    if (*analyst == NULL) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    /* The web pages: threads of their own, read-only connections of their own. */
    if (cfg->http) {
        struct web_options wo = {cfg->http, cfg->http_token_file, cfg->http_threads};
        int usage;
        *web = web_start(cfg->db, &wo, &usage, err, sizeof(err));
        if (*web == NULL) {
            log_error("%s", err);
            return usage ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
        }
        log_info("web pages on %s (read only, %s)", web_url(*web),
                 cfg->http_token_file ? "token required" : "no token");
    }
    return 0;
}

int main(int argc, char **argv)
{
    log_init(PROG, LOG_LEVEL_INFO);
    struct coord_config cfg;
    coord_config_init(&cfg);
    int status = parse_args(argc, argv, &cfg);
    if (status != 0) {
        coord_config_release(&cfg);
        return status < 0 ? PYSCOPE_EXIT_OK : status;
    }
    log_init(PROG, cfg.log_level);

    char err[512];
    struct store *store = NULL;
    void *ctx = NULL, *sock = NULL, *mon = NULL;
    struct zap *zap = NULL;
    struct router *router = NULL;
    struct writer *writers[ROUTER_MAX_WRITERS] = {0};
    struct analyst *analyst = NULL;
    struct web *web = NULL;
    int sfd = -1;
    status = PYSCOPE_EXIT_INTERNAL;

    sfd = signals_open();
    if (sfd < 0)
        goto out;
    store = store_ready(cfg.db);
    if (store == NULL)
        goto out;
    status = threads_start(&cfg, writers, &analyst, &web);
    if (status != 0)
        goto out;
    status = PYSCOPE_EXIT_INTERNAL;

    ctx = zmq_ctx_new();
    if (ctx == NULL) {
        log_error("could not create a zeromq context: %s", zmq_strerror(errno));
        goto out;
    }
    status = start_transport(&cfg, ctx, &zap, &sock, err, sizeof(err));
    if (status != 0)
        goto out;
    status = PYSCOPE_EXIT_INTERNAL;
    mon = transport_monitor_open(ctx, sock, err, sizeof(err));
    if (mon == NULL) {
        log_error("%s", err);
        goto out;
    }
    router = router_new(sock, store, writers, cfg.writers, analyst, &cfg, zap);
    log_info("listening on %s (lease %u ms, heartbeat %u ms, %u result writer%s)", cfg.bind,
             cfg.lease_ms, cfg.heartbeat_ms, cfg.writers, cfg.writers == 1 ? "" : "s");
    notify_systemd("READY=1");
    status = serve(sock, mon, zap, router, sfd, writers, cfg.writers);
    notify_systemd("STOPPING=1");
    router_log_counters(router);

out:
    router_destroy(&router); /* answers the writers' groups in flight */
    analyst_stop(&analyst);  /* lets an analysis under way finish */
    web_stop(&web);          /* finishes the pages under way */
    for (size_t i = 0; i < ROUTER_MAX_WRITERS; i++)
        writer_stop(&writers[i]);
    if (mon) {
        zmq_socket_monitor(sock, NULL, 0);
        zmq_close(mon);
    }
    if (sock)
        zmq_close(sock);
    zap_stop(&zap); /* after the socket it authenticates, before the context */
    if (ctx)
        zmq_ctx_term(ctx);
    store_close(&store);
    if (sfd >= 0)
        close(sfd);
    coord_config_release(&cfg);
    return status;
}
