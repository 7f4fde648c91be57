"""identity/main.py - code objects that die during the run must not lend their
identity (their address) to code created later.

Run from a copy of this folder (it writes modules next to itself). Four ways
code objects come and go:
- 30 modules imported, each with import-time loops (its <module> code is
  freed after the import; half the loop is in _spin(), so a sampled stack
  shows which module runs) and a work_N() called once afterwards;
- exec() of 50 generated sources, each defining and calling gen_N();
- compile() + exec() of 20 more, each called 3 times;
- closures made and dropped in a loop (their function objects die; the
  code is the parent's constant and lives on).
Output is deterministic: the same under any profiler.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
N_MODULES = 30
# Loop lengths: the defaults keep a traced run short; sample mode needs
# longer ones for every function to be sampled.
SPIN = int(os.environ.get("IDENTITY_SPIN", "20000"))
IMPORT_SPIN = int(os.environ.get("IDENTITY_IMPORT_SPIN", "200"))


def write_modules():
    os.makedirs(os.path.join(HERE, "mods"), exist_ok=True)
    for k in range(N_MODULES):
        path = os.path.join(HERE, "mods", "m%d.py" % k)
        with open(path, "w") as f:
            f.write(
                "def _spin(n):\n"
                "    table = []\n"
                "    for i in range(n):\n"
                "        table.append(str(i %% 200) * (i %% 7))\n"
                "    return table\n"
                "\n"
                "TABLE = _spin(%d)\n"
                "for _i in range(%d):\n"
                "    TABLE[_i %% len(TABLE)] = str(_i %% 97)\n"
                "\n"
                "class Holder%d:\n"
                "    size = len(TABLE)\n"
                "\n"
                "def work_%d(n):\n"
                "    s = 0\n"
                "    for i in range(n):\n"
                "        s += i %% %d\n"
                "    return s\n" % (IMPORT_SPIN, IMPORT_SPIN, k, k, k + 3))


def run_modules():
    sys.path.insert(0, os.path.join(HERE, "mods"))
    mods = [__import__("m%d" % k) for k in range(N_MODULES)]
    total = 0
    for k, m in enumerate(mods):
        total += getattr(m, "work_%d" % k)(SPIN)
    return total


def run_exec():
    total = 0
    for k in range(50):
        src = "def gen_%d(x):\n    return x * %d + sum(range(%d))\nRESULT = gen_%d(3)\n" % (
            k, k, k % 11, k)
        ns = {}
        exec(src, ns)
        total += ns["RESULT"]
    return total


def run_compile():
    total = 0
    for k in range(20):
        code = compile("def comp_%d(a, b):\n    return a * b + %d\n" % (k, k), "<gen-%d>" % k,
                       "exec")
        ns = {}
        exec(code, ns)
        fn = ns["comp_%d" % k]
        for j in range(3):
            total += fn(j, k)
    return total


def make_adder(n):
    def adder(x):
        return x + n
    return adder


def make_scaler(n):
    return lambda x: x * n


def run_closures():
    total = 0
    for k in range(40):
        total += make_adder(k)(k)
        total += make_scaler(k)(2)
    return total


def main():
    write_modules()
    print(run_modules(), run_exec(), run_compile(), run_closures())


if __name__ == "__main__":
    main()
