/*
 * query_series.h - one script's history on the farm, and host vs host.
 *
 * Query KIND_SERIES answers "pyscope history SCRIPT --host H" from the
 * farm: the ok runs of one series (script, host, Python build), oldest
 * first, each as a document lib/regress reads (id, created, script key and
 * content hash, host, Python build, per-repeat wall/cpu/peak memory
 * samples) plus its batch; the regressions the batch analysis stored on that
 * series; and the script's other series (other hosts or builds) with their
 * run counts. The CLI computes the verdicts and change points itself, with
 * the code local history uses.
 *
 * Query KIND_COMPARE_HOSTS answers "pyscope compare-hosts SCRIPT": for each
 * pair of hosts that ran the script (or the hosts named), the ratio of
 * medians B/A of one metric over each host's newest runs, with the 95%
 * bootstrap interval of the team report's hardware comparison
 * (report_hardware_pair), on a Python build both hosts ran when there is
 * one; each pair names the open findings of its two series (a ratio that
 * includes a regression is not the hardware) and says what its ratio
 * measures (coordinator/hostpair.h): two hosts of one machine (agents.machine) are
 * their load, not their hardware; a wall time contaminated by waiting for a
 * CPU (runs.run_delay_s) is shown with the CPU-time ratio. The team report's hardware
 * comparison and matrix are made by the same code (query_series_hardware).
 *
 * Query KIND_COMPARE_PYTHONS answers "pyscope compare-pythons SCRIPT": one
 * host's newest runs of the script under each Python build (or the ones
 * asked for), each build's wall/CPU/memory medians, and each against the
 * baseline build: the ratio of medians with its 95% bootstrap interval (the
 * same report_hardware_pair) and lib/regress's verdict on its runs against
 * the baseline's (docs/pythons.md).
 *
 * Problems the user can fix (an unknown script or host, a host named twice,
 * fewer than two hosts) are answered in the document's "error" object
 * ({code, message}), not as a protocol error. The JSON is documented in
 * docs/json-schema.md (pyscope.series/1, pyscope.compare_hosts/1,
 * pyscope.compare_pythons/1). Reads
 * only the runs columns wall_s, cpu_s, peak_rss_bytes, run_delay_s, script_sha256,
 * python_build, python_version, python_executable, stored_at, batch_id, host_id, script_id,
 * outcome, run_id and the hosts, agents (machine), scripts and regressions tables.
 */
#ifndef PYSCOPE_COORD_QUERY_SERIES_H
#define PYSCOPE_COORD_QUERY_SERIES_H

#include <jansson.h>

#include "store.h"
#include "wire.h"

/* Runs of a series returned when the query's limit is 0 (as local history). */
#define QUERY_SERIES_DEFAULT_RUNS 200u
/* Newest runs per host and Python build pooled by compare_hosts when limit is 0. */
#define QUERY_COMPARE_DEFAULT_RUNS 5u
/* Runs per Python build compare_pythons reads unless the query's limit says. */
#define QUERY_PYTHONS_DEFAULT_RUNS 10u
/* compare-pythons: functions listed per Python build (those whose self time moved most) */
#define QUERY_PYTHONS_TOP_FUNCTIONS 5u

/*
 * Answer q (borrowed, kind SERIES, COMPARE_HOSTS or COMPARE_PYTHONS, validated) into *out (a
 * new object, caller owns). Returns 0 or a negative code with err (database
 * errors only).
 */
int query_series_answer(struct store *store, const struct wire_query *q, json_t **out, char *err,
                        size_t errlen);

/*
 * The team report's hardware comparison, made exactly as compare-hosts makes
 * it (the newest QUERY_COMPARE_DEFAULT_RUNS wall-time runs per host and
 * Python build, from batches up to max_batch; 0: all): for each script of
 * scope (borrowed: [{"script_id", "script", "host_id"}]) and each pair of its
 * hosts in scope, at most max_pairs pairs in *pairs (new array; the objects
 * of pyscope.compare_hosts/1's "pairs", "findings" included), and each
 * (script, host)'s level in *levels (new object {"SCRIPT_ID/HOST_ID":
 * {"python_build", "machine" (the host's, null unknown), "runs": [[batch id,
 * wall_s samples, queued share % or null]], newest first}}). Each pair says
 * what its ratio measures (coordinator/hostpair.h: one machine, contaminated wall
 * time, the CPU-time ratio then). Returns 0 or a negative code with err.
 */
/*
 * The team report's Python comparison, made exactly as compare-pythons makes it
 * (pyscope.compare_pythons/1, functions included, from the ok runs of batches up to
 * max_batch): for each (script, host) of scope (borrowed: [{"script_id", "script",
 * "host_id", "host"}]) that ran the script under two Python builds or more whose newest
 * run is of batch min_batch or later. *out (new): {"sets": [at most max_sets
 * compare_pythons documents with "script"], "total": how many there were}. Returns 0 or a
 * negative code with err.
 */
int query_series_pythons(struct store *store, const json_t *scope, uint64_t min_batch,
                         uint64_t max_batch, size_t max_sets, json_t **out, char *err,
                         size_t errlen);

int query_series_hardware(struct store *store, const json_t *scope, uint64_t max_batch,
                          size_t max_pairs, json_t **pairs, json_t **levels, char *err,
                          size_t errlen);

#endif
