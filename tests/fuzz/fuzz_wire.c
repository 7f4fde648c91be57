/*
 * fuzz_wire.c - libFuzzer target for lib/wire's decoder.
 *
 * Any input must be refused with a reason or decoded into a message that
 * passes validation and survives a re-encode and a second decode. Built with
 * -DPYSCOPE_FUZZ=ON (clang); tests/unit/test_fuzz_corpus.c replays the corpus
 * under tests/fuzz/corpus/wire/ through this same function on every CI run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_targets.h"
#include "fuzz_util.h"
#include "wire.h"

int fuzz_wire_one(const uint8_t *data, size_t size)
{
    struct wire_error err;
    struct wire_msg *m = wire_decode(data, size, &err);
    if (m == NULL) {
        FUZZ_CHECK((unsigned)err.reason < WIRE_REJECT__COUNT && err.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(wire_validate(m, NULL) == 0);
    uint8_t *buf = NULL;
    size_t len = 0;
    FUZZ_CHECK(wire_encode(m, &buf, &len) == 0);
    struct wire_msg *again = wire_decode(buf, len, &err);
    FUZZ_CHECK(again != NULL && again->type == m->type);
    wire_msg_destroy(&again);
    free(buf);
    wire_msg_destroy(&m);
    return 0;
}

FUZZ_ENTRY(fuzz_wire_one)
