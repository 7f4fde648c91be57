/*
 * submit.c - "pyscope submit SUITE": send a suite to the farm, optionally wait.
 *
 * The suite file is parsed and validated here (cli/suite.c) so mistakes are
 * reported with their line before anything is sent. With --wait the batch is
 * polled (Query KIND_BATCH) once a second until the coordinator says it is
 * done, then summarized.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "farm_cmds.h"
#include "log.h"
#include "util.h"
#include "progress.h"
#include "pyreq.h"
#include "revision.h"
#include "sanitize.h"
#include "suite.h"
#include "xmalloc.h"

void cmd_submit_help(FILE *out)
{
    fputs("Usage: pyscope submit SUITE [OPTIONS]\n"
          "\n"
          "Send the suite file SUITE (docs/suite-format.md) to the coordinator, which makes\n"
          "one job per script and selected host. Prints the batch id.\n"
          "\n"
          "Options:\n"
          "  --hosts SEL          all | NAME,NAME,... | KEY=VALUE[,KEY=VALUE...] (host labels,\n"
          "                       all must match); default: the suite's hosts, else all\n"
          "  --repeat N           measured runs of every script (overrides the suite)\n"
          "  --python LIST        the Pythons to run every script under, one job per Python\n"
          "                       and host: versions (3.12, 3.12.1) or interpreter paths,\n"
          "                       comma-separated (overrides the suite's python =); only\n"
          "                       hosts whose agents have one get its jobs, and a Python\n"
          "                       no selected host has is refused (docs/pythons.md)\n"
          "  --label TEXT         batch label (e.g. \"nightly 2026-11-24\")\n"
          "  --commit REV         run every job at this commit: REV (a branch, tag, hash,\n"
          "                       HEAD~2...) is resolved to a full hash here, in --repo or\n"
          "                       the git checkout of the current folder; agents check it\n"
          "                       out read-only (their repo = setting)\n"
          "  --repo PATH|URL      the repository --commit is resolved in (a URL is fetched\n"
          "                       into $XDG_CACHE_HOME/pyscope/repos)\n"
          "  --instructions       also count each repeat's instructions under valgrind on\n"
          "                       the agents (cachegrind, ~25-50x slower runs): the\n"
          "                       analysis decides them too, and a bisection of a\n"
          "                       regression on them decides on them; an agent without\n"
          "                       valgrind refuses the jobs\n"
          "  --wait               wait until the batch is done and analysed (confirmation\n"
          "                       runs included) and print a summary; on a terminal a\n"
          "                       status line shows the jobs done so far\n"
          "  -q, --quiet          no status line or \"waiting\" message on stderr\n"
          "  --json               print the coordinator's JSON\n" FARM_OPTIONS_HELP "\n"
          "Exit status: 0 ok, 2 usage or invalid suite (also a host or Python the farm does\n"
          "not have), 3 (with --wait) a job did not end ok, 4 the coordinator could not be\n"
          "reached or failed.\n",
          out);
}

int submit_hosts(const char *sel, struct wire_host_selector *hs, char **buf, const char ***names,
                 struct wire_label **labels)
{
    memset(hs, 0, sizeof(*hs));
    if (!sel || strcmp(sel, "all") == 0) {
        hs->all = true;
        return 0;
    }
    *buf = xstrdup(sel);
    size_t n = 1;
    for (const char *c = sel; *c; c++)
        n += *c == ',';
    bool kv = strchr(sel, '=') != NULL;
    *names = xcalloc(n, sizeof(char *));
    *labels = xcalloc(n, sizeof(struct wire_label));
    char *p = *buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *item = cli_trim(p);
        if (!*item)
            return -PYSCOPE_EUSAGE;
        if (kv) {
            char *eq = strchr(item, '=');
            if (!eq || eq == item)
                return -PYSCOPE_EUSAGE;
            *eq = '\0';
            (*labels)[hs->n_labels++] = (struct wire_label){cli_trim(item), cli_trim(eq + 1)};
        } else {
            (*names)[hs->n_names++] = item;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    hs->names = *names;
    hs->labels = *labels;
    return 0;
}

struct wire_suite_entry *submit_suite_entries(const struct suite *s, char *const *pythons,
                                              size_t n_pythons, uint32_t repeat, size_t *n)
{
    /* one entry per script and Python: --python's list, else the script's python = */
    size_t n_ents = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        size_t np = n_pythons ? n_pythons : s->entries[i].n_pythons;
        n_ents += np ? np : 1;
    }
    struct wire_suite_entry *ents = xcalloc(n_ents, sizeof(*ents));
    size_t k = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        struct suite_entry *e = &s->entries[i];
        size_t np = n_pythons ? n_pythons : e->n_pythons;
        for (size_t j = 0; j < (np ? np : 1); j++, k++) {
            ents[k] = (struct wire_suite_entry){
                .script = e->script,
                .n_args = e->n_args,
                .args = (const char *const *)e->args,
                .repeat = repeat ? repeat : e->repeat,
                .warmup = e->warmup,
                .mode = e->mode == SUITE_MODE_TRACE ? WIRE_MODE_TRACE : WIRE_MODE_SAMPLE,
                .timeout_s = e->timeout_s,
                .threshold = e->threshold,
                .instructions = e->instructions,
                .interval_us = e->interval_us,
                .n_env = e->n_env,
                .env = (const char *const *)e->env,
                .python = !np         ? ""
                          : n_pythons ? pythons[j]
                                      : e->pythons[j],
            };
        }
    }
    *n = n_ents;
    return ents;
}

/* --python's list of Python requests (lib/pyreq.h). */
struct py_list {
    char **v;
    size_t n;
};

/* Split and check --python LIST into *out. Returns 0, or -PYSCOPE_EUSAGE (said). */
static int submit_pythons(const char *list, struct py_list *out)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save)) {
        char why[160];
        if (pyreq_check(t, why, sizeof(why)) < 0) {
            log_error("--python: \"%s\" is %s", t, why);
            rc = -PYSCOPE_EUSAGE;
        } else if (out->n == SUITE_MAX_PYTHONS) {
            log_error("--python: at most %d Pythons", SUITE_MAX_PYTHONS);
            rc = -PYSCOPE_EUSAGE;
        } else {
            out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
            out->v[out->n++] = xstrdup(t);
        }
    }
    free(copy);
    if (rc == 0 && out->n == 0) {
        log_error("--python is empty: give a version (3.12) or a list (3.12,3.13)");
        rc = -PYSCOPE_EUSAGE;
    }
    return rc;
}

/* How long --wait waits for the analysis of a batch whose jobs have ended. */
#define SUBMIT_ANALYSIS_WAIT_S 600

/*
 * True when the batch document says its jobs have ended; *analysed tells
 * whether its analysis has too (true from a coordinator that does not say).
 * The analysis may re-queue jobs to confirm a change and reopen the batch, so
 * a batch is final only once it is done and analysed.
 */
static bool submit_batch_done(const json_t *doc, bool *analysed)
{
    const json_t *b = json_object_get(doc, "batch");
    if (!json_is_object(b))
        b = doc;
    const json_t *an = json_object_get(b, "analyzed");
    *analysed = !json_is_boolean(an) || json_is_true(an);
    const char *st = json_string_value(json_object_get(b, "state"));
    if (st)
        return strcmp(st, "done") == 0 || strcmp(st, "finished") == 0;
    return json_is_true(json_object_get(b, "done"));
}

/* "batch 7: 12/40 jobs done, 2 running, 1 failed" on the status line, from a batch answer. */
static void submit_progress(struct progress *line, uint64_t batch, const json_t *doc)
{
    const json_t *b = json_object_get(doc, "batch");
    const json_t *j = json_object_get(json_is_object(b) ? b : doc, "jobs");
    json_int_t total = json_integer_value(json_object_get(j, "total"));
    json_int_t done = json_integer_value(json_object_get(j, "done"));
    json_int_t failed = json_integer_value(json_object_get(j, "failed"));
    json_int_t leased = json_integer_value(json_object_get(j, "leased"));
    progress_set(line,
                 "pyscope: batch %llu: %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT
                 " jobs done, %" JSON_INTEGER_FORMAT " running%s",
                 (unsigned long long)batch, done + failed, total, leased,
                 failed ? ", some failed" : "");
}

/* Jobs (array, borrowed) that failed or whose latest run did not end "ok". */
static size_t submit_count_bad(const json_t *jobs)
{
    size_t bad = 0, i;
    const json_t *v;
    json_array_foreach(jobs, i, v)
    {
        const char *oc = json_string_value(json_object_get(v, "outcome"));
        const char *st = json_string_value(json_object_get(v, "state"));
        if ((st && strcmp(st, "failed") == 0) || !oc || strcmp(oc, "ok") != 0)
            bad++;
    }
    return bad;
}

/* pyscope submit's command line. */
struct submit_args {
    const char *path; /* the suite file */
    const char *hosts, *label, *commit, *repo, *python;
    struct farm_opts fo;
    uint64_t repeat;
    bool wait, json, quiet, instructions;
};

/* Parse argv into *a. -1 to go on, else the exit status (--help, or a usage error said). */
static int submit_parse_args(int argc, char **argv, struct submit_args *a)
{
    enum {
        O_HOSTS = 256,
        O_REPEAT,
        O_LABEL,
        O_COMMIT,
        O_WAIT,
        O_JSON,
        O_REPO,
        O_PYTHON,
        O_INSTRUCTIONS
    };
    static const struct option opts[] = {
        {"hosts", required_argument, NULL, O_HOSTS},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"python", required_argument, NULL, O_PYTHON},
        {"label", required_argument, NULL, O_LABEL},
        {"commit", required_argument, NULL, O_COMMIT},
        {"repo", required_argument, NULL, O_REPO},
        {"wait", no_argument, NULL, O_WAIT},
        {"json", no_argument, NULL, O_JSON},
        {"instructions", no_argument, NULL, O_INSTRUCTIONS},
        {"quiet", no_argument, NULL, 'q'},
        FARM_LONG_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    farm_opts_init(&a->fo);
    int c, taken;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            a->quiet = true;
            break;
        case O_HOSTS:
            a->hosts = optarg;
            break;
        case O_REPEAT:
            if (farm_parse_u64(optarg, WIRE_MAX_REPEAT, &a->repeat) < 0) {
                log_error("--repeat takes a whole number from 1 to 1000, not \"%s\"", optarg);
                return PYSCOPE_EXIT_USAGE;
            }
            break;
        case O_LABEL:
            a->label = optarg;
            break;
        case O_PYTHON:
            a->python = optarg;
            break;
        case O_COMMIT:
            a->commit = optarg;
            break;
        case O_REPO:
            a->repo = optarg;
            break;
        case O_WAIT:
            a->wait = true;
            break;
        case O_JSON:
            a->json = true;
            break;
        case O_INSTRUCTIONS:
            a->instructions = true;
            break;
        case 'h':
            cmd_submit_help(stdout);
            return PYSCOPE_EXIT_OK;
        default:
            taken = farm_opts_handle(&a->fo, c, optarg);
            if (taken < 0)
                return PYSCOPE_EXIT_USAGE;
            if (taken == 0)
                return cli_option_error("submit", c, argv[optind - 1]);
            break;
        }
    }
    if (optind != argc - 1) {
        log_error(optind >= argc ? "submit needs a suite file" : "submit takes one suite file");
        fputs("Usage: pyscope submit SUITE [OPTIONS]\n", stderr);
        return PYSCOPE_EXIT_USAGE;
    }
    a->path = argv[optind];
    return -1;
}

/* --commit resolved here, in --repo or the current folder's checkout (the agents run exactly
 * this commit): its full hash into hash, its ancestors into *commits (for the wire). -1 to go
 * on, else the exit status (said). */
static int submit_resolve_commit(const struct submit_args *a, struct revision_repo *rr,
                                 struct revision_commits *commits, char hash[GITREV_HASH_MAX + 1])
{
    char err[4096];
    int rc = revision_repo_open(rr, a->repo, err, sizeof(err));
    if (rc == 0)
        rc = revision_resolve(rr, a->commit, hash, err, sizeof(err));
    if (rc == 0)
        rc = revision_describe(rr, hash, NULL, 0, REVISION_ANCESTORS, commits, err, sizeof(err));
    if (rc < 0) {
        log_error("%s", err);
        return rc == -PYSCOPE_ENODATA || rc == -PYSCOPE_EUSAGE ? PYSCOPE_EXIT_USAGE
                                                               : PYSCOPE_EXIT_INTERNAL;
    }
    revision_commits_wire(commits);
    return -1;
}

/* Send m; the batch id and its job count into *batch and *jobs. -1 when queued, else the
 * exit status (said). */
static int submit_send(struct farm_opts *fo, struct wire_msg *m, uint64_t *batch, uint32_t *jobs)
{
    char err[4096];
    struct wire_msg *r = NULL;
    if (farm_request(fo, m, &r, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return PYSCOPE_EXIT_INTERNAL;
    }
    int status = -1;
    if (r->type == WIRE_SUBMIT_REPLY) {
        *batch = r->submit_reply.batch_id;
        *jobs = r->submit_reply.jobs;
    } else if (r->type == WIRE_ERROR && r->error.code == WIRE_ERROR_MALFORMED) {
        /* an unknown host name, a bad entry: the input is wrong, not PyScope (the message
         * says what; "malformed", the code, would only mislead) */
        log_error("the coordinator refused the suite: %s", r->error.message);
        status = PYSCOPE_EXIT_USAGE;
    } else if (r->type == WIRE_ERROR) {
        log_error("the coordinator refused the suite (%s): %s", wire_error_code_name(r->error.code),
                  r->error.message);
        status = PYSCOPE_EXIT_INTERNAL;
    } else {
        log_error("unexpected answer from the coordinator: %s", wire_type_name(r->type));
        status = PYSCOPE_EXIT_INTERNAL;
    }
    wire_msg_destroy(&r);
    return status;
}

/* " at commit 0123456789ab \"subject\"" for the messages, or "" without --commit. */
static void submit_at_commit(const char *hash, const struct revision_commits *commits, char *at,
                             size_t len)
{
    *at = '\0';
    if (!*hash)
        return;
    const struct gitrev_commit *gc = revision_find(commits, hash);
    char *subject = gc ? sanitize_dup(gc->subject, 0) : NULL;
    if (subject)
        sanitize_ellipsize(subject, 60);
    snprintf(at, len, " at commit %.12s%s%s%s", hash, subject ? " \"" : "", subject ? subject : "",
             subject ? "\"" : "");
    free(subject);
}

/* --wait: poll the batch once a second until it is done and analysed (or its analysis is
 * late). Its last document into *doc; 0, or the exit status when a query failed. */
static int submit_wait(struct farm_opts *fo, uint64_t batch, bool quiet, json_t **doc)
{
    struct progress *line = progress_start(stderr, quiet, 0);
    time_t ended = 0; /* when the jobs were first seen ended, waiting for the analysis */
    for (;;) {
        if (farm_query(fo, WIRE_QUERY_BATCH, batch, WIRE_MAX_QUERY_LIMIT, doc) < 0) {
            progress_end(&line);
            return PYSCOPE_EXIT_INTERNAL;
        }
        bool analysed;
        if (submit_batch_done(*doc, &analysed)) {
            if (analysed)
                break;
            if (!ended)
                ended = time(NULL);
            if (time(NULL) - ended >= SUBMIT_ANALYSIS_WAIT_S) {
                progress_end(&line);
                log_warn("batch %llu: its jobs ended but it is not analysed after %d s (see the"
                         " coordinator's log); its jobs so far:",
                         (unsigned long long)batch, SUBMIT_ANALYSIS_WAIT_S);
                break;
            }
            progress_set(line, "pyscope: batch %llu: jobs ended, waiting for its analysis",
                         (unsigned long long)batch);
        } else {
            ended = 0; /* reopened to confirm a change */
            submit_progress(line, batch, *doc);
        }
        json_decref(*doc);
        *doc = NULL;
        sleep(1);
    }
    progress_end(&line);
    return 0;
}

/* After --wait: the batch (doc, borrowed) and its jobs, as text or JSON. The exit status: 3
 * when a job did not end ok. */
static int submit_summary(struct farm_opts *fo, uint64_t batch, json_t *doc, bool json)
{
    json_t *jobs_doc = NULL;
    if (farm_query(fo, WIRE_QUERY_JOBS, batch, WIRE_MAX_QUERY_LIMIT, &jobs_doc) < 0)
        return PYSCOPE_EXIT_INTERNAL;
    json_t *jobs_arr = json_object_get(jobs_doc, "jobs");
    if (json) {
        json_t *both = json_pack("{sOsO}", "batch", json_object_get(doc, "batch"), "jobs",
                                 jobs_arr ? jobs_arr : json_null());
        char *d = json_dumps(both, JSON_INDENT(2));
        puts(d);
        free(d);
        json_decref(both);
    } else {
        farm_print_doc(stdout, WIRE_QUERY_BATCH, doc);
        fputc('\n', stdout);
        farm_print_doc(stdout, WIRE_QUERY_JOBS, jobs_doc);
    }
    int status = PYSCOPE_EXIT_OK;
    size_t bad = submit_count_bad(jobs_arr);
    if (bad) {
        fprintf(stderr, "pyscope: %zu job%s of batch %llu did not end ok\n", bad,
                bad == 1 ? "" : "s", (unsigned long long)batch);
        status = PYSCOPE_EXIT_SCRIPT;
    }
    json_decref(jobs_doc);
    return status;
}

/* The queued batch: its id (or the JSON of it), or with --wait its summary once done. */
static int submit_report(struct submit_args *a, const struct suite *s, uint64_t batch,
                         uint32_t jobs, const char *hash, const char *at)
{
    if (!a->wait) {
        if (a->json)
            printf("{\"batch_id\": %llu, \"jobs\": %u, \"commit\": \"%s\"}\n",
                   (unsigned long long)batch, jobs, hash);
        else
            printf("batch %llu: %u job%s queued (suite %s)%s\n", (unsigned long long)batch, jobs,
                   jobs == 1 ? "" : "s", s->name, at);
        return PYSCOPE_EXIT_OK;
    }
    if (!a->quiet)
        fprintf(stderr, "batch %llu: %u job%s queued (suite %s)%s, waiting...\n",
                (unsigned long long)batch, jobs, jobs == 1 ? "" : "s", s->name, at);
    json_t *doc = NULL;
    int status = submit_wait(&a->fo, batch, a->quiet, &doc);
    if (status == 0)
        status = submit_summary(&a->fo, batch, doc, a->json);
    json_decref(doc);
    return status;
}

int cmd_submit(int argc, char **argv)
{
    struct submit_args a;
    int status = submit_parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    struct suite *s = NULL;
    char err[4096];
    if (suite_parse_file(a.path, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "pyscope: error: invalid suite:\n%s\n", err);
        return PYSCOPE_EXIT_USAGE;
    }
    if (farm_opts_finish(&a.fo) < 0) {
        suite_destroy(&s);
        return PYSCOPE_EXIT_USAGE;
    }
    if (a.repo && !a.commit) {
        log_error("--repo goes with --commit (the revision to resolve in it)");
        suite_destroy(&s);
        return PYSCOPE_EXIT_USAGE;
    }
    struct py_list py_list = {0};
    if (a.python && submit_pythons(a.python, &py_list) < 0) {
        suite_destroy(&s);
        return PYSCOPE_EXIT_USAGE;
    }
    struct revision_repo rr = {0};
    struct revision_commits rc_commits = {0};
    char hash[GITREV_HASH_MAX + 1] = "";
    if (a.commit && (status = submit_resolve_commit(&a, &rr, &rc_commits, hash)) >= 0) {
        revision_commits_free(&rc_commits);
        revision_repo_close(&rr);
        suite_destroy(&s);
        return status;
    }

    size_t n_ents = 0;
    struct wire_suite_entry *ents =
        submit_suite_entries(s, py_list.v, py_list.n, (uint32_t)a.repeat, &n_ents);
    struct wire_msg m;
    wire_msg_init(&m, WIRE_SUBMIT);
    m.submit.suite = s->name;
    m.submit.entries = ents;
    m.submit.n_entries = n_ents;
    struct wire_suite_entry ref = {0};
    if (s->reference) {
        ref = (struct wire_suite_entry){
            .script = s->reference->script,
            .repeat = a.repeat ? (uint32_t)a.repeat : s->reference->repeat,
            .warmup = s->reference->warmup,
            .mode = WIRE_MODE_SAMPLE,
            .timeout_s = s->reference->timeout_s,
        };
        m.submit.reference = &ref;
    }
    m.submit.label = a.label ? a.label : s->label ? s->label : "";
    m.submit.commit = hash;
    m.submit.commits = rc_commits.wire;
    m.submit.n_commits = rc_commits.list.n;
    m.submit.instructions = a.instructions;
    char *hbuf = NULL;
    const char **names = NULL;
    struct wire_label *labels = NULL;
    const char *hosts = a.hosts ? a.hosts : s->hosts;
    struct wire_error werr;
    uint64_t batch = 0;
    uint32_t jobs = 0;
    if (submit_hosts(hosts, &m.submit.hosts, &hbuf, &names, &labels) < 0) {
        log_error("--hosts takes all, NAME,NAME,... or KEY=VALUE,..., not \"%s\"", hosts);
        status = PYSCOPE_EXIT_USAGE;
    } else if (wire_validate(&m, &werr) < 0) {
        log_error("suite \"%s\" cannot be sent: %s", a.path, werr.msg);
        status = PYSCOPE_EXIT_USAGE;
    } else if ((status = submit_send(&a.fo, &m, &batch, &jobs)) < 0) {
        char at[512];
        submit_at_commit(hash, &rc_commits, at, sizeof(at));
        status = submit_report(&a, s, batch, jobs, hash, at);
    }
    free(hbuf);
    free(names);
    free(labels);
    free(ents);
    revision_commits_free(&rc_commits);
    revision_repo_close(&rr);
    suite_destroy(&s);
    suite_free_args(py_list.v, py_list.n);
    return status;
}
