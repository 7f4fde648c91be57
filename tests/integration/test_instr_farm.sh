#!/usr/bin/env bash
# test_instr_farm.sh - the farm decides on instruction counts (issue 17; docs/revisions.md,
# schema/028_instructions.sql): real PostgreSQL, coordinator and agent, real valgrind.
# `pyscope bisect SCRIPT --host H --good A --bad B --metric instructions` over an 8-commit
# repository (tests/data/revisions/make_repo.sh) whose commit 5 makes f() 10% slower in
# work (a longer loop, not a sleep): every step's jobs carry Job.instructions, the agent
# runs them with pyscope-run --instructions, the runs are stored with one count per repeat
# (runs.instructions) and the steps are decided on those counts: commit 5 is named. The
# same script at the same commit counts the same instructions in every turn.
# An agent without valgrind on its PATH refuses such jobs (OUTCOME_REFUSED) with a message
# saying how to get it, never runs them without counts; a bisection on instructions on it
# ends failed, said. pyscope try SUITE --instructions and submit --instructions ask for
# counts too, and the nightly analysis finds a regression on the counts alone. A try and a
# bisection that asked for counts are decided on them whatever the load (the decision and
# the evidence say so: "chosen with --instructions"); the nightly analysis keeps its rule.
# A script that starts a child process (os.fork) has only its own process counted: the
# agent sends Result.child_processes, and the farm's try and bisect say so per side and
# revision (stderr and --json instructions_notes), as the local forms do; never for f.py.
# Valgrind makes each run ~25-50x slower: f() is small, a step is 2 pairs of 1 run, and the
# bisection's range is the shortest that has a confirmation (commits 3..5).
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

command -v valgrind >/dev/null || skip "no valgrind (apt-get install valgrind)"
[ "$FARM_ASAN" = 0 ] || skip "pyscope-run under ASan cannot run valgrind"

# f() ~40000 iterations (~20 M instructions of ~53 M with the interpreter's start-up);
# commit 5 makes it 10% slower (~ +4% of the whole run's instructions), nothing else changes
revisions_repo 40000 5 0 10 0 0 0 8
CULPRIT=$(C 5)

farm_pg_start
farm_coord_start
# two jobs at once: the turns of a step run side by side (instruction counts do not care)
"$AGENT_BIN" --coordinator "$COORD_URL" --name instr1 --spool "$T/spool-instr1" --repo "$REPO" \
    --revisions "$T/rev-instr1" --max-jobs 2 "${FARM_AGENT_DEFAULTS[@]}" \
    >>"$T/agent-instr1.log" 2>&1 &
VG_AGENT=$!
FARM_PIDS+=("$VG_AGENT")
farm_wait 30 "[ \"\$(pg_sql 'SELECT count(*) FROM hosts' 2>/dev/null)\" = 1 ]" ||
    fail "the agent registered" "$(farm_logs)"
HOST=$(pg_sql "SELECT hostname FROM hosts")
expect_match "the agent's start-up says valgrind is there, with its version" \
    'info: valgrind: /[^ ]*valgrind \(valgrind-[0-9.]+\); jobs may ask for instruction counts' \
    "$(cat "$T/agent-instr1.log")"

# --- a bisection decided on instruction counts -------------------------------------------
start=$SECONDS
set +e
# GOOD = commit 3, BAD = commit 5: the fewest steps that still need a confirmation (the
# ends, commit 4 against GOOD, then commit 5 against its parent 4): each counted turn is
# valgrind's start-up of CPython (~2 s of CPU), so every step spared is 4 of them
(cd "$REPO" && farm_cli bisect bench/f.py --host "$HOST" --good "$(C 3)" --bad "$(C 5)" \
    --rounds 2 --repeat 1 --metric instructions --threshold 2 --json -q) >"$T/bis.json" 2>"$T/bis.err"
rc=$?
set -e
echo "# bisection: $((SECONDS - start)) s, rc $rc; $(pg_sql "SELECT state || ': ' || message FROM bisections WHERE id = 1" 2>&1)"
expect_eq "--metric instructions: the culprit is named (exit 0)" 0 "$rc"
[ "$rc" = 0 ] || echo "$(tail -5 "$T/bis.err")"
expect_eq "the bisection decides on instructions" "instructions" \
    "$(pg_sql "SELECT metric FROM bisections WHERE id = 1")"
expect_eq "commit 5 (f() 10% more work) is named" "found $CULPRIT" \
    "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["bisect"]; print(d["state"], (d.get("culprit") or {}).get("hash"))' "$T/bis.json" 2>&1 || tail -3 "$T/bis.err")"
expect_eq "the confirmation tested the culprit against its parent" "$CULPRIT $(C 4)" \
    "$(pg_sql "SELECT b.chain[st.pos] || ' ' || b.chain[st.against_pos] FROM bisection_steps st JOIN bisections b ON b.id = st.bisection_id WHERE st.phase = 'confirm' ORDER BY n DESC LIMIT 1")"
expect_match "the evidence: instructions, a regression by the exact rule" \
    '^regression deterministic [0-9.]+$' \
    "$("$PY" -c 'import json,sys; b=json.load(open(sys.argv[1]))["bisect"]; m=[x for x in b["evidence"]["metrics"] if x["metric"] == "instructions" and not x.get("function")][0]; print(m["verdict"], m["rule"], m["change_pct"])' "$T/bis.json" 2>&1)"
expect_eq "the evidence's decision is the counts' verdict, chosen with --metric instructions" \
    "instructions regression True" \
    "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["bisect"]["evidence"]["decision"]; print(d["metric"], d["verdict"], "chosen with --metric instructions" in d["reason"])' "$T/bis.json" 2>&1)"
expect_eq "every job of every step asked for instruction counts" "t" \
    "$(pg_sql "SELECT bool_and(j.instructions) FROM bisection_steps st, unnest(st.batches) x JOIN jobs j ON j.batch_id = x")"
expect_eq "every ok run of the steps is stored with one count per repeat" "t|0" \
    "$(pg_sql "SELECT bool_and(r.instructions IS NOT NULL AND cardinality(r.instructions) = cardinality(r.wall_s) AND r.instructions[1] > 1000000), count(*) FILTER (WHERE r.outcome <> 'ok') FROM runs r WHERE r.batch_id IN (SELECT unnest(batches) FROM bisection_steps)" | tr -d ' ')"
# the same commit counts the same instructions in every turn (PYTHONHASHSEED=0); the
# culprit's runs count more than its parent's
expect_eq "one commit, one count: within 0.01% across its turns" "t" \
    "$(pg_sql "SELECT bool_and(hi - lo <= 1e-4 * hi) FROM (SELECT j.commit_hash, min(r.instructions[1]) AS lo, max(r.instructions[1]) AS hi FROM runs r JOIN jobs j ON j.id = r.job_id WHERE r.outcome = 'ok' GROUP BY j.commit_hash) x")"
pct=$(pg_sql "SELECT round(100.0 * (c.n - p.n) / p.n, 2) FROM (SELECT min(r.instructions[1]) AS n FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.commit_hash = '$CULPRIT') c, (SELECT min(r.instructions[1]) AS n FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.commit_hash = '$(C 4)') p")
expect_match "the culprit counts 2-8% more instructions than its parent" '^[2-7]\.[0-9]+$' "$pct"
# the runs' documents (what the try and the bisection decided on) carry the counts
out=$(farm_cli bisect --id 1 2>&1 || true)
expect_match "--id: the text names the culprit" "$(C 5 | cut -c1-12)" "$out"

# --- a script the revisions lack: the refusal names the revision and says what to do -------
printf '[suite]\nname = trym\n\n[script bench/nope.py]\n' >"$T/trym.ini"
set +e
(cd "$REPO" && farm_cli try "$T/trym.ini" --base "$(C 4)" --head "$CULPRIT" --rounds 1 --repeat 1 \
    -q) >"$T/trym.out" 2>&1
mrc=$?
set -e
expect_eq "try, a script missing at both revisions: exit 3" 3 "$mrc"
expect_match "the missing script: the side, the revision and the fix" \
    "base, 1 turn refused: \"bench/nope.py\" does not exist at revision $(C 4 | cut -c1-12) .*pick a revision that has it" \
    "$(cat "$T/trym.out")"

# --- pyscope try SUITE --instructions: an instructions verdict per script -----------------
printf '[suite]\nname = tryi\nthreshold = 2%%\n\n[script bench/f.py]\n' >"$T/try.ini"
set +e
(cd "$REPO" && farm_cli try "$T/try.ini" --base "$(C 4)" --head "$CULPRIT" --rounds 2 --repeat 1 \
    --instructions --json -q) >"$T/try.json" 2>"$T/try.err"
trc=$?
set -e
expect_eq "try --instructions: commit 5 against 4 is a regression on instructions (exact rule)" \
    "0 regression deterministic t" \
    "$trc $("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]["regression"]; m=[x for x in r["metrics"] if x["metric"] == "instructions" and not x.get("function")][0]; print(m["verdict"], m["rule"])' "$T/try.json" 2>&1 || tail -3 "$T/try.err") $(pg_sql "SELECT bool_and(instructions) FROM jobs WHERE batch_id = (SELECT max(id) FROM batches)")"

expect_eq "try --instructions: the counts decide whatever the load (the user chose them)" \
    "instructions regression True" \
    "$("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["results"][0]["regression"]["decision"]; print(d["metric"], d["verdict"], d["reason"].startswith("instruction counts decide (chosen with --instructions)"))' "$T/try.json" 2>&1)"

# --- a script that starts a child process: its counts leave the child out, and the farm's
# try and bisect say so, as the local forms do (schema/029_child_processes.sql:
# Result.child_processes, the run documents' instructions.note) ---------------------------
NOTE="the script started child processes; their instructions are not counted"
cat >"$REPO/bench/kids.py" <<'PY'
import os
pid = os.fork()
if pid == 0:
    t = 0
    for i in range(1000):
        t += i
    os._exit(0)
os.waitpid(pid, 0)
PY
gitc() { git -C "$REPO" -c user.name=t -c user.email=t@example.com "$@"; }
gitc add bench/kids.py
gitc commit -qm "kids: a script that starts a child process"
K1=$(git -C "$REPO" rev-parse HEAD)
echo "# a comment" >>"$REPO/bench/kids.py"
gitc commit -qam "kids: a comment"
K2=$(git -C "$REPO" rev-parse HEAD)
printf '[suite]\nname = tryk\n\n[script bench/kids.py]\n\n[script bench/f.py]\n' >"$T/tryk.ini"
# in_repo OUT ERR ARGS...: pyscope ARGS in $REPO, stdout to OUT, stderr to ERR, RC its status
in_repo() {
    local o=$1 e=$2
    shift 2
    RC=0
    (cd "$REPO" && farm_cli "$@") >"$o" 2>"$e" || RC=$?
}
in_repo "$T/tryk.json" "$T/tryk.err" try "$T/tryk.ini" --base "$K1" --head "$K2" --rounds 2 \
    --repeat 1 --instructions --json -q
expect_eq "try --instructions, a forking script: the runs say they started a child" "0 t" \
    "$RC $(pg_sql "SELECT bool_and(r.child_processes > 0) FROM runs r JOIN scripts s ON s.id = r.script_id WHERE r.batch_id = (SELECT max(id) FROM batches) AND s.key = 'bench/kids.py' AND r.outcome = 'ok'")"
[ "$RC" = 0 ] || echo "$(tail -5 "$T/tryk.err")"
expect_eq "try --json: the forking script's result notes both sides, the other none" \
    "bench/f.py:|bench/kids.py:base,head $NOTE" \
    "$("$PY" -c 'import json,sys
for r in sorted(json.load(open(sys.argv[1]))["results"], key=lambda r: r["script"]):
    n = r["instructions_notes"]
    print((r["script"] + ":" + ",".join(x["side"] for x in n) + " " + " ".join(sorted({x["note"] for x in n}))).strip())' "$T/tryk.json" 2>&1 | tr '\n' '|' | sed 's/|$//')"
expect_match "try: the warning at the base revision, as the local try says it" \
    "warning: bench/kids.py on $HOST: at the base revision $(cut -c1-12 <<<"$K1"), $NOTE" \
    "$(cat "$T/tryk.err")"
expect_match "try: ... and at the head revision" \
    "warning: bench/kids.py on $HOST: at the head revision $(cut -c1-12 <<<"$K2"), $NOTE" \
    "$(cat "$T/tryk.err")"
expect_eq "try: said once a side, never of the script that does not fork" "2 0" \
    "$(grep -c "$NOTE" "$T/tryk.err") $(grep -c "bench/f.py.*$NOTE" "$T/tryk.err")"
# the text form says the same (the forking script alone: f.py's "none" is checked above)
printf '[suite]\nname = trykt\n\n[script bench/kids.py]\n' >"$T/trykt.ini"
in_repo "$T/tryk.out" "$T/tryk-text.err" try "$T/trykt.ini" --base "$K1" --head "$K2" \
    --rounds 1 --repeat 1 --instructions -q
expect_match "try (text): the warning at the head revision" \
    "warning: bench/kids.py on $HOST: at the head revision $(cut -c1-12 <<<"$K2"), $NOTE" \
    "$(cat "$T/tryk-text.err")"
# a bisection on instructions over the two: its step says it for each revision, once
in_repo "$T/bisk.out" "$T/bisk.err" bisect bench/kids.py --host "$HOST" --good "$K1" \
    --bad "$K2" --rounds 2 --repeat 1 --metric instructions --threshold 2
BK=$(pg_sql "SELECT max(id) FROM bisections")
expect_match "bisect --metric instructions (text): the warning at the good end's revision" \
    "warning: at the base revision $(cut -c1-12 <<<"$K1") \(step 1\), $NOTE" "$(cat "$T/bisk.err")"
expect_match "bisect: ... and at the bad end's" \
    "warning: at the head revision $(cut -c1-12 <<<"$K2") \(step 1\), $NOTE" "$(cat "$T/bisk.err")"
expect_eq "bisect: once a revision" 2 "$(grep -c "$NOTE" "$T/bisk.err")"
bk_json=$(farm_cli bisect --id "$BK" --json 2>/dev/null || true)
expect_eq "bisect --json: its step notes both sides" "base,head $NOTE" \
    "$(printf '%s' "$bk_json" | "$PY" -c 'import json,sys; n=json.load(sys.stdin)["bisect"]["steps"][0]["instructions_notes"]; print(",".join(x["side"] for x in n), " ".join(sorted({x["note"] for x in n})))' 2>&1)"
expect_eq "the first bisection's steps (f.py, no child) note nothing" "[]" \
    "$({ farm_cli bisect --id 1 --json 2>/dev/null || true; } | "$PY" -c 'import json,sys; print(sorted({x["side"] for s in json.load(sys.stdin)["bisect"]["steps"] for x in s["instructions_notes"]}))' 2>&1)"

# --- pyscope submit --instructions: every job asks, every run is counted ------------------
mkdir -p "$T/ws"
cat >"$T/ws/tiny.py" <<'PY'
t = 0
for i in range(2000):
    t += i
PY
printf '[suite]\nname = instr\nrepeat = 2\nthreshold = 1%%\n\n[script tiny.py]\n' >"$T/instr.ini"
# swap_agent NAME [ARGS...]: stop the host's agent, start NAME on the workspace instead
swap_agent() {
    local name=$1
    shift
    kill "$VG_AGENT" 2>/dev/null || true
    wait "$VG_AGENT" 2>/dev/null || true
    "$AGENT_BIN" --coordinator "$COORD_URL" --name "$name" --spool "$T/spool-$name" \
        --workspace "$T/ws" "${FARM_AGENT_DEFAULTS[@]}" "$@" >>"$T/agent-$name.log" 2>&1 &
    VG_AGENT=$!
    FARM_PIDS+=("$VG_AGENT")
}
swap_agent instr2
capture farm_cli submit "$T/instr.ini" --hosts "$HOST" --instructions --wait -q
expect_eq "submit --instructions: the batch ran (exit 0)" 0 "$RC"
[ "$RC" = 0 ] || echo "$OUT"
expect_eq "submit --instructions: its jobs asked, its runs are counted (2 repeats)" "t|2" \
    "$(pg_sql "SELECT bool_and(j.instructions), min(cardinality(array_remove(r.instructions, NULL))) FROM jobs j JOIN runs r ON r.job_id = j.id WHERE j.batch_id = (SELECT max(id) FROM batches)" | tr -d ' ')"
farm_cli submit "$T/instr.ini" --hosts "$HOST" --wait -q >/dev/null 2>"$T/plain.err" ||
    fail "a plain submit ran" "$(tail -3 "$T/plain.err")"
expect_eq "a submit without it asks for none: no counts stored (NULL, not zeros)" "f|t" \
    "$(pg_sql "SELECT bool_or(j.instructions), bool_and(r.instructions IS NULL AND r.outcome = 'ok') FROM jobs j JOIN runs r ON r.job_id = j.id WHERE j.batch_id = (SELECT max(id) FROM batches)" | tr -d ' ')"
# --- the nightly analysis decides on the counts: +1000 iterations (~ +1.5% instructions,
# a fraction of a millisecond: its two baseline nights are too few for a time verdict) -----
sed -i 's/range(2000)/range(3000)/' "$T/ws/tiny.py"
capture farm_cli submit "$T/instr.ini" --hosts "$HOST" --instructions --wait -q
expect_eq "a night of more work, counted: it ran (exit 0)" 0 "$RC"
expect_match "the analysis found it on the counts alone: an instructions regression" \
    '^instructions regression [1-3]\.[0-9]+$' \
    "$(pg_sql "SELECT g.metric || ' ' || g.kind || ' ' || round(g.change_pct::numeric, 2) FROM regressions g WHERE g.batch_id = (SELECT max(id) FROM batches WHERE suite = 'instr') AND g.function_key = '' ORDER BY g.metric = 'instructions' DESC LIMIT 1" 2>&1)"
# the series shows the counts: pyscope history --host --metric instructions (every counted
# run: two nights and the confirmation; the plain night has none)
counted=$(pg_sql "SELECT count(*) FROM runs r JOIN scripts s ON s.id = r.script_id WHERE s.key = 'tiny.py' AND r.outcome = 'ok' AND r.instructions IS NOT NULL")
capture farm_cli history tiny.py --host "$HOST" --metric instructions --json
expect_eq "history --host --metric instructions: each counted run's median count" "0 3 $counted True" \
    "$RC $(printf '%s' "$OUT" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); r=[x for x in d["runs"] if x["n"] > 0]; print(len(r), len(r), all(x["median_instructions"] > 1e6 for x in r))' 2>&1)"

# a suite's `instructions = on` (docs/suite-format.md) counts that script's runs only, without
# --instructions: the nightly suite of a busy farm counts its CPU-bound scripts
cp "$T/ws/tiny.py" "$T/ws/counted.py"
cp "$T/ws/tiny.py" "$T/ws/other.py"
printf '[suite]\nname = instr_suite\n\n[script counted.py]\ninstructions = on\n\n[script other.py]\n' \
    >"$T/suite-instr.ini"
capture farm_cli submit "$T/suite-instr.ini" --hosts "$HOST" --wait -q
expect_eq "suite instructions = on: the batch ran (exit 0)" 0 "$RC"
expect_eq "suite instructions = on: that script's job counts, the other's does not" \
    "counted.py|t|1 other.py|f|0" \
    "$(pg_sql "SELECT s.key || '|' || CASE WHEN j.instructions THEN 't' ELSE 'f' END || '|' || count(r.instructions) FROM jobs j JOIN scripts s ON s.id = j.script_id LEFT JOIN runs r ON r.job_id = j.id AND r.outcome = 'ok' AND r.instructions IS NOT NULL WHERE j.batch_id = (SELECT max(id) FROM batches WHERE suite = 'instr_suite') GROUP BY s.key, j.instructions ORDER BY s.key" | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')"

# --- an agent without valgrind refuses such jobs, saying how to get valgrind --------------
mkdir -p "$T/novg"
ln -s "$(command -v python3)" "$T/novg/python3"
PY3=$(command -v python3)
PATH="$T/novg" swap_agent novg --python "$PY3"
capture farm_cli submit "$T/instr.ini" --hosts "$HOST" --instructions --wait -q
expect_eq "no valgrind: the job did not end ok (exit 3)" 3 "$RC"
expect_eq "no valgrind: refused, never run without counts" "refused|0" \
    "$(pg_sql "SELECT string_agg(DISTINCT r.outcome, ','), count(*) FILTER (WHERE r.instructions IS NULL AND r.outcome = 'ok') FROM runs r WHERE r.batch_id = (SELECT max(id) FROM batches)" | tr -d ' ')"
expect_match "no valgrind: the refusal says how to get it" \
    "instructions needs valgrind on this agent: apt-get install valgrind" \
    "$(pg_sql "SELECT string_agg(DISTINCT r.message, ' / ') FROM runs r WHERE r.batch_id = (SELECT max(id) FROM batches)")"
expect_match "no valgrind: the agent's log says it" "refused: instructions needs valgrind" \
    "$(cat "$T/agent-novg.log")"
expect_match "no valgrind: the agent's start-up said so before any job" \
    "info: valgrind: not found on this agent's PATH; jobs asking for instruction counts will be refused" \
    "$(cat "$T/agent-novg.log")"
# a bisection on instructions there ends failed, and says why (exit 3: an end cannot run)
set +e
(cd "$REPO" && farm_cli bisect bench/f.py --host "$HOST" --good "$(C 1)" --bad "$(C 8)" \
    --rounds 2 --repeat 1 --metric instructions --json -q) >"$T/novg.json" 2>"$T/novg-bis.err"
brc=$?
set -e
echo "# no valgrind: bisection rc $brc; $(pg_sql "SELECT state || ': ' || message FROM bisections ORDER BY id DESC LIMIT 1")"
expect_eq "no valgrind: the bisection failed (exit 3)" "3 failed" \
    "$brc $(pg_sql "SELECT state FROM bisections ORDER BY id DESC LIMIT 1")"
expect_match "no valgrind: the bisection's message names the missing valgrind" \
    "needs valgrind on this agent" \
    "$(pg_sql "SELECT message FROM bisections ORDER BY id DESC LIMIT 1")"
# its step lines give no change for a step that measured nothing (not "+0.0%")
steps=$(farm_cli bisect --id "$(pg_sql "SELECT max(id) FROM bisections")" 2>&1 >/dev/null || true)
expect_match "no valgrind: the failed step says neither side has runs" \
    'step 1 \(ends\): [0-9a-f]{12} .*: failed \(0\+0 runs: neither side has runs\)' "$steps"
expect_nomatch "no valgrind: no change figure for a step without runs" '[+-]0\.0%' "$steps"

# --- an agent whose valgrind fails on its own refuses too (not "error", not a script failure);
# the stand-in lives in the workspace: jobs see it there (their private /tmp hides $T itself)
mkdir -p "$T/ws/badvg"
printf '#!/bin/sh\n[ "$1" = --version ] && { echo valgrind-3.19.0; exit 0; }\necho "valgrind: stand-in, broken" >&2\nexit 1\n' >"$T/ws/badvg/valgrind"
chmod +x "$T/ws/badvg/valgrind"
PATH="$T/ws/badvg:$PATH" swap_agent badvg
capture farm_cli submit "$T/instr.ini" --hosts "$HOST" --instructions --wait -q
expect_eq "broken valgrind: the job did not end ok (exit 3)" 3 "$RC"
expect_eq "broken valgrind: refused, never an error nor the script's failure" "refused" \
    "$(pg_sql "SELECT string_agg(DISTINCT r.outcome, ',') FROM runs r WHERE r.batch_id = (SELECT max(id) FROM batches)" | tr -d ' ')"
expect_match "broken valgrind: the refusal says it is valgrind's failure, and how to check it" \
    "refused: this agent cannot count instructions: .*valgrind's failure, not the script's" \
    "$(pg_sql "SELECT string_agg(DISTINCT r.message, ' / ') FROM runs r WHERE r.batch_id = (SELECT max(id) FROM batches)")"

# --- a valgrind in a folder the jobs' private /tmp hides is not theirs: the agent says which
# valgrind they use (the next on PATH), never the hidden one
mkdir -p "$T/hidvg"
cp "$T/ws/badvg/valgrind" "$T/hidvg/valgrind"
PATH="$T/hidvg:$PATH" swap_agent hidvg
for _ in $(seq 50); do grep -q "jobs may ask\|will be refused" "$T/agent-hidvg.log" 2>/dev/null && break; sleep 0.2; done
expect_match "hidden valgrind: the agent warns that jobs cannot see it, and names theirs" \
    "warning: valgrind: \"$T/hidvg/valgrind\" is in a folder the jobs' private /tmp hides: they use /[^ ]*valgrind" \
    "$(cat "$T/agent-hidvg.log")"
expect_nomatch "hidden valgrind: never announced as the jobs' valgrind" \
    "info: valgrind: $T/hidvg/valgrind" "$(cat "$T/agent-hidvg.log")"

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
