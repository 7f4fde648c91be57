/*
 * history.c - "pyscope history SCRIPT": one script's runs over time.
 *
 * Reads the saved reports of SCRIPT in DIR/json (lib/history: corrupt and
 * foreign files are skipped with a warning), keeps one series (host
 * fingerprint and Python build: --host, else those of the newest report) and
 * shows per run: date, run id, median wall time, spread (IQR as % of the
 * median), samples, the verdict of its wall time against its own baseline and
 * the change points (stats_changepoints over the run medians, as
 * regress_check_local does). A run's baseline is the runs before it since the
 * latest change point before it, at most the newest 10 (regress_compare), so
 * a run that starts a new level is judged against the old one. The output
 * also says where the baseline of the next run starts: the latest change
 * point. Terminal table, --json (pyscope.history/1) and --html FILE.
 *
 * With a coordinator (--coordinator URL or $PYSCOPE_COORDINATOR, unless
 * --local or --reports-dir), the runs come from the farm instead (Query
 * KIND_SERIES: the ok runs of SCRIPT on host --host, a hostname or
 * fingerprint) and go through the same history_doc_build and printers, so the
 * table, JSON and HTML are the local ones; the document says "source":
 * "farm" and carries the regressions the farm's batch analysis stored on the
 * series.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "errors.h"
#include "farm_cmds.h"
#include "jsonutil.h"
#include "history.h"
#include "history_doc.h"
#include "html_history.h"
#include "log.h"
#include "pathnorm.h"
#include "regress.h"
#include "revision.h"
#include "stats.h"
#include "util.h"
#include "sanitize.h"
#include "xmalloc.h"

#define HISTORY_CLI_MAX_RUNS 200 /* newest reports considered (as regress_check_local) */

enum {
    HIST_OPT_REPORTS_DIR = 256,
    HIST_OPT_HOST,
    HIST_OPT_JSON,
    HIST_OPT_HTML,
    HIST_OPT_THRESHOLD,
    HIST_OPT_COLOR,
    HIST_OPT_LOCAL,
    HIST_OPT_BUILD,
    HIST_OPT_LIMIT,
    HIST_OPT_METRIC,
    HIST_OPT_ORDER,
    HIST_OPT_MODE,
};

static const struct option history_long_options[] = {
    {"reports-dir", required_argument, NULL, HIST_OPT_REPORTS_DIR},
    {"host", required_argument, NULL, HIST_OPT_HOST},
    {"json", no_argument, NULL, HIST_OPT_JSON},
    {"html", required_argument, NULL, HIST_OPT_HTML},
    {"threshold", required_argument, NULL, HIST_OPT_THRESHOLD},
    {"color", required_argument, NULL, HIST_OPT_COLOR},
    {"colour", required_argument, NULL, HIST_OPT_COLOR},
    {"local", no_argument, NULL, HIST_OPT_LOCAL},
    {"python-build", required_argument, NULL, HIST_OPT_BUILD},
    {"limit", required_argument, NULL, HIST_OPT_LIMIT},
    {"metric", required_argument, NULL, HIST_OPT_METRIC},
    {"order", required_argument, NULL, HIST_OPT_ORDER},
    {"mode", required_argument, NULL, HIST_OPT_MODE},
    FARM_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct hist_args {
    const char *script;
    const char *reports_dir;
    const char *host;
    bool json;
    const char *html;
    double threshold_pct;
    enum cli_color color;
    bool local;               /* --local, or --reports-dir given: never the farm */
    const char *python_build; /* --python-build: the series' build (default: the newest's) */
    uint64_t limit;           /* --limit: newest runs (default HISTORY_CLI_MAX_RUNS) */
    const char *metric;    /* --metric: wall_s (default), cpu_s, peak_rss_bytes or instructions */
    bool by_commit;        /* --order commit: runs in their commits' order in history */
    const char *mode;      /* --mode: sample or trace; NULL: the newest run's */
    struct farm_opts farm; /* --coordinator ... */
};

void cli_history_help(FILE *out)
{
    fputs("Usage: pyscope history [OPTIONS] SCRIPT\n"
          "\n"
          "Show the runs of SCRIPT saved by `pyscope run` over time: median wall time and\n"
          "spread per run, each run's verdict against its own baseline, and the change\n"
          "points where the level moved. SCRIPT is a path (its key is computed as\n"
          "`pyscope run` does) or a script key such as examples/slow_script.py.\n"
          "\n"
          "Options:\n"
          "  --reports-dir DIR       read DIR/json (default ./reports)\n"
          "  --host FINGERPRINT      the series of this host (default: the newest report's);\n"
          "                          with a coordinator a hostname or fingerprint (required)\n"
          "  --python-build BUILD    the series of this Python build (default: the newest\n"
          "                          run's)\n"
          "  --mode sample|trace     the series of this profiling mode (default: the newest\n"
          "                          run's; runs of the two modes are never compared)\n"
          "  --limit N               the newest N runs (default 200, at most 1000)\n"
          "  --metric M              the series of wall_s (default), cpu_s, peak_rss_bytes\n"
          "                          or instructions\n"
          "                          (counted by pyscope run --instructions; runs without\n"
          "                          counts are left out), in the table, --json and --html\n"
          "  --threshold PCT         smallest change that counts, in percent (default:\n"
          "                          pyscope.ini at the project root, else 5)\n"
          "  --json                  print the series as JSON (pyscope.history/1)\n"
          "  --html FILE             write a self-contained HTML page with a trend chart\n"
          "  --color auto|always|never\n"
          "  -h, --help              show this help\n"
          "\n"
          "The farm: with --coordinator URL or $PYSCOPE_COORDINATOR (and neither --local\n"
          "nor --reports-dir), the runs of SCRIPT on --host H come from the coordinator,\n"
          "with the regressions its nightly analysis stored on them, each with its range\n"
          "of commits (last good, first bad, how many between) when the runs ran commits.\n"
          "  --order time|commit     the farm's runs in the order they ran (default), or in\n"
          "                          their commits' order in history (generation number,\n"
          "                          then time): each run is then judged against the runs\n"
          "                          of earlier commits\n"
          "  --local                 read the local reports even when $PYSCOPE_COORDINATOR\n"
          "                          is set\n" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 ok (also when a script on disk has no runs yet), 2 usage error\n"
          "(bad option, reports folder missing, a SCRIPT that is no file and has no runs\n"
          "in the reports, unknown script or host on the farm), 4 an output file could\n"
          "not be written or the coordinator could not be reached.\n",
          out);
}

/* Longer than 100 lines, kept whole: getopt_long's loop, one case of a few lines per option
 * (14), then the checks between options; the option table and its cases read together (as
 * agent/runner/main.c parse_options). */
static int hist_parse_args(int argc, char **argv, struct hist_args *a)
{
    memset(a, 0, sizeof(*a));
    a->reports_dir = "reports";
    a->threshold_pct = -1;
    a->color = CLI_COLOR_AUTO;
    a->limit = HISTORY_CLI_MAX_RUNS;
    a->metric = "wall_s";
    farm_opts_init(&a->farm);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", history_long_options, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
        case HIST_OPT_REPORTS_DIR:
        case HIST_OPT_HOST:
        case HIST_OPT_HTML:
        case HIST_OPT_BUILD:
            if (!*optarg)
                return cli_usage_error("history", "invalid value for %s: empty", prev);
            *(c == HIST_OPT_REPORTS_DIR ? &a->reports_dir
              : c == HIST_OPT_HOST      ? &a->host
              : c == HIST_OPT_BUILD     ? &a->python_build
                                        : &a->html) = optarg;
            if (c == HIST_OPT_REPORTS_DIR)
                a->local = true;
            break;
        case HIST_OPT_LOCAL:
            a->local = true;
            break;
        case HIST_OPT_LIMIT:
            if (farm_parse_u64(optarg, WIRE_MAX_QUERY_LIMIT, &a->limit) < 0)
                return cli_usage_error("history",
                                       "invalid value for --limit: \"%s\" (a whole number from "
                                       "1 to 1000)",
                                       optarg);
            break;
        case HIST_OPT_MODE:
            if (strcmp(optarg, "sample") != 0 && strcmp(optarg, "trace") != 0)
                return cli_usage_error("history",
                                       "invalid value for --mode: \"%s\" (expected sample or "
                                       "trace)",
                                       optarg);
            a->mode = optarg;
            break;
        case HIST_OPT_METRIC:
            if (strcmp(optarg, "wall_s") != 0 && strcmp(optarg, "cpu_s") != 0 &&
                strcmp(optarg, "peak_rss_bytes") != 0 &&
                strcmp(optarg, HISTORY_METRIC_INSTRUCTIONS) != 0)
                return cli_usage_error("history",
                                       "invalid value for --metric: \"%s\" (expected wall_s, "
                                       "cpu_s, peak_rss_bytes or instructions)",
                                       optarg);
            a->metric = optarg;
            break;
        case HIST_OPT_ORDER:
            if (strcmp(optarg, "time") != 0 && strcmp(optarg, "commit") != 0)
                return cli_usage_error("history",
                                       "invalid value for --order: \"%s\" (expected time or "
                                       "commit)",
                                       optarg);
            a->by_commit = strcmp(optarg, "commit") == 0;
            break;
        case HIST_OPT_JSON:
            a->json = true;
            break;
        case HIST_OPT_THRESHOLD:
            if (config_parse_threshold(optarg, &a->threshold_pct) < 0)
                return cli_usage_error("history", CLI_THRESHOLD_ERROR, optarg);
            break;
        case HIST_OPT_COLOR:
            if (cli_parse_color(optarg, &a->color) < 0)
                return cli_usage_error(
                    "history",
                    "invalid value for --color: \"%s\" (expected auto, always or "
                    "never)",
                    optarg);
            break;
        case 'h':
            cli_history_help(stdout);
            return PYSCOPE_EXIT_OK;
        default: {
            int st = farm_opts_take(&a->farm, c, optarg, "history", prev);
            if (st >= 0)
                return st;
            break;
        }
        }
    }
    if (optind >= argc)
        return cli_usage_error("history", "no script given");
    if (optind + 1 < argc)
        return cli_usage_error("history", "one script at a time (got \"%s\" too)",
                               argv[optind + 1]);
    a->script = argv[optind];
    int rc = cli_check_out_file("history", "file", a->html);
    return rc ? rc : -1;
}

/*
 * The script key for arg: an existing file's key (relative to the git top
 * level above it, else its absolute path), else arg cleaned. New string.
 */
static char *hist_key(const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
        char *abs = realpath(arg, NULL);
        if (abs) {
            char *copy = xstrdup(abs);
            char *root = pathnorm_find_root(dirname(copy));
            free(copy);
            char *key = NULL;
            if (pathnorm_key(abs, root, &key) < 0)
                key = NULL;
            free(root);
            free(abs);
            if (key)
                return key;
        }
    }
    return pathnorm_clean(arg);
}

static const char *hist_get(const json_t *doc, const char *obj, const char *key)
{
    return json_string_value(json_object_get(obj ? json_object_get(doc, obj) : doc, key));
}

static bool hist_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The document's name of statistic stat ("median", "q1" ...) of metric: "median_wall_s". */
static const char *hist_field(char *buf, size_t len, const char *stat, const char *metric)
{
    snprintf(buf, len, "%s_%s", stat, metric);
    return buf;
}

/* Print value v of metric: seconds, MiB, or millions of instructions. */
static void hist_print_value(const char *metric, double v, int width)
{
    if (strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0)
        printf("%*.2f M", width, v / 1e6);
    else if (strcmp(metric, "peak_rss_bytes") == 0)
        printf("%*.1f MiB", width, v / 1048576.0);
    else
        printf("%*.4f s", width, v);
}

/* The metric's fields of a run: its median and quartiles (hist_field()). */
struct hist_fields {
    char med[64], q1[64], q3[64];
};

/* The words of a main metric's name: "CPU time" for "cpu_s". */
static const char *hist_metric_noun(const char *metric)
{
    if (strcmp(metric, "cpu_s") == 0)
        return "CPU time";
    if (strcmp(metric, "wall_s") == 0)
        return "wall time";
    if (strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0)
        return "instruction counts";
    return strcmp(metric, "peak_rss_bytes") == 0 ? "peak memory" : metric;
}

/* One run r (borrowed) of the table: date, id, commit, median, spread, n and its verdict. */
static void hist_print_run(const json_t *r, const char *metric, const struct hist_fields *f,
                           bool commits, bool color)
{
    const char *created = hist_get(r, NULL, "created");
    char date[20] = "?";
    if (created) {
        snprintf(date, sizeof(date), "%.19s", created);
        if (strlen(date) > 10)
            date[10] = ' ';
    }
    double med = json_real_value(json_object_get(r, f->med));
    double q1 = json_real_value(json_object_get(r, f->q1));
    double q3 = json_real_value(json_object_get(r, f->q3));
    const char *v = hist_get(r, NULL, "verdict");
    const char *col = "";
    if (hist_same(v, "regression"))
        col = "\033[31m";
    else if (hist_same(v, "improvement"))
        col = "\033[32m";
    else if (hist_same(v, "inconclusive"))
        col = "\033[33m";
    bool cp = json_is_true(json_object_get(r, "change_point"));
    char spread[16];
    snprintf(spread, sizeof(spread), "\xc2\xb1%.1f%%", med > 0 ? 50 * (q3 - q1) / med : 0.0);
    printf("%-3s %-19s  %-8.8s  ", cp ? "\xe2\x97\x86" : "", date, hist_get(r, NULL, "id") ?: "?");
    if (commits)
        printf("%-12.12s  ", hist_get(json_object_get(r, "commit"), NULL, "hash") ?: "-");
    hist_print_value(metric, med, 9);
    printf("  %9s  %4" JSON_INTEGER_FORMAT "  %s%s", spread,
           json_integer_value(json_object_get(r, "n")), color ? col : "", v ? v : "?");
    const json_t *c = json_object_get(r, "change_pct");
    /* the change of the median's metric, or of the wall time net of waiting for a CPU (the
     * median includes the wait: stranger19 minor 10), then the metric that decided the run */
    if (json_is_number(c))
        printf(" (%+.1f%%%s)", json_number_value(c),
               json_is_true(json_object_get(r, "change_net_of_queueing")) ? " net of queueing"
                                                                          : "");
    const json_t *d = json_object_get(r, "decision");
    const char *dm = hist_get(d, NULL, "metric");
    if (dm) {
        printf("; %s decides: %s", hist_metric_noun(dm), hist_get(d, NULL, "verdict") ?: "?");
        if (json_is_number(json_object_get(d, "change_pct")))
            printf(" (%+.1f%%)", json_number_value(json_object_get(d, "change_pct")));
    }
    const json_t *regs = json_object_get(r, "regressions");
    size_t nregs = json_array_size(regs);
    if (nregs && !hist_same(v, "regression"))
        printf(" [%zu other metric%s regressed]", nregs, nregs == 1 ? "" : "s");
    const json_t *sr = json_object_get(r, "stored_regressions");
    if (json_array_size(sr)) {
        const json_t *g = json_array_get(sr, 0);
        printf(" [farm: %s #%" JSON_INTEGER_FORMAT ", %s]", hist_get(g, NULL, "kind") ?: "?",
               json_integer_value(json_object_get(g, "id")), hist_get(g, NULL, "state") ?: "?");
    }
    printf("%s\n", color && *col ? "\033[0m" : "");
}

/* The table of runs (non-empty, borrowed), its header first. */
static void hist_print_runs(const json_t *doc, const json_t *runs, const char *metric, bool color)
{
    struct hist_fields f;
    hist_field(f.med, sizeof(f.med), "median", metric);
    hist_field(f.q1, sizeof(f.q1), "q1", metric);
    hist_field(f.q3, sizeof(f.q3), "q3", metric);
    size_t i;
    const json_t *r;
    bool commits = false;
    json_array_foreach(runs, i, r) commits =
        commits || json_is_object(json_object_get(r, "commit"));
    if (hist_same(hist_get(doc, NULL, "order"), "commit"))
        puts("In the order of their commits in history (then of time).");
    printf("\n%-3s %-19s  %-8s  %s%11s  %8s  %4s  %s\n", "", "Date (UTC)", "Run id",
           commits ? "Commit        " : "",
           strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0 ? "Median instr"
           : strcmp(metric, "cpu_s") == 0                   ? "Median CPU"
           : strcmp(metric, "peak_rss_bytes") == 0          ? "Median RSS"
                                                            : "Median wall",
           "Spread", "n", "Verdict vs its baseline");
    bool net = false, other = false;
    json_array_foreach(runs, i, r)
    {
        hist_print_run(r, metric, &f, commits, color);
        net = net || json_is_true(json_object_get(r, "change_net_of_queueing"));
        other = other || json_is_object(json_object_get(r, "decision"));
    }
    puts("\nSpread: half the interquartile range of the run's samples, as % of its median.");
    if (net)
        puts("Net of queueing: the change of the wall time less its wait for a CPU (a busy "
             "machine); the median includes the wait.");
    if (other)
        puts("\"X decides\": the metric the run's verdict rests on (pyscope run's "
             "\"Decided on\"), its verdict and change.");
}

/* The series' change points, said with the basis they were found on. */
static void hist_print_change_points(const json_t *doc, const char *metric)
{
    char f_before[80], f_after[80];
    hist_field(f_before, sizeof(f_before), "before_median", metric);
    hist_field(f_after, sizeof(f_after), "after_median", metric);
    const json_t *cps = json_object_get(doc, "change_points");
    const json_t *cp;
    size_t i;
    const char *basis = hist_get(doc, NULL, "change_points_basis");
    if (json_array_size(cps) && basis && strcmp(basis, "cpu_s") == 0 &&
        strcmp(metric, "cpu_s") != 0)
        puts("\xe2\x97\x86 change points (E-divisive over the runs' median CPU time: the wall "
             "time was mostly waiting for a CPU and the script is CPU-bound):");
    else if (json_array_size(cps) && basis && strcmp(basis, "wall_net_s") == 0)
        puts("\xe2\x97\x86 change points (E-divisive over the run medians of the wall time net "
             "of waiting for a CPU):");
    else if (json_array_size(cps))
        puts("\xe2\x97\x86 change points (E-divisive over the run medians):");
    json_array_foreach(cps, i, cp)
    {
        printf("  %s (run %.8s): ", hist_get(cp, NULL, "created") ?: "?",
               hist_get(cp, NULL, "id") ?: "?");
        hist_print_value(metric, json_real_value(json_object_get(cp, f_before)), 0);
        fputs(" -> ", stdout);
        hist_print_value(metric, json_real_value(json_object_get(cp, f_after)), 0);
        printf(" (%+.1f%%)\n", json_real_value(json_object_get(cp, "change_pct")));
    }
}

/* The farm's stored findings of the series, each with its commit range and bisection. */
static void hist_print_stored(const json_t *doc)
{
    const json_t *stored = json_object_get(doc, "stored_regressions");
    const json_t *g;
    size_t i;
    if (json_array_size(stored))
        puts("Stored by the farm's nightly analysis:");
    json_array_foreach(stored, i, g)
    {
        const char *fn = hist_get(g, NULL, "function");
        printf("  #%" JSON_INTEGER_FORMAT " batch %" JSON_INTEGER_FORMAT ": %s %s%s%s %+.1f%%",
               json_integer_value(json_object_get(g, "id")),
               json_integer_value(json_object_get(g, "batch_id")), hist_get(g, NULL, "kind") ?: "?",
               hist_get(g, NULL, "metric") ?: "?", fn ? " " : "", fn ? fn : "",
               json_number_value(json_object_get(g, "change_pct")));
        if (json_is_number(json_object_get(g, "ci_low_pct")) &&
            json_is_number(json_object_get(g, "ci_high_pct")))
            printf(" (95%% CI %+.1f%% to %+.1f%%)",
                   json_number_value(json_object_get(g, "ci_low_pct")),
                   json_number_value(json_object_get(g, "ci_high_pct")));
        printf(", run %.8s, %s\n", hist_get(g, NULL, "candidate_run") ?: "?",
               hist_get(g, NULL, "state") ?: "?");
        revision_print_range(stdout, json_object_get(g, "range"), "    ");
        revision_print_bisection(stdout, json_object_get(g, "bisection"), "    ");
    }
}

static void hist_print_safe(const json_t *doc, bool color)
{
    const char *metric = hist_get(doc, NULL, "metric") ?: "wall_s";
    const json_t *host = json_object_get(doc, "host");
    const char *hn = hist_get(host, NULL, "hostname"), *fp = hist_get(host, NULL, "fingerprint");
    printf("%sHistory of %s%s\n", color ? "\033[1m" : "", hist_get(doc, NULL, "script"),
           color ? "\033[0m" : "");
    if (hn) /* unknown when no run has the metric: then the series is not said */
        printf("Host %s (%s), Python %s, %s mode\n", hn, fp ? fp : "?",
               hist_get(doc, NULL, "python_build") ?: "?", hist_get(doc, NULL, "mode") ?: "sample");
    if (hist_same(hist_get(doc, NULL, "source"), "farm"))
        printf("From the farm: %s\n", hist_get(doc, NULL, "coordinator") ?: "?");
    const json_t *runs = json_object_get(doc, "runs");
    if (json_array_size(runs) == 0) {
        /* runs without the metric's samples (no instruction counts): the message says so */
        if (json_integer_value(json_object_get(doc, "runs_without_metric")) > 0)
            printf("No run to show: %s.\n",
                   hist_get(json_object_get(doc, "baseline_for_next"), NULL, "message") ?: "?");
        else
            puts("No runs yet.");
        return;
    }
    hist_print_runs(doc, runs, metric, color);
    hist_print_change_points(doc, metric);
    printf("Baseline: %s.\n",
           hist_get(json_object_get(doc, "baseline_for_next"), NULL, "message") ?: "?");
    hist_print_stored(doc);
    size_t i;
    const json_t *o;
    json_array_foreach(json_object_get(doc, "other_series"), i, o)
    {
        printf("Also: %" JSON_INTEGER_FORMAT " run%s on host %s (%s), Python %s, %s mode; use "
               "--host, --python-build or --mode to see them\n",
               json_integer_value(json_object_get(o, "runs")),
               json_integer_value(json_object_get(o, "runs")) == 1 ? "" : "s",
               hist_get(o, NULL, "hostname") ?: "?", hist_get(o, NULL, "fingerprint") ?: "?",
               hist_get(o, NULL, "python_build") ?: "?", hist_get(o, NULL, "mode") ?: "sample");
    }
}

/*
 * The history of key on the farm: ask the coordinator for the series and
 * build the same document as local history. Returns 0 with *out (new), or an
 * exit status (usage: unknown script or host; internal: no answer).
 */
static int hist_farm(struct hist_args *a, const char *key, const struct regress_options *opt,
                     json_t **out)
{
    *out = NULL;
    if (!a->host)
        return cli_usage_error("history",
                               "--host H is needed with a coordinator (a hostname or fingerprint "
                               "from pyscope hosts); --local reads the local reports");
    if (!wire_path_normalized(key))
        return cli_usage_error("history",
                               "\"%s\" is not a script key the farm knows (a relative path as "
                               "in the suite, e.g. examples/slow_script.py)",
                               key);
    if (farm_opts_finish(&a->farm) < 0)
        return PYSCOPE_EXIT_USAGE;
    struct wire_query q = {.kind = WIRE_QUERY_SERIES,
                           .script = key,
                           .host = a->host,
                           .python_build = a->python_build,
                           .limit = (uint32_t)a->limit};
    json_t *reply = NULL;
    int qrc = farm_query_send(&a->farm, &q, &reply);
    if (qrc < 0)
        return farm_query_status(qrc);
    const json_t *series = json_object_get(reply, "series");
    const json_t *error = json_object_get(series, "error");
    if (!json_is_object(series) || json_is_object(error)) {
        bool usage = json_is_object(error);
        log_error("%s", usage ? hist_get(error, NULL, "message") ?: "?"
                              : "the coordinator's answer has no series");
        json_decref(reply);
        return usage ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
    }
    json_t *doc =
        history_doc_from_series(series, key, opt, a->metric, a->mode, a->farm.url, a->by_commit);
    json_decref(reply);
    *out = doc;
    return 0;
}

/*
 * With no run of the series: when a->script is no file and dir (reports/json) holds no run
 * of key at all (any host, Python, outcome), the script is unknown: a usage error, as the
 * farm's unknown script (it said "No runs yet.", exit 0). 0 otherwise: a script on disk
 * not run yet, or one deleted since its runs.
 */
static int hist_unknown_script(const struct hist_args *a, const char *key, const char *dir)
{
    struct stat st;
    if (stat(a->script, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    struct history_filter f = {.script_key = key, .limit = 1, .flags = cli_history_flags()};
    struct history h;
    history_load(dir, &f, &h);
    size_t n = h.n;
    history_release(&h);
    if (n > 0)
        return 0;
    return cli_usage_error("history",
                           "no script \"%s\": not a file, and no run of \"%s\" in \"%s\" "
                           "(give the script's path, or its key as pyscope run recorded it)",
                           a->script, key, dir);
}

/* The local history of key in a->reports_dir/json into *out (new); 0 or an exit status. */
static int hist_local(const struct hist_args *a, const char *key, const struct regress_options *opt,
                      json_t **out)
{
    *out = NULL;
    char *dir = xasprintf("%s%sjson", a->reports_dir,
                          a->reports_dir[strlen(a->reports_dir) - 1] == '/' ? "" : "/");
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        int rc = cli_usage_error("history", "no reports folder \"%s\": %s", dir,
                                 stat(dir, &st) < 0 ? strerror(errno) : strerror(ENOTDIR));
        free(dir);
        return rc;
    }
    struct history_filter f = {.script_key = key,
                               .host_fingerprint = a->host,
                               .python_build = a->python_build,
                               .ok_only = true,
                               .limit = a->limit,
                               .flags = cli_history_flags()};
    struct history h;
    history_load(dir, &f, &h);
    const json_t **docs = xcalloc(h.n + 1, sizeof(*docs));
    const char **paths = xcalloc(h.n + 1, sizeof(*paths));
    for (size_t i = 0; i < h.n; i++) {
        docs[i] = h.entries[i].doc;
        paths[i] = h.entries[i].path;
    }
    *out =
        history_doc_build(a->host, a->reports_dir, key, docs, paths, h.n, opt, a->metric, a->mode);
    json_object_set_new(*out, "source", json_string("local"));
    free(docs);
    free(paths);
    history_release(&h);
    json_int_t without = json_integer_value(json_object_get(*out, "runs_without_metric"));
    if (json_array_size(json_object_get(*out, "runs")) == 0 && without > 0)
        log_info("none of the %" JSON_INTEGER_FORMAT " runs of \"%s\" in \"%s\" has %s "
                 "samples%s",
                 without, key, dir, a->metric ? a->metric : "wall_s",
                 a->metric && strcmp(a->metric, "instructions") == 0
                     ? ": run with --instructions to count them"
                     : "");
    else if (json_array_size(json_object_get(*out, "runs")) == 0) {
        int rc = hist_unknown_script(a, key, dir);
        if (rc != 0) {
            json_decref(*out);
            *out = NULL;
            free(dir);
            return rc;
        }
        log_info("no runs of \"%s\" in \"%s\"%s%s", key, dir, a->host ? " on host " : "",
                 a->host ? a->host : "");
    }
    free(dir);
    return 0;
}

int cli_history_main(int argc, char **argv)
{
    struct hist_args a;
    int rc = hist_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    const char *env = getenv("PYSCOPE_COORDINATOR");
    bool farm = a.farm.url || (!a.local && env && *env);
    if (farm && a.local)
        return cli_usage_error("history", "--coordinator and --local (or --reports-dir) exclude "
                                          "each other");
    if (!farm && (a.farm.secret_key || a.farm.coordinator_key))
        return cli_usage_error("history", "--secret-key and --coordinator-key need a coordinator");
    char *key = hist_key(a.script);
    struct regress_options opt;
    regress_options_init(&opt);
    double pct = a.threshold_pct;
    if (pct <= 0) {
        char *ini = config_find(a.script);
        if (!ini)
            ini = config_find(".");
        if (ini) {
            struct config cfg;
            char err[512];
            if (config_load_file(ini, &cfg, err, sizeof(err)) < 0) {
                log_error("%s", err);
                config_release(&cfg);
                free(ini);
                free(key);
                return PYSCOPE_EXIT_USAGE;
            }
            pct = config_threshold_pct(&cfg, key, NULL);
            config_release(&cfg);
            free(ini);
        }
    }
    if (pct > 0)
        opt.threshold = pct / 100.0;

    json_t *doc = NULL;
    rc = farm ? hist_farm(&a, key, &opt, &doc) : hist_local(&a, key, &opt, &doc);
    if (rc != 0) {
        free(key);
        return rc;
    }
    bool internal = false;
    if (a.json) {
        if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF)
            internal = true;
    } else {
        json_t *safe = sanitize_json_copy(doc, 0); /* names and messages from runs */
        hist_print_safe(safe, cli_color_enabled(a.color, STDOUT_FILENO));
        json_decref(safe);
    }
    if (a.html && cli_write_html_atomic(a.html, html_history_write, doc, "HTML file") < 0)
        internal = true;
    if (fflush(stdout) == EOF)
        internal = true;
    json_decref(doc);
    free(key);
    return internal ? PYSCOPE_EXIT_INTERNAL : PYSCOPE_EXIT_OK;
}
