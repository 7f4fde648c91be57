/* test_agent_result.c - the agent's pyscope.run/1 -> wire Result mapping (agent/result.c):
 * outcomes, top functions, stacks as indices (functions they need added, depth capped),
 * refused results, and that everything decodes and validates on the other side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "result.h"
#include "runjob.h"
#include "wire.h"
#include "xmalloc.h"

static json_t *host_json(void)
{
    return json_pack("{ss ss ss si sI ss ss ss ss s[fff]}", "fingerprint", "0123456789abcdef",
                     "hostname", "h1", "cpu_model", "cpu", "cores", 2, "mem_bytes",
                     (json_int_t)1 << 30, "os", "Debian", "kernel", "6.1", "arch", "x86_64",
                     "governor", "performance", "loadavg", 0.5, 0.4, 0.3);
}

static struct runjob *job(void)
{
    struct wire_job j = {.job_id = 7,
                         .attempt = 2,
                         .batch_id = 1,
                         .script = "ex/a.py",
                         .repeat = 2,
                         .mode = WIRE_MODE_SAMPLE,
                         .timeout_s = 10};
    struct runjob *rj = runjob_new(&j);
    snprintf(rj->started_at, sizeof(rj->started_at), "2026-11-24T08:00:00Z");
    memset(rj->sha256, 'a', 64);
    rj->sha256[64] = '\0';
    return rj;
}

/* A run document with nf functions (f0 biggest) and stacks using them. */
static json_t *run_doc(const char *outcome, size_t nf)
{
    json_t *fns = json_array();
    for (size_t i = 0; i < nf; i++) {
        char key[64];
        snprintf(key, sizeof(key), "ex/a.py:f%zu:%zu", i, i + 1);
        json_array_append_new(fns,
                              json_pack("{ss si sf sf s[ff] s[ff]}", "key", key, "calls", (int)i,
                                        "self_s", 0.001, "total_s", 1.0 / (double)(i + 1),
                                        "self_s_runs", 0.001, 0.001, "total_s_runs", 0.5, 0.6));
    }
    json_t *stacks = json_array();
    /* Uses f0, f1 and the 250th function (outside the top 200). */
    json_array_append_new(stacks, json_pack("{ss s[sss] sf}", "thread", "MainThread", "frames",
                                            "ex/a.py:f0:1", "ex/a.py:f1:2", "ex/a.py:f249:250",
                                            "samples", 10.0));
    /* A frame no function describes: added with zero times. */
    json_array_append_new(stacks, json_pack("{ss s[ss] sf}", "thread", "T2", "frames",
                                            "ex/a.py:f0:1", "<frozen x>:g:0", "samples", 5.0));
    /* Deeper than the wire allows: the leaf end is kept. */
    json_t *deep = json_array();
    for (int i = 0; i < 600; i++)
        json_array_append_new(deep, json_string(i == 599 ? "ex/a.py:f2:3" : "ex/a.py:f0:1"));
    json_array_append_new(
        stacks, json_pack("{ss so sf}", "thread", "MainThread", "frames", deep, "samples", 1.0));
    json_t *doc =
        json_pack("{ss ss s{ss} s{ss ss ss} s{ss ss} s[{sf sf sI si sn sb}{sf sf sI sn si sb}]"
                  " s{so so}}",
                  "schema", "pyscope.run/1", "created", "2026-11-24T08:23:14.567350Z", "script",
                  "sha256", "ignored", "python", "version", "3.11.2", "build", "3.11.2 (main)",
                  "executable", "/usr/bin/python3.11", "status", "outcome", outcome, "message",
                  "exited with status 0", "runs", "wall_s", 1.5, "cpu_s", 0.5, "peak_rss_bytes",
                  (json_int_t)20000000, "exit_code", 0, "signal", "timed_out", 0, "wall_s", 1.6,
                  "cpu_s", 0.6, "peak_rss_bytes", (json_int_t)21000000, "exit_code", "signal", 9,
                  "timed_out", 1, "profile", "functions", fns, "stacks", stacks);
    /* the first repeat measured its contention (steal unreadable), the second none */
    json_t *r0 = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *cont = json_pack("{sf si si sf sn sf sf sf}", "run_delay_s", 0.4, "ctx_voluntary", 3,
                             "ctx_involuntary", 77, "load1", 2.5, "steal_s", "ref_cpu_ns", 351234.0,
                             "ref_script_cpu_s", 0.21, "ref_script_wall_s", 0.26);
    json_object_update(r0, cont);
    json_decref(cont);
    return doc;
}

/* Build, then decode and validate like the coordinator would. */
static struct wire_msg *build(const struct runjob *rj, json_t *run, enum wire_outcome oc,
                              const char *msg, char id[37])
{
    json_t *host = host_json();
    struct wire_python py = {"3.11.2", "3.11.2 (agent)", "/usr/bin/python3.11"};
    struct wire_label labels[1] = {{"rack", "b2"}};
    struct result_ctx ctx = {.host = host, .python = &py, .labels = labels, .n_labels = 1};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(result_build(&ctx, rj, run, oc, msg, &buf, &len, id), 0);
    struct wire_error werr;
    struct wire_msg *m = wire_decode(buf, len, &werr);
    if (!m)
        fail_msg("decode: %s", werr.msg);
    free(buf);
    json_decref(host);
    assert_int_equal(m->type, WIRE_RESULT);
    return m;
}

static void test_ok_run(void **state)
{
    (void)state;
    struct runjob *rj = job();
    json_t *run = run_doc("ok", 300);
    char id[37];
    struct wire_msg *m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    const struct wire_result *r = &m->result;
    char back[37];
    wire_run_id_format(r->run_id, back);
    assert_string_equal(back, id);
    assert_int_equal(r->job_id, 7);
    assert_int_equal(r->attempt, 2);
    assert_int_equal(r->outcome, WIRE_OUTCOME_OK);
    assert_string_equal(r->message, "exited with status 0");
    assert_string_equal(r->script_key, "ex/a.py");
    assert_string_equal(r->script_sha256, rj->sha256); /* the agent's own hash wins */
    assert_string_equal(r->python.build, "3.11.2 (main)");
    assert_string_equal(r->host.fingerprint, "0123456789abcdef");
    assert_int_equal(r->host.n_labels, 1);
    assert_string_equal(r->started_at, "2026-11-24T08:23:14.567350Z");
    assert_int_equal(r->n_runs, 2);
    assert_true(r->runs[1].timed_out);
    assert_int_equal(r->runs[1].signal, 9);
    assert_int_equal(r->runs[0].peak_rss_bytes, 20000000);
    /* contention: passed on when the runner measured it; null or absent is unknown */
    assert_true(r->runs[0].has_run_delay && r->runs[0].run_delay_s == 0.4);
    assert_true(r->runs[0].has_ctx && r->runs[0].ctx_involuntary == 77);
    assert_true(r->runs[0].has_load1 && r->runs[0].load1 == 2.5);
    assert_false(r->runs[0].has_steal); /* null */
    assert_true(r->runs[0].has_ref && r->runs[0].ref_cpu_ns == 351234.0);
    /* pyscope-run --reference: the interleaved reference script's figures */
    assert_true(r->runs[0].has_ref_script && r->runs[0].ref_script_cpu_s == 0.21 &&
                r->runs[0].ref_script_wall_s == 0.26);
    assert_false(r->runs[1].has_ref_script);
    assert_false(r->runs[1].has_run_delay || r->runs[1].has_ctx || r->runs[1].has_load1 ||
                 r->runs[1].has_ref);
    /* The top 200, plus f249 and the frozen frame the stacks need. */
    assert_int_equal(r->n_functions, RESULT_TOP_FUNCTIONS + 2);
    assert_string_equal(r->functions[0].key, "ex/a.py:f0:1");
    assert_int_equal(r->functions[0].n_total_s_runs, 2);
    assert_int_equal(r->n_stacks, 3);
    for (size_t i = 0; i < r->n_stacks; i++)
        for (size_t k = 0; k < r->stacks[i].n_frames; k++)
            assert_true(r->stacks[i].frames[k] < r->n_functions);
    /* Biggest stack first; its frames map back to their keys. */
    assert_true(r->stacks[0].samples == 10.0);
    assert_string_equal(r->functions[r->stacks[0].frames[2]].key, "ex/a.py:f249:250");
    assert_string_equal(r->functions[r->stacks[1].frames[1]].key, "<frozen x>:g:0");
    assert_int_equal(r->stacks[2].n_frames, WIRE_MAX_FRAMES);
    assert_string_equal(r->functions[r->stacks[2].frames[WIRE_MAX_FRAMES - 1]].key, "ex/a.py:f2:3");
    wire_msg_destroy(&m);
    json_decref(run);
    runjob_destroy(&rj);
}

/* pyscope-run --instructions (Job.instructions): instructions.counts[i] is runs[i]'s count;
 * a document without them (or a null count) sends 0: not counted. profile.forks is sent as
 * Result.child_processes (the counts cover the script's own process only), and
 * instructions.python_threads as Result.python_threads (over 1: the counts are not exact). */
static void test_instruction_counts(void **state)
{
    (void)state;
    struct runjob *rj = job();
    json_t *run = run_doc("ok", 3);
    char id[37];
    struct wire_msg *m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    assert_true(m->result.runs[0].instructions == 0 && m->result.runs[1].instructions == 0);
    wire_msg_destroy(&m);
    json_object_set_new(
        run, "instructions",
        json_pack("{ss s[In]}", "tool", "cachegrind", "counts", (json_int_t)52855432123));
    m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    assert_true(m->result.runs[0].instructions == 52855432123ull);
    assert_true(m->result.runs[1].instructions == 0); /* null: not counted */
    assert_int_equal(m->result.child_processes, 0);
    wire_msg_destroy(&m);
    /* the script started child processes (profile.forks): said, as their counts are not in */
    json_object_set_new(json_object_get(run, "profile"), "forks", json_integer(2));
    m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    assert_int_equal(m->result.child_processes, 2);
    assert_int_equal(m->result.python_threads, 0); /* the document did not say: not known */
    wire_msg_destroy(&m);
    /* instructions.python_threads: over 1, the counts vary with the load (not exact) */
    json_t *in = json_object_get(run, "instructions");
    json_object_set_new(in, "python_threads", json_integer(5));
    json_object_set_new(in, "exact", json_false());
    m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    assert_int_equal(m->result.python_threads, 5);
    wire_msg_destroy(&m);
    json_object_set_new(in, "python_threads", json_integer((json_int_t)1 << 40)); /* clamped */
    m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
    assert_int_equal(m->result.python_threads, INT32_MAX);
    wire_msg_destroy(&m);
    json_decref(run);
    runjob_destroy(&rj);
}

static void test_outcomes(void **state)
{
    (void)state;
    const char *names[] = {"failed", "timeout", "weird"};
    enum wire_outcome want[] = {WIRE_OUTCOME_FAILED, WIRE_OUTCOME_TIMEOUT, WIRE_OUTCOME_FAILED};
    for (int i = 0; i < 3; i++) {
        struct runjob *rj = job();
        json_t *run = run_doc(names[i], 3);
        char id[37];
        struct wire_msg *m = build(rj, run, WIRE_OUTCOME_UNSPECIFIED, NULL, id);
        assert_int_equal(m->result.outcome, want[i]);
        wire_msg_destroy(&m);
        json_decref(run);
        runjob_destroy(&rj);
    }
}

static void test_refused_and_errors(void **state)
{
    (void)state;
    struct runjob *rj = job();
    rj->sha256[0] = '\0';
    char id[37], id2[37];
    struct wire_msg *m = build(rj, NULL, WIRE_OUTCOME_REFUSED, "refused: outside", id);
    assert_int_equal(m->result.outcome, WIRE_OUTCOME_REFUSED);
    assert_string_equal(m->result.message, "refused: outside");
    assert_int_equal(m->result.n_runs, 0);
    assert_int_equal(m->result.n_functions, 0);
    assert_string_equal(m->result.script_sha256, "");
    assert_string_equal(m->result.python.version, "3.11.2");
    wire_msg_destroy(&m);
    /* Every result gets its own run_id. */
    m = build(rj, NULL, WIRE_OUTCOME_ERROR, NULL, id2);
    assert_string_not_equal(id, id2);
    assert_string_equal(m->result.message, "");
    wire_msg_destroy(&m);
    /* A message over the wire's cap is replaced, not sent. */
    char *longmsg = xmalloc(WIRE_MAX_STRING + 10);
    memset(longmsg, 'x', WIRE_MAX_STRING + 9);
    longmsg[WIRE_MAX_STRING + 9] = '\0';
    m = build(rj, NULL, WIRE_OUTCOME_ERROR, longmsg, id);
    assert_string_equal(m->result.message, "(message too long)");
    wire_msg_destroy(&m);
    free(longmsg);
    runjob_destroy(&rj);
}

int main(void)
{
    log_init("test_agent_result", LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_run),
        cmocka_unit_test(test_instruction_counts),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_refused_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
