#!/usr/bin/python3.11
"""truth.py - does the team report tell the truth? (run it through tests/bench/truth.sh)

A ground-truth benchmark of the whole farm (issue 11): a real PostgreSQL, the real
coordinator and two real agents acting as two hosts (each in its own UTS namespace,
so its own host fingerprint) play N nights of a suite of varied workloads
(tests/bench/truth/: CPU-bound, allocation-heavy, mostly waiting, multi-threaded,
short, long; or, --workloads tests/bench/truth-fresh, a second set the verdicts were not
tuned on; each folder's workloads.txt names the function to slow; the suite's reference
script is examples/calibrate.py, copied into the run's workspace beside them). Known
slowdowns are injected into known functions on known nights and hosts (the
PYSCOPE_TRUTH_SLOW knob, tests/bench/truth/knob.py, set per host through the agents'
runner wrapper; a slowdown stays, like the code change it stands for); some nights
have none. Background load (CPU hogs and a process-spawning "build") runs on the same
cores on some nights and not on others, at three levels: idle (nothing added),
about as many busy processes as cores, about twice as many.

Each night is submitted after the previous one is settled (finished and analysed,
confirmation runs included), as nights a day apart would be. At the end the team
report (pyscope report --since 1d --json) is scored against the truth: false
regressions, false improvements, slowdowns found on the right night, host and
function, found on a wrong night, host or function, inconclusive, missed ("no
change"), duplicates. One table per load level, then the goals, met or not.

The machine this runs on is what it is: with other work on it, "idle" is not idle.
The load average is sampled at every night's start and end and printed.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3.11"
PG_BIN = "/usr/lib/postgresql/15/bin"
WORKLOADS = os.path.join(HERE, "truth")  # the default set, and knob.py for every set


def read_workloads(folder):
    """folder's workloads.txt: ({script: the function a slowdown is injected into}, the set
    of functions whose slowdown is CPU work, not a longer wait). Exits on a bad file."""
    path = os.path.join(folder, "workloads.txt")
    scripts, cpu = {}, set()
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        sys.exit(f"truth.py: cannot read {path}: {e.strerror} (--workloads names a folder "
                 "with a workloads.txt, like tests/bench/truth/)")
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        if len(line) != 3 or line[2] not in ("cpu", "wait") or not line[0].endswith(".py"):
            sys.exit(f"truth.py: {path}:{n}: want \"SCRIPT.py FUNCTION cpu|wait\"")
        if not os.path.isfile(os.path.join(folder, line[0])):
            sys.exit(f"truth.py: {path}:{n}: {line[0]} is not in {folder}")
        scripts[line[0]] = line[1]
        if line[2] == "cpu":
            cpu.add(line[1])
    if not scripts:
        sys.exit(f"truth.py: {path} names no workload")
    return scripts, cpu


LEVELS = {"idle": 0, "cores": 1, "2cores": 2}
MIN_BASELINE_NIGHTS = 3  # the farm decides a series from 3 baseline nights (README)


def say(msg):
    print(f"== truth: {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Farm:
    """PostgreSQL, the coordinator and the agents of one load level."""

    def __init__(self, build, work, hosts, level, workloads):
        self.build = build
        self.workloads = workloads
        self.work = work
        self.hosts = hosts
        self.level = level
        self.procs = []
        self.pg = None
        self.env = dict(os.environ)

    # -- processes ---------------------------------------------------------------
    def spawn(self, argv, log):
        out = open(log, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=self.env)
        self.procs.append(p)
        return p

    def psql(self, sql):
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, env=self.env, check=True)
        return r.stdout.strip()

    def cli(self, *args, check=True):
        return subprocess.run([os.path.join(self.build, "cli", "pyscope"), *args],
                              capture_output=True, text=True, env=self.env, check=check)

    def start(self):
        root = os.geteuid() == 0
        runas = ["runuser", "-u", "postgres", "--"] if root else []
        self.pg = tempfile.mkdtemp(prefix="pyscope-truth-pg.")
        os.chmod(self.pg, 0o755)
        if root:
            shutil.chown(self.pg, "postgres")
        subprocess.run(runas + [f"{PG_BIN}/initdb", "-D", f"{self.pg}/data", "-U", "postgres",
                                "--auth=trust", "-E", "UTF8", "--no-instructions"],
                       check=True, capture_output=True)
        subprocess.run(runas + [f"{PG_BIN}/pg_ctl", "-D", f"{self.pg}/data", "-l",
                                f"{self.pg}/server.log", "-w", "-t", "60", "-o",
                                f"-k {self.pg} -c listen_addresses= -p 5432", "start"],
                       check=True, capture_output=True)
        self.env.update(PGHOST=self.pg, PGPORT="5432", PGUSER="postgres", PGDATABASE="pyscope")
        subprocess.run([f"{PG_BIN}/createdb", "pyscope"], check=True, env=self.env)
        conninfo = f"host={self.pg} port=5432 user=postgres dbname=pyscope"
        sock = f"ipc://{self.work}/coord.sock"
        self.env["PYSCOPE_COORDINATOR"] = sock
        conf = os.path.join(self.work, "coordinator.conf")
        with open(conf, "w") as f:
            # the agents share this machine: one at a time (the default, said here)
            f.write("[coordinator]\nheartbeat_ms = 1000\nlease_ms = 60000\n"
                    "reap_interval_ms = 500\ndispatch_interval_ms = 300\nconfirm = 1\n"
                    "share_machines = 0\n")
        clog = os.path.join(self.work, "coordinator.log")
        self.spawn([os.path.join(self.build, "coordinator", "pyscope-coordinator"), "--db",
                    conninfo, "--bind", sock, "--config", conf], clog)
        for _ in range(200):
            if os.path.exists(clog) and "listening on" in open(clog).read():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the coordinator did not start: " + open(clog).read()[-2000:])
        run = os.path.join(self.work, "pyscope-run")
        shutil.copy(os.path.join(self.build, "agent", "runner", "pyscope-run"), run)
        # with the per-version Python modules it loads from next to itself
        shim = os.path.join(self.work, "pyshim")
        shutil.rmtree(shim, ignore_errors=True)
        shutil.copytree(os.path.join(self.build, "agent", "runner", "pyshim"), shim)
        # the agents' workspace: the workloads and the suite's reference script, the one
        # in examples/ (copied here, so that there is one calibrate.py in the repository)
        workspace = os.path.join(self.work, "workspace")
        shutil.rmtree(workspace, ignore_errors=True)
        shutil.copytree(self.workloads, workspace, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(os.path.join(WORKLOADS, "knob.py"), workspace)
        shutil.copy(os.path.join(SRC, "examples", "calibrate.py"), workspace)
        for d in (shim, workspace):
            for sub, _, files in os.walk(d):
                os.chmod(sub, 0o755)
                for f in files:
                    os.chmod(os.path.join(sub, f), 0o644)
        os.chmod(self.work, 0o755)
        for h in self.hosts:
            knob = os.path.join(self.work, f"slow-{h}")
            open(knob, "w").close()
            os.chmod(knob, 0o644)
            wrapper = os.path.join(self.work, f"run-{h}.sh")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\n"
                        f'if [ -s "{knob}" ]; then PYSCOPE_TRUTH_SLOW=$(cat "{knob}");'
                        " export PYSCOPE_TRUTH_SLOW; fi\n"
                        f'exec "{run}" "$@"\n')
            os.chmod(wrapper, 0o755)
            agent = [os.path.join(self.build, "agent", "pyscope-agent"), "--coordinator", sock,
                     "--workspace", workspace, "--name", h, "--spool",
                     os.path.join(self.work, f"spool-{h}"), "--runner", wrapper]
            argv = ["unshare", "-u", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh",
                    f"truth-{h}", *agent]
            self.spawn(argv, os.path.join(self.work, f"agent-{h}.log"))
        for _ in range(300):
            if self.psql("SELECT count(*) FROM agents") == str(len(self.hosts)):
                return
            time.sleep(0.2)
        raise RuntimeError("the agents did not register")

    def stop(self, keep_db=False):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []
        if self.pg and keep_db:
            say(f"{self.level}: PostgreSQL kept running for you: PGHOST={self.pg} PGPORT=5432 "
                f"PGUSER=postgres PGDATABASE=pyscope psql; stop it with runuser -u postgres -- "
                f"{PG_BIN}/pg_ctl -D {self.pg}/data stop")
            self.pg = None
        if self.pg:
            runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run(runas + [f"{PG_BIN}/pg_ctl", "-D", f"{self.pg}/data", "-m",
                                    "immediate", "-w", "stop"], capture_output=True)
            shutil.rmtree(self.pg, ignore_errors=True)
            self.pg = None

    # -- nights ------------------------------------------------------------------
    def settled(self):
        return self.psql("SELECT count(*) FROM batches WHERE state = 'running'"
                         " OR analyzed IS NULL") == "0"

    def night(self, k, suite, slow):
        for h in self.hosts:
            with open(os.path.join(self.work, f"slow-{h}"), "w") as f:
                f.write(",".join(f"{s[:-3]}.{fn}={pct}" for (s, fn), pct in
                                 sorted(slow.get(h, {}).items())))
        r = self.cli("submit", suite, "--label", f"night {k}", "--wait", check=False)
        if r.returncode != 0:
            # a job that did not end ok is no verdict to score: stop and say why
            logs = "".join(f"\n  {h}: " + (tail_line(os.path.join(self.work, f"agent-{h}.log"))
                                           or "(no log)") for h in self.hosts)
            raise RuntimeError(f"night {k}: submit exited {r.returncode}: "
                               f"{r.stderr.strip()[-300:]}; the agents' last lines:{logs}")
        until = time.time() + 3600
        while not self.settled():
            if time.time() > until:
                raise RuntimeError(f"night {k} not analysed after an hour")
            time.sleep(0.5)
        return int(self.psql("SELECT max(id) FROM batches"))


    def rerun_counts(self, batch):
        """Batch's confirmation re-runs (jobs of purpose confirm) and the series it held
        out of their later baselines, by reason (table held_out, schema/014)."""
        row = self.psql(
            f"SELECT (SELECT count(*) FROM jobs WHERE batch_id = {batch} AND purpose = 'confirm'),"
            f" (SELECT count(*) FROM held_out WHERE batch_id = {batch} AND reason = 'dismissed'),"
            f" (SELECT count(*) FROM held_out WHERE batch_id = {batch}"
            f" AND reason = 'inconclusive')")
        reruns, dismissed, inconclusive = (int(x) for x in row.split("|"))
        return {"reruns": reruns, "held_dismissed": dismissed, "held_inconclusive": inconclusive}

    def held_nights(self, night_of):
        """{(host, script): [nights held out of the series' baseline]}."""
        out = {}
        rows = self.psql("SELECT h.hostname, s.key, x.batch_id FROM held_out x"
                         " JOIN hosts h ON h.id = x.host_id JOIN scripts s ON s.id = x.script_id")
        for line in rows.splitlines():
            host, path, batch = line.split("|")
            key = (host.removeprefix("truth-"), os.path.basename(path))
            out.setdefault(key, []).append(night_of.get(int(batch)))
        return out


def held_streaks(held):
    """The longest run of consecutive nights a series was held out (re-run, and its re-run
    confirmed nothing), and how many series were held out 3 nights in a row or more: each
    of those nights cost a re-run, and such a series' baseline grows only as its held-out
    nights rejoin it (ANALYSIS_HOLD_NIGHTS, coordinator/analysis.h)."""
    longest, stuck = 0, 0
    for nights in held.values():
        ks = sorted(k for k in nights if k is not None)
        run = best = 0
        for i, k in enumerate(ks):
            run = run + 1 if i and k == ks[i - 1] + 1 else 1
            best = max(best, run)
        longest = max(longest, best)
        stuck += best >= 3
    return longest, stuck


class Load:
    """Background load: busy processes and a process-spawning 'build'."""

    def __init__(self, n):
        self.n = n
        self.procs = []

    def on(self):
        if self.procs or self.n == 0:
            return
        for _ in range(max(0, self.n - 1)):
            self.procs.append(subprocess.Popen([PY, "-c", "while True: pass"],
                                               start_new_session=True))
        # a build: short processes, one after the other, forever
        self.procs.append(subprocess.Popen(
            ["sh", "-c", f'while :; do {PY} -c "sum(range(2000000))"; done'],
            start_new_session=True, stdout=subprocess.DEVNULL))

    def off(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        self.procs = []


def plan(nights, hosts, scripts, seed):
    """Injections: {night: [(host, script, function, pct)]}; nights 1..4 and every third
    later night have none; a series is slowed at most once."""
    rng = random.Random(seed)
    free = [(h, s) for h in hosts for s in scripts]
    rng.shuffle(free)
    out = {}
    first = MIN_BASELINE_NIGHTS + 2  # at least 4 baseline nights before a slowdown
    for k in range(first, nights + 1):
        if (k - first) % 3 == 2 or not free:
            continue
        for _ in range(rng.choice([1, 1, 2])):
            if not free:
                break
            h, s = free.pop()
            out.setdefault(k, []).append((h, s, scripts[s], rng.choice([20, 30, 50])))
    return out


def load_pattern(nights, pattern):
    """The nights the background load is on: "alternate", every other pair of nights (a
    night's baseline mixes loaded and quiet nights), or "always"."""
    if pattern == "always":
        return set(range(1, nights + 1))
    return {k for k in range(1, nights + 1) if (k // 2) % 2 == 1}


def fn_of(key):
    """The function of a function key "file:qualname:line" (or None): its qualname, or the
    function it is nested in ("tiny.<locals>.<genexpr>" is tiny's generator: tiny's work)."""
    parts = (key or "").split(":")
    return parts[-2].split(".<locals>.")[0] if len(parts) >= 3 else None


def score(report, injections, night_of, hosts, scripts, nights, cpu_functions):
    """Score one team report (pyscope.team_report/1 "report") against the truth."""
    regs = report.get("regressions", []) + report.get("improvements", [])
    groups = {}
    for g in regs:
        key = (g["host"].removeprefix("truth-"), g["script"], g["batch_id"], g["kind"])
        groups.setdefault(key, []).append(g)
    inj = [(k, h, s, fn, pct) for k, lst in injections.items() for (h, s, fn, pct) in lst]
    res = {"false_regressions": [], "false_improvements": [], "duplicates": 0,
           "injections": []}
    matched = {}
    for (h, s, batch, kind), rows in sorted(groups.items()):
        night = night_of.get(batch)
        if kind == "improvement":
            res["false_improvements"].append({"host": h, "script": s, "night": night,
                                              "metrics": sorted(r["metric"] for r in rows)})
            continue
        mine = [i for i in inj if i[1] == h and i[2] == s]
        if mine:
            matched.setdefault(mine[0], []).append((night, rows))
            continue
        res["false_regressions"].append({"host": h, "script": s, "night": night,
                                         "metrics": sorted(r["metric"] for r in rows),
                                         "wrong_host": any(i[2] == s and i[0] == night
                                                           for i in inj)})
    unsettled = {(u["host"].removeprefix("truth-"), u["script"], night_of.get(u["batch_id"]))
                 for u in report.get("inconclusive", [])}
    for i in inj:
        k, h, s, fn, pct = i
        found = matched.get(i, [])
        entry = {"night": k, "host": h, "script": s, "function": fn, "pct": pct,
                 "cpu": fn in cpu_functions}
        if not found:
            entry["outcome"] = "inconclusive" if (h, s, k) in unsettled else "missed"
        else:
            res["duplicates"] += len(found) - 1
            night, rows = min(found, key=lambda x: x[0] or 0)
            # the whole-run metrics a finding is on: times, or the counts of a counted script
            main = [r for r in rows if r["metric"] in ("wall_s", "cpu_s", "instructions")]
            why = [fn_of(f.get("key")) for r in main
                   for f in ((r.get("why") or {}).get("functions") or [])[:1]]
            hot = [fn_of(r.get("function")) for r in rows if r.get("function")]
            entry["night_found"] = night
            # the size quoted: a counted series' counts finding (exact, whatever the load),
            # else the larger time finding; the other metrics' sizes are kept beside it
            counts = [r for r in main if r["metric"] == "instructions"]
            top = max(counts or main, key=lambda r: r["change_pct"], default=None)
            entry["change_pct"] = top["change_pct"] if top else None
            entry["sizes"] = {r["metric"]: r["change_pct"] for r in main}
            # the 95% interval the report gives the size (judge the size by it, not the point)
            entry["ci_pct"] = ([top["ci_low_pct"], top["ci_high_pct"]]
                               if top and top.get("ci_low_pct") is not None
                               and top.get("ci_high_pct") is not None else None)
            entry["metrics"] = sorted(r["metric"] for r in rows)
            entry["confirmation"] = (rows[0].get("confirmation") or {}).get("method")
            entry["function_found"] = (why or hot or [None])[0]
            if night != k:
                entry["outcome"] = "wrong night"
            elif fn not in why and fn not in hot:
                entry["outcome"] = "wrong function"
            else:
                entry["outcome"] = "right"
        res["injections"].append(entry)
    # series-nights a verdict could be given on, with nothing injected in that series yet
    changed = {(h, s): k for (k, h, s, _, _) in inj}
    res["unchanged_series_nights"] = sum(
        1 for h in hosts for s in scripts for k in range(MIN_BASELINE_NIGHTS + 1, nights + 1)
        if changed.get((h, s), nights + 1) > k)
    # of those, the ones the report lists as inconclusive: noise it could not tell apart
    res["unchanged_inconclusive"] = sum(
        1 for (h, s, k) in unsettled
        if k is not None and k > MIN_BASELINE_NIGHTS and changed.get((h, s), nights + 1) > k)
    return res


def tail_line(path):
    """The last non-empty line of a file, or None."""
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return None
    return lines[-1][-300:] if lines else None


def table(level, res, nights_info):
    lines = [f"### Load level: {level}",
             "",
             "| night | background load | load average (start → end) | injected | "
             "re-runs (held out: dismissed, inconclusive) |",
             "|---|---|---|---|---|"]
    for n in nights_info:
        inj = ", ".join(f"{h} {s} {fn}() +{p}%" for (h, s, fn, p) in n["injected"]) or "—"
        lines.append(f"| {n['night']} | {'on' if n['load'] else 'off'} | "
                     f"{n['load_start']:.1f} → {n['load_end']:.1f} | {inj} | "
                     f"{n.get('reruns', '?')} ({n.get('held_dismissed', '?')}, "
                     f"{n.get('held_inconclusive', '?')}) |")
    lines += ["", "| injected slowdown | night | outcome | found | change | confirmed by |",
              "|---|---|---|---|---|---|"]
    for e in res["injections"]:
        found = "—"
        if "night_found" in e:
            found = f"night {e['night_found']}, {e.get('function_found') or '?'}()"
        ch = f"{e['change_pct']:+.1f}%" if e.get("change_pct") is not None else "—"
        if e.get("ci_pct"):
            ch += f" (95% CI {e['ci_pct'][0]:+.1f} … {e['ci_pct'][1]:+.1f}%)"
        others = {m: v for m, v in (e.get("sizes") or {}).items() if v != e.get("change_pct")}
        if len(e.get("sizes") or {}) > 1 and others:
            ch += "; " + ", ".join(f"{m} {v:+.1f}%" for m, v in sorted(others.items()))
        lines.append(f"| {e['host']} {e['script']} {e['function']}() +{e['pct']}%"
                     f"{'' if e['cpu'] else ' (sleep)'} | {e['night']} | {e['outcome']} | "
                     f"{found} | {ch} | {e.get('confirmation') or '—'} |")
    cpu = [e for e in res["injections"] if e["cpu"] and e["pct"] >= 20]
    right = sum(e["outcome"] == "right" for e in cpu)
    lines += ["",
              "| measure | value |", "|---|---|",
              f"| unchanged series-nights (a verdict possible, nothing injected) | "
              f"{res['unchanged_series_nights']} |",
              f"| false regressions | {len(res['false_regressions'])} |",
              f"| false improvements | {len(res['false_improvements'])} |",
              f"| CPU slowdowns ≥ 20% found right (night, host, function) | {right} of {len(cpu)} |",
              f"| wrong night / wrong host / wrong function | "
              f"{sum(e['outcome'] == 'wrong night' for e in res['injections'])} / "
              f"{sum(f['wrong_host'] for f in res['false_regressions'])} / "
              f"{sum(e['outcome'] == 'wrong function' for e in res['injections'])} |",
              f"| inconclusive / missed (\"no change\") | "
              f"{sum(e['outcome'] == 'inconclusive' for e in res['injections'])} / "
              f"{sum(e['outcome'] == 'missed' for e in res['injections'])} |",
              f"| duplicates | {res['duplicates']} |",
              f"| unchanged series-nights listed inconclusive | "
              f"{res['unchanged_inconclusive']} of {res['unchanged_series_nights']} |",
              f"| series held out of their baseline 3+ nights in a row (longest run) | "
              f"{res.get('held_stuck', '?')} ({res.get('held_streak_max', '?')} nights) |"]
    for f in res["false_regressions"]:
        lines.append(f"| false regression | {f['host']} {f['script']} night {f['night']} "
                     f"({', '.join(f['metrics'])}) |")
    for f in res["false_improvements"]:
        lines.append(f"| false improvement | {f['host']} {f['script']} night {f['night']} "
                     f"({', '.join(f['metrics'])}) |")
    return "\n".join(lines)


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def summary(level, res, nights_info):
    """One row of the truth table: detection and false alarm rates, with medians."""
    cpu = [e for e in res["injections"] if e["cpu"] and e["pct"] >= 20]
    right = [e for e in cpu if e["outcome"] == "right"]
    false = len(res["false_regressions"]) + len(res["false_improvements"])
    unchanged = res["unchanged_series_nights"]
    found = [e["change_pct"] / e["pct"] for e in right if e.get("change_pct") is not None]
    return {
        "level": level,
        "load_median": median([n["load_start"] for n in nights_info] +
                              [n["load_end"] for n in nights_info]),
        "night_s_median": median([n["secs"] for n in nights_info]),
        "detected": len(right), "injected": len(cpu),
        "inconclusive": sum(e["outcome"] == "inconclusive" for e in cpu),
        "missed": sum(e["outcome"] not in ("right", "inconclusive") for e in cpu),
        "false": false, "unchanged": unchanged,
        "found_over_injected_median": median(found),
        "duplicates": res["duplicates"],
    }


def summary_table(rows):
    lines = ["### Truth table", "",
             "| load level | load average (median) | CPU slowdowns >= 20% found right | "
             "inconclusive / missed | false findings / unchanged series-nights | "
             "reported size / injected (median) | duplicates | a night (median) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        det = (f"{r['detected']} of {r['injected']} ({100 * r['detected'] / r['injected']:.0f}%)"
               if r["injected"] else "none injected")
        fa = (f"{r['false']} of {r['unchanged']} ({100 * r['false'] / r['unchanged']:.1f}%)"
              if r["unchanged"] else "—")
        ratio = (f"{r['found_over_injected_median']:.2f}"
                 if r["found_over_injected_median"] is not None else "—")
        lines.append(f"| {r['level']} | {r['load_median']:.1f} | {det} | "
                     f"{r['inconclusive']} / {r['missed']} | {fa} | {ratio} | "
                     f"{r['duplicates']} | {r['night_s_median']:.0f} s |")
    return "\n".join(lines)


def goals(results):
    out = []
    for level, res in results.items():
        false = len(res["false_regressions"]) + len(res["false_improvements"])
        out.append((f"{level}: 0 false findings over >= 40 unchanged series-nights",
                    false == 0 and res["unchanged_series_nights"] >= 40,
                    f"{false} false over {res['unchanged_series_nights']}"))
        cpu = [e for e in res["injections"] if e["cpu"] and e["pct"] >= 20]
        right = sum(e["outcome"] == "right" for e in cpu)
        need = {"cores": 0.95, "2cores": 0.80}.get(level)
        if need is not None and cpu:
            out.append((f"{level}: >= {need:.0%} of CPU slowdowns >= 20% right",
                        right / len(cpu) >= need, f"{right} of {len(cpu)}"))
            nochange = sum(e["outcome"] not in ("right", "inconclusive") for e in cpu)
            out.append((f"{level}: the rest inconclusive, never no change", nochange == 0,
                        f"{nochange} not right and not inconclusive"))
        dup = res["duplicates"]
        wrong = sum(e["outcome"] == "wrong night" for e in res["injections"])
        out.append((f"{level}: 0 duplicates, the night dated exactly", dup == 0 and wrong == 0,
                    f"{dup} duplicates, {wrong} wrong nights"))
    return out


def stop_on_signal(signum, frame):
    """SIGTERM (timeout(1), systemd) ends the run like Ctrl-C: the finally blocks stop the
    background load, the farm and PostgreSQL."""
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, stop_on_signal)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("PYSCOPE_BUILD",
                                                       os.path.join(SRC, "build")))
    ap.add_argument("--levels", default="idle,cores,2cores")
    ap.add_argument("--nights", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--workloads", default=WORKLOADS,
                    help="the workloads' folder, with its workloads.txt (default "
                    "tests/bench/truth; tests/bench/truth-fresh: a set the verdicts were "
                    "not tuned on)")
    ap.add_argument("--scripts", default=None,
                    help="a comma-separated subset of the folder's workloads (default: all)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--threshold", type=float, default=None,
                    help="the suite's threshold in percent (default: the farm's, 5)")
    ap.add_argument("--load", choices=("alternate", "always"), default="alternate",
                    help="background load on every other pair of nights, or on every night")
    ap.add_argument("--instructions", action="store_true",
                    help="count the CPU-bound scripts' instructions (their suite sections get "
                         "instructions = on; needs valgrind; each counted run ~25-50x slower)")
    ap.add_argument("--keep", action="store_true",
                    help="leave each level's PostgreSQL running at the end (to read the runs, "
                         "findings and verdicts with psql); it says how to reach and stop it")
    ap.add_argument("--dir", default=None, help="working folder (default BUILD/truth-bench)")
    ap.add_argument("--json", default=None, help="write every figure to this file")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: one level (cores), 6 nights, 3 scripts")
    a = ap.parse_args()
    if a.quick:
        a.levels, a.nights = "cores", 6
    levels = a.levels.split(",")
    workloads = os.path.abspath(a.workloads)
    known, cpu_functions = read_workloads(workloads)
    if a.quick and a.scripts is None:  # a CPU-bound, a waiting and a long one
        a.scripts = ("cpu_loop.py,io_wait.py,long.py" if workloads == WORKLOADS
                     else ",".join(list(known)[:3]))
    for s in (a.scripts.split(",") if a.scripts else []):
        if s not in known:
            sys.exit(f"truth.py: --scripts: {s!r} is not one of {', '.join(known)} "
                     f"({workloads}/workloads.txt)")
    scripts = {s: known[s] for s in a.scripts.split(",")} if a.scripts else known
    for lv in levels:
        if lv not in LEVELS:
            sys.exit(f"truth.py: unknown level {lv!r} (idle, cores, 2cores)")
    for b in ("coordinator/pyscope-coordinator", "agent/pyscope-agent", "cli/pyscope",
              "agent/runner/pyscope-run"):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            sys.exit(f"truth.py: {a.build}/{b} is missing: build first (scripts/build.sh)")
    if a.nights < MIN_BASELINE_NIGHTS + 2:
        sys.exit(f"truth.py: --nights must be at least {MIN_BASELINE_NIGHTS + 2}")
    if subprocess.run(["unshare", "-u", "true"], capture_output=True).returncode != 0:
        sys.exit("truth.py: needs UTS namespaces (unshare -u: run as root) for two hosts")
    cores = os.cpu_count() or 1
    hosts = ["h1", "h2"]
    base = os.path.abspath(a.dir or os.path.join(a.build, "truth-bench"))
    for hidden in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        if base == hidden or base.startswith(hidden + "/"):
            sys.exit(f"truth.py: --dir {base} is under {hidden}, which each job's private /tmp "
                     "hides (agent/sandbox.c), so the agents could not run the runner kept "
                     "there: choose a folder elsewhere (default BUILD/truth-bench)")
    results, detail = {}, {}
    if a.instructions and not shutil.which("valgrind"):
        sys.exit("truth.py: --instructions needs valgrind: apt-get install valgrind")
    say(f"{len(levels)} level(s) x {a.nights} nights x {len(scripts)} scripts x {len(hosts)} "
        f"hosts, repeat {a.repeat}, threshold {a.threshold or 5:g}%, background load "
        f"{a.load}, {cores} cores{', CPU-bound scripts counted' if a.instructions else ''}; "
        f"load average now {loadavg():.1f}")
    for lv in levels:
        work = os.path.join(base, lv)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        suite = os.path.join(work, "suite.ini")
        with open(suite, "w") as f:
            f.write(f"[suite]\nname = truth\nrepeat = {a.repeat}\nreference = calibrate.py\n")
            if a.threshold:
                f.write(f"threshold = {a.threshold}%\n")
            f.write("\n")
            for s in scripts:
                f.write(f"[script {s}]\n")
                if a.instructions and scripts[s] in cpu_functions:
                    f.write("instructions = on\n")
        injections = plan(a.nights, hosts, scripts, a.seed)
        loaded = load_pattern(a.nights, a.load) if LEVELS[lv] else set()
        load = Load(LEVELS[lv] * cores)
        farm = Farm(a.build, work, hosts, lv, workloads)
        nights_info, night_of = [], {}
        slow = {}
        t0 = time.time()
        try:
            farm.start()
            for k in range(1, a.nights + 1):
                for (h, s, fn, pct) in injections.get(k, []):
                    slow.setdefault(h, {})[(s, fn)] = pct
                if k in loaded:
                    load.on()
                else:
                    load.off()
                ls = loadavg()
                tk = time.time()
                batch = farm.night(k, suite, slow)
                night_of[batch] = k
                nights_info.append({"night": k, "load": k in loaded, "load_start": ls,
                                    "load_end": loadavg(), "secs": time.time() - tk,
                                    "injected": injections.get(k, []),
                                    **farm.rerun_counts(batch)})
                say(f"{lv}: night {k} of {a.nights} settled in {time.time() - tk:.0f} s "
                    f"(background load {'on' if k in loaded else 'off'}, load average "
                    f"{ls:.1f} -> {loadavg():.1f})")
            load.off()
            r = farm.cli("report", "--since", "1d", "--json")
            report = json.loads(r.stdout)["report"]
            held = farm.held_nights(night_of)
        finally:
            load.off()
            farm.stop(keep_db=a.keep)
        res = score(report, injections, night_of, hosts, scripts, a.nights, cpu_functions)
        res["held_streak_max"], res["held_stuck"] = held_streaks(held)
        results[lv] = res
        detail[lv] = {"nights": nights_info, "result": res, "secs": time.time() - t0,
                      "report": report}
        print(table(lv, res, nights_info))
        print(f"\n({lv}: {time.time() - t0:.0f} s)\n", flush=True)
    print(summary_table([summary(lv, results[lv], detail[lv]["nights"]) for lv in results]))
    print("\n### Goals\n\n| goal | met | figure |\n|---|---|---|")
    for name, met, fig in goals(results):
        print(f"| {name} | {'met' if met else 'NOT MET'} | {fig} |")
    print(f"\nThis machine had {cores} cores and other work on it: \"idle\" adds no load, it "
          "does not take any away (load averages per night above).")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(detail, f, indent=1, default=str)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"truth.py: {e}")
