# Shared helpers for integration tests (sourced, not run).
# Environment from ctest: PYSCOPE_BUILD, PYSCOPE_SRC, PYSCOPE_PYTHON.
set -euo pipefail
: "${PYSCOPE_BUILD:?run through ctest}" "${PYSCOPE_SRC:?run through ctest}"
PYSCOPE="$PYSCOPE_BUILD/cli/pyscope"
PYSCOPE_RUN="$PYSCOPE_BUILD/agent/runner/pyscope-run"
PY="${PYSCOPE_PYTHON:-/usr/bin/python3.11}"
export PYSCOPE_RUN_BIN="$PYSCOPE_RUN"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FAILS=0
PASSES=0

# ok NAME: record a pass; fail NAME MSG: record a failure (the test goes on).
ok() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $1: $2"; }

# expect_eq NAME WANT GOT
expect_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "want [$2] got [$3]"; fi
}
# expect_match NAME REGEX TEXT
# (a here-string, not a pipe: with pipefail, grep -q quitting early would fail the writer)
expect_match() {
    if grep -Eq -- "$2" <<<"$3"; then ok "$1"; else
        fail "$1" "no match for /$2/ in: $(printf '%s' "$3" | head -c 2000)"; fi
}
# expect_nomatch NAME REGEX TEXT
expect_nomatch() {
    if grep -Eq -- "$2" <<<"$3"; then
        fail "$1" "unexpected /$2/ in: $(printf '%s' "$3" | head -c 2000)"; else ok "$1"; fi
}
# skip REASON: this test cannot run here. Exit status 77, which ctest shows as skipped
# (SKIP_RETURN_CODE, tests/CMakeLists.txt), never as passed.
skip() {
    echo "# SKIP: $*"
    exit 77
}
# finish: print the plain closing line and exit non-zero on any failure.
finish() {
    echo "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}

# run CMD...: run it, keeping its exit status in RC, stdout in OUT, stderr in ERR.
run() {
    set +e
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
    set -e
    OUT=$(cat "$T/out")
    ERR=$(cat "$T/err")
}
# jget KEY.KEY...: a member of the JSON document on stdin (a list index is a number);
# objects, lists and null are printed as JSON.
jget() {
    "$PY" -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (dict, list)) or v is None else v)' "$1"
}
