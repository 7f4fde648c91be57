/*
 * runjob.c - fork/exec pyscope-run with limits; kill a job's whole session.
 */
#include "runjob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

double runjob_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct runjob *runjob_new(const struct wire_job *job)
{
    struct runjob *rj = xcalloc(1, sizeof(*rj));
    rj->job_id = job->job_id;
    rj->attempt = job->attempt;
    rj->script = xstrdup(job->script ? job->script : "");
    rj->n_args = job->n_args;
    rj->args = rj->n_args ? xcalloc(rj->n_args, sizeof(char *)) : NULL;
    for (size_t i = 0; i < rj->n_args; i++)
        rj->args[i] = xstrdup(job->args[i]);
    rj->repeat = job->repeat ? job->repeat : 1;
    rj->warmup = job->warmup;
    rj->mode = job->mode;
    rj->timeout_s = job->timeout_s > 0 ? job->timeout_s : 600;
    rj->memory_limit = job->memory_limit_bytes;
    return rj;
}

/* Remove a folder and the files in it (one level: that is all a job makes). */
static void runjob_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

void runjob_kill(struct runjob *rj)
{
    if (rj->pid <= 0)
        return;
    /* The runner's group first, then anything else in its session (the
     * runner puts each run of the script in a process group of its own). */
    kill(-rj->pid, SIGKILL);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        pid_t sid = getsid((pid_t)pid);
        if (sid == rj->pid)
            kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
}

void runjob_kill_orphans(const pid_t *keep, size_t n_keep)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* "pid (comm) state ppid ...": comm may hold spaces and ')' */
        char *rp = strrchr(buf, ')');
        long ppid = 0;
        if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1 || ppid != self)
            continue;
        bool kept = false;
        for (size_t i = 0; i < n_keep; i++)
            kept = kept || keep[i] == (pid_t)pid;
        if (!kept) {
            log_warn("killing process %ld left behind by a job", pid);
            kill((pid_t)pid, SIGKILL);
        }
    }
    closedir(d);
}

void runjob_destroy(struct runjob **p)
{
    if (!p || !*p)
        return;
    struct runjob *rj = *p;
    runjob_kill(rj);
    if (rj->tmpdir) {
        runjob_rmdir(rj->tmpdir);
        free(rj->tmpdir);
    }
    free(rj->script);
    for (size_t i = 0; i < rj->n_args; i++)
        free(rj->args[i]);
    free(rj->args);
    free(rj);
    *p = NULL;
}

/* In the child: limits, descriptors, then exec. Never returns. */
static void runjob_child(const struct runjob *rj, const struct agent_config *cfg, char **argv)
{
    setsid();
    /* If the agent dies (kill -9), its runners die with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    uint64_t mem = rj->memory_limit ? rj->memory_limit : cfg->memory_limit;
    if (mem) {
        struct rlimit rl = {.rlim_cur = mem, .rlim_max = mem};
        setrlimit(RLIMIT_AS, &rl);
    }
    if (cfg->file_size_limit) {
        struct rlimit rl = {.rlim_cur = cfg->file_size_limit, .rlim_max = cfg->file_size_limit};
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (cfg->max_procs) {
        struct rlimit rl = {.rlim_cur = cfg->max_procs, .rlim_max = cfg->max_procs};
        setrlimit(RLIMIT_NPROC, &rl);
    }
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);

    int in = open("/dev/null", O_RDONLY);
    char *outp = xasprintf("%s/stdout", rj->tmpdir);
    char *errp = xasprintf("%s/stderr", rj->tmpdir);
    int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int er = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || er < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(er, 2) < 0)
        _exit(127);
    close_range(3, ~0U, 0);
    if (chdir(cfg->workspace) < 0)
        _exit(127);
    execv(cfg->runner, argv);
    execvp(cfg->runner, argv);
    dprintf(2, "pyscope-agent: could not run \"%s\": %s\n", cfg->runner, strerror(errno));
    _exit(127);
}

int runjob_start(struct runjob *rj, const struct agent_config *cfg, const char *script_abs,
                 char *err, size_t errlen)
{
    char tmpl[] = "/tmp/pyscope-job-XXXXXX";
    const char *tmpbase = getenv("TMPDIR");
    char *t = xasprintf("%s/pyscope-job-XXXXXX", tmpbase && *tmpbase ? tmpbase : "/tmp");
    if (!mkdtemp(t)) {
        int e = errno;
        free(t);
        if (!mkdtemp(tmpl)) {
            snprintf(err, errlen, "could not make a job folder: %s", strerror(e));
            return -e;
        }
        t = xstrdup(tmpl);
    }
    rj->tmpdir = t;

    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(rj->started_at, sizeof(rj->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);

    /* pyscope-run --root WS --output OUT --repeat N --warmup K --mode M --timeout T -- SCRIPT ARGS
     */
    size_t n = 0, cap = 16 + rj->n_args;
    char **argv = xcalloc(cap, sizeof(char *));
    char rep[16], warm[16], tmo[32];
    snprintf(rep, sizeof(rep), "%u", rj->repeat);
    snprintf(warm, sizeof(warm), "%u", rj->warmup);
    snprintf(tmo, sizeof(tmo), "%.3f", rj->timeout_s);
    char *outp = xasprintf("%s/out.json", rj->tmpdir);
    argv[n++] = cfg->runner;
    argv[n++] = "--root";
    argv[n++] = cfg->workspace;
    argv[n++] = "--output";
    argv[n++] = outp;
    argv[n++] = "--repeat";
    argv[n++] = rep;
    argv[n++] = "--warmup";
    argv[n++] = warm;
    argv[n++] = "--mode";
    argv[n++] = rj->mode == WIRE_MODE_TRACE ? "trace" : "sample";
    argv[n++] = "--timeout";
    argv[n++] = tmo;
    argv[n++] = "--";
    argv[n++] = (char *)script_abs;
    for (size_t i = 0; i < rj->n_args; i++)
        argv[n++] = rj->args[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid == 0)
        runjob_child(rj, cfg, argv);
    int e = errno;
    free(argv);
    free(outp);
    if (pid < 0) {
        snprintf(err, errlen, "could not fork: %s", strerror(e));
        return -e;
    }
    rj->pid = pid;
    rj->started = runjob_now();
    double runs = (double)rj->repeat + rj->warmup;
    rj->deadline = runjob_now() + rj->timeout_s * runs * 1.1 + cfg->kill_grace_s;
    log_info("job %llu attempt %u: running \"%s\" (pid %d)", (unsigned long long)rj->job_id,
             rj->attempt, rj->script, (int)pid);
    return 0;
}
