#!/usr/bin/env bash
# test_cli_usage.sh - pyscope's command line: help, version, and every kind of bad
# input answered with exit status 2 and a clear message, before anything runs.
# labels: asan
source "$(dirname "$0")/lib.sh"
cd "$T"
printf 'print("hi")\n' > ok.py
mkdir adir

# run CMD...: sets OUT, ERR, RC

run "$PYSCOPE" --help
expect_eq "--help exit" 0 "$RC"
expect_match "--help lists run" '^  run ' "$OUT"
run "$PYSCOPE" -h
expect_eq "-h exit" 0 "$RC"
run "$PYSCOPE" --version
expect_eq "--version exit" 0 "$RC"
expect_match "--version text" '^pyscope [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
run "$PYSCOPE" run --version
expect_match "run --version text" '^pyscope [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"
run "$PYSCOPE" run --help
expect_eq "run --help exit" 0 "$RC"
expect_match "run --help usage" 'Usage: pyscope run \[OPTIONS\] SCRIPT \[ARGS\.\.\.\]' "$OUT"
for opt in --mode --repeat --warmup --interval-ms --timeout --venv --reports-dir --no-save \
    --json --export --threshold --fail-on-regression --top --color --quiet; do
    expect_match "run --help documents $opt" -- "$opt" "$OUT"
done
expect_match "run --help documents exit statuses" '124' "$OUT"
expect_eq "run --help writes nothing on stderr" "" "$ERR"
run "$PYSCOPE" help run
expect_match "help run" 'Usage: pyscope run' "$OUT"

run "$PYSCOPE"
expect_eq "no command exit" 2 "$RC"
expect_match "no command shows usage on stderr" 'Usage: pyscope COMMAND' "$ERR"
run "$PYSCOPE" frobnicate
expect_eq "unknown command exit" 2 "$RC"
expect_match "unknown command message" 'unknown command "frobnicate"' "$ERR"
run "$PYSCOPE" ok.py
expect_eq "bare script exit" 2 "$RC"
expect_match "bare script hint" "Did you mean 'pyscope run ok.py'" "$ERR"
run "$PYSCOPE" --frob
expect_eq "unknown global option exit" 2 "$RC"
run "$PYSCOPE" help nope
expect_eq "help of unknown command" 2 "$RC"

# every subcommand says an unknown option in the project's words, never getopt's own
# ("submit: unrecognized option '--metric'", stranger17), before connecting anywhere
for cmd in "submit s.ini --instructions --metric instructions" "hosts --frob" "jobs --frob" \
    "status 1 --frob" "report --frob" "triage 1 ack --frob" "compare-hosts a.py --frob" \
    "compare-pythons a.py --frob" "keygen k --frob" "history a.py --frob" "compare --frob" \
    "try s.ini --base a --head b --frob" "bisect ok.py --host h --good a --bad b --frob"; do
    # shellcheck disable=SC2086
    run env PYSCOPE_COORDINATOR=tcp://127.0.0.1:1 "$PYSCOPE" $cmd
    opt=${cmd##* }
    [ "$opt" = instructions ] && opt=--metric
    expect_eq "${cmd%% *} $opt: exit 2" 2 "$RC"
    expect_match "${cmd%% *} $opt: the project's message and hint" \
        "^pyscope: error: unknown or ambiguous option $opt\$" "$ERR"
    expect_match "${cmd%% *} $opt: the hint" "Try 'pyscope ${cmd%% *} --help'" "$ERR"
    expect_nomatch "${cmd%% *} $opt: not getopt's words" "unrecognized|invalid option" "$ERR"
done
# the local try and bisect too (after the script, words are the script's arguments)
for cmd in try bisect; do
    run "$PYSCOPE" $cmd --frob --base a --head b --good a --bad b ok.py
    expect_eq "local $cmd --frob: exit 2" 2 "$RC"
    expect_match "local $cmd --frob: the project's message" \
        "^pyscope: error: unknown or ambiguous option --frob\$" "$ERR"
    opt=--base
    [ $cmd = bisect ] && opt=--good
    run "$PYSCOPE" $cmd $opt
    expect_match "local $cmd $opt without a value" "^pyscope: error: option $opt needs a value" "$ERR"
done
# --rounds: one range, 1 to 50, local and farm alike; every range error echoes the value
for cmd in "try --base a --head b --rounds 51 ok.py" "bisect --good a --bad b --rounds 51 ok.py" \
    "bisect ok.py --host h --good a --bad b --rounds 51" "try s.ini --base a --head b --rounds 51"; do
    # shellcheck disable=SC2086
    run env PYSCOPE_COORDINATOR=tcp://127.0.0.1:1 "$PYSCOPE" $cmd
    expect_eq "$cmd: exit 2" 2 "$RC"
    expect_match "$cmd: the range 1 to 50, with the value given" '"51".*1 to 50|1 to 50.*"51"' "$ERR"
done
run env PYSCOPE_COORDINATOR=tcp://127.0.0.1:1 "$PYSCOPE" bisect ok.py --host h --good a --bad b --repeat 0
expect_match "farm bisect --repeat 0: the value echoed" 'from 1 to [0-9]+, not "0"' "$ERR"
run env PYSCOPE_COORDINATOR=tcp://127.0.0.1:1 "$PYSCOPE" bisect ok.py --host h --good a --bad b --budget 0
expect_match "farm bisect --budget 0: the value echoed" '30 days\), not "0"' "$ERR"
run "$PYSCOPE" submit s.ini --repeat
expect_match "submit --repeat without a value" "^pyscope: error: option --repeat needs a value" "$ERR"

# bad_input NAME REGEX ARGS...: pyscope run ARGS must exit 2 with REGEX on stderr,
# nothing on stdout, and must not create a reports folder.
bad_input() {
    local name=$1 re=$2
    shift 2
    rm -rf "$T/reports"
    run "$PYSCOPE" run "$@"
    expect_eq "$name: exit 2" 2 "$RC"
    expect_match "$name: message" "$re" "$ERR"
    expect_eq "$name: nothing on stdout" "" "$OUT"
    if [ -e "$T/reports" ]; then fail "$name: no reports folder" "reports/ created"; else
        ok "$name: no reports folder"; fi
}

bad_input "no script" 'no script given' 
bad_input "missing script" 'could not open script "nope\.py": No such file or directory' nope.py
bad_input "script is a directory" 'script "adir" is a directory' adir
bad_input "unknown option" 'unknown or ambiguous option --frob' --frob ok.py
bad_input "unknown short option" 'unknown option -Z' -Z ok.py
bad_input "flag with a value" 'option --json=yes takes no value' --json=yes ok.py
bad_input "missing value" 'option --repeat needs a value' --repeat
bad_input "non-numeric repeat" '--repeat: "abc" is not an integer' --repeat abc ok.py
bad_input "negative repeat" '--repeat: "-3" is out of range' --repeat -3 ok.py
bad_input "zero repeat" '--repeat: "0" is out of range' --repeat 0 ok.py
bad_input "huge repeat" '--repeat: "99999999999999999999999" is out of range' \
    --repeat 99999999999999999999999 ok.py
bad_input "repeat with junk" '--repeat: "3x" is not an integer' --repeat 3x ok.py
bad_input "repeat with blank" '--repeat: " 3" is not an integer' --repeat " 3" ok.py
bad_input "empty repeat" '--repeat: "" is not an integer' --repeat= ok.py
bad_input "negative warmup" '--warmup: "-1" is out of range' --warmup -1 ok.py
bad_input "nan timeout" '--timeout: "nan" is not a number' --timeout nan ok.py
bad_input "inf timeout" '--timeout: "inf" is not a number' --timeout inf ok.py
bad_input "zero timeout" '--timeout: "0" is out of range' --timeout 0 ok.py
bad_input "negative timeout" '--timeout: "-2" is out of range' --timeout -2 ok.py
bad_input "huge timeout" '--timeout: "1e300" is out of range' --timeout 1e300 ok.py
bad_input "hex interval" '--interval-ms: "0x10" is not a number' --interval-ms 0x10 ok.py
bad_input "tiny interval" '--interval-ms: "0.001" is out of range' --interval-ms 0.001 ok.py
bad_input "bad mode" 'invalid value for --mode: "fast"' --mode fast ok.py
bad_input "bad color" 'invalid value for --color: "blue"' --color blue ok.py
bad_input "bad top" '--top: "many" is not an integer' --top many ok.py
bad_input "bad threshold" '--threshold: "-5" is out of range' --threshold -5 ok.py
bad_input "threshold not a number" '--threshold: "fast%" is out of range or not a percentage' \
    --threshold fast% ok.py
bad_input "threshold nan" '--threshold: "nan" is out of range or not a percentage' --threshold nan ok.py
bad_input "bad export format" 'invalid format for --export: "svg"' --export svg out.svg ok.py
bad_input "export without file" '--export collapsed needs a FILE' --export collapsed
bad_input "export into missing folder" \
    'could not write export file "nodir/x\.txt": No such file or directory' \
    --export collapsed nodir/x.txt ok.py
bad_input "venv missing" 'could not open --venv "novenv": No such file or directory' \
    --venv novenv ok.py
bad_input "venv is a file" '--venv "ok\.py" is not a directory' --venv ok.py ok.py
bad_input "empty reports dir" 'invalid value for --reports-dir: empty' --reports-dir= ok.py

# A reports folder that cannot be created (under a regular file: fails even for root).
run "$PYSCOPE" run --reports-dir ok.py/reports ok.py
expect_eq "uncreatable reports dir: exit 2" 2 "$RC"
expect_match "uncreatable reports dir: names path and reason" \
    'could not create reports folder "ok\.py/reports/json": Not a directory' "$ERR"
mkdir -p r2 && touch r2/html
run "$PYSCOPE" run --reports-dir r2 ok.py
expect_eq "html folder is a file: exit 2" 2 "$RC"
expect_match "html folder is a file: message" 'could not create reports folder "r2/html"' "$ERR"
if [ "$(id -u)" -ne 0 ]; then
    mkdir ro && chmod 555 ro
    run "$PYSCOPE" run --reports-dir ro/reports ok.py
    expect_eq "read-only reports parent: exit 2" 2 "$RC"
    expect_match "read-only reports parent: message" 'Permission denied' "$ERR"
    printf 'x' > secret.py && chmod 000 secret.py
    run "$PYSCOPE" run secret.py
    expect_eq "unreadable script: exit 2" 2 "$RC"
    expect_match "unreadable script: message" 'could not read script "secret\.py"' "$ERR"
fi

# A runner that does not exist is an internal error, not a usage error.
PYSCOPE_RUN_BIN="$T/no-such-runner" run "$PYSCOPE" run --no-save ok.py
expect_eq "missing runner: exit 4" 4 "$RC"
expect_match "missing runner: message" 'PYSCOPE_RUN_BIN ".*no-such-runner": No such file' "$ERR"

# An output in a missing folder is refused before any work: compare printed the whole
# comparison, then the error, and exited 4; history likewise.
printf '{}' > a.json
run "$PYSCOPE" compare --html nodir/x.html a.json a.json
expect_eq "compare --html into missing folder: exit 2" 2 "$RC"
expect_match "compare --html into missing folder: message" \
    'could not write file "nodir/x\.html": No such file or directory' "$ERR"
expect_eq "compare --html into missing folder: nothing on stdout" "" "$OUT"
run "$PYSCOPE" compare --junit ok.py/x.xml a.json a.json
expect_eq "compare --junit under a file: exit 2" 2 "$RC"
expect_match "compare --junit under a file: message" 'Not a directory' "$ERR"
run "$PYSCOPE" history --html nodir/t.html ok.py
expect_eq "history --html into missing folder: exit 2" 2 "$RC"
expect_match "history --html into missing folder: message" \
    'could not write file "nodir/t\.html": No such file or directory' "$ERR"
expect_eq "history --html into missing folder: nothing on stdout" "" "$OUT"

# A malformed --coordinator is the user's to fix: exit 2 (it was 4, as for an unreachable one).
run "$PYSCOPE" hosts --coordinator bogus://x --timeout 1
expect_eq "bad coordinator address: exit 2" 2 "$RC"
expect_match "bad coordinator address: message" 'bad coordinator address "bogus://x"' "$ERR"
finish
