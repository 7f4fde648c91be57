#!/usr/bin/env bash
# test_farm_short_why.sh - the farm samples short scripts finely, and the why of a short
# script's confirmed slowdown names the slowed function (issue 11: tokens.py, ~40 ms of
# work sampled every 10 ms, got ~4 samples a run, and the why named importlib's
# _compile_bytecode() for a slowed tokenize()). Real coordinator, agent, PostgreSQL and
# Python. The suite: tok.py (~50-60 ms of work in tokenize()), long.py (2.1 s asleep, one
# repeat), fixed.py (interval_ms = 5). Nights 1-3 quiet; night 4 tokenize() does 50% more.
#   - every job of night 1 samples at 1 ms (no history) but fixed.py's (5 ms, the suite's);
#     from night 2 long.py's at 10 ms (2.1 s / 200 > 10 ms), tok.py's at 1 or 2 ms;
#   - the runs say how finely they were sampled (runs.samples), pyscope jobs shows it;
#   - night 4: tok.py's slowdown is confirmed on its instruction count (instructions = on:
#     exact whatever the load, so valgrind is needed) and its why, which shares the count
#     out by the functions' sampled CPU self time, names tokenize().
# labels: asan
source "$PYSCOPE_SRC/tests/integration/lib.sh"
source "$PYSCOPE_SRC/tests/integration/farm_lib.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"

command -v valgrind >/dev/null || skip "no valgrind (apt-get install valgrind)"
[ "$FARM_ASAN" = 0 ] || skip "pyscope-run under ASan cannot run valgrind"

ws=$T/ws
mkdir -p "$ws"
cat >"$ws/tok.py" <<'PY'
"""tok.py - tokenize() splits ~60 ms of text; TOK_SLOW (a percentage) makes it do more."""
import os
import re

WORD = re.compile(r"[A-Za-z_]+|\d+|\S")


def tokenize(text, times):
    n = 0
    for _ in range(int(times * (1 + float(os.environ.get("TOK_SLOW", "0")) / 100))):
        n += len(WORD.findall(text))
    return n


print(tokenize("def f(x): return x * 42 + g(y, 'z')  # note\n" * 40, 700))
PY
cat >"$ws/long.py" <<'PY'
import time


def wait():
    time.sleep(2.1)


wait()
PY
printf 'print(sum(range(1000)))\n' >"$ws/fixed.py"
chmod -R a+rX "$ws"
cat >"$T/suite.ini" <<'INI'
[suite]
name = short
repeat = 5
threshold = 10%

[script tok.py]
repeat = 2
instructions = on

[script long.py]
repeat = 1

[script fixed.py]
repeat = 1
interval_ms = 5
INI
# night 4's suite: tokenize() does 50% more (the suite's env, not part of the series)
sed 's/^\[script tok.py\]$/[script tok.py]\nenv = TOK_SLOW=50/' "$T/suite.ini" >"$T/slow.ini"

farm_pg_start
farm_coord_start
farm_agent_start a1 "$ws"
farm_wait 30 "[ \"\$(pg_sql 'SELECT count(*) FROM hosts' 2>/dev/null)\" = 1 ]" ||
    fail "the agent registered" "$(farm_logs)"

# night N: submit the suite and wait for its analysis (and confirmation)
night() {
    farm_cli submit "$T/${2:-suite}.ini" --label "night $1" --wait -q >"$T/night$1.out" 2>&1 ||
        fail "night $1 ran" "$(tail -5 "$T/night$1.out"; farm_logs)"
}
# intervals B: each script's sampling period in batch B's measuring jobs
intervals() {
    pg_sql "SELECT string_agg(s.key || '=' || coalesce(j.interval_ms::text, '-'), ' ' ORDER BY s.key) FROM jobs j JOIN scripts s ON s.id = j.script_id WHERE j.batch_id = $1 AND j.purpose = 'measure'"
}

night 1
expect_eq "night 1: no history: 1 ms, but the suite's 5 ms for fixed.py" \
    "fixed.py=5 long.py=1 tok.py=1" "$(intervals 1)"
expect_eq "night 1: tok.py's and long.py's runs say how finely they were sampled, long.py's ~2100 times at 1 ms" "t|t" \
    "$(pg_sql "SELECT CASE WHEN bool_and(r.samples > 0) THEN 't' ELSE 'f' END || '|' || CASE WHEN bool_and(s.key <> 'long.py' OR r.samples > 500) THEN 't' ELSE 'f' END FROM runs r JOIN scripts s ON s.id = r.script_id WHERE r.batch_id = 1 AND s.key <> 'fixed.py'")"
night 2
# tok.py's runs take ~0.1 s on a quiet machine (1 ms), up to ~0.5 s on a busy one (2 ms)
expect_match "night 2: long.py's 2.1 s runs get 10 ms, tok.py's 1 or 2 ms" \
    '^fixed.py=5 long.py=10 tok.py=[12]$' "$(intervals 2)"
capture farm_cli jobs --batch 2
expect_match "pyscope jobs shows each job's interval_ms" "interval_ms" "$OUT"
night 3
night 4 slow

expect_eq "night 4: tok.py's confirmation re-ran at its night's period" "t" \
    "$(pg_sql "SELECT CASE WHEN bool_and(j.interval_ms = m.interval_ms) THEN 't' ELSE 'f' END FROM jobs j JOIN jobs m ON m.id = j.confirm_of JOIN scripts s ON s.id = j.script_id WHERE j.purpose = 'confirm' AND s.key = 'tok.py'")"
# the count decides (exact, whatever the load); the why shares it out by the functions'
# sampled CPU self time: the issue's case
why() {
    pg_sql "SELECT string_agg(coalesce(g.why->'functions'->0->>'key', 'none: ' || coalesce(g.why->'too_few_samples'->>'note', '?')), ' | ' ORDER BY g.metric) FROM regressions g JOIN scripts s ON s.id = g.script_id WHERE s.key = 'tok.py' AND g.batch_id = 4 AND g.state = 'confirmed' AND g.function_key = '' AND $1"
}
expect_match "night 4: tok.py's instruction count regressed, confirmed; its why names tokenize()" \
    '^tok\.py:tokenize:[0-9]+$' "$(why "g.metric = 'instructions' AND g.kind = 'regression'")"
# (or says why it names none: too few samples, or a change within the runs' spread)
one='(tok\.py:tokenize:[0-9]+|none: (too few samples|no function.s change stands out)[^|]*)'
expect_match "night 4: a time finding of tok.py, if any, names tokenize() or says why not" \
    "^($one( \| $one)*)?\$" \
    "$(why "g.metric <> 'instructions'")"
expect_eq "nothing else was found" "0" \
    "$(pg_sql "SELECT count(*) FROM regressions g JOIN scripts s ON s.id = g.script_id WHERE s.key <> 'tok.py' AND g.state = 'confirmed'")"
finish
