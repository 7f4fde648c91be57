/*
 * main.c - pyscope-coordinator: options, start-up checks, the event loop.
 *
 * Start-up: read the config, connect to PostgreSQL (exit 4 when it is
 * unreachable), refuse a database without fsync or synchronous_commit,
 * apply migrations, bind the ROUTER socket, then serve until SIGTERM or
 * SIGINT. Signals arrive through a signalfd polled beside the socket, so
 * shutdown happens between messages and frees everything.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "config.h"
#include "errors.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "transport.h"

#define PROG "pyscope-coordinator"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [--db CONNINFO] [--bind ENDPOINT] [--config FILE]\n"
            "                           [--log-level LEVEL]\n"
            "\n"
            "Hand out profiling jobs to pyscope agents and store their results in PostgreSQL.\n"
            "\n"
            "  --db CONNINFO      libpq connection string (default: the PG* environment)\n"
            "  --bind ENDPOINT    ZeroMQ endpoint to listen on (default tcp://127.0.0.1:5555)\n"
            "  --config FILE      INI file; see deploy/coordinator.conf.example\n"
            "  --log-level LEVEL  error, warning, info (default) or debug\n"
            "  --help             show this help\n"
            "  --version          show the version\n");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse options into c. Returns 0, 1 when done (--help, --version), or an exit status. */
static int parse_args(int argc, char **argv, struct config *c)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"bind", required_argument, NULL, 'b'},
        {"config", required_argument, NULL, 'c'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *bind = NULL, *file = NULL, *level = NULL;
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
    if (file && config_load(c, file, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_USAGE;
    }
    if (db) {
        free(c->db);
        c->db = strdup(db);
    }
    if (bind) {
        free(c->bind);
        c->bind = strdup(bind);
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
    if (config_check(c, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_USAGE;
    }
    return 0;
}

/* Serve until a signal arrives. Returns an exit status. */
static int serve(void *sock, struct router *router, int sfd)
{
    zmq_pollitem_t items[] = {{sock, 0, ZMQ_POLLIN, 0}, {NULL, sfd, ZMQ_POLLIN, 0}};
    int64_t wait = 0;
    for (;;) {
        if (zmq_poll(items, 2, (long)wait) < 0 && errno != EINTR) {
            log_error("poll failed: %s", zmq_strerror(errno));
            return PYSCOPE_EXIT_INTERNAL;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                log_info("received %s: shutting down",
                         si.ssi_signo == SIGTERM ? "sigterm" : "sigint");
                return PYSCOPE_EXIT_OK;
            }
        }
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
        wait = router_tick(router, now_ms());
    }
}

int main(int argc, char **argv)
{
    log_init(PROG, LOG_LEVEL_INFO);
    struct config cfg;
    config_init(&cfg);
    int status = parse_args(argc, argv, &cfg);
    if (status != 0) {
        config_release(&cfg);
        return status < 0 ? PYSCOPE_EXIT_OK : status;
    }
    log_init(PROG, cfg.log_level);

    char err[512];
    struct store *store = NULL;
    void *ctx = NULL, *sock = NULL;
    struct router *router = NULL;
    int sfd = -1;
    status = PYSCOPE_EXIT_INTERNAL;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        log_error("could not create a signalfd: %s", strerror(errno));
        goto out;
    }

    store = store_open(cfg.db, err, sizeof(err));
    if (store == NULL) {
        log_error("%s", err);
        goto out;
    }
    if (store_check_durability(store, err, sizeof(err)) < 0) {
        log_error("%s", err);
        goto out;
    }
    int applied = store_migrate(store, store_migrations, store_migrations_count, err, sizeof(err));
    if (applied < 0) {
        log_error("%s", err);
        goto out;
    }
    if (applied > 0)
        log_info("applied %d schema migrations", applied);

    ctx = zmq_ctx_new();
    if (ctx == NULL) {
        log_error("could not create a zeromq context: %s", zmq_strerror(errno));
        goto out;
    }
    const struct transport_security sec = {0};
    sock = transport_open(ctx, cfg.bind, &sec, err, sizeof(err));
    if (sock == NULL) {
        log_error("%s", err);
        goto out;
    }
    router = router_new(sock, store, &cfg);
    log_info("listening on %s (lease %u ms, heartbeat %u ms)", cfg.bind, cfg.lease_ms,
             cfg.heartbeat_ms);
    status = serve(sock, router, sfd);
    router_log_counters(router);

out:
    router_destroy(&router);
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    store_close(&store);
    if (sfd >= 0)
        close(sfd);
    config_release(&cfg);
    return status;
}
