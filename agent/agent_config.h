/*
 * agent_config.h - pyscope-agent's settings: command line and config file.
 *
 * Settings come from built-in defaults, then the INI file given with
 * --config (libinih; every key is documented in deploy/agent.conf.example),
 * then the command line, each overriding the one before. Labels add up.
 */
#ifndef PYSCOPE_AGENT_CONFIG_H
#define PYSCOPE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AGENT_MAX_LABELS 32
#define AGENT_PROCS_AUTO UINT32_MAX /* max_procs unset: see sandbox.h */

/* Everything the agent needs to know; strings are owned by the config. */
struct agent_config {
    char *coordinator;     /* ZeroMQ endpoint, tcp://HOST:PORT */
    char *workspace;       /* real path of the folder scripts are resolved in; NULL when
                            * the agent has a repo and runs only jobs with a commit */
    char *name;            /* agent name (DEALER routing id); default: hostname */
    char *spool;           /* spool folder */
    char *runner;          /* pyscope-run executable */
    char *python;          /* the default interpreter (jobs that ask for no Python) */
    bool python_given;     /* python came from the file or --python, not the default */
    char *pythons;         /* more interpreters jobs may ask for: "a, b" (pythons.h), or NULL */
    bool discover_pythons; /* also python3 on PATH and pyenv's versions (pythons.h) */
    char *secret_key;      /* CURVE: this agent's NAME.key_secret (or NAME), or NULL */
    char *coordinator_key; /* CURVE: the coordinator's public coordinator.key, or NULL */
    char *run_as;          /* the job user (agent as root), "root", or NULL: pyscope-job */
    char *repo;            /* git repository jobs with a commit check out from (path or URL) */
    char *revisions;       /* the cache of checkouts (lib/gitrev.h); default: beside the spool */
    char *git;             /* the git program */
    uint64_t revision_cache_size; /* trees above this many bytes are removed, oldest first */
    double revision_cache_age_s;  /* trees unused this long are removed; 0 = never */
    double fetch_timeout_s;       /* one git fetch or checkout */
    char *job_env;                /* more variable names jobs inherit (sandbox.h), or NULL */
    char *label_keys[AGENT_MAX_LABELS];
    char *label_values[AGENT_MAX_LABELS];
    size_t n_labels;
    unsigned max_jobs;          /* jobs run at the same time, 1..64 */
    uint64_t memory_limit;      /* RLIMIT_AS of a job, bytes (a job's own limit wins) */
    uint64_t file_size_limit;   /* RLIMIT_FSIZE of a job, bytes; 0 = none */
    unsigned max_procs;         /* RLIMIT_NPROC of a job; 0 = none; AGENT_PROCS_AUTO */
    uint64_t tmp_size;          /* private /tmp of a job (agent as root), bytes; 0 = none */
    uint64_t output_limit;      /* a job's stdout + stderr, bytes; past it the job is killed */
    double kill_grace_s;        /* slack past the job's own timeouts before the agent kills */
    unsigned dead_periods;      /* heartbeats without a pong before the link is dead */
    unsigned resend_s;          /* resend an unacked result after this long */
    unsigned connect_timeout_s; /* resend Hello when no Welcome came in this long */
    int verbose;                /* debug logging */
};

/*
 * Fill cfg from argv (borrowed) and the config file it names. Returns 0,
 * 1 when --help or --version was printed (exit 0), or -PYSCOPE_EUSAGE with
 * the problem logged. On success the caller owns cfg's contents
 * (agent_config_release), on failure they are released already.
 */
int agent_config_load(struct agent_config *cfg, int argc, char **argv);

/* Free cfg's strings (not cfg itself). */
void agent_config_release(struct agent_config *cfg);

/* Print the usage text to out. */
void agent_config_usage(FILE *out);

#endif
