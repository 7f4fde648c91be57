/*
 * atomicfile.h - replace a file whole or not at all: write a temporary file beside it,
 * flush it to disk, rename it over the target.
 *
 * The temporary file is created exclusively (O_EXCL, a name no other writer uses:
 * "PATH.tmp.PID.N"), in the target's folder (so rename() is atomic), with mode 0644
 * (or the mode given to atomic_open_mode) less the umask. atomic_commit() flushes,
 * fsyncs and closes it, then renames it over the target; on any failure the temporary
 * file is removed and the target is untouched. A reader sees the old file or the new
 * one, never a part; after a crash the new one is either all there or absent. Only with
 * sync_dir is the rename itself durable (the folder is fsynced too): a queue whose
 * entries must survive a crash once written (agent/spool.c) sets it.
 */
#ifndef PYSCOPE_ATOMICFILE_H
#define PYSCOPE_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* An atomic write in progress: fill f, then atomic_commit(). */
struct atomicfile {
    FILE *f;       /* the temporary file, open for writing */
    char *tmp;     /* its path (owned) */
    bool no_sync;  /* false after atomic_open(); set it to skip the fsync (still all or
                    * nothing for readers; after a crash maybe the old file or an empty one) */
    bool sync_dir; /* false after atomic_open(); set it to fsync the target's folder after
                    * the rename, so that the new name survives a crash too */
};

/* Start replacing path (borrowed; copied as needed). Returns 0, or -errno (nothing
 * created). */
int atomic_open(struct atomicfile *af, const char *path);

/* atomic_open() with the temporary (and so the new) file created with mode (0600 for a
 * private file) instead of 0644. */
int atomic_open_mode(struct atomicfile *af, const char *path, mode_t mode);

/* True when name (a file name, no folder) is one of atomic_open's temporary files
 * ("TARGET.tmp.PID.N"): one left behind by a process that died before its commit. */
bool atomic_is_tmp_name(const char *name);

/*
 * Finish: when rc is 0, flush, fsync (unless af->no_sync), close and rename the temporary
 * file over path, then fsync path's folder when af->sync_dir;
 * otherwise (or when any of that fails) close and remove it. Returns rc when it was
 * negative, else 0 or -errno. af is released either way.
 */
int atomic_commit(struct atomicfile *af, const char *path, int rc);

/* Replace path with len bytes of data. Returns 0 or -errno. */
int atomic_write(const char *path, const void *data, size_t len);

#endif
