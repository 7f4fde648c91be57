"""Benchmark workload: an n-body simulation (the five outer planets and the sun,
float arithmetic on small lists, as pyperformance's nbody)."""

PI = 3.141592653589793
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


def make_bodies():
    # [x, y, z], [vx, vy, vz], mass; values approximate the real system.
    raw = [
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0),
        ((4.84, -1.16, -0.10), (0.00166, 0.00770, -0.0000690), 0.000954),
        ((8.34, 4.12, -0.40), (-0.00277, 0.00500, 0.0000230), 0.000286),
        ((12.89, -15.11, -0.22), (0.00296, 0.00237, -0.0000296), 0.0000437),
        ((15.38, -25.92, 0.18), (0.00268, 0.00163, -0.0000951), 0.0000515),
    ]
    bodies = []
    for pos, vel, mass in raw:
        bodies.append(([pos[0], pos[1], pos[2]],
                       [v * DAYS_PER_YEAR for v in vel],
                       mass * SOLAR_MASS))
    return bodies


def pairs_of(bodies):
    return [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]


def offset_momentum(bodies):
    px = py = pz = 0.0
    for _, v, m in bodies:
        px -= v[0] * m
        py -= v[1] * m
        pz -= v[2] * m
    sun_v = bodies[0][1]
    sun_v[0], sun_v[1], sun_v[2] = px / SOLAR_MASS, py / SOLAR_MASS, pz / SOLAR_MASS


def advance(bodies, pairs, dt, steps):
    for _ in range(steps):
        for (p1, v1, m1), (p2, v2, m2) in pairs:
            dx = p1[0] - p2[0]
            dy = p1[1] - p2[1]
            dz = p1[2] - p2[2]
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1 = m1 * mag
            b2 = m2 * mag
            v1[0] -= dx * b2
            v1[1] -= dy * b2
            v1[2] -= dz * b2
            v2[0] += dx * b1
            v2[1] += dy * b1
            v2[2] += dz * b1
        for p, v, _ in bodies:
            p[0] += dt * v[0]
            p[1] += dt * v[1]
            p[2] += dt * v[2]


def energy(bodies, pairs):
    e = 0.0
    for (p1, _, m1), (p2, _, m2) in pairs:
        dx, dy, dz = p1[0] - p2[0], p1[1] - p2[1], p1[2] - p2[2]
        e -= m1 * m2 / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    for _, v, m in bodies:
        e += m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) / 2.0
    return e


def main():
    bodies = make_bodies()
    pairs = pairs_of(bodies)
    offset_momentum(bodies)
    before = energy(bodies, pairs)
    for _ in range(10):
        advance(bodies, pairs, 0.01, 10000)
    print("%.9f %.9f" % (before, energy(bodies, pairs)))


if __name__ == "__main__":
    main()
