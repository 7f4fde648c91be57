#!/usr/bin/env python3
"""sampler_cost.py - what sample mode's sampler costs per sample: its thread's own CPU
time (CLOCK_THREAD_CPUTIME_ID, the report's profile.sampler_cpu_s) over the stacks it
recorded, for one or more pyscope-run builds, interleaved.

    tests/bench/sampler_cost.py [--python PATH] [--rounds N] [--workload NAME]...
                                [--pyscope-run PATH]... [--interval-ms MS]...

A per-sample figure, unlike a wall or CPU ratio of the whole script, hardly depends on
the machine's load: it is the sampler's own CPU time (syscalls included), divided by
its work. Each round runs every (workload, build) pair once in a shuffled order; the
table gives, per workload and build, the median microseconds of sampler CPU per sample,
the median stack depth read, and the ratio of the medians to the first build. Give
--pyscope-run twice (an old build and a new one) to compare them in the same rounds,
or --interval-ms twice (e.g. 4 and 10) to compare sampling periods: each (build,
period) is a variant. "share" is the sampler's CPU over the script's (its process's,
from wait4), the figure a sampling period trades against resolution; unlike
the per-sample cost it grows with the load (the sampler wakes by wall time).
Each round also runs the workload under plain python (started the same way, with
posix_spawn: fixed_cost.run); "x cpu" and "x wall" are the medians of the per-round
ratios of the whole pyscope-run tree (wait4: pyscope-run and the script) to plain
python in the same round, the overhead goal's figures (docs/benchmarks.md), with their
geomean over the workloads per variant.
Not part of ctest; docs/benchmarks.md.
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixed_cost import run  # noqa: E402 (posix_spawn + wait4: wall, tree CPU)

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOADS = os.path.join(SRC, "tests", "bench", "workloads")
DEFAULT = ["scheduler", "raytrace", "calls_recursion", "oop_generators", "threads"]


def one(runner, python, script, out, interval):
    argv = [runner, "--python", python, "--mode", "sample", "--output", out, script]
    if interval:
        argv[1:1] = ["--interval-ms", str(interval)]
    wall, cpu = run(argv)
    with open(out) as f:
        doc = json.load(f)
    prof = doc["profile"]
    samples = sum(t["samples"] for t in prof["threads"])
    depth_w = sum(len(s["frames"]) * s["samples"] for s in prof["stacks"])
    depth_n = sum(s["samples"] for s in prof["stacks"])
    script = doc["runs"][0]["cpu_s"]  # the script's process (wait4); the sampler is ours
    share = prof["sampler_cpu_s"] / script if script > 0 else 0.0
    return (prof["sampler_cpu_s"], samples, depth_w / depth_n if depth_n else 0.0, share,
            wall, cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--interval-ms", dest="intervals", type=float, action="append",
                    default=[], help="sampling period (repeat to compare; default: "
                    "pyscope-run's)")
    ap.add_argument("--workload", action="append", default=[],
                    help="a tests/bench/workloads name (repeat; default: %s)" %
                    " ".join(DEFAULT))
    ap.add_argument("--pyscope-run", dest="runners", action="append", default=[],
                    help="a pyscope-run binary (repeat to compare builds; default "
                         "$PYSCOPE_BUILD or ./build, agent/runner/pyscope-run)")
    args = ap.parse_args()
    if not args.runners:
        build = os.environ.get("PYSCOPE_BUILD") or os.path.join(SRC, "build")
        args.runners = [os.path.join(build, "agent", "runner", "pyscope-run")]
    names = args.workload or DEFAULT
    variants = [(r, iv) for r in args.runners for iv in (args.intervals or [0])]
    tmp = tempfile.mkdtemp(prefix="pyscope-sampler-")
    out = os.path.join(tmp, "out.json")
    pairs = [(w, i) for w in names for i in range(-1, len(variants))]  # -1: plain python
    rows = {p: [] for p in pairs}
    for _ in range(args.rounds):
        random.shuffle(pairs)
        for w, i in pairs:
            script = os.path.join(WORKLOADS, w + ".py")
            if i < 0:
                rows[(w, i)].append(run([args.python, script]))
                continue
            runner, interval = variants[i]
            rows[(w, i)].append(one(runner, args.python, script, out, interval))
    print("sampler cost per sample: %d interleaved rounds, %s, load average %s" %
          (args.rounds, args.python, " ".join(open("/proc/loadavg").read().split()[:3])))
    for i, (r, iv) in enumerate(variants):
        print("  #%d = %s%s" % (i + 1, r, " --interval-ms %g" % iv if iv else ""))
    print("%-16s %3s %10s %8s %6s %8s %7s %7s %7s" % ("workload", "#", "us/sample", "samples",
                                                      "depth", "vs #1", "share", "x cpu",
                                                      "x wall"))
    ratios = {i: [] for i in range(len(variants))}
    shares = {i: [] for i in range(len(variants))}
    x_cpu = {i: [] for i in range(len(variants))}
    x_wall = {i: [] for i in range(len(variants))}
    for w in names:
        base = None
        plain = rows[(w, -1)]  # (wall, cpu) per round, in round order like every variant's
        for i in range(len(variants)):
            v = rows[(w, i)]
            per = statistics.median(x[0] / x[1] * 1e6 for x in v if x[1])
            share = statistics.median(x[3] for x in v)
            # the same round's plain run: the load both saw is as alike as it gets
            xc = statistics.median(x[5] / p[1] for x, p in zip(v, plain) if p[1] > 0)
            xw = statistics.median(x[4] / p[0] for x, p in zip(v, plain) if p[0] > 0)
            if base is None:
                base = per
            ratios[i].append(per / base)
            shares[i].append(share)
            x_cpu[i].append(xc)
            x_wall[i].append(xw)
            print("%-16s %3d %10.1f %8d %6.1f %8.2f %6.1f%% %7.3f %7.3f" %
                  (w, i + 1, per, statistics.median(x[1] for x in v),
                   statistics.median(x[2] for x in v), per / base, 100 * share, xc, xw))
    for i in range(len(variants)):
        if i:
            print("geomean #%d vs #1: x%.3f" % (i + 1, statistics.geometric_mean(ratios[i])))
        pos = [x for x in shares[i] if x > 0]
        if pos:
            print("share #%d: geomean %.2f%%" % (i + 1, 100 * statistics.geometric_mean(pos)))
        print("x plain #%d: geomean cpu x%.3f, wall x%.3f" %
              (i + 1, statistics.geometric_mean(x_cpu[i]), statistics.geometric_mean(x_wall[i])))
    os.unlink(out)
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
