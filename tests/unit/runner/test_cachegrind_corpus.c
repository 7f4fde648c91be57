/*
 * test_cachegrind_corpus.c - replay the fuzz corpus of the cachegrind output parser
 * (tests/fuzz/corpus/cachegrind/) through tests/fuzz/fuzz_cachegrind.c, in every build:
 * the parser lives in the runner, so its replay links runnercore, not libpyscope alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "fuzz_replay.h"
#include "fuzz_targets.h"

int main(void)
{
    static const struct replay_target target = {"cachegrind", fuzz_cachegrind_one};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_replay, (void *)&target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
