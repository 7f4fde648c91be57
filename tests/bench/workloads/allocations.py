"""Benchmark workload: many small allocations (objects, tuples, dicts, lists) and gc."""
import gc


class Particle:
    __slots__ = ("x", "y", "vx", "vy")

    def __init__(self, x, y, vx, vy):
        self.x, self.y, self.vx, self.vy = x, y, vx, vy


class Cell:
    def __init__(self, key):
        self.key = key
        self.items = []
        self.meta = {"key": key, "seen": 0}


def churn(n):
    alive = []
    for i in range(n):
        p = Particle(float(i), float(-i), (i % 7) * 0.1, (i % 3) * 0.2)
        alive.append((p, [i, i + 1], {"i": i}))
        if len(alive) > 5000:
            alive = alive[2500:]
    return len(alive)


def grid(n):
    cells = {}
    for i in range(n):
        key = (i % 300, (i // 300) % 50)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Cell(key)
        cell.items.append(str(i))
        cell.meta["seen"] += 1
    return len(cells)


if __name__ == "__main__":
    print(churn(800_000))
    print(grid(800_000))
    print(gc.collect() >= 0)
