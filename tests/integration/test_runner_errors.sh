#!/usr/bin/env bash
# test_runner_errors.sh - pyscope-run's usage errors: a missing, unreadable or
# non-Python script, a directory, bad options. Each gives exit 2 (or, for a file
# python itself would refuse, a failed script: exit 3) and a clear message, never
# a crash, a hang or JSON on stdout.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp "$SCRIPTS/quick.py" "$T/"
cd "$T"

# usage NAME REGEX ARGS...: exit 2, stderr matches REGEX, no JSON file left.
usage() {
    local name=$1 re=$2
    shift 2
    run_ps "$name" "$@"
    expect_eq "$name: exit 2" 2 "$RC"
    expect_match "$name: message" "$re" "$(cat "$T/$name.err")"
    expect_eq "$name: nothing on stdout" "" "$(cat "$T/$name.out")"
}

usage missing 'nope\.py' nope.py
usage missing_abs "$T/absent/x\\.py" "$T/absent/x.py"
mkdir -p "$T/adir"
usage directory 'adir' adir
usage no_script '.+'
usage bad_option 'bogus' --bogus quick.py
usage bad_mode 'mode|wallclock' --mode wallclock quick.py
usage bad_repeat 'repeat' --repeat zero quick.py
usage zero_repeat 'repeat' --repeat 0 quick.py
usage neg_warmup 'warmup' --warmup -1 quick.py
usage bad_timeout 'timeout' --timeout soon quick.py
usage bad_interval 'interval' --interval-ms -5 quick.py
usage missing_venv 'venv|no-such-venv' --venv "$T/no-such-venv" quick.py

# Option value missing at the end: "--output" with no value and no script.
run_ps dangling --repeat
expect_eq "dangling option: exit 2" 2 "$RC"

# --help: usage on stdout, exit 0.
capture help "$PYSCOPE_RUN" --help
expect_eq "--help: exit 0" 0 "$RC"
expect_match "--help: usage text" '[Uu]sage' "$(cat "$T/help.out")"
expect_match "--help: lists --mode" '--mode' "$(cat "$T/help.out")"

# A binary file (NUL bytes, invalid UTF-8): python refuses it with a SyntaxError.
# pyscope-run refuses it up front (2) or reports the script as failed (3), clearly.
head -c 4096 /dev/urandom >"$T/binary.py"
printf '\0\0\0' >>"$T/binary.py"
run_py binary.py binary.py
run_ps binary binary.py
case $RC in
2 | 3) ok "binary file: exit $RC" ;;
*) fail "binary file: exit 2 or 3" "got $RC" ;;
esac
expect_match "binary file: message" 'binary\.py|null bytes|SyntaxError|not a Python' "$(cat "$T/binary.err")"

# Unreadable file. Root reads anything, so as root the check runs as "nobody"
# (setpriv), in a folder that user may enter and write to.
mkdir -m 1777 "$T/unr"
printf 'print(1)\n' >"$T/unr/secret.py"
chmod 000 "$T/unr/secret.py"
if [ "$(id -u)" != 0 ]; then
    usage unreadable 'secret\.py' "$T/unr/secret.py"
elif command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups "$PYSCOPE_RUN" --help >/dev/null 2>&1; then
    chmod 711 "$T"
    set +e
    (cd "$T/unr" && setpriv --reuid=65534 --regid=65534 --clear-groups "$PYSCOPE_RUN" \
        --output "$T/unr/x.json" "$T/unr/secret.py" >"$T/unr.out" 2>"$T/unr.err")
    RC=$?
    set -e
    expect_eq "unreadable: exit 2" 2 "$RC"
    expect_match "unreadable: message" 'secret\.py.*([Pp]ermission|denied)' "$(cat "$T/unr.err")"
else
    echo "# skip unreadable file: root, and no setpriv or \"nobody\" cannot run pyscope-run here"
fi

# A valid script still runs after all that (the checks above are not too eager).
run_ps still_ok quick.py
expect_eq "valid script: exit 0" 0 "$RC"

finish
