/*
 * export.c - collapsed stacks and speedscope JSON from a report's profile.
 *
 * Both formats read profile.stacks: [{thread, frames: [key, ...], samples}, ...],
 * frames root first, samples summed over the measured runs (microseconds in trace
 * mode). Input is untrusted: a stack with no frames, a non-positive or non-numeric
 * count is skipped, a frame that is not a string is shown as "?".
 *
 * Design notes: collapsed lines are merged by content (a jansson object is the
 * map), so a stack that appears for two threads without thread roots is one line
 * with the summed count; speedscope frames are interned by key.
 */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "funckey.h"
#include "sanitize.h"
#include "strbuf.h"
#include "xmalloc.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/*
 * Append s (borrowed) as one collapsed frame: in its safe form (lib/sanitize:
 * control, C1 and bidi characters escaped, so a name cannot break the line
 * or reorder what a viewer shows), ';' (the frame separator) replaced.
 */
static void put_frame(struct strbuf *b, const char *s)
{
    char *safe = sanitize_dup(s, 0);
    for (const char *p = safe; *p; p++)
        strbuf_addc(b, *p == ';' ? '_' : *p);
    free(safe);
}

/* Return the profile.stacks array of report (borrowed), or NULL. */
static const json_t *report_stacks(const json_t *report)
{
    const json_t *stacks = json_object_get(json_object_get(report, "profile"), "stacks");
    return json_is_array(stacks) ? stacks : NULL;
}

/* Return the thread name of stack (borrowed), never NULL. */
static const char *stack_thread(const json_t *stack)
{
    const char *t = json_string_value(json_object_get(stack, "thread"));
    return t && t[0] ? t : "unknown-thread";
}

/* Return the stack's frames (borrowed) if it is usable, with its count in *count. */
static const json_t *stack_usable(const json_t *stack, double *count)
{
    const json_t *frames = json_object_get(stack, "frames");
    const json_t *samples = json_object_get(stack, "samples");
    if (!json_is_array(frames) || json_array_size(frames) == 0 || !json_is_number(samples))
        return NULL;
    double v = json_number_value(samples);
    if (!isfinite(v) || v <= 0 || v > 9.0e15)
        return NULL;
    *count = v;
    return frames;
}

/* Return true when the usable stacks name more than one thread. */
static bool stacks_multithreaded(const json_t *stacks)
{
    const char *first = NULL;
    size_t i;
    const json_t *stack;
    json_array_foreach(stacks, i, stack)
    {
        double v;
        if (!stack_usable(stack, &v))
            continue;
        const char *t = stack_thread(stack);
        if (!first)
            first = t;
        else if (strcmp(first, t) != 0)
            return true;
    }
    return false;
}

static const char *frame_key(const json_t *frame)
{
    const char *k = json_string_value(frame);
    return k ? k : "?";
}

int export_collapsed(FILE *out, const json_t *report)
{
    const json_t *stacks = report_stacks(report);
    if (!stacks)
        return -PYSCOPE_ENODATA;
    bool multi = stacks_multithreaded(stacks);
    json_t *index = json_object(); /* line -> position in lines/counts */
    json_t *lines = json_array();
    size_t ncounts = 0;
    long long *counts = NULL;
    size_t i;
    const json_t *stack;
    json_array_foreach(stacks, i, stack)
    {
        double v;
        const json_t *frames = stack_usable(stack, &v);
        if (!frames)
            continue;
        long long count = llround(v);
        if (count <= 0)
            continue;
        struct strbuf b = {0};
        if (multi)
            put_frame(&b, stack_thread(stack));
        size_t j;
        const json_t *frame;
        json_array_foreach(frames, j, frame)
        {
            char *label = funckey_label(frame_key(frame));
            if (b.len)
                strbuf_addc(&b, ';');
            put_frame(&b, label);
            free(label);
        }
        const json_t *pos = json_object_get(index, b.s);
        json_t *str = pos ? NULL : json_string(b.s);
        if (pos) {
            counts[json_integer_value(pos)] += count;
        } else if (str && json_object_set_new(index, b.s, json_integer((json_int_t)ncounts)) == 0) {
            counts = xreallocarray(counts, ncounts + 1, sizeof(*counts));
            counts[ncounts++] = count;
            json_array_append_new(lines, str);
            str = NULL;
        }
        json_decref(str);
        strbuf_release(&b);
    }
    int rc = 0;
    if (ncounts == 0) {
        rc = -PYSCOPE_ENODATA;
        goto out;
    }
    for (size_t k = 0; k < ncounts; k++)
        fprintf(out, "%s %lld\n", json_string_value(json_array_get(lines, k)), counts[k]);
    if (fflush(out) != 0 || ferror(out))
        rc = -EIO;
out:
    free(counts);
    json_decref(lines);
    json_decref(index);
    return rc;
}

/* Return the new speedscope frame object for key (borrowed). */
static json_t *speedscope_frame_new(const char *key)
{
    char *file, *name;
    long line;
    funckey_split(key, &file, &name, &line);
    json_t *f = json_object();
    json_object_set_new(f, "name", json_string(name[0] ? name : key));
    if (file[0] && strcmp(file, "~") != 0) {
        json_object_set_new(f, "file", json_string(file));
        if (line > 0)
            json_object_set_new(f, "line", json_integer(line));
    }
    free(file);
    free(name);
    return f;
}

/* The weight unit of a report's stacks. */
struct weight_unit {
    const char *unit; /* speedscope unit name */
    double scale;     /* weight = samples * scale */
};

static struct weight_unit report_unit(const json_t *report)
{
    const json_t *profile = json_object_get(report, "profile");
    const char *mode = json_string_value(json_object_get(profile, "mode"));
    if (!mode)
        mode = json_string_value(json_object_get(json_object_get(report, "options"), "mode"));
    if (mode && strcmp(mode, "trace") == 0)
        return (struct weight_unit){"microseconds", 1.0};
    const json_t *iv = json_object_get(profile, "interval_s");
    if (!json_is_number(iv))
        iv = json_object_get(json_object_get(report, "options"), "interval_s");
    double interval = json_is_number(iv) ? json_number_value(iv) : 0.0;
    if (isfinite(interval) && interval > 0 && interval < 3600)
        return (struct weight_unit){"seconds", interval};
    return (struct weight_unit){"none", 1.0};
}

int export_speedscope(FILE *out, const json_t *report)
{
    const json_t *stacks = report_stacks(report);
    if (!stacks)
        return -PYSCOPE_ENODATA;
    struct weight_unit unit = report_unit(report);
    json_t *frames = json_array();
    json_t *frame_index = json_object(); /* key -> index in frames */
    json_t *profiles = json_array();
    json_t *profile_index = json_object(); /* thread name -> index in profiles */
    size_t i;
    const json_t *stack;
    json_array_foreach(stacks, i, stack)
    {
        double v;
        const json_t *sframes = stack_usable(stack, &v);
        if (!sframes)
            continue;
        const char *thread = stack_thread(stack);
        const json_t *pos = json_object_get(profile_index, thread);
        json_t *prof;
        if (pos) {
            prof = json_array_get(profiles, (size_t)json_integer_value(pos));
        } else {
            prof = json_pack("{s:s, s:s, s:s, s:i, s:f, s:[], s:[]}", "type", "sampled", "name",
                             thread, "unit", unit.unit, "startValue", 0, "endValue", 0.0, "samples",
                             "weights");
            if (!prof)
                continue; /* thread name not valid UTF-8: cannot happen with jansson input */
            json_object_set_new(profile_index, thread,
                                json_integer((json_int_t)json_array_size(profiles)));
            json_array_append_new(profiles, prof);
        }
        json_t *sample = json_array();
        size_t j;
        const json_t *frame;
        json_array_foreach(sframes, j, frame)
        {
            const char *key = frame_key(frame);
            const json_t *fi = json_object_get(frame_index, key);
            json_int_t idx;
            if (fi) {
                idx = json_integer_value(fi);
            } else {
                idx = (json_int_t)json_array_size(frames);
                json_array_append_new(frames, speedscope_frame_new(key));
                json_object_set_new(frame_index, key, json_integer(idx));
            }
            json_array_append_new(sample, json_integer(idx));
        }
        double w = v * unit.scale;
        json_array_append_new(json_object_get(prof, "samples"), sample);
        json_array_append_new(json_object_get(prof, "weights"), json_real(w));
        json_t *end = json_object_get(prof, "endValue");
        json_real_set(end, json_real_value(end) + w);
    }

    int rc = 0;
    json_t *doc = NULL;
    if (json_array_size(profiles) == 0) {
        rc = -PYSCOPE_ENODATA;
        goto out;
    }
    /* open on the busiest thread */
    size_t active = 0;
    double best = -1;
    json_t *prof;
    json_array_foreach(profiles, i, prof)
    {
        double e = json_real_value(json_object_get(prof, "endValue"));
        if (e > best) {
            best = e;
            active = i;
        }
    }
    const json_t *script = json_object_get(report, "script");
    const char *name = json_string_value(json_object_get(script, "key"));
    if (!name)
        name = json_string_value(json_object_get(script, "path"));
    doc = json_pack("{s:s, s:{s:O}, s:O, s:s, s:i, s:s}", "$schema", SPEEDSCOPE_SCHEMA, "shared",
                    "frames", frames, "profiles", profiles, "name", name ? name : "pyscope",
                    "activeProfileIndex", (int)active, "exporter", "pyscope " PYSCOPE_VERSION);
    if (!doc) {
        rc = -ENOMEM;
        goto out;
    }
    /* names, files and thread names in their safe form (still valid JSON strings) */
    sanitize_json(doc, 0);
    if (json_dumpf(doc, out, JSON_COMPACT) != 0 || fputc('\n', out) == EOF || fflush(out) != 0 ||
        ferror(out))
        rc = -EIO;
out:
    json_decref(doc);
    json_decref(profile_index);
    json_decref(profiles);
    json_decref(frame_index);
    json_decref(frames);
    return rc;
}
