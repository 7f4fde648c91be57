#!/usr/bin/python3.11
"""Write the fixture reports of tests/unit/test_history.c and test_regress.c.

Run once from this folder (python3.11 make_fixtures.py); the output is committed.
mixed/: one series (script examples/slow_script.py, host aaaa..., python P) mixed
        with other series and bad files: corrupt, foreign schema, future major
        version, non-object, empty, a failed run, a name that is not a report.
step/:  twelve reports of one series whose wall time steps from ~1.0 s to ~1.3 s
        at the seventh report (a change point).
"""
import json, os

KEY = "examples/slow_script.py"
HOST = "aaaaaaaaaaaaaaaa"
PY = "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]"


def doc(i, stamp, walls, key=KEY, host=HOST, py=PY, schema="pyscope.report/1",
        outcome="ok", sha="11" * 32, slow_self=None):
    runs = [{"wall_s": w, "cpu_s": round(w * 0.3, 6), "peak_rss_bytes": 19712000,
             "exit_code": 0, "signal": None, "timed_out": False} for w in walls]
    slow = slow_self if slow_self is not None else [round(w * 0.9, 6) for w in walls]
    return {
        "schema": schema, "pyscope_version": "0.1.0",
        "id": "00000000-0000-4000-8000-%012d" % i,
        "created": None,  # set by report()
        "script": {"path": "/home/me/proj/" + key, "key": key, "sha256": sha, "args": []},
        "host": {"fingerprint": host, "hostname": "build-7"},
        "python": {"implementation": "cpython", "version": "3.11.2", "build": py},
        "options": {"mode": "sample", "repeat": len(walls), "warmup": 0},
        "status": {"outcome": outcome, "exit_code": 0 if outcome == "ok" else 1,
                   "signal": None, "message": "exited"},
        "runs": runs,
        "profile": {"mode": "sample", "functions": [
            {"key": KEY + ":<module>:1", "file": KEY, "name": "<module>", "line": 1,
             "self_s": 0.01, "total_s": walls[0], "total_pct": 100.0, "self_pct": 1.0,
             "self_s_runs": [0.01] * len(walls), "total_s_runs": list(walls)},
            {"key": KEY + ":slow:3", "file": KEY, "name": "slow", "line": 3,
             "self_s": slow[0], "total_s": slow[0], "total_pct": 90.0, "self_pct": 90.0,
             "self_s_runs": slow, "total_s_runs": slow},
        ]},
    }


def stamp(day, hour):
    return "2026-11-%02dT%02d-00-00.000000" % (day, hour)


def created(day, hour):
    return "2026-11-%02dT%02d:00:00.000000Z" % (day, hour)


def write(folder, name, obj=None, raw=None):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as f:
        if raw is not None:
            f.write(raw)
        else:
            json.dump(obj, f, indent=1)
            f.write("\n")


def report(folder, i, day, hour, walls, **kw):
    d = doc(i, stamp(day, hour), walls, **kw)
    d["created"] = created(day, hour)
    write(folder, "pyscope_report_%s.json" % stamp(day, hour), d)


m = "mixed"
report(m, 1, 20, 8, [1.00, 1.01, 0.99])
report(m, 2, 21, 8, [1.02, 1.03, 1.01])
report(m, 3, 22, 8, [2.0], key="examples/other.py")
report(m, 4, 23, 8, [1.0], host="bbbbbbbbbbbbbbbb")
report(m, 5, 23, 9, [1.0], py="3.12.0 (main) [GCC 13]")
write(m, "pyscope_report_%s.json" % stamp(23, 10), raw='{"schema": "pyscope.report/1", "runs": [')
write(m, "pyscope_report_%s.json" % stamp(23, 11), {"schema": "other.tool/1", "runs": []})
d = doc(12, stamp(23, 12), [1.0]); d["schema"] = "pyscope.report/2"
write(m, "pyscope_report_%s.json" % stamp(23, 12), d)
write(m, "pyscope_report_%s.json" % stamp(23, 13), raw="[1, 2, 3]\n")
write(m, "pyscope_report_%s.json" % stamp(23, 14), raw="")
report(m, 15, 24, 6, [5.0], outcome="failed")
report(m, 16, 24, 7, [1.01], schema="pyscope.run/1")
write(m, "notes.txt", raw="not a report\n")

s = "step"
for i in range(12):
    base = 1.0 if i < 6 else 1.3
    jitter = [0.0, 0.01, -0.01, 0.005, -0.005, 0.002][i % 6]
    walls = [round(base + jitter + d, 4) for d in (0.0, 0.004, -0.004)]
    report(s, 100 + i, 10 + i, 8, walls)
