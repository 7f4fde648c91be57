#!/usr/bin/env bash
# test_submit_hosts.sh - host lists are trimmed; an unknown host name is an error (issue 12).
#
# `hosts = a, b` (with a space) in a suite selects both hosts; `pyscope submit --hosts
# nosuchhost` (and `pyscope try SUITE ... --hosts nosuchhost`) is refused (exit 2, saying
# the host is unknown, listing the known ones and how to list them, never "malformed") and
# creates no batch, instead of queueing 0 jobs and exiting 0.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start
export PYSCOPE_COORDINATOR="$COORD_EP"
HA=host-00000000000000a1
HB=host-00000000000000b2
for f in 00000000000000a1 00000000000000b2; do
    out=$(fake --name "agent-$f" --fingerprint $f <<<"hello")
    expect_match "host $f registered" "^welcome" "$out"
done

printf '[suite]\nname = both\nhosts = %s, %s\n[script examples/a.py]\n' $HA $HB >"$T/both.ini"
capture "$PYSCOPE" submit "$T/both.ini"
expect_eq "hosts = a, b: submitted" 0 "$RC"
expect_match "hosts = a, b: a job for each host" "2 jobs queued" "$OUT"
expect_eq "hosts = a, b: both hosts have a job" "$HA
$HB" "$(pg_sql "SELECT h.hostname FROM jobs j JOIN hosts h ON h.id = j.host_id ORDER BY 1")"
capture "$PYSCOPE" submit "$T/both.ini" --hosts " $HB ,$HA "
expect_match "--hosts with spaces around the names: both" "2 jobs queued" "$OUT"

capture "$PYSCOPE" submit "$T/both.ini" --hosts nosuchhost
expect_eq "--hosts nosuchhost: usage error (exit 2)" 2 "$RC"
expect_match "the error names the host and lists the known ones" \
    "unknown host \"nosuchhost\": no host or agent is named \"nosuchhost\" \\(known hosts: $HA, $HB; pyscope hosts lists them\\)" "$OUT"
expect_nomatch "... and does not call it malformed" "malformed" "$OUT"
# the farm form of try, the same (a stranger saw "malformed" there)
if command -v git >/dev/null; then
    export GIT_CONFIG_NOSYSTEM=1 HOME="$T"
    git init -q -b main "$T/repo"
    mkdir -p "$T/repo/examples" && echo 'pass' >"$T/repo/examples/a.py"
    git -C "$T/repo" add -A && git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm one
    capture "$PYSCOPE" try "$T/both.ini" --repo "$T/repo" --base main --head main --hosts nosuchhost
    expect_eq "try --hosts nosuchhost: usage error (exit 2)" 2 "$RC"
    expect_match "try: the host is unknown, how to list them" \
        "refused the try: unknown host \"nosuchhost\".*pyscope hosts lists them" "$OUT"
    expect_nomatch "try: not 'malformed'" "malformed" "$OUT"
else
    echo "# no git: the try form is not checked"
fi
printf '[suite]\nname = typo\nhosts = %s, nosuchhost\n[script examples/a.py]\n' $HA >"$T/typo.ini"
capture "$PYSCOPE" submit "$T/typo.ini" --wait
expect_eq "a suite naming an unknown host among known ones: exit 2" 2 "$RC"
expect_match "and names it" '"nosuchhost"' "$OUT"
expect_eq "no batch was created for either" 2 "$(pg_sql "SELECT count(*) FROM batches")"
expect_eq "an agent's name still selects its host" 0 \
    "$(
        "$PYSCOPE" submit "$T/both.ini" --hosts agent-00000000000000a1 >/dev/null 2>&1
        echo $?
    )"
coord_stop
expect_eq "coordinator stops cleanly" 0 "$COORD_STATUS"
finish
