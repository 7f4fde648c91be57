/*
 * status.c - "pyscope status BATCH": one batch's progress and results.
 */
#include <stdbool.h>

#include "farm_cmds.h"

void cmd_status_help(FILE *out)
{
    fputs("Usage: pyscope status BATCH [--json] [--coordinator URL]\n"
          "\n"
          "Show a batch: its state, its jobs and the outcome of every run.\n"
          "\n"
          "  --json               print the coordinator's JSON\n" FARM_OPTIONS_HELP,
          out);
}

int cmd_status(int argc, char **argv)
{
    return farm_simple_query(argc, argv, WIRE_QUERY_BATCH, true, cmd_status_help);
}
