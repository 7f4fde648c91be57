"""cprofile_threads.py - `python -m cProfile`, but profiling every thread (benchmark reference).

Usage: python3.11 cprofile_threads.py [-o OUTFILE] [--counts COUNTS.json] SCRIPT [ARGS...]

`python -m cProfile script.py` profiles the main thread only: cProfile.Profile.enable()
installs its hook with sys.setprofile semantics (PyEval_SetProfile, this thread only), so
threads the script starts run unprofiled and cost nothing. A user who wants their
worker threads in a cProfile profile has to do what this wrapper does, which is what
bench.py's "cProfile, all threads" reference measures:

- run the script exactly as cProfile.main() does (sys.argv, sys.path[0], a fresh
  __main__ namespace, Profile.runctx), and
- threading.setprofile() a starter: the first profile event of every thread started
  through `threading` creates a cProfile.Profile for that thread and enables it (which
  replaces the starter in that thread). From Python 3.12 on, cProfile hooks in through
  sys.monitoring, which sees every thread, and only one profiler can be active: the
  main thread's profile covers all threads there, and the starter only counts them;
- at the end, merge all profiles with pstats and dump them to OUTFILE, as cProfile -o.

With --counts, it also writes the call counts of every function to COUNTS.json,
{"functions": [{"file", "line", "name", "calls"}, ...]}, exact where pstats is not:
pstats keys functions by (file, first line, name), and when several code objects
share that label (50 exec()s of generated source, each with its own
`<string>:<module>:1`) it keeps only the last one's counts; these are summed from
Profile.getstats(), one entry per code object (built-ins labelled ("~", 0, name)
as pstats labels them).

It prints "cprofile_threads: N thread(s) profiled" on stderr (bench.py reads it to
tell which workloads run Python code in more than one thread).
"""
import cProfile
import json
import os
import pstats
import sys
import threading


def label(code):
    if isinstance(code, str):
        return ("~", 0, code)
    return (code.co_filename, code.co_firstlineno, code.co_name)


def write_counts(path, profiles):
    counts = {}
    for prof in profiles:
        for entry in prof.getstats():
            key = label(entry.code)
            counts[key] = counts.get(key, 0) + entry.callcount
    funcs = [{"file": f, "line": line, "name": name, "calls": n}
             for (f, line, name), n in sorted(counts.items())]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"functions": funcs}, fh, indent=1)


def main(argv):
    outfile = counts_file = None
    args = list(argv)
    while len(args) >= 2 and args[0] in ("-o", "--counts"):
        if args[0] == "-o":
            outfile = os.path.abspath(args[1])
        else:
            counts_file = os.path.abspath(args[1])
        args = args[2:]
    if not args:
        print("usage: cprofile_threads.py [-o OUTFILE] [--counts COUNTS.json] SCRIPT [ARGS...]",
              file=sys.stderr)
        return 2
    progname = args[0]
    sys.argv[:] = args
    sys.path.insert(0, os.path.dirname(progname))
    with open(progname, "rb") as fp:
        code = compile(fp.read(), progname, "exec")
    globs = {"__file__": progname, "__name__": "__main__", "__package__": None,
             "__cached__": None}

    workers = []
    lock = threading.Lock()

    shared = sys.version_info >= (3, 12)  # one profile sees every thread
    seen = []

    def start_thread_profile(frame, event, arg):
        # Runs once per new thread, from its first profile event: from now on
        # this thread's own cProfile.Profile receives its events.
        if shared:
            sys.setprofile(None)
            with lock:
                seen.append(threading.get_ident())
            return
        prof = cProfile.Profile()
        with lock:
            workers.append(prof)
        prof.enable()

    main_prof = cProfile.Profile()
    threading.setprofile(start_thread_profile)
    try:
        main_prof.runctx(code, globs, None)
    except SystemExit:
        pass
    finally:
        threading.setprofile(None)
        # Profile.create_stats() disables the calling thread's hook: build the
        # main thread's stats first, then the workers' (finished, or daemons).
        with lock:
            done = list(workers)
        if counts_file is not None:
            write_counts(counts_file, [main_prof] + done)
        stats = pstats.Stats(main_prof)
        for prof in done:
            stats.add(prof)
        if outfile is not None:
            stats.dump_stats(outfile)
        print("cprofile_threads: %d thread(s) profiled" % (1 + len(done) + len(seen)),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
