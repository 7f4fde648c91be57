/*
 * py312.c - CPython 3.12 (pyver.h).
 *
 * Layout: threads in interp->threads.head; a thread's frame is
 * tstate->cframe->current_frame, a _PyInterpreterFrame (f_code, previous,
 * owner); frames owned by the C stack (FRAME_OWNED_BY_CSTACK: the
 * interpreter's entry shims) are not the script's and are skipped.
 *
 * Trace hook: sys.monitoring (monitoring.c), as cProfile on this version.
 * Thread starts: the audit event _thread.start_new_thread.
 */
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>

#include "layout.h"
#include "pyver.h"

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030D0000
#error "py312.c is for CPython 3.12"
#endif

const char *const pyver_thread_event = "_thread.start_new_thread";

int pyver_layout(struct shm_layout *l, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    l->interp_tstate_head = offsetof(PyInterpreterState, threads.head);
    l->tstate_native_id = offsetof(PyThreadState, native_thread_id);
    l->pthread_tid = SHM_NONE;
    l->tstate_frame = offsetof(PyThreadState, cframe);
    l->cframe_frame = offsetof(_PyCFrame, current_frame);
    l->frame_code = offsetof(_PyInterpreterFrame, f_code);
    l->frame_previous = offsetof(_PyInterpreterFrame, previous);
    l->frame_owner = offsetof(_PyInterpreterFrame, owner);
    l->owner_skip = FRAME_OWNED_BY_CSTACK;
    l->frame_read = offsetof(_PyInterpreterFrame, localsplus);
    layout_common(l, offsetof(PyCodeObject, co_qualname));
    return 0;
}
