/*
 * pythons.c - the interpreters this agent can run jobs under (pythons.h).
 */
#include "pythons.h"
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "log.h"
#include "pyreq.h"
#include "pyselect.h"
#include "xmalloc.h"

/* Whether every folder on the way to path (absolute) and path itself let others
 * through: a job run as another user must be able to exec it. */
static bool others_can_exec(const char *path, char *why, size_t whylen)
{
    char *copy = xstrdup(path);
    bool ok = true;
    for (char *slash = copy + 1; ok; slash++) {
        char *next = strchr(slash, '/');
        if (next)
            *next = '\0';
        struct stat st;
        if (stat(copy, &st) < 0 || !(st.st_mode & S_IXOTH)) {
            snprintf(why, whylen, "the job user cannot reach it (\"%s\" is not open to others)",
                     copy);
            ok = false;
        }
        if (!next)
            break;
        *next = '/';
        slash = next;
    }
    free(copy);
    return ok;
}

/* Whether the jobs see path and what it resolves to (their private /tmp hides /tmp...). */
static bool jobs_see(const struct sandbox *sb, const char *path, char *why, size_t whylen)
{
    char *real = realpath(path, NULL);
    const char *hidden = !sandbox_job_sees(sb, path)           ? path
                         : real && !sandbox_job_sees(sb, real) ? real
                                                               : NULL;
    if (hidden)
        snprintf(why, whylen,
                 "jobs cannot see it: \"%s\" is in a folder each job's private /tmp hides "
                 "(/tmp, /var/tmp, /dev/shm, /run/lock); install it elsewhere, e.g. under /opt",
                 hidden);
    free(real);
    return hidden == NULL;
}

/* Where a candidate comes from: found (a discovered one left out is information), the
 * agent's default python (a warning), or named by the operator (a warning, and an error when
 * it is not a Python interpreter at all). */
enum cand_kind { CAND_FOUND, CAND_DEFAULT, CAND_NAMED };

/* Probe cand (how: the setting it came from) and keep it when usable; when it is not, say why
 * in the log (and in *why_not, owned, when not NULL). Returns 0, or -PYSCOPE_EUSAGE (logged)
 * for a named program that is not a working Python interpreter. */
static int add(struct agent_pythons *ps, const char *cand, const char *how, const char *shim,
               const struct sandbox *sb, enum cand_kind kind, char **why_not)
{
    struct pyselect sel;
    char err[512];
    /* its messages leave out where it was found: the lines below say how */
    int rc = pyselect_choose_found(cand, how, &sel, err, sizeof(err));
    if (rc < 0 && sel.not_python && kind == CAND_NAMED) {
        bool list = strcmp(how, "pythons =") == 0;
        log_error("python \"%s\" (%s, or --%s) is not a working Python interpreter: asked for "
                  "its version, it %s; give the path of one pyscope-run profiles (%s)%s",
                  cand, how, list ? "pythons" : "python", sel.not_python, PYSELECT_SUPPORTED,
                  list ? ", or take it off the list" : "");
        pyselect_release(&sel);
        return -PYSCOPE_EUSAGE;
    }
    if (rc == 0 && shim)
        rc = pyselect_check(&sel, shim, err, sizeof(err));
    if (rc == 0 && sb->drop && !others_can_exec(sel.path, err, sizeof(err)))
        rc = -1;
    if (rc == 0 && !jobs_see(sb, sel.path, err, sizeof(err)))
        rc = -1;
    char *real = rc == 0 ? realpath(sel.path, NULL) : NULL;
    for (size_t i = 0; rc == 0 && i < ps->n; i++) {
        char *r = realpath(ps->v[i].path, NULL);
        bool same = r && real && strcmp(r, real) == 0;
        free(r);
        if (same)
            rc = 1; /* found already */
    }
    free(real);
    if (rc < 0) {
        /* one the operator named is a warning; one discovery found, information */
        if (kind == CAND_FOUND)
            log_info("python %s (%s): not used: %s", cand, how, err);
        else
            log_warn("python %s (%s): not used: %s", cand, how, err);
    } else if (rc == 0) {
        ps->v = xreallocarray(ps->v, ps->n + 1, sizeof(*ps->v));
        struct agent_python *p = &ps->v[ps->n++];
        p->path = xstrdup(sel.path);
        p->version = xasprintf("%d.%d.%d", sel.major, sel.minor, sel.micro);
        p->build = xstrdup(sel.build ? sel.build : "");
        p->executable = xstrdup(sel.path);
        p->implementation = xstrdup(sel.implementation ? sel.implementation : "");
        p->abiflags = xstrdup(sel.abiflags ? sel.abiflags : "");
        log_info("python %s (%s): CPython %s at %s", cand, how, p->version, p->path);
    }
    pyselect_release(&sel);
    if (rc < 0 && why_not)
        *why_not = xasprintf("its python %s: %s", cand, err);
    return 0;
}

int agent_pythons_find(struct agent_pythons *ps, const struct agent_config *cfg,
                       const struct sandbox *sb)
{
    memset(ps, 0, sizeof(*ps));
    char err[512];
    char *shim = cfg->runner ? pyselect_shim_dir_of(cfg->runner, err, sizeof(err)) : NULL;
    if (!shim)
        log_warn("cannot tell which Pythons pyscope-run supports: %s", err);
    int rc = 0;
    if (cfg->python)
        rc = add(ps, cfg->python, "python =", shim, sb,
                 cfg->python_given ? CAND_NAMED : CAND_DEFAULT, &ps->default_unusable);
    if (rc == 0 && cfg->pythons) {
        char *list = xstrdup(cfg->pythons), *save = NULL;
        for (char *t = strtok_r(list, ", \t", &save); t && rc == 0;
             t = strtok_r(NULL, ", \t", &save))
            rc = add(ps, t, "pythons =", shim, sb, CAND_NAMED, NULL);
        free(list);
    }
    if (rc == 0 && cfg->discover_pythons) {
        add(ps, "python3", "found on PATH", shim, sb, CAND_FOUND, NULL);
        const char *root = getenv("PYENV_ROOT");
        const char *home = getenv("HOME");
        char *dir = root && *root ? xasprintf("%s/versions/*/bin/python3", root)
                    : home        ? xasprintf("%s/.pyenv/versions/*/bin/python3", home)
                                  : NULL;
        glob_t g;
        if (dir && glob(dir, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                add(ps, g.gl_pathv[i], "pyenv", shim, sb, CAND_FOUND, NULL);
            globfree(&g);
        }
        free(dir);
    }
    free(shim);
    ps->wire = xcalloc(ps->n ? ps->n : 1, sizeof(*ps->wire));
    for (size_t i = 0; i < ps->n; i++)
        ps->wire[i] = (struct wire_python){ps->v[i].version, ps->v[i].build, ps->v[i].executable,
                                           ps->v[i].implementation, ps->v[i].abiflags};
    if (ps->n > WIRE_MAX_PYTHONS)
        log_warn("%zu Pythons found: the coordinator is told of the first %u", ps->n,
                 WIRE_MAX_PYTHONS);
    return rc;
}

const struct agent_python *agent_pythons_match(const struct agent_pythons *ps, const char *req)
{
    for (size_t i = 0; i < ps->n; i++)
        if (pyreq_match(req, ps->v[i].version, ps->v[i].executable, ps->v[i].path))
            return &ps->v[i];
    return NULL;
}

void agent_pythons_describe(const struct agent_pythons *ps, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ps->n && at < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%s (%s)", i ? ", " : "", ps->v[i].version,
                         ps->v[i].path);
        if (w < 0)
            break;
        at += (size_t)w;
    }
    if (ps->n == 0)
        snprintf(buf, len, "none");
}

void agent_pythons_release(struct agent_pythons *ps)
{
    for (size_t i = 0; ps->v && i < ps->n; i++) {
        struct agent_python *p = &ps->v[i];
        free(p->path);
        free(p->version);
        free(p->build);
        free(p->executable);
        free(p->implementation);
        free(p->abiflags);
    }
    free(ps->v);
    free(ps->wire);
    free(ps->default_unusable);
    memset(ps, 0, sizeof(*ps));
}
