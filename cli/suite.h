/*
 * suite.h - suite files: which scripts a farm runs, and how.
 *
 * A suite is an INI file people write by hand (docs/suite-format.md), parsed
 * with libinih: a [suite] section with the name and defaults, then one
 * [script PATH] section per script, PATH relative to the workspace root.
 *
 *     [suite]
 *     name = nightly
 *     repeat = 5
 *
 *     [script examples/slow_script.py]
 *     args = --n 10 "two words"
 *     timeout = 2m
 *     env = PYTHONHASHSEED=0
 *     python = 3.12, 3.13
 *     instructions = on
 *     interval_ms = 1
 *
 * Everything is validated (names, ranges, paths that could leave the
 * workspace, quoting) and every problem is reported with its file and line.
 * Arguments are split with shell-like quoting but never given to a shell.
 */
#ifndef PYSCOPE_SUITE_H
#define PYSCOPE_SUITE_H

#include <stdbool.h>
#include <stddef.h>

/* Caps, the same as the wire's (proto/pyscope.proto). */
#define SUITE_MAX_ENTRIES 1000
#define SUITE_MAX_ARGS    256
#define SUITE_MAX_STRING  4096
#define SUITE_MAX_FILE    (1024 * 1024)
#define SUITE_MAX_PYTHONS 16 /* `python =` list */

/* Defaults for keys neither the script nor [suite] sets. */
#define SUITE_DEFAULT_REPEAT  1
#define SUITE_DEFAULT_WARMUP  0
#define SUITE_DEFAULT_TIMEOUT 600.0

enum suite_mode {
    SUITE_MODE_SAMPLE = 1, /* statistical stacks (the default) */
    SUITE_MODE_TRACE = 2,  /* exact calls through a profile hook */
};

/* One script to run; every field is resolved (defaults applied). */
struct suite_entry {
    char *script; /* normalized path relative to the workspace */
    char **args;  /* n_args arguments, each a new string */
    size_t n_args;
    unsigned repeat;      /* measured runs, 1..1000 */
    unsigned warmup;      /* runs before those, 0..100 */
    enum suite_mode mode; /* profiling mode */
    double timeout_s;     /* per run, > 0 */
    double threshold;     /* regression threshold as a fraction; 0 = the coordinator's */
    bool instructions;    /* count each repeat's instructions too (valgrind, Job.instructions) */
    unsigned interval_us; /* interval_ms in microseconds (100..1000000); 0: the farm chooses */
    char **env;           /* n_env "NAME=VALUE" the script gets ([suite]'s, then its own) */
    size_t n_env;
    char **pythons;   /* `python =`: n_pythons requests (lib/pyreq.h), one job each; */
    size_t n_pythons; /* none: the agents' default Python */
    unsigned line;    /* line of its [script] header, for messages */
};

/* A parsed suite; the caller reads the fields and frees it with suite_destroy. */
struct suite {
    char *name;  /* [A-Za-z0-9_.-]{1,64}; the file's stem when not set */
    char *hosts; /* default host selector ("all", names, k=v), or NULL */
    char *label; /* default batch label, or NULL */
    /* the reference script ([suite] reference = PATH): a fixed script run on each host
     * every night and around confirmation runs, with the suite's repeat, warmup and
     * timeout, in sample mode; NULL when the suite names none */
    struct suite_entry *reference;
    struct suite_entry *entries; /* n_entries scripts, in file order */
    size_t n_entries;
};

/*
 * Parse the suite file at path (borrowed). Returns 0 and a new suite in *out
 * (caller owns), or a negative code (-PYSCOPE_EPARSE for invalid content,
 * -errno when the file cannot be read) with *out NULL and every problem, one
 * "FILE:LINE: message" a line, in err (errlen bytes, truncated).
 */
int suite_parse_file(const char *path, struct suite **out, char *err, size_t errlen);

/*
 * As suite_parse_file() for len bytes of text (borrowed; may hold NUL bytes,
 * which are refused). fname (borrowed) names the text in messages and gives
 * the default suite name.
 */
int suite_parse_buffer(const char *text, size_t len, const char *fname, struct suite **out,
                       char *err, size_t errlen);

/* Free *s and set it to NULL; NULL-safe. */
void suite_destroy(struct suite **s);

/*
 * Split s (borrowed) into arguments like a POSIX shell splits words, without
 * any expansion: blanks separate; '...' is literal; inside "..." a backslash
 * escapes only \ " $ and `; elsewhere a backslash escapes the next character.
 * Returns 0 with a new array of new strings in *argv (free with
 * suite_free_args) and the count in *argc, or -PYSCOPE_EPARSE (unterminated
 * quote, trailing backslash, control character, too many or too long) with a
 * message in err.
 */
int suite_split_args(const char *s, char ***argv, size_t *argc, char *err, size_t errlen);

/* Free an argument array from suite_split_args (NULL-safe). */
void suite_free_args(char **argv, size_t argc);

/* "sample" or "trace" (static). */
const char *suite_mode_name(enum suite_mode mode);

#endif
