/*
 * gitrev.c - commits through the git binary: resolve, describe, mirror, check out.
 *
 * Design notes: every git call is a child in its own process group, stdout
 * and stderr read through pipes with poll() until a deadline, then the whole
 * group is killed. The environment is ours minus every GIT_* variable (a
 * GIT_DIR or GIT_WORK_TREE set for the caller would point git elsewhere),
 * plus LC_ALL=C (messages we quote are English) and GIT_TERMINAL_PROMPT=0
 * (a missing credential is an error, never a prompt). Hooks are off
 * (core.hooksPath=/dev/null): nothing of the repository's runs.
 */
#include "gitrev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "strbuf.h"
#include "xmalloc.h"

extern char **environ;

#define GITREV_MAX_OUT (512u * 1024u * 1024u) /* stdout kept of one call */
#define GITREV_MAX_ERR 4096u                  /* stderr kept (its tail) */

void gitrev_defaults(struct gitrev_opts *o)
{
    o->git = "git";
    o->timeout_s = 600;
    o->safe_dir = NULL;
}

bool gitrev_is_hash(const char *s)
{
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 40 || n == 64;
}

void gitrev_list_free(struct gitrev_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].subject);
        free(l->v[i].author);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- running git --------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Our environment without GIT_* and locale variables, plus the ones git needs; new. */
static char **git_env(void)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + 4, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, "GIT_", 4) == 0 || strncmp(e, "LC_ALL=", 7) == 0 ||
            strncmp(e, "LANGUAGE=", 9) == 0)
            continue;
        env[k++] = (char *)e;
    }
    env[k++] = "LC_ALL=C";
    env[k++] = "GIT_TERMINAL_PROMPT=0";
    env[k] = NULL;
    return env;
}

/* Append the n bytes at s of git's stdout to ob, keeping at most GITREV_MAX_OUT bytes;
 * sets *cut when some were dropped. */
static void out_put(struct strbuf *ob, bool *cut, const char *s, size_t n)
{
    if (n > GITREV_MAX_OUT - ob->len) {
        n = GITREV_MAX_OUT - ob->len;
        *cut = true;
    }
    strbuf_add(ob, s, n);
}

/* The last non-empty line of s (borrowed) into buf. */
static void last_line(const char *s, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!s)
        return;
    const char *end = s + strlen(s);
    while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > s && start[-1] != '\n')
        start--;
    snprintf(buf, n, "%.*s", (int)(end - start), start);
}

/* The argv git runs with: hooks off, safe.directory when o asks, then argv (borrowed); new,
 * its strings borrowed but for *safe (new, or NULL), which the caller frees with it. */
static const char **git_argv(const struct gitrev_opts *o, const char *const *argv, char **safe)
{
    size_t n = 0;
    while (argv[n])
        n++;
    const char **av = xcalloc(n + 6, sizeof(*av));
    size_t k = 0;
    av[k++] = o->git;
    av[k++] = "-c";
    av[k++] = "core.hooksPath=/dev/null";
    *safe = NULL;
    if (o->safe_dir) {
        *safe = xasprintf("safe.directory=%s", o->safe_dir);
        av[k++] = "-c";
        av[k++] = *safe;
    }
    for (size_t i = 0; i < n; i++)
        av[k++] = argv[i];
    av[k] = NULL;
    return av;
}

/* A git child being run: its pid and the read ends of its stdout, its stderr and the pipe
 * its exec failure's errno comes down (closed on exec). */
struct git_child {
    pid_t pid;
    int out, err, exec_err;
};

/* In the forked child: stdin from /dev/null, stdout and stderr to the pipes, into dir (or
 * not), then git. A failure's errno goes down errno_fd and the child exits 127. */
static void git_exec_child(const char **av, char **env, const char *dir, int out_fd, int err_fd,
                           int errno_fd)
{
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0)
        dup2(in, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (dir && chdir(dir) < 0) {
        int e = errno;
        (void)!write(errno_fd, &e, sizeof(e));
        _exit(127);
    }
    /* SIGPIPE and SIGCHLD as git expects them, whatever our caller set */
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvpe(av[0], (char *const *)av, env);
    int e = errno;
    (void)!write(errno_fd, &e, sizeof(e));
    _exit(127);
}

/* Starts git with av (borrowed) in dir (NULL: here) into *c. 0, or -errno with err set. */
static int git_start(const char **av, const char *dir, struct git_child *c, char *err,
                     size_t errlen)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 || pipe2(px, O_CLOEXEC) < 0) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not run git: %s", strerror(e));
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
            if (pe[i] >= 0)
                close(pe[i]);
            if (px[i] >= 0)
                close(px[i]);
        }
        return -e;
    }
    char **env = git_env();
    pid_t pid = fork();
    if (pid == 0)
        git_exec_child(av, env, dir, po[1], pe[1], px[1]);
    int fork_errno = errno;
    free(env);
    close(po[1]);
    close(pe[1]);
    close(px[1]);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        close(px[0]);
        pyscope_set_err(err, errlen, "could not run git: %s", strerror(fork_errno));
        return -fork_errno;
    }
    *c = (struct git_child){.pid = pid, .out = po[0], .err = pe[0], .exec_err = px[0]};
    return 0;
}

/* Reads c's stdout into ob (out_put: *cut) and stderr into eb (its tail: the last line says
 * what went wrong) until both close, or until timeout_s (<= 0: 600) has passed: then kills
 * git's process group and returns true. Closes c->out and c->err. */
static bool git_drain(const struct git_child *c, double timeout_s, struct strbuf *ob, bool *cut,
                      struct strbuf *eb)
{
    double deadline = now_s() + (timeout_s > 0 ? timeout_s : 600);
    bool timed_out = false;
    struct pollfd fds[2] = {{.fd = c->out, .events = POLLIN}, {.fd = c->err, .events = POLLIN}};
    int open_fds = 2;
    char buf[65536];
    while (open_fds > 0) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = true;
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            break;
        }
        int rc = poll(fds, 2, (int)(left * 1000) + 1);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(fds[i].fd, buf, sizeof(buf));
            if (r > 0) {
                if (i == 0) {
                    out_put(ob, cut, buf, (size_t)r);
                } else {
                    strbuf_add(eb, buf, (size_t)r);
                    strbuf_keep_tail(eb, GITREV_MAX_ERR);
                }
            } else if (r == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    return timed_out;
}

/* What became of a git call, as git_call() returns it (err set unless 0): exec_errno from
 * the child (0: git ran), whether it timed out, its wait status st, whether its stdout was cut
 * and its stderr's tail (borrowed, may be NULL). */
static int git_outcome(const struct gitrev_opts *o, const char *dir, const char *const *argv,
                       int exec_errno, bool timed_out, int st, bool out_cut, const char *err_tail,
                       char *err, size_t errlen)
{
    const char *cmd = argv[0] ? argv[0] : "";
    if (exec_errno) {
        if (dir && exec_errno != ENOENT)
            pyscope_set_err(err, errlen, "could not run %s in \"%s\": %s", o->git, dir,
                            strerror(exec_errno));
        else
            pyscope_set_err(err, errlen, "could not run %s: %s (install git: apt-get install git)",
                            o->git, strerror(exec_errno));
        return -exec_errno;
    }
    if (timed_out) {
        pyscope_set_err(err, errlen, "git %s timed out after %.0f s", cmd, o->timeout_s);
        return -ETIMEDOUT;
    }
    if (WIFSIGNALED(st)) {
        pyscope_set_err(err, errlen, "git %s died of signal %d", cmd, WTERMSIG(st));
        return -EIO;
    }
    int rc = WEXITSTATUS(st);
    if (rc != 0) {
        char line[512];
        last_line(err_tail, line, sizeof(line));
        pyscope_set_err(err, errlen, "git %s failed (status %d)%s%s", cmd, rc, *line ? ": " : "",
                        line);
    } else if (out_cut) {
        pyscope_set_err(err, errlen, "git %s printed more than %u bytes", cmd, GITREV_MAX_OUT);
        rc = -PYSCOPE_ETOOBIG;
    }
    return rc;
}

/* gitrev_git() that also gives stdout's length (it may hold NULs). */
static int git_call(const struct gitrev_opts *o, const char *dir, const char *const *argv,
                    char **out, size_t *out_len, char *err, size_t errlen)
{
    struct gitrev_opts def;
    if (!o) {
        gitrev_defaults(&def);
        o = &def;
    }
    if (out)
        *out = NULL;
    char *safe;
    const char **av = git_argv(o, argv, &safe);
    struct git_child c = {0};
    int rc = git_start(av, dir, &c, err, errlen);
    free(av);
    free(safe);
    if (rc < 0)
        return rc;
    struct strbuf ob = {0}, eb = {0};
    bool cut = false;
    bool timed_out = git_drain(&c, o->timeout_s, &ob, &cut, &eb);
    int st = 0;
    while (waitpid(c.pid, &st, 0) < 0 && errno == EINTR)
        ;
    int exec_errno = 0;
    ssize_t xr = read(c.exec_err, &exec_errno, sizeof(exec_errno));
    close(c.exec_err);
    if (xr != (ssize_t)sizeof(exec_errno))
        exec_errno = 0;
    rc = git_outcome(o, dir, argv, exec_errno, timed_out, st, cut, eb.s, err, errlen);
    if (out && rc == 0) {
        if (out_len)
            *out_len = ob.len;
        *out = strbuf_take(&ob);
    }
    strbuf_release(&ob);
    strbuf_release(&eb);
    return rc;
}

int gitrev_git(const struct gitrev_opts *o, const char *dir, const char *const *argv, char **out,
               char *err, size_t errlen)
{
    return git_call(o, dir, argv, out, NULL, err, errlen);
}

/* gitrev_git() for a call whose non-zero status is a failure: returns 0 or a code < 0. */
static int git_ok(const struct gitrev_opts *o, const char *dir, const char *const *argv, char **out,
                  char *err, size_t errlen)
{
    int rc = gitrev_git(o, dir, argv, out, err, errlen);
    return rc > 0 ? -EIO : rc;
}

int gitrev_toplevel(const struct gitrev_opts *o, const char *dir, char **top, char *err,
                    size_t errlen)
{
    const char *argv[] = {"rev-parse", "--show-toplevel", NULL};
    char *out = NULL;
    int rc = gitrev_git(o, dir, argv, &out, err, errlen);
    if (rc > 0) {
        pyscope_set_err(err, errlen, "\"%s\" is not in a git checkout", dir ? dir : ".");
        return -ENOENT;
    }
    if (rc < 0)
        return rc;
    out[strcspn(out, "\n")] = '\0';
    if (!*out) {
        free(out);
        pyscope_set_err(err, errlen, "\"%s\" is in a bare repository, not a checkout",
                        dir ? dir : ".");
        return -ENOENT;
    }
    *top = out;
    return 0;
}

int gitrev_resolve(const struct gitrev_opts *o, const char *repo, const char *rev,
                   char hash[GITREV_HASH_MAX + 1], char *err, size_t errlen)
{
    hash[0] = '\0';
    if (!rev || !*rev || rev[0] == '-') {
        pyscope_set_err(err, errlen, "\"%s\" is not a revision", rev ? rev : "");
        return -PYSCOPE_ENODATA;
    }
    char *spec = xasprintf("%s^{commit}", rev);
    const char *argv[] = {"rev-parse", "--verify", "--quiet", "--end-of-options", spec, NULL};
    char *out = NULL;
    int rc = gitrev_git(o, repo, argv, &out, err, errlen);
    free(spec);
    if (rc > 0) {
        pyscope_set_err(err, errlen, "unknown revision \"%s\" in %s (is it fetched? git fetch)",
                        rev, repo);
        return -PYSCOPE_ENODATA;
    }
    if (rc < 0)
        return rc;
    out[strcspn(out, "\n")] = '\0';
    if (!gitrev_is_hash(out)) {
        pyscope_set_err(err, errlen, "git rev-parse gave \"%.80s\" for \"%s\"", out, rev);
        free(out);
        return -PYSCOPE_EPARSE;
    }
    snprintf(hash, GITREV_HASH_MAX + 1, "%s", out);
    free(out);
    return 0;
}

/* ---- generation numbers ---------------------------------------------------- */

/* An open-addressing map from a hash (pointer into git's output, hex) to a value. */
struct genmap {
    const char **key;
    uint64_t *val;
    size_t cap; /* power of two */
    size_t len;
};

static size_t hex_hash(const char *h)
{
    size_t v = 1469598103934665603ull;
    for (int i = 0; i < 16 && h[i]; i++)
        v = (v ^ (unsigned char)h[i]) * 1099511628211ull;
    return v;
}

static size_t hash_len(const char *h)
{
    size_t n = 0;
    while ((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f'))
        n++;
    return n;
}

static bool hex_eq(const char *a, const char *b)
{
    size_t n = hash_len(a);
    return n == hash_len(b) && memcmp(a, b, n) == 0;
}

static uint64_t *genmap_slot(struct genmap *m, const char *h, bool add)
{
    if (add && (m->len + 1) * 2 > m->cap) {
        struct genmap g = {.cap = m->cap ? m->cap * 2 : 1024};
        g.key = xcalloc(g.cap, sizeof(*g.key));
        g.val = xcalloc(g.cap, sizeof(*g.val));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i])
                continue;
            size_t j = hex_hash(m->key[i]) & (g.cap - 1);
            while (g.key[j])
                j = (j + 1) & (g.cap - 1);
            g.key[j] = m->key[i];
            g.val[j] = m->val[i];
        }
        g.len = m->len;
        free(m->key);
        free(m->val);
        *m = g;
    }
    if (m->cap == 0)
        return NULL;
    size_t j = hex_hash(h) & (m->cap - 1);
    while (m->key[j]) {
        if (hex_eq(m->key[j], h))
            return &m->val[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!add)
        return NULL;
    m->key[j] = h;
    m->len++;
    return &m->val[j];
}

/* Fill the generation of l's commits from first on with one walk of head's history. */
static int fill_generations(const struct gitrev_opts *o, const char *repo, const char *head,
                            struct gitrev_list *l, size_t first, char *err, size_t errlen)
{
    const char *argv[] = {"rev-list", "--topo-order", "--reverse", "--parents", head, NULL};
    char *out = NULL;
    int rc = git_ok(o, repo, argv, &out, err, errlen);
    if (rc < 0)
        return rc;
    struct genmap m = {0};
    /* parents come before their children: each line is "HASH PARENT..." */
    for (char *line = out; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        uint64_t g = 1;
        char *p = line + hash_len(line);
        while (*p == ' ') {
            p++;
            uint64_t *pg = genmap_slot(&m, p, false);
            if (pg && *pg + 1 > g)
                g = *pg + 1;
            p += hash_len(p);
        }
        if (hash_len(line) >= 40)
            *genmap_slot(&m, line, true) = g;
        if (!nl)
            break;
        line = nl + 1;
    }
    for (size_t i = first; i < l->n; i++) {
        uint64_t *g = genmap_slot(&m, l->v[i].hash, false);
        l->v[i].generation = g ? *g : 0;
    }
    free(m.key);
    free(m.val);
    free(out);
    return 0;
}

/* ---- describing commits ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (len == 0 || len > n || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
        return 0; /* overlong, surrogate */
    if (len == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
        return 0;
    return len;
}

/* A copy of s with bytes that are not UTF-8 as '?', cut to at most max bytes on a
 * character boundary: text in another encoding still travels (and is shown) safely. */
static char *dup_cut(const char *s, size_t max)
{
    size_t n = strlen(s), o = 0;
    char *r = xmalloc((n < max ? n : max) + 1);
    for (size_t i = 0; i < n;) {
        size_t l = utf8_len((const unsigned char *)s + i, n - i);
        size_t w = l ? l : 1;
        if (o + w > max)
            break;
        if (l)
            memcpy(r + o, s + i, l);
        else
            r[o] = '?';
        o += w;
        i += w;
    }
    r[o] = '\0';
    return r;
}

int gitrev_log(const struct gitrev_opts *o, const char *repo, const char *head,
               const char *const *exclude, size_t n_exclude, size_t max, bool with_generation,
               struct gitrev_list *l, char *err, size_t errlen)
{
    if (!gitrev_is_hash(head)) {
        pyscope_set_err(err, errlen, "\"%s\" is not a full commit hash", head ? head : "");
        return -EINVAL;
    }
    char maxarg[32];
    snprintf(maxarg, sizeof(maxarg), "--max-count=%zu", max);
    const char **argv = xcalloc(8 + n_exclude, sizeof(*argv));
    size_t k = 0;
    argv[k++] = "log";
    argv[k++] = "-z";
    argv[k++] = "--topo-order";
    argv[k++] = maxarg;
    argv[k++] = "--format=%H%x00%P%x00%at%x00%an <%ae>%x00%s";
    argv[k++] = head;
    char **neg = xcalloc(n_exclude + 1, sizeof(*neg));
    for (size_t i = 0; i < n_exclude; i++) {
        neg[i] = xasprintf("^%s", exclude[i]);
        argv[k++] = neg[i];
    }
    argv[k++] = "--";
    argv[k] = NULL;
    char *out = NULL;
    size_t len = 0;
    int rc = git_call(o, repo, argv, &out, &len, err, errlen);
    if (rc > 0)
        rc = -EIO;
    for (size_t i = 0; i < n_exclude; i++)
        free(neg[i]);
    free(neg);
    free(argv);
    if (rc < 0)
        return rc;
    /* records of 5 NUL-terminated fields, records separated by a NUL (-z) */
    size_t first = l->n, added = 0;
    const char *p = out, *end = out + len;
    for (;;) {
        while (p < end && (*p == '\n' || *p == '\0'))
            p++;
        const char *f[5];
        int got = 0;
        while (got < 5 && p < end) {
            f[got++] = p;
            p += strlen(p) + 1;
        }
        if (got < 5)
            break;
        if (!gitrev_is_hash(f[0]))
            break;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        struct gitrev_commit *c = &l->v[l->n];
        memset(c, 0, sizeof(*c));
        snprintf(c->hash, sizeof(c->hash), "%s", f[0]);
        for (const char *q = f[1]; *q && c->n_parents < GITREV_MAX_PARENTS;) {
            size_t hl = hash_len(q);
            if (hl != 40 && hl != 64)
                break;
            snprintf(c->parents[c->n_parents++], GITREV_HASH_MAX + 1, "%.*s", (int)hl, q);
            q += hl;
            while (*q == ' ')
                q++;
        }
        c->time = strtoll(f[2], NULL, 10);
        c->author = dup_cut(f[3], GITREV_MAX_AUTHOR);
        c->subject = dup_cut(f[4], GITREV_MAX_SUBJECT);
        l->n++;
        added++;
    }
    free(out);
    if (with_generation && added) {
        rc = fill_generations(o, repo, head, l, first, err, errlen);
        if (rc < 0)
            return rc;
    }
    return (int)added;
}

/* ---- the cache ------------------------------------------------------------- */

char *gitrev_cache_mirror(const struct gitrev_cache *c)
{
    return xasprintf("%s/mirror.git", c->dir);
}

/* mkdir -p of one level with mode; 0 or -errno. */
static int mkdir_mode(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0)
        return chmod(path, mode) < 0 ? -errno : 0;
    if (errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* The cache's folders (DIR 0755 so jobs may reach trees/, mirror and locks 0700). */
static int cache_dirs(const struct gitrev_cache *c, char *err, size_t errlen)
{
    static const char *const sub[] = {"", "/trees", "/locks"};
    static const mode_t modes[] = {0755, 0755, 0700};
    for (int i = 0; i < 3; i++) {
        char *p = xasprintf("%s%s", c->dir, sub[i]);
        int rc = mkdir_mode(p, modes[i]);
        if (rc < 0) {
            pyscope_set_err(err, errlen, "could not make the revision cache folder \"%s\": %s", p,
                            strerror(-rc));
            free(p);
            return rc;
        }
        free(p);
    }
    return 0;
}

/* Check hash (a full one) and make the cache's folders. */
static int cache_begin(const struct gitrev_cache *c, const char *hash, char *err, size_t errlen)
{
    if (!gitrev_is_hash(hash)) {
        pyscope_set_err(err, errlen, "\"%s\" is not a full commit hash", hash ? hash : "");
        return -EINVAL;
    }
    return cache_dirs(c, err, errlen);
}

/* Take DIR/lock exclusively (blocking). Returns the descriptor or -errno. */
static int cache_lock_all(const struct gitrev_cache *c, char *err, size_t errlen)
{
    char *p = xasprintf("%s/lock", c->dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int e = errno;
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        e = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        pyscope_set_err(err, errlen, "could not lock \"%s\": %s", p, strerror(e));
    free(p);
    return fd < 0 ? -e : fd;
}

/* Is commit hash in the mirror? */
static bool mirror_has(const struct gitrev_opts *o, const char *mirror, const char *hash)
{
    char *spec = xasprintf("%s^{commit}", hash);
    char *gd = xasprintf("--git-dir=%s", mirror);
    const char *argv[] = {gd, "cat-file", "-e", spec, NULL};
    char err[256];
    int rc = gitrev_git(o, NULL, argv, NULL, err, sizeof(err));
    free(spec);
    free(gd);
    return rc == 0;
}

/* Make the mirror when it is missing (a bare repository; never gc'ed of what we keep). */
static int mirror_init(const struct gitrev_opts *o, const char *mirror, char *err, size_t errlen)
{
    char *head = xasprintf("%s/HEAD", mirror);
    bool have = access(head, F_OK) == 0;
    free(head);
    if (have)
        return 0;
    const char *argv[] = {"init", "--quiet", "--bare", mirror, NULL};
    int rc = git_ok(o, NULL, argv, NULL, err, errlen);
    if (rc < 0)
        return rc;
    chmod(mirror, 0700);
    return 0;
}

int gitrev_cache_fetch(const struct gitrev_opts *o, const struct gitrev_cache *c, const char *hash,
                       char *err, size_t errlen)
{
    if (hash && !gitrev_is_hash(hash)) {
        pyscope_set_err(err, errlen, "\"%s\" is not a full commit hash", hash);
        return -EINVAL;
    }
    int rc = cache_dirs(c, err, errlen);
    if (rc < 0)
        return rc;
    int lock = cache_lock_all(c, err, errlen);
    if (lock < 0)
        return lock;
    char *mirror = gitrev_cache_mirror(c);
    char *gd = xasprintf("--git-dir=%s", mirror);
    rc = mirror_init(o, mirror, err, errlen);
    if (rc == 0 && (!hash || !mirror_has(o, mirror, hash))) {
        /* every branch and tag, forced (a force-push moves a branch back), never
         * pruned: what was fetched once stays in the mirror */
        const char *argv[] = {gd,
                              "fetch",
                              "--quiet",
                              "--no-write-fetch-head",
                              "--tags",
                              c->origin,
                              "+refs/heads/*:refs/heads/*",
                              NULL};
        rc = git_ok(o, NULL, argv, NULL, err, errlen);
        if (rc < 0) {
            char why[512];
            snprintf(why, sizeof(why), "%s", err);
            pyscope_set_err(err, errlen, "could not fetch from %s: %s", c->origin, why);
        }
    }
    if (rc == 0 && hash && !mirror_has(o, mirror, hash)) {
        /* not on any branch or tag: ask for the commit itself */
        char e2[512];
        const char *argv[] = {gd,        "fetch", "--quiet", "--no-write-fetch-head",
                              c->origin, hash,    NULL};
        (void)gitrev_git(o, NULL, argv, NULL, e2, sizeof(e2));
        if (!mirror_has(o, mirror, hash)) {
            pyscope_set_err(err, errlen,
                            "commit %s is not in %s (not pushed yet, or a branch holding it was "
                            "force-pushed away before this agent fetched it)",
                            hash, c->origin);
            rc = -PYSCOPE_ENODATA;
        }
    }
    free(gd);
    free(mirror);
    close(lock);
    return rc;
}

int gitrev_cache_lock(const struct gitrev_cache *c, const char *hash, char *err, size_t errlen)
{
    int rc = cache_begin(c, hash, err, errlen);
    if (rc < 0)
        return rc;
    char *p = xasprintf("%s/locks/%s", c->dir, hash);
    for (int tries = 0; tries < 100; tries++) {
        int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            pyscope_set_err(err, errlen, "could not open \"%s\": %s", p, strerror(e));
            free(p);
            return -e;
        }
        if (flock(fd, LOCK_SH) < 0) {
            int e = errno;
            close(fd);
            pyscope_set_err(err, errlen, "could not lock \"%s\": %s", p, strerror(e));
            free(p);
            return -e;
        }
        /* a cleaner may have removed the file between our open and our lock */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            futimens(fd, NULL); /* the tree's last use */
            free(p);
            return fd;
        }
        close(fd);
    }
    pyscope_set_err(err, errlen, "could not lock \"%s\": it keeps being removed", p);
    free(p);
    return -EAGAIN;
}

/* ---- trees ------------------------------------------------------------------- */

/* Bytes a folder takes on disk (fts: no global state, unlike nftw). */
static uint64_t tree_bytes(const char *dir)
{
    char *paths[] = {(char *)dir, NULL};
    FTS *f = fts_open(paths, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
    if (!f)
        return 0;
    uint64_t bytes = 0;
    FTSENT *e;
    while ((e = fts_read(f)) != NULL)
        if (e->fts_info != FTS_DP && e->fts_statp)
            bytes += (uint64_t)e->fts_statp->st_blocks * 512u;
    fts_close(f);
    return bytes;
}

static int walk_ro(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_SL)
        return 0;
    mode_t m = st->st_mode & 07777;
    if (flag == FTW_D || flag == FTW_DP)
        m = 0555;
    else
        m = (m & 0111) ? 0555 : 0444;
    chmod(path, m);
    return 0;
}

static int walk_rw(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_SL)
        return 0;
    chmod(path, (st->st_mode & 07777) | 0700);
    return 0;
}

static int walk_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Remove a tree: write bits back (pre-order), then everything (post-order). */
static void tree_remove(const char *dir)
{
    nftw(dir, walk_rw, 16, FTW_PHYS);
    nftw(dir, walk_rm, 16, FTW_PHYS | FTW_DEPTH);
}

/* Drop trees/hash from the mirror's books: worktree metadata and its keep-ref. */
static void tree_forget(const struct gitrev_opts *o, const char *mirror, const char *hash)
{
    char *gd = xasprintf("--git-dir=%s", mirror);
    char *ref = xasprintf("refs/pyscope/%s", hash);
    char err[256];
    const char *prune[] = {gd, "worktree", "prune", NULL};
    (void)gitrev_git(o, NULL, prune, NULL, err, sizeof(err));
    const char *del[] = {gd, "update-ref", "-d", ref, NULL};
    (void)gitrev_git(o, NULL, del, NULL, err, sizeof(err));
    free(ref);
    free(gd);
}

int gitrev_cache_checkout(const struct gitrev_opts *o, const struct gitrev_cache *c,
                          const char *hash, char **tree, char *err, size_t errlen)
{
    *tree = NULL;
    int rc = cache_begin(c, hash, err, errlen);
    if (rc < 0)
        return rc;
    char *dir = xasprintf("%s/trees/%s", c->dir, hash);
    char *ok = xasprintf("%s/locks/%s.ok", c->dir, hash);
    if (access(ok, F_OK) == 0 && access(dir, F_OK) == 0) {
        *tree = dir;
        free(ok);
        return 0;
    }
    int lock = cache_lock_all(c, err, errlen);
    if (lock < 0) {
        free(dir);
        free(ok);
        return lock;
    }
    char *mirror = gitrev_cache_mirror(c);
    char *gd = xasprintf("--git-dir=%s", mirror);
    if (access(ok, F_OK) == 0 && access(dir, F_OK) == 0)
        goto done;
    /* a half-made tree (a crash mid-checkout): start again */
    unlink(ok);
    tree_remove(dir);
    tree_forget(o, mirror, hash);
    {
        char *ref = xasprintf("refs/pyscope/%s", hash);
        const char *keep[] = {gd, "update-ref", ref, hash, NULL};
        rc = git_ok(o, NULL, keep, NULL, err, errlen);
        free(ref);
        if (rc == 0) {
            const char *add[] = {gd,        "worktree", "add", "--quiet", "--detach",
                                 "--force", dir,        hash,  NULL};
            rc = git_ok(o, NULL, add, NULL, err, errlen);
        }
    }
    if (rc == 0) {
        /* the tree is what was asked for, or nothing */
        const char *head[] = {"rev-parse", "HEAD", NULL};
        char *out = NULL;
        rc = git_ok(o, dir, head, &out, err, errlen);
        if (rc == 0 && strncmp(out, hash, strlen(hash)) != 0) {
            pyscope_set_err(err, errlen, "the checkout of %s is at %.64s", hash, out);
            rc = -EIO;
        }
        free(out);
    }
    if (rc == 0) {
        nftw(dir, walk_ro, 16, FTW_PHYS);
        int fd = open(ok, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 || fsync(fd) < 0) {
            rc = -errno;
            pyscope_set_err(err, errlen, "could not write \"%s\": %s", ok, strerror(-rc));
        }
        if (fd >= 0)
            close(fd);
    } else {
        char why[512];
        snprintf(why, sizeof(why), "%s", err);
        pyscope_set_err(err, errlen, "could not check out %s: %s", hash, why);
        tree_remove(dir);
        tree_forget(o, mirror, hash);
    }
done:
    free(gd);
    free(mirror);
    close(lock);
    free(ok);
    if (rc == 0)
        *tree = dir;
    else
        free(dir);
    return rc;
}

struct tree_use {
    char hash[GITREV_HASH_MAX + 1];
    time_t used;
    uint64_t bytes;
    int fd; /* its lock, held exclusively while we may remove it; -1 when in use */
};

static int by_use(const void *a, const void *b)
{
    const struct tree_use *x = a, *y = b;
    return x->used < y->used ? -1 : x->used > y->used ? 1 : strcmp(x->hash, y->hash);
}

int gitrev_cache_clean(const struct gitrev_opts *o, const struct gitrev_cache *c, char *err,
                       size_t errlen)
{
    int rc = cache_dirs(c, err, errlen);
    if (rc < 0)
        return rc;
    char *trees = xasprintf("%s/trees", c->dir);
    DIR *d = opendir(trees);
    if (!d) {
        rc = -errno;
        pyscope_set_err(err, errlen, "could not read \"%s\": %s", trees, strerror(-rc));
        free(trees);
        return rc;
    }
    struct tree_use *v = NULL;
    size_t n = 0;
    uint64_t total = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!gitrev_is_hash(de->d_name))
            continue;
        v = xrealloc(v, (n + 1) * sizeof(*v));
        struct tree_use *t = &v[n++];
        snprintf(t->hash, sizeof(t->hash), "%.64s", de->d_name); /* a hash: 64 at most */
        char *lp = xasprintf("%s/locks/%s", c->dir, t->hash);
        char *tp = xasprintf("%s/%s", trees, t->hash);
        t->fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        struct stat st;
        t->used = t->fd >= 0 && fstat(t->fd, &st) == 0 ? st.st_mtime : 0;
        if (t->fd >= 0 && flock(t->fd, LOCK_EX | LOCK_NB) < 0) {
            close(t->fd);
            t->fd = -1;
        }
        t->bytes = tree_bytes(tp);
        total += t->bytes;
        free(lp);
        free(tp);
    }
    closedir(d);
    qsort(v, n, sizeof(*v), by_use);
    time_t now = time(NULL);
    int removed = 0, lock = -1;
    char *mirror = gitrev_cache_mirror(c);
    for (size_t i = 0; i < n; i++) {
        struct tree_use *t = &v[i];
        bool old = c->max_age_s > 0 && difftime(now, t->used) > c->max_age_s;
        if (t->fd < 0 || !(old || total > c->max_bytes))
            continue;
        if (lock < 0 && (lock = cache_lock_all(c, err, errlen)) < 0)
            break;
        char *tp = xasprintf("%s/%s", trees, t->hash);
        char *ok = xasprintf("%s/locks/%s.ok", c->dir, t->hash);
        char *lp = xasprintf("%s/locks/%s", c->dir, t->hash);
        unlink(ok);
        tree_remove(tp);
        tree_forget(o, mirror, t->hash);
        unlink(lp);
        total -= t->bytes;
        removed++;
        free(tp);
        free(ok);
        free(lp);
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].fd >= 0)
            close(v[i].fd);
    if (lock >= 0)
        close(lock);
    free(mirror);
    free(v);
    free(trees);
    return lock < -1 ? lock : removed;
}
