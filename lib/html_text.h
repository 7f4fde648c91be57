/*
 * html_text.h - text into an HTML page: escaping, and numbers for people.
 *
 * Every html_* page writes what came from a document, a database or the network
 * through these functions: text and attribute values through html_write_escaped()
 * (the sanitiser's display form, then the entities), data for a page's script
 * through html_write_script_json(). Seconds and bytes are shown the same way on
 * every page.
 */
#ifndef PYSCOPE_HTML_TEXT_H
#define PYSCOPE_HTML_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write len bytes of s (borrowed) to out, escaped for HTML text and attribute
 * values: first the sanitiser's display form (lib/sanitize.h: control,
 * bidi and invisible characters and bad UTF-8 shown as visible escapes; tab
 * and newline kept), then & < > " ' as entities.
 */
void html_write_escaped(FILE *out, const char *s, size_t len);
/* html_write_escaped() of the string s; nothing for NULL. */
void html_write_str(FILE *out, const char *s);

/*
 * Write data (borrowed) as compact JSON that is safe inside a <script> element:
 * the sanitiser's display form of every string (lib/sanitize.h), then '<', '>',
 * '&', U+2028 and U+2029 written as \u escapes. Returns 0, or
 * -ENOMEM if data could not be serialized.
 */
int html_write_script_json(FILE *out, const json_t *data);

/* Seconds for people into buf (n bytes): "1.549 s", "619 ms", "12.3 ms", "4.56 ms", "45.0 µs". */
void html_fmt_secs(char *buf, size_t n, double s);

/* A byte count for people into buf (n bytes): "18.8 MiB". */
void html_fmt_bytes(char *buf, size_t n, double b);

#endif
