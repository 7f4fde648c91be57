#!/usr/bin/env bash
# test_coord_startup.sh - pyscope-coordinator's start-up: options, unreachable
# database, durability checks, migrations applied once (also with two
# coordinators racing), refusal of a newer schema, clean SIGTERM.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

capture "$COORD" --help; out=$OUT; rc=$RC
expect_eq "help exits 0" 0 "$rc"
expect_match "help shows usage" "usage: pyscope-coordinator" "$out"
capture "$COORD" --bogus; out=$OUT; rc=$RC
expect_eq "bad option exits 2" 2 "$rc"
capture "$COORD" extra; out=$OUT; rc=$RC
expect_eq "stray argument exits 2" 2 "$rc"
expect_match "stray argument named" 'unexpected argument "extra"' "$out"
printf '[coordinator]\nbogus = 1\n' >"$T/bad.conf"
capture "$COORD" --config "$T/bad.conf"; out=$OUT; rc=$RC
expect_eq "unknown config key exits 2" 2 "$rc"
expect_match "unknown config key named" 'line 2: unknown key "bogus"' "$out"
printf '[coordinator]\nlease_ms = soon\n' >"$T/bad2.conf"
capture "$COORD" --config "$T/bad2.conf"; out=$OUT; rc=$RC
expect_match "bad config value named" 'bad value "soon" for "lease_ms"' "$out"
for w in 0 17; do
    printf '[coordinator]\nwriters = %s\n' "$w" >"$T/bad3.conf"
    capture "$COORD" --config "$T/bad3.conf" --db "host=$T port=1"; out=$OUT; rc=$RC
    expect_eq "writers = $w exits 2" 2 "$rc"
    expect_match "writers = $w explained" "writers must be 1..16" "$out"
done
printf 'lease_ms = 100\n[coordinator]\n' >"$T/bad4.conf"
capture "$COORD" --config "$T/bad4.conf"; out=$OUT; rc=$RC
expect_eq "key outside a section exits 2" 2 "$rc"
expect_match "key outside a section explained" 'line 1: key "lease_ms" outside a section: put it under \[coordinator\]' "$out"
printf '[coordinator]\nwriters = 2\n[other]\n' >"$T/bad5.conf"
capture timeout 20 "$COORD" --config "$T/bad5.conf" --db "host=$T port=1 connect_timeout=3"; out=$OUT; rc=$RC
expect_eq "unknown empty section exits 2" 2 "$rc"
expect_match "unknown empty section named" 'line 3: unknown section \[other\]' "$out"
# A key set twice: the later line replaced the earlier without a word (the database, the
# bind address...); now refused at its line, naming the first.
printf '[coordinator]\ndb = host=%s port=1\nwriters = 2\ndb = host=%s port=2\n' "$T" "$T" >"$T/twice.conf"
capture timeout 20 "$COORD" --config "$T/twice.conf"; out=$OUT; rc=$RC
expect_eq "key set twice exits 2" 2 "$rc"
expect_match "key set twice named" "config file \"$T/twice.conf\" line 4: \"db\" set twice in \[coordinator\] \(first on line 2\)" "$out"
printf '[coordinator]\nbind = tcp://127.0.0.1:1\n    tcp://127.0.0.1:2\n' >"$T/continued.conf"
capture timeout 20 "$COORD" --config "$T/continued.conf"; out=$OUT; rc=$RC
expect_eq "indented continuation exits 2" 2 "$rc"
expect_match "indented continuation named" 'line 3: an indented line continues "bind" from line 2' "$out"
capture "$COORD" --config "$T/missing.conf"; out=$OUT; rc=$RC
expect_eq "missing config exits 2" 2 "$rc"
# A directory (a typo for DIR/coordinator.conf) was read as an empty file: every default.
mkdir -p "$T/etc"
capture timeout 20 "$COORD" --config "$T/etc" --db "host=$T port=1 connect_timeout=3"; out=$OUT; rc=$RC
expect_eq "config directory exits 2" 2 "$rc"
expect_match "config directory explained" "\"$T/etc\" is a directory: give the config file, e.g. $T/etc/coordinator.conf" "$out"

# What needs no database is checked before connecting to it: with it unreachable, each of
# these said only the database's error, exit 4 (stranger19's minor 13).
nodb="host=$T port=1 dbname=nothing connect_timeout=3"
printf '[coordinator]\ncurve_keys_dir = %s\n' "$T/no-keys" >"$T/nokeys.conf"
: >"$T/afile"
printf '[coordinator]\ncurve_keys_dir = %s\n' "$T/afile" >"$T/filekeys.conf"
for bad in "--http notaport|not an address to listen on" "--http 99999|\"99999\" is not an address" \
    "--http 0.0.0.0:0|is not a loopback address" "--bind bogus|\"bogus\" is not an endpoint to bind" \
    "--bind tcp://127.0.0.1:notaport|not an endpoint to bind" \
    "--bind tcp://127.0.0.1:70000|not an endpoint to bind" \
    "--config $T/nokeys.conf|curve_keys_dir \"$T/no-keys\": No such file or directory" \
    "--config $T/filekeys.conf|curve_keys_dir \"$T/afile\" is not a folder"; do
    # shellcheck disable=SC2086
    capture timeout 20 "$COORD" --db "$nodb" ${bad%%|*}; out=$OUT; rc=$RC
    expect_eq "${bad%%|*} with the database down: exit 2" 2 "$rc"
    expect_match "${bad%%|*}: says why" "error: .*${bad#*|}" "$out"
    expect_nomatch "${bad%%|*}: before the database" "database|trusted" "$out"
done

capture timeout 20 "$COORD" --db "$nodb" --bind "ipc://$T/x.sock"; out=$OUT; rc=$RC
expect_eq "unreachable database exits 4" 4 "$rc"
expect_match "unreachable database explained" "error: could not connect to the database" "$out"

pg_start
coord_start
NMIG=$(find "$PYSCOPE_SRC/schema" -name '[0-9]*.sql' | wc -l)
expect_eq "first start applies the migrations" "$NMIG" "$(pg_sql 'SELECT count(*) FROM schema_migrations')"
expect_match "first start logs it" "applied $NMIG schema migrations" "$(cat "$COORD_LOG")"
first=$(pg_sql "SELECT applied_at FROM schema_migrations WHERE version = 1")
coord_stop
expect_eq "sigterm exits 0" 0 "$COORD_STATUS"
expect_match "sigterm logged" "received sigterm: shutting down" "$(cat "$COORD_LOG")"
coord_start
expect_eq "restart applies nothing" "$first" "$(pg_sql 'SELECT applied_at FROM schema_migrations WHERE version = 1')"
expect_nomatch "restart logs no migration" "applied" "$(cat "$COORD_LOG")"
coord_stop

# Without --db, the PG* environment variables (exported by pg.sh) name the database.
"$COORD" --bind "ipc://$T/env.sock" 2>"$T/env.log" & envpid=$!
for _ in $(seq 100); do grep -q listening "$T/env.log" && break; sleep 0.1; done
expect_match "PG* variables used without --db" "listening on ipc://" "$(cat "$T/env.log")"
kill -TERM "$envpid"; wait "$envpid" || true

# systemd Type=notify: READY=1 on a datagram socket named by NOTIFY_SOCKET.
"$PY" - "$T/notify.sock" "$T/notify.out" <<'PYEOF' & listener=$!
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(20)
msg = s.recv(100)
open(sys.argv[2], "w").write(msg.decode())
PYEOF
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$T/notify.sock" "$COORD" --bind "ipc://$T/n.sock" 2>/dev/null & npid=$!
wait "$listener" || true
kill -TERM "$npid"; wait "$npid" || true
expect_eq "systemd told READY=1" "READY=1" "$(cat "$T/notify.out" 2>/dev/null)"

pg_sql "INSERT INTO schema_migrations (version, name) VALUES (999, '999_future.sql')"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock"; out=$OUT; rc=$RC
expect_eq "newer schema refused" 4 "$rc"
expect_match "newer schema explained" "migration 999, newer than this coordinator knows" "$out"
pg_sql "DELETE FROM schema_migrations WHERE version = 999"

pg_sql "ALTER DATABASE pyscope SET synchronous_commit = off"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock"; out=$OUT; rc=$RC
expect_eq "synchronous_commit off refused" 4 "$rc"
expect_match "synchronous_commit named" "synchronous_commit = off" "$out"
pg_sql "ALTER DATABASE pyscope RESET synchronous_commit"

pg_sql "ALTER SYSTEM SET fsync = off" && pg_sql "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock"; out=$OUT; rc=$RC
expect_eq "fsync off refused" 4 "$rc"
expect_match "fsync named" "fsync = off" "$out"
pg_sql "ALTER SYSTEM RESET fsync" && pg_sql "SELECT pg_reload_conf()" >/dev/null
sleep 0.3

# Two coordinators racing on a fresh database: the advisory lock serializes them.
"$PG_BIN/createdb" race
conn="host=$PG_DIR port=5432 user=postgres dbname=race"
"$COORD" --db "$conn" --bind "ipc://$T/r1.sock" 2>"$T/r1.log" & p1=$!
"$COORD" --db "$conn" --bind "ipc://$T/r2.sock" 2>"$T/r2.log" & p2=$!
for _ in $(seq 100); do
    grep -q listening "$T/r1.log" && grep -q listening "$T/r2.log" && break
    sleep 0.1
done
expect_match "racing coordinator 1 serves" "listening" "$(cat "$T/r1.log")"
expect_match "racing coordinator 2 serves" "listening" "$(cat "$T/r2.log")"
expect_eq "race applied the migrations once" "$NMIG" "$(psql -X -A -t -d race -c 'SELECT count(*) FROM schema_migrations')"
kill -TERM "$p1" "$p2"
r1=0; wait "$p1" || r1=$?
r2=0; wait "$p2" || r2=$?
expect_eq "racing coordinators exit 0" "0 0" "$r1 $r2"
finish
