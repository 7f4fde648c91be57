/*
 * agent.h - pyscope-agent's event loop (docs/DESIGN.md §11).
 *
 * One thread, one DEALER socket to the coordinator (routing id = the agent's
 * name), a socket monitor to see the link come and go, and a signalfd for
 * SIGTERM/SIGINT/SIGCHLD, all in one zmq_poll.
 *
 * Link states: DOWN (no connection) -> HELLO (handshake done, Hello sent;
 * resent every connect_timeout until a Welcome) -> READY (Welcome received).
 * Every time the link comes back the agent says Hello again, then resends
 * every result still in the spool and offers its free slots with Ready.
 * Ready(credit) is absolute: "I can take <credit> more jobs now"; it is sent
 * after the Welcome and whenever a slot frees. A Job beyond the free slots is
 * queued, not refused. Heartbeat lists the running and queued (job, attempt)
 * pairs. A dead coordinator is detected by ZMTP heartbeats (PING every
 * heartbeat period, the link dropped after dead_periods without a PONG); the
 * socket then reconnects by itself (a connect that hangs, as in a network
 * partition, is abandoned after 3 s and tried again). An unacked result is resent after
 * resend seconds; Error(UNKNOWN_JOB / STALE_ATTEMPT / MALFORMED / FORBIDDEN)
 * answering a result drops it from the spool (it can never be accepted),
 * Error(INTERNAL) keeps it for the next resend.
 *
 * Result durability: run -> result built -> spool_put (fsync) -> send ->
 * Ack(run_id) -> spool_remove. Nothing is deleted before its ack.
 */
#ifndef PYSCOPE_AGENT_AGENT_H
#define PYSCOPE_AGENT_AGENT_H

#include "agent_config.h"

/*
 * Run the agent with cfg (borrowed) until SIGTERM or SIGINT. Returns 0 after
 * a clean shutdown, or a negative code when it could not start.
 */
int agent_run(const struct agent_config *cfg);

#endif
