"""queue_pool.py - four worker threads take numbers from a queue the main thread fills and sum
them under a lock: five Python threads, whose GIL hand-offs depend on timing, so the script's
instruction counts under valgrind vary with the machine's load (test_instr_threads.sh,
test_instr_farm_threads.sh). N items (argv[1], default 600)."""
import queue
import sys
import threading

q, lock, totals = queue.Queue(maxsize=64), threading.Lock(), []


def work():
    mine = 0
    while (n := q.get()) is not None:
        mine += sum(i * i % 7 for i in range(n % 50 + 20))
    with lock:
        totals.append(mine)


workers = [threading.Thread(target=work) for _ in range(4)]
for w in workers:
    w.start()
for n in range(int(sys.argv[1]) if len(sys.argv) > 1 else 600):
    q.put(n)
for _ in workers:
    q.put(None)
for w in workers:
    w.join()
print(sum(totals))
