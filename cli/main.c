/*
 * main.c - pyscope: the command line (docs/DESIGN.md §2).
 *
 * "pyscope COMMAND [OPTIONS] ..." dispatches to one function per subcommand
 * (cli.h). This file also owns --help and --version for the whole program and
 * the one piece of process state, the log setup.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "errors.h"
#include "farm_cmds.h"
#include "keygen.h"
#include "log.h"

/* One subcommand: its name, entry point, help and one-line summary. */
struct main_command {
    const char *name;
    int (*run)(int argc, char **argv);
    void (*help)(FILE *out);
    const char *summary;
};

static const struct main_command main_commands[] = {
    {"run", cli_run_main, cli_run_help, "profile a script: report, JSON + HTML, regression check"},
    {"compare", cli_compare_main, cli_compare_help, "compare saved reports: verdicts, JSON, HTML"},
    {"history", cli_history_main, cli_history_help, "a script's runs over time, change points"},
    {"try", cli_try_main, cli_try_help, "is revision B slower than A? interleaved A/B runs"},
    {"bisect", cli_bisect_main, cli_bisect_help,
     "which commit made it slower? bisection with A/B runs"},
    {"submit", cmd_submit, cmd_submit_help, "send a suite to the farm (a batch of jobs)"},
    {"hosts", cmd_hosts, cmd_hosts_help, "list the farm's hosts"},
    {"jobs", cmd_jobs, cmd_jobs_help, "list the farm's jobs"},
    {"status", cmd_status, cmd_status_help, "show a batch's progress"},
    {"report", cmd_report, cmd_report_help, "the team report: regressions, hosts, HTML"},
    {"compare-hosts", cmd_compare_hosts, cmd_compare_hosts_help,
     "one script on host A vs host B of the farm: ratio, CI"},
    {"compare-pythons", cmd_compare_pythons, cmd_compare_pythons_help,
     "one script under each Python build of a farm host: ratios, CI, verdicts"},
    {"triage", cmd_triage, cmd_triage_help, "mark a regression ack|expected|fixed|invalid"},
    {"keygen", cmd_keygen, cmd_keygen_help, "write a CURVE key pair for an agent or submitter"},
};

#define MAIN_N_COMMANDS (sizeof(main_commands) / sizeof(main_commands[0]))

static void main_help(FILE *out)
{
    fputs("Usage: pyscope COMMAND [OPTIONS] [ARGS...]\n"
          "\n"
          "PyScope: did my Python code get slower than before, and why?\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < MAIN_N_COMMANDS; i++)
        fprintf(out, "  %-13s %s\n", main_commands[i].name, main_commands[i].summary);
    fputs("  help          show the help of a command (pyscope help run)\n"
          "\n"
          "Options:\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "Example: pyscope run examples/slow_script.py\n"
          "Exit status: 0 ok, 1 regression (with --fail-on-regression), 2 usage error,\n"
          "3 the script failed, 4 internal error, 124 timeout.\n",
          out);
}

static const struct main_command *main_find(const char *name)
{
    for (size_t i = 0; i < MAIN_N_COMMANDS; i++)
        if (strcmp(main_commands[i].name, name) == 0)
            return &main_commands[i];
    return NULL;
}

/* True when s names an existing file ending in ".py": "pyscope script.py" (the form
 * PyScope's first version took) gets a hint. */
static bool main_looks_like_script(const char *s)
{
    size_t n = strlen(s);
    struct stat st;
    return n > 3 && strcmp(s + n - 3, ".py") == 0 && stat(s, &st) == 0 && !S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
    log_init("pyscope", LOG_LEVEL_INFO);
    if (argc < 2) {
        main_help(stderr);
        return PYSCOPE_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        main_help(stdout);
        return PYSCOPE_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("pyscope %s\n", PYSCOPE_VERSION);
        return PYSCOPE_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            main_help(stdout);
            return PYSCOPE_EXIT_OK;
        }
        const struct main_command *c = main_find(argv[2]);
        if (!c) {
            log_error("unknown command \"%s\"", argv[2]);
            fputs("Try 'pyscope --help' for the list of commands.\n", stderr);
            return PYSCOPE_EXIT_USAGE;
        }
        c->help(stdout);
        return PYSCOPE_EXIT_OK;
    }
    const struct main_command *c = main_find(cmd);
    if (c)
        return c->run(argc - 1, argv + 1);

    if (cmd[0] == '-')
        log_error("unknown option %s", cmd);
    else
        log_error("unknown command \"%s\"", cmd);
    if (main_looks_like_script(cmd))
        fprintf(stderr, "Did you mean 'pyscope run %s'?\n", cmd);
    else
        fputs("Try 'pyscope --help' for the list of commands.\n", stderr);
    return PYSCOPE_EXIT_USAGE;
}
