/*
 * export.h - a report's stacks in interchange formats.
 *
 * Collapsed stacks for Brendan Gregg's flamegraph.pl (and inferno, speedscope
 * import), and speedscope's own JSON file format. Both read the "profile" of a
 * pyscope.report/1 (or pyscope.run/1) document; malformed stacks are skipped.
 * A frame is shown as "name (file:line)", like py-spy.
 */
#ifndef PYSCOPE_EXPORT_H
#define PYSCOPE_EXPORT_H

#include <stdio.h>

#include <jansson.h>

/*
 * Write collapsed stacks of report (borrowed) to out: "frame;frame;frame count\n",
 * root first, one line per distinct stack in first-seen order, counts integers
 * (samples, or microseconds in trace mode). With several threads the thread name
 * is the root frame. ';' inside a frame becomes '_', control characters a space.
 * Returns 0, -PYSCOPE_ENODATA when there is no usable stack (nothing written), or
 * -EIO when writing failed.
 */
int export_collapsed(FILE *out, const json_t *report);

/*
 * Write report's (borrowed) stacks to out in speedscope's file format: one
 * "sampled" profile per thread over shared frames. Weights are seconds
 * (samples * interval_s) in sample mode, microseconds in trace mode, plain
 * sample counts when the interval is unknown. Returns 0, -PYSCOPE_ENODATA when
 * there is no usable stack (nothing written), -ENOMEM, or -EIO.
 */
int export_speedscope(FILE *out, const json_t *report);

#endif
