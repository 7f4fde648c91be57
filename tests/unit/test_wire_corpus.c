/*
 * test_wire_corpus.c - replay tests/fuzz/corpus/wire/ through the fuzz target.
 *
 * Every file there (seeds and any crash or slow input found by fuzzing) runs
 * through LLVMFuzzerTestOneInput on every CI run, under ASan in the ASan build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz_wire.c"
#include "xmalloc.h"

/* The corpus folder, found from this file's own (absolute) path. */
static char *corpus_dir(void)
{
    const char *slash = strrchr(__FILE__, '/');
    size_t n = slash ? (size_t)(slash - __FILE__) : 1;
    return xasprintf("%.*s/../fuzz/corpus/wire", (int)n, slash ? __FILE__ : ".");
}

static void test_replay_corpus(void **state)
{
    (void)state;
    char *dir = corpus_dir();
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t *buf = xmalloc(WIRE_MAX_MSG_BYTES + 1);
        size_t n = fread(buf, 1, WIRE_MAX_MSG_BYTES + 1, f);
        fclose(f);
        assert_int_equal(LLVMFuzzerTestOneInput(buf, n), 0);
        free(buf);
        free(path);
        files++;
    }
    closedir(d);
    free(dir);
    assert_true(files >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
