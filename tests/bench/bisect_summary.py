#!/usr/bin/env python3
"""bisect_summary.py ROWS N ROUNDS - the table of tests/bench/bisect.sh and bisect_farm.sh.

ROWS: one line per bisection, "PCT KIND TURNS ABS WALL_S ENDS [anything]", KIND one of
right, WRONG (another commit named with confidence), inconclusive (stopped, said, with an
interval holding the culprit), lost (stopped, said, but a step decided wrong: the interval
misses the culprit), no_regr (the ends saw no slowdown), other; ENDS the change measured
between the ends in % ("-": none). Prints per PCT (in the order first seen): the counts,
the share right, the medians of the ends' change, turns (pyscope-run jobs: A/B
executions), A/B steps and wall seconds, and the turns of an ideal bisection of N commits (ceil(log2 N) + 2 steps of ROUNDS
pairs: the ends, the halving steps, the confirmation) with the median's ratio to it.
Exits 1 when any bisection named a wrong commit (WRONG or lost).
"""
import math
import statistics
import sys

KINDS = ("right", "WRONG", "inconclusive", "lost", "no_regr", "other")


def main():
    path, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rows = [l.split() for l in open(path) if l.strip()]
    ideal = (math.ceil(math.log2(n)) + 2) * rounds * 2
    print("%-4s %-5s %-6s %-5s %-5s %-12s %-4s %-7s %-5s %-6s %-10s %-10s %-9s %-11s %-6s %s" % (
        "N", "PCT", "trials", "right", "WRONG", "inconclusive", "lost", "no_regr", "other",
        "right%", "ends%(med)", "turns(med)", "A/Bs(med)", "wall_s(med)", "ideal", "ratio"))
    wrong = 0
    for pct in dict.fromkeys(r[0] for r in rows):
        g = [r for r in rows if r[0] == pct]
        c = {k: sum(1 for r in g if r[1] == k) for k in KINDS}
        wrong += c["WRONG"] + c["lost"]
        turns = statistics.median(int(r[2]) for r in g)
        ends = [float(r[5]) for r in g if len(r) > 5 and r[5] != "-"]
        print("%-4d %-5s %-6d %-5d %-5d %-12d %-4d %-7d %-5d %-6.0f %-10s %-10g %-9g %-11.1f %-6d "
              "%.2f" % (n, pct, len(g), c["right"], c["WRONG"], c["inconclusive"], c["lost"],
                        c["no_regr"], c["other"], 100.0 * c["right"] / len(g),
                        "%+.1f" % statistics.median(ends) if ends else "-", turns,
                        statistics.median(int(r[3]) for r in g),
                        statistics.median(float(r[4]) for r in g), ideal, turns / ideal))
    print("# right: the culprit named (confirmed against its parent); WRONG: another commit named "
          "with confidence (goal: 0); inconclusive: stopped and said so, the interval holding the "
          "culprit; lost: stopped, but its interval misses the culprit (a step decided wrong; goal: 0); "
          "ends%%: the change measured between the ends; no_regr: the ends saw no "
          "slowdown; turns: pyscope-run jobs (A/B executions, each --repeat runs); ideal: (ceil(log2 "
          "%d) + 2) A/B steps x %d pairs, the floor" % (n, rounds))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
