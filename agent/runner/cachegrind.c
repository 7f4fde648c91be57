/*
 * cachegrind.c - instruction counts from valgrind's cachegrind.
 *
 * Design notes:
 * - Valgrind runs the interpreter binary (python3 or the virtualenv's
 *   bin/python), not pyscope-run's embedded one: what is counted is the
 *   script as `python3 SCRIPT` runs it, with no profiler, no shared region
 *   and no supervisor code in the process.
 * - The output file is untrusted text (a full disk or a killed valgrind can
 *   cut it short): the parser reads it line by line with a line cap, wants
 *   exactly one "events:" and one "summary:" line, and only whole decimal
 *   numbers; anything else is an error that names what was wrong.
 * - Valgrind's own messages go to a log file in the private folder, so the
 *   script's stderr stays the script's; the log is shown when a run fails.
 */
#include "cachegrind.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "xmalloc.h"

#define CG_FILE_PREFIX "cg."
#define CG_LOG_NAME    "valgrind.log"
#define CG_LOG_TAIL    20 /* lines of the log shown after a failure */

/* Split s (modified) into words separated by spaces or tabs; returns how many, max + 1
 * when there are more than max. */
static size_t cg_words(char *s, char **w, size_t max)
{
    size_t n = 0;
    char *t;
    while ((t = strsep(&s, " \t"))) {
        if (!*t)
            continue;
        if (n == max)
            return max + 1;
        w[n++] = t;
    }
    return n;
}

/* A whole decimal number (digits only) into *v; -PYSCOPE_EPARSE, or -PYSCOPE_ERANGE above
 * INT64_MAX. */
static int cg_number(const char *s, uint64_t *v)
{
    size_t len = strlen(s);
    if (len == 0 || strspn(s, "0123456789") != len)
        return -PYSCOPE_EPARSE;
    if (len > 20)
        return -PYSCOPE_ERANGE;
    errno = 0;
    unsigned long long x = strtoull(s, NULL, 10);
    if (errno == ERANGE || x > (unsigned long long)INT64_MAX)
        return -PYSCOPE_ERANGE;
    *v = (uint64_t)x;
    return 0;
}

#define CG_MAX_EVENTS 64

int cachegrind_parse(FILE *f, uint64_t *ir, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    long ir_index = -1;
    size_t n_events = 0, lineno = 0;
    bool have_events = false, have_summary = false;
    uint64_t total = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len > CACHEGRIND_MAX_LINE) {
            rc = -PYSCOPE_EPARSE;
            pyscope_set_err(err, errlen, "line %zu is longer than %u bytes", lineno,
                            CACHEGRIND_MAX_LINE);
            goto out;
        }
        bool complete = len > 0 && line[len - 1] == '\n';
        if (complete)
            line[len - 1] = '\0';
        if ((size_t)len != strlen(line) + complete) {
            rc = -PYSCOPE_EPARSE;
            pyscope_set_err(err, errlen, "line %zu contains a NUL byte (not a cachegrind file?)",
                            lineno);
            goto out;
        }
        char *words[CG_MAX_EVENTS + 1];
        if (strncmp(line, "events:", 7) == 0) {
            if (have_events) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen, "more than one \"events:\" line");
                goto out;
            }
            have_events = true;
            n_events = cg_words(line + 7, words, CG_MAX_EVENTS);
            if (n_events == 0 || n_events > CG_MAX_EVENTS) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen, "bad \"events:\" line");
                goto out;
            }
            for (size_t i = 0; i < n_events; i++)
                if (strcmp(words[i], "Ir") == 0)
                    ir_index = (long)i;
            if (ir_index < 0) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen, "the \"events:\" line has no Ir (instructions) event");
                goto out;
            }
        } else if (strncmp(line, "summary:", 8) == 0) {
            if (!have_events || have_summary) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen, "%s",
                                have_events ? "more than one \"summary:\" line"
                                            : "a \"summary:\" line before the \"events:\" line");
                goto out;
            }
            if (!complete) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen, "the \"summary:\" line is cut short (truncated file)");
                goto out;
            }
            have_summary = true;
            size_t n = cg_words(line + 8, words, CG_MAX_EVENTS);
            if (n != n_events) {
                rc = -PYSCOPE_EPARSE;
                pyscope_set_err(err, errlen,
                                "the \"summary:\" line does not have one number per event");
                goto out;
            }
            for (size_t i = 0; i < n; i++) {
                uint64_t v;
                int nrc = cg_number(words[i], &v);
                if (nrc < 0) {
                    rc = nrc;
                    pyscope_set_err(err, errlen,
                                    nrc == -PYSCOPE_ERANGE
                                        ? "the \"summary:\" count \"%s\" is too large"
                                        : "the \"summary:\" line has \"%s\", not a whole number",
                                    words[i]);
                    goto out;
                }
                if ((long)i == ir_index)
                    total = v;
            }
        }
    }
    if (ferror(f)) {
        rc = -EIO;
        pyscope_set_err(err, errlen, "read error");
    } else if (!have_events) {
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(err, errlen, "no \"events:\" line (not a cachegrind file)");
    } else if (!have_summary) {
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(err, errlen, "no \"summary:\" line (truncated file)");
    } else {
        *ir = total; /* only a whole, valid file sets it */
    }
out:
    free(line);
    return rc;
}

int cachegrind_read_file(const char *path, uint64_t *ir, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        pyscope_set_err(err, errlen, "%s", strerror(e));
        return -e;
    }
    int rc = cachegrind_parse(f, ir, err, errlen);
    fclose(f);
    return rc;
}

char *cachegrind_find_valgrind(const char *path_env)
{
    if (!path_env || !*path_env)
        return NULL;
    char *copy = xstrdup(path_env);
    char *found = NULL;
    char *rest = copy, *dir;
    while (!found && (dir = strsep(&rest, ":"))) {
        if (!*dir)
            continue; /* an empty entry would mean the current folder: never */
        char *p = xasprintf("%s/valgrind", dir);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
            found = p;
        else
            free(p);
    }
    free(copy);
    return found;
}

const char *cachegrind_hash_seed(bool *from_env)
{
    const char *s = getenv("PYTHONHASHSEED");
    *from_env = s && *s;
    return *from_env ? s : "0";
}

void cachegrind_child_main(void *arg)
{
    const struct cachegrind_run *r = arg;
    if (r->close_fd >= 0)
        close(r->close_fd);
    bool from_env;
    setenv("PYTHONHASHSEED", cachegrind_hash_seed(&from_env), 1);
    char *out = xasprintf("--cachegrind-out-file=%s/" CG_FILE_PREFIX "%%p", r->out_dir);
    char *log = xasprintf("--log-file=%s/" CG_LOG_NAME, r->out_dir);
    /* a script named like an option would be taken for one: python3 ./-x.py */
    char *script = r->script[0] == '-' ? xasprintf("./%s", r->script) : xstrdup(r->script);
    char **argv = xcalloc((size_t)r->argc + 10, sizeof(*argv));
    size_t i = 0;
    argv[i++] = "valgrind";
    argv[i++] = "--tool=cachegrind";
    argv[i++] = "--cache-sim=no";
    argv[i++] = out;
    argv[i++] = log;
    argv[i++] = (char *)r->program;
    argv[i++] = script;
    for (int k = 0; k < r->argc; k++)
        argv[i++] = r->argv[k];
    argv[i] = NULL;
    execv(r->valgrind, argv);
    fprintf(stderr, "pyscope-run: could not run \"%s\": %s\n", r->valgrind, strerror(errno));
    _exit(127);
}

bool cachegrind_valgrind_failed(const struct cachegrind_run *r, int pid)
{
    char *path = xasprintf("%s/" CG_FILE_PREFIX "%d", r->out_dir, pid);
    struct stat st;
    bool none = stat(path, &st) < 0 || !S_ISREG(st.st_mode);
    free(path);
    return none;
}

void cachegrind_print_log(const struct cachegrind_run *r)
{
    char *path = xasprintf("%s/" CG_LOG_NAME, r->out_dir);
    FILE *f = fopen(path, "re");
    free(path);
    if (!f)
        return;
    char *lines[CG_LOG_TAIL] = {0};
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) >= 0) {
        free(lines[n % CG_LOG_TAIL]);
        lines[n % CG_LOG_TAIL] = line;
        line = NULL;
        cap = 0;
        n++;
    }
    free(line);
    fclose(f);
    size_t first = n > CG_LOG_TAIL ? n - CG_LOG_TAIL : 0;
    if (n)
        fprintf(stderr, "pyscope-run: valgrind's log (last %zu lines):\n", n - first);
    for (size_t i = first; i < n; i++)
        fprintf(stderr, "  %s", lines[i % CG_LOG_TAIL]);
    for (size_t i = 0; i < CG_LOG_TAIL; i++)
        free(lines[i]);
}

void cachegrind_discard(const struct cachegrind_run *r)
{
    DIR *d = opendir(r->out_dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", r->out_dir, e->d_name);
        unlink(p);
        free(p);
    }
    closedir(d);
}

int cachegrind_collect(const struct cachegrind_run *r, int pid, uint64_t *ir, char *err,
                       size_t errlen)
{
    char *path = xasprintf("%s/" CG_FILE_PREFIX "%d", r->out_dir, pid);
    char why[256] = "";
    int rc = cachegrind_read_file(path, ir, why, sizeof(why));
    if (rc < 0) {
        pyscope_set_err(err, errlen, "could not read cachegrind's output \"%s\": %s", path, why);
        cachegrind_print_log(r);
    }
    free(path);
    cachegrind_discard(r);
    return rc;
}
