/*
 * sandbox.c - a job's user, namespaces and limits; naming the limit that hit.
 *
 * The child is started with a raw clone(2) (fork semantics, plus
 * CLONE_NEWNS | CLONE_NEWPID when namespaces are on), so it is pid 1 of its
 * pid namespace and can mount a /proc of its own. glibc's fork handlers do
 * not run, so the child only makes system calls and formats into stack
 * buffers until execve: everything it needs is prepared before.
 *
 * Private tmpfs layout (one size limit for all of them): the tmpfs is
 * mounted on /tmp, gets the folders tmp, var-tmp, shm and lock (mode 1777),
 * which are bound onto /var/tmp, /dev/shm, /run/lock and finally /tmp
 * itself. The workspace is bound read-only onto itself (recreated inside the
 * tmpfs when it lived under /tmp).
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"
#include "jobenv.h"
#include "log.h"
#include "strbuf.h"
#include "xmalloc.h"

extern char **environ;

/* "512 MiB", "2 GiB", "100 KiB", "17 bytes" into buf. */
static void sandbox_size_text(uint64_t v, char *buf, size_t n)
{
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    double x = (double)v;
    while (x >= 1024 && u < 4) {
        x /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%" PRIu64 " bytes", v);
    else
        snprintf(buf, n, "%.*f %s", x == (double)(uint64_t)x ? 0 : 1, x, units[u]);
}

/* "memory limit 2 GiB", or "no memory limit" for 0: the agent sets no RLIMIT_AS then. */
static void sandbox_memory_text(uint64_t limit, char *buf, size_t n)
{
    char size[32] = "";
    if (limit)
        sandbox_size_text(limit, size, sizeof(size));
    snprintf(buf, n, "%s%s", limit ? "memory limit " : "no memory limit", size);
}

/* ---- set-up ----------------------------------------------------------- */

/* Start a child in new namespaces (or a plain fork when flags is 0). */
static pid_t sandbox_clone(unsigned long flags)
{
    if (!flags)
        return fork();
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* Write msg and the error of the failed call to fd 2, then exit 127. Child only. */
static void sandbox_child_fail(const char *msg, int e)
{
    char buf[512];
    int len = snprintf(buf, sizeof(buf), "pyscope-agent: job sandbox: %s: %s\n", msg, strerror(e));
    if (len > 0 && write(2, buf, (size_t)len) < 0)
        _exit(127);
    _exit(127);
}

/* mkdir -p path (components 0755, owned by root). Child only (no allocation). */
static int sandbox_mkdirs(const char *path)
{
    char p[4096];
    int len = snprintf(p, sizeof(p), "%s", path);
    if (len <= 0 || (size_t)len >= sizeof(p))
        return -ENAMETOOLONG;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Bind the folder open as fd onto path (recreated first: it may have lived
 * under /tmp), read-only; what names it in a failure. Child only. */
static void sandbox_bind_ro(int fd, const char *path, const char *what)
{
    char src[64];
    snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
    int rc = sandbox_mkdirs(path);
    if (rc < 0)
        sandbox_child_fail(what, -rc);
    if (mount(src, path, "none", MS_BIND | MS_REC, NULL) < 0 ||
        mount("none", path, "none", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
            0)
        sandbox_child_fail(what, errno);
    close(fd);
}

/*
 * In a fresh mount + pid namespace: private mounts, our own /proc, the
 * private tmpfs, the read-only workspace. Returns 0, or calls
 * sandbox_child_fail. Child only.
 */
static void sandbox_mount_private(const struct sandbox *sb, const char *workspace)
{
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
        sandbox_child_fail("could not make the mounts private", errno);
    int ws = workspace ? open(workspace, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (workspace && ws < 0)
        sandbox_child_fail("could not open the workspace", errno);
    int rd = sb->runner_dir[0] ? open(sb->runner_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        sandbox_child_fail("could not mount a private /proc", errno);
    if (mount("pyscope-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, sb->tmp_opts) < 0)
        sandbox_child_fail("could not mount the private /tmp", errno);
    static const char *const subs[][2] = {
        {"var-tmp", "/var/tmp"}, {"shm", "/dev/shm"}, {"lock", "/run/lock"}, {"tmp", "/tmp"}};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char src[64];
        snprintf(src, sizeof(src), "/tmp/%s", subs[i][0]);
        if (mkdir(src, 0755) < 0 || chmod(src, 01777) < 0)
            sandbox_child_fail("could not lay out the private /tmp", errno);
        struct stat st;
        if (stat(subs[i][1], &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (mount(src, subs[i][1], "none", MS_BIND, NULL) < 0)
            sandbox_child_fail("could not bind the private /tmp", errno);
    }
    if (rd >= 0)
        sandbox_bind_ro(rd, sb->runner_dir, "could not keep the runner's folder visible");
    if (ws >= 0)
        sandbox_bind_ro(ws, workspace, "could not bind the workspace read-only");
}

/* Become the job user for good, or exit. Child only. */
static void sandbox_drop(const struct sandbox *sb)
{
    if (setgroups(0, NULL) < 0)
        sandbox_child_fail("could not drop the supplementary groups", errno);
    if (setresgid(sb->gid, sb->gid, sb->gid) < 0)
        sandbox_child_fail("could not set the job user's group", errno);
    if (setresuid(sb->uid, sb->uid, sb->uid) < 0)
        sandbox_child_fail("could not become the job user", errno);
    uid_t r, e, s;
    gid_t rg, eg, sg;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || r != sb->uid || e != sb->uid ||
        s != sb->uid || rg != sb->gid || eg != sb->gid || sg != sb->gid || getgroups(0, NULL) != 0)
        sandbox_child_fail("the job user's identity did not stick", EPERM);
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
        sandbox_child_fail("root could be regained after dropping it", EPERM);
}

static void sandbox_rlimit(int res, uint64_t v)
{
    struct rlimit rl = {.rlim_cur = v, .rlim_max = v};
    setrlimit(res, &rl);
}

/* The child: session, limits, descriptors, namespaces, identity, exec. */
static void sandbox_child(const struct sandbox *sb, const struct sandbox_exec *ex)
{
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (ex->memory_limit)
        sandbox_rlimit(RLIMIT_AS, ex->memory_limit);
    if (sb->file_size_limit)
        sandbox_rlimit(RLIMIT_FSIZE, sb->file_size_limit);
    if (sb->max_procs)
        sandbox_rlimit(RLIMIT_NPROC, sb->max_procs);
    sandbox_rlimit(RLIMIT_CORE, 0);

    if (dup2(ex->fd_err, 2) < 0)
        _exit(127);
    if (dup2(ex->fd_in, 0) < 0 || dup2(ex->fd_out, 1) < 0 ||
        (ex->fd_doc >= 0 && dup2(ex->fd_doc, 3) < 0))
        sandbox_child_fail("could not set up the job's descriptors", errno);
    close_range(ex->fd_doc >= 0 ? 4 : 3, ~0U, 0);

    /* The runner is opened before the private /tmp may hide it; a script
     * (#!) keeps its descriptor across exec, for its interpreter. */
    int exe = -1;
    if (sb->private_ns && strchr(ex->path, '/')) {
        exe = open(ex->path, O_RDONLY | O_CLOEXEC);
        char head[2] = "";
        if (exe >= 0 && pread(exe, head, 2, 0) == 2 && head[0] == '#' && head[1] == '!')
            fcntl(exe, F_SETFD, 0);
    }
    const char *ws = ex->workspace ? ex->workspace : sb->workspace;
    if (sb->private_ns)
        sandbox_mount_private(sb, ws);
    if (sb->drop)
        sandbox_drop(sb);
    /* After the identity change, which clears it. If the agent dies (kill -9),
     * its runners die with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!sb->private_ns && getppid() == 1)
        _exit(127);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        sandbox_child_fail("could not set no_new_privs", errno);
    if (ws && chdir(ws) < 0)
        sandbox_child_fail("could not enter the workspace", errno);
    if (exe >= 0)
        syscall(SYS_execveat, exe, "", ex->argv, ex->envp, AT_EMPTY_PATH);
    else
        execve(ex->path, ex->argv, ex->envp);
    if (!strchr(ex->path, '/'))
        execvpe(ex->path, ex->argv, ex->envp);
    char msg[256];
    snprintf(msg, sizeof(msg), "could not run \"%s\"", ex->path);
    sandbox_child_fail(msg, errno);
}

pid_t sandbox_spawn(const struct sandbox *sb, const struct sandbox_exec *ex, char *err,
                    size_t errlen)
{
    pid_t pid = sandbox_clone(sb->private_ns ? CLONE_NEWNS | CLONE_NEWPID : 0);
    if (pid == 0)
        sandbox_child(sb, ex);
    if (pid < 0) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not start the job: %s", strerror(e));
        return -e;
    }
    return pid;
}

/* Can this process make the namespaces and mounts a job needs? Tries it. */
static bool sandbox_probe_ns(const struct sandbox *sb)
{
    pid_t pid = sandbox_clone(CLONE_NEWNS | CLONE_NEWPID);
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        if (dn >= 0 && dup2(dn, 2) >= 0) /* sandbox_child_fail's message: the caller says it */
            close(dn);
        sandbox_mount_private(sb, sb->workspace);
        _exit(0);
    }
    if (pid < 0)
        return false;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Whether path is the folder dir or lies inside it (both absolute; dir non-empty). */
static bool path_under(const char *path, const char *dir)
{
    size_t l = strlen(dir);
    return l && strncmp(path, dir, l) == 0 && (path[l] == '/' || path[l] == '\0');
}

/* Whether dir (absolute) lies where the private /tmp puts a fresh tmpfs or its folders. */
static bool sandbox_hidden_dir(const char *dir)
{
    static const char *const hidden[] = {"/tmp", "/var/tmp", "/dev/shm", "/run/lock"};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        if (path_under(dir, hidden[i]))
            return true;
    return false;
}

/* Whether dir is the workspace or inside it (bound back read-only over the private /tmp). */
static bool sandbox_in_workspace(const struct sandbox *sb, const char *dir)
{
    return sb->workspace && path_under(dir, sb->workspace);
}

/* The runner's folder when the private /tmp would hide it (a wrapper script
 * and its files, as deploy/farm.sh makes them), else "". */
static void sandbox_runner_dir(struct sandbox *sb, const char *runner)
{
    char *real = runner && strchr(runner, '/') ? realpath(runner, NULL) : NULL;
    char *slash = real ? strrchr(real, '/') : NULL;
    if (slash && slash != real) {
        *slash = '\0';
        if (sandbox_hidden_dir(real) && strlen(real) < sizeof(sb->runner_dir))
            snprintf(sb->runner_dir, sizeof(sb->runner_dir), "%s", real);
        /* A folder holding the workspace would cover its read-only bind (and may
         * not be open to the job user): the runner is started from its descriptor. */
        if (sb->workspace && path_under(sb->workspace, sb->runner_dir))
            sb->runner_dir[0] = '\0';
    }
    free(real);
}

bool sandbox_job_sees(const struct sandbox *sb, const char *path)
{
    return !sb->private_ns || !sandbox_hidden_dir(path) || sandbox_in_workspace(sb, path) ||
           path_under(path, sb->runner_dir);
}

char *sandbox_job_path(const struct sandbox *sb, const char *path)
{
    struct strbuf out = {0};
    const char *p = path ? path : "";
    while (true) {
        const char *end = strchrnul(p, ':');
        char *dir = xstrndup(p, (size_t)(end - p));
        if (sandbox_job_sees(sb, dir))
            strbuf_addf(&out, "%s%s", out.len ? ":" : "", dir);
        free(dir);
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return strbuf_take(&out);
}

int sandbox_init(struct sandbox *sb, const struct agent_config *cfg, char *err, size_t errlen)
{
    memset(sb, 0, sizeof(*sb));
    sb->workspace = cfg->workspace;
    sb->job_env = cfg->job_env;
    sandbox_runner_dir(sb, cfg->runner);
    sb->file_size_limit = cfg->file_size_limit;
    sb->tmp_size = cfg->tmp_size;
    snprintf(sb->tmp_opts, sizeof(sb->tmp_opts), "size=%" PRIu64 ",mode=0755", cfg->tmp_size);
    bool root = geteuid() == 0;
    const char *want = cfg->run_as;
    if (!root) {
        struct passwd *me = getpwuid(geteuid());
        if (want && (!me || strcmp(want, me->pw_name) != 0)) {
            pyscope_set_err(
                err, errlen,
                "run_as = %s needs the agent to run as root (it runs as uid %u): start it "
                "as root, or drop run_as",
                want, (unsigned)geteuid());
            return -PYSCOPE_EUSAGE;
        }
        sb->max_procs = cfg->max_procs == AGENT_PROCS_AUTO ? 0 : cfg->max_procs;
        char mem[48];
        sandbox_memory_text(cfg->memory_limit, mem, sizeof(mem));
        log_info("jobs run as this agent's user, with limits only (%s; no job user, no private "
                 "/tmp: those need the agent to run as root)",
                 mem);
        return 0;
    }
    if (!want && !getpwnam(SANDBOX_DEFAULT_USER)) {
        pyscope_set_err(
            err, errlen,
            "this agent runs as root and the job user \"%s\" does not exist, so jobs would "
            "run as root and could read its keys: create it (useradd --system "
            "--no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin %s), set "
            "run_as = USER (--run-as), or run_as = root to allow it",
            SANDBOX_DEFAULT_USER, SANDBOX_DEFAULT_USER);
        return -PYSCOPE_EUSAGE;
    }
    if (!want)
        want = SANDBOX_DEFAULT_USER;
    if (strcmp(want, "root") != 0) {
        struct passwd *pw = getpwnam(want);
        if (!pw) {
            pyscope_set_err(err, errlen,
                            "run_as: no user \"%s\" on this host: create it, or name another",
                            want);
            return -PYSCOPE_EUSAGE;
        }
        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
            pyscope_set_err(err, errlen,
                            "run_as: user \"%s\" has uid or gid 0, it is root: give jobs an "
                            "unprivileged user of their own",
                            want);
            return -PYSCOPE_EUSAGE;
        }
        sb->drop = true;
        sb->uid = pw->pw_uid;
        sb->gid = pw->pw_gid;
        snprintf(sb->user, sizeof(sb->user), "%s", want);
    } else {
        snprintf(sb->user, sizeof(sb->user), "root");
        log_warn("!!! run_as = root: JOBS RUN AS ROOT. Any script can read this agent's secret "
                 "key and spool, kill it and take over the host. Create an unprivileged job "
                 "user (useradd --system %s) and drop run_as !!!",
                 SANDBOX_DEFAULT_USER);
    }
    sb->max_procs = cfg->max_procs != AGENT_PROCS_AUTO ? cfg->max_procs
                    : sb->drop                         ? SANDBOX_DEFAULT_NPROC
                                                       : 0;
    sb->private_ns = cfg->tmp_size > 0;
    if (sb->private_ns && !sandbox_probe_ns(sb)) {
        sb->private_ns = false;
        log_warn("could not give jobs namespaces of their own here (no CAP_SYS_ADMIN, or a "
                 "container forbids it): jobs share this host's /tmp and /proc, and what they "
                 "leave running is found by the agent's own sweep only");
    }
    char tmp[32], mem[48];
    sandbox_size_text(sb->tmp_size, tmp, sizeof(tmp));
    sandbox_memory_text(cfg->memory_limit, mem, sizeof(mem));
    log_info("jobs run as %s (uid %u), %s, at most %u processes%s%s%s", sb->user, (unsigned)sb->uid,
             mem, sb->max_procs, sb->private_ns ? ", private /tmp of " : "",
             sb->private_ns ? tmp : "", sb->private_ns ? ", read-only workspace" : "");
    return 0;
}

/* ---- environment ------------------------------------------------------ */

/* True when the agent's variable entry ("NAME=value") may reach a job. */
static bool sandbox_env_allowed(const struct sandbox *sb, const char *entry)
{
    static const char base[] = "PATH LANG LANGUAGE TZ PYTHONHASHSEED VIRTUAL_ENV PYSCOPE_FAULT";
    static const char own[] = "HOME TMPDIR USER LOGNAME"; /* the agent's, without a job user */
    size_t len = strcspn(entry, "=");
    if (entry[len] != '=')
        return false;
    if (sb->drop && jobenv_listed(own, entry, len))
        return false; /* replaced by the job user's below */
    return jobenv_listed(base, entry, len) || strncmp(entry, "LC_", 3) == 0 ||
           (!sb->drop && jobenv_listed(own, entry, len)) || jobenv_listed(sb->job_env, entry, len);
}

/* True when one of the n suite variables (all checked) has entry's name. */
static bool sandbox_suite_sets(const char *const *suite, size_t n, const char *entry)
{
    size_t len = jobenv_name_len(entry);
    for (size_t i = 0; i < n; i++)
        if (suite[i] && jobenv_name_len(suite[i]) == len && strncmp(suite[i], entry, len) == 0)
            return true;
    return false;
}

char **sandbox_env_new(const struct sandbox *sb, const char *const *suite, size_t n_suite)
{
    size_t n = 0;
    while (environ[n])
        n++;
    /* The wire decoder checked these already; a refused one never gets through. */
    const char **ok = xcalloc(n_suite ? n_suite : 1, sizeof(*ok));
    for (size_t i = 0; i < n_suite; i++) {
        char why[256];
        const char *bad = jobenv_check(suite[i], why, sizeof(why));
        if (!bad && sandbox_suite_sets(ok, i, suite[i]))
            bad = "a variable set twice";
        if (bad)
            log_warn("not setting a suite's variable for a job: %s", bad);
        else
            ok[i] = suite[i];
    }
    char **env = xcalloc(n + 5 + n_suite, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (sandbox_env_allowed(sb, environ[i]) && !sandbox_suite_sets(ok, n_suite, environ[i]))
            env[k++] = xstrdup(environ[i]);
    if (sb->drop) {
        env[k++] = xstrdup("HOME=/tmp");
        env[k++] = xstrdup("TMPDIR=/tmp");
        env[k++] = xasprintf("USER=%s", sb->user);
        env[k++] = xasprintf("LOGNAME=%s", sb->user);
    }
    for (size_t i = 0; i < n_suite; i++)
        if (ok[i])
            env[k++] = xstrdup(ok[i]);
    free(ok);
    env[k] = NULL;
    return env;
}

void sandbox_env_free(char **envp)
{
    if (!envp)
        return;
    for (size_t i = 0; envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* ---- after the job ---------------------------------------------------- */

/* Threads of process pid (field 20 of /proc/PID/stat), 1 when unreadable. */
static unsigned sandbox_threads(int procfd, const char *pid)
{
    char path[300], buf[1024];
    snprintf(path, sizeof(path), "%s/stat", pid);
    int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *p = strrchr(buf, ')'); /* the command may hold spaces and ')' */
    unsigned long threads = 0;
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %lu",
               &threads) != 1 ||
        threads == 0)
        return 1;
    return (unsigned)threads;
}

unsigned sandbox_count_procs(const struct sandbox *sb)
{
    if (!sb->drop)
        return 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    unsigned n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && st.st_uid == sb->uid)
            n += sandbox_threads(dirfd(d), de->d_name);
    }
    closedir(d);
    return n;
}

/* The last up to 8 KiB of the file at path, into buf (NUL-terminated). */
static void sandbox_read_tail(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t off = st.st_size > (off_t)(n - 1) ? st.st_size - (off_t)(n - 1) : 0;
        ssize_t r = pread(fd, buf, n - 1, off);
        buf[r > 0 ? r : 0] = '\0';
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] == '\0')
                buf[i] = ' ';
    }
    close(fd);
}

void sandbox_stop_from_run(struct sandbox_stop *st, const json_t *run)
{
    const json_t *status = json_object_get(run, "status");
    const char *oc = json_string_value(json_object_get(status, "outcome"));
    if (oc && strcmp(oc, "timeout") == 0)
        st->timed_out = true;
    const json_t *sig = json_object_get(status, "signal");
    if (json_is_integer(sig))
        st->signal = (int)json_integer_value(sig);
    const json_t *tmp = json_object_get(status, "tmp_used_bytes");
    st->tmp_used = json_is_integer(tmp) ? (int64_t)json_integer_value(tmp) : -1;
}

/* Append ", then " and text to buf (of n bytes, holding len bytes). */
static void sandbox_append(char *buf, size_t n, const char *text)
{
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s", len ? ", then " : "", text);
}

bool sandbox_explain(const struct sandbox *sb, const struct sandbox_stop *st, char *buf, size_t n,
                     char *note, size_t notelen)
{
    char tail[8192], part[160], size[32];
    sandbox_read_tail(st->stderr_path, tail, sizeof(tail));
    buf[0] = '\0';
    if (notelen)
        note[0] = '\0';
    /* What the supervisors measured (the script cannot print these). */
    bool tmp_known = sb->private_ns && st->tmp_used >= 0;
    bool tmp_full = tmp_known && sb->tmp_size && (uint64_t)st->tmp_used >= sb->tmp_size / 10 * 9;
    bool big_file =
        tmp_known && sb->file_size_limit && (uint64_t)st->tmp_used >= sb->file_size_limit / 10 * 9;
    /* Memory: RLIMIT_AS leaves no trace of its own; the error text says an
     * allocation failed, the accounting whether the limit was why. */
    if (st->signal == SIGXFSZ || (big_file && strstr(tail, "File too large"))) {
        sandbox_size_text(sb->file_size_limit, size, sizeof(size));
        snprintf(part, sizeof(part), "the file size limit (%s)", size);
        sandbox_append(buf, n, part);
    }
    if (tmp_full && strstr(tail, "No space left on device")) {
        sandbox_size_text(sb->tmp_size, size, sizeof(size));
        snprintf(part, sizeof(part), "the disk limit (private /tmp of %s)", size);
        sandbox_append(buf, n, part);
    }
    if (st->memory_limit &&
        (strstr(tail, "MemoryError") || strstr(tail, "Cannot allocate memory") ||
         strstr(tail, "out of memory"))) {
        uint64_t seen = st->vm_peak > st->rss_peak ? st->vm_peak : st->rss_peak;
        char at[32];
        sandbox_size_text(st->memory_limit, size, sizeof(size));
        sandbox_size_text(seen, at, sizeof(at));
        if ((double)seen >= SANDBOX_MEMORY_NEAR * (double)st->memory_limit) {
            snprintf(part, sizeof(part), "the memory limit (%s; %s reached)", size, at);
            sandbox_append(buf, n, part);
        } else if (notelen) {
            snprintf(note, notelen,
                     "raised MemoryError at %s of a %s limit: not the limit by the agent's "
                     "accounting",
                     at, size);
        }
    }
    if (sb->max_procs && st->procs_peak + 1 >= sb->max_procs) {
        snprintf(part, sizeof(part), "the process limit (%u)", sb->max_procs);
        sandbox_append(buf, n, part);
    }
    if (st->timed_out) {
        snprintf(part, sizeof(part), "the time limit (%.3g s)", st->timeout_s);
        sandbox_append(buf, n, part);
    }
    return buf[0] != '\0';
}
