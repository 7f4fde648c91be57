"""long.py - a longer script: long_task() runs about half a second of string and list work."""
from knob import factor


def long_task(n):
    words = []
    for i in range(int(n * factor("long_task"))):
        words.append(f"w{i % 977}")
        if len(words) > 1000:
            words = [" ".join(words)[:50]]
    return len(words)


def helper(n):
    return max(range(int(n * factor("helper"))))


if __name__ == "__main__":
    print(long_task(3_000_000), helper(200_000))
