/*
 * run_progress.c - `pyscope run`'s status line while pyscope-run works.
 *
 * pyscope-run sends "measured 3 6" (warmup, instructions) on --progress-fd
 * as each run starts; a thread here reads those lines and keeps a status
 * line on stderr (cli/progress.c): "pyscope: repeat 3/6 · 12.4 s". Only when
 * stderr is a terminal and neither -q nor --json was given; otherwise
 * nothing is created and pyscope-run gets no descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "xmalloc.h"

struct run_progress {
    struct progress *line;
    int fd[2]; /* [0] ours, [1] pyscope-run's */
    pthread_t thread;
    pthread_mutex_t mu;
    bool quit;
    char arg[16]; /* the descriptor number for --progress-fd */
};

static bool rp_quit(struct run_progress *rp)
{
    pthread_mutex_lock(&rp->mu);
    bool q = rp->quit;
    pthread_mutex_unlock(&rp->mu);
    return q;
}

/* One line from pyscope-run: "KIND I N". */
static void rp_line(struct run_progress *rp, const char *line)
{
    char kind[16];
    long i, n;
    if (sscanf(line, "%15s %ld %ld", kind, &i, &n) != 3 || n < 1 || i < 1)
        return;
    if (strcmp(kind, "measured") == 0)
        progress_set(rp->line, "pyscope: repeat %ld/%ld", i, n);
    else if (strcmp(kind, "warmup") == 0)
        progress_set(rp->line, "pyscope: warmup %ld/%ld", i, n);
    else if (strcmp(kind, "instructions") == 0)
        progress_set(rp->line, "pyscope: counting instructions, run %ld/%ld (valgrind)", i, n);
}

static void *rp_main(void *arg)
{
    struct run_progress *rp = arg;
    char buf[512];
    size_t len = 0;
    while (!rp_quit(rp)) {
        struct pollfd pfd = {rp->fd[0], POLLIN, 0};
        int r = poll(&pfd, 1, 200);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        ssize_t got = read(rp->fd[0], buf + len, sizeof(buf) - 1 - len);
        if (got <= 0)
            break; /* pyscope-run is gone */
        len += (size_t)got;
        buf[len] = '\0';
        char *start = buf, *nl;
        while ((nl = strchr(start, '\n'))) {
            *nl = '\0';
            rp_line(rp, start);
            start = nl + 1;
        }
        len = strlen(start);
        memmove(buf, start, len + 1);
        if (len == sizeof(buf) - 1)
            len = 0; /* no newline in a full buffer: not ours, dropped */
    }
    return NULL;
}

struct run_progress *run_progress_start(bool quiet, const char *script, const char **fd_arg)
{
    *fd_arg = NULL;
    struct progress *line = progress_start(stderr, quiet, 400);
    if (!line)
        return NULL;
    struct run_progress *rp = xcalloc(1, sizeof(*rp));
    rp->line = line;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rp->fd) < 0) {
        progress_end(&rp->line);
        free(rp);
        return NULL;
    }
    fcntl(rp->fd[1], F_SETFD, 0); /* pyscope-run inherits this end */
    snprintf(rp->arg, sizeof(rp->arg), "%d", rp->fd[1]);
    pthread_mutex_init(&rp->mu, NULL);
    progress_set(rp->line, "pyscope: starting %s", script);
    if (pthread_create(&rp->thread, NULL, rp_main, rp) != 0) {
        close(rp->fd[0]);
        close(rp->fd[1]);
        pthread_mutex_destroy(&rp->mu);
        progress_end(&rp->line);
        free(rp);
        return NULL;
    }
    *fd_arg = rp->arg;
    return rp;
}

void run_progress_end(struct run_progress **rpp)
{
    struct run_progress *rp = *rpp;
    if (!rp)
        return;
    pthread_mutex_lock(&rp->mu);
    rp->quit = true;
    pthread_mutex_unlock(&rp->mu);
    pthread_join(rp->thread, NULL);
    close(rp->fd[0]);
    close(rp->fd[1]);
    pthread_mutex_destroy(&rp->mu);
    progress_end(&rp->line);
    free(rp);
    *rpp = NULL;
}
