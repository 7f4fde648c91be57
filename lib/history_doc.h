/*
 * history_doc.h - the pyscope.history/1 document (docs/json-schema.md).
 *
 * One builder for a series' history, used by `pyscope history` (local
 * reports or the farm) and by the coordinator's /series page: each run's
 * statistics of one metric, its verdict against its own baseline (the runs
 * before it since the latest change point, lib/regress), the E-divisive
 * change points over the run medians, where the baseline of the next run
 * starts, and the script's other series.
 */
#ifndef PYSCOPE_HISTORY_DOC_H
#define PYSCOPE_HISTORY_DOC_H

#include <stddef.h>

#include <jansson.h>

#include "regress.h"

/* Change points looked for in a series. */
#define HISTORY_DOC_MAX_CPS 32

/*
 * Build the pyscope.history/1 document of key from the run documents
 * in[0..nin) (borrowed, oldest first; pyscope.run/1 or the farm's series
 * runs) and their files (borrowed; NULL: none, "file" is null). The series
 * is host_fp's (NULL: the newest document's host) with the newest matching
 * document's Python build; the other documents are counted in
 * "other_series". reports_dir may be NULL (farm). metric: the samples the
 * series is made of (history_samples; documents without any are left out);
 * other than wall_s, the document says "metric" and names its statistics
 * median_<metric> ... The series is of one profiling mode (history_mode():
 * mode_opt, NULL: the newest matching document's), said in "mode"; the
 * other modes' runs count as other series. Returns a new object.
 */
json_t *history_doc_build(const char *host_fp, const char *reports_dir, const char *key,
                          const json_t *const *in, const char *const *in_paths, size_t nin,
                          const struct regress_options *opt, const char *metric,
                          const char *mode_opt);

/*
 * The history document of a farm series: series (borrowed) is the "series"
 * object of a pyscope.series/1 answer (no "error"). history_doc_build over
 * its runs, then the farm's parts: "source": "farm", "coordinator" (the
 * given URL, or null), each run's batch_id and the stored regressions whose
 * candidate it is, the series' "stored_regressions", host and other series.
 * by_commit: the runs in their commits' order in history (generation, then
 * time; runs without a commit first), "order": "commit" (else "time"); each
 * run keeps its "commit" (pyscope_commit object or null). Returns a new object.
 */
json_t *history_doc_from_series(const json_t *series, const char *key,
                                const struct regress_options *opt, const char *metric,
                                const char *mode_opt, const char *coordinator, bool by_commit);

#endif
