#!/usr/bin/env bash
# test_revisions_range.sh - a regression names its range of commits (docs/revisions.md):
# six seeded nights (tests/integration/team_seed.sql, 30% slower on night 6 on host-b),
# each night at the head of a described history; the team report (JSON and HTML) and
# pyscope history show the last good and the first bad commit (hash, subject, author,
# date) and how many commits lie between, a side branch merged in (forked before the
# last good night) counted too; a rewritten history (force-push) and commits nobody
# described are said, not guessed.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

pg_start
coord_start
team_six_nights

# History: c01 - c02 - ... - c11 - m12 (merge of c11 and s09 - s10, forked at c08);
# night n ran c(2n) (night 6: m12). Night 5 = c10, so night 6's range is
# m12, c11, s10, s09: 4 commits.
h() { printf '%040x' "$1"; }           # commit number -> a 40-hex hash
hs() { printf 'ab%038x' "$1"; }        # side-branch commit
pg_sql "INSERT INTO commits (hash, parents, generation, subject, author, authored)
        SELECT lpad(to_hex(i), 40, '0'),
               CASE WHEN i = 1 THEN '{}'::text[] ELSE ARRAY[lpad(to_hex(i - 1), 40, '0')] END,
               i, 'Commit number ' || i, 'Ada Lovelace <ada@example.org>',
               '2026-11-01T00:00:00Z'::timestamptz + i * interval '1 day'
        FROM generate_series(1, 11) i" >/dev/null
pg_sql "INSERT INTO commits (hash, parents, generation, subject, author, authored) VALUES
        ('$(hs 9)', '{$(h 8)}', 9, 'Side work <b>bold</b>', 'Bob <bob@example.org>', '2026-11-20T00:00:00Z'),
        ('$(hs 10)', '{$(hs 9)}', 10, 'More side work', 'Bob <bob@example.org>', '2026-11-21T00:00:00Z'),
        ('$(h 12)', '{$(h 11),$(hs 10)}', 12, 'Merge branch side', 'Ada Lovelace <ada@example.org>', '2026-11-22T00:00:00Z')"
pg_sql "UPDATE batches SET commit_hash = lpad(to_hex(2 * id), 40, '0')" >/dev/null
pg_sql "UPDATE jobs j SET commit_hash = b.commit_hash FROM batches b WHERE b.id = j.batch_id" >/dev/null

CLI="$PYSCOPE_BUILD/cli/pyscope"
export PYSCOPE_COORDINATOR="$COORD_EP"
range() { # the wall_s regression's range member PY (python expression on r)
    capture "$CLI" report --batch 6 --json
    echo "$OUT" | json_get "[g for g in d['report']['regressions'] if g['metric'] == 'wall_s'][0]['range']$1"
}
expect_eq "report: last good is night 5's commit" "$(h 10)" "$(range "['good']['hash']")"
expect_eq "report: first bad is night 6's" "$(h 12)|Merge branch side|Ada Lovelace <ada@example.org>|2026-11-22T00:00:00.000000Z" \
    "$(range "['bad']['hash']")|$(range "['bad']['subject']")|$(range "['bad']['author']")|$(range "['bad']['date']")"
expect_eq "report: 4 commits, the merged side branch included, exact" "4 True True" \
    "$(range "['commits']") $(range "['exact']") $(range "['good_is_ancestor']")"

"$CLI" report --batch 6 --out "$T/report.html" >/dev/null
html=$(cat "$T/report.html")
expect_match "HTML: last good" "last good <code title=\"$(h 10)\">$(h 10 | cut -c1-12)</code> Commit number 10" "$html"
expect_match "HTML: first bad" "first bad <code title=\"$(h 12)\">" "$html"
expect_match "HTML: commits between" "4 commits in the range" "$html"

hist=$("$CLI" history examples/a.py --host host-b)
expect_match "history: commit column" "Commit +Median wall" "$hist"
expect_match "history: each run's commit" "$(h 12 | cut -c1-12)" "$hist"
expect_match "history: last good" "last good: $(h 10 | cut -c1-12) \"Commit number 10\" \(Ada Lovelace <ada@example.org>, 2026-11-11\)" "$hist"
expect_match "history: first bad" "first bad: $(h 12 | cut -c1-12) \"Merge branch side\"" "$hist"
expect_match "history: how many" "4 commits in the range \(the first bad one included\)" "$hist"
expect_match "history --json: the range" "\"commits\": 4" "$("$CLI" history examples/a.py --host host-b --json)"
hist=$("$CLI" history examples/a.py --host host-b --order commit)
expect_match "history --order commit" "In the order of their commits" "$hist"
capture "$CLI" history examples/a.py --host host-b --order nonsense
expect_eq "history --order: bad value is exit 2" 2 "$RC"

# A side commit nobody described: the count is a lower bound, and says so.
pg_sql "DELETE FROM commits WHERE hash = '$(hs 9)'" >/dev/null
expect_eq "undescribed commit: not exact" "False" "$(range "['exact']")"
expect_match "history: at least" "at least 3 commits in the range" "$("$CLI" history examples/a.py --host host-b)"

# Night 5 rewritten away (force-push): its commit is not in night 6's history.
pg_sql "INSERT INTO commits (hash, parents, generation, subject) VALUES ('$(hs 99)', '{$(h 9)}', 10, 'Force-pushed away')" >/dev/null
pg_sql "UPDATE jobs SET commit_hash = '$(hs 99)' WHERE batch_id = 5" >/dev/null
expect_eq "rewritten history: good is no ancestor" "False" "$(range "['good_is_ancestor']")"
expect_match "history: says it was rewritten" "not in the first bad one's history" \
    "$("$CLI" history examples/a.py --host host-b)"

# Runs in a workspace (no commit): no range, and nothing breaks.
pg_sql "UPDATE jobs SET commit_hash = NULL" >/dev/null
expect_eq "no commits: range null" "None" "$(range "")"
expect_nomatch "history: no range lines" "last good" "$("$CLI" history examples/a.py --host host-b)"
finish
