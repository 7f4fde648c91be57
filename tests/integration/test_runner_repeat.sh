#!/usr/bin/env bash
# test_runner_repeat.sh - what a run measures owes nothing to the runs before it, or to the
# profiler's timing: peak memory per repeat (each repeat is a fresh exec of the
# interpreter, trace mode included: the supervisor's memory of earlier repeats is not
# inherited), a long sampling interval does not stretch the run, and the memory timeline
# covers the script's own lifetime (from its first line to its end), not the
# interpreter's start-up or shutdown.
source "$(dirname "$0")/lib.sh"
source "$PYSCOPE_SRC/tests/data/scripts/tools/runner_helpers.sh"

cd "$T"
cat >"$T/alloc.py" <<'PYEOF'
def build(n):
    return [str(i) * 3 for i in range(n)]


def walk(rows):
    return sum(len(r) for r in rows)


rows = build(200000)
print(walk(rows))
PYEOF

# 1. Peak RSS per repeat: flat (it climbed 13.0 -> 24.6 MiB in trace mode when repeats
# were forked from a supervisor holding the earlier ones' data).
for mode in sample trace; do
    run_ps "rep.$mode" --mode "$mode" --repeat 4 alloc.py
    expect_eq "$mode --repeat 4: exit" 0 "$RC"
    expect_eq "$mode --repeat 4: peak RSS of the last repeat within 10% of the first's" yes \
        "$(jeval "$T/rep.$mode.json" '"yes" if (lambda r: max(r) <= 1.10 * min(r) and r[-1] <= 1.10 * r[0])([x["peak_rss_bytes"] for x in d["runs"]]) else "no: %r" % [x["peak_rss_bytes"] for x in d["runs"]]')"
done

# 2. A 1 s sampling interval does not make a 1 s sleep last 2 s.
printf 'import time\ntime.sleep(1.0)\n' >"$T/sleep1.py"
run_ps sleep1 --interval-ms 1000 sleep1.py
expect_eq "--interval-ms 1000: exit" 0 "$RC"
# Not a threshold on the wall time (a loaded machine stretches it): the time from the
# script's end (atexit done) to the process's is the interpreter's shutdown, milliseconds;
# waiting for the sampler's next tick made it up to the whole 1 s interval.
expect_eq "--interval-ms 1000: the run ends with the script, not at the sampler's next tick" yes \
    "$(jeval "$T/sleep1.json" '(lambda r: "yes" if r["script_span_s"][1] is not None and r["wall_s"] - r["script_span_s"][1] < 0.5 else r)(d["runs"][0])')"

# 3. The timeline is the script's own lifetime: it starts after the interpreter's
# start-up (at the script's first line) and ends with the script.
cat >"$T/grow.py" <<'PYEOF'
import time
hold = []
for _ in range(15):
    hold.append(bytearray(1 << 20))
    time.sleep(0.02)
PYEOF
run_ps grow grow.py
expect_eq "grow: exit" 0 "$RC"
expect_eq "grow: the script's span is inside the run" yes \
    "$(jeval "$T/grow.json" '"yes" if 0 < d["memory_timeline_span_s"][0] < d["memory_timeline_span_s"][1] <= d["runs"][0]["wall_s"] and d["memory_timeline_span_s"] == d["runs"][0]["script_span_s"] else d["memory_timeline_span_s"]')"
expect_eq "grow: every timeline point inside the script's span" yes \
    "$(jeval "$T/grow.json" '"yes" if d["memory_timeline"] and all(d["memory_timeline_span_s"][0] <= t <= d["memory_timeline_span_s"][1] for t, _ in d["memory_timeline"]) else d["memory_timeline"][:3]')"
expect_eq "grow: the timeline shows the script's 15 MiB" yes \
    "$(jeval "$T/grow.json" '"yes" if d["memory_timeline"][-1][1] - d["memory_timeline"][0][1] >= 10 * 2**20 else d["memory_timeline"]')"
# A script that ends by os._exit has a start but no end: the timeline runs to the end.
printf 'import os, time\ntime.sleep(0.1)\nos._exit(0)\n' >"$T/osexit.py"
run_ps osexit osexit.py
expect_eq "os._exit: span has a start and no end" "yes" \
    "$(jeval "$T/osexit.json" '"yes" if d["memory_timeline_span_s"][0] > 0 and d["memory_timeline_span_s"][1] is None else d["memory_timeline_span_s"]')"
# 4. --reference REF (a farm confirmation run): REF runs plainly before the first measured
# repeat and after each one, never around a warm-up; each repeat gets the mean of the two
# runs next to it; REF's output is not the script's.
printf 'open("%s/order.log", "a").write("R\\n")\nprint("reference output")\nsum(range(300000))\n' "$T" >"$T/ref.py"
printf 'open("%s/order.log", "a").write("S\\n")\nprint("script output")\n' "$T" >"$T/sut.py"
run_ps interleave --reference ref.py --warmup 1 --repeat 3 sut.py
expect_eq "--reference: exit" 0 "$RC"
expect_eq "--reference: warm-up, then reference and repeats in turn" "S R S R S R S R" \
    "$(tr '\n' ' ' <"$T/order.log" | sed 's/ $//')"
expect_eq "--reference: every repeat has the reference's CPU and wall time" yes \
    "$(jeval "$T/interleave.json" '"yes" if len(d["runs"]) == 3 and all(r["ref_script_cpu_s"] > 0 and r["ref_script_wall_s"] >= r["ref_script_cpu_s"] * 0.5 for r in d["runs"]) else d["runs"]')"
expect_eq "--reference: named in the options" ref.py "$(jeval "$T/interleave.json" 'd["options"]["reference"]')"
expect_eq "--reference: its output is not the script's" "script output script output script output script output" \
    "$(tr '\n' ' ' <"$T/interleave.out" | sed 's/ $//')"
# a reference that fails: the repeats run and count, without the figures, and it is said
printf 'raise SystemExit(3)\n' >"$T/badref.py"
run_ps badref --reference badref.py --repeat 2 sut.py
expect_eq "failing reference: exit 0 (the script ran)" 0 "$RC"
expect_eq "failing reference: no figures" "[null, null]" \
    "$(jeval "$T/badref.json" '[r.get("ref_script_cpu_s") for r in d["runs"]]')"
expect_match "failing reference: said" 'reference script "badref.py" failed \(exit status 3\)' "$(cat "$T/badref.err")"
run_ps noref --reference missing.py sut.py
expect_eq "missing reference: usage error" 2 "$RC"
expect_match "missing reference: says which file" 'could not open script "missing.py"' "$(cat "$T/noref.err")"
finish
