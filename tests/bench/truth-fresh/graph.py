"""graph.py - allocation-heavy: build_graph() makes a graph of dicts and lists, walk() reads it."""
from collections import deque

from knob import factor


def build_graph(n):
    # a slowdown here builds nodes again (the last build of a node wins), never a larger
    # graph: a larger one would slow walk() too, and the "why" would rightly name it
    nodes = {}
    for k in range(int(n * factor("build_graph"))):
        i = k % n
        nodes[i] = {"id": i, "label": f"n{i}", "edges": [(i * 7 + 3) % n, (i * 13 + 5) % n]}
    return nodes


def walk(nodes, start=0):
    seen, todo = {start}, deque([start])
    for _ in range(int(len(nodes) * factor("walk"))):
        if not todo:
            break
        for e in nodes[todo.popleft()]["edges"]:
            if e not in seen:
                seen.add(e)
                todo.append(e)
    return len(seen)


if __name__ == "__main__":
    print(walk(build_graph(120_000)))
