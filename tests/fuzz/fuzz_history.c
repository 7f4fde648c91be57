/*
 * fuzz_history.c - libFuzzer target for lib/history, the reader of earlier
 * reports (reports/json/), and for what `pyscope run` does with them.
 *
 * The input is written as one report file in a fresh folder, next to a file
 * that is not a report. history_load_file() and history_load() read it;
 * when it is accepted, it is also the baseline of a regression check
 * (regress_check_local) for a candidate made from it (same series, another
 * id, newer), whose verdict is printed to /dev/null. Invariants: a refusal
 * gives no document and a reason; an accepted document is an object with a
 * known schema; the folder yields at most that one document.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "history.h"
#include "regress.h"

int fuzz_history_one(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *dir = fuzz_mkdtemp("history");
    char *path = xasprintf("%s/" HISTORY_PREFIX "20261124T080000Z" HISTORY_SUFFIX, dir);
    fuzz_write_file(path, data, size);
    char *other = xasprintf("%s/notes.json", dir);
    fuzz_write_file(other, "{}", 2);

    json_t *doc = NULL;
    char err[256];
    err[0] = '\0';
    int rc = history_load_file(path, &doc, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(doc != NULL && json_is_object(doc) && history_schema_ok(doc));
    } else {
        FUZZ_CHECK(doc == NULL && err[0] != '\0');
        FUZZ_CHECK(rc == -PYSCOPE_EPARSE || rc == -PYSCOPE_ESCHEMA || rc == -PYSCOPE_ETOOBIG);
    }

    struct history_filter any = {0};
    struct history h;
    FUZZ_CHECK(history_load(dir, &any, &h) == 0);
    FUZZ_CHECK(h.n == (rc == 0 ? 1u : 0u));
    history_release(&h);

    if (doc) {
        /* A candidate of the same series, newer, with another id. */
        json_t *cand = json_deep_copy(doc);
        FUZZ_CHECK(cand != NULL);
        json_object_set_new(cand, "id", json_string("fuzz-candidate"));
        json_object_set_new(cand, "created", json_string("9999-12-31T23:59:59Z"));
        struct regress_options opt;
        regress_options_init(&opt);
        json_t *verdict = regress_check_local(cand, dir, &opt);
        FUZZ_CHECK(verdict != NULL);
        char *text = json_dumps(verdict, JSON_COMPACT);
        FUZZ_CHECK(text != NULL);
        free(text);
        FILE *null = fopen("/dev/null", "w");
        FUZZ_CHECK(null != NULL);
        regress_print(null, verdict, false);
        fclose(null);
        (void)regress_has_regression(verdict);
        json_decref(verdict);
        json_decref(cand);
        json_decref(doc);
    }
    fuzz_rmtree(dir);
    free(other);
    free(path);
    free(dir);
    return 0;
}

FUZZ_ENTRY(fuzz_history_one)
