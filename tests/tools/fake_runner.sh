#!/bin/sh
# fake_runner.sh - stands in for pyscope-run in the fault tests (pyscope-agent --runner).
#
# Same command line as pyscope-run (--root WS --output OUT ... -- SCRIPT ARGS); writes
# a small pyscope.run/1 document at once, without Python, so that thousands of jobs go
# through the agent's real path (lease, fork/exec, result, spool, send, ack, resend)
# in seconds. Everything but the Python measurement is the real code.
# FAKE_RUNNER_SLEEP=SECONDS: sleep that long first (a job that takes time).
set -eu
out=""
while [ $# -gt 0 ]; do
    case $1 in
    --output) out=$2; shift 2 ;;
    --) shift; break ;;
    *) shift ;;
    esac
done
script=${1:-unknown}
[ -n "$out" ] || { echo "fake_runner: no --output" >&2; exit 4; }
[ -z "${FAKE_RUNNER_SLEEP:-}" ] || sleep "$FAKE_RUNNER_SLEEP"
key=${script##*/}
printf '{"schema":"pyscope.run/1","status":{"outcome":"ok"},"runs":[{"wall_s":0.01,"cpu_s":0.009,"peak_rss_bytes":9000000,"exit_code":0}],"profile":{"functions":[{"key":"%s:main:1","calls":1,"self_s":0.009,"total_s":0.01}]}}\n' "$key" >"$out"
