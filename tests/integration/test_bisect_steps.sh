#!/usr/bin/env bash
# test_bisect_steps.sh - how the coordinator's bisection (coordinator/bisection.c) moves
# from step to step and when it names a culprit, on seeded turns: real PostgreSQL and
# coordinator; the test plays the host, storing each queued turn's run straight into
# PostgreSQL (tests/integration/bisect_runs.sql: 1.6 s from the culprit on, 1.0 s before),
# so that every verdict is known in advance and the search itself is what is tested.
#
# Ranges of 1, 2 and 3 commits, with the culprit at every position: the culprit is named,
# with as evidence an A/B of it against its own parent; no two steps compare the same two
# commits (a culprit whose parent is the good end was measured against it by the ends or
# by the step that found it bad: no confirmation of the same pair again), at most
# ceil(log2 N) halving steps. Halving steps the noise leaves open are decided by the end
# they resemble (lib/abtest abtest_nearer_end). A noisy parent: the confirmation names the
# culprit once its pairs show the regression; a culprit that resembles the good end in
# its confirmation is rejected (inconclusive, said, nothing named).
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

CLI="$PYSCOPE_BUILD/cli/pyscope"
pg_start
cat >"$T/coord.conf" <<'CONF'
[coordinator]
reap_interval_ms = 100
CONF
coord_start --config "$T/coord.conf"
export PYSCOPE_COORDINATOR="$COORD_EP"
psql -q -v ON_ERROR_STOP=1 -f "$PYSCOPE_SRC/tests/integration/team_hosts.sql" >/dev/null
pg_sql "INSERT INTO scripts (key) VALUES ('examples/a.py');
        INSERT INTO functions (key) VALUES ('examples/a.py:slow:3'), ('examples/a.py:fast:10');
        INSERT INTO commits (hash, parents, generation, subject, author, authored)
        SELECT lpad(to_hex(i), 40, '0'),
               CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY[lpad(to_hex(i - 1), 40, '0')] END,
               i, 'Commit number ' || i, 'Ada Lovelace <ada@example.org>',
               '2026-11-01T00:00:00Z'::timestamptz + i * interval '1 day'
        FROM generate_series(1, 8) i" >/dev/null
h() { printf '%040x' "$1"; } # commit number -> its 40-hex hash

# bisect N CULPRIT MODE: bisect c1 (good) .. c(N+1) (bad) on host-b, commit number CULPRIT
# making it slower, answering every turn as MODE says; prints the bisection's id
bisect() {
    local n=$1 culprit=$2 mode=$3 id i
    id=$(pg_sql "INSERT INTO bisections (origin, script_id, host_id, entry, good, bad, chain, lo, hi,
                     rounds, max_runs, deadline)
                 SELECT 'cli', s.id, h.id, '{\"script\": \"examples/a.py\", \"args\": [], \"repeat\": 5,
                     \"warmup\": 0, \"mode\": \"sample\", \"timeout_s\": 60, \"threshold\": 0,
                     \"env\": [], \"python\": \"\"}', '$(h 1)', '$(h $((n + 1)))',
                     ARRAY(SELECT lpad(to_hex(i), 40, '0') FROM generate_series(1, $((n + 1))) i),
                     1, $((n + 1)), 5, 1000, now() + interval '1 hour'
                 FROM scripts s, hosts h WHERE s.key = 'examples/a.py' AND h.hostname = 'host-b'
                 RETURNING id")
    for i in $(seq 300); do
        [ "$(pg_sql "SELECT state FROM bisections WHERE id = $id")" = running ] || break
        psql -q -v ON_ERROR_STOP=1 -v bis="$id" -v culprit="$culprit" -v mode="$mode" \
            -f "$PYSCOPE_SRC/tests/integration/bisect_runs.sql" >/dev/null
        sleep 0.1
    done
    echo "$id"
}
# steps ID: "phase:position:against outcome" of each step of bisection ID, in order
steps() {
    pg_sql "SELECT string_agg(phase || ':' || pos || ':' || against_pos || ' ' || outcome, ', '
            ORDER BY n) FROM bisection_steps WHERE bisection_id = $1"
}

# every culprit of ranges of 1, 2 and 3 commits: named, evidence against its own parent,
# no A/B of the same two commits twice, at most ceil(log2 N) halving steps
for n in 1 2 3; do
    for c in $(seq 2 $((n + 1))); do
        id=$(bisect "$n" "$c" clean)
        what="range of $n commit(s), culprit c$c (steps $(steps "$id"))"
        capture "$CLI" bisect --id "$id" --json
        expect_eq "$what: found, exit 0" "0 found $(h "$c")" \
            "$RC $(echo "$OUT" | json_get "d['bisect']['state'] + ' ' + (d['bisect']['culprit'] or {}).get('hash', '-')")"
        expect_eq "$what: the evidence is an A/B of the culprit against its parent, a regression" \
            "1 regression" \
            "$(pg_sql "SELECT count(*) FROM bisection_steps WHERE bisection_id = $id AND pos = $c AND against_pos = $((c - 1)) AND outcome = 'bad'") $(echo "$OUT" | json_get "d['bisect']['evidence']['decision']['verdict']")"
        expect_eq "$what: no two steps compare the same two commits" 0 \
            "$(pg_sql "SELECT count(*) FROM (SELECT pos, against_pos FROM bisection_steps WHERE bisection_id = $id GROUP BY 1, 2 HAVING count(*) > 1) x")"
        expect_eq "$what: at most ceil(log2 $n) halving steps" t \
            "$(pg_sql "SELECT count(*) FILTER (WHERE phase = 'step') <= ceil(log(2, $n)) FROM bisection_steps WHERE bisection_id = $id")"
    done
done
id=$(bisect 1 2 clean)
expect_eq "a range of one commit: the ends are the whole search (bad against its parent, good)" \
    "ends:2:1 bad" "$(steps "$id")"
expect_match "a range of one commit: named from the ends' A/B, said" \
    "^found\|$(h 2 | cut -c1-12) is [+]6[0-9.]+% against its parent $(h 1 | cut -c1-12) \\(the good end\\), measured by step 1$" \
    "$(pg_sql "SELECT state || '|' || message FROM bisections WHERE id = $id")"
id=$(bisect 3 2 clean)
expect_eq "the first commit of three: named from the halving step that found it bad" \
    "ends:4:1 bad, step:2:1 bad" "$(steps "$id")"
id=$(bisect 3 4 clean)
expect_eq "the last commit of three: confirmed against its parent" \
    "ends:4:1 bad, step:2:1 good, step:3:1 good, confirm:4:3 bad" "$(steps "$id")"

# halving steps inside the noise (a noisy good end), the decision's metric deciding: each
# open on its own, decided by the end it resembles after two try batches
id=$(bisect 3 4 halving)
expect_eq "halving steps inside the noise floor: decided by the nearer end" \
    "ends:4:1 bad, step:2:1 good, step:3:1 good, confirm:4:3 bad" "$(steps "$id")"
expect_eq "halving steps inside the noise: open verdicts, two try batches each" \
    "inconclusive:2 inconclusive:2" \
    "$(pg_sql "SELECT string_agg(verdict || ':' || cardinality(batches), ' ' ORDER BY n) FROM bisection_steps WHERE bisection_id = $id AND phase = 'step'")"
expect_eq "halving steps inside the noise floor: the culprit named" "found $(h 4)" \
    "$(pg_sql "SELECT state || ' ' || culprit FROM bisections WHERE id = $id")"

# the confirmation inside the noise floor, nearer the bad end: named
id=$(bisect 3 3 near)
expect_eq "confirmation inside the noise floor: the steps" \
    "ends:4:1 bad, step:2:1 good, step:3:1 bad, confirm:3:2 bad" "$(steps "$id")"
expect_eq "confirmation of a noisy parent: a regression of the pairs" \
    "regression significant" \
    "$(pg_sql "SELECT verdict || ' ' || (result->'decision'->>'rule') FROM bisection_steps WHERE bisection_id = $id AND phase = 'confirm'")"
capture "$CLI" bisect --id "$id"
expect_eq "a noisy parent: found, exit 0" 0 "$RC"
expect_match "a noisy parent: the culprit named, with its change" \
    "result: found: $(h 3 | cut -c1-12) is [+][56][0-9.]+% against its parent $(h 2 | cut -c1-12)" \
    "$OUT"
expect_match "a noisy parent: the culprit and its evidence printed" \
    "culprit $(h 3) .*evidence \\(the culprit against its parent\\)" "$(echo "$OUT" | tr '\n' ' ')"

# ... nearer the good end: rejected, nothing named
id=$(bisect 3 3 reject)
expect_eq "confirmation nearer the good end: the step says good" \
    "ends:4:1 bad, step:2:1 good, step:3:1 bad, confirm:3:2 good" "$(steps "$id")"
capture "$CLI" bisect --id "$id" --json
expect_eq "nearer the good end: inconclusive, no culprit, exit 1" "1 inconclusive None None" \
    "$RC $(echo "$OUT" | json_get "d['bisect']['state'] + ' ' + str(d['bisect']['culprit']) + ' ' + str(d['bisect']['evidence'])")"
expect_match "nearer the good end: rejected, said" \
    "the steps point at $(h 3 | cut -c1-12) but against its parent $(h 2 | cut -c1-12) it resembles the good end: [+-][0-9.]+%, open on its own, but (its interval [+-][0-9.]+% \\.\\. [+-][0-9.]+% lies wholly below half the ends' change \\([+][0-9.]+%, interval [^)]*\\)|its [+-][0-9.]+% over [0-9]+ pairs \\(interval [^)]*\\) is at least [0-9.e+]+ times likelier if the commit made no change than if it made the ends' change \\([^)]*\\)) \\([0-9]+ rounds pooled\\); rejected, not named" \
    "$(echo "$OUT" | json_get "d['bisect']['message']")"

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
