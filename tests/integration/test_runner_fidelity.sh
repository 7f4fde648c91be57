#!/usr/bin/env bash
# test_runner_fidelity.sh - pyscope-run runs a script exactly like plain python:
# sys.argv, __main__, sys.path, flags, signal dispositions, stdin/stdout/stderr,
# fork, odd file names. Each check runs the same script both ways and compares.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp "$SCRIPTS/show_env.py" "$SCRIPTS/echo_stdin.py" "$SCRIPTS/forker.py" "$T/"
mkdir -p "$T/sub/work"
cp "$SCRIPTS/show_env.py" "$T/sub/"

# same_env NAME ARGS...: show_env.py under both, "same" parts equal, executable set.
same_env() {
    local name=$1
    shift
    run_py "$name.py" "$@"
    local py_rc=$RC
    run_ps "$name.ps" "$@"
    expect_eq "$name: python ran it" 0 "$py_rc"
    expect_eq "$name: pyscope-run exit" 0 "$RC"
    local diff
    diff=$("$PY" "$TOOLS/env_diff.py" "$T/$name.py.out" "$T/$name.ps.out")
    expect_eq "$name: same view of the world as python" "" "$diff"
    expect_match "$name: sys.executable set" '^/' "$(jeval "$T/$name.ps.out" 'd["info"]["executable"]')"
}

# 1. Plain invocation, relative path, from the script's folder.
cd "$T"
same_env env_plain show_env.py

# 2. Option-like and odd arguments belong to the script, not to pyscope-run.
same_env env_args show_env.py --mode trace --output x.json -x '' 'two words' 'ünï' -- --repeat
expect_eq "argv reaches the script" \
    '["show_env.py", "--mode", "trace", "--output", "x.json", "-x", "", "two words", "ünï", "--", "--repeat"]' \
    "$(jeval "$T/env_args.ps.out" 'd["same"]["argv"]')"
expect_eq "JSON script.args" \
    '["--mode", "trace", "--output", "x.json", "-x", "", "two words", "ünï", "--", "--repeat"]' \
    "$(jeval "$T/env_args.ps.json" 'd["script"]["args"]')"

# 3. "--" separates pyscope-run's options from the script.
run_py sep.py show_env.py a
run_ps sep.ps --mode sample -- show_env.py a
expect_eq "-- separator: exit" 0 "$RC"
expect_eq "-- separator: argv" '["show_env.py", "a"]' "$(jeval "$T/sep.ps.out" 'd["same"]["argv"]')"

# 4. Script in another folder (relative and absolute), run from a third folder.
cd "$T/sub/work"
same_env env_relative ../show_env.py one
same_env env_absolute "$T/sub/show_env.py" two
expect_eq "sys.path[0] is the script's folder" "$(cd "$T/sub" && pwd -P)" \
    "$(jeval "$T/env_absolute.ps.out" 'd["same"]["path0"]')"
cd "$T"

# 5. Trace mode sees the same world.
run_ps env_trace --mode trace show_env.py
expect_eq "trace mode: exit" 0 "$RC"
expect_eq "trace mode: same argv/path/main" \
    "$(jeval "$T/env_plain.py.out" '[d["same"][k] for k in ("argv","name","path","file","flags")]')" \
    "$(jeval "$T/env_trace.out" '[d["same"][k] for k in ("argv","name","path","file","flags")]')"

# 6. stdin, stdout and stderr pass through untouched (bytes, not just text).
printf 'hello\nworld\nthird line with é\n' >"$T/input.txt"
STDIN_FILE="$T/input.txt" run_py stdin.py echo_stdin.py
STDIN_FILE="$T/input.txt" run_ps stdin.ps echo_stdin.py
expect_eq "stdin script: exit" 0 "$RC"
if cmp -s "$T/stdin.py.out" "$T/stdin.ps.out"; then ok "stdout identical (bytes)"; else
    fail "stdout identical (bytes)" "$(od -c "$T/stdin.ps.out" | head -20)"; fi
expect_file_contains "stderr passes through" "$T/stdin.py.err" "$T/stdin.ps.err"
# Through a real pipe too (not a file), in both modes.
for mode in sample trace; do
    got=$(printf 'a\nb\n' | "$PYSCOPE_RUN" --mode "$mode" --output "$T/pipe.json" echo_stdin.py 2>/dev/null)
    expect_eq "stdin from a pipe ($mode)" "$(printf '1: A\n2: B\nbytes \xc3\xa9 \xff done')" "$got"
done
# Nothing but the script's output on stdout when --output is a file.
run_ps quiet echo_stdin.py
expect_eq "stdout holds only the script's output" "$(tail -n 1 "$T/stdin.py.out")" \
    "$(cat "$T/quiet.out")"

# 7. fork: the child runs, its output appears once, the parent sees its status.
run_py fork.py forker.py
run_ps fork.ps forker.py
expect_eq "fork: exit" 0 "$RC"
expect_eq "fork: same output as python" "$(sort "$T/fork.py.out")" "$(sort "$T/fork.ps.out")"
expect_valid_json "fork: JSON valid" "$T/fork.ps.json" --no-host
expect_eq "fork: one JSON document (parent's)" 0 "$(jeval "$T/fork.ps.json" 'd["status"]["exit_code"]')"

# 8. A script whose file name is not UTF-8: python runs it; pyscope-run runs it too,
# or refuses with a clear usage error, and never writes invalid JSON.
bad=$'\xff\xfename.py'
printf 'import sys\nprint("odd name ran", len(sys.argv))\n' >"$T/$bad"
run_py oddname.py "$bad"
expect_eq "non-UTF-8 name: python runs it" 0 "$RC"
run_ps oddname.ps "$bad"
case $RC in
0)
    ok "non-UTF-8 name: pyscope-run runs it"
    expect_eq "non-UTF-8 name: same output" "$(cat "$T/oddname.py.out")" "$(cat "$T/oddname.ps.out")"
    expect_valid_json "non-UTF-8 name: JSON valid UTF-8" "$T/oddname.ps.json" --no-host
    ;;
2)
    ok "non-UTF-8 name: refused as a usage error"
    expect_match "non-UTF-8 name: says why" '.+' "$(cat "$T/oddname.ps.err")"
    ;;
*) fail "non-UTF-8 name" "exit $RC: $(head -c 500 "$T/oddname.ps.err")" ;;
esac

finish
