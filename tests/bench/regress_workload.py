"""regress_workload.py - a ~0.25 s CPU-bound workload for tests/bench/regress_quality.sh.

Knob: PYSCOPE_QUALITY_SLOWDOWN=PCT makes the work PCT percent bigger (more loop
iterations of the same code), so the run is about PCT% slower. Default 0.
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
    work(int(BASE_STEPS * (1 + pct / 100)))


main()
