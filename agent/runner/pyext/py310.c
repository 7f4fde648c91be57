/*
 * py310.c - CPython 3.10 (pyver.h).
 *
 * Layout: threads in interp->tstate_head; a thread's frame is tstate->frame,
 * a PyFrameObject (f_code, f_back). Code objects have no qualified name
 * before 3.11: functions are named by co_name (as cProfile names them).
 * PyThreadState has no native thread id before 3.11: the sampler reads the
 * Linux TID from glibc's struct pthread behind tstate->thread_id, at an
 * offset found here by looking for our own TID in our own struct pthread.
 *
 * Trace hook: the PEP 523 frame-evaluation function (see py311.c for why
 * not a profile hook). 3.10 inlines no calls and specializes nothing, and
 * creating a generator evaluates no frame: every evaluation is a call or a
 * resumption, as cProfile counts them.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#include <frameobject.h>
#include <internal/pycore_interp.h>

#include "layout.h"
#include "pyver.h"
#include "trace.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#if PY_VERSION_HEX < 0x030A0000 || PY_VERSION_HEX >= 0x030B0000
#error "py310.c is for CPython 3.10"
#endif

const char *const pyver_thread_event = NULL; /* 3.10 audits no thread start */

/* Where glibc keeps the TID in struct pthread (what pthread_t points to). */
static uint32_t pthread_tid_offset(void)
{
    const int *self = (const int *)(uintptr_t)pthread_self();
    int tid = (int)gettid();
    for (uint32_t i = 0; i < 2048 / sizeof(int); i++)
        if (self[i] == tid)
            return i * (uint32_t)sizeof(int);
    return SHM_NONE;
}

int pyver_layout(struct shm_layout *l, char *err, size_t errlen)
{
    l->interp_tstate_head = offsetof(PyInterpreterState, tstate_head);
    l->tstate_native_id = SHM_NONE;
    l->pthread_tid = pthread_tid_offset();
    if (l->pthread_tid == SHM_NONE) {
        snprintf(err, errlen, "could not find the thread id in this C library's pthread_t");
        return -1;
    }
    l->tstate_frame = offsetof(PyThreadState, frame);
    l->cframe_frame = SHM_NONE;
    l->frame_code = offsetof(PyFrameObject, f_code);
    l->frame_previous = offsetof(PyFrameObject, f_back);
    l->frame_owner = SHM_NONE;
    l->owner_skip = SHM_NONE;
    l->frame_read = offsetof(PyFrameObject, f_builtins);
    layout_common(l, offsetof(PyCodeObject, co_name));
    return 0;
}

void pyver_first_sight(PyCodeObject *co)
{
    (void)co;
}

static PyObject *trace_eval(PyThreadState *ts, PyFrameObject *frame, int throwflag)
{
    if ((!trace_armed && !trace_ready(frame->f_globals)) || !trace_enter(frame->f_code))
        return _PyEval_EvalFrameDefault(ts, frame, throwflag);
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    trace_leave();
    return res;
}

int pyver_trace_start(void)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), trace_eval);
    return 0;
}

void pyver_trace_stop(void)
{
    _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), _PyEval_EvalFrameDefault);
}
