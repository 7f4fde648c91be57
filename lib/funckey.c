/*
 * funckey.c - function keys "file:qualname:line": made, split, labelled.
 */
#include "funckey.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

char *funckey_make(const char *file, const char *name, long line)
{
    return xasprintf("%s:%s:%ld", file, name, line);
}

int funckey_split(const char *key, char **file, char **name, long *line)
{
    *line = 0;
    const char *last = strrchr(key, ':');
    if (!last) {
        *file = xstrdup("");
        *name = xstrdup(key);
        return 0;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(last + 1, &end, 10);
    bool numeric = last[1] != '\0' && end && *end == '\0' && errno == 0 && n >= 0;
    if (!numeric) {
        /* "file:name" with no line */
        *file = xstrndup(key, (size_t)(last - key));
        *name = xstrdup(last + 1);
        return 0;
    }
    *line = n;
    const char *sep = NULL;
    for (const char *p = key; p < last; p++)
        if (*p == ':')
            sep = p;
    if (!sep) {
        *file = xstrdup("");
        *name = xstrndup(key, (size_t)(last - key));
        return 0;
    }
    *file = xstrndup(key, (size_t)(sep - key));
    *name = xstrndup(sep + 1, (size_t)(last - sep - 1));
    return 0;
}

char *funckey_label(const char *key)
{
    char *file, *name, *label;
    long line;
    funckey_split(key, &file, &name, &line);
    if (file[0] == '\0' || strcmp(file, "~") == 0)
        label = xstrdup(name[0] ? name : key);
    else if (line > 0)
        label = xasprintf("%s (%s:%ld)", name, file, line);
    else
        label = xasprintf("%s (%s)", name, file);
    free(file);
    free(name);
    return label;
}
