/*
 * trace.h - trace mode's bookkeeping: a shadow stack per thread and the call
 * tree in the shared region (shm.h), fed by the version's hook (pyver.h).
 *
 * trace_enter() on each call or resumption of a code object, trace_leave()
 * on each return, yield or unwind; both run with the GIL held (it
 * serializes the region's writers). A code object is registered on first
 * sight, and the tracer keeps a reference to it for the rest of the run (as
 * cProfile does): its address is its identity, unique while it lives.
 * Time is the TSC, calibrated by the supervisor.
 */
#ifndef PYSCOPE_PYEXT_TRACE_H
#define PYSCOPE_PYEXT_TRACE_H

#include <Python.h>
#include <stdbool.h>

struct shm_region;

/* Set up for region (main: the main thread's state); again to record into
 * another region (the calling thread's shadow stack starts anew). Returns 0
 * or -1. */
int trace_init(struct shm_region *region, PyThreadState *main);

/* Tracing starts with the script's own first frame, the first whose globals
 * are __main__'s (main_globals, borrowed for the run): not with the run
 * machinery before it (the main module's loader), as in cProfile. Hooks ask
 * trace_ready(frame's globals) until trace_armed. */
extern int trace_armed;
void trace_arm_at(PyObject *main_globals);
bool trace_ready(PyObject *globals);
/* Record a call of co on the current thread. False when it was not recorded
 * (then no trace_leave() must follow). */
bool trace_enter(PyCodeObject *co);
/* Record the return of the current thread's innermost recorded call. */
void trace_leave(void);
/* Stop recording (trace_leave() still pops, without writing). */
void trace_disable(void);

#endif
