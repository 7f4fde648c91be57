"""Benchmark workload: several threads doing pure-Python work (GIL-bound) plus a sleeper."""
import threading


def work(n, out, idx):
    acc = 0
    data = list(range(1000))
    for i in range(n):
        acc += sum(data[i % 10::97]) + (i * i) % 11
    out[idx] = acc


def sleeper(stop):
    ticks = 0
    while not stop.wait(0.01):
        ticks += 1


if __name__ == "__main__":
    out = [0] * 4
    stop = threading.Event()
    s = threading.Thread(target=sleeper, args=(stop,))
    s.start()
    ts = [threading.Thread(target=work, args=(1_000_000, out, i)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    stop.set()
    s.join()
    print(sum(out))
