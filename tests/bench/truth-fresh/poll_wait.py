"""poll_wait.py - waiting in many short waits: poll_device() selects on a pipe that stays
silent (40 waits of 10 ms), decode() computes a little."""
import os
import select

from knob import factor


def poll_device(waits, seconds):
    r, w = os.pipe()
    try:
        for _ in range(int(waits * factor("poll_device"))):
            select.select([r], [], [], seconds)
    finally:
        os.close(r)
        os.close(w)


def decode(n):
    return sum(len(bytes(i % 251 for i in range(k % 64))) for k in range(int(n * factor("decode"))))


if __name__ == "__main__":
    poll_device(40, 0.01)
    print(decode(6_000))
