# coord.sh - run pyscope-coordinator and the fake agent in integration tests
# (sourced after lib.sh and pg.sh; pg_start first).
#
#   coord_start [OPTIONS...]   start on $COORD_EP, wait until it listens (log: $COORD_LOG)
#   coord_stop                 SIGTERM, wait; $COORD_STATUS is its exit status
#   fake [OPTIONS...] <<EOF    run tests/tools/fake_agent against $COORD_EP
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

# json_get EXPR: read a JSON document on stdin, print python expression EXPR of it (as d).
json_get() {
    "$PY" -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)"
}

# capture CMD...: run CMD, keep its output (stdout + stderr) in OUT and status in RC.
capture() {
    RC=0
    OUT=$("$@" 2>&1) || RC=$?
}
