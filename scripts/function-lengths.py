#!/usr/bin/env python3
"""function-lengths.py - product C functions longer than docs/STYLE.md allows.

Usage: function-lengths.py [--max N] [--allow FILE] [--all] [ROOT]

Reads the C files of the programs and lib/ (agent/, cli/, coordinator/, lib/; not tests/)
below ROOT (default: this checkout) and prints one line per function whose body is longer
than N lines (default 100), longest first: "LINES PATH:LINE NAME".

--allow FILE names the functions that may stay longer, one a line:
    PATH NAME CEILING REASON...
(# starts a comment). Such a function may not grow past CEILING lines. With --allow the
output lists only what breaks the list: a function over N lines that is not on it, one
over its ceiling, and an entry whose function is gone or now short enough (take it off, so
the list only shrinks), and a listed function whose comment (the 10 lines above it) does
not say "kept whole" and why. Exit status: 1 when anything is listed, else 0. --all lists
every function over N lines, allowed or not, and exits 0.

A function is what clang-format leaves of one (.clang-format): its body opens with a "{"
alone at the start of a line and closes with a "}" at the start of a line; the count is the
lines between the two.
"""
import argparse
import os
import re
import subprocess
import sys

PRODUCT = ("agent/", "cli/", "coordinator/", "lib/")


def c_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "*.c"], capture_output=True,
                             text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for d, _, names in os.walk(root):
            rel = os.path.relpath(d, root)
            out += [os.path.normpath(os.path.join(rel, n)) for n in names if n.endswith(".c")]
    return sorted(f for f in out if f.startswith(PRODUCT))


def says_kept_whole(path, line):
    """Whether the 10 lines above line (1-based, a function's first) say "kept whole"."""
    lines = open(path, errors="replace").read().split("\n")
    return "kept whole" in " ".join(lines[max(0, line - 11):line - 1])


def functions(path):
    """(name, first line, body lines) of each function in path."""
    lines = open(path, errors="replace").read().split("\n")
    found, start = [], None
    for i, line in enumerate(lines):
        if line.startswith("{"):
            sig, j = "", i - 1
            while j >= 0 and lines[j].strip() and not lines[j].startswith(("}", "#")):
                sig = lines[j] + " " + sig
                if re.match(r"[A-Za-z_]", lines[j]):
                    break
                j -= 1
            names = re.findall(r"(\w+)\s*\(", sig)
            start = (names[0] if names else "?", j + 1, i)
        elif line.startswith("}") and start and not line.startswith("};"):
            found.append((start[0], start[1], i - start[2] - 1))
            start = None
    return found


def read_allow(path):
    allow = {}
    for n, line in enumerate(open(path), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 3)
        if len(parts) < 4 or not parts[2].isdigit():
            sys.exit(f"{path}:{n}: expected PATH NAME CEILING REASON")
        allow[(parts[0], parts[1])] = int(parts[2])
    return allow


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=int, default=100)
    ap.add_argument("--allow")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    a = ap.parse_args()
    long_ones = []
    for f in c_files(a.root):
        for name, line, n in functions(os.path.join(a.root, f)):
            if n > a.max:
                long_ones.append((n, f, line, name))
    long_ones.sort(key=lambda x: (-x[0], x[1], x[2]))
    if a.all or not a.allow:
        for n, f, line, name in long_ones:
            print(f"{n:4d} {f}:{line} {name}")
        return 0
    allow = read_allow(a.allow)
    bad = []
    seen = set()
    for n, f, line, name in long_ones:
        ceiling = allow.get((f, name))
        seen.add((f, name))
        if ceiling is None:
            bad.append(f"{f}:{line}: {name} has {n} lines (at most {a.max}: split it into "
                       f"functions that each do one job, docs/STYLE.md)")
        elif n > ceiling:
            bad.append(f"{f}:{line}: {name} has {n} lines, more than its ceiling of {ceiling} "
                       f"in {os.path.basename(a.allow)}: it may not grow")
        elif not says_kept_whole(os.path.join(a.root, f), line):
            bad.append(f"{f}:{line}: {name} is listed in {os.path.basename(a.allow)} but its "
                       f"comment does not say why: write \"Longer than {a.max} lines, kept "
                       f"whole: REASON\" above it")
    for f, name in sorted(set(allow) - seen):
        bad.append(f"{os.path.basename(a.allow)}: {f} {name} is no longer over {a.max} lines "
                   f"(or is gone): take it off the list")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
