"""spin_forever.py PIDFILE - fork a sleeping child, write both pids to PIDFILE, spin forever."""
import os
import sys
import time

child = os.fork()
if child == 0:
    while True:
        time.sleep(1)
with open(sys.argv[1], "w") as f:
    f.write("%d %d\n" % (os.getpid(), child))
n = 0
while True:
    n += 1
