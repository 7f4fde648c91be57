/*
 * shm.c - fixed-capacity tables in the region shared with the script child.
 *
 * No locks and no allocation: see shm.h for who writes when. The script's process has
 * the region mapped too, and may have scribbled on it: an index read from it is checked
 * before it is followed, and no loop depends on what it holds to end.
 */
#include "shm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

/*
 * The hash slots of functions and nodes: of each table only the first 2^bits
 * are in use, from FUNC_BITS_MIN and NODE_BITS_MIN; when its entries would
 * fill more than half of them, the part doubles (up to the whole table) and
 * every entry is put again from the entries' own arrays. A lookup lands on a
 * slot at random: over the whole table (1.25 MiB) nearly every new function
 * or node of a run was a page touched for the first time, a page fault in
 * the sampler's pass (10% of a pass's CPU on raytrace, perf, 2026-12-08) or
 * in the tracer.
 */
#define FUNC_BITS     16
#define NODE_BITS     18
#define FUNC_BITS_MIN 8  /* 256 slots, 1 KiB */
#define NODE_BITS_MIN 10 /* 1024 slots, 4 KiB */
_Static_assert((1u << FUNC_BITS) == SHM_FUNC_SLOTS, "func slot bits");
_Static_assert((1u << NODE_BITS) == SHM_NODE_SLOTS, "node slot bits");

static struct shm_region *shm_init(void *p, uint32_t mode)
{
    struct shm_region *r = p;
    r->magic = SHM_MAGIC;
    r->mode = mode;
    r->nnodes = 1; /* node 0 is the "no parent" sentinel */
    r->func_bits = FUNC_BITS_MIN;
    r->node_bits = NODE_BITS_MIN;
    r->strings_used = 1; /* offset 0 is "" */
    return r;
}

struct shm_region *shm_map(uint32_t mode)
{
    void *p = mmap(NULL, sizeof(struct shm_region), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : shm_init(p, mode);
}

struct shm_region *shm_create(uint32_t mode, int *id)
{
    /* System V shared memory, not a memfd: a memfd is a file, and a job's
     * file size limit (RLIMIT_FSIZE) would refuse to size it. Marked for
     * removal at once: it goes when the last process detaches, however
     * either side ends (Linux still lets the child attach it by id). */
    int shmid = shmget(IPC_PRIVATE, sizeof(struct shm_region), IPC_CREAT | 0600 | SHM_NORESERVE);
    if (shmid < 0)
        return NULL;
    void *p = shmat(shmid, NULL, 0);
    int e = errno;
    shmctl(shmid, IPC_RMID, NULL);
    if (p == (void *)-1) {
        errno = e;
        return NULL;
    }
    *id = shmid;
    return shm_init(p, mode);
}

struct shm_region *shm_attach(int id, char *err, size_t errlen)
{
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) < 0) {
        snprintf(err, errlen, "shared memory %d: %s", id, strerror(errno));
        return NULL;
    }
    if (ds.shm_segsz != sizeof(struct shm_region)) {
        snprintf(err, errlen,
                 "shared memory %d is not a profile region of this pyscope version "
                 "(%zu bytes, not %zu)",
                 id, (size_t)ds.shm_segsz, sizeof(struct shm_region));
        return NULL;
    }
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        snprintf(err, errlen, "could not attach shared memory %d: %s", id, strerror(errno));
        return NULL;
    }
    struct shm_region *r = p;
    if (r->magic != SHM_MAGIC) {
        shmdt(p);
        snprintf(err, errlen, "shared memory %d is not a profile region (bad magic)", id);
        return NULL;
    }
    return r;
}

void shm_unmap(struct shm_region **region)
{
    if (*region) {
        if (shmdt(*region) < 0) /* not System V memory: an mmap()ed region */
            munmap(*region, sizeof(struct shm_region));
        *region = NULL;
    }
}

uint32_t shm_add_string(struct shm_region *r, const char *s, size_t len)
{
    if (len >= SHM_STRINGS_SIZE || r->strings_used > SHM_STRINGS_SIZE - len - 1)
        return 0;
    uint32_t off = r->strings_used;
    memcpy(r->strings + off, s, len);
    r->strings[off + len] = '\0';
    r->strings_used += (uint32_t)len + 1;
    return off;
}

const char *shm_string(const struct shm_region *r, uint32_t off)
{
    if (off >= r->strings_used || off >= SHM_STRINGS_SIZE)
        return "";
    return r->strings + off;
}

/* Fibonacci hashing of a pointer-sized key. */
static inline uint32_t hash64(uint64_t k, uint32_t bits)
{
    return (uint32_t)((k * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

/* A region's part in use, whatever a damaged count says. */
static inline uint32_t bits_in(uint32_t bits, uint32_t min, uint32_t max)
{
    return bits < min ? min : bits > max ? max : bits;
}

int64_t shm_func_find(const struct shm_region *r, uint64_t ident)
{
    uint32_t bits = bits_in(r->func_bits, FUNC_BITS_MIN, FUNC_BITS), mask = (1u << bits) - 1;
    uint32_t i = hash64(ident, bits);
    for (uint32_t probe = 0; probe <= mask; probe++) {
        uint32_t v = r->func_slots[i];
        if (v == 0)
            return -1;
        if (v <= SHM_MAX_FUNCS && r->funcs[v - 1].ident == ident)
            return v - 1;
        i = (i + 1) & mask;
    }
    return -1;
}

/* Put value in the first free slot of slots[0 .. 2^bits) probed from start; false when
 * there is none (only a region the script's process scribbled on: slots are never more
 * than half full), so that no loop here waits on what the other side wrote. */
static bool slot_put(uint32_t *slots, uint32_t bits, uint32_t start, uint32_t value)
{
    uint32_t mask = (1u << bits) - 1;
    for (uint32_t probe = 0, i = start; probe <= mask; probe++, i = (i + 1) & mask)
        if (slots[i] == 0) {
            slots[i] = value;
            return true;
        }
    return false;
}

/* Put function index idx (its ident) in its probe's first free slot (slot_put). */
static bool func_slot_put(struct shm_region *r, uint32_t idx)
{
    return slot_put(r->func_slots, r->func_bits, hash64(r->funcs[idx].ident, r->func_bits),
                    idx + 1);
}

int64_t shm_func_add(struct shm_region *r, uint64_t ident, uint32_t file_off, uint32_t name_off,
                     int32_t line, bool is_c)
{
    if (r->nfuncs >= SHM_MAX_FUNCS)
        return -1;
    r->func_bits = bits_in(r->func_bits, FUNC_BITS_MIN, FUNC_BITS);
    if ((r->nfuncs + 1) * 2 > (1u << r->func_bits) && r->func_bits < FUNC_BITS) {
        r->func_bits++;
        memset(r->func_slots, 0, sizeof(r->func_slots[0]) << r->func_bits);
        for (uint32_t k = 0; k < r->nfuncs; k++)
            func_slot_put(r, k);
    }
    uint32_t idx = r->nfuncs;
    struct shm_func *f = &r->funcs[idx];
    f->ident = ident;
    f->file_off = file_off;
    f->name_off = name_off;
    f->line = line;
    f->is_c = is_c;
    if (!func_slot_put(r, idx))
        return -1;
    r->nfuncs++;
    return idx;
}

static inline uint32_t node_slot(uint32_t parent, uint64_t ident, uint32_t thread, uint32_t bits)
{
    return hash64(ident ^ ((uint64_t)parent << 40) ^ ((uint64_t)thread << 20), bits);
}

uint32_t shm_node_find(const struct shm_region *r, uint32_t parent, uint64_t ident, uint32_t thread)
{
    uint32_t bits = bits_in(r->node_bits, NODE_BITS_MIN, NODE_BITS), mask = (1u << bits) - 1;
    uint32_t i = node_slot(parent, ident, thread, bits);
    for (uint32_t probe = 0; probe <= mask; probe++) {
        uint32_t v = r->node_slots[i];
        if (v == 0)
            return 0;
        const struct shm_node *n = v < SHM_MAX_NODES ? &r->nodes[v] : NULL;
        if (n && n->ident == ident && n->parent == parent && n->thread == thread)
            return v;
        i = (i + 1) & mask;
    }
    return 0;
}

/* Put node idx in its probe's first free slot (slot_put). */
static bool node_slot_put(struct shm_region *r, uint32_t idx)
{
    const struct shm_node *n = &r->nodes[idx];
    return slot_put(r->node_slots, r->node_bits,
                    node_slot(n->parent, n->ident, n->thread, r->node_bits), idx);
}

uint32_t shm_node_add(struct shm_region *r, uint32_t parent, uint64_t ident, uint32_t func,
                      uint32_t thread)
{
    if (r->nnodes >= SHM_MAX_NODES)
        return 0;
    r->node_bits = bits_in(r->node_bits, NODE_BITS_MIN, NODE_BITS);
    if (r->nnodes * 2 > (1u << r->node_bits) && r->node_bits < NODE_BITS) {
        r->node_bits++;
        memset(r->node_slots, 0, sizeof(r->node_slots[0]) << r->node_bits);
        for (uint32_t k = 1; k < r->nnodes; k++)
            node_slot_put(r, k);
    }
    uint32_t idx = r->nnodes;
    struct shm_node *n = &r->nodes[idx];
    n->ident = ident;
    n->parent = parent;
    n->func = func;
    n->thread = thread;
    n->depth = parent ? r->nodes[parent].depth + 1 : 0;
    if (!node_slot_put(r, idx))
        return 0;
    r->nnodes++;
    return idx;
}

int shm_thread_get(struct shm_region *r, uint64_t ident, uint64_t native_id)
{
    for (uint32_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].native_id == native_id)
            return (int)i;
    if (r->nthreads >= SHM_MAX_THREADS)
        return -1;
    struct shm_thread *t = &r->threads[r->nthreads];
    t->ident = ident;
    t->native_id = native_id;
    return (int)r->nthreads++;
}
