#!/usr/bin/env bash
# test_coord_web.sh - the coordinator's read-only web pages (coordinator/web.c).
# labels: asan
#
# Six nights of team history (team_seed.sql: a 30% slowdown of a.py on host-b
# on night 6, a script whose name is an XSS payload) behind a coordinator with
# --http 127.0.0.1:0. Every page answers 200 with the CSP and the other
# security headers, no script element, the hostile name as text; the batch
# page is the CLI's file, byte for byte, but for the navigation and links (one
# renderer); a triage shows at once (the cache is checked); bad paths and
# arguments get 400/404, other methods 405, a body 413; a non-loopback address
# without a token is refused at start; with a token (file mode 600) a request
# without it gets 401 and a Basic challenge, with it (Bearer or Basic) 200.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

pg_start
coord_start --http 127.0.0.1:0 --log-level debug
team_six_nights
URL=$(web_url)
expect_match "the log says where the pages are" '^http://127\.0\.0\.1:[0-9]+/$' "$URL"
expect_match "the log says read only, no token" 'web pages on .* \(read only, no token\)' "$(cat "$COORD_LOG")"
# the warmer renders ahead the pages opened first: the newest analysed batch as / and as
# /batch/N (one report built for both), and the batch before it
ahead() { grep -o 'rendered ahead as [a-z]* [0-9]* ' "$COORD_LOG" | sort -u | tr '\n' ' '; }
for i in $(seq 150); do
    [[ "$(ahead)" =~ "as batch 5 ".*"as batch 6 ".*"as latest 6 " ]] && break
    sleep 0.1
done
expect_match "rendered ahead: / and /batch/6, and /batch/5" \
    "as batch 5 .*as batch 6 .*as latest 6 " "$(ahead)"

# get PATH [CURL OPTIONS...]: body in $T/body, headers in $T/head, "CODE" in $CODE.
get() {
    local path=$1
    shift
    CODE=$(curl -s -g -o "$T/body" -D "$T/head" -w '%{http_code}' "$@" "$URL${path#/}" || true)
}

hostile_key='examples/<script>alert(1)</script>.py'
hostile_path="series/$(/usr/bin/python3.11 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$hostile_key")?host=host-a"
for path in / batch/6 batches hosts "series/examples/a.py?host=host-b" \
    "series/examples%2Fa.py?host=00000000000000b2&metric=cpu_s" "$hostile_path"; do
    get "$path"
    expect_eq "$path: 200" 200 "$CODE"
    head=$(tr -d '\r' <"$T/head")
    body=$(cat "$T/body")
    expect_match "$path: html" '^Content-Type: text/html; charset=utf-8$' "$head"
    expect_match "$path: CSP header" "^Content-Security-Policy: default-src 'none'; .*frame-ancestors 'none'$" "$head"
    expect_match "$path: nosniff" '^X-Content-Type-Options: nosniff$' "$head"
    expect_match "$path: no referrer" '^Referrer-Policy: no-referrer$' "$head"
    expect_match "$path: the CSP also in the page" '<meta http-equiv="Content-Security-Policy" content="default-src' "$body"
    expect_nomatch "$path: no script element" '<script' "$body"
    expect_nomatch "$path: no external URL" 'https?://' "$body"
    expect_match "$path: navigation" '<nav class="site">' "$body"
done

get /
body=$(cat "$T/body")
expect_match "/: the newest batch's report" '<dt>Batch</dt><dd>6 · night 6' "$body"
expect_match "/: the regressed series links to its history" \
    '<a href="/series/examples%2Fa.py\?host=00000000000000b2"><span class="name script path"' "$body"
expect_match "/: marked as the current page" '<a href="/" aria-current="page">Latest report</a>' "$body"
expect_match "/: the hostile name is text" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "$body"
get batches
expect_match "/batches: a row per night, linked" '<a href="/batch/1">1</a>' "$(cat "$T/body")"
expect_match "/batches: night 6 found one series slower" \
    '<a href="/batch/6">6</a>.*<td class="num bad">1</td>' "$(tr -d '\n' <"$T/body")"
get hosts
expect_match "/hosts: host-b is slower than host-a" '<th><span class="cut">host-b</span></th><td class="num bad">1\.[0-9]+×' "$(cat "$T/body")"
expect_match "/hosts: the hosts with their agents" 'agent-host-b' "$(cat "$T/body")"
get "series/examples/a.py?host=host-b"
body=$(cat "$T/body")
expect_match "/series: the trend" '<svg class="chart"' "$body"
expect_match "/series: the stored regression with its triage state" 'farm: regression #[0-9]+ wall_s, confirmed' "$body"
expect_match "/series: a tab per metric" '<nav class="tabs" aria-label="metric"><a href="/series/examples%2Fa.py\?host=00000000000000b2&amp;build=CPython%203.11%20gcc" aria-current="page">Wall time</a>' "$body"
expect_match "/series: the other host linked" '<a href="/series/examples%2Fa.py\?host=00000000000000a1&amp;build=' "$body"
get "$hostile_path"
expect_match "hostile series: its name is text" '<code>examples/&lt;script&gt;alert\(1\)&lt;/script&gt;.py</code>' "$(cat "$T/body")"

# One renderer: the page is the CLI's file but for the navigation and the links.
"$PYSCOPE_BUILD/cli/pyscope" report --coordinator "$COORD_EP" --batch 6 --out "$T/cli.html" >/dev/null 2>&1
get batch/6
strip() { sed -e '/^<nav class="site">.*<\/nav>$/d' -e 's#<a href="[^"]*"[^>]*>##g' -e 's#</a>##g' "$1"; }
expect_eq "/batch/6 is the CLI's page but for navigation and links" "" \
    "$(diff <(strip "$T/cli.html") <(strip "$T/body") | head -20)"

# Bad requests.
for c in "nope 404" "batch/99 404" "batch/x 404" "series/examples/a.py 400" \
    "series/examples/a.py?host=host-b&metric=bogus 400" "series/..%2Fetc%2Fpasswd?host=host-b 400" \
    "series/examples/nothing.py?host=host-b 404" "series/examples/a.py?host=nohost 404"; do
    set -- $c
    get "$1"
    expect_eq "/$1: $2" "$2" "$CODE"
    expect_match "/$1: a page that says why" '<p class="lead">' "$(cat "$T/body")"
done
get / -X POST
expect_eq "POST: 405" 405 "$CODE"
expect_match "POST: Allow header" '^Allow: GET, HEAD' "$(tr -d '\r' <"$T/head")"
get / -X GET --data-binary 'x=1'
expect_eq "a body: 413" 413 "$CODE"
get / -I
expect_eq "HEAD: 200" 200 "$CODE"
expect_nomatch "HEAD: no body" '<html' "$(cat "$T/body")"

# The cache is checked on every request: a triage shows at once.
id=$(pg_sql "SELECT min(id) FROM regressions WHERE metric = 'wall_s'")
"$PYSCOPE_BUILD/cli/pyscope" triage --coordinator "$COORD_EP" "$id" ack >/dev/null
get /
expect_match "/: the triage shows at once" 'data-metric="wall_s" data-state="ack"' "$(cat "$T/body")"
get "series/examples/a.py?host=host-b"
expect_match "/series: the triage shows at once (its cache is checked too)" 'farm: regression #[0-9]+ wall_s, ack' "$(cat "$T/body")"
# /batches remembers the counts of a settled (done, analysed) batch; one that changes is read again.
row5() { tr -d '\n' <"$T/body" | grep -o '<a href="/batch/5">5</a>.*' | sed 's#</tr>.*##'; }
get batches
first=$(cat "$T/body")
get batches
expect_eq "/batches: the same page from the remembered counts" "$first" "$(cat "$T/body")"
job5=$(pg_sql "SELECT min(id) FROM jobs WHERE batch_id = 5")
pg_sql "UPDATE batches SET state = 'running' WHERE id = 5; UPDATE jobs SET state = 'failed' WHERE id = $job5" >/dev/null
get batches
# (the coordinator may finish the batch again before the request: its jobs have all ended,
# so "running" or "done" may show; the failed job's count is what must be read again)
expect_match "/batches: a re-opened batch's counts are read again" '(running|done).*<span class="bad">1</span>' "$(row5)"
pg_sql "UPDATE batches SET state = 'done', finished = now() WHERE id = 5" >/dev/null
get batches
expect_match "/batches: finished again, read again" 'done, analysed.*<span class="bad">1</span>' "$(row5)"
pg_sql "UPDATE jobs SET state = 'done' WHERE id = $job5; UPDATE batches SET finished = now() WHERE id = 5" >/dev/null
get batches
expect_nomatch "/batches: and again" 'class="bad"' "$(row5)"
expect_eq "the pages read through their own read-only connections" t \
    "$(pg_sql "SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'pyscope-web'")"
coord_stop
expect_eq "stops cleanly with the pages" 0 "$COORD_STATUS"

# Bound elsewhere: a token is required, from a file only its owner reads.
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --http 0.0.0.0:0
expect_eq "0.0.0.0 without a token: exit 2" 2 "$RC"
expect_match "0.0.0.0 without a token: says why" 'is not a loopback address.*http_token_file' "$OUT"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --http 'bogus:port'
expect_eq "a bad address: exit 2" 2 "$RC"
expect_match "a bad address: says what is expected" 'not an address to listen on' "$OUT"
printf 'not-a-secret-token-%s\n' "$RANDOM$RANDOM" >"$T/token"
chmod 644 "$T/token"
printf '[coordinator]\nhttp = 127.0.0.1:0\nhttp_token_file = %s\n' "$T/token" >"$T/web.conf"
capture timeout 20 "$COORD" --db "$PG_CONNINFO" --bind "ipc://$T/x.sock" --config "$T/web.conf"
expect_eq "a token file others can read: exit 2" 2 "$RC"
expect_match "a token file others can read: says chmod 600" 'chmod 600' "$OUT"
chmod 600 "$T/token"
token=$(head -n 1 "$T/token")
# host-a and host-b now report one machine (agents.machine): /hosts must not call their
# ratio hardware (coordinator/hostpair.h)
pg_sql "UPDATE agents SET machine = 'box-1'" >/dev/null
# night 6 also ran a reference script on both hosts (jobs 'reference', as a suite's
# `reference =` does): not a script of the pairs, as the team report's hardware table leaves
# it out (stranger19 minor 4: /hosts counted it, 6 scripts against the report's 5)
psql -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
INSERT INTO scripts (key) VALUES ('examples/calibrate.py');
INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s, state, purpose)
SELECT 6, (SELECT id FROM scripts WHERE key = 'examples/calibrate.py'), h.id, 5, 0, 'sample', 60,
       'done', 'reference' FROM hosts h;
CREATE TEMP TABLE ref AS SELECT DISTINCT ON (r.host_id) r.* FROM runs r
  JOIN scripts s ON s.id = r.script_id WHERE r.batch_id = 6 AND s.key = 'examples/a.py'
  ORDER BY r.host_id, r.stored_at;
UPDATE ref SET run_id = gen_random_uuid(),
  script_id = (SELECT id FROM scripts WHERE key = 'examples/calibrate.py'),
  job_id = (SELECT j.id FROM jobs j WHERE j.purpose = 'reference' AND j.host_id = ref.host_id);
INSERT INTO runs SELECT * FROM ref;
EOF
coord_start --config "$T/web.conf" --log-level debug
URL=$(web_url)
expect_match "the log says a token is required" 'token required' "$(cat "$COORD_LOG")"
# after a start the warmer counts the batches and reads the host pairs ahead: the first
# /batches and /hosts answer from memory (they took 0.3-0.4 s at 350,000 runs)
for i in $(seq 150); do
    grep -q '/batches and /hosts read ahead' "$COORD_LOG" && break
    sleep 0.1
done
expect_match "the warmer read /batches and /hosts ahead" '/batches and /hosts read ahead' "$(cat "$COORD_LOG")"
counted=$(grep -c 'counted the jobs and runs' "$COORD_LOG" || true)
paired=$(grep -c 'read the host pairs' "$COORD_LOG" || true)
expect_eq "the warmer counted the batches once" 1 "$counted"
expect_eq "the warmer read the host pairs once" 1 "$paired"
get batches -u "anyone:$token"
expect_match "the first /batches after a start: every night" '<a href="/batch/6">6</a>' "$(cat "$T/body")"
get hosts -u "anyone:$token"
expect_match "the first /hosts after a start: the pairs, one machine's labelled as such" \
    'class="num muted">1\.[0-9]+× <span class="label">\(one machine: load\)</span>' "$(cat "$T/body")"
expect_match "/hosts: one machine said under its pair" \
    '<td colspan="5">Not the hardware: host-a and host-b are one machine \(machine id box-1\): the ratio measures their load and scheduling; CPU time B/A \(geometric mean\) 1\.[0-9]+' \
    "$(cat "$T/body")"
expect_match "/hosts: the pair's scripts leave the reference script out (2, not 3)" \
    '<td>host-a</td><td>host-b</td><td class="num">2</td>' "$(cat "$T/body")"
expect_eq "the first /batches after a start counted nothing" "$counted" "$(grep -c 'counted the jobs and runs' "$COORD_LOG" || true)"
expect_eq "the first /hosts after a start read no pairs" "$paired" "$(grep -c 'read the host pairs' "$COORD_LOG" || true)"
get /
expect_eq "no token: 401" 401 "$CODE"
expect_match "no token: a Basic challenge (the browser asks)" '^WWW-Authenticate: Basic realm="PyScope"' "$(tr -d '\r' <"$T/head")"
get / -H "Authorization: Bearer wrong-token-0123456789"
expect_eq "a wrong token: 401" 401 "$CODE"
get / -H "Authorization: Bearer $token"
expect_eq "Bearer token: 200" 200 "$CODE"
get batches -u "anyone:$token"
expect_eq "token as the Basic password: 200" 200 "$CODE"
get batches -u "anyone:${token}x"
expect_eq "a longer token: 401" 401 "$CODE"
expect_nomatch "the token is never logged" "$token" "$(cat "$COORD_LOG")"
coord_stop
finish
