"""Benchmark workload: string building, splitting, formatting and regular expressions."""
import re

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
LOG = re.compile(r"(?P<level>INFO|WARN|ERROR) (?P<who>\w+)-(?P<n>\d+): (?P<msg>.*)")


def make_lines(n):
    return [f"{('INFO', 'WARN', 'ERROR')[i % 3]} {WORDS[i % len(WORDS)]}-{i}: "
            f"{' '.join(WORDS[(i + k) % len(WORDS)] for k in range(6))}" for i in range(n)]


def analyse(lines):
    counts = {}
    for line in lines:
        m = LOG.match(line)
        if not m:
            continue
        key = (m["level"], m["who"])
        counts[key] = counts.get(key, 0) + len(m["msg"].split())
    return counts


def rewrite(lines):
    out = []
    for line in lines:
        line = re.sub(r"\d+", lambda m: str(int(m.group()) * 2), line)
        out.append(line.upper().replace("ALPHA", "A").strip())
    return "\n".join(out)


if __name__ == "__main__":
    lines = make_lines(50_000)
    for _ in range(5):
        print(len(analyse(lines)), len(rewrite(lines)))
