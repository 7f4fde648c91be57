"""bench.py - PyScope's speed and memory benchmark (run it through tests/bench/run.sh).

For every workload in tests/bench/workloads/ it measures five variants of running
the same script, in one run of this program:

    plain     PYTHON w.py
    sample    pyscope-run --mode sample --output TMP.json w.py
    trace     pyscope-run --mode trace  --output TMP.json w.py
    cprofile  PYTHON -m cProfile -o /dev/null w.py
    cprofile_all  PYTHON tests/bench/cprofile_threads.py -o /dev/null w.py
              (cProfile in every thread: `-m cProfile` profiles the main thread only)

Every variant is measured the same way: wall time of the whole process from
just before fork/exec to the return of os.wait4() (time.perf_counter), and the
rusage that wait4 returns. Rounds interleave the variants round-robin (the order
rotates every round) so that drift of a shared, noisy machine hits all variants
alike; the reported figure is the median over rounds.

Memory, three ways (docs/benchmarks.md says which one the goal uses):
    child   pyscope-run's own JSON, runs[0].peak_rss_bytes: peak RSS of the
            process that ran the script (plain: the python process, from wait4)
    ext     wait4's ru_maxrss: the largest single process of the tree
    tree    sum over the process and all its descendants of VmHWM, read from
            /proc every 20 ms while it runs (so the supervisor counts too)

Exit status: 0, or 1 with --strict when a goal fails or a run failed; 2 on a
usage error.
"""
import argparse
import json
import math
import os
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
VARIANTS = ("plain", "sample", "trace", "cprofile", "cprofile_all")
MIB = 1024.0 * 1024.0

# Goals (issue 2, "Speed and memory").
GOAL_SAMPLE_GEOMEAN = 1.02      # sample/plain, geometric mean
GOAL_TRACE_VS_CPROFILE = 0.8    # trace overhead <= 0.8 x cProfile overhead (geomeans)
GOAL_TRACE_GEOMEAN = 1.3        # trace/plain, geometric mean (issue 13)
GOAL_EXTRA_RSS_MIB = 5.0        # extra peak RSS of the script process, every workload


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="tests/bench/run.sh",
        description="Measure pyscope-run's overhead against plain python and cProfile.")
    ap.add_argument("--rounds", type=int, default=7,
                    help="measured rounds; each runs every variant of every workload once "
                         "(default 7)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="unmeasured rounds before the measured ones (default 1)")
    ap.add_argument("--workload", action="append", default=[], metavar="NAME",
                    help="only this workload (file name without .py); repeatable")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated subset of %s" % ",".join(VARIANTS))
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the interpreter measured: plain, under pyscope-run (--python) and "
                         "under cProfile (default /usr/bin/python3)")
    ap.add_argument("--pyscope-run", dest="pyscope_run", default=None,
                    help="pyscope-run binary (default $PYSCOPE_BUILD or ./build, "
                         "agent/runner/pyscope-run)")
    ap.add_argument("--output-devnull", action="store_true",
                    help="give pyscope-run --output /dev/null (then no 'child' memory figure)")
    ap.add_argument("--json", metavar="FILE", help="also write every measurement as JSON")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 when a goal fails or a run fails")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        ap.error("--rounds must be >= 1 and --warmup >= 0")
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad or not args.variants:
        ap.error("unknown variant(s): %s" % ", ".join(bad or ["(none)"]))
    return args


def find_workloads(names):
    wdir = os.path.join(HERE, "workloads")
    found = sorted(f[:-3] for f in os.listdir(wdir) if f.endswith(".py"))
    if names:
        missing = [n for n in names if n not in found]
        if missing:
            raise SystemExit("bench: no such workload: %s (have: %s)"
                             % (", ".join(missing), ", ".join(found)))
        found = [n for n in found if n in names]
    return [(n, os.path.join(wdir, n + ".py")) for n in found]


def read_hwm(pid):
    """Return VmHWM of pid in bytes, or None when it is gone."""
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def children_of(pid):
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid), "rb") as f:
                kids.extend(int(x) for x in f.read().split())
        except (OSError, ValueError):
            pass
    return kids


class TreeWatcher(threading.Thread):
    """Polls VmHWM of a process and its descendants; hwm[pid] keeps the largest seen."""

    def __init__(self, pid, period_s=0.02):
        super().__init__(daemon=True)
        self.root = pid
        self.period_s = period_s
        self.hwm = {}
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            todo = [self.root]
            while todo:
                pid = todo.pop()
                v = read_hwm(pid)
                if v is not None and v > self.hwm.get(pid, 0):
                    self.hwm[pid] = v
                todo.extend(children_of(pid))
            self.done.wait(self.period_s)

    def total(self):
        """Sum of the peaks of every process seen below the root (the root is the launcher)."""
        return sum(v for pid, v in self.hwm.items() if pid != self.root) or None


def command(variant, script, args, out_json):
    if variant == "plain":
        return [args.python, script]
    if variant == "cprofile":
        return [args.python, "-m", "cProfile", "-o", os.devnull, script]
    if variant == "cprofile_all":
        return [args.python, os.path.join(HERE, "cprofile_threads.py"), "-o", os.devnull, script]
    return [args.pyscope_run, "--python", args.python, "--mode", variant, "--output", out_json,
            script]


def build_launcher(tmpdir):
    """Compile launch.c into tmpdir; return its path (raises SystemExit when it cannot)."""
    exe = os.path.join(tmpdir, "launch")
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", exe, os.path.join(HERE, "launch.c")]
    try:
        subprocess.run(cmd, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit("bench: could not build the launcher (%s): %s" % (" ".join(cmd), e))
    return exe


def replaces_special_files(args, tmpdir):
    """True when pyscope-run --output FIFO replaces the FIFO with a regular file.

    A runner that writes its output by renaming a temporary file over the target
    would, given --output /dev/null as root, replace the machine's /dev/null.
    """
    fifo = os.path.join(tmpdir, "probe.fifo")
    probe = os.path.join(tmpdir, "probe.py")
    with open(probe, "w", encoding="ascii") as f:
        f.write("pass\n")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    subprocess.run([args.pyscope_run, "--output", fifo, probe], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    replaced = not stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if not replaced:
        reader.join(timeout=10)
    os.unlink(fifo)
    return replaced


def measure(variant, script, args, tmpdir):
    """Run one variant once through the launcher; return a dict of measurements."""
    out_json = os.devnull if args.output_devnull else os.path.join(tmpdir, "run.json")
    if not args.output_devnull and os.path.exists(out_json):
        os.unlink(out_json)
    errpath = os.path.join(tmpdir, "stderr.txt")
    report = os.path.join(tmpdir, "launch.txt")
    if os.path.exists(report):
        os.unlink(report)
    cmd = [args.launcher, report] + command(variant, script, args, out_json)
    with open(errpath, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, cwd=os.path.dirname(script))
        watcher = TreeWatcher(proc.pid)
        watcher.start()
        proc.wait()
        watcher.done.set()
        watcher.join()
    m = {"wall_s": None, "cpu_s": None, "ext_rss": None, "tree_rss": watcher.total(),
         "child_rss": None, "rc": None, "error": None, "threads_profiled": None,
         "script_cpu_s": None}
    try:
        with open(report, encoding="ascii") as f:
            wall, user, sys_, maxrss, status = f.read().split()
        m.update(wall_s=float(wall), cpu_s=float(user) + float(sys_),
                 ext_rss=int(maxrss) * 1024, rc=os.waitstatus_to_exitcode(int(status)))
    except (OSError, ValueError) as e:
        m["error"] = "launcher failed (status %s): %s" % (proc.returncode, e)
        return m
    if variant == "plain":
        m["child_rss"] = m["ext_rss"]
    elif variant in ("sample", "trace") and not args.output_devnull and m["rc"] == 0:
        try:
            with open(out_json, encoding="utf-8") as f:
                doc = json.load(f)
            m["child_rss"] = int(doc["runs"][0]["peak_rss_bytes"])
            m["script_cpu_s"] = float(doc["runs"][0]["cpu_s"])
        except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
            m["error"] = "unreadable JSON output: %s" % e
    if args.output_devnull and not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        raise SystemExit("bench: %s is no longer a character device after %s: pyscope-run "
                         "replaced it (restore it as root: mknod -m 666 /dev/null c 1 3)"
                         % (os.devnull, " ".join(cmd)))
    if variant == "cprofile_all" and m["rc"] == 0:
        m["threads_profiled"] = threads_profiled(errpath)
    if m["rc"] != 0:
        with open(errpath, "rb") as f:
            tail = f.read()[-600:].decode("utf-8", "replace").strip()
        m["error"] = "exit status %d: %s" % (m["rc"], tail)
    return m


def threads_profiled(errpath):
    """The N of cprofile_threads.py's "N thread(s) profiled" line in errpath, or None."""
    try:
        with open(errpath, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith("cprofile_threads: ") and "thread(s) profiled" in line:
            try:
                return int(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None


def geomean(xs):
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def median_of(results, key):
    xs = [r[key] for r in results if r[key] is not None and not r["error"]]
    return statistics.median(xs) if xs else None


def paired_ratio(results, wname, variant, key):
    """Median over rounds of variant/plain in the same round (round r's runs of a workload
    follow each other, so a drift of the machine between rounds cancels)."""
    pairs = zip(results.get((wname, "plain"), []), results.get((wname, variant), []))
    xs = [b[key] / a[key] for a, b in pairs
          if not a["error"] and not b["error"] and a[key] and b[key]]
    return statistics.median(xs) if xs else None


def paired_table(workloads, args, results):
    """Print each profiler's paired ratio to plain, wall and CPU time, per workload and as
    a geomean with the worst workload; return {(variant, key): (geomean, worst, name)}."""
    variants = [v for v in args.variants if v != "plain"]
    keys = (("wall_s", "wall"), ("cpu_s", "CPU"))
    if "plain" not in args.variants or not variants:
        return {}
    print()
    print("Paired ratios to plain python: per workload the median over rounds of the ratio "
          "in one round; CPU = user + sys of the whole process tree (wait4)")
    short = {"sample": "sample", "trace": "trace", "cprofile": "cProf", "cprofile_all": "cProfAll"}
    head = "%-16s" + " %12s" * (2 * len(variants))
    print(head % (("workload",) + tuple("%s %s" % (short.get(v, v), k) for v in variants
                                         for _, k in keys)))
    ratios = {(v, key): {} for v in variants for key, _ in keys}
    for wname, _ in workloads:
        cells = []
        for v in variants:
            for key, _ in keys:
                r = paired_ratio(results, wname, v, key)
                if r is not None:
                    ratios[(v, key)][wname] = r
                cells.append(fmt(r, ".3f", 12))
        print(head % ((wname,) + tuple(cells)))
    out = {}
    for (v, key), per in ratios.items():
        if per:
            worst = max(per, key=per.get)
            out[(v, key)] = (geomean(list(per.values())), per[worst], worst)
    print(head % (("geomean",) + tuple(fmt(out[(v, key)][0] if (v, key) in out else None,
                                           ".3f", 12) for v in variants for key, _ in keys)))
    print(head % (("worst",) + tuple(fmt(out[(v, key)][1] if (v, key) in out else None,
                                         ".3f", 12) for v in variants for key, _ in keys)))
    # Where the CPU goes: the script's own process tree (the report's runs[0].cpu_s, what
    # a verdict measures) against plain python's, the rest being pyscope-run's own.
    for v in ("sample", "trace"):
        per = {}
        for wname, _ in workloads:
            pairs = zip(results.get((wname, "plain"), []), results.get((wname, v), []))
            xs = [b["script_cpu_s"] / a["cpu_s"] for a, b in pairs
                  if not a["error"] and not b["error"] and a["cpu_s"] and b["script_cpu_s"]]
            if xs:
                per[wname] = statistics.median(xs)
        if per:
            worst = max(per, key=per.get)
            print("  %s: the script's own CPU (the report's runs[0].cpu_s) / plain CPU: "
                  "geomean %.3f, worst %.3f (%s); the rest of the tree's is pyscope-run's "
                  "own (start-up, reference loop, sampler)" % (v, geomean(list(per.values())),
                                                               per[worst], worst))
    return out


def fmt(x, spec, width, suffix=""):
    return ("%" + spec) % x + suffix if x is not None else "-".rjust(width + len(suffix))


def spread_pct(results):
    xs = [r["wall_s"] for r in results if not r["error"]]
    if len(xs) < 2:
        return None
    return 100.0 * (max(xs) - min(xs)) / statistics.median(xs)


def main(argv):
    args = parse_args(argv)
    if args.pyscope_run is None:
        build = os.environ.get("PYSCOPE_BUILD") or os.path.join(SRC, "build")
        args.pyscope_run = os.path.join(build, "agent", "runner", "pyscope-run")
    needs_runner = any(v in ("sample", "trace") for v in args.variants)
    if needs_runner and not os.access(args.pyscope_run, os.X_OK):
        print("bench: pyscope-run not found at %s (build first, or --pyscope-run PATH)"
              % args.pyscope_run, file=sys.stderr)
        return 2
    if not os.access(args.python, os.X_OK):
        print("bench: python not found at %s" % args.python, file=sys.stderr)
        return 2
    workloads = find_workloads(args.workload)
    results = {(w, v): [] for w, _ in workloads for v in args.variants}
    errors = []
    total_rounds = args.warmup + args.rounds
    print("bench: %d workload(s) x %d variant(s), %d warm-up + %d measured round(s)"
          % (len(workloads), len(args.variants), args.warmup, args.rounds), file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="pyscope-bench-") as tmpdir:
        args.launcher = build_launcher(tmpdir)
        if args.output_devnull and needs_runner and replaces_special_files(args, tmpdir):
            print("bench: this pyscope-run replaces special files given to --output (it "
                  "renames a temporary file over them); refusing --output-devnull, which "
                  "would replace /dev/null", file=sys.stderr)
            return 2
        for rnd in range(total_rounds):
            warm = rnd < args.warmup
            t_round = time.perf_counter()
            for wi, (wname, script) in enumerate(workloads):
                k = (rnd + wi) % len(args.variants)
                order = args.variants[k:] + args.variants[:k]  # rotate: cancel order effects
                for variant in order:
                    m = measure(variant, script, args, tmpdir)
                    if m["error"]:
                        errors.append("%s/%s: %s" % (wname, variant, m["error"]))
                    if not warm:
                        results[(wname, variant)].append(m)
            print("bench: round %d/%d%s done in %.1f s"
                  % (rnd + 1, total_rounds, " (warm-up)" if warm else "",
                     time.perf_counter() - t_round), file=sys.stderr)

    ok = report(workloads, args, results)
    for e in errors:
        print("ERROR %s" % e)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"schema": "pyscope.bench/1", "rounds": args.rounds,
                       "python": args.python, "pyscope_run": args.pyscope_run,
                       "results": {"%s/%s" % k: v for k, v in results.items()}}, f, indent=1)
    if args.strict and (errors or not ok):
        return 1
    return 0


def report(workloads, args, results):
    """Print the tables and the goal checks; return True when every checked goal passes."""
    have = set(args.variants)
    med = {k: median_of(v, "wall_s") for k, v in results.items()}
    print()
    print("Wall time, median of %d round(s), seconds; spread = (max-min)/median of plain"
          % args.rounds)
    print("  cProfile     = python -m cProfile: profiles the MAIN THREAD ONLY")
    print("  cProf-all    = tests/bench/cprofile_threads.py: cProfile in every thread")
    print("  ref          = the cProfile the trace goals use for this workload: cProf-all when")
    print("                 the script ran Python code in more than one thread (N thr), else")
    print("                 cProfile; -m cProfile does not see worker threads, so on those")
    print("                 workloads it measures (and pays for) the main thread's join() only")
    cols = "%-16s %7s %7s %7s %8s %9s %6s %7s %8s %8s %9s %-9s %6s"
    print(cols % ("workload", "plain", "sample", "trace", "cProfile", "cProf-all", "spread",
                  "sample/", "trace", "cProfile", "cProf-all", "ref", "trace/"))
    print(cols % ("", "", "", "", "", "", "", "plain", "overhead", "overhead", "overhead", "",
                  "ref"))
    rows = []

    def pct(x, width=8):
        return fmt(x * 100 if x is not None else None, "+.1f", width - 1, "%")

    def overhead(t, p):
        return t / p - 1 if p and t else None

    for wname, _ in workloads:
        p = med.get((wname, "plain"))
        s = med.get((wname, "sample"))
        t = med.get((wname, "trace"))
        c = med.get((wname, "cprofile"))
        a = med.get((wname, "cprofile_all"))
        nthr = median_of(results.get((wname, "cprofile_all"), []), "threads_profiled")
        sr = s / p if p and s else None
        to, co, ao = overhead(t, p), overhead(c, p), overhead(a, p)
        # The reference the goals check: cProfile seeing the same threads as trace mode.
        threaded = nthr is not None and nthr > 1
        if (threaded or co is None) and ao is not None:
            ref, ro = ("all %d thr" % nthr if threaded else "cProf-all"), ao
        else:
            ref, ro = "cProfile", co
        # A ratio of overheads means nothing when the reference costs nothing (or less).
        tr = to / ro if to is not None and ro is not None and ro > 0 else None
        sp = spread_pct(results.get((wname, "plain"), []))
        rows.append({"w": wname, "sr": sr, "to": to, "co": co, "ao": ao, "ro": ro, "ref": ref})
        print(cols % (wname, fmt(p, ".3f", 7), fmt(s, ".3f", 7), fmt(t, ".3f", 7),
                      fmt(c, ".3f", 8), fmt(a, ".3f", 9), fmt(sp, ".0f", 5, "%"),
                      fmt(sr, ".3f", 7), pct(to), pct(co), pct(ao, 9), ref if ro is not None
                      else "-", fmt(tr, ".2f", 6)))

    def g_overhead(key):
        g = geomean([1 + r[key] for r in rows if r[key] is not None])
        return g - 1 if g else None

    g_sample = geomean([r["sr"] for r in rows])
    g_to, g_co, g_ao, g_ro = (g_overhead(k) for k in ("to", "co", "ao", "ro"))
    g_tr = g_to / g_ro if g_to is not None and g_ro is not None and g_ro > 0 else None
    print(cols % ("geomean", "", "", "", "", "", "", fmt(g_sample, ".3f", 7), pct(g_to),
                  pct(g_co), pct(g_ao, 9), "ref" if g_ro is not None else "-",
                  fmt(g_tr, ".2f", 6)))
    if g_ro is not None:
        print("  geomean ref overhead %s" % pct(g_ro).strip())

    # Memory: extra peak RSS of pyscope-run over plain python, MiB.
    mem_rows = []
    if "plain" in have and have & {"sample", "trace"}:
        print()
        print("Extra peak RSS over plain python, MiB, median of %d round(s)" % args.rounds)
        print("  child = pyscope-run's JSON runs[0].peak_rss_bytes (the script's process; "
              "the goal uses this)")
        print("  ext   = wait4 ru_maxrss (largest single process of the tree)")
        print("  tree  = sum of VmHWM over the process tree (supervisor + script), /proc polled")
        print("%-16s %9s %8s %8s %8s %8s %8s %8s" % (
            "workload", "plain MiB", "s.child", "s.ext", "s.tree", "t.child", "t.ext", "t.tree"))
        for wname, _ in workloads:
            base = {k: median_of(results[(wname, "plain")], k)
                    for k in ("child_rss", "ext_rss", "tree_rss")}
            cells = []
            for v in ("sample", "trace"):
                for k in ("child_rss", "ext_rss", "tree_rss"):
                    x = median_of(results[(wname, v)], k) if v in have else None
                    d = (x - base[k]) / MIB if x is not None and base[k] is not None else None
                    cells.append(d)
            mem_rows.append((wname, cells))
            print("%-16s %9s %8s %8s %8s %8s %8s %8s" % (
                (wname, fmt(base["ext_rss"] / MIB if base["ext_rss"] else None, ".1f", 9))
                + tuple(fmt(c, "+.1f", 8) for c in cells)))

    paired = paired_table(workloads, args, results)
    print()
    print("Goals")
    results_ok = True

    def goal(name, passed, detail):
        nonlocal results_ok
        if passed is None:
            print("  SKIP %s (%s)" % (name, detail))
            return
        results_ok = results_ok and passed
        print("  %s %s (%s)" % ("PASS" if passed else "FAIL", name, detail))

    for key, what in (("wall_s", "wall"), ("cpu_s", "CPU")):
        g = paired.get(("sample", key))
        goal("sample mode: geomean of the paired sample/plain %s time <= %.2f"
             % (what, GOAL_SAMPLE_GEOMEAN),
             g[0] <= GOAL_SAMPLE_GEOMEAN if g else None,
             "%.3f, worst %.3f (%s); median/median wall %.3f" % (g + (g_sample or 0,))
             if g else "no sample and plain runs")
    for key, what in (("wall_s", "wall"), ("cpu_s", "CPU")):
        g = paired.get(("trace", key))
        goal("trace mode: geomean of the paired trace/plain %s time <= %.1f"
             % (what, GOAL_TRACE_GEOMEAN),
             g[0] <= GOAL_TRACE_GEOMEAN if g else None,
             "%.3f, worst %.3f (%s)" % g if g else "no trace and plain runs")
    goal("trace overhead geomean <= %.1f x cProfile overhead geomean (ref column)"
         % GOAL_TRACE_VS_CPROFILE,
         g_to <= GOAL_TRACE_VS_CPROFILE * g_ro if g_to is not None and g_ro is not None
         else None,
         "%.1f%% vs %.1f%%%s" % (g_to * 100, g_ro * 100,
                                 " -> %.2f x" % g_tr if g_tr is not None else "")
         if g_to is not None and g_ro is not None else "no trace, cProfile and plain runs")
    per = [(r["w"], r["to"], r["ro"], r["ref"]) for r in rows
           if r["to"] is not None and r["ro"] is not None]
    worse = [w for w, to, ro, _ in per if not to < ro]
    refs = sorted({"%s: %s" % (w, ref) for w, _, _, ref in per if ref != "cProfile"})
    goal("trace overhead below cProfile's (ref column) on every workload",
         not worse if per else None,
         ("worse on: " + ", ".join(worse)) if worse else
         ("%d workload(s)%s" % (len(per), "; all-threads reference on " + ", ".join(refs)
                                if refs else "") if per else "no trace, cProfile and plain runs"))
    # The same two checks against `python -m cProfile` everywhere, for information:
    # on threaded workloads it profiles only the main thread, so it is not a goal.
    per_m = [(r["w"], r["to"], r["co"]) for r in rows
             if r["to"] is not None and r["co"] is not None]
    if per_m and g_to is not None and g_co is not None:
        worse_m = [w for w, to, co in per_m if not to < co]
        print("  info against python -m cProfile on every workload (main thread only): geomean "
              "%.1f%% vs %.1f%%%s; %s" % (
                  g_to * 100, g_co * 100, " -> %.2f x" % (g_to / g_co) if g_co > 0 else "",
                  "worse on: " + ", ".join(worse_m) if worse_m else "below on every workload"))
    child = [(w, c[0]) for w, c in mem_rows] + [(w, c[3]) for w, c in mem_rows]
    child = [(w, d) for w, d in child if d is not None]
    worst = max(child, key=lambda x: x[1]) if child else None
    goal("extra peak RSS of the script process <= %.0f MiB on every workload"
         % GOAL_EXTRA_RSS_MIB,
         worst[1] <= GOAL_EXTRA_RSS_MIB if worst else None,
         "worst %+.1f MiB (%s)" % (worst[1], worst[0]) if worst
         else "no child figures: needs plain and sample/trace runs with JSON output")
    return results_ok


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
