/*
 * embed.c - the script child: initialize CPython like `python3 script.py`,
 * start the profiler, run the script, stop the profiler at exit.
 *
 * PyConfig as the python3 binary sets it (not isolated: environment
 * variables, site, user site all apply), but with parse_argv=0 so the
 * script's arguments are never taken for Python options, safe_path=0 so
 * sys.path[0] is the script's folder, and program_name pointing at the real
 * interpreter (or the virtualenv's bin/python), which makes sys.executable,
 * sys.prefix and site-packages right.
 *
 * The profiler stops from an atexit callback, registered first so that it
 * runs last, after the script's own atexit handlers; os._exit and signals
 * skip it, which is fine: everything is already in the shared region.
 *
 * Under AddressSanitizer, leak detection is switched off in this child for
 * the thread that runs Python (__lsan_disable): CPython does not free all
 * it allocates at exit, by design. The supervising parent, and what runs in
 * the child before that point, stay checked.
 */
#define Py_BUILD_CORE 1
#include <Python.h>

#include "profiler.h"
#include "shm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#if defined(__SANITIZE_ADDRESS__)
#define EMBED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMBED_ASAN 1
#endif
#endif
#ifdef EMBED_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* Child-process state, set once before the script starts. */
static struct shm_region *child_region;
static PyThreadState *child_main_tstate;
static int child_mode;

PyThreadState *profiler_main_tstate(void)
{
    return child_main_tstate;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void child_fail(const char *what, PyStatus st)
{
    fprintf(stderr, "pyscope-run: could not start python: %s%s%s\n", what, st.err_msg ? ": " : "",
            st.err_msg ? st.err_msg : "");
    _exit(4);
}

static void copy_sys_text(const char *attr, char *dst, size_t len)
{
    PyObject *o = PySys_GetObject(attr); /* borrowed */
    const char *s = o && PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (!s)
        PyErr_Clear();
    snprintf(dst, len, "%s", s ? s : "");
}

static void profiler_stop(void)
{
    struct shm_region *r = child_region;
    if (child_mode == 1)
        sampler_stop();
    else if (child_mode == 2)
        tracer_stop();
    child_mode = 0;
    r->tsc_end = __rdtsc();
    r->mono_end_ns = mono_ns();
}

static PyObject *atexit_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    profiler_stop();
    Py_RETURN_NONE;
}

static PyObject *fork_before(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    child_region->forks++;
    Py_RETURN_NONE;
}

static PyObject *fork_child(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    /* The forked process is not profiled (the report says so): it must not
     * write into the region it shares with us. */
    if (child_mode == 1)
        sampler_after_fork_child();
    else if (child_mode == 2)
        tracer_after_fork_child();
    child_mode = 0;
    Py_RETURN_NONE;
}

static PyMethodDef hook_defs[] = {
    {"_pyscope_stop", atexit_stop, METH_NOARGS, NULL},
    {"_pyscope_fork_before", fork_before, METH_NOARGS, NULL},
    {"_pyscope_fork_child", fork_child, METH_NOARGS, NULL},
};

/* atexit.register(stop); os.register_at_fork(before=..., after_in_child=...). */
static int install_hooks(void)
{
    PyObject *stop = PyCFunction_New(&hook_defs[0], NULL);
    PyObject *before = PyCFunction_New(&hook_defs[1], NULL);
    PyObject *after = PyCFunction_New(&hook_defs[2], NULL);
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *os = PyImport_ImportModule("os");
    int rc = -1;
    if (stop && before && after && atexit && os) {
        PyObject *r1 = PyObject_CallMethod(atexit, "register", "O", stop);
        PyObject *reg = PyObject_GetAttrString(os, "register_at_fork");
        PyObject *kw = Py_BuildValue("{s:O,s:O}", "before", before, "after_in_child", after);
        PyObject *empty = PyTuple_New(0);
        PyObject *r2 = reg && kw && empty ? PyObject_Call(reg, empty, kw) : NULL;
        rc = r1 && r2 ? 0 : -1;
        Py_XDECREF(r1);
        Py_XDECREF(r2);
        Py_XDECREF(reg);
        Py_XDECREF(kw);
        Py_XDECREF(empty);
    }
    if (rc < 0)
        PyErr_Clear();
    Py_XDECREF(stop);
    Py_XDECREF(before);
    Py_XDECREF(after);
    Py_XDECREF(atexit);
    Py_XDECREF(os);
    return rc;
}

void profiler_child_main(const struct profiler_config *cfg, struct shm_region *region)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    config.safe_path = 0;
    config.install_signal_handlers = 1;

    /* argv = [script, args...], as `python3 script args` leaves it. */
    char **argv = malloc(((size_t)cfg->argc + 2) * sizeof(char *));
    if (!argv)
        _exit(4);
    argv[0] = (char *)cfg->script;
    for (int i = 0; i < cfg->argc; i++)
        argv[i + 1] = cfg->argv[i];
    argv[cfg->argc + 1] = NULL;

    PyStatus st = PyConfig_SetBytesArgv(&config, cfg->argc + 1, argv);
    if (PyStatus_Exception(st))
        child_fail("argv", st);
    st = PyConfig_SetBytesString(&config, &config.run_filename, cfg->script);
    if (PyStatus_Exception(st))
        child_fail("script name", st);
    st = PyConfig_SetBytesString(&config, &config.program_name, cfg->program);
    if (PyStatus_Exception(st))
        child_fail("program name", st);
#ifdef EMBED_ASAN
    __lsan_disable(); /* from here on, CPython's own allocations: not ours to free */
#endif
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    free(argv);
    if (PyStatus_Exception(st)) {
        if (PyStatus_IsExit(st))
            _exit(st.exitcode);
        child_fail("initialization", st);
    }

    child_region = region;
    child_main_tstate = PyThreadState_Get();
    copy_sys_text("version", region->py_build, sizeof(region->py_build));
    copy_sys_text("executable", region->py_executable, sizeof(region->py_executable));
    copy_sys_text("prefix", region->py_prefix, sizeof(region->py_prefix));
    snprintf(region->py_version, sizeof(region->py_version), "%d.%d.%d", PY_MAJOR_VERSION,
             PY_MINOR_VERSION, PY_MICRO_VERSION);

    if (install_hooks() < 0)
        snprintf(region->error, sizeof(region->error), "could not register exit/fork hooks");
    region->tsc_start = __rdtsc();
    region->mono_start_ns = mono_ns();
    child_mode = cfg->mode;
    int rc = 0;
    if (cfg->mode == 1)
        rc = sampler_start(region, cfg->interval_s);
    else if (cfg->mode == 2)
        rc = tracer_start(region);
    if (rc < 0) {
        snprintf(region->error, sizeof(region->error), "could not start the %s profiler",
                 cfg->mode == 1 ? "sample" : "trace");
        child_mode = 0;
    }
    region->started = 1;
    /* Py_RunMain runs the script, finalizes, and returns the exit status; on
     * sys.exit and an unhandled KeyboardInterrupt it exits the way python3
     * does (status, or death by SIGINT). */
    exit(Py_RunMain());
}
