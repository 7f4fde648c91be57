"""pool.py - multi-threaded: a producer fills a queue, four consume() threads hash its items."""
import queue
import threading
import zlib

from knob import factor


def consume(q, out, k):
    total = 0
    while True:
        item = q.get()
        if item is None:
            break
        for _ in range(int(40 * factor("consume"))):
            total = zlib.crc32(item, total) ^ (total >> 3)
    out[k] = total


def produce(q, n, workers):
    for i in range(n):
        q.put(str(i).encode() * 4)
    for _ in range(workers):
        q.put(None)


def main():
    q, out = queue.Queue(maxsize=256), [0] * 4
    ts = [threading.Thread(target=consume, args=(q, out, k)) for k in range(4)]
    for t in ts:
        t.start()
    produce(q, 8_000, len(ts))
    for t in ts:
        t.join()
    return sum(out) & 0xFFFF


if __name__ == "__main__":
    print(main())
