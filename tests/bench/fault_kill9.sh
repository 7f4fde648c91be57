#!/usr/bin/env bash
# fault_kill9.sh [BUILD_DIR] - the kill -9 fault test at full size: 10,000 results from
# four agents while the coordinator, PostgreSQL and agents are killed at random
# (tests/integration/test_fault_kill9.sh with FAULT_RESULTS=10000; CI runs 400).
# Prints the checker's figures: sent, stored, duplicated, lost, time to full delivery.
# Environment: FAULT_RESULTS (default 10000), FAULT_SEED.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
PYSCOPE_BUILD=$build PYSCOPE_SRC=$src PYSCOPE_PYTHON=${PYSCOPE_PYTHON:-/usr/bin/python3.11} \
    FAULT_RESULTS=${FAULT_RESULTS:-10000} exec bash "$src/tests/integration/test_fault_kill9.sh"
