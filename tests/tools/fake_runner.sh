#!/bin/sh
# fake_runner.sh - stands in for pyscope-run in the fault tests (pyscope-agent --runner).
#
# Same command line as pyscope-run (--root WS --output OUT or --output-fd N ... -- SCRIPT
# ARGS; the agent passes --output-fd 3, a descriptor it opened); writes
# a small pyscope.run/1 document at once, without Python, so that thousands of jobs go
# through the agent's real path (lease, fork/exec, result, spool, send, ack, resend)
# in seconds. Everything but the Python measurement is the real code.
# FAKE_RUNNER_SLEEP=SECONDS: sleep that long first (a job that takes time).
set -eu
out=""
fd=""
while [ $# -gt 0 ]; do
    case $1 in
    --output) out=$2; shift 2 ;;
    --output-fd) fd=$2; shift 2 ;;
    --) shift; break ;;
    *) shift ;;
    esac
done
script=${1:-unknown}
case $fd in *[!0-9]*) echo "fake_runner: bad --output-fd" >&2; exit 4 ;; esac
[ -n "$out" ] || [ -n "$fd" ] || { echo "fake_runner: no --output" >&2; exit 4; }
[ -z "${FAKE_RUNNER_SLEEP:-}" ] || sleep "$FAKE_RUNNER_SLEEP"
key=${script##*/}
doc=$(printf '{"schema":"pyscope.run/1","status":{"outcome":"ok"},"runs":[{"wall_s":0.01,"cpu_s":0.009,"peak_rss_bytes":9000000,"exit_code":0}],"profile":{"functions":[{"key":"%s:main:1","calls":1,"self_s":0.009,"total_s":0.01}]}}' "$key")
if [ -n "$fd" ]; then
    eval 'printf "%s\n" "$doc" >&'"$fd" # the inherited descriptor: the file itself is not ours
else
    printf '%s\n' "$doc" >"$out"
fi
