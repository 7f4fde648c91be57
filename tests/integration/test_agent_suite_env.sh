#!/usr/bin/env bash
# test_agent_suite_env.sh - a suite sets environment variables for its scripts (`env =
# NAME=VALUE`, docs/suite-format.md; lib/jobenv.h): [suite]'s reach every script, a script's
# own win, a suite's value wins over the agent's allowlisted one, and the agent's own
# environment still does not leak (PGHOST, a token). `pyscope jobs --json` shows them. A
# variable that may not be set (LD_PRELOAD, PYSCOPE_*, PYTHONPATH) is a clear submit error
# with file, line and reason; a hand-made Submit that carries one anyway is refused by the
# coordinator's decoder, and nothing is queued.
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"

farm_pg_start
farm_coord_start
ws=$T/ws
mkdir -p "$ws/bench"
# The job names a function after its environment (NAME=VALUE|...), which the profile stores.
cat >"$ws/bench/env.py" <<'PY'
import os
def f():
    return sum(range(1000))
f.__code__ = f.__code__.replace(
    co_qualname="ENV|" + "|".join(k + "=" + os.environ[k] for k in sorted(os.environ)) + "|END")
for _ in range(200):
    f()
PY
cp "$ws/bench/env.py" "$ws/bench/env2.py"
cat >"$T/suite.ini" <<'INI'
[suite]
name = suiteenv
repeat = 1
timeout = 60
mode = trace
env = PYTHONHASHSEED=123
env = BENCH_SIZE=small
[script bench/env.py]
env = BENCH_SIZE=large value ; a script's own wins
      OMP_NUM_THREADS=1
[script bench/env2.py]
INI

PYSCOPE_SECRET_KEY=/etc/pyscope/keys/agent PGHOST=/run/postgresql GITHUB_TOKEN=ghp_x \
    PYTHONHASHSEED=0 farm_agent_start envy "$ws"
farm_wait 20 '[ "$(pg_sql "SELECT count(*) FROM agents" 2>/dev/null)" = 1 ]' ||
    fail "agent registered" "$(farm_logs)"
farm_cli submit "$T/suite.ini" --hosts envy --wait >"$T/submit.out" 2>&1 ||
    fail "the suite ran" "$(cat "$T/submit.out")"
env_of() {
    pg_sql "SELECT f.key FROM functions f WHERE f.key LIKE '$1:ENV|%' ORDER BY f.id DESC LIMIT 1"
}
one=$(env_of bench/env.py)
two=$(env_of bench/env2.py)
expect_match "the first job listed its environment" "ENV\|" "$one"
expect_match "a script's own variable reaches it" "\|BENCH_SIZE=large value\|" "$one"
expect_match "a script's second env line too" "\|OMP_NUM_THREADS=1\|" "$one"
expect_match "[suite]'s variable reaches it" "\|PYTHONHASHSEED=123\|" "$one"
expect_match "[suite]'s variables reach the other script" "\|BENCH_SIZE=small\|" "$two"
expect_nomatch "the other script does not get the first's own" "OMP_NUM_THREADS" "$two"
expect_nomatch "the suite's PYTHONHASHSEED wins over the agent's" "PYTHONHASHSEED=0" "$one"
for v in PYSCOPE_SECRET_KEY PGHOST GITHUB_TOKEN PYSCOPE_COORDINATOR; do
    expect_nomatch "the job still does not see the agent's $v" "\|$v=" "$one"
done
expect_match "the job still sees PATH" "\|PATH=" "$one"

json=$(farm_cli jobs --json)
expect_eq "pyscope jobs --json shows each job's env" \
    "['PYTHONHASHSEED=123', 'BENCH_SIZE=large value', 'OMP_NUM_THREADS=1']|['PYTHONHASHSEED=123', 'BENCH_SIZE=small']" \
    "$("$PY" -c 'import json,sys
j = {x["script"]: x["env"] for x in json.load(sys.stdin)["jobs"]}
print("%s|%s" % (j["bench/env.py"], j["bench/env2.py"]))' <<<"$json")"

# Refused names: a clear submit error (file, line, the rule), nothing queued.
jobs_before=$(pg_sql "SELECT count(*) FROM jobs")
for bad in "LD_PRELOAD=/tmp/x.so|LD_\* variables steer the dynamic loader" \
    "PYSCOPE_FAULT=crash|PYSCOPE_\* variables are PyScope's own" \
    "PYTHONPATH=/tmp|it changes where Python loads code" "PATH=/tmp|the agent sets it"; do
    printf '[suite]\nname = bad\n[script bench/env.py]\nenv = %s\n' "${bad%%|*}" >"$T/bad.ini"
    RC=0
    OUT=$(farm_cli submit "$T/bad.ini" --hosts envy 2>&1) || RC=$?
    expect_eq "${bad%%=*}: the submit fails as bad input" 2 "$RC"
    expect_match "${bad%%=*}: the error names the file, line and why" \
        "bad\.ini:4: env: ${bad%%=*} may not be set by a suite: ${bad#*|}" "$OUT"
done
expect_eq "nothing was queued" "$jobs_before" "$(pg_sql "SELECT count(*) FROM jobs")"

# A Submit made by hand (no CLI check) with LD_PRELOAD: the coordinator's decoder refuses it.
# Envelope{version 1, submit(20){suite "x", entries{script "bench/env.py", env(50)
# "LD_PRELOAD=/x"}, hosts{all}}}
raw=$("$PY" - <<'PY'
def ld(tag, b):
    n = len(b); out = bytearray()
    key = tag
    while True:
        if key < 0x80: out.append(key); break
        out.append(key & 0x7f | 0x80); key >>= 7
    while True:
        if n < 0x80: out.append(n); break
        out.append(n & 0x7f | 0x80); n >>= 7
    return bytes(out) + b
entry = ld(1 << 3 | 2, b"bench/env.py") + ld(50 << 3 | 2, b"LD_PRELOAD=/x")
submit = ld(1 << 3 | 2, b"x") + ld(2 << 3 | 2, entry) + ld(3 << 3 | 2, b"\x08\x01")
print((b"\x08\x01" + ld(20 << 3 | 2, submit)).hex())
PY
)
FAKE="$PYSCOPE_BUILD/tests/tools/fake_agent"
out=$(printf 'raw %s\n' "$raw" | "$FAKE" --connect "$COORD_URL" --name raw 2>&1)
expect_match "a hand-made Submit with LD_PRELOAD is refused by the coordinator" \
    "error code=malformed message=submit.entries\[0\]\.env\[0\]: LD_PRELOAD may not be set" "$out"
expect_eq "and nothing was queued" "$jobs_before" "$(pg_sql "SELECT count(*) FROM jobs")"
kill "${AGENT_PID[envy]}"
finish
