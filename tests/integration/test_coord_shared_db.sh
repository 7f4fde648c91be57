#!/usr/bin/env bash
# test_coord_shared_db.sh - two coordinators on one database: agents on both
# take jobs of the same hosts' queues concurrently; every job is handed out
# once (FOR UPDATE SKIP LOCKED), every result stored once, a result can be
# delivered to either coordinator.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start
first_pid=$COORD_PID
EP1=$COORD_EP
"$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/coord2.sock" 2>"$T/coord2.log" & second_pid=$!
prev=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064
trap "kill -KILL $second_pid 2>/dev/null || true; $prev" EXIT
for _ in $(seq 100); do grep -q listening "$T/coord2.log" && break; sleep 0.1; done
EP2="ipc://$T/coord2.sock"

# Two agents on one host (same fingerprint), one on each coordinator.
fake --name a1 >/dev/null <<'CMDS'
hello
submit s0.py s1.py s2.py s3.py s4.py s5.py s6.py s7.py s8.py s9.py s10.py s11.py s12.py s13.py s14.py s15.py s16.py s17.py s18.py s19.py
CMDS
"$FAKE" --connect "$EP1" --name a1 --wait 1500 >"$T/a1.out" <<'CMDS' &
hello
ready 20 1500
CMDS
p1=$!
"$FAKE" --connect "$EP2" --name a2 --wait 1500 >"$T/a2.out" <<'CMDS' &
hello
ready 20 1500
CMDS
p2=$!
wait "$p1" "$p2"
n1=$(grep -c '^job' "$T/a1.out" || true)
n2=$(grep -c '^job' "$T/a2.out" || true)
expect_eq "all 20 jobs handed out" 20 "$((n1 + n2))"
expect_eq "no job handed out twice" 20 "$(cat "$T/a1.out" "$T/a2.out" | grep '^job' | sed -E 's/.*id=([0-9]+).*/\1/' | sort -u | wc -l)"
expect_eq "leases split by owner" "$n1 $n2" \
    "$(pg_sql "SELECT count(*) FILTER (WHERE lease_owner = 'a1') || ' ' || count(*) FILTER (WHERE lease_owner = 'a2') FROM jobs")"

# A result for one of the jobs, sent to the other coordinator, then resent to the first.
RUN=0000000000000000000000000000d00d
holder=a1
[ "$n1" -gt 0 ] || holder=a2
job=$(grep -h '^job' "$T/$holder.out" | head -1 |
    sed -E "s/.*id=([0-9]+) attempt=([0-9]+) batch=[0-9]+ script=([^ ]+).*/\1 \2 $RUN ok \3/")
out=$("$FAKE" --connect "$EP2" --name "$holder" <<CMDS
hello
result $job
CMDS
)
expect_match "stored through the other coordinator" "^ack run_id=" "$out"
out=$(fake --name "$holder" <<CMDS
hello
result $job
CMDS
)
expect_match "resent to the first: acked as a duplicate" "^ack run_id=" "$out"
expect_eq "stored once" 1 "$(pg_sql "SELECT count(*) FROM runs")"

# Three agents ask in one loop pass of one coordinator (it is stopped while
# their Ready messages arrive): two share host B, one is on host C (new
# hosts: a1 and a2 still have credit for host A). One statement claims for
# all: host B's 7 queued jobs are dealt out between its two agents, each
# within its credit, none twice.
fake --name b0 --fingerprint 00000000000000bb >/dev/null <<'CMDS'
hello
CMDS
fake --name c1 --fingerprint 00000000000000cc >/dev/null <<'CMDS'
hello
submit t0.py t1.py t2.py t3.py t4.py t5.py t6.py
CMDS
for spec in "b1 3" "b2 10" "c1 2"; do
    set -- $spec
    fp=(--fingerprint 00000000000000bb)
    [ "$1" = c1 ] && fp=(--fingerprint 00000000000000cc)
    "$FAKE" --connect "$EP1" --name "$1" "${fp[@]}" --wait 3000 >"$T/$1.out" <<CMDS &
hello
sleep 1000
ready $2 3000
CMDS
    eval "pid_$1=\$!"
done
sleep 0.5
kill -STOP "$COORD_PID"
sleep 1
kill -CONT "$COORD_PID"
wait "$pid_b1" "$pid_b2" "$pid_c1"
nb1=$(grep -c '^job' "$T/b1.out" || true)
nb2=$(grep -c '^job' "$T/b2.out" || true)
nc1=$(grep -c '^job' "$T/c1.out" || true)
expect_eq "host B's 7 new jobs dealt to its two agents" 7 "$((nb1 + nb2))"
expect_eq "b1 within its credit of 3" 1 "$((nb1 <= 3))"
expect_eq "host C's agent got its credit of 2" 2 "$nc1"
expect_eq "no job handed to two agents" 9 \
    "$(cat "$T/b1.out" "$T/b2.out" "$T/c1.out" | grep '^job' | sed -E 's/.*id=([0-9]+).*/\1/' | sort -u | wc -l)"
expect_eq "c1's jobs are host C's" 2 \
    "$(grep '^job' "$T/c1.out" | grep -c 'script=t[0-6].py' || true)"
expect_eq "leases of the new batch by owner" "$nb1 $nb2 $nc1" \
    "$(pg_sql "SELECT count(*) FILTER (WHERE lease_owner = 'b1') || ' ' ||
               count(*) FILTER (WHERE lease_owner = 'b2') || ' ' ||
               count(*) FILTER (WHERE lease_owner = 'c1') FROM jobs j JOIN hosts h ON h.id = j.host_id")"
expect_eq "host C's leases are on host C" 2 \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN hosts h ON h.id = j.host_id
               WHERE j.lease_owner = 'c1' AND h.fingerprint = '00000000000000cc'")"

kill -TERM "$second_pid"
s2=0; wait "$second_pid" || s2=$?
expect_eq "second coordinator exits 0" 0 "$s2"
coord_stop
expect_eq "first coordinator exits 0" 0 "$COORD_STATUS"
finish
