/*
 * sanitize.h - untrusted text made safe to show, the same way on every output.
 *
 * Script paths, function names (a script may set any __qualname__), suite
 * names, labels, host names, error messages: all of it comes from agents,
 * submitters or scripts, and reaches terminals, logs, HTML pages, JUnit XML
 * and Markdown. Stored data stays as it came (NUL is refused at input, by
 * the wire decoder and the path checks); it is made safe where it is shown,
 * by this one module:
 *   - C0 controls and DEL become "\xHH" ("\n", "\t", "\r" for those three),
 *     so an ESC sequence cannot retitle or clear a terminal and a newline
 *     cannot forge a log line;
 *   - C1 controls (U+0080..U+009F) become "\u0085";
 *   - bidirectional and invisible format characters (U+061C, U+200B..U+200F,
 *     U+202A..U+202E, U+2028, U+2029, U+2060..U+2064, U+2066..U+2069, U+FEFF)
 *     become "\u202e": a right-to-left override cannot reorder what a
 *     reader sees;
 *   - bytes that are not valid UTF-8 become "\xHH".
 * Everything else, including a backslash, is copied as it is: this is a
 * display form, not an encoding meant to be parsed back.
 *
 * Long unbroken tokens are not cut here (they are data); HTML wraps them
 * with CSS (overflow-wrap: anywhere in lib/assets/report.css) and the
 * terminal tables shorten them with sanitize_ellipsize().
 */
#ifndef PYSCOPE_SANITIZE_H
#define PYSCOPE_SANITIZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Keep '\n' and '\t' as they are (multi-line text such as a script's stderr excerpt). */
#define SANITIZE_KEEP_NEWLINES 0x1u

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left) with its code
 * point in *cp, or 0 when the bytes there are not valid UTF-8 (overlong
 * forms, surrogates and values above U+10FFFF are not).
 */
size_t sanitize_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* True when s (len bytes, borrowed) would be shown unchanged. Allocates nothing. */
bool sanitize_is_clean(const char *s, size_t len, unsigned flags);

/* Write the safe form of s (len bytes, borrowed; NULL writes nothing) to out. */
void sanitize_fwrite(FILE *out, const char *s, size_t len, unsigned flags);

/* The safe form of s (len bytes, borrowed) as a new NUL-terminated string (caller frees). */
char *sanitize_ndup(const char *s, size_t len, unsigned flags);

/* sanitize_ndup() of the NUL-terminated s; NULL for NULL. Caller frees. */
char *sanitize_dup(const char *s, unsigned flags);

/*
 * Replace, in place, every string of the jansson tree doc (borrowed; NULL is
 * fine) and every object key by its safe form. For text output of a
 * document that came from elsewhere (the CLI's farm replies): one call, then
 * every field printed is safe.
 */
void sanitize_json(json_t *doc, unsigned flags);

/* A sanitised deep copy of doc (borrowed; NULL gives NULL): a new reference, caller decrefs. */
json_t *sanitize_json_copy(const json_t *doc, unsigned flags);

/*
 * Shorten the NUL-terminated UTF-8 string s (modified in place) to at most
 * max_chars characters (code points), the last one "…" when cut; max_chars
 * < 2 leaves s alone. For terminal table cells. Returns s.
 */
char *sanitize_ellipsize(char *s, size_t max_chars);

#endif
