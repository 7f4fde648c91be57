#!/usr/bin/env bash
# test_instr_farm_threads.sh - issue 11 on the farm: the instruction counts of a script that
# runs several Python threads are not exact (which thread holds the GIL when depends on
# timing, so on the machine's load: tests/integration/test_instr_threads.sh has the local
# side), and the farm judges them as pyscope run --instructions does. Real PostgreSQL,
# coordinator and agent, real valgrind. The agent sends the run document's
# instructions.python_threads (Result.python_threads), the coordinator stores it
# (runs.python_threads, schema/031_python_threads.sql) and the run documents the try, the
# bisection and the nightly analysis decide on say "exact": false
# (coordinator/store.h STORE_INSTRUCTIONS_JSON). A try of the same threaded code at two
# revisions is then never decided by the exact rule (however equal its counts came out) and
# its reason says why; a single-threaded script beside it stays exact.
# Valgrind makes each run ~25-50x slower: the scripts are small, 2 rounds of 1 repeat.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

command -v valgrind >/dev/null || skip "no valgrind (apt-get install valgrind)"
[ "$FARM_ASAN" = 0 ] || skip "pyscope-run under ASan cannot run valgrind"

REPO=$T/repo
scratch_repo "$REPO"
mkdir -p bench
# four threads take numbers from a queue the main thread fills (the local test's script, at
# its default size: interpreter start-up is most of a counted run's time)
cp "$PYSCOPE_SRC/tests/data/scripts/queue_pool.py" bench/pool.py
cat >bench/single.py <<'PY'
total = 0
for i in range(5000):
    total = (total * 31 + i) % 1000003
print(total)
PY
git add bench
git commit -qm "pool and single"
K1=$(git rev-parse HEAD)
echo "# a comment" >>bench/pool.py
echo "# a comment" >>bench/single.py
git commit -qam "a comment"
K2=$(git rev-parse HEAD)
cd "$T"

farm_pg_start
farm_coord_start
# two jobs at once: the turns run side by side (what the load does to the counts is the point)
"$AGENT_BIN" --coordinator "$COORD_URL" --name thr --spool "$T/spool-thr" --repo "$REPO" \
    --revisions "$T/rev-thr" --max-jobs 2 "${FARM_AGENT_DEFAULTS[@]}" >>"$T/agent-thr.log" 2>&1 &
FARM_PIDS+=("$!")
farm_wait 30 "[ \"\$(pg_sql 'SELECT count(*) FROM hosts' 2>/dev/null)\" = 1 ]" ||
    fail "the agent registered" "$(farm_logs)"

printf '[suite]\nname = tryt\nthreshold = 1%%\n\n[script bench/pool.py]\n\n[script bench/single.py]\n' \
    >"$T/try.ini"
start=$SECONDS
RC=0
(cd "$REPO" && farm_cli try "$T/try.ini" --base "$K1" --head "$K2" --rounds 2 --repeat 1 --instructions \
    --json -q) >"$T/try.json" 2>"$T/try.err" || RC=$?
echo "# try: $((SECONDS - start)) s, rc $RC"
[ -s "$T/try.json" ] || fail "the try answered" "$(tail -5 "$T/try.err"; farm_logs)"

# the agent sent how many Python threads each counted run had; the coordinator stored it
expect_eq "runs.python_threads: the threaded script's runs had its 5 threads, the other 1" \
    "bench/pool.py|5|true bench/single.py|1|true" \
    "$(pg_sql "SELECT s.key || '|' || min(r.python_threads) || '|' || bool_and(r.instructions IS NOT NULL) FROM runs r JOIN scripts s ON s.id = r.script_id WHERE r.outcome = 'ok' GROUP BY s.key ORDER BY s.key" | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"

# instr SCRIPT: the try's instructions verdict of SCRIPT: "rule|reason"
instr() {
    "$PY" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["script"] == sys.argv[2]:
        m = [x for x in r["regression"]["metrics"] if x["metric"] == "instructions" and not x.get("function")][0]
        print(m["rule"] + "|" + m["reason"])' "$T/try.json" "$1" 2>&1
}
THREADS="the script ran several Python threads, whose counts vary with the machine's load, so the exact rule does not apply"
pool=$(instr bench/pool.py)
echo "# pool.py: $pool"
expect_nomatch "the threaded script's counts are never judged by the exact rule" \
    '^deterministic\|' "$pool"
expect_match "... and the try says why" "^[a-z_]+\|$THREADS: compared with the [a-z]+ rule; " \
    "$pool"
expect_match "the single-threaded script's counts stay exact: no change, by the exact rule" \
    '^within_threshold\|.*\(exact samples\)$' "$(instr bench/single.py)"
expect_eq "the single-threaded script's reason does not mention threads" 0 \
    "$(instr bench/single.py | grep -c 'Python threads' || true)"

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
