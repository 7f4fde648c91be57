/*
 * try.c - "pyscope try --base REV --head REV SCRIPT": is the head revision
 * slower than the base, on this machine? (docs/revisions.md)
 *
 * Both revisions are checked out read-only into the CLI's revision cache
 * ($XDG_CACHE_HOME/pyscope/trees/..., lib/gitrev; the developer's checkout is
 * only read), then SCRIPT (its path relative to the repository's top) runs
 * in each, in turns: base, head, base, head ... --rounds times (more, up to
 * --max-rounds, while noise leaves the verdict open), each turn a
 * pyscope-run with --repeat samples. lib/abtest decides with the same rules
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

#include "abtest.h"
#include "ci_report.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
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
/* The farm form is not built (docs/revisions.md, "pyscope try"). */
#define TRY_FARM_ERROR                                                                             \
    "the farm form (pyscope try SUITE --hosts ...) is not available yet: run pyscope try "         \
    "--base REV --head REV SCRIPT on a host, or submit the suite once per revision (pyscope "      \
    "submit SUITE --commit REV) and read pyscope history --order commit"

void cli_try_help(FILE *out)
{
    fputs("Usage: pyscope try --base REV --head REV [OPTIONS] SCRIPT [ARGS...]\n"
          "\n"
          "Is revision HEAD slower than BASE? In a git checkout: both revisions are checked\n"
          "out read-only into pyscope's cache ($XDG_CACHE_HOME/pyscope/trees; your checkout\n"
          "is only read), then SCRIPT (its path in the repository) runs in each, in turns:\n"
          "base, head, base, head..., so that the machine's drift hits both alike. The\n"
          "verdict per metric uses the same statistics as pyscope run and compare.\n"
          "\n"
          "Options:\n"
          "  --base REV, --head REV  the revisions (branch, tag, hash, HEAD~3...)\n"
          "  --repo PATH             the repository (default: the checkout of the current\n"
          "                          folder)\n"
          "  --rounds N              base/head pairs first (default 5, at least 3 for a\n"
          "                          verdict)\n"
          "  --max-rounds N          while the verdict is inconclusive because of noise, add\n"
          "                          pairs up to N (default 3 x --rounds; = --rounds: never)\n"
          "  --repeat N              measured runs of each turn (default 5)\n"
          "  --warmup N              unmeasured runs first in each turn (default 0)\n"
          "  --timeout SECONDS       of each run (default none)\n"
          "  --threshold PCT         smallest change that counts (default 5)\n"
          "  --json                  print pyscope.try/1 JSON\n"
          "  --junit FILE, --summary-md FILE   CI outputs (as pyscope compare)\n"
          "  --fail-on-regression    exit 1 when a metric regressed\n"
          "  -q, --quiet             no progress lines\n"
          "\n"
          "Exit status: 0 ok, 1 regression with --fail-on-regression, 2 usage error (unknown\n"
          "revision, script missing at a revision), 3 the script failed, 4 internal error.\n",
          out);
}

struct try_args {
    const char *base, *head, *repo, *timeout, *junit, *summary_md;
    long rounds, max_rounds, repeat, warmup; /* max_rounds < 0: 3 x rounds */
    double threshold_pct;
    bool json, fail_on_regression, quiet;
    char **script_argv; /* SCRIPT ARGS... */
};

struct try_side {
    const char *label; /* "base" or "head" */
    char hash[GITREV_HASH_MAX + 1];
    char *tree;    /* the read-only checkout */
    int lock;      /* its cache lock */
    char *script;  /* the script's path in the tree */
    json_t **docs; /* the runs measured, in order */
    size_t n_docs;
};

static int try_parse(int argc, char **argv, struct try_args *a)
{
    enum {
        O_BASE = 256,
        O_HEAD,
        O_REPO,
        O_ROUNDS,
        O_MAX_ROUNDS,
        O_REPEAT,
        O_WARMUP,
        O_TIMEOUT,
        O_THRESH,
        O_JSON,
        O_JUNIT,
        O_MD,
        O_FAIL,
        O_HOSTS
    };
    static const struct option opts[] = {
        {"base", required_argument, NULL, O_BASE},
        {"head", required_argument, NULL, O_HEAD},
        {"repo", required_argument, NULL, O_REPO},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {"max-rounds", required_argument, NULL, O_MAX_ROUNDS},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"threshold", required_argument, NULL, O_THRESH},
        {"json", no_argument, NULL, O_JSON},
        {"junit", required_argument, NULL, O_JUNIT},
        {"summary-md", required_argument, NULL, O_MD},
        {"fail-on-regression", no_argument, NULL, O_FAIL},
        {"hosts", required_argument, NULL, O_HOSTS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    a->rounds = TRY_DEFAULT_ROUNDS;
    a->max_rounds = -1;
    a->repeat = TRY_DEFAULT_REPEAT;
    opterr = 0;
    optind = 1;
    int c;
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
        case O_ROUNDS:
            if (cli_parse_long(optarg, 1, 100, &a->rounds) < 0)
                return cli_usage_error("try", "invalid value for --rounds: \"%s\" (1 to 100)",
                                       optarg);
            break;
        case O_MAX_ROUNDS:
            if (cli_parse_long(optarg, 1, 300, &a->max_rounds) < 0)
                return cli_usage_error("try", "invalid value for --max-rounds: \"%s\" (1 to 300)",
                                       optarg);
            break;
        case O_REPEAT:
            if (cli_parse_long(optarg, 1, 1000, &a->repeat) < 0)
                return cli_usage_error("try", "invalid value for --repeat: \"%s\" (1 to 1000)",
                                       optarg);
            break;
        case O_WARMUP:
            if (cli_parse_long(optarg, 0, 100, &a->warmup) < 0)
                return cli_usage_error("try", "invalid value for --warmup: \"%s\" (0 to 100)",
                                       optarg);
            break;
        case O_TIMEOUT:
            a->timeout = optarg;
            break;
        case O_THRESH:
            if (config_parse_threshold(optarg, &a->threshold_pct) < 0)
                return cli_usage_error("try", CLI_THRESHOLD_ERROR, optarg);
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_JUNIT:
            a->junit = optarg;
            break;
        case O_MD:
            a->summary_md = optarg;
            break;
        case O_FAIL:
            a->fail_on_regression = true;
            break;
        case O_HOSTS:
            return cli_usage_error("try", TRY_FARM_ERROR);
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            cli_try_help(stdout);
            return PYSCOPE_EXIT_OK;
        case ':':
            return cli_usage_error("try", "option %s needs a value", prev);
        default:
            return cli_usage_error("try", "unknown option \"%s\"", prev);
        }
    }
    if (a->max_rounds < 0)
        a->max_rounds = 3 * a->rounds;
    if (a->max_rounds < a->rounds)
        a->max_rounds = a->rounds;
    if (optind < argc) {
        /* the farm form, pyscope try SUITE ... [--hosts ...], is not built (docs/revisions.md) */
        size_t len = strlen(argv[optind]);
        bool farm = len > 4 && strcmp(argv[optind] + len - 4, ".ini") == 0;
        if (farm)
            return cli_usage_error("try", TRY_FARM_ERROR);
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

/* Check out side's commit (fetched from the checkout into the cache). */
static int try_checkout(const struct revision_repo *rr, const struct gitrev_cache *c,
                        struct try_side *s, char *err, size_t errlen)
{
    int rc = gitrev_cache_fetch(&rr->o, c, s->hash, err, errlen);
    if (rc < 0)
        return rc;
    s->lock = gitrev_cache_lock(c, s->hash, err, errlen);
    if (s->lock < 0)
        return s->lock;
    return gitrev_cache_checkout(&rr->o, c, s->hash, &s->tree, err, errlen);
}

/* Run the runner once for side s; appends its document. Returns 0, or an exit status. */
static int try_turn(const struct try_args *a, const char *runner, bool use_path, struct try_side *s)
{
    char tmpl[] = "/tmp/pyscope-try-XXXXXX";
    const char *td = getenv("TMPDIR");
    char *path = xasprintf("%s/pyscope-try-XXXXXX", td && *td ? td : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        path = xstrdup(tmpl);
        fd = mkstemp(path);
    }
    if (fd < 0) {
        log_error("could not make a temporary file: %s", strerror(errno));
        free(path);
        return PYSCOPE_EXIT_INTERNAL;
    }
    close(fd);
    size_t n_script = 0;
    while (a->script_argv[n_script])
        n_script++;
    char **argv = xcalloc(n_script + 20, sizeof(*argv));
    size_t i = 0;
    char rep[16], warm[16];
    snprintf(rep, sizeof(rep), "%ld", a->repeat);
    snprintf(warm, sizeof(warm), "%ld", a->warmup);
    argv[i++] = (char *)runner;
    argv[i++] = "--root";
    argv[i++] = s->tree;
    argv[i++] = "--repeat";
    argv[i++] = rep;
    argv[i++] = "--warmup";
    argv[i++] = warm;
    if (a->timeout) {
        argv[i++] = "--timeout";
        argv[i++] = (char *)a->timeout;
    }
    argv[i++] = "--output";
    argv[i++] = path;
    argv[i++] = "--";
    argv[i++] = s->script;
    for (size_t k = 1; k < n_script; k++)
        argv[i++] = a->script_argv[k];
    argv[i] = NULL;
    /* the script's output is not ours: it goes to stderr (stdout stays the verdict) */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid;
    int rc = use_path ? posix_spawnp(&pid, runner, &fa, NULL, argv, environ)
                      : posix_spawn(&pid, runner, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    int st = 0, status = 0;
    if (rc != 0) {
        log_error("could not run %s: %s", runner, strerror(rc));
        status = PYSCOPE_EXIT_INTERNAL;
    } else {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        json_error_t jerr;
        json_t *doc = code == 0 ? json_load_file(path, 0, &jerr) : NULL;
        if (code == 0 && doc) {
            s->docs = xrealloc(s->docs, (s->n_docs + 1) * sizeof(*s->docs));
            s->docs[s->n_docs++] = doc;
        } else {
            log_error("the script failed at the %s revision %.12s (pyscope-run exit status %d)",
                      s->label, s->hash, code);
            status = code == PYSCOPE_EXIT_SCRIPT || code == PYSCOPE_EXIT_TIMEOUT
                         ? PYSCOPE_EXIT_SCRIPT
                         : PYSCOPE_EXIT_INTERNAL;
        }
    }
    unlink(path);
    free(path);
    return status;
}

/*
 * Whether res's decision is open for want of runs: inconclusive because the
 * change is within the noise, not significant or its interval spans no change
 * (more pairs narrow all three). Inconclusive for other reasons, or decided: no.
 */
static bool try_open(const json_t *res)
{
    const json_t *d = json_object_get(res, "decision");
    const char *v = json_string_value(json_object_get(d, "verdict"));
    const char *rule = json_string_value(json_object_get(d, "rule"));
    if (!v || strcmp(v, "inconclusive") != 0 || !rule)
        return false;
    return strcmp(rule, regress_rule_name(REGRESS_RULE_WITHIN_NOISE)) == 0 ||
           strcmp(rule, regress_rule_name(REGRESS_RULE_NOT_SIGNIFICANT)) == 0 ||
           strcmp(rule, regress_rule_name(REGRESS_RULE_CI_SPANS_ZERO)) == 0;
}

/* The document for CI outputs: the head's identity, the verdicts. */
static json_t *try_ci_doc(const struct try_side *head, const json_t *regression)
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

static void try_side_release(struct try_side *s)
{
    for (size_t i = 0; i < s->n_docs; i++)
        json_decref(s->docs[i]);
    free(s->docs);
    free(s->tree);
    free(s->script);
    if (s->lock >= 0)
        close(s->lock);
}

int cli_try_main(int argc, char **argv)
{
    struct try_args a;
    int rc = try_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    char err[1024];
    struct revision_repo rr;
    struct try_side side[2] = {{.label = "base", .lock = -1}, {.label = "head", .lock = -1}};
    int status = PYSCOPE_EXIT_OK;
    char *runner = NULL, *key = NULL, *cache_dir = NULL;
    json_t *res = NULL, *out = NULL;
    if (revision_repo_open(&rr, a.repo, err, sizeof(err)) < 0 || !rr.path || rr.is_mirror) {
        if (!rr.path || rr.is_mirror)
            snprintf(err, sizeof(err),
                     "pyscope try runs in a git checkout (or give --repo "
                     "PATH of one)");
        revision_repo_close(&rr);
        return cli_usage_error("try", "%s", err);
    }
    /* the script's path in the repository */
    char *abs = realpath(a.script_argv[0], NULL);
    if (!abs || pathnorm_key(abs, rr.path, &key) < 0 || !key) {
        status = cli_usage_error("try", "script \"%s\" %s", a.script_argv[0],
                                 abs ? "is not inside the repository" : "does not exist");
        free(abs);
        goto out;
    }
    free(abs);
    const char *revs[2] = {a.base, a.head};
    for (int i = 0; i < 2; i++) {
        if (revision_resolve(&rr, revs[i], side[i].hash, err, sizeof(err)) < 0) {
            status = cli_usage_error("try", "%s", err);
            goto out;
        }
    }
    /* the cache: per repository, under $XDG_CACHE_HOME/pyscope/trees */
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char id[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(rr.path, strlen(rr.path), id);
    cache_dir = xdg && xdg[0] == '/'
                    ? xasprintf("%s/pyscope/trees/%.16s", xdg, id)
                    : xasprintf("%s/.cache/pyscope/trees/%.16s", home ? home : "/tmp", id);
    if (cli_mkdir_p(cache_dir, 0700) < 0) {
        log_error("could not make \"%s\": %s", cache_dir, strerror(errno));
        status = PYSCOPE_EXIT_INTERNAL;
        goto out;
    }
    struct gitrev_cache c = {.dir = cache_dir,
                             .origin = rr.path,
                             .max_bytes = 2ull * 1024 * 1024 * 1024,
                             .max_age_s = 7 * 86400.0};
    struct gitrev_opts o = rr.o;
    o.safe_dir = rr.path;
    rr.o = o;
    for (int i = 0; i < 2; i++) {
        if (try_checkout(&rr, &c, &side[i], err, sizeof(err)) < 0) {
            log_error("%s", err);
            status = PYSCOPE_EXIT_INTERNAL;
            goto out;
        }
        side[i].script = xasprintf("%s/%s", side[i].tree, key);
        struct stat st;
        if (stat(side[i].script, &st) < 0 || !S_ISREG(st.st_mode)) {
            status = cli_usage_error("try", "\"%s\" does not exist at the %s revision %.12s", key,
                                     side[i].label, side[i].hash);
            goto out;
        }
    }
    (void)gitrev_cache_clean(&rr.o, &c, err, sizeof(err));
    bool use_path = false;
    runner = cli_find_runner(&use_path, err, sizeof(err));
    if (!runner) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
        goto out;
    }
    /* interleaved: base, head, base, head ...; more pairs while noise leaves it open */
    struct regress_options opt;
    regress_options_init(&opt);
    if (a.threshold_pct > 0)
        opt.threshold = a.threshold_pct / 100.0;
    long r = 0, goal = a.rounds;
    for (;;) {
        for (; r < goal; r++) {
            for (int i = 0; i < 2; i++) {
                if (!a.quiet)
                    fprintf(stderr, "pyscope try: round %ld of %ld%s: %s %.12s\n", r + 1, goal,
                            goal > a.rounds ? " (more, the verdict was open)" : "", side[i].label,
                            side[i].hash);
                status = try_turn(&a, runner, use_path, &side[i]);
                if (status)
                    goto out;
            }
        }
        json_decref(res);
        res = abtest_compare((const json_t *const *)side[0].docs, side[0].n_docs,
                             (const json_t *const *)side[1].docs, side[1].n_docs, &opt);
        if (r >= a.max_rounds || !try_open(res))
            break;
        goal = r + (a.rounds + 1) / 2 < a.max_rounds ? r + (a.rounds + 1) / 2 : a.max_rounds;
    }
    json_t *revisions = json_object();
    for (int i = 0; i < 2; i++)
        json_object_set_new(revisions, side[i].label,
                            json_pack("{s:s, s:s, s:I}", "rev", revs[i], "hash", side[i].hash,
                                      "runs", (json_int_t)side[i].n_docs));
    out = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:O}", "schema", "pyscope.try/1",
                    "pyscope_version", PYSCOPE_VERSION, "script", key, "revisions", revisions,
                    "rounds", (json_int_t)r, "repeat", (json_int_t)a.repeat, "regression", res);
    if (a.json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        puts(text);
        free(text);
    } else {
        char *bs = sanitize_dup(a.base, 0), *hs = sanitize_dup(a.head, 0);
        printf("pyscope try: %s, base %s (%.12s) vs head %s (%.12s), %ld rounds x %ld runs, "
               "interleaved\n\n",
               key, bs, side[0].hash, hs, side[1].hash, r, a.repeat);
        free(bs);
        free(hs);
        regress_print(stdout, res, cli_color_enabled(CLI_COLOR_AUTO, STDOUT_FILENO));
    }
    json_t *ci = try_ci_doc(&side[1], res);
    const char *gh = getenv("GITHUB_STEP_SUMMARY");
    const char *md = a.summary_md ? a.summary_md : (gh && *gh ? gh : NULL);
    if (a.junit && ci_report_write_file(a.junit, false, CI_REPORT_JUNIT, (const json_t *const *)&ci,
                                        1, err, sizeof(err)) < 0) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
    }
    if (md && ci_report_write_file(md, !a.summary_md, CI_REPORT_MARKDOWN,
                                   (const json_t *const *)&ci, 1, err, sizeof(err)) < 0) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
    }
    json_decref(ci);
    if (!status && a.fail_on_regression && regress_has_regression(res))
        status = PYSCOPE_EXIT_REGRESSION;
out:
    json_decref(out);
    json_decref(res);
    for (int i = 0; i < 2; i++)
        try_side_release(&side[i]);
    free(runner);
    free(key);
    free(cache_dir);
    revision_repo_close(&rr);
    return status;
}
