/*
 * sandbox.h - what a job's script may do to the host it runs on (docs/DESIGN.md §10).
 *
 * A script on the farm is untrusted: it must not read the agent's secret key
 * or spool, and a fork bomb, a memory hog, a disk filler or an endless loop
 * must stop at a limit while the agent goes on. The agent starts each runner
 * through sandbox_spawn(), which applies, in the child, before exec:
 *
 *  - rlimits: RLIMIT_AS (memory), RLIMIT_FSIZE (largest file), RLIMIT_NPROC
 *    (processes of the job user: a fork bomb gets EAGAIN), no core dumps;
 *  - when the agent is root: a mount namespace and a pid namespace of the
 *    job's own (like systemd's PrivateTmp): /tmp, /var/tmp, /dev/shm and
 *    /run/lock are one private tmpfs of tmp_size bytes (a disk filler fills
 *    that, not the host's disk), /proc shows only the job's processes, the
 *    workspace is read-only (and so is the runner's folder, when it lived
 *    under one of those: a wrapper script and its files), and when the runner (the namespace's
 * init) ends, the kernel kills every process the script left, however it hid;
 *  - when the agent is root: the job user's identity (setgroups, setresgid,
 *    setresuid, checked to have stuck, root proved unreachable), so files
 *    mode 0600 root (secret key, spool) are out of reach; then
 *    PR_SET_NO_NEW_PRIVS and the parent-death signal.
 *
 * The job user is run_as (default "pyscope-job" when it exists). Jobs run as
 * root only when run_as = root says so, with a warning at start. An agent
 * that is not root runs jobs as itself, with the rlimits only.
 *
 * When a job ends, sandbox_explain() names the limit that stopped it (time,
 * memory, processes, file size, disk) for the result's message.
 */
#ifndef PYSCOPE_AGENT_SANDBOX_H
#define PYSCOPE_AGENT_SANDBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent_config.h"

#define SANDBOX_DEFAULT_USER  "pyscope-job"
#define SANDBOX_DEFAULT_NPROC 256u /* RLIMIT_NPROC when jobs have a user of their own */

/* How jobs are confined: filled once by sandbox_init, then read-only. */
struct sandbox {
    bool drop;                /* jobs run as uid/gid (the agent is root) */
    uid_t uid;                /* the job user */
    gid_t gid;                /* its primary group (its only group) */
    char user[64];            /* its name, for messages and the job's environment */
    bool private_ns;          /* mount + pid namespace, private /tmp, read-only workspace */
    char tmp_opts[64];        /* mount options of the private tmpfs */
    uint64_t tmp_size;        /* its size in bytes */
    unsigned max_procs;       /* RLIMIT_NPROC, 0 = none */
    uint64_t file_size_limit; /* RLIMIT_FSIZE, 0 = none */
    const char *workspace;    /* borrowed from the config; NULL when only commits run */
    const char *job_env;      /* borrowed from the config: more names jobs inherit, or NULL */
    char runner_dir[1024];    /* kept visible, read-only, under the private /tmp, or "" */
};

/* What one runner is started with; everything is borrowed. */
struct sandbox_exec {
    const char *path;      /* the runner */
    char *const *argv;     /* its arguments, NULL-terminated */
    char *const *envp;     /* its environment (sandbox_env_new) */
    int fd_in, fd_out;     /* become its descriptors 0, 1 */
    int fd_err, fd_doc;    /* 2, and 3 (the result document; -1: none) */
    uint64_t memory_limit; /* RLIMIT_AS in bytes, 0 = none */
    const char *workspace; /* the job's read-only folder (a commit's tree), or NULL:
                            * the agent's workspace */
};

/*
 * Decide how jobs run for cfg (borrowed; must outlive sb): look up the job
 * user, check that namespaces work here. Returns 0 (with a warning logged
 * when jobs run as root or without namespaces), or -PYSCOPE_EUSAGE with the
 * problem and its fix in err (the agent must not start).
 */
int sandbox_init(struct sandbox *sb, const struct agent_config *cfg, char *err, size_t errlen);

/*
 * The PATH a job sees (new string): path without the folders its private /tmp hides
 * (under /tmp, /var/tmp, /dev/shm or /run/lock, except the workspace and the runner's
 * folder, which are bound back); path as it is when jobs share the host's /tmp. What the
 * agent looks for programs in that pyscope-run will look for (valgrind).
 */
char *sandbox_job_path(const struct sandbox *sb, const char *path);

/*
 * Whether a job sees path (absolute) as the agent does: not under a folder its private /tmp
 * hides, or in the workspace or the runner's folder (bound back); always when jobs share the
 * host's /tmp.
 */
bool sandbox_job_sees(const struct sandbox *sb, const char *path);

/*
 * The environment a job gets (caller owns it: sandbox_env_free). An allowlist (docs/security.md,
 * "What a job sees"): of the agent's variables only PATH, LANG, LANGUAGE, LC_*, TZ, PYTHONHASHSEED,
 * VIRTUAL_ENV, PYSCOPE_FAULT (the tests' fault injection) and the names of
 * the agent's job_env pass; HOME, TMPDIR, USER and LOGNAME are the job
 * user's (without one, the agent's). Nothing else: not the agent's key
 * paths, not PG*, not a token. Then the n_suite "NAME=VALUE" variables the
 * job's suite sets (borrowed; may be NULL), each checked again with
 * jobenv_check() (lib/jobenv.h) and skipped with a warning when refused; a
 * suite's variable replaces the agent's of the same name.
 */
char **sandbox_env_new(const struct sandbox *sb, const char *const *suite, size_t n_suite);

/* Free an environment from sandbox_env_new(). NULL-safe. */
void sandbox_env_free(char **envp);

/*
 * Start ex->path confined by sb in a new session. Allocates nothing after the
 * fork (the agent has threads). Returns the child's pid, or -errno with the
 * reason in err. A child that cannot set itself up writes why to ex->fd_err
 * and exits with status 127.
 */
pid_t sandbox_spawn(const struct sandbox *sb, const struct sandbox_exec *ex, char *err,
                    size_t errlen);

/* How many tasks (threads, as RLIMIT_NPROC counts them) the job user has now
 * (0 when jobs have no user of their own). */
unsigned sandbox_count_procs(const struct sandbox *sb);

/* What is known about how a job ended, for sandbox_explain. */
struct sandbox_stop {
    bool timed_out;          /* the runner's or the agent's timeout ended it */
    double timeout_s;        /* the job's timeout per run */
    int signal;              /* the signal that ended the script, 0 if none */
    const char *stderr_path; /* the job's stderr (its last 8 KiB are read), or NULL */
    unsigned procs_peak;     /* most tasks of the job user seen at once (sampled: the
                              * limit counts as hit at one below it) */
    uint64_t memory_limit;   /* the job's RLIMIT_AS, 0 = none */
    int64_t tmp_used;        /* the runner's: bytes used in its /tmp at the end, -1 unknown */
    uint64_t vm_peak;        /* the agent's: largest address space (VmPeak) sampled, bytes */
    uint64_t rss_peak;       /* the runner's: largest peak RSS of a run (wait4), bytes */
};

/* A MemoryError counts as the memory limit when the accounting (vm_peak, rss_peak) reached
 * this share of the limit (the limit minus a quarter: the margin is the last request that
 * failed and the sampling): below it the error was one request too large
 * (bytearray(10**12)), or a script that touched 60% of the limit and printed the word. */
#define SANDBOX_MEMORY_NEAR 0.75

/*
 * Name the limits that stopped a job, e.g. "the memory limit (512 MiB)" or
 * "the process limit (256), then the time limit (3 s)", into buf. Returns
 * true when a limit was recognized, false (buf empty) when none was. A limit
 * is named from the supervisors' own accounting, never from what the script
 * printed alone: time from the timeout, processes from the sampled task
 * count, file size from SIGXFSZ or (with a private /tmp) a /tmp holding at
 * least that much, disk from a private /tmp found full; the error text
 * (ENOSPC, EFBIG) must agree where the kernel gives no signal. Memory: RLIMIT_AS
 * leaves no trace of its own, so MemoryError (or ENOMEM) under a limit names it
 * only when the accounting shows the job came near it: the agent's sampled VmPeak
 * or the runner's exact peak RSS at least SANDBOX_MEMORY_NEAR of the limit. When
 * the text says so but the accounting does not, note (notelen bytes; "" when
 * nothing to say) gets "raised MemoryError at N MiB of an M MiB limit: ...".
 */
bool sandbox_explain(const struct sandbox *sb, const struct sandbox_stop *st, char *buf, size_t n,
                     char *note, size_t notelen);

/*
 * Fill st from the runner's document run (borrowed, may be NULL): its
 * outcome and signal. Other fields are left as they are.
 */
void sandbox_stop_from_run(struct sandbox_stop *st, const json_t *run);

#endif
