#!/usr/bin/env bash
# test_coord_identity.sh - an agent is who its key says (docs/security.md, "Who an agent is").
#
# The attacker holds a valid agent key (farm-b) and tries to be farm-a:
#   - connects under farm-a's ZeroMQ routing id without Hello, asks for jobs and sends a
#     result for farm-a's lease: gets nothing while farm-a is connected; once farm-a's
#     connection is gone, its messages under that routing id are refused and logged with its
#     key's name; farm-a's genuine result is stored as farm-a's;
#   - sends a result for farm-a's lease from its own connection: refused;
#   - says Hello with farm-a's host fingerprint: gets a host row of its own, farm-a's row is
#     untouched, and jobs submitted for farm-a still go to farm-a.
# Also: a new fingerprint of farm-a is a recorded drift (old row superseded, queued job moved),
# and "host = farm-a" in a third key's allowlist file puts that agent on farm-a's host.
# And labels: a key file's "labels = pool=night, gpu=none" pins its host's labels: the insider
# key farm-d says Hello with pool=test and gets the pinned ones (logged with its key's name), so
# selecting pool=test cannot reach it; "labels =" pins none; a key without the line keeps the
# labels its Hello declares.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

curve_farm agent:A:farm-a agent:B:farm-b agent:C:farm-c agent:D:farm-d agent:E:farm-e \
    submitter:CI:ci
# key files with more than the key: a comment and a host, pinned labels, none
printf '# a second agent on farm-a'"'"'s machine\n%s\nhost = farm-a\n' "$C_PUB" >"$K/agents/farm-c.key"
printf '%s\nlabels = pool=night, gpu=none\n' "$D_PUB" >"$K/agents/farm-d.key"
printf '%s\nlabels =\n' "$E_PUB" >"$K/agents/farm-e.key"
FA=00000000000000a1
FB=00000000000000b2

pg_start
coord_start --config "$T/coord.conf"

# farm-a registers (under a routing id of its own choosing, as agents before 0.2 did: a
# name an attacker can aim at) and takes the job submitted for it.
mkfifo "$T/a.in"
fake_as "$A_SEC" --fingerprint $FA --routing-id farm-a --wait 2000 <"$T/a.in" >"$T/a.out" &
a_pid=$!
exec 7>"$T/a.in"
echo hello >&7
for _ in $(seq 50); do grep -q "^welcome" "$T/a.out" && break; sleep 0.1; done
out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/a.py @farm-a
CMDS
)
expect_match "job submitted for farm-a" "submit_reply batch=1 jobs=1" "$out"
echo "ready 1 2000" >&7
for _ in $(seq 50); do grep -q "^job id=1" "$T/a.out" && break; sleep 0.1; done
expect_match "farm-a got its job" "^job id=1 attempt=1" "$(cat "$T/a.out")"

# ---- 1. impersonation by routing id while farm-a is connected ----
out=$(fake_as "$B_SEC" --routing-id farm-a --wait 1500 <<'CMDS'
ready 4
result 1 1 0badc0de0badc0de0badc0de0badc0de
CMDS
)
expect_nomatch "squatter gets no job of farm-a" "^job " "$out"
expect_nomatch "squatter's forged result is not acked" "^ack " "$out"
expect_eq "no run stored from the squatter" 0 "$(pg_sql "SELECT count(*) FROM runs")"

# ---- 2. results for another agent's lease, from the attacker's own connection ----
out=$(fake_as "$B_SEC" --fingerprint $FB --wait 1500 <<'CMDS'
hello
result 1 1 0badc0de0badc0de0badc0de0badc0df
CMDS
)
expect_match "farm-b welcomed as farm-b" "welcome agent_id=farm-b " "$out"
expect_match "result for farm-a's lease refused" "error code=forbidden" "$out"
expect_eq "still no run stored" 0 "$(pg_sql "SELECT count(*) FROM runs")"

# farm-a's genuine result is stored as farm-a's
echo "result 1 1 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a" >&7
for _ in $(seq 50); do grep -q "^ack " "$T/a.out" && break; sleep 0.1; done
expect_match "farm-a's genuine result acked" "^ack run_id=0a0a0a0a-" "$(cat "$T/a.out")"
expect_eq "stored as farm-a's run on farm-a's host" "farm-a|farm-a" \
    "$(pg_sql "SELECT r.agent, h.hostname FROM runs r JOIN hosts h ON h.id = r.host_id")"

# ---- farm-a's connection goes; the squatter's messages under its routing id are refused ----
exec 7>&-
wait "$a_pid" || true
out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/b.py @farm-a
CMDS
)
expect_match "second job for farm-a" "submit_reply batch=2 jobs=1" "$out"
out=$(fake_as "$B_SEC" --routing-id farm-a --wait 1500 <<'CMDS'
ready 4
result 2 1 0badc0de0badc0de0badc0de0badc0e0
hello
CMDS
)
expect_nomatch "squatter still gets no job" "^job " "$out"
expect_nomatch "squatter's result not acked" "^ack " "$out"
expect_match "squatter refused" "error code=forbidden message=this connection's routing id belongs to another agent" "$out"
log=$(cat "$COORD_LOG")
expect_match "refusal logged with the key's name" \
    "refused a (ready|result|hello) message from agent:farm-b \\(key .{8}\\.\\.\\.\\): it came under the routing id of agent \"farm-a\"" "$log"
expect_eq "job 2 still queued for farm-a" "queued" "$(pg_sql "SELECT state FROM jobs WHERE id = 2")"

# farm-a comes back on a new connection (ZeroMQ's own routing id) and is served
out=$(fake_as "$A_SEC" --fingerprint $FA --wait 2000 <<'CMDS'
hello
ready 1
result 2 1 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0b
CMDS
)
expect_match "farm-a back: its job" "^job id=2 attempt=1" "$out"
expect_match "farm-a back: its result acked" "^ack run_id=0a0a0a0a-" "$out"

# ---- 3. Hello with another host's fingerprint ----
hosts_before=$(pg_sql "SELECT id, hostname, reported_hostname, labels FROM hosts WHERE hostname = 'farm-a'")
out=$(fake_as "$B_SEC" --fingerprint $FA --wait 1500 <<'CMDS'
hello
CMDS
)
expect_match "farm-b with farm-a's fingerprint: welcomed as itself" "welcome agent_id=farm-b " "$out"
expect_eq "farm-a's host row untouched" "$hosts_before" \
    "$(pg_sql "SELECT id, hostname, reported_hostname, labels FROM hosts WHERE hostname = 'farm-a'")"
expect_eq "farm-b got a host of its own for that fingerprint" "farm-b" \
    "$(pg_sql "SELECT string_agg(hostname, ',') FROM hosts WHERE fingerprint = '$FA' AND hostname <> 'farm-a'")"
expect_match "shared fingerprint noted" 'agent "farm-b" \(host "farm-b"\) reports fingerprint 00000000000000a1, as host\(s\) farm-a do' "$(cat "$COORD_LOG")"
out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/c.py @farm-a
CMDS
)
expect_match "job for farm-a" "submit_reply batch=3 jobs=1" "$out"
out=$(fake_as "$B_SEC" --fingerprint $FA --wait 1500 <<'CMDS'
hello
ready 4
CMDS
)
expect_nomatch "farm-b gets no job submitted for farm-a" "^job " "$out"
expect_eq "the job is farm-a's host's" "farm-a|queued" \
    "$(pg_sql "SELECT h.hostname, j.state FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE j.id = 3")"

# ---- 4. host = farm-a in farm-c's allowlist file: a second agent of farm-a's machine ----
out=$(fake_as "$C_SEC" --fingerprint $FA --wait 2000 <<'CMDS'
hello
ready 1
CMDS
)
expect_match "farm-c serves host farm-a" "^job id=3 attempt=1" "$out"
expect_eq "farm-c is on farm-a's host" "farm-a" \
    "$(pg_sql "SELECT h.hostname FROM agents a JOIN hosts h ON h.id = a.host_id WHERE a.name = 'farm-c'")"

# ---- 5. farm-a's fingerprint changes: a drift event, never a takeover ----
out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/d.py @farm-a
CMDS
)
expect_match "job 4 for farm-a" "submit_reply batch=4 jobs=1" "$out"
out=$(fake_as "$A_SEC" --fingerprint 00000000000000a9 --wait 1500 <<'CMDS'
hello
CMDS
)
expect_match "farm-a on new hardware welcomed" "welcome agent_id=farm-a " "$out"
expect_eq "drift recorded" "farm-a|farm-a|fingerprint_changed|$FA|00000000000000a9" \
    "$(pg_sql "SELECT hostname, agent, kind, old_fingerprint, new_fingerprint FROM host_events WHERE hostname = 'farm-a'")"
expect_eq "old row superseded, new one current" "$FA|t
00000000000000a9|f" \
    "$(pg_sql "SELECT fingerprint, superseded_by IS NOT NULL FROM hosts WHERE hostname = 'farm-a' ORDER BY id")"
expect_eq "queued job moved to the new row" "00000000000000a9" \
    "$(pg_sql "SELECT h.fingerprint FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE j.id = 4")"
expect_match "drift logged" 'host "farm-a" \(agent "farm-a"\) reports fingerprint 00000000000000a9 instead of 00000000000000a1' "$(cat "$COORD_LOG")"
printf '%s\n' "$SRV_PUB" >"$T/coordinator.key"
(umask 077 && printf '%s\n' "$CI_SEC" >"$T/ci.key_secret" && printf '%s\n' "$CI_PUB" >"$T/ci.key")
capture "$PYSCOPE" hosts --coordinator "$COORD_EP" --secret-key "$T/ci.key_secret" \
    --coordinator-key "$T/coordinator.key"
expect_match "pyscope hosts marks the old fingerprint's row superseded" \
    "farm-a +$FA +superseded \(drift\)" "$OUT"
expect_match "and the new one current" "farm-a +00000000000000a9 +current" "$OUT"

# ---- 6. labels pinned by the key file, not the Hello ----
for who in "$D_SEC farm-d 00000000000000d4" "$E_SEC farm-e 00000000000000e5"; do
    read -r sec name fp <<<"$who"
    out=$(printf 'hello\n' | fake_as "$sec" --fingerprint "$fp" --wait 1500)
    expect_match "$name welcomed" "welcome agent_id=$name " "$out"
done
expect_eq "farm-d's host has the key file's labels, not the Hello's pool=test" \
    '{"gpu": "none", "pool": "night"}' "$(pg_sql "SELECT labels FROM hosts WHERE hostname = 'farm-d'")"
expect_eq "farm-e's empty \"labels =\" pins none" '{}' \
    "$(pg_sql "SELECT labels FROM hosts WHERE hostname = 'farm-e'")"
expect_eq "farm-b (no labels line) keeps what its Hello declares" '{"pool": "test"}' \
    "$(pg_sql "SELECT DISTINCT labels FROM hosts WHERE hostname = 'farm-b'")"
expect_match "the override is logged with the key's name" \
    'agent:farm-d \(key .{8}\.\.\.\) said Hello with labels "pool=test"; its key file pins "pool=night,gpu=none": the key file.s are used' \
    "$(cat "$COORD_LOG")"
# a submit that selects pool=test reaches farm-b's hosts, never farm-d's
printf '%s\n' "$SRV_PUB" >"$T/coordinator.key"
(umask 077 && printf '%s\n' "$CI_SEC" >"$T/ci.key_secret" && printf '%s\n' "$CI_PUB" >"$T/ci.key")
printf '[suite]\nname = pinned\n[script examples/e.py]\n' >"$T/pinned.ini"
"$PYSCOPE" submit "$T/pinned.ini" --hosts pool=test --coordinator "$COORD_EP" \
    --secret-key "$T/ci.key_secret" --coordinator-key "$T/coordinator.key" >"$T/pinned.out" 2>&1 ||
    true
expect_eq "pool=test selects no host of farm-d's" "0" \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN hosts h ON h.id = j.host_id JOIN scripts s ON s.id = j.script_id WHERE s.key = 'examples/e.py' AND h.hostname = 'farm-d'")"
expect_match "but does select the hosts that declared it" "^[1-9]" \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN scripts s ON s.id = j.script_id WHERE s.key = 'examples/e.py'")"
"$PYSCOPE" submit "$T/pinned.ini" --hosts gpu=none --coordinator "$COORD_EP" \
    --secret-key "$T/ci.key_secret" --coordinator-key "$T/coordinator.key" >>"$T/pinned.out" 2>&1 ||
    true
expect_eq "gpu=none (the pin) selects farm-d" "1" \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE h.hostname = 'farm-d'")"

coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
