/*
 * report.c - "pyscope report" (the team report) and "pyscope triage".
 *
 * The coordinator answers a report Query with pyscope.team_report/1 JSON
 * (coordinator/report.c); this command renders it here, in the CLI, as one
 * self-contained HTML file (lib/html_team), or prints the JSON (--json).
 * Triage sends a triage Query and prints the updated regression.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "farm_cmds.h"
#include "html_team.h"
#include "log.h"
#include "revision.h"
#include "sanitize.h"
#include "util.h"

void cmd_report_help(FILE *out)
{
    fputs(
        "Usage: pyscope report [--batch ID | --since AGE] [--limit N] [--out FILE.html] [--json]\n"
        "\n"
        "The team report from the coordinator: the batches, the regressions (worst\n"
        "first, with their confidence interval, p and q values, the functions that\n"
        "explain them and their triage state), the improvements, a script x host\n"
        "matrix and a host-vs-host comparison. Written as one self-contained HTML\n"
        "file that opens offline.\n"
        "\n"
        "  --batch ID           one batch\n"
        "  --since AGE          batches finished within AGE: 90s, 30m, 12h, 1d (default 1d)\n"
        "  --limit N            list the worst N regressions and improvements (1-1000,\n"
        "                       default 100); the report counts the rest (\"and 380 more\")\n"
        "  --out FILE           where the HTML goes (default pyscope-report.html)\n"
        "  --text               print the regressions as text instead: each with its\n"
        "                       range of commits and its bisection (state, culprit or\n"
        "                       why none, steps and runs used)\n"
        "  --json               print the coordinator's JSON instead\n" FARM_OPTIONS_HELP,
        out);
}

void cmd_triage_help(FILE *out)
{
    fputs("Usage: pyscope triage REGRESSION-ID ack|expected|fixed|invalid [--note TEXT]\n"
          "\n"
          "Set a regression's state. \"expected\" accepts the new speed: that run starts\n"
          "the series' new baseline.\n"
          "\n"
          "  --note TEXT          a note shown in the report\n"
          "  --json               print the coordinator's JSON\n" FARM_OPTIONS_HELP,
          out);
}

/* "90s", "30m", "12h", "2d" or plain seconds into *out; 0 or -PYSCOPE_EUSAGE. */
static int parse_age(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return -PYSCOPE_EUSAGE;
    unsigned long long mul = 1;
    if (*end == 'm')
        mul = 60;
    else if (*end == 'h')
        mul = 3600;
    else if (*end == 'd')
        mul = 86400;
    else if (*end != 's' && *end != '\0')
        return -PYSCOPE_EUSAGE;
    if (*end && end[1] != '\0')
        return -PYSCOPE_EUSAGE;
    if (v == 0 || v > 0xffffffffULL / mul)
        return -PYSCOPE_EUSAGE;
    *out = (uint32_t)(v * mul);
    return 0;
}

/*
 * The team report doc (borrowed) as an HTML page at path; on stderr how many regressions it
 * lists (and how many more there are) and whether the coordinator cut the rows, on stdout
 * the path. Returns the exit status.
 */
/* html_team_write() as a cli_html_fn: the page written by the CLI (no site navigation). */
static int team_page(FILE *out, const json_t *doc, char *err, size_t errlen)
{
    return html_team_write(out, doc, NULL, err, errlen);
}

static int report_write(const json_t *doc, const char *path)
{
    if (cli_write_html_atomic(path, team_page, doc, "HTML report") < 0)
        return PYSCOPE_EXIT_INTERNAL;
    const json_t *rep = json_object_get(doc, "report");
    size_t nr = json_array_size(json_object_get(rep, "regressions"));
    json_int_t total = json_integer_value(json_object_get(rep, "regressions_total"));
    if (total > (json_int_t)nr)
        fprintf(stderr,
                "%" JSON_INTEGER_FORMAT
                " regressions: the worst %zu listed, and %" JSON_INTEGER_FORMAT
                " more (--limit up to 1000, --json)\n",
                total, nr, total - (json_int_t)nr);
    else
        fprintf(stderr, "%zu regression%s\n", nr, nr == 1 ? "" : "s");
    const json_t *cut = json_object_get(doc, "truncated");
    if (json_is_object(cut))
        fprintf(stderr,
                "pyscope: warning: %s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                " rows)\n",
                json_string_value(json_object_get(cut, "reason")) ?: "cut",
                json_integer_value(json_object_get(cut, "limit")),
                json_integer_value(json_object_get(cut, "asked")));
    printf("%s\n", path);
    return PYSCOPE_EXIT_OK;
}

/* One regression or improvement of the team report as text lines. */
static void report_text_one(const json_t *g)
{
    const char *fn = json_string_value(json_object_get(g, "function"));
    char *script = sanitize_dup(json_string_value(json_object_get(g, "script")), 0);
    char *host = sanitize_dup(json_string_value(json_object_get(g, "host")), 0);
    char *func = fn ? sanitize_dup(fn, 0) : NULL;
    printf("#%" JSON_INTEGER_FORMAT " %s on %s: %s%s%s %+.1f%%",
           json_integer_value(json_object_get(g, "id")), script ? script : "?", host ? host : "?",
           json_string_value(json_object_get(g, "metric")) ?: "?", func ? " of " : "",
           func ? func : "", json_number_value(json_object_get(g, "change_pct")));
    if (json_is_number(json_object_get(g, "ci_low_pct")) &&
        json_is_number(json_object_get(g, "ci_high_pct")))
        printf(" (95%% CI %+.1f%% to %+.1f%%)", json_number_value(json_object_get(g, "ci_low_pct")),
               json_number_value(json_object_get(g, "ci_high_pct")));
    printf(", batch %" JSON_INTEGER_FORMAT ", %s\n",
           json_integer_value(json_object_get(g, "batch_id")),
           json_string_value(json_object_get(g, "state")) ?: "?");
    revision_print_range(stdout, json_object_get(g, "range"), "    ");
    revision_print_bisection(stdout, json_object_get(g, "bisection"), "    ");
    free(script);
    free(host);
    free(func);
}

/* The team report doc's regressions and improvements as text on stdout. */
static void report_print_text(const json_t *doc)
{
    const json_t *rep = json_object_get(doc, "report");
    static const char *const kinds[2] = {"regressions", "improvements"};
    for (int k = 0; k < 2; k++) {
        const json_t *list = json_object_get(rep, kinds[k]);
        char total_key[32];
        snprintf(total_key, sizeof(total_key), "%s_total", kinds[k]);
        json_int_t total = json_integer_value(json_object_get(rep, total_key));
        size_t n = json_array_size(list), i;
        printf("%s%s: %zu", k ? "\n" : "", k ? "Improvements" : "Regressions", n);
        if (total > (json_int_t)n)
            printf(" listed of %" JSON_INTEGER_FORMAT " (--limit)", total);
        puts(n ? " (worst first)" : "");
        const json_t *g;
        json_array_foreach(list, i, g) report_text_one(g);
    }
}

int cmd_report(int argc, char **argv)
{
    enum { O_JSON = 256, O_BATCH, O_SINCE, O_OUT, O_LIMIT, O_TEXT };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        {"text", no_argument, NULL, O_TEXT},
        FARM_LONG_OPTIONS,
        {"batch", required_argument, NULL, O_BATCH},
        {"since", required_argument, NULL, O_SINCE},
        {"out", required_argument, NULL, O_OUT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, text = false;
    const char *path = "pyscope-report.html";
    struct farm_opts fo;
    farm_opts_init(&fo);
    struct wire_query q = {.kind = WIRE_QUERY_REPORT};
    int c, st;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_TEXT:
            text = true;
            break;
        case O_BATCH:
            if (farm_parse_u64(optarg, INT64_MAX, &q.batch_id) < 0) {
                log_error("--batch takes a batch id, not \"%s\"", optarg);
                return PYSCOPE_EXIT_USAGE;
            }
            break;
        case O_SINCE:
            if (parse_age(optarg, &q.since_s) < 0) {
                log_error("--since takes an age like 90s, 30m, 12h or 1d, not \"%s\"", optarg);
                return PYSCOPE_EXIT_USAGE;
            }
            break;
        case O_OUT:
            path = optarg;
            break;
        case O_LIMIT:
            if (farm_parse_limit("--limit", optarg, &q.limit) < 0)
                return PYSCOPE_EXIT_USAGE;
            break;
        case 'h':
            cmd_report_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            if ((st = farm_opts_take(&fo, c, optarg, argv[0], argv[optind - 1])) >= 0)
                return st;
            break;
        }
    }
    if (optind != argc) {
        log_error("unexpected argument \"%s\"", argv[optind]);
        return PYSCOPE_EXIT_USAGE;
    }
    if (json && text) {
        log_error("--json and --text exclude each other");
        return PYSCOPE_EXIT_USAGE;
    }
    if (q.batch_id && q.since_s) {
        log_error("--batch and --since exclude each other");
        return PYSCOPE_EXIT_USAGE;
    }
    if (farm_opts_finish(&fo) < 0)
        return PYSCOPE_EXIT_USAGE;
    json_t *doc = NULL;
    int qrc = farm_query_send(&fo, &q, &doc);
    if (qrc < 0)
        return farm_query_status(qrc);
    int status = PYSCOPE_EXIT_OK;
    if (json) {
        char *d = json_dumps(doc, JSON_INDENT(2));
        puts(d);
        free(d);
    } else if (text) {
        report_print_text(doc);
    } else {
        status = report_write(doc, path);
    }
    json_decref(doc);
    return status;
}

int cmd_triage(int argc, char **argv)
{
    enum { O_JSON = 256, O_NOTE };
    static const struct option opts[] = {
        {"json", no_argument, NULL, O_JSON},
        FARM_LONG_OPTIONS,
        {"note", required_argument, NULL, O_NOTE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    struct farm_opts fo;
    farm_opts_init(&fo);
    struct wire_query q = {.kind = WIRE_QUERY_TRIAGE, .note = ""};
    int c, st;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_JSON:
            json = true;
            break;
        case O_NOTE:
            q.note = optarg;
            break;
        case 'h':
            cmd_triage_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            if ((st = farm_opts_take(&fo, c, optarg, argv[0], argv[optind - 1])) >= 0)
                return st;
            break;
        }
    }
    static const char *const states[] = {"ack", "expected", "fixed", "invalid"};
    bool known = false;
    if (optind + 2 == argc)
        for (size_t i = 0; i < 4; i++)
            known |= strcmp(argv[optind + 1], states[i]) == 0;
    if (optind + 2 != argc || farm_parse_u64(argv[optind], INT64_MAX, &q.regression_id) < 0 ||
        !known) {
        log_error("triage takes a regression id and one of ack, expected, fixed, invalid");
        fputs("Usage: pyscope triage REGRESSION-ID ack|expected|fixed|invalid [--note TEXT]\n",
              stderr);
        return PYSCOPE_EXIT_USAGE;
    }
    q.state = argv[optind + 1];
    if (strlen(q.note) > WIRE_MAX_NOTE) {
        log_error("--note is longer than %u bytes", WIRE_MAX_NOTE);
        return PYSCOPE_EXIT_USAGE;
    }
    if (farm_opts_finish(&fo) < 0)
        return PYSCOPE_EXIT_USAGE;
    json_t *doc = NULL;
    int qrc = farm_query_send(&fo, &q, &doc);
    if (qrc < 0)
        return farm_query_status(qrc);
    const json_t *g = json_object_get(doc, "regression");
    int status = PYSCOPE_EXIT_OK;
    if (json) {
        char *d = json_dumps(doc, JSON_INDENT(2));
        puts(d);
        free(d);
    } else if (json_is_object(g)) {
        printf("regression %s: %s\n", argv[optind], json_string_value(json_object_get(g, "state")));
    }
    if (!json_is_object(g)) {
        log_error("no regression %s", argv[optind]);
        status = PYSCOPE_EXIT_USAGE;
    }
    json_decref(doc);
    return status;
}
