#!/usr/bin/env bash
# test_coord_flood.sh - an authenticated peer floods a real coordinator (CURVE, TCP, real
# PostgreSQL) with malformed messages (tests/tools/coord_flood.c: truncated protobuf, wrong
# wire types, random bytes, bad fields, coordinator-only messages, two frames, results for
# unknown jobs, submits from an agent key), messages over 4 MiB on extra connections, and
# raw TCP connections that never finish the handshake, while a well-behaved agent keeps
# taking jobs and sending results. Checks: the coordinator lives and serves; its reject
# counters account for every malformed message; every result of the good agent was acked
# (within 60 s each) and stored once; the oversize connections were dropped.
#
# FLOOD_COUNT (default 200000) sets the number of malformed messages; the issue's full
# million: FLOOD_COUNT=1000000 ctest -R coord_flood. FLOOD_HALF_OPEN (default 300) the
# half-open connections.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
FLOOD="$PYSCOPE_BUILD/tests/tools/coord_flood"
COUNT=${FLOOD_COUNT:-200000}
HALF=${FLOOD_HALF_OPEN:-300}

# The keys folder (docs/security.md): the good agent and the flooder are both agents.
K=$T/keys
mkdir -p "$K/agents" "$K/submitters" "$T/secrets"
chmod 700 "$K" "$T/secrets"
for who in coordinator agents/good agents/flood submitters/ci; do
    read -r pub sec < <("$FAKE" --keygen)
    printf '%s\n' "$pub" >"$K/$who.key"
    (umask 077 && printf '%s\n' "$sec" >"$T/secrets/${who##*/}")
done
mv "$T/secrets/coordinator" "$K/coordinator.key_secret"
SRV_PUB=$(cat "$K/coordinator.key")
printf '[coordinator]\ncurve_keys_dir = %s\nstats_interval_s = 0\n' "$K" >"$T/coord.conf"

pg_start
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
COORD_EP="tcp://127.0.0.1:$PORT"
coord_start --config "$T/coord.conf"

start=$(date +%s)
st=0
"$FLOOD" --connect "$COORD_EP" --server-key "$SRV_PUB" --agent-secret "$(cat "$T/secrets/good")" \
    --flood-secret "$(cat "$T/secrets/flood")" \
    --submit-secret "$(cat "$T/secrets/ci")" --count "$COUNT" --half-open "$HALF" \
    --oversize 3 >"$T/flood.out" 2>"$T/flood.err" || st=$?
secs=$(($(date +%s) - start))
cat "$T/flood.out"
tail -5 "$T/flood.err"
echo "# flood of $COUNT took $secs s (noisy: a shared machine)"
expect_eq "flood tool: the good agent was acked every time within 60 s" 0 "$st"
out=$(cat "$T/flood.out")
field() { sed -nE "s/.* $1=([0-9.]+).*/\1/p; s/^$1=([0-9.]+).*/\1/p" <<<"$out" | head -1; }
expect_eq "all malformed messages sent" "$COUNT" "$(field sent)"
expect_eq "the good agent got no error" 0 "$(field good_errors)"
[ "$(field squat_sent)" -ge 1 ] 2>/dev/null && ok "the squatter under the good agent's routing id sent ($(field squat_sent))" ||
    fail "the squatter sent" "squat_sent=$(field squat_sent)"
expect_eq "the squatter got nothing: no job, no ack, no answer" 0 "$(field squat_replies)"
acked=$(field good_acked)
[ "${acked:-0}" -ge 1 ] && ok "the good agent was acked during the flood ($acked)" ||
    fail "the good agent was acked during the flood" "acked=$acked"

if kill -0 "$COORD_PID" 2>/dev/null; then ok "coordinator alive"; else fail "coordinator alive" "gone"; fi
q=$("$FAKE" --connect "$COORD_EP" --server-key "$SRV_PUB" --secret-key "$(cat "$T/secrets/ci")" \
    --wait 20000 <<<"query hosts")
expect_match "coordinator still answers a new client" "^query_reply" "$q"
doc=$(sed -n 's/^query_reply //p' <<<"$q")
counted=$(json_get 'sum(d["coordinator"]["counters"]["rejected"].values()) + sum(d["coordinator"]["counters"][k] for k in ("unexpected", "forbidden", "unknown_job", "stale_attempt"))' <<<"$doc")
echo "# counters: $(json_get 'd["coordinator"]["counters"]' <<<"$doc")"
expect_eq "every malformed message rejected and counted" "$COUNT" "$counted"
expect_eq "by kind: unknown jobs" "$(field unknown_job)" \
    "$(json_get 'd["coordinator"]["counters"]["unknown_job"]' <<<"$doc")"
expect_eq "by kind: submits from an agent key" "$(field forbidden)" \
    "$(json_get 'd["coordinator"]["counters"]["forbidden"]' <<<"$doc")"
expect_eq "by kind: two-frame messages" "$(field frames)" \
    "$(json_get 'd["coordinator"]["counters"]["rejected"]["extra_frames"]' <<<"$doc")"
expect_eq "no store failures" 0 "$(json_get 'd["coordinator"]["counters"]["internal"]' <<<"$doc")"
expect_eq "the good agent's results stored, once each" "$acked" \
    "$(json_get 'd["coordinator"]["counters"]["results_stored"]' <<<"$doc")"
expect_eq "the good agent's results in the database" "$acked" "$(pg_sql 'SELECT count(*) FROM runs')"
expect_eq "every stored run is the good agent's" "$acked" \
    "$(pg_sql "SELECT count(DISTINCT job_id) FROM runs WHERE agent = 'good'")"
# an answer the coordinator could not queue (the flooder's queue full) is counted as dropped
expect_eq "every malformed message answered with an error, or its answer counted as dropped" \
    "$COUNT" "$(($(field errors) + $(json_get 'd["coordinator"]["counters"]["send_again"]' <<<"$doc")))"
expect_eq "the half-open connections were accepted (and cost nothing else)" True \
    "$(json_get "d['coordinator']['counters']['connections'] >= $HALF + 3" <<<"$doc")"
expect_eq "oversize connections dropped" True \
    "$(json_get 'd["coordinator"]["counters"]["disconnections"] >= 3' <<<"$doc")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
