"""string_concat.py - building a long string with += in a loop.

Triggers the "string concatenation in a loop" suggestion. Report.add() grows
self.text with += once per line; CPython can only extend a string in place when
it is held by a single local variable, so each += on an attribute copies the
whole text so far and building it is quadratic. Collecting the parts in a list
and calling "".join(parts) once is linear (see joined()).
"""


class Report:
    def __init__(self):
        self.text = ""

    def add(self, line):
        self.text += line + "\n"


def build_report(n):
    report = Report()
    for i in range(n):
        report.add(f"line {i}: value={i * 7 % 13}")
    return report.text


def joined(n):
    return "".join(f"line {i}: value={i * 7 % 13}\n" for i in range(n))


if __name__ == "__main__":
    n = 6_000
    print(f"+= built {len(build_report(n))} characters")
    print(f"join built {len(joined(n))} characters")
