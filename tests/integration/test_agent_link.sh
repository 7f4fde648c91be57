#!/usr/bin/env bash
# test_agent_link.sh - a mis-keyed, unreachable or revoked agent says so within seconds, and
# the CLI names a key mismatch:
#   - an agent with another coordinator's key: "closes the connection during the CURVE
#     handshake ... is not its key";
#   - an agent pointed where nothing listens: "nothing accepts connections there";
#   - an agent (and pyscope hosts) given a host name under .invalid: "the host name ... does
#     not resolve", never "nothing accepts connections";
#   - an agent whose secret key file is missing: that error alone (no "could not connect
#     ... Invalid argument" before or after it);
#   - an agent whose key is revoked while it runs: "no longer allows this agent's key",
#     its results stay in the spool;
#   - pyscope hosts with another coordinator's key: the key mismatch, not "could not reach".
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
keys=$T/keys
allowed=$T/coord-keys
for k in a1 a2 cli; do "$PYSCOPE" keygen "$k" --dir "$keys" >/dev/null; done
"$PYSCOPE" keygen coordinator --dir "$allowed" >/dev/null
"$PYSCOPE" keygen other --dir "$T/other" >/dev/null # another coordinator's key
cp "$allowed/coordinator.key" "$keys/"
mkdir -p "$allowed/agents" "$allowed/submitters"
cp "$keys/a1.key" "$keys/a2.key" "$allowed/agents/"
cp "$keys/cli.key" "$allowed/submitters/"
export FARM_COORD_EXTRA="curve_keys_dir = $allowed"
COORD_URL="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
export PYSCOPE_COORDINATOR="$COORD_URL"
farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws"

# log_within SECONDS FILE REGEX: wait until FILE matches REGEX.
log_within() {
    local until=$((SECONDS + $1))
    while [ $SECONDS -lt "$until" ]; do
        grep -Eq -- "$3" "$2" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}

farm_agent_start wrongkey "$ws" --secret-key "$keys/a1" --coordinator-key "$T/other/other.key"
log_within 20 "$T/agent-wrongkey.log" 'closes the connection during the CURVE handshake' &&
    ok "wrong coordinator key: said within seconds" ||
    fail "wrong coordinator key: said within seconds" "$(cat "$T/agent-wrongkey.log")"
expect_match "wrong coordinator key: names the key file" 'other/other.key" is not its key' \
    "$(cat "$T/agent-wrongkey.log")"
kill "${AGENT_PID[wrongkey]}"

farm_agent_start nobody "$ws" --coordinator "tcp://127.0.0.1:1"
log_within 20 "$T/agent-nobody.log" 'nothing accepts connections there' &&
    ok "nothing listening: said within seconds" ||
    fail "nothing listening: said within seconds" "$(cat "$T/agent-nobody.log")"
kill "${AGENT_PID[nobody]}"

# a coordinator host name that does not resolve (.invalid never does): said so, by name
farm_agent_start noname "$ws" --coordinator "tcp://coordinator.invalid:5555"
log_within 20 "$T/agent-noname.log" 'host name "coordinator.invalid" does not resolve' &&
    ok "unresolvable coordinator name: said within seconds" ||
    fail "unresolvable coordinator name: said within seconds" "$(cat "$T/agent-noname.log")"
expect_nomatch "unresolvable name: not \"nothing accepts connections\"" \
    'nothing accepts connections' "$(cat "$T/agent-noname.log")"
kill "${AGENT_PID[noname]}"
RC=0
OUT=$(timeout 60 "$PYSCOPE" hosts --coordinator tcp://coordinator.invalid:5555 \
    --secret-key "$keys/cli" --coordinator-key "$keys/coordinator.key" 2>&1) || RC=$?
expect_match "pyscope hosts: the name does not resolve" \
    'could not reach the coordinator at tcp://coordinator.invalid:5555: the host name "coordinator.invalid" does not resolve' \
    "$OUT"

RC=0
OUT=$(timeout 20 "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" --name nokey \
    --spool "$T/spool-nokey" --secret-key "$T/missing" --coordinator-key "$keys/coordinator.key" \
    2>&1) || RC=$?
[ "$RC" != 0 ] && [ "$RC" != 124 ] && ok "missing secret key: the agent stops" ||
    fail "missing secret key: the agent stops" "exit $RC"
expect_match "missing secret key: said" 'missing.key_secret' "$OUT"
expect_nomatch "missing secret key: no spurious connect error" 'could not connect|Invalid argument' "$OUT"

# revoked while running
farm_agent_start a2 "$ws" --secret-key "$keys/a2" --coordinator-key "$keys/coordinator.key"
log_within 20 "$T/agent-a2.log" 'welcome|registered|ready' ||
    fail "a2 connected" "$(cat "$T/agent-a2.log")"
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents WHERE name = '"'a2'"'")" = 1 ]' ||
    fail "a2 registered" "$(cat "$T/coord.log")"
rm "$allowed/agents/a2.key"
log_within 20 "$T/agent-a2.log" "no longer allows this agent's key" &&
    ok "revoked agent: said within seconds" ||
    fail "revoked agent: said within seconds" "$(tail -5 "$T/agent-a2.log")"
expect_match "the coordinator logs the refusal with the key's name" \
    'refused a .*message from agent:a2 \(key .{8}\.\.\.\): its key is no longer allowed' \
    "$(cat "$T/coord.log")"

# the CLI with another coordinator's key
RC=0
OUT=$("$PYSCOPE" hosts --timeout 3 --secret-key "$keys/cli" \
    --coordinator-key "$T/other/other.key" 2>&1) || RC=$?
expect_eq "CLI with the wrong coordinator key fails" 4 "$RC"
expect_match "CLI names the key mismatch" 'closed the connection during the CURVE handshake: the coordinator key ".*other.key" is not its key' "$OUT"
finish
