#!/usr/bin/env bash
# fake-runner.sh - stands in for pyscope-run where the real one cannot misbehave on
# demand: tests of how pyscope handles a broken runner (PYSCOPE_RUN_BIN=this file).
# FAKE_RUNNER selects the behaviour:
#   fixture  (default) run the script with python (if FAKE_RUNNER_EXEC=1), then copy
#            $FAKE_RUNNER_FIXTURE to --output (or --output-fd) and exit $FAKE_RUNNER_EXIT (default 0)
#   corrupt  write half a JSON document, exit 0
#   empty    write nothing, exit 0
#   schema   write a document of an unknown schema version, exit 0
#   crash    die by SIGSEGV
#   status   exit $FAKE_RUNNER_EXIT without writing anything
# When FAKE_RUNNER_ARGS is set, the arguments are written there, one per line.
set -u
out=""
args=("$@")
while [ $# -gt 0 ]; do
    case "$1" in
        --output) out="$2"; shift 2 ;;
        --output-fd) out="/dev/fd/$2"; shift 2 ;;
        --) shift; break ;;
        --*) shift 2 ;;
        *) break ;;
    esac
done
[ -n "${FAKE_RUNNER_ARGS:-}" ] && printf '%s\n' "${args[@]}" > "$FAKE_RUNNER_ARGS"
case "${FAKE_RUNNER:-fixture}" in
    fixture)
        [ "${FAKE_RUNNER_EXEC:-0}" = 1 ] && /usr/bin/python3.11 "$@"
        cp "${FAKE_RUNNER_FIXTURE:?}" "$out"
        exit "${FAKE_RUNNER_EXIT:-0}" ;;
    corrupt) printf '{"schema": "pyscope.run/1", "runs": [' > "$out"; exit 0 ;;
    empty) : > "$out"; exit 0 ;;
    schema) printf '{"schema": "pyscope.run/9", "status": {"outcome": "ok"}, "runs": []}' > "$out"; exit 0 ;;
    crash) kill -SEGV $$ ;;
    status) exit "${FAKE_RUNNER_EXIT:-0}" ;;
esac
