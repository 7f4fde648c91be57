"""Benchmark workload: method calls, properties, generators and comprehensions."""


class Shape:
    def area(self):
        raise NotImplementedError

    @property
    def label(self):
        return type(self).__name__.lower()


class Rect(Shape):
    def __init__(self, w, h):
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3.14159 * self.r * self.r


def shapes(n):
    for i in range(n):
        yield Rect(i % 10 + 1, i % 7 + 1) if i % 2 else Circle(i % 5 + 1)


def summarize(n):
    by_label = {}
    for s in shapes(n):
        by_label[s.label] = by_label.get(s.label, 0.0) + s.area()
    big = [s.area() for s in shapes(n // 2) if s.area() > 20]
    return by_label, len(big)


if __name__ == "__main__":
    print(summarize(1_400_000))
