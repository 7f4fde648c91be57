/*
 * pyscope-run - measure one Python script, once or --repeat N times.
 *
 * Runs SCRIPT exactly as `python3 SCRIPT ARGS` would, under the user's own
 * interpreter (pyselect.c: --python, the virtualenv, or python3 on PATH), in
 * a child process per run (fresh interpreter each time), and writes one
 * pyscope.run/1 document (docs/json-schema.md). pyscope-run itself links no
 * Python: it validates the input, forks and execs the interpreter with the
 * module (pyext/module.c) brought in at start-up, measures from
 * outside (supervise.c), samples the script's stacks from outside in sample
 * mode (sampler.c), and gathers what the run left in the shared region
 * (collect.c). agent/runner/README.md tells why it is built this way.
 *
 * With --instructions, each measured repeat also gets a run under valgrind's
 * cachegrind (cachegrind.c), after all the timed runs, so the timed runs
 * are exactly those made without it: the document gets the instruction
 * counts beside the times.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the script's process
 * group; the first one also ends the repeats, and the document then says
 * "interrupted" (status.interrupted: which signal, after how many runs; while
 * --instructions counts, "during" says so and the counts made are kept).
 *
 * Exit status: 0 the script succeeded; 3 it failed (non-zero exit, signal)
 * or was interrupted;
 * 124 it timed out; 2 usage error; 69 (PYSCOPE_EXIT_UNAVAILABLE) --instructions
 * without valgrind, or with a valgrind that fails on its own
 * (cachegrind_valgrind_failed); 4 internal error. The document is written in
 * all three of the first cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "atomicfile.h"
#include "cachegrind.h"
#include "collect.h"
#include "errors.h"
#include "jsonutil.h"
#include "log.h"
#include "pyselect.h"
#include "refloop.h"
#include "sampler.h"
#include "shm.h"
#include "hash.h"
#include "history.h"
#include "hostinfo.h"
#include "pathnorm.h"
#include "summary.h"
#include "contended.h"
#include "supervise.h"
#include "xmalloc.h"

struct options {
    int mode; /* 1 sample, 2 trace */
    long repeat, warmup;
    double interval_s;
    double timeout_s;   /* 0 = none */
    const char *python; /* --python */
    const char *venv;
    const char *root;
    const char *output;
    int output_fd;         /* --output-fd: an open descriptor instead of a file (-1: none) */
    int progress_fd;       /* --progress-fd: a socket for "measured I N" lines (-1: none) */
    bool instructions;     /* --instructions: also count instructions under cachegrind */
    const char *reference; /* --reference: a script run plainly between the repeats */
    const char *script;
    int argc;
    char *const *argv;
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: pyscope-run [OPTIONS] [--] SCRIPT [ARGS...]\n"
                 "Run SCRIPT as python3 would (under that interpreter), measure it, write a\n"
                 "pyscope.run/1 JSON document.\n"
                 "\n"
                 "  --mode sample|trace   sample: stacks read from outside the script's process\n"
                 "                        (default); trace: exact call counts through a hook\n"
                 "  --repeat N            measured runs, each in a fresh process (default 1)\n"
                 "  --warmup K            runs before those, not measured (default 0)\n"
                 "  --interval-ms MS      sampling period in sample mode (default 10)\n"
                 "  --timeout SECONDS     kill a run (and its children) after this long\n"
                 "  --instructions        also count the instructions of each repeat in a run\n"
                 "                        under valgrind (cachegrind; ~25x slower, profiler\n"
                 "                        off, PYTHONHASHSEED=0 unless set; its time limit\n"
                 "                        is 50x --timeout): a deterministic metric\n"
                 "  --reference REF       run the script REF (fixed work: examples/calibrate.py)\n"
                 "                        plainly before the first measured repeat and after\n"
                 "                        each one: each repeat gets the machine's speed of its\n"
                 "                        own moment (runs[].ref_script_cpu_s), so a drift can\n"
                 "                        be divided out (the farm's confirmation runs)\n"
                 "  --python PATH         the interpreter to run the script with (a path, or a\n"
                 "                        command looked up on PATH); default: the virtualenv's,\n"
                 "                        else the first python3 on PATH. Supported: CPython\n"
                 "                        3.10, 3.11, 3.12, 3.13\n"
                 "  --venv DIR            use this virtualenv (default: $VIRTUAL_ENV if set)\n"
                 "  --root DIR            project root for normalized paths (default: the git\n"
                 "                        top level above the script; outside git: absolute)\n"
                 "  --output FILE         where to write the JSON (default: standard output)\n"
                 "  --output-fd N         write the JSON to open descriptor N instead (the\n"
                 "                        agent's way: the script cannot reach that file)\n"
                 "  --progress-fd N       send \"measured I N\" (warmup, instructions) lines\n"
                 "                        to descriptor N as each run starts (pyscope's\n"
                 "                        status line on a terminal)\n"
                 "  -h, --help            show this help;  --version  show the version\n"
                 "\n"
                 "Exit status: 0 ok, 3 the script failed, 124 timed out, 2 usage,\n"
                 "69 --instructions without a working valgrind (none on PATH, or valgrind\n"
                 "failed on its own while the timed runs succeeded), 4 internal.\n");
}

/* Parse a whole number in [lo, hi]; false on anything else. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Longer than 100 lines, kept whole: getopt_long's loop, one case of a few lines per option,
 * then the checks between options; the option table and its cases read together. */
static int parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_MODE = 256,
        OPT_REPEAT,
        OPT_WARMUP,
        OPT_INTERVAL,
        OPT_TIMEOUT,
        OPT_PYTHON,
        OPT_VENV,
        OPT_ROOT,
        OPT_OUTPUT,
        OPT_OUTPUT_FD,
        OPT_PROGRESS_FD,
        OPT_INSTRUCTIONS,
        OPT_REFERENCE,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"mode", required_argument, NULL, OPT_MODE},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"interval-ms", required_argument, NULL, OPT_INTERVAL},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"python", required_argument, NULL, OPT_PYTHON},
        {"venv", required_argument, NULL, OPT_VENV},
        {"root", required_argument, NULL, OPT_ROOT},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"output-fd", required_argument, NULL, OPT_OUTPUT_FD},
        {"progress-fd", required_argument, NULL, OPT_PROGRESS_FD},
        {"instructions", no_argument, NULL, OPT_INSTRUCTIONS},
        {"reference", required_argument, NULL, OPT_REFERENCE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    *o = (struct options){
        .mode = 1, .repeat = 1, .interval_s = 0.010, .output_fd = -1, .progress_fd = -1};
    long fd;
    int c;
    double ms;
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MODE:
            if (strcmp(optarg, "sample") == 0)
                o->mode = 1;
            else if (strcmp(optarg, "trace") == 0)
                o->mode = 2;
            else {
                log_error("--mode must be \"sample\" or \"trace\", not \"%s\"", optarg);
                return -PYSCOPE_EUSAGE;
            }
            break;
        case OPT_REPEAT:
            if (!parse_long(optarg, 1, 10000, &o->repeat)) {
                log_error("--repeat takes a whole number from 1 to 10000, not \"%s\"", optarg);
                return -PYSCOPE_EUSAGE;
            }
            break;
        case OPT_WARMUP:
            if (!parse_long(optarg, 0, 1000, &o->warmup)) {
                log_error("--warmup takes a whole number from 0 to 1000, not \"%s\"", optarg);
                return -PYSCOPE_EUSAGE;
            }
            break;
        case OPT_INTERVAL:
            if (!parse_double(optarg, 0.1, 1000, &ms)) {
                log_error("--interval-ms takes milliseconds from 0.1 to 1000, not \"%s\"", optarg);
                return -PYSCOPE_EUSAGE;
            }
            o->interval_s = ms / 1000.0;
            break;
        case OPT_TIMEOUT:
            if (!parse_double(optarg, 0.001, 31536000, &o->timeout_s)) {
                log_error("--timeout takes a positive number of seconds, not \"%s\"", optarg);
                return -PYSCOPE_EUSAGE;
            }
            break;
        case OPT_PYTHON: /* the options that only name a path */
        case OPT_VENV:
        case OPT_ROOT:
        case OPT_OUTPUT:
        case OPT_REFERENCE:
            *(c == OPT_PYTHON   ? &o->python
              : c == OPT_VENV   ? &o->venv
              : c == OPT_ROOT   ? &o->root
              : c == OPT_OUTPUT ? &o->output
                                : &o->reference) = optarg;
            break;
        case OPT_OUTPUT_FD:
            if (!parse_long(optarg, 3, 1023, &fd)) {
                log_error("--output-fd takes a descriptor number from 3 to 1023, not \"%s\"",
                          optarg);
                return -PYSCOPE_EUSAGE;
            }
            o->output_fd = (int)fd;
            break;
        case OPT_PROGRESS_FD:
            if (!parse_long(optarg, 3, 1023, &fd) || fcntl((int)fd, F_GETFD) < 0) {
                log_error("--progress-fd takes an open descriptor number from 3 to 1023, not "
                          "\"%s\"",
                          optarg);
                return -PYSCOPE_EUSAGE;
            }
            o->progress_fd = (int)fd;
            /* programs the script starts (and valgrind) never get it */
            fcntl(o->progress_fd, F_SETFD, FD_CLOEXEC);
            break;
        case OPT_INSTRUCTIONS:
            o->instructions = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case OPT_VERSION:
            printf("pyscope-run %s (runs scripts under %s)\n", PYSCOPE_VERSION, PYSELECT_SUPPORTED);
            exit(0);
        default:
            fprintf(stderr, "Try \"pyscope-run --help\" for more information.\n");
            return -PYSCOPE_EUSAGE;
        }
    }
    if (optind >= argc) {
        log_error("no script given");
        fprintf(stderr, "Usage: pyscope-run [OPTIONS] [--] SCRIPT [ARGS...]\n");
        return -PYSCOPE_EUSAGE;
    }
    o->script = argv[optind];
    o->argc = argc - optind - 1;
    o->argv = argv + optind + 1;
    return 0;
}

/* Check that the script is something python3 can run: a readable file that
 * is text, a zip archive or compiled bytecode, or a folder with __main__.py. */
static int check_script(const char *path)
{
    struct stat st;
    if (path[0] == '\0') {
        log_error("the script name is empty");
        return -PYSCOPE_EUSAGE;
    }
    if (stat(path, &st) < 0) {
        log_error("could not open script \"%s\": %s", path, strerror(errno));
        return -PYSCOPE_EUSAGE;
    }
    if (S_ISDIR(st.st_mode)) {
        char *main_py = xasprintf("%s/__main__.py", path);
        int ok = access(main_py, R_OK) == 0;
        free(main_py);
        if (ok)
            return 0;
        log_error("\"%s\" is a directory, not a Python script (a directory needs a "
                  "__main__.py to be run)",
                  path);
        return -PYSCOPE_EUSAGE;
    }
    if (!S_ISREG(st.st_mode)) {
        log_error("\"%s\" is not a regular file", path);
        return -PYSCOPE_EUSAGE;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        log_error("could not open script \"%s\": %s", path, strerror(errno));
        return -PYSCOPE_EUSAGE;
    }
    unsigned char head[4096];
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n < 0) {
        log_error("could not read script \"%s\": %s", path, strerror(errno));
        return -PYSCOPE_EUSAGE;
    }
    bool zip = n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0;
    bool pyc = n >= 4 && head[2] == '\r' && head[3] == '\n';
    if (!zip && !pyc && memchr(head, '\0', (size_t)n)) {
        log_error("\"%s\" is not a Python script: it contains NUL bytes (a binary file?)", path);
        return -PYSCOPE_EUSAGE;
    }
    return 0;
}

/* environ with name=value set (replaced where it is, else appended), as setenv() would. */
static void env_put(char ***env, size_t *n, const char *name, const char *value)
{
    size_t len = strlen(name);
    char *entry = xasprintf("%s=%s", name, value);
    for (size_t i = 0; i < *n; i++)
        if (strncmp((*env)[i], name, len) == 0 && (*env)[i][len] == '=') {
            (*env)[i] = entry;
            return;
        }
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
}

/* What the child execs: the interpreter as `python3 SCRIPT ARGS`, with the
 * shim folder in front of PYTHONPATH and the region's id in the environment
 * (measured runs, region_id >= 0), or plainly (warmup runs). Prepared here,
 * before the fork, so that the child makes only system calls (vfork). Free
 * with child_exec_release(). */
static void child_exec_prepare(struct supervise_exec *x, const struct pyselect *py,
                               const struct options *o, const char *shim_dir, int region_id)
{
    extern char **environ;
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = xcalloc(n + 4, sizeof(char *));
    memcpy(env, environ, n * sizeof(char *));
    if (region_id >= 0) {
        const char *orig = getenv("PYTHONPATH");
        char *path = orig && *orig ? xasprintf("%s:%s", shim_dir, orig) : xstrdup(shim_dir);
        char id[16];
        snprintf(id, sizeof(id), "%d", region_id);
        if (orig)
            env_put(&env, &n, "PYSCOPE_PYTHONPATH", orig);
        env_put(&env, &n, "PYTHONPATH", path);
        env_put(&env, &n, "PYSCOPE_REGION", id);
        free(path);
    }
    char **argv = xcalloc((size_t)o->argc + 3, sizeof(char *));
    argv[0] = py->argv0;
    argv[1] = (char *)o->script;
    for (int i = 0; i < o->argc; i++)
        argv[i + 2] = o->argv[i];
    /* the script never gets the document's or the progress descriptor */
    *x = (struct supervise_exec){
        .path = py->path, .argv = argv, .envp = env, .close_fd = {o->output_fd, o->progress_fd}};
}

static void child_exec_release(struct supervise_exec *x)
{
    extern char **environ;
    char **env = (char **)x->envp;
    for (size_t i = 0; env[i]; i++) {
        bool ours = true; /* an entry of environ is borrowed, one env_put() made is owned */
        for (size_t k = 0; environ[k] && ours; k++)
            ours = environ[k] != env[i];
        if (ours)
            free(env[i]);
    }
    free(env);
    free((void *)x->argv);
}

/*
 * Tell --progress-fd's reader (pyscope, which draws a status line) that a run
 * starts: "KIND I N\n" (KIND warmup, measured or instructions; I of N). One
 * send, never a signal: a reader gone away is no error.
 */
static void progress_note(int fd, const char *kind, long i, long n)
{
    if (fd < 0)
        return;
    char line[64];
    int len = snprintf(line, sizeof(line), "%s %ld %ld\n", kind, i, n);
    if (len > 0 && send(fd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
        errno == ENOTSOCK) {
        ssize_t w = write(fd, line, (size_t)len); /* a pipe (SIGPIPE is the caller's) */
        (void)w;
    }
}

/* v when known, else null (contention.h: unreadable sources are never 0). */
static json_t *real_or_null(bool known, double v)
{
    return known ? json_real_checked(v) : json_null();
}

static json_t *run_json(const struct run_measure *m)
{
    double cpu = m->user_s + m->sys_s;
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:b}", "wall_s",
                  json_real_checked(m->wall_s), "cpu_s", json_real_checked(cpu), "user_s",
                  json_real_checked(m->user_s), "sys_s", json_real_checked(m->sys_s), "cpu_pct",
                  json_real_checked(m->wall_s > 0 ? 100.0 * cpu / m->wall_s : 0), "peak_rss_bytes",
                  (json_int_t)m->peak_rss_bytes, "exit_code",
                  m->signal ? json_null() : json_integer(m->exit_code), "signal",
                  m->signal ? json_integer(m->signal) : json_null(), "timed_out", m->timed_out);
    /* what could bias this repeat's timing (contention.h, lib/contended.h) */
    const struct contention *c = &m->contention;
    json_object_set_new(o, "run_delay_s", real_or_null(c->has_run_delay, c->run_delay_s));
    json_object_set_new(o, "contended",
                        c->has_run_delay ? json_boolean(contended_repeat(m->wall_s, c->run_delay_s))
                                         : json_null());
    json_object_set_new(o, "ctx_voluntary",
                        c->has_ctx ? json_integer(c->ctx_voluntary) : json_null());
    json_object_set_new(o, "ctx_involuntary",
                        c->has_ctx ? json_integer(c->ctx_involuntary) : json_null());
    json_object_set_new(o, "steal_s", real_or_null(c->has_steal, c->steal_s));
    json_object_set_new(o, "cpu_pressure_s", real_or_null(c->has_cpu_pressure, c->cpu_pressure_s));
    json_object_set_new(o, "load1", real_or_null(c->has_load1, c->load1));
    json_object_set_new(o, "cpu_mhz", real_or_null(c->has_cpu_mhz, c->cpu_mhz));
    json_object_set_new(o, "ref_cpu_ns", real_or_null(c->has_ref, c->ref_cpu_ns));
    json_object_set_new(o, "ref_cpu_mean_ns", real_or_null(c->has_ref, c->ref_cpu_mean_ns));
    if (c->has_ref_script) {
        json_object_set_new(o, "ref_script_cpu_s", json_real(c->ref_script_cpu_s));
        json_object_set_new(o, "ref_script_wall_s", json_real(c->ref_script_wall_s));
    }
    return o;
}

/* The status of the run m; context (may be "") starts the message. With
 * stop_sig (a signal we received and passed on), the outcome is
 * "interrupted" and the status says after how many of the planned runs, and,
 * with counted >= 0, that it came while counting instructions (the measured
 * runs all made and kept, m the last of them: counted counts of planned). */
static json_t *status_json(const struct run_measure *m, bool started, const char *context,
                           int stop_sig, long measured, long planned, long counted)
{
    char msg[256], text[480];
    const char *outcome = "ok";
    if (m->timed_out) {
        outcome = "timeout";
        snprintf(msg, sizeof(msg), "timed out after %.3g s: killed", m->wall_s);
    } else if (m->signal) {
        outcome = "failed";
        snprintf(msg, sizeof(msg), "killed by signal %d (%s)", m->signal, strsignal(m->signal));
    } else if (m->exit_code != 0) {
        outcome = "failed";
        snprintf(msg, sizeof(msg), "exited with status %d%s", m->exit_code,
                 started ? "" : " before the script started");
    } else if (m->pid == 0) {
        snprintf(msg, sizeof(msg), "the script did not start");
    } else {
        snprintf(msg, sizeof(msg), "exited with status 0");
    }
    json_t *interrupted = json_null();
    if (stop_sig && !m->timed_out) {
        const char *abbrev = sigabbrev_np(stop_sig);
        outcome = "interrupted";
        if (counted >= 0)
            snprintf(text, sizeof(text),
                     "interrupted by SIG%s while counting instructions under valgrind "
                     "(--instructions): %ld of %ld measured run%s complete and kept, %ld of %ld "
                     "instruction count%s",
                     abbrev ? abbrev : "?", measured, planned, planned == 1 ? "" : "s", counted,
                     planned, planned == 1 ? "" : "s");
        else
            snprintf(text, sizeof(text),
                     "interrupted by SIG%s (passed on to the script): %ld of %ld measured run%s; "
                     "%s%s",
                     abbrev ? abbrev : "?", measured, planned, planned == 1 ? "" : "s", context,
                     msg);
        char name[32];
        snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
        interrupted =
            json_pack("{s:i, s:s, s:I, s:I}", "signal", stop_sig, "name", name, "runs_measured",
                      (json_int_t)measured, "runs_planned", (json_int_t)planned);
        if (counted >= 0) {
            json_object_set_new(interrupted, "during", json_string("instructions"));
            json_object_set_new(interrupted, "instructions_counted", json_integer(counted));
        }
    } else {
        snprintf(text, sizeof(text), "%s%s", context, msg);
    }
    json_t *st = json_pack("{s:s, s:o, s:o, s:s, s:o}", "outcome", outcome, "exit_code",
                           m->signal || m->pid == 0 ? json_null() : json_integer(m->exit_code),
                           "signal", m->signal ? json_integer(m->signal) : json_null(), "message",
                           text, "interrupted", interrupted);
    /* The supervisor's own accounting for "which limit stopped it" (agent/sandbox.c):
     * how full /tmp is now, the job's private tmpfs when the agent gave it one. */
    struct statvfs vs;
    if (statvfs("/tmp", &vs) == 0)
        json_object_set_new(st, "tmp_used_bytes",
                            json_integer((json_int_t)((vs.f_blocks - vs.f_bfree) * vs.f_frsize)));
    return st;
}

/* --instructions: the runs under cachegrind and what they counted. */
struct instr {
    struct cachegrind_run run; /* borrows the strings below and the options' */
    char *valgrind;            /* owned */
    char *dir;                 /* owned: private folder for valgrind's files, removed at the end */
    json_t *counts;            /* owned: one integer per measured repeat */
    double *values;            /* owned: the same, for the summary */
    size_t n;
    struct run_measure failure; /* the run under valgrind that failed, when failed */
    bool failed;
    bool interrupted; /* a signal came while counting: the counts so far stand */
    bool unavailable; /* no valgrind, or it failed (not the script): exit status 69 */
};

/*
 * Before anything runs: find valgrind on PATH and make the private folder.
 * Returns 0, -PYSCOPE_EUSAGE with in->unavailable (no valgrind; reported) or
 * -errno (reported).
 */
static int instr_prepare(const struct options *o, const char *program, struct instr *in)
{
    memset(in, 0, sizeof(*in));
    in->valgrind = cachegrind_find_valgrind(getenv("PATH"));
    if (!in->valgrind) {
        log_error("%s", CACHEGRIND_INSTALL_HINT);
        in->unavailable = true;
        return -PYSCOPE_EUSAGE;
    }
    const char *tmp = getenv("TMPDIR");
    in->dir = xasprintf("%s/pyscope-cg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(in->dir)) {
        int e = errno;
        log_error("could not create a folder for valgrind's output in \"%s\": %s",
                  tmp && *tmp ? tmp : "/tmp", strerror(e));
        free(in->dir);
        in->dir = NULL; /* nothing to remove */
        return -e;
    }
    in->run = (struct cachegrind_run){.valgrind = in->valgrind,
                                      .program = program,
                                      .script = o->script,
                                      .argc = o->argc,
                                      .argv = o->argv,
                                      .out_dir = in->dir,
                                      .close_fd = o->output_fd};
    in->counts = json_array();
    in->values = xcalloc((size_t)o->repeat, sizeof(*in->values));
    return 0;
}

/*
 * One run under cachegrind per measured repeat. A run that fails (exit status,
 * signal, time limit) stops them: in->failed, in->failure. A signal passed on
 * (supervise.h) stops them too, without blaming the script: in->interrupted,
 * the counts made before it kept, the run it cut short not counted. Returns 0, or a
 * negative code when a run could not be started or its output not read
 * (reported); -PYSCOPE_EUSAGE with in->unavailable when valgrind itself
 * failed (cachegrind_valgrind_failed: the script's timed runs succeeded, so it is
 * not the script's failure; reported, with how to check valgrind).
 */
static int instr_measure(const struct options *o, struct instr *in)
{
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "pyscope-run: counting instructions under valgrind (%ld run%s)\n",
                o->repeat, o->repeat == 1 ? "" : "s");
    double limit = o->timeout_s > 0 ? o->timeout_s * CACHEGRIND_TIMEOUT_FACTOR : 0;
    for (long i = 0; i < o->repeat; i++) {
        struct run_measure m;
        progress_note(o->progress_fd, "instructions", i + 1, o->repeat);
        int rc = supervise_run(cachegrind_child_main, &in->run, limit, false, &m);
        if (rc == -EINTR) { /* interrupted before it started: the counts so far stand */
            in->interrupted = true;
            return 0;
        }
        if (rc < 0) {
            log_error("could not start valgrind: %s", strerror(-rc));
            return rc;
        }
        /* The signal came during this run (main starts none after one): however valgrind
         * and the script ended, the count is of a run cut short, and no failure of either */
        if (supervise_stop_signal()) {
            cachegrind_discard(&in->run);
            supervise_measure_release(&m);
            in->interrupted = true;
            return 0;
        }
        /* No counts file: valgrind itself failed or was killed (a script that dies of a
         * signal under valgrind still gets its counts written) */
        if (!m.timed_out && (m.signal || m.exit_code != 0) &&
            cachegrind_valgrind_failed(&in->run, m.pid)) {
            cachegrind_print_log(&in->run);
            cachegrind_discard(&in->run);
            supervise_measure_release(&m);
            char how[96];
            if (m.signal)
                snprintf(how, sizeof(how), "was killed by signal %d (%s%s)", m.signal,
                         strsignal(m.signal),
                         m.signal == SIGKILL ? "; the kernel's OOM killer? see dmesg" : "");
            else
                snprintf(how, sizeof(how), "failed with exit status %d", m.exit_code);
            log_error("valgrind (\"%s\") %s before the script ran to its end under it "
                      "(cachegrind wrote no counts); the script's timed runs succeeded, so this "
                      "is valgrind's failure, not the script's: check it with \"%s "
                      "--tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null %s -c "
                      "pass\", or run without --instructions",
                      in->valgrind, how, in->valgrind, in->run.program);
            in->unavailable = true;
            return -PYSCOPE_EUSAGE;
        }
        if (m.timed_out || m.signal || m.exit_code != 0) {
            log_error("the script failed under valgrind (--instructions): %s",
                      m.timed_out ? "timed out"
                      : m.signal  ? "killed by a signal"
                                  : "non-zero exit");
            cachegrind_print_log(&in->run);
            cachegrind_discard(&in->run);
            in->failure = m;
            in->failed = true;
            return 0;
        }
        uint64_t ir = 0;
        char err[512];
        rc = cachegrind_collect(&in->run, m.pid, &ir, err, sizeof(err));
        supervise_measure_release(&m);
        if (rc < 0) {
            log_error("%s", err);
            return rc;
        }
        json_array_append_new(in->counts, json_integer((json_int_t)ir));
        in->values[in->n++] = (double)ir;
    }
    return 0;
}

/* The document's "instructions" object (new). */
static json_t *instr_json(const struct instr *in)
{
    bool from_env;
    const char *seed = cachegrind_hash_seed(&from_env);
    return json_pack("{s:s, s:s, s:s, s:b, s:O}", "tool", "cachegrind", "python_hash_seed", seed,
                     "hash_seed_from", from_env ? "environment" : "default", "children_counted", 0,
                     "counts", in->counts);
}

static void instr_release(struct instr *in)
{
    if (in->dir) {
        cachegrind_discard(&in->run);
        rmdir(in->dir);
    }
    supervise_measure_release(&in->failure);
    json_decref(in->counts);
    free(in->values);
    free(in->valgrind);
    free(in->dir);
    memset(in, 0, sizeof(*in));
}

/* The script's own lifetime within a run, in the timeline's seconds (from the
 * fork): from its first line to its end (its atexit handlers done); end < 0
 * when it never got there (os._exit, a signal), start < 0 when it never
 * started. */
struct script_span {
    double start_s, end_s;
};

static struct script_span script_span_of(const struct shm_region *r, const struct run_measure *m)
{
    struct script_span sp = {-1, -1};
    if (r->started && r->mono_start_ns >= m->mono_start_ns)
        sp.start_s = (double)(r->mono_start_ns - m->mono_start_ns) / 1e9;
    if (sp.start_s >= 0 && r->mono_end_ns >= r->mono_start_ns)
        sp.end_s = (double)(r->mono_end_ns - m->mono_start_ns) / 1e9;
    return sp;
}

/* The RSS timeline of the script's own lifetime (sp): interpreter start-up
 * and shutdown are left out, so that growth seen there is the script's. */
static json_t *timeline_json(const struct run_measure *m, struct script_span sp)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->ntimeline; i++) {
        double t = m->timeline[i].t_s;
        if ((sp.start_s >= 0 && t < sp.start_s) || (sp.end_s >= 0 && t > sp.end_s))
            continue;
        json_array_append_new(a, json_pack("[f, I]", t, (json_int_t)m->timeline[i].rss_bytes));
    }
    return a;
}

static json_t *span_json(struct script_span sp)
{
    return sp.start_s < 0
               ? json_null()
               : json_pack("[f, o]", sp.start_s, sp.end_s < 0 ? json_null() : json_real(sp.end_s));
}

static void iso_now(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

/* The script's identity: absolute path, normalized key, content hash, args. */
static json_t *script_json(const struct options *o, const char *cwd, const char *root)
{
    char *abs = o->script[0] == '/' ? xstrdup(o->script) : xasprintf("%s/%s", cwd, o->script);
    char *key = NULL;
    if (pathnorm_key(abs, root, &key) < 0)
        key = xstrdup(abs);
    char hex[65] = "";
    json_t *sha = hash_file_sha256(o->script, hex) == 0 ? json_string(hex) : json_null();
    json_t *args = json_array();
    for (int i = 0; i < o->argc; i++)
        json_array_append_new(args, json_string_lossy(o->argv[i]));
    json_t *s = json_pack("{s:o, s:o, s:o, s:o}", "path", json_string_lossy(abs), "key",
                          json_string_lossy(key), "sha256", sha, "args", args);
    free(abs);
    free(key);
    return s;
}

/* True when path names something other than a regular file (a FIFO,
 * /dev/null, a terminal): written in place, never replaced by rename(). */
static bool is_special(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

static int dump_to(FILE *f, json_t *doc)
{
    int rc = json_dumpf(doc, f, JSON_INDENT(1));
    fputc('\n', f);
    return rc < 0 || ferror(f) ? -EIO : 0;
}

/* Write doc to path (NULL: stdout). A regular file is replaced atomically
 * (lib/atomicfile.h), so a reader never sees half a document; without an
 * fsync, as pyperf and asv write theirs: it cost ~3 ms of wall time per run
 * on this VM, and whoever keeps the document (pyscope's history, the agent)
 * stores it its own way. */
static int write_output(const char *path, json_t *doc)
{
    if (!path) {
        int rc = dump_to(stdout, doc);
        return rc < 0 || fflush(stdout) != 0 ? -EIO : 0;
    }
    if (is_special(path)) {
        FILE *f = fopen(path, "w");
        if (!f) {
            int e = errno;
            log_error("could not write \"%s\": %s", path, strerror(e));
            return -e;
        }
        int rc = dump_to(f, doc);
        if (fclose(f) != 0 || rc < 0) {
            log_error("could not write \"%s\": %s", path, strerror(errno));
            return -EIO;
        }
        return 0;
    }
    struct atomicfile af;
    int rc = atomic_open(&af, path);
    af.no_sync = true;
    if (rc == 0)
        rc = atomic_commit(&af, path, dump_to(af.f, doc));
    if (rc < 0)
        log_error("could not write \"%s\": %s", path, strerror(-rc));
    return rc;
}

/* Write doc to the open descriptor fd (--output-fd; consumed). */
static int write_output_fd(int fd, json_t *doc)
{
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        log_error("could not write to descriptor %d: %s", fd, strerror(e));
        close(fd);
        return -e;
    }
    int rc = dump_to(f, doc);
    if (fclose(f) != 0 || rc < 0) {
        log_error("could not write to descriptor %d: %s", fd, strerror(errno));
        return -EIO;
    }
    return 0;
}

/* Fail early when --output-fd is not open for writing. */
static int check_output_fd(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
        log_error("--output-fd %d is not a descriptor open for writing", fd);
        return -PYSCOPE_EUSAGE;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC); /* never passed on by exec */
    return 0;
}

/* Fail early, before the script runs, when the output cannot be written. */
static int check_output(const char *path)
{
    if (!path)
        return 0;
    if (is_special(path)) {
        if (access(path, W_OK) == 0)
            return 0;
        log_error("cannot write the output file \"%s\": %s", path, strerror(errno));
        return -PYSCOPE_EUSAGE;
    }
    char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        log_error("cannot write the output file \"%s\": %s", path, strerror(errno));
        free(tmp);
        return -PYSCOPE_EUSAGE;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}

/* The options' checks that need no interpreter: PYSCOPE_EXIT_OK, else the exit code. */
static int check_invocation(const struct options *o)
{
    if (o->output && o->output_fd >= 0) {
        log_error("--output and --output-fd exclude each other");
        return PYSCOPE_EXIT_USAGE;
    }
    if (check_script(o->script) < 0 || (o->reference && check_script(o->reference) < 0) ||
        (o->output_fd >= 0 ? check_output_fd(o->output_fd) : check_output(o->output)) < 0)
        return PYSCOPE_EXIT_USAGE;
    return PYSCOPE_EXIT_OK;
}

/* The project root keys are made relative to: --root, else the git top level above the
 * script. Outside any repository, keys stay absolute (stable wherever pyscope is run from).
 * NULL after saying why when --root does not resolve. */
static char *project_root(const struct options *o, const char *cwd, bool *bad)
{
    *bad = false;
    if (o->root) {
        char *root = realpath(o->root, NULL);
        if (!root) {
            log_error("--root \"%s\": %s", o->root, strerror(errno));
            *bad = true;
        }
        return root;
    }
    char *abs = o->script[0] == '/' ? xstrdup(o->script) : xasprintf("%s/%s", cwd, o->script);
    char *dir = pathnorm_clean(abs);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    char *root = pathnorm_find_root(dir);
    free(dir);
    free(abs);
    return root;
}

/* What the warm-up and measured runs leave for the document. */
struct runs {
    json_t *runs, *warmups;         /* run_json() of each */
    double *wall, *cpu, *pct, *rss; /* per measured run, o.repeat long */
    long measured;
    uint32_t threads;        /* the most Python threads a measured run had (profile region) */
    struct run_measure last; /* the last run's, for the status and the memory timeline */
    struct script_span last_span;
    bool started, failed;
    char created[64], id[37]; /* the document's: when the runs began, a random UUID */
    /* what the interpreter said of itself in the profile region */
    char py_version[64], py_build[SHM_TEXT_MAX], py_exe[SHM_TEXT_MAX], py_prefix[SHM_TEXT_MAX];
};

static void runs_init(struct runs *r, long repeat)
{
    memset(r, 0, sizeof(*r));
    r->runs = json_array();
    r->warmups = json_array();
    r->wall = xcalloc((size_t)repeat, sizeof(double));
    r->cpu = xcalloc((size_t)repeat, sizeof(double));
    r->pct = xcalloc((size_t)repeat, sizeof(double));
    r->rss = xcalloc((size_t)repeat, sizeof(double));
    r->last_span = (struct script_span){-1, -1};
    iso_now(r->created, sizeof(r->created));
    uuid_t uu;
    uuid_generate_random(uu);
    uuid_unparse_lower(uu, r->id);
}

static void runs_release(struct runs *r)
{
    json_decref(r->runs);
    json_decref(r->warmups);
    supervise_measure_release(&r->last);
    free(r->wall);
    free(r->cpu);
    free(r->pct);
    free(r->rss);
}

/* What one run's profile region and measure add to r. */
static void runs_add(struct runs *r, struct collect *col, bool is_warmup,
                     const struct shm_region *region, struct run_measure *m)
{
    r->started = r->started || region->started;
    struct script_span span = script_span_of(region, m);
    if (region->py_build[0]) {
        snprintf(r->py_version, sizeof(r->py_version), "%s", region->py_version);
        snprintf(r->py_build, sizeof(r->py_build), "%s", region->py_build);
        snprintf(r->py_exe, sizeof(r->py_exe), "%s", region->py_executable);
        snprintf(r->py_prefix, sizeof(r->py_prefix), "%s", region->py_prefix);
    }
    if (is_warmup) {
        json_array_append_new(r->warmups, run_json(m));
    } else {
        double tsc_hz = m->wall_s > 0 ? (double)(m->tsc_end - m->tsc_start) / m->wall_s : 0;
        collect_add_run(col, region, m->wall_s, tsc_hz, m->children_seen);
        /* the sampler's threads, or threading's (a thread too short to be sampled) */
        uint32_t th = region->nthreads > region->nnames ? region->nthreads : region->nnames;
        if (th == 0 && region->started)
            th = 1; /* a script too short to be sampled, without threading */
        if (th > r->threads)
            r->threads = th > SHM_MAX_THREADS ? SHM_MAX_THREADS : th;
        json_t *rj = run_json(m);
        json_object_set_new(rj, "script_span_s", span_json(span));
        json_array_append_new(r->runs, rj);
        long k = r->measured++;
        r->wall[k] = m->wall_s;
        r->cpu[k] = m->user_s + m->sys_s;
        r->pct[k] = m->wall_s > 0 ? 100.0 * r->cpu[k] / m->wall_s : 0;
        r->rss[k] = (double)m->peak_rss_bytes;
    }
    supervise_measure_release(&r->last);
    r->last = *m;
    r->last_span = span;
    r->failed = m->timed_out || m->signal || m->exit_code != 0;
}

/* The wait loop's hook in sample mode (supervise.h). */
static void sampler_hook(void *sampler)
{
    sampler_tick(sampler);
}

/* One run of the reference script (--reference): its CPU and wall time. */
struct ref_script_run {
    bool ok; /* it ran and exited 0 */
    double cpu_s, wall_s;
};

/* Run o->reference plainly (no profile, its output to /dev/null) under py into *out. */
static void run_reference(const struct options *o, const struct pyselect *py,
                          struct ref_script_run *out)
{
    extern char **environ;
    char *argv[3] = {py->argv0, (char *)o->reference, NULL};
    struct supervise_exec x = {.path = py->path,
                               .argv = argv,
                               .envp = environ,
                               .close_fd = {o->output_fd, o->progress_fd},
                               .quiet = true};
    struct run_measure m;
    int rc = supervise_exec(&x, o->timeout_s, false, NULL, &m);
    *out = (struct ref_script_run){.ok = rc == 0 && !m.signal && m.exit_code == 0 && !m.timed_out,
                                   .cpu_s = m.user_s + m.sys_s,
                                   .wall_s = m.wall_s};
    if (rc == 0 && !out->ok)
        log_warn("the reference script \"%s\" failed (%s %d): this repeat has no reference",
                 o->reference, m.signal ? "signal" : "exit status",
                 m.signal ? m.signal : m.exit_code);
}

/* Run number i (the warm-ups first) and add it to r. 0, or a negative errno when the run
 * could not start; *stop when no more runs should follow (a signal, a failing script).
 * With --reference, *before is the reference's run right before a measured repeat (run
 * here when it has not run yet) and becomes the one right after it. */
static int run_one(const struct options *o, const struct pyselect *py, const char *shim_dir,
                   struct collect *col, long i, struct runs *r, struct ref_script_run *before,
                   bool *stop)
{
    *stop = true;
    bool is_warmup = i < o->warmup;
    /* reference, repeat, reference, repeat ... reference: each run of the reference
     * serves the repeats on both sides of it */
    if (o->reference && !is_warmup && i == o->warmup)
        run_reference(o, py, before);
    int region_id = -1;
    struct shm_region *region = shm_create((uint32_t)o->mode, &region_id);
    if (!region) {
        log_error("could not map the profile region: %s", strerror(errno));
        return -ENOMEM;
    }
    struct supervise_exec x;
    child_exec_prepare(&x, py, o, shim_dir, is_warmup ? -1 : region_id);
    /* the machine's speed right before the repeat (refloop.h), before the sampler starts */
    struct refloop ref = {0};
    bool ref_ok = is_warmup || refloop_run(&ref) == 0;
    /* sample mode: the passes are made by the supervisor's wait loop, on the wake-ups
     * of the timeline (one wake-up source: supervise.h) */
    struct sampler *sampler = NULL;
    if (!is_warmup && o->mode == 1 && !(sampler = sampler_new(region)))
        snprintf(region->error, sizeof(region->error), "could not start the sampler: %s",
                 strerror(errno));
    struct supervise_hook hook = {sampler_hook, sampler, o->interval_s};
    struct run_measure m;
    progress_note(o->progress_fd, is_warmup ? "warmup" : "measured",
                  is_warmup ? i + 1 : i - o->warmup + 1, is_warmup ? o->warmup : o->repeat);
    int rc = supervise_exec(&x, o->timeout_s, !is_warmup, sampler ? &hook : NULL, &m);
    child_exec_release(&x);
    sampler_finish(&sampler, rc == 0 ? m.watch_cpu_ns : 0);
    /* ... and right after it: never during it, so the script's timings are untouched */
    if (rc == 0 && !is_warmup && ref_ok && refloop_run(&ref) == 0)
        m.contention.has_ref =
            refloop_figures(&ref, &m.contention.ref_cpu_ns, &m.contention.ref_cpu_mean_ns);
    if (rc == 0 && !is_warmup && o->reference) {
        struct ref_script_run after;
        run_reference(o, py, &after);
        struct contention *c = &m.contention;
        c->has_ref_script = before->ok && after.ok;
        c->ref_script_cpu_s = (before->cpu_s + after.cpu_s) / 2;
        c->ref_script_wall_s = (before->wall_s + after.wall_s) / 2;
        *before = after;
    }
    if (rc == -EINTR) { /* a signal came between two runs: stop here */
        shm_unmap(&region);
        return 0;
    }
    if (rc < 0) {
        log_error("could not start the script: %s", strerror(-rc));
        shm_unmap(&region);
        return rc;
    }
    runs_add(r, col, is_warmup, region, &m);
    shm_unmap(&region);
    /* A failing script fails the same way again: stop repeating it. */
    *stop = r->failed || supervise_stop_signal();
    return 0;
}

/* The pyscope.run/1 document of the runs (docs/json-schema.md); takes r's run arrays. */
static json_t *run_document(const struct options *o, const struct pyselect *py, const char *cwd,
                            const char *root, struct collect *col, struct runs *r,
                            const struct instr *in, int stop_sig)
{
    size_t n = (size_t)r->measured;
    double med_wall = summary_median(r->wall, n);
    if (!r->py_version[0])
        snprintf(r->py_version, sizeof(r->py_version), "%d.%d.%d", py->major, py->minor, py->micro);
    json_t *pyj =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "implementation", py->implementation,
                  "version", r->py_version, "build", r->py_build, "executable",
                  json_string_lossy(r->py_exe[0] ? r->py_exe : py->executable), "prefix",
                  json_string_lossy(r->py_prefix[0] ? r->py_prefix : py->prefix), "venv",
                  py->venv ? json_string_lossy(py->venv) : json_null(), "chosen_by", py->how);
    json_t *opts = json_pack("{s:s, s:I, s:I, s:o, s:o}", "mode", o->mode == 2 ? "trace" : "sample",
                             "repeat", (json_int_t)o->repeat, "warmup", (json_int_t)o->warmup,
                             "interval_s", o->mode == 1 ? json_real(o->interval_s) : json_null(),
                             "timeout_s", o->timeout_s > 0 ? json_real(o->timeout_s) : json_null());
    if (o->instructions)
        json_object_set_new(opts, "instructions", json_true());
    if (o->reference)
        json_object_set_new(opts, "reference", json_string_lossy(o->reference));
    json_t *summary = json_pack("{s:o, s:o, s:o, s:o}", "wall_s", summary_json(r->wall, n), "cpu_s",
                                summary_json(r->cpu, n), "cpu_pct", summary_json(r->pct, n),
                                "peak_rss_bytes", summary_json(r->rss, n));
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "schema",
        "pyscope.run/1", "pyscope_version", PYSCOPE_VERSION, "id", r->id, "created", r->created,
        "script", script_json(o, cwd, root), "host", hostinfo_collect(), "python", pyj, "options",
        opts, "status",
        in->failed ? status_json(&in->failure, true, "under valgrind (--instructions): ", stop_sig,
                                 r->measured, o->repeat, -1)
                   : status_json(&r->last, r->started, "", stop_sig, r->measured, o->repeat,
                                 in->interrupted ? (long)in->n : -1),
        "runs", r->runs, "warmup_runs", r->warmups, "summary", summary, "memory_timeline",
        timeline_json(&r->last, r->last_span), "profile",
        collect_to_json(col, med_wall, summary_median(r->cpu, n)));
    json_object_set_new(doc, "memory_timeline_span_s", span_json(r->last_span));
    r->runs = r->warmups = NULL;
    if (o->instructions) {
        json_t *ij = instr_json(in);
        /* forks or child processes seen in the timed runs (the profile's): valgrind
         * counted the script's own process only */
        if (json_integer_value(json_object_get(json_object_get(doc, "profile"), "forks")) > 0)
            json_object_set_new(ij, "note", json_string(HISTORY_INSTRUCTIONS_CHILDREN_NOTE));
        /* several Python threads: which one holds the GIL when depends on timing (the
         * switch interval is wall time, and wake-ups race), so the same code counts
         * differently at another load (tests/integration/test_instr_threads.sh) */
        json_object_set_new(ij, "python_threads", json_integer((json_int_t)r->threads));
        json_object_set_new(ij, "exact", json_boolean(r->threads <= 1));
        json_object_set_new(doc, "instructions", ij);
        json_object_set_new(summary, "instructions", summary_json(in->values, in->n));
    }
    return doc;
}

/* When the stop signal found our parent gone (supervise_orphaned): say so, and what
 * became of the script, on stderr (the terminal pyscope had, if any). */
static void orphan_say(int stop_sig)
{
    bool killed;
    if (!supervise_orphaned(&killed))
        return;
    const char *abbrev = sigabbrev_np(stop_sig);
    if (killed)
        log_error("stopping: SIG%s came after pyscope (our parent) was gone, so nobody will read "
                  "the report; the script did not end within %.0f s of it and was killed with "
                  "SIGKILL, with its process group",
                  abbrev ? abbrev : "?", SUPERVISE_ORPHAN_GRACE_S);
    else
        log_error("stopping: SIG%s came after pyscope (our parent) was gone, so nobody will read "
                  "the report; the script ended on it (or had ended), whatever it left in its "
                  "process group was killed",
                  abbrev ? abbrev : "?");
}

int main(int argc, char **argv)
{
    /* PYSCOPE_DEBUG=1: say what is done before the runs (whether the interpreter
     * was asked what it is, or its remembered answer used: pyselect.c) */
    const char *debug = getenv("PYSCOPE_DEBUG");
    log_init("pyscope-run",
             debug && *debug && strcmp(debug, "0") != 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    /* From now on SIGINT/SIGTERM/SIGHUP/SIGQUIT reach the script (when one
     * runs) and end the measuring with a partial document, never us. */
    supervise_forward_signals();
    struct options o;
    if (parse_options(argc, argv, &o) < 0)
        return PYSCOPE_EXIT_USAGE;
    int exit_code = check_invocation(&o);
    if (exit_code != PYSCOPE_EXIT_OK)
        return exit_code;
    char err[1024];
    char *shim_dir = pyselect_shim_dir(err, sizeof(err));
    if (!shim_dir) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    struct pyselect py;
    if (pyselect_choose(o.python, o.venv, &py, err, sizeof(err)) < 0 ||
        pyselect_check(&py, shim_dir, err, sizeof(err)) < 0) {
        log_error("%s", err);
        pyselect_release(&py);
        free(shim_dir);
        return PYSCOPE_EXIT_USAGE;
    }
    struct instr in = {0};
    if (o.instructions) {
        int irc = instr_prepare(&o, py.path, &in);
        if (irc < 0) {
            bool unavailable = in.unavailable;
            instr_release(&in);
            pyselect_release(&py);
            free(shim_dir);
            return unavailable ? PYSCOPE_EXIT_UNAVAILABLE : PYSCOPE_EXIT_INTERNAL;
        }
    }

    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
        log_error("could not get the current folder: %s", strerror(errno));
        return PYSCOPE_EXIT_INTERNAL;
    }
    bool bad_root;
    char *root = project_root(&o, cwd, &bad_root);
    if (bad_root)
        return PYSCOPE_EXIT_USAGE;

    struct collect *col = collect_new(o.mode, o.interval_s, root, cwd);
    struct runs r;
    runs_init(&r, o.repeat);
    int rc = 0;
    bool stop = false;
    struct ref_script_run ref_before = {0};
    for (long i = 0; i < o.warmup + o.repeat && !stop; i++)
        rc = run_one(&o, &py, shim_dir, col, i, &r, &ref_before, &stop);

    bool failed = r.failed;
    if (rc == 0 && !failed && o.instructions && !supervise_stop_signal()) {
        rc = instr_measure(&o, &in);
        failed = in.failed;
    }

    /* valgrind's own failure is no failure of the script: unavailable, as without valgrind */
    exit_code = in.unavailable ? PYSCOPE_EXIT_UNAVAILABLE : PYSCOPE_EXIT_INTERNAL;
    int stop_sig = supervise_stop_signal();
    orphan_say(stop_sig);
    if (rc == 0) {
        json_t *doc = run_document(&o, &py, cwd, root, col, &r, &in, stop_sig);
        int wrc =
            o.output_fd >= 0 ? write_output_fd(o.output_fd, doc) : write_output(o.output, doc);
        o.output_fd = -1;
        bool timed_out = r.last.timed_out || (in.failed && in.failure.timed_out);
        if (wrc == 0)
            exit_code = timed_out            ? PYSCOPE_EXIT_TIMEOUT
                        : failed || stop_sig ? PYSCOPE_EXIT_SCRIPT
                                             : PYSCOPE_EXIT_OK;
        json_decref(doc);
    }
    runs_release(&r);
    instr_release(&in);
    collect_destroy(&col);
    free(root);
    free(cwd);
    pyselect_release(&py);
    free(shim_dir);
    return exit_code;
}
