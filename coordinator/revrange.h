/*
 * revrange.h - the commits a regression's range holds (docs/revisions.md).
 *
 * A regression was first seen at a run of commit BAD; the newest run of its
 * baseline ran commit GOOD. The culprit is among the commits of BAD's
 * history that are not in GOOD's (git rev-list GOOD..BAD), found with
 * coordinator/revgraph over the commits submitters described (the commits table).
 * The team report and the series query show each regression's range: both
 * ends (hash, subject, author, date) and how many commits lie between.
 */
#ifndef PYSCOPE_COORD_REVRANGE_H
#define PYSCOPE_COORD_REVRANGE_H

#include <jansson.h>

#include "revgraph.h"
#include "store.h"

#define REVRANGE_MAX 10000 /* commits of one range counted at most */

/*
 * The JSON members revrange_annotate() reads, for a regressions row g (a SQL
 * alias): the commit of its newest baseline run (the last known good) and of
 * its candidate run (the first bad), NULL for runs in a workspace.
 */
#define REVRANGE_ENDS_SQL(g)                                                                       \
    "'good_commit_hash', (SELECT j.commit_hash FROM runs lr JOIN jobs j ON j.id = lr.job_id"       \
    " WHERE lr.run_id = " #g ".baseline_runs[cardinality(" #g ".baseline_runs)]),"                 \
    " 'bad_commit_hash', (SELECT j.commit_hash FROM runs cr JOIN jobs j ON j.id = cr.job_id"       \
    " WHERE cr.run_id = " #g ".candidate_run)"

/*
 * For each object of regs (borrowed, an array) with members good_commit_hash
 * and bad_commit_hash (removed here), set "range": null when a side ran no
 * commit, else {good, bad (pyscope_commit objects), commits (the number in
 * GOOD..BAD, BAD included: the candidates for the culprit), exact (false
 * when a commit of the walk was never described: commits is then a lower
 * bound), good_is_ancestor (false: the history was rewritten between them,
 * e.g. a force-push)}. Returns 0 or -EIO.
 */
int revrange_annotate(struct store *s, json_t *regs, char *err, size_t errlen);

/*
 * Load into g what the walk from good and bad needs (a window of generations,
 * then what it still lacks, in rounds) and compute the range into r (see
 * revgraph_range). Returns 0, -EINVAL (an end unknown) or -EIO.
 */
int revrange_compute(struct store *s, struct revgraph *g, const char *good, const char *bad,
                     struct revgraph_range *r, char *err, size_t errlen);

#endif
