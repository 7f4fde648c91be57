"""matrix.py - a longer script: matmul() multiplies lists of lists, transpose() helps it."""
from knob import factor


def transpose(m):
    return [list(col) for col in zip(*m)]


def matmul(a, b, rounds):
    bt = transpose(b)
    c = a
    for _ in range(int(rounds * factor("matmul"))):
        c = [[sum(x * y for x, y in zip(row, col)) % 1009 for col in bt] for row in c]
    return c[0][0]


if __name__ == "__main__":
    n = 60
    a = [[(i * n + j) % 17 for j in range(n)] for i in range(n)]
    print(matmul(a, a, 40))
