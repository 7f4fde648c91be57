"""Benchmark workload: numeric loops (Mandelbrot set, a small matrix product)."""


def mandelbrot(width, height, max_iter):
    inside = 0
    for y in range(height):
        ci = (y / height) * 2.4 - 1.2
        for x in range(width):
            cr = (x / width) * 3.0 - 2.1
            zr = zi = 0.0
            for _ in range(max_iter):
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                if zr * zr + zi * zi > 4.0:
                    break
            else:
                inside += 1
    return inside


def matmul(a, b):
    n, m, p = len(a), len(b), len(b[0])
    out = [[0.0] * p for _ in range(n)]
    for i in range(n):
        row, ai = out[i], a[i]
        for k in range(m):
            aik, bk = ai[k], b[k]
            for j in range(p):
                row[j] += aik * bk[j]
    return out


if __name__ == "__main__":
    print(mandelbrot(560, 420, 100))
    a = [[(i * j) % 7 / 7.0 for j in range(120)] for i in range(120)]
    print(round(sum(map(sum, matmul(a, a))), 3))
