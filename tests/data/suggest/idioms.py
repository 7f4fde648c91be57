# Fixture for test_pysource and test_suggest: functions with and without slow idioms.
# Line numbers matter: the tests name them. Append new cases at the end.
import re
import functools

PATTERN = re.compile(r"\d+")            # line 6: module level, not in a loop


def compile_in_loop(lines):            # line 9
    out = []
    for line in lines:
        pat = re.compile(r"(\w+)=(\d+)")    # line 12: flagged
        m = pat.match(line)
        if m:
            out.append(m.group(1))
    return out


def literal_pattern_in_loop(lines):    # line 19
    n = 0
    i = 0
    while i < len(lines):
        if re.search("err(or)?", lines[i]):   # line 23: flagged (literal pattern)
            n += 1
        if re.search(PATTERN, lines[i]):      # not flagged: a compiled pattern
            n += 1
        i += 1
    return n


@functools.lru_cache(maxsize=None)
@some_decorator(
    "with (brackets)",
)
def concat_in_loop(items):             # line 35 (first line 31 is the decorator)
    s = ""
    total = 0
    for it in items:
        total += 1                        # not flagged: a number
        s += str(it)                      # line 40: flagged
        s += ", "                         # line 41: flagged
    text = """
    for x in y:
        s += "not code"
    """
    return s + text


def clean(items):                      # line 49: nothing to report
    parts = []
    pat = re.compile("x")                 # outside the loop
    for it in items:
        parts.append(str(it))             # the right way
        # s += "comment only"
        msg = "re.compile(x) in a string"
        parts += [msg]                     # a list, not a string
    return "".join(parts)


async def nested(data, pats):          # line 60
    async for chunk in data:
        def helper(x):                    # a nested def resets the loop context
            return re.compile(x)          # line 63: not flagged
        for p in pats: acc += f"{p}"     # line 64: one-line body, flagged if acc is a string
        while re.match(r"^\s", chunk):    # line 65: the condition runs each iteration
            chunk = chunk[1:]
    acc = ""


class Builder:                         # line 70
    def build(self, rows):             # line 71
        self.buf = ''
        for row in rows:
            self.buf += \
                row                       # line 74-75: flagged (backslash continuation)
        return [re.sub("a", "b", r) for r in rows]  # comprehension: not flagged


def tabs_and_crlf(rows):               # line 79
	out = ""
	for r in rows:
		out += r                           # line 82: flagged
	return out


for i in range(3):                     # line 86: module level loop
    x = re.findall(r"\w", "abc")       # line 87: flagged in <module> scans
