/*
 * shm.h - the profile region shared between pyscope-run and its script child.
 *
 * The supervisor maps one anonymous MAP_SHARED region before it forks; the
 * child (the profiled Python process) writes everything it learns into it:
 * function names, sampled stacks or the traced call tree, thread CPU. The
 * supervisor reads it after wait4(), so nothing is lost however the child
 * ends: sys.exit, os._exit, a signal, a timeout kill.
 *
 * The region is System V shared memory (shm_create): the script's process is
 * the user's own python, started by exec, and attaches it by its id
 * (shm_attach, in pyscope-run's module there; agent/runner/README.md).
 * Who writes: in trace mode the tracer in the script's process; in sample
 * mode the sampler, run by the supervisor's wait loop, that reads the
 * script's memory from outside, with the `layout` the module publishes.
 *
 * Design notes:
 * - Fixed-capacity tables with open addressing; pages are touched only as
 *   entries are used, so an idle table costs no resident memory. The hash
 *   slots of functions and nodes are used from their start, a part that
 *   doubles as it fills (shm.c), so that a small run touches a few of their
 *   pages rather than one per entry.
 * - Writers never block and never allocate: a full table increments a
 *   "dropped" counter that the report shows.
 * - Writers of the tables are serialized (the sampler is the only
 *   writer in sample mode; the GIL serializes the tracer), so the region has
 *   no locks. The few fields written by one side while the other runs are
 *   flags and logs published with release stores (layout_ready, stopped,
 *   deaths_written). The report is read only after the child is gone.
 * - Strings are copied into an arena and referenced by offset, so the
 *   region holds no pointers that mean anything to the reader.
 */
#ifndef PYSCOPE_RUNNER_SHM_H
#define PYSCOPE_RUNNER_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC        0x5053434f50453031ULL /* "PSCOPE01" */
#define SHM_MAX_FUNCS    (1u << 15)
#define SHM_FUNC_SLOTS   (1u << 16) /* hash slots for code -> function */
#define SHM_MAX_NODES    (1u << 17) /* call-tree nodes / stack entries */
#define SHM_NODE_SLOTS   (1u << 18)
#define SHM_MAX_THREADS  256
#define SHM_STRINGS_SIZE (8u << 20)
#define SHM_TEXT_MAX     512        /* Python build strings etc. */
#define SHM_DEATHS       4096       /* death log of code objects (sample mode), a ring */
#define SHM_NONE         UINT32_MAX /* an offset that does not exist in this version */

/* What is known about one function (a code object, or a C function in
 * trace mode). Identified in the child by an opaque pointer. */
struct shm_func {
    uint64_t ident;    /* child-side identity: trace mode, the code object's address (the
                          tracer holds a reference, so it is unique); sample mode, a number
                          the sampler gives each code object it meets (codemap.h) */
    uint32_t file_off; /* normalized only later: raw co_filename, in strings */
    uint32_t name_off; /* co_qualname, or cProfile-style name for C functions */
    int32_t line;      /* co_firstlineno; 0 for C functions */
    uint32_t is_c;     /* 1 for a built-in (C) function */
    uint32_t depth;    /* sample mode: the most frames one stack deeper than the sampler keeps
                          gave this function (its middle is elided: sampler.c), else 0 */
};

/*
 * One node of the call tree: a function reached through a particular path.
 * In sample mode a node's self counters are the samples whose leaf was this
 * path; in trace mode they are exact calls and TSC ticks.
 */
struct shm_node {
    uint64_t ident;  /* the function's child-side identity (lookup key with parent) */
    uint32_t parent; /* node index, 0 = a root (index 0 is the unused sentinel) */
    uint32_t func;   /* index into funcs */
    uint32_t thread; /* index into threads */
    uint32_t depth;  /* number of ancestors */
    uint64_t calls;  /* trace: calls entered on this path */
    uint64_t self;   /* sample: samples with this node as leaf; trace: self ticks */
    uint64_t total;  /* trace: inclusive ticks (all calls on this path) */
    uint64_t cpu_ns; /* sample: thread CPU ns attributed to this leaf */
};

struct shm_thread {
    uint64_t native_id; /* Linux TID */
    uint64_t ident;     /* child-side identity (PyThreadState address) */
    uint64_t samples;   /* sampler passes that found this thread with a stack */
    uint64_t cpu_ns;    /* CPU time seen by the sampler / trace mode: 0 */
    uint64_t last_cpu_ns;
    uint32_t is_main;
    char name[48];
};

/* A Python thread's name, as threading knew it when profiling stopped. */
struct shm_thread_name {
    uint64_t native_id; /* Linux TID */
    char name[64];
};

/*
 * How to read a CPython's threads, frames, code objects and strings from
 * outside: addresses in the script's process and offsets in its structures.
 * pyscope-run's module fills it with offsetof() against the headers of the
 * version it was built for (agent/runner/pyext/py3XX.c), so the sampler
 * itself knows no Python version.
 */
struct shm_layout {
    uint32_t version_hex;        /* PY_VERSION_HEX of the running interpreter */
    uint32_t tstate_read;        /* bytes of a PyThreadState to read (covers the offsets) */
    uint64_t interp;             /* the main PyInterpreterState */
    uint64_t main_tstate;        /* the main thread's PyThreadState */
    uint64_t code_type;          /* &PyCode_Type */
    uint64_t unicode_type;       /* &PyUnicode_Type */
    uint32_t interp_tstate_head; /* offset of the first PyThreadState in the interpreter */
    uint32_t tstate_next;        /* offset of the next PyThreadState */
    uint32_t tstate_native_id;   /* offset of the Linux TID, or SHM_NONE (3.10) */
    uint32_t tstate_pthread;     /* offset of thread_id (the pthread_t) */
    uint32_t pthread_tid;        /* 3.10: offset of the TID in glibc's struct pthread */
    uint32_t tstate_frame;       /* offset of the current frame, or of the _PyCFrame pointer */
    uint32_t cframe_frame;       /* SHM_NONE: tstate_frame is the frame; else its offset there */
    uint32_t frame_code;         /* offset of the code object in a frame */
    uint32_t frame_previous;     /* offset of the caller's frame */
    uint32_t frame_owner;        /* offset of the owner byte, or SHM_NONE */
    uint32_t owner_skip;         /* frames with this owner are C-stack shims: skipped */
    uint32_t frame_read;         /* bytes of a frame to read */
    uint32_t code_filename, code_name, code_firstlineno; /* co_name is co_qualname from 3.11 */
    uint32_t code_read;
    uint32_t unicode_length, unicode_state; /* offsets in PyASCIIObject */
    uint32_t state_compact, state_ascii;    /* masks of the 32-bit state word */
    uint32_t state_kind_shift, state_kind_mask;
    uint32_t ascii_data, compact_data; /* where the characters of a compact string start */
};

struct shm_region {
    uint64_t magic;
    uint32_t mode;    /* 1 sample, 2 trace */
    uint32_t started; /* the child got as far as running the script */
    /* Timing calibration for trace mode: TSC and CLOCK_MONOTONIC at start and end. */
    uint64_t tsc_start, tsc_end;
    uint64_t mono_start_ns, mono_end_ns;
    uint64_t passes;  /* sampler passes (sample mode) */
    uint64_t dropped; /* samples or calls lost to full tables */
    uint64_t forks;   /* os.fork() calls seen in the child */
    uint32_t nfuncs, nnodes, nthreads, strings_used;
    uint32_t func_bits, node_bits; /* slots of func_slots and node_slots in use: 2^bits */
    char py_version[64];
    char py_build[SHM_TEXT_MAX];
    char py_executable[SHM_TEXT_MAX];
    char py_prefix[SHM_TEXT_MAX];
    char error[SHM_TEXT_MAX]; /* why profiling could not start, if it could not */
    uint32_t pid;             /* the script's process (written by the module) */
    uint32_t layout_ready;    /* the module wrote pid and layout (release store) */
    uint32_t stopped;         /* the script is over (its atexit handlers ran): stop sampling */
    uint64_t sampler_cpu_ns;  /* CPU time of the supervisor's wait loop, which samples */
    uint64_t startup_ns;      /* the module's own start-up in the script's process */
    /* Trace mode: the hook's cost, measured before the script (module.c): a loop
     * of calib_calls calls of an empty function without and with the hook. */
    uint64_t calib_calls, calib_plain_ns, calib_hook_ns;
    struct shm_layout layout;
    uint32_t nnames;
    struct shm_thread_name names[SHM_MAX_THREADS];
    /* Sample mode: addresses of code objects the script's process freed
     * (codemap.h). The child appends with the GIL held (one writer) and
     * publishes with a release store of deaths_written; the sampler reads. */
    uint64_t deaths_written;
    uint64_t deaths[SHM_DEATHS];

    uint32_t func_slots[SHM_FUNC_SLOTS]; /* func index + 1, 0 = empty */
    uint32_t node_slots[SHM_NODE_SLOTS]; /* node index, 0 = empty */
    struct shm_thread threads[SHM_MAX_THREADS];
    struct shm_func funcs[SHM_MAX_FUNCS];
    struct shm_node nodes[SHM_MAX_NODES];
    char strings[SHM_STRINGS_SIZE];
};

/* Map a new zeroed region (MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE).
 * mode is 1 (sample) or 2 (trace). Returns it, or NULL with errno set.
 * Release with shm_unmap(). Each run gets a fresh region. */
struct shm_region *shm_map(uint32_t mode);
/* The same in System V shared memory, already marked for removal (it goes
 * with the last process attached to it), for a child to attach after exec by
 * the id put in *id. Returns it, or NULL with errno set. */
struct shm_region *shm_create(uint32_t mode, int *id);
/* Attach the region with System V id (the child's side). Returns it, or NULL
 * with a reason in err when id is not a pyscope region. */
struct shm_region *shm_attach(int id, char *err, size_t errlen);
void shm_unmap(struct shm_region **region);

/* Copy len bytes of s into the arena; returns the offset, or 0 when the arena
 * is full (offset 0 holds the empty string). */
uint32_t shm_add_string(struct shm_region *r, const char *s, size_t len);
/* Borrowed string at off (valid while the region is mapped); "" if out of range. */
const char *shm_string(const struct shm_region *r, uint32_t off);

/* Find the function with this ident; returns its index, or -1. */
int64_t shm_func_find(const struct shm_region *r, uint64_t ident);
/* Add a function (caller checked it is absent). Returns its index, or -1 when full. */
int64_t shm_func_add(struct shm_region *r, uint64_t ident, uint32_t file_off, uint32_t name_off,
                     int32_t line, bool is_c);

/* The node for the function ident under parent (0 = a root) in thread.
 * Returns its index, or 0 when absent. */
uint32_t shm_node_find(const struct shm_region *r, uint32_t parent, uint64_t ident,
                       uint32_t thread);
/* Add that node for function index func (caller checked it is absent).
 * Returns its index, or 0 when the table is full. */
uint32_t shm_node_add(struct shm_region *r, uint32_t parent, uint64_t ident, uint32_t func,
                      uint32_t thread);

/* The thread slot for the Linux thread native_id (ident: its PyThreadState,
 * kept for information), created when absent; -1 when full. */
int shm_thread_get(struct shm_region *r, uint64_t ident, uint64_t native_id);

#endif
