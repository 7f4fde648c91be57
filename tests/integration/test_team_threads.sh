#!/usr/bin/env bash
# test_team_threads.sh - the nightly analysis judges a threaded script's instruction counts
# as pyscope run --instructions does (issue 11), on seeded nights (tests/integration/
# team_counts.sql). Every night counts each repeat of every script: equal counts on both
# hosts; on host-a examples/a.py ran one Python thread, on host-b five
# (runs.python_threads, schema/031_python_threads.sql). Night 4 counts 20% more for a.py on
# both hosts, its times unchanged. On host-a the finding is the exact rule's
# ("deterministic"); on host-b, the same counts of a threaded script are never judged
# exact: another rule decides, its reason says why, and the team report says it.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

# night FILE N MORE: seed night N (team_seed.sql) or its confirmation runs (team_confirm.sql),
# counted (team_counts.sql), in one transaction: the analysis sees them whole
night() {
    psql -q -1 -v ON_ERROR_STOP=1 -v night="$2" -v slow_night=0 -v slow=0 -v more="$3" \
        -f "$PYSCOPE_SRC/tests/integration/$1" \
        -f "$PYSCOPE_SRC/tests/integration/team_counts.sql" >/dev/null
}
pg_start
coord_start
for n in 1 2 3; do night team_seed.sql "$n" 0; done
expect_eq "equal nights: nothing queued" 0 "$(team_settled)"
night team_seed.sql 4 20
if [ "$(team_settled)" != 0 ]; then
    night team_confirm.sql 4 20
    team_settled >/dev/null
fi
expect_eq "night 4: the runs say how many threads ran" "host-a 1,host-b 5" \
    "$(pg_sql "SELECT string_agg(DISTINCT h.hostname || ' ' || r.python_threads, ',') FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.batch_id = 4")"
q() { pg_sql "SELECT $1 FROM regressions g JOIN hosts h ON h.id = g.host_id JOIN scripts s ON s.id = g.script_id WHERE g.metric = 'instructions' AND g.function_key = '' AND s.key = 'examples/a.py' AND h.hostname = '$2'"; }
expect_eq "host-a (one thread): an instructions regression by the exact rule" \
    "regression deterministic" "$(q "g.kind || ' ' || (g.detail->>'rule')" host-a)"
rule_b=$(q "g.detail->>'rule'" host-b)
echo "# host-b: $rule_b: $(q "g.detail->>'reason'" host-b)"
expect_nomatch "host-b (five threads): the same counts, never the exact rule" \
    '^(deterministic)?$' "$rule_b"
THREADS="the script ran several Python threads, whose counts vary with the machine's load, so the exact rule does not apply"
expect_match "host-b: its reason says why" "^$THREADS: " "$(q "g.detail->>'reason'" host-b)"
expect_eq "host-a's reason does not mention threads" 0 \
    "$(q "g.detail->>'reason'" host-a | grep -c 'Python threads' || true)"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 4 --out "$T/r4.html"
expect_eq "the HTML report exits 0" 0 "$RC"
expect_match "the team report says why, beside host-b's instructions verdict" \
    "the script ran several Python threads, whose counts vary with the machine(&#39;|')s load" \
    "$(cat "$T/r4.html")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
