/*
 * cachegrind.h - count the instructions a script executes, under valgrind.
 *
 * pyscope-run --instructions runs the script once more per measured repeat
 * as `valgrind --tool=cachegrind --cache-sim=no python3 SCRIPT ARGS`, with
 * the profiler off and PYTHONHASHSEED=0 unless the user set it: the count of
 * executed instructions ("I refs", cachegrind's Ir event) is then the same
 * from run to run, where wall and CPU time vary by several percent on a shared
 * machine. Valgrind 3.19 has no client request to start or stop counting for
 * cachegrind, so the whole process is counted (interpreter start-up
 * included). Each process writes its own output file (%p in the name): only
 * the script's process is read; forked children and subprocesses are not
 * counted (their files are deleted unread).
 */
#ifndef PYSCOPE_RUNNER_CACHEGRIND_H
#define PYSCOPE_RUNNER_CACHEGRIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The longest line of an output file accepted (longer: malformed). */
#define CACHEGRIND_MAX_LINE (1u << 20)
/* An instruction run may take this many times --timeout (valgrind is ~25x slower). */
#define CACHEGRIND_TIMEOUT_FACTOR 50.0
/* What the user is told when valgrind is missing. */
#define CACHEGRIND_INSTALL_HINT "--instructions needs valgrind: apt-get install valgrind"

/*
 * Parse a cachegrind output file read from f: exactly one "events:" line
 * naming Ir, then exactly one "summary:" line with one whole decimal number
 * per event, ended by a newline (a file cut short has none). Sets *ir to the
 * Ir total (at most INT64_MAX, a JSON integer); untouched on failure. Returns 0, -PYSCOPE_EPARSE
 * (malformed or truncated) or -PYSCOPE_ERANGE (a number too large), with a
 * reason in err (lowercase, no final period).
 */
int cachegrind_parse(FILE *f, uint64_t *ir, char *err, size_t errlen);

/* cachegrind_parse() of the file at path; -errno when it cannot be opened. */
int cachegrind_read_file(const char *path, uint64_t *ir, char *err, size_t errlen);

/*
 * The valgrind program: the first executable "valgrind" in the folders of
 * path_env (a $PATH value; NULL or empty: none). Returns a new string, or
 * NULL when there is none.
 */
char *cachegrind_find_valgrind(const char *path_env);

/* What one instruction run needs (all borrowed). */
struct cachegrind_run {
    const char *valgrind; /* from cachegrind_find_valgrind */
    const char *program;  /* the interpreter (sys.executable) */
    const char *script;
    int argc;
    char *const *argv;
    const char *out_dir; /* a private folder for valgrind's files (emptied after each run) */
    int close_fd;        /* a descriptor the script must not inherit, or -1 */
};

/*
 * The child's work for supervise_run(): set PYTHONHASHSEED to "0" when it is
 * unset or empty, then exec valgrind on the script (never returns; exit 127
 * when valgrind cannot be executed). arg is a struct cachegrind_run.
 */
void cachegrind_child_main(void *arg);

/*
 * After the child pid ended: read the count from its output file in
 * r->out_dir, then delete every file there (children's files and valgrind's
 * log too). On a parse failure the log's last lines go to stderr. Returns 0
 * and *ir, or a negative code with a reason in err.
 */
int cachegrind_collect(const struct cachegrind_run *r, int pid, uint64_t *ir, char *err,
                       size_t errlen);

/*
 * After the child pid exited with a non-zero status (no signal, no time limit): did
 * valgrind itself fail, before or instead of running the script to its end? Cachegrind
 * writes the client's output file whenever the client ends (its exit status is then
 * valgrind's, sys.exit(3) and os._exit included): no file means the script never ran to
 * an end under it (a bad option, a valgrind that cannot start the interpreter, a broken
 * valgrind, a stand-in that exits 1). A script that fails only under valgrind leaves the
 * file, and is the script's failure.
 */
bool cachegrind_valgrind_failed(const struct cachegrind_run *r, int pid);

/* Print the tail of valgrind's log in r->out_dir to stderr (after a failed run). */
void cachegrind_print_log(const struct cachegrind_run *r);

/* Delete every file in r->out_dir (after a failed run; the folder stays). */
void cachegrind_discard(const struct cachegrind_run *r);

/*
 * The hash seed an instruction run uses: the user's PYTHONHASHSEED when set
 * and not empty (*from_env = true), else "0". Borrowed (environment or static).
 */
const char *cachegrind_hash_seed(bool *from_env);

#endif
