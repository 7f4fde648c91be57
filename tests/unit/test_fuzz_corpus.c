/*
 * test_fuzz_corpus.c - replay every fuzz target's corpus (tests/fuzz/corpus/).
 *
 * Each target's entry function (tests/fuzz/fuzz_<name>.c, linked from
 * pyscope_fuzz_entries: compiled with FUZZ_REPLAY, so without
 * LLVMFuzzerTestOneInput) runs over every file of corpus/<name>/: the seeds and any crash or slow
 * input found by fuzzing. A target aborts when one of its invariants breaks, and in the ASan build
 * ASan and UBSan watch too; this runs on every CI run, with or without clang.
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

#include "fuzz_replay.h"
#include "fuzz_targets.h"

int main(void)
{
    static const struct replay_target targets[] = {
        {"wire", fuzz_wire_one},   {"spool", fuzz_spool_one},   {"pathnorm", fuzz_pathnorm_one},
        {"suite", fuzz_suite_one}, {"config", fuzz_config_one}, {"history", fuzz_history_one},
    };
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_replay, (void *)&targets[0]),
        cmocka_unit_test_prestate(test_replay, (void *)&targets[1]),
        cmocka_unit_test_prestate(test_replay, (void *)&targets[2]),
        cmocka_unit_test_prestate(test_replay, (void *)&targets[3]),
        cmocka_unit_test_prestate(test_replay, (void *)&targets[4]),
        cmocka_unit_test_prestate(test_replay, (void *)&targets[5]),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
