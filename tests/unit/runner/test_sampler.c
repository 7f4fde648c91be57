/* test_sampler.c - the sampler against a fake interpreter in this test's own
 * memory (process_vm_readv of itself): what it reads by batch, by window and
 * from its per-thread path cache is never an earlier moment's, and an address
 * whose code object died never keeps its old name; a frame chain that loops
 * is dropped. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "remotewin.h"
#include "sampler.h"
#include "shm.h"

/* Just enough of CPython's shapes for the sampler (offsets published below). */
struct fake_str {
    uint64_t refcnt, type;
    int64_t length;
    uint64_t hash;
    uint32_t state, pad;
    char data[48];
};
struct fake_code {
    uint64_t refcnt, type, filename, name;
    int32_t firstlineno, pad;
};
struct fake_frame {
    uint64_t code, previous;
};
struct fake_tstate {
    uint64_t next, native_id, pthread, frame;
};

static uint64_t code_type, unicode_type; /* their addresses stand for the types */
static struct fake_str file_s, main_s, old_s, new_s, other_s;
static struct fake_code code_main, code_work, code_other;
static struct fake_frame stack[64]; /* a data stack: callers below callees */
static struct fake_tstate tstate;
static uint64_t interp_head;

#define STATE_COMPACT (1u << 5)
#define STATE_ASCII   (1u << 6)

static void set_str(struct fake_str *s, const char *text)
{
    s->type = (uint64_t)(uintptr_t)&unicode_type;
    s->length = (int64_t)strlen(text);
    s->state = STATE_COMPACT | STATE_ASCII | (1u << 2);
    memset(s->data, 0, sizeof(s->data));
    memcpy(s->data, text, strlen(text));
}

static void set_code(struct fake_code *c, struct fake_str *name, int line)
{
    c->type = (uint64_t)(uintptr_t)&code_type;
    c->filename = (uint64_t)(uintptr_t)&file_s;
    c->name = (uint64_t)(uintptr_t)name;
    c->firstlineno = line;
}

static void publish(struct shm_region *r)
{
    struct shm_layout *l = &r->layout;
    memset(l, 0, sizeof(*l));
    l->tstate_read = sizeof(struct fake_tstate);
    l->interp = (uint64_t)(uintptr_t)&interp_head;
    l->main_tstate = (uint64_t)(uintptr_t)&tstate;
    l->code_type = (uint64_t)(uintptr_t)&code_type;
    l->unicode_type = (uint64_t)(uintptr_t)&unicode_type;
    l->interp_tstate_head = 0;
    l->tstate_next = offsetof(struct fake_tstate, next);
    l->tstate_native_id = offsetof(struct fake_tstate, native_id);
    l->tstate_pthread = offsetof(struct fake_tstate, pthread);
    l->pthread_tid = SHM_NONE;
    l->tstate_frame = offsetof(struct fake_tstate, frame);
    l->cframe_frame = SHM_NONE;
    l->frame_code = offsetof(struct fake_frame, code);
    l->frame_previous = offsetof(struct fake_frame, previous);
    l->frame_owner = SHM_NONE;
    l->frame_read = sizeof(struct fake_frame);
    l->code_filename = offsetof(struct fake_code, filename);
    l->code_name = offsetof(struct fake_code, name);
    l->code_firstlineno = offsetof(struct fake_code, firstlineno);
    l->code_read = sizeof(struct fake_code);
    l->unicode_length = offsetof(struct fake_str, length);
    l->unicode_state = offsetof(struct fake_str, state);
    l->state_compact = STATE_COMPACT;
    l->state_ascii = STATE_ASCII;
    l->state_kind_shift = 2;
    l->state_kind_mask = 7;
    l->ascii_data = offsetof(struct fake_str, data);
    l->compact_data = offsetof(struct fake_str, data);
    r->pid = (uint32_t)getpid();
    __atomic_store_n(&r->layout_ready, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
}

/* Let the sampler make n more passes (the supervisor's wait loop calls sampler_tick). */
static void passes(struct sampler *s, struct shm_region *r, uint64_t n)
{
    uint64_t want = r->passes + n;
    for (uint64_t i = 0; i < n; i++)
        sampler_tick(s);
    assert_int_equal(r->passes, want);
}

/* Samples on the leaf nodes named name (whose parent is named parent). */
static uint64_t self_of(const struct shm_region *r, const char *name, const char *parent)
{
    uint64_t n = 0;
    for (uint32_t i = 1; i < __atomic_load_n(&r->nnodes, __ATOMIC_ACQUIRE); i++) {
        const struct shm_node *nd = &r->nodes[i];
        if (strcmp(shm_string(r, r->funcs[nd->func].name_off), name) != 0)
            continue;
        if (!nd->parent ||
            strcmp(shm_string(r, r->funcs[r->nodes[nd->parent].func].name_off), parent) != 0)
            continue;
        n += __atomic_load_n(&nd->self, __ATOMIC_RELAXED);
    }
    return n;
}

/* The one thread's leaf frame is leaf; a region, its sampler (1 ms), n passes made. */
static struct sampler *start_after(struct fake_frame *leaf, struct shm_region **rp, uint64_t n)
{
    tstate.native_id = (uint64_t)gettid();
    tstate.frame = (uint64_t)(uintptr_t)leaf;
    interp_head = (uint64_t)(uintptr_t)&tstate;
    struct shm_region *r = shm_map(1);
    assert_non_null(r);
    publish(r);
    struct sampler *s = sampler_new(r);
    assert_non_null(s);
    passes(s, r, n);
    *rp = r;
    return s;
}

static struct sampler *start_at(struct fake_frame *leaf, struct shm_region **rp)
{
    return start_after(leaf, rp, 10);
}

static void log_death(struct shm_region *r, uint64_t addr)
{
    r->deaths[r->deaths_written % SHM_DEATHS] = addr;
    __atomic_store_n(&r->deaths_written, r->deaths_written + 1, __ATOMIC_RELEASE);
}

/*
 * main -> work at the same code address throughout; then that code object
 * "dies" and another takes its address (new name): from then on every sample
 * must go to the new name (the path cache would otherwise reuse the old node).
 * Then the thread's frame moves to another frame (other): the batch must not
 * serve the previous pass's frame pointer.
 */
/* Name the fake code objects: main (line 1), code_work work (10), code_other
 * other (20), all in fake.py. */
static void name_fake_code(const char *work, const char *other)
{
    set_str(&file_s, "fake.py");
    set_str(&main_s, "main");
    set_str(&old_s, work);
    set_str(&other_s, other);
    set_code(&code_main, &main_s, 1);
    set_code(&code_work, &old_s, 10);
    set_code(&code_other, &other_s, 20);
}

static void test_reused_address_and_moved_stack(void **state)
{
    (void)state;
    name_fake_code("work_old", "other");
    set_str(&new_s, "work_new");
    stack[10].code = (uint64_t)(uintptr_t)&code_main;
    stack[10].previous = 0;
    stack[11].code = (uint64_t)(uintptr_t)&code_work;
    stack[11].previous = (uint64_t)(uintptr_t)&stack[10];
    stack[40].code = (uint64_t)(uintptr_t)&code_other;
    stack[40].previous = (uint64_t)(uintptr_t)&stack[10];
    struct shm_region *r;
    struct sampler *s = start_at(&stack[11], &r);
    assert_true(self_of(r, "work_old", "main") > 0);

    /* The code object at code_work's address dies; another is born there. */
    set_code(&code_work, &new_s, 30);
    log_death(r, (uint64_t)(uintptr_t)&code_work);
    passes(s, r, 3); /* a pass that began before the death may still file it */
    uint64_t old_then = self_of(r, "work_old", "main");
    passes(s, r, 10);
    assert_int_equal(self_of(r, "work_old", "main"), old_then);
    assert_true(self_of(r, "work_new", "main") > 0);

    /* The thread moves on to another frame. */
    __atomic_store_n(&tstate.frame, (uint64_t)(uintptr_t)&stack[40], __ATOMIC_RELEASE);
    passes(s, r, 3);
    uint64_t new_then = self_of(r, "work_new", "main");
    passes(s, r, 10);
    assert_int_equal(self_of(r, "work_new", "main"), new_then);
    assert_true(self_of(r, "other", "main") > 0);

    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/* Samples on every node. */
static uint64_t all_self(const struct shm_region *r)
{
    uint64_t n = 0;
    for (uint32_t i = 1; i < __atomic_load_n(&r->nnodes, __ATOMIC_ACQUIRE); i++)
        n += __atomic_load_n(&r->nodes[i].self, __ATOMIC_RELAXED);
    return n;
}

/*
 * A torn chain: the leaf's caller's "previous" leads back to the leaf (a
 * frame read while the script changed it). The walk must see the loop and
 * drop the stack, not walk it 65,536 frames deep and file that; once the
 * chain is whole again, stacks are filed as before.
 */
static void test_torn_chain(void **state)
{
    (void)state;
    set_str(&file_s, "fake.py");
    set_str(&main_s, "main");
    set_str(&other_s, "other");
    set_code(&code_main, &main_s, 1);
    set_code(&code_other, &other_s, 20);
    stack[50].code = (uint64_t)(uintptr_t)&code_other;
    stack[50].previous = (uint64_t)(uintptr_t)&stack[51];
    stack[51].code = (uint64_t)(uintptr_t)&code_main;
    stack[51].previous = (uint64_t)(uintptr_t)&stack[52];
    stack[52].code = (uint64_t)(uintptr_t)&code_main;
    stack[52].previous = (uint64_t)(uintptr_t)&stack[50]; /* torn: back to the leaf */
    struct shm_region *r;
    struct sampler *s = start_at(&stack[50], &r);
    assert_int_equal(all_self(r), 0);

    /* whole again: main -> other */
    __atomic_store_n(&stack[51].previous, 0, __ATOMIC_RELEASE);
    passes(s, r, 3);
    passes(s, r, 10);
    assert_true(self_of(r, "other", "main") > 0);

    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/* The fake interpreter's one thread, a real thread of this process that
 * sleeps in read() until told to run a little (a byte on wake), then says so
 * (a byte on done) and sleeps again. */
static int wake[2], done[2];
static volatile pid_t sleeper_tid;

static void *sleeper_main(void *arg)
{
    (void)arg;
    __atomic_store_n(&sleeper_tid, gettid(), __ATOMIC_RELEASE);
    char c;
    while (read(wake[0], &c, 1) == 1 && c == 'r') {
        volatile uint64_t x = 0;
        for (int i = 0; i < 1000000; i++) /* runs: its run time moves */
            x = x + (uint64_t)i;
        if (x == 1 || write(done[1], &c, 1) != 1)
            break;
    }
    return NULL;
}

/*
 * A thread that does not run cannot change its stack: a pass that finds the
 * script's threads still (schedstat's run time and switch-ins unchanged over
 * more than a scheduler tick since their stacks were read) files each one's
 * last stack again without reading the script's memory. Shown here by
 * changing the fake frame behind the sleeping thread's back: the still pass
 * files the stack read before; once the thread has run, the next pass reads
 * again and finds the new one.
 */
static void test_still_thread_not_read_again(void **state)
{
    (void)state;
    assert_int_equal(pipe(wake), 0);
    assert_int_equal(pipe(done), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sleeper_main, NULL), 0);
    while (!__atomic_load_n(&sleeper_tid, __ATOMIC_ACQUIRE))
        sched_yield();
    name_fake_code("sleeping", "after_run");
    stack[20].code = (uint64_t)(uintptr_t)&code_main;
    stack[20].previous = 0;
    stack[21].code = (uint64_t)(uintptr_t)&code_work;
    stack[21].previous = (uint64_t)(uintptr_t)&stack[20];
    tstate.native_id = (uint64_t)sleeper_tid;
    tstate.frame = (uint64_t)(uintptr_t)&stack[21];
    interp_head = (uint64_t)(uintptr_t)&tstate;
    struct shm_region *r = shm_map(1);
    assert_non_null(r);
    publish(r);
    struct sampler *s = sampler_new(r);
    assert_non_null(s);
    passes(s, r, 1); /* read: main -> sleeping */
    assert_int_equal(self_of(r, "sleeping", "main"), 1);

    /* behind its back (it sleeps in read()): the frame now runs other code */
    stack[21].code = (uint64_t)(uintptr_t)&code_other;
    struct timespec ms20 = {0, 20000000}; /* over a tick: it has stood still */
    nanosleep(&ms20, NULL);
    passes(s, r, 2);
    assert_int_equal(self_of(r, "sleeping", "main"), 3);
    assert_int_equal(self_of(r, "after_run", "main"), 0);
    assert_int_equal(r->threads[0].samples, 3);

    /* it runs: read again */
    char c = 'r';
    assert_int_equal(write(wake[1], &c, 1), 1);
    assert_int_equal(read(done[0], &c, 1), 1);
    passes(s, r, 1);
    assert_int_equal(self_of(r, "after_run", "main"), 1);
    assert_int_equal(self_of(r, "sleeping", "main"), 3);

    c = 'q';
    assert_int_equal(write(wake[1], &c, 1), 1);
    pthread_join(th, NULL);
    for (int i = 0; i < 2; i++) {
        close(wake[i]);
        close(done[i]);
    }
    sampler_finish(&s, 0);
    shm_unmap(&r);
}

static unsigned char pages[4 * REMOTEWIN_PAGE] __attribute__((aligned(REMOTEWIN_PAGE)));

/* A window holds one moment: after a reset it reads again; a read whose
 * pages below cannot be read still gives the bytes asked for. */
static void test_window(void **state)
{
    (void)state;
    struct remotewin w;
    remotewin_init(&w, getpid());
    uint64_t base = (uint64_t)(uintptr_t)pages;
    pages[3 * REMOTEWIN_PAGE + 8] = 1;
    pages[REMOTEWIN_PAGE] = 2;
    const unsigned char *p = remotewin_get(&w, base + 3 * REMOTEWIN_PAGE + 8, 16);
    assert_non_null(p);
    assert_int_equal(p[0], 1);
    uint64_t reads = w.reads;
    p = remotewin_get(&w, base + REMOTEWIN_PAGE, 16); /* below: same window */
    assert_non_null(p);
    assert_int_equal(p[0], 2);
    assert_int_equal(w.reads, reads);
    pages[REMOTEWIN_PAGE] = 3;
    remotewin_reset(&w);
    p = remotewin_get(&w, base + REMOTEWIN_PAGE, 16);
    assert_non_null(p);
    assert_int_equal(p[0], 3); /* read again, not the earlier copy */
    assert_int_equal(w.reads, reads + 1);
    assert_null(remotewin_get(&w, 0, 16));
    assert_null(remotewin_get(&w, base, REMOTEWIN_SPAN + 1));
    assert_null(remotewin_get(&w, 8, 16)); /* page zero: never mapped */
}

/* A batch serves only what it read in full; a piece that cannot be read ends
 * it; a cleared batch serves nothing. */
static void test_batch(void **state)
{
    (void)state;
    struct remotebatch *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    uint64_t base = (uint64_t)(uintptr_t)pages;
    pages[0] = 7;
    pages[2 * REMOTEWIN_PAGE] = 9;
    remotebatch_clear(b);
    assert_int_equal(remotebatch_add(b, base, 64), 0);
    assert_int_equal(remotebatch_add(b, 4096, 64), 0); /* not mapped */
    assert_int_equal(remotebatch_add(b, base + 2 * REMOTEWIN_PAGE, 64), 0);
    assert_int_equal(remotebatch_read(b, getpid()), 1);
    assert_non_null(remotebatch_get(b, base + 8, 8));
    assert_int_equal(remotebatch_get(b, base, 1)[0], 7);
    assert_null(remotebatch_get(b, base + 60, 8)); /* past what was read */
    assert_null(remotebatch_get(b, base + 2 * REMOTEWIN_PAGE, 8));
    remotebatch_clear(b);
    assert_null(remotebatch_get(b, base, 1));
    assert_int_equal(remotebatch_add(b, base, 64), 0);
    pages[0] = 8;
    assert_int_equal(remotebatch_read(b, getpid()), 1);
    assert_int_equal(remotebatch_get(b, base, 1)[0], 8);
    free(b);
}

/* Frames placed by byte offset in six aligned pages (a data stack, or heap frame objects). */
static unsigned char frame_mem[6 * REMOTEWIN_PAGE] __attribute__((aligned(REMOTEWIN_PAGE)));

static struct fake_frame *frame_at(size_t off)
{
    return (struct fake_frame *)(void *)(frame_mem + off);
}

/* Link the frames at offs[0..n), leaf first, to a chain whose root is main and whose leaf
 * runs leaf_code (work in between); returns the leaf. */
static struct fake_frame *chain(const size_t *offs, size_t n, struct fake_code *leaf_code)
{
    for (size_t i = 0; i < n; i++) {
        struct fake_frame *f = frame_at(offs[i]);
        f->code = (uint64_t)(uintptr_t)(i == 0 ? leaf_code : i == n - 1 ? &code_main : &code_work);
        f->previous = i + 1 < n ? (uint64_t)(uintptr_t)frame_at(offs[i + 1]) : 0;
    }
    return frame_at(offs[0]);
}

/* Pages [p, p + n) touches. */
static uint64_t pages_of(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    return (a + n - 1) / REMOTEWIN_PAGE - a / REMOTEWIN_PAGE + 1;
}

/* The reads of n more passes. */
static struct sampler_reads reads_of(struct sampler *s, struct shm_region *r, uint64_t n)
{
    struct sampler_reads a, b;
    sampler_reads(s, &a);
    passes(s, r, n);
    sampler_reads(s, &b);
    return (struct sampler_reads){.batch_reads = b.batch_reads - a.batch_reads,
                                  .batch_pages = b.batch_pages - a.batch_pages,
                                  .batch_bytes = b.batch_bytes - a.batch_bytes,
                                  .window_reads = b.window_reads - a.window_reads,
                                  .other_reads = b.other_reads - a.other_reads};
}

/* Ten passes over the stack at offs[0..n) (leaf first) read, besides the thread list's head
 * and the thread state, frame_pages pages of frames each, and nothing else: no window, no
 * other read. */
static void batch_reads_only(const size_t *offs, size_t n, uint64_t frame_pages)
{
    name_fake_code("work", "leaf");
    struct shm_region *r;
    struct sampler *s = start_at(chain(offs, n, &code_other), &r);
    uint64_t fixed = pages_of(&interp_head, 8) + pages_of(&tstate, sizeof(tstate));
    struct sampler_reads d = reads_of(s, r, 10);
    assert_int_equal(d.batch_reads, 10);
    assert_int_equal(d.batch_pages, 10 * (fixed + frame_pages));
    assert_int_equal(d.window_reads, 0);
    assert_int_equal(d.other_reads, 0);
    assert_true(self_of(r, "leaf", "work") >= 10);
    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/*
 * A code object met for the first time costs two reads: the object, then both its names
 * (file and function) at once, header and characters (SAMPLER_STR_AHEAD). Each name was
 * two reads of its own before (header, then characters): five a code object. The first
 * pass over main -> work -> leaf (three new code objects) makes those and the thread state's.
 */
static void test_new_code_two_reads(void **state)
{
    (void)state;
    name_fake_code("work", "leaf");
    const uint64_t P = REMOTEWIN_PAGE;
    const size_t offs[] = {P + 1072, P + 1056, P + 1040};
    struct shm_region *r;
    struct sampler *s = start_after(chain(offs, 3, &code_other), &r, 0);
    struct sampler_reads d = reads_of(s, r, 1);
    assert_int_equal(d.other_reads, 1 + 3 * 2);
    assert_int_equal(self_of(r, "leaf", "work"), 1);
    /* the names came out whole */
    assert_int_equal(r->nfuncs, 3);
    for (uint32_t f = 0; f < r->nfuncs; f++)
        assert_string_equal(shm_string(r, r->funcs[f].file_off), "fake.py");
    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/* A function named in UCS-2 (a compact non-ASCII str: "λ_é"): its characters come from the
 * names' one read, encoded as UTF-8. */
static void test_non_ascii_name(void **state)
{
    (void)state;
    name_fake_code("work", "leaf");
    static const uint16_t ucs2[] = {0x3bb, '_', 0xe9};
    other_s.state = STATE_COMPACT | (2u << 2); /* not ASCII, kind 2 */
    other_s.length = 3;
    memset(other_s.data, 0, sizeof(other_s.data));
    memcpy(other_s.data, ucs2, sizeof(ucs2));
    const uint64_t P = REMOTEWIN_PAGE;
    const size_t offs[] = {P + 1072, P + 1056, P + 1040};
    struct shm_region *r;
    struct sampler *s = start_at(chain(offs, 3, &code_other), &r);
    assert_int_equal(self_of(r, "\xce\xbb_\xc3\xa9", "work"), 10);
    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/*
 * A pass's batch reads the pages the last walk read, not the three around the leaf: a
 * stack of four frames in the middle of a page (a data stack, callers below callees) is
 * one page of frames per pass (it was three), and the walk needs nothing more.
 */
static void test_batch_reads_walked_pages(void **state)
{
    (void)state;
    const uint64_t P = REMOTEWIN_PAGE;
    const size_t offs[] = {P + 1072, P + 1056, P + 1040, P + 1024};
    batch_reads_only(offs, 4, 1);
}

/*
 * A call past the pages the batch read: that pass's walk reads the new leaf by window and
 * still files the right stack; the next passes read its page too (no window). A leaf near
 * the end of its page (its caller just below it) brings the page above into the batch,
 * where a call made since lands without a window read.
 */
static void test_batch_follows_the_walk(void **state)
{
    (void)state;
    name_fake_code("work", "leaf");
    const uint64_t P = REMOTEWIN_PAGE;
    const size_t offs[] = {P + 1072, P + 1056, P + 1040, P + 1024};
    struct shm_region *r;
    struct sampler *s = start_at(chain(offs, 4, &code_work), &r);
    /* a call two pages up */
    const size_t deeper[] = {3 * P + 512, P + 1072, P + 1056, P + 1040, P + 1024};
    __atomic_store_n(&tstate.frame, (uint64_t)(uintptr_t)chain(deeper, 5, &code_other),
                     __ATOMIC_RELEASE);
    uint64_t before = self_of(r, "leaf", "work");
    assert_true(reads_of(s, r, 1).window_reads >= 1);
    assert_int_equal(self_of(r, "leaf", "work"), before + 1);
    struct sampler_reads d = reads_of(s, r, 10);
    assert_int_equal(d.window_reads, 0);
    assert_int_equal(self_of(r, "leaf", "work"), before + 11);

    /* the leaf 24 bytes below its page's end: the page above is read as well */
    const size_t top[] = {2 * P - 40, 2 * P - 56, P + 1040, P + 1024};
    __atomic_store_n(&tstate.frame, (uint64_t)(uintptr_t)chain(top, 4, &code_other),
                     __ATOMIC_RELEASE);
    passes(s, r, 2);
    const size_t over[] = {2 * P + 8, 2 * P - 40, 2 * P - 56, P + 1040, P + 1024};
    __atomic_store_n(&tstate.frame, (uint64_t)(uintptr_t)chain(over, 5, &code_other),
                     __ATOMIC_RELEASE);
    before = self_of(r, "leaf", "work");
    d = reads_of(s, r, 1);
    assert_int_equal(d.window_reads, 0);
    assert_int_equal(self_of(r, "leaf", "work"), before + 1);
    sampler_finish(&s, 0);
    shm_unmap(&r);
}

/*
 * The page above a leaf near its page's end may not be readable (the end of the data stack's
 * mapping): that piece fails alone, read after the frames' pages, so the walk still finds
 * every frame in the batch.
 */
static void test_batch_page_above_unreadable(void **state)
{
    (void)state;
    const uint64_t P = REMOTEWIN_PAGE;
    unsigned char *map =
        mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    assert_int_equal(mprotect(map + P, P, PROT_NONE), 0);
    name_fake_code("work", "leaf");
    struct fake_frame *leaf = (struct fake_frame *)(void *)(map + P - 40);
    struct fake_frame *root = (struct fake_frame *)(void *)(map + P - 56);
    leaf->code = (uint64_t)(uintptr_t)&code_other;
    leaf->previous = (uint64_t)(uintptr_t)root;
    root->code = (uint64_t)(uintptr_t)&code_main;
    root->previous = 0;
    struct shm_region *r;
    struct sampler *s = start_at(leaf, &r);
    struct sampler_reads d = reads_of(s, r, 10);
    assert_int_equal(d.window_reads, 0);
    assert_int_equal(d.other_reads, 0);
    assert_true(self_of(r, "leaf", "main") >= 10);
    sampler_finish(&s, 0);
    shm_unmap(&r);
    munmap(map, 2 * P);
}

/*
 * Heap frames (3.10's frame objects): each frame's page is read, not the pages around the
 * leaf, so a walk over three frames pages apart needs no window; and no page above the
 * leaf (its caller is not just below it).
 */
static void test_batch_heap_frames(void **state)
{
    (void)state;
    const uint64_t P = REMOTEWIN_PAGE;
    const size_t offs[] = {P - 40, 3 * P + 200, 5 * P + 304};
    batch_reads_only(offs, 3, 3);
}

/* A new sampler writes none of its per-thread paths (sampler.c: calloc's zero pages, depth 0
 * means nothing known): pyscope-run makes one per run, and each page written is a page fault
 * of its fixed cost (setting each of the 8 paths' thread index to -1, 12 KB apart, was 8).
 * Counted around sampler_new alone, in a fresh process (this program again: an allocator
 * that earlier tests left with free memory would hand it out, and calloc clear it). */
static int count_new_faults(void)
{
    struct shm_region *r = shm_map(1);
    long before = minor_faults();
    struct sampler *s = sampler_new(r);
    long n = minor_faults() - before;
    int rc = !r || !s ? 99 : n > 50 ? 50 : (int)n;
    sampler_finish(&s, 0);
    shm_unmap(&r);
    return rc;
}

static void test_new_writes_no_path(void **state)
{
    (void)state;
    /* the allocations' own headers: a page or two; 8 more when the paths were written */
    assert_fresh_faults("test_sampler", "--count-new-faults", 5);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--count-new-faults") == 0)
        return count_new_faults();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_reused_address_and_moved_stack),
        cmocka_unit_test(test_torn_chain),
        cmocka_unit_test(test_new_code_two_reads),
        cmocka_unit_test(test_non_ascii_name),
        cmocka_unit_test(test_batch_reads_walked_pages),
        cmocka_unit_test(test_batch_follows_the_walk),
        cmocka_unit_test(test_batch_heap_frames),
        cmocka_unit_test(test_batch_page_above_unreadable),
        cmocka_unit_test(test_still_thread_not_read_again),
        cmocka_unit_test(test_new_writes_no_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
