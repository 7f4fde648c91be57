#!/usr/bin/env bash
# test_fault_kill9.sh - kill -9 of the coordinator, of PostgreSQL (postmaster and every
# child) and of agents while results flow from four agents: every result is stored
# exactly once, the agents resend what their spools held, and everything is delivered
# after the last restart.
#
# The kills come one after another while the batch runs, each set off by progress, not
# by a timer: kill N of K waits until the stored rows reach a random point of the N-th
# of K equal shares of 10%..50% of the results, and lands at once (with a random pause
# before each kill, on a fast idle machine all 400 results were stored before the first
# one: CI of fe0aeaa). Each job sleeps FAULT_JOB_SLEEP (0.5 s) in the fake runner, so
# four agents of 8 slots store at most 64 results a second on any machine, and the
# stored count cannot run from 50% to the end between two looks at it. The kills: the
# coordinator, an agent, PostgreSQL, the coordinator and an agent together (from 3000
# results: coordinator, agent, PostgreSQL, coordinator, agent, PostgreSQL, coordinator
# and agent together). Each killed process is restarted 0.1 to 1.5 s later (agents with
# the same spool). Checked on every run: each kill came with over a tenth of the results
# still to come, the agents resent results from their spools, and the checker in
# fault_lib.sh finds every result the agents spooled stored exactly once (or refused as
# stale, its job run again). FAULT_RESULTS (default 400; tests/bench/fault_kill9.sh runs
# 10000), FAULT_SEED, FAULT_JOB_SLEEP, FAULT_LEASE_MS (5000 here).
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
# 5 s leases (fault_lib: 10 s): the jobs a killed agent held run again sooner
FAULT_LEASE_MS=${FAULT_LEASE_MS:-5000}
source "$PYSCOPE_SRC/tests/integration/fault_lib.sh"

fault_init 400
results=$FAULT_N
FAULT_JOB_SLEEP=${FAULT_JOB_SLEEP:-0.5}
farm_pg_start
fault_workspace $((results / FAULT_HOSTS + 1))
fault_begin kill9
fault_submit "$results"

kills=(coord agent pg coord+agent)
[ "$results" -lt 3000 ] || kills=(coord agent pg coord agent pg coord+agent)
pick_agent() { echo "a$((1 + RANDOM % ${#FAULT_AGENTS[@]}))"; }
# pause: 0.1 to 1.5 s, random
pause() { sleep "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.1 + 1.4 * r / 32768}')"; }
step=0
midflow=0 # kills with over a tenth of the results still to come
for k in "${kills[@]}"; do
    step=$((step + 1))
    # a random point (in hundredths of a percent) of this kill's share of 10%..50%
    lo=$((1000 + 4000 * (step - 1) / ${#kills[@]}))
    hi=$((1000 + 4000 * step / ${#kills[@]}))
    share=$((FAULT_JOBS * (lo + RANDOM % (hi - lo)) / 10000))
    at=0
    farm_wait $((120 + FAULT_JOBS / 10)) 'at=$(fault_stored); [ "$at" -ge '"$share"' ]' ||
        { fail "progress before kill $step" "$at of $share stored"; break; }
    case $k in
    coord)
        fault_kill_coord
        pause
        fault_coord_start
        ;;
    agent)
        a=$(pick_agent)
        fault_kill_agent "$a"
        pause
        fault_agent_start "$a"
        k="agent $a"
        ;;
    pg)
        fault_kill_pg "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.1 + 1.4 * r / 32768}')"
        k="postgresql"
        ;;
    coord+agent)
        a=$(pick_agent)
        fault_kill_coord
        fault_kill_agent "$a"
        pause
        fault_coord_start
        fault_agent_start "$a"
        k="coordinator and agent $a"
        ;;
    esac
    echo "# kill -9 of the $k with $at of $FAULT_JOBS stored (trigger at $share)"
    [ $((10 * at)) -ge $((9 * FAULT_JOBS)) ] || midflow=$((midflow + 1))
done
fault_recovered
fault_wait_delivery $((240 + FAULT_JOBS / 10)) || { fail "full delivery" "$(fault_stored) stored"; fault_logs; }
fault_check
# Unconditional: the kills came while results were flowing (the hard case), and what the
# agents held unacknowledged at a kill was resent from their spools and stored once.
expect_eq "every kill came with over a tenth of the results to come" "${#kills[@]}" "$midflow"
resent=$(grep -ho "resending [0-9]* spooled" "$S"/agent-*.log | awk '{n += $2} END {print n + 0}')
echo "# the agents resent $resent spooled results"
expect_match "agents resent their spools" "resending [0-9]+ spooled" "$(cat "$S"/agent-*.log)"
fault_expect_exactly_once
expect_match "the coordinator saw the database go" "database error" "$(cat "$S/coord.log")"
fault_keep
fault_end
finish
