/*
 * compare_hosts.c - "pyscope compare-hosts SCRIPT": the same script on host A vs host B.
 *
 * Sends a compare_hosts Query (coordinator/query_series.c computes the
 * pairs with the team report's statistics: ratio of medians B/A with a 95%
 * percentile bootstrap interval over each host's newest runs, under one
 * Python build both ran: --python picks the Python; pairs that share no
 * build are listed, not compared) and prints the pairs as a table, or the
 * coordinator's pyscope.compare_hosts/1 JSON (--json), and writes a
 * self-contained HTML page with a forest plot of the ratios (--html FILE).
 *
 * "pyscope compare-pythons SCRIPT": the same for one host's Python builds
 * (the compare_pythons Query), through the same answer handling.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "farm_cmds.h"
#include "html_hosts.h"
#include "jsonutil.h"
#include "log.h"
#include "pyreq.h"
#include "wire.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

void cmd_compare_hosts_help(FILE *out)
{
    fputs("Usage: pyscope compare-hosts SCRIPT [--hosts A,B] [--python PY]\n"
          "                             [--metric wall|cpu|memory] [--json] [--html FILE]\n"
          "\n"
          "The same script on the farm's hosts: for every pair of hosts that ran SCRIPT\n"
          "(or the hosts named), the ratio of medians B/A of the metric over each host's\n"
          "newest runs, with a 95% bootstrap confidence interval and the sample counts.\n"
          "Like is compared with like: the runs of one Python build on both hosts (of the\n"
          "builds both ran, the one run most recently; with --python, of those builds of\n"
          "that Python). A pair of hosts that ran no build in common is not compared: it\n"
          "is listed with the builds each ran. Every pair says which build it compared.\n"
          "SCRIPT is the script's key as in the suite (examples/slow_script.py).\n"
          "\n"
          "  --hosts A,B[,...]    these hosts (hostnames or fingerprints), pairs in that\n"
          "                       order: B/A (default: every host that ran SCRIPT)\n"
          "  --python PY          compare the hosts under this Python: a version (3.12,\n"
          "                       3.12.1) or an interpreter's path; hosts that did not run\n"
          "                       SCRIPT under it are left out (named ones: an error)\n"
          "  --metric M           wall (default), cpu or memory (peak RSS)\n"
          "  --runs N             newest runs per host pooled (default 5, at most 1000)\n"
          "  --json               print the coordinator's JSON (pyscope.compare_hosts/1)\n"
          "  --html FILE          also write a self-contained HTML page (the ratios with\n"
          "                       their intervals drawn, the table, each host's "
          "runs)\n" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 ok, 2 usage error, unknown script or host, fewer than two hosts\n"
          "ran SCRIPT (under PY), no two hosts ran one build; 4 the coordinator could not\n"
          "be reached or FILE not written.\n",
          out);
}

/* The wire name of a --metric value, or NULL. */
static const char *ch_metric(const char *s)
{
    if (strcmp(s, "wall") == 0 || strcmp(s, "wall_s") == 0)
        return "wall_s";
    if (strcmp(s, "cpu") == 0 || strcmp(s, "cpu_s") == 0)
        return "cpu_s";
    if (strcmp(s, "memory") == 0 || strcmp(s, "mem") == 0 || strcmp(s, "peak_rss_bytes") == 0)
        return "peak_rss_bytes";
    return NULL;
}

/* Split list (modified in place) at commas into hosts (at most max); returns the count or -1. */
static int ch_split(char *list, const char **hosts, size_t max)
{
    size_t n = 0;
    char *p = list;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *item = cli_trim(p);
        if (!*item || n == max)
            return -1;
        hosts[n++] = item;
        if (!comma)
            break;
        p = comma + 1;
    }
    return (int)n;
}

/* A metric value for people: seconds, or bytes as MiB (new string). */
static char *ch_value(const char *metric, const json_t *v)
{
    if (!json_is_number(v))
        return xstrdup("-");
    double x = json_number_value(v);
    if (strcmp(metric, "peak_rss_bytes") == 0)
        return xasprintf("%.1f MiB", x / (1024.0 * 1024.0));
    return xasprintf("%.4f s", x);
}

/* The builds (a JSON array of strings) as "B1; B2" (new string). */
static char *ch_builds(const json_t *builds)
{
    char *text = xstrdup("");
    size_t i;
    const json_t *b;
    json_array_foreach(builds, i, b)
    {
        char *next = xasprintf("%s%s%s", text, i ? "; " : "", json_string_value(b) ?: "?");
        free(text);
        text = next;
    }
    return text;
}

/* What else pair p's (borrowed) ratio measures, as the end of its table row: "" when it is
 * the hardware as far as is known (coordinator/hostpair.h). */
static const char *ch_label(const json_t *p)
{
    const char *m = json_get_string(p, "measures", "hardware");
    return strcmp(m, "load") == 0                ? "  (one machine: load, not hardware)"
           : strcmp(m, "hardware_and_load") == 0 ? "  (wall time contaminated)"
                                                 : "";
}

/* Each pair's (borrowed) caveat: what its ratio measures when it is not the hardware. */
static void ch_print_caveats(FILE *out, const json_t *pairs)
{
    size_t i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        const char *c = json_get_string(p, "caveat", NULL);
        if (c)
            fprintf(out, "\n%s vs %s: not the hardware: %s\n",
                    json_get_string(p, "host_b", NULL) ?: "?",
                    json_get_string(p, "host_a", NULL) ?: "?", c);
    }
}

/* The table of pairs (borrowed): each pair's medians of metric, ratio, CI and samples. */
static void ch_print_pairs(FILE *out, const char *metric, const json_t *pairs)
{
    /* samples, not runs: the header's "newest N runs" pool each run's repeats */
    fprintf(out, "%-16s %-16s %12s %12s %8s  %-17s %9s %9s  %s\n", "Host A", "Host B", "Median A",
            "Median B", "B/A", "95% CI", "samples A", "samples B", "Python");
    size_t i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        char *ma = ch_value(metric, json_object_get(p, "median_a"));
        char *mb = ch_value(metric, json_object_get(p, "median_b"));
        char ci[48];
        snprintf(ci, sizeof(ci), "[%.3f, %.3f]", json_number_value(json_object_get(p, "ci_low")),
                 json_number_value(json_object_get(p, "ci_high")));
        fprintf(out,
                "%-16s %-16s %12s %12s %8.3f  %-17s %9" JSON_INTEGER_FORMAT
                " %9" JSON_INTEGER_FORMAT "  %s%s\n",
                json_get_string(p, "host_a", NULL) ?: "?",
                json_get_string(p, "host_b", NULL) ?: "?", ma, mb,
                json_number_value(json_object_get(p, "ratio")), ci,
                json_integer_value(json_object_get(p, "samples_a")),
                json_integer_value(json_object_get(p, "samples_b")),
                json_get_string(p, "python_version", NULL) ?: "?", ch_label(p));
        free(ma);
        free(mb);
    }
    if (json_array_size(pairs) == 0)
        fputs("(no pair with samples on both sides)\n", out);
}

/* The build each pair (borrowed) compared: once when they all compared the same one. */
static void ch_print_builds(FILE *out, const json_t *pairs)
{
    const char *first = json_get_string(json_array_get(pairs, 0), "python_build", NULL);
    bool one = first != NULL;
    size_t i;
    const json_t *p;
    json_array_foreach(pairs, i, p)
    {
        const char *b = json_get_string(p, "python_build", NULL);
        one &= b && strcmp(b, first) == 0;
    }
    if (one)
        fprintf(out, "\nPython build compared (the same on both hosts): %s\n", first);
    else if (json_array_size(pairs))
        fputs("\nPython build compared (the same on both hosts of a pair):\n", out);
    json_array_foreach(pairs, i, p)
    {
        if (!one)
            fprintf(out, "  %s vs %s: %s\n", json_get_string(p, "host_b", NULL) ?: "?",
                    json_get_string(p, "host_a", NULL) ?: "?",
                    json_get_string(p, "python_build", NULL) ?: "?");
    }
}

/* The pairs of c (borrowed) not compared (no Python build in common) and the hosts left out
 * for want of a run under --python python (NULL: none asked), with the builds they ran. */
static void ch_print_apart(FILE *out, const json_t *c, const char *python)
{
    size_t i;
    const json_t *p;
    const json_t *apart = json_object_get(c, "not_compared");
    if (json_array_size(apart))
        fputs("\nNot compared: no Python build ran on both (a ratio across builds would be the "
              "hosts' and the Pythons' at once):\n",
              out);
    json_array_foreach(apart, i, p)
    {
        char *ba = ch_builds(json_object_get(p, "python_builds_a"));
        char *bb = ch_builds(json_object_get(p, "python_builds_b"));
        fprintf(
            out, "  %s vs %s\n    %s: %s\n    %s: %s\n", json_get_string(p, "host_b", NULL) ?: "?",
            json_get_string(p, "host_a", NULL) ?: "?", json_get_string(p, "host_a", NULL) ?: "?",
            ba, json_get_string(p, "host_b", NULL) ?: "?", bb);
        free(ba);
        free(bb);
    }
    const json_t *without = json_object_get(c, "hosts_without_python");
    if (json_array_size(without))
        fprintf(out, "\nLeft out: no run under Python %s:\n", python ? python : "?");
    json_array_foreach(without, i, p)
    {
        char *b = ch_builds(json_object_get(p, "python_builds"));
        fprintf(out, "  %s: %s\n", json_get_string(p, "hostname", NULL) ?: "?", b);
        free(b);
    }
}

/* The open findings of the pairs (borrowed), each once: a ratio that includes an open
 * regression (or improvement) is not the hardware. */
static void ch_print_findings(FILE *out, const json_t *pairs)
{
    json_t *said = json_object();
    size_t i;
    const json_t *b;
    json_array_foreach(pairs, i, b)
    {
        size_t k;
        const json_t *f;
        json_array_foreach(json_object_get(b, "findings"), k, f)
        {
            char id[32];
            snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(json_object_get(f, "id")));
            if (json_object_get(said, id))
                continue;
            json_object_set_new(said, id, json_true());
            fprintf(out,
                    "\n%s: %s %+.1f%% (%s) since batch %" JSON_INTEGER_FORMAT
                    ", %s (finding %s): the ratios with %s include it, not only the hardware\n",
                    json_get_string(f, "host", NULL) ?: "?",
                    json_get_string(f, "kind", NULL) ?: "?",
                    json_number_value(json_object_get(f, "change_pct")),
                    json_get_string(f, "metric", NULL) ?: "?",
                    json_integer_value(json_object_get(f, "since_batch_id")),
                    json_get_string(f, "state", NULL) ?: "?", id,
                    json_get_string(f, "host", NULL) ?: "?");
        }
    }
    json_decref(said);
}

static void ch_print_safe(FILE *out, const json_t *c)
{
    const char *metric = json_get_string(c, "metric", NULL) ?: "wall_s";
    const char *what = strcmp(metric, "cpu_s") == 0            ? "CPU time"
                       : strcmp(metric, "peak_rss_bytes") == 0 ? "peak memory"
                                                               : "wall time";
    const char *python = json_get_string(c, "python", NULL);
    fprintf(out,
            "%s on host B vs host A: %s, newest %" JSON_INTEGER_FORMAT
            " runs per host, one Python build on both%s%s\n\n",
            json_get_string(c, "script", NULL) ?: "?", what,
            json_integer_value(json_object_get(c, "runs_per_host")), python ? ": Python " : "",
            python ? python : "");
    const json_t *pairs = json_object_get(c, "pairs");
    ch_print_pairs(out, metric, pairs);
    ch_print_builds(out, pairs);
    ch_print_apart(out, c, python);
    ch_print_findings(out, pairs);
    ch_print_caveats(out, pairs);
    fprintf(out,
            "\nB/A > 1: B is slower%s. 95%% CI: percentile bootstrap of the ratio of "
            "medians. Samples: the timed repeats of those runs, pooled per host.\n",
            strcmp(metric, "peak_rss_bytes") == 0 ? " (uses more memory)" : "");
}

/* Write the page of doc (borrowed) to path, whole or not at all; 0 or -1 (logged). */
static int ch_write_html(const char *path, const json_t *doc)
{
    return cli_write_html_atomic(path, html_hosts_write, doc, "HTML file");
}

/* The one SCRIPT argument of command cmd after the options (usage: its options, for the
 * usage line), checked to be a script key; NULL when wrong (said). */
static const char *ch_script_arg(int argc, char **argv, const char *cmd, const char *usage)
{
    if (optind != argc - 1) {
        if (optind >= argc)
            log_error("%s needs a script key", cmd);
        else
            log_error("%s takes one script, got \"%s\" too", cmd, argv[argc - 1]);
        fprintf(stderr, "Usage: pyscope %s SCRIPT %s\n", cmd, usage);
        return NULL;
    }
    const char *script = argv[optind];
    if (!wire_path_normalized(script)) {
        log_error("\"%s\" is not a script key (a relative path as in the suite, e.g. "
                  "examples/slow_script.py)",
                  script);
        return NULL;
    }
    return script;
}

/*
 * Send q (a compare query) and print the answer's object under key: the JSON (json), else
 * the text print gives of its sanitized copy; html: also the compare-hosts page, or NULL.
 * Returns the exit status (an error the user can fix, in the answer, is 2).
 */
static int ch_answer(const struct farm_opts *fo, const struct wire_query *q, const char *key,
                     bool json, void (*print)(FILE *, const json_t *), const char *html)
{
    json_t *doc = NULL;
    int qrc = farm_query_send(fo, q, &doc);
    if (qrc < 0)
        return farm_query_status(qrc);
    const json_t *cmp = json_object_get(doc, key);
    const json_t *error = json_object_get(cmp, "error");
    int status = PYSCOPE_EXIT_OK;
    if (json) {
        char *d = json_dumps(doc, JSON_INDENT(2));
        puts(d ? d : "null");
        free(d);
    }
    if (!json_is_object(cmp)) {
        log_error("the coordinator's answer has no comparison");
        status = PYSCOPE_EXIT_INTERNAL;
    } else if (json_is_object(error)) {
        log_error("%s", json_get_string(error, "message", NULL) ?: "?");
        status = PYSCOPE_EXIT_USAGE;
    } else {
        if (!json) {
            json_t *safe = sanitize_json_copy(cmp, 0); /* host names, builds from agents */
            print(stdout, safe);
            json_decref(safe);
        }
        if (html && ch_write_html(html, doc) < 0)
            status = PYSCOPE_EXIT_INTERNAL;
    }
    json_decref(doc);
    return status;
}

int cmd_compare_hosts(int argc, char **argv)
{
    enum { O_JSON = 256, O_HOSTS, O_METRIC, O_RUNS, O_HTML, O_PYTHON };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        FARM_LONG_OPTIONS,
        {"hosts", required_argument, NULL, O_HOSTS},
        {"python", required_argument, NULL, O_PYTHON},
        {"metric", required_argument, NULL, O_METRIC},
        {"runs", required_argument, NULL, O_RUNS},
        {"html", required_argument, NULL, O_HTML},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    const char *html = NULL;
    struct farm_opts fo;
    farm_opts_init(&fo);
    struct wire_query q = {.kind = WIRE_QUERY_COMPARE_HOSTS, .metric = "wall_s"};
    const char *hosts[WIRE_MAX_QUERY_HOSTS];
    const char *python = NULL;
    char *list = NULL;
    int c, status = PYSCOPE_EXIT_USAGE;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_HOSTS: {
            free(list);
            list = xstrdup(optarg);
            int n = ch_split(list, hosts, WIRE_MAX_QUERY_HOSTS);
            if (n < 2) {
                log_error("--hosts takes two to %u hostnames or fingerprints separated by "
                          "commas, not \"%s\"",
                          WIRE_MAX_QUERY_HOSTS, optarg);
                goto out;
            }
            q.n_hosts = (size_t)n;
            q.hosts = hosts;
            break;
        }
        case O_PYTHON: {
            char why[160];
            if (!*optarg || pyreq_check(optarg, why, sizeof(why)) < 0) {
                log_error("--python: \"%s\" is %s", optarg, *optarg ? why : "empty");
                goto out;
            }
            python = optarg;
            q.n_pythons = 1;
            q.pythons = &python;
            break;
        }
        case O_METRIC:
            q.metric = ch_metric(optarg);
            if (!q.metric) {
                log_error("--metric takes wall, cpu or memory, not \"%s\"", optarg);
                goto out;
            }
            break;
        case O_RUNS:
            if (farm_parse_limit("--runs", optarg, &q.limit) < 0)
                goto out;
            break;
        case O_HTML:
            if (!*optarg) {
                log_error("--html needs a file name");
                goto out;
            }
            html = optarg;
            break;
        case 'h':
            cmd_compare_hosts_help(stdout);
            status = PYSCOPE_EXIT_OK;
            goto out;
        default:
            if (farm_opts_take(&fo, c, optarg, argv[0], argv[optind - 1]) >= 0)
                goto out;
            break;
        }
    }
    q.script = ch_script_arg(argc, argv, "compare-hosts", "[--hosts A,B] [--python PY] [--json]");
    if (!q.script)
        goto out;
    if (farm_opts_finish(&fo) < 0)
        goto out;
    status = ch_answer(&fo, &q, "compare_hosts", json, ch_print_safe, html);
out:
    free(list);
    return status;
}

/* ---- pyscope compare-pythons ---- */

void cmd_compare_pythons_help(FILE *out)
{
    fputs("Usage: pyscope compare-pythons SCRIPT [--host H] [--pythons 3.12,3.13]\n"
          "                               [--baseline 3.12] [--runs N] [--json]\n"
          "\n"
          "The same script on one host under each Python build it ran under (jobs of\n"
          "pyscope submit --python, docs/pythons.md): each build's median wall time, CPU\n"
          "time and peak memory over its newest runs, and each against the baseline\n"
          "build: the ratio of medians with a 95% bootstrap confidence interval (as\n"
          "compare-hosts) and lib/regress's verdict (improvement, regression, no_change or\n"
          "inconclusive) on its runs against the baseline's; then the functions whose\n"
          "self time moved most, either way (median seconds per run, baseline -> build).\n"
          "\n"
          "  --host H             the host (hostname or fingerprint); default: the host\n"
          "                       with two builds or more whose newest run is the newest\n"
          "  --pythons LIST       only these Pythons (versions such as 3.12, 3.12.1, or\n"
          "                       interpreter paths), comma-separated; default: every build\n"
          "  --baseline PY        the Python the others are compared with (default: the\n"
          "                       first of --pythons, else the oldest version)\n"
          "  --runs N             newest runs per build (default 10, at most 1000)\n"
          "  --json               print the coordinator's JSON (pyscope.compare_pythons/1)\n"
          "" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 ok, 2 usage error, unknown script or host, fewer than two\n"
          "builds to compare; 4 the coordinator could not be reached.\n",
          out);
}

static void cp_print_safe(FILE *out, const json_t *c)
{
    const json_t *host = json_object_get(c, "host");
    const json_t *pys = json_object_get(c, "pythons");
    const char *base = "?";
    size_t i;
    const json_t *p;
    json_array_foreach(pys, i, p)
    {
        if (json_is_true(json_object_get(p, "baseline")))
            base = json_get_string(p, "version", NULL) ?: "?";
    }
    fprintf(out,
            "%s on %s under %zu Python builds, newest %" JSON_INTEGER_FORMAT
            " runs each, against %s\n\n",
            json_get_string(c, "script", NULL) ?: "?",
            json_get_string(host, "hostname", NULL) ?: "?", json_array_size(pys),
            json_integer_value(json_object_get(c, "runs_per_python")), base);
    fprintf(out, "%-10s %-12s %12s %8s  %-17s %5s  %s\n", "Python", "Metric", "Median", "ratio",
            "95% CI", "runs", "Verdict");
    static const char *const metrics[][2] = {
        {"wall_s", "wall time"}, {"cpu_s", "CPU time"}, {"peak_rss_bytes", "peak memory"}};
    json_array_foreach(pys, i, p)
    {
        bool is_base = json_is_true(json_object_get(p, "baseline"));
        for (size_t m = 0; m < 3; m++) {
            char *med = ch_value(metrics[m][0],
                                 json_object_get(json_object_get(p, "median"), metrics[m][0]));
            const json_t *v = json_object_get(json_object_get(p, "vs_baseline"), metrics[m][0]);
            char ratio[32] = "base", ci[48] = "", verdict[160] = "";
            if (!is_base && json_is_object(v)) {
                snprintf(ratio, sizeof(ratio), "%.3f",
                         json_number_value(json_object_get(v, "ratio")));
                snprintf(ci, sizeof(ci), "[%.3f, %.3f]",
                         json_number_value(json_object_get(v, "ci_low")),
                         json_number_value(json_object_get(v, "ci_high")));
                const json_t *chg = json_object_get(v, "change_pct");
                if (json_is_number(chg))
                    snprintf(verdict, sizeof(verdict), "%s (%+.1f%%)",
                             json_get_string(v, "verdict", NULL) ?: "?", json_number_value(chg));
                else
                    snprintf(verdict, sizeof(verdict), "%s",
                             json_get_string(v, "verdict", NULL) ?: "?");
            } else if (!is_base) {
                snprintf(ratio, sizeof(ratio), "-");
                snprintf(verdict, sizeof(verdict), "no samples");
            }
            fprintf(out, "%-10s %-12s %12s %8s  %-17s %5" JSON_INTEGER_FORMAT "  %s\n",
                    m == 0 ? json_get_string(p, "version", NULL) ?: "?" : "", metrics[m][1], med,
                    ratio, ci, json_integer_value(json_object_get(p, "runs")), verdict);
            free(med);
        }
    }
    json_array_foreach(pys, i, p)
    {
        const json_t *fns = json_object_get(p, "functions");
        if (json_is_true(json_object_get(p, "baseline")) || !json_is_array(fns))
            continue;
        fprintf(out, "\nFunctions whose self time moved most, %s against %s (median s per run):\n",
                json_get_string(p, "version", NULL) ?: "?", base);
        if (json_array_size(fns) == 0)
            fputs("  none moved by 1% of the baseline's wall time or more (or no hotspots)\n", out);
        size_t j;
        const json_t *f;
        json_array_foreach(fns, j, f)
        {
            fprintf(out, "  %+10.4f  %10.4f -> %-10.4f %s\n",
                    json_number_value(json_object_get(f, "delta_s")),
                    json_number_value(json_object_get(f, "base_s")),
                    json_number_value(json_object_get(f, "self_s")),
                    json_get_string(f, "key", NULL) ?: "?");
        }
    }
    fputs("\nratio > 1: slower (or more memory) than the baseline. 95% CI: percentile "
          "bootstrap of\nthe ratio of medians. Builds (sys.version):\n",
          out);
    json_array_foreach(pys, i, p)
    {
        fprintf(out, "  %s: %s (%s)\n", json_get_string(p, "version", NULL) ?: "?",
                json_get_string(p, "python_build", NULL) ?: "?",
                json_get_string(p, "executable", NULL) ?: "?");
    }
}

int cmd_compare_pythons(int argc, char **argv)
{
    enum { O_JSON = 256, O_HOST, O_PYTHONS, O_BASELINE, O_RUNS };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        FARM_LONG_OPTIONS,
        {"host", required_argument, NULL, O_HOST},
        {"pythons", required_argument, NULL, O_PYTHONS},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"runs", required_argument, NULL, O_RUNS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    struct farm_opts fo;
    farm_opts_init(&fo);
    struct wire_query q = {.kind = WIRE_QUERY_COMPARE_PYTHONS};
    const char *pythons[WIRE_MAX_QUERY_PYTHONS];
    char *list = NULL;
    int c, status = PYSCOPE_EXIT_USAGE;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_HOST:
            q.host = optarg;
            break;
        case O_PYTHONS: {
            free(list);
            list = xstrdup(optarg);
            int n = ch_split(list, pythons, WIRE_MAX_QUERY_PYTHONS);
            if (n < 2) {
                log_error("--pythons takes two to %u Pythons (3.12,3.13) separated by commas, "
                          "not \"%s\"",
                          WIRE_MAX_QUERY_PYTHONS, optarg);
                goto out;
            }
            for (int i = 0; i < n; i++) {
                char why[160];
                if (pyreq_check(pythons[i], why, sizeof(why)) < 0) {
                    log_error("--pythons: \"%s\" is %s", pythons[i], why);
                    goto out;
                }
            }
            q.n_pythons = (size_t)n;
            q.pythons = pythons;
            break;
        }
        case O_BASELINE: {
            char why[160];
            if (!*optarg || pyreq_check(optarg, why, sizeof(why)) < 0) {
                log_error("--baseline: \"%s\" is %s", optarg, *optarg ? why : "empty");
                goto out;
            }
            q.baseline = optarg;
            break;
        }
        case O_RUNS:
            if (farm_parse_limit("--runs", optarg, &q.limit) < 0)
                goto out;
            break;
        case 'h':
            cmd_compare_pythons_help(stdout);
            status = PYSCOPE_EXIT_OK;
            goto out;
        default:
            if (farm_opts_take(&fo, c, optarg, argv[0], argv[optind - 1]) >= 0)
                goto out;
            break;
        }
    }
    q.script = ch_script_arg(argc, argv, "compare-pythons", "[--host H] [--pythons A,B] [--json]");
    if (!q.script)
        goto out;
    if (farm_opts_finish(&fo) < 0)
        goto out;
    status = ch_answer(&fo, &q, "compare_pythons", json, cp_print_safe, NULL);
out:
    free(list);
    return status;
}
