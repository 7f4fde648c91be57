/*
 * util.c - helpers shared by pyscope's subcommands.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "errors.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "sanitize.h"
#include "xmalloc.h"

#define RUNNER_NAME "pyscope-run"

/* Reject what strtol/strtod would silently skip or accept: blanks, hex, empty. */
static bool plain_number_text(const char *s)
{
    if (!s || !*s)
        return false;
    if (*s == '+' || *s == '-')
        s++;
    if (!((*s >= '0' && *s <= '9') || *s == '.'))
        return false;
    return !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        fputs("pyscope: error: ", stderr);
        if (n >= 0) {
            sanitize_fwrite(stderr, msg, (size_t)n, 0); /* it quotes what the user gave */
            log_keep_error(msg);
        }
        fputc('\n', stderr);
        free(msg);
    }
    fprintf(stderr, "Try 'pyscope %s --help' for more information.\n", cmd);
    return PYSCOPE_EXIT_USAGE;
}

int cli_json_error(const char *schema, int status)
{
    const char *code = status == PYSCOPE_EXIT_USAGE    ? "usage"
                       : status == PYSCOPE_EXIT_SCRIPT ? "failed"
                                                       : "internal";
    const char *msg = log_kept_errors();
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:i, s:{s:s, s:o}}", "schema", schema, "pyscope_version",
                  PYSCOPE_VERSION, "status", "error", "exit", status, "error", "code", code,
                  "message", json_string_lossy(*msg ? msg : "see the messages on stderr"));
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (text)
        puts(text);
    fflush(stdout);
    free(text);
    json_decref(doc);
    return status;
}

bool cli_argv_json(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--json") == 0)
            return true;
    return false;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
    if (!plain_number_text(s))
        return -PYSCOPE_EUSAGE;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return -PYSCOPE_EUSAGE;
    if (errno == ERANGE || v < min || v > max)
        return -PYSCOPE_ERANGE;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double min, double max, double *out)
{
    if (!plain_number_text(s))
        return -PYSCOPE_EUSAGE;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0')
        return -PYSCOPE_EUSAGE;
    if (errno == ERANGE || !isfinite(v) || v < min || v > max)
        return -PYSCOPE_ERANGE;
    *out = v;
    return 0;
}

int cli_parse_color(const char *s, enum cli_color *out)
{
    if (strcmp(s, "auto") == 0)
        *out = CLI_COLOR_AUTO;
    else if (strcmp(s, "always") == 0)
        *out = CLI_COLOR_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *out = CLI_COLOR_NEVER;
    else
        return -PYSCOPE_EUSAGE;
    return 0;
}

bool cli_color_enabled(enum cli_color mode, int fd)
{
    if (mode == CLI_COLOR_ALWAYS)
        return true;
    if (mode == CLI_COLOR_NEVER)
        return false;
    const char *no_color = getenv("NO_COLOR");
    if (no_color && *no_color)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fd) == 1;
}

int cli_mkdir_p(const char *path, mode_t mode)
{
    if (path[0] == '\0')
        return -ENOENT;
    if (strspn(path, "/") == strlen(path))
        return 0;
    char *p = xstrdup(path);
    int rc = 0;
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0) {
            struct stat st;
            if (errno != EEXIST) {
                rc = -errno;
                break;
            }
            if (stat(p, &st) < 0) {
                rc = -errno;
                break;
            }
            if (!S_ISDIR(st.st_mode)) {
                rc = -ENOTDIR;
                break;
            }
        }
        if (saved == '\0')
            break;
        *s = saved;
        while (s[1] == '/')
            s++;
    }
    free(p);
    return rc;
}

/* Return a new path "dir/name" when it is an executable regular file, else NULL. */
static char *executable_in(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0)
        return path;
    free(path);
    return NULL;
}

char *cli_find_runner(bool *use_path, char *err, size_t errlen)
{
    *use_path = false;
    const char *env = getenv("PYSCOPE_RUN_BIN");
    if (env && *env) {
        struct stat st;
        if (stat(env, &st) < 0) {
            pyscope_set_err(err, errlen, "PYSCOPE_RUN_BIN \"%s\": %s", env, strerror(errno));
            return NULL;
        }
        if (!S_ISREG(st.st_mode) || access(env, X_OK) < 0) {
            pyscope_set_err(err, errlen, "PYSCOPE_RUN_BIN \"%s\" is not an executable file", env);
            return NULL;
        }
        return xstrdup(env);
    }

    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            const char *dir = self[0] ? self : "/";
            char *found = executable_in(dir, RUNNER_NAME);
            if (!found) {
                char *build = xasprintf("%s/../agent/runner", dir);
                found = executable_in(build, RUNNER_NAME);
                free(build);
            }
            if (found)
                return found;
        }
    }
    *use_path = true;
    return xstrdup(RUNNER_NAME);
}

char *cli_report_name(const struct timespec *ts)
{
    struct tm tm;
    char stamp[32];
    time_t sec = ts->tv_sec;
    gmtime_r(&sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H-%M-%S", &tm);
    return xasprintf("pyscope_report_%s.%06ldZ", stamp, (long)(ts->tv_nsec / 1000));
}

unsigned cli_history_flags(void)
{
    const char *v = getenv("PYSCOPE_HISTORY_INDEX");
    if (v && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0))
        return 0;
    return HISTORY_INDEX_READ | HISTORY_INDEX_WRITE;
}

int cli_read_file(const char *path, size_t cap, char **buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = cli_read_fd(fd, cap, buf, len);
    close(fd);
    return rc;
}

int cli_read_fd(int fd, size_t cap, char **buf, size_t *len)
{
    size_t size = 0, alloc = 65536;
    char *data = xmalloc(alloc);
    int rc = 0;
    for (;;) {
        if (size + 1 >= alloc) {
            if (alloc > cap) {
                rc = -PYSCOPE_ETOOBIG;
                break;
            }
            alloc *= 2;
            data = xrealloc(data, alloc);
        }
        ssize_t got = read(fd, data + size, alloc - size - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -errno;
            break;
        }
        if (got == 0)
            break;
        size += (size_t)got;
        if (size > cap) {
            rc = -PYSCOPE_ETOOBIG;
            break;
        }
    }
    if (rc < 0) {
        free(data);
        return rc;
    }
    data[size] = '\0';
    *buf = data;
    *len = size;
    return 0;
}

int cli_write_json_atomic(const char *path, const json_t *json, size_t flags)
{
    struct atomicfile af;
    int rc = atomic_open(&af, path);
    if (rc < 0)
        return rc;
    errno = 0;
    if (json_dumpf(json, af.f, flags) < 0 || fputc('\n', af.f) == EOF)
        rc = errno ? -errno : -EIO;
    return atomic_commit(&af, path, rc);
}

int cli_write_html_atomic(const char *path, cli_html_fn fn, const json_t *doc, const char *what)
{
    struct atomicfile af;
    int rc = atomic_open(&af, path);
    if (rc < 0) {
        log_error("could not write %s \"%s\": %s", what, path, strerror(-rc));
        return -1;
    }
    char err[256] = "";
    int wrc = fn(af.f, doc, err, sizeof(err));
    rc = atomic_commit(&af, path, wrc);
    if (wrc < 0)
        log_error("could not render %s \"%s\": %s", what, path,
                  err[0] ? err : pyscope_strerror(wrc));
    else if (rc < 0)
        log_error("could not write %s \"%s\": %s", what, path, strerror(-rc));
    return rc < 0 ? -1 : 0;
}

char *cli_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int cli_option_error(const char *cmd, int c, const char *prev)
{
    if (c == ':')
        return cli_usage_error(cmd, "option %s needs a value", prev);
    if (optopt >= 256)
        return cli_usage_error(cmd, "option %s takes no value", prev);
    if (optopt)
        return cli_usage_error(cmd, "unknown option -%c", optopt);
    return cli_usage_error(cmd, "unknown or ambiguous option %s", prev);
}

int cli_check_out_file(const char *cmd, const char *what, const char *path)
{
    if (!path)
        return 0;
    char *copy = xstrdup(path);
    const char *dir = dirname(copy);
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) < 0)
        rc = cli_usage_error(cmd, "could not write %s \"%s\": %s", what, path, strerror(errno));
    else if (!S_ISDIR(st.st_mode))
        rc = cli_usage_error(cmd, "could not write %s \"%s\": %s", what, path, strerror(ENOTDIR));
    free(copy);
    return rc;
}
