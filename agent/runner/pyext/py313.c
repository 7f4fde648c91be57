/*
 * py313.c - CPython 3.13 (pyver.h).
 *
 * Layout: threads in interp->threads.head; a thread's frame is
 * tstate->current_frame (the _PyCFrame is gone), a _PyInterpreterFrame whose
 * f_executable is a code object (or None: skipped by the sampler, which
 * checks the type), previous, owner; C-stack shim frames are skipped.
 * CPython 3.13 publishes these offsets itself (_Py_DebugOffsets in
 * _PyRuntime, for readers outside the process): pyver_layout() checks ours,
 * taken from the headers we were built with, against the running
 * interpreter's, and refuses to run on a mismatch.
 *
 * Refused: the free-threaded build (3.13t): its objects and thread states are
 * laid out differently, and its trace hook would not be serialized by a GIL.
 *
 * Trace hook: sys.monitoring (monitoring.c), as cProfile on this version.
 * Thread starts: the audit event _thread.start_joinable_thread.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>

#include <stdio.h>

#include "layout.h"
#include "pyver.h"

#if PY_VERSION_HEX < 0x030D0000 || PY_VERSION_HEX >= 0x030E0000
#error "py313.c is for CPython 3.13"
#endif

const char *const pyver_thread_event = "_thread.start_joinable_thread";

#ifdef Py_GIL_DISABLED
#error "the free-threaded build of CPython 3.13 is not supported"
#endif

/* Our offset of a field against the runtime's debug offsets. */
#define LAYOUT_CHECK(ours, theirs, what)                                                           \
    do {                                                                                           \
        if ((uint64_t)(ours) != (uint64_t)(theirs)) {                                              \
            snprintf(err, errlen,                                                                  \
                     "this module was built for another CPython 3.13 (%s at %llu, the running "    \
                     "interpreter has it at %llu): rebuild pyscope against this Python's headers", \
                     what, (unsigned long long)(ours), (unsigned long long)(theirs));              \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)

int pyver_layout(struct shm_layout *l, char *err, size_t errlen)
{
    l->interp_tstate_head = offsetof(PyInterpreterState, threads.head);
    l->tstate_native_id = offsetof(PyThreadState, native_thread_id);
    l->pthread_tid = SHM_NONE;
    l->tstate_frame = offsetof(PyThreadState, current_frame);
    l->cframe_frame = SHM_NONE;
    l->frame_code = offsetof(_PyInterpreterFrame, f_executable);
    l->frame_previous = offsetof(_PyInterpreterFrame, previous);
    l->frame_owner = offsetof(_PyInterpreterFrame, owner);
    l->owner_skip = FRAME_OWNED_BY_CSTACK;
    l->frame_read = offsetof(_PyInterpreterFrame, localsplus);
    layout_common(l, offsetof(PyCodeObject, co_qualname));

    const _Py_DebugOffsets *d = &_PyRuntime.debug_offsets;
    LAYOUT_CHECK(l->interp_tstate_head, d->interpreter_state.threads_head, "threads.head");
    LAYOUT_CHECK(l->tstate_next, d->thread_state.next, "PyThreadState.next");
    LAYOUT_CHECK(l->tstate_native_id, d->thread_state.native_thread_id,
                 "PyThreadState.native_thread_id");
    LAYOUT_CHECK(l->tstate_frame, d->thread_state.current_frame, "PyThreadState.current_frame");
    LAYOUT_CHECK(l->frame_code, d->interpreter_frame.executable, "f_executable");
    LAYOUT_CHECK(l->frame_previous, d->interpreter_frame.previous, "previous");
    LAYOUT_CHECK(l->frame_owner, d->interpreter_frame.owner, "owner");
    LAYOUT_CHECK(l->code_filename, d->code_object.filename, "co_filename");
    LAYOUT_CHECK(l->code_name, d->code_object.qualname, "co_qualname");
    LAYOUT_CHECK(l->code_firstlineno, d->code_object.firstlineno, "co_firstlineno");
    LAYOUT_CHECK(l->unicode_length, d->unicode_object.length, "PyASCIIObject.length");
    LAYOUT_CHECK(l->unicode_state, d->unicode_object.state, "PyASCIIObject.state");
    return 0;
}
