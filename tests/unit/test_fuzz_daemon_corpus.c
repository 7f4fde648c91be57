/*
 * test_fuzz_daemon_corpus.c - replay tests/fuzz/corpus/daemon_config/ through
 * the daemons' config-file fuzz target (tests/fuzz/fuzz_daemon_config.c).
 *
 * A test of its own (its target calls the daemons' config modules:
 * pyscope_agent_core, pyscope_coord_base), beside test_fuzz_corpus.c.
 */
#include "fuzz_replay.h"
#include "fuzz_targets.h"

int main(void)
{
    static const struct replay_target target = {"daemon_config", fuzz_daemon_config_one};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_replay, (void *)&target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
