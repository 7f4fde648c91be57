/*
 * flamediff.c - the differential flame graph (see flamediff.h).
 *
 * Design notes: nodes live in one array, node 0 the root; a node's children
 * are found through an open-addressing table keyed by (parent, frame), so
 * adding a stack is linear in its depth. Weights are summed per side while
 * runs are added and divided by the side's run count on the way out.
 * Frame keys are interned once. Everything written into the SVG is a number
 * computed here or escaped text (html_write_escaped).
 */
#include "flamediff.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "funckey.h"
#include "html_text.h"
#include "jsonutil.h"
#include "sanitize.h"
#include "stats.h"
#include "xmalloc.h"

#define FD_MAX_READ   (4 * FLAME_DIFF_MAX_NODES)
#define FD_MAX_FRAMES 100000 /* distinct frames accepted from one diff's input */
#define FD_W          1200.0 /* SVG width */
#define FD_ROW        18.0   /* px per level */
#define FD_CHAR       6.7    /* px per character of the 11px monospace label */
#define FD_MAX_ROWS   48     /* levels drawn */
#define FD_MAX_GONE   8      /* vanished frames listed */

struct fd_node {
    int32_t parent; /* -1 for the root */
    int32_t frame;  /* index into frames; -1 for the root */
    double w[2];    /* summed weights (seconds), per side */
    int32_t kids;   /* first child, -1 none */
    int32_t next;   /* next sibling, -1 none */
    bool keep;      /* survives pruning */
};

struct flame_diff {
    struct fd_node *nodes;
    size_t n, cap;
    char **frames;
    size_t nframes, fcap;
    json_t *frame_index; /* key -> frame index */
    uint64_t *hkeys;     /* (parent + 1) << 32 | frame + 1; 0 = empty slot */
    int32_t *hvals;
    size_t hcap, hcount;
    size_t runs[2];
    double given_total[2]; /* totals read from JSON (flame_diff_from_json), else < 0 */
};

static int32_t fd_add_node(struct flame_diff *fd, int32_t parent, int32_t frame)
{
    if (fd->n == fd->cap) {
        fd->cap = fd->cap ? fd->cap * 2 : 64;
        fd->nodes = xreallocarray(fd->nodes, fd->cap, sizeof(*fd->nodes));
    }
    int32_t id = (int32_t)fd->n++;
    fd->nodes[id] =
        (struct fd_node){.parent = parent, .frame = frame, .kids = -1, .next = -1, .keep = true};
    if (parent >= 0) {
        fd->nodes[id].next = fd->nodes[parent].kids;
        fd->nodes[parent].kids = id;
    }
    return id;
}

struct flame_diff *flame_diff_new(void)
{
    struct flame_diff *fd = xcalloc(1, sizeof(*fd));
    fd->frame_index = json_object();
    fd->given_total[0] = fd->given_total[1] = -1;
    fd_add_node(fd, -1, -1);
    return fd;
}

void flame_diff_destroy(struct flame_diff **p)
{
    struct flame_diff *fd = *p;
    if (!fd)
        return;
    for (size_t i = 0; i < fd->nframes; i++)
        free(fd->frames[i]);
    free(fd->frames);
    free(fd->nodes);
    free(fd->hkeys);
    free(fd->hvals);
    json_decref(fd->frame_index);
    free(fd);
    *p = NULL;
}

static int32_t fd_intern(struct flame_diff *fd, const char *key)
{
    const json_t *pos = json_object_get(fd->frame_index, key);
    if (pos)
        return (int32_t)json_integer_value(pos);
    if (fd->nframes >= FD_MAX_FRAMES)
        return -1;
    if (fd->nframes == fd->fcap) {
        fd->fcap = fd->fcap ? fd->fcap * 2 : 64;
        fd->frames = xreallocarray(fd->frames, fd->fcap, sizeof(*fd->frames));
    }
    fd->frames[fd->nframes] = xstrdup(key);
    json_object_set_new(fd->frame_index, key, json_integer((json_int_t)fd->nframes));
    return (int32_t)fd->nframes++;
}

static uint64_t fd_hash_key(int32_t parent, int32_t frame)
{
    return ((uint64_t)(uint32_t)(parent + 1) << 32) | (uint64_t)(uint32_t)(frame + 1);
}

static size_t fd_slot(const struct flame_diff *fd, uint64_t key)
{
    uint64_t h = key * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17) & (fd->hcap - 1);
}

static void fd_hash_put(struct flame_diff *fd, uint64_t key, int32_t val)
{
    if ((fd->hcount + 1) * 2 > fd->hcap) {
        size_t old = fd->hcap;
        uint64_t *ok = fd->hkeys;
        int32_t *ov = fd->hvals;
        fd->hcap = old ? old * 2 : 256;
        fd->hkeys = xcalloc(fd->hcap, sizeof(*fd->hkeys));
        fd->hvals = xcalloc(fd->hcap, sizeof(*fd->hvals));
        fd->hcount = 0;
        for (size_t i = 0; i < old; i++)
            if (ok[i])
                fd_hash_put(fd, ok[i], ov[i]);
        free(ok);
        free(ov);
    }
    size_t s = fd_slot(fd, key);
    while (fd->hkeys[s] && fd->hkeys[s] != key)
        s = (s + 1) & (fd->hcap - 1);
    if (!fd->hkeys[s])
        fd->hcount++;
    fd->hkeys[s] = key;
    fd->hvals[s] = val;
}

/* The child of parent for frame, made when missing. */
static int32_t fd_child(struct flame_diff *fd, int32_t parent, int32_t frame)
{
    uint64_t key = fd_hash_key(parent, frame);
    if (fd->hcap) {
        size_t s = fd_slot(fd, key);
        while (fd->hkeys[s]) {
            if (fd->hkeys[s] == key)
                return fd->hvals[s];
            s = (s + 1) & (fd->hcap - 1);
        }
    }
    int32_t id = fd_add_node(fd, parent, frame);
    fd_hash_put(fd, key, id);
    return id;
}

/* The key of frame j (borrowed) of a stack, or NULL. */
static const char *fd_frame_key(const json_t *frame, const json_t *functions)
{
    if (json_is_string(frame))
        return json_string_value(frame);
    if (functions && json_is_integer(frame)) {
        json_int_t i = json_integer_value(frame);
        if (i >= 0 && (size_t)i < json_array_size(functions))
            return json_string_value(json_array_get(functions, (size_t)i));
    }
    return NULL;
}

static bool fd_samples(const json_t *stack, double *v)
{
    const json_t *s = json_object_get(stack, "samples");
    if (!json_is_number(s))
        return false;
    *v = json_number_value(s);
    return isfinite(*v) && *v > 0 && json_array_size(json_object_get(stack, "frames")) > 0;
}

bool flame_diff_add_run(struct flame_diff *fd, enum flame_side side, const json_t *stacks,
                        const json_t *functions, double run_seconds)
{
    if (!json_is_array(stacks) || !isfinite(run_seconds) || run_seconds <= 0)
        return false;
    double total = 0, v;
    size_t i;
    const json_t *st;
    json_array_foreach(stacks, i, st)
    {
        if (fd_samples(st, &v))
            total += v;
    }
    if (!(total > 0) || !isfinite(total))
        return false;
    json_array_foreach(stacks, i, st)
    {
        if (!fd_samples(st, &v))
            continue;
        double w = v / total * run_seconds;
        const json_t *frames = json_object_get(st, "frames");
        int32_t node = 0;
        fd->nodes[0].w[side] += w;
        size_t depth = json_array_size(frames);
        if (depth > FLAME_DIFF_MAX_DEPTH)
            depth = FLAME_DIFF_MAX_DEPTH;
        for (size_t j = 0; j < depth; j++) {
            const char *key = fd_frame_key(json_array_get(frames, j), functions);
            int32_t f = fd_intern(fd, key ? key : "?");
            if (f < 0)
                break;
            node = fd_child(fd, node, f);
            fd->nodes[node].w[side] += w;
        }
    }
    fd->runs[side]++;
    return true;
}

bool flame_diff_add_report(struct flame_diff *fd, enum flame_side side, const json_t *report)
{
    const json_t *stacks = json_object_get(json_object_get(report, "profile"), "stacks");
    const json_t *med =
        json_object_get(json_object_get(json_object_get(report, "summary"), "wall_s"), "median");
    double wall = json_is_number(med) ? json_number_value(med) : NAN;
    if (!(isfinite(wall) && wall > 0)) {
        const json_t *runs = json_object_get(report, "runs");
        size_t n = 0, i;
        double *x = xcalloc(json_array_size(runs) + 1, sizeof(*x));
        const json_t *r;
        json_array_foreach(runs, i, r)
        {
            const json_t *w = json_object_get(r, "wall_s");
            if (json_is_number(w) && isfinite(json_number_value(w)) && json_number_value(w) > 0)
                x[n++] = json_number_value(w);
        }
        if (n == 0 || stats_median(x, n, &wall) < 0)
            wall = NAN;
        free(x);
    }
    return flame_diff_add_run(fd, side, stacks, NULL, wall);
}

size_t flame_diff_runs(const struct flame_diff *fd, enum flame_side side)
{
    return fd->runs[side];
}

/* The mean weight of node id on side. */
static double fd_mean(const struct flame_diff *fd, int32_t id, int side)
{
    return fd->runs[side] ? fd->nodes[id].w[side] / (double)fd->runs[side] : 0;
}

double flame_diff_total(const struct flame_diff *fd, enum flame_side side)
{
    if (fd->given_total[side] >= 0)
        return fd->given_total[side];
    return fd_mean(fd, 0, side);
}

static double fd_larger(const struct flame_diff *fd, int32_t id)
{
    return fmax(fd_mean(fd, id, 0), fd_mean(fd, id, 1));
}

struct fd_rank {
    int32_t id;
    double w;
};

static int fd_rank_cmp(const void *a, const void *b)
{
    const struct fd_rank *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

void flame_diff_prune(struct flame_diff *fd, double min_share, size_t max_nodes)
{
    double floor_w = min_share * fmax(flame_diff_total(fd, 0), flame_diff_total(fd, 1));
    struct fd_rank *r = xcalloc(fd->n, sizeof(*r));
    size_t m = 0;
    for (size_t i = 1; i < fd->n; i++) {
        fd->nodes[i].keep = false;
        double w = fd_larger(fd, (int32_t)i);
        if (w >= floor_w && w > 0)
            r[m++] = (struct fd_rank){(int32_t)i, w};
    }
    qsort(r, m, sizeof(*r), fd_rank_cmp);
    size_t kept = 0;
    for (size_t k = 0; k < m && kept < max_nodes; k++) {
        /* the node and every ancestor not yet kept, if they all fit */
        size_t need = 0;
        for (int32_t a = r[k].id; a > 0 && !fd->nodes[a].keep; a = fd->nodes[a].parent)
            need++;
        if (kept + need > max_nodes)
            continue;
        for (int32_t a = r[k].id; a > 0 && !fd->nodes[a].keep; a = fd->nodes[a].parent)
            fd->nodes[a].keep = true;
        kept += need;
    }
    free(r);
}

struct fd_kid {
    int32_t id;
    double cand, base;
};

static int fd_kid_cmp(const void *a, const void *b)
{
    const struct fd_kid *x = a, *y = b;
    if (x->cand != y->cand)
        return x->cand < y->cand ? 1 : -1;
    if (x->base != y->base)
        return x->base < y->base ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The kept children of id, heaviest candidate first (then baseline, then order); new array. */
static int32_t *fd_sorted_kids(const struct flame_diff *fd, int32_t id, size_t *n)
{
    size_t cnt = 0;
    for (int32_t c = fd->nodes[id].kids; c >= 0; c = fd->nodes[c].next)
        cnt += fd->nodes[c].keep;
    struct fd_kid *r = xcalloc(cnt ? cnt : 1, sizeof(*r));
    size_t k = 0;
    for (int32_t c = fd->nodes[id].kids; c >= 0; c = fd->nodes[c].next)
        if (fd->nodes[c].keep)
            r[k++] = (struct fd_kid){c, fd->nodes[c].w[1], fd->nodes[c].w[0]};
    qsort(r, cnt, sizeof(*r), fd_kid_cmp);
    int32_t *out = xcalloc(cnt ? cnt : 1, sizeof(*out));
    for (size_t i = 0; i < cnt; i++)
        out[i] = r[i].id;
    free(r);
    *n = cnt;
    return out;
}

/* Visit the kept nodes below id in pre-order (children heaviest first). */
static void fd_walk(const struct flame_diff *fd, int32_t id, int depth,
                    void (*visit)(const struct flame_diff *, int32_t, int, void *), void *arg)
{
    size_t n;
    int32_t *kids = fd_sorted_kids(fd, id, &n);
    for (size_t i = 0; i < n; i++) {
        visit(fd, kids[i], depth + 1, arg);
        fd_walk(fd, kids[i], depth + 1, visit, arg);
    }
    free(kids);
}

struct fd_json_ctx {
    json_t *nodes, *frames, *frame_map; /* frame_map: old frame index -> new, as json */
    int32_t *out_index;                 /* node id -> index in nodes */
};

static double fd_round(double v)
{
    return v > 0 ? round(v * 1e7) / 1e7 : 0;
}

static void fd_json_visit(const struct flame_diff *fd, int32_t id, int depth, void *arg)
{
    (void)depth;
    struct fd_json_ctx *c = arg;
    const struct fd_node *nd = &fd->nodes[id];
    char k[24];
    snprintf(k, sizeof(k), "%d", nd->frame);
    const json_t *f = json_object_get(c->frame_map, k);
    json_int_t fi;
    if (f) {
        fi = json_integer_value(f);
    } else {
        fi = (json_int_t)json_array_size(c->frames);
        json_array_append_new(c->frames, json_string(fd->frames[nd->frame]));
        json_object_set_new(c->frame_map, k, json_integer(fi));
    }
    c->out_index[id] = (int32_t)json_array_size(c->nodes);
    json_array_append_new(
        c->nodes, json_pack("[i, I, f, f]", nd->parent > 0 ? c->out_index[nd->parent] : -1, fi,
                            fd_round(fd_mean(fd, id, 0)), fd_round(fd_mean(fd, id, 1))));
}

json_t *flame_diff_to_json(const struct flame_diff *fd)
{
    struct fd_json_ctx c = {json_array(), json_array(), json_object(),
                            xcalloc(fd->n, sizeof(int32_t))};
    fd_walk(fd, 0, 0, fd_json_visit, &c);
    json_t *doc = json_pack(
        "{s:I, s:I, s:f, s:f, s:o, s:o}", "baseline_runs", (json_int_t)fd->runs[0],
        "candidate_runs", (json_int_t)fd->runs[1], "baseline_s", fd_round(flame_diff_total(fd, 0)),
        "candidate_s", fd_round(flame_diff_total(fd, 1)), "frames", c.frames, "nodes", c.nodes);
    json_decref(c.frame_map);
    free(c.out_index);
    return doc;
}

/* A finite number >= 0 at v, else false. */
struct flame_diff *flame_diff_from_json(const json_t *doc, char *err, size_t errlen)
{
    const json_t *frames = json_object_get(doc, "frames"), *nodes = json_object_get(doc, "nodes");
    if (!json_is_array(frames) || !json_is_array(nodes)) {
        pyscope_set_err(err, errlen, "a flame diff needs \"frames\" and \"nodes\" arrays");
        return NULL;
    }
    struct flame_diff *fd = flame_diff_new();
    for (int side = 0; side < 2; side++) {
        const json_t *r = json_object_get(doc, side ? "candidate_runs" : "baseline_runs");
        json_int_t runs = json_is_integer(r) ? json_integer_value(r) : 1;
        fd->runs[side] = runs < 1 ? 1 : runs > 100000 ? 100000 : (size_t)runs;
        double t;
        if (json_value_nonneg(json_object_get(doc, side ? "candidate_s" : "baseline_s"), &t))
            fd->given_total[side] = t;
    }
    size_t nn = json_array_size(nodes);
    if (nn > FD_MAX_READ)
        nn = FD_MAX_READ;
    int32_t *made = xcalloc(nn ? nn : 1, sizeof(*made)); /* input index -> node id, 0 = dropped */
    double sum[2] = {0, 0};
    for (size_t i = 0; i < nn; i++) {
        const json_t *n = json_array_get(nodes, i);
        const json_t *p = json_array_get(n, 0), *f = json_array_get(n, 1);
        double w[2];
        if (!json_is_integer(p) || !json_is_integer(f) ||
            !json_value_nonneg(json_array_get(n, 2), &w[0]) ||
            !json_value_nonneg(json_array_get(n, 3), &w[1]))
            continue;
        json_int_t pi = json_integer_value(p), fi = json_integer_value(f);
        if (fi < 0 || (size_t)fi >= json_array_size(frames) || pi < -1 || pi >= (json_int_t)i)
            continue;
        int32_t parent = pi < 0 ? 0 : made[pi];
        if (pi >= 0 && parent == 0)
            continue; /* its parent was dropped */
        const char *key = json_string_value(json_array_get(frames, (size_t)fi));
        int32_t frame = fd_intern(fd, key ? key : "?");
        if (frame < 0)
            continue;
        int32_t id = fd_child(fd, parent, frame);
        for (int side = 0; side < 2; side++) {
            fd->nodes[id].w[side] += w[side] * (double)fd->runs[side];
            if (pi < 0)
                sum[side] += w[side];
        }
        made[i] = id;
    }
    free(made);
    for (int side = 0; side < 2; side++) {
        fd->nodes[0].w[side] = sum[side] * (double)fd->runs[side];
        if (fd->given_total[side] < sum[side])
            fd->given_total[side] = -1; /* inconsistent: use the sum */
    }
    return fd;
}

/* ---- the SVG -------------------------------------------------------------------------- */

struct fd_svg_ctx {
    FILE *out;
    double total;    /* candidate seconds per run: the full width */
    double maxdelta; /* the largest |change| below the root */
    double *x;       /* node id -> left edge */
    double *next_x;  /* node id -> where its next child starts */
    int rows;
};

/* "+31%", "-4.2%", "new" (no baseline time) into buf. */
static void fd_fmt_change(char *buf, size_t n, double base, double cand)
{
    if (base <= 0)
        snprintf(buf, n, cand > 0 ? "new" : "0");
    else {
        double p = 100 * (cand / base - 1);
        snprintf(buf, n, fabs(p) >= 10 ? "%+.0f%%" : "%+.1f%%", p);
    }
}

/* The fill of a frame whose time changed by delta: grey, towards red (grew) or blue (shrank). */
static void fd_fill(char *buf, size_t n, double delta, double maxdelta, double total)
{
    static const double grey[3] = {228, 228, 231}, red[3] = {222, 72, 58}, blue[3] = {70, 122, 222};
    double t = maxdelta > 0 ? fabs(delta) / maxdelta : 0;
    if (fabs(delta) < 0.005 * total) /* below half a percent of the run: the same */
        t = 0;
    const double *to = delta > 0 ? red : blue;
    double k = t > 0 ? 0.2 + 0.8 * fmin(1, t) : 0;
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (int)lround(grey[i] + (to[i] - grey[i]) * k);
    snprintf(buf, n, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/*
 * Write the label text of name that fits in the box's width: counted in
 * characters of its display form (lib/sanitize.h: an ESC shows as the four
 * characters "\x1b"), cut with an ellipsis; nothing when not even three fit.
 */
static void fd_label(FILE *out, const char *name, double width)
{
    long chars = (long)((width - 6) / FD_CHAR);
    if (chars < 3)
        return;
    char *shown = sanitize_dup(name, 0);
    size_t len = strlen(shown), cut = len, count = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)shown[i] & 0xc0) != 0x80) {
            if ((long)count == chars) {
                cut = i;
                break;
            }
            count++;
        }
    }
    if (cut < len) {
        /* room for the ellipsis: drop one more character */
        while (cut > 0 && ((unsigned char)shown[--cut] & 0xc0) == 0x80)
            ;
        html_write_escaped(out, shown, cut);
        fputs("\xe2\x80\xa6", out);
    } else {
        html_write_escaped(out, shown, len);
    }
    free(shown);
}

static void fd_rect(struct fd_svg_ctx *c, const char *name, const char *where, double x, double w,
                    int depth, double base, double cand)
{
    FILE *out = c->out;
    char fill[16], change[32], b[32], a[32];
    fd_fill(fill, sizeof(fill), cand - base, c->maxdelta, c->total);
    fd_fmt_change(change, sizeof(change), base, cand);
    html_fmt_secs(b, sizeof(b), base);
    html_fmt_secs(a, sizeof(a), cand);
    double y = depth * FD_ROW;
    fputs("<g><title>", out);
    html_write_str(out, name);
    if (where && where[0]) {
        fputs(" (", out);
        html_write_str(out, where);
        fputs(")", out);
    }
    fprintf(out, "\n%s \xe2\x86\x92 %s per run (%s)", b, a, change);
    if (c->total > 0)
        fprintf(out, ", %.1f%% of the candidate", 100 * cand / c->total);
    fprintf(out,
            "</title><rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
            "fill=\"%s\"/>",
            x, y, w > 1 ? w - 0.5 : w, FD_ROW - 1, fill);
    if (w >= 3 * FD_CHAR + 6) {
        fprintf(out, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 12.5);
        fd_label(out, name, w);
        fputs("</text>", out);
    }
    fputs("</g>\n", out);
}

static void fd_svg_visit(const struct flame_diff *fd, int32_t id, int depth, void *arg)
{
    struct fd_svg_ctx *c = arg;
    const struct fd_node *nd = &fd->nodes[id];
    double cand = fd_mean(fd, id, 1), base = fd_mean(fd, id, 0);
    double w = c->total > 0 ? FD_W * cand / c->total : 0;
    double x = c->next_x[nd->parent];
    c->x[id] = x;
    c->next_x[id] = x;
    c->next_x[nd->parent] = x + w;
    if (w < 0.3 || depth >= FD_MAX_ROWS)
        return;
    if (depth + 1 > c->rows)
        c->rows = depth + 1;
    char *file, *name;
    long line;
    funckey_split(fd->frames[nd->frame], &file, &name, &line);
    char *where = line > 0 ? xasprintf("%s:%ld", file, line) : xstrdup(file);
    fd_rect(c, name[0] ? name : fd->frames[nd->frame], where, x, w, depth, base, cand);
    free(where);
    free(file);
    free(name);
}

static void fd_max_delta(const struct flame_diff *fd, int32_t id, int depth, void *arg)
{
    (void)depth;
    double *m = arg;
    double d = fabs(fd_mean(fd, id, 1) - fd_mean(fd, id, 0));
    if (d > *m)
        *m = d;
}

struct fd_gone {
    int32_t frame;
    double base;
};

static int fd_gone_cmp(const void *a, const void *b)
{
    const struct fd_gone *x = a, *y = b;
    if (x->base != y->base)
        return (x->base < y->base) - (x->base > y->base);
    return (x->frame > y->frame) - (x->frame < y->frame);
}

/*
 * List the functions the candidate no longer runs, biggest first: a frame with baseline
 * time and none of the candidate's under any caller. A node is a call path, not a
 * function: a path the candidate's samples missed (a recursion that went one level less
 * deep in its runs, the function called from elsewhere now) is not a function gone, and the
 * function it names is listed only when no path of the candidate runs it (a team report
 * blamed fib and said "No longer run: fib" of its deepest sampled recursion). A function
 * gone under several callers is listed once, with its time under all of them.
 */
static void fd_write_gone(FILE *out, const struct flame_diff *fd)
{
    double floor_w = 0.01 * flame_diff_total(fd, 0);
    double *cand = xcalloc(fd->nframes ? fd->nframes : 1, sizeof(*cand));
    struct fd_gone *g = xcalloc(fd->nframes ? fd->nframes : 1, sizeof(*g));
    for (size_t i = 1; i < fd->n; i++)
        cand[fd->nodes[i].frame] += fd_mean(fd, (int32_t)i, 1);
    for (size_t f = 0; f < fd->nframes; f++)
        g[f].frame = (int32_t)f;
    for (size_t i = 1; i < fd->n; i++) {
        const struct fd_node *nd = &fd->nodes[i];
        if (!nd->keep || cand[nd->frame] > 0)
            continue;
        if (nd->parent > 0 && cand[fd->nodes[nd->parent].frame] <= 0)
            continue; /* its caller is gone too: its time is the caller's */
        g[nd->frame].base += fd_mean(fd, (int32_t)i, 0);
    }
    size_t n = 0;
    for (size_t f = 0; f < fd->nframes; f++)
        if (g[f].base > 0 && g[f].base >= floor_w)
            g[n++] = g[f];
    if (n) {
        qsort(g, n, sizeof(*g), fd_gone_cmp);
        fputs("<p class=\"note\">No longer run: ", out);
        for (size_t i = 0; i < n && i < FD_MAX_GONE; i++) {
            char b[32];
            const char *key = fd->frames[g[i].frame];
            html_fmt_secs(b, sizeof(b), g[i].base);
            fputs(i ? ", <code title=\"" : "<code title=\"", out);
            html_write_str(out, key);
            fputs("\">", out);
            char *file, *name;
            long line;
            funckey_split(key, &file, &name, &line);
            html_write_str(out, name[0] ? name : key);
            fprintf(out, "</code> (\xe2\x88\x92%s)", b);
            free(file);
            free(name);
        }
        if (n > FD_MAX_GONE)
            fprintf(out, " and %zu more", n - FD_MAX_GONE);
        fputs(".</p>\n", out);
    }
    free(g);
    free(cand);
}

void flame_diff_write_svg(FILE *out, const struct flame_diff *fd, const char *id)
{
    double base = flame_diff_total(fd, 0), cand = flame_diff_total(fd, 1);
    if (!(base > 0) || !(cand > 0)) {
        fprintf(out, "<p class=\"note\" id=\"%s\">No flame graph diff: %s.</p>\n", id,
                base > 0   ? "the candidate has no stack samples"
                : cand > 0 ? "the baseline has no stack samples"
                           : "neither side has stack samples");
        return;
    }
    struct fd_svg_ctx c = {
        out, cand, 0, xcalloc(fd->n, sizeof(double)), xcalloc(fd->n, sizeof(double)), 1};
    fd_walk(fd, 0, 0, fd_max_delta, &c.maxdelta);
    /* draw into a buffer first: the height depends on the depth drawn */
    char *body = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&body, &blen);
    if (!mem) {
        free(c.x);
        free(c.next_x);
        return;
    }
    c.out = mem;
    fd_rect(&c, "all", NULL, 0, FD_W, 0, base, cand);
    fd_walk(fd, 0, 0, fd_svg_visit, &c);
    fclose(mem);
    fprintf(out,
            "<figure class=\"fdiff\" id=\"%s\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "aria-label=\"differential flame graph\">\n",
            id, FD_W, c.rows * FD_ROW);
    fwrite(body, 1, blen, out);
    free(body);
    char b[32], a[32], change[32];
    html_fmt_secs(b, sizeof(b), base);
    html_fmt_secs(a, sizeof(a), cand);
    fd_fmt_change(change, sizeof(change), base, cand);
    fprintf(out,
            "</svg><figcaption class=\"note\">Widths: the candidate's time per run (%zu run%s); "
            "colour: each frame's change against the baseline (%zu run%s): "
            "<span class=\"fd-up\">red grew</span>, <span class=\"fd-down\">blue shrank</span>, "
            "grey about the same. All: %s \xe2\x86\x92 %s (%s). Hover a frame for its times."
            "</figcaption></figure>\n",
            fd->runs[1], fd->runs[1] == 1 ? "" : "s", fd->runs[0], fd->runs[0] == 1 ? "" : "s", b,
            a, change);
    fd_write_gone(out, fd);
    free(c.x);
    free(c.next_x);
}
