/*
 * html_text.c - text into an HTML page: escaping, and numbers for people.
 */
#include "html_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

void html_write_escaped(FILE *out, const char *s, size_t len)
{
    /* Controls, bidi overrides and bad bytes are shown escaped (lib/sanitize.h);
     * what is left needs only the entities. */
    char *safe = NULL;
    if (!sanitize_is_clean(s, len, SANITIZE_KEEP_NEWLINES)) {
        safe = sanitize_ndup(s, len, SANITIZE_KEEP_NEWLINES);
        s = safe;
        len = strlen(safe);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(c, out);
        }
    }
    free(safe);
}

void html_write_str(FILE *out, const char *s)
{
    if (s)
        html_write_escaped(out, s, strlen(s));
}

int html_write_script_json(FILE *out, const json_t *data)
{
    /* The page's script shows these names as text: their display form, like the
     * rest of the page (lib/sanitize.h), or a U+202E would act live there. */
    json_t *safe = sanitize_json_copy(data, SANITIZE_KEEP_NEWLINES);
    char *s = json_dumps(safe, JSON_COMPACT);
    json_decref(safe);
    if (!s)
        return -ENOMEM;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '<') {
            fputs("\\u003c", out);
        } else if (*p == '>') {
            fputs("\\u003e", out);
        } else if (*p == '&') {
            fputs("\\u0026", out);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            fputs(p[2] == 0xa8 ? "\\u2028" : "\\u2029", out);
            p += 2;
        } else {
            fputc(*p, out);
        }
    }
    free(s);
    return 0;
}

void html_fmt_secs(char *buf, size_t n, double s)
{
    double a = fabs(s);
    if (a == 0)
        snprintf(buf, n, "0 s");
    else if (a >= 100)
        snprintf(buf, n, "%.0f s", s);
    else if (a >= 1)
        snprintf(buf, n, "%.3f s", s);
    else if (a >= 0.1)
        snprintf(buf, n, "%.0f ms", s * 1e3);
    else if (a >= 0.01)
        snprintf(buf, n, "%.1f ms", s * 1e3);
    else if (a >= 1e-3)
        snprintf(buf, n, "%.2f ms", s * 1e3);
    else
        snprintf(buf, n, "%.1f \xc2\xb5s", s * 1e6);
}

void html_fmt_bytes(char *buf, size_t n, double b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    size_t u = 0;
    double v = b;
    while (fabs(v) >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f B", v);
    else
        snprintf(buf, n, "%.1f %s", v, units[u]);
}
