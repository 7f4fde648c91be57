/*
 * py311.c - CPython 3.11 (pyver.h).
 *
 * Layout: threads in interp->threads.head; a thread's frame is
 * tstate->cframe->current_frame, a _PyInterpreterFrame (f_code, previous);
 * no C-stack shim frames.
 *
 * Trace hook: the PEP 523 frame-evaluation function. A profile hook
 * (PyEval_SetProfile, cProfile's) switches the interpreter into tracing
 * dispatch, where every instruction takes the slow path and specialization
 * stops; the frame-evaluation hook keeps the fast paths and only stops the
 * inlining of Python-to-Python calls, so that each call comes through
 * trace_eval(). Generator and coroutine resumptions are evaluations too and
 * count as calls, as in cProfile; the evaluation that only creates a
 * generator (RETURN_GENERATOR) is not.
 *
 * One 3.11 specialization still inlines a call without asking the hook:
 * BINARY_SUBSCR_GETITEM (obj[i] on a class with a Python __getitem__). The
 * interpreter quickens a code object (turns instructions into their
 * adaptive forms, which later specialize) after 8 executions; on first sight
 * we quicken it ourselves instead, leaving every BINARY_SUBSCR generic, and
 * mark it quickened so the interpreter does not redo it. A code object
 * quickened before tracing started gets its subscripts made generic.
 */
#define Py_BUILD_CORE_MODULE 1
#define NEED_OPCODE_TABLES   1
#include <Python.h>
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_opcode.h>
#include <opcode.h>

#include "layout.h"
#include "pyver.h"
#include "trace.h"

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "py311.c is for CPython 3.11"
#endif

const char *const pyver_thread_event = NULL; /* 3.11 audits no thread start */

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
    l->frame_owner = SHM_NONE;
    l->owner_skip = SHM_NONE;
    l->frame_read = offsetof(_PyInterpreterFrame, localsplus);
    layout_common(l, offsetof(PyCodeObject, co_qualname));
    return 0;
}

/* Base opcode -> its adaptive form, as 3.11 quickens (BINARY_SUBSCR left out). */
static uint8_t adaptive_of(int op)
{
    switch (op) {
    case BINARY_OP:
        return BINARY_OP_ADAPTIVE;
    case CALL:
        return CALL_ADAPTIVE;
    case COMPARE_OP:
        return COMPARE_OP_ADAPTIVE;
    case LOAD_ATTR:
        return LOAD_ATTR_ADAPTIVE;
    case LOAD_GLOBAL:
        return LOAD_GLOBAL_ADAPTIVE;
    case LOAD_METHOD:
        return LOAD_METHOD_ADAPTIVE;
    case PRECALL:
        return PRECALL_ADAPTIVE;
    case STORE_ATTR:
        return STORE_ATTR_ADAPTIVE;
    case STORE_SUBSCR:
        return STORE_SUBSCR_ADAPTIVE;
    case UNPACK_SEQUENCE:
        return UNPACK_SEQUENCE_ADAPTIVE;
    case EXTENDED_ARG:
        return EXTENDED_ARG_QUICK;
    case JUMP_BACKWARD:
        return JUMP_BACKWARD_QUICK;
    case RESUME:
        return RESUME_QUICK;
    default:
        return 0;
    }
}

void pyver_first_sight(PyCodeObject *co)
{
    _Py_CODEUNIT *code = _PyCode_CODE(co);
    Py_ssize_t n = Py_SIZE(co);
    bool quicken = co->co_warmup != 0;
    for (Py_ssize_t i = 0; i < n;) {
        int op = _Py_OPCODE(code[i]);
        int base = _PyOpcode_Deopt[op];
        if (base == BINARY_SUBSCR && op != BINARY_SUBSCR) {
            _Py_SET_OPCODE(code[i], BINARY_SUBSCR);
        } else if (quicken && op == base) {
            uint8_t adaptive = adaptive_of(op);
            if (adaptive) {
                _Py_SET_OPCODE(code[i], adaptive);
                if (_PyOpcode_Caches[base])
                    code[i + 1] = adaptive_counter_start();
            }
        }
        i += 1 + _PyOpcode_Caches[base];
    }
    co->co_warmup = 0; /* quickened: the interpreter leaves it alone now */
}

static PyObject *trace_eval(PyThreadState *ts, _PyInterpreterFrame *frame, int throwflag)
{
    PyCodeObject *co = frame->f_code;
    /* Calling a generator function only creates the generator (its frame
     * runs RETURN_GENERATOR): like cProfile, count the resumptions only. */
    bool creating = (co->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
                    frame->prev_instr + 1 == _PyCode_CODE(co);
    if (creating || (!trace_armed && !trace_ready(frame->f_globals)) || !trace_enter(co))
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
