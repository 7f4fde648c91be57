/*
 * config.h - the project's settings file, pyscope.ini (docs/config.md).
 *
 * A project may keep a pyscope.ini at its root (the git top level above the
 * script, as for script keys) with regression thresholds: a default in
 * [regression] and per-script overrides in [script "PATTERN"] sections, where
 * PATTERN is a script key or a glob over keys (fnmatch(3) with FNM_PATHNAME:
 * '*' does not cross '/'). The last matching section wins. Parsing uses
 * Debian's libinih; every problem is reported as "FILE:LINE: message", and
 * an unknown section or key is an error (a typo must not silently keep the
 * default). A threshold given on the command line wins over the file.
 */
#ifndef PYSCOPE_CONFIG_H
#define PYSCOPE_CONFIG_H

#include <stddef.h>

/* The file's name, looked for at the project root. */
#define CONFIG_FILE_NAME "pyscope.ini"
/* Largest settings file read, in bytes. */
#define CONFIG_MAX_BYTES ((size_t)1 << 20)
/* Largest threshold accepted, in percent (as --threshold). */
#define CONFIG_MAX_THRESHOLD_PCT 1000.0

/* One [script "PATTERN"] section. */
struct config_script {
    char *pattern;        /* owned */
    double threshold_pct; /* < 0: not set in this section */
    int line;             /* line where its threshold is set (0: not set) */
};

struct config {
    char *path;                    /* file read (owned), NULL when none */
    double threshold_pct;          /* [regression] threshold, < 0: not set */
    struct config_script *scripts; /* in file order (owned) */
    size_t n_scripts;
};

/* Empty *c (no file, nothing set); needs no release but accepts one. */
void config_init(struct config *c);

/*
 * Parse text (borrowed, NUL-terminated) as a settings file called name
 * (borrowed, used in messages) into *c (initialised here; release with
 * config_release even on error). Returns 0, or -PYSCOPE_EPARSE with
 * "name:LINE: message" in err (errlen bytes, may be 0) for the first problem.
 */
int config_parse_string(const char *text, const char *name, struct config *c, char *err,
                        size_t errlen);

/*
 * Read and parse the file at path (borrowed) into *c (release with
 * config_release even on error). Returns 0, -errno when it cannot be read,
 * -PYSCOPE_ETOOBIG over CONFIG_MAX_BYTES, or -PYSCOPE_EPARSE; err gets a
 * message naming the file.
 */
int config_load_file(const char *path, struct config *c, char *err, size_t errlen);

/*
 * Find the settings file for script_path (borrowed; a file or folder,
 * relative to the current folder or absolute): CONFIG_FILE_NAME at the
 * project root above it. Returns a new path (caller owns) or NULL when there
 * is no root or no file there.
 */
char *config_find(const char *script_path);

/*
 * Threshold in percent for the script key (borrowed): the last
 * [script "PATTERN"] section matching it that sets one, else [regression],
 * else -1 (not configured). With *line (may be NULL) set to where it was
 * set (0 for none).
 */
double config_threshold_pct(const struct config *c, const char *script_key, int *line);

/*
 * Parse a threshold as pyscope.ini and --threshold write it: a number in
 * percent with an optional '%' ("5", "5%", "2.5 %"), above 0 and at most
 * CONFIG_MAX_THRESHOLD_PCT. Returns 0 (*out set) or -1.
 */
int config_parse_threshold(const char *s, double *out);

/* Free everything in c and empty it (NULL-safe). */
void config_release(struct config *c);

#endif
