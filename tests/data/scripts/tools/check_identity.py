"""check_identity.py REPORT.json - sample-mode attribution of tests/data/scripts/identity/main.py.

Code objects freed during that run (each module's top-level code after its import)
must not lend their names to code created later at the same address. From the
sampled stacks of a pyscope.run/1 report:
- a module's <module> frame is only ever directly below the import machinery,
  and the module it names is the one whose _spin() it calls (with borrowed
  names, m0's <module> shows up calling m5's _spin, or as the caller of work_N);
- work_N is only ever called by main.py's run_modules, and is defined in mN.py;
- most modules (20 of 30: a loaded machine may starve the sampler for a whole
  import or a whole work_N) were seen running their own import-time code and
  their work_N, so the checks above had something to check.
A borrowed identity shows in every sample of the reused address: many stacks, a large
weight. Sample mode reads the stacks without stopping the script (as py-spy --nonblocking
does), so a stack read while the script moves on can, rarely, join frames of two moments
(CI at load 18: 1 stack, "m10's <module> calls m11's _spin"); stacks whose code objects
died during the read are dropped, not every tear can be seen. Up to 3 such stacks
weighing at most 0.5% of the samples are reported as torn reads, not failures.
Prints what it found; exits 1 on any failure.
"""
import json
import re
import sys

MOD = re.compile(r"/mods/m(\d+)\.py:(.*):\d+$")


def main(path):
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    errors = []
    bad_stacks, bad_weight, total_weight = 0, 0.0, 0.0
    own_import = set()
    works = set()
    for st in doc["profile"]["stacks"]:
        frames = st["frames"]
        weight = float(st.get("samples") or 0)
        total_weight += weight
        before = len(errors)
        for i, fr in enumerate(frames):
            m = MOD.search(fr)
            if not m:
                continue
            k, name = int(m.group(1)), m.group(2)
            caller = frames[i - 1] if i else ""
            callee = MOD.search(frames[i + 1]) if i + 1 < len(frames) else None
            if name == "<module>":
                if "importlib" not in caller:
                    errors.append("m%d's <module> called by %s" % (k, caller))
                if callee and callee.group(2) == "_spin":
                    if int(callee.group(1)) != k:
                        errors.append("m%d's <module> calls m%s's _spin"
                                      % (k, callee.group(1)))
                    else:
                        own_import.add(k)
            elif name.startswith("work_"):
                if name != "work_%d" % k:
                    errors.append("%s in m%d.py" % (name, k))
                if ":run_modules:" not in caller:
                    errors.append("%s called by %s" % (name, caller))
                works.add(k)
        if len(errors) > before:
            bad_stacks += 1
            bad_weight += weight
    torn = []
    if bad_stacks and bad_stacks <= 3 and bad_weight <= 0.005 * total_weight:
        torn, errors = errors, []
    # enough stacks seen for the checks above to mean something; a loaded machine gives
    # the sampler few chances at the short import code (11 of 30 seen in CI at load 3)
    if len(own_import) < 5:
        errors.append("only %d of 30 modules sampled in their own import code" % len(own_import))
    if len(works) < 5:
        errors.append("work_N sampled for %d of 30 modules" % len(works))
    print("%d modules seen importing, %d work_N sampled, %d errors%s"
          % (len(own_import), len(works), len(errors),
             ", %d torn read(s): %g of %g samples" % (bad_stacks, bad_weight, total_weight)
             if torn else ""))
    for e in (errors or torn)[:20]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
