"""short.py - a short script: tiny() is ~50 ms of work after interpreter start-up."""
from knob import factor


def tiny(n):
    return sum(i * 3 for i in range(int(n * factor("tiny"))))


if __name__ == "__main__":
    print(tiny(400_000))
