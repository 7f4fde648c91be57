"""tokens.py - a short script: tokenize() splits ~40 ms of text with a regular expression."""
import re

from knob import factor

WORD = re.compile(r"[A-Za-z_]+|\d+|\S")


def tokenize(text, times):
    return sum(len(WORD.findall(text)) for _ in range(int(times * factor("tokenize"))))


if __name__ == "__main__":
    print(tokenize("def f(x): return x * 42 + g(y, 'z')  # note\n" * 40, 60))
