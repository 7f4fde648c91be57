#!/usr/bin/env bash
# test_coord_offline.sh - a batch with hosts = all finishes when its live hosts are done.
#
# Two hosts registered once; only host-live keeps an agent connected. A suite for all hosts
# is submitted with `pyscope submit --wait` (what the nightly job runs): host-live's job is
# done by its agent; host-dead's job ends "host offline" after host_offline_s, the batch is
# done, --wait returns (exit 3: a job did not end ok) instead of hanging, and `pyscope
# status`/`jobs` say why. A host that comes back gets the next batch's jobs.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

printf '[coordinator]\nhost_offline_s = 2\nreap_interval_ms = 200\n' >"$T/coord.conf"
pg_start
coord_start --config "$T/coord.conf"
export PYSCOPE_COORDINATOR="$COORD_EP"

out=$(fake --name agent-dead --fingerprint 00000000000000de <<<"hello")
expect_match "host-dead registered once" "welcome agent_id=agent-dead" "$out"
sleep 3 # longer than host_offline_s: host-dead has no live agent

# host-live's agent stays connected and runs whatever it is given
mkfifo "$T/live.in"
fake --name agent-live --fingerprint 00000000000000a1 --wait 1000 <"$T/live.in" >"$T/live.out" &
exec 7>"$T/live.in"
echo hello >&7
for _ in $(seq 50); do grep -q "^welcome" "$T/live.out" && break; sleep 0.1; done
printf '[suite]\nname = nightly\nhosts = all\n[script examples/a.py]\n' >"$T/suite.ini"
"$PYSCOPE" submit "$T/suite.ini" --wait >"$T/submit.out" 2>&1 &
submit_pid=$!
for _ in $(seq 100); do
    echo "ready 1 300" >&7
    job=$(sed -nE 's/^job id=([0-9]+) .*/\1/p' "$T/live.out" | head -1)
    [ -n "$job" ] && break
done
expect_match "host-live's agent got its job" "^[0-9]+$" "$job"
echo "result $job 1" >&7
# --wait must return: host-dead's job ends "host offline"
st=0
for _ in $(seq 300); do kill -0 "$submit_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$submit_pid" 2>/dev/null; then
    kill "$submit_pid"
    fail "submit --wait returns" "still waiting after 30 s: $(cat "$T/submit.out")"
else
    wait "$submit_pid" || st=$?
    ok "submit --wait returns"
fi
out=$(cat "$T/submit.out")
expect_eq "submit --wait: a job did not end ok (exit 3)" 3 "$st"
expect_match "submit --wait shows why" "host offline" "$out"
expect_eq "jobs: host-live done, host-dead failed as host offline" "host-00000000000000a1|done|
host-00000000000000de|failed|host offline" \
    "$(pg_sql "SELECT h.hostname, j.state, j.end_reason FROM jobs j JOIN hosts h ON h.id = j.host_id ORDER BY h.hostname")"
expect_eq "batch done" "done" "$(pg_sql "SELECT state FROM batches WHERE id = 1")"
expect_eq "host-dead marked offline, host-live not" "host-00000000000000a1|f
host-00000000000000de|t" \
    "$(pg_sql "SELECT hostname, offline_since IS NOT NULL FROM hosts ORDER BY hostname")"
capture "$PYSCOPE" status 1
expect_match "status names the offline jobs" '1 of them failed "host offline"' "$OUT"
capture "$PYSCOPE" jobs
expect_match "jobs shows the reason" "host offline" "$OUT"
expect_match "the coordinator says which host" 'host "host-00000000000000de" has had no live agent since .* its 1 queued jobs end "host offline"' "$(cat "$COORD_LOG")"

# host-dead comes back: it gets the next batch's job and is no longer offline. Asked while
# its agent is still there (a second Ready keeps it taking work for 4 s): once it leaves,
# host_offline_s (2 s) later it is offline again, which on a loaded machine came before
# the query (CI). It asks for work before the job is submitted: Hello alone does not make a
# host live again (a key saying Hello over and over must not keep its host alive), so a job
# submitted between its Hello and its first Ready could end "host offline" first.
exec 7>&-
fake --name agent-dead --fingerprint 00000000000000de --wait 2000 >"$T/dead.out" 2>&1 <<'CMDS' &
hello
ready 1 300
submit examples/b.py @agent-dead
ready 1 20000
ready 1 4000
CMDS
dead_pid=$!
back=
for _ in $(seq 200); do
    back=$(pg_sql "SELECT j.state FROM jobs j WHERE j.batch_id = 2 AND j.state IN ('leased', 'running', 'done', 'failed')")
    [ -n "$back" ] && break
    sleep 0.1
done
offline=$(pg_sql "SELECT offline_since IS NOT NULL FROM hosts WHERE hostname = 'host-00000000000000de'")
wait "$dead_pid" || true
expect_match "host-dead back: its new job" "^job id=[0-9]+ attempt=1 batch=2" "$(grep '^job ' "$T/dead.out")"
[ "$back" != failed ] || pg_sql "SELECT '# job ended: ' || end_reason FROM jobs WHERE batch_id = 2"
grep -q '^job ' "$T/dead.out" || sed 's/^/# dead.out: /' "$T/dead.out"
expect_eq "host-dead no longer offline" "f" "$offline"
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
