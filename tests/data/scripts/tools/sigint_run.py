"""sigint_run.py OUT.json CMD... - run CMD in a new process group, wait until it prints
"ready", send SIGINT to the whole group (as a terminal's Ctrl-C does), and write
{"rc": returncode (negative = signal), "stdout": ..., "stderr": ..., "seconds": ...} to OUT.json.
"""
import json
import os
import signal
import subprocess
import sys
import time

out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
seen = b""
while b"ready" not in seen:
    chunk = p.stdout.readline()
    if not chunk:
        break
    seen += chunk
os.killpg(p.pid, signal.SIGINT)
try:
    rest, err = p.communicate(timeout=15)
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
    rest, err = p.communicate()
with open(out, "w", encoding="utf-8") as f:
    json.dump({"rc": p.returncode, "stdout": (seen + rest).decode("utf-8", "replace"),
               "stderr": err.decode("utf-8", "replace"), "seconds": time.monotonic() - t0}, f)
