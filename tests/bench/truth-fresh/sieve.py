"""sieve.py - CPU-bound: sieve() marks composites in a bytearray, report() formats a little."""
from knob import factor


def sieve(n):
    n = int(n * factor("sieve"))
    marks = bytearray(n + 1)
    count = 0
    for i in range(2, n + 1):
        if not marks[i]:
            count += 1
            for j in range(i * i, n + 1, i):
                marks[j] = 1
    return count


def report(count):
    return ", ".join(f"{k}:{count % (k + 7)}" for k in range(int(2000 * factor("report"))))[:40]


if __name__ == "__main__":
    print(report(sieve(1_200_000)))
