#!/usr/bin/env bash
# test_instr_local.sh - the local A/B commands on instruction counts (docs/revisions.md):
# `pyscope bisect --metric instructions` and `pyscope try --instructions` in a git checkout
# run every turn under valgrind too (pyscope-run --instructions), and the counts decide.
# A repository of 3 commits where commit 2 makes f() loop 10% longer: the bisection names
# commit 2, confirmed against its parent, with the exact rule and the fewest turns (equal
# counts on each side leave nothing open, so no step adds pairs: 3 steps x 2 pairs, however
# noisy the machine's times, where --rounds 2 lets a step go up to 6); try on the ends gives
# an "instructions" regression, exact. Two pairs, the fewest the exact rule decides on
# (equal counts on each side): each counted turn is valgrind's start-up of CPython (~2 s of
# CPU), so the range is the shortest whose culprit needs a confirmation: the ends, commit 1
# against GOOD, commit 2 against its parent.
# Without valgrind: exit 2 and pyscope-run's message, nothing blamed on the revision.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
scratch_repo "$T/repo"
cat >s.py <<'PY'
N = 100000
def f():
    t = 0
    for i in range(N):
        t += i * i
    return t
f()
PY
git add s.py
git commit -qm "commit 0"
for i in 1 2; do
    echo "# $i" >>s.py
    [ "$i" = 2 ] && sed -i 's/^N = 100000$/N = 110000/' s.py
    git commit -qam "commit $i"
done
mapfile -t H < <(git rev-list --reverse HEAD)
A=(--rounds 2 --repeat 1 --threshold 2)

run "$PYSCOPE" bisect --good "${H[0]}" --bad "${H[2]}" --metric instructions "${A[@]}" --json s.py
expect_eq "bisect --metric instructions exits 0" 0 "$RC"
[ "$RC" = 0 ] || echo "$ERR" | tail -n 5 | sed 's/^/# /'
printf '%s' "$OUT" >"$T/bisect.json"
field() { "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print($1)" "$T/bisect.json"; }
expect_eq "it names commit 2" "found ${H[2]}" "$(field 'd["status"], (d.get("culprit") or {}).get("hash")' |
    tr -d "(),'")"
# the verdict of metric instructions in a regression object: "verdict rule"
instr_verdict='" ".join([(m["verdict"], m["rule"]) for m in R["metrics"] if m["metric"] == "instructions" and not m.get("function")][0])'
expect_eq "confirmed against its parent, on instructions, by the exact rule" \
    "confirmed regression deterministic" \
    "$(field "d['steps'][-1]['outcome'] + ' ' + (lambda R: $instr_verdict)(d['evidence'])" 2>&1)"
expect_eq "no step added pairs: every A/B ran its 2 pairs only" "2" \
    "$(field 'sorted({s.get("rounds") for s in d["steps"] if s["outcome"] != "skip"})[-1]' 2>&1)"

run "$PYSCOPE" try --base "${H[0]}" --head "${H[2]}" --instructions "${A[@]}" --json s.py
expect_eq "try --instructions exits 0" 0 "$RC"
printf '%s' "$OUT" >"$T/try.json"
expect_eq "try: an instructions regression, exact" "regression deterministic" \
    "$("$PY" -c "import json, sys; R = json.load(open(sys.argv[1]))['regression']; print($instr_verdict)" \
        "$T/try.json" 2>&1)"

# no valgrind on PATH (python and git are)
mkdir "$T/bin"
ln -s "$(command -v git)" "$T/bin/git"
ln -s "$("$PY" -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$T/bin/python3"
run env PATH="$T/bin" "$PYSCOPE" try --base "${H[0]}" --head "${H[2]}" --instructions "${A[@]}" s.py
expect_eq "without valgrind: exit 2" 2 "$RC"
expect_match "pyscope-run says what is missing" "needs valgrind: apt-get install valgrind" "$ERR"
expect_match "and the revision is not blamed" "refused to run the base revision" "$ERR"
expect_nomatch "no script failure claimed" "the script failed" "$ERR"
finish
