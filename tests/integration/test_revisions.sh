#!/usr/bin/env bash
# test_revisions.sh - jobs run at an exact commit (docs/revisions.md): the CLI
# resolves --commit on the submitter's side and describes it, the agent (given only a
# repository, no workspace) checks each commit out read-only into its cache and runs
# there, never touching the developer's checkout it fetches from; an unknown commit is
# a clear refusal, an unknown revision a usage error; the cache keeps to its size; a
# commit whose branch was force-pushed away still runs from the agent's mirror.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
command -v git >/dev/null || skip "no git (apt-get install git)"

export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL=ada@example.org
export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL=ada@example.org
dev=$T/dev
git init -q -b main "$dev"
mkdir -p "$dev/bench"
commit_bench() { # commit_bench VERSION SUBJECT
    printf 'import sys\nV = "%s"\nprint("version", V)\nsum(i for i in range(20000))\n' "$1" \
        >"$dev/bench/b.py"
    git -C "$dev" add bench/b.py
    git -C "$dev" commit -q -m "$2"
}
commit_bench v1 "First version"
commit_bench v2 "Second version: faster"
commit_bench v3 "Third version"
h1=$(git -C "$dev" rev-parse HEAD~2)
h2=$(git -C "$dev" rev-parse HEAD~1)
h3=$(git -C "$dev" rev-parse HEAD)
# a file the developer is working on: must stay exactly as it is
echo "# unsaved work" >>"$dev/bench/b.py"
before=$(cd "$dev" && find . -printf '%p %s %T@ %m\n' | sort | sha256sum)

cat >"$T/suite.ini" <<'INI'
[suite]
name = rev
repeat = 1
timeout = 60
[script bench/b.py]
INI

farm_pg_start
farm_coord_start
start_agent() { # an agent with a repository and no workspace
    "$AGENT_BIN" --coordinator "$COORD_URL" --name r1 --spool "$T/spool-r1" --repo "$dev" \
        --revisions "$T/revisions" "${FARM_AGENT_DEFAULTS[@]}" --config "$T/agent.conf" \
        >>"$T/agent-r1.log" 2>&1 &
    AGENT_PID[r1]=$!
    FARM_PIDS+=("$!")
}
cat >"$T/agent.conf" <<'CONF'
[agent]
revision_cache_size = 1
CONF
start_agent
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents")" = 1 ]' ||
    { fail "agent registered" "$(cat "$T/agent-r1.log")"; }

# job_of BATCH: "state|outcome|sha256|message" of the batch's first job (a confirmation
# run may follow it in the same batch)
job_of() {
    pg_sql "SELECT j.state, r.outcome, r.script_sha256, r.message FROM jobs j
            LEFT JOIN runs r ON r.job_id = j.id WHERE j.batch_id = $1
            ORDER BY j.id, r.stored_at DESC NULLS LAST LIMIT 1"
}
wait_batch() {
    farm_wait 90 "[ \"\$(pg_sql \"SELECT state FROM batches WHERE id = $1\")\" = done ]" ||
        { fail "batch $1 done" "$(farm_logs)"; }
}
sha_at() { git -C "$dev" show "$1:bench/b.py" | sha256sum | cut -d' ' -f1; }

# --- a commit named by a relative revision, resolved in the current checkout
out=$(cd "$dev" && farm_cli submit "$T/suite.ini" --commit HEAD~1 --label two)
expect_match "submit names the commit" "at commit ${h2:0:12} \"Second version: faster\"" "$out"
b=$(sed -E 's/^batch ([0-9]+):.*/\1/' <<<"$out")
expect_eq "batch records the full hash" "$h2" "$(pg_sql "SELECT commit_hash FROM batches WHERE id = $b")"
expect_eq "its job runs at it" "$h2" "$(pg_sql "SELECT commit_hash FROM jobs WHERE batch_id = $b")"
expect_eq "commit described" "Second version: faster|Ada Lovelace <ada@example.org>|2|{$h1}" \
    "$(pg_sql "SELECT subject, author, generation, parents FROM commits WHERE hash = '$h2'")"
expect_eq "ancestors described" 1 "$(pg_sql "SELECT count(*) FROM commits WHERE hash = '$h1' AND generation = 1")"
wait_batch "$b"
expect_eq "ran the script of that commit" "done|ok|$(sha_at "$h2")" "$(job_of "$b" | cut -d"|" -f1-3)"
tree=$T/revisions/trees/$h2
[ -e "$tree/bench/b.py" ] && ok "tree checked out" || fail "tree checked out" "$(ls -R "$T/revisions" | head)"
expect_eq "tree at the commit" "$h2" "$(git -C "$tree" rev-parse HEAD 2>/dev/null)"
expect_eq "tree read-only" "" "$(find "$tree" -path "$tree/.git" -prune -o -perm /222 -print)"
expect_match "agent says what it checked out" "checking out $h2" "$(cat "$T/agent-r1.log")"

# --- the next commit: its own tree, the older one removed (cache size 1 byte)
b2=$(cd "$dev" && farm_cli submit "$T/suite.ini" --commit main --json | sed -E 's/.*"batch_id": ([0-9]+).*/\1/')
wait_batch "$b2"
expect_eq "main's script ran" "done|ok|$(sha_at "$h3")" "$(job_of "$b2" | cut -d"|" -f1-3)"
expect_eq "cache keeps to its size: the unused tree is gone" "$h3" "$(ls "$T/revisions/trees")"

# --- the developer's checkout: untouched
after=$(cd "$dev" && find . -printf '%p %s %T@ %m\n' | sort | sha256sum)
expect_eq "developer's checkout untouched" "$before" "$after"
expect_eq "no worktree added to it" 1 "$(git -C "$dev" worktree list | wc -l)"
expect_match "unsaved work still there" "unsaved work" "$(cat "$dev/bench/b.py")"

# --- an unknown revision is a usage error on the submitter's side
set +e
err=$(cd "$dev" && farm_cli submit "$T/suite.ini" --commit no-such-branch 2>&1)
st=$?
set -e
expect_eq "unknown revision: exit 2" 2 "$st"
expect_match "unknown revision: says so" "unknown revision \"no-such-branch\"" "$err"
set +e
err=$(cd / && farm_cli submit "$T/suite.ini" --commit HEAD 2>&1)
st=$?
set -e
expect_eq "no checkout, not a hash: exit 2" 2 "$st"
expect_match "no checkout: says how" "not in a git checkout" "$err"

# --- a commit the agent's repository does not have: a clear job error, not a retry
other=$T/other
git clone -q "$dev" "$other"
(cd "$other" && echo 'print("elsewhere")' >bench/b.py && git commit -qam "Never pushed")
hx=$(git -C "$other" rev-parse HEAD)
out=$(cd "$other" && farm_cli submit "$T/suite.ini" --commit HEAD)
b3=$(sed -E 's/^batch ([0-9]+):.*/\1/' <<<"$out")
wait_batch "$b3"
res=$(job_of "$b3")
expect_match "unknown commit refused" "^failed\|refused\|\|refused: commit $hx is not in $dev" "$res"
expect_eq "refused once, not retried" 1 "$(pg_sql "SELECT attempt FROM jobs WHERE batch_id = $b3")"

# --- a force-pushed branch: its old head still runs from the agent's mirror
(cd "$dev" && git checkout -q -b feat && commit_bench v4 "Feature work" && git checkout -q main)
hf=$(git -C "$dev" rev-parse feat)
b4=$(cd "$dev" && farm_cli submit "$T/suite.ini" --commit feat | sed -E 's/^batch ([0-9]+):.*/\1/')
wait_batch "$b4"
expect_eq "feature branch ran" "done|ok|$(sha_at "$hf")" "$(job_of "$b4" | cut -d"|" -f1-3)"
sha_f=$(sha_at "$hf")
git -C "$dev" branch -q -f feat main
git -C "$dev" reflog expire --expire=now --all
git -C "$dev" gc -q --prune=now
git -C "$dev" cat-file -e "$hf" 2>/dev/null && fail "commit gone from the origin" "still there" ||
    ok "commit gone from the origin"
set +e
out=$(cd / && farm_cli submit "$T/suite.ini" --commit "$hf" 2>"$T/warn")
set -e
expect_match "a full hash without a checkout: warned" "without its subject" "$(cat "$T/warn")"
b5=$(sed -E 's/^batch ([0-9]+):.*/\1/' <<<"$out")
wait_batch "$b5"
expect_eq "force-pushed commit still runs" "done|ok|$sha_f" "$(job_of "$b5" | cut -d"|" -f1-3)"

# --- the nightly script: the head of a branch of a repository URL, recorded with the batch
night=$(PYSCOPE_REPO="file://$dev" PYSCOPE_BRANCH=main PYSCOPE_SUITE="$T/suite.ini" \
    PYSCOPE_REPORT_DIR="$T/reports" PYSCOPE_CLI="$PYSCOPE" XDG_CACHE_HOME="$T/xdg" \
    timeout 300 bash "$PYSCOPE_SRC/deploy/nightly.sh" 2>"$T/nightly.err") || true
bn=$(pg_sql "SELECT max(id) FROM batches")
expect_eq "nightly: the branch head, recorded" "nightly $(date -u +%Y-%m-%d) main|$h3" \
    "$(pg_sql "SELECT label || '|' || commit_hash FROM batches WHERE id = $bn")"
expect_eq "nightly: it ran there" "done|ok|$(sha_at "$h3")" "$(job_of "$bn" | cut -d"|" -f1-3)"
expect_match "nightly: the report written" "report-.*\.html" "$night"
[ -s "$T/reports/latest.html" ] && ok "nightly: latest.html" || fail "nightly: latest.html" "$(cat "$T/nightly.err")"
[ -d "$T/xdg/pyscope/repos" ] && ok "nightly: the URL mirrored in the CLI's cache" ||
    fail "nightly: the URL mirrored in the CLI's cache" "$(ls -R "$T/xdg" 2>&1 | head)"

expect_eq "every job (confirmation runs too) runs at its batch's commit" 0 \
    "$(pg_sql "SELECT count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id
               WHERE j.commit_hash IS DISTINCT FROM b.commit_hash")"

# --- pyscope jobs and status show the commit
expect_match "jobs JSON names the commit" "\"subject\": \"Feature work\"" "$(farm_cli jobs --batch "$b4" --json)"
expect_match "batch JSON has the revision" "\"hash\": \"$hf\"" "$(farm_cli status "$b4" --json)"

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
