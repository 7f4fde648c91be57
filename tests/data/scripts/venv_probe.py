"""venv_probe.py - import a module that only a virtualenv's site-packages has."""
import json
import sys

import pyscope_venv_probe  # noqa: E402  (installed into the test's virtualenv)

print(json.dumps({"module": pyscope_venv_probe.__file__, "answer": pyscope_venv_probe.ANSWER,
                  "prefix": sys.prefix, "base_prefix": sys.base_prefix,
                  "executable_set": bool(sys.executable),
                  "in_path": [p for p in sys.path if p.endswith("site-packages")]}))
