/*
 * bisect.c - "pyscope bisect --good A --bad B SCRIPT": which commit between
 * A and B made SCRIPT slower, on this machine? (docs/revisions.md)
 *
 * The commits of the range are B's first-parent chain back to A (git
 * rev-list --first-parent --ancestry-path A..B: a change merged from a
 * branch is found as its merge commit, and said to be one). First the ends
 * are compared (is B slower than A at all?), then each step tests the
 * commit at the middle of the open interval against A with the same
 * interleaved A/B runs and statistics as `pyscope try` (cli/abrun.c,
 * lib/abtest.c): a regression moves the first bad commit down, no change (or
 * an improvement) moves the last good one up. A commit where the script is
 * missing or fails is skipped (as `git bisect skip`), the nearest testable
 * commit to the middle is tested instead. A step whose verdict stays open
 * after --max-rounds stops the bisection and says so, with the interval
 * narrowed so far: it never guesses, but a step the noise leaves open whose
 * interval lies wholly on one side of half the ends' change is decided by
 * the end it resembles (lib/abtest's abtest_nearer_end). The culprit is then
 * confirmed by an A/B of it against its parent (the same rule inside the
 * noise floor: nearer the good end rejects it), whose verdict, interval and
 * why are the evidence printed; a culprit whose parent is GOOD was measured
 * against it already, by the ends or by the step that found it bad, and that
 * A/B is its evidence.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abrun.h"
#include "abtest.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "farm_cmds.h"
#include "gitrev.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "pathnorm.h"
#include "regress.h"
#include "revision.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

#define BISECT_DEFAULT_ROUNDS 5
#define BISECT_DEFAULT_REPEAT 3
#define BISECT_MAX_COMMITS    1000000 /* a range longer than this is refused */

void cli_bisect_help(FILE *out)
{
    fputs("Usage: pyscope bisect --good REV --bad REV [OPTIONS] SCRIPT [ARGS...]\n"
          "\n"
          "Which commit between GOOD and BAD made SCRIPT slower? In a git checkout: the\n"
          "first-parent commits of GOOD..BAD are searched by halving; each step runs the\n"
          "script at the middle commit and at GOOD in turns (as pyscope try) and decides with\n"
          "the same statistics. Commits where the script is missing or fails are skipped.\n"
          "A step the noise leaves open is decided by the end it resembles (its interval\n"
          "wholly below or above half the ends' change), else it stops the search and says\n"
          "so (never a guess); a culprit is confirmed against its parent before it is named\n"
          "(a commit whose parent is GOOD: by the step that measured it against GOOD).\n"
          "\n"
          "Options:\n"
          "  --good REV, --bad REV   the ends (branch, tag, hash, HEAD~3...); GOOD must be\n"
          "                          an ancestor of BAD\n"
          "  --repo PATH             the repository (default: the current folder's checkout)\n"
          "  --metric NAME           decide on wall_s, cpu_s, peak_rss_bytes or\n"
          "                          instructions (default: the run's deciding metric;\n"
          "                          instructions are counted under valgrind, ~25x slower,\n"
          "                          and decide whatever the load, the evidence's too)\n"
          "  --rounds N              pairs of runs per step first (1 to 50, default 5)\n"
          "  --max-rounds N          while a step is inconclusive because of noise, add pairs\n"
          "                          up to N (default 3 x --rounds)\n"
          "  --repeat N              measured runs of each turn (default 3)\n"
          "  --warmup N              unmeasured runs first in each turn (default 0)\n"
          "  --timeout SECONDS       of each run (default none)\n"
          "  --threshold PCT         smallest change that counts (default 5)\n"
          "  --json                  print pyscope.bisect/1 JSON (on an error exit: a\n"
          "                          document with \"status\": \"error\", \"exit\", \"error\")\n"
          "  -q, --quiet             no progress lines\n"
          "\n"
          "Exit status: 0 the first bad commit (or the untestable commits holding it) is\n"
          "named, 1 no culprit could be named (BAD is not slower than GOOD, or a step stayed\n"
          "inconclusive: said, with the interval so far), 2 usage error or pyscope-run\n"
          "refused (no valgrind, or a valgrind that failed on its own: at any commit, never\n"
          "a skip), 3 the script failed at GOOD or BAD, 4 internal error.\n"
          "\n"
          "On the farm (--host): pyscope bisect SCRIPT --host HOST --good REV --bad REV;\n"
          "pyscope bisect --host x --help shows that form.\n",
          out);
}

struct bisect_args {
    const char *good, *bad, *repo, *metric;
    struct abrun_args ab;
    bool json, quiet;
    char **script_argv;
};

static int bisect_parse(int argc, char **argv, struct bisect_args *a)
{
    enum {
        O_GOOD = 256,
        O_BAD,
        O_REPO,
        O_METRIC,
        O_JSON,
    };
    static const struct option opts[] = {
        {"good", required_argument, NULL, O_GOOD},
        {"bad", required_argument, NULL, O_BAD},
        {"repo", required_argument, NULL, O_REPO},
        {"metric", required_argument, NULL, O_METRIC},
        {"json", no_argument, NULL, O_JSON},
        ABRUN_OPTIONS,
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    abrun_args_init(&a->ab, BISECT_DEFAULT_ROUNDS, BISECT_DEFAULT_REPEAT);
    opterr = 0;
    optind = 1;
    int c, rc;
    while ((c = getopt_long(argc, argv, "+:hq", opts, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
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
                return cli_usage_error("bisect", "--metric takes %s, not \"%s\"",
                                       metric_names_text(METRIC_SET_ALL), optarg);
            a->metric = optarg;
            /* its turns count them (pyscope-run --instructions, under valgrind) */
            a->ab.instructions = strcmp(optarg, HISTORY_METRIC_INSTRUCTIONS) == 0;
            break;
        case O_JSON:
            a->json = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            cli_bisect_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            if ((rc = abrun_parse_opt("bisect", c, optarg, &a->ab)) >= 0) {
                if (rc)
                    return rc;
                break;
            }
            return cli_option_error("bisect", c, prev);
        }
    }
    abrun_args_finish(&a->ab);
    if (!a->good || !a->bad) {
        for (int i = optind + 1; i < argc; i++)
            if (strcmp(argv[i], "--good") == 0 || strcmp(argv[i], "--bad") == 0)
                return cli_usage_error("bisect", "options go before SCRIPT (what follows SCRIPT "
                                                 "is its own arguments): pyscope bisect --good "
                                                 "REV --bad REV SCRIPT [ARGS...]");
        return cli_usage_error("bisect", "--good REV and --bad REV are both needed");
    }
    if (optind >= argc)
        return cli_usage_error("bisect", "which script? (pyscope bisect --good REV --bad REV "
                                         "SCRIPT [ARGS...])");
    a->script_argv = argv + optind;
    return -1;
}

/* A commit of the range: its hash and what was learnt of it. */
struct bisect_commit {
    char hash[GITREV_HASH_MAX + 1];
    bool skipped;
};

/* The whole state; everything owned. */
struct bisect {
    struct bisect_args a;
    struct revision_repo rr;
    struct abrun_cache ac;
    struct abrun_opts ao;
    struct regress_options ropt;
    char good[GITREV_HASH_MAX + 1], bad[GITREV_HASH_MAX + 1];
    char *key;
    struct bisect_commit *v; /* the range, oldest first; v[n - 1] is bad */
    size_t n;
    json_t *steps; /* array */
    long runs;     /* runs measured in all */
    long lo, hi;   /* last good (-1: good itself), first bad: positions in v */
    char *runner;  /* the pyscope-run the A/B runs use (ao.runner) */
    /* the outcome, once decided */
    const char *result;      /* the document's "status": found, candidates, inconclusive... */
    char msg[2048];          /* its "message" ("" when found) */
    json_t *evidence;        /* the A/B that shows it (regression object), or NULL */
    const char *evidence_of; /* which A/B that is */
    json_t *ends;            /* the ends' verdict of the deciding metric (bad against good) */
    json_t *hi_res;          /* the halving step's A/B that found v[hi] bad, or NULL */
};

/*
 * The verdict deciding a step: --metric's (NULL when the runs have none), else that of the
 * metric the decision names (its verdict, rule and change are the decision's, and it has
 * the interval (99% when paired) the nearer-end rule reads, which the decision lacks), else the
 * decision.
 */
static const json_t *bisect_metric(const struct bisect *b, const json_t *res)
{
    const json_t *d = json_object_get(res, "decision");
    const char *name = b->a.metric ? b->a.metric : json_string_value(json_object_get(d, "metric"));
    const json_t *m;
    size_t i;
    json_array_foreach(json_object_get(res, "metrics"), i, m)
    {
        const char *mn = json_string_value(json_object_get(m, "metric"));
        if (name && mn && strcmp(mn, name) == 0 && !json_object_get(m, "function"))
            return m;
    }
    return b->a.metric ? NULL : d;
}

/* Describe commit hash (subject, author, time, merge) as a new JSON object. */
static json_t *bisect_describe(const struct bisect *b, const char *hash)
{
    struct gitrev_list l = {0};
    char err[512];
    json_t *o = json_pack("{s:s}", "hash", hash);
    if (gitrev_log(&b->rr.o, b->rr.path, hash, NULL, 0, 1, false, &l, err, sizeof(err)) >= 1) {
        json_object_set_new(o, "subject", json_string(l.v[0].subject ? l.v[0].subject : ""));
        json_object_set_new(o, "author", json_string(l.v[0].author ? l.v[0].author : ""));
        json_object_set_new(o, "time", json_integer(l.v[0].time));
        json_object_set_new(o, "merge", json_boolean(l.v[0].n_parents > 1));
    }
    gitrev_list_free(&l);
    return o;
}

/*
 * One A/B: base (label la) against test (lt). *res gets the regression object
 * (NULL when a side could not be run: *why says so and the return tells which:
 * 1 the test side's script is missing or failed, 2 the base side's failed).
 * Returns 0, a side code 1/2, or a negative exit status.
 */
static int bisect_ab(struct bisect *b, const char *base, const char *la, const char *test,
                     const char *lt, json_t **res, long *rounds, char *why, size_t whylen)
{
    struct abrun_side side[2] = {{.label = la, .lock = -1}, {.label = lt, .lock = -1}};
    snprintf(side[0].hash, sizeof(side[0].hash), "%s", base);
    snprintf(side[1].hash, sizeof(side[1].hash), "%s", test);
    int ret = 0;
    *res = NULL;
    *rounds = 0;
    for (int i = 0; i < 2 && !ret; i++) {
        int rc = abrun_checkout(&b->rr, &b->ac, &side[i], b->key, why, whylen);
        if (rc < 0) {
            log_error("%s", why);
            ret = -PYSCOPE_EXIT_INTERNAL;
        } else if (rc > 0) {
            ret = i == 1 ? 1 : 2;
        }
    }
    if (!ret) {
        int failed;
        int st = abrun_rounds(&b->ao, side, res, rounds, &failed);
        b->runs += (long)(side[0].n_docs + side[1].n_docs) * b->a.ab.repeat;
        if (st == PYSCOPE_EXIT_SCRIPT) {
            snprintf(why, whylen, "the script failed at %.12s", side[failed].hash);
            ret = failed == 1 ? 1 : 2;
        } else if (st) {
            ret = -st;
        }
    }
    for (int i = 0; i < 2; i++)
        abrun_side_release(&side[i]);
    return ret;
}

/* The step's verdict word: "regression", "no_change", "improvement" or "inconclusive". */
static const char *bisect_verdict(const struct bisect *b, const json_t *res, double *change)
{
    const json_t *m = bisect_metric(b, res);
    *change = json_number_value(json_object_get(m, "change_pct"));
    const char *v = json_string_value(json_object_get(m, "verdict"));
    return v ? v : "inconclusive";
}

/* Record a step (what was tested, its outcome) in b->steps; prints its line unless quiet/json. */
static void bisect_step(struct bisect *b, const char *hash, long pos, const char *outcome,
                        const char *verdict, double change, long rounds, const char *reason)
{
    json_t *d = bisect_describe(b, hash);
    json_object_set_new(d, "position", json_integer(pos));
    json_object_set_new(d, "outcome", json_string(outcome));
    if (verdict) {
        json_object_set_new(d, "verdict", json_string(verdict));
        json_object_set_new(d, "change_pct", json_real(change));
        json_object_set_new(d, "rounds", json_integer(rounds));
    }
    if (reason)
        json_object_set_new(d, "reason", json_string(reason));
    if (!b->a.quiet)
        fprintf(stderr, "pyscope bisect: step %zu: %.12s (%ld of %zu): %s%s%s\n",
                json_array_size(b->steps) + 1, hash, pos, b->n, outcome, reason ? ": " : "",
                reason ? reason : "");
    json_array_append_new(b->steps, d);
}

/* The range's hashes, oldest first: the first-parent chain of bad back to good. */
static int bisect_range(struct bisect *b, char *err, size_t errlen)
{
    const char *isanc[] = {"merge-base", "--is-ancestor", b->good, b->bad, NULL};
    int rc = gitrev_git(&b->rr.o, b->rr.path, isanc, NULL, err, errlen);
    if (rc == 1) {
        snprintf(err, errlen,
                 "--good %.12s is not an ancestor of --bad %.12s (bisect needs "
                 "GOOD older than BAD, on BAD's history)",
                 b->good, b->bad);
        return PYSCOPE_EXIT_USAGE;
    }
    if (rc != 0)
        return PYSCOPE_EXIT_INTERNAL;
    char *spec = xasprintf("%s..%s", b->good, b->bad);
    const char *list[] = {"rev-list", "--first-parent", "--ancestry-path", "--reverse", spec, NULL};
    char *out = NULL;
    rc = gitrev_git(&b->rr.o, b->rr.path, list, &out, err, errlen);
    free(spec);
    if (rc != 0) {
        free(out);
        return PYSCOPE_EXIT_INTERNAL;
    }
    char *save = NULL;
    for (char *t = strtok_r(out, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        if (!gitrev_is_hash(t) || b->n >= BISECT_MAX_COMMITS)
            continue;
        b->v = xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
        memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
        snprintf(b->v[b->n].hash, sizeof(b->v[b->n].hash), "%s", t);
        b->n++;
    }
    free(out);
    if (b->n == 0 || strcmp(b->v[b->n - 1].hash, b->bad) != 0) {
        snprintf(err, errlen, "--good and --bad are the same commit: nothing to bisect");
        return PYSCOPE_EXIT_USAGE;
    }
    return 0;
}

/* The untested, unskipped commit of (lo, hi) nearest to their middle, or -1. */
static long bisect_pick(const struct bisect *b, long lo, long hi)
{
    long mid = lo + (hi - lo) / 2;
    for (long d = 0; d < hi - lo; d++) {
        long c[2] = {mid - d, mid + d};
        for (int k = 0; k < 2; k++)
            if (c[k] > lo && c[k] < hi && !b->v[c[k]].skipped)
                return c[k];
    }
    return -1;
}

/* The hash at position i (-1: good). */
static const char *bisect_hash(const struct bisect *b, long i)
{
    return i < 0 ? b->good : b->v[i].hash;
}

static void bisect_release(struct bisect *b)
{
    free(b->key);
    free(b->v);
    json_decref(b->steps);
    json_decref(b->evidence);
    json_decref(b->hi_res);
    json_decref(b->ends);
    free(b->runner);
    abrun_cache_close(&b->ac);
    revision_repo_close(&b->rr);
}

/* Print the text result. */
static void bisect_print(const struct bisect *b, const json_t *out)
{
    const char *status = json_string_value(json_object_get(out, "status"));
    const json_t *culprit = json_object_get(out, "culprit");
    printf("pyscope bisect: %s, good %.12s .. bad %.12s: %zu commits (first parent), %zu steps, "
           "%ld runs\n\n",
           b->key, b->good, b->bad, b->n, json_array_size(b->steps), b->runs);
    const json_t *s;
    size_t i;
    json_array_foreach(b->steps, i, s)
    {
        char *subj = sanitize_dup(json_string_value(json_object_get(s, "subject")), 0);
        const char *reason = json_string_value(json_object_get(s, "reason"));
        printf("  %.12s %-12s %s%s%s\n", json_string_value(json_object_get(s, "hash")),
               json_string_value(json_object_get(s, "outcome")), subj ? subj : "",
               reason ? "  -- " : "", reason ? reason : "");
        free(subj);
    }
    putchar('\n');
    const char *msg = json_string_value(json_object_get(out, "message"));
    if (strcmp(status, "found") == 0 && json_is_object(culprit)) {
        char *subj = sanitize_dup(json_string_value(json_object_get(culprit, "subject")), 0);
        char *auth = sanitize_dup(json_string_value(json_object_get(culprit, "author")), 0);
        time_t t = (time_t)json_integer_value(json_object_get(culprit, "time"));
        char date[32] = "";
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
        printf("First bad commit: %s%s\n  %s\n  %s, %s\n\n",
               json_string_value(json_object_get(culprit, "hash")),
               json_is_true(json_object_get(culprit, "merge")) ? " (a merge commit)" : "",
               subj ? subj : "", auth ? auth : "", date);
        free(subj);
        free(auth);
    } else {
        printf("%s\n\n", msg ? msg : status);
    }
    const json_t *ev = json_object_get(out, "evidence");
    if (json_is_object(ev)) {
        printf("Evidence (%s):\n", json_string_value(json_object_get(out, "evidence_of")));
        regress_print(stdout, ev, cli_color_enabled(CLI_COLOR_AUTO, STDOUT_FILENO));
    }
}

/* What the stages of cli_bisect_main return besides an exit status (>= 0, said). */
#define BISECT_GO_ON   (-1) /* on to the next stage */
#define BISECT_DECIDED (-2) /* b->result is set: write the document */

/* The repository, the script's key, the two ends, the range between them, the build cache
 * and the runner. */
static int bisect_setup(struct bisect *b)
{
    char err[1024];
    if (revision_repo_open(&b->rr, b->a.repo, err, sizeof(err)) < 0 || !b->rr.path ||
        b->rr.is_mirror) {
        if (!b->rr.path || b->rr.is_mirror)
            snprintf(err, sizeof(err),
                     "pyscope bisect runs in a git checkout (or give --repo "
                     "PATH of one)");
        return cli_usage_error("bisect", "%s", err);
    }
    char *abs = realpath(b->a.script_argv[0], NULL);
    if (!abs || pathnorm_key(abs, b->rr.path, &b->key) < 0 || !b->key) {
        int status = cli_usage_error("bisect", "script \"%s\" %s", b->a.script_argv[0],
                                     abs ? "is not inside the repository" : "does not exist");
        free(abs);
        return status;
    }
    free(abs);
    if (revision_resolve(&b->rr, b->a.good, b->good, err, sizeof(err)) < 0 ||
        revision_resolve(&b->rr, b->a.bad, b->bad, err, sizeof(err)) < 0)
        return cli_usage_error("bisect", "%s", err);
    int rc = bisect_range(b, err, sizeof(err));
    if (rc) {
        int status = rc == PYSCOPE_EXIT_USAGE ? cli_usage_error("bisect", "%s", err) : rc;
        if (rc != PYSCOPE_EXIT_USAGE)
            log_error("%s", err);
        return status;
    }
    b->hi = (long)b->n - 1;
    int status = abrun_cache_open(&b->ac, &b->rr);
    if (status)
        return status;
    bool use_path = false;
    b->runner = cli_find_runner(&use_path, err, sizeof(err));
    if (!b->runner) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    abrun_regress_options(&b->a.ab, &b->ropt);
    if (b->a.ab.instructions)
        b->ropt.decide_by = "--metric instructions";
    b->ao = (struct abrun_opts){.cmd = "bisect",
                                .args = &b->a.ab,
                                .script_argv = b->a.script_argv,
                                .ropt = &b->ropt,
                                .quiet = b->a.quiet || b->a.json,
                                .runner = b->runner,
                                .runner_on_path = use_path,
                                .metric = b->a.metric};
    return BISECT_GO_ON;
}

/* The ends: is bad slower than good at all? Their A/B is the evidence so far. */
static int bisect_ends(struct bisect *b)
{
    char err[1024];
    json_t *res = NULL;
    long rounds;
    double change;
    int rc = bisect_ab(b, b->good, "good", b->bad, "bad", &res, &rounds, err, sizeof(err));
    if (rc != 0) {
        json_decref(res);
        if (rc < 0)
            return -rc;
        int status = rc == 1 && strstr(err, "does not exist") ? cli_usage_error("bisect", "%s", err)
                     : rc == 2 && strstr(err, "does not exist")
                         ? cli_usage_error("bisect", "%s", err)
                         : PYSCOPE_EXIT_SCRIPT;
        if (status == PYSCOPE_EXIT_SCRIPT)
            log_error("%s: the ends of the range must run (pyscope try --base %.12s --head "
                      "%.12s shows why)",
                      err, b->good, b->bad);
        return status;
    }
    const char *v = bisect_verdict(b, res, &change);
    if (!bisect_metric(b, res)) {
        json_decref(res);
        return cli_usage_error("bisect",
                               "no metric \"%s\" in the runs (see the \"metrics\" of "
                               "pyscope try --json)",
                               b->a.metric);
    }
    bisect_step(b, b->bad, (long)b->n, strcmp(v, "regression") == 0 ? "bad" : v, v, change, rounds,
                "the ends: bad against good");
    b->evidence = res;
    b->evidence_of = "bad against good";
    json_decref(b->ends);
    b->ends = json_deep_copy(bisect_metric(b, res));
    if (strcmp(v, "regression") == 0)
        return BISECT_GO_ON;
    b->result = strcmp(v, "inconclusive") == 0 ? "inconclusive" : "no_regression";
    snprintf(b->msg, sizeof(b->msg),
             strcmp(v, "inconclusive") == 0
                 ? "Inconclusive: the ends could not be told apart (%+.1f%%) in %ld rounds; "
                   "nothing was bisected (more --max-rounds or a quieter machine may tell)"
                 : "No regression: bad is not slower than good (%+.1f%%, %ld rounds); "
                   "nothing to bisect",
             change, rounds);
    return BISECT_DECIDED;
}

/*
 * An open verdict (m) of a step against good, or of the culprit against its parent, decided
 * by which end it resembles (lib/abtest: its interval (99% when paired) wholly below or above half
 * the ends' change): "good", "bad", or NULL when it straddles. reason gets the words.
 */
static const char *bisect_nearer_end(const struct bisect *b, const json_t *m, char *reason,
                                     size_t len)
{
    char why[512];
    const char *near = abtest_nearer_end(b->ends, m, why, sizeof(why));
    if (near)
        snprintf(reason, len, "open on its own, but %s: nearer the %s end", why, near);
    return near;
}

/* Halve the range (b->lo, b->hi] until one commit is left or only skipped ones; an
 * inconclusive step decides the bisection there. */
static int bisect_search(struct bisect *b)
{
    char err[1024];
    json_t *res = NULL;
    long rounds;
    double change;
    long lo = -1, hi = (long)b->n - 1;
    for (;;) {
        b->lo = lo;
        b->hi = hi;
        long mid = bisect_pick(b, lo, hi);
        if (mid < 0)
            break;
        int rc =
            bisect_ab(b, b->good, "good", b->v[mid].hash, "test", &res, &rounds, err, sizeof(err));
        if (rc < 0) {
            json_decref(res);
            return -rc;
        }
        if (rc == 2) { /* good itself failed now: nothing can be decided */
            json_decref(res);
            log_error("%s", err);
            return PYSCOPE_EXIT_SCRIPT;
        }
        if (rc == 1) {
            b->v[mid].skipped = true;
            bisect_step(b, b->v[mid].hash, mid + 1, "skip", NULL, 0, 0, err);
            continue;
        }
        const char *v = bisect_verdict(b, res, &change);
        char near_why[640];
        const char *near =
            strcmp(v, "inconclusive") == 0
                ? bisect_nearer_end(b, bisect_metric(b, res), near_why, sizeof(near_why))
                : NULL;
        if (strcmp(v, "regression") == 0 || (near && strcmp(near, "bad") == 0)) {
            bisect_step(b, b->v[mid].hash, mid + 1, "bad", v, change, rounds,
                        near ? near_why : NULL);
            hi = mid;
            json_decref(b->hi_res); /* the evidence if v[hi]'s parent is good itself */
            b->hi_res = res;
            res = NULL;
        } else if (strcmp(v, "no_change") == 0 || strcmp(v, "improvement") == 0 || near) {
            bisect_step(b, b->v[mid].hash, mid + 1, "good", v, change, rounds,
                        near ? near_why : NULL);
            lo = mid;
        } else {
            const json_t *m = bisect_metric(b, res);
            const char *rule = json_string_value(json_object_get(m, "rule"));
            bisect_step(b, b->v[mid].hash, mid + 1, "inconclusive", v, change, rounds, rule);
            b->result = "inconclusive";
            snprintf(b->msg, sizeof(b->msg),
                     "Inconclusive at %.12s (%+.1f%%, %s, %ld rounds): the first bad commit is "
                     "after %.12s and at or before %.12s (%ld commits); go on with pyscope "
                     "bisect --good %.12s --bad %.12s and more --max-rounds, or on a quieter "
                     "machine",
                     b->v[mid].hash, change, rule ? rule : "undecided", rounds, bisect_hash(b, lo),
                     b->v[hi].hash, hi - lo, bisect_hash(b, lo), b->v[hi].hash);
            json_decref(b->evidence);
            b->evidence = res;
            b->evidence_of = "the inconclusive step against good";
            return BISECT_DECIDED;
        }
        json_decref(res);
        res = NULL;
    }
    b->lo = lo;
    b->hi = hi;
    return BISECT_GO_ON;
}

/* The search's end: several candidates (all between skipped), or the culprit confirmed
 * against its parent (its own change must show). */
static int bisect_conclude(struct bisect *b)
{
    long lo = b->lo, hi = b->hi;
    if (hi - lo > 1) {
        /* every commit between was skipped: git bisect's "only skipped commits left" */
        b->result = "candidates";
        snprintf(b->msg, sizeof(b->msg),
                 "The first bad commit could be any of the %ld commits after %.12s up to %.12s: "
                 "the script is missing or fails at the commits between",
                 hi - lo, bisect_hash(b, lo), b->v[hi].hash);
        return BISECT_DECIDED;
    }
    if (lo < 0) {
        /* v[hi]'s parent is good itself, and v[hi] was measured against it: by the ends (a
         * range of one commit) or by the step that found it bad. That A/B is its
         * confirmation; a second one of the same two commits would add nothing. */
        if (b->hi_res) {
            json_decref(b->evidence);
            b->evidence = b->hi_res;
            b->hi_res = NULL;
        }
        b->evidence_of = "the first bad commit against its parent (the good end), measured by "
                         "the step that found it bad";
        b->result = "found";
        return BISECT_DECIDED;
    }
    char err[1024], near_why[640];
    json_t *res = NULL;
    long rounds;
    double change;
    int rc = bisect_ab(b, bisect_hash(b, lo), "parent", b->v[hi].hash, "culprit", &res, &rounds,
                       err, sizeof(err));
    if (rc != 0)
        json_decref(res);
    if (rc < 0)
        return -rc;
    if (rc > 0) {
        b->result = "inconclusive";
        snprintf(b->msg, sizeof(b->msg),
                 "Inconclusive: the confirmation of %.12s could not run: %s", b->v[hi].hash, err);
        return BISECT_DECIDED;
    }
    const char *v = bisect_verdict(b, res, &change);
    const char *near = strcmp(v, "inconclusive") == 0
                           ? bisect_nearer_end(b, bisect_metric(b, res), near_why, sizeof(near_why))
                           : NULL;
    bool confirmed = strcmp(v, "regression") == 0 || (near && strcmp(near, "bad") == 0);
    bisect_step(b, b->v[hi].hash, hi + 1,
                confirmed ? "confirmed"
                : near    ? "rejected"
                          : "unconfirmed",
                v, change, rounds, near ? near_why : "the culprit against its parent");
    json_decref(b->evidence);
    b->evidence = res;
    b->evidence_of = "the first bad commit against its parent";
    b->result = confirmed ? "found" : "inconclusive";
    if (!confirmed) {
        char what[720];
        if (near)
            snprintf(what, sizeof(what), "it resembles the good end (%+.1f%%, %s): rejected",
                     change, near_why);
        else
            snprintf(what, sizeof(what), "it is %s (%+.1f%%)", v, change);
        snprintf(b->msg, sizeof(b->msg),
                 "Inconclusive: the steps point at %.12s, but against its parent %s; not named: "
                 "the slowdown may build up over several commits, or noise misled a step",
                 b->v[hi].hash, what);
    }
    return BISECT_DECIDED;
}

/* The pyscope.bisect/1 document of a decided bisection (docs/json-schema.md). */
static json_t *bisect_document(const struct bisect *b)
{
    json_t *out =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:s, s:O, s:I, s:I}", "schema",
                  "pyscope.bisect/1", "pyscope_version", PYSCOPE_VERSION, "script", b->key, "good",
                  json_pack("{s:s, s:s}", "rev", b->a.good, "hash", b->good), "bad",
                  json_pack("{s:s, s:s}", "rev", b->a.bad, "hash", b->bad), "commits",
                  (json_int_t)b->n, "status", b->result, "steps", b->steps, "runs",
                  (json_int_t)b->runs, "repeat", (json_int_t)b->a.ab.repeat);
    json_object_set_new(out, "metric", b->a.metric ? json_string(b->a.metric) : json_null());
    json_object_set_new(out, "culprit",
                        strcmp(b->result, "found") == 0 ? bisect_describe(b, b->v[b->hi].hash)
                                                        : json_null());
    /* the interval the first bad commit lies in: after last_good, up to first_bad */
    json_t *cands = json_array();
    bool open = strcmp(b->result, "no_regression") != 0;
    for (long i = b->lo + 1; open && i <= b->hi && json_array_size(cands) < 1000; i++)
        json_array_append_new(cands, json_string(b->v[i].hash));
    json_object_set_new(out, "interval",
                        open ? json_pack("{s:s, s:s, s:I}", "last_good", bisect_hash(b, b->lo),
                                         "first_bad", b->v[b->hi].hash, "commits",
                                         (json_int_t)(b->hi - b->lo))
                             : json_null());
    json_object_set_new(out, "candidates", cands);
    json_object_set_new(out, "message", json_string(b->msg));
    json_object_set_new(out, "evidence_of", json_string(b->evidence_of ? b->evidence_of : ""));
    json_object_set_new(out, "evidence", b->evidence ? json_incref(b->evidence) : json_null());
    return out;
}

/* --host (or a farm option, --id, --cancel) before any "--": the farm form (bisect_farm.c). */
static bool bisect_is_farm(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--host") == 0 || strncmp(o, "--host=", 7) == 0 || strcmp(o, "--id") == 0 ||
            strncmp(o, "--id=", 5) == 0 || strncmp(o, "--cancel", 8) == 0 ||
            strncmp(o, "--coordinator", 13) == 0 || strncmp(o, "--secret-key", 12) == 0)
            return true;
    }
    return false;
}

int cli_bisect_main(int argc, char **argv)
{
    if (bisect_is_farm(argc, argv))
        return bisect_farm_main(argc, argv);
    log_keep_errors(true); /* for --json's error document (cli_json_error) */
    struct bisect b;
    memset(&b, 0, sizeof(b));
    int status = bisect_parse(argc, argv, &b.a);
    if (status > PYSCOPE_EXIT_REGRESSION && (b.a.json || cli_argv_json(argc, argv)))
        return cli_json_error("pyscope.bisect/1", status);
    if (status >= 0)
        return status;
    b.steps = json_array();
    b.lo = -1;
    status = bisect_setup(&b);
    if (status == BISECT_GO_ON)
        status = bisect_ends(&b);
    if (status == BISECT_GO_ON)
        status = bisect_search(&b);
    if (status == BISECT_GO_ON)
        status = bisect_conclude(&b);
    if (status == BISECT_DECIDED) {
        json_t *out = bisect_document(&b);
        if (b.a.json) {
            char *text = json_dumps(out, JSON_INDENT(2));
            puts(text);
            free(text);
        } else {
            bisect_print(&b, out);
        }
        json_decref(out);
        bool named = strcmp(b.result, "found") == 0 || strcmp(b.result, "candidates") == 0;
        status = named ? PYSCOPE_EXIT_OK : PYSCOPE_EXIT_REGRESSION;
    } else if (b.a.json && status > PYSCOPE_EXIT_REGRESSION) {
        cli_json_error("pyscope.bisect/1", status);
    }
    bisect_release(&b);
    return status;
}
