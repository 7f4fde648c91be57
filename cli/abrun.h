/*
 * abrun.h - interleaved A/B runs of a script at two revisions of a git
 * checkout, decided by lib/abtest.c (docs/revisions.md). Shared by
 * `pyscope try` (one A/B) and `pyscope bisect` (one A/B per step), so that
 * both decide a step exactly alike.
 *
 * Each side is a read-only checkout of one commit in the CLI's revision
 * cache ($XDG_CACHE_HOME/pyscope/trees/REPO-ID, lib/gitrev; the developer's
 * checkout is only read). A round is one pyscope-run of each side (A then
 * B), each with --repeat samples; abrun_rounds() runs --rounds of them and
 * adds pairs, up to --max-rounds, while the verdict is open for want of runs.
 */
#ifndef PYSCOPE_CLI_ABRUN_H
#define PYSCOPE_CLI_ABRUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gitrev.h"
#include "regress.h"
#include "revision.h"

/* The options of the A/B runs that try and bisect share, as parsed. */
struct abrun_args {
    long rounds, max_rounds, repeat, warmup; /* max_rounds: 3 x rounds unless given */
    const char *timeout;                     /* borrowed, or NULL */
    double threshold_pct;                    /* 0: the default */
    bool instructions; /* count each run's instructions under valgrind (pyscope-run --instructions)
                        */
};

/* Their getopt_long entries (values ABRUN_O_FIRST...): put in a command's option table. */
#define ABRUN_O_FIRST 1000
#define ABRUN_OPTIONS                                                                              \
    {"rounds", required_argument, NULL, ABRUN_O_FIRST},                                            \
        {"max-rounds", required_argument, NULL, ABRUN_O_FIRST + 1},                                \
        {"repeat", required_argument, NULL, ABRUN_O_FIRST + 2},                                    \
        {"warmup", required_argument, NULL, ABRUN_O_FIRST + 3},                                    \
        {"timeout", required_argument, NULL, ABRUN_O_FIRST + 4},                                   \
    {                                                                                              \
        "threshold", required_argument, NULL, ABRUN_O_FIRST + 5                                    \
    }

/* The outputs of an A/B's verdict that the two forms of pyscope try share (try.c, the local
 * form, and try_farm.c, the farm's), as parsed: --json, --junit, --summary-md,
 * --fail-on-regression, -q. */
struct abrun_outputs {
    const char *junit, *summary_md; /* borrowed, or NULL */
    bool json, fail_on_regression, quiet;
};

/* Their getopt_long entries: put in a command's option table (with "q" in its short
 * options). */
#define ABRUN_O_OUTPUTS (ABRUN_O_FIRST + 10)
#define ABRUN_OUTPUT_OPTIONS                                                                       \
    {"json", no_argument, NULL, ABRUN_O_OUTPUTS},                                                  \
        {"junit", required_argument, NULL, ABRUN_O_OUTPUTS + 1},                                   \
        {"summary-md", required_argument, NULL, ABRUN_O_OUTPUTS + 2},                              \
        {"fail-on-regression", no_argument, NULL, ABRUN_O_OUTPUTS + 3},                            \
    {                                                                                              \
        "quiet", no_argument, NULL, 'q'                                                            \
    }

/* Take getopt_long's c (with arg) when it is one of ABRUN_OUTPUT_OPTIONS: true when taken. */
bool abrun_parse_output(int c, const char *arg, struct abrun_outputs *o);

/*
 * Write the CI outputs o asks for of the n documents ci (cli/ci_report.h): --junit, and
 * --summary-md or else $GITHUB_STEP_SUMMARY (appended to). Returns 0, or
 * PYSCOPE_EXIT_INTERNAL when one could not be written (said).
 */
int abrun_write_ci(const struct abrun_outputs *o, const json_t *const *ci, size_t n);

/* Defaults: rounds and repeat as given, no warmup, max_rounds open. */
void abrun_args_init(struct abrun_args *a, long rounds, long repeat);

/*
 * Take getopt_long's c (with arg) when it is one of ABRUN_OPTIONS. Returns -1
 * when it is not, 0 when taken, or the usage error's exit status (said, cmd
 * naming the command).
 */
int abrun_parse_opt(const char *cmd, int c, const char *arg, struct abrun_args *a);

/* After the options: max_rounds defaults to 3 x rounds, and is never below rounds. */
void abrun_args_finish(struct abrun_args *a);

/* The statistics' options a asks for (regress_options_init, --threshold; with
 * a->instructions the counts decide: decide_metric, decide_by "--instructions"). */
void abrun_regress_options(const struct abrun_args *a, struct regress_options *ropt);

/* How each A/B is measured; everything borrowed. */
struct abrun_opts {
    const char *cmd;                    /* "try" or "bisect": progress lines start with it */
    const struct abrun_args *args;      /* rounds, repeat ... */
    char *const *script_argv;           /* SCRIPT ARGS...: SCRIPT is replaced by the side's */
    const struct regress_options *ropt; /* the statistics' options */
    bool quiet;                         /* no progress lines */
    const char *runner;                 /* pyscope-run (cli_find_runner) */
    bool runner_on_path;                /* runner is looked up on PATH */
    const char *metric; /* the verdict whose noise asks for more pairs; NULL: the decision's */
};

/* One side of an A/B: a commit, its tree, its runs. */
struct abrun_side {
    const char *label; /* borrowed: "base", "head", "good", "test" ... */
    char hash[GITREV_HASH_MAX + 1];
    char *tree;    /* owned: the read-only checkout */
    int lock;      /* its cache lock (-1: none) */
    char *script;  /* owned: the script's path in the tree */
    json_t **docs; /* owned: the runs measured, in order */
    size_t n_docs;
};

/* The revision cache of repository rr (everything owned but c->origin, rr's). */
struct abrun_cache {
    char *dir;
    struct gitrev_cache c;
};

/* Set up the cache of rr (made when missing). Returns 0, or an exit status (logged). */
int abrun_cache_open(struct abrun_cache *ac, struct revision_repo *rr);
void abrun_cache_close(struct abrun_cache *ac);

/*
 * Check out s->hash (set by the caller) and find key (the script's path in
 * the repository) in it. Returns 0, 1 when the script is not a file at that
 * commit (err says so), or a negative code with err (git failed).
 */
int abrun_checkout(const struct revision_repo *rr, const struct abrun_cache *ac,
                   struct abrun_side *s, const char *key, char *err, size_t errlen);

/* Forget s's runs (its tree stays). */
void abrun_side_clear(struct abrun_side *s);
void abrun_side_release(struct abrun_side *s);

/*
 * Run rounds of a (side[0]) then b (side[1]) until abtest decides or
 * max_rounds are done; *res gets the "regression" object (new), *rounds the
 * pairs measured. Returns 0, or an exit status when a run failed:
 * PYSCOPE_EXIT_SCRIPT (the script failed at that side: *failed says which,
 * 0 or 1) or PYSCOPE_EXIT_INTERNAL.
 */
int abrun_rounds(const struct abrun_opts *o, struct abrun_side side[2], json_t **res, long *rounds,
                 int *failed);

#endif
