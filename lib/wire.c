/*
 * wire.c - pack, unpack and validate PyScope's Envelope (proto/pyscope.proto).
 *
 * Design notes: the protobuf-c tree is converted to and from the plain
 * structs of wire.h with an arena that owns every array it makes, so freeing
 * is one call either way. Strings and numeric arrays of a decoded message
 * point into the unpacked protobuf-c tree, which the message keeps. Unpacking
 * uses a counting allocator capped at WIRE_UNPACK_CAP: a 4 MiB message of
 * empty sub-messages would otherwise expand to well over 100 MiB.
 */
#include "wire.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "jobenv.h"
#include "metrics.h"
#include "pyreq.h"
#include "pyscope.pb-c.h"
#include "xmalloc.h"

#define WIRE_UNPACK_CAP (64u * 1024u * 1024u)

/* Every allocation of one conversion, freed together. */
struct arena {
    void **ptrs;
    size_t n;
    size_t cap;
};

/* A capped allocator for protobuf_c_message_unpack(). */
struct capped_alloc {
    size_t used;
    size_t cap;
    bool exceeded; /* an allocation was refused */
};

/* What a decoded wire_msg keeps in priv. */
struct wire_priv {
    Pyscope__Envelope *env;
    struct capped_alloc budget;
    ProtobufCAllocator allocator;
    struct arena arena;
};

static void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
    if (nmemb == 0)
        return NULL;
    void *p = xcalloc(nmemb, size);
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->ptrs = xreallocarray(a->ptrs, a->cap, sizeof(*a->ptrs));
    }
    a->ptrs[a->n++] = p;
    return p;
}

static void arena_release(struct arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
    a->ptrs = NULL;
    a->n = a->cap = 0;
}

static void *capped_alloc_fn(void *data, size_t size)
{
    struct capped_alloc *c = data;
    if (size > c->cap - c->used) {
        c->exceeded = true;
        return NULL;
    }
    c->used += size;
    return malloc(size);
}

static void capped_free_fn(void *data, void *p)
{
    (void)data;
    free(p);
}

/* ---- names ---- */

const char *wire_reject_name(enum wire_reject r)
{
    static const char *const names[WIRE_REJECT__COUNT] = {
        [WIRE_REJECT_TOO_BIG] = "too_big", [WIRE_REJECT_UNDECODABLE] = "undecodable",
        [WIRE_REJECT_VERSION] = "version", [WIRE_REJECT_NO_BODY] = "no_body",
        [WIRE_REJECT_UTF8] = "utf8",       [WIRE_REJECT_LENGTH] = "length",
        [WIRE_REJECT_COUNT] = "count",     [WIRE_REJECT_RANGE] = "range",
        [WIRE_REJECT_FORMAT] = "format",   [WIRE_REJECT_MISSING] = "missing",
    };
    if ((unsigned)r >= WIRE_REJECT__COUNT)
        return "unknown";
    return names[r];
}

const char *wire_type_name(enum wire_type t)
{
    switch (t) {
    case WIRE_HELLO:
        return "hello";
    case WIRE_WELCOME:
        return "welcome";
    case WIRE_HEARTBEAT:
        return "heartbeat";
    case WIRE_READY:
        return "ready";
    case WIRE_JOB:
        return "job";
    case WIRE_RESULT:
        return "result";
    case WIRE_ACK:
        return "ack";
    case WIRE_ERROR:
        return "error";
    case WIRE_SUBMIT:
        return "submit";
    case WIRE_SUBMIT_REPLY:
        return "submit_reply";
    case WIRE_QUERY:
        return "query";
    case WIRE_QUERY_REPLY:
        return "query_reply";
    default:
        return "unknown";
    }
}

const char *wire_mode_name(enum wire_mode m)
{
    switch (m) {
    case WIRE_MODE_SAMPLE:
        return "sample";
    case WIRE_MODE_TRACE:
        return "trace";
    default:
        return "unknown";
    }
}

const char *wire_outcome_name(enum wire_outcome o)
{
    switch (o) {
    case WIRE_OUTCOME_OK:
        return "ok";
    case WIRE_OUTCOME_FAILED:
        return "failed";
    case WIRE_OUTCOME_TIMEOUT:
        return "timeout";
    case WIRE_OUTCOME_REFUSED:
        return "refused";
    case WIRE_OUTCOME_ERROR:
        return "error";
    default:
        return "unknown";
    }
}

const char *wire_error_code_name(enum wire_error_code c)
{
    static const char *const names[] = {
        "unspecified", "version",     "malformed",     "too_big",  "unexpected",
        "forbidden",   "unknown_job", "stale_attempt", "internal",
    };
    if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[c];
}

enum wire_error_code wire_reject_code(enum wire_reject r)
{
    switch (r) {
    case WIRE_REJECT_TOO_BIG:
        return WIRE_ERROR_TOO_BIG;
    case WIRE_REJECT_VERSION:
        return WIRE_ERROR_VERSION;
    default:
        return WIRE_ERROR_MALFORMED;
    }
}

void wire_counters_add(struct wire_counters *c, const struct wire_error *err)
{
    if ((unsigned)err->reason < WIRE_REJECT__COUNT)
        c->rejects[err->reason]++;
}

void wire_msg_init(struct wire_msg *m, enum wire_type type)
{
    memset(m, 0, sizeof(*m));
    m->version = WIRE_VERSION;
    m->type = type;
}

void wire_run_id_format(const uint8_t id[WIRE_RUN_ID_LEN], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < WIRE_RUN_ID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

/* ---- checks ---- */

bool wire_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

bool wire_path_normalized(const char *p)
{
    if (p == NULL || p[0] == '\0' || p[0] == '/')
        return false;
    const char *comp = p;
    for (const char *c = p;; c++) {
        if (*c == '/' || *c == '\0') {
            size_t n = (size_t)(c - comp);
            if (n == 0 || (n == 1 && comp[0] == '.') ||
                (n == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            if (*c == '\0')
                return true;
            comp = c + 1;
        } else if (*c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f) {
            return false;
        }
    }
}

static bool is_hex(const char *s, size_t want)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return n == want;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.d+]Z" naming a real instant (PostgreSQL must accept it). */
static bool is_timestamp(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0;
    for (; pat[i]; i++) {
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    }
    int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), minute = digits(s + 14, 2), second = digits(s + 17, 2);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > mdays[month - 1] ||
        (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59)
        return false;
    if (s[i] == '.') {
        size_t start = ++i;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 9)
            return false;
    }
    return s[i] == 'Z' && s[i + 1] == '\0';
}

static bool is_label_key(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n >= 1 && n <= WIRE_MAX_LABEL_KEY;
}

__attribute__((format(printf, 3, 4))) static int fail(struct wire_error *err,
                                                      enum wire_reject reason, const char *fmt, ...)
{
    if (err) {
        err->reason = reason;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -PYSCOPE_ESCHEMA;
}

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

/* A string field: valid UTF-8, at most max bytes, non-empty when required. */
static int check_str(struct wire_error *err, const char *field, const char *s, size_t max,
                     bool required)
{
    s = str_or_empty(s);
    size_t n = strlen(s);
    if (n > max)
        return fail(err, WIRE_REJECT_LENGTH, "%s: longer than %zu bytes", field, max);
    if (!wire_utf8_valid(s, n))
        return fail(err, WIRE_REJECT_UTF8, "%s: not valid utf-8", field);
    if (required && n == 0)
        return fail(err, WIRE_REJECT_MISSING, "%s: required", field);
    return 0;
}

static int check_count(struct wire_error *err, const char *field, size_t n, size_t max)
{
    if (n > max)
        return fail(err, WIRE_REJECT_COUNT, "%s: %zu items, at most %zu allowed", field, n, max);
    return 0;
}

/* A finite double in [lo, hi]. */
static int check_num(struct wire_error *err, const char *field, double v, double lo, double hi)
{
    if (!isfinite(v))
        return fail(err, WIRE_REJECT_RANGE, "%s: not a finite number", field);
    if (v < lo || v > hi)
        return fail(err, WIRE_REJECT_RANGE, "%s: %g out of range %g..%g", field, v, lo, hi);
    return 0;
}

static int check_uint(struct wire_error *err, const char *field, uint64_t v, uint64_t lo,
                      uint64_t hi)
{
    if (v < lo || v > hi)
        return fail(err, WIRE_REJECT_RANGE, "%s: %llu out of range %llu..%llu", field,
                    (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static int check_path(struct wire_error *err, const char *field, const char *p)
{
    int rc = check_str(err, field, p, WIRE_MAX_STRING, true);
    if (rc < 0)
        return rc;
    if (!wire_path_normalized(p))
        return fail(err, WIRE_REJECT_FORMAT, "%s: not a normalized relative path", field);
    return 0;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ < 0)                                                                           \
            return try_rc_;                                                                        \
    } while (0)

static int check_labels(struct wire_error *err, const char *field, size_t n,
                        const struct wire_label *labels)
{
    char f[96];
    TRY(check_count(err, field, n, WIRE_MAX_LABELS));
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "%s[%zu].key", field, i);
        TRY(check_str(err, f, labels[i].key, WIRE_MAX_LABEL_KEY, true));
        if (!is_label_key(labels[i].key))
            return fail(err, WIRE_REJECT_FORMAT, "%s: not [A-Za-z0-9_.-]{1,64}", f);
        snprintf(f, sizeof(f), "%s[%zu].value", field, i);
        TRY(check_str(err, f, labels[i].value, WIRE_MAX_LABEL_VALUE, false));
    }
    return 0;
}

static int check_host(struct wire_error *err, const char *field, const struct wire_host *h)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.fingerprint", field);
    TRY(check_str(err, f, h->fingerprint, WIRE_FINGERPRINT_LEN, true));
    if (!is_hex(h->fingerprint, WIRE_FINGERPRINT_LEN))
        return fail(err, WIRE_REJECT_FORMAT, "%s: not 16 lowercase hex characters", f);
    const char *names[] = {"hostname", "cpu_model", "os", "kernel", "arch", "governor"};
    const char *vals[] = {h->hostname, h->cpu_model, h->os, h->kernel, h->arch, h->governor};
    for (size_t i = 0; i < 6; i++) {
        snprintf(f, sizeof(f), "%s.%s", field, names[i]);
        TRY(check_str(err, f, vals[i], WIRE_MAX_STRING, false));
    }
    snprintf(f, sizeof(f), "%s.load1", field);
    TRY(check_num(err, f, h->load1, 0, 1e6));
    snprintf(f, sizeof(f), "%s.machine_id", field);
    TRY(check_str(err, f, h->machine_id, WIRE_MAX_MACHINE_ID, false));
    snprintf(f, sizeof(f), "%s.labels", field);
    return check_labels(err, f, h->n_labels, h->labels);
}

static int check_python(struct wire_error *err, const char *field, const struct wire_python *p)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.version", field);
    TRY(check_str(err, f, p->version, 64, true));
    snprintf(f, sizeof(f), "%s.build", field);
    TRY(check_str(err, f, p->build, WIRE_MAX_STRING, false));
    snprintf(f, sizeof(f), "%s.executable", field);
    TRY(check_str(err, f, p->executable, WIRE_MAX_STRING, false));
    snprintf(f, sizeof(f), "%s.implementation", field);
    TRY(check_str(err, f, p->implementation, 64, false));
    snprintf(f, sizeof(f), "%s.abiflags", field);
    return check_str(err, f, p->abiflags, 64, false);
}

/* A Python request (lib/pyreq.h). */
static int check_pyreq(struct wire_error *err, const char *field, const char *req)
{
    TRY(check_str(err, field, req, PYREQ_MAX, false));
    char why[128];
    if (pyreq_check(req, why, sizeof(why)) < 0)
        return fail(err, WIRE_REJECT_RANGE, "%s: %s", field, why);
    return 0;
}

static int check_args(struct wire_error *err, const char *field, size_t n, const char *const *args)
{
    char f[128]; /* field (a caller's char[96]) + "[index]" */
    TRY(check_count(err, field, n, WIRE_MAX_ARGS));
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        TRY(check_str(err, f, args[i], WIRE_MAX_STRING, false));
    }
    return 0;
}

/* Variables a suite sets (lib/jobenv.h): strings first, then the names. */
static int check_env(struct wire_error *err, const char *field, size_t n, const char *const *env)
{
    char f[128];
    TRY(check_count(err, field, n, JOBENV_MAX_VARS));
    for (size_t i = 0; i < n; i++) {
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        TRY(check_str(err, f, env[i], JOBENV_MAX_NAME + 1 + JOBENV_MAX_VALUE, true));
    }
    char why[256];
    long bad = jobenv_check_list(env, n, why, sizeof(why));
    if (bad >= 0)
        return fail(err, WIRE_REJECT_FORMAT, "%s[%ld]: %s", field, bad, why);
    return 0;
}

static bool run_id_zero(const uint8_t *id)
{
    for (size_t i = 0; i < WIRE_RUN_ID_LEN; i++)
        if (id[i])
            return false;
    return true;
}

static int check_result(struct wire_error *err, const struct wire_result *r)
{
    char f[96];
    if (run_id_zero(r->run_id))
        return fail(err, WIRE_REJECT_MISSING, "result.run_id: required");
    TRY(check_uint(err, "result.job_id", r->job_id, 1, INT64_MAX));
    TRY(check_uint(err, "result.attempt", r->attempt, 1, INT32_MAX));
    TRY(check_uint(err, "result.outcome", r->outcome, WIRE_OUTCOME_OK, WIRE_OUTCOME_ERROR));
    TRY(check_str(err, "result.message", r->message, WIRE_MAX_STRING, false));
    TRY(check_path(err, "result.script_key", r->script_key));
    const char *sha = str_or_empty(r->script_sha256);
    TRY(check_str(err, "result.script_sha256", sha, WIRE_SHA256_HEX_LEN,
                  r->outcome == WIRE_OUTCOME_OK));
    if (sha[0] && !is_hex(sha, WIRE_SHA256_HEX_LEN))
        return fail(err, WIRE_REJECT_FORMAT,
                    "result.script_sha256: not 64 lowercase hex characters");
    TRY(check_python(err, "result.python", &r->python));
    TRY(check_host(err, "result.host", &r->host));
    TRY(check_count(err, "result.runs", r->n_runs, WIRE_MAX_RUNS));
    for (size_t i = 0; i < r->n_runs; i++) {
        snprintf(f, sizeof(f), "result.runs[%zu].wall_s", i);
        TRY(check_num(err, f, r->runs[i].wall_s, 0, 1e9));
        snprintf(f, sizeof(f), "result.runs[%zu].cpu_s", i);
        TRY(check_num(err, f, r->runs[i].cpu_s, 0, 1e9));
        snprintf(f, sizeof(f), "result.runs[%zu].instructions", i);
        TRY(check_uint(err, f, r->runs[i].instructions, 0, INT64_MAX));
        const struct wire_measurement *m = &r->runs[i];
        const struct {
            bool has;
            const char *name;
            double v, max;
        } opt[] = {{m->has_run_delay, "run_delay_s", m->run_delay_s, 1e9},
                   {m->has_steal, "steal_s", m->steal_s, 1e9},
                   {m->has_cpu_pressure, "cpu_pressure_s", m->cpu_pressure_s, 1e9},
                   {m->has_load1, "load1", m->load1, 1e6},
                   {m->has_cpu_mhz, "cpu_mhz", m->cpu_mhz, 1e6},
                   {m->has_ref, "ref_cpu_ns", m->ref_cpu_ns, 1e12},
                   {m->has_ref_script, "ref_script_cpu_s", m->ref_script_cpu_s, 1e9},
                   {m->has_ref_script, "ref_script_wall_s", m->ref_script_wall_s, 1e9}};
        for (size_t k = 0; k < sizeof(opt) / sizeof(opt[0]); k++) {
            if (!opt[k].has)
                continue;
            snprintf(f, sizeof(f), "result.runs[%zu].%s", i, opt[k].name);
            TRY(check_num(err, f, opt[k].v, 0, opt[k].max));
        }
    }
    TRY(check_count(err, "result.functions", r->n_functions, WIRE_MAX_FUNCTIONS));
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *fn = &r->functions[i];
        snprintf(f, sizeof(f), "result.functions[%zu].key", i);
        TRY(check_str(err, f, fn->key, WIRE_MAX_STRING, true));
        snprintf(f, sizeof(f), "result.functions[%zu].self_s", i);
        TRY(check_num(err, f, fn->self_s, 0, 1e9));
        snprintf(f, sizeof(f), "result.functions[%zu].total_s", i);
        TRY(check_num(err, f, fn->total_s, 0, 1e9));
        if (fn->has_self_cpu_s) {
            snprintf(f, sizeof(f), "result.functions[%zu].self_cpu_s", i);
            TRY(check_num(err, f, fn->self_cpu_s, 0, 1e9));
        }
        snprintf(f, sizeof(f), "result.functions[%zu].self_s_runs", i);
        TRY(check_count(err, f, fn->n_self_s_runs, WIRE_MAX_RUNS));
        for (size_t k = 0; k < fn->n_self_s_runs; k++)
            TRY(check_num(err, f, fn->self_s_runs[k], 0, 1e9));
        snprintf(f, sizeof(f), "result.functions[%zu].total_s_runs", i);
        TRY(check_count(err, f, fn->n_total_s_runs, WIRE_MAX_RUNS));
        for (size_t k = 0; k < fn->n_total_s_runs; k++)
            TRY(check_num(err, f, fn->total_s_runs[k], 0, 1e9));
    }
    TRY(check_count(err, "result.stacks", r->n_stacks, WIRE_MAX_STACKS));
    for (size_t i = 0; i < r->n_stacks; i++) {
        const struct wire_stack *st = &r->stacks[i];
        snprintf(f, sizeof(f), "result.stacks[%zu].thread", i);
        TRY(check_str(err, f, st->thread, 256, false));
        snprintf(f, sizeof(f), "result.stacks[%zu].frames", i);
        TRY(check_count(err, f, st->n_frames, WIRE_MAX_FRAMES));
        for (size_t k = 0; k < st->n_frames; k++)
            if (st->frames[k] >= r->n_functions)
                return fail(err, WIRE_REJECT_RANGE, "%s: index %u beyond %zu functions", f,
                            st->frames[k], r->n_functions);
        snprintf(f, sizeof(f), "result.stacks[%zu].samples", i);
        TRY(check_num(err, f, st->samples, 0, 1e12));
    }
    const char *ts = str_or_empty(r->started_at);
    TRY(check_str(err, "result.started_at", ts, 64, false));
    if (ts[0] && !is_timestamp(ts))
        return fail(err, WIRE_REJECT_FORMAT, "result.started_at: not an rfc 3339 utc timestamp");
    TRY(check_uint(err, "result.child_processes", r->child_processes, 0, INT32_MAX));
    TRY(check_uint(err, "result.python_threads", r->python_threads, 0, INT32_MAX));
    TRY(check_uint(err, "result.samples", r->samples, 0, INT32_MAX));
    return 0;
}

/* The fields of the SERIES and COMPARE_HOSTS queries (and none of them elsewhere). */
static int check_query_series(struct wire_error *err, const struct wire_query *q)
{
    char f[64];
    bool series = q->kind == WIRE_QUERY_SERIES, compare = q->kind == WIRE_QUERY_COMPARE_HOSTS;
    bool pythons = q->kind == WIRE_QUERY_COMPARE_PYTHONS;
    if (pythons) {
        TRY(check_path(err, "query.script", q->script));
        TRY(check_str(err, "query.host", q->host, WIRE_MAX_HOST_NAME, false));
        TRY(check_count(err, "query.pythons", q->n_pythons, WIRE_MAX_QUERY_PYTHONS));
        for (size_t i = 0; i < q->n_pythons; i++) {
            snprintf(f, sizeof(f), "query.pythons[%zu]", i);
            TRY(check_pyreq(err, f, q->pythons[i]));
            if (!*q->pythons[i])
                return fail(err, WIRE_REJECT_MISSING, "%s: empty", f);
        }
        TRY(check_pyreq(err, "query.baseline", q->baseline));
        if (*str_or_empty(q->python_build) || q->n_hosts || *str_or_empty(q->metric))
            return fail(err, WIRE_REJECT_FORMAT,
                        "query: python_build, hosts and metric do not belong to compare_pythons");
        return 0;
    }
    if (*str_or_empty(q->baseline))
        return fail(err, WIRE_REJECT_FORMAT, "query: baseline belongs to compare_pythons");
    if (q->n_pythons && q->kind != WIRE_QUERY_COMPARE_HOSTS)
        return fail(err, WIRE_REJECT_FORMAT,
                    "query: pythons belong to compare_pythons and compare_hosts");
    /* compare_hosts: at most one, the Python the hosts are compared under */
    TRY(check_count(err, "query.pythons", q->n_pythons, 1));
    if (q->n_pythons) {
        TRY(check_pyreq(err, "query.pythons[0]", q->pythons[0]));
        if (!*q->pythons[0])
            return fail(err, WIRE_REJECT_MISSING, "query.pythons[0]: empty");
    }
    if (!series && !compare) {
        if (*str_or_empty(q->script) || *str_or_empty(q->host) || *str_or_empty(q->python_build) ||
            q->n_hosts || *str_or_empty(q->metric))
            return fail(err, WIRE_REJECT_FORMAT,
                        "query: script, host, python_build, hosts and metric belong to series "
                        "and compare_hosts queries");
        return 0;
    }
    TRY(check_path(err, "query.script", q->script));
    TRY(check_str(err, "query.host", q->host, WIRE_MAX_HOST_NAME, series));
    TRY(check_str(err, "query.python_build", q->python_build, WIRE_MAX_STRING, false));
    TRY(check_count(err, "query.hosts", q->n_hosts, WIRE_MAX_QUERY_HOSTS));
    if (q->n_hosts == 1)
        return fail(err, WIRE_REJECT_COUNT, "query.hosts: give none (every host) or at least two");
    for (size_t i = 0; i < q->n_hosts; i++) {
        snprintf(f, sizeof(f), "query.hosts[%zu]", i);
        TRY(check_str(err, f, q->hosts[i], WIRE_MAX_HOST_NAME, true));
    }
    const char *metric = str_or_empty(q->metric);
    TRY(check_str(err, "query.metric", metric, 32, false));
    if (*metric && !metric_name_ok(METRIC_SET_MEASURED, metric))
        return fail(err, WIRE_REJECT_RANGE, "query.metric: must be %s",
                    metric_names_text(METRIC_SET_MEASURED));
    if (series && (q->n_hosts || *metric))
        return fail(err, WIRE_REJECT_FORMAT, "query: hosts and metric belong to compare_hosts");
    if (compare && (*str_or_empty(q->host) || *str_or_empty(q->python_build)))
        return fail(err, WIRE_REJECT_FORMAT,
                    "query: host and python_build belong to series queries");
    return 0;
}

/* A commit hash: 40 or 64 lowercase hex digits ("" allowed when !required). */
static int check_hash(struct wire_error *err, const char *field, const char *h, bool required)
{
    TRY(check_str(err, field, h, 64, required));
    h = str_or_empty(h);
    if (*h && !is_hex(h, 40) && !is_hex(h, 64))
        return fail(err, WIRE_REJECT_FORMAT, "%s: not a full commit hash (40 or 64 lowercase hex)",
                    field);
    return 0;
}

static int check_commits(struct wire_error *err, size_t n, const struct wire_commit *v)
{
    char f[96];
    TRY(check_count(err, "submit.commits", n, WIRE_MAX_COMMITS));
    for (size_t i = 0; i < n; i++) {
        const struct wire_commit *c = &v[i];
        snprintf(f, sizeof(f), "submit.commits[%zu].hash", i);
        TRY(check_hash(err, f, c->hash, true));
        snprintf(f, sizeof(f), "submit.commits[%zu].parents", i);
        TRY(check_count(err, f, c->n_parents, WIRE_MAX_PARENTS));
        for (size_t k = 0; k < c->n_parents; k++) {
            snprintf(f, sizeof(f), "submit.commits[%zu].parents[%zu]", i, k);
            TRY(check_hash(err, f, c->parents[k], true));
        }
        snprintf(f, sizeof(f), "submit.commits[%zu].generation", i);
        TRY(check_uint(err, f, c->generation, 0, INT32_MAX));
        snprintf(f, sizeof(f), "submit.commits[%zu].subject", i);
        TRY(check_str(err, f, c->subject, WIRE_MAX_SUBJECT, false));
        snprintf(f, sizeof(f), "submit.commits[%zu].author", i);
        TRY(check_str(err, f, c->author, WIRE_MAX_AUTHOR, false));
        if (c->time < 0 || c->time > ((int64_t)1 << 40)) {
            snprintf(f, sizeof(f), "submit.commits[%zu].time", i);
            return fail(err, WIRE_REJECT_RANGE, "%s: out of range", f);
        }
    }
    return 0;
}

/* One suite entry e (borrowed) at field f ("submit.entries[3]"). */
static int check_entry(struct wire_error *err, const char *field, const struct wire_suite_entry *e)
{
    char f[96];
    snprintf(f, sizeof(f), "%s.script", field);
    TRY(check_path(err, f, e->script));
    snprintf(f, sizeof(f), "%s.args", field);
    TRY(check_args(err, f, e->n_args, e->args));
    snprintf(f, sizeof(f), "%s.repeat", field);
    TRY(check_uint(err, f, e->repeat, 0, WIRE_MAX_REPEAT));
    snprintf(f, sizeof(f), "%s.warmup", field);
    TRY(check_uint(err, f, e->warmup, 0, WIRE_MAX_WARMUP));
    snprintf(f, sizeof(f), "%s.mode", field);
    TRY(check_uint(err, f, e->mode, WIRE_MODE_UNSPECIFIED, WIRE_MODE_TRACE));
    snprintf(f, sizeof(f), "%s.interval_us", field);
    if (e->interval_us)
        TRY(check_uint(err, f, e->interval_us, WIRE_MIN_INTERVAL_US, WIRE_MAX_INTERVAL_US));
    snprintf(f, sizeof(f), "%s.timeout_s", field);
    TRY(check_num(err, f, e->timeout_s, 0, 7 * 86400));
    snprintf(f, sizeof(f), "%s.threshold", field);
    TRY(check_num(err, f, e->threshold, 0, 10));
    snprintf(f, sizeof(f), "%s.python", field);
    TRY(check_pyreq(err, f, e->python));
    snprintf(f, sizeof(f), "%s.env", field);
    return check_env(err, f, e->n_env, e->env);
}

/* A try names two commits by full hash (never a URL or a ref: agents fetch only from
 * their own repository) and how many base/head pairs; a reference is no part of it. */
static int check_try(struct wire_error *err, const struct wire_submit *s)
{
    if (!*str_or_empty(s->try_base)) {
        if (s->try_rounds)
            return fail(err, WIRE_REJECT_FORMAT, "submit.try_rounds: only with try_base");
        return 0;
    }
    TRY(check_hash(err, "submit.try_base", s->try_base, true));
    const char *head = str_or_empty(s->commit);
    if (!is_hex(head, 40) && !is_hex(head, 64))
        return fail(err, WIRE_REJECT_FORMAT,
                    "submit.commit: a try's head must be a full commit hash (40 or 64 lowercase "
                    "hex)");
    TRY(check_uint(err, "submit.try_rounds", s->try_rounds, 1, WIRE_MAX_TRY_ROUNDS));
    if (s->n_entries * 2 * s->try_rounds > WIRE_MAX_TRY_JOBS)
        return fail(err, WIRE_REJECT_COUNT,
                    "submit: a try of %zu entries x %u rounds x 2 sides is over %u jobs per host",
                    s->n_entries, s->try_rounds, WIRE_MAX_TRY_JOBS);
    if (s->reference)
        return fail(err, WIRE_REJECT_FORMAT,
                    "submit.reference: a try has none (both sides are measured in turns)");
    return 0;
}

/* A bisection is a try of one entry on one named host, between two different commits. */
static int check_bisect(struct wire_error *err, const struct wire_submit *s)
{
    if (!s->bisect) {
        if (*str_or_empty(s->bisect_metric) || s->bisect_budget_s)
            return fail(err, WIRE_REJECT_FORMAT,
                        "submit.bisect_metric, bisect_budget_s: only with bisect");
        return 0;
    }
    if (!*str_or_empty(s->try_base))
        return fail(err, WIRE_REJECT_MISSING, "submit.try_base: a bisection needs its good commit");
    if (s->n_entries != 1)
        return fail(err, WIRE_REJECT_COUNT, "submit.entries: a bisection has exactly one script");
    if (s->hosts.all || s->hosts.n_names != 1 || s->hosts.n_labels)
        return fail(err, WIRE_REJECT_FORMAT, "submit.hosts: a bisection names exactly one host");
    if (strcmp(s->try_base, s->commit) == 0)
        return fail(err, WIRE_REJECT_FORMAT,
                    "submit: a bisection's good and bad commits are the same commit");
    TRY(check_str(err, "submit.bisect_metric", s->bisect_metric, 32, false));
    if (*str_or_empty(s->bisect_metric) && !metric_name_ok(METRIC_SET_ALL, s->bisect_metric))
        return fail(err, WIRE_REJECT_RANGE, "submit.bisect_metric: must be %s (or none)",
                    metric_names_text(METRIC_SET_ALL));
    return check_uint(err, "submit.bisect_budget_s", s->bisect_budget_s, 0, 30 * 86400);
}

static int check_submit(struct wire_error *err, const struct wire_submit *s)
{
    char f[96];
    TRY(check_str(err, "submit.suite", s->suite, 256, true));
    TRY(check_str(err, "submit.label", s->label, WIRE_MAX_STRING, false));
    TRY(check_str(err, "submit.commit", s->commit, 256, false));
    if (s->n_entries == 0)
        return fail(err, WIRE_REJECT_MISSING, "submit.entries: required");
    TRY(check_count(err, "submit.entries", s->n_entries, WIRE_MAX_ENTRIES));
    for (size_t i = 0; i < s->n_entries; i++) {
        snprintf(f, sizeof(f), "submit.entries[%zu]", i);
        TRY(check_entry(err, f, &s->entries[i]));
    }
    if (s->reference) {
        TRY(check_entry(err, "submit.reference", s->reference));
        for (size_t i = 0; i < s->n_entries; i++)
            if (strcmp(str_or_empty(s->entries[i].script), s->reference->script) == 0)
                return fail(err, WIRE_REJECT_FORMAT,
                            "submit.reference: %s is also an entry (a reference is not measured"
                            " for itself)",
                            s->reference->script);
    }
    const struct wire_host_selector *h = &s->hosts;
    TRY(check_count(err, "submit.hosts.names", h->n_names, WIRE_MAX_NAMES));
    for (size_t i = 0; i < h->n_names; i++) {
        snprintf(f, sizeof(f), "submit.hosts.names[%zu]", i);
        TRY(check_str(err, f, h->names[i], 256, true));
    }
    TRY(check_labels(err, "submit.hosts.labels", h->n_labels, h->labels));
    if (!h->all && h->n_names == 0 && h->n_labels == 0)
        return fail(err, WIRE_REJECT_MISSING, "submit.hosts: selects no host");
    TRY(check_try(err, s));
    TRY(check_bisect(err, s));
    return check_commits(err, s->n_commits, s->commits);
}

int wire_validate(const struct wire_msg *m, struct wire_error *err)
{
    if (m->version != WIRE_VERSION)
        return fail(err, WIRE_REJECT_VERSION, "unknown protocol version %u", m->version);
    switch (m->type) {
    case WIRE_HELLO: {
        const struct wire_hello *h = &m->hello;
        TRY(check_str(err, "hello.name", h->name, 256, true));
        TRY(check_host(err, "hello.host", &h->host));
        TRY(check_python(err, "hello.python", &h->python));
        TRY(check_count(err, "hello.pythons", h->n_pythons, WIRE_MAX_PYTHONS));
        for (size_t i = 0; i < h->n_pythons; i++)
            TRY(check_python(err, "hello.pythons", &h->pythons[i]));
        TRY(check_str(err, "hello.agent_version", h->agent_version, 64, false));
        return check_uint(err, "hello.max_jobs", h->max_jobs, 1, WIRE_MAX_JOBS);
    }
    case WIRE_WELCOME:
        TRY(check_str(err, "welcome.agent_id", m->welcome.agent_id, 256, true));
        TRY(check_uint(err, "welcome.heartbeat_ms", m->welcome.heartbeat_ms, 1, UINT32_MAX));
        return check_uint(err, "welcome.lease_ms", m->welcome.lease_ms, 1, UINT32_MAX);
    case WIRE_HEARTBEAT:
        TRY(check_count(err, "heartbeat.running", m->heartbeat.n_running, WIRE_MAX_JOBS));
        for (size_t i = 0; i < m->heartbeat.n_running; i++) {
            TRY(check_uint(err, "heartbeat.running.job_id", m->heartbeat.running[i].job_id, 1,
                           INT64_MAX));
            TRY(check_uint(err, "heartbeat.running.attempt", m->heartbeat.running[i].attempt, 1,
                           INT32_MAX));
        }
        return 0;
    case WIRE_READY:
        return check_uint(err, "ready.credit", m->ready.credit, 1, WIRE_MAX_JOBS);
    case WIRE_JOB: {
        const struct wire_job *j = &m->job;
        TRY(check_uint(err, "job.job_id", j->job_id, 1, INT64_MAX));
        TRY(check_uint(err, "job.attempt", j->attempt, 1, INT32_MAX));
        TRY(check_uint(err, "job.batch_id", j->batch_id, 1, INT64_MAX));
        TRY(check_path(err, "job.script", j->script));
        TRY(check_args(err, "job.args", j->n_args, j->args));
        TRY(check_uint(err, "job.repeat", j->repeat, 1, WIRE_MAX_REPEAT));
        TRY(check_uint(err, "job.warmup", j->warmup, 0, WIRE_MAX_WARMUP));
        TRY(check_uint(err, "job.mode", j->mode, WIRE_MODE_SAMPLE, WIRE_MODE_TRACE));
        if (j->interval_us)
            TRY(check_uint(err, "job.interval_us", j->interval_us, WIRE_MIN_INTERVAL_US,
                           WIRE_MAX_INTERVAL_US));
        TRY(check_env(err, "job.env", j->n_env, j->env));
        TRY(check_pyreq(err, "job.python", j->python));
        if (!isfinite(j->timeout_s) || j->timeout_s <= 0)
            return fail(err, WIRE_REJECT_RANGE, "job.timeout_s: must be a finite number > 0");
        TRY(check_num(err, "job.timeout_s", j->timeout_s, 0, 7 * 86400));
        if (j->reference && *j->reference)
            TRY(check_path(err, "job.reference", j->reference));
        return check_hash(err, "job.commit", j->commit, false);
    }
    case WIRE_RESULT:
        return check_result(err, &m->result);
    case WIRE_ACK:
        if (run_id_zero(m->ack.run_id))
            return fail(err, WIRE_REJECT_MISSING, "ack.run_id: required");
        return 0;
    case WIRE_ERROR:
        TRY(check_uint(err, "error.code", m->error.code, WIRE_ERROR_VERSION, WIRE_ERROR_INTERNAL));
        return check_str(err, "error.message", m->error.message, WIRE_MAX_STRING, false);
    case WIRE_SUBMIT:
        return check_submit(err, &m->submit);
    case WIRE_SUBMIT_REPLY:
        return 0;
    case WIRE_QUERY:
        TRY(check_uint(err, "query.kind", m->query.kind, WIRE_QUERY_HOSTS, WIRE_QUERY_BISECT));
        TRY(check_query_series(err, &m->query));
        if (m->query.kind == WIRE_QUERY_TRIAGE) {
            if (m->query.regression_id == 0)
                return fail(err, WIRE_REJECT_MISSING, "query.regression_id: required for triage");
            TRY(check_uint(err, "query.regression_id", m->query.regression_id, 1, INT64_MAX));
            TRY(check_str(err, "query.state", m->query.state, 16, true));
            const char *st = m->query.state;
            if (strcmp(st, "ack") != 0 && strcmp(st, "expected") != 0 && strcmp(st, "fixed") != 0 &&
                strcmp(st, "invalid") != 0)
                return fail(err, WIRE_REJECT_RANGE,
                            "query.state: must be ack, expected, fixed or invalid");
            TRY(check_str(err, "query.note", m->query.note, WIRE_MAX_NOTE, false));
        }
        /* a bisect query with state "cancel" cancels the bisection (note: who asked) */
        if (m->query.kind == WIRE_QUERY_BISECT && m->query.state && *m->query.state) {
            if (strcmp(m->query.state, "cancel") != 0)
                return fail(err, WIRE_REJECT_RANGE,
                            "query.state: a bisect query takes \"cancel\" or nothing");
            TRY(check_str(err, "query.note", m->query.note, WIRE_MAX_NOTE, false));
        }
        TRY(check_uint(err, "query.limit", m->query.limit, 0, WIRE_MAX_QUERY_LIMIT));
        if ((m->query.kind == WIRE_QUERY_BATCH || m->query.kind == WIRE_QUERY_TRY ||
             m->query.kind == WIRE_QUERY_BISECT) &&
            m->query.batch_id == 0)
            return fail(err, WIRE_REJECT_MISSING, "query.batch_id: required for a %s query",
                        m->query.kind == WIRE_QUERY_TRY      ? "try"
                        : m->query.kind == WIRE_QUERY_BISECT ? "bisect (the bisection's id)"
                                                             : "batch");
        return check_uint(err, "query.batch_id", m->query.batch_id, 0, INT64_MAX);
    case WIRE_QUERY_REPLY:
        return check_str(err, "query_reply.json", m->query_reply.json, WIRE_MAX_JSON, true);
    default:
        return fail(err, WIRE_REJECT_NO_BODY, "envelope has no body");
    }
}

/* ---- encoding: wire structs -> protobuf-c tree (arena-owned) ---- */

static char *enc_str(const char *s)
{
    return (char *)(s ? s : "");
}

static char **enc_strv(struct arena *a, size_t n, const char *const *v)
{
    char **out = arena_calloc(a, n, sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = enc_str(v[i]);
    return out;
}

static Pyscope__Label **enc_labels(struct arena *a, size_t n, const struct wire_label *v)
{
    Pyscope__Label **out = arena_calloc(a, n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        Pyscope__Label *l = arena_calloc(a, 1, sizeof(*l));
        pyscope__label__init(l);
        l->key = enc_str(v[i].key);
        l->value = enc_str(v[i].value);
        out[i] = l;
    }
    return out;
}

static Pyscope__Host *enc_host(struct arena *a, const struct wire_host *h)
{
    Pyscope__Host *p = arena_calloc(a, 1, sizeof(*p));
    pyscope__host__init(p);
    p->fingerprint = enc_str(h->fingerprint);
    p->hostname = enc_str(h->hostname);
    p->cpu_model = enc_str(h->cpu_model);
    p->cores = h->cores;
    p->mem_bytes = h->mem_bytes;
    p->os = enc_str(h->os);
    p->kernel = enc_str(h->kernel);
    p->arch = enc_str(h->arch);
    p->governor = enc_str(h->governor);
    p->load1 = h->load1;
    p->n_labels = h->n_labels;
    p->labels = enc_labels(a, h->n_labels, h->labels);
    p->machine_id = enc_str(h->machine_id);
    return p;
}

static Pyscope__PythonBuild *enc_python(struct arena *a, const struct wire_python *py)
{
    Pyscope__PythonBuild *p = arena_calloc(a, 1, sizeof(*p));
    pyscope__python_build__init(p);
    p->version = enc_str(py->version);
    p->build = enc_str(py->build);
    p->executable = enc_str(py->executable);
    p->implementation = enc_str(py->implementation);
    p->abiflags = enc_str(py->abiflags);
    return p;
}

static Pyscope__Result *enc_result(struct arena *a, const struct wire_result *r)
{
    Pyscope__Result *p = arena_calloc(a, 1, sizeof(*p));
    pyscope__result__init(p);
    p->run_id.data = (uint8_t *)r->run_id;
    p->run_id.len = WIRE_RUN_ID_LEN;
    p->job_id = r->job_id;
    p->attempt = r->attempt;
    p->outcome = (Pyscope__Outcome)r->outcome;
    p->message = enc_str(r->message);
    p->script_key = enc_str(r->script_key);
    p->script_sha256 = enc_str(r->script_sha256);
    p->python = enc_python(a, &r->python);
    p->host = enc_host(a, &r->host);
    p->n_runs = r->n_runs;
    p->runs = arena_calloc(a, r->n_runs, sizeof(*p->runs));
    for (size_t i = 0; i < r->n_runs; i++) {
        Pyscope__Measurement *m = arena_calloc(a, 1, sizeof(*m));
        pyscope__measurement__init(m);
        m->wall_s = r->runs[i].wall_s;
        m->cpu_s = r->runs[i].cpu_s;
        m->peak_rss_bytes = r->runs[i].peak_rss_bytes;
        m->exit_code = r->runs[i].exit_code;
        m->signal = r->runs[i].signal;
        m->timed_out = r->runs[i].timed_out;
        m->instructions = r->runs[i].instructions;
        const struct wire_measurement *w = &r->runs[i];
        Pyscope__Contention *c = arena_calloc(a, 1, sizeof(*c));
        pyscope__contention__init(c);
        c->known = (w->has_run_delay ? PYSCOPE__CONTENTION_KNOWN__KNOWN_RUN_DELAY : 0) |
                   (w->has_ctx ? PYSCOPE__CONTENTION_KNOWN__KNOWN_CTX : 0) |
                   (w->has_steal ? PYSCOPE__CONTENTION_KNOWN__KNOWN_STEAL : 0) |
                   (w->has_cpu_pressure ? PYSCOPE__CONTENTION_KNOWN__KNOWN_CPU_PRESSURE : 0) |
                   (w->has_load1 ? PYSCOPE__CONTENTION_KNOWN__KNOWN_LOAD1 : 0) |
                   (w->has_cpu_mhz ? PYSCOPE__CONTENTION_KNOWN__KNOWN_CPU_MHZ : 0) |
                   (w->has_ref ? PYSCOPE__CONTENTION_KNOWN__KNOWN_REF_CPU : 0) |
                   (w->has_ref_script ? PYSCOPE__CONTENTION_KNOWN__KNOWN_REF_SCRIPT : 0);
        c->run_delay_s = w->run_delay_s;
        c->ctx_voluntary = w->ctx_voluntary;
        c->ctx_involuntary = w->ctx_involuntary;
        c->steal_s = w->steal_s;
        c->cpu_pressure_s = w->cpu_pressure_s;
        c->load1 = w->load1;
        c->cpu_mhz = w->cpu_mhz;
        c->ref_cpu_ns = w->ref_cpu_ns;
        c->ref_script_cpu_s = w->ref_script_cpu_s;
        c->ref_script_wall_s = w->ref_script_wall_s;
        m->contention = c->known ? c : NULL;
        p->runs[i] = m;
    }
    p->n_functions = r->n_functions;
    p->functions = arena_calloc(a, r->n_functions, sizeof(*p->functions));
    for (size_t i = 0; i < r->n_functions; i++) {
        const struct wire_function *f = &r->functions[i];
        Pyscope__Function *pf = arena_calloc(a, 1, sizeof(*pf));
        pyscope__function__init(pf);
        pf->key = enc_str(f->key);
        pf->calls = f->calls;
        pf->self_s = f->self_s;
        pf->total_s = f->total_s;
        pf->n_self_s_runs = f->n_self_s_runs;
        pf->self_s_runs = (double *)f->self_s_runs;
        pf->n_total_s_runs = f->n_total_s_runs;
        pf->total_s_runs = (double *)f->total_s_runs;
        pf->self_cpu_known = f->has_self_cpu_s;
        pf->self_cpu_s = f->has_self_cpu_s ? f->self_cpu_s : 0;
        p->functions[i] = pf;
    }
    p->n_stacks = r->n_stacks;
    p->stacks = arena_calloc(a, r->n_stacks, sizeof(*p->stacks));
    for (size_t i = 0; i < r->n_stacks; i++) {
        Pyscope__Stack *s = arena_calloc(a, 1, sizeof(*s));
        pyscope__stack__init(s);
        s->thread = enc_str(r->stacks[i].thread);
        s->n_frames = r->stacks[i].n_frames;
        s->frames = (uint32_t *)r->stacks[i].frames;
        s->samples = r->stacks[i].samples;
        p->stacks[i] = s;
    }
    p->started_at = enc_str(r->started_at);
    p->child_processes = r->child_processes;
    p->python_threads = r->python_threads;
    p->samples = r->samples;
    return p;
}

static Pyscope__SuiteEntry *enc_entry(struct arena *a, const struct wire_suite_entry *e)
{
    Pyscope__SuiteEntry *pe = arena_calloc(a, 1, sizeof(*pe));
    pyscope__suite_entry__init(pe);
    pe->script = enc_str(e->script);
    pe->n_args = e->n_args;
    pe->args = enc_strv(a, e->n_args, e->args);
    pe->repeat = e->repeat;
    pe->warmup = e->warmup;
    pe->mode = (Pyscope__Mode)e->mode;
    pe->timeout_s = e->timeout_s;
    pe->threshold = e->threshold;
    pe->n_env = e->n_env;
    pe->env = enc_strv(a, e->n_env, e->env);
    pe->python = enc_str(e->python);
    pe->instructions = e->instructions;
    pe->interval_us = e->interval_us;
    return pe;
}

static Pyscope__Submit *enc_submit(struct arena *a, const struct wire_submit *s)
{
    Pyscope__Submit *p = arena_calloc(a, 1, sizeof(*p));
    pyscope__submit__init(p);
    p->suite = enc_str(s->suite);
    p->label = enc_str(s->label);
    p->commit = enc_str(s->commit);
    p->try_base = enc_str(s->try_base);
    p->try_rounds = s->try_rounds;
    p->bisect = s->bisect;
    p->bisect_metric = enc_str(s->bisect_metric);
    p->bisect_budget_s = s->bisect_budget_s;
    p->instructions = s->instructions;
    p->n_entries = s->n_entries;
    p->entries = arena_calloc(a, s->n_entries, sizeof(*p->entries));
    for (size_t i = 0; i < s->n_entries; i++)
        p->entries[i] = enc_entry(a, &s->entries[i]);
    if (s->reference)
        p->reference = enc_entry(a, s->reference);
    Pyscope__HostSelector *h = arena_calloc(a, 1, sizeof(*h));
    pyscope__host_selector__init(h);
    h->all = s->hosts.all;
    h->n_names = s->hosts.n_names;
    h->names = enc_strv(a, s->hosts.n_names, s->hosts.names);
    h->n_labels = s->hosts.n_labels;
    h->labels = enc_labels(a, s->hosts.n_labels, s->hosts.labels);
    p->hosts = h;
    p->n_commits = s->n_commits;
    p->commits = arena_calloc(a, s->n_commits ? s->n_commits : 1, sizeof(*p->commits));
    for (size_t i = 0; i < s->n_commits; i++) {
        const struct wire_commit *c = &s->commits[i];
        Pyscope__Commit *pc = arena_calloc(a, 1, sizeof(*pc));
        pyscope__commit__init(pc);
        pc->hash = enc_str(c->hash);
        pc->n_parents = c->n_parents;
        pc->parents = enc_strv(a, c->n_parents, c->parents);
        pc->generation = c->generation;
        pc->subject = enc_str(c->subject);
        pc->author = enc_str(c->author);
        pc->time = c->time;
        p->commits[i] = pc;
    }
    return p;
}

/*
 * Fill env's body from m; everything allocated lives in a. Returns 0 or -EINVAL.
 * Longer than 100 lines, kept whole: one case per message type, each a few assignments,
 * so that the whole map from wire_msg to the protobuf-c message reads in one place.
 */
static int enc_body(struct arena *a, const struct wire_msg *m, Pyscope__Envelope *env)
{
    switch (m->type) {
    case WIRE_HELLO: {
        Pyscope__Hello *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__hello__init(p);
        p->name = enc_str(m->hello.name);
        p->host = enc_host(a, &m->hello.host);
        p->python = enc_python(a, &m->hello.python);
        p->agent_version = enc_str(m->hello.agent_version);
        p->max_jobs = m->hello.max_jobs;
        p->n_pythons = m->hello.n_pythons;
        p->pythons = arena_calloc(a, m->hello.n_pythons, sizeof(*p->pythons));
        for (size_t i = 0; i < m->hello.n_pythons; i++)
            p->pythons[i] = enc_python(a, &m->hello.pythons[i]);
        env->hello = p;
        break;
    }
    case WIRE_WELCOME: {
        Pyscope__Welcome *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__welcome__init(p);
        p->agent_id = enc_str(m->welcome.agent_id);
        p->heartbeat_ms = m->welcome.heartbeat_ms;
        p->lease_ms = m->welcome.lease_ms;
        env->welcome = p;
        break;
    }
    case WIRE_HEARTBEAT: {
        Pyscope__Heartbeat *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__heartbeat__init(p);
        p->n_running = m->heartbeat.n_running;
        p->running = arena_calloc(a, p->n_running, sizeof(*p->running));
        for (size_t i = 0; i < p->n_running; i++) {
            Pyscope__JobRef *r = arena_calloc(a, 1, sizeof(*r));
            pyscope__job_ref__init(r);
            r->job_id = m->heartbeat.running[i].job_id;
            r->attempt = m->heartbeat.running[i].attempt;
            p->running[i] = r;
        }
        p->spooled = m->heartbeat.spooled;
        env->heartbeat = p;
        break;
    }
    case WIRE_READY: {
        Pyscope__Ready *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__ready__init(p);
        p->credit = m->ready.credit;
        env->ready = p;
        break;
    }
    case WIRE_JOB: {
        const struct wire_job *j = &m->job;
        Pyscope__Job *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__job__init(p);
        p->job_id = j->job_id;
        p->attempt = j->attempt;
        p->batch_id = j->batch_id;
        p->script = enc_str(j->script);
        p->n_args = j->n_args;
        p->args = enc_strv(a, j->n_args, j->args);
        p->repeat = j->repeat;
        p->warmup = j->warmup;
        p->mode = (Pyscope__Mode)j->mode;
        p->timeout_s = j->timeout_s;
        p->memory_limit_bytes = j->memory_limit_bytes;
        p->n_env = j->n_env;
        p->env = enc_strv(a, j->n_env, j->env);
        p->commit = enc_str(j->commit);
        p->python = enc_str(j->python);
        p->instructions = j->instructions;
        p->reference = enc_str(j->reference);
        p->interval_us = j->interval_us;
        env->job = p;
        break;
    }
    case WIRE_RESULT:
        env->result = enc_result(a, &m->result);
        break;
    case WIRE_ACK: {
        Pyscope__Ack *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__ack__init(p);
        p->run_id.data = (uint8_t *)m->ack.run_id;
        p->run_id.len = WIRE_RUN_ID_LEN;
        env->ack = p;
        break;
    }
    case WIRE_ERROR: {
        Pyscope__Error *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__error__init(p);
        p->code = (Pyscope__ErrorCode)m->error.code;
        p->message = enc_str(m->error.message);
        env->error = p;
        break;
    }
    case WIRE_SUBMIT:
        env->submit = enc_submit(a, &m->submit);
        break;
    case WIRE_SUBMIT_REPLY: {
        Pyscope__SubmitReply *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__submit_reply__init(p);
        p->batch_id = m->submit_reply.batch_id;
        p->jobs = m->submit_reply.jobs;
        p->bisection_id = m->submit_reply.bisection_id;
        env->submit_reply = p;
        break;
    }
    case WIRE_QUERY: {
        Pyscope__Query *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__query__init(p);
        p->kind = (Pyscope__Query__Kind)m->query.kind;
        p->batch_id = m->query.batch_id;
        p->limit = m->query.limit;
        p->since_s = m->query.since_s;
        p->regression_id = m->query.regression_id;
        p->state = enc_str(m->query.state);
        p->note = enc_str(m->query.note);
        p->script = enc_str(m->query.script);
        p->host = enc_str(m->query.host);
        p->python_build = enc_str(m->query.python_build);
        p->n_hosts = m->query.n_hosts;
        p->hosts = enc_strv(a, m->query.n_hosts, m->query.hosts);
        p->metric = enc_str(m->query.metric);
        p->n_pythons = m->query.n_pythons;
        p->pythons = enc_strv(a, m->query.n_pythons, m->query.pythons);
        p->baseline = enc_str(m->query.baseline);
        env->query = p;
        break;
    }
    case WIRE_QUERY_REPLY: {
        Pyscope__QueryReply *p = arena_calloc(a, 1, sizeof(*p));
        pyscope__query_reply__init(p);
        p->json = enc_str(m->query_reply.json);
        env->query_reply = p;
        break;
    }
    default:
        return -EINVAL;
    }
    env->body_case = (Pyscope__Envelope__BodyCase)m->type;
    return 0;
}

int wire_encode(const struct wire_msg *m, uint8_t **out, size_t *len)
{
    struct arena a = {0};
    Pyscope__Envelope env = PYSCOPE__ENVELOPE__INIT;
    env.version = (Pyscope__Version)m->version;
    env.seq = m->seq;
    env.reply_to = m->reply_to;
    int rc = enc_body(&a, m, &env);
    if (rc < 0)
        goto done;
    size_t n = pyscope__envelope__get_packed_size(&env);
    if (n > WIRE_MAX_MSG_BYTES) {
        rc = -PYSCOPE_ETOOBIG;
        goto done;
    }
    uint8_t *buf = xmalloc(n ? n : 1);
    pyscope__envelope__pack(&env, buf);
    *out = buf;
    *len = n;
done:
    arena_release(&a);
    return rc;
}

int wire_encode_error(uint64_t reply_to, enum wire_error_code code, const char *message,
                      uint8_t **out, size_t *len)
{
    struct wire_msg m;
    wire_msg_init(&m, WIRE_ERROR);
    m.reply_to = reply_to;
    m.error.code = code;
    m.error.message = message;
    return wire_encode(&m, out, len);
}

/* ---- decoding: protobuf-c tree -> wire structs (borrowing strings) ---- */

static const char *const *dec_strv(char **v)
{
    return (const char *const *)v;
}

static struct wire_label *dec_labels(struct arena *a, size_t n, Pyscope__Label **v)
{
    struct wire_label *out = arena_calloc(a, n, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i].key = v[i]->key;
        out[i].value = v[i]->value;
    }
    return out;
}

static void dec_host(struct arena *a, const Pyscope__Host *p, struct wire_host *h)
{
    static const Pyscope__Host empty = PYSCOPE__HOST__INIT;
    if (p == NULL)
        p = &empty;
    h->fingerprint = p->fingerprint;
    h->hostname = p->hostname;
    h->cpu_model = p->cpu_model;
    h->cores = p->cores;
    h->mem_bytes = p->mem_bytes;
    h->os = p->os;
    h->kernel = p->kernel;
    h->arch = p->arch;
    h->governor = p->governor;
    h->load1 = p->load1;
    h->n_labels = p->n_labels;
    h->labels = dec_labels(a, p->n_labels, p->labels);
    h->machine_id = p->machine_id;
}

static void dec_python(const Pyscope__PythonBuild *p, struct wire_python *py)
{
    static const Pyscope__PythonBuild empty = PYSCOPE__PYTHON_BUILD__INIT;
    if (p == NULL)
        p = &empty;
    py->version = p->version;
    py->build = p->build;
    py->executable = p->executable;
    py->implementation = p->implementation;
    py->abiflags = p->abiflags;
}

/* Copy a bytes field into a fixed run id; fails unless exactly 16 bytes. */
static int dec_run_id(struct wire_error *err, const char *field, ProtobufCBinaryData b, uint8_t *id)
{
    if (b.len != WIRE_RUN_ID_LEN)
        return fail(err, WIRE_REJECT_LENGTH, "%s: %zu bytes, want 16", field, b.len);
    memcpy(id, b.data, WIRE_RUN_ID_LEN);
    return 0;
}

static int dec_result(struct arena *a, const Pyscope__Result *p, struct wire_result *r,
                      struct wire_error *err)
{
    TRY(dec_run_id(err, "result.run_id", p->run_id, r->run_id));
    r->job_id = p->job_id;
    r->attempt = p->attempt;
    r->outcome = (enum wire_outcome)p->outcome;
    r->message = p->message;
    r->script_key = p->script_key;
    r->script_sha256 = p->script_sha256;
    dec_python(p->python, &r->python);
    dec_host(a, p->host, &r->host);
    TRY(check_count(err, "result.runs", p->n_runs, WIRE_MAX_RUNS));
    TRY(check_count(err, "result.functions", p->n_functions, WIRE_MAX_FUNCTIONS));
    TRY(check_count(err, "result.stacks", p->n_stacks, WIRE_MAX_STACKS));
    struct wire_measurement *runs = arena_calloc(a, p->n_runs, sizeof(*runs));
    for (size_t i = 0; i < p->n_runs; i++) {
        runs[i].wall_s = p->runs[i]->wall_s;
        runs[i].cpu_s = p->runs[i]->cpu_s;
        runs[i].peak_rss_bytes = p->runs[i]->peak_rss_bytes;
        runs[i].exit_code = p->runs[i]->exit_code;
        runs[i].signal = p->runs[i]->signal;
        runs[i].timed_out = p->runs[i]->timed_out;
        runs[i].instructions = p->runs[i]->instructions;
        const Pyscope__Contention *c = p->runs[i]->contention;
        uint32_t k = c ? c->known : 0;
        struct wire_measurement *w = &runs[i];
        w->has_run_delay = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_RUN_DELAY;
        w->has_ctx = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_CTX;
        w->has_steal = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_STEAL;
        w->has_cpu_pressure = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_CPU_PRESSURE;
        w->has_load1 = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_LOAD1;
        w->has_cpu_mhz = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_CPU_MHZ;
        w->has_ref = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_REF_CPU;
        w->has_ref_script = k & PYSCOPE__CONTENTION_KNOWN__KNOWN_REF_SCRIPT;
        if (c) {
            w->run_delay_s = c->run_delay_s;
            w->ctx_voluntary = c->ctx_voluntary;
            w->ctx_involuntary = c->ctx_involuntary;
            w->steal_s = c->steal_s;
            w->cpu_pressure_s = c->cpu_pressure_s;
            w->load1 = c->load1;
            w->cpu_mhz = c->cpu_mhz;
            w->ref_cpu_ns = c->ref_cpu_ns;
            w->ref_script_cpu_s = c->ref_script_cpu_s;
            w->ref_script_wall_s = c->ref_script_wall_s;
        }
    }
    r->n_runs = p->n_runs;
    r->runs = runs;
    struct wire_function *fns = arena_calloc(a, p->n_functions, sizeof(*fns));
    for (size_t i = 0; i < p->n_functions; i++) {
        const Pyscope__Function *pf = p->functions[i];
        fns[i].key = pf->key;
        fns[i].calls = pf->calls;
        fns[i].self_s = pf->self_s;
        fns[i].total_s = pf->total_s;
        fns[i].n_self_s_runs = pf->n_self_s_runs;
        fns[i].self_s_runs = pf->self_s_runs;
        fns[i].n_total_s_runs = pf->n_total_s_runs;
        fns[i].total_s_runs = pf->total_s_runs;
        fns[i].has_self_cpu_s = pf->self_cpu_known;
        fns[i].self_cpu_s = pf->self_cpu_s;
    }
    r->n_functions = p->n_functions;
    r->functions = fns;
    struct wire_stack *sts = arena_calloc(a, p->n_stacks, sizeof(*sts));
    for (size_t i = 0; i < p->n_stacks; i++) {
        sts[i].thread = p->stacks[i]->thread;
        sts[i].n_frames = p->stacks[i]->n_frames;
        sts[i].frames = p->stacks[i]->frames;
        sts[i].samples = p->stacks[i]->samples;
    }
    r->n_stacks = p->n_stacks;
    r->stacks = sts;
    r->started_at = p->started_at;
    r->child_processes = p->child_processes;
    r->python_threads = p->python_threads;
    r->samples = p->samples;
    return 0;
}

static void dec_entry(const Pyscope__SuiteEntry *pe, struct wire_suite_entry *e)
{
    e->script = pe->script;
    e->n_args = pe->n_args;
    e->args = dec_strv(pe->args);
    e->repeat = pe->repeat;
    e->warmup = pe->warmup;
    e->mode = (enum wire_mode)pe->mode;
    e->timeout_s = pe->timeout_s;
    e->threshold = pe->threshold;
    e->n_env = pe->n_env;
    e->env = dec_strv(pe->env);
    e->python = pe->python;
    e->instructions = pe->instructions;
    e->interval_us = pe->interval_us;
}

static int dec_submit(struct arena *a, const Pyscope__Submit *p, struct wire_submit *s,
                      struct wire_error *err)
{
    s->suite = p->suite;
    s->label = p->label;
    s->commit = p->commit;
    s->try_base = p->try_base;
    s->try_rounds = p->try_rounds;
    s->bisect = p->bisect;
    s->bisect_metric = p->bisect_metric;
    s->bisect_budget_s = p->bisect_budget_s;
    s->instructions = p->instructions;
    TRY(check_count(err, "submit.entries", p->n_entries, WIRE_MAX_ENTRIES));
    struct wire_suite_entry *es = arena_calloc(a, p->n_entries, sizeof(*es));
    for (size_t i = 0; i < p->n_entries; i++)
        dec_entry(p->entries[i], &es[i]);
    if (p->reference) {
        struct wire_suite_entry *r = arena_calloc(a, 1, sizeof(*r));
        dec_entry(p->reference, r);
        s->reference = r;
    }
    s->n_entries = p->n_entries;
    s->entries = es;
    if (p->hosts) {
        s->hosts.all = p->hosts->all;
        s->hosts.n_names = p->hosts->n_names;
        s->hosts.names = dec_strv(p->hosts->names);
        TRY(check_count(err, "submit.hosts.labels", p->hosts->n_labels, WIRE_MAX_LABELS));
        s->hosts.n_labels = p->hosts->n_labels;
        s->hosts.labels = dec_labels(a, p->hosts->n_labels, p->hosts->labels);
    }
    TRY(check_count(err, "submit.commits", p->n_commits, WIRE_MAX_COMMITS));
    struct wire_commit *cs = arena_calloc(a, p->n_commits ? p->n_commits : 1, sizeof(*cs));
    for (size_t i = 0; i < p->n_commits; i++) {
        const Pyscope__Commit *pc = p->commits[i];
        char f[64];
        snprintf(f, sizeof(f), "submit.commits[%zu].parents", i);
        TRY(check_count(err, f, pc->n_parents, WIRE_MAX_PARENTS));
        cs[i].hash = pc->hash;
        cs[i].n_parents = pc->n_parents;
        cs[i].parents = dec_strv(pc->parents);
        cs[i].generation = pc->generation;
        cs[i].subject = pc->subject;
        cs[i].author = pc->author;
        cs[i].time = pc->time;
    }
    s->n_commits = p->n_commits;
    s->commits = cs;
    return 0;
}

/*
 * Fill m from env's body; everything allocated lives in a. Returns 0, or -PYSCOPE_ESCHEMA
 * with the reason in err. Longer than 100 lines, kept whole: one case per message type, each a few
 * assignments, so that the whole map from the protobuf-c message to wire_msg reads in one
 * place (as enc_body).
 */
static int dec_body(struct arena *a, const Pyscope__Envelope *env, struct wire_msg *m,
                    struct wire_error *err)
{
    switch (env->body_case) {
    case PYSCOPE__ENVELOPE__BODY_HELLO: {
        m->hello.name = env->hello->name;
        TRY(check_count(err, "hello.host.labels", env->hello->host ? env->hello->host->n_labels : 0,
                        WIRE_MAX_LABELS));
        dec_host(a, env->hello->host, &m->hello.host);
        dec_python(env->hello->python, &m->hello.python);
        m->hello.agent_version = env->hello->agent_version;
        m->hello.max_jobs = env->hello->max_jobs;
        TRY(check_count(err, "hello.pythons", env->hello->n_pythons, WIRE_MAX_PYTHONS));
        struct wire_python *pys = arena_calloc(a, env->hello->n_pythons, sizeof(*pys));
        for (size_t i = 0; i < env->hello->n_pythons; i++)
            dec_python(env->hello->pythons[i], &pys[i]);
        m->hello.n_pythons = env->hello->n_pythons;
        m->hello.pythons = pys;
        break;
    }
    case PYSCOPE__ENVELOPE__BODY_WELCOME:
        m->welcome.agent_id = env->welcome->agent_id;
        m->welcome.heartbeat_ms = env->welcome->heartbeat_ms;
        m->welcome.lease_ms = env->welcome->lease_ms;
        break;
    case PYSCOPE__ENVELOPE__BODY_HEARTBEAT: {
        const Pyscope__Heartbeat *p = env->heartbeat;
        TRY(check_count(err, "heartbeat.running", p->n_running, WIRE_MAX_JOBS));
        struct wire_job_ref *refs = arena_calloc(a, p->n_running, sizeof(*refs));
        for (size_t i = 0; i < p->n_running; i++) {
            refs[i].job_id = p->running[i]->job_id;
            refs[i].attempt = p->running[i]->attempt;
        }
        m->heartbeat.n_running = p->n_running;
        m->heartbeat.running = refs;
        m->heartbeat.spooled = p->spooled;
        break;
    }
    case PYSCOPE__ENVELOPE__BODY_READY:
        m->ready.credit = env->ready->credit;
        break;
    case PYSCOPE__ENVELOPE__BODY_JOB: {
        const Pyscope__Job *p = env->job;
        m->job.job_id = p->job_id;
        m->job.attempt = p->attempt;
        m->job.batch_id = p->batch_id;
        m->job.script = p->script;
        m->job.n_args = p->n_args;
        m->job.args = dec_strv(p->args);
        m->job.repeat = p->repeat;
        m->job.warmup = p->warmup;
        m->job.mode = (enum wire_mode)p->mode;
        m->job.timeout_s = p->timeout_s;
        m->job.memory_limit_bytes = p->memory_limit_bytes;
        m->job.n_env = p->n_env;
        m->job.env = dec_strv(p->env);
        m->job.commit = p->commit;
        m->job.python = p->python;
        m->job.instructions = p->instructions;
        m->job.reference = p->reference;
        m->job.interval_us = p->interval_us;
        break;
    }
    case PYSCOPE__ENVELOPE__BODY_RESULT:
        TRY(dec_result(a, env->result, &m->result, err));
        break;
    case PYSCOPE__ENVELOPE__BODY_ACK:
        TRY(dec_run_id(err, "ack.run_id", env->ack->run_id, m->ack.run_id));
        break;
    case PYSCOPE__ENVELOPE__BODY_ERROR:
        m->error.code = (enum wire_error_code)env->error->code;
        m->error.message = env->error->message;
        break;
    case PYSCOPE__ENVELOPE__BODY_SUBMIT:
        TRY(dec_submit(a, env->submit, &m->submit, err));
        break;
    case PYSCOPE__ENVELOPE__BODY_SUBMIT_REPLY:
        m->submit_reply.batch_id = env->submit_reply->batch_id;
        m->submit_reply.jobs = env->submit_reply->jobs;
        m->submit_reply.bisection_id = env->submit_reply->bisection_id;
        break;
    case PYSCOPE__ENVELOPE__BODY_QUERY:
        m->query.kind = (enum wire_query_kind)env->query->kind;
        m->query.batch_id = env->query->batch_id;
        m->query.limit = env->query->limit;
        m->query.since_s = env->query->since_s;
        m->query.regression_id = env->query->regression_id;
        m->query.state = env->query->state;
        m->query.note = env->query->note;
        m->query.script = env->query->script;
        m->query.host = env->query->host;
        m->query.python_build = env->query->python_build;
        m->query.n_hosts = env->query->n_hosts;
        m->query.hosts = dec_strv(env->query->hosts);
        m->query.metric = env->query->metric;
        m->query.n_pythons = env->query->n_pythons;
        m->query.pythons = dec_strv(env->query->pythons);
        m->query.baseline = env->query->baseline;
        break;
    case PYSCOPE__ENVELOPE__BODY_QUERY_REPLY:
        m->query_reply.json = env->query_reply->json;
        break;
    default:
        return fail(err, WIRE_REJECT_NO_BODY, "envelope has no body");
    }
    m->type = (enum wire_type)env->body_case;
    return 0;
}

/* Read a varint at *p (before end) into *v; false when it runs off the end or past 10 bytes. */
static bool scan_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 70; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/*
 * The name of a string field of buf (len bytes, a message of descriptor d)
 * or of its sub-messages that holds a NUL byte, or NULL when none does.
 * protobuf-c hands strings over NUL-terminated: a NUL inside one would cut
 * it short (a submitted "a.py\0../x" would become "a.py") instead of being
 * refused. Called after a successful unpack, so the encoding is sound; a
 * malformed part just ends the scan.
 */
static const char *scan_nul(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                            int depth)
{
    const uint8_t *p = buf, *end = buf + len;
    while (p < end && depth < 16) {
        uint64_t key, n;
        if (!scan_varint(&p, end, &key))
            return NULL;
        switch (key & 7) {
        case 0:
            if (!scan_varint(&p, end, &n))
                return NULL;
            break;
        case 1:
            p = (size_t)(end - p) < 8 ? end : p + 8;
            break;
        case 5:
            p = (size_t)(end - p) < 4 ? end : p + 4;
            break;
        case 2: {
            if (!scan_varint(&p, end, &n) || n > (uint64_t)(end - p))
                return NULL;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, '\0', n))
                return f->name;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const char *bad = scan_nul(f->descriptor, p, n, depth + 1);
                if (bad)
                    return bad;
            }
            p += n;
            break;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

struct wire_msg *wire_decode(const void *buf, size_t len, struct wire_error *err)
{
    if (len > WIRE_MAX_MSG_BYTES) {
        fail(err, WIRE_REJECT_TOO_BIG, "message of %zu bytes exceeds %u", len, WIRE_MAX_MSG_BYTES);
        return NULL;
    }
    struct wire_priv *priv = xcalloc(1, sizeof(*priv));
    priv->budget.cap = WIRE_UNPACK_CAP;
    priv->allocator.alloc = capped_alloc_fn;
    priv->allocator.free = capped_free_fn;
    priv->allocator.allocator_data = &priv->budget;
    priv->env = pyscope__envelope__unpack(&priv->allocator, len, buf);
    if (priv->env == NULL) {
        if (priv->budget.exceeded)
            fail(err, WIRE_REJECT_TOO_BIG, "message expands beyond %u bytes", WIRE_UNPACK_CAP);
        else
            fail(err, WIRE_REJECT_UNDECODABLE, "not a valid protobuf envelope");
        free(priv);
        return NULL;
    }
    struct wire_msg *m = xcalloc(1, sizeof(*m));
    m->priv = priv;
    const char *nul_field = scan_nul(&pyscope__envelope__descriptor, buf, len, 0);
    if (nul_field) {
        fail(err, WIRE_REJECT_FORMAT, "%s: holds a NUL byte; strings may not contain NUL",
             nul_field);
        goto fail;
    }
    m->version = (uint32_t)priv->env->version;
    m->seq = priv->env->seq;
    m->reply_to = priv->env->reply_to;
    if (m->version != WIRE_VERSION) {
        fail(err, WIRE_REJECT_VERSION, "unknown protocol version %u", m->version);
        goto fail;
    }
    if (dec_body(&priv->arena, priv->env, m, err) < 0)
        goto fail;
    if (wire_validate(m, err) < 0)
        goto fail;
    return m;
fail:
    wire_msg_destroy(&m);
    return NULL;
}

void wire_msg_destroy(struct wire_msg **mp)
{
    if (mp == NULL || *mp == NULL)
        return;
    struct wire_priv *priv = (*mp)->priv;
    if (priv) {
        if (priv->env)
            pyscope__envelope__free_unpacked(priv->env, &priv->allocator);
        arena_release(&priv->arena);
        free(priv);
    }
    free(*mp);
    *mp = NULL;
}
