"""Recursive functions for the suggestion rules' tests (tests/unit/test_suggest.c)."""
from dataclasses import dataclass


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@dataclass
class Node:
    val: int
    next: "Node" = None


def total(node):
    if node is None:
        return 0
    return node.val + total(node.next)


def perms(prefix, rest):
    if not rest:
        return 1
    return sum(perms(prefix + [x], rest[:i] + rest[i + 1:]) for i, x in enumerate(rest))


def add(a, b):
    return a + b


def count(rows, n):
    if n < 2:
        return 1
    return count(tuple(rows), n - 1) + count(tuple(rows), n - 2)


def walk(cells, n):
    if n < 2:
        return 1
    return walk(tuple([n - 1, "a"]), n - 1) + walk(tuple(range(n)), n - 2)
