/*
 * abrun.c - interleaved A/B runs at two revisions, decided by lib/abtest.c
 * (abrun.h, docs/revisions.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abrun.h"
#include "abtest.h"
#include "ci_report.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "hash.h"
#include "history.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

extern char **environ;

void abrun_args_init(struct abrun_args *a, long rounds, long repeat)
{
    memset(a, 0, sizeof(*a));
    a->rounds = rounds;
    a->max_rounds = -1;
    a->repeat = repeat;
}

int abrun_parse_opt(const char *cmd, int c, const char *arg, struct abrun_args *a)
{
    static const struct {
        const char *name;
        long min, max;
    } n[] = {/* --rounds: the farm's range too (a farm try's pairs are jobs in its queue) */
             {"rounds", 1, WIRE_MAX_TRY_ROUNDS},
             {"max-rounds", 1, 300},
             {"repeat", 1, 1000},
             {"warmup", 0, 100}};
    long *v[] = {&a->rounds, &a->max_rounds, &a->repeat, &a->warmup};
    int i = c - ABRUN_O_FIRST;
    if (i < 0 || i > 5)
        return -1;
    if (i == 4) {
        a->timeout = arg;
    } else if (i == 5) {
        if (config_parse_threshold(arg, &a->threshold_pct) < 0)
            return cli_usage_error(cmd, CLI_THRESHOLD_ERROR, arg);
    } else if (cli_parse_long(arg, n[i].min, n[i].max, v[i]) < 0) {
        return cli_usage_error(cmd, "invalid value for --%s: \"%s\" (%ld to %ld)", n[i].name, arg,
                               n[i].min, n[i].max);
    }
    return 0;
}

bool abrun_parse_output(int c, const char *arg, struct abrun_outputs *o)
{
    switch (c) {
    case ABRUN_O_OUTPUTS:
        o->json = true;
        return true;
    case ABRUN_O_OUTPUTS + 1:
        o->junit = arg;
        return true;
    case ABRUN_O_OUTPUTS + 2:
        o->summary_md = arg;
        return true;
    case ABRUN_O_OUTPUTS + 3:
        o->fail_on_regression = true;
        return true;
    case 'q':
        o->quiet = true;
        return true;
    default:
        return false;
    }
}

int abrun_write_ci(const struct abrun_outputs *o, const json_t *const *ci, size_t n)
{
    char err[4096];
    int status = 0;
    const char *gh = getenv("GITHUB_STEP_SUMMARY");
    const char *md = o->summary_md ? o->summary_md : (gh && *gh ? gh : NULL);
    if (o->junit &&
        ci_report_write_file(o->junit, false, CI_REPORT_JUNIT, ci, n, err, sizeof(err)) < 0) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
    }
    if (md &&
        ci_report_write_file(md, !o->summary_md, CI_REPORT_MARKDOWN, ci, n, err, sizeof(err)) < 0) {
        log_error("%s", err);
        status = PYSCOPE_EXIT_INTERNAL;
    }
    return status;
}

void abrun_args_finish(struct abrun_args *a)
{
    if (a->max_rounds < 0)
        a->max_rounds = 3 * a->rounds;
    if (a->max_rounds < a->rounds)
        a->max_rounds = a->rounds;
}

void abrun_regress_options(const struct abrun_args *a, struct regress_options *ropt)
{
    regress_options_init(ropt);
    if (a->threshold_pct > 0)
        ropt->threshold = a->threshold_pct / 100.0;
    if (a->instructions) {
        /* the user chose the counts: they decide, whatever the load (lib/regress.h) */
        ropt->decide_metric = HISTORY_METRIC_INSTRUCTIONS;
        ropt->decide_by = "--instructions";
    }
}

int abrun_cache_open(struct abrun_cache *ac, struct revision_repo *rr)
{
    memset(ac, 0, sizeof(*ac));
    /* per repository, under $XDG_CACHE_HOME/pyscope/trees */
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char id[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(rr->path, strlen(rr->path), id);
    ac->dir = xdg && xdg[0] == '/'
                  ? xasprintf("%s/pyscope/trees/%.16s", xdg, id)
                  : xasprintf("%s/.cache/pyscope/trees/%.16s", home ? home : "/tmp", id);
    if (cli_mkdir_p(ac->dir, 0700) < 0) {
        log_error("could not make \"%s\": %s", ac->dir, strerror(errno));
        return PYSCOPE_EXIT_INTERNAL;
    }
    ac->c = (struct gitrev_cache){.dir = ac->dir,
                                  .origin = rr->path,
                                  .max_bytes = 2ull * 1024 * 1024 * 1024,
                                  .max_age_s = 7 * 86400.0};
    rr->o.safe_dir = rr->path;
    return 0;
}

void abrun_cache_close(struct abrun_cache *ac)
{
    free(ac->dir);
    ac->dir = NULL;
}

int abrun_checkout(const struct revision_repo *rr, const struct abrun_cache *ac,
                   struct abrun_side *s, const char *key, char *err, size_t errlen)
{
    int rc = gitrev_cache_fetch(&rr->o, &ac->c, s->hash, err, errlen);
    if (rc < 0)
        return rc;
    if (s->lock >= 0)
        close(s->lock);
    s->lock = gitrev_cache_lock(&ac->c, s->hash, err, errlen);
    if (s->lock < 0)
        return s->lock;
    free(s->tree);
    s->tree = NULL;
    rc = gitrev_cache_checkout(&rr->o, &ac->c, s->hash, &s->tree, err, errlen);
    if (rc < 0)
        return rc;
    free(s->script);
    s->script = xasprintf("%s/%s", s->tree, key);
    struct stat st;
    if (stat(s->script, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "\"%s\" does not exist at the %s revision %.12s", key, s->label,
                 s->hash);
        return 1;
    }
    return 0;
}

/* Run the runner once for side s; appends its document. Returns 0, or an exit status. */
static int abrun_turn(const struct abrun_opts *o, struct abrun_side *s)
{
    const char *td = getenv("TMPDIR");
    char *path = xasprintf("%s/pyscope-%s-XXXXXX", td && *td ? td : "/tmp", o->cmd);
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        path = xasprintf("/tmp/pyscope-%s-XXXXXX", o->cmd);
        fd = mkstemp(path);
    }
    if (fd < 0) {
        log_error("could not make a temporary file: %s", strerror(errno));
        free(path);
        return PYSCOPE_EXIT_INTERNAL;
    }
    close(fd);
    size_t n_script = 0;
    while (o->script_argv[n_script])
        n_script++;
    char **argv = xcalloc(n_script + 20, sizeof(*argv));
    size_t i = 0;
    char rep[24], warm[24];
    snprintf(rep, sizeof(rep), "%ld", o->args->repeat);
    snprintf(warm, sizeof(warm), "%ld", o->args->warmup);
    argv[i++] = (char *)o->runner;
    argv[i++] = "--root";
    argv[i++] = s->tree;
    argv[i++] = "--repeat";
    argv[i++] = rep;
    argv[i++] = "--warmup";
    argv[i++] = warm;
    if (o->args->timeout) {
        argv[i++] = "--timeout";
        argv[i++] = (char *)o->args->timeout;
    }
    if (o->args->instructions)
        argv[i++] = "--instructions"; /* the document's instructions.counts, one per run */
    argv[i++] = "--output";
    argv[i++] = path;
    argv[i++] = "--";
    argv[i++] = s->script;
    for (size_t k = 1; k < n_script; k++)
        argv[i++] = o->script_argv[k];
    argv[i] = NULL;
    /* the script's output is not ours: it goes to stderr (stdout stays the verdict); its
     * input is /dev/null in every turn, so that no turn reads what another did not (piped
     * input would feed the first turn only, a terminal would wait for a key) */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = o->runner_on_path ? posix_spawnp(&pid, o->runner, &fa, NULL, argv, environ)
                               : posix_spawn(&pid, o->runner, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    int st = 0, status = 0;
    if (rc != 0) {
        log_error("could not run %s: %s", o->runner, strerror(rc));
        status = PYSCOPE_EXIT_INTERNAL;
    } else {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        json_error_t jerr;
        json_t *doc = code == 0 ? json_load_file(path, 0, &jerr) : NULL;
        if (code == 0 && doc) {
            /* valgrind counts the script's own process: say once a side that forked */
            bool said = false;
            for (size_t k = 0; k < s->n_docs; k++)
                said |= history_instructions_children(s->docs[k]);
            if (!said && history_instructions_children(doc))
                log_warn("at the %s revision %.12s, " HISTORY_INSTRUCTIONS_CHILDREN_NOTE, s->label,
                         s->hash);
            s->docs = xrealloc(s->docs, (s->n_docs + 1) * sizeof(*s->docs));
            s->docs[s->n_docs++] = doc;
        } else if (code == PYSCOPE_EXIT_USAGE || code == PYSCOPE_EXIT_UNAVAILABLE) {
            /* pyscope-run refused (it said why: a bad option, or no working valgrind for
             * --instructions): not the revision's fault */
            log_error("pyscope-run refused to run the %s revision %.12s (exit status %d: see its "
                      "message above)",
                      s->label, s->hash, code);
            status = PYSCOPE_EXIT_USAGE;
        } else if (code == PYSCOPE_EXIT_TIMEOUT) {
            log_error("the script ran past --timeout %s at the %s revision %.12s",
                      o->args->timeout ? o->args->timeout : "?", s->label, s->hash);
            status = PYSCOPE_EXIT_SCRIPT;
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
 * Whether res's decision (or metric's verdict, when metric is not NULL) is open for want
 * of runs: inconclusive because the change is within the noise, not significant, or its
 * interval spans no change or reaches beyond the threshold (more pairs narrow all four).
 * Inconclusive for other reasons, or decided: no.
 */
static bool abrun_open(const json_t *res, const char *metric)
{
    const json_t *d = json_object_get(res, "decision");
    if (metric) {
        size_t i;
        const json_t *m;
        d = NULL;
        json_array_foreach(json_object_get(res, "metrics"), i, m)
        {
            if (!json_object_get(m, "function") &&
                strcmp(json_get_string(m, "metric", ""), metric) == 0)
                d = m;
        }
    }
    const char *v = json_string_value(json_object_get(d, "verdict"));
    const char *rule = json_string_value(json_object_get(d, "rule"));
    if (!v || strcmp(v, "inconclusive") != 0 || !rule)
        return false;
    return strcmp(rule, regress_rule_name(REGRESS_RULE_WITHIN_NOISE)) == 0 ||
           strcmp(rule, regress_rule_name(REGRESS_RULE_NOT_SIGNIFICANT)) == 0 ||
           strcmp(rule, regress_rule_name(REGRESS_RULE_CI_SPANS_ZERO)) == 0 ||
           strcmp(rule, regress_rule_name(REGRESS_RULE_CI_BEYOND_THRESHOLD)) == 0;
}

int abrun_rounds(const struct abrun_opts *o, struct abrun_side side[2], json_t **res, long *rounds,
                 int *failed)
{
    /* interleaved and counterbalanced: a b, b a, a b, b a ...; the i-th turns of the
     * two sides are a pair (lib/abtest.c), and which goes first alternates, so that
     * whatever favours the first (or second) turn of a pair (a neighbour's periodic
     * load, a cache the first turn warms, a drift over the try) adds noise to the
     * pairs' ratios, not a bias. More pairs while noise leaves it open. */
    long r = 0, goal = o->args->rounds;
    *res = NULL;
    *failed = -1;
    for (;;) {
        for (; r < goal; r++) {
            for (int k = 0; k < 2; k++) {
                int i = r % 2 ? 1 - k : k;
                if (!o->quiet)
                    fprintf(stderr, "pyscope %s: round %ld of %ld%s: %s %.12s\n", o->cmd, r + 1,
                            goal, goal > o->args->rounds ? " (more, the verdict was open)" : "",
                            side[i].label, side[i].hash);
                int status = abrun_turn(o, &side[i]);
                if (status) {
                    *failed = i;
                    *rounds = r;
                    json_decref(*res);
                    *res = NULL;
                    return status;
                }
            }
        }
        json_decref(*res);
        *res = abtest_compare((const json_t *const *)side[0].docs, side[0].n_docs,
                              (const json_t *const *)side[1].docs, side[1].n_docs, o->ropt);
        if (r >= o->args->max_rounds || !abrun_open(*res, o->metric))
            break;
        goal = r + (o->args->rounds + 1) / 2 < o->args->max_rounds ? r + (o->args->rounds + 1) / 2
                                                                   : o->args->max_rounds;
    }
    *rounds = r;
    return 0;
}

void abrun_side_clear(struct abrun_side *s)
{
    for (size_t i = 0; i < s->n_docs; i++)
        json_decref(s->docs[i]);
    free(s->docs);
    s->docs = NULL;
    s->n_docs = 0;
}

void abrun_side_release(struct abrun_side *s)
{
    abrun_side_clear(s);
    free(s->tree);
    free(s->script);
    s->tree = s->script = NULL;
    if (s->lock >= 0)
        close(s->lock);
    s->lock = -1;
}
