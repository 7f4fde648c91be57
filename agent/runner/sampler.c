/*
 * sampler.c - sample mode: a native thread that reads every Python thread's
 * stack at a fixed rate, without the GIL and without touching the Python API.
 *
 * The thread is plain C (Python does not know it exists). Each pass walks
 * the interpreter's thread list and each thread's frame chain, reading the
 * target memory with process_vm_readv(getpid()): a frame freed under our
 * feet yields an error or garbage that fails validation, never a crash.
 * Each stack becomes a path in the call tree in the shared region, with one
 * more sample on its leaf, and the thread's CPU time since the previous pass
 * (read from its per-thread CPU clock) is attributed to that leaf, so every
 * function gets both wall (self_s) and on-CPU (self_cpu_s) time.
 *
 * The profiled threads never run any of this code: the cost to the script
 * is the sampler's few microseconds a pass on the other core.
 *
 * This file knows CPython 3.11's internal layout (PyThreadState, _PyCFrame,
 * _PyInterpreterFrame, PyCodeObject, compact unicode); it is the per-version
 * shim of docs/DESIGN.md §5.
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>

#include "contention.h"
#include "profiler.h"
#include "shm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "sampler.c reads CPython 3.11 frames; add a shim for this version"
#endif

#define SAMPLER_MAX_DEPTH 1024
#define SAMPLER_NAME_MAX  512

/* The sampler's state: owned by the sampler thread once started. */
struct sampler {
    struct shm_region *region;
    pid_t pid;
    PyInterpreterState *interp;
    PyThreadState *main_tstate;
    uint64_t interval_ns;
    volatile int stop;
    pthread_t thread;
    int running;
    uint64_t idents[SAMPLER_MAX_DEPTH]; /* code objects, leaf first */
};

static struct sampler sampler_state;

/* Copy n bytes at remote address src of our own process into dst. */
static bool peek(const struct sampler *s, void *dst, const void *src, size_t n)
{
    if (!src)
        return false;
    struct iovec local = {dst, n};
    struct iovec remote = {(void *)src, n};
    return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

/* Read a str object as UTF-8 into buf (truncated to len-1 bytes). */
static bool peek_unicode(const struct sampler *s, PyObject *obj, char *buf, size_t len)
{
    PyCompactUnicodeObject u;
    if (!peek(s, &u, obj, sizeof(u)) || u._base.ob_base.ob_type != &PyUnicode_Type ||
        !u._base.state.compact)
        return false;
    Py_ssize_t n = u._base.length;
    if (n < 0)
        return false;
    if (u._base.state.ascii) {
        size_t take = (size_t)n < len - 1 ? (size_t)n : len - 1;
        if (!peek(s, buf, (const char *)obj + sizeof(PyASCIIObject), take))
            return false;
        buf[take] = '\0';
        return true;
    }
    /* Compact non-ASCII: code points of 1, 2 or 4 bytes; encode as UTF-8. */
    unsigned kind = u._base.state.kind;
    if (kind != 1 && kind != 2 && kind != 4)
        return false;
    size_t count = (size_t)n < 128 ? (size_t)n : 128;
    uint8_t raw[128 * 4];
    if (!peek(s, raw, (const char *)obj + sizeof(PyCompactUnicodeObject), count * kind))
        return false;
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t c = kind == 1 ? raw[i] : kind == 2 ? ((uint16_t *)raw)[i] : ((uint32_t *)raw)[i];
        char tmp[4];
        size_t k;
        if (c < 0x80) {
            tmp[0] = (char)c;
            k = 1;
        } else if (c < 0x800) {
            tmp[0] = (char)(0xC0 | (c >> 6));
            tmp[1] = (char)(0x80 | (c & 0x3F));
            k = 2;
        } else if (c < 0x10000) {
            if (c >= 0xD800 && c <= 0xDFFF)
                c = 0xFFFD; /* a lone surrogate (surrogateescape): not UTF-8 */
            tmp[0] = (char)(0xE0 | (c >> 12));
            tmp[1] = (char)(0x80 | ((c >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (c & 0x3F));
            k = 3;
        } else if (c <= 0x10FFFF) {
            tmp[0] = (char)(0xF0 | (c >> 18));
            tmp[1] = (char)(0x80 | ((c >> 12) & 0x3F));
            tmp[2] = (char)(0x80 | ((c >> 6) & 0x3F));
            tmp[3] = (char)(0x80 | (c & 0x3F));
            k = 4;
        } else {
            return false;
        }
        if (o + k >= len)
            break;
        memcpy(buf + o, tmp, k);
        o += k;
    }
    buf[o] = '\0';
    return true;
}

/* The function index for a code object, registering it on first sight. */
static int64_t sampler_func(struct sampler *s, PyCodeObject *code)
{
    struct shm_region *r = s->region;
    uint64_t ident = (uint64_t)(uintptr_t)code;
    int64_t f = shm_func_find(r, ident);
    if (f >= 0)
        return f;
    PyCodeObject co;
    if (!peek(s, &co, code, offsetof(PyCodeObject, co_qualname) + sizeof(PyObject *)) ||
        co.ob_base.ob_base.ob_type != &PyCode_Type)
        return -1;
    char file[SAMPLER_NAME_MAX], name[SAMPLER_NAME_MAX];
    if (!peek_unicode(s, co.co_filename, file, sizeof(file)) ||
        !peek_unicode(s, co.co_qualname, name, sizeof(name)))
        return -1;
    return shm_func_add(r, ident, shm_add_string(r, file, strlen(file)),
                        shm_add_string(r, name, strlen(name)), co.co_firstlineno, false);
}

static uint64_t thread_cpu_ns(pid_t tid)
{
    /* The CPU clock of any thread by its TID (Linux's CPUCLOCK_SCHED encoding);
     * EINVAL once the thread is gone. */
    clockid_t cid = (clockid_t)((~(unsigned)tid << 3) | 6);
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Record one thread's stack. */
static void sample_thread(struct sampler *s, PyThreadState *tsp, const PyThreadState *ts)
{
    struct shm_region *r = s->region;
    _PyCFrame cf;
    if (!peek(s, &cf, ts->cframe, sizeof(cf)) || !cf.current_frame)
        return; /* no Python code running on this thread */
    int ti = shm_thread_get(r, (uint64_t)(uintptr_t)tsp, ts->native_thread_id);
    if (ti < 0) {
        r->dropped++;
        return;
    }
    struct shm_thread *th = &r->threads[ti];
    if (tsp == s->main_tstate)
        th->is_main = 1;
    uint64_t cpu = thread_cpu_ns((pid_t)ts->native_thread_id);
    uint64_t cpu_delta = cpu > th->last_cpu_ns && th->last_cpu_ns ? cpu - th->last_cpu_ns : 0;
    if (cpu)
        th->last_cpu_ns = cpu;
    size_t depth = 0;
    _PyInterpreterFrame *fp = cf.current_frame;
    while (fp && depth < SAMPLER_MAX_DEPTH) {
        _PyInterpreterFrame f;
        if (!peek(s, &f, fp, offsetof(_PyInterpreterFrame, localsplus)))
            break;
        s->idents[depth++] = (uint64_t)(uintptr_t)f.f_code;
        fp = f.previous;
    }
    if (depth == 0)
        return;
    uint32_t node = 0;
    for (size_t i = depth; i-- > 0;) {
        uint32_t next = shm_node_find(r, node, s->idents[i], (uint32_t)ti);
        if (!next) {
            int64_t f = sampler_func(s, (PyCodeObject *)(uintptr_t)s->idents[i]);
            if (f < 0)
                continue; /* unreadable frame (racing with its exit): skip it */
            next = shm_node_add(r, node, s->idents[i], (uint32_t)f, (uint32_t)ti);
            if (!next) {
                r->dropped++;
                return;
            }
        }
        node = next;
    }
    if (!node)
        return;
    r->nodes[node].self++;
    r->nodes[node].cpu_ns += cpu_delta;
    th->samples++;
    th->cpu_ns += cpu_delta;
}

static void sample_pass(struct sampler *s)
{
    PyThreadState *tsp = NULL;
    if (!peek(s, &tsp, (char *)s->interp + offsetof(PyInterpreterState, threads.head), sizeof(tsp)))
        return;
    for (int n = 0; tsp && n < SHM_MAX_THREADS; n++) {
        PyThreadState ts;
        if (!peek(s, &ts, tsp, sizeof(ts)))
            break;
        sample_thread(s, tsp, &ts);
        tsp = ts.next;
    }
    s->region->passes++;
}

static void *sampler_main(void *arg)
{
    struct sampler *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    while (!s->stop) {
        uint64_t ns = (uint64_t)next.tv_nsec + s->interval_ns;
        next.tv_sec += (time_t)(ns / 1000000000ULL);
        next.tv_nsec = (long)(ns % 1000000000ULL);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
        if (s->stop)
            break;
        sample_pass(s);
        /* Fell behind (a stopped process, an overloaded machine): skip
         * the missed passes instead of bursting to catch up. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t late =
            (int64_t)(now.tv_sec - next.tv_sec) * 1000000000LL + (now.tv_nsec - next.tv_nsec);
        if (late > (int64_t)s->interval_ns)
            next = now;
    }
    return NULL;
}

int sampler_start(struct shm_region *region, double interval_s)
{
    struct sampler *s = &sampler_state;
    s->region = region;
    s->pid = getpid();
    s->interp = PyInterpreterState_Main();
    s->main_tstate = profiler_main_tstate();
    s->interval_ns = (uint64_t)(interval_s * 1e9);
    s->stop = 0;
    /* Signals belong to the script's threads, never to the sampler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    /* The supervisor leaves this thread out of the script's run-queue delay by its
     * name: born with it (a thread inherits its creator's), so never seen without. */
    char name[16] = "";
    prctl(PR_GET_NAME, name);
    prctl(PR_SET_NAME, CONTENTION_SAMPLER_NAME);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    prctl(PR_SET_NAME, name);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    s->running = 1;
    return 0;
}

void sampler_stop(void)
{
    struct sampler *s = &sampler_state;
    if (!s->running)
        return;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    s->running = 0;
}
