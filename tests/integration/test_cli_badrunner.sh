#!/usr/bin/env bash
# test_cli_badrunner.sh - how pyscope run handles what pyscope-run hands back:
# a corrupt, empty or unknown-schema result, a crash, each exit status, and the
# exact argv it is given. Uses tests/data/cli/fake-runner.sh, which can misbehave
# on demand (the real runner is exercised by test_cli_run.sh).
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
DATA="$PYSCOPE_SRC/tests/data/cli"
export PYSCOPE_RUN_BIN="$DATA/fake-runner.sh"
export FAKE_RUNNER_FIXTURE="$DATA/run_ok.json"
export TMPDIR="$T/tmp"
mkdir -p "$TMPDIR"
printf 'print("out of the script")\n' > s.py


FAKE_RUNNER=corrupt run "$PYSCOPE" run s.py
expect_eq "corrupt output: exit 4" 4 "$RC"
expect_match "corrupt output: message" 'corrupt pyscope-run output: .*expected' "$ERR"
expect_match "corrupt output: kept" 'kept in ".*pyscope-run-.*\.json"' "$ERR"
expect_eq "corrupt output: no report saved" "" "$(ls reports/json)"
rm -f "$TMPDIR"/*

FAKE_RUNNER=empty run "$PYSCOPE" run s.py
expect_eq "empty output: exit 4" 4 "$RC"
expect_match "empty output: message" 'pyscope-run wrote no result' "$ERR"

FAKE_RUNNER=schema run "$PYSCOPE" run s.py
expect_eq "unknown schema: exit 4" 4 "$RC"
expect_match "unknown schema: message" 'unsupported schema version' "$ERR"
rm -f "$TMPDIR"/*

FAKE_RUNNER=crash run "$PYSCOPE" run s.py
expect_eq "runner crash: exit 4" 4 "$RC"
expect_match "runner crash: message" 'killed by signal 11 \(SIGSEGV\)' "$ERR"

for code in 2 4 7; do
    want=4
    [ "$code" = 2 ] && want=2
    FAKE_RUNNER=status FAKE_RUNNER_EXIT=$code run "$PYSCOPE" run s.py
    expect_eq "runner exit $code: pyscope exit $want" "$want" "$RC"
done
expect_match "runner exit 7: message" 'exited with unexpected status 7' "$ERR"
expect_eq "no temporary file left behind" "" "$(ls "$TMPDIR")"

FAKE_RUNNER_EXIT=3 run "$PYSCOPE" run --no-save s.py
expect_eq "script failed: exit 3" 3 "$RC"
FAKE_RUNNER_EXIT=124 run "$PYSCOPE" run --no-save s.py
expect_eq "timeout: exit 124" 124 "$RC"

# Options are translated for the runner; everything after SCRIPT is the script's.
FAKE_RUNNER_ARGS="$T/args" run "$PYSCOPE" run --mode trace --repeat 3 --warmup 1 \
    --interval-ms 2.5 --timeout 9 --no-save s.py --repeat x -q -- "a b"
expect_eq "args: exit 0" 0 "$RC"
expect_eq "args: runner argv" \
    "--mode trace --repeat 3 --warmup 1 --interval-ms 2.5 --timeout 9 --output-fd X -- s.py --repeat x -q -- a b" \
    "$(tr '\n' ' ' <"$T/args" | sed 's/ $//; s/--output-fd [0-9]* /--output-fd X /')"

# --json: stdout is only the report; the script's own stdout went to stderr.
FAKE_RUNNER_EXEC=1 run "$PYSCOPE" run --json --no-save s.py
expect_eq "json: exit 0" 0 "$RC"
expect_eq "json: schema" "pyscope.report/1" "$(printf '%s' "$OUT" | jget schema)"
expect_match "json: script stdout on stderr" 'out of the script' "$ERR"
expect_nomatch "json: script stdout not on stdout" 'out of the script' "$OUT"
# Without --json the script's stdout stays on stdout, before the report.
FAKE_RUNNER_EXEC=1 run "$PYSCOPE" run --no-save s.py
expect_match "text: script stdout first" '^out of the script' "$OUT"

# A write that fails after the run is an internal error; the report is still printed.
if [ -w /dev/full ]; then
    run "$PYSCOPE" run --no-save --export collapsed /dev/full s.py
    expect_eq "export to a full disk: exit 4" 4 "$RC"
    expect_match "export to a full disk: message" \
        'could not write export file "/dev/full": (No space left on device|Input/output error)' "$ERR"
    expect_match "export to a full disk: report still printed" 'PyScope Performance Report' "$OUT"
fi

# Saved report: a pyscope.report/1 with files pointing at both saved files.
run "$PYSCOPE" run --reports-dir "rep dir/" s.py
expect_eq "save: exit 0" 0 "$RC"
json=$(ls "rep dir/json")
expect_match "save: json name" '^pyscope_report_[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{6}Z\.json$' "$json"
expect_eq "save: html name" "${json%.json}.html" "$(ls "rep dir/html")"
expect_eq "save: files.json" "rep dir/json/$json" "$(jget files.json <"rep dir/json/$json")"
expect_eq "save: files.html" "rep dir/html/${json%.json}.html" \
    "$(jget files.html <"rep dir/json/$json")"
expect_match "save: terminal shows path" "JSON report saved to : rep dir/json/$json" "$OUT"
expect_eq "save: no temporary files in reports" "" "$(ls "rep dir/json" "rep dir/html" | grep tmp || true)"
finish
