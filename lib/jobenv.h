/*
 * jobenv.h - environment variables a suite sets for its scripts.
 *
 * A job's environment is the agent's allowlist (agent/sandbox.h,
 * docs/security.md) plus what its suite sets (`env = NAME=VALUE` lines,
 * docs/suite-format.md). What a suite may set is checked in one place, here,
 * by everyone who handles it: the suite parser (the submitter sees the
 * problem with its file and line), the wire decoder (the coordinator refuses
 * a Submit, the agent a Job, whoever built it) and the agent when it builds
 * the job's environment.
 *
 * Refused, each with the reason in the message:
 *   - PYSCOPE_*: PyScope's own settings (runner, fault injection);
 *   - LD_* and the C library's other "unsecure" variables (GLIBC_TUNABLES,
 *     GCONV_PATH, MALLOC_TRACE, ...: the ones glibc drops for setuid
 *     programs): they load code or files into the runner, which could then
 *     forge its measurements;
 *   - Python's code-loading variables (PYTHONPATH, PYTHONHOME,
 *     PYTHONSTARTUP, PYTHONUSERBASE, ...): the runner chooses the interpreter
 *     and loads its profiler through them;
 *   - the variables the agent sets itself (PATH, VIRTUAL_ENV, HOME, TMPDIR,
 *     USER, LOGNAME): which interpreter runs and whose files the job sees.
 * Everything else with a valid name may be set (PYTHONHASHSEED, LANG, TZ,
 * OMP_NUM_THREADS, a script's own switches), and wins over the agent's value.
 */
#ifndef PYSCOPE_JOBENV_H
#define PYSCOPE_JOBENV_H

#include <stdbool.h>
#include <stddef.h>

#define JOBENV_MAX_VARS  64u   /* per job */
#define JOBENV_MAX_NAME  128u  /* bytes of a name */
#define JOBENV_MAX_VALUE 4096u /* bytes of a value */

/*
 * Why the variable name[0..len) may not be set by a suite (a static,
 * lowercase sentence that names the rule), or NULL when it may be.
 */
const char *jobenv_name_refused(const char *name, size_t len);

/*
 * Check one "NAME=VALUE" entry (borrowed): a valid name (letters, digits and
 * _, not starting with a digit, at most 128 bytes) that may be set, and a
 * value of at most 4096 bytes without control characters. Returns NULL when
 * it is fine, else writes the problem into why (n bytes) and returns why.
 */
const char *jobenv_check(const char *entry, char *why, size_t n);

/*
 * Check a list of entries (borrowed): each as jobenv_check(), at most
 * JOBENV_MAX_VARS, no name twice. On a problem returns the index of the
 * entry at fault (or n_env for the count) and writes why; -1 when all is well.
 */
long jobenv_check_list(const char *const *env, size_t n_env, char *why, size_t n);

/* True when list (names separated by spaces, commas or tabs; NULL = none) holds name[0..len). */
bool jobenv_listed(const char *list, const char *name, size_t len);

/* Length of the name part of entry (up to the first '='). */
size_t jobenv_name_len(const char *entry);

#endif
