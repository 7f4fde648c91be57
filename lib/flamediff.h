/*
 * flamediff.h - a differential flame graph: where a candidate's time went,
 * compared with its baseline.
 *
 * A tree of call paths (root first) in which every node carries two weights:
 * the baseline's and the candidate's seconds per run, inclusive (the frame and
 * everything it called). A run's stacks are added as shares of the run's
 * samples times the run's wall time, so runs sampled at different intervals,
 * or traced, compare; each side is the mean over its runs. Threads are merged.
 *
 * Drawn as a static SVG (no script): root on top, callees below, widths the
 * candidate's time (what the program does now), each frame coloured by the
 * change of its time against the baseline, as differential flame graphs do
 * (red: grew, blue: shrank, grey: about the same; intensity relative to the
 * largest change below the root), with a tooltip (<title>) giving both times
 * and the change. Frames the candidate no longer runs have no width; the
 * functions it runs under no caller at all (a path its samples missed, such as
 * one level less of a recursion, is not one) are listed under the graph.
 *
 * The tree travels inside JSON reports (the team report) in a compact form
 * (flame_diff_to_json) and is read back by flame_diff_from_json, which treats
 * its input as untrusted.
 */
#ifndef PYSCOPE_FLAMEDIFF_H
#define PYSCOPE_FLAMEDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define FLAME_DIFF_MAX_NODES 200   /* nodes kept by flame_diff_prune() by default */
#define FLAME_DIFF_MIN_SHARE 0.005 /* and the smallest share of the larger side's total */
#define FLAME_DIFF_MAX_DEPTH 128   /* frames kept per stack, root first */

enum flame_side { FLAME_BASE = 0, FLAME_CAND = 1 };

struct flame_diff;

/* A new, empty diff (caller owns: flame_diff_destroy). */
struct flame_diff *flame_diff_new(void);

/* Free fd (NULL-safe) and set *fd to NULL. */
void flame_diff_destroy(struct flame_diff **fd);

/*
 * Add one run's stacks to side: stacks (borrowed) is an array of {"frames":
 * [...], "samples": n} (root first; other members ignored); a frame is a
 * function key string, or, when functions (borrowed, an array of key strings)
 * is given, an index into it. run_seconds is the run's time (its median wall
 * time): a stack weighs samples / all samples of the run * run_seconds.
 * Malformed stacks and frames are skipped. Returns true when the run had a
 * usable stack (only then does it count as one of the side's runs).
 */
bool flame_diff_add_run(struct flame_diff *fd, enum flame_side side, const json_t *stacks,
                        const json_t *functions, double run_seconds);

/*
 * Add the stacks of a pyscope.report/1 or pyscope.run/1 document (borrowed:
 * profile.stacks, frames as keys) to side, as one run of its median wall time
 * (summary.wall_s.median, else the median of runs[].wall_s). Returns true when
 * it had usable stacks.
 */
bool flame_diff_add_report(struct flame_diff *fd, enum flame_side side, const json_t *report);

/* Runs added to side. */
size_t flame_diff_runs(const struct flame_diff *fd, enum flame_side side);

/* Seconds per run of side (the root's weight: the mean over the side's runs). */
double flame_diff_total(const struct flame_diff *fd, enum flame_side side);

/*
 * Keep the nodes whose larger weight is at least min_share of the larger
 * side's total, at most max_nodes of them (the heaviest; a kept node's
 * ancestors are always kept).
 */
void flame_diff_prune(struct flame_diff *fd, double min_share, size_t max_nodes);

/*
 * The tree as new JSON (caller owns): {"baseline_runs": n, "candidate_runs":
 * n, "frames": [key, ...], "nodes": [[parent, frame, base_s, cand_s], ...]}
 * with nodes in pre-order, parent -1 for a child of the root, weights in
 * seconds per run (means over the side's runs).
 */
json_t *flame_diff_to_json(const struct flame_diff *fd);

/*
 * Read a tree written by flame_diff_to_json from doc (borrowed, untrusted):
 * a node whose parent is not an earlier node, whose frame is out of range or
 * whose weights are not finite and >= 0 is dropped with its subtree; at most
 * 4 x FLAME_DIFF_MAX_NODES nodes are read. Returns a new diff, or NULL (err
 * says why) when doc is not such an object.
 */
struct flame_diff *flame_diff_from_json(const json_t *doc, char *err, size_t errlen);

/*
 * Write the graph as an inline <svg> (a self-contained figure, no script),
 * with a legend line and the list of functions that vanished, to out. id
 * (a fixed string, not input) names the figure for tests and anchors.
 * Writes a note instead when the diff is empty on either side.
 */
void flame_diff_write_svg(FILE *out, const struct flame_diff *fd, const char *id);

#endif
