#!/usr/bin/env bash
# test_trace_cprofile.sh - trace mode counts calls exactly: for every deterministic
# example, pyscope-run --mode trace and `python -m cProfile` must report the same
# number of calls for every Python function. (Trace mode does not list built-in
# C functions: their time is in their Python callers' self time; docs/json-schema.md.)
#
# Import state: `python -m cProfile` has already imported ~60 modules (runpy,
# cProfile, re, enum, ...) before the script starts, plain python has not, so an
# `import re` in the script runs the import machinery under one profiler and is a
# dictionary hit under the other. To compare like with like, both runs get the
# same usercustomize.py (via PYTHONPATH) that imports those modules and the
# examples' own imports first. The profiles then differ only if the counting does.
#
# Identity: tests/data/scripts/identity/main.py frees code objects as it goes
# (module top-level code after import, exec() and compile() of generated source,
# closures); every Python function of the run, standard library included, must
# have cProfile's count. cProfile's side comes from cprofile_threads.py --counts
# (pstats keeps one of several code objects with the same label), both with the absolute
# script path and no bytecode files (the same import path for both runs).
#
# Threads: `python -m cProfile` profiles the main thread only, so a threaded script is
# compared with tests/bench/cprofile_threads.py (cProfile in every thread, the
# benchmark's reference), on the script's own functions (that wrapper starts each
# thread's profile from inside threading's Thread.run).
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

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
threads = [threading.Thread(target=work, args=(k, acc)) for k in range(3)]
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
    f.write("# written by test_trace_cprofile.sh: same import state for both profilers\n")
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
    "$(jget "$T/empty.json" \
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
expect_eq "identity: all 30 work_N, 50 gen_N, 20 comp_N listed" "30 50 20" "$(jget \
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
expect_eq "threaded: trace has stacks in 4 threads" 4 "$(jget "$T/threaded.trace.json" \
    'len({s["thread"] for s in d["profile"]["stacks"]})')"
if out=$("$PY" "$TOOLS/compare_cprofile.py" --cwd "$T" --only-file threaded.py \
    "$T/threaded.trace.json" "$T/threaded.prof" 2>&1); then
    ok "threaded: call counts in every thread equal cProfile's ($(echo "$out" | head -n 1))"
else
    fail "threaded: call counts in every thread equal cProfile's" "$out"
fi

finish
