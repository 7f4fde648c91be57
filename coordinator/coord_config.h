/*
 * coord_config.h - pyscope-coordinator's settings: defaults, INI file, command line.
 *
 * The file format is INI (parsed by libinih), one [coordinator] section;
 * deploy/coordinator.conf.example documents every key. Command-line options
 * override the file.
 */
#ifndef PYSCOPE_COORD_CONFIG_H
#define PYSCOPE_COORD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_MAX_WRITERS 16

struct coord_config {
    char *db;                      /* libpq conninfo; NULL = PG* environment variables */
    char *bind;                    /* ZeroMQ endpoint of the ROUTER socket */
    uint32_t heartbeat_ms;         /* how often agents send Heartbeat (Welcome) */
    uint32_t lease_ms;             /* a job's lease, renewed by each heartbeat */
    uint32_t peer_timeout_ms;      /* forget a silent agent after this long */
    uint32_t reap_interval_ms;     /* how often expired leases return to the queue */
    uint32_t host_offline_s;       /* a host without a live agent this long: its jobs end */
    uint32_t lease_grace_s;        /* a lease lasts timeout x (repeat + warmup) + this, at most */
    uint32_t dispatch_interval_ms; /* how often waiting credit is matched with new jobs */
    uint32_t stats_interval_s;     /* how often counters are logged; 0 = never */
    uint32_t max_attempts;         /* a job fails after this many expired or errored attempts */
    double job_timeout_s;          /* a suite entry's timeout when it gives none */
    uint32_t confirm;              /* 1: re-run a series to confirm before alerting; 0: off */
    uint32_t share_machines;       /* 1: agents of one machine may run jobs at the same time */
    uint32_t writers;              /* result writer threads, each with its own connection */
    enum log_level log_level;
    char *curve_keys_dir;        /* the keys folder (docs/security.md); NULL = no CURVE */
    char *curve_secret_key_file; /* the server's secret key (curve.h); NULL = KEYS/coordinator */
    char *http;                  /* web pages: [ADDR:]PORT (web.h); NULL = none */
    char *http_token_file;       /* the token those pages need; NULL = none (loopback only) */
    uint32_t http_threads;       /* request threads of the web pages */
    uint32_t auto_bisect;        /* 1: bisect each confirmed regression's range (bisection.h) */
    uint32_t bisect_budget_s;    /* a bisection stops after this long (its own, else this) */
    uint32_t bisect_rounds;      /* base/head pairs of an automatic bisection's steps */
};

/* Fill c with the defaults (owned strings; coord_config_release()). */
void coord_config_init(struct coord_config *c);
/* Free c's strings. */
void coord_config_release(struct coord_config *c);
/*
 * Read the INI file at path (borrowed) into c. Returns 0, -errno when it
 * cannot be opened, or -PYSCOPE_EPARSE with err naming the line and key.
 */
int coord_config_load(struct coord_config *c, const char *path, char *err, size_t errlen);
/* Check ranges after loading and overrides. Returns 0 or -PYSCOPE_ERANGE with err. */
int coord_config_check(const struct coord_config *c, char *err, size_t errlen);

#endif
