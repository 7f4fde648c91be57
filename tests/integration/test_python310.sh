#!/usr/bin/env bash
# test_python310.sh - pyscope-run under CPython 3.10, both modes: fidelity, exit
# status, trace counts equal to cProfile's for every function, sample-mode
# identity and thread names, a virtualenv (tests/integration/pyver_lib.sh).
# Skipped (77) where this machine has no CPython 3.10.
PYVER=3.10
source "$(dirname "$0")/pyver_lib.sh"
