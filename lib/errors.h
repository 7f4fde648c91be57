/*
 * errors.h - PyScope's error codes and exit statuses.
 *
 * Functions return 0 or a negative code: -errno, or -PYSCOPE_E* (values
 * above any errno). pyscope_strerror() names either kind.
 *
 * Exit statuses are the same for every command (docs/DESIGN.md §8).
 */
#ifndef PYSCOPE_ERRORS_H
#define PYSCOPE_ERRORS_H

#include <stddef.h>

enum pyscope_exit {
    PYSCOPE_EXIT_OK = 0,
    PYSCOPE_EXIT_REGRESSION = 1, /* a regression, with --fail-on-regression */
    PYSCOPE_EXIT_USAGE = 2,      /* bad command line or input file */
    PYSCOPE_EXIT_SCRIPT = 3,     /* the profiled script failed */
    PYSCOPE_EXIT_INTERNAL = 4,   /* PyScope itself failed */
    PYSCOPE_EXIT_TIMEOUT = 124,  /* the script ran past --timeout */
    /* pyscope-run only (sysexits' EX_UNAVAILABLE): this host cannot do what was asked,
     * --instructions with no valgrind or one that fails on its own. pyscope and try
     * report it as 2 (usage); an agent refuses the job, as another host may count it. */
    PYSCOPE_EXIT_UNAVAILABLE = 69,
};

enum pyscope_err {
    PYSCOPE_EBASE = 1000,
    PYSCOPE_EPARSE,  /* malformed input */
    PYSCOPE_ESCHEMA, /* well-formed but not the expected schema */
    PYSCOPE_ERANGE,  /* a value out of its allowed range (NaN, negative, too large) */
    PYSCOPE_ETOOBIG, /* input over its size cap */
    PYSCOPE_ENODATA, /* not enough data for the computation */
    PYSCOPE_EUSAGE,  /* bad option or argument */
};

/* Return a static description of rc (negative code), never NULL. */
const char *pyscope_strerror(int rc);

/*
 * The error buffer every fallible function fills (docs/STYLE.md): format a message into
 * err (errlen bytes, always NUL-terminated, truncated when longer). err may be NULL or
 * errlen 0: nothing is written.
 */
void pyscope_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
