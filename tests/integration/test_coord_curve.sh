#!/usr/bin/env bash
# test_coord_curve.sh - CURVE and the ZAP allowlist: unknown keys and plain
# clients get nothing, roles limit what a key may send, an agent is known by
# its key's name whatever its Hello says, bad key files stop the start.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

read -r SRV_PUB SRV_SEC < <("$FAKE" --keygen)
read -r AG_PUB AG_SEC < <("$FAKE" --keygen)
read -r CI_PUB CI_SEC < <("$FAKE" --keygen)
read -r _ BAD_SEC < <("$FAKE" --keygen)
printf '%s\n' "$SRV_SEC" >"$T/server.key"
chmod 600 "$T/server.key"
cat >"$T/allow" <<EOF2
# role key name
agent $AG_PUB a1

submitter $CI_PUB ci
EOF2
printf '[coordinator]\ncurve_secret_key_file = %s\ncurve_allowlist_file = %s\n' \
    "$T/server.key" "$T/allow" >"$T/coord.conf"

pg_start

chmod 644 "$T/server.key"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/coord.conf"
expect_eq "readable secret key refused" 4 "$RC"
expect_match "readable secret key explained" "is readable by others" "$OUT"
chmod 600 "$T/server.key"
printf 'agent nonsense a2\n' >"$T/bad-allow"
printf '[coordinator]\ncurve_secret_key_file = %s\ncurve_allowlist_file = %s\n' \
    "$T/server.key" "$T/bad-allow" >"$T/bad.conf"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/bad.conf"
expect_match "bad allowlist line named" "line 1: key must be 40 z85 characters" "$OUT"
printf '[coordinator]\ncurve_secret_key_file = %s\n' "$T/server.key" >"$T/half.conf"
capture timeout 20 "$COORD" --config "$T/half.conf"
expect_eq "key without allowlist is a usage error" 2 "$RC"

coord_start --config "$T/coord.conf"
if grep -qF -- "curve on: server public key $SRV_PUB" "$COORD_LOG"; then
    ok "server public key logged"; else fail "server public key logged" "$(cat "$COORD_LOG")"; fi
if grep -qF -- "$SRV_SEC" "$COORD_LOG"; then
    fail "secret key never logged" "it is"; else ok "secret key never logged"; fi

out=$(fake --name spoofed --server-key "$SRV_PUB" --secret-key "$AG_SEC" <<'CMDS'
hello
submit examples/a.py
query hosts
CMDS
)
expect_match "agent key: the key's name, not the hello's" "welcome agent_id=a1 " "$out"
expect_match "agent key may not submit" "^error code=forbidden" "$out"
expect_match "agent key may query" "^query_reply" "$out"
expect_eq "agent stored under the key's name" "a1" "$(pg_sql 'SELECT name FROM agents')"

out=$(fake --server-key "$SRV_PUB" --secret-key "$CI_SEC" <<'CMDS'
submit examples/a.py
hello
CMDS
)
expect_match "submitter key submits" "submit_reply batch=1 jobs=1" "$out"
expect_match "submitter key may not say hello" "^error code=forbidden" "$out"

out=$(fake --wait 1000 --server-key "$SRV_PUB" --secret-key "$BAD_SEC" <<'CMDS'
hello
CMDS
)
expect_eq "unknown key gets nothing" "timeout" "$out"
out=$(fake --wait 1000 <<'CMDS'
query hosts
CMDS
)
expect_eq "plain client gets nothing" "timeout" "$out"

out=$(fake --server-key "$SRV_PUB" --secret-key "$CI_SEC" <<'CMDS'
query hosts
CMDS
)
expect_eq "refusals counted" True \
    "$(sed 's/^query_reply //' <<<"$out" | json_get 'd["coordinator"]["counters"]["keys_refused"] >= 1 and d["coordinator"]["counters"]["forbidden"] == 2')"
expect_match "refusal logged" 'refused a connection from .*unknown key' "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
