#!/usr/bin/env bash
# pyver_lib.sh - pyscope-run under one CPython version (PYVER=3.X, set by the
# test_python3X.sh that sources this): the interpreter is found on this machine
# (find_python: Debian's, else pyenv's), or the test is skipped (exit 77).
# Every pyscope-run here runs with --python that interpreter, and every
# comparison is with that same interpreter run plainly or under cProfile.
#
# 1. Fidelity: the script sees what plain python shows it (argv, sys.path,
#    __main__, flags, signals, modules, environment), in both modes.
# 2. Exit status and signals are the script's.
# 3. Trace mode counts calls exactly: for every deterministic example, every
#    Python function (standard library included) has the number of calls
#    cProfile gives it, and so for identity/main.py, whose code objects die
#    as it runs (module top-level code after import, exec, compile, closures):
#    cProfile's side there is cprofile_threads.py --counts (pstats keeps one of
#    several code objects with the same label); no bytecode files, so that
#    both runs import the same way.
#    Import state: `python -m cProfile` has already imported ~60 modules
#    (runpy, cProfile, re, enum, ...) before the script starts, plain python
#    has not, so an `import re` in the script runs the import machinery under
#    one profiler and is a dictionary hit under the other. Both runs get the
#    same usercustomize.py (via PYTHONPATH) that imports those modules and the
#    examples' own imports first. What the runner reports for an empty script
#    (start-up work before the first line, which cProfile never sees) is
#    subtracted. Threads: `python -m cProfile` profiles the main thread only,
#    so a threaded script is compared with tests/bench/cprofile_threads.py
#    (cProfile in every thread) on the script's own functions.
# 4. Sample mode names the right function when code objects die
#    (tools/check_identity.py over identity/main.py's stacks) and names
#    threads as threading does.
# 5. A virtualenv of this version: its packages are the script's.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

: "${PYVER:?set PYVER (3.10 ...) before sourcing pyver_lib.sh}"
PV=$(find_python "$PYVER")
if [ -z "$PV" ]; then
    echo "skip: no CPython $PYVER on this machine (looked in /usr/bin, /usr/local/bin and pyenv)"
    exit 77
fi
echo "# CPython $PYVER: $PV"
PY=$PV
PS_PYTHON=$PV

cd "$T"
cp "$SCRIPTS/show_env.py" "$SCRIPTS/behave.py" "$T/"

# 1. Fidelity, in both modes.
run_py env.py show_env.py one -x
for mode in sample trace; do
    run_ps "env.$mode" --mode "$mode" show_env.py one -x
    expect_eq "$mode: exit" 0 "$RC"
    diff=$("$PY" "$TOOLS/env_diff.py" "$T/env.py.out" "$T/env.$mode.out")
    expect_eq "$mode: the script sees what python shows it" "" "$diff"
    expect_eq "$mode: JSON python.version is $PYVER" "$PYVER" \
        "$(jeval "$T/env.$mode.json" '".".join(d["python"]["version"].split(".")[:2])')"
    expect_eq "$mode: the report says what profiling cost, in numbers" yes \
        "$(jeval "$T/env.$mode.json" '(lambda o, n: "yes" if o["startup_s"] > 0 and (o.get("per_call_ns") or 0) >= (1 if d["options"]["mode"] == "trace" else 0) and any(ch.isdigit() for ch in n) else (o, n))(d["profile"]["overhead"], d["profile"]["overhead_note"])')"
    expect_eq "$mode: JSON python.executable is the one run" "$("$PV" -c 'import sys; print(sys.executable)')" \
        "$(jeval "$T/env.$mode.json" 'd["python"]["executable"]')"
done

# 2. Exit status and signals.
run_ps exit5 behave.py exit5
expect_eq "sys.exit(5): pyscope-run exit 3, the script's 5 in the JSON" "3 5" \
    "$RC $(jeval "$T/exit5.json" 'd["status"]["exit_code"]')"
run_ps kill9 --mode trace behave.py kill9
expect_eq "killed by SIGKILL: signal 9 in the JSON" "3 9" \
    "$RC $(jeval "$T/kill9.json" 'd["status"]["signal"]')"

# 3. Trace mode against cProfile.
EXAMPLES="slow_script fib_recursion many_calls string_concat regex_in_loop io_wait memory_growth"

cd "$T"
for ex in $EXAMPLES; do cp "$PYSCOPE_SRC/examples/$ex.py" "$T/"; done
cat >"$T/threaded.py" <<'PYEOF'
import threading


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Acc:
    def __init__(self):
        self.total = 0

    def add(self, x):
        self.total += x


def work(k, acc):
    for i in range(40 + k):
        acc.add(fib(12 + i % 3))


acc = Acc()
threads = [threading.Thread(target=work, args=(k, acc), name="cruncher-%d" % k) for k in range(3)]
for t in threads:
    t.start()
work(5, acc)
for t in threads:
    t.join()
print(acc.total)
PYEOF
export PYSCOPE_EXAMPLE_SLOWDOWN=-50 # slow_script: half the work, same calls

# Build the preload: modules cProfile's start-up imports, plus the examples' imports.
mkdir -p "$T/preload"
printf 'import sys\nprint("\\n".join(sorted(sys.modules)))\n' >"$T/modlist.py"
"$PY" -m cProfile -o /dev/null modlist.py >"$T/mods_cprofile.txt"
"$PY" modlist.py >"$T/mods_plain.txt"
"$PY" - "$T/mods_cprofile.txt" "$T/mods_plain.txt" "$T/preload/usercustomize.py" $EXAMPLES <<'PYEOF'
import ast, sys
cp = set(open(sys.argv[1]).read().split())
plain = set(open(sys.argv[2]).read().split())
mods = cp - plain - {"__main__"}
for ex in sys.argv[4:]:
    for node in ast.walk(ast.parse(open(ex + ".py").read())):
        if isinstance(node, ast.Import):
            mods.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            mods.add(node.module)
with open(sys.argv[3], "w") as f:
    f.write("# written by pyver_lib.sh: same import state for both profilers\n")
    f.write("import importlib\nfor _m in %r:\n" % sorted(mods))
    f.write("    try:\n        importlib.import_module(_m)\n    except ImportError:\n        pass\n")
PYEOF
export PYTHONPATH="$T/preload"

# The preload must take effect under pyscope-run too (usercustomize via site).
run_ps preload_check modlist.py
expect_eq "preload: pyscope-run runs with usercustomize" "yes" \
    "$(grep -qx optparse "$T/preload_check.out" && echo yes || echo no)"

# What the runner reports for an empty script is start-up work before the script's
# first line (cProfile starts later and never sees it). It should be nothing but
# the script's <module>; whatever it is, it is subtracted from the comparisons below
# so that they test the counting alone.
printf 'x = 1\n' >"$T/empty.py"
run_ps empty --mode trace empty.py
expect_eq "empty script: trace exit" 0 "$RC"
expect_eq "empty script: only its <module> in the trace" "" \
    "$(jeval "$T/empty.json" \
        '" ".join(sorted(f["key"] for f in d["profile"]["functions"] if f["file"] != "'"$T/empty.py"'"))')"

for ex in $EXAMPLES; do
    run_ps "$ex.trace" --mode trace "$ex.py"
    expect_eq "$ex: pyscope-run --mode trace exit" 0 "$RC"
    capture "$ex.cprofile" "$PY" -m cProfile -o "$T/$ex.prof" "$ex.py"
    expect_eq "$ex: cProfile exit" 0 "$RC"
    expect_eq "$ex: same output" "$(cat "$T/$ex.cprofile.out")" "$(cat "$T/$ex.trace.out")"
    for kind in python; do
        if out=$("$PY" "$TOOLS/compare_cprofile.py" --cwd "$T" --baseline "$T/empty.json" \
            --kind "$kind" "$T/$ex.trace.json" "$T/$ex.prof" 2>&1); then
            ok "$ex: $kind call counts equal cProfile's ($(echo "$out" | head -n 1))"
        else
            fail "$ex: $kind call counts equal cProfile's" "$out"
        fi
    done
done

# Functions whose code objects die during the run keep their own identity.
cp -r "$SCRIPTS/identity" "$T/identity"
PYTHONDONTWRITEBYTECODE=1 run_ps identity.trace --mode trace "$T/identity/main.py"
expect_eq "identity: pyscope-run --mode trace exit" 0 "$RC"
rm -rf "$T/identity/mods" # each run starts with none (os.makedirs calls differ otherwise)
PYTHONDONTWRITEBYTECODE=1 capture identity.cprofile "$PY" \
    "$PYSCOPE_SRC/tests/bench/cprofile_threads.py" --counts "$T/identity.cprofile.json" \
    "$T/identity/main.py"
expect_eq "identity: cProfile exit" 0 "$RC"
expect_eq "identity: same output" "$(cat "$T/identity.cprofile.out")" \
    "$(cat "$T/identity.trace.out")"
if out=$("$PY" "$TOOLS/compare_cprofile.py" --cwd "$T" --baseline "$T/empty.json" \
    --kind python "$T/identity.trace.json" "$T/identity.cprofile.json" 2>&1); then
    ok "identity: every Python function's calls equal cProfile's ($(echo "$out" | head -n 1))"
else
    fail "identity: every Python function's calls equal cProfile's" "$out"
fi
expect_eq "identity: all 30 work_N, 50 gen_N, 20 comp_N listed" "30 50 20" "$(jeval \
    "$T/identity.trace.json" '" ".join(str(len({f["name"] for f in d["profile"]["functions"]
        if f["name"].startswith(p)})) for p in ("work_", "gen_", "comp_"))')"

# Every thread: the same counts as cProfile enabled in every thread.
run_ps threaded.trace --mode trace threaded.py
expect_eq "threaded: pyscope-run --mode trace exit" 0 "$RC"
capture threaded.cprofile "$PY" "$PYSCOPE_SRC/tests/bench/cprofile_threads.py" \
    -o "$T/threaded.prof" threaded.py
expect_eq "threaded: cprofile_threads.py exit" 0 "$RC"
expect_eq "threaded: same output" "$(cat "$T/threaded.cprofile.out")" \
    "$(cat "$T/threaded.trace.out")"
expect_eq "threaded: cprofile_threads.py profiled 4 threads" "yes" \
    "$(grep -qx 'cprofile_threads: 4 thread(s) profiled' "$T/threaded.cprofile.err" &&
        echo yes || echo no)"
expect_eq "threaded: trace has stacks in 4 threads, named as threading names them" \
    "MainThread cruncher-0 cruncher-1 cruncher-2" "$(jeval "$T/threaded.trace.json" \
    '" ".join(sorted({s["thread"] for s in d["profile"]["stacks"]}))')"
if out=$("$PY" "$TOOLS/compare_cprofile.py" --cwd "$T" --only-file threaded.py \
    "$T/threaded.trace.json" "$T/threaded.prof" 2>&1); then
    ok "threaded: call counts in every thread equal cProfile's ($(echo "$out" | head -n 1))"
else
    fail "threaded: call counts in every thread equal cProfile's" "$out"
fi


# 4. Sample mode: identity and thread names.
cp -r "$SCRIPTS/identity" "$T/identity.sample"
# Loops long enough (~40 ms an import, ~25 ms a work_N) for a 1 ms sampler.
IDENTITY_IMPORT_SPIN=40000 IDENTITY_SPIN=400000 PYTHONDONTWRITEBYTECODE=1 \
    run_ps identity.sample --interval-ms 1 "$T/identity.sample/main.py"
expect_eq "sample identity: exit" 0 "$RC"
if out=$("$PY" "$TOOLS/check_identity.py" "$T/identity.sample.json" 2>&1); then
    ok "sample identity: no borrowed names ($out)"
else
    fail "sample identity: no borrowed names" "$out"
fi
cat >"$T/named.py" <<'PYEOF'
import threading
import time


def burn(seconds):
    # the thread's own CPU time: each thread runs long enough to be sampled even when a
    # busy machine gives this process (and the sampler) a small share of a CPU
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


threads = [threading.Thread(target=burn, args=(0.3,), name="cruncher-%d" % k) for k in range(2)]
for t in threads:
    t.start()
burn(0.3)
for t in threads:
    t.join()
PYEOF
run_ps named --interval-ms 1 named.py
expect_eq "sample: thread names as threading names them" "MainThread cruncher-0 cruncher-1" \
    "$(jeval "$T/named.json" '" ".join(sorted(t["name"] for t in d["profile"]["threads"]))')"

# 5. A virtualenv of this version.
if "$PV" -m venv --without-pip "$T/venv" >"$T/venv.log" 2>&1; then
    site=$("$T/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    printf 'ANSWER = 42\n' >"$site/pyscope_venv_probe.py"
    printf 'import pyscope_venv_probe, sys\nprint(pyscope_venv_probe.ANSWER, sys.prefix)\n' \
        >"$T/usevenv.py"
    for mode in sample trace; do
        PS_PYTHON= capture "venv.$mode" env VIRTUAL_ENV="$T/venv" "$PYSCOPE_RUN" --mode "$mode" \
            --output "$T/venv.$mode.json" usevenv.py
        expect_eq "venv ($mode): its packages, its prefix" "0 42 $T/venv" \
            "$RC $(cat "$T/venv.$mode.out")"
        expect_eq "venv ($mode): JSON python.venv, version" "$T/venv $PYVER" \
            "$(jeval "$T/venv.$mode.json" 'd["python"]["venv"] + " " + ".".join(d["python"]["version"].split(".")[:2])')"
    done
else
    fail "create a $PYVER virtualenv" "$(cat "$T/venv.log")"
fi

finish
