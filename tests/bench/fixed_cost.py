#!/usr/bin/env python3
"""fixed_cost.py - what pyscope-run costs per run, whatever the script: an empty script
under plain python vs under pyscope-run (sample and trace), interleaved, N rounds.

    tests/bench/fixed_cost.py [--python PATH] [--runs N] [--pyscope-run PATH]...

Each round runs every variant once, in a shuffled order; the table gives the median
wall time (fork to reap, as the caller sees it) and the median CPU time (user + sys
of the whole process tree, from wait4) per variant, and the median of the per-round
differences to plain. Give --pyscope-run twice (e.g. an old build and a new one) to
compare them in the same rounds. Not part of ctest; docs/benchmarks.md.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(argv):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_RDWR)
            os.dup2(fd, 0)
            os.dup2(fd, 1)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("fixed_cost: %s failed (status %d)" % (" ".join(argv), status))
    return wall, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--pyscope-run", dest="runners", action="append", default=[],
                    help="a pyscope-run binary (repeat to compare builds; default "
                         "$PYSCOPE_BUILD or ./build, agent/runner/pyscope-run)")
    ap.add_argument("--modes", default="sample", help="comma list of sample,trace")
    args = ap.parse_args()
    if not args.runners:
        build = os.environ.get("PYSCOPE_BUILD") or os.path.join(SRC, "build")
        args.runners = [os.path.join(build, "agent", "runner", "pyscope-run")]
    tmp = tempfile.mkdtemp(prefix="pyscope-fixed-")
    script = os.path.join(tmp, "empty.py")
    open(script, "w").close()
    out = os.path.join(tmp, "out.json")
    variants = {"plain": [args.python, script]}
    for i, r in enumerate(args.runners):
        for mode in args.modes.split(","):
            name = mode if len(args.runners) == 1 else "%s#%d" % (mode, i + 1)
            variants[name] = [r, "--python", args.python, "--mode", mode, "--output", out,
                              script]
    for argv in variants.values():  # warm-up: page cache, the interpreter's answer
        run(argv)
    rows = {k: [] for k in variants}
    for _ in range(args.runs):
        order = list(variants)
        random.shuffle(order)
        for k in order:
            rows[k].append(run(variants[k]))
    print("fixed cost: empty script, %d interleaved rounds, %s; medians, ms" %
          (args.runs, args.python))
    for i, r in enumerate(args.runners):
        if len(args.runners) > 1:
            print("  #%d = %s" % (i + 1, r))
    print("%-10s %8s %8s %10s %10s" % ("variant", "wall", "cpu", "wall-plain", "cpu-plain"))
    for k, v in rows.items():
        wall = statistics.median(x[0] for x in v) * 1e3
        cpu = statistics.median(x[1] for x in v) * 1e3
        dw = statistics.median((x[0] - p[0]) for x, p in zip(v, rows["plain"])) * 1e3
        dc = statistics.median((x[1] - p[1]) for x, p in zip(v, rows["plain"])) * 1e3
        print("%-10s %8.1f %8.1f %+10.1f %+10.1f" % (k, wall, cpu, dw, dc))
    try:
        os.unlink(out)
    except OSError:
        pass
    os.unlink(script)
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
