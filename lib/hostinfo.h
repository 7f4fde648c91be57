/*
 * hostinfo.h - who is this machine: the `host` object of a run.
 *
 * A host is identified by a fingerprint over its stable identity (CPU model,
 * online cores, memory rounded to 0.5 GiB, OS, kernel release, architecture
 * and hostname); drift fields (CPU frequency governor, load average) are
 * recorded beside it but do not change it (docs/DESIGN.md §6, docs/json-schema.md).
 * The parsers take file contents so they can be tested on fixtures; collection
 * can read /proc, /sys and /etc under another root for the same reason.
 */
#ifndef PYSCOPE_HOSTINFO_H
#define PYSCOPE_HOSTINFO_H

#include <jansson.h>
#include <stdint.h>

/* Version tag hashed with the identity fields; bump when the recipe changes. */
#define HOSTINFO_FINGERPRINT_VERSION "pyscope.host/1"
/* Length of a fingerprint in hex digits. */
#define HOSTINFO_FINGERPRINT_LEN 16

/*
 * Collect this machine's host object: fingerprint, hostname, cpu_model,
 * cores, mem_bytes, os, kernel, arch, governor, loadavg (fields that cannot be
 * read are null). Returns a new object (caller owns), never NULL.
 */
json_t *hostinfo_collect(void);

/*
 * As hostinfo_collect(), reading /proc/cpuinfo, /proc/meminfo,
 * /proc/loadavg, /etc/os-release (or /usr/lib/os-release) and the cpu0
 * governor under root (borrowed; NULL or "" = the real root). cores, kernel,
 * arch and hostname always come from the running system. Caller owns.
 */
json_t *hostinfo_collect_at(const char *root);

/*
 * Fingerprint of host (borrowed; the fields above, missing ones count as
 * null): the first 16 hex digits of SHA-256 over a canonical JSON array of
 * the identity fields. Returns a new string (caller owns), never NULL.
 */
char *hostinfo_fingerprint(const json_t *host);

/*
 * This kernel's boot id (/proc/sys/kernel/random/boot_id under root,
 * borrowed; NULL or "" = the real root): the same for every process,
 * container and namespace that runs on this kernel, so on its CPUs, and new
 * at each boot. Agents send it so that the coordinator knows which of them
 * share a machine. Returns a new string (caller owns), or NULL when it
 * cannot be read.
 */
char *hostinfo_boot_id(const char *root);

/* A boot id from its file's text (borrowed): trimmed, 1..64 characters of
 * [0-9a-f-]. Returns a new string, or NULL. */
char *hostinfo_parse_boot_id(const char *text);

/* CPU model from /proc/cpuinfo text (borrowed): "model name", or the ARM,
 * MIPS or POWER equivalent. Returns a new trimmed string, or NULL. */
char *hostinfo_parse_cpu_model(const char *cpuinfo);

/* MemTotal from /proc/meminfo text (borrowed), in bytes; -1 if absent. */
int64_t hostinfo_parse_mem_total(const char *meminfo);

/* PRETTY_NAME from os-release text (borrowed), unquoted; NAME and VERSION
 * if it is missing. Returns a new string, or NULL. */
char *hostinfo_parse_os_release(const char *text);

/* Governor name from scaling_governor text (borrowed), trimmed. Returns a
 * new string, or NULL when empty. */
char *hostinfo_parse_governor(const char *text);

/* The 1, 5 and 15 minute load averages from /proc/loadavg text (borrowed)
 * into out. Returns 0, or -PYSCOPE_EPARSE. */
int hostinfo_parse_loadavg(const char *text, double out[3]);

#endif
