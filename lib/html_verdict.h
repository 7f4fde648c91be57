/*
 * html_verdict.h - regression verdicts in words, for every HTML page.
 *
 * One way to name a metric ("wall time", "self time of slow()"), to write its
 * values with their units ("1.45 s", "8.5 MiB", "298.7 M instructions"), to
 * show a function (its short name, the full key on hover), and to say a
 * regression check (the "regression" object of pyscope.report/1, see
 * docs/json-schema.md) as sentences and a small table of medians and
 * intervals. The run report, the comparison and the team report use it, so
 * a verdict reads the same on each. Input is untrusted: missing fields are
 * left out, every string is escaped.
 */
#ifndef PYSCOPE_HTML_VERDICT_H
#define PYSCOPE_HTML_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* The noun of a metric: "wall time", "CPU time", "peak memory", "instructions",
 * "total time", "self time" (hotspots), or NULL for an unknown metric. Static. */
const char *html_verdict_noun(const char *metric);

/* "s", "bytes" or "instructions": the unit of a metric (its "unit" field wins). */
const char *html_verdict_unit(const json_t *m);

/*
 * Write the label of metric object m (borrowed: "metric", "function"):
 * "wall time", or "self time of <code>slow</code>" (capital first letter
 * when capital).
 */
void html_verdict_label(FILE *out, const json_t *m, bool capital);

/* A verdict id (borrowed; NULL: "?") for people: "no_change" is "no change", the others
 * ("regression", "improvement", "inconclusive") as they are. */
const char *html_verdict_word(const char *v);

/* A value of unit for people into buf (n bytes): "1.45 s", "8.5 MiB", "298.7 M instructions". */
void html_verdict_value(char *buf, size_t n, double v, const char *unit);

/*
 * Write a function key (borrowed, "file:name:line") as <code> with its short
 * name and the whole key as its tooltip; NULL writes "?".
 */
void html_verdict_function(FILE *out, const char *key);

/* "+5.2% … +8.1%" from m's ci_low_pct and ci_high_pct into buf, or "" when absent. */
void html_verdict_ci(char *buf, size_t n, const json_t *m);

/*
 * Write the check reg (borrowed) as sentences: the overall answer, one
 * sentence per metric that changed or is uncertain, the unchanged ones in
 * one sentence, then why (the functions that explain it, what appeared or
 * vanished, whether the script, Python or host changed).
 */
void html_verdict_sentences(FILE *out, const json_t *reg);

/*
 * Write five table cells of metric m (borrowed): baseline median, candidate
 * median (with units), change, 95% CI, p.
 */
void html_verdict_cells(FILE *out, const json_t *m);

/*
 * Write why metric m (borrowed) got its verdict, from its "rule" and
 * "reason" (docs/json-schema.md): "<span class="v-reason">the reason
 * (rule <code>rule</code>)</span>". Nothing when m has neither.
 */
void html_verdict_reason(FILE *out, const json_t *m);

/*
 * When metric m's contention (wall time only) shows that either side
 * waited for a CPU a notable share of its time (>= HTML_VERDICT_QUEUED_PCT,
 * or contaminated), write one sentence saying how much and what it did to
 * the verdict; returns whether it wrote one.
 */
#define HTML_VERDICT_QUEUED_PCT 5.0
bool html_verdict_contention(FILE *out, const json_t *m);

/* Whether html_verdict_contention() would write a sentence for m. */
bool html_verdict_contended(const json_t *m);

/*
 * When speed (borrowed: the check's "machine_speed" object, lib/regress.h)
 * says the machine's speed moved, write one sentence with the reference's
 * change and its limit; returns whether it wrote one.
 */
bool html_verdict_speed(FILE *out, const json_t *speed);

/*
 * When decision (borrowed: the check's "decision" object) names a metric
 * other than the wall time, write a sentence: "Decided on CPU time: reason";
 * returns whether it wrote one.
 */
bool html_verdict_decision(FILE *out, const json_t *decision);

/*
 * Write the metrics of reg as a table: metric, baseline and candidate
 * medians, change, 95% CI, p, noise, verdict. Hotspot metrics only when
 * they regressed or improved.
 */
void html_verdict_table(FILE *out, const json_t *reg);

#endif
