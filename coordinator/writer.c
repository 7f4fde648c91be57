/*
 * writer.c - the result writer thread (see writer.h).
 *
 * The hand-over is a mutex and a condition variable; completion is signalled
 * to the loop through an eventfd, which zmq_poll() watches beside the socket.
 * The thread only ever calls store functions on its own connection and the
 * (thread-safe) logger; everything that touches the ZeroMQ socket, the
 * counters and the peers stays in the loop's thread.
 */
#include "writer.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

struct writer {
    struct store *store; /* the thread's own connection */
    struct worker thr;   /* its cv is signalled on every state change below */
    int efd;
    struct store_result_item *items; /* the group handed over, borrowed */
    size_t n;
    bool handed; /* submitted, not yet collected */
    bool done;   /* the thread has finished the group */
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_mutex_lock(&w->thr.mu);
    for (;;) {
        while (!w->thr.quit && !(w->handed && !w->done))
            pthread_cond_wait(&w->thr.cv, &w->thr.mu);
        if (!(w->handed && !w->done))
            break; /* quit, nothing left to store */
        struct store_result_item *items = w->items;
        size_t n = w->n;
        pthread_mutex_unlock(&w->thr.mu);

        char err[512];
        if (store_put_results(w->store, items, n, err, sizeof(err)) < 0)
            log_error("could not store results: %s", err);

        pthread_mutex_lock(&w->thr.mu);
        w->done = true;
        pthread_cond_broadcast(&w->thr.cv);
        uint64_t one = 1;
        if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            log_error("result writer: could not signal the loop: %s", strerror(errno));
    }
    pthread_mutex_unlock(&w->thr.mu);
    return NULL;
}

struct writer *writer_start(const char *conninfo, char *err, size_t errlen)
{
    struct store *s = store_open(conninfo, err, errlen);
    if (s == NULL)
        return NULL;
    struct writer *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0) {
        pyscope_set_err(err, errlen, "could not create an eventfd: %s", strerror(errno));
        store_close(&w->store);
        free(w);
        return NULL;
    }
    if (worker_start(&w->thr, writer_main, w, "result writer", err, errlen) < 0) {
        close(w->efd);
        store_close(&w->store);
        free(w);
        return NULL;
    }
    return w;
}

void writer_stop(struct writer **wp)
{
    struct writer *w = *wp;
    if (w == NULL)
        return;
    worker_stop(&w->thr);
    close(w->efd);
    store_close(&w->store);
    free(w);
    *wp = NULL;
}

int writer_fd(const struct writer *w)
{
    return w->efd;
}

void writer_submit(struct writer *w, struct store_result_item *items, size_t n)
{
    pthread_mutex_lock(&w->thr.mu);
    if (w->handed)
        abort(); /* a caller bug: one group at a time */
    w->items = items;
    w->n = n;
    w->handed = true;
    w->done = false;
    pthread_cond_broadcast(&w->thr.cv);
    pthread_mutex_unlock(&w->thr.mu);
}

bool writer_collect(struct writer *w, bool wait)
{
    pthread_mutex_lock(&w->thr.mu);
    while (wait && w->handed && !w->done)
        pthread_cond_wait(&w->thr.cv, &w->thr.mu);
    bool back = w->handed && w->done;
    if (back) {
        w->handed = false;
        w->done = false;
        uint64_t v;
        if (read(w->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            log_error("result writer: could not read its eventfd: %s", strerror(errno));
    }
    pthread_mutex_unlock(&w->thr.mu);
    return back;
}
