"""Benchmark workload: the chaos game (pyperformance's chaos in spirit): points
thrown through randomly chosen affine maps of an iterated function system (a
Barnsley fern and a Sierpinski triangle), drawn on a small grid; seeded, so
the picture is the same every run."""
import random


class AffineMap:
    def __init__(self, a, b, c, d, e, f, weight):
        self.a, self.b, self.c, self.d, self.e, self.f = a, b, c, d, e, f
        self.weight = weight

    def apply(self, point):
        x, y = point
        return (self.a * x + self.b * y + self.e, self.c * x + self.d * y + self.f)


class IFS:
    def __init__(self, maps):
        self.maps = maps
        total = sum(m.weight for m in maps)
        acc = 0.0
        self.cumulative = []
        for m in maps:
            acc += m.weight / total
            self.cumulative.append(acc)

    def choose(self, rng):
        r = rng.random()
        for m, edge in zip(self.maps, self.cumulative):
            if r <= edge:
                return m
        return self.maps[-1]


class Canvas:
    def __init__(self, width, height, bounds):
        self.width, self.height = width, height
        self.xmin, self.xmax, self.ymin, self.ymax = bounds
        self.cells = [[0] * width for _ in range(height)]

    def plot(self, point):
        x, y = point
        i = int((x - self.xmin) / (self.xmax - self.xmin) * (self.width - 1))
        j = int((y - self.ymin) / (self.ymax - self.ymin) * (self.height - 1))
        if 0 <= i < self.width and 0 <= j < self.height:
            self.cells[j][i] += 1

    def coverage(self):
        return sum(1 for row in self.cells for v in row if v)


def play(ifs, canvas, points, rng):
    p = (0.0, 0.0)
    for n in range(points):
        p = ifs.choose(rng).apply(p)
        if n > 20:
            canvas.plot(p)


def main():
    rng = random.Random(1234)
    fern = IFS([AffineMap(0.0, 0.0, 0.0, 0.16, 0.0, 0.0, 1),
                AffineMap(0.85, 0.04, -0.04, 0.85, 0.0, 1.6, 85),
                AffineMap(0.2, -0.26, 0.23, 0.22, 0.0, 1.6, 7),
                AffineMap(-0.15, 0.28, 0.26, 0.24, 0.0, 0.44, 7)])
    tri = IFS([AffineMap(0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 1),
               AffineMap(0.5, 0.0, 0.0, 0.5, 0.5, 0.0, 1),
               AffineMap(0.5, 0.0, 0.0, 0.5, 0.25, 0.5, 1)])
    c1 = Canvas(120, 200, (-2.5, 2.8, 0.0, 10.0))
    c2 = Canvas(160, 140, (0.0, 1.0, 0.0, 1.0))
    play(fern, c1, 220000, rng)
    play(tri, c2, 220000, rng)
    print(c1.coverage(), c2.coverage())


if __name__ == "__main__":
    main()
