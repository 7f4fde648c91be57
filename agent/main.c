/*
 * main.c - pyscope-agent: a farm host's daemon (docs/DESIGN.md §11).
 *
 * Reads its settings (config.c) and runs the event loop (agent.c) until
 * SIGTERM. Exit status: 0 after a clean shutdown, 2 for bad settings
 * (also those found at start: the run_as user, the keys, the spool),
 * 4 when it could not start otherwise.
 */
#include "agent.h"
#include "checkout.h"
#include "agent_config.h"
#include "errors.h"
#include "log.h"

int main(int argc, char **argv)
{
    if (checkout_is_child(argc, argv)) /* a job's commit being checked out (checkout.h) */
        return checkout_child_main(argc, argv);
    log_init("pyscope-agent", LOG_LEVEL_INFO);
    struct agent_config cfg;
    int rc = agent_config_load(&cfg, argc, argv);
    if (rc == 1)
        return PYSCOPE_EXIT_OK;
    if (rc < 0)
        return PYSCOPE_EXIT_USAGE;
    if (cfg.verbose)
        log_init("pyscope-agent", LOG_LEVEL_DEBUG);
    rc = agent_run(&cfg);
    agent_config_release(&cfg);
    if (rc == -PYSCOPE_EUSAGE) /* a setting it cannot start with (run_as, keys, spool), said */
        return PYSCOPE_EXIT_USAGE;
    return rc < 0 ? PYSCOPE_EXIT_INTERNAL : PYSCOPE_EXIT_OK;
}
