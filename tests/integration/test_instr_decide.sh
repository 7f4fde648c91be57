#!/usr/bin/env bash
# test_instr_decide.sh - what decides a local A/B on instruction counts, a valgrind that
# fails on its own, and --json when try/bisect end with an error (stranger17's defects 1,
# 5 and 6; docs/revisions.md):
# - the user chose the counts (try --instructions, bisect --metric instructions): the
#   decision (regression.decision, the bisection's evidence.decision) is the instructions
#   verdict whatever the load, and its reason says they were chosen; without them the
#   automatic rule stays (wall time on a machine this quiet for a script that sleeps);
#   the script sleeps, so it is never CPU-bound and the old "contaminated and CPU-bound"
#   rule could never pick the counts;
# - a valgrind that fails on its own (a stand-in that exits 1) is pyscope-run's refusal
#   (exit 2), not the revision's failure: try exits 2, bisect stops with 2 at the commit
#   where it fails instead of skipping it as unrunnable;
# - --json prints one JSON document with the error when try or bisect (local or farm
#   form) ends with exit 2 or 3.
# Real git, real pyscope-run, real valgrind; 2 pairs of 1 run a side.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed (scripts/install-deps.sh --test installs it)"
scratch_repo "$T/repo"
unset VIRTUAL_ENV GITHUB_STEP_SUMMARY
printf 'import time\nN = 30000\nt = 0\nfor i in range(N):\n    t += i * i\ntime.sleep(0.05)\n' >s.py
printf 'raise SystemExit(3)\n' >boom.py
git add s.py boom.py
git commit -qm "commit 0"
sed -i 's/^N = 30000$/N = 37500/' s.py
git commit -qam "commit 1: 25% more loop"
# commit 2: valgrind fails in its tree (the stand-in below), commit 3: it does not
touch vgfail
sed -i 's/^N = 37500$/N = 45000/' s.py
git add vgfail
git commit -qam "commit 2: more loop, valgrind fails here"
git rm -q vgfail
git commit -qm "commit 3"
mapfile -t H < <(git rev-list --reverse HEAD)
A=(--rounds 2 --max-rounds 2 --repeat 1 --threshold 2)
# jget FILE EXPR: python expression EXPR of the JSON document in FILE (as d)
jget() { "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print($2)" "$1" 2>&1; }

# --- defect 1: the counts the user chose decide ----------------------------------------------
run "$PYSCOPE" try --base "${H[0]}" --head "${H[1]}" --instructions "${A[@]}" --json s.py
expect_eq "try --instructions exits 0" 0 "$RC"
printf '%s' "$OUT" >"$T/try.json"
expect_eq "try --instructions: the decision is the instructions verdict, exact" \
    "instructions regression deterministic" \
    "$(jget "$T/try.json" '" ".join(d["regression"]["decision"][k] for k in ("metric", "verdict", "rule"))')"
expect_match "its reason: chosen with --instructions, not the load" \
    "^instruction counts decide \(chosen with --instructions\), whatever the load$" \
    "$(jget "$T/try.json" 'd["regression"]["decision"]["reason"]')"
expect_eq "the decision's change is the instructions metric's" "True" \
    "$(jget "$T/try.json" 'd["regression"]["decision"]["change_pct"] == [m for m in d["regression"]["metrics"] if m["metric"] == "instructions" and not m.get("function")][0]["change_pct"] > 2')"

run "$PYSCOPE" try --base "${H[0]}" --head "${H[1]}" "${A[@]}" --json s.py
expect_eq "a plain try exits 0" 0 "$RC"
printf '%s' "$OUT" >"$T/plain.json"
expect_match "a plain try keeps the automatic rule: wall time decides, nothing chosen" \
    "^wall_s wall time" \
    "$(jget "$T/plain.json" 'd["regression"]["decision"]["metric"] + " " + d["regression"]["decision"]["reason"]')"

run "$PYSCOPE" bisect --good "${H[0]}" --bad "${H[1]}" --metric instructions "${A[@]}" --json s.py
expect_eq "bisect --metric instructions names commit 1" "0 found ${H[1]}" \
    "$RC $(printf '%s' "$OUT" | json_get 'd["status"], (d.get("culprit") or {}).get("hash")' 2>&1 | tr -d "(),'")"
printf '%s' "$OUT" >"$T/bisect.json"
expect_eq "its evidence's decision is the instructions verdict it rests on" \
    "instructions regression" \
    "$(jget "$T/bisect.json" 'd["evidence"]["decision"]["metric"] + " " + d["evidence"]["decision"]["verdict"]')"
expect_match "and says the counts were chosen with --metric instructions" \
    "chosen with --metric instructions" "$(jget "$T/bisect.json" 'd["evidence"]["decision"]["reason"]')"

# --- defect 5: valgrind's own failure is not the revision's ---------------------------------
mkdir "$T/vgbad" "$T/vgsome"
printf '#!/bin/sh\necho "valgrind: stand-in, broken" >&2\nexit 1\n' >"$T/vgbad/valgrind"
# fails where the script's tree has a file "vgfail" (commit 2), else the real valgrind
cat >"$T/vgsome/valgrind" <<SH
#!/bin/sh
for a in "\$@"; do
    case "\$a" in *.py) [ -e "\$(dirname "\$a")/vgfail" ] && { echo "valgrind: broken here" >&2; exit 1; } ;; esac
done
exec "$(command -v valgrind)" "\$@"
SH
chmod +x "$T/vgbad/valgrind" "$T/vgsome/valgrind"

run env PATH="$T/vgbad:$PATH" "$PYSCOPE" try --base "${H[0]}" --head "${H[1]}" --instructions \
    "${A[@]}" --json s.py
expect_eq "a valgrind that fails on its own: try exits 2 (refused), not 3" 2 "$RC"
expect_match "pyscope-run says valgrind failed, not the script, and how to check it" \
    'valgrind \(".*/vgbad/valgrind"\) failed with exit status 1 .* not the script.s: check it with' "$ERR"
expect_match "the revision is not blamed" "refused to run the base revision" "$ERR"
expect_nomatch "no script failure claimed" "the script failed" "$ERR"
# --- defect 6 (same run): --json gives the error as a document
printf '%s' "$OUT" >"$T/err2.json"
expect_eq "try --json, exit 2: a JSON document with the error" \
    "pyscope.try/1 error 2 usage True" \
    "$(jget "$T/err2.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"], "refused to run the base revision" in d["error"]["message"]' | tr -d "(),'")"

# valgrind killed from outside (the OOM killer's SIGKILL): no counts file, so valgrind's
# failure, not the script killed (a script that dies of a signal under valgrind has its counts)
mkdir "$T/vgkilled"
printf '#!/bin/sh\nkill -KILL $$\n' >"$T/vgkilled/valgrind"
chmod +x "$T/vgkilled/valgrind"
run env PATH="$T/vgkilled:$PATH" "$PYSCOPE" run --instructions --repeat 1 --no-save s.py
expect_eq "valgrind killed by a signal: refused (2), not the script's failure (3)" 2 "$RC"
expect_match "it says valgrind was killed, and asks about the OOM killer" \
    'valgrind \(".*/vgkilled/valgrind"\) was killed by signal 9 \(Killed; the kernel.s OOM killer\? see dmesg\)' "$ERR"
expect_nomatch "the script is not said to be killed" "the script failed under valgrind" "$ERR"
# pyscope-run's own status says "this host cannot count" (agents refuse on it, never by its words)
run env PATH="$T/vgkilled:$PATH" "$PYSCOPE_RUN" --instructions --repeat 1 --output "$T/k.json" s.py
expect_eq "valgrind killed: pyscope-run exits 69 (unavailable), not 2 or 3" 69 "$RC"

run env PATH="$T/vgsome:$PATH" "$PYSCOPE" bisect --good "${H[1]}" --bad "${H[3]}" \
    --metric instructions "${A[@]}" --json s.py
expect_eq "valgrind failing at a middle commit: bisect stops with 2, the commit not skipped" 2 "$RC"
expect_match "it says valgrind failed there" "valgrind .* failed with exit status 1" "$ERR"
expect_nomatch "no skip of commit 2 as unrunnable" "skip" "$ERR"
printf '%s' "$OUT" >"$T/bis2.json"
expect_eq "bisect --json, exit 2: a JSON document with the error" \
    "pyscope.bisect/1 error 2 usage" \
    "$(jget "$T/bis2.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"]' | tr -d "(),'")"

# --- defect 6: exit 3 and usage errors, local and farm forms (no farm: refused before) -------
run "$PYSCOPE" try --base "${H[0]}" --head "${H[1]}" "${A[@]}" --json boom.py
printf '%s' "$OUT" >"$T/err3.json"
expect_eq "try --json, the script fails (exit 3): a JSON document with the error" \
    "3 pyscope.try/1 error 3 failed True" \
    "$RC $(jget "$T/err3.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"], "the script failed at the base revision" in d["error"]["message"]' | tr -d "(),'")"
run "$PYSCOPE" bisect --good "${H[0]}" --bad "${H[0]}" --json s.py
printf '%s' "$OUT" >"$T/usage.json"
expect_eq "bisect --json, a usage error: a JSON document with it" \
    "2 pyscope.bisect/1 error 2 usage True" \
    "$RC $(jget "$T/usage.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"], "nothing to bisect" in d["error"]["message"]' | tr -d "(),'")"
printf '[suite]\nname = t\n\n[script s.py]\n' >"$T/t.ini"
run "$PYSCOPE" try "$T/t.ini" --base "${H[0]}" --head "${H[1]}" --rounds 1000 --json
printf '%s' "$OUT" >"$T/farm_try.json"
expect_eq "farm try --json, a usage error: a JSON document with it" \
    "2 pyscope.try_farm/1 error 2 usage True" \
    "$RC $(jget "$T/farm_try.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"], "--rounds" in d["error"]["message"]' | tr -d "(),'")"
run "$PYSCOPE" bisect s.py --host h --good "${H[0]}" --bad "${H[0]}" --json
printf '%s' "$OUT" >"$T/farm_bis.json"
expect_eq "farm bisect --json, a usage error: a JSON document with it" \
    "2 pyscope.bisect_farm/1 error 2 usage" \
    "$RC $(jget "$T/farm_bis.json" 'd["schema"], d["status"], d["exit"], d["error"]["code"]' | tr -d "(),'")"
finish
