#!/usr/bin/env bash
# test_ab_input.sh - what the local A/B commands give each turn and say about it
# (cli/abrun.c): every turn's stdin is /dev/null (piped input would feed the first turn
# only, and a terminal would wait for a key), and a turn that runs past --timeout is said
# to have timed out, at which revision, not "failed (exit status 124)".
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
scratch_repo "$T/repo"
printf 'import sys\nsys.exit(5 if sys.stdin.read() else 0)\n' >stdin.py
printf 'import time\ntime.sleep(60)\n' >sleepy.py
git add stdin.py sleepy.py
git commit -qm "commit 0"
echo "# 1" >>stdin.py
git commit -qam "commit 1"
A=(--base HEAD~1 --head HEAD --rounds 2 --max-rounds 2 --repeat 1 -q)

set +e
printf 'input for one turn only\n' | "$PYSCOPE" try "${A[@]}" stdin.py >"$T/out" 2>"$T/err"
RC=$?
set -e
expect_eq "piped input reaches no turn: every turn ran ok (exit 0)" 0 "$RC"
[ "$RC" = 0 ] || tail -n 3 "$T/err" | sed 's/^/# /'

run "$PYSCOPE" try "${A[@]}" --timeout 1 sleepy.py
expect_eq "a turn past --timeout: exit 3" 3 "$RC"
expect_match "said as a timeout, with the revision" \
    "ran past --timeout 1 at the base revision [0-9a-f]{12}" "$ERR"
expect_nomatch "not as a failure with a bare exit status" "exit status 124" "$ERR"
finish
