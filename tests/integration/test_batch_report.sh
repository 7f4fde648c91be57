#!/usr/bin/env bash
# test_batch_report.sh - each analysed batch's team report, stored (schema/024,
# coordinator/batch_report.c).
# labels: asan
#
# Six nights of team history (team_seed.sql: a.py 30% slower on host-b on
# night 6) analysed by the coordinator: a row per night in batch_reports,
# built by this version and report format ("VERSION format N", REPORT_FORMAT in
# coordinator/report.h) with the batch's fingerprint. `pyscope report --batch
# 6` and /batch/6 answer from it (the log says so, and a marked document shows
# through both) and print the same bytes as a report built live; a row of the
# wrong batch, a row from another version, a row of an older report format (or
# of this version before formats were numbered) and a row whose tag is old are
# not served, and the analyst rebuilds them as this build makes them; a triage
# marks the row stale, the analyst rebuilds it, and the page and the CLI show
# the new state.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

PYSCOPE=$PYSCOPE_BUILD/cli/pyscope
version=$("$COORD" --version 2>&1 | grep -o '[0-9][0-9.]*[^ ]*' | head -n 1)
format=$(sed -n 's/^#define REPORT_FORMAT \([0-9][0-9]*\)$/\1/p' "$PYSCOPE_SRC/coordinator/report.h")
expect_match "coordinator/report.h defines REPORT_FORMAT, a number" '^[0-9]+$' "$format"
built_by="$version format $format"
pg_start
coord_start --http 127.0.0.1:0 --log-level debug
team_six_nights
URL=$(web_url)

# wait_row N: until batch N's row is current (not stale; built by this version and report
# format), at most 20 s
wait_row() {
    local i
    for i in $(seq 200); do
        [ "$(pg_sql "SELECT count(*) FROM batch_reports WHERE batch_id = $1 AND tag <> '' AND built_by = '$built_by'")" = 1 ] && return 0
        sleep 0.1
    done
    return 1
}
wait_row 6
expect_eq "a stored report per analysed night, built by this version and format" "1,2,3,4,5,6|$built_by" \
    "$(pg_sql "SELECT string_agg(batch_id::text, ',' ORDER BY batch_id) || '|' || string_agg(DISTINCT built_by, ',') FROM batch_reports")"
expect_eq "the stored document is batch 6's report, with its regression" "6|night 6|true" \
    "$(pg_sql "SELECT (doc->'window'->>'batch_id') || '|' || (doc->'batches'->0->>'label') || '|' || (json_array_length(doc->'regressions') > 0)::text FROM batch_reports WHERE batch_id = 6")"

report() { "$PYSCOPE" report --coordinator "$COORD_EP" --batch 6 "$@" 2>&1; }
# the coordinator's log line for a query's answer from the stored row (the web's pages and
# its warmer log theirs as "http: ...": they read the row at times of their own)
served() { grep -c "the team report of batch 6 for .*: the stored one" "$COORD_LOG" || true; }
n0=$(served)
report --out "$T/r.html" >"$T/stored.txt"
cp "$T/r.html" "$T/stored.html"
expect_eq "pyscope report --batch 6 answers from the stored row" $((n0 + 1)) "$(served)"
get() { CODE=$(curl -s -g -o "$T/$2" -w '%{http_code}' "$URL$1" || true); }

# A row of another batch's report under batch 6 (tag current): not served, built live, said.
pg_sql "UPDATE batch_reports SET doc = (SELECT doc FROM batch_reports WHERE batch_id = 5) WHERE batch_id = 6" >/dev/null
report --out "$T/r.html" >"$T/live.txt"
cp "$T/r.html" "$T/live.html"
expect_eq "another batch's document is not served" "$((n0 + 1))" "$(served)"
expect_match "... and the log says it was built anew" "stored team report of batch 6 is not one .*built anew" "$(cat "$COORD_LOG")"
expect_eq "the stored report's HTML is the live one's, byte for byte" "" "$(cmp "$T/stored.html" "$T/live.html" 2>&1)"
expect_eq "the stored report's summary is the live one's" "" "$(diff "$T/stored.txt" "$T/live.txt")"
expect_match "... which is batch 6's" '<dt>Batch</dt><dd>6 · night 6' "$(cat "$T/live.html")"

# The stored document is what is shown: marked, it shows through the CLI and (after a
# restart: the page cache is in memory) through the web page.
pg_sql "UPDATE batch_reports SET tag = '' WHERE batch_id = 6" >/dev/null
expect_eq "a row marked stale is rebuilt by the analyst" 0 "$(wait_row 6; echo $?)"
coord_stop
pg_sql "UPDATE batch_reports SET doc = replace(doc::text, '\"night 6\"', '\"night six (stored)\"')::json WHERE batch_id = 6" >/dev/null
coord_start --http 127.0.0.1:0 --log-level debug
URL=$(web_url)
expect_match "the CLI shows the stored document" '<dt>Batch</dt><dd>6 · night six \(stored\)' \
    "$(report --out "$T/marked.html" >/dev/null; cat "$T/marked.html")"
get batch/6 page.html
expect_eq "/batch/6: 200" 200 "$CODE"
expect_match "/batch/6 shows the stored document" '<dt>Batch</dt><dd>6 · night six \(stored\)' "$(cat "$T/page.html")"

# From another version: not served (and rebuilt). With an old tag: not served either.
pg_sql "UPDATE batch_reports SET built_by = 'an older coordinator' WHERE batch_id = 6" >/dev/null
expect_match "a row another version built is not served" '<dt>Batch</dt><dd>6 · night 6' \
    "$(report --out "$T/old.html" >/dev/null; cat "$T/old.html")"
expect_eq "... and the analyst rebuilds it" 0 "$(wait_row 6; echo $?)"
expect_match "... with the batch's own document" "night 6" \
    "$(pg_sql "SELECT doc->'batches'->0->>'label' FROM batch_reports WHERE batch_id = 6")"
pg_sql "UPDATE batch_reports SET tag = tag || '-old', doc = replace(doc::text, '\"night 6\"', '\"night six (old)\"')::json WHERE batch_id = 6" >/dev/null
expect_match "a row whose tag is not the batch's fingerprint is not served" '<dt>Batch</dt><dd>6 · night 6' \
    "$(report --out "$T/oldtag.html" >/dev/null; cat "$T/oldtag.html")"
expect_eq "... and the analyst rebuilds it (the newest batch's)" "night 6" \
    "$(for i in $(seq 200); do l=$(pg_sql "SELECT doc->'batches'->0->>'label' FROM batch_reports WHERE batch_id = 6"); [ "$l" = "night 6" ] && break; sleep 0.1; done; echo "$l")"

# Built by this version but another report format: the document report_build() made then
# (marked here) is not served, and the analyst rebuilds the row as this build makes it. The
# rows of this version written before formats were numbered say the version alone.
for old in "$version format $((format - 1))" "$version"; do
    wait_row 6
    pg_sql "UPDATE batch_reports SET built_by = '$old', doc = replace(doc::text, '\"night 6\"', '\"night six (format)\"')::json WHERE batch_id = 6" >/dev/null
    expect_match "a row built by '$old' is not served as is" '<dt>Batch</dt><dd>6 · night 6' \
        "$(report --out "$T/format.html" >/dev/null; cat "$T/format.html")"
    expect_eq "... the analyst rebuilds it: built by '$built_by'" 0 "$(wait_row 6; echo $?)"
    n0=$(served)
    report --out "$T/format.html" >/dev/null
    expect_eq "... which the CLI answers from" $((n0 + 1)) "$(served)"
    expect_eq "... and is this build's report, byte for byte" "" "$(cmp "$T/live.html" "$T/format.html" 2>&1)"
done

# A triage marks the rows of its batches stale; the analyst rebuilds them; pages and the CLI
# show the new state, from the stored row again.
wait_row 6
tag0=$(pg_sql "SELECT tag FROM batch_reports WHERE batch_id = 6")
id=$(pg_sql "SELECT min(id) FROM regressions WHERE metric = 'wall_s' AND batch_id = 6")
"$PYSCOPE" triage --coordinator "$COORD_EP" "$id" ack >/dev/null
get "" page.html
expect_match "/: the triage shows at once" 'data-metric="wall_s" data-state="ack"' "$(cat "$T/page.html")"
expect_eq "the triage changed the row's tag (rebuilt)" 0 \
    "$(for i in $(seq 200); do t=$(pg_sql "SELECT tag FROM batch_reports WHERE batch_id = 6 AND built_by = '$built_by'"); [ -n "$t" ] && [ "$t" != "$tag0" ] && { echo 0; exit; }; sleep 0.1; done; echo 1)"
expect_match "the rebuilt row holds the new state" '"state":"ack"' \
    "$(pg_sql "SELECT doc::text FROM batch_reports WHERE batch_id = 6")"
n0=$(served)
report --out "$T/triaged.html" >/dev/null
expect_eq "the CLI answers from the rebuilt row" $((n0 + 1)) "$(served)"
expect_match "... which shows the triage" 'data-metric="wall_s" data-state="ack"' "$(cat "$T/triaged.html")"
get batch/6 page.html
expect_match "/batch/6 shows the triage" 'data-metric="wall_s" data-state="ack"' "$(cat "$T/page.html")"
coord_stop
expect_eq "stops cleanly" 0 "$COORD_STATUS"
finish
