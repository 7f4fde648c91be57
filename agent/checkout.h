/*
 * checkout.h - a job's commit, checked out read-only before it runs
 * (docs/revisions.md).
 *
 * A job that names a commit runs in DIR/trees/HASH of the agent's revision
 * cache (lib/gitrev.h), never in a developer's checkout. Fetching and
 * checking out may take minutes, and the agent's loop must keep answering
 * the coordinator meanwhile, so the work happens in a child: the agent
 * binary itself, started again as `pyscope-agent --checkout ...` (a fresh
 * program image: the agent has ZeroMQ's threads, and a forked copy of a
 * threaded process may only exec). The child fetches the commit into the
 * mirror when it is missing, checks it out, removes old trees past the
 * cache's limits, prints one line (the tree, or what went wrong) on its
 * stdout, a pipe the agent reads once it has reaped it, and exits:
 *   0  the tree is ready
 *   2  the repository does not have the commit (the job is refused: no
 *      retry can help)
 *   1  anything else (git missing, the origin unreachable, a full disk: the
 *      job ends as an error and the coordinator hands it out again)
 */
#ifndef PYSCOPE_AGENT_CHECKOUT_H
#define PYSCOPE_AGENT_CHECKOUT_H

#include <stddef.h>
#include <sys/types.h>

#include "agent_config.h"

#define CHECKOUT_EXIT_OK      0
#define CHECKOUT_EXIT_ERROR   1
#define CHECKOUT_EXIT_UNKNOWN 2

/* True when argv asks for the child mode (argv[1] is "--checkout"). */
int checkout_is_child(int argc, char **argv);

/* The child mode's main: returns the exit status above. */
int checkout_child_main(int argc, char **argv);

/*
 * Start the child for commit hash with cfg's repository and cache, in a
 * session of its own. Returns its pid with *msg_fd (the read end of its
 * stdout, non-blocking; caller closes), or -errno with err.
 */
pid_t checkout_start(const struct agent_config *cfg, const char *hash, int *msg_fd, char *err,
                     size_t errlen);

/* Read the child's line from msg_fd (after it exited) into buf; closes msg_fd. */
void checkout_read_message(int msg_fd, char *buf, size_t n);

#endif
