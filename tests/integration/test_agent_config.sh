#!/usr/bin/env bash
# test_agent_config.sh - pyscope-agent's command line and config file, its start-up
# without a coordinator, and a spool filled while the coordinator was away. (The agent's
# valgrind run is in test_daemons_valgrind.sh.)
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

# --help, --version, bad options.
out=$("$AGENT_BIN" --help)
expect_match "--help" "Usage: pyscope-agent --coordinator" "$out"
expect_match "--version" "pyscope-agent [0-9]" "$("$AGENT_BIN" --version)"
st=0; "$AGENT_BIN" --bogus 2>/dev/null || st=$?
expect_eq "unknown option" "2" "$st"
st=0; msg=$("$AGENT_BIN" --workspace "$T" 2>&1) || st=$?
expect_eq "no coordinator" "2" "$st"
expect_match "no coordinator message" "--coordinator is required" "$msg"
st=0; msg=$("$AGENT_BIN" --coordinator tcp://127.0.0.1:1 --workspace "$T/nope" 2>&1) || st=$?
expect_eq "missing workspace" "2" "$st"
expect_match "missing workspace message" "is not a folder" "$msg"
st=0; msg=$("$AGENT_BIN" --coordinator tcp://127.0.0.1:1 --workspace "$T" --max-jobs 0 2>&1) || st=$?
expect_eq "--max-jobs 0" "2" "$st"
st=0; msg=$("$AGENT_BIN" --coordinator tcp://127.0.0.1:1 --workspace "$T" --label nokey 2>&1) || st=$?
expect_eq "bad label" "2" "$st"
printf '[agent]\ncolour = blue\n' >"$T/bad.conf"
st=0; msg=$("$AGENT_BIN" --config "$T/bad.conf" --workspace "$T" 2>&1) || st=$?
expect_eq "unknown config key" "2" "$st"
expect_match "unknown config key message" "bad.conf: unknown setting \"colour\"" "$msg"
printf '[agent]\nmemory_limit = lots\n' >"$T/bad2.conf"
st=0; msg=$("$AGENT_BIN" --config "$T/bad2.conf" 2>&1) || st=$?
expect_eq "bad config value" "2" "$st"
expect_match "bad config value message" "bad value for memory_limit" "$msg"
printf '[agent]\nmax_jobs = 2\n[other]\n' >"$T/bad3.conf"
st=0; msg=$(timeout 10 "$AGENT_BIN" --config "$T/bad3.conf" --coordinator tcp://127.0.0.1:1 \
    --workspace "$T" --spool "$T/spool-bad3" 2>&1) || st=$?
expect_eq "unknown empty section" "2" "$st"
expect_match "unknown empty section message" 'bad3.conf:3: unknown section \[other\]' "$msg"
# A key set twice (the later line replaced the earlier without a word) is refused at its line,
# naming the first; so is a label key given twice (labels add up, one value each).
printf '[agent]\nmax_jobs = 2\nname = a\n\nmax_jobs = 4\n' >"$T/twice.conf"
st=0; msg=$(timeout 10 "$AGENT_BIN" --config "$T/twice.conf" --coordinator tcp://127.0.0.1:1 \
    --workspace "$T" --spool "$T/spool-twice" 2>&1) || st=$?
expect_eq "key set twice" "2" "$st"
expect_match "key set twice message" "twice.conf:5: \"max_jobs\" set twice in \[agent\] \(first on line 2\)" "$msg"
printf '[agent]\nlabel = gpu=none\nlabel = rack=b2\n' >"$T/labels.conf"
st=0; msg=$(timeout 10 "$AGENT_BIN" --config "$T/labels.conf" --coordinator tcp://127.0.0.1:1 \
    --workspace "$T" --spool "$T/spool-labels" --label gpu=a100 2>&1) || st=$?
expect_eq "label key twice" "2" "$st"
expect_match "label key twice message" 'label "gpu" given twice \(gpu=none, then gpu=a100\)' "$msg"
st=0; msg=$("$AGENT_BIN" --config "$T/none.conf" 2>&1) || st=$?
expect_eq "missing config file" "2" "$st"
# The name names the default spool (and the key): "../../x" made folders outside.
mkdir -p "$T/cwd/a/b"
for bad in ../../x .hidden "a b" "$(printf 'n%.0s' {1..65})"; do
    st=0; msg=$(cd "$T/cwd/a/b" && timeout 10 "$AGENT_BIN" --name "$bad" \
        --coordinator tcp://127.0.0.1:1 --workspace "$T" 2>&1) || st=$?
    expect_eq "bad name \"$bad\"" "2" "$st"
    expect_match "bad name \"$bad\" message" "invalid agent name .*: use 1 to 64 letters, digits" "$msg"
done
expect_eq "bad names made no folder" "2" "$(find "$T/cwd" -mindepth 1 | wc -l)" # a, a/b
# Settings it cannot work with exit 2 before it starts (they exited 4, or only warned).
for args in "--coordinator bogus://x" "--run-as nosuchuser" "--runner $T/nonexistent" \
    "--python $T/nonexistent" "--python $T"; do
    # shellcheck disable=SC2086 # the words of $args are options
    st=0; msg=$(timeout 10 "$AGENT_BIN" --coordinator tcp://127.0.0.1:1 --workspace "$T" \
        --spool "$T/spool-bad" $args 2>&1) || st=$?
    expect_eq "$args exits 2" "2" "$st"
done
expect_match "--python directory said" "--python \"$T\": a directory: every job would fail" "$msg"
# A program that is not Python, named as the agent's python (either way) or in its pythons list,
# exits 2 naming the supported versions, before the spool is made: it only warned "could not
# ask ... for its version", and every job that asked for no Python was refused.
printf '[agent]\npython = /bin/true\n' >"$T/notpy.conf"
for args in "--python /bin/true" "--config $T/notpy.conf" "--pythons /bin/false"; do
    # shellcheck disable=SC2086 # the words of $args are options
    st=0; msg=$(timeout 30 "$AGENT_BIN" --coordinator tcp://127.0.0.1:1 --workspace "$T" \
        --spool "$T/spool-notpy" $args 2>&1) || st=$?
    expect_eq "$args exits 2" "2" "$st"
    expect_match "$args said" "python \"/bin/(true|false)\" \(pythons? =, or --pythons?\) is not a working Python interpreter: asked for its version, it (gave no answer|failed); give the path of one pyscope-run profiles \(CPython 3.10, 3.11, 3.12 and 3.13\)" "$msg"
done
expect_eq "no spool made for a python that is not Python" "no" \
    "$([ -e "$T/spool-notpy" ] && echo yes || echo no)"
mkdir -p "$T/etc"
st=0; msg=$(timeout 10 "$AGENT_BIN" --config "$T/etc" --coordinator tcp://127.0.0.1:1 \
    --workspace "$T" --spool "$T/spool-etc" 2>&1) || st=$?
expect_eq "config directory" "2" "$st"
expect_match "config directory message" "is a directory: give the config file, e.g. $T/etc/agent.conf" "$msg"

# The documented example loads; with no coordinator the agent waits, then stops on SIGTERM.
ws=$T/ws
mkdir -p "$ws"
"$AGENT_BIN" --config "$PYSCOPE_SRC/deploy/agent.conf.example" --workspace "$ws" \
    --spool "$T/spool-x" --coordinator "$COORD_URL" >"$T/x.log" 2>&1 &
pid=$!
farm_wait 10 'grep -q "started" "$T/x.log"' && ok "example config loads" ||
    fail "example config loads" "$(cat "$T/x.log")"
sleep 1
kill -TERM "$pid"
st=0; wait "$pid" || st=$?
expect_eq "stops without ever connecting" "0" "$st"
expect_match "the example's memory limit logged" "jobs run as .*memory limit 2 GiB" "$(cat "$T/x.log")"
# --memory-limit 0 means no limit: said in --help, and the agent says it sets none
# (stranger19's minor 17: accepted, its meaning undocumented)
expect_match "--help: --memory-limit 0 is no limit" "--memory-limit SIZE .*0: no limit" \
    "$("$AGENT_BIN" --help)"
# (Its PATH has a python3 that is no Python: one the agent found by itself is left out, said
# as information, and the agent starts; a path in pythons = missing on this host only warns.
# Its pyenv has one that is no Python and a CPython 3.9 stand-in: each line says where the
# agent found it, never "--python", which is pyscope-run's option, not the agent's.)
mkdir -p "$T/fakepy" "$T/pyenv/versions/bogus/bin" "$T/pyenv/versions/3.9.18/bin"
printf '#!/bin/sh\nexit 0\n' >"$T/fakepy/python3"
chmod +x "$T/fakepy/python3"
cp "$T/fakepy/python3" "$T/pyenv/versions/bogus/bin/python3"
cat >"$T/pyenv/versions/3.9.18/bin/python3" <<'SH'
#!/bin/sh
printf 'cpython\n3\n9\n18\n\n%s\n/prefix\n3.9.18 (stand-in)\n' "$0"
SH
chmod +x "$T/pyenv/versions/3.9.18/bin/python3"
PATH="$T/fakepy:$PATH" PYENV_ROOT="$T/pyenv" "$AGENT_BIN" --workspace "$ws" --spool "$T/spool-m0" \
    --coordinator "$COORD_URL" --memory-limit 0 --pythons "$T/nonexistent" >"$T/m0.log" 2>&1 &
pid=$!
farm_wait 10 'grep -q "started" "$T/m0.log"' || fail "--memory-limit 0 starts" "$(cat "$T/m0.log")"
kill -TERM "$pid"
wait "$pid" || true
expect_match "--memory-limit 0: no memory limit logged" "jobs run as .*no memory limit" "$(cat "$T/m0.log")"
expect_match "a python3 on PATH that is no Python: left out, as information" \
    "info: python python3 \(found on PATH\): not used: \"$T/fakepy/python3\" is not a working Python interpreter" \
    "$(cat "$T/m0.log")"
expect_match "a pythons = path missing here: a warning" \
    "warning: python $T/nonexistent \(pythons =\): not used: \"$T/nonexistent\": No such file" \
    "$(cat "$T/m0.log")"
for v in bogus 3.9.18; do
    py="$T/pyenv/versions/$v/bin/python3"
    case $v in
    bogus) why="\"$py\" is not a working Python interpreter: asked for its version, it gave no answer;" ;;
    *) why="CPython 3.9.18 \(\"$py\"\) is not supported:" ;;
    esac
    expect_match "pyenv's $v: said found by pyenv, with no pyscope-run advice" \
        "info: python $py \(pyenv\): not used: $why pyscope-run profiles CPython [0-9., and]+$" \
        "$(cat "$T/m0.log")"
done
expect_nomatch "no start-up line says --python of a Python the agent found" "--python|--venv" \
    "$(cat "$T/m0.log")"

# Results spooled while the coordinator was away are sent when it comes.
farm_pg_start
farm_coord_start
cat >"$ws/a.py" <<'PY'
import time
time.sleep(1.5)  # long enough to stop the coordinator before its result is acked
PY
printf '[script a.py]\n[script b.py]\n' >"$T/suite.ini"
farm_agent_start a1 "$ws"
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' || fail "agent registered" "no welcome"
farm_cli submit "$T/suite.ini" >/dev/null
farm_wait 30 'grep -q "running \"a.py\"" "$T/agent-a1.log"' || fail "a.py started" "no"
kill -STOP "$COORD_PID" # the coordinator hangs: no acks, no heartbeats answered
farm_wait 30 '[ "$(find "$T/spool-a1" -name "*.result" | wc -l)" -ge 1 ]' && ok "results spooled" ||
    fail "results spooled" "$(ls "$T/spool-a1")"
farm_wait 15 'grep -q "lost the coordinator" "$T/agent-a1.log"' && ok "dead coordinator noticed" ||
    fail "dead coordinator noticed" "$(tail -5 "$T/agent-a1.log")"
kill -KILL "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
farm_coord_start
farm_wait 30 '[ "$(pg_sql "SELECT count(*) FROM runs")" = 2 ]' && ok "spooled results stored" ||
    { fail "spooled results stored" "$(pg_sql 'SELECT count(*) FROM runs')"; farm_logs; }
farm_wait 10 '[ "$(find "$T/spool-a1" -name "*.result" | wc -l)" = 0 ]' && ok "spool drained" ||
    fail "spool drained" "$(ls "$T/spool-a1")"
expect_eq "b.py refused" "refused" "$(pg_sql "SELECT r.outcome FROM runs r JOIN scripts s
    ON s.id = r.script_id WHERE s.key = 'b.py'")"
kill -TERM "${AGENT_PID[a1]}"
wait "${AGENT_PID[a1]}" || true
finish
