/*
 * fuzz_wire.c - libFuzzer target for lib/wire's decoder.
 *
 * Any input must be refused with a reason or decoded into a message that
 * passes validation and survives a re-encode and a second decode. Built with
 * -DPYSCOPE_FUZZ=ON (clang); tests/unit/test_wire_corpus.c replays the corpus
 * under tests/fuzz/corpus/wire/ through this same function on every CI run.
 */
#include <stdint.h>
#include <stdlib.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_error err;
    struct wire_msg *m = wire_decode(data, size, &err);
    if (m == NULL) {
        if ((unsigned)err.reason >= WIRE_REJECT__COUNT || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (wire_validate(m, NULL) != 0)
        abort();
    uint8_t *buf = NULL;
    size_t len = 0;
    if (wire_encode(m, &buf, &len) != 0)
        abort();
    struct wire_msg *again = wire_decode(buf, len, &err);
    if (again == NULL || again->type != m->type)
        abort();
    wire_msg_destroy(&again);
    free(buf);
    wire_msg_destroy(&m);
    return 0;
}
