"""env_diff.py PLAIN.out PYSCOPE.out - the differences between what show_env.py saw under
plain python and under pyscope-run, in its "same" part (one line per key that differs;
nothing when the two saw the same world)."""
import json
import sys

try:
    a = json.load(open(sys.argv[1]))["same"]
    b = json.load(open(sys.argv[2]))["same"]
except Exception as e:  # the script failed, or wrote something else
    print("unreadable output: %s" % e)
    sys.exit()
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print("%s: python %r, pyscope-run %r" % (k, a.get(k), b.get(k)))
