/*
 * history.c - earlier reports kept in a local folder.
 *
 * Files are read whole into a capped buffer (lib/strbuf.h: fstat first, then a bounded
 * read, so a file that grows meanwhile cannot exceed the cap) and parsed
 * with json_loadb. Matching happens newest first so that `limit` bounds
 * how many documents stay in memory.
 */
#include "history.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "history_index.h"
#include "log.h"
#include "stats.h"
#include "strbuf.h"
#include "xmalloc.h"

static bool has_report_name(const char *name)
{
    size_t len = strlen(name), pl = strlen(HISTORY_PREFIX), sl = strlen(HISTORY_SUFFIX);
    return len > pl + sl && strncmp(name, HISTORY_PREFIX, pl) == 0 &&
           strcmp(name + len - sl, HISTORY_SUFFIX) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int history_list(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!has_report_name(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *names = xreallocarray(*names, cap, sizeof(**names));
        }
        (*names)[(*n)++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof(**names), cmp_names);
    return 0;
}

void history_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

bool history_schema_ok(const json_t *doc)
{
    if (!json_is_object(doc))
        return false;
    const char *s = json_string_value(json_object_get(doc, "schema"));
    if (!s)
        return false;
    const char *ver;
    if (strncmp(s, "pyscope.run/", 12) == 0)
        ver = s + 12;
    else if (strncmp(s, "pyscope.report/", 15) == 0)
        ver = s + 15;
    else
        return false;
    /* major version 1, optionally followed by ".minor" */
    return ver[0] == '1' && (ver[1] == '\0' || ver[1] == '.');
}

int history_load_file(const char *path, json_t **doc, char *errbuf, size_t errlen)
{
    *doc = NULL;
    struct strbuf text = {0};
    int rc = strbuf_read_file(&text, path, HISTORY_MAX_FILE_BYTES);
    if (rc == -EINVAL) {
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(errbuf, errlen, "not a regular file");
        goto out;
    } else if (rc == -PYSCOPE_ETOOBIG) {
        pyscope_set_err(errbuf, errlen, "file larger than 64 MiB");
        goto out;
    } else if (rc < 0) {
        pyscope_set_err(errbuf, errlen, "%s", strerror(-rc));
        goto out;
    }
    json_error_t jerr;
    json_t *j = json_loadb(text.s, text.len, 0, &jerr);
    if (!j) {
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(errbuf, errlen, "invalid JSON at line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        rc = -PYSCOPE_EPARSE;
        pyscope_set_err(errbuf, errlen, "not a JSON object");
        goto out;
    }
    if (!history_schema_ok(j)) {
        const char *s = json_string_value(json_object_get(j, "schema"));
        pyscope_set_err(errbuf, errlen, "unexpected schema \"%s\"", s ? s : "(none)");
        json_decref(j);
        rc = -PYSCOPE_ESCHEMA;
        goto out;
    }
    *doc = j;
out:
    strbuf_release(&text);
    return rc;
}

static bool field_equals(const json_t *doc, const char *obj, const char *key, const char *want)
{
    if (!want)
        return true;
    const char *v = json_string_value(json_object_get(json_object_get(doc, obj), key));
    return v && strcmp(v, want) == 0;
}

const char *history_mode(const json_t *doc)
{
    const char *m = json_string_value(json_object_get(json_object_get(doc, "options"), "mode"));
    return m ? m : "sample";
}

bool history_matches(const json_t *doc, const struct history_filter *f)
{
    if (!json_is_object(doc))
        return false;
    if (f->mode && strcmp(history_mode(doc), f->mode) != 0)
        return false;
    if (!field_equals(doc, "script", "key", f->script_key) ||
        !field_equals(doc, "host", "fingerprint", f->host_fingerprint) ||
        !field_equals(doc, "python", "build", f->python_build))
        return false;
    if (f->exclude_id) {
        const char *id = json_string_value(json_object_get(doc, "id"));
        if (id && strcmp(id, f->exclude_id) == 0)
            return false;
    }
    if (f->ok_only) {
        const json_t *status = json_object_get(doc, "status");
        const char *outcome = json_string_value(json_object_get(status, "outcome"));
        if (status && (!outcome || strcmp(outcome, "ok") != 0))
            return false;
    }
    return true;
}

int history_load(const char *dir, const struct history_filter *f, struct history *out)
{
    out->entries = NULL;
    out->n = 0;
    if ((f->flags & (HISTORY_INDEX_READ | HISTORY_INDEX_WRITE)) &&
        history_index_load(dir, f, out) == 0)
        return 0;
    char **names;
    size_t n;
    int rc = history_list(dir, &names, &n);
    if (rc < 0)
        return rc;
    size_t cap = 0;
    /* newest first, so that f->limit keeps the most recent */
    for (size_t i = n; i-- > 0;) {
        if (f->limit && out->n >= f->limit)
            break;
        char *path = xasprintf("%s/%s", dir, names[i]);
        json_t *doc;
        char err[256];
        int lrc = history_load_file(path, &doc, err, sizeof(err));
        if (lrc < 0) {
            log_warn("skipping report \"%s\": %s", path, err);
            free(path);
            continue;
        }
        if (!history_matches(doc, f)) {
            json_decref(doc);
            free(path);
            continue;
        }
        if (f->flags & HISTORY_LIGHT) { /* as the index gives them: hydrate reads the file */
            json_t *light = history_index_light(doc);
            json_decref(doc);
            doc = light;
            json_object_set_new(doc, HISTORY_LIGHT_PATH, json_string(path));
        }
        if (out->n == cap) {
            cap = cap ? 2 * cap : 16;
            out->entries = xreallocarray(out->entries, cap, sizeof(*out->entries));
        }
        out->entries[out->n++] = (struct history_entry){path, doc};
    }
    history_names_free(names, n);
    /* reverse into oldest-first order */
    for (size_t i = 0; i < out->n / 2; i++) {
        struct history_entry t = out->entries[i];
        out->entries[i] = out->entries[out->n - 1 - i];
        out->entries[out->n - 1 - i] = t;
    }
    return 0;
}

void history_release(struct history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->entries[i].path);
        json_decref(h->entries[i].doc);
    }
    free(h->entries);
    h->entries = NULL;
    h->n = 0;
}

double *history_samples(const json_t *doc, const char *metric, size_t *n)
{
    bool counts = strcmp(metric, HISTORY_METRIC_INSTRUCTIONS) == 0;
    const json_t *arr = counts ? json_object_get(json_object_get(doc, "instructions"), "counts")
                               : json_object_get(doc, "runs");
    double *x = xcalloc(json_array_size(arr) + 1, sizeof(*x));
    size_t i, k = 0;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        const json_t *v = counts ? e : json_object_get(e, metric);
        double d = json_number_value(v);
        if (json_is_number(v) && isfinite(d) && d >= 0)
            x[k++] = d;
    }
    *n = k;
    return x;
}

char *history_instructions_text(const json_t *doc)
{
    size_t n;
    double *x = history_samples(doc, HISTORY_METRIC_INSTRUCTIONS, &n);
    double med;
    if (n == 0 || stats_median(x, n, &med) < 0) {
        free(x);
        return NULL;
    }
    free(x);
    const json_t *in = json_object_get(doc, "instructions");
    const char *tool = json_string_value(json_object_get(in, "tool"));
    const char *seed = json_string_value(json_object_get(in, "python_hash_seed"));
    char runs[48] = "";
    if (n > 1)
        snprintf(runs, sizeof(runs), "median of %zu runs; ", n);
    return xasprintf("%.1f M (%s%s, PYTHONHASHSEED=%.40s)%s%s", med / 1e6, runs,
                     tool ? tool : "cachegrind", seed ? seed : "?",
                     history_instructions_children(doc) ? "; " HISTORY_INSTRUCTIONS_CHILDREN_NOTE
                                                        : "",
                     history_instructions_exact(doc) ? "" : "; " HISTORY_INSTRUCTIONS_THREADS_NOTE);
}

bool history_instructions_exact(const json_t *doc)
{
    return !json_is_false(json_object_get(json_object_get(doc, "instructions"), "exact"));
}

bool history_instructions_children(const json_t *doc)
{
    const char *note =
        json_string_value(json_object_get(json_object_get(doc, "instructions"), "note"));
    return note && strcmp(note, HISTORY_INSTRUCTIONS_CHILDREN_NOTE) == 0;
}
