#!/usr/bin/env bash
# test_coord_bad_input.sh - bad messages get an Error and a counter, and the
# coordinator keeps serving: truncated protobuf, wrong wire types, a wrong
# version, out-of-range values, bad UTF-8, messages only a coordinator
# sends, extra frames, an oversize message, a result for an unknown job or
# for a job leased to another agent.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

pg_start
coord_start

ACK="08018201120a10$(printf '07%.0s' $(seq 16))"
out=$(fake --name agent-a <<CMDS
raw 0801521a0a
raw 0a0101
raw 08026a020801
raw 08016a00
raw 080152030a01ff
raw
raw $ACK
frames
CMDS
)
lines=$(grep -c '^error' <<<"$out")
expect_eq "every bad message answered" 8 "$lines"
expect_match "truncated protobuf" "^error code=malformed message=not a valid protobuf envelope" "$out"
expect_match "wrong version" "^error code=version message=unknown protocol version 2" "$out"
expect_match "out of range" "^error code=malformed message=ready.credit: 0 out of range 1..64" "$out"
expect_match "bad utf-8" "hello.name" "$out"
expect_match "empty message" "unknown protocol version 0" "$out"
expect_match "a coordinator's message from an agent" "^error code=unexpected message=a coordinator does not accept ack messages" "$out"
expect_match "extra frames" "^error code=malformed message=a message must be exactly one frame" "$out"

# An oversize message: ZeroMQ drops that connection; the coordinator lives on.
out=$(fake --name big <<'CMDS'
big 4194305
query hosts
CMDS
)
expect_match "oversize message gets no reply" "^timeout" "$out"
expect_match "the same client is served after reconnecting" "^query_reply" "$out"
doc=$(grep '^query_reply' <<<"$out" | sed 's/^query_reply //')
expect_eq "the dropped connection is counted" True \
    "$(json_get 'd["coordinator"]["counters"]["disconnections"] >= 1' <<<"$doc")"
kill -0 "$COORD_PID" && ok "coordinator alive after oversize" || fail "coordinator alive after oversize" "gone"

# A result for a job leased to another agent on the same host.
out=$(fake --name agent-a <<'CMDS'
hello
submit examples/a.py
ready 1
CMDS
)
expect_match "agent-a holds job 1" "job id=1 attempt=1" "$out"
out=$(fake --name agent-b <<'CMDS'
hello
result 1 1 - ok examples/a.py
result 77 1
result 1 1 - ok examples/other.py
query hosts
CMDS
)
expect_match "a job leased to someone else" "^error code=forbidden" "$out"
expect_match "an unknown job" "^error code=unknown_job" "$out"
expect_eq "nothing stored" 0 "$(pg_sql 'SELECT count(*) FROM runs')"
expect_eq "job 1 still agent-a's" "leased|agent-a" "$(pg_sql 'SELECT state, lease_owner FROM jobs WHERE id = 1')"
out2=$(fake --name agent-a <<'CMDS'
hello
result 1 1 - ok examples/other.py
result 1 1
CMDS
)
expect_match "a result for another script" "^error code=forbidden" "$out2"
expect_match "the right result is still accepted" "^ack run_id=" "$out2"

doc=$(grep '^query_reply' <<<"$out" | sed 's/^query_reply //')
expect_eq "counters by reason" "1 1 1 1 1 1 1 1" "$(json_get '" ".join(str(x) for x in (
    d["coordinator"]["counters"]["rejected"]["undecodable"] >= 2,
    d["coordinator"]["counters"]["rejected"]["version"] >= 2,
    d["coordinator"]["counters"]["rejected"]["range"],
    d["coordinator"]["counters"]["rejected"]["extra_frames"],
    d["coordinator"]["counters"]["unexpected"],
    d["coordinator"]["counters"]["forbidden"] >= 1,
    d["coordinator"]["counters"]["unknown_job"],
    d["coordinator"]["counters"]["hellos"] >= 2)).replace("True", "1")' <<<"$doc")"
coord_stop
expect_eq "coordinator exits 0" 0 "$COORD_STATUS"
finish
