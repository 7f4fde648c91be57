/*
 * bisect_farm.c - "pyscope bisect SCRIPT --host H --good A --bad B": the farm
 * form of bisect (docs/revisions.md).
 *
 * Both ends are resolved to full hashes here, checked (different commits,
 * GOOD an ancestor of BAD, SCRIPT present at BAD) and sent with BAD's newest
 * ancestors in one Submit (bisect, try_base = GOOD, commit = BAD). The
 * coordinator keeps the bisection in its database and runs each step as an
 * A/B try batch on the host (coordinator/bisection.c); this polls it with
 * Query KIND_BISECT, printing each step as it is decided, and prints the
 * culprit with its evidence. A coordinator restart while waiting is waited
 * out (the bisection goes on after it). --no-wait prints the id and leaves;
 * --id N waits for (or shows) an existing bisection; --cancel N stops one
 * (Query KIND_BISECT, state "cancel": its queued steps are withdrawn).
 */
#include <getopt.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "errors.h"
#include "farm_cmds.h"
#include "gitrev.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "metrics.h"
#include "pathnorm.h"
#include "progress.h"
#include "regress.h"
#include "revision.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

#define BISECT_FARM_ROUNDS  5
#define BISECT_FARM_REPEAT  3
#define BISECT_FARM_RETRY_S 120 /* how long an unreachable coordinator is waited for */

void bisect_farm_help(FILE *out)
{
    fputs("Usage: pyscope bisect SCRIPT --host HOST --good REV --bad REV [OPTIONS] [-- ARGS...]\n"
          "       pyscope bisect --id N [--json] [--no-wait]\n"
          "       pyscope bisect --cancel N [--json]\n"
          "\n"
          "The farm form: the coordinator searches BAD's first-parent history back to GOOD\n"
          "for the commit that made SCRIPT (a path in the repository) slower on HOST. Each\n"
          "step runs an interleaved A/B try of a commit against GOOD on that host (more\n"
          "rounds when it is inconclusive, never a guess); the culprit is confirmed against\n"
          "its parent. The bisection lives in the coordinator's database: it goes on after\n"
          "a restart of the coordinator or of this command (pyscope bisect --id N).\n"
          "\n"
          "Options:\n"
          "  --host NAME          the host (or agent) that runs every step\n"
          "  --good REV, --bad REV  the ends (branch, tag, hash, HEAD~3...); GOOD must be an\n"
          "                       ancestor of BAD\n"
          "  --repo PATH|URL      where REV is resolved (default: this folder's checkout)\n"
          "  --metric NAME        decide on cpu_s, wall_s, peak_rss_bytes or instructions\n"
          "                       (default: the runs' deciding metric); instructions are\n"
          "                       counted under valgrind on HOST (needs valgrind there;\n"
          "                       ~25-50x slower turns, the same count every run)\n"
          "  --rounds N           base/head pairs of a step (1 to 50, default 5; an\n"
          "                       inconclusive step gets as many again, up to 4 times; the\n"
          "                       ends up to 8 times)\n"
          "  --repeat N           measured runs of each turn (default 3)\n"
          "  --threshold PCT      smallest change that counts (default 5; a step says \"no\n"
          "                       change\" only when the host's noise is below it: raise it\n"
          "                       on a busy host)\n"
          "  --budget SECONDS     stop after this long (default: the coordinator's\n"
          "                       bisect_budget_s)\n"
          "  --id N               an existing bisection: wait for it and show it\n"
          "  --no-wait            print the bisection's id and leave\n"
          "  --cancel N           stop bisection N: its queued steps are withdrawn, its state\n"
          "                       becomes cancelled (who and when in its message)\n"
          "  --json               print pyscope.bisect_farm/1 JSON (on an error exit\n"
          "                       before it: a document with \"status\": \"error\")\n"
          "  -q, --quiet          no step lines on stderr\n" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 the culprit (or the unrunnable commits holding it) is named,\n"
          "1 none could be named (BAD is not slower, a step stayed inconclusive, the budget\n"
          "ran out or it was cancelled: said, with the interval so far), 2 usage error\n"
          "(unknown host, revision or bisection, GOOD not an ancestor of BAD, GOOD == BAD,\n"
          "--cancel of a bisection that already ended), 3 the script cannot run at\n"
          "an end, 4 the coordinator could not be reached or failed.\n",
          out);
}

struct bisect_farm_args {
    const char *script, *host, *good, *bad, *repo, *metric;
    uint64_t rounds, repeat, budget, id, cancel;
    double threshold_pct; /* 0 = the script's (or the default 5%) */
    bool json, quiet, no_wait;
    bool printed; /* the --json document is out (else an error one: cli_json_error) */
    char **script_args;
    size_t n_script_args;
    struct farm_opts fo;
};

/* The options' combinations, after parsing: -1 to go on, else an exit status (said). */
static int bf_check(int argc, char **argv, struct bisect_farm_args *a)
{
    if (farm_opts_finish(&a->fo) < 0)
        return PYSCOPE_EXIT_USAGE;
    if (a->cancel) {
        if (optind < argc || a->host || a->good || a->bad || a->id || a->no_wait)
            return cli_usage_error("bisect", "--cancel N stops an existing bisection: no "
                                             "SCRIPT, --host, --good, --bad, --id or --no-wait "
                                             "with it");
        return -1;
    }
    if (a->id) {
        if (optind < argc || a->host || a->good || a->bad)
            return cli_usage_error("bisect", "--id N reads an existing bisection: no SCRIPT, "
                                             "--host, --good or --bad with it");
        return -1;
    }
    if (optind >= argc)
        return cli_usage_error("bisect", "which script? (pyscope bisect SCRIPT --host HOST "
                                         "--good REV --bad REV)");
    a->script = argv[optind];
    a->script_args = argv + optind + 1;
    a->n_script_args = (size_t)(argc - optind - 1);
    if (!a->host || !*a->host)
        return cli_usage_error("bisect", "--host NAME is needed (pyscope hosts lists them)");
    if (!a->good || !a->bad)
        return cli_usage_error("bisect", "--good REV and --bad REV are both needed");
    return -1;
}

/* Longer than 100 lines, kept whole: getopt_long's loop, one case of a few lines per option
 * (16), then the checks between options; the option table and its cases read together (as
 * agent/runner/main.c parse_options). */
static int bf_parse(int argc, char **argv, struct bisect_farm_args *a)
{
    enum {
        O_HOST = 256,
        O_GOOD,
        O_BAD,
        O_REPO,
        O_METRIC,
        O_ROUNDS,
        O_REPEAT,
        O_BUDGET,
        O_ID,
        O_NOWAIT,
        O_JSON,
        O_THRESHOLD,
        O_CANCEL
    };
    static const struct option opts[] = {
        {"host", required_argument, NULL, O_HOST},
        {"good", required_argument, NULL, O_GOOD},
        {"bad", required_argument, NULL, O_BAD},
        {"repo", required_argument, NULL, O_REPO},
        {"metric", required_argument, NULL, O_METRIC},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"budget", required_argument, NULL, O_BUDGET},
        {"id", required_argument, NULL, O_ID},
        {"no-wait", no_argument, NULL, O_NOWAIT},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"cancel", required_argument, NULL, O_CANCEL},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, 'q'},
        FARM_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    farm_opts_init(&a->fo);
    a->rounds = BISECT_FARM_ROUNDS;
    a->repeat = BISECT_FARM_REPEAT;
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
        case O_HOST:
            a->host = optarg;
            break;
        case O_GOOD:
            a->good = optarg;
            break;
        case O_BAD:
            a->bad = optarg;
            break;
        case O_REPO:
            a->repo = optarg;
            break;
        case O_METRIC:
            if (!metric_name_ok(METRIC_SET_ALL, optarg))
                return cli_usage_error("bisect",
                                       "--metric takes %s on the farm, or instructions (counted "
                                       "under valgrind on the host), not \"%s\"",
                                       metric_names_text(METRIC_SET_MEASURED), optarg);
            a->metric = optarg;
            break;
        case O_ROUNDS:
            if (farm_parse_u64(optarg, WIRE_MAX_TRY_ROUNDS, &a->rounds) < 0)
                return cli_usage_error("bisect",
                                       "--rounds takes a whole number from 1 to %u, not \"%s\"",
                                       WIRE_MAX_TRY_ROUNDS, optarg);
            break;
        case O_REPEAT:
            if (farm_parse_u64(optarg, WIRE_MAX_REPEAT, &a->repeat) < 0)
                return cli_usage_error("bisect",
                                       "--repeat takes a whole number from 1 to %u, not \"%s\"",
                                       WIRE_MAX_REPEAT, optarg);
            break;
        case O_BUDGET:
            if (farm_parse_u64(optarg, 30 * 86400, &a->budget) < 0)
                return cli_usage_error(
                    "bisect", "--budget takes seconds, from 1 to 2592000 (30 days), not \"%s\"",
                    optarg);
            break;
        case O_ID:
        case O_CANCEL:
            if (farm_parse_u64(optarg, INT64_MAX, c == O_ID ? &a->id : &a->cancel) < 0)
                return cli_usage_error("bisect", "--%s takes a bisection's id, not \"%s\"",
                                       c == O_ID ? "id" : "cancel", optarg);
            break;
        case O_NOWAIT:
            a->no_wait = true;
            break;
        case O_THRESHOLD:
            if (config_parse_threshold(optarg, &a->threshold_pct) < 0)
                return cli_usage_error("bisect",
                                       "--threshold takes a percentage above 0 (e.g. 10 or 10%%), "
                                       "not \"%s\"",
                                       optarg);
            break;
        case O_JSON:
            a->json = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            bisect_farm_help(stdout);
            return PYSCOPE_EXIT_OK;
        default: {
            int rc = farm_opts_take(&a->fo, c, optarg, "bisect", prev);
            if (rc >= 0)
                return rc;
            break;
        }
        }
    }
    return bf_check(argc, argv, a);
}

/*
 * Resolve and check the ends and the script: hash[0] good, hash[1] bad, *key
 * the script's path in the repository (new). Returns 0 or an exit status (said).
 */
static int bf_resolve(const struct bisect_farm_args *a, struct revision_repo *rr,
                      char hash[2][GITREV_HASH_MAX + 1], char **key, struct revision_commits *rcs)
{
    char err[1024];
    const char *revs[2] = {a->good, a->bad};
    *key = NULL;
    int rc = revision_repo_open(rr, a->repo, err, sizeof(err));
    if (rc == 0 && !rr->path) {
        snprintf(err, sizeof(err),
                 "pyscope bisect resolves --good and --bad in a git checkout (or --repo)");
        rc = -PYSCOPE_EUSAGE;
    }
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = revision_resolve(rr, revs[i], hash[i], err, sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        return rc == -PYSCOPE_ENODATA || rc == -PYSCOPE_EUSAGE ? PYSCOPE_EXIT_USAGE
                                                               : PYSCOPE_EXIT_INTERNAL;
    }
    if (strcmp(hash[0], hash[1]) == 0)
        return cli_usage_error("bisect",
                               "--good %s and --bad %s are the same commit (%.12s): nothing to "
                               "bisect",
                               a->good, a->bad, hash[0]);
    const char *isanc[] = {"merge-base", "--is-ancestor", hash[0], hash[1], NULL};
    rc = gitrev_git(&rr->o, rr->path, isanc, NULL, err, sizeof(err));
    if (rc == 1)
        return cli_usage_error("bisect",
                               "--good %.12s is not an ancestor of --bad %.12s (bisect needs "
                               "GOOD older than BAD, on BAD's history; swapped?)",
                               hash[0], hash[1]);
    if (rc != 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    /* the script: a file here (inside the repository) or a path in it */
    char *abs = realpath(a->script, NULL);
    if (!abs || pathnorm_key(abs, rr->path, key) < 0 || !*key) {
        free(*key);
        *key = NULL;
        if (a->script[0] != '/' && strstr(a->script, "..") == NULL)
            *key = xstrdup(a->script[0] == '.' && a->script[1] == '/' ? a->script + 2 : a->script);
    }
    free(abs);
    if (!*key)
        return cli_usage_error("bisect", "script \"%s\" is not inside the repository %s", a->script,
                               rr->path);
    char *spec = xasprintf("%s:%s", hash[1], *key);
    const char *cat[] = {"cat-file", "-e", spec, NULL};
    rc = gitrev_git(&rr->o, rr->path, cat, NULL, err, sizeof(err));
    free(spec);
    if (rc != 0)
        return cli_usage_error("bisect",
                               "%s is not in commit %.12s (--bad %s): give SCRIPT as "
                               "its path in the repository",
                               *key, hash[1], a->bad);
    rc = revision_describe(rr, hash[1], NULL, 0, REVISION_ANCESTORS, rcs, err, sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    revision_commits_wire(rcs);
    return 0;
}

static int bf_submit(const struct bisect_farm_args *a, char hash[2][GITREV_HASH_MAX + 1],
                     const char *key, const struct revision_commits *rcs, uint64_t *id)
{
    struct wire_suite_entry e = {.script = key,
                                 .n_args = a->n_script_args,
                                 .args = (const char *const *)a->script_args,
                                 .repeat = (uint32_t)a->repeat,
                                 .threshold = a->threshold_pct / 100.0,
                                 .python = ""};
    const char *host = a->host;
    char label[128];
    snprintf(label, sizeof(label), "bisect %.12s..%.12s", hash[0], hash[1]);
    struct wire_msg m;
    wire_msg_init(&m, WIRE_SUBMIT);
    m.submit.suite = "bisect";
    m.submit.entries = &e;
    m.submit.n_entries = 1;
    m.submit.hosts.n_names = 1;
    m.submit.hosts.names = &host;
    m.submit.label = label;
    m.submit.commit = hash[1];
    m.submit.try_base = hash[0];
    m.submit.try_rounds = (uint32_t)a->rounds;
    m.submit.commits = rcs->wire;
    m.submit.n_commits = rcs->list.n;
    m.submit.bisect = true;
    m.submit.bisect_metric = a->metric ? a->metric : "";
    /* the steps' jobs count instructions (the coordinator implies it as well) */
    m.submit.instructions = a->metric && strcmp(a->metric, HISTORY_METRIC_INSTRUCTIONS) == 0;
    m.submit.bisect_budget_s = (uint32_t)a->budget;
    struct wire_error werr;
    if (wire_validate(&m, &werr) < 0)
        return cli_usage_error("bisect", "this bisection cannot be sent: %s", werr.msg);
    struct wire_msg *r = NULL;
    char err[1024];
    int status = PYSCOPE_EXIT_OK;
    if (farm_request(&a->fo, &m, &r, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    if (r->type == WIRE_SUBMIT_REPLY && r->submit_reply.bisection_id) {
        *id = r->submit_reply.bisection_id;
    } else if (r->type == WIRE_ERROR) {
        log_error("the coordinator refused the bisection: %s", r->error.message);
        status = r->error.code == WIRE_ERROR_MALFORMED ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
    } else {
        log_error("the coordinator does not bisect (an older version?): answer %s",
                  wire_type_name(r->type));
        status = PYSCOPE_EXIT_INTERNAL;
    }
    wire_msg_destroy(&r);
    return status;
}

char *bisect_farm_step_text(const json_t *st)
{
    const json_t *c = json_object_get(st, "commit");
    char *subj = sanitize_dup(json_get_string(c, "subject", ""), 60);
    json_int_t nb = json_integer_value(json_object_get(st, "base_runs")),
               nh = json_integer_value(json_object_get(st, "head_runs"));
    const json_t *ch = json_object_get(st, "change_pct");
    /* a change only when both sides measured something: "+0.0%" would read as "no change" */
    char change[48] = "";
    if (nb > 0 && nh > 0 && json_is_number(ch))
        snprintf(change, sizeof(change), "%+.1f%%, ", json_number_value(ch));
    const char *empty = nb <= 0 && nh <= 0 ? ": neither side has runs"
                        : nb <= 0          ? ": the base side has no runs"
                        : nh <= 0          ? ": the head side has no runs"
                                           : "";
    char *line =
        xasprintf("pyscope bisect: step %" JSON_INTEGER_FORMAT " (%s): %.12s %s: %s%s%s "
                  "(%s%" JSON_INTEGER_FORMAT "+%" JSON_INTEGER_FORMAT " runs%s)",
                  json_integer_value(json_object_get(st, "n")), json_get_string(st, "phase", ""),
                  json_get_string(c, "hash", ""), subj, json_get_string(st, "outcome", ""),
                  json_is_string(json_object_get(st, "verdict")) ? ", " : "",
                  json_get_string(st, "verdict", ""), change, nb, nh, empty);
    free(subj);
    return line;
}

/* Poll bisection id until it ends; *doc gets its last "bisect" object (new). */
static int bf_wait(const struct bisect_farm_args *a, uint64_t id, json_t **doc)
{
    size_t shown = 0;
    time_t down_since = 0;
    struct progress *line = progress_start(stderr, a->quiet || a->json, 0);
    int status = PYSCOPE_EXIT_OK;
    for (;;) {
        json_t *ans = NULL;
        if (farm_query(&a->fo, WIRE_QUERY_BISECT, id, 0, &ans) < 0) {
            time_t now = time(NULL);
            if (!down_since)
                down_since = now;
            if (now - down_since > BISECT_FARM_RETRY_S) {
                log_error("the coordinator has not answered for %d s; the bisection goes on "
                          "there: pyscope bisect --id %llu",
                          BISECT_FARM_RETRY_S, (unsigned long long)id);
                status = PYSCOPE_EXIT_INTERNAL;
                break;
            }
            log_warn("bisection %llu: no answer from the coordinator; asking again",
                     (unsigned long long)id);
            sleep(2);
            continue;
        }
        down_since = 0;
        json_t *b = json_object_get(ans, "bisect");
        const json_t *e = json_object_get(b, "error");
        if (!json_is_object(b) || json_is_object(e)) {
            log_error("bisection %llu: %s", (unsigned long long)id,
                      json_is_object(e) ? json_get_string(e, "message", "")
                                        : "the coordinator does not answer bisect queries");
            status = json_is_object(e) ? PYSCOPE_EXIT_USAGE : PYSCOPE_EXIT_INTERNAL;
            json_decref(ans);
            break;
        }
        const json_t *steps = json_object_get(b, "steps");
        for (; shown < json_array_size(steps); shown++) {
            const json_t *st = json_array_get(steps, shown);
            if (strcmp(json_get_string(st, "outcome", ""), "pending") == 0)
                break;
            if (!a->quiet && !a->json) {
                char *text = bisect_farm_step_text(st);
                fprintf(stderr, "%s\n", text);
                free(text);
            }
        }
        if (strcmp(json_get_string(b, "state", ""), "running") != 0 || a->no_wait) {
            *doc = json_incref(b);
            json_decref(ans);
            break;
        }
        progress_set(line,
                     "pyscope: bisection %llu: step %zu, %" JSON_INTEGER_FORMAT " turns so far",
                     (unsigned long long)id, json_array_size(steps),
                     json_integer_value(json_object_get(b, "turns")));
        json_decref(ans);
        sleep(1);
    }
    progress_end(&line);
    return status;
}

static void print_commit(const char *what, const json_t *c)
{
    char *subj = sanitize_dup(json_get_string(c, "subject", ""), 0),
         *au = sanitize_dup(json_get_string(c, "author", ""), 0);
    printf("%s %s  %s\n%*s%s, %s\n", what, json_get_string(c, "hash", ""), subj,
           (int)strlen(what) + 1, "", au, json_get_string(c, "date", ""));
    free(subj);
    free(au);
}

/* The exit status of bisection b's state. */
static int bf_status(const json_t *b)
{
    const char *state = json_get_string(b, "state", "");
    if (strcmp(state, "found") == 0 || strcmp(state, "candidates") == 0)
        return PYSCOPE_EXIT_OK;
    if (strcmp(state, "failed") == 0)
        return PYSCOPE_EXIT_SCRIPT;
    if (strcmp(state, "running") == 0)
        return PYSCOPE_EXIT_OK;     /* --no-wait */
    return PYSCOPE_EXIT_REGRESSION; /* exit 1: nothing named */
}

static int bf_print(const json_t *b)
{
    const char *state = json_get_string(b, "state", "");
    char *msg = sanitize_dup(json_get_string(b, "message", ""), 0);
    const json_t *iv = json_object_get(b, "interval");
    printf("pyscope bisect (farm, bisection %" JSON_INTEGER_FORMAT
           "): %s on %s, %" JSON_INTEGER_FORMAT " commits, %zu steps, %" JSON_INTEGER_FORMAT
           " turns\n",
           json_integer_value(json_object_get(b, "id")), json_get_string(b, "script", ""),
           json_get_string(b, "host", ""), json_integer_value(json_object_get(b, "commits")),
           json_array_size(json_object_get(b, "steps")),
           json_integer_value(json_object_get(b, "turns")));
    printf("result: %s: %s\n", state, msg);
    free(msg);
    const json_t *cul = json_object_get(b, "culprit");
    if (json_is_object(cul)) {
        print_commit("culprit", cul);
        if (json_is_true(json_object_get(cul, "merge")))
            printf("         (a merge commit: the change came with the branch it merged; bisect "
                   "that branch with its commits as --good/--bad)\n");
        const json_t *ev = json_object_get(b, "evidence");
        if (json_is_object(ev)) {
            printf("evidence (the culprit against its parent):\n");
            regress_print(stdout, ev, cli_color_enabled(CLI_COLOR_AUTO, STDOUT_FILENO));
        }
    } else if (json_is_object(iv) && strcmp(state, "no_regression") != 0) {
        print_commit("last good", json_object_get(iv, "last_good"));
        print_commit("first bad", json_object_get(iv, "first_bad"));
    }
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(b, "unrunnable"), i, u)
    {
        if (i == 0)
            printf("commits the script could not run at:\n");
        printf("  %.12s\n", json_get_string(u, "hash", ""));
    }
    return bf_status(b);
}

/* Say, once per revision, that its instruction counts leave out the child processes the
 * script started (the steps' instructions_notes), as the local bisect does. */
static void bf_notes(const json_t *b)
{
    json_t *said = json_object(); /* the revisions said, by hash */
    size_t i, k;
    const json_t *st, *nt;
    json_array_foreach(json_object_get(b, "steps"), i, st)
    {
        json_array_foreach(json_object_get(st, "instructions_notes"), k, nt)
        {
            bool head = strcmp(json_get_string(nt, "side", ""), "head") == 0;
            const char *hash = head ? json_get_string(json_object_get(st, "commit"), "hash", "")
                                    : json_get_string(st, "against", "");
            if (json_object_get(said, hash))
                continue;
            json_object_set_new(said, hash, json_true());
            log_warn("at the %s revision %.12s (step %" JSON_INTEGER_FORMAT
                     "), " HISTORY_INSTRUCTIONS_CHILDREN_NOTE,
                     head ? "head" : "base", hash, json_integer_value(json_object_get(st, "n")));
        }
    }
    json_decref(said);
}

/* Bisection b as --json or text asks; returns the exit status of its state. */
static int bf_output(struct bisect_farm_args *a, const json_t *b)
{
    bf_notes(b);
    if (!a->json)
        return bf_print(b);
    a->printed = true;
    json_t *out = json_pack("{s:s, s:s, s:O}", "schema", "pyscope.bisect_farm/1", "pyscope_version",
                            PYSCOPE_VERSION, "bisect", b);
    char *text = json_dumps(out, JSON_INDENT(2));
    puts(text);
    free(text);
    json_decref(out);
    return bf_status(b);
}

/* Who asks for a cancel, as the coordinator records it: user@host. */
static void bf_who(char *buf, size_t len)
{
    char host[256] = "";
    const char *user = getenv("USER");
    struct passwd *pw = user && *user ? NULL : getpwuid(getuid());
    if (gethostname(host, sizeof(host) - 1) < 0)
        host[0] = '\0';
    snprintf(buf, len, "%s@%s", user && *user ? user : pw ? pw->pw_name : "?", *host ? host : "?");
}

/* --cancel N: stop the bisection, print what it had come to. */
static int bf_cancel(struct bisect_farm_args *a)
{
    char who[320];
    bf_who(who, sizeof(who));
    struct wire_query q = {
        .kind = WIRE_QUERY_BISECT, .batch_id = a->cancel, .state = "cancel", .note = who};
    json_t *ans = NULL;
    int rc = farm_query_send(&a->fo, &q, &ans);
    if (rc < 0)
        return farm_query_status(rc);
    const json_t *b = json_object_get(ans, "bisect"), *e = json_object_get(b, "error");
    int status;
    if (json_is_object(e)) {
        char *msg = sanitize_dup(json_get_string(e, "message", ""), 0);
        log_error("bisection %llu: %s", (unsigned long long)a->cancel, msg);
        free(msg);
        status = PYSCOPE_EXIT_USAGE;
    } else if (!json_is_object(b) || strcmp(json_get_string(b, "state", ""), "cancelled") != 0) {
        log_error("bisection %llu was not cancelled: the coordinator answered it as %s (a "
                  "coordinator from before --cancel?)",
                  (unsigned long long)a->cancel,
                  json_is_object(b) ? json_get_string(b, "state", "") : "something else");
        status = PYSCOPE_EXIT_INTERNAL;
    } else {
        bf_output(a, b);
        status = PYSCOPE_EXIT_OK;
    }
    json_decref(ans);
    return status;
}

int bisect_farm_main(int argc, char **argv)
{
    log_keep_errors(true); /* for --json's error document (cli_json_error) */
    struct bisect_farm_args a;
    int status = bf_parse(argc, argv, &a);
    if (status > PYSCOPE_EXIT_REGRESSION && (a.json || cli_argv_json(argc, argv)))
        return cli_json_error("pyscope.bisect_farm/1", status);
    if (status >= 0)
        return status;
    if (a.cancel) {
        status = bf_cancel(&a);
        return status > PYSCOPE_EXIT_REGRESSION && a.json && !a.printed
                   ? cli_json_error("pyscope.bisect_farm/1", status)
                   : status;
    }
    struct revision_repo rr = {0};
    struct revision_commits rcs = {0};
    char hash[2][GITREV_HASH_MAX + 1] = {"", ""};
    char *key = NULL;
    json_t *doc = NULL;
    uint64_t id = a.id;
    if (!id) {
        status = bf_resolve(&a, &rr, hash, &key, &rcs);
        if (!status)
            status = bf_submit(&a, hash, key, &rcs, &id);
        if (status)
            goto out;
        if (!a.quiet)
            fprintf(stderr, "pyscope: bisection %llu: %s on %s, %.12s..%.12s%s\n",
                    (unsigned long long)id, key, a.host, hash[0], hash[1],
                    a.no_wait ? "" : ", waiting...");
    }
    status = bf_wait(&a, id, &doc);
    if (status)
        goto out;
    status = bf_output(&a, doc);
out:
    if (status > PYSCOPE_EXIT_REGRESSION && a.json && !a.printed)
        cli_json_error("pyscope.bisect_farm/1", status);
    json_decref(doc);
    free(key);
    revision_commits_free(&rcs);
    revision_repo_close(&rr);
    return status;
}
