/*
 * config.c - pyscope.ini: regression thresholds per project and per script.
 *
 * libinih does the INI syntax; it is fed through a reader over the file's
 * bytes that counts lines, so the handler can name the line it refuses.
 * inih returns the line of the first error of any kind (its own syntax errors
 * or the handler's); the handler remembers its first message and line, and
 * when inih's line is earlier the problem was a syntax error.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confval.h"
#include "errors.h"
#include "pathnorm.h"
#include "xmalloc.h"

#define CONFIG_SECTION_REGRESSION "regression"
#define CONFIG_SECTION_SCRIPT     "script"

/* Parser state: the reader's position and the handler's results. */
struct config_parse {
    const char *text; /* remaining input (borrowed) */
    int line;         /* line the last chunk came from (1-based) */
    bool at_line_start;
    int too_long_line; /* first line longer than inih's buffer, 0: none */
    int max_line;      /* inih's buffer size */
    struct config *c;
    char *cur_section;   /* last section seen (owned), to spot a new one */
    int regression_line; /* the line [regression]'s threshold was set on, 0: not yet */
    int err_line;        /* first handler error, 0: none */
    char err_msg[256];
};

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    c->threshold_pct = -1;
}

void config_release(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_scripts; i++)
        free(c->scripts[i].pattern);
    free(c->scripts);
    free(c->path);
    config_init(c);
}

/* inih reader (fgets-like) over p->text; counts lines. */
static char *config_reader(char *str, int num, void *stream)
{
    struct config_parse *p = stream;
    if (!*p->text || num < 2)
        return NULL;
    p->max_line = num;
    if (p->at_line_start)
        p->line++;
    size_t max = (size_t)num - 1, i = 0;
    while (i < max && p->text[i] && p->text[i] != '\n')
        i++;
    bool newline = i < max && p->text[i] == '\n';
    if (newline)
        i++;
    memcpy(str, p->text, i);
    str[i] = '\0';
    p->text += i;
    p->at_line_start = newline || !*p->text;
    if (!p->at_line_start && !p->too_long_line)
        p->too_long_line = p->line;
    return str;
}

static int config_fail(struct config_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int config_fail(struct config_parse *p, const char *fmt, ...)
{
    if (!p->err_line) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err_msg, sizeof(p->err_msg), fmt, ap);
        va_end(ap);
        p->err_line = p->line;
    }
    return 0;
}

int config_parse_threshold(const char *s, double *out)
{
    if (!*s || *s == ' ' || *s == '\t' || *s == '+' || *s == '-')
        return -1;
    for (const char *q = s; *q; q++)
        if (*q == 'x' || *q == 'X' || *q == 'n' || *q == 'N' || *q == 'i' || *q == 'I')
            return -1; /* no hex, nan, inf */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end == '%')
        end++;
    if (*end || !isfinite(v) || v <= 0 || v > CONFIG_MAX_THRESHOLD_PCT)
        return -1;
    *out = v;
    return 0;
}

/*
 * Split a section name: "regression" or `script "PATTERN"`. Returns 1 for
 * regression, 2 for script (with *pattern new), 0 for anything else.
 */
static int config_section_kind(const char *section, char **pattern)
{
    *pattern = NULL;
    if (strcmp(section, CONFIG_SECTION_REGRESSION) == 0)
        return 1;
    size_t n = strlen(CONFIG_SECTION_SCRIPT);
    if (strncmp(section, CONFIG_SECTION_SCRIPT, n) != 0)
        return 0;
    const char *s = section + n;
    while (*s == ' ' || *s == '\t')
        s++;
    if (s == section + n || *s != '"')
        return 0;
    s++;
    const char *end = strrchr(s, '"');
    if (!end || end[1] != '\0' || end == s)
        return 0;
    *pattern = xstrndup(s, (size_t)(end - s));
    return 2;
}

/* inih handler: one name = value in section. Nonzero on success. */
static int config_handler(void *user, const char *section, const char *name, const char *value)
{
    struct config_parse *p = user;
    struct config *c = p->c;
    bool new_section = !p->cur_section || strcmp(p->cur_section, section) != 0;
    char *pattern;
    int kind = config_section_kind(section, &pattern);
    if (!*section) {
        free(pattern);
        return config_fail(p, "\"%s\" outside any section (put it under [regression])", name);
    }
    if (kind == 0)
        return config_fail(
            p, "unknown section [%s] (expected [regression] or [script \"PATTERN\"])", section);
    if (new_section) {
        free(p->cur_section);
        p->cur_section = xstrdup(section);
        if (kind == 2) {
            c->scripts = xreallocarray(c->scripts, c->n_scripts + 1, sizeof(*c->scripts));
            c->scripts[c->n_scripts++] =
                (struct config_script){.pattern = pattern, .threshold_pct = -1};
            pattern = NULL;
        }
    }
    free(pattern);
    if (strcmp(name, "threshold") != 0)
        return config_fail(p, "unknown key \"%s\" in [%s] (expected threshold)", name, section);
    /* Set twice: the first line would have been ignored without a word (stranger19's minor
     * 18). A suite file refuses it too (cli/suite.c); here the first line is named. */
    int first = kind == 1 ? p->regression_line : c->scripts[c->n_scripts - 1].line;
    if (first)
        return config_fail(p, "\"threshold\" set twice in [%s] (first on line %d)", section, first);
    double v;
    if (config_parse_threshold(value, &v) < 0)
        return config_fail(p,
                           "invalid threshold \"%s\" (expected a percentage above 0 and at most "
                           "%g, such as 5%%)",
                           value, CONFIG_MAX_THRESHOLD_PCT);
    if (kind == 1) {
        c->threshold_pct = v;
        p->regression_line = p->line;
    } else {
        c->scripts[c->n_scripts - 1].threshold_pct = v;
        c->scripts[c->n_scripts - 1].line = p->line;
    }
    return 1;
}

int config_parse_string(const char *text, const char *name, struct config *c, char *err,
                        size_t errlen)
{
    config_init(c);
    struct config_parse p = {.text = text, .at_line_start = true, .c = c};
    int rc = ini_parse_stream(config_reader, &p, config_handler, &p);
    free(p.cur_section);
    if (rc == -2) {
        pyscope_set_err(err, errlen, "%s: out of memory", name);
        return -ENOMEM;
    }
    if (p.too_long_line && (rc == 0 || p.too_long_line <= rc)) {
        pyscope_set_err(err, errlen, "%s:%d: line too long (at most %d characters)", name,
                        p.too_long_line, p.max_line - 3);
        return -PYSCOPE_EPARSE;
    }
    if (rc == 0)
        return 0;
    if (p.err_line && p.err_line == rc)
        pyscope_set_err(err, errlen, "%s:%d: %s", name, rc, p.err_msg);
    else
        pyscope_set_err(err, errlen, "%s:%d: syntax error (expected [section] or name = value)",
                        name, rc);
    return -PYSCOPE_EPARSE;
}

int config_load_file(const char *path, struct config *c, char *err, size_t errlen)
{
    config_init(c);
    FILE *f = confval_open(path, NULL, err, errlen);
    if (!f)
        return -errno;
    char *buf = xmalloc(CONFIG_MAX_BYTES + 1);
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    int rc = 0;
    if (ferror(f)) {
        rc = -EIO;
        pyscope_set_err(err, errlen, "could not read \"%s\": %s", path, strerror(EIO));
    } else if (n > CONFIG_MAX_BYTES) {
        rc = -PYSCOPE_ETOOBIG;
        pyscope_set_err(err, errlen, "\"%s\" is larger than %zu bytes", path, CONFIG_MAX_BYTES);
    } else if (memchr(buf, '\0', n)) {
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(err, errlen, "%s: not a text file (holds a NUL byte)", path);
    }
    fclose(f);
    if (rc == 0) {
        buf[n] = '\0';
        rc = config_parse_string(buf, path, c, err, errlen);
    }
    free(buf);
    if (c->path == NULL)
        c->path = xstrdup(path);
    return rc;
}

char *config_find(const char *script_path)
{
    char *dir = NULL;
    struct stat st;
    if (stat(script_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        dir = xstrdup(script_path);
    } else {
        const char *slash = strrchr(script_path, '/');
        dir = slash
                  ? xstrndup(script_path, slash == script_path ? 1 : (size_t)(slash - script_path))
                  : xstrdup(".");
    }
    char *root = pathnorm_find_root(dir);
    free(dir);
    if (!root)
        return NULL;
    char *path = xasprintf("%s%s%s", root, strcmp(root, "/") == 0 ? "" : "/", CONFIG_FILE_NAME);
    free(root);
    if (stat(path, &st) < 0) {
        free(path);
        return NULL;
    }
    return path;
}

double config_threshold_pct(const struct config *c, const char *script_key, int *line)
{
    if (line)
        *line = 0;
    if (!c)
        return -1;
    for (size_t i = c->n_scripts; i-- > 0;) {
        const struct config_script *s = &c->scripts[i];
        if (s->threshold_pct > 0 && script_key &&
            fnmatch(s->pattern, script_key, FNM_PATHNAME) == 0) {
            if (line)
                *line = s->line;
            return s->threshold_pct;
        }
    }
    return c->threshold_pct > 0 ? c->threshold_pct : -1;
}
