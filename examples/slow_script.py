"""slow_script.py - PyScope's example workload: one function, slow(), dominates runtime.

Runs about 1.5 s: some computation and about a second of sleep, so the Average CPU
of the run stays well below 100% (like the original PyScope demo, ~30%).

Knob for injected regressions (used by tests and demos):
    PYSCOPE_EXAMPLE_SLOWDOWN=PCT   make all of slow()'s work PCT percent bigger,
                                   both the computation and the sleep, so the run
                                   is about PCT% slower (e.g. 5 -> ~5% slower).
                                   Default 0; may be fractional or negative (>= -90).

    PYSCOPE_EXAMPLE_SLOWDOWN=5 pyscope run examples/slow_script.py
"""
import math
import os
import sys
import time

COMPUTE_STEPS = 9_000_000  # loop iterations at slowdown 0 (~0.4 s)
SLEEP_S = 1.1              # seconds of sleep at slowdown 0


def slowdown_factor():
    """Return 1 + PYSCOPE_EXAMPLE_SLOWDOWN/100 (1.0 when unset)."""
    raw = os.environ.get("PYSCOPE_EXAMPLE_SLOWDOWN", "").strip()
    if not raw:
        return 1.0
    try:
        pct = float(raw)
    except ValueError:
        pct = math.nan
    if not math.isfinite(pct) or pct < -90:
        sys.exit("slow_script.py: PYSCOPE_EXAMPLE_SLOWDOWN must be a percentage >= -90, "
                 f"got {raw!r}")
    return 1.0 + pct / 100.0


def slow(factor):
    total = 0
    for i in range(int(COMPUTE_STEPS * factor)):
        total += i * i % 7
    time.sleep(SLEEP_S * factor)
    return total


if __name__ == "__main__":
    result = slow(slowdown_factor())
    print(f"slow() returned {result}")
