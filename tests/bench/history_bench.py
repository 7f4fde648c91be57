"""history_bench.py - how the length of the report history changes `pyscope run`'s time.

Usage: tests/bench/history.sh [--rounds N] [--lengths 0,10,30,100,300] [--build DIR]

A ~0.25 s script with a large trace-mode report (stdlib imports: ~3.4 MB, as in issue 13) is run
once under `pyscope run --mode trace`; its report is cloned (new id, time and file name)
into one reports folder per history length. Then, round after round, every folder gets a
`pyscope run --mode trace --no-save` of the same script, in a shuffled order (interleaved,
so that load on the machine hits every length alike), with the history index (the default)
and with PYSCOPE_HISTORY_INDEX=off (every saved report read, as before the index). The
first round builds each folder's index and is reported apart. Printed: the median wall
time of the whole command per length and its ratio to the empty history measured in the
same rounds; then the same for runs that save their report (without --no-save, histories
of 0 and 30 reports growing by one per round: each report is added to the index, and the
next run must not read it).

Not part of ctest (timings): see docs/benchmarks.md, "History length".
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

SCRIPT = r'''
import argparse, json, string, textwrap, time

def work(n):
    s = 0
    for i in range(n):
        s += len(json.dumps({"i": i, "v": [i, i * 2]}))
    return s

work(2000)
time.sleep(0.2)
'''


def run(cmd, env, cwd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr.decode()))
    return dt


def clone(src, dst_dir, n, start):
    """n copies of the report src in dst_dir/json, one second apart before start."""
    with open(src) as f:
        doc = json.load(f)
    os.makedirs(os.path.join(dst_dir, "json"), exist_ok=True)
    for i in range(n):
        t = time.gmtime(start - (n - i) * 60)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", t) + ".000000Z"
        doc["id"] = str(uuid.UUID(int=random.getrandbits(128), version=4))
        doc["created"] = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".000000Z"
        name = "pyscope_report_%s.json" % stamp
        with open(os.path.join(dst_dir, "json", name), "w") as f:
            json.dump(doc, f, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lengths", default="0,10,30,100")
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    a = ap.parse_args()
    lengths = [int(x) for x in a.lengths.split(",")]
    if 0 not in lengths:
        lengths.insert(0, 0)
    build = os.path.abspath(a.build)
    pyscope = os.path.join(build, "cli/pyscope")
    env = dict(os.environ, PYSCOPE_RUN_BIN=os.path.join(build, "agent/runner/pyscope-run"),
               NO_COLOR="1")
    env.pop("VIRTUAL_ENV", None)
    off = dict(env, PYSCOPE_HISTORY_INDEX="off")
    tmp = tempfile.mkdtemp(prefix="pyscope-history-bench-")
    try:
        script = os.path.join(tmp, "bench_script.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        run([pyscope, "run", "-q", "--mode", "trace", "--reports-dir", os.path.join(tmp, "seed"),
             script], env, tmp)
        seed_dir = os.path.join(tmp, "seed", "json")
        seed = os.path.join(seed_dir, sorted(os.listdir(seed_dir))[-1])
        size = os.path.getsize(seed)
        start = time.time() - 3600
        for n in lengths:
            for kind in ("ix", "off"):
                clone(seed, os.path.join(tmp, "%s-%d" % (kind, n)), n, start)
        cmd = lambda kind, n: [pyscope, "run", "-q", "--no-save", "--mode", "trace",  # noqa
                               "--reports-dir", os.path.join(tmp, "%s-%d" % (kind, n)), script]
        # round 0 builds the indexes
        first = {n: run(cmd("ix", n), env, tmp) for n in lengths}
        times = {(k, n): [] for k in ("ix", "off") for n in lengths}
        for _ in range(a.rounds):
            order = [(k, n) for k in ("ix", "off") for n in lengths]
            random.shuffle(order)
            for k, n in order:
                times[(k, n)].append(run(cmd(k, n), env if k == "ix" else off, tmp))
        # saving: each run adds its report to the index; the next must not read it
        clone(seed, os.path.join(tmp, "save-30"), 30, start)
        save_cmd = lambda n: [pyscope, "run", "-q", "--mode", "trace", "--reports-dir",  # noqa
                              os.path.join(tmp, "save-%d" % n), script]
        run(save_cmd(30), env, tmp)  # builds the index
        saving = {0: [], 30: []}
        for _ in range(a.rounds):
            for n in random.sample([0, 30], 2):
                saving[n].append(run(save_cmd(n), env, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {key: statistics.median(v) for key, v in times.items()}
    print("pyscope run --mode trace --no-save of a ~0.25 s script; each saved report %.1f MB;"
          " %d rounds, interleaved; medians (s)" % (size / 1e6, a.rounds))
    print("%8s  %12s %8s  %14s %8s  %14s" % ("history", "index", "ratio", "no index", "ratio",
                                              "first (build)"))
    for n in lengths:
        print("%8d  %12.3f %7.2fx  %14.3f %7.2fx  %14.3f" % (
            n, med[("ix", n)], med[("ix", n)] / med[("ix", 0)], med[("off", n)],
            med[("off", n)] / med[("off", 0)], first[n]))
    s0, s30 = statistics.median(saving[0]), statistics.median(saving[30])
    print("saving the report: empty history %.3f s, 30 reports %.3f s: %.2fx (medians of %d)"
          % (s0, s30, s30 / s0, a.rounds))


if __name__ == "__main__":
    main()
