#!/usr/bin/env bash
# test_agent_refuse.sh - paths that lead outside the workspace never run: '../' and
# absolute paths are refused by pyscope submit (and by the wire layer on both ends);
# symlinks out of the workspace, missing files and folders come back from the agent
# as refused results, and nothing outside the workspace is opened.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
out=$T/outside
mkdir -p "$ws/sub" "$ws/dir.py" "$out"
# Running this would leave a trace outside.
cat >"$out/secret.py" <<PY
open("$out/ran", "w").write("ran")
PY
# A FIFO: anything that opened it for reading would block until a writer came.
mkfifo "$out/fifo"
ln -s "$out/fifo" "$ws/evil.py"
ln -s "$out" "$ws/esc"
ln -s "../../outside/secret.py" "$ws/sub/rel.py"
ln -s "$ws/ok.py" "$ws/inside-link.py" # a symlink that stays inside is fine
cat >"$ws/ok.py" <<'PY'
print("fine")
PY

# 1. The CLI refuses '../' and absolute paths before sending anything.
for bad in "../outside/secret.py" "/etc/passwd" "sub/../../outside/secret.py"; do
    printf '[script %s]\n' "$bad" >"$T/bad.ini"
    st=0
    msg=$(farm_cli submit "$T/bad.ini" 2>&1) || st=$?
    expect_eq "submit refuses $bad" "2" "$st"
    expect_match "message for $bad" "bad.ini:1: script path" "$msg"
done

farm_agent_start a1 "$ws"
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' || fail "agent registered" "no welcome"
expect_eq "nothing was submitted" "0" "$(pg_sql 'SELECT count(*) FROM batches')"

# 2. What passes the lexical checks is checked again by the agent on disk.
cat >"$T/suite.ini" <<'INI'
[suite]
name = refuse
timeout = 10
[script evil.py]
[script esc/secret.py]
[script sub/rel.py]
[script missing.py]
[script dir.py]
[script inside-link.py]
[script ok.py]
INI
res=$(farm_cli submit "$T/suite.ini" --json)
expect_match "submitted" '"jobs": 7' "$res"
farm_wait 60 '[ "$(pg_sql "SELECT count(*) FROM runs")" = 7 ]' ||
    { fail "all results" "$(pg_sql 'SELECT count(*) FROM runs')"; farm_logs; }
row() {
    pg_sql "SELECT r.outcome || ' ' || r.message FROM runs r JOIN scripts s
            ON s.id = r.script_id WHERE s.key = '$1'"
}
expect_match "symlink to a fifo outside" "^refused .*outside" "$(row evil.py)"
expect_match "symlinked folder outside" "^refused .*outside" "$(row esc/secret.py)"
expect_match "relative symlink outside" "^refused .*outside" "$(row sub/rel.py)"
expect_match "missing file" "^refused " "$(row missing.py)"
expect_match "a folder" "^refused .*not a regular file" "$(row dir.py)"
expect_match "symlink inside is fine" "^ok " "$(row inside-link.py)"
expect_match "plain script" "^ok " "$(row ok.py)"
expect_eq "refused results have no runs" "{}" "$(pg_sql "SELECT r.wall_s FROM runs r
    JOIN scripts s ON s.id = r.script_id WHERE s.key = 'evil.py'")"

# 3. Nothing outside was opened or run.
[ ! -e "$out/ran" ] && ok "secret.py never ran" || fail "secret.py never ran" "it ran"
st=$("$PY" -c '
import errno, os, sys
try:
    os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
    print("reader")
except OSError as e:
    print("noreader" if e.errno == errno.ENXIO else e)' "$out/fifo")
expect_eq "nobody holds the fifo open" "noreader" "$st"
if kill -0 "${AGENT_PID[a1]}" 2>/dev/null; then ok "agent alive"; else fail "agent alive" "dead"; fi
expect_match "agent logged the refusals" "refused: .*outside" "$(cat "$T/agent-a1.log")"
finish
