/*
 * pyreq.c - Python requests of jobs (pyreq.h).
 */
#include "pyreq.h"
#include <stdio.h>
#include <string.h>

/* Whether s is 1 to 3 dot-separated runs of 1 to 4 digits. */
static bool is_version(const char *s)
{
    int parts = 0, digits = 0;
    for (const char *c = s;; c++) {
        if (*c >= '0' && *c <= '9') {
            if (++digits > 4)
                return false;
        } else if (*c == '.' || *c == '\0') {
            if (digits == 0 || ++parts > 3)
                return false;
            digits = 0;
            if (*c == '\0')
                return true;
        } else {
            return false;
        }
    }
}

int pyreq_check(const char *req, char *why, size_t whylen)
{
    if (req == NULL || *req == '\0')
        return 0;
    if (strlen(req) > PYREQ_MAX) {
        snprintf(why, whylen, "longer than %d bytes", PYREQ_MAX);
        return -1;
    }
    if (req[0] == '/') {
        for (const char *c = req; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ',') {
                snprintf(why, whylen, "a path with a control character or a comma");
                return -1;
            }
        return 0;
    }
    if (!is_version(req)) {
        snprintf(why, whylen,
                 "not a version (\"3.12\", \"3.12.1\") nor an interpreter's absolute path");
        return -1;
    }
    return 0;
}

bool pyreq_match(const char *req, const char *version, const char *executable, const char *path)
{
    if (req == NULL || *req == '\0')
        return false;
    if (req[0] == '/')
        return (executable && strcmp(req, executable) == 0) || (path && strcmp(req, path) == 0);
    if (version == NULL)
        return false;
    size_t n = strlen(req);
    /* "3.12" is 3.12 and 3.12.x, never 3.120 */
    return strncmp(version, req, n) == 0 && (version[n] == '\0' || version[n] == '.');
}
