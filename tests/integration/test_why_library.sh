#!/usr/bin/env bash
# test_why_library.sh - the regression check's "why" names the user's code (stranger 1314,
# F4): a dump() that passes twice the data to json.dumps regresses on counted instructions
# (exact: no noise to wait out, whatever the load), and the why's first function is
# lib.py:dump with the json encoder's functions under it as "in library code it calls",
# not the encoder's internals on their own. The real pyscope-run (sampling, stacks) and
# valgrind; lib/regress.c why_functions, tests/unit/test_regress.c the arithmetic.
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY PYTHONHASHSEED
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"
cat >lib.py <<'PY'
import json, os
N = int(os.environ.get("N", "10000"))
def dump():
    data = [{"k": [i, str(i), {"x": i}]} for i in range(N)]
    return json.dumps(data, indent=2)
dump()
PY
R="--reports-dir $T/rep --repeat 2 --instructions"
run "$PYSCOPE" run $R -q lib.py
expect_eq "baseline run exits 0" 0 "$RC"
N=20000 run "$PYSCOPE" run $R lib.py
expect_eq "candidate run exits 0" 0 "$RC"
expect_match "instructions regressed" "Instructions increased" "$OUT"
why=$(sed -n '/^Why (/,$p' <<<"$OUT")
expect_match "the why is on instructions" "^Why \(instructions" "$(head -1 <<<"$why")"
expect_match "the why names the user's dump() first" \
    "^  \+[0-9.]+M  $T/lib.py:dump:3 \([0-9]+% of the change\)$" "$(sed -n 2p <<<"$why")"
expect_match "the encoder is listed under it" \
    "^      \+[0-9.]+M  in library code it calls: .*json/encoder.py:" "$why"
expect_nomatch "no library function on its own line" "^  \+[0-9.]+M  .*/json/" "$why"
doc=$(ls -d "$T"/rep/json/* | tail -1)
expect_eq "the JSON: dump's library list" "True" \
    "$("$PY" -c 'import json, sys; f = json.load(open(sys.argv[1]))["regression"]["why"]["functions"][0]
print(f["key"].endswith("lib.py:dump:3") and any("json/" in l["key"] for l in f["library"]))' "$doc")"
finish
