"""jeval.py FILE EXPR - print a Python expression evaluated over a JSON file (bound to d).

Strings print as they are, anything else as JSON; a missing key prints
<missing: ...> and exits 1. Example: jeval.py run.json 'd["status"]["exit_code"]'
Helpers for the profile: fn(name, suffix="") is the first function called name
whose file ends with suffix; has_fn(name, suffix="") tells whether there is one.
"""
import json
import sys

if len(sys.argv) != 3:
    sys.exit("usage: jeval.py FILE EXPR")
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        d = json.load(f)
except (OSError, ValueError) as e:
    print("<unreadable: %s>" % e)
    sys.exit(1)


def fn(name, suffix=""):
    return [f for f in d["profile"]["functions"]
            if f["name"] == name and f["file"].endswith(suffix)][0]


def has_fn(name, suffix=""):
    return any(f["name"] == name and f["file"].endswith(suffix)
               for f in d["profile"]["functions"])


try:
    v = eval(sys.argv[2], {"d": d, "len": len, "any": any, "all": all, "sorted": sorted,
                           "abs": abs, "fn": fn, "has_fn": has_fn})
except (KeyError, IndexError, TypeError) as e:
    print("<missing: %r>" % e)
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False))
