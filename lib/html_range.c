/*
 * html_range.c - a regression's range of commits in HTML (html_range.h).
 */
#include "html_range.h"

#include <string.h>

#include "html_text.h"

static void text(FILE *out, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n > max) /* on a UTF-8 character boundary */
        for (n = max; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; n--)
            ;
    html_write_escaped(out, s ? s : "", n);
}

/* One end: <code>hash</code> subject <span>author, date</span>, the whole in a title. */
static void commit(FILE *out, const char *label, const json_t *c)
{
    const char *hash = json_string_value(json_object_get(c, "hash"));
    const char *subject = json_string_value(json_object_get(c, "subject"));
    const char *author = json_string_value(json_object_get(c, "author"));
    const char *date = json_string_value(json_object_get(c, "date"));
    fprintf(out, "<div class=\"commit\">%s <code title=\"", label);
    text(out, hash, 64);
    fputs("\">", out);
    text(out, hash ? hash : "?", 12);
    fputs("</code> ", out);
    text(out, subject, 120);
    fputs(" <span class=\"muted\">", out);
    text(out, author, 200);
    if (date) {
        fputs(", ", out);
        text(out, date, 10);
    }
    fputs("</span></div>", out);
}

void html_range_write(FILE *out, const json_t *range)
{
    if (!json_is_object(range) || !json_is_object(json_object_get(range, "good")) ||
        !json_is_object(json_object_get(range, "bad"))) {
        fputs("-", out);
        return;
    }
    commit(out, "last good", json_object_get(range, "good"));
    commit(out, "first bad", json_object_get(range, "bad"));
    const json_t *n = json_object_get(range, "commits");
    fputs("<div class=\"range\">", out);
    if (json_is_integer(n)) {
        json_int_t k = json_integer_value(n);
        fprintf(out, "%s%" JSON_INTEGER_FORMAT " commit%s in the range%s",
                json_is_true(json_object_get(range, "exact")) ? "" : "at least ", k,
                k == 1 ? "" : "s", k == 1 ? ": that commit did it" : "");
    } else {
        fputs("commits between: unknown", out);
    }
    if (!json_is_true(json_object_get(range, "good_is_ancestor")))
        fputs(" <span class=\"muted\">(the last good commit is not in the first bad one's "
              "history: rewritten, or never described)</span>",
              out);
    fputs("</div>", out);
}

void html_bisection_write(FILE *out, const json_t *b)
{
    if (!json_is_object(b))
        return;
    const char *state = json_string_value(json_object_get(b, "state"));
    const char *msg = json_string_value(json_object_get(b, "message"));
    fprintf(out, "<div class=\"bisection\">bisection %" JSON_INTEGER_FORMAT ": ",
            json_integer_value(json_object_get(b, "id")));
    text(out, state ? state : "?", 32);
    if (!state || strcmp(state, "not_bisected") != 0) {
        /* as pyscope history's text says it (cli/revision.c) */
        json_int_t steps = json_integer_value(json_object_get(b, "steps"));
        json_int_t turns = json_integer_value(json_object_get(b, "turns"));
        fprintf(out, " after %" JSON_INTEGER_FORMAT " step%s, %" JSON_INTEGER_FORMAT " run%s",
                steps, steps == 1 ? "" : "s", turns, turns == 1 ? "" : "s");
    }
    if (msg && *msg) {
        fputs(" <span class=\"muted\">(", out);
        text(out, msg, 400);
        fputs(")</span>", out);
    }
    fputs("</div>", out);
    const json_t *c = json_object_get(b, "culprit");
    if (json_is_object(c))
        commit(out, "culprit", c);
    else if (state && strcmp(state, "running") != 0 && strcmp(state, "not_bisected") != 0 &&
             strcmp(state, "no_regression") != 0) {
        commit(out, "narrowed to: last good", json_object_get(b, "last_good"));
        commit(out, "first bad", json_object_get(b, "first_bad"));
        json_int_t n = json_integer_value(json_object_get(b, "commits"));
        json_int_t u = json_integer_value(json_object_get(b, "unrunnable"));
        fprintf(out, "<div class=\"range\">%" JSON_INTEGER_FORMAT " commit%s", n,
                n == 1 ? "" : "s");
        if (u > 0)
            fprintf(out, "; %" JSON_INTEGER_FORMAT " commit%s the script could not run at", u,
                    u == 1 ? "" : "s");
        fputs("</div>", out);
    }
}
