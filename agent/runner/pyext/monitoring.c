/*
 * monitoring.c - sys.monitoring as the trace hook: pyver.h's trace part for
 * CPython 3.12 and later (the version files py312.c, py313.c give the rest).
 *
 * The events and what they mean are cProfile's own on these versions
 * (Modules/_lsprof.c): PY_START, PY_RESUME and PY_THROW enter a function;
 * PY_RETURN, PY_YIELD and PY_UNWIND leave it. So a generator counts one call
 * per resumption, and calls equal cProfile's by construction. C functions
 * (CALL, C_RETURN) are not asked for: their time stays in their Python
 * caller's self time.
 *
 * Unlike a PEP 523 hook, monitoring leaves the interpreter's inlined calls
 * and specializations in place; each event costs one vectorcall of a C
 * function. Tool id 4 (sys.monitoring reserves 0-2 and 5 for debuggers,
 * coverage, profilers such as cProfile, and optimizers): a script that runs
 * cProfile itself keeps working.
 */
#include <Python.h>

#include "pyver.h"
#include "trace.h"

#define MONITORING_TOOL 4

/* Before the script's first frame: is this it? (Its globals are __main__'s.) */
static bool mon_ready(void)
{
    PyFrameObject *frame = PyEval_GetFrame(); /* borrowed: the frame starting */
    PyObject *globals = frame ? PyFrame_GetGlobals(frame) : NULL;
    bool ready = trace_ready(globals);
    Py_XDECREF(globals);
    return ready;
}

static PyObject *mon_enter(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs >= 1 && PyCode_Check(args[0]) && (trace_armed || mon_ready()))
        trace_enter((PyCodeObject *)args[0]);
    Py_RETURN_NONE;
}

static PyObject *mon_leave(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    (void)args;
    (void)nargs;
    trace_leave();
    Py_RETURN_NONE;
}

static PyMethodDef mon_defs[] = {
    {"_pyscope_enter", (PyCFunction)(void (*)(void))mon_enter, METH_FASTCALL, NULL},
    {"_pyscope_leave", (PyCFunction)(void (*)(void))mon_leave, METH_FASTCALL, NULL},
};

static const struct {
    const char *event;
    int enter;
} mon_events[] = {
    {"PY_START", 1},  {"PY_RESUME", 1}, {"PY_THROW", 1},
    {"PY_RETURN", 0}, {"PY_YIELD", 0},  {"PY_UNWIND", 0},
};

static PyObject *monitoring_module(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *mon = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL;
    Py_XDECREF(sys);
    return mon;
}

int pyver_trace_start(void)
{
    PyObject *mon = monitoring_module();
    if (!mon)
        return -1;
    PyObject *events = PyObject_GetAttrString(mon, "events");
    PyObject *enter = PyCFunction_New(&mon_defs[0], NULL);
    PyObject *leave = PyCFunction_New(&mon_defs[1], NULL);
    PyObject *r = events && enter && leave
                      ? PyObject_CallMethod(mon, "use_tool_id", "is", MONITORING_TOOL, "pyscope")
                      : NULL;
    int rc = r ? 0 : -1;
    Py_XDECREF(r);
    long mask = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(mon_events) / sizeof(mon_events[0]); i++) {
        PyObject *ev = PyObject_GetAttrString(events, mon_events[i].event);
        long bit = ev ? PyLong_AsLong(ev) : -1;
        r = bit >= 0 ? PyObject_CallMethod(mon, "register_callback", "iOO", MONITORING_TOOL, ev,
                                           mon_events[i].enter ? enter : leave)
                     : NULL;
        rc = r ? 0 : -1;
        mask |= bit;
        Py_XDECREF(r);
        Py_XDECREF(ev);
    }
    if (rc == 0) {
        r = PyObject_CallMethod(mon, "set_events", "il", MONITORING_TOOL, mask);
        rc = r ? 0 : -1;
        Py_XDECREF(r);
    }
    Py_XDECREF(enter);
    Py_XDECREF(leave);
    Py_XDECREF(events);
    Py_DECREF(mon);
    return rc;
}

void pyver_first_sight(PyCodeObject *co)
{
    (void)co; /* monitoring keeps the interpreter's inlined calls visible */
}

void pyver_trace_stop(void)
{
    PyObject *mon = monitoring_module();
    PyObject *r = mon ? PyObject_CallMethod(mon, "set_events", "ii", MONITORING_TOOL, 0) : NULL;
    Py_XDECREF(r);
    r = mon ? PyObject_CallMethod(mon, "free_tool_id", "i", MONITORING_TOOL) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(mon);
    PyErr_Clear();
}
