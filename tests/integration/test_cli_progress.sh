#!/usr/bin/env bash
# test_cli_progress.sh - progress on a terminal (cli/progress, cli/run_progress.c).
# labels: asan
#
# `pyscope run --repeat 3` on a pseudo-terminal shows which repeat runs and the
# time so far on stderr ("pyscope: repeat 2/3 · 0.9 s", redrawn in place and
# erased at the end); with stderr not a terminal, or with -q, it writes none of
# that. `pyscope submit --wait` on a terminal shows the jobs done so far
# against a local farm of one fake agent.
source "$PYSCOPE_SRC/tests/integration/lib.sh"
cd "$T"
printf 'import time\ntime.sleep(0.7)\n' >slow.py

# on_pty OUT CMD...: run CMD with stdin, stdout and stderr on a new pseudo-terminal;
# everything it wrote goes to OUT (bytes as written); prints its exit status.
on_pty() {
    "$PY" - "$@" <<'PY'
import os, pty, sys
out = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, st = os.waitpid(pid, 0)
open(out, "wb").write(data)
print(os.waitstatus_to_exitcode(st))
PY
}

st=$(on_pty "$T/tty.out" env TERM=xterm "$PYSCOPE" run --repeat 3 slow.py)
expect_eq "run on a terminal: exit 0" 0 "$st"
tty=$(tr '\r\033' '\n~' <"$T/tty.out")
expect_match "which repeat is running" '^~\[Kpyscope: repeat 2/3 · [0-9]+\.[0-9] s$' "$tty"
expect_match "the last repeat" '^~\[Kpyscope: repeat 3/3 · [0-9]+\.[0-9] s$' "$tty"
expect_match "the clock moves within a repeat" \
    "$(printf 'pyscope: repeat 1/3 · [0-9.]+ s\n~\\[Kpyscope: repeat 1/3 · [0-9.]+ s')" "$tty"
# the last status line is erased (CR, erase to the end of line) before the report starts
expect_eq "the status line is erased before the report" True "$("$PY" -c '
import re, sys
d = open(sys.argv[1], "rb").read()
print(re.search(rb"repeat 3/3 \xc2\xb7 [0-9.]+ s\r\x1b\[K(\x1b\[1m)?PyScope Performance Report", d) is not None)' "$T/tty.out")"

# not a terminal: no status line (the report itself still goes to stdout)
"$PYSCOPE" run --repeat 3 slow.py >"$T/plain.out" 2>"$T/plain.err"
expect_nomatch "stderr not a terminal: no status line" 'repeat [0-9]/3|\[K' "$(cat "$T/plain.err")"
expect_match "stderr not a terminal: the report as always" 'Execution Time' "$(cat "$T/plain.out")"
st=$(on_pty "$T/quiet.out" env TERM=xterm "$PYSCOPE" run -q --repeat 3 slow.py)
expect_eq "run -q on a terminal: exit 0" 0 "$st"
expect_nomatch "-q: no status line" 'repeat [0-9]/3' "$(cat "$T/quiet.out")"
st=$(on_pty "$T/dumb.out" env TERM=dumb "$PYSCOPE" run --repeat 2 slow.py)
expect_match "TERM=dumb: plain lines, no escapes" '^pyscope: repeat 2/2 \([0-9.]+ s\)' \
    "$(tr -d '\r' <"$T/dumb.out")"
expect_nomatch "TERM=dumb: no erase sequence" '\[K' "$(tr '\033' '~' <"$T/dumb.out")"

# submit --wait: the jobs done so far. A coordinator with one host registered
# (SQL, as team_seed.sql does); the jobs are moved to done in SQL, one at a time.
source "$PYSCOPE_SRC/tests/integration/pg.sh"
source "$PYSCOPE_SRC/tests/integration/coord.sh"
pg_start
coord_start
pg_sql "INSERT INTO hosts (fingerprint, hostname, cpu_model, cores, mem_bytes, os, kernel, arch,
        governor, load1) VALUES ('00000000000000a1', 'host-a', 'cpu', 2, 1, 'linux', '6',
        'x86_64', 'performance', 0)" >/dev/null
cat >"$T/suite.ini" <<'INI'
[suite]
name = progress
[script a.py]
[script b.py]
[script c.py]
INI
(
    for i in 1 2 3; do
        sleep 1.5
        pg_sql "UPDATE jobs SET state = 'done' WHERE id = (SELECT min(id) FROM jobs WHERE state = 'queued')" >/dev/null
    done
    sleep 1.5
    pg_sql "UPDATE batches SET state = 'done', finished = now()" >/dev/null
) &
mover=$!
st=$(on_pty "$T/submit.out" env TERM=xterm PYSCOPE_COORDINATOR="$COORD_EP" \
    timeout 60 "$PYSCOPE" submit "$T/suite.ini" --wait)
wait "$mover" || true
# exit 3: the jobs moved in SQL have no runs, so none "ended ok"
expect_eq "submit --wait: exit 3 (jobs without runs)" 3 "$st"
sub=$(tr '\r\033' '\n~' <"$T/submit.out")
expect_match "submit --wait: jobs done so far" '^~\[Kpyscope: batch 1: 1/3 jobs done, 0 running · [0-9.]+ s$' "$sub"
expect_match "submit --wait: and later" '^~\[Kpyscope: batch 1: 2/3 jobs done' "$sub"
expect_match "submit --wait: the summary after" 'progress' "$sub"
st=$(on_pty "$T/submitq.out" env TERM=xterm PYSCOPE_COORDINATOR="$COORD_EP" \
    timeout 60 "$PYSCOPE" submit -q "$T/suite.ini")
expect_eq "submit -q: exit 0" 0 "$st"
expect_nomatch "submit -q: no waiting message, no status line" 'waiting|jobs done' "$(cat "$T/submitq.out")"
finish
