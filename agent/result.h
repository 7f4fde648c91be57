/*
 * result.h - a finished job as an encoded Result envelope.
 *
 * Turns the runner's pyscope.run/1 document (docs/json-schema.md) into the
 * wire's Result: an agent-made UUID run_id, the measurements of every run,
 * the top functions (at most RESULT_TOP_FUNCTIONS, plus the functions the
 * kept stacks need) and the stacks as indices into those functions. The
 * message is validated (wire_validate) and kept under the wire's size cap
 * by dropping the smallest stacks first.
 */
#ifndef PYSCOPE_AGENT_RESULT_H
#define PYSCOPE_AGENT_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "runjob.h"
#include "wire.h"

/* Functions kept by total time before the stacks add the ones they need. */
#define RESULT_TOP_FUNCTIONS 200

/* What the agent knows besides the run document. */
struct result_ctx {
    const json_t *host;               /* hostinfo_collect() object (borrowed) */
    const struct wire_python *python; /* the agent's Python build (borrowed) */
    const struct wire_label *labels;  /* host labels (borrowed) */
    size_t n_labels;
};

/*
 * Build and encode the Result of rj. run (borrowed, may be NULL) is the
 * runner's document; outcome/message override it when run is NULL (refused,
 * runner failure). On success returns 0 with a new buffer in *out (caller
 * frees), its length in *len and the run_id's text in id_out.
 */
int result_build(const struct result_ctx *ctx, const struct runjob *rj, const json_t *run,
                 enum wire_outcome outcome, const char *message, uint8_t **out, size_t *len,
                 char id_out[37]);

/* Fill h from a hostinfo object (borrowed; strings borrowed from it). */
void result_host_from_json(struct wire_host *h, const json_t *host);

#endif
