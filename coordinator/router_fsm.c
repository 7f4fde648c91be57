/*
 * router_fsm.c - the router's per-peer state table (coordinator/router_fsm.h).
 */
#include "router_fsm.h"

#define STEP(a, n)                                                                                 \
    {                                                                                              \
        ROUTER_DO_##a, ROUTER_STATE_##n                                                            \
    }

/* [state][event]; a refusal or a CLI message leaves the state as it was. */
static const struct router_step table[ROUTER_STATE_COUNT][ROUTER_EV_COUNT] =
    {
        [ROUTER_STATE_NEW] =
            {
                [ROUTER_EV_HELLO] = STEP(REGISTER, READY),
                [ROUTER_EV_READY] = STEP(REFUSE_NO_HELLO, NEW),
                [ROUTER_EV_HEARTBEAT] = STEP(REFUSE_NO_HELLO, NEW),
                [ROUTER_EV_HEARTBEAT_IDLE] = STEP(REFUSE_NO_HELLO, NEW),
                [ROUTER_EV_RESULT] = STEP(REFUSE_NO_HELLO, NEW),
                [ROUTER_EV_SUBMIT] = STEP(SUBMIT, NEW),
                [ROUTER_EV_QUERY] = STEP(QUERY, NEW),
                [ROUTER_EV_JOB_SENT] = STEP(NOTHING, NEW),
                [ROUTER_EV_COORD_ONLY] = STEP(REFUSE_NOT_OURS, NEW),
            },
        [ROUTER_STATE_READY] =
            {
                [ROUTER_EV_HELLO] = STEP(REGISTER, READY),
                [ROUTER_EV_READY] = STEP(CREDIT, READY),
                [ROUTER_EV_HEARTBEAT] = STEP(RENEW, READY),
                [ROUTER_EV_HEARTBEAT_IDLE] = STEP(RENEW, READY),
                [ROUTER_EV_RESULT] = STEP(STORE, READY),
                [ROUTER_EV_SUBMIT] = STEP(SUBMIT, READY),
                [ROUTER_EV_QUERY] = STEP(QUERY, READY),
                [ROUTER_EV_JOB_SENT] = STEP(NOTHING, RUNNING),
                [ROUTER_EV_COORD_ONLY] = STEP(REFUSE_NOT_OURS, READY),
            },
        [ROUTER_STATE_RUNNING] =
            {
                [ROUTER_EV_HELLO] = STEP(REGISTER, READY),
                [ROUTER_EV_READY] = STEP(CREDIT, RUNNING),
                [ROUTER_EV_HEARTBEAT] = STEP(RENEW, RUNNING),
                [ROUTER_EV_HEARTBEAT_IDLE] = STEP(RENEW, READY),
                [ROUTER_EV_RESULT] = STEP(STORE, RUNNING),
                [ROUTER_EV_SUBMIT] = STEP(SUBMIT, RUNNING),
                [ROUTER_EV_QUERY] = STEP(QUERY, RUNNING),
                [ROUTER_EV_JOB_SENT] = STEP(NOTHING, RUNNING),
                [ROUTER_EV_COORD_ONLY] = STEP(REFUSE_NOT_OURS, RUNNING),
            },
};

struct router_step router_fsm_step(enum router_state state, enum router_event event)
{
    if ((unsigned)state >= ROUTER_STATE_COUNT || (unsigned)event >= ROUTER_EV_COUNT)
        return (struct router_step){ROUTER_DO_REFUSE_NOT_OURS, ROUTER_STATE_NEW};
    return table[state][event];
}

enum router_event router_fsm_event(const struct wire_msg *m)
{
    switch (m->type) {
    case WIRE_HELLO:
        return ROUTER_EV_HELLO;
    case WIRE_READY:
        return ROUTER_EV_READY;
    case WIRE_HEARTBEAT:
        return m->heartbeat.n_running == 0 ? ROUTER_EV_HEARTBEAT_IDLE : ROUTER_EV_HEARTBEAT;
    case WIRE_RESULT:
        return ROUTER_EV_RESULT;
    case WIRE_SUBMIT:
        return ROUTER_EV_SUBMIT;
    case WIRE_QUERY:
        return ROUTER_EV_QUERY;
    default:
        return ROUTER_EV_COORD_ONLY;
    }
}

enum zap_role router_fsm_role(enum wire_type t)
{
    switch (t) {
    case WIRE_HELLO:
    case WIRE_READY:
    case WIRE_HEARTBEAT:
    case WIRE_RESULT:
        return ZAP_ROLE_AGENT;
    case WIRE_SUBMIT:
        return ZAP_ROLE_SUBMITTER;
    default:
        return ZAP_ROLE_NONE;
    }
}

const char *router_fsm_state_name(enum router_state state)
{
    switch (state) {
    case ROUTER_STATE_NEW:
        return "new";
    case ROUTER_STATE_READY:
        return "ready";
    case ROUTER_STATE_RUNNING:
        return "running";
    default:
        return "?";
    }
}
