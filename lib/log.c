/*
 * log.c - diagnostics on stderr, "prog: level: message".
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>

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
    va_list ap;
    va_start(ap, fmt);
    flockfile(stderr); /* one line at a time, whichever thread logs */
    fprintf(stderr, "%s: %s: ", log_progname, names[level]);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
    va_end(ap);
}
