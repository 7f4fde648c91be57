/*
 * pysource.c - logical lines, function bodies and loop idioms in Python source.
 *
 * Pass 1 (split_lines) turns the source into logical lines: code with
 * comments dropped, every string literal collapsed to its prefix and `""`, and
 * the physical line of each byte kept beside it. Pass 2 walks the logical lines
 * of one body with a stack of open blocks (loop or def/class, by indentation)
 * and matches the idioms on code that runs once per loop iteration.
 */
#include "pysource.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "xmalloc.h"

/* Deepest block nesting tracked; deeper blocks are treated as their parent. */
#define PYSOURCE_MAX_NEST 100
/* Most string-initialized names remembered per scanned body. */
#define PYSOURCE_MAX_STR_NAMES 64

/* One logical line. */
struct lline {
    int first;  /* physical line where it starts */
    int last;   /* physical line where it ends */
    int indent; /* column of its first character (tabs to multiples of 8) */
    char *code; /* comments dropped, strings collapsed to prefix + "" */
    int *lines; /* physical line of each byte of code */
    size_t len; /* bytes in code */
    size_t cap; /* allocated bytes in code and lines */
};

struct lines {
    struct lline *v;
    size_t n, cap;
};

static void lline_put(struct lline *l, char c, int line)
{
    if (l->len + 1 >= l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->code = xrealloc(l->code, l->cap);
        l->lines = xreallocarray(l->lines, l->cap, sizeof(int));
    }
    l->lines[l->len] = line;
    l->code[l->len++] = c;
    l->code[l->len] = '\0';
}

static void lines_free(struct lines *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->v[i].code);
        free(ls->v[i].lines);
    }
    free(ls->v);
}

static bool is_ident(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

static bool is_newline(const char *s, size_t pos, size_t len)
{
    return pos < len && (s[pos] == '\n' || s[pos] == '\r');
}

/* Consume the newline at *pos (CRLF as one) and count it. */
static void eat_newline(const char *s, size_t len, size_t *pos, int *line)
{
    if (s[*pos] == '\r' && *pos + 1 < len && s[*pos + 1] == '\n')
        (*pos)++;
    (*pos)++;
    (*line)++;
}

/* True when s[pos..) holds 1-2 string prefix letters followed by a quote. */
static size_t string_prefix_len(const char *s, size_t pos, size_t len)
{
    size_t n = 0;
    while (n < 2 && pos + n < len && strchr("rRbBuUfF", s[pos + n]) && s[pos + n] != '\0')
        n++;
    if (pos + n < len && (s[pos + n] == '"' || s[pos + n] == '\''))
        return n;
    return (size_t)-1;
}

/* Skip a string literal whose opening quote is at *pos. */
static void skip_string(const char *s, size_t len, size_t *pos, int *line)
{
    char q = s[*pos];
    bool triple = *pos + 2 < len && s[*pos + 1] == q && s[*pos + 2] == q;
    *pos += triple ? 3 : 1;
    while (*pos < len) {
        char c = s[*pos];
        if (c == '\\') {
            (*pos)++;
            if (*pos < len) {
                if (is_newline(s, *pos, len))
                    eat_newline(s, len, pos, line);
                else
                    (*pos)++;
            }
        } else if (triple && c == q && *pos + 2 < len && s[*pos + 1] == q && s[*pos + 2] == q) {
            *pos += 3;
            return;
        } else if (!triple && c == q) {
            (*pos)++;
            return;
        } else if (is_newline(s, *pos, len)) {
            if (!triple)
                return; /* unterminated: the line ends here */
            eat_newline(s, len, pos, line);
        } else {
            (*pos)++;
        }
    }
}

static void split_lines(const char *s, size_t len, struct lines *ls)
{
    size_t pos = 0;
    int line = 1;
    memset(ls, 0, sizeof(*ls));
    while (pos < len) {
        int col = 0;
        while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\f')) {
            col = s[pos] == '\t' ? (col / 8 + 1) * 8 : s[pos] == '\f' ? 0 : col + 1;
            pos++;
        }
        if (pos >= len)
            break;
        if (is_newline(s, pos, len)) {
            eat_newline(s, len, &pos, &line);
            continue;
        }
        if (s[pos] == '#') {
            while (pos < len && !is_newline(s, pos, len))
                pos++;
            continue;
        }
        if (ls->n == ls->cap) {
            ls->cap = ls->cap ? ls->cap * 2 : 64;
            ls->v = xreallocarray(ls->v, ls->cap, sizeof(*ls->v));
        }
        struct lline *l = &ls->v[ls->n++];
        memset(l, 0, sizeof(*l));
        l->first = line;
        l->indent = col;
        int depth = 0;
        while (pos < len) {
            char c = s[pos];
            if (is_newline(s, pos, len)) {
                if (depth > 0) {
                    eat_newline(s, len, &pos, &line);
                    lline_put(l, ' ', line);
                    continue;
                }
                break; /* the newline is eaten by the outer loop */
            }
            if (c == '\\' && is_newline(s, pos + 1, len)) {
                pos++;
                eat_newline(s, len, &pos, &line);
                lline_put(l, ' ', line);
                continue;
            }
            if (c == '#') {
                while (pos < len && !is_newline(s, pos, len))
                    pos++;
                continue;
            }
            if (c == '"' || c == '\'') {
                int at = line;
                skip_string(s, len, &pos, &line);
                lline_put(l, '"', at);
                lline_put(l, '"', at);
                continue;
            }
            if (is_ident((unsigned char)c)) {
                size_t p = string_prefix_len(s, pos, len);
                if (p != (size_t)-1 && (pos == 0 || !is_ident((unsigned char)s[pos - 1]))) {
                    for (size_t k = 0; k < p; k++)
                        lline_put(l, s[pos + k], line);
                    pos += p;
                    continue; /* the quote is handled next round */
                }
                while (pos < len && is_ident((unsigned char)s[pos]))
                    lline_put(l, s[pos++], line);
                continue;
            }
            if (c == '(' || c == '[' || c == '{')
                depth++;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0)
                depth--;
            lline_put(l, c == '\0' ? ' ' : c, line);
            pos++;
        }
        l->last = line;
        while (l->len > 0 && isspace((unsigned char)l->code[l->len - 1]))
            l->code[--l->len] = '\0';
        if (l->len == 0)
            lline_put(l, ' ', line); /* keep code non-NULL */
    }
}

/* True when code starts with keyword kw followed by a non-identifier byte. */
static bool starts_kw(const char *code, const char *kw)
{
    size_t n = strlen(kw);
    return strncmp(code, kw, n) == 0 && !is_ident((unsigned char)code[n]);
}

/* Skip "async " before a keyword. */
static const char *after_async(const char *code)
{
    if (starts_kw(code, "async")) {
        code += 5;
        while (*code == ' ' || *code == '\t')
            code++;
    }
    return code;
}

static bool is_loop_header(const char *code)
{
    const char *c = after_async(code);
    return starts_kw(c, "for") || starts_kw(code, "while");
}

static bool is_def_header(const char *code)
{
    return starts_kw(after_async(code), "def") || starts_kw(code, "class");
}

/* Offset of the block colon of a compound statement header, or -1. */
static long header_colon(const struct lline *l)
{
    int depth = 0;
    for (size_t i = 0; i < l->len; i++) {
        char c = l->code[i];
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (c == ':' && depth == 0 && l->code[i + 1] != '=')
            return (long)i;
    }
    return -1;
}

/* True when code after the colon at off holds a statement (a one-line body). */
static bool has_inline_body(const struct lline *l, long off)
{
    for (size_t i = (size_t)off + 1; i < l->len; i++)
        if (!isspace((unsigned char)l->code[i]))
            return true;
    return false;
}

static const char *skip_spaces(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Length of the string literal (prefix + "") at p, or 0; with_f: accept f-strings. */
static size_t literal_at(const char *p, bool with_f)
{
    size_t n = 0;
    while (n < 2 && p[n] && strchr("rRbBuUfF", p[n])) {
        if (!with_f && (p[n] == 'f' || p[n] == 'F'))
            return 0;
        n++;
    }
    return p[n] == '"' && p[n + 1] == '"' ? n + 2 : 0;
}

struct scan {
    struct pysource_finding *out;
    size_t max;
    size_t n;
    char str_names[PYSOURCE_MAX_STR_NAMES][64];
    size_t n_names;
};

static void add_finding(struct scan *sc, enum pysource_idiom idiom, int line, int loop_line,
                        const char *call, const char *target, size_t target_len)
{
    if (sc->n >= sc->max)
        return;
    struct pysource_finding *f = &sc->out[sc->n++];
    memset(f, 0, sizeof(*f));
    f->idiom = idiom;
    f->line = line;
    f->loop_line = loop_line;
    snprintf(f->call, sizeof(f->call), "%s", call);
    if (target_len >= sizeof(f->target))
        target_len = sizeof(f->target) - 1;
    memcpy(f->target, target, target_len);
    f->target[target_len] = '\0';
}

static bool known_str_name(const struct scan *sc, const char *name, size_t n)
{
    for (size_t i = 0; i < sc->n_names; i++)
        if (strlen(sc->str_names[i]) == n && memcmp(sc->str_names[i], name, n) == 0)
            return true;
    return false;
}

/* Remember NAME from a statement "NAME [: annotation] = <string literal>...". */
static void note_str_init(struct scan *sc, const struct lline *l)
{
    const char *c = l->code;
    size_t n = 0;
    while (is_ident((unsigned char)c[n]) || c[n] == '.')
        n++;
    if (n == 0 || n >= sizeof(sc->str_names[0]) || isdigit((unsigned char)c[0]))
        return;
    const char *p = skip_spaces(c + n);
    if (*p == ':') {
        while (*p && *p != '=')
            p++;
    }
    if (p[0] != '=' || p[1] == '=')
        return;
    p = skip_spaces(p + 1);
    bool str = literal_at(p, true) > 0 || strncmp(p, "str(", 4) == 0;
    if (!str || known_str_name(sc, c, n) || sc->n_names >= PYSOURCE_MAX_STR_NAMES)
        return;
    memcpy(sc->str_names[sc->n_names], c, n);
    sc->str_names[sc->n_names++][n] = '\0';
}

/* Match the idioms in code[from, to) of l, which runs once per iteration of loop_line. */
static void match_idioms(struct scan *sc, const struct lline *l, size_t from, size_t to,
                         int loop_line)
{
    static const char *const re_funcs[] = {"match",    "search", "fullmatch", "findall",
                                           "finditer", "sub",    "subn",      "split"};
    const char *code = l->code;
    int depth = 0;
    for (size_t i = from; i < to; i++) {
        char c = code[i];
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        /* re.<func>( not preceded by an identifier or a dot */
        if (c == 'r' && strncmp(code + i, "re.", 3) == 0 &&
            (i == 0 || (!is_ident((unsigned char)code[i - 1]) && code[i - 1] != '.'))) {
            const char *name = code + i + 3;
            size_t nl = 0;
            while (is_ident((unsigned char)name[nl]))
                nl++;
            const char *paren = skip_spaces(name + nl);
            if (*paren != '(')
                continue;
            char call[32];
            snprintf(call, sizeof(call), "re.%.*s", (int)(nl < 20 ? nl : 20), name);
            if (nl == 7 && strncmp(name, "compile", 7) == 0) {
                add_finding(sc, PYSOURCE_IDIOM_REGEX_IN_LOOP, l->lines[i], loop_line, call, "", 0);
                continue;
            }
            for (size_t k = 0; k < sizeof(re_funcs) / sizeof(re_funcs[0]); k++) {
                if (strlen(re_funcs[k]) == nl && strncmp(name, re_funcs[k], nl) == 0 &&
                    literal_at(skip_spaces(paren + 1), false) > 0) {
                    add_finding(sc, PYSOURCE_IDIOM_REGEX_IN_LOOP, l->lines[i], loop_line, call, "",
                                0);
                    break;
                }
            }
            continue;
        }
        /* TARGET += <string> at statement level */
        if (c == '+' && code[i + 1] == '=' && depth == 0) {
            size_t e = i;
            while (e > from && isspace((unsigned char)code[e - 1]))
                e--;
            size_t b = e;
            while (b > from && (is_ident((unsigned char)code[b - 1]) || code[b - 1] == '.'))
                b--;
            /* the target must be the whole statement head (after an inline colon too) */
            size_t h = b;
            while (h > from && isspace((unsigned char)code[h - 1]))
                h--;
            if (b == e || (h > from && code[h - 1] != ':' && code[h - 1] != ';'))
                continue;
            const char *rhs = skip_spaces(code + i + 2);
            bool str = literal_at(rhs, true) > 0 || strncmp(rhs, "str(", 4) == 0 ||
                       strncmp(rhs, "repr(", 5) == 0 || strncmp(rhs, "chr(", 4) == 0 ||
                       known_str_name(sc, code + b, e - b);
            if (str)
                add_finding(sc, PYSOURCE_IDIOM_STR_CONCAT_IN_LOOP, l->lines[i], loop_line,
                            "+=", code + b, e - b);
        }
    }
}

enum block_kind { BLOCK_LOOP, BLOCK_DEF };

struct block {
    int indent;
    enum block_kind kind;
    int line;
};

/* Scan llines [from, to); module: skip def/class bodies instead of scanning them. */
static void scan_body(struct scan *sc, const struct lines *ls, size_t from, size_t to, bool module)
{
    struct block stack[PYSOURCE_MAX_NEST];
    size_t top = 0;
    for (size_t j = from; j < to; j++)
        note_str_init(sc, &ls->v[j]);
    for (size_t j = from; j < to && sc->n < sc->max; j++) {
        const struct lline *l = &ls->v[j];
        while (top > 0 && stack[top - 1].indent >= l->indent)
            top--;
        int loop_line = 0;
        bool in_def = false;
        for (size_t k = top; k > 0 && !loop_line; k--) {
            if (stack[k - 1].kind == BLOCK_DEF)
                break;
            loop_line = stack[k - 1].line;
        }
        for (size_t k = 0; k < top; k++)
            in_def = in_def || stack[k].kind == BLOCK_DEF;
        if (module && in_def) /* module code only: function and class bodies are not */
            continue;
        bool loop = is_loop_header(l->code);
        bool def = !loop && is_def_header(l->code);
        long colon = (loop || def) ? header_colon(l) : -1;
        bool inline_body = colon >= 0 && has_inline_body(l, colon);
        if (loop) {
            bool is_while = starts_kw(l->code, "while");
            size_t head_end = (size_t)colon;
            if (colon < 0)
                head_end = l->len;
            if (is_while) /* the condition runs every iteration */
                match_idioms(sc, l, 0, head_end, l->first);
            else if (loop_line)
                match_idioms(sc, l, 0, head_end, loop_line);
            if (inline_body)
                match_idioms(sc, l, (size_t)colon + 1, l->len, l->first);
        } else if (!def && loop_line) {
            match_idioms(sc, l, 0, l->len, loop_line);
        }
        if ((loop || def) && !inline_body && colon >= 0 && top < PYSOURCE_MAX_NEST)
            stack[top++] = (struct block){l->indent, loop ? BLOCK_LOOP : BLOCK_DEF, l->first};
    }
}

/* Index of the logical line holding physical line first_line, or ls->n. */
static size_t find_lline(const struct lines *ls, int first_line)
{
    for (size_t i = 0; i < ls->n; i++)
        if (ls->v[i].last >= first_line)
            return i;
    return ls->n;
}

/* Locate the def at first_line: header index and end (exclusive) of its body. */
static int locate(const struct lines *ls, int first_line, size_t *hdr, size_t *end)
{
    size_t i = find_lline(ls, first_line);
    while (i < ls->n && ls->v[i].code[0] == '@')
        i++;
    if (i >= ls->n || !is_def_header(ls->v[i].code))
        return -PYSCOPE_ENODATA;
    size_t j = i + 1;
    long colon = header_colon(&ls->v[i]);
    if (colon >= 0 && !has_inline_body(&ls->v[i], colon)) {
        while (j < ls->n && ls->v[j].indent > ls->v[i].indent)
            j++;
    }
    *hdr = i;
    *end = j;
    return 0;
}

int pysource_find_function(const char *src, size_t len, int first_line, int *def_line,
                           int *end_line)
{
    struct lines ls;
    split_lines(src, len, &ls);
    size_t hdr, end;
    int rc = locate(&ls, first_line, &hdr, &end);
    if (rc == 0) {
        *def_line = ls.v[hdr].first;
        *end_line = ls.v[end - 1].last;
    }
    lines_free(&ls);
    return rc;
}

int pysource_scan(const char *src, size_t len, int first_line, struct pysource_finding *out,
                  size_t max)
{
    struct lines ls;
    split_lines(src, len, &ls);
    struct scan *sc = xcalloc(1, sizeof(*sc));
    sc->out = out;
    sc->max = max;
    int rc = 0;
    if (first_line <= 0) {
        scan_body(sc, &ls, 0, ls.n, true);
    } else {
        size_t hdr, end;
        rc = locate(&ls, first_line, &hdr, &end);
        if (rc == 0)
            scan_body(sc, &ls, hdr + 1, end, false);
    }
    if (rc == 0)
        rc = (int)sc->n;
    free(sc);
    lines_free(&ls);
    return rc;
}

int pysource_read_file(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto fail;
    }
    if (st.st_size > PYSOURCE_FILE_MAX) {
        rc = -PYSCOPE_ETOOBIG;
        goto fail;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            free(buf);
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) { /* it grew since fstat */
            if (cap > PYSOURCE_FILE_MAX) {
                rc = -PYSCOPE_ETOOBIG;
                free(buf);
                goto fail;
            }
            cap = cap * 2 > PYSOURCE_FILE_MAX + 1 ? PYSOURCE_FILE_MAX + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
fail:
    close(fd);
    return rc;
}

const char *pysource_idiom_name(enum pysource_idiom idiom)
{
    switch (idiom) {
    case PYSOURCE_IDIOM_REGEX_IN_LOOP:
        return "regex-in-loop";
    case PYSOURCE_IDIOM_STR_CONCAT_IN_LOOP:
        return "str-concat-in-loop";
    }
    return "unknown";
}
