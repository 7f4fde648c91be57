#!/usr/bin/env bash
# test_coord_schedule.sh - which job goes out when (issue 11, point 6).
# Machines: two agents of two hosts that report one machine (Host.machine_id)
# never hold leases at the same time: while a has jobs, b gets none; once a's
# results are in, b gets its jobs. With share_machines = 1 they run side by
# side. Order: a later batch of a suite waits on a host while an earlier one
# has an open job there (a confirmation job queued late, after the next night
# was submitted, still runs first) or awaits its analysis; another suite does
# not wait. A suite's reference script is queued first on every host.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

conf() {
    cat >"$T/coord.conf" <<CONF
[coordinator]
heartbeat_ms = 200
lease_ms = 60000
reap_interval_ms = 100
dispatch_interval_ms = 100
peer_timeout_ms = 60000
confirm = 0
$1
CONF
}
conf ""
pg_start
coord_start --config "$T/coord.conf"
A=(--name a --fingerprint 00000000000000aa --machine m1)
B=(--name b --fingerprint 00000000000000bb --machine m1)
fake "${A[@]}" <<<"hello" >/dev/null
fake "${B[@]}" <<<"hello" >/dev/null
expect_eq "both agents on machine m1" "a m1,b m1" "$(pg_sql "SELECT string_agg(name || ' ' || machine, ',' ORDER BY name) FROM agents")"

# jobs 1 (x.py, a), 2 (x.py, b), 3 (y.py, a), 4 (y.py, b)
fake "${A[@]}" <<<"submit x.py y.py" >/dev/null
leased() { pg_sql "SELECT count(*) FROM jobs WHERE state = 'leased' AND lease_owner = '$1'"; }
fake "${A[@]}" >"$T/a.out" <<'CMDS' &
hello
ready 2 5000
sleep 3000
result 1 1
result 3 1
CMDS
pa=$!
# b asks only once a holds its jobs (asked in one dispatch tick, either may win the machine)
for _ in $(seq 100); do [ "$(leased a)" = 2 ] && break; sleep 0.05; done
fake "${B[@]}" >"$T/b.out" <<'CMDS' &
hello
ready 2 9000
CMDS
pb=$!
# while a holds its jobs, b (waiting with credit) must hold none: sample it
both=0 seen=0
for _ in $(seq 15); do
    n=$(pg_sql "SELECT count(*) FILTER (WHERE lease_owner = 'a') || ' ' || count(*) FILTER (WHERE lease_owner = 'b') FROM jobs WHERE state = 'leased'")
    [ "${n% *}" -gt 0 ] && [ "${n#* }" -gt 0 ] && both=$((both + 1))
    [ "$n" = "2 0" ] && seen=$((seen + 1))
    sleep 0.2
done
expect_eq "b, on the same machine, never holds a job while a does" 0 "$both"
[ "$seen" -gt 0 ] && ok "a held its two jobs alone while b waited" ||
    fail "a held its two jobs alone while b waited" "never seen"
wait "$pa" "$pb"
expect_eq "a got jobs 1 and 3" "2" "$(grep -cE '^job id=(1|3) ' "$T/a.out")"
expect_eq "b got jobs 2 and 4 once a's results were in" "2" "$(grep -cE '^job id=(2|4) ' "$T/b.out")"
expect_eq "b's leases began after a's jobs were done" t \
    "$(pg_sql "SELECT min(b.updated) >= max(a.updated) FROM jobs b, jobs a WHERE b.id IN (2, 4) AND a.id IN (1, 3)")"
pg_sql "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires = NULL WHERE id IN (2, 4)" >/dev/null

# Both ask at once, b first, and only host a has work: a gets it (b does not block it).
fake "${A[@]}" <<<"submit only-a.py @a" >/dev/null # batch 2: job 5
fake "${B[@]}" >"$T/b.out" <<'CMDS' &
hello
ready 2 2500
CMDS
pb=$!
fake "${A[@]}" >"$T/a.out" <<'CMDS' &
hello
ready 2 2500
CMDS
pa=$!
wait "$pa" "$pb"
expect_match "a gets host a's job while b, asking too, has none to run" "^job id=5 " "$(cat "$T/a.out")"
pg_sql "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires = NULL WHERE id = 5;
        UPDATE batches SET state = 'done', finished = now(), analyzed = now()" >/dev/null

# share_machines = 1: side by side (jobs 6..9)
coord_stop
conf "share_machines = 1"
coord_start --config "$T/coord.conf"
fake "${A[@]}" <<<"submit z.py w.py" >/dev/null
fake "${A[@]}" >"$T/a.out" <<'CMDS' &
hello
ready 2 3000
CMDS
pa=$!
sleep 0.5
fake "${B[@]}" >"$T/b.out" <<'CMDS' &
hello
ready 2 2000
CMDS
pb=$!
wait "$pa" "$pb"
expect_eq "share_machines = 1: both hold two jobs at once" "2 2" "$(leased a) $(leased b)"
pg_sql "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires = NULL WHERE state = 'leased'" >/dev/null
pg_sql "UPDATE batches SET state = 'done', finished = now(), analyzed = now()" >/dev/null

# Order: nights N and N+1 of one suite on host a, and another suite. One agent
# session throughout (its credit stays with the coordinator between commands).
fake "${A[@]}" <<<"submit n1.py @a" >/dev/null # batch 4: job 10
fake "${A[@]}" <<<"submit n2.py @a" >/dev/null # batch 5: job 11
pg_sql "UPDATE batches SET suite = 'other' WHERE id = 5" >/dev/null
fake "${A[@]}" <<<"submit n3.py @a" >/dev/null # batch 6: job 12 (test-suite again)
mkfifo "$T/a.in"
fake "${A[@]}" <"$T/a.in" >"$T/a.log" &
pa=$!
exec 7>"$T/a.in"
got() { grep -oE '^job id=[0-9]+' "$T/a.log" | cut -d= -f2 | sort -n | tr '\n' ' ' | sed 's/ $//'; }
printf 'hello\nready 5 1000\n' >&7
for _ in $(seq 50); do [ "$(got)" = "10 11" ] && break; sleep 0.1; done
sleep 0.5
expect_eq "night N's job and the other suite's go out, night N+1's waits" "10 11" "$(got)"
# Night N's results are in; its analysis is held back (a KEY SHARE lock on its row
# makes the analyst's FOR UPDATE SKIP LOCKED pass it over) and meanwhile a
# confirmation job of night N is queued, after night N+1's job.
psql -X -q -c "BEGIN; SELECT 1 FROM batches WHERE id = 4 FOR KEY SHARE; SELECT pg_sleep(8); COMMIT" \
    >/dev/null 2>&1 &
holder=$!
sleep 1
pg_sql "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires = NULL WHERE id IN (10, 11);
        UPDATE batches SET state = 'done', finished = now() WHERE id IN (4, 5)" >/dev/null
printf 'drain 1000\n' >&7
sleep 1.5
expect_eq "night N done, not yet analysed" "done false" "$(pg_sql "SELECT state || ' ' || (analyzed IS NOT NULL) FROM batches WHERE id = 4")"
expect_eq "night N+1 waits while night N awaits its analysis" "10 11" "$(got)"
pg_sql "INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, purpose, confirm_of, slot)
        SELECT batch_id, script_id, host_id, 5, 0, 'sample', 60, 'confirm', id, 1 FROM jobs WHERE id = 10;
        UPDATE batches SET state = 'running', finished = NULL WHERE id = 4" >/dev/null
printf 'drain 1500\n' >&7
sleep 2
expect_eq "the late confirmation job of night N goes out first, alone" "10 11 13" "$(got)"
pg_sql "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_expires = NULL WHERE id = 13;
        UPDATE batches SET state = 'done', finished = now() WHERE id = 4" >/dev/null
wait "$holder"
for _ in $(seq 100); do
    [ "$(pg_sql "SELECT analyzed IS NOT NULL FROM batches WHERE id = 4")" = t ] && break
    sleep 0.1
done
printf 'drain 1500\n' >&7
sleep 2
expect_eq "once night N is analysed, night N+1" "10 11 12 13" "$(got)"
exec 7>&-
wait "$pa"

# A reference script: its job is queued first on every host, and the suite's batch knows it.
fake "${A[@]}" <<<"submit s1.py s2.py +ref.py" >/dev/null
expect_eq "reference jobs first, one per host" "reference ref.py,reference ref.py,measure s1.py,measure s1.py,measure s2.py,measure s2.py" \
    "$(pg_sql "SELECT string_agg(j.purpose || ' ' || s.key, ',' ORDER BY j.id) FROM jobs j JOIN scripts s ON s.id = j.script_id WHERE j.batch_id = 7")"
expect_eq "the batch names its reference" "ref.py" \
    "$(pg_sql "SELECT s.key FROM batches b JOIN scripts s ON s.id = b.reference_script_id WHERE b.id = 7")"
out=$(fake "${A[@]}" <<<"submit s1.py +s1.py")
expect_match "a reference that is also an entry is refused" "error code=.*also an entry" "$out"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
