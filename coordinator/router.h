/*
 * router.h - the coordinator's protocol logic: one state machine per peer.
 *
 * An agent peer goes HELLO -> READY (after Welcome) -> RUNNING (holding
 * jobs); a message that its state does not allow gets Error(UNEXPECTED)
 * (an agent answers that by sending Hello again, e.g. after a coordinator
 * restart). Submit and Query are served in any state (the CLI never says
 * Hello). With CURVE, the ZAP User-Id ("role:name") decides: agent keys may
 * send agent messages and Query, submitter keys Submit and Query (another
 * role gets Error(FORBIDDEN)), and an agent is known by its key's name. A
 * message whose key is no longer in the allowlist (revoked since its
 * handshake: coordinator/zap.h) is ignored without an answer, and
 * router_check_keys() forgets revoked agents. Every refusal increments a
 * counter; counters are logged every stats interval and included in every
 * Query reply. All lasting state is in the store: the peer table only
 * remembers who is connected, their agent name, key and host, and their
 * outstanding credit. The states, events and actions are one table:
 * coordinator/router_fsm.h.
 */
#ifndef PYSCOPE_COORD_ROUTER_H
#define PYSCOPE_COORD_ROUTER_H

#include <stdint.h>

#include "analyst.h"
#include "coord_config.h"
#include "store.h"
#include "transport.h"
#include "writer.h"
#include "zap.h"

struct router;

/*
 * New router answering on sock (borrowed, a transport_open() socket) with
 * store, cfg and zap (borrowed, must outlive it; zap NULL without CURVE).
 * Caller owns the result.
 */
#define ROUTER_MAX_WRITERS CONFIG_MAX_WRITERS

/*
 * Results are stored by the n_writers (1..ROUTER_MAX_WRITERS) writers
 * (borrowed; router_destroy() waits for the groups they hold); analyst
 * (borrowed, may be NULL) analyses finished batches, its failures counted
 * as the router's "internal".
 */
struct router *router_new(void *sock, struct store *store, struct writer *const *writers,
                          size_t n_writers, struct analyst *analyst, const struct coord_config *cfg,
                          struct zap *zap);
/* Free the router and its peer table; NULL-safe; sets *r to NULL. */
void router_destroy(struct router **r);

/* Handle one received message (borrowed). Results are queued for router_flush(),
 * and so are the job claims of Ready messages and of a Submit's new jobs. */
void router_handle(struct router *r, const struct transport_msg *m, int64_t now_ms);

/*
 * Store the queued results in one transaction (group commit), then answer
 * each: Ack after the COMMIT, or its Error. Then claim jobs for every agent
 * with credit, in one more transaction, and send them. Call after each batch
 * of router_handle() calls; the result part also runs by itself when the
 * queue is full.
 */
/* End of a loop pass: answer a stored group, hand the writer the next one, claim jobs. */
void router_flush(struct router *r);

/* Count a connection event (enum transport_event). */
void router_connection_event(struct router *r, int event);

/* Periodic work due at now_ms (monotonic): dispatch waiting credit, reap
 * expired leases, forget silent peers, log counters. Returns ms until the next. */
int64_t router_tick(struct router *r, int64_t now_ms);

/*
 * With CURVE: when the allowlist changed since the last call, forget every
 * agent whose key was revoked (logged once each). Cheap when nothing
 * changed; call each loop turn.
 */
void router_check_keys(struct router *r);

/* Log every counter at info level. */
void router_log_counters(const struct router *r);

#endif
