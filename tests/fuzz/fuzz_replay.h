/*
 * fuzz_replay.h - a cmocka test that replays one fuzz target's corpus
 * (tests/fuzz/corpus/<name>/) through its entry function; included by the
 * unit tests test_fuzz_corpus.c and test_fuzz_daemon_corpus.c.
 */
#ifndef PYSCOPE_FUZZ_REPLAY_H
#define PYSCOPE_FUZZ_REPLAY_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Largest corpus file replayed (seeds are small; libFuzzer's -max_len is 4096 by default). */
#define REPLAY_MAX_BYTES (1024 * 1024)

struct replay_target {
    const char *name;                             /* corpus/<name>/ */
    int (*one)(const uint8_t *data, size_t size); /* the target's entry function */
};

/* The corpus folder of target name, found from this file's own (absolute) path. */
static char *corpus_dir(const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    size_t n = slash ? (size_t)(slash - __FILE__) : 1;
    return xasprintf("%.*s/corpus/%s", (int)n, slash ? __FILE__ : ".", name);
}

static void test_replay(void **state)
{
    const struct replay_target *t = *state;
    char *dir = corpus_dir(t->name);
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("could not open corpus folder \"%s\"", dir);
    size_t files = 0;
    uint8_t *buf = xmalloc(REPLAY_MAX_BYTES + 1);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t n = fread(buf, 1, REPLAY_MAX_BYTES + 1, f);
        fclose(f);
        if (n > REPLAY_MAX_BYTES)
            fail_msg("corpus file \"%s\" is over %d bytes: minimize it", path, REPLAY_MAX_BYTES);
        /* a copy of exactly n bytes, so that ASan sees any read past the input */
        uint8_t *in = xmalloc(n ? n : 1);
        memcpy(in, buf, n);
        assert_int_equal(t->one(in, n), 0);
        free(in);
        free(path);
        files++;
    }
    closedir(d);
    free(buf);
    free(dir);
    if (files < 10)
        fail_msg("corpus/%s holds %zu files, expected at least 10", t->name, files);
}

#endif
