# coord.sh - run pyscope-coordinator and the fake agent in integration tests
# (sourced after lib.sh and pg.sh; pg_start first).
#
#   coord_start [OPTIONS...]   start on $COORD_EP, wait until it listens (log: $COORD_LOG)
#   coord_stop                 SIGTERM, wait; $COORD_STATUS is its exit status
#   fake [OPTIONS...] <<EOF    run tests/tools/fake_agent against $COORD_EP
#   curve_farm KIND:VAR:NAME...  a CURVE farm's keys in $K and $T/coord.conf naming them
#   fake_as SECRET [OPTIONS...]  fake, speaking CURVE with that secret key
#   revisions_repo UNITS ARGS...  the generated git repository of the revision tests in $REPO
#   C N                          the hash of its Nth commit (1 = the oldest)
COORD="$PYSCOPE_BUILD/coordinator/pyscope-coordinator"
FAKE="$PYSCOPE_BUILD/tests/tools/fake_agent"
COORD_EP="ipc://$T/coord.sock"
COORD_PID=""
COORD_LOG=""
COORD_STATUS=""
COORD_RUNS=0

# coord_kill: on exit, kill the coordinator and any other background job the
# test left running (an orphan holding ctest's output pipe would hang it).
coord_kill() {
    [ -n "$COORD_PID" ] && { kill -KILL "$COORD_PID" 2>/dev/null || true; }
    COORD_PID=""
    local j
    for j in $(jobs -p); do
        kill -KILL "$j" 2>/dev/null || true
    done
    return 0
}

coord_start() {
    if [ "$COORD_RUNS" -eq 0 ]; then
        local prev
        prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
        # shellcheck disable=SC2064
        trap "coord_kill; $prev" EXIT
    fi
    COORD_RUNS=$((COORD_RUNS + 1))
    COORD_LOG="$T/coord.$COORD_RUNS.log"
    "$COORD" --db "$PG_CONNINFO" --bind "$COORD_EP" "$@" 2>"$COORD_LOG" &
    COORD_PID=$!
    local i
    for i in $(seq 200); do
        grep -q "listening on" "$COORD_LOG" && return 0
        kill -0 "$COORD_PID" 2>/dev/null || { wait "$COORD_PID" || true; COORD_PID=""; cat "$COORD_LOG" >&2; return 1; }
        sleep 0.05
    done
    return 1
}

coord_stop() {
    kill -TERM "$COORD_PID"
    COORD_STATUS=0
    wait "$COORD_PID" || COORD_STATUS=$?
    COORD_PID=""
}

fake() {
    "$FAKE" --connect "$COORD_EP" "$@"
}

# curve_farm KIND:VAR:NAME...: the keys of a CURVE farm in $K ($T/keys): the coordinator's pair
# (SRV_PUB, SRV_SEC: its files in $K), and for each agent:VAR:NAME or submitter:VAR:NAME a
# new pair in VAR_PUB and VAR_SEC with the public key on the allowlist ($K/agents/NAME.key or
# $K/submitters/NAME.key). $T/coord.conf names the folder: append settings to it.
curve_farm() {
    K=$T/keys
    mkdir -p "$K/agents" "$K/submitters"
    chmod 700 "$K"
    read -r SRV_PUB SRV_SEC < <("$FAKE" --keygen)
    (umask 077 && printf '%s\n' "$SRV_SEC" >"$K/coordinator.key_secret")
    printf '%s\n' "$SRV_PUB" >"$K/coordinator.key"
    local spec kind var name pub
    for spec in "$@"; do
        IFS=: read -r kind var name <<<"$spec"
        read -r "${var}_PUB" "${var}_SEC" < <("$FAKE" --keygen)
        pub=${var}_PUB
        printf '%s\n' "${!pub}" >"$K/${kind}s/$name.key"
    done
    printf '[coordinator]\ncurve_keys_dir = %s\n' "$K" >"$T/coord.conf"
}

# fake_as SECRET [OPTIONS...]: fake, as the holder of SECRET, to a coordinator of curve_farm.
fake_as() {
    local sec=$1
    shift
    fake --server-key "$SRV_PUB" --secret-key "$sec" "$@"
}

# revisions_repo UNITS ARGS...: the generated repository of the revision, try and bisect
# tests (tests/data/revisions/make_repo.sh DIR ARGS..., f() and g() looping UNITS times) in
# $REPO ($T/repo), its hashes oldest first in $T/hashes (C N prints the Nth); git's and the
# cache's settings kept inside $T. Skips the test (77) without git.
revisions_repo() {
    command -v git >/dev/null || skip "no git (apt-get install git)"
    export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T"
    REPO=$T/repo
    local units=$1
    shift
    PYSCOPE_WORK_UNITS=$units bash "$PYSCOPE_SRC/tests/data/revisions/make_repo.sh" "$REPO" "$@" \
        >"$T/hashes"
}
C() { sed -n "${1}p" "$T/hashes"; }

# scratch_repo DIR: an empty git repository at DIR, entered (cd), with a committer and the
# tests' own cache and home (the commands' worktree cache goes under $T).
scratch_repo() {
    command -v git >/dev/null || skip "no git (apt-get install git)"
    export XDG_CACHE_HOME="$T/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$T"
    export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
        GIT_COMMITTER_EMAIL=t@example.com
    mkdir -p "$1"
    cd "$1"
    git init -q
}

# json_get EXPR: read a JSON document on stdin, print python expression EXPR of it (as d).
json_get() {
    "$PY" -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)"
}

# capture CMD...: run CMD, keep its output (stdout + stderr) in OUT and status in RC.
capture() {
    RC=0
    OUT=$("$@" 2>&1) || RC=$?
}
