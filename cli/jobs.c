/*
 * jobs.c - "pyscope jobs [--batch ID]": the coordinator's job queue.
 */
#include <stdbool.h>

#include "farm_cmds.h"

void cmd_jobs_help(FILE *out)
{
    fputs("Usage: pyscope jobs [--batch ID] [--limit N] [--json] [--coordinator URL]\n"
          "\n"
          "List jobs (newest first): batch, script, host, state, attempt, lease.\n"
          "\n"
          "  --batch ID           only the jobs of this batch\n"
          "  --limit N            at most N rows (1..1000)\n"
          "  --json               print the coordinator's JSON\n" FARM_OPTIONS_HELP,
          out);
}

int cmd_jobs(int argc, char **argv)
{
    return farm_simple_query(argc, argv, WIRE_QUERY_JOBS, false, cmd_jobs_help);
}
