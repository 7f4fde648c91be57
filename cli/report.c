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
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "farm_cmds.h"
#include "html_team.h"
#include "jsonutil.h"
#include "log.h"
#include "revision.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

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
        "  --limit N            list the worst N series (script x host x Python) that\n"
        "                       got slower and N that got faster, each with all its\n"
        "                       metrics (1-1000, default 100); the counts cover them all\n"
        "  --out FILE           where the HTML goes (default pyscope-report.html)\n"
        "  --text               print the report as text instead: a sentence per series\n"
        "                       with its range of commits and its bisection (state,\n"
        "                       culprit or why none, steps and runs used)\n"
        "  --json               print the coordinator's JSON instead\n" FARM_OPTIONS_HELP,
        out);
}

void cmd_triage_help(FILE *out)
{
    fputs("Usage: pyscope triage REGRESSION-ID ack|expected|fixed|invalid [--note TEXT]\n"
          "\n"
          "Set a regression's state. \"expected\" accepts the new speed: that run starts\n"
          "the series' new baseline. The function findings that explain a script's\n"
          "(same night, series and kind) follow its state once no other of its findings\n"
          "there is open.\n"
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
/* A finding row's series (script, host, Python build: the report's grouping) as a key; new. */
static char *series_key(const json_t *g)
{
    return xasprintf("%s\x1f%s\x1f%s", json_string_value(json_object_get(g, "script")) ?: "",
                     json_string_value(json_object_get(g, "host_fingerprint")) ?: "",
                     json_string_value(json_object_get(g, "python_build")) ?: "");
}

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
    /* series, not metric rows: the limit counts series (coordinator/report.c) */
    json_t *seen = json_object();
    size_t i;
    const json_t *g;
    json_array_foreach(json_object_get(rep, "regressions"), i, g)
    {
        char *key = series_key(g);
        json_object_set_new(seen, key, json_true());
        free(key);
    }
    size_t nr = json_object_size(seen);
    json_decref(seen);
    json_int_t total = json_integer_value(json_object_get(rep, "regressions_series_total"));
    json_int_t metrics = json_integer_value(json_object_get(rep, "regressions_total"));
    if (total > (json_int_t)nr)
        fprintf(stderr,
                "%" JSON_INTEGER_FORMAT " series got slower (%" JSON_INTEGER_FORMAT
                " metrics): showing the worst %zu of %" JSON_INTEGER_FORMAT
                " (--limit up to 1000 series, --json)\n",
                total, metrics, nr, total);
    else
        fprintf(stderr, "%zu series got slower (%" JSON_INTEGER_FORMAT " metric%s)\n", nr, metrics,
                metrics == 1 ? "" : "s");
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

/* "is 30.4% slower", "uses 12.0% more CPU time", ... of row g (the lead metric). */
static void text_change(const json_t *g, bool worse)
{
    const char *m = json_string_value(json_object_get(g, "metric"));
    double c = json_number_value(json_object_get(g, "change_pct"));
    c = c < 0 ? -c : c;
    if (m && strcmp(m, "cpu_s") == 0)
        printf("uses %.1f%% %s CPU time", c, worse ? "more" : "less");
    else if (m && strcmp(m, "peak_rss_bytes") == 0)
        printf("uses %.1f%% %s memory", c, worse ? "more" : "less");
    else if (m && strcmp(m, "instructions") == 0)
        printf("executes %.1f%% %s instructions", c, worse ? "more" : "fewer");
    else
        printf("is %.1f%% %s", c, worse ? "slower" : "faster");
    const char *fn = json_string_value(json_object_get(g, "function"));
    if (fn) {
        char *f = sanitize_dup(fn, 0);
        printf(" in %s", f ? f : "?");
        free(f);
    }
}

/*
 * One series of the team report (rows: its metric rows, borrowed, worst first) as a
 * sentence: what changed, where, since when (its range of commits when known), its
 * state and how many metrics moved; then its range and bisection in full.
 */
static void report_text_series(const json_t *rows, bool worse)
{
    const json_t *g = json_array_get(rows, 0), *r;
    size_t i;
    json_array_foreach(rows, i, r) if (html_team_lead_rank(r) < html_team_lead_rank(g)) g = r;
    char *script = sanitize_dup(json_string_value(json_object_get(g, "script")), 0);
    char *host = sanitize_dup(json_string_value(json_object_get(g, "host")), 0);
    const char *build = json_string_value(json_object_get(g, "python_build"));
    printf("%s ", script ? script : "?");
    text_change(g, worse);
    printf(" on %s", host ? host : "?");
    if (build && *build) {
        char *b = sanitize_dup(build, 0);
        printf(" (Python %s)", b ? b : "?");
        free(b);
    }
    if (json_is_number(json_object_get(g, "ci_low_pct")) &&
        json_is_number(json_object_get(g, "ci_high_pct")))
        printf(", 95%% CI %+.1f%% to %+.1f%%", json_number_value(json_object_get(g, "ci_low_pct")),
               json_number_value(json_object_get(g, "ci_high_pct")));
    const char *label = json_string_value(json_object_get(g, "batch_label"));
    char *lab = label && *label ? sanitize_dup(label, 0) : NULL;
    if (lab)
        printf(", since %s (batch %" JSON_INTEGER_FORMAT ")", lab,
               json_integer_value(json_object_get(g, "batch_id")));
    else
        printf(", since batch %" JSON_INTEGER_FORMAT,
               json_integer_value(json_object_get(g, "batch_id")));
    free(lab);
    /* the commits: the range (docs/revisions.md) when known, else the batches' */
    const json_t *range = json_object_get(g, "range");
    const char *good = json_string_value(json_object_get(json_object_get(range, "good"), "hash"));
    const char *bad = json_string_value(json_object_get(json_object_get(range, "bad"), "hash"));
    if (!good || !bad) {
        good = json_string_value(json_object_get(g, "good_commit"));
        bad = json_string_value(json_object_get(g, "batch_commit"));
    }
    char *sg = good && *good ? sanitize_dup(good, 0) : NULL;
    char *sb = bad && *bad ? sanitize_dup(bad, 0) : NULL;
    if (sg && sb && strcmp(sg, sb) != 0)
        printf(", commits %.12s -> %.12s", sg, sb);
    else if (sb)
        printf(", commit %.12s", sb);
    free(sg);
    free(sb);
    const char *st = json_string_value(json_object_get(g, "state"));
    printf(", %s", st ? st : "?");
    /* how it was confirmed (coordinator/analysis.c) and when it ended, as the HTML says it */
    char *how = html_team_confirmation_text(json_object_get(g, "confirmation"), g);
    char *ended = html_team_ended_text(g);
    if (how) {
        fputs(" (", stdout);
        sanitize_fwrite(stdout, how, strlen(how), 0);
        fputs(")", stdout);
    }
    if (ended) {
        fputs(", ", stdout);
        sanitize_fwrite(stdout, ended, strlen(ended), 0);
    }
    free(how);
    free(ended);
    size_t n = json_array_size(rows);
    printf("; %zu metric%s flagged", n, n == 1 ? "" : "s");
    const json_t *worst = json_array_get(rows, 0);
    if (n > 1) {
        json_array_foreach(rows, i,
                           r) if (fabs(json_number_value(json_object_get(r, "change_pct"))) >
                                  fabs(json_number_value(json_object_get(worst, "change_pct"))))
            worst = r;
        printf(", the most ");
        text_change(worst, worse);
    }
    printf(" (id %" JSON_INTEGER_FORMAT ").\n", json_integer_value(json_object_get(g, "id")));
    /* a finding on instruction counts or memory: what the times did, as the HTML says it */
    char *times = html_team_times_text(g);
    if (times) {
        fputs("    ", stdout);
        sanitize_fwrite(stdout, times, strlen(times), 0);
        fputs("\n", stdout);
        free(times);
    }
    revision_print_range(stdout, range, "    ");
    /* the series' bisection: the lead metric's, else the one a row has */
    const json_t *bis = json_object_get(g, "bisection");
    json_array_foreach(rows, i, r) if (!json_is_object(bis)) bis = json_object_get(r, "bisection");
    revision_print_bisection(stdout, bis, "    ");
    free(script);
    free(host);
}

/*
 * What the report could not decide, as text: the inconclusive series-nights counted by
 * rule (the HTML folds them the same way, with the rows), the series not judged yet and
 * the re-runs that dismissed a suspect night; one line each, nothing when there are none.
 */
static void report_text_unsettled(const json_t *rep)
{
    const json_t *c = json_object_get(rep, "inconclusive_counts");
    json_int_t rows = json_integer_value(json_object_get(c, "rows"));
    if (rows > 0) {
        printf("\nInconclusive: %" JSON_INTEGER_FORMAT " series-night%s (%" JSON_INTEGER_FORMAT
               " series on %" JSON_INTEGER_FORMAT " host%s):",
               rows, rows == 1 ? "" : "s", json_integer_value(json_object_get(c, "series")),
               json_integer_value(json_object_get(c, "hosts")),
               json_integer_value(json_object_get(c, "hosts")) == 1 ? "" : "s");
        size_t i;
        const json_t *r;
        json_array_foreach(json_object_get(c, "by_rule"), i, r)
        {
            const char *rule = json_string_value(json_object_get(r, "rule"));
            printf("%s %s %" JSON_INTEGER_FORMAT, i ? "," : "", rule && rule[0] ? rule : "other",
                   json_integer_value(json_object_get(r, "rows")));
        }
        puts(" (the HTML report lists them, with what settles each)");
    }
    /* all of them (not_judged_total); the list (HTML, --json) stops at the limit */
    size_t n = json_array_size(json_object_get(rep, "not_judged")), total = n;
    const json_t *nt = json_object_get(rep, "not_judged_total");
    if (json_is_integer(nt) && json_integer_value(nt) > (json_int_t)n)
        total = (size_t)json_integer_value(nt);
    if (total) {
        printf("Not yet judged: %zu series (fewer than %" JSON_INTEGER_FORMAT " baseline nights)",
               total, json_integer_value(json_object_get(rep, "not_judged_min_runs")));
        if (total > n)
            printf("; the HTML and --json list %zu, %zu more not shown (--limit N lists up to "
                   "1000)",
                   n, total - n);
        puts("");
    }
    n = json_array_size(json_object_get(rep, "dismissed"));
    if (n)
        printf("Re-run and dismissed: %zu series-night%s (the re-run found no change)\n", n,
               n == 1 ? "" : "s");
}

/*
 * The team report doc's regressions and improvements as text on stdout: a sentence per
 * series (script, host, Python build), worst first, as the HTML groups them; then what it
 * could not decide (report_text_unsettled()).
 */
static void report_print_text(const json_t *doc)
{
    const json_t *rep = json_object_get(doc, "report");
    static const char *const kinds[2] = {"regressions", "improvements"};
    for (int k = 0; k < 2; k++) {
        const json_t *list = json_object_get(rep, kinds[k]);
        /* the rows of each series, in the order the series first appear */
        json_t *index = json_object(), *groups = json_array();
        size_t i;
        const json_t *g;
        json_array_foreach(list, i, g)
        {
            char *key = series_key(g);
            json_t *rows = json_object_get(index, key);
            if (!rows) {
                rows = json_array();
                json_object_set_new(index, key, rows);
                json_array_append(groups, rows);
            }
            json_array_append(rows, (json_t *)g);
            free(key);
        }
        char key[48];
        snprintf(key, sizeof(key), "%s_series_total", kinds[k]);
        json_int_t total = json_integer_value(json_object_get(rep, key));
        snprintf(key, sizeof(key), "%s_total", kinds[k]);
        json_int_t metrics = json_integer_value(json_object_get(rep, key));
        snprintf(key, sizeof(key), "%s_open_total", kinds[k]);
        const json_t *open_total = json_object_get(rep, key);
        size_t n = json_array_size(groups), open = 0;
        json_array_foreach(groups, i, g)
        {
            size_t r;
            const json_t *row;
            bool any = false;
            json_array_foreach(g, r, row) any |= html_team_row_open(row);
            open += any;
        }
        if (json_is_integer(open_total) && json_integer_value(open_total) >= 0)
            open = (size_t)json_integer_value(open_total);
        printf("%s%s: %zu series", k ? "\n" : "", k ? "Improvements" : "Regressions",
               total > (json_int_t)n ? (size_t)total : n);
        if (metrics > 0)
            printf(" (%" JSON_INTEGER_FORMAT " metric%s)", metrics, metrics == 1 ? "" : "s");
        if (n > 0 || total > 0)
            printf(", %zu still open", open);
        if (total > (json_int_t)n)
            printf(", showing the worst %zu (--limit N lists up to 1000)", n);
        else if (n)
            printf(", worst first");
        puts("");
        const json_t *rows;
        json_array_foreach(groups, i, rows) report_text_series(rows, k == 0);
        json_decref(groups);
        json_decref(index);
    }
    report_text_unsettled(rep);
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
        json_int_t nf = json_integer_value(json_object_get(g, "function_rows"));
        if (nf > 0)
            printf("  and the %" JSON_INTEGER_FORMAT " function finding%s that explain%s it\n", nf,
                   nf == 1 ? "" : "s", nf == 1 ? "s" : "");
    }
    if (!json_is_object(g)) {
        log_error("no regression %s", argv[optind]);
        status = PYSCOPE_EXIT_USAGE;
    }
    json_decref(doc);
    return status;
}
