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
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

# raw_controls TEXT: the raw control / bidi bytes left in TEXT (hex), empty when none.
raw_controls() {
    printf '%s' "$1" | LC_ALL=C grep -aoP '[\x00-\x08\x0b-\x1f\x7f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]' |
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
coord_start
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

# ---- a local run: co_qualname from the script ----
cat >"$T/hostile.py" <<'EOF'
def work():
    return sum(i * i for i in range(300000))
work.__code__ = work.__code__.replace(co_qualname="\x1b]0;PWNED\x07\x1b[2Jwork\u202e")
for _ in range(20):
    work()
EOF
# twice: the second run has a baseline, so its JUnit and Markdown name the function
capture "$PYSCOPE" run --reports-dir "$T/reports" --repeat 2 "$T/hostile.py"
capture "$PYSCOPE" run --reports-dir "$T/reports" --repeat 2 --junit "$T/junit.xml" \
    --summary-md "$T/summary.md" "$T/hostile.py"
expect_clean "run: terminal report has no raw control character" "$OUT"
expect_match "run: the function name shown escaped" '\\x1b\]0;PWNED\\x07\\x1b\[2Jwork\\u202e' "$OUT"
for f in junit.xml summary.md; do
    if [ -f "$T/$f" ]; then
        expect_clean "run: $f has no raw control character" "$(cat "$T/$f")"
        [ $f = junit.xml ] && expect_match "run: $f names the function, escaped" 'x1b\]0;PWNED' "$(cat "$T/$f")"
    else fail "run: $f written" "missing"; fi
done
for f in "$T"/reports/html/*.html; do
    expect_clean "run: HTML report has no raw control character" "$(cat "$f")"
done
finish
