#!/usr/bin/env bash
# test_html_pages.sh - every HTML page in headless Chromium, driven by playwright-core
# (tests/browser/pages.mjs): the run report, the comparison, the history, the team
# report (files the CLI writes) and the coordinator's served pages, with XSS payloads
# in the data. At 1400 and 800 px each page must load without console errors or
# external requests, run no payload, add no element an attack could, and not scroll
# sideways; the served pages are navigated by clicks. Screenshots go to
# $PYSCOPE_BUILD/tests/html-shots/pages/.
#
# Needs Debian's chromium, node and tests/browser/node_modules (scripts/install-deps.sh
# --test installs them); skipped (77) without them.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
BROWSER="$PYSCOPE_SRC/tests/browser"
if ! command -v chromium >/dev/null || ! command -v node >/dev/null ||
    [ ! -f "$BROWSER/node_modules/playwright-core/package.json" ]; then
    echo "SKIP: needs chromium, node and playwright-core (scripts/install-deps.sh --test)"
    exit 77
fi
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"
RENDER="$PYSCOPE_BUILD/tests/render_report"
DATA="$PYSCOPE_SRC/tests/data"
SHOTS="$PYSCOPE_BUILD/tests/html-shots/pages"
mkdir -p "$SHOTS" "$T/pages" "$T/rep/json"

# Files the CLI writes.
for f in sample hostile trace; do
    "$RENDER" html "$DATA/report-$f.json" "$T/pages/run-$f.html"
done
"$RENDER" team "$DATA/team-report.json" "$T/pages/team-report.html"
# the team report with an XSS payload in every string the data can carry
"$PY" - "$DATA/team-report.json" "$T/team-hostile.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
payloads = ['<script>alert(1)</script>', '"><img src=x onerror=alert(2)>',
            "'><svg onload=alert(3)>", 'javascript:alert(4)', '\u202e\u2066bidi',
            'x' * 300, '\x1b]0;PWNED\x07\u202e' + 'y' * 3600]
n = [0]
def poison(v, key=None):
    if isinstance(v, dict):
        return {k: poison(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [poison(x, key) for x in v]
    if isinstance(v, str) and key not in ('schema', 'kind', 'state', 'metric', 'mode', 'unit'):
        n[0] += 1
        return v + payloads[n[0] % len(payloads)]
    return v
json.dump(poison(d), open(sys.argv[2], 'w'))
PY
"$RENDER" team "$T/team-hostile.json" "$T/pages/team-hostile.html"
# a comparison and a history: copies of the sample report, slower from the fifth on
"$PY" - "$DATA/report-sample.json" "$T/rep/json" <<'PY'
import copy, json, sys, uuid
base = json.load(open(sys.argv[1]))
for i in range(8):
    d = copy.deepcopy(base)
    f = 1.0 if i < 5 else 1.3
    d['id'] = str(uuid.UUID(int=i + 1))
    d['created'] = '2026-11-%02dT02:00:00.000000Z' % (10 + i)
    d.pop('regression', None)
    for r in d['runs']:
        r['wall_s'] = r['wall_s'] * f * (1 + 0.003 * i)
    d['summary']['wall_s']['median'] *= f
    for s in d['profile']['stacks']:
        if any('load_rows' in fr for fr in s['frames']):
            s['samples'] = round(s['samples'] * (1.8 if i >= 5 else 1))
    json.dump(d, open('%s/pyscope_report_2026-11-%02dT02-00-00.000000Z.json' % (sys.argv[2], 10 + i), 'w'))
PY
files=("$T"/rep/json/*.json)
"$PYSCOPE" compare --html "$T/pages/compare.html" --baseline "$T/rep/json/pyscope_report_2026-11-1[0-4]*" \
    "${files[7]}" >/dev/null || true
"$PYSCOPE" history --reports-dir "$T/rep" --html "$T/pages/history.html" examples/etl_pipeline.py >/dev/null
for f in compare history; do
    [ -s "$T/pages/$f.html" ] && ok "$f page written" || fail "$f page written" "no $T/pages/$f.html"
done

# A control: the team report with a too wide element, a table too wide for its scroll box
# and an injected image; the browser checks must catch all three (else they could not fail).
sed 's#<main class="team">#<main class="team"><div style="width:2400px">wide</div><div class="table-wrap"><table><tr><td style="min-width:2400px">wide cell</td></tr></table></div><img src=x onerror="window.__pyscope_xss=1">#' \
    "$T/pages/team-report.html" >"$T/pages/control.html"

# The served pages: six nights with a slowdown and XSS payloads in the data; a host name
# and the slow function's name get an escape sequence, a U+202E and a 3.6 KB token.
pg_start
coord_start --http 127.0.0.1:0
team_six_nights
pg_sql "UPDATE batches SET label = label || '\"><img src=x onerror=alert(5)>' WHERE id = 6;
        INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch,
            governor, load1) VALUES ('00000000000000e1', '\"><svg onload=alert(6)>'
            || E'\\x1b]0;PWNED\\x07\\u202e' || repeat('y', 3600), '<b>cpu', 2,
            1, 'linux', '6', 'x86_64', 'performance', 0);
        UPDATE functions SET key = replace(key, ':slow:', E':slow\\x1b[2J\\u202e'
            || repeat('y', 3600) || ':') WHERE key LIKE '%:slow:%'" >/dev/null
id=$(pg_sql "SELECT min(id) FROM regressions WHERE metric = 'wall_s'")
"$PYSCOPE" triage --coordinator "$COORD_EP" "$id" ack --note "<img src=x onerror=alert(7)> looked at" >/dev/null
# each regression of a.py has a bisection (the history page and the team report show them):
# commit subjects, authors and messages are untrusted, payloads and 3.6 KB tokens in them
pg_sql "INSERT INTO commits (hash, parents, generation, subject, author, authored)
        VALUES (repeat('a', 40), '{}', 1, '<script>alert(1)</script> good' || repeat('z', 3600),
                '<img src=x onerror=alert(8)>' || repeat('w', 3600), now()),
               (repeat('b', 40), ARRAY[repeat('a', 40)], 2,
                '<script>alert(1)</script>' || E'\\u202e' || repeat('y', 3600),
                '\"><svg onload=alert(9)> <m@example.org>', now());
        INSERT INTO bisections (origin, regression_id, script_id, host_id, entry, good, bad, chain,
            lo, hi, rounds, max_runs, deadline, state, culprit, message, finished)
        SELECT 'auto', g.id, g.script_id, g.host_id, '{}', repeat('a', 40), repeat('b', 40),
               ARRAY[repeat('a', 40), repeat('b', 40)], 1, 2, 3, 100, now(),
               CASE WHEN g.id = $id THEN 'found' ELSE 'inconclusive' END,
               CASE WHEN g.id = $id THEN repeat('b', 40) END,
               '<img src=x onerror=alert(10)>' || repeat('m', 3600), now()
        FROM regressions g WHERE g.kind = 'regression' AND g.function_key = ''" >/dev/null
"$PYSCOPE" compare-hosts --coordinator "$COORD_EP" examples/a.py --html "$T/pages/compare-hosts.html" >/dev/null
URL=$(grep -o 'web pages on http://127\.0\.0\.1:[0-9]*/' "$COORD_LOG" | grep -o 'http://.*' || true)
[ -n "$URL" ] || { fail "coordinator serves" "no URL in $(cat "$COORD_LOG")"; finish; exit 1; }
hostile_series="series/examples%2F%3Cscript%3Ealert%281%29%3C%2Fscript%3E.py?host=host-a"
series=$(curl -s "${URL}series/examples/a.py?host=host-b")
expect_match "served series: its regression's bisection, the culprit, escaped" \
    "bisection [0-9]+: found after 0 steps, 0 runs <span class=\"muted\">\\(&lt;img src=x onerror=alert\\(10\\)&gt;m+\\)</span></div><div class=\"commit\">culprit <code title=\"b{40}\">b{12}</code> &lt;script&gt;alert\\(1\\)&lt;/script&gt;" \
    "$series"
pg_sql "UPDATE bisections SET state = 'budget' WHERE state = 'inconclusive'" >/dev/null
expect_match "served series: a bisection that moved is shown as it is now (not the cached page)" \
    "bisection [0-9]+: budget after 0 steps" "$(curl -s "${URL}series/examples/a.py?host=host-b")"

cat >"$T/config.json" <<JSON
{"shots": "$SHOTS", "base": "$URL",
 "controls": [{"name": "wide-and-injected", "url": "file://$T/pages/control.html"}],
 "pages": [
  {"name": "run-sample", "url": "file://$T/pages/run-sample.html", "scripts": 3},
  {"name": "run-hostile", "url": "file://$T/pages/run-hostile.html", "scripts": 3, "hostile": true},
  {"name": "run-trace", "url": "file://$T/pages/run-trace.html", "scripts": 3},
  {"name": "team-report", "url": "file://$T/pages/team-report.html", "hostile": true},
  {"name": "team-hostile", "url": "file://$T/pages/team-hostile.html", "hostile": true},
  {"name": "compare", "url": "file://$T/pages/compare.html"},
  {"name": "history", "url": "file://$T/pages/history.html"},
  {"name": "compare-hosts", "url": "file://$T/pages/compare-hosts.html"},
  {"name": "served-latest", "url": "$URL", "hostile": true},
  {"name": "served-batch", "url": "${URL}batch/6", "hostile": true},
  {"name": "served-batches", "url": "${URL}batches"},
  {"name": "served-hosts", "url": "${URL}hosts"},
  {"name": "served-series", "url": "${URL}series/examples/a.py?host=host-b", "hostile": true},
  {"name": "served-series-hostile", "url": "${URL}$hostile_series", "hostile": true}
]}
JSON
cd "$BROWSER"
st=0
timeout 600 node pages.mjs "$T/config.json" >"$T/node.out" 2>"$T/node.err" || st=$?
cat "$T/node.out"
[ -s "$T/node.err" ] && sed 's/^/# /' "$T/node.err"
expect_eq "the browser checks ran to the end" 1 "$(grep -cE '^[0-9]+ passed, [0-9]+ failed$' "$T/node.out")"
expect_eq "no browser check failed" 0 "$(grep -c '^not ok' "$T/node.out" || true)"
expect_eq "node exit status" 0 "$st"
echo "screenshots in $SHOTS"
finish
