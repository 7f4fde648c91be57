# shellcheck shell=bash
# fault_lib.sh - farm and checker of the fault tests (sourced after lib.sh and farm_lib.sh).
#
#   farm_pg_start; fault_workspace SCRIPTS
#   fault_begin NAME [COORD_FAULT] [A1_FAULT] [OTHERS_FAULT]  # coordinator + 4 agents; logs in $S
#   fault_submit RESULTS                        # batches with RESULTS jobs in all
#   ... kill things (fault_kill_*), restart them (fault_coord_start, fault_agent_start) ...
#   fault_recovered                             # the clock for "time to full delivery"
#   fault_wait_delivery SECONDS                 # every job done, every spool empty
#   fault_check                                 # prints the figures, sets SENT STORED ...
#   fault_end                                   # SIGTERM to everything of the scenario
#
# The agents are real pyscope-agent processes with tests/tools/fake_runner.sh as
# their runner (no Python, so thousands of jobs take seconds); with root each has
# its own UTS namespace, so its own host, and a batch makes one job per script per
# agent. The checker compares the run ids the agents spooled (their logs say
# "result ID spooled" before the result is sent) with the rows in PostgreSQL.
FAULT_RUNNER="$PYSCOPE_SRC/tests/tools/fake_runner.sh"
FAULT_AGENTS=(a1 a2 a3 a4)
FAULT_HOSTS=1
[ "$FARM_DISTINCT_HOSTS" = 1 ] && FAULT_HOSTS=${#FAULT_AGENTS[@]}
FAULT_SCRIPTS=0
FAULT_LEASE_MS=${FAULT_LEASE_MS:-10000}
S="" # the scenario's folder
FAULT_BATCHES=""
FAULT_T0=0
FAULT_RECOVERED=0
FAULT_FIGURES="$T/figures.txt"
# Spools on tmpfs when there is one: a kill -9 loses no page cache, so what is tested
# (the order spool -> send -> COMMIT -> ack -> delete) is the same, without three
# fsyncs of a shared disk per result. FAULT_SPOOLS=DIR to choose.
if [ -z "${FAULT_SPOOLS:-}" ]; then
    FAULT_SPOOLS=$T
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        FAULT_SPOOLS=$(mktemp -d /dev/shm/pyscope-fault.XXXXXX)
        trap 'rm -rf "$FAULT_SPOOLS"; '"$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
    fi
fi

# fault_init DEFAULT: FAULT_N = $FAULT_RESULTS or DEFAULT results; RANDOM seeded with
# $FAULT_SEED (printed, to replay a run's random choices) or a random seed.
fault_init() {
    FAULT_N=${FAULT_RESULTS:-$1}
    local seed=${FAULT_SEED:-$RANDOM}
    RANDOM=$seed
    echo "# FAULT_SEED=$seed FAULT_RESULTS=$FAULT_N (spools in $FAULT_SPOOLS)"
}

# fault_now: seconds since the epoch, with milliseconds.
fault_now() { date +%s.%3N; }

# fault_workspace N: N tiny scripts in $T/ws (the fake runner never reads them).
fault_workspace() {
    mkdir -p "$T/ws"
    local i
    for ((i = 1; i <= $1; i++)); do echo "pass" >"$T/ws/s$i.py"; done
    FAULT_SCRIPTS=$1
    cat >"$T/agent.conf" <<CONF
[agent]
resend = 2
max_jobs = 8
CONF
}

# fault_coord_start [FAULT]: start the coordinator (PYSCOPE_FAULT=FAULT), wait until it listens.
fault_coord_start() {
    cat >"$T/coord.conf" <<CONF
[coordinator]
heartbeat_ms = 500
lease_ms = $FAULT_LEASE_MS
peer_timeout_ms = 5000
reap_interval_ms = 500
dispatch_interval_ms = 200
max_attempts = 10
# these tests check delivery, not timings: agents on this one machine run side by side
share_machines = 1
${FAULT_COORD_EXTRA:-}
CONF
    local before
    before=$(grep -c "listening on" "$S/coord.log" 2>/dev/null || true)
    PYSCOPE_FAULT="${1:-}" "$COORD_BIN" --db "$PG_CONNINFO" --bind "$COORD_URL" \
        --config "$T/coord.conf" >>"$S/coord.log" 2>&1 &
    COORD_PID=$!
    FARM_PIDS+=("$COORD_PID")
    farm_wait 20 '[ "$(grep -c "listening on" "$S/coord.log")" -gt "${before:-0}" ]' ||
        { fail "coordinator started" "$(tail -5 "$S/coord.log")"; return 1; }
}

# fault_agent_start NAME [FAULT]: start agent NAME (same spool every time) on its host.
fault_agent_start() {
    local name=$1 fault=${2:-}
    local cmd=(env "PYSCOPE_FAULT=$fault" "$AGENT_BIN" --config "$T/agent.conf"
        --coordinator "$COORD_URL" --workspace "$T/ws" --name "$name" --spool "$FAULT_SPOOLS/spool-$name"
        --runner "$FAULT_RUNNER" "${FARM_AGENT_DEFAULTS[@]}")
    if [ "$FARM_DISTINCT_HOSTS" = 1 ]; then
        unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh "fault-$name" "${cmd[@]}" \
            >>"$S/agent-$name.log" 2>&1 &
    else
        "${cmd[@]}" >>"$S/agent-$name.log" 2>&1 &
    fi
    AGENT_PID[$name]=$!
    FARM_PIDS+=("$!")
}

# fault_begin NAME [COORD_FAULT] [A1_FAULT] [OTHERS_FAULT]: a scenario: the coordinator
# and the agents (a1 with A1_FAULT, the others with OTHERS_FAULT), all registered.
fault_begin() {
    S="$T/$1"
    mkdir -p "$S"
    FAULT_BATCHES=""
    echo "# scenario $1"
    fault_coord_start "${2:-}" || return 1
    local a
    for a in "${FAULT_AGENTS[@]}"; do
        if [ "$a" = a1 ]; then fault_agent_start "$a" "${3:-}"; else fault_agent_start "$a" "${4:-}"; fi
    done
    # 60 s: at load 18 (CI beside six builds) three agents and a coordinator took over 20
    farm_wait 60 '[ "$(grep -l "^pyscope-agent: info: welcome" "$S"/agent-*.log 2>/dev/null |
        wc -l)" = ${#FAULT_AGENTS[@]} ]' || {
        fail "agents registered" "not all welcomed within 60 s: $(tail -n 2 "$S"/agent-*.log | tr '\n' ' ' | head -c 1500)"
        return 1
    }
}

# fault_submit RESULTS: queue RESULTS jobs (RESULTS / hosts scripts, suites of at most
# 250 scripts); their batch ids go to FAULT_BATCHES. With FAULT_JOB_SLEEP=SECONDS each job
# takes that long (the suite sets FAKE_RUNNER_SLEEP: the agents pass no other variable on).
fault_submit() {
    local want=$1 per=$(($1 / FAULT_HOSTS)) first=1 n out
    [ "$per" -le "$FAULT_SCRIPTS" ] || { fail "submit" "only $FAULT_SCRIPTS scripts"; return 1; }
    FAULT_T0=$(fault_now)
    while [ "$first" -le "$per" ]; do
        n=$((per - first + 1))
        [ "$n" -le 250 ] || n=250 # small batches: each is analysed inline when it ends
        {
            echo "[suite]"
            echo "name = fault"
            echo "timeout = 60"
            [ -z "${FAULT_JOB_SLEEP:-}" ] || echo "env = FAKE_RUNNER_SLEEP=$FAULT_JOB_SLEEP"
            seq "$first" $((first + n - 1)) | sed 's/.*/[script s&.py]/'
        } >"$S/suite.ini"
        out=$(farm_cli submit "$S/suite.ini" --json --timeout 120) || { fail "submit" "$out"; return 1; }
        FAULT_BATCHES="$FAULT_BATCHES${FAULT_BATCHES:+,}$(grep -Eo '"batch_id": [0-9]+' <<<"$out" |
            grep -Eo '[0-9]+$')"
        first=$((first + n))
    done
    FAULT_JOBS=$((per * FAULT_HOSTS))
    [ "$FAULT_JOBS" = "$want" ] || echo "# $FAULT_JOBS jobs (not $want: $FAULT_HOSTS hosts)"
}

# fault_stored: rows stored so far for the scenario's batches.
fault_stored() {
    pg_sql "SELECT count(*) FROM runs WHERE batch_id IN ($FAULT_BATCHES)" 2>/dev/null || echo 0
}

# fault_spooled: result files still in the agents' spools.
fault_spooled() {
    find "$FAULT_SPOOLS"/spool-* -maxdepth 1 -name '*.result' 2>/dev/null | wc -l
}

# fault_recovered: the last fault is over (everything restarted): start the delivery clock.
fault_recovered() { FAULT_RECOVERED=$(fault_now); }

# fault_died PID LOG POINT: wait until PID killed itself at fault point POINT.
fault_died() {
    local pid=$1 log=$2 point=$3 st=0
    farm_wait 120 '! kill -0 '"$pid"' 2>/dev/null' || { fail "fault $point fired" "still alive"; return 1; }
    wait "$pid" 2>/dev/null || st=$?
    if [ "$st" = 137 ] && grep -q "fault point \"$point\" reached" "$log"; then
        ok "fault $point fired (SIGKILL) after $(fault_stored) stored"
    else
        fail "fault $point fired" "exit status $st; $(tail -3 "$log")"
    fi
}

# fault_kill_coord: kill -9 the coordinator now.
fault_kill_coord() {
    kill -KILL "$COORD_PID" 2>/dev/null || true
    wait "$COORD_PID" 2>/dev/null || true
}

# fault_kill_agent NAME: kill -9 an agent (its runners die with it: PDEATHSIG).
fault_kill_agent() {
    kill -KILL "${AGENT_PID[$1]}" 2>/dev/null || true
    wait "${AGENT_PID[$1]}" 2>/dev/null || true
}

# fault_kill_pg: kill -9 the postmaster and every child of it, then start it again.
fault_kill_pg() {
    local pm kids
    pm=$(head -1 "$PG_DIR/data/postmaster.pid")
    kids=$(ps -o pid= --ppid "$pm" | tr '\n' ' ')
    # shellcheck disable=SC2086
    kill -KILL "$pm" $kids 2>/dev/null || true
    farm_wait 20 '! kill -0 '"$pm"' 2>/dev/null' || true
    sleep "${1:-0.5}"
    pg_resume
}

# fault_wait_delivery SECONDS: until every job of the batches is done and the spools
# are empty; sets DELIVERY_S (seconds since fault_recovered). 1 on timeout.
fault_wait_delivery() {
    local notdone="SELECT count(*) FROM jobs WHERE batch_id IN ($FAULT_BATCHES) AND state <> 'done'"
    DELIVERY_S="timeout"
    farm_wait "$1" '[ "$(pg_sql "$notdone" 2>/dev/null || echo x)" = 0 ] &&
        [ "$(fault_spooled)" = 0 ]' || return 1
    DELIVERY_S=$(awk -v a="$FAULT_RECOVERED" -v b="$(fault_now)" 'BEGIN {printf "%.1f", b - a}')
    TOTAL_S=$(awk -v a="$FAULT_T0" -v b="$(fault_now)" 'BEGIN {printf "%.1f", b - a}')
}

# fault_check: compare what the agents spooled with what PostgreSQL holds; print one
# line of figures (also appended to $FAULT_FIGURES) and set SENT STORED DUPLICATED LOST
# REFUSED UNKNOWN ROWS.
fault_check() {
    local name=${S##*/}
    grep -ho 'result [0-9a-f-]\{36\} spooled' "$S"/agent-*.log | cut -d' ' -f2 | sort -u \
        >"$S/sent.txt" || true
    grep -ho 'result [0-9a-f-]\{36\} refused' "$S"/agent-*.log | cut -d' ' -f2 | sort -u \
        >"$S/refused.txt" || true
    pg_sql "SELECT run_id FROM runs WHERE batch_id IN ($FAULT_BATCHES) ORDER BY 1" >"$S/rows.txt"
    sort -u "$S/rows.txt" >"$S/stored.txt"
    SENT=$(wc -l <"$S/sent.txt")
    ROWS=$(wc -l <"$S/rows.txt")
    STORED=$(comm -12 "$S/sent.txt" "$S/stored.txt" | wc -l)
    REFUSED=$(comm -23 "$S/refused.txt" "$S/stored.txt" | wc -l)
    LOST=$(comm -23 "$S/sent.txt" "$S/stored.txt" | comm -23 - "$S/refused.txt" | wc -l)
    UNKNOWN=$(comm -13 "$S/sent.txt" "$S/stored.txt" | wc -l)
    # A duplicate: a second row for the same run id or for the same job.
    local dup_jobs
    dup_jobs=$(pg_sql "SELECT count(*) - count(DISTINCT job_id) FROM runs
        WHERE batch_id IN ($FAULT_BATCHES)")
    DUPLICATED=$((ROWS - $(wc -l <"$S/stored.txt") + dup_jobs))
    local line
    line=$(printf '%-26s jobs=%s sent=%s stored=%s duplicated=%s lost=%s refused=%s unknown=%s' \
        "$name" "${FAULT_JOBS:-?}" "$SENT" "$STORED" "$DUPLICATED" "$LOST" "$REFUSED" "$UNKNOWN")
    line="$line delivery_after_recovery_s=${DELIVERY_S:-?} total_s=${TOTAL_S:-?}"
    echo "# FIGURES $line"
    echo "$line" >>"$FAULT_FIGURES"
}

# fault_expect_exactly_once: the checks every scenario must pass.
fault_expect_exactly_once() {
    local name=${S##*/}
    expect_eq "$name: every job stored once" "$FAULT_JOBS" "$ROWS"
    expect_eq "$name: nothing lost" 0 "$LOST"
    expect_eq "$name: nothing duplicated" 0 "$DUPLICATED"
    expect_eq "$name: every row was spooled by an agent" 0 "$UNKNOWN"
    expect_eq "$name: every spooled result stored" "$SENT" "$((STORED + REFUSED))"
}

# fault_end: stop the scenario's processes (SIGTERM; SIGKILL after 10 s).
fault_end() {
    local p pids=("$COORD_PID")
    for p in "${FAULT_AGENTS[@]}"; do pids+=("${AGENT_PID[$p]:-}"); done
    for p in "${pids[@]}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        [ -n "$p" ] || continue
        farm_wait 10 '! kill -0 '"$p"' 2>/dev/null' || kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}

# fault_keep: with FAULT_KEEP=DIR, copy the logs there (for a look after the run).
fault_keep() {
    [ -n "${FAULT_KEEP:-}" ] || return 0
    mkdir -p "$FAULT_KEEP"
    cp -r "$T"/. "$FAULT_KEEP"/ 2>/dev/null || true
    echo "# logs kept in $FAULT_KEEP"
}

# fault_logs: the end of every log of the scenario (for failures).
fault_logs() {
    local f
    for f in "$S"/*.log; do
        [ -f "$f" ] || continue
        echo "=== $f"
        tail -n 20 "$f" || true
    done
}
