/*
 * spool.h - results waiting for the coordinator's ack, one file each.
 *
 * The agent writes every result here before it sends it, and deletes it only
 * when the coordinator acks its run_id (docs/DESIGN.md §14: spool (fsync) -> send ->
 * COMMIT -> ack -> spool delete). After a restart or a reconnect everything
 * still in the spool is sent again; the coordinator's inserts are idempotent.
 *
 * A spool is a folder; an entry is a file named after its id (a UUID in text
 * form, "<id>.result"), written atomically and durably: temporary file, fsync,
 * rename, fsync of the folder. A file holds a small header (magic, payload
 * length, SHA-256 of the payload) and the payload, so a torn or corrupted file
 * is detected on load and moved aside into "<dir>/corrupt/" with a warning
 * instead of being sent. Leftover temporary files (a crash mid-write) are
 * removed when the spool is opened.
 */
#ifndef PYSCOPE_SPOOL_H
#define PYSCOPE_SPOOL_H

#include <stddef.h>

/* Largest payload a spool file may hold (the wire's message cap). */
#define SPOOL_MAX_PAYLOAD (4u * 1024 * 1024)
/* Length of an id: a UUID in canonical text form. */
#define SPOOL_ID_LEN 36

struct spool;

/*
 * Open the spool folder dir (borrowed), creating it (mode 0700, parents
 * included) when missing, and remove leftover temporary files. The folder
 * must be this user's and closed to group and others (else NULL: err names
 * the fix), and a file in it that is not this user's is set aside, never
 * sent. Returns a new spool (caller owns; spool_destroy), or NULL with a
 * message in err.
 */
struct spool *spool_open(const char *dir, char *err, size_t errlen);

/* Close sp and set *sp to NULL; NULL-safe. Files stay on disk. */
void spool_destroy(struct spool **sp);

/* The spool's folder (borrowed, valid while sp lives). */
const char *spool_dir(const struct spool *sp);

/* True when id (borrowed) is a valid entry id: 36 characters of [0-9a-f-]. */
int spool_id_valid(const char *id);

/*
 * Store len bytes at data (borrowed) under id, atomically and durably,
 * replacing an entry with the same id. Returns 0, -PYSCOPE_EUSAGE for a bad
 * id, -PYSCOPE_ETOOBIG over SPOOL_MAX_PAYLOAD, or -errno.
 */
int spool_put(struct spool *sp, const char *id, const void *data, size_t len);

/*
 * Load entry id into *data (new buffer, caller frees) and *len. A corrupt
 * entry (bad header, wrong length, checksum mismatch, not a regular file:
 * a symlink is not followed, a FIFO not waited on) is moved aside with a
 * warning and -PYSCOPE_EPARSE returned. Returns 0, -ENOENT, -PYSCOPE_EPARSE
 * or another -errno; *data is NULL on failure.
 */
int spool_load(struct spool *sp, const char *id, void **data, size_t *len);

/* Delete entry id durably (fsync of the folder). Returns 0, -ENOENT or -errno. */
int spool_remove(struct spool *sp, const char *id);

/*
 * List the entries' ids, sorted (oldest name order is not time order; the
 * order only makes resends deterministic). Files that are not entries are
 * ignored. Returns 0 with a new array of new strings in *ids (free with
 * spool_free_list) and the count in *n, or -errno.
 */
int spool_list(struct spool *sp, char ***ids, size_t *n);

/* Free a list from spool_list (NULL-safe). */
void spool_free_list(char **ids, size_t n);

/* Number of entries now on disk, or 0 when the folder cannot be read. */
size_t spool_count(struct spool *sp);

#endif
