/*
 * try.c - "pyscope try --base REV --head REV SCRIPT": is the head revision
 * slower than the base, on this machine? (docs/revisions.md)
 *
 * Both revisions are checked out read-only into the CLI's revision cache
 * ($XDG_CACHE_HOME/pyscope/trees/..., lib/gitrev; the developer's checkout is
 * only read), then SCRIPT (its path relative to the repository's top) runs
 * in each, in turns: base, head, base, head ... --rounds times (more, up to
 * --max-rounds, while noise leaves the verdict open), each turn a
 * pyscope-run with --repeat samples. lib/abtest.c decides with the same rules
 * as every other verdict. Output: the terminal section, --json
 * (pyscope.try/1), --junit, --summary-md; exit 1 with --fail-on-regression.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abrun.h"
#include "ci_report.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "farm_cmds.h"
#include "gitrev.h"
#include "hash.h"
#include "log.h"
#include "pathnorm.h"
#include "regress.h"
#include "revision.h"
#include "sanitize.h"
#include "util.h"
#include "xmalloc.h"

extern char **environ;

#define TRY_DEFAULT_ROUNDS 5
#define TRY_DEFAULT_REPEAT 5
/* try_parse(): the arguments are the farm form's (try_farm.c) */
#define TRY_FARM_FORM (-2)

void cli_try_help(FILE *out)
{
    fputs("Usage: pyscope try --base REV --head REV [OPTIONS] SCRIPT [ARGS...]\n"
          "       pyscope try SUITE --base REV --head REV [--hosts SEL] [OPTIONS]  (farm)\n"
          "\n"
          "Is revision HEAD slower than BASE? In a git checkout: both revisions are checked\n"
          "out read-only into pyscope's cache ($XDG_CACHE_HOME/pyscope/trees; your checkout\n"
          "is only read), then SCRIPT (its path in the repository) runs in each, in turns:\n"
          "base head, head base, base head..., so that the machine's drift hits both alike\n"
          "and neither side always goes first. Each pair of turns is compared (a paired\n"
          "99% interval); the script's input is /dev/null.\n"
          "\n"
          "Options:\n"
          "  --base REV, --head REV  the revisions (branch, tag, hash, HEAD~3...)\n"
          "  --repo PATH             the repository (default: the checkout of the current\n"
          "                          folder)\n"
          "  --rounds N              base/head pairs first (1 to 50, default 5; a verdict\n"
          "                          on times needs 3 or more, equal instruction counts 2)\n"
          "  --max-rounds N          while the verdict is inconclusive because of noise, add\n"
          "                          pairs up to N (default 3 x --rounds; = --rounds: never)\n"
          "  --repeat N              measured runs of each turn (default 5)\n"
          "  --warmup N              unmeasured runs first in each turn (default 0)\n"
          "  --timeout SECONDS       of each run (default none)\n"
          "  --threshold PCT         smallest change that counts (default 5)\n"
          "  --instructions          also count each run's instructions under valgrind\n"
          "                          (about 25x slower): an \"instructions\" verdict, exact\n"
          "                          when each side counts the same every run, and it is the\n"
          "                          try's decision whatever the load; needs valgrind\n"
          "  --json                  print pyscope.try/1 JSON (on an error exit: a document\n"
          "                          with \"status\": \"error\", \"exit\" and \"error\")\n"
          "  --junit FILE, --summary-md FILE   CI outputs (as pyscope compare)\n"
          "  --fail-on-regression    exit 1 when the script's time, memory or instructions\n"
          "                          regressed (a hotspot function's alone does not)\n"
          "  -q, --quiet             no progress lines\n"
          "\n"
          "Exit status: 0 ok, 1 regression with --fail-on-regression, 2 usage error (unknown\n"
          "revision, script missing at a revision) or pyscope-run refused (no valgrind, or a\n"
          "valgrind that failed on its own: not the revision's fault), 3 the script failed,\n"
          "4 internal error.\n"
          "\n"
          "The farm form (SUITE.ini, runs on the farm's hosts): pyscope try SUITE --help.\n",
          out);
}

struct try_args {
    const char *base, *head, *repo;
    struct abrun_args ab;
    struct abrun_outputs out;
    char **script_argv; /* SCRIPT ARGS... */
};

static int try_parse(int argc, char **argv, struct try_args *a)
{
    enum { O_BASE = 256, O_HEAD, O_REPO, O_HOSTS, O_INSTRUCTIONS };
    static const struct option opts[] = {
        {"base", required_argument, NULL, O_BASE},
        {"head", required_argument, NULL, O_HEAD},
        {"repo", required_argument, NULL, O_REPO},
        {"instructions", no_argument, NULL, O_INSTRUCTIONS},
        ABRUN_OUTPUT_OPTIONS,
        {"hosts", required_argument, NULL, O_HOSTS},
        ABRUN_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    abrun_args_init(&a->ab, TRY_DEFAULT_ROUNDS, TRY_DEFAULT_REPEAT);
    opterr = 0;
    optind = 1;
    int c, rc;
    /* "+": options stop at the script; what follows is the script's */
    while ((c = getopt_long(argc, argv, "+:hq", opts, NULL)) != -1) {
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
            return TRY_FARM_FORM;
        case O_INSTRUCTIONS:
            a->ab.instructions = true;
            break;
        case 'h':
            cli_try_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            if (abrun_parse_output(c, optarg, &a->out))
                break;
            if ((rc = abrun_parse_opt("try", c, optarg, &a->ab)) >= 0) {
                if (rc)
                    return rc;
                break;
            }
            if (strncmp(prev, "--coordinator", 13) == 0 || strncmp(prev, "--secret-key", 12) == 0)
                return TRY_FARM_FORM; /* options only the farm form has */
            return cli_option_error("try", c, prev);
        }
    }
    abrun_args_finish(&a->ab);
    if (optind < argc) {
        /* a suite file: the farm form, pyscope try SUITE ... (try_farm.c) */
        size_t len = strlen(argv[optind]);
        if (len > 4 && strcmp(argv[optind] + len - 4, ".ini") == 0)
            return TRY_FARM_FORM;
    }
    if (!a->base || !a->head) {
        for (int i = optind + 1; i < argc; i++)
            if (strcmp(argv[i], "--base") == 0 || strcmp(argv[i], "--head") == 0)
                return cli_usage_error("try", "options go before SCRIPT (what follows SCRIPT "
                                              "is its own arguments): pyscope try --base REV "
                                              "--head REV SCRIPT [ARGS...]");
        return cli_usage_error("try", "--base REV and --head REV are both needed");
    }
    if (optind >= argc)
        return cli_usage_error("try", "which script? (pyscope try --base REV --head REV "
                                      "SCRIPT [ARGS...])");
    a->script_argv = argv + optind;
    return -1; /* go on */
}

/* The document for CI outputs: the head's identity, the verdicts. */
static json_t *try_ci_doc(const struct abrun_side *head, const json_t *regression)
{
    json_t *d = json_object();
    const json_t *doc = head->docs[0];
    static const char *const keep[] = {"id", "created", "script", "host", "python", "status"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(doc, keep[i]);
        if (v)
            json_object_set(d, keep[i], v);
    }
    json_object_set(d, "regression", (json_t *)regression);
    return d;
}

/*
 * Both sides of a try checked out in rr's cache ac: the script's path in the repository as
 * *key (new), a's base and head resolved into side[0] and side[1] and checked out. Returns
 * 0, or the exit status (the error said).
 */
static int try_checkouts(const struct try_args *a, struct revision_repo *rr, struct abrun_cache *ac,
                         struct abrun_side *side, char **key)
{
    char err[1024];
    char *abs = realpath(a->script_argv[0], NULL);
    if (!abs || pathnorm_key(abs, rr->path, key) < 0 || !*key) {
        int status = cli_usage_error("try", "script \"%s\" %s", a->script_argv[0],
                                     abs ? "is not inside the repository" : "does not exist");
        free(abs);
        return status;
    }
    free(abs);
    const char *revs[2] = {a->base, a->head};
    for (int i = 0; i < 2; i++) {
        if (revision_resolve(rr, revs[i], side[i].hash, err, sizeof(err)) < 0)
            return cli_usage_error("try", "%s", err);
    }
    int status = abrun_cache_open(ac, rr);
    if (status)
        return status;
    for (int i = 0; i < 2; i++) {
        int rc = abrun_checkout(rr, ac, &side[i], *key, err, sizeof(err));
        if (rc > 0)
            return cli_usage_error("try", "%s", err);
        if (rc < 0) {
            log_error("%s", err);
            return PYSCOPE_EXIT_INTERNAL;
        }
    }
    (void)gitrev_cache_clean(&rr->o, &ac->c, err, sizeof(err));
    return 0;
}

/* The try's result res (borrowed) of r rounds of script key on side[0..2): the
 * pyscope.try/1 document (--json) or the check in words, then the CI files. Returns the exit
 * status. */
static int try_output(const struct try_args *a, const struct abrun_side *side, const char *key,
                      json_t *res, long r)
{
    int status = PYSCOPE_EXIT_OK;
    const char *revs[2] = {a->base, a->head};
    json_t *revisions = json_object();
    for (int i = 0; i < 2; i++)
        json_object_set_new(revisions, side[i].label,
                            json_pack("{s:s, s:s, s:I}", "rev", revs[i], "hash", side[i].hash,
                                      "runs", (json_int_t)side[i].n_docs));
    json_t *out =
        json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:O}", "schema", "pyscope.try/1",
                  "pyscope_version", PYSCOPE_VERSION, "script", key, "revisions", revisions,
                  "rounds", (json_int_t)r, "repeat", (json_int_t)a->ab.repeat, "regression", res);
    if (a->out.json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        puts(text);
        free(text);
    } else {
        char *bs = sanitize_dup(a->base, 0), *hs = sanitize_dup(a->head, 0);
        printf("pyscope try: %s, base %s (%.12s) vs head %s (%.12s), %ld rounds x %ld runs, "
               "interleaved\n\n",
               key, bs, side[0].hash, hs, side[1].hash, r, a->ab.repeat);
        free(bs);
        free(hs);
        regress_print(stdout, res, cli_color_enabled(CLI_COLOR_AUTO, STDOUT_FILENO));
    }
    json_decref(out);
    json_t *ci = try_ci_doc(&side[1], res);
    if (abrun_write_ci(&a->out, (const json_t *const *)&ci, 1))
        status = PYSCOPE_EXIT_INTERNAL;
    json_decref(ci);
    if (!status && a->out.fail_on_regression && regress_has_regression(res))
        status = PYSCOPE_EXIT_REGRESSION;
    return status;
}

int cli_try_main(int argc, char **argv)
{
    log_keep_errors(true); /* for --json's error document (cli_json_error) */
    struct try_args a;
    int rc = try_parse(argc, argv, &a);
    if (rc == TRY_FARM_FORM)
        return try_farm_main(argc, argv);
    if (rc > PYSCOPE_EXIT_REGRESSION && (a.out.json || cli_argv_json(argc, argv)))
        return cli_json_error("pyscope.try/1", rc);
    if (rc >= 0)
        return rc;
    char err[1024];
    struct revision_repo rr;
    struct abrun_side side[2] = {{.label = "base", .lock = -1}, {.label = "head", .lock = -1}};
    struct abrun_cache ac = {0};
    char *runner = NULL, *key = NULL;
    json_t *res = NULL;
    if (revision_repo_open(&rr, a.repo, err, sizeof(err)) < 0 || !rr.path || rr.is_mirror) {
        if (!rr.path || rr.is_mirror)
            snprintf(err, sizeof(err),
                     "pyscope try runs in a git checkout (or give --repo "
                     "PATH of one)");
        revision_repo_close(&rr);
        rc = cli_usage_error("try", "%s", err);
        return a.out.json ? cli_json_error("pyscope.try/1", rc) : rc;
    }
    bool printed = false; /* the pyscope.try/1 document (--json) */
    int status = try_checkouts(&a, &rr, &ac, side, &key);
    if (status)
        goto out;
    bool use_path = false;
    runner = cli_find_runner(&use_path, err, sizeof(err));
    if (!runner) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
        goto out;
    }
    struct regress_options opt;
    abrun_regress_options(&a.ab, &opt);
    struct abrun_opts ao = {.cmd = "try",
                            .args = &a.ab,
                            .script_argv = a.script_argv,
                            .ropt = &opt,
                            .quiet = a.out.quiet,
                            .runner = runner,
                            .runner_on_path = use_path};
    long r = 0;
    int failed;
    status = abrun_rounds(&ao, side, &res, &r, &failed);
    if (status == 0) {
        status = try_output(&a, side, key, res, r);
        printed = true;
    }
out:
    if (a.out.json && !printed && status > PYSCOPE_EXIT_REGRESSION)
        cli_json_error("pyscope.try/1", status);
    json_decref(res);
    for (int i = 0; i < 2; i++)
        abrun_side_release(&side[i]);
    free(runner);
    free(key);
    abrun_cache_close(&ac);
    revision_repo_close(&rr);
    return status;
}
