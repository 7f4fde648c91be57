/*
 * revision.c - resolve and describe revisions for the farm commands (revision.h).
 */
#include "revision.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "hash.h"
#include "log.h"
#include "sanitize.h"
#include "xmalloc.h"

/* $XDG_CACHE_HOME/pyscope/repos, else ~/.cache/pyscope/repos; new string. */
static char *revision_cache_root(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/pyscope/repos", xdg);
    const char *home = getenv("HOME");
    return xasprintf("%s/.cache/pyscope/repos", home && *home ? home : "/tmp");
}

/* mkdir -p path (mode 0700 for what it makes). */
static int mkdirs(const char *path)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            return -e;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
    free(p);
    return rc;
}

int revision_repo_open(struct revision_repo *r, const char *repo_opt, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    gitrev_defaults(&r->o);
    r->o.timeout_s = 300;
    const char *git = getenv("PYSCOPE_GIT");
    if (git && *git)
        r->o.git = git;
    if (!repo_opt) {
        char e2[256];
        char *top = NULL;
        if (gitrev_toplevel(&r->o, NULL, &top, e2, sizeof(e2)) == 0)
            r->path = top;
        return 0;
    }
    r->origin = xstrdup(repo_opt);
    struct stat st;
    if (stat(repo_opt, &st) == 0 && S_ISDIR(st.st_mode)) {
        /* a local repository: used where it is, read only */
        const char *argv[] = {"rev-parse", "--git-dir", NULL};
        char *out = NULL;
        int rc = gitrev_git(&r->o, repo_opt, argv, &out, err, errlen);
        free(out);
        if (rc != 0) {
            pyscope_set_err(err, errlen, "--repo \"%s\" is not a git repository", repo_opt);
            return rc < 0 ? rc : -PYSCOPE_EUSAGE;
        }
        r->path = realpath(repo_opt, NULL);
        return 0;
    }
    /* a URL: a mirror in our cache, fetched now */
    char *root = revision_cache_root();
    char id[HASH_SHA256_HEX_SIZE];
    hash_sha256_hex(repo_opt, strlen(repo_opt), id);
    char *dir = xasprintf("%s/%.16s", root, id);
    free(root);
    int rc = mkdirs(dir);
    if (rc < 0) {
        pyscope_set_err(err, errlen, "could not make \"%s\": %s", dir, strerror(-rc));
        free(dir);
        return rc;
    }
    struct gitrev_cache c = {.dir = dir, .origin = repo_opt};
    rc = gitrev_cache_fetch(&r->o, &c, NULL, err, errlen);
    if (rc == 0) {
        r->path = gitrev_cache_mirror(&c);
        r->is_mirror = true;
    }
    free(dir);
    return rc;
}

void revision_repo_close(struct revision_repo *r)
{
    free(r->path);
    free(r->origin);
    memset(r, 0, sizeof(*r));
}

int revision_resolve(const struct revision_repo *r, const char *rev, char hash[GITREV_HASH_MAX + 1],
                     char *err, size_t errlen)
{
    if (!r->path) {
        if (gitrev_is_hash(rev)) {
            log_warn("not in a git checkout: commit %s is sent without its subject, author "
                     "and history (give --repo to describe it)",
                     rev);
            snprintf(hash, GITREV_HASH_MAX + 1, "%s", rev);
            return 0;
        }
        pyscope_set_err(err, errlen,
                        "cannot resolve \"%s\": not in a git checkout (run it in one, give --repo "
                        "PATH|URL, or a full commit hash)",
                        rev);
        return -PYSCOPE_ENODATA;
    }
    return gitrev_resolve(&r->o, r->path, rev, hash, err, errlen);
}

int revision_describe(const struct revision_repo *r, const char *hash, const char *const *stop,
                      size_t n_stop, size_t max, struct revision_commits *c, char *err,
                      size_t errlen)
{
    if (!r->path)
        return 0;
    return gitrev_log(&r->o, r->path, hash, stop, n_stop, max, true, &c->list, err, errlen);
}

void revision_commits_wire(struct revision_commits *c)
{
    free(c->wire);
    free(c->parents);
    size_t np = 0;
    for (size_t i = 0; i < c->list.n; i++)
        np += c->list.v[i].n_parents;
    c->wire = xcalloc(c->list.n ? c->list.n : 1, sizeof(*c->wire));
    c->parents = xcalloc(np ? np : 1, sizeof(*c->parents));
    size_t k = 0;
    for (size_t i = 0; i < c->list.n; i++) {
        const struct gitrev_commit *g = &c->list.v[i];
        struct wire_commit *w = &c->wire[i];
        w->hash = g->hash;
        w->parents = &c->parents[k];
        w->n_parents = g->n_parents;
        for (unsigned p = 0; p < g->n_parents; p++)
            c->parents[k++] = g->parents[p];
        w->generation = g->generation;
        w->subject = g->subject;
        w->author = g->author;
        w->time = g->time;
    }
}

void revision_commits_free(struct revision_commits *c)
{
    gitrev_list_free(&c->list);
    free(c->wire);
    free(c->parents);
    memset(c, 0, sizeof(*c));
}

const struct gitrev_commit *revision_find(const struct revision_commits *c, const char *hash)
{
    for (size_t i = 0; i < c->list.n; i++)
        if (strcmp(c->list.v[i].hash, hash) == 0)
            return &c->list.v[i];
    return NULL;
}

/* s (untrusted: controls, bidi and bad UTF-8 shown escaped, lib/sanitize), cut to about
 * max characters with an ellipsis. */
static void print_text(FILE *out, const char *s, size_t max)
{
    char *safe = sanitize_dup(s, 0);
    sanitize_ellipsize(safe, max);
    fputs(safe, out);
    free(safe);
}

/* One end of a range: "abc123def456 \"subject\" (author, date)". */
static void print_commit(FILE *out, const json_t *c)
{
    const char *hash = json_string_value(json_object_get(c, "hash"));
    const char *subject = json_string_value(json_object_get(c, "subject"));
    const char *author = json_string_value(json_object_get(c, "author"));
    const char *date = json_string_value(json_object_get(c, "date"));
    fprintf(out, "%.12s", hash ? hash : "?");
    if (subject && *subject) {
        fputs(" \"", out);
        print_text(out, subject, 100);
        fputc('"', out);
    }
    if ((author && *author) || date) {
        fputs(" (", out);
        print_text(out, author ? author : "", 200);
        fprintf(out, "%s%.10s)", author && *author && date ? ", " : "", date ? date : "");
    }
}

void revision_print_range(FILE *out, const json_t *range, const char *indent)
{
    if (!json_is_object(range))
        return;
    fprintf(out, "%slast good: ", indent);
    print_commit(out, json_object_get(range, "good"));
    fprintf(out, "\n%sfirst bad: ", indent);
    print_commit(out, json_object_get(range, "bad"));
    const json_t *n = json_object_get(range, "commits");
    bool exact = json_is_true(json_object_get(range, "exact"));
    if (json_is_integer(n))
        fprintf(out,
                "\n%s%s%" JSON_INTEGER_FORMAT " commit%s in the range (the first bad one "
                "included)%s",
                indent, exact ? "" : "at least ", json_integer_value(n),
                json_integer_value(n) == 1 ? "" : "s",
                json_integer_value(n) == 1 ? ": that commit did it" : "");
    else
        fprintf(out, "\n%scommits in the range: unknown (not described by any submitter)", indent);
    if (!json_is_true(json_object_get(range, "good_is_ancestor")))
        fprintf(out, "; the last good commit is not in the first bad one's history (the "
                     "branch was rewritten, or its history was never described)");
    fputc('\n', out);
}

void revision_print_bisection(FILE *out, const json_t *b, const char *indent)
{
    if (!json_is_object(b))
        return;
    const char *state = json_string_value(json_object_get(b, "state"));
    const char *msg = json_string_value(json_object_get(b, "message"));
    state = state ? state : "?";
    fprintf(out, "%sbisection %" JSON_INTEGER_FORMAT ": %s", indent,
            json_integer_value(json_object_get(b, "id")), state);
    if (strcmp(state, "not_bisected") != 0)
        fprintf(out, " after %" JSON_INTEGER_FORMAT " step%s, %" JSON_INTEGER_FORMAT " run%s",
                json_integer_value(json_object_get(b, "steps")),
                json_integer_value(json_object_get(b, "steps")) == 1 ? "" : "s",
                json_integer_value(json_object_get(b, "turns")),
                json_integer_value(json_object_get(b, "turns")) == 1 ? "" : "s");
    if (msg && *msg) {
        fputs(": ", out);
        print_text(out, msg, 400);
    }
    fputc('\n', out);
    const json_t *c = json_object_get(b, "culprit");
    if (json_is_object(c)) {
        fprintf(out, "%s  culprit: ", indent);
        print_commit(out, c);
        if (json_is_true(json_object_get(c, "merge")))
            fputs(" - a merge commit: the slowdown came in with the branch it merged", out);
        fputc('\n', out);
    } else if (strcmp(state, "not_bisected") != 0 && strcmp(state, "no_regression") != 0) {
        fprintf(out, "%s  %s: last good ", indent,
                strcmp(state, "running") == 0 ? "so far" : "narrowed to");
        print_commit(out, json_object_get(b, "last_good"));
        fprintf(out, ", first bad ");
        print_commit(out, json_object_get(b, "first_bad"));
        fprintf(out, " (%" JSON_INTEGER_FORMAT " commit%s)",
                json_integer_value(json_object_get(b, "commits")),
                json_integer_value(json_object_get(b, "commits")) == 1 ? "" : "s");
        if (json_integer_value(json_object_get(b, "unrunnable")) > 0)
            fprintf(out, "; %" JSON_INTEGER_FORMAT " commit%s the script could not run at",
                    json_integer_value(json_object_get(b, "unrunnable")),
                    json_integer_value(json_object_get(b, "unrunnable")) == 1 ? "" : "s");
        fputc('\n', out);
    }
}
