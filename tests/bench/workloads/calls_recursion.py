"""Benchmark workload: call-heavy recursion (naive fib and a binary-tree walk)."""


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Node:
    def __init__(self, left, right, value):
        self.left = left
        self.right = right
        self.value = value


def build(depth, value=0):
    if depth == 0:
        return Node(None, None, value)
    return Node(build(depth - 1, 2 * value), build(depth - 1, 2 * value + 1), value)


def total(node):
    if node is None:
        return 0
    return node.value + total(node.left) + total(node.right)


if __name__ == "__main__":
    print(fib(30))
    tree = build(16)
    print(sum(total(tree) for _ in range(3)))
