/*
 * suite.c - suite files parsed with libinih, validated with line numbers.
 *
 * libinih does not tell its handler the line a key came from (Debian builds it
 * without INI_HANDLER_LINENO), and it does not report empty sections, so the
 * text is fed through our own line reader (ini_parse_stream): it counts lines,
 * notices section headers itself (so "[script x]" with no keys still counts),
 * refuses NUL bytes and over-long lines, and remembers whether a line is an
 * indented continuation. The handler then knows the line of every key.
 */
#include "suite.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confval.h"
#include "errors.h"
#include "jobenv.h"
#include "pyreq.h"
#include "pathnorm.h"
#include "sanitize.h"
#include "xmalloc.h"

/* Longest line taken, newline excluded: libinih's buffer (INI_MAX_LINE, 200 in Debian's
 * build) holds the line, the newline the reader adds and the NUL. */
#define SUITE_MAX_LINE 198
/* Messages kept in full; a last line counts the others. */
#define SUITE_MAX_ERRS 50

/* Which keys a section set (defaults are applied at the end). */
enum {
    SUITE_SET_REPEAT = 1 << 0,
    SUITE_SET_WARMUP = 1 << 1,
    SUITE_SET_MODE = 1 << 2,
    SUITE_SET_TIMEOUT = 1 << 3,
    SUITE_SET_THRESHOLD = 1 << 4,
    SUITE_SET_ARGS = 1 << 5,
    SUITE_SET_NAME = 1 << 6,
    SUITE_SET_HOSTS = 1 << 7,
    SUITE_SET_LABEL = 1 << 8,
    SUITE_SET_REFERENCE = 1 << 9,
    SUITE_SET_PYTHON = 1 << 10,
    SUITE_SET_INSTRUCTIONS = 1 << 11,
    SUITE_SET_INTERVAL = 1 << 12,
};

/* One section as seen while parsing. */
struct suite_section {
    bool is_suite;        /* [suite], else [script PATH] (or a bad header) */
    bool bad;             /* header refused; its keys are ignored */
    unsigned line;        /* line of the header */
    unsigned set;         /* SUITE_SET_* bits */
    char *args_text;      /* raw args value, continuation lines joined */
    unsigned args_line;   /* line of the args key */
    struct suite_entry e; /* values being filled in (script sections) */
};

/* One problem: its line (0: the whole file) and text "FILE:LINE: msg". */
struct suite_msg {
    unsigned line, seq;
    char *text;
};

/* Problems kept to be sorted (the first SUITE_MAX_ERRS in line order are shown). */
#define SUITE_KEEP_ERRS 4096

/* Parser state shared by the reader and the handler. */
struct suite_parse {
    const char *fname; /* for messages (borrowed) */
    const char *text;  /* the input (borrowed) */
    size_t len, pos;   /* its length, next byte to read */
    unsigned line;     /* line number of the line last handed to libinih */
    bool continuation; /* that line starts with a blank */
    char *last_key;    /* key of the last handled pair in this section (continuations) */
    struct suite_section *secs;
    size_t n_secs;
    struct suite suite; /* [suite] values */
    unsigned suite_set;
    char *reference;         /* [suite]'s reference key, or NULL */
    unsigned reference_line; /* its line */
    struct suite_msg *errs;  /* the problems found, in the order found */
    size_t n_kept;           /* of them kept (at most SUITE_KEEP_ERRS) */
    unsigned n_errs;         /* found in all */
};

/* Keep "FILE:LINE: msg" (or "FILE: msg" for line 0) as a problem of line. */
static void suite_err_append(struct suite_parse *p, unsigned line, const char *msg)
{
    if (p->n_kept == SUITE_KEEP_ERRS)
        return;
    /* messages quote the file's text: control and bidi characters are shown escaped */
    char *safe = sanitize_dup(msg, 0);
    char *l =
        line ? xasprintf("%s:%u: %s", p->fname, line, safe) : xasprintf("%s: %s", p->fname, safe);
    free(safe);
    if (p->n_kept % 64 == 0)
        p->errs = xrealloc(p->errs, (p->n_kept + 64) * sizeof(*p->errs));
    p->errs[p->n_kept] = (struct suite_msg){line, (unsigned)p->n_kept, l};
    p->n_kept++;
}

/* Line order (whole-file problems last), then the order found. */
static int suite_msg_cmp(const void *a, const void *b)
{
    const struct suite_msg *x = a, *y = b;
    unsigned lx = x->line ? x->line : UINT_MAX, ly = y->line ? y->line : UINT_MAX;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The problems in line order, the first SUITE_MAX_ERRS, into err; frees them. */
static void suite_errs_finish(struct suite_parse *p, char *err, size_t errlen)
{
    qsort(p->errs, p->n_kept, sizeof(*p->errs), suite_msg_cmp);
    size_t used = 0;
    if (err && errlen)
        err[0] = '\0';
    for (size_t i = 0; i < p->n_kept; i++) {
        if (i < SUITE_MAX_ERRS && err && used < errlen) {
            int n = snprintf(err + used, errlen - used, "%s%s", i ? "\n" : "", p->errs[i].text);
            used += n > 0 ? (size_t)n : 0;
        }
        free(p->errs[i].text);
    }
    if (p->n_errs > SUITE_MAX_ERRS && err && used < errlen)
        snprintf(err + used, errlen - used, "\n%s: %u more problems", p->fname,
                 p->n_errs - SUITE_MAX_ERRS);
    free(p->errs);
    p->errs = NULL;
    p->n_kept = 0;
}

static void suite_err(struct suite_parse *p, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Count a problem and keep its message (shown in line order: suite_errs_finish). */
static void suite_err(struct suite_parse *p, unsigned line, const char *fmt, ...)
{
    p->n_errs++;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    suite_err_append(p, line, msg);
}

/* True when s is valid UTF-8 without control characters (tab allowed). */
static bool suite_text_ok(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        if (*u < 0x80) {
            if ((*u < 0x20 && *u != '\t') || *u == 0x7f)
                return false;
            u++;
            continue;
        }
        int n;
        unsigned cp;
        if ((*u & 0xe0) == 0xc0) {
            n = 1;
            cp = *u & 0x1f;
        } else if ((*u & 0xf0) == 0xe0) {
            n = 2;
            cp = *u & 0x0f;
        } else if ((*u & 0xf8) == 0xf0) {
            n = 3;
            cp = *u & 0x07;
        } else {
            return false;
        }
        u++;
        for (int i = 0; i < n; i++, u++) {
            if ((*u & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (*u & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
    }
    return true;
}

/* Copy of s[0..n) with blanks trimmed on both ends (caller owns). */
static char *suite_trimmed(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return xstrndup(s, n);
}

/* Validate a script path from a suite: relative, normalized, inside the workspace. */
static const char *suite_check_script(const char *path)
{
    if (!*path)
        return "empty script path";
    if (strlen(path) > SUITE_MAX_STRING)
        return "script path too long";
    if (!suite_text_ok(path))
        return "script path is not valid UTF-8 text";
    if (strchr(path, '\t')) /* suite_text_ok() lets tabs through; no path takes one */
        return "script path holds a tab";
    if (path[0] == '/')
        return "script path must be relative to the workspace, not absolute";
    if (strchr(path, '\\'))
        return "script path must use '/' separators";
    char *c = pathnorm_clean(path);
    const char *why = NULL;
    if (strcmp(c, "..") == 0 || strncmp(c, "../", 3) == 0)
        why = "script path leaves the workspace ('..')";
    else if (strcmp(c, path) != 0)
        why = "script path is not normalized (no '.', '..', '//' or trailing '/')";
    free(c);
    return why;
}

/* Start a new section from a header line (text between '[' and ']'). */
static void suite_new_section(struct suite_parse *p, const char *inner, size_t n)
{
    p->secs = xreallocarray(p->secs, p->n_secs + 1, sizeof(*p->secs));
    struct suite_section *s = &p->secs[p->n_secs++];
    memset(s, 0, sizeof(*s));
    s->line = p->line;
    free(p->last_key);
    p->last_key = NULL;
    char *name = suite_trimmed(inner, n);
    if (strcmp(name, "suite") == 0) {
        s->is_suite = true;
        for (size_t i = 0; i + 1 < p->n_secs; i++) {
            if (p->secs[i].is_suite) {
                suite_err(p, p->line, "second [suite] section (the first is on line %u)",
                          p->secs[i].line);
                s->bad = true;
                break;
            }
        }
    } else if (strncmp(name, "script", 6) == 0 && (name[6] == ' ' || name[6] == '\t')) {
        char *path = suite_trimmed(name + 7, strlen(name + 7));
        size_t pl = strlen(path);
        if (pl >= 2 && path[0] == '"' && path[pl - 1] == '"') {
            char *unq = xstrndup(path + 1, pl - 2);
            free(path);
            path = unq;
        }
        const char *why = suite_check_script(path);
        if (why) {
            suite_err(p, p->line, "%s: \"%s\"", why, path);
            s->bad = true;
            free(path);
        } else {
            s->e.script = path;
            s->e.line = p->line;
        }
    } else if (strcmp(name, "script") == 0) {
        suite_err(p, p->line, "[script] needs a path: [script examples/slow_script.py]");
        s->bad = true;
    } else {
        suite_err(p, p->line, "unknown section [%s] (expected [suite] or [script PATH])",
                  suite_text_ok(name) ? name : "?");
        s->bad = true;
    }
    free(name);
}

/* libinih's line reader: fgets over our buffer, with line bookkeeping. */
static char *suite_reader(char *str, int num, void *stream)
{
    struct suite_parse *p = stream;
    if (p->pos >= p->len)
        return NULL;
    const char *start = p->text + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - start) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->line++;
    if (memchr(start, '\0', n)) {
        suite_err(p, p->line, "NUL byte in line");
        n = 0;
    } else if (n > SUITE_MAX_LINE || (int)n + 2 > num) {
        suite_err(p, p->line,
                  "line too long (at most %d bytes; continue a value on indented "
                  "lines)",
                  SUITE_MAX_LINE);
        n = 0;
    }
    memcpy(str, start, n);
    str[n] = '\n';
    str[n + 1] = '\0';
    p->continuation = n > 0 && (start[0] == ' ' || start[0] == '\t');
    /* A section header: first non-blank character '['. */
    size_t i = 0;
    while (i < n && (start[i] == ' ' || start[i] == '\t'))
        i++;
    if (i < n && start[i] == '[') {
        const char *close = memchr(start + i, ']', n - i);
        if (close)
            suite_new_section(p, start + i + 1, (size_t)(close - start - i - 1));
    }
    return str;
}

/* Parse a whole number in [lo, hi]. */
static bool suite_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    if (!*v || *v == '-' || *v == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return false;
    *out = (unsigned)x;
    return true;
}

/* Parse a duration: a number of seconds, optionally suffixed s, m or h. */
static bool suite_duration(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return false;
    double mul = 1;
    if (*end == 's')
        end++;
    else if (*end == 'm') {
        mul = 60;
        end++;
    } else if (*end == 'h') {
        mul = 3600;
        end++;
    }
    x *= mul;
    if (*end || !(x > 0) || x > 7 * 24 * 3600.0)
        return false;
    *out = x;
    return true;
}

/* Parse a sampling period in milliseconds, 0.1 to 1000 (the wire's microseconds). */
static bool suite_interval(const char *v, unsigned *out_us)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || *end || !isfinite(x) || x < 0.1 || x > 1000)
        return false;
    *out_us = (unsigned)llround(x * 1000);
    return true;
}

/* Parse a threshold: "5%" or a fraction "0.05"; (0, 10]. */
static bool suite_threshold(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return false;
    if (*end == '%') {
        x /= 100;
        end++;
    }
    if (*end || !(x > 0) || x > 10)
        return false;
    *out = x;
    return true;
}

/* True when s is a valid suite name. */
static bool suite_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* Handle a key common to [suite] and [script]: repeat, warmup, mode, timeout, threshold,
 * instructions, interval_ms. */
static bool suite_common_key(struct suite_parse *p, unsigned *set, struct suite_entry *e,
                             const char *name, const char *value)
{
    unsigned bit;
    bool ok = true;
    const char *want = NULL;
    if (strcmp(name, "repeat") == 0) {
        bit = SUITE_SET_REPEAT;
        ok = suite_uint(value, 1, 1000, &e->repeat);
        want = "a whole number from 1 to 1000";
    } else if (strcmp(name, "warmup") == 0) {
        bit = SUITE_SET_WARMUP;
        ok = suite_uint(value, 0, 100, &e->warmup);
        want = "a whole number from 0 to 100";
    } else if (strcmp(name, "mode") == 0) {
        bit = SUITE_SET_MODE;
        if (strcmp(value, "sample") == 0)
            e->mode = SUITE_MODE_SAMPLE;
        else if (strcmp(value, "trace") == 0)
            e->mode = SUITE_MODE_TRACE;
        else
            ok = false;
        want = "\"sample\" or \"trace\"";
    } else if (strcmp(name, "timeout") == 0) {
        bit = SUITE_SET_TIMEOUT;
        ok = suite_duration(value, &e->timeout_s);
        want = "a positive duration in seconds (30, 2.5s, 5m, 1h; at most a week)";
    } else if (strcmp(name, "threshold") == 0) {
        bit = SUITE_SET_THRESHOLD;
        ok = suite_threshold(value, &e->threshold);
        want = "a percentage (5%) or a fraction (0.05) above 0";
    } else if (strcmp(name, "interval_ms") == 0) {
        bit = SUITE_SET_INTERVAL;
        ok = suite_interval(value, &e->interval_us);
        want = "a sampling period in milliseconds from 0.1 to 1000";
    } else if (strcmp(name, "instructions") == 0) {
        bit = SUITE_SET_INSTRUCTIONS;
        ok = confval_onoff(value, &e->instructions) == 0;
        want = CONFVAL_ONOFF_WORDS;
    } else {
        return false;
    }
    if (*set & bit)
        suite_err(p, p->line, "\"%s\" set twice in this section", name);
    *set |= bit;
    if (!ok)
        suite_err(p, p->line, "%s takes %s, not \"%s\"", name, want,
                  suite_text_ok(value) ? value : "?");
    return true;
}

/* Set a [suite] string field once. */
static void suite_set_string(struct suite_parse *p, unsigned bit, char **field, const char *name,
                             const char *value)
{
    if (p->suite_set & bit)
        suite_err(p, p->line, "\"%s\" set twice in this section", name);
    p->suite_set |= bit;
    free(*field);
    *field = xstrdup(value);
}

/* `python = 3.12, 3.13`: the Pythons e runs under, one job each (lib/pyreq.h). */
static void suite_set_pythons(struct suite_parse *p, unsigned *set, struct suite_entry *e,
                              const char *value)
{
    if (*set & SUITE_SET_PYTHON)
        suite_err(p, p->line, "\"python\" set twice in this section");
    *set |= SUITE_SET_PYTHON;
    suite_free_args(e->pythons, e->n_pythons);
    e->pythons = NULL;
    e->n_pythons = 0;
    unsigned errs = p->n_errs;
    char *copy = xstrdup(value), *save = NULL;
    for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        char why[160];
        if (pyreq_check(t, why, sizeof(why)) < 0) {
            suite_err(p, p->line, "python: \"%s\" is %s", suite_text_ok(t) ? t : "?", why);
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < e->n_pythons; i++)
            dup |= strcmp(e->pythons[i], t) == 0;
        if (dup) {
            suite_err(p, p->line, "python: %s named twice", t);
            continue;
        }
        if (e->n_pythons == SUITE_MAX_PYTHONS) {
            suite_err(p, p->line, "python: at most %d Pythons", SUITE_MAX_PYTHONS);
            break;
        }
        e->pythons = xreallocarray(e->pythons, e->n_pythons + 1, sizeof(*e->pythons));
        e->pythons[e->n_pythons++] = xstrdup(t);
    }
    free(copy);
    if (e->n_pythons == 0 && p->n_errs == errs)
        suite_err(p, p->line, "python is empty (a version such as 3.12, or a list: 3.12, 3.13)");
}

/* Add an `env = NAME=VALUE` line to e (each is checked: lib/jobenv.h). */
static void suite_add_env(struct suite_parse *p, struct suite_entry *e, const char *value)
{
    char why[256];
    if (jobenv_check(value, why, sizeof(why))) {
        suite_err(p, p->line, "env: %s", why);
        return;
    }
    size_t len = jobenv_name_len(value);
    for (size_t i = 0; i < e->n_env; i++) {
        if (jobenv_name_len(e->env[i]) == len && strncmp(e->env[i], value, len) == 0) {
            suite_err(p, p->line, "env: %.*s set twice in this section", (int)len, value);
            return;
        }
    }
    if (e->n_env == JOBENV_MAX_VARS) {
        suite_err(p, p->line, "env: too many variables (at most %u)", JOBENV_MAX_VARS);
        return;
    }
    e->env = xreallocarray(e->env, e->n_env + 1, sizeof(*e->env));
    e->env[e->n_env++] = xstrdup(value);
}

static int suite_handler(void *user, const char *section, const char *name, const char *value)
{
    struct suite_parse *p = user;
    (void)section;
    if (p->n_secs == 0) {
        suite_err(p, p->line, "\"%s\" outside any section (start with [suite] or [script PATH])",
                  suite_text_ok(name) ? name : "?");
        return 1;
    }
    struct suite_section *s = &p->secs[p->n_secs - 1];
    if (s->bad)
        return 1;
    /* An indented line continues the previous key; only args and env may span lines
     * (each env line is one more variable). */
    if (p->continuation && p->last_key && strcmp(p->last_key, name) == 0) {
        if (strcmp(name, "args") == 0 && !s->is_suite) {
            char *j = xasprintf("%s %s", s->args_text, value);
            free(s->args_text);
            s->args_text = j;
        } else if (strcmp(name, "env") == 0) {
            suite_add_env(p, &s->e, value);
        } else {
            suite_err(p, p->line, "only \"args\" and \"env\" may continue on the next line");
        }
        return 1;
    }
    free(p->last_key);
    p->last_key = xstrdup(name);
    if (!suite_text_ok(value)) {
        suite_err(p, p->line,
                  "value of \"%s\" has a control character or is not valid UTF-8 text: \"%s\"",
                  suite_text_ok(name) ? name : "?", value);
        return 1;
    }
    if (strlen(value) > SUITE_MAX_STRING) {
        suite_err(p, p->line, "value of \"%s\" is too long", name);
        return 1;
    }
    if (strcmp(name, "env") == 0) {
        suite_add_env(p, &s->e, value);
        return 1;
    }
    if (strcmp(name, "python") == 0) {
        suite_set_pythons(p, s->is_suite ? &p->suite_set : &s->set, &s->e, value);
        return 1;
    }
    if (s->is_suite) {
        struct suite_entry *d = &s->e;
        if (suite_common_key(p, &p->suite_set, d, name, value))
            return 1;
        if (strcmp(name, "name") == 0) {
            if (!suite_name_ok(value))
                suite_err(p, p->line,
                          "name takes 1 to 64 characters of A-Z a-z 0-9 _ . -, not \"%s\"", value);
            suite_set_string(p, SUITE_SET_NAME, &p->suite.name, name, value);
        } else if (strcmp(name, "hosts") == 0) {
            if (!*value)
                suite_err(p, p->line, "hosts is empty (all, NAME,... or label=VALUE)");
            suite_set_string(p, SUITE_SET_HOSTS, &p->suite.hosts, name, value);
        } else if (strcmp(name, "label") == 0) {
            suite_set_string(p, SUITE_SET_LABEL, &p->suite.label, name, value);
        } else if (strcmp(name, "reference") == 0) {
            const char *why = suite_check_script(value);
            if (why)
                suite_err(p, p->line, "reference: %s: \"%s\"", why,
                          suite_text_ok(value) ? value : "?");
            suite_set_string(p, SUITE_SET_REFERENCE, &p->reference, name, value);
            p->reference_line = p->line;
        } else {
            suite_err(p, p->line,
                      "unknown key \"%s\" in [suite] (name, hosts, label, reference, repeat, "
                      "warmup, mode, interval_ms, timeout, threshold, instructions, env, python)",
                      suite_text_ok(name) ? name : "?");
        }
        return 1;
    }
    if (suite_common_key(p, &s->set, &s->e, name, value))
        return 1;
    if (strcmp(name, "args") == 0) {
        if (s->set & SUITE_SET_ARGS)
            suite_err(p, p->line, "\"args\" set twice in this section");
        s->set |= SUITE_SET_ARGS;
        free(s->args_text);
        s->args_text = xstrdup(value);
        s->args_line = p->line;
    } else {
        suite_err(p, p->line,
                  "unknown key \"%s\" in [script] (args, repeat, warmup, mode, interval_ms, "
                  "timeout, threshold, instructions, env, python)",
                  suite_text_ok(name) ? name : "?");
    }
    return 1;
}

static void suite_entry_release(struct suite_entry *e)
{
    free(e->script);
    suite_free_args(e->args, e->n_args);
    suite_free_args(e->env, e->n_env);
    suite_free_args(e->pythons, e->n_pythons);
    memset(e, 0, sizeof(*e));
}

void suite_destroy(struct suite **s)
{
    if (!s || !*s)
        return;
    for (size_t i = 0; i < (*s)->n_entries; i++)
        suite_entry_release(&(*s)->entries[i]);
    free((*s)->entries);
    free((*s)->name);
    free((*s)->hosts);
    free((*s)->label);
    if ((*s)->reference)
        suite_entry_release((*s)->reference);
    free((*s)->reference);
    free(*s);
    *s = NULL;
}

/* Default suite name from a file name: its stem, cleaned to the allowed characters. */
static char *suite_default_name(const char *fname)
{
    const char *b = strrchr(fname, '/');
    b = b ? b + 1 : fname;
    char *n = xstrdup(b);
    char *dot = strrchr(n, '.');
    if (dot && dot != n)
        *dot = '\0';
    size_t len = strlen(n);
    if (len > 64)
        n[64] = '\0';
    for (char *c = n; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-'))
            *c = '_';
    if (!*n) {
        free(n);
        n = xstrdup("suite");
    }
    return n;
}

/* The reference script's entry (new): [suite]'s repeat, warm-up and timeout (defs; set
 * in p->suite_set), else the defaults. */
static struct suite_entry *suite_reference(const struct suite_parse *p,
                                           const struct suite_entry *defs)
{
    unsigned ds = p->suite_set;
    struct suite_entry *r = xcalloc(1, sizeof(*r));
    r->script = p->reference;
    r->repeat = (ds & SUITE_SET_REPEAT) ? defs->repeat : SUITE_DEFAULT_REPEAT;
    r->warmup = (ds & SUITE_SET_WARMUP) ? defs->warmup : SUITE_DEFAULT_WARMUP;
    r->mode = SUITE_MODE_SAMPLE;
    r->timeout_s = (ds & SUITE_SET_TIMEOUT) ? defs->timeout_s : SUITE_DEFAULT_TIMEOUT;
    r->line = p->reference_line;
    return r;
}

/*
 * What script section sec does not set, from [suite] (defs, NULL: none; its settings those
 * in p->suite_set), else the defaults; [suite]'s variables go first in its environment,
 * unless the script sets the same name (too many: an error in p).
 */
static void suite_inherit(struct suite_parse *p, struct suite_section *sec,
                          const struct suite_entry *defs)
{
    unsigned ds = p->suite_set;
    struct suite_entry *e = &sec->e;
    if (!(sec->set & SUITE_SET_REPEAT))
        e->repeat = (ds & SUITE_SET_REPEAT) ? defs->repeat : SUITE_DEFAULT_REPEAT;
    if (!(sec->set & SUITE_SET_WARMUP))
        e->warmup = (ds & SUITE_SET_WARMUP) ? defs->warmup : SUITE_DEFAULT_WARMUP;
    if (!(sec->set & SUITE_SET_MODE))
        e->mode = (ds & SUITE_SET_MODE) ? defs->mode : SUITE_MODE_SAMPLE;
    if (!(sec->set & SUITE_SET_TIMEOUT))
        e->timeout_s = (ds & SUITE_SET_TIMEOUT) ? defs->timeout_s : SUITE_DEFAULT_TIMEOUT;
    if (!(sec->set & SUITE_SET_THRESHOLD))
        e->threshold = (ds & SUITE_SET_THRESHOLD) ? defs->threshold : 0;
    if (!(sec->set & SUITE_SET_INSTRUCTIONS))
        e->instructions = (ds & SUITE_SET_INSTRUCTIONS) && defs->instructions;
    if (!(sec->set & SUITE_SET_INTERVAL))
        e->interval_us = (ds & SUITE_SET_INTERVAL) ? defs->interval_us : 0;
    if (!(sec->set & SUITE_SET_PYTHON) && defs && defs->n_pythons) {
        e->pythons = xcalloc(defs->n_pythons, sizeof(*e->pythons));
        for (size_t k = 0; k < defs->n_pythons; k++)
            e->pythons[k] = xstrdup(defs->pythons[k]);
        e->n_pythons = defs->n_pythons;
    }
    if (!defs || !defs->n_env)
        return;
    size_t own = e->n_env;
    char **env = xcalloc(defs->n_env + own, sizeof(*env));
    size_t k = 0;
    for (size_t d = 0; d < defs->n_env; d++) {
        size_t nl = jobenv_name_len(defs->env[d]);
        bool mine = false;
        for (size_t o = 0; o < own && !mine; o++)
            mine = jobenv_name_len(e->env[o]) == nl && strncmp(e->env[o], defs->env[d], nl) == 0;
        if (!mine)
            env[k++] = xstrdup(defs->env[d]);
    }
    for (size_t o = 0; o < own; o++)
        env[k++] = e->env[o];
    free(e->env);
    e->env = env;
    e->n_env = k;
    if (k > JOBENV_MAX_VARS)
        suite_err(p, sec->line, "env: %zu variables with [suite]'s (at most %u)", k,
                  JOBENV_MAX_VARS);
}

int suite_parse_buffer(const char *text, size_t len, const char *fname, struct suite **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    struct suite_parse p = {.fname = fname, .text = text, .len = len};
    if (len > SUITE_MAX_FILE) {
        suite_err(&p, 0, "file too large (at most %d bytes)", SUITE_MAX_FILE);
    } else {
        int rc = ini_parse_stream(suite_reader, &p, suite_handler, &p);
        if (rc > 0)
            suite_err(&p, (unsigned)rc,
                      "syntax error (expected [section], key = value or a "
                      "comment)");
        else if (rc < 0)
            suite_err(&p, 0, "could not parse (out of memory)");
    }
    free(p.last_key);

    /* Resolve defaults: script value, else [suite], else built-in. */
    struct suite_entry *defs = NULL;
    for (size_t i = 0; i < p.n_secs; i++)
        if (p.secs[i].is_suite && !p.secs[i].bad)
            defs = &p.secs[i].e;
    struct suite *s = xcalloc(1, sizeof(*s));
    s->name = p.suite.name ? p.suite.name : suite_default_name(fname);
    s->hosts = p.suite.hosts;
    s->label = p.suite.label;
    if (p.reference)
        s->reference = suite_reference(&p, defs);
    for (size_t i = 0; i < p.n_secs; i++) {
        struct suite_section *sec = &p.secs[i];
        if (sec->is_suite || sec->bad) {
            free(sec->args_text);
            if (sec->e.env && &sec->e != defs)
                suite_free_args(sec->e.env, sec->e.n_env);
            if (sec->e.pythons && &sec->e != defs)
                suite_free_args(sec->e.pythons, sec->e.n_pythons);
            continue;
        }
        struct suite_entry *e = &sec->e;
        suite_inherit(&p, sec, defs);
        if (sec->args_text) {
            char msg[256];
            if (suite_split_args(sec->args_text, &e->args, &e->n_args, msg, sizeof(msg)) < 0)
                suite_err(&p, sec->args_line, "args: %s", msg);
            free(sec->args_text);
        }
        if (s->n_entries == SUITE_MAX_ENTRIES) {
            suite_err(&p, sec->line, "too many scripts (at most %d)", SUITE_MAX_ENTRIES);
            suite_entry_release(e);
            continue;
        }
        s->entries = xreallocarray(s->entries, s->n_entries + 1, sizeof(*s->entries));
        s->entries[s->n_entries++] = *e;
    }
    if (defs) {
        suite_free_args(defs->env, defs->n_env);
        suite_free_args(defs->pythons, defs->n_pythons);
    }
    free(p.secs);
    if (s->n_entries == 0 && p.n_errs == 0)
        suite_err(&p, 0, "no scripts (add a [script PATH] section)");
    for (size_t i = 0; s->reference && i < s->n_entries; i++)
        if (strcmp(s->entries[i].script, s->reference->script) == 0) {
            suite_err(&p, p.reference_line,
                      "reference %s is also a [script] of the suite: the reference must be a"
                      " fixed script that is not measured for itself",
                      s->reference->script);
            break;
        }

    if (p.n_errs) {
        suite_errs_finish(&p, err, errlen);
        suite_destroy(&s);
        return -PYSCOPE_EPARSE;
    }
    *out = s;
    return 0;
}

int suite_parse_file(const char *path, struct suite **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        pyscope_set_err(err, errlen, "could not open suite file \"%s\": %s", path, strerror(e));
        return -e;
    }
    size_t cap = 8192, len = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > SUITE_MAX_FILE)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    int e = ferror(f) ? EIO : 0;
    fclose(f);
    if (e) {
        free(buf);
        pyscope_set_err(err, errlen, "could not read suite file \"%s\": %s", path, strerror(e));
        return -e;
    }
    int rc = suite_parse_buffer(buf, len, path, out, err, errlen);
    free(buf);
    return rc;
}

void suite_free_args(char **argv, size_t argc)
{
    if (!argv)
        return;
    for (size_t i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}

int suite_split_args(const char *s, char ***argv, size_t *argc, char *err, size_t errlen)
{
    *argv = NULL;
    *argc = 0;
    for (const char *c = s; *c; c++) {
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
            pyscope_set_err(err, errlen, "control character in arguments");
            return -PYSCOPE_EPARSE;
        }
    }
    char **out = NULL;
    size_t n = 0;
    size_t slen = strlen(s);
    char *word = xmalloc(slen + 1);
    size_t wl = 0;
    bool in_word = false;
    const char *msg = NULL;
    for (const char *c = s;; c++) {
        if (*c == '\0' || *c == ' ' || *c == '\t') {
            if (in_word) {
                if (n == SUITE_MAX_ARGS) {
                    msg = "too many arguments (at most 256)";
                    break;
                }
                if (wl > SUITE_MAX_STRING) {
                    msg = "argument too long (at most 4096 bytes)";
                    break;
                }
                out = xreallocarray(out, n + 1, sizeof(*out));
                out[n++] = xstrndup(word, wl);
                wl = 0;
                in_word = false;
            }
            if (*c == '\0')
                break;
            continue;
        }
        in_word = true;
        if (*c == '\'') {
            const char *q = strchr(c + 1, '\'');
            if (!q) {
                msg = "unterminated single quote";
                break;
            }
            memcpy(word + wl, c + 1, (size_t)(q - c - 1));
            wl += (size_t)(q - c - 1);
            c = q;
        } else if (*c == '"') {
            for (c++;; c++) {
                if (*c == '\0') {
                    msg = "unterminated double quote";
                    break;
                }
                if (*c == '"')
                    break;
                if (*c == '\\' && (c[1] == '\\' || c[1] == '"' || c[1] == '$' || c[1] == '`'))
                    c++;
                word[wl++] = *c;
            }
            if (msg)
                break;
        } else if (*c == '\\') {
            if (c[1] == '\0') {
                msg = "trailing backslash";
                break;
            }
            c++;
            word[wl++] = *c;
        } else {
            word[wl++] = *c;
        }
    }
    free(word);
    if (msg) {
        pyscope_set_err(err, errlen, "%s", msg);
        suite_free_args(out, n);
        return -PYSCOPE_EPARSE;
    }
    *argv = out;
    *argc = n;
    return 0;
}

const char *suite_mode_name(enum suite_mode mode)
{
    return mode == SUITE_MODE_TRACE ? "trace" : "sample";
}
