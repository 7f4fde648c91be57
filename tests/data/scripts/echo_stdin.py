"""echo_stdin.py - copy stdin to stdout (upper-cased, numbered) and a note to stderr."""
import sys

count = 0
for count, line in enumerate(sys.stdin, 1):
    sys.stdout.write("%d: %s" % (count, line.upper()))
sys.stdout.flush()
print("read %d lines" % count, file=sys.stderr)
sys.stdout.buffer.write(b"bytes \xc3\xa9 \xff done\n")
