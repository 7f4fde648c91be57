/*
 * router_fsm.h - the router's per-peer state machine as a table (as zproto's
 * generated servers keep theirs): for each state and event, what the router does
 * and the state it goes to. coordinator/router.c looks every message up here;
 * tests/unit/test_router_fsm.c checks the whole table.
 *
 *   state \ event  Hello     Ready   Heartbeat  idle Heartbeat  Result  job sent
 *   NEW            register  refuse  refuse     refuse          refuse  -
 *                  ->READY
 *   READY          register  credit  renew      renew           store   ->RUNNING
 *   RUNNING        register  credit  renew      renew ->READY   store   ->RUNNING
 *                  ->READY
 *
 * NEW is a peer that has not said Hello (the router has no entry for it); its
 * agent messages are refused with Error(UNEXPECTED) "send hello first", and an
 * agent answers that by saying Hello again (after a coordinator restart). Submit
 * and Query are served in every state and change none (the CLI never says Hello);
 * a type only the coordinator sends (Welcome, Job, Ack, ...) is refused in every
 * state. "idle Heartbeat" is one that lists no running job.
 */
#ifndef PYSCOPE_COORD_ROUTER_FSM_H
#define PYSCOPE_COORD_ROUTER_FSM_H

#include "wire.h"
#include "zap.h"

enum router_state {
    ROUTER_STATE_NEW,     /* no Hello yet: not in the peer table */
    ROUTER_STATE_READY,   /* welcomed, holding no job */
    ROUTER_STATE_RUNNING, /* holding jobs */
    ROUTER_STATE_COUNT,
};

enum router_event {
    ROUTER_EV_HELLO,
    ROUTER_EV_READY,
    ROUTER_EV_HEARTBEAT,      /* with running jobs */
    ROUTER_EV_HEARTBEAT_IDLE, /* listing no running job */
    ROUTER_EV_RESULT,
    ROUTER_EV_SUBMIT,
    ROUTER_EV_QUERY,
    ROUTER_EV_JOB_SENT,   /* the router handed the peer a job */
    ROUTER_EV_COORD_ONLY, /* a type only a coordinator sends */
    ROUTER_EV_COUNT,
};

enum router_action {
    ROUTER_DO_NOTHING,         /* (a job sent: only the state moves) */
    ROUTER_DO_REGISTER,        /* store the agent and its host, send Welcome */
    ROUTER_DO_CREDIT,          /* take the Ready's credit, dispatch */
    ROUTER_DO_RENEW,           /* renew the Heartbeat's leases */
    ROUTER_DO_STORE,           /* queue the Result for the next group commit */
    ROUTER_DO_SUBMIT,          /* create the batch and its jobs */
    ROUTER_DO_QUERY,           /* answer */
    ROUTER_DO_REFUSE_NO_HELLO, /* Error(UNEXPECTED) "send hello first" */
    ROUTER_DO_REFUSE_NOT_OURS, /* Error(UNEXPECTED): a coordinator does not accept it */
};

struct router_step {
    enum router_action action;
    enum router_state next; /* after the action succeeds */
};

/* The table's cell for (state, event); out-of-range values refuse as NOT_OURS. */
struct router_step router_fsm_step(enum router_state state, enum router_event event);

/* The event a decoded message (borrowed) is. */
enum router_event router_fsm_event(const struct wire_msg *m);

/*
 * With CURVE, the role a message of type t needs from its key's User-Id:
 * ZAP_ROLE_AGENT for the agent's messages, ZAP_ROLE_SUBMITTER for Submit,
 * ZAP_ROLE_NONE for Query (either role) and for types only the coordinator
 * sends (refused as above whoever sends them).
 */
enum zap_role router_fsm_role(enum wire_type t);

/* A state's name for logs ("new", "ready", "running"). */
const char *router_fsm_state_name(enum router_state state);

#endif
