/*
 * try_farm.c - "pyscope try SUITE --base REV --head REV [--hosts SEL]": the
 * farm form of try (docs/revisions.md).
 *
 * Both revisions are resolved to full hashes here (the coordinator and the
 * agents are only ever given hashes: an agent checks them out from its own
 * configured repository). One Submit with try_base makes a try batch: on each
 * selected host, every script of the suite --rounds times at the base and as
 * many at the head, in turns (base, head, base, head ...: agents claim a
 * host's jobs in order). The batch is polled with Query KIND_TRY until its
 * jobs have ended; the coordinator decides each script x host with lib/abtest
 * (the statistics of the local try) and this prints the verdicts, writes
 * --junit / --summary-md, and exits 1 on a regression with
 * --fail-on-regression.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abrun.h"
#include "ci_report.h"
#include "cli.h"
#include "errors.h"
#include "farm_cmds.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "progress.h"
#include "regress.h"
#include "revision.h"
#include "sanitize.h"
#include "suite.h"
#include "util.h"
#include "xmalloc.h"

#define TRY_FARM_DEFAULT_ROUNDS 5

static void try_farm_help(FILE *out)
{
    fputs("Usage: pyscope try SUITE --base REV --head REV [--hosts SEL] [OPTIONS]\n"
          "\n"
          "The farm form: every script of the suite file SUITE runs on each selected host\n"
          "at both revisions, in turns (base, head, base, head...), and the coordinator\n"
          "decides each script on each host with the statistics of the local try. REV is\n"
          "resolved to a full commit hash here (in --repo, else the checkout of the\n"
          "current folder); agents check it out from their own repository (repo =).\n"
          "The try's runs stay out of the nightly series and analysis.\n"
          "\n"
          "Options:\n"
          "  --base REV, --head REV  the revisions (branch, tag, hash, HEAD~3...)\n"
          "  --repo PATH|URL      where REV is resolved\n"
          "  --hosts SEL          all | NAME,NAME,... | KEY=VALUE,... (default: the suite's\n"
          "                       hosts, else all)\n"
          "  --rounds N           base/head pairs of each script per host (1 to 50,\n"
          "                       default 5; at least 3 for a verdict)\n"
          "  --repeat N           measured runs of each turn (overrides the suite)\n"
          "  --instructions       also count each turn's instructions under valgrind on\n"
          "                       the agents (~25-50x slower turns): each script gets an\n"
          "                       \"instructions\" verdict, the same count every run, and\n"
          "                       it decides whatever the load; an agent without valgrind\n"
          "                       refuses the turns\n"
          "  --json               print pyscope.try_farm/1 JSON (on an error exit before\n"
          "                       it: a document with \"status\": \"error\", \"error\")\n"
          "  --junit FILE, --summary-md FILE   CI outputs (as pyscope compare)\n"
          "  --fail-on-regression exit 1 when a script's time, memory or instructions\n"
          "                       regressed (a hotspot function's alone does not)\n"
          "  -q, --quiet          no status line on stderr\n" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 ok, 1 regression with --fail-on-regression, 2 usage error\n"
          "(unknown revision, invalid suite), 3 a script failed at a side on some host,\n"
          "4 the coordinator could not be reached or failed.\n",
          out);
}

struct try_farm_args {
    const char *suite, *base, *head, *repo, *hosts;
    uint64_t rounds, repeat;
    bool instructions;
    struct abrun_outputs out;
    struct farm_opts fo;
};

static int try_farm_parse(int argc, char **argv, struct try_farm_args *a)
{
    enum { O_BASE = 256, O_HEAD, O_REPO, O_HOSTS, O_ROUNDS, O_REPEAT, O_INSTRUCTIONS };
    static const struct option opts[] = {
        {"base", required_argument, NULL, O_BASE},
        {"head", required_argument, NULL, O_HEAD},
        {"repo", required_argument, NULL, O_REPO},
        {"hosts", required_argument, NULL, O_HOSTS},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"instructions", no_argument, NULL, O_INSTRUCTIONS},
        ABRUN_OUTPUT_OPTIONS,
        FARM_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    farm_opts_init(&a->fo);
    a->rounds = TRY_FARM_DEFAULT_ROUNDS;
    opterr = 0;
    optind = 0; /* a full reset: try.c's parse ran first, in "+" mode */
    int c;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
        case O_BASE:
            a->base = optarg;
            break;
        case O_HEAD:
            a->head = optarg;
            break;
        case O_REPO:
            a->repo = optarg;
            break;
        case O_HOSTS:
            a->hosts = optarg;
            break;
        case O_ROUNDS:
            if (farm_parse_u64(optarg, WIRE_MAX_TRY_ROUNDS, &a->rounds) < 0)
                return cli_usage_error("try",
                                       "--rounds takes a whole number from 1 to %u, not "
                                       "\"%s\"",
                                       WIRE_MAX_TRY_ROUNDS, optarg);
            break;
        case O_REPEAT:
            if (farm_parse_u64(optarg, WIRE_MAX_REPEAT, &a->repeat) < 0)
                return cli_usage_error("try",
                                       "--repeat takes a whole number from 1 to %u, not "
                                       "\"%s\"",
                                       WIRE_MAX_REPEAT, optarg);
            break;
        case O_INSTRUCTIONS:
            a->instructions = true;
            break;
        case 'h':
            try_farm_help(stdout);
            return PYSCOPE_EXIT_OK;
        default: {
            if (abrun_parse_output(c, optarg, &a->out))
                break;
            int rc = farm_opts_take(&a->fo, c, optarg, "try", prev);
            if (rc >= 0)
                return rc;
            break;
        }
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("try", optind >= argc ? "which suite? (pyscope try SUITE --base "
                                                       "REV --head REV)"
                                                     : "the farm form takes one suite file");
    a->suite = argv[optind];
    if (!a->base || !a->head)
        return cli_usage_error("try", "--base REV and --head REV are both needed");
    if (farm_opts_finish(&a->fo) < 0)
        return PYSCOPE_EXIT_USAGE;
    return -1;
}

/* Resolve base and head to full hashes in rr; describe the head's history for the farm. */
static int try_farm_resolve(const struct try_farm_args *a, struct revision_repo *rr,
                            char hash[2][GITREV_HASH_MAX + 1], struct revision_commits *rc_commits)
{
    char err[1024];
    const char *revs[2] = {a->base, a->head};
    int rc = revision_repo_open(rr, a->repo, err, sizeof(err));
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = revision_resolve(rr, revs[i], hash[i], err, sizeof(err));
    if (rc == 0)
        rc = revision_describe(rr, hash[1], NULL, 0, REVISION_ANCESTORS, rc_commits, err,
                               sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        return rc == -PYSCOPE_ENODATA || rc == -PYSCOPE_EUSAGE ? PYSCOPE_EXIT_USAGE
                                                               : PYSCOPE_EXIT_INTERNAL;
    }
    revision_commits_wire(rc_commits);
    return 0;
}

/* Send the try; *batch gets its id. Returns 0 or an exit status (said). */
static int try_farm_submit(const struct try_farm_args *a, const struct suite *s,
                           char hash[2][GITREV_HASH_MAX + 1], const struct revision_commits *rcs,
                           uint64_t *batch, uint32_t *jobs)
{
    size_t n_ents = 0;
    struct wire_suite_entry *ents = submit_suite_entries(s, NULL, 0, (uint32_t)a->repeat, &n_ents);
    struct wire_msg m;
    wire_msg_init(&m, WIRE_SUBMIT);
    char label[128];
    snprintf(label, sizeof(label), "try %.12s..%.12s", hash[0], hash[1]);
    m.submit.suite = s->name;
    m.submit.entries = ents;
    m.submit.n_entries = n_ents;
    m.submit.label = label;
    m.submit.commit = hash[1];
    m.submit.try_base = hash[0];
    m.submit.try_rounds = (uint32_t)a->rounds;
    m.submit.commits = rcs->wire;
    m.submit.n_commits = rcs->list.n;
    m.submit.instructions = a->instructions;
    char *hbuf = NULL, err[1024];
    const char **names = NULL;
    struct wire_label *labels = NULL;
    struct wire_msg *r = NULL;
    struct wire_error werr;
    int status = PYSCOPE_EXIT_OK;
    const char *sel = a->hosts ? a->hosts : s->hosts;
    if (submit_hosts(sel, &m.submit.hosts, &hbuf, &names, &labels) < 0) {
        status = cli_usage_error("try",
                                 "--hosts takes all, NAME,NAME,... or KEY=VALUE,..., "
                                 "not \"%s\"",
                                 sel);
    } else if (s->reference) {
        /* a try compares two revisions in turns: no machine reference is needed */
        log_info("the suite's reference script is not run by a try");
    }
    if (status == PYSCOPE_EXIT_OK && wire_validate(&m, &werr) < 0)
        status =
            cli_usage_error("try", "suite \"%s\" cannot be sent as a try: %s", a->suite, werr.msg);
    if (status == PYSCOPE_EXIT_OK && farm_request(&a->fo, &m, &r, err, sizeof(err)) < 0) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
    }
    if (status == PYSCOPE_EXIT_OK && r->type != WIRE_SUBMIT_REPLY) {
        status = PYSCOPE_EXIT_INTERNAL;
        if (r->type == WIRE_ERROR) {
            /* an unknown host, a bad entry: the message says what ("malformed" would not) */
            if (r->error.code == WIRE_ERROR_MALFORMED) {
                log_error("the coordinator refused the try: %s", r->error.message);
                status = PYSCOPE_EXIT_USAGE;
            } else {
                log_error("the coordinator refused the try (%s): %s",
                          wire_error_code_name(r->error.code), r->error.message);
            }
        } else {
            log_error("unexpected answer from the coordinator: %s", wire_type_name(r->type));
        }
    }
    if (status == PYSCOPE_EXIT_OK) {
        *batch = r->submit_reply.batch_id;
        *jobs = r->submit_reply.jobs;
        if (*jobs == 0) {
            log_error("the try selects no host with a job (--hosts \"%s\"; pyscope hosts lists "
                      "them)",
                      sel ? sel : "all");
            status = PYSCOPE_EXIT_USAGE;
        }
    }
    wire_msg_destroy(&r);
    free(hbuf);
    free(names);
    free(labels);
    free(ents);
    return status;
}

/* Poll the try until its jobs have ended; *doc gets the last answer's "try" object (new). */
static int try_farm_wait(const struct try_farm_args *a, uint64_t batch, json_t **doc)
{
    struct progress *line = progress_start(stderr, a->out.quiet, 0);
    int status = PYSCOPE_EXIT_OK;
    for (;;) {
        json_t *ans = NULL;
        if (farm_query(&a->fo, WIRE_QUERY_TRY, batch, 0, &ans) < 0) {
            status = PYSCOPE_EXIT_INTERNAL;
            break;
        }
        json_t *t = json_object_get(ans, "try");
        const json_t *e = json_object_get(t, "error");
        if (!json_is_object(t) || json_is_object(e)) {
            log_error("batch %llu: %s", (unsigned long long)batch,
                      json_is_object(e) ? json_string_value(json_object_get(e, "message"))
                                        : "the coordinator does not answer try queries");
            json_decref(ans);
            status = PYSCOPE_EXIT_INTERNAL;
            break;
        }
        const json_t *b = json_object_get(t, "batch");
        const json_t *j = json_object_get(b, "jobs");
        const char *st = json_string_value(json_object_get(b, "state"));
        if (st && strcmp(st, "done") == 0) {
            *doc = json_incref(t);
            json_decref(ans);
            break;
        }
        json_int_t total = json_integer_value(json_object_get(j, "total"));
        json_int_t ended = json_integer_value(json_object_get(j, "done")) +
                           json_integer_value(json_object_get(j, "failed"));
        progress_set(line,
                     "pyscope: try (batch %llu): %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
                     " turns done, %" JSON_INTEGER_FORMAT " running",
                     (unsigned long long)batch, ended, total,
                     json_integer_value(json_object_get(j, "leased")));
        json_decref(ans);
        sleep(1);
    }
    progress_end(&line);
    return status;
}

/* The sides of result r (borrowed) without an ok run: "base", "head", "base and head" or NULL. */
static const char *try_farm_empty_sides(const json_t *r)
{
    bool b = json_integer_value(json_object_get(r, "base_runs")) == 0;
    bool h = json_integer_value(json_object_get(r, "head_runs")) == 0;
    return b && h ? "base and head" : b ? "base" : h ? "head" : NULL;
}

/* The message of failure f (borrowed) without a leading "OUTCOME: " (the agent's "refused: ..."
 * after "refused"), sanitized (new string). */
static char *try_farm_failure_msg(const json_t *f)
{
    const char *msg = json_get_string(f, "message", ""),
               *outcome = json_get_string(f, "outcome", "");
    size_t n = strlen(outcome);
    if (n && strncmp(msg, outcome, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    return sanitize_dup(msg, 0);
}

/*
 * Why result r's (borrowed) turns did not end ok, from the agents' own words (its
 * "failures"): "base: 4 turns refused: MESSAGE; head: ...", sanitized (new string;
 * "" when none is known).
 */
static char *try_farm_reasons(const json_t *r)
{
    char *out = xstrdup("");
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(r, "failures"), i, f)
    {
        json_int_t n = json_integer_value(json_object_get(f, "turns"));
        char *msg = try_farm_failure_msg(f);
        char *outcome = sanitize_dup(json_get_string(f, "outcome", ""), 0);
        char *next =
            xasprintf("%s%s%s: %" JSON_INTEGER_FORMAT " turn%s %s: %s", out, *out ? "; " : "",
                      json_get_string(f, "side", ""), n, n == 1 ? "" : "s", outcome, msg);
        free(out);
        free(msg);
        free(outcome);
        out = next;
    }
    return out;
}

/* A CI document (ci_report.h) of result r (borrowed): "SCRIPT (HOST)" and its verdicts. */
static json_t *try_farm_ci_doc(const json_t *r)
{
    const json_t *host = json_object_get(r, "host");
    char *key = xasprintf("%s (%s)", json_get_string(r, "script", ""),
                          json_get_string(host, "hostname", ""));
    const char *empty = try_farm_empty_sides(r);
    json_t *d = json_pack("{s:{s:s}, s:O, s:{s:s}, s:O}", "script", "key", key, "host", host,
                          "python", "build", json_get_string(r, "python_build", ""), "regression",
                          json_object_get(r, "regression"));
    if (empty) {
        char *why = try_farm_reasons(r);
        char *msg = xasprintf("no ok run at the %s on this host: %s", empty,
                              *why ? why : "no reason reported (pyscope jobs --batch ID)");
        json_object_set_new(d, "status",
                            json_pack("{s:s, s:s}", "outcome", "failed", "message", msg));
        free(why);
        free(msg);
    }
    free(key);
    return d;
}

/* Say, once per script x host and side, that its instruction counts leave out the child
 * processes the script started (the result's instructions_notes), as the local try does. */
static void try_farm_notes(char hash[2][GITREV_HASH_MAX + 1], const json_t *results)
{
    size_t i, k;
    const json_t *r, *nt;
    json_array_foreach(results, i, r)
    {
        json_array_foreach(json_object_get(r, "instructions_notes"), k, nt)
        {
            char *script = sanitize_dup(json_get_string(r, "script", ""), 0);
            char *host =
                sanitize_dup(json_get_string(json_object_get(r, "host"), "hostname", ""), 0);
            bool head = strcmp(json_get_string(nt, "side", ""), "head") == 0;
            log_warn("%s on %s: at the %s revision %.12s, " HISTORY_INSTRUCTIONS_CHILDREN_NOTE,
                     script, host, head ? "head" : "base", hash[head]);
            free(script);
            free(host);
        }
    }
}

static void try_farm_print(const struct try_farm_args *a, char hash[2][GITREV_HASH_MAX + 1],
                           uint64_t batch, const json_t *results)
{
    char *bs = sanitize_dup(a->base, 0), *hs = sanitize_dup(a->head, 0);
    printf("pyscope try (farm, batch %llu): base %s (%.12s) vs head %s (%.12s), %llu round%s per "
           "host, interleaved\n",
           (unsigned long long)batch, bs, hash[0], hs, hash[1], (unsigned long long)a->rounds,
           a->rounds == 1 ? "" : "s");
    free(bs);
    free(hs);
    bool color = cli_color_enabled(CLI_COLOR_AUTO, STDOUT_FILENO);
    size_t i;
    const json_t *r;
    json_array_foreach(results, i, r)
    {
        char *script = sanitize_dup(json_get_string(r, "script", ""), 0);
        char *host = sanitize_dup(json_get_string(json_object_get(r, "host"), "hostname", ""), 0);
        /* the build's version (sys.version's first word) */
        char *build = sanitize_dup(json_get_string(r, "python_build", ""), 0);
        build[strcspn(build, " ")] = '\0';
        printf("\n== %s on %s%s%s%s: %" JSON_INTEGER_FORMAT " base, %" JSON_INTEGER_FORMAT
               " head runs\n",
               script, host, *build ? " (" : "", build, *build ? ")" : "",
               json_integer_value(json_object_get(r, "base_runs")),
               json_integer_value(json_object_get(r, "head_runs")));
        json_int_t bad = json_integer_value(json_object_get(r, "runs_not_ok"));
        if (bad) {
            printf("   %" JSON_INTEGER_FORMAT " turn%s did not end ok:\n", bad,
                   bad == 1 ? "" : "s");
            size_t k;
            const json_t *f;
            json_array_foreach(json_object_get(r, "failures"), k, f)
            {
                /* the agent's own words: refused (no repository, unknown commit...), failed */
                char *msg = try_farm_failure_msg(f);
                char *outcome = sanitize_dup(json_get_string(f, "outcome", ""), 0);
                json_int_t n = json_integer_value(json_object_get(f, "turns"));
                printf("   - %s, %" JSON_INTEGER_FORMAT " turn%s %s: %s\n",
                       json_get_string(f, "side", ""), n, n == 1 ? "" : "s", outcome, msg);
                free(msg);
                free(outcome);
            }
        }
        const char *empty = try_farm_empty_sides(r);
        if (empty)
            printf("   no verdict: no ok run at the %s\n", empty);
        else
            regress_print(stdout, json_object_get(r, "regression"), color);
        free(script);
        free(host);
        free(build);
    }
}

int try_farm_main(int argc, char **argv)
{
    log_keep_errors(true); /* for --json's error document (cli_json_error) */
    struct try_farm_args a;
    int status = try_farm_parse(argc, argv, &a);
    if (status > PYSCOPE_EXIT_REGRESSION && (a.out.json || cli_argv_json(argc, argv)))
        return cli_json_error("pyscope.try_farm/1", status);
    if (status >= 0)
        return status;
    char err[4096];
    struct suite *s = NULL;
    if (suite_parse_file(a.suite, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "pyscope: error: invalid suite:\n%s\n", err);
        if (!a.out.json)
            return PYSCOPE_EXIT_USAGE;
        log_keep_error("invalid suite:");
        log_keep_error(err);
        return cli_json_error("pyscope.try_farm/1", PYSCOPE_EXIT_USAGE);
    }
    bool printed = false; /* the --json document is out (else an error one: cli_json_error) */
    struct revision_repo rr = {0};
    struct revision_commits rcs = {0};
    char hash[2][GITREV_HASH_MAX + 1] = {"", ""};
    uint64_t batch = 0;
    uint32_t jobs = 0;
    json_t *doc = NULL;
    status = try_farm_resolve(&a, &rr, hash, &rcs);
    if (!status)
        status = try_farm_submit(&a, s, hash, &rcs, &batch, &jobs);
    if (status)
        goto out;
    if (!a.out.quiet)
        fprintf(stderr, "pyscope: try batch %llu: %u turns queued (suite %s), waiting...\n",
                (unsigned long long)batch, jobs, s->name);
    status = try_farm_wait(&a, batch, &doc);
    if (status)
        goto out;
    const json_t *results = json_object_get(doc, "results");
    size_t n = json_array_size(results);
    json_t **ci = xcalloc(n ? n : 1, sizeof(*ci));
    bool failed = false, regressed = false;
    for (size_t i = 0; i < n; i++) {
        ci[i] = try_farm_ci_doc(json_array_get(results, i));
        failed |= json_is_object(json_object_get(ci[i], "status"));
        regressed |= regress_has_regression(json_object_get(ci[i], "regression"));
    }
    try_farm_notes(hash, results);
    if (a.out.json) {
        json_t *out = json_pack(
            "{s:s, s:s, s:I, s:s, s:{s:{s:s, s:s}, s:{s:s, s:s}}, s:I, s:O}", "schema",
            "pyscope.try_farm/1", "pyscope_version", PYSCOPE_VERSION, "batch_id", (json_int_t)batch,
            "suite", s->name, "revisions", "base", "rev", a.base, "hash", hash[0], "head", "rev",
            a.head, "hash", hash[1], "rounds", (json_int_t)a.rounds, "results", results);
        char *text = json_dumps(out, JSON_INDENT(2));
        puts(text);
        free(text);
        json_decref(out);
        printed = true;
    } else {
        try_farm_print(&a, hash, batch, results);
    }
    if (abrun_write_ci(&a.out, (const json_t *const *)ci, n))
        status = PYSCOPE_EXIT_INTERNAL;
    for (size_t i = 0; i < n; i++)
        json_decref(ci[i]);
    free(ci);
    if (!status && failed) {
        /* each script x host without a verdict, with the agents' reasons */
        for (size_t i = 0; i < n; i++) {
            const json_t *r = json_array_get(results, i);
            const char *empty = try_farm_empty_sides(r);
            if (!empty)
                continue;
            char *why = try_farm_reasons(r);
            char *script = sanitize_dup(json_get_string(r, "script", ""), 0);
            char *host =
                sanitize_dup(json_get_string(json_object_get(r, "host"), "hostname", ""), 0);
            log_error("try batch %llu: %s on %s has no ok run at the %s: %s",
                      (unsigned long long)batch, script, host, empty,
                      *why ? why : "no reason reported (pyscope jobs --batch shows the jobs)");
            free(why);
            free(script);
            free(host);
        }
        status = PYSCOPE_EXIT_SCRIPT;
    }
    if (!status && a.out.fail_on_regression && regressed)
        status = PYSCOPE_EXIT_REGRESSION;
out:
    if (status > PYSCOPE_EXIT_REGRESSION && a.out.json && !printed)
        cli_json_error("pyscope.try_farm/1", status);
    json_decref(doc);
    revision_commits_free(&rcs);
    revision_repo_close(&rr);
    suite_destroy(&s);
    return status;
}
