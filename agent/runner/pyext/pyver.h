/*
 * pyver.h - what differs between CPython versions, behind one interface.
 *
 * One file per version family implements it, compiled only into the module
 * module built for that version (CMakeLists.txt picks it): py310.c (3.10),
 * py311.c (3.11), py312.c (3.12), py313.c (3.13). Supporting 3.14 means a new
 * py314.c and one line in the build, not a rewrite. What each provides:
 * - the layout of threads, frames, code objects and strings, which the
 *   sampler outside the process reads memory with (shm.h, struct shm_layout);
 * - the trace hook: a PEP 523 frame-evaluation function up to 3.11,
 *   sys.monitoring (PEP 669, as cProfile itself) from 3.12 (monitoring.c);
 * - how thread starts are seen (for thread names).
 * Everything else in the module uses the C API common to all of them.
 */
#ifndef PYSCOPE_PYEXT_PYVER_H
#define PYSCOPE_PYEXT_PYVER_H

#include <Python.h>
#include <stddef.h>

struct shm_layout;

/* Fill l for the running interpreter. Returns 0, or -1 with a reason in err. */
int pyver_layout(struct shm_layout *l, char *err, size_t errlen);

/* Start calling trace_enter()/trace_leave() (trace.h) for every Python call,
 * resumption, return, yield and unwind in every thread, counted the way
 * cProfile counts. Returns 0, or -1 with a Python exception set. */
int pyver_trace_start(void);
/* Stop calling them (also in a forked child, where nothing is recorded). */
void pyver_trace_stop(void);
/* Called once per code object, on its first traced call, before it runs
 * (3.11: keep the interpreter from inlining calls the hook would not see). */
void pyver_first_sight(PyCodeObject *co);

/* The audit event raised when threading starts a thread (its first argument
 * is the Thread's bound _bootstrap), or NULL when this version raises none;
 * then the module wraps _thread.start_new_thread instead. */
extern const char *const pyver_thread_event;

#endif
