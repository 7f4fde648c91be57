/*
 * module.c - the part of pyscope-run inside the user's own python.
 *
 * pyscope-run starts the user's interpreter as `python3 SCRIPT ARGS` would,
 * with one folder put in front of PYTHONPATH: it holds this module, built
 * once per supported CPython version under the name `sitecustomize`
 * (sitecustomize.cpython-3XY-ARCH.so: the interpreter picks its own). site
 * imports sitecustomize at start-up, and this module's exec slot starts the
 * profile (a compiled module, not a .py: nothing to compile at each start,
 * which would cost 8 M instructions where no .pyc can be written). It
 * - attaches the profile region shared with the supervisor (System V shared
 *   memory, whose id PYSCOPE_REGION gives);
 * - takes itself back out: the folder leaves sys.path, PYTHONPATH and the
 *   environment get their values back (children started by the script see
 *   what they would have seen), and the user's own sitecustomize, if any,
 *   is run in its place;
 * - publishes the interpreter's layout for the sampler outside (pyver.h),
 *   logs freed code objects in sample mode (the sampler's identities,
 *   codemap.h), and installs its hooks: an audit hook, an atexit handler
 *   registered before the script's own (so it runs after them), fork
 *   handlers, and a watch on thread starts (for thread names).
 * The audit event cpython.run_file (cpython.run_module for a folder or zip)
 * comes just before the script's first line: profiling starts there, and
 * sys.modules forgets this module when the user has no sitecustomize of
 * their own (theirs stays, as it would). The atexit handler ends it: trace hook off, thread names
 * written, end times, `stopped` for the sampler.
 *
 * Everything here runs with the GIL held.
 */
#include <Python.h>

#include "pyver.h"
#include "shm.h"
#include "trace.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

/* Module state: one run per process. */
static struct shm_region *region;
static int mode;                    /* 1 sample, 2 trace; 0 once stopped or forked */
static int running;                 /* between the script's first line and its end */
static PyObject *started_threads;   /* Thread objects whose names the report wants */
static PyObject *thread_start_orig; /* _thread.start_new_thread, when wrapped */
static destructor code_dealloc_orig;
static int log_deaths;

static PyObject *imported(const char *name);
PyMODINIT_FUNC PyInit_sitecustomize(void);

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- sample mode: the death log of code objects ------------------------ */

static void code_dealloc_logged(PyObject *op)
{
    if (log_deaths) {
        uint64_t n = region->deaths_written;
        region->deaths[n % SHM_DEATHS] = (uint64_t)(uintptr_t)op;
        __atomic_store_n(&region->deaths_written, n + 1, __ATOMIC_RELEASE);
    }
    code_dealloc_orig(op);
}

static void deaths_unhook(void)
{
    log_deaths = 0;
    if (code_dealloc_orig)
        PyCode_Type.tp_dealloc = code_dealloc_orig;
}

/* ---- thread names ------------------------------------------------------ */

/* Keep the Thread whose _bootstrap method fn is (anything else: ignored). */
static void note_thread_start(PyObject *fn)
{
    if (!mode || !started_threads || !fn || !PyMethod_Check(fn))
        return;
    if (PyList_Append(started_threads, PyMethod_GET_SELF(fn)) < 0)
        PyErr_Clear();
}

/* _thread.start_new_thread's stand-in (versions without the audit event). */
static PyObject *thread_start_wrapper(PyObject *self, PyObject *args, PyObject *kwargs)
{
    (void)self;
    if (PyTuple_GET_SIZE(args) > 0)
        note_thread_start(PyTuple_GET_ITEM(args, 0));
    return PyObject_Call(thread_start_orig, args, kwargs);
}

static PyMethodDef thread_start_def = {
    "start_new_thread", (PyCFunction)(void (*)(void))thread_start_wrapper,
    METH_VARARGS | METH_KEYWORDS, "pyscope-run's stand-in: notes the thread, then starts it"};

/* Put the stand-in in _thread (and threading, when already imported). */
static int wrap_thread_start(void)
{
    PyObject *thread_mod = PyImport_ImportModule("_thread");
    if (!thread_mod)
        return -1;
    thread_start_orig = PyObject_GetAttrString(thread_mod, "start_new_thread");
    PyObject *wrapper = thread_start_orig ? PyCFunction_New(&thread_start_def, NULL) : NULL;
    int rc = wrapper ? PyObject_SetAttrString(thread_mod, "start_new_thread", wrapper) : -1;
    PyObject *threading = rc == 0 ? imported("threading") : NULL;
    if (threading) {
        PyObject *cur = PyObject_GetAttrString(threading, "_start_new_thread");
        if (cur == thread_start_orig)
            rc = PyObject_SetAttrString(threading, "_start_new_thread", wrapper);
        PyErr_Clear();
        Py_XDECREF(cur);
        Py_DECREF(threading);
    }
    PyErr_Clear();
    Py_XDECREF(wrapper);
    Py_DECREF(thread_mod);
    return rc;
}

/* sys.modules[name] if imported (new reference), else NULL; never raises. */
static PyObject *imported(const char *name)
{
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    PyObject *m = modules ? PyDict_GetItemString(modules, name) : NULL;
    Py_XINCREF(m);
    return m;
}

/* The str o as UTF-8 into dst, cut at a character boundary when too long. */
static void copy_text(char *dst, size_t len, PyObject *o)
{
    const char *s = o && PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (!s)
        PyErr_Clear();
    size_t n = s ? strlen(s) : 0;
    if (n >= len) {
        n = len - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] continues a character: cut before that character */
    }
    memcpy(dst, s ? s : "", n);
    dst[n] = '\0';
}

/* One name for the report: Thread t's name under its native id. */
static void write_thread_name(PyObject *t)
{
    PyObject *name = PyObject_GetAttrString(t, "name");
    PyObject *nid = name ? PyObject_GetAttrString(t, "native_id") : NULL;
    if (nid && PyLong_Check(nid) && region->nnames < SHM_MAX_THREADS) {
        struct shm_thread_name *n = &region->names[region->nnames++];
        n->native_id = PyLong_AsUnsignedLongLong(nid);
        copy_text(n->name, sizeof(n->name), name);
    }
    PyErr_Clear();
    Py_XDECREF(name);
    Py_XDECREF(nid);
}

static void write_thread_names(void)
{
    PyObject *threading = imported("threading");
    if (threading) {
        PyObject *m = PyObject_CallMethod(threading, "main_thread", NULL);
        if (m)
            write_thread_name(m);
        PyErr_Clear();
        Py_XDECREF(m);
        Py_DECREF(threading);
    }
    PyErr_Clear();
    Py_ssize_t n = started_threads ? PyList_GET_SIZE(started_threads) : 0;
    for (Py_ssize_t i = 0; i < n; i++)
        write_thread_name(PyList_GET_ITEM(started_threads, i));
    Py_CLEAR(started_threads);
}

/* ---- start and stop of the script ------------------------------------- */

/* The script's first line is next: sys.modules forgets us, profiling starts. */
static void script_starts(void)
{
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    if (modules) {
        PyObject *site = PyDict_GetItemString(modules, "sitecustomize");
        PyObject *ours = site ? PyObject_GetAttrString(site, "__pyscope__") : NULL;
        PyErr_Clear();
        if (ours && PyDict_DelItemString(modules, "sitecustomize") < 0) /* the user has none */
            PyErr_Clear();
        Py_XDECREF(ours);
    }
    PyObject *main = modules ? PyDict_GetItemString(modules, "__main__") : NULL;
    if (mode == 2)
        trace_arm_at(main ? PyModule_GetDict(main) : NULL);
    PyErr_Clear();
    region->tsc_start = __rdtsc();
    region->mono_start_ns = mono_ns();
    if (mode == 2 && pyver_trace_start() < 0) {
        PyErr_Clear();
        snprintf(region->error, sizeof(region->error), "could not start the trace hook");
    }
    running = 1;
    __atomic_store_n(&region->started, 1, __ATOMIC_RELEASE);
}

static void profile_stop(void)
{
    if (!running || !mode)
        return;
    running = 0;
    if (mode == 2) {
        pyver_trace_stop();
        trace_disable();
    }
    deaths_unhook();
    region->tsc_end = __rdtsc();
    region->mono_end_ns = mono_ns();
    write_thread_names();
    __atomic_store_n(&region->stopped, 1, __ATOMIC_RELEASE);
    mode = 0;
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (!mode)
        return 0;
    if (!running && event[0] == 'c' &&
        (strcmp(event, "cpython.run_file") == 0 || strcmp(event, "cpython.run_module") == 0)) {
        script_starts();
    } else if (pyver_thread_event && event[0] == '_' && strcmp(event, pyver_thread_event) == 0 &&
               PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0) {
        note_thread_start(PyTuple_GET_ITEM(args, 0));
    }
    return 0;
}

static PyObject *atexit_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    profile_stop();
    Py_RETURN_NONE;
}

static PyObject *fork_before(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (mode)
        region->forks++;
    Py_RETURN_NONE;
}

static PyObject *fork_child(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    /* The forked process is not profiled (the report says so): the region is
     * its parent's, not ours to write. */
    if (mode == 2) {
        pyver_trace_stop();
        trace_disable();
    }
    deaths_unhook();
    mode = 0;
    running = 0;
    Py_RETURN_NONE;
}

static PyMethodDef hook_defs[] = {
    {"_pyscope_stop", atexit_stop, METH_NOARGS, NULL},
    {"_pyscope_fork_before", fork_before, METH_NOARGS, NULL},
    {"_pyscope_fork_child", fork_child, METH_NOARGS, NULL},
};

/* atexit.register(stop); os.register_at_fork(before=..., after_in_child=...).
 * atexit leaves sys.modules again when we were the ones to import it (its
 * registrations are the interpreter's, not the module object's). */
static int install_exit_and_fork(void)
{
    PyObject *had_atexit = imported("atexit");
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
    Py_XDECREF(stop);
    Py_XDECREF(before);
    Py_XDECREF(after);
    Py_XDECREF(atexit);
    Py_XDECREF(os);
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    if (!had_atexit && modules && PyDict_DelItemString(modules, "atexit") < 0)
        PyErr_Clear();
    Py_XDECREF(had_atexit);
    return rc;
}

/* ---- taking ourselves back out ----------------------------------------- */

/* PYTHONPATH as it was before pyscope-run added our folder, and our own
 * variable gone: in os.environ and the C environment alike. */
static int restore_environment(void)
{
    PyObject *os = PyImport_ImportModule("os");
    PyObject *os_environ = os ? PyObject_GetAttrString(os, "environ") : NULL;
    int rc = os_environ ? 0 : -1;
    if (os_environ) {
        const char *orig = getenv("PYSCOPE_PYTHONPATH");
        if (orig) {
            PyObject *v = PyUnicode_DecodeFSDefault(orig);
            rc = v ? PyMapping_SetItemString(os_environ, "PYTHONPATH", v) : -1;
            Py_XDECREF(v);
        } else if (PyMapping_HasKeyString(os_environ, "PYTHONPATH")) {
            rc = PyMapping_DelItemString(os_environ, "PYTHONPATH");
        }
        const char *ours[] = {"PYSCOPE_PYTHONPATH", "PYSCOPE_REGION"};
        for (size_t i = 0; i < 2 && rc == 0; i++)
            if (PyMapping_HasKeyString(os_environ, ours[i]))
                rc = PyMapping_DelItemString(os_environ, ours[i]);
    }
    Py_XDECREF(os_environ);
    Py_XDECREF(os);
    return rc;
}

/* Our folder out of sys.path and sys.path_importer_cache. */
static int restore_path(PyObject *dir)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    if (!path || !PyList_Check(path))
        return -1;
    for (Py_ssize_t i = PyList_GET_SIZE(path); i-- > 0;) {
        int eq = PyObject_RichCompareBool(PyList_GET_ITEM(path, i), dir, Py_EQ);
        if (eq < 0 || (eq && PySequence_DelItem(path, i) < 0))
            return -1;
    }
    PyObject *cache = PySys_GetObject("path_importer_cache"); /* borrowed */
    if (cache && PyDict_Check(cache) && PyDict_Contains(cache, dir) == 1)
        return PyDict_DelItem(cache, dir);
    return 0;
}

/* Run the user's own sitecustomize, if there is one, as site would have:
 * found on sys.path (ours is gone from it), replacing us in sys.modules.
 * Its exceptions propagate to site, which reports them as it always does. */
static int run_user_sitecustomize(void)
{
    PyObject *bootstrap = PyImport_ImportModule("_frozen_importlib");
    PyObject *spec =
        bootstrap ? PyObject_CallMethod(bootstrap, "_find_spec", "sO", "sitecustomize", Py_None)
                  : NULL;
    int rc = spec ? 0 : -1;
    if (spec && spec != Py_None) {
        PyObject *module = PyObject_CallMethod(bootstrap, "module_from_spec", "O", spec);
        PyObject *loader = module ? PyObject_GetAttrString(spec, "loader") : NULL;
        PyObject *modules = PySys_GetObject("modules"); /* borrowed */
        rc = loader && modules && PyDict_SetItemString(modules, "sitecustomize", module) == 0 ? 0
                                                                                              : -1;
        if (rc == 0) {
            PyObject *r = PyObject_CallMethod(loader, "exec_module", "O", module);
            rc = r ? 0 : -1;
            Py_XDECREF(r);
        }
        Py_XDECREF(loader);
        Py_XDECREF(module);
    }
    Py_XDECREF(spec);
    Py_XDECREF(bootstrap);
    return rc;
}

/* Trace mode: what the hook costs one Python-to-Python call on this machine
 * and interpreter, measured before the script starts so that the report can
 * say what tracing cost: a loop of CALIB_CALLS calls of an empty function,
 * without the hook and with it (recording into a scratch region), the best of
 * CALIB_ROUNDS each. About a millisecond; any failure leaves it unmeasured. */
#define CALIB_CALLS  4000
#define CALIB_ROUNDS 5

static void calibrate(void)
{
    static const char src[] = "def _f():\n    pass\n"
                              "def _loop(n):\n    f = _f\n    for _ in range(n):\n        f()\n";
    PyObject *g = PyDict_New();
    PyObject *code = g && PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins()) == 0
                         ? Py_CompileString(src, "<pyscope calibration>", Py_file_input)
                         : NULL;
    PyObject *r = code ? PyEval_EvalCode(code, g, g) : NULL;
    PyObject *loop = r ? PyDict_GetItemString(g, "_loop") : NULL; /* borrowed */
    struct shm_region *scratch = loop ? shm_map(2) : NULL;
    uint64_t best[2] = {UINT64_MAX, UINT64_MAX};
    for (int round = 0; scratch && round < CALIB_ROUNDS; round++) {
        for (int hooked = 0; hooked < 2; hooked++) {
            if (hooked &&
                (trace_init(scratch, PyThreadState_Get()) < 0 || pyver_trace_start() < 0)) {
                PyErr_Clear();
                best[1] = UINT64_MAX;
                round = CALIB_ROUNDS;
                break;
            }
            trace_armed = 1;
            uint64_t t0 = mono_ns();
            PyObject *res = PyObject_CallFunction(loop, "i", CALIB_CALLS);
            uint64_t t = mono_ns() - t0;
            if (hooked)
                pyver_trace_stop();
            Py_XDECREF(res);
            PyErr_Clear();
            if (res && t < best[hooked])
                best[hooked] = t;
        }
    }
    trace_armed = 0;
    if (scratch && best[0] != UINT64_MAX && best[1] != UINT64_MAX) {
        region->calib_calls = CALIB_CALLS;
        region->calib_plain_ns = best[0];
        region->calib_hook_ns = best[1];
    }
    /* (The scratch region stays mapped: code objects it registered are held.) */
    PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(code);
    Py_XDECREF(g);
}

/* Tell the supervisor why, and leave before the script runs: a run that
 * cannot be profiled must not pass for one that was. */
__attribute__((noreturn)) static int start_failed(const char *what)
{
    if (PyErr_Occurred())
        PyErr_Print();
    fprintf(stderr, "pyscope-run: %s\n", what);
    if (region)
        snprintf(region->error, sizeof(region->error), "%s", what);
    fflush(stderr);
    _exit(4);
}

/* The folder this module was loaded from: ours, to take out of sys.path
 * (new string, or NULL with an exception). */
static PyObject *own_folder(void)
{
    Dl_info info;
    if (!dladdr((void *)PyInit_sitecustomize, &info) || !info.dli_fname) {
        PyErr_SetString(PyExc_RuntimeError, "could not find the module's own file");
        return NULL;
    }
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? PyUnicode_DecodeFSDefaultAndSize(info.dli_fname, slash - info.dli_fname)
                 : PyUnicode_FromString(".");
}

/* The module's exec slot: start the profile (see the top of this file). */
static int mod_exec(PyObject *module)
{
    uint64_t t_start = mono_ns();
    if (region)
        return 0; /* started already (imported twice) */
    if (PyModule_AddIntConstant(module, "__pyscope__", 1) < 0)
        return -1;
    const char *id_text = getenv("PYSCOPE_REGION");
    char *end = NULL;
    long id = id_text ? strtol(id_text, &end, 10) : -1;
    if (!id_text || *end || id < 0 || id > INT_MAX)
        return start_failed("PYSCOPE_REGION is not set: this sitecustomize is pyscope-run's, "
                            "for scripts it runs");
    char err[256];
    region = shm_attach((int)id, err, sizeof(err));
    if (!region)
        return start_failed(err);
    mode = (int)region->mode;

    PyObject *dir = own_folder();
    if (!dir || restore_path(dir) < 0 || restore_environment() < 0) {
        Py_XDECREF(dir);
        return start_failed("could not take pyscope's folder out of sys.path and PYTHONPATH");
    }
    Py_DECREF(dir);

    copy_text(region->py_build, sizeof(region->py_build), PySys_GetObject("version"));
    copy_text(region->py_executable, sizeof(region->py_executable), PySys_GetObject("executable"));
    copy_text(region->py_prefix, sizeof(region->py_prefix), PySys_GetObject("prefix"));
    /* the running interpreter's version, not the headers' this module was built with (one
     * 3.11 module serves every 3.11.x: a 3.11.7 reported as the 3.11.2 of the headers would
     * be another build's series, and the farm refuses a run under a Python its job did not
     * ask for: docs/pythons.md) */
    long ver[3] = {PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MICRO_VERSION};
    PyObject *vi = PySys_GetObject("version_info"); /* borrowed */
    for (Py_ssize_t i = 0; vi && PyTuple_Check(vi) && i < 3 && i < PyTuple_GET_SIZE(vi); i++) {
        long v = PyLong_AsLong(PyTuple_GET_ITEM(vi, i));
        if (v < 0 && PyErr_Occurred())
            PyErr_Clear();
        else
            ver[i] = v;
    }
    snprintf(region->py_version, sizeof(region->py_version), "%ld.%ld.%ld", ver[0], ver[1], ver[2]);

    if (pyver_layout(&region->layout, err, sizeof(err)) < 0)
        return start_failed(err);
    region->pid = (uint32_t)getpid();
    __atomic_store_n(&region->layout_ready, 1, __ATOMIC_RELEASE);
    if (mode == 2) {
        calibrate();
        if (trace_init(region, PyThreadState_Get()) < 0)
            return start_failed("could not set up the tracer");
    }
    if (mode == 1) {
        code_dealloc_orig = PyCode_Type.tp_dealloc;
        log_deaths = 1;
        PyCode_Type.tp_dealloc = code_dealloc_logged;
    }
    started_threads = PyList_New(0);
    if (!started_threads || (!pyver_thread_event && wrap_thread_start() < 0))
        return start_failed("could not watch thread starts");
    if (install_exit_and_fork() < 0)
        return start_failed("could not register the exit and fork handlers");
    if (PySys_AddAuditHook(audit_hook, NULL) < 0)
        return start_failed("could not add the audit hook");
    region->startup_ns = mono_ns() - t_start;
    /* The user's sitecustomize takes our place in sys.modules; when it fails,
     * site says so, as it would without us. */
    return run_user_sitecustomize();
}

static PyModuleDef_Slot mod_slots[] = {
    {Py_mod_exec, (void *)mod_exec},
    {0, NULL},
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sitecustomize",
    .m_doc = "pyscope-run's profiler inside the script's python (agent/runner/README.md)",
    .m_size = 0,
    .m_slots = mod_slots,
};

PyMODINIT_FUNC PyInit_sitecustomize(void)
{
    return PyModuleDef_Init(&mod_def);
}
