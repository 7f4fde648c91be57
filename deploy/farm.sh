#!/usr/bin/env bash
# farm.sh - the whole PyScope farm on one machine, for trying it out.
#
#   deploy/farm.sh [--once | --detach] [--nights N] [--dir DIR] [--port PORT]
#                  [--suite FILE] [--workspace DIR] [--no-curve] [--http PORT]
#                  [--slowdown-night K --slowdown PCT [--slow-host a|b]]
#                  [--pythons PATH,PATH...] [--repo PATH|URL | --no-repo]
#   deploy/farm.sh stop [--dir DIR]
#
# Installs the missing Debian packages (scripts/install-deps.sh, plus what the farm
# needs), builds into build/, starts a throwaway PostgreSQL (initdb under DIR/pg,
# unix socket only), the coordinator, and two agents acting as two hosts: each in
# its own network namespace (a veth pair on a bridge, `ip netns`) and its own UTS
# namespace (its own host name, so its own host fingerprint). Without the rights
# for namespaces, both agents run on loopback under different names (and say so).
# Then it submits examples/suite.ini (or --suite FILE; scripts are relative to
# --workspace, default the checkout) N times with --nights: each night waits for its
# batch, then for the coordinator's analysis of it and its confirmation runs, before
# the next night starts (as nights a day apart would). It prints the stored runs with
# psql and renders the team report (pyscope report --since 1d) into DIR/report.html,
# whose path it prints (and its JSON, pyscope.team_report/1, into DIR/report.json).
# The two agents share this machine, so the coordinator runs one agent's jobs at a
# time (share_machines = 0): their timings would disturb each other. The
# coordinator also serves the reports as web pages on 127.0.0.1 (--http PORT;
# default any free port): the address is in its log and in the summary.
#
# --slowdown-night K --slowdown PCT: from night K on, the agent of host
# --slow-host (default b) runs its jobs with PYSCOPE_EXAMPLE_SLOWDOWN=PCT
# (examples/slow_script.py's slow() gets PCT% more work), through a runner
# wrapper (DIR/slow-runner/run-slow.sh reads DIR/slow-runner/slowdown): the report
# lists that regression, confirmed, on host b, since night K, explained by slow().
# K must be at least 4: the farm decides a series from 3 baseline nights (fewer is
# "insufficient history", README).
#
# --repo PATH|URL: the git repository the agents check commits out from (pyscope-agent
# --repo, docs/revisions.md), so that `pyscope try SUITE --base REV --head REV` and
# `pyscope submit --commit REV` work on this farm. Default: the git checkout holding
# --workspace (by default the checkout farm.sh is in and started from), else the
# current folder's; none (said) when neither is a git checkout, or with --no-repo. A
# try runs the suite's paths from the repository's top folder. Each agent keeps its
# checked-out commits in DIR/revisions-farm-a and DIR/revisions-farm-b.
#
# --pythons PATH,PATH...: the agents offer these interpreters (pyscope-agent
# --pythons, docs/pythons.md) and every night runs the suite under each of them
# (pyscope submit --python with their exact versions, one job per script, Python
# and host); at the end `pyscope compare-pythons` prints, for each script of the
# suite on farm-a, every Python against the first one. The job user must be able to
# run them (an interpreter under /root is not: FARM_AGENT_ARGS="--run-as root" on a
# throwaway machine, or install them elsewhere).
#
# Every link is CURVE-encrypted and authenticated (docs/security.md): the farm makes
# the coordinator's keys folder DIR/keys (its keypair, agents/farm-a.key,
# agents/farm-b.key, submitters/local.key) and the clients' keypairs under
# DIR/client-keys (one per agent, "local" for you as submitter); --no-curve runs
# without (plain ZeroMQ). Allow or revoke a key while the farm runs by adding or
# deleting its NAME.key under DIR/keys/agents or DIR/keys/submitters.
#
# Afterwards the farm keeps running in the foreground until Ctrl-C (or stops at
# once with --once, or keeps running in the background with --detach until
# `deploy/farm.sh stop`). Stopping, Ctrl-C or any exit leaves nothing running:
# process groups killed, PostgreSQL stopped, namespaces and links deleted.
#
# Exit status (with --once, or of the start with --detach): 0 every night ran and the report
# was rendered; 2 a bad option, a missing --suite/--workspace or a FARM_BUILD that is no
# folder (said, nothing started);
# 2 or 4 a night's pyscope submit failed so that every night would (invalid
# suite, unknown host or Python; coordinator failed): no more nights played; 3 a night's job
# did not end ok; 1 anything else (a night not analysed within an hour, no report).
#
# Environment: FARM_BUILD (use this build folder, skip building), FARM_ID (a short
# name for the namespaces, default pyf), FARM_SUBNET (default 10.77.0),
# FARM_AGENT_ARGS (more pyscope-agent options, split on blanks).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

mode=foreground
nights=1
dir=$src/.farm
port=5555
cmd=start
suite=$src/examples/suite.ini
workspace=$src
curve=1
slow_night=0
slowdown=""
slow_host=b
http=0
pythons=""
repo=""
no_repo=0
while [ $# -gt 0 ]; do
    case $1 in
    --nights | --dir | --port | --suite | --workspace | --slowdown-night | --slowdown | \
        --slow-host | --http | --pythons | --repo)
        [ $# -ge 2 ] || { echo "farm.sh: $1 needs a value (try --help)" >&2; exit 2; } ;;
    esac
    case $1 in
    stop) cmd=stop ;;
    start) cmd=start ;;
    --once) mode=once ;;
    --detach) mode=detach ;;
    --nights) nights=$2; shift ;;
    --dir) dir=$2; shift ;;
    --port) port=$2; shift ;;
    --suite) suite=$2; shift ;;
    --workspace) workspace=$2; shift ;;
    --no-curve) curve=0 ;;
    --slowdown-night) slow_night=$2; shift ;;
    --slowdown) slowdown=$2; shift ;;
    --slow-host) slow_host=${2#farm-}; shift ;;
    --http) http=$2; shift ;;
    --pythons) pythons=$2; shift ;;
    --repo) repo=$2; shift ;;
    --no-repo) no_repo=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "farm.sh: unknown argument \"$1\" (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case $nights in '' | *[!0-9]* | 0) echo "farm.sh: --nights takes a whole number >= 1" >&2; exit 2 ;; esac
# a TCP port: 1-65535, no leading zeros (the coordinator and the agents read it)
port_ok() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]; }
port_ok "$port" || { echo "farm.sh: --port takes a port number from 1 to 65535, not \"$port\"" >&2; exit 2; }
[ "$http" = 0 ] || port_ok "$http" ||
    { echo "farm.sh: --http takes a port number from 1 to 65535, not \"$http\"" >&2; exit 2; }
case $slow_night in '' | *[!0-9]*) echo "farm.sh: --slowdown-night takes a night number" >&2; exit 2 ;; esac
# what examples/slow_script.py accepts: a percentage >= -90, whole or with a fraction
if [ -n "$slowdown" ] && ! { [[ $slowdown =~ ^-?[0-9]+(\.[0-9]+)?$ ]] &&
    awk -v p="$slowdown" 'BEGIN { exit !(p >= -90 && p <= 10000) }'; }; then
    echo "farm.sh: --slowdown takes a percentage from -90 to 10000 (e.g. 30), not \"$slowdown\"" >&2
    exit 2
fi
case $slow_host in a | b) ;; *) echo "farm.sh: --slow-host takes a or b" >&2; exit 2 ;; esac
if [ "$slow_night" != 0 ] && [ -z "$slowdown" ]; then
    echo "farm.sh: --slowdown-night needs --slowdown PCT" >&2
    exit 2
fi
if [ "$slow_night" = 0 ] && { [ -n "$slowdown" ] || [ "$slow_host" != b ]; }; then
    echo "farm.sh: --slowdown and --slow-host need --slowdown-night K (the night the slowdown starts)" >&2
    exit 2
fi
if [ "$slow_night" != 0 ] && [ "$slow_night" -lt 4 ]; then
    echo "farm.sh: --slowdown-night $slow_night is too early: the farm decides a series only from" \
        "3 baseline nights (fewer is \"insufficient history\"), so the first night a slowdown" \
        "can be found is 4" >&2
    exit 2
fi
if [ "$slow_night" -gt "$nights" ]; then
    echo "farm.sh: --slowdown-night $slow_night is after the last night ($nights): add --nights $slow_night" >&2
    exit 2
fi
id=${FARM_ID:-pyf}
subnet=${FARM_SUBNET:-10.77.0}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
state=$dir/state # what is running: lines "pid PID", "pg DIR", "netns NAME", "link NAME"

say() { echo "== farm: $*" >&2; }

# ---- stopping: everything listed in the state file, in reverse ----------------
farm_stop() {
    if [ ! -s "$state" ]; then
        [ "$cmd" != stop ] || say "no farm is running from $dir: nothing to stop"
        rm -f "$state"
        return 0
    fi
    local kind val
    # Daemons first (TERM, then KILL what is left), each its own process group.
    while read -r kind val; do
        [ "$kind" = pid ] || continue
        kill -TERM -- "-$val" 2>/dev/null || kill -TERM "$val" 2>/dev/null || true
    done <"$state"
    for _ in $(seq 1 50); do
        local alive=0
        while read -r kind val; do
            [ "$kind" = pid ] && kill -0 "$val" 2>/dev/null && alive=1
        done <"$state"
        [ $alive = 0 ] && break
        sleep 0.1
    done
    while read -r kind val; do
        [ "$kind" = pid ] || continue
        kill -KILL -- "-$val" 2>/dev/null || true
        kill -KILL "$val" 2>/dev/null || true
    done <"$state"
    while read -r kind val; do
        case $kind in
        pg | pgtmp)
            if [ -f "$val/data/postmaster.pid" ]; then
                if [ "$(id -u)" -eq 0 ]; then
                    (cd / && runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl \
                        -D "$val/data" -m fast -w stop >/dev/null 2>&1) || true
                else
                    /usr/lib/postgresql/15/bin/pg_ctl -D "$val/data" -m fast -w stop \
                        >/dev/null 2>&1 || true
                fi
            fi
            # made by farm.sh in /tmp (postgres could not reach --dir): nothing else keeps it
            [ "$kind" != pgtmp ] || [ -f "$val/data/postmaster.pid" ] || rm -rf "$val"
            ;;
        netns) ip netns del "$val" 2>/dev/null || true ;;
        link) ip link del "$val" 2>/dev/null || true ;;
        esac
    done < <(tac "$state")
    rm -f "$state"
    say "stopped: the coordinator, the agents, PostgreSQL and the network namespaces of the farm in $dir are gone"
}

if [ "$cmd" = stop ]; then
    farm_stop
    exit 0
fi
if [ -f "$state" ]; then
    say "a farm from $dir is still running: stopping it first"
    farm_stop
fi
: >"$state"
# shellcheck disable=SC2317
on_exit() {
    local st=$?
    [ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null || true
    if [ "$mode" != detach ] || [ "${started:-0}" != 1 ]; then farm_stop; fi
    exit "$st"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- packages and build -------------------------------------------------------
if [ -z "${FARM_BUILD:-}" ]; then
    say "installing missing packages"
    "$src/scripts/install-deps.sh"
    farm_pkgs=(libzmq3-dev libinih-dev libprotobuf-c-dev protobuf-c-compiler libpq-dev
               postgresql iproute2 util-linux valgrind)
    missing=()
    for p in "${farm_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo=sudo
        say "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
    say "building into $src/build (scripts/build.sh; FARM_BUILD=DIR uses a build you made)"
    # warnings stay warnings for a user (a newer compiler may warn where ours does not);
    # scripts/build.sh makes them errors for developers and CI
    "$src/scripts/build.sh" "$src/build" -DPYSCOPE_WERROR=OFF
    build=$src/build
else
    # absolute: DIR/env puts its cli folder on PATH, for shells anywhere
    [ -d "$FARM_BUILD" ] || {
        echo "farm.sh: FARM_BUILD=$FARM_BUILD is not a folder: set it to a build folder" \
            "(scripts/build.sh DIR), or unset it to build into $src/build" >&2
        exit 2
    }
    build=$(cd "$FARM_BUILD" && pwd)
fi
coord_bin=$build/coordinator/pyscope-coordinator
agent_bin=$build/agent/pyscope-agent
cli=$build/cli/pyscope
for b in "$coord_bin" "$agent_bin" "$cli"; do
    [ -x "$b" ] || { echo "farm.sh: $b is missing: build first" >&2; exit 1; }
done
[ -f "$suite" ] || { echo "farm.sh: no suite file \"$suite\" (--suite FILE: see docs/suite-format.md)" >&2; exit 2; }
[ -d "$workspace" ] || { echo "farm.sh: no workspace folder \"$workspace\"" >&2; exit 2; }
# The agents' git repository (pyscope try, submit --commit): --repo, else the checkout
# holding the workspace (by default this checkout, which farm.sh was started from: its
# suite's paths are the repository's), else the current folder's.
if [ $no_repo = 1 ]; then
    repo=""
elif [ -z "$repo" ] && command -v git >/dev/null; then
    repo=$(git -C "$workspace" rev-parse --show-toplevel 2>/dev/null ||
        git -C "$PWD" rev-parse --show-toplevel 2>/dev/null || true)
fi

# Start a daemon in a process group of its own; remember it. Output to a log.
spawn() {
    local log=$1
    shift
    setsid "$@" >>"$log" 2>&1 </dev/null &
    echo "pid $!" >>"$state"
}

# ---- the job user ----------------------------------------------------------------
# Agents started as root run every script as this unprivileged user, in namespaces
# of its own (docs/security.md, "Jobs"); they refuse to start without it.
if [ "$(id -u)" -eq 0 ] && ! id pyscope-job >/dev/null 2>&1; then
    say "creating the job user pyscope-job (scripts run as it, not as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        pyscope-job
fi

# ---- PostgreSQL ----------------------------------------------------------------
pg=$dir/pg
runas=()
if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: the server runs as "postgres", which
    # must be able to reach its folder; use /tmp when $dir is not reachable.
    runas=(runuser -u postgres --)
    if ! runuser -u postgres -- test -x "$dir"; then
        pg=$(mktemp -d /tmp/pyscope-farm-pg.XXXXXX)
    fi
fi
rm -rf "$pg"
mkdir -p "$pg"
[ ${#runas[@]} -eq 0 ] || chown postgres: "$pg"
chmod 755 "$pg"
case $pg in /tmp/pyscope-farm-pg.*) echo "pgtmp $pg" >>"$state" ;; *) echo "pg $pg" >>"$state" ;; esac
say "starting PostgreSQL in $pg (unix socket only)"
pgbin=/usr/lib/postgresql/15/bin
# as_pg CMD...: CMD as the server's user, from "/": the folder farm.sh started in may be
# one postgres cannot enter (a 0700 mktemp folder), and initdb and pg_ctl then printed
# 'could not change directory to "...": Permission denied' (stranger19's minor 9).
as_pg() { (cd / && "${runas[@]}" "$@"); }
as_pg "$pgbin/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --no-instructions \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
as_pg "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-k $pg -c listen_addresses= -p 5432" start >/dev/null ||
    { cat "$pg/server.log" >&2; exit 1; }
export PGHOST=$pg PGPORT=5432 PGUSER=postgres PGDATABASE=pyscope
"$pgbin/createdb" pyscope
conninfo="host=$pg port=5432 user=postgres dbname=pyscope"

# ---- network: a bridge and two namespaces, else loopback -----------------------
netns=0
if [ "$(id -u)" -eq 0 ] && ip netns add "$id-a" 2>/dev/null; then
    echo "netns $id-a" >>"$state"
    netns=1
    {
        ip netns add "$id-b" && echo "netns $id-b" >>"$state" &&
            ip link add "$id-br" type bridge && echo "link $id-br" >>"$state" &&
            ip addr add "$subnet.1/24" dev "$id-br" && ip link set "$id-br" up &&
            for h in a b; do
                n=$([ $h = a ] && echo 2 || echo 3)
                ip link add "$id-$h-h" type veth peer name "$id-$h-n" &&
                    echo "link $id-$h-h" >>"$state" &&
                    ip link set "$id-$h-h" master "$id-br" && ip link set "$id-$h-h" up &&
                    ip link set "$id-$h-n" netns "$id-$h" &&
                    ip -n "$id-$h" addr add "$subnet.$n/24" dev "$id-$h-n" &&
                    ip -n "$id-$h" link set "$id-$h-n" up &&
                    ip -n "$id-$h" link set lo up || exit 1
            done
    } || { echo "farm.sh: could not set up the namespaces" >&2; exit 1; }
    endpoint="tcp://$subnet.1:$port"
    say "network: namespaces $id-a ($subnet.2) and $id-b ($subnet.3) on bridge $id-br"
else
    endpoint="tcp://127.0.0.1:$port"
    say "network: no network namespaces here (needs root): both agents on loopback"
fi
uts=0
unshare -u true 2>/dev/null && uts=1
[ $uts = 1 ] || say "no UTS namespaces here (needs root): both agents are the same host"

# ---- keys ----------------------------------------------------------------------
keygen=$cli
coord_conf=$dir/coordinator.conf
# both agents run on this one machine: one of them at a time (the default, said here)
printf '[coordinator]\nhttp = 127.0.0.1:%s\nshare_machines = 0\n' "$http" >"$coord_conf"
if [ $curve = 1 ]; then
    keys=$dir/keys
    client=$dir/client-keys
    rm -rf "$keys" "$client"
    mkdir -p "$keys/agents" "$keys/submitters"
    chmod 700 "$keys"
    "$keygen" keygen coordinator --dir "$keys" >/dev/null
    for k in farm-a farm-b local; do
        "$keygen" keygen "$k" --dir "$client" >/dev/null
    done
    cp "$client/farm-a.key" "$client/farm-b.key" "$keys/agents/"
    cp "$client/local.key" "$keys/submitters/"
    echo "curve_keys_dir = $keys" >>"$coord_conf"
    export PYSCOPE_SECRET_KEY=$client/local PYSCOPE_COORDINATOR_KEY=$keys/coordinator.key
    say "CURVE on: keys folder $keys (allowed keys in agents/ and submitters/), client keys in $client"
else
    say "CURVE off (--no-curve): links are neither encrypted nor authenticated"
fi

# ---- coordinator and agents ----------------------------------------------------
say "starting the coordinator on $endpoint"
spawn "$dir/coordinator.log" "$coord_bin" --db "$conninfo" --bind "$endpoint" \
    --config "$coord_conf"
for _ in $(seq 1 100); do
    grep -q "listening on" "$dir/coordinator.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "listening on" "$dir/coordinator.log" ||
    { tail "$dir/coordinator.log" >&2; echo "farm.sh: the coordinator did not start" >&2; exit 1; }
web=$(grep -o 'web pages on http://[^ ]*' "$dir/coordinator.log" | grep -o 'http://.*' || true)
say "the coordinator serves its web pages (the team report, batches, series, hosts) on ${web:-no address (see $dir/coordinator.log)}"

# The slow host's runner: pyscope-run with PYSCOPE_EXAMPLE_SLOWDOWN from
# $dir/slow-runner/slowdown once that file is written (night --slowdown-night).
# Everything it needs lives in its own folder, with a copy of pyscope-run and its pyshim/: a job
# sees only the runner's folder when a private /tmp hides the rest (a build
# under /tmp), and nothing else of $dir (keys, spools).
slowdir=$dir/slow-runner
rm -rf "$slowdir"
mkdir -p "$slowdir"
cp "$build/agent/runner/pyscope-run" "$slowdir/pyscope-run"
# and the per-version Python modules it loads into the script's interpreter (found
# next to the program: agent/runner/README.md)
cp -r "$build/agent/runner/pyshim" "$slowdir/pyshim"
chmod -R a+rX "$slowdir/pyshim"
cat >"$slowdir/run-slow.sh" <<RUNNER
#!/bin/sh
if [ -s "$slowdir/slowdown" ]; then
    PYSCOPE_EXAMPLE_SLOWDOWN=\$(cat "$slowdir/slowdown")
    export PYSCOPE_EXAMPLE_SLOWDOWN
fi
exec "$slowdir/pyscope-run" "\$@"
RUNNER
chmod 755 "$slowdir" "$slowdir/run-slow.sh" "$slowdir/pyscope-run"
# --pythons: each interpreter's exact version, for submit --python
agent_pythons=()
submit_pythons=()
if [ -n "$pythons" ]; then
    versions=""
    for p in ${pythons//,/ }; do
        v=$("$p" -c 'import platform; print(platform.python_version())') ||
            { echo "farm.sh: --pythons: \"$p\" does not run as a Python" >&2; exit 2; }
        versions=${versions:+$versions,}$v
    done
    agent_pythons=(--pythons "$pythons")
    submit_pythons=(--python "$versions")
    say "Pythons: $versions ($pythons)"
fi
for h in a b; do
    name=farm-$h
    runner=()
    [ "$slow_night" != 0 ] && [ "$h" = "$slow_host" ] && runner=(--runner "$slowdir/run-slow.sh")
    wrap=()
    [ $netns = 1 ] && wrap+=(ip netns exec "$id-$h")
    [ $uts = 1 ] && wrap+=(unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh "$name")
    say "starting agent $name"
    agent_keys=()
    [ $curve = 0 ] || agent_keys=(--secret-key "$client/$name" --coordinator-key "$keys/coordinator.key")
    agent_repo=()
    [ -z "$repo" ] || agent_repo=(--repo "$repo" --revisions "$dir/revisions-$name")
    spawn "$dir/agent-$name.log" "${wrap[@]}" "$agent_bin" --coordinator "$endpoint" \
        --workspace "$workspace" --name "$name" --spool "$dir/spool-$name" --label "farm=$h" \
        "${agent_keys[@]}" "${runner[@]}" "${agent_pythons[@]}" "${agent_repo[@]}" \
        ${FARM_AGENT_ARGS:-} # word splitting wanted
done
agents=0
for _ in $(seq 1 100); do
    agents=$(psql -X -A -t -c 'SELECT count(*) FROM agents' 2>/dev/null || echo 0)
    [ "$agents" = 2 ] && break
    sleep 0.2
done
if [ "$agents" != 2 ]; then
    tail -n 5 "$dir"/agent-farm-*.log >&2 || true
    echo "farm.sh: only $agents of the 2 agents said Hello within 20 s (their logs:" \
        "$dir/agent-farm-a.log, $dir/agent-farm-b.log)" >&2
    exit 1
fi
if [ -n "$repo" ]; then
    say "git repository of the agents (pyscope try, submit --commit): $repo"
else
    say "no git repository for the agents (--no-repo, or neither $workspace nor $PWD is in a" \
        "git checkout): pyscope try and submit --commit need one (--repo PATH|URL)"
fi
started=1
{
    echo "# source this file to use the farm from a shell: pyscope, psql, its keys"
    echo "export PATH=$build/cli:\$PATH"
    echo "export PYSCOPE_COORDINATOR=$endpoint PGHOST=$pg PGPORT=5432 PGUSER=postgres PGDATABASE=pyscope"
} >"$dir/env"
[ $curve = 0 ] ||
    echo "export PYSCOPE_SECRET_KEY=$client/local PYSCOPE_COORDINATOR_KEY=$keys/coordinator.key" \
        >>"$dir/env"

# ---- the example suite, N nights -----------------------------------------------
export PYSCOPE_COORDINATOR=$endpoint
"$cli" hosts
grep -Eq '^[[:space:]]*reference[[:space:]]*[=:]' "$suite" ||
    say "$suite names no reference script: confirmation runs are plain re-runs, which a" \
        "machine's drift can fool (README, \"Confirmation that cancels drift\")"
# settled: every batch finished and analysed, confirmation runs included
settled() {
    [ "$(psql -X -A -t -c "SELECT count(*) FROM batches WHERE state = 'running' OR analyzed IS NULL" \
        2>/dev/null || echo 1)" = 0 ]
}
wait_settled() {
    local until=$((SECONDS + 3600))
    while ! settled; do
        [ $SECONDS -lt $until ] || { say "night $1: not analysed after an hour"; return 1; }
        sleep 0.5
    done
}
status=0
for night in $(seq 1 "$nights"); do
    if [ "$slow_night" != 0 ] && [ "$night" = "$slow_night" ]; then
        say "night $night: farm-$slow_host runs with PYSCOPE_EXAMPLE_SLOWDOWN=$slowdown from now on"
        echo "$slowdown" >"$slowdir/slowdown"
    fi
    say "night $night of $nights: submitting $suite"
    # --timeout 60: the coordinator of a farm on a busy machine (the nights' own CPU hogs
    # beside it) can take more than the default 5 s to answer; a night is not interactive
    rc=0
    "$cli" submit "$suite" --label "night $night" "${submit_pythons[@]}" --wait --timeout 60 ||
        rc=$?
    # 3: a job did not end ok (the night still counts); 2 (invalid suite, unknown host or
    # Python) or 4 (the coordinator failed) would fail every night alike: stop here
    if [ "$rc" = 2 ] || [ "$rc" = 4 ]; then
        say "night $night: pyscope submit failed (exit $rc, said above): no more nights;" \
            "fix it and submit again (source $dir/env; pyscope submit SUITE --wait)"
        status=$rc
        break
    fi
    [ "$rc" = 0 ] || status=$rc
    # the night ends with its analysis and confirmation runs, not with its last job
    wait_settled "$night" || status=1
    say "night $night analysed: $(psql -X -A -t -c "SELECT count(*) FILTER (WHERE batch_id = b.id)
        || ' new finding(s), ' || count(*) FILTER (WHERE batch_id < b.id AND last_batch_id = b.id)
        || ' ongoing, ' || (SELECT count(*) FROM jobs j WHERE j.batch_id = b.id AND j.purpose = 'confirm')
        || ' confirmation run(s)' FROM batches b LEFT JOIN regressions g
        ON g.batch_id = b.id OR g.last_batch_id = b.id WHERE b.id = (SELECT max(id) FROM batches)
        GROUP BY b.id" 2>/dev/null || echo '?')"
done

say "the stored runs (psql; net wall: wall time less the time spent waiting for a CPU):"
psql -X -P pager=off -c "
SELECT r.batch_id AS batch, s.key AS script, h.hostname AS host, r.outcome,
       cardinality(r.wall_s) AS n,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(r.wall_s) x)
             ::numeric, 3) AS median_wall_s,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY w - least(coalesce(d, 0), w - c))
              FROM unnest(r.wall_s, r.cpu_s, r.run_delay_s) u(w, c, d))::numeric, 3)
             AS median_net_wall_s,
       round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(r.cpu_s) x)
             ::numeric, 3) AS median_cpu_s,
       round(((SELECT max(x) FROM unnest(r.peak_rss_bytes) x) / 1048576.0)::numeric, 1)
             AS peak_mib,
       (SELECT count(*) FROM run_functions f WHERE f.run_id = r.run_id) AS hotspots
FROM runs r JOIN scripts s ON s.id = r.script_id JOIN hosts h ON h.id = r.host_id
ORDER BY r.batch_id, s.key, h.hostname"
if [ -n "$pythons" ]; then
    say "each script on farm-a under each Python (pyscope compare-pythons):"
    for script in $(psql -X -A -t -c "SELECT DISTINCT s.key FROM runs r JOIN scripts s
        ON s.id = r.script_id JOIN jobs j ON j.id = r.job_id WHERE j.purpose = 'measure'
        ORDER BY 1"); do
        "$cli" compare-pythons "$script" --host farm-a --pythons "${submit_pythons[1]}" || status=1
        echo
    done
fi
# The team report (every batch is analysed by now, confirmation runs included).
if "$cli" report --since 1d --out "$dir/report.html" >/dev/null &&
    "$cli" report --since 1d --json >"$dir/report.json"; then
    say "the team report: $dir/report.html (its data: $dir/report.json)"
else
    say "could not render the team report"
    status=1
fi
stop_how="$src/deploy/farm.sh stop --dir $dir"
case $mode in
once) stop_how="nothing to stop: --once stops the farm now" ;;
foreground) stop_how="Ctrl-C here (or, from another shell: $stop_how)" ;;
esac
try_how="pyscope try $suite --base HEAD~1 --head HEAD --hosts farm-a"
[ -n "$repo" ] || try_how="(pyscope try needs a git repository: --repo PATH|URL)"
what="what runs"
[ "$mode" != once ] || what="what ran (--once: all of it stops now; without --once it keeps running)"
cat >&2 <<EOF
== farm: $what, all in $dir:
     PostgreSQL    $pg (unix socket; tables runs, run_functions, jobs, hosts)
     coordinator   $endpoint, log $dir/coordinator.log
     agents        farm-a and farm-b, logs $dir/agent-farm-a.log, $dir/agent-farm-b.log
     git repository of the agents: ${repo:-none}
   reports: $dir/report.html (team report; data $dir/report.json)
            web pages: ${web:-none (see $dir/coordinator.log)} (the newest night, /batches, /hosts)
   use it:  source $dir/env, then e.g.
              pyscope hosts; pyscope jobs; pyscope report --since 1d; psql
              pyscope submit $suite --wait
              $try_how
   stop:    $stop_how
EOF

[ -s "$dir/report.html" ] && echo "$dir/report.html"
case $mode in
once) exit "$status" ;;
detach)
    say "the farm keeps running in the background; stop it with: $src/deploy/farm.sh stop --dir $dir"
    exit "$status"
    ;;
*)
    say "the farm is running; Ctrl-C stops it"
    while true; do
        sleep 3600 &
        sleeper=$!
        wait "$sleeper"
    done
    ;;
esac
