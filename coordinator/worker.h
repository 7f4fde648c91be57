/*
 * worker.h - a thread with a mutex, a condition variable and a quit flag:
 * what the result writers (writer.c) and the batch analyst (analyst.c) share.
 * The thread function reads quit under mu and waits on cv.
 */
#ifndef PYSCOPE_COORD_WORKER_H
#define PYSCOPE_COORD_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC, for timed waits */
    bool quit;
};

/* Initialise w and start fn(arg) in a new thread. Returns 0, or -1 with err ("what" names it). */
int worker_start(struct worker *w, void *(*fn)(void *), void *arg, const char *what, char *err,
                 size_t errlen);

/*
 * From the thread: wait ms milliseconds, or until quit is set (then at
 * once). Returns quit. Call without holding mu.
 */
bool worker_sleep(struct worker *w, uint32_t ms);

/* Set quit, wake the thread, join it, destroy w's mutex and condition variable. */
void worker_stop(struct worker *w);

#endif
