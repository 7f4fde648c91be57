"""threads.py - multi-threaded: three worker() threads share the GIL, main waits."""
import threading

from knob import factor


def worker(n, out, k):
    total = 0
    for i in range(int(n * factor("worker"))):
        total += i % 13
    out[k] = total


def main():
    out = [0, 0, 0]
    ts = [threading.Thread(target=worker, args=(1_000_000, out, k)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(out)


if __name__ == "__main__":
    print(main())
