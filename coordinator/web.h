/*
 * web.h - the coordinator's read-only web pages over HTTP (libmicrohttpd).
 *
 * Pages, each the same self-contained, CSP-locked HTML the CLI writes (one
 * renderer, lib/html_*), with a navigation bar and links between them:
 *
 *   /                      the team report of the newest analysed batch
 *   /batch/N               the team report of batch N
 *   /batches               the newest batches, each with its counts
 *   /series/SCRIPT?host=H  a series' history: chart, runs, stored regressions
 *                          with their triage state (&build=B, &metric=M)
 *   /hosts                 the hosts and a host x host hardware comparison
 *
 * Only GET and HEAD; the database connections are read-only
 * (default_transaction_read_only) with a statement timeout. Bound to a
 * loopback address by default; any other address needs a token (from a
 * file), which every request must carry as "Authorization: Bearer TOKEN" or
 * as the password of HTTP Basic authentication (so a browser asks for it).
 * The rendered team reports are cached per batch and checked against a
 * cheap fingerprint of the batch (state, analysis, its regressions' count
 * and last update, its run count) on each request; a thread renders the
 * newest batch's report as soon as it is analysed, so / answers from memory.
 */
#ifndef PYSCOPE_COORD_WEB_H
#define PYSCOPE_COORD_WEB_H

#include <stddef.h>
#include <stdint.h>

#define WEB_MAX_THREADS 16

struct web;

struct web_options {
    const char *listen;     /* "ADDR:PORT", "[ADDR]:PORT" or "PORT" (127.0.0.1); port 0: any */
    const char *token_file; /* NULL: no token (refused unless listen is loopback) */
    uint32_t threads;       /* request threads, each with its own connection (1..16) */
};

/*
 * Parse listen (borrowed) into a socket address; fills *loopback. Returns
 * 0, or -PYSCOPE_EUSAGE with err saying what is wrong.
 */
int web_parse_listen(const char *listen, void *sockaddr_storage, size_t *len, int *loopback,
                     char *err, size_t errlen);

/*
 * The checks web_start makes before it listens or connects: the address, the threads, the
 * token file and a token for an address other than loopback. 0, or -PYSCOPE_EUSAGE with err.
 */
int web_options_check(const struct web_options *o, char *err, size_t errlen);

/*
 * Start serving with conninfo (borrowed; libpq). Returns the server, or
 * NULL with err (a bad address or token file: *usage set; the port taken,
 * the database unreachable: *usage clear).
 */
struct web *web_start(const char *conninfo, const struct web_options *o, int *usage, char *err,
                      size_t errlen);

/* The port listened on (useful with port 0). */
uint16_t web_port(const struct web *w);

/* "http://127.0.0.1:8080/": where the pages are (borrowed, lives as w). */
const char *web_url(const struct web *w);

/* Finish the requests under way, stop the threads, close the connections; *w = NULL. */
void web_stop(struct web **w);

#endif
