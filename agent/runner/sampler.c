/*
 * sampler.c - sample mode, from outside the script's process (sampler.h).
 *
 * Reads (process_vm_readv): at the start of each pass one batch of where the
 * previous pass found the thread list's head, the thread states, the C
 * frames and the pages of the frames each walk read (sampler_span: on 3.11+
 * a shallow stack is one page, the leaf's, not the three around it that
 * were read before; remotewin.h: used only where what is asked lies inside
 * what the batch read in this pass, and a failed piece ends the read, so the
 * pieces that may fail are last); then one read per window of frames not in
 * the batch (a walk that went past the last one's pages; the next pass reads
 * what this walk read), one per other structure, and two per code object
 * first seen: the object, then the first SAMPLER_STR_AHEAD bytes of both its
 * names in one call (a longer name takes one more; names are read once per
 * identity, codemap.h; raytrace: 119 -> 56 such reads a run). So a pass over
 * one thread whose stack moved little is one read and one pread, and a pass
 * over threads that have not run since their stacks were read is one pread
 * each (sample_still). Nothing is
 * written to the script's process. The thread's CPU clock is read from
 * /proc/PID/task/TID/schedstat (kept open per thread: one pread).
 */
#include "sampler.h"

#include "codemap.h"
#include "log.h"
#include "remotewin.h"
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A stack keeps at most SAMPLER_MAX_DEPTH frames: when deeper, its root-most
 * SAMPLER_ROOT_KEEP and leaf-most others, joined by one "[frames elided]"
 * frame, so that a deep recursion still shows where it came from. The walk
 * stops at SAMPLER_WALK_MAX frames (garbage; a chain that loops is found
 * sooner: walk_frames). */
#define SAMPLER_MAX_DEPTH  1024
#define SAMPLER_ROOT_KEEP  128
#define SAMPLER_LEAF_KEEP  (SAMPLER_MAX_DEPTH - SAMPLER_ROOT_KEEP)
#define SAMPLER_WALK_MAX   65536
#define SAMPLER_ELIDED     1   /* the "address" of the [frames elided] frame */
#define SAMPLER_DEEP_SLOTS 512 /* code objects counted past the leaf part of a deep stack */
#define SAMPLER_NAME_MAX   512
#define SAMPLER_READ_MAX   512 /* bytes of any one structure we read */

/* Threads whose structures the next pass reads in its batch (remotewin.h),
 * and of them those whose frames too. */
#define SAMPLER_GUESS_THREADS 8
#define SAMPLER_GUESS_LEAVES  3

/*
 * The pages of the frames a walk read, which the next pass's batch reads
 * again: at most SAMPLER_SPANS ranges of whole pages, leaf-most first, of
 * SAMPLER_SPAN_PAGES in all (the walk stops adding at either limit; deeper
 * frames are read by window). Whole pages, as process_vm_readv(2) pins each
 * page a range touches: a page costs about the same read in part or in full,
 * and a whole one also holds the frames the script pushed or popped near the
 * ones walked. On 3.11+, whose frames lie one above the other on the data
 * stack, a shallow stack is one page (the leaf's), where the three pages
 * around the leaf were read before; on 3.10 each heap frame object's page is
 * its own range (a function's frame object is mostly reused from call to
 * call: its zombie frame), hence up to 8 pages: a walk of a few frames then
 * needs no window of 4 pages for each frame outside the leaf's. When the leaf's caller lay just
 * below it (a data stack) and the leaf ends within SAMPLER_MARGIN_UP of its page's end, the page
 * above is read too, where the frames of calls made since then are: it is read last, as the walk
 * did not read it (it may not be mapped, and a failed piece ends the read). A walk that leaves
 * these pages reads on by window; the next pass reads what that walk read.
 */
#define SAMPLER_SPANS      8
#define SAMPLER_SPAN_PAGES 8
#define SAMPLER_MARGIN_UP  1024u

struct sampler_span {
    uint64_t lo, hi; /* remote pages [lo, hi), page-aligned */
};

struct sampler_guess {
    uint64_t tstate, cframe; /* addresses the last pass found; 0: none */
    uint64_t leaf_end;       /* the end of the leaf frame the walk read; 0: none */
    bool stacked;            /* the leaf's caller lay just below it: a data stack */
    bool full;               /* the spans took no more frames */
    uint32_t nframes;        /* frames added (span_add) */
    uint32_t nspans, npages;
    struct sampler_span spans[SAMPLER_SPANS];
};

/* The last stack resolved on a thread, root first: the code object
 * addresses and the call-tree node each leads to. */
#define SAMPLER_PATHS 8

/* A new sampler's paths are calloc's zeros, never written before they are used: depth 0 is
 * "nothing known", whatever ti says, so none is reused (a path is 12 KB: setting every ti to
 * -1 at the start of each run wrote 8 pages, 8 page faults of pyscope-run's fixed cost). */
struct sampler_path {
    int ti;          /* the thread's index in the region (what depth counts is of it) */
    uint64_t cursor; /* the death log position it was made at */
    uint32_t depth;  /* positions known */
    uint64_t addr[SAMPLER_MAX_DEPTH + 1];
    uint32_t node[SAMPLER_MAX_DEPTH + 1];
};

/* A thread's schedstat: its run time and the times it was switched in, as
 * the last pass read them, and what its last full sample found. */
struct sampler_clock {
    uint64_t tid;
    int fd;               /* /proc/PID/task/TID/schedstat, -1 when it could not be opened */
    bool ok;              /* run_ns and slices read */
    uint64_t pass;        /* the pass that read them (sampler.npass) */
    uint64_t run_ns;      /* schedstat's first field: time on a CPU */
    uint64_t slices;      /* its third: times switched in */
    uint64_t since_ns;    /* CLOCK_MONOTONIC of the first read that saw these two */
    uint64_t full_run_ns; /* run_ns and slices when its stack was last read */
    uint64_t full_slices;
    int ti;         /* then: its index in the region */
    uint32_t leaf;  /* then: the call-tree node its stack ended on */
    uint32_t depth; /* then: frames walked */
};

/* Threads a pass can find still (sample_still), at most. */
#define SAMPLER_STILL_MAX 8
/* How long a thread's run time and switch-ins must have stood still before
 * its last stack is taken as its current one: a thread on a CPU is charged
 * at every scheduler tick (every 10 ms at the slowest, CONFIG_HZ=100), so
 * unchanged counters over a longer span mean it did not run in it at all. */
#define SAMPLER_STILL_NS 12000000ull

/* How many frames of one walked stack ran a code object (open addressing by address). */
struct sampler_deep {
    uint64_t addr; /* 0: a free slot */
    uint32_t n;
};

struct sampler {
    struct shm_region *region;
    struct shm_layout layout; /* copied once ready */
    pid_t pid;
    bool ready;            /* layout copied */
    struct codemap *codes; /* code object address -> identity */
    uint64_t death_cursor; /* death log entries consumed */
    uint64_t pass_cursor;  /* death_cursor when this pass began (before its batch) */
    uint64_t next_ident;   /* last identity given */
    struct sampler_clock clocks[SHM_MAX_THREADS];
    uint32_t nclocks;
    uint64_t npass;                    /* passes begun */
    uint64_t now_ns;                   /* CLOCK_MONOTONIC at this pass's start */
    uint32_t still[SAMPLER_STILL_MAX]; /* clocks of the threads the last full pass sampled */
    uint32_t nstill;                   /* 0: the last full pass cannot be repeated */
    uint32_t nthreads, nsampled;       /* this full pass: threads met, and sampled with a clock */
    uint64_t still_cursor;             /* death_cursor after the last full pass */
    uint64_t stills;                   /* for PYSCOPE_DEBUG: passes made without a read */
    uint64_t addrs[SAMPLER_MAX_DEPTH + 1];        /* code objects of one stack, leaf first */
    uint64_t roots[SAMPLER_ROOT_KEEP];            /* ring: the walk's frames past the leaf part */
    struct sampler_deep deep[SAMPLER_DEEP_SLOTS]; /* frames per code object past the leaf part */
    uint64_t peeks, stacks, frames; /* for PYSCOPE_DEBUG: single reads, stacks, frames */
    uint64_t torn;                  /* for PYSCOPE_DEBUG: walks that looped (dropped) */
    uint64_t pass_ns;               /* for PYSCOPE_DEBUG: CPU inside the passes */
    struct remotewin win;           /* frames of the walk in progress */
    struct remotebatch batch;       /* this pass's batch: read at its start */
    struct sampler_guess guess[SAMPLER_GUESS_THREADS]; /* found by the last pass */
    uint32_t nguess, nfound;                           /* last pass's, this pass's */
    struct sampler_guess found[SAMPLER_GUESS_THREADS]; /* filled by this pass */
    struct sampler_path paths[SAMPLER_PATHS];          /* by thread index, modulo */
};

/* Copy n bytes at address src of the script's process into dst. */
static bool peek(struct sampler *s, void *dst, uint64_t src, size_t n)
{
    if (!src || n == 0)
        return false;
    const unsigned char *got = remotebatch_get(&s->batch, src, n);
    if (got) {
        memcpy(dst, got, n);
        return true;
    }
    s->peeks++;
    struct iovec local = {dst, n};
    struct iovec remote = {(void *)(uintptr_t)src, n};
    return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

static uint64_t u64_at(const unsigned char *buf, uint32_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

/* Encode code point c as UTF-8 into out (4 bytes); returns its length. */
static size_t utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD; /* a lone surrogate (surrogateescape): not UTF-8 */
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Bytes read at once at each of a code object's two names (file and function): the
 * string's header and its first characters, so that both usually come in one read. */
#define SAMPLER_STR_AHEAD 256

/* n bytes at offset off of the str object at obj into dst: from got (the object's first
 * have bytes, already read) when they are there, else read. */
static bool str_bytes(struct sampler *s, uint64_t obj, const unsigned char *got, size_t have,
                      size_t off, void *dst, size_t n)
{
    if (off <= have && n <= have - off) {
        memcpy(dst, got + off, n);
        return true;
    }
    return peek(s, dst, obj + off, n);
}

/* Read the str object at obj as UTF-8 into buf (truncated to len-1 bytes); got: its first
 * have bytes when already read (have 0: none). */
static bool peek_unicode(struct sampler *s, uint64_t obj, const unsigned char *got, size_t have,
                         char *buf, size_t len)
{
    const struct shm_layout *l = &s->layout;
    unsigned char head[SAMPLER_READ_MAX];
    if (l->compact_data > sizeof(head) || !str_bytes(s, obj, got, have, 0, head, l->compact_data) ||
        u64_at(head, 8) != l->unicode_type)
        return false;
    int64_t n = (int64_t)u64_at(head, l->unicode_length);
    uint32_t state;
    memcpy(&state, head + l->unicode_state, sizeof(state));
    if (n < 0 || !(state & l->state_compact))
        return false;
    if (state & l->state_ascii) {
        size_t take = (size_t)n < len - 1 ? (size_t)n : len - 1;
        if (take && !str_bytes(s, obj, got, have, l->ascii_data, buf, take))
            return false;
        buf[take] = '\0';
        return true;
    }
    /* Compact non-ASCII: code points of 1, 2 or 4 bytes; encode as UTF-8. */
    unsigned kind = (state >> l->state_kind_shift) & l->state_kind_mask;
    if (kind != 1 && kind != 2 && kind != 4)
        return false;
    size_t count = (size_t)n < 128 ? (size_t)n : 128;
    uint8_t raw[128 * 4];
    if (count && !str_bytes(s, obj, got, have, l->compact_data, raw, count * kind))
        return false;
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t c;
        if (kind == 1) {
            c = raw[i];
        } else if (kind == 2) {
            uint16_t v;
            memcpy(&v, raw + 2 * i, 2);
            c = v;
        } else {
            memcpy(&c, raw + 4 * i, 4);
        }
        if (c > 0x10FFFF)
            return false;
        char tmp[4];
        size_t k = utf8_put(c, tmp);
        if (o + k >= len)
            break;
        memcpy(buf + o, tmp, k);
        o += k;
    }
    buf[o] = '\0';
    return true;
}

/* The identity of the code object at addr, registering it (a new identity
 * and function entry) on first sight; 0 when it cannot be read or is not a
 * code object (3.13's f_executable may be None). */
static uint64_t sampler_ident(struct sampler *s, uint64_t addr)
{
    struct shm_region *r = s->region;
    const struct shm_layout *l = &s->layout;
    uint64_t ident = codemap_get(s->codes, addr);
    if (ident)
        return ident;
    if (addr == SAMPLER_ELIDED) {
        static const char file[] = "<pyscope>", name[] = "[frames elided]";
        ident = s->next_ident + 1;
        if (codemap_put(s->codes, addr, ident) < 0 ||
            shm_func_add(r, ident, shm_add_string(r, file, sizeof(file) - 1),
                         shm_add_string(r, name, sizeof(name) - 1), 0, false) < 0)
            return 0;
        s->next_ident = ident;
        return ident;
    }
    unsigned char co[SAMPLER_READ_MAX];
    if (l->code_read > sizeof(co) || !peek(s, co, addr, l->code_read) ||
        u64_at(co, 8) != l->code_type)
        return 0;
    /* Both names' first bytes in one read (a piece that cannot be read whole ends the
     * transfer: then each name is read alone, as much as it needs) */
    uint64_t fobj = u64_at(co, l->code_filename), nobj = u64_at(co, l->code_name);
    unsigned char ahead[2][SAMPLER_STR_AHEAD];
    struct iovec local[2] = {{ahead[0], SAMPLER_STR_AHEAD}, {ahead[1], SAMPLER_STR_AHEAD}};
    struct iovec remote[2] = {{(void *)(uintptr_t)fobj, SAMPLER_STR_AHEAD},
                              {(void *)(uintptr_t)nobj, SAMPLER_STR_AHEAD}};
    s->peeks++;
    ssize_t got = fobj && nobj ? process_vm_readv(s->pid, local, 2, remote, 2, 0) : -1;
    size_t have_f = got >= SAMPLER_STR_AHEAD ? SAMPLER_STR_AHEAD : 0;
    size_t have_n = got >= 2 * SAMPLER_STR_AHEAD ? SAMPLER_STR_AHEAD : 0;
    char file[SAMPLER_NAME_MAX], name[SAMPLER_NAME_MAX];
    if (!peek_unicode(s, fobj, ahead[0], have_f, file, sizeof(file)) ||
        !peek_unicode(s, nobj, ahead[1], have_n, name, sizeof(name)))
        return 0;
    int32_t line;
    memcpy(&line, co + l->code_firstlineno, sizeof(line));
    ident = s->next_ident + 1;
    if (codemap_put(s->codes, addr, ident) < 0 ||
        shm_func_add(r, ident, shm_add_string(r, file, strlen(file)),
                     shm_add_string(r, name, strlen(name)), line, false) < 0) {
        codemap_forget(s->codes, addr);
        return 0;
    }
    s->next_ident = ident;
    return ident;
}

/* True when a code object of the stack (addrs[0..depth)) was freed in death
 * log entries [from, to): the stack was read while it unwound. */
static bool stack_raced(const struct sampler *s, size_t depth, uint64_t from, uint64_t to)
{
    if (to - from > SHM_DEATHS)
        return true;
    for (uint64_t d = from; d < to; d++) {
        uint64_t dead = s->region->deaths[d % SHM_DEATHS];
        for (size_t i = 0; i < depth; i++)
            if (s->addrs[i] == dead)
                return true;
    }
    return false;
}

/* The clock of thread tid of the script (made on first sight), NULL when there is no room. */
static struct sampler_clock *clock_of(struct sampler *s, uint64_t tid)
{
    for (uint32_t i = 0; i < s->nclocks; i++)
        if (s->clocks[i].tid == tid)
            return &s->clocks[i];
    if (s->nclocks == SHM_MAX_THREADS)
        return NULL;
    struct sampler_clock *c = &s->clocks[s->nclocks++];
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%llu/schedstat", (int)s->pid,
             (unsigned long long)tid);
    *c = (struct sampler_clock){.tid = tid, .fd = open(path, O_RDONLY | O_CLOEXEC), .ti = -1};
    return c;
}

/* Read c's schedstat, once per pass: c->ok, run_ns, slices, since_ns. */
static void clock_read(struct sampler *s, struct sampler_clock *c)
{
    if (c->pass == s->npass)
        return;
    c->pass = s->npass;
    char buf[96];
    ssize_t n = c->fd >= 0 ? pread(c->fd, buf, sizeof(buf) - 1, 0) : -1;
    c->ok = false;
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *p = buf, *end;
    uint64_t run = strtoull(p, &end, 10);
    if (end == p)
        return;
    (void)strtoull(p = end, &end, 10); /* the run-queue delay: contention.c's */
    uint64_t slices = strtoull(p = end, &end, 10);
    if (end == p)
        return;
    if (run != c->run_ns || slices != c->slices || !c->since_ns) {
        c->run_ns = run;
        c->slices = slices;
        c->since_ns = s->now_ns;
    }
    c->ok = true;
}

/* The CPU time of thread tid of the script so far (ns), 0 when unknown. */
static uint64_t thread_cpu_ns(struct sampler *s, uint64_t tid)
{
    struct sampler_clock *c = clock_of(s, tid);
    if (!c)
        return 0;
    clock_read(s, c);
    return c->ok ? c->run_ns : 0;
}

/* The Linux TID of the thread whose state we read into ts. */
static uint64_t thread_tid(struct sampler *s, const unsigned char *ts)
{
    const struct shm_layout *l = &s->layout;
    if (l->tstate_native_id != SHM_NONE)
        return u64_at(ts, l->tstate_native_id);
    int32_t tid = 0;
    uint64_t pthread = u64_at(ts, l->tstate_pthread);
    if (l->pthread_tid == SHM_NONE || !peek(s, &tid, pthread + l->pthread_tid, sizeof(tid)))
        return 0;
    return (uint64_t)tid;
}

/*
 * Walk the frame chain from fp (the leaf): the code object of each frame goes
 * to s->addrs (leaf-most SAMPLER_LEAF_KEEP) and the ring s->roots (the rest).
 * Returns the number of frames, or 0 when none could be read or the chain is
 * torn: a "previous" pointer read while the script changed it can lead back
 * to a frame already walked. Brent's cycle check (one saved pointer, compared
 * at each step, moved at each power of two) finds such a loop within about
 * twice its start plus its length, instead of walking it SAMPLER_WALK_MAX
 * frames deep (a loop of shim frames, which are not counted, would never end).
 */
/* The slot of addr in s->deep (counting a new one when add), or NULL: not there, or full. */
static struct sampler_deep *deep_slot(struct sampler *s, uint64_t addr, bool add)
{
    uint32_t i = (uint32_t)((addr * 0x9E3779B97F4A7C15ULL) >> 55) & (SAMPLER_DEEP_SLOTS - 1);
    for (uint32_t probe = 0; probe < SAMPLER_DEEP_SLOTS; probe++) {
        struct sampler_deep *d = &s->deep[i];
        if (d->addr == addr)
            return d;
        if (!d->addr) {
            if (!add)
                return NULL;
            d->addr = addr;
            return d;
        }
        i = (i + 1) & (SAMPLER_DEEP_SLOTS - 1);
    }
    return NULL;
}

/*
 * A stack deeper than SAMPLER_MAX_DEPTH keeps only its ends, so the call tree
 * cannot tell how deep a recursion through the elided middle went: each code
 * object of the walk past its leaf part was counted (walk_frames); add its
 * frames in the leaf part and keep, per function, the most frames one stack
 * gave it (shm_func.depth, the report's max_depth). Functions met only in the
 * leaf part are counted by the tree.
 */
static void deep_depths(struct sampler *s)
{
    struct shm_region *r = s->region;
    for (size_t k = 0; k < SAMPLER_LEAF_KEEP; k++) {
        struct sampler_deep *d = s->addrs[k] ? deep_slot(s, s->addrs[k], false) : NULL;
        if (d)
            d->n++;
    }
    for (size_t i = 0; i < SAMPLER_DEEP_SLOTS; i++) {
        const struct sampler_deep *d = &s->deep[i];
        uint64_t ident = d->addr ? codemap_get(s->codes, d->addr) : 0;
        int64_t fi = ident ? shm_func_find(r, ident) : -1;
        if (fi >= 0 && r->funcs[fi].depth < d->n)
            r->funcs[fi].depth = d->n;
    }
}

/* Add the pages of the frame [fp, fp + n) that a walk read to g (while there
 * is room: the spans keep the leaf-most frames). */
static void span_add(struct sampler_guess *g, uint64_t fp, uint32_t n)
{
    if (!g || g->full)
        return;
    const uint64_t page = REMOTEWIN_PAGE;
    uint64_t lo = fp & ~(page - 1), hi = (fp + n + page - 1) & ~(page - 1);
    if (g->nframes == 0)
        g->leaf_end = fp + n;
    else if (g->nframes == 1) /* the leaf's caller */
        g->stacked = fp + n < g->leaf_end && g->leaf_end - (fp + n) < page;
    g->nframes++;
    for (uint32_t k = 0; k < g->nspans; k++) {
        struct sampler_span *sp = &g->spans[k];
        if (lo > sp->hi || hi < sp->lo)
            continue; /* neither on nor next to its pages */
        uint64_t nlo = lo < sp->lo ? lo : sp->lo, nhi = hi > sp->hi ? hi : sp->hi;
        uint32_t more = (uint32_t)((nhi - nlo - (sp->hi - sp->lo)) / page);
        if (g->npages + more > SAMPLER_SPAN_PAGES) {
            g->full = true;
            return;
        }
        sp->lo = nlo;
        sp->hi = nhi;
        g->npages += more;
        return;
    }
    uint32_t pages = (uint32_t)((hi - lo) / page);
    if (g->nspans == SAMPLER_SPANS || g->npages + pages > SAMPLER_SPAN_PAGES) {
        g->full = true;
        return;
    }
    g->spans[g->nspans++] = (struct sampler_span){lo, hi};
    g->npages += pages;
}

static size_t walk_frames(struct sampler *s, uint64_t fp, struct sampler_guess *g)
{
    const struct shm_layout *l = &s->layout;
    if (l->frame_read > REMOTEWIN_SPAN)
        return 0;
    /* One moment's copy per walk: never a window of an earlier walk. */
    remotewin_reset(&s->win);
    size_t walked_frames = 0;
    uint64_t saved = fp; /* Brent: the pointer the next ones are compared with */
    size_t power = 1, since = 0;
    while (fp && walked_frames < SAMPLER_WALK_MAX) {
        const unsigned char *f = remotebatch_get(&s->batch, fp, l->frame_read);
        if (!f)
            f = remotewin_get(&s->win, fp, l->frame_read);
        if (!f)
            break;
        span_add(g, fp, l->frame_read);
        bool shim = l->frame_owner != SHM_NONE && f[l->frame_owner] == l->owner_skip;
        if (!shim) {
            uint64_t code = u64_at(f, l->frame_code);
            if (walked_frames < SAMPLER_LEAF_KEEP) {
                s->addrs[walked_frames] = code;
            } else {
                if (walked_frames == SAMPLER_LEAF_KEEP)
                    memset(s->deep, 0, sizeof(s->deep));
                struct sampler_deep *d = code ? deep_slot(s, code, true) : NULL;
                if (d)
                    d->n++;
                s->roots[(walked_frames - SAMPLER_LEAF_KEEP) % SAMPLER_ROOT_KEEP] = code;
            }
            walked_frames++;
        }
        fp = u64_at(f, l->frame_previous);
        if (fp == saved) {
            s->torn++;
            return 0;
        }
        if (++since == power) {
            saved = fp;
            power *= 2;
            since = 0;
        }
    }
    return walked_frames;
}

/* One sample of thread ti (Linux TID tid) on node, with cpu_delta of CPU; and what a
 * pass that finds the thread still repeats (sample_still). */
static void file_sample(struct sampler *s, int ti, uint64_t tid, uint32_t node, uint64_t cpu_delta,
                        size_t walked_frames)
{
    struct shm_region *r = s->region;
    struct shm_thread *th = &r->threads[ti];
    r->nodes[node].self++;
    r->nodes[node].cpu_ns += cpu_delta;
    s->stacks++;
    s->frames += walked_frames;
    th->samples++;
    th->cpu_ns += cpu_delta;
    struct sampler_clock *c = tid ? clock_of(s, tid) : NULL;
    if (c && c->ok && s->nsampled < SAMPLER_STILL_MAX) {
        c->full_run_ns = c->run_ns;
        c->full_slices = c->slices;
        c->ti = ti;
        c->leaf = node;
        c->depth = (uint32_t)walked_frames;
        s->still[s->nsampled++] = (uint32_t)(c - s->clocks);
    }
}

/* Record the stack of the thread at tsp (its state read into ts). */
static void sample_thread(struct sampler *s, uint64_t tsp, const unsigned char *ts)
{
    struct shm_region *r = s->region;
    const struct shm_layout *l = &s->layout;
    uint64_t fp = u64_at(ts, l->tstate_frame);
    struct sampler_guess *g = s->nfound < SAMPLER_GUESS_THREADS ? &s->found[s->nfound++] : NULL;
    if (g)
        *g = (struct sampler_guess){.tstate = tsp};
    if (l->cframe_frame != SHM_NONE && fp) {
        uint64_t cframe = fp;
        if (g)
            g->cframe = cframe;
        if (!peek(s, &fp, cframe + l->cframe_frame, sizeof(fp)))
            fp = 0;
    }
    if (!fp)
        return; /* no Python code running on this thread */
    uint64_t tid = thread_tid(s, ts);
    int ti = shm_thread_get(r, tsp, tid);
    if (ti < 0) {
        r->dropped++;
        return;
    }
    struct shm_thread *th = &r->threads[ti];
    if (tsp == l->main_tstate)
        th->is_main = 1;
    uint64_t cpu = tid ? thread_cpu_ns(s, tid) : 0;
    uint64_t cpu_delta = cpu > th->last_cpu_ns && th->last_cpu_ns ? cpu - th->last_cpu_ns : 0;
    if (cpu)
        th->last_cpu_ns = cpu;

    size_t depth = 0;
    codemap_sync(s->codes, r, &s->death_cursor);
    size_t walked_frames = walk_frames(s, fp, g);
    if (walked_frames == 0)
        return;
    depth = walked_frames < SAMPLER_LEAF_KEEP ? walked_frames : SAMPLER_LEAF_KEEP;
    if (walked_frames > SAMPLER_MAX_DEPTH)
        s->addrs[depth++] = SAMPLER_ELIDED;          /* the middle of a deep stack */
    size_t rest = walked_frames - SAMPLER_LEAF_KEEP; /* frames in the ring, when positive */
    if (walked_frames > SAMPLER_LEAF_KEEP) {
        size_t keep = rest < SAMPLER_ROOT_KEEP ? rest : SAMPLER_ROOT_KEEP;
        for (size_t k = rest - keep; k < rest; k++)
            s->addrs[depth++] = s->roots[k % SAMPLER_ROOT_KEEP];
    }
    /* Deaths since the pass began (before its batch read some of these
     * frames): a code object of the stack freed since then may have lent its
     * address to another, so the stack is dropped rather than misnamed. */
    uint64_t walked = s->pass_cursor;
    codemap_sync(s->codes, r, &s->death_cursor);
    if (s->death_cursor != walked && stack_raced(s, depth, walked, s->death_cursor))
        return;
    if (walked_frames > SAMPLER_MAX_DEPTH)
        deep_depths(s);
    /* The thread's last path: its root-most frames that are the same code
     * objects as this stack's are the same nodes, unless a code object died
     * since (an address would then stand for another function). */
    struct sampler_path *path = &s->paths[(uint32_t)ti % SAMPLER_PATHS];
    size_t same = 0;
    if (path->ti == ti && path->cursor == s->death_cursor)
        while (same < path->depth && same < depth && path->addr[same] == s->addrs[depth - 1 - same])
            same++;
    path->ti = ti;
    path->cursor = s->death_cursor;
    path->depth = (uint32_t)same;
    bool extend = true; /* no frame skipped yet: the path may grow */
    uint32_t node = same ? path->node[same - 1] : 0;
    for (size_t pos = same; pos < depth; pos++) {
        uint64_t addr = s->addrs[depth - 1 - pos];
        uint64_t ident = sampler_ident(s, addr);
        if (!ident) {
            extend = false;
            continue; /* unreadable frame (racing with its exit), or no code: skip it */
        }
        uint32_t next = shm_node_find(r, node, ident, (uint32_t)ti);
        if (!next) {
            int64_t fi = shm_func_find(r, ident);
            if (fi < 0) {
                extend = false;
                continue;
            }
            next = shm_node_add(r, node, ident, (uint32_t)fi, (uint32_t)ti);
            if (!next) {
                r->dropped++;
                return;
            }
        }
        node = next;
        if (extend) {
            path->addr[pos] = addr;
            path->node[pos] = node;
            path->depth = (uint32_t)pos + 1;
        }
    }
    if (node)
        file_sample(s, ti, tid, node, cpu_delta, walked_frames);
}

/* Read, in one call, where the last pass found things (remotewin.h): the
 * thread list's head, then each thread state, each C frame's slot, and the
 * pages of the frames each walk read (sampler_span); last, the page above a
 * leaf near its page's end, which the last walk did not read (it may not be
 * mapped, and a failed piece ends the read). */
static void batch_guesses(struct sampler *s)
{
    const struct shm_layout *l = &s->layout;
    struct remotebatch *b = &s->batch;
    remotebatch_clear(b);
    remotebatch_add(b, l->interp + l->interp_tstate_head, sizeof(uint64_t));
    for (uint32_t i = 0; i < s->nguess; i++)
        remotebatch_add(b, s->guess[i].tstate, l->tstate_read);
    if (l->cframe_frame != SHM_NONE)
        for (uint32_t i = 0; i < s->nguess; i++)
            if (s->guess[i].cframe)
                remotebatch_add(b, s->guess[i].cframe + l->cframe_frame, sizeof(uint64_t));
    for (uint32_t i = 0; i < s->nguess && i < SAMPLER_GUESS_LEAVES; i++)
        for (uint32_t k = 0; k < s->guess[i].nspans; k++)
            remotebatch_add(b, s->guess[i].spans[k].lo,
                            (size_t)(s->guess[i].spans[k].hi - s->guess[i].spans[k].lo));
    for (uint32_t i = 0; i < s->nguess && i < SAMPLER_GUESS_LEAVES; i++) {
        const struct sampler_guess *g = &s->guess[i];
        uint64_t above = (g->leaf_end + REMOTEWIN_PAGE - 1) & ~(uint64_t)(REMOTEWIN_PAGE - 1);
        if (!g->stacked || g->leaf_end + SAMPLER_MARGIN_UP <= above)
            continue;
        bool read = false;
        for (uint32_t k = 0; k < g->nspans; k++)
            read = read || (above >= g->spans[k].lo && above < g->spans[k].hi);
        if (!read)
            remotebatch_add(b, above, REMOTEWIN_PAGE);
    }
    remotebatch_read(b, s->pid);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * A pass without reading the script's memory, when it cannot have changed
 * what the last full pass read: every thread that pass met was sampled, none
 * of them has run since (schedstat's run time and switch-ins unchanged since
 * that read, over more than a scheduler tick: SAMPLER_STILL_NS) and no code
 * object died. A thread that does not run cannot change its own frames, and
 * threads start and end only by running. Each gets a sample on the leaf of
 * its last stack (no CPU: it had none), exactly what a read would have
 * filed. A sleeping script's pass is then one pread per thread instead of a
 * process_vm_readv and a pread (the read is the costlier system call).
 */
static bool sample_still(struct sampler *s)
{
    if (!s->nstill || s->death_cursor != s->still_cursor)
        return false;
    for (uint32_t i = 0; i < s->nstill; i++) {
        struct sampler_clock *c = &s->clocks[s->still[i]];
        clock_read(s, c);
        if (!c->ok || c->run_ns != c->full_run_ns || c->slices != c->full_slices ||
            s->now_ns - c->since_ns < SAMPLER_STILL_NS)
            return false;
    }
    struct shm_region *r = s->region;
    for (uint32_t i = 0; i < s->nstill; i++) {
        const struct sampler_clock *c = &s->clocks[s->still[i]];
        r->nodes[c->leaf].self++;
        r->threads[c->ti].samples++;
        s->stacks++;
        s->frames += c->depth;
    }
    s->stills++;
    return true;
}

static void sample_pass(struct sampler *s)
{
    const struct shm_layout *l = &s->layout;
    s->npass++;
    s->now_ns = mono_ns();
    codemap_sync(s->codes, s->region, &s->death_cursor);
    if (sample_still(s)) {
        s->region->passes++;
        return;
    }
    s->nthreads = s->nsampled = 0;
    s->pass_cursor = s->death_cursor;
    batch_guesses(s);
    s->nfound = 0;
    uint64_t tsp = 0;
    if (!peek(s, &tsp, s->layout.interp + l->interp_tstate_head, sizeof(tsp)))
        return;
    unsigned char ts[SAMPLER_READ_MAX * 4];
    if (l->tstate_read > sizeof(ts))
        return;
    bool whole = true; /* the thread list read to its end */
    for (int n = 0; tsp; n++) {
        if (n == SHM_MAX_THREADS || !peek(s, ts, tsp, l->tstate_read)) {
            whole = false;
            break;
        }
        s->nthreads++;
        sample_thread(s, tsp, ts);
        tsp = u64_at(ts, l->tstate_next);
    }
    /* The next pass may repeat this one when every thread was sampled (sample_still). */
    bool all = whole && s->nsampled == s->nthreads;
    s->nstill = all ? s->nsampled : 0;
    codemap_sync(s->codes, s->region, &s->death_cursor);
    s->still_cursor = s->pass_cursor; /* a death during this pass: no repeat */
    /* The next pass's guesses; this pass's batch is not used again. */
    memcpy(s->guess, s->found, sizeof(s->found[0]) * s->nfound);
    s->nguess = s->nfound;
    remotebatch_clear(&s->batch);
    s->region->passes++;
}

static uint64_t own_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void sampler_tick(struct sampler *s)
{
    struct shm_region *r = s->region;
    if (!s->ready && __atomic_load_n(&r->layout_ready, __ATOMIC_ACQUIRE)) {
        s->layout = r->layout;
        s->pid = (pid_t)r->pid;
        remotewin_init(&s->win, s->pid);
        s->ready = true;
    }
    if (!s->ready || !__atomic_load_n(&r->started, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&r->stopped, __ATOMIC_ACQUIRE))
        return;
    /* the CPU clock of a thread is a system call, not the vDSO: only for PYSCOPE_DEBUG */
    bool debug = log_get_level() >= LOG_LEVEL_DEBUG;
    uint64_t t0 = debug ? own_cpu_ns() : 0;
    sample_pass(s);
    if (debug)
        s->pass_ns += own_cpu_ns() - t0;
}

struct sampler *sampler_new(struct shm_region *region)
{
    struct sampler *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->codes = codemap_new();
    if (!s->codes) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    s->region = region;
    return s;
}

void sampler_reads(const struct sampler *s, struct sampler_reads *out)
{
    *out = (struct sampler_reads){.batch_reads = s->batch.reads,
                                  .batch_pages = s->batch.pages,
                                  .batch_bytes = s->batch.bytes,
                                  .window_reads = s->win.reads,
                                  .other_reads = s->peeks};
}

void sampler_finish(struct sampler **sp, uint64_t cpu_ns)
{
    struct sampler *s = *sp;
    if (!s)
        return;
    struct shm_region *r = s->region;
    r->sampler_cpu_ns = cpu_ns;
    log_debug(
        "sampler: %llu passes, %llu stacks of %llu frames, %llu torn (dropped); %llu batch "
        "reads (%.2f pages, %.0f bytes each), %llu window reads, %llu other reads, %llu "
        "passes without a read (threads still); %.1f us of CPU per stack (the "
        "supervisor's wait loop), %.1f us of it in the passes",
        (unsigned long long)r->passes, (unsigned long long)s->stacks, (unsigned long long)s->frames,
        (unsigned long long)s->torn, (unsigned long long)s->batch.reads,
        s->batch.reads ? (double)s->batch.pages / (double)s->batch.reads : 0.0,
        s->batch.reads ? (double)s->batch.bytes / (double)s->batch.reads : 0.0,
        (unsigned long long)s->win.reads, (unsigned long long)s->peeks,
        (unsigned long long)s->stills, s->stacks ? (double)cpu_ns / 1e3 / (double)s->stacks : 0.0,
        s->stacks ? (double)s->pass_ns / 1e3 / (double)s->stacks : 0.0);
    for (uint32_t i = 0; i < s->nclocks; i++)
        if (s->clocks[i].fd >= 0)
            close(s->clocks[i].fd);
    codemap_destroy(&s->codes);
    free(s);
    *sp = NULL;
}
