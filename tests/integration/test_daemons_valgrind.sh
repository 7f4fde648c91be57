#!/usr/bin/env bash
# test_daemons_valgrind.sh - both daemons run clean under valgrind (issue 6, point 6): a
# real PostgreSQL, pyscope-coordinator and pyscope-agent each under valgrind (memcheck,
# full leak check, descriptor tracking), CURVE on, a small batch of real jobs through the
# agent (ok, trace mode, a failing script, a missing script; the agent's pyscope-run children
# are not traced), queries, the web pages and a SIGHUP to the coordinator, then SIGTERM to both. Fails on
# any valgrind error, any definite or indirect leak, and any descriptor left open at exit
# that the daemon did not inherit. (test_coord_curve.sh keeps its own valgrind run of the
# ZAP paths: revocation and handover.)
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
if ! command -v valgrind >/dev/null || [ "$FARM_ASAN" = 1 ]; then
    skip "valgrind not installed (scripts/install-deps.sh --test), or a sanitizer build"
fi
vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=yes
    --trace-children=no)

# Keys: the coordinator's folder, the agent's and the submitter's pairs.
keys=$T/keys allowed=$T/coord-keys
for k in vg cli; do "$PYSCOPE" keygen "$k" --dir "$keys" >/dev/null; done
"$PYSCOPE" keygen coordinator --dir "$allowed" >/dev/null
mkdir -p "$allowed/agents" "$allowed/submitters"
cp "$keys/vg.key" "$allowed/agents/"
cp "$keys/cli.key" "$allowed/submitters/"
export PYSCOPE_SECRET_KEY=$keys/cli PYSCOPE_COORDINATOR_KEY=$allowed/coordinator.key

farm_pg_start
cat >"$T/coord.conf" <<CONF
[coordinator]
heartbeat_ms = 500
lease_ms = 8000
peer_timeout_ms = 10000
reap_interval_ms = 500
dispatch_interval_ms = 300
curve_keys_dir = $allowed
http = 127.0.0.1:0
CONF
"${vg[@]}" --log-file="$T/vg-coord.txt" "$COORD_BIN" --db "$PG_CONNINFO" --bind "$COORD_URL" \
    --config "$T/coord.conf" >>"$T/coord.log" 2>&1 &
COORD_PID=$!
FARM_PIDS+=("$COORD_PID")
if farm_wait 120 'grep -q "listening on" "$T/coord.log"'; then ok "coordinator up under valgrind"; else
    fail "coordinator up" "$(tail -5 "$T/coord.log")"
    finish
    exit 1
fi

ws=$T/ws
mkdir -p "$ws"
printf 'print(sum(range(100000)))\n' >"$ws/ok.py"
printf 'def f(n):\n    return n if n < 2 else f(n - 1) + f(n - 2)\nprint(f(18))\n' >"$ws/fib.py"
printf 'import sys\nsys.exit(3)\n' >"$ws/fails.py"
cat >"$T/suite.ini" <<INI
[suite]
name = valgrind
timeout = 60
[script ok.py]
repeat = 2
[script fib.py]
mode = trace
[script fails.py]
[script missing.py]
INI
"${vg[@]}" --log-file="$T/vg-agent.txt" "$AGENT_BIN" --coordinator "$COORD_URL" --workspace "$ws" \
    --name vg --spool "$T/spool-vg" --secret-key "$keys/vg" \
    --coordinator-key "$allowed/coordinator.key" >>"$T/agent-vg.log" 2>&1 &
agent=$!
FARM_PIDS+=("$agent")
if farm_wait 120 'grep -q welcome "$T/agent-vg.log"'; then ok "agent registered under valgrind"; else
    fail "agent registered" "no welcome"
    farm_logs
    finish
    exit 1
fi

st=0
out=$(farm_cli submit "$T/suite.ini" --wait --timeout 120 2>&1) || st=$?
expect_eq "batch finished (one script fails: exit 3)" "3" "$st"
expect_eq "results stored" "failed ok ok refused" \
    "$(pg_sql "SELECT string_agg(outcome, ' ' ORDER BY outcome) FROM runs")"
expect_match "hosts query" "vg" "$(farm_cli hosts --timeout 30)"
expect_match "jobs query" "fails.py" "$(farm_cli jobs --timeout 30)"
# the web pages (coordinator/web.c) under valgrind too
web=$(grep -o 'web pages on http://[^ ]*' "$T/coord.log" | grep -o 'http://.*' || true)
host=$(pg_sql "SELECT hostname FROM hosts LIMIT 1")
for path in "" batches hosts batch/1 "series/ok.py?host=$host" nope; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "$web$path" || true)
    expect_match "web page /$path answers" '^(200|404)$' "$code"
done
kill -HUP "$COORD_PID"
farm_wait 10 '[ "$(find "$T/spool-vg" -name "*.result" | wc -l)" = 0 ]' && ok "spool drained" ||
    fail "spool drained" "$(ls "$T/spool-vg")"

# SIGTERM: clean exits, then what valgrind saw.
kill -TERM "$agent"
st=0
wait "$agent" || st=$?
expect_eq "agent: clean exit under valgrind" "0" "$st"
kill -TERM "$COORD_PID"
st=0
wait "$COORD_PID" || st=$?
expect_eq "coordinator: clean exit under valgrind" "0" "$st"

# vg_errors FILE: valgrind's report without its list of inherited descriptors.
vg_errors() {
    awk '/FILE DESCRIPTORS: .* open/ {next}
         /Open (file|AF_UNIX socket|AF_INET socket) descriptor/ {held = $0; next}
         held != "" { if ($0 !~ /inherited from parent/) print held; held = ""; next }
         /^==[0-9]+== *$/ {next}
         {print}' "$1"
}
for d in coord agent; do
    expect_eq "$d: no valgrind error, leak or descriptor left open" "" \
        "$(vg_errors "$T/vg-$d.txt")"
done
finish
