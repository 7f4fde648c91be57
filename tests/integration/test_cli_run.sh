#!/usr/bin/env bash
# test_cli_run.sh - pyscope run end to end with the real pyscope-run on real
# scripts: the report's sections, the saved files and their names, --json,
# --repeat, failing/killed/timed-out scripts, script arguments and streams,
# non-UTF-8 names, colour and NO_COLOR, exports, the regression exit status.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
unset VIRTUAL_ENV

cat > work.py <<'PY'
import sys, time

def busy(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def main():
    busy(1000000)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.05)
    print("work done", sys.argv[1:])

main()
PY
printf 'import sys\nprint("argv", sys.argv[1:])\n' > args.py
printf 'import sys\nprint("read", sys.stdin.read().strip())\n' > reader.py
printf 'import sys\nprint("failing")\nsys.exit(3)\n' > exit3.py
printf 'def f():\n    return 1 / 0\nf()\n' > raises.py
printf 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n' > killed.py
printf 'import time\ntime.sleep(30)\n' > hang.py

NAME_RE='pyscope_report_[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{6}Z'

# --- the default report -------------------------------------------------------
run "$PYSCOPE" run work.py
expect_eq "run: exit 0" 0 "$RC"
expect_match "run: script output passes through" '^work done \[\]' "$OUT"
for re in '^PyScope Performance Report$' '^-{40}$' '^Execution Time : [0-9]+\.[0-9]{4} seconds$' \
    '^Average CPU    : [0-9]+\.[0-9]{2} %$' '^Peak Memory    : [0-9]+\.[0-9]{2} MiB$' \
    '^Mode           : sample' '^Top Hotspots$' '^(/.*/)?work\.py:busy$' '^  Total Time : ' \
    '^Optimization Suggestions$' "^JSON report saved to : reports/json/$NAME_RE\.json$" \
    "^HTML report saved to : reports/html/$NAME_RE\.html$" '^Performance Regression Check$'; do
    expect_match "run: report has /$re/" "$re" "$OUT"
done
expect_nomatch "run: no colour off a terminal" $'\033' "$OUT"
expect_eq "run: one JSON report" 1 "$(ls reports/json | grep -cE "^$NAME_RE\.json$")"
expect_eq "run: one HTML report" 1 "$(ls reports/html | grep -cE "^$NAME_RE\.html$")"
first=$(ls reports/json)
expect_eq "run: saved JSON schema" "pyscope.report/1" "$(jget schema <"reports/json/$first")"
expect_eq "run: saved JSON names itself" "reports/json/$first" \
    "$(jget files.json <"reports/json/$first")"
# outside a git repository the key is the absolute path (docs/json-schema.md)
expect_match "run: saved JSON script key" '^(/.*/)?work\.py$' "$(jget script.key <"reports/json/$first")"

run "$PYSCOPE" run work.py
second=$(ls reports/json | sort | tail -n 1)
expect_eq "run: two reports" 2 "$(ls reports/json | wc -l | tr -d ' ')"
if [ "$second" != "$first" ] && [ "$(ls reports/json | sort | head -n 1)" = "$first" ]; then
    ok "run: names sort by time"; else fail "run: names sort by time" "$first vs $second"; fi

# --- --reports-dir, --no-save -------------------------------------------------
run "$PYSCOPE" run --reports-dir "$T/elsewhere/deep" work.py
expect_eq "reports-dir: exit 0" 0 "$RC"
expect_eq "reports-dir: json" 1 "$(ls "$T/elsewhere/deep/json" | wc -l | tr -d ' ')"
expect_eq "reports-dir: html" 1 "$(ls "$T/elsewhere/deep/html" | wc -l | tr -d ' ')"
mkdir nosave && (cd nosave && run "$PYSCOPE" run --no-save ../work.py)
expect_eq "no-save: no reports folder" "" "$(ls nosave)"

# --- --json -------------------------------------------------------------------
run "$PYSCOPE" run --json --no-save work.py 0.01
expect_eq "json: exit 0" 0 "$RC"
expect_eq "json: schema" "pyscope.report/1" "$(printf '%s' "$OUT" | jget schema)"
expect_eq "json: parses as JSON" 0 "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; json.load(sys.stdin)' && echo 0)"
expect_match "json: script stdout went to stderr" 'work done' "$ERR"
expect_eq "json: has suggestions" "list" \
    "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; print(type(json.load(sys.stdin)["suggestions"]).__name__)')"
expect_eq "json: outcome" "ok" "$(printf '%s' "$OUT" | jget status.outcome)"

# --- --repeat -----------------------------------------------------------------
run "$PYSCOPE" run --repeat 3 --no-save work.py 0.01
expect_eq "repeat: exit 0" 0 "$RC"
expect_match "repeat: median" 'Execution Time : [0-9.]+ seconds \(median of 3 runs\)' "$OUT"
expect_match "repeat: min/max" '^  Min / Max    : [0-9.]+ / [0-9.]+ seconds \(spread' "$OUT"

# --- arguments, streams, odd names --------------------------------------------
run "$PYSCOPE" run --no-save args.py --repeat 5 -q "two words" --
expect_eq "args: exit 0" 0 "$RC"
expect_match "args: after SCRIPT belong to it" "argv \['--repeat', '5', '-q', 'two words', '--'\]" "$OUT"
set +e
OUT=$(echo "from stdin" | "$PYSCOPE" run --no-save reader.py 2>/dev/null)
set -e
expect_match "stdin: reaches the script" '^read from stdin$' "$OUT"
mkdir "sp ace"
cp work.py "sp ace/$(printf 'caf\xe9\xff')-x.py"
run "$PYSCOPE" run "sp ace/$(printf 'caf\xe9\xff')-x.py" 0.01
expect_eq "non-UTF-8 file name: exit 0" 0 "$RC"
expect_match "non-UTF-8 file name: report" '^PyScope Performance Report$' "$OUT"
run "$PYSCOPE" run --reports-dir "$(printf 'rep\xff')" --no-save work.py 0.01
expect_eq "non-UTF-8 reports dir with --no-save: exit 0" 0 "$RC"
run "$PYSCOPE" run --reports-dir "$(printf 'rep\xfe')" work.py 0.01
expect_eq "non-UTF-8 reports dir: exit 0" 0 "$RC"
expect_eq "non-UTF-8 reports dir: saved" 1 "$(ls "$(printf 'rep\xfe')/json" | wc -l | tr -d ' ')"

# --- failures -----------------------------------------------------------------
run "$PYSCOPE" run --no-save exit3.py
expect_eq "exit 3 script: exit 3" 3 "$RC"
expect_match "exit 3 script: says so" 'Script exited with status 3' "$OUT"
expect_match "exit 3 script: still a report" '^Execution Time : ' "$OUT"
# pyscope's exit status is its own (3: the script failed); the script's code is reported.
printf 'import sys\nsys.exit(7)\n' > exit7.py
run "$PYSCOPE" run --json --no-save exit7.py
expect_eq "exit 7 script: pyscope exits 3" 3 "$RC"
expect_eq "exit 7 script: its code in the report" "failed 7" \
    "$(printf '%s' "$OUT" | jget status.outcome) $(printf '%s' "$OUT" | jget status.exit_code)"
expect_match "exit 7 script: said on stderr" 'Script exited with status 7' "$ERR"
run "$PYSCOPE" run --no-save raises.py
expect_eq "uncaught exception: exit 3" 3 "$RC"
expect_match "uncaught exception: traceback on stderr" 'ZeroDivisionError' "$ERR"
expect_match "uncaught exception: says so" 'Script exited with status 1' "$OUT"
run "$PYSCOPE" run --no-save killed.py
expect_eq "killed script: exit 3" 3 "$RC"
expect_match "killed script: says so" 'Script killed by signal 9' "$OUT"
run "$PYSCOPE" run --no-save --timeout 1 hang.py
expect_eq "timeout: exit 124" 124 "$RC"
expect_match "timeout: says so" 'Timed out after 1 s' "$OUT"
run "$PYSCOPE" run --json --no-save --timeout 1 hang.py
expect_eq "timeout json: exit 124" 124 "$RC"
expect_eq "timeout json: outcome" "timeout" "$(printf '%s' "$OUT" | jget status.outcome)"

# Ctrl-C (SIGINT to the whole process group) reaches the script; pyscope still reports,
# then dies of SIGINT as python3 would (test_cli_signals has the other signals).
if command -v setsid >/dev/null; then
    setsid "$PYSCOPE" run --no-save hang.py >"$T/int.out" 2>"$T/int.err" &
    pid=$!
    sleep 1.5
    kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid"
    set +e
    wait "$pid"
    RC=$?
    set -e
    expect_eq "ctrl-c: dies of SIGINT" 130 "$RC"
    expect_match "ctrl-c: reported" 'Interrupted by SIGINT .*script killed by signal 2 \(SIGINT\)' "$(cat "$T/int.out")"
    expect_match "ctrl-c: KeyboardInterrupt on stderr" 'KeyboardInterrupt' "$(cat "$T/int.err")"
fi

# --- trace mode, top, quiet, exports ------------------------------------------
run "$PYSCOPE" run --mode trace --no-save --top 2 work.py 0.01
expect_eq "trace: exit 0" 0 "$RC"
expect_match "trace: mode shown" '^Mode           : trace' "$OUT"
expect_match "trace: call counts" '^  Calls      : [0-9]+$' "$OUT"
run "$PYSCOPE" run -q --no-save work.py 0.01
expect_eq "quiet: exit 0" 0 "$RC"
expect_eq "quiet: only the script's output" "work done ['0.01']" "$OUT"
run "$PYSCOPE" run --no-save --export collapsed stacks.txt --export speedscope prof.json work.py 0.01
expect_eq "export: exit 0" 0 "$RC"
if [ -s stacks.txt ]; then ok "export: collapsed written"; else fail "export: collapsed written" "empty"; fi
expect_eq "export: speedscope parses" 0 "$("$PY" -c 'import json; json.load(open("prof.json"))' && echo 0)"

# --- colour -------------------------------------------------------------------
run "$PYSCOPE" run --no-save --color always work.py 0.01
expect_match "color always: escapes" $'\033\\[' "$OUT"
run env NO_COLOR=1 "$PYSCOPE" run --no-save --color always work.py 0.01
expect_match "color always beats NO_COLOR" $'\033\\[' "$OUT"
run env -u NO_COLOR "$PYSCOPE" run --no-save --color never work.py 0.01
expect_nomatch "color never" $'\033' "$OUT"
if command -v script >/dev/null; then
    # On a terminal: colour by default, none with NO_COLOR.
    q() { printf "'%s' " "$@"; }
    tty_out=$(env -u NO_COLOR TERM=xterm script -qec "$(q "$PYSCOPE" run --no-save work.py 0.01)" /dev/null </dev/null || true)
    expect_match "tty: colour by default" $'\033\\[1mPyScope' "$tty_out"
    tty_out=$(env NO_COLOR=1 TERM=xterm script -qec "$(q "$PYSCOPE" run --no-save work.py 0.01)" /dev/null </dev/null || true)
    expect_nomatch "tty: NO_COLOR respected" $'\033\\[1m' "$tty_out"
fi

# --- regression exit status ---------------------------------------------------
mkdir reg && cd reg
cp ../work.py .
# 5 earlier runs: with 3 the noise floor (t(0.995, 2) = 9.9 sigma) can swallow even
# this change on a loaded machine under ASan
for i in 1 2 3 4 5; do run "$PYSCOPE" run -q --repeat 3 work.py 0.05; done
run "$PYSCOPE" run --repeat 3 --fail-on-regression work.py 0.6
expect_eq "regression: exit 1 with --fail-on-regression" 1 "$RC"
expect_match "regression: reported" 'regress|slower|increased' "$OUT"
run "$PYSCOPE" run --repeat 3 --no-save work.py 0.6
expect_eq "regression: exit 0 without --fail-on-regression" 0 "$RC"
cd ..
finish
