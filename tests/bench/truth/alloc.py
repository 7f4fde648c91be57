"""alloc.py - allocation-heavy: build_objects() makes and drops many small objects."""
from knob import factor


class Node:
    __slots__ = ("key", "value", "children")

    def __init__(self, key, value):
        self.key = key
        self.value = value
        self.children = []


def build_objects(n):
    roots = []
    for i in range(int(n * factor("build_objects"))):
        node = Node(i, {"i": i, "s": str(i)})
        node.children.append((i, i + 1))
        roots.append(node)
        if len(roots) > 5000:
            roots = roots[2500:]
    return len(roots)


def summarize(n):
    return sorted(str(i) for i in range(int(n * factor("summarize"))))[0]


if __name__ == "__main__":
    print(build_objects(250_000), summarize(30_000))
