"""memory_growth.py - memory that keeps growing: a cache that is never trimmed.

Triggers the "memory growth" suggestion: the resident set grows steadily to
about 130 MB over a second, because remember() keeps every record it is given.
A bounded cache (functools.lru_cache(maxsize=...), or dropping old entries)
keeps memory flat.
"""
import time

CACHE = {}


def make_record(i):
    return {"id": i, "name": f"item-{i}", "payload": bytes(1000), "tags": [i, i + 1]}


def remember(i):
    CACHE[i] = make_record(i)


def main():
    for step in range(15):
        for i in range(step * 6000, (step + 1) * 6000):
            remember(i)
        time.sleep(0.03)  # let a memory timeline see the growth
    print(f"cached {len(CACHE)} records")


if __name__ == "__main__":
    main()
