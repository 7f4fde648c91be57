/*
 * log.c - diagnostics on stderr, "prog: level: message".
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sanitize.h"

/* The one piece of process-wide state in lib/: set once by main(). */
static const char *log_progname = "pyscope";
static enum log_level log_level = LOG_LEVEL_INFO;

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
    flockfile(stderr); /* one line at a time, whichever thread logs */
    fprintf(stderr, "%s: %s: ", log_progname, names[level]);
    sanitize_fwrite(stderr, msg, (size_t)n, 0);
    fputc('\n', stderr);
    funlockfile(stderr);
    if (msg != small)
        free(msg);
}
