#!/usr/bin/env python3
"""fixed_cost.py - what pyscope-run costs per run, whatever the script: an empty script
under plain python vs under pyscope-run (sample and trace), interleaved, N rounds.

    tests/bench/fixed_cost.py [--python PATH] [--runs N] [--pyscope-run PATH]...
                              [--sleep S]

Each round runs every variant once, in a shuffled order; the table gives the median
wall time (fork to reap, as the caller sees it) and the median CPU time (user + sys
of the whole process tree, from wait4) per variant, the median of the per-round
differences to plain and of the per-round ratios to plain ("x plain", the figure of
the overhead goal), and "own": pyscope-run's own process, i.e. the tree's CPU minus
what the document says the script's process used (runs[0].cpu_s). Give --pyscope-run
twice (e.g. an old build and a new one) to compare them in the same rounds. --sleep S:
the script sleeps S seconds instead of doing nothing, which adds the per-second cost of
watching it (the sampler's and the supervisor's wake-ups). Not part of ctest;
docs/benchmarks.md.
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(argv):
    # posix_spawn (glibc: clone with CLONE_VFORK): nothing of this process is copied, so
    # plain python is not charged for a fork of the benchmark's own interpreter
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                                       (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
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
    ap.add_argument("--sleep", type=float, default=0,
                    help="seconds the script sleeps (default 0: an empty script)")
    args = ap.parse_args()
    if not args.runners:
        build = os.environ.get("PYSCOPE_BUILD") or os.path.join(SRC, "build")
        args.runners = [os.path.join(build, "agent", "runner", "pyscope-run")]
    tmp = tempfile.mkdtemp(prefix="pyscope-fixed-")
    script = os.path.join(tmp, "empty.py")
    with open(script, "w") as f:
        if args.sleep > 0:
            f.write("import time\ntime.sleep(%r)\n" % args.sleep)
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
            wall, cpu = run(variants[k])
            own = None
            if k != "plain":  # the tree's CPU minus the script's process's (wait4 in pyscope-run)
                with open(out) as f:
                    own = cpu - json.load(f)["runs"][0]["cpu_s"]
            rows[k].append((wall, cpu, own))
    print("fixed cost: %s, %d interleaved rounds, %s, load average %s; medians, ms" %
          ("a script sleeping %g s" % args.sleep if args.sleep > 0 else "empty script",
           args.runs, args.python, " ".join(open("/proc/loadavg").read().split()[:3])))
    for i, r in enumerate(args.runners):
        if len(args.runners) > 1:
            print("  #%d = %s" % (i + 1, r))
    print("%-10s %8s %8s %10s %10s %8s %8s" % ("variant", "wall", "cpu", "wall-plain",
                                               "cpu-plain", "x plain", "own"))
    for k, v in rows.items():
        plain = rows["plain"]
        wall = statistics.median(x[0] for x in v) * 1e3
        cpu = statistics.median(x[1] for x in v) * 1e3
        dw = statistics.median((x[0] - p[0]) for x, p in zip(v, plain)) * 1e3
        dc = statistics.median((x[1] - p[1]) for x, p in zip(v, plain)) * 1e3
        ratio = statistics.median(x[1] / p[1] for x, p in zip(v, plain) if p[1] > 0)
        own = "" if k == "plain" else "%8.1f" % (statistics.median(x[2] for x in v) * 1e3)
        print("%-10s %8.1f %8.1f %+10.1f %+10.1f %8.3f %s" % (k, wall, cpu, dw, dc, ratio, own))
    try:
        os.unlink(out)
    except OSError:
        pass
    os.unlink(script)
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
