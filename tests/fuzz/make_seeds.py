#!/usr/bin/env python3
"""make_seeds.py - write the seed corpora of the fuzz targets (tests/fuzz/corpus/).

Run with Debian's python3.11 from the source root; it rewrites the seeds it
knows and leaves other files (inputs found by fuzzing) alone. wire/ seeds
predate this script and are kept as they are.
"""
import hashlib
import os
import shutil
import struct

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(SRC, "tests", "fuzz", "corpus")
SEP = b"\nSPOOL\n"


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(*parts):
    with open(os.path.join(SRC, *parts), "rb") as f:
        return f.read()


def spool_file(payload, length=None, digest=None, magic=b"PYSPOOL1"):
    length = len(payload) if length is None else length
    digest = hashlib.sha256(payload).digest() if digest is None else digest
    return magic + struct.pack("<I", length) + digest + payload


def spool():
    result = read("tests", "fuzz", "corpus", "wire", "result")
    hello = read("tests", "fuzz", "corpus", "wire", "hello")
    put("spool", "sealed-result", b"\x01" + result)
    put("spool", "sealed-empty", b"\x01")
    put("spool", "sealed-two", b"\x03" + result + SEP + hello)
    put("spool", "raw-valid", b"\x00" + spool_file(result))
    put("spool", "raw-valid-hello", b"\x00" + spool_file(hello))
    put("spool", "raw-empty-payload", b"\x00" + spool_file(b""))
    put("spool", "raw-truncated-header", b"\x00" + spool_file(result)[:20])
    put("spool", "raw-truncated-payload", b"\x00" + spool_file(result)[:-5])
    put("spool", "raw-bad-magic", b"\x00" + spool_file(result, magic=b"PYSPOOL2"))
    put("spool", "raw-bad-length", b"\x00" + spool_file(result, length=len(result) + 1))
    put("spool", "raw-huge-length", b"\x00" + spool_file(result, length=0xFFFFFFFF))
    put("spool", "raw-bad-checksum", b"\x00" + spool_file(result, digest=b"\x00" * 32))
    put("spool", "raw-empty", b"\x00")
    put("spool", "mixed-tmp-others",
        b"\xc1" + result + SEP + spool_file(hello) + SEP + b"garbage" + SEP + spool_file(b"x"))
    put("spool", "six-entries", b"\x15" + SEP.join([result, spool_file(hello), b""] * 2))


def pathnorm():
    paths = {
        "plain": b"\x00a.py", "sub": b"\x00sub/b.py", "deep": b"\x00sub/deep/c.py",
        "via-rootlink": b"\x01sub/b.py", "via-dot-root": b"\x02a.py",
        "link-in": b"\x00link_in/b.py", "link-up": b"\x00sub/link_up/a.py",
        "link-a": b"\x00sub/deep/link_a", "link-abs-in": b"\x00link_abs_in/deep/c.py",
        "link-out": b"\x00link_out/secret.py", "link-secret": b"\x00sub/link_secret",
        "link-evil": b"\x00link_evil/x.py", "link-etc": b"\x00link_etc/passwd",
        "link-abs-out": b"\x00link_abs_out", "link-loop": b"\x00link_loop",
        "dangling": b"\x00link_dangling", "dotdot": b"\x00../secret.py",
        "dotdot-sibling": b"\x00../root-evil/x.py", "dotdot-back-in": b"\x00sub/../../root/a.py",
        "dotdot-inside": b"\x00sub/deep/../../a.py", "absolute": b"\x00/etc/passwd",
        "nul": b"\x00a.py\x00../../secret.py", "dot": b"\x00.", "only-dotdot": b"\x00..",
        "messy": b"\x00./sub//deep/./c.py/", "missing": b"\x00nope.py", "git": b"\x00.git",
        "backslash": b"\x00sub\\..\\..\\secret.py", "long": b"\x00" + b"a/" * 2100 + b"a.py",
    }
    for name, data in paths.items():
        put("pathnorm", name, data)


def suite():
    put("suite", "example", read("examples", "suite.ini"))
    put("suite", "full", "[suite]\nname = nightly\nhosts = all\nlabel = night 1\nrepeat = 5\n"
        "warmup = 1\nmode = sample\ntimeout = 2m\nthreshold = 5%\n\n"
        "[script examples/slow_script.py]\nargs = --n 10 \"two words\" 'single' back\\ slash\n"
        "  --more \"esc \\\" \\$ \\` \\\\\"\ntimeout = 2.5s\nthreshold = 0.05\n\n"
        "[script \"dir with space/x.py\"]\nmode = trace\nrepeat = 1000\nwarmup = 100\n"
        "timeout = 1h\n")
    bad = {
        "no-scripts": "[suite]\nname = x\n", "repeat-zero": "[suite]\nrepeat = 0\n[script a.py]\n",
        "twice": "[script a.py]\nrepeat = 2\nrepeat = 3\n", "unknown-key": "[script a.py]\ncolour = red\n",
        "second-suite": "[suite]\n[suite]\n[script a.py]\n", "unknown-section": "[nightly]\n[script a.py]\n",
        "script-no-path": "[script]\n", "syntax": "[script a.py]\nthis is not a pair\n",
        "unterminated-header": "[script a.py\n", "traversal": "[script ../secret.py]\n",
        "absolute": "[script /etc/passwd]\n", "not-normalized": "[script ./a//b.py]\n",
        "quote": "[script a.py]\nargs = \"unterminated\n", "continuation": "[suite]\nname = a\n  b\n[script a.py]\n",
        "outside": "repeat = 3\n[script a.py]\n", "nul": "[script a.py]\nargs = a\x00b\n",
        "long-line": "[script a.py]\nargs = " + "x" * 300 + "\n", "utf8": "[script \xff.py]\n",
        "timeout-nan": "[script a.py]\ntimeout = nan\n", "crlf": "[suite]\r\nrepeat = 2\r\n[script a.py]\r\n",
    }
    for name, text in bad.items():
        put("suite", name, text.encode("latin-1"))
    put("suite", "env", "[suite]\nenv = PYTHONHASHSEED=0\nenv = BENCH=small\n[script a.py]\n"
        "env = BENCH=large value ; comment\n      OMP_NUM_THREADS=1\n[script b.py]\n")
    for name, text in {"env-refused": "[script a.py]\nenv = LD_PRELOAD=/tmp/x.so\nenv = PYSCOPE_X=1\n",
                       "env-twice": "[suite]\nenv = A=1\n  A=2\n[script a.py]\nenv = =x\nenv = 1A\n"}.items():
        put("suite", name, text)
    put("suite", "many-errors", "".join("[bad%d]\n" % i for i in range(60)) + "[script a.py]\n")


def config():
    put("config", "docs-example", "; thresholds\n[regression]\nthreshold = 5%\n\n"
        "[script \"examples/slow_script.py\"]\nthreshold = 10%\n# later sections win\n"
        "[script \"bench/*.py\"]\nthreshold = 2.5\n[script \"bench/noisy_*.py\"]\nthreshold=20 %\n")
    bad = {
        "empty": "", "outside": "threshold = 5\n", "typo-section": "[regresion]\nthreshold = 5\n",
        "unquoted": "[script examples/a.py]\nthreshold = 5\n", "word": "[regression]\nthreshold = five\n",
        "zero": "[regression]\nthreshold = 0\n", "nan": "[regression]\nthreshold = nan\n",
        "hex": "[regression]\nthreshold = 0x10\n", "big": "[regression]\nthreshold = 1001\n",
        "broken-header": "[regression]\nthreshold = 5\n[broken\n",
        "no-equals": "[regression]\njust words\nthreshold = x\n", "unknown-key": "[regression]\nfoo = 1\n",
        "long-line": "[regression]\nthreshold = 5\n[script \"" + "a" * 300 + "\"]\nthreshold = 1\n",
        "empty-pattern": "[script \"\"]\nthreshold = 3\n", "class": "[script \"[a-z]*/?.py\"]\nthreshold = 3\n",
        "quotes": "[script \"a\"b\"]\nthreshold = 3\n", "crlf": "[regression]\r\nthreshold = 5%\r\n",
        "no-newline": "[regression]\nthreshold = 7", "twice": "[script \"a\"]\nthreshold = 1\n[script \"a\"]\nthreshold = 2\n",
    }
    for name, text in bad.items():
        put("config", name, text)


def history():
    mixed = os.path.join(SRC, "tests", "data", "history", "mixed")
    for i, name in enumerate(sorted(os.listdir(mixed))):
        if name.endswith(".json"):
            put("history", "mixed-%02d" % i, read("tests", "data", "history", "mixed", name))
    put("history", "step", read("tests", "data", "history", "step",
                                "pyscope_report_2026-11-21T08-00-00.000000.json"))
    for name in ("report_sample.json", "report_failed.json", "report_timeout.json",
                 "report_trace_repeat.json", "run_ok.json"):
        put("history", "cli-" + name[:-5], read("tests", "data", "cli", name))
    for name in ("report-future.json", "report-hostile.json", "report-malformed.json",
                 "report-notobject.json", "report-small.json", "report-trace.json"):
        put("history", name[:-5], read("tests", "data", name))
    put("history", "wrong-types", '{"schema":"pyscope.report/1","script":{"key":1},'
        '"runs":[{"wall_s":"x"},null,{"wall_s":1e308}],"hotspots":{"a":1},"status":[]}')
    put("history", "deep", '{"schema":"pyscope.run/1","x":' + "[" * 3000 + "]" * 3000 + "}")


def daemon_config():
    # byte 0: even = pyscope-coordinator's file, odd = pyscope-agent's
    put("daemon_config", "coordinator-example", b"\x00" + read("deploy", "coordinator.conf.example"))
    put("daemon_config", "agent-example", b"\x01" + read("deploy", "agent.conf.example"))
    coord = {
        "curve": "[coordinator]\ncurve_keys_dir = /etc/pyscope/keys\nbind = tcp://*:5555\n",
        "numbers": "[coordinator]\nheartbeat_ms = 1000\nlease_ms = 1500\nmax_attempts = 0\n"
                   "job_timeout_s = 1e999\nconfirm = 2\n",
        "negative": "[coordinator]\nlease_ms = -5\n", "huge": "[coordinator]\nlease_ms = 99999999999\n",
        "level": "[coordinator]\nlog_level = loud\n", "section": "[agent]\nbind = x\n",
        "old-allowlist": "[coordinator]\ncurve_allowlist_file = /x\n", "no-section": "db = x\n",
        "secret-only": "[coordinator]\ncurve_secret_key_file = /k\n", "syntax": "[coordinator\n",
    }
    for name, text in coord.items():
        put("daemon_config", "coordinator-" + name, b"\x00" + text.encode())
    agent = {
        "full": "[agent]\ncoordinator = tcp://10.0.0.1:5555\nname = a1\nlabel = gpu=none\n"
                "label = rack=7\nmax_jobs = 4\nmemory_limit = 2G\nfile_size_limit = 10MB\n"
                "max_procs = 100\nkill_grace = 30\ndead_periods = 3\nresend = 30\n"
                "connect_timeout = 5\nverbose = yes\n",
        "keys-half": "[agent]\nsecret_key = /k/a1.key_secret\n",
        "size-overflow": "[agent]\nmemory_limit = 99999999999T\n",
        "labels": "[agent]\n" + "".join("label = k%d=v\n" % i for i in range(40)),
        "bad-label": "[agent]\nlabel = =x\nlabel = k y=z\n", "max-jobs": "[agent]\nmax_jobs = 65\n",
        "long-name": "[agent]\nname = " + "n" * 190 + "\n", "empty-name": "[agent]\nname =\n",
        "section": "[coordinator]\nbind = x\n", "unknown": "[agent]\ncolour = red\n",
    }
    for name, text in agent.items():
        put("daemon_config", "agent-" + name, b"\x01" + text.encode())


if __name__ == "__main__":
    spool()
    pathnorm()
    suite()
    config()
    history()
    daemon_config()
