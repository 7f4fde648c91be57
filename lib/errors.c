/*
 * errors.c - names for PyScope's error codes.
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pyscope_strerror(int rc)
{
    int e = rc < 0 ? -rc : rc;
    switch (e) {
    case PYSCOPE_EPARSE:
        return "malformed input";
    case PYSCOPE_ESCHEMA:
        return "unexpected schema";
    case PYSCOPE_ERANGE:
        return "value out of range";
    case PYSCOPE_ETOOBIG:
        return "input too large";
    case PYSCOPE_ENODATA:
        return "not enough data";
    case PYSCOPE_EUSAGE:
        return "usage error";
    default:
        return e < PYSCOPE_EBASE ? strerror(e) : "unknown error";
    }
}

void pyscope_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
