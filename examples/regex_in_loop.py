"""regex_in_loop.py - re.compile() called inside a hot loop.

Triggers the "regex compiled in a loop" suggestion: count_errors() calls
re.compile() for every line. The re module caches compiled patterns, so each call
is "only" a cache lookup through re._compile(), but that is still a few Python
calls per line. Compiling once, outside the loop (count_errors_hoisted()), avoids
them.
"""
import re

LINES = [
    f"2026-11-24 08:{i % 60:02d}:{i % 59:02d} {'ERROR' if i % 7 == 0 else 'INFO'} "
    f"worker-{i % 5} request {i} took {i % 250} ms"
    for i in range(100_000)
]


def count_errors(lines):
    count = 0
    for line in lines:
        pattern = re.compile(r"\b(ERROR|CRITICAL)\b.*took (\d+) ms")
        if pattern.search(line):
            count += 1
    return count


def count_errors_hoisted(lines):
    pattern = re.compile(r"\b(ERROR|CRITICAL)\b.*took (\d+) ms")
    count = 0
    for line in lines:
        if pattern.search(line):
            count += 1
    return count


if __name__ == "__main__":
    print(f"errors (compile in loop): {count_errors(LINES)}")
    print(f"errors (compiled once):   {count_errors_hoisted(LINES)}")
