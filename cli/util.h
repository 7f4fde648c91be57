/*
 * util.h - helpers shared by pyscope's subcommands.
 *
 * Strict number parsing for options, the colour decision (--color, NO_COLOR,
 * TTY), folder creation, locating the pyscope-run binary, report file names,
 * bounded file reading, and JSON strings from raw (possibly non-UTF-8) bytes.
 * Everything returns codes or fills a caller's error buffer; printing is left
 * to the subcommand, which decides the exit status.
 */
#ifndef PYSCOPE_CLI_UTIL_H
#define PYSCOPE_CLI_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

/* pyscope's own exit statuses are in errors.h (enum pyscope_exit). */

enum cli_color { CLI_COLOR_AUTO, CLI_COLOR_ALWAYS, CLI_COLOR_NEVER };

/*
 * Parse s (borrowed) as a whole decimal integer in [min, max]: no leading blanks, no
 * trailing characters. Returns 0 and sets *out, -PYSCOPE_EUSAGE when s is not an
 * integer, -PYSCOPE_ERANGE when it is outside [min, max].
 */
/* Print "pyscope: error: MESSAGE" and the "Try 'pyscope CMD --help'" hint on
 * stderr; returns PYSCOPE_EXIT_USAGE. A NULL fmt prints the hint only. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * --json's answer of a command that ends with an error (exit status, not 0 or 1) before
 * printing its document, so that a reader of stdout (a CI step) always gets one JSON
 * document: {"schema": schema, "pyscope_version", "status": "error", "exit": status,
 * "error": {"code": "usage" (2: a usage error, or refused before measuring, e.g. no
 * valgrind), "failed" (3: the script failed at a revision, or the farm's side failed),
 * "internal" (4, and anything else), "message": the error messages said on stderr since
 * log_keep_errors(true), joined by "; "}} on stdout (docs/json-schema.md). Returns status.
 */
int cli_json_error(const char *schema, int status);

/* Whether argv[1..argc) holds "--json" before any "--": for a usage error found before the
 * parser reached it (the script's own arguments may hold one too: then it answers yes). */
bool cli_argv_json(int argc, char **argv);

/*
 * Check, before any work, that output file path (NULL: none) of cmd can be created: its
 * folder exists and is a folder. Returns 0, or cli_usage_error()'s status after saying
 * "could not write WHAT \"PATH\": REASON".
 */
int cli_check_out_file(const char *cmd, const char *what, const char *path);

/* cli_usage_error()'s format for a --threshold that config_parse_threshold() refused. */
#define CLI_THRESHOLD_ERROR                                                                        \
    "invalid value for --threshold: \"%s\" is out of range or not a percentage (above 0, at "      \
    "most 1000, e.g. 5 or 5%%)"

int cli_parse_long(const char *s, long min, long max, long *out);

/* s (modified in place) without leading and trailing white space: list items
 * ("a, b") are trimmed wherever the CLI splits a list. */
char *cli_trim(char *s);

/*
 * Parse s (borrowed) as a whole finite decimal number in [min, max] (no NaN, no
 * infinity, no hex). Same return values as cli_parse_long().
 */
int cli_parse_double(const char *s, double min, double max, double *out);

/* Parse "auto", "always" or "never"; returns 0 or -PYSCOPE_EUSAGE. */
int cli_parse_color(const char *s, enum cli_color *out);

/*
 * Whether to colour output on fd: always/never as asked; auto colours only a TTY,
 * and not when NO_COLOR is set to a non-empty value or TERM is "dumb".
 */
bool cli_color_enabled(enum cli_color mode, int fd);

/* Create path (borrowed) and its missing parents with mode; 0 or -errno. */
int cli_mkdir_p(const char *path, mode_t mode);

/*
 * Locate pyscope-run: $PYSCOPE_RUN_BIN when set, else next to this executable,
 * else ../agent/runner/pyscope-run relative to it (the build tree), else the bare
 * name "pyscope-run" (searched in PATH when spawned). Sets *use_path to whether the
 * result must be searched in PATH. Returns a new string (caller owns), or NULL with
 * a message in err when $PYSCOPE_RUN_BIN names something that is not executable.
 */
char *cli_find_runner(bool *use_path, char *err, size_t errlen);

/*
 * Return a new report base name "pyscope_report_YYYY-MM-DDTHH-MM-SS.ffffffZ" for
 * the UTC time ts (names sort by time). Caller owns it.
 */
char *cli_report_name(const struct timespec *ts);

/*
 * Read all of path (borrowed) into a new NUL-terminated buffer (*buf, caller owns;
 * *len without the NUL). Returns 0, -errno, or -PYSCOPE_ETOOBIG when the file is
 * larger than cap bytes.
 */
int cli_read_file(const char *path, size_t cap, char **buf, size_t *len);

/* The history_filter flags the commands read reports/json with: the folder's index,
 * kept up to date (HISTORY_INDEX_READ | HISTORY_INDEX_WRITE), unless
 * PYSCOPE_HISTORY_INDEX is "off" or "0" (read every report, write no index). */
unsigned cli_history_flags(void);

/* Same, from the open descriptor fd (borrowed: not closed), from its current offset. */
int cli_read_fd(int fd, size_t cap, char **buf, size_t *len);

/*
 * Write json (borrowed) to path (borrowed) through a temporary file in the same
 * folder and rename(), so readers never see half a file. flags as json_dumpf();
 * a newline ends the file. Returns 0 or -errno (-EIO when jansson fails).
 */
int cli_write_json_atomic(const char *path, const json_t *json, size_t flags);

/* A page renderer (lib/html_*.h, cli/html_report.h): doc (borrowed) to out; 0, or negative
 * with err. */
typedef int (*cli_html_fn)(FILE *out, const json_t *doc, char *err, size_t errlen);

/*
 * Render doc with fn into path, replacing it whole or not at all (lib/atomicfile.h:
 * exclusive temporary file, fsync, rename). what names the file in messages ("HTML
 * report"). Returns 0, or -1 after logging what failed (path is then untouched).
 */
int cli_write_html_atomic(const char *path, cli_html_fn fn, const json_t *doc, const char *what);

/*
 * The usage error of an option getopt_long() refused in command cmd (opterr = 0, an
 * optstring starting with ':'): c is what it returned (':' a missing value, else '?'),
 * prev the argument the option was in (argv[optind - 1]). "pyscope: error: unknown or
 * ambiguous option --frob" and the hint, never getopt's own words; returns
 * PYSCOPE_EXIT_USAGE.
 */
int cli_option_error(const char *cmd, int c, const char *prev);

#endif
