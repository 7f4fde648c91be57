"""many_calls.py - a million calls of tiny functions inside a hot loop.

Triggers the "many cheap calls" suggestion: clamp() and scale() each do one
comparison or multiplication, so call overhead is most of their cost. Inlining
them into the loop (see inlined()) does the same work several times faster.
"""


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def scale(x):
    return x * 0.5


def through_calls(values):
    total = 0.0
    for v in values:
        total += clamp(scale(v), 10.0, 400.0)
    return total


def inlined(values):
    total = 0.0
    for v in values:
        x = v * 0.5
        total += 10.0 if x < 10.0 else 400.0 if x > 400.0 else x
    return total


if __name__ == "__main__":
    values = [i % 1000 for i in range(1_000_000)]
    print(f"through calls: {through_calls(values):.1f}")
    print(f"inlined:       {inlined(values):.1f}")
