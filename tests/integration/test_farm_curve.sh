#!/usr/bin/env bash
# test_farm_curve.sh - the farm with CURVE on: an allowlisted agent and submitter run a
# suite over encrypted, authenticated links; a plain client, an unknown key and a key
# of the wrong role are refused with clear messages; a submitter key deleted from the
# coordinator's keys folder is refused from then on and admitted again once put back (no
# restart); a secret key others can read is refused before anything connects.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
keys=$T/keys          # clients' keypairs
allowed=$T/coord-keys # the coordinator's keys folder (docs/security.md)
farm_keygen() { "$PYSCOPE" keygen "$1" --dir "$keys" >/dev/null; }
for k in a1 cli intruder; do farm_keygen "$k"; done
"$PYSCOPE" keygen coordinator --dir "$allowed" >/dev/null
cp "$allowed/coordinator.key" "$keys/"
mkdir -p "$allowed/agents" "$allowed/submitters"
cp "$keys/a1.key" "$allowed/agents/"
cp "$keys/cli.key" "$allowed/submitters/"
export FARM_COORD_EXTRA="curve_keys_dir = $allowed"
# The TCP transport: CURVE over ipc:// works too, but tcp:// is what hosts use.
COORD_URL="tcp://127.0.0.1:$((20000 + RANDOM % 20000))"
export PYSCOPE_COORDINATOR="$COORD_URL"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws"
printf 'print(sum(range(10000)))\n' >"$ws/a.py"
printf '[suite]\nname = curve\n[script a.py]\n' >"$T/suite.ini"

ckey=(--coordinator-key "$keys/coordinator.key")
farm_agent_start a1 "$ws" --secret-key "$keys/a1" "${ckey[@]}"
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' && ok "agent admitted with its key" ||
    { fail "agent admitted" "no welcome"; farm_logs; }
expect_match "agent says CURVE is on" "CURVE on: this agent's key" "$(cat "$T/agent-a1.log")"

export PYSCOPE_SECRET_KEY=$keys/cli PYSCOPE_COORDINATOR_KEY=$keys/coordinator.key
st=0
out=$(farm_cli submit "$T/suite.ini" --wait) || st=$?
expect_eq "submit over CURVE" "0" "$st"
expect_match "batch done" "batch 1 \(suite curve\): done" "$out"
expect_eq "the run stored" "ok" "$(pg_sql 'SELECT outcome FROM runs')"
expect_match "hosts over CURVE" "a1" "$(farm_cli hosts)"

# A plain client: the handshake never completes; a clear error after --timeout.
st=0
msg=$(env -u PYSCOPE_SECRET_KEY -u PYSCOPE_COORDINATOR_KEY "$PYSCOPE" \
    hosts --timeout 2 2>&1) || st=$?
expect_eq "plain client refused" "4" "$st"
expect_match "plain client message" "could not reach|no answer|handshake" "$msg"

# An unknown key.
st=0
msg=$(farm_cli hosts --timeout 2 --secret-key "$keys/intruder" 2>&1) || st=$?
expect_eq "unknown key refused" "4" "$st"
expect_match "unknown key message" "refused our key" "$msg"

# Only one key of the pair.
st=0
msg=$(env -u PYSCOPE_COORDINATOR_KEY "$PYSCOPE" hosts 2>&1) || st=$?
expect_eq "half a key pair" "2" "$st"
expect_match "half a key pair message" "CURVE needs both keys" "$msg"

# An agent's key may not submit.
st=0
msg=$(farm_cli submit "$T/suite.ini" --secret-key "$keys/a1" 2>&1) || st=$?
expect_eq "agent key cannot submit" "4" "$st"
expect_match "agent key cannot submit message" "forbidden" "$msg"

# Revocation: the CLI's key deleted from the folder is refused (no restart), then put back.
mv "$allowed/submitters/cli.key" "$T/cli.key.revoked"
sleep 2
st=0
msg=$(farm_cli hosts --timeout 2 2>&1) || st=$?
expect_eq "revoked key refused" "4" "$st"
expect_match "revoked key message" "refused our key" "$msg"
expect_match "agent still connected after another key's revocation" "a1" \
    "$(pg_sql "SELECT name FROM agents")"
mv "$T/cli.key.revoked" "$allowed/submitters/cli.key"
sleep 2
expect_match "key put back works without restart" "a1" "$(farm_cli hosts)"

# An agent with an unknown key never gets in, and says why.
farm_agent_start x1 "$ws" --secret-key "$keys/intruder" "${ckey[@]}"
farm_wait 15 'grep -q "refused this agent" "$T/agent-x1.log"' && ok "intruder agent refused" ||
    fail "intruder agent refused" "$(tail -3 "$T/agent-x1.log")"
expect_eq "intruder never registered" "1" "$(pg_sql 'SELECT count(*) FROM agents')"
kill -TERM "${AGENT_PID[x1]}"

# A secret key others can read is refused before connecting.
cp "$keys/a1.key_secret" "$T/loose.key_secret"
chmod 644 "$T/loose.key_secret"
st=0
msg=$(timeout 10 "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" \
    --secret-key "$T/loose.key_secret" "${ckey[@]}" --spool "$T/spool-loose" 2>&1) || st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] && ok "loose secret key refused" ||
    fail "loose secret key refused" "status $st"
expect_match "loose secret key message" "chmod 600|group|others" "$msg"
finish
