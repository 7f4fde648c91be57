/* test_wire.c - lib/wire: round trips, every validation failure, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "wire.h"

static const uint8_t RUN_ID[16] = {0x0b, 0x5c, 0x0f, 0x8e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const char SHA[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* Encode m, decode it; the decoded message must exist (caller destroys). */
static struct wire_msg *roundtrip(const struct wire_msg *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_encode(m, &buf, &len), 0);
    struct wire_error err = {0};
    struct wire_msg *d = wire_decode(buf, len, &err);
    if (d == NULL)
        fail_msg("decode failed: %s (%s)", err.msg, wire_reject_name(err.reason));
    free(buf);
    return d;
}

/* Encode m, decode it; it must be refused with reason and a message containing what. */
static void expect_reject(const struct wire_msg *m, enum wire_reject reason, const char *what)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(wire_encode(m, &buf, &len), 0);
    struct wire_error err = {0};
    struct wire_msg *d = wire_decode(buf, len, &err);
    free(buf);
    if (d != NULL) {
        wire_msg_destroy(&d);
        fail_msg("decoded, wanted a %s refusal about %s", wire_reject_name(reason), what);
    }
    if (err.reason != reason || strstr(err.msg, what) == NULL)
        fail_msg("want %s /%s/, got %s: %s", wire_reject_name(reason), what,
                 wire_reject_name(err.reason), err.msg);
    /* wire_validate() on the caller's struct agrees (run_id length is decode-only). */
    struct wire_error verr = {0};
    if (reason != WIRE_REJECT_UNDECODABLE)
        assert_true(wire_validate(m, &verr) < 0);
}

static const struct wire_label LABELS[] = {{"gpu", "none"}, {"rack.id", "r7"}};

static struct wire_host host_fixture(void)
{
    struct wire_host h = {.fingerprint = "00112233aabbccdd",
                          .hostname = "build-7",
                          .cpu_model = "Xeon \xc3\xa9",
                          .cores = 8,
                          .mem_bytes = 1ull << 35,
                          .os = "Debian GNU/Linux 12",
                          .kernel = "6.1.0",
                          .arch = "x86_64",
                          .governor = "performance",
                          .load1 = 0.25,
                          .n_labels = 2,
                          .labels = LABELS};
    return h;
}

static struct wire_python python_fixture(void)
{
    struct wire_python p = {"3.11.2", "3.11.2 (main) [GCC 12.2.0]", "/usr/bin/python3.11"};
    return p;
}

static void hello_fixture(struct wire_msg *m)
{
    wire_msg_init(m, WIRE_HELLO);
    m->seq = 7;
    m->hello.name = "agent-a";
    m->hello.host = host_fixture();
    m->hello.python = python_fixture();
    m->hello.agent_version = "0.1.0";
    m->hello.max_jobs = 4;
}

/* the first repeat with its contention (agent/runner/contention.h), the second without */
static const struct wire_measurement RUNS[] = {{.wall_s = 1.5,
                                                .cpu_s = 1.25,
                                                .peak_rss_bytes = 1000000,
                                                .has_run_delay = true,
                                                .has_ctx = true,
                                                .has_steal = true,
                                                .has_cpu_pressure = true,
                                                .has_load1 = true,
                                                .has_cpu_mhz = true,
                                                .has_ref = true,
                                                .run_delay_s = 0.25,
                                                .ctx_voluntary = 12,
                                                .ctx_involuntary = 340,
                                                .steal_s = 0.01,
                                                .cpu_pressure_s = 1.4,
                                                .load1 = 3.5,
                                                .cpu_mhz = 2096.008,
                                                .ref_cpu_ns = 312345.5},
                                               {1.6, 1.3, 1000100, 0, 0, false}};
static const double SELF_RUNS[] = {0.5, 0.6};
static const double TOTAL_RUNS[] = {1.0, 1.1};
static const struct wire_function FUNCS[] = {
    {"a.py:main:1", 0, 0.1, 1.5, 0, NULL, 0, NULL, true, 0.08},
    {"a.py:work:10", 3, 0.55, 1.05, 2, SELF_RUNS, 2, TOTAL_RUNS},
};
static const uint32_t FRAMES[] = {0, 1};
static const struct wire_stack STACKS[] = {{"MainThread", 2, FRAMES, 42}};

static void result_fixture(struct wire_msg *m)
{
    wire_msg_init(m, WIRE_RESULT);
    struct wire_result *r = &m->result;
    memcpy(r->run_id, RUN_ID, 16);
    r->job_id = 12;
    r->attempt = 2;
    r->outcome = WIRE_OUTCOME_OK;
    r->message = "ok";
    r->script_key = "examples/slow_script.py";
    r->script_sha256 = SHA;
    r->python = python_fixture();
    r->host = host_fixture();
    r->n_runs = 2;
    r->runs = RUNS;
    r->n_functions = 2;
    r->functions = FUNCS;
    r->n_stacks = 1;
    r->stacks = STACKS;
    r->started_at = "2026-11-24T08:23:14.567350Z";
}

static const char *const ARGS[] = {"--n", "10"};
static const struct wire_suite_entry ENTRIES[] = {
    {"examples/a.py", 2, ARGS, 5, 1, WIRE_MODE_SAMPLE, 60, 0.05},
    {"examples/b.py", 0, NULL, 0, 0, WIRE_MODE_UNSPECIFIED, 0, 0},
};

static void submit_fixture(struct wire_msg *m)
{
    wire_msg_init(m, WIRE_SUBMIT);
    m->submit.suite = "nightly";
    m->submit.n_entries = 2;
    m->submit.entries = ENTRIES;
    m->submit.hosts.all = true;
    m->submit.label = "nightly 2026-11-24";
    m->submit.commit = "abc123";
}

static void job_fixture(struct wire_msg *m)
{
    wire_msg_init(m, WIRE_JOB);
    m->job.job_id = 5;
    m->job.attempt = 1;
    m->job.batch_id = 3;
    m->job.script = "examples/a.py";
    m->job.n_args = 2;
    m->job.args = ARGS;
    m->job.repeat = 5;
    m->job.warmup = 1;
    m->job.mode = WIRE_MODE_TRACE;
    m->job.timeout_s = 30;
    m->job.memory_limit_bytes = 1 << 30;
}

static void test_roundtrip_hello(void **state)
{
    (void)state;
    struct wire_msg m;
    hello_fixture(&m);
    struct wire_msg *d = roundtrip(&m);
    assert_int_equal(d->type, WIRE_HELLO);
    assert_int_equal(d->version, WIRE_VERSION);
    assert_int_equal(d->seq, 7);
    assert_string_equal(d->hello.name, "agent-a");
    assert_string_equal(d->hello.host.fingerprint, "00112233aabbccdd");
    assert_string_equal(d->hello.host.cpu_model, "Xeon \xc3\xa9");
    assert_int_equal(d->hello.host.cores, 8);
    assert_int_equal(d->hello.host.mem_bytes, 1ull << 35);
    assert_true(d->hello.host.load1 == 0.25);
    assert_int_equal(d->hello.host.n_labels, 2);
    assert_string_equal(d->hello.host.labels[1].key, "rack.id");
    assert_string_equal(d->hello.host.labels[1].value, "r7");
    assert_string_equal(d->hello.host.machine_id, "");
    assert_string_equal(d->hello.python.version, "3.11.2");
    assert_int_equal(d->hello.max_jobs, 4);
    assert_null(d->priv == NULL ? d->priv : NULL);
    wire_msg_destroy(&d);
    assert_null(d);
    wire_msg_destroy(&d); /* NULL-safe */
}

static void test_roundtrip_result(void **state)
{
    (void)state;
    struct wire_msg m;
    result_fixture(&m);
    struct wire_msg *d = roundtrip(&m);
    const struct wire_result *r = &d->result;
    assert_int_equal(d->type, WIRE_RESULT);
    assert_memory_equal(r->run_id, RUN_ID, 16);
    assert_int_equal(r->job_id, 12);
    assert_int_equal(r->attempt, 2);
    assert_int_equal(r->outcome, WIRE_OUTCOME_OK);
    assert_string_equal(r->script_key, "examples/slow_script.py");
    assert_string_equal(r->script_sha256, SHA);
    assert_int_equal(r->n_runs, 2);
    assert_true(r->runs[1].wall_s == 1.6);
    assert_int_equal(r->runs[1].peak_rss_bytes, 1000100);
    assert_int_equal(r->n_functions, 2);
    assert_string_equal(r->functions[1].key, "a.py:work:10");
    assert_int_equal(r->functions[1].calls, 3);
    assert_int_equal(r->functions[1].n_self_s_runs, 2);
    assert_true(r->functions[1].total_s_runs[1] == 1.1);
    /* contention: known fields come back, unknown ones stay unknown (never a 0) */
    const struct wire_measurement *c = &r->runs[0];
    assert_true(c->has_run_delay && c->run_delay_s == 0.25);
    assert_true(c->has_ctx && c->ctx_voluntary == 12 && c->ctx_involuntary == 340);
    assert_true(c->has_steal && c->steal_s == 0.01);
    assert_true(c->has_cpu_pressure && c->cpu_pressure_s == 1.4);
    assert_true(c->has_load1 && c->load1 == 3.5);
    assert_true(c->has_cpu_mhz && c->cpu_mhz == 2096.008);
    assert_true(c->has_ref && c->ref_cpu_ns == 312345.5);
    c = &r->runs[1];
    assert_false(c->has_run_delay || c->has_ctx || c->has_steal || c->has_cpu_pressure ||
                 c->has_load1 || c->has_cpu_mhz || c->has_ref);
    assert_true(r->functions[0].has_self_cpu_s && r->functions[0].self_cpu_s == 0.08);
    assert_false(r->functions[1].has_self_cpu_s);
    assert_int_equal(r->n_stacks, 1);
    assert_int_equal(r->stacks[0].n_frames, 2);
    assert_int_equal(r->stacks[0].frames[1], 1);
    assert_true(r->stacks[0].samples == 42);
    assert_string_equal(r->started_at, "2026-11-24T08:23:14.567350Z");
    assert_string_equal(r->host.hostname, "build-7");
    wire_msg_destroy(&d);
}

static void test_roundtrip_small_messages(void **state)
{
    (void)state;
    struct wire_msg m, *d;

    job_fixture(&m);
    d = roundtrip(&m);
    assert_int_equal(d->job.job_id, 5);
    assert_int_equal(d->job.n_args, 2);
    assert_string_equal(d->job.args[1], "10");
    assert_int_equal(d->job.mode, WIRE_MODE_TRACE);
    assert_true(d->job.timeout_s == 30);
    assert_int_equal(d->job.memory_limit_bytes, 1 << 30);
    assert_int_equal(d->job.interval_us, 0); /* not set: pyscope-run's 10 ms */
    wire_msg_destroy(&d);
    /* the coordinator's sampling period (schema/032) */
    job_fixture(&m);
    m.job.interval_us = 1000;
    d = roundtrip(&m);
    assert_int_equal(d->job.interval_us, 1000);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_WELCOME);
    m.welcome.agent_id = "agent-a";
    m.welcome.heartbeat_ms = 1000;
    m.welcome.lease_ms = 10000;
    m.reply_to = 7;
    d = roundtrip(&m);
    assert_string_equal(d->welcome.agent_id, "agent-a");
    assert_int_equal(d->welcome.lease_ms, 10000);
    assert_int_equal(d->reply_to, 7);
    wire_msg_destroy(&d);

    struct wire_job_ref refs[] = {{1, 1}, {2, 3}};
    wire_msg_init(&m, WIRE_HEARTBEAT);
    m.heartbeat.n_running = 2;
    m.heartbeat.running = refs;
    m.heartbeat.spooled = 4;
    d = roundtrip(&m);
    assert_int_equal(d->heartbeat.n_running, 2);
    assert_int_equal(d->heartbeat.running[1].attempt, 3);
    assert_int_equal(d->heartbeat.spooled, 4);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_HEARTBEAT); /* empty heartbeat is fine */
    d = roundtrip(&m);
    assert_int_equal(d->heartbeat.n_running, 0);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_READY);
    m.ready.credit = 64;
    d = roundtrip(&m);
    assert_int_equal(d->ready.credit, 64);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_ACK);
    memcpy(m.ack.run_id, RUN_ID, 16);
    d = roundtrip(&m);
    assert_memory_equal(d->ack.run_id, RUN_ID, 16);
    wire_msg_destroy(&d);

    hello_fixture(&m);
    m.hello.host.machine_id = "1f6e8c02-7b0b-4f7e-9a4c-5d2f3c1b0a99";
    d = roundtrip(&m);
    assert_string_equal(d->hello.host.machine_id, "1f6e8c02-7b0b-4f7e-9a4c-5d2f3c1b0a99");
    wire_msg_destroy(&d);

    submit_fixture(&m);
    d = roundtrip(&m);
    assert_null(d->submit.reference);
    wire_msg_destroy(&d);
    submit_fixture(&m);
    static const struct wire_suite_entry REF = {"tools/calibrate.py", 0,  NULL, 3, 0,
                                                WIRE_MODE_SAMPLE,     30, 0};
    m.submit.reference = &REF;
    d = roundtrip(&m);
    assert_non_null(d->submit.reference);
    assert_string_equal(d->submit.reference->script, "tools/calibrate.py");
    assert_int_equal(d->submit.reference->repeat, 3);
    assert_true(d->submit.reference->timeout_s == 30);
    assert_string_equal(d->submit.suite, "nightly");
    assert_int_equal(d->submit.n_entries, 2);
    assert_string_equal(d->submit.entries[0].args[0], "--n");
    assert_true(d->submit.entries[0].threshold == 0.05);
    assert_int_equal(d->submit.entries[0].interval_us, 0); /* the coordinator chooses */
    assert_true(d->submit.hosts.all);
    assert_string_equal(d->submit.commit, "abc123");
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_SUBMIT_REPLY);
    m.submit_reply.batch_id = 9;
    m.submit_reply.jobs = 20;
    d = roundtrip(&m);
    assert_int_equal(d->submit_reply.jobs, 20);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_BATCH;
    m.query.batch_id = 9;
    m.query.limit = 10;
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_BATCH);
    assert_int_equal(d->query.batch_id, 9);
    wire_msg_destroy(&d);

    wire_msg_init(&m, WIRE_QUERY_REPLY);
    m.query_reply.json = "{\"hosts\":[]}";
    d = roundtrip(&m);
    assert_string_equal(d->query_reply.json, "{\"hosts\":[]}");
    wire_msg_destroy(&d);
}

static void test_encode_error_helper(void **state)
{
    (void)state;
    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_encode_error(3, WIRE_ERROR_STALE_ATTEMPT, "stale", &buf, &len), 0);
    struct wire_msg *d = wire_decode(buf, len, NULL);
    free(buf);
    assert_non_null(d);
    assert_int_equal(d->type, WIRE_ERROR);
    assert_int_equal(d->reply_to, 3);
    assert_int_equal(d->error.code, WIRE_ERROR_STALE_ATTEMPT);
    assert_string_equal(d->error.message, "stale");
    assert_string_equal(wire_error_code_name(d->error.code), "stale_attempt");
    wire_msg_destroy(&d);
}

static void test_reject_envelope(void **state)
{
    (void)state;
    struct wire_msg m;
    hello_fixture(&m);
    m.version = 2;
    expect_reject(&m, WIRE_REJECT_VERSION, "version 2");
    hello_fixture(&m);
    m.version = 0;
    expect_reject(&m, WIRE_REJECT_VERSION, "version 0");
    assert_int_equal(wire_reject_code(WIRE_REJECT_VERSION), WIRE_ERROR_VERSION);

    /* An envelope with only a version: no body. */
    const uint8_t nobody[] = {0x08, 0x01};
    struct wire_error err;
    assert_null(wire_decode(nobody, sizeof(nobody), &err));
    assert_int_equal(err.reason, WIRE_REJECT_NO_BODY);
    assert_int_equal(wire_reject_code(err.reason), WIRE_ERROR_MALFORMED);

    /* Empty input decodes as an envelope without version. */
    assert_null(wire_decode("", 0, &err));
    assert_int_equal(err.reason, WIRE_REJECT_VERSION);

    uint8_t *buf;
    size_t len;
    wire_msg_init(&m, WIRE_NONE);
    assert_int_equal(wire_encode(&m, &buf, &len), -EINVAL);
}

static void test_reject_hello_fields(void **state)
{
    (void)state;
    struct wire_msg m;
    struct wire_label bad_key[] = {{"bad key", "v"}};
    char long_value[300];
    memset(long_value, 'v', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    struct wire_label long_val[] = {{"k", long_value}};
    struct wire_label many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = (struct wire_label){"k", "v"};

    hello_fixture(&m);
    m.hello.name = "";
    expect_reject(&m, WIRE_REJECT_MISSING, "hello.name");
    hello_fixture(&m);
    m.hello.name = "bad \xff utf8";
    expect_reject(&m, WIRE_REJECT_UTF8, "hello.name");
    hello_fixture(&m);
    m.hello.name = "overlong \xc0\xaf";
    expect_reject(&m, WIRE_REJECT_UTF8, "hello.name");
    hello_fixture(&m);
    m.hello.name = "surrogate \xed\xa0\x80";
    expect_reject(&m, WIRE_REJECT_UTF8, "hello.name");
    hello_fixture(&m);
    m.hello.name = "cut \xe2\x82";
    expect_reject(&m, WIRE_REJECT_UTF8, "hello.name");
    hello_fixture(&m);
    m.hello.host.fingerprint = "00112233AABBCCDD";
    expect_reject(&m, WIRE_REJECT_FORMAT, "hello.host.fingerprint");
    hello_fixture(&m);
    m.hello.host.fingerprint = "0011";
    expect_reject(&m, WIRE_REJECT_FORMAT, "hello.host.fingerprint");
    hello_fixture(&m);
    m.hello.host.fingerprint = NULL;
    expect_reject(&m, WIRE_REJECT_MISSING, "hello.host.fingerprint");
    hello_fixture(&m);
    m.hello.host.load1 = NAN;
    expect_reject(&m, WIRE_REJECT_RANGE, "hello.host.load1");
    hello_fixture(&m);
    m.hello.host.load1 = INFINITY;
    expect_reject(&m, WIRE_REJECT_RANGE, "hello.host.load1");
    hello_fixture(&m);
    m.hello.host.load1 = -1;
    expect_reject(&m, WIRE_REJECT_RANGE, "hello.host.load1");
    hello_fixture(&m);
    m.hello.host.labels = bad_key;
    m.hello.host.n_labels = 1;
    expect_reject(&m, WIRE_REJECT_FORMAT, "hello.host.labels[0].key");
    hello_fixture(&m);
    m.hello.host.labels = long_val;
    m.hello.host.n_labels = 1;
    expect_reject(&m, WIRE_REJECT_LENGTH, "hello.host.labels[0].value");
    hello_fixture(&m);
    m.hello.host.labels = many;
    m.hello.host.n_labels = 40;
    expect_reject(&m, WIRE_REJECT_COUNT, "hello.host.labels");
    hello_fixture(&m);
    m.hello.python.version = "";
    expect_reject(&m, WIRE_REJECT_MISSING, "hello.python.version");
    hello_fixture(&m);
    m.hello.max_jobs = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "hello.max_jobs");
    hello_fixture(&m);
    m.hello.max_jobs = 65;
    expect_reject(&m, WIRE_REJECT_RANGE, "hello.max_jobs");

    char *huge = malloc(WIRE_MAX_STRING + 2);
    memset(huge, 'x', WIRE_MAX_STRING + 1);
    huge[WIRE_MAX_STRING + 1] = '\0';
    hello_fixture(&m);
    m.hello.host.os = huge;
    expect_reject(&m, WIRE_REJECT_LENGTH, "hello.host.os");
    huge[WIRE_MAX_STRING] = '\0'; /* exactly at the cap: fine */
    struct wire_msg *d = roundtrip(&m);
    wire_msg_destroy(&d);
    free(huge);
}

static void test_reject_result_fields(void **state)
{
    (void)state;
    struct wire_msg m;
    result_fixture(&m);
    memset(m.result.run_id, 0, 16);
    expect_reject(&m, WIRE_REJECT_MISSING, "result.run_id");
    result_fixture(&m);
    m.result.job_id = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.job_id");
    result_fixture(&m);
    m.result.attempt = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.attempt");
    result_fixture(&m);
    m.result.outcome = 9;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.outcome");
    result_fixture(&m);
    m.result.script_key = "../etc/passwd";
    expect_reject(&m, WIRE_REJECT_FORMAT, "result.script_key");
    result_fixture(&m);
    m.result.script_key = "/etc/passwd";
    expect_reject(&m, WIRE_REJECT_FORMAT, "result.script_key");
    result_fixture(&m);
    m.result.script_sha256 = "abc";
    expect_reject(&m, WIRE_REJECT_FORMAT, "result.script_sha256");
    result_fixture(&m);
    m.result.script_sha256 = "";
    expect_reject(&m, WIRE_REJECT_MISSING, "result.script_sha256");
    const char *bad_times[] = {"yesterday",
                               "2026-13-01T00:00:00Z",
                               "2026-02-29T00:00:00Z",
                               "2026-04-31T00:00:00Z",
                               "2026-01-01T24:00:00Z",
                               "2026-01-01T00:60:00Z",
                               "2026-01-01T00:00:00.Z",
                               "2026-01-01T00:00:00+01:00",
                               "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        result_fixture(&m);
        m.result.started_at = bad_times[i];
        expect_reject(&m, WIRE_REJECT_FORMAT, "result.started_at");
    }
    result_fixture(&m);
    m.result.started_at = "2024-02-29T23:59:59.123456789Z";
    struct wire_msg *leap = roundtrip(&m);
    wire_msg_destroy(&leap);

    struct wire_measurement bad_runs[] = {{NAN, 0, 0, 0, 0, false}};
    result_fixture(&m);
    m.result.runs = bad_runs;
    m.result.n_runs = 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].wall_s");
    /* a known contention value out of range is refused, an unknown one is not read */
    struct wire_measurement bad_delay[] = {{.wall_s = 1, .has_run_delay = true, .run_delay_s = -1}};
    result_fixture(&m);
    m.result.runs = bad_delay;
    m.result.n_runs = 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].run_delay_s");
    bad_delay[0].has_run_delay = false;
    bad_delay[0].has_load1 = true;
    bad_delay[0].load1 = 2e6;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].load1");
    bad_delay[0].load1 = NAN;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].load1");
    bad_delay[0].has_load1 = false;
    bad_delay[0].has_ref = true;
    bad_delay[0].ref_cpu_ns = -5;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].ref_cpu_ns");
    bad_delay[0].has_ref = false;
    struct wire_msg *unknown = roundtrip(&m);
    assert_false(unknown->result.runs[0].has_run_delay || unknown->result.runs[0].has_load1 ||
                 unknown->result.runs[0].has_ref);
    wire_msg_destroy(&unknown);
    struct wire_function bad_cpu[] = {{"f", 0, 0, 0, 0, NULL, 0, NULL, true, -0.5}};
    result_fixture(&m);
    m.result.functions = bad_cpu;
    m.result.n_functions = 1;
    m.result.n_stacks = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.functions[0].self_cpu_s");

    double bad_samples[] = {0.1, -INFINITY};
    struct wire_function bad_fn[] = {{"f", 0, 0, 0, 2, bad_samples, 0, NULL}};
    result_fixture(&m);
    m.result.functions = bad_fn;
    m.result.n_functions = 1;
    m.result.n_stacks = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.functions[0].self_s_runs");

    struct wire_function no_key[] = {{"", 0, 0, 0, 0, NULL, 0, NULL}};
    result_fixture(&m);
    m.result.functions = no_key;
    m.result.n_functions = 1;
    m.result.n_stacks = 0;
    expect_reject(&m, WIRE_REJECT_MISSING, "result.functions[0].key");

    uint32_t far[] = {0, 7};
    struct wire_stack bad_stack[] = {{"t", 2, far, 1}};
    result_fixture(&m);
    m.result.stacks = bad_stack;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.stacks[0].frames");

    struct wire_function *many = calloc(WIRE_MAX_FUNCTIONS + 1, sizeof(*many));
    for (size_t i = 0; i <= WIRE_MAX_FUNCTIONS; i++)
        many[i].key = "f";
    result_fixture(&m);
    m.result.functions = many;
    m.result.n_functions = WIRE_MAX_FUNCTIONS + 1;
    expect_reject(&m, WIRE_REJECT_COUNT, "result.functions");
    free(many);

    /* A failed run may lack the script hash. */
    result_fixture(&m);
    m.result.outcome = WIRE_OUTCOME_REFUSED;
    m.result.script_sha256 = "";
    m.result.n_runs = m.result.n_functions = m.result.n_stacks = 0;
    struct wire_msg *d = roundtrip(&m);
    assert_int_equal(d->result.outcome, WIRE_OUTCOME_REFUSED);
    assert_string_equal(wire_outcome_name(d->result.outcome), "refused");
    wire_msg_destroy(&d);
}

/* Encode m, put a NUL byte in place of the first byte of needle in the encoding, decode. */
static void expect_nul_refused(struct wire_msg *m, const char *needle, const char *field)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_encode(m, &buf, &len), 0);
    uint8_t *at = memmem(buf, len, needle, strlen(needle));
    assert_non_null(at);
    *at = '\0';
    struct wire_error err;
    struct wire_msg *d = wire_decode(buf, len, &err);
    assert_null(d);
    assert_int_equal(err.reason, WIRE_REJECT_FORMAT);
    assert_non_null(strstr(err.msg, field));
    assert_non_null(strstr(err.msg, "NUL"));
    free(buf);
}

/* A NUL inside a string is refused, not cut short (protobuf-c hands strings
 * over NUL-terminated): at top level, in a nested message, in a repeated one. */
static void test_reject_nul_in_strings(void **state)
{
    (void)state;
    struct wire_msg m;
    submit_fixture(&m);
    expect_nul_refused(&m, "/a.py", "script"); /* "examples\0a.py" */
    submit_fixture(&m);
    expect_nul_refused(&m, "nightly 2026", "label");
    hello_fixture(&m);
    expect_nul_refused(&m, m.hello.host.hostname, "hostname");
    /* the same messages without the NUL decode */
    submit_fixture(&m);
    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_encode(&m, &buf, &len), 0);
    struct wire_error err;
    struct wire_msg *d = wire_decode(buf, len, &err);
    assert_non_null(d);
    assert_string_equal(d->submit.entries[0].script, "examples/a.py");
    wire_msg_destroy(&d);
    free(buf);
}

static void test_reject_other_bodies(void **state)
{
    (void)state;
    struct wire_msg m;
    wire_msg_init(&m, WIRE_READY);
    expect_reject(&m, WIRE_REJECT_RANGE, "ready.credit");
    m.ready.credit = 65;
    expect_reject(&m, WIRE_REJECT_RANGE, "ready.credit");

    struct wire_job_ref refs[65];
    for (size_t i = 0; i < 65; i++)
        refs[i] = (struct wire_job_ref){i + 1, 1};
    wire_msg_init(&m, WIRE_HEARTBEAT);
    m.heartbeat.running = refs;
    m.heartbeat.n_running = 65;
    expect_reject(&m, WIRE_REJECT_COUNT, "heartbeat.running");
    refs[0].attempt = 0;
    m.heartbeat.n_running = 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "heartbeat.running.attempt");

    job_fixture(&m);
    m.job.timeout_s = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "job.timeout_s");
    job_fixture(&m);
    m.job.mode = WIRE_MODE_UNSPECIFIED;
    expect_reject(&m, WIRE_REJECT_RANGE, "job.mode");
    job_fixture(&m);
    m.job.repeat = 1001;
    expect_reject(&m, WIRE_REJECT_RANGE, "job.repeat");
    job_fixture(&m);
    m.job.interval_us = 99; /* under 0.1 ms */
    expect_reject(&m, WIRE_REJECT_RANGE, "job.interval_us");
    job_fixture(&m);
    m.job.interval_us = WIRE_MAX_INTERVAL_US + 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "job.interval_us");
    job_fixture(&m);
    m.job.script = "a/./b.py";
    expect_reject(&m, WIRE_REJECT_FORMAT, "job.script");

    wire_msg_init(&m, WIRE_ACK);
    expect_reject(&m, WIRE_REJECT_MISSING, "ack.run_id");

    wire_msg_init(&m, WIRE_ERROR);
    m.error.code = 99;
    expect_reject(&m, WIRE_REJECT_RANGE, "error.code");

    submit_fixture(&m);
    m.submit.n_entries = 0;
    expect_reject(&m, WIRE_REJECT_MISSING, "submit.entries");
    /* the reference: a valid entry that is not one of the entries */
    static const struct wire_suite_entry REF_TWICE = {"examples/b.py",  0, NULL, 0, 0,
                                                      WIRE_MODE_SAMPLE, 0, 0};
    static const struct wire_suite_entry REF_BAD = {"../calibrate.py", 0, NULL, 0, 0,
                                                    WIRE_MODE_SAMPLE,  0, 0};
    submit_fixture(&m);
    m.submit.reference = &REF_TWICE;
    expect_reject(&m, WIRE_REJECT_FORMAT, "submit.reference");
    submit_fixture(&m);
    m.submit.reference = &REF_BAD;
    expect_reject(&m, WIRE_REJECT_FORMAT, "submit.reference.script");
    hello_fixture(&m);
    m.hello.host.machine_id =
        "0123456789012345678901234567890123456789012345678901234567890123456789";
    expect_reject(&m, WIRE_REJECT_LENGTH, "hello.host.machine_id");
    submit_fixture(&m);
    m.submit.hosts.all = false;
    expect_reject(&m, WIRE_REJECT_MISSING, "submit.hosts");
    submit_fixture(&m);
    m.submit.suite = NULL;
    expect_reject(&m, WIRE_REJECT_MISSING, "submit.suite");
    struct wire_suite_entry bad_entry[] = {
        {"a.py", 0, NULL, 0, 0, WIRE_MODE_SAMPLE, 0, NAN},
    };
    submit_fixture(&m);
    m.submit.entries = bad_entry;
    m.submit.n_entries = 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "submit.entries[0].threshold");

    wire_msg_init(&m, WIRE_QUERY);
    expect_reject(&m, WIRE_REJECT_RANGE, "query.kind");
    m.query.kind = WIRE_QUERY_BATCH;
    expect_reject(&m, WIRE_REJECT_MISSING, "query.batch_id");
    m.query.kind = WIRE_QUERY_HOSTS;
    m.query.limit = 1001;
    expect_reject(&m, WIRE_REJECT_RANGE, "query.limit");

    wire_msg_init(&m, WIRE_WELCOME);
    m.welcome.agent_id = "a";
    expect_reject(&m, WIRE_REJECT_RANGE, "welcome.heartbeat_ms");
}

/* Job.commit and Submit.commits (docs/revisions.md): round trips and refusals. */
/* An A/B try names its two commits by full hash only (never a URL, a ref or an option
 * an agent's git could take), with 1..50 rounds and no reference. */
static void test_try_submit(void **state)
{
    (void)state;
    static const char H1[] = "0123456789abcdef0123456789abcdef01234567";
    static const char H2[] = "89abcdef0123456789abcdef0123456789abcdef";
    struct wire_msg m, *d;
    submit_fixture(&m);
    m.submit.commit = H2;
    m.submit.try_base = H1;
    m.submit.try_rounds = 5;
    d = roundtrip(&m);
    assert_string_equal(d->submit.try_base, H1);
    assert_int_equal(d->submit.try_rounds, 5);
    assert_string_equal(d->submit.commit, H2);
    wire_msg_destroy(&d);
    const char *bad[] = {"https://evil.example/repo.git", "--upload-pack=touch /tmp/x", "main",
                         "../../etc", "0123456789ABCDEF0123456789abcdef01234567"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        m.submit.try_base = bad[i];
        expect_reject(&m, WIRE_REJECT_FORMAT, "submit.try_base");
        m.submit.try_base = H1;
        m.submit.commit = bad[i];
        expect_reject(&m, WIRE_REJECT_FORMAT, "a try's head must be a full commit hash");
        m.submit.commit = H2;
    }
    m.submit.try_rounds = 0;
    expect_reject(&m, WIRE_REJECT_RANGE, "submit.try_rounds");
    m.submit.try_rounds = WIRE_MAX_TRY_ROUNDS + 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "submit.try_rounds");
    m.submit.try_rounds = 3;
    struct wire_suite_entry ref = {.script = "examples/ref.py", .repeat = 1};
    m.submit.reference = &ref;
    expect_reject(&m, WIRE_REJECT_FORMAT, "a try has none");
    m.submit.reference = NULL;
    m.submit.try_base = NULL;
    expect_reject(&m, WIRE_REJECT_FORMAT, "submit.try_rounds: only with try_base");

    /* a try query names its batch */
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_TRY;
    expect_reject(&m, WIRE_REJECT_MISSING, "required for a try query");
    m.query.batch_id = 7;
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_TRY);
    wire_msg_destroy(&d);
}

/* A bisection: a try of one entry on one named host between two commits; its id and query. */
static void test_bisect_submit(void **state)
{
    (void)state;
    static const char H1[] = "0123456789abcdef0123456789abcdef01234567";
    static const char H2[] = "89abcdef0123456789abcdef0123456789abcdef";
    static const char *const HOST[] = {"bench-07"}, *const TWO[] = {"a", "b"};
    struct wire_msg m, *d;
    submit_fixture(&m);
    m.submit.n_entries = 1;
    m.submit.hosts.all = false;
    m.submit.hosts.n_names = 1;
    m.submit.hosts.names = HOST;
    m.submit.commit = H2;
    m.submit.try_base = H1;
    m.submit.try_rounds = 3;
    m.submit.bisect = true;
    m.submit.bisect_metric = "cpu_s";
    m.submit.bisect_budget_s = 600;
    d = roundtrip(&m);
    assert_true(d->submit.bisect);
    assert_string_equal(d->submit.bisect_metric, "cpu_s");
    assert_int_equal(d->submit.bisect_budget_s, 600);
    wire_msg_destroy(&d);
    m.submit.bisect_metric = "instructions"; /* its jobs count them (Job.instructions) */
    d = roundtrip(&m);
    assert_string_equal(d->submit.bisect_metric, "instructions");
    wire_msg_destroy(&d);
    m.submit.bisect_metric = "self_s";
    expect_reject(&m, WIRE_REJECT_RANGE,
                  "must be wall_s, cpu_s, peak_rss_bytes or instructions (or none)");
    m.submit.bisect_metric = "cpu_s";
    m.submit.n_entries = 2;
    expect_reject(&m, WIRE_REJECT_COUNT, "exactly one script");
    m.submit.n_entries = 1;
    m.submit.hosts.names = TWO;
    m.submit.hosts.n_names = 2;
    expect_reject(&m, WIRE_REJECT_FORMAT, "names exactly one host");
    m.submit.hosts.n_names = 0;
    m.submit.hosts.all = true;
    expect_reject(&m, WIRE_REJECT_FORMAT, "names exactly one host");
    m.submit.hosts.all = false;
    m.submit.hosts.names = HOST;
    m.submit.hosts.n_names = 1;
    m.submit.try_base = H2;
    expect_reject(&m, WIRE_REJECT_FORMAT, "the same commit");
    m.submit.try_base = NULL;
    m.submit.try_rounds = 0;
    expect_reject(&m, WIRE_REJECT_MISSING, "needs its good commit");
    m.submit.bisect = false;
    expect_reject(&m, WIRE_REJECT_FORMAT, "only with bisect");

    /* the reply names the bisection; a bisect query names it too */
    wire_msg_init(&m, WIRE_SUBMIT_REPLY);
    m.submit_reply.bisection_id = 12;
    d = roundtrip(&m);
    assert_int_equal(d->submit_reply.bisection_id, 12);
    wire_msg_destroy(&d);
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_BISECT;
    expect_reject(&m, WIRE_REJECT_MISSING, "required for a bisect");
    m.query.batch_id = 12;
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_BISECT);
    wire_msg_destroy(&d);
    /* a cancel: state "cancel" and who asks; any other state is refused */
    m.query.state = "cancel";
    m.query.note = "ada@build-7";
    d = roundtrip(&m);
    assert_string_equal(d->query.state, "cancel");
    assert_string_equal(d->query.note, "ada@build-7");
    wire_msg_destroy(&d);
    m.query.state = "ack";
    expect_reject(&m, WIRE_REJECT_RANGE, "takes \"cancel\" or nothing");
}

static void test_commits(void **state)
{
    (void)state;
    static const char H1[] = "0123456789abcdef0123456789abcdef01234567";
    static const char H2[] = "89abcdef0123456789abcdef0123456789abcdef";
    static const char H256[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    struct wire_msg m, *d;
    job_fixture(&m);
    m.job.commit = H1;
    d = roundtrip(&m);
    assert_string_equal(d->job.commit, H1);
    wire_msg_destroy(&d);
    m.job.commit = H256;
    d = roundtrip(&m);
    assert_string_equal(d->job.commit, H256);
    wire_msg_destroy(&d);
    job_fixture(&m);
    d = roundtrip(&m);
    assert_string_equal(d->job.commit, ""); /* none: the agent's workspace */
    wire_msg_destroy(&d);
    const char *bad[] = {"0123456789ABCDEF0123456789abcdef01234567", "0123456", "main",
                         "0123456789abcdef0123456789abcdef012345678"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        job_fixture(&m);
        m.job.commit = bad[i];
        expect_reject(&m, WIRE_REJECT_FORMAT, "job.commit");
    }

    const char *parents[] = {H1};
    struct wire_commit cs[2] = {
        {H2, 1, parents, 2, "Faster \xe2\x9c\x93 loop", "Ada <ada@example.org>", 1796000000},
        {H1, 0, NULL, 1, "", "", 0},
    };
    submit_fixture(&m);
    m.submit.commit = H2;
    m.submit.commits = cs;
    m.submit.n_commits = 2;
    d = roundtrip(&m);
    assert_int_equal(d->submit.n_commits, 2);
    assert_string_equal(d->submit.commits[0].hash, H2);
    assert_int_equal(d->submit.commits[0].n_parents, 1);
    assert_string_equal(d->submit.commits[0].parents[0], H1);
    assert_int_equal(d->submit.commits[0].generation, 2);
    assert_string_equal(d->submit.commits[0].subject, "Faster \xe2\x9c\x93 loop");
    assert_int_equal(d->submit.commits[0].time, 1796000000);
    assert_int_equal(d->submit.commits[1].n_parents, 0);
    wire_msg_destroy(&d);

    cs[1].hash = "xyz";
    expect_reject(&m, WIRE_REJECT_FORMAT, "submit.commits[1].hash");
    cs[1].hash = H1;
    const char *bad_parents[] = {"HEAD"};
    cs[0].parents = bad_parents;
    expect_reject(&m, WIRE_REJECT_FORMAT, "submit.commits[0].parents[0]");
    cs[0].parents = parents;
    cs[0].subject = "bad \xff utf-8";
    expect_reject(&m, WIRE_REJECT_UTF8, "submit.commits[0].subject");
    cs[0].subject = "ok";
    cs[0].time = -1;
    expect_reject(&m, WIRE_REJECT_RANGE, "submit.commits[0].time");
    cs[0].time = 0;
    const char *many[17];
    for (int i = 0; i < 17; i++)
        many[i] = H1;
    cs[0].parents = many;
    cs[0].n_parents = 17;
    expect_reject(&m, WIRE_REJECT_COUNT, "submit.commits[0].parents");
    cs[0].n_parents = 1;
    struct wire_commit *lots = calloc(WIRE_MAX_COMMITS + 1, sizeof(*lots));
    for (size_t i = 0; i <= WIRE_MAX_COMMITS; i++)
        lots[i] = cs[1];
    m.submit.commits = lots;
    m.submit.n_commits = WIRE_MAX_COMMITS;
    d = roundtrip(&m);
    assert_int_equal(d->submit.n_commits, WIRE_MAX_COMMITS);
    wire_msg_destroy(&d);
    m.submit.n_commits = WIRE_MAX_COMMITS + 1;
    expect_reject(&m, WIRE_REJECT_COUNT, "submit.commits");
    free(lots);
}

/* Hello.pythons, Job.python, SuiteEntry.python (docs/pythons.md): carried; an older agent's
 * Hello (no pythons) decodes with none; a bad request or too many Pythons are refused. */
static void test_pythons(void **state)
{
    (void)state;
    struct wire_msg m, *d;
    hello_fixture(&m);
    d = roundtrip(&m);
    assert_int_equal(d->hello.n_pythons, 0);
    assert_string_equal(d->hello.python.implementation, "");
    wire_msg_destroy(&d);
    struct wire_python pys[WIRE_MAX_PYTHONS + 1];
    for (size_t i = 0; i < WIRE_MAX_PYTHONS + 1; i++)
        pys[i] = (struct wire_python){"3.12.1", "3.12.1 (main) [GCC 12.2.0]",
                                      "/opt/py/bin/python3.12", "cpython", ""};
    pys[1] = (struct wire_python){"3.13.0", "3.13.0 [Clang 16]", "/opt/t/bin/python3.13", "cpython",
                                  "t"};
    m.hello.pythons = pys;
    m.hello.n_pythons = 2;
    d = roundtrip(&m);
    assert_int_equal(d->hello.n_pythons, 2);
    assert_string_equal(d->hello.pythons[0].executable, "/opt/py/bin/python3.12");
    assert_string_equal(d->hello.pythons[1].version, "3.13.0");
    assert_string_equal(d->hello.pythons[1].implementation, "cpython");
    assert_string_equal(d->hello.pythons[1].abiflags, "t");
    wire_msg_destroy(&d);
    m.hello.n_pythons = WIRE_MAX_PYTHONS + 1;
    expect_reject(&m, WIRE_REJECT_COUNT, "hello.pythons");
    m.hello.n_pythons = 1;
    pys[0].version = "";
    expect_reject(&m, WIRE_REJECT_MISSING, "hello.pythons.version");

    job_fixture(&m);
    d = roundtrip(&m);
    assert_string_equal(d->job.python, "");
    wire_msg_destroy(&d);
    m.job.python = "3.12";
    d = roundtrip(&m);
    assert_string_equal(d->job.python, "3.12");
    wire_msg_destroy(&d);
    m.job.python = "python3.12";
    expect_reject(&m, WIRE_REJECT_RANGE, "job.python: not a version");

    struct wire_suite_entry ent[] = {{.script = "a.py", .python = "/usr/bin/python3.11"},
                                     {.script = "a.py", .python = "3.13"}};
    submit_fixture(&m);
    m.submit.entries = ent;
    m.submit.n_entries = 2;
    d = roundtrip(&m);
    assert_string_equal(d->submit.entries[0].python, "/usr/bin/python3.11");
    assert_string_equal(d->submit.entries[1].python, "3.13");
    wire_msg_destroy(&d);
    ent[1].python = "3.13.";
    expect_reject(&m, WIRE_REJECT_RANGE, "submit.entries");
}

/* A confirmation's reference script (schema/030): Job.reference, a normalized path like
 * the script ("" = none, as from older coordinators), and per repeat the reference's CPU
 * and wall time (Contention.ref_script_*, known only together, each 0..1e9). */
static void test_reference_script(void **state)
{
    (void)state;
    struct wire_msg m, *d;
    job_fixture(&m);
    d = roundtrip(&m);
    assert_string_equal(d->job.reference, "");
    wire_msg_destroy(&d);
    m.job.reference = "examples/calibrate.py";
    d = roundtrip(&m);
    assert_string_equal(d->job.reference, "examples/calibrate.py");
    wire_msg_destroy(&d);
    m.job.reference = "../outside.py";
    expect_reject(&m, WIRE_REJECT_FORMAT, "job.reference");
    m.job.reference = "/etc/passwd";
    expect_reject(&m, WIRE_REJECT_FORMAT, "job.reference");

    struct wire_measurement runs[] = {{.wall_s = 1,
                                       .cpu_s = 0.9,
                                       .has_ref_script = true,
                                       .ref_script_cpu_s = 0.21,
                                       .ref_script_wall_s = 0.25},
                                      {.wall_s = 1, .cpu_s = 0.9}};
    result_fixture(&m);
    m.result.runs = runs;
    m.result.n_runs = 2;
    d = roundtrip(&m);
    assert_true(d->result.runs[0].has_ref_script);
    assert_true(d->result.runs[0].ref_script_cpu_s == 0.21);
    assert_true(d->result.runs[0].ref_script_wall_s == 0.25);
    assert_false(d->result.runs[1].has_ref_script);
    wire_msg_destroy(&d);
    runs[0].ref_script_cpu_s = -0.1;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].ref_script_cpu_s");
    runs[0].ref_script_cpu_s = 0.2;
    runs[0].ref_script_wall_s = NAN;
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[0].ref_script_wall_s");
}

/* Instruction counts (schema/028): asked for by Job.instructions (and Submit.instructions),
 * sent in Measurement.instructions (0 = not counted), at most INT64_MAX (a bigint). */
static void test_instructions(void **state)
{
    (void)state;
    struct wire_msg m, *d;
    job_fixture(&m);
    d = roundtrip(&m);
    assert_false(d->job.instructions); /* an older coordinator's job: no counts */
    wire_msg_destroy(&d);
    m.job.instructions = true;
    d = roundtrip(&m);
    assert_true(d->job.instructions);
    wire_msg_destroy(&d);

    submit_fixture(&m);
    d = roundtrip(&m);
    assert_false(d->submit.instructions);
    wire_msg_destroy(&d);
    m.submit.instructions = true;
    d = roundtrip(&m);
    assert_true(d->submit.instructions);
    wire_msg_destroy(&d);
    /* a suite's `instructions = on` for one script: SuiteEntry.instructions, per entry */
    struct wire_suite_entry ent[] = {{.script = "a.py", .instructions = true}, {.script = "b.py"}};
    m.submit.instructions = false;
    m.submit.entries = ent;
    m.submit.n_entries = 2;
    d = roundtrip(&m);
    assert_true(d->submit.entries[0].instructions);
    assert_false(d->submit.entries[1].instructions);
    assert_false(d->submit.instructions);
    wire_msg_destroy(&d);

    struct wire_measurement runs[] = {{.wall_s = 1, .cpu_s = 1, .instructions = 123456789012345},
                                      {.wall_s = 1, .cpu_s = 1}};
    result_fixture(&m);
    m.result.runs = runs;
    m.result.n_runs = 2;
    d = roundtrip(&m);
    assert_true(d->result.runs[0].instructions == 123456789012345ull);
    assert_true(d->result.runs[1].instructions == 0); /* not counted stays not counted */
    wire_msg_destroy(&d);
    runs[1].instructions = (uint64_t)INT64_MAX;
    d = roundtrip(&m);
    assert_true(d->result.runs[1].instructions == (uint64_t)INT64_MAX);
    wire_msg_destroy(&d);
    runs[1].instructions = (uint64_t)INT64_MAX + 1; /* no bigint holds it */
    expect_reject(&m, WIRE_REJECT_RANGE, "result.runs[1].instructions");

    /* the series' hardware comparison reads what every run measures: no instructions */
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_COMPARE_HOSTS;
    m.query.script = "a.py";
    m.query.metric = "instructions";
    expect_reject(&m, WIRE_REJECT_RANGE, "query.metric: must be wall_s, cpu_s or peak_rss_bytes");
}

/* A Result count at offset off of struct wire_result (uint32_t, stored in an integer column):
 * 0 from older agents, carried as set up to INT32_MAX, one more refused naming what. */
static void result_count(size_t off, const char *what)
{
    struct wire_msg m, *d;
    result_fixture(&m);
    uint32_t *f = (uint32_t *)((char *)&m.result + off);
    const uint32_t vals[] = {0, 3, INT32_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        *f = vals[i];
        d = roundtrip(&m);
        assert_int_equal(*(const uint32_t *)((const char *)&d->result + off), vals[i]);
        wire_msg_destroy(&d);
    }
    *f = (uint32_t)INT32_MAX + 1; /* no integer column holds it */
    expect_reject(&m, WIRE_REJECT_RANGE, what);
}

/* Result.child_processes: the script started them (profile.forks), so its instruction counts
 * cover its own process only; 0 from older agents (none known), at most INT32_MAX. */
static void test_child_processes(void **state)
{
    (void)state;
    result_count(offsetof(struct wire_result, child_processes), "result.child_processes");
}

/* Result.python_threads: the most Python threads a timed run had (instructions.python_threads;
 * over 1 the counts are not exact); 0 from older agents (not known), at most INT32_MAX. */
static void test_python_threads(void **state)
{
    (void)state;
    result_count(offsetof(struct wire_result, python_threads), "result.python_threads");
    struct wire_msg m, *d;
    result_fixture(&m);
    m.result.python_threads = 5;
    m.result.child_processes = 2; /* its own field: not mixed up with it */
    d = roundtrip(&m);
    assert_int_equal(d->result.python_threads, 5);
    assert_int_equal(d->result.child_processes, 2);
    wire_msg_destroy(&d);
}

/* Job.env and SuiteEntry.env: carried in order; refused names refused by the decoder too. */
static void test_job_env(void **state)
{
    (void)state;
    struct wire_msg m, *d;
    const char *env[] = {"PYTHONHASHSEED=0", "BENCH_SIZE=large value", "EMPTY="};
    job_fixture(&m);
    m.job.env = env;
    m.job.n_env = 3;
    d = roundtrip(&m);
    assert_int_equal(d->job.n_env, 3);
    assert_string_equal(d->job.env[1], "BENCH_SIZE=large value");
    assert_string_equal(d->job.env[2], "EMPTY=");
    wire_msg_destroy(&d);

    struct wire_suite_entry ent[] = {
        {.script = "a.py", .n_env = 1, .env = env},
    };
    submit_fixture(&m);
    m.submit.entries = ent;
    m.submit.n_entries = 1;
    d = roundtrip(&m);
    assert_int_equal(d->submit.entries[0].n_env, 1);
    assert_string_equal(d->submit.entries[0].env[0], "PYTHONHASHSEED=0");
    wire_msg_destroy(&d);

    static const char *const refused[][2] = {
        {"LD_PRELOAD=/tmp/x.so", "dynamic loader"},
        {"LD_LIBRARY_PATH=/tmp", "dynamic loader"},
        {"PYSCOPE_FAULT=crash", "PyScope's own"},
        {"PYTHONPATH=/tmp", "where Python loads code"},
        {"PYTHONHOME=/tmp", "where Python loads code"},
        {"GLIBC_TUNABLES=x", "C library"},
        {"PATH=/tmp", "the agent sets it"},
        {"1X=2", "not a variable name"},
        {"A-B=2", "not a variable name"},
        {"NOEQUALS", "not NAME=VALUE"},
        {"=x", "needs a name"},
        {"A=line\nbreak", NULL},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *one[1] = {refused[i][0]};
        char nl[] = "A=line\nbreak";
        if (!refused[i][1])
            one[0] = nl;
        job_fixture(&m);
        m.job.env = one;
        m.job.n_env = 1;
        expect_reject(&m, WIRE_REJECT_FORMAT, refused[i][1] ? refused[i][1] : "control character");
        ent[0].env = one;
        submit_fixture(&m);
        m.submit.entries = ent;
        m.submit.n_entries = 1;
        expect_reject(&m, WIRE_REJECT_FORMAT, "submit.entries[0].env[0]");
    }
    const char *twice[] = {"A=1", "A=2"};
    job_fixture(&m);
    m.job.env = twice;
    m.job.n_env = 2;
    expect_reject(&m, WIRE_REJECT_FORMAT, "job.env[1]: A is set twice");
    const char *many[65];
    char names[65][16];
    for (size_t i = 0; i < 65; i++) {
        snprintf(names[i], sizeof(names[i]), "V%zu=1", i);
        many[i] = names[i];
    }
    m.job.env = many;
    m.job.n_env = 65;
    expect_reject(&m, WIRE_REJECT_COUNT, "job.env");
}

/* Hand-made bytes: a Result whose run_id is 3 bytes long. */
/* Query kinds SERIES and COMPARE_HOSTS: round trips and every refusal of their fields. */
static void test_query_series(void **state)
{
    (void)state;
    struct wire_msg m, *d;
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_SERIES;
    m.query.script = "examples/a.py";
    m.query.host = "build-7";
    m.query.python_build = "3.11.2 (main) [GCC 12.2.0]";
    m.query.limit = 50;
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_SERIES);
    assert_string_equal(d->query.script, "examples/a.py");
    assert_string_equal(d->query.host, "build-7");
    assert_string_equal(d->query.python_build, "3.11.2 (main) [GCC 12.2.0]");
    assert_int_equal(d->query.limit, 50);
    assert_int_equal(d->query.n_hosts, 0);
    wire_msg_destroy(&d);

    static const char *const two[] = {"build-7", "00112233aabbccdd"};
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_COMPARE_HOSTS;
    m.query.script = "examples/a.py";
    m.query.n_hosts = 2;
    m.query.hosts = two;
    m.query.metric = "peak_rss_bytes";
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_COMPARE_HOSTS);
    assert_int_equal(d->query.n_hosts, 2);
    assert_string_equal(d->query.hosts[1], "00112233aabbccdd");
    assert_string_equal(d->query.metric, "peak_rss_bytes");
    wire_msg_destroy(&d);
    m.query.n_hosts = 0;   /* every host */
    m.query.metric = NULL; /* wall_s */
    d = roundtrip(&m);
    assert_int_equal(d->query.n_hosts, 0);
    wire_msg_destroy(&d);

    /* SERIES: script and host required, script a normalized relative path */
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_SERIES;
    m.query.host = "build-7";
    expect_reject(&m, WIRE_REJECT_MISSING, "query.script");
    m.query.script = "../etc/passwd";
    expect_reject(&m, WIRE_REJECT_FORMAT, "query.script");
    m.query.script = "/etc/passwd";
    expect_reject(&m, WIRE_REJECT_FORMAT, "query.script");
    m.query.script = "examples/a.py";
    m.query.host = NULL;
    expect_reject(&m, WIRE_REJECT_MISSING, "query.host");
    m.query.host = "bad\xff\xfe";
    expect_reject(&m, WIRE_REJECT_UTF8, "query.host");
    char long_host[WIRE_MAX_HOST_NAME + 2];
    memset(long_host, 'h', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    m.query.host = long_host;
    expect_reject(&m, WIRE_REJECT_LENGTH, "query.host");
    m.query.host = "build-7";
    m.query.python_build = "\xc3\x28";
    expect_reject(&m, WIRE_REJECT_UTF8, "query.python_build");
    m.query.python_build = NULL;
    m.query.metric = "cpu_s";
    expect_reject(&m, WIRE_REJECT_FORMAT, "belong to compare_hosts");
    m.query.metric = NULL;
    m.query.n_hosts = 2;
    m.query.hosts = two;
    expect_reject(&m, WIRE_REJECT_FORMAT, "belong to compare_hosts");
    m.query.n_hosts = 0;
    m.query.limit = 1001;
    expect_reject(&m, WIRE_REJECT_RANGE, "query.limit");

    /* COMPARE_HOSTS: 0 or 2..32 hosts, each a valid name; a known metric; no host field */
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_COMPARE_HOSTS;
    m.query.script = "examples/a.py";
    m.query.n_hosts = 1;
    m.query.hosts = two;
    expect_reject(&m, WIRE_REJECT_COUNT, "query.hosts");
    const char *many[WIRE_MAX_QUERY_HOSTS + 1];
    for (size_t i = 0; i <= WIRE_MAX_QUERY_HOSTS; i++)
        many[i] = "h";
    m.query.n_hosts = WIRE_MAX_QUERY_HOSTS + 1;
    m.query.hosts = many;
    expect_reject(&m, WIRE_REJECT_COUNT, "query.hosts");
    const char *empty_name[] = {"a", ""};
    m.query.n_hosts = 2;
    m.query.hosts = empty_name;
    expect_reject(&m, WIRE_REJECT_MISSING, "query.hosts[1]");
    const char *bad_name[] = {"a", "b\x80"};
    m.query.hosts = bad_name;
    expect_reject(&m, WIRE_REJECT_UTF8, "query.hosts[1]");
    m.query.hosts = two;
    m.query.metric = "speed";
    expect_reject(&m, WIRE_REJECT_RANGE, "query.metric");
    m.query.metric = "wall_s";
    m.query.host = "build-7";
    expect_reject(&m, WIRE_REJECT_FORMAT, "belong to series");

    /* the new fields belong to these kinds only */
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_HOSTS;
    m.query.script = "examples/a.py";
    expect_reject(&m, WIRE_REJECT_FORMAT, "belong to series and compare_hosts");
    m.query.script = NULL;
    m.query.n_hosts = 2;
    m.query.hosts = two;
    expect_reject(&m, WIRE_REJECT_FORMAT, "belong to series and compare_hosts");
    m.query.kind = WIRE_QUERY_BISECT + 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "query.kind");

    /* compare_pythons (docs/pythons.md): script, an optional host, Pythons, a baseline */
    const char *pys[] = {"3.11", "3.12.1", "/opt/py/bin/python3"};
    wire_msg_init(&m, WIRE_QUERY);
    m.query.kind = WIRE_QUERY_COMPARE_PYTHONS;
    m.query.script = "examples/a.py";
    m.query.n_pythons = 3;
    m.query.pythons = pys;
    m.query.baseline = "3.12";
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_COMPARE_PYTHONS);
    assert_int_equal(d->query.n_pythons, 3);
    assert_string_equal(d->query.pythons[2], "/opt/py/bin/python3");
    assert_string_equal(d->query.baseline, "3.12");
    assert_string_equal(d->query.host, "");
    wire_msg_destroy(&d);
    const char *bad_py[] = {"3.11", "py3"};
    m.query.pythons = bad_py;
    m.query.n_pythons = 2;
    expect_reject(&m, WIRE_REJECT_RANGE, "query.pythons[1]: not a version");
    m.query.pythons = pys;
    m.query.metric = "cpu_s";
    expect_reject(&m, WIRE_REJECT_FORMAT, "do not belong to compare_pythons");
    m.query.metric = NULL;
    m.query.kind = WIRE_QUERY_COMPARE_HOSTS;
    expect_reject(&m, WIRE_REJECT_FORMAT, "baseline belongs to compare_pythons");
    /* compare_hosts: one Python at most, the one the hosts are compared under */
    m.query.baseline = NULL;
    expect_reject(&m, WIRE_REJECT_COUNT, "query.pythons: 2 items, at most 1");
    m.query.n_pythons = 1;
    m.query.pythons = bad_py + 1;
    expect_reject(&m, WIRE_REJECT_RANGE, "query.pythons[0]: not a version");
    m.query.pythons = pys + 1;
    d = roundtrip(&m);
    assert_int_equal(d->query.kind, WIRE_QUERY_COMPARE_HOSTS);
    assert_int_equal(d->query.n_pythons, 1);
    assert_string_equal(d->query.pythons[0], "3.12.1");
    wire_msg_destroy(&d);
    m.query.kind = WIRE_QUERY_SERIES;
    m.query.host = "host-a";
    expect_reject(&m, WIRE_REJECT_FORMAT, "pythons belong to compare_pythons and compare_hosts");
}

static void test_reject_run_id_length(void **state)
{
    (void)state;
    const uint8_t msg[] = {0x08, 0x01, 0x7a, 0x05, 0x0a, 0x03, 0xaa, 0xbb, 0xcc};
    struct wire_error err;
    assert_null(wire_decode(msg, sizeof(msg), &err));
    assert_int_equal(err.reason, WIRE_REJECT_LENGTH);
    assert_non_null(strstr(err.msg, "result.run_id"));
    /* Ack (field 16: tag 0x82 0x01) with a 17-byte run_id. */
    uint8_t ack[5 + 2 + 17] = {0x08, 0x01, 0x82, 0x01, 19, 0x0a, 17};
    assert_null(wire_decode(ack, sizeof(ack), &err));
    assert_int_equal(err.reason, WIRE_REJECT_LENGTH);
}

static void test_truncated_and_garbage(void **state)
{
    (void)state;
    struct wire_msg m;
    result_fixture(&m);
    uint8_t *buf;
    size_t len;
    assert_int_equal(wire_encode(&m, &buf, &len), 0);
    struct wire_counters counters = {0};
    /* Every strict prefix is refused, never crashes. */
    for (size_t n = 0; n < len; n++) {
        struct wire_error err = {0};
        struct wire_msg *d = wire_decode(buf, n, &err);
        assert_null(d);
        wire_counters_add(&counters, &err);
    }
    assert_true(counters.rejects[WIRE_REJECT_UNDECODABLE] > 0);
    free(buf);

    uint64_t seed = 42;
    uint8_t junk[512];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 512);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            junk[i] = (uint8_t)(seed >> 56);
        }
        struct wire_error err = {0};
        struct wire_msg *d = wire_decode(junk, n, &err);
        if (d)
            wire_msg_destroy(&d);
        else
            wire_counters_add(&counters, &err);
    }

    struct wire_error err;
    assert_null(wire_decode(junk, WIRE_MAX_MSG_BYTES + 1, &err));
    assert_int_equal(err.reason, WIRE_REJECT_TOO_BIG);
    assert_int_equal(wire_reject_code(err.reason), WIRE_ERROR_TOO_BIG);
    assert_string_equal(wire_reject_name(WIRE_REJECT_UTF8), "utf8");
    assert_string_equal(wire_reject_name(WIRE_REJECT__COUNT), "unknown");
}

/* Millions of empty sub-messages in 4 MiB must not expand without bound. */
static void test_expansion_capped(void **state)
{
    (void)state;
    /* Result { stacks: {} x N }: inner 0x62 0x00 per stack. */
    size_t n = 2000000;
    size_t inner = 2 * n;
    uint8_t *buf = malloc(inner + 16);
    size_t o = 0;
    buf[o++] = 0x08;
    buf[o++] = 0x01;
    buf[o++] = 0x7a;
    size_t v = inner;
    while (v >= 0x80) {
        buf[o++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    buf[o++] = (uint8_t)v;
    for (size_t i = 0; i < n; i++) {
        buf[o++] = 0x62;
        buf[o++] = 0x00;
    }
    struct wire_error err;
    assert_null(wire_decode(buf, o, &err));
    assert_int_equal(err.reason, WIRE_REJECT_TOO_BIG);
    free(buf);
}

static void test_helpers(void **state)
{
    (void)state;
    assert_true(wire_path_normalized("a.py"));
    assert_true(wire_path_normalized("dir/sub/a.py"));
    assert_true(wire_path_normalized("..a/b"));
    assert_false(wire_path_normalized(""));
    assert_false(wire_path_normalized("/a"));
    assert_false(wire_path_normalized("a//b"));
    assert_false(wire_path_normalized("a/"));
    assert_false(wire_path_normalized("a/../b"));
    assert_false(wire_path_normalized(".."));
    assert_false(wire_path_normalized("a\\b"));
    assert_false(wire_path_normalized("a\nb"));
    assert_true(wire_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(wire_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(wire_utf8_valid("\xe0\x80\x80", 3));     /* overlong */
    char id[37];
    wire_run_id_format(RUN_ID, id);
    assert_string_equal(id, "0b5c0f8e-0102-0304-0506-0708090a0b0c");
    assert_string_equal(wire_type_name(WIRE_RESULT), "result");
    assert_string_equal(wire_mode_name(WIRE_MODE_SAMPLE), "sample");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_hello),
        cmocka_unit_test(test_roundtrip_result),
        cmocka_unit_test(test_roundtrip_small_messages),
        cmocka_unit_test(test_encode_error_helper),
        cmocka_unit_test(test_reject_envelope),
        cmocka_unit_test(test_reject_hello_fields),
        cmocka_unit_test(test_reject_result_fields),
        cmocka_unit_test(test_reject_other_bodies),
        cmocka_unit_test(test_reject_nul_in_strings),
        cmocka_unit_test(test_query_series),
        cmocka_unit_test(test_commits),
        cmocka_unit_test(test_try_submit),
        cmocka_unit_test(test_bisect_submit),
        cmocka_unit_test(test_instructions),
        cmocka_unit_test(test_reference_script),
        cmocka_unit_test(test_child_processes),
        cmocka_unit_test(test_python_threads),
        cmocka_unit_test(test_job_env),
        cmocka_unit_test(test_pythons),
        cmocka_unit_test(test_reject_run_id_length),
        cmocka_unit_test(test_truncated_and_garbage),
        cmocka_unit_test(test_expansion_capped),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
