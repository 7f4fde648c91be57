#!/usr/bin/env bash
# test_bisect_local.sh - pyscope bisect --good A --bad B SCRIPT in a git checkout
# (docs/revisions.md): a generated repository of 16 commits (tests/data/revisions/make_repo.sh)
# where commit 6 makes f() twice as slow, bench/f.py is missing at commit 8 and bench/lib.py
# does not parse at commit 4 (the script crashes). Bisecting commit 1..16 must name commit 6,
# skipping 8 and 4 on the way (they lie on its path when the steps decide right), with its
# evidence (the change, its interval, the why naming f), on the machine as it is; under a
# CPU hog on every core, commits 3..7 (fewer steps: the test's time). --threshold 15: the
# change is ~60% of the script's CPU time, and a no-change verdict needs a noise floor below
# the threshold (at 5% a busy machine leaves most steps open). A step the noise leaves open may stop the bisection, said
# ("inconclusive", with the interval so far, which must still hold commit 6): a wrong commit
# named as the culprit is always a failure. Bad input (revisions that look like options,
# paths, huge strings, equal ends, ends in the wrong order) is a usage error.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

revisions_repo 2000000 6 0 100 0 4 8 16
C1=$(C 1) C3=$(C 3) C4=$(C 4) C5=$(C 5) C6=$(C 6) C7=$(C 7) C8=$(C 8) C16=$(C 16)
cd "$REPO"
before=$(git status --porcelain; git worktree list; git rev-parse HEAD)
SANITIZED=0
grep -q '^PYSCOPE_SANITIZE:BOOL=ON' "$PYSCOPE_BUILD/CMakeCache.txt" && SANITIZED=1

# judge FILE LABEL: what the bisection said must be true. "found" names commit 6 (with the
# skips on its path); "inconclusive" says so with an interval holding commit 6.
judge() { # FILE [nopath]: nopath when the range does not hold commits 4 and 8
    "$PY" - "$1" "$C4" "$C6" "$C8" "${2:-path}" <<'PYJ'
import json, sys
d = json.load(open(sys.argv[1]))
c4, c6, c8, path = sys.argv[2:6]
st = d["status"]
skips = {s["hash"]: s.get("reason", "") for s in d["steps"] if s["outcome"] == "skip"}
if st == "found":
    ok = d["culprit"]["hash"] == c6 and d["culprit"]["subject"] == "Change 6: more work in f"
    if path == "path":
        ok = ok and "does not exist" in skips.get(c8, "") and "failed" in skips.get(c4, "")
    ev = d["evidence"]
    # a regression, or (inside the noise floor) a confirmation nearer the bad end, said
    near = "nearer the bad end" in d["steps"][-1].get("reason", "")
    ok = ok and (ev["decision"]["verdict"] == "regression" or near) and ev["decision"]["change_pct"] > 0
    ok = ok and d["steps"][-1]["outcome"] == "confirmed" and d["interval"]["commits"] == 1
    print("found" if ok else "WRONG: %s" % json.dumps({k: d[k] for k in ("status", "culprit", "steps")}))
elif st == "inconclusive":
    iv = d["interval"]
    ok = c6 in d["candidates"] and "nconclusive" in d["message"]
    print("inconclusive-said" if ok else "WRONG interval: %s" % json.dumps(d))
else:
    print("WRONG status %s: %s" % (st, d.get("message")))
PYJ
}
R="--rounds 3 --max-rounds 5 --repeat 2 --threshold 15"
if [ "$SANITIZED" = 0 ]; then
    # --- the machine as it is --------------------------------------------------------------
    set +e
    "$PYSCOPE" bisect --good "$C1" --bad main $R --json bench/f.py >"$T/b.json" 2>"$T/b.err"
    rc=$?
    set -e
    res=$(judge "$T/b.json" 2>&1 || tail -5 "$T/b.err")
    echo "# as the machine is: $res ($(uptime))"
    expect_match "bisect names commit 6 (or says inconclusive with an interval holding it)" \
        '^(found|inconclusive-said)$' "$res"
    expect_eq "exit 0 when named, 1 when not" "$([ "$res" = found ] && echo 0 || echo 1)" "$rc"
    if [ "$res" = found ]; then
        why=$("$PY" -c 'import json,sys; w=json.load(open(sys.argv[1]))["evidence"]["why"]; print(w["functions"][0]["key"] if w and w["functions"] else "none")' "$T/b.json")
        expect_eq "the evidence's why names f" "bench/lib.py:f:2" "$why"
        steps=$("$PY" -c 'import json,sys; print(len([s for s in json.load(open(sys.argv[1]))["steps"] if s["outcome"] in ("good","bad")]))' "$T/b.json")
        expect_match "at most log2(15)+1 decided steps (ends included)" '^[1-5]$' "$steps"
    fi
    # --- a CPU hog on every core -----------------------------------------------------------
    HOGS=()
    stop_hogs() {
        [ ${#HOGS[@]} -eq 0 ] || { kill "${HOGS[@]}" 2>/dev/null || true; wait "${HOGS[@]}" 2>/dev/null || true; }
        HOGS=()
    }
    trap 'stop_hogs; rm -rf "$T"' EXIT
    for _ in $(seq "$(nproc)"); do
        # bounded, and off the test's output (a leftover hog would hold ctest's pipe open)
        timeout 400 "$PY" -c 'while 1: pass' >/dev/null 2>&1 </dev/null &
        HOGS+=($!)
    done
    set +e
    # a shorter range (commits 4..7 after 3: fewer steps, the same verdicts to get right)
    "$PYSCOPE" bisect --good "$C3" --bad "$C7" $R --json bench/f.py >"$T/hog.json" 2>"$T/hog.err"
    set -e
    stop_hogs
    res=$(judge "$T/hog.json" nopath 2>&1 || tail -5 "$T/hog.err")
    echo "# under hogs: $res"
    expect_match "under a CPU hog per core: commit 6, or inconclusive said (never a wrong commit)" \
        '^(found|inconclusive-said)$' "$res"
fi

# --- the text form, a range of one commit (the ends' A/B is its confirmation) -----------
set +e
"$PYSCOPE" bisect -q --good "$C5" --bad "$C6" --rounds 3 --max-rounds 3 --repeat 1 bench/f.py \
    >"$T/text.out" 2>&1
rc=$?
set -e
expect_match "the text form ran (exit 0 named, 1 not)" '^[01]$' "$rc"
if [ "$SANITIZED" = 0 ] && [ "$rc" = 0 ]; then
    expect_match "it names the first bad commit" "First bad commit: $C6" "$(cat "$T/text.out")"
    expect_match "with its subject" "Change 6: more work in f" "$(cat "$T/text.out")"
    expect_match "and its evidence" "Evidence \\(the first bad commit against its parent" \
        "$(cat "$T/text.out")"
else
    expect_match "it says what it found" "First bad commit|nconclusive|No regression" \
        "$(cat "$T/text.out")"
fi

# --- bad input: a clear usage error, never a crash or a git option --------------------------
bad_input() { # LABEL PATTERN ARGS...
    local label=$1 pat=$2
    shift 2
    set +e
    out=$("$PYSCOPE" bisect "$@" 2>&1)
    rc=$?
    set -e
    expect_eq "$label: exit 2" 2 "$rc"
    expect_match "$label: said" "$pat" "$out"
}
bad_input "a revision that looks like an option" 'unknown revision|not a' \
    --good=--output=/tmp/pwned --bad main bench/f.py
[ ! -e /tmp/pwned ] && ok "no file written by a revision that looks like an option" ||
    fail "option revision" "/tmp/pwned exists"
bad_input "a revision that is a path" 'unknown revision' --good ../../../etc/passwd --bad main bench/f.py
bad_input "a huge revision" 'unknown revision|too long|invalid' \
    --good "$(head -c 100000 /dev/zero | tr '\0' a)" --bad main bench/f.py
bad_input "equal ends" 'nothing to bisect' --good main --bad main bench/f.py
bad_input "ends in the wrong order" 'not an ancestor' --good "$C16" --bad "$C1" bench/f.py
bad_input "no --bad" 'both needed' --good "$C1" bench/f.py
bad_input "options after the script" 'options go before SCRIPT' bench/f.py --good "$C1" --bad main
bad_input "a script outside the repository" 'not inside the repository|does not exist' \
    --good "$C1" --bad main /etc/hostname
bad_input "a script missing at the good end" 'does not exist at the good revision' \
    --good "$C8" --bad main bench/f.py
bad_input "an unknown --metric" 'takes wall_s, cpu_s, peak_rss_bytes or instructions, not "nosuch"' --good "$C5" --bad "$C6" --rounds 1 \
    --max-rounds 1 --repeat 1 --metric nosuch bench/f.py

after=$(git status --porcelain; git worktree list; git rev-parse HEAD)
expect_eq "the checkout is untouched (status, worktrees, HEAD)" "$before" "$after"
finish
