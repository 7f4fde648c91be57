/* test_router_fsm.c - the router's per-peer state table (coordinator/router_fsm.h):
 * every cell against the table in the header, the events of messages, the roles
 * CURVE keys need, and a whole agent's life through the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "router_fsm.h"

#define N ROUTER_STATE_NEW
#define R ROUTER_STATE_READY
#define U ROUTER_STATE_RUNNING

static void expect(enum router_state s, enum router_event e, enum router_action a,
                   enum router_state next)
{
    struct router_step st = router_fsm_step(s, e);
    if (st.action != a || st.next != next)
        fail_msg("state %s, event %d: action %d -> %s, want %d -> %s", router_fsm_state_name(s),
                 (int)e, (int)st.action, router_fsm_state_name(st.next), (int)a,
                 router_fsm_state_name(next));
}

static void test_every_cell(void **state)
{
    (void)state;
    /* before Hello: only Hello, Submit and Query are served */
    expect(N, ROUTER_EV_HELLO, ROUTER_DO_REGISTER, R);
    expect(N, ROUTER_EV_READY, ROUTER_DO_REFUSE_NO_HELLO, N);
    expect(N, ROUTER_EV_HEARTBEAT, ROUTER_DO_REFUSE_NO_HELLO, N);
    expect(N, ROUTER_EV_HEARTBEAT_IDLE, ROUTER_DO_REFUSE_NO_HELLO, N);
    expect(N, ROUTER_EV_RESULT, ROUTER_DO_REFUSE_NO_HELLO, N);
    expect(N, ROUTER_EV_SUBMIT, ROUTER_DO_SUBMIT, N);
    expect(N, ROUTER_EV_QUERY, ROUTER_DO_QUERY, N);
    expect(N, ROUTER_EV_COORD_ONLY, ROUTER_DO_REFUSE_NOT_OURS, N);
    expect(N, ROUTER_EV_JOB_SENT, ROUTER_DO_NOTHING, N);
    /* ready */
    expect(R, ROUTER_EV_HELLO, ROUTER_DO_REGISTER, R);
    expect(R, ROUTER_EV_READY, ROUTER_DO_CREDIT, R);
    expect(R, ROUTER_EV_HEARTBEAT, ROUTER_DO_RENEW, R);
    expect(R, ROUTER_EV_HEARTBEAT_IDLE, ROUTER_DO_RENEW, R);
    expect(R, ROUTER_EV_RESULT, ROUTER_DO_STORE, R);
    expect(R, ROUTER_EV_SUBMIT, ROUTER_DO_SUBMIT, R);
    expect(R, ROUTER_EV_QUERY, ROUTER_DO_QUERY, R);
    expect(R, ROUTER_EV_COORD_ONLY, ROUTER_DO_REFUSE_NOT_OURS, R);
    expect(R, ROUTER_EV_JOB_SENT, ROUTER_DO_NOTHING, U);
    /* running: an idle heartbeat or a Hello makes it ready */
    expect(U, ROUTER_EV_HELLO, ROUTER_DO_REGISTER, R);
    expect(U, ROUTER_EV_READY, ROUTER_DO_CREDIT, U);
    expect(U, ROUTER_EV_HEARTBEAT, ROUTER_DO_RENEW, U);
    expect(U, ROUTER_EV_HEARTBEAT_IDLE, ROUTER_DO_RENEW, R);
    expect(U, ROUTER_EV_RESULT, ROUTER_DO_STORE, U);
    expect(U, ROUTER_EV_SUBMIT, ROUTER_DO_SUBMIT, U);
    expect(U, ROUTER_EV_QUERY, ROUTER_DO_QUERY, U);
    expect(U, ROUTER_EV_COORD_ONLY, ROUTER_DO_REFUSE_NOT_OURS, U);
    expect(U, ROUTER_EV_JOB_SENT, ROUTER_DO_NOTHING, U);
    /* outside the table: refused, never an out-of-bounds read */
    expect(ROUTER_STATE_COUNT, ROUTER_EV_HELLO, ROUTER_DO_REFUSE_NOT_OURS, N);
    expect(R, ROUTER_EV_COUNT, ROUTER_DO_REFUSE_NOT_OURS, N);
    expect((enum router_state) - 1, ROUTER_EV_QUERY, ROUTER_DO_REFUSE_NOT_OURS, N);
}

static void test_events_of_messages(void **state)
{
    (void)state;
    struct wire_msg m;
    memset(&m, 0, sizeof(m));
    const struct {
        enum wire_type t;
        enum router_event e;
    } cases[] = {
        {WIRE_HELLO, ROUTER_EV_HELLO},
        {WIRE_READY, ROUTER_EV_READY},
        {WIRE_RESULT, ROUTER_EV_RESULT},
        {WIRE_SUBMIT, ROUTER_EV_SUBMIT},
        {WIRE_QUERY, ROUTER_EV_QUERY},
        {WIRE_WELCOME, ROUTER_EV_COORD_ONLY},
        {WIRE_JOB, ROUTER_EV_COORD_ONLY},
        {WIRE_ACK, ROUTER_EV_COORD_ONLY},
        {WIRE_ERROR, ROUTER_EV_COORD_ONLY},
        {WIRE_SUBMIT_REPLY, ROUTER_EV_COORD_ONLY},
        {WIRE_QUERY_REPLY, ROUTER_EV_COORD_ONLY},
        {WIRE_NONE, ROUTER_EV_COORD_ONLY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m.type = cases[i].t;
        assert_int_equal(router_fsm_event(&m), cases[i].e);
    }
    m.type = WIRE_HEARTBEAT;
    m.heartbeat.n_running = 0;
    assert_int_equal(router_fsm_event(&m), ROUTER_EV_HEARTBEAT_IDLE);
    m.heartbeat.n_running = 2;
    assert_int_equal(router_fsm_event(&m), ROUTER_EV_HEARTBEAT);
}

static void test_roles(void **state)
{
    (void)state;
    assert_int_equal(router_fsm_role(WIRE_HELLO), ZAP_ROLE_AGENT);
    assert_int_equal(router_fsm_role(WIRE_READY), ZAP_ROLE_AGENT);
    assert_int_equal(router_fsm_role(WIRE_HEARTBEAT), ZAP_ROLE_AGENT);
    assert_int_equal(router_fsm_role(WIRE_RESULT), ZAP_ROLE_AGENT);
    assert_int_equal(router_fsm_role(WIRE_SUBMIT), ZAP_ROLE_SUBMITTER);
    assert_int_equal(router_fsm_role(WIRE_QUERY), ZAP_ROLE_NONE);
    assert_int_equal(router_fsm_role(WIRE_JOB), ZAP_ROLE_NONE);
    assert_int_equal(router_fsm_role(WIRE_ACK), ZAP_ROLE_NONE);
}

/* An agent's life: refused before Hello, ready, running with jobs, ready when
 * idle, ready again after a second Hello (a reconnect). */
static void test_agent_life(void **state)
{
    (void)state;
    static const enum router_event life[] = {
        ROUTER_EV_RESULT,    ROUTER_EV_HELLO,  ROUTER_EV_READY, ROUTER_EV_JOB_SENT,
        ROUTER_EV_HEARTBEAT, ROUTER_EV_RESULT, ROUTER_EV_QUERY, ROUTER_EV_HEARTBEAT_IDLE,
        ROUTER_EV_JOB_SENT,  ROUTER_EV_HELLO,
    };
    static const enum router_state after[] = {N, R, R, U, U, U, U, R, U, R};
    enum router_state s = N;
    for (size_t i = 0; i < sizeof(life) / sizeof(life[0]); i++) {
        s = router_fsm_step(s, life[i]).next;
        assert_int_equal(s, after[i]);
    }
    assert_string_equal(router_fsm_state_name(R), "ready");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_cell),
        cmocka_unit_test(test_events_of_messages),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_agent_life),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
