/*
 * fuzz_daemon_config.c - libFuzzer target for the daemons' INI files:
 * pyscope-coordinator's (coordinator/coord_config.c) and pyscope-agent's
 * (agent/agent_config.c, read through agent_config_load with --config).
 *
 * Byte 0 picks the daemon (even: coordinator, odd: agent); the rest is the
 * file, written to a fresh folder. Invariants: a refusal is an error code
 * (and for the coordinator a message); an accepted coordinator file passes
 * or fails coord_config_check() with a message; an accepted agent configuration
 * has every required setting, in range. Everything is freed either way.
 *
 * The two daemons' config modules are linked in: pyscope_agent_core and
 * pyscope_coord_base (tests/CMakeLists.txt), or compiled with the fuzzer's flags
 * (tests/fuzz/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "coord_config.h"
#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"

static void fuzz_coordinator_file(const char *path)
{
    struct coord_config c;
    coord_config_init(&c);
    char err[256] = "";
    int rc = coord_config_load(&c, path, err, sizeof(err));
    if (rc == 0) {
        FUZZ_CHECK(c.bind != NULL);
        char why[256] = "";
        int crc = coord_config_check(&c, why, sizeof(why));
        FUZZ_CHECK(crc == 0 || (crc == -PYSCOPE_ERANGE && why[0] != '\0'));
    } else {
        FUZZ_CHECK(rc == -PYSCOPE_EPARSE && err[0] != '\0');
    }
    coord_config_release(&c);
}

static void fuzz_agent_file(const char *path, const char *workspace)
{
    char *argv[] = {"pyscope-agent",     "--config",    (char *)path,      "--coordinator",
                    "tcp://127.0.0.1:1", "--workspace", (char *)workspace, NULL};
    struct agent_config cfg;
    int rc = agent_config_load(&cfg, 7, argv);
    if (rc == 0) {
        FUZZ_CHECK(cfg.coordinator && cfg.workspace && cfg.name && cfg.spool && cfg.runner);
        FUZZ_CHECK(strlen(cfg.name) >= 1 && strlen(cfg.name) <= 255);
        FUZZ_CHECK(cfg.max_jobs >= 1 && cfg.max_jobs <= 64);
        FUZZ_CHECK(cfg.n_labels <= AGENT_MAX_LABELS);
        FUZZ_CHECK((cfg.secret_key == NULL) == (cfg.coordinator_key == NULL));
        agent_config_release(&cfg);
    } else {
        FUZZ_CHECK(rc == -PYSCOPE_EUSAGE);
        FUZZ_CHECK(cfg.coordinator == NULL && cfg.n_labels == 0); /* released */
    }
}

int fuzz_daemon_config_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    fuzz_quiet();
    char *dir = fuzz_mkdtemp("daemon");
    char *path = xasprintf("%s/daemon.conf", dir);
    fuzz_write_file(path, data + 1, size - 1);
    if (data[0] % 2 == 0)
        fuzz_coordinator_file(path);
    else
        fuzz_agent_file(path, dir);
    fuzz_rmtree(dir);
    free(path);
    free(dir);
    return 0;
}

FUZZ_ENTRY(fuzz_daemon_config_one)
