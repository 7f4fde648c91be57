/*
 * compare.c - "pyscope compare": regression verdicts between saved reports.
 *
 *   pyscope compare [OPTIONS] BASELINE.json CANDIDATE.json
 *   pyscope compare [OPTIONS] --baseline 'GLOB' CANDIDATE.json [CANDIDATE.json...]
 *
 * Each candidate is compared with lib/regress (regress_compare: the same
 * verdicts as `pyscope run`) against the baseline reports of the same script
 * key; when the baseline set holds a single script and the candidate is
 * another one, all of it is used, with a note (comparing two versions of a
 * script kept under two names). Every given baseline report is used (no
 * newest-10 cap: the user chose them), oldest first by "created".
 *
 * Output: the terminal section per candidate, or --json (pyscope.compare/1 on
 * stdout), plus --html FILE, --junit FILE, --summary-md FILE. A missing,
 * corrupt or foreign file (not pyscope.run/1 or pyscope.report/1) is a usage
 * error naming the file: exit 2. With --fail-on-regression a regression
 * exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci_report.h"
#include "cli.h"
#include "config.h"
#include "errors.h"
#include "flamediff.h"
#include "jsonutil.h"
#include "history.h"
#include "html_compare.h"
#include "log.h"
#include "regress.h"
#include "util.h"
#include "sanitize.h"
#include "xmalloc.h"

#define COMPARE_MAX_FILES 10000

enum {
    CMP_OPT_BASELINE = 256,
    CMP_OPT_THRESHOLD,
    CMP_OPT_JSON,
    CMP_OPT_HTML,
    CMP_OPT_JUNIT,
    CMP_OPT_SUMMARY_MD,
    CMP_OPT_FAIL,
    CMP_OPT_COLOR,
};

static const struct option compare_long_options[] = {
    {"baseline", required_argument, NULL, CMP_OPT_BASELINE},
    {"threshold", required_argument, NULL, CMP_OPT_THRESHOLD},
    {"json", no_argument, NULL, CMP_OPT_JSON},
    {"html", required_argument, NULL, CMP_OPT_HTML},
    {"junit", required_argument, NULL, CMP_OPT_JUNIT},
    {"summary-md", required_argument, NULL, CMP_OPT_SUMMARY_MD},
    {"fail-on-regression", no_argument, NULL, CMP_OPT_FAIL},
    {"color", required_argument, NULL, CMP_OPT_COLOR},
    {"colour", required_argument, NULL, CMP_OPT_COLOR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One loaded report. */
struct cmp_doc {
    char *path;  /* owned */
    json_t *doc; /* owned */
};

struct cmp_set {
    struct cmp_doc *v;
    size_t n;
};

struct cmp_args {
    const char *globs[64]; /* --baseline patterns (borrowed) */
    size_t n_globs;
    double threshold_pct; /* < 0: pyscope.ini, else 5 */
    bool json;
    const char *html;
    const char *junit;
    const char *summary_md;
    bool fail_on_regression;
    enum cli_color color;
    char **files; /* positional (borrowed) */
    size_t n_files;
};

void cli_compare_help(FILE *out)
{
    fputs("Usage: pyscope compare [OPTIONS] BASELINE.json CANDIDATE.json\n"
          "       pyscope compare [OPTIONS] --baseline 'GLOB' CANDIDATE.json...\n"
          "\n"
          "Compare saved reports (pyscope.report/1 or pyscope.run/1, e.g. from\n"
          "reports/json/) with the same statistics and verdicts as `pyscope run`: each\n"
          "candidate against the baseline reports of the same script.\n"
          "\n"
          "Options:\n"
          "  --baseline GLOB         baseline reports (a quoted glob such as\n"
          "                          'reports/json/*.json'; repeatable); then every FILE\n"
          "                          is a candidate. Reports of the candidate itself are\n"
          "                          left out of its baseline\n"
          "  --threshold PCT         smallest change that counts, in percent (default:\n"
          "                          pyscope.ini of the current project, else 5)\n"
          "  --json                  print the comparison as JSON (pyscope.compare/1)\n"
          "  --html FILE             write a self-contained HTML page to FILE\n"
          "  --junit FILE            write the verdicts as JUnit XML to FILE\n"
          "  --summary-md FILE       write a Markdown summary to FILE (default: appended to\n"
          "                          $GITHUB_STEP_SUMMARY when that is set)\n"
          "  --fail-on-regression    exit 1 when the script's time, memory or instructions\n"
          "                          regressed (a hotspot function's alone does not)\n"
          "  --color auto|always|never\n"
          "  -h, --help              show this help\n"
          "\n"
          "Examples:\n"
          "  pyscope compare reports/json/old.json reports/json/new.json\n"
          "  pyscope compare --baseline 'main-reports/*.json' --fail-on-regression \\\n"
          "      reports/json/*.json\n"
          "\n"
          "Exit status: 0 ok, 1 regression (with --fail-on-regression), 2 usage error or a\n"
          "missing, corrupt or foreign report file, 4 an output file could not be written.\n",
          out);
}

/* Parse argv; -1 to go on, else the exit status (reported). */
static int cmp_parse_args(int argc, char **argv, struct cmp_args *a)
{
    memset(a, 0, sizeof(*a));
    a->threshold_pct = -1;
    a->color = CLI_COLOR_AUTO;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", compare_long_options, NULL)) != -1) {
        const char *prev = argv[optind - 1];
        switch (c) {
        case CMP_OPT_BASELINE:
            if (!*optarg)
                return cli_usage_error("compare", "invalid value for --baseline: empty");
            if (a->n_globs == sizeof(a->globs) / sizeof(a->globs[0]))
                return cli_usage_error("compare", "too many --baseline options");
            a->globs[a->n_globs++] = optarg;
            break;
        case CMP_OPT_THRESHOLD:
            if (config_parse_threshold(optarg, &a->threshold_pct) < 0)
                return cli_usage_error("compare", CLI_THRESHOLD_ERROR, optarg);
            break;
        case CMP_OPT_JSON:
            a->json = true;
            break;
        case CMP_OPT_HTML:
        case CMP_OPT_JUNIT:
        case CMP_OPT_SUMMARY_MD:
            if (!*optarg)
                return cli_usage_error("compare", "invalid value for %s: empty", prev);
            *(c == CMP_OPT_HTML    ? &a->html
              : c == CMP_OPT_JUNIT ? &a->junit
                                   : &a->summary_md) = optarg;
            break;
        case CMP_OPT_FAIL:
            a->fail_on_regression = true;
            break;
        case CMP_OPT_COLOR:
            if (cli_parse_color(optarg, &a->color) < 0)
                return cli_usage_error(
                    "compare",
                    "invalid value for --color: \"%s\" (expected auto, always or "
                    "never)",
                    optarg);
            break;
        case 'h':
            cli_compare_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            return cli_option_error("compare", c, prev);
        }
    }
    a->files = argv + optind;
    a->n_files = (size_t)(argc - optind);
    if (a->n_globs == 0 && a->n_files != 2)
        return cli_usage_error("compare",
                               "expected BASELINE.json CANDIDATE.json (or --baseline 'GLOB' "
                               "CANDIDATE.json...), got %zu file%s",
                               a->n_files, a->n_files == 1 ? "" : "s");
    if (a->n_globs > 0 && a->n_files == 0)
        return cli_usage_error("compare", "no candidate report given");
    /* an output that cannot be written is said before the comparison, not after */
    const char *outs[] = {a->html, a->junit, a->summary_md};
    for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
        int rc = cli_check_out_file("compare", "file", outs[i]);
        if (rc)
            return rc;
    }
    return -1;
}

static void cmp_set_release(struct cmp_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].path);
        json_decref(s->v[i].doc);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Load path into s; 0 or exit status 2 (reported). */
static int cmp_load(struct cmp_set *s, const char *path)
{
    char err[256] = "";
    json_t *doc;
    int rc = history_load_file(path, &doc, err, sizeof(err));
    if (rc < 0) {
        log_error("could not use report \"%s\": %s", path, err[0] ? err : pyscope_strerror(rc));
        if (rc == -PYSCOPE_ESCHEMA)
            fputs("pyscope compare reads pyscope.report/1 (reports/json/*.json) and "
                  "pyscope.run/1 files.\n",
                  stderr);
        return PYSCOPE_EXIT_USAGE;
    }
    s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
    s->v[s->n].path = xstrdup(path);
    s->v[s->n].doc = doc;
    s->n++;
    return 0;
}

static const char *cmp_get(const json_t *doc, const char *obj, const char *key)
{
    return json_string_value(json_object_get(obj ? json_object_get(doc, obj) : doc, key));
}

static int cmp_by_created(const void *pa, const void *pb)
{
    const struct cmp_doc *a = pa, *b = pb;
    const char *ca = cmp_get(a->doc, NULL, "created"), *cb = cmp_get(b->doc, NULL, "created");
    int r = strcmp(ca ? ca : "", cb ? cb : "");
    return r ? r : strcmp(a->path, b->path);
}

/* Expand the --baseline globs into s; 0 or exit status 2 (reported). */
static int cmp_load_globs(const struct cmp_args *a, struct cmp_set *s)
{
    for (size_t g = 0; g < a->n_globs; g++) {
        glob_t gl;
        int rc = glob(a->globs[g], 0, NULL, &gl);
        if (rc == GLOB_NOMATCH) {
            globfree(&gl);
            log_error("no file matches --baseline '%s'", a->globs[g]);
            return PYSCOPE_EXIT_USAGE;
        }
        if (rc != 0) {
            globfree(&gl);
            log_error("could not expand --baseline '%s'", a->globs[g]);
            return PYSCOPE_EXIT_USAGE;
        }
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            if (s->n >= COMPARE_MAX_FILES) {
                globfree(&gl);
                log_error("too many baseline files (at most %d)", COMPARE_MAX_FILES);
                return PYSCOPE_EXIT_USAGE;
            }
            rc = cmp_load(s, gl.gl_pathv[i]);
            if (rc) {
                globfree(&gl);
                return rc;
            }
        }
        globfree(&gl);
    }
    return 0;
}

/* True when every document of s has the same script key (or s is empty). */
static bool cmp_single_script(const struct cmp_set *s)
{
    const char *k0 = s->n ? cmp_get(s->v[0].doc, "script", "key") : NULL;
    for (size_t i = 1; i < s->n; i++) {
        const char *k = cmp_get(s->v[i].doc, "script", "key");
        if (!k0 || !k || strcmp(k0, k) != 0)
            return false;
    }
    return true;
}

static bool cmp_same_str(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/*
 * The differential flame graph of the candidate (borrowed) against the n
 * baseline docs (borrowed), pruned, as JSON (lib/flamediff); NULL when
 * either side has no stacks.
 */
static json_t *cmp_flame_diff(const json_t *cand, const json_t *const *docs, size_t n)
{
    struct flame_diff *fd = flame_diff_new();
    flame_diff_add_report(fd, FLAME_CAND, cand);
    for (size_t i = 0; i < n; i++)
        flame_diff_add_report(fd, FLAME_BASE, docs[i]);
    json_t *out = NULL;
    if (flame_diff_runs(fd, FLAME_CAND) && flame_diff_runs(fd, FLAME_BASE)) {
        flame_diff_prune(fd, FLAME_DIFF_MIN_SHARE, FLAME_DIFF_MAX_NODES);
        out = flame_diff_to_json(fd);
    }
    flame_diff_destroy(&fd);
    return out;
}

/*
 * Compare one candidate with base; returns a new "comparisons" item. With
 * flame, *flame gets the item's differential flame graph (new, or NULL).
 */
static json_t *cmp_one(const struct cmp_doc *cand, const struct cmp_set *base,
                       const struct regress_options *opt, json_t **flame)
{
    const char *key = cmp_get(cand->doc, "script", "key");
    const char *id = cmp_get(cand->doc, NULL, "id");
    const json_t **docs = xcalloc(base->n ? base->n : 1, sizeof(*docs));
    json_t *files = json_array();
    size_t n = 0;
    bool single = cmp_single_script(base);
    bool any_same = false;
    for (size_t i = 0; i < base->n; i++)
        if (cmp_same_str(key, cmp_get(base->v[i].doc, "script", "key")))
            any_same = true;
    const char *note = NULL;
    if (!any_same && single && base->n)
        note = "the baseline reports are of another script; compared anyway";
    /* the profiling mode is part of the series, as in `pyscope run`: a report of the
     * other mode is left out (trace mode slows calls and adds memory) */
    const char *mode = history_mode(cand->doc), *other = NULL;
    size_t other_mode = 0;
    for (size_t i = 0; i < base->n; i++) {
        const json_t *d = base->v[i].doc;
        if (cmp_same_str(id, cmp_get(d, NULL, "id")))
            continue; /* the candidate itself */
        if (any_same && !cmp_same_str(key, cmp_get(d, "script", "key")))
            continue;
        if (strcmp(history_mode(d), mode) != 0) {
            other = history_mode(d);
            other_mode++;
            continue;
        }
        docs[n++] = d;
        json_array_append_new(files, json_string_lossy(base->v[i].path));
    }
    json_t *reg = regress_compare(cand->doc, docs, n, opt);
    if (flame)
        *flame = cmp_flame_diff(cand->doc, docs, n);
    free(docs);
    if (!reg)
        reg = json_null();
    char *mode_msg =
        other_mode ? xasprintf("%s%zu baseline report%s profiled in %s mode %s "
                               "left out (trace mode slows calls and adds memory: "
                               "the modes are separate series)",
                               n ? "" : "no baseline report in this mode: the ", other_mode,
                               other_mode == 1 ? "" : "s", other, other_mode == 1 ? "is" : "are")
                   : NULL;
    if (json_is_object(reg)) {
        if (other_mode)
            json_object_set_new(reg, "other_mode_runs", json_integer((json_int_t)other_mode));
        if (n == 0)
            json_object_set_new(reg, "message",
                                json_string(mode_msg ? mode_msg
                                                     : "no baseline report of this script among "
                                                       "the given files"));
    }
    if (mode_msg && n > 0 && !note)
        note = mode_msg;
    const json_t *host = json_object_get(cand->doc, "host");
    json_t *c = json_pack(
        "{s:{s:o, s:o, s:o, s:o, s:o, s:o}, s:{s:o}, s:o, s:o}", "candidate", "file",
        json_string_lossy(cand->path), "id", id ? json_string(id) : json_null(), "created",
        json_deep_copy(json_object_get(cand->doc, "created")) ?: json_null(), "script",
        key ? json_string(key) : json_null(), "host",
        json_deep_copy(json_object_get(host, "hostname")) ?: json_null(), "fingerprint",
        json_deep_copy(json_object_get(host, "fingerprint")) ?: json_null(), "baseline", "files",
        files, "regression", reg, "note", note ? json_string(note) : json_null());
    free(mode_msg);
    return c;
}

/* A report-like object for cli/ci_report.c from a comparison item (new). */
static json_t *cmp_ci_doc(const json_t *item, const struct cmp_doc *cand)
{
    json_t *d = json_object();
    static const char *const keep[] = {"id", "created", "script", "host", "python", "status"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        json_t *v = json_object_get(cand->doc, keep[i]);
        if (v)
            json_object_set(d, keep[i], v);
    }
    json_object_set(d, "regression", json_object_get(item, "regression"));
    return d;
}

/* Print the terminal report of result. */
static void cmp_print_safe(const json_t *result, bool color)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(result, "comparisons"), i, c)
    {
        const json_t *cand = json_object_get(c, "candidate");
        const json_t *files = json_object_get(json_object_get(c, "baseline"), "files");
        const char *script = cmp_get(cand, NULL, "script");
        const char *created = cmp_get(cand, NULL, "created");
        const char *host = cmp_get(cand, NULL, "host");
        if (i)
            fputc('\n', stdout);
        printf("%s%s%s\n", color ? "\033[1m" : "", script ? script : "(unknown script)",
               color ? "\033[0m" : "");
        printf("Candidate: %s", cmp_get(cand, NULL, "file"));
        if (created)
            printf(" (%s%s%s)", created, host ? ", host " : "", host ? host : "");
        printf("\nBaseline:  %zu report%s", json_array_size(files),
               json_array_size(files) == 1 ? "" : "s");
        if (json_array_size(files) == 1)
            printf(": %s", json_string_value(json_array_get(files, 0)));
        else if (json_array_size(files) > 1)
            printf(", %s … %s", json_string_value(json_array_get(files, 0)),
                   json_string_value(json_array_get(files, json_array_size(files) - 1)));
        fputc('\n', stdout);
        const char *note = cmp_get(c, NULL, "note");
        if (note)
            printf("Note: %s\n", note);
        const json_t *reg = json_object_get(c, "regression");
        if (json_is_object(reg))
            regress_print(stdout, reg, color);
    }
}

/*
 * Load pyscope.ini of the current folder's project into *cfg (empty when
 * none); 0 or exit status 2 (reported).
 */
static int cmp_load_config(struct config *cfg)
{
    config_init(cfg);
    char *ini = config_find(".");
    if (!ini)
        return 0;
    char err[512];
    int rc = config_load_file(ini, cfg, err, sizeof(err));
    free(ini);
    if (rc < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_USAGE;
    }
    return 0;
}

int cli_compare_main(int argc, char **argv)
{
    struct cmp_args a;
    int rc = cmp_parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct cmp_set base = {0}, cands = {0};
    json_t *result = NULL;
    struct config cfg;
    rc = cmp_load_config(&cfg);
    if (rc)
        goto out;
    if (a.n_globs)
        rc = cmp_load_globs(&a, &base);
    else
        rc = cmp_load(&base, a.files[0]);
    for (size_t i = a.n_globs ? 0 : 1; rc == 0 && i < a.n_files; i++)
        rc = cmp_load(&cands, a.files[i]);
    if (rc)
        goto out;
    qsort(base.v, base.n, sizeof(*base.v), cmp_by_created);

    json_t *comps = json_array();
    struct ci_report_tally t = {0};
    json_t **ci_docs = xcalloc(cands.n, sizeof(*ci_docs));
    json_t **flames = xcalloc(cands.n ? cands.n : 1, sizeof(*flames));
    for (size_t i = 0; i < cands.n; i++) {
        struct regress_options opt;
        regress_options_init(&opt);
        opt.max_baseline_runs = 0;
        /* the baseline is what the user gave, whole */
        opt.change_points = false;
        opt.hold_out = false;
        double pct =
            a.threshold_pct > 0
                ? a.threshold_pct
                : config_threshold_pct(&cfg, cmp_get(cands.v[i].doc, "script", "key"), NULL);
        if (pct > 0)
            opt.threshold = pct / 100.0;
        json_t *item = cmp_one(&cands.v[i], &base, &opt, a.html ? &flames[i] : NULL);
        ci_docs[i] = cmp_ci_doc(item, &cands.v[i]);
        json_array_append_new(comps, item);
    }
    ci_report_count((const json_t *const *)ci_docs, cands.n, &t);
    result =
        json_pack("{s:s, s:s, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "schema",
                  "pyscope.compare/1", "pyscope_version", PYSCOPE_VERSION, "threshold_pct",
                  a.threshold_pct > 0 ? json_real(a.threshold_pct) : json_null(), "comparisons",
                  comps, "summary", "regressions", (json_int_t)t.regressions, "hotspot_regressions",
                  (json_int_t)t.hotspot_regressions, "improvements", (json_int_t)t.improvements,
                  "inconclusive", (json_int_t)t.inconclusive, "no_change", (json_int_t)t.no_change,
                  "no_baseline", (json_int_t)t.no_baseline);

    bool internal = false;
    if (a.json) {
        if (json_dumpf(result, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF)
            internal = true;
    } else {
        json_t *safe = sanitize_json_copy(result, 0); /* paths, names, notes from files */
        cmp_print_safe(safe, cli_color_enabled(a.color, STDOUT_FILENO));
        json_decref(safe);
    }
    /* the page also shows where the time went (not part of the JSON) */
    for (size_t i = 0; i < cands.n; i++)
        if (flames[i])
            json_object_set_new(json_array_get(comps, i), "flame_diff", flames[i]);
    free(flames);
    if (a.html && cli_write_html_atomic(a.html, html_compare_write, result, "HTML file") < 0)
        internal = true;
    const char *gh = getenv("GITHUB_STEP_SUMMARY");
    const char *md = a.summary_md ? a.summary_md : (gh && *gh ? gh : NULL);
    char err[512];
    if (a.junit &&
        ci_report_write_file(a.junit, false, CI_REPORT_JUNIT, (const json_t *const *)ci_docs,
                             cands.n, err, sizeof(err)) < 0) {
        log_error("%s", err);
        internal = true;
    }
    if (md && ci_report_write_file(md, !a.summary_md, CI_REPORT_MARKDOWN,
                                   (const json_t *const *)ci_docs, cands.n, err, sizeof(err)) < 0) {
        log_error("%s", err);
        internal = true;
    }
    for (size_t i = 0; i < cands.n; i++)
        json_decref(ci_docs[i]);
    free(ci_docs);
    if (fflush(stdout) == EOF) {
        log_error("could not write to standard output: %s", strerror(errno));
        internal = true;
    }
    if (internal)
        rc = PYSCOPE_EXIT_INTERNAL;
    else if (a.fail_on_regression && t.regressions > 0)
        rc = PYSCOPE_EXIT_REGRESSION;
    else
        rc = PYSCOPE_EXIT_OK;
out:
    config_release(&cfg);
    json_decref(result);
    cmp_set_release(&base);
    cmp_set_release(&cands);
    return rc;
}
