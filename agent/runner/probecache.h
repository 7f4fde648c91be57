/*
 * probecache.h - remember what an interpreter said it is, so that running a
 * script does not start the interpreter twice (pyselect.c asks it with
 * `python -E -s -S -c ...`: a whole interpreter start, ~20 ms, before every run).
 *
 * Like virtualenv's py_info cache: one small file per interpreter in
 * $XDG_CACHE_HOME/pyscope/pyinfo/ (else ~/.cache/pyscope/pyinfo/; folders 0700,
 * files 0600, written whole or not at all with lib/atomicfile), named by the
 * SHA-256 of a key that changes whenever the answer could:
 *   - the path as invoked and argv[0] (sys.executable is derived from them;
 *     with a bare argv[0], also $PATH, which the interpreter searches);
 *   - the binary it resolves to: its real path and identity (device, inode,
 *     size, mtime and ctime in ns), so an upgrade, rebuild, `touch` or a
 *     replaced symlink asks again;
 *   - pyvenv.cfg beside the path as invoked and one folder up (absent, or
 *     its identity): creating or editing a virtualenv asks again.
 * The key is stored whole in the file and compared (not only its hash). The
 * shared libpython next to the binary (../lib/libpythonX.Y.so.1.0, for
 * --enable-shared builds, whose version lives there) is checked as well, once
 * the cached answer says which X.Y.
 *
 * Never cached: a launcher that is not an ELF binary (a pyenv shim is a shell
 * script whose answer depends on the folder and the environment). Any problem
 * (no home, unwritable folder, corrupt or foreign file, a race) means
 * "not cached": the interpreter is asked, never an error.
 */
#ifndef PYSCOPE_RUNNER_PROBECACHE_H
#define PYSCOPE_RUNNER_PROBECACHE_H

/* The key for exec'ing path as argv0 (new string), or NULL when its answer must
 * not be cached (not an ELF binary, not found). */
char *probecache_key(const char *path, const char *argv0);

/* What a cache file holds: the interpreter's output, exactly as it printed it, and
 * the libpython line of when it was stored. */
struct probecache_entry {
    char *text; /* owned */
    char *lib;  /* owned */
};

/* The cached answer for key: 0 (e filled; release with probecache_entry_release) or
 * -1 (none, or unusable). The caller parses e->text as it parses a fresh answer,
 * then compares e->lib with probecache_lib_line() for the X.Y it names. */
int probecache_load(const char *key, struct probecache_entry *e);
void probecache_entry_release(struct probecache_entry *e);

/* The libpython beside path's binary for X.Y (abiflags): "absent" or its identity
 * (new string). */
char *probecache_lib_line(const char *path, int major, int minor, const char *abiflags);

/* Remember text (the interpreter's output) for key; lib is probecache_lib_line()
 * for the X.Y it names. Silent on failure (the next run asks again). */
void probecache_store(const char *key, const char *text, const char *lib);

/* The folder (new string): $XDG_CACHE_HOME/pyscope/pyinfo, else
 * ~/.cache/pyscope/pyinfo; NULL without an absolute $HOME (then nothing is cached). */
char *probecache_dir(void);

#endif
