/*
 * fuzz_targets.h - the fuzz targets' entry functions, one per decoder of untrusted input
 * (tests/fuzz/fuzz_<name>.c). Each checks its invariants on one input and aborts when one
 * breaks. libFuzzer calls them through LLVMFuzzerTestOneInput (tests/fuzz/CMakeLists.txt);
 * the corpus replays (tests/unit/test_fuzz_corpus.c, test_fuzz_daemon_corpus.c,
 * runner/test_cachegrind_corpus.c) link them from the library pyscope_fuzz_entries,
 * compiled with FUZZ_REPLAY (tests/CMakeLists.txt). Each returns 0.
 */
#ifndef PYSCOPE_FUZZ_TARGETS_H
#define PYSCOPE_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fuzz_cachegrind_one(const uint8_t *data, size_t size);
int fuzz_config_one(const uint8_t *data, size_t size);
int fuzz_daemon_config_one(const uint8_t *data, size_t size);
int fuzz_history_one(const uint8_t *data, size_t size);
int fuzz_pathnorm_one(const uint8_t *data, size_t size);
int fuzz_spool_one(const uint8_t *data, size_t size);
int fuzz_suite_one(const uint8_t *data, size_t size);
int fuzz_wire_one(const uint8_t *data, size_t size);

#endif
