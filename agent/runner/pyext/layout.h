/*
 * layout.h - the parts of a struct shm_layout every version fills the same
 * way (included by the py3XX.c files, after their Python headers).
 */
#ifndef PYSCOPE_PYEXT_LAYOUT_H
#define PYSCOPE_PYEXT_LAYOUT_H

#include "shm.h"

#include <string.h>

#define LAYOUT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bit positions of PyASCIIObject's state fields, found by setting each
 * bit-field and looking at the word (bit-field order is the compiler's). */
static inline uint32_t layout_state_mask(PyASCIIObject *o)
{
    uint32_t w;
    memcpy(&w, (char *)o + offsetof(PyASCIIObject, state), sizeof(w));
    return w;
}

/* What every version fills the same way: strings, type objects, the
 * interpreter and main thread, the code object's offsets (co_name is
 * co_qualname from 3.11) and how much of each structure to read. Call last,
 * after the version-specific fields. */
static inline void layout_common(struct shm_layout *l, uint32_t code_name)
{
    PyASCIIObject o;
    l->unicode_length = offsetof(PyASCIIObject, length);
    l->unicode_state = offsetof(PyASCIIObject, state);
    memset(&o, 0, sizeof(o));
    o.state.compact = 1;
    l->state_compact = layout_state_mask(&o);
    memset(&o, 0, sizeof(o));
    o.state.ascii = 1;
    l->state_ascii = layout_state_mask(&o);
    memset(&o, 0, sizeof(o));
    o.state.kind = 7;
    uint32_t kind = layout_state_mask(&o);
    l->state_kind_shift = (uint32_t)__builtin_ctz(kind);
    l->state_kind_mask = kind >> l->state_kind_shift;
    l->ascii_data = sizeof(PyASCIIObject);
    l->compact_data = sizeof(PyCompactUnicodeObject);
    l->unicode_type = (uint64_t)(uintptr_t)&PyUnicode_Type;
    l->code_type = (uint64_t)(uintptr_t)&PyCode_Type;
    l->version_hex = (uint32_t)PY_VERSION_HEX;
    l->interp = (uint64_t)(uintptr_t)PyInterpreterState_Main();
    l->main_tstate = (uint64_t)(uintptr_t)PyThreadState_Get();
    l->tstate_next = offsetof(PyThreadState, next);
    l->tstate_pthread = offsetof(PyThreadState, thread_id);
    uint32_t native = l->tstate_native_id == SHM_NONE ? 0 : l->tstate_native_id;
    l->tstate_read = LAYOUT_MAX(LAYOUT_MAX(l->tstate_next, native),
                                LAYOUT_MAX(l->tstate_pthread, l->tstate_frame)) +
                     8;
    l->code_filename = offsetof(PyCodeObject, co_filename);
    l->code_name = code_name;
    l->code_firstlineno = offsetof(PyCodeObject, co_firstlineno);
    l->code_read = LAYOUT_MAX(LAYOUT_MAX(l->code_filename, l->code_name), l->code_firstlineno) + 8;
}

#endif
