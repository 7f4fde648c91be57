"""show_env.py - print, as JSON, what a script can see of how it was started.

Used by tests/integration/test_runner_fidelity.sh to compare pyscope-run with plain
python. "same" must be identical under both; "info" may differ (checked separately).
"""
import json
import os
import signal
import sys
import threading

main = sys.modules["__main__"]


def sigblk():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("SigBlk:", "SigIgn:")):
                yield line.split(":")[0], line.split()[1]


same = {
    "argv": sys.argv,
    "name": __name__,
    "path0": sys.path[0],
    "path": sys.path,
    "file": main.__file__,
    "package": main.__package__,
    "spec": repr(main.__spec__),
    "loader": type(main.__loader__).__name__,
    "builtins_is_module": type(main.__builtins__).__name__,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "version": sys.version,
    "flags": {k: getattr(sys.flags, k, None) for k in (
        "isolated", "no_site", "no_user_site", "ignore_environment", "safe_path",
        "optimize", "dont_write_bytecode", "utf8_mode", "dev_mode", "inspect", "interactive")},
    "recursionlimit": sys.getrecursionlimit(),
    "sigint_default": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
    "sigpipe": str(signal.getsignal(signal.SIGPIPE)),
    "sigterm": str(signal.getsignal(signal.SIGTERM)),
    "sigchld": str(signal.getsignal(signal.SIGCHLD)),
    "proc_signals": dict(sigblk()),
    "main_thread": threading.current_thread() is threading.main_thread(),
    "thread_name": threading.current_thread().name,
    "stdin_encoding": sys.stdin.encoding,
    "stdout_encoding": sys.stdout.encoding,
    "stdout_line_buffering": sys.stdout.line_buffering,
    "filesystem_encoding": sys.getfilesystemencoding(),
    "cwd": os.getcwd(),
    "site_imported": "site" in sys.modules,
    "warnoptions": sys.warnoptions,
    # What a profiler brought in at start-up must be gone by the script's first line.
    "modules": sorted(sys.modules),
    "pythonpath": os.environ.get("PYTHONPATH"),
    "environ_keys": sorted(os.environ),
    "orig_argv_tail": sys.orig_argv[1:],
    "meta_path": [type(f).__name__ if not isinstance(f, type) else f.__name__
                  for f in sys.meta_path],
    "path_importer_cache": sorted(sys.path_importer_cache),
}
info = {
    "orig_argv0": sys.orig_argv[0],
    "executable": sys.executable,
    "pid_is_pgrp_leader": os.getpgrp() == os.getpid(),
}
json.dump({"same": same, "info": info}, sys.stdout, sort_keys=True)
print()
