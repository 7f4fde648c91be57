/*
 * pyselect.c - choose the script's interpreter and ask it what it is.
 */
#include "pyselect.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "log.h"
#include "probecache.h"
#include "sanitize.h"
#include "xmalloc.h"

#define PROBE_TIMEOUT_MS 20000
/* pyscope-run's advice on an interpreter it cannot use; not for one a caller found (ps->found) */
#define CHOOSE_HINT      "choose one with --python PATH or --venv DIR"
#define PROBE_OUTPUT_MAX 16384

/* One line each; written so that any Python from 2.7 on can run it. */
static const char probe_code[] =
    "import sys\n"
    "w = sys.stdout.write\n"
    "w(getattr(sys, 'implementation', None) and sys.implementation.name or 'cpython')\n"
    "w('\\n%d\\n%d\\n%d\\n' % tuple(sys.version_info[:3]))\n"
    "w(getattr(sys, 'abiflags', '') + '\\n')\n"
    "w(sys.executable + '\\n')\n"
    "w(sys.prefix + '\\n')\n"
    "w(sys.version.replace('\\n', ' ') + '\\n')\n";

static bool is_exec_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* name looked up on $PATH as a shell would (new string), or NULL. */
static char *path_lookup(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = xstrdup(path), *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
        if (is_exec_file(cand))
            found = cand;
        else
            free(cand);
    }
    free(copy);
    return found;
}

/* Read fd to EOF or until the deadline into a new string (capped). */
static char *read_all(int fd, pid_t pid, bool *timed_out)
{
    size_t cap = PROBE_OUTPUT_MAX, len = 0;
    char *buf = xmalloc(cap + 1);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *timed_out = false;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= PROBE_TIMEOUT_MS) {
            *timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int rc = poll(&p, 1, (int)(PROBE_TIMEOUT_MS - spent));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue;
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap)
            break;
    }
    buf[len] = '\0';
    return buf;
}

/* Fill ps from the probe's output text (modified). Returns false when it is not an
 * answer. */
static bool parse_answer(char *text, struct pyselect *ps)
{
    char *fields[9] = {0};
    size_t n = 0;
    char *rest = text;
    for (char *line; n < 9 && (line = strsep(&rest, "\n"));)
        fields[n++] = line;
    /* Eight lines and the empty rest after the last newline (seven from a stand-in
     * interpreter of the tests that predates the build line: no build then). */
    if (n == 8 && fields[7][0] == '\0')
        fields[n++] = fields[7];
    if (n != 9 || fields[8][0] != '\0' || !fields[0][0] || !fields[1][0])
        return false;
    ps->implementation = xstrdup(fields[0]);
    ps->major = atoi(fields[1]);
    ps->minor = atoi(fields[2]);
    ps->micro = atoi(fields[3]);
    ps->abiflags = xstrdup(fields[4]);
    ps->executable = xstrdup(fields[5]);
    ps->prefix = xstrdup(fields[6]);
    ps->build = xstrdup(fields[7]);
    return true;
}

/* Forget what parse_answer() filled in. */
static void forget_answer(struct pyselect *ps)
{
    free(ps->implementation);
    free(ps->abiflags);
    free(ps->executable);
    free(ps->prefix);
    free(ps->build);
    ps->implementation = ps->abiflags = ps->executable = ps->prefix = ps->build = NULL;
}

/* The answer remembered for key (probecache.h), checked as a fresh one is, into ps.
 * True when it was usable. */
static bool cached_answer(const char *key, struct pyselect *ps)
{
    struct probecache_entry e;
    if (probecache_load(key, &e) < 0)
        return false;
    bool ok = parse_answer(e.text, ps);
    if (ok) {
        char *lib = probecache_lib_line(ps->path, ps->major, ps->minor, ps->abiflags);
        ok = strcmp(lib, e.lib) == 0;
        free(lib);
        if (!ok)
            forget_answer(ps);
    }
    probecache_entry_release(&e);
    return ok;
}

/* Run `path -E -s -S -c probe_code` (options every python knows) (argv[0] argv0) and fill ps from
 * its output, unless the answer is remembered (probecache.h); remember a new one. */
static int probe(struct pyselect *ps, char *err, size_t errlen)
{
    char *key = probecache_key(ps->path, ps->argv0);
    if (key && cached_answer(key, ps)) {
        log_debug("used the remembered answer of \"%s\" (not asked)", ps->path);
        free(key);
        return 0;
    }
    log_debug("asking \"%s\" what it is%s", ps->path,
              key ? "" : " (not remembered: not an ELF binary)");
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        pyscope_set_err(err, errlen, "could not ask \"%s\" what it is: %s", ps->path,
                        strerror(errno));
        free(key);
        return -PYSCOPE_EUSAGE;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        pyscope_set_err(err, errlen, "could not ask \"%s\" what it is: %s", ps->path,
                        strerror(errno));
        free(key);
        return -PYSCOPE_EUSAGE;
    }
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        char *argv[] = {ps->argv0, "-E", "-s", "-S", "-c", (char *)probe_code, NULL};
        execv(ps->path, argv);
        _exit(127);
    }
    close(out[1]);
    bool timed_out;
    char *text = read_all(out[0], pid, &timed_out);
    close(out[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *copy = xstrdup(text);
    int rc = 0;
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !parse_answer(text, ps)) {
        ps->not_python = timed_out             ? "did not answer within 20 s"
                         : WIFSIGNALED(status) ? "was killed by a signal"
                         : WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "could not be started"
                         : WIFEXITED(status) && WEXITSTATUS(status) != 0   ? "failed"
                                                                           : "gave no answer";
        char from[64] = ""; /* one a caller found: the caller says where */
        if (!ps->found)
            snprintf(from, sizeof(from), " (from %s)", ps->how);
        pyscope_set_err(err, errlen,
                        "\"%s\"%s is not a working Python interpreter: asked for its version, it "
                        "%s; pyscope-run profiles %s%s",
                        ps->path, from, ps->not_python, PYSELECT_SUPPORTED,
                        ps->found ? "" : ": " CHOOSE_HINT);
        rc = -PYSCOPE_EUSAGE;
    } else if (key) {
        char *lib = probecache_lib_line(ps->path, ps->major, ps->minor, ps->abiflags);
        probecache_store(key, copy, lib);
        free(lib);
    }
    free(copy);
    free(text);
    free(key);
    return rc;
}

/*
 * Refuse an interpreter path holding a control character (a newline, a tab, an
 * escape...): the interpreter's answer about itself is read line by line, and the
 * path goes into reports and logs, so such a path cannot be used as it is; say so
 * and where, instead of "gave no answer".
 */
static int check_path_text(const struct pyselect *ps, char *err, size_t errlen)
{
    for (const unsigned char *c = (const unsigned char *)ps->path; *c; c++) {
        if (*c >= 0x20 && *c != 0x7f)
            continue;
        char *shown = sanitize_dup(ps->path, 0);
        char what[32];
        if (*c == '\n')
            snprintf(what, sizeof(what), "a newline");
        else if (*c == '\t')
            snprintf(what, sizeof(what), "a tab");
        else
            snprintf(what, sizeof(what), "the control character 0x%02x", *c);
        pyscope_set_err(
            err, errlen,
            "%s%s\"%s\": the interpreter's path holds %s (byte %zu), which pyscope-run "
            "cannot use (a path is read and reported as one line): rename it, or link it "
            "from a path without one (ln -s ... /tmp/python3) and pass that",
            ps->found ? "" : ps->how, ps->found ? "" : " ", shown, what,
            (size_t)(c - (const unsigned char *)ps->path) + 1);
        free(shown);
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

/* The virtualenv at dir: its interpreter, or an error. */
static int choose_venv(const char *dir, const char *how, struct pyselect *ps, char *err,
                       size_t errlen)
{
    char *cfg = xasprintf("%s/pyvenv.cfg", dir);
    bool ok = access(cfg, R_OK) == 0;
    free(cfg);
    char *py = NULL;
    const char *names[] = {"python3", "python"};
    for (size_t i = 0; ok && i < 2 && !py; i++) {
        char *cand = xasprintf("%s/bin/%s", dir, names[i]);
        if (is_exec_file(cand))
            py = cand;
        else
            free(cand);
    }
    if (!ok || !py) {
        pyscope_set_err(err, errlen,
                        "%s \"%s\" is not a virtualenv (no %s in it); create one with: "
                        "python3 -m venv DIR",
                        how, dir, ok ? "bin/python3 or bin/python" : "pyvenv.cfg");
        free(py);
        return -PYSCOPE_EUSAGE;
    }
    char *real = realpath(dir, NULL);
    ps->venv = real ? real : xstrdup(dir);
    /* venv/bin/python3, as its own path: the interpreter finds pyvenv.cfg from it. */
    ps->path = real ? xasprintf("%s%s", real, py + strlen(dir)) : xstrdup(py);
    ps->argv0 = xstrdup(ps->path);
    ps->how = how;
    free(py);
    return 0;
}

/* The interpreter python (a path, or a command name looked up on PATH) into ps->path and
 * ps->argv0, or an error naming --python (none for one a caller found: ps->found). */
static int choose_python(const char *python, struct pyselect *ps, char *err, size_t errlen)
{
    const char *opt = ps->found ? "" : "--python ";
    if (!*python) {
        pyscope_set_err(err, errlen, "%s: give an interpreter's path or name",
                        ps->found ? "the interpreter's name is empty" : "--python is empty");
        return -PYSCOPE_EUSAGE;
    }
    if (strchr(python, '/')) {
        if (!is_exec_file(python)) {
            pyscope_set_err(err, errlen, "%s\"%s\": %s", opt, python,
                            access(python, F_OK) == 0 ? "not an executable file" : strerror(errno));
            return -PYSCOPE_EUSAGE;
        }
        ps->path = xstrdup(python);
    } else {
        ps->path = path_lookup(python);
        if (!ps->path) {
            pyscope_set_err(err, errlen, "%s%s: no such command on PATH", opt, python);
            return -PYSCOPE_EUSAGE;
        }
    }
    ps->argv0 = xstrdup(python);
    return 0;
}

/* Check the chosen ps->path, probe it, and replace a launcher by the binary it starts. */
static int probe_chosen(struct pyselect *ps, char *err, size_t errlen)
{
    int rc = check_path_text(ps, err, errlen);
    if (rc < 0)
        return rc;
    rc = probe(ps, err, errlen);
    if (rc < 0)
        return rc;
    /* A launcher (a pyenv shim is a shell script that execs the interpreter
     * it picks): run the interpreter itself, named as the launcher names it. */
    char *a = realpath(ps->path, NULL),
         *b = ps->executable[0] ? realpath(ps->executable, NULL) : NULL;
    if (a && b && strcmp(a, b) != 0 && ps->executable[0] == '/') {
        free(ps->path);
        free(ps->argv0);
        ps->path = xstrdup(ps->executable);
        ps->argv0 = xstrdup(ps->executable);
    }
    free(a);
    free(b);
    return 0;
}

int pyselect_choose_found(const char *python, const char *how, struct pyselect *ps, char *err,
                          size_t errlen)
{
    memset(ps, 0, sizeof(*ps));
    ps->how = how;
    ps->found = true;
    int rc = choose_python(python, ps, err, errlen);
    return rc < 0 ? rc : probe_chosen(ps, err, errlen);
}

int pyselect_choose(const char *python_opt, const char *venv_opt, struct pyselect *ps, char *err,
                    size_t errlen)
{
    memset(ps, 0, sizeof(*ps));
    const char *venv_env = getenv("VIRTUAL_ENV");
    int rc = 0;
    if (python_opt) {
        ps->how = "--python";
        rc = choose_python(python_opt, ps, err, errlen);
    } else if (venv_opt) {
        rc = choose_venv(venv_opt, "--venv", ps, err, errlen);
    } else if (venv_env && *venv_env) {
        rc = choose_venv(venv_env, "VIRTUAL_ENV", ps, err, errlen);
    } else {
        ps->how = "PATH";
        ps->path = path_lookup("python3");
        if (!ps->path) {
            pyscope_set_err(
                err, errlen,
                "no python3 on PATH: install Python, or say which one with --python PATH "
                "(or --venv DIR)");
            return -PYSCOPE_EUSAGE;
        }
        ps->argv0 = xstrdup("python3");
    }
    return rc < 0 ? rc : probe_chosen(ps, err, errlen);
}

void pyselect_describe(const struct pyselect *ps, char *buf, size_t len)
{
    const char *impl = ps->implementation ? ps->implementation : "?";
    snprintf(buf, len, "%s %d.%d.%d%s%s", strcmp(impl, "cpython") == 0 ? "CPython" : impl,
             ps->major, ps->minor, ps->micro, ps->abiflags && *ps->abiflags ? " abiflags " : "",
             ps->abiflags ? ps->abiflags : "");
}

int pyselect_check(const struct pyselect *ps, const char *shim_dir, char *err, size_t errlen)
{
    char what[128];
    pyselect_describe(ps, what, sizeof(what));
    if (strcmp(ps->implementation, "cpython") != 0 || ps->major != 3 || ps->minor < 10 ||
        ps->minor > 13) {
        pyscope_set_err(err, errlen, "%s (\"%s\"%s%s) is not supported: pyscope-run profiles %s%s",
                        what, ps->path, ps->found ? "" : ", from ", ps->found ? "" : ps->how,
                        PYSELECT_SUPPORTED, ps->found ? "" : "; " CHOOSE_HINT);
        return -PYSCOPE_EUSAGE;
    }
    if (ps->abiflags[0]) {
        pyscope_set_err(
            err, errlen,
            "%s (\"%s\") is a %s build, which is not supported: pyscope-run profiles the "
            "default build of %s",
            what, ps->path, strchr(ps->abiflags, 't') ? "free-threaded" : "debug",
            PYSELECT_SUPPORTED);
        return -PYSCOPE_EUSAGE;
    }
    char *pattern = xasprintf("%s/sitecustomize.cpython-%d%d-*.so", shim_dir, ps->major, ps->minor);
    glob_t g;
    int found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
    if (found)
        globfree(&g);
    free(pattern);
    if (!found) {
        snprintf(
            err, errlen,
            "%s is supported, but this pyscope-run was built without its module (no "
            "sitecustomize.cpython-%d%d-*.so in \"%s\"): install CPython %d.%d with its headers "
            "(e.g. python%d.%d-dev) and rebuild pyscope",
            what, ps->major, ps->minor, shim_dir, ps->major, ps->minor, ps->major, ps->minor);
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

void pyselect_release(struct pyselect *ps)
{
    free(ps->path);
    free(ps->argv0);
    free(ps->venv);
    free(ps->implementation);
    free(ps->abiflags);
    free(ps->executable);
    free(ps->prefix);
    free(ps->build);
    memset(ps, 0, sizeof(*ps));
}

/* PYSCOPE_SHIM_FROM_BIN: where `cmake --install` puts pyshim/, relative to the bin folder
 * ("../lib/pyscope/pyshim" by default; agent/runner/CMakeLists.txt sets it from
 * GNUInstallDirs). */
#ifndef PYSCOPE_SHIM_FROM_BIN
#error "PYSCOPE_SHIM_FROM_BIN is set by agent/runner/CMakeLists.txt"
#endif

char *pyselect_shim_dir_of(const char *exe, char *err, size_t errlen)
{
    char *self = realpath(exe, NULL);
    if (self == NULL) {
        pyscope_set_err(err, errlen, "could not find pyscope-run's folder (\"%s\"): %s", exe,
                        strerror(errno));
        return NULL;
    }
    char *slash = strrchr(self, '/');
    *slash = '\0';
    const char *tries[] = {"/pyshim", "/" PYSCOPE_SHIM_FROM_BIN};
    for (size_t i = 0; i < 2; i++) {
        char *dir = xasprintf("%s%s", self, tries[i]);
        struct stat st;
        bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
        if (ok) {
            char *real = realpath(dir, NULL);
            free(dir);
            if (real) {
                free(self);
                return real;
            }
        } else {
            free(dir);
        }
    }
    pyscope_set_err(err, errlen,
                    "pyscope-run's Python folder is missing (no pyshim/ next to \"%s\" "
                    "or " PYSCOPE_SHIM_FROM_BIN " from it): reinstall pyscope",
                    self);
    free(self);
    return NULL;
}

char *pyselect_shim_dir(char *err, size_t errlen)
{
    return pyselect_shim_dir_of("/proc/self/exe", err, errlen);
}
