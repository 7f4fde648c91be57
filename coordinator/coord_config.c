/*
 * coord_config.c - defaults and the INI file (libinih).
 */
#include "coord_config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confval.h"
#include "errors.h"
#include "wire.h"
#include "xmalloc.h"

/* State of one ini_parse_stream() call. */
struct load_ctx {
    struct coord_config *c;
    struct confval_reader in; /* counts the lines, refuses unknown section headers */
    char *err;                /* the first key's error (libinih goes on after one) */
    size_t errlen;
    int err_line; /* its line, 0: none */
};

void coord_config_init(struct coord_config *c)
{
    memset(c, 0, sizeof(*c));
    c->bind = xstrdup("tcp://127.0.0.1:5555");
    c->heartbeat_ms = 5000;
    c->lease_ms = 30000;
    c->peer_timeout_ms = 0; /* 3 heartbeats */
    c->reap_interval_ms = 1000;
    c->host_offline_s = 600;
    c->lease_grace_s = 3600;
    c->dispatch_interval_ms = 500;
    c->stats_interval_s = 300;
    c->confirm = 1;
    c->auto_bisect = 0;
    c->bisect_budget_s = 6 * 3600;
    c->bisect_rounds = 5;
    c->writers = 1;
    c->max_attempts = 3;
    c->job_timeout_s = 600;
    c->log_level = LOG_LEVEL_INFO;
    c->http_threads = 2;
}

void coord_config_release(struct coord_config *c)
{
    free(c->db);
    free(c->bind);
    free(c->curve_secret_key_file);
    free(c->curve_keys_dir);
    free(c->http);
    free(c->http_token_file);
    c->db = c->bind = c->curve_secret_key_file = c->curve_keys_dir = NULL;
    c->http = c->http_token_file = NULL;
}

static int parse_u32(const char *v, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || end == v || *end != '\0' || v[0] == '-' || n > UINT32_MAX)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

/* A switch (lib/confval.h) into *out as 1 or 0. */
static int parse_onoff(const char *v, uint32_t *out)
{
    bool on;
    if (confval_onoff(v, &on) < 0)
        return -1;
    *out = on;
    return 0;
}

static int parse_level(const char *v, enum log_level *out)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* One key of [coordinator]: 1, or 0 with a message in ctx->err. */
static int config_set(struct load_ctx *ctx, const char *name, const char *value)
{
    struct coord_config *c = ctx->c;
    int bad = 0;
    if (strcmp(name, "db") == 0) {
        free(c->db);
        c->db = xstrdup(value);
    } else if (strcmp(name, "bind") == 0) {
        free(c->bind);
        c->bind = xstrdup(value);
    } else if (strcmp(name, "curve_secret_key_file") == 0) {
        free(c->curve_secret_key_file);
        c->curve_secret_key_file = xstrdup(value);
    } else if (strcmp(name, "curve_keys_dir") == 0) {
        free(c->curve_keys_dir);
        c->curve_keys_dir = xstrdup(value);
    } else if (strcmp(name, "http") == 0) {
        free(c->http);
        c->http = value[0] ? xstrdup(value) : NULL;
    } else if (strcmp(name, "http_token_file") == 0) {
        free(c->http_token_file);
        c->http_token_file = value[0] ? xstrdup(value) : NULL;
    } else if (strcmp(name, "http_threads") == 0) {
        bad = parse_u32(value, &c->http_threads);
    } else if (strcmp(name, "curve_allowlist_file") == 0) {
        snprintf(ctx->err, ctx->errlen,
                 "\"curve_allowlist_file\" is gone: put each allowed NAME.key in "
                 "curve_keys_dir's agents/ or submitters/ folder (docs/security.md)");
        return 0;
    } else if (strcmp(name, "heartbeat_ms") == 0) {
        bad = parse_u32(value, &c->heartbeat_ms);
    } else if (strcmp(name, "lease_ms") == 0) {
        bad = parse_u32(value, &c->lease_ms);
    } else if (strcmp(name, "peer_timeout_ms") == 0) {
        bad = parse_u32(value, &c->peer_timeout_ms);
    } else if (strcmp(name, "reap_interval_ms") == 0) {
        bad = parse_u32(value, &c->reap_interval_ms);
    } else if (strcmp(name, "host_offline_s") == 0) {
        bad = parse_u32(value, &c->host_offline_s) || c->host_offline_s == 0;
    } else if (strcmp(name, "lease_grace_s") == 0) {
        bad = parse_u32(value, &c->lease_grace_s);
    } else if (strcmp(name, "dispatch_interval_ms") == 0) {
        bad = parse_u32(value, &c->dispatch_interval_ms);
    } else if (strcmp(name, "stats_interval_s") == 0) {
        bad = parse_u32(value, &c->stats_interval_s);
    } else if (strcmp(name, "confirm") == 0) {
        bad = parse_u32(value, &c->confirm) || c->confirm > 1;
    } else if (strcmp(name, "auto_bisect") == 0) {
        bad = parse_onoff(value, &c->auto_bisect);
    } else if (strcmp(name, "bisect_budget_s") == 0) {
        bad = parse_u32(value, &c->bisect_budget_s) || c->bisect_budget_s == 0 ||
              c->bisect_budget_s > 30 * 86400;
    } else if (strcmp(name, "bisect_rounds") == 0) {
        bad = parse_u32(value, &c->bisect_rounds) || c->bisect_rounds < 1 ||
              c->bisect_rounds > WIRE_MAX_TRY_ROUNDS;
    } else if (strcmp(name, "share_machines") == 0) {
        bad = parse_u32(value, &c->share_machines) || c->share_machines > 1;
    } else if (strcmp(name, "writers") == 0) {
        bad = parse_u32(value, &c->writers);
    } else if (strcmp(name, "max_attempts") == 0) {
        bad = parse_u32(value, &c->max_attempts);
    } else if (strcmp(name, "job_timeout_s") == 0) {
        char *end;
        c->job_timeout_s = strtod(value, &end);
        bad = end == value || *end != '\0' || !isfinite(c->job_timeout_s);
    } else if (strcmp(name, "log_level") == 0) {
        bad = parse_level(value, &c->log_level);
    } else {
        snprintf(ctx->err, ctx->errlen, "unknown key \"%s\"", name);
        return 0;
    }
    if (bad) {
        snprintf(ctx->err, ctx->errlen, "bad value \"%s\" for \"%s\"", value, name);
        return 0;
    }
    return 1;
}

/* libinih handler: 1 to go on, 0 for an error (the first one is kept, with its line). */
static int config_handler(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *ctx = user;
    if (ctx->err_line)
        return 1;
    int ok = 1;
    if (strcmp(section, "coordinator") != 0) { /* "": the reader refuses other headers */
        snprintf(ctx->err, ctx->errlen, "key \"%s\" outside a section: put it under [coordinator]",
                 name);
        ok = 0;
    } else if (confval_check_key(&ctx->in, name, false, ctx->err, ctx->errlen) < 0) {
        ok = 0; /* set twice, or an indented line continuing it */
    } else {
        ok = config_set(ctx, name, value);
    }
    if (!ok)
        ctx->err_line = ctx->in.line;
    return ok;
}

int coord_config_load(struct coord_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = confval_open(path, "coordinator.conf", err, errlen);
    if (f == NULL)
        return -errno;
    char msg[200] = "";
    struct load_ctx ctx = {c, {.f = f, .section = "coordinator"}, msg, sizeof(msg), 0};
    int line = ini_parse_stream(confval_read_line, &ctx.in, config_handler, &ctx);
    fclose(f);
    confval_reader_release(&ctx.in);
    if (line == 0 && ctx.in.bad_line) {
        line = ctx.in.bad_line;
        snprintf(msg, sizeof(msg), "unknown section [%s] (the settings go in [coordinator])",
                 ctx.in.bad_section);
    } else if (line != 0 && line != ctx.err_line) {
        snprintf(msg, sizeof(msg), "syntax error (expected [coordinator] or key = value)");
    }
    if (line != 0) {
        pyscope_set_err(err, errlen, "config file \"%s\" line %d: %s", path, line, msg);
        return -PYSCOPE_EPARSE;
    }
    return 0;
}

int coord_config_check(const struct coord_config *c, char *err, size_t errlen)
{
    if (c->heartbeat_ms == 0 || c->lease_ms == 0 || c->reap_interval_ms == 0 ||
        c->dispatch_interval_ms == 0) {
        pyscope_set_err(err, errlen,
                        "heartbeat_ms, lease_ms, reap_interval_ms and "
                        "dispatch_interval_ms must be > 0");
        return -PYSCOPE_ERANGE;
    }
    if (c->lease_ms < 2 * c->heartbeat_ms) {
        pyscope_set_err(err, errlen, "lease_ms (%u) must be at least twice heartbeat_ms (%u)",
                        c->lease_ms, c->heartbeat_ms);
        return -PYSCOPE_ERANGE;
    }
    if (c->writers < 1 || c->writers > 16) {
        pyscope_set_err(err, errlen,
                        "writers must be 1..16 (result writer threads, one database "
                        "connection each)");
        return -PYSCOPE_ERANGE;
    }
    if (c->max_attempts < 1 || c->max_attempts > 100) {
        pyscope_set_err(err, errlen, "max_attempts must be 1..100");
        return -PYSCOPE_ERANGE;
    }
    if (c->curve_secret_key_file != NULL && c->curve_keys_dir == NULL) {
        pyscope_set_err(err, errlen,
                        "curve_secret_key_file needs curve_keys_dir (the allowed keys)");
        return -PYSCOPE_ERANGE;
    }
    if (c->http_threads < 1 || c->http_threads > 16) {
        pyscope_set_err(err, errlen, "http_threads must be 1..16 (one database connection each)");
        return -PYSCOPE_ERANGE;
    }
    if (c->http_token_file != NULL && c->http == NULL) {
        pyscope_set_err(err, errlen, "http_token_file needs http (the address of the web pages)");
        return -PYSCOPE_ERANGE;
    }
    if (!(c->job_timeout_s > 0)) {
        pyscope_set_err(err, errlen, "job_timeout_s must be > 0");
        return -PYSCOPE_ERANGE;
    }
    return 0;
}
