#!/usr/bin/env bash
# make_repo.sh DIR [SLOW_AT [FAST_AT [SLOW_PCT [FAST_PCT [BROKEN_AT [MISSING_AT [COMMITS]]]]]]]
# - a git repository of COMMITS (default 64) commits for the revision tests and the bisection benchmark (docs/revisions.md):
# bench/work.py calls f() and g() from bench/lib.py, each about half the work (bench/f.py
# only f(), so that f's change is most of the script's). Commit
# SLOW_AT (default 23) makes f() SLOW_PCT (30) percent slower; commit FAST_AT (41) makes
# g() FAST_PCT (20) percent faster; every other commit changes only a comment. With
# BROKEN_AT (0 = none), that commit breaks bench/lib.py (a syntax error) and the next one
# mends it. With MISSING_AT (0 = none), that commit deletes bench/f.py and bench/work.py
# and the next one brings them back. Prints the COMMITS hashes, oldest first. PYSCOPE_WORK_UNITS: the loop count of f()
# and g() (default 300000).
set -euo pipefail
dir=$1 slow_at=${2:-23} fast_at=${3:-41} slow_pct=${4:-30} fast_pct=${5:-20} broken_at=${6:-0} missing_at=${7:-0} commits=${8:-64}
export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL=ada@example.org
export GIT_AUTHOR_DATE="2026-11-01T00:00:00Z" GIT_COMMITTER_DATE="2026-11-01T00:00:00Z"
git init -q -b main "$dir"
mkdir -p "$dir/bench"
base=${PYSCOPE_WORK_UNITS:-300000}
nf=$base ng=$base
write() { # write COMMENT [BROKEN]
    {
        echo "# lib.py - $1"
        [ "${2:-}" = broken ] && echo "def broken(:"
        echo "def f():"
        echo "    t = 0"
        echo "    for i in range($nf):"
        echo "        t += i % 7"
        echo "    return t"
        echo "def g():"
        echo "    t = 0"
        echo "    for i in range($ng):"
        echo "        t += i % 5"
        echo "    return t"
    } >"$dir/bench/lib.py"
}
scripts() {
cat >"$dir/bench/f.py" <<'PY'
import sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib
lib.f()
PY
cat >"$dir/bench/work.py" <<'PY'
import sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib
lib.f()
lib.g()
PY
}
scripts
for i in $(seq 1 "$commits"); do
    subject="Change $i"
    [ "$i" = "$slow_at" ] && { nf=$((base * (100 + slow_pct) / 100)); subject="Change $i: more work in f"; }
    [ "$i" = "$fast_at" ] && { ng=$((base * (100 - fast_pct) / 100)); subject="Change $i: less work in g"; }
    if [ "$i" = "$broken_at" ]; then write "commit $i" broken; subject="Change $i: broken"; else write "commit $i"; fi
    if [ "$i" = "$missing_at" ]; then rm "$dir/bench/f.py" "$dir/bench/work.py"; subject="Change $i: no scripts"; else scripts; fi
    git -C "$dir" add -A
    GIT_AUTHOR_DATE="2026-11-01T00:$(printf %02d "$((i % 60))"):00Z" git -C "$dir" commit -q -m "$subject"
done
git -C "$dir" rev-list --reverse main
