/*
 * cli.h - pyscope's subcommands.
 *
 * main.c dispatches "pyscope COMMAND ..." to one function per subcommand, each in
 * its own file. A subcommand gets its own argv (argv[0] is the command name) and
 * returns the process exit status (enum pyscope_exit in errors.h).
 */
#ifndef PYSCOPE_CLI_H
#define PYSCOPE_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* "pyscope run [options] SCRIPT [ARGS...]": profile a script locally (run.c). */
int cli_run_main(int argc, char **argv);
/* Print the help of "pyscope run" to out (borrowed). */
void cli_run_help(FILE *out);

/* "pyscope compare [options] BASELINE CANDIDATE...": compare saved reports (compare.c). */
int cli_compare_main(int argc, char **argv);
/* Print the help of "pyscope compare" to out (borrowed). */
void cli_compare_help(FILE *out);

/* "pyscope history [options] SCRIPT": a script's runs over time (history.c). */
int cli_history_main(int argc, char **argv);
/* Print the help of "pyscope history" to out (borrowed). */
void cli_history_help(FILE *out);

/* "pyscope try --base REV --head REV SCRIPT": an interleaved A/B of two revisions (try.c). */
int cli_try_main(int argc, char **argv);
void cli_try_help(FILE *out);
/* "pyscope bisect --good A --bad B SCRIPT": the commit that made SCRIPT slower (bisect.c). */
int cli_bisect_main(int argc, char **argv);
void cli_bisect_help(FILE *out);
/*
 * The status line of `pyscope run` (cli/run_progress.c): NULL, and *fd_arg
 * NULL, unless stderr is a terminal and quiet is false; else *fd_arg is the
 * descriptor number (borrowed, lives as the result) for pyscope-run's
 * --progress-fd. run_progress_end() erases the line and frees; NULL-safe.
 */
struct run_progress;
struct run_progress *run_progress_start(bool quiet, const char *script, const char **fd_arg);
void run_progress_end(struct run_progress **rp);

#endif
