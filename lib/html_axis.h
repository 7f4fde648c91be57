/*
 * html_axis.h - the step between the labelled ticks of a chart's axis: 1, 2 or 5
 * times a power of ten, so the labels read as round numbers.
 *
 * Two charts want two policies: the run report's memory timeline must not get more
 * than its ticks (HTML_AXIS_AT_MOST: the smallest round step >= range / ticks); the
 * history chart wants about its ticks (HTML_AXIS_NEAREST: the round step nearest
 * range / ticks, rounding at 1.5, 3 and 7).
 */
#ifndef PYSCOPE_HTML_AXIS_H
#define PYSCOPE_HTML_AXIS_H

enum html_axis_round {
    HTML_AXIS_AT_MOST, /* at most ticks intervals over range */
    HTML_AXIS_NEAREST, /* about ticks intervals */
};

/* The step for range (> 0; anything else gives 1) cut into ticks intervals. */
double html_axis_step(double range, int ticks, enum html_axis_round round);

#endif
