/*
 * test_contention.c - the supervisor's contention probe: the /proc parsers, and
 * real children made to wait for a CPU (pinned to one CPU beside a spinning
 * process), so that a broken run-queue reading or sampler exclusion fails.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contended.h"
#include "contention.h"
#include "supervise.h"

static void test_parsers(void **state)
{
    (void)state;
    uint64_t a, b;
    assert_int_equal(contention_parse_schedstat("3916174 25168655 2\n", &a, &b), 0);
    assert_true(a == 3916174 && b == 25168655);
    assert_int_equal(contention_parse_schedstat("12 x", &a, &b), -1);
    assert_int_equal(contention_parse_schedstat("", &a, &b), -1);
    assert_int_equal(contention_parse_schedstat(NULL, &a, &b), -1);

    assert_int_equal(contention_parse_steal("cpu  32921 3351 24146 86906 826 0 639 77 0 0\n"
                                            "cpu0 1 2 3 4 5 6 7 8 9 10\n",
                                            &a),
                     0);
    assert_int_equal(a, 77);
    assert_int_equal(contention_parse_steal("cpu0 1 2 3 4 5 6 7 8\n", &a), -1);
    assert_int_equal(contention_parse_steal("cpu  1 2 3\n", &a), -1);

    assert_int_equal(contention_parse_psi("some avg10=98.39 avg60=58.52 avg300=23.54 "
                                          "total=132801602\nfull avg10=0.00 avg60=0.00 "
                                          "avg300=0.00 total=0\n",
                                          &a),
                     0);
    assert_int_equal(a, 132801602);
    /* the "full" line's total must not be taken for "some" */
    assert_int_equal(contention_parse_psi("some avg10=1\nfull total=5\n", &a), -1);
    assert_int_equal(contention_parse_psi("full avg10=0 total=5\n", &a), -1);
    assert_int_equal(contention_parse_psi("some total=x\n", &a), -1);

    double mhz;
    assert_int_equal(contention_parse_cpuinfo_mhz("processor\t: 0\ncpu MHz\t\t: 2000.000\n"
                                                  "processor\t: 1\ncpu MHz\t\t: 3000.5\n",
                                                  &mhz),
                     0);
    assert_true(mhz > 2500.2 && mhz < 2500.3);
    assert_int_equal(contention_parse_cpuinfo_mhz("model name : x\n", &mhz), -1);
}

static void test_contended_judgements(void **state)
{
    (void)state;
    assert_true(contended_queued_pct(2.0, 1.0) == 50);
    assert_true(contended_queued_pct(0, 1.0) == 0);
    assert_true(contended_repeat(1.0, 0.5));
    assert_false(contended_repeat(1.0, 0.49));
    /* a document: 3 repeats; medians; older repeats without run_delay_s are skipped */
    json_t *doc = json_pack(
        "{s:[{s:f, s:f, s:f, s:f, s:f, s:i, s:i}, {s:f, s:f, s:f, s:f, s:f, s:i, s:i},"
        " {s:f, s:f, s:f, s:f, s:f, s:i, s:i}, {s:f, s:f}]}",
        "runs", "wall_s", 1.0, "cpu_s", 0.2, "run_delay_s", 0.8, "load1", 4.0, "steal_s", 0.0,
        "ctx_voluntary", 3, "ctx_involuntary", 400, "wall_s", 1.2, "cpu_s", 0.21, "run_delay_s",
        0.95, "load1", 4.2, "steal_s", 0.01, "ctx_voluntary", 4, "ctx_involuntary", 500, "wall_s",
        0.3, "cpu_s", 0.2, "run_delay_s", 0.09, "load1", 1.0, "steal_s", 0.0, "ctx_voluntary", 2,
        "ctx_involuntary", 20, "wall_s", 0.25, "cpu_s", 0.2);
    struct contended_summary s;
    assert_int_equal(contended_summarize(doc, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.n_contended, 2);
    assert_true(s.queued_pct > 79 && s.queued_pct < 80); /* 80, 79.2, 30 -> 79.2 */
    assert_true(s.cpu_bound_pct > 95);                   /* 0.2/0.2, 0.21/0.25, 0.2/0.21 */
    assert_true(contended_wall(&s) && contended_cpu_bound(&s));
    assert_true(s.has_load && s.load1 == 4.0);
    assert_true(s.has_ctx && s.ctx_involuntary == 400 && s.ctx_voluntary == 3);
    assert_true(s.has_steal && !s.has_mhz);
    json_decref(doc);
    /* an I/O-bound run: queueing, but not CPU-bound */
    doc = json_pack("{s:[{s:f, s:f, s:f}]}", "runs", "wall_s", 1.0, "cpu_s", 0.05, "run_delay_s",
                    0.1);
    assert_int_equal(contended_summarize(doc, &s), 0);
    assert_true(contended_wall(&s) && !contended_cpu_bound(&s));
    json_decref(doc);
    /* the wall time waited for a CPU: the summed run delay, at most the time nothing ran */
    assert_true(contended_own_wait(1.0, 0.1, 0.2) == 0.1);
    assert_true(fabs(contended_own_wait(1.0, 2.2, 0.3) - 0.7) < 1e-12);
    assert_true(contended_own_wait(1.0, 0.5, 1.8) == 0);  /* threads ran in parallel */
    assert_true(contended_own_wait(1.0, 2.2, -1) == 2.2); /* CPU time unknown */
    assert_true(fabs(contended_cpu_bound_pct(1.0, 2.2, 0.3) - 100) < 1e-9);
    assert_true(fabs(contended_cpu_bound_pct(1.0, 0.5, 1.8) - 180) < 1e-9);
    assert_true(fabs(contended_cpu_bound_pct(1.0, 0.5, 0.1) - 20) < 1e-9);
    assert_true(contended_cpu_bound_pct(1.0, 0.5, -1) < 0);
    assert_true(contended_cpu_bound_pct(1.0, 1.0, 0) < 0); /* ran no time at all */
    /* four GIL threads on a busy machine: their delays summed exceed the wall time, yet
     * the script is CPU-bound (it never waited on anything but a CPU) */
    doc = json_pack("{s:[{s:f, s:f, s:f}, {s:f, s:f, s:f}, {s:f, s:f, s:f}]}", "runs", "wall_s",
                    1.0, "cpu_s", 0.3, "run_delay_s", 2.2, "wall_s", 1.1, "cpu_s", 0.28,
                    "run_delay_s", 2.9, "wall_s", 0.9, "cpu_s", 0.31, "run_delay_s", 1.4);
    assert_int_equal(contended_summarize(doc, &s), 0);
    assert_true(s.queued_pct > 200);
    assert_true(fabs(s.cpu_bound_pct - 100) < 1e-9);
    assert_true(contended_wall(&s) && contended_cpu_bound(&s));
    json_decref(doc);
    assert_string_equal(contended_summed_note(s.queued_pct, 10), " (its threads' waits, summed)");
    assert_string_equal(contended_summed_note(99, 100), "");
    double qp, bp, w3[] = {1.0, 1.1, 0.9}, d3[] = {2.2, 2.9, 1.4}, c3[] = {0.3, 0.28, 0.31};
    assert_int_equal(contended_run(w3, d3, c3, 3, &qp, &bp), 0);
    assert_true(qp > 200 && fabs(bp - 100) < 1e-9);
    /* nothing to go on */
    doc = json_pack("{s:[{s:f}]}", "runs", "wall_s", 1.0);
    assert_int_equal(contended_summarize(doc, &s), -1);
    assert_false(contended_wall(&s) || contended_cpu_bound(&s));
    json_decref(doc);
}

/* ---- real children ------------------------------------------------------------ */

static int first_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set))
            return c;
    return -1;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(double secs)
{
    double end = now_s() + secs;
    while (now_s() < end)
        ;
}

/* A process spinning on cpu until killed. */
static pid_t hog(int cpu)
{
    pid_t pid = fork();
    if (pid == 0) {
        pin(cpu);
        for (;;)
            ;
    }
    return pid;
}

static int g_cpu;

/* The child: pinned beside the hog, spins 0.3 s of wall time. */
static void child_spin(void *arg)
{
    (void)arg;
    pin(g_cpu);
    spin(0.3);
    _exit(0);
}

static void *thread_spin(void *arg)
{
    /* Named before it spins (named by its creator after pthread_create, it spun
     * unnamed for the supervisor's first looks on a loaded machine under ASan). */
    if (arg)
        pthread_setname_np(pthread_self(), (const char *)arg);
    spin(0.3);
    return NULL;
}

/* The child: a thread named arg spins beside the hog while the main thread sleeps. */
static void child_named_thread(void *arg)
{
    pin(g_cpu);
    pthread_t t;
    pthread_create(&t, NULL, thread_spin, arg);
    pthread_join(t, NULL);
    _exit(0);
}

static void test_run_delay_real(void **state)
{
    (void)state;
    g_cpu = first_cpu();
    if (g_cpu < 0)
        skip();
    pid_t h = hog(g_cpu);
    struct run_measure m;
    /* two runnable tasks on one CPU: the child waits for it about half the time */
    assert_int_equal(supervise_run(child_spin, NULL, 10, false, &m), 0);
    assert_true(m.contention.has_run_delay);
    if (!(m.contention.run_delay_s > 0.2 * m.wall_s))
        fail_msg("run delay %.3f s of %.3f s wall beside a hog", m.contention.run_delay_s,
                 m.wall_s);
    assert_true(m.contention.has_ctx && m.contention.ctx_involuntary > 0);
    supervise_measure_release(&m);
    /* the same wait in a thread named like the profiler's sampler is left out ... */
    assert_int_equal(supervise_run(child_named_thread, CONTENTION_SAMPLER_NAME, 10, false, &m), 0);
    double sampler_delay = m.contention.run_delay_s, sampler_wall = m.wall_s;
    supervise_measure_release(&m);
    /* ... and counted in any other thread */
    assert_int_equal(supervise_run(child_named_thread, "worker", 10, false, &m), 0);
    double worker_delay = m.contention.run_delay_s, worker_wall = m.wall_s;
    supervise_measure_release(&m);
    kill(h, SIGKILL);
    waitpid(h, NULL, 0);
    if (!(worker_delay > 0.2 * worker_wall))
        fail_msg("worker thread: run delay %.3f s of %.3f s", worker_delay, worker_wall);
    if (!(sampler_delay < 0.5 * worker_delay))
        fail_msg("sampler thread counted: %.3f s of %.3f s (worker %.3f s)", sampler_delay,
                 sampler_wall, worker_delay);
}

static void child_sleep(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    _exit(0);
}

static void test_machine_fields(void **state)
{
    (void)state;
    struct run_measure m;
    assert_int_equal(supervise_run(child_sleep, NULL, 10, false, &m), 0);
    const struct contention *c = &m.contention;
    assert_true(c->has_run_delay);
    /* a sleeping child does not wait for a CPU most of its time, however busy the machine */
    assert_false(contended_repeat(m.wall_s, c->run_delay_s));
    assert_true(c->has_ctx && c->ctx_voluntary >= 1);
    assert_true(c->has_load1 && c->load1 >= 0);
    /* /proc/stat exists on every Linux: steal is known (0 on bare metal) */
    assert_true(c->has_steal && c->steal_s >= 0);
    if (c->has_cpu_mhz)
        assert_true(c->cpu_mhz > 0);
    supervise_measure_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_contended_judgements),
        cmocka_unit_test(test_run_delay_real),
        cmocka_unit_test(test_machine_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
