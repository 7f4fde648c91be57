/*
 * remotewin.c - reading another process's memory by windows (remotewin.h).
 */
#include "remotewin.h"

#include <sys/uio.h>

void remotewin_init(struct remotewin *w, pid_t pid)
{
    w->pid = pid;
    w->reads = 0;
    remotewin_reset(w);
}

void remotewin_reset(struct remotewin *w)
{
    w->base = w->lo = w->hi = 0;
}

const unsigned char *remotewin_get(struct remotewin *w, uint64_t addr, size_t n)
{
    if (!addr || n == 0 || n > REMOTEWIN_SPAN || addr + n < addr)
        return NULL;
    if (addr >= w->lo && addr + n <= w->hi)
        return w->buf + (addr - w->base);
    /* Remote pieces, highest first: [page, addr + n), then whole pages below
     * it; buf holds them in address order, from base. */
    uint64_t page = addr & ~(uint64_t)(REMOTEWIN_PAGE - 1);
    uint64_t top = addr + n;
    unsigned below = REMOTEWIN_BELOW;
    if (page / REMOTEWIN_PAGE < below)
        below = (unsigned)(page / REMOTEWIN_PAGE);
    uint64_t base = page - (uint64_t)below * REMOTEWIN_PAGE;
    struct iovec local[REMOTEWIN_BELOW + 1], remote[REMOTEWIN_BELOW + 1];
    local[0].iov_base = w->buf + (page - base);
    local[0].iov_len = (size_t)(top - page);
    remote[0].iov_base = (void *)(uintptr_t)page;
    remote[0].iov_len = (size_t)(top - page);
    for (unsigned k = 1; k <= below; k++) {
        uint64_t at = page - (uint64_t)k * REMOTEWIN_PAGE;
        local[k].iov_base = w->buf + (at - base);
        local[k].iov_len = REMOTEWIN_PAGE;
        remote[k].iov_base = (void *)(uintptr_t)at;
        remote[k].iov_len = REMOTEWIN_PAGE;
    }
    w->reads++;
    ssize_t got = process_vm_readv(w->pid, local, below + 1, remote, below + 1, 0);
    /* A transfer stops at the first piece it cannot read, never inside one. */
    if (got < (ssize_t)(top - page)) {
        remotewin_reset(w);
        return NULL;
    }
    uint64_t whole = ((uint64_t)got - (top - page)) / REMOTEWIN_PAGE;
    w->base = base;
    w->lo = page - whole * REMOTEWIN_PAGE;
    w->hi = top;
    return w->buf + (addr - base);
}

void remotebatch_clear(struct remotebatch *b)
{
    b->n = b->valid = 0;
    b->used = 0;
}

int remotebatch_add(struct remotebatch *b, uint64_t addr, size_t n)
{
    if (!addr || n == 0 || addr + n < addr || b->n == REMOTEBATCH_PIECES ||
        n > REMOTEBATCH_BYTES - b->used)
        return -1;
    b->addr[b->n] = addr;
    b->len[b->n] = n;
    b->off[b->n] = b->used;
    b->used += n;
    b->n++;
    b->valid = 0;
    return 0;
}

unsigned remotebatch_read(struct remotebatch *b, pid_t pid)
{
    struct iovec local[REMOTEBATCH_PIECES], remote[REMOTEBATCH_PIECES];
    b->valid = 0;
    if (b->n == 0)
        return 0;
    for (unsigned i = 0; i < b->n; i++) {
        local[i].iov_base = b->buf + b->off[i];
        local[i].iov_len = b->len[i];
        remote[i].iov_base = (void *)(uintptr_t)b->addr[i];
        remote[i].iov_len = b->len[i];
        uint64_t first = b->addr[i] / REMOTEWIN_PAGE;
        uint64_t last = (b->addr[i] + b->len[i] - 1) / REMOTEWIN_PAGE;
        b->pages += last - first + 1;
        b->bytes += b->len[i];
    }
    b->reads++;
    ssize_t got = process_vm_readv(pid, local, b->n, remote, b->n, 0);
    if (got <= 0)
        return 0;
    /* Whole pieces only: a transfer never ends inside one. */
    size_t left = (size_t)got;
    while (b->valid < b->n && left >= b->len[b->valid])
        left -= b->len[b->valid++];
    return b->valid;
}

const unsigned char *remotebatch_get(const struct remotebatch *b, uint64_t addr, size_t n)
{
    if (!addr || n == 0 || addr + n < addr)
        return NULL;
    for (unsigned i = 0; i < b->valid; i++)
        if (addr >= b->addr[i] && addr + n <= b->addr[i] + b->len[i])
            return b->buf + b->off[i] + (addr - b->addr[i]);
    return NULL;
}
