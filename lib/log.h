/*
 * log.h - diagnostics on stderr.
 *
 * Programs print data on stdout and diagnostics here. Messages follow
 * PostgreSQL's style: lowercase, no final period, names quoted. Debug
 * arguments are not evaluated when debug logging is off.
 */
#ifndef PYSCOPE_LOG_H
#define PYSCOPE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Set the program name printed before each message (borrowed: must live on). */
void log_init(const char *progname, enum log_level level);
/* Current threshold; messages above it are dropped. */
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Keep a copy of every error message from now on (on: true; false stops and forgets them),
 * besides printing it: for a command that must also put them in its output (pyscope try
 * --json prints a document with them when it ends with an error). Single-threaded use only.
 */
void log_keep_errors(bool on);
/* Keep msg (borrowed) as an error message said another way (a usage error), when keeping. */
void log_keep_error(const char *msg);
/* The error messages kept so far, joined by "; " (borrowed; "" when none). */
const char *log_kept_errors(void);

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_get_level() >= LOG_LEVEL_DEBUG)                                                    \
            log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                                 \
    } while (0)

#endif
