"""knob.py - the truth benchmark's injected slowdowns (tests/bench/truth.py).

PYSCOPE_TRUTH_SLOW="script.function=PCT,..." makes the named function of the named
workload do PCT percent more of its work (its loop count or its sleep), e.g.
"cpu_loop.crunch=30". The harness writes it, per host and night, into the file the
agent's runner wrapper reads; nothing else sets it.
"""
import os
import sys


def factor(function):
    """1 + PCT/100 for this script's function (1.0 when it is not slowed)."""
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    for item in os.environ.get("PYSCOPE_TRUTH_SLOW", "").split(","):
        key, _, pct = item.strip().partition("=")
        if key == f"{script}.{function}" and pct:
            return 1.0 + float(pct) / 100.0
    return 1.0
