"""behave.py MODE - end the way MODE says; used to compare exit paths with plain python.

MODES: ok, exit5, exitmsg, raise, os_exit7, kill9, nested_raise, sigint_wait
"""
import os
import sys
import time


def inner(n):
    if n == 0:
        raise ValueError("boom %d" % 42)
    inner(n - 1)


def main(mode):
    print("mode %s" % mode, flush=True)
    print("to stderr", file=sys.stderr, flush=True)
    if mode == "ok":
        return
    if mode == "exit5":
        sys.exit(5)
    if mode == "exitmsg":
        sys.exit("fatal: something went wrong")
    if mode == "raise":
        raise RuntimeError("uncaught in main")
    if mode == "nested_raise":
        try:
            inner(3)
        except ValueError as e:
            raise KeyError("while handling") from e
    if mode == "os_exit7":
        print("buffered, never flushed", end="")
        os._exit(7)
    if mode == "kill9":
        os.kill(os.getpid(), 9)
        time.sleep(10)
    if mode == "sigint_wait":
        print("ready", flush=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.05)
        print("no SIGINT arrived", flush=True)
        sys.exit(9)
    sys.exit("behave.py: unknown mode %r" % mode)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ok")
