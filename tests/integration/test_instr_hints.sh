#!/usr/bin/env bash
# test_instr_hints.sh - what instruction counts cannot see is said (README, "Deterministic
# instruction counts"): a script that starts child processes (os.fork, subprocess) has only
# its own process counted: pyscope-run's "instructions" object gets a note, and pyscope run
# and a local pyscope try --instructions say it. A script whose counts differ between runs
# (its work drawn at random) gets no exact rule, and the reason says why. Tiny scripts,
# --rounds 2 --repeat 1 (each counted run is valgrind's start-up of CPython, ~1-2 s).
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
scratch_repo "$T/repo"
NOTE="the script started child processes; their instructions are not counted"
cat >fork.py <<'PY'
import os
N = 1000
pid = os.fork()
if pid == 0:
    t = 0
    for i in range(N):
        t += i
    os._exit(0)
os.waitpid(pid, 0)
PY
cat >plain.py <<'PY'
t = 0
for i in range(1000):
    t += i
PY
cat >rnd.py <<'PY'
import os
t = 0
for i in range(20000 + int.from_bytes(os.urandom(2), "little")):
    t += i
PY
git add fork.py plain.py rnd.py
git commit -qm "one"
sed -i 's/^N = 1000$/N = 2000/' fork.py
git commit -qam "two: the child does twice the work"

# --- pyscope-run: the note in the document ---------------------------------------------
for s in fork.py plain.py; do
    run "$PYSCOPE_RUN" --repeat 1 --instructions --output "$T/$s.json" -- "$s"
    expect_eq "pyscope-run --instructions $s: exit 0" 0 "$RC"
done
expect_eq "a forking script: the instructions object says the child is not counted" "$NOTE" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["instructions"].get("note"))' "$T/fork.py.json" 2>&1)"
expect_eq "a plain script: no note" "None" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["instructions"].get("note"))' "$T/plain.py.json" 2>&1)"
run "$PYSCOPE" run --repeat 1 --instructions --no-save fork.py
expect_match "pyscope run --instructions: the report says it" "^Instructions   : .*; $NOTE" "$OUT"

# --- local try --instructions: said on stderr, once a side ------------------------------
# one pair (--rounds 1): the note is said once a side whatever the verdict
run "$PYSCOPE" try --base HEAD~1 --head HEAD --instructions --rounds 1 --repeat 1 fork.py
expect_match "try --instructions on a forking script: it says the children are not counted" \
    "warning: at the base revision [0-9a-f]{12}, $NOTE" "$ERR"
expect_eq "... once a side" 2 "$(grep -c "$NOTE" <<<"$ERR")"

# --- counts that differ between runs: why the exact rule did not apply -------------------
run "$PYSCOPE" try --base HEAD~1 --head HEAD --instructions --rounds 2 --repeat 1 --json rnd.py
expect_match "counts that vary: the reason says why the exact rule did not apply" \
    '^counts differ between runs \(base [0-9]+ … [0-9]+, head [0-9]+ … [0-9]+\), so the exact rule does not apply: compared with the (paired|statistical) rule; ' \
    "$(printf '%s' "$OUT" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print([m for m in d["regression"]["metrics"] if m["metric"] == "instructions" and not m.get("function")][0]["reason"])' 2>&1)"
finish
