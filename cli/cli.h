/*
 * cli.h - pyscope's subcommands.
 *
 * main.c dispatches "pyscope COMMAND ..." to one function per subcommand, each in
 * its own file. A subcommand gets its own argv (argv[0] is the command name) and
 * returns the process exit status (enum pyscope_exit in errors.h).
 */
#ifndef PYSCOPE_CLI_H
#define PYSCOPE_CLI_H

#include <stdio.h>

/* "pyscope run [options] SCRIPT [ARGS...]": profile a script locally (run.c). */
int cli_run_main(int argc, char **argv);
/* Print the help of "pyscope run" to out (borrowed). */
void cli_run_help(FILE *out);

#endif
