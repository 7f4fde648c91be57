/*
 * progress.c - a status line on a terminal (see progress.h).
 *
 * Design notes: the line is written with write(2) on the stream's descriptor
 * in one call, so it never mixes with half a line of the caller's stdio
 * buffer; it is cut to the terminal's width (a wrapped line cannot be taken
 * back with a carriage return). The thread waits on a condition variable on
 * the monotonic clock, so progress_end() returns at once.
 */
#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"

#define PROGRESS_TICK_MS 250

struct progress {
    int fd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool quit;
    bool dumb;  /* no erasing: a line per label, no clock */
    bool shown; /* something is on the screen */
    char label[256];
    struct timespec start;
    unsigned delay_ms;
};

static double since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Draw the line (mu held). */
static void draw(struct progress *p)
{
    double t = since(&p->start);
    if (t * 1000 < p->delay_ms || !p->label[0])
        return;
    char clock[32], line[400];
    if (t < 60)
        snprintf(clock, sizeof(clock), "%.1f s", t);
    else
        snprintf(clock, sizeof(clock), "%d min %02d s", (int)(t / 60), (int)t % 60);
    if (p->dumb) {
        int n = snprintf(line, sizeof(line), "%s (%s)\n", p->label, clock);
        write_all(p->fd, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        p->shown = true;
        return;
    }
    struct winsize ws;
    size_t width = ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 8 ? ws.ws_col - 1 : 79;
    int n = snprintf(line, sizeof(line), "\r\033[K%s \xc2\xb7 %s", p->label, clock);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    /* cut to the width: 4 bytes of escape, then count characters (UTF-8 lead bytes) */
    size_t chars = 0, cut = len;
    for (size_t i = 4; i < len; i++) {
        if (((unsigned char)line[i] & 0xc0) != 0x80 && ++chars > width) {
            cut = i;
            break;
        }
    }
    write_all(p->fd, line, cut);
    p->shown = true;
}

static void *tick(void *arg)
{
    struct progress *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->quit) {
        if (!p->dumb)
            draw(p);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += PROGRESS_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!p->quit && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct progress *progress_start(FILE *out, bool quiet, unsigned delay_ms)
{
    int fd = out ? fileno(out) : -1;
    if (quiet || fd < 0 || !isatty(fd))
        return NULL;
    struct progress *p = xcalloc(1, sizeof(*p));
    p->fd = fd;
    const char *term = getenv("TERM");
    p->dumb = term && strcmp(term, "dumb") == 0;
    p->delay_ms = delay_ms;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    fflush(out);
    if (pthread_create(&p->thread, NULL, tick, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

void progress_set(struct progress *p, const char *fmt, ...)
{
    if (!p)
        return;
    char buf[sizeof(p->label)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (char *c = buf; *c; c++) /* the label comes partly from input: no control characters */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    pthread_mutex_lock(&p->mu);
    bool changed = strcmp(buf, p->label) != 0;
    memcpy(p->label, buf, sizeof(buf));
    if (changed)
        draw(p);
    pthread_mutex_unlock(&p->mu);
}

void progress_end(struct progress **pp)
{
    struct progress *p = *pp;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    if (p->shown && !p->dumb)
        write_all(p->fd, "\r\033[K", 4);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}
