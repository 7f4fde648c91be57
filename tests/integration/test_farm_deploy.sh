#!/usr/bin/env bash
# test_farm_deploy.sh - deploy/farm.sh: the local farm runs a suite on two hosts (CURVE
# on, and with --no-curve) and prints the runs; --once, SIGINT (Ctrl-C) and "stop" after --detach each leave
# nothing running: no daemon, no PostgreSQL, no namespace or link.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
export FARM_BUILD=$PYSCOPE_BUILD FARM_ID="pt$((RANDOM % 9000 + 1000))"
export FARM_SUBNET="10.78.$((RANDOM % 250 + 1))"
port=$((20000 + RANDOM % 20000))
# A sanitizer build's pyscope-run cannot live with RLIMIT_AS (ASan shadow memory).
case "$(nm "$PYSCOPE_BUILD/agent/pyscope-agent" 2>/dev/null || true)" in
*__asan_init*) export FARM_AGENT_ARGS="--memory-limit 0" ;;
esac
farm=$PYSCOPE_SRC/deploy/farm.sh
ws=$T/ws
mkdir -p "$ws/ex"
cat >"$ws/ex/a.py" <<'PY'
def f(n):
    return sum(i * i for i in range(n))
f(200000)
PY
cat >"$T/suite.ini" <<'INI'
[suite]
name = deploy
repeat = 2
[script ex/a.py]
INI
args=(--dir "$T/farm" --suite "$T/suite.ini" --workspace "$ws")

# nothing_left NAME ERRLOG: no process, namespace or link of this farm remains.
nothing_left() {
    local left
    local pgdir
    pgdir=$(sed -n 's/.*starting PostgreSQL in \(.*\) (unix socket only)/\1/p' "$2" | tail -n 1)
    left=$(pgrep -af -- "$T/farm" || true)
    [ -z "$pgdir" ] || left+=$(pgrep -af -- "$pgdir" || true)
    [ -z "$left" ] && ok "$1: no process left" || fail "$1: no process left" "$left"
    left=$(ip netns list 2>/dev/null | grep -- "$FARM_ID" || true)
    [ -z "$left" ] && ok "$1: no namespace left" || fail "$1: no namespace left" "$left"
    left=$(ip link 2>/dev/null | grep -- "$FARM_ID" || true)
    [ -z "$left" ] && ok "$1: no link left" || fail "$1: no link left" "$left"
    [ ! -e "$T/farm/state" ] && ok "$1: state cleared" || fail "$1: state cleared" "still there"
}

st=0
out=$("$farm" --once --nights 2 --port "$port" "${args[@]}" 2>"$T/err") || st=$?
expect_eq "farm.sh --once exit status" "0" "$st"
[ "$st" = 0 ] || cat "$T/err"
expect_match "batch 1 done" "batch 1 \(suite deploy\): done" "$out"
expect_match "batch 2 done" "batch 2 \(suite deploy\): done" "$out"
# (more rows when the coordinator re-ran a series to confirm it: coordinator/analysis.c)
expect_match "runs printed by psql" "\(([2-9]) rows\)" "$out"
expect_match "says where the results are" "results are in PostgreSQL" "$(cat "$T/err")"
expect_match "CURVE on by default" "CURVE on: keys folder" "$(cat "$T/err")"
expect_match "coordinator serves CURVE" "curve on" "$(cat "$T/farm/coordinator.log")"
if grep -q "namespaces $FARM_ID-a" "$T/err"; then
    expect_match "two hosts" "farm-a.*farm=a" "$out"
    expect_match "two hosts (b)" "farm-b.*farm=b" "$out"
    expect_match "4 runs over 2 nights x 2 hosts (+ confirmations)" "\(([4-9]) rows\)" "$out"
else
    echo "# no network namespaces: loopback fallback"
    expect_match "fallback announced" "no network namespaces" "$(cat "$T/err")"
fi
nothing_left "--once" "$T/err"

# Ctrl-C in the foreground: SIGINT with its default disposition restored.
"$PY" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$farm" --port "$((port + 1))" "${args[@]}" \
    >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
for _ in $(seq 1 300); do
    grep -q "Ctrl-C stops it" "$T/fg.err" && break
    sleep 0.2
done
expect_match "foreground farm running" "Ctrl-C stops it" "$(cat "$T/fg.err")"
kill -INT "$fg"
st=0
wait "$fg" || st=$?
expect_eq "Ctrl-C exit status" "130" "$st"
nothing_left "Ctrl-C" "$T/fg.err"

# --detach, then stop.
st=0
"$farm" --detach --no-curve --port "$((port + 2))" "${args[@]}" >/dev/null 2>"$T/det.err" || st=$?
expect_eq "farm.sh --detach --no-curve exit status" "0" "$st"
expect_match "--no-curve announced" "CURVE off" "$(cat "$T/det.err")"
[ -n "$(pgrep -f -- "$T/farm/spool-farm-a" || true)" ] && ok "detached farm still running" ||
    fail "detached farm still running" "no agent"
"$farm" stop --dir "$T/farm" 2>/dev/null
nothing_left "stop" "$T/det.err"

st=0
"$farm" --nights x >/dev/null 2>&1 || st=$?
expect_eq "bad option" "2" "$st"
finish
