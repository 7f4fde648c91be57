/*
 * confval.c - values of the settings people write by hand (see confval.h).
 */
#include "confval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "errors.h"
#include "xmalloc.h"

int confval_onoff(const char *v, bool *out)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};
    if (!v)
        return -1;
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        if (strcasecmp(v, on[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, off[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

FILE *confval_open(const char *path, const char *name, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    int e = 0;
    if (f == NULL || fstat(fileno(f), &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    if (e == 0)
        return f;
    if (f != NULL)
        fclose(f);
    size_t n = strlen(path);
    if (e == EISDIR && name == NULL)
        pyscope_set_err(err, errlen, "config file \"%s\" is a directory, not a file", path);
    else if (e == EISDIR)
        pyscope_set_err(err, errlen,
                        "config file \"%s\" is a directory: give the config file, e.g. %s%s%s",
                        path, path, n > 0 && path[n - 1] == '/' ? "" : "/", name);
    else
        pyscope_set_err(err, errlen, "could not read config file \"%s\": %s", path, strerror(e));
    errno = e;
    return NULL;
}

char *confval_read_line(char *str, int num, void *stream)
{
    struct confval_reader *r = stream;
    if (r->bad_line || fgets(str, num, r->f) == NULL)
        return NULL;
    bool starts = !r->mid_line;
    size_t n = strlen(str);
    r->mid_line = n == 0 || str[n - 1] != '\n';
    if (!starts)
        return str; /* the rest of a long line */
    r->line++;
    r->continued = false;
    const char *p = str;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == ';' || *p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
        return str;
    if (r->after_key && p > str) {
        r->continued = true; /* a continuation of the key's value */
        return str;
    }
    const char *end = *p == '[' ? strchr(p, ']') : NULL;
    if (end == NULL) {
        r->after_key = *p != '[';
        if (r->after_key)
            r->key_line = r->line;
        return str;
    }
    r->after_key = false;
    size_t len = (size_t)(end - p - 1);
    if (len == strlen(r->section) && memcmp(p + 1, r->section, len) == 0)
        return str;
    r->bad_line = r->line;
    snprintf(r->bad_section, sizeof(r->bad_section), "%.*s", (int)len, p + 1);
    return NULL;
}

int confval_check_key(struct confval_reader *r, const char *name, bool may_repeat, char *err,
                      size_t errlen)
{
    if (r->continued) {
        pyscope_set_err(err, errlen,
                        "an indented line continues \"%s\" from line %d: a value is one line "
                        "(remove the indentation, or the line)",
                        name, r->key_line);
        return -1;
    }
    if (may_repeat)
        return 0;
    for (size_t i = 0; i < r->n_keys; i++) {
        if (strcmp(r->keys[i].name, name) == 0) {
            pyscope_set_err(err, errlen, "\"%s\" set twice in [%s] (first on line %d)", name,
                            r->section, r->keys[i].line);
            return -1;
        }
    }
    r->keys = xreallocarray(r->keys, r->n_keys + 1, sizeof(*r->keys));
    r->keys[r->n_keys++] = (struct confval_key){xstrdup(name), r->line};
    return 0;
}

void confval_reader_release(struct confval_reader *r)
{
    for (size_t i = 0; i < r->n_keys; i++)
        free(r->keys[i].name);
    free(r->keys);
    r->keys = NULL;
    r->n_keys = 0;
}
