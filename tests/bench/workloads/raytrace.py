"""Benchmark workload: a ray tracer (pyperformance's raytrace in spirit): vector
objects with operator methods, spheres and a plane, a point light, shadows and
one level of reflection, rendering a small image."""
import math


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def scale(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def norm(self):
        return self.scale(1.0 / math.sqrt(self.dot(self)))


class Ray:
    def __init__(self, origin, direction):
        self.origin = origin
        self.direction = direction.norm()

    def at(self, t):
        return self.origin + self.direction.scale(t)


class Sphere:
    def __init__(self, center, radius, colour, shine):
        self.center, self.radius, self.colour, self.shine = center, radius, colour, shine

    def hit(self, ray):
        oc = ray.origin - self.center
        b = oc.dot(ray.direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0:
            return None
        t = -b - math.sqrt(disc)
        return t if t > 1e-6 else None

    def normal(self, p):
        return (p - self.center).norm()


class Plane:
    def __init__(self, point, normal_vec, colour, shine):
        self.point, self.n, self.colour, self.shine = point, normal_vec.norm(), colour, shine

    def hit(self, ray):
        d = ray.direction.dot(self.n)
        if abs(d) < 1e-9:
            return None
        t = (self.point - ray.origin).dot(self.n) / d
        return t if t > 1e-6 else None

    def normal(self, p):
        return self.n


class Scene:
    def __init__(self):
        self.objects = [
            Sphere(Vec(0.0, 1.0, 5.0), 1.0, Vec(0.9, 0.2, 0.2), 0.3),
            Sphere(Vec(-2.0, 0.6, 6.0), 0.6, Vec(0.2, 0.9, 0.2), 0.5),
            Sphere(Vec(2.0, 0.8, 4.5), 0.8, Vec(0.2, 0.2, 0.9), 0.1),
            Plane(Vec(0.0, 0.0, 0.0), Vec(0.0, 1.0, 0.0), Vec(0.8, 0.8, 0.8), 0.2),
        ]
        self.light = Vec(-5.0, 8.0, -3.0)

    def closest(self, ray):
        best, best_t = None, float("inf")
        for obj in self.objects:
            t = obj.hit(ray)
            if t is not None and t < best_t:
                best, best_t = obj, t
        return best, best_t

    def trace(self, ray, depth):
        obj, t = self.closest(ray)
        if obj is None:
            return Vec(0.1, 0.1, 0.15)
        p = ray.at(t)
        n = obj.normal(p)
        to_light = (self.light - p).norm()
        shadow, _ = self.closest(Ray(p, to_light))
        diffuse = 0.0 if shadow is not None else max(0.0, n.dot(to_light))
        colour = obj.colour.scale(0.1 + 0.9 * diffuse)
        if depth > 0 and obj.shine > 0:
            reflected = ray.direction - n.scale(2 * ray.direction.dot(n))
            colour = colour.scale(1 - obj.shine) + \
                self.trace(Ray(p, reflected), depth - 1).scale(obj.shine)
        return colour


def render(width, height):
    scene = Scene()
    eye = Vec(0.0, 1.5, -2.0)
    total = 0.0
    for j in range(height):
        for i in range(width):
            d = Vec((i - width / 2) / width, (height / 2 - j) / height, 1.0)
            c = scene.trace(Ray(eye, d), 2)
            total += c.x + c.y + c.z
    return total


def main():
    print("%.6f" % render(240, 170))


if __name__ == "__main__":
    main()
