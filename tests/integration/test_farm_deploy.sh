#!/usr/bin/env bash
# test_farm_deploy.sh - deploy/farm.sh: the local farm runs a suite on two hosts (CURVE
# on, and with --no-curve) and prints the runs; --once, SIGINT (Ctrl-C) and "stop" after --detach each leave
# nothing running: no daemon, no PostgreSQL, no namespace or link. Its messages say what runs,
# where the reports and logs are, how to use and stop it. Its agents get the workspace's git
# checkout as their repository: `pyscope try` runs on it, and a try the agents refuse says
# their reason. A relative FARM_BUILD still gives a DIR/env that works from any folder.
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
    # the folder farm.sh made in /tmp when postgres could not reach --dir: removed too
    case $pgdir in
    /tmp/pyscope-farm-pg.*)
        [ ! -e "$pgdir" ] && ok "$1: its PostgreSQL folder in /tmp removed" ||
            fail "$1: its PostgreSQL folder in /tmp removed" "$pgdir is still there"
        ;;
    esac
}

st=0
# started from a folder the postgres user cannot enter ($T: mktemp -d, 0700)
chmod 700 "$T"
out=$(cd "$T" && "$farm" --once --nights 2 --port "$port" "${args[@]}" 2>"$T/err") || st=$?
expect_eq "farm.sh --once exit status" "0" "$st"
[ "$st" = 0 ] || cat "$T/err"
# initdb and pg_ctl ran as postgres from that folder and said so (stranger19's minor 9)
expect_nomatch "started from a 0700 folder: no 'could not change directory'" \
    "could not change directory" "$(cat "$T/err")"
expect_match "batch 1 done" "batch 1 \(suite deploy\): done" "$out"
expect_match "batch 2 done" "batch 2 \(suite deploy\): done" "$out"
# (more rows when the coordinator re-ran a series to confirm it: coordinator/analysis.c)
expect_match "runs printed by psql" "\(([2-9]) rows\)" "$out"
expect_match "says what ran and that --once stopped it" "what ran \\(--once: all of it stops now" "$(cat "$T/err")"
expect_match "says where the results are" "PostgreSQL +.*unix socket; tables runs" "$(cat "$T/err")"
expect_match "says where the report is" "reports: $T/farm/report.html" "$(cat "$T/err")"
expect_match "says the agents' logs" "agents +farm-a and farm-b, logs $T/farm/agent-farm-a.log" "$(cat "$T/err")"
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

# a night's submit that every night would fail alike (an unknown host: exit 2) stops the
# nights there, with that status (a stranger's farm played five nights of "0 regressions")
printf '[suite]\nname = bad\nhosts = no-such-host\n[script ex/a.py]\n' >"$T/bad.ini"
st=0
"$farm" --once --no-curve --nights 3 --port "$((port + 3))" --dir "$T/farm" --suite "$T/bad.ini" \
    --workspace "$ws" >/dev/null 2>"$T/bad.err" || st=$?
expect_eq "farm.sh with a suite submit refuses: exit 2" 2 "$st"
expect_match "... says it plays no more nights" "night 1: pyscope submit failed \\(exit 2, said above\\): no more nights" \
    "$(cat "$T/bad.err")"
expect_eq "... after the first night" 1 "$(grep -c 'submitting' "$T/bad.err")"
nothing_left "a failed submit" "$T/bad.err"

# --detach, then stop. The workspace is a git checkout: the agents get it as their
# repository, so `pyscope try` runs out of the box (a stranger's try on the README's farm
# failed: its agents had no repository, and the CLI said only "no ok run at one side").
if command -v git >/dev/null; then
    export GIT_CONFIG_NOSYSTEM=1 HOME="$T"
    git init -q -b main "$ws"
    git -C "$ws" add -A && git -C "$ws" -c user.name=t -c user.email=t@t commit -qm base
    echo "f(1000)" >>"$ws/ex/a.py"
    git -C "$ws" -c user.name=t -c user.email=t@t commit -qam head
fi
# FARM_BUILD relative to the folder farm.sh starts in (stranger11's D9: DIR/env then put
# "build/cli" on PATH, so `source DIR/env` found pyscope only from there)
st=0
(cd "$(dirname "$PYSCOPE_BUILD")" && FARM_BUILD=$(basename "$PYSCOPE_BUILD") \
    "$farm" --detach --no-curve --port "$((port + 2))" "${args[@]}") >/dev/null 2>"$T/det.err" ||
    st=$?
expect_eq "farm.sh --detach --no-curve exit status" "0" "$st"
expect_match "DIR/env puts the cli folder on PATH by its absolute path" \
    "^export PATH=/[^:]*/cli:" "$(grep '^export PATH=' "$T/farm/env")"
# shellcheck disable=SC1091
expect_eq "... so a shell that sources it elsewhere finds pyscope" "$PYSCOPE_BUILD/cli/pyscope" \
    "$(cd / && source "$T/farm/env" && command -v pyscope)"
expect_match "--no-curve announced" "CURVE off" "$(cat "$T/det.err")"
expect_match "--detach: how to stop it" "stop: +$PYSCOPE_SRC/deploy/farm.sh stop --dir $T/farm" "$(cat "$T/det.err")"
expect_match "--detach: how to use it" "source $T/farm/env, then" "$(cat "$T/det.err")"
[ -n "$(pgrep -f -- "$T/farm/spool-farm-a" || true)" ] && ok "detached farm still running" ||
    fail "detached farm still running" "no agent"
if command -v git >/dev/null; then
    expect_match "the workspace's checkout is the agents' repository" \
        "git repository of the agents \\(pyscope try, submit --commit\\): $ws" "$(cat "$T/det.err")"
    (
        # shellcheck disable=SC1091
        source "$T/farm/env"
        cd "$ws"
        set +e
        pyscope try "$T/suite.ini" --base HEAD~1 --head HEAD --hosts farm-a --rounds 1 -q \
            >"$T/try.out" 2>"$T/try.err"
        echo $? >"$T/try.rc"
        # a commit the agents' repository lacks: refused, and the CLI says the agents' reason
        git init -q -b main "$T/other" && echo x >"$T/other/x" && git -C "$T/other" add x &&
            git -C "$T/other" -c user.name=t -c user.email=t@t commit -qm other
        pyscope try "$T/suite.ini" --repo "$T/other" --base HEAD --head HEAD --hosts farm-a \
            --rounds 1 -q >"$T/try2.out" 2>"$T/try2.err"
        echo $? >"$T/try2.rc"
    )
    expect_eq "pyscope try on the farm.sh farm: exit 0" 0 "$(cat "$T/try.rc")"
    expect_match "... both sides ran" "1 base, 1 head runs" "$(cat "$T/try.out" "$T/try.err")"
    expect_eq "a try of a commit the agents lack: exit 3" 3 "$(cat "$T/try2.rc")"
    expect_match "... the agents' reason, per side" \
        "ex/a.py on farm-a has no ok run at the base and head: base: 1 turn (error|refused): .*commit [0-9a-f]{40} is not in" \
        "$(cat "$T/try2.err")"
    expect_match "... printed with the result" "^   - head, 1 turn (error|refused): " "$(cat "$T/try2.out")"
    expect_nomatch "... never 'No baseline'" "No baseline" "$(cat "$T/try2.out" "$T/try2.err")"
    expect_nomatch "... the outcome said once" "refused: refused" "$(cat "$T/try2.out" "$T/try2.err")"
    sed "s/^/# /" "$T/try2.out" "$T/try2.err"
fi
"$farm" stop --dir "$T/farm" 2>"$T/stop.err"
expect_match "stop: says what it stopped" "stopped: the coordinator, the agents, PostgreSQL" "$(cat "$T/stop.err")"
nothing_left "stop" "$T/det.err"
"$farm" stop --dir "$T/farm" 2>"$T/stop2.err"
expect_match "stop again: nothing to stop, said" "no farm is running from $T/farm: nothing to stop" "$(cat "$T/stop2.err")"

st=0
"$farm" --nights x >/dev/null 2>&1 || st=$?
expect_eq "bad option" "2" "$st"
st=0
"$farm" --dir 2>"$T/noval.err" >/dev/null || st=$?
expect_eq "an option without its value: exit 2" "2" "$st"
expect_match "... said, not 'unbound variable'" "farm.sh: --dir needs a value" "$(cat "$T/noval.err")"
# values that would fail nights later are refused before anything starts, with exit 2
for bad in "--slowdown-night 4 --slowdown 30abc" "--slowdown-night 4 --slowdown -95" \
    "--slowdown 30" "--slow-host a" "--port 99999" "--port 0" "--http 70000" \
    "--suite $T/no-such-suite.ini"; do
    st=0
    # shellcheck disable=SC2086
    FARM_BUILD=$PYSCOPE_BUILD "$farm" --dir "$T/badfarm" $bad >/dev/null 2>"$T/bad.err" || st=$?
    expect_eq "farm.sh $bad: exit 2" 2 "$st"
    expect_match "farm.sh $bad: said why" "^farm.sh: " "$(head -1 "$T/bad.err")"
    expect_nomatch "farm.sh $bad: nothing was started, none stopped" "stopped" "$(cat "$T/bad.err")"
done
st=0
FARM_BUILD=$T/no-such-build "$farm" --dir "$T/badfarm" >/dev/null 2>"$T/bad.err" || st=$?
expect_eq "FARM_BUILD that is no folder: exit 2" 2 "$st"
expect_match "... said" "^farm.sh: FARM_BUILD=$T/no-such-build is not a folder" "$(cat "$T/bad.err")"
expect_nomatch "... nothing was started, none stopped" "stopped" "$(cat "$T/bad.err")"
expect_eq "no state left by the refused starts" "" "$(ls "$T/badfarm" 2>/dev/null | grep -x state)"
finish
