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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "strbuf.h"
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
    struct strbuf b = {0};
    int rc = strbuf_read_file(&b, path, PYSOURCE_FILE_MAX);
    *len = rc < 0 ? 0 : b.len;
    *out = rc < 0 ? NULL : strbuf_take(&b);
    strbuf_release(&b);
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

/* ---- loops and argument hashability ------------------------------------------------ */

int pysource_count_loops(const char *src, size_t len, int first_line)
{
    struct lines ls;
    split_lines(src, len, &ls);
    size_t from = 0, to = ls.n;
    int rc = 0;
    if (first_line > 0) {
        size_t hdr;
        rc = locate(&ls, first_line, &hdr, &to);
        from = hdr + 1;
    }
    int loops = 0, skip_indent = -1; /* module code: skip def and class bodies */
    for (size_t j = from; rc == 0 && j < to; j++) {
        const struct lline *l = &ls.v[j];
        if (skip_indent >= 0 && l->indent > skip_indent)
            continue;
        skip_indent = -1;
        if (is_loop_header(l->code))
            loops++;
        else if (first_line <= 0 && is_def_header(l->code))
            skip_indent = l->indent;
    }
    lines_free(&ls);
    return rc < 0 ? rc : loops;
}

#define HASH_MAX_PARAMS 16

struct hparam {
    char name[64];
    enum pysource_hash cls; /* from the annotation; UNKNOWN when none */
    bool annotated;
    int yes, no, unknown; /* call-site arguments seen */
    int no_line;          /* a line where it gets an unhashable value */
};

/* s[0..n) trimmed of blanks: *b, *e. */
static void trim(const char *s, size_t n, size_t *b, size_t *e)
{
    *b = 0;
    *e = n;
    while (*b < *e && isspace((unsigned char)s[*b]))
        (*b)++;
    while (*e > *b && isspace((unsigned char)s[*e - 1]))
        (*e)--;
}

/* Offset of the bracket closing the one at s[open], or n. */
static size_t closing(const char *s, size_t n, size_t open)
{
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        if (s[i] == '(' || s[i] == '[' || s[i] == '{')
            depth++;
        else if (s[i] == ')' || s[i] == ']' || s[i] == '}')
            if (--depth == 0)
                return i;
    }
    return n;
}

/* Split s[0..n) at top-level commas: up to max parts (offsets, lengths). */
static size_t split_commas(const char *s, size_t n, size_t *off, size_t *len, size_t max)
{
    size_t k = 0, start = 0;
    int depth = 0;
    for (size_t i = 0; i <= n && k < max; i++) {
        char c = i < n ? s[i] : ',';
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (c == ',' && depth == 0) {
            size_t b, e;
            trim(s + start, i - start, &b, &e);
            if (e > b) {
                off[k] = start + b;
                len[k++] = e - b;
            }
            start = i + 1;
        }
    }
    return k;
}

static bool word_is(const char *s, size_t n, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == n && strncmp(s, words[i], n) == 0)
            return true;
    return false;
}

static const char *const hashable_types[] = {
    "int",       "float",     "str",  "bytes",    "bool",    "complex",  "tuple", "Tuple",
    "frozenset", "FrozenSet", "None", "Hashable", "Decimal", "Fraction", "range", NULL};
static const char *const unhashable_types[] = {"list",
                                               "List",
                                               "dict",
                                               "Dict",
                                               "set",
                                               "Set",
                                               "bytearray",
                                               "MutableSequence",
                                               "MutableMapping",
                                               "MutableSet",
                                               "deque",
                                               "Deque",
                                               "defaultdict",
                                               "DefaultDict",
                                               "OrderedDict",
                                               "Counter",
                                               NULL};

static enum pysource_hash combine(enum pysource_hash a, enum pysource_hash b)
{
    if (a == PYSOURCE_HASH_NO || b == PYSOURCE_HASH_NO)
        return PYSOURCE_HASH_NO;
    if (a == PYSOURCE_HASH_YES && b == PYSOURCE_HASH_YES)
        return PYSOURCE_HASH_YES;
    return PYSOURCE_HASH_UNKNOWN;
}

/* An annotation: Optional[X], X | Y, Union[...], tuple[...], or a plain type name. */
static enum pysource_hash classify_annotation(const char *s, size_t n)
{
    size_t b, e;
    trim(s, n, &b, &e);
    s += b;
    n = e - b;
    /* X | Y: every member */
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '[' || s[i] == '(')
            depth++;
        else if ((s[i] == ']' || s[i] == ')') && depth > 0)
            depth--;
        else if (s[i] == '|' && depth == 0)
            return combine(classify_annotation(s, i), classify_annotation(s + i + 1, n - i - 1));
    }
    size_t base = 0;
    while (base < n && (is_ident((unsigned char)s[base]) || s[base] == '.'))
        base++;
    const char *name = s;
    size_t nl = base;
    const char *dot = memrchr(s, '.', base);
    if (dot) {
        nl = base - (size_t)(dot + 1 - s);
        name = dot + 1;
    }
    if (nl == 0)
        return PYSOURCE_HASH_UNKNOWN; /* a quoted forward reference, or odd text */
    bool sub = base < n && s[base] == '[';
    size_t close = sub ? closing(s, n, base) : n;
    if (sub && (word_is(name, nl, (const char *const[]){"Optional", "Union", NULL}) ||
                word_is(name, nl, (const char *const[]){"tuple", "Tuple", NULL}))) {
        size_t off[HASH_MAX_PARAMS], len[HASH_MAX_PARAMS];
        size_t k = split_commas(s + base + 1, close - base - 1, off, len, HASH_MAX_PARAMS);
        enum pysource_hash r = PYSOURCE_HASH_YES;
        for (size_t i = 0; i < k; i++) {
            const char *m = s + base + 1 + off[i];
            if (len[i] == 3 && strncmp(m, "...", 3) == 0)
                continue;
            r = combine(r, classify_annotation(m, len[i]));
        }
        return r;
    }
    if (!sub && word_is(name, nl, (const char *const[]){"tuple", "Tuple", NULL}))
        return PYSOURCE_HASH_UNKNOWN; /* a bare tuple: its items are not told */
    if (word_is(name, nl, unhashable_types))
        return PYSOURCE_HASH_NO;
    if (word_is(name, nl, hashable_types))
        return PYSOURCE_HASH_YES;
    return PYSOURCE_HASH_UNKNOWN;
}

static bool is_number(const char *s, size_t n)
{
    if (n == 0 || !(isdigit((unsigned char)s[0]) || (s[0] == '.' && n > 1)))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_')
            return false;
    return true;
}

static struct hparam *find_param(struct hparam *p, size_t np, const char *s, size_t n)
{
    for (size_t i = 0; i < np; i++)
        if (strlen(p[i].name) == n && strncmp(p[i].name, s, n) == 0)
            return &p[i];
    return NULL;
}

static enum pysource_hash classify_expr(const char *s, size_t n, struct hparam *p, size_t np);

/* *s[0..n) trimmed of blanks: *s moved past the leading ones; the length left. */
static size_t trim_expr(const char **s, size_t n)
{
    size_t b, e;
    trim(*s, n, &b, &e);
    *s += b;
    return e - b;
}

/* Whether s[0..n) holds the word "for" outside strings: a comprehension's. */
static bool has_for(const char *s, size_t n)
{
    for (size_t i = 1; i + 4 < n; i++)
        if (strncmp(s + i, "for", 3) == 0 && !is_ident((unsigned char)s[i - 1]) &&
            !is_ident((unsigned char)s[i + 3]))
            return true;
    return false;
}

/* The comma-separated items s[0..n) of a display: YES when every one is hashable, UNKNOWN
 * too when there are more than HASH_MAX_PARAMS (the rest are not looked at). */
static enum pysource_hash classify_items(const char *s, size_t n, struct hparam *p, size_t np)
{
    size_t off[HASH_MAX_PARAMS + 1], len[HASH_MAX_PARAMS + 1];
    size_t k = split_commas(s, n, off, len, HASH_MAX_PARAMS + 1);
    if (k > HASH_MAX_PARAMS)
        return PYSOURCE_HASH_UNKNOWN;
    enum pysource_hash r = PYSOURCE_HASH_YES;
    for (size_t i = 0; i < k; i++)
        r = combine(r, classify_expr(s + off[i], len[i], p, np));
    return r;
}

/* What tuple(arg) gives, arg being the n bytes at s. A tuple is hashable only when its items
 * are: tuple() and tuple(range(...)) are; tuple([a, b]) and tuple((a, b)) when a and b are;
 * tuple(xs) when xs is annotated with a hashable tuple type; tuple(rows) is not told. */
static enum pysource_hash tuple_call_items(const char *s, size_t n, struct hparam *p, size_t np)
{
    if ((n = trim_expr(&s, n)) == 0)
        return PYSOURCE_HASH_YES;
    if ((s[0] == '[' || s[0] == '(') && closing(s, n, 0) == n - 1 && !has_for(s, n)) {
        size_t off[HASH_MAX_PARAMS], len[HASH_MAX_PARAMS];
        size_t k = split_commas(s + 1, n - 2, off, len, HASH_MAX_PARAMS);
        if (s[0] == '(' && k == 1 && !memchr(s + 1, ',', n - 2))
            return tuple_call_items(s + 1, n - 2, p, np); /* tuple((xs)) is tuple(xs) */
        return classify_items(s + 1, n - 2, p, np);
    }
    size_t id = 0;
    while (id < n && is_ident((unsigned char)s[id]))
        id++;
    if (id > 0 && id < n && s[id] == '(' && closing(s, n, id) == n - 1 &&
        word_is(s, id, (const char *const[]){"range", NULL}))
        return PYSOURCE_HASH_YES;
    if (id == n) { /* a parameter annotated tuple[int, ...] or str: hashable items */
        struct hparam *q = find_param(p, np, s, n);
        if (q && q->annotated && q->cls == PYSOURCE_HASH_YES)
            return PYSOURCE_HASH_YES;
    }
    return PYSOURCE_HASH_UNKNOWN; /* its items are not told */
}

/* What a call argument's expression gives, as far as its text tells. */
static enum pysource_hash classify_expr(const char *s, size_t n, struct hparam *p, size_t np)
{
    if ((n = trim_expr(&s, n)) == 0)
        return PYSOURCE_HASH_UNKNOWN;
    if (s[0] == '[' || s[0] == '{')
        return PYSOURCE_HASH_NO; /* list, dict or set display or comprehension */
    /* a list, dict or set display beside an operator: x + [y] */
    int depth = 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        size_t k = i;
        while (k > 0 && isspace((unsigned char)s[k - 1]))
            k--;
        if ((c == '[' || c == '{') && depth == 0 && k > 0 && strchr("+-*/%|&^,(", s[k - 1]))
            return PYSOURCE_HASH_NO;
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
    }
    /* a top-level binary operator (not one inside a leading bracket: (n - 1, 1)) */
    depth = s[0] == '(' || s[0] == '[' || s[0] == '{';
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            depth--;
        } else if (depth == 0 && strchr("+-*/%", c) && s[i - 1] != 'e' && s[i - 1] != 'E') {
            size_t rb, re;
            trim(s + i + 1, n - i - 1, &rb, &re);
            const char *rhs = s + i + 1 + rb;
            size_t rn = re - rb;
            while (rn > 0 && strchr("*/", rhs[0])) { /* ** and // */
                rhs++;
                rn--;
            }
            size_t lb, le;
            trim(s, i, &lb, &le);
            /* with a number on one side, only numbers work (but list * 2 is a list) */
            if (c != '*' && (is_number(rhs, rn) || is_number(s + lb, le - lb)))
                return PYSOURCE_HASH_YES;
            return PYSOURCE_HASH_UNKNOWN;
        }
    }
    if (s[0] == '(') {
        size_t close = closing(s, n, 0);
        if (close != n - 1)
            return PYSOURCE_HASH_UNKNOWN;
        size_t off[HASH_MAX_PARAMS], len[HASH_MAX_PARAMS];
        size_t k = split_commas(s + 1, n - 2, off, len, HASH_MAX_PARAMS);
        bool tuple = k != 1 || memchr(s + 1, ',', n - 2);
        if (!tuple)
            return classify_expr(s + 1 + off[0], len[0], p, np);
        return classify_items(s + 1, n - 2, p, np);
    }
    if (literal_at(s, true) == n || is_number(s, n) ||
        word_is(s, n, (const char *const[]){"None", "True", "False", NULL}))
        return PYSOURCE_HASH_YES;
    size_t id = 0;
    while (id < n && is_ident((unsigned char)s[id]))
        id++;
    if (id == n) {
        struct hparam *q = find_param(p, np, s, n);
        return q && q->annotated ? q->cls : PYSOURCE_HASH_UNKNOWN;
    }
    if (id > 0 && s[id] == '(' && closing(s, n, id) == n - 1) {
        if (word_is(s, id,
                    (const char *const[]){"list", "dict", "set", "sorted", "bytearray", "deque",
                                          "defaultdict", "OrderedDict", "Counter", NULL}))
            return PYSOURCE_HASH_NO;
        if (word_is(s, id, (const char *const[]){"tuple", NULL}))
            return tuple_call_items(s + id + 1, n - id - 2, p, np);
        if (word_is(s, id,
                    (const char *const[]){"frozenset", "len", "int", "float", "str", "bytes", "abs",
                                          "ord", "chr", "hash", "round", "bool", "id", "repr",
                                          NULL}))
            return PYSOURCE_HASH_YES; /* frozenset(xs) raises unless its items are hashable */
    }
    return PYSOURCE_HASH_UNKNOWN; /* a name's attribute, a subscript, another call */
}

/* The parameters of the def line h (its "(" at open) into p (*np of them, at most
 * HASH_MAX_PARAMS), each with its annotation's class; *method when the first is self or cls.
 * False when there are more than HASH_MAX_PARAMS (the rest are not looked at). */
static bool parse_params(const struct lline *h, const char *open, struct hparam *p, size_t *np,
                         bool *method)
{
    size_t o = (size_t)(open - h->code), c = closing(h->code, h->len, o);
    size_t off[HASH_MAX_PARAMS + 1], plen[HASH_MAX_PARAMS + 1];
    size_t k = split_commas(h->code + o + 1, c > o ? c - o - 1 : 0, off, plen, HASH_MAX_PARAMS + 1);
    if (k > HASH_MAX_PARAMS)
        return false;
    for (size_t i = 0; i < k; i++) {
        const char *t = h->code + o + 1 + off[i];
        size_t tn = plen[i];
        if ((tn == 1 && (t[0] == '/' || t[0] == '*')))
            continue;
        struct hparam *q = &p[(*np)++];
        memset(q, 0, sizeof(*q));
        bool star = t[0] == '*';
        size_t id = star ? (t[1] == '*' ? 2 : 1) : 0, idb = id;
        while (id < tn && is_ident((unsigned char)t[id]))
            id++;
        snprintf(q->name, sizeof(q->name), "%.*s", (int)(id - idb), t + idb);
        q->cls = PYSOURCE_HASH_UNKNOWN;
        size_t colon = id;
        while (colon < tn && isspace((unsigned char)t[colon]))
            colon++;
        if (!star && colon < tn && t[colon] == ':') {
            size_t a = colon + 1, ae = a;
            int depth = 0;
            while (ae < tn && !(depth == 0 && t[ae] == '=')) {
                if (t[ae] == '[' || t[ae] == '(')
                    depth++;
                else if ((t[ae] == ']' || t[ae] == ')') && depth > 0)
                    depth--;
                ae++;
            }
            q->cls = classify_annotation(t + a, ae - a);
            q->annotated = true;
        }
        if (star) /* *args and **kwargs: their items are not known */
            q->annotated = true;
        if (i == 0 && (strcmp(q->name, "self") == 0 || strcmp(q->name, "cls") == 0))
            *method = true;
    }
    return true;
}

/* What the recursive calls name(...) or self.name(...) in lines [hdr+1, end) of ls pass to
 * each parameter of p[0..np) (method: p[0] is self), counted into the parameters. */
static void note_recursive_calls(const struct lines *ls, size_t hdr, size_t end, const char *name,
                                 struct hparam *p, size_t np, bool method)
{
    size_t nlen = strlen(name);
    for (size_t j = hdr + 1; j < end && nlen; j++) {
        const struct lline *l = &ls->v[j];
        for (const char *at = l->code; (at = strstr(at, name)) != NULL; at += nlen) {
            size_t pos = (size_t)(at - l->code);
            bool via_self = pos >= 5 && strncmp(at - 5, "self.", 5) == 0;
            if (pos > 0 && (is_ident((unsigned char)at[-1]) || (at[-1] == '.' && !via_self)))
                continue;
            const char *q = skip_spaces(at + nlen);
            if (*q != '(')
                continue;
            size_t o = (size_t)(q - l->code), c = closing(l->code, l->len, o);
            size_t off[HASH_MAX_PARAMS + 1], alen[HASH_MAX_PARAMS + 1];
            size_t k = split_commas(l->code + o + 1, c > o ? c - o - 1 : 0, off, alen,
                                    HASH_MAX_PARAMS + 1);
            if (k > HASH_MAX_PARAMS) { /* the arguments past the cap are not looked at */
                for (size_t i = 0; i < np; i++)
                    p[i].unknown++;
                continue;
            }
            size_t first = method && via_self ? 1 : 0;
            for (size_t i = 0; i < k; i++) {
                const char *a = l->code + o + 1 + off[i];
                size_t an = alen[i];
                struct hparam *target = i + first < np ? &p[i + first] : NULL;
                const char *eq = NULL;
                for (size_t x = 0; x + 1 < an && is_ident((unsigned char)a[x]); x++)
                    if (a[x + 1] == '=' && (x + 2 >= an || a[x + 2] != '='))
                        eq = a + x + 1;
                if (eq) { /* keyword argument */
                    target = find_param(p, np, a, (size_t)(eq - a));
                    an -= (size_t)(eq + 1 - a);
                    a = eq + 1;
                }
                if (a[0] == '*') /* *xs, **kw: unknown */
                    continue;
                size_t tb, te;
                trim(a, an, &tb, &te);
                if (!target || target->annotated ||
                    (te - tb == strlen(target->name) && !strncmp(a + tb, target->name, te - tb)))
                    continue; /* a parameter passed on unchanged tells nothing new */
                enum pysource_hash r = classify_expr(a, an, p, np);
                if (r == PYSOURCE_HASH_NO) {
                    target->no++;
                    if (!target->no_line)
                        target->no_line = l->lines[pos];
                } else if (r == PYSOURCE_HASH_YES) {
                    target->yes++;
                } else {
                    target->unknown++;
                }
            }
        }
    }
}

/* The verdict over the parameters p[0..np) (method: p[0] is self), with why an unhashable
 * one is (why may be NULL). */
static enum pysource_hash params_verdict(const struct hparam *p, size_t np, bool method, char *why,
                                         size_t whylen)
{
    enum pysource_hash verdict = PYSOURCE_HASH_YES;
    for (size_t i = 0; i < np; i++) {
        const struct hparam *q = &p[i];
        enum pysource_hash r = q->annotated            ? q->cls
                               : q->no                 ? PYSOURCE_HASH_NO
                               : q->yes && !q->unknown ? PYSOURCE_HASH_YES
                                                       : PYSOURCE_HASH_UNKNOWN;
        if (i == 0 && method && !q->no)
            r = PYSOURCE_HASH_UNKNOWN; /* self: an instance, hashable unless it defines __eq__ */
        if (r == PYSOURCE_HASH_NO && why && whylen) {
            if (q->annotated)
                snprintf(why, whylen, "argument '%s' is annotated with an unhashable type",
                         q->name);
            else
                snprintf(why, whylen, "argument '%s' gets an unhashable value (line %d)", q->name,
                         q->no_line);
        }
        if (r == PYSOURCE_HASH_NO || verdict == PYSOURCE_HASH_NO)
            verdict = PYSOURCE_HASH_NO;
        else
            verdict = combine(verdict, r);
    }
    return verdict;
}

enum pysource_hash pysource_args_hashable(const char *src, size_t len, int first_line,
                                          const char *name, char *why, size_t whylen)
{
    struct lines ls;
    split_lines(src, len, &ls);
    size_t hdr, end;
    enum pysource_hash verdict = PYSOURCE_HASH_UNKNOWN;
    if (why && whylen)
        snprintf(why, whylen, "the source does not tell");
    if (locate(&ls, first_line, &hdr, &end) < 0 || starts_kw(ls.v[hdr].code, "class")) {
        lines_free(&ls);
        return verdict;
    }
    const struct lline *h = &ls.v[hdr];
    const char *open = strchr(h->code, '(');
    struct hparam p[HASH_MAX_PARAMS];
    size_t np = 0;
    bool method = false;
    if (open && !parse_params(h, open, p, &np, &method)) {
        if (why && whylen) /* more parameters than are looked at */
            snprintf(why, whylen, "the source does not tell whether every argument is hashable");
        lines_free(&ls);
        return PYSOURCE_HASH_UNKNOWN;
    }
    /* the recursive calls: name(...) or self.name(...) in the body */
    note_recursive_calls(&ls, hdr, end, name, p, np, method);
    verdict = params_verdict(p, np, method, why, whylen);
    if (why && whylen && verdict == PYSOURCE_HASH_YES)
        snprintf(why, whylen, "%s", np ? "every argument is hashable" : "no arguments");
    else if (why && whylen && verdict == PYSOURCE_HASH_UNKNOWN)
        snprintf(why, whylen, "the source does not tell whether every argument is hashable");
    lines_free(&ls);
    return verdict;
}
