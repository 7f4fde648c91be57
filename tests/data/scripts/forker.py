"""forker.py - fork a child that does some work and exits 3; the parent reports it."""
import os
import sys


def child_work():
    return sum(i * i for i in range(20000))


sys.stdout.flush()
pid = os.fork()
if pid == 0:
    print("child computed %d" % child_work(), flush=True)
    os._exit(3)
_, status = os.waitpid(pid, 0)
print("parent saw child exit %d" % os.waitstatus_to_exitcode(status))
