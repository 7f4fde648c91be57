# shellcheck shell=bash
# farm_lib.sh - helpers for the farm's integration tests (sourced after lib.sh).
#
#   source "$PYSCOPE_SRC/tests/integration/lib.sh"
#   source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
#   farm_pg_start                      # throwaway PostgreSQL (tests/integration/pg.sh)
#   farm_coord_start                   # coordinator on ipc://$T/coord.sock, short leases
#   farm_agent_start NAME WORKSPACE [ARGS...]
#   farm_cli submit SUITE ...          # pyscope
#   farm_wait SECONDS 'shell condition'
#
# Everything started here is killed on exit (after pg.sh's own cleanup).
COORD_BIN="$PYSCOPE_BUILD/coordinator/pyscope-coordinator"
AGENT_BIN="$PYSCOPE_BUILD/agent/pyscope-agent"
COORD_URL="ipc://$T/coord.sock"
export PYSCOPE_COORDINATOR="$COORD_URL"
FARM_PIDS=()
# A sanitizer build: pyscope-run under ASan cannot live with RLIMIT_AS (its shadow
# memory needs terabytes of address space), so agents get no memory limit.
FARM_ASAN=0
case "$(nm "$AGENT_BIN" 2>/dev/null || true)" in *__asan_init*) FARM_ASAN=1 ;; esac
FARM_AGENT_DEFAULTS=()
[ "$FARM_ASAN" = 0 ] || FARM_AGENT_DEFAULTS=(--memory-limit 0)
COORD_PID=""
declare -A AGENT_PID=()
# An agent started as root runs its jobs as the job user (agent/sandbox.h) and refuses
# to start without one: make it (scripts/install-deps.sh --test does the same).
if [ "$(id -u)" = 0 ] && ! id pyscope-job >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
        pyscope-job 2>/dev/null || id pyscope-job >/dev/null 2>&1
fi

# farm_cli ARGS...: the CLI's farm commands.
farm_cli() {
    "$PYSCOPE" "$@"
}

farm_cleanup() {
    local p
    for p in "${FARM_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${FARM_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

farm_pg_start() {
    # shellcheck source=pg.sh
    source "$PYSCOPE_SRC/tests/integration/pg.sh"
    pg_start
    local prev
    prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "farm_cleanup; $prev" EXIT
}

# farm_coord_start: start (or restart) the coordinator; log in $T/coord.log.
farm_coord_start() {
    cat >"$T/coord.conf" <<CONF
[coordinator]
heartbeat_ms = 500
lease_ms = 4000
peer_timeout_ms = 5000
reap_interval_ms = 500
dispatch_interval_ms = 300
max_attempts = 5
# these tests check delivery, not timings: agents on this one machine run side by side
share_machines = 1
${FARM_COORD_EXTRA:-}
CONF
    "$COORD_BIN" --db "$PG_CONNINFO" --bind "$COORD_URL" --config "$T/coord.conf" \
        >>"$T/coord.log" 2>&1 &
    COORD_PID=$!
    FARM_PIDS+=("$COORD_PID")
}

# farm_agent_start NAME WORKSPACE [ARGS...]: start an agent; log in $T/agent-NAME.log.
farm_agent_start() {
    local name=$1 ws=$2
    shift 2
    "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --name "$name" \
        --spool "$T/spool-$name" "${FARM_AGENT_DEFAULTS[@]}" "$@" >>"$T/agent-$name.log" 2>&1 &
    AGENT_PID[$name]=$!
    FARM_PIDS+=("$!")
}

# farm_agent_start_host HOSTNAME NAME WORKSPACE [ARGS...]: an agent that looks like
# another machine: its own UTS namespace with its own host name (so its own host
# fingerprint). Needs root (unshare -u); without it, a plain agent on this host,
# and FARM_DISTINCT_HOSTS=0.
FARM_DISTINCT_HOSTS=0
if unshare -u true 2>/dev/null; then FARM_DISTINCT_HOSTS=1; fi
farm_agent_start_host() {
    local host=$1 name=$2 ws=$3
    shift 3
    if [ "$FARM_DISTINCT_HOSTS" = 1 ]; then
        unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
            "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --name "$name" \
            --spool "$T/spool-$name" "${FARM_AGENT_DEFAULTS[@]}" "$@" >>"$T/agent-$name.log" 2>&1 &
        AGENT_PID[$name]=$!
        FARM_PIDS+=("$!")
    else
        farm_agent_start "$name" "$ws" "$@"
    fi
}

# farm_wait SECONDS CONDITION: poll the shell condition every 0.2 s; 1 on timeout.
farm_wait() {
    local until=$((SECONDS + $1))
    while [ $SECONDS -lt "$until" ]; do
        if eval "$2"; then return 0; fi
        sleep 0.2
    done
    return 1
}

# farm_logs: print every log (for failures).
farm_logs() {
    local f
    for f in "$T"/*.log; do echo "=== $f"; tail -n 40 "$f"; done
}
