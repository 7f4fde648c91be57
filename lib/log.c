/*
 * log.c - diagnostics on stderr, "prog: level: message".
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

/* The process-wide state of lib/ (the only one): set once by main(). */
static const char *log_progname = "pyscope";
static enum log_level log_level = LOG_LEVEL_INFO;
/* The error messages kept (log_keep_errors: the CLI's --json, single-threaded),
 * NUL-terminated; NULL when not keeping (every daemon). */
#define LOG_KEPT_MAX 8192
static char *log_kept;

void log_keep_errors(bool on)
{
    free(log_kept);
    log_kept = on ? calloc(1, LOG_KEPT_MAX) : NULL;
}

void log_keep_error(const char *msg)
{
    if (!log_kept || !msg || !*msg)
        return;
    size_t len = strlen(log_kept);
    if (len + 3 >= LOG_KEPT_MAX)
        return; /* full: the first messages say the most */
    snprintf(log_kept + len, LOG_KEPT_MAX - len, "%s%s", len ? "; " : "", msg);
}

const char *log_kept_errors(void)
{
    return log_kept ? log_kept : "";
}

void log_init(const char *progname, enum log_level level)
{
    log_progname = progname;
    log_level = level;
}

enum log_level log_get_level(void)
{
    return log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > log_level)
        return;
    /* Messages quote untrusted text (suite names, host names, errors from
     * peers): shown through the sanitiser, a newline or an escape sequence
     * in it can neither forge a log line nor drive the terminal. */
    char small[512], *msg = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(small)) {
        msg = malloc((size_t)n + 1);
        if (msg != NULL) {
            va_start(ap, fmt);
            vsnprintf(msg, (size_t)n + 1, fmt, ap);
            va_end(ap);
        } else {
            msg = small;
            n = (int)sizeof(small) - 1;
        }
    }
    if (level == LOG_LEVEL_ERROR)
        log_keep_error(msg);
    flockfile(stderr); /* one line at a time, whichever thread logs */
    fprintf(stderr, "%s: %s: ", log_progname, names[level]);
    sanitize_fwrite(stderr, msg, (size_t)n, 0);
    fputc('\n', stderr);
    funlockfile(stderr);
    if (msg != small)
        free(msg);
}
