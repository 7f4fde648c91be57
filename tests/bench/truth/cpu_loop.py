"""cpu_loop.py - CPU-bound: integer arithmetic in crunch(), a little in tidy()."""
from knob import factor


def crunch(n):
    total = 0
    for i in range(int(n * factor("crunch"))):
        total += (i * i) % 7
    return total


def tidy(n):
    return sum(range(int(n * factor("tidy"))))


if __name__ == "__main__":
    print(crunch(4_000_000) + tidy(400_000))
