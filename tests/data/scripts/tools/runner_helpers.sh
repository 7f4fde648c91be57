# runner_helpers.sh - helpers for tests/integration/test_runner_*.sh and
# tests/integration/pyver_lib.sh (sourced after tests/integration/lib.sh, not run).
# Needs: PY, PYSCOPE_RUN, T (from lib.sh).

# Plain python ignores VIRTUAL_ENV and pyscope-run honours it: tests that want a
# virtualenv set it themselves.
unset VIRTUAL_ENV

SCRIPTS="$PYSCOPE_SRC/tests/data/scripts"
TOOLS="$SCRIPTS/tools"
RC=0

# capture NAME CMD...: run CMD (at most 60 s) with stdin from /dev/null unless
# STDIN_FILE is set; stdout -> $T/NAME.out, stderr -> $T/NAME.err; sets RC.
capture() {
    local name=$1
    shift
    local in=${STDIN_FILE:-/dev/null}
    set +e
    timeout -k 5 60 "$@" <"$in" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
    set -e
}

# find_python X.Y: a CPython X.Y interpreter on this machine (Debian's or /usr/local's,
# else pyenv's), or nothing.
find_python() {
    local v=$1 root c
    for c in "/usr/bin/python$v" "/usr/local/bin/python$v"; do
        if [ -x "$c" ]; then
            echo "$c"
            return
        fi
    done
    root=${PYENV_ROOT:-$HOME/.pyenv}
    if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root); fi
    for c in "$root"/versions/"$v".*/bin/python"$v"; do
        if [ -x "$c" ]; then
            echo "$c"
            return
        fi
    done
}

# run_py NAME ARGS...: plain python; run_ps NAME ARGS...: pyscope-run --output $T/NAME.json ARGS...
# (with --python $PS_PYTHON when that is set: the per-version tests).
run_py() {
    local name=$1
    shift
    capture "$name" "$PY" "$@"
}
run_ps() {
    local name=$1
    shift
    rm -f "$T/$name.json"
    capture "$name" "$PYSCOPE_RUN" ${PS_PYTHON:+--python "$PS_PYTHON"} --output "$T/$name.json" "$@"
}

# jeval FILE EXPR: print the Python expression EXPR over the JSON in FILE (d is the
# document; lib.sh's jget KEY.KEY reads one member from stdin).
jeval() {
    "$PY" "$TOOLS/jeval.py" "$@" || true
}

# last_line FILE: the last non-empty line of FILE.
last_line() {
    grep -v '^[[:space:]]*$' "$1" | tail -n 1 || true
}

# expect_file_contains NAME NEEDLE_FILE HAYSTACK_FILE: every byte of NEEDLE_FILE
# appears, in one piece, inside HAYSTACK_FILE.
expect_file_contains() {
    if "$PY" -c 'import sys; n=open(sys.argv[1],"rb").read(); h=open(sys.argv[2],"rb").read(); sys.exit(0 if n in h else 1)' "$2" "$3"; then
        ok "$1"
    else
        fail "$1" "$(printf 'wanted inside:\n%s\n--- got:\n%s' "$(head -c 1500 "$2")" "$(head -c 1500 "$3")")"
    fi
}

# expect_valid_json NAME FILE [validate_run.py options]: a valid pyscope.run/1 document.
expect_valid_json() {
    local name=$1 file=$2
    shift 2
    local out
    if out=$("$PY" "$TOOLS/validate_run.py" "$file" "$@" 2>&1); then ok "$name"; else
        fail "$name" "$out"; fi
}
