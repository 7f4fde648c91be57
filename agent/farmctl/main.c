/*
 * farmctl/main.c - pyscope-farm: TEMPORARY dispatcher for the farm commands.
 *
 * Until cli/main.c dispatches submit/hosts/jobs/status (cli/farm_cmds.h),
 * this tiny program does, so the farm can be tested and deploy/farm.sh can
 * run. Delete it once "pyscope submit" exists.
 */
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "farm_cmds.h"
#include "keygen.h"
#include "log.h"

int main(int argc, char **argv)
{
    log_init("pyscope", LOG_LEVEL_INFO);
    static const struct {
        const char *name;
        int (*run)(int, char **);
        void (*help)(FILE *);
    } cmds[] = {
        {"submit", cmd_submit, cmd_submit_help}, {"hosts", cmd_hosts, cmd_hosts_help},
        {"jobs", cmd_jobs, cmd_jobs_help},       {"status", cmd_status, cmd_status_help},
        {"keygen", cmd_keygen, cmd_keygen_help}, {"report", cmd_report, cmd_report_help},
        {"triage", cmd_triage, cmd_triage_help},
    };
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
            if (strcmp(argv[1], cmds[i].name) == 0)
                return cmds[i].run(argc - 1, argv + 1);
    }
    fputs("Usage: pyscope-farm submit|hosts|jobs|status|keygen|report|triage [OPTIONS]\n", stderr);
    return PYSCOPE_EXIT_USAGE;
}
