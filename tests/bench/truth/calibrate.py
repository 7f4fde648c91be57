"""calibrate.py - PyScope's reference script: a fixed amount of pure-Python CPU work.

A suite names it as its reference (`reference = examples/calibrate.py` in [suite]): the
farm runs it on every host before each night's scripts, and again right before and right
after every confirmation run. Its code never changes, so when it takes longer, the machine
changed (another job on its CPUs, a lower clock, a noisy neighbour), not the code. The
coordinator divides that drift out of the confirmation run (README, "Confirm before
alerting").

About 0.15 s of CPU on a 2020s x86-64 core: integer arithmetic, a small dict and list churn, one
core only, no I/O, no sleeping, no randomness. Keep it that way: changing it makes the
reference's history incomparable.
"""

STEPS = 2_000_000


def work(steps):
    acc = 0
    table = {}
    for i in range(steps):
        acc = (acc * 31 + i) % 1_000_003
        table[i & 1023] = acc
    values = sorted(table.values())
    return acc ^ values[len(values) // 2]


if __name__ == "__main__":
    print(f"calibrate: {work(STEPS)}")
