/* worker.c - see worker.h. */
#include "worker.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "errors.h"

int worker_start(struct worker *w, void *(*fn)(void *), void *arg, const char *what, char *err,
                 size_t errlen)
{
    w->quit = false;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &attr);
    pthread_condattr_destroy(&attr);
    int rc = pthread_create(&w->thread, NULL, fn, arg);
    if (rc != 0) {
        pyscope_set_err(err, errlen, "could not start the %s thread: %s", what, strerror(rc));
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return -1;
    }
    return 0;
}

void worker_stop(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

bool worker_sleep(struct worker *w, uint32_t ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->quit && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) {
    }
    bool quit = w->quit;
    pthread_mutex_unlock(&w->mu);
    return quit;
}
