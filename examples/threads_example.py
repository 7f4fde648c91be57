"""threads_example.py - CPU work split over threads, plus one thread that waits.

Shows per-thread profiles: three "cruncher" threads compete for the GIL doing
pure-Python arithmetic (so they run no faster than one thread would), and a
"poller" thread sleeps most of the time. Not deterministic (thread scheduling),
so it is not used to compare call counts with cProfile.
"""
import threading


def crunch(n, results, index):
    total = 0
    for i in range(n):
        total += i % 13
    results[index] = total


def poller(stop):
    polls = 0
    while not stop.wait(0.05):
        polls += 1
    return polls


def main():
    results = [0] * 3
    stop = threading.Event()
    workers = [threading.Thread(target=crunch, args=(3_000_000, results, i), name=f"cruncher-{i}")
               for i in range(3)]
    waiter = threading.Thread(target=poller, args=(stop,), name="poller")
    waiter.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    waiter.join()
    print(f"{len(workers)} threads computed {sum(results)}")


if __name__ == "__main__":
    main()
