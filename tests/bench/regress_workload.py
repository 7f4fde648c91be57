"""regress_workload.py - a ~0.25 s CPU-bound workload for tests/bench/regress_quality.sh.

Knob: PYSCOPE_QUALITY_SLOWDOWN=PCT makes the work PCT percent bigger (more loop
iterations of the same code), so the run is about PCT% slower. Default 0.
Size: PYSCOPE_QUALITY_STEPS=N loop iterations before the knob (default 3000000);
regress_quality.sh --metric instructions uses 200000 (~150 M instructions, about
80% of the whole process's, so the knob's 2% is ~1.6% of the count), because each
run is also counted under valgrind, ~25x slower.
"""
import os

BASE_STEPS = 3_000_000  # ~0.25 s with /usr/bin/python3.11 on this machine (idle)


def work(steps):
    total = 0
    for i in range(steps):
        total += i * i % 7
    return total


def main():
    pct = float(os.environ.get("PYSCOPE_QUALITY_SLOWDOWN", "0") or 0)
    steps = int(os.environ.get("PYSCOPE_QUALITY_STEPS", "0") or 0) or BASE_STEPS
    work(int(steps * (1 + pct / 100)))


main()
