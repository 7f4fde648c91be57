#!/usr/bin/env bash
# test_runner_static.sh - pyscope-run loads no shared jansson, libsodium or libuuid when the
# build found their archives (agent/runner/CMakeLists.txt), and no shared library at all when
# the toolchain can link the C library in too (PYSCOPE_RUN_STATIC_LIBC, -static-pie): its
# start is part of every run's fixed cost (docs/benchmarks.md). It still runs a script and
# writes its document.
source "$(dirname "$0")/lib.sh"

RUNNER="$PYSCOPE_BUILD/agent/runner/pyscope-run"
CACHE="$PYSCOPE_BUILD/CMakeCache.txt"
command -v readelf >/dev/null || skip "readelf (binutils) is not installed"
for lib in jansson sodium uuid; do
    grep -Eq "^PYSCOPE_STATIC_${lib}:FILEPATH=/.+\.a$" "$CACHE" ||
        skip "the build found no lib${lib}.a: pyscope-run uses the shared library"
done
grep -Eq '^PYSCOPE_SANITIZE:BOOL=(ON|1|TRUE)' "$CACHE" &&
    skip "sanitizer build: pyscope-run uses the shared libraries"
grep -Eq '^PYSCOPE_RUN_STATIC_DEPS:BOOL=(OFF|0|FALSE)' "$CACHE" &&
    skip "PYSCOPE_RUN_STATIC_DEPS=OFF: pyscope-run uses the shared libraries"

needed=$(readelf -d "$RUNNER" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
expect_nomatch "no shared jansson, libsodium or libuuid: [$needed]" \
    'libjansson|libsodium|libuuid' "$needed"
undef=$(nm -D --undefined-only "$RUNNER" 2>/dev/null |
    grep -Eci ' (json_|sodium_|crypto_|randombytes|uuid_)' || true)
expect_eq "none of their symbols is left to the dynamic loader" 0 "$undef"

# the C library too, where the build could link it statically: no loader, no shared object
if grep -Eq '^PYSCOPE_RUN_STATIC_LIBC:BOOL=(ON|1|TRUE)' "$CACHE" &&
    grep -Eq '^PYSCOPE_HAVE_STATIC_PIE:INTERNAL=1$' "$CACHE"; then
    expect_eq "static-pie: no shared objects needed" "" "$needed"
    interp=$(readelf -l "$RUNNER" | grep -c 'program interpreter' || true)
    expect_eq "static-pie: no program interpreter (dynamic loader)" 0 "$interp"
    expect_match "static-pie: still position-independent (ASLR)" 'DYN' \
        "$(readelf -h "$RUNNER" | grep 'Type:')"
fi

cd "$T"
echo 'print(sum(range(10)))' > s.py
run "$RUNNER" --output out.json s.py
expect_eq "runs a script: exit 0" 0 "$RC"
expect_eq "the script's output" 45 "$OUT"
expect_match "the document (jansson) names the schema" '"schema": "pyscope.run/1"' "$(cat out.json)"
expect_match "an id (libuuid)" '"id": "[0-9a-f]{8}-' "$(cat out.json)"
expect_match "the script's sha256 (libsodium)" '"sha256": "[0-9a-f]{64}"' "$(cat out.json)"

finish
