/*
 * pyselect.h - which python runs the script, and whether pyscope-run can
 * profile it.
 *
 * The interpreter is the one the user would have used, in this order:
 * --python PATH (a path, or a command name looked up on PATH), the
 * virtualenv (--venv DIR, else $VIRTUAL_ENV; a folder with a pyvenv.cfg,
 * run through its bin/python3), else the first python3 on PATH. It is then
 * asked (`python -E -s -S -c ...`) what it is: implementation, version,
 * ABI flags, sys.executable, sys.prefix; the answer is remembered per binary
 * (probecache.h), so that a run does not start the interpreter twice. A launcher that execs another
 * binary (a pyenv shim) is replaced by the binary it starts, so the timing
 * is that of the interpreter and not of the launcher's shell.
 *
 * Supported: CPython 3.10 to 3.13, the default build (not debug, not
 * free-threaded), for which this pyscope-run has its module;
 * anything else is an error that names what is supported.
 */
#ifndef PYSCOPE_RUNNER_PYSELECT_H
#define PYSCOPE_RUNNER_PYSELECT_H

#include <stdbool.h>
#include <stddef.h>

#define PYSELECT_SUPPORTED "CPython 3.10, 3.11, 3.12 and 3.13"

struct pyselect {
    char *path;      /* what to exec (owned) */
    char *argv0;     /* its argv[0] (owned): "python3" when found on PATH, as a shell runs it */
    const char *how; /* "--python", "--venv", "VIRTUAL_ENV" or "PATH", or the how of
                      * pyselect_choose_found (static) */
    bool found;      /* chosen by pyselect_choose_found: messages leave the origin to the caller */
    char *venv;      /* the virtualenv (absolute), or NULL (owned) */
    /* What the probe found. */
    char *implementation; /* sys.implementation.name (owned) */
    int major, minor, micro;
    char *abiflags;   /* sys.abiflags (owned) */
    char *executable; /* sys.executable (owned) */
    char *prefix;     /* sys.prefix (owned) */
    char *build;      /* sys.version on one line: compiler and build date (owned) */
    /* The program was asked what it is and did not answer as a Python interpreter: what it
     * did ("gave no answer", "failed"...; static), else NULL. The agent refuses to start on
     * one its operator named (agent/pythons.h). */
    const char *not_python;
};

/*
 * Choose the interpreter (python_opt: --python or NULL; venv_opt: --venv or
 * NULL) and probe it. Returns 0, or -PYSCOPE_EUSAGE with the reason in err
 * (no such file, not a virtualenv, no python3 on PATH, it would not run; a
 * program that is not a Python interpreter also sets ps->not_python, and err
 * then names the supported versions).
 * Release ps with pyselect_release() either way.
 */
int pyselect_choose(const char *python_opt, const char *venv_opt, struct pyselect *ps, char *err,
                    size_t errlen);

/*
 * Probe python (a path, or a command name looked up on PATH) that a caller found
 * itself, as pyselect_choose probes --python: the agent's candidates
 * (agent/pythons.h). ps->how is how (static: where the caller found it, e.g.
 * "pyenv"); err names neither --python nor --venv (they are pyscope-run's
 * choices, not the caller's), and not the origin either: the caller, who knows
 * it, says it. Returns as pyselect_choose; release ps with pyselect_release().
 */
int pyselect_choose_found(const char *python, const char *how, struct pyselect *ps, char *err,
                          size_t errlen);

/*
 * Check that ps can be profiled, with pyscope-run's modules in shim_dir.
 * Returns 0, or -PYSCOPE_EUSAGE with the reason in err (it names the
 * supported versions).
 */
int pyselect_check(const struct pyselect *ps, const char *shim_dir, char *err, size_t errlen);

/* "CPython 3.12.1" and the like, for messages (static buffer of ps). */
void pyselect_describe(const struct pyselect *ps, char *buf, size_t len);

void pyselect_release(struct pyselect *ps);

/* The folder holding the modules (sitecustomize.cpython-3XY-*.so): pyshim/ next
 * to the pyscope-run executable (the build tree), else <libdir>/pyscope/pyshim
 * found from its bin folder (installed: ../lib/pyscope/pyshim by default,
 * CMAKE_INSTALL_LIBDIR decides). New string, or NULL (err says why). */
char *pyselect_shim_dir(char *err, size_t errlen);

/* The same for the pyscope-run executable at exe (the agent's runner). */
char *pyselect_shim_dir_of(const char *exe, char *err, size_t errlen);

#endif
