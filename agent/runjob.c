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

#include "cachegrind.h"
#include "errors.h"
#include "log.h"
#include "sandbox.h"
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
    rj->python = xstrdup(job->python ? job->python : "");
    rj->n_args = job->n_args;
    rj->args = rj->n_args ? xcalloc(rj->n_args, sizeof(char *)) : NULL;
    for (size_t i = 0; i < rj->n_args; i++)
        rj->args[i] = xstrdup(job->args[i]);
    rj->n_env = job->n_env;
    rj->env = rj->n_env ? xcalloc(rj->n_env, sizeof(char *)) : NULL;
    for (size_t i = 0; i < rj->n_env; i++)
        rj->env[i] = xstrdup(job->env[i]);
    rj->repeat = job->repeat ? job->repeat : 1;
    rj->warmup = job->warmup;
    rj->mode = job->mode;
    rj->timeout_s = job->timeout_s > 0 ? job->timeout_s : 600;
    rj->memory_limit = job->memory_limit_bytes;
    rj->instructions = job->instructions;
    rj->interval_us = job->interval_us;
    rj->reference = xstrdup(job->reference ? job->reference : "");
    snprintf(rj->commit, sizeof(rj->commit), "%s", job->commit ? job->commit : "");
    rj->tree_lock = -1;
    rj->prep_fd = -1;
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

void runjob_note_procs(struct runjob **running, size_t n, const struct sandbox *sb, double now)
{
    if (n == 0 || !sb->drop || now - running[0]->procs_at < RUNJOB_PROCS_PERIOD)
        return;
    unsigned procs = sandbox_count_procs(sb);
    for (size_t i = 0; i < n; i++) {
        running[i]->procs_at = now;
        if (procs > running[i]->procs_peak)
            running[i]->procs_peak = procs;
    }
}

/* VmPeak of process pid in bytes, 0 when unknown (gone, or a kernel thread). */
static uint64_t runjob_vm_peak(long pid)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmPeak: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* The largest VmPeak among pid and its descendants (depth-first, at most 256 processes). */
static uint64_t runjob_tree_vm_peak(long pid, unsigned *budget)
{
    if (*budget == 0)
        return 0;
    (*budget)--;
    uint64_t peak = runjob_vm_peak(pid);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return peak;
    long child;
    while (fscanf(f, "%ld", &child) == 1) {
        uint64_t c = runjob_tree_vm_peak(child, budget);
        if (c > peak)
            peak = c;
    }
    fclose(f);
    return peak;
}

void runjob_note_memory(struct runjob **running, size_t n, double now)
{
    for (size_t i = 0; i < n; i++) {
        struct runjob *rj = running[i];
        if (rj->pid <= 0 || rj->memory_eff == 0 || now - rj->vm_at < RUNJOB_PROCS_PERIOD)
            continue;
        rj->vm_at = now;
        unsigned budget = 256;
        uint64_t peak = runjob_tree_vm_peak((long)rj->pid, &budget);
        if (peak > rj->vm_peak)
            rj->vm_peak = peak;
    }
}

/* The largest peak RSS of the runner's runs (wait4's exact ru_maxrss), 0 if none. */
static uint64_t runjob_rss_peak(const json_t *run)
{
    uint64_t peak = 0;
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(run, "runs"), i, r)
    {
        json_int_t v = json_integer_value(json_object_get(r, "peak_rss_bytes"));
        if (v > 0 && (uint64_t)v > peak)
            peak = (uint64_t)v;
    }
    return peak;
}

bool runjob_limit_message(const struct runjob *rj, const struct sandbox *sb, const json_t *run,
                          char *buf, size_t n)
{
    char *errp = xasprintf("%s/stderr", rj->tmpdir);
    struct sandbox_stop st = {.timeout_s = rj->timeout_s,
                              .stderr_path = errp,
                              .procs_peak = rj->procs_peak,
                              .memory_limit = rj->memory_eff,
                              .vm_peak = rj->vm_peak,
                              .rss_peak = runjob_rss_peak(run)};
    sandbox_stop_from_run(&st, run);
    char limits[256], note[160];
    bool hit = sandbox_explain(sb, &st, limits, sizeof(limits), note, sizeof(note));
    free(errp);
    const char *base =
        json_string_value(json_object_get(json_object_get(run, "status"), "message"));
    if (hit)
        snprintf(buf, n, "stopped by %s: %s", limits, base ? base : "the script ended");
    else if (note[0])
        snprintf(buf, n, "%s (%s)", base ? base : "the script ended", note);
    return hit || note[0];
}

uint64_t runjob_output_bytes(const struct runjob *rj)
{
    uint64_t total = 0;
    static const char *const names[] = {"stdout", "stderr"};
    for (int i = 0; i < 2 && rj->tmpdir; i++) {
        char *p = xasprintf("%s/%s", rj->tmpdir, names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && st.st_size > 0)
            total += (uint64_t)st.st_size;
        free(p);
    }
    return total;
}

int runjob_sweep(const char *spool)
{
    char *dir = xasprintf("%s/" RUNJOB_DIR, spool);
    int removed = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        free(dir);
        return -e;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        int e = errno;
        free(dir);
        return -e;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "job-", 4) != 0)
            continue;
        /* a job folder holds files only (the runner gets descriptors, never a path) */
        char *job = xasprintf("%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(job, &st) == 0 && S_ISDIR(st.st_mode))
            runjob_rmdir(job);
        free(job);
        if (faccessat(dirfd(d), de->d_name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
            removed++;
        else
            log_warn("could not remove the job folder \"%s/%s\" left by an earlier run", dir,
                     de->d_name);
    }
    closedir(d);
    if (removed > 0)
        log_warn("removed %d job folder%s left in \"%s\" by an agent that did not stop cleanly",
                 removed, removed == 1 ? "" : "s", dir);
    free(dir);
    return removed;
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
    if (rj->tree_lock >= 0)
        close(rj->tree_lock);
    if (rj->prep_fd >= 0)
        close(rj->prep_fd);
    free(rj->tree);
    free(rj->script);
    free(rj->reference);
    free(rj->reference_abs);
    free(rj->python);
    free(rj->python_path);
    for (size_t i = 0; i < rj->n_args; i++)
        free(rj->args[i]);
    free(rj->args);
    for (size_t i = 0; i < rj->n_env; i++)
        free(rj->env[i]);
    free(rj->env);
    free(rj);
    *p = NULL;
}

/* Open name in rj's folder for the child (new descriptor, or -errno). */
static int runjob_open(const struct runjob *rj, const char *name, int flags)
{
    char *p = xasprintf("%s/%s", rj->tmpdir, name);
    int fd = open(p, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
    int e = errno;
    free(p);
    return fd < 0 ? -e : fd;
}

/* The numbers of pyscope-run's argument vector (runjob_argv()). */
struct runjob_numbers {
    char rep[16], warm[16], tmo[32], ivl[32];
};

/* pyscope-run --root WS --output-fd 3 --repeat N --warmup K --mode M --timeout T
 * --python PY [--interval-ms MS] [--instructions] [--reference REF] -- SCRIPT ARGS (the
 * coordinator's sampling period, Job.interval_us; none: pyscope-run's 10 ms): the document goes
 * to a descriptor the agent opened in its own folder (mode 0700, root's when jobs have a user),
 * so the script cannot reach that file; the script runs under the interpreter the agent reports
 * (its `python`). A new vector of borrowed strings (num: its numbers). */
static char **runjob_argv(const struct runjob *rj, const struct agent_config *cfg,
                          const char *script_abs, struct runjob_numbers *num)
{
    size_t n = 0, cap = 23 + rj->n_args;
    char **argv = xcalloc(cap, sizeof(char *));
    snprintf(num->rep, sizeof(num->rep), "%u", rj->repeat);
    snprintf(num->warm, sizeof(num->warm), "%u", rj->warmup);
    snprintf(num->tmo, sizeof(num->tmo), "%.3f", rj->timeout_s);
    argv[n++] = cfg->runner;
    argv[n++] = "--root";
    argv[n++] = rj->tree ? rj->tree : cfg->workspace;
    argv[n++] = "--output-fd";
    argv[n++] = "3";
    argv[n++] = "--repeat";
    argv[n++] = num->rep;
    argv[n++] = "--warmup";
    argv[n++] = num->warm;
    argv[n++] = "--mode";
    argv[n++] = rj->mode == WIRE_MODE_TRACE ? "trace" : "sample";
    argv[n++] = "--timeout";
    argv[n++] = num->tmo;
    argv[n++] = "--python";
    argv[n++] = rj->python_path ? rj->python_path : cfg->python;
    if (rj->interval_us && rj->mode != WIRE_MODE_TRACE) {
        snprintf(num->ivl, sizeof(num->ivl), "%g", rj->interval_us / 1000.0);
        argv[n++] = "--interval-ms";
        argv[n++] = num->ivl;
    }
    if (rj->instructions)
        argv[n++] = "--instructions"; /* one more run per repeat, under valgrind */
    if (rj->reference_abs) {
        argv[n++] = "--reference"; /* interleaved with the repeats: a confirmation run */
        argv[n++] = rj->reference_abs;
    }
    argv[n++] = "--";
    argv[n++] = (char *)script_abs;
    for (size_t i = 0; i < rj->n_args; i++)
        argv[n++] = rj->args[i];
    argv[n] = NULL;
    return argv;
}

int runjob_start(struct runjob *rj, const struct agent_config *cfg, const struct sandbox *sb,
                 const char *script_abs, char *err, size_t errlen)
{
    /* Under the spool (the agent's own 0700 folder): a job folder left by an
     * agent that was killed is swept at the next start (runjob_sweep()). */
    char *t = xasprintf("%s/" RUNJOB_DIR "/job-XXXXXX", cfg->spool);
    if (!mkdtemp(t)) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not make a job folder in \"%s/" RUNJOB_DIR "\": %s",
                        cfg->spool, strerror(e));
        free(t);
        return -e;
    }
    rj->tmpdir = t;

    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(rj->started_at, sizeof(rj->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);

    struct runjob_numbers num;
    char **argv = runjob_argv(rj, cfg, script_abs, &num);

    rj->memory_eff = rj->memory_limit ? rj->memory_limit : cfg->memory_limit;
    int fd_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fd_out = runjob_open(rj, "stdout", O_WRONLY | O_CREAT | O_TRUNC);
    int fd_err = runjob_open(rj, "stderr", O_WRONLY | O_CREAT | O_TRUNC);
    int fd_doc = runjob_open(rj, "out.json", O_WRONLY | O_CREAT | O_TRUNC);
    char **envp = sandbox_env_new(sb, (const char *const *)rj->env, rj->n_env);
    pid_t pid = -EBADF;
    if (fd_in < 0 || fd_out < 0 || fd_err < 0 || fd_doc < 0) {
        int e = fd_in < 0 ? errno : fd_out < 0 ? -fd_out : fd_err < 0 ? -fd_err : -fd_doc;
        pyscope_set_err(err, errlen, "could not open the job's files in \"%s\": %s", rj->tmpdir,
                        strerror(e));
        pid = -e;
    } else {
        struct sandbox_exec ex = {.path = cfg->runner,
                                  .argv = argv,
                                  .envp = envp,
                                  .fd_in = fd_in,
                                  .fd_out = fd_out,
                                  .fd_err = fd_err,
                                  .fd_doc = fd_doc,
                                  .memory_limit = rj->memory_eff,
                                  .workspace = rj->tree};
        pid = sandbox_spawn(sb, &ex, err, errlen);
    }
    sandbox_env_free(envp);
    free(argv);
    int fds[4] = {fd_in, fd_out, fd_err, fd_doc};
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (pid < 0)
        return pid;
    rj->pid = pid;
    rj->started = runjob_now();
    double runs = (double)rj->repeat + rj->warmup;
    if (rj->instructions) /* each run under valgrind may take this many timeouts */
        runs += (double)rj->repeat * CACHEGRIND_TIMEOUT_FACTOR;
    if (rj->reference_abs) /* the reference before the first repeat and after each */
        runs += (double)rj->repeat + 1;
    rj->deadline = runjob_now() + rj->timeout_s * runs * 1.1 + cfg->kill_grace_s;
    log_info("job %llu attempt %u: running \"%s\" (pid %d)", (unsigned long long)rj->job_id,
             rj->attempt, rj->script, (int)pid);
    return 0;
}
