#!/usr/bin/env bash
# test_coord_reference_insider.sh - insiders with valid keys against the interleaved
# reference of confirmation runs (Job.reference, runs[].ref_script_cpu_s/_wall_s,
# docs/security.md "The reference script").
#
# The agent of host-b (key host-b, played by tests/tools/fake_agent) takes the confirmation
# jobs of seeded nights (tests/integration/team_drift.sql, host-b 30% slower) and forges the
# reference script's times of its results:
#   - NaN, infinity, negative, above 1e9: the wire refuses the whole Result (error
#     "malformed", logged as a warning with the key's name), nothing is stored, the lease
#     stays: the agent may still send its result;
#   - zero, a wall time above the job's timeout, more CPU time than the wall time on every
#     core, figures on a job that was sent no reference (the confirmation's bracketing
#     reference jobs, a nightly job of a suite with a reference): the result is stored
#     without them (NULL, logged as a warning naming the agent and why), the rest of it
#     kept, and the confirmation is "bracketed", not "interleaved";
#   - honest figures on some repeats only (a reference run that failed): kept as sent, and
#     the confirmation is bracketed; on every repeat: "interleaved" (the positive control:
#     the figures do steer the analysis when they may).
# A submitter (key ci) hand-makes Submits whose reference leaves the workspace ('..', an
# absolute path) or holds control characters: refused ("malformed", naming the field,
# logged with the key's name), no batch; `pyscope submit` refuses the same suites, exit 2,
# before sending anything.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
source "$PYSCOPE_SRC/tests/integration/team_lib.sh"

curve_farm agent:B:host-b submitter:CI:ci
FB=00000000000000b2 # host-b's fingerprint in tests/integration/team_hosts.sql
pg_start
coord_start --config "$T/coord.conf"

for n in 1 2 3 4 5; do team_drift 0 "$n" host-a 0 0; done
team_settled >/dev/null

# night N [REFS]: seed a quiet night N-1 (the findings the night before opened end: the
# fake's results are not the seeded script's), then night N (host-b 30% slower: a.py
# flagged, its confirmation queued),
# then play host-b's agent for the three confirmation jobs: the reference before, a.py's
# confirmation run with the reference figures REFS (fake_agent's "refs" command), the
# reference after. Output in $T/night-N.out; CONF the confirmation job's id.
night() {
    local n=$1 refs=${2:-off}
    team_drift 0 $((n - 1)) host-b 0 0
    team_settled >/dev/null
    team_drift 0 "$n" host-b 30 0
    team_settled >/dev/null
    CONF=$(pg_sql "SELECT id FROM jobs WHERE state = 'queued' AND purpose = 'confirm'")
    local r0 r1
    r0=$(pg_sql "SELECT id FROM jobs WHERE state = 'queued' AND purpose = 'confirm_reference' AND slot = 0")
    r1=$(pg_sql "SELECT id FROM jobs WHERE state = 'queued' AND purpose = 'confirm_reference' AND slot = 2")
    fake_as "$B_SEC" --fingerprint $FB --runs 5 --python-build "CPython 3.11 gcc" >"$T/night-$n.out" <<CMDS
hello
ready 3
refs 0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2
result $r0 1
refs $refs
result $CONF 1
refs off
result $r1 1
CMDS
    team_settled >/dev/null
}
# method N: how night N's flagged a.py was confirmed (its confirmation object's method)
method() {
    pg_sql "SELECT coalesce((SELECT confirmation->>'method' FROM regressions WHERE batch_id = $1
            AND confirmation IS NOT NULL LIMIT 1), (SELECT detail->'confirmation'->>'method'
            FROM held_out WHERE batch_id = $1 AND detail ? 'confirmation' LIMIT 1), 'none')"
}
# stored JOB: "repeats|cpu figures|wall figures" of the run stored for JOB ("" when NULL)
stored() {
    pg_sql "SELECT cardinality(wall_s) || '|' || coalesce(array_to_string(ref_script_cpu_s, ',', '-'), '')
            || '|' || coalesce(array_to_string(ref_script_wall_s, ',', '-'), '') FROM runs
            WHERE job_id = $1"
}
warned() { grep -c "job $1: agent \"host-b\" sent reference script times" "$COORD_LOG" || true; }

# ---- night 6: what the wire refuses, then a zero ----
team_drift 0 6 host-b 30 0
team_settled >/dev/null
CONF=$(pg_sql "SELECT id FROM jobs WHERE state = 'queued' AND purpose = 'confirm'")
expect_match "night 6: a.py's confirmation queued" "^[0-9]+$" "$CONF"
out=$(fake_as "$B_SEC" --fingerprint $FB --runs 5 --python-build "CPython 3.11 gcc" --wait 1500 <<CMDS
hello
ready 3
refs nan/0.2,0.2/0.2,0.2/0.2,0.2/0.2,0.2/0.2
result $CONF 1
refs 0.2/inf,0.2/0.2,0.2/0.2,0.2/0.2,0.2/0.2
result $CONF 1
refs 0.2/0.2,-0.1/0.2,0.2/0.2,0.2/0.2,0.2/0.2
result $CONF 1
refs 0.2/0.2,0.2/0.2,0.2/2e9,0.2/0.2,0.2/0.2
result $CONF 1
CMDS
)
expect_eq "Job.reference is sent with the confirmation run only" \
    "job id=$CONF reference=examples/ref.py" \
    "$(grep '^job .* reference=' <<<"$out" | sed -E 's/^(job id=[0-9]+) .* (reference=.*)$/\1 \2/')"
expect_eq "the two bracketing reference jobs carry none" 2 "$(grep '^job ' <<<"$out" | grep -vc ' reference=')"
expect_eq "four forged results refused as malformed" 4 "$(grep -c '^error code=malformed' <<<"$out")"
expect_match "NaN named" "result.runs\[0\].ref_script_cpu_s: not a finite number" "$out"
expect_match "infinity named" "result.runs\[0\].ref_script_wall_s: not a finite number" "$out"
expect_match "negative named" "result.runs\[1\].ref_script_cpu_s: -0.1 out of range" "$out"
expect_match "above 1e9 named" "result.runs\[2\].ref_script_wall_s: 2e\+09 out of range" "$out"
expect_nomatch "none acked" "^ack " "$out"
expect_match "the coordinator warns, naming the key" \
    "refused a malformed message from agent:host-b \(key .{8}\.\.\.\): result.runs\[0\].ref_script_cpu_s: not a finite number" \
    "$(cat "$COORD_LOG")"
expect_eq "nothing stored for the confirmation, its lease kept" "0 leased" \
    "$(pg_sql "SELECT (SELECT count(*) FROM runs WHERE job_id = $CONF) || ' ' || state FROM jobs WHERE id = $CONF")"
# the same agent now sends a zero: well-formed, but no reference run takes no time
R0=$(pg_sql "SELECT id FROM jobs WHERE state = 'leased' AND purpose = 'confirm_reference' AND slot = 0")
R1=$(pg_sql "SELECT id FROM jobs WHERE state = 'leased' AND purpose = 'confirm_reference' AND slot = 2")
out=$(fake_as "$B_SEC" --fingerprint $FB --runs 5 --python-build "CPython 3.11 gcc" <<CMDS
hello
refs 0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2
result $R0 1 - ok examples/ref.py
refs 0.196/0.2,0/0.2,0.196/0.2,0.196/0.2,0.196/0.2
result $CONF 1 - ok examples/a.py
refs off
result $R1 1 - ok examples/ref.py
CMDS
)
expect_eq "all three acked" 3 "$(grep -c '^ack ' <<<"$out")"
team_settled >/dev/null
expect_eq "zero: the result stored without the figures" "5||" "$(stored "$CONF")"
expect_eq "zero: warned once" 1 "$(warned "$CONF")"
expect_match "zero: the warning says why" \
    "job $CONF: agent \"host-b\" sent reference script times \(runs\[\]\.ref_script_cpu_s, ref_script_wall_s\) with a zero in repeat 2 \(a reference run takes time\): ignored, the rest of its result stored" \
    "$(cat "$COORD_LOG")"
expect_eq "figures on a bracketing reference job (no Job.reference): stored without them" "5||" \
    "$(stored "$R0")"
expect_match "... and warned" \
    "job $R0: agent \"host-b\" sent reference script times .* for a job that was sent no reference script" \
    "$(cat "$COORD_LOG")"
expect_eq "night 6: bracketed, not interleaved" bracketed "$(method 6)"
expect_eq "no NaN, infinity or negative figure stored" 0 \
    "$(pg_sql "SELECT count(*) FROM runs, unnest(coalesce(ref_script_cpu_s, '{}') || coalesce(ref_script_wall_s, '{}')) v WHERE v = 'NaN' OR v = 'Infinity' OR v < 0")"

# ---- nights 8 and 10: within the wire's range, but no pyscope-run reports them ----
night 8 0.196/0.2,0.196/0.2,0.196/0.2,0.196/90,0.196/0.2
expect_eq "wall time above the job's timeout (60 s): stored without the figures" "5||" \
    "$(stored "$CONF")"
expect_match "... and warned" \
    "job $CONF: agent \"host-b\" .* with a wall time of 90 s in repeat 4, longer than the job's timeout \(60 s\)" \
    "$(cat "$COORD_LOG")"
expect_eq "night 8: bracketed" bracketed "$(method 8)"
night 10 0.196/0.2,0.196/0.2,0.5/0.2,0.196/0.2,0.196/0.2
expect_eq "more CPU than the wall time on 2 cores: stored without the figures" "5||" \
    "$(stored "$CONF")"
expect_match "... and warned" \
    "job $CONF: agent \"host-b\" .* with 0.5 s of CPU time in 0.2 s of wall time in repeat 3, more than the host's 2 cores can give" \
    "$(cat "$COORD_LOG")"
expect_eq "night 10: bracketed" bracketed "$(method 10)"

# ---- night 12: honest figures on two repeats only (the others' reference runs failed) ----
night 12 0.196/0.2,0.196/0.2,-,-,-
expect_eq "partial figures kept as sent" "5|0.196,0.196,-,-,-|0.2,0.2,-,-,-" "$(stored "$CONF")"
expect_eq "partial figures: no warning" 0 "$(warned "$CONF")"
expect_eq "night 12: bracketed (every repeat needs its figures)" bracketed "$(method 12)"

# ---- night 14: honest figures on every repeat: they decide ----
night 14 0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2
expect_eq "night 14: figures stored" "5|0.196,0.196,0.196,0.196,0.196|0.2,0.2,0.2,0.2,0.2" \
    "$(stored "$CONF")"
expect_eq "night 14: interleaved" interleaved "$(method 14)"

# ---- a nightly job of a suite with a reference: it is sent no Job.reference either ----
out=$(fake_as "$CI_SEC" <<'CMDS'
submit examples/a.py @host-b +examples/ref.py
CMDS
)
expect_match "nightly submitted" "submit_reply batch=[0-9]+ jobs=2" "$out"
M=$(pg_sql "SELECT id FROM jobs WHERE state = 'queued' AND purpose = 'measure'")
out=$(fake_as "$B_SEC" --fingerprint $FB --runs 5 --python-build "CPython 3.11 gcc" <<CMDS
hello
ready 2
refs 0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2,0.196/0.2
result $M 1
CMDS
)
expect_match "nightly result acked" "^ack " "$out"
expect_eq "nightly job: stored without the figures, its times kept" "5||" "$(stored "$M")"
expect_match "... and warned" "job $M: agent \"host-b\" .* for a job that was sent no reference script" \
    "$(cat "$COORD_LOG")"

# ---- a submitter's hand-made Submits whose reference leaves the workspace ----
nb=$(pg_sql "SELECT count(*) FROM batches")
ESC=$(printf '\033')
for bad in "../../etc/passwd" "/etc/passwd" "examples/../../x.py" "examples/r${ESC}[2Jef.py" \
    "examples/r$(printf '\177')ef.py"; do
    out=$(fake_as "$CI_SEC" <<CMDS
submit examples/a.py @host-b +$bad
CMDS
)
    expect_match "reference $(printf '%q' "$bad") refused" \
        "^error code=malformed message=submit.reference.script: not a normalized relative path" "$out"
done
expect_eq "no batch made" "$nb" "$(pg_sql "SELECT count(*) FROM batches")"
expect_match "the coordinator warns, naming the submitter's key" \
    "refused a malformed message from submitter:ci \(key .{8}\.\.\.\): submit.reference.script: not a normalized relative path" \
    "$(cat "$COORD_LOG")"
expect_nomatch "no raw escape in the log" "$ESC" "$(cat "$COORD_LOG")"

# `pyscope submit` refuses such suites itself (exit 2), before sending
printf '%s\n' "$SRV_PUB" >"$T/coordinator.key"
(umask 077 && printf '%s\n' "$CI_SEC" >"$T/ci.key_secret")
TAB=$(printf '\t')
for bad in "../../etc/passwd" "/etc/passwd" "examples/../../x.py" "examples/r${ESC}ef.py" \
    "examples/r${TAB}ef.py"; do
    printf '[suite]\nname = refs\nreference = %s\n[script examples/a.py]\n' "$bad" >"$T/bad.ini"
    capture "$PYSCOPE" submit "$T/bad.ini" --coordinator "$COORD_EP" \
        --secret-key "$T/ci.key_secret" --coordinator-key "$T/coordinator.key"
    expect_eq "pyscope submit: reference $(printf '%q' "$bad"): exit 2" 2 "$RC"
    expect_match "pyscope submit: reference $(printf '%q' "$bad"): says why" \
        "bad.ini:3: (reference: script path|value of \"reference\" has a control character)" \
        "$OUT"
done
expect_eq "still no batch made" "$nb" "$(pg_sql "SELECT count(*) FROM batches")"

coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
