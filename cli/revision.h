/*
 * revision.h - revisions named on the command line, resolved on the
 * submitter's side (docs/revisions.md).
 *
 * `pyscope submit --commit REV` (and try, bisect) resolve REV to a full hash
 * in a repository: --repo PATH (a checkout or bare repository, read only),
 * --repo URL (fetched into the CLI's cache, $XDG_CACHE_HOME/pyscope/repos),
 * else the git checkout holding the current folder. The commit goes to the
 * coordinator with its description and its newest ancestors (wire Commit),
 * so reports can name a range of commits and bisect it.
 */
#ifndef PYSCOPE_CLI_REVISION_H
#define PYSCOPE_CLI_REVISION_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "gitrev.h"
#include "wire.h"

#define REVISION_ANCESTORS 1000 /* ancestors described with each commit sent */

/* Where revisions are resolved; everything owned. */
struct revision_repo {
    struct gitrev_opts o;
    char *path;     /* the repository git runs in, or NULL (none: only full hashes) */
    char *origin;   /* what --repo said, or NULL */
    bool is_mirror; /* path is the CLI's cache of a URL */
};

/* Descriptions ready for a Submit; everything owned (revision_commits_free). */
struct revision_commits {
    struct gitrev_list list;
    struct wire_commit *wire; /* list.n of them, borrowing list's strings */
    const char **parents;     /* the pointer arrays wire[i].parents point into */
};

/*
 * Open the repository: repo_opt (borrowed: --repo, or NULL for the checkout
 * holding the current folder). Without --repo and outside any checkout, r has
 * no path (only full hashes can be named then). Returns 0 or a negative code
 * with err (an unreachable URL, a path that is not a repository).
 */
int revision_repo_open(struct revision_repo *r, const char *repo_opt, char *err, size_t errlen);
void revision_repo_close(struct revision_repo *r);

/*
 * Resolve rev (borrowed) to a full hash in r. A full hash is accepted as it
 * is when r has no repository (with a warning that it cannot be described).
 * Returns 0, or -PYSCOPE_ENODATA (unknown revision: a usage error) with err.
 */
int revision_resolve(const struct revision_repo *r, const char *rev, char hash[GITREV_HASH_MAX + 1],
                     char *err, size_t errlen);

/*
 * Describe hash and up to max - 1 of its newest ancestors (those not
 * reachable from any of the n_stop hashes of stop, borrowed), appending to
 * c. Nothing is added when r has no repository. Returns the number added or
 * a negative code with err.
 */
int revision_describe(const struct revision_repo *r, const char *hash, const char *const *stop,
                      size_t n_stop, size_t max, struct revision_commits *c, char *err,
                      size_t errlen);

/* Fill c->wire from c->list (call after the last revision_describe()). */
void revision_commits_wire(struct revision_commits *c);
void revision_commits_free(struct revision_commits *c);

/*
 * Print a regression's range (borrowed: its "range" object, docs/json-schema.md;
 * nothing for null) as lines starting with indent: the last good and first bad
 * commits (hash, subject, author, date) and how many commits lie between.
 */
void revision_print_range(FILE *out, const json_t *range, const char *indent);

/*
 * Print a regression's bisection (borrowed: its "bisection" object, the team
 * report's and history's; nothing for null) as lines starting with indent:
 * its state, the steps and runs it used and its message (why no culprit:
 * inconclusive, out of budget, unrunnable commits, cancelled by whom), then
 * the culprit (hash, subject; a merge commit said as such) or the interval it
 * narrowed the range to.
 */
void revision_print_bisection(FILE *out, const json_t *bisection, const char *indent);

/* The commit of c with this hash, or NULL. */
const struct gitrev_commit *revision_find(const struct revision_commits *c, const char *hash);

#endif
