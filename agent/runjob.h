/*
 * runjob.h - one job in a child pyscope-run, with limits and a backstop.
 *
 * The runner runs in its own session (so its own process group), confined
 * by sandbox.h (rlimits; as root: a job user, namespaces, a private /tmp),
 * stdin from /dev/null, its stdout, stderr and result document (--output-fd)
 * in a private folder of the agent's, and the job's timeout passed as
 * --timeout. The agent enforces a deadline of its own on
 * top (every run's timeout plus a grace period): past it, everything in the
 * runner's session is killed. The agent is a child subreaper, so processes
 * that leave the session are still its descendants and are reaped.
 */
#ifndef PYSCOPE_AGENT_RUNJOB_H
#define PYSCOPE_AGENT_RUNJOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_config.h"
#include "sandbox.h"
#include "wire.h"

/* A job the agent accepted; every string is owned. */
struct runjob {
    uint64_t job_id;
    uint32_t attempt;
    char *script;      /* the job's script key (normalized, relative) */
    char *python;      /* the Python the job asks for (lib/pyreq.h), "" = the default */
    char *python_path; /* the interpreter chosen for it (agent/pythons.h), or NULL: cfg's */
    char **args;       /* n_args arguments */
    size_t n_args;
    char **env; /* n_env "NAME=VALUE" its suite sets (lib/jobenv.h) */
    size_t n_env;
    uint32_t repeat, warmup;
    enum wire_mode mode;
    double timeout_s;
    uint64_t memory_limit; /* the job's own, 0 = the agent's */
    bool instructions;     /* count instructions too (pyscope-run --instructions, valgrind) */
    uint32_t interval_us;  /* sampling period (Job.interval_us; 0: 10 ms, older coordinators) */
    char *reference;       /* a confirmation's reference script key ("" = none) */
    char *reference_abs;   /* it resolved like the script (owned; NULL: none, or missing) */
    uint64_t memory_eff;   /* the RLIMIT_AS it ran with */
    unsigned procs_peak;   /* most tasks of the job user seen at once */
    uint64_t vm_peak;      /* largest VmPeak of the job's processes sampled, bytes */
    double vm_at;          /* when it was last sampled (runjob_now()) */
    double procs_at;       /* when they were last counted (monotonic seconds) */
    pid_t pid;             /* the runner, 0 when not started or reaped */
    int status;            /* its wait status once reaped */
    bool exited;           /* reaped */
    bool killed;           /* the agent's backstop killed it */
    bool output_over;      /* killed: its stdout + stderr passed the output limit */
    double deadline;       /* monotonic seconds */
    double started;        /* monotonic seconds when the runner was started */
    char *tmpdir;          /* private folder: out.json, stdout, stderr */
    char started_at[40];   /* RFC 3339 UTC */
    char sha256[65];       /* of the script as resolved by the agent, or "" */
    char commit[65];       /* the commit to run at, or "" (the agent's workspace) */
    char *tree;            /* the commit's read-only checkout once ready (owned), or NULL */
    int tree_lock;         /* its cache lock (lib/gitrev.h), held while the job lives; -1 */
    bool preparing;        /* pid is the checkout child (agent/checkout.h), not the runner */
    int prep_fd;           /* the checkout child's message pipe, or -1 */
};

/* Copy job (borrowed) into a new runjob (caller owns; runjob_destroy). */
struct runjob *runjob_new(const struct wire_job *job);

/* Kill what is left of rj's session, remove its folder, free it; NULL-safe. */
void runjob_destroy(struct runjob **rj);

/*
 * The bytes rj's stdout and stderr files hold now (the runner's and the
 * script's output; the files are the agent's, in the job folder).
 */
uint64_t runjob_output_bytes(const struct runjob *rj);

/* Job folders live in SPOOL/RUNJOB_DIR (the agent's own 0700 folder). */
#define RUNJOB_DIR "jobs"

/*
 * At agent start: make SPOOL/RUNJOB_DIR (borrowed spool path), and remove
 * every job folder in it: an agent that was killed (kill -9, a crash, a
 * power cut) left them behind, with its jobs' output. Returns how many were
 * removed (logged), or -errno.
 */
int runjob_sweep(const char *spool);

/*
 * Start the runner for rj on script_abs (borrowed, resolved inside the
 * workspace: rj->tree when the job names a commit, else the agent's),
 * confined by sb (borrowed). Returns 0, or -errno with a message in err.
 */
int runjob_start(struct runjob *rj, const struct agent_config *cfg, const struct sandbox *sb,
                 const char *script_abs, char *err, size_t errlen);

/* Kill every process of rj's session (SIGKILL). */
void runjob_kill(struct runjob *rj);

/*
 * Kill every child of this process except the n_keep pids in keep (borrowed):
 * orphans of jobs that left their session, adopted by the agent as subreaper.
 */
void runjob_kill_orphans(const pid_t *keep, size_t n_keep);

/* How often the job user's tasks are counted while jobs run, in seconds. */
#define RUNJOB_PROCS_PERIOD 0.2

/* Count the job user's tasks (at most every RUNJOB_PROCS_PERIOD) into the n
 * running jobs' procs_peak; now is runjob_now(). */
void runjob_note_procs(struct runjob **running, size_t n, const struct sandbox *sb, double now);

/*
 * Sample the address-space high-water mark (VmPeak, /proc/PID/status) of each
 * running job's processes (the runner and its descendants, at most every
 * RUNJOB_PROCS_PERIOD) into its vm_peak: the agent's own accounting of how
 * near a job came to its memory limit (RLIMIT_AS). now is runjob_now().
 */
void runjob_note_memory(struct runjob **running, size_t n, double now);

/*
 * When a limit stopped rj (sandbox_explain: time, memory, processes, file
 * size, disk), write "stopped by <limits>: <the runner's message>" into buf
 * and return true. When the script raised MemoryError (or ENOMEM) under a
 * limit that the accounting shows it never came near, write "<the runner's
 * message> (raised MemoryError at N MiB of an M MiB limit: ...)" and return
 * true. Else false. run (borrowed) is the runner's document.
 */
bool runjob_limit_message(const struct runjob *rj, const struct sandbox *sb, const json_t *run,
                          char *buf, size_t n);

/* Monotonic clock in seconds. */
double runjob_now(void);

#endif
