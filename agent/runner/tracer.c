/*
 * tracer.c - trace mode: exact calls and times of every Python function.
 *
 * CPython 3.11 gives two ways to see every call. A profile hook
 * (PyEval_SetProfile, what cProfile uses) switches the interpreter into
 * tracing dispatch: every instruction takes the slow path, specialization
 * stops, and each call allocates a frame object for the hook, which by
 * itself costs ~3x on call-heavy code, before the hook does anything.
 * The PEP 523 frame-evaluation hook costs far less: the interpreter keeps
 * its fast paths and only gives up inlining Python-to-Python calls, so each
 * call becomes a C call through trace_eval(). That is what we use.
 *
 * trace_eval() keeps a shadow stack per thread and builds the call tree in
 * the shared region: each call finds (or adds) the node for (parent node,
 * code object) with one hash probe, skipped when the caller's node called
 * the same function last time (each stack entry caches its node's last
 * child: loops and recursion re-enter the same paths); time comes from the
 * TSC, calibrated by the supervisor. Generator and coroutine resumptions
 * are evaluations too, and count as calls, as they do in cProfile. Built-in
 * (C) functions are not seen: their time is in their Python caller's self
 * time.
 *
 * The hook is per interpreter, so every thread is traced, with no set-up
 * per thread. Nothing is shared between threads on the hot path: the
 * shadow stack is thread-local (TLS in the executable: one load), each
 * thread has its own nodes, and the GIL serializes the writes, so there are
 * no locks or atomics. A call costs the same in any thread (callgrind: ~370
 * instructions more than plain python per Python-to-Python call, most of
 * them CPython's own: with a PEP 523 hook it no longer inlines the call).
 *
 * One 3.11 specialization inlines a call without asking the hook:
 * BINARY_SUBSCR_GETITEM (obj[i] on a class with a Python __getitem__).
 * On first sight of a code object we quicken it ourselves and turn its
 * subscript instructions back into the generic BINARY_SUBSCR, so those
 * calls are seen and counted like every other.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_opcode.h>
#include <opcode.h>

#include "profiler.h"
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

/* Per-thread tracer state; freed by the pthread key destructor. */
struct trace_thread {
    uint32_t thread; /* index in the region's thread table */
    uint32_t depth;  /* entries in use, the root included: 1 = no open call */
    uint32_t cap;
    struct trace_entry *stack;
};

/* Process-wide tracer state: set once in tracer_start(), read by the hook. */
static struct shm_region *trace_region;
static pthread_key_t trace_key;
static __thread struct trace_thread *trace_tls;
static volatile int trace_disabled;
/* Tracing starts with the script's first frame (one whose globals are
 * __main__'s), so interpreter start-up (importers, the main loader) is not
 * in the profile, as it is not in cProfile's. */
static PyObject *trace_main_globals;
static int trace_armed;

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
    if (idx >= 0 && ts == profiler_main_tstate())
        trace_region->threads[idx].is_main = 1;
    pthread_setspecific(trace_key, t);
    trace_tls = t;
    return t;
}

/* Make co's subscripts generic, so that no __getitem__ call is inlined. */
static void trace_despecialize(PyCodeObject *co)
{
    if (co->co_warmup != 0) {
        _PyCode_Quicken(co);
        co->co_warmup = 0; /* quickened: RESUME must not do it again */
    }
    _Py_CODEUNIT *code = _PyCode_CODE(co);
    Py_ssize_t n = Py_SIZE(co);
    for (Py_ssize_t i = 0; i < n;) {
        int op = _Py_OPCODE(code[i]);
        int base = _PyOpcode_Deopt[op];
        if (base == BINARY_SUBSCR && op != BINARY_SUBSCR)
            _Py_SET_OPCODE(code[i], BINARY_SUBSCR);
        i += 1 + _PyOpcode_Caches[base];
    }
}

/* Register the code object co (first sight); returns its index or -1.
 * The function table keeps a reference to co for the rest of the run (as
 * cProfile's entries do): its address is its identity, and an address is
 * only unique while the object lives. */
static int64_t trace_register(uint64_t ident, PyCodeObject *co)
{
    struct shm_region *r = trace_region;
    int64_t f = shm_func_find(r, ident);
    if (f >= 0)
        return f;
    trace_despecialize(co);
    Py_ssize_t flen = 0, nlen = 0;
    const char *file = PyUnicode_AsUTF8AndSize(co->co_filename, &flen);
    const char *name = PyUnicode_AsUTF8AndSize(co->co_qualname, &nlen);
    if (!file || !name) {
        /* Names that are not UTF-8 (surrogate escapes): keep what we can. */
        PyErr_Clear();
        file = name = "?";
        flen = nlen = 1;
    }
    f = shm_func_add(r, ident, shm_add_string(r, file, (size_t)flen),
                     shm_add_string(r, name, (size_t)nlen), co->co_firstlineno, false);
    if (f >= 0)
        Py_INCREF(co); /* never released: the process ends with the run */
    return f;
}

/* Push a call of co; false when it could not be recorded (no memory). */
static inline bool trace_enter(struct trace_thread *t, PyCodeObject *co)
{
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

static inline void trace_leave(struct trace_thread *t)
{
    uint64_t now = __rdtsc();
    struct trace_entry *e = &t->stack[--t->depth];
    if (trace_disabled)
        return; /* stopped, or a forked child: the region is not ours to write */
    uint64_t elapsed = now - e->start;
    if (e->node) {
        struct shm_node *n = &trace_region->nodes[e->node];
        n->total += elapsed;
        n->self += elapsed > e->child_ticks ? elapsed - e->child_ticks : 0;
    }
    t->stack[t->depth - 1].child_ticks += elapsed; /* the root entry absorbs the top calls */
}

static PyObject *trace_eval(PyThreadState *ts, _PyInterpreterFrame *frame, int throwflag)
{
    struct trace_thread *t = trace_tls;
    if (__builtin_expect(t == NULL, 0)) {
        if (trace_disabled || !(t = trace_thread_new()))
            return _PyEval_EvalFrameDefault(ts, frame, throwflag);
    }
    PyCodeObject *co = frame->f_code;
    /* Calling a generator function only creates the generator (its frame
     * runs RETURN_GENERATOR): like cProfile, count the resumptions only. */
    bool creating = (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
                    frame->prev_instr + 1 == _PyCode_CODE(co);
    if (__builtin_expect(!trace_armed, 0)) {
        if (frame->f_globals != trace_main_globals)
            return _PyEval_EvalFrameDefault(ts, frame, throwflag);
        trace_armed = 1;
    }
    if (trace_disabled || creating || !trace_enter(t, co))
        return _PyEval_EvalFrameDefault(ts, frame, throwflag);
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    trace_leave(t);
    return res;
}

int tracer_start(struct shm_region *region)
{
    trace_region = region;
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    trace_main_globals = main ? PyModule_GetDict(main) : NULL;
    if (!trace_main_globals) {
        PyErr_Clear();
        return -1;
    }
    if (pthread_key_create(&trace_key, trace_thread_free) != 0)
        return -1;
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), trace_eval);
    return 0;
}

void tracer_stop(void)
{
    trace_disabled = 1;
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), _PyEval_EvalFrameDefault);
}

void tracer_after_fork_child(void)
{
    /* The forked process is not profiled and must not write into the
     * region it shares with its parent. */
    tracer_stop();
}
