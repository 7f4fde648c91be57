"""validate_run.py FILE [--runs N] [--warmups N] [--mode M] [--no-host] - check a
pyscope.run/1 document (--no-host: leave the "host" block to the tests about it).

Checks the basics of docs/json-schema.md: the fields are there with the right
types, and the counts and options agree. Prints one line per problem; exits 1
when there is any, 0 (printing "valid") otherwise.
"""
import argparse
import json
import math
import sys

NUM = (int, float)
problems = []


def bad(path, msg):
    problems.append("%s: %s" % (path, msg))


def typed(obj, path, key, types, nullable=False):
    if not isinstance(obj, dict):
        bad(path, "not an object")
        return None
    if key not in obj:
        bad(path + "." + key, "missing")
        return None
    v = obj[key]
    if v is None:
        if not nullable:
            bad(path + "." + key, "is null")
        return None
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        bad(path + "." + key, "is a boolean")
        return None
    if not isinstance(v, types):
        bad(path + "." + key, "has type %s" % type(v).__name__)
        return None
    if isinstance(v, float) and not math.isfinite(v):
        bad(path + "." + key, "not finite")
    return v


def check_run(r, path):
    for k in ("wall_s", "cpu_s", "user_s", "sys_s", "cpu_pct"):
        v = typed(r, path, k, NUM)
        if v is not None and v < 0:
            bad(path + "." + k, "negative")
    typed(r, path, "peak_rss_bytes", int)
    typed(r, path, "exit_code", int, nullable=True)
    typed(r, path, "signal", int, nullable=True)
    typed(r, path, "timed_out", bool)


def check_stat(s, path):
    for k in ("n",):
        typed(s, path, k, int)
    for k in ("median", "mean", "min", "max", "stdev", "iqr", "mad"):
        typed(s, path, k, NUM, nullable=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--warmups", type=int)
    ap.add_argument("--mode")
    ap.add_argument("--no-host", action="store_true")
    a = ap.parse_args()
    try:
        with open(a.file, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print("unreadable JSON: %s" % e)
        return 1
    if d.get("schema") != "pyscope.run/1":
        bad("schema", "is %r" % d.get("schema"))
    for k in ("pyscope_version", "id", "created"):
        typed(d, "$", k, str)
    s = typed(d, "$", "script", dict) or {}
    for k in ("path", "key", "sha256"):
        typed(s, "script", k, str)
    if isinstance(s.get("sha256"), str) and len(s["sha256"]) != 64:
        bad("script.sha256", "not 64 hex digits")
    args = typed(s, "script", "args", list)
    if args is not None and not all(isinstance(x, str) for x in args):
        bad("script.args", "not all strings")
    h = typed(d, "$", "host", dict) or {}
    if not a.no_host:
        for k in ("fingerprint", "hostname", "cpu_model", "os", "kernel", "arch"):
            typed(h, "host", k, str)
        typed(h, "host", "cores", int)
        typed(h, "host", "mem_bytes", int)
        typed(h, "host", "governor", str, nullable=True)
        typed(h, "host", "loadavg", list)
    p = typed(d, "$", "python", dict) or {}
    for k in ("implementation", "version", "build", "executable", "prefix"):
        typed(p, "python", k, str)
    typed(p, "python", "venv", str, nullable=True)
    o = typed(d, "$", "options", dict) or {}
    mode = typed(o, "options", "mode", str)
    if mode not in ("sample", "trace"):
        bad("options.mode", "is %r" % mode)
    if a.mode and mode != a.mode:
        bad("options.mode", "is %r, wanted %r" % (mode, a.mode))
    typed(o, "options", "repeat", int)
    typed(o, "options", "warmup", int)
    typed(o, "options", "interval_s", NUM, nullable=True)
    typed(o, "options", "timeout_s", NUM, nullable=True)
    st = typed(d, "$", "status", dict) or {}
    outcome = typed(st, "status", "outcome", str)
    if outcome not in ("ok", "failed", "timeout", "interrupted"):
        bad("status.outcome", "is %r" % outcome)
    intr = typed(st, "status", "interrupted", dict, nullable=True)
    if (outcome == "interrupted") != bool(intr):
        bad("status.interrupted", "is %r with outcome %r" % (intr, outcome))
    if intr:
        typed(intr, "status.interrupted", "signal", int)
        typed(intr, "status.interrupted", "name", str)
        typed(intr, "status.interrupted", "runs_measured", int)
        typed(intr, "status.interrupted", "runs_planned", int)
        if "during" in intr:
            if intr["during"] != "instructions":
                bad("status.interrupted.during", "is %r" % intr["during"])
            typed(intr, "status.interrupted", "instructions_counted", int)
    typed(st, "status", "exit_code", int, nullable=True)
    typed(st, "status", "signal", int, nullable=True)
    typed(st, "status", "message", str)
    runs = typed(d, "$", "runs", list) or []
    for i, r in enumerate(runs):
        check_run(r, "runs[%d]" % i)
    warm = typed(d, "$", "warmup_runs", list) or []
    for i, r in enumerate(warm):
        check_run(r, "warmup_runs[%d]" % i)
    if a.runs is not None and len(runs) != a.runs:
        bad("runs", "has %d entries, wanted %d" % (len(runs), a.runs))
    if a.warmups is not None and len(warm) != a.warmups:
        bad("warmup_runs", "has %d entries, wanted %d" % (len(warm), a.warmups))
    sm = typed(d, "$", "summary", dict) or {}
    for k in ("wall_s", "cpu_s", "cpu_pct", "peak_rss_bytes"):
        check_stat(typed(sm, "summary", k, dict) or {}, "summary." + k)
    mt = typed(d, "$", "memory_timeline", list) or []
    for i, pt in enumerate(mt):
        if not (isinstance(pt, list) and len(pt) == 2 and isinstance(pt[0], NUM)
                and isinstance(pt[1], int)):
            bad("memory_timeline[%d]" % i, "not [t_s, rss_bytes]")
            break
    pr = typed(d, "$", "profile", dict) or {}
    typed(pr, "profile", "mode", str)
    typed(pr, "profile", "children_followed", bool)
    for i, t in enumerate(typed(pr, "profile", "threads", list) or []):
        typed(t, "profile.threads[%d]" % i, "name", str)
    for i, fn in enumerate(typed(pr, "profile", "functions", list) or []):
        path = "profile.functions[%d]" % i
        key = typed(fn, path, "key", str)
        f = typed(fn, path, "file", str)
        n = typed(fn, path, "name", str)
        line = typed(fn, path, "line", int)
        if None not in (key, f, n, line) and key != "%s:%s:%d" % (f, n, line):
            bad(path + ".key", "%r is not file:name:line" % key)
        typed(fn, path, "calls", int, nullable=(mode == "sample"))
        typed(fn, path, "self_s", NUM)
        typed(fn, path, "total_s", NUM)
        if len(problems) > 40:
            break
    for i, sk in enumerate(typed(pr, "profile", "stacks", list) or []):
        fr = typed(sk, "profile.stacks[%d]" % i, "frames", list)
        if fr is not None and not all(isinstance(x, str) for x in fr):
            bad("profile.stacks[%d].frames" % i, "not all strings")
        if i > 200:
            break
    for p_ in problems[:50]:
        print(p_)
    if problems:
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
