/*
 * fuzz_cachegrind.c - libFuzzer target for the parser of cachegrind's output file
 * (agent/runner/cachegrind.c), which pyscope-run --instructions reads after every
 * counted run: a file a full disk or a killed valgrind may cut short.
 *
 * Invariants: the parser returns 0 with a count at most INT64_MAX (a JSON integer), or
 * -PYSCOPE_EPARSE / -PYSCOPE_ERANGE / -EIO with a reason, and never touches the count on
 * failure; the same bytes give the same answer twice; an accepted input holds a
 * "summary:" line ending in a newline.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachegrind.h"
#include "errors.h"
#include "fuzz_targets.h"
#include "fuzz_util.h"

/* Parse data[0..size) through a memory stream; *ir starts at sentinel. */
static int fuzz_cachegrind_parse(const uint8_t *data, size_t size, uint64_t *ir, char *err,
                                 size_t errlen)
{
    static const char empty[1] = "";
    FILE *f = fmemopen(size ? (void *)data : (void *)empty, size ? size : 1, "r");
    FUZZ_CHECK(f != NULL);
    if (size == 0) /* a one-byte stream of NUL would not be empty: read it away */
        (void)fgetc(f);
    int rc = cachegrind_parse(f, ir, err, errlen);
    fclose(f);
    return rc;
}

int fuzz_cachegrind_one(const uint8_t *data, size_t size)
{
    const uint64_t sentinel = 0xfeedfacecafebeefULL;
    uint64_t ir = sentinel, ir2 = sentinel;
    char err[256] = "", err2[256] = "";
    int rc = fuzz_cachegrind_parse(data, size, &ir, err, sizeof(err));
    int rc2 = fuzz_cachegrind_parse(data, size, &ir2, err2, sizeof(err2));
    FUZZ_CHECK(rc == rc2 && ir == ir2 && strcmp(err, err2) == 0);
    if (rc == 0) {
        FUZZ_CHECK(ir <= (uint64_t)INT64_MAX);
        FUZZ_CHECK(memmem(data, size, "summary:", 8) != NULL);
        FUZZ_CHECK(memchr(data, '\n', size) != NULL);
    } else {
        FUZZ_CHECK(rc == -PYSCOPE_EPARSE || rc == -PYSCOPE_ERANGE || rc == -EIO);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(ir == sentinel);
    }
    return 0;
}

FUZZ_ENTRY(fuzz_cachegrind_one)
