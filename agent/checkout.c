/*
 * checkout.c - fetch and check out a job's commit in a child (see checkout.h).
 *
 * The child's arguments: --checkout CACHE ORIGIN HASH GIT TIMEOUT_S MAX_BYTES
 * MAX_AGE_S. Nothing else of the agent's configuration reaches it.
 */
#include "checkout.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "gitrev.h"
#include "xmalloc.h"

int checkout_is_child(int argc, char **argv)
{
    return argc >= 2 && strcmp(argv[1], "--checkout") == 0;
}

int checkout_child_main(int argc, char **argv)
{
    if (argc != 9) {
        printf("pyscope-agent --checkout: wrong arguments\n");
        return CHECKOUT_EXIT_ERROR;
    }
    struct gitrev_cache c = {.dir = argv[2], .origin = argv[3]};
    const char *hash = argv[4];
    struct gitrev_opts o;
    gitrev_defaults(&o);
    o.git = argv[5];
    o.timeout_s = strtod(argv[6], NULL);
    c.max_bytes = strtoull(argv[7], NULL, 10);
    c.max_age_s = strtod(argv[8], NULL);
    if (c.origin[0] == '/')
        o.safe_dir = c.origin; /* a local origin, read whoever owns it */
    char err[1024];
    int rc = gitrev_cache_fetch(&o, &c, hash, err, sizeof(err));
    char *tree = NULL;
    if (rc == 0)
        rc = gitrev_cache_checkout(&o, &c, hash, &tree, err, sizeof(err));
    if (rc < 0) {
        printf("%s\n", err);
        fflush(stdout);
        return rc == -PYSCOPE_ENODATA ? CHECKOUT_EXIT_UNKNOWN : CHECKOUT_EXIT_ERROR;
    }
    /* the cache's limits; a failure here does not fail the job */
    char cerr[512];
    (void)gitrev_cache_clean(&o, &c, cerr, sizeof(cerr));
    printf("%s\n", tree);
    free(tree);
    fflush(stdout);
    return CHECKOUT_EXIT_OK;
}

pid_t checkout_start(const struct agent_config *cfg, const char *hash, int *msg_fd, char *err,
                     size_t errlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not start the checkout: %s", strerror(e));
        return -e;
    }
    char timeout[32], bytes[32], age[32];
    snprintf(timeout, sizeof(timeout), "%.0f", cfg->fetch_timeout_s);
    snprintf(bytes, sizeof(bytes), "%" PRIu64, cfg->revision_cache_size);
    snprintf(age, sizeof(age), "%.0f", cfg->revision_cache_age_s);
    char *argv[] = {"pyscope-agent", "--checkout", cfg->revisions, cfg->repo, (char *)hash,
                    cfg->git,        timeout,      bytes,          age,       NULL};
    int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
    /* Only async-signal-safe calls after fork: the agent has threads. */
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (dn >= 0)
            dup2(dn, 0);
        dup2(p[1], 1);
        if (dn >= 0)
            dup2(dn, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv("/proc/self/exe", argv);
        _exit(CHECKOUT_EXIT_ERROR);
    }
    int e = errno;
    close(p[1]);
    if (dn >= 0)
        close(dn);
    if (pid < 0) {
        close(p[0]);
        pyscope_set_err(err, errlen, "could not start the checkout: %s", strerror(e));
        return -e;
    }
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    *msg_fd = p[0];
    return pid;
}

void checkout_read_message(int msg_fd, char *buf, size_t n)
{
    buf[0] = '\0';
    if (msg_fd < 0)
        return;
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = read(msg_fd, buf + len, n - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    close(msg_fd);
}
