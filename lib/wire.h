/*
 * wire.h - PyScope's wire messages (proto/pyscope.proto) as plain C structs.
 *
 * This module is the only code that includes the protobuf-c generated header:
 * everyone else builds and reads the structs below. wire_encode() packs a
 * struct wire_msg into one Envelope; wire_decode() unpacks bytes from the
 * network and VALIDATES them (version, body set, UTF-8 and length of every
 * string, caps of every repeated field, ranges, no NaN/inf, run_id of 16
 * bytes, sha256 of 64 hex chars, normalized paths) before the caller sees
 * anything. A rejected message comes with a reason (for counters and for the
 * Error code to answer with) and a lowercase message naming the field.
 *
 * Strings in a struct are never NULL after wire_decode() ("" when absent);
 * a caller building a message may leave them NULL (sent as ""). Missing
 * sub-messages (host, python, hosts) decode as all-empty structs.
 *
 * Ownership: everything a decoded message points to belongs to it and lives
 * until wire_msg_destroy(). wire_encode() only borrows what the caller's
 * struct points to.
 */
#ifndef PYSCOPE_WIRE_H
#define PYSCOPE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_VERSION           1u
#define WIRE_MAX_MSG_BYTES     (4u * 1024u * 1024u) /* ZMQ_MAXMSGSIZE */
#define WIRE_MAX_STRING        4096u                /* bytes, unless noted */
#define WIRE_RUN_ID_LEN        16u
#define WIRE_FINGERPRINT_LEN   16u /* hex chars */
#define WIRE_SHA256_HEX_LEN    64u
#define WIRE_MAX_LABELS        32u
#define WIRE_MAX_LABEL_KEY     64u
#define WIRE_MAX_LABEL_VALUE   256u
#define WIRE_MAX_MACHINE_ID    64u /* Host.machine_id */
#define WIRE_MAX_JOBS          64u /* Hello.max_jobs, Ready.credit, Heartbeat.running */
#define WIRE_MAX_PYTHONS       32u /* Hello.pythons */
#define WIRE_MAX_ARGS          256u
#define WIRE_MAX_REPEAT        1000u
#define WIRE_MAX_WARMUP        100u
#define WIRE_MIN_INTERVAL_US   100u     /* Job.interval_us, SuiteEntry.interval_us: 0.1 ms */
#define WIRE_MAX_INTERVAL_US   1000000u /* ... 1000 ms */
#define WIRE_MAX_RUNS          1000u    /* Result.runs, Function.*_runs */
#define WIRE_MAX_FUNCTIONS     2000u
#define WIRE_MAX_STACKS        5000u
#define WIRE_MAX_FRAMES        512u
#define WIRE_MAX_ENTRIES       1000u /* Submit.entries */
#define WIRE_MAX_NAMES         256u  /* HostSelector.names */
#define WIRE_MAX_QUERY_LIMIT   1000u
#define WIRE_MAX_NOTE          4096u
#define WIRE_MAX_HOST_NAME     256u            /* Query.host, Query.hosts[i] */
#define WIRE_MAX_QUERY_HOSTS   32u             /* Query.hosts */
#define WIRE_MAX_QUERY_PYTHONS 16u             /* Query.pythons */
#define WIRE_MAX_JSON          (1024u * 1024u) /* QueryReply.json */
#define WIRE_MAX_COMMITS       5000u           /* Submit.commits */
#define WIRE_MAX_PARENTS       16u             /* Commit.parents */
#define WIRE_MAX_SUBJECT       1024u           /* Commit.subject, bytes */
#define WIRE_MAX_AUTHOR        512u            /* Commit.author, bytes */
#define WIRE_MAX_TRY_ROUNDS    50u             /* Submit.try_rounds */
#define WIRE_MAX_TRY_JOBS      2000u           /* entries x 2 x try_rounds of a try (per host) */

/* The body of an Envelope; values are the proto field numbers. */
enum wire_type {
    WIRE_NONE = 0,
    WIRE_HELLO = 10,
    WIRE_WELCOME = 11,
    WIRE_HEARTBEAT = 12,
    WIRE_READY = 13,
    WIRE_JOB = 14,
    WIRE_RESULT = 15,
    WIRE_ACK = 16,
    WIRE_ERROR = 17,
    WIRE_SUBMIT = 20,
    WIRE_SUBMIT_REPLY = 21,
    WIRE_QUERY = 22,
    WIRE_QUERY_REPLY = 23,
};

/* Enums with the proto's values. */
enum wire_mode { WIRE_MODE_UNSPECIFIED = 0, WIRE_MODE_SAMPLE = 1, WIRE_MODE_TRACE = 2 };

enum wire_outcome {
    WIRE_OUTCOME_UNSPECIFIED = 0,
    WIRE_OUTCOME_OK = 1,
    WIRE_OUTCOME_FAILED = 2,
    WIRE_OUTCOME_TIMEOUT = 3,
    WIRE_OUTCOME_REFUSED = 4,
    WIRE_OUTCOME_ERROR = 5,
};

enum wire_error_code {
    WIRE_ERROR_UNSPECIFIED = 0,
    WIRE_ERROR_VERSION = 1,
    WIRE_ERROR_MALFORMED = 2,
    WIRE_ERROR_TOO_BIG = 3,
    WIRE_ERROR_UNEXPECTED = 4,
    WIRE_ERROR_FORBIDDEN = 5,
    WIRE_ERROR_UNKNOWN_JOB = 6,
    WIRE_ERROR_STALE_ATTEMPT = 7,
    WIRE_ERROR_INTERNAL = 8,
};

enum wire_query_kind {
    WIRE_QUERY_UNSPECIFIED = 0,
    WIRE_QUERY_HOSTS = 1,
    WIRE_QUERY_JOBS = 2,
    WIRE_QUERY_BATCH = 3,
    WIRE_QUERY_REPORT = 4,          /* the team report of a batch or of recent batches */
    WIRE_QUERY_TRIAGE = 5,          /* set a regression's state */
    WIRE_QUERY_SERIES = 6,          /* one script's runs on one host */
    WIRE_QUERY_COMPARE_HOSTS = 7,   /* one script on host A vs host B */
    WIRE_QUERY_COMPARE_PYTHONS = 8, /* one script on one host under each Python build */
    WIRE_QUERY_TRY = 9,             /* a try batch's verdicts (pyscope try SUITE) */
    WIRE_QUERY_BISECT = 10,         /* a bisection (pyscope bisect --host) */
};

/* Why wire_decode() or wire_validate() refused a message (counter index). */
enum wire_reject {
    WIRE_REJECT_TOO_BIG,     /* over WIRE_MAX_MSG_BYTES, or unpacks too large */
    WIRE_REJECT_UNDECODABLE, /* not a protobuf Envelope */
    WIRE_REJECT_VERSION,     /* version is not WIRE_VERSION */
    WIRE_REJECT_NO_BODY,     /* no body in the oneof */
    WIRE_REJECT_UTF8,        /* a string that is not valid UTF-8 */
    WIRE_REJECT_LENGTH,      /* a string or bytes field of the wrong length */
    WIRE_REJECT_COUNT,       /* a repeated field over its cap */
    WIRE_REJECT_RANGE,       /* a number or enum out of range, NaN or inf */
    WIRE_REJECT_FORMAT,      /* hex, path, label key, timestamp syntax */
    WIRE_REJECT_MISSING,     /* a required field left empty */
    WIRE_REJECT__COUNT,
};

/* A refusal: the reason and a lowercase message naming the field. */
struct wire_error {
    enum wire_reject reason;
    char msg[256];
};

/* Rejects by reason; embedded by the caller (no global state here). */
struct wire_counters {
    uint64_t rejects[WIRE_REJECT__COUNT];
};

struct wire_label {
    const char *key;   /* [A-Za-z0-9_.-]{1,64} */
    const char *value; /* at most 256 bytes */
};

struct wire_host {
    const char *fingerprint; /* 16 hex chars */
    const char *hostname;
    const char *cpu_model;
    uint32_t cores;
    uint64_t mem_bytes;
    const char *os;
    const char *kernel;
    const char *arch;
    const char *governor; /* drift */
    double load1;         /* drift, finite, >= 0 */
    size_t n_labels;
    const struct wire_label *labels;
    const char *machine_id; /* optional, <= WIRE_MAX_MACHINE_ID bytes: agents that share CPUs */
};

struct wire_python {
    const char *version; /* "3.11.2", required */
    const char *build;   /* sys.version */
    const char *executable;
    const char *implementation; /* sys.implementation.name, "" from older peers */
    const char *abiflags;       /* sys.abiflags */
};

struct wire_hello {
    const char *name; /* agent's display name, required */
    struct wire_host host;
    struct wire_python python;
    const char *agent_version;
    uint32_t max_jobs;                 /* 1..64 */
    size_t n_pythons;                  /* at most WIRE_MAX_PYTHONS; 0 from older agents */
    const struct wire_python *pythons; /* every interpreter the agent can run (docs/pythons.md) */
};

struct wire_welcome {
    const char *agent_id;  /* required */
    uint32_t heartbeat_ms; /* > 0 */
    uint32_t lease_ms;     /* > 0 */
};

struct wire_job_ref {
    uint64_t job_id;  /* > 0 */
    uint32_t attempt; /* > 0 */
};

struct wire_heartbeat {
    size_t n_running; /* at most 64 */
    const struct wire_job_ref *running;
    uint32_t spooled;
};

struct wire_ready {
    uint32_t credit; /* 1..64 */
};

struct wire_job {
    uint64_t job_id;    /* > 0 */
    uint32_t attempt;   /* > 0 */
    uint64_t batch_id;  /* > 0 */
    const char *script; /* normalized relative path */
    size_t n_args;      /* at most 256 */
    const char *const *args;
    uint32_t repeat;             /* 1..1000 */
    uint32_t warmup;             /* 0..100 */
    enum wire_mode mode;         /* SAMPLE or TRACE */
    double timeout_s;            /* finite, > 0 */
    uint64_t memory_limit_bytes; /* 0 = the agent's default */
    size_t n_env;                /* at most 64 (lib/jobenv.h) */
    const char *const *env;      /* "NAME=VALUE", each checked by jobenv_check() */
    const char *commit;          /* full commit hash to run at, or "" (the workspace) */
    const char *python;          /* lib/pyreq.h request, or "" (the agent's default) */
    bool instructions;           /* count each measured repeat's instructions (valgrind) */
    const char *reference;       /* a confirmation's reference script, interleaved with the
                                    repeats (pyscope-run --reference): normalized relative
                                    path, or "" / NULL (none) */
    uint32_t interval_us;        /* sampling period (us), 0 (10 ms: older coordinators) or
                                    WIRE_MIN_INTERVAL_US..WIRE_MAX_INTERVAL_US */
};

struct wire_measurement {
    double wall_s; /* finite, >= 0 */
    double cpu_s;  /* finite, >= 0 */
    uint64_t peak_rss_bytes;
    int32_t exit_code;
    int32_t signal;
    bool timed_out;
    uint64_t instructions; /* executed instructions (Job.instructions), 0 = not counted;
                              at most INT64_MAX */
    /* contention (agent/runner/contention.h); each has_ false when unknown */
    bool has_run_delay, has_ctx, has_steal, has_cpu_pressure, has_load1, has_cpu_mhz, has_ref,
        has_ref_script;
    double run_delay_s; /* finite, 0..1e9 */
    uint64_t ctx_voluntary, ctx_involuntary;
    double steal_s;          /* finite, 0..1e9 */
    double cpu_pressure_s;   /* finite, 0..1e9 */
    double load1;            /* finite, 0..1e6 */
    double cpu_mhz;          /* finite, 0..1e6 */
    double ref_cpu_ns;       /* the machine-speed reference (agent/runner/refloop.h): finite,
                                0..1e12, with has_ref */
    double ref_script_cpu_s; /* Job.reference's CPU and wall time around the repeat (the */
    double
        ref_script_wall_s; /* mean of the runs before and after it): 0..1e9, with has_ref_script */
};

struct wire_function {
    const char *key; /* file:qualname:line, required */
    uint64_t calls;
    double self_s;        /* finite, >= 0 */
    double total_s;       /* finite, >= 0 */
    size_t n_self_s_runs; /* at most 1000 */
    const double *self_s_runs;
    size_t n_total_s_runs; /* at most 1000 */
    const double *total_s_runs;
    bool has_self_cpu_s;
    double self_cpu_s; /* finite, >= 0 */
};

struct wire_stack {
    const char *thread;
    size_t n_frames;        /* at most 512 */
    const uint32_t *frames; /* root first, each < the result's n_functions */
    double samples;         /* finite, >= 0 */
};

struct wire_result {
    uint8_t run_id[WIRE_RUN_ID_LEN]; /* agent-made UUID, not all zero */
    uint64_t job_id;                 /* > 0 */
    uint32_t attempt;                /* > 0 */
    enum wire_outcome outcome;       /* OK..ERROR */
    const char *message;
    const char *script_key;    /* normalized relative path */
    const char *script_sha256; /* 64 lowercase hex; may be "" unless outcome is OK */
    struct wire_python python;
    struct wire_host host; /* fingerprint required */
    size_t n_runs;         /* at most 1000 */
    const struct wire_measurement *runs;
    size_t n_functions; /* at most 2000 */
    const struct wire_function *functions;
    size_t n_stacks; /* at most 5000 */
    const struct wire_stack *stacks;
    const char *started_at;   /* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.frac]Z", or "" */
    uint32_t child_processes; /* the script started them (profile.forks); at most INT32_MAX */
    uint32_t python_threads;  /* instructions.python_threads; 0: not known; at most INT32_MAX */
    uint32_t samples;         /* profile.samples (sample mode); 0: not known; at most INT32_MAX */
};

struct wire_ack {
    uint8_t run_id[WIRE_RUN_ID_LEN];
};

struct wire_error_msg {
    enum wire_error_code code; /* 1..8 */
    const char *message;
};

struct wire_suite_entry {
    const char *script; /* normalized relative path */
    size_t n_args;      /* at most 256 */
    const char *const *args;
    uint32_t repeat;        /* 0..1000, 0 = default */
    uint32_t warmup;        /* 0..100 */
    enum wire_mode mode;    /* UNSPECIFIED = default (sample) */
    double timeout_s;       /* finite, >= 0, 0 = default */
    double threshold;       /* finite, 0..10, 0 = default */
    size_t n_env;           /* at most 64 (lib/jobenv.h) */
    const char *const *env; /* "NAME=VALUE", each checked by jobenv_check() */
    const char *python;     /* lib/pyreq.h request, or "" (the agent's default) */
    bool instructions;      /* count its instructions (Job.instructions); suite's setting */
    uint32_t interval_us;   /* sampling period (us), 0 = the coordinator chooses, else
                               WIRE_MIN_INTERVAL_US..WIRE_MAX_INTERVAL_US */
};

struct wire_host_selector {
    bool all;
    size_t n_names; /* at most 256 */
    const char *const *names;
    size_t n_labels; /* at most 32; all must match */
    const struct wire_label *labels;
};

/* A commit as the submitter describes it (Submit.commits). */
struct wire_commit {
    const char *hash;           /* 40 or 64 lowercase hex digits */
    size_t n_parents;           /* at most 16 */
    const char *const *parents; /* full hashes */
    uint64_t generation;        /* 0 = unknown */
    const char *subject;        /* at most 1024 bytes */
    const char *author;         /* at most 512 bytes */
    int64_t time;               /* author date, epoch seconds, 0..2^40 */
};

struct wire_submit {
    const char *suite; /* required */
    size_t n_entries;  /* 1..1000 */
    const struct wire_suite_entry *entries;
    struct wire_host_selector hosts; /* must select something */
    const char *label;
    const char *commit; /* a full hash: the jobs run at it; else a label */
    size_t n_commits;   /* at most 5000 */
    const struct wire_commit *commits;
    /* the suite's reference script (run on each host every batch and around
     * confirmation runs), or NULL; not one of the entries */
    const struct wire_suite_entry *reference;
    /* an A/B try: the base commit (full hash; commit is the head), or NULL;
     * try_rounds (1..WIRE_MAX_TRY_ROUNDS) base/head pairs of each entry per host */
    const char *try_base;
    uint32_t try_rounds;
    /* a bisection (needs try_base = good, commit = bad, one entry, one host name):
     * decided on bisect_metric ("" or NULL = the decision; a name of lib/metrics.h's
     * METRIC_SET_ALL), within bisect_budget_s (0 = the coordinator's default) */
    bool bisect;
    const char *bisect_metric;
    uint32_t bisect_budget_s;
    /* every job of the batch counts instructions (Job.instructions); a bisection on
     * "instructions" implies it */
    bool instructions;
};

struct wire_submit_reply {
    uint64_t batch_id;
    uint32_t jobs;
    uint64_t bisection_id; /* a bisect submit's (batch_id and jobs are 0) */
};

struct wire_query {
    enum wire_query_kind kind;  /* HOSTS .. COMPARE_HOSTS */
    uint64_t batch_id;          /* required for BATCH; REPORT: 0 = by since_s */
    uint32_t limit;             /* 0..1000, 0 = default */
    uint32_t since_s;           /* REPORT without batch_id; 0 = one day */
    uint64_t regression_id;     /* required for TRIAGE */
    const char *state;          /* TRIAGE: "ack", "expected", "fixed" or "invalid";
                                   BISECT: "cancel" (or none: read it) */
    const char *note;           /* TRIAGE, optional (NULL = keep), <= WIRE_MAX_NOTE bytes;
                                   BISECT cancel: who asks (user@host) */
    const char *script;         /* SERIES, COMPARE_HOSTS: normalized script key (required) */
    const char *host;           /* SERIES: host name or fingerprint (required) */
    const char *python_build;   /* SERIES, optional (NULL/"" = the host's newest run's) */
    size_t n_hosts;             /* COMPARE_HOSTS: 0 (every host) or 2..WIRE_MAX_QUERY_HOSTS */
    const char *const *hosts;   /* names or fingerprints, each <= WIRE_MAX_HOST_NAME bytes */
    const char *metric;         /* COMPARE_HOSTS: "wall_s" (NULL/""), "cpu_s", "peak_rss_bytes" */
    size_t n_pythons;           /* COMPARE_PYTHONS: 0 (every build) .. WIRE_MAX_QUERY_PYTHONS */
    const char *const *pythons; /* lib/pyreq.h requests */
    const char *baseline;       /* COMPARE_PYTHONS: a request, or NULL/"" (the oldest version) */
};

struct wire_query_reply {
    const char *json; /* at most 1 MiB */
};

/* One Envelope. Build with wire_msg_init(), then fill the body for type. */
struct wire_msg {
    uint32_t version;  /* WIRE_VERSION */
    uint64_t seq;      /* sender's message number */
    uint64_t reply_to; /* seq of the message this answers, or 0 */
    enum wire_type type;
    union {
        struct wire_hello hello;
        struct wire_welcome welcome;
        struct wire_heartbeat heartbeat;
        struct wire_ready ready;
        struct wire_job job;
        struct wire_result result;
        struct wire_ack ack;
        struct wire_error_msg error;
        struct wire_submit submit;
        struct wire_submit_reply submit_reply;
        struct wire_query query;
        struct wire_query_reply query_reply;
    };
    void *priv; /* wire_decode()'s storage; NULL in a caller-built message */
};

/* Zero *m and set its version to WIRE_VERSION and its type. */
void wire_msg_init(struct wire_msg *m, enum wire_type type);

/*
 * Pack m (borrowed) into a new buffer. Does not validate (see
 * wire_validate()). Returns 0 with *out (caller frees with free()) and *len,
 * -EINVAL for an unknown type, -PYSCOPE_ETOOBIG over WIRE_MAX_MSG_BYTES.
 */
int wire_encode(const struct wire_msg *m, uint8_t **out, size_t *len);

/*
 * Unpack and validate len bytes of buf (borrowed). Returns a new message
 * (caller owns; wire_msg_destroy()) or NULL with *err filled (err may be NULL).
 */
struct wire_msg *wire_decode(const void *buf, size_t len, struct wire_error *err);

/* Free a decoded message and set *m to NULL; NULL-safe. */
void wire_msg_destroy(struct wire_msg **m);

/* Check m (borrowed) against the limits above. Returns 0, or -PYSCOPE_ESCHEMA with *err. */
int wire_validate(const struct wire_msg *m, struct wire_error *err);

/* Count err's reason in c. */
void wire_counters_add(struct wire_counters *c, const struct wire_error *err);

/* Static names: "too_big", "hello", "sample", "ok", "stale_attempt" ... ("unknown" otherwise). */
const char *wire_reject_name(enum wire_reject r);
const char *wire_type_name(enum wire_type t);
const char *wire_mode_name(enum wire_mode m);
const char *wire_outcome_name(enum wire_outcome o);
const char *wire_error_code_name(enum wire_error_code c);

/* The Error code to answer a refusal with: VERSION, TOO_BIG or MALFORMED. */
enum wire_error_code wire_reject_code(enum wire_reject r);

/* Encode an Error envelope answering reply_to; message borrowed. Same returns as wire_encode(). */
int wire_encode_error(uint64_t reply_to, enum wire_error_code code, const char *message,
                      uint8_t **out, size_t *len);

/* True when s (len bytes) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool wire_utf8_valid(const char *s, size_t len);

/* True when p is a normalized relative path: non-empty, '/' separators, no empty, '.'
 * or '..' component, no leading '/', no backslash or control characters. */
bool wire_path_normalized(const char *p);

/* Format a run_id as a lowercase UUID string into out (at least 37 bytes). */
void wire_run_id_format(const uint8_t id[WIRE_RUN_ID_LEN], char out[37]);

#endif
