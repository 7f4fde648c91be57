"""history_cpu.py - pyscope's own CPU time per `pyscope run` against the history's length.

Usage: tests/bench/history.sh --cpu [--rounds N] [--lengths 1,40,200,300] [--build DIR]
                                    [--other-build DIR]

history_bench.py times whole commands on clones of one report, whose run statistics are
all equal (no change point to search). This one measures what the history costs pyscope
itself: `perf stat --no-inherit -e task-clock` (the pyscope process only, not the script
nor pyscope-run) of `pyscope run --no-save` of a tiny script, on synthetic histories of
small sample-mode reports whose times step every 25 reports (5-15 %, up or down) and
jitter by 2 %, as on a shared machine: the change-point search then has work to do. With
--other-build (e.g. a build of the commit before), both builds run on copies of the same
folders, interleaved in a shuffled order each round. Then, on 200 reports, rounds of a
saving run followed by a --no-save run (the saved report must not slow the next run).
Prints the median task-clock (ms) per build and length. Not part of ctest (timings): see
docs/benchmarks.md, "History length".
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

SCRIPT = "x = sum(i * i for i in range(20000))\n"


def clone(src, dst, n, seed):
    """n copies of report src in dst/json, a minute apart, times stepping and jittering."""
    rng = random.Random(seed)
    with open(src) as f:
        doc = json.load(f)
    base = {k: doc["runs"][0][k] for k in ("wall_s", "cpu_s", "user_s")}
    os.makedirs(os.path.join(dst, "json"), exist_ok=True)
    start, level = time.time() - 3600, 1.0
    for i in range(n):
        if i and i % 25 == 0:
            level *= 1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.15)
        for r in doc["runs"]:
            for k, v in base.items():
                r[k] = v * level * rng.uniform(0.98, 1.02)
        t = time.gmtime(start - (n - i) * 60)
        doc["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        doc["created"] = time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".000000Z"
        name = "pyscope_report_%s.000000Z.json" % time.strftime("%Y-%m-%dT%H-%M-%S", t)
        with open(os.path.join(dst, "json", name), "w") as f:
            json.dump(doc, f)


def task_clock_ms(cmd, env, cwd):
    p = subprocess.run(["perf", "stat", "--no-inherit", "-x,", "-e", "task-clock", "--"] + cmd,
                       env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr))
    for line in p.stderr.splitlines():
        if "task-clock" in line:
            return float(line.split(",")[0])
    sys.exit("no task-clock in perf's output:\n" + p.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--lengths", default="1,40,200,300")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--build", default=os.path.join(here, "../../build"))
    ap.add_argument("--other-build")
    a = ap.parse_args()
    lengths = [int(x) for x in a.lengths.split(",")]
    builds = {"this": os.path.abspath(a.build)}
    if a.other_build:
        builds["other"] = os.path.abspath(a.other_build)
    # the runner (and its shims) of this build for both: only pyscope's own time is measured
    env = dict(os.environ, NO_COLOR="1",
               PYSCOPE_RUN_BIN=os.path.join(builds["this"], "agent/runner/pyscope-run"))
    env.pop("VIRTUAL_ENV", None)
    tmp = tempfile.mkdtemp(prefix="pyscope-history-cpu-")
    try:
        script = os.path.join(tmp, "s.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        pyscope = {b: os.path.join(d, "cli/pyscope") for b, d in builds.items()}
        subprocess.run([pyscope["this"], "run", "-q", "--reports-dir",
                        os.path.join(tmp, "seed"), script], env=env, cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        seed_dir = os.path.join(tmp, "seed", "json")
        seed = os.path.join(seed_dir, sorted(f for f in os.listdir(seed_dir)
                                             if f.endswith(".json"))[-1])
        for n in lengths + [200]:
            for b in builds:
                if not os.path.exists(os.path.join(tmp, "%s-%d" % (b, n))):
                    clone(seed, os.path.join(tmp, "%s-%d" % (b, n)), n, n)
        cmd = lambda b, n, save=False: [pyscope[b], "run", "-q"] + ([] if save else ["--no-save"]) \
            + ["--reports-dir", os.path.join(tmp, "%s-%s" % (b, n)), script]  # noqa
        first = {(b, n): task_clock_ms(cmd(b, n), env, tmp) for b in builds for n in lengths}
        times = {(b, n): [] for b in builds for n in lengths}
        for _ in range(a.rounds):
            order = list(times)
            random.shuffle(order)
            for b, n in order:
                times[(b, n)].append(task_clock_ms(cmd(b, n), env, tmp))
        for b in builds:
            shutil.copytree(os.path.join(tmp, "%s-200" % b), os.path.join(tmp, "%s-save" % b))
        saving = {(b, k): [] for b in builds for k in ("save", "next")}
        for _ in range(a.rounds):
            for b in random.sample(list(builds), len(builds)):
                saving[(b, "save")].append(task_clock_ms(cmd(b, "save", True), env, tmp))
                saving[(b, "next")].append(task_clock_ms(cmd(b, "save"), env, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("pyscope's own CPU (perf stat --no-inherit task-clock, ms) per `pyscope run --no-save`"
          " of a tiny script; %d rounds, interleaved; medians" % a.rounds)
    print("%8s  " % "history" + "  ".join("%14s %10s" % (b, "first") for b in builds))
    for n in lengths:
        print("%8d  " % n + "  ".join("%14.1f %10.1f" % (statistics.median(times[(b, n)]),
                                                          first[(b, n)]) for b in builds))
    for b in builds:
        print("%s, 200 reports growing by one a round: saving run %.1f ms, the next --no-save"
              " run %.1f ms" % (b, statistics.median(saving[(b, "save")]),
                               statistics.median(saving[(b, "next")])))


if __name__ == "__main__":
    main()
