#!/usr/bin/env bash
# test_agent_reference_refuse.sh - a suite's reference script that leads outside the
# agent's workspace never runs (docs/security.md, "The reference script").
#
# A submitter names `reference = examples/ref.py`, a path that passes every lexical check,
# while examples/ref.py in the agent's workspace is a symbolic link to a script outside
# that would leave a trace. Real agent, real pyscope-run:
#   - the nightly 'reference' job of the batch comes back refused ("outside ... through a
#     symlink");
#   - a confirmation run of the batch (Job.reference = examples/ref.py) runs without its
#     reference: the agent warns, pyscope-run gets no --reference, the result carries no
#     reference figures;
#   - the outside script never ran (as root the job's private /tmp hides $T from it
#     anyway: there the refusals and the warning are what fail without the check).
# Then the reference's name holds a right-to-left override (a path may: only controls are
# refused, lib/wire.c): the agent's warning about it shows "\u202e", never the raw character.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
out=$T/outside
mkdir -p "$ws/examples" "$out"
cat >"$out/outside.py" <<PY
open("$out/ran", "w").write("ran")
PY
ln -s "$out/outside.py" "$ws/examples/ref.py"
cat >"$ws/examples/a.py" <<'PY'
sum(i * i for i in range(20000))
PY
farm_agent_start a1 "$ws"
farm_wait 20 'grep -q welcome "$T/agent-a1.log"' || fail "agent registered" "no welcome"

printf '[suite]\nname = refs\nreference = examples/ref.py\nrepeat = 2\ntimeout = 20\n[script examples/a.py]\n' \
    >"$T/suite.ini"
res=$(farm_cli submit "$T/suite.ini" --json)
expect_match "submitted: the reference and a.py" '"jobs": 2' "$res"
farm_wait 60 '[ "$(pg_sql "SELECT count(*) FROM runs")" = 2 ]' ||
    { fail "both results" "$(pg_sql 'SELECT count(*) FROM runs')"; farm_logs; }
expect_match "the nightly reference job: refused, the symlink leads outside" \
    "^refused .*outside the root through a symlink" \
    "$(pg_sql "SELECT r.outcome || ' ' || r.message FROM runs r JOIN jobs j ON j.id = r.job_id WHERE j.purpose = 'reference'")"

# confirm JOB [OF]: queue a confirmation run of the measured job JOB (as the analysis does,
# coordinator/analysis.c; recorded as confirming job OF, default JOB: one per job) and wait
# for its result; its id in CJ
confirm() {
    CJ=$(pg_sql "INSERT INTO jobs (batch_id, script_id, host_id, repeat, warmup, mode, timeout_s,
                 state, purpose, confirm_of, slot) SELECT batch_id, script_id, host_id, 2, 0,
                 'sample', 20, 'queued', 'confirm', ${2:-$1}, 1 FROM jobs WHERE id = $1 RETURNING id")
    farm_wait 60 "[ \"\$(pg_sql \"SELECT count(*) FROM runs WHERE job_id = $CJ\")\" = 1 ]" ||
        { fail "confirmation $CJ answered" "no result"; farm_logs; }
}
M=$(pg_sql "SELECT id FROM jobs WHERE purpose = 'measure'")
confirm "$M"
expect_eq "the confirmation ran without its reference: ok, no reference figures" "ok|t|t" \
    "$(pg_sql "SELECT outcome, cardinality(array_remove(ref_script_cpu_s, NULL)) = 0,
           cardinality(array_remove(ref_script_wall_s, NULL)) = 0 FROM runs WHERE job_id = $CJ")"
expect_match "the agent says why" \
    "job $CJ: its reference script \"examples/ref.py\" is not here \(path \"examples/ref.py\" leads outside the root through a symlink\): run without it" \
    "$(cat "$T/agent-a1.log")"
[ ! -e "$out/ran" ] && ok "the outside script never ran" || fail "the outside script never ran" "it ran"

# a reference named with a right-to-left override (stored as it came, shown escaped)
RLO=$(printf '\xe2\x80\xae')
pg_sql "UPDATE scripts SET key = 'examples/r${RLO}fe.py' WHERE key = 'examples/ref.py'" >/dev/null
confirm "$M" "$(pg_sql "SELECT id FROM jobs WHERE purpose = 'reference'")"
log=$(cat "$T/agent-a1.log")
expect_match "the warning names the reference escaped" \
    "job $CJ: its reference script \"examples/r\\\\u202efe.py\" is not here" "$log"
expect_nomatch "no raw right-to-left override in the agent's log" "$RLO" "$log"
[ ! -e "$out/ran" ] && ok "still nothing ran outside" || fail "still nothing ran outside" "it ran"
if kill -0 "${AGENT_PID[a1]}" 2>/dev/null; then ok "agent alive"; else fail "agent alive" "dead"; fi
finish
