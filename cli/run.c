/*
 * run.c - "pyscope run": profile one script locally (docs/DESIGN.md §2, §8).
 *
 * pyscope does not link Python: it starts pyscope-run with --output-fd on an
 * anonymous temporary file (no name: nothing to leak, however we end), waits
 * for it, loads its pyscope.run/1 document and turns it into a
 * pyscope.report/1 one (suggestions, regression check against reports/json/,
 * file names). Then it saves the HTML and JSON reports, writes the requested
 * exports and prints the terminal report (or the JSON with --json).
 *
 * Signals: pyscope-run runs in a process group of its own (it gets the
 * terminal when we have it, and hands it on to the script), so a signal to
 * our group reaches it once, through us. SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * sent to pyscope are passed on to pyscope-run, which passes them on to the
 * script's process group and writes a partial document ("interrupted");
 * pyscope then saves and prints that partial report and dies of the same
 * signal, as python3 would have (a script ended by SIGINT, a Ctrl-C at the
 * terminal, also makes pyscope die of SIGINT once reported, so that a shell
 * loop stops). A second signal after the script ended stops pyscope at once.
 * pyscope-run gets SIGTERM when pyscope dies (PR_SET_PDEATHSIG), passes it
 * on, and kills the script's group if it has not ended 5 s later (nobody is
 * left to read the report: supervise.h, SUPERVISE_ORPHAN_GRACE_S); the
 * script gets SIGKILL when pyscope-run dies; pyscope is a child subreaper, so
 * if pyscope-run is killed (even with SIGKILL), whatever the script left
 * running comes to us and is killed.
 *
 * Everything the user typed is checked before the script runs, so a long run
 * is never wasted on a typo: bad options, a missing/unreadable script or a
 * script that is a folder, a --venv that is not a folder, a reports folder that
 * cannot be created, an export file in a missing folder: exit 2. Failures after
 * the run (pyscope-run crashed or wrote a corrupt result, a report could not be
 * written): exit 4.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ci_report.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "jsonutil.h"
#include "export.h"
#include "fault.h"
#include "history.h"
#include "html_report.h"
#include "log.h"
#include "regress.h"
#include "report_text.h"
#include "suggest.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_MAX_EXPORTS 16
#define RUN_OUTPUT_CAP                                                                             \
    (512u * 1024 * 1024) /* a pyscope.run/1 document larger than this is                           \
                            refused as corrupt */
#define RUN_MAX_REPEAT    100000
#define RUN_MAX_WARMUP    10000
#define RUN_MAX_TOP       1000
#define RUN_MAX_TIMEOUT_S (30.0 * 24 * 3600)

enum run_export_format { RUN_EXPORT_COLLAPSED, RUN_EXPORT_SPEEDSCOPE };

struct run_export {
    enum run_export_format format; /* what to write */
    const char *path;              /* borrowed from argv */
};

/* Everything "pyscope run" was asked to do; strings are borrowed from argv. */
struct run_args {
    const char *mode;        /* --mode, validated; NULL: the runner's default */
    const char *repeat;      /* --repeat, validated text; NULL: default */
    const char *warmup;      /* --warmup */
    const char *interval_ms; /* --interval-ms */
    const char *timeout;     /* --timeout */
    const char *python;      /* --python */
    const char *venv;        /* --venv */
    const char *reports_dir; /* --reports-dir (default "reports") */
    bool no_save;            /* --no-save */
    bool instructions;       /* --instructions: count instructions under valgrind too */
    bool json;               /* --json */
    bool quiet;              /* -q */
    bool fail_on_regression; /* --fail-on-regression */
    double threshold_pct;    /* --threshold; < 0: pyscope.ini's, else regress's default */
    const char *junit;       /* --junit FILE */
    const char *summary_md;  /* --summary-md FILE */
    struct config config;    /* pyscope.ini at the project root (owned) */
    long top;                /* --top */
    enum cli_color color;    /* --color */
    struct run_export exports[RUN_MAX_EXPORTS];
    size_t n_exports;
    char **script_argv; /* SCRIPT ARGS... (borrowed, NULL-terminated) */
};

/* One run's files; all owned. */
struct run_files {
    int out_fd;      /* the runner's --output-fd: an anonymous file (-1: none) */
    char *json_dir;  /* <reports>/json */
    char *html_dir;  /* <reports>/html */
    char *json_path; /* the saved JSON report, or NULL */
    char *html_path; /* the saved HTML report, or NULL */
};

enum {
    OPT_MODE = 256,
    OPT_REPEAT,
    OPT_WARMUP,
    OPT_INTERVAL_MS,
    OPT_TIMEOUT,
    OPT_PYTHON,
    OPT_VENV,
    OPT_REPORTS_DIR,
    OPT_NO_SAVE,
    OPT_JSON,
    OPT_EXPORT,
    OPT_THRESHOLD,
    OPT_FAIL_ON_REGRESSION,
    OPT_TOP,
    OPT_COLOR,
    OPT_VERSION,
    OPT_JUNIT,
    OPT_SUMMARY_MD,
    OPT_INSTRUCTIONS,
};

static const struct option run_long_options[] = {
    {"mode", required_argument, NULL, OPT_MODE},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"interval-ms", required_argument, NULL, OPT_INTERVAL_MS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"python", required_argument, NULL, OPT_PYTHON},
    {"venv", required_argument, NULL, OPT_VENV},
    {"reports-dir", required_argument, NULL, OPT_REPORTS_DIR},
    {"no-save", no_argument, NULL, OPT_NO_SAVE},
    {"json", no_argument, NULL, OPT_JSON},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"fail-on-regression", no_argument, NULL, OPT_FAIL_ON_REGRESSION},
    {"top", required_argument, NULL, OPT_TOP},
    {"color", required_argument, NULL, OPT_COLOR},
    {"colour", required_argument, NULL, OPT_COLOR},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"junit", required_argument, NULL, OPT_JUNIT},
    {"summary-md", required_argument, NULL, OPT_SUMMARY_MD},
    {"instructions", no_argument, NULL, OPT_INSTRUCTIONS},
    {NULL, 0, NULL, 0},
};

void cli_run_help(FILE *out)
{
    fputs("Usage: pyscope run [OPTIONS] SCRIPT [ARGS...]\n"
          "\n"
          "Profile SCRIPT (run exactly like `python3 SCRIPT ARGS...`), print the report,\n"
          "save it as JSON and HTML and compare it with earlier runs of the same script.\n"
          "Options go before SCRIPT; everything after SCRIPT is passed to the script.\n"
          "\n"
          "Measuring:\n"
          "  --mode sample|trace     sample (default): stacks read from outside the\n"
          "                          script's process; trace: exact call counts, slows\n"
          "                          calls (the report says by how much)\n"
          "  --repeat N              measure N runs (default 1); the report shows the\n"
          "                          median and min/max\n"
          "  --warmup K              run K unmeasured warm-up runs first (default 0)\n"
          "  --interval-ms MS        sampling period in milliseconds (default 10)\n"
          "  --timeout SECONDS       kill the script after SECONDS (exit status 124)\n"
          "  --python PATH           run under this interpreter (a path or a command on\n"
          "                          PATH; default: the virtualenv's, else python3 on\n"
          "                          PATH); CPython 3.10 to 3.13\n"
          "  --venv DIR              run in this virtualenv (default: $VIRTUAL_ENV if set)\n"
          "  --instructions          also count each repeat's instructions under valgrind\n"
          "                          (cachegrind, ~25x slower; PYTHONHASHSEED=0 unless\n"
          "                          set): a deterministic metric for the regression check\n"
          "\n"
          "Reports:\n"
          "  --reports-dir DIR       keep reports under DIR/json and DIR/html (default\n"
          "                          ./reports); names pyscope_report_<UTC time>.json|html\n"
          "  --no-save               do not save the JSON and HTML reports\n"
          "  --json                  print the report as JSON (pyscope.report/1) on stdout\n"
          "                          instead of the text report; the script's own stdout\n"
          "                          then goes to stderr so stdout stays valid JSON\n"
          "  --export FORMAT FILE    also write the profile as FORMAT to FILE; FORMAT is\n"
          "                          collapsed (flamegraph.pl) or speedscope; repeatable\n"
          "  --top N                 hotspots to list (default 5)\n"
          "  --color auto|always|never\n"
          "                          colour the report (default auto: only on a terminal,\n"
          "                          and not when NO_COLOR is set)\n"
          "  -q, --quiet             print no text report (diagnostics still go to stderr)\n"
          "\n"
          "Regression check (against earlier reports of this script in DIR/json):\n"
          "  --threshold PCT         smallest slowdown that counts, in percent (default:\n"
          "                          pyscope.ini at the project root, else 5)\n"
          "  --fail-on-regression    exit 1 when the script's time, memory or instructions\n"
          "                          regressed (a hotspot function's alone does not)\n"
          "  --junit FILE            write the verdicts as JUnit XML to FILE\n"
          "  --summary-md FILE       write a Markdown summary to FILE (default: appended to\n"
          "                          $GITHUB_STEP_SUMMARY when that is set)\n"
          "\n"
          "  -h, --help              show this help\n"
          "      --version           show the version\n"
          "\n"
          "Environment: PYSCOPE_RUN_BIN (the pyscope-run program to use), VIRTUAL_ENV,\n"
          "NO_COLOR, TMPDIR, GITHUB_STEP_SUMMARY, PYSCOPE_HISTORY_INDEX (off: read every\n"
          "saved report instead of DIR/json/.pyscope-index).\n"
          "\n"
          "Exit status (pyscope's own, so CI can tell the cases apart; the script's exit\n"
          "code or signal is in the report): 0 ok, 1 regression (with\n"
          "--fail-on-regression), 2 usage error (bad option, missing script, reports folder\n"
          "not creatable, --instructions without valgrind), 3 the script failed (non-zero\n"
          "exit, signal, uncaught exception), 4 internal error (pyscope-run crashed or\n"
          "wrote a corrupt result, a report could not be written), 124 the script timed\n"
          "out (--timeout).\n"
          "\n"
          "Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to pyscope are passed on to\n"
          "the script; pyscope saves and prints the partial report (\"Interrupted by ...\")\n"
          "and then dies of the same signal (exit status 128+N in a shell), as python3\n"
          "would; so it does when the script dies of SIGINT (Ctrl-C). A second signal\n"
          "once the script has ended stops pyscope at once.\n",
          out);
}

/* Validate an integer option's value; 0 or a usage error already reported (-1). */
static int run_check_long(const char *opt, const char *text, long min, long max, long *out)
{
    long v;
    int rc = cli_parse_long(text, min, max, &v);
    if (rc == -PYSCOPE_EUSAGE) {
        log_error("invalid value for %s: \"%s\" is not an integer", opt, text);
        return -1;
    }
    if (rc < 0) {
        log_error("invalid value for %s: \"%s\" is out of range (%ld to %ld)", opt, text, min, max);
        return -1;
    }
    if (out)
        *out = v;
    return 0;
}

/* Validate a number option's value; 0 or a usage error already reported (-1). */
static int run_check_double(const char *opt, const char *text, double min, double max,
                            bool min_exclusive, double *out)
{
    double v;
    int rc = cli_parse_double(text, min, max, &v);
    if (rc == -PYSCOPE_EUSAGE) {
        log_error("invalid value for %s: \"%s\" is not a number", opt, text);
        return -1;
    }
    if (rc < 0 || (min_exclusive && v <= min)) {
        log_error("invalid value for %s: \"%s\" is out of range (%s %.10g and at most %.10g)", opt,
                  text, min_exclusive ? "above" : "from", min, max);
        return -1;
    }
    if (out)
        *out = v;
    return 0;
}

/*
 * Parse argv into *a. Returns -1 to go on, or an exit status to return now (0 after
 * --help/--version, 2 after a usage error, already reported).
 */
/* --export FORMAT FILE (FORMAT in optarg, FILE the next argument, taken): -1, or the exit
 * status of a bad one (said). */
static int run_parse_export(int argc, char **argv, struct run_args *a)
{
    enum run_export_format f;
    if (strcmp(optarg, "collapsed") == 0)
        f = RUN_EXPORT_COLLAPSED;
    else if (strcmp(optarg, "speedscope") == 0)
        f = RUN_EXPORT_SPEEDSCOPE;
    else
        return cli_usage_error("run",
                               "invalid format for --export: \"%s\" (expected "
                               "collapsed or speedscope)",
                               optarg);
    if (optind >= argc || !*argv[optind])
        return cli_usage_error("run", "--export %s needs a FILE", optarg);
    if (a->n_exports == RUN_MAX_EXPORTS)
        return cli_usage_error("run", "too many --export options (at most %d)", RUN_MAX_EXPORTS);
    a->exports[a->n_exports].format = f;
    a->exports[a->n_exports].path = argv[optind++];
    a->n_exports++;
    return -1;
}

/* The usage error of an option getopt_long refused (prev: the argument it was in). */
static int run_option_error(const char *prev)
{
    return cli_option_error("run", '?', prev);
}

/* --repeat, --warmup, --interval-ms or --timeout (c) with value arg: checked here (< 0
 * said), passed on to pyscope-run as given. */
static int run_parse_runner_number(int c, const char *arg, struct run_args *a)
{
    switch (c) {
    case OPT_REPEAT:
        a->repeat = arg;
        return run_check_long("--repeat", arg, 1, RUN_MAX_REPEAT, NULL);
    case OPT_WARMUP:
        a->warmup = arg;
        return run_check_long("--warmup", arg, 0, RUN_MAX_WARMUP, NULL);
    case OPT_INTERVAL_MS:
        a->interval_ms = arg;
        return run_check_double("--interval-ms", arg, 0.1, 10000, false, NULL);
    default:
        a->timeout = arg;
        return run_check_double("--timeout", arg, 0, RUN_MAX_TIMEOUT_S, true, NULL);
    }
}

/* pyscope run's defaults into a. */
static void run_args_defaults(struct run_args *a)
{
    memset(a, 0, sizeof(*a));
    config_init(&a->config);
    a->reports_dir = "reports";
    a->threshold_pct = -1;
    a->top = 5;
    a->color = CLI_COLOR_AUTO;
}

static int run_parse_args(int argc, char **argv, struct run_args *a)
{
    run_args_defaults(a);
    opterr = 0;
    optind = 1;
    int c, st;
    /* "+": stop at the first non-option (SCRIPT); ":": report missing values. */
    while ((c = getopt_long(argc, argv, "+:qh", run_long_options, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
        case OPT_MODE:
            if (strcmp(optarg, "sample") != 0 && strcmp(optarg, "trace") != 0)
                return cli_usage_error("run",
                                       "invalid value for --mode: \"%s\" (expected sample "
                                       "or trace)",
                                       optarg);
            a->mode = optarg;
            break;
        case OPT_REPEAT:
        case OPT_WARMUP:
        case OPT_INTERVAL_MS:
        case OPT_TIMEOUT:
            if (run_parse_runner_number(c, optarg, a) < 0)
                return cli_usage_error("run", NULL);
            break;
        case OPT_PYTHON:
            a->python = optarg;
            break;
        case OPT_VENV:
            a->venv = optarg;
            break;
        case OPT_REPORTS_DIR:
            if (!*optarg)
                return cli_usage_error("run", "invalid value for --reports-dir: empty");
            a->reports_dir = optarg;
            break;
        case OPT_NO_SAVE:
            a->no_save = true;
            break;
        case OPT_JSON:
            a->json = true;
            break;
        case OPT_EXPORT:
            if ((st = run_parse_export(argc, argv, a)) >= 0)
                return st;
            break;
        case OPT_THRESHOLD:
            if (config_parse_threshold(optarg, &a->threshold_pct) < 0)
                return cli_usage_error("run", CLI_THRESHOLD_ERROR, optarg);
            break;
        case OPT_FAIL_ON_REGRESSION:
            a->fail_on_regression = true;
            break;
        case OPT_INSTRUCTIONS:
            a->instructions = true;
            break;
        case OPT_JUNIT:
        case OPT_SUMMARY_MD:
            if (!*optarg)
                return cli_usage_error("run", "invalid value for %s: empty", prev);
            *(c == OPT_JUNIT ? &a->junit : &a->summary_md) = optarg;
            break;
        case OPT_TOP:
            if (run_check_long("--top", optarg, 0, RUN_MAX_TOP, &a->top) < 0)
                return cli_usage_error("run", NULL);
            break;
        case OPT_COLOR:
            if (cli_parse_color(optarg, &a->color) < 0)
                return cli_usage_error("run",
                                       "invalid value for --color: \"%s\" (expected auto, "
                                       "always or never)",
                                       optarg);
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            cli_run_help(stdout);
            return PYSCOPE_EXIT_OK;
        case OPT_VERSION:
            printf("pyscope %s\n", PYSCOPE_VERSION);
            return PYSCOPE_EXIT_OK;
        case ':':
            return cli_usage_error("run", "option %s needs a value", prev);
        case '?':
        default:
            return run_option_error(prev);
        }
    }
    if (optind >= argc)
        return cli_usage_error("run", "no script given");
    a->script_argv = argv + optind;
    return -1;
}

/* Check the paths the user gave before running anything; 0, or exit status 2 (reported). */
static int run_check_paths(struct run_args *a)
{
    const char *script = a->script_argv[0];
    struct stat st;
    if (stat(script, &st) < 0)
        return cli_usage_error("run", "could not open script \"%s\": %s", script, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return cli_usage_error("run", "script \"%s\" is a directory", script);
    if (access(script, R_OK) < 0)
        return cli_usage_error("run", "could not read script \"%s\": %s", script, strerror(errno));
    if (a->venv) {
        if (stat(a->venv, &st) < 0)
            return cli_usage_error("run", "could not open --venv \"%s\": %s", a->venv,
                                   strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return cli_usage_error("run", "--venv \"%s\" is not a directory", a->venv);
    }
    char *ini = config_find(script);
    if (ini) {
        char err[512];
        int crc = config_load_file(ini, &a->config, err, sizeof(err));
        free(ini);
        if (crc < 0)
            return cli_usage_error("run", "%s", err);
    }
    const char *ci_paths[] = {a->junit, a->summary_md};
    for (size_t i = 0; i < a->n_exports + 2; i++) {
        const char *path = i < a->n_exports ? a->exports[i].path : ci_paths[i - a->n_exports];
        const char *what = i < a->n_exports ? "export file" : "file";
        int rc = cli_check_out_file("run", what, path);
        if (rc)
            return rc;
    }
    return 0;
}

/* Join dir and name with one '/'; returns a new string. */
static char *run_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/* Create <reports>/json and <reports>/html; 0, or exit status 2 (reported). */
static int run_prepare_reports(const struct run_args *a, struct run_files *f)
{
    f->json_dir = run_path_join(a->reports_dir, "json");
    f->html_dir = run_path_join(a->reports_dir, "html");
    if (a->no_save)
        return 0;
    const char *dirs[] = {f->json_dir, f->html_dir};
    for (size_t i = 0; i < 2; i++) {
        int rc = cli_mkdir_p(dirs[i], 0777);
        if (rc < 0) {
            log_error("could not create reports folder \"%s\": %s", dirs[i], pyscope_strerror(rc));
            fputs("Use --reports-dir DIR to keep reports elsewhere, or --no-save.\n", stderr);
            return PYSCOPE_EXIT_USAGE;
        }
        if (access(dirs[i], W_OK | X_OK) < 0) {
            log_error("reports folder \"%s\" is not writable: %s", dirs[i], strerror(errno));
            fputs("Use --reports-dir DIR to keep reports elsewhere, or --no-save.\n", stderr);
            return PYSCOPE_EXIT_USAGE;
        }
    }
    return 0;
}

/* Build the runner's argv (new array; the strings are borrowed, except the
 * --output-fd number in *fd_text, which the caller frees). progress_fd: the
 * --progress-fd number (run_progress_start), or NULL. */
static char **run_runner_argv(const char *runner, const struct run_args *a, int out_fd,
                              char **fd_text, const char *progress_fd)
{
    size_t n_script = 0;
    while (a->script_argv[n_script])
        n_script++;
    char **argv = xcalloc(n_script + 24, sizeof(*argv));
    size_t i = 0;
    *fd_text = xasprintf("%d", out_fd);
    argv[i++] = (char *)runner;
#define RUN_ADD_OPT(name, value)                                                                   \
    do {                                                                                           \
        if (value) {                                                                               \
            argv[i++] = (char *)(name);                                                            \
            argv[i++] = (char *)(value);                                                           \
        }                                                                                          \
    } while (0)
    RUN_ADD_OPT("--mode", a->mode);
    RUN_ADD_OPT("--repeat", a->repeat);
    RUN_ADD_OPT("--warmup", a->warmup);
    RUN_ADD_OPT("--interval-ms", a->interval_ms);
    RUN_ADD_OPT("--timeout", a->timeout);
    RUN_ADD_OPT("--python", a->python);
    RUN_ADD_OPT("--venv", a->venv);
    RUN_ADD_OPT("--output-fd", *fd_text);
    RUN_ADD_OPT("--progress-fd", progress_fd);
#undef RUN_ADD_OPT
    if (a->instructions)
        argv[i++] = "--instructions";
    argv[i++] = "--";
    for (size_t k = 0; k < n_script; k++)
        argv[i++] = a->script_argv[k];
    argv[i] = NULL;
    return argv;
}

/* ---- signals ----------------------------------------------------------------- */

static const int run_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define RUN_N_SIGNALS (sizeof(run_signals) / sizeof(run_signals[0]))

/* pyscope-run while it runs (signals are passed on to it), else 0. */
static volatile sig_atomic_t run_runner_pid;
/* The first of run_signals we received, or 0. */
static volatile sig_atomic_t run_got_signal;
/* Who sent it (a process: kill(); else 0) and when (CLOCK_MONOTONIC): written only in
 * run_on_signal(), which no run_signal interrupts (its sa_mask). */
static pid_t run_first_sender;
static struct timespec run_first_at;

/* How long a repeat of the first signal from the same process is the same request. */
#define RUN_SAME_REQUEST_S 2

/*
 * Whether sig (from si) repeats the first signal: the same number sent by the same
 * process (kill(), not the terminal) within RUN_SAME_REQUEST_S. timeout(1) sends its
 * signal to its child and then to its whole process group, so pyscope gets it twice; on
 * a busy machine timeout can be preempted between the two long enough for the script to
 * end (CI, 2026-12-07: `timeout 8 pyscope run` printed nothing). python3 dies of the
 * first; we finish the report first, so the second must not count as "stop now".
 */
static bool run_same_request(int sig, const siginfo_t *si)
{
    if (sig != run_got_signal || si->si_code != SI_USER || si->si_pid <= 0 ||
        si->si_pid != run_first_sender)
        return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double since = (double)(now.tv_sec - run_first_at.tv_sec) +
                   (double)(now.tv_nsec - run_first_at.tv_nsec) / 1e9;
    return since < RUN_SAME_REQUEST_S;
}

/* Note sig (from si) as the first signal: its number, its sender and the time. */
static void run_note_first(int sig, const siginfo_t *si)
{
    run_first_sender = si->si_code == SI_USER ? si->si_pid : 0;
    clock_gettime(CLOCK_MONOTONIC, &run_first_at);
    run_got_signal = sig;
}

static void run_on_signal(int sig, siginfo_t *si, void *context)
{
    (void)context;
    int saved = errno;
    if (run_runner_pid > 0) {
        if (!run_got_signal)
            run_note_first(sig, si);
        kill((pid_t)run_runner_pid, sig);
    } else if (!run_got_signal) {
        run_note_first(sig, si);             /* finish the report first, then die of it */
    } else if (!run_same_request(sig, si)) { /* a second one once the script is over */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    errno = saved;
}

/* Pass run_signals on to the runner from now on (our whole life). */
static void run_catch_signals(void)
{
    struct sigaction sa = {.sa_sigaction = run_on_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < RUN_N_SIGNALS; i++)
        sigaddset(&sa.sa_mask, run_signals[i]);
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    for (size_t i = 0; i < RUN_N_SIGNALS; i++)
        sigaction(run_signals[i], &sa, NULL);
}

/* Die of sig, as the script did or as we were told to (no core for SIGQUIT). */
static void run_die_of(int sig)
{
    fflush(NULL);
    if (sig == SIGQUIT) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
    }
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

/*
 * After pyscope-run died abnormally: kill what it left. The script dies of
 * its parent-death signal and comes to us (we are a subreaper), then its
 * children do; each child's process group is killed and the child reaped,
 * until none is left (at most ~2 s).
 */
static void run_kill_orphans(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
    for (int round = 0; round < 100; round++) {
        FILE *list = fopen(path, "re");
        long pid;
        int n = 0;
        while (list && fscanf(list, "%ld", &pid) == 1) {
            pid_t g = getpgid((pid_t)pid);
            if (g > 0 && g != getpgrp())
                kill(-g, SIGKILL);
            kill((pid_t)pid, SIGKILL);
            n++;
        }
        if (list)
            fclose(list);
        if (n == 0)
            return;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Give the terminal's foreground to group pgid (we may be in the background then). */
static void run_set_foreground(int tty, pid_t pgid)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGTTOU, &ign, &old);
    tcsetpgrp(tty, pgid);
    sigaction(SIGTTOU, &old, NULL);
}

/*
 * Start the runner in a process group of its own (the terminal's foreground
 * when we hold it) and wait for it, passing our signals on. With json_mode its
 * stdout goes to our stderr; out_fd is left open in it. Returns 0 and the wait
 * status in *status, or -errno when it could not be started.
 */
static int run_spawn_wait(const char *runner, bool use_path, char **argv, bool json_mode,
                          int out_fd, int *status)
{
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() ? STDIN_FILENO : -1;
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC) < 0)
        return -errno;
    /* Whatever the script leaves behind when pyscope-run dies comes to us. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    run_catch_signals();
    sigset_t block, prev, empty;
    sigemptyset(&block);
    sigemptyset(&empty);
    for (size_t i = 0; i < RUN_N_SIGNALS; i++)
        sigaddset(&block, run_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &prev);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, &prev, NULL);
        close(errpipe[0]);
        close(errpipe[1]);
        return -e;
    }
    if (pid == 0) {
        /* pyscope-run gets SIGTERM when we die: it stops the script and exits. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        if (tty >= 0)
            run_set_foreground(tty, getpid());
        for (size_t i = 0; i < RUN_N_SIGNALS; i++)
            signal(run_signals[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        if (json_mode)
            dup2(STDERR_FILENO, STDOUT_FILENO);
        fcntl(out_fd, F_SETFD, 0); /* inherited by pyscope-run */
        if (use_path)
            execvp(runner, argv);
        else
            execv(runner, argv);
        int e = errno;
        ssize_t w = write(errpipe[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so neither races the other */
    if (tty >= 0)
        run_set_foreground(tty, pid);
    run_runner_pid = pid;
    sigprocmask(SIG_SETMASK, &prev, NULL);
    close(errpipe[1]);
    int child_errno = 0;
    ssize_t got;
    while ((got = read(errpipe[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
        ;
    close(errpipe[0]);
    int rc = 0;
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            rc = -errno;
            break;
        }
    }
    run_runner_pid = 0;
    if (fault_enabled("run_linger_after_runner")) { /* the tests' window: a signal now */
        struct timespec left = {2, 0};
        while (nanosleep(&left, &left) < 0 && errno == EINTR)
            ;
    }
    if (tty >= 0)
        run_set_foreground(tty, getpgrp());
    if (got == (ssize_t)sizeof(child_errno) && child_errno)
        return -child_errno;
    return rc;
}

/* Create the runner's output file: anonymous, so that nothing is left behind
 * whatever happens to us. Returns a descriptor (read-write, close-on-exec) or
 * -1 (reported). */
static int run_make_tmp(void)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    int fd = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    /* a file system without O_TMPFILE: a named file, unlinked at once */
    char *path = run_path_join(tmpdir, "pyscope-run-XXXXXX.json");
    fd = mkostemps(path, 5, O_CLOEXEC);
    if (fd < 0)
        log_error("could not create a temporary file in \"%s\": %s", tmpdir, strerror(errno));
    else
        unlink(path);
    free(path);
    return fd;
}

/* Keep a refused runner output for inspection: a named copy in $TMPDIR. */
static void run_keep_refused(const char *buf, size_t len)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir)
        tmpdir = "/tmp";
    char *path = run_path_join(tmpdir, "pyscope-run-XXXXXX.json");
    int fd = mkostemps(path, 5, O_CLOEXEC);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += w > 0 ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) < 0)
        ok = false;
    if (ok) {
        log_info("the refused output is kept in \"%s\"", path);
    } else {
        log_warn("could not keep the refused output in \"%s\": %s", tmpdir, strerror(errno));
        if (fd >= 0)
            unlink(path);
    }
    free(path);
}

/*
 * Load and check the runner's output document from fd. Returns a new object,
 * or NULL with the reason reported (a refused document is kept, named).
 */
static json_t *run_load_result(int fd)
{
    char *buf;
    size_t len;
    int rc = lseek(fd, 0, SEEK_SET) < 0 ? -errno : cli_read_fd(fd, RUN_OUTPUT_CAP, &buf, &len);
    if (rc < 0) {
        log_error("could not read pyscope-run output: %s", pyscope_strerror(rc));
        return NULL;
    }
    if (len == 0) {
        free(buf);
        log_error("pyscope-run wrote no result");
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    const char *why = NULL;
    if (!doc)
        ;
    else if (!json_is_object(doc))
        why = "not a JSON object";
    else if (!schema || strncmp(schema, "pyscope.run/", 12) != 0)
        why = "no \"schema\": \"pyscope.run/1\"";
    else if (strcmp(schema + 12, "1") != 0 && strncmp(schema + 12, "1.", 2) != 0)
        why = "unsupported schema version (this pyscope reads pyscope.run/1)";
    else if (!json_is_object(json_object_get(doc, "status")) ||
             !json_is_string(json_object_get(json_object_get(doc, "status"), "outcome")))
        why = "no \"status\" object";
    else if (!json_is_array(json_object_get(doc, "runs")))
        why = "no \"runs\" array";
    if (!doc)
        log_error("corrupt pyscope-run output: %s (line %d, column %d)", jerr.text, jerr.line,
                  jerr.column);
    else if (why)
        log_error("corrupt pyscope-run output: %s", why);
    if (!doc || why) {
        run_keep_refused(buf, len);
        json_decref(doc);
        doc = NULL;
    }
    free(buf);
    return doc;
}

/*
 * The project root the runner used for relative keys: script.path minus "/" + key.
 * Returns a new string, or NULL when it cannot be derived.
 */
static char *run_source_root(const json_t *report)
{
    const json_t *script = json_object_get(report, "script");
    const char *path = json_string_value(json_object_get(script, "path"));
    const char *key = json_string_value(json_object_get(script, "key"));
    if (!path || !key || key[0] == '/')
        return NULL;
    size_t lp = strlen(path), lk = strlen(key);
    if (lp <= lk + 1 || strcmp(path + lp - lk, key) != 0 || path[lp - lk - 1] != '/')
        return NULL;
    return lp - lk - 1 == 0 ? xstrdup("/") : xstrndup(path, lp - lk - 1);
}

/* Add suggestions and the regression check to the report (borrowed, modified). */
static void run_analyze(json_t *report, const struct run_args *a, const struct run_files *f,
                        bool script_ok)
{
    struct suggest_options sopt = {0};
    char *root = run_source_root(report);
    sopt.source_root = root;
    json_t *suggestions = suggest_analyze(report, &sopt);
    free(root);
    if (!suggestions) {
        log_warn("could not compute optimization suggestions");
        suggestions = json_array();
    }
    json_object_set_new(report, "suggestions", suggestions);

    json_t *regression = json_null();
    if (script_ok) {
        struct regress_options ropt;
        regress_options_init(&ropt);
        ropt.history_flags = cli_history_flags();
        const char *key =
            json_string_value(json_object_get(json_object_get(report, "script"), "key"));
        double cfg_pct = config_threshold_pct(&a->config, key, NULL);
        if (a->threshold_pct > 0)
            ropt.threshold = a->threshold_pct / 100.0;
        else if (cfg_pct > 0)
            ropt.threshold = cfg_pct / 100.0;
        json_t *r = regress_check_local(report, f->json_dir, &ropt);
        if (r) {
            json_decref(regression);
            regression = r;
        } else {
            log_warn("could not check for regressions against \"%s\"", f->json_dir);
        }
    }
    json_object_set_new(report, "regression", regression);
}

/*
 * Save the HTML, then the JSON report (the JSON is the history entry, written last
 * so that it names only files that exist). Returns 0, or -1 when a write failed
 * (reported).
 */
static int run_save(json_t *report, struct run_files *f)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *base = cli_report_name(&ts);
    char *json_name = xasprintf("%s.json", base);
    char *html_name = xasprintf("%s.html", base);
    f->json_path = run_path_join(f->json_dir, json_name);
    f->html_path = run_path_join(f->html_dir, html_name);
    free(base);
    free(json_name);
    free(html_name);

    json_t *files = json_object();
    json_object_set_new(files, "json", json_string_lossy(f->json_path));
    json_object_set_new(files, "html", json_string_lossy(f->html_path));
    json_object_set_new(report, "files", files);

    int result = 0;
    if (cli_write_html_atomic(f->html_path, html_report_write, report, "HTML report") < 0) {
        result = -1;
        free(f->html_path);
        f->html_path = NULL;
        json_object_set_new(files, "html", json_null());
    }
    /* the history index learns of the new report without reading anything else */
    struct history_index_txn txn;
    bool indexed = cli_history_flags() && history_index_begin(f->json_dir, &txn) == 0;
    int rc = cli_write_json_atomic(f->json_path, report, JSON_INDENT(2));
    if (indexed)
        history_index_commit(&txn, rc < 0 ? NULL : strrchr(f->json_path, '/') + 1, report);
    if (rc < 0) {
        log_error("could not write JSON report \"%s\": %s", f->json_path, pyscope_strerror(rc));
        result = -1;
        free(f->json_path);
        f->json_path = NULL;
        json_object_set_new(files, "json", json_null());
    }
    return result;
}

/* Write the --export files; 0 or -1 when one failed (reported). */
static int run_exports(const struct run_args *a, const json_t *report)
{
    int result = 0;
    for (size_t i = 0; i < a->n_exports; i++) {
        const struct run_export *e = &a->exports[i];
        FILE *out = fopen(e->path, "w");
        if (!out) {
            log_error("could not write export file \"%s\": %s", e->path, strerror(errno));
            result = -1;
            continue;
        }
        int rc = e->format == RUN_EXPORT_COLLAPSED ? export_collapsed(out, report)
                                                   : export_speedscope(out, report);
        if (fflush(out) == EOF && rc >= 0)
            rc = -errno;
        if (ferror(out) && rc >= 0)
            rc = -EIO;
        if (fclose(out) == EOF && rc >= 0)
            rc = -errno;
        if (rc < 0) {
            log_error("could not write export file \"%s\": %s", e->path, pyscope_strerror(rc));
            result = -1;
        }
    }
    return result;
}

/* Write --junit, --summary-md (or append to $GITHUB_STEP_SUMMARY); 0 or -1 (reported). */
static int run_ci_reports(const struct run_args *a, const json_t *report)
{
    const char *gh = getenv("GITHUB_STEP_SUMMARY");
    const char *md = a->summary_md ? a->summary_md : (gh && *gh ? gh : NULL);
    char err[512];
    int result = 0;
    if (a->junit &&
        ci_report_write_file(a->junit, false, CI_REPORT_JUNIT, &report, 1, err, sizeof(err)) < 0) {
        log_error("%s", err);
        result = -1;
    }
    if (md && ci_report_write_file(md, !a->summary_md, CI_REPORT_MARKDOWN, &report, 1, err,
                                   sizeof(err)) < 0) {
        log_error("%s", err);
        result = -1;
    }
    return result;
}

/* Interpret the runner's wait status; -1 to go on and read its result, else an exit code. */
static int run_runner_status(const char *runner, int status)
{
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *abbrev = sigabbrev_np(sig);
        run_kill_orphans();
        if (sig == run_got_signal) {
            /* our signal reached it before it could pass it on: nothing ran to report */
            log_error("interrupted by SIG%s before the script started", abbrev ? abbrev : "?");
            return PYSCOPE_EXIT_SCRIPT;
        }
        log_error("%s was killed by signal %d (SIG%s); the script and its processes were "
                  "stopped, no report was made",
                  runner, sig, abbrev ? abbrev : "?");
        return PYSCOPE_EXIT_INTERNAL;
    }
    int code = WEXITSTATUS(status);
    switch (code) {
    case PYSCOPE_EXIT_OK:
    case PYSCOPE_EXIT_SCRIPT:
    case PYSCOPE_EXIT_TIMEOUT:
        return -1;
    case PYSCOPE_EXIT_USAGE:
    case PYSCOPE_EXIT_UNAVAILABLE: /* no working valgrind for --instructions */
        return PYSCOPE_EXIT_USAGE; /* it said why on stderr */
    case PYSCOPE_EXIT_INTERNAL:
        log_error("%s failed (internal error, see above)", runner);
        return PYSCOPE_EXIT_INTERNAL;
    default:
        log_error("%s exited with unexpected status %d", runner, code);
        return PYSCOPE_EXIT_INTERNAL;
    }
}

static void run_files_release(struct run_files *f)
{
    if (f->out_fd >= 0)
        close(f->out_fd);
    free(f->json_dir);
    free(f->html_dir);
    free(f->json_path);
    free(f->html_path);
    memset(f, 0, sizeof(*f));
    f->out_fd = -1;
}

/*
 * Run the script under pyscope-run and load its result. Returns the result (new
 * object, caller owns) with the runner's exit status (0, 3 or 124) in *script_rc,
 * or NULL with the exit status to return in *script_rc (reported).
 */
static json_t *run_measure(const struct run_args *a, struct run_files *f, int *script_rc)
{
    char err[512];
    bool use_path;
    char *runner = cli_find_runner(&use_path, err, sizeof(err));
    if (!runner) {
        log_error("%s", err);
        *script_rc = PYSCOPE_EXIT_INTERNAL;
        return NULL;
    }
    f->out_fd = run_make_tmp();
    if (f->out_fd < 0) {
        free(runner);
        *script_rc = PYSCOPE_EXIT_INTERNAL;
        return NULL;
    }

    if (!a->quiet && !a->json && isatty(STDERR_FILENO))
        fprintf(stderr, "pyscope: profiling %s ...\n", a->script_argv[0]);
    const char *progress_fd;
    struct run_progress *progress =
        run_progress_start(a->quiet || a->json, a->script_argv[0], &progress_fd);
    char *fd_text;
    char **rargv = run_runner_argv(runner, a, f->out_fd, &fd_text, progress_fd);
    int status = 0;
    int rc = run_spawn_wait(runner, use_path, rargv, a->json, f->out_fd, &status);
    run_progress_end(&progress);
    free(rargv);
    free(fd_text);
    if (rc < 0) {
        log_error("could not run \"%s\": %s%s", runner, strerror(-rc),
                  use_path ? " (set PYSCOPE_RUN_BIN or install pyscope-run next to pyscope)" : "");
        free(runner);
        *script_rc = PYSCOPE_EXIT_INTERNAL;
        return NULL;
    }
    rc = run_runner_status(runner, status);
    free(runner);
    if (rc >= 0) {
        *script_rc = rc;
        return NULL;
    }
    json_t *result = run_load_result(f->out_fd);
    if (!result) {
        *script_rc = PYSCOPE_EXIT_INTERNAL;
        return NULL;
    }
    *script_rc = WEXITSTATUS(status);
    return result;
}

/*
 * Turn the result (borrowed, modified) into the report, save it, export it and
 * print it. Returns the exit status.
 */
static int run_report(const struct run_args *a, struct run_files *f, json_t *report, int script_rc)
{
    json_object_set_new(report, "schema", json_string("pyscope.report/1"));
    run_analyze(report, a, f, script_rc == PYSCOPE_EXIT_OK);

    bool internal = false;
    if (a->no_save)
        json_object_set_new(report, "files", json_pack("{s:n, s:n}", "json", "html"));
    else if (run_save(report, f) < 0)
        internal = true;
    if (run_exports(a, report) < 0)
        internal = true;
    if (run_ci_reports(a, report) < 0)
        internal = true;

    if (a->json) {
        if (json_dumpf(report, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF)
            internal = true;
    } else if (!a->quiet) {
        struct report_text_options topt;
        report_text_options_init(&topt);
        topt.color = cli_color_enabled(a->color, STDOUT_FILENO);
        topt.top = (int)a->top;
        topt.json_path = f->json_path;
        topt.html_path = f->html_path;
        topt.print_regression = regress_print;
        report_text_print(stdout, report, &topt);
    }
    if (a->json || a->quiet) {
        /* no text report: say how the script ended on stderr */
        char *outcome = report_text_outcome(report);
        if (outcome)
            log_error("%s", outcome);
        free(outcome);
    }
    if (fflush(stdout) == EOF) {
        log_error("could not write to standard output: %s", strerror(errno));
        internal = true;
    }

    const json_t *regression = json_object_get(report, "regression");
    bool regressed = json_is_object(regression) && regress_has_regression(regression);
    if (internal)
        return PYSCOPE_EXIT_INTERNAL;
    if (script_rc != PYSCOPE_EXIT_OK)
        return script_rc;
    if (regressed && a->fail_on_regression)
        return PYSCOPE_EXIT_REGRESSION;
    return PYSCOPE_EXIT_OK;
}

/* The signal pyscope must die of once done: one it received, else SIGINT when the
 * script died of it (a Ctrl-C at the terminal reached only the script); 0: none. */
static int run_exit_signal(const json_t *report)
{
    if (run_got_signal)
        return run_got_signal;
    const json_t *sig = json_object_get(json_object_get(report, "status"), "signal");
    return json_integer_value(sig) == SIGINT ? SIGINT : 0;
}

int cli_run_main(int argc, char **argv)
{
    struct run_args a;
    struct run_files f = {.out_fd = -1};
    int die_of = 0;
    int rc = run_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    rc = run_check_paths(&a);
    if (rc) {
        config_release(&a.config);
        return rc;
    }
    rc = run_prepare_reports(&a, &f);
    if (rc)
        goto out;
    json_t *report = run_measure(&a, &f, &rc);
    die_of = run_got_signal;
    if (report) {
        rc = run_report(&a, &f, report, rc);
        die_of = run_exit_signal(report);
        json_decref(report);
    }
out:
    run_files_release(&f);
    config_release(&a.config);
    if (die_of)
        run_die_of(die_of);
    return rc;
}
