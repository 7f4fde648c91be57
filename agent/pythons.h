/*
 * pythons.h - the Python interpreters this agent can run jobs under
 * (docs/pythons.md).
 *
 * The candidates, in this order: the agent's `python` (its default), the
 * `pythons =` list of the config (paths, or names looked up on PATH), then,
 * unless `discover_pythons = no`, python3 on PATH and every pyenv version
 * ($PYENV_ROOT, else ~/.pyenv: versions/NAME/bin/python3). Each is probed as
 * pyscope-run probes it (agent/runner/pyselect.h: launchers resolved to the
 * binary they start) and kept when pyscope-run can profile it (CPython
 * 3.10-3.13 with its module in pyscope-run's pyshim/), when the jobs see it
 * (not in a folder their private /tmp hides: sandbox_job_sees) and, for an
 * agent that runs jobs as another user, when that user can reach it; every
 * one left out gets a log line saying why. The same binary found twice is kept
 * once. One the operator named (python = when set, pythons =) that runs but is
 * not a working Python interpreter (a typo such as /bin/true) is not left out
 * but refused: the agent does not start on it.
 */
#ifndef PYSCOPE_AGENT_PYTHONS_H
#define PYSCOPE_AGENT_PYTHONS_H

#include <stdbool.h>
#include <stddef.h>

#include "agent_config.h"
#include "sandbox.h"
#include "wire.h"

struct agent_python {
    char *path; /* what pyscope-run gets as --python (owned) */
    char *version, *build, *executable, *implementation, *abiflags; /* owned */
};

struct agent_pythons {
    struct agent_python *v; /* n, in candidate order */
    size_t n;
    struct wire_python *wire; /* the same, borrowed strings, for Hello.pythons */
    char *default_unusable;   /* why the agent's own python (jobs that ask for none run
                               * under it) is not usable, or NULL (owned) */
};

/* Find and probe the candidates of cfg for jobs run as sb says (sb->drop: the
 * job user is not the agent's, a folder on the way must let others through).
 * Returns 0, or -PYSCOPE_EUSAGE (logged) when one the operator named is not a
 * working Python interpreter. Release ps with agent_pythons_release() either way. */
int agent_pythons_find(struct agent_pythons *ps, const struct agent_config *cfg,
                       const struct sandbox *sb);

/* The interpreter that request req (lib/pyreq.h, non-empty) names: the first
 * match, or NULL. */
const struct agent_python *agent_pythons_match(const struct agent_pythons *ps, const char *req);

/* "3.11.2 (/usr/bin/python3.11), 3.12.1 (...)" into buf: for messages. */
void agent_pythons_describe(const struct agent_pythons *ps, char *buf, size_t len);

void agent_pythons_release(struct agent_pythons *ps);

#endif
