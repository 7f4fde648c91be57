#!/usr/bin/env bash
# test_coord_curve.sh - CURVE and the ZAP keys folder (coordinator/zap.h, docs/security.md): unknown
# keys and plain clients get nothing, roles limit what a key may send, an agent is known by its
# key's name whatever its Hello says, a key removed from the folder is cut off within a few
# seconds while the others keep being served (revocation), a key added works without a
# restart, a second connection of the same key is served while one claiming a routing id in use
# is not (no ROUTER_HANDOVER: tests/integration/test_coord_identity.sh), bad
# key files and folders stop the start, and the old allowlist file is refused with a pointer.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

read -r SRV_PUB SRV_SEC < <("$FAKE" --keygen)
read -r AG_PUB AG_SEC < <("$FAKE" --keygen)
read -r A2_PUB A2_SEC < <("$FAKE" --keygen)
read -r A3_PUB A3_SEC < <("$FAKE" --keygen)
read -r CI_PUB CI_SEC < <("$FAKE" --keygen)
read -r _ BAD_SEC < <("$FAKE" --keygen)
K=$T/keys
mkdir -p "$K/agents" "$K/submitters"
chmod 700 "$K"
(umask 077 && printf '# coordinator secret key\n%s\n' "$SRV_SEC" >"$K/coordinator.key_secret")
printf '%s\n' "$SRV_PUB" >"$K/coordinator.key"
printf '# agent a1\n%s\n' "$AG_PUB" >"$K/agents/a1.key"
printf '%s\n' "$A2_PUB" >"$K/agents/a2.key"
printf '%s\n' "$CI_PUB" >"$K/submitters/ci.key"
printf '[coordinator]\ncurve_keys_dir = %s\n' "$K" >"$T/coord.conf"

pg_start

# ---- start-up refusals ----
chmod 644 "$K/coordinator.key_secret"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/coord.conf"
expect_eq "readable secret key refused" 4 "$RC"
expect_match "readable secret key explained" "chmod 600" "$OUT"
chmod 600 "$K/coordinator.key_secret"
chmod 777 "$K/agents"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/coord.conf"
expect_eq "group-writable agents folder refused" 4 "$RC"
expect_match "writable folder explained" "agents" "$OUT"
chmod 755 "$K/agents"
printf '[coordinator]\ncurve_keys_dir = %s\n' "$T/nowhere" >"$T/nowhere.conf"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/nowhere.conf"
expect_eq "missing keys folder refused (a usage error, before the database)" 2 "$RC"
expect_match "missing keys folder explained" "curve_keys_dir \"$T/nowhere\": No such file" "$OUT"
printf '[coordinator]\ncurve_secret_key_file = %s\n' "$K/coordinator" >"$T/half.conf"
capture timeout 20 "$COORD" --config "$T/half.conf"
expect_eq "secret key without keys folder is a usage error" 2 "$RC"
expect_match "secret key without keys folder explained" "needs curve_keys_dir" "$OUT"
printf '[coordinator]\ncurve_allowlist_file = %s\n' "$T/allow" >"$T/old.conf"
capture timeout 20 "$COORD" --config "$T/old.conf"
expect_eq "old allowlist file is a usage error" 2 "$RC"
expect_match "old allowlist file points to the folder" "curve_keys_dir" "$OUT"

# ---- serving ----
coord_start --config "$T/coord.conf"
if grep -qF -- "curve on: server public key $SRV_PUB" "$COORD_LOG"; then
    ok "server public key logged"; else fail "server public key logged" "$(cat "$COORD_LOG")"; fi
expect_match "self-test ran" "self-test passed" "$(cat "$COORD_LOG")"
# the self-test's own refused key is the test passing, not a warning an operator must read
if grep -q "warning: zap: refused" "$COORD_LOG"; then
    fail "no refusal warning at start-up" "$(grep "refused" "$COORD_LOG")"
else ok "no refusal warning at start-up"; fi

out=$(fake_as "$AG_SEC" --name spoofed <<'CMDS'
hello
submit examples/a.py
query hosts
CMDS
)
expect_match "agent key: the key's name, not the hello's" "welcome agent_id=a1 " "$out"
expect_match "agent key may not submit" "^error code=forbidden" "$out"
expect_match "agent key may query" "^query_reply" "$out"
expect_eq "agent stored under the key's name" "a1" "$(pg_sql 'SELECT name FROM agents')"

out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/a.py
hello
CMDS
)
expect_match "submitter key submits" "submit_reply batch=1 jobs=1" "$out"
expect_match "submitter key may not say hello" "^error code=forbidden" "$out"

out=$(fake_as "$BAD_SEC" --wait 1000 <<'CMDS'
hello
CMDS
)
expect_eq "unknown key gets nothing" "timeout" "$out"
out=$(fake --wait 1000 <<'CMDS'
query hosts
CMDS
)
expect_eq "plain client gets nothing" "timeout" "$out"

# ---- a second connection of the same key replaces the first (its handshake proved the
# key); a connection claiming a routing id in use gets nothing (no ROUTER_HANDOVER) ----
fake_as "$AG_SEC" --routing-id a1 --wait 2000 >"$T/old-conn.out" <<'CMDS' &
hello
sleep 4000
CMDS
old_conn=$!
sleep 1
out=$(fake_as "$AG_SEC" --wait 2000 <<'CMDS'
hello
CMDS
)
expect_match "same key on a new connection is served" "welcome agent_id=a1 " "$out"
out=$(fake_as "$AG_SEC" --routing-id a1 --wait 1500 <<'CMDS'
hello
CMDS
)
expect_eq "a routing id in use is not handed over" "timeout" "$out"
wait "$old_conn" || true

# ---- revocation: a2 is connected and served; its key file goes; a2 is cut off ----
fake_as "$A2_SEC" --wait 1500 >"$T/a2.out" <<'CMDS' &
hello
query hosts
sleep 3000
query hosts
reconnect
hello
CMDS
a2=$!
sleep 1
mv "$K/agents/a2.key" "$T/a2.key.revoked"
wait "$a2" || true
a2_out=$(cat "$T/a2.out")
expect_match "a2 served before revocation" "^welcome agent_id=a2 " "$a2_out"
expect_eq "a2 answered once, then no data" "1" "$(grep -c '^query_reply' <<<"$a2_out")"
expect_match "a2 told its key is revoked" "^error code=forbidden message=key revoked" "$a2_out"
expect_eq "a2 cut off: its new handshake times out" "1" "$(grep -c '^timeout' <<<"$a2_out")"
expect_match "revoked agent dropped" 'dropped agent:a2: key revoked' "$(cat "$COORD_LOG")"
out=$(fake_as "$AG_SEC" --wait 2000 <<'CMDS'
hello
query hosts
CMDS
)
expect_match "others still served after a revocation" "^query_reply" "$out"

# ---- a key added to the folder works without a restart ----
out=$(fake_as "$A3_SEC" --wait 1000 <<'CMDS'
hello
CMDS
)
expect_eq "a3 unknown before its key is added" "timeout" "$out"
printf '%s\n' "$A3_PUB" >"$K/agents/a3.key"
sleep 2
out=$(fake_as "$A3_SEC" --wait 2000 <<'CMDS'
hello
CMDS
)
expect_match "added key admitted without restart" "welcome agent_id=a3 " "$out"
# SIGHUP re-reads at once: put a2 back and ask right away.
mv "$T/a2.key.revoked" "$K/agents/a2.key"
kill -HUP "$COORD_PID"
sleep 0.3
out=$(fake_as "$A2_SEC" --wait 2000 <<'CMDS'
hello
CMDS
)
expect_match "sighup re-reads the folder" "welcome agent_id=a2 " "$out"

out=$(fake_as "$CI_SEC" <<'CMDS'
query hosts
CMDS
)
counters=$(sed 's/^query_reply //' <<<"$out")
expect_eq "refusals counted" True \
    "$(json_get 'd["coordinator"]["counters"]["keys_refused"] >= 3 and d["coordinator"]["counters"]["forbidden"] == 2' <<<"$counters")"
expect_eq "revoked messages counted" True \
    "$(json_get 'd["coordinator"]["counters"]["revoked"] >= 1 and d["coordinator"]["counters"]["peers_revoked"] == 1' <<<"$counters")"
expect_match "refusal logged" 'zap: refused .*unknown' "$(cat "$COORD_LOG")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"

# ---- valgrind: start-up self-test, ZAP thread, a revocation, SIGHUP and shutdown ----
asan=0
case "$(nm "$COORD" 2>/dev/null || true)" in *__asan_init*) asan=1 ;; esac
if command -v valgrind >/dev/null && [ "$asan" = 0 ]; then
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --log-file="$T/vg.log" \
        "$COORD" --db "$PG_CONNINFO" --bind "$COORD_EP" --config "$T/coord.conf" \
        2>"$T/coord.vg.log" &
    vg=$!
    for _ in $(seq 600); do
        grep -q "listening on" "$T/coord.vg.log" && break
        kill -0 "$vg" 2>/dev/null || break
        sleep 0.1
    done
    expect_match "valgrind: coordinator up after its self-test" "self-test passed" \
        "$(cat "$T/coord.vg.log")"
    out=$(fake_as "$AG_SEC" --wait 5000 <<'CMDS'
hello
CMDS
)
    expect_match "valgrind: agent admitted" "welcome agent_id=a1 " "$out"
    fake_as "$A2_SEC" --wait 3000 >"$T/a2-vg.out" <<'CMDS' &
hello
sleep 4000
query hosts
CMDS
    a2=$!
    sleep 2
    mv "$K/agents/a2.key" "$T/a2.key.revoked"
    wait "$a2" || true
    expect_match "valgrind: a2 admitted" "^welcome agent_id=a2 " "$(cat "$T/a2-vg.out")"
    expect_match "valgrind: a2 cut off (told its key is revoked)" \
        "^error code=forbidden message=key revoked" "$(cat "$T/a2-vg.out")"
    kill -HUP "$vg"
    sleep 0.5
    kill -TERM "$vg"
    st=0
    wait "$vg" || st=$?
    expect_eq "valgrind: clean exit" "0" "$st"
    expect_eq "valgrind: nothing reported" "" "$(cat "$T/vg.log")"
else
    echo "# valgrind not available (or a sanitizer build): skipped"
fi
leaked=0
for s in "$SRV_SEC" "$AG_SEC" "$A2_SEC" "$A3_SEC" "$CI_SEC"; do
    if grep -qF -- "$s" "$T"/coord.*.log; then leaked=$((leaked + 1)); fi
done
expect_eq "no secret key in the logs (keys found)" 0 "$leaked"
finish
