"""threads_work.py - two worker threads spend ~0.4 s each on the CPU in worker_spin()."""
import threading
import time


def worker_spin(seconds):
    end = time.process_time() + seconds  # CPU time of the process, both workers count
    n = 0
    while time.process_time() < end:
        n += sum(range(200))
    return n


def run(results, i):
    results[i] = worker_spin(0.8)


results = [0, 0]
threads = [threading.Thread(target=run, args=(results, i), name="worker-%d" % i) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("workers done", all(results))
