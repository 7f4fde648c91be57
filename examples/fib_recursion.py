"""fib_recursion.py - deep, call-heavy recursion: naive Fibonacci.

Triggers the "deep recursion" and "many cheap calls" suggestions: fib() is called
about 1.6 million times for fib(30), each call doing almost nothing. The fix is
memoization (functools.lru_cache) or a loop; fib_memo() shows it.
Usage: fib_recursion.py [N]   (default 30)
"""
import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def fib_memo(n, memo=None):
    if memo is None:
        memo = {}
    if n < 2:
        return n
    if n not in memo:
        memo[n] = fib_memo(n - 1, memo) + fib_memo(n - 2, memo)
    return memo[n]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print(f"fib({n}) = {fib(n)} (naive)")
    print(f"fib({n}) = {fib_memo(n)} (memoized)")
