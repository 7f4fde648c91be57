"""compare_cprofile.py OURS.json THEIRS [--cwd DIR] [--show N] [--only-file F] - compare
call counts.

OURS.json is pyscope-run --mode trace output (pyscope.run/1). THEIRS is what
`python -m cProfile -o THEIRS.prof script` wrote (read with pstats), or the
counts of tests/bench/cprofile_threads.py --counts THEIRS.json (exact when several
code objects share a label, which pstats collapses to the last one). Functions
are matched on (absolute file, first line, co_name): our key is
file:qualname:line and co_name is the last dotted part of the qualname;
built-ins look the same on both sides ("~", 0, "<built-in method time.sleep>").

cProfile's own frames are left out: the exec() that runs the script and the
profiler's disable() call. With --baseline EMPTY.json (pyscope-run --mode trace
of an empty script), what the runner reports for an empty script -- interpreter
start-up work that runs before the script's first line, which cProfile never
sees -- is subtracted from ours first. Every other function must be on both
sides with the same number of calls (with --only-file, every function defined in
file F). Prints the differences; exits 1 when there is any.
"""
import argparse
import json
import os
import pstats
import re
import sys

# cProfile's harness: one exec() runs the script, one disable() ends profiling.
CPROFILE_OWN = {("~", 0, "<built-in method builtins.exec>"): 1,
                ("~", 0, "<method 'disable' of '_lsprof.Profiler' objects>"): 1}


def norm_name(name):
    """cProfile labels some callables by repr: drop the address, it differs per run."""
    return re.sub(r" at 0x[0-9a-fA-F]+", " at 0x?", name)


def norm_file(f, cwd):
    if f == "~" or f.startswith("<"):
        return f
    return os.path.normpath(os.path.join(cwd, f))


def load_ours(path, cwd):
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    funcs = {}
    for fn in doc["profile"]["functions"]:
        name = fn["name"]
        if fn["file"] != "~":
            name = name.split(".")[-1]  # co_name is the last part of the qualname
        key = (norm_file(fn["file"], cwd), int(fn["line"]), norm_name(name))
        calls = fn["calls"]
        if calls is None:
            raise SystemExit("%s: calls is null for %s (not trace mode?)" % (path, fn["key"]))
        funcs[key] = funcs.get(key, 0) + int(calls)
    return funcs


def load_theirs(path, cwd):
    funcs = {}
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as fh:
            rows = [((fn["file"], fn["line"], fn["name"]), fn["calls"])
                    for fn in json.load(fh)["functions"]]
    else:
        rows = [(label, nc) for label, (_cc, nc, _tt, _ct, _callers)
                in pstats.Stats(path).stats.items()]
    for (f, line, name), nc in rows:
        key = (norm_file(f, cwd), int(line), norm_name(name))
        funcs[key] = funcs.get(key, 0) + nc
    for key, n in CPROFILE_OWN.items():
        if key in funcs:
            funcs[key] -= n
            if funcs[key] == 0:
                del funcs[key]
    return funcs


def label(key):
    f, line, name = key
    return "%s:%s:%d" % (f, name, line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--cwd", default=os.getcwd(), help="folder relative file names are in")
    ap.add_argument("--show", type=int, default=40, help="differences to print at most")
    ap.add_argument("--baseline", help="pyscope-run trace of an empty script, subtracted")
    ap.add_argument("--kind", choices=("all", "python", "builtin"), default="all",
                    help="compare only Python functions, or only built-ins (file \"~\")")
    ap.add_argument("--only-file", help="compare only the functions defined in this file")
    a = ap.parse_args()
    ours = load_ours(a.ours, a.cwd)
    if a.baseline:
        for key, n in load_ours(a.baseline, a.cwd).items():
            if key[2] == "<module>" or key not in ours:
                continue  # the empty script itself, or start-up work not seen this time
            ours[key] -= n
            if ours[key] == 0:
                del ours[key]
    theirs = load_theirs(a.theirs, a.cwd)
    if a.kind != "all":
        want_builtin = a.kind == "builtin"
        ours = {k: v for k, v in ours.items() if (k[0] == "~") == want_builtin}
        theirs = {k: v for k, v in theirs.items() if (k[0] == "~") == want_builtin}
    if a.only_file:
        want = norm_file(a.only_file, a.cwd)
        ours = {k: v for k, v in ours.items() if k[0] == want}
        theirs = {k: v for k, v in theirs.items() if k[0] == want}
    diffs = []
    for key in sorted(set(ours) | set(theirs), key=label):
        o, t = ours.get(key), theirs.get(key)
        if o != t:
            diffs.append("%-70s pyscope %8s  cProfile %8s" % (
                label(key), "-" if o is None else o, "-" if t is None else t))
    print("%d functions in pyscope-run's trace, %d in cProfile's, %d differ"
          % (len(ours), len(theirs), len(diffs)))
    for line in diffs[:a.show]:
        print("  " + line)
    if len(diffs) > a.show:
        print("  ... %d more" % (len(diffs) - a.show))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
