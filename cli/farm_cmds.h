/*
 * farm_cmds.h - pyscope's farm subcommands and their coordinator client.
 *
 * "pyscope submit|hosts|jobs|status" talk to the coordinator over a ZeroMQ
 * DEALER socket (docs/DESIGN.md §2, §9): one request, one reply, each bounded by
 * a timeout so an unreachable coordinator gives a clear error, never a hang.
 * The coordinator is --coordinator URL, else $PYSCOPE_COORDINATOR, else
 * tcp://127.0.0.1:5555. Every command takes --json (the coordinator's
 * documented JSON on stdout); without it, a readable summary.
 *
 * Each cmd_X gets its own argv (argv[0] is the command name) and returns the
 * process exit status (enum pyscope_exit): 0 ok, 2 usage, 4 the coordinator
 * could not be reached or answered with an error; submit --wait also 3 when
 * a job of the batch did not end "ok".
 */
#ifndef PYSCOPE_CLI_FARM_CMDS_H
#define PYSCOPE_CLI_FARM_CMDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "wire.h"

#define FARM_DEFAULT_COORDINATOR "tcp://127.0.0.1:5555"
#define FARM_DEFAULT_TIMEOUT_S   5.0

/* "pyscope submit SUITE [...]": send a suite, optionally wait for the batch (submit.c). */
int cmd_submit(int argc, char **argv);
void cmd_submit_help(FILE *out);
/* "pyscope hosts": the registered hosts and agents (hosts.c). */
int cmd_hosts(int argc, char **argv);
void cmd_hosts_help(FILE *out);
/* "pyscope jobs [--batch ID]": the job queue (jobs.c). */
int cmd_jobs(int argc, char **argv);
void cmd_jobs_help(FILE *out);
/* "pyscope status BATCH": one batch's progress and results (status.c). */
int cmd_status(int argc, char **argv);
void cmd_status_help(FILE *out);
/* "pyscope report [--batch ID | --since AGE] [--out FILE] [--json]": the team report (report.c). */
int cmd_report(int argc, char **argv);
void cmd_report_help(FILE *out);
/* "pyscope compare-hosts SCRIPT [--hosts A,B]": one script on host A vs B (compare_hosts.c). */
int cmd_compare_hosts(int argc, char **argv);
void cmd_compare_hosts_help(FILE *out);
/* "pyscope compare-pythons SCRIPT [--host H]": one script under each Python build
 * (compare_hosts.c). */
int cmd_compare_pythons(int argc, char **argv);
void cmd_compare_pythons_help(FILE *out);
/* "pyscope triage ID STATE [--note TEXT]": set a regression's state (report.c). */
int cmd_triage(int argc, char **argv);
void cmd_triage_help(FILE *out);

/* ---- farm_client.c: shared by the commands above ---- */

/* How to reach the coordinator; strings borrowed (argv, environment). */
struct farm_opts {
    const char *url;             /* --coordinator, else $PYSCOPE_COORDINATOR, else the default */
    double timeout_s;            /* --timeout: each request's bound */
    const char *secret_key;      /* CURVE: --secret-key or $PYSCOPE_SECRET_KEY, or NULL */
    const char *coordinator_key; /* CURVE: --coordinator-key or $PYSCOPE_COORDINATOR_KEY */
};

/* getopt_long ids of the shared options, and their entries for a struct option table. */
enum { FARM_OPT_COORD = 1000, FARM_OPT_TIMEOUT, FARM_OPT_SECRET, FARM_OPT_CKEY };
#define FARM_LONG_OPTIONS                                                                          \
    {"coordinator", required_argument, NULL, FARM_OPT_COORD},                                      \
        {"timeout", required_argument, NULL, FARM_OPT_TIMEOUT},                                    \
        {"secret-key", required_argument, NULL, FARM_OPT_SECRET},                                  \
    {                                                                                              \
        "coordinator-key", required_argument, NULL, FARM_OPT_CKEY                                  \
    }
/* Their help lines. */
#define FARM_OPTIONS_HELP                                                                          \
    "  --coordinator URL    default: $PYSCOPE_COORDINATOR, else " FARM_DEFAULT_COORDINATOR "\n"    \
    "  --timeout SECONDS    how long to wait for each answer (default 5)\n"                        \
    "  --secret-key FILE    CURVE: your secret key (NAME.key_secret from pyscope keygen;\n"        \
    "                       NAME.key on the coordinator's allowlist as a submitter);\n"            \
    "                       default $PYSCOPE_SECRET_KEY\n"                                         \
    "  --coordinator-key FILE  CURVE: the coordinator's public key; default\n"                     \
    "                       $PYSCOPE_COORDINATOR_KEY\n"

/* Defaults into o (timeout 5 s, the rest unset). */
void farm_opts_init(struct farm_opts *o);

/*
 * Take option c with argument arg (borrowed) when it is one of FARM_OPT_*.
 * Returns 1 when taken, 0 when c is not a farm option, -PYSCOPE_EUSAGE
 * (logged) for a bad value.
 */
int farm_opts_handle(struct farm_opts *o, int c, const char *arg);

/*
 * farm_opts_handle() as the default case of command cmd's getopt loop (opterr = 0, an
 * optstring starting with ':'): returns -1 when c was a farm option and taken, else
 * PYSCOPE_EXIT_USAGE: a bad value is logged, an option that is no farm option (prev: the
 * argument it was in, argv[optind - 1]) gets cli_option_error()'s message and hint.
 */
int farm_opts_take(struct farm_opts *o, int c, const char *arg, const char *cmd, const char *prev);

/*
 * Fill what the options left unset from the environment and the defaults;
 * CURVE keys must come as a pair. Returns 0 or -PYSCOPE_EUSAGE (logged).
 */
int farm_opts_finish(struct farm_opts *o);

/*
 * Send req (borrowed; its seq is set here) to the coordinator o (borrowed)
 * and wait up to o->timeout_s for the answer. Returns 0 with the decoded
 * reply in *reply (caller owns; wire_msg_destroy; may be an Error message),
 * or a negative code with a message in err (unreachable, timed out, key
 * refused, malformed reply).
 */
int farm_request(const struct farm_opts *o, struct wire_msg *req, struct wire_msg **reply,
                 char *err, size_t errlen);

/*
 * Ask a Query of kind (with batch_id, limit) and parse the JSON answer.
 * Returns 0 with a new JSON value in *out (caller owns), or a negative code
 * with the problem already printed on stderr.
 */
int farm_query(const struct farm_opts *o, enum wire_query_kind kind, uint64_t batch_id,
               uint32_t limit, json_t **out);
/* The same with every Query field (query borrowed): reports and triage. */
int farm_query_send(const struct farm_opts *o, const struct wire_query *query, json_t **out);

/*
 * The exit status of a failed farm_query()/farm_query_send() (rc < 0):
 * PYSCOPE_EXIT_USAGE when the query named something that does not exist
 * (-PYSCOPE_ENODATA: a batch, a regression; the answer's "error") or a bad
 * --coordinator address or key (-PYSCOPE_EUSAGE), else PYSCOPE_EXIT_INTERNAL
 * (unreachable, refused, not understood).
 */
int farm_query_status(int rc);

/*
 * Print a Query answer doc (borrowed) of kind for people: hosts and jobs as
 * aligned tables, a batch as a short summary. Returns 0, or -PYSCOPE_ENODATA
 * (logged) when the batch does not exist.
 */
int farm_print_doc(FILE *out, enum wire_query_kind kind, const json_t *doc);

/*
 * The body of hosts, jobs and status (hosts.c): options (--json,
 * --coordinator, --timeout, --limit; --batch for jobs; a BATCH argument when
 * batch_arg), one Query of kind, the answer printed. Returns the exit status.
 */
int farm_simple_query(int argc, char **argv, enum wire_query_kind kind, bool batch_arg,
                      void (*help)(FILE *));

/*
 * The host selector of sel (borrowed: all, NAME,NAME,... or KEY=VALUE,...;
 * NULL = all) into *hs, its parts borrowed from a copy in *buf and the arrays
 * *names and *labels (caller frees all three). Returns 0 or -PYSCOPE_EUSAGE.
 */
int submit_hosts(const char *sel, struct wire_host_selector *hs, char **buf, const char ***names,
                 struct wire_label **labels);

struct suite;
/*
 * The wire entries of suite s (borrowed; the entries borrow from it): one per
 * script and Python (pythons[0..n_pythons) when given, else each script's
 * python =); repeat > 0 overrides the suite's. New array of *n (free).
 */
struct wire_suite_entry *submit_suite_entries(const struct suite *s, char *const *pythons,
                                              size_t n_pythons, uint32_t repeat, size_t *n);

/* pyscope try SUITE --base REV --head REV (try_farm.c): the farm form of try. */
int try_farm_main(int argc, char **argv);

/* pyscope bisect SCRIPT --host H --good A --bad B (bisect_farm.c): the farm form of bisect. */
int bisect_farm_main(int argc, char **argv);
void bisect_farm_help(FILE *out);
/*
 * The progress line of bisection step st (borrowed, an element of the bisect answer's
 * "steps"), without a newline: "pyscope bisect: step 2 (step): abc123def456 subject: bad,
 * regression (+9.8%, 2+2 runs)". A step one side of which has no runs gives no change but
 * says which: "skip (2+0 runs: the head side has no runs)". New string (caller frees).
 */
char *bisect_farm_step_text(const json_t *st);

/* Parse a positive whole number (batch ids, counts) into *out; 0 or -PYSCOPE_EUSAGE. */
int farm_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Parse the value arg of option name (e.g. "--limit"), a count of runs or rows from 1 to
 * WIRE_MAX_QUERY_LIMIT, into *out; 0 or -PYSCOPE_EUSAGE (logged). */
int farm_parse_limit(const char *name, const char *arg, uint32_t *out);

#endif
