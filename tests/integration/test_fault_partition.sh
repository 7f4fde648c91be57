#!/usr/bin/env bash
# test_fault_partition.sh - network faults (docs/DESIGN.md §14):
#  - an agent cut off from the coordinator (its own network namespace, the veth link
#    set down) for FAULT_PARTITION_S seconds (default 60): it notices within seconds
#    (ZMTP heartbeats), keeps running its jobs and spooling their results, and after
#    the heal delivers everything, each result stored exactly once;
#  - meanwhile a stalled agent (SIGSTOP) and a peer that floods the coordinator and
#    never reads its answers (tests/tools/stall_peer) do not block the coordinator:
#    another agent keeps getting its jobs and acks.
# The partitioned agent runs real short Python jobs (pyscope-run); the other agents
# use tests/tools/fake_runner.sh. Prints the time to notice, the results spooled
# during the partition, the time to full delivery after the heal and the healthy
# agent's ack latency before and during the stall (figures only: no timing
# threshold is asserted). Needs root (ip netns); skipped otherwise.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
FAULT_LEASE_MS=${FAULT_LEASE_MS:-600000} # leases outlast the partition (docs/reliability.md)
source "$PYSCOPE_SRC/tests/integration/fault_lib.sh"

ns=pyf$$
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! ip netns add "$ns" 2>/dev/null; then
    skip "partitioning an agent needs root and network namespaces (ip netns)"
fi
hv=${ns}h nv=${ns}n
net_cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$hv" 2>/dev/null || true
}
prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "${prev:+$prev; }net_cleanup" EXIT
net=10.$((200 + RANDOM % 50)).$((RANDOM % 250))
ip link add "$hv" type veth peer name "$nv"
ip link set "$nv" netns "$ns"
ip addr add "$net.1/24" dev "$hv"
ip link set "$hv" up
ip netns exec "$ns" ip addr add "$net.2/24" dev "$nv"
ip netns exec "$ns" ip link set "$nv" up
ip netns exec "$ns" ip link set lo up
COORD_URL="tcp://$net.1:$((20000 + RANDOM % 20000))"
export PYSCOPE_COORDINATOR=$COORD_URL
# 60 s: twenty times the heartbeat's 3 s and twelve times the reconnect back-off's 5 s cap,
# and past the kernel's first SYN retries (1+2+4+8+16 = 31 s), which ZMQ_CONNECT_TIMEOUT cuts
part_s=${FAULT_PARTITION_S:-60}

farm_pg_start
fault_workspace 1
S="$T/partition"
mkdir -p "$S"
fault_coord_start || exit 1
echo "# coordinator on $COORD_URL; agent p in network namespace $ns ($net.2)"

# agent NAME [WRAPPER...]: a real agent on host "fault-NAME"; extra options in $AGENT_OPTS.
agent() {
    local name=$1
    shift
    # The time stamps come from a process of ours, not the agent's (it would take a
    # child it did not start for a job's leftover).
    mkfifo "$S/fifo-$name"
    stamp <"$S/fifo-$name" >"$S/agent-$name.log" &
    FARM_PIDS+=("$!")
    # shellcheck disable=SC2086
    "$@" unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh "fault-$name" \
        "$AGENT_BIN" --config "$T/agent.conf" --coordinator "$COORD_URL" --workspace "$T/ws" \
        --name "$name" --spool "$FAULT_SPOOLS/spool-$name" "${FARM_AGENT_DEFAULTS[@]}" \
        $AGENT_OPTS 2>"$S/fifo-$name" &
    AGENT_PID[$name]=$!
    FARM_PIDS+=("$!")
}
# stamp: prefix each line with the epoch time in milliseconds.
stamp() {
    "$PY" -u -c 'import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line))
    sys.stdout.flush()'
}
AGENT_OPTS="" agent p ip netns exec "$ns"
AGENT_OPTS="--runner $FAULT_RUNNER --max-jobs 2" agent q
AGENT_OPTS="--runner $FAULT_RUNNER --max-jobs 2" agent r
farm_wait 30 '[ "$(grep -l "info: welcome" "$S"/agent-*.log 2>/dev/null | wc -l)" = 3 ]' ||
    { fail "agents registered" "$(tail -n 3 "$S"/agent-*.log)"; fault_logs; exit 1; }

# submit NAME HOSTS SCRIPT...: a batch of SCRIPTs for HOSTS; its id joins FAULT_BATCHES.
submit() {
    local name=$1 hosts=$2 out
    shift 2
    # r's jobs take a second each, so r is stopped with jobs in hand (the agents pass no
    # variable of their own on to a job: the suite's env sets it)
    { echo "[suite]"; echo "name = $name"; echo "timeout = $((part_s * 3))"; echo "hosts = $hosts"
      [ "$hosts" != r ] || echo "env = FAKE_RUNNER_SLEEP=1"
      printf '[script %s]\n' "$@"; } >"$S/$name.ini"
    out=$(farm_cli submit "$S/$name.ini" --json --timeout 60) || { fail "submit $name" "$out"; return 1; }
    FAULT_BATCHES="$FAULT_BATCHES${FAULT_BATCHES:+,}$(grep -Eo '"batch_id": [0-9]+' <<<"$out" |
        grep -Eo '[0-9]+$')"
}
# p's jobs: real Python, finishing at spread moments of the partition (and one before).
p_scripts=()
for f in 0.01 0.1 0.25 0.4 0.55 0.7 0.85; do
    i=${#p_scripts[@]}
    printf 'import time\ntime.sleep(%s)\nprint("done")\n' \
        "$(awk -v f="$f" -v p="$part_s" 'BEGIN {s = f * p; if (s < 1) s = 1; printf "%.1f", s}')" \
        >"$T/ws/p$i.py"
    p_scripts+=("p$i.py")
done
r_scripts=()
for i in $(seq 1 20); do echo pass >"$T/ws/r$i.py"; r_scripts+=("r$i.py"); done
q_scripts=()
for i in $(seq 1 10); do echo pass >"$T/ws/q$i.py"; q_scripts+=("q$i.py"); done
FAULT_T0=$(fault_now)
submit partitioned p "${p_scripts[@]}"
submit stalled r "${r_scripts[@]}"
submit healthy q "${q_scripts[@]}"
farm_wait 60 '[ "$(grep -c "acked" "$S/agent-p.log")" -ge 1 ] &&
    [ "$(grep -c "acked" "$S/agent-r.log")" -ge 2 ]' ||
    { fail "first results" "$(tail -n 5 "$S"/agent-*.log)"; fault_logs; exit 1; }

# The partition.
t_part=$(fault_now)
ip link set "$hv" down
echo "# link $hv down at $t_part for $part_s s"
t_notice=""
t_stall=""
n_chunk=0
while :; do
    now=$(fault_now)
    el=$(awk -v a="$t_part" -v b="$now" 'BEGIN {printf "%d", b - a}')
    [ "$el" -lt "$part_s" ] || break
    if [ -z "$t_notice" ] && grep -q "lost the coordinator" "$S/agent-p.log"; then
        t_notice=$(grep -m1 "lost the coordinator" "$S/agent-p.log" | cut -d' ' -f1)
    fi
    if [ -z "$t_stall" ] && [ "$el" -ge 5 ]; then
        kill -STOP "${AGENT_PID[r]}"
        "$PYSCOPE_BUILD/tests/tools/stall_peer" --connect "$COORD_URL" --messages 200000 \
            --hold $((part_s - 10)) >"$S/stall.out" 2>&1 &
        FARM_PIDS+=("$!")
        t_stall=$(fault_now)
        echo "# agent r stopped (SIGSTOP) and a peer flooding without reading from $t_stall"
    fi
    # healthy work keeps coming: ten new jobs for q every 10 s
    if [ "$el" -ge $((n_chunk * 10)) ]; then
        n_chunk=$((n_chunk + 1))
        submit "healthy$n_chunk" q "${q_scripts[@]}"
    fi
    sleep 0.5
done
p_spool_at_heal=$(find "$FAULT_SPOOLS/spool-p" -maxdepth 1 -name '*.result' | wc -l)
p_spooled_during=$(awk -v a="$t_part" '$1 >= a && / spooled$/' "$S/agent-p.log" | wc -l)
q_acked_at_heal=$(grep -c " acked" "$S/agent-q.log" || true)
ip link set "$hv" up
kill -CONT "${AGENT_PID[r]}"
t_heal=$(fault_now)
FAULT_RECOVERED=$t_heal
echo "# link up at $t_heal"
FAULT_JOBS=$((${#p_scripts[@]} + ${#r_scripts[@]} + ${#q_scripts[@]} * (n_chunk + 1)))
fault_wait_delivery 120 || { fail "full delivery after the heal" "$(fault_stored) stored"; fault_logs; }
fault_check
fault_expect_exactly_once

notice_s=$(awk -v a="$t_part" -v b="${t_notice:-0}" 'BEGIN {printf "%.1f", b - a}')
[ -n "$t_notice" ] && ok "the partitioned agent noticed, after $notice_s s" ||
    fail "the partitioned agent noticed the partition" "$(tail -n 5 "$S/agent-p.log")"
expect_match "it says its results stay in the spool" \
    "coordinator unreachable.*results stay in the spool" "$(cat "$S/agent-p.log")"
[ "$p_spool_at_heal" -ge 1 ] && [ "$p_spool_at_heal" = "$p_spooled_during" ] &&
    ok "it kept spooling: $p_spooled_during results spooled during the partition, all kept" ||
    fail "it kept spooling" "spooled during $p_spooled_during, in the spool at heal $p_spool_at_heal"
expect_match "it resent them after the heal" "resending [0-9]+ spooled" \
    "$(awk -v h="$t_heal" '$1 >= h' "$S/agent-p.log")"
expect_eq "every job of p done, once, with outcome ok" "${#p_scripts[@]}" \
    "$(pg_sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id JOIN agents a
        ON a.host_id = j.host_id WHERE a.name = 'p' AND r.outcome = 'ok'")"

# The stalls did not block the coordinator or q.
q_during=$(awk -v a="$t_stall" -v b="$t_heal" '$1 >= a && $1 < b && / acked/' "$S/agent-q.log" | wc -l)
[ "$q_during" -gt 0 ] && ok "q got $q_during acks while r was stopped and a peer flooded" ||
    fail "q got acks during the stall" "0 acks"
expect_match "the flood was sent" "^sent 200000" "$(cat "$S/stall.out")"
fault_end
counters=$(grep "counters:" "$S/coord.log" | tail -1)
expect_match "the flooding peer's replies were dropped, not waited for" '"send_again":[1-9]' \
    "$counters"
# ack latency of q: spool -> ack, for the results spooled between $1 and $2.
latency() {
    awk -v a="$1" -v b="$2" '
        / spooled$/ { for (i = 1; i <= NF; i++) if ($i == "result") s[$(i + 1)] = $1 }
        / acked$/ { for (i = 1; i <= NF; i++) if ($i == "result" && ($(i + 1) in s)) {
            t = s[$(i + 1)]; if (t >= a && t < b) printf "%.0f\n", 1000 * ($1 - t) } }' \
        "$S/agent-q.log" | sort -n >"$S/latency"
    local n
    n=$(wc -l <"$S/latency")
    [ "$n" -gt 0 ] || { echo "n=0"; return; }
    echo "n=$n median_ms=$(sed -n "$(((n + 1) / 2))p" "$S/latency") max_ms=$(tail -1 "$S/latency")"
}
echo "# FIGURES partition: noticed_after_s=$notice_s spooled_during=$p_spooled_during" \
    "delivery_after_heal_s=$DELIVERY_S"
echo "# FIGURES q ack latency before the partition: $(latency "$FAULT_T0" "$t_part")"
echo "# FIGURES q ack latency during the stall:     $(latency "$t_stall" "$t_heal")"
echo "# FIGURES coordinator $(grep -o '"send_again":[0-9]*' <<<"$counters")" \
    "$(grep -o '"undecodable":[0-9]*' <<<"$counters") q_acks_before_heal=$q_acked_at_heal"
fault_keep
finish
