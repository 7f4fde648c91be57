/*
 * html_axis.c - round steps for chart axes (lib/html_axis.h).
 */
#include "html_axis.h"

#include <math.h>

double html_axis_step(double range, int ticks, enum html_axis_round round)
{
    if (!(range > 0) || ticks < 1)
        return 1;
    double raw = range / ticks;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    double step;
    if (round == HTML_AXIS_AT_MOST)
        step = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    else
        step = m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10;
    return step * p;
}
