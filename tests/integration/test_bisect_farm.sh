#!/usr/bin/env bash
# test_bisect_farm.sh - pyscope bisect SCRIPT --host H --good A --bad B on the farm
# (docs/revisions.md, coordinator/bisection.c): real PostgreSQL, coordinator and agent on
# the generated 64-commit repository (tests/data/revisions/make_repo.sh) whose commit 23
# makes f() 60% slower, commit 41 makes g() faster, and commit 24 breaks bench/lib.py
# (mended at 25). The coordinator runs each step as an A/B try batch on the host and keeps
# the bisection in PostgreSQL: it is restarted in the middle of the search, which goes on.
# The result names commit 23 in <= 7 halving steps plus the ends and the confirmation
# (against its parent), with its evidence, and the unrunnable commit 24 is reported as
# such; or, where noise can explain it, "inconclusive", said - never a wrong commit.
# Under a CPU hog on every core (a shorter range): the right commit or inconclusive.
# Bad input: unknown host, unknown revision, GOOD == BAD, GOOD not an ancestor, a script
# not in the repository: exit 2, said.
# Not in the ASan run (tests/run.sh): its code paths run there in test_bisect_steps (the
# search), test_bisect_auto (a restart, cancel) and test_try_farm (agents at commits, A/B
# batches); this one's 64 commits cost minutes more under ASan.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

# f() ~0.1 s of CPU; commit 23 makes it 60% slower, 41 makes g() 20% faster, 24 is broken
revisions_repo 2000000 23 41 60 20 24 0 64
CULPRIT=$(C 23)

farm_pg_start
farm_coord_start
"$AGENT_BIN" --coordinator "$COORD_URL" --name bis1 --spool "$T/spool-bis1" --repo "$REPO" \
    --revisions "$T/rev-bis1" "${FARM_AGENT_DEFAULTS[@]}" >>"$T/agent-bis1.log" 2>&1 &
FARM_PIDS+=("$!")
farm_wait 30 "[ \"\$(pg_sql 'SELECT count(*) FROM hosts' 2>/dev/null)\" = 1 ]" ||
    fail "the agent registered" "$(farm_logs)"
HOST=$(pg_sql "SELECT hostname FROM hosts")
SANITIZED=0
grep -q '^PYSCOPE_SANITIZE:BOOL=ON' "$PYSCOPE_BUILD/CMakeCache.txt" && SANITIZED=1

# judge FILE WANT: "ok" when the bisection named WANT with its confirmation, or stopped
# inconclusive (said, with the interval holding WANT); anything else is listed
judge() {
    "$PY" - "$1" "$2" <<'PYJ'
import json, sys
d = json.load(open(sys.argv[1]))["bisect"]
want = sys.argv[2]
st, cul = d["state"], (d.get("culprit") or {}).get("hash")
if st == "found":
    print("ok" if cul == want else "WRONG commit named: %s (want %s): %s" % (cul, want, d["message"]))
elif st in ("inconclusive", "budget"):
    print("ok" if d["message"] else "inconclusive without a message")
else:
    print("state %s: %s" % (st, d["message"]))
PYJ
}

# --- the whole range, with a coordinator restart in the middle ---------------------------
if [ "$SANITIZED" = 0 ]; then GOOD=$(C 1) BAD=$(C 64); else GOOD=$(C 20) BAD=$(C 27); fi
(cd "$REPO" && farm_cli bisect bench/f.py --host "$HOST" --good "$GOOD" --bad "$BAD" \
    --rounds 3 --repeat 2 --metric cpu_s --threshold 15 --json) >"$T/bis.json" 2>"$T/bis.err" &
CLI=$!
# two turns of the first step done (the bisection under way, its step still open), then the
# coordinator goes down and up in the middle of the search
farm_wait 200 "[ \"\$(pg_sql \"SELECT count(*) FROM jobs j JOIN bisection_steps st ON j.batch_id = ANY (st.batches) WHERE j.state = 'done'\" 2>/dev/null)\" -ge 2 ]" ||
    fail "the first step under way" "$(cat "$T/bis.err"; farm_logs)"
was_running=$(pg_sql "SELECT state = 'running' FROM bisections WHERE id = 1")
kill -TERM "$COORD_PID"
wait "$COORD_PID" 2>/dev/null || true
restarted=$(pg_sql "SELECT now()")
sleep 1
farm_coord_start
set +e
wait "$CLI"
rc=$?
set -e
echo "# $(grep -c 'step' "$T/bis.err" || true) step lines; rc $rc; $(pg_sql "SELECT state || ': ' || message FROM bisections WHERE id = 1")"
if [ "$was_running" = t ]; then
    expect_eq "the bisection survived the restart: steps decided after it, and it ended" "t|t" \
        "$(pg_sql "SELECT (SELECT count(*) > 0 FROM bisection_steps WHERE bisection_id = 1 AND decided > '$restarted'), (SELECT state <> 'running' FROM bisections WHERE id = 1)" | tr -d ' ')"
else
    echo "# the bisection ended before the restart: restart not exercised"
fi
expect_eq "JSON: the schema" "pyscope.bisect_farm/1" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["schema"])' "$T/bis.json" 2>&1 || tail -5 "$T/bis.err")"
expect_eq "every step is an interleaved A/B try batch on the host" "t" \
    "$(pg_sql "SELECT bool_and(b.purpose = 'try') FROM bisection_steps st, unnest(st.batches) x JOIN batches b ON b.id = x")"
order=$(pg_sql "SELECT string_agg(s, ' ') FROM (SELECT string_agg(CASE j.purpose WHEN 'try_base' THEN 'b' ELSE 'h' END, '' ORDER BY j.id) AS s FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE b.label LIKE 'bisect 1 step %' GROUP BY b.id) x")
expect_match "a step's turns are pairs, the first alternating: base head, head base..." \
    '^(bhhb)*(bh)?( (bhhb)*(bh)?)*$' "$order"
nsteps=$(pg_sql "SELECT count(*) FROM bisection_steps WHERE bisection_id = 1 AND phase = 'step'")
if [ "$SANITIZED" = 0 ]; then
    verdict=$(judge "$T/bis.json" "$CULPRIT")
    expect_eq "64 commits: commit 23 named (or inconclusive, said), never a wrong commit" ok "$verdict"
    state=$(pg_sql "SELECT state FROM bisections WHERE id = 1")
    if [ "$state" = found ]; then
        expect_eq "found: exit 0" 0 "$rc"
        expect_match "at most 7 halving steps (plus the ends and the confirmation)" '^[1-7]$' "$nsteps"
        expect_eq "the confirmation tested the culprit against its parent" "$CULPRIT $(C 22)" \
            "$(pg_sql "SELECT b.chain[st.pos] || ' ' || b.chain[st.against_pos] FROM bisection_steps st JOIN bisections b ON b.id = st.bisection_id WHERE st.phase = 'confirm' ORDER BY n DESC LIMIT 1")"
        # cpu_s decides (--metric): a regression, or inside the noise floor nearer the bad end
        expect_match "the evidence: the culprit against its parent, a regression or nearer the bad end" \
            '^(regression|inconclusive nearer the bad end)$' \
            "$("$PY" -c 'import json,sys; b=json.load(open(sys.argv[1]))["bisect"]; m=[x for x in b["evidence"]["metrics"] if x["metric"] == "cpu_s" and not x.get("function")][0]; print(m["verdict"] + (" nearer the bad end" if m["verdict"] == "inconclusive" and "nearer the bad end" in b["message"] else ""))' "$T/bis.json")"
        expect_match "the culprit's subject and author" "Ada Lovelace" \
            "$("$PY" -c 'import json,sys; c=json.load(open(sys.argv[1]))["bisect"]["culprit"]; print(c["author"], c["subject"], c["merge"])' "$T/bis.json")"
    else
        expect_eq "not named: exit 1" 1 "$rc"
        echo "# not named (noise): $(pg_sql "SELECT message FROM bisections WHERE id = 1")"
    fi
    # the broken commit 24 was tested only if a step landed on it: then it is reported unrunnable
    if [ "$(pg_sql "SELECT count(*) FROM bisection_steps st JOIN bisections b ON b.id = st.bisection_id WHERE b.chain[st.pos] = '$(C 24)'")" != 0 ]; then
        expect_eq "the broken commit 24 is skipped and named unrunnable" "skip|$(C 24)|$(C 24)" \
            "$(pg_sql "SELECT st.outcome || '|' || b.chain[st.pos] FROM bisection_steps st JOIN bisections b ON b.id = st.bisection_id WHERE b.chain[st.pos] = '$(C 24)' LIMIT 1")|$("$PY" -c 'import json,sys; print(",".join(u["hash"] for u in json.load(open(sys.argv[1]))["bisect"]["unrunnable"]))' "$T/bis.json")"
    fi
else
    expect_match "ASan build: the bisection ended (exit 0, 1)" '^[01]$' "$rc"
fi

# --- the text form of a finished bisection, read back by its id -----------------------------
set +e
out=$(farm_cli bisect --id 1 2>&1)
st=$?
set -e
expect_eq "--id: the exit status of its state" "$rc" "$st"
expect_match "--id: the result line" "^result: [a-z_]+: " "$out"

# --- under a CPU hog on every core: the right commit, or inconclusive said -----------------
if [ "$SANITIZED" = 0 ]; then
    HOGS=()
    for _ in $(seq "$(nproc)"); do
        timeout 300 "$PY" -c 'while 1: pass' >/dev/null 2>&1 </dev/null &
        FARM_PIDS+=("$!")
        HOGS+=("$!")
    done
    set +e
    (cd "$REPO" && farm_cli bisect bench/f.py --host "$HOST" --good "$(C 20)" --bad "$(C 25)" \
        --rounds 3 --repeat 2 --metric cpu_s --threshold 15 --json -q) >"$T/hog.json" 2>"$T/hog.err"
    set -e
    kill "${HOGS[@]}" 2>/dev/null || true
    echo "# under hogs: $(pg_sql "SELECT state || ': ' || message FROM bisections ORDER BY id DESC LIMIT 1")"
    expect_eq "under a CPU hog per core: commit 23 or inconclusive, never a wrong commit" ok \
        "$(judge "$T/hog.json" "$CULPRIT" 2>&1 || tail -3 "$T/hog.err")"
fi

# Every halving step (both bisections) tests a commit strictly inside the open interval,
# never one tested before nor an end: with one commit left the search confirms it against
# its parent (it once re-tested the last good commit there until the budget ran out).
expect_eq "halving steps: each commit tested once, never an end" t \
    "$(pg_sql "SELECT coalesce(bool_and(n = 1 AND pos > 1 AND pos < cardinality(chain)), true) FROM (SELECT st.bisection_id, st.pos, count(*) AS n, b.chain FROM bisection_steps st JOIN bisections b ON b.id = st.bisection_id WHERE st.phase = 'step' GROUP BY st.bisection_id, st.pos, b.chain) x")"

# --- bad input: exit 2, said ---------------------------------------------------------------
bad() { # bad NAME PATTERN ARGS...: the CLI refuses with exit 2 and says PATTERN
    local name=$1 pat=$2
    shift 2
    set +e
    local e
    e=$(cd "$REPO" && farm_cli bisect "$@" 2>&1)
    local s=$?
    set -e
    expect_eq "$name: exit 2" 2 "$s"
    expect_match "$name: says so" "$pat" "$e"
}
bad "unknown host" 'no host or agent is named "nosuchhost"' bench/f.py --host nosuchhost --good "$(C 1)" --bad "$(C 64)"
bad "unknown revision" 'unknown revision "no-such-branch"' bench/f.py --host "$HOST" --good no-such-branch --bad main
bad "GOOD == BAD" 'the same commit' bench/f.py --host "$HOST" --good main --bad "$(C 64)"
bad "GOOD not an ancestor of BAD" 'is not an ancestor of --bad' bench/f.py --host "$HOST" --good "$(C 64)" --bad "$(C 1)"
bad "a script not in the repository" 'is not in commit' bench/nope.py --host "$HOST" --good "$(C 1)" --bad "$(C 64)"
bad "no --host value" 'needs a value' bench/f.py --good "$(C 1)" --bad "$(C 64)" --host
bad "a bad metric" 'wall_s, cpu_s or peak_rss_bytes' bench/f.py --host "$HOST" --good "$(C 1)" --bad "$(C 64)" --metric nope
bad "an unknown bisection" 'no bisection has that id' --id 999
expect_eq "refused bisections left nothing behind" "$([ "$SANITIZED" = 0 ] && echo 2 || echo 1)" \
    "$(pg_sql "SELECT count(*) FROM bisections")"

# --- a merge commit as the culprit: named as a merge, with its parents, never silently ------
# a side branch off commit 64 doubles the work in f(); merged into main (--no-ff) it is the
# one commit of main's first-parent history between 64 and the merge
if [ "$SANITIZED" = 0 ]; then
    export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
    export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL=ada@example.org
    git -C "$REPO" checkout -q -b side "$(C 64)"
    sed -i '0,/range(\([0-9]*\))/s//range(2 * \1)/' "$REPO/bench/lib.py"
    git -C "$REPO" commit -q -am "Side: double the work in f"
    SIDE=$(git -C "$REPO" rev-parse HEAD)
    git -C "$REPO" checkout -q main
    git -C "$REPO" merge -q --no-ff side -m "Merge branch 'side'"
    MERGE=$(git -C "$REPO" rev-parse HEAD)
    set +e
    (cd "$REPO" && farm_cli bisect bench/f.py --host "$HOST" --good "$(C 64)" --bad main \
        --rounds 3 --repeat 2 --metric cpu_s --threshold 15 --json -q) >"$T/merge.json" 2>"$T/merge.err"
    set -e
    echo "# merge: $(pg_sql "SELECT state || ': ' || message FROM bisections ORDER BY id DESC LIMIT 1")"
    expect_eq "a merge culprit: named as a merge with its parents, or inconclusive said" ok \
        "$("$PY" - "$T/merge.json" "$MERGE" "$(C 64)" "$SIDE" <<'PYM' 2>&1 || tail -3 "$T/merge.err"
import json, sys
d = json.load(open(sys.argv[1]))["bisect"]
merge, p1, p2 = sys.argv[2:5]
c = d.get("culprit") or {}
if d["state"] == "found":
    want = "merge commit %s (parents %s, %s): the slowdown came in with the merge" % (merge[:12], p1[:12], p2[:12])
    print("ok" if c.get("hash") == merge and c.get("merge") is True and d["message"].startswith(want)
          else "found %s merge=%s: %s" % (c.get("hash"), c.get("merge"), d["message"]))
elif d["state"] in ("inconclusive", "budget") and d["message"]:
    print("ok")
else:
    print("state %s: %s" % (d["state"], d["message"]))
PYM
)"
    if [ "$(pg_sql "SELECT state FROM bisections ORDER BY id DESC LIMIT 1")" = found ]; then
        out=$(farm_cli bisect --id "$(pg_sql "SELECT max(id) FROM bisections")" 2>&1 || true)
        expect_match "text: the merge culprit said as a merge" "a merge commit: the change came with the branch it merged" "$out"
    fi
fi

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
