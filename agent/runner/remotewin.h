/*
 * remotewin.h - reading another process's memory by windows, for the sampler.
 *
 * The sampler walks a thread's frame chain from the leaf to the root. On
 * CPython 3.11+ the frames live one below the other on the thread's data
 * stack (a caller's frame at a lower address than its callee's), so reading
 * one frame per process_vm_readv(2) costs a system call per frame. A window
 * is one read of the frame's page(s) and of the REMOTEWIN_BELOW pages below
 * it (each page its own remote iovec, listed from the highest down, so that
 * an unmapped page below the frame only shortens the window); the next
 * frames of the walk are then found in it without a system call.
 *
 * What a window holds is a copy of one moment: it is valid for one stack
 * walk only (remotewin_reset() before each walk, and nothing is kept across
 * samples), so it never serves memory that the script changed since the
 * walk began. Plain C, no Python: unit-tested on the test's own process.
 */
#ifndef PYSCOPE_RUNNER_REMOTEWIN_H
#define PYSCOPE_RUNNER_REMOTEWIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define REMOTEWIN_PAGE  4096u
#define REMOTEWIN_BELOW 3u    /* whole pages read below the one holding the address */
#define REMOTEWIN_SPAN  1024u /* the most bytes one read may ask for past its page */

struct remotewin {
    pid_t pid;
    uint64_t base;   /* remote address of buf[0] */
    uint64_t lo, hi; /* remote range [lo, hi) held in buf; empty when lo == hi */
    uint64_t reads;  /* process_vm_readv calls made (for PYSCOPE_DEBUG) */
    unsigned char buf[(REMOTEWIN_BELOW + 1) * REMOTEWIN_PAGE + REMOTEWIN_SPAN];
};

/* Start reading process pid; the window is empty. */
void remotewin_init(struct remotewin *w, pid_t pid);
/* Forget what the window holds (before each stack walk). */
void remotewin_reset(struct remotewin *w);
/*
 * The n bytes at remote address addr (n <= REMOTEWIN_SPAN), from the window
 * when it holds them, else from a new window read now. NULL when addr is 0,
 * n is too large, or those bytes cannot be read. The pointer is valid until
 * the next call.
 */
const unsigned char *remotewin_get(struct remotewin *w, uint64_t addr, size_t n);

/*
 * A batch: several remote ranges read by one process_vm_readv, at the start
 * of a sampler pass, where the previous pass found the interpreter's thread
 * list head, thread states, C frames and the pages of the frames it walked
 * (sampler.c: sampler_span). They are guesses: what the pass then reads is
 * served from the batch only when the range asked for is inside a range the
 * batch read (so the bytes are those at that address, read in this pass, a
 * few microseconds earlier); any other read goes to the script's memory. A
 * batch is cleared at the start of every pass: nothing in it outlives the
 * pass that read it.
 */
#define REMOTEBATCH_PIECES 64
#define REMOTEBATCH_BYTES  (128u * 1024u)

struct remotebatch {
    unsigned n;     /* ranges added */
    unsigned valid; /* ranges read (the first valid of the n) */
    size_t used;    /* bytes of buf given to ranges */
    uint64_t reads; /* process_vm_readv calls made (for PYSCOPE_DEBUG) */
    /* Pages the reads asked for, counted per range as the kernel pins them
     * (two ranges on one page: two), and bytes (for PYSCOPE_DEBUG, the tests). */
    uint64_t pages, bytes;
    uint64_t addr[REMOTEBATCH_PIECES];
    size_t len[REMOTEBATCH_PIECES], off[REMOTEBATCH_PIECES];
    unsigned char buf[REMOTEBATCH_BYTES];
};

/* Empty the batch (nothing added, nothing valid). */
void remotebatch_clear(struct remotebatch *b);
/* Add [addr, addr + n) to read; ignored (returns -1) when full, empty or 0. */
int remotebatch_add(struct remotebatch *b, uint64_t addr, size_t n);
/* Read the ranges added, in the order added, in one call: a range that cannot
 * be read ends the transfer (it and the ranges after it are not valid).
 * Returns the number of valid ranges. */
unsigned remotebatch_read(struct remotebatch *b, pid_t pid);
/* The n bytes at addr when a valid range of the batch holds all of them, else
 * NULL. */
const unsigned char *remotebatch_get(const struct remotebatch *b, uint64_t addr, size_t n);

#endif
