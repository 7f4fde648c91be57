#!/usr/bin/env bash
# test_fault_kill9.sh - kill -9 of the coordinator, of PostgreSQL (postmaster and every
# child) and of agents at random moments while results flow from four agents: every
# result is stored exactly once, and everything is delivered after the last restart.
#
# The kills come one after another while the batch runs (each once the stored count
# passed its share, plus a random delay): the coordinator, an agent, PostgreSQL, the
# coordinator and an agent together (from 3000 results: coordinator, agent,
# PostgreSQL, coordinator, agent, PostgreSQL, coordinator and agent together). Each
# killed process is restarted (agents with the same spool). The checker in
# fault_lib.sh then compares the run ids the agents spooled with the rows stored.
# FAULT_RESULTS (default 400; tests/bench/fault_kill9.sh runs 10000), FAULT_SEED.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/fault_lib.sh"

fault_init 400
results=$FAULT_N
farm_pg_start
fault_workspace $((results / FAULT_HOSTS + 1))
fault_begin kill9
fault_submit "$results"

# A small run has time for one kill of each kind (a kill and its restart take seconds).
kills=(coord agent pg coord+agent)
[ "$results" -lt 3000 ] || kills=(coord agent pg coord agent pg coord+agent)
pick_agent() { echo "a$((1 + RANDOM % ${#FAULT_AGENTS[@]}))"; }
# pause: 0.1 to 1.5 s, random
pause() { sleep "$(awk -v r=$RANDOM 'BEGIN {printf "%.2f", 0.1 + 1.4 * r / 32768}')"; }
step=0
inflight=0 # kills of the coordinator or an agent with over a tenth of the results to come
for k in "${kills[@]}"; do
    step=$((step + 1))
    share=$((FAULT_JOBS * step / (${#kills[@]} + 3)))
    farm_wait $((120 + FAULT_JOBS / 10)) '[ "$(fault_stored)" -ge '"$share"' ]' ||
        { fail "progress before kill $step" "$(fault_stored) of $share stored"; break; }
    pause
    at=$(fault_stored)
    [ "$k" = pg ] || [ $((10 * at)) -ge $((9 * FAULT_JOBS)) ] || inflight=$((inflight + 1))
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
    echo "# kill -9 of the $k with $at of $FAULT_JOBS stored"
done
fault_recovered
fault_wait_delivery $((240 + FAULT_JOBS / 10)) || { fail "full delivery" "$(fault_stored) stored"; fault_logs; }
fault_check
fault_expect_exactly_once
# an agent resends what it spooled and the coordinator did not acknowledge: only a kill
# while results were still coming leaves any (on a quiet machine all 400 may be stored
# before the first kill: CI of fe0aeaa, "400 of 400 stored" at every kill)
if [ "$inflight" -gt 0 ]; then
    expect_match "agents resent their spools" "resending [0-9]+ spooled" "$(cat "$S"/agent-*.log)"
else
    echo "# every result was stored before the kills of the coordinator and agents: nothing to resend"
fi
expect_match "the coordinator saw the database go" "database error" "$(cat "$S/coord.log")"
fault_end
finish
