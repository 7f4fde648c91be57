#!/usr/bin/env bash
# test_untrusted_text.sh - text from agents, submitters and scripts reaches no terminal,
# log, HTML page, JUnit file or Markdown summary raw (lib/sanitize.h).
#
# An agent with a valid connection sends ESC/BEL/CR/newline and a right-to-left override
# (U+202E) in every text field it controls: host name, label, suite name and label, script
# path, result message, a function name, a thread name. Checked: the coordinator's log (no
# forged line, no raw control byte), `pyscope hosts|jobs|status|history|compare-hosts`
# (escapes shown, none raw), the team report's HTML (no raw U+202E, long names wrap), and a
# local `pyscope run` of a script whose function's co_qualname holds an escape sequence
# (terminal report, --junit, --summary-md).
#
# Then a 3.6 KB token joins the host name and the first function's name (what the wire
# takes: 4 KB strings) and two regressions of that series are stored, one on the hostile
# function: the team report (its lines, details and flame graph diff) and every page the
# coordinator serves (--http) show both escaped, the host whole on hover, no raw byte.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

# raw_controls TEXT: the raw control / bidi bytes left in TEXT (hex), empty when none.
raw_controls() {
    printf '%s' "$1" | LC_ALL=C grep -aoP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]' |
        od -An -tx1 | tr -d ' \n' || true
}
# expect_clean NAME TEXT: TEXT holds no raw control or bidi character.
expect_clean() {
    local bad
    bad=$(raw_controls "$2")
    if [ -z "$bad" ]; then ok "$1"; else fail "$1" "raw bytes $bad in: $(printf '%q' "$2" | head -c 600)"; fi
}

HOSTILE='\e]0;PWNED\a\e[2J\r\ncoordinator: info: forged line \xe2\x80\xae evil'
# A script path may not hold controls (wire_path_normalized), but bidi overrides and a
# 3 KB token it may.
LONG=$(printf 'x%.0s' $(seq 3000))
SCRIPT=$(printf 'examples/evil\xe2\x80\xaeyp.%s.py' "$LONG")
pg_start
coord_start --http 127.0.0.1:0
export PYSCOPE_COORDINATOR="$COORD_EP"
out=$(fake --name agent-x --fingerprint 00112233aabbccdd --text "$HOSTILE" <<CMDS
hello
submit $SCRIPT
ready 1
result 1 1
CMDS
)
expect_match "hostile submit accepted" "submit_reply batch=1 jobs=1" "$out"
expect_match "hostile result acked" "^ack run_id=" "$out"
out=$(fake --name agent-y --fingerprint 00112233aabbccee --text "$HOSTILE" <<CMDS
hello
submit $SCRIPT @agent-y
ready 1
result 2 1
CMDS
)
expect_match "second host's result acked" "^ack run_id=" "$out"
expect_eq "the data is stored as it came" 2 \
    "$(pg_sql "SELECT count(*) FROM batches WHERE suite LIKE E'%\\x1b]0;PWNED%'")"

# ---- the coordinator's log ----
log=$(cat "$COORD_LOG")
expect_nomatch "log: no line forged by a suite name" '^coordinator: info: forged' "$log"
expect_clean "log: no raw control character" "$log"
expect_match "log: the suite name shown escaped" 'suite "\\x1b\]0;PWNED\\x07\\x1b\[2J\\r\\ncoordinator: info: forged line \\u202e evil"' "$log"

# ---- the CLI's tables ----
for cmd in "hosts" "jobs" "status 1"; do
    capture "$PYSCOPE" $cmd
    expect_eq "pyscope $cmd: exit 0" 0 "$RC"
    expect_clean "pyscope $cmd: no raw control character" "$OUT"
    expect_match "pyscope $cmd: escapes shown" '\\x1b' "$OUT"
done
capture "$PYSCOPE" status 1
expect_match "status: the suite name shown escaped" '\\x1b\]0;PWNED\\x07' "$OUT"
capture "$PYSCOPE" history "$SCRIPT" --host 00112233aabbccdd
expect_eq "history: exit 0" 0 "$RC"
expect_clean "history: no raw control character" "$OUT"
capture "$PYSCOPE" compare-hosts "$SCRIPT" --hosts 00112233aabbccdd,00112233aabbccee
expect_clean "compare-hosts: no raw control character" "$OUT"
expect_match "compare-hosts: host names shown escaped" 'host-\\x1b\]0;PWNED' "$OUT"

# ---- the team report's HTML ----
capture "$PYSCOPE" report --out "$T/team.html"
expect_eq "report: exit 0" 0 "$RC"
html=$(cat "$T/team.html")
expect_clean "report HTML: no raw control or bidi character" "$html"
expect_match "report HTML: long names wrap" 'overflow-wrap: ?anywhere' "$html"
expect_match "report HTML: the script's U+202E shown escaped" 'evil\\u202eyp' "$html"

# ---- a 3.6 KB token in a host and a function name: team report, flame diff, served pages ----
TOKEN=$(printf 'q%.0s' $(seq 3600))
pg_sql "UPDATE hosts SET hostname = hostname || '$TOKEN' WHERE fingerprint = '00112233aabbccdd';
        UPDATE functions SET key = regexp_replace(key, ':1\$', '$TOKEN:1') WHERE key LIKE '%PWNED%';
        INSERT INTO regressions (batch_id, script_id, host_id, python_build, metric, function_key,
            kind, mode, change_pct, baseline_median, candidate_median, baseline_runs, candidate_run,
            why, detail, last_batch_id, last_run)
        SELECT r.batch_id, r.script_id, r.host_id, r.python_build, m.metric,
            CASE WHEN m.metric = 'self_s' THEN f.key ELSE '' END, 'regression', 'statistical',
            m.change, 1, 1 + m.change / 100, ARRAY[r.run_id], r.run_id,
            jsonb_build_object('metric', 'wall_s', 'functions', jsonb_build_array(jsonb_build_object(
                'key', f.key, 'delta_s', 0.3, 'share_pct', 94))),
            jsonb_build_object('rule', 'significant', 'reason', 'slower beyond the threshold'),
            r.batch_id, r.run_id
        FROM runs r JOIN hosts h ON h.id = r.host_id, functions f,
            (VALUES ('wall_s', 31.0), ('self_s', 40.0)) AS m(metric, change)
        WHERE h.fingerprint = '00112233aabbccdd' AND f.key LIKE '%PWNED%'" >/dev/null
expect_eq "two regressions of the hostile series stored" 2 "$(pg_sql "SELECT count(*) FROM regressions")"
# restarted: the served pages' cache has not seen the new names
coord_stop
coord_start --http 127.0.0.1:0
capture "$PYSCOPE" report --out "$T/team2.html"
expect_eq "report with the long names: exit 0" 0 "$RC"
html=$(tr '\n' ' ' <"$T/team2.html") # the names' newlines are kept (HTML whitespace)
expect_clean "report HTML (long names): no raw control or bidi character" "$html"
expect_match "report HTML: the host whole on hover, escaped" \
    "<span class=\"name host\" title=\"host-\\\\x1b\\]0;PWNED\\\\x07[^\"]*\\\\u202e evil$TOKEN " "$html"
fig=$(printf '%s' "$html" | grep -o '<figure class="fdiff".*</figure>' || true)
expect_match "report HTML: a flame graph diff" '<svg' "$fig"
expect_match "report HTML: the flame diff names the function escaped, whole on hover" \
    "<title> forged line \\\\u202e evil$TOKEN \\(bench\\.py:\\\\x1b\\]0;PWNED\\\\x07" "$fig"
expect_match "report HTML: the line says the verdict's reason" \
    'data-rule="significant">slower beyond the threshold' "$html"
URL=$(grep -o 'web pages on http://127\.0\.0\.1:[0-9]*/' "$COORD_LOG" | grep -o 'http://.*' || true)
expect_match "the coordinator serves" '^http://' "$URL"
series="series/$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$SCRIPT")?host=00112233aabbccdd"
for path in "" batch/1 batches hosts "$series"; do
    body=$(curl -s -g "$URL$path" || true)
    expect_match "served /$path: a page" '</html>' "$body"
    expect_clean "served /$path: no raw control or bidi character" "$body"
    expect_match "served /$path: hostile names shown escaped" '\\x1b\]0;PWNED\\x07' "$body"
done
body=$(curl -s -g "${URL}batch/1" || true)
expect_match "served /batch/1: the function escaped in the flame diff" \
    "<title> forged line \\\\u202e evil$TOKEN \\(bench\\.py:\\\\x1b\\]0;PWNED\\\\x07" "$(printf '%s' "$body" | tr '\n' ' ')"

# ---- a local run: co_qualname from the script ----
cat >"$T/hostile.py" <<'EOF'
def work():
    return sum(i * i for i in range(300000))
work.__code__ = work.__code__.replace(co_qualname="\x1b]0;PWNED\x07\x1b[2Jwork\u202e\u0085")
for _ in range(20):
    work()
EOF
# twice: the second run has a baseline, so its JUnit and Markdown name the function
capture "$PYSCOPE" run --reports-dir "$T/reports" --repeat 2 "$T/hostile.py"
capture "$PYSCOPE" run --reports-dir "$T/reports" --repeat 2 --junit "$T/junit.xml" \
    --summary-md "$T/summary.md" --export collapsed "$T/out.folded" \
    --export speedscope "$T/out.speedscope.json" "$T/hostile.py"
expect_clean "run: terminal report has no raw control character" "$OUT"
expect_match "run: the function name shown escaped" '\\x1b\]0;PWNED\\x07\\x1b\[2Jwork\\u202e' "$OUT"
for f in junit.xml summary.md; do
    if [ -f "$T/$f" ]; then
        expect_clean "run: $f has no raw control character" "$(cat "$T/$f")"
        [ $f = junit.xml ] && expect_match "run: $f names the function, escaped" 'x1b\]0;PWNED' "$(cat "$T/$f")"
    else fail "run: $f written" "missing"; fi
done
# the exports: the same safe form, and still their formats (one "frames count" a line; JSON)
expect_clean "run --export collapsed: no raw control, C1 or bidi character" "$(cat "$T/out.folded")"
expect_match "run --export collapsed: the function escaped, ';' of its name replaced" \
    '\\x1b\]0_PWNED\\x07\\x1b\[2Jwork\\u202e\\u0085' "$(cat "$T/out.folded")"
expect_eq "run --export collapsed: every line is frames and a count" "" \
    "$(grep -Ev '^[^ ].* [0-9]+$' "$T/out.folded")"
expect_clean "run --export speedscope: no raw control, C1 or bidi character" \
    "$(cat "$T/out.speedscope.json")"
expect_eq "run --export speedscope: valid JSON naming the function escaped" "True" \
    "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(any(f["name"].startswith("\\x1b]0;PWNED") and f["name"].endswith("work\\u202e\\u0085") for f in d["shared"]["frames"]))' "$T/out.speedscope.json")"
for f in "$T"/reports/html/*.html; do
    expect_clean "run: HTML report has no raw control character" "$(cat "$f")"
done
finish
