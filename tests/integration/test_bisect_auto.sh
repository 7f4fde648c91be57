#!/usr/bin/env bash
# test_bisect_auto.sh - auto_bisect = on (docs/revisions.md, coordinator/bisection.c): six
# seeded nights (tests/integration/team_seed.sql, 30% slower on night 6 on host-b, confirmed
# by team_confirm.sql), night n at commit c(2n) of a described linear history. With
# auto_bisect on, the coordinator starts a bisection of the confirmed regression's range
# (c10 .. c12: two commits) on its host, with the regression's script, and queues its first
# step (an A/B try batch of c12 against c10 on host-b, base and head in turns); the team
# report (JSON and HTML) shows it beside the regression. A regression whose range holds one
# commit is not bisected, said. With auto_bisect off (the default) nothing starts.
# pyscope bisect --cancel stops a bisection (its queued turns withdrawn), for good: a
# restart does not bring it back; a second cancel or an unknown id is exit 2, said.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

pg_start
coord_start
team_six_nights
h() { printf '%040x' "$1"; } # commit number -> a 40-hex hash
pg_sql "INSERT INTO commits (hash, parents, generation, subject, author, authored)
        SELECT lpad(to_hex(i), 40, '0'),
               CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY[lpad(to_hex(i - 1), 40, '0')] END,
               i, 'Commit number ' || i, 'Ada Lovelace <ada@example.org>',
               '2026-11-01T00:00:00Z'::timestamptz + i * interval '1 day'
        FROM generate_series(1, 12) i" >/dev/null
pg_sql "UPDATE batches SET commit_hash = lpad(to_hex(2 * id), 40, '0')" >/dev/null
pg_sql "UPDATE jobs j SET commit_hash = b.commit_hash FROM batches b WHERE b.id = j.batch_id" >/dev/null
nreg=$(pg_sql "SELECT count(*) FROM regressions WHERE kind = 'regression' AND function_key = '' AND metric IN ('wall_s', 'cpu_s') AND confirmation ? 'method'")
[ "$nreg" -ge 1 ] || fail "a confirmed whole-run regression was seeded" "$(pg_sql "SELECT id, metric, kind, state, confirmation FROM regressions")"
sleep 1
expect_eq "auto_bisect off (the default): no bisection" 0 "$(pg_sql "SELECT count(*) FROM bisections")"

coord_stop
cat >"$T/coord.conf" <<'CONF'
[coordinator]
reap_interval_ms = 200
auto_bisect = on
bisect_rounds = 2
CONF
coord_start --config "$T/coord.conf"
# (waits of up to 60 s: an ASan coordinator on a loaded CI machine; under a second idle)
for _ in $(seq 600); do
    [ "$(pg_sql "SELECT count(*) FROM bisection_steps")" -ge 1 ] && break
    sleep 0.1
done
REG=$(pg_sql "SELECT min(regression_id) FROM bisections")
expect_eq "a bisection per confirmed regression, from its range, on its host" \
    "auto|running|$(h 10)|$(h 12)|host-b|3" \
    "$(pg_sql "SELECT b.origin || '|' || b.state || '|' || b.good || '|' || b.bad || '|' || h.hostname || '|' || cardinality(b.chain) FROM bisections b JOIN hosts h ON h.id = b.host_id WHERE b.regression_id = $REG")"
expect_eq "its first step: the ends, c12 against c10, on host-b, in counterbalanced turns" \
    "ends|$(h 12)|$(h 10)|try_base,try_head,try_head,try_base" \
    "$(pg_sql "SELECT st.phase || '|' || bt.commit_hash || '|' || bt.try_base || '|' || (SELECT string_agg(j.purpose, ',' ORDER BY j.id) FROM jobs j JOIN hosts h ON h.id = j.host_id WHERE j.batch_id = bt.id AND h.hostname = 'host-b') FROM bisection_steps st JOIN batches bt ON bt.id = st.batches[1] WHERE st.bisection_id = (SELECT id FROM bisections WHERE regression_id = $REG)")"
expect_eq "the step runs the regression's script" "examples/a.py" \
    "$(pg_sql "SELECT DISTINCT s.key FROM bisection_steps st JOIN jobs j ON j.batch_id = st.batches[1] JOIN scripts s ON s.id = j.script_id")"

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
capture "$CLI" report --batch 6 --json
expect_eq "report JSON: the regression's bisection" "running" \
    "$(echo "$OUT" | json_get "[g for g in d['report']['regressions'] if g['id'] == $REG][0]['bisection']['state']")"
"$CLI" report --batch 6 --out "$T/report.html" >/dev/null
expect_match "report HTML: the bisection beside the regression" "bisection: running" "$(cat "$T/report.html")"
capture "$CLI" report --batch 6 --text
expect_match "report text: the bisection beside the regression, steps and runs used" \
    "^examples/a.py [a-z]+ [0-9.]+% [^~]* on host-b[^~]*metrics? flagged[^~]*\\(id [0-9]+\\)\\.~    last good: [^~]*~    first bad: [^~]*~[^~]*~    bisection [0-9]+: running after 0 steps, 0 runs~      so far: last good $(h 10 | cut -c1-12) \"Commit number 10\".*, first bad $(h 12 | cut -c1-12) \"Commit number 12\".* \\(2 commits\\)~" \
    "$(echo "$OUT" | grep -A5 "^examples/a.py .* on host-b" | tr '\n' '~')"
capture "$CLI" history examples/a.py --host host-b
expect_match "history text: the bisection beside the stored regression" \
    "^    bisection [0-9]+: running after 0 steps, 0 runs" "$OUT"
capture "$CLI" bisect --id "$(pg_sql "SELECT id FROM bisections WHERE regression_id = $REG")" --no-wait --json
expect_eq "pyscope bisect --id: an automatic bisection, still running" "auto running 2" \
    "$(echo "$OUT" | json_get "d['bisect']['origin'] + ' ' + d['bisect']['state'] + ' ' + str(d['bisect']['commits'])")"

# --cancel: the bisection stops, its queued step turns are withdrawn, said with who and when;
# it stays cancelled over a restart (no step queued after it); twice, or an unknown id: exit 2
BIS=$(pg_sql "SELECT id FROM bisections WHERE regression_id = $REG")
STEPB=$(pg_sql "SELECT batches[1] FROM bisection_steps WHERE bisection_id = $BIS")
capture "$CLI" bisect --cancel "$BIS"
expect_eq "--cancel: exit 0" 0 "$RC"
expect_match "--cancel: says who and when, and what was withdrawn" \
    "result: cancelled: cancelled by [^ ]+@[^ ]+ \\(no key\\) at 20[0-9T:.-]+Z \\(4 queued turns withdrawn\\)" "$OUT"
expect_eq "cancelled; its queued turns withdrawn, its step batch closed" \
    "cancelled|end|4|withdrawn: bisection $BIS was cancelled|done" \
    "$(pg_sql "SELECT b.state || '|' || b.phase || '|' || (SELECT count(*) FROM jobs WHERE batch_id = $STEPB AND state = 'failed') || '|' || (SELECT min(end_reason) FROM jobs WHERE batch_id = $STEPB) || '|' || (SELECT state FROM batches WHERE id = $STEPB) FROM bisections b WHERE b.id = $BIS")"
capture "$CLI" report --batch 6 --json
expect_eq "report JSON: the bisection is cancelled" "cancelled" \
    "$(echo "$OUT" | json_get "[g for g in d['report']['regressions'] if g['id'] == $REG][0]['bisection']['state']")"
capture "$CLI" report --batch 6 --text
expect_match "report text: cancelled, by whom, narrowed to what" \
    "bisection $BIS: cancelled after 0 steps, 0 runs: cancelled by [^ ]+@[^~]*~      narrowed to: last good $(h 10 | cut -c1-12)" \
    "$(echo "$OUT" | tr '\n' '~')"
coord_stop
coord_start --config "$T/coord.conf"
sleep 1
capture "$CLI" bisect --id "$BIS" --json
expect_eq "after a restart: still cancelled (exit 1: nothing named), no step queued, not restarted" \
    "1 cancelled 1 1 0" \
    "$RC $(echo "$OUT" | json_get "d['bisect']['state'] + ' ' + str(len(d['bisect']['steps']))") $(pg_sql "SELECT count(*) FROM bisections WHERE regression_id = $REG") $(pg_sql "SELECT count(*) FROM jobs WHERE batch_id = $STEPB AND state <> 'failed'")"
capture "$CLI" bisect --cancel "$BIS"
expect_eq "a second cancel: exit 2" 2 "$RC"
expect_match "a second cancel: says it already ended, and how" "bisection $BIS already ended \\(cancelled at .*cancelled by" "$OUT"
capture "$CLI" bisect --cancel 999
expect_eq "cancel of an unknown id: exit 2" 2 "$RC"
expect_match "cancel of an unknown id: said" "no bisection has that id" "$OUT"
capture "$CLI" bisect --cancel 3 --host x
expect_eq "--cancel with --host: usage error" 2 "$RC"

# a range of one commit: nothing to bisect, said
pg_sql "UPDATE batches SET commit_hash = lpad(to_hex(11), 40, '0') WHERE id = 5" >/dev/null
pg_sql "UPDATE jobs j SET commit_hash = b.commit_hash FROM batches b WHERE b.id = j.batch_id" >/dev/null
pg_sql "DELETE FROM bisection_steps" >/dev/null
pg_sql "DELETE FROM bisections" >/dev/null
for _ in $(seq 600); do
    [ "$(pg_sql "SELECT count(*) FROM bisections")" -ge 1 ] && break
    sleep 0.1
done
expect_match "a one-commit range: not bisected, said" "^not_bisected\|the range holds one commit" \
    "$(pg_sql "SELECT state || '|' || message FROM bisections WHERE regression_id = $REG")"
grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
