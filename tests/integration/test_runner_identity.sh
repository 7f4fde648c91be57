#!/usr/bin/env bash
# test_runner_identity.sh - sample mode names the right function when code objects
# die during the run: tests/data/scripts/identity/main.py imports 30 modules whose
# top-level code is freed after import (the next code object may take its
# address); tools/check_identity.py checks every sampled stack for borrowed
# names. (Trace mode's side is in test_trace_cprofile.sh: call counts of every
# function against cProfile's.)
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp -r "$SCRIPTS/identity" "$T/identity"
cd "$T"
# Loops long enough (~40 ms an import, ~25 ms a work_N) for a 1 ms sampler.
export IDENTITY_IMPORT_SPIN=40000 IDENTITY_SPIN=400000 PYTHONDONTWRITEBYTECODE=1
run_py identity.plain "$T/identity/main.py"
run_ps identity.sample --interval-ms 1 "$T/identity/main.py"
expect_eq "sample: exit" 0 "$RC"
expect_eq "sample: same output as python" "$(cat "$T/identity.plain.out")" \
    "$(cat "$T/identity.sample.out")"
if out=$("$PY" "$TOOLS/check_identity.py" "$T/identity.sample.json" 2>&1); then
    ok "sample: no borrowed names ($out)"
else
    fail "sample: no borrowed names" "$out"
fi
finish
