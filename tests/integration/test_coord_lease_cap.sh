#!/usr/bin/env bash
# test_coord_lease_cap.sh - heartbeats cannot hold a job or a host forever (issue 12).
#
# An insider with a valid agent key (farm-a, played by tests/tools/fake_agent) takes a job
# and then only heartbeats it, forever. Its lease is renewed up to what the job can take
# (timeout x (repeat + warmup) + lease_grace_s) and no further: the job is leased again
# (attempt 2), then fails "lease expired" after max_attempts, and `pyscope submit --wait`
# returns. A second insider (farm-z) heartbeats and says Hello again and again but never sends Ready: its
# host is marked offline after host_offline_s and its queued job ends "host offline".
# A well-behaved idle agent (farm-b: one Ready, then waiting) stays live all along.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

curve_farm agent:A:farm-a agent:B:farm-b agent:Z:farm-z submitter:CI:ci
printf '%s\n' "$SRV_PUB" >"$T/coordinator.key"
(umask 077 && printf '%s\n' "$CI_SEC" >"$T/ci.key_secret")
# The lease (3 s) is longer than what the job can take (1 s timeout + 1 s grace): the cap,
# not a missed heartbeat on a loaded machine, ends each attempt. Silent peers are kept 60 s.
printf 'heartbeat_ms = 1000\nlease_ms = 3000\n' >>"$T/coord.conf"
printf 'peer_timeout_ms = 60000\nreap_interval_ms = 200\nlease_grace_s = 1\nmax_attempts = 2\n' \
    >>"$T/coord.conf"
printf 'host_offline_s = 2\n' >>"$T/coord.conf"
# fake_bg NAME SECRET [OPTIONS...]: a fake agent in the background, commands from the fifo
# $T/NAME.in, output in $T/NAME.out (started directly: $! is the fake itself, which the
# exit trap kills; no other test fifo held open)
fake_bg() {
    local name=$1 sec=$2
    shift 2
    mkfifo "$T/$name.in"
    "$FAKE" --connect "$COORD_EP" --server-key "$SRV_PUB" --secret-key "$sec" "$@" \
        <"$T/$name.in" >"$T/$name.out" 7>&- 8>&- 9>&- &
}
registered() { # registered NAME: farm-NAME got its Welcome
    for _ in $(seq 100); do grep -q "^welcome" "$T/$1.out" && break; sleep 0.1; done
    expect_match "farm-$1 registered" "^welcome agent_id=farm-$1" "$(cat "$T/$1.out")"
}
submit() { # submit SUITE HOSTS OUT: pyscope submit --wait in the background; $! its pid
    "$PYSCOPE" submit "$1" --hosts "$2" --wait --coordinator "$COORD_EP" \
        --secret-key "$T/ci.key_secret" --coordinator-key "$T/coordinator.key" >"$3" 2>&1 &
}
# wait_exit PID NAME: wait up to 40 s for PID; ST is its exit status (or fail)
wait_exit() {
    local i
    ST=""
    for i in $(seq 400); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$1" 2>/dev/null; then
        kill "$1"
        wait "$1" || true
        fail "$2" "still waiting after 40 s"
    else
        ST=0
        wait "$1" || ST=$?
        ok "$2"
    fi
}

pg_start
coord_start --config "$T/coord.conf"

# farm-b: a well-behaved idle agent, one Ready and then it waits
fake_bg b "$B_SEC" --fingerprint 00000000000000b2 --wait 5000
exec 8>"$T/b.in"
printf 'hello\nready 1\n' >&8
(while kill -0 $$; do echo heartbeat; done) >&8 2>/dev/null & # each waits 300 ms, printing what comes
b_beat=$!

# farm-a: takes jobs, then heartbeats them forever and never sends a result
fake_bg a "$A_SEC" --fingerprint 00000000000000a1 --wait 5000
exec 7>"$T/a.in"
echo hello >&7
registered a
printf '[suite]\nname = capped\ntimeout = 1\n[script examples/a.py]\n' >"$T/capped.ini"
submit "$T/capped.ini" farm-a "$T/capped.out"
capped_pid=$!
while kill -0 "$capped_pid" 2>/dev/null; do
    refs=$(sed -nE 's/^job id=([0-9]+) attempt=([0-9]+) .*/\1:\2/p' "$T/a.out" | tr '\n' ' ')
    printf 'ready 1 50\nheartbeat %s\n' "$refs"
    sleep 0.15
done >&7 2>/dev/null &
wait_exit "$capped_pid" "submit --wait returns although farm-a heartbeats its job forever"
expect_eq "submit --wait: the job did not end ok (exit 3)" 3 "$ST"
expect_match "submit --wait shows why" "lease expired" "$(cat "$T/capped.out")"
expect_eq "the job failed after max_attempts (2), reason lease expired" "failed|2|lease expired" \
    "$(pg_sql "SELECT j.state, j.attempt, j.end_reason FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.suite = 'capped'")"
expect_match "farm-a was sent the job twice" "attempt=2" "$(cat "$T/a.out")"
expect_match "the coordinator names the agent that held the lease too long" \
    'job [0-9]+: agent "farm-a" still held its lease past what the job can take' "$(cat "$COORD_LOG")"
capture "$PYSCOPE" jobs --coordinator "$COORD_EP" --secret-key "$T/ci.key_secret" \
    --coordinator-key "$T/coordinator.key"
expect_match "pyscope jobs shows the reason" "lease expired" "$OUT"
exec 7>&-

# farm-z: says Hello, heartbeats, never takes work
fake_bg z "$Z_SEC" --fingerprint 00000000000000f9 --wait 5000
exec 9>"$T/z.in"
echo hello >&9
registered z
printf '[suite]\nname = idle\n[script examples/b.py]\n' >"$T/idle.ini"
submit "$T/idle.ini" farm-z "$T/idle.out"
idle_pid=$!
# ... and says Hello again every second or so (a repeated Hello is no work either: once it kept
# the host live forever, a stranger's test found)
while kill -0 "$idle_pid" 2>/dev/null; do
    for _ in 1 2 3 4 5 6; do echo heartbeat; sleep 0.15; done
    echo hello
done >&9 2>/dev/null &
wait_exit "$idle_pid" "submit --wait returns although farm-z heartbeats and says Hello without taking work"
expect_eq "submit --wait: the job did not end ok (exit 3)" 3 "$ST"
expect_match "submit --wait shows why" "host offline" "$(cat "$T/idle.out")"
expect_eq "farm-z's job ended host offline" "failed|host offline" \
    "$(pg_sql "SELECT j.state, j.end_reason FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.suite = 'idle'")"
expect_eq "farm-z marked offline" "t" \
    "$(pg_sql "SELECT offline_since IS NOT NULL FROM hosts WHERE hostname = 'farm-z'")"
expect_match "farm-z's connection was not dropped (its heartbeats are answered)" "^welcome" \
    "$(cat "$T/z.out")"

# farm-b, idle with its credit waiting for longer than host_offline_s, is live: it gets a job
printf '[suite]\nname = live\n[script examples/c.py]\n' >"$T/live.ini"
"$PYSCOPE" submit "$T/live.ini" --hosts farm-b --coordinator "$COORD_EP" \
    --secret-key "$T/ci.key_secret" --coordinator-key "$T/coordinator.key" >"$T/live.out" 2>&1
for _ in $(seq 50); do grep -q "^job id=" "$T/b.out" && break; sleep 0.1; done
expect_match "the idle agent farm-b got its job" "^job id=[0-9]+ attempt=1 .*script=examples/c.py" \
    "$(cat "$T/b.out")"
expect_eq "farm-b never marked offline" "f" \
    "$(pg_sql "SELECT offline_since IS NOT NULL FROM hosts WHERE hostname = 'farm-b'")"
kill "$b_beat"
exec 8>&- 9>&-

coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
