/*
 * html_hosts.h - a self-contained HTML page for `pyscope compare-hosts`.
 *
 * Reads the coordinator's pyscope.compare_hosts/1 answer (docs/json-schema.md)
 * and draws each host pair's ratio of medians B/A with its 95% interval as a
 * forest plot (inline SVG, a line at 1 = same speed), then the table of pairs
 * (medians, sample counts, Python builds, differing builds flagged) and the
 * hosts' series. Inline SVG and CSS only (no script, no external URL), every
 * input string escaped.
 */
#ifndef PYSCOPE_HTML_HOSTS_H
#define PYSCOPE_HTML_HOSTS_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "html_page.h"

/*
 * Write the page for doc (borrowed: {"schema": "pyscope.compare_hosts/1",
 * "compare_hosts": {...}}) to out. Returns 0, -PYSCOPE_ESCHEMA (message in
 * err, errlen bytes, may be 0) or -EIO when writing failed.
 */
int html_hosts_write(FILE *out, const json_t *doc, char *err, size_t errlen);

/*
 * The farm's hosts page (the coordinator's /hosts): a host x host matrix of
 * how much longer the same scripts take on one than on the other (pairs,
 * borrowed: [{host_a, fp_a, host_b, fp_b, scripts, geomean, min, max}], the
 * ratios B/A of median wall times in batch (borrowed: {id, label})), then
 * the hosts (borrowed: pyscope.hosts/1's array) with their machine, system,
 * agents and Python builds. site: the served page's (borrowed). Returns 0,
 * -PYSCOPE_ESCHEMA or -EIO.
 */
int html_hosts_farm_write(FILE *out, const json_t *hosts, const json_t *pairs, const json_t *batch,
                          const struct html_site *site, char *err, size_t errlen);

#endif
