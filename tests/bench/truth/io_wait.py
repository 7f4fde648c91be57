"""io_wait.py - mostly waiting: wait_io() sleeps, parse() computes a little."""
import time

from knob import factor


def wait_io(seconds):
    time.sleep(seconds * factor("wait_io"))


def parse(n):
    return sum(int(s) for s in (str(i) for i in range(int(n * factor("parse")))))


if __name__ == "__main__":
    wait_io(0.4)
    print(parse(300_000))
