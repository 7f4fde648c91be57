#!/usr/bin/env python3
"""bisect_farm_repo.py DIR SPEC... - the repository of tests/bench/bisect_farm.sh.

One git repository holding one orphan branch per trial, so that one agent (--repo DIR)
serves every trial of the benchmark. SPEC is NAME:SHAPE:PCT:COMMITS:AT:WORK - branch
NAME has COMMITS commits; commit AT (2..COMMITS) makes hot() PCT percent slower (its loop
runs PCT% more turns); every other commit changes only a comment. bench/s.py calls hot()
(about nine tenths of its CPU time) and cold() (a fixed tenth). WORK scales the loops
(1.0: hot() about 0.1 s of CPU in CPython 3.11 on a 2020s core).

The shapes are workloads the bisection was not tuned on (tests/data/revisions/make_repo.sh
is what the integration tests use): arith (an integer loop), strings (str() and join),
dicts (dict get/set), calls (a call per turn).

Prints one line per SPEC: NAME GOOD BAD CULPRIT (full hashes; GOOD is commit 1).
"""
import os
import subprocess
import sys

# hot()'s body per shape; N is its loop count; BASE: N at WORK 1.0
SHAPES = {
    "arith": (1000000, "    t = 0\n    for i in range(N):\n        t += (i * i) % 11\n    return t\n"),
    "strings": (250000, "    parts = [str(i) for i in range(N)]\n    return len(''.join(parts))\n"),
    "dicts": (700000,
              "    d = {}\n    for i in range(N):\n        d[i & 1023] = d.get(i & 1023, 0) + i\n"
              "    return len(d)\n"),
    "calls": (1100000,
              "    t = 0\n    for i in range(N):\n        t = leaf(t)\n    return t\n"),
}

SCRIPT = """import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib
lib.hot()
lib.cold()
"""


def lib_py(shape, n, work, comment):
    base, body = SHAPES[shape]
    cold = max(1, int(base * work / 10))
    return ("# lib.py - %s\n"
            "def leaf(x):\n    return x + 1\n\n"
            "def hot():\n    N = %d\n%s\n"
            "def cold():\n    t = 0\n    for i in range(%d):\n        t += i & 7\n    return t\n"
            % (comment, n, body, cold))


def git(repo, *args, env=None):
    return subprocess.run(["git", "-C", repo] + list(args), check=True, env=env,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bisect_farm_repo.py DIR NAME:SHAPE:PCT:COMMITS:AT:WORK...")
    repo = sys.argv[1]
    env = dict(os.environ, GIT_AUTHOR_NAME="Ada Lovelace", GIT_AUTHOR_EMAIL="ada@example.org",
               GIT_COMMITTER_NAME="Ada Lovelace", GIT_COMMITTER_EMAIL="ada@example.org")
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    os.makedirs(os.path.join(repo, "bench"), exist_ok=True)
    for spec in sys.argv[2:]:
        name, shape, pct, commits, at, work = spec.split(":")
        pct, commits, at, work = float(pct), int(commits), int(at), float(work)
        if shape not in SHAPES or not 2 <= at <= commits:
            sys.exit("bisect_farm_repo.py: bad spec %r (shapes: %s; 2 <= AT <= COMMITS)"
                     % (spec, ", ".join(SHAPES)))
        git(repo, "checkout", "-q", "--orphan", name, env=env)
        n = int(SHAPES[shape][0] * work)
        hashes = []
        for i in range(1, commits + 1):
            subject = "%s: change %d" % (name, i)
            if i == at:
                n = int(round(n * (100 + pct) / 100))
                subject += ": hot() does %g%% more work" % pct
            with open(os.path.join(repo, "bench", "lib.py"), "w") as f:
                f.write(lib_py(shape, n, work, "%s commit %d" % (name, i)))
            with open(os.path.join(repo, "bench", "s.py"), "w") as f:
                f.write(SCRIPT)
            git(repo, "add", "-A", env=env)
            date = "2026-11-01T%02d:%02d:00Z" % (i // 60 % 24, i % 60)
            e = dict(env, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
            git(repo, "commit", "-q", "-m", subject, env=e)
            hashes.append(git(repo, "rev-parse", "HEAD"))
        print(name, hashes[0], hashes[-1], hashes[at - 1])


if __name__ == "__main__":
    main()
