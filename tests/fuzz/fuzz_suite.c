/*
 * fuzz_suite.c - libFuzzer target for cli/suite: suite files (INI) and the
 * shell-like splitting of args.
 *
 * The input is a suite file's text. Invariants: a refusal leaves no suite
 * and says why; an accepted suite has 1..SUITE_MAX_ENTRIES scripts, each a
 * normalized relative path that cannot leave the workspace, with every value
 * in its documented range. suite_split_args() on the same text either
 * refuses it or gives at most SUITE_MAX_ARGS arguments.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "pathnorm.h"
#include "suite.h"

static void fuzz_suite_check_entry(const struct suite_entry *e)
{
    FUZZ_CHECK(e->script != NULL && e->script[0] != '\0' && e->script[0] != '/');
    char *c = pathnorm_clean(e->script);
    FUZZ_CHECK(strcmp(c, e->script) == 0);
    FUZZ_CHECK(strcmp(c, "..") != 0 && strncmp(c, "../", 3) != 0);
    free(c);
    FUZZ_CHECK(e->repeat >= 1 && e->repeat <= 1000);
    FUZZ_CHECK(e->warmup <= 100);
    FUZZ_CHECK(e->mode == SUITE_MODE_SAMPLE || e->mode == SUITE_MODE_TRACE);
    FUZZ_CHECK(isfinite(e->timeout_s) && e->timeout_s > 0 && e->timeout_s <= 7 * 24 * 3600.0);
    FUZZ_CHECK(isfinite(e->threshold) && e->threshold >= 0 && e->threshold <= 10);
    FUZZ_CHECK(e->n_args <= SUITE_MAX_ARGS);
    for (size_t i = 0; i < e->n_args; i++)
        FUZZ_CHECK(e->args[i] != NULL && strlen(e->args[i]) <= SUITE_MAX_STRING);
}

int fuzz_suite_one(const uint8_t *data, size_t size)
{
    struct suite *s = NULL;
    char err[1024];
    memset(err, 'x', sizeof(err));
    int rc = suite_parse_buffer((const char *)data, size, "fuzz.suite", &s, err, sizeof(err));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (rc == 0) {
        FUZZ_CHECK(s != NULL);
        FUZZ_CHECK(s->name != NULL && strlen(s->name) >= 1 && strlen(s->name) <= 64);
        FUZZ_CHECK(s->n_entries >= 1 && s->n_entries <= SUITE_MAX_ENTRIES);
        for (size_t i = 0; i < s->n_entries; i++)
            fuzz_suite_check_entry(&s->entries[i]);
        suite_destroy(&s);
        FUZZ_CHECK(s == NULL);
    } else {
        FUZZ_CHECK(rc == -PYSCOPE_EPARSE);
        FUZZ_CHECK(s == NULL);
        FUZZ_CHECK(err[0] != '\0');
    }

    char *text = fuzz_strndup(data, size);
    char **argv;
    size_t argc;
    char msg[256];
    if (suite_split_args(text, &argv, &argc, msg, sizeof(msg)) == 0) {
        FUZZ_CHECK(argc <= SUITE_MAX_ARGS);
        for (size_t i = 0; i < argc; i++)
            FUZZ_CHECK(strlen(argv[i]) <= SUITE_MAX_STRING);
        suite_free_args(argv, argc);
    } else {
        FUZZ_CHECK(argv == NULL && argc == 0);
    }
    free(text);
    return 0;
}

FUZZ_ENTRY(fuzz_suite_one)
