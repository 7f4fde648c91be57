#!/usr/bin/env bash
# test_runner_json.sh - pyscope-run's JSON: schema basics (docs/json-schema.md) in
# both modes, --repeat/--warmup counts, threads in the profile, script identity.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cp "$SCRIPTS/quick.py" "$SCRIPTS/threads_work.py" "$T/"
cd "$T"

for mode in sample trace; do
    run_ps basic_$mode --mode "$mode" quick.py
    expect_eq "$mode: exit 0" 0 "$RC"
    expect_valid_json "$mode: schema basics" "$T/basic_$mode.json" --mode "$mode" --runs 1 --warmups 0
    # Outside any git repository the key stays absolute (the runner's rule).
    expect_eq "$mode: script.key outside git" "$(pwd -P)/quick.py" "$(jeval "$T/basic_$mode.json" 'd["script"]["key"]')"
    expect_eq "$mode: script.path" "$(pwd -P)/quick.py" "$(jeval "$T/basic_$mode.json" 'd["script"]["path"]')"
    expect_eq "$mode: script.sha256" "$(sha256sum quick.py | cut -d' ' -f1)" \
        "$(jeval "$T/basic_$mode.json" 'd["script"]["sha256"]')"
    expect_eq "$mode: outcome ok" ok "$(jeval "$T/basic_$mode.json" 'd["status"]["outcome"]')"
    expect_eq "$mode: python version" "$("$PY" -c 'import platform; print(platform.python_version())')" \
        "$(jeval "$T/basic_$mode.json" 'd["python"]["version"]')"
done
expect_match "trace: calls are counted" '^[1-9]' \
    "$(jeval "$T/basic_trace.json" 'fn("<module>", "quick.py")["calls"]')"

# Keys relative to the project root: --root DIR, or the git top level above the script.
run_ps rooted --mode trace --root "$T" quick.py
expect_eq "--root: script.key relative" quick.py "$(jeval "$T/rooted.json" 'd["script"]["key"]')"
expect_eq "--root: function files relative" true \
    "$(jeval "$T/rooted.json" 'fn("<module>", "quick.py")["key"] == "quick.py:<module>:1"')"
mkdir -p "$T/proj/pkg/sub"
git -C "$T/proj" init -q
cp quick.py "$T/proj/pkg/sub/"
run_ps in_git "$T/proj/pkg/sub/quick.py"
expect_eq "in a git repository: key from its top level" pkg/sub/quick.py \
    "$(jeval "$T/in_git.json" 'd["script"]["key"]')"

# JSON to stdout when there is no --output (the script's own output comes first).
capture stdout_json "$PYSCOPE_RUN" quick.py
expect_eq "no --output: exit 0" 0 "$RC"
expect_match "no --output: JSON on stdout" '"schema": *"pyscope.run/1"' "$(cat "$T/stdout_json.out")"

# --output into a special file (FIFO here; /dev/null or /dev/stdout in real use) writes
# into it; it must not replace it with a regular file (a rename over /dev/null, as
# root, breaks the whole machine).
mkfifo "$T/out.fifo"
timeout 30 cat "$T/out.fifo" >"$T/fifo.got" &
reader=$!
capture fifo "$PYSCOPE_RUN" --output "$T/out.fifo" quick.py
expect_eq "--output FIFO: exit 0" 0 "$RC"
if [ -p "$T/out.fifo" ]; then
    ok "--output FIFO: still a FIFO"
    wait "$reader" || true
    expect_match "--output FIFO: JSON came through" '"schema": *"pyscope.run/1"' "$(cat "$T/fifo.got")"
else
    fail "--output FIFO: still a FIFO" "replaced by: $(stat -c %F "$T/out.fifo" 2>&1)"
    kill "$reader" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
fi

# --repeat 3 --warmup 1: the script runs 4 times, 3 are measured.
run_ps repeat --repeat 3 --warmup 1 quick.py
expect_eq "repeat: exit 0" 0 "$RC"
expect_valid_json "repeat: 3 runs, 1 warm-up" "$T/repeat.json" --runs 3 --warmups 1 --no-host
expect_eq "repeat: the script ran 4 times" 4 "$(grep -c 'quick ran' "$T/repeat.out")"
expect_eq "repeat: options" '[3, 1]' "$(jeval "$T/repeat.json" '[d["options"]["repeat"], d["options"]["warmup"]]')"
expect_eq "repeat: summary.wall_s.n" 3 "$(jeval "$T/repeat.json" 'd["summary"]["wall_s"]["n"]')"
expect_eq "repeat: median between min and max" true \
    "$(jeval "$T/repeat.json" 'd["summary"]["wall_s"]["min"] <= d["summary"]["wall_s"]["median"] <= d["summary"]["wall_s"]["max"]')"
run_ps repeat_trace --mode trace --repeat 2 quick.py
expect_valid_json "repeat, trace: 2 runs" "$T/repeat_trace.json" --runs 2 --warmups 0 --no-host

# A failing repeat stops the series and says so.
printf 'import sys\nprint("once")\nsys.exit(4)\n' >"$T/fails.py"
run_ps repeat_fail --repeat 3 fails.py
expect_eq "failing repeat: exit 3" 3 "$RC"
expect_eq "failing repeat: exit_code" 4 "$(jeval "$T/repeat_fail.json" 'd["status"]["exit_code"]')"

# Threads: more than one thread in the profile, worker functions seen, both modes.
for mode in sample trace; do
    run_ps threads_$mode --mode "$mode" threads_work.py
    expect_eq "threads ($mode): exit 0" 0 "$RC"
    expect_valid_json "threads ($mode): schema basics" "$T/threads_$mode.json" --no-host
    expect_match "threads ($mode): >1 thread" '^([2-9]|[1-9][0-9]+)$' \
        "$(jeval "$T/threads_$mode.json" 'len(d["profile"]["threads"])')"
    expect_eq "threads ($mode): worker_spin profiled" "true" \
        "$(jeval "$T/threads_$mode.json" 'fn("worker_spin")["total_s"] > 0')"
done
expect_eq "threads (trace): worker_spin called twice" 2 \
    "$(jeval "$T/threads_trace.json" 'fn("worker_spin")["calls"]')"
expect_eq "threads (trace): run called twice" 2 \
    "$(jeval "$T/threads_trace.json" 'fn("run", "threads_work.py")["calls"]')"

# Sample mode has samples, sane rates.
expect_match "sample: samples counted" '^[1-9]' "$(jeval "$T/threads_sample.json" 'd["profile"]["samples"]')"
expect_eq "sample: cpu_pct = cpu/wall" true \
    "$(jeval "$T/threads_sample.json" \
        'abs(d["runs"][0]["cpu_pct"] - 100 * d["runs"][0]["cpu_s"] / d["runs"][0]["wall_s"]) < 1')"

# One wake-up source: in sample mode pyscope-run samples from its own wait loop (the one
# that takes the RSS timeline), not from a thread of its own that would wake apart; the
# script sees one thread in pyscope-run while it is sampled, and the figures are all
# there (samples, the loop's CPU, the timeline, the contention figures).
cat >"$T/one_waker.py" <<'PYEOF'
import os
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


spin(0.2)
print("pyscope-run threads:", len(os.listdir("/proc/%d/task" % os.getppid())))
time.sleep(0.1)
PYEOF
run_ps one_waker one_waker.py
expect_eq "one waker: exit 0" 0 "$RC"
expect_eq "one waker: pyscope-run has one thread while it samples" "pyscope-run threads: 1" \
    "$(cat "$T/one_waker.out")"
expect_eq "one waker: samples, the sampling loop's CPU, timeline, contention" yes \
    "$(jeval "$T/one_waker.json" '"yes" if fn("spin")["self_s"] > 0 and d["profile"]["sampler_cpu_s"] > 0 and len(d["memory_timeline"]) > 5 and d["runs"][0]["run_delay_s"] is not None else (fn("spin"), d["profile"]["sampler_cpu_s"], len(d["memory_timeline"]), d["runs"][0]["run_delay_s"])')"

finish
