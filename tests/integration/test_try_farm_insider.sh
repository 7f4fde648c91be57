#!/usr/bin/env bash
# test_try_farm_insider.sh - an A/B try on a CURVE farm, sent by an insider: a submitter
# whose key is on the allowlist, speaking the wire protocol directly (no CLI checks).
# A try names its commits by full hash only: a URL, a ref, an option git could take or
# a short hash is refused with a clear error and makes no batch, so an insider cannot make
# an agent fetch from elsewhere (agents only ever get a hash, checked out from their own
# repository). A valid try gives each host base, head, head, base... in claim order. An
# insider agent cannot store a result for a try job leased to another agent, nor can a
# try reach another batch: a try query of a suite batch is answered "not a try" and that
# batch's runs stay as they were. Cancelling a bisection is a write: an agent's key may not.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

curve_farm agent:A:farm-a agent:B:farm-b submitter:CI:ci
H1=0123456789abcdef0123456789abcdef01234567
H2=89abcdef0123456789abcdef0123456789abcdef

pg_start
coord_start --config "$T/coord.conf"

# both agents say hello (their hosts exist), farm-b stays connected to run a suite job
for who in "$A_SEC 00000000000000a1" "$B_SEC 00000000000000b2"; do
    set -- $who
    fake_as "$1" --fingerprint "$2" --wait 1000 <<<"hello" >/dev/null
done
expect_eq "two hosts" 2 "$(pg_sql "SELECT count(*) FROM hosts")"

# ---- bad commits from an allowlisted submitter: refused, nothing queued ----
out=$(fake_as "$CI_SEC" --wait 1500 <<CMDS
submit examples/a.py ^https://evil.example/repo.git ~$H2 *3
submit examples/a.py ^$H1 ~file:///etc/passwd *3
submit examples/a.py ^--upload-pack=touch%20/tmp/pwned ~$H2 *3
submit examples/a.py ^${H1:0:12} ~$H2 *3
submit examples/a.py ^$H1 ~main *3
submit examples/a.py ^$H1 ~$H2 *0
submit examples/a.py ^$H1 ~$H2 *51
submit examples/a.py ^$H1 ~$H2 *3 +examples/ref.py
CMDS
)
expect_eq "every bad try refused" 8 "$(grep -c '^error code=malformed' <<<"$out")"
expect_match "a URL as the base: refused" "submit.try_base: not a full commit hash" "$out"
expect_match "a URL as the head: refused" "a try's head must be a full commit hash" "$out"
expect_match "rounds out of range" "submit.try_rounds: 0 out of range 1..50" "$out"
expect_match "no reference in a try" "a try has none" "$out"
expect_eq "no batch, no job made" "0|0" "$(pg_sql "SELECT (SELECT count(*) FROM batches) || '|' || (SELECT count(*) FROM jobs)")"

# ---- a suite batch on farm-b, run and stored ----
out=$(fake_as "$CI_SEC" <<<"submit examples/b.py @farm-b")
expect_match "suite batch for farm-b" "submit_reply batch=1 jobs=1" "$out"
out=$(fake_as "$B_SEC" --fingerprint 00000000000000b2 --wait 2000 <<'CMDS'
hello
ready 1
result 1 1 0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b
CMDS
)
expect_match "farm-b's suite result stored" "^ack run_id=0b0b0b0b-" "$out"
runs_before=$(pg_sql "SELECT string_agg(run_id::text || job_id || agent, ',') FROM runs")

# ---- a valid try on farm-a: only hashes go out, base and head in turns ----
out=$(fake_as "$CI_SEC" <<<"submit examples/a.py @farm-a ^$H1 ~$H2 *2")
expect_match "try accepted: 2 rounds x 2 sides" "submit_reply batch=2 jobs=4" "$out"
expect_eq "a try batch" "try|$H1|$H2" "$(pg_sql "SELECT purpose || '|' || try_base || '|' || commit_hash FROM batches WHERE id = 2")"
mkfifo "$T/a.in"
fake_as "$A_SEC" --fingerprint 00000000000000a1 --wait 2000 <"$T/a.in" >"$T/a.out" &
a_pid=$!
exec 7>"$T/a.in"
echo hello >&7
echo "ready 4 2000" >&7
for _ in $(seq 60); do [ "$(grep -c '^job ' "$T/a.out")" = 4 ] && break; sleep 0.1; done
expect_eq "farm-a's jobs: base, head, head, base, each only a hash" "$H1 $H2 $H2 $H1" \
    "$(sed -n 's/^job .* commit=\([^ ]*\)$/\1/p' "$T/a.out" | tr '\n' ' ' | sed 's/ $//')"
first=$(pg_sql "SELECT min(id) FROM jobs WHERE batch_id = 2")

# ---- farm-b (an insider agent) forges a result for farm-a's try job ----
out=$(fake_as "$B_SEC" --fingerprint 00000000000000b2 --wait 1500 <<CMDS
hello
result $first 1 0badc0de0badc0de0badc0de0badc0de
CMDS
)
expect_match "result for farm-a's try lease refused" "error code=forbidden" "$out"
expect_eq "nothing stored for the try" 0 "$(pg_sql "SELECT count(*) FROM runs WHERE batch_id = 2")"
echo "result $first 1 0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a" >&7
for _ in $(seq 50); do grep -q "^ack " "$T/a.out" && break; sleep 0.1; done
expect_match "farm-a's own try result acked" "^ack run_id=0a0a0a0a-" "$(cat "$T/a.out")"
exec 7>&-
wait "$a_pid" || true

# ---- reading: a try query answers its own batch only ----
out=$(fake_as "$CI_SEC" --wait 1500 <<'CMDS'
query try 1
query try 2
query try 99
CMDS
)
expect_match "a suite batch is not a try" '"code":"not_a_try"' "$(grep -m1 '^query_reply' <<<"$out")"
expect_match "the try: one comparison, one base run so far" '"base_runs":1,"head_runs":0' "$(sed -n 2p <<<"$out")"
expect_match "an unknown batch: said" '"code":"unknown_batch"' "$(sed -n 3p <<<"$out")"
expect_eq "the suite batch's runs are as they were" "$runs_before" \
    "$(pg_sql "SELECT string_agg(run_id::text || job_id || agent, ',') FROM runs WHERE batch_id = 1")"

# ---- cancelling a bisection writes: an agent's key may not, a submitter's may ----
out=$(fake_as "$A_SEC" --fingerprint 00000000000000a1 <<<"query cancel 1")
expect_match "an agent's key cannot cancel a bisection" "error code=forbidden" "$out"
out=$(fake_as "$CI_SEC" <<<"query cancel 1")
expect_match "a submitter's key can (an unknown bisection: said)" '"code":"unknown_bisection"' "$out"

grep -q "ERROR: AddressSanitizer\|runtime error" "$T"/*.log && fail "sanitizers" "$(grep -h 'ERROR\|runtime error' "$T"/*.log | head)"
finish
