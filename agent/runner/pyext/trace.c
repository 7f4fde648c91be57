/*
 * trace.c - trace mode's bookkeeping (trace.h), the same for every version.
 *
 * Each thread keeps a shadow stack; each entry caches the last child it
 * called, so loops and recursion re-enter the same call-tree node without a
 * hash probe. The region's nodes are per thread, so nothing on the hot path
 * is shared between threads, and the GIL serializes the writes: no locks, no
 * atomics. The shadow stack is in initial-exec TLS (one load, even in a
 * shared object).
 */
#include "trace.h"

#include "pyver.h"
#include "shm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

/* One open call on a thread's shadow stack (entry 0: the thread's root). An
 * entry's last_* fields cache a child of its node, so they stay valid when a
 * later call at the same depth has the same node. */
struct trace_entry {
    uint32_t node;        /* call-tree node, 0 when the tree was full (and for the root) */
    uint32_t last_node;   /* node of the last function called from here, 0 = none */
    uint64_t last_ident;  /* that function's code object */
    uint64_t start;       /* TSC at entry */
    uint64_t child_ticks; /* ticks spent in callees */
};

/* Per-thread state; freed by the pthread key destructor. */
struct trace_thread {
    uint32_t thread; /* index in the region's thread table */
    uint32_t depth;  /* entries in use, the root included: 1 = no open call */
    uint32_t cap;
    struct trace_entry *stack;
};

static struct shm_region *trace_region;
static PyThreadState *trace_main;
static pthread_key_t trace_key;
static __thread struct trace_thread *trace_tls __attribute__((tls_model("initial-exec")));
static volatile int trace_off = 1;
static PyObject *trace_main_globals;
int trace_armed;

static void trace_thread_free(void *p)
{
    struct trace_thread *t = p;
    free(t->stack);
    free(t);
}

static struct trace_thread *trace_thread_new(void)
{
    struct trace_thread *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cap = 256;
    t->stack = calloc(t->cap, sizeof(*t->stack));
    if (!t->stack) {
        free(t);
        return NULL;
    }
    t->depth = 1; /* the root entry: its children are the thread's root nodes */
    PyThreadState *ts = PyThreadState_Get();
    int idx = shm_thread_get(trace_region, (uint64_t)(uintptr_t)ts, (uint64_t)gettid());
    t->thread = idx < 0 ? 0 : (uint32_t)idx;
    if (idx >= 0 && ts == trace_main)
        trace_region->threads[idx].is_main = 1;
    pthread_setspecific(trace_key, t);
    trace_tls = t;
    return t;
}

/* A str attribute of co as UTF-8 into the arena (0: none). */
static uint32_t code_text(PyCodeObject *co, const char *attr, const char *fallback)
{
    PyObject *o = PyObject_GetAttrString((PyObject *)co, attr);
    if (!o && fallback) {
        PyErr_Clear();
        o = PyObject_GetAttrString((PyObject *)co, fallback);
    }
    Py_ssize_t len = 0;
    const char *s = o && PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &len) : NULL;
    if (!s) {
        /* Names that are not UTF-8 (surrogate escapes): keep what we can. */
        PyErr_Clear();
        s = "?";
        len = 1;
    }
    uint32_t off = shm_add_string(trace_region, s, (size_t)len);
    Py_XDECREF(o);
    return off;
}

/* Register co (first sight); returns its function index or -1. The table
 * keeps a reference to co for the rest of the run. */
static int64_t trace_register(uint64_t ident, PyCodeObject *co)
{
    struct shm_region *r = trace_region;
    int64_t f = shm_func_find(r, ident);
    if (f >= 0)
        return f;
    pyver_first_sight(co);
    PyObject *exc_type, *exc_value, *exc_tb; /* the code runs with an exception set at times */
    PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    uint32_t file = code_text(co, "co_filename", NULL);
    uint32_t name = code_text(co, "co_qualname", "co_name");
    PyErr_Restore(exc_type, exc_value, exc_tb);
    f = shm_func_add(r, ident, file, name, co->co_firstlineno, false);
    if (f >= 0)
        Py_INCREF(co); /* never released: the process ends with the run */
    return f;
}

int trace_init(struct shm_region *region, PyThreadState *main)
{
    static int have_key;
    if (!have_key && pthread_key_create(&trace_key, trace_thread_free) != 0)
        return -1;
    have_key = 1;
    if (trace_tls) { /* this thread recorded into another region: start anew */
        pthread_setspecific(trace_key, NULL);
        trace_thread_free(trace_tls);
        trace_tls = NULL;
    }
    trace_region = region;
    trace_main = main;
    trace_off = 0;
    return 0;
}

void trace_arm_at(PyObject *main_globals)
{
    trace_main_globals = main_globals;
}

bool trace_ready(PyObject *globals)
{
    if (trace_armed)
        return true;
    if (!globals || globals != trace_main_globals)
        return false;
    trace_armed = 1;
    return true;
}

void trace_disable(void)
{
    trace_off = 1;
}

bool trace_enter(PyCodeObject *co)
{
    struct trace_thread *t = trace_tls;
    if (__builtin_expect(t == NULL, 0)) {
        if (trace_off || !(t = trace_thread_new()))
            return false;
    }
    if (trace_off)
        return false;
    uint64_t ident = (uint64_t)(uintptr_t)co;
    struct shm_region *r = trace_region;
    if (t->depth == t->cap) {
        struct trace_entry *s = realloc(t->stack, 2 * t->cap * sizeof(*s));
        if (!s) {
            r->dropped++;
            return false;
        }
        memset(s + t->cap, 0, t->cap * sizeof(*s)); /* no stale child caches */
        t->stack = s;
        t->cap *= 2;
    }
    struct trace_entry *caller = &t->stack[t->depth - 1];
    uint32_t parent = caller->node;
    uint32_t node = 0;
    if (caller->last_ident == ident) {
        node = caller->last_node; /* the same callee again: no lookup */
    } else if (parent || t->depth == 1) {
        /* (A call under a lost node is lost too, but still balanced on the stack.) */
        node = shm_node_find(r, parent, ident, t->thread);
        if (!node) {
            int64_t f = trace_register(ident, co);
            node = f < 0 ? 0 : shm_node_add(r, parent, ident, (uint32_t)f, t->thread);
        }
        if (node) {
            caller->last_ident = ident;
            caller->last_node = node;
        }
    }
    if (node)
        r->nodes[node].calls++;
    else
        r->dropped++;
    struct trace_entry *e = &t->stack[t->depth++];
    /* The child cache belongs to the node: keep it when this slot held the
     * same node last time (recursion and loops mostly re-enter the same path). */
    if (e->node != node) {
        e->node = node;
        e->last_ident = 0;
    }
    e->child_ticks = 0;
    e->start = __rdtsc();
    return true;
}

void trace_leave(void)
{
    uint64_t now = __rdtsc();
    struct trace_thread *t = trace_tls;
    if (!t || t->depth <= 1)
        return; /* a frame entered before tracing started */
    struct trace_entry *e = &t->stack[--t->depth];
    if (trace_off)
        return; /* stopped, or a forked child: the region is not ours to write */
    uint64_t elapsed = now - e->start;
    if (e->node) {
        struct shm_node *n = &trace_region->nodes[e->node];
        n->total += elapsed;
        n->self += elapsed > e->child_ticks ? elapsed - e->child_ticks : 0;
    }
    t->stack[t->depth - 1].child_ticks += elapsed; /* the root entry absorbs the top calls */
}
