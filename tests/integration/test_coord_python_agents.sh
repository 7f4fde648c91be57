#!/usr/bin/env bash
# test_coord_python_agents.sh - agents of one host with different Pythons each get only the
# jobs they can run; a job no live agent of its host can run ends with a clear reason
# (issue 14; docs/pythons.md). A real coordinator and PostgreSQL, fake agents speaking the
# real protocol, each with one Python (fake_agent --python):
# - host 1, agents of different machines asking in the same claim, each with credit for
#   all four jobs of a batch with `python = 3.11, 3.12`: each gets exactly the two of its
#   Python (before, the first agent drew all four and refused the other's);
# - host 2, two agents of one machine (one claims at a time): a batch for 3.12 only goes to
#   the 3.12 agent, even when the 3.11 agent asks first (before, the machine's turn went to
#   the first agent asking, which had nothing to run: the 3.12 jobs waited forever);
# - a job for 3.13 on host 1, whose only 3.13 agent left: it is never handed out, and
#   after host_offline_s ends 'failed' with "no live agent has Python 3.13" (submit --wait
#   returns, status, jobs and the coordinator's log say so); host 1 is not offline; once a
#   3.13 agent is back, the next such job goes to it.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

# host_offline_s 6, not 3: at load 26 a live agent missed 3 s of heartbeats and its host was
# called offline ("host offline" instead of "no live agent has Python 3.13")
printf '[coordinator]\nhost_offline_s = 6\nreap_interval_ms = 200\n' >"$T/coord.conf"
pg_start
coord_start --config "$T/coord.conf"
export PYSCOPE_COORDINATOR="$COORD_EP"
H1=host-0000000000000001 H2=host-0000000000000002

# agent NAME ARGS...: a fake agent reading commands from $T/NAME.in (fd in FD[NAME]),
# printing to $T/NAME.out; says Hello and waits for the welcome.
declare -A FD=()
agent() {
    local name=$1 fd
    shift
    mkfifo "$T/$name.in"
    fake --name "$name" --wait 300 "$@" <"$T/$name.in" >"$T/$name.out" 2>&1 &
    exec {fd}>"$T/$name.in"
    FD[$name]=$fd
    echo hello >&"$fd"
    for _ in $(seq 100); do grep -q "^welcome" "$T/$name.out" && return 0; sleep 0.1; done
    fail "agent $name welcomed" "$(cat "$T/$name.out")"
}
say() { echo "$2" >&"${FD[$1]}"; }
# jobs_of NAME: "id:python" of every job NAME was sent, one a line
jobs_of() { sed -nE 's/^job id=([0-9]+) .* python=([^ ]+)( .*)?$/\1:\2/p' "$T/$1.out"; }
# wait_jobs NAME N: until NAME was sent N jobs (drains what arrives); 1 after 30 s
wait_jobs() {
    local until=$((SECONDS + 30))
    while [ "$(jobs_of "$1" | wc -l)" -lt "$2" ]; do
        [ $SECONDS -lt "$until" ] || return 1
        say "$1" "drain 300"
        sleep 0.3
    done
}
suite() { # suite NAME PYTHONS: examples/a.py and examples/b.py under each of PYTHONS
    printf '[suite]\nname = %s\npython = %s\n[script examples/a.py]\n[script examples/b.py]\n' \
        "$1" "$2" >"$T/$1.ini"
}

# ---- host 1: two machines, one claim, credit for everything ----
agent c311 --fingerprint 0000000000000001 --machine m-c --python 3.11.2
agent d312 --fingerprint 0000000000000001 --machine m-d --python 3.12.1
expect_eq "host 1's agents report their Pythons" "c311|3.11.2,d312|3.12.1" \
    "$(pg_sql "SELECT string_agg(name || '|' || (pythons->0->>'version'), ',' ORDER BY name) FROM agents")"
say c311 "ready 4 100"
say d312 "ready 4 100"
sleep 0.5 # both credits are waiting: the batch's jobs are dealt in one claim
suite mixed "3.11, 3.12"
capture "$PYSCOPE" submit "$T/mixed.ini" --hosts "$H1"
expect_eq "mixed batch submitted" 0 "$RC"
wait_jobs c311 2 || true
wait_jobs d312 2 || true
say c311 "drain 500"
say d312 "drain 500"
sleep 0.8
expect_eq "the 3.11 agent got the two 3.11 jobs, nothing else" "3.11,3.11" \
    "$(jobs_of c311 | cut -d: -f2 | sort | paste -sd,)"
expect_eq "the 3.12 agent got the two 3.12 jobs, nothing else" "3.12,3.12" \
    "$(jobs_of d312 | cut -d: -f2 | sort | paste -sd,)"
for a in c311 d312; do
    for id in $(jobs_of $a | cut -d: -f1); do say $a "result $id 1"; done
done
expect_eq "each job leased once" "4" "$(pg_sql "SELECT count(*) FROM jobs WHERE batch_id = 1 AND attempt = 1")"
farm_ok=0
for _ in $(seq 100); do
    [ "$(pg_sql "SELECT count(*) FROM runs WHERE batch_id = 1 AND outcome = 'ok'")" = 4 ] && { farm_ok=1; break; }
    sleep 0.1
done
expect_eq "the four runs stored ok, each under its job's Python, by the agent with it" "1|4" \
    "$farm_ok|$(pg_sql "SELECT count(*) FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.batch_id = 1 AND r.python_version LIKE j.python || '.%' AND r.agent = CASE j.python WHEN '3.11' THEN 'c311' ELSE 'd312' END")"

# ---- host 2: one machine; the 3.11 agent asks first, the 3.12 jobs go to the 3.12 one ----
agent b312 --fingerprint 0000000000000002 --machine m-2 --python 3.12.1
agent a311 --fingerprint 0000000000000002 --machine m-2 --python 3.11.2
say a311 "ready 2 100"
say b312 "ready 2 100"
sleep 0.5
suite only312 "3.12"
capture "$PYSCOPE" submit "$T/only312.ini" --hosts "$H2"
expect_eq "3.12 batch submitted" 0 "$RC"
wait_jobs b312 2 || fail "the 3.12 agent of the machine got the 3.12 jobs" "$(cat "$T/b312.out")"
say a311 "drain 300"
sleep 0.5
expect_eq "the 3.12 agent got both" "3.12,3.12" "$(jobs_of b312 | cut -d: -f2 | paste -sd,)"
expect_eq "the 3.11 agent of that machine got none" "" "$(jobs_of a311)"
for id in $(jobs_of b312 | cut -d: -f1); do say b312 "result $id 1"; done

# ---- a job for a Python no live agent of host 1 has ----
out=$(fake --name e313 --fingerprint 0000000000000001 --machine m-e --python 3.13.0 <<<"hello")
expect_match "a 3.13 agent of host 1 said Hello once" "welcome agent_id=e313" "$out"
printf '[suite]\nname = py313\npython = 3.13\n[script examples/a.py]\n' >"$T/py313.ini"
# c311 and d312 keep taking work (credit waiting): host 1 stays live. They heartbeat meanwhile,
# as real agents do: a fake that only waits is forgotten after 3 heartbeats of silence (15 s),
# which on a loaded machine came before the job's host_offline_s ended it (CI, ASan, load ~25:
# "host offline")
(while :; do say c311 heartbeat; say d312 heartbeat; sleep 2; done) &
beat=$!
st=0
timeout 60 "$PYSCOPE" submit "$T/py313.ini" --hosts "$H1" --wait >"$T/py313.out" 2>&1 || st=$?
kill "$beat" 2>/dev/null || true
wait "$beat" 2>/dev/null || true
expect_eq "submit --wait returns: the job did not end ok (exit 3)" 3 "$st"
expect_match "submit --wait shows why" "no live agent has Python 3\.13" "$(cat "$T/py313.out")"
b=$(pg_sql "SELECT max(batch_id) FROM jobs WHERE python = '3.13'")
expect_eq "the job ended failed, never handed out, after host_offline_s queued" \
    "failed|no live agent has Python 3.13|0|t" \
    "$(pg_sql "SELECT state, end_reason, attempt, updated - created >= interval '3 s' FROM jobs WHERE batch_id = $b")"
expect_eq "no agent was sent it" "" "$( (jobs_of c311; jobs_of d312) | grep ':3\.13$' || true)"
expect_eq "host 1 is not offline" "f" "$(pg_sql "SELECT offline_since IS NOT NULL FROM hosts WHERE hostname = '$H1'")"
capture "$PYSCOPE" status "$b"
expect_match "status says why" '1 of them failed "no live agent has Python \.\.\."' "$OUT"
capture "$PYSCOPE" jobs --batch "$b"
expect_match "jobs shows the reason" "no live agent has Python 3\.13" "$OUT"
expect_match "the coordinator says which host and Python" \
    "host \"$H1\" has no live agent with Python 3\.13 \(one was last seen .*\): its 1 queued jobs that ask for it end \"no live agent has Python 3\.13\"" \
    "$(cat "$COORD_LOG")"
expect_eq "no run was refused anywhere" "0" "$(pg_sql "SELECT count(*) FROM runs WHERE outcome <> 'ok'")"

# ---- the 3.13 agent is back: the next 3.13 job goes to it ----
agent e313 --fingerprint 0000000000000001 --machine m-e --python 3.13.0
say e313 "ready 1 100"
capture "$PYSCOPE" submit "$T/py313.ini" --hosts "$H1"
expect_eq "3.13 batch submitted again" 0 "$RC"
wait_jobs e313 1 || fail "the 3.13 agent got the 3.13 job" "$(cat "$T/e313.out")"
expect_match "it is the 3.13 job" "^[0-9]+:3\.13$" "$(jobs_of e313)"

for a in "${!FD[@]}"; do eval "exec ${FD[$a]}>&-"; done
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
