#!/usr/bin/env bash
# test_fault_points.sh - every result stored exactly once when a process dies at each
# step of a result's path (docs/DESIGN.md §14: spool (fsync) -> send -> INSERT ... ON CONFLICT
# -> COMMIT -> ack -> spool delete), with results in flight from four agents.
#
# One scenario per fault point (lib/fault.h, PYSCOPE_FAULT=point:N with a random N):
#   agent_after_spool    the agent dies after the spool write, before the send
#   agent_after_send     the agent dies after a send, before the ack
#   coord_before_commit  the coordinator dies inside the transaction, before COMMIT
#   coord_after_commit   the coordinator dies after COMMIT, before the acks
#   agent_after_ack      the agent dies after an ack, before the spool delete
# The dead process is restarted (an agent with the same spool); then the checker
# (fault_lib.sh) compares the run ids the agents spooled with the rows in PostgreSQL.
# Negative control: the agents delete a result from the spool right after sending it
# (switch agent_unsafe_delete) and the coordinator dies before a COMMIT: the checker
# must report lost results. Then one row is duplicated by hand: it must report it.
# FAULT_RESULTS (default 100) results per scenario; FAULT_SEED to replay the choices.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/fault_lib.sh"

fault_init 100
results=$FAULT_N
farm_pg_start
fault_workspace "$results"

# scenario POINT WHO N: arm POINT at its N-th pass in WHO (coord or a1), let the
# process die there, restart it, wait for full delivery, check.
scenario() {
    local point=$1 who=$2 n=$3
    if [ "$who" = coord ]; then
        fault_begin "$point" "$point:$n" || return
    else
        fault_begin "$point" "" "$point:$n" || return
    fi
    fault_submit "$results" || return
    if [ "$who" = coord ]; then
        fault_died "$COORD_PID" "$S/coord.log" "$point"
        fault_coord_start
    else
        fault_died "${AGENT_PID[a1]}" "$S/agent-a1.log" "$point"
        fault_agent_start a1
    fi
    fault_recovered
    fault_wait_delivery 120 || fail "$point: full delivery" "$(fault_stored) stored"
    fault_check
    fault_expect_exactly_once
    fault_end
}

# N: a random pass within the first half of what a1 sees (a quarter of the results),
# and early for the coordinator (a COMMIT takes a group of up to 64 results).
half=$((results / ${#FAULT_AGENTS[@]} / 2))
scenario agent_after_spool a1 $((3 + RANDOM % half))
scenario agent_after_send a1 $((3 + RANDOM % half))
scenario coord_before_commit coord $((2 + RANDOM % 4))
scenario coord_after_commit coord $((2 + RANDOM % 4))
scenario agent_after_ack a1 $((3 + RANDOM % half))
expect_match "a restarted agent resends what its spool holds" "resending [0-9]+ spooled" \
    "$(cat "$T"/agent_after_spool/agent-a1.log)"
expect_match "acked results resent after a crash count as duplicates, stored once" \
    '"results_duplicate":[1-9]' "$(cat "$T"/agent_after_ack/coord.log)"

# Negative control: the guarantee broken on purpose must be seen broken.
fault_begin negative_unsafe_delete "coord_before_commit:$((2 + RANDOM % 4))" \
    agent_unsafe_delete agent_unsafe_delete
fault_submit "$results"
fault_died "$COORD_PID" "$S/coord.log" coord_before_commit
fault_coord_start
fault_recovered
# The lost results' jobs are leased until their lease expires, then run again.
fault_wait_delivery 120 || fail "negative control: jobs finish" "$(fault_stored) stored"
fault_check
[ "$LOST" -gt 0 ] && ok "negative control: the checker sees $LOST lost results" ||
    fail "negative control: the checker sees lost results" "lost=$LOST"
fault_end

# The checker sees a duplicate row: a second run of one job, made by hand.
pg_sql "CREATE TEMP TABLE twin AS SELECT * FROM runs WHERE batch_id IN ($FAULT_BATCHES) LIMIT 1;
    UPDATE twin SET run_id = gen_random_uuid(); INSERT INTO runs SELECT * FROM twin" >/dev/null
S="$T/negative_duplicate_row"
mkdir -p "$S"
cp "$T"/negative_unsafe_delete/agent-*.log "$S/"
fault_check
expect_eq "negative control: the checker sees the duplicated row" 1 "$DUPLICATED"
expect_eq "negative control: and a row no agent spooled" 1 "$UNKNOWN"
fault_keep
echo "# figures:"
sed 's/^/#   /' "$FAULT_FIGURES"
finish
