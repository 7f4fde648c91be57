/*
 * fuzz_config.c - libFuzzer target for cli/config: the project's
 * pyscope.ini (regression thresholds per script pattern).
 *
 * The input is the file's bytes, read the way config_load_file() reads them
 * (a NUL byte refuses the file). Invariants: a refusal says where
 * ("fuzz.ini:LINE: ..."); an accepted file has every threshold set in
 * (0, CONFIG_MAX_THRESHOLD_PCT], a non-empty pattern per script section, and
 * config_threshold_pct() answers for any key with a configured threshold or
 * -1 and a line inside the file.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"

/* True when v is a threshold config.h allows: (0, max], or -1 for "not set". */
static int fuzz_config_pct_ok(double v)
{
    return v == -1 || (isfinite(v) && v > 0 && v <= CONFIG_MAX_THRESHOLD_PCT);
}

int fuzz_config_one(const uint8_t *data, size_t size)
{
    if (size > CONFIG_MAX_BYTES || memchr(data, '\0', size) != NULL)
        return 0; /* config_load_file refuses these before parsing */
    char *text = fuzz_strndup(data, size);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    struct config c;
    char err[512];
    err[0] = '\0';
    int rc = config_parse_string(text, "fuzz.ini", &c, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(c.threshold_pct < 0 ? c.threshold_pct == -1
                                       : fuzz_config_pct_ok(c.threshold_pct));
        for (size_t i = 0; i < c.n_scripts; i++) {
            const struct config_script *s = &c.scripts[i];
            FUZZ_CHECK(s->pattern != NULL && s->pattern[0] != '\0');
            FUZZ_CHECK(fuzz_config_pct_ok(s->threshold_pct));
            FUZZ_CHECK(s->line >= 0 && (size_t)s->line <= lines);
        }
        static const char *const keys[] = {"examples/slow_script.py", "a.py", "src/a/b.py", "",
                                           "*"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            int line = -1;
            double v = config_threshold_pct(&c, keys[i], &line);
            FUZZ_CHECK(fuzz_config_pct_ok(v));
            FUZZ_CHECK(line >= 0 && (size_t)line <= lines);
        }
    } else {
        FUZZ_CHECK(rc == -PYSCOPE_EPARSE || rc == -ENOMEM);
        FUZZ_CHECK(strncmp(err, "fuzz.ini:", 9) == 0);
    }
    config_release(&c);
    FUZZ_CHECK(c.scripts == NULL && c.n_scripts == 0 && c.path == NULL);
    free(text);
    return 0;
}

FUZZ_ENTRY(fuzz_config_one)
