/*
 * gitrev.h - git revisions: resolve and describe commits, keep a mirror of a
 * repository and read-only checkouts of its commits (docs/DESIGN.md §18).
 *
 * Everything goes through the git binary (git(1), Debian's `git`), each call
 * a child process with a clean environment (no GIT_* variable of ours leaks
 * in, never a terminal prompt, C locale), its own process group and a
 * timeout: a hung fetch is killed, never the caller. Why git and not
 * libgit2 is in docs/revisions.md.
 *
 * The cache (agents; the CLI for a --repo URL) is one folder:
 *   DIR/mirror.git   a bare repository fetching every branch and tag of the
 *                    origin (never pruned: a commit once fetched stays, so a
 *                    force-pushed branch's old heads can still be measured)
 *   DIR/trees/HASH   a read-only checkout of commit HASH (a git worktree of
 *                    the mirror, files and folders without write bits)
 *   DIR/locks/HASH   held (flock, shared) while a job uses trees/HASH
 *   DIR/lock         held (flock, exclusive) while git changes the mirror
 * A tree's last use is the mtime of DIR/locks/HASH; gitrev_cache_clean()
 * removes the trees unused for longest, never one that is locked.
 *
 * The origin (a path or a URL) is only ever read: fetched from, never
 * written, so a developer's checkout given as origin stays as it was.
 * Functions return 0 or a negative code with a message in err (callers log).
 */
#ifndef PYSCOPE_GITREV_H
#define PYSCOPE_GITREV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GITREV_HASH_MAX    64   /* hex digits: SHA-1 has 40, SHA-256 64 */
#define GITREV_MAX_PARENTS 16   /* an octopus merge with more is refused */
#define GITREV_MAX_SUBJECT 1000 /* bytes kept of a subject line */
#define GITREV_MAX_AUTHOR  300  /* bytes kept of "Name <email>" */

/* One commit. */
struct gitrev_commit {
    char hash[GITREV_HASH_MAX + 1];                        /* full, lowercase */
    char parents[GITREV_MAX_PARENTS][GITREV_HASH_MAX + 1]; /* n_parents of them */
    unsigned n_parents;
    uint64_t generation; /* 1 for a root, else 1 + its parents' highest; 0 = unknown */
    char *subject;       /* owned; first line of the message (untrusted text) */
    char *author;        /* owned; "Name <email>" (untrusted text) */
    int64_t time;        /* author date, seconds since the epoch */
};

/* A list of commits (gitrev_log(), gitrev_range()). */
struct gitrev_list {
    struct gitrev_commit *v; /* owned, n of them */
    size_t n;
};

/* Free the list's commits and zero it; NULL-safe. */
void gitrev_list_free(struct gitrev_list *l);

/* The git program and the limits every call uses; gitrev_defaults() fills them. */
struct gitrev_opts {
    const char *git;      /* borrowed; "git" (from PATH) by default */
    double timeout_s;     /* each git call; default 600 */
    const char *safe_dir; /* borrowed; a local origin git may read whoever owns it, or NULL */
};
void gitrev_defaults(struct gitrev_opts *o);

/* True when s is a full commit hash: 40 or 64 lowercase hex digits. */
bool gitrev_is_hash(const char *s);

/*
 * Run git with argv (borrowed, NULL-terminated, without "git") in folder dir
 * (borrowed; NULL = the current one). *out (may be NULL) gets stdout as a new
 * string (caller frees). Returns git's exit status (0..255), or -ETIMEDOUT,
 * -ENOENT (no git program) or -errno; a failure's message, with git's last
 * line of stderr, is in err.
 */
int gitrev_git(const struct gitrev_opts *o, const char *dir, const char *const *argv, char **out,
               char *err, size_t errlen);

/* The top folder of the git checkout holding dir (borrowed): *top new, caller frees.
 * Returns 0, or -ENOENT when dir is in no checkout. */
int gitrev_toplevel(const struct gitrev_opts *o, const char *dir, char **top, char *err,
                    size_t errlen);

/*
 * Resolve rev (a branch, tag, short hash, HEAD~3 ...) to the full hash of
 * a commit in the repository at repo (a checkout or a bare repository).
 * Returns 0, or -PYSCOPE_ENODATA when no such commit exists there.
 */
int gitrev_resolve(const struct gitrev_opts *o, const char *repo, const char *rev,
                   char hash[GITREV_HASH_MAX + 1], char *err, size_t errlen);

/*
 * The commits reachable from head but not from any of the n_exclude hashes
 * of exclude (borrowed; may be 0), newest first (topological order: a commit
 * before its parents), at most max: subject, author, time and parents;
 * generation numbers too when with_generation (one walk of head's whole
 * history). Appends to *l. Returns the number added.
 */
int gitrev_log(const struct gitrev_opts *o, const char *repo, const char *head,
               const char *const *exclude, size_t n_exclude, size_t max, bool with_generation,
               struct gitrev_list *l, char *err, size_t errlen);

/* The cache of a repository (see the header comment). */
struct gitrev_cache {
    const char *dir;    /* borrowed: the cache folder (made when missing) */
    const char *origin; /* borrowed: path or URL fetched from */
    uint64_t max_bytes; /* trees above this total are removed, least recently used first */
    double max_age_s;   /* trees unused this long are removed; 0 = no age limit */
};

/*
 * Make sure commit hash is in the cache's mirror: fetch every branch and tag
 * of the origin when it is not there, then the commit itself (servers that
 * allow it serve a commit no branch holds). Returns 0, -PYSCOPE_ENODATA when
 * the origin does not have it (err says so), or another code (the origin
 * could not be reached: a retry may work). hash NULL: fetch in any case.
 */
int gitrev_cache_fetch(const struct gitrev_opts *o, const struct gitrev_cache *c, const char *hash,
                       char *err, size_t errlen);

/* The mirror's path (new string, caller frees). */
char *gitrev_cache_mirror(const struct gitrev_cache *c);

/*
 * Lock commit hash's tree for use (shared flock on DIR/locks/HASH, which
 * also dates its use): returns the descriptor (close it to unlock) or -errno.
 * Take it before gitrev_cache_checkout() so no cleaner removes the tree
 * between its checkout and its use.
 */
int gitrev_cache_lock(const struct gitrev_cache *c, const char *hash, char *err, size_t errlen);

/*
 * A read-only checkout of commit hash (which must be in the mirror:
 * gitrev_cache_fetch()): DIR/trees/HASH, made when missing. *tree gets its
 * path (new string, caller frees). Returns 0 or a negative code.
 */
int gitrev_cache_checkout(const struct gitrev_opts *o, const struct gitrev_cache *c,
                          const char *hash, char **tree, char *err, size_t errlen);

/*
 * Remove trees unused for longer than max_age_s, then the least recently
 * used ones while all trees together take more than max_bytes; a tree whose
 * lock is held is never removed. Returns the number removed or a code.
 */
int gitrev_cache_clean(const struct gitrev_opts *o, const struct gitrev_cache *c, char *err,
                       size_t errlen);

#endif
