/*
 * suggest.h - optimization suggestions from a table of rules.
 *
 * Each rule is one entry in a table: an id, a one-line description, named
 * thresholds, and a function that examines a `pyscope.run/1` or
 * `pyscope.report/1` document and emits zero or more suggestions with the
 * evidence that triggered them. Adding a rule means adding a table entry
 * (and a paragraph in docs/suggestions.md), not touching the engine.
 *
 * A suggestion is a JSON object:
 *   {"rule": id, "severity": "info"|"warning", "function": key or null,
 *    "message": "one or two sentences", "evidence": {numbers, thresholds},
 *    "line": N (idiom rules only)}
 * The rules read the report defensively: a missing or mistyped field makes a
 * rule stay silent, never fail.
 */
#ifndef PYSCOPE_SUGGEST_H
#define PYSCOPE_SUGGEST_H

#include <jansson.h>
#include <stddef.h>

struct suggest_options {
    const char *source_root; /* folder that relative function file names are relative to;
                                NULL = the current folder */
};

/*
 * Run every rule on report (borrowed). opt may be NULL (all defaults).
 * Returns a new JSON array of suggestion objects, in rule-table order
 * (caller owns); never NULL (an unusable report gives an empty array).
 */
json_t *suggest_analyze(const json_t *report, const struct suggest_options *opt);

/* Number of rules in the table. */
size_t suggest_rule_count(void);
/* Id of rule i (< suggest_rule_count()), e.g. "dominant-function"; static, NULL if out of range. */
const char *suggest_rule_id(size_t i);
/* One-line description of rule i; static, NULL if out of range. */
const char *suggest_rule_description(size_t i);
/*
 * The table as JSON, for `pyscope rules`: a new array (caller owns) of
 * {"id", "description", "thresholds": {name: value, ...}}.
 */
json_t *suggest_rules_json(void);

#endif
